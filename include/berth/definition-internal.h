/* berth — the private half of definition files (include/berth/definition.h
 * is the public one), shared by their files and included by nothing else:
 *
 *   definition-syntax.c  systemd's INI syntax: lines, comments,
 *                        continuations, sections, quoting and C escapes,
 *                        %-specifiers;
 *   definition.c         the [Container] key table, [Install], the struct
 *                        definition they fill, and the container spec made
 *                        from it;
 *   definition-resource.c  the [Volume], [Network], [Image] and [Build]
 *                        keys, and the units that create them;
 *   definition-path.c    the search path, drop-ins, templates, and container IDs;
 *   definition-dropin.c  the drop-in and [Install] links the generator and
 *                        `berth generate` write. */
#ifndef BERTH_DEFINITION_INTERNAL_H
#define BERTH_DEFINITION_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "berth/definition.h"
#include "berth/error.h"

enum section {
        SECTION_NONE,
        SECTION_UNIT,
        SECTION_CONTAINER,
        SECTION_VOLUME,
        SECTION_NETWORK,
        SECTION_IMAGE,
        SECTION_BUILD,
        SECTION_SERVICE,
        SECTION_INSTALL,
        SECTION_IGNORED,
};

/* The assignments of one [Container] key so far. */
struct key_state {
        char **values;
        unsigned line; /* of the last assignment, for errors found at the end */
};

/* One file being read (definition_load()). */
struct parser {
        const char *path; /* of the file being read (the definition, or a drop-in) */
        char *dir; /* of the definition file: relative paths are relative to it */
        struct definition *d;
        enum section section;
        bool template;          /* reading a template itself (web@.container, %i empty) */
        struct key_state *keys; /* one per container_keys[] row */
        struct key_state *res_keys; /* [Volume]/[Network]/[Image]/[Build]: one per
                                       resource_keys[] row (definition-resource.c) */
};

/* ---- the syntax (definition-syntax.c) ---------------------------------------------- */

/* systemd's parse_boolean(); out may be NULL (only a check). */
int def_parse_bool(const char *v, bool *out, berth_error_t *err);
/* Split a value into words as systemd's extract_first_word() with
 * EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE (Environment=, ExecStart=). */
int def_split_words(const char *value, char ***out, berth_error_t *err);
/* Read text (modified in place) into p: each assignment, specifiers
 * expanded, goes to its section; errors get "PATH:LINE: " before them. */
int def_parse_text(struct parser *p, char *text, berth_error_t *err);

/* ---- the keys (definition.c) ------------------------------------------------------- */

/* One assignment in [Container] (value "" resets the key), checked now. */
int def_assign_container(struct parser *p, const char *key, const char *value, unsigned line, berth_error_t *err);
/* Check one assignment in [Install] (DefaultInstance= goes into the definition). */
int def_assign_install(struct parser *p, const char *key, const char *value, berth_error_t *err);
/* The [Install] keys a definition may link by: WantedBy, RequiredBy, UpheldBy. */
extern const char *const def_install_keys[3];
/* The container keys into the definition, once every file is read. */
int def_container_finish(struct parser *p, berth_error_t *err);

/* ---- .volume, .network, .image, .build (definition-resource.c) --------------------- */

/* One assignment in [Volume], [Network], [Image] or [Build] (value "" resets the key). */
int def_assign_resource(struct parser *p, const char *key, const char *value, berth_error_t *err);
/* The key states a parser needs for them, and their release. */
struct key_state *def_resource_keys_new(void);
void def_resource_keys_free(struct key_state *keys);
/* The name and create_args, once every file is read. */
int def_resource_finish(struct parser *p, berth_error_t *err);
/* The unit file text of a volume or network definition. */
char *def_resource_unit(const struct definition *d);

/* ---- files (definition-path.c) ---------------------------------------------------- */

/* The search path of uid's definitions: root's BERTH_DEFINITION_DIRS, or a
 * user's CONFIG_DIR/containers, RUNTIME_DIR/containers (unless NULL),
 * SYSTEM_DIR/users/UID and SYSTEM_DIR/users (BERTH_DEFINITION_SYSTEM_DIR). */
char **def_search_path(uid_t uid, const char *config_dir, const char *runtime_dir, const char *system_dir);
/* The drop-ins of a definition, in the order they apply (definition_load()). */
char **def_dropin_paths(const char *name, enum definition_kind kind);
/* ---- what the units say (definition-dropin.c) -------------------------------------- */

/* After= and Wants= of the network: root's network-online.target, a user's
 * DEFINITION_USER_WAIT_ONLINE. */
void def_put_network_wait(FILE *f, const struct definition *d);
/* The comment lines a generated file starts with: where it comes from (the
 * file and its drop-ins), how to apply a change, the man page berth.PAGE(5). */
void def_put_header(FILE *f, const struct definition *d, const char *page);
/* The store the definition's units use (RequiresMountsFor=): root's, or
 * the user's own; '%' doubled. */
char *def_store_dir(const struct definition *d);
/* Double every '%' so systemd reads the text literally. */
char *def_escape_specifiers(const char *s);

#endif
