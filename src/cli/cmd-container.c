/* berth stop / restart / kill / pause / unpause / rename / rm / wait / top:
 * the commands that act on existing containers by name or ID.  (start is in
 * cmd-run.c, the unit hooks _shim and _cleanup in cmd-hooks.c.) */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/lifecycle.h"
#include "berth/parse.h"
#include "berth/runtime.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"

/* Run fn on each named container, printing errors for all but failing as a
 * whole like Docker (exit 1 if any failed; a single failure is the error). */
typedef int (*each_fn)(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err);

static int for_each_container(struct berth_cli *cli, int argc, char **argv, bool need_bus, each_fn fn, void *data,
                              bool print_name, berth_error_t *err)
{
        cleanup_bus sd_bus *bus = NULL;
        if (need_bus && unit_bus_open(&bus, err) < 0)
                return -1;
        int failed = 0;
        berth_error_t last = NULL;
        for (int i = optind; i < argc; i++) {
                cleanup_container struct berth_container *c = NULL;
                berth_error_t e = NULL;
                if (container_lookup(&cli->store, argv[i], &c, &e) >= 0 && fn(cli, bus, c, data, &e) >= 0) {
                        if (print_name)
                                printf("%s\n", argv[i]);
                        continue;
                }
                failed++;
                if (last) {
                        fprintf(stderr, "berth: %s\n", last->msg);
                        berth_error_free(&last);
                }
                last = e;
        }
        if (last) {
                *err = last;
                (*err)->exit_code = 1; /* as docker: "Error response from daemon: ...", exit 1 */
                return -1;
        }
        return 0;
}

static int parse_simple(const char *cmd, const char *usage, int argc, char **argv, const char *shortopts,
                        const struct option *opts, int (*on_opt)(int c, void *data, berth_error_t *err), void *data,
                        berth_error_t *err)
{
        int c;
        while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
                if (c == 'H') {
                        fputs(usage, stdout);
                        return 1;
                }
                if (c == '?' || !on_opt || on_opt(c, data, err) < 0)
                        return *err ? -1 : cli_usage_error(err, cmd, "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, cmd, "requires at least 1 argument");
        return 0;
}

/* ---- stop / restart ---- */
static int on_time_opt(int c, void *data, berth_error_t *err)
{
        long long ns;
        if (c != 't' || parse_duration(optarg, &ns, err) < 0)
                return -1;
        *(int *) data = (int) (ns / 1000000000LL);
        return 0;
}

static int do_stop(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err)
{
        return container_stop(&cli->store, bus, c, *(int *) data, err);
}

static const struct option time_opts[] = {
        { "time", required_argument, NULL, 't' }, { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'H' }, {},
};

int cmd_stop(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        int timeout = -1;
        int r = parse_simple("stop", "Usage:  berth stop [-t SECONDS] CONTAINER [CONTAINER...]\n", argc, argv, "t:",
                             time_opts, on_time_opt, &timeout, err);
        if (r != 0)
                return r < 0 ? r : 0;
        return for_each_container(cli, argc, argv, true, do_stop, &timeout, true, err);
}

static int do_restart(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err)
{
        if (container_stop(&cli->store, bus, c, *(int *) data, err) < 0)
                return -1;
        if (access(c->dir, F_OK) < 0)
                return berth_error(err, 0, "container %s was started with --rm: stopping it removed it", c->name);
        cleanup_container struct berth_container *fresh = NULL;
        if (container_load(&cli->store, c->id, &fresh, err) < 0)
                return -1;
        struct start_io io = {};
        if (container_start(&cli->store, bus, cli->self, fresh, &io, err) < 0)
                return -1;
        container_event(fresh, "restart", NULL); /* after stop, die, start: Docker's order */
        return 0;
}

int cmd_restart(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        int timeout = -1;
        int r = parse_simple("restart", "Usage:  berth restart [-t SECONDS] CONTAINER [CONTAINER...]\n", argc, argv,
                             "t:", time_opts, on_time_opt, &timeout, err);
        if (r != 0)
                return r < 0 ? r : 0;
        return for_each_container(cli, argc, argv, true, do_restart, &timeout, true, err);
}

/* ---- kill ---- */
static int on_signal_opt(int c, void *data, berth_error_t *err)
{
        if (c != 's')
                return -1;
        return parse_signal(optarg, (int *) data, err);
}

static int do_kill(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err)
{
        return container_kill(bus, c, *(int *) data, err);
}

int cmd_kill(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "signal", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'H' }, {},
        };
        int sig = SIGKILL;
        int r = parse_simple("kill", "Usage:  berth kill [-s SIGNAL] CONTAINER [CONTAINER...]\n", argc, argv, "s:",
                             opts, on_signal_opt, &sig, err);
        if (r != 0)
                return r < 0 ? r : 0;
        return for_each_container(cli, argc, argv, true, do_kill, &sig, true, err);
}

/* ---- pause / unpause ---- */
static int do_pause(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err)
{
        return *(bool *) data ? container_pause(bus, c, err) : container_unpause(bus, c, err);
}

static int pause_or_unpause(struct berth_cli *cli, int argc, char **argv, bool pause, berth_error_t *err)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'H' }, {} };
        const char *usage = pause ? "Usage:  berth pause CONTAINER [CONTAINER...]\n\nPause all processes within one or more containers\n"
                                  : "Usage:  berth unpause CONTAINER [CONTAINER...]\n\nUnpause all processes within one or more containers\n";
        int r = parse_simple(argv[0], usage, argc, argv, "", opts, NULL, NULL, err);
        if (r != 0)
                return r < 0 ? r : 0;
        return for_each_container(cli, argc, argv, true, do_pause, &pause, true, err);
}

int cmd_pause(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        return pause_or_unpause(cli, argc, argv, true, err);
}

int cmd_unpause(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        return pause_or_unpause(cli, argc, argv, false, err);
}

/* ---- rename ---- */
int cmd_rename(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'H' }, {} };
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'H') {
                        puts("Usage:  berth rename CONTAINER NEW_NAME\n\nRename a container");
                        return 0;
                }
                return cli_usage_error(err, "rename", "unknown option '%s'", argv[optind - 1]);
        }
        if (argc - optind != 2)
                return cli_usage_error(err, "rename", "\"rename\" requires exactly 2 arguments");
        cleanup_container struct berth_container *ct = NULL;
        if (container_lookup(&cli->store, argv[optind], &ct, err) < 0)
                return -1;
        return container_rename(&cli->store, ct, argv[optind + 1], err);
}

/* ---- rm ---- */
struct rm_opts {
        bool force, volumes;
};

static int on_rm_opt(int c, void *data, berth_error_t *err)
{
        struct rm_opts *o = data;
        if (c == 'f')
                o->force = true;
        else if (c == 'v')
                o->volumes = true;
        else
                return -1;
        return 0;
}

static int do_rm(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err)
{
        struct rm_opts *o = data;
        if (container_is_running(c)) {
                if (!o->force)
                        return berth_error(err, 0,
                                           "cannot remove container \"/%s\": container is running: stop the container "
                                           "before removing or force remove",
                                           c->name);
                (void) unit_kill(bus, container_unit(c), "all", SIGKILL, NULL);
                if (unit_stop(bus, container_unit(c), err) < 0 ||
                    container_await_cleaner(&cli->store, c, err) < 0)
                        return -1;
                if (access(c->dir, F_OK) < 0)
                        return 0; /* a --rm container: its stop hook (or client) removed it */
        }
        /* Serialise with a stop hook that may still be running. */
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        if (container_remove(&cli->store, c, err) < 0)
                return -1;
        if (o->volumes) /* rm -v: its anonymous volumes go too */
                volume_remove_anonymous(&cli->store, c->config);
        return 0;
}

int cmd_rm(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'H' }, {},
        };
        struct rm_opts o = {};
        int r = parse_simple("rm", "Usage:  berth rm [-f] [-v] CONTAINER [CONTAINER...]\n", argc, argv, "fv", opts,
                             on_rm_opt, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        return for_each_container(cli, argc, argv, true, do_rm, &o, true, err);
}

/* ---- wait ---- */
static int do_wait(struct berth_cli *cli, sd_bus *bus, struct berth_container *c, void *data, berth_error_t *err)
{
        int code;
        if (container_wait(&cli->store, bus, c, &code, err) < 0)
                return -1;
        printf("%d\n", code);
        fflush(stdout);
        return 0;
}

int cmd_wait(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'H' }, {} };
        int r = parse_simple("wait", "Usage:  berth wait CONTAINER [CONTAINER...]\n", argc, argv, "", opts, NULL, NULL,
                             err);
        if (r != 0)
                return r < 0 ? r : 0;
        return for_each_container(cli, argc, argv, true, do_wait, NULL, false, err);
}

/* ---- top: ps over the processes of the container's cgroup ---- */
static char *unit_cgroup_procs(pid_t pid)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/cgroup", (int) pid);
        cleanup_free char *text = NULL;
        if (read_file(p, &text, NULL, NULL) < 0)
                return NULL;
        /* prefer the unified hierarchy, then systemd's named one (hybrid hosts) */
        char *unified = NULL, *named = NULL;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "0::"))
                        unified = line + 3;
                else if (strstr(line, ":name=systemd:"))
                        named = strstr(line, ":name=systemd:") + 14;
        }
        if (unified) {
                char *path = xasprintf("/sys/fs/cgroup%s/cgroup.procs", unified);
                if (access(path, R_OK) == 0)
                        return path;
                free(path);
                path = xasprintf("/sys/fs/cgroup/unified%s/cgroup.procs", unified);
                if (access(path, R_OK) == 0)
                        return path;
                free(path);
        }
        if (named)
                return xasprintf("/sys/fs/cgroup/systemd%s/cgroup.procs", named);
        return NULL;
}

int cmd_top(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'H' }, {} };
        int r = parse_simple("top", "Usage:  berth top CONTAINER [ps OPTIONS]\n", argc, argv, "+", opts, NULL, NULL, err);
        if (r != 0)
                return r < 0 ? r : 0;
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, argv[optind], &c, err) < 0)
                return -1;
        if (!container_is_running(c))
                return berth_error(err, 0, "container %s is not running", c->name);
        /* The unit's cgroup, not the container's PID namespace, so processes
         * that exec'd in are listed too.  Like Docker, `ps` does the display. */
        cleanup_free char *procs_path = unit_cgroup_procs(json_int(c->state, "Pid", 0));
        cleanup_free char *procs = NULL;
        if (!procs_path || read_file(procs_path, &procs, NULL, err) < 0)
                return berth_error(err, 0, "cannot find the processes of container %s", c->name);
        /* ... those in the container's PID namespace: not a user's log
         * relay (log-relay.h), which is of the unit but not the container */
        struct stat main_ns, ns;
        char nspath[64];
        snprintf(nspath, sizeof(nspath), "/proc/%lld/ns/pid", json_int(c->state, "Pid", 0));
        struct strbuf kept = {};
        bool have_ns = stat(nspath, &main_ns) == 0;
        char *pos = NULL;
        for (char *tok = strtok_r(procs, "\n", &pos); tok; tok = strtok_r(NULL, "\n", &pos)) {
                snprintf(nspath, sizeof(nspath), "/proc/%s/ns/pid", tok);
                if (have_ns && stat(nspath, &ns) == 0 && ns.st_ino != main_ns.st_ino)
                        continue;
                strbuf_printf(&kept, "%s\n", tok);
        }
        cleanup_free char *kept_text = strbuf_steal(&kept);
        cleanup_free char *procs_nl = xasprintf("\n%s\n", kept_text ? kept_text : ""); /* "\nPID\n" lookups */
        /* As docker: run `ps [ARGS]` (default -ef) over the whole system
         * and keep the header and the lines whose PID is the container's. */
        cleanup_strv char **ps = NULL;
        strv_push(&ps, "ps");
        if (optind + 1 < argc)
                for (int i = optind + 1; i < argc; i++)
                        strv_push(&ps, argv[i]);
        else
                strv_push(&ps, "-ef");
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(pfd[1], 1);
                execvp("ps", ps);
                _exit(127);
        }
        close(pfd[1]);
        cleanup_fclose FILE *out = fdopen(pfd[0], "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int pid_col = -1;
        for (bool header = true; out && (len = getline(&line, &cap, out)) > 0; header = false) {
                /* which whitespace-separated column is PID */
                cleanup_free char *copy = xstrdup(line);
                char *save = NULL;
                int col = 0;
                bool keep = header;
                for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++) {
                        if (header && streq(tok, "PID"))
                                pid_col = col;
                        if (!header && col == pid_col) {
                                char pat[32];
                                snprintf(pat, sizeof(pat), "\n%s\n", tok);
                                keep = strstr(procs_nl, pat) != NULL;
                        }
                }
                if (header && pid_col < 0) {
                        free(line);
                        waitpid(pid, NULL, 0);
                        return berth_error(err, 0, "top: ps output has no PID column (give ps options that show it)");
                }
                if (keep)
                        fputs(line, stdout);
        }
        free(line);
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return berth_error(err, errno, "run ps");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "top: ps %s failed (exit %d)", optind + 1 < argc ? "with these options" : "-ef",
                                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 0;
}

