/* berth — `berth build`: runs a Dockerfile (dockerfile.h) against the store.
 *
 * Each stage starts from a local image (or scratch, or an earlier stage).
 * Metadata instructions change the image config only (WORKDIR also makes
 * its directory, in a layer, when the image lacks it).  RUN runs in a
 * container of the current image, a transient unit like any berth container,
 * with the stage's environment, working dir, user and shell; its upper dir
 * becomes the step's layer (as `commit` makes one) and the container is
 * removed.  COPY/ADD write into an overlay of the current image in a child
 * process of their own mount namespace; the upper dir becomes the layer.
 *
 * Cache: every layer step and every stage's final image is remembered in
 * ROOT/build-cache/index.json (written atomically under
 * ROOT/build-cache/lock) under a key chained from the base image ID, each
 * instruction's text, the build args in scope and, for COPY/ADD, a hash of
 * the copied files' content, modes and ownership (not mtimes).  A hit whose
 * image still exists is used as is. */
#ifndef BERTH_BUILD_H
#define BERTH_BUILD_H

#include <stdbool.h>
#include <stdio.h>

#include "berth/error.h"
#include "berth/store.h"

struct build_opts {
        const char *context;    /* directory */
        const char *dockerfile; /* path; NULL: CONTEXT/Dockerfile */
        char **tags;            /* -t (may be NULL) */
        const char *target;     /* --target or NULL */
        bool no_cache, quiet;
        bool pull;              /* --pull: pull each FROM image even when it is here */
        char **build_args; /* "K=V" */
        char **labels;     /* "K=V" */
        const char *network; /* "host" (default) or "none" */
        FILE *out;           /* progress; NULL: stdout */
};

/* Build; *id_out gets "sha256:HEX" of the image.  Progress goes to o->out (stdout)
 * (nothing with quiet).  A failing RUN is an error with exit code 1 naming
 * the step and the command's exit status; nothing is tagged then. */
/* self: the berth binary, which the units of RUN steps run (as `run`'s). */
int build_run(struct berth_store *store, const char *self, const struct build_opts *o, char **id_out,
              berth_error_t *err);

#endif
