/* berth — images in and out of the store as archives, and containers'
 * filesystems as tars:
 *
 *   save    images -> Docker's archive layout (what `docker save` writes since
 *           Docker 25: an OCI image layout — oci-layout, index.json,
 *           blobs/sha256/HEX — plus Docker's manifest.json and repositories),
 *           or a plain OCI image layout tar (--format oci-archive).
 *   load    the reverse, also reading what skopeo and podman write
 *           (docker-archive: HEX.tar layers, legacy ID/layer.tar symlinks,
 *           compressed layers; oci-archive), plain or compressed.  Every blob
 *           is checked against its digest and every layer against its
 *           diff_id before the image is registered; a failed load removes
 *           what it added.
 *   changes a container's upper dir against its image's layers (diff), the
 *           same changes as an OCI layer tar (commit), and the merged
 *           filesystem as a tar (export). */
#ifndef BERTH_ARCHIVE_H
#define BERTH_ARCHIVE_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/image.h"
#include "berth/store.h"

enum image_archive_format {
        IMAGE_ARCHIVE_DOCKER, /* docker-archive (the default of `save`) */
        IMAGE_ARCHIVE_OCI,    /* oci-archive */
};

/* Output lines: progress goes to `progress` (per layer: "Loading layer
 * 3f4d90098f5b 1.2MB", stderr in the CLI), results to `result` ("Loaded
 * image: busybox:latest", stdout).  Both may be NULL. */
struct image_archive_report {
        void (*progress)(const char *line, void *userdata);
        void (*result)(const char *line, void *userdata);
        void *userdata;
        /* A terminal: each layer gets a progress bar there instead of its
         * progress line ("Loading layer 3f4d90098f5b [===>   ] 1MB/5MB"). */
        FILE *bar;
};

/* Write the images refs (names, IDs; NULL-terminated, several allowed, each
 * image once) as one archive to fd.  A ref naming a tag puts that tag in the
 * archive; an ID saves the image untagged.  Blobs are verified as they are
 * read from the store. */
int image_save_archive(struct berth_store *s, char *const *refs, enum image_archive_format format, int fd,
                       const struct image_archive_report *report, berth_error_t *err);

/* Load every image of the archive (tar, possibly gzip/zstd/xz-compressed)
 * read from fd.  *ids_out (may be NULL) receives the loaded image IDs. */
int image_load_archive(struct berth_store *s, int fd, const struct image_archive_report *report, char ***ids_out,
                       berth_error_t *err);

/* Is an archive member name acceptable (relative, no ".." component, not
 * empty)?  Load refuses archives with other names. */
bool image_archive_name_safe(const char *name);

/* ---- containers ---------------------------------------------------------------- */
struct fs_change {
        char kind;   /* 'A' added, 'C' changed, 'D' deleted (as `docker diff`) */
        char *path;  /* "/etc/passwd" */
        bool opaque; /* a directory whose lower contents are all hidden */
};
void fs_changes_free(struct fs_change *v, size_t n);

/* The changes of container c (its upper dir) against img, its image, sorted
 * by path; parents of changes show as 'C' like Docker.  Mount points berth
 * makes (/etc/hosts, /proc, -v targets...) are not changes. */
int container_changes(struct berth_store *s, struct berth_container *c, struct berth_image *img,
                      struct fs_change **out, size_t *n, berth_error_t *err);

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

/* `export`: the container's merged filesystem (image layers + upper dir,
 * mounted read-only in a private mount namespace of a child) as a tar on fd. */
int container_export(struct berth_store *s, struct berth_container *c, int fd, berth_error_t *err);

#endif
