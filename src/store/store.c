/* berth — the on-disk store: layout, the store lock, staging under ROOT/tmp.
 * The layout and the lock discipline are documented in include/berth/store.h. */
#include "config.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/rootless.h"
#include "berth/store.h"
#include "berth/util.h"

static char *absolute_path(const char *p)
{
        if (p[0] == '/')
                return xstrdup(p);
        cleanup_free char *cwd = getcwd(NULL, 0);
        if (!cwd)
                return xstrdup(p);
        return xasprintf("%s/%s", cwd, p);
}

static const char *env_or(const char *name, const char *dflt)
{
        const char *v = getenv(name);
        return v && *v ? v : dflt;
}

int store_open(struct berth_store *s, const char *root, const char *run, berth_error_t *err)
{
        *s = (struct berth_store) { .lock_fd = -1 }; /* callers may hand in an uninitialised one */
        /* root's store, or the user's (XDG: ~/.local/share/berth, $XDG_RUNTIME_DIR/berth) */
        cleanup_free char *dflt_root = rootless_data_dir(), *dflt_run = NULL;
        if (!run && !env_or("BERTH_RUNROOT", NULL) && rootless_runtime_dir(&dflt_run, err) < 0)
                return -1;
        s->root = absolute_path(root ? root : env_or("BERTH_ROOT", dflt_root));
        s->run = absolute_path(run ? run : env_or("BERTH_RUNROOT", dflt_run ? dflt_run : "/run/berth"));
        /* Drop trailing slashes so store_path() never yields "//". */
        for (char *p = s->root; strlen(p) > 1 && p[strlen(p) - 1] == '/';)
                p[strlen(p) - 1] = '\0';
        for (char *p = s->run; strlen(p) > 1 && p[strlen(p) - 1] == '/';)
                p[strlen(p) - 1] = '\0';

        static const char *const root_dirs[] = { "", "/blobs", "/blobs/sha256", "/layers", "/l", "/containers",
                                                 "/tmp" };
        static const char *const run_dirs[] = { "", "/containers", "/exits" };
        for (size_t i = 0; i < ARRAY_SIZE(root_dirs); i++) {
                cleanup_free char *p = xasprintf("%s%s", s->root, root_dirs[i]);
                if (mkdir_p(p, 0700, err) < 0)
                        return berth_error_wrap(err, "open the store (run berth as root, or set --root)");
        }
        for (size_t i = 0; i < ARRAY_SIZE(run_dirs); i++) {
                cleanup_free char *p = xasprintf("%s%s", s->run, run_dirs[i]);
                if (mkdir_p(p, 0700, err) < 0)
                        return berth_error_wrap(err, "open the runtime dir (run berth as root, or set --runroot)");
        }
        return 0;
}

void store_close(struct berth_store *s)
{
        store_unlock(s);
        free(s->root);
        free(s->run);
        free(s->default_registry);
        s->root = s->run = s->default_registry = NULL;
}

int store_lock(struct berth_store *s, bool exclusive, berth_error_t *err)
{
        if (s->lock_fd >= 0)
                return berth_error(err, 0, "internal error: the store lock is already held");
        cleanup_free char *p = store_path(s, "store.lock");
        int fd = lock_file(p, exclusive, err);
        if (fd < 0)
                return fd;
        s->lock_fd = fd;
        s->lock_exclusive = exclusive;
        return 0;
}

void store_unlock(struct berth_store *s)
{
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        s->lock_fd = -1;
        s->lock_exclusive = false;
}

int store_lock_scope_take(struct berth_store *s, bool exclusive, struct store_lock_scope *l, berth_error_t *err)
{
        l->s = s;
        l->taken = false;
        if (s->lock_fd >= 0) {
                if (exclusive && !s->lock_exclusive)
                        return berth_error(err, 0, "internal error: the store lock is held shared, not exclusive");
                return 0;
        }
        if (store_lock(s, exclusive, err) < 0)
                return -1;
        l->taken = true;
        return 0;
}

void store_lock_scope_release(struct store_lock_scope *l)
{
        if (l->taken)
                store_unlock(l->s);
        l->taken = false;
}

char *store_path(const struct berth_store *s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *rel = xvasprintf(fmt, ap);
        va_end(ap);
        return xasprintf("%s/%s", s->root, rel);
}

char *store_run_path(const struct berth_store *s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *rel = xvasprintf(fmt, ap);
        va_end(ap);
        return xasprintf("%s/%s", s->run, rel);
}

int store_mkstemp_dir(struct berth_store *s, char **out, berth_error_t *err)
{
        char *p = store_path(s, "tmp/stage-XXXXXX");
        if (!mkdtemp(p)) {
                int e = errno;
                free(p);
                return berth_error(err, e, "create a staging directory in `%s/tmp`", s->root);
        }
        *out = p;
        return 0;
}

int store_tmp_create(struct berth_store *s, const char *prefix, bool dir, char **path_out, int *fd_out,
                     berth_error_t *err)
{
        cleanup_free char *p = store_path(s, "tmp/%s-XXXXXX", prefix);
        cleanup_close int fd = -1;
        if (dir) {
                if (!mkdtemp(p))
                        return berth_error(err, errno, "create a staging directory in `%s/tmp`", s->root);
                fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        } else
                fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                if (dir)
                        rmdir(p);
                return berth_error(err, e, "create a staging file in `%s/tmp`", s->root);
        }
        /* Nobody else knows the name yet, so this never blocks; it tells
         * store_tmp_prune() that the entry is alive. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                if (dir)
                        rmdir(p);
                else
                        unlink(p);
                return berth_error(err, e, "lock `%s`", p);
        }
        *fd_out = steal_fd(&fd);
        *path_out = steal_pointer(&p);
        return 0;
}

int store_tmp_scan(struct berth_store *s, long long min_age_sec, size_t *live,
                   void (*leftover)(const char *path, void *userdata), void *userdata, berth_error_t *err)
{
        cleanup_free char *tmp = store_path(s, "tmp");
        cleanup_dir DIR *d = opendir(tmp);
        if (!d)
                return berth_error(err, errno, "open `%s`", tmp);
        time_t now = time(NULL);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (min_age_sec > 0 && now - st.st_mtime < min_age_sec)
                        continue;
                if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
                        cleanup_close int fd =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (fd < 0)
                                continue;
                        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                                if (live)
                                        (*live)++; /* someone is still working on it */
                                continue;
                        }
                }
                if (leftover) {
                        cleanup_free char *p = xasprintf("%s/%s", tmp, de->d_name);
                        leftover(p, userdata);
                }
        }
        return 0;
}

struct tmp_prune {
        void (*report)(const char *path, void *userdata);
        void *userdata;
        berth_error_t *err;
        int ret;
};

static void tmp_prune_one(const char *path, void *userdata)
{
        struct tmp_prune *tp = userdata;
        if (rm_rf(path, tp->err) < 0)
                tp->ret = -1;
        else if (tp->report)
                tp->report(path, tp->userdata);
}

int store_tmp_prune(struct berth_store *s, long long min_age_sec, void (*report)(const char *path, void *userdata),
                    void *userdata, berth_error_t *err)
{
        struct tmp_prune tp = { report, userdata, err, 0 };
        int r = store_tmp_scan(s, min_age_sec, NULL, tmp_prune_one, &tp, err);
        return r < 0 ? r : tp.ret;
}

int store_image_in_use(struct berth_store *s, const char *image_id, char **container_id, berth_error_t *err)
{
        if (container_id)
                *container_id = NULL;
        struct berth_container **cs = NULL;
        size_t n = 0;
        if (container_list(s, &cs, &n, err) < 0)
                return berth_error_wrap(err, "cannot tell whether image %.12s is used by a container",
                                        startswith(image_id, "sha256:") ? image_id + 7 : image_id);
        int used = 0;
        for (size_t i = 0; i < n && !used; i++) {
                const char *img = json_str(cs[i]->config, "Image");
                if (img && streq(img, image_id)) {
                        used = 1;
                        if (container_id)
                                *container_id = xstrdup(cs[i]->id);
                }
        }
        container_list_free(cs, n);
        return used;
}
