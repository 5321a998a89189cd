/* berth — -v and --mount specs (mount-spec.h): pure parsing, no I/O. */
#include "config.h"

#include <stdint.h>

#include "berth/mount-spec.h"
#include "berth/util.h"
#include "berth/volume.h"

/* ---- mount specs ------------------------------------------------------------ */
void mount_spec_clear(struct mount_spec *m)
{
        free(m->source);
        free(m->target);
        *m = (struct mount_spec) {};
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
static bool parse_mode(const char *mode, bool *ro, bool *nocopy, bool *idmap)
{
        cleanup_free char *copy = xstrdup(mode);
        int rw_words = 0;
        char *save = NULL;
        *ro = *nocopy = *idmap = false;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                if (streq(w, "ro") || streq(w, "rw")) {
                        *ro = streq(w, "ro");
                        rw_words++;
                } else if (streq(w, "nocopy")) {
                        *nocopy = true;
                } else if (streq(w, "idmap")) {
                        *idmap = true;
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
                bool ro, nocopy, idmap;
                if (parts[0][0] == '/' && parse_mode(parts[1], &ro, &nocopy, &idmap) && parts[1][0] != '/') {
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
        bool ro = false, nocopy = false, idmap = false;
        if (mode && !parse_mode(mode, &ro, &nocopy, &idmap))
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
        if (idmap && out->kind != MOUNT_SPEC_BIND)
                return berth_error(err, 0, "invalid volume specification '%s': idmap applies to host directories only "
                                           "(a volume is the container's already)", spec);
        out->idmap = idmap;
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

