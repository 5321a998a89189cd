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
/* What a name that leaves out its registry ("busybox", "team/app:1") stands
 * for when short names come from registry (host[:port]) instead of Docker
 * Hub: "reg:5000/busybox:latest", "reg:5000/team/app:1".  NULL when registry
 * is NULL or docker.io, or s names its registry or is no reference.  The
 * result is not checked: parse it. */
char *image_ref_with_default_registry(const char *s, const char *registry);

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
/* overlayfs lowerdir= of the image: its l/ links, top layer first, relative
 * to the store root ("l/B:l/A"). */
char *image_lowerdir(const struct berth_image *img);
/* Go's GOARCH for this machine ("amd64"), as image configs name it. */
const char *image_go_arch(void);
static inline void image_freep(struct berth_image **p) { if (*p) image_free(*p); }
#define cleanup_image __attribute__((cleanup(image_freep)))

/* Find an image by name[:tag], name@digest, full or prefix ID ("sha256:" optional).
 * Names are tried before ID prefixes, as Docker does.  A short name not found
 * is tried on s->default_registry too (image_ref_with_default_registry()), so
 * `berth run busybox` finds what `berth pull busybox` stored from there.  Not
 * found returns -ENOENT with the message "No such image: NAME" (busybox ->
 * "busybox:latest"); an ambiguous prefix is an error ("multiple IDs found with
 * provided prefix").  Takes the store lock shared unless the caller holds it. */
int image_lookup(struct berth_store *s, const char *ref, struct berth_image **out, berth_error_t *err);
/* All images, each once (one per ID; tags merged), newest first. */
int image_list(struct berth_store *s, struct berth_image ***out, size_t *n, berth_error_t *err);
void image_list_free(struct berth_image **v, size_t n);

/* Import a rootfs tarball (plain, gzip, xz, zstd, bzip2) read from fd as a
 * one-layer image.  ref may be NULL (untagged).  changes are Dockerfile lines
 * as in `docker import -c` ("CMD [\"sh\"]", "ENV A=b", "WORKDIR /x",
 * "ENTRYPOINT ...", "USER ...", "EXPOSE ...", "LABEL k=v"); message becomes the
 * history comment.  *id_out receives "sha256:HEX" of the new image. */
int image_import(struct berth_store *s, int fd, const char *ref, char *const *changes,
                 const char *message, char **id_out, berth_error_t *err);

/* Point name (any form image_ref_parse accepts but a digest) at the image;
 * the image it pointed at before keeps its other tags or becomes <none>. */
int image_tag(struct berth_store *s, const char *image, const char *name, berth_error_t *err);

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

/* Low level, shared with load/pull/commit: store a blob from a file
 * (verifying the digest when expect is not NULL) and unpack a layer tar
 * (compressed or not) into ROOT/layers/DIFFID, honouring whiteouts, hard links,
 * xattrs, file capabilities, ownership and mtimes, refusing entries that
 * escape the layer directory.  Both are atomic and idempotent.
 * store_layer_unpack() extracts with the staging dir as the working directory
 * (restored before it returns): not for use from several threads at once. */
int store_blob_put_file(struct berth_store *s, const char *path, const char *expect, char **digest_out,
                        berth_error_t *err);
int store_blob_path(struct berth_store *s, const char *digest, char **path_out, berth_error_t *err);
int store_layer_unpack(struct berth_store *s, const char *blob_path, char **diff_id_out, long long *size_out,
                       berth_error_t *err);

/* ---- additions for import/load/pull/commit ---------------------------------
 * Digests are "sha256:" + 64 lower-case hex. */
bool image_digest_valid(const char *digest);
/* Store a blob from memory (JSON configs and manifests). */
int store_blob_put_data(struct berth_store *s, const void *data, size_t len, char **digest_out, berth_error_t *err);
/* Streaming blob writer (pull, load): bytes go to a locked staging file under
 * ROOT/tmp while hashed; commit verifies the digest (when expect is not NULL)
 * and renames the file to ROOT/blobs/sha256/HEX (atomic, idempotent).
 * store_blob_writer_free() without commit discards the staging file.  The
 * staging path can be read (e.g. unpacked) before commit. */
struct blob_writer;
int store_blob_writer_open(struct berth_store *s, struct blob_writer **out, berth_error_t *err);
int store_blob_writer_write(struct blob_writer *w, const void *buf, size_t len, berth_error_t *err);
const char *store_blob_writer_path(const struct blob_writer *w);
long long store_blob_writer_size(const struct blob_writer *w);
int store_blob_writer_commit(struct blob_writer *w, const char *expect, char **digest_out, berth_error_t *err);
void store_blob_writer_free(struct blob_writer *w);
static inline void store_blob_writer_freep(struct blob_writer **w) { if (*w) store_blob_writer_free(*w); }
#define cleanup_blob_writer __attribute__((cleanup(store_blob_writer_freep)))
/* Read a whole blob (verified against its digest) into memory, NUL-terminated. */
int store_blob_read(struct berth_store *s, const char *digest, char **data, size_t *len, berth_error_t *err);
bool store_blob_exists(struct berth_store *s, const char *digest);
/* sha256 of a buffer as "sha256:HEX" (malloc'ed). */
char *digest_of_data(const void *data, size_t len);

/* store_layer_unpack() that also checks the diff_id (expect may be NULL) and
 * returns at once when that layer is already unpacked. */
int store_layer_unpack_expect(struct berth_store *s, const char *blob_path, const char *expect_diff_id,
                              char **diff_id_out, long long *size_out, berth_error_t *err);
/* The same, calling progress->fn about every MB of the layer with the bytes
 * of the blob read so far and the blob's size (for progress bars). */
struct layer_progress {
        void (*fn)(long long done, long long total, void *userdata);
        void *userdata;
};
int store_layer_unpack_progress(struct berth_store *s, const char *blob_path, const char *expect_diff_id,
                                const struct layer_progress *progress, char **diff_id_out, long long *size_out,
                                berth_error_t *err);
bool store_layer_exists(struct berth_store *s, const char *diff_id);
/* Take a layer out of the store (the caller holds the lock): its l/ link is
 * removed and its directory renamed into ROOT/tmp, pushed on *trash for the
 * caller to rm_rf() once the lock is released. */
void store_layer_trash(struct berth_store *s, const char *diff_id, char ***trash);
/* "l/SHORT" relative to the store root, and the layer's content size. */
int store_layer_info(struct berth_store *s, const char *diff_id, char **link_out, long long *size_out,
                     berth_error_t *err);

/* Register an image whose manifest, config and layer blobs are stored and
 * whose layers are unpacked (checked under the exclusive store lock), and
 * point names (NULL-terminated, may be NULL) at it.  *id_out may be NULL. */
int image_add(struct berth_store *s, const char *manifest_digest, char *const *names, char **id_out,
              berth_error_t *err);

/* The blobs (manifests, configs, layer blobs) and layer diff IDs that the
 * image index references, appended to *blobs and *diffs (`system check`
 * reports or removes the rest).  Read only; the caller holds the lock. */
int image_referenced_content(struct berth_store *s, char ***blobs, char ***diffs, berth_error_t *err);

/* Is any container (ROOT/containers/ID/config.json "Image") using image_id?
 * 1 and *container_id (malloc'ed, may be NULL) one that does, or 0; -1 when
 * a container record cannot be read (then nobody can tell). */
int store_image_in_use(struct berth_store *s, const char *image_id, char **container_id, berth_error_t *err);

#endif
