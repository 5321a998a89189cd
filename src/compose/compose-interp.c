/* Interpolation of compose files as the compose specification has it:
 * $VAR, ${VAR} and the shell's default/required/alternative forms, nested
 * in their words, with $$ for a literal dollar; applied to every value of
 * one file before the merge (never to keys).  And the .env file the
 * variables come from besides the environment. */
#include "config.h"

#include <ctype.h>

#include "berth/compose-internal.h"
#include "berth/util.h"

static const char *env_lookup(char *const *env, const char *name, size_t len)
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return env[i] + len + 1;
        return NULL;
}

static bool name_start(char c)
{
        return c == '_' || isalpha((unsigned char) c);
}

static bool name_char(char c)
{
        return c == '_' || isalnum((unsigned char) c);
}

static int bad_format(const char *s, const struct cnode *at, berth_error_t *err)
{
        return cnode_error(err, at, "invalid interpolation format in \"%s\" (a literal $ is written $$)", s);
}

/* Expand s[0..len) into b. */
static int interpolate(const char *whole, const char *s, size_t len, char *const *env, const struct cnode *at,
                       unsigned depth, struct strbuf *b, berth_error_t *err)
{
        if (depth > 16)
                return cnode_error(err, at, "interpolation nested too deep in \"%s\"", whole);
        for (size_t i = 0; i < len; i++) {
                if (s[i] != '$') {
                        strbuf_addc(b, s[i]);
                        continue;
                }
                if (i + 1 < len && s[i + 1] == '$') {
                        strbuf_addc(b, '$');
                        i++;
                        continue;
                }
                if (i + 1 < len && name_start(s[i + 1])) {
                        size_t j = i + 1;
                        while (j < len && name_char(s[j]))
                                j++;
                        const char *v = env_lookup(env, s + i + 1, j - i - 1);
                        if (!v)
                                berth_warn("The \"%.*s\" variable is not set. Defaulting to a blank string.",
                                           (int) (j - i - 1), s + i + 1);
                        strbuf_adds(b, v ? v : "");
                        i = j - 1;
                        continue;
                }
                if (i + 1 >= len || s[i + 1] != '{') {
                        strbuf_addc(b, '$'); /* not a variable: kept */
                        continue;
                }
                size_t n0 = i + 2, j = n0;
                if (j >= len || !name_start(s[j]))
                        return bad_format(whole, at, err);
                while (j < len && name_char(s[j]))
                        j++;
                size_t nlen = j - n0;
                /* the operator and the word, up to the matching brace */
                bool colon = false;
                char op = 0;
                if (j < len && s[j] == ':') {
                        colon = true;
                        j++;
                }
                if (j < len && (s[j] == '-' || s[j] == '?' || s[j] == '+'))
                        op = s[j++];
                else if (colon || j >= len || s[j] != '}')
                        return bad_format(whole, at, err);
                size_t w0 = j;
                unsigned nest = 0;
                for (; j < len; j++) {
                        if (s[j] == '$' && j + 1 < len && s[j + 1] == '{') {
                                nest++;
                                j++;
                        } else if (s[j] == '}') {
                                if (nest == 0)
                                        break;
                                nest--;
                        }
                }
                if (j >= len)
                        return bad_format(whole, at, err);
                size_t wlen = j - w0;
                const char *v = env_lookup(env, s + n0, nlen);
                bool set = v != NULL, nonempty = v && *v;
                bool have = colon ? nonempty : set;
                switch (op) {
                case 0:
                        if (!set)
                                berth_warn("The \"%.*s\" variable is not set. Defaulting to a blank string.",
                                           (int) nlen, s + n0);
                        strbuf_adds(b, v ? v : "");
                        break;
                case '-':
                        if (have)
                                strbuf_adds(b, v);
                        else if (interpolate(whole, s + w0, wlen, env, at, depth + 1, b, err) < 0)
                                return -1;
                        break;
                case '+':
                        if (have && interpolate(whole, s + w0, wlen, env, at, depth + 1, b, err) < 0)
                                return -1;
                        break;
                case '?':
                        if (!have) {
                                struct strbuf m = {};
                                int r = interpolate(whole, s + w0, wlen, env, at, depth + 1, &m, err);
                                if (r == 0)
                                        cnode_error(err, at, "required variable %.*s is missing a value%s%s",
                                                    (int) nlen, s + n0, m.s && *m.s ? ": " : "", m.s ? m.s : "");
                                free(m.s);
                                return -1;
                        }
                        strbuf_adds(b, v);
                        break;
                }
                i = j;
        }
        return 0;
}

int compose_interpolate(const char *s, char *const *env, const struct cnode *at, char **out, berth_error_t *err)
{
        struct strbuf b = {};
        if (interpolate(s, s, strlen(s), env, at, 0, &b, err) < 0) {
                free(b.s);
                return -1;
        }
        *out = b.s ? strbuf_steal(&b) : xstrdup("");
        return 0;
}

int compose_interpolate_tree(struct cnode *n, char *const *env, berth_error_t *err)
{
        if (n->kind == CNODE_SCALAR) {
                if (!strchr(n->value, '$'))
                        return 0;
                char *v = NULL;
                if (compose_interpolate(n->value, env, n, &v, err) < 0)
                        return -1;
                free(n->value);
                n->value = v;
                return 0;
        }
        for (size_t i = 0; i < n->n; i++)
                if (compose_interpolate_tree(n->items[i], env, err) < 0)
                        return -1;
        return 0;
}

/* ---- .env --------------------------------------------------------------- */

/* The value after "KEY=": quoted ('...' literal, "..." with \n \t \" \\
 * escapes) or plain up to a " #" comment, trimmed; *literal for '...'. */
static int dotenv_value(const char *p, const char *name, unsigned line, char **out, bool *literal,
                        berth_error_t *err)
{
        while (*p == ' ' || *p == '\t')
                p++;
        struct strbuf b = {};
        *literal = *p == '\'';
        if (*p == '\'' || *p == '"') {
                char q = *p++;
                for (; *p && *p != q; p++) {
                        if (q == '"' && *p == '\\' && p[1]) {
                                p++;
                                strbuf_addc(&b, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
                        } else
                                strbuf_addc(&b, *p);
                }
                if (*p != q) {
                        free(b.s);
                        return berth_error(err, 0, "%s:%u: unterminated quoted value", name, line);
                }
        } else {
                const char *end = p;
                for (const char *c = p; *c; c++) {
                        if (*c == '#' && (c == p || c[-1] == ' ' || c[-1] == '\t'))
                                break;
                        end = c + 1;
                }
                while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                        end--;
                strbuf_addn(&b, p, end - p);
        }
        *out = b.s ? strbuf_steal(&b) : xstrdup("");
        return 0;
}

int compose_dotenv_read(const char *path, const char *name, char *const *env, char ***vars, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        if (read_file(path, &text, NULL, err) < 0)
                return -1;
        unsigned line = 0;
        char *save = NULL;
        for (char *l = text; l; l = save) {
                save = strchr(l, '\n');
                if (save)
                        *save++ = '\0';
                line++;
                while (*l == ' ' || *l == '\t')
                        l++;
                size_t ll = strlen(l);
                while (ll && (l[ll - 1] == '\r' || l[ll - 1] == ' ' || l[ll - 1] == '\t'))
                        l[--ll] = '\0';
                if (!*l || *l == '#')
                        continue;
                if (startswith(l, "export ")) {
                        l += 7;
                        while (*l == ' ')
                                l++;
                }
                size_t k = 0;
                if (!name_start(l[0]))
                        return berth_error(err, 0, "%s:%u: invalid variable name in \"%s\"", name, line, l);
                while (l[k] && (name_char(l[k]) || l[k] == '.' || l[k] == '-'))
                        k++;
                size_t kend = k;
                while (l[k] == ' ' || l[k] == '\t')
                        k++;
                if (!l[k])
                        continue; /* KEY alone: only the environment's value, if any */
                if (l[k] != '=')
                        return berth_error(err, 0, "%s:%u: invalid variable name in \"%s\"", name, line, l);
                cleanup_free char *v = NULL;
                bool literal;
                if (dotenv_value(l + k + 1, name, line, &v, &literal, err) < 0)
                        return -1;
                if (env && !literal && strchr(v, '$')) {
                        /* the variables read so far, then env's */
                        cleanup_strv char **lookup = strv_copy(*vars);
                        for (size_t i = 0; env[i]; i++)
                                strv_push(&lookup, env[i]);
                        cleanup_cnode struct cnode *at = cnode_new(CNODE_SCALAR, name, line);
                        char *x = NULL;
                        if (compose_interpolate(v, lookup, at, &x, err) < 0)
                                return -1;
                        free(v);
                        v = x;
                }
                cleanup_free char *kv = xasprintf("%.*s=%s", (int) kend, l, v);
                strv_env_set(vars, kv);
        }
        return 0;
}
