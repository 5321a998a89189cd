/* berth — volumes: named and anonymous volumes (volume.c), the copy-up of
 * image content into them (volume-copy.c).  The -v/--mount specs that name
 * them are mount-spec.h.
 *
 * Layout:
 *   ROOT/volumes/NAME/_data        what the container sees
 *   ROOT/volumes/NAME/volume.json  {"Name", "Driver": "local", "CreatedAt",
 *                                   "Labels": {}, "Anonymous": bool}
 *   ROOT/volumes/NAME/lock         flock: exclusive while the volume is made,
 *                                  filled (copy-up) or removed
 *   ROOT/volumes/NAME/copyup       present while the copy-up runs; one left by
 *                                  a killed berth means _data holds part of
 *                                  the image's files: the next user empties
 *                                  _data and copies again
 *
 * Which containers use a volume is not stored twice: it is read from the
 * containers' config.json (Berth.Mounts entries of Type "volume"), so it can
 * never go stale.  To close the window between "the volume exists" and "the
 * container that uses it is recorded", `run` holds the volume's lock from
 * volume_acquire() until its container is created; `volume rm/prune` take
 * the store lock exclusive, then the volume's lock without waiting (busy:
 * in use) — lock order: volume lock, then store lock, never waiting the
 * other way round.
 */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "berth/error.h"
#include "berth/store.h"

#include "berth/mount-spec.h"

/* Docker's local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at most 255). */
bool volume_name_valid(const char *name);

/* ---- the store --------------------------------------------------------- */
struct volume_info {
        char *name;
        char *mountpoint; /* ROOT/volumes/NAME/_data */
        json_t *meta;     /* volume.json */
};
void volume_info_free(struct volume_info *v);

/* volume create: make NAME (NULL: an anonymous 64-hex name) with labels
 * (object or NULL).  An existing volume is fine (as Docker), its labels kept.
 * *name_out (may be NULL) gets the name. */
int volume_create(struct berth_store *s, const char *name, json_t *labels, bool anonymous, char **name_out,
                  berth_error_t *err);
int volume_get(struct berth_store *s, const char *name, struct volume_info *out, berth_error_t *err);
/* Every volume, sorted by name. */
int volume_list(struct berth_store *s, struct volume_info **out, size_t *n, berth_error_t *err);
void volume_list_free(struct volume_info *v, size_t n);
/* IDs of the containers whose config uses volume name (NULL-terminated
 * strv); fails when a container record cannot be read ("cannot tell
 * whether volume NAME is in use: ..."). */
int volume_users(struct berth_store *s, const char *name, char ***out, berth_error_t *err);
/* volume rm: refuses a volume any container uses ("volume is in use"), even
 * with force (as Docker), and one whose users cannot be told; force only
 * makes a missing volume no error. */
int volume_remove(struct berth_store *s, const char *name, bool force, berth_error_t *err);
/* Bytes of file content under the volume's _data. */
long long volume_size(struct berth_store *s, const char *name);

/* ---- containers -------------------------------------------------------- */
/* Volume locks held by `run` from volume_acquire() until the container is recorded. */
struct volume_holds {
        int *fds;
        size_t n;
};
void volume_holds_release(struct volume_holds *h);

/* For run/create: turn the mount specs into config.json Berth.Mounts entries
 * (Docker's inspect shape, plus ReadOnly for the runtime), creating named and anonymous volumes
 * (and anonymous ones for the image's VOLUME paths no spec covers), filling
 * each new, empty volume with what the image has at the target (copy-up,
 * through a read-only overlay of lowerdir, relative to the store root).
 * tmpfs specs are appended to tmpfs as "PATH[:OPTIONS]". */
int volume_prepare_mounts(struct berth_store *s, const struct mount_spec *specs, size_t n, json_t *image_volumes,
                          const char *lowerdir, json_t *mounts, char ***tmpfs, struct volume_holds *holds,
                          berth_error_t *err);
/* rm -v / --rm: remove the anonymous volumes in the container's Berth.Mounts
 * that no other container uses.  Errors are ignored (best effort, as Docker). */
void volume_remove_anonymous(struct berth_store *s, json_t *config);

/* ---- working inside a container's filesystem (copy-up, cp) -------------- */
/* openat2(RESOLVE_IN_ROOT): path resolved as if rootfd were "/", symlinks
 * included, so nothing in the tree can lead outside it. */
int volume_open_in_root(int rootfd, const char *path, int flags);
/* Run fn(data) in a forked child (which closes close_in_child, unless -1);
 * its error comes back over *errfd.  Returns the child's pid. */
pid_t volume_child_spawn(int (*fn)(void *data, berth_error_t *err), void *data, int close_in_child, int *errfd,
                         berth_error_t *err);
/* Wait for the child; its error, the cause, wins over r (the parent's part). */
int volume_child_reap(pid_t pid, int errfd, int r, berth_error_t *err);

/* Copy the tree at src_dir (a directory) into dst_dir, keeping owners,
 * modes, times, xattrs, symlinks and device nodes.  dst_dir must exist. */
int volume_copy_tree(int src_dirfd, int dst_dirfd, berth_error_t *err);

/* A copy of the whole image (lowerdir) in dst (an existing directory), its
 * owners shifted through uids and gids: the lower dir of a user's
 * --userns=keep-id or nomap container, which may not idmap the layers. */
struct idmap;
int volume_copy_image_mapped(struct berth_store *s, const char *lowerdir, const char *dst, const struct idmap *uids,
                             const struct idmap *gids, berth_error_t *err);

/* Fill a new (empty) volume NAME (its _data dir is data) with what the
 * image has at target (lowerdir: the image's overlay lowerdir), unless
 * nocopy; under the volume's exclusive lock (volume-copy.c). */
int volume_fill(struct berth_store *s, const char *name, const char *data, const char *lowerdir, const char *target,
                bool nocopy, berth_error_t *err);

#endif
