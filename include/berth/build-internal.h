/* berth — the private half of `berth build` (include/berth/build.h is the
 * public one), shared by the files of src/build/ and included by nothing
 * else.  The executor is split by step kind:
 *   build.c             stages, steps in order, state changes, ARG and the
 *                       metadata instructions (dockerfile/instructions.c),
 *                       tagging;
 *   build-cache.c       the cache index, ROOT/build-cache/index.json;
 *   build-run.c         RUN: a container of the stage's image through the
 *                       container layer; its upper dir becomes the layer;
 *   build-copy.c        COPY/ADD: sources, their content hash, URLs, the step;
 *   build-copy-child.c  the copy itself, in a child with the image mounted. */
#ifndef BERTH_BUILD_INTERNAL_H
#define BERTH_BUILD_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "berth/build.h"
#include "berth/dockerfile.h"
#include "berth/image.h"

struct stage_state {
        json_t *config;           /* the image config being built */
        struct berth_image *img;  /* registered image with the current layers, NULL: none (scratch) */
        char *key;                /* cache key of the state */
        bool dirty;               /* config differs from img's */
        bool cmd_set;             /* CMD given in this stage (ENTRYPOINT then keeps it) */
        bool rebuilt;             /* a step of this stage did work */
        char **args;              /* ARGs in scope with a value, "K=V" */
};

struct build {
        struct berth_store *store;
        const char *self; /* the berth binary, for the units of RUN steps */
        const struct build_opts *o;
        struct dockerfile *df;
        const char *dfname;
        struct df_stage *stages;
        size_t nstages;
        char **meta;
        char **consumed;      /* build args some ARG declared */
        char **stage_ids;     /* final image of each built stage */
        struct dockerignore *ignore;
        sd_bus *bus;
        size_t step, nsteps;
        FILE *out;
};

struct copy_job {
        int src_root;           /* the context, or the --from image's root */
        char **srcs;            /* relative to src_root */
        char **from_patterns;   /* --from: patterns expanded in the child */
        const char *dest;       /* absolute, in the image */
        bool from_context;      /* owner 0:0 unless --chown; .dockerignore applies */
        bool add;               /* ADD: local tar archives are extracted */
        const char *chown;      /* --chown or NULL */
        uid_t uid;
        gid_t gid;
        long chmod;             /* --chmod, or -1 */
        const struct dockerignore *ignore;
        const char *mkdir_only; /* WORKDIR: make this directory if it is missing, nothing else */
};

/* build.c */
void build_printf(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *build_key_next(const char *prev, const char *text, char *const *args, const char *extra);
json_t *build_cfg(struct stage_state *st);
char *build_strv_join(char *const *v, const char *sep);
char **build_stage_env(struct stage_state *st);
int build_insn_error(struct build *b, const struct df_insn *in, berth_error_t *err);
int build_expand(struct build *b, struct stage_state *st, const struct df_insn *in, const char *word, char **out,
        berth_error_t *err);
char **build_command_of(struct stage_state *st, const struct df_insn *in);
struct berth_image *build_scratch_image(void);
bool build_cache_hit(struct build *b, struct stage_state *st, char *key);
int build_state_commit_done(struct build *b, struct stage_state *st, char *key, const char *id, berth_error_t *err);

/* build-cache.c; a step that made no layer (ARG, metadata) is cached as: */
#define CACHE_NO_LAYER "none"
char *build_cache_lookup(struct build *b, const char *key);
struct berth_image *build_cache_get(struct build *b, const char *key);
int build_cache_put(struct build *b, const char *key, const char *id, berth_error_t *err);

/* build-run.c */
int build_step_run(struct build *b, struct stage_state *st, const struct df_insn *in, berth_error_t *err);

/* build-copy.c */
int build_sources_expand(int root, char *const *patterns, const struct dockerignore *ign, const char *what,
        char ***out, berth_error_t *err);
int build_download(const char *url, const char *dir, char **rel_out, berth_error_t *err);
int build_commit_staged_layer(struct build *b, struct stage_state *st, const struct df_insn *in,
        struct berth_image *base, const char *dir, char *key, berth_error_t *err);
int build_step_copy(struct build *b, struct stage_state *st, size_t stage_idx, const struct df_insn *in,
        berth_error_t *err);

/* build-copy-child.c */
int build_copy_run(struct build *b, struct copy_job *j, struct berth_image *img, struct berth_image *from_img,
        const char *context, const char *dir, berth_error_t *err);

#endif
