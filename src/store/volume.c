/* berth — volumes: -v/--mount specs, named and anonymous volumes under
 * ROOT/volumes, copy-up of image content, and who uses a volume (see
 * include/berth/volume.h for the layout and the lock order). */
#include "config.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/util.h"
#include "berth/volume.h"

/* ---- mount specs ------------------------------------------------------------ */
void mount_spec_clear(struct mount_spec *m)
{
        free(m->source);
        free(m->target);
        *m = (struct mount_spec) {};
}

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

static int check_target(const char *spec, const char *target, berth_error_t *err)
{
        if (!target || !*target)
                return berth_error(err, 0, "invalid mount specification '%s': the container path is empty", spec);
        if (target[0] != '/')
                return berth_error(err, 0, "invalid mount specification '%s': the container path '%s' must be absolute",
                                   spec, target);
        if (target[strspn(target, "/")] == '\0')
                return berth_error(err, 0, "invalid mount specification '%s': the container path can't be '/'", spec);
        return 0;
}

static int check_volume_name(const char *spec, const char *name, berth_error_t *err)
{
        if (volume_name_valid(name))
                return 0;
        return berth_error(err, 0,
                           "invalid mount specification '%s': \"%s\" includes invalid characters for a local volume "
                           "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed; to bind a host directory, use an "
                           "absolute path",
                           spec, name);
}

static bool is_propagation(const char *w)
{
        static const char *const words[] = { "shared", "rshared", "slave", "rslave", "private", "rprivate" };
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (streq(w, words[i]))
                        return true;
        return false;
}

/* -v's MODE: a comma list; NULL when it is not a mode at all. */
static bool parse_mode(const char *mode, bool *ro, bool *nocopy)
{
        cleanup_free char *copy = xstrdup(mode);
        int rw_words = 0;
        char *save = NULL;
        *ro = *nocopy = false;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (streq(w, "ro") || streq(w, "rw")) {
                        *ro = streq(w, "ro");
                        rw_words++;
                } else if (streq(w, "nocopy")) {
                        *nocopy = true;
                } else if (!streq(w, "z") && !streq(w, "Z") && !is_propagation(w)) {
                        return false;
                }
        }
        return rw_words <= 1 && *mode;
}

int mount_spec_parse_volume(const char *spec, struct mount_spec *out, berth_error_t *err)
{
        *out = (struct mount_spec) {};
        cleanup_free char *copy = xstrdup(spec);
        char *parts[4] = {};
        size_t n = strsplit_inplace(copy, ':', parts, 4);
        if (n == 4 || !*spec)
                return berth_error(err, 0, "invalid volume specification '%s': use [SOURCE:]CONTAINER_PATH[:ro]", spec);
        const char *src = NULL, *dst = NULL, *mode = NULL;
        if (n == 1) {
                dst = parts[0];
        } else if (n == 2) {
                bool ro, nocopy;
                if (parts[0][0] == '/' && parse_mode(parts[1], &ro, &nocopy) && parts[1][0] != '/') {
                        dst = parts[0]; /* "/data:ro": an anonymous volume with a mode */
                        mode = parts[1];
                } else {
                        src = parts[0];
                        dst = parts[1];
                }
        } else {
                src = parts[0];
                dst = parts[1];
                mode = parts[2];
        }
        if (src && !*src)
                return berth_error(err, 0, "invalid volume specification '%s': the source is empty", spec);
        bool ro = false, nocopy = false;
        if (mode && !parse_mode(mode, &ro, &nocopy))
                return berth_error(err, 0, "invalid volume specification '%s': invalid mode: %s", spec, mode);
        if (check_target(spec, dst, err) < 0)
                return -1;
        if (!src)
                out->kind = MOUNT_SPEC_ANON;
        else if (src[0] == '/')
                out->kind = MOUNT_SPEC_BIND;
        else if (check_volume_name(spec, src, err) < 0)
                return -1;
        else
                out->kind = MOUNT_SPEC_VOLUME;
        if (nocopy && out->kind == MOUNT_SPEC_BIND)
                return berth_error(err, 0, "invalid volume specification '%s': nocopy applies to volumes only", spec);
        out->source = src ? xstrdup(src) : NULL;
        out->target = xstrdup(dst);
        out->readonly = ro;
        out->nocopy = nocopy;
        out->create_host_dir = out->kind == MOUNT_SPEC_BIND;
        return 0;
}

char *mount_spec_volume_absolute(const char *spec, const char *base)
{
        const char *colon = strchr(spec, ':');
        if (spec[0] != '.' || !colon)
                return xstrdup(spec);
        cleanup_free char *src = xstrndup(spec, (size_t) (colon - spec));
        cleanup_free char *abs = path_absolute(base, src);
        return xasprintf("%s%s", abs, colon);
}

char *mount_spec_mount_absolute(const char *spec, const char *base)
{
        cleanup_strv char **fields = NULL;
        bool bind = false;
        size_t source = SIZE_MAX;
        cleanup_free char *copy = xstrdup(spec);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (streq(t, "type=bind"))
                        bind = true;
                if (startswith(t, "source=") || startswith(t, "src="))
                        source = strv_length(fields);
                strv_push(&fields, t);
        }
        if (!bind || source == SIZE_MAX)
                return xstrdup(spec);
        char *eq = strchr(fields[source], '=');
        if (eq[1] == '/' || eq[1] == '\0')
                return xstrdup(spec);
        *eq = '\0';
        cleanup_free char *abs = path_absolute(base, eq + 1);
        cleanup_free char *field = xasprintf("%s=%s", fields[source], abs);
        struct strbuf b = {};
        for (size_t i = 0; fields[i]; i++) {
                if (i)
                        strbuf_addc(&b, ',');
                strbuf_adds(&b, i == source ? field : fields[i]);
        }
        return strbuf_steal(&b);
}

static int parse_bool_field(const char *spec, const char *key, const char *val, bool *out, berth_error_t *err)
{
        if (!val || streq(val, "true") || streq(val, "1"))
                *out = true;
        else if (streq(val, "false") || streq(val, "0"))
                *out = false;
        else
                return berth_error(err, 0, "invalid --mount %s: invalid value for %s: %s", spec, key, val);
        return 0;
}

/* tmpfs-size and tmpfs-mode into the tmpfs mount options. */
static void tmpfs_opt_add(char **opts, const char *kv)
{
        char *n = xasprintf("%s%s%s", *opts ? *opts : "", *opts ? "," : "", kv);
        free(*opts);
        *opts = n;
}

int mount_spec_parse_mount(const char *spec, struct mount_spec *out, berth_error_t *err)
{
        *out = (struct mount_spec) {};
        cleanup_free char *copy = xstrdup(spec);
        cleanup_free char *tmpfs_opts = NULL;
        const char *type = "volume", *src = NULL, *dst = NULL;
        bool ro = false, nocopy = false;
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(t, '=');
                char *val = eq ? eq + 1 : NULL;
                if (eq)
                        *eq = '\0';
                if (streq(t, "readonly") || streq(t, "ro")) {
                        if (parse_bool_field(spec, t, val, &ro, err) < 0)
                                return -1;
                        continue;
                }
                if (streq(t, "volume-nocopy")) {
                        if (parse_bool_field(spec, t, val, &nocopy, err) < 0)
                                return -1;
                        continue;
                }
                if (!val)
                        return berth_error(err, 0, "invalid --mount %s: field '%s' must be a key=value pair", spec, t);
                if (streq(t, "type"))
                        type = val;
                else if (streq(t, "source") || streq(t, "src"))
                        src = val;
                else if (streq(t, "target") || streq(t, "destination") || streq(t, "dst"))
                        dst = val;
                else if (streq(t, "tmpfs-size")) {
                        cleanup_free char *kv = xasprintf("size=%s", val);
                        tmpfs_opt_add(&tmpfs_opts, kv);
                } else if (streq(t, "tmpfs-mode")) {
                        cleanup_free char *kv = xasprintf("mode=%s", val);
                        tmpfs_opt_add(&tmpfs_opts, kv);
                } else if (streq(t, "bind-propagation") || streq(t, "consistency")) {
                        /* accepted: berth's mounts are private */
                } else if (streq(t, "volume-driver")) {
                        if (!streq(val, "local"))
                                return berth_error(err, 0, "invalid --mount %s: volume driver %s is not supported "
                                                           "(only local)", spec, val);
                } else
                        return berth_error(err, 0, "invalid --mount %s: unknown field '%s'", spec, t);
        }
        if (!dst)
                return berth_error(err, 0, "invalid --mount %s: target is required", spec);
        if (check_target(spec, dst, err) < 0)
                return -1;
        if (streq(type, "bind")) {
                if (!src || !*src)
                        return berth_error(err, 0, "invalid --mount %s: type=bind needs a source", spec);
                if (src[0] != '/')
                        return berth_error(err, 0, "invalid --mount %s: the bind source '%s' must be an absolute path",
                                           spec, src);
                out->kind = MOUNT_SPEC_BIND;
        } else if (streq(type, "volume")) {
                if (src && *src && check_volume_name(spec, src, err) < 0)
                        return -1;
                out->kind = src && *src ? MOUNT_SPEC_VOLUME : MOUNT_SPEC_ANON;
        } else if (streq(type, "tmpfs")) {
                if (src && *src)
                        return berth_error(err, 0, "invalid --mount %s: type=tmpfs takes no source", spec);
                out->kind = MOUNT_SPEC_TMPFS;
        } else
                return berth_error(err, 0, "invalid --mount %s: unknown type '%s' (bind, volume or tmpfs)", spec, type);
        if ((tmpfs_opts && out->kind != MOUNT_SPEC_TMPFS) || (nocopy && out->kind == MOUNT_SPEC_BIND))
                return berth_error(err, 0, "invalid --mount %s: option not valid for type=%s", spec, type);
        out->source = out->kind == MOUNT_SPEC_TMPFS ? steal_pointer(&tmpfs_opts) : src && *src ? xstrdup(src) : NULL;
        out->target = xstrdup(dst);
        out->readonly = ro;
        out->nocopy = nocopy;
        return 0;
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

/* ---- copy-up ------------------------------------------------------------------- */
/* Files seen with more than one link, by path relative to the copy's top. */
struct hardlinks {
        int top; /* the destination's top directory */
        struct { dev_t dev; ino_t ino; char *path; } *v;
        size_t n;
};

static void copy_xattrs(int src, int dst)
{
        char names[4096];
        ssize_t len = flistxattr(src, names, sizeof(names));
        for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t) strlen(names + off) + 1) {
                const char *n = names + off;
                if (startswith(n, "trusted.overlay."))
                        continue; /* overlayfs' own bookkeeping */
                char val[65536];
                ssize_t vl = fgetxattr(src, n, val, sizeof(val));
                if (vl >= 0)
                        (void) fsetxattr(dst, n, val, (size_t) vl, 0);
        }
}

static int copy_data(int in, int out)
{
        char buf[65536];
        for (;;) {
                ssize_t r = read(in, buf, sizeof(buf));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return 0;
                if (write_all(out, buf, (size_t) r) < 0)
                        return -errno;
        }
}

static void set_times_owner(int dirfd, const char *name, const struct stat *st)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        (void) !fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
        if (!S_ISLNK(st->st_mode))
                (void) !fchmodat(dirfd, name, st->st_mode & 07777, 0);
        (void) utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int copy_tree_at(int src, int dst, const char *relpath, struct hardlinks *hl, berth_error_t *err);

static int copy_entry(int src, int dst, const char *name, const char *rel, struct hardlinks *hl,
                      berth_error_t *err)
{
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "copy `%s`", rel);
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < hl->n; i++)
                        if (hl->v[i].dev == st.st_dev && hl->v[i].ino == st.st_ino)
                                return linkat(hl->top, hl->v[i].path, hl->top, rel, 0) < 0
                                               ? berth_error(err, errno, "link `%s`", rel) : 0;
                hl->v = xrealloc(hl->v, (hl->n + 1) * sizeof(*hl->v));
                hl->v[hl->n].dev = st.st_dev;
                hl->v[hl->n].ino = st.st_ino;
                hl->v[hl->n++].path = xstrdup(rel);
        }
        (void) unlinkat(dst, name, 0);
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST)
                        return berth_error(err, errno, "create `%s`", rel);
                cleanup_close int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                cleanup_close int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s2 < 0 || d2 < 0)
                        return berth_error(err, errno, "open `%s`", rel);
                copy_xattrs(s2, d2);
                if (copy_tree_at(s2, d2, rel, hl, err) < 0)
                        return -1;
        } else if (S_ISREG(st.st_mode)) {
                cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                cleanup_close int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (in < 0 || out < 0)
                        return berth_error(err, errno, "copy `%s`", rel);
                int r = copy_data(in, out);
                if (r < 0)
                        return berth_error(err, -r, "copy `%s`", rel);
                copy_xattrs(in, out);
        } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_error(err, errno, "read link `%s`", rel);
                target[n] = '\0';
                if (symlinkat(target, dst, name) < 0)
                        return berth_error(err, errno, "create link `%s`", rel);
        } else if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) {
                return berth_error(err, errno, "create node `%s`", rel);
        }
        set_times_owner(dst, name, &st);
        return 0;
}

/* relpath: where src/dst are, relative to the copy's top. */
static int copy_tree_at(int src, int dst, const char *relpath, struct hardlinks *hl, berth_error_t *err)
{
        int dfd = dup(src);
        if (dfd < 0)
                return berth_error(err, errno, "dup");
        cleanup_dir DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return berth_error(err, errno, "open `%s`", relpath);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cleanup_free char *rel = *relpath ? xasprintf("%s/%s", relpath, de->d_name) : xstrdup(de->d_name);
                if (copy_entry(src, dst, de->d_name, rel, hl, err) < 0)
                        return -1;
        }
        return 0;
}

int volume_copy_tree(int src_dirfd, int dst_dirfd, berth_error_t *err)
{
        struct hardlinks hl = { .top = dst_dirfd };
        int r = copy_tree_at(src_dirfd, dst_dirfd, "", &hl, err);
        for (size_t i = 0; i < hl.n; i++)
                free(hl.v[i].path);
        free(hl.v);
        return r;
}

int volume_open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

pid_t volume_child_spawn(int (*fn)(void *data, berth_error_t *err), void *data, int close_in_child, int *errfd,
                         berth_error_t *err)
{
        int ep[2];
        if (pipe2(ep, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(ep[0]);
                close(ep[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0) {
                close(ep[0]);
                if (close_in_child >= 0)
                        close(close_in_child);
                berth_error_t e = NULL;
                if (fn(data, &e) < 0) {
                        cleanup_free char *msg = xasprintf("%d %s", e ? e->exit_code : BERTH_EXIT_ENGINE,
                                                           e ? e->msg : "failed");
                        (void) write_all(ep[1], msg, strlen(msg));
                        _exit(1);
                }
                _exit(0);
        }
        close(ep[1]);
        *errfd = ep[0];
        return pid;
}

int volume_child_reap(pid_t pid, int errfd, int r, berth_error_t *err)
{
        char msg[2048] = "";
        size_t len = 0;
        ssize_t n;
        while (len < sizeof(msg) - 1 && (n = read(errfd, msg + len, sizeof(msg) - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                len += (size_t) n;
        }
        close(errfd);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (len) {
                char *sp = strchr(msg, ' ');
                berth_error_free(err);
                return berth_error_exit(err, sp ? atoi(msg) : BERTH_EXIT_ENGINE, 0, "%s", sp ? sp + 1 : msg);
        }
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "the child process doing the work was killed");
        return 0;
}

struct copy_up {
        struct berth_store *s;
        const char *lowerdir, *tmp, *target, *data;
};

/* In a child with its own mount namespace: the image read-only at root (an
 * overlay of its layers over an empty dir, so a single layer works too), the
 * target resolved inside it, copied into data. */
static int copy_up_child(void *userdata, berth_error_t *err)
{
        const struct copy_up *cu = userdata;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "private mount namespace");
        if (chdir(cu->s->root) < 0) /* the layer links are relative to it */
                return berth_error(err, errno, "chdir `%s`", cu->s->root);
        cleanup_free char *root = xasprintf("%s/root", cu->tmp);
        cleanup_free char *opts = xasprintf("lowerdir=%s:%s/empty", cu->lowerdir, cu->tmp);
        if (mount("overlay", root, "overlay", MS_RDONLY, opts) < 0)
                return berth_error(err, errno, "mount the image's layers");
        cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_close int src = rootfd < 0 ? -1 : volume_open_in_root(rootfd, cu->target, O_RDONLY | O_DIRECTORY);
        if (src < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0
                                                           : berth_error(err, errno, "open `%s` in the image", cu->target);
        cleanup_close int dst = open(cu->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return berth_error(err, errno, "open `%s`", cu->data);
        struct stat st;
        if (fstat(src, &st) == 0) { /* the volume's root takes the image dir's owner and mode */
                (void) !fchown(dst, st.st_uid, st.st_gid);
                (void) fchmod(dst, st.st_mode & 07777);
        }
        copy_xattrs(src, dst);
        return volume_copy_tree(src, dst, err);
}

static int volume_copy_up(struct berth_store *s, const char *lowerdir, const char *target, const char *data,
                          berth_error_t *err)
{
        if (!lowerdir || !*lowerdir)
                return 0;
        cleanup_free char *tmp = NULL;
        cleanup_close int tmpfd = -1; /* locked: system check leaves it alone while we copy */
        if (store_tmp_create(s, "copyup", true, &tmp, &tmpfd, err) < 0)
                return -1;
        cleanup_free char *root = xasprintf("%s/root", tmp), *empty = xasprintf("%s/empty", tmp);
        int r = 0, errfd = -1;
        if (mkdir(root, 0755) < 0 || mkdir(empty, 0755) < 0) {
                r = berth_error(err, errno, "prepare the copy-up in `%s`", tmp);
        } else {
                struct copy_up cu = { s, lowerdir, tmp, target, data };
                pid_t pid = volume_child_spawn(copy_up_child, &cu, -1, &errfd, err);
                r = pid < 0 ? -1 : volume_child_reap(pid, errfd, 0, err);
        }
        rm_rf(tmp, NULL);
        if (r < 0)
                return berth_error_wrap(err, "copy the image's %s into the volume", target);
        return 0;
}

static bool dir_is_empty(const char *path)
{
        cleanup_dir DIR *d = opendir(path);
        if (!d)
                return false;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return false;
        return true;
}

/* Fill a new (empty) volume from the image, under its exclusive lock.
 * VOLUME/copyup exists while the copy runs: one left behind by a berth that
 * was killed (or a machine that went down) mid-copy says _data holds part of
 * the image's files, which is no volume's content: empty it and copy again
 * (or leave it empty with nocopy) instead of taking it for a filled one. */
static int volume_fill(struct berth_store *s, const char *name, const char *data, const char *lowerdir,
                       const char *target, bool nocopy, berth_error_t *err)
{
        cleanup_free char *pending = store_path(s, "volumes/%s/copyup", name);
        bool cut_short = access(pending, F_OK) == 0;
        if (cut_short) {
                if (rm_rf(data, err) < 0)
                        return berth_error_wrap(err, "empty volume %s after an interrupted copy", name);
                if (mkdir(data, 0755) < 0)
                        return berth_error(err, errno, "create `%s`", data);
        }
        bool copy = !nocopy && lowerdir && *lowerdir && dir_is_empty(data);
        if (copy && (write_file_atomic(pending, "", 0, 0600, err) < 0 ||
                     volume_copy_up(s, lowerdir, target, data, err) < 0))
                return -1; /* the marker stays: the next user copies again */
        if ((copy || cut_short) && unlink(pending) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove `%s`", pending);
        return 0;
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
