/* Unit tests: struct container_spec (container-spec.h) — the option table,
 * the setters (paths made absolute against a base directory, values checked
 * when set), the argument-vector form definitions use, and the cross-checks
 * of container_spec_finish.  Runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <unistd.h>

#include "berth/container-spec.h"
#include "berth/util.h"
#include "check-main.h"

/* The one-line error of a bad option value; the spec is left as it was. */
static void set_fails(const char *option, const char *value, const char *want)
{
        struct container_spec s;
        container_spec_init(&s);
        berth_error_t err = NULL;
        ck_assert_msg(container_spec_set(&s, option, value, NULL, &err) < 0, "--%s %s accepted", option,
                      value ? value : "");
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(!strchr(err->msg, '\n'), "--%s: message has a newline", option);
        ck_assert_msg(strstr(err->msg, want), "--%s %s: \"%s\" lacks \"%s\"", option, value, err->msg, want);
        ck_assert_ptr_null(s.tmpfs);
        ck_assert_ptr_null(s.ulimits);
        ck_assert_ptr_null(s.device_rules);
        ck_assert_int_eq(json_array_size(s.devices), 0);
        berth_error_free(&err);
        container_spec_clear(&s);
}

START_TEST(test_table)
{
        /* every row is found by container_spec_set, and the short letters are Docker's */
        struct container_spec s;
        container_spec_init(&s);
        cleanup_error berth_error_t err = NULL;
        for (size_t i = 0; i < container_spec_options_count; i++) {
                const struct container_spec_option *o = &container_spec_options[i];
                if (streq(o->name, "device") || streq(o->name, "device-cgroup-rule") || streq(o->name, "ulimit") ||
                    streq(o->name, "stop-timeout") || streq(o->name, "tmpfs") || startswith(o->name, "health-") ||
                    streq(o->name, "sdnotify") || streq(o->name, "userns") || streq(o->name, "uidmap") ||
                    streq(o->name, "gidmap"))
                        continue; /* checked values: below */
                ck_assert_msg(container_spec_set(&s, o->name, o->has_arg ? "x" : NULL, "/base", &err) == 0,
                              "--%s: %s", o->name, err ? err->msg : "");
        }
        ck_assert(s.detach && s.interactive && s.tty && s.rm && s.privileged && s.read_only && s.init &&
                  s.publish_all);
        ck_assert_str_eq(s.network, "x");
        ck_assert_str_eq(s.env_files[0], "/base/x");
        ck_assert_str_eq(s.label_files[0], "/base/x");
        container_spec_clear(&s);
        ck_assert_ptr_null(s.limits);
}
END_TEST

START_TEST(test_paths)
{
        struct container_spec s;
        container_spec_init(&s);
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(container_spec_set(&s, "volume", "./data:/data:ro", "/srv/app", &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "volume", "named:/v", "/srv/app", &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "mount", "type=bind,source=../x,target=/x", "/srv/app", &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "security-opt", "seccomp=p.json", "/srv/app", &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "security-opt", "seccomp=unconfined", "/srv/app", &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "security-opt", "no-new-privileges", "/srv/app", &err), 0);
        ck_assert_str_eq(s.volumes[0], "/srv/app/data:/data:ro");
        ck_assert_str_eq(s.volumes[1], "named:/v");
        ck_assert_str_eq(s.mounts[0], "type=bind,source=/srv/x,target=/x");
        ck_assert_str_eq(s.security_opts[0], "seccomp=/srv/app/p.json");
        ck_assert_str_eq(s.security_opts[1], "seccomp=unconfined");
        ck_assert_str_eq(s.security_opts[2], "no-new-privileges");
        container_spec_clear(&s);
}
END_TEST

START_TEST(test_checked_values)
{
        set_fails("tmpfs", "rel/dir", "must be absolute");
        set_fails("ulimit", "nofile=x", "nofile");
        set_fails("device-cgroup-rule", "q 1:3 rwm", "q 1:3 rwm");
        set_fails("device", "/no/such/device", "/no/such/device");
        set_fails("stop-timeout", "soon", "soon");
        set_fails("volume", NULL, "needs a value");
        set_fails("no-such-option", "1", "no container option");
}
END_TEST

/* --health-* into Docker's Config.Healthcheck shape, each value checked */
START_TEST(test_health)
{
        struct container_spec s;
        container_spec_init(&s);
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(container_spec_set(&s, "health-cmd", "curl -f http://localhost/ || exit 1", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "health-interval", "1m30s", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "health-timeout", "500ms", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "health-start-period", "0s", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "health-start-interval", "2s", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "health-retries", "5", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "health-on-failure", "kill", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "sdnotify", "healthy", NULL, &err), 0);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(s.health, "Test"), 0)), "CMD-SHELL");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(s.health, "Test"), 1)),
                         "curl -f http://localhost/ || exit 1");
        ck_assert_int_eq(json_integer_value(json_object_get(s.health, "Interval")), 90000000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(s.health, "Timeout")), 500000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(s.health, "StartPeriod")), 0);
        ck_assert_int_eq(json_integer_value(json_object_get(s.health, "StartInterval")), 2000000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(s.health, "Retries")), 5);
        ck_assert_str_eq(s.health_on_failure, "kill");
        ck_assert(s.notify_healthy && !s.notify);
        ck_assert_int_eq(container_spec_finish(&s, &err), 0);
        /* --no-healthcheck with a --health-* option: Docker's conflict */
        ck_assert_int_eq(container_spec_set(&s, "no-healthcheck", NULL, NULL, &err), 0);
        ck_assert_int_lt(container_spec_finish(&s, &err), 0);
        ck_assert_str_eq(err->msg, "--no-healthcheck conflicts with --health-* options");
        container_spec_clear(&s);

        set_fails("health-interval", "x", "invalid duration");
        set_fails("health-interval", "10", "invalid duration"); /* Go's: a unit is required */
        set_fails("health-timeout", "-1s", "cannot be less than 1ms");
        set_fails("health-start-period", "999us", "cannot be less than 1ms");
        set_fails("health-retries", "-1", "a number from 0");
        set_fails("health-retries", "3x", "a number from 0");
        set_fails("health-on-failure", "reboot", "use none, kill, restart or stop");
        set_fails("sdnotify", "ready", "use container, healthy, conmon or ignore");
}
END_TEST

START_TEST(test_network_alias)
{
        struct container_spec s;
        container_spec_init(&s);
        const char *good[] = { "db", "api.local", "web_1", "x-y", "9lives" };
        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(container_spec_set(&s, "network-alias", good[i], NULL, &err) == 0, "%s", good[i]);
        }
        ck_assert_uint_eq(strv_length(s.network_aliases), ARRAY_SIZE(good));
        const char *bad[] = { "", "a b", "-x", ".x", "a/b", "a:b" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(container_spec_set(&s, "network-alias", bad[i], NULL, &err) < 0, "'%s'", bad[i]);
                ck_assert(startswith(err->msg, "invalid network alias '"));
        }
        container_spec_clear(&s);
}
END_TEST

START_TEST(test_args)
{
        struct container_spec s;
        container_spec_init(&s);
        cleanup_error berth_error_t err = NULL;
        char *args[] = { "-e", "A=b", "--read-only", "-m", "64m", "--security-opt", "no-new-privileges",
                         "-u", "1:2", "--init", "--stop-timeout", "7", NULL };
        ck_assert_msg(container_spec_set_args(&s, args, NULL, &err) == 0, "%s", err ? err->msg : "");
        ck_assert_str_eq(s.env[0], "A=b");
        ck_assert(s.read_only && s.init);
        ck_assert_str_eq(json_string_value(json_object_get(s.limits, "memory")), "64m");
        ck_assert_str_eq(s.user, "1:2");
        ck_assert_int_eq(s.stop_timeout, 7);
        char *dangling[] = { "-e", NULL };
        ck_assert_int_lt(container_spec_set_args(&s, dangling, NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "needs a value"));
        berth_error_free(&err);
        char *unknown[] = { "-Z", NULL };
        ck_assert_int_lt(container_spec_set_args(&s, unknown, NULL, &err), 0);
        container_spec_clear(&s);
}
END_TEST

START_TEST(test_finish)
{
        struct container_spec s;
        container_spec_init(&s);
        cleanup_error berth_error_t err = NULL;
        /* label files first, --label wins */
        char tmpl[] = "/tmp/berth-spec-XXXXXX";
        int fd = mkstemp(tmpl);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write_all(fd, "a=file\nb=file\n", 14), 0);
        close(fd);
        ck_assert_int_eq(container_spec_set(&s, "label", "a=flag", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "label-file", tmpl, NULL, &err), 0);
        ck_assert_msg(container_spec_finish(&s, &err) == 0, "%s", err ? err->msg : "");
        unlink(tmpl);
        ck_assert_str_eq(s.labels[0], "a=file");
        ck_assert_str_eq(s.labels[1], "b=file");
        ck_assert_str_eq(s.labels[2], "a=flag");
        container_spec_clear(&s);

        /* limits are checked together; --rm refuses a restart policy */
        container_spec_init(&s);
        ck_assert_int_eq(container_spec_set(&s, "memory", "lots", NULL, &err), 0);
        ck_assert_int_lt(container_spec_finish(&s, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "lots"));
        berth_error_free(&err);
        container_spec_clear(&s);
        container_spec_init(&s);
        ck_assert_int_eq(container_spec_set(&s, "rm", NULL, NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "restart", "always", NULL, &err), 0);
        ck_assert_int_lt(container_spec_finish(&s, &err), 0);
        ck_assert_str_eq(err->msg, "Conflicting options: --restart and --rm");
        container_spec_clear(&s);
}
END_TEST

/* --userns, --uidmap, --gidmap, --subuidname: checked when set, their
 * conflicts by finish */
START_TEST(test_userns)
{
        struct container_spec s;
        container_spec_init(&s);
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(container_spec_set(&s, "userns", "auto:size=100", NULL, &err), 0);
        ck_assert_str_eq(s.userns, "auto:size=100");
        ck_assert_int_eq(container_spec_set(&s, "userns", "host", NULL, &err), 0);
        ck_assert_str_eq(s.userns, "host");
        ck_assert_int_eq(container_spec_set(&s, "uidmap", "0:100000:10", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "uidmap", "10:200000:10", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "gidmap", "0:100000:10", NULL, &err), 0);
        ck_assert_str_eq(s.uidmaps[1], "10:200000:10");
        ck_assert_int_lt(container_spec_finish(&s, &err), 0);
        ck_assert(strstr(err->msg, "conflict"));
        berth_error_free(&err);
        container_spec_clear(&s);
        container_spec_init(&s);
        ck_assert_int_eq(container_spec_set(&s, "subuidname", "berth", NULL, &err), 0);
        ck_assert_int_eq(container_spec_set(&s, "gidmap", "0:1:1", NULL, &err), 0);
        ck_assert_int_lt(container_spec_finish(&s, &err), 0);
        ck_assert(strstr(err->msg, "--subuidname"));
        berth_error_free(&err);
        container_spec_clear(&s);
        set_fails("userns", "x", "invalid --userns 'x'");
        set_fails("userns", "keep-id:uid=x", "keep-id takes uid=N and gid=N");
        /* keep-id and nomap are a user's: refused for root when the container is made */
        container_spec_init(&s);
        ck_assert_int_eq(container_spec_set(&s, "userns", "keep-id:uid=200,gid=210", NULL, &err), 0);
        ck_assert_str_eq(s.userns, "keep-id:uid=200,gid=210");
        ck_assert_int_eq(container_spec_set(&s, "userns", "nomap", NULL, &err), 0);
        container_spec_clear(&s);
        set_fails("uidmap", "0:1", "--uidmap: invalid id mapping '0:1'");
        set_fails("gidmap", "0:1:0", "the size is 0");
        set_fails("subuidname", "a:b", "invalid --subuidname");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("spec");
        TCase *tc = tcase_create("options");
        tcase_add_test(tc, test_table);
        tcase_add_test(tc, test_paths);
        tcase_add_test(tc, test_checked_values);
        tcase_add_test(tc, test_health);
        tcase_add_test(tc, test_network_alias);
        tcase_add_test(tc, test_args);
        tcase_add_test(tc, test_finish);
        tcase_add_test(tc, test_userns);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
