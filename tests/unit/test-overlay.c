/* Unit tests: the "mount-program" key of a user's config.json (overlay.h).
 * Runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/overlay.h"
#include "berth/util.h"
#include "check-main.h"
#include "tmpdir-fixture.h"

START_TEST(test_mount_program)
{
        cleanup_free char *p = xasprintf("%s/config.json", tmpdir);
        cleanup_error berth_error_t e = NULL;
        char *prog = (char *) 1;
        ck_assert_int_eq(overlay_mount_program_read(p, &prog, &e), 0); /* no file */
        ck_assert_ptr_null(prog);
        static const char *none[] = { "{}", "{\"insecure-registries\": [\"localhost:5000\"]}",
                                      "{\"mount-program\": \"\"}" };
        for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
                free(tmpdir_write("config.json", none[i]));
                ck_assert_int_eq(overlay_mount_program_read(p, &prog, &e), 0);
                ck_assert_msg(prog == NULL, "%s", none[i]);
        }
        free(tmpdir_write("config.json", "{\"mount-program\": \"/usr/bin/fuse-overlayfs\"}"));
        ck_assert_int_eq(overlay_mount_program_read(p, &prog, &e), 0);
        ck_assert_str_eq(prog, "/usr/bin/fuse-overlayfs");
        free(prog);

        static const struct { const char *text, *says; } bad[] = {
                { "{\"mount-program\": \"fuse-overlayfs\"}",
                  "\"mount-program\" must be an absolute path, not `fuse-overlayfs`" },
                { "{\"mount-program\": true}", "\"mount-program\" is not a string" },
                { "[\"mount-program\"]", "invalid JSON (not an object)" },
                { "{\"mount-program\": ", "invalid JSON" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                free(tmpdir_write("config.json", bad[i].text));
                berth_error_t be = NULL;
                prog = NULL;
                ck_assert_int_lt(overlay_mount_program_read(p, &prog, &be), 0);
                ck_assert_ptr_null(prog);
                ck_assert_ptr_nonnull(be);
                ck_assert_msg(startswith(be->msg, p) && strstr(be->msg, bad[i].says) && !strchr(be->msg, '\n'),
                              "%s: %s", bad[i].text, be->msg);
                berth_error_free(&be);
        }
}
END_TEST

static void setup_tmp(void)
{
        tmpdir_make("overlay");
}

static Suite *suite(void)
{
        Suite *s = suite_create("overlay");
        TCase *tc = tcase_create("config");
        tcase_add_checked_fixture(tc, setup_tmp, tmpdir_remove);
        tcase_add_test(tc, test_mount_program);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
