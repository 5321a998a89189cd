/* berth — `import`: a rootfs tarball as a one-layer image
 * (src/store/image-import.c). */
#ifndef BERTH_IMAGE_IMPORT_H
#define BERTH_IMAGE_IMPORT_H

#include "berth/error.h"
#include "berth/store.h"

/* Import a rootfs tarball (plain, gzip, xz, zstd, bzip2) read from fd as a
 * one-layer image.  ref may be NULL (untagged).  changes are Dockerfile lines
 * as in `docker import -c` ("CMD [\"sh\"]", "ENV A=b", "WORKDIR /x"), applied
 * by image_config_apply_changes() (instructions.h) to a config whose Env has
 * the default PATH; message becomes the history comment.  *id_out receives
 * "sha256:HEX" of the new image.  The reference and the changes are checked
 * before fd is read. */
int image_import(struct berth_store *s, int fd, const char *ref, char *const *changes, const char *message,
                 char **id_out, berth_error_t *err);

#endif
