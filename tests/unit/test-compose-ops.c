/* Unit tests: what the compose commands beyond up/down take from the model
 * (compose.h): the services named on a command line, the image a service
 * runs (its build's PROJECT-SERVICE), the `compose logs` prefixes and
 * --tail, and the `run` flags of a one-off container.  Runs under valgrind
 * in CI (CK_FORK=no), so everything is freed. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/compose.h"
#include "berth/util.h"
#include "check-main.h"
#include "strv-check.h"
#include "tmpdir-fixture.h"

static void setup(void)
{
        tmpdir_make("compose-ops");
}

static void teardown(void)
{
        tmpdir_remove();
}

static struct compose_project *load(const char *yaml)
{
        cleanup_free char *path = xasprintf("%s/compose.yaml", tmpdir);
        ck_assert_int_eq(write_file_atomic(path, yaml, strlen(yaml), 0644, NULL), 0);
        char *env[] = { NULL };
        struct compose_options o = { .workdir = tmpdir, .environ = env, .project_name = "app" };
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(compose_load(&o, &p, &err) == 0, "%s", err ? err->msg : "?");
        return p;
}

static const char yaml[] = "services:\n"
                           "  web:\n"
                           "    build: {context: ./src, target: prod}\n"
                           "  db:\n"
                           "    image: busybox\n"
                           "  cache:\n"
                           "    image: reg.example:5000/c:1\n"
                           "    build: .\n"
                           "    container_name: the-cache\n";

START_TEST(test_select_services)
{
        cleanup_compose_project struct compose_project *p = load(yaml);
        const struct compose_service **v = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(compose_select_services(p, NULL, &v, &err), 0);
        size_t n = 0;
        while (v[n])
                n++;
        ck_assert_uint_eq(n, 3);
        free(v);
        /* in the project's order, each once */
        char *names[] = { "web", "cache", "web", NULL };
        ck_assert_int_eq(compose_select_services(p, names, &v, &err), 0);
        ck_assert_ptr_nonnull(v[0]);
        ck_assert_ptr_nonnull(v[1]);
        ck_assert_ptr_null(v[2]);
        ck_assert(streq(v[0]->name, "cache") || streq(v[1]->name, "cache"));
        free(v);
        char *bad[] = { "web", "nope", NULL };
        v = NULL;
        ck_assert_int_lt(compose_select_services(p, bad, &v, &err), 0);
        ck_assert_ptr_null(v);
        ck_assert_str_eq(err->msg, "no such service: nope");
}
END_TEST

START_TEST(test_service_image)
{
        cleanup_compose_project struct compose_project *p = load(yaml);
        cleanup_free char *web = compose_service_image(p, compose_find_service(p, "web"));
        cleanup_free char *db = compose_service_image(p, compose_find_service(p, "db"));
        cleanup_free char *cache = compose_service_image(p, compose_find_service(p, "cache"));
        ck_assert_str_eq(web, "app-web");
        ck_assert_str_eq(db, "busybox");
        ck_assert_str_eq(cache, "reg.example:5000/c:1");
        /* the build context is the file's directory's ./src, absolute */
        cleanup_free char *ctx = xasprintf("%s/src", tmpdir);
        ck_assert_str_eq(compose_find_service(p, "web")->build->context, ctx);
        cleanup_free char *l1 = compose_log_prefix_label(compose_find_service(p, "web"), 1);
        cleanup_free char *l2 = compose_log_prefix_label(compose_find_service(p, "cache"), 1);
        ck_assert_str_eq(l1, "web-1");
        ck_assert_str_eq(l2, "the-cache");
}
END_TEST

START_TEST(test_log_prefixes)
{
        char *labels[] = { "web-1", "db-1", "the-cache", NULL };
        cleanup_strv char **v = compose_log_prefixes(labels);
        STRV_EQ(v, "web-1      | ", "db-1       | ", "the-cache  | ");
        char *one[] = { "web-1", NULL };
        cleanup_strv char **w = compose_log_prefixes(one);
        STRV_EQ(w, "web-1  | ");
        char *none[] = { NULL };
        cleanup_strv char **z = compose_log_prefixes(none);
        ck_assert_ptr_null(z[0]);
}
END_TEST

START_TEST(test_parse_tail)
{
        long t = 7;
        ck_assert_int_eq(compose_parse_tail("all", &t), 0);
        ck_assert_int_eq(t, -1);
        ck_assert_int_eq(compose_parse_tail("0", &t), 0);
        ck_assert_int_eq(t, 0);
        ck_assert_int_eq(compose_parse_tail("25", &t), 0);
        ck_assert_int_eq(t, 25);
        ck_assert_int_eq(compose_parse_tail("-1", &t), 0);
        ck_assert_int_eq(t, -1);
        const char *bad[] = { "", "x", "-2", "3x", "99999999999999999999999" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                ck_assert_msg(compose_parse_tail(bad[i], &t) < 0, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(test_run_args)
{
        char *args[] = { "-e", "A=b", "-p", "8080:80", "--network", "app_default", "--publish", "53:53/udp",
                         "-P", "--publish=1:1", "--network-alias", "web", "--network-alias=w2", "-v", "/a:/b", NULL };
        cleanup_strv char **out = NULL;
        strv_push(&out, "run");
        compose_run_args(args, &out);
        STRV_EQ(out, "run", "-e", "A=b", "--network", "app_default", "-v", "/a:/b");
        cleanup_strv char **empty = NULL;
        compose_run_args(NULL, &empty);
        ck_assert_ptr_null(empty);
}
END_TEST

START_TEST(test_run_limit_args)
{
        cleanup_compose_project struct compose_project *p = load(
                "services:\n"
                "  a:\n"
                "    image: x\n"
                "    mem_limit: 64m\n"
                "    cpus: 0.5\n"
                "    deploy: {resources: {limits: {pids: 20}, reservations: {memory: 32m}}}\n"
                "    ulimits: {nofile: {soft: 1024, hard: 2048}}\n"
                "    stop_signal: SIGINT\n"
                "    stop_grace_period: 1500ms\n"
                "  b:\n"
                "    image: x\n");
        cleanup_strv char **out = NULL;
        compose_run_limit_args(compose_find_service(p, "a"), &out);
        STRV_EQ(out, "--memory", "67108864", "--memory-reservation", "33554432", "--pids-limit", "20", "--cpus", "0.5",
                "--ulimit", "nofile=1024:2048", "--stop-signal", "SIGINT", "--stop-timeout", "2");
        cleanup_strv char **none = NULL;
        compose_run_limit_args(compose_find_service(p, "b"), &none);
        ck_assert_ptr_null(none);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-ops");
        TCase *tc = tcase_create("ops");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_select_services);
        tcase_add_test(tc, test_service_image);
        tcase_add_test(tc, test_log_prefixes);
        tcase_add_test(tc, test_parse_tail);
        tcase_add_test(tc, test_run_args);
        tcase_add_test(tc, test_run_limit_args);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
