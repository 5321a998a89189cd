/* Unit tests: value parsers (parse.h), the limits table and its systemd
 * properties (limits.h), --format templates (template.h) and the journal
 * field set (journal.h), and the path, read and escape helpers of util.h.
 * Runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "berth/devices.h"
#include "berth/journal.h"
#include "berth/limits.h"
#include "berth/parse.h"
#include "berth/template.h"
#include "berth/util.h"
#include "check-main.h"

#define NS 1000000000LL

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t size_ok(const char *s)
{
        uint64_t v = 0;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(parse_size(s, &v, &err) == 0, "parse_size(%s): %s", s, err ? err->msg : "");
        return v;
}

/* The error message of a failing call, for comparison. */
#define ERRMSG(call)                                                      \
        ({                                                                \
                berth_error_t err = NULL;                                 \
                ck_assert_int_lt((call), 0);                              \
                ck_assert_ptr_nonnull(err);                               \
                char *_m = xstrdup(err->msg);                             \
                berth_error_free(&err);                                   \
                _m;                                                       \
        })

static long long dur_ok(const char *s)
{
        long long v = 0;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(parse_duration(s, &v, &err) == 0, "parse_duration(%s): %s", s, err ? err->msg : "");
        return v;
}

static long long ts_ok(const char *s, long long now)
{
        long long v = 0;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(parse_timestamp(s, now, &v, &err) == 0, "parse_timestamp(%s): %s", s, err ? err->msg : "");
        return v;
}

static int sig_ok(const char *s)
{
        int v = 0;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(parse_signal(s, &v, &err) == 0, "parse_signal(%s): %s", s, err ? err->msg : "");
        return v;
}

/* ---- parse_size --------------------------------------------------------------- */

START_TEST(test_size)
{
        ck_assert_uint_eq(size_ok("512m"), 536870912ULL);
        ck_assert_uint_eq(size_ok("512M"), 536870912ULL);
        ck_assert_uint_eq(size_ok("1g"), 1073741824ULL);
        ck_assert_uint_eq(size_ok("1GB"), 1073741824ULL);
        ck_assert_uint_eq(size_ok("1gib"), 1073741824ULL);
        ck_assert_uint_eq(size_ok("100k"), 102400ULL);
        ck_assert_uint_eq(size_ok("100kb"), 102400ULL);
        ck_assert_uint_eq(size_ok("1KiB"), 1024ULL);
        ck_assert_uint_eq(size_ok("1024"), 1024ULL);
        ck_assert_uint_eq(size_ok("10b"), 10ULL);
        ck_assert_uint_eq(size_ok("1.5g"), 1610612736ULL);
        ck_assert_uint_eq(size_ok("0.5k"), 512ULL);
        ck_assert_uint_eq(size_ok("1.5"), 1ULL);
        ck_assert_uint_eq(size_ok("2 MB"), 2097152ULL);
        ck_assert_uint_eq(size_ok("1t"), 1099511627776ULL);
        ck_assert_uint_eq(size_ok("1p"), 1125899906842624ULL);
        ck_assert_uint_eq(size_ok("0"), 0ULL);

        uint64_t v;
        cleanup_free char *m = ERRMSG(parse_size("12q", &v, &err));
        ck_assert_str_eq(m, "invalid size: '12q'");
        const char *bad[] = { "", "-1", "m", "1.2.3m", "1e3", "1mm", "1  ", "1kib2", "1ki", ".5m", "9999999p", " 1" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(parse_size(bad[i], &v, &err) < 0, "'%s' should be invalid", bad[i]);
                ck_assert_ptr_nonnull(strstr(err->msg, "invalid size"));
        }
}
END_TEST

/* ---- durations ---------------------------------------------------------------- */

START_TEST(test_duration)
{
        ck_assert_int_eq(dur_ok("10s"), 10 * NS);
        ck_assert_int_eq(dur_ok("1m30s"), 90 * NS);
        ck_assert_int_eq(dur_ok("2h"), 7200 * NS);
        ck_assert_int_eq(dur_ok("500ms"), 500000000LL);
        ck_assert_int_eq(dur_ok("1.5h"), 5400 * NS);
        ck_assert_int_eq(dur_ok("1h2m3s4ms5us6ns"), 3723004005006LL);
        ck_assert_int_eq(dur_ok("1\xc2\xb5s"), 1000);
        ck_assert_int_eq(dur_ok("-1.5s"), -1500000000LL);
        ck_assert_int_eq(dur_ok(".5s"), 500000000LL);
        ck_assert_int_eq(dur_ok("0"), 0);
        /* plain integers are seconds, as `stop -t` */
        ck_assert_int_eq(dur_ok("10"), 10 * NS);
        ck_assert_int_eq(dur_ok("-1"), -NS);

        long long v;
        const char *bad[] = { "", "s", "1q", "1.s.", "10 s", "abc", "1h-", "+", "9999999999h", "1e3s" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(parse_duration(bad[i], &v, &err) < 0, "'%s' should be invalid", bad[i]);
                ck_assert_ptr_nonnull(strstr(err->msg, bad[i]));
        }
        /* Go's own parser wants a unit */
        cleanup_free char *m = ERRMSG(parse_go_duration("10", &v, &err));
        ck_assert_ptr_nonnull(strstr(m, "invalid duration: '10'"));

        /* Go's Duration.String(), as Docker prints a health check's timeout */
        static const struct { long long ns; const char *text; } fmt[] = {
                { 0, "0s" }, { 30 * NS, "30s" }, { 60 * NS, "1m0s" }, { 90 * NS, "1m30s" },
                { 3723 * NS + 500000000LL, "1h2m3.5s" }, { 500000000LL, "500ms" }, { 1500, "1.5\xc2\xb5s" },
                { 999, "999ns" }, { -2 * NS, "-2s" }, { 1000000001LL, "1.000000001s" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(fmt); i++) {
                cleanup_free char *t = format_go_duration(fmt[i].ns);
                ck_assert_str_eq(t, fmt[i].text);
                /* and Go's parser reads it back */
                ck_assert_int_eq(dur_ok(t), fmt[i].ns);
        }
}
END_TEST

/* ---- timestamps --------------------------------------------------------------- */

START_TEST(test_timestamp)
{
        const long long now = 1700000000LL * NS; /* 2023-11-14T22:13:20Z */
        setenv("TZ", "UTC", 1);
        tzset();
        ck_assert_int_eq(ts_ok("10m", now), now - 600 * NS);
        ck_assert_int_eq(ts_ok("1h30m", now), now - 5400 * NS);
        ck_assert_int_eq(ts_ok("-5s", now), now + 5 * NS);
        ck_assert_int_eq(ts_ok("2023-11-14T22:13:20Z", now), 1700000000LL * NS);
        ck_assert_int_eq(ts_ok("2023-11-14T22:13:20.5Z", now), 1700000000LL * NS + 500000000);
        ck_assert_int_eq(ts_ok("2023-11-14T22:13:20.123456789Z", now), 1700000000LL * NS + 123456789);
        ck_assert_int_eq(ts_ok("2023-11-14T23:13:20+01:00", now), 1700000000LL * NS);
        ck_assert_int_eq(ts_ok("2023-11-14T17:13:20.25-05:00", now), 1700000000LL * NS + 250000000);
        ck_assert_int_eq(ts_ok("2023-11-14T22:13:20", now), 1700000000LL * NS);
        ck_assert_int_eq(ts_ok("2023-11-14T22:13", now), 1699999980LL * NS);
        ck_assert_int_eq(ts_ok("2023-11-14T22", now), 1699999200LL * NS);
        ck_assert_int_eq(ts_ok("2023-11-14", now), 1699920000LL * NS);
        ck_assert_int_eq(ts_ok("1970-01-01", now), 0);
        ck_assert_int_eq(ts_ok("2024-02-29T00:00:00Z", now), 1709164800LL * NS);
        ck_assert_int_eq(ts_ok("1700000000", now), 1700000000LL * NS);
        ck_assert_int_eq(ts_ok("1700000000.5", now), 1700000000LL * NS + 500000000);
        ck_assert_int_eq(ts_ok("1700000000.000000001", now), 1700000000LL * NS + 1);
        ck_assert_int_eq(ts_ok("0", now), 0);

        /* Without a zone: the local offset in effect now (Docker's FixedZone). */
        setenv("TZ", "EST5", 1);
        tzset();
        ck_assert_int_eq(ts_ok("2023-11-14T17:13:20", now), 1700000000LL * NS);
        ck_assert_int_eq(ts_ok("2023-11-14T22:13:20Z", now), 1700000000LL * NS);
        setenv("TZ", "UTC", 1);
        tzset();

        long long v;
        const char *bad[] = { "yesterday", "2023-13-01", "2023-02-30", "2023-11-14T25:00:00Z", "2023-11-14T22:13:20+1",
                              "2023-11-14 22:13:20", "17000.00.1", "", "1700000000.", "2023-11-14T22:13:60Z",
                              /* beyond the nanoseconds of a long long (found by fuzzing) */
                              "0006-01-02T15:04:02.999+02:00", "9999-12-31T00:00:00Z" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(parse_timestamp(bad[i], now, &v, &err) < 0, "'%s' should be invalid", bad[i]);
                ck_assert_ptr_nonnull(strstr(err->msg, "failed to parse value as time or duration"));
        }
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(parse_timestamp("-2562047h", now, &v, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "out of range"));
}
END_TEST

/* ---- signals ------------------------------------------------------------------ */

START_TEST(test_signal)
{
        ck_assert_int_eq(sig_ok("TERM"), SIGTERM);
        ck_assert_int_eq(sig_ok("SIGTERM"), SIGTERM);
        ck_assert_int_eq(sig_ok("sigkill"), SIGKILL);
        ck_assert_int_eq(sig_ok("kill"), SIGKILL);
        ck_assert_int_eq(sig_ok("9"), 9);
        ck_assert_int_eq(sig_ok("HUP"), SIGHUP);
        ck_assert_int_eq(sig_ok("SIGUSR1"), SIGUSR1);
        ck_assert_int_eq(sig_ok("SIGWINCH"), SIGWINCH);
        ck_assert_int_eq(sig_ok("SIGRTMIN"), 34);
        ck_assert_int_eq(sig_ok("SIGRTMIN+3"), 37);
        ck_assert_int_eq(sig_ok("rtmax-2"), 62);
        ck_assert_int_eq(sig_ok("RTMAX"), 64);
        ck_assert_int_eq(sig_ok("64"), 64);
        ck_assert_int_eq(sig_ok("SIGCHLD"), SIGCHLD);
        ck_assert_int_eq(sig_ok("SIGIO"), SIGIO);
        ck_assert_int_eq(sig_ok("SIGABRT"), SIGABRT);
        ck_assert_int_eq(sig_ok("SIGRTMAX-2"), 62);

        int s;
        cleanup_free char *m = ERRMSG(parse_signal("FOO", &s, &err));
        ck_assert_str_eq(m, "invalid signal: 'FOO'");
        const char *bad[] = { "0", "65", "-9", "", "SIG", "SIGRTMIN+31", "RTMIN-1", "RTMIN+", "TERM2", "9x" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(parse_signal(bad[i], &s, &err) < 0, "'%s' should be invalid", bad[i]);
        }
}
END_TEST

/* ---- restart policies --------------------------------------------------------- */

START_TEST(test_restart_policy)
{
        struct {
                const char *in, *policy;
                unsigned retries;
        } ok[] = {
                { "no", "no", 0 },           { "", "no", 0 },
                { "always", "always", 0 },   { "unless-stopped", "unless-stopped", 0 },
                { "on-failure", "on-failure", 0 }, { "on-failure:5", "on-failure", 5 },
                { "on-failure:0", "on-failure", 0 }, { "always:0", "always", 0 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                cleanup_free char *p = NULL;
                unsigned n = 99;
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(parse_restart_policy(ok[i].in, &p, &n, &err) == 0, "%s: %s", ok[i].in,
                              err ? err->msg : "");
                ck_assert_str_eq(p, ok[i].policy);
                ck_assert_uint_eq(n, ok[i].retries);
        }
        struct {
                const char *in, *msg;
        } bad[] = {
                { "sometimes", "use one of 'no', 'always', 'on-failure', or 'unless-stopped'" },
                { "always:3", "maximum retry count can only be used with 'on-failure'" },
                { "on-failure:x", "maximum retry count must be an integer" },
                { "on-failure:-1", "maximum retry count cannot be negative" },
                { ":3", "no policy before the colon" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char *p = NULL;
                unsigned n;
                cleanup_free char *m = ERRMSG(parse_restart_policy(bad[i].in, &p, &n, &err));
                ck_assert_ptr_null(p);
                ck_assert_msg(strstr(m, bad[i].msg) && strstr(m, bad[i].in), "%s: %s", bad[i].in, m);
        }
}
END_TEST

/* ---- env files ---------------------------------------------------------------- */

static char *write_temp(const char *data, size_t len)
{
        char *path = xstrdup("/tmp/berth-test-env-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write_all(fd, data, len), 0);
        close(fd);
        return path;
}

START_TEST(test_env_file)
{
        setenv("BERTH_TEST_SET", "from env", 1);
        unsetenv("BERTH_TEST_UNSET");
        static const char data[] = "\xef\xbb\xbf# a comment\n"
                                   "\n"
                                   "   \t\n"
                                   "FOO=bar baz \n"
                                   "  INDENTED=1\n"
                                   "EMPTY=\n"
                                   "WITH=eq=ual\n"
                                   "BERTH_TEST_SET\n"
                                   "BERTH_TEST_UNSET\n"
                                   "CRLF=yes\r\n"
                                   "QUOTED=\"kept\"\n"
                                   "  # indented comment\n"
                                   "UTF8=h\xc3\xa9llo\n"
                                   "LAST=no newline";
        cleanup_free char *path = write_temp(data, sizeof(data) - 1);
        cleanup_strv char **env = NULL;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(parse_env_file(path, &env, &e), 0);
        const char *want[] = { "FOO=bar baz ", "INDENTED=1", "EMPTY=", "WITH=eq=ual", "BERTH_TEST_SET=from env",
                               "CRLF=yes", "QUOTED=\"kept\"", "UTF8=h\xc3\xa9llo", "LAST=no newline" };
        ck_assert_uint_eq(strv_length(env), ARRAY_SIZE(want));
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                ck_assert_str_eq(env[i], want[i]);
        unlink(path);

        struct {
                const char *data, *msg;
        } bad[] = {
                { "OK=1\nBAD KEY=1\n", "variable 'BAD KEY' contains whitespaces" },
                { "=value\n", "no variable name" },
                { "A=1\nB=\xff\xfe\n", "invalid utf8 bytes at line 2" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *p = write_temp(bad[i].data, strlen(bad[i].data));
                char **ev = NULL;
                cleanup_free char *m = ERRMSG(parse_env_file(p, &ev, &err));
                ck_assert_ptr_null(ev);
                ck_assert_msg(strstr(m, bad[i].msg) != NULL, "%s", m);
                unlink(p);
        }
        char **ev = NULL;
        cleanup_free char *m = ERRMSG(parse_env_file("/nonexistent/env", &ev, &err));
        ck_assert_ptr_nonnull(strstr(m, "/nonexistent/env"));
}
END_TEST

/* ---- CPUs and cpusets --------------------------------------------------------- */

START_TEST(test_cpus_cpuset)
{
        uint64_t n;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(parse_nano_cpus("1.5", &n, &e), 0);
        ck_assert_uint_eq(n, 1500000000ULL);
        ck_assert_int_eq(parse_nano_cpus("2", &n, &e), 0);
        ck_assert_uint_eq(n, 2000000000ULL);
        ck_assert_int_eq(parse_nano_cpus("0.000000001", &n, &e), 0);
        ck_assert_uint_eq(n, 1ULL);
        ck_assert_int_eq(parse_nano_cpus(".25", &n, &e), 0);
        ck_assert_uint_eq(n, 250000000ULL);
        cleanup_free char *m = ERRMSG(parse_nano_cpus("0.0000000001", &n, &err));
        ck_assert_ptr_nonnull(strstr(m, "too precise"));
        cleanup_free char *m2 = ERRMSG(parse_nano_cpus("abc", &n, &err));
        ck_assert_str_eq(m2, "invalid number of CPUs: 'abc'");

        struct {
                const char *in, *canon;
                unsigned char bytes[3];
                size_t len;
        } sets[] = {
                { "0-1,3", "0-1,3", { 0x0b }, 1 },
                { "0", "0", { 0x01 }, 1 },
                { "8", "8", { 0x00, 0x01 }, 2 },
                { "0-3,2,7-9", "0-3,7-9", { 0x8f, 0x03 }, 2 },
                { "1,0", "0-1", { 0x03 }, 1 },
                { "16-17", "16-17", { 0, 0, 0x03 }, 3 },
        };
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                cleanup_free unsigned char *mask = NULL;
                size_t len = 0;
                ck_assert_int_eq(parse_cpuset(sets[i].in, &mask, &len, &e), 0);
                ck_assert_uint_eq(len, sets[i].len);
                ck_assert_mem_eq(mask, sets[i].bytes, len);
                cleanup_free char *c = format_cpuset(mask, len);
                ck_assert_str_eq(c, sets[i].canon);
        }
        const char *bad[] = { "", "3-1", "0,,1", "a", "1-", "-1", "0 1", "8192", "0-99999" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                unsigned char *mask = NULL;
                size_t len;
                cleanup_free char *msg = ERRMSG(parse_cpuset(bad[i], &mask, &len, &err));
                ck_assert_ptr_null(mask);
                ck_assert_msg(strstr(msg, "cpuset") != NULL, "%s", msg);
        }
}
END_TEST

/* ---- limits table ------------------------------------------------------------- */

START_TEST(test_limits_table)
{
        ck_assert_uint_eq(limit_defs_count, _LIMIT_MAX);
        for (size_t i = 0; i < limit_defs_count; i++) {
                ck_assert_int_eq(limit_defs[i].id, (int) i);
                ck_assert_ptr_eq(limit_by_flag(limit_defs[i].flag), &limit_defs[i]);
                if (limit_defs[i].key)
                        ck_assert_ptr_eq(limit_by_key(limit_defs[i].key), &limit_defs[i]);
                ck_assert_ptr_nonnull(limit_defs[i].property);
                ck_assert_ptr_nonnull(limit_defs[i].help);
        }
        ck_assert_int_eq(limit_by_flag("m")->id, LIMIT_MEMORY);
        ck_assert_int_eq(limit_by_flag("-m")->id, LIMIT_MEMORY);
        ck_assert_int_eq(limit_by_flag("--cpus")->id, LIMIT_CPUS);
        ck_assert_ptr_null(limit_by_flag("memoryx"));
        ck_assert_ptr_null(limit_by_flag("M"));
        ck_assert_ptr_null(limit_by_flag(NULL));
        ck_assert_int_eq(limit_by_key("Memory")->id, LIMIT_MEMORY);
        ck_assert_int_eq(limit_by_key("CPUs")->id, LIMIT_CPUS);
        ck_assert_int_eq(limit_by_key("PidsLimit")->id, LIMIT_PIDS_LIMIT);
        ck_assert_ptr_null(limit_by_key("memory"));
        ck_assert_ptr_null(limit_by_key("Restart")); /* [Service] Restart= passes through */
        ck_assert_str_eq(limit_by_key("CPUs")->unit_key, "CPUQuota");
}
END_TEST

/* Parse flag=value pairs into props; returns limits_to_props' result. */
static int props_of(struct unit_props *p, berth_error_t *err, ...)
{
        struct limits l = { 0 };
        va_list ap;
        va_start(ap, err);
        const char *flag;
        int r = 0;
        while (r == 0 && (flag = va_arg(ap, const char *))) {
                const char *value = va_arg(ap, const char *);
                r = limits_set(&l, limit_by_flag(flag), value, err);
        }
        va_end(ap);
        if (r == 0)
                r = limits_to_props(&l, p, err);
        limits_free(&l);
        return r;
}

static const struct unit_prop *find(const struct unit_props *p, const char *name)
{
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->v[i].name, name))
                        return &p->v[i];
        ck_abort_msg("no property %s", name);
        return NULL;
}

START_TEST(test_limits_values)
{
        struct unit_props p = { 0 };
        cleanup_error berth_error_t err = NULL;

        ck_assert_int_eq(props_of(&p, &err, "m", "512m", NULL), 0);
        ck_assert_uint_eq(p.n, 2);
        ck_assert_int_eq(find(&p, "MemoryMax")->type, 't');
        ck_assert_uint_eq(find(&p, "MemoryMax")->u, 536870912ULL);
        /* Docker: without --memory-swap, swap may be as large as memory */
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, 536870912ULL);
        cleanup_free char *t1 = unit_props_to_text(&p, "Service");
        ck_assert_str_eq(t1, "MemoryMax=536870912\nMemorySwapMax=536870912\n");
        unit_props_free(&p);

        ck_assert_int_eq(props_of(&p, &err, "cpus", "1.5", NULL), 0);
        ck_assert_uint_eq(p.n, 1);
        ck_assert_str_eq(p.v[0].name, "CPUQuotaPerSecUSec");
        ck_assert_uint_eq(p.v[0].u, 1500000ULL);
        cleanup_free char *t2 = unit_props_to_text(&p, NULL);
        ck_assert_str_eq(t2, "CPUQuota=150%\n");
        unit_props_free(&p);

        ck_assert_int_eq(props_of(&p, &err, "cpus", "0.015", NULL), 0);
        ck_assert_uint_eq(p.v[0].u, 15000ULL);
        ck_assert_str_eq(p.v[0].unit_values[0], "1.5%");
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "cpus", "0.25", NULL), 0);
        ck_assert_str_eq(p.v[0].unit_values[0], "25%");
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "cpus", "0.0125", NULL), 0);
        ck_assert_str_eq(p.v[0].unit_values[0], "1.25%");
        unit_props_free(&p);

        /* podman/crun: 1 + ((shares - 2) * 9999) / 262142 */
        struct {
                const char *shares;
                uint64_t weight;
        } w[] = { { "1024", 39 }, { "2", 1 }, { "262144", 10000 }, { "512", 20 }, { "1", 1 }, { "999999", 10000 } };
        for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
                ck_assert_int_eq(props_of(&p, &err, "cpu-shares", w[i].shares, NULL), 0);
                ck_assert_str_eq(find(&p, "CPUWeight")->unit_key, "CPUWeight");
                ck_assert_uint_eq(find(&p, "CPUWeight")->u, w[i].weight);
                unit_props_free(&p);
        }

        ck_assert_int_eq(props_of(&p, &err, "cpuset-cpus", "0-1,3", NULL), 0);
        ck_assert_int_eq(find(&p, "AllowedCPUs")->type, 'y');
        ck_assert_uint_eq(find(&p, "AllowedCPUs")->nbytes, 1);
        ck_assert_uint_eq(find(&p, "AllowedCPUs")->bytes[0], 0x0b);
        cleanup_free char *t3 = unit_props_to_text(&p, "Service");
        ck_assert_str_eq(t3, "AllowedCPUs=0-1,3\n");
        unit_props_free(&p);

        ck_assert_int_eq(props_of(&p, &err, "pids-limit", "100", NULL), 0);
        ck_assert_uint_eq(find(&p, "TasksMax")->u, 100);
        cleanup_free char *t4 = unit_props_to_text(&p, "Service");
        ck_assert_str_eq(t4, "TasksMax=100\n");
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "pids-limit", "-1", NULL), 0);
        ck_assert_uint_eq(find(&p, "TasksMax")->u, UINT64_MAX);
        ck_assert_str_eq(find(&p, "TasksMax")->unit_values[0], "infinity");
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "pids-limit", "0", NULL), 0);
        ck_assert_uint_eq(find(&p, "TasksMax")->u, UINT64_MAX);
        unit_props_free(&p);

        /* runc: IOWeight = 1 + (blkio - 10) * 9999 / 990 */
        ck_assert_int_eq(props_of(&p, &err, "blkio-weight", "500", NULL), 0);
        ck_assert_uint_eq(find(&p, "IOWeight")->u, 4950);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "blkio-weight", "10", NULL), 0);
        ck_assert_uint_eq(find(&p, "IOWeight")->u, 1);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "blkio-weight", "1000", NULL), 0);
        ck_assert_uint_eq(find(&p, "IOWeight")->u, 10000);
        unit_props_free(&p);

        ck_assert_int_eq(props_of(&p, &err, "device-read-bps", "/dev/sda:1mb", "device-write-bps", "/dev/sdb:10k",
                                  "device-read-bps", "/dev/sdc:2048", NULL),
                         0);
        const struct unit_prop *rb = find(&p, "IOReadBandwidthMax");
        ck_assert_int_eq(rb->type, 'a');
        ck_assert_uint_eq(rb->nbps, 2);
        ck_assert_str_eq(rb->bps[0].path, "/dev/sda");
        ck_assert_uint_eq(rb->bps[0].bytes, 1048576);
        ck_assert_str_eq(rb->bps[1].path, "/dev/sdc");
        ck_assert_uint_eq(rb->bps[1].bytes, 2048);
        ck_assert_uint_eq(find(&p, "IOWriteBandwidthMax")->bps[0].bytes, 10240);
        cleanup_free char *t5 = unit_props_to_text(&p, "Service");
        ck_assert_str_eq(t5, "IOReadBandwidthMax=/dev/sda 1048576\n"
                             "IOReadBandwidthMax=/dev/sdc 2048\n"
                             "IOWriteBandwidthMax=/dev/sdb 10240\n");
        unit_props_free(&p);
        /* the same device again: last wins; "" clears the list */
        ck_assert_int_eq(props_of(&p, &err, "device-read-bps", "/dev/sda:1mb", "device-read-bps", "/dev/sda:2mb", NULL),
                         0);
        ck_assert_uint_eq(find(&p, "IOReadBandwidthMax")->nbps, 1);
        ck_assert_uint_eq(find(&p, "IOReadBandwidthMax")->bps[0].bytes, 2097152);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "device-read-bps", "/dev/sda:1mb", "device-read-bps", "", NULL), 0);
        ck_assert_uint_eq(p.n, 0);
        unit_props_free(&p);

        ck_assert_int_eq(props_of(&p, &err, "restart", "on-failure:3", NULL), 0);
        ck_assert_str_eq(find(&p, "Restart")->s, "on-failure");
        ck_assert_int_eq(find(&p, "StartLimitBurst")->type, 'u');
        ck_assert_uint_eq(find(&p, "StartLimitBurst")->u, 4); /* 3 restarts = 4 starts */
        ck_assert_uint_eq(find(&p, "StartLimitIntervalUSec")->u, UINT64_MAX);
        cleanup_free char *t6 = unit_props_to_text(&p, "Service");
        ck_assert_str_eq(t6, "Restart=on-failure\n");
        cleanup_free char *t7 = unit_props_to_text(&p, "Unit");
        ck_assert_str_eq(t7, "StartLimitBurst=4\nStartLimitIntervalSec=infinity\n");
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "restart", "unless-stopped", NULL), 0);
        ck_assert_uint_eq(p.n, 1);
        ck_assert_str_eq(find(&p, "Restart")->s, "always");
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "restart", "on-failure", NULL), 0);
        ck_assert_uint_eq(p.n, 1);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &err, "restart", "no", NULL), 0);
        ck_assert_str_eq(find(&p, "Restart")->s, "no");
        unit_props_free(&p);

        /* zero means "unset", as Docker */
        ck_assert_int_eq(props_of(&p, &err, "m", "0", "cpus", "0", "cpu-shares", "0", "blkio-weight", "0", NULL), 0);
        ck_assert_uint_eq(p.n, 0);
        unit_props_free(&p);
        /* later values win */
        ck_assert_int_eq(props_of(&p, &err, "m", "1g", "memory", "512m", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemoryMax")->u, 536870912ULL);
        unit_props_free(&p);
        ck_assert_ptr_null(err);
}
END_TEST

START_TEST(test_limits_swap)
{
        struct unit_props p = { 0 };
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(props_of(&p, &e, "m", "512m", "memory-swap", "1g", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, 536870912ULL);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &e, "m", "512m", "memory-swap", "512m", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, 0);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &e, "m", "512m", "memory-swap", "-1", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, UINT64_MAX);
        cleanup_free char *t = unit_props_to_text(&p, "Service");
        ck_assert_str_eq(t, "MemoryMax=536870912\nMemorySwapMax=infinity\n");
        unit_props_free(&p);
        /* the order of the flags does not matter: resolved in limits_to_props */
        ck_assert_int_eq(props_of(&p, &e, "memory-swap", "3g", "m", "1g", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, 2147483648ULL);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &e, "memory-swap", "-1", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, UINT64_MAX);
        unit_props_free(&p);
        /* --memory-swap 0 is "unset": the default 2 x memory */
        ck_assert_int_eq(props_of(&p, &e, "m", "100m", "memory-swap", "0", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemorySwapMax")->u, 104857600ULL);
        unit_props_free(&p);
        ck_assert_int_eq(props_of(&p, &e, "m", "1g", "memory-reservation", "512m", NULL), 0);
        ck_assert_uint_eq(find(&p, "MemoryLow")->u, 536870912ULL);
        unit_props_free(&p);
        ck_assert_ptr_null(e);

        struct {
                const char *f1, *v1, *f2, *v2, *msg;
        } bad[] = {
                { "m", "512m", "memory-swap", "256m", "Minimum memoryswap limit should be larger than memory limit" },
                { "memory-swap", "1g", NULL, NULL, "You should always set the Memory limit when using Memoryswap limit" },
                { "m", "4m", NULL, NULL, "Minimum memory limit allowed is 6MB" },
                { "m", "512m", "memory-reservation", "1g",
                  "Minimum memory limit can not be less than memory reservation limit" },
                { "m", "12q", NULL, NULL, "invalid size: '12q'" },
                { "memory-swap", "x", NULL, NULL, "invalid size: 'x'" },
                { "cpus", "0.001", NULL, NULL, "the minimum is 0.01" },
                { "cpus", "-1", NULL, NULL, "invalid number of CPUs: '-1'" },
                { "cpu-shares", "-5", NULL, NULL, "invalid CPU shares: '-5'" },
                { "pids-limit", "lots", NULL, NULL, "invalid PIDs limit: 'lots'" },
                { "blkio-weight", "5", NULL, NULL, "invalid blkio weight: '5'" },
                { "blkio-weight", "1001", NULL, NULL, "invalid blkio weight: '1001'" },
                { "cpuset-cpus", "1-0", NULL, NULL, "invalid cpuset: '1-0'" },
                { "device-read-bps", "sda:1mb", NULL, NULL, "bad format for device path: 'sda:1mb'" },
                { "device-read-bps", "/dev/sda", NULL, NULL, "bad format: '/dev/sda'" },
                { "device-write-bps", "/dev/sda:fast", NULL, NULL, "invalid rate for device: '/dev/sda:fast'" },
                { "restart", "sometimes", NULL, NULL, "invalid restart policy 'sometimes'" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *m = ERRMSG(props_of(&p, &err, bad[i].f1, bad[i].v1, bad[i].f2, bad[i].v2, NULL));
                ck_assert_msg(strstr(m, bad[i].msg) != NULL, "%s=%s: got '%s'", bad[i].f1, bad[i].v1, m);
                ck_assert_uint_eq(p.n, 0);
                unit_props_free(&p);
        }
        cleanup_free char *m = ERRMSG(props_of(&p, &err, "m", "12q", NULL));
        ck_assert_str_eq(m, "invalid size: '12q'");
}
END_TEST

/* Several flags into one struct limits, by flag name as cmd-run.c and
 * container_spec pass them. */
START_TEST(test_limits_flags)
{
        static const char *const flags[][2] = {
                { "m", "512m" },
                { "cpus", "1.5" },
                { "pids-limit", "100" },
                { "restart", "on-failure:2" },
                { "device-read-bps", "/dev/sda:1k" },
                { "device-read-bps", "/dev/sdb:2k" },
        };
        struct limits l = { 0 };
        cleanup_error berth_error_t err = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
                const struct limit_def *def = limit_by_flag(flags[i][0]);
                ck_assert_ptr_nonnull(def);
                ck_assert_int_eq(limits_set(&l, def, flags[i][1], &err), 0);
        }
        ck_assert(l.set[LIMIT_MEMORY] && l.set[LIMIT_CPUS] && l.set[LIMIT_PIDS_LIMIT] && l.set[LIMIT_RESTART]);
        ck_assert(!l.set[LIMIT_CPU_SHARES]);
        ck_assert_uint_eq(l.memory, 536870912ULL);
        ck_assert_uint_eq(l.nano_cpus, 1500000000ULL);
        ck_assert_int_eq(l.pids_limit, 100);
        ck_assert_uint_eq(l.n_read_bps, 2);
        ck_assert_str_eq(l.restart, "on-failure");
        ck_assert_uint_eq(l.restart_retries, 2);
        limits_free(&l);
}
END_TEST

/* ---- D-Bus messages ----------------------------------------------------------- */

/* A bus that can build messages without any bus daemon: one end of a
 * socketpair, started (no Hello: not a bus client). */
static sd_bus *offline_bus(int *peer)
{
        int sv[2];
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        sd_bus *bus = NULL;
        ck_assert_int_ge(sd_bus_new(&bus), 0);
        ck_assert_int_ge(sd_bus_set_fd(bus, sv[0], sv[0]), 0);
        ck_assert_int_ge(sd_bus_start(bus), 0);
        *peer = sv[1];
        return bus;
}

START_TEST(test_limits_bus)
{
        struct unit_props p = { 0 };
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(props_of(&p, &err, "m", "512m", "cpus", "1.5", "cpu-shares", "1024", "cpuset-cpus", "0-1,3",
                                  "pids-limit", "100", "device-read-bps", "/dev/sda:1mb", "device-read-bps",
                                  "/dev/sdb:2k", "restart", "on-failure:3", NULL),
                         0);

        int peer;
        sd_bus *bus = offline_bus(&peer);
        sd_bus_message *m = NULL;
        ck_assert_int_ge(sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                        "org.freedesktop.systemd1.Manager", "StartTransientUnit"),
                         0);
        ck_assert_int_ge(sd_bus_message_append(m, "ss", "berth-web.service", "fail"), 0);
        ck_assert_int_ge(sd_bus_message_open_container(m, 'a', "(sv)"), 0);
        ck_assert_int_eq(unit_props_append_bus(m, &p, &err), 0);
        ck_assert_int_ge(sd_bus_message_close_container(m), 0);
        ck_assert_int_ge(sd_bus_message_append(m, "a(sa(sv))", 0), 0);
        ck_assert_int_ge(sd_bus_message_seal(m, 1, 0), 0);
        ck_assert_str_eq(sd_bus_message_get_signature(m, true), "ssa(sv)a(sa(sv))");

        ck_assert_int_ge(sd_bus_message_rewind(m, true), 0);
        const char *name, *mode;
        ck_assert_int_ge(sd_bus_message_read(m, "ss", &name, &mode), 0);
        ck_assert_str_eq(name, "berth-web.service");
        ck_assert_int_ge(sd_bus_message_enter_container(m, 'a', "(sv)"), 0);
        size_t count = 0;
        for (;;) {
                int r = sd_bus_message_enter_container(m, 'r', "sv");
                ck_assert_int_ge(r, 0);
                if (r == 0)
                        break;
                const char *prop;
                ck_assert_int_ge(sd_bus_message_read(m, "s", &prop), 0);
                const struct unit_prop *u = find(&p, prop);
                const char *contents;
                char type;
                ck_assert_int_gt(sd_bus_message_peek_type(m, &type, &contents), 0);
                ck_assert_int_eq(type, 'v');
                if (streq(prop, "MemoryMax") || streq(prop, "MemorySwapMax") || streq(prop, "CPUQuotaPerSecUSec") ||
                    streq(prop, "CPUWeight") || streq(prop, "TasksMax") || streq(prop, "StartLimitIntervalUSec")) {
                        uint64_t v;
                        ck_assert_str_eq(contents, "t");
                        ck_assert_int_ge(sd_bus_message_read(m, "v", "t", &v), 0);
                        ck_assert_uint_eq(v, u->u);
                        if (streq(prop, "MemoryMax"))
                                ck_assert_uint_eq(v, 536870912ULL);
                        if (streq(prop, "CPUQuotaPerSecUSec"))
                                ck_assert_uint_eq(v, 1500000ULL);
                        if (streq(prop, "CPUWeight"))
                                ck_assert_uint_eq(v, 39);
                        if (streq(prop, "TasksMax"))
                                ck_assert_uint_eq(v, 100);
                } else if (streq(prop, "StartLimitBurst")) {
                        uint32_t v;
                        ck_assert_str_eq(contents, "u");
                        ck_assert_int_ge(sd_bus_message_read(m, "v", "u", &v), 0);
                        ck_assert_uint_eq(v, 4);
                } else if (streq(prop, "Restart")) {
                        const char *s;
                        ck_assert_str_eq(contents, "s");
                        ck_assert_int_ge(sd_bus_message_read(m, "v", "s", &s), 0);
                        ck_assert_str_eq(s, "on-failure");
                } else if (streq(prop, "AllowedCPUs")) {
                        const void *bytes;
                        size_t len;
                        ck_assert_str_eq(contents, "ay");
                        ck_assert_int_ge(sd_bus_message_enter_container(m, 'v', "ay"), 0);
                        ck_assert_int_ge(sd_bus_message_read_array(m, 'y', &bytes, &len), 0);
                        ck_assert_uint_eq(len, 1);
                        ck_assert_uint_eq(((const unsigned char *) bytes)[0], 0x0b);
                        ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
                } else if (streq(prop, "IOReadBandwidthMax")) {
                        const char *path;
                        uint64_t v;
                        ck_assert_str_eq(contents, "a(st)");
                        ck_assert_int_ge(sd_bus_message_enter_container(m, 'v', "a(st)"), 0);
                        ck_assert_int_ge(sd_bus_message_enter_container(m, 'a', "(st)"), 0);
                        ck_assert_int_gt(sd_bus_message_read(m, "(st)", &path, &v), 0);
                        ck_assert_str_eq(path, "/dev/sda");
                        ck_assert_uint_eq(v, 1048576);
                        ck_assert_int_gt(sd_bus_message_read(m, "(st)", &path, &v), 0);
                        ck_assert_str_eq(path, "/dev/sdb");
                        ck_assert_uint_eq(v, 2048);
                        ck_assert_int_eq(sd_bus_message_read(m, "(st)", &path, &v), 0);
                        ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
                        ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
                } else
                        ck_abort_msg("unexpected property %s", prop);
                ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
                count++;
        }
        ck_assert_uint_eq(count, p.n);
        ck_assert_uint_eq(count, 10);
        ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
        ck_assert_int_ge(sd_bus_message_enter_container(m, 'a', "(sa(sv))"), 0);
        ck_assert_int_eq(sd_bus_message_enter_container(m, 'r', "sa(sv)"), 0);
        ck_assert_int_ge(sd_bus_message_exit_container(m), 0);
        ck_assert_int_gt(sd_bus_message_at_end(m, true), 0);

        sd_bus_message_unref(m);
        sd_bus_unref(bus);
        close(peer);
        unit_props_free(&p);
}
END_TEST

/* ---- templates ---------------------------------------------------------------- */

static json_t *sample(void)
{
        json_error_t je;
        json_t *v = json_loads("{\"Id\": \"4f2a9c\", \"Name\": \"web\", \"Names\": [\"web\", \"frontend\"],"
                               " \"State\": {\"Pid\": 1234, \"Running\": true, \"Status\": \"running\","
                               "   \"Health\": null, \"ExitCode\": 0},"
                               " \"Config\": {\"Image\": \"nginx:latest\", \"Cmd\": [\"nginx\", \"-g\", \"daemon off;\"],"
                               "   \"Labels\": {\"b\": \"2\", \"a\": \"1\", \"com.example.key\": \"v\"}},"
                               " \"Args\": [\"-g\", \"daemon off;\"], \"Ratio\": 1.5, \"Big\": 1e21, \"Small\": 0.00001,"
                               " \"Mounts\": [{\"Source\": \"/srv\", \"Destination\": \"/data\"},"
                               "   {\"Source\": \"/tmp\", \"Destination\": \"/tmp\"}], \"Empty\": [], \"Nil\": null,"
                               " \"Nested\": [[1, 2], {\"k\": null}]}",
                               0, &je);
        ck_assert_msg(v != NULL, "%s", je.text);
        return v;
}

static void render_eq(json_t *obj, const char *tmpl, const char *want)
{
        cleanup_free char *out = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(template_render(tmpl, obj, &out, &err) == 0, "%s: %s", tmpl, err ? err->msg : "");
        ck_assert_msg(streq(out, want), "%s: got '%s', want '%s'", tmpl, out, want);
}

static char *render_err(json_t *obj, const char *tmpl)
{
        char *out = NULL;
        berth_error_t err = NULL;
        ck_assert_msg(template_render(tmpl, obj, &out, &err) < 0, "%s should fail, got '%s'", tmpl, out);
        ck_assert_ptr_null(out);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

START_TEST(test_template_fields)
{
        json_t *o = sample();
        render_eq(o, "", "");
        render_eq(o, "plain text", "plain text");
        render_eq(o, "{{.Name}}", "web");
        render_eq(o, "name={{.Name}} id={{ .Id }}", "name=web id=4f2a9c");
        render_eq(o, "{{.State.Pid}}", "1234");
        render_eq(o, "{{.State.Running}}", "true");
        render_eq(o, "{{.State.ExitCode}}", "0");
        render_eq(o, "{{.State.Health}}", "<no value>");
        render_eq(o, "{{.Ratio}} {{.Big}} {{.Small}}", "1.5 1e+21 1e-05");
        render_eq(o, "{{.Names}}", "[web frontend]");
        render_eq(o, "{{.Empty}}", "[]");
        render_eq(o, "{{.Nested}}", "[[1 2] map[k:<nil>]]");
        render_eq(o, "{{.Config.Labels}}", "map[a:1 b:2 com.example.key:v]");
        render_eq(o, "{{.}}", "map[Args:[-g daemon off;] Big:1e+21 Config:map[Cmd:[nginx -g daemon off;] Image:nginx:latest "
                              "Labels:map[a:1 b:2 com.example.key:v]] Empty:[] Id:4f2a9c Mounts:[map[Destination:/data "
                              "Source:/srv] map[Destination:/tmp Source:/tmp]] Name:web Names:[web frontend] Nested:[[1 2] "
                              "map[k:<nil>]] Nil:<nil> Ratio:1.5 Small:1e-05 State:map[ExitCode:0 Health:<nil> Pid:1234 "
                              "Running:true Status:running]]");
        render_eq(o, "{{3}} {{-2}} {{1.25}} {{true}} {{\"s\"}} {{`raw\\n`}} {{nil}}", "3 -2 1.25 true s raw\\n <no value>");
        render_eq(o, "{{\"a\\tb\\n\\u00e9\\x41\"}}", "a\tb\n\xc3\xa9" "A");
        json_decref(o);
        json_t *s = json_pack("{s:s}", "Name", "web");
        render_eq(s, "{{$}}", "map[Name:web]");
        render_eq(s, "{{.}}", "map[Name:web]");
        json_decref(s);
        json_t *str = json_string("just a string");
        render_eq(str, "{{.}}", "just a string");
        json_decref(str);
        render_eq(NULL, "{{.}}", "<no value>");
}
END_TEST

START_TEST(test_template_json)
{
        json_t *o = json_pack("{s:s, s:{s:s, s:[s,s]}, s:i}", "Name", "web", "Config", "Image", "nginx:latest", "Cmd",
                              "a<b", "c&d", "Pid", 7);
        render_eq(o, "{{json .}}", "{\"Name\":\"web\",\"Config\":{\"Image\":\"nginx:latest\",\"Cmd\":[\"a<b\",\"c&d\"]},\"Pid\":7}");
        render_eq(o, "json", "{\"Name\":\"web\",\"Config\":{\"Image\":\"nginx:latest\",\"Cmd\":[\"a<b\",\"c&d\"]},\"Pid\":7}");
        render_eq(o, "{{json .Config}}", "{\"Image\":\"nginx:latest\",\"Cmd\":[\"a<b\",\"c&d\"]}");
        render_eq(o, "{{json .Name}}", "\"web\"");
        render_eq(o, "{{json .Pid}}", "7");
        render_eq(o, "{{.Config | json}}", "{\"Image\":\"nginx:latest\",\"Cmd\":[\"a<b\",\"c&d\"]}");
        json_decref(o);
}
END_TEST

START_TEST(test_template_functions)
{
        json_t *o = sample();
        render_eq(o, "{{index .Config.Labels \"com.example.key\"}}", "v");
        render_eq(o, "[{{index .Config.Labels \"missing\"}}]", "[]");
        render_eq(o, "{{index .Names 1}}", "frontend");
        render_eq(o, "{{index .Nested 0 1}}", "2");
        render_eq(o, "{{join .Args \" \"}}", "-g daemon off;");
        render_eq(o, "{{join .Names \", \"}}", "web, frontend");
        render_eq(o, "{{join .Nil \",\"}}", "");
        render_eq(o, "{{upper .Name}} {{lower \"ABC\"}} {{title \"hello big-world\"}}", "WEB abc Hello Big-World");
        render_eq(o, "{{.Name | upper}}", "WEB");
        render_eq(o, "{{.Config.Image | printf \"%s!\"}}", "nginx:latest!");
        render_eq(o, "{{printf \"%s has %d names, %v %q %%\" .Name (len .Names) .State.Running .Id}}",
                  "web has 2 names, true \"4f2a9c\" %");
        render_eq(o, "{{len .Names}} {{len .Name}} {{len .Config.Labels}}", "2 3 3");
        render_eq(o, "{{split \"a,b,c\" \",\"}}", "[a b c]");
        render_eq(o, "{{index (split .Config.Image \":\") 1}}", "latest");
        render_eq(o, "[{{pad .Name 2 1}}]", "[  web ]");
        render_eq(o, "{{truncate .Id 3}} {{truncate .Id 30}}", "4f2 4f2a9c");
        render_eq(o, "{{eq .State.Status \"running\"}} {{ne .State.Pid 1234}} {{eq .Name \"a\" \"web\"}}",
                  "true false true");
        render_eq(o, "{{lt 1 2}} {{le 2 2}} {{gt 1.5 2}} {{ge \"b\" \"a\"}}", "true true false true");
        render_eq(o, "{{not .State.Running}} {{and .Name .Empty}} {{or .Empty .Name}}", "false [] web");
        render_eq(o, "{{print .Name .Name}} {{print 1 2}}", "webweb 1 2");
        render_eq(o, "{{println .Name 1}}", "web 1\n");
        render_eq(o, "{{(index .Mounts 0).Source}}", "/srv");
        json_decref(o);
}
END_TEST

START_TEST(test_template_control)
{
        json_t *o = sample();
        render_eq(o, "{{if .State.Running}}up{{else}}down{{end}}", "up");
        render_eq(o, "{{if .Empty}}some{{else}}none{{end}}", "none");
        render_eq(o, "{{if .Nil}}a{{else if .Empty}}b{{else if .Name}}c{{else}}d{{end}}", "c");
        render_eq(o, "{{if eq .State.Status \"running\"}}yes{{end}}", "yes");
        render_eq(o, "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", "/srv:/data /tmp:/tmp ");
        render_eq(o, "{{range $i, $m := .Mounts}}{{$i}}={{$m.Source}};{{end}}", "0=/srv;1=/tmp;");
        render_eq(o, "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "a=1,b=2,com.example.key=v,");
        render_eq(o, "{{range .Config.Labels}}{{.}}{{end}}", "12v");
        render_eq(o, "{{range .Empty}}x{{else}}empty{{end}}", "empty");
        render_eq(o, "{{range .Nil}}x{{else}}{{.Name}}{{end}}", "web");
        render_eq(o, "{{range .Names}}{{$.Id}}/{{.}} {{end}}", "4f2a9c/web 4f2a9c/frontend ");
        render_eq(o, "{{with .State}}{{.Status}}/{{.Pid}}{{end}}", "running/1234");
        render_eq(o, "{{with .Nil}}x{{else}}no{{end}}", "no");
        render_eq(o, "{{with $s := .State.Status}}{{$s}}{{end}}", "running");
        render_eq(o, "{{$n := .Name}}{{$n}}-{{$n = \"x\"}}{{$n}}", "web-x");
        render_eq(o, "a  {{- .Name -}}  b", "awebb");
        render_eq(o, "a\n\t{{- .Name}}\n", "aweb\n");
        render_eq(o, "{{.Name -}}\n\n  x", "webx");
        render_eq(o, "a{{/* a comment */}}b{{- /* trimmed */ -}}  c", "abc");
        render_eq(o, "{{range .Names -}}\n  {{.}}\n{{- end}}", "webfrontend");
        json_decref(o);
}
END_TEST

START_TEST(test_template_errors)
{
        json_t *o = sample();
        struct {
                const char *tmpl, *msg;
        } bad[] = {
                { "{{.Foo}}", "template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"" },
                { "x\n {{.State.Nope}}", "template: :2:3: executing \"\" at <.State.Nope>: map has no entry for key \"Nope\"" },
                { "{{.State.Health.Status}}", "nil pointer evaluating interface {}.Status" },
                { "{{.Name.First}}", "can't evaluate field First in type string" },
                { "{{.Name", "template: :1: unclosed action" },
                { "{{end}}", "template: :1: unexpected {{end}}" },
                { "{{if .Name}}x", "unexpected EOF" },
                { "{{range .Names}}{{else}}{{else}}{{end}}", "expected end" },
                { "{{foo .Name}}", "function \"foo\" not defined" },
                { "{{join .Names}}", "wrong number of args for join: want 2 got 1" },
                { "{{index .Names 5}}", "error calling index: index out of range: 5" },
                { "{{index .Names \"a\"}}", "cannot index slice/array with type string" },
                { "{{.Name .Id}}", "can't give argument to non-function .Name" },
                { "{{$x}}", "undefined variable: $x" },
                { "{{range .Name}}{{end}}", "range can't iterate over web" },
                { "{{}}", "missing value for command" },
                { "{{\"abc}}", "unterminated quoted string" },
                { "{{(.Name}}", "unclosed left paren" },
                { "{{.Name)}}", "unexpected right paren" },
                { "{{define \"x\"}}{{end}}", "{{define}} is not supported" },
                { "{{/* unclosed", "unclosed comment" },
                { "{{upper .Names}}", "wrong type for value; expected string; got []interface {}" },
                { "{{3x}}", "bad number syntax" },
                { "{{8E444444}}", "number out of range: 8E444444" }, /* found by fuzz-template */
                { "{{-1e999}}", "number out of range" },
                { "{{.Name | .Id}}", "can't give argument to non-function .Id" },
                { "{{a := 1}}", "unexpected \":=\" in command" },
                { "{{#}}", "unexpected \"#\" in command" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *m = render_err(o, bad[i].tmpl);
                ck_assert_msg(strstr(m, bad[i].msg) != NULL, "%s: got '%s'", bad[i].tmpl, m);
        }
        cleanup_free char *m = render_err(o, "{{.Foo}}");
        ck_assert_str_eq(m, "template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"");
        cleanup_free char *m2 = render_err(o, "{{.Config.Labels.aVeryLongMissingLabelName}}");
        ck_assert_str_eq(m2, "template: :1:2: executing \"\" at <.Config.Labels.aVery...>: map has no entry for key "
                             "\"aVeryLongMissingLabelName\"");
        json_decref(o);
}
END_TEST

START_TEST(test_template_reuse_and_table)
{
        cleanup_template struct template *t = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(template_parse("{{.ID}}\t{{.Names}}", &t, &err), 0);
        const char *ids[] = { "aaa", "bbb", "ccc" };
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                json_t *row = json_pack("{s:s, s:s}", "ID", ids[i], "Names", "n");
                cleanup_free char *out = NULL;
                ck_assert_int_eq(template_execute(t, row, &out, &err), 0);
                cleanup_free char *want = xasprintf("%s\tn", ids[i]);
                ck_assert_str_eq(out, want);
                json_decref(row);
        }
        /* the header row, as Docker renders it */
        json_t *hdr = json_pack("{s:s, s:s}", "ID", "CONTAINER ID", "Names", "NAMES");
        cleanup_free char *h = NULL;
        ck_assert_int_eq(template_execute(t, hdr, &h, &err), 0);
        ck_assert_str_eq(h, "CONTAINER ID\tNAMES");
        json_decref(hdr);

        ck_assert(template_is_table("table {{.ID}}\\t{{.Names}}"));
        ck_assert(template_is_table("table"));
        ck_assert(!template_is_table("{{.ID}}"));
        cleanup_free char *f1 = template_preformat("table {{.ID}}\\t{{.Names}}\\n");
        ck_assert_str_eq(f1, "{{.ID}}\t{{.Names}}\n");
        cleanup_free char *f2 = template_preformat("  {{.ID}} \\\\x ");
        ck_assert_str_eq(f2, "{{.ID}} \\\\x");
        cleanup_free char *f3 = template_preformat("table");
        ck_assert_str_eq(f3, "");
}
END_TEST

/* ---- journal fields ----------------------------------------------------------- */

START_TEST(test_journal_fields)
{
        const char *id = "4f2a9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d";
        struct log_fields f = { .id_full = id, .name = "web", .tag = NULL, .image = "nginx:latest" };
        cleanup_strv char **v = journal_extra_fields(&f);
        const char *want[] = {
                "CONTAINER_ID=4f2a9c0d1e2f",
                "CONTAINER_ID_FULL=4f2a9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d",
                "CONTAINER_NAME=web",
                "CONTAINER_TAG=4f2a9c0d1e2f",
                "IMAGE_NAME=nginx:latest",
        };
        ck_assert_uint_eq(strv_length(v), ARRAY_SIZE(want));
        for (size_t i = 0; i < ARRAY_SIZE(want); i++)
                ck_assert_str_eq(v[i], want[i]);

        struct log_fields g = { .id_full = id, .name = "db", .tag = "mytag", .image = NULL };
        cleanup_strv char **w = journal_extra_fields(&g);
        ck_assert_uint_eq(strv_length(w), 4);
        ck_assert_str_eq(w[2], "CONTAINER_NAME=db");
        ck_assert_str_eq(w[3], "CONTAINER_TAG=mytag");
        ck_assert(!strv_contains(w, "IMAGE_NAME="));

        /* Without journald (as on a build host) sending fails cleanly. */
        int r = journal_send_line(&f, JOURNAL_PRIORITY_STDOUT, "hello\0binary", 12, 1, false);
        ck_assert_int_le(r, 0);
        r = journal_send_line(&g, JOURNAL_PRIORITY_STDERR, "part", 4, 2, true);
        ck_assert_int_le(r, 0);
}
END_TEST

/* ---- path_absolute: every path the CLI takes ------------------------------------ */

static void abs_is(const char *base, const char *path, const char *want)
{
        cleanup_free char *got = path_absolute(base, path);
        ck_assert_msg(streq(got, want), "path_absolute(%s, %s) = %s, want %s", base ? base : "(cwd)", path, got,
                      want);
}

START_TEST(test_path_absolute)
{
        abs_is("/work/dir", ".", "/work/dir");
        abs_is("/work/dir", "./", "/work/dir");
        abs_is("/work/dir", "..", "/work");
        abs_is("/work/dir", "../..", "/");
        abs_is("/work/dir", "../../../..", "/");
        abs_is("/work/dir", "sub/Dockerfile.dev", "/work/dir/sub/Dockerfile.dev");
        abs_is("/work/dir", "./data", "/work/dir/data");
        abs_is("/work/dir", "a/./b/../c//d/", "/work/dir/a/c/d");
        abs_is("/work/dir", "/abs//x/../y", "/abs/y");
        abs_is("/", "x", "/x");
        abs_is("/work/dir/", "..x", "/work/dir/..x");
        abs_is("/work/dir", "...", "/work/dir/...");
        /* no base: the working directory */
        cleanup_free char *cwd = getcwd(NULL, 0);
        ck_assert_ptr_nonnull(cwd);
        cleanup_free char *want = xasprintf("%s/f", streq(cwd, "/") ? "" : cwd);
        abs_is(NULL, "./f", want);
        abs_is(NULL, "/", "/");
}
END_TEST

static void rel_is(const char *p, const char *want)
{
        cleanup_free char *got = path_normalize_relative(p);
        if (!want)
                ck_assert_msg(got == NULL, "path_normalize_relative(%s) = %s, want NULL", p, got);
        else
                ck_assert_msg(got && streq(got, want), "path_normalize_relative(%s) = %s, want %s", p,
                              got ? got : "NULL", want);
}

START_TEST(test_path_normalize_relative)
{
        rel_is("a", "a");
        rel_is("./a//b/", "a/b");
        rel_is("./a//b/../c/", "a/c");
        rel_is("/etc/passwd", "etc/passwd");
        rel_is("a/..b/.c", "a/..b/.c");
        rel_is("a/b/../../c", "c");
        /* nothing left, or above the top */
        rel_is(".", NULL);
        rel_is("./", NULL);
        rel_is("a/..", NULL);
        rel_is("..", NULL);
        rel_is("a/../../b", NULL);
        rel_is("", NULL);
}
END_TEST

START_TEST(test_read_chunk)
{
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        ck_assert_int_eq(write_all(p[1], "hello", 5), 0);
        close(p[1]);
        char buf[4];
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(read_chunk(p[0], buf, sizeof(buf), "pipe", &err), 4);
        ck_assert_int_eq(memcmp(buf, "hell", 4), 0);
        ck_assert_int_eq(read_chunk(p[0], buf, sizeof(buf), "pipe", &err), 1);
        ck_assert_int_eq(buf[0], 'o');
        ck_assert_int_eq(read_chunk(p[0], buf, sizeof(buf), "pipe", &err), 0);
        ck_assert_ptr_null(err);
        close(p[0]);
        /* a closed fd: the error names what was read */
        ck_assert_int_lt(read_chunk(p[0], buf, sizeof(buf), "the pipe", &err), 0);
        ck_assert_str_eq(err->msg, "read `the pipe`: Bad file descriptor");
}
END_TEST

START_TEST(test_hex_utf8)
{
        ck_assert_int_eq(hex_digit_value('0'), 0);
        ck_assert_int_eq(hex_digit_value('9'), 9);
        ck_assert_int_eq(hex_digit_value('a'), 10);
        ck_assert_int_eq(hex_digit_value('F'), 15);
        ck_assert_int_eq(hex_digit_value('g'), -1);
        ck_assert_int_eq(hex_digit_value('\0'), -1);
        ck_assert_int_eq(hex_digit_value('/'), -1);

        static const struct {
                uint32_t c;
                const char *utf8;
        } cases[] = {
                { 0x41, "A" },          { 0x7f, "\x7f" },         { 0x80, "\xc2\x80" },     { 0xe9, "\xc3\xa9" },
                { 0x7ff, "\xdf\xbf" },   { 0x800, "\xe0\xa0\x80" }, { 0x20ac, "\xe2\x82\xac" },
                { 0xffff, "\xef\xbf\xbf" }, { 0x10000, "\xf0\x90\x80\x80" }, { 0x10ffff, "\xf4\x8f\xbf\xbf" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char out[4];
                size_t n = utf8_encode(cases[i].c, out);
                ck_assert_uint_eq(n, strlen(cases[i].utf8));
                ck_assert_msg(memcmp(out, cases[i].utf8, n) == 0, "utf8_encode(U+%04X)", (unsigned) cases[i].c);
        }
}
END_TEST

/* ---- devices: --device, --device-cgroup-rule, the unit properties --------------------- */

START_TEST(test_device_flags)
{
        struct device_map d;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(device_map_parse("/dev/loop0", &d, &e), 0);
        ck_assert_str_eq(d.host, "/dev/loop0");
        ck_assert_str_eq(d.container, "/dev/loop0");
        ck_assert_str_eq(d.perms, "rwm");
        device_map_clear(&d);
        ck_assert_int_eq(device_map_parse("/dev/sdc:/dev/xvdc", &d, &e), 0);
        ck_assert_str_eq(d.container, "/dev/xvdc");
        ck_assert_str_eq(d.perms, "rwm");
        device_map_clear(&d);
        ck_assert_int_eq(device_map_parse("/dev/sdc:r", &d, &e), 0);
        ck_assert_str_eq(d.container, "/dev/sdc");
        ck_assert_str_eq(d.perms, "r");
        device_map_clear(&d);
        ck_assert_int_eq(device_map_parse("/dev/sdc:/dev/xvdc:mw", &d, &e), 0);
        ck_assert_str_eq(d.perms, "mw");
        device_map_clear(&d);
        free(ERRMSG(device_map_parse("/dev/sdc:xvdc", &d, &err)));
        free(ERRMSG(device_map_parse("/dev/sdc:/dev/x:rwx", &d, &err)));
        free(ERRMSG(device_map_parse("/dev/sdc:/dev/x:rr", &d, &err)));
        free(ERRMSG(device_map_parse("", &d, &err)));
        free(ERRMSG(device_map_parse("/a:/b:r:x", &d, &err)));
        /* /dev/null is a device, this test file is not */
        ck_assert_int_eq(device_map_parse("/dev/null", &d, &e), 0);
        ck_assert_int_eq(device_map_check(&d, &e), 0);
        device_map_clear(&d);
        ck_assert_int_eq(device_map_parse("/etc/hostname:/dev/x", &d, &e), 0);
        char *m = ERRMSG(device_map_check(&d, &err));
        ck_assert_msg(strstr(m, "not a device node"), "%s", m);
        free(m);
        device_map_clear(&d);

        ck_assert_int_eq(device_cgroup_rule_check("c 1:3 rwm", &e), 0);
        ck_assert_int_eq(device_cgroup_rule_check("b 7:* rw", &e), 0);
        ck_assert_int_eq(device_cgroup_rule_check("a *:* m", &e), 0);
        free(ERRMSG(device_cgroup_rule_check("x 1:3 rwm", &err)));
        free(ERRMSG(device_cgroup_rule_check("c 1:3", &err)));
        free(ERRMSG(device_cgroup_rule_check("c 1-3 rw", &err)));
        free(ERRMSG(device_cgroup_rule_check("c 1:3 rwq", &err)));
        free(ERRMSG(device_cgroup_rule_check("c 99999999:3 r", &err)));
}
END_TEST

static char *device_props_text(const char *host_config_json)
{
        json_auto_t *hc = json_loads(host_config_json, 0, NULL);
        ck_assert_ptr_nonnull(hc);
        struct unit_props p = {};
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(devices_to_props(hc, &p, &err) == 0, "%s", err ? err->msg : "");
        char *t = unit_props_to_text(&p, "Service");
        unit_props_free(&p);
        return t;
}

START_TEST(test_device_props)
{
        /* Docker's defaults: nothing else is readable or writable */
        cleanup_free char *def = device_props_text("{}");
        ck_assert_str_eq(def, "DevicePolicy=strict\n"
                              "DeviceAllow=/dev/null rwm\nDeviceAllow=/dev/zero rwm\nDeviceAllow=/dev/full rwm\n"
                              "DeviceAllow=/dev/random rwm\nDeviceAllow=/dev/urandom rwm\nDeviceAllow=/dev/tty rwm\n"
                              "DeviceAllow=/dev/console rwm\nDeviceAllow=/dev/ptmx rwm\nDeviceAllow=char-pts rwm\n"
                              "DeviceAllow=char-* m\nDeviceAllow=block-* m\n");
        cleanup_free char *priv = device_props_text("{\"Privileged\": true, \"Devices\": []}");
        ck_assert_str_eq(priv, "DevicePolicy=auto\n");
        cleanup_free char *one = device_props_text(
                "{\"Devices\": [{\"PathOnHost\": \"/dev/fuse\", \"PathInContainer\": \"/dev/fuse\", "
                "\"CgroupPermissions\": \"rw\"}], \"DeviceCgroupRules\": [\"c *:* r\", \"c 1:3 w\"]}");
        ck_assert_msg(strstr(one, "DeviceAllow=block-* m\nDeviceAllow=/dev/fuse rw\nDeviceAllow=char-* r\n"
                                  "DeviceAllow=/dev/null w\n"), "%s", one);
        /* "c 1:* r": the groups /proc/devices names for major 1 ("mem") */
        cleanup_free char *major = device_props_text("{\"DeviceCgroupRules\": [\"c 1:* r\"]}");
        ck_assert_msg(strstr(major, "DeviceAllow=char-mem r\n"), "%s", major);
        json_auto_t *bad = json_loads("{\"DeviceCgroupRules\": [\"c *:3 r\"]}", 0, NULL);
        struct unit_props p = {};
        char *m = ERRMSG(devices_to_props(bad, &p, &err));
        ck_assert_msg(strstr(m, "name the major"), "%s", m);
        free(m);
        unit_props_free(&p);
}
END_TEST


/* Which controller enforces a property, and whether a user manager has it:
 * a fake cgroup mount for v2 (cgroup.controllers at the top), and one
 * without it (v1/hybrid: never delegated). */
START_TEST(test_limits_user_delegation)
{
        ck_assert_str_eq(limits_prop_controller("MemoryMax"), "memory");
        ck_assert_str_eq(limits_prop_controller("MemorySwapMax"), "memory");
        ck_assert_str_eq(limits_prop_controller("TasksMax"), "pids");
        ck_assert_str_eq(limits_prop_controller("CPUQuotaPerSecUSec"), "cpu");
        ck_assert_str_eq(limits_prop_controller("CPUWeight"), "cpu");
        ck_assert_str_eq(limits_prop_controller("AllowedCPUs"), "cpuset");
        ck_assert_str_eq(limits_prop_controller("IOReadBandwidthMax"), "io");
        ck_assert_ptr_null(limits_prop_controller("LimitNOFILE"));
        ck_assert_ptr_null(limits_prop_controller("DeviceAllow"));

        char root[] = "/tmp/berth-test-cgroot-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(root));
        /* hybrid: no cgroup.controllers at the top */
        ck_assert(!limits_user_controller_delegated(root, 1000, "memory"));
        cleanup_free char *top = xasprintf("%s/cgroup.controllers", root);
        ck_assert_int_eq(write_file_atomic_sync(top, "cpuset cpu io memory pids\n", 26, 0644, WRITE_VOLATILE, NULL), 0);
        /* v2, but no such user manager */
        ck_assert(!limits_user_controller_delegated(root, 1000, "memory"));
        cleanup_free char *dir = xasprintf("%s/user.slice/user-1000.slice/user@1000.service", root);
        ck_assert_int_eq(mkdir_p(dir, 0755, NULL), 0);
        cleanup_free char *ctl = xasprintf("%s/cgroup.controllers", dir);
        ck_assert_int_eq(write_file_atomic_sync(ctl, "cpu memory pids\n", 16, 0644, WRITE_VOLATILE, NULL), 0);
        ck_assert(limits_user_controller_delegated(root, 1000, "memory"));
        ck_assert(limits_user_controller_delegated(root, 1000, "pids"));
        ck_assert(limits_user_controller_delegated(root, 1000, "cpu"));
        ck_assert(!limits_user_controller_delegated(root, 1000, "io"));
        ck_assert(!limits_user_controller_delegated(root, 1000, "cpuset"));
        ck_assert(!limits_user_controller_delegated(root, 1001, "memory"));
        rm_rf(root, NULL);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("parse");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_size);
        tcase_add_test(tc, test_duration);
        tcase_add_test(tc, test_timestamp);
        tcase_add_test(tc, test_signal);
        tcase_add_test(tc, test_restart_policy);
        tcase_add_test(tc, test_env_file);
        tcase_add_test(tc, test_cpus_cpuset);
        tcase_add_test(tc, test_path_absolute);
        tcase_add_test(tc, test_path_normalize_relative);
        tcase_add_test(tc, test_read_chunk);
        tcase_add_test(tc, test_hex_utf8);
        tcase_add_test(tc, test_device_flags);
        tcase_add_test(tc, test_device_props);
        suite_add_tcase(s, tc);
        tc = tcase_create("limits");
        tcase_add_test(tc, test_limits_table);
        tcase_add_test(tc, test_limits_values);
        tcase_add_test(tc, test_limits_swap);
        tcase_add_test(tc, test_limits_flags);
        tcase_add_test(tc, test_limits_bus);
        tcase_add_test(tc, test_limits_user_delegation);
        suite_add_tcase(s, tc);
        tc = tcase_create("template");
        tcase_add_test(tc, test_template_fields);
        tcase_add_test(tc, test_template_json);
        tcase_add_test(tc, test_template_functions);
        tcase_add_test(tc, test_template_control);
        tcase_add_test(tc, test_template_errors);
        tcase_add_test(tc, test_template_reuse_and_table);
        suite_add_tcase(s, tc);
        tc = tcase_create("journal");
        tcase_add_test(tc, test_journal_fields);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
