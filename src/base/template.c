/* berth — a Go text/template subset for `--format` (include/berth/template.h).
 *
 * Three stages: the source is cut into text and action items (trim markers
 * applied, each action lexed into tokens), the items are parsed into a tree
 * of nodes, and the tree is executed over a jansson value.  Every value the
 * executor handles is a json_t reference it owns (json_incref/json_decref). */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include "berth/template.h"
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

/* ---- tree --------------------------------------------------------------------- */

struct pipe;

enum arg_type { A_DOT, A_FIELD, A_VAR, A_LITERAL, A_FUNC, A_PIPE };

struct arg {
        enum arg_type type;
        size_t pos, len;
        char *name;      /* VAR name ("$x"), FUNC name */
        char **fields;   /* chain applied to the value (FIELD, VAR, PIPE, DOT) */
        json_t *literal; /* LITERAL */
        struct pipe *pipe;
};

struct cmd {
        size_t pos, len;
        struct arg *args;
        size_t nargs;
};

struct pipe {
        size_t pos, len;
        char *decl[2];
        size_t ndecl;
        bool assign; /* "=" rather than ":=" */
        struct cmd *cmds;
        size_t ncmds;
};

enum node_type { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct list {
        struct node **v;
        size_t n;
};

struct node {
        enum node_type type;
        size_t pos;
        char *text; /* TEXT */
        size_t tlen;
        struct pipe *pipe;
        struct list list, else_list;
};

struct template {
        char *src;
        struct list root;
};

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

static unsigned line_of(const char *src, size_t pos)
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
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = berth_error(err, 0, "template: :%u: %s", line_of(src, pos), msg);
        free(msg);
        return r;
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

static void utf8_put(struct strbuf *b, uint32_t cp)
{
        char s[4];
        size_t n;
        if (cp < 0x80) {
                s[0] = (char) cp;
                n = 1;
        } else if (cp < 0x800) {
                s[0] = (char) (0xc0 | (cp >> 6));
                s[1] = (char) (0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                s[0] = (char) (0xe0 | (cp >> 12));
                s[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                s[2] = (char) (0x80 | (cp & 0x3f));
                n = 3;
        } else {
                s[0] = (char) (0xf0 | (cp >> 18));
                s[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
                s[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
                s[3] = (char) (0x80 | (cp & 0x3f));
                n = 4;
        }
        strbuf_addn(b, s, n);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
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
                        int h = hexval(src[p + 2 + k]);
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
                } else
                        utf8_put(&b, cp);
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
        n->pos = it->toks[first - 1].pos;
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
                        n->pos = it->pos;
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
                        n->pos = it->pos;
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

/* ---- values ------------------------------------------------------------------- */

static const char *go_type(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "int";
        case JSON_REAL:
                return "float64";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        case JSON_ARRAY:
                return "[]interface {}";
        case JSON_OBJECT:
                return "map[string]interface {}";
        default:
                return "<nil>";
        }
}

/* Go's %v of a float64: shortest representation, exponent form outside
 * 1e-4 <= |v| < 1e21. */
static void print_float(struct strbuf *b, double d)
{
        if (isnan(d)) {
                strbuf_adds(b, "NaN");
                return;
        }
        if (isinf(d)) {
                strbuf_adds(b, d > 0 ? "+Inf" : "-Inf");
                return;
        }
        if (d == 0) {
                strbuf_adds(b, signbit(d) ? "-0" : "0");
                return;
        }
        char tmp[64];
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
                if (strtod(tmp, NULL) == d)
                        break;
        }
        /* tmp: [-]d[.ddd]e±XX */
        const char *p = tmp;
        bool neg = *p == '-';
        if (neg)
                p++;
        char digits[32];
        size_t nd = 0;
        for (; *p && *p != 'e'; p++)
                if (isdigit((unsigned char) *p))
                        digits[nd++] = *p;
        while (nd > 1 && digits[nd - 1] == '0')
                nd--;
        digits[nd] = '\0';
        int exp = atoi(p + 1);
        if (neg)
                strbuf_adds(b, "-");
        if (exp < -4 || exp >= 21) {
                strbuf_addn(b, digits, 1);
                if (nd > 1) {
                        strbuf_adds(b, ".");
                        strbuf_addn(b, digits + 1, nd - 1);
                }
                strbuf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        } else if (exp < 0) {
                strbuf_adds(b, "0.");
                for (int k = 0; k < -exp - 1; k++)
                        strbuf_adds(b, "0");
                strbuf_addn(b, digits, nd);
        } else {
                for (int k = 0; k <= exp; k++)
                        strbuf_addn(b, (size_t) k < nd ? &digits[k] : "0", 1);
                if (nd > (size_t) exp + 1) {
                        strbuf_adds(b, ".");
                        strbuf_addn(b, digits + exp + 1, nd - (size_t) exp - 1);
                }
        }
}

static int keycmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The keys of an object, sorted as Go prints and ranges over maps. */
static const char **sorted_keys(json_t *obj, size_t *n)
{
        *n = json_object_size(obj);
        const char **keys = xcalloc(*n + 1, sizeof(char *));
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
                keys[i++] = k;
        qsort(keys, *n, sizeof(char *), keycmp);
        return keys;
}

/* fmt.Print of an interface{} holding decoded JSON; top = an action's value. */
static void print_value(struct strbuf *b, json_t *v, bool top)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                strbuf_addn(b, json_string_value(v), json_string_length(v));
                break;
        case JSON_INTEGER:
                strbuf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                break;
        case JSON_REAL:
                print_float(b, json_real_value(v));
                break;
        case JSON_TRUE:
                strbuf_adds(b, "true");
                break;
        case JSON_FALSE:
                strbuf_adds(b, "false");
                break;
        case JSON_NULL:
                strbuf_adds(b, top ? "<no value>" : "<nil>");
                break;
        case JSON_ARRAY:
                strbuf_adds(b, "[");
                for (size_t i = 0; i < json_array_size(v); i++) {
                        if (i)
                                strbuf_adds(b, " ");
                        print_value(b, json_array_get(v, i), false);
                }
                strbuf_adds(b, "]");
                break;
        case JSON_OBJECT: {
                size_t n;
                cleanup_free const char **keys = sorted_keys(v, &n);
                strbuf_adds(b, "map[");
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                strbuf_adds(b, " ");
                        strbuf_printf(b, "%s:", keys[i]);
                        print_value(b, json_object_get(v, keys[i]), false);
                }
                strbuf_adds(b, "]");
                break;
        }
        }
}

static char *value_to_string(json_t *v)
{
        struct strbuf b = { 0 };
        print_value(&b, v, false);
        return strbuf_steal(&b);
}

static bool truth(json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0;
        case JSON_TRUE:
                return true;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_OBJECT:
                return json_object_size(v) > 0;
        default:
                return false;
        }
}

/* ---- executor ----------------------------------------------------------------- */

struct var {
        char *name;
        json_t *value;
};

struct exec {
        const char *src;
        json_t *root;
        struct strbuf out;
        struct var *vars;
        size_t nvars;
        berth_error_t *err;
};

static int exec_error(struct exec *ex, size_t pos, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int exec_error(struct exec *ex, size_t pos, size_t len, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        size_t ls = pos;
        while (ls > 0 && ex->src[ls - 1] != '\n')
                ls--;
        int r = berth_error(ex->err, 0, "template: :%u:%zu: executing \"\" at <%.*s%s>: %s", line_of(ex->src, pos),
                            pos - ls, (int) (len > 20 ? 20 : len), ex->src + pos, len > 20 ? "..." : "", msg);
        free(msg);
        return r;
}

static void vars_pop(struct exec *ex, size_t mark)
{
        while (ex->nvars > mark) {
                ex->nvars--;
                free(ex->vars[ex->nvars].name);
                json_decref(ex->vars[ex->nvars].value);
        }
}

static void var_push(struct exec *ex, const char *name, json_t *value)
{
        ex->vars = xrealloc(ex->vars, (ex->nvars + 1) * sizeof(*ex->vars));
        ex->vars[ex->nvars++] = (struct var){ xstrdup(name), json_incref(value) };
}

static struct var *var_find(struct exec *ex, const char *name)
{
        for (size_t i = ex->nvars; i > 0; i--)
                if (streq(ex->vars[i - 1].name, name))
                        return &ex->vars[i - 1];
        return NULL;
}

/* Walk a field chain; consumes v, returns a new reference or NULL. */
static json_t *walk_fields(struct exec *ex, const struct arg *a, json_t *v)
{
        for (size_t i = 0; a->fields && a->fields[i]; i++) {
                const char *f = a->fields[i];
                json_t *next = NULL;
                if (json_is_object(v)) {
                        next = json_object_get(v, f);
                        if (!next)
                                exec_error(ex, a->pos, a->len, "map has no entry for key \"%s\"", f);
                } else if (json_is_null(v))
                        exec_error(ex, a->pos, a->len, "nil pointer evaluating interface {}.%s", f);
                else
                        exec_error(ex, a->pos, a->len, "can't evaluate field %s in type %s", f, go_type(v));
                json_decref(v);
                if (!next)
                        return NULL;
                v = json_incref(next);
        }
        return v;
}

static int eval_pipe(struct exec *ex, const struct pipe *p, json_t *dot, json_t **out);
static int call_func(struct exec *ex, const struct cmd *cmd, size_t first, json_t *dot, json_t *final,
                     json_t **out);

static int eval_arg(struct exec *ex, const struct arg *a, json_t *dot, json_t **out)
{
        json_t *v = NULL;
        switch (a->type) {
        case A_DOT:
        case A_FIELD:
                v = json_incref(dot);
                break;
        case A_VAR: {
                if (streq(a->name, "$")) {
                        v = json_incref(ex->root);
                        break;
                }
                struct var *var = var_find(ex, a->name);
                if (!var)
                        return exec_error(ex, a->pos, a->len, "undefined variable: %s", a->name);
                v = json_incref(var->value);
                break;
        }
        case A_LITERAL:
                *out = json_incref(a->literal);
                return 0;
        case A_FUNC: {
                /* a function used as an argument: called without arguments */
                struct cmd c = { .pos = a->pos, .len = a->len, .args = (struct arg *) a, .nargs = 1 };
                return call_func(ex, &c, 0, dot, NULL, out);
        }
        case A_PIPE: {
                int r = eval_pipe(ex, a->pipe, dot, &v);
                if (r < 0)
                        return r;
                break;
        }
        }
        v = walk_fields(ex, a, v);
        if (!v)
                return -1;
        *out = v;
        return 0;
}

/* ---- functions ---- */

struct fn_ctx {
        struct exec *ex;
        const struct cmd *cmd;
        const char *name;
};

static int fn_error(struct fn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fn_error(struct fn_ctx *c, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        int r = exec_error(c->ex, c->cmd->pos, c->cmd->len, "error calling %s: %s", c->name, msg);
        free(msg);
        return r;
}

/* A string argument; numbers and bools are accepted in their printed form. */
static int arg_string(struct fn_ctx *c, json_t *v, char **s)
{
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
                *s = value_to_string(v);
                return 0;
        }
        return fn_error(c, "wrong type for value; expected string; got %s", go_type(v));
}

static int arg_int(struct fn_ctx *c, json_t *v, long long *n)
{
        if (json_is_integer(v)) {
                *n = json_integer_value(v);
                return 0;
        }
        double d = json_is_real(v) ? json_real_value(v) : 0.5;
        if (d > -9.2e18 && d < 9.2e18 && (double) (long long) d == d) { /* a whole float; no libm */
                *n = (long long) d;
                return 0;
        }
        return fn_error(c, "wrong type for value; expected int; got %s", go_type(v));
}

typedef int (*fn_t)(struct fn_ctx *c, json_t **args, size_t n, json_t **out);

static int fn_json(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        char *s = json_dumps(args[0], JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
                return fn_error(c, "cannot encode value as JSON");
        *out = json_string_nocheck(s);
        free(s);
        return 0;
}

static int fn_join(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        cleanup_free char *sep = NULL;
        if (arg_string(c, args[1], &sep) < 0)
                return -1;
        if (json_is_null(args[0])) {
                *out = json_string("");
                return 0;
        }
        if (!json_is_array(args[0]))
                return fn_error(c, "wrong type for value; expected []string; got %s", go_type(args[0]));
        struct strbuf b = { 0 };
        for (size_t i = 0; i < json_array_size(args[0]); i++) {
                if (i)
                        strbuf_adds(&b, sep);
                print_value(&b, json_array_get(args[0], i), false);
        }
        cleanup_free char *s = strbuf_steal(&b);
        *out = json_string_nocheck(s);
        return 0;
}

static int fn_split(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        cleanup_free char *s = NULL, *sep = NULL;
        if (arg_string(c, args[0], &s) < 0 || arg_string(c, args[1], &sep) < 0)
                return -1;
        json_t *a = json_array();
        size_t sl = strlen(sep);
        const char *p = s;
        if (sl == 0) {
                /* one element per UTF-8 character */
                while (*p) {
                        size_t k = 1;
                        while (p[k] && ((unsigned char) p[k] & 0xc0) == 0x80)
                                k++;
                        json_array_append_new(a, json_stringn_nocheck(p, k));
                        p += k;
                }
        } else {
                for (;;) {
                        const char *q = strstr(p, sep);
                        if (!q) {
                                json_array_append_new(a, json_string_nocheck(p));
                                break;
                        }
                        json_array_append_new(a, json_stringn_nocheck(p, (size_t) (q - p)));
                        p = q + sl;
                }
        }
        *out = a;
        return 0;
}

static int fn_case(struct fn_ctx *c, json_t **args, int mode, json_t **out)
{
        char *s = NULL;
        if (arg_string(c, args[0], &s) < 0)
                return -1;
        bool word_start = true;
        for (char *p = s; *p; p++) {
                unsigned char ch = (unsigned char) *p;
                if (mode == 0)
                        *p = (char) toupper(ch);
                else if (mode == 1)
                        *p = (char) tolower(ch);
                else {
                        bool letter = isalnum(ch) || ch == '_' || ch >= 0x80;
                        if (letter && word_start)
                                *p = (char) toupper(ch);
                        word_start = !letter;
                }
        }
        *out = json_string_nocheck(s);
        free(s);
        return 0;
}

static int fn_upper(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_case(c, args, 0, out);
}

static int fn_lower(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_case(c, args, 1, out);
}

static int fn_title(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_case(c, args, 2, out);
}

static int fn_pad(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        cleanup_free char *s = NULL;
        long long before, after;
        if (arg_string(c, args[0], &s) < 0 || arg_int(c, args[1], &before) < 0 || arg_int(c, args[2], &after) < 0)
                return -1;
        if (before < 0 || after < 0 || before > 4096 || after > 4096)
                return fn_error(c, "padding out of range");
        cleanup_free char *r = xasprintf("%*s%s%*s", (int) before, "", s, (int) after, "");
        *out = json_string_nocheck(r);
        return 0;
}

static int fn_truncate(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        cleanup_free char *s = NULL;
        long long len;
        if (arg_string(c, args[0], &s) < 0 || arg_int(c, args[1], &len) < 0)
                return -1;
        if (len < 0)
                return fn_error(c, "negative length");
        if (strlen(s) > (size_t) len)
                s[len] = '\0';
        *out = json_string_nocheck(s);
        return 0;
}

static int fn_index(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        json_t *v = json_incref(args[0]);
        for (size_t i = 1; i < n; i++) {
                json_t *k = args[i], *next = NULL;
                if (json_is_object(v)) {
                        if (!json_is_string(k)) {
                                json_decref(v);
                                return fn_error(c, "value has type %s; should be string", go_type(k));
                        }
                        next = json_object_get(v, json_string_value(k));
                        if (!next) {
                                /* Go returns the zero value of the element type: "" for a
                                 * map of strings (Labels), nil otherwise. */
                                bool strings = true;
                                const char *key;
                                json_t *e;
                                json_object_foreach(v, key, e)
                                        strings = strings && json_is_string(e);
                                json_decref(v);
                                v = strings ? json_string("") : json_null();
                                continue;
                        }
                } else if (json_is_array(v)) {
                        long long idx;
                        if (!json_is_integer(k)) {
                                json_decref(v);
                                return fn_error(c, "cannot index slice/array with type %s", go_type(k));
                        }
                        idx = json_integer_value(k);
                        if (idx < 0 || (size_t) idx >= json_array_size(v)) {
                                json_decref(v);
                                return fn_error(c, "index out of range: %lld", idx);
                        }
                        next = json_array_get(v, (size_t) idx);
                } else {
                        const char *t = json_is_null(v) ? "index of untyped nil" : NULL;
                        int r = t ? fn_error(c, "%s", t) : fn_error(c, "can't index item of type %s", go_type(v));
                        json_decref(v);
                        return r;
                }
                json_incref(next);
                json_decref(v);
                v = next;
        }
        *out = v;
        return 0;
}

static int fn_len(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        json_t *v = args[0];
        if (json_is_string(v))
                *out = json_integer((json_int_t) json_string_length(v));
        else if (json_is_array(v))
                *out = json_integer((json_int_t) json_array_size(v));
        else if (json_is_object(v))
                *out = json_integer((json_int_t) json_object_size(v));
        else
                return fn_error(c, "len of type %s", go_type(v));
        return 0;
}

/* Compare two basic values: -2 incomparable, else -1/0/1. */
static int compare(json_t *a, json_t *b, bool *ordered)
{
        *ordered = true;
        if (json_is_number(a) && json_is_number(b)) {
                if (json_is_integer(a) && json_is_integer(b)) {
                        json_int_t x = json_integer_value(a), y = json_integer_value(b);
                        return x < y ? -1 : x > y;
                }
                double x = json_number_value(a), y = json_number_value(b);
                return x < y ? -1 : x > y;
        }
        if (json_is_string(a) && json_is_string(b)) {
                int r = strcmp(json_string_value(a), json_string_value(b));
                return r < 0 ? -1 : r > 0;
        }
        *ordered = false;
        if (json_is_boolean(a) && json_is_boolean(b))
                return json_typeof(a) == json_typeof(b) ? 0 : 1;
        if (json_is_null(a) || json_is_null(b))
                return json_is_null(a) && json_is_null(b) ? 0 : 1;
        return -2;
}

static int fn_eq(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        bool eq = false, ordered;
        for (size_t i = 1; i < n && !eq; i++) {
                int r = compare(args[0], args[i], &ordered);
                if (r == -2)
                        return fn_error(c, "incompatible types for comparison");
                eq = r == 0;
        }
        *out = json_boolean(eq);
        return 0;
}

static int fn_ne(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        bool ordered;
        int r = compare(args[0], args[1], &ordered);
        if (r == -2)
                return fn_error(c, "incompatible types for comparison");
        *out = json_boolean(r != 0);
        return 0;
}

static int fn_order(struct fn_ctx *c, json_t **args, int want, json_t **out)
{
        bool ordered;
        int r = compare(args[0], args[1], &ordered);
        if (r == -2 || !ordered)
                return fn_error(c, "invalid type for comparison");
        bool v = want == 0 ? r < 0 : want == 1 ? r <= 0 : want == 2 ? r > 0 : r >= 0;
        *out = json_boolean(v);
        return 0;
}

static int fn_lt(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_order(c, args, 0, out);
}

static int fn_le(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_order(c, args, 1, out);
}

static int fn_gt(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_order(c, args, 2, out);
}

static int fn_ge(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_order(c, args, 3, out);
}

static int fn_not(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        *out = json_boolean(!truth(args[0]));
        return 0;
}

static int fn_and(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        size_t i = 0;
        while (i + 1 < n && truth(args[i]))
                i++;
        *out = json_incref(args[i]);
        return 0;
}

static int fn_or(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        size_t i = 0;
        while (i + 1 < n && !truth(args[i]))
                i++;
        *out = json_incref(args[i]);
        return 0;
}

static int fn_print_common(json_t **args, size_t n, bool ln, json_t **out)
{
        struct strbuf b = { 0 };
        for (size_t i = 0; i < n; i++) {
                /* fmt.Sprint: a space between operands when neither is a string */
                if (i && (ln || (!json_is_string(args[i - 1]) && !json_is_string(args[i]))))
                        strbuf_adds(&b, " ");
                print_value(&b, args[i], false);
        }
        if (ln)
                strbuf_adds(&b, "\n");
        cleanup_free char *s = strbuf_steal(&b);
        *out = json_string_nocheck(s);
        return 0;
}

static int fn_print(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_print_common(args, n, false, out);
}

static int fn_println(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        return fn_print_common(args, n, true, out);
}

static int fn_printf(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        cleanup_free char *fmt = NULL;
        if (arg_string(c, args[0], &fmt) < 0)
                return -1;
        struct strbuf b = { 0 };
        size_t ai = 1;
        for (const char *p = fmt; *p; p++) {
                if (*p != '%') {
                        strbuf_addn(&b, p, 1);
                        continue;
                }
                char verb = *++p;
                if (!verb) {
                        strbuf_adds(&b, "%!(NOVERB)");
                        break;
                }
                if (verb == '%') {
                        strbuf_adds(&b, "%");
                        continue;
                }
                if (ai >= n) {
                        strbuf_printf(&b, "%%!%c(MISSING)", verb);
                        continue;
                }
                json_t *v = args[ai++];
                if (verb == 'v' || verb == 's' || (verb == 'd' && json_is_integer(v)))
                        print_value(&b, v, false);
                else if (verb == 'q' && json_is_string(v)) {
                        char *q = json_dumps(v, JSON_ENCODE_ANY);
                        strbuf_adds(&b, q ? q : "\"\"");
                        free(q);
                } else {
                        strbuf_printf(&b, "%%!%c(%s=", verb, go_type(v));
                        print_value(&b, v, false);
                        strbuf_adds(&b, ")");
                }
        }
        cleanup_free char *s = strbuf_steal(&b);
        *out = json_string_nocheck(s);
        return 0;
}

static const struct {
        const char *name;
        fn_t fn;
        size_t min, max; /* argument counts */
} functions[] = {
        { "json", fn_json, 1, 1 },       { "join", fn_join, 2, 2 },   { "split", fn_split, 2, 2 },
        { "title", fn_title, 1, 1 },     { "lower", fn_lower, 1, 1 }, { "upper", fn_upper, 1, 1 },
        { "pad", fn_pad, 3, 3 },         { "truncate", fn_truncate, 2, 2 },
        { "index", fn_index, 1, SIZE_MAX }, { "len", fn_len, 1, 1 },   { "eq", fn_eq, 2, SIZE_MAX },
        { "ne", fn_ne, 2, 2 },           { "lt", fn_lt, 2, 2 },       { "le", fn_le, 2, 2 },
        { "gt", fn_gt, 2, 2 },           { "ge", fn_ge, 2, 2 },       { "not", fn_not, 1, 1 },
        { "and", fn_and, 1, SIZE_MAX },  { "or", fn_or, 1, SIZE_MAX }, { "print", fn_print, 0, SIZE_MAX },
        { "println", fn_println, 0, SIZE_MAX }, { "printf", fn_printf, 1, SIZE_MAX },
};

static int call_func(struct exec *ex, const struct cmd *cmd, size_t first, json_t *dot, json_t *final,
                     json_t **out)
{
        const struct arg *fa = &cmd->args[first];
        size_t fi = SIZE_MAX;
        for (size_t i = 0; i < ARRAY_SIZE(functions); i++)
                if (streq(functions[i].name, fa->name))
                        fi = i;
        if (fi == SIZE_MAX)
                return exec_error(ex, fa->pos, fa->len, "function \"%s\" not defined", fa->name);
        size_t n = cmd->nargs - first - 1 + (final ? 1 : 0);
        if (n < functions[fi].min || n > functions[fi].max) {
                if (functions[fi].min == functions[fi].max)
                        return exec_error(ex, cmd->pos, cmd->len, "wrong number of args for %s: want %zu got %zu",
                                          fa->name, functions[fi].min, n);
                return exec_error(ex, cmd->pos, cmd->len, "wrong number of args for %s: want at least %zu got %zu",
                                  fa->name, functions[fi].min, n);
        }
        json_t **args = xcalloc(n + 1, sizeof(json_t *));
        int r = 0;
        size_t k = 0;
        for (size_t i = first + 1; i < cmd->nargs; i++) {
                r = eval_arg(ex, &cmd->args[i], dot, &args[k]);
                if (r < 0)
                        goto out;
                k++;
        }
        if (final)
                args[k++] = json_incref(final);
        struct fn_ctx c = { ex, cmd, fa->name };
        r = functions[fi].fn(&c, args, n, out);
        if (r < 0)
                r = -1;
out:
        for (size_t i = 0; i < k; i++)
                json_decref(args[i]);
        free(args);
        return r;
}

static int eval_cmd(struct exec *ex, const struct cmd *cmd, json_t *dot, json_t *final, json_t **out)
{
        const struct arg *a = &cmd->args[0];
        if (a->type == A_FUNC)
                return call_func(ex, cmd, 0, dot, final, out);
        if (cmd->nargs > 1 || final)
                return exec_error(ex, cmd->pos, cmd->len, "can't give argument to non-function %.*s", (int) a->len,
                                  ex->src + a->pos);
        return eval_arg(ex, a, dot, out);
}

static int eval_pipe(struct exec *ex, const struct pipe *p, json_t *dot, json_t **out)
{
        json_t *v = NULL;
        for (size_t i = 0; i < p->ncmds; i++) {
                json_t *next = NULL;
                int r = eval_cmd(ex, &p->cmds[i], dot, v, &next);
                if (v)
                        json_decref(v);
                if (r < 0)
                        return r;
                v = next;
        }
        *out = v;
        return 0;
}

/* Evaluate a pipeline and bind its declared variable (if/with/action). */
static int eval_pipe_decl(struct exec *ex, const struct pipe *p, json_t *dot, json_t **out)
{
        int r = eval_pipe(ex, p, dot, out);
        if (r < 0 || p->ndecl == 0)
                return r;
        if (p->assign) {
                struct var *var = var_find(ex, p->decl[0]);
                if (!var) {
                        json_decref(*out);
                        return exec_error(ex, p->pos, p->len, "undefined variable: %s", p->decl[0]);
                }
                json_decref(var->value);
                var->value = json_incref(*out);
        } else
                var_push(ex, p->decl[0], *out);
        return 0;
}

static int exec_list(struct exec *ex, const struct list *l, json_t *dot);

static int exec_range(struct exec *ex, const struct node *n, json_t *v, json_t *dot)
{
        const struct pipe *p = n->pipe;
        int r = 0;
        size_t mark = ex->nvars;
        if (json_is_array(v) && json_array_size(v) > 0) {
                for (size_t i = 0; i < json_array_size(v) && r == 0; i++) {
                        json_t *e = json_array_get(v, i);
                        if (p->ndecl == 2) {
                                json_t *idx = json_integer((json_int_t) i);
                                var_push(ex, p->decl[0], idx);
                                json_decref(idx);
                                var_push(ex, p->decl[1], e);
                        } else if (p->ndecl == 1)
                                var_push(ex, p->decl[0], e);
                        r = exec_list(ex, &n->list, e);
                        vars_pop(ex, mark);
                }
                return r;
        }
        if (json_is_object(v) && json_object_size(v) > 0) {
                size_t nk;
                cleanup_free const char **keys = sorted_keys(v, &nk);
                for (size_t i = 0; i < nk && r == 0; i++) {
                        json_t *e = json_object_get(v, keys[i]);
                        if (p->ndecl == 2) {
                                json_t *k = json_string(keys[i]);
                                var_push(ex, p->decl[0], k);
                                json_decref(k);
                                var_push(ex, p->decl[1], e);
                        } else if (p->ndecl == 1)
                                var_push(ex, p->decl[0], e);
                        r = exec_list(ex, &n->list, e);
                        vars_pop(ex, mark);
                }
                return r;
        }
        if (json_is_array(v) || json_is_object(v) || json_is_null(v))
                return exec_list(ex, &n->else_list, dot);
        cleanup_free char *s = value_to_string(v);
        return exec_error(ex, p->pos, p->len, "range can't iterate over %s", s);
}

static int exec_node(struct exec *ex, const struct node *n, json_t *dot)
{
        json_t *v = NULL;
        int r = 0;
        size_t mark = ex->nvars;
        switch (n->type) {
        case N_TEXT:
                strbuf_addn(&ex->out, n->text, n->tlen);
                return 0;
        case N_ACTION:
                r = eval_pipe_decl(ex, n->pipe, dot, &v);
                if (r < 0)
                        return r;
                if (n->pipe->ndecl == 0)
                        print_value(&ex->out, v, true);
                json_decref(v);
                return 0; /* a declaration lives until the end of the enclosing list */
        case N_IF:
        case N_WITH:
                r = eval_pipe_decl(ex, n->pipe, dot, &v);
                if (r < 0)
                        return r;
                if (truth(v))
                        r = exec_list(ex, &n->list, n->type == N_WITH ? v : dot);
                else
                        r = exec_list(ex, &n->else_list, dot);
                break;
        case N_RANGE:
                r = eval_pipe(ex, n->pipe, dot, &v);
                if (r < 0)
                        return r;
                r = exec_range(ex, n, v, dot);
                break;
        }
        json_decref(v);
        vars_pop(ex, mark);
        return r;
}

static int exec_list(struct exec *ex, const struct list *l, json_t *dot)
{
        size_t mark = ex->nvars;
        int r = 0;
        for (size_t i = 0; i < l->n && r == 0; i++)
                r = exec_node(ex, l->v[i], dot);
        vars_pop(ex, mark);
        return r;
}

int template_execute(const struct template *t, json_t *obj, char **out, berth_error_t *err)
{
        json_t *root = obj ? obj : json_null();
        struct exec ex = { .src = t->src, .root = root, .err = err };
        int r = exec_list(&ex, &t->root, root);
        vars_pop(&ex, 0);
        free(ex.vars);
        if (!obj)
                json_decref(root);
        if (r < 0) {
                free(ex.out.s);
                return r;
        }
        *out = strbuf_steal(&ex.out);
        return 0;
}

int template_render(const char *tmpl, json_t *obj, char **out, berth_error_t *err)
{
        cleanup_template struct template *t = NULL;
        int r = template_parse(tmpl, &t, err);
        if (r < 0)
                return r;
        return template_execute(t, obj, out, err);
}

bool template_is_table(const char *format)
{
        return startswith(format, "table");
}

char *template_preformat(const char *format)
{
        const char *s = format;
        if (template_is_table(s))
                s += strlen("table");
        while (*s == ' ')
                s++;
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == ' ')
                n--;
        struct strbuf b = { 0 };
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 't' || s[i + 1] == 'n')) {
                        strbuf_addn(&b, s[i + 1] == 't' ? "\t" : "\n", 1);
                        i++;
                } else
                        strbuf_addn(&b, &s[i], 1);
        }
        return strbuf_steal(&b);
}
