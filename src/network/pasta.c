/* berth — a user's container network: pasta(1) (Debian's passt), the
 * default network of a user's containers and `--network pasta[:OPTIONS]`,
 * as Podman's rootless default.
 *
 * A user may not make bridges, veths or nftables rules.  pasta instead
 * makes a tap device in the container's network namespace, copies the
 * host's address and default route onto it (--config-net) and carries the
 * container's traffic over ordinary sockets of the user's on the host;
 * `-p HOSTPORT:PORT` becomes pasta's `-t`/`-u` forwards, which bind the
 * host port as the user (so ports below net.ipv4.ip_unprivileged_port_start
 * are refused before the container is made).
 *
 * Where pasta runs: the shim (network_attach(), once the container's PID 1
 * waits in its own network namespace) starts it, so it lives in the
 * container's unit and cgroup, and goes with it (it does not quit by
 * itself when the namespace goes: it is given an fd, not a file it could
 * watch).  The shim is already root of the user's user
 * namespace (berth-runtime enters it before anything else), and pasta runs
 * there as that root: root of a user namespace is not root of the host, so
 * pasta keeps that identity (it only drops to `nobody` as the host's root),
 * and it may join the container's network namespace, which that user
 * namespace owns.  It cannot open /proc/PID/ns/net itself: it drops its
 * capabilities first, and the kernel lets a process open another's
 * namespace only with every capability the other has.  So the shim opens
 * it and hands the descriptor over as fd 3 (`--netns /proc/self/fd/3`).
 * pasta forks into the background once the tap is configured (its default,
 * as Podman runs it): its exit status tells that the network is up.  Its
 * pid file (RUN/containers/ID/pasta.pid) lets the stop hook end it where
 * the unit leaves the rest of its cgroup alone (KillMode=process). */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "berth/json-util.h"
#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/util.h"

bool network_mode_pasta(const char *mode)
{
        return mode && (streq(mode, "pasta") || startswith(mode, "pasta:"));
}

/* The options berth sets itself: pasta runs in the background on the
 * container's network namespace, which berth hands over. */
static const char *const pasta_refused[] = { "--netns", "--userns", "--netns-only", "-f", "--foreground", "-P",
                                             "--pid" };

/* Does this option (an item of --network pasta:...) spell short or long,
 * alone, with an attached value ("-t80") or as "--long=VALUE"? */
static bool opt_is(const char *o, const char *short_opt, const char *long_opt)
{
        if (short_opt && startswith(o, short_opt))
                return true;
        if (!long_opt || !startswith(o, long_opt))
                return false;
        return o[strlen(long_opt)] == '\0' || o[strlen(long_opt)] == '=';
}

static bool opts_have(char *const *opts, const char *short_opt, const char *long_opt)
{
        for (size_t i = 0; opts && opts[i]; i++)
                if (opt_is(opts[i], short_opt, long_opt))
                        return true;
        return false;
}

int pasta_options_parse(const char *mode, char ***out, berth_error_t *err)
{
        *out = NULL;
        if (!network_mode_pasta(mode))
                return berth_error(err, 0, "not a pasta network: %s", mode);
        if (streq(mode, "pasta") || streq(mode, "pasta:"))
                return 0;
        cleanup_strv char **opts = NULL;
        cleanup_free char *copy = xstrdup(mode + strlen("pasta:"));
        char *rest = copy, *o;
        while ((o = strsep(&rest, ","))) {
                if (!*o)
                        return berth_error(err, 0, "invalid --network %s: an empty option (pasta:OPTION[,VALUE]...)",
                                           mode);
                for (size_t i = 0; i < ARRAY_SIZE(pasta_refused); i++)
                        if (opt_is(o, NULL, pasta_refused[i]))
                                return berth_error(err, 0, "invalid --network %s: berth sets %s itself (pasta runs "
                                                           "in the background on the container's namespace)",
                                                   mode, pasta_refused[i]);
                strv_push(&opts, o);
        }
        if (opts[0][0] != '-')
                return berth_error(err, 0, "invalid --network %s: pasta's options start with '-' (%s)", mode,
                                   opts[0]);
        *out = steal_pointer(&opts);
        return 0;
}

unsigned pasta_unprivileged_port_start(void)
{
        cleanup_free char *text = NULL;
        if (read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", &text, NULL, NULL) < 0)
                return 1024; /* the kernel's default */
        return (unsigned) strtoul(text, NULL, 10);
}

int pasta_ports_check(json_t *bindings, unsigned start, berth_error_t *err)
{
        const char *k;
        json_t *v;
        json_object_foreach(bindings, k, v)
        {
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b)
                {
                        unsigned port = (unsigned) atoi(json_str(b, "HostPort") ?: "0");
                        if (port && port < start)
                                return berth_error(err, 0, "cannot publish host port %u/%s as a user: ports below %u "
                                                           "(net.ipv4.ip_unprivileged_port_start) need root",
                                                   port, strchr(k, '/') ? strchr(k, '/') + 1 : "tcp", start);
                }
        }
        return 0;
}

/* -t/-u forwards of NetworkSettings.Ports ({"80/tcp": [{HostIp, HostPort}]}),
 * pasta's [ADDRESS/]HOSTPORT:PORT; *any: some were of proto. */
static void push_forwards(char ***argv, json_t *ports, const char *proto, const char *flag, bool *any)
{
        const char *k;
        json_t *v;
        json_object_foreach(ports, k, v)
        {
                const char *slash = strchr(k, '/');
                if (!streq(slash ? slash + 1 : "tcp", proto))
                        continue;
                size_t i;
                json_t *b;
                json_array_foreach(json_is_array(v) ? v : NULL, i, b)
                {
                        const char *ip = json_str(b, "HostIp") ?: "";
                        bool all = !*ip || streq(ip, "0.0.0.0");
                        cleanup_free char *spec = xasprintf("%s%s%s:%u", all ? "" : ip, all ? "" : "/",
                                                            json_str(b, "HostPort") ?: "", (unsigned) atoi(k));
                        strv_push(argv, flag);
                        strv_push(argv, spec);
                        *any = true;
                }
        }
}

char **pasta_argv(const char *netns, const char *pidfile, json_t *ports, char *const *opts)
{
        char **argv = NULL;
        strv_push(&argv, "pasta");
        if (pidfile) {
                strv_push(&argv, "--pid");
                strv_push(&argv, pidfile);
        }
        if (!opts_have(opts, NULL, "--config-net"))
                strv_push(&argv, "--config-net");
        /* pasta refuses --quiet twice or with --debug */
        if (!opts_have(opts, "-q", "--quiet") && !opts_have(opts, "-d", "--debug") && !opts_have(opts, NULL, "--trace"))
                strv_push(&argv, "--quiet");
        strv_push(&argv, "--netns");
        strv_push(&argv, netns);
        /* eth0, as a container on a bridge has (pasta's default: the name
         * of the host's interface) */
        if (!opts_have(opts, "-I", "--ns-ifname")) {
                strv_push(&argv, "--ns-ifname");
                strv_push(&argv, "eth0");
        }
        /* Podman's default: the gateway's address is not the host's
         * loopback (`--map-gw`, Podman's own word, allows it) */
        if (!opts_have(opts, NULL, "--map-gw") && !opts_have(opts, NULL, "--no-map-gw"))
                strv_push(&argv, "--no-map-gw");
        /* only the published ports, and none of the host's loopback ports
         * in the container: pasta's default for each is "auto" */
        static const char *const fwd[][3] = {
                { "tcp", "-t", "--tcp-ports" }, { "udp", "-u", "--udp-ports" }, { NULL, "-T", "--tcp-ns" },
                { NULL, "-U", "--udp-ns" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++) {
                bool any = false;
                if (fwd[i][0])
                        push_forwards(&argv, ports, fwd[i][0], fwd[i][1], &any);
                if (!any && !opts_have(opts, fwd[i][1], fwd[i][2])) {
                        strv_push(&argv, fwd[i][1]);
                        strv_push(&argv, "none");
                }
        }
        for (size_t i = 0; opts && opts[i]; i++)
                if (!streq(opts[i], "--map-gw"))
                        strv_push(&argv, opts[i]);
        return argv;
}

/* What pasta said (its stderr, whatever is in the pipe once it exited), on
 * one line: its messages without their timestamps ("1796309719.5402: "),
 * up to the usage text it prints after a bad option. */
char *pasta_message(const char *text)
{
        char *out = xstrdup("");
        const char *line = text;
        while (line && *line) {
                size_t len = strcspn(line, "\n");
                cleanup_free char *l = xstrndup(line, len);
                line += len + (line[len] == '\n');
                if (startswith(l, "Usage:"))
                        break;
                if (!*l || isspace((unsigned char) l[0]))
                        continue;
                const char *m = l;
                size_t digits = strspn(m, "0123456789.");
                if (digits > 0 && startswith(m + digits, ": "))
                        m += digits + 2;
                char *t = xasprintf("%s%s%s", out, *out ? "; " : "", m);
                free(out);
                out = t;
        }
        return out;
}

static char *pasta_said(int fd)
{
        char buf[4096];
        size_t n = 0;
        ssize_t r;
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
        while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
                n += (size_t) r;
        buf[n] = '\0';
        return pasta_message(buf);
}

/* Run pasta for the network namespace of pid: 0 once it is in the
 * background with the tap configured. */
static int pasta_run(const char *name, pid_t pid, const char *pidfile, json_t *ports, char *const *opts,
                     berth_error_t *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return berth_error(err, errno, "open the network namespace of %s", name);
        return pasta_run_netns(name, nsfd, pidfile, ports, opts, err);
}

int pasta_run_netns(const char *name, int nsfd, const char *pidfile, json_t *ports, char *const *opts,
                    berth_error_t *err)
{
        cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        int out[2];
        if (devnull < 0 || pipe2(out, O_CLOEXEC) < 0)
                return berth_error(err, errno, "start pasta");
        cleanup_strv char **argv = pasta_argv("/proc/self/fd/3", pidfile, ports, opts);
        pid_t child = fork();
        if (child < 0) {
                close(out[0]);
                close(out[1]);
                return berth_error(err, errno, "fork pasta");
        }
        if (child == 0) {
                /* fd 3 the namespace; nothing else of the shim's */
                if (dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0 ||
                    (nsfd == 3 ? fcntl(3, F_SETFD, 0) : dup2(nsfd, 3)) < 0)
                        _exit(126);
                syscall(SYS_close_range, 4, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
                /* signals as a fresh process has them: the unit ignores
                 * SIGPIPE (systemd's IgnoreSIGPIPE=), and Debian 12's pasta
                 * takes SIG_IGN as SIGPIPE's old disposition for a failure */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(out[1]);
        int status;
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR) {
                        close(out[0]);
                        return berth_error(err, errno, "wait for pasta");
                }
        cleanup_free char *said = pasta_said(out[0]);
        close(out[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return berth_error(err, 0, "pasta is not installed (Debian: apt-get install passt): a user's "
                                           "containers need it for their network (or use --network none|host)");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "pasta could not set up the network of %s: %s", name,
                                   *said ? said : "it failed without a message");
        return 0;
}

int pasta_publish(struct berth_store *s, struct berth_container *c, pid_t pid, json_t **out, berth_error_t *err)
{
        json_auto_t *ports = NULL;
        {
                cleanup_close int lfd = network_state_lock(s, err);
                if (lfd < 0 || network_ports_reserve(s, c, &ports, err) < 0)
                        return -1;
        }
        cleanup_strv char **opts = json_strv(json_at(c->config, "Berth.PastaOptions"));
        cleanup_free char *pidfile = store_run_path(s, "containers/%s/pasta.pid", c->id);
        if (pasta_run(c->name, pid, pidfile, ports, opts, err) < 0)
                return -1;
        *out = json_incref(ports);
        return 0;
}

int pasta_attach(struct berth_store *s, struct berth_container *c, pid_t pid, berth_error_t *err)
{
        json_auto_t *ports = NULL;
        if (pasta_publish(s, c, pid, &ports, err) < 0)
                return -1;
        network_ports_add_exposed(c->config, ports);
        /* pasta copies the host's address: there is none of berth's to list */
        json_object_set_new(c->state, "NetworkSettings",
                            json_pack("{s:s, s:{}, s:O, s:s, s:s, s:i, s:s, s:s}", "SandboxKey", "", "Networks",
                                      "Ports", ports, "IPAddress", "", "Gateway", "", "IPPrefixLen", 0,
                                      "MacAddress", "", "Bridge", ""));
        return 0;
}

/* The pasta of the pid file, if it still is one: its command line starts
 * with "pasta" (the binary may be passt.avx2).  A pidfd, so the check and
 * the signal are about the same process. */
static int pasta_pidfd(const char *pidfile)
{
        cleanup_free char *text = NULL;
        if (read_file(pidfile, &text, NULL, NULL) < 0)
                return -1;
        int pid = atoi(text);
        if (pid <= 1)
                return -1;
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -1;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
        cleanup_free char *cmd = NULL;
        if (read_file(path, &cmd, NULL, NULL) < 0 || !streq(cmd, "pasta")) {
                close(fd);
                return -1;
        }
        return fd;
}

void pasta_detach(struct berth_store *s, struct berth_container *c)
{
        /* systemd ends pasta with the unit's cgroup, unless the unit keeps
         * what outlives its main process (KillMode=process: a user's log
         * relay): then here, and before the ports are given back */
        cleanup_free char *pidfile = store_run_path(s, "containers/%s/pasta.pid", c->id);
        cleanup_close int pfd = pasta_pidfd(pidfile);
        if (pfd >= 0 && syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0) == 0) {
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                if (poll(&p, 1, 2000) == 0)
                        (void) syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        }
        (void) unlink(pidfile);
        berth_error_t e = NULL;
        cleanup_close int lfd = network_state_lock(s, &e);
        berth_error_free(&e);
        json_decref(network_ports_release(s, c->id));
        json_t *ns = json_object_get(c->state, "NetworkSettings");
        if (ns)
                json_object_set_new(ns, "Ports", json_object());
}
