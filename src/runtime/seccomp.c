/* berth — seccomp: a Docker-format profile (JSON) → a libseccomp filter.
 *
 * One parser for both Docker's default profile (seccomp-default.c) and user
 * profiles.  Semantics follow Docker (profiles/seccomp) for the profile
 * level — archMap, includes/excludes against the container's capabilities,
 * the native architecture (as Go's GOARCH names it) and the running kernel —
 * and runc for the rule level — EPERM when an errno action has no errnoRet,
 * rules equal to the default action skipped, several conditions on the same
 * argument turned into one rule each, unknown syscall names skipped.
 *
 * Every entry is validated, including entries that do not apply to this
 * container, so a profile is either good or rejected whatever the caps. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <jansson.h>
#include <seccomp.h>

#include "berth/caps.h"
#include "berth/seccomp.h"
#include "berth/util.h"

#define PFX "seccomp profile: "

/* libseccomp's architecture names (SCMP_ARCH_<NAME> upper-cased) and the Go
 * GOARCH Docker matches "arches" of includes/excludes against. */
static const struct {
        const char *scmp;
        const char *goarch;
} arch_table[] = {
        { "x86", "386" },          { "x86_64", "amd64" },       { "x32", "x32" },
        { "arm", "arm" },          { "aarch64", "arm64" },      { "mips", "mips" },
        { "mipsel", "mipsle" },    { "mips64", "mips64" },      { "mipsel64", "mips64le" },
        { "mips64n32", "mips64n32" }, { "mipsel64n32", "mips64len32" }, { "ppc", "ppc" },
        { "ppc64", "ppc64" },      { "ppc64le", "ppc64le" },    { "s390", "s390" },
        { "s390x", "s390x" },      { "parisc", "parisc" },      { "parisc64", "parisc64" },
        { "riscv64", "riscv64" },  { "loongarch64", "loong64" },
};

struct build {
        scmp_filter_ctx ctx;
        uint32_t def_act;
        uint64_t caps;
        char native_scmp[32]; /* "SCMP_ARCH_X86_64" */
        const char *goarch;   /* "amd64" */
        int kmajor, kminor;
};

static void build_init_host(struct build *b)
{
        uint32_t native = seccomp_arch_native();
        b->goarch = "";
        b->native_scmp[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++) {
                if (seccomp_arch_resolve_name(arch_table[i].scmp) != native)
                        continue;
                int n = snprintf(b->native_scmp, sizeof(b->native_scmp), "SCMP_ARCH_%s", arch_table[i].scmp);
                for (int k = 0; k < n && b->native_scmp[k]; k++)
                        b->native_scmp[k] = (char)toupper((unsigned char)b->native_scmp[k]);
                b->goarch = arch_table[i].goarch;
                break;
        }
        struct utsname u;
        b->kmajor = b->kminor = 0;
        if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &b->kmajor, &b->kminor) != 2)
                b->kmajor = b->kminor = 0;
}

/* "SCMP_ARCH_X86_64" → libseccomp token, 0 when unknown. */
static uint32_t arch_resolve(const char *name)
{
        if (!startswith(name, "SCMP_ARCH_") || strlen(name) > 40)
                return 0;
        char low[48];
        size_t i = 0;
        for (const char *p = name + strlen("SCMP_ARCH_"); *p; p++)
                low[i++] = (char)tolower((unsigned char)*p);
        low[i] = '\0';
        return seccomp_arch_resolve_name(low);
}

static int parse_errno(json_t *j, const char *key, bool *set, uint32_t *val, berth_error_t *err)
{
        *set = false;
        if (!j || json_is_null(j))
                return 0;
        if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 4095)
                return berth_error(err, 0, PFX "\"%s\" must be an errno number (0-4095)", key);
        *set = true;
        *val = (uint32_t)json_integer_value(j);
        return 0;
}

/* Action name (+ optional errnoRet) → libseccomp action, as runc converts them. */
static int parse_action(const char *name, json_t *errno_json, const char *errno_key, uint32_t *act,
                        berth_error_t *err)
{
        bool has_errno;
        uint32_t e = 0;
        if (parse_errno(errno_json, errno_key, &has_errno, &e, err) < 0)
                return -1;
        bool takes_errno = false;
        if (streq(name, "SCMP_ACT_ERRNO")) {
                *act = SCMP_ACT_ERRNO(has_errno ? e : EPERM);
                takes_errno = true;
        } else if (streq(name, "SCMP_ACT_TRACE")) {
                *act = SCMP_ACT_TRACE(has_errno ? e : EPERM);
                takes_errno = true;
        } else if (streq(name, "SCMP_ACT_ALLOW"))
                *act = SCMP_ACT_ALLOW;
        else if (streq(name, "SCMP_ACT_KILL") || streq(name, "SCMP_ACT_KILL_THREAD"))
                *act = SCMP_ACT_KILL_THREAD;
        else if (streq(name, "SCMP_ACT_KILL_PROCESS"))
                *act = SCMP_ACT_KILL_PROCESS;
        else if (streq(name, "SCMP_ACT_TRAP"))
                *act = SCMP_ACT_TRAP;
        else if (streq(name, "SCMP_ACT_LOG"))
                *act = SCMP_ACT_LOG;
        else if (streq(name, "SCMP_ACT_NOTIFY"))
                return berth_error(err, 0, PFX "action \"SCMP_ACT_NOTIFY\" is not supported (no seccomp agent)");
        else
                return berth_error(err, 0, PFX "unknown action \"%s\"", name);
        if (has_errno && !takes_errno)
                return berth_error(err, 0, PFX "\"%s\" is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE (action is \"%s\")",
                                   errno_key, name);
        return 0;
}

static int parse_op(const char *name, enum scmp_compare *op, berth_error_t *err)
{
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {
                { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
                { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
                { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
        };
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                if (streq(ops[i].name, name)) {
                        *op = ops[i].op;
                        return 0;
                }
        return berth_error(err, 0, PFX "unknown operator \"%s\"", name);
}

/* "4.8" → 4, 8. */
static int parse_kernel_version(json_t *j, const char *where, int *major, int *minor, berth_error_t *err)
{
        const char *s = json_is_string(j) ? json_string_value(j) : NULL;
        int used = 0;
        if (!s || sscanf(s, "%d.%d%n", major, minor, &used) != 2 || s[used] != '\0' || *major < 0 || *minor < 0)
                return berth_error(err, 0, PFX "%s: \"minKernel\" must be \"MAJOR.MINOR\"", where);
        return 0;
}

static int check_string_array(json_t *a, const char *where, const char *key, berth_error_t *err)
{
        if (!a || json_is_null(a))
                return 0;
        size_t i;
        json_t *v;
        if (!json_is_array(a))
                return berth_error(err, 0, PFX "%s: \"%s\" must be an array of strings", where, key);
        json_array_foreach(a, i, v)
                if (!json_is_string(v))
                        return berth_error(err, 0, PFX "%s: \"%s\" must be an array of strings", where, key);
        return 0;
}

static bool array_has(json_t *a, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
                if (streq(json_string_value(v), s))
                        return true;
        return false;
}

static bool has_cap(const struct build *b, const char *name)
{
        int c;
        return cap_from_name_docker(name, &c) == 0 && (b->caps & CAPS_BIT(c));
}

/* Docker's includes/excludes: does this entry apply to this container? */
static int entry_applies(const struct build *b, json_t *call, const char *where, bool *applies, berth_error_t *err)
{
        *applies = true;
        static const char *const keys[] = { "excludes", "includes" };
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                bool exclude = k == 0;
                json_t *f = json_object_get(call, keys[k]);
                if (!f || json_is_null(f))
                        continue;
                if (!json_is_object(f))
                        return berth_error(err, 0, PFX "%s: \"%s\" must be an object", where, keys[k]);
                json_t *arches = json_object_get(f, "arches");
                json_t *caps = json_object_get(f, "caps");
                json_t *mink = json_object_get(f, "minKernel");
                if (check_string_array(arches, where, "arches", err) < 0 ||
                    check_string_array(caps, where, "caps", err) < 0)
                        return -1;

                if (json_is_array(arches) && json_array_size(arches) > 0) {
                        bool here = array_has(arches, b->goarch);
                        if (exclude ? here : !here)
                                *applies = false;
                }
                if (json_is_array(caps)) {
                        size_t i;
                        json_t *v;
                        json_array_foreach(caps, i, v) {
                                bool held = has_cap(b, json_string_value(v));
                                if (exclude ? held : !held) /* excludes: any held; includes: all held */
                                        *applies = false;
                        }
                }
                if (mink && !json_is_null(mink)) {
                        int maj, min;
                        if (parse_kernel_version(mink, where, &maj, &min, err) < 0)
                                return -1;
                        bool newer = b->kmajor > maj || (b->kmajor == maj && b->kminor >= min);
                        if (exclude ? newer : !newer)
                                *applies = false;
                }
        }
        return 0;
}

/* args[] → comparisons; *same_index when two conditions test one argument. */
static int parse_args(json_t *args, const char *where, struct scmp_arg_cmp **out, unsigned *n, bool *same_index,
                      berth_error_t *err)
{
        *out = NULL;
        *n = 0;
        *same_index = false;
        if (!args || json_is_null(args))
                return 0;
        if (!json_is_array(args))
                return berth_error(err, 0, PFX "%s: \"args\" must be an array", where);
        size_t count = json_array_size(args);
        if (count == 0)
                return 0;
        cleanup_free struct scmp_arg_cmp *cmps = xcalloc(count, sizeof(*cmps));
        unsigned seen = 0;
        size_t i;
        json_t *a;
        json_array_foreach(args, i, a) {
                if (!json_is_object(a))
                        return berth_error(err, 0, PFX "%s: each of \"args\" must be an object", where);
                json_t *index = json_object_get(a, "index");
                json_t *value = json_object_get(a, "value");
                json_t *value2 = json_object_get(a, "valueTwo");
                json_t *op = json_object_get(a, "op");
                if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 5)
                        return berth_error(err, 0, PFX "%s: argument \"index\" must be 0 to 5", where);
                if ((value && !json_is_null(value) && !json_is_integer(value)) ||
                    (value2 && !json_is_null(value2) && !json_is_integer(value2)))
                        return berth_error(err, 0, PFX "%s: argument \"value\"/\"valueTwo\" must be integers", where);
                if (!json_is_string(op))
                        return berth_error(err, 0, PFX "%s: argument \"op\" must be a string", where);
                if (parse_op(json_string_value(op), &cmps[i].op, err) < 0)
                        return -1;
                unsigned idx = (unsigned)json_integer_value(index);
                cmps[i].arg = idx;
                /* Docker's value is a uint64: JSON integers are read as int64 and reinterpreted. */
                cmps[i].datum_a = (scmp_datum_t)json_integer_value(value);
                cmps[i].datum_b = (scmp_datum_t)json_integer_value(value2);
                if (seen & (1u << idx))
                        *same_index = true;
                seen |= 1u << idx;
        }
        *out = steal_pointer(&cmps);
        *n = (unsigned)count;
        return 0;
}

static int add_rules(struct build *b, const char *name, uint32_t act, const struct scmp_arg_cmp *cmps, unsigned n,
                     bool same_index)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0; /* unknown to libseccomp: skipped, as Docker does */
        if (act == b->def_act)
                return 0; /* libseccomp refuses rules equal to the default; they change nothing */
        if (!same_index)
                return seccomp_rule_add_array(b->ctx, act, nr, n, cmps);
        /* libseccomp cannot hold two conditions on one argument in a rule:
         * runc adds each condition as its own rule (so they OR). */
        for (unsigned i = 0; i < n; i++) {
                int r = seccomp_rule_add_array(b->ctx, act, nr, 1, &cmps[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_arch(struct build *b, const char *name, berth_error_t *err)
{
        uint32_t a = arch_resolve(name);
        if (a == 0)
                return berth_error(err, 0, PFX "unknown architecture \"%s\"", name);
        int r = seccomp_arch_add(b->ctx, a);
        if (r < 0 && r != -EEXIST)
                return berth_error(err, -r, PFX "cannot add architecture \"%s\"", name);
        return 0;
}

static int setup_arches(struct build *b, json_t *root, berth_error_t *err)
{
        json_t *list = json_object_get(root, "architectures");
        json_t *map = json_object_get(root, "archMap");
        if (check_string_array(list, "top level", "architectures", err) < 0)
                return -1;
        if (map && !json_is_null(map) && !json_is_array(map))
                return berth_error(err, 0, PFX "\"archMap\" must be an array");
        if (json_array_size(list) > 0 && json_array_size(map) > 0)
                return berth_error(err, 0, PFX "use either \"architectures\" or \"archMap\", not both");

        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
                if (add_arch(b, json_string_value(v), err) < 0)
                        return -1;

        json_array_foreach(map, i, v) {
                json_t *arch = json_object_get(v, "architecture");
                json_t *subs = json_object_get(v, "subArchitectures");
                if (!json_is_object(v) || !json_is_string(arch))
                        return berth_error(err, 0, PFX "each \"archMap\" entry needs an \"architecture\"");
                if (check_string_array(subs, json_string_value(arch), "subArchitectures", err) < 0)
                        return -1;
                /* Only the entry of the machine we run on matters (Docker). */
                if (!streq(json_string_value(arch), b->native_scmp))
                        continue;
                if (add_arch(b, json_string_value(arch), err) < 0)
                        return -1;
                size_t k;
                json_t *s;
                json_array_foreach(subs, k, s)
                        if (add_arch(b, json_string_value(s), err) < 0)
                                return -1;
        }
        return 0;
}

static int setup_flags(struct build *b, json_t *root, berth_error_t *err)
{
        json_t *flags = json_object_get(root, "flags");
        if (check_string_array(flags, "top level", "flags", err) < 0)
                return -1;
        size_t i;
        json_t *v;
        json_array_foreach(flags, i, v) {
                const char *f = json_string_value(v);
                enum scmp_filter_attr attr;
                if (streq(f, "SECCOMP_FILTER_FLAG_TSYNC"))
                        attr = SCMP_FLTATR_CTL_TSYNC;
                else if (streq(f, "SECCOMP_FILTER_FLAG_LOG"))
                        attr = SCMP_FLTATR_CTL_LOG;
                else if (streq(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        attr = SCMP_FLTATR_CTL_SSB;
                else
                        return berth_error(err, 0, PFX "unsupported flag \"%s\"", f);
                int r = seccomp_attr_set(b->ctx, attr, 1);
                if (r < 0)
                        return berth_error(err, -r, PFX "flag \"%s\" is not supported here", f);
        }
        return 0;
}

static int add_syscall_entry(struct build *b, json_t *call, size_t index, berth_error_t *err)
{
        char where[32];
        snprintf(where, sizeof(where), "syscalls[%zu]", index);
        if (!json_is_object(call))
                return berth_error(err, 0, PFX "%s must be an object", where);

        json_t *names = json_object_get(call, "names");
        json_t *name = json_object_get(call, "name");
        if (check_string_array(names, where, "names", err) < 0)
                return -1;
        if (name && !json_is_null(name) && !json_is_string(name))
                return berth_error(err, 0, PFX "%s: \"name\" must be a string", where);
        bool have_names = json_array_size(names) > 0, have_name = json_is_string(name);
        if (have_names && have_name)
                return berth_error(err, 0, PFX "%s: use either \"name\" or \"names\", not both", where);
        if (!have_names && !have_name)
                return berth_error(err, 0, PFX "%s: no syscall \"names\"", where);

        json_t *action = json_object_get(call, "action");
        if (!json_is_string(action))
                return berth_error(err, 0, PFX "%s: missing \"action\"", where);
        uint32_t act;
        if (parse_action(json_string_value(action), json_object_get(call, "errnoRet"), "errnoRet", &act, err) < 0)
                return -1;

        cleanup_free struct scmp_arg_cmp *cmps = NULL;
        unsigned ncmp;
        bool same_index;
        if (parse_args(json_object_get(call, "args"), where, &cmps, &ncmp, &same_index, err) < 0)
                return -1;

        bool applies;
        if (entry_applies(b, call, where, &applies, err) < 0)
                return -1;
        if (!applies)
                return 0;

        size_t i;
        json_t *v;
        if (have_name) {
                int r = add_rules(b, json_string_value(name), act, cmps, ncmp, same_index);
                if (r < 0)
                        return berth_error(err, -r, PFX "cannot add rule for \"%s\"", json_string_value(name));
        }
        json_array_foreach(names, i, v) {
                int r = add_rules(b, json_string_value(v), act, cmps, ncmp, same_index);
                if (r < 0)
                        return berth_error(err, -r, PFX "cannot add rule for \"%s\"", json_string_value(v));
        }
        return 0;
}

int seccomp_build(const char *profile, uint64_t caps_mask, scmp_filter_ctx *out, berth_error_t *err)
{
        *out = NULL;
        if (profile && streq(profile, "unconfined"))
                return 0;

        json_error_t jerr;
        json_auto_t *root = json_loads(profile ? profile : seccomp_default_profile_json, 0, &jerr);
        if (!root)
                return berth_error(err, 0, PFX "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                                   jerr.text);
        if (!json_is_object(root))
                return berth_error(err, 0, PFX "not a JSON object");

        struct build b = { .caps = caps_mask };
        build_init_host(&b);

        json_t *def = json_object_get(root, "defaultAction");
        if (!json_is_string(def))
                return berth_error(err, 0, PFX "missing \"defaultAction\"");
        if (parse_action(json_string_value(def), json_object_get(root, "defaultErrnoRet"), "defaultErrnoRet",
                         &b.def_act, err) < 0)
                return -1;

        /* Probe the kernel's seccomp API now, in the parent, so the child's
         * seccomp_load() has nothing left to discover. */
        (void)seccomp_api_get();

        cleanup_seccomp scmp_filter_ctx ctx = seccomp_init(b.def_act);
        if (!ctx)
                return berth_error(err, ENOMEM, "seccomp_init");
        b.ctx = ctx;
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return berth_error(err, -r, "seccomp: clear the no_new_privs attribute");
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1); /* real errnos from seccomp_load */

        if (setup_arches(&b, root, err) < 0 || setup_flags(&b, root, err) < 0)
                return -1;

        json_t *calls = json_object_get(root, "syscalls");
        if (calls && !json_is_null(calls) && !json_is_array(calls))
                return berth_error(err, 0, PFX "\"syscalls\" must be an array");
        size_t i;
        json_t *call;
        json_array_foreach(calls, i, call)
                if (add_syscall_entry(&b, call, i, err) < 0)
                        return -1;

        *out = steal_pointer(&ctx);
        return 0;
}


/* ---- compiled programs, cached ---------------------------------------------------
 * libseccomp regenerates a ~1000-instruction program on every seccomp_load();
 * on the container start path that is the largest single cost.  The shim asks
 * for the program once per (profile, capabilities, architecture), keeps it in
 * a cache file, and the container's process loads it with one seccomp(2). */
struct cached_prog_header {
        uint32_t magic;
        uint32_t flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};
#define SECCOMP_CACHE_MAGIC 0x62657331u /* "bes1" */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static int program_from_file(const char *path, struct seccomp_program *out)
{
        cleanup_free char *data = NULL;
        size_t len;
        if (read_file(path, &data, &len, NULL) < 0)
                return -1;
        struct cached_prog_header h;
        if (len < sizeof(h) || (len - sizeof(h)) % sizeof(struct sock_filter) != 0 ||
            (len - sizeof(h)) / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -1;
        memcpy(&h, data, sizeof(h));
        if (h.magic != SECCOMP_CACHE_MAGIC)
                return -1;
        size_t n = (len - sizeof(h)) / sizeof(struct sock_filter);
        out->filter = xmalloc(n * sizeof(struct sock_filter));
        memcpy(out->filter, data + sizeof(h), n * sizeof(struct sock_filter));
        out->len = n;
        out->flags = h.flags;
        return 0;
}

int seccomp_program(const char *profile, uint64_t caps_mask, const char *cache_dir, struct seccomp_program *out,
                    berth_error_t *err)
{
        *out = (struct seccomp_program) {};
        if (profile && streq(profile, "unconfined"))
                return 0;
        const char *text = profile ? profile : seccomp_default_profile_json;
        const struct scmp_version *v = seccomp_version();
        uint64_t h = 0xcbf29ce484222325ULL;
        h = fnv1a(h, text, strlen(text));
        h = fnv1a(h, &caps_mask, sizeof(caps_mask));
        uint32_t arch = seccomp_arch_native();
        h = fnv1a(h, &arch, sizeof(arch));
        if (v)
                h = fnv1a(h, v, sizeof(*v));
        cleanup_free char *path = xasprintf("%s/%016llx.bpf", cache_dir, (unsigned long long) h);
        if (program_from_file(path, out) == 0)
                return 0;

        cleanup_seccomp scmp_filter_ctx ctx = NULL;
        if (seccomp_build(profile, caps_mask, &ctx, err) < 0)
                return -1;
        if (mkdir_p(cache_dir, 0700, err) < 0)
                return -1;
        cleanup_free char *tmp = xasprintf("%s.%d.tmp", path, (int) getpid());
        cleanup_close int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error(err, errno, "create `%s`", tmp);
        struct cached_prog_header hdr = { .magic = SECCOMP_CACHE_MAGIC };
        uint32_t on = 0;
        if (seccomp_attr_get(ctx, SCMP_FLTATR_CTL_TSYNC, &on) == 0 && on)
                hdr.flags |= SECCOMP_FILTER_FLAG_TSYNC;
        if (seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &on) == 0 && on)
                hdr.flags |= SECCOMP_FILTER_FLAG_LOG;
        if (seccomp_attr_get(ctx, SCMP_FLTATR_CTL_SSB, &on) == 0 && on)
                hdr.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        int r = write_all(fd, &hdr, sizeof(hdr));
        if (r == 0)
                r = seccomp_export_bpf(ctx, fd);
        if (r < 0) {
                unlink(tmp);
                return berth_error(err, -r, "export the seccomp program");
        }
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return berth_error(err, e, "rename `%s`", tmp);
        }
        if (program_from_file(path, out) < 0)
                return berth_error(err, 0, "read back the seccomp program `%s`", path);
        return 0;
}

int seccomp_load_program(const struct seccomp_program *p, berth_error_t *err)
{
        if (!p->filter)
                return 0;
        struct sock_fprog prog = { .len = p->len, .filter = p->filter };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog) < 0) {
                if (errno == EACCES)
                        return berth_error(err, EACCES, "load seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)");
                return berth_error(err, errno, "load seccomp filter");
        }
        return 0;
}

void seccomp_program_free(struct seccomp_program *p)
{
        free(p->filter);
        *p = (struct seccomp_program) {};
}
