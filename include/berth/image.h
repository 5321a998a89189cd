/* berth — images: references, the OCI content store (blobs, layers, tags) and
 * rootfs import.  Every image is an OCI manifest + config + layers stored as
 * blobs under ROOT/blobs; its ID is the config digest, as in Docker. */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/error.h"
#include "berth/store.h"

/* ---- references ---------------------------------------------------------
 * "busybox" -> docker.io/library/busybox:latest, "localhost:5000/a/b:v1",
 * "name@sha256:HEX".  Parsing follows Docker's reference grammar. */
struct image_ref {
        char *domain; /* "docker.io" */
        char *path;   /* "library/busybox" */
        char *tag;    /* "latest" (NULL when digest is set and no tag given) */
        char *digest; /* "sha256:HEX" or NULL */
};
int image_ref_parse(const char *s, struct image_ref *out, berth_error_t *err);
void image_ref_free(struct image_ref *r);
/* "docker.io/library/busybox:latest" */
char *image_ref_full(const struct image_ref *r);
/* Docker's familiar form: "busybox:latest", "localhost:5000/a/b:v1" */
char *image_ref_familiar(const struct image_ref *r);
/* Repository part only in familiar form: "busybox" */
char *image_ref_familiar_repo(const struct image_ref *r);

/* ---- images in the store ------------------------------------------------- */
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
static inline void image_freep(struct berth_image **p) { if (*p) image_free(*p); }
#define cleanup_image __attribute__((cleanup(image_freep)))

/* Find an image by name[:tag], name@digest, full or prefix ID ("sha256:" optional).
 * Not found is an error with the message Docker prints:
 * "Unable to find image 'NAME' locally" / "No such image: NAME". */
int image_lookup(struct berth_store *s, const char *ref, struct berth_image **out, berth_error_t *err);
/* All images, each once, newest first. */
int image_list(struct berth_store *s, struct berth_image ***out, size_t *n, berth_error_t *err);
void image_list_free(struct berth_image **v, size_t n);

/* Import a rootfs tarball (plain, gzip, xz, zstd, bzip2) read from fd as a
 * one-layer image.  ref may be NULL (untagged).  changes are Dockerfile lines
 * as in `docker import -c` ("CMD [\"sh\"]", "ENV A=b", "WORKDIR /x",
 * "ENTRYPOINT ...", "USER ...", "EXPOSE ...", "LABEL k=v"); message becomes the
 * history comment.  *id_out receives "sha256:HEX" of the new image. */
int image_import(struct berth_store *s, int fd, const char *ref, char *const *changes,
                 const char *message, char **id_out, berth_error_t *err);

/* Point name (any form image_ref_parse accepts) at the image. */
int image_tag(struct berth_store *s, const char *image, const char *name, berth_error_t *err);

/* `rmi`: a reference that is one of several tags only untags ("Untagged: X");
 * an ID or the last tag deletes the image ("Deleted: sha256:..."), and its
 * blobs and layers no other image uses.  in_use is called with the image ID;
 * when it returns true and force is false, rmi refuses with Docker's message. */
typedef bool (*image_in_use_fn)(const char *image_id, void *userdata);
int image_remove(struct berth_store *s, const char *ref, bool force, image_in_use_fn in_use,
                 void *userdata, void (*report)(const char *line, void *userdata), berth_error_t *err);

/* Low level, shared with load/pull/commit: store a blob from a file
 * (verifying the digest when expect is not NULL) and unpack a layer tar
 * (compressed or not) into ROOT/layers/DIFFID, honouring whiteouts, hard links,
 * xattrs, file capabilities, ownership and mtimes, refusing entries that
 * escape the layer directory.  Both are atomic and idempotent. */
int store_blob_put_file(struct berth_store *s, const char *path, const char *expect, char **digest_out,
                        berth_error_t *err);
int store_blob_path(struct berth_store *s, const char *digest, char **path_out, berth_error_t *err);
int store_layer_unpack(struct berth_store *s, const char *blob_path, char **diff_id_out, long long *size_out,
                       berth_error_t *err);

#endif
