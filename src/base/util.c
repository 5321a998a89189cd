/* berth — generic helpers (see include/berth/util.h). */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "berth/util.h"

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                abort();
        return p;
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                abort();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                abort();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s ? s : "");
        if (!p)
                abort();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                abort();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        return s;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t strv_length(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_copy(char *const *v)
{
        size_t n = strv_length(v);
        char **r = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r[i] = xstrdup(v[i]);
        return r;
}

void strv_push(char ***v, const char *s)
{
        size_t n = strv_length(*v);
        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = xstrdup(s);
        (*v)[n + 1] = NULL;
}

bool strv_contains(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

void strv_env_set(char ***env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);
        for (size_t j = 0; *env && (*env)[j]; j++)
                if (strncmp((*env)[j], kv, klen) == 0 && (*env)[j][klen] == '=') {
                        free((*env)[j]);
                        (*env)[j] = xstrdup(kv);
                        return;
                }
        strv_push(env, kv);
}

bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t strsplit_inplace(char *s, char sep, char **parts, size_t max)
{
        size_t n = 0;
        for (char *p = s, *at; n < max; p = at + 1) {
                parts[n++] = p;
                at = strchr(p, sep);
                if (!at)
                        break;
                *at = '\0';
        }
        return n;
}

char *path_absolute(const char *base, const char *path)
{
        cleanup_free char *cwd = NULL;
        if (path[0] != '/' && !base) {
                cwd = getcwd(NULL, 0);
                /* the working directory is gone: "/" is as good a base as
                 * Go's, and the path's own error follows when it is opened */
                base = cwd ? cwd : "/";
        }
        cleanup_free char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", base, path);
        /* clean in place: each component is appended to out, ".." pops one */
        char *out = xmalloc(strlen(joined) + 2);
        size_t n = 0;
        char *save = NULL;
        for (char *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--; /* the slash before the popped component */
                        continue;
                }
                out[n++] = '/';
                size_t l = strlen(c);
                memcpy(out + n, c, l);
                n += l;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        return out;
}

char *path_normalize_relative(const char *p)
{
        char *out = xmalloc(strlen(p) + 1);
        size_t o = 0;
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        if (o == 0) {
                                free(out);
                                return NULL;
                        }
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* the slash */
                } else if (n > 0 && !(n == 1 && c[0] == '.')) {
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, c, n);
                        o += n;
                }
                c += n;
                while (*c == '/')
                        c++;
        }
        out[o] = '\0';
        if (o == 0) {
                free(out);
                return NULL;
        }
        return out;
}

int mkdir_p(const char *path, mode_t mode, berth_error_t *err)
{
        /* the common case (every command opens the store): it is there, or
         * its parent is */
        if (mkdir(path, mode) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return berth_error(err, errno, "create directory `%s`", path);
        cleanup_free char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return berth_error(err, errno, "create directory `%s`", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return berth_error(err, errno, "create directory `%s`", p);
        return 0;
}

ssize_t read_chunk(int fd, void *buf, size_t size, const char *name, berth_error_t *err)
{
        for (;;) {
                ssize_t n = read(fd, buf, size);
                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return berth_error(err, errno, "read `%s`", name);
        }
}

int unix_addr_in_dir(const char *dir, const char *name, struct sockaddr_un *sa, int *dirfd, berth_error_t *err)
{
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*dirfd < 0)
                return berth_error(err, errno, "open `%s`", dir);
        int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dirfd, name);
        if (n < 0 || (size_t) n >= sizeof(sa->sun_path)) {
                close(*dirfd);
                *dirfd = -1;
                return berth_error(err, ENAMETOOLONG, "socket `%s/%s`", dir, name);
        }
        return 0;
}

int read_file(const char *path, char **out, size_t *len, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", path);
        size_t cap = 4096, n = 0;
        cleanup_free char *buf = xmalloc(cap);
        for (;;) {
                if (n + 1 >= cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t r = read_chunk(fd, buf + n, cap - n - 1, path, err);
                if (r < 0)
                        return (int) r;
                if (r == 0)
                        break;
                n += r;
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        *out = steal_pointer(&buf);
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t r = write(fd, p, len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += r;
                len -= r;
        }
        return 0;
}

void fsync_dir(const char *path)
{
        cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
}

int sync_fs_of(const char *path, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) < 0)
                return berth_error(err, errno, "sync the file system of `%s`", path);
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, berth_error_t *err)
{
        return write_file_atomic_sync(path, data, len, mode, WRITE_DURABLE, err);
}

int write_file_atomic_sync(const char *path, const void *data, size_t len, mode_t mode, enum write_sync sync,
                           berth_error_t *err)
{
        cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, getpid());
        cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return berth_error(err, errno, "create `%s`", tmp);
        int r = write_all(fd, data, len);
        if (r == 0 && sync != WRITE_VOLATILE && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return berth_error(err, -r, "write `%s`", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return berth_error(err, e, "rename `%s`", path);
        }
        if (sync == WRITE_DURABLE) {
                cleanup_free char *dir = xstrdup(path);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *slash = '\0';
                fsync_dir(slash ? dir : ".");
        }
        return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev)
                return -EXDEV; /* never descend into a mount point */
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) /* gone since the fstatat: someone else deleted it (a repair), as we want */
                return errno == ENOENT ? 0 : -errno;
        cleanup_dir DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        /* An entry made while we read (a writer that had resolved the path
         * before it was renamed away) makes the rmdir fail: read again. */
        for (int pass = 0;; pass++) {
                int ret = 0;
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        int r = rm_rf_at(dirfd(d), de->d_name, dev);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
                if (ret < 0)
                        return ret;
                if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno != ENOTEMPTY || pass == 2)
                        return -errno;
                rewinddir(d);
        }
}

int rm_rf(const char *path, berth_error_t *err)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : berth_error(err, errno, "stat `%s`", path);
        int r = rm_rf_at(AT_FDCWD, path, st.st_dev);
        if (r < 0)
                return berth_error(err, -r, "remove `%s`", path);
        return 0;
}

int lock_file(const char *path, bool exclusive, berth_error_t *err)
{
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error(err, errno, "open lock `%s`", path);
        while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
                if (errno == EINTR)
                        continue;
                int e = errno;
                close(fd);
                return berth_error(err, e, "lock `%s`", path);
        }
        return fd;
}

int random_bytes(void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                ssize_t r = getrandom(p, n, 0);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += r;
                n -= r;
        }
        return 0;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[in[i] >> 4];
                out[2 * i + 1] = hex[in[i] & 15];
        }
        out[2 * n] = '\0';
}

int hex_digit_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

size_t utf8_encode(uint32_t c, char out[static 4])
{
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

long long proc_starttime(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        cleanup_free char *buf = NULL;
        if (read_file(path, &buf, NULL, NULL) < 0)
                return -1;
        char *p = strrchr(buf, ')');
        if (!p)
                return -1;
        /* after ") " come fields 3.. ; starttime is field 22 */
        int field = 2;
        for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
                if (++field == 22)
                        return atoll(tok);
        return -1;
}

long long now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *format_rfc3339(long long ns)
{
        time_t t = ns / 1000000000LL;
        struct tm tm;
        gmtime_r(&t, &tm);
        char buf[64];
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09lldZ", buf, ns % 1000000000LL);
}

long long parse_rfc3339_ns(const char *s)
{
        struct tm tm = {};
        const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (!rest)
                return 0;
        long long ns = (long long) timegm(&tm) * 1000000000LL;
        if (*rest == '.') {
                long long frac = 0;
                int digits = 0;
                for (rest++; isdigit((unsigned char) *rest); rest++, digits++)
                        if (digits < 9)
                                frac = frac * 10 + (*rest - '0');
                for (; digits < 9; digits++)
                        frac *= 10;
                ns += frac;
        }
        return ns;
}

char *format_human_ago(long long ns)
{
        long long s = (now_ns() - ns) / 1000000000LL;
        const char *suffix = " ago";
        if (s < 1)
                return xasprintf("Less than a second%s", suffix);
        if (s == 1)
                return xasprintf("1 second%s", suffix);
        if (s < 60)
                return xasprintf("%lld seconds%s", s, suffix);
        long long m = s / 60;
        if (m == 1)
                return xasprintf("About a minute%s", suffix);
        if (m < 60)
                return xasprintf("%lld minutes%s", m, suffix);
        long long h = (long long) (s / 3600.0 + 0.5);
        if (h == 1)
                return xasprintf("About an hour%s", suffix);
        if (h < 48)
                return xasprintf("%lld hours%s", h, suffix);
        if (h < 24 * 7 * 2)
                return xasprintf("%lld days%s", h / 24, suffix);
        if (h < 24 * 30 * 2)
                return xasprintf("%lld weeks%s", h / 24 / 7, suffix);
        if (h < 24 * 365 * 2)
                return xasprintf("%lld months%s", h / 24 / 30, suffix);
        return xasprintf("%lld years%s", h / 24 / 365, suffix);
}

/* See util.h; Docker's formatter.Ellipsis for single-width text. */
char *format_ellipsis(const char *s, size_t max)
{
        size_t chars = 0, i = 0, cut = 0;
        for (; s[i]; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80) {
                        if (chars == max - 1)
                                cut = i;
                        chars++;
                }
        if (chars <= max)
                return xstrdup(s);
        return xasprintf("%.*s…", (int) cut, s);
}

char *format_human_size(long long bytes)
{
        static const char *units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
        double v = bytes;
        size_t i = 0;
        while (v >= 1000.0 && i + 1 < ARRAY_SIZE(units)) {
                v /= 1000.0;
                i++;
        }
        /* go-units' HumanSize: 3 significant digits ("2.02MB") */
        return xasprintf("%.3g%s", v, units[i]);
}

char *format_progress_bar(long long done, long long total)
{
        enum { WIDTH = 50 };
        char bar[WIDTH + 1];
        int fill = total > 0 ? (int) (done * WIDTH / total) : 0;
        if (fill > WIDTH)
                fill = WIDTH;
        for (int i = 0; i < WIDTH; i++)
                bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[WIDTH] = '\0';
        cleanup_free char *d = format_human_size(done);
        if (total <= 0)
                return xasprintf("[%s]  %s", bar, d);
        cleanup_free char *t = format_human_size(total);
        return xasprintf("[%s]  %s/%s", bar, d, t);
}

void strbuf_addn(struct strbuf *b, const char *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
        strbuf_addn(b, s, strlen(s));
}

void strbuf_addc(struct strbuf *b, char c)
{
        strbuf_addn(b, &c, 1);
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *s = xvasprintf(fmt, ap);
        va_end(ap);
        strbuf_adds(b, s);
}

char *strbuf_steal(struct strbuf *b)
{
        char *s = b->s ? b->s : xstrdup("");
        *b = (struct strbuf){ 0 };
        return s;
}
