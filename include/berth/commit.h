/* berth — new images from a container's changes: `commit`, and the layer
 * steps of `berth build`.  The changes (diff.h) become an uncompressed OCI
 * layer on top of the image; a failed commit removes what it added.
 * (src/container/commit.c) */
#ifndef BERTH_COMMIT_H
#define BERTH_COMMIT_H

#include <jansson.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/image.h"
#include "berth/store.h"

/* `commit`: the container's changes become a layer on top of its image;
 * the new config is the container's (Cmd, Env, ...) with changes applied
 * (Dockerfile lines), a history entry (author, comment) and the diff_id.
 * ref (REPO[:TAG]) may be NULL.  *id_out gets "sha256:HEX". */
struct commit_opts {
        const char *ref;
        const char *author;
        const char *message;
        char *const *changes;
};
int container_commit(struct berth_store *s, struct berth_container *c, const struct commit_opts *o, char **id_out,
                     berth_error_t *err);

/* For builders (berth build): a new untagged image on top of img.
 * image_commit_changes(): the changes in c->dir/upper as a new layer; config
 * is the complete new image config before that layer (copied), to which the
 * layer's diff_id and history_entry are added.  c need not be a registered
 * container (its config may be an empty object).  image_commit_config(): the
 * same layers as img with a new config.  img->manifest_digest may be NULL
 * (an image with no layers, FROM scratch).  *id_out gets "sha256:HEX". */
int image_commit_changes(struct berth_store *s, struct berth_container *c, struct berth_image *img, json_t *config,
                         json_t *history_entry, char **id_out, berth_error_t *err);
int image_commit_config(struct berth_store *s, struct berth_image *img, json_t *config, char **id_out,
                        berth_error_t *err);

#endif
