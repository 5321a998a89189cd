/* Unit tests: container records (container.h) — lookup by name, full ID and
 * ID prefix, with the name index ROOT/container-names as a hint only: a
 * missing or stale entry changes nothing of the answer; rename and remove
 * keep it right; create's check that a name is free reads one record when
 * the index is whole and fails closed.  Runs under valgrind in CI
 * (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/container.h"
#include "berth/json-util.h"
#include "check-main.h"
#include "store-fixture.h"

/* Names here are never hex: "db" would also be an ID prefix of a random ID
 * one time in 256, and a "not found" check could find that container. */
static struct berth_container *make(const char *name)
{
        json_auto_t *cfg = json_pack("{s:{}}", "Berth");
        struct berth_container *c = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(container_create(&st, cfg, name, &c, &err) == 0, "%s", err ? err->msg : "");
        return c;
}

/* The ID ref finds, or NULL with the error's message in *msg. */
static char *find(const char *ref, char **msg)
{
        cleanup_container struct berth_container *c = NULL;
        cleanup_error berth_error_t err = NULL;
        if (container_lookup(&st, ref, &c, &err) < 0) {
                *msg = xstrdup(err->msg);
                return NULL;
        }
        *msg = NULL;
        return xstrdup(c->id);
}

static void finds(const char *ref, const char *want_id)
{
        cleanup_free char *msg = NULL;
        cleanup_free char *id = find(ref, &msg);
        ck_assert_msg(id != NULL, "%s: %s", ref, msg ? msg : "");
        ck_assert_str_eq(id, want_id);
}

static void misses(const char *ref, const char *want_msg)
{
        cleanup_free char *msg = NULL;
        cleanup_free char *id = find(ref, &msg);
        ck_assert_msg(id == NULL, "%s found %s", ref, id ? id : "");
        ck_assert_str_eq(msg, want_msg);
}

START_TEST(test_lookup)
{
        cleanup_container struct berth_container *web = make("web");
        cleanup_container struct berth_container *pg = make("pg");
        cleanup_container struct berth_container *anon = make(NULL);
        finds("web", web->id);
        finds("/web", web->id);
        finds(pg->id, pg->id);
        finds(anon->name, anon->id);
        cleanup_free char *prefix = xstrndup(web->id, 12);
        finds(prefix, web->id);
        misses("nosuch", "No such container: nosuch");

        /* the index is a hint: gone, the scan answers the same */
        cleanup_free char *idx = store_path(&st, "container-names/web");
        ck_assert_int_eq(unlink(idx), 0);
        finds("web", web->id);
        /* stale, naming another container: not believed */
        ck_assert_int_eq(symlink(pg->id, idx), 0);
        finds("web", web->id);
        finds("pg", pg->id);
        /* or garbage */
        ck_assert_int_eq(unlink(idx), 0);
        ck_assert_int_eq(symlink("../../etc/passwd", idx), 0);
        finds("web", web->id);

        /* rename: the new name finds it, the old one nothing */
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(container_rename(&st, web, "front", &err), 0);
        finds("front", web->id);
        misses("web", "No such container: web");
        ck_assert_int_lt(container_rename(&st, pg, "front", &err), 0);
        ck_assert_str_eq(err->msg, "Conflict. The container name \"/front\" is already in use");
        berth_error_free(&err);
        finds("pg", pg->id);

        /* a name is unique whatever the index says */
        json_auto_t *cfg = json_pack("{s:{}}", "Berth");
        struct berth_container *dup = NULL;
        cleanup_free char *didx = store_path(&st, "container-names/pg");
        ck_assert_int_eq(unlink(didx), 0);
        ck_assert_int_lt(container_create(&st, cfg, "pg", &dup, &err), 0);
        ck_assert(strstr(err->msg, "is already in use by container"));
        berth_error_free(&err);

        /* remove: gone by name and ID, its index entry with it */
        cleanup_free char *id = xstrdup(pg->id);
        ck_assert_int_eq(container_remove(&st, pg, &err), 0);
        misses("pg", "No such container: pg");
        cleanup_free char *want = xasprintf("No such container: %s", id);
        misses(id, want);
        cleanup_free char *fidx = store_path(&st, "container-names/front");
        struct stat sb;
        ck_assert_int_eq(lstat(fidx, &sb), 0); /* a symlink to the bare ID */
        ck_assert_int_eq(container_remove(&st, web, &err), 0);
        ck_assert_int_lt(lstat(fidx, &sb), 0);
        ck_assert_uint_eq(count_entries("containers"), 1); /* anon */
}
END_TEST

/* create's uniqueness check: one record read while every record has its
 * index entry, all of them (and the entries restored) when one has not. */
START_TEST(test_name_taken)
{
        cleanup_container struct berth_container *alpha = make("alpha");
        cleanup_error berth_error_t err = NULL;
        json_auto_t *cfg = json_pack("{s:{}}", "Berth");
        struct berth_container *dup = NULL;
        ck_assert_int_lt(container_create(&st, cfg, "alpha", &dup, &err), 0);
        ck_assert(strstr(err->msg, "\"/alpha\" is already in use by container"));
        berth_error_free(&err);

        /* an entry whose container is gone does not hold its name */
        cleanup_free char *ghost = store_path(&st, "container-names/ghost");
        ck_assert_int_eq(symlink("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ghost), 0);
        cleanup_container struct berth_container *g = make("ghost");
        finds("ghost", g->id);

        /* an entry lost: the next create reads every record and puts it back */
        cleanup_free char *aidx = store_path(&st, "container-names/alpha");
        ck_assert_int_eq(unlink(aidx), 0);
        ck_assert_int_lt(container_create(&st, cfg, "alpha", &dup, &err), 0);
        ck_assert(strstr(err->msg, "is already in use by container"));
        berth_error_free(&err);
        struct stat sb;
        ck_assert_int_eq(lstat(aidx, &sb), 0);

        /* the record an entry names cannot be read: that name is refused
         * (fail closed), another is free */
        cleanup_free char *cfgpath = xasprintf("%s/config.json", alpha->dir);
        FILE *f = fopen(cfgpath, "w");
        ck_assert_ptr_nonnull(f);
        fputs("garbage{", f);
        fclose(f);
        ck_assert_int_lt(container_create(&st, cfg, "alpha", &dup, &err), 0);
        ck_assert_msg(strstr(err->msg, "cannot tell whether the name \"alpha\" is free: container record ") &&
                              strstr(err->msg, " unreadable: "),
                      "%s", err->msg);
        berth_error_free(&err);
        cleanup_container struct berth_container *beta = make("beta");
        finds("beta", beta->id);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("container");
        TCase *tc = tcase_create("lookup");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_lookup);
        tcase_add_test(tc, test_name_taken);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
