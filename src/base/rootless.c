/* berth — root or a user: the identity and the per-user paths (see
 * include/berth/rootless.h). */
#include "config.h"

#include <pwd.h>
#include <sys/stat.h>

#include "berth/rootless.h"
#include "berth/util.h"

static bool initialised;

static bool in_initial_userns(void)
{
        cleanup_free char *map = NULL;
        if (read_file("/proc/self/uid_map", &map, NULL, NULL) < 0)
                return true;
        unsigned a, b, n;
        return sscanf(map, "%u %u %u", &a, &b, &n) == 3 && a == 0 && b == 0 && n == 4294967295u;
}
static uid_t user_uid;
static gid_t user_gid;

void rootless_init(void)
{
        if (initialised)
                return;
        initialised = true;
        user_uid = geteuid();
        user_gid = getegid();
        /* a berth program started inside a user's berth namespace (as its
         * uid 0) still works for that user */
        const char *id = getenv("BERTH_ROOTLESS_ID");
        unsigned u, g;
        if (user_uid == 0 && id && sscanf(id, "%u:%u", &u, &g) == 2 && u != 0 && !in_initial_userns()) {
                user_uid = u;
                user_gid = g;
        }
}

bool rootless(void)
{
        rootless_init();
        return user_uid != 0;
}

bool rootless_inside(void)
{
        return rootless() && geteuid() == 0 && !in_initial_userns();
}

uid_t rootless_uid(void)
{
        rootless_init();
        return user_uid;
}

gid_t rootless_gid(void)
{
        rootless_init();
        return user_gid;
}

char *rootless_home(void)
{
        const char *h = getenv("HOME");
        if (h && h[0] == '/')
                return xstrdup(h);
        struct passwd *pw = getpwuid(rootless_uid());
        return xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
}

/* $VAR/berth when VAR holds an absolute path (the spec ignores relative
 * ones), else ~/FALLBACK/berth */
static char *xdg_dir(const char *var, const char *fallback)
{
        const char *v = getenv(var);
        if (v && v[0] == '/')
                return xasprintf("%s/berth", v);
        cleanup_free char *h = rootless_home();
        return xasprintf("%s/%s/berth", streq(h, "/") ? "" : h, fallback);
}

char *rootless_data_dir(void)
{
        return rootless() ? xdg_dir("XDG_DATA_HOME", ".local/share") : xstrdup("/var/lib/berth");
}

char *rootless_config_dir(void)
{
        return rootless() ? xdg_dir("XDG_CONFIG_HOME", ".config") : xstrdup("/etc/berth");
}

const char *overlay_opaque_xattr(void)
{
        return rootless() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

const char *overlay_mount_extra(void)
{
        return rootless() ? ",userxattr" : "";
}

bool overlay_xattr_is_private(const char *name)
{
        return startswith(name, "trusted.overlay.") || startswith(name, "user.overlay.") ||
               startswith(name, "user.fuseoverlayfs.");
}

int rootless_runtime_dir(char **out, berth_error_t *err)
{
        if (!rootless()) {
                *out = xstrdup("/run/berth");
                return 0;
        }
        cleanup_free char *d = NULL;
        if (rootless_xdg_runtime_dir(&d, err) < 0)
                return -1;
        *out = xasprintf("%s/berth", d);
        return 0;
}

int rootless_xdg_runtime_dir(char **out, berth_error_t *err)
{
        const char *v = getenv("XDG_RUNTIME_DIR");
        if (v && v[0] == '/') {
                *out = xstrdup(v);
                return 0;
        }
        cleanup_free char *d = xasprintf("/run/user/%u", (unsigned) rootless_uid());
        struct stat st;
        if (stat(d, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == rootless_uid()) {
                *out = steal_pointer(&d);
                return 0;
        }
        return berth_error(err, 0,
                           "XDG_RUNTIME_DIR is not set and %s does not exist: log in through a session "
                           "(or `loginctl enable-linger USER`) so the user has a runtime directory",
                           d);
}
