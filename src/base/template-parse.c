/* berth — the `--format` template's lexer and parser: the source into the
 * tree of include/berth/template-internal.h (executed by template-exec.c).
 *
 * Two passes: the source is cut into text and action items, with the trim
 * markers ({{- and -}}) applied, comments dropped and each action lexed into
 * tokens; the items are then parsed into nodes, a control ({{if}}, {{range}},
 * {{with}}) taking the items up to its {{end}} (with an {{else}} list, or an
 * {{else if}}/{{else with}} nested in it).  Errors are Go's:
 *   template: :1: unexpected EOF */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>

#include "berth/template-internal.h"
#include "berth/util.h"

/* ---- tokens ------------------------------------------------------------------- */

enum tok_type {
        T_FIELD,   /* ".A.B" */
        T_DOT,     /* "." */
        T_VAR,     /* "$x", "$" */
        T_IDENT,   /* function name or keyword */
        T_STRING,  /* decoded in val */
        T_NUMBER,  /* value in num */
        T_BOOL,
        T_NIL,
        T_PIPE,
        T_LPAREN,
        T_RPAREN,
        T_DECLARE, /* ":=" */
        T_ASSIGN,  /* "=" */
        T_COMMA,
};

struct token {
        enum tok_type type;
        size_t pos, len; /* extent in the source */
        bool space_before;
        char *val;       /* FIELD, VAR, IDENT, STRING text */
        size_t vlen;     /* STRING length (may hold NUL) */
        json_t *num;     /* NUMBER, BOOL */
};

/* ---- freeing the tree --------------------------------------------------------- */

static void pipe_free(struct pipe *p);

static void arg_free(struct arg *a)
{
        free(a->name);
        strv_free(a->fields);
        if (a->literal)
                json_decref(a->literal);
        pipe_free(a->pipe);
}

static void pipe_free(struct pipe *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->ncmds; i++) {
                for (size_t k = 0; k < p->cmds[i].nargs; k++)
                        arg_free(&p->cmds[i].args[k]);
                free(p->cmds[i].args);
        }
        free(p->cmds);
        free(p->decl[0]);
        free(p->decl[1]);
        free(p);
}

static void list_free(struct list *l);

static void node_free(struct node *n)
{
        if (!n)
                return;
        free(n->text);
        pipe_free(n->pipe);
        list_free(&n->list);
        list_free(&n->else_list);
        free(n);
}

static void list_free(struct list *l)
{
        for (size_t i = 0; i < l->n; i++)
                node_free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static void list_add(struct list *l, struct node *n)
{
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = n;
}

void template_free(struct template *t)
{
        if (!t)
                return;
        list_free(&t->root);
        free(t->src);
        free(t);
}

/* ---- errors ------------------------------------------------------------------- */

unsigned template_line_of(const char *src, size_t pos)
{
        unsigned line = 1;
        for (size_t i = 0; i < pos && src[i]; i++)
                if (src[i] == '\n')
                        line++;
        return line;
}

static int parse_error(const char *src, size_t pos, berth_error_t *err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int parse_error(const char *src, size_t pos, berth_error_t *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return berth_error(err, 0, "template: :%u: %s", template_line_of(src, pos), msg);
}

/* ---- lexer -------------------------------------------------------------------- */

enum item_type { I_TEXT, I_ACTION };

struct item {
        enum item_type type;
        size_t pos;
        char *text; /* TEXT */
        size_t tlen;
        struct token *toks; /* ACTION */
        size_t ntoks;
};

struct items {
        struct item *v;
        size_t n;
};

static void tokens_free(struct token *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(t[i].val);
                if (t[i].num)
                        json_decref(t[i].num);
        }
        free(t);
}

static void items_free(struct items *it)
{
        for (size_t i = 0; i < it->n; i++) {
                free(it->v[i].text);
                tokens_free(it->v[i].toks, it->v[i].ntoks);
        }
        free(it->v);
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ident_start(char c)
{
        return isalpha((unsigned char) c) || c == '_' || (unsigned char) c >= 0x80;
}

static bool is_ident_char(char c)
{
        return is_ident_start(c) || isdigit((unsigned char) c);
}

/* A Go interpreted string literal starting at src[*i] == '"'. */
static int lex_string(const char *src, size_t *i, struct token *t, berth_error_t *err)
{
        size_t start = *i;
        struct strbuf b = { 0 };
        size_t p = start + 1;
        for (;;) {
                char c = src[p];
                if (!c || c == '\n') {
                        free(b.s);
                        return parse_error(src, start, err, "unterminated quoted string");
                }
                if (c == '"')
                        break;
                if (c != '\\') {
                        strbuf_addn(&b, &c, 1);
                        p++;
                        continue;
                }
                char e = src[p + 1];
                const char *simple = strchr("abfnrtv\\\"'", e);
                if (e && simple) {
                        static const char from[] = "abfnrtv\\\"'", to[] = "\a\b\f\n\r\t\v\\\"'";
                        strbuf_addn(&b, &to[strchr(from, e) - from], 1);
                        p += 2;
                        continue;
                }
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
                uint32_t cp = 0;
                for (int k = 0; k < digits; k++) {
                        int h = hex_digit_value(src[p + 2 + k]);
                        if (h < 0) {
                                digits = 0;
                                break;
                        }
                        cp = cp * 16 + (uint32_t) h;
                }
                if (!digits) {
                        free(b.s);
                        return parse_error(src, start, err, "invalid syntax in quoted string");
                }
                if (e == 'x') {
                        char ch = (char) cp;
                        strbuf_addn(&b, &ch, 1);
                } else {
                        char u[4];
                        strbuf_addn(&b, u, utf8_encode(cp, u));
                }
                p += 2 + (size_t) digits;
        }
        t->type = T_STRING;
        t->vlen = b.len;
        t->val = b.s ? b.s : xstrdup("");
        *i = p + 1;
        return 0;
}

static int lex_number(const char *src, size_t *i, struct token *t, berth_error_t *err)
{
        size_t p = *i;
        if (src[p] == '-' || src[p] == '+')
                p++;
        bool real = false;
        while (isdigit((unsigned char) src[p]))
                p++;
        if (src[p] == '.' && isdigit((unsigned char) src[p + 1])) {
                real = true;
                p++;
                while (isdigit((unsigned char) src[p]))
                        p++;
        }
        if ((src[p] == 'e' || src[p] == 'E') &&
            (isdigit((unsigned char) src[p + 1]) ||
             ((src[p + 1] == '-' || src[p + 1] == '+') && isdigit((unsigned char) src[p + 2])))) {
                real = true;
                p += 2;
                while (isdigit((unsigned char) src[p]))
                        p++;
        }
        if (is_ident_char(src[p]) || src[p] == '.')
                return parse_error(src, *i, err, "bad number syntax: \"%.*s\"", (int) (p - *i + 1), src + *i);
        cleanup_free char *s = xstrndup(src + *i, p - *i);
        if (real) {
                /* Go refuses what overflows a float64; jansson holds no inf */
                errno = 0;
                double d = strtod(s, NULL);
                if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
                        return parse_error(src, *i, err, "number out of range: %s", s);
                t->num = json_real(d);
                if (!t->num)
                        return parse_error(src, *i, err, "number out of range: %s", s);
        } else {
                errno = 0;
                long long v = strtoll(s, NULL, 10);
                if (errno)
                        return parse_error(src, *i, err, "number out of range: %s", s);
                t->num = json_integer(v);
        }
        t->type = T_NUMBER;
        *i = p;
        return 0;
}

/* Lex one action whose content starts at *i; on return *i is past "}}" and
 * *trim_right tells whether it ended with " -}}". */
static int lex_action(const char *src, size_t *i, struct item *it, bool *trim_right, berth_error_t *err)
{
        size_t p = *i;
        bool space = false;
        *trim_right = false;
        for (;;) {
                if (is_space(src[p])) {
                        space = true;
                        p++;
                        continue;
                }
                if (!src[p])
                        return parse_error(src, it->pos, err, "unclosed action");
                if (src[p] == '}' && src[p + 1] == '}') {
                        *i = p + 2;
                        return 0;
                }
                if (src[p] == '-' && space && src[p + 1] == '}' && src[p + 2] == '}') {
                        *trim_right = true;
                        *i = p + 3;
                        return 0;
                }
                it->toks = xrealloc(it->toks, (it->ntoks + 1) * sizeof(*it->toks));
                struct token *t = &it->toks[it->ntoks];
                *t = (struct token){ .pos = p, .space_before = space };
                space = false;
                char c = src[p];
                int r = 0;
                if (c == '|') {
                        t->type = T_PIPE;
                        p++;
                } else if (c == '(') {
                        t->type = T_LPAREN;
                        p++;
                } else if (c == ')') {
                        t->type = T_RPAREN;
                        p++;
                } else if (c == ',') {
                        t->type = T_COMMA;
                        p++;
                } else if (c == ':' && src[p + 1] == '=') {
                        t->type = T_DECLARE;
                        p += 2;
                } else if (c == '=') {
                        t->type = T_ASSIGN;
                        p++;
                } else if (c == '"') {
                        r = lex_string(src, &p, t, err);
                } else if (c == '`') {
                        const char *end = strchr(src + p + 1, '`');
                        if (!end)
                                return parse_error(src, p, err, "unterminated raw quoted string");
                        t->type = T_STRING;
                        t->vlen = (size_t) (end - (src + p + 1));
                        t->val = xstrndup(src + p + 1, t->vlen);
                        p = (size_t) (end - src) + 1;
                } else if (c == '.' && is_ident_start(src[p + 1])) {
                        size_t s = p;
                        while (src[p] == '.' && is_ident_start(src[p + 1])) {
                                p++;
                                while (is_ident_char(src[p]))
                                        p++;
                        }
                        t->type = T_FIELD;
                        t->val = xstrndup(src + s, p - s);
                } else if (c == '.' && isdigit((unsigned char) src[p + 1])) {
                        r = lex_number(src, &p, t, err);
                } else if (c == '.') {
                        t->type = T_DOT;
                        p++;
                } else if (c == '$') {
                        size_t s = p++;
                        while (is_ident_char(src[p]))
                                p++;
                        t->type = T_VAR;
                        t->val = xstrndup(src + s, p - s);
                } else if (isdigit((unsigned char) c) ||
                           ((c == '-' || c == '+') && (isdigit((unsigned char) src[p + 1]) || src[p + 1] == '.'))) {
                        r = lex_number(src, &p, t, err);
                } else if (is_ident_start(c)) {
                        size_t s = p;
                        while (is_ident_char(src[p]))
                                p++;
                        t->val = xstrndup(src + s, p - s);
                        if (streq(t->val, "true") || streq(t->val, "false")) {
                                t->type = T_BOOL;
                                t->num = json_boolean(streq(t->val, "true"));
                        } else if (streq(t->val, "nil"))
                                t->type = T_NIL;
                        else
                                t->type = T_IDENT;
                } else {
                        return parse_error(src, p, err, "unexpected \"%c\" in command", c);
                }
                if (r < 0)
                        return r;
                it->ntoks++; /* only now: a failed token leaves nothing to free */
                t->len = p - t->pos;
        }
}

static void items_add_text(struct items *it, const char *s, size_t n, size_t pos)
{
        it->v = xrealloc(it->v, (it->n + 1) * sizeof(*it->v));
        it->v[it->n++] = (struct item){ .type = I_TEXT, .pos = pos, .text = xstrndup(s, n), .tlen = n };
}

static int lex(const char *src, struct items *it, berth_error_t *err)
{
        size_t p = 0;
        bool trim_next = false;
        for (;;) {
                const char *open = strstr(src + p, "{{");
                size_t end = open ? (size_t) (open - src) : strlen(src);
                size_t tstart = p;
                if (trim_next)
                        while (tstart < end && is_space(src[tstart]))
                                tstart++;
                size_t tend = end;
                bool trim_left = open && open[2] == '-' && is_space(open[3]);
                if (trim_left)
                        while (tend > tstart && is_space(src[tend - 1]))
                                tend--;
                if (tend > tstart)
                        items_add_text(it, src + tstart, tend - tstart, tstart);
                if (!open)
                        return 0;
                size_t a = end + 2 + (trim_left ? 2 : 0);
                /* a comment: {{/ * ... * /}} */
                if (src[a] == '/' && src[a + 1] == '*') {
                        const char *close = strstr(src + a + 2, "*/");
                        if (!close)
                                return parse_error(src, end, err, "unclosed comment");
                        size_t q = (size_t) (close - src) + 2;
                        trim_next = false;
                        if (src[q] == ' ' && src[q + 1] == '-' && src[q + 2] == '}' && src[q + 3] == '}') {
                                trim_next = true;
                                q += 2;
                        }
                        if (src[q] != '}' || src[q + 1] != '}')
                                return parse_error(src, end, err, "comment ends before closing delimiter");
                        p = q + 2;
                        continue;
                }
                it->v = xrealloc(it->v, (it->n + 1) * sizeof(*it->v));
                struct item *ai = &it->v[it->n++];
                *ai = (struct item){ .type = I_ACTION, .pos = end };
                int r = lex_action(src, &a, ai, &trim_next, err);
                if (r < 0)
                        return r;
                if (ai->ntoks == 0)
                        return parse_error(src, end, err, "missing value for command");
                p = a;
        }
}

/* ---- parser ------------------------------------------------------------------- */

struct parser {
        const char *src;
        struct items items;
        size_t idx; /* next item */
        berth_error_t *err;
};

struct tokcur {
        struct token *t;
        size_t i, n;
};

static int parse_pipeline(struct parser *ps, struct tokcur *c, bool in_paren, size_t decl_max, struct pipe **out);

static char **split_fields(const char *chain)
{
        /* ".A.B" → {"A", "B"} */
        char **v = xcalloc(1, sizeof(char *));
        const char *p = chain;
        while (*p == '.') {
                const char *s = ++p;
                while (*p && *p != '.')
                        p++;
                cleanup_free char *f = xstrndup(s, (size_t) (p - s));
                strv_push(&v, f);
        }
        return v;
}

/* Field chain tokens that directly follow (no space) an operand. */
static void take_fields(struct tokcur *c, struct arg *a)
{
        while (c->i < c->n && c->t[c->i].type == T_FIELD && !c->t[c->i].space_before) {
                char **more = split_fields(c->t[c->i].val);
                for (size_t k = 0; more[k]; k++)
                        strv_push(&a->fields, more[k]);
                strv_free(more);
                a->len = c->t[c->i].pos + c->t[c->i].len - a->pos;
                c->i++;
        }
}

static int parse_operand(struct parser *ps, struct tokcur *c, struct arg *a)
{
        struct token *t = &c->t[c->i];
        *a = (struct arg){ .pos = t->pos, .len = t->len };
        switch (t->type) {
        case T_DOT:
                a->type = A_DOT;
                c->i++;
                break;
        case T_FIELD:
                a->type = A_FIELD;
                a->fields = split_fields(t->val);
                c->i++;
                break;
        case T_VAR:
                a->type = A_VAR;
                a->name = xstrdup(t->val);
                c->i++;
                break;
        case T_STRING:
                a->type = A_LITERAL;
                a->literal = json_stringn_nocheck(t->val, t->vlen);
                c->i++;
                return 0;
        case T_NUMBER:
        case T_BOOL:
                a->type = A_LITERAL;
                a->literal = json_incref(t->num);
                c->i++;
                return 0;
        case T_NIL:
                a->type = A_LITERAL;
                a->literal = json_null();
                c->i++;
                return 0;
        case T_IDENT:
                a->type = A_FUNC;
                a->name = xstrdup(t->val);
                c->i++;
                return 0;
        case T_LPAREN: {
                c->i++;
                a->type = A_PIPE;
                int r = parse_pipeline(ps, c, true, 0, &a->pipe);
                if (r < 0)
                        return r;
                if (c->i >= c->n || c->t[c->i].type != T_RPAREN)
                        return parse_error(ps->src, t->pos, ps->err, "unclosed left paren");
                a->len = c->t[c->i].pos + 1 - a->pos;
                c->i++;
                break;
        }
        default:
                return parse_error(ps->src, t->pos, ps->err, "unexpected \"%.*s\" in operand", (int) t->len,
                                   ps->src + t->pos);
        }
        if (!a->fields)
                a->fields = xcalloc(1, sizeof(char *));
        take_fields(c, a);
        return 0;
}

static int parse_pipeline(struct parser *ps, struct tokcur *c, bool in_paren, size_t decl_max, struct pipe **out)
{
        struct pipe *p = xcalloc(1, sizeof(*p));
        size_t start = c->i < c->n ? c->t[c->i].pos : 0;
        p->pos = start;
        int r = 0;

        /* Declarations: $x := ..., $i, $v := ..., $x = ... */
        if (decl_max > 0 && c->i + 1 < c->n && c->t[c->i].type == T_VAR) {
                size_t k = c->i;
                if (c->t[k + 1].type == T_COMMA && decl_max > 1 && k + 3 < c->n && c->t[k + 2].type == T_VAR &&
                    (c->t[k + 3].type == T_DECLARE || c->t[k + 3].type == T_ASSIGN)) {
                        p->decl[0] = xstrdup(c->t[k].val);
                        p->decl[1] = xstrdup(c->t[k + 2].val);
                        p->ndecl = 2;
                        p->assign = c->t[k + 3].type == T_ASSIGN;
                        c->i += 4;
                } else if (c->t[k + 1].type == T_DECLARE || c->t[k + 1].type == T_ASSIGN) {
                        p->decl[0] = xstrdup(c->t[k].val);
                        p->ndecl = 1;
                        p->assign = c->t[k + 1].type == T_ASSIGN;
                        c->i += 2;
                }
        }

        for (;;) {
                p->cmds = xrealloc(p->cmds, (p->ncmds + 1) * sizeof(*p->cmds));
                struct cmd *cmd = &p->cmds[p->ncmds++];
                *cmd = (struct cmd){ .pos = c->i < c->n ? c->t[c->i].pos : start };
                while (c->i < c->n && c->t[c->i].type != T_PIPE && c->t[c->i].type != T_RPAREN) {
                        if (c->t[c->i].type == T_DECLARE || c->t[c->i].type == T_ASSIGN ||
                            c->t[c->i].type == T_COMMA) {
                                r = parse_error(ps->src, c->t[c->i].pos, ps->err, "unexpected \"%.*s\" in command",
                                                (int) c->t[c->i].len, ps->src + c->t[c->i].pos);
                                goto fail;
                        }
                        cmd->args = xrealloc(cmd->args, (cmd->nargs + 1) * sizeof(*cmd->args));
                        r = parse_operand(ps, c, &cmd->args[cmd->nargs]);
                        cmd->nargs++; /* even on failure: parse_operand leaves it freeable */
                        if (r < 0)
                                goto fail;
                        struct arg *last = &cmd->args[cmd->nargs - 1];
                        cmd->len = last->pos + last->len - cmd->pos;
                }
                if (cmd->nargs == 0) {
                        r = parse_error(ps->src, cmd->pos, ps->err, "missing value for command");
                        goto fail;
                }
                if (c->i < c->n && c->t[c->i].type == T_PIPE) {
                        c->i++;
                        continue;
                }
                break;
        }
        if (c->i < c->n && c->t[c->i].type == T_RPAREN && !in_paren) {
                r = parse_error(ps->src, c->t[c->i].pos, ps->err, "unexpected right paren");
                goto fail;
        }
        struct cmd *lastc = &p->cmds[p->ncmds - 1];
        p->len = lastc->pos + lastc->len - p->pos;
        *out = p;
        return 0;
fail:
        pipe_free(p);
        return r;
}

enum term { TERM_EOF, TERM_END, TERM_ELSE };

static int parse_list(struct parser *ps, struct list *l, enum term *term, size_t *term_item);

static bool is_keyword(const struct item *it, const char *kw)
{
        return it->ntoks > 0 && it->toks[0].type == T_IDENT && streq(it->toks[0].val, kw);
}

/* if / range / with, whose pipeline starts at token `first` of item `ii`. */
static int parse_control(struct parser *ps, enum node_type type, size_t ii, size_t first, struct node **out)
{
        struct item *it = &ps->items.v[ii];
        struct node *n = xcalloc(1, sizeof(*n));
        n->type = type;
        struct tokcur c = { it->toks, first, it->ntoks };
        int r;
        if (first >= it->ntoks) {
                r = parse_error(ps->src, it->pos, ps->err, "missing value for %s", it->toks[first - 1].val);
                goto fail;
        }
        r = parse_pipeline(ps, &c, false, type == N_RANGE ? 2 : 1, &n->pipe);
        if (r < 0)
                goto fail;
        enum term term;
        size_t ti;
        r = parse_list(ps, &n->list, &term, &ti);
        if (r < 0)
                goto fail;
        if (term == TERM_EOF) {
                r = parse_error(ps->src, ps->items.n ? ps->items.v[ps->items.n - 1].pos : 0, ps->err, "unexpected EOF");
                goto fail;
        }
        if (term == TERM_ELSE) {
                struct item *e = &ps->items.v[ti];
                if (e->ntoks > 1) {
                        /* {{else if ...}} / {{else with ...}}: a nested control sharing our {{end}} */
                        enum node_type nt;
                        if (e->toks[1].type == T_IDENT && streq(e->toks[1].val, "if"))
                                nt = N_IF;
                        else if (e->toks[1].type == T_IDENT && streq(e->toks[1].val, "with"))
                                nt = N_WITH;
                        else {
                                r = parse_error(ps->src, e->pos, ps->err, "unexpected \"%.*s\" in else",
                                                (int) e->toks[1].len, ps->src + e->toks[1].pos);
                                goto fail;
                        }
                        struct node *nested;
                        r = parse_control(ps, nt, ti, 2, &nested);
                        if (r < 0)
                                goto fail;
                        list_add(&n->else_list, nested);
                } else {
                        r = parse_list(ps, &n->else_list, &term, &ti);
                        if (r < 0)
                                goto fail;
                        if (term != TERM_END) {
                                r = parse_error(ps->src, term == TERM_ELSE ? ps->items.v[ti].pos : 0, ps->err,
                                                term == TERM_ELSE ? "expected end; found {{else}}" : "unexpected EOF");
                                goto fail;
                        }
                }
        }
        *out = n;
        return 0;
fail:
        node_free(n);
        return r;
}

static int parse_list(struct parser *ps, struct list *l, enum term *term, size_t *term_item)
{
        while (ps->idx < ps->items.n) {
                size_t ii = ps->idx++;
                struct item *it = &ps->items.v[ii];
                if (it->type == I_TEXT) {
                        struct node *n = xcalloc(1, sizeof(*n));
                        n->type = N_TEXT;
                        n->text = xstrndup(it->text, it->tlen);
                        n->tlen = it->tlen;
                        list_add(l, n);
                        continue;
                }
                if (is_keyword(it, "end") || is_keyword(it, "else")) {
                        if (is_keyword(it, "end") && it->ntoks > 1)
                                return parse_error(ps->src, it->pos, ps->err, "unexpected \"%.*s\" in end",
                                                   (int) it->toks[1].len, ps->src + it->toks[1].pos);
                        *term = is_keyword(it, "end") ? TERM_END : TERM_ELSE;
                        *term_item = ii;
                        return 0;
                }
                struct node *n = NULL;
                int r;
                if (is_keyword(it, "if"))
                        r = parse_control(ps, N_IF, ii, 1, &n);
                else if (is_keyword(it, "range"))
                        r = parse_control(ps, N_RANGE, ii, 1, &n);
                else if (is_keyword(it, "with"))
                        r = parse_control(ps, N_WITH, ii, 1, &n);
                else if (is_keyword(it, "define") || is_keyword(it, "template") || is_keyword(it, "block") ||
                         is_keyword(it, "break") || is_keyword(it, "continue"))
                        r = parse_error(ps->src, it->pos, ps->err, "{{%s}} is not supported", it->toks[0].val);
                else {
                        n = xcalloc(1, sizeof(*n));
                        n->type = N_ACTION;
                        struct tokcur c = { it->toks, 0, it->ntoks };
                        r = parse_pipeline(ps, &c, false, 1, &n->pipe);
                        if (r == 0 && c.i < c.n)
                                r = parse_error(ps->src, c.t[c.i].pos, ps->err, "unexpected \"%.*s\" in command",
                                                (int) c.t[c.i].len, ps->src + c.t[c.i].pos);
                        if (r < 0) {
                                node_free(n);
                                n = NULL;
                        }
                }
                if (r < 0)
                        return r;
                list_add(l, n);
        }
        *term = TERM_EOF;
        return 0;
}

int template_parse(const char *tmpl, struct template **out, berth_error_t *err)
{
        if (streq(tmpl, "json"))
                tmpl = "{{json .}}";
        struct template *t = xcalloc(1, sizeof(*t));
        t->src = xstrdup(tmpl);
        struct parser ps = { .src = t->src, .err = err };
        int r = lex(t->src, &ps.items, err);
        if (r == 0) {
                enum term term;
                size_t ti;
                r = parse_list(&ps, &t->root, &term, &ti);
                if (r == 0 && term != TERM_EOF)
                        r = parse_error(t->src, ps.items.v[ti].pos, err, "unexpected {{%s}}",
                                        term == TERM_END ? "end" : "else");
        }
        items_free(&ps.items);
        if (r < 0) {
                template_free(t);
                return r;
        }
        *out = t;
        return 0;
}

