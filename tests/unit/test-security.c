/* Unit tests: capabilities (Docker's add/drop arithmetic, application in a
 * child) and seccomp (profile parser, Docker's default profile, behaviour of
 * loaded filters).  What a child applies is what the runtime applies
 * (src/runtime/runtime.c finish_and_exec): caps_prepare_bounding(), the uid/gid
 * change, caps_finish(), and the compiled program from seccomp_program()'s
 * cache loaded with seccomp_load_program().  Tests that change process state
 * fork their own child, so they also hold with CK_FORK=no (valgrind).  Tests
 * that need root are left out without it, and the binary then exits 77
 * (automake's SKIP), not 0. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "berth/caps.h"
#include "berth/seccomp.h"
#include "berth/util.h"
#include "check-main.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

#define NOBODY 65534

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t kernel_all_caps(void)
{
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        int last = CAP_LAST_CAP;
        if (f) {
                if (fscanf(f, "%d", &last) != 1)
                        last = CAP_LAST_CAP;
                fclose(f);
        }
        return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

/* Value of "Key:\t..." in a /proc/PID/status text. */
static bool status_field(const char *text, const char *key, int base, uint64_t *val)
{
        cleanup_free char *pat = xasprintf("\n%s:", key);
        const char *p = strstr(text, pat);
        if (!p)
                return false;
        *val = strtoull(p + strlen(pat), NULL, base);
        return true;
}

static char *read_self_status(void)
{
        char *text = NULL;
        if (read_file("/proc/self/status", &text, NULL, NULL) < 0)
                return NULL;
        return text;
}

/* In a child: fail with a distinct exit code and a line on stderr. */
#define CHILD_CHECK(cond, code)                                                                        \
        do {                                                                                           \
                if (!(cond)) {                                                                         \
                        fprintf(stderr, "child check %d failed: %s (errno %d: %s)\n", (code), #cond, errno, \
                                strerror(errno));                                                      \
                        _exit(code);                                                                   \
                }                                                                                      \
        } while (0)

typedef void (*child_fn)(void *arg);

/* Run fn in a forked child (fn ends with _exit); returns the raw wait status. */
static int run_child(child_fn fn, void *arg)
{
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                fn(arg);
                _exit(0);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        return st;
}

#define ck_assert_child_ok(st)                                                                             \
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed: %s %d",                        \
                      WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st))

/* Run setup in a forked child, then exec cat /proc/self/status; returns what
 * the exec'd program printed (the capability state *after* execve). */
static char *status_after_exec(child_fn setup, void *arg)
{
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(p[0]);
                setup(arg); /* returns on success */
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(98);
                execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
                _exit(99);
        }
        close(p[1]);
        size_t len = 0, cap = 4096;
        char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1024 > cap)
                        buf = xrealloc(buf, cap *= 2);
                ssize_t n = read(p[0], buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        close(p[0]);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_child_ok(st);
        return buf;
}

/* Valgrind answers syscalls it does not know (clone3, kexec_load, seccomp)
 * with ENOSYS itself, without asking the kernel or its filter. */
static bool under_valgrind(void)
{
        const char *p = getenv("LD_PRELOAD");
        return p && strstr(p, "vgpreload");
}

/* The sequence of finish_and_exec() in src/runtime/runtime.c without NNP and
 * seccomp: bounding set, groups/gid/uid, then the capability sets. */
static int drop_to(uid_t uid, gid_t gid, uint64_t mask)
{
        if (caps_prepare_bounding(mask, NULL) < 0 || setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
                return -1;
        return caps_finish(mask, NULL);
}

/* ---- caps_compute ----------------------------------------------------------------- */

static const uint64_t docker_defaults =
        CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_DAC_OVERRIDE) | CAPS_BIT(CAP_FSETID) | CAPS_BIT(CAP_FOWNER) |
        CAPS_BIT(CAP_MKNOD) | CAPS_BIT(CAP_NET_RAW) | CAPS_BIT(CAP_SETGID) | CAPS_BIT(CAP_SETUID) |
        CAPS_BIT(CAP_SETFCAP) | CAPS_BIT(CAP_SETPCAP) | CAPS_BIT(CAP_NET_BIND_SERVICE) |
        CAPS_BIT(CAP_SYS_CHROOT) | CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_AUDIT_WRITE);

START_TEST(test_caps_default)
{
        uint64_t m = 0;
        ck_assert_int_eq(caps_compute(NULL, NULL, false, &m, NULL), 0);
        ck_assert_uint_eq(m, docker_defaults);
        ck_assert_uint_eq(caps_default_mask(), docker_defaults);
        ck_assert_int_eq(__builtin_popcountll(m), 14);
        char *empty[] = { NULL };
        ck_assert_int_eq(caps_compute(empty, empty, false, &m, NULL), 0);
        ck_assert_uint_eq(m, docker_defaults);
}
END_TEST

START_TEST(test_caps_add_net_admin)
{
        char *add[] = { "NET_ADMIN", NULL };
        uint64_t m = 0;
        ck_assert_int_eq(caps_compute(add, NULL, false, &m, NULL), 0);
        ck_assert_uint_eq(m, docker_defaults | CAPS_BIT(CAP_NET_ADMIN));
}
END_TEST

START_TEST(test_caps_case_insensitive)
{
        char *add[] = { "net_admin", "cap_sys_ptrace", "Cap_Sys_Time", NULL };
        char *drop[] = { "chown", "CAP_KILL", "Net_Raw", NULL };
        uint64_t m = 0;
        ck_assert_int_eq(caps_compute(add, drop, false, &m, NULL), 0);
        uint64_t want = (docker_defaults & ~(CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_NET_RAW))) |
                        CAPS_BIT(CAP_NET_ADMIN) | CAPS_BIT(CAP_SYS_PTRACE) | CAPS_BIT(CAP_SYS_TIME);
        ck_assert_uint_eq(m, want);
}
END_TEST

START_TEST(test_caps_drop_all_add_chown)
{
        char *add[] = { "CHOWN", NULL };
        char *drop[] = { "ALL", NULL };
        uint64_t m = 0;
        ck_assert_int_eq(caps_compute(add, drop, false, &m, NULL), 0);
        ck_assert_uint_eq(m, CAPS_BIT(CAP_CHOWN));
        char *drop_lower[] = { "all", NULL };
        ck_assert_int_eq(caps_compute(NULL, drop_lower, false, &m, NULL), 0);
        ck_assert_uint_eq(m, 0);
}
END_TEST

START_TEST(test_caps_add_all_drop_some)
{
        char *add[] = { "ALL", NULL };
        char *drop[] = { "NET_RAW", "sys_admin", NULL };
        uint64_t m = 0;
        ck_assert_int_eq(caps_compute(add, drop, false, &m, NULL), 0);
        ck_assert_uint_eq(m, kernel_all_caps() & ~(CAPS_BIT(CAP_NET_RAW) | CAPS_BIT(CAP_SYS_ADMIN)));
        /* add ALL wins over drop ALL, as in Docker */
        char *drop_all[] = { "ALL", NULL };
        ck_assert_int_eq(caps_compute(add, drop_all, false, &m, NULL), 0);
        ck_assert_uint_eq(m, kernel_all_caps());
}
END_TEST

START_TEST(test_caps_privileged)
{
        char *bogus[] = { "NOT_A_CAP", NULL };
        uint64_t m = 0;
        /* privileged ignores add/drop entirely (Docker returns before validating) */
        ck_assert_int_eq(caps_compute(bogus, bogus, true, &m, NULL), 0);
        ck_assert_uint_eq(m, kernel_all_caps());
        ck_assert_uint_eq(caps_all_mask(), kernel_all_caps());
        ck_assert(m & CAPS_BIT(CAP_SYS_ADMIN));
}
END_TEST

START_TEST(test_caps_unknown)
{
        cleanup_error berth_error_t e = NULL;
        char *add[] = { "CHOWN", "foo", NULL };
        uint64_t m = 42;
        ck_assert_int_lt(caps_compute(add, NULL, false, &m, &e), 0);
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->msg, "unknown capability: \"CAP_FOO\"");
        berth_error_free(&e);

        char *drop[] = { "cap_bar", NULL };
        ck_assert_int_lt(caps_compute(NULL, drop, false, &m, &e), 0);
        ck_assert_str_eq(e->msg, "unknown capability: \"CAP_BAR\"");
        berth_error_free(&e);

        /* "ALL" is special only without the prefix, as in Docker */
        char *capall[] = { "CAP_ALL", NULL };
        ck_assert_int_lt(caps_compute(capall, NULL, false, &m, &e), 0);
        ck_assert_str_eq(e->msg, "unknown capability: \"CAP_ALL\"");
}
END_TEST

START_TEST(test_cap_from_name)
{
        int c = -1;
        ck_assert_int_eq(cap_from_name_docker("sys_admin", &c), 0);
        ck_assert_int_eq(c, CAP_SYS_ADMIN);
        ck_assert_int_eq(cap_from_name_docker("CAP_NET_BIND_SERVICE", &c), 0);
        ck_assert_int_eq(c, CAP_NET_BIND_SERVICE);
        ck_assert_int_eq(cap_from_name_docker("cHoWn", &c), 0);
        ck_assert_int_eq(c, CAP_CHOWN);
        ck_assert_int_lt(cap_from_name_docker("ALL", &c), 0);
        ck_assert_int_lt(cap_from_name_docker("", &c), 0);
        ck_assert_int_lt(cap_from_name_docker("12", &c), 0);
}
END_TEST

START_TEST(test_caps_names)
{
        cleanup_strv char **v = NULL;
        ck_assert_int_eq(caps_names(CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_SYS_ADMIN), &v), 3);
        ck_assert_str_eq(v[0], "CAP_CHOWN");
        ck_assert_str_eq(v[1], "CAP_KILL");
        ck_assert_str_eq(v[2], "CAP_SYS_ADMIN");
        ck_assert_ptr_null(v[3]);
        strv_free(v);
        v = NULL;
        ck_assert_int_eq(caps_names(0, &v), 0);
        ck_assert_ptr_null(v[0]);
        strv_free(v);
        v = NULL;
        ck_assert_int_eq(caps_names(docker_defaults, &v), 14);
        ck_assert(strv_contains(v, "CAP_AUDIT_WRITE"));
        ck_assert(strv_contains(v, "CAP_NET_BIND_SERVICE"));
}
END_TEST

/* ---- caps application -------------------------------------------------------------- */

static void child_caps_root(void *arg)
{
        uint64_t mask = *(uint64_t *)arg;
        CHILD_CHECK(drop_to(0, 0, mask) == 0, 1);
        char *st = read_self_status();
        CHILD_CHECK(st != NULL, 2);
        uint64_t bnd = 1, eff = 1, prm = 1, inh = 1, amb = 1;
        CHILD_CHECK(status_field(st, "CapBnd", 16, &bnd) && bnd == mask, 3);
        CHILD_CHECK(status_field(st, "CapEff", 16, &eff) && eff == mask, 4);
        CHILD_CHECK(status_field(st, "CapPrm", 16, &prm) && prm == mask, 5);
        CHILD_CHECK(status_field(st, "CapInh", 16, &inh) && inh == 0, 6);
        CHILD_CHECK(status_field(st, "CapAmb", 16, &amb) && amb == 0, 7);
        /* a capability outside the mask really is gone: CAP_SYS_ADMIN */
        CHILD_CHECK(sethostname("x", 1) < 0 && errno == EPERM, 8);
        free(st);
        _exit(0);
}

START_TEST(test_caps_root)
{
        uint64_t mask = docker_defaults;
        ck_assert_child_ok(run_child(child_caps_root, &mask));
}
END_TEST

static void setup_caps_root(void *arg)
{
        CHILD_CHECK(drop_to(0, 0, *(uint64_t *)arg) == 0, 10);
}

START_TEST(test_caps_root_after_exec)
{
        uint64_t mask = docker_defaults | CAPS_BIT(CAP_NET_ADMIN);
        cleanup_free char *st = status_after_exec(setup_caps_root, &mask);
        uint64_t v = 1;
        ck_assert(status_field(st, "CapBnd", 16, &v));
        ck_assert_uint_eq(v, mask);
        ck_assert(status_field(st, "CapEff", 16, &v));
        ck_assert_uint_eq(v, mask);
        ck_assert(status_field(st, "CapPrm", 16, &v));
        ck_assert_uint_eq(v, mask);
        ck_assert(status_field(st, "CapInh", 16, &v));
        ck_assert_uint_eq(v, 0);
}
END_TEST

/* The documented order for a non-root user, minus seccomp. */
static void setup_caps_nobody(void *arg)
{
        uint64_t mask = *(uint64_t *)arg;
        CHILD_CHECK(drop_to(NOBODY, NOBODY, mask) == 0, 20);
        char *st = read_self_status();
        uint64_t v = 1;
        /* before exec, as runc leaves it: P = E = mask thanks to KEEPCAPS */
        CHILD_CHECK(st && status_field(st, "CapPrm", 16, &v) && v == mask, 25);
        CHILD_CHECK(status_field(st, "CapEff", 16, &v) && v == mask, 26);
        CHILD_CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0, 27);
        free(st);
}

START_TEST(test_caps_nonroot_after_exec)
{
        uint64_t mask = docker_defaults;
        cleanup_free char *st = status_after_exec(setup_caps_nobody, &mask);
        uint64_t v = 1;
        ck_assert(status_field(st, "Uid", 10, &v));
        ck_assert_uint_eq(v, NOBODY);
        ck_assert(status_field(st, "CapBnd", 16, &v));
        ck_assert_uint_eq(v, mask);
        ck_assert(status_field(st, "CapEff", 16, &v));
        ck_assert_uint_eq(v, 0);
        ck_assert(status_field(st, "CapPrm", 16, &v));
        ck_assert_uint_eq(v, 0);
        ck_assert(status_field(st, "CapInh", 16, &v));
        ck_assert_uint_eq(v, 0);
}
END_TEST

/* ---- seccomp: parser ----------------------------------------------------------------- */

static const char *mkdir_profile =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";

/* Build must fail with exactly this message. */
static void assert_build_error(const char *profile, const char *msg)
{
        cleanup_error berth_error_t e = NULL;
        scmp_filter_ctx ctx = (scmp_filter_ctx)1;
        ck_assert_int_lt(seccomp_build(profile, caps_default_mask(), &ctx, &e), 0);
        ck_assert_ptr_null(ctx);
        ck_assert_ptr_nonnull(e);
        ck_assert_msg(strstr(e->msg, msg) != NULL, "got \"%s\", want \"%s\"", e->msg, msg);
}

static void assert_build_ok(const char *profile)
{
        cleanup_error berth_error_t e = NULL;
        cleanup_seccomp scmp_filter_ctx ctx = NULL;
        int r = seccomp_build(profile, caps_default_mask(), &ctx, &e);
        ck_assert_msg(r == 0, "build failed: %s", e ? e->msg : "?");
        ck_assert_ptr_nonnull(ctx);
}

/* The filter as libseccomp's PFC text, for looking at which rules exist. */
static char *filter_pfc(const char *profile, uint64_t caps)
{
        cleanup_error berth_error_t e = NULL;
        cleanup_seccomp scmp_filter_ctx ctx = NULL;
        ck_assert_msg(seccomp_build(profile, caps, &ctx, &e) == 0, "build: %s", e ? e->msg : "?");
        FILE *f = tmpfile();
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(seccomp_export_pfc(ctx, fileno(f)), 0);
        long n = lseek(fileno(f), 0, SEEK_END);
        ck_assert_int_gt(n, 0);
        char *text = xmalloc((size_t)n + 1);
        ck_assert_int_eq(pread(fileno(f), text, (size_t)n, 0), n);
        text[n] = '\0';
        fclose(f);
        return text;
}

static bool pfc_has_syscall(const char *pfc, const char *name)
{
        cleanup_free char *pat = xasprintf("syscall \"%s\"", name);
        return strstr(pfc, pat) != NULL;
}

START_TEST(test_seccomp_unconfined)
{
        scmp_filter_ctx ctx = (scmp_filter_ctx)1;
        ck_assert_int_eq(seccomp_build("unconfined", caps_default_mask(), &ctx, NULL), 0);
        ck_assert_ptr_null(ctx);
        /* the runtime's path: an empty program, and loading it does nothing */
        struct seccomp_program p = { .len = 1 };
        ck_assert_int_eq(seccomp_program("unconfined", caps_default_mask(), "/nonexistent/cache", &p, NULL), 0);
        ck_assert_ptr_null(p.filter);
        ck_assert_uint_eq(p.len, 0);
        ck_assert_int_eq(seccomp_load_program(&p, NULL), 0);
        seccomp_program_free(&p);
}
END_TEST

START_TEST(test_seccomp_default_profile_parses)
{
        assert_build_ok(NULL);
        assert_build_ok(seccomp_default_profile_json); /* the same text, given explicitly */

        cleanup_free char *pfc = filter_pfc(NULL, caps_default_mask());
        ck_assert(pfc_has_syscall(pfc, "read"));
        ck_assert(pfc_has_syscall(pfc, "getpid"));
        ck_assert(pfc_has_syscall(pfc, "socket"));
        ck_assert(pfc_has_syscall(pfc, "personality"));
        ck_assert(pfc_has_syscall(pfc, "clone"));
        ck_assert(pfc_has_syscall(pfc, "clone3"));    /* the ENOSYS rule */
        ck_assert(pfc_has_syscall(pfc, "chroot"));    /* CAP_SYS_CHROOT is a default cap */
        ck_assert(pfc_has_syscall(pfc, "ptrace"));    /* minKernel 4.8 */
        ck_assert(!pfc_has_syscall(pfc, "mount"));    /* needs CAP_SYS_ADMIN */
        ck_assert(!pfc_has_syscall(pfc, "unshare"));
        ck_assert(!pfc_has_syscall(pfc, "reboot"));   /* needs CAP_SYS_BOOT */
        ck_assert(!pfc_has_syscall(pfc, "init_module"));
        ck_assert(!pfc_has_syscall(pfc, "settimeofday"));
        ck_assert(!pfc_has_syscall(pfc, "kexec_load")); /* never */
#if defined(__x86_64__)
        ck_assert(pfc_has_syscall(pfc, "arch_prctl"));
        ck_assert(!pfc_has_syscall(pfc, "s390_runtime_instr"));
        /* archMap: native + x86 + x32 */
        ck_assert_msg(strstr(pfc, "x86_64") && strstr(pfc, "arch x86 ") && strstr(pfc, "arch x32 "),
                      "missing architectures in:\n%.400s", pfc);
#endif

        uint64_t admin = caps_default_mask() | CAPS_BIT(CAP_SYS_ADMIN) | CAPS_BIT(CAP_SYS_BOOT) |
                         CAPS_BIT(CAP_SYS_MODULE) | CAPS_BIT(CAP_SYS_TIME);
        cleanup_free char *pfc2 = filter_pfc(NULL, admin);
        ck_assert(pfc_has_syscall(pfc2, "mount"));
        ck_assert(pfc_has_syscall(pfc2, "unshare"));
        ck_assert(pfc_has_syscall(pfc2, "setns"));
        ck_assert(pfc_has_syscall(pfc2, "reboot"));
        ck_assert(pfc_has_syscall(pfc2, "init_module"));
        ck_assert(pfc_has_syscall(pfc2, "settimeofday"));
        ck_assert(!pfc_has_syscall(pfc2, "kexec_load"));

        uint64_t no_chroot = caps_default_mask() & ~CAPS_BIT(CAP_SYS_CHROOT);
        cleanup_free char *pfc3 = filter_pfc(NULL, no_chroot);
        ck_assert(!pfc_has_syscall(pfc3, "chroot"));
}
END_TEST

START_TEST(test_seccomp_custom_profiles_parse)
{
        assert_build_ok(mkdir_profile);
        /* legacy "name", unknown syscall names skipped, args with every op */
        assert_build_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":\"mkdir\","
                        "\"action\":\"SCMP_ACT_ERRNO\"}]}");
        assert_build_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"no_such_call\",\"mkdir\"],"
                        "\"action\":\"SCMP_ACT_KILL\"}]}");
        assert_build_ok("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                        "\"syscalls\":[{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["
                        "{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_NE\"},"
                        "{\"index\":2,\"value\":5,\"op\":\"SCMP_CMP_LT\"}]},"
                        "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":9,\"op\":\"SCMP_CMP_LE\"}]},"
                        "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_GE\"},"
                        "{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_GT\"}]},"
                        "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":5,\"args\":[{\"index\":0,"
                        "\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
                        "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_TRAP\",\"includes\":{\"minKernel\":\"3.0\"}},"
                        "{\"names\":[\"exit\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
        /* SCMP_ACT_LOG needs libseccomp API level 3, flags level 4 (kernel support) */
        if (seccomp_api_get() >= 3)
                assert_build_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                                "\"action\":\"SCMP_ACT_LOG\"},{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}");
        if (seccomp_api_get() >= 4)
                assert_build_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                "\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\",\"SECCOMP_FILTER_FLAG_LOG\"]}");
        /* an empty profile object with only the default */
        assert_build_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
}
END_TEST

START_TEST(test_seccomp_bad_profiles)
{
        assert_build_error("{\"defaultAction\":", "seccomp profile: invalid JSON at line 1");
        assert_build_error("[1,2]", "seccomp profile: not a JSON object");
        assert_build_error("{\"syscalls\":[]}", "seccomp profile: missing \"defaultAction\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_FOO\"}", "seccomp profile: unknown action \"SCMP_ACT_FOO\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                           "\"action\":\"SCMP_ACT_FOO\"}]}",
                           "seccomp profile: unknown action \"SCMP_ACT_FOO\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                           "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]}",
                           "seccomp profile: unknown operator \"SCMP_CMP_FOO\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                           "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                           "seccomp profile: syscalls[0]: argument \"index\" must be 0 to 5");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                           "\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1}]}",
                           "\"errnoRet\" is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"]}]}",
                           "seccomp profile: syscalls[0]: missing \"action\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}",
                           "seccomp profile: syscalls[0]: no syscall \"names\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":\"a\",\"names\":[\"b\"],"
                           "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                           "use either \"name\" or \"names\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
                           "seccomp profile: unknown architecture \"SCMP_ARCH_VAX\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\"],"
                           "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
                           "use either \"architectures\" or \"archMap\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                           "\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"minKernel\":\"four\"}}]}",
                           "\"minKernel\" must be \"MAJOR.MINOR\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
                           "\"defaultErrnoRet\" must be an errno number");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
                           "seccomp profile: unsupported flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
                           "seccomp profile: \"syscalls\" must be an array");
        /* an entry that does not apply to this container is still validated */
        assert_build_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],"
                           "\"action\":\"SCMP_ACT_BOGUS\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}",
                           "seccomp profile: unknown action \"SCMP_ACT_BOGUS\"");
}
END_TEST

/* ---- seccomp: behaviour ----------------------------------------------------------------- */

struct filter_arg {
        struct seccomp_program prog;
        const char *dir;
};

/* The program the runtime loads: seccomp_program() compiles it into a fresh
 * cache directory, then a second call must read that file back and give the
 * same instructions (the shim's case: the cache already has it). */
static void program_for(const char *profile, uint64_t caps, struct seccomp_program *out)
{
        char cache[] = "/tmp/berth-sec-cache-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(cache));
        cleanup_error berth_error_t e = NULL;
        struct seccomp_program first;
        ck_assert_msg(seccomp_program(profile, caps, cache, &first, &e) == 0, "compile: %s", e ? e->msg : "?");
        ck_assert_msg(seccomp_program(profile, caps, cache, out, &e) == 0, "from the cache: %s", e ? e->msg : "?");
        size_t files = 0;
        cleanup_dir DIR *d = opendir(cache);
        ck_assert_ptr_nonnull(d);
        for (struct dirent *de; (de = readdir(d));)
                files += de->d_name[0] != '.';
        ck_assert_uint_eq(files, 1);
        ck_assert_uint_gt(first.len, 0);
        ck_assert_uint_eq(out->len, first.len);
        ck_assert_uint_eq(out->flags, first.flags);
        ck_assert(memcmp(out->filter, first.filter, first.len * sizeof(*first.filter)) == 0);
        seccomp_program_free(&first);
        ck_assert_int_eq(rm_rf(cache, NULL), 0);
}

static void child_default_profile(void *arg)
{
        struct filter_arg *a = arg;
        CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, 1);
        CHILD_CHECK(seccomp_load_program(&a->prog, NULL) == 0, 2);

        CHILD_CHECK(syscall(SYS_getpid) == getpid() && getpid() > 0, 3);
        errno = 0;
        CHILD_CHECK(unshare(CLONE_NEWUSER) < 0 && errno == EPERM, 4);
        errno = 0;
        CHILD_CHECK(unshare(CLONE_NEWUTS) < 0 && errno == EPERM, 5);
        errno = 0;
        CHILD_CHECK(syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS, 6);
        errno = 0;
        CHILD_CHECK(socket(AF_VSOCK, SOCK_STREAM, 0) < 0 && errno == EPERM, 7);
        errno = 0;
        CHILD_CHECK(socket(AF_ALG, SOCK_SEQPACKET, 0) < 0 && errno == EPERM, 8);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        CHILD_CHECK(s >= 0, 9);
        close(s);
        CHILD_CHECK(personality(0xffffffff) >= 0, 10);
        errno = 0;
        CHILD_CHECK(personality(PER_BSD) < 0 && errno == EPERM, 11);
        errno = 0;
        CHILD_CHECK(mount("none", a->dir, "tmpfs", 0, NULL) < 0 && errno == EPERM, 12);
        errno = 0;
        CHILD_CHECK(syscall(SYS_init_module, NULL, 0, "") < 0 && errno == EPERM, 13);
        /* plain fork (clone without namespace flags) works */
        pid_t pid = fork();
        CHILD_CHECK(pid >= 0, 15);
        if (pid == 0)
                _exit(7);
        int st;
        CHILD_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7, 16);
        _exit(0);
}

START_TEST(test_seccomp_default_behaviour)
{
        struct filter_arg a = {};
        program_for(NULL, caps_default_mask(), &a.prog);
        char dir[] = "/tmp/berth-sec-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        a.dir = dir;
        int st = run_child(child_default_profile, &a);
        rmdir(dir);
        seccomp_program_free(&a.prog);
        ck_assert_child_ok(st);
}
END_TEST

static void child_admin_profile(void *arg)
{
        struct filter_arg *a = arg;
        CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, 1);
        CHILD_CHECK(seccomp_load_program(&a->prog, NULL) == 0, 2);
        /* with CAP_SYS_ADMIN in the container's set the gated calls pass the filter */
        CHILD_CHECK(unshare(CLONE_NEWUTS) == 0, 3);
        errno = 0;
        CHILD_CHECK(syscall(SYS_clone3, NULL, 0) < 0 && (errno != ENOSYS || under_valgrind()) && errno != EPERM, 4);
        _exit(0);
}

START_TEST(test_seccomp_default_with_sys_admin)
{
        struct filter_arg a = {};
        program_for(NULL, caps_default_mask() | CAPS_BIT(CAP_SYS_ADMIN), &a.prog);
        int st = run_child(child_admin_profile, &a);
        seccomp_program_free(&a.prog);
        ck_assert_child_ok(st);
}
END_TEST

static void child_mkdir_profile(void *arg)
{
        struct filter_arg *a = arg;
        CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, 1);
        CHILD_CHECK(seccomp_load_program(&a->prog, NULL) == 0, 2);
        char sub[PATH_MAX], file[PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/sub", a->dir);
        snprintf(file, sizeof(file), "%s/file", a->dir);
        errno = 0;
        CHILD_CHECK(mkdir(sub, 0755) < 0 && errno == EACCES, 3);
        errno = 0;
        CHILD_CHECK(mkdirat(AT_FDCWD, sub, 0755) < 0 && errno == EACCES, 4);
        CHILD_CHECK(getpid() > 0, 5);
        /* everything else is allowed: create a file */
        int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        CHILD_CHECK(fd >= 0, 6);
        close(fd);
        CHILD_CHECK(unlink(file) == 0, 7);
        _exit(0);
}

START_TEST(test_seccomp_custom_mkdir)
{
        struct filter_arg a = {};
        program_for(mkdir_profile, caps_default_mask(), &a.prog);
        char dir[] = "/tmp/berth-sec-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        a.dir = dir;
        int st = run_child(child_mkdir_profile, &a);
        seccomp_program_free(&a.prog);
        struct stat sb;
        cleanup_free char *sub = xasprintf("%s/sub", dir);
        bool created = stat(sub, &sb) == 0;
        rmdir(sub);
        rmdir(dir);
        ck_assert_child_ok(st);
        ck_assert(!created);
}
END_TEST

/* Why the order matters: without NNP and after dropping CAP_SYS_ADMIN the
 * kernel refuses the filter; loaded first, it survives the cap drop. */
static void child_late_without_nnp(void *arg)
{
        struct filter_arg *a = arg;
        CHILD_CHECK(drop_to(0, 0, caps_default_mask()) == 0, 1);
        berth_error_t e = NULL;
        CHILD_CHECK(seccomp_load_program(&a->prog, &e) < 0, 2);
        CHILD_CHECK(e && e->errnum == EACCES, 3);
        berth_error_free(&e);
        _exit(0);
}

START_TEST(test_seccomp_needs_nnp_or_admin)
{
        struct filter_arg a = {};
        program_for(NULL, caps_default_mask(), &a.prog);
        int st = run_child(child_late_without_nnp, &a);
        seccomp_program_free(&a.prog);
        ck_assert_child_ok(st);
}
END_TEST

/* The full documented sequence for a non-root container user, no NNP. */
static void setup_runc_order(void *arg)
{
        struct filter_arg *a = arg;
        uint64_t mask = caps_default_mask();
        CHILD_CHECK(seccomp_load_program(&a->prog, NULL) == 0, 30);
        CHILD_CHECK(drop_to(NOBODY, NOBODY, mask) == 0, 31);
        errno = 0;
        CHILD_CHECK(unshare(CLONE_NEWUSER) < 0 && errno == EPERM, 36);
}

START_TEST(test_full_order_nonroot)
{
        struct filter_arg a = {};
        program_for(NULL, caps_default_mask(), &a.prog);
        cleanup_free char *st = status_after_exec(setup_runc_order, &a);
        seccomp_program_free(&a.prog);
        uint64_t v = 1;
        ck_assert(status_field(st, "Seccomp", 10, &v));
        ck_assert_uint_eq(v, 2); /* SECCOMP_MODE_FILTER */
        ck_assert(status_field(st, "NoNewPrivs", 10, &v));
        ck_assert_uint_eq(v, 0);
        ck_assert(status_field(st, "Uid", 10, &v));
        ck_assert_uint_eq(v, NOBODY);
        ck_assert(status_field(st, "CapBnd", 16, &v));
        ck_assert_uint_eq(v, caps_default_mask());
        ck_assert(status_field(st, "CapEff", 16, &v));
        ck_assert_uint_eq(v, 0);
}
END_TEST

static Suite *security_suite(void)
{
        Suite *s = suite_create("security");
        TCase *caps = tcase_create("caps");
        tcase_add_test(caps, test_caps_default);
        tcase_add_test(caps, test_caps_add_net_admin);
        tcase_add_test(caps, test_caps_case_insensitive);
        tcase_add_test(caps, test_caps_drop_all_add_chown);
        tcase_add_test(caps, test_caps_add_all_drop_some);
        tcase_add_test(caps, test_caps_privileged);
        tcase_add_test(caps, test_caps_unknown);
        tcase_add_test(caps, test_cap_from_name);
        tcase_add_test(caps, test_caps_names);
        suite_add_tcase(s, caps);

        TCase *sc = tcase_create("seccomp");
        tcase_set_timeout(sc, 60);
        tcase_add_test(sc, test_seccomp_unconfined);
        tcase_add_test(sc, test_seccomp_default_profile_parses);
        tcase_add_test(sc, test_seccomp_custom_profiles_parse);
        tcase_add_test(sc, test_seccomp_bad_profiles);
        tcase_add_test(sc, test_seccomp_default_behaviour);
        tcase_add_test(sc, test_seccomp_custom_mkdir);
        suite_add_tcase(s, sc);

        /* changing uid, the bounding set or loading a filter without NNP */
        if (!berth_check_need_root("tcase root (capabilities and uid changes, seccomp without no_new_privs)"))
                return s;
        TCase *root = tcase_create("root");
        tcase_set_timeout(root, 60);
        tcase_add_test(root, test_caps_root);
        tcase_add_test(root, test_caps_root_after_exec);
        tcase_add_test(root, test_caps_nonroot_after_exec);
        tcase_add_test(root, test_seccomp_default_with_sys_admin);
        tcase_add_test(root, test_seccomp_needs_nnp_or_admin);
        tcase_add_test(root, test_full_order_nonroot);
        suite_add_tcase(s, root);
        return s;
}

BERTH_CHECK_MAIN(security_suite)
