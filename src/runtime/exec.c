/* berth — `berth exec` and health checks: a process in a running
 * container's namespaces and unit cgroup (runtime.h). */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "berth/console.h"
#include "berth/json-util.h"
#include "berth/runtime-internal.h"
#include "berth/seccomp.h"
#include "berth/caps.h"
#include "berth/unit.h"
#include "berth/util.h"

/* SIGKILL to every descendant of pid (the exec'd process under the helper
 * that joined the namespaces). */
static void kill_descendants(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid, (int) pid);
        cleanup_free char *text = NULL;
        if (read_file(path, &text, NULL, NULL) < 0)
                return;
        for (char *p = text, *end; *p; p = end) {
                long child = strtol(p, &end, 10);
                if (end == p)
                        break;
                kill_descendants((pid_t) child);
                kill((pid_t) child, SIGKILL);
        }
}

static void check_deadline(pid_t mid, uint64_t *deadline, const struct exec_opts *o)
{
        if (!*deadline || (uint64_t) now_ns() / 1000 < *deadline)
                return;
        if (o->timed_out)
                *o->timed_out = true;
        kill_descendants(mid);
        *deadline = 0;
}

/* Read the health check's output while it runs, until the helper process
 * exits (a background process left holding the pipe does not keep us), and
 * kill it at the deadline. */
static void capture_and_wait(pid_t mid, int fd, const struct exec_opts *o, int *status)
{
        size_t len = 0, room = o->capture_size ? o->capture_size - 1 : 0;
        uint64_t deadline = o->timeout_usec ? now_ns() / 1000 + o->timeout_usec : 0;
        bool exited = false, eof = false;
        char buf[4096];
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
        /* what is left after the exit is read up to 1 MiB, no more */
        for (size_t after_exit = 0; !eof && after_exit < 256;) {
                if (exited)
                        after_exit++;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, exited ? 0 : 50) > 0) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n > 0 && len < room) {
                                size_t take = (size_t) n < room - len ? (size_t) n : room - len;
                                memcpy(o->capture + len, buf, take);
                                len += take;
                        }
                        eof = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
                } else if (exited) {
                        break; /* nothing more now: a process left behind may hold the pipe */
                }
                if (exited)
                        continue;
                if (waitpid(mid, status, WNOHANG) == mid) {
                        exited = true;
                } else {
                        check_deadline(mid, &deadline, o);
                }
                if (eof && !exited) {
                        /* the output is closed, the process may still run */
                        eof = false;
                        while (!exited) {
                                usleep(20000);
                                if (waitpid(mid, status, WNOHANG) == mid)
                                        exited = true;
                                else
                                        check_deadline(mid, &deadline, o);
                        }
                        break;
                }
        }
        if (!exited)
                while (waitpid(mid, status, 0) < 0 && errno == EINTR)
                        ;
        if (o->capture_size)
                o->capture[len] = '\0';
}

int runtime_exec(struct berth_store *s, struct berth_container *c, const struct exec_opts *o, int *exit_code,
                 berth_error_t *err)
{
        if (!container_is_running(c))
                return berth_error(err, 0, "container %s is not running", c->id);
        pid_t target = json_int(c->state, "Pid", 0);
        json_t *cfg = c->config;

        /* What the process gets: the container's env, caps and seccomp */
        cleanup_strv char **env = json_strv(json_at(cfg, "Config.Env"));
        for (size_t i = 0; o->env && o->env[i]; i++) {
                /* -e K=V replaces the container's K; -e K takes berth's own */
                const char *val = strchr(o->env[i], '=') ? NULL : getenv(o->env[i]);
                cleanup_free char *kv = strchr(o->env[i], '=') ? xstrdup(o->env[i])
                                        : val ? xasprintf("%s=%s", o->env[i], val) : NULL;
                if (!kv)
                        continue;
                strv_env_set(&env, kv);
        }
        if (!env_get(env, "PATH"))
                strv_push(&env, "PATH=" DEFAULT_PATH);
        if (o->tty && !env_get(env, "TERM"))
                strv_push(&env, "TERM=xterm");
        bool privileged = o->privileged || json_bool(cfg, "HostConfig.Privileged");
        cleanup_strv char **cap_add = json_strv(json_at(cfg, "HostConfig.CapAdd"));
        cleanup_strv char **cap_drop = json_strv(json_at(cfg, "HostConfig.CapDrop"));
        uint64_t caps;
        if (caps_compute(cap_add, cap_drop, privileged, &caps, err) < 0)
                return -1;
        struct seccomp_program seccomp = {};
        cleanup_free char *seccomp_cache = store_run_path(s, "seccomp");
        if (!privileged &&
            seccomp_program(json_str(cfg, "Berth.SeccompProfile"), caps, seccomp_cache, &seccomp, err) < 0)
                return -1;

        /* the user namespace first: it owns the others (and is the host's
         * own for a container without one: joining it changes nothing) */
        static const char *ns_names[] = { "user", "ipc", "uts", "net", "pid", "cgroup", "mnt" };
        int ns_fds[ARRAY_SIZE(ns_names)];
        for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int) target, ns_names[i]);
                ns_fds[i] = open(p, O_RDONLY | O_CLOEXEC);
                if (ns_fds[i] < 0) {
                        int e = errno;
                        for (size_t k = 0; k < i; k++)
                                close(ns_fds[k]);
                        return berth_error(err, e, "open namespace %s of container %s", ns_names[i], c->name);
                }
        }
        int sync[2];
        if (pipe2(sync, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(stdout);
        int go[2], con[2] = { -1, -1 }, cap[2] = { -1, -1 };
        if (pipe2(go, O_CLOEXEC) < 0 || (o->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0) ||
            (o->capture && pipe2(cap, O_CLOEXEC) < 0))
                return berth_error(err, errno, "pipe");
        char exec_id[65];
        container_exec_event(c, o->argv, exec_id);
        pid_t mid = fork();
        if (mid == 0) {
                close(sync[0]);
                close(go[1]);
                berth_error_t e = NULL;
                char b;
                /* wait until we were moved into the container's unit cgroup */
                if (read(go[0], &b, 1) != 1)
                        _exit(BERTH_EXIT_ENGINE);
                struct stat own_user, their_user;
                bool same_user = stat("/proc/self/ns/user", &own_user) == 0 && fstat(ns_fds[0], &their_user) == 0 &&
                                 own_user.st_ino == their_user.st_ino && own_user.st_dev == their_user.st_dev;
                for (size_t i = same_user ? 1 : 0; i < ARRAY_SIZE(ns_names); i++)
                        if (setns(ns_fds[i], 0) < 0) {
                                berth_error(&e, errno, "join the container's %s namespace", ns_names[i]);
                                child_fail(sync[1], &e);
                        }
                /* the container's rlimits (--ulimit, LimitX= of its unit) */
                for (int res = 0; res < RLIM_NLIMITS; res++) {
                        struct rlimit rl;
                        if (prlimit(target, res, NULL, &rl) == 0)
                                (void) setrlimit(res, &rl);
                }
                /* a new child is needed to really be inside the PID namespace */
                pid_t p = fork();
                if (p < 0) {
                        berth_error(&e, errno, "fork");
                        child_fail(sync[1], &e);
                }
                if (p > 0) {
                        close(sync[1]);
                        if (con[1] >= 0)
                                close(con[1]);
                        int status;
                        while (waitpid(p, &status, 0) < 0 && errno == EINTR)
                                ;
                        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
                }
                if (o->tty && console_setup_child(con[1], &e) < 0)
                        child_fail(sync[1], &e);
                if (con[1] >= 0)
                        close(con[1]);
                struct user_spec us;
                const char *user = o->user ? o->user : json_str(cfg, "Config.User");
                if (user_resolve("", user, &us, &e) < 0)
                        child_fail(sync[1], &e);
                if (!env_get(env, "HOME"))
                        strv_push(&env, xasprintf("HOME=%s", us.home));
                const char *wd = o->workdir ? o->workdir : json_str(cfg, "Config.WorkingDir");
                if (chdir(wd && *wd ? wd : "/") < 0) {
                        berth_error(&e, errno, "chdir to `%s`", wd);
                        child_fail(sync[1], &e);
                }
                cleanup_free char *path = NULL;
                if (exec_lookup("", o->argv[0], env, &path, &e) < 0)
                        child_fail(sync[1], &e);
                if (cap[1] >= 0) {
                        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(cap[1], 1) < 0 || dup2(cap[1], 2) < 0) {
                                berth_error(&e, errno, "redirect the output of the health check");
                                child_fail(sync[1], &e);
                        }
                }
                syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
                finish_and_exec(path, o->argv, env, &us, caps, &seccomp, json_bool(cfg, "Berth.NoNewPrivileges"), &e);
                child_fail(sync[1], &e);
        }
        for (size_t i = 0; i < ARRAY_SIZE(ns_names); i++)
                close(ns_fds[i]);
        close(sync[1]);
        close(go[0]);
        if (mid > 0) {
                berth_error_t e = NULL;
                /* The unit's cgroup holds the container's device rules and
                 * limits: a process outside it must not enter the container. */
                if (!o->bus || unit_attach_pid(o->bus, container_unit(c), mid, &e) < 0) {
                        kill(mid, SIGKILL);
                        (void) waitpid(mid, NULL, 0);
                        close(go[1]);
                        if (con[1] >= 0)
                                close(con[1]);
                        if (con[0] >= 0)
                                close(con[0]);
                        close(sync[0]);
                        seccomp_program_free(&seccomp);
                        if (!e)
                                berth_error(&e, 0, "no connection to systemd");
                        berth_error(err, 0, "cannot move the process into %s, which confines the container's "
                                            "devices and limits: %s", container_unit(c), e->msg);
                        berth_error_free(&e);
                        return -1;
                }
                (void) !write(go[1], "x", 1);
        }
        close(go[1]);
        if (con[1] >= 0)
                close(con[1]);
        if (cap[1] >= 0)
                close(cap[1]);
        if (mid > 0 && o->tty) {
                berth_error_t e = NULL;
                int master = console_recv_master(con[0], &e);
                berth_error_free(&e); /* on failure the sync pipe says why */
                if (master >= 0) {
                        console_copy_winsize(master);
                        if (o->relay)
                                o->relay(master, o->userdata);
                        close(master);
                }
        }
        if (con[0] >= 0)
                close(con[0]);
        seccomp_program_free(&seccomp);
        if (mid < 0) {
                close(sync[0]);
                return berth_error(err, errno, "fork");
        }
        char buf[4096];
        ssize_t n, len = 0;
        while ((n = read(sync[0], buf + len, sizeof(buf) - 1 - len)) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        len += n;
        close(sync[0]);
        buf[len] = '\0';
        int status;
        if (cap[0] >= 0) {
                capture_and_wait(mid, cap[0], o, &status);
                close(cap[0]);
        } else {
                while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        if (len > 0) {
                char *msg = strchr(buf, ' ');
                int code = atoi(buf + 1);
                return berth_error_exit(err, code ? code : BERTH_EXIT_ENGINE, 0, "%s", msg ? msg + 1 : buf);
        }
        *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        cleanup_free char *eid = xasprintf("execID=%s", exec_id);
        cleanup_free char *ec = xasprintf("exitCode=%d", *exit_code);
        char *attrs[] = { eid, ec, NULL };
        container_event(c, "exec_die", attrs);
        return 0;
}
