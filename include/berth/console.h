/* berth — terminals for `run -t` and `exec -t`.
 *
 * As runc's console socket: the pseudo-terminal is created INSIDE the
 * container (its own devpts instance, so `tty` and ttyname() work there) and
 * the master side is passed to berth over a unix socket (SCM_RIGHTS). */
#ifndef BERTH_CONSOLE_H
#define BERTH_CONSOLE_H

#include "berth/error.h"

/* In the container's process, after /dev/pts is mounted: make a pty, make
 * its slave our controlling terminal and stdio, send the master over sock. */
int console_setup_child(int sock, berth_error_t *err);
/* Receive the master fd sent by console_setup_child(). */
int console_recv_master(int sock, berth_error_t *err);
/* Give the pty our terminal's size. */
void console_copy_winsize(int master);

#endif
