/* berth — Dockerfile metadata instructions applied to an image config (see
 * include/berth/instructions.h): one table row per instruction, shared by
 * `berth build` and by the `--change` values of commit and import. */
#include "config.h"

#include <ctype.h>
#include <errno.h>

#include "berth/instructions.h"
#include "berth/json-util.h"
#include "berth/parse.h"
#include "berth/util.h"

/* image["config"], an object (made when missing). */
static json_t *config_of(json_t *image)
{
        json_t *c = json_object_get(image, "config");
        if (!json_is_object(c))
                json_object_set_new(image, "config", c = json_object());
        return c;
}

/* c[key] as an object or array (made when missing or of another type). */
static json_t *member(json_t *c, const char *key, bool array)
{
        json_t *v = json_object_get(c, key);
        if (array ? !json_is_array(v) : !json_is_object(v))
                json_object_set_new(c, key, v = array ? json_array() : json_object());
        return v;
}

static int expand(const struct instruction_scope *sc, const char *word, char **out, berth_error_t *err)
{
        return df_expand(word, sc->env, sc->escape ? sc->escape : '\\', out, err);
}

/* Strings of a JSON array appended to a. */
static void append_strings(json_t *a, json_t *from)
{
        size_t i;
        json_t *v;
        json_array_foreach(from, i, v) {
                if (json_is_string(v))
                        json_array_append(a, v);
        }
}

/* CMD, ENTRYPOINT: the exec form as is, the shell form after the Shell. */
static json_t *command_of(json_t *c, const struct df_insn *in)
{
        json_t *a = json_array();
        json_t *shell = json_object_get(c, "Shell");
        if (!in->json && json_is_array(shell) && json_array_size(shell))
                append_strings(a, shell);
        else if (!in->json) {
                json_array_append_new(a, json_string("/bin/sh"));
                json_array_append_new(a, json_string("-c"));
        }
        for (size_t i = 0; in->args[i]; i++)
                json_array_append_new(a, json_string(in->args[i]));
        return a;
}

/* ---- one function per instruction ------------------------------------------ */

static int apply_cmd(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        json_t *c = config_of(image);
        json_object_set_new(c, "Cmd", command_of(c, in));
        sc->cmd_set = true;
        return 0;
}

static int apply_entrypoint(json_t *image, const struct df_insn *in, struct instruction_scope *sc,
                            berth_error_t *err)
{
        json_t *c = config_of(image);
        json_object_set_new(c, "Entrypoint", command_of(c, in));
        if (!sc->cmd_set) /* the base image's CMD no longer applies */
                json_object_set_new(c, "Cmd", json_null());
        return 0;
}

/* Env keeps the place of a variable set again. */
static void env_set(json_t *c, const char *key, const char *value)
{
        json_t *env = member(c, "Env", true);
        cleanup_free char *kv = xasprintf("%s=%s", key, value);
        size_t klen = strlen(key), i;
        json_t *v;
        json_array_foreach(env, i, v) {
                const char *e = json_string_value(v);
                if (e && strncmp(e, key, klen) == 0 && e[klen] == '=') {
                        json_array_set_new(env, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
}

/* ENV, LABEL: every pair is expanded with the variables of before the line. */
static int apply_pairs(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        json_t *c = config_of(image);
        for (size_t i = 0; i < in->nkv; i++) {
                cleanup_free char *k = NULL, *v = NULL;
                if (expand(sc, in->kv[i].key, &k, err) < 0 || expand(sc, in->kv[i].value, &v, err) < 0)
                        return -1;
                if (in->kind == DF_ENV)
                        env_set(c, k, v);
                else
                        json_object_set_new(member(c, "Labels", false), k, json_string(v));
        }
        return 0;
}

static int apply_workdir(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        json_t *c = config_of(image);
        cleanup_free char *w = NULL;
        if (expand(sc, in->args[0], &w, err) < 0)
                return -1;
        if (!*w)
                return berth_error(err, 0, "cannot normalize nothing");
        const char *cur = json_string_value(json_object_get(c, "WorkingDir"));
        cleanup_free char *joined = w[0] == '/' ? xstrdup(w) : xasprintf("/%s/%s", cur ? cur : "", w);
        cleanup_free char *clean = df_path_clean(joined);
        json_object_set_new(c, "WorkingDir", json_string(clean));
        return 0;
}

/* USER, STOPSIGNAL: one expanded word. */
static int apply_word(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        cleanup_free char *w = NULL;
        if (expand(sc, in->args[0], &w, err) < 0)
                return -1;
        if (in->kind == DF_STOPSIGNAL)
                for (const char *p = w; *p; p++)
                        if (!isalnum((unsigned char) *p) && *p != '+' && *p != '-')
                                return berth_error(err, 0, "STOPSIGNAL: invalid signal `%s`", w);
        json_object_set_new(config_of(image), in->kind == DF_USER ? "User" : "StopSignal", json_string(w));
        return 0;
}

/* One port or range of EXPOSE: "80", "53/udp", "8000-8001/tcp". */
static int expose_port(json_t *ports, const char *word, berth_error_t *err)
{
        cleanup_free char *w = xstrdup(word);
        char *slash = strchr(w, '/');
        const char *proto = "tcp";
        if (slash) {
                *slash = '\0';
                proto = slash + 1;
                for (char *p = slash + 1; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
        }
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                return berth_error(err, 0, "EXPOSE: invalid protocol in `%s` (tcp, udp or sctp)", word);
        char *end;
        errno = 0;
        long lo = strtol(w, &end, 10), hi = lo;
        if (*end == '-')
                hi = strtol(end + 1, &end, 10);
        if (errno || end == w || *end || lo < 1 || hi > 65535 || hi < lo)
                return berth_error(err, 0, "EXPOSE: invalid port `%s`", word);
        for (long p = lo; p <= hi; p++) {
                char key[32];
                snprintf(key, sizeof(key), "%ld/%s", p, proto);
                json_object_set_new(ports, key, json_object());
        }
        return 0;
}

/* EXPOSE, VOLUME: each word expanded; a variable may hold several ports. */
static int apply_words(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        json_t *set = member(config_of(image), in->kind == DF_EXPOSE ? "ExposedPorts" : "Volumes", false);
        for (size_t i = 0; in->args[i]; i++) {
                cleanup_free char *w = NULL;
                if (expand(sc, in->args[i], &w, err) < 0)
                        return -1;
                if (in->kind == DF_VOLUME) {
                        if (!*w)
                                return berth_error(err, 0, "VOLUME specified can not be an empty string");
                        json_object_set_new(set, w, json_object());
                        continue;
                }
                char *save = NULL;
                for (char *p = strtok_r(w, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save))
                        if (expose_port(set, p, err) < 0)
                                return -1;
        }
        return 0;
}

static int apply_healthcheck(json_t *image, const struct df_insn *in, struct instruction_scope *sc,
                             berth_error_t *err)
{
        json_auto_t *hc = json_object();
        if (in->healthcheck_none) {
                json_object_set_new(hc, "Test", json_pack("[s]", "NONE"));
                json_object_set(config_of(image), "Healthcheck", hc);
                return 0;
        }
        json_t *test = json_array();
        json_array_append_new(test, json_string(in->json ? "CMD" : "CMD-SHELL"));
        for (size_t i = 0; in->args[i]; i++)
                json_array_append_new(test, json_string(in->args[i]));
        json_object_set_new(hc, "Test", test);
        static const char *const durations[][2] = {
                { "interval", "Interval" },
                { "timeout", "Timeout" },
                { "start-period", "StartPeriod" },
                { "start-interval", "StartInterval" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
                const char *v = df_insn_flag(in, durations[i][0]);
                long long ns = 0;
                if (v && parse_go_duration(v, &ns, err) < 0)
                        return berth_error_wrap(err, "HEALTHCHECK --%s", durations[i][0]);
                if (v)
                        json_object_set_new(hc, durations[i][1], json_integer(ns));
        }
        const char *retries = df_insn_flag(in, "retries");
        if (retries) /* the parser checked it is a number */
                json_object_set_new(hc, "Retries", json_integer(strtol(retries, NULL, 10)));
        json_object_set(config_of(image), "Healthcheck", hc);
        return 0;
}

static int apply_shell(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        json_object_set_new(config_of(image), "Shell", strv_to_json(in->args));
        return 0;
}

static int apply_onbuild(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err)
{
        json_array_append_new(member(config_of(image), "OnBuild", true), json_string(in->args[0]));
        return 0;
}

/* The image's author, outside "config". */
static int apply_maintainer(json_t *image, const struct df_insn *in, struct instruction_scope *sc,
                            berth_error_t *err)
{
        json_object_set_new(image, "author", json_string(in->args[0]));
        return 0;
}

typedef int (*apply_fn)(json_t *image, const struct df_insn *in, struct instruction_scope *sc, berth_error_t *err);

static const struct {
        enum df_kind kind;
        apply_fn apply;
        bool change; /* accepted by `commit -c` / `import -c` */
} table[] = {
        { DF_CMD, apply_cmd, true },
        { DF_ENTRYPOINT, apply_entrypoint, true },
        { DF_ENV, apply_pairs, true },
        { DF_EXPOSE, apply_words, true },
        { DF_HEALTHCHECK, apply_healthcheck, true },
        { DF_LABEL, apply_pairs, true },
        { DF_ONBUILD, apply_onbuild, true },
        { DF_STOPSIGNAL, apply_word, true },
        { DF_USER, apply_word, true },
        { DF_VOLUME, apply_words, true },
        { DF_WORKDIR, apply_workdir, true },
        { DF_SHELL, apply_shell, false },
        { DF_MAINTAINER, apply_maintainer, false },
};

int instruction_apply(json_t *image, const struct df_insn *in, struct instruction_scope *scope, berth_error_t *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                if (table[i].kind == in->kind)
                        return table[i].apply(image, in, scope, err);
        return berth_error(err, 0, "internal error: %s is not a metadata instruction", df_kind_name(in->kind));
}

/* ---- `--change` ------------------------------------------------------------------ */

/* "CMD, ENTRYPOINT, ..." for errors. */
static char *change_kinds(void)
{
        struct strbuf b = {};
        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                if (table[i].change)
                        strbuf_printf(&b, "%s%s", b.len ? ", " : "", df_kind_name(table[i].kind));
        return strbuf_steal(&b);
}

/* One change, with the scope of the list it is in. */
static int apply_change(json_t *config, const char *change, struct instruction_scope *scope, berth_error_t *err)
{
        /* the keyword first: an instruction that is not a change is refused
         * as such, whether it would parse or not (Docker's order too) */
        const char *p = change + strspn(change, " \t\r\n\v\f");
        cleanup_free char *kw = xstrndup(p, strcspn(p, " \t\r\n\v\f"));
        for (char *c = kw; *c; c++)
                *c = (char) toupper((unsigned char) *c);
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                known = known || (table[i].change && streq(df_kind_name(table[i].kind), kw));
        if (!known) {
                cleanup_free char *kinds = change_kinds();
                if (!*kw)
                        return berth_error(err, 0, "empty change (expected one of %s)", kinds);
                return berth_error(err, 0, "%s is not a valid change command (expected one of %s)", kw, kinds);
        }
        struct df_insn in;
        if (df_insn_parse_line(p, NULL, 0, &in, err) < 0)
                return -1;
        /* the variables are the config's own, as Docker's are the
         * container's, with the ENVs of earlier changes in the list */
        cleanup_strv char **env = json_strv(json_object_get(config, "Env"));
        scope->env = env;
        /* instruction_apply() takes the whole image config: lend it this one's
         * "config" object (changes do not include MAINTAINER) */
        json_auto_t *image = json_pack("{s:O}", "config", config);
        int r = instruction_apply(image, &in, scope, err);
        scope->env = NULL;
        df_insn_clear(&in);
        return r;
}

int image_config_apply_changes(json_t *config, char *const *changes, berth_error_t *err)
{
        /* one builder state for the list, as Docker's BuildFromConfig: an
         * ENTRYPOINT clears Cmd unless a CMD came before it in the list */
        struct instruction_scope scope = { 0 };
        for (size_t i = 0; changes && changes[i]; i++)
                if (apply_change(config, changes[i], &scope, err) < 0)
                        return -1;
        return 0;
}
