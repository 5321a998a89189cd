/* Unit tests: secret names and the --secret syntax (secret.h); the store's
 * secrets on a scratch store: create, lookup, the value, rm refused while a
 * container uses one or when nobody can tell.  systemd-creds is kept out of
 * reach (PATH), so the plain path is what runs here (encryption would make
 * the host's credential key).  Runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/secret.h"
#include "berth/util.h"
#include "check-main.h"
#include "store-fixture.h"

START_TEST(test_secret_names)
{
        ck_assert(secret_name_valid("db"));
        ck_assert(secret_name_valid("a"));
        ck_assert(secret_name_valid("My_key.1-x"));
        ck_assert(secret_name_valid("0"));
        ck_assert(!secret_name_valid(""));
        ck_assert(!secret_name_valid(NULL));
        ck_assert(!secret_name_valid("_x"));
        ck_assert(!secret_name_valid(".x"));
        ck_assert(!secret_name_valid("-x"));
        ck_assert(!secret_name_valid("a/b"));
        ck_assert(!secret_name_valid("a b"));
        ck_assert(!secret_name_valid("a,b"));
        ck_assert(!secret_name_valid("a=b"));
        char name[66];
        memset(name, 'a', sizeof(name) - 1);
        name[64] = '\0';
        ck_assert(secret_name_valid(name)); /* 64: the most */
        name[64] = 'a';
        name[65] = '\0';
        ck_assert(!secret_name_valid(name));
}
END_TEST

static const struct {
        const char *spec, *name, *target;
        unsigned uid, gid, mode;
} ref_ok[] = {
        { "db", "db", "/run/secrets/db", 0, 0, 0444 },
        { "db,target=pass", "db", "/run/secrets/pass", 0, 0, 0444 },
        { "db,target=conf/./x/", "db", "/run/secrets/conf/x", 0, 0, 0444 },
        { "db,target=/etc/db.conf", "db", "/etc/db.conf", 0, 0, 0444 },
        { "db,target=//etc//db.conf", "db", "/etc/db.conf", 0, 0, 0444 },
        { "db,uid=1000,gid=100,mode=0400", "db", "/run/secrets/db", 1000, 100, 0400 },
        { "db,mode=600", "db", "/run/secrets/db", 0, 0, 0600 },
        { "db,mode=0", "db", "/run/secrets/db", 0, 0, 0 },
        { "db,uid=4294967294", "db", "/run/secrets/db", 4294967294U, 0, 0444 },
        { "source=db,type=mount,target=t", "db", "/run/secrets/t", 0, 0, 0444 },
        { "src=db", "db", "/run/secrets/db", 0, 0, 0444 },
        { "db,dst=/k", "db", "/k", 0, 0, 0444 },
        { "db,target=", "db", "/run/secrets/db", 0, 0, 0444 },
        { "db,mode=0400,mode=0440", "db", "/run/secrets/db", 0, 0, 0440 }, /* the last wins */
};

START_TEST(test_secret_ref_ok)
{
        for (size_t i = 0; i < ARRAY_SIZE(ref_ok); i++) {
                struct secret_ref r;
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(secret_ref_parse(ref_ok[i].spec, &r, &err) == 0, "%s: %s", ref_ok[i].spec,
                              err ? err->msg : "");
                ck_assert_str_eq(r.name, ref_ok[i].name);
                ck_assert_str_eq(r.target, ref_ok[i].target);
                ck_assert_uint_eq(r.uid, ref_ok[i].uid);
                ck_assert_uint_eq(r.gid, ref_ok[i].gid);
                ck_assert_uint_eq(r.mode, ref_ok[i].mode);
                secret_ref_clear(&r);
                ck_assert_int_eq(secret_ref_check(ref_ok[i].spec, NULL), 0);
        }
}
END_TEST

static const struct {
        const char *spec, *says;
} ref_bad[] = {
        { "", "no secret name given" },
        { ",target=x", "no secret name given" },
        { "target=x", "no secret name given" },
        { "db,,target=x", "not KEY=VALUE" },
        { "db,x", "not KEY=VALUE" },
        { "db,foo=bar", "unknown option \"foo\"" },
        { "db,type=env", "type=env is not supported" },
        { "db,mode=999", "mode=999 is not an octal mode" },
        { "db,mode=01000", "mode=01000 is not an octal mode" },
        { "db,mode=", "mode= is not an octal mode" },
        { "db,mode=rw", "mode=rw is not an octal mode" },
        { "db,uid=-1", "uid=-1 is not a number" },
        { "db,uid=abc", "uid=abc is not a number" },
        { "db,gid=4294967295", "gid=4294967295 is not a number" },
        { "db,target=/", "does not name a file" },
        { "db,target=../x", "does not name a file" },
        { "db,target=/a/../../x", "does not name a file" },
        { "bad/name", "invalid secret name \"bad/name\"" },
        { "_x", "invalid secret name" },
        { "source=a b", "invalid secret name" },
};

START_TEST(test_secret_ref_bad)
{
        for (size_t i = 0; i < ARRAY_SIZE(ref_bad); i++) {
                struct secret_ref r;
                cleanup_error berth_error_t err = NULL;
                ck_assert_msg(secret_ref_parse(ref_bad[i].spec, &r, &err) < 0, "%s: accepted", ref_bad[i].spec);
                ck_assert_ptr_nonnull(err);
                ck_assert_msg(strstr(err->msg, ref_bad[i].says), "%s: %s", ref_bad[i].spec, err->msg);
                ck_assert_msg(!strchr(err->msg, '\n'), "%s: message has a newline", ref_bad[i].spec);
                ck_assert_ptr_null(r.name);
                ck_assert_ptr_null(r.target);
                ck_assert_int_lt(secret_ref_check(ref_bad[i].spec, NULL), 0);
        }
}
END_TEST

/* No systemd-creds: the value is stored as it is. */
static void no_creds(void)
{
        setup();
        setenv("PATH", tdir, 1);
}

static char *create_ok(const char *name, const void *value, size_t len)
{
        char *id = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(secret_create(&st, name, value, len, NULL, &id, &err) == 0, "%s: %s", name,
                      err ? err->msg : "");
        return id;
}

static char *create_err(const char *name, const void *value, size_t len)
{
        berth_error_t err = NULL;
        ck_assert_msg(secret_create(&st, name, value, len, NULL, NULL, &err) < 0, "%s: created", name);
        ck_assert(!strchr(err->msg, '\n'));
        char *msg = xstrdup(err->msg);
        berth_error_free(&err);
        return msg;
}

START_TEST(test_secret_store)
{
        static const char value[] = "s3cret\0bin\n";
        json_auto_t *labels = json_pack("{s:s}", "team", "blue");
        cleanup_free char *id = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(secret_create(&st, "pg", value, sizeof(value) - 1, labels, &id, &err), 0);
        ck_assert_uint_eq(strlen(id), 25);
        ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 25);

        /* on disk: 0700 directory, 0600 value, metadata without it */
        struct stat sb;
        cleanup_free char *dir = store_path(&st, "secrets");
        cleanup_free char *vpath = store_path(&st, "secrets/%s/value", id);
        ck_assert_int_eq(stat(dir, &sb), 0);
        ck_assert_uint_eq(sb.st_mode & 07777, 0700);
        ck_assert_int_eq(stat(vpath, &sb), 0);
        ck_assert_uint_eq(sb.st_mode & 07777, 0600);
        cleanup_free char *meta_path = store_path(&st, "secrets/%s/meta.json", id);
        cleanup_free char *meta = NULL;
        ck_assert_int_eq(read_file(meta_path, &meta, NULL, NULL), 0);
        ck_assert_ptr_null(strstr(meta, "s3cret"));
        ck_assert_uint_eq(count_entries("tmp"), 0); /* the staging dir went into place */

        struct secret_info si;
        ck_assert_int_eq(secret_get(&st, "pg", &si, &err), 0);
        ck_assert_str_eq(si.id, id);
        ck_assert_str_eq(json_str(si.meta, "Driver"), "file");
        ck_assert_str_eq(json_str(si.meta, "Labels.team"), "blue");
        ck_assert(!json_bool(si.meta, "Encrypted"));
        secret_info_free(&si);
        ck_assert_int_eq(secret_get(&st, id, &si, &err), 0);
        ck_assert_str_eq(si.name, "pg");
        secret_info_free(&si);
        char prefix[6];
        snprintf(prefix, sizeof(prefix), "%s", id);
        ck_assert_int_eq(secret_get(&st, prefix, &si, &err), 0);
        ck_assert_str_eq(si.name, "pg");
        secret_info_free(&si);
        ck_assert_int_lt(secret_get(&st, "nosuch", &si, &err), 0);
        ck_assert_str_eq(err->msg, "No such secret: nosuch");
        ck_assert_int_eq(err->exit_code, 1);
        berth_error_free(&err);

        char *got = NULL;
        size_t len = 0;
        ck_assert_int_eq(secret_value_read(&st, id, &got, &len, &err), 0);
        ck_assert_uint_eq(len, sizeof(value) - 1);
        ck_assert_mem_eq(got, value, len);
        free(got);

        /* names are unique; the value has 1 byte to 512 KiB.  (The name is
         * not hex: "db" could also be the prefix of another secret's random
         * ID, and the "removed" check below would find that one.) */
        cleanup_free char *m1 = create_err("pg", "x", 1);
        ck_assert_str_eq(m1, "pg: secret name in use");
        cleanup_free char *m2 = create_err("empty", "", 0);
        ck_assert_ptr_nonnull(strstr(m2, "1 byte to 512 KiB"));
        char *big = xcalloc(SECRET_MAX_SIZE + 1, 1);
        cleanup_free char *m3 = create_err("big", big, SECRET_MAX_SIZE + 1);
        ck_assert_ptr_nonnull(strstr(m3, "524289 bytes"));
        cleanup_free char *most = create_ok("most", big, SECRET_MAX_SIZE);
        free(big);
        cleanup_free char *m4 = create_err("bad/name", "x", 1);
        ck_assert_ptr_nonnull(strstr(m4, "invalid secret name"));
        /* a name is not taken by an ID that starts with it */
        cleanup_free char *other = create_ok(prefix, "x", 1);
        ck_assert_uint_eq(count_entries("secrets"), 3);
        ck_assert_uint_eq(count_entries("tmp"), 0);

        struct secret_info *v = NULL;
        size_t n = 0;
        ck_assert_int_eq(secret_list(&st, &v, &n, &err), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_lt(strcmp(v[0].name, v[1].name), 0); /* by name */
        ck_assert_int_lt(strcmp(v[1].name, v[2].name), 0);
        secret_list_free(v, n);

        ck_assert_int_eq(secret_remove(&st, "pg", &err), 0);
        ck_assert_uint_eq(count_entries("secrets"), 2);
        ck_assert_uint_eq(count_entries("tmp"), 0);
        ck_assert_int_lt(secret_remove(&st, "pg", &err), 0);
        ck_assert_str_eq(err->msg, "No such secret: pg");
        berth_error_free(&err);
        ck_assert_int_lt(secret_value_read(&st, id, &got, &len, &err), 0);
}
END_TEST

/* A container record whose config uses the given secrets. */
static struct berth_container *container_with(char *const *specs, const char *name)
{
        json_t *secrets = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(secret_prepare_mounts(&st, specs, &secrets, &err) == 0, "%s", err ? err->msg : "");
        json_auto_t *cfg = json_pack("{s:{s:o}}", "Berth", "Secrets", secrets);
        struct berth_container *c = NULL;
        ck_assert_msg(container_create(&st, cfg, name, &c, &err) == 0, "%s", err ? err->msg : "");
        return c;
}

START_TEST(test_secret_in_use)
{
        cleanup_free char *id = create_ok("db", "hunter2", 7);
        cleanup_free char *id2 = create_ok("key", "k", 1);
        cleanup_error berth_error_t err = NULL;

        /* what a create records: never the value */
        char *specs[] = { "db,target=/etc/db.pw,uid=7,mode=0400", "key", NULL };
        json_t *secrets = NULL;
        ck_assert_int_eq(secret_prepare_mounts(&st, specs, &secrets, &err), 0);
        ck_assert_uint_eq(json_array_size(secrets), 2);
        json_t *e = json_array_get(secrets, 0);
        ck_assert_str_eq(json_str(e, "Name"), "db");
        ck_assert_str_eq(json_str(e, "ID"), id);
        ck_assert_str_eq(json_str(e, "Target"), "/etc/db.pw");
        ck_assert_int_eq(json_int(e, "UID", -1), 7);
        ck_assert_int_eq(json_int(e, "GID", -1), 0);
        ck_assert_int_eq(json_int(e, "Mode", -1), 0400);
        ck_assert_str_eq(json_str(json_array_get(secrets, 1), "Target"), "/run/secrets/key");
        cleanup_free char *text = json_dumps(secrets, 0);
        ck_assert_ptr_null(strstr(text, "hunter2"));
        json_auto_t *cfg = json_pack("{s:{s:o}}", "Berth", "Secrets", secrets);
        ck_assert_int_eq(secret_check_config(&st, cfg, &err), 0);

        char *unknown[] = { "nosuch", NULL };
        ck_assert_int_lt(secret_prepare_mounts(&st, unknown, &secrets, &err), 0);
        ck_assert_str_eq(err->msg, "No such secret: nosuch");
        ck_assert_int_eq(err->exit_code, 125);
        berth_error_free(&err);
        char *twice[] = { "db,target=x", "key,target=/run/secrets/x", NULL };
        ck_assert_int_lt(secret_prepare_mounts(&st, twice, &secrets, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "same target /run/secrets/x"));
        berth_error_free(&err);

        /* used by a container, running or not: kept */
        char *uses_db[] = { "db", NULL };
        cleanup_container struct berth_container *c = container_with(uses_db, "user");
        ck_assert_int_lt(secret_remove(&st, "db", &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "remove db: secret is in use by container"));
        ck_assert_int_eq(err->exit_code, 1);
        berth_error_free(&err);

        /* a record that cannot be read might use it: kept too */
        char *none[] = { NULL };
        cleanup_container struct berth_container *broken = container_with(none, "broken");
        cleanup_free char *cfg_path = xasprintf("%s/config.json", broken->dir);
        ck_assert_int_eq(write_file_atomic(cfg_path, "{", 1, 0600, NULL), 0);
        ck_assert_int_lt(secret_remove(&st, "key", &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "cannot tell whether secret key is in use"));
        berth_error_free(&err);
        ck_assert_int_eq(rm_rf(broken->dir, NULL), 0);
        ck_assert_int_eq(secret_remove(&st, "key", &err), 0);

        /* gone with its container */
        ck_assert_int_eq(container_remove(&st, c, &err), 0);
        ck_assert_int_eq(secret_remove(&st, "db", &err), 0);
        ck_assert_int_lt(secret_check_config(&st, cfg, &err), 0);
        ck_assert_str_eq(err->msg, "secret db was removed while the container was being created");
}
END_TEST

static Suite *secret_suite(void)
{
        Suite *s = suite_create("secret");
        TCase *tc = tcase_create("syntax");
        tcase_add_test(tc, test_secret_names);
        tcase_add_test(tc, test_secret_ref_ok);
        tcase_add_test(tc, test_secret_ref_bad);
        suite_add_tcase(s, tc);
        TCase *store = tcase_create("store");
        tcase_add_checked_fixture(store, no_creds, teardown);
        tcase_add_test(store, test_secret_store);
        tcase_add_test(store, test_secret_in_use);
        suite_add_tcase(s, store);
        return s;
}

BERTH_CHECK_MAIN(secret_suite)
