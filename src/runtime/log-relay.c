/* berth — the log relay of a user's detached container (see
 * include/berth/log-relay.h). */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "berth/journal.h"
#include "berth/json-util.h"
#include "berth/log-relay.h"
#include "berth/util.h"

#define RELAY_WAIT_MS 5000

static char *lock_path(struct berth_store *s, const char *id)
{
        return store_run_path(s, "containers/%s/log.lock", id);
}

int log_relay_prepare(struct log_relay *r, struct berth_store *s, const struct berth_container *c,
                      berth_error_t *err)
{
        r->c = c;
        if (pipe2(r->out, O_CLOEXEC) < 0 || pipe2(r->err, O_CLOEXEC) < 0)
                return berth_error(err, errno, "make the pipes of the log relay");
        cleanup_free char *p = lock_path(s, c->id);
        r->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return berth_error(err, errno, "lock `%s` (is another log relay of the container running?)", p);
        return 0;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

void log_relay_close(struct log_relay *r)
{
        close_fd(&r->out[0]);
        close_fd(&r->out[1]);
        close_fd(&r->err[0]);
        close_fd(&r->err[1]);
        close_fd(&r->lock_fd);
}

/* The relay is a program of its own (berth-runtime _log-relay), exec'd
 * with its pipes as fds 3 and 4 and the lock as 5: nothing of the shim's
 * stays with it (its bus, its end of the container's sync socket, the
 * journal socket libsystemd keeps open once a process has logged). */
static __attribute__((noreturn)) void relay_exec(struct log_relay *r)
{
        close_fd(&r->out[1]);
        close_fd(&r->err[1]);
        int *keep[3] = { &r->out[0], &r->err[0], &r->lock_fd };
        for (int i = 0; i < 3; i++) {
                int fd = fcntl(*keep[i], F_DUPFD_CLOEXEC, 1000 + i);
                if (fd != 1000 + i)
                        _exit(1);
        }
        for (int i = 0; i < 3; i++)
                if (dup2(1000 + i, 3 + i) != 3 + i)
                        _exit(1);
        syscall(SYS_close_range, 6, ~0U, 0);
        const char *image = json_str(r->c->config, "Config.Image");
        char *argv[] = { "berth-runtime", "_log-relay", (char *) r->c->id, (char *) r->c->name,
                         (char *) (image ? image : ""), NULL };
        execv("/proc/self/exe", argv);
        _exit(127);
}

int log_relay_main(int argc, char **argv)
{
        if (argc != 5)
                return 2;
        (void) prctl(PR_SET_NAME, "berth-log");
        /* only the pipes' end stops it (systemd signals the main process only) */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        struct journal_lines jl = { .fields = { .id_full = argv[2], .name = argv[3],
                                                .image = *argv[4] ? argv[4] : NULL } };
        int fds[2] = { 3, 4 };
        char buf[16384];
        while (fds[0] >= 0 || fds[1] >= 0) {
                struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = fds[1], .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        ssize_t n = read(fds[i], buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                journal_lines_feed(&jl, i, "", 0, true);
                                close(fds[i]);
                                fds[i] = -1;
                                continue;
                        }
                        journal_lines_feed(&jl, i, buf, (size_t) n, false);
                }
        }
        journal_lines_done(&jl);
        return 0;
}

int log_relay_start(struct log_relay *r, berth_error_t *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return berth_error(err, errno, "fork the log relay");
        if (pid == 0)
                relay_exec(r);
        /* the relay keeps the lock (the same open file) and its ends */
        log_relay_close(r);
        return 0;
}

void log_relay_wait(struct berth_store *s, const char *id)
{
        cleanup_free char *p = lock_path(s, id);
        cleanup_close int fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return; /* no relay ever ran */
        for (int waited = 0; waited < RELAY_WAIT_MS; waited += 10) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return;
                struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        berth_warn("the log relay of container %.12s did not finish within %d s: its last lines may be missing",
                   id, RELAY_WAIT_MS / 1000);
}
