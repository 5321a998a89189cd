/* berth run / create / start. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/cli.h"
#include "berth/container-spec.h"
#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/lifecycle.h"
#include "berth/limits.h"
#include "berth/parse.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"

enum {
        OPT_SIG_PROXY = 1000, OPT_CIDFILE, OPT_HELP,
        OPT_SPEC = 2000,  /* + index in container_spec_options[] */
        OPT_LIMIT = 3000, /* + index in limit_defs[] */
};

/* What only the command line has besides the spec: where to write the ID,
 * and whether `run` forwards signals. */
struct run_opts {
        struct container_spec spec;
        bool sig_proxy;
        char *cidfile; /* absolute */
};

static void run_opts_free(struct run_opts *o)
{
        container_spec_clear(&o->spec);
        free(o->cidfile);
}

static const char run_usage[] =
        "Usage:  berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "Options:\n"
        "  -d, --detach              Run container in background and print container ID\n"
        "  -i, --interactive         Keep STDIN open\n"
        "  -t, --tty                 Allocate a pseudo-TTY\n"
        "      --rm                  Remove the container when it exits\n"
        "      --name string         Assign a name to the container\n"
        "  -e, --env list            Set environment variables\n"
        "      --env-file list       Read in a file of environment variables\n"
        "  -v, --volume list         Bind mount a host path or a volume ([HOST_PATH|NAME:]CONTAINER[:ro])\n"
        "      --mount mount         Attach a filesystem mount (type=bind|volume|tmpfs,source=,target=,readonly)\n"
        "      --tmpfs list          Mount a tmpfs directory\n"
        "      --secret list         Put a secret in the container (NAME[,target=PATH,uid=,gid=,mode=])\n"
        "  -w, --workdir string      Working directory inside the container\n"
        "  -u, --user string         Username or UID (format: <name|uid>[:<group|gid>])\n"
        "      --userns string       User namespace: host, auto[:size=N] (root; the berth entries of /etc/subuid),\n"
        "                            keep-id[:uid=N,gid=N] or nomap (a user's berth)\n"
        "      --uidmap list         Map container ids to host ids (CONTAINER:HOST:SIZE) in a user namespace\n"
        "      --gidmap list         Map container group ids to host ids (CONTAINER:HOST:SIZE)\n"
        "      --subuidname string   Map the container's ids to NAME's ranges of /etc/subuid\n"
        "      --subgidname string   Map the container's group ids to NAME's ranges of /etc/subgid\n"
        "      --entrypoint string   Overwrite the default ENTRYPOINT of the image\n"
        "  -h, --hostname string     Container host name\n"
        "      --network string      Connect a container to a network (bridge, host, none, NAME, container:NAME,\n"
        "                            name=NAME,alias=A,ip=IP); repeat for several user networks\n"
        "      --network-alias list  Add network-scoped aliases for the container (user networks)\n"
        "  -p, --publish list        Publish a container's port(s) to the host ([IP:]HOSTPORT:PORT[/udp], PORT)\n"
        "  -P, --publish-all         Publish all exposed ports to random ports\n"
        "      --expose list         Expose a port or a range of ports (PORT[-END][/udp]) without publishing it\n"
        "      --restart string      Restart policy (no, always, on-failure[:N], unless-stopped)\n"
        "  -l, --label list          Set meta data on a container\n"
        "      --label-file list     Read in a line delimited file of labels\n"
        "      --cidfile string      Write the container ID to the file\n"
        "      --cap-add list        Add Linux capabilities\n"
        "      --cap-drop list       Drop Linux capabilities\n"
        "      --privileged          Give extended privileges to this container\n"
        "      --device list         Add a host device to the container (HOST[:CONTAINER][:rwm])\n"
        "      --device-cgroup-rule list  Add a rule to the cgroup allowed devices list ('c 1:3 rwm')\n"
        "      --read-only           Mount the container's root filesystem as read only\n"
        "      --security-opt list   seccomp=unconfined|PROFILE.json, no-new-privileges\n"
        "      --init                Run an init inside the container that forwards signals and reaps processes\n"
        "      --stop-signal string  Signal to stop the container\n"
        "      --stop-timeout int    Timeout (in seconds) to stop a container\n"
        "      --ulimit ulimit       Ulimit options (NAME=SOFT[:HARD], as systemd's LimitNAME=)\n"
        "Resource limits (systemd unit properties):\n"
        "  -m, --memory, --memory-reservation, --memory-swap, --cpus, --cpu-shares,\n"
        "      --cpuset-cpus, --pids-limit, --blkio-weight, --device-read-bps, --device-write-bps\n";

/* getopt's table: the spec's options, the limit flags, the command line's own. */
static struct option *build_options(void)
{
        static const struct option own[] = {
                { "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
                { "cidfile", required_argument, NULL, OPT_CIDFILE },
                { "help", no_argument, NULL, OPT_HELP },
        };
        size_t n = container_spec_options_count, k = 0;
        struct option *o = xcalloc(ARRAY_SIZE(own) + n + limit_defs_count + 1, sizeof(*o));
        for (size_t i = 0; i < n; i++)
                o[k++] = (struct option) { container_spec_options[i].name,
                                           container_spec_options[i].has_arg ? required_argument : no_argument,
                                           NULL, OPT_SPEC + (int) i };
        for (size_t i = 0; i < limit_defs_count; i++) {
                if (streq(limit_defs[i].flag, "restart"))
                        continue; /* a spec option: it also shapes the restart policy in inspect */
                o[k++] = (struct option) { limit_defs[i].flag, required_argument, NULL, OPT_LIMIT + (int) i };
        }
        memcpy(o + k, own, sizeof(own));
        return o;
}

/* The long name of what getopt returned: a short letter is the spec option
 * (or limit, -m) with that letter. */
static const char *option_name(int c)
{
        if (c >= OPT_LIMIT && c < OPT_LIMIT + (int) limit_defs_count)
                return limit_defs[c - OPT_LIMIT].flag;
        if (c >= OPT_SPEC && c < OPT_SPEC + (int) container_spec_options_count)
                return container_spec_options[c - OPT_SPEC].name;
        for (size_t i = 0; c > 0 && c < 128 && i < container_spec_options_count; i++)
                if (container_spec_options[i].short_name == c)
                        return container_spec_options[i].name;
        char letter[2] = { (char) c, 0 };
        const struct limit_def *def = c > 0 && c < 128 ? limit_by_flag(letter) : NULL;
        return def ? def->flag : NULL;
}

static int parse_run_opts(const char *cmd, int argc, char **argv, struct run_opts *o, berth_error_t *err)
{
        cleanup_free struct option *opts = build_options();
        container_spec_init(&o->spec);
        o->sig_proxy = true;
        int c;
        /* Every path is made absolute by the spec's setters, relative to the
         * working directory, before anything changes directory or namespace.
         * "+": options end at the image name, the rest is the command */
        while ((c = getopt_long(argc, argv, "+ditm:e:v:w:u:h:p:Pl:", opts, NULL)) != -1) {
                const char *name;
                switch (c) {
                case OPT_CIDFILE:
                        free(o->cidfile);
                        o->cidfile = path_absolute(NULL, optarg);
                        break;
                case OPT_SIG_PROXY:
                        if (!parse_bool_flag(optarg, &o->sig_proxy))
                                return cli_usage_error(err, cmd, "invalid value `%s` for --sig-proxy", optarg);
                        break;
                case OPT_HELP:
                        printf(run_usage, cmd);
                        return 1;
                default:
                        name = option_name(c);
                        if (!name)
                                return cli_usage_error(err, cmd, "unknown or incomplete option '%s'",
                                                       argv[optind - 1]);
                        if (container_spec_set(&o->spec, name, optarg, NULL, err) < 0)
                                return -1;
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, cmd, "requires at least 1 argument");
        o->spec.image = xstrdup(argv[optind]);
        o->spec.command = argc > optind + 1 ? strv_copy(argv + optind + 1) : NULL;
        return container_spec_finish(&o->spec, err);
}

static int create_container(struct berth_cli *cli, const char *cmd, int argc, char **argv, struct run_opts *o,
                            struct berth_container **out, berth_error_t *err)
{
        int r = parse_run_opts(cmd, argc, argv, o, err);
        if (r != 0)
                return r;
        /* --cidfile: taken before anything is made, removed if nothing is, as Docker's */
        cleanup_close int cidfd = -1;
        if (o->cidfile) {
                cidfd = open(o->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (cidfd < 0 && errno == EEXIST)
                        return berth_error(err, 0, "container ID file found, make sure the other container isn't "
                                                   "running or delete %s", o->cidfile);
                if (cidfd < 0)
                        return berth_error(err, errno, "failed to create the container ID file %s", o->cidfile);
        }
        struct container_progress progress = { .out = stderr };
        r = container_create_from_spec(&cli->store, &o->spec, &progress, out, err);
        if (cidfd >= 0) {
                if (r < 0)
                        (void) unlink(o->cidfile);
                else if (write_all(cidfd, (*out)->id, strlen((*out)->id)) < 0)
                        berth_warn("cannot write the container ID to %s: %m", o->cidfile);
        }
        return r;
}

int cmd_create(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        struct run_opts o = {};
        cleanup_container struct berth_container *c = NULL;
        int r = create_container(cli, "create", argc, argv, &o, &c, err);
        run_opts_free(&o);
        if (r != 0)
                return r < 0 ? r : 0;
        printf("%s\n", c->id);
        return 0;
}

int cmd_run(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        struct run_opts o = {};
        cleanup_container struct berth_container *c = NULL;
        int r = create_container(cli, "run", argc, argv, &o, &c, err);
        if (r != 0) {
                run_opts_free(&o);
                return r < 0 ? r : 0;
        }
        cleanup_bus sd_bus *bus = NULL;
        struct start_io io = { .attach = !o.spec.detach, .stdin_ = o.spec.interactive, .tty = o.spec.tty,
                               .sig_proxy = o.sig_proxy };
        bool rm = o.spec.rm;
        run_opts_free(&o);
        if (unit_bus_open(&bus, err) < 0)
                goto fail;
        r = container_start(&cli->store, bus, cli->self, c, &io, err);
        if (r < 0)
                goto fail;
        if (!io.attach)
                printf("%s\n", c->id);
        return r;
fail:
        /* A container that never ran and asked for --rm leaves nothing behind. */
        if (rm) {
                berth_error_t e = NULL;
                container_remove(&cli->store, c, &e);
                berth_error_free(&e);
                volume_remove_anonymous(&cli->store, c->config);
        }
        return -1;
}

int cmd_start(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "attach", no_argument, NULL, 'a' },
                { "interactive", no_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool attach = false, interactive = false;
        int ch;
        while ((ch = getopt_long(argc, argv, "ai", opts, NULL)) != -1) {
                switch (ch) {
                case 'a': attach = true; break;
                case 'i': interactive = true; break;
                case 'h':
                        puts("Usage:  berth start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
                             "  -a, --attach        Attach STDOUT/STDERR and forward signals\n"
                             "  -i, --interactive   Attach container's STDIN");
                        return 0;
                default: return cli_usage_error(err, "start", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "start", "requires at least 1 argument");
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                cleanup_container struct berth_container *c = NULL;
                berth_error_t e = NULL;
                int r = container_lookup(&cli->store, argv[i], &c, &e);
                if (r >= 0) {
                        struct start_io io = { .attach = attach, .stdin_ = interactive,
                                               .tty = attach && json_bool(c->config, "Config.Tty"), .sig_proxy = true };
                        r = container_start(&cli->store, bus, cli->self, c, &io, &e);
                        if (r >= 0 && !attach)
                                printf("%s\n", argv[i]);
                        if (r > 0)
                                ret = r;
                }
                if (r < 0) {
                        if (argc - optind == 1) {
                                *err = e;
                                return -1;
                        }
                        fprintf(stderr, "berth: %s\n", e->msg);
                        berth_error_free(&e);
                        ret = 1;
                }
        }
        return ret;
}
