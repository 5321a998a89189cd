/* berth — the user namespace of a user's berth (src/store/rootless-ns.c):
 * container id 0 is the user, ids 1... the user's subordinate ranges of
 * /etc/subuid and /etc/subgid in their order. */
#ifndef BERTH_ROOTLESS_NS_H
#define BERTH_ROOTLESS_NS_H

#include <sys/types.h>

#include "berth/error.h"
#include "berth/idmap.h"

/* The user's mapping (only id 0 when the user has no subordinate ids). */
int rootless_maps(struct idmap *uids, struct idmap *gids, berth_error_t *err);
/* Map PID's user namespace with newuidmap and newgidmap. */
int rootless_write_maps(pid_t pid, const struct idmap *uids, const struct idmap *gids, berth_error_t *err);
/* For a user (no-op for root, and when done already): enter a new user
 * namespace with the user's mapping as its root, and a mount namespace.
 * Single-threaded callers only (before any library starts threads). */
int rootless_enter(berth_error_t *err);
/* While the user's berth-netns.service runs, rootless_enter() joins its
 * user namespace (one mapping for every berth process of the user, and the
 * one that owns the network namespace of the user's bridge networks).
 * rootless_enter_new() always makes a new one: the holder's own.  The pid
 * file says "PID USERNS-INODE NETNS-INODE" (rootless_holder_path(), NULL
 * without a runtime dir); rootless_netns_fd() is the holder's network
 * namespace after a join, else -1. */
int rootless_enter_new(berth_error_t *err);
/* Join the user namespace of process pid instead (a container's, for
 * --network container:NAME: its network namespace is that one's); it must
 * be one the user made. */
int rootless_enter_pid(pid_t pid, berth_error_t *err);
char *rootless_holder_path(void);
int rootless_netns_fd(void);

#endif
