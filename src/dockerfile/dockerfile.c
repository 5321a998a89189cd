/* berth — the Dockerfile parser (include/berth/dockerfile.h): the file, as
 * Docker reads it.  Parser directives (`# escape=`, `# syntax=`) at the top,
 * then logical lines: physical lines joined at a trailing escape character,
 * with the comment and blank lines inside a continuation dropped; each
 * logical line is one instruction (dockerfile-insn.c), and a RUN, COPY or
 * ADD that announces heredocs (`<<EOF`) takes the lines after it up to each
 * terminator.  Substitution happens later, in df_expand()
 * (dockerfile-expand.c), because only the builder knows the variables of a
 * stage. */
#include "config.h"

#include <ctype.h>

#include "berth/dockerfile-internal.h"
#include "berth/util.h"

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
                        return df_line_error(err, &ctx, "only one escape parser directive can be used");
                st->seen_escape = true;
                if (!streq(value, "\\") && !streq(value, "`"))
                        return df_line_error(err, &ctx, "invalid escape token '%s' does not match ` or \\", value);
                df->escape = value[0];
        } else if (streq(name, "syntax")) {
                if (st->seen_syntax)
                        return df_line_error(err, &ctx, "only one syntax parser directive can be used");
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
                                return df_line_error(err, ctx, "unterminated heredoc: no line \"%s\" after it",
                                                     h->name);
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
        if (df_insn_parse(l.s, in, &ctx, err) < 0)
                return -1;
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
