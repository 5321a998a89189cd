/* berth — what the files of src/compose/ share (and their unit tests and
 * fuzzer): the YAML tree a compose file is read into (compose-yaml.c),
 * interpolation (compose-interp.c), the per-file normalisation and the merge
 * of several files (compose-merge.c), the model built from the merged tree
 * (compose.c, compose-service.c) and the tree the model is printed from
 * (compose-emit.c). */
#ifndef BERTH_COMPOSE_INTERNAL_H
#define BERTH_COMPOSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/compose.h"
#include "berth/error.h"

enum cnode_kind { CNODE_NULL, CNODE_SCALAR, CNODE_MAP, CNODE_SEQ };

/* What an output scalar is, so YAML quotes a string that reads as a number
 * and JSON writes the right type.  Read trees use CSCALAR_STR only. */
enum cscalar_type { CSCALAR_STR, CSCALAR_INT, CSCALAR_FLOAT, CSCALAR_BOOL };

/* One YAML node, with where it was written. */
struct cnode {
        enum cnode_kind kind;
        enum cscalar_type type;
        char *value;   /* SCALAR: the text */
        bool quoted;   /* SCALAR: was quoted, so never null/bool/number */
        bool reset;    /* tagged !reset: the merge clears what it overrides */
        bool override; /* tagged !override: the merge replaces, not merges */
        char *file;    /* the file's name as the user gave it */
        unsigned line; /* 1-based */
        size_t n;
        char **keys;          /* MAP: n keys */
        struct cnode **items; /* MAP: n values; SEQ: n items */
};

struct cnode *cnode_new(enum cnode_kind kind, const char *file, unsigned line);
struct cnode *cnode_scalar(const char *value, enum cscalar_type type, const char *file, unsigned line);
void cnode_free(struct cnode *n);
static inline void cnode_freep(struct cnode **n) { cnode_free(*n); }
#define cleanup_cnode __attribute__((cleanup(cnode_freep)))
struct cnode *cnode_copy(const struct cnode *n);
/* MAP: the value of key, or NULL. */
struct cnode *cnode_get(const struct cnode *map, const char *key);
/* MAP: add (taking value) or replace key's value. */
void cnode_set(struct cnode *map, const char *key, struct cnode *value);
/* SEQ: append (taking item). */
void cnode_push(struct cnode *seq, struct cnode *item);
/* The error "FILE:LINE: MESSAGE" at node n (always -1). */
int cnode_error(berth_error_t *err, const struct cnode *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Parse YAML text (its first document) into a tree; name is the file's
 * name for errors ("compose.yaml:3: ..."); anchors, aliases and the "<<"
 * merge key are resolved.  An empty document is an empty mapping. */
int compose_yaml_parse(const char *text, size_t len, const char *name, struct cnode **out, berth_error_t *err);
/* Write a tree as YAML (libyaml's emitter) or JSON (indented as Docker). */
char *compose_yaml_emit(const struct cnode *root, berth_error_t *err);
char *compose_json_emit(const struct cnode *root);

/* Interpolate s with the variables of env ("K=V" strings): $VAR, ${VAR},
 * ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}, $$.  An
 * unset variable without a default is "" and a warning. at is where the
 * value was written, for errors. */
int compose_interpolate(const char *s, char *const *env, const struct cnode *at, char **out, berth_error_t *err);
/* Interpolate every scalar value (not keys) of a tree, in place. */
int compose_interpolate_tree(struct cnode *n, char *const *env, berth_error_t *err);
/* Read a .env file (KEY=VALUE, quotes, comments, "export ") into *vars
 * ("K=V" strings set); a line naming a key alone is skipped.  Values but
 * single-quoted ones are interpolated from the variables read before them,
 * then env's (NULL: not interpolated). */
int compose_dotenv_read(const char *path, const char *name, char *const *env, char ***vars, berth_error_t *err);

/* Bring one file's tree to the shapes the merge and the model expect: the
 * short syntaxes of ports, volumes, secrets, depends_on, networks, build,
 * env_file, and lists of KEY=VALUE (environment, labels, build args) as
 * mappings. */
int compose_normalize(struct cnode *root, berth_error_t *err);
/* Merge over into base (both normalised) by the compose spec's rules. */
void compose_merge(struct cnode *base, struct cnode *over);

/* The model's parts (compose-service.c). */
int compose_service_parse(struct compose_project *p, const char *name, const struct cnode *n,
                          struct compose_service *s, berth_error_t *err);
void compose_service_clear(struct compose_service *s);
struct cnode *compose_service_tree(const struct compose_project *p, const struct compose_service *s);

/* Scalars as values. */
int cnode_str(const struct cnode *n, const char *what, char **out, berth_error_t *err);
int cnode_bool(const struct cnode *n, const char *what, bool *out, berth_error_t *err);
int cnode_int(const struct cnode *n, const char *what, long long min, long long max, long long *out,
              berth_error_t *err);
/* A list of strings (a scalar is a list of one when one_ok). */
int cnode_strv(const struct cnode *n, const char *what, bool one_ok, char ***out, berth_error_t *err);
bool cnode_is_null(const struct cnode *n);

#endif
