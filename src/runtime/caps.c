/* berth — capabilities: Docker's add/drop arithmetic and the runc-style
 * application in the container's child.  See include/berth/caps.h for the
 * semantics and the order of calls around setuid. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "berth/caps.h"
#include "berth/util.h"

static inline void cap_freep(cap_t *c)
{
        if (*c)
                cap_free(*c);
}
#define cleanup_cap __attribute__((cleanup(cap_freep)))

static const int docker_default_caps[] = {
        CAP_CHOWN,  CAP_DAC_OVERRIDE,     CAP_FSETID,     CAP_FOWNER, CAP_MKNOD,
        CAP_NET_RAW, CAP_SETGID,          CAP_SETUID,     CAP_SETFCAP, CAP_SETPCAP,
        CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,   CAP_AUDIT_WRITE,
};

uint64_t caps_default_mask(void)
{
        uint64_t m = 0;
        for (size_t i = 0; i < ARRAY_SIZE(docker_default_caps); i++)
                m |= CAPS_BIT(docker_default_caps[i]);
        return m;
}

/* Number of capabilities the running kernel knows (libcap probes it). */
static int caps_count(void)
{
        int n = (int)cap_max_bits();
        if (n <= 0)
                n = CAP_LAST_CAP + 1;
        return n > 64 ? 64 : n;
}

uint64_t caps_all_mask(void)
{
        int n = caps_count();
        return n >= 64 ? UINT64_MAX : CAPS_BIT(n) - 1;
}

/* Docker's NormalizeLegacyCapabilities: upper-case, "CAP_" prefixed. */
static char *caps_normalize(const char *name)
{
        char *s;
        if (strncasecmp(name, "CAP_", 4) == 0)
                s = xstrdup(name);
        else
                s = xasprintf("CAP_%s", name);
        for (char *p = s; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        return s;
}

/* name is already normalized ("CAP_CHOWN"). */
static int caps_lookup(const char *name, int *cap)
{
        int n = caps_count();
        for (int c = 0; c < n; c++) {
                char *known = cap_to_name((cap_value_t)c); /* "cap_chown", or "41" if unnamed */
                if (!known)
                        continue;
                bool match = strcasecmp(known, name) == 0;
                cap_free(known);
                if (match) {
                        *cap = c;
                        return 0;
                }
        }
        return -1;
}

int cap_from_name_docker(const char *name, int *cap)
{
        if (!name || !*name)
                return -1;
        cleanup_free char *norm = caps_normalize(name);
        return caps_lookup(norm, cap);
}

/* Parse one --cap-add / --cap-drop list into a mask; "ALL" sets *all. */
static int caps_parse_list(char *const *names, uint64_t *mask, bool *all, berth_error_t *err)
{
        *mask = 0;
        *all = false;
        for (size_t i = 0; names && names[i]; i++) {
                cleanup_free char *up = xstrdup(names[i]);
                for (char *p = up; *p; p++)
                        *p = (char)toupper((unsigned char)*p);
                if (streq(up, "ALL")) {
                        *all = true;
                        continue;
                }
                cleanup_free char *norm = caps_normalize(names[i]);
                int cap;
                if (caps_lookup(norm, &cap) < 0)
                        return berth_error(err, 0, "unknown capability: \"%s\"", norm);
                *mask |= CAPS_BIT(cap);
        }
        return 0;
}

int caps_compute(char *const *add, char *const *drop, bool privileged, uint64_t *mask_out, berth_error_t *err)
{
        if (privileged) {
                *mask_out = caps_all_mask();
                return 0;
        }
        uint64_t add_mask, drop_mask;
        bool add_all, drop_all;
        /* Docker validates the drops first. */
        if (caps_parse_list(drop, &drop_mask, &drop_all, err) < 0)
                return -1;
        if (caps_parse_list(add, &add_mask, &add_all, err) < 0)
                return -1;

        if (add_all)
                *mask_out = caps_all_mask() & ~drop_mask; /* everything but the drops */
        else if (drop_all)
                *mask_out = add_mask;                     /* only what is added */
        else
                *mask_out = (caps_default_mask() & ~drop_mask) | add_mask;
        return 0;
}

int caps_names(uint64_t mask, char ***out)
{
        char **v = xcalloc(1, sizeof(char *));
        int count = 0;
        for (int c = 0; c < 64; c++) {
                if (!(mask & CAPS_BIT(c)))
                        continue;
                char *name = cap_to_name((cap_value_t)c);
                char *up = name && !isdigit((unsigned char)name[0]) ? xstrdup(name) : xasprintf("cap_%d", c);
                cap_free(name);
                for (char *p = up; *p; p++)
                        *p = (char)toupper((unsigned char)*p);
                v = xrealloc(v, (count + 2) * sizeof(char *));
                v[count++] = up;
                v[count] = NULL;
        }
        *out = v;
        return count;
}

int caps_prepare_bounding(uint64_t mask, berth_error_t *err)
{
        int n = caps_count();
        for (int c = 0; c < n; c++) {
                if (mask & CAPS_BIT(c))
                        continue;
                int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);
                if (r < 0 && errno == EINVAL)
                        continue; /* not supported by this kernel */
                if (r == 0)
                        continue; /* already gone */
                if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0) {
                        int e = errno;
                        char *name = cap_to_name((cap_value_t)c);
                        r = berth_error(err, e, "drop %s from the capability bounding set", name ? name : "?");
                        cap_free(name);
                        return r;
                }
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return berth_error(err, errno, "prctl(PR_SET_KEEPCAPS)");
        return 0;
}

int caps_finish(uint64_t mask, berth_error_t *err)
{
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return berth_error(err, errno, "prctl(PR_SET_KEEPCAPS)");

        cleanup_cap cap_t cur = cap_get_proc();
        if (!cur)
                return berth_error(err, errno, "read process capabilities");
        cleanup_cap cap_t want = cap_init(); /* all three sets empty */
        if (!want)
                return berth_error(err, errno, "allocate capability set");

        int n = caps_count();
        for (int c = 0; c < n; c++) {
                if (!(mask & CAPS_BIT(c)))
                        continue;
                cap_flag_value_t have = CAP_CLEAR;
                if (cap_get_flag(cur, (cap_value_t)c, CAP_PERMITTED, &have) < 0 || have != CAP_SET)
                        continue; /* cannot grant what we do not hold */
                cap_value_t v = (cap_value_t)c;
                if (cap_set_flag(want, CAP_PERMITTED, 1, &v, CAP_SET) < 0 ||
                    cap_set_flag(want, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0)
                        return berth_error(err, errno, "build capability set");
        }
        if (cap_set_proc(want) < 0)
                return berth_error(err, errno, "set process capabilities");
        /* Ambient needs inheritable, which is empty: the kernel has already
         * cleared it, but say so explicitly (EINVAL: kernel < 4.3). */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return berth_error(err, errno, "clear ambient capabilities");
        return 0;
}

