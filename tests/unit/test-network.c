/* Unit tests: -p specs and IPv4 address management (network.h).  Pure
 * functions; runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/util.h"

#include "check-main.h"

static struct port_spec spec_ok(const char *s)
{
        struct port_spec ps;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(port_spec_parse(s, &ps, &err) == 0, "port_spec_parse(%s): %s", s, err ? err->msg : "");
        return ps;
}

static char *spec_error(const char *s)
{
        struct port_spec ps;
        berth_error_t err = NULL;
        ck_assert_int_lt(port_spec_parse(s, &ps, &err), 0);
        ck_assert_ptr_nonnull(err);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

START_TEST(test_port_full)
{
        struct port_spec ps = spec_ok("127.0.0.1:8080:80/udp");
        ck_assert_str_eq(ps.host_ip, "127.0.0.1");
        ck_assert_uint_eq(ps.host_port, 8080);
        ck_assert_uint_eq(ps.host_port_end, 8080);
        ck_assert_uint_eq(ps.ctr_port, 80);
        ck_assert_str_eq(ps.proto, "udp");
}
END_TEST

START_TEST(test_port_host_ctr)
{
        struct port_spec ps = spec_ok("8080:80");
        ck_assert_str_eq(ps.host_ip, "");
        ck_assert_uint_eq(ps.host_port, 8080);
        ck_assert_uint_eq(ps.ctr_port, 80);
        ck_assert_str_eq(ps.proto, "tcp");
}
END_TEST

START_TEST(test_port_ctr_only)
{
        struct port_spec ps = spec_ok("80");
        ck_assert_uint_eq(ps.host_port, 0);
        ck_assert_uint_eq(ps.ctr_port, 80);
        ck_assert_uint_eq(ps.ctr_port_end, 80);
        ps = spec_ok("53/udp");
        ck_assert_uint_eq(ps.ctr_port, 53);
        ck_assert_str_eq(ps.proto, "udp");
        /* IP::CTRPORT: a random port on that address */
        ps = spec_ok("127.0.0.1::80");
        ck_assert_str_eq(ps.host_ip, "127.0.0.1");
        ck_assert_uint_eq(ps.host_port, 0);
        ck_assert_uint_eq(ps.ctr_port, 80);
}
END_TEST

START_TEST(test_port_ranges)
{
        struct port_spec ps = spec_ok("8000-8002:80-82");
        ck_assert_uint_eq(ps.host_port, 8000);
        ck_assert_uint_eq(ps.host_port_end, 8002);
        ck_assert_uint_eq(ps.ctr_port, 80);
        ck_assert_uint_eq(ps.ctr_port_end, 82);
        cleanup_free char *m = spec_error("8000-8003:80-82");
        ck_assert_str_eq(m, "invalid ranges specified for container and host Ports: 8000-8003:80-82");
}
END_TEST

START_TEST(test_port_errors)
{
        static const char *bad[][2] = {
                { "", "invalid containerPort: " },
                { "abc", "invalid containerPort: abc" },
                { "0", "invalid containerPort: 0" },
                { "65536", "invalid containerPort: 65536" },
                { "8080:", "invalid containerPort: " },
                { "x:80", "invalid hostPort: x" },
                { "80/sctp", "invalid proto: sctp (use tcp or udp)" },
                { "1.2.3:8080:80", "invalid IP address in -p 1.2.3:8080:80: 1.2.3 (IPv4 only)" },
                { "90-80", "invalid containerPort: 90-80" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *m = spec_error(bad[i][0]);
                ck_assert_str_eq(m, bad[i][1]);
        }
}
END_TEST

static struct ipv4_subnet subnet_ok(const char *s)
{
        struct ipv4_subnet sn;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(ipam_parse_subnet(s, &sn, &err) == 0, "ipam_parse_subnet(%s): %s", s, err ? err->msg : "");
        return sn;
}

START_TEST(test_subnet_parse)
{
        struct ipv4_subnet sn = subnet_ok("172.17.0.0/16");
        ck_assert_uint_eq(sn.addr, 0xac110000u);
        ck_assert_uint_eq(sn.prefix, 16);
        cleanup_free char *gw = ipam_format(ipam_gateway(&sn));
        ck_assert_str_eq(gw, "172.17.0.1");

        static const char *bad[][2] = {
                { "172.17.0.0", "invalid subnet 172.17.0.0: use ADDRESS/PREFIX, e.g. 172.20.0.0/16" },
                { "172.17.0.0/33", "invalid subnet 172.17.0.0/33: the prefix length must be 8 to 30" },
                { "172.17.0.0/", "invalid subnet 172.17.0.0/: the prefix length must be 8 to 30" },
                { "foo/16", "invalid subnet foo/16: foo is not an IPv4 address" },
                { "172.17.0.1/16", "invalid subnet 172.17.0.1/16: host bits are set (did you mean 172.17.0.0/16?)" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                berth_error_t err = NULL;
                ck_assert_int_lt(ipam_parse_subnet(bad[i][0], &sn, &err), 0);
                ck_assert_str_eq(err->msg, bad[i][1]);
                berth_error_free(&err);
        }
}
END_TEST

/* --network NAME and name=NAME,alias=A,ip=IP */
START_TEST(test_endpoint_parse)
{
        struct network_endpoint_spec e;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(network_endpoint_parse("backnet", &e, &err), 0);
        ck_assert_str_eq(e.name, "backnet");
        ck_assert_ptr_null(e.aliases);
        ck_assert_ptr_null(e.ip);
        network_endpoint_spec_done(&e);
        ck_assert_int_eq(network_endpoint_parse("container:web", &e, &err), 0);
        ck_assert_str_eq(e.name, "container:web");
        network_endpoint_spec_done(&e);
        ck_assert_int_eq(network_endpoint_parse("name=a,alias=x,alias=y.z,ip=10.1.2.3", &e, &err), 0);
        ck_assert_str_eq(e.name, "a");
        ck_assert_str_eq(e.aliases[0], "x");
        ck_assert_str_eq(e.aliases[1], "y.z");
        ck_assert_ptr_null(e.aliases[2]);
        ck_assert_str_eq(e.ip, "10.1.2.3");
        network_endpoint_spec_done(&e);
        /* the name as the first field without a key, as Docker's csv */
        ck_assert_int_eq(network_endpoint_parse("front,alias=w", &e, &err), 0);
        ck_assert_str_eq(e.name, "front");
        ck_assert_str_eq(e.aliases[0], "w");
        network_endpoint_spec_done(&e);

        static const char *bad[][2] = {
                { "", "invalid network \"\": a name or name=NAME[,alias=ALIAS][,ip=IP]" },
                { "a,b", "invalid network \"a,b\": a name or name=NAME[,alias=ALIAS][,ip=IP]" },
                { "alias=x", "invalid --network alias=x: no network name (name=NAME)" },
                { "name=a,alias=b c", "invalid alias \"b c\" in --network name=a,alias=b c" },
                { "name=a,ip=10.1", "invalid IPv4 address in --network name=a,ip=10.1: 10.1" },
                { "name=a,ip=10.0.0.2,ip=10.0.0.3", "invalid ip \"10.0.0.3\" in --network name=a,ip=10.0.0.2,ip=10.0.0.3" },
                { "name=a,name=b", "invalid name \"b\" in --network name=a,name=b" },
                { "name=a,mac-address=02:42:00:00:00:01",
                  "invalid field key \"mac-address\" in --network name=a,mac-address=02:42:00:00:00:01 (name, alias, ip)" },
                { "name=a,x", "invalid field \"x\" in --network name=a,x: must be a key=value pair" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                berth_error_t e2 = NULL;
                ck_assert_int_lt(network_endpoint_parse(bad[i][0], &e, &e2), 0);
                ck_assert_str_eq(e2->msg, bad[i][1]);
                ck_assert_ptr_null(e.name);
                berth_error_free(&e2);
        }
}
END_TEST

START_TEST(test_ipam_host_address)
{
        struct ipv4_subnet sn = subnet_ok("10.5.0.0/24");
        ck_assert(ipam_host_address(&sn, 0x0a050002u));
        ck_assert(ipam_host_address(&sn, 0x0a0500feu));
        ck_assert(!ipam_host_address(&sn, 0x0a050000u)); /* network */
        ck_assert(!ipam_host_address(&sn, 0x0a050001u)); /* gateway */
        ck_assert(!ipam_host_address(&sn, 0x0a0500ffu)); /* broadcast */
        ck_assert(!ipam_host_address(&sn, 0x0a060002u)); /* another subnet */
}
END_TEST

START_TEST(test_ipam_pick)
{
        struct ipv4_subnet sn = subnet_ok("10.1.2.0/29"); /* .1 gateway, .2-.6 hosts, .7 broadcast */
        uint32_t used[8];
        size_t n = 0;
        uint32_t a;
        for (unsigned want = 2; want <= 6; want++) {
                ck_assert_int_eq(ipam_pick(&sn, used, n, &a), 0);
                ck_assert_uint_eq(a, sn.addr + want);
                used[n++] = a;
        }
        ck_assert_int_eq(ipam_pick(&sn, used, n, &a), -ENOSPC);
        /* a freed address is the next one handed out, as Docker's */
        used[1] = used[--n];
        ck_assert_int_eq(ipam_pick(&sn, used, n, &a), 0);
        ck_assert_uint_eq(a, sn.addr + 3);
}
END_TEST

START_TEST(test_ipam_pick_subnet)
{
        struct ipv4_subnet used[3] = { subnet_ok("172.17.0.0/16"), subnet_ok("172.18.0.0/16"),
                                       subnet_ok("172.19.128.0/24") };
        struct ipv4_subnet sn;
        ck_assert_int_eq(ipam_pick_subnet(used, 3, &sn), 0);
        cleanup_free char *s = ipam_format(sn.addr);
        ck_assert_str_eq(s, "172.20.0.0");
        ck_assert_uint_eq(sn.prefix, 16);
        ck_assert(ipam_overlaps(&used[1], &used[1]));
        ck_assert(!ipam_overlaps(&used[0], &used[1]));
        struct ipv4_subnet big = subnet_ok("172.16.0.0/12");
        ck_assert(ipam_overlaps(&big, &used[2]));
        ck_assert(ipam_overlaps(&used[2], &big));
}
END_TEST

START_TEST(test_resolv_conf)
{
        cleanup_free char *a = network_resolv_conf("# generated\nnameserver 127.0.0.1\nnameserver 10.0.0.2\n"
                                                   "search example.org\nnameserver ::1");
        ck_assert_str_eq(a, "# generated\nnameserver 10.0.0.2\nsearch example.org\n");
        cleanup_free char *b = network_resolv_conf("nameserver 127.0.0.11\noptions ndots:0\n");
        ck_assert_str_eq(b, "options ndots:0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        cleanup_free char *c = network_resolv_conf("");
        ck_assert_str_eq(c, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}
END_TEST

/* NetworkSettings.Ports (JSON text) as the PORTS column shows it. */
static void ports_shown(const char *ports_json, const char *want)
{
        json_error_t jerr;
        json_t *ports = json_loads(ports_json, 0, &jerr);
        ck_assert_msg(ports != NULL, "%s: %s", ports_json, jerr.text);
        cleanup_free char *got = network_ports_display(ports);
        json_decref(ports);
        ck_assert_msg(streq(got, want), "%s: got \"%s\", want \"%s\"", ports_json, got, want);
}

#define BIND(ip, port) "{\"HostIp\": \"" ip "\", \"HostPort\": \"" port "\"}"

START_TEST(test_ports_display)
{
        ports_shown("{}", "");
        /* exposed, not published (the flask seed's 5000/tcp without -p) */
        ports_shown("{\"5000/tcp\": null}", "5000/tcp");
        ports_shown("{\"5000/tcp\": []}", "5000/tcp");
        /* published to another host port: after the groups */
        ports_shown("{\"80/tcp\": [" BIND("0.0.0.0", "8080") "], \"5000/tcp\": null}",
                    "5000/tcp, 0.0.0.0:8080->80/tcp");
        /* consecutive ports merge into ranges, published or not */
        ports_shown("{\"8002/tcp\": [" BIND("0.0.0.0", "8002") "], \"8000/tcp\": [" BIND("0.0.0.0", "8000")
                    "], \"8001/tcp\": [" BIND("0.0.0.0", "8001") "]}",
                    "0.0.0.0:8000-8002->8000-8002/tcp");
        ports_shown("{\"5001/tcp\": null, \"5000/tcp\": null, \"5002/tcp\": null}", "5000-5002/tcp");
        /* a gap ends a range; protocols and addresses group apart */
        ports_shown("{\"80/tcp\": null, \"81/tcp\": null, \"83/tcp\": null}", "80-81/tcp, 83/tcp");
        ports_shown("{\"53/udp\": null, \"53/tcp\": null}", "53/tcp, 53/udp");
        ports_shown("{\"9000/tcp\": [" BIND("127.0.0.1", "9000") "], \"9001/tcp\": [" BIND("0.0.0.0", "9001") "]}",
                    "127.0.0.1:9000->9000/tcp, 0.0.0.0:9001->9001/tcp");
        /* one port bound twice: the same-number binding groups, the other follows */
        ports_shown("{\"9988/tcp\": [" BIND("4.3.2.1", "8899") ", " BIND("4.3.2.1", "9988") "]}",
                    "4.3.2.1:9988->9988/tcp, 4.3.2.1:8899->9988/tcp");
        /* ranges published to other host ports are listed one by one, sorted */
        ports_shown("{\"81/tcp\": [" BIND("0.0.0.0", "8081") "], \"80/tcp\": [" BIND("0.0.0.0", "8080") "]}",
                    "0.0.0.0:8080->80/tcp, 0.0.0.0:8081->81/tcp");
}
END_TEST

static Suite *network_suite(void)
{
        Suite *s = suite_create("network");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_port_full);
        tcase_add_test(tc, test_port_host_ctr);
        tcase_add_test(tc, test_port_ctr_only);
        tcase_add_test(tc, test_port_ranges);
        tcase_add_test(tc, test_port_errors);
        tcase_add_test(tc, test_subnet_parse);
        tcase_add_test(tc, test_ipam_pick);
        tcase_add_test(tc, test_endpoint_parse);
        tcase_add_test(tc, test_ipam_host_address);
        tcase_add_test(tc, test_ipam_pick_subnet);
        tcase_add_test(tc, test_resolv_conf);
        tcase_add_test(tc, test_ports_display);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(network_suite)
