/* berth — the private half of the `--format` engine (include/berth/template.h
 * is the public one), shared by its three files and included by nothing else:
 *
 *   src/base/template-parse.c  the source cut into text and action items (trim
 *                              markers applied, each action lexed into tokens),
 *                              the items parsed into the tree below;
 *   src/base/template-exec.c   the tree executed over a jansson value, and how
 *                              Go prints and tests the decoded JSON values;
 *   src/base/template-funcs.c  the builtin functions (json, join, upper, index,
 *                              eq, printf, ...) and their table.
 *
 * Every value the executor and the functions handle is a json_t reference
 * they own (json_incref/json_decref).  Positions (pos, len) are byte offsets
 * into the template's source, for the errors that quote it. */
#ifndef BERTH_TEMPLATE_INTERNAL_H
#define BERTH_TEMPLATE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/template.h"
#include "berth/util.h"

/* ---- the tree: built by template-parse.c, walked by template-exec.c ---------- */

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
        char *text; /* TEXT */
        size_t tlen;
        struct pipe *pipe;
        struct list list, else_list;
};

struct template {
        char *src;
        struct list root;
};

/* The line (1-based) of pos in src, for "template: :LINE: ..." errors. */
unsigned template_line_of(const char *src, size_t pos);

/* ---- values (template-exec.c) ------------------------------------------------- */

/* Go's name of the type of a decoded JSON value, for errors. */
const char *template_go_type(const json_t *v);
/* fmt.Print of an interface{} holding decoded JSON; top = an action's value. */
void template_print_value(struct strbuf *b, json_t *v, bool top);
/* template_print_value() into a new string. */
char *template_value_string(json_t *v);
/* Go's truth of a value, for if, with, and, or, not. */
bool template_truth(json_t *v);

/* ---- execution (template-exec.c) ---------------------------------------------- */

struct exec;

/* "template: :LINE:COL: executing "" at <SOURCE>: message" about the source
 * at pos, len; returns what berth_error() returns. */
int template_exec_error(struct exec *ex, size_t pos, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- the builtin functions (template-funcs.c) --------------------------------- */

/* What a function knows of its call, for its errors. */
struct fn_ctx {
        struct exec *ex;
        const struct cmd *cmd;
        const char *name;
};

/* args[0..n-1] are the evaluated arguments, borrowed; *out gets a new
 * reference.  Returns < 0 after an error (fn_error()). */
typedef int (*fn_t)(struct fn_ctx *c, json_t **args, size_t n, json_t **out);

struct template_func {
        const char *name;
        fn_t fn;
        size_t min, max; /* argument counts */
};

/* The builtin function called name, or NULL. */
const struct template_func *template_func_find(const char *name);

#endif
