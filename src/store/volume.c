/* berth — volumes: named and anonymous volumes under ROOT/volumes, who uses
 * one, and the mounts a new container gets (see include/berth/volume.h for
 * the layout and the lock order; the copy-up is volume-copy.c). */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include "berth/container.h"
#include "berth/event.h"
#include "berth/json-util.h"
#include "berth/util.h"
#include "berth/volume.h"

/* ---- names ------------------------------------------------------------------- */
bool volume_name_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;
        if (n < 2 || n > 255)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = name[i];
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
                if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
                        return false;
        }
        return true;
}

/* ---- the store ---------------------------------------------------------------- */
void volume_info_free(struct volume_info *v)
{
        free(v->name);
        free(v->mountpoint);
        json_decref(v->meta);
        *v = (struct volume_info) {};
}

void volume_list_free(struct volume_info *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                volume_info_free(&v[i]);
        free(v);
}

static int volumes_dir(struct berth_store *s, char **out, berth_error_t *err)
{
        char *dir = store_path(s, "volumes");
        if (mkdir_p(dir, 0700, err) < 0) {
                free(dir);
                return -1;
        }
        *out = dir;
        return 0;
}

/* Stage NAME in ROOT/tmp and rename it into place; an existing one wins. */
static int volume_make(struct berth_store *s, const char *name, json_t *labels, bool anonymous, berth_error_t *err)
{
        cleanup_free char *vdir = NULL;
        if (volumes_dir(s, &vdir, err) < 0)
                return -1;
        cleanup_free char *final = xasprintf("%s/%s", vdir, name);
        if (access(final, F_OK) == 0)
                return 0;
        /* locked until the rename: a system check --repair beside us leaves
         * it alone (it removes the unlocked entries of ROOT/tmp) */
        cleanup_free char *stage = NULL;
        cleanup_close int stage_fd = -1;
        if (store_tmp_create(s, "volume", true, &stage, &stage_fd, err) < 0)
                return -1;
        (void) chmod(stage, 0701);
        cleanup_free char *data = xasprintf("%s/_data", stage);
        cleanup_free char *meta_path = xasprintf("%s/volume.json", stage);
        cleanup_free char *created = format_rfc3339(now_ns());
        json_t *lab = labels ? json_deep_copy(labels) : json_object();
        if (anonymous)
                json_object_set_new(lab, "com.docker.volume.anonymous", json_string(""));
        json_auto_t *meta = json_pack("{s:s, s:s, s:s, s:o, s:b}", "Name", name, "Driver", "local", "CreatedAt",
                                      created, "Labels", lab, "Anonymous", anonymous);
        int r = 0;
        if (mkdir(data, 0755) < 0)
                r = berth_error(err, errno, "create `%s`", data);
        if (r == 0)
                r = json_write_atomic(meta_path, meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER, 0600, err);
        if (r == 0 && rename(stage, final) < 0 && errno != EEXIST && errno != ENOTEMPTY)
                r = berth_error(err, errno, "create volume %s", name);
        rm_rf(stage, NULL); /* gone after the rename; still there when another won */
        return r;
}

/* Docker's volume events: actor the volume's name, driver=local. */
static void volume_event(const char *action, const char *name)
{
        char *attrs[] = { (char *) "driver=local", NULL };
        event_emit("volume", action, name, attrs, NULL);
}

int volume_create(struct berth_store *s, const char *name, json_t *labels, bool anonymous, char **name_out,
                  berth_error_t *err)
{
        char hex[65];
        if (!name) {
                unsigned char raw[32];
                if (random_bytes(raw, sizeof(raw)) < 0)
                        return berth_error(err, errno, "getrandom");
                hex_encode(raw, sizeof(raw), hex);
                name = hex;
                anonymous = true;
        } else if (!volume_name_valid(name)) {
                return berth_error(err, 0,
                                   "create %s: \"%s\" includes invalid characters for a local volume name, only "
                                   "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                                   name, name);
        }
        if (volume_make(s, name, labels, anonymous, err) < 0)
                return -1;
        volume_event("create", name);
        if (name_out)
                *name_out = xstrdup(name);
        return 0;
}

int volume_get(struct berth_store *s, const char *name, struct volume_info *out, berth_error_t *err)
{
        *out = (struct volume_info) {};
        if (!volume_name_valid(name))
                return berth_error_exit(err, 1, 0, "No such volume: %s", name);
        cleanup_free char *meta_path = store_path(s, "volumes/%s/volume.json", name);
        cleanup_free char *text = NULL;
        berth_error_t e = NULL;
        if (read_file(meta_path, &text, NULL, &e) < 0) {
                berth_error_free(&e);
                return berth_error_exit(err, 1, 0, "No such volume: %s", name);
        }
        json_t *meta = json_loads(text, 0, NULL);
        if (!json_is_object(meta)) {
                json_decref(meta);
                return berth_error(err, 0, "volume %s: `%s` is not valid JSON: remove the volume", name, meta_path);
        }
        out->name = xstrdup(name);
        out->mountpoint = store_path(s, "volumes/%s/_data", name);
        out->meta = meta;
        return 0;
}

static int cmp_volume(const void *a, const void *b)
{
        return strcmp(((const struct volume_info *) a)->name, ((const struct volume_info *) b)->name);
}

int volume_list(struct berth_store *s, struct volume_info **out, size_t *n, berth_error_t *err)
{
        *out = NULL;
        *n = 0;
        cleanup_free char *vdir = NULL;
        if (volumes_dir(s, &vdir, err) < 0)
                return -1;
        cleanup_dir DIR *d = opendir(vdir);
        if (!d)
                return berth_error(err, errno, "open `%s`", vdir);
        struct volume_info *v = NULL;
        size_t count = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct volume_info vi;
                berth_error_t e = NULL;
                if (de->d_name[0] == '.' || volume_get(s, de->d_name, &vi, &e) < 0) {
                        berth_error_free(&e); /* removed while we listed */
                        continue;
                }
                v = xrealloc(v, (count + 1) * sizeof(*v));
                v[count++] = vi;
        }
        if (count)
                qsort(v, count, sizeof(*v), cmp_volume);
        *out = v;
        *n = count;
        return 0;
}

static bool config_uses_volume(json_t *config, const char *name)
{
        size_t i;
        json_t *m;
        json_array_foreach(json_at(config, "Berth.Mounts"), i, m)
        {
                const char *type = json_str(m, "Type"), *vname = json_str(m, "Name");
                if (type && vname && streq(type, "volume") && streq(vname, name))
                        return true;
        }
        return false;
}

int volume_users(struct berth_store *s, const char *name, char ***out, berth_error_t *err)
{
        struct berth_container **cs = NULL;
        size_t n = 0;
        if (container_list(s, &cs, &n, err) < 0)
                return berth_error_wrap(err, "cannot tell whether volume %s is in use", name);
        char **users = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                if (config_uses_volume(cs[i]->config, name))
                        strv_push(&users, cs[i]->id);
        container_list_free(cs, n);
        *out = users;
        return 0;
}

/* flock the volume's lock file; -1 with errno EWOULDBLOCK when busy. */
static int volume_lock(struct berth_store *s, const char *name, bool wait)
{
        cleanup_free char *p = store_path(s, "volumes/%s/lock", name);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -1;
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

int volume_remove(struct berth_store *s, const char *name, bool force, berth_error_t *err)
{
        struct volume_info vi;
        berth_error_t e = NULL;
        if (volume_get(s, name, &vi, &e) < 0) {
                if (force) {
                        berth_error_free(&e);
                        return 0;
                }
                *err = e;
                return -1;
        }
        volume_info_free(&vi);
        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(s, true, &lock, err) < 0)
                return -1;
        cleanup_strv char **users = NULL;
        int r = volume_users(s, name, &users, err);
        cleanup_close int lfd = -1;
        if (r == 0 && users[0]) {
                cleanup_free char *shortid = container_short_id(users[0]);
                r = berth_error_exit(err, 1, 0, "remove %s: volume is in use - [%s]", name, shortid);
        } else if (r == 0 && (lfd = volume_lock(s, name, false)) < 0) {
                r = errno == EWOULDBLOCK ? berth_error_exit(err, 1, 0, "remove %s: volume is in use by a container "
                                                                       "being created", name)
                                         : berth_error(err, errno, "lock volume %s", name);
        }
        cleanup_free char *dir = store_path(s, "volumes/%s", name);
        cleanup_free char *stage = NULL;
        if (r == 0) {
                unsigned char raw[8];
                char hex[17];
                (void) random_bytes(raw, sizeof(raw));
                hex_encode(raw, sizeof(raw), hex);
                stage = store_path(s, "tmp/rmvol-%s", hex);
                if (rename(dir, stage) < 0)
                        r = berth_error(err, errno, "remove volume %s", name);
        }
        store_lock_scope_release(&lock);
        if (r < 0)
                return r;
        volume_event("destroy", name);
        return rm_rf(stage, err);
}

static long long tree_size(int dirfd)
{
        cleanup_dir DIR *d = fdopendir(dirfd);
        if (!d) {
                close(dirfd);
                return 0;
        }
        long long total = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
                    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                total += tree_size(sub);
                } else if (S_ISREG(st.st_mode)) {
                        total += st.st_size;
                }
        }
        return total;
}

long long volume_size(struct berth_store *s, const char *name)
{
        cleanup_free char *p = store_path(s, "volumes/%s/_data", name);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? 0 : tree_size(fd);
}

/* ---- containers -------------------------------------------------------------- */
void volume_holds_release(struct volume_holds *h)
{
        for (size_t i = 0; i < h->n; i++)
                close(h->fds[i]);
        free(h->fds);
        *h = (struct volume_holds) {};
}

/* Create (if need be) and lock the volume: exclusive while it is made and
 * filled, then shared until the container is recorded (h keeps the fd). */
static int volume_acquire(struct berth_store *s, const char *name, const char *lowerdir, const char *target,
                          bool nocopy, struct volume_holds *h, char **name_out, berth_error_t *err)
{
        for (int attempt = 0; attempt < 3; attempt++) {
                cleanup_free char *n = NULL;
                if (volume_create(s, name, NULL, !name, &n, err) < 0)
                        return -1;
                cleanup_close int fd = volume_lock(s, n, true);
                if (fd < 0)
                        return berth_error(err, errno, "lock volume %s", n);
                cleanup_free char *meta = store_path(s, "volumes/%s/volume.json", n);
                if (access(meta, F_OK) < 0)
                        continue; /* removed before we locked it: make it again */
                cleanup_free char *data = store_path(s, "volumes/%s/_data", n);
                if (volume_fill(s, n, data, lowerdir, target, nocopy, err) < 0)
                        return -1;
                if (flock(fd, LOCK_SH) < 0)
                        return berth_error(err, errno, "lock volume %s", n);
                if (access(meta, F_OK) < 0)
                        return berth_error(err, 0, "volume %s was removed while the container was being created", n);
                h->fds = xrealloc(h->fds, (h->n + 1) * sizeof(int));
                h->fds[h->n++] = steal_fd(&fd);
                *name_out = steal_pointer(&n);
                return 0;
        }
        return berth_error(err, 0, "volume %s keeps being removed while the container is created", name);
}

static json_t *volume_mount_json(struct berth_store *s, const char *name, const char *target, bool ro)
{
        cleanup_free char *src = store_path(s, "volumes/%s/_data", name);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "Type", "volume", "Name", name, "Source", src,
                         "Destination", target, "Driver", "local", "Mode", ro ? "ro" : "z", "RW", !ro, "Propagation",
                         "", "ReadOnly", ro);
}

static int bind_mount_json(const struct mount_spec *m, json_t **out, berth_error_t *err)
{
        struct stat st;
        if (stat(m->source, &st) < 0) {
                if (!m->create_host_dir)
                        return berth_error(err, 0, "invalid mount config for type \"bind\": bind source path does not "
                                                   "exist: %s", m->source);
                if (mkdir_p(m->source, 0755, err) < 0) /* Docker's -v makes it */
                        return -1;
        }
        *out = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "Type", "bind", "Source", m->source, "Destination",
                         m->target, "Mode", m->readonly ? "ro" : "", "RW", !m->readonly, "Propagation", "rprivate",
                         "ReadOnly", m->readonly);
        if (m->idmap)
                json_object_set_new(*out, "IDMap", json_true());
        return 0;
}

/* "/data/" and "/data" are the same mount point. */
static char *normalize_target(const char *t)
{
        char *n = xstrdup(t);
        size_t len = strlen(n);
        while (len > 1 && n[len - 1] == '/')
                n[--len] = '\0';
        return n;
}

static size_t path_depth(const char *p)
{
        size_t d = 0;
        for (; *p; p++)
                d += *p == '/';
        return d;
}

/* Parents before children, so /data/sub lands on the /data volume. */
static void sort_mounts(json_t *mounts)
{
        size_t n = json_array_size(mounts);
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0; j--) {
                        json_t *a = json_array_get(mounts, j - 1), *b = json_array_get(mounts, j);
                        if (path_depth(json_str(a, "Destination")) <= path_depth(json_str(b, "Destination")))
                                break;
                        json_incref(a);
                        json_array_set(mounts, j - 1, b);
                        json_array_set_new(mounts, j, a);
                }
}

static int add_spec(struct berth_store *s, const struct mount_spec *m, const char *target, const char *lowerdir,
                    json_t *mounts, char ***tmpfs, struct volume_holds *h, berth_error_t *err)
{
        json_t *entry = NULL;
        cleanup_free char *name = NULL;
        switch (m->kind) {
        case MOUNT_SPEC_TMPFS: {
                cleanup_free char *t = m->source ? xasprintf("%s:%s", target, m->source) : xstrdup(target);
                strv_push(tmpfs, t);
                return 0;
        }
        case MOUNT_SPEC_BIND:
                if (bind_mount_json(m, &entry, err) < 0)
                        return -1;
                break;
        case MOUNT_SPEC_VOLUME:
        case MOUNT_SPEC_ANON:
                if (volume_acquire(s, m->source, lowerdir, target, m->nocopy, h, &name, err) < 0)
                        return -1;
                entry = volume_mount_json(s, name, target, m->readonly);
                break;
        }
        json_object_set_new(entry, "Destination", json_string(target));
        json_array_append_new(mounts, entry);
        return 0;
}

int volume_prepare_mounts(struct berth_store *s, const struct mount_spec *specs, size_t n, json_t *image_volumes,
                          const char *lowerdir, json_t *mounts, char ***tmpfs, struct volume_holds *holds,
                          berth_error_t *err)
{
        cleanup_strv char **targets = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *t = normalize_target(specs[i].target);
                if (strv_contains(targets, t))
                        return berth_error(err, 0, "Duplicate mount point: %s", t);
                strv_push(&targets, t);
        }
        for (size_t i = 0; i < n; i++)
                if (add_spec(s, &specs[i], targets[i], lowerdir, mounts, tmpfs, holds, err) < 0)
                        return -1;
        const char *path;
        json_t *v;
        json_object_foreach(image_volumes, path, v)
        {
                cleanup_free char *t = normalize_target(path);
                if (t[0] != '/' || strv_contains(targets, t))
                        continue; /* the user's mount wins */
                struct mount_spec anon = { .kind = MOUNT_SPEC_ANON, .target = t };
                if (add_spec(s, &anon, t, lowerdir, mounts, tmpfs, holds, err) < 0)
                        return -1;
                strv_push(&targets, t);
        }
        sort_mounts(mounts);
        return 0;
}

void volume_remove_anonymous(struct berth_store *s, json_t *config)
{
        size_t i;
        json_t *m;
        json_array_foreach(json_at(config, "Berth.Mounts"), i, m)
        {
                const char *type = json_str(m, "Type"), *name = json_str(m, "Name");
                if (!type || !name || !streq(type, "volume"))
                        continue;
                struct volume_info vi;
                berth_error_t e = NULL;
                if (volume_get(s, name, &vi, &e) == 0) {
                        if (json_bool(vi.meta, "Anonymous"))
                                (void) volume_remove(s, name, true, &e); /* kept when another container uses it */
                        volume_info_free(&vi);
                }
                berth_error_free(&e);
        }
}
