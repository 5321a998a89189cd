/* Unit tests: `berth events` filters (event.h: keys, values, same key OR,
 * different keys AND), Docker's JSON and text line of an event, and the
 * --since/--until forms events take (parse_timestamp). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/error.h"
#include "berth/event.h"
#include "berth/parse.h"
#include "berth/util.h"
#include "check-main.h"

static const char ID[] = "7c8e0e2b5a3f4d1e9b8c7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d";

static struct event container_event_of(const char *action, json_t *attrs)
{
        return (struct event) { .type = "container", .action = action, .id = ID, .time_ns = 1764748800123456789LL,
                                .attrs = attrs };
}

START_TEST(test_filter_parse)
{
        struct event_filter f = {};
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(event_filter_add(&f, "type=container", &err), 0);
        ck_assert_int_eq(event_filter_add(&f, "event=die", &err), 0);
        ck_assert_int_eq(event_filter_add(&f, "label=a=b", &err), 0);
        ck_assert_str_eq(f.label[0], "a=b");
        ck_assert_int_lt(event_filter_add(&f, "type=bogus", &err), 0);
        ck_assert_str_eq(err->msg, "invalid filter 'type=bogus'");
        berth_error_free(&err);
        ck_assert_int_lt(event_filter_add(&f, "colour=red", &err), 0);
        ck_assert_str_eq(err->msg, "invalid filter 'colour'");
        berth_error_free(&err);
        const char *bad[] = { "type", "=x", "type=", "" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                ck_assert_int_lt(event_filter_add(&f, bad[i], &err), 0);
                berth_error_free(&err);
        }
        event_filter_free(&f);
}
END_TEST

START_TEST(test_filter_match)
{
        json_auto_t *attrs = json_pack("{s:s, s:s, s:s, s:s}", "image", "busybox", "name", "web", "exitCode", "3",
                                       "tier", "front");
        struct event die = container_event_of("die", attrs);
        struct event start = container_event_of("start", attrs);
        json_auto_t *iattrs = json_pack("{s:s}", "name", "busybox:latest");
        struct event tag = { .type = "image", .action = "tag", .id = "sha256:abcd", .attrs = iattrs };
        json_auto_t *hattrs = json_pack("{s:s}", "name", "web");
        struct event health = container_event_of("health_status: healthy", hattrs);
        cleanup_error berth_error_t err = NULL;

        struct event_filter f = {};
        ck_assert(event_filter_match(&f, &die)); /* no filter: everything */
        ck_assert_int_eq(event_filter_add(&f, "event=die", &err), 0);
        ck_assert(event_filter_match(&f, &die));
        ck_assert(!event_filter_match(&f, &start));
        ck_assert_int_eq(event_filter_add(&f, "event=start", &err), 0); /* same key: OR */
        ck_assert(event_filter_match(&f, &start));
        ck_assert_int_eq(event_filter_add(&f, "container=other", &err), 0); /* another key: AND */
        ck_assert(!event_filter_match(&f, &die));
        event_filter_free(&f);

        const struct {
                const char *spec;
                struct event *e;
                bool want;
        } cases[] = {
                { "container=web", &die, true },       { "container=7c8e", &die, true },
                { "container=we", &die, false },       { "container=web", &tag, false },
                { "image=busybox", &die, true },       { "image=busybox:latest", &die, false },
                { "image=busybox", &tag, true },       { "image=sha256:ab", &tag, true },
                { "image=alpine", &tag, false },       { "type=image", &tag, true },
                { "type=container", &tag, false },     { "label=tier", &die, true },
                { "label=tier=front", &die, true },    { "label=tier=back", &die, false },
                { "label=zone", &die, false },         { "event=health_status", &health, true },
                { "event=health_status: healthy", &health, true }, { "event=health", &health, false },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                ck_assert_int_eq(event_filter_add(&f, cases[i].spec, &err), 0);
                ck_assert_msg(event_filter_match(&f, cases[i].e) == cases[i].want, "%s", cases[i].spec);
                event_filter_free(&f);
        }
}
END_TEST

START_TEST(test_output)
{
        json_auto_t *attrs = json_pack("{s:s, s:s, s:s}", "name", "web", "image", "busybox", "exitCode", "3");
        struct event e = container_event_of("die", attrs);
        cleanup_free char *line = event_format_line(&e);
        cleanup_free char *want = xasprintf("2025-12-03T08:00:00.123456789Z container die %s "
                                            "(exitCode=3, image=busybox, name=web)",
                                            ID);
        ck_assert_str_eq(line, want);

        json_auto_t *j = event_to_json(&e);
        ck_assert_str_eq(json_string_value(json_object_get(j, "Type")), "container");
        ck_assert_str_eq(json_string_value(json_object_get(j, "Action")), "die");
        ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "die");
        ck_assert_str_eq(json_string_value(json_object_get(j, "id")), ID);
        ck_assert_str_eq(json_string_value(json_object_get(j, "from")), "busybox");
        ck_assert_str_eq(json_string_value(json_object_get(j, "scope")), "local");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "time")), 1764748800);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "timeNano")), 1764748800123456789LL);
        json_t *actor = json_object_get(j, "Actor");
        ck_assert_str_eq(json_string_value(json_object_get(actor, "ID")), ID);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(actor, "Attributes"), "exitCode")), "3");

        /* an image event has no status/id/from, and no attributes prints no parentheses */
        struct event img = { .type = "image", .action = "delete", .id = "sha256:ab", .time_ns = 0 };
        json_auto_t *ij = event_to_json(&img);
        ck_assert_ptr_null(json_object_get(ij, "status"));
        ck_assert_ptr_null(json_object_get(ij, "from"));
        ck_assert(json_is_object(json_object_get(json_object_get(ij, "Actor"), "Attributes")));
        cleanup_free char *iline = event_format_line(&img);
        ck_assert_str_eq(iline, "1970-01-01T00:00:00.000000000Z image delete sha256:ab");
}
END_TEST

START_TEST(test_since_until)
{
        long long now = 1764748800LL * 1000000000LL, ns = 0;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(parse_timestamp("10m", now, &ns, &err), 0);
        ck_assert_int_eq(ns, now - 600LL * 1000000000LL);
        ck_assert_int_eq(parse_timestamp("1764748800", now, &ns, &err), 0);
        ck_assert_int_eq(ns, now);
        ck_assert_int_eq(parse_timestamp("2025-12-03T08:00:00Z", now, &ns, &err), 0);
        ck_assert_int_eq(ns, now);
        ck_assert_int_lt(parse_timestamp("yesterday", now, &ns, &err), 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("event");
        TCase *tc = tcase_create("event");
        tcase_add_test(tc, test_filter_parse);
        tcase_add_test(tc, test_filter_match);
        tcase_add_test(tc, test_output);
        tcase_add_test(tc, test_since_until);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
