/* berth — Dockerfile metadata instructions applied to an image config: the
 * one implementation behind `berth build` and `commit -c` / `import -c`.
 *
 * Docker applies a `--change` value with its builder's own dispatchers
 * (BuildFromConfig), so berth does too, and both paths mean the same:
 *  - the text is read by the Dockerfile parser (dockerfile.h);
 *  - words are expanded as the builder expands them (df_expand()) with the
 *    variables the caller passes: a build stage's ARGs and ENV, or for a
 *    change the config's own Env (Docker: the container's);
 *  - WORKDIR: a relative path is joined to the previous WorkingDir and the
 *    result cleaned as Go's filepath.Join("/", old, new) does ("/a" then
 *    "b/../c" -> "/a/c");
 *  - HEALTHCHECK NONE, or [--interval= --timeout= --start-period=
 *    --start-interval= --retries=] CMD ...: durations in nanoseconds,
 *    options not given are left out (inherited);
 *  - the shell form of CMD and ENTRYPOINT runs under the config's Shell
 *    (["/bin/sh", "-c"] when unset);
 *  - ENTRYPOINT resets Cmd unless CMD came earlier (scope->cmd_set).
 * CMD, ENTRYPOINT, MAINTAINER, ONBUILD, SHELL and HEALTHCHECK are not
 * expanded, as in Docker.  ARG is the builder's business, not the config's;
 * FROM, RUN, COPY and ADD are not metadata. */
#ifndef BERTH_INSTRUCTIONS_H
#define BERTH_INSTRUCTIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/dockerfile.h"
#include "berth/error.h"

struct instruction_scope {
        char *const *env; /* variables for $VAR ("K=V", the last of a key wins); NULL: none */
        char escape;      /* the Dockerfile's escape character; 0: '\\' */
        bool cmd_set;     /* CMD was given before: ENTRYPOINT keeps Cmd.  CMD sets it. */
};

/* Apply the metadata instruction in to image, an OCI image config: its
 * "config" object (created when missing) gets Cmd, Env, WorkingDir...;
 * MAINTAINER sets "author".  Errors carry no file or line: the caller adds
 * them. */
int instruction_apply(json_t *image, const struct df_insn *in, struct instruction_scope *scope,
                      berth_error_t *err);

/* The `commit -c` / `import -c` values ("CMD [\"sh\"]", "ENV A=$B",
 * "HEALTHCHECK --interval=5s CMD true"), in order, applied to an image
 * config's "config" object.  Accepted: CMD, ENTRYPOINT, ENV, EXPOSE,
 * HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR (Docker's
 * list plus HEALTHCHECK and STOPSIGNAL); others are "X is not a valid change
 * command".  The list is one builder scope, as Docker's: `$VAR` sees the ENVs
 * of earlier values, and ENTRYPOINT clears Cmd unless a CMD came earlier in
 * the list. */
int image_config_apply_changes(json_t *config, char *const *changes, berth_error_t *err);

#endif
