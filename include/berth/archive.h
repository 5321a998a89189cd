/* berth — images in and out of the store as archives:
 *
 *   save    images -> Docker's archive layout (what `docker save` writes since
 *           Docker 25: an OCI image layout — oci-layout, index.json,
 *           blobs/sha256/HEX — plus Docker's manifest.json and repositories),
 *           or a plain OCI image layout tar (--format oci-archive).
 *           (src/store/archive-save.c)
 *   load    the reverse, also reading what skopeo and podman write
 *           (docker-archive: HEX.tar layers, legacy ID/layer.tar symlinks,
 *           compressed layers; oci-archive), plain or compressed.  Every blob
 *           is checked against its digest and every layer against its
 *           diff_id before the image is registered; a failed load removes
 *           what it added.  (src/store/archive-load.c)
 *
 * A container's filesystem as changes or a tar is in diff.h, commit.h and
 * export.h. */
#ifndef BERTH_ARCHIVE_H
#define BERTH_ARCHIVE_H

#include <stdbool.h>
#include <stdio.h>

#include "berth/error.h"
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

#endif
