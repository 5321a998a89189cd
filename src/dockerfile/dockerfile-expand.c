/* berth — Docker's word expansion for Dockerfiles (df_expand() and
 * df_expand_heredoc() of include/berth/dockerfile.h), applied by the builder
 * once it knows the variables of a stage, and to FROM lines with the meta
 * ARGs (dockerfile-stage.c).  Single quotes are literal, double quotes group
 * and allow $ expansion, the escape character quotes the next character;
 * $VAR, ${VAR} and the ${VAR:-w} family of modifiers.  An error names the
 * word: "${A: syntax error: missing '}'". */
#include "config.h"

#include <ctype.h>

#include "berth/dockerfile-internal.h"
#include "berth/util.h"

struct lexer {
        const char *s;
        size_t i;
        char escape;
        char *const *env;
};

static int lex_word(struct lexer *lx, char stop, struct strbuf *out, berth_error_t *err);

const char *df_env_get(char *const *env, const char *name)
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
        const char *val = df_env_get(lx->env, name);
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
        const char *val = df_env_get(lx->env, name);
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
