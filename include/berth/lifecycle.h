/* berth — starting, stopping, pausing and waiting for containers through
 * their units.  Used by run, start, stop, restart, kill, pause, unpause,
 * wait, commit (which pauses a running container) and build's RUN steps;
 * create and rm work on the record alone (container.h). */
#ifndef BERTH_LIFECYCLE_H
#define BERTH_LIFECYCLE_H

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "berth/container.h"
#include "berth/store.h"

struct start_io {
        bool attach;  /* stream stdout/stderr to the caller */
        bool stdin_;  /* -i: forward the caller's stdin */
        bool tty;     /* -t: a pty */
        bool sig_proxy;
};

/* Start the container's transient unit.  With io->attach, relays the
 * container's output (and input) until it exits and returns its exit code;
 * otherwise returns 0 once the container runs.  A start failure (command not
 * found...) is an error carrying Docker's exit code (125/126/127). */
int container_start(struct berth_store *s, sd_bus *bus, const char *self, struct berth_container *c,
                    const struct start_io *io, berth_error_t *err);
/* Stop: the stop signal, then SIGKILL after timeout_s (-1: the container's
 * own StopTimeout, systemd's TimeoutStopSec=).  A paused container is thawed
 * first; stopped containers are fine. */
int container_stop(struct berth_store *s, sd_bus *bus, struct berth_container *c, int timeout_s, berth_error_t *err);
/* After the unit of an attached `run --rm` (which has no stop hook: its
 * client removes the container) ended: wait for the client to do so, or do
 * it if the client is gone. */
int container_await_cleaner(struct berth_store *s, struct berth_container *c, berth_error_t *err);
/* A `--rm` container whose client was killed and whose process has ended:
 * do the client's work (die, network, removal) now, as Docker's daemon
 * removes it at its end.  True when it is gone; false for any other
 * container (and for a user's berth outside its user namespace, which
 * cannot remove the files of the subordinate ids). */
bool container_reap_orphan(struct berth_store *s, struct berth_container *c);
int container_kill(sd_bus *bus, struct berth_container *c, int sig, berth_error_t *err);
/* `pause`/`unpause`: freeze the unit's processes (state "paused") with
 * systemd's FreezeUnit, or SIGSTOP/SIGCONT where systemd cannot freeze
 * (cgroup v1 and hybrid hosts; state.json PauseMethod says which). */
int container_pause(sd_bus *bus, struct berth_container *c, berth_error_t *err);
int container_unpause(sd_bus *bus, struct berth_container *c, berth_error_t *err);
/* Wait for the container to stop; *exit_code from its state (or from
 * RUN/exits/ID for --rm containers). */
int container_wait(struct berth_store *s, sd_bus *bus, struct berth_container *c, int *exit_code,
                   berth_error_t *err);

#endif
