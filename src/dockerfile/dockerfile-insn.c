/* berth — one Dockerfile instruction (include/berth/dockerfile.h): the
 * keyword (in any case) looked up in insn_table[], the leading --flags the
 * instruction accepts, and the arguments, which each instruction reads in
 * one of Docker's ways: JSON (exec form) or shell, words, key=value pairs,
 * the rest of the line.  Nothing is substituted here: quotes stay in the
 * words for df_expand() (dockerfile-expand.c).  The lines come from
 * dockerfile.c, or from a base image's ONBUILD triggers through
 * df_insn_parse_line(). */
#include "config.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>

#include "berth/dockerfile-internal.h"
#include "berth/parse.h"
#include "berth/util.h"

/* ---- instruction table ----------------------------------------------------- */

typedef int (*df_parse_fn)(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);

static int parse_from(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_json_or_shell(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx,
                               berth_error_t *err);
static int parse_name_val(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_arg(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_copy(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_string(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_words(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_volume(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_onbuild(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);
static int parse_healthcheck(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx,
                             berth_error_t *err);
static int parse_shell(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err);

static const struct {
        const char *name; /* lower case, as matched */
        enum df_kind kind;
        df_parse_fn parse;
        const char *flags; /* accepted --flags, space separated, each followed by a space */
} insn_table[] = {
        { "from", DF_FROM, parse_from, "platform " },
        { "run", DF_RUN, parse_json_or_shell, "network " },
        { "cmd", DF_CMD, parse_json_or_shell, "" },
        { "entrypoint", DF_ENTRYPOINT, parse_json_or_shell, "" },
        { "env", DF_ENV, parse_name_val, "" },
        { "arg", DF_ARG, parse_arg, "" },
        { "copy", DF_COPY, parse_copy, "from chown chmod link " },
        { "add", DF_ADD, parse_copy, "chown chmod link " },
        { "workdir", DF_WORKDIR, parse_string, "" },
        { "expose", DF_EXPOSE, parse_words, "" },
        { "volume", DF_VOLUME, parse_volume, "" },
        { "label", DF_LABEL, parse_name_val, "" },
        { "user", DF_USER, parse_string, "" },
        { "maintainer", DF_MAINTAINER, parse_string, "" },
        { "onbuild", DF_ONBUILD, parse_onbuild, "" },
        { "stopsignal", DF_STOPSIGNAL, parse_string, "" },
        { "healthcheck", DF_HEALTHCHECK, parse_healthcheck, "interval timeout start-period start-interval retries " },
        { "shell", DF_SHELL, parse_shell, "" },
};

const char *df_kind_name(enum df_kind k)
{
        static const char *const names[] = {
                [DF_FROM] = "FROM",           [DF_RUN] = "RUN",         [DF_CMD] = "CMD",
                [DF_ENTRYPOINT] = "ENTRYPOINT", [DF_ENV] = "ENV",       [DF_ARG] = "ARG",
                [DF_COPY] = "COPY",           [DF_ADD] = "ADD",         [DF_WORKDIR] = "WORKDIR",
                [DF_EXPOSE] = "EXPOSE",       [DF_VOLUME] = "VOLUME",   [DF_LABEL] = "LABEL",
                [DF_USER] = "USER",           [DF_MAINTAINER] = "MAINTAINER", [DF_ONBUILD] = "ONBUILD",
                [DF_STOPSIGNAL] = "STOPSIGNAL", [DF_HEALTHCHECK] = "HEALTHCHECK", [DF_SHELL] = "SHELL",
        };
        return (size_t) k < ARRAY_SIZE(names) ? names[k] : "?";
}

int df_line_error(berth_error_t *err, const struct df_insn_ctx *ctx, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        if (!ctx->file) /* a line in no file: a `--change` value */
                return berth_error(err, 0, "%s", msg);
        return berth_error(err, 0, "%s:%d: %s", ctx->file, ctx->line, msg);
}

/* Levenshtein distance, for "did you mean FROM?" */
static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 32 || lb > 32)
                return 99;
        size_t d[33][33];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
                        size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
                        d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
                }
        return d[la][lb];
}

static int unknown_instruction(const char *word, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        cleanup_free char *up = xstrdup(word);
        cleanup_free char *low = xstrdup(word);
        for (char *c = up; *c; c++)
                *c = (char) toupper((unsigned char) *c);
        for (char *c = low; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        const char *best = NULL;
        size_t best_d = 3; /* suggest only close names, as Docker does */
        for (size_t i = 0; i < ARRAY_SIZE(insn_table); i++) {
                size_t d = edit_distance(low, insn_table[i].name);
                if (d < best_d) {
                        best_d = d;
                        best = df_kind_name(insn_table[i].kind);
                }
        }
        if (best)
                return df_line_error(err, ctx, "unknown instruction: %s (did you mean %s?)", up, best);
        return df_line_error(err, ctx, "unknown instruction: %s", up);
}

/* ---- argument readers -------------------------------------------------------- */

/* A JSON array of strings, or NULL when rest is not JSON.  An array holding
 * something else than strings is an error, as in Docker. */
static int json_strings(const char *rest, char ***out, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        *out = NULL;
        if (*rest != '[')
                return 0;
        json_error_t jerr;
        json_t *arr = json_loads(rest, JSON_DECODE_ANY, &jerr);
        if (!arr)
                return 0;
        if (!json_is_array(arr)) {
                json_decref(arr);
                return 0;
        }
        char **v = xcalloc(json_array_size(arr) + 1, sizeof(char *));
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
                if (!json_is_string(e)) {
                        strv_free(v);
                        json_decref(arr);
                        return df_line_error(err, ctx, "when using JSON array syntax, arrays must be comprised of "
                                                       "strings only");
                }
                v[i] = xstrdup(json_string_value(e));
        }
        json_decref(arr);
        *out = v;
        return 1;
}

/* Whitespace-separated words, nothing else. */
static char **split_blanks(const char *rest)
{
        char **v = xcalloc(1, sizeof(char *));
        const char *p = skip_blanks(rest);
        while (*p) {
                const char *e = p;
                while (*e && !is_blank(*e))
                        e++;
                cleanup_free char *w = xstrndup(p, (size_t) (e - p));
                strv_push(&v, w);
                p = skip_blanks(e);
        }
        return v;
}

/* Docker's word splitter for ENV, LABEL and ARG: whitespace separates words
 * except inside quotes or after the escape character; quotes and escapes
 * stay in the word (df_expand() removes them later). */
static char **split_quoted_words(const char *rest, char escape)
{
        char **v = xcalloc(1, sizeof(char *));
        cleanup_strbuf struct strbuf w = { 0 };
        bool in_word = false, blank_ok = false;
        char quote = 0;
        for (const char *p = rest;; p++) {
                char c = *p;
                if (!c) {
                        if (in_word && (blank_ok || w.len))
                                strv_push(&v, w.s ? w.s : "");
                        break;
                }
                if (!in_word) {
                        if (is_blank(c))
                                continue;
                        in_word = true;
                }
                if (quote) {
                        if (c == quote)
                                quote = 0;
                        else if (c == escape && quote != '\'') {
                                if (!p[1])
                                        continue;
                                strbuf_addc(&w, c);
                                c = *++p;
                        }
                        strbuf_addc(&w, c);
                        continue;
                }
                if (is_blank(c)) {
                        if (blank_ok || w.len)
                                strv_push(&v, w.s ? w.s : "");
                        w.len = 0;
                        if (w.s)
                                w.s[0] = '\0';
                        in_word = blank_ok = false;
                        continue;
                }
                if (c == '\'' || c == '"') {
                        quote = c;
                        blank_ok = true;
                } else if (c == escape) {
                        if (!p[1])
                                continue;
                        strbuf_addc(&w, c);
                        c = *++p;
                }
                strbuf_addc(&w, c);
        }
        return v;
}

static void kv_push(struct df_insn *in, const char *key, const char *value)
{
        in->kv = xrealloc(in->kv, (in->nkv + 1) * sizeof(*in->kv));
        in->kv[in->nkv].key = xstrdup(key);
        in->kv[in->nkv].value = value ? xstrdup(value) : NULL;
        in->nkv++;
}

/* ---- the instructions ---------------------------------------------------------- */

static bool stage_name_valid(const char *s)
{
        if (!islower((unsigned char) *s))
                return false;
        for (const char *c = s; *c; c++)
                if (!islower((unsigned char) *c) && !isdigit((unsigned char) *c) && !strchr("-_.", *c))
                        return false;
        return true;
}

static int parse_from(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        in->args = split_blanks(rest);
        size_t n = strv_length(in->args);
        if (n != 1 && !(n == 3 && strcasecmp(in->args[1], "as") == 0))
                return df_line_error(err, ctx, "FROM requires either one or three arguments");
        if (n == 3) {
                for (char *c = in->args[2]; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                if (!stage_name_valid(in->args[2]))
                        return df_line_error(err, ctx,
                                             "invalid name for build stage: \"%s\", name can't start with a number or "
                                             "contain symbols",
                                             in->args[2]);
        }
        return 0;
}

static int parse_json_or_shell(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx,
                               berth_error_t *err)
{
        int r = json_strings(rest, &in->args, ctx, err);
        if (r < 0)
                return r;
        if (r > 0) {
                in->json = true;
                return 0;
        }
        if (!*rest)
                return df_line_error(err, ctx, "%s requires at least one argument", df_kind_name(in->kind));
        in->args = xcalloc(2, sizeof(char *));
        in->args[0] = xstrdup(rest);
        return 0;
}

static int parse_name_val(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        const char *kw = df_kind_name(in->kind);
        cleanup_strv char **words = split_quoted_words(rest, ctx->escape);
        if (!words[0])
                return df_line_error(err, ctx, "%s requires at least one argument", kw);
        if (!strchr(words[0], '=')) {
                /* the old form, "ENV KEY the value" */
                const char *p = rest;
                while (*p && !is_blank(*p))
                        p++;
                cleanup_free char *key = xstrndup(rest, (size_t) (p - rest));
                p = skip_blanks(p);
                if (!*p)
                        return df_line_error(err, ctx, "%s must have two arguments", kw);
                kv_push(in, key, p);
                return 0;
        }
        for (size_t i = 0; words[i]; i++) {
                char *eq = strchr(words[i], '=');
                if (!eq)
                        return df_line_error(err, ctx,
                                             "Syntax error - can't find = in \"%s\". Must be of the form: name=value",
                                             words[i]);
                *eq = '\0';
                if (!*words[i])
                        return df_line_error(err, ctx, "%s names can not be blank", kw);
                kv_push(in, words[i], eq + 1);
        }
        return 0;
}

static int parse_arg(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        cleanup_strv char **words = split_quoted_words(rest, ctx->escape);
        if (!words[0])
                return df_line_error(err, ctx, "ARG requires at least one argument");
        for (size_t i = 0; words[i]; i++) {
                char *eq = strchr(words[i], '=');
                if (eq)
                        *eq = '\0';
                if (!*words[i])
                        return df_line_error(err, ctx, "ARG names can not be blank");
                kv_push(in, words[i], eq ? eq + 1 : NULL);
        }
        return 0;
}

/* COPY, ADD, VOLUME: a JSON array, or words (quotes are not special). */
static int json_or_words(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        int r = json_strings(rest, &in->args, ctx, err);
        if (r < 0)
                return r;
        in->json = r > 0;
        if (!r)
                in->args = split_blanks(rest);
        return 0;
}

static int parse_copy(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (json_or_words(in, rest, ctx, err) < 0)
                return -1;
        if (strv_length(in->args) + in->nheredocs < 2)
                return df_line_error(err, ctx,
                                     "%s requires at least two arguments, but only one was provided. Destination could "
                                     "not be determined.",
                                     df_kind_name(in->kind));
        return 0;
}

static int parse_string(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (!*rest)
                return df_line_error(err, ctx, "%s requires exactly one argument", df_kind_name(in->kind));
        if (in->kind != DF_MAINTAINER && in->kind != DF_WORKDIR) {
                /* USER and STOPSIGNAL take one word (quotes may hold blanks) */
                cleanup_strv char **w = split_quoted_words(rest, ctx->escape);
                if (strv_length(w) != 1)
                        return df_line_error(err, ctx, "%s requires exactly one argument", df_kind_name(in->kind));
        }
        in->args = xcalloc(2, sizeof(char *));
        in->args[0] = xstrdup(rest);
        return 0;
}

static int parse_words(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        in->args = split_blanks(rest);
        if (!in->args[0])
                return df_line_error(err, ctx, "%s requires at least one argument", df_kind_name(in->kind));
        return 0;
}

static int parse_volume(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (json_or_words(in, rest, ctx, err) < 0)
                return -1;
        if (!in->args[0])
                return df_line_error(err, ctx, "VOLUME requires at least one argument");
        for (size_t i = 0; in->args[i]; i++)
                if (!*in->args[i])
                        return df_line_error(err, ctx, "VOLUME specified can not be an empty string");
        return 0;
}

static int parse_shell(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        int r = json_strings(rest, &in->args, ctx, err);
        if (r < 0)
                return r;
        if (r == 0)
                return df_line_error(err, ctx, "SHELL requires the arguments to be in JSON form");
        in->json = true;
        if (!in->args[0])
                return df_line_error(err, ctx, "SHELL requires at least one argument");
        return 0;
}

static int parse_onbuild(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (!*rest)
                return df_line_error(err, ctx, "ONBUILD requires at least one argument");
        size_t kw = 0;
        while (rest[kw] && !is_blank(rest[kw]))
                kw++;
        static const char *const refused[] = { "onbuild", "from", "maintainer" };
        for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
                if (strlen(refused[i]) == kw && strncasecmp(rest, refused[i], kw) == 0) {
                        if (i == 0)
                                return df_line_error(err, ctx, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                        return df_line_error(err, ctx, "%s isn't allowed as an ONBUILD trigger",
                                             df_kind_name(i == 1 ? DF_FROM : DF_MAINTAINER));
                }
        in->trigger = xcalloc(1, sizeof(*in->trigger));
        if (df_insn_parse_line(rest, ctx->file, ctx->line, in->trigger, err) < 0)
                return -1;
        in->args = xcalloc(2, sizeof(char *));
        in->args[0] = xstrdup(rest);
        return 0;
}

static int check_duration_flag(struct df_insn *in, const char *flag, const struct df_insn_ctx *ctx,
                               berth_error_t *err)
{
        const char *v = df_insn_flag(in, flag);
        if (!v)
                return 0;
        long long ns = 0;
        cleanup_error berth_error_t e = NULL;
        if (parse_go_duration(v, &ns, &e) < 0)
                return df_line_error(err, ctx, "HEALTHCHECK --%s: %s", flag, e->msg);
        if (ns != 0 && ns < 1000000)
                return df_line_error(err, ctx, "HEALTHCHECK --%s cannot be less than 1ms", flag);
        if (ns < 0)
                return df_line_error(err, ctx, "HEALTHCHECK --%s cannot be negative", flag);
        return 0;
}

static int parse_healthcheck(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx,
                             berth_error_t *err)
{
        size_t kw = 0;
        while (rest[kw] && !is_blank(rest[kw]))
                kw++;
        if (kw == 0)
                return df_line_error(err, ctx, "HEALTHCHECK requires at least one argument");
        const char *after = skip_blanks(rest + kw);
        if (kw == 4 && strncasecmp(rest, "none", 4) == 0) {
                if (*after || in->flags)
                        return df_line_error(err, ctx, "HEALTHCHECK NONE takes no arguments");
                in->healthcheck_none = true;
                return 0;
        }
        if (!(kw == 3 && strncasecmp(rest, "cmd", 3) == 0))
                return df_line_error(err, ctx, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int) kw, rest);
        if (!*after)
                return df_line_error(err, ctx, "Missing command after HEALTHCHECK CMD");
        static const char *const durations[] = { "interval", "timeout", "start-period", "start-interval" };
        for (size_t i = 0; i < ARRAY_SIZE(durations); i++)
                if (check_duration_flag(in, durations[i], ctx, err) < 0)
                        return -1;
        const char *retries = df_insn_flag(in, "retries");
        if (retries) {
                char *end = NULL;
                long v = strtol(retries, &end, 10);
                if (!*retries || *end)
                        return df_line_error(err, ctx, "HEALTHCHECK --retries: invalid number \"%s\"", retries);
                if (v < 0)
                        return df_line_error(err, ctx, "HEALTHCHECK --retries cannot be negative");
        }
        return parse_json_or_shell(in, after, ctx, err);
}

/* ---- one instruction ------------------------------------------------------------- */

const char *df_insn_flag(const struct df_insn *in, const char *name)
{
        size_t n = strlen(name);
        for (size_t i = 0; in->flags && in->flags[i]; i++) {
                const char *f = in->flags[i];
                if (strncmp(f, name, n) == 0 && (f[n] == '=' || f[n] == '\0'))
                        return f[n] == '=' ? f + n + 1 : f + n;
        }
        return NULL;
}

/* Leading "--name[=value]" words; "--" ends them. */
static int extract_flags(struct df_insn *in, const char *accepted, const char **rest, const struct df_insn_ctx *ctx,
                         berth_error_t *err)
{
        const char *p = *rest;
        while (p[0] == '-' && p[1] == '-') {
                const char *e = p;
                while (*e && !is_blank(*e))
                        e++;
                if (e == p + 2) {
                        p = skip_blanks(e);
                        break;
                }
                cleanup_free char *f = xstrndup(p + 2, (size_t) (e - p - 2));
                size_t nlen = strcspn(f, "=");
                cleanup_free char *key = xasprintf(" %.*s ", (int) nlen, f);
                cleanup_free char *known = xasprintf(" %s", accepted);
                if (!strstr(known, key)) {
                        if (in->kind == DF_RUN && streq(key, " mount "))
                                return df_line_error(err, ctx, "RUN --mount is not supported by berth");
                        return df_line_error(err, ctx, "unknown flag: --%.*s for %s", (int) nlen, f,
                                             df_kind_name(in->kind));
                }
                cleanup_free char *name = xstrndup(f, nlen);
                if (df_insn_flag(in, name))
                        return df_line_error(err, ctx, "duplicate flag specified: --%s", name);
                strv_push(&in->flags, f);
                p = skip_blanks(e);
        }
        *rest = p;
        return 0;
}

int df_insn_parse(const char *line, struct df_insn *in, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        const char *p = skip_blanks(line);
        const char *e = p;
        while (*e && !is_blank(*e))
                e++;
        cleanup_free char *word = xstrndup(p, (size_t) (e - p));
        size_t t;
        for (t = 0; t < ARRAY_SIZE(insn_table); t++)
                if (strcasecmp(word, insn_table[t].name) == 0)
                        break;
        if (t == ARRAY_SIZE(insn_table))
                return unknown_instruction(word, ctx, err);
        in->kind = insn_table[t].kind;
        in->line = ctx->line;
        in->text = trim_dup(p);
        const char *rest = skip_blanks(e);
        if (extract_flags(in, insn_table[t].flags, &rest, ctx, err) < 0)
                return -1;
        cleanup_free char *args = trim_dup(rest);
        return insn_table[t].parse(in, args, ctx, err);
}

int df_insn_parse_line(const char *text, const char *name, int line, struct df_insn *out, berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        struct df_insn_ctx ctx = { .file = name, .line = line, .escape = '\\' };
        if (df_insn_parse(text, out, &ctx, err) < 0) {
                df_insn_clear(out);
                return -1;
        }
        return 0;
}

void df_insn_clear(struct df_insn *in)
{
        free(in->text);
        strv_free(in->flags);
        strv_free(in->args);
        for (size_t i = 0; i < in->nkv; i++) {
                free(in->kv[i].key);
                free(in->kv[i].value);
        }
        free(in->kv);
        if (in->trigger) {
                df_insn_clear(in->trigger);
                free(in->trigger);
        }
        for (size_t i = 0; i < in->nheredocs; i++) {
                free(in->heredocs[i].name);
                free(in->heredocs[i].content);
        }
        free(in->heredocs);
        memset(in, 0, sizeof(*in));
}
