/* Unit tests: Dockerfile metadata instructions on an image config
 * (instructions.h), through both of its callers' doors: a `--change` value
 * (commit -c, import -c) and a parsed Dockerfile instruction with a build
 * stage's variables (berth build).  Where the two once disagreed (WORKDIR
 * cleaning, HEALTHCHECK options) the same input must give the same config. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/dockerfile.h"
#include "berth/instructions.h"
#include "berth/util.h"
#include "check-main.h"

/* The "config" object after applying change, which must succeed. */
static void change_ok(json_t *config, const char *change)
{
        cleanup_error berth_error_t err = NULL;
        char *one[] = { (char *) change, NULL };
        ck_assert_msg(image_config_apply_changes(config, one, &err) == 0, "`%s`: %s", change,
                      err ? err->msg : "");
}

/* The error message of a change that must fail. */
static char *change_err(json_t *config, const char *change)
{
        berth_error_t err = NULL;
        char *one[] = { (char *) change, NULL };
        ck_assert_msg(image_config_apply_changes(config, one, &err) < 0, "accepted `%s`", change);
        ck_assert_ptr_nonnull(err);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

/* What `berth build` does with one Dockerfile line: parse, then apply to the
 * whole image config with the stage's variables. */
static int build_line(json_t *image, const char *line, struct instruction_scope *scope, berth_error_t *err)
{
        struct df_insn in;
        if (df_insn_parse_line(line, "Dockerfile", 1, &in, err) < 0)
                return -1;
        int r = instruction_apply(image, &in, scope, err);
        df_insn_clear(&in);
        return r;
}

static void build_ok(json_t *image, const char *line, struct instruction_scope *scope)
{
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(build_line(image, line, scope, &err) == 0, "`%s`: %s", line, err ? err->msg : "");
}

static const char *str_at(json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

static const char *array_at(json_t *obj, const char *key, size_t i)
{
        return json_string_value(json_array_get(json_object_get(obj, key), i));
}

START_TEST(test_changes)
{
        json_auto_t *c = json_object();
        change_ok(c, "CMD echo hello world");
        ck_assert_uint_eq(json_array_size(json_object_get(c, "Cmd")), 3);
        ck_assert_str_eq(array_at(c, "Cmd", 0), "/bin/sh");
        ck_assert_str_eq(array_at(c, "Cmd", 1), "-c");
        ck_assert_str_eq(array_at(c, "Cmd", 2), "echo hello world");
        change_ok(c, "entrypoint [\"/app\", \"--x\"]");
        ck_assert_uint_eq(json_array_size(json_object_get(c, "Entrypoint")), 2);
        /* a -c ENTRYPOINT of its own clears the Cmd it inherits, as Docker's
         * (test_change_list_scope: one after a CMD in the same list keeps it) */
        ck_assert(json_is_null(json_object_get(c, "Cmd")));
        change_ok(c, "ENV A=1 B=\"two words\" C=x\\ y");
        change_ok(c, "ENV LEGACY value with spaces");
        change_ok(c, "ENV A=override");
        json_t *env = json_object_get(c, "Env");
        ck_assert_uint_eq(json_array_size(env), 4);
        ck_assert_str_eq(array_at(c, "Env", 0), "A=override");
        ck_assert_str_eq(array_at(c, "Env", 1), "B=two words");
        ck_assert_str_eq(array_at(c, "Env", 2), "C=x y");
        ck_assert_str_eq(array_at(c, "Env", 3), "LEGACY=value with spaces");
        change_ok(c, "WORKDIR /a");
        change_ok(c, "WORKDIR b");
        ck_assert_str_eq(str_at(c, "WorkingDir"), "/a/b");
        change_ok(c, "USER 1000:1000");
        ck_assert_str_eq(str_at(c, "User"), "1000:1000");
        change_ok(c, "EXPOSE 80 53/udp 8000-8001");
        json_t *ports = json_object_get(c, "ExposedPorts");
        ck_assert_uint_eq(json_object_size(ports), 4);
        ck_assert_ptr_nonnull(json_object_get(ports, "80/tcp"));
        ck_assert_ptr_nonnull(json_object_get(ports, "53/udp"));
        ck_assert_ptr_nonnull(json_object_get(ports, "8000/tcp"));
        ck_assert_ptr_nonnull(json_object_get(ports, "8001/tcp"));
        change_ok(c, "LABEL a=b \"c d\"=e");
        ck_assert_str_eq(str_at(json_object_get(c, "Labels"), "a"), "b");
        ck_assert_str_eq(str_at(json_object_get(c, "Labels"), "c d"), "e");
        change_ok(c, "STOPSIGNAL SIGINT");
        ck_assert_str_eq(str_at(c, "StopSignal"), "SIGINT");
        change_ok(c, "VOLUME [\"/data\", \"/logs\"]");
        change_ok(c, "VOLUME /cache");
        ck_assert_uint_eq(json_object_size(json_object_get(c, "Volumes")), 3);
        change_ok(c, "ONBUILD RUN make");
        ck_assert_str_eq(array_at(c, "OnBuild", 0), "RUN make");
        /* nothing lands outside the config object it was given */
        ck_assert_ptr_null(json_object_get(c, "config"));
        ck_assert_ptr_null(json_object_get(c, "author"));
}
END_TEST

START_TEST(test_change_errors)
{
        json_auto_t *c = json_object();
        static const char *const kinds =
                "CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR";
        static const struct {
                const char *change, *msg;
                bool listed; /* the message ends with the accepted instructions */
        } cases[] = {
                { "RUN rm -rf /", "RUN is not a valid change command", true },
                { "maintainer me", "MAINTAINER is not a valid change command", true },
                { "SHELL [\"/bin/bash\", \"-c\"]", "SHELL is not a valid change command", true },
                { "FOO x", "FOO is not a valid change command", true },
                { "  ", "empty change", true },
                { "", "empty change", true },
                /* the Dockerfile parser's words, without a file and line */
                { "CMD", "CMD requires at least one argument" },
                { "ENV =x", "ENV names can not be blank" },
                { "LABEL nolabelvalue", "LABEL must have two arguments" },
                { "STOPSIGNAL SIG TERM", "STOPSIGNAL requires exactly one argument" },
                { "ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" },
                { "HEALTHCHECK --interval=1ns CMD true", "HEALTHCHECK --interval cannot be less than 1ms" },
                { "HEALTHCHECK --retries=-1 CMD true", "HEALTHCHECK --retries cannot be negative" },
                { "HEALTHCHECK --bogus=1 CMD true", "unknown flag: --bogus for HEALTHCHECK" },
                { "HEALTHCHECK NONE now", "HEALTHCHECK NONE takes no arguments" },
                { "EXPOSE 99999", "EXPOSE: invalid port `99999`" },
                { "EXPOSE 80/foo", "EXPOSE: invalid protocol in `80/foo` (tcp, udp or sctp)" },
                { "STOPSIGNAL SIG;TERM", "STOPSIGNAL: invalid signal `SIG;TERM`" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                cleanup_free char *m = change_err(c, cases[i].change);
                cleanup_free char *want = cases[i].listed ? xasprintf("%s (expected one of %s)", cases[i].msg, kinds)
                                                          : xstrdup(cases[i].msg);
                ck_assert_msg(streq(m, want), "`%s`: got \"%s\", want \"%s\"", cases[i].change, m, want);
        }
        cleanup_free char *m = change_err(c, "ENV A=\"unterminated");
        ck_assert_ptr_nonnull(strstr(m, "double-quote"));
}
END_TEST

/* WORKDIR: relative to the previous one, cleaned as Go's filepath.Join. */
START_TEST(test_workdir_both)
{
        static const struct {
                const char *lines[3];
                const char *want;
        } cases[] = {
                { { "WORKDIR rel" }, "/rel" },
                { { "WORKDIR /a/b/", "WORKDIR ../c/./d" }, "/a/c/d" },
                { { "WORKDIR /x/../../y//" }, "/y" },
                { { "WORKDIR /a", "WORKDIR b", "WORKDIR .." }, "/a" },
                { { "WORKDIR /", "WORKDIR ." }, "/" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                json_auto_t *config = json_object();
                json_auto_t *image = json_object();
                struct instruction_scope scope = {};
                for (size_t k = 0; k < 3 && cases[i].lines[k]; k++) {
                        change_ok(config, cases[i].lines[k]);
                        build_ok(image, cases[i].lines[k], &scope);
                }
                ck_assert_str_eq(str_at(config, "WorkingDir"), cases[i].want);
                ck_assert_str_eq(str_at(json_object_get(image, "config"), "WorkingDir"), cases[i].want);
        }
}
END_TEST

/* HEALTHCHECK options, NONE and the two forms, the same through both doors. */
START_TEST(test_healthcheck_both)
{
        static const char *const full = "HEALTHCHECK --interval=5s --timeout=3s --start-period=1m "
                                        "--start-interval=500ms --retries=4 CMD [\"true\", \"x\"]";
        json_auto_t *config = json_object();
        json_auto_t *image = json_object();
        struct instruction_scope scope = {};
        change_ok(config, full);
        build_ok(image, full, &scope);
        json_t *hcs[] = { json_object_get(config, "Healthcheck"),
                          json_object_get(json_object_get(image, "config"), "Healthcheck") };
        for (size_t i = 0; i < ARRAY_SIZE(hcs); i++) {
                json_t *hc = hcs[i];
                ck_assert_uint_eq(json_array_size(json_object_get(hc, "Test")), 3);
                ck_assert_str_eq(array_at(hc, "Test", 0), "CMD");
                ck_assert_str_eq(array_at(hc, "Test", 2), "x");
                ck_assert_int_eq(json_integer_value(json_object_get(hc, "Interval")), 5000000000LL);
                ck_assert_int_eq(json_integer_value(json_object_get(hc, "Timeout")), 3000000000LL);
                ck_assert_int_eq(json_integer_value(json_object_get(hc, "StartPeriod")), 60000000000LL);
                ck_assert_int_eq(json_integer_value(json_object_get(hc, "StartInterval")), 500000000LL);
                ck_assert_int_eq(json_integer_value(json_object_get(hc, "Retries")), 4);
        }
        ck_assert(json_equal(hcs[0], hcs[1]));

        /* shell form; what is not given is left out (inherited) */
        change_ok(config, "HEALTHCHECK --interval=5s CMD curl -f http://localhost/");
        build_ok(image, "HEALTHCHECK --interval=5s CMD curl -f http://localhost/", &scope);
        json_t *hc = json_object_get(config, "Healthcheck");
        ck_assert(json_equal(hc, json_object_get(json_object_get(image, "config"), "Healthcheck")));
        ck_assert_str_eq(array_at(hc, "Test", 0), "CMD-SHELL");
        ck_assert_str_eq(array_at(hc, "Test", 1), "curl -f http://localhost/");
        ck_assert_int_eq(json_integer_value(json_object_get(hc, "Interval")), 5000000000LL);
        ck_assert_uint_eq(json_object_size(hc), 2);

        change_ok(config, "healthcheck none");
        build_ok(image, "HEALTHCHECK NONE", &scope);
        hc = json_object_get(config, "Healthcheck");
        ck_assert(json_equal(hc, json_object_get(json_object_get(image, "config"), "Healthcheck")));
        ck_assert_uint_eq(json_object_size(hc), 1);
        ck_assert_str_eq(array_at(hc, "Test", 0), "NONE");
}
END_TEST

/* $VAR: a change sees the config's Env; a build step the stage's variables
 * (and the Dockerfile's escape character).  CMD is never expanded. */
START_TEST(test_expansion)
{
        json_auto_t *c = json_pack("{s:[s]}", "Env", "A=1");
        change_ok(c, "ENV B=$A C=${A}x A=2");
        ck_assert_str_eq(array_at(c, "Env", 0), "A=2");
        ck_assert_str_eq(array_at(c, "Env", 1), "B=1"); /* the variables of before the line */
        ck_assert_str_eq(array_at(c, "Env", 2), "C=1x");
        change_ok(c, "LABEL l=$A");
        ck_assert_str_eq(str_at(json_object_get(c, "Labels"), "l"), "2");
        change_ok(c, "WORKDIR /w/$B/${UNSET:-d}");
        ck_assert_str_eq(str_at(c, "WorkingDir"), "/w/1/d");
        change_ok(c, "CMD echo $A");
        ck_assert_str_eq(array_at(c, "Cmd", 2), "echo $A");

        json_auto_t *image = json_object();
        char *env[] = { "V=arg", "P=8080", NULL };
        struct instruction_scope scope = { .env = env };
        build_ok(image, "ENV X=$V", &scope);
        build_ok(image, "EXPOSE $P", &scope);
        build_ok(image, "USER ${V}user", &scope);
        json_t *cfg = json_object_get(image, "config");
        ck_assert_str_eq(array_at(cfg, "Env", 0), "X=arg");
        ck_assert_ptr_nonnull(json_object_get(json_object_get(cfg, "ExposedPorts"), "8080/tcp"));
        ck_assert_str_eq(str_at(cfg, "User"), "arguser");
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(build_line(image, "VOLUME $UNSET", &scope, &err), 0);
        ck_assert_str_eq(err->msg, "VOLUME specified can not be an empty string");

        /* `# escape=` of the Dockerfile */
        struct dockerfile *df = NULL;
        ck_assert_int_eq(dockerfile_parse("# escape=`\nFROM scratch\nENV E=a`$V\n", "Dockerfile", &df, &err), 0);
        scope.escape = df->escape;
        ck_assert_int_eq(instruction_apply(image, &df->insns[1], &scope, &err), 0);
        ck_assert_str_eq(array_at(cfg, "Env", 1), "E=a$V");
        dockerfile_free(df);
}
END_TEST

/* The shell form runs under SHELL; ENTRYPOINT resets Cmd in a build stage
 * unless CMD came first. */
START_TEST(test_commands)
{
        json_auto_t *image = json_pack("{s:{s:[s]}}", "config", "Cmd", "base");
        struct instruction_scope scope = {};
        build_ok(image, "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]", &scope);
        build_ok(image, "ENTRYPOINT run $X", &scope);
        json_t *cfg = json_object_get(image, "config");
        ck_assert(json_is_null(json_object_get(cfg, "Cmd")));
        ck_assert_uint_eq(json_array_size(json_object_get(cfg, "Entrypoint")), 5);
        ck_assert_str_eq(array_at(cfg, "Entrypoint", 0), "/bin/bash");
        ck_assert_str_eq(array_at(cfg, "Entrypoint", 4), "run $X");
        build_ok(image, "CMD [\"a\"]", &scope);
        ck_assert(scope.cmd_set);
        build_ok(image, "ENTRYPOINT [\"e\"]", &scope);
        ck_assert_str_eq(array_at(cfg, "Cmd", 0), "a");
        build_ok(image, "MAINTAINER Me <me@example.com>", &scope);
        ck_assert_str_eq(str_at(image, "author"), "Me <me@example.com>");

        /* a change uses the config's Shell too */
        json_auto_t *c = json_pack("{s:[s,s]}", "Shell", "/bin/ash", "-c");
        change_ok(c, "CMD echo hi");
        ck_assert_str_eq(array_at(c, "Cmd", 0), "/bin/ash");
        ck_assert_str_eq(array_at(c, "Cmd", 2), "echo hi");

        /* not metadata */
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(build_line(image, "RUN true", &scope, &err), 0);
        ck_assert_str_eq(err->msg, "internal error: RUN is not a metadata instruction");
}
END_TEST

/* A list of changes is one builder scope, as Docker's BuildFromConfig: an
 * ENTRYPOINT clears the Cmd it inherits, but not one a CMD earlier in the
 * same list set; $VAR sees the ENV of an earlier change. */
START_TEST(test_change_list_scope)
{
        cleanup_error berth_error_t err = NULL;
        json_auto_t *config = json_pack("{s:[s], s:[s]}", "Cmd", "old", "Env", "PATH=/bin");
        char *alone[] = { "ENTRYPOINT [\"e\"]", NULL };
        ck_assert_int_eq(image_config_apply_changes(config, alone, &err), 0);
        ck_assert_str_eq(array_at(config, "Entrypoint", 0), "e");
        ck_assert(json_is_null(json_object_get(config, "Cmd")));

        json_auto_t *c2 = json_pack("{s:[s]}", "Cmd", "old");
        char *both[] = { "CMD [\"new\"]", "ENTRYPOINT [\"e\"]", "ENV A=1", "LABEL a=$A", NULL };
        ck_assert_int_eq(image_config_apply_changes(c2, both, &err), 0);
        ck_assert_str_eq(array_at(c2, "Cmd", 0), "new");
        ck_assert_str_eq(array_at(c2, "Entrypoint", 0), "e");
        ck_assert_str_eq(str_at(json_object_get(c2, "Labels"), "a"), "1");

        /* a bad value anywhere in the list: an error naming it */
        char *bad[] = { "CMD [\"x\"]", "RUN true", NULL };
        ck_assert_int_lt(image_config_apply_changes(c2, bad, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "RUN is not a valid change command"));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("instructions");
        TCase *tc = tcase_create("change");
        tcase_add_test(tc, test_changes);
        tcase_add_test(tc, test_change_errors);
        suite_add_tcase(s, tc);
        tc = tcase_create("both");
        tcase_add_test(tc, test_workdir_both);
        tcase_add_test(tc, test_healthcheck_both);
        tcase_add_test(tc, test_expansion);
        tcase_add_test(tc, test_commands);
        tcase_add_test(tc, test_change_list_scope);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
