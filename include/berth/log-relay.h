/* berth — the log relay of a user's detached container (src/runtime/log-relay.c).
 *
 * Root's containers write straight into journald streams, and the unit's
 * LogExtraFields= give each line the CONTAINER_* fields; a user's systemd
 * manager (252) does not hand those fields to journald, so a user's
 * container writes into two pipes, and a small process of the unit, the
 * relay, sends each line with the fields (journal_send_line(), the same
 * entries as an attached container's).  It is the one berth process that
 * stays with a running container, and only with a user's: the user's
 * units have KillMode=process, so it outlives the container's end long
 * enough to pass the last lines on, and exits at the pipes' end of file.
 * It holds RUN/containers/ID/log.lock while it runs: the stop hook waits
 * for it (log_relay_wait), so `berth logs` after `berth wait` has every
 * line. */
#ifndef BERTH_LOG_RELAY_H
#define BERTH_LOG_RELAY_H

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

struct log_relay {
        int out[2], err[2]; /* pipes: [0] the relay's, [1] the container's stdout/stderr */
        int lock_fd;
        const struct berth_container *c;
};
#define LOG_RELAY_INIT { .out = { -1, -1 }, .err = { -1, -1 }, .lock_fd = -1 }

/* The pipes and the lock, before the container's process is made. */
int log_relay_prepare(struct log_relay *r, struct berth_store *s, const struct berth_container *c,
                      berth_error_t *err);
/* Fork and exec the relay (after the container's process has its ends). */
int log_relay_start(struct log_relay *r, berth_error_t *err);
/* The relay itself: `berth-runtime _log-relay ID NAME IMAGE` (also a hidden
 * command of berth), its pipes on fds 3 and 4, its lock on 5.  Returns the
 * exit status. */
int log_relay_main(int argc, char **argv);
void log_relay_close(struct log_relay *r);
/* The stop hook: wait (5 s at most) until the relay of container id ended. */
void log_relay_wait(struct berth_store *s, const char *id);

#endif
