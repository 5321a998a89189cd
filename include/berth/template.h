/* berth — Docker's `--format`: a Go text/template subset over jansson values.
 *
 * Supported: literal text; actions {{pipeline}} with {{- and -}} whitespace
 * trimming, comments ({{ slash-star ... star-slash }}); field chains .A.B on objects, "." and
 * "$" (the root); variables ({{$x := .A}}, {{range $i, $v := .L}});
 * pipelines with "|"; parentheses; string ("..", `..`), number, true, false
 * and nil literals; {{if}} {{else if}} {{else}} {{end}}, {{range}} (arrays,
 * and objects in sorted key order, with {{else}}), {{with}} ({{else with}}).
 * Functions: Docker's json split join title lower upper pad truncate, and Go's
 * index len eq ne lt le gt ge not and or print println printf (%s %v %d %q
 * %%).  Values print as Go prints the decoded JSON: strings raw, integers
 * without decimals, floats in Go's %v form, true/false, null as "<no value>",
 * arrays as "[a b]", objects as "map[k:v]".  A missing key is an error as in
 * Go's templates over structs:
 *   template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"
 * while `index` of a missing key yields Go's zero value: "" when the object's
 * values are all strings (Labels, as Docker's map[string]string), else nil.
 * upper/lower/title change ASCII letters only.
 *
 * Table formats (Docker's `--format 'table {{.ID}}\t{{.Names}}'`) are the
 * CLI's job: template_is_table() tells, template_preformat() strips the
 * "table" prefix and turns the two-character escapes \t and \n into real tab
 * and newline as Docker's formatter does; the CLI renders the header by
 * executing the same template over an object mapping each field to its header
 * text ({"ID": "CONTAINER ID", ...}), then aligns the tab-separated cells.
 *
 * The engine: src/base/template-parse.c (lexer and parser), template-exec.c
 * (the executor), template-funcs.c (the functions), template-internal.h. */
#ifndef BERTH_TEMPLATE_H
#define BERTH_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/error.h"

struct template;

/* Compile once, execute for each row.  tmpl "json" means "{{json .}}". */
int template_parse(const char *tmpl, struct template **out, berth_error_t *err);
/* *out is malloc'd, NUL-terminated, without any newline added. */
int template_execute(const struct template *t, json_t *obj, char **out, berth_error_t *err);
void template_free(struct template *t);
static inline void template_freep(struct template **t) { template_free(*t); }
#define cleanup_template __attribute__((cleanup(template_freep)))

/* template_parse + template_execute + template_free. */
int template_render(const char *tmpl, json_t *obj, char **out, berth_error_t *err);

/* Docker: a format that starts with "table" prints a header and columns. */
bool template_is_table(const char *format);
/* Docker's formatter preFormat: without the "table" prefix, trimmed of
 * spaces, with \t and \n escapes replaced (malloc'd).  For list commands
 * (ps, images, ...); `inspect --format` uses the format as is. */
char *template_preformat(const char *format);

#endif
