/* berth — the builtin functions of `--format` templates, and their table.
 *
 * Docker's json, split, join, title, lower, upper, pad and truncate, and
 * Go's index, len, eq, ne, lt, le, gt, ge, not, and, or, print, println and
 * printf (include/berth/template.h says what each accepts).  Each takes its
 * evaluated arguments and returns a new value: template-exec.c checks the
 * argument count against the table and evaluates every argument before the
 * call (so and/or do not short-circuit).  Errors are Go's:
 *   template: :1:2: executing "" at <index .L 5>: error calling index: index out of range: 5 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>

#include "berth/template-internal.h"
#include "berth/util.h"

static int fn_error(struct fn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fn_error(struct fn_ctx *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return template_exec_error(c->ex, c->cmd->pos, c->cmd->len, "error calling %s: %s", c->name, msg);
}

/* A string argument; numbers and bools are accepted in their printed form. */
static int arg_string(struct fn_ctx *c, json_t *v, char **s)
{
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
                *s = template_value_string(v);
                return 0;
        }
        return fn_error(c, "wrong type for value; expected string; got %s", template_go_type(v));
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
        return fn_error(c, "wrong type for value; expected int; got %s", template_go_type(v));
}


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
                return fn_error(c, "wrong type for value; expected []string; got %s", template_go_type(args[0]));
        struct strbuf b = { 0 };
        for (size_t i = 0; i < json_array_size(args[0]); i++) {
                if (i)
                        strbuf_adds(&b, sep);
                template_print_value(&b, json_array_get(args[0], i), false);
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
                                return fn_error(c, "value has type %s; should be string", template_go_type(k));
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
                                return fn_error(c, "cannot index slice/array with type %s", template_go_type(k));
                        }
                        idx = json_integer_value(k);
                        if (idx < 0 || (size_t) idx >= json_array_size(v)) {
                                json_decref(v);
                                return fn_error(c, "index out of range: %lld", idx);
                        }
                        next = json_array_get(v, (size_t) idx);
                } else {
                        const char *t = json_is_null(v) ? "index of untyped nil" : NULL;
                        int r = t ? fn_error(c, "%s", t)
                                  : fn_error(c, "can't index item of type %s", template_go_type(v));
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
                return fn_error(c, "len of type %s", template_go_type(v));
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
        *out = json_boolean(!template_truth(args[0]));
        return 0;
}

static int fn_and(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        size_t i = 0;
        while (i + 1 < n && template_truth(args[i]))
                i++;
        *out = json_incref(args[i]);
        return 0;
}

static int fn_or(struct fn_ctx *c, json_t **args, size_t n, json_t **out)
{
        size_t i = 0;
        while (i + 1 < n && !template_truth(args[i]))
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
                template_print_value(&b, args[i], false);
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
                        template_print_value(&b, v, false);
                else if (verb == 'q' && json_is_string(v)) {
                        char *q = json_dumps(v, JSON_ENCODE_ANY);
                        strbuf_adds(&b, q ? q : "\"\"");
                        free(q);
                } else {
                        strbuf_printf(&b, "%%!%c(%s=", verb, template_go_type(v));
                        template_print_value(&b, v, false);
                        strbuf_adds(&b, ")");
                }
        }
        cleanup_free char *s = strbuf_steal(&b);
        *out = json_string_nocheck(s);
        return 0;
}

static const struct template_func functions[] = {
        { "json", fn_json, 1, 1 },       { "join", fn_join, 2, 2 },   { "split", fn_split, 2, 2 },
        { "title", fn_title, 1, 1 },     { "lower", fn_lower, 1, 1 }, { "upper", fn_upper, 1, 1 },
        { "pad", fn_pad, 3, 3 },         { "truncate", fn_truncate, 2, 2 },
        { "index", fn_index, 1, SIZE_MAX }, { "len", fn_len, 1, 1 },   { "eq", fn_eq, 2, SIZE_MAX },
        { "ne", fn_ne, 2, 2 },           { "lt", fn_lt, 2, 2 },       { "le", fn_le, 2, 2 },
        { "gt", fn_gt, 2, 2 },           { "ge", fn_ge, 2, 2 },       { "not", fn_not, 1, 1 },
        { "and", fn_and, 1, SIZE_MAX },  { "or", fn_or, 1, SIZE_MAX }, { "print", fn_print, 0, SIZE_MAX },
        { "println", fn_println, 0, SIZE_MAX }, { "printf", fn_printf, 1, SIZE_MAX },
};

const struct template_func *template_func_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(functions); i++)
                if (streq(functions[i].name, name))
                        return &functions[i];
        return NULL;
}
