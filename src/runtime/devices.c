/* berth — Docker's device confinement as systemd's DevicePolicy=/DeviceAllow=
 * (see include/berth/devices.h). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "berth/devices.h"
#include "berth/util.h"

/* Docker's default allow list (moby's oci/defaults), by path: systemd
 * resolves each to its device number on the host. */
static const char *const default_rw[] = {
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/console", "/dev/ptmx",
};

static bool perms_valid(const char *p)
{
        if (!*p || strlen(p) > 3)
                return false;
        for (const char *c = p; *c; c++)
                if ((*c != 'r' && *c != 'w' && *c != 'm') || strchr(c + 1, *c))
                        return false;
        return true;
}

int device_map_parse(const char *spec, struct device_map *out, berth_error_t *err)
{
        *out = (struct device_map) {};
        cleanup_free char *copy = xstrdup(spec);
        char *parts[4] = {};
        size_t n = strsplit_inplace(copy, ':', parts, 4);
        const char *host = parts[0], *dst = NULL, *perms = "rwm";
        if (n == 2) {
                if (perms_valid(parts[1]))
                        perms = parts[1];
                else
                        dst = parts[1];
        } else if (n == 3) {
                dst = parts[1];
                perms = parts[2];
        }
        if (n == 4 || !*host || (dst && !*dst))
                return berth_error(err, 0, "invalid device specification '%s': use HOST[:CONTAINER][:PERMISSIONS]",
                                   spec);
        if (!perms_valid(perms))
                return berth_error(err, 0, "invalid device specification '%s': permissions '%s' (a subset of rwm)",
                                   spec, perms);
        if (dst && dst[0] != '/')
                return berth_error(err, 0, "invalid device specification '%s': the container path '%s' must be "
                                           "absolute", spec, dst);
        out->host = path_absolute(NULL, host);
        out->container = dst ? path_absolute("/", dst) : xstrdup(out->host);
        snprintf(out->perms, sizeof(out->perms), "%s", perms);
        return 0;
}

int device_map_check(const struct device_map *d, berth_error_t *err)
{
        struct stat st;
        if (stat(d->host, &st) < 0)
                return berth_error(err, errno, "error gathering device information while adding device \"%s\"",
                                   d->host);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return berth_error(err, 0, "error gathering device information while adding device \"%s\": not a "
                                           "device node", d->host);
        return 0;
}

void device_map_clear(struct device_map *d)
{
        free(d->host);
        free(d->container);
        *d = (struct device_map) {};
}

json_t *device_map_to_json(const struct device_map *d)
{
        return json_pack("{s:s, s:s, s:s}", "PathOnHost", d->host, "PathInContainer", d->container,
                         "CgroupPermissions", d->perms);
}

/* ---- --device-cgroup-rule ------------------------------------------------------ */

struct cgroup_rule {
        char type;           /* 'a', 'b', 'c' */
        long major, minor;   /* -1: "*" */
        char access[4];
};

static bool parse_devnum(const char **p, long *out)
{
        if (**p == '*') {
                (*p)++;
                *out = -1;
                return true;
        }
        if (!isdigit((unsigned char) **p))
                return false;
        long v = 0;
        for (; isdigit((unsigned char) **p); (*p)++) {
                v = v * 10 + (**p - '0');
                if (v > 0xfffff)
                        return false;
        }
        *out = v;
        return true;
}

static int rule_parse(const char *rule, struct cgroup_rule *r, berth_error_t *err)
{
        const char *p = rule;
        if ((*p != 'a' && *p != 'b' && *p != 'c') || p[1] != ' ')
                goto bad;
        r->type = *p;
        p += 2;
        if (!parse_devnum(&p, &r->major) || *p++ != ':' || !parse_devnum(&p, &r->minor) || *p++ != ' ')
                goto bad;
        if (!perms_valid(p))
                goto bad;
        snprintf(r->access, sizeof(r->access), "%s", p);
        return 0;
bad:
        return berth_error(err, 0, "invalid device cgroup rule '%s': use 'TYPE MAJOR:MINOR ACCESS' (e.g. 'c 1:3 rwm', "
                                   "'b 7:* rw')", rule);
}

int device_cgroup_rule_check(const char *rule, berth_error_t *err)
{
        struct cgroup_rule r;
        return rule_parse(rule, &r, err);
}

/* The names /proc/devices gives major M of this type ('c' or 'b'): systemd's
 * "char-NAME"/"block-NAME" match all minors of a driver. */
static char **proc_devices_names(char type, long major)
{
        char **names = xcalloc(1, sizeof(char *));
        cleanup_fclose FILE *f = fopen("/proc/devices", "re");
        if (!f)
                return names;
        char line[256];
        char section = 0;
        while (fgets(line, sizeof(line), f)) {
                if (startswith(line, "Character devices:"))
                        section = 'c';
                else if (startswith(line, "Block devices:"))
                        section = 'b';
                long m;
                char name[200];
                if (section == type && sscanf(line, " %ld %199s", &m, name) == 2 && m == major) {
                        cleanup_free char *group = xasprintf("%s-%s", type == 'c' ? "char" : "block", name);
                        if (!strv_contains(names, group))
                                strv_push(&names, group);
                }
        }
        return names;
}

/* A node under /dev with this type and number, for DeviceAllow= (which
 * takes paths); depth-limited, skipping the container-only trees. */
static char *find_node(const char *dir, char type, dev_t num, int depth)
{
        cleanup_dir DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || streq(de->d_name, "pts") || streq(de->d_name, "shm") ||
                    streq(de->d_name, "mqueue") || streq(de->d_name, "fd"))
                        continue;
                cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) && depth > 0) {
                        char *found = find_node(path, type, num, depth - 1);
                        if (found)
                                return found;
                } else if ((type == 'c' ? S_ISCHR(st.st_mode) : S_ISBLK(st.st_mode)) && st.st_rdev == num)
                        return steal_pointer(&path);
        }
        return NULL;
}

static int rule_to_props(const char *text, const struct cgroup_rule *r, struct unit_props *out, berth_error_t *err)
{
        const char types[2] = { r->type == 'a' ? 'c' : r->type, r->type == 'a' ? 'b' : 0 };
        for (size_t t = 0; t < 2 && types[t]; t++) {
                const char *cls = types[t] == 'c' ? "char" : "block";
                if (r->major < 0 && r->minor < 0) {
                        cleanup_free char *all = xasprintf("%s-*", cls);
                        unit_props_add_device_allow(out, all, r->access);
                } else if (r->major < 0) {
                        return berth_error(err, 0, "device cgroup rule '%s': one minor of every major cannot be said "
                                                   "with systemd's DeviceAllow=; name the major", text);
                } else if (r->minor < 0) {
                        /* all minors of a major: the driver's group; none
                         * registered means no such device to allow */
                        cleanup_strv char **groups = proc_devices_names(types[t], r->major);
                        for (size_t i = 0; groups[i]; i++)
                                unit_props_add_device_allow(out, groups[i], r->access);
                } else {
                        cleanup_free char *node = find_node("/dev", types[t], makedev(r->major, r->minor), 3);
                        if (!node)
                                return berth_error(err, 0, "device cgroup rule '%s': no %s node %ld:%ld under /dev "
                                                           "(systemd's DeviceAllow= takes a node): create one, or "
                                                           "allow the major ('%c %ld:* %s')",
                                                   text, cls, r->major, r->minor, types[t], r->major, r->access);
                        unit_props_add_device_allow(out, node, r->access);
                }
        }
        return 0;
}

int devices_to_props(json_t *host_config, struct unit_props *out, berth_error_t *err)
{
        if (json_is_true(json_object_get(host_config, "Privileged"))) {
                /* every device, as Docker's --privileged */
                unit_props_add_string(out, "DevicePolicy", "Service", "auto");
                return 0;
        }
        unit_props_add_string(out, "DevicePolicy", "Service", "strict");
        for (size_t i = 0; i < ARRAY_SIZE(default_rw); i++)
                unit_props_add_device_allow(out, default_rw[i], "rwm");
        unit_props_add_device_allow(out, "char-pts", "rwm");
        /* mknod of any node, but no access to it (Docker's "c *:* m", "b *:* m") */
        unit_props_add_device_allow(out, "char-*", "m");
        unit_props_add_device_allow(out, "block-*", "m");
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(host_config, "Devices"), i, v)
        {
                const char *host = json_string_value(json_object_get(v, "PathOnHost"));
                const char *perms = json_string_value(json_object_get(v, "CgroupPermissions"));
                if (!host || !perms || !perms_valid(perms))
                        return berth_error(err, 0, "the container's record has a bad device entry: re-create it");
                unit_props_add_device_allow(out, host, perms);
        }
        json_array_foreach(json_object_get(host_config, "DeviceCgroupRules"), i, v)
        {
                const char *text = json_string_value(v);
                struct cgroup_rule r;
                if (!text || rule_parse(text, &r, err) < 0 || rule_to_props(text, &r, out, err) < 0)
                        return -1;
        }
        return 0;
}
