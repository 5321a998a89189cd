/* berth — what the files of src/runtime/ share: the last steps before a
 * container's process or an exec'd one runs (process.c). */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/error.h"
#include "berth/idmap.h"
#include "berth/runtime.h"
#include "berth/seccomp.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* KEY's value in a "K=V" list, or NULL. */
const char *env_get(char *const *env, const char *key);
/* Find argv0 in PATH (from env) inside rootdir; sets Docker's exit code in
 * err (127 not found, 126 not executable).  *path_out is the path inside the
 * container. */
int exec_lookup(const char *rootdir, const char *argv0, char *const *env, char **path_out, berth_error_t *err);
/* Report a setup failure to the waiting parent over the sync pipe
 * ("E<code> <msg>") and exit. */
__attribute__((noreturn)) void child_fail(int sync_fd, berth_error_t *err);
/* Apply user, capabilities, seccomp, then exec.  Only returns on failure. */
int finish_and_exec(const char *path, char **argv, char **env, const struct user_spec *us, uint64_t caps,
                    const struct seccomp_program *seccomp, bool nnp, berth_error_t *err);

/* ---- user namespaces (userns.c) ---- */
/* Root of the host writes the container's /proc/PID/uid_map and gid_map. */
int userns_write_maps(pid_t pid, const struct idmap *uids, const struct idmap *gids, berth_error_t *err);
/* What the container's overlay root is made of. */
struct userns_rootfs {
        const char *store_root; /* lower is relative to it */
        const char *lower;      /* "l/A:l/B" */
        const char *upper, *work, *rootfs;
        const char *scratch;    /* a host dir for the idmapped layers' mount points */
        char **idmapped;        /* host dirs (-v DIR:PATH:idmap) idmapped at scratch/bN */
        bool whole;             /* a user's keep-id/nomap: lower is a copy with shifted ids, no idmapping */
};
/* A helper with host root's credentials joins pid's mount namespace and
 * mounts the overlay on rootfs over idmapped copies of the layers, and the
 * idmapped copies of r->idmapped for the container to bind.  For a user
 * (r->whole), whose berth may not idmap the host's file systems, the helper
 * is root of berth's namespace and mounts a plain overlay over the
 * container's shifted copy of the image. */
int userns_mount_rootfs(pid_t pid, const struct userns_rootfs *r, berth_error_t *err);
/* Unless an entry of file (/etc/passwd, /etc/group) has id as its third
 * field, append line (keep-id's user, as Podman adds it). */
int userns_add_entry(const char *file, uint32_t id, const char *line, berth_error_t *err);
/* In the container's process once the maps are written. */
int userns_become_root(berth_error_t *err);
/* A tree owned by host root (a new volume) given to the container's ids:
 * every owner mapped as the container sees it.  Nothing done when path's
 * owner is not 0 (shifted before). */
int userns_shift_tree(const char *path, const struct idmap *uids, const struct idmap *gids, berth_error_t *err);

#endif
