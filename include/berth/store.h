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
 *   ROOT/containers/ID/           one directory per container (container.h):
 *        config.json              what the user asked for; after create only
 *                                 rename changes it (Name, Berth.Unit)
 *        state.json               status, pid, exit code, timestamps
 *        lock                     the container's lock (below)
 *        upper/ work/ rootfs/     overlayfs upper and work dirs, mount point
 *        hostname hosts resolv.conf
 *   ROOT/container-names/NAME -> ID  a hint for lookups by name (container.c:
 *                                 checked against the record, rebuilt as
 *                                 containers are made, renamed, removed)
 *   ROOT/volumes/NAME/            named and anonymous volumes (see volume.h)
 *   ROOT/secrets/ID/              secrets: metadata and the value (secret.h)
 *   ROOT/networks/NAME.json       network definitions; RUN/networks/ who is
 *                                 attached and which host ports are taken
 *                                 (see network.h)
 *   ROOT/build-cache/index.json   build cache: step key -> image ID, changed
 *                                 under ROOT/build-cache/lock
 *   ROOT/mapped/IMAGE-MAP/        an image copied with its ids shifted, for a
 *                                 user's --userns=keep-id/nomap containers
 *                                 (one per image and mapping; rmi removes it)
 *   ROOT/tmp/                     staging area for half-written things (below)
 *   RUN/containers/ID/            runtime files (console.sock of a -t run)
 *   RUN/exits/ID                  exit code of a removed --rm container, read
 *                                 once by the attached client
 *   RUN/exits/ID.error            why the container could not start
 *                                 ("CODE message"), for the client
 *   RUN/seccomp/HASH.bpf          compiled seccomp filters (seccomp.h)
 *
 * Staging: entries made by store_tmp_create() (PREFIX-XXXXXX) hold a flock on
 * themselves while alive, so store_tmp_prune() (system check --repair)
 * removes only dead ones; store_mkstemp_dir() (stage-XXXXXX, a container
 * being created) is used only under the exclusive store lock, which
 * system check --repair also takes; rm-ID, rmlayer-*, rmvol-* and rmsecret-*
 * are what rm, rmi, volume rm and secret rm renamed out of the way and are
 * deleting.  Blobs and
 * layers are only deleted under the exclusive store lock (rmi), and a new
 * image is only registered under it after checking its blobs and layers exist.
 *
 * Locks (flock, released by close).  Outer to inner; a lock is never waited
 * for while holding one further down the list:
 *   ROOT/volumes/NAME/lock   exclusive while a volume is made, filled or
 *                       removed; `run` holds it shared from volume_acquire()
 *                       until its container is created (volume.h).
 *   ROOT/containers/ID/lock  exclusive while a container's state changes:
 *                       start and stop hooks, pause, rename, rm and prune
 *                       (which then take the store lock to remove it), cp
 *                       to or from a stopped container.
 *   RUN/networks/lock   any change to RUN/networks/ (network.h).
 *   ROOT/store.lock     exclusive for changes to images.json and to container
 *                       names (create, rename, rm), volume rm/prune, secret
 *                       create/rm, --userns=auto ranges (idmap.h) and
 *                       system check --repair; shared for lookups that must
 *                       see a consistent index.  Under it, volume locks are
 *                       only tried (LOCK_NB, "in use"), never waited for.
 *   ROOT/build-cache/lock  alone, nothing else is taken under it.
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
        /* Where short image names come from besides Docker Hub (owned; NULL:
         * docker.io only): the engine configuration's "default-registry".
         * The store layer reads no configuration: the program that opens the
         * store sets it (registry_default_registry()), once per process. */
        char *default_registry;
};

/* Open the store at root (NULL: $BERTH_ROOT or /var/lib/berth) and runtime
 * dir run (NULL: $BERTH_RUNROOT or /run/berth), creating the layout.
 * store_close() also frees default_registry. */
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
/* Find the leftovers in ROOT/tmp: entries at least min_age_sec old that
 * nobody holds a lock on (a killed import, load, rm...), each given to
 * leftover (may be NULL); *live (may be NULL) is incremented for each
 * entry someone holds.  One rule for what is garbage, for system check's
 * report and for store_tmp_prune(). */
int store_tmp_scan(struct berth_store *s, long long min_age_sec, size_t *live,
                   void (*leftover)(const char *path, void *userdata), void *userdata, berth_error_t *err);
/* Remove the leftovers store_tmp_scan() finds; report (may be NULL) gets
 * each one removed. */
int store_tmp_prune(struct berth_store *s, long long min_age_sec, void (*report)(const char *path, void *userdata),
                    void *userdata, berth_error_t *err);

/* Is any container (ROOT/containers/ID/config.json "Image") using image_id?
 * 1 and *container_id (malloc'ed, may be NULL) one that does, or 0; -1 when
 * a container record cannot be read (then nobody can tell). */
int store_image_in_use(struct berth_store *s, const char *image_id, char **container_id, berth_error_t *err);

#endif
