/* Unit tests: .dockerignore patterns with Docker's rules (dockerfile.h).
 * Runs under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/dockerfile.h"
#include "berth/util.h"
#include "check-main.h"

static struct dockerignore *di_ok(const char *text)
{
        struct dockerignore *di = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(dockerignore_parse(text, &di, &err) == 0, "parse: %s", err ? err->msg : "");
        return di;
}

#define EXCL(di, path) ck_assert_msg(dockerignore_excluded(di, path), "%s should be excluded", path)
#define INCL(di, path) ck_assert_msg(!dockerignore_excluded(di, path), "%s should be included", path)
#define MATCH(p, s) ck_assert_msg(dockerignore_pattern_match(p, s), "%s should match %s", p, s)
#define NOMATCH(p, s) ck_assert_msg(!dockerignore_pattern_match(p, s), "%s should not match %s", p, s)

START_TEST(test_pattern_match)
{
        MATCH("*.md", "README.md");
        NOMATCH("*.md", "docs/README.md"); /* '*' does not cross '/' */
        MATCH("*/*.md", "docs/README.md");
        MATCH("?.c", "a.c");
        NOMATCH("?.c", "ab.c");
        NOMATCH("a?b", "a/b");
        MATCH("[a-c]x", "bx");
        NOMATCH("[a-c]x", "dx");
        MATCH("[^a-c]x", "dx");
        NOMATCH("[^a-c]x", "ax");
        MATCH("\\*", "*");
        NOMATCH("\\*", "a");
        MATCH("**/*.go", "a.go");
        MATCH("**/*.go", "x/y/a.go");
        NOMATCH("**/*.go", "x/y/a.goo");
        MATCH("**", "anything/at/all");
        MATCH("a/**", "a/b/c");
        NOMATCH("a/**", "b/c");
        MATCH("a/**/b", "a/b");
        MATCH("a/**/b", "a/x/y/b");
        NOMATCH("a/**/b", "a/x/y/c");
        MATCH("**/node_modules", "node_modules");
        MATCH("**/node_modules", "web/node_modules");
        MATCH("temp?", "temp1");
        MATCH("*/temp*", "somedir/temporary.txt");
        MATCH("*/*/temp*", "somedir/subdir/temporary.txt");
        NOMATCH("*/temp*", "somedir/subdir/temporary.txt");
        MATCH("", "");
        NOMATCH("", "a");
        /* Not exponential in the stars (found by fuzzing). */
        NOMATCH("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        NOMATCH("**/**/**/**/**/**/**/**/**/**/**/**/x", "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/y");
        MATCH("**/**/**/**/**/**/**/**/**/**/**/**/x", "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/x");
}
END_TEST

START_TEST(test_docker_documentation_example)
{
        /* the example of Docker's .dockerignore documentation */
        struct dockerignore *di = di_ok("# comment\n"
                                        "*/temp*\n"
                                        "*/*/temp*\n"
                                        "temp?\n");
        INCL(di, "# comment");
        EXCL(di, "somedir/temporary.txt");
        EXCL(di, "somedir/temp");
        EXCL(di, "somedir/subdir/temporary.txt");
        EXCL(di, "temp1");
        INCL(di, "temp12");
        INCL(di, "temporary.txt");
        INCL(di, "a/b/c/temp.txt");
        dockerignore_free(di);
}
END_TEST

START_TEST(test_exceptions_last_match_wins)
{
        struct dockerignore *di = di_ok("*.md\n!README*.md\nREADME-secret.md\n");
        EXCL(di, "CHANGES.md");
        INCL(di, "README.md");
        INCL(di, "README-public.md");
        EXCL(di, "README-secret.md");
        INCL(di, "main.c");
        ck_assert(dockerignore_has_exceptions(di));
        dockerignore_free(di);

        /* the order decides: the exception first is overridden */
        struct dockerignore *rev = di_ok("!README.md\n*.md\n");
        EXCL(rev, "README.md");
        dockerignore_free(rev);

        /* a directory and an exception below it */
        struct dockerignore *dir = di_ok("logs\n!logs/keep.txt\n");
        EXCL(dir, "logs");
        EXCL(dir, "logs/a.log");
        EXCL(dir, "logs/sub/b.log");
        INCL(dir, "logs/keep.txt");
        ck_assert(dockerignore_walk_excluded(dir, "logs"));
        ck_assert(!dockerignore_walk_excluded(dir, "log"));
        ck_assert(!dockerignore_walk_excluded(dir, "other"));
        dockerignore_free(dir);

        /* an exception with a wildcard prefix does not reach into an
         * excluded directory (as Docker's walker) */
        struct dockerignore *wild = di_ok("secret\n*.log\n!keep.log\n!**/x\n");
        ck_assert(!dockerignore_walk_excluded(wild, "secret"));
        ck_assert(dockerignore_walk_excluded(wild, "keep.log"));
        dockerignore_free(wild);
}
END_TEST

START_TEST(test_parent_directories)
{
        /* a pattern matching a directory excludes what is below it */
        struct dockerignore *di = di_ok("node_modules\n.git\nbuild/\n*/cache\n");
        EXCL(di, "node_modules");
        EXCL(di, "node_modules/x/index.js");
        INCL(di, "web/node_modules/x.js"); /* only at the top */
        EXCL(di, ".git/HEAD");
        EXCL(di, "build");
        EXCL(di, "build/out.o");
        EXCL(di, "a/cache/x");
        INCL(di, "a/b/cache/x");
        INCL(di, "src/main.c");
        ck_assert(!dockerignore_has_exceptions(di));
        dockerignore_free(di);

        struct dockerignore *any = di_ok("**/node_modules\n**/*.pyc\n");
        EXCL(any, "node_modules/a");
        EXCL(any, "web/node_modules/x.js");
        EXCL(any, "x/y/z.pyc");
        EXCL(any, "z.pyc");
        INCL(any, "z.py");
        dockerignore_free(any);
}
END_TEST

START_TEST(test_cleaning)
{
        /* leading "/" and "./", "a/../b", doubled slashes, blanks around
         * patterns and after "!", a BOM, CRLF; "#" only in column one */
        struct dockerignore *di = di_ok("\xEF\xBB\xBF/secret.txt\r\n"
                                        "./tmp\n"
                                        "x/../y\n"
                                        "a//b\n"
                                        "   spaced   \n"
                                        " # not a comment\n"
                                        "*.log\n"
                                        "!  ./keep.log\n"
                                        "\n");
        EXCL(di, "secret.txt");
        EXCL(di, "./secret.txt");
        INCL(di, "sub/secret.txt");
        EXCL(di, "tmp/file");
        EXCL(di, "y");
        INCL(di, "x/y");
        EXCL(di, "a/b");
        EXCL(di, "spaced");
        EXCL(di, "# not a comment");
        EXCL(di, "debug.log");
        INCL(di, "keep.log");
        dockerignore_free(di);

        /* an empty file or no file excludes nothing */
        struct dockerignore *none = di_ok("");
        INCL(none, "anything");
        dockerignore_free(none);
        ck_assert(!dockerignore_excluded(NULL, "x"));
}
END_TEST

START_TEST(test_errors)
{
        struct dockerignore *di = NULL;
        berth_error_t err = NULL;
        ck_assert_int_lt(dockerignore_parse("ok\n!\n", &di, &err), 0);
        ck_assert_str_eq(err->msg, ".dockerignore:2: illegal exclusion pattern: \"!\"");
        berth_error_free(&err);
        ck_assert_int_lt(dockerignore_parse("a\nb\n[a-\n", &di, &err), 0);
        ck_assert_str_eq(err->msg, ".dockerignore:3: syntax error in pattern \"[a-\"");
        berth_error_free(&err);
        ck_assert_ptr_null(di);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dockerignore");
        TCase *tc = tcase_create("dockerignore");
        tcase_add_test(tc, test_pattern_match);
        tcase_add_test(tc, test_docker_documentation_example);
        tcase_add_test(tc, test_exceptions_last_match_wins);
        tcase_add_test(tc, test_parent_directories);
        tcase_add_test(tc, test_cleaning);
        tcase_add_test(tc, test_errors);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
