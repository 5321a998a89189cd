/* berth — content-addressed blobs: ROOT/blobs/sha256/HEX (src/store/blob.c).
 * Digests are "sha256:" + 64 lower-case hex.  Every write is verified and
 * atomic; writing a blob that exists is harmless. */
#ifndef BERTH_BLOB_H
#define BERTH_BLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/error.h"
#include "berth/sha256.h"
#include "berth/store.h"

bool image_digest_valid(const char *digest);
/* sha256 of a buffer as "sha256:HEX" (malloc'ed). */
char *digest_of_data(const void *data, size_t len);
/* The same over a stream (a blob being copied, a layer's uncompressed tar):
 * sha256_new(), sha256_update() per chunk, sha256_final() (sha256.h). */

/* Store a blob from a file (verifying the digest when expect is not NULL). */
int store_blob_put_file(struct berth_store *s, const char *path, const char *expect, char **digest_out,
                        berth_error_t *err);
/* Store a blob from memory (JSON configs and manifests). */
int store_blob_put_data(struct berth_store *s, const void *data, size_t len, char **digest_out, berth_error_t *err);
int store_blob_path(struct berth_store *s, const char *digest, char **path_out, berth_error_t *err);
/* Read a whole blob (verified against its digest) into memory, NUL-terminated:
 * for bytes that leave the store (save, push, commit's parent). */
int store_blob_read(struct berth_store *s, const char *digest, char **data, size_t *len, berth_error_t *err);
/* The same without hashing: a blob was verified when it was written (pull,
 * load, import, build, commit all check before the rename into blobs/), so
 * reading an image's manifest and config for run, inspect and images
 * trusts the store as Docker and containers-storage do, and does not load
 * libcrypto. */
int store_blob_read_trusted(struct berth_store *s, const char *digest, char **data, size_t *len,
                            berth_error_t *err);
bool store_blob_exists(struct berth_store *s, const char *digest);

/* Streaming blob writer (pull, load, import): bytes go to a locked staging
 * file under ROOT/tmp while hashed; commit verifies the digest (when expect is
 * not NULL) and renames the file to ROOT/blobs/sha256/HEX (atomic,
 * idempotent).  store_blob_writer_free() without commit discards the staging
 * file.  The staging path can be read (e.g. unpacked) before commit. */
struct blob_writer;
int store_blob_writer_open(struct berth_store *s, struct blob_writer **out, berth_error_t *err);
int store_blob_writer_write(struct blob_writer *w, const void *buf, size_t len, berth_error_t *err);
const char *store_blob_writer_path(const struct blob_writer *w);
long long store_blob_writer_size(const struct blob_writer *w);
int store_blob_writer_commit(struct blob_writer *w, const char *expect, char **digest_out, berth_error_t *err);
void store_blob_writer_free(struct blob_writer *w);
static inline void store_blob_writer_freep(struct blob_writer **w) { if (*w) store_blob_writer_free(*w); }
#define cleanup_blob_writer __attribute__((cleanup(store_blob_writer_freep)))

#endif
