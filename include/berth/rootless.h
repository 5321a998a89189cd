/* berth — who berth runs for: root (the system store, the system manager)
 * or a user (rootless: the user's own store, runtime dir, config and
 * definitions, the user's systemd manager over the user bus).
 *
 * rootless_init() is called first thing by each program: it records the
 * real user, before berth may enter its user namespace (where it is uid 0
 * but still the user, see rootless_enter() in store/rootless-ns.c).
 *
 * A user's paths follow the XDG base directory spec, as Podman's do:
 *   store     $XDG_DATA_HOME/berth    (~/.local/share/berth)
 *   run       $XDG_RUNTIME_DIR/berth  (/run/user/UID/berth)
 *   config    $XDG_CONFIG_HOME/berth  (~/.config/berth: config.json,
 *             auth.json, containers/ for definitions) */
#ifndef BERTH_ROOTLESS_H
#define BERTH_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "berth/error.h"

void rootless_init(void);
/* berth runs for a user other than root (also inside its user namespace). */
bool rootless(void);
/* A user's berth in its own user namespace (as its uid 0): it may act on
 * files of the user's subordinate ids. */
bool rootless_inside(void);
/* The user berth runs for (0 for root), and that user's primary group. */
uid_t rootless_uid(void);
gid_t rootless_gid(void);
/* The user's home: $HOME, else the password database's. */
char *rootless_home(void);
/* The defaults above for the user berth runs for; root's are /var/lib/berth,
 * /run/berth and /etc/berth.  runtime_dir fails with one line when a user
 * has no $XDG_RUNTIME_DIR (and no /run/user/UID). */
char *rootless_data_dir(void);
char *rootless_config_dir(void);
int rootless_runtime_dir(char **out, berth_error_t *err);
/* The user's runtime directory itself ($XDG_RUNTIME_DIR, else the user's
 * /run/user/UID when it exists), which rootless_runtime_dir() is under. */
int rootless_xdg_runtime_dir(char **out, berth_error_t *err);

/* overlayfs keeps its whiteout bookkeeping in trusted.overlay.* xattrs,
 * which only the host's root may set; in a user's namespace it is mounted
 * with userxattr and uses user.overlay.* instead (kernel >= 5.11).  The
 * opaque marker of the store's layers and upper dirs, and what each
 * overlay mount adds to its options for it ("" or ",userxattr"). */
const char *overlay_opaque_xattr(void);
const char *overlay_mount_extra(void);
/* Either namespace's overlay bookkeeping, and fuse-overlayfs's
 * (include/berth/overlay.h): never content to copy or pack. */
bool overlay_xattr_is_private(const char *name);

#endif
