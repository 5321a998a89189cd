/* Unit tests: id mappings (--uidmap), /etc/subuid content, the choice of
 * --userns=auto ranges, --userns modes and userns-remap (idmap.h).  Runs
 * under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/idmap.h"
#include "berth/util.h"
#include "check-main.h"
#include "tmpdir-fixture.h"

static struct idmap_range range_ok(const char *text)
{
        struct idmap_range r;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(idmap_range_parse(text, &r, &err) == 0, "%s: %s", text, err ? err->msg : "");
        return r;
}

/* The one-line error of call, which fills _e (malloc'd). */
#define ERR_OF(call)                                                                  \
        ({                                                                            \
                berth_error_t _e = NULL;                                              \
                ck_assert_int_lt((call), 0);                                          \
                ck_assert_ptr_nonnull(_e);                                            \
                ck_assert_msg(!strchr(_e->msg, '\n'), "newline in: %s", _e->msg);     \
                char *_m = xstrdup(_e->msg);                                          \
                berth_error_free(&_e);                                                \
                _m;                                                                   \
        })

START_TEST(test_range_parse)
{
        struct idmap_range r = range_ok("0:100000:65536");
        ck_assert_uint_eq(r.container, 0);
        ck_assert_uint_eq(r.host, 100000);
        ck_assert_uint_eq(r.size, 65536);
        r = range_ok("4294967294:0:1");
        ck_assert_uint_eq(r.container, 4294967294u);
        static const char *bad[] = { "", "0", "0:1", "0:1:", ":1:2", "a:1:2", "0:1:2:3", "-1:0:1", "0:+1:2",
                                     "0:1:0", "0:1: 2", "99999999999:0:1", "0:4294967295:1", "4294967295:0:1",
                                     "0:4294967290:10", "0:1:4294967295" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct idmap_range x;
                cleanup_free char *m = ERR_OF(idmap_range_parse(bad[i], &x, &_e));
                ck_assert_msg(strstr(m, "invalid id mapping"), "%s: %s", bad[i], m);
        }
}
END_TEST

START_TEST(test_map_add_and_lookup)
{
        struct idmap m = {};
        struct idmap_range a = range_ok("0:100000:1000"), b = range_ok("1000:200000:10"), c = range_ok("5:300000:1"),
                           d = range_ok("2000:100500:10");
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(idmap_add(&m, &a, "--uidmap", &e), 0);
        ck_assert_int_eq(idmap_add(&m, &b, "--uidmap", &e), 0);
        cleanup_free char *m1 = ERR_OF(idmap_add(&m, &c, "--uidmap", &_e));
        ck_assert_str_eq(m1, "--uidmap: 5:300000:1 overlaps 0:100000:1000");
        cleanup_free char *m2 = ERR_OF(idmap_add(&m, &d, "--uidmap", &_e));
        ck_assert(strstr(m2, "overlaps"));
        uint32_t h;
        ck_assert(idmap_to_host(&m, 0, &h) && h == 100000);
        ck_assert(idmap_to_host(&m, 999, &h) && h == 100999);
        ck_assert(idmap_to_host(&m, 1009, &h) && h == 200009);
        ck_assert(!idmap_to_host(&m, 1010, &h));
        cleanup_free char *text = idmap_proc_text(&m);
        ck_assert_str_eq(text, "0 100000 1000\n1000 200000 10\n");
        json_auto_t *j = idmap_to_json(&m);
        struct idmap back;
        ck_assert_int_eq(idmap_from_json(j, &back, &e), 0);
        ck_assert_uint_eq(back.n, 2);
        ck_assert_uint_eq(back.r[1].host, 200000);
        json_auto_t *bad = json_pack("[s]", "0:1");
        cleanup_free char *m3 = ERR_OF(idmap_from_json(bad, &back, &_e));
        json_auto_t *notlist = json_string("x");
        cleanup_free char *m4 = ERR_OF(idmap_from_json(notlist, &back, &_e));
        ck_assert_str_eq(m4, "the id mapping is not a list");
        struct idmap full = {};
        for (uint32_t i = 0; i < IDMAP_MAX; i++) {
                struct idmap_range r = { i, 1000 + i, 1 };
                ck_assert_int_eq(idmap_add(&full, &r, "x", &e), 0);
        }
        struct idmap_range one_more = { IDMAP_MAX, 5000, 1 };
        cleanup_free char *m5 = ERR_OF(idmap_add(&full, &one_more, "x", &_e));
        ck_assert(strstr(m5, "more than"));
}
END_TEST

START_TEST(test_subid_parse)
{
        const char *text = "# comment\n"
                           "alice:100000:65536\n"
                           "\n"
                           "berth:200000:65536\n"
                           "bogus line for someone else\n"
                           "berth:400000:1000  \n"
                           "berthold:1:2\n"
                           "1234:500000:10\n"
                           "berth:600000:5";
        struct idmap_range r[8];
        size_t n;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(idmap_subid_parse(text, "berth", (uid_t) -1, r, 8, &n, &e), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(r[0].host, 200000);
        ck_assert_uint_eq(r[1].size, 1000);
        ck_assert_uint_eq(r[2].host, 600000);
        ck_assert_int_eq(idmap_subid_parse(text, "nobody", 1234, r, 8, &n, &e), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(r[0].host, 500000);
        ck_assert_int_eq(idmap_subid_parse(text, "carol", (uid_t) -1, r, 8, &n, &e), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(idmap_subid_parse("", "berth", (uid_t) -1, r, 8, &n, &e), 0);
        ck_assert_uint_eq(n, 0);
        cleanup_free char *m1 = ERR_OF(idmap_subid_parse("x:1:1\nberth:12\n", "berth", (uid_t) -1, r, 8, &n, &_e));
        ck_assert_str_eq(m1, "line 2: invalid entry 'berth:12': want NAME:START:COUNT");
        cleanup_free char *m2 = ERR_OF(idmap_subid_parse("berth:1:0\n", "berth", (uid_t) -1, r, 8, &n, &_e));
        cleanup_free char *m3 = ERR_OF(idmap_subid_parse("berth:4294967295:2\n", "berth", (uid_t) -1, r, 8, &n, &_e));
        cleanup_free char *m4 = ERR_OF(idmap_subid_parse("berth:1:1\nberth:5:1\n", "berth", (uid_t) -1, r, 1, &n, &_e));
        ck_assert(strstr(m4, "more than 1"));
}
END_TEST

START_TEST(test_allocate)
{
        struct idmap_range avail[] = { { 0, 100000, 200000 }, { 0, 1000000, 65536 } };
        uint32_t start;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(idmap_allocate(avail, 2, NULL, 0, 65536, &start, &e), 0);
        ck_assert_uint_eq(start, 100000);
        struct idmap_range taken[] = { { 0, 100000, 65536 }, { 0, 165536, 1000 }, { 0, 200000, 10 } };
        ck_assert_int_eq(idmap_allocate(avail, 2, taken, 3, 65536, &start, &e), 0);
        ck_assert_uint_eq(start, 200010); /* 166536..200000 is too small */
        struct idmap_range taken4[] = { taken[0], taken[1], taken[2], { 0, 200010, 99990 } };
        ck_assert_int_eq(idmap_allocate(avail, 2, taken4, 4, 65536, &start, &e), 0);
        ck_assert_uint_eq(start, 1000000); /* the first is full: the second */
        ck_assert_int_eq(idmap_allocate(avail, 2, taken, 3, 1000, &start, &e), 0);
        ck_assert_uint_eq(start, 166536);
        /* a taken range reaching into the start of the next gap */
        struct idmap_range t2[] = { { 0, 99000, 2000 } };
        ck_assert_int_eq(idmap_allocate(avail, 1, t2, 1, 10, &start, &e), 0);
        ck_assert_uint_eq(start, 101000);
        cleanup_free char *m = ERR_OF(idmap_allocate(avail, 2, NULL, 0, 300000, &start, &_e));
        ck_assert_str_eq(m, "no free range of 300000 ids left in the subordinate ranges");
        struct idmap_range top[] = { { 0, 4294967295u - 10, 10 } };
        ck_assert_int_eq(idmap_allocate(top, 1, NULL, 0, 10, &start, &e), 0);
        cleanup_free char *m2 = ERR_OF(idmap_allocate(top, 1, NULL, 0, 11, &start, &_e));
}
END_TEST

START_TEST(test_userns_modes)
{
        struct idmap_userns u;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(idmap_userns_parse(NULL, &u, &e), 0);
        ck_assert_int_eq(u.kind, USERNS_HOST);
        ck_assert_int_eq(idmap_userns_parse("host", &u, &e), 0);
        ck_assert_int_eq(u.kind, USERNS_HOST);
        ck_assert_int_eq(idmap_userns_parse("auto", &u, &e), 0);
        ck_assert_int_eq(u.kind, USERNS_AUTO);
        ck_assert_uint_eq(u.size, IDMAP_AUTO_SIZE);
        ck_assert_int_eq(idmap_userns_parse("auto:size=1000", &u, &e), 0);
        ck_assert_uint_eq(u.size, 1000);
        ck_assert_int_eq(idmap_userns_parse("nomap", &u, &e), 0);
        ck_assert_int_eq(u.kind, USERNS_NOMAP);
        ck_assert_int_eq(idmap_userns_parse("keep-id", &u, &e), 0);
        ck_assert_int_eq(u.kind, USERNS_KEEP_ID);
        ck_assert(!u.has_uid && !u.has_gid);
        ck_assert_int_eq(idmap_userns_parse("keep-id:uid=200,gid=210", &u, &e), 0);
        ck_assert(u.has_uid && u.has_gid);
        ck_assert_uint_eq(u.uid, 200);
        ck_assert_uint_eq(u.gid, 210);
        ck_assert_int_eq(idmap_userns_parse("keep-id:gid=5", &u, &e), 0);
        ck_assert(!u.has_uid && u.has_gid);
        ck_assert_uint_eq(u.gid, 5);
        static const char *bad[] = { "bogus", "auto:", "auto:size=", "auto:size=0", "auto:size=x",
                                     "auto:uidmapping=0:1:2", "autox", "keep-id:", "keep-id:uid=", "keep-id:uid=x",
                                     "keep-id:uid=1,uid=2", "keep-id:size=5", "keep-idx", "nomap:x",
                                     "keep-id:uid=99999999999" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                cleanup_free char *m = ERR_OF(idmap_userns_parse(bad[i], &u, &_e));
                ck_assert_msg(strstr(m, "--userns"), "%s: %s", bad[i], m);
        }
}
END_TEST

/* keep-id: the user (nested id 0) at container id inner, every subordinate
 * id once, in order around it; nomap: the subordinate ids only. */
START_TEST(test_nested_maps)
{
        /* berth's namespace of a user with one range of 65536 subordinate ids */
        struct idmap one = { .r = { { 0, 1001, 1 }, { 1, 100000, 65536 } }, .n = 2 };
        struct idmap m;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(idmap_nested(USERNS_KEEP_ID, &one, 1000, &m, &e), 0);
        cleanup_free char *t = idmap_proc_text(&m);
        ck_assert_str_eq(t, "0 1 1000\n1000 0 1\n1001 1001 64536\n");
        uint32_t h;
        ck_assert(idmap_to_host(&m, 0, &h) && h == 1);
        ck_assert(idmap_to_host(&m, 1000, &h) && h == 0);
        ck_assert(idmap_to_host(&m, 65536, &h) && h == 65536);
        ck_assert(!idmap_to_host(&m, 65537, &h));
        /* as Podman's keep-id:uid=11 */
        ck_assert_int_eq(idmap_nested(USERNS_KEEP_ID, &one, 11, &m, &e), 0);
        cleanup_free char *t1 = idmap_proc_text(&m);
        ck_assert_str_eq(t1, "0 1 11\n11 0 1\n12 12 65525\n");
        /* two ranges of subordinate ids: no range of the nested map spans both */
        struct idmap two = { .r = { { 0, 1001, 1 }, { 1, 100000, 65536 }, { 65537, 600000, 65536 } }, .n = 3 };
        ck_assert_int_eq(idmap_nested(USERNS_KEEP_ID, &two, 1001, &m, &e), 0);
        cleanup_free char *t2 = idmap_proc_text(&m);
        ck_assert_str_eq(t2, "0 1 1001\n1001 0 1\n1002 1002 64535\n65537 65537 65536\n");
        /* the user above the subordinate ids: last */
        struct idmap small = { .r = { { 0, 1001, 1 }, { 1, 100000, 500 } }, .n = 2 };
        ck_assert_int_eq(idmap_nested(USERNS_KEEP_ID, &small, 1000, &m, &e), 0);
        cleanup_free char *t3 = idmap_proc_text(&m);
        ck_assert_str_eq(t3, "0 1 500\n1000 0 1\n");
        /* keep-id:uid=0 is berth's own mapping again */
        ck_assert_int_eq(idmap_nested(USERNS_KEEP_ID, &small, 0, &m, &e), 0);
        cleanup_free char *t4 = idmap_proc_text(&m);
        ck_assert_str_eq(t4, "0 0 1\n1 1 500\n");
        ck_assert_int_eq(idmap_nested(USERNS_NOMAP, &two, 1000, &m, &e), 0);
        cleanup_free char *t5 = idmap_proc_text(&m);
        ck_assert_str_eq(t5, "0 1 65536\n65536 65537 65536\n");
        ck_assert(!idmap_to_container(&m, 0, &h));
        struct idmap none = { .r = { { 0, 1001, 1 } }, .n = 1 };
        cleanup_free char *m1 = ERR_OF(idmap_nested(USERNS_KEEP_ID, &none, 1000, &m, &_e));
        ck_assert_msg(strstr(m1, "usermod --add-subuids"), "%s", m1);
        cleanup_free char *m2 = ERR_OF(idmap_nested(USERNS_NOMAP, &none, 1000, &m, &_e));
        ck_assert_msg(strstr(m2, "nomap"), "%s", m2);
}
END_TEST

static void write_config(const char *path, const char *text)
{
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644, NULL), 0);
}

START_TEST(test_remap_config)
{
        cleanup_free char *p = xasprintf("%s/config.json", tmpdir);
        char *name = NULL;
        cleanup_error berth_error_t e = NULL;
        ck_assert_int_eq(idmap_remap_config(p, &name, &e), 0); /* no file */
        ck_assert_ptr_null(name);
        write_config(p, "{\"insecure-registries\": []}");
        ck_assert_int_eq(idmap_remap_config(p, &name, &e), 0);
        ck_assert_ptr_null(name);
        write_config(p, "{\"userns-remap\": \"\"}");
        ck_assert_int_eq(idmap_remap_config(p, &name, &e), 0);
        ck_assert_ptr_null(name);
        write_config(p, "{\"userns-remap\": \"default\"}");
        ck_assert_int_eq(idmap_remap_config(p, &name, &e), 0);
        ck_assert_str_eq(name, "berth");
        free(name);
        write_config(p, "{\"userns-remap\": \"builder\"}");
        ck_assert_int_eq(idmap_remap_config(p, &name, &e), 0);
        ck_assert_str_eq(name, "builder");
        free(name);
        static const char *bad[] = { "{\"userns-remap\": 5}", "{\"userns-remap\": \"a:b\"}", "[1]", "{" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                write_config(p, bad[i]);
                cleanup_free char *m = ERR_OF(idmap_remap_config(p, &name, &_e));
                ck_assert_msg(startswith(m, p), "%s: %s", bad[i], m);
        }
}
END_TEST

static void setup_tmp(void)
{
        tmpdir_make("idmap");
}

static Suite *suite(void)
{
        Suite *s = suite_create("idmap");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_range_parse);
        tcase_add_test(tc, test_map_add_and_lookup);
        tcase_add_test(tc, test_subid_parse);
        tcase_add_test(tc, test_allocate);
        tcase_add_test(tc, test_userns_modes);
        tcase_add_test(tc, test_nested_maps);
        suite_add_tcase(s, tc);
        tc = tcase_create("config");
        tcase_add_checked_fixture(tc, setup_tmp, tmpdir_remove);
        tcase_add_test(tc, test_remap_config);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
