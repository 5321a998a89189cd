/* berth — images in the store: the index (ROOT/images.json) and what is
 * looked up in it (src/store/image.c).  Every image is an OCI manifest +
 * config + layers stored as blobs under ROOT/blobs (blob.h), its layers
 * unpacked (layer.h); its ID is the config digest, as in Docker.  References
 * are in image-ref.h, `import` in image-import.h. */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "berth/error.h"
#include "berth/store.h"

struct berth_image {
        char *id;              /* "sha256:HEX" of the config blob */
        char *manifest_digest; /* "sha256:HEX" of the manifest blob */
        json_t *config;        /* the OCI image config (owned) */
        char **tags;           /* full names pointing at it ("docker.io/library/busybox:latest") */
        char **layer_links;    /* per layer, bottom first: "l/SHORT" relative to store root */
        char **diff_ids;       /* per layer: "sha256:HEX" */
        long long created_ns;  /* config "created" */
        long long size;        /* sum of uncompressed layer sizes */
};
void image_free(struct berth_image *img);
/* overlayfs lowerdir= of the image: its l/ links, top layer first, relative
 * to the store root ("l/B:l/A"). */
char *image_lowerdir(const struct berth_image *img);
/* Go's GOARCH for this machine ("amd64"), as image configs name it. */
const char *image_go_arch(void);
static inline void image_freep(struct berth_image **p) { if (*p) image_free(*p); }
#define cleanup_image __attribute__((cleanup(image_freep)))

/* Find an image by name[:tag], name@digest, full or prefix ID ("sha256:"
 * optional).  Names are tried before ID prefixes, as Docker does.  A short
 * name not found is tried on s->default_registry too (see store.h and
 * image_ref_with_default_registry()), so `berth run busybox` finds what
 * `berth pull busybox` stored from there.  Not found returns -ENOENT with the
 * message "No such image: NAME" (busybox -> "busybox:latest"); an ambiguous
 * prefix is an error ("multiple IDs found with provided prefix").  Takes the
 * store lock shared unless the caller holds it. */
int image_lookup(struct berth_store *s, const char *ref, struct berth_image **out, berth_error_t *err);
/* All images, each once (one per ID; tags merged), newest first. */
int image_list(struct berth_store *s, struct berth_image ***out, size_t *n, berth_error_t *err);
void image_list_free(struct berth_image **v, size_t n);

/* Point name (any form image_ref_parse accepts but a digest) at the image;
 * the image it pointed at before keeps its other tags or becomes <none>. */
int image_tag(struct berth_store *s, const char *image, const char *name, berth_error_t *err);
/* An event (event.h) of type image: actor id (an image ID, or for pull and
 * push the reference), attribute name= (a familiar reference; id if NULL).
 * tag, untag and delete are emitted by the store; pull, push, load, save and
 * import by their callers. */
void image_event(const char *action, const char *id, const char *name);

/* `rmi`: a reference that is one of several tags only untags ("Untagged: X");
 * an ID or the last tag deletes the image ("Deleted: sha256:..."), and its
 * blobs and layers no other image uses.  in_use is called with the image ID
 * (under the exclusive store lock) and may set *container_id (malloc'ed) to
 * the container using it; when it returns true and force is false, rmi
 * refuses with Docker's message ("conflict: unable to remove repository
 * reference ..."); with force the tags are removed but the image and its
 * layers stay (as <none>) because the container still needs them.  An ID of an
 * image tagged in several repositories needs force too.  report gets each
 * output line ("Untagged: busybox:latest", "Deleted: sha256:..."); in_use and
 * report may be NULL.  in_use answers 1, 0, or -1 with *err set when it
 * cannot tell: then nothing is removed, force or not. */
typedef int (*image_in_use_fn)(const char *image_id, char **container_id, void *userdata, berth_error_t *err);
int image_remove(struct berth_store *s, const char *ref, bool force, image_in_use_fn in_use,
                 void *userdata, void (*report)(const char *line, void *userdata), berth_error_t *err);

/* Register an image whose manifest, config and layer blobs are stored and
 * whose layers are unpacked (checked under the exclusive store lock), and
 * point names (NULL-terminated, may be NULL) at it.  *id_out may be NULL. */
int image_add(struct berth_store *s, const char *manifest_digest, char *const *names, char **id_out,
              berth_error_t *err);

/* The blobs (manifests, configs, layer blobs) and layer diff IDs that the
 * image index references, appended to *blobs and *diffs (`system check`
 * reports or removes the rest).  Read only; the caller holds the lock. */
int image_referenced_content(struct berth_store *s, char ***blobs, char ***diffs, berth_error_t *err);

#endif
