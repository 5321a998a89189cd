/* berth — .dockerignore, with the rules of Docker's patternmatcher:
 * patterns are cleaned like Go's filepath.Clean (a leading "/" dropped),
 * match like filepath.Match ("*", "?", "[a-z]", "\" escapes; none of them
 * crosses a "/") plus "**" for any number of directories; a pattern that
 * matches a parent directory matches everything below it; "!" re-includes;
 * the last pattern that matches decides. */
#include "config.h"

#include <ctype.h>

#include "berth/dockerfile.h"
#include "berth/util.h"

struct di_pattern {
        char *pattern; /* cleaned, without the "!" */
        bool exception;
};

struct dockerignore {
        struct di_pattern *v;
        size_t n;
};

/* Go's path.Clean for relative paths: no empty or "." elements, ".."
 * removes the element before it (and is dropped at the root). */
char *df_path_clean(const char *path)
{
        bool rooted = path[0] == '/';
        cleanup_strv char **parts = xcalloc(1, sizeof(char *));
        size_t n = 0;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *e = p;
                while (*e && *e != '/')
                        e++;
                size_t len = (size_t) (e - p);
                if (len == 0 || (len == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (n > 0 && !streq(parts[n - 1], "..")) {
                                free(parts[--n]);
                                parts[n] = NULL;
                        } else if (!rooted) {
                                strv_push(&parts, "..");
                                n++;
                        }
                } else {
                        cleanup_free char *el = xstrndup(p, len);
                        strv_push(&parts, el);
                        n++;
                }
                p = e;
        }
        size_t total = 2;
        for (size_t i = 0; i < n; i++)
                total += strlen(parts[i]) + 1;
        char *out = xmalloc(total);
        char *o = out;
        if (rooted)
                *o++ = '/';
        for (size_t i = 0; i < n; i++)
                o += sprintf(o, "%s%s", i ? "/" : "", parts[i]);
        if (o == out)
                *o++ = '.';
        *o = '\0';
        return out;
}

/* One bracket expression at p ("[a-z]", "[^/]"): does c match?  *end is set
 * past the ']'.  Returns -1 for a malformed expression. */
static int class_match(const char *p, char c, const char **end)
{
        p++; /* '[' */
        bool negate = *p == '^';
        if (negate)
                p++;
        bool match = false, first = true;
        while (*p && (*p != ']' || first)) {
                first = false;
                char lo = *p++;
                if (lo == '\\') {
                        if (!*p)
                                return -1;
                        lo = *p++;
                }
                char hi = lo;
                if (*p == '-' && p[1] && p[1] != ']') {
                        hi = p[1];
                        p += 2;
                        if (hi == '\\') {
                                if (!*p)
                                        return -1;
                                hi = *p++;
                        }
                }
                if (lo <= c && c <= hi)
                        match = true;
        }
        if (*p != ']')
                return -1;
        *end = p + 1;
        return match != negate;
}

/* The (pattern, path) positions already known not to match: with them,
 * the backtracking over "*" and "**" visits each pair once, instead of
 * taking exponential time on "*a*a*a*...". */
struct match_memo {
        const char *p0, *s0;
        size_t slen;
        unsigned char *failed; /* a bit per pair */
};

static bool pattern_match_at(const char *p, const char *s, struct match_memo *memo);

static bool pattern_match(const char *p, const char *s, struct match_memo *memo)
{
        size_t bit = (size_t) (p - memo->p0) * (memo->slen + 1) + (size_t) (s - memo->s0);
        if (memo->failed[bit / 8] & (1u << (bit % 8)))
                return false;
        bool m = pattern_match_at(p, s, memo);
        if (!m)
                memo->failed[bit / 8] |= (unsigned char) (1u << (bit % 8));
        return m;
}

bool dockerignore_pattern_match(const char *p, const char *s)
{
        struct match_memo memo = { .p0 = p, .s0 = s, .slen = strlen(s) };
        cleanup_free unsigned char *failed = xcalloc(((strlen(p) + 1) * (memo.slen + 1) + 7) / 8, 1);
        memo.failed = failed;
        return pattern_match(p, s, &memo);
}

static bool pattern_match_at(const char *p, const char *s, struct match_memo *memo)
{
        for (;;) {
                if (p[0] == '*' && p[1] == '*') {
                        const char *q = p + 2;
                        if (*q == '/')
                                q++;
                        if (!*q)
                                return true; /* a trailing double star: everything below */
                        /* a double star and slash: no directory or any number */
                        if (pattern_match(q, s, memo))
                                return true;
                        for (const char *t = s; *t; t++)
                                if (*t == '/' && pattern_match(q, t + 1, memo))
                                        return true;
                        return false;
                }
                switch (*p) {
                case '\0':
                        return *s == '\0';
                case '*':
                        for (const char *t = s;; t++) {
                                if (pattern_match(p + 1, t, memo))
                                        return true;
                                if (!*t || *t == '/')
                                        return false;
                        }
                case '?':
                        if (!*s || *s == '/')
                                return false;
                        p++, s++;
                        continue;
                case '[': {
                        const char *end = NULL;
                        if (!*s || *s == '/')
                                return false;
                        int m = class_match(p, *s, &end);
                        if (m <= 0)
                                return false;
                        p = end, s++;
                        continue;
                }
                case '\\':
                        if (p[1])
                                p++;
                        /* fall through */
                default:
                        if (*p != *s)
                                return false;
                        p++, s++;
                }
        }
}

/* A malformed pattern ("[a-", "[]") is refused when the file is read. */
static bool pattern_valid(const char *p)
{
        for (; *p; p++) {
                if (*p == '\\' && p[1])
                        p++;
                else if (*p == '[') {
                        const char *end = NULL;
                        if (class_match(p, 'a', &end) < 0)
                                return false;
                        p = end - 1;
                }
        }
        return true;
}

static void pattern_add(struct dockerignore *di, char *cleaned, bool exception)
{
        di->v = xrealloc(di->v, (di->n + 1) * sizeof(*di->v));
        di->v[di->n].pattern = cleaned;
        di->v[di->n].exception = exception;
        di->n++;
}

static char *trim(char *s)
{
        while (*s && isspace((unsigned char) *s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = '\0';
        return s;
}

int dockerignore_parse(const char *text, struct dockerignore **out, berth_error_t *err)
{
        struct dockerignore *di = xcalloc(1, sizeof(*di));
        cleanup_dockerignore struct dockerignore *guard = di;
        if (startswith(text, "\xEF\xBB\xBF"))
                text += 3;
        int lineno = 0;
        for (const char *p = text; *p;) {
                const char *e = strchr(p, '\n');
                size_t len = e ? (size_t) (e - p) : strlen(p);
                cleanup_free char *line = xstrndup(p, len);
                p += len + (e ? 1 : 0);
                lineno++;
                if (line[0] == '#')
                        continue; /* only a "#" in the first column is a comment */
                char *pat = trim(line);
                if (!*pat)
                        continue;
                bool exception = pat[0] == '!';
                if (exception) {
                        pat = trim(pat + 1);
                        if (!*pat)
                                return berth_error(err, 0, ".dockerignore:%d: illegal exclusion pattern: \"!\"",
                                                   lineno);
                }
                char *cleaned = df_path_clean(pat);
                if (cleaned[0] == '/' && cleaned[1]) {
                        memmove(cleaned, cleaned + 1, strlen(cleaned));
                }
                if (!pattern_valid(cleaned)) {
                        free(cleaned);
                        return berth_error(err, 0, ".dockerignore:%d: syntax error in pattern \"%s\"", lineno, pat);
                }
                pattern_add(di, cleaned, exception);
        }
        *out = steal_pointer(&guard);
        return 0;
}

bool dockerignore_excluded(const struct dockerignore *di, const char *path)
{
        if (!di || di->n == 0)
                return false;
        cleanup_free char *file = df_path_clean(path);
        bool excluded = false;
        for (size_t i = 0; i < di->n; i++) {
                const struct di_pattern *pt = &di->v[i];
                /* a pattern cannot change an outcome it already agrees with */
                if (pt->exception != excluded)
                        continue;
                bool m = dockerignore_pattern_match(pt->pattern, file);
                /* or a parent directory of the file */
                for (char *slash = strchr(file, '/'); !m && slash; slash = strchr(slash + 1, '/')) {
                        *slash = '\0';
                        m = dockerignore_pattern_match(pt->pattern, file);
                        *slash = '/';
                }
                if (m)
                        excluded = !pt->exception;
        }
        return excluded;
}

bool dockerignore_has_exceptions(const struct dockerignore *di)
{
        for (size_t i = 0; di && i < di->n; i++)
                if (di->v[i].exception)
                        return true;
        return false;
}

bool dockerignore_walk_excluded(const struct dockerignore *di, const char *dir)
{
        /* as Docker's context walker: only when an exception's text starts
         * with "DIR/" (so "!**" + "/x" does not reach into excluded dirs) */
        cleanup_free char *prefix = xasprintf("%s/", dir);
        for (size_t i = 0; di && i < di->n; i++) {
                if (!di->v[i].exception)
                        continue;
                cleanup_free char *p = xasprintf("%s/", di->v[i].pattern);
                if (startswith(p, prefix))
                        return true;
        }
        return false;
}

void dockerignore_free(struct dockerignore *di)
{
        if (!di)
                return;
        for (size_t i = 0; i < di->n; i++)
                free(di->v[i].pattern);
        free(di->v);
        free(di);
}
