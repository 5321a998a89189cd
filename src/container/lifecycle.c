/* berth — container life cycle through systemd units (see lifecycle.h). */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>

#include "berth/console.h"
#include "berth/container-update.h"
#include "berth/journal.h"
#include "berth/devices.h"
#include "berth/json-util.h"
#include "berth/lifecycle.h"
#include "berth/limits.h"
#include "berth/network.h"
#include "berth/parse.h"
#include "berth/rootless.h"
#include "berth/runtime.h"
#include "berth/unit.h"
#include "berth/util.h"

static int props_from_config(json_t *cfg, struct unit_props *props, berth_error_t *err)
{
        struct limits l = {};
        int r = container_limits_parse(json_at(cfg, "Berth.Limits"), &l, err);
        if (r >= 0)
                r = limits_to_props(&l, props, err);
        limits_free(&l);
        /* Docker's device rules (or --privileged's none): the unit's cgroup
         * holds them, for the container and every exec alike */
        if (r >= 0)
                r = devices_to_props(json_object_get(cfg, "HostConfig"), props, err);
        return r;
}

static char **extra_fields(struct berth_container *c)
{
        struct log_fields f = {
                .id_full = c->id,
                .name = c->name,
                .tag = NULL, /* Docker's default tag: the short ID */
                .image = json_str(c->config, "Config.Image"),
        };
        return journal_extra_fields(&f);
}

/* ---- relaying an attached container's I/O ---------------------------------- */
struct relay {
        int in_w;          /* container stdin, or -1 */
        int out_r, err_r;  /* container stdout/stderr (err_r -1 with a tty) */
        bool tty;
        struct journal_lines log; /* partial lines for the journal, per stream */
};

/* After the unit's end: what is left in the pipes (its writers are gone,
 * only systemd still holds copies of them until it collects the unit). */
static void relay_drain(struct relay *r, char *buf, size_t size)
{
        for (int i = 0; i < 2; i++) {
                int *fd = i == 0 ? &r->out_r : &r->err_r;
                if (*fd < 0)
                        continue;
                (void) fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
                ssize_t n;
                while ((n = read(*fd, buf, size)) > 0 || (n < 0 && errno == EINTR))
                        if (n > 0) {
                                (void) write_all(i == 0 ? 1 : 2, buf, n);
                                journal_lines_feed(&r->log, i, buf, n, false);
                        }
                journal_lines_feed(&r->log, i, "", 0, true);
                close(*fd);
                *fd = -1;
        }
}

static int poll_timeout_of(sd_bus *bus)
{
        uint64_t until;
        if (sd_bus_get_timeout(bus, &until) < 0 || until == UINT64_MAX)
                return -1;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
        return until <= now ? 0 : (int) ((until - now + 999) / 1000);
}

/* Copy the container's output and our input until the unit has ended
 * (*ended: the unit's PropertiesChanged said inactive; systemd closes its
 * copies of the pipes only when it collects the unit, a few milliseconds
 * later) or, without a watch, until the pipes' end. */
static int relay_run(struct relay *r, sd_bus *bus, const char *unit, struct unit_watch *uw, bool sig_proxy,
                     bool *ended)
{
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        bool stdin_open = r->in_w >= 0;
        char buf[16384];
        while (r->out_r >= 0 || r->err_r >= 0) {
                if (uw && unit_watch_inactive(uw)) {
                        relay_drain(r, buf, sizeof(buf));
                        *ended = true;
                        break;
                }
                struct pollfd p[5] = {
                        { .fd = r->out_r, .events = POLLIN },
                        { .fd = r->err_r, .events = POLLIN },
                        { .fd = stdin_open ? 0 : -1, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = uw ? sd_bus_get_fd(bus) : -1, .events = uw ? sd_bus_get_events(bus) : 0 },
                };
                if (poll(p, 5, uw ? poll_timeout_of(bus) : -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < 2; i++) {
                        int *fd = i == 0 ? &r->out_r : &r->err_r;
                        if (!p[i].revents)
                                continue;
                        ssize_t n = read(*fd, buf, sizeof(buf));
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0) {
                                journal_lines_feed(&r->log, i, "", 0, true);
                                close(*fd);
                                *fd = -1;
                                continue;
                        }
                        (void) write_all(i == 0 ? 1 : 2, buf, n);
                        journal_lines_feed(&r->log, i, buf, n, false);
                }
                if (p[2].revents) {
                        ssize_t n = read(0, buf, sizeof(buf));
                        if (n <= 0) {
                                stdin_open = false;
                                if (!r->tty) {
                                        close(r->in_w);
                                        r->in_w = -1;
                                }
                        } else
                                (void) write_all(r->in_w, buf, n);
                }
                if (p[3].revents) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH && r->tty) {
                                        struct winsize ws;
                                        if (ioctl(0, TIOCGWINSZ, &ws) == 0)
                                                ioctl(r->out_r, TIOCSWINSZ, &ws);
                                } else if (sig_proxy && si.ssi_signo != SIGWINCH)
                                        (void) unit_kill(bus, unit, "main", si.ssi_signo, NULL);
                        }
                }
        }
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        journal_lines_done(&r->log);
        return 0;
}

static int read_exit_code(struct berth_store *s, struct berth_container *c, int *exit_code, berth_error_t *err)
{
        cleanup_free char *exitfile = store_run_path(s, "exits/%s", c->id);
        cleanup_free char *text = NULL;
        if (read_file(exitfile, &text, NULL, NULL) == 0) {
                *exit_code = atoi(text);
                unlink(exitfile);
                return 0;
        }
        cleanup_container struct berth_container *now = NULL;
        if (container_load(s, c->id, &now, err) < 0)
                return -1;
        *exit_code = json_int(now->state, "ExitCode", 0);
        return 0;
}

static int start_error(struct berth_store *s, sd_bus *bus, struct berth_container *c, berth_error_t *err)
{
        cleanup_free char *p = store_run_path(s, "exits/%s.error", c->id);
        cleanup_free char *text = NULL;
        int r = read_file(p, &text, NULL, NULL);
        unlink(p);
        const char *user = rootless() ? "--user " : "";
        if (r < 0 && rootless()) {
                /* the shim never ran: was it the user's networks? */
                json_auto_t *eps = network_endpoints(c->config);
                cleanup_free char *st = NULL;
                if (json_array_size(eps) > 0 && unit_active_state(bus, NETWORK_USER_UNIT, &st, NULL) == 0 &&
                    streq(st, "failed"))
                        return berth_error(err, 0, "container %s failed to start: the user's networks (%s) failed: "
                                                   "see 'journalctl --user -t berth-netns'",
                                           c->name, NETWORK_USER_UNIT);
        }
        if (r < 0)
                return berth_error(err, 0, "container %s failed to start: see 'journalctl %s-u %s'", c->name, user,
                                   container_unit(c));
        char *msg = strchr(text, ' ');
        int code = atoi(text);
        return berth_error_exit(err, code ? code : BERTH_EXIT_ENGINE, 0, "failed to start container %s: %s",
                                c->name, msg ? msg + 1 : text);
}

/* An attached `run --rm` has no stop hook: the client that waits
 * for its end anyway records it and removes the container itself, which
 * spares a process that systemd would start and move into the unit's
 * cgroup after the container's end (about 5 ms of the run; issue 15).
 * ROOT/containers/ID/cleaner says so ("PID STARTTIME" of the client), so
 * that stop and rm wait for it, and do its work if it was killed
 * (container_cleaner()). */
static int cleaner_mark(struct berth_container *c, berth_error_t *err)
{
        cleanup_free char *p = xasprintf("%s/cleaner", c->dir);
        cleanup_free char *text = xasprintf("%d %lld\n", (int) getpid(), proc_starttime(getpid()));
        return write_file_atomic_sync(p, text, strlen(text), 0600, WRITE_VOLATILE, err);
}

/* The record as it is now; NULL when it is gone (or unreadable). */
static struct berth_container *record_now(struct berth_store *s, const char *id)
{
        struct berth_container *c = NULL;
        return container_load(s, id, &c, NULL) == 0 ? c : NULL;
}

/* The client's cleanup, on the record as it is now (NULL: gone already); a
 * container removed meanwhile (rm -f) is fine. */
static int cleaner_finish(struct berth_store *s, struct berth_container *now, int exit_code, bool oom,
                          berth_error_t *err)
{
        if (now && runtime_cleanup_by_client(s, now, exit_code, oom, err) < 0) {
                if (access(now->dir, F_OK) == 0)
                        return -1;
                berth_error_free(err);
        }
        return 0;
}

int container_await_cleaner(struct berth_store *s, struct berth_container *c, berth_error_t *err)
{
        bool marked = false;
        for (int i = 0; i < 2000 && container_cleaner(c, &marked) && access(c->dir, F_OK) == 0; i++)
                usleep(5 * 1000);
        if (!marked || access(c->dir, F_OK) < 0)
                return 0;
        /* its client was killed: do its work (the exit code is nobody's now) */
        cleanup_container struct berth_container *now = record_now(s, c->id);
        return cleaner_finish(s, now, 255, false, err);
}

bool container_reap_orphan(struct berth_store *s, struct berth_container *c)
{
        /* the mark is only an attached --rm run's: the flag spares the
         * other containers a file read */
        bool marked = false;
        if ((rootless() && !rootless_inside()) || !json_is_true(json_at(c->config, "HostConfig.AutoRemove")) ||
            container_cleaner(c, &marked) || !marked || container_is_running(c))
                return false;
        berth_error_t e = NULL;
        cleanup_container struct berth_container *now = record_now(s, c->id);
        if (cleaner_finish(s, now, 255, false, &e) < 0)
                berth_warn_error(&e, "container %s is left behind", c->name);
        return access(c->dir, F_OK) < 0;
}

int container_start(struct berth_store *s, sd_bus *bus, const char *self, struct berth_container *c,
                    const struct start_io *io, berth_error_t *err)
{
        if (container_is_running(c))
                return 0;
        if (container_sync_unit_name(c, err) < 0)
                return -1;
        const char *unit = container_unit(c);
        if (json_str(c->config, "Berth.Definition")) {
                /* a definition container lives in its own unit: systemd starts it */
                if (io->attach)
                        return berth_error(err, 0, "%s runs in %s: use 'berth logs -f %s' to follow it", c->name,
                                           unit, c->name);
                return unit_start(bus, unit, err);
        }
        struct unit_props props = {};
        if (props_from_config(c->config, &props, err) < 0)
                return -1;

        if (rootless())
                limits_warn_undelegated(&props, unit);
        cleanup_strv char **fields = extra_fields(c);
        /* the small berth-runtime when installed, else this very binary */
        const char *hooks = access(BERTH_LIBEXECDIR "/berth-runtime", X_OK) == 0 ? BERTH_LIBEXECDIR "/berth-runtime" : self;
        cleanup_strv char **exec_start = NULL;
        strv_push(&exec_start, hooks);
        strv_push(&exec_start, "--root");
        strv_push(&exec_start, s->root);
        strv_push(&exec_start, "--runroot");
        strv_push(&exec_start, s->run);
        strv_push(&exec_start, "_shim");
        if (io->attach)
                strv_push(&exec_start, "--attached");
        if (io->attach && io->tty)
                strv_push(&exec_start, "--tty");
        strv_push(&exec_start, c->id);
        char *stop_post[] = { (char *) hooks, "--root", s->root, "--runroot", s->run, "_cleanup", c->id, NULL };

        cleanup_free char *desc = xasprintf("berth container %s (%s)", c->name, json_str(c->config, "Config.Image"));
        int sig = SIGTERM;
        const char *stopsig = json_str(c->config, "Config.StopSignal");
        if (stopsig && *stopsig && parse_signal(stopsig, &sig, err) < 0) {
                unit_props_free(&props);
                return -1;
        }
        /* --ulimit: LimitX=/LimitXSoft= of the unit */
        size_t nrl = json_array_size(json_at(c->config, "HostConfig.Ulimits"));
        cleanup_free struct unit_rlimit *rlimits = xcalloc(nrl + 1, sizeof(*rlimits));
        size_t idx;
        json_t *ul;
        json_array_foreach(json_at(c->config, "HostConfig.Ulimits"), idx, ul)
        {
                cleanup_free char *spec_text = xasprintf("%s=%lld:%lld", json_str(ul, "Name"),
                                                         json_int(ul, "Soft", -1), json_int(ul, "Hard", -1));
                if (parse_ulimit(spec_text, &rlimits[idx].property, &rlimits[idx].soft, &rlimits[idx].hard, err) < 0) {
                        unit_props_free(&props);
                        return -1;
                }
        }
        /* a user's bridge networks are in berth-netns.service's
         * namespace: systemd starts it first, and stops this with it */
        json_auto_t *eps = rootless() ? network_endpoints(c->config) : NULL;
        char *user_net[] = { (char *) NETWORK_USER_UNIT, NULL };
        struct unit_spec spec = {
                .binds_to = json_array_size(eps) > 0 ? user_net : NULL,
                .rlimits = rlimits,
                .n_rlimits = nrl,
                .name = unit,
                .description = desc,
                .exec_start = exec_start,
                .exec_stop_post = stop_post,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .log_extra_fields = fields,
                .syslog_identifier = c->name,
                .kill_signal = sig,
                /* a user's detached container has a log relay next to it
                 * (runtime.h), which must outlive the container's end to
                 * pass its last lines on: the container's processes all go
                 * with its PID namespace when its PID 1 is killed */
                .kill_mode = rootless() && !io->attach ? "process" : NULL,
                .timeout_stop_usec = json_int(c->config, "Config.StopTimeout", 10) * 1000000ULL,
                .props = &props,
        };

        /* Attached: the unit's stdio are our pipes; with -t the container
         * makes its own pty and sends us the master over console.sock. */
        int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
        cleanup_close int listener = -1;
        struct termios saved;
        bool raw = false;
        if (io->attach && io->tty) {
                cleanup_free char *dir = store_run_path(s, "containers/%s", c->id);
                cleanup_free char *path = store_run_path(s, "containers/%s/console.sock", c->id);
                struct sockaddr_un sa;
                cleanup_close int dirfd = -1;
                if (mkdir_p(dir, 0700, err) < 0 || unix_addr_in_dir(dir, "console.sock", &sa, &dirfd, err) < 0) {
                        unit_props_free(&props);
                        return -1;
                }
                unlink(path);
                listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (listener < 0 || bind(listener, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(listener, 1) < 0) {
                        unit_props_free(&props);
                        return berth_error(err, errno, "listen on `%s`", path);
                }
        } else if (io->attach) {
                if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
                    (io->stdin_ && pipe2(inp, O_CLOEXEC) < 0)) {
                        unit_props_free(&props);
                        return berth_error(err, errno, "pipe");
                }
                spec.stdout_fd = outp[1];
                spec.stderr_fd = errp[1];
                spec.stdin_fd = inp[0];
        }

        /* Attached: the unit's signals watched from before its start, so
         * its end is not missed however soon it comes; with --rm, as root,
         * the client cleans up instead of a stop hook. */
        struct unit_watch *uw __attribute__((cleanup(unit_watch_freep))) = NULL;
        if (io->attach && unit_watch_new(bus, unit, &uw, NULL) < 0)
                uw = NULL;
        /* (not a user's container on the user's bridge networks: its
         * cleanup enters their namespace, which this client may not) */
        bool client_cleans = uw && json_array_size(eps) == 0 && json_bool(c->config, "HostConfig.AutoRemove");
        int r = client_cleans ? cleaner_mark(c, err) : 0;
        if (client_cleans)
                spec.exec_stop_post = NULL;
        if (r == 0)
                r = unit_start_transient(bus, &spec, err);
        if (r == -EEXIST) {
                /* The record says exited as soon as the unit's ExecStopPost
                 * hook has written it, but the unit stays loaded
                 * (deactivating) until the hook returns, or failed: wait
                 * for it and forget it, then start again.  Only then: two
                 * round trips to a busy manager, which a new name never
                 * needs. */
                berth_error_free(err);
                (void) unit_wait_inactive(bus, unit, 10 * 1000000ULL, NULL);
                unit_reset_failed(bus, unit);
                r = unit_start_transient(bus, &spec, err);
        }
        /* what the watch saw until now was the start (or the unit's last run) */
        if (uw)
                unit_watch_reset(uw);
        unit_props_free(&props);
        /* systemd holds its own copies now */
        if (outp[1] >= 0)
                close(outp[1]);
        if (errp[1] >= 0)
                close(errp[1]);
        if (inp[0] >= 0)
                close(inp[0]);
        if (r != 0) {
                for (int *fd = (int[]) { outp[0], errp[0], inp[1], -2 }; *fd != -2; fd++)
                        if (*fd >= 0)
                                close(*fd);
                if (r < 0)
                        return r;
                (void) unit_wait_inactive(bus, unit, 5 * 1000000ULL, NULL);
                if (client_cleans) {
                        berth_error_t e = NULL;
                        cleanup_container struct berth_container *now = record_now(s, c->id);
                        if (cleaner_finish(s, now, BERTH_EXIT_ENGINE, false, &e) < 0)
                                berth_warn_error(&e, "container %s is left behind", c->name);
                        cleanup_free char *exitfile = store_run_path(s, "exits/%s", c->id);
                        (void) unlink(exitfile); /* the cleanup's, read only after a run */
                }
                return start_error(s, bus, c, err);
        }
        if (!io->attach)
                return 0;

        int master = -1;
        if (io->tty) {
                struct pollfd p = { .fd = listener, .events = POLLIN };
                cleanup_close int conn = -1;
                if (poll(&p, 1, 10000) == 1)
                        conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0 || (master = console_recv_master(conn, err)) < 0)
                        return berth_error(err, 0, "the container did not send its terminal");
                console_copy_winsize(master);
                if (isatty(0) && tcgetattr(0, &saved) == 0) {
                        struct termios t = saved;
                        cfmakeraw(&t);
                        raw = tcsetattr(0, TCSANOW, &t) == 0;
                }
        }
        struct relay rl = {
                .in_w = io->tty ? (io->stdin_ ? master : -1) : inp[1],
                .out_r = io->tty ? dup(master) : outp[0],
                .err_r = io->tty ? -1 : errp[0],
                .tty = io->tty,
                .log.fields = { .id_full = c->id, .name = c->name, .tag = NULL,
                                .image = json_str(c->config, "Config.Image") },
        };
        bool ended = false;
        relay_run(&rl, bus, unit, uw, io->sig_proxy, &ended);
        if (rl.in_w >= 0 && rl.in_w != master)
                close(rl.in_w);
        if (master >= 0)
                close(master);
        if (raw)
                tcsetattr(0, TCSANOW, &saved);
        int code = 0;
        if (!ended && unit_wait_inactive(bus, unit, 0, err) < 0)
                return -1;
        if (client_cleans) {
                bool oom = false;
                (void) unit_watch_inactive(uw); /* what is still queued */
                /* the container's pid, which the shim recorded before READY=1 */
                cleanup_container struct berth_container *now = record_now(s, c->id);
                pid_t pid = now ? (pid_t) json_int(now->state, "Pid", 0) : 0;
                if (unit_watch_exit(uw, pid, &code, &oom) < 0) {
                        berth_warn("the exit status of container %s was not seen", c->name);
                        code = 255;
                }
                if (cleaner_finish(s, now, code, oom, err) < 0)
                        return -1;
        }
        if (read_exit_code(s, c, &code, err) < 0)
                return -1;
        return code;
}

static void kill_event(struct berth_container *c, int sig)
{
        cleanup_free char *a = xasprintf("signal=%d", sig);
        char *attrs[] = { a, NULL };
        container_event(c, "kill", attrs);
}

static int stop_unit(sd_bus *bus, struct berth_container *c, int timeout_s, berth_error_t *err)
{
        const char *unit = container_unit(c);
        /* A frozen cgroup cannot act on the stop signal: thaw it first. */
        if (streq(json_str(c->state, "Status"), "paused") && container_unpause(bus, c, err) < 0)
                return -1;
        if (timeout_s < 0)
                return unit_stop(bus, unit, err);
        /* An explicit timeout: ask systemd to stop (no restart), and kill
         * everything ourselves if it takes longer than asked. */
        cleanup_bus_message sd_bus_message *reply = NULL;
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "StopUnit", &e, &reply, "ss", unit,
                                   "replace");
        if (r < 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                return 0; /* it ended (and was collected) since we looked */
        if (r < 0)
                return berth_error(err, -r, "stop unit %s", unit);
        r = unit_wait_inactive(bus, unit, (uint64_t) timeout_s * 1000000ULL + 1, err);
        if (r < 0)
                return r;
        if (r == 0) {
                kill_event(c, SIGKILL);
                (void) unit_kill(bus, unit, "all", SIGKILL, NULL);
                if (unit_wait_inactive(bus, unit, 0, err) < 0)
                        return -1;
        }
        return 0;
}

int container_stop(struct berth_store *s, sd_bus *bus, struct berth_container *c, int timeout_s, berth_error_t *err)
{
        if (!container_is_running(c))
                return 0;
        /* Docker's order: kill (the stop signal; SIGKILL after the
         * timeout), the hook's die, then stop */
        int sig = SIGTERM;
        const char *stopsig = json_str(c->config, "Config.StopSignal");
        if (stopsig && *stopsig)
                (void) parse_signal(stopsig, &sig, NULL);
        kill_event(c, sig);
        if (stop_unit(bus, c, timeout_s, err) < 0 || container_await_cleaner(s, c, err) < 0)
                return -1;
        container_event(c, "stop", NULL); /* after the hook's die, as Docker's order */
        return 0;
}

int container_kill(sd_bus *bus, struct berth_container *c, int sig, berth_error_t *err)
{
        if (!container_is_running(c))
                return berth_error(err, 0, "Cannot kill container: %s: container %s is not running", c->name, c->id);
        if (unit_kill(bus, container_unit(c), "main", sig, err) < 0)
                return -1;
        kill_event(c, sig);
        return 0;
}

/* Record Status (and how the container was paused) under its lock, on a
 * fresh copy of state.json: the unit's hooks write it too. */
static int set_paused_state(struct berth_container *c, const char *method, berth_error_t *err)
{
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        cleanup_free char *path = xasprintf("%s/state.json", c->dir);
        json_t *fresh = json_load_path(path, 0, NULL);
        if (fresh) {
                json_decref(c->state);
                c->state = fresh;
        }
        const char *st = json_str(c->state, "Status");
        if (!st || (!streq(st, "running") && !streq(st, "paused")))
                return berth_error(err, 0, "container %s is not running", c->name);
        json_object_set_new(c->state, "Status", json_string(method ? "paused" : "running"));
        if (method)
                json_object_set_new(c->state, "PauseMethod", json_string(method));
        else
                json_object_del(c->state, "PauseMethod");
        return container_save_state(c, err);
}

/* Docker pauses with the cgroup freezer.  systemd does that for us
 * (FreezeUnit) where the host has cgroup v2; on v1 and hybrid hosts it
 * cannot, and every process of the unit gets SIGSTOP instead (the same
 * snapshot for commit; SIGCONT on unpause, and systemd sends SIGCONT after
 * the stop signal, so a paused container still stops). */
int container_pause(sd_bus *bus, struct berth_container *c, berth_error_t *err)
{
        if (!container_is_running(c))
                return berth_error(err, 0, "container %s is not running", c->name);
        if (streq(json_str(c->state, "Status"), "paused"))
                return berth_error(err, 0, "container %s is already paused", c->name);
        const char *unit = container_unit(c), *method = "freezer";
        int r = unit_freeze(bus, unit, true, err);
        if (r == -EOPNOTSUPP) {
                method = "signal";
                r = unit_kill(bus, unit, "all", SIGSTOP, err);
        }
        if (r < 0)
                return r;
        if (set_paused_state(c, method, err) < 0) {
                berth_error_t e = NULL;
                (void) (streq(method, "freezer") ? unit_freeze(bus, unit, false, &e)
                                                 : unit_kill(bus, unit, "all", SIGCONT, &e));
                berth_error_free(&e);
                return -1;
        }
        container_event(c, "pause", NULL);
        return 0;
}

int container_unpause(sd_bus *bus, struct berth_container *c, berth_error_t *err)
{
        if (!container_is_running(c) || !streq(json_str(c->state, "Status"), "paused"))
                return berth_error(err, 0, "container %s is not paused", c->name);
        const char *unit = container_unit(c);
        const char *method = json_str(c->state, "PauseMethod");
        int r = method && streq(method, "signal") ? unit_kill(bus, unit, "all", SIGCONT, err)
                                                   : unit_freeze(bus, unit, false, err);
        if (r < 0)
                return r;
        if (set_paused_state(c, NULL, err) < 0)
                return -1;
        container_event(c, "unpause", NULL);
        return 0;
}

int container_wait(struct berth_store *s, sd_bus *bus, struct berth_container *c, int *exit_code,
                   berth_error_t *err)
{
        if (container_is_running(c) && unit_wait_inactive(bus, container_unit(c), 0, err) < 0)
                return -1;
        return read_exit_code(s, c, exit_code, err);
}
