/* berth — the container runtime.
 *
 * A container runs as the main process of its systemd unit.  The unit's
 * ExecStart is `berth-runtime --root ROOT --runroot RUN _shim ID` (berth
 * itself where berth-runtime is not installed; `berth _unit-start NAME` for
 * definition containers, which ends in the same shim).  The shim clone()s
 * the container's PID 1 into new namespaces with CLONE_PARENT, so it is
 * systemd's own child; that process mounts the overlay root and the
 * standard mounts (a list of operations, see src/runtime/mounts.c), pivots
 * into it and waits.  The shim connects its network (network_attach),
 * records it running and hands the main PID to systemd (sd_notify MAINPID=
 * + READY=1; a Notify=yes definition container sends READY=1 itself), then
 * exits: no berth process stays behind.  Once systemd has taken it, the
 * container's process applies user, caps and seccomp and execs the command.
 * ExecStopPost is `... _cleanup ID`, which records the exit status (from
 * systemd's $EXIT_CODE/$EXIT_STATUS), undoes the network and removes --rm
 * containers. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

/* ExecStart of a container's unit.  attached: stdio are the client's fds,
 * else the container's process connects its stdout and stderr to journal
 * streams (PRIORITY 6 and 3) itself, so journald keeps the unit's fields
 * for the container's whole life. */
int runtime_shim(struct berth_store *s, const char *id, bool attached, bool tty, berth_error_t *err);
/* For a user's container, before runtime_shim(): enter berth's user
 * namespace (rootless_enter()), or, with --network container:NAME, join
 * that container's, which owns the network namespace it shares. */
int runtime_shim_enter(struct berth_store *s, const char *id, berth_error_t *err);
/* The same for a NetworkMode (a definition's, before its container is
 * made). */
int runtime_enter_for_network(struct berth_store *s, const char *mode, berth_error_t *err);
/* ExecStopPost: record the exit, network_detach(), remove --rm containers.
 * Nothing to unmount: all mounts lived in the container's own mount
 * namespace. */
int runtime_cleanup(struct berth_store *s, const char *id, berth_error_t *err);
/* The same work done by the client of an attached `run --rm`, whose unit
 * has no stop hook (lifecycle.c), on the record as loaded after the unit's
 * end: the exit as the unit's signal told it. */
int runtime_cleanup_by_client(struct berth_store *s, struct berth_container *c, int exit_code, bool oom,
                              berth_error_t *err);

struct exec_opts {
        char **argv;
        char **env;      /* extra "K=V" */
        const char *user;
        const char *workdir;
        bool tty;
        bool privileged;
        sd_bus *bus; /* to join the unit's cgroup */
        /* tty: called with the pty master (made inside the container) to
         * relay it; returns when the terminal closes. */
        void (*relay)(int master, void *userdata);
        void *userdata;
        /* Health checks: stdin /dev/null, stdout and stderr into a pipe of
         * which the first capture_size - 1 bytes land in capture (NUL-ended,
         * the rest read and dropped).  timeout_usec > 0: the process is
         * killed when it runs longer, and *timed_out says so. */
        char *capture;
        size_t capture_size;
        uint64_t timeout_usec;
        bool *timed_out;
};
/* Run a process inside a running container (berth exec): joins its
 * namespaces and unit cgroup.  Returns the process' exit code (Docker rules)
 * via *exit_code.  stdio are the caller's current fds 0,1,2. */
int runtime_exec(struct berth_store *s, struct berth_container *c, const struct exec_opts *o, int *exit_code,
                 berth_error_t *err);

/* Users: resolve "name", "uid", "uid:gid", "name:group" against the
 * container's /etc/passwd and /etc/group (root is the container's root dir). */
struct user_spec {
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t ngroups;
        char *home;
};
int user_resolve(const char *rootdir, const char *user, struct user_spec *out, berth_error_t *err);
void user_spec_free(struct user_spec *u);

#endif
