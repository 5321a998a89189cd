/* berth — unpacked layers: ROOT/layers/DIFFID/{diff,link,size} and their
 * short ROOT/l/ links (src/store/layer.c). */
#ifndef BERTH_LAYER_H
#define BERTH_LAYER_H

#include <stdbool.h>

#include "berth/error.h"
#include "berth/store.h"

/* Unpack a layer tar (compressed or not) into ROOT/layers/DIFFID, honouring
 * whiteouts, hard links, xattrs, file capabilities, ownership and mtimes,
 * refusing entries that escape the layer directory.  Atomic and idempotent.
 * Extracts with the staging dir as the working directory (restored before it
 * returns): not for use from several threads at once. */
int store_layer_unpack(struct berth_store *s, const char *blob_path, char **diff_id_out, long long *size_out,
                       berth_error_t *err);
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

#endif
