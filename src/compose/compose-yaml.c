/* The YAML of compose files through libyaml (loaded on first use): the
 * parser's document API into a tree of cnodes that keeps each node's line
 * (anchors, aliases and "<<" merge keys resolved), the emitter for
 * `compose config`, and the same tree as JSON through jansson. */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <yaml.h>

#include "berth/compose-internal.h"
#include "berth/dlopen-util.h"
#include "berth/util.h"

/* libyaml is loaded on first use (dlopen-util.h): only `compose` maps it. */
#define COMPOSE_YAML_SONAME "libyaml-0.so.2"
static DLSYM_PROTOTYPE(yaml_document_delete) = NULL;
static DLSYM_PROTOTYPE(yaml_document_end_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_document_get_node) = NULL;
static DLSYM_PROTOTYPE(yaml_document_get_root_node) = NULL;
static DLSYM_PROTOTYPE(yaml_document_start_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_delete) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_emit) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_set_indent) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_set_output) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_set_unicode) = NULL;
static DLSYM_PROTOTYPE(yaml_emitter_set_width) = NULL;
static DLSYM_PROTOTYPE(yaml_mapping_end_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_mapping_start_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_parser_delete) = NULL;
static DLSYM_PROTOTYPE(yaml_parser_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_parser_load) = NULL;
static DLSYM_PROTOTYPE(yaml_parser_set_input_string) = NULL;
static DLSYM_PROTOTYPE(yaml_scalar_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_sequence_end_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_sequence_start_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_stream_end_event_initialize) = NULL;
static DLSYM_PROTOTYPE(yaml_stream_start_event_initialize) = NULL;

static int yaml_load(berth_error_t *err)
{
        static void *dl;
        return dlopen_many_sym(&dl, COMPOSE_YAML_SONAME, err,
                               DLSYM_ARG(yaml_document_delete),
                               DLSYM_ARG(yaml_document_end_event_initialize),
                               DLSYM_ARG(yaml_document_get_node),
                               DLSYM_ARG(yaml_document_get_root_node),
                               DLSYM_ARG(yaml_document_start_event_initialize),
                               DLSYM_ARG(yaml_emitter_delete),
                               DLSYM_ARG(yaml_emitter_emit),
                               DLSYM_ARG(yaml_emitter_initialize),
                               DLSYM_ARG(yaml_emitter_set_indent),
                               DLSYM_ARG(yaml_emitter_set_output),
                               DLSYM_ARG(yaml_emitter_set_unicode),
                               DLSYM_ARG(yaml_emitter_set_width),
                               DLSYM_ARG(yaml_mapping_end_event_initialize),
                               DLSYM_ARG(yaml_mapping_start_event_initialize),
                               DLSYM_ARG(yaml_parser_delete),
                               DLSYM_ARG(yaml_parser_initialize),
                               DLSYM_ARG(yaml_parser_load),
                               DLSYM_ARG(yaml_parser_set_input_string),
                               DLSYM_ARG(yaml_scalar_event_initialize),
                               DLSYM_ARG(yaml_sequence_end_event_initialize),
                               DLSYM_ARG(yaml_sequence_start_event_initialize),
                               DLSYM_ARG(yaml_stream_end_event_initialize),
                               DLSYM_ARG(yaml_stream_start_event_initialize),
                               NULL);
}

/* Bounds against alias bombs and cycles: an alias is copied where used. */
#define CNODE_MAX_DEPTH 64
#define CNODE_MAX_NODES 200000

struct cnode *cnode_new(enum cnode_kind kind, const char *file, unsigned line)
{
        struct cnode *n = xcalloc(1, sizeof(*n));
        n->kind = kind;
        n->file = xstrdup(file ? file : "");
        n->line = line;
        return n;
}

struct cnode *cnode_scalar(const char *value, enum cscalar_type type, const char *file, unsigned line)
{
        struct cnode *n = cnode_new(CNODE_SCALAR, file, line);
        n->value = xstrdup(value);
        n->type = type;
        return n;
}

void cnode_free(struct cnode *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n; i++) {
                if (n->keys)
                        free(n->keys[i]);
                cnode_free(n->items[i]);
        }
        free(n->keys);
        free(n->items);
        free(n->value);
        free(n->file);
        free(n);
}

struct cnode *cnode_copy(const struct cnode *n)
{
        struct cnode *c = cnode_new(n->kind, n->file, n->line);
        c->type = n->type;
        c->value = n->value ? xstrdup(n->value) : NULL;
        c->quoted = n->quoted;
        c->reset = n->reset;
        c->override = n->override;
        for (size_t i = 0; i < n->n; i++) {
                if (n->kind == CNODE_MAP)
                        cnode_set(c, n->keys[i], cnode_copy(n->items[i]));
                else
                        cnode_push(c, cnode_copy(n->items[i]));
        }
        return c;
}

struct cnode *cnode_get(const struct cnode *map, const char *key)
{
        if (!map || map->kind != CNODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (streq(map->keys[i], key))
                        return map->items[i];
        return NULL;
}

static void cnode_append(struct cnode *n, char *key, struct cnode *value)
{
        n->items = xrealloc(n->items, (n->n + 1) * sizeof(*n->items));
        if (n->kind == CNODE_MAP) {
                n->keys = xrealloc(n->keys, (n->n + 1) * sizeof(*n->keys));
                n->keys[n->n] = key;
        }
        n->items[n->n++] = value;
}

void cnode_set(struct cnode *map, const char *key, struct cnode *value)
{
        for (size_t i = 0; i < map->n; i++)
                if (streq(map->keys[i], key)) {
                        cnode_free(map->items[i]);
                        map->items[i] = value;
                        return;
                }
        cnode_append(map, xstrdup(key), value);
}

void cnode_push(struct cnode *seq, struct cnode *item)
{
        cnode_append(seq, NULL, item);
}

int cnode_error(berth_error_t *err, const struct cnode *n, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        if (n && n->line)
                return berth_error(err, 0, "%s:%u: %s", n->file, n->line, msg);
        return berth_error(err, 0, "%s: %s", n ? n->file : "compose", msg);
}

bool cnode_is_null(const struct cnode *n)
{
        return !n || n->kind == CNODE_NULL;
}

/* ---- reading ------------------------------------------------------------ */

struct loader {
        yaml_document_t *doc;
        const char *name;
        size_t count;
};

static int load_node(struct loader *l, yaml_node_t *y, unsigned depth, struct cnode **out, berth_error_t *err);

/* Add the entries of a "<<" value (a mapping or a list of them) that the
 * mapping m does not have yet. */
static int merge_key(struct loader *l, struct cnode *m, yaml_node_t *v, unsigned depth, berth_error_t *err)
{
        unsigned line = v->start_mark.line + 1;
        if (v->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
                        if (merge_key(l, m, sym_yaml_document_get_node(l->doc, *it), depth + 1, err) < 0)
                                return -1;
                return 0;
        }
        cleanup_cnode struct cnode *src = NULL;
        if (load_node(l, v, depth + 1, &src, err) < 0)
                return -1;
        if (src->kind != CNODE_MAP)
                return berth_error(err, 0, "%s:%u: the value of the merge key << must be a mapping", l->name, line);
        for (size_t i = 0; i < src->n; i++)
                if (!cnode_get(m, src->keys[i])) {
                        cnode_append(m, steal_pointer(&src->keys[i]), steal_pointer(&src->items[i]));
                }
        return 0;
}

static int load_node(struct loader *l, yaml_node_t *y, unsigned depth, struct cnode **out, berth_error_t *err)
{
        if (!y)
                return berth_error(err, 0, "%s: broken YAML document", l->name);
        unsigned line = y->start_mark.line + 1;
        if (depth > CNODE_MAX_DEPTH)
                return berth_error(err, 0, "%s:%u: nested more than %d levels deep", l->name, line, CNODE_MAX_DEPTH);
        if (++l->count > CNODE_MAX_NODES)
                return berth_error(err, 0, "%s:%u: more than %d nodes once aliases are expanded", l->name, line,
                                   CNODE_MAX_NODES);
        const char *tag = (const char *) y->tag;
        cleanup_cnode struct cnode *n = NULL;
        switch (y->type) {
        case YAML_SCALAR_NODE: {
                const char *v = (const char *) y->data.scalar.value;
                bool quoted = y->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                if (!quoted && (streq(v, "") || streq(v, "~") || streq(v, "null") || streq(v, "Null") ||
                                streq(v, "NULL")))
                        n = cnode_new(CNODE_NULL, l->name, line);
                else {
                        n = cnode_scalar(v, CSCALAR_STR, l->name, line);
                        n->quoted = quoted;
                }
                break;
        }
        case YAML_SEQUENCE_NODE:
                n = cnode_new(CNODE_SEQ, l->name, line);
                for (yaml_node_item_t *it = y->data.sequence.items.start; it < y->data.sequence.items.top; it++) {
                        struct cnode *c = NULL;
                        if (load_node(l, sym_yaml_document_get_node(l->doc, *it), depth + 1, &c, err) < 0)
                                return -1;
                        cnode_push(n, c);
                }
                break;
        case YAML_MAPPING_NODE: {
                n = cnode_new(CNODE_MAP, l->name, line);
                yaml_node_pair_t *merge = NULL;
                for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = sym_yaml_document_get_node(l->doc, p->key);
                        if (!k || k->type != YAML_SCALAR_NODE)
                                return berth_error(err, 0, "%s:%u: a mapping key must be a string", l->name,
                                                   k ? (unsigned) k->start_mark.line + 1 : line);
                        const char *key = (const char *) k->data.scalar.value;
                        if (streq(key, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
                                merge = p;
                                continue;
                        }
                        if (cnode_get(n, key))
                                return berth_error(err, 0, "%s:%u: mapping key \"%s\" already defined", l->name,
                                                   (unsigned) k->start_mark.line + 1, key);
                        struct cnode *c = NULL;
                        if (load_node(l, sym_yaml_document_get_node(l->doc, p->value), depth + 1, &c, err) < 0)
                                return -1;
                        cnode_append(n, xstrdup(key), c);
                }
                if (merge && merge_key(l, n, sym_yaml_document_get_node(l->doc, merge->value), depth, err) < 0)
                        return -1;
                break;
        }
        default:
                return berth_error(err, 0, "%s:%u: empty YAML node", l->name, line);
        }
        if (tag && streq(tag, "!reset"))
                n->reset = true;
        else if (tag && streq(tag, "!override"))
                n->override = true;
        *out = steal_pointer(&n);
        return 0;
}

int compose_yaml_parse(const char *text, size_t len, const char *name, struct cnode **out, berth_error_t *err)
{
        yaml_parser_t parser;
        yaml_document_t doc;
        if (yaml_load(err) < 0)
                return -1;
        if (!sym_yaml_parser_initialize(&parser))
                return berth_error(err, ENOMEM, "%s", name);
        sym_yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
        if (!sym_yaml_parser_load(&parser, &doc)) {
                int r = berth_error(err, 0, "%s:%zu: %s%s%s", name,
                                    (parser.problem_mark.line ? parser.problem_mark.line : parser.context_mark.line) + 1,
                                    parser.problem ? parser.problem : "invalid YAML",
                                    parser.context ? " " : "", parser.context ? parser.context : "");
                sym_yaml_parser_delete(&parser);
                return r;
        }
        sym_yaml_parser_delete(&parser);
        int r = 0;
        yaml_node_t *root = sym_yaml_document_get_root_node(&doc);
        if (!root)
                *out = cnode_new(CNODE_MAP, name, 1);
        else {
                struct loader l = { .doc = &doc, .name = name };
                r = load_node(&l, root, 0, out, err);
                if (r == 0 && (*out)->kind == CNODE_NULL) {
                        cnode_free(*out);
                        *out = cnode_new(CNODE_MAP, name, 1);
                } else if (r == 0 && (*out)->kind != CNODE_MAP) {
                        r = cnode_error(err, *out, "a compose file must be a mapping at the top");
                        cnode_free(steal_pointer(out));
                }
        }
        sym_yaml_document_delete(&doc);
        return r;
}

/* ---- writing ------------------------------------------------------------ */

/* Would a YAML reader take this plain text for something else than a
 * string (null, bool, number)?  Then it is written quoted. */
static bool looks_typed(const char *s)
{
        static const char *const words[] = { "", "~", "null", "Null", "NULL", "true", "True", "TRUE",
                                             "false", "False", "FALSE", "yes", "no", "on", "off", "y", "n",
                                             "Yes", "No", "On", "Off", ".inf", ".nan" };
        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                if (streq(s, words[i]))
                        return true;
        /* numbers of YAML 1.2's core schema: 12, -3, 0x1f, 0o17, 1.5, .5, 1e3 */
        const char *p = s;
        if (*p == '-' || *p == '+')
                p++;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p[2])
                return strspn(p + 2, "0123456789abcdefABCDEF") == strlen(p + 2);
        size_t digits = strspn(p, "0123456789");
        p += digits;
        if (*p == '.') {
                size_t frac = strspn(p + 1, "0123456789");
                digits += frac;
                p += 1 + frac;
        }
        if (!digits)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '-' || *p == '+')
                        p++;
                if (!*p)
                        return false;
                p += strspn(p, "0123456789");
        }
        return *p == '\0';
}

static int emit_scalar(yaml_emitter_t *e, const char *v, bool plain)
{
        yaml_event_t ev;
        yaml_scalar_style_t style = plain || !looks_typed(v) ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        sym_yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) v, (int) strlen(v), 1, 1, style);
        return sym_yaml_emitter_emit(e, &ev);
}

static int emit_node(yaml_emitter_t *e, const struct cnode *n)
{
        yaml_event_t ev;
        switch (n->kind) {
        case CNODE_NULL:
                return emit_scalar(e, "null", true);
        case CNODE_SCALAR:
                return emit_scalar(e, n->value, n->type != CSCALAR_STR);
        case CNODE_SEQ:
                sym_yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
                if (!sym_yaml_emitter_emit(e, &ev))
                        return 0;
                for (size_t i = 0; i < n->n; i++)
                        if (!emit_node(e, n->items[i]))
                                return 0;
                sym_yaml_sequence_end_event_initialize(&ev);
                return sym_yaml_emitter_emit(e, &ev);
        case CNODE_MAP:
                sym_yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                    n->n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
                if (!sym_yaml_emitter_emit(e, &ev))
                        return 0;
                for (size_t i = 0; i < n->n; i++)
                        if (!emit_scalar(e, n->keys[i], false) || !emit_node(e, n->items[i]))
                                return 0;
                sym_yaml_mapping_end_event_initialize(&ev);
                return sym_yaml_emitter_emit(e, &ev);
        }
        return 0;
}

static int write_strbuf(void *data, unsigned char *buffer, size_t size)
{
        strbuf_addn(data, (const char *) buffer, size);
        return 1;
}

char *compose_yaml_emit(const struct cnode *root, berth_error_t *err)
{
        yaml_emitter_t e;
        yaml_event_t ev;
        struct strbuf b = {};
        if (yaml_load(err) < 0)
                return NULL;
        if (!sym_yaml_emitter_initialize(&e)) {
                berth_error(err, ENOMEM, "YAML emitter");
                return NULL;
        }
        sym_yaml_emitter_set_output(&e, write_strbuf, &b);
        sym_yaml_emitter_set_unicode(&e, 1);
        sym_yaml_emitter_set_width(&e, -1);
        sym_yaml_emitter_set_indent(&e, 2);
        sym_yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
        bool ok = sym_yaml_emitter_emit(&e, &ev);
        if (ok) {
                sym_yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
                ok = sym_yaml_emitter_emit(&e, &ev) && emit_node(&e, root);
        }
        if (ok) {
                sym_yaml_document_end_event_initialize(&ev, 1);
                ok = sym_yaml_emitter_emit(&e, &ev);
        }
        if (ok) {
                sym_yaml_stream_end_event_initialize(&ev);
                ok = sym_yaml_emitter_emit(&e, &ev);
        }
        if (!ok) {
                berth_error(err, 0, "writing YAML: %s", e.problem ? e.problem : "emitter failed");
                sym_yaml_emitter_delete(&e);
                free(b.s);
                return NULL;
        }
        sym_yaml_emitter_delete(&e);
        return b.s ? strbuf_steal(&b) : xstrdup("");
}

static json_t *to_json(const struct cnode *n)
{
        switch (n->kind) {
        case CNODE_NULL:
                return json_null();
        case CNODE_SCALAR:
                switch (n->type) {
                case CSCALAR_INT:
                        return json_integer(strtoll(n->value, NULL, 10));
                case CSCALAR_FLOAT:
                        return json_real(strtod(n->value, NULL));
                case CSCALAR_BOOL:
                        return json_boolean(streq(n->value, "true"));
                case CSCALAR_STR:
                        break;
                }
                return json_string(n->value);
        case CNODE_SEQ: {
                json_t *a = json_array();
                for (size_t i = 0; i < n->n; i++)
                        json_array_append_new(a, to_json(n->items[i]));
                return a;
        }
        case CNODE_MAP: {
                json_t *o = json_object();
                for (size_t i = 0; i < n->n; i++)
                        json_object_set_new(o, n->keys[i], to_json(n->items[i]));
                return o;
        }
        }
        return json_null();
}

char *compose_json_emit(const struct cnode *root)
{
        json_t *j = to_json(root);
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        json_decref(j);
        return s;
}
