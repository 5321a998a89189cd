/* Unit tests: a user's network (src/network/pasta.c): --network
 * pasta[:OPTIONS], the privileged-port check and pasta's command line.
 * Pure functions; runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/util.h"

#include "check-main.h"
#include "strv-check.h"

static char **opts_ok(const char *mode)
{
        char **opts = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(pasta_options_parse(mode, &opts, &err) == 0, "pasta_options_parse(%s): %s", mode,
                      err ? err->msg : "");
        return opts;
}

static char *opts_error(const char *mode)
{
        char **opts = NULL;
        berth_error_t err = NULL;
        ck_assert_int_lt(pasta_options_parse(mode, &opts, &err), 0);
        ck_assert_ptr_null(opts);
        ck_assert_ptr_nonnull(err);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

START_TEST(test_mode)
{
        ck_assert(network_mode_pasta("pasta"));
        ck_assert(network_mode_pasta("pasta:-4"));
        ck_assert(!network_mode_pasta("pastafari"));
        ck_assert(!network_mode_pasta("bridge"));
        ck_assert(!network_mode_pasta(NULL));
        /* its own namespace, set up by the shim */
        ck_assert(network_mode_private("pasta"));
}
END_TEST

START_TEST(test_options)
{
        ck_assert_ptr_null(opts_ok("pasta"));
        ck_assert_ptr_null(opts_ok("pasta:"));
        cleanup_strv char **a = opts_ok("pasta:--ipv4-only,-a,10.0.2.0,-n,24,--map-gw");
        STRV_EQ(a, "--ipv4-only", "-a", "10.0.2.0", "-n", "24", "--map-gw");
        cleanup_strv char **b = opts_ok("pasta:-T,8000");
        STRV_EQ(b, "-T", "8000");
}
END_TEST

START_TEST(test_options_errors)
{
        cleanup_free char *e1 = opts_error("pasta:-4,,-6");
        ck_assert_str_eq(e1, "invalid --network pasta:-4,,-6: an empty option (pasta:OPTION[,VALUE]...)");
        cleanup_free char *e2 = opts_error("pasta:--netns,/run/netns/x");
        ck_assert_str_eq(e2, "invalid --network pasta:--netns,/run/netns/x: berth sets --netns itself (pasta runs in "
                             "the background on the container's namespace)");
        cleanup_free char *e3 = opts_error("pasta:--userns=/proc/1/ns/user");
        ck_assert_str_eq(e3, "invalid --network pasta:--userns=/proc/1/ns/user: berth sets --userns itself (pasta runs "
                             "in the background on the container's namespace)");
        cleanup_free char *e4 = opts_error("pasta:-f");
        ck_assert_ptr_nonnull(strstr(e4, "berth sets -f itself"));
        cleanup_free char *e5 = opts_error("pasta:--foreground");
        ck_assert_ptr_nonnull(strstr(e5, "berth sets --foreground itself"));
        cleanup_free char *e6 = opts_error("pasta:1234");
        ck_assert_str_eq(e6, "invalid --network pasta:1234: pasta's options start with '-' (1234)");
        cleanup_free char *e7 = opts_error("bridge");
        ck_assert_str_eq(e7, "not a pasta network: bridge");
        /* --netns-only is refused as itself, --netnsx is not --netns */
        cleanup_free char *e8 = opts_error("pasta:--netns-only");
        ck_assert_ptr_nonnull(strstr(e8, "berth sets --netns-only itself"));
        cleanup_free char *e9 = opts_error("pasta:--pid,/tmp/p");
        ck_assert_ptr_nonnull(strstr(e9, "berth sets --pid itself"));
}
END_TEST

START_TEST(test_ports_check)
{
        json_auto_t *ok = json_pack("{s:[{s:s, s:s}], s:[{s:s, s:s}]}", "80/tcp", "HostIp", "", "HostPort", "8080",
                                    "53/udp", "HostIp", "", "HostPort", "");
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(pasta_ports_check(ok, 1024, &err), 0);
        json_auto_t *low = json_pack("{s:[{s:s, s:s}]}", "53/udp", "HostIp", "127.0.0.1", "HostPort", "53");
        ck_assert_int_lt(pasta_ports_check(low, 1024, &err), 0);
        ck_assert_str_eq(err->msg, "cannot publish host port 53/udp as a user: ports below 1024 "
                                   "(net.ipv4.ip_unprivileged_port_start) need root");
        berth_error_free(&err);
        /* a host that lowered the start allows them */
        ck_assert_int_eq(pasta_ports_check(low, 0, &err), 0);
        ck_assert_uint_gt(pasta_unprivileged_port_start(), 0);
}
END_TEST

START_TEST(test_argv_default)
{
        json_auto_t *ports = json_pack("{s:n}", "5000/tcp");
        cleanup_strv char **argv = pasta_argv("/proc/self/fd/3", "/run/p.pid", ports, NULL);
        STRV_EQ(argv, "pasta", "--pid", "/run/p.pid", "--config-net", "--quiet", "--netns", "/proc/self/fd/3",
                "--ns-ifname", "eth0", "--no-map-gw", "-t", "none", "-u", "none", "-T", "none", "-U", "none");
}
END_TEST

START_TEST(test_argv_ports)
{
        json_auto_t *ports = json_pack("{s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}]}", "80/tcp", "HostIp", "0.0.0.0",
                                       "HostPort", "8080", "HostIp", "127.0.0.1", "HostPort", "8081", "53/udp",
                                       "HostIp", "0.0.0.0", "HostPort", "5353");
        cleanup_strv char **argv = pasta_argv("/proc/self/fd/3", NULL, ports, NULL);
        STRV_EQ(argv, "pasta", "--config-net", "--quiet", "--netns", "/proc/self/fd/3", "--ns-ifname", "eth0",
                "--no-map-gw", "-t", "8080:80", "-t", "127.0.0.1/8081:80", "-u", "5353:53", "-T", "none", "-U",
                "none");
}
END_TEST

START_TEST(test_argv_user_options)
{
        /* the user's options win: no second --quiet with --debug, their
         * interface name, the gateway mapped, their -T and -u */
        char *opts[] = { "--debug", "-I", "tap0", "--map-gw", "-T", "8000", "-u", "auto", NULL };
        cleanup_strv char **argv = pasta_argv("/proc/self/fd/3", NULL, NULL, opts);
        STRV_EQ(argv, "pasta", "--config-net", "--netns", "/proc/self/fd/3", "-t", "none", "-U", "none", "--debug",
                "-I", "tap0", "-T", "8000", "-u", "auto");
        char *opts2[] = { "--ns-ifname=net0", "--no-map-gw", "--config-net", "-q", NULL };
        cleanup_strv char **argv2 = pasta_argv("/x", NULL, NULL, opts2);
        STRV_EQ(argv2, "pasta", "--netns", "/x", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
                "--ns-ifname=net0", "--no-map-gw", "--config-net", "-q");
}
END_TEST

START_TEST(test_message)
{
        cleanup_free char *a = pasta_message("1796309719.5402: No external routable interface for IPv6\n"
                                             "1796309719.5403: Failed to bind any port for '-t 8080:80', exiting\n");
        ck_assert_str_eq(a, "No external routable interface for IPv6; Failed to bind any port for '-t 8080:80', "
                            "exiting");
        cleanup_free char *b = pasta_message("pasta: unrecognized option '--no-such-option'\n"
                                             "Usage: pasta [OPTION]... [COMMAND] [ARGS]...\n"
                                             "       pasta [OPTION]... PID\n\n  -d, --debug\t\tBe verbose\n");
        ck_assert_str_eq(b, "pasta: unrecognized option '--no-such-option'");
        cleanup_free char *c = pasta_message("");
        ck_assert_str_eq(c, "");
}
END_TEST

static Suite *pasta_suite(void)
{
        Suite *s = suite_create("pasta");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_mode);
        tcase_add_test(tc, test_options);
        tcase_add_test(tc, test_options_errors);
        tcase_add_test(tc, test_ports_check);
        tcase_add_test(tc, test_argv_default);
        tcase_add_test(tc, test_argv_ports);
        tcase_add_test(tc, test_argv_user_options);
        tcase_add_test(tc, test_message);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(pasta_suite)
