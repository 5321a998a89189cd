/* berth — what the store's archive code shares and the CLI does not need:
 * media types, libarchive helpers, tar writing, per-layer
 * progress, image names, and undoing what a failed load or commit added.
 * Implemented in src/store/archive-util.c; used by archive-load.c,
 * archive-save.c, diff.c, commit.c and export.c. */
#ifndef BERTH_ARCHIVE_INTERNAL_H
#define BERTH_ARCHIVE_INTERNAL_H

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "berth/archive.h"
#include "berth/error.h"
#include "berth/store.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_IMAGE_NAME "io.containerd.image.name"

/* libarchive's message for a, "unknown error" when it has none. */
const char *arch_msg(struct archive *a);

/* Hand each data block of a's current entry to fn, in order.  Returns 0 at
 * the end of the entry, 1 when libarchive fails (the caller words the error,
 * arch_msg(a) says why), or fn's negative value (its error in *err). */
typedef int (*arch_block_fn)(const void *buf, size_t n, void *userdata, berth_error_t *err);
int arch_data_foreach(struct archive *a, arch_block_fn fn, void *userdata, berth_error_t *err);

/* A layer's progress bar on a terminal, redrawn in place. */
struct layer_bar {
        FILE *f;
        const char *verb; /* "Loading layer" */
        const char *hex;  /* the layer's digest (hex) */
};
void layer_bar_draw(long long done, long long total, void *userdata);
void layer_bar_end(struct layer_bar *b, long long size, bool ok);

/* A progress line to r->progress (nothing when r or it is NULL). */
void report_progress(const struct image_archive_report *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* j as compact JSON text (aborts when out of memory). */
char *json_compact(json_t *j);

/* One part of a stored name ("docker.io/library/busybox:latest"): the
 * familiar name "busybox:latest", the repository "busybox" or the tag
 * "latest" (the name as is, or "latest" for the tag, when it does not
 * parse). */
enum name_part { NAME_FAMILIAR, NAME_REPO, NAME_TAG };
char *name_part(const char *full, enum name_part part);

/* A name an image may be tagged with: parses, and is not a digest. */
bool tag_name_valid(const char *name);

/* What a load or commit put in the store, to undo it if a later step fails. */
struct added {
        char **blobs;  /* digests this operation put in the store */
        char **layers; /* diff_ids it unpacked */
};
void added_free(struct added *a);
/* Remove what was added, unless an image registered meanwhile uses it. */
void added_rollback(struct berth_store *s, struct added *a);

/* All of data into the archive being written. */
int write_data(struct archive *a, const void *data, size_t len, berth_error_t *err);

/* Close the archive being written: its end is written then, so a full disk
 * or a closed pipe may show only here ("write the archive: ..."). */
int tar_close(struct archive *a, berth_error_t *err);

/* Write e (and the file's data from fd when it is a regular file), through
 * the hard link resolver when lr is not NULL (files read from disk; not the
 * whiteouts made up by commit, which have no inode).  display names the
 * file in errors. */
int tar_put(struct archive *a, struct archive_entry_linkresolver *lr, struct archive_entry *e, int fd,
            const char *display, berth_error_t *err);

#endif
