/* berth — executing a `--format` template: the tree template-parse.c built
 * (include/berth/template-internal.h), run over a jansson value.
 *
 * Values print as Go's fmt prints an interface{} holding the decoded JSON
 * (template.h lists the forms); "." is the value in hand, "$" the root, a
 * variable lives until the {{end}} of the block that declared it, and
 * errors are Go's, quoting the action:
 *   template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"
 * The builtin functions are in template-funcs.c, reached by name through
 * template_func_find(). */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>

#include "berth/template-internal.h"
#include "berth/util.h"

/* ---- values ------------------------------------------------------------------- */

const char *template_go_type(const json_t *v)
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

void template_print_value(struct strbuf *b, json_t *v, bool top)
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
                        template_print_value(b, json_array_get(v, i), false);
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
                        template_print_value(b, json_object_get(v, keys[i]), false);
                }
                strbuf_adds(b, "]");
                break;
        }
        }
}

char *template_value_string(json_t *v)
{
        struct strbuf b = { 0 };
        template_print_value(&b, v, false);
        return strbuf_steal(&b);
}

bool template_truth(json_t *v)
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

int template_exec_error(struct exec *ex, size_t pos, size_t len, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        size_t ls = pos;
        while (ls > 0 && ex->src[ls - 1] != '\n')
                ls--;
        return berth_error(ex->err, 0, "template: :%u:%zu: executing \"\" at <%.*s%s>: %s",
                           template_line_of(ex->src, pos), pos - ls, (int) (len > 20 ? 20 : len), ex->src + pos,
                           len > 20 ? "..." : "", msg);
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
                                template_exec_error(ex, a->pos, a->len, "map has no entry for key \"%s\"", f);
                } else if (json_is_null(v))
                        template_exec_error(ex, a->pos, a->len, "nil pointer evaluating interface {}.%s", f);
                else
                        template_exec_error(ex, a->pos, a->len, "can't evaluate field %s in type %s", f,
                                            template_go_type(v));
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
                        return template_exec_error(ex, a->pos, a->len, "undefined variable: %s", a->name);
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

/* Call the builtin function cmd->args[first] (template-funcs.c) with the
 * arguments after it and, last, final: the value piped in, or NULL. */
static int call_func(struct exec *ex, const struct cmd *cmd, size_t first, json_t *dot, json_t *final,
                     json_t **out)
{
        const struct arg *fa = &cmd->args[first];
        const struct template_func *fn = template_func_find(fa->name);
        if (!fn)
                return template_exec_error(ex, fa->pos, fa->len, "function \"%s\" not defined", fa->name);
        size_t n = cmd->nargs - first - 1 + (final ? 1 : 0);
        if (n < fn->min || n > fn->max) {
                if (fn->min == fn->max)
                        return template_exec_error(ex, cmd->pos, cmd->len,
                                                   "wrong number of args for %s: want %zu got %zu", fa->name, fn->min,
                                                   n);
                return template_exec_error(ex, cmd->pos, cmd->len,
                                           "wrong number of args for %s: want at least %zu got %zu", fa->name, fn->min,
                                           n);
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
        r = fn->fn(&c, args, n, out);
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
                return template_exec_error(ex, cmd->pos, cmd->len, "can't give argument to non-function %.*s",
                                           (int) a->len, ex->src + a->pos);
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
                        return template_exec_error(ex, p->pos, p->len, "undefined variable: %s", p->decl[0]);
                }
                json_decref(var->value);
                var->value = json_incref(*out);
        } else
                var_push(ex, p->decl[0], *out);
        return 0;
}

static int exec_list(struct exec *ex, const struct list *l, json_t *dot);

/* One turn of range over element e (key: its index or map key): the
 * declared variables ($k, $v or just $v) set, the body run with dot = e,
 * the variables dropped again.  Consumes key. */
static int range_turn(struct exec *ex, const struct node *n, json_t *key, json_t *e)
{
        const struct pipe *p = n->pipe;
        size_t mark = ex->nvars;
        if (p->ndecl == 2) {
                var_push(ex, p->decl[0], key);
                var_push(ex, p->decl[1], e);
        } else if (p->ndecl == 1)
                var_push(ex, p->decl[0], e);
        json_decref(key);
        int r = exec_list(ex, &n->list, e);
        vars_pop(ex, mark);
        return r;
}

static int exec_range(struct exec *ex, const struct node *n, json_t *v, json_t *dot)
{
        const struct pipe *p = n->pipe;
        int r = 0;
        if (json_is_array(v) && json_array_size(v) > 0) {
                for (size_t i = 0; i < json_array_size(v) && r == 0; i++)
                        r = range_turn(ex, n, json_integer((json_int_t) i), json_array_get(v, i));
                return r;
        }
        if (json_is_object(v) && json_object_size(v) > 0) {
                size_t nk;
                cleanup_free const char **keys = sorted_keys(v, &nk);
                for (size_t i = 0; i < nk && r == 0; i++)
                        r = range_turn(ex, n, json_string(keys[i]), json_object_get(v, keys[i]));
                return r;
        }
        if (json_is_array(v) || json_is_object(v) || json_is_null(v))
                return exec_list(ex, &n->else_list, dot);
        cleanup_free char *s = template_value_string(v);
        return template_exec_error(ex, p->pos, p->len, "range can't iterate over %s", s);
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
                        template_print_value(&ex->out, v, true);
                json_decref(v);
                return 0; /* a declaration lives until the end of the enclosing list */
        case N_IF:
        case N_WITH:
                r = eval_pipe_decl(ex, n->pipe, dot, &v);
                if (r < 0)
                        return r;
                if (template_truth(v))
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
