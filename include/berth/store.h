/* berth — the on-disk store.
 *
 * Layout (root defaults to /var/lib/berth, run to /run/berth):
 *
 *   ROOT/blobs/sha256/HEX         content-addressed blobs (layers, configs,
 *                                 manifests), verified on write, never edited
 *   ROOT/layers/HEX/diff/         a layer unpacked once, keyed by its diff_id
 *                                 (sha256 of the uncompressed tar)
 *   ROOT/layers/HEX/link          short name of the layer (see ROOT/l)
 *   ROOT/layers/HEX/size          bytes of file content in diff/ (decimal)
 *   ROOT/l/SHORT -> ../layers/HEX/diff
 *                                 short (16 char) symlinks so overlayfs
 *                                 lowerdir= strings stay under the page-size
 *                                 mount option limit; made before the layer
 *                                 dir is renamed into place
 *   ROOT/images.json              the image index, replaced atomically:
 *                                 { "manifests": {"sha256:MANIFEST": {"id": "sha256:CONFIG"}},
 *                                   "tags": {"docker.io/library/busybox:latest": "sha256:MANIFEST"} }
 *                                 an image is a manifest; its ID is its config
 *                                 digest; tags are full names pointing at
 *                                 manifests; an image without tags is <none>.
 *                                 Read it only through image.h.
 *   ROOT/containers/ID/           one directory per container:
 *        config.json              what the user asked for (immutable after create)
 *        state.json               status, pid, exit code, timestamps (atomic)
 *        upper/ work/             overlayfs upper and work dirs
 *        hostname hosts resolv.conf
 *   ROOT/tmp/                     staging area for half-written things; anything
 *                                 here that no process holds a lock on is garbage
 *   ROOT/networks/NAME.json       network definitions; RUN/networks/ who is
 *                                 attached and which host ports are taken
 *                                 (see network.h, its lock RUN/networks/lock
 *                                 comes after a container's lock)
 *   RUN/containers/ID/            runtime files (start error, notify socket)
 *   RUN/exits/ID                  exit code of a removed --rm container, read
 *                                 once by the attached client
 *
 * Staging entries made by store_tmp_create() hold a flock on themselves while
 * alive, so `store_tmp_prune()` (system check) removes only dead ones.  Blobs
 * and layers are only deleted under the exclusive store lock (rmi), and a new
 * image is only registered under it after checking its blobs and layers exist.
 *
 * Locks (flock, released by close; always taken in this order):
 *   ROOT/store.lock     exclusive for changes to images.json, to container
 *                       names (create, rename, rm); shared for lookups that
 *                       must see a consistent index.
 *   ROOT/containers/ID/lock  exclusive while a container's state changes
 *                       (start, stop bookkeeping, rm).
 *
 * Every file is written with write_file_atomic() (temp + fsync + rename); a
 * directory is staged under ROOT/tmp and renamed into place.
 */
#ifndef BERTH_STORE_H
#define BERTH_STORE_H

#include <stdbool.h>

#include "berth/error.h"

struct berth_store {
        char *root; /* /var/lib/berth */
        char *run;  /* /run/berth */
        int lock_fd; /* store.lock when held, else -1 */
        bool lock_exclusive; /* how lock_fd is held */
};

/* Open the store at root (NULL: $BERTH_ROOT or /var/lib/berth) and runtime
 * dir run (NULL: $BERTH_RUNROOT or /run/berth), creating the layout. */
int store_open(struct berth_store *s, const char *root, const char *run, berth_error_t *err);
void store_close(struct berth_store *s);

/* Take / release ROOT/store.lock (exclusive or shared).  Nested calls are not
 * allowed (an error).  The image_*() functions take it themselves unless the
 * caller already holds it (then they need it exclusive for changes). */
int store_lock(struct berth_store *s, bool exclusive, berth_error_t *err);
void store_unlock(struct berth_store *s);

/* The store lock for one scope, the way every module takes it: taken here
 * unless the caller already holds it (then a change needs it held
 * exclusive: an internal error otherwise), released when the scope ends only
 * if it was taken here.
 *
 *     cleanup_store_lock struct store_lock_scope l = {};
 *     if (store_lock_scope_take(s, true, &l, err) < 0)
 *             return -1;
 */
struct store_lock_scope {
        struct berth_store *s;
        bool taken;
};
int store_lock_scope_take(struct berth_store *s, bool exclusive, struct store_lock_scope *l, berth_error_t *err);
void store_lock_scope_release(struct store_lock_scope *l);
#define cleanup_store_lock __attribute__((cleanup(store_lock_scope_release)))

/* Path helpers (malloc'ed). */
char *store_path(const struct berth_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *store_run_path(const struct berth_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fresh staging directory under ROOT/tmp (malloc'ed path). */
int store_mkstemp_dir(struct berth_store *s, char **out, berth_error_t *err);

/* A staging file (dir false) or directory under ROOT/tmp named PREFIX-XXXXXX,
 * flock'ed through *fd_out (the open file, or the directory) until that fd is
 * closed; store_tmp_prune() leaves it alone while the lock is held. */
int store_tmp_create(struct berth_store *s, const char *prefix, bool dir, char **path_out, int *fd_out,
                     berth_error_t *err);
/* Remove leftovers in ROOT/tmp: entries at least min_age_sec old that nobody
 * holds a lock on (a killed import, load, rm...).  report may be NULL. */
int store_tmp_prune(struct berth_store *s, long long min_age_sec, void (*report)(const char *path, void *userdata),
                    void *userdata, berth_error_t *err);

#endif
