/* Unit tests: the error convention (error.h): messages, wrapping, hints, exit
 * codes, and berth_warn()'s printer and once-per-process rule; and the
 * errors of libraries loaded on first use (dlopen-util.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/dlopen-util.h"
#include "berth/error.h"
#include "berth/util.h"
#include "check-main.h"

START_TEST(test_error_chain)
{
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(berth_error(&err, ENOENT, "open `%s`", "/x"), -ENOENT);
        ck_assert_str_eq(err->msg, "open `/x`: No such file or directory");
        ck_assert_int_eq(err->exit_code, BERTH_EXIT_ENGINE);
        /* the first error wins: a later one does not replace it */
        ck_assert_int_eq(berth_error(&err, 0, "later"), -1);
        ck_assert_int_eq(berth_error_wrap(&err, "load %s", "img"), -ENOENT);
        ck_assert_int_eq(berth_error_hint(&err, "run berth system check"), -ENOENT);
        ck_assert_str_eq(err->msg, "load img: open `/x`: No such file or directory; run berth system check");
        berth_error_free(&err);
        ck_assert_ptr_null(err);
        ck_assert_int_eq(berth_error_exit(&err, 127, 0, "not found"), -1);
        ck_assert_int_eq(err->exit_code, 127);
}
END_TEST

static char *printed[8];
static size_t nprinted;

static void record(const char *msg)
{
        ck_assert_uint_lt(nprinted, 8);
        printed[nprinted++] = xstrdup(msg);
}

START_TEST(test_warn)
{
        berth_warn_set_printer(record);
        berth_warn("port %d ignored", 80);
        berth_warn("port %d ignored", 80); /* once per process */
        berth_warn("port %d ignored", 81);
        berth_error_t e = NULL;
        berth_error(&e, 0, "disk full");
        berth_warn_error(&e, "build cache not updated");
        ck_assert_ptr_null(e);
        berth_warn_error(&e, "nothing"); /* no error: nothing printed */
        ck_assert_uint_eq(nprinted, 3);
        ck_assert_str_eq(printed[0], "port 80 ignored");
        ck_assert_str_eq(printed[1], "port 81 ignored");
        ck_assert_str_eq(printed[2], "build cache not updated: disk full");
        for (size_t i = 0; i < nprinted; i++)
                free(printed[i]);
        berth_warn_set_printer(NULL);
}
END_TEST

/* never defined: its name is looked up, it is never called */
int berth_no_such_function(int x);
static DLSYM_PROTOTYPE(strlen);
static DLSYM_PROTOTYPE(berth_no_such_function);

START_TEST(test_dlopen)
{
        cleanup_error berth_error_t err = NULL;
        void *dl = NULL;
        /* a library that is not there: one line, nothing kept */
        ck_assert_int_lt(dlopen_many_sym(&dl, "libberth-nope.so.0", &err, DLSYM_ARG(strlen), NULL), 0);
        ck_assert_str_eq(err->msg, "libberth-nope.so.0 is not available: "
                                   "libberth-nope.so.0: cannot open shared object file: No such file or directory");
        ck_assert_ptr_null(dl);
        ck_assert_ptr_null(sym_strlen);
        berth_error_free(&err);
        /* a function the library lacks: none of them is set */
        ck_assert_int_lt(dlopen_many_sym(&dl, "libc.so.6", &err, DLSYM_ARG(strlen),
                                         DLSYM_ARG(berth_no_such_function), NULL), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "libc.so.6 is not available: "));
        ck_assert_ptr_nonnull(strstr(err->msg, "berth_no_such_function"));
        ck_assert_ptr_null(dl);
        ck_assert_ptr_null(sym_strlen);
        berth_error_free(&err);
        /* found: the pointer is the function; a second call does nothing */
        ck_assert_int_eq(dlopen_many_sym(&dl, "libc.so.6", &err, DLSYM_ARG(strlen), NULL), 0);
        ck_assert_ptr_nonnull(dl);
        ck_assert_uint_eq(sym_strlen("berth"), 5);
        ck_assert_int_eq(dlopen_many_sym(&dl, "libberth-nope.so.0", &err, NULL), 0);
        ck_assert_ptr_null(err);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("error");
        TCase *tc = tcase_create("error");
        tcase_add_test(tc, test_error_chain);
        tcase_add_test(tc, test_warn);
        tcase_add_test(tc, test_dlopen);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
