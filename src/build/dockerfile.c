/* berth — the Dockerfile parser and Docker's word expansion (see
 * include/berth/dockerfile.h).  The parse follows Docker's: directives,
 * then logical lines (continuations joined, comment lines inside them
 * dropped), split into the instruction keyword, --flags and the arguments,
 * which each instruction reads in one of Docker's ways (JSON or shell, words,
 * key=value pairs, the rest of the line).  Substitution happens later, in
 * df_expand(), because only the builder knows the variables of a stage. */
#include "config.h"

#include <ctype.h>
#include <jansson.h>

#include "berth/dockerfile.h"
#include "berth/parse.h"
#include "berth/util.h"

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static const char *skip_blanks(const char *p)
{
        while (*p && is_blank(*p))
                p++;
        return p;
}

static char *trim_dup(const char *p)
{
        p = skip_blanks(p);
        size_t n = strlen(p);
        while (n > 0 && is_blank(p[n - 1]))
                n--;
        return xstrndup(p, n);
}

/* ---- instruction table ----------------------------------------------------- */
struct df_insn_ctx {
        const char *file;
        int line;
        char escape;
};

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

/* An error at a line of the file: "Dockerfile:12: message". */
static int __attribute__((format(printf, 3, 4)))
line_error(berth_error_t *err, const struct df_insn_ctx *ctx, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return berth_error(err, 0, "%s:%d: %s", ctx->file, ctx->line, msg);
}

/* Put "Dockerfile:12" before an error from elsewhere (df_expand()). */
static int line_wrap(berth_error_t *err, const struct df_insn_ctx *ctx)
{
        return berth_error_wrap(err, "%s:%d", ctx->file, ctx->line);
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
                return line_error(err, ctx, "unknown instruction: %s (did you mean %s?)", up, best);
        return line_error(err, ctx, "unknown instruction: %s", up);
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
                        return line_error(err, ctx, "when using JSON array syntax, arrays must be comprised of "
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
                return line_error(err, ctx, "FROM requires either one or three arguments");
        if (n == 3) {
                for (char *c = in->args[2]; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                if (!stage_name_valid(in->args[2]))
                        return line_error(err, ctx,
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
                return line_error(err, ctx, "%s requires at least one argument", df_kind_name(in->kind));
        in->args = xcalloc(2, sizeof(char *));
        in->args[0] = xstrdup(rest);
        return 0;
}

static int parse_name_val(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        const char *kw = df_kind_name(in->kind);
        cleanup_strv char **words = split_quoted_words(rest, ctx->escape);
        if (!words[0])
                return line_error(err, ctx, "%s requires at least one argument", kw);
        if (!strchr(words[0], '=')) {
                /* the old form, "ENV KEY the value" */
                const char *p = rest;
                while (*p && !is_blank(*p))
                        p++;
                cleanup_free char *key = xstrndup(rest, (size_t) (p - rest));
                p = skip_blanks(p);
                if (!*p)
                        return line_error(err, ctx, "%s must have two arguments", kw);
                kv_push(in, key, p);
                return 0;
        }
        for (size_t i = 0; words[i]; i++) {
                char *eq = strchr(words[i], '=');
                if (!eq)
                        return line_error(err, ctx,
                                          "Syntax error - can't find = in \"%s\". Must be of the form: name=value",
                                          words[i]);
                *eq = '\0';
                if (!*words[i])
                        return line_error(err, ctx, "%s names can not be blank", kw);
                kv_push(in, words[i], eq + 1);
        }
        return 0;
}

static int parse_arg(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        cleanup_strv char **words = split_quoted_words(rest, ctx->escape);
        if (!words[0])
                return line_error(err, ctx, "ARG requires at least one argument");
        for (size_t i = 0; words[i]; i++) {
                char *eq = strchr(words[i], '=');
                if (eq)
                        *eq = '\0';
                if (!*words[i])
                        return line_error(err, ctx, "ARG names can not be blank");
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
                return line_error(err, ctx,
                                  "%s requires at least two arguments, but only one was provided. Destination could "
                                  "not be determined.",
                                  df_kind_name(in->kind));
        return 0;
}

static int parse_string(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (!*rest)
                return line_error(err, ctx, "%s requires exactly one argument", df_kind_name(in->kind));
        if (in->kind != DF_MAINTAINER && in->kind != DF_WORKDIR) {
                /* USER and STOPSIGNAL take one word (quotes may hold blanks) */
                cleanup_strv char **w = split_quoted_words(rest, ctx->escape);
                if (strv_length(w) != 1)
                        return line_error(err, ctx, "%s requires exactly one argument", df_kind_name(in->kind));
        }
        in->args = xcalloc(2, sizeof(char *));
        in->args[0] = xstrdup(rest);
        return 0;
}

static int parse_words(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        in->args = split_blanks(rest);
        if (!in->args[0])
                return line_error(err, ctx, "%s requires at least one argument", df_kind_name(in->kind));
        return 0;
}

static int parse_volume(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (json_or_words(in, rest, ctx, err) < 0)
                return -1;
        if (!in->args[0])
                return line_error(err, ctx, "VOLUME requires at least one argument");
        for (size_t i = 0; in->args[i]; i++)
                if (!*in->args[i])
                        return line_error(err, ctx, "VOLUME specified can not be an empty string");
        return 0;
}

static int parse_shell(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        int r = json_strings(rest, &in->args, ctx, err);
        if (r < 0)
                return r;
        if (r == 0)
                return line_error(err, ctx, "SHELL requires the arguments to be in JSON form");
        in->json = true;
        if (!in->args[0])
                return line_error(err, ctx, "SHELL requires at least one argument");
        return 0;
}

static int parse_onbuild(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx, berth_error_t *err)
{
        if (!*rest)
                return line_error(err, ctx, "ONBUILD requires at least one argument");
        size_t kw = 0;
        while (rest[kw] && !is_blank(rest[kw]))
                kw++;
        static const char *const refused[] = { "onbuild", "from", "maintainer" };
        for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
                if (strlen(refused[i]) == kw && strncasecmp(rest, refused[i], kw) == 0) {
                        if (i == 0)
                                return line_error(err, ctx, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                        return line_error(err, ctx, "%s isn't allowed as an ONBUILD trigger",
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
                return line_error(err, ctx, "HEALTHCHECK --%s: %s", flag, e->msg);
        if (ns != 0 && ns < 1000000)
                return line_error(err, ctx, "HEALTHCHECK --%s cannot be less than 1ms", flag);
        if (ns < 0)
                return line_error(err, ctx, "HEALTHCHECK --%s cannot be negative", flag);
        return 0;
}

static int parse_healthcheck(struct df_insn *in, const char *rest, const struct df_insn_ctx *ctx,
                             berth_error_t *err)
{
        size_t kw = 0;
        while (rest[kw] && !is_blank(rest[kw]))
                kw++;
        if (kw == 0)
                return line_error(err, ctx, "HEALTHCHECK requires at least one argument");
        const char *after = skip_blanks(rest + kw);
        if (kw == 4 && strncasecmp(rest, "none", 4) == 0) {
                if (*after || in->flags)
                        return line_error(err, ctx, "HEALTHCHECK NONE takes no arguments");
                in->healthcheck_none = true;
                return 0;
        }
        if (!(kw == 3 && strncasecmp(rest, "cmd", 3) == 0))
                return line_error(err, ctx, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int) kw, rest);
        if (!*after)
                return line_error(err, ctx, "Missing command after HEALTHCHECK CMD");
        static const char *const durations[] = { "interval", "timeout", "start-period", "start-interval" };
        for (size_t i = 0; i < ARRAY_SIZE(durations); i++)
                if (check_duration_flag(in, durations[i], ctx, err) < 0)
                        return -1;
        const char *retries = df_insn_flag(in, "retries");
        if (retries) {
                char *end = NULL;
                long v = strtol(retries, &end, 10);
                if (!*retries || *end)
                        return line_error(err, ctx, "HEALTHCHECK --retries: invalid number \"%s\"", retries);
                if (v < 0)
                        return line_error(err, ctx, "HEALTHCHECK --retries cannot be negative");
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
                                return line_error(err, ctx, "RUN --mount is not supported by berth");
                        return line_error(err, ctx, "unknown flag: --%.*s for %s", (int) nlen, f,
                                          df_kind_name(in->kind));
                }
                cleanup_free char *name = xstrndup(f, nlen);
                if (df_insn_flag(in, name))
                        return line_error(err, ctx, "duplicate flag specified: --%s", name);
                strv_push(&in->flags, f);
                p = skip_blanks(e);
        }
        *rest = p;
        return 0;
}

static int insn_parse(const char *line, struct df_insn *in, const struct df_insn_ctx *ctx, berth_error_t *err)
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
        if (insn_parse(text, out, &ctx, err) < 0) {
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

void dockerfile_free(struct dockerfile *df)
{
        if (!df)
                return;
        for (size_t i = 0; i < df->n; i++)
                df_insn_clear(&df->insns[i]);
        free(df->insns);
        free(df->syntax);
        free(df);
}

/* ---- the file: directives, lines, continuations, heredocs --------------------------- */

struct line_reader {
        const char *p; /* next unread byte */
        int line;      /* number of the last line returned */
};

/* The next physical line (without its newline), or NULL at the end. */
static char *next_line(struct line_reader *r)
{
        if (!*r->p)
                return NULL;
        const char *e = strchr(r->p, '\n');
        size_t n = e ? (size_t) (e - r->p) : strlen(r->p);
        char *l = xstrndup(r->p, n);
        if (n && l[n - 1] == '\r')
                l[n - 1] = '\0';
        r->p += n + (e ? 1 : 0);
        r->line++;
        return l;
}

/* "# name=value" at the top of the file; *name and *value malloc'ed. */
static bool directive_parse(const char *line, char **name, char **value)
{
        const char *p = skip_blanks(line);
        if (*p != '#')
                return false;
        p = skip_blanks(p + 1);
        const char *n = p;
        if (!isalpha((unsigned char) *p))
                return false;
        while (isalnum((unsigned char) *p))
                p++;
        size_t nlen = (size_t) (p - n);
        p = skip_blanks(p);
        if (*p != '=')
                return false;
        cleanup_free char *v = trim_dup(p + 1);
        if (!*v)
                return false;
        *name = xstrndup(n, nlen);
        for (char *c = *name; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        *value = steal_pointer(&v);
        return true;
}

struct directive_state {
        bool done;
        bool seen_escape, seen_syntax;
};

static int directive_line(struct dockerfile *df, struct directive_state *st, const char *line, const char *file,
                          int lineno, berth_error_t *err)
{
        cleanup_free char *name = NULL, *value = NULL;
        if (st->done || !directive_parse(line, &name, &value)) {
                st->done = true;
                return 0;
        }
        struct df_insn_ctx ctx = { .file = file, .line = lineno };
        if (streq(name, "escape")) {
                if (st->seen_escape)
                        return line_error(err, &ctx, "only one escape parser directive can be used");
                st->seen_escape = true;
                if (!streq(value, "\\") && !streq(value, "`"))
                        return line_error(err, &ctx, "invalid escape token '%s' does not match ` or \\", value);
                df->escape = value[0];
        } else if (streq(name, "syntax")) {
                if (st->seen_syntax)
                        return line_error(err, &ctx, "only one syntax parser directive can be used");
                st->seen_syntax = true;
                df->syntax = steal_pointer(&value);
        }
        /* other directives (check=...) are comments to berth */
        return 0;
}

static bool is_comment(const char *line)
{
        return *skip_blanks(line) == '#';
}

/* Does line end with the escape character (and blanks)?  Strips them. */
static bool strip_continuation(char *line, char escape)
{
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
                n--;
        if (n == 0 || line[n - 1] != escape)
                return false;
        line[n - 1] = '\0';
        return true;
}

/* Heredoc markers of a RUN/COPY/ADD line: words "<<EOF", "<<-EOF",
 * "<<'EOF'", "<<\"EOF\"" (a shell's "<<<" is not one). */
static void heredoc_markers(const char *line, struct df_insn *in)
{
        for (const char *p = strstr(line, "<<"); p; p = strstr(p + 2, "<<")) {
                /* only a word starting with "<<" ("cat <<EOF", not $((1<<2))) */
                if (p[2] == '<' || (p > line && !is_blank(p[-1])))
                        continue;
                const char *q = p + 2;
                bool chomp = *q == '-';
                if (chomp)
                        q++;
                char quote = (*q == '\'' || *q == '"') ? *q : 0;
                if (quote)
                        q++;
                const char *n = q;
                while (isalnum((unsigned char) *q) || *q == '_')
                        q++;
                if (q == n || (quote && *q != quote))
                        continue;
                in->heredocs = xrealloc(in->heredocs, (in->nheredocs + 1) * sizeof(*in->heredocs));
                struct df_heredoc *h = &in->heredocs[in->nheredocs++];
                h->name = xstrndup(n, (size_t) (q - n));
                h->content = NULL;
                h->expand = !quote;
                h->chomp = chomp;
        }
}

/* Read the bodies of the heredocs the instruction's line announced. */
static int heredoc_read(struct line_reader *r, struct df_insn *in, const struct df_insn_ctx *ctx,
                        berth_error_t *err)
{
        for (size_t i = 0; i < in->nheredocs; i++) {
                struct df_heredoc *h = &in->heredocs[i];
                cleanup_strbuf struct strbuf body = { 0 };
                for (;;) {
                        cleanup_free char *l = next_line(r);
                        if (!l)
                                return line_error(err, ctx, "unterminated heredoc: no line \"%s\" after it", h->name);
                        const char *t = l;
                        if (h->chomp)
                                while (*t == '\t')
                                        t++;
                        if (streq(t, h->name))
                                break;
                        strbuf_adds(&body, t);
                        strbuf_addc(&body, '\n');
                }
                h->content = strbuf_steal(&body);
        }
        return 0;
}

static struct df_insn *insn_append(struct dockerfile *df)
{
        df->insns = xrealloc(df->insns, (df->n + 1) * sizeof(*df->insns));
        struct df_insn *in = &df->insns[df->n++];
        memset(in, 0, sizeof(*in));
        return in;
}

/* One logical line starting with first (already read, not a comment). */
static int logical_line(struct line_reader *r, char *first, struct dockerfile *df, const char *file,
                        berth_error_t *err)
{
        cleanup_free char *owned = first;
        struct df_insn_ctx ctx = { .file = file, .line = r->line, .escape = df->escape };
        cleanup_strbuf struct strbuf l = { 0 };
        bool more = strip_continuation(first, df->escape);
        strbuf_adds(&l, first);
        while (more) {
                cleanup_free char *next = next_line(r);
                if (!next)
                        break;
                if (is_comment(next) || !*skip_blanks(next))
                        continue; /* Docker drops these inside a continued line */
                more = strip_continuation(next, df->escape);
                strbuf_adds(&l, next);
        }
        struct df_insn *in = insn_append(df);
        const char *p = skip_blanks(l.s);
        if (strncasecmp(p, "run", 3) == 0 || strncasecmp(p, "copy", 4) == 0 || strncasecmp(p, "add", 3) == 0)
                heredoc_markers(l.s, in);
        if (insn_parse(l.s, in, &ctx, err) < 0)
                return -1;
        if (in->nheredocs && in->kind != DF_RUN && in->kind != DF_COPY && in->kind != DF_ADD)
                in->nheredocs = 0;
        return heredoc_read(r, in, &ctx, err);
}

int dockerfile_parse(const char *text, const char *name, struct dockerfile **out, berth_error_t *err)
{
        struct dockerfile *df = xcalloc(1, sizeof(*df));
        __attribute__((cleanup(dockerfile_freep))) struct dockerfile *guard = df;
        df->escape = '\\';
        if (startswith(text, "\xEF\xBB\xBF"))
                text += 3; /* a UTF-8 byte order mark */
        struct line_reader r = { .p = text, .line = 0 };
        struct directive_state st = { 0 };
        for (;;) {
                cleanup_free char *l = next_line(&r);
                if (!l)
                        break;
                if (directive_line(df, &st, l, name, r.line, err) < 0)
                        return -1;
                if (!*skip_blanks(l) || is_comment(l))
                        continue;
                if (logical_line(&r, steal_pointer(&l), df, name, err) < 0)
                        return -1;
        }
        if (df->n == 0)
                return berth_error(err, 0, "%s: file with no instructions", name);
        *out = steal_pointer(&guard);
        return 0;
}

/* ---- word expansion ------------------------------------------------------------------- */

struct lexer {
        const char *s;
        size_t i;
        char escape;
        char *const *env;
};

static int lex_word(struct lexer *lx, char stop, struct strbuf *out, berth_error_t *err);

static const char *env_get(char *const *env, const char *name)
{
        size_t n = strlen(name);
        const char *found = NULL;
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
                        found = env[i] + n + 1;
        return found;
}

static bool name_start(char c)
{
        return isalpha((unsigned char) c) || c == '_';
}

static bool name_char(char c)
{
        return isalnum((unsigned char) c) || c == '_';
}

/* After "${NAME" + modifier: the word up to the closing brace. */
static int lex_modifier_word(struct lexer *lx, struct strbuf *word, berth_error_t *err)
{
        if (lex_word(lx, '}', word, err) < 0)
                return -1;
        if (lx->s[lx->i] != '}')
                return berth_error(err, 0, "syntax error: missing '}'");
        lx->i++;
        return 0;
}

/* At "${": the braced form. */
static int lex_braced(struct lexer *lx, struct strbuf *out, berth_error_t *err)
{
        lx->i += 2;
        size_t n0 = lx->i;
        while (name_char(lx->s[lx->i]))
                lx->i++;
        cleanup_free char *name = xstrndup(lx->s + n0, lx->i - n0);
        if (!*name)
                return berth_error(err, 0, "bad substitution: missing variable name after '${'");
        const char *val = env_get(lx->env, name);
        char c = lx->s[lx->i];
        if (c == '}') {
                lx->i++;
                if (val)
                        strbuf_adds(out, val);
                return 0;
        }
        if (!c)
                return berth_error(err, 0, "syntax error: missing '}'");
        bool colon = c == ':';
        if (colon)
                c = lx->s[++lx->i];
        if (c != '-' && c != '+' && c != '?')
                return berth_error(err, 0, "unsupported modifier (%c) in substitution", c ? c : ' ');
        lx->i++;
        cleanup_strbuf struct strbuf word = { 0 };
        if (lex_modifier_word(lx, &word, err) < 0)
                return -1;
        bool set = val != NULL && (!colon || *val);
        const char *w = word.s ? word.s : "";
        if (c == '-')
                strbuf_adds(out, set ? val : w);
        else if (c == '+')
                strbuf_adds(out, set ? w : "");
        else if (set)
                strbuf_adds(out, val);
        else
                return berth_error(err, 0, "%s: %s", name, *w ? w : "is not allowed to be unset");
        return 0;
}

/* At '$': a variable, or a plain '$'. */
static int lex_dollar(struct lexer *lx, struct strbuf *out, berth_error_t *err)
{
        const char *s = lx->s;
        if (s[lx->i + 1] == '{')
                return lex_braced(lx, out, err);
        size_t n0 = lx->i + 1, e = n0;
        if (name_start(s[n0])) {
                while (name_char(s[e]))
                        e++;
        } else if (isdigit((unsigned char) s[n0]))
                e = n0 + 1; /* $1: a positional parameter, never set here */
        if (e == n0) {
                strbuf_addc(out, '$');
                lx->i++;
                return 0;
        }
        cleanup_free char *name = xstrndup(s + n0, e - n0);
        const char *val = env_get(lx->env, name);
        if (val)
                strbuf_adds(out, val);
        lx->i = e;
        return 0;
}

static int lex_double_quoted(struct lexer *lx, struct strbuf *out, berth_error_t *err)
{
        lx->i++;
        for (;;) {
                char c = lx->s[lx->i];
                if (!c)
                        return berth_error(err, 0,
                                           "unexpected end of statement while looking for matching double-quote");
                if (c == '"') {
                        lx->i++;
                        return 0;
                }
                if (c == '$') {
                        if (lex_dollar(lx, out, err) < 0)
                                return -1;
                        continue;
                }
                if (c == lx->escape) {
                        char n = lx->s[lx->i + 1];
                        if (n == '"' || n == '$' || n == lx->escape) {
                                strbuf_addc(out, n);
                                lx->i += 2;
                                continue;
                        }
                }
                strbuf_addc(out, c);
                lx->i++;
        }
}

/* The word up to stop (a '}' of an enclosing ${...}) or the end. */
static int lex_word(struct lexer *lx, char stop, struct strbuf *out, berth_error_t *err)
{
        for (;;) {
                char c = lx->s[lx->i];
                if (!c || (stop && c == stop))
                        return 0;
                if (c == '\'') {
                        const char *e = strchr(lx->s + lx->i + 1, '\'');
                        if (!e)
                                return berth_error(err, 0, "unexpected end of statement while looking for matching "
                                                           "single-quote");
                        strbuf_addn(out, lx->s + lx->i + 1, (size_t) (e - (lx->s + lx->i + 1)));
                        lx->i = (size_t) (e - lx->s) + 1;
                } else if (c == '"') {
                        if (lex_double_quoted(lx, out, err) < 0)
                                return -1;
                } else if (c == '$') {
                        if (lex_dollar(lx, out, err) < 0)
                                return -1;
                } else if (c == lx->escape) {
                        lx->i++;
                        if (lx->s[lx->i])
                                strbuf_addc(out, lx->s[lx->i++]);
                } else {
                        strbuf_addc(out, c);
                        lx->i++;
                }
        }
}

int df_expand(const char *word, char *const *env, char escape, char **out, berth_error_t *err)
{
        struct lexer lx = { .s = word, .i = 0, .escape = escape ? escape : '\\', .env = env };
        cleanup_strbuf struct strbuf b = { 0 };
        if (lex_word(&lx, 0, &b, err) < 0)
                return berth_error_wrap(err, "%s", word);
        *out = strbuf_steal(&b);
        return 0;
}

int df_expand_heredoc(const char *text, char *const *env, char escape, char **out, berth_error_t *err)
{
        struct lexer lx = { .s = text, .i = 0, .escape = escape ? escape : '\\', .env = env };
        cleanup_strbuf struct strbuf b = { 0 };
        while (text[lx.i]) {
                char c = text[lx.i];
                if (c == lx.escape && text[lx.i + 1] == '$') {
                        strbuf_addc(&b, '$');
                        lx.i += 2;
                } else if (c == '$') {
                        if (lex_dollar(&lx, &b, err) < 0)
                                return -1;
                } else {
                        strbuf_addc(&b, c);
                        lx.i++;
                }
        }
        *out = strbuf_steal(&b);
        return 0;
}

/* ---- stages ------------------------------------------------------------------------------ */

void df_stages_free(struct df_stage *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].base);
                free(v[i].name);
                free(v[i].platform);
        }
        free(v);
}

static void kv_env_set(char ***env, const char *key, const char *value)
{
        cleanup_free char *kv = xasprintf("%s=%s", key, value);
        strv_env_set(env, kv);
}

/* The ARGs before the first FROM, with build args applied. */
static int meta_args(const struct dockerfile *df, const char *file, char *const *build_args, size_t *first_from,
                     char ***meta, berth_error_t *err)
{
        size_t i;
        for (i = 0; i < df->n && df->insns[i].kind != DF_FROM; i++) {
                const struct df_insn *in = &df->insns[i];
                struct df_insn_ctx ctx = { .file = file, .line = in->line };
                if (in->kind != DF_ARG)
                        return line_error(err, &ctx,
                                          "no build stage in current context: the first instruction must be FROM "
                                          "(only ARG may come before it)");
                for (size_t k = 0; k < in->nkv; k++) {
                        const char *given = env_get(build_args, in->kv[k].key);
                        if (given) {
                                kv_env_set(meta, in->kv[k].key, given);
                                continue;
                        }
                        if (!in->kv[k].value)
                                continue;
                        cleanup_free char *v = NULL;
                        if (df_expand(in->kv[k].value, *meta, df->escape, &v, err) < 0)
                                return line_wrap(err, &ctx);
                        kv_env_set(meta, in->kv[k].key, v);
                }
        }
        if (i == df->n)
                return berth_error(err, 0, "%s: no FROM instruction: nothing to build", file);
        *first_from = i;
        return 0;
}

int dockerfile_stages(const struct dockerfile *df, const char *name, char *const *build_args,
                      struct df_stage **out, size_t *n, char ***meta_out, berth_error_t *err)
{
        cleanup_strv char **meta = xcalloc(1, sizeof(char *));
        size_t first = 0;
        if (meta_args(df, name, build_args, &first, &meta, err) < 0)
                return -1;
        struct df_stage *v = NULL;
        size_t nv = 0;
        for (size_t i = first; i < df->n; i++) {
                const struct df_insn *in = &df->insns[i];
                if (in->kind != DF_FROM)
                        continue;
                struct df_insn_ctx ctx = { .file = name, .line = in->line };
                v = xrealloc(v, (nv + 1) * sizeof(*v));
                struct df_stage *st = &v[nv++];
                memset(st, 0, sizeof(*st));
                st->from = i;
                st->base_stage = -1;
                if (nv > 1)
                        v[nv - 2].end = i;
                if (df_expand(in->args[0], meta, df->escape, &st->base, err) < 0) {
                        line_wrap(err, &ctx);
                        goto fail;
                }
                if (!*st->base) {
                        line_error(err, &ctx, "base name (%s) should not be blank", in->args[0]);
                        goto fail;
                }
                const char *platform = df_insn_flag(in, "platform");
                if (platform && df_expand(platform, meta, df->escape, &st->platform, err) < 0) {
                        line_wrap(err, &ctx);
                        goto fail;
                }
                if (in->args[1])
                        st->name = xstrdup(in->args[2]);
                for (size_t j = 0; j + 1 < nv; j++) {
                        if (st->name && v[j].name && streq(v[j].name, st->name)) {
                                line_error(err, &ctx, "duplicate stage name \"%s\"", st->name);
                                goto fail;
                        }
                        if (v[j].name && strcasecmp(v[j].name, st->base) == 0)
                                st->base_stage = (ssize_t) j;
                }
        }
        v[nv - 1].end = df->n;
        *out = v;
        *n = nv;
        if (meta_out)
                *meta_out = steal_pointer(&meta);
        return 0;
fail:
        df_stages_free(v, nv);
        return -1;
}

ssize_t df_stage_find(const struct df_stage *v, size_t n, const char *target, berth_error_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (v[i].name && strcasecmp(v[i].name, target) == 0)
                        return (ssize_t) i;
        berth_error(err, 0, "target stage \"%s\" could not be found", target);
        return -1;
}
