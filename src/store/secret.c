/* berth — secrets under ROOT/secrets: names, the --secret syntax, the store
 * (create, lookup, rm) and the value, encrypted at rest with systemd-creds
 * where the host can (see include/berth/secret.h for the layout and the
 * locks). */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/parse.h"
#include "berth/secret.h"
#include "berth/util.h"

#define SECRET_ID_LEN 25 /* hex digits, as Podman's */

bool secret_name_valid(const char *name)
{
#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        size_t n = name ? strlen(name) : 0;
        return n >= 1 && n <= 64 && strchr(ALNUM, name[0]) && strspn(name, ALNUM "_.-") == n;
#undef ALNUM
}

static int name_error(const char *name, berth_error_t *err)
{
        return berth_error(err, 0, "invalid secret name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most 64 "
                                   "characters", name);
}

/* ---- run --secret ------------------------------------------------------------- */
void secret_ref_clear(struct secret_ref *r)
{
        free(r->name);
        free(r->target);
        *r = (struct secret_ref) {};
}

/* uid= and gid=: 0 to 2^32-2 (-1 is "no change" to chown). */
static int parse_id(const char *spec, const char *key, const char *v, unsigned *out, berth_error_t *err)
{
        int64_t n;
        if (parse_int64(v, &n, NULL) < 0 || n < 0 || n > 4294967294LL)
                return berth_error(err, 0, "invalid secret \"%s\": %s=%s is not a number from 0 to 4294967294", spec,
                                   key, v);
        *out = (unsigned) n;
        return 0;
}

static int parse_field(const char *spec, char *field, bool first, struct secret_ref *r, char **target,
                       berth_error_t *err)
{
        char *eq = strchr(field, '=');
        if (!eq) {
                if (!first)
                        return berth_error(err, 0, "invalid secret \"%s\": \"%s\" is not KEY=VALUE (use NAME[,target="
                                                   "PATH][,uid=N][,gid=N][,mode=0400])", spec, field);
                if (*field) /* none: said below */
                        r->name = xstrdup(field);
                return 0;
        }
        *eq = '\0';
        const char *key = field, *v = eq + 1;
        if (streq(key, "source") || streq(key, "src")) {
                free(r->name);
                r->name = xstrdup(v);
        } else if (streq(key, "target") || streq(key, "dst")) {
                free(*target);
                *target = xstrdup(v);
        } else if (streq(key, "uid") || streq(key, "gid")) {
                unsigned id = 0;
                if (parse_id(spec, key, v, &id, err) < 0)
                        return -1;
                if (key[0] == 'u')
                        r->uid = id;
                else
                        r->gid = id;
        } else if (streq(key, "mode")) {
                char *end = NULL;
                errno = 0;
                long m = *v ? strtol(v, &end, 8) : -1;
                if (errno || !end || *end || m < 0 || m > 0777)
                        return berth_error(err, 0, "invalid secret \"%s\": mode=%s is not an octal mode from 0 to 0777",
                                           spec, v);
                r->mode = (mode_t) m;
        } else if (streq(key, "type")) {
                if (!streq(v, "mount"))
                        return berth_error(err, 0, "invalid secret \"%s\": type=%s is not supported (berth hands "
                                                   "secrets over as files only: type=mount)", spec, v);
        } else {
                return berth_error(err, 0, "invalid secret \"%s\": unknown option \"%s\" (use target=, uid=, gid=, "
                                           "mode=)", spec, key);
        }
        return 0;
}

int secret_ref_parse(const char *spec, struct secret_ref *out, berth_error_t *err)
{
        *out = (struct secret_ref) { .mode = 0444 };
        cleanup_free char *copy = xstrdup(spec), *target = NULL;
        char *rest = copy;
        int r = 0;
        for (bool first = true; r == 0 && rest; first = false)
                r = parse_field(spec, strsep(&rest, ","), first, out, &target, err);
        if (r == 0 && (!out->name || !*out->name))
                r = berth_error(err, 0, "invalid secret \"%s\": no secret name given", spec);
        else if (r == 0 && !secret_name_valid(out->name))
                r = name_error(out->name, err);
        if (r < 0) {
                secret_ref_clear(out);
                return r;
        }
        /* as Docker: a relative target is under /run/secrets */
        const char *t = target && *target ? target : out->name;
        cleanup_free char *rel = path_normalize_relative(t[0] == '/' ? t + 1 : t);
        if (!rel) {
                secret_ref_clear(out);
                return berth_error(err, 0, "invalid secret \"%s\": target %s does not name a file in the container",
                                   spec, t);
        }
        out->target = t[0] == '/' ? xasprintf("/%s", rel) : xasprintf("/run/secrets/%s", rel);
        return 0;
}

int secret_ref_check(const char *spec, berth_error_t *err)
{
        struct secret_ref ref;
        if (secret_ref_parse(spec, &ref, err) < 0)
                return -1;
        secret_ref_clear(&ref);
        return 0;
}

/* ---- running systemd-creds ----------------------------------------------------- */
/* Read what fd has into b (at most max bytes kept); false at the end. */
static bool drain(int fd, struct strbuf *b, size_t max)
{
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return errno == EINTR || errno == EAGAIN;
        if (n == 0)
                return false;
        if (b && b->len + (size_t) n <= max)
                strbuf_addn(b, buf, (size_t) n);
        return true;
}

/* systemd-creds ARGS with in (len bytes, may be NULL) on its stdin and its
 * stdout in *out (NULL: discarded); failing, the error is its first line
 * of stderr.  stdin is a socket, so a helper that exits early gives EPIPE,
 * never SIGPIPE, whatever the caller's signal setup. */
static int creds_run(char *const argv[], const void *in, size_t len, struct strbuf *out, berth_error_t *err)
{
        int sin[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sin) < 0 || pipe2(o, O_CLOEXEC) < 0 ||
            pipe2(e, O_CLOEXEC) < 0) {
                int er = errno;
                for (int i = 0; i < 2; i++) {
                        if (sin[i] >= 0)
                                close(sin[i]);
                        if (o[i] >= 0)
                                close(o[i]);
                        if (e[i] >= 0)
                                close(e[i]);
                }
                return berth_error(err, er, "systemd-creds: pipe");
        }
        pid_t pid = fork();
        if (pid == 0) {
                signal(SIGPIPE, SIG_DFL);
                if (dup2(sin[1], STDIN_FILENO) >= 0 && dup2(o[1], STDOUT_FILENO) >= 0 &&
                    dup2(e[1], STDERR_FILENO) >= 0)
                        execvp(argv[0], argv);
                _exit(127);
        }
        close(sin[1]), close(o[1]), close(e[1]);
        if (pid < 0) {
                int er = errno;
                close(sin[0]), close(o[0]), close(e[0]);
                return berth_error(err, er, "systemd-creds: fork");
        }
        struct strbuf serr = {};
        size_t off = 0;
        struct pollfd pf[3] = { { .fd = sin[0], .events = POLLOUT }, { .fd = o[0], .events = POLLIN },
                                { .fd = e[0], .events = POLLIN } };
        if (!in || len == 0) {
                close(sin[0]);
                pf[0].fd = -1;
        }
        while (pf[0].fd >= 0 || pf[1].fd >= 0 || pf[2].fd >= 0) {
                if (poll(pf, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[0].fd >= 0 && pf[0].revents) {
                        ssize_t n = send(pf[0].fd, (const char *) in + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0)
                                off += (size_t) n;
                        if (off == len || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                                close(pf[0].fd); /* its end of input */
                                pf[0].fd = -1;
                        }
                }
                for (int i = 1; i < 3; i++)
                        if (pf[i].fd >= 0 && pf[i].revents &&
                            !drain(pf[i].fd, i == 1 ? out : &serr, i == 1 ? SECRET_MAX_SIZE + 1 : 4096)) {
                                close(pf[i].fd);
                                pf[i].fd = -1;
                        }
        }
        for (int i = 0; i < 3; i++)
                if (pf[i].fd >= 0)
                        close(pf[i].fd);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        cleanup_free char *said = strbuf_steal(&serr);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        said[strcspn(said, "\n")] = '\0';
        if (*said)
                return berth_error(err, 0, "systemd-creds %s: %s", argv[1], said);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return berth_error(err, 0, "systemd-creds %s: cannot run systemd-creds", argv[1]);
        return berth_error(err, 0, "systemd-creds %s failed (status %d)", argv[1], status);
}

/* The value into path encrypted for the credential name NAME, with the key
 * systemd-creds picks (TPM2 and/or the host key).  false (nothing made)
 * where it cannot: not installed, no key that can be made. */
static bool creds_encrypt(const char *name, const void *value, size_t len, const char *path)
{
        cleanup_free char *opt = xasprintf("--name=%s", name);
        char *argv[] = { "systemd-creds", "encrypt", opt, "-", (char *) path, NULL };
        cleanup_error berth_error_t e = NULL;
        if (creds_run(argv, value, len, NULL, &e) < 0 || chmod(path, 0600) < 0) {
                unlink(path);
                return false;
        }
        return true;
}

/* ---- the store ---------------------------------------------------------------- */
void secret_info_free(struct secret_info *i)
{
        free(i->id);
        free(i->name);
        json_decref(i->meta);
        *i = (struct secret_info) {};
}

void secret_list_free(struct secret_info *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                secret_info_free(&v[i]);
        free(v);
}

static bool id_valid(const char *id)
{
        return strlen(id) == SECRET_ID_LEN && strspn(id, "0123456789abcdef") == SECRET_ID_LEN;
}

/* ROOT/secrets/ID/meta.json; errno ENOENT in the error when it is gone. */
static int secret_load(struct berth_store *s, const char *id, struct secret_info *out, berth_error_t *err)
{
        *out = (struct secret_info) {};
        cleanup_free char *path = store_path(s, "secrets/%s/meta.json", id);
        cleanup_free char *text = NULL;
        if (read_file(path, &text, NULL, err) < 0)
                return -1;
        json_t *meta = json_loads(text, 0, NULL);
        const char *name = json_str(meta, "Name");
        if (!json_is_object(meta) || !name || !json_str(meta, "ID") || !streq(json_str(meta, "ID"), id)) {
                json_decref(meta);
                return berth_error(err, 0, "secret record %s unreadable: `%s` is not valid", id, path);
        }
        out->id = xstrdup(id);
        out->name = xstrdup(name);
        out->meta = meta;
        return 0;
}

static int cmp_secret(const void *a, const void *b)
{
        return strcmp(((const struct secret_info *) a)->name, ((const struct secret_info *) b)->name);
}

int secret_list(struct berth_store *s, struct secret_info **out, size_t *n, berth_error_t *err)
{
        *out = NULL;
        *n = 0;
        cleanup_free char *dir = store_path(s, "secrets");
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        cleanup_dir DIR *d = opendir(dir);
        if (!d)
                return berth_error(err, errno, "open `%s`", dir);
        struct secret_info *v = NULL;
        size_t count = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                struct secret_info si;
                berth_error_t e = NULL;
                if (secret_load(s, de->d_name, &si, &e) < 0) {
                        if (e->errnum == ENOENT && faccessat(dirfd(d), de->d_name, F_OK, 0) < 0) {
                                berth_error_free(&e); /* removed while we listed */
                                continue;
                        }
                        secret_list_free(v, count);
                        *err = e;
                        return berth_error_hint(err, "run berth system check");
                }
                v = xrealloc(v, (count + 1) * sizeof(*v));
                v[count++] = si;
        }
        if (count)
                qsort(v, count, sizeof(*v), cmp_secret);
        *out = v;
        *n = count;
        return 0;
}

/* By name; unless names_only also by full ID or unique ID prefix. */
static int secret_find(struct berth_store *s, const char *ref, bool names_only, struct secret_info *out,
                       berth_error_t *err)
{
        *out = (struct secret_info) {};
        struct secret_info *v = NULL;
        size_t n = 0;
        if (secret_list(s, &v, &n, err) < 0)
                return -1;
        ssize_t found = -1;
        for (size_t i = 0; i < n && found < 0; i++)
                if (streq(v[i].name, ref) || (!names_only && streq(v[i].id, ref)))
                        found = (ssize_t) i;
        size_t matches = 0;
        bool exact = found >= 0;
        for (size_t i = 0; !exact && !names_only && *ref && i < n; i++)
                if (startswith(v[i].id, ref) && matches++ == 0)
                        found = (ssize_t) i;
        int r = 0;
        if (found < 0)
                r = berth_error_exit(err, 1, 0, "No such secret: %s", ref);
        else if (matches > 1)
                r = berth_error_exit(err, 1, 0, "multiple secrets match the ID prefix '%s': use more characters",
                                     ref);
        else {
                *out = v[found];
                v[found] = (struct secret_info) {};
        }
        secret_list_free(v, n);
        return r;
}

int secret_get(struct berth_store *s, const char *ref, struct secret_info *out, berth_error_t *err)
{
        return secret_find(s, ref, false, out, err);
}

/* 0 when no secret has this name; an error when one has, or when a record
 * that cannot be read might. */
static int name_free(struct berth_store *s, const char *name, berth_error_t *err)
{
        struct secret_info other;
        berth_error_t e = NULL;
        if (secret_find(s, name, true, &other, &e) == 0) {
                secret_info_free(&other);
                return berth_error(err, 0, "%s: secret name in use", name);
        }
        if (e->exit_code != 1) {
                *err = e;
                return -1;
        }
        berth_error_free(&e);
        return 0;
}

int secret_create(struct berth_store *s, const char *name, const void *value, size_t len, json_t *labels,
                  char **id_out, berth_error_t *err)
{
        if (!secret_name_valid(name))
                return name_error(name, err);
        if (len == 0 || len > SECRET_MAX_SIZE)
                return berth_error(err, 0, "secret %s: the value must have 1 byte to 512 KiB, it has %zu bytes", name,
                                   len);
        cleanup_free char *dir = store_path(s, "secrets");
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        /* now, before any work (systemd-creds makes its host key on first
         * use); again under the lock, where it counts */
        if (name_free(s, name, err) < 0)
                return -1;
        unsigned char raw[(SECRET_ID_LEN + 1) / 2];
        char id[sizeof(raw) * 2 + 1];
        if (random_bytes(raw, sizeof(raw)) < 0)
                return berth_error(err, errno, "getrandom");
        hex_encode(raw, sizeof(raw), id);
        id[SECRET_ID_LEN] = '\0';

        /* locked until the rename: system check --repair leaves it alone */
        cleanup_free char *stage = NULL;
        cleanup_close int stage_fd = -1;
        if (store_tmp_create(s, "secret", true, &stage, &stage_fd, err) < 0)
                return -1;
        cleanup_free char *value_path = xasprintf("%s/value", stage);
        cleanup_free char *meta_path = xasprintf("%s/meta.json", stage);
        bool encrypted = creds_encrypt(name, value, len, value_path);
        int r = encrypted ? 0 : write_file_atomic(value_path, value, len, 0600, err);
        cleanup_free char *created = format_rfc3339(now_ns());
        json_auto_t *meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b}", "ID", id, "Name", name, "Driver", "file",
                                      "CreatedAt", created, "UpdatedAt", created, "Labels",
                                      labels ? json_deep_copy(labels) : json_object(), "Encrypted", encrypted);
        if (r == 0)
                r = json_write_atomic(meta_path, meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER, 0600, err);

        cleanup_store_lock struct store_lock_scope lock = {};
        if (r == 0)
                r = store_lock_scope_take(s, true, &lock, err);
        if (r == 0)
                r = name_free(s, name, err);
        cleanup_free char *final = xasprintf("%s/%s", dir, id);
        if (r == 0 && rename(stage, final) < 0)
                r = berth_error(err, errno, "create secret %s", name);
        store_lock_scope_release(&lock);
        if (r < 0) {
                rm_rf(stage, NULL);
                return r;
        }
        if (id_out)
                *id_out = xstrdup(id);
        return 0;
}

/* The containers whose config uses the secret with this ID: the first one's
 * ID in *user (NULL: none). */
static int secret_user(struct berth_store *s, const struct secret_info *si, char **user, berth_error_t *err)
{
        *user = NULL;
        struct berth_container **cs = NULL;
        size_t n = 0;
        if (container_list(s, &cs, &n, err) < 0)
                return berth_error_wrap(err, "cannot tell whether secret %s is in use", si->name);
        for (size_t i = 0; i < n && !*user; i++) {
                size_t k;
                json_t *ref;
                json_array_foreach(json_at(cs[i]->config, "Berth.Secrets"), k, ref)
                {
                        const char *id = json_str(ref, "ID");
                        if (id && streq(id, si->id)) {
                                *user = xstrdup(cs[i]->id);
                                break;
                        }
                }
        }
        container_list_free(cs, n);
        return 0;
}

int secret_remove(struct berth_store *s, const char *ref, berth_error_t *err)
{
        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(s, true, &lock, err) < 0)
                return -1;
        struct secret_info si;
        if (secret_get(s, ref, &si, err) < 0)
                return -1;
        cleanup_free char *user = NULL;
        int r = secret_user(s, &si, &user, err);
        if (r == 0 && user) {
                cleanup_free char *shortid = container_short_id(user);
                r = berth_error_exit(err, 1, 0, "remove %s: secret is in use by container %s", si.name, shortid);
        }
        cleanup_free char *dir = store_path(s, "secrets/%s", si.id);
        cleanup_free char *stage = store_path(s, "tmp/rmsecret-%s", si.id);
        if (r == 0 && rename(dir, stage) < 0)
                r = berth_error(err, errno, "remove secret %s", si.name);
        secret_info_free(&si);
        store_lock_scope_release(&lock);
        if (r < 0)
                return r;
        return rm_rf(stage, err);
}

int secret_value_read(struct berth_store *s, const char *id, char **value, size_t *len, berth_error_t *err)
{
        struct secret_info si;
        if (!id_valid(id) || secret_load(s, id, &si, NULL) < 0)
                return berth_error(err, 0, "No such secret: %s", id);
        cleanup_free char *path = store_path(s, "secrets/%s/value", id);
        int r;
        if (json_bool(si.meta, "Encrypted")) {
                cleanup_free char *opt = xasprintf("--name=%s", si.name);
                char *argv[] = { "systemd-creds", "decrypt", "--newline=no", opt, path, NULL };
                struct strbuf out = {};
                r = creds_run(argv, NULL, 0, &out, err);
                *len = out.len;
                *value = strbuf_steal(&out);
                if (r < 0) {
                        free(*value);
                        *value = NULL;
                }
        } else
                r = read_file(path, value, len, err);
        secret_info_free(&si);
        return r;
}

/* ---- containers ---------------------------------------------------------------- */
int secret_prepare_mounts(struct berth_store *s, char *const *specs, json_t **out, berth_error_t *err)
{
        json_auto_t *list = json_array();
        for (size_t i = 0; specs && specs[i]; i++) {
                struct secret_ref ref;
                if (secret_ref_parse(specs[i], &ref, err) < 0)
                        return -1;
                struct secret_info si;
                int r = secret_get(s, ref.name, &si, err);
                if (r < 0)
                        (*err)->exit_code = BERTH_EXIT_ENGINE; /* as Docker's create errors */
                size_t k;
                json_t *prev;
                json_array_foreach(list, k, prev)
                {
                        if (r == 0 && streq(json_str(prev, "Target"), ref.target))
                                r = berth_error(err, 0, "secrets %s and %s have the same target %s",
                                                json_str(prev, "Name"), ref.name, ref.target);
                }
                if (r == 0)
                        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "Name", si.name, "ID",
                                                              si.id, "Target", ref.target, "UID", (json_int_t) ref.uid,
                                                              "GID", (json_int_t) ref.gid, "Mode",
                                                              (json_int_t) ref.mode));
                secret_ref_clear(&ref);
                secret_info_free(&si);
                if (r < 0)
                        return r;
        }
        *out = steal_pointer(&list);
        return 0;
}

int secret_check_config(struct berth_store *s, json_t *config, berth_error_t *err)
{
        size_t i;
        json_t *ref;
        json_array_foreach(json_at(config, "Berth.Secrets"), i, ref)
        {
                const char *id = json_str(ref, "ID");
                cleanup_free char *meta = store_path(s, "secrets/%s/meta.json", id ? id : "-");
                if (!id || !id_valid(id) || access(meta, F_OK) < 0)
                        return berth_error(err, 0, "secret %s was removed while the container was being created",
                                           json_str(ref, "Name") ?: "?");
        }
        return 0;
}
