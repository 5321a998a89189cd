/* berth — mounting an overlay of the store's layers (src/store/overlay.c):
 * the kernel's overlayfs, and for a user, fuse-overlayfs(1) where the
 * kernel refuses overlayfs in a user namespace (EPERM, EINVAL: no
 * userxattr before 5.11, ENODEV) or where the user's config.json names a
 * mount program ("mount-program", as Podman's mount_program of
 * storage.conf).
 *
 * fuse-overlayfs runs in the foreground, in the caller's user and mount
 * namespaces, with its output in an anonymous file that is read back only
 * when it fails.  It reads the opaque markers of both namespaces
 * (trusted.overlay.opaque, user.overlay.opaque) and 0/0 character devices
 * as whiteouts, so a user's layers need nothing of their own; what it
 * writes in an upper dir marks an opaque directory with
 * user.fuseoverlayfs.opaque and a ".wh..wh..opq" file in it
 * (overlay_dir_opaque() reads both). */
#ifndef BERTH_OVERLAY_H
#define BERTH_OVERLAY_H

#include <stdbool.h>
#include <sys/types.h>

#include "berth/error.h"

/* The user's "mount-program" (~/.config/berth/config.json), NULL when
 * unset or for root; an error names the file and the key. */
int overlay_mount_program(char **out, berth_error_t *err);
/* The key of the config.json at PATH (a missing file: NULL). */
int overlay_mount_program_read(const char *path, char **out, berth_error_t *err);

/* Mount OPTS ("lowerdir=A:B[,upperdir=U,workdir=W]", relative paths from
 * DIR when it is not NULL: berth chdirs there) at TARGET with FLAGS
 * (MS_RDONLY).  overlay_mount_extra() is added for the kernel.  With
 * fuse-overlayfs, *daemon (when not NULL) gets its pid and the daemon may
 * outlive the caller (the caller ends it, overlay_daemon_stop()); with
 * daemon NULL it is tied to the calling process: it gets SIGTERM when the
 * caller dies, and overlay_mounts_end() ends it.  *daemon is 0 after a
 * kernel mount. */
int overlay_mount(const char *dir, const char *target, const char *opts, unsigned long flags, pid_t *daemon,
                  berth_error_t *err);
/* End the fuse-overlayfs daemons this process started for itself (daemon
 * NULL above): each unmounts and is waited for.  No-op without any. */
void overlay_mounts_end(void);

/* The daemon of a pid file that overlay_daemon_record() wrote ("PID
 * STARTTIME"): ended (SIGTERM, SIGKILL after 2 s) if it is still that
 * process, and the file removed.  For what outlives its starter (a
 * container's root, started by the shim, ended by the stop hook). */
struct berth_store;
/* RUN/containers/ID/fuse-overlayfs.pid: the daemon of a container's root,
 * there while it runs. */
char *overlay_container_pidfile(const struct berth_store *s, const char *id);
int overlay_daemon_record(const char *pidfile, pid_t daemon, berth_error_t *err);
void overlay_daemon_stop(const char *pidfile);

/* Is the upper directory FD opaque: the opaque xattr of the namespace, or
 * fuse-overlayfs's own marker (its xattr, or a ".wh..wh..opq" file). */
bool overlay_dir_opaque(int fd);
#define OVERLAY_FUSE_OPAQUE_FILE ".wh..wh..opq"

#endif
