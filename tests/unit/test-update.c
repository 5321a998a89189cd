/* Unit tests: `update`'s checks and the record's limits (container-update.h)
 * — values parsed as `run` parses them, Docker's "0 leaves it as it is",
 * the limits checked together with the container's own, the refusals, and
 * the HostConfig fields inspect shows.  No store, no systemd: the container
 * is a record in memory. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/container-update.h"
#include "berth/json-util.h"
#include "berth/util.h"
#include "check-main.h"

/* A record as `run` writes it, with limits (flag -> value text). */
static struct berth_container *record(const char *limits_json, bool rm, const char *definition)
{
        struct berth_container *c = xcalloc(1, sizeof(*c));
        c->id = xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        c->name = xstrdup("web");
        c->dir = xstrdup("/nonexistent");
        c->config = json_pack("{s:{s:b}, s:{s:o}}", "HostConfig", "AutoRemove", rm, "Berth", "Limits",
                              json_loads(limits_json, 0, NULL));
        if (definition)
                json_object_set_new(json_object_get(c->config, "Berth"), "Definition", json_string(definition));
        c->state = json_object();
        return c;
}

static void values_fail(const char *flag, const char *value, const char *want)
{
        json_auto_t *l = json_pack("{s:s}", flag, value);
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(container_update_check_values(l, &err), 0);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(!strchr(err->msg, '\n'), "%s: message has a newline", flag);
        ck_assert_msg(strstr(err->msg, want), "--%s %s: \"%s\" lacks \"%s\"", flag, value, err->msg, want);
}

START_TEST(test_values)
{
        values_fail("memory", "lots", "--memory: invalid size: 'lots'");
        values_fail("cpus", "-1", "--cpus: invalid number of CPUs: '-1'");
        values_fail("blkio-weight", "5", "--blkio-weight: invalid blkio weight");
        values_fail("restart", "sometimes", "--restart: invalid restart policy");
        values_fail("device-read-bps", "/dev/sda:1mb", "cannot be updated");
        json_auto_t *ok = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "memory", "0", "cpus", "1.5", "pids-limit",
                                    "-1", "memory-swap", "-1", "cpuset-cpus", "", "restart", "");
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(container_update_check_values(ok, &err), 0);
}
END_TEST

static void check_fails(struct berth_container *c, json_t *limits, const char *want)
{
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(container_update_check(c, limits, &err), 0);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err->msg, want), "\"%s\" lacks \"%s\"", err->msg, want);
}

START_TEST(test_check)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_container struct berth_container *c = record("{\"memory\": \"128m\", \"memory-swap\": \"256m\"}",
                                                             false, NULL);
        json_auto_t *over = json_pack("{s:s}", "memory", "512m");
        check_fails(c, over, "cannot update container web: Minimum memoryswap limit");
        json_auto_t *both = json_pack("{s:s, s:s}", "memory", "512m", "memory-swap", "1g");
        ck_assert_int_eq(container_update_check(c, both, &err), 0);
        json_auto_t *small = json_pack("{s:s}", "memory", "1m");
        check_fails(c, small, "Minimum memory limit allowed is 6MB");
        /* a check changes nothing */
        ck_assert_str_eq(json_str(c->config, "Berth.Limits.memory"), "128m");

        cleanup_container struct berth_container *rm = record("{}", true, NULL);
        json_auto_t *always = json_pack("{s:s}", "restart", "always");
        check_fails(rm, always, "Restart policy cannot be updated because AutoRemove is enabled for the container");
        json_auto_t *no = json_pack("{s:s}", "restart", "no");
        ck_assert_int_eq(container_update_check(rm, no, &err), 0);

        cleanup_container struct berth_container *def = record("{}", false, "/etc/berth/containers/web.container");
        json_auto_t *two = json_pack("{s:s, s:s}", "memory", "1g", "restart", "always");
        check_fails(def, two,
                    "container web comes from /etc/berth/containers/web.container: change Memory=, Restart= in "
                    "[Service] there");
}
END_TEST

START_TEST(test_host_config)
{
        cleanup_error berth_error_t err = NULL;
        json_auto_t *cfg = json_pack("{s:{}, s:{s:{s:s, s:s, s:s, s:s, s:s, s:s}}}", "HostConfig", "Berth", "Limits",
                                     "memory", "512m", "cpus", "1.5", "cpu-shares", "512", "cpuset-cpus", "0-1",
                                     "pids-limit", "100", "restart", "on-failure:3");
        ck_assert_int_eq(container_host_config_limits(cfg, &err), 0);
        ck_assert_int_eq(json_int(cfg, "HostConfig.Memory", -2), 536870912);
        ck_assert_int_eq(json_int(cfg, "HostConfig.MemorySwap", -2), 2 * 536870912LL); /* Docker's default */
        ck_assert_int_eq(json_int(cfg, "HostConfig.MemoryReservation", -2), 0);
        ck_assert_int_eq(json_int(cfg, "HostConfig.NanoCpus", -2), 1500000000);
        ck_assert_int_eq(json_int(cfg, "HostConfig.CpuShares", -2), 512);
        ck_assert_str_eq(json_str(cfg, "HostConfig.CpusetCpus"), "0-1");
        ck_assert_int_eq(json_int(cfg, "HostConfig.PidsLimit", -2), 100);
        ck_assert_int_eq(json_int(cfg, "HostConfig.BlkioWeight", -2), 0);
        ck_assert_str_eq(json_str(cfg, "HostConfig.RestartPolicy.Name"), "on-failure");
        ck_assert_int_eq(json_int(cfg, "HostConfig.RestartPolicy.MaximumRetryCount", -2), 3);

        /* unlimited: PidsLimit null, MemorySwap -1 */
        json_t *limits = json_at(cfg, "Berth.Limits");
        json_object_set_new(limits, "pids-limit", json_string("-1"));
        json_object_set_new(limits, "memory-swap", json_string("-1"));
        json_object_del(limits, "restart");
        ck_assert_int_eq(container_host_config_limits(cfg, &err), 0);
        ck_assert(json_is_null(json_at(cfg, "HostConfig.PidsLimit")));
        ck_assert_int_eq(json_int(cfg, "HostConfig.MemorySwap", -2), -1);
        ck_assert_str_eq(json_str(cfg, "HostConfig.RestartPolicy.Name"), "no");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("update");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_values);
        tcase_add_test(tc, test_check);
        tcase_add_test(tc, test_host_config);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
