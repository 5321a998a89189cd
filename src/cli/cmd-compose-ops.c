/* berth compose logs | start | stop | restart | exec | top | run | rm: the
 * commands that work on what `compose up` made, as Docker Compose v2 does.
 * A service's container is PROJECT-SERVICE-1 (or its container_name), its
 * unit container@NAME.service; the output comes from the journal. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include "berth/cli.h"
#include "berth/compose-units.h"
#include "berth/compose.h"
#include "berth/container.h"
#include "berth/definition.h"
#include "berth/journal.h"
#include "berth/json-util.h"
#include "berth/lifecycle.h"
#include "berth/parse.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"

/* The project and the one service a command names. */
static int load_one(const struct compose_options *co, char *name, struct compose_project **p,
                    const struct compose_service **s, berth_error_t *err)
{
        char *names[] = { name, NULL };
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, names, p, &v, err) < 0)
                return -1;
        *s = v[0];
        return 0;
}

/* The service's container when it exists (NULL when not). */
static struct berth_container *service_container(struct berth_cli *cli, const struct compose_project *p,
                                                 const struct compose_service *s)
{
        cleanup_free char *name = compose_container_name(p, s, 1);
        struct berth_container *c = NULL;
        berth_error_t e = NULL;
        if (container_lookup(&cli->store, name, &c, &e) < 0)
                berth_error_free(&e);
        return c;
}

static volatile int interrupted;

static void on_interrupt(int sig)
{
        interrupted = 1;
}

/* ---- logs ----------------------------------------------------------------- */

static int compose_logs_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                            berth_error_t *err)
{
        enum { OPT_NO_COLOR = 1000, OPT_NO_PREFIX, OPT_SINCE, OPT_UNTIL, OPT_INDEX, OPT_HELP };
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' },          { "timestamps", no_argument, NULL, 't' },
                { "tail", required_argument, NULL, 'n' },      { "no-color", no_argument, NULL, OPT_NO_COLOR },
                { "no-log-prefix", no_argument, NULL, OPT_NO_PREFIX }, { "since", required_argument, NULL, OPT_SINCE },
                { "until", required_argument, NULL, OPT_UNTIL }, { "index", required_argument, NULL, OPT_INDEX },
                { "help", no_argument, NULL, OPT_HELP },       {},
        };
        struct logs_opts o = { .tail = -1 };
        bool prefix = true;
        int c;
        while ((c = getopt_long(argc, argv, "ftn:", opts, NULL)) != -1) {
                switch (c) {
                case 'f': o.follow = true; break;
                case 't': o.timestamps = true; break;
                case OPT_NO_COLOR: break; /* berth prints no colours */
                case OPT_NO_PREFIX: prefix = false; break;
                case 'n':
                        if (compose_parse_tail(optarg, &o.tail) < 0)
                                return cli_usage_error(err, "compose logs", "invalid --tail '%s': a number or all",
                                                       optarg);
                        break;
                case OPT_SINCE:
                case OPT_UNTIL:
                        if (parse_timestamp(optarg, now_ns(), c == OPT_SINCE ? &o.since_ns : &o.until_ns, err) < 0)
                                return -1;
                        break;
                case OPT_INDEX:
                        if (!streq(optarg, "1"))
                                return berth_error(err, 0, "compose logs: --index %s: berth runs one container per service",
                                                   optarg);
                        break;
                case OPT_HELP:
                        puts("Usage:  berth compose logs [OPTIONS] [SERVICE...]\n\n"
                             "View output from the services' containers (from the journal)\n\n"
                             "Options:\n"
                             "  -f, --follow          Follow log output\n"
                             "      --no-color        Produce monochrome output\n"
                             "      --no-log-prefix   Don't print prefix in logs\n"
                             "      --since string    Show logs since timestamp or relative (e.g. 42m)\n"
                             "  -n, --tail string     Number of lines to show from the end of the logs for each\n"
                             "                        container (default \"all\")\n"
                             "  -t, --timestamps      Show timestamps\n"
                             "      --until string    Show logs before a timestamp or relative (e.g. 42m)");
                        return 0;
                default: return cli_usage_error(err, "compose logs", "unknown option '%s'", argv[optind - 1]);
                }
        }
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        cleanup_strv char **ids = xcalloc(1, sizeof(char *)), **labels = xcalloc(1, sizeof(char *));
        for (size_t i = 0; v[i]; i++) {
                cleanup_container struct berth_container *ct = service_container(cli, p, v[i]);
                if (!ct)
                        continue;
                cleanup_free char *label = compose_log_prefix_label(v[i], 1);
                strv_push(&ids, ct->id);
                strv_push(&labels, label);
        }
        if (!ids[0])
                return 0; /* nothing made yet: nothing to show, as Docker Compose */
        cleanup_strv char **prefixes = prefix ? compose_log_prefixes(labels) : NULL;
        struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term; /* no SA_RESTART */
        if (o.follow) {
                sigaction(SIGINT, &sa, &old_int);
                sigaction(SIGTERM, &sa, &old_term);
        }
        int r = journal_show_many(ids, prefixes, &o, &interrupted, err);
        if (o.follow) {
                sigaction(SIGINT, &old_int, NULL);
                sigaction(SIGTERM, &old_term, NULL);
        }
        return r < 0 ? -1 : 0;
}

/* ---- start / stop / restart ------------------------------------------------ */

static int compose_lifecycle_cmd(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc,
                                 char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'H' }, {},
        };
        bool start = streq(sub, "start"), restart = streq(sub, "restart");
        cleanup_free char *cmd = xasprintf("compose %s", sub);
        int timeout = -1;
        int c;
        while ((c = getopt_long(argc, argv, start ? "" : "t:", opts, NULL)) != -1) {
                switch (c) {
                case 't': {
                        int64_t t;
                        berth_error_t e = NULL;
                        if (start || parse_int64(optarg, &t, &e) < 0 || t < 0 || t > INT32_MAX) {
                                berth_error_free(&e);
                                return cli_usage_error(err, cmd, start ? "unknown option '-t'"
                                                                        : "invalid --timeout '%s': seconds", optarg);
                        }
                        timeout = (int) t;
                        break;
                }
                case 'H':
                        printf("Usage:  berth compose %s [OPTIONS] [SERVICE...]\n\n%s\n", sub,
                               start ? "Start the services' units (made by 'compose up')"
                               : restart ? "Restart the services' containers\n\nOptions:\n"
                                           "  -t, --timeout int   Specify a shutdown timeout in seconds"
                                         : "Stop the services' containers without removing them\n\nOptions:\n"
                                           "  -t, --timeout int   Specify a shutdown timeout in seconds");
                        return 0;
                default: return cli_usage_error(err, cmd, "unknown option '%s'", argv[optind - 1]);
                }
        }
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0)
                return -1;
        /* start needs the definitions up wrote; stop and restart skip what is not there */
        cleanup_strv char **names = xcalloc(1, sizeof(char *));
        for (size_t i = 0; v[i]; i++) {
                cleanup_free char *name = compose_container_name(p, v[i], 1), *path = NULL;
                berth_error_t e = NULL;
                if (definition_find_kind(name, DEFINITION_CONTAINER, &path, &e) < 0) {
                        berth_error_free(&e);
                        if (start)
                                return berth_error(err, 0, "service \"%s\" has no container to start: run 'berth "
                                                           "compose up' first", v[i]->name);
                        continue;
                }
                strv_push(&names, name);
        }
        if (!names[0])
                return 0;
        if (cli_store_open(cli, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        for (size_t i = 0; names[i]; i++) {
                cleanup_free char *unit = definition_unit_name(DEFINITION_CONTAINER, names[i]);
                if (!start) {
                        cleanup_container struct berth_container *ct = NULL;
                        berth_error_t e = NULL;
                        if (container_lookup(&cli->store, names[i], &ct, &e) < 0)
                                berth_error_free(&e);
                        else if (container_stop(&cli->store, bus, ct, timeout, err) < 0)
                                return -1;
                        unit_reset_failed(bus, unit); /* stopped by a signal is no failure */
                        fprintf(stderr, " Container %s  Stopped\n", names[i]);
                        if (!restart)
                                continue;
                }
                if (unit_start(bus, unit, err) < 0)
                        return -1;
                fprintf(stderr, " Container %s  Started\n", names[i]);
        }
        return 0;
}

/* ---- exec ----------------------------------------------------------------- */

static int compose_exec_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                            berth_error_t *err)
{
        enum { OPT_INDEX = 1000, OPT_PRIVILEGED, OPT_HELP };
        static const struct option opts[] = {
                { "detach", no_argument, NULL, 'd' },        { "no-TTY", no_argument, NULL, 'T' },
                { "tty", no_argument, NULL, 't' },           { "interactive", no_argument, NULL, 'i' },
                { "user", required_argument, NULL, 'u' },    { "workdir", required_argument, NULL, 'w' },
                { "env", required_argument, NULL, 'e' },     { "index", required_argument, NULL, OPT_INDEX },
                { "privileged", no_argument, NULL, OPT_PRIVILEGED }, { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        bool no_tty = false;
        cleanup_strv char **xargv = NULL;
        strv_push(&xargv, "exec");
        int c;
        while ((c = getopt_long(argc, argv, "+dTtiu:w:e:", opts, NULL)) != -1) {
                switch (c) {
                case 'd': strv_push(&xargv, "-d"); break;
                case 'T': no_tty = true; break;
                case 't':
                case 'i': break; /* the defaults */
                case 'u': strv_push(&xargv, "-u"); strv_push(&xargv, optarg); break;
                case 'w': strv_push(&xargv, "-w"); strv_push(&xargv, optarg); break;
                case 'e': strv_push(&xargv, "-e"); strv_push(&xargv, optarg); break;
                case OPT_PRIVILEGED: strv_push(&xargv, "--privileged"); break;
                case OPT_INDEX:
                        if (!streq(optarg, "1"))
                                return berth_error(err, 0, "compose exec: --index %s: berth runs one container per "
                                                           "service", optarg);
                        break;
                case OPT_HELP:
                        puts("Usage:  berth compose exec [OPTIONS] SERVICE COMMAND [ARGS...]\n\n"
                             "Execute a command in a running service's container\n\n"
                             "Options:\n"
                             "  -d, --detach           Detached mode: run the command in the background\n"
                             "  -e, --env stringArray  Set environment variables\n"
                             "      --index int        Index of the container (1)\n"
                             "      --privileged       Give extended privileges to the process\n"
                             "  -T, --no-TTY           Disable pseudo-TTY allocation (default: one when stdin is a terminal)\n"
                             "  -u, --user string      Run the command as this user\n"
                             "  -w, --workdir string   Path to workdir directory for this command");
                        return 0;
                default: return cli_usage_error(err, "compose exec", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (argc - optind < 2)
                return cli_usage_error(err, "compose exec", "requires at least 2 arguments (SERVICE COMMAND)");
        cleanup_compose_project struct compose_project *p = NULL;
        const struct compose_service *s = NULL;
        if (load_one(co, argv[optind], &p, &s, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        cleanup_container struct berth_container *ct = service_container(cli, p, s);
        if (!ct || !container_is_running(ct))
                return berth_error(err, 0, "service \"%s\" is not running", s->name);
        if (!strv_contains(xargv, "-d")) {
                strv_push(&xargv, "-i");
                if (!no_tty && isatty(0) && isatty(1))
                        strv_push(&xargv, "-t");
        }
        strv_push(&xargv, ct->name);
        for (int i = optind + 1; i < argc; i++)
                strv_push(&xargv, argv[i]);
        optind = 0;
        return cmd_exec(cli, (int) strv_length(xargv), xargv, err);
}

/* ---- top ------------------------------------------------------------------ */

static int compose_top_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                           berth_error_t *err)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'H' }, {} };
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'H') {
                        puts("Usage:  berth compose top [SERVICE...]\n\nDisplay the running processes of the services' containers");
                        return 0;
                }
                return cli_usage_error(err, "compose top", "unknown option '%s'", argv[optind - 1]);
        }
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        bool first = true;
        for (size_t i = 0; v[i]; i++) {
                cleanup_container struct berth_container *ct = service_container(cli, p, v[i]);
                if (!ct || !container_is_running(ct))
                        continue;
                printf("%s%s\n", first ? "" : "\n", ct->name);
                fflush(stdout);
                first = false;
                char *targv[] = { "top", ct->name, NULL };
                optind = 0;
                int r = cmd_top(cli, 2, targv, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ---- run ------------------------------------------------------------------ */

/* The service's definition, as up writes it, loaded under the one-off's
 * name: its run_args are the service's [Container] keys as `run` flags. */
static int service_definition(const struct compose_project *p, const struct compose_service *s, const char *oneoff,
                              struct definition **out, berth_error_t *err)
{
        char *one[] = { s->name, NULL };
        cleanup_compose_units struct compose_units *u = NULL;
        if (compose_units_make(p, one, &u, err) < 0)
                return -1;
        cleanup_free char *cname = compose_container_name(p, s, 1), *file = xasprintf("%s.container", cname);
        const char *text = NULL;
        for (size_t i = 0; i < u->n_files && !text; i++)
                if (streq(u->files[i].name, file))
                        text = u->files[i].text;
        if (!text)
                return berth_error(err, 0, "service %s: no definition", s->name);
        const char *manifests = compose_layout(false)->manifests;
        if (mkdir_p(manifests, 0755, err) < 0)
                return -1;
        cleanup_free char *dir = xasprintf("%s/.run-XXXXXX", manifests);
        if (!mkdtemp(dir))
                return berth_error(err, errno, "mkdtemp %s", dir);
        cleanup_free char *path = xasprintf("%s/%s.container", dir, oneoff);
        int r = write_file_atomic(path, text, strlen(text), 0600, err);
        if (r == 0)
                r = definition_load(path, oneoff, out, err);
        (void) unlink(path);
        (void) rmdir(dir);
        return r;
}

static int compose_run_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                           berth_error_t *err)
{
        enum { OPT_RM = 1000, OPT_ENTRYPOINT, OPT_NAME, OPT_NO_DEPS, OPT_HELP };
        static const struct option opts[] = {
                { "rm", no_argument, NULL, OPT_RM },          { "detach", no_argument, NULL, 'd' },
                { "env", required_argument, NULL, 'e' },      { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
                { "name", required_argument, NULL, OPT_NAME }, { "no-TTY", no_argument, NULL, 'T' },
                { "tty", no_argument, NULL, 't' },            { "interactive", no_argument, NULL, 'i' },
                { "user", required_argument, NULL, 'u' },     { "workdir", required_argument, NULL, 'w' },
                { "label", required_argument, NULL, 'l' },    { "volume", required_argument, NULL, 'v' },
                { "no-deps", no_argument, NULL, OPT_NO_DEPS }, { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        bool detach = false, no_tty = false, no_deps = false, rm = false;
        const char *name = NULL;
        cleanup_strv char **over = NULL; /* the overrides, as `run` flags */
        int c;
        while ((c = getopt_long(argc, argv, "+de:Ttiu:w:l:v:", opts, NULL) ) != -1) {
                switch (c) {
                case OPT_RM: rm = true; break;
                case 'd': detach = true; break;
                case 'T': no_tty = true; break;
                case 't':
                case 'i': break; /* the defaults */
                case OPT_NO_DEPS: no_deps = true; break;
                case OPT_NAME: name = optarg; break;
                case 'e': strv_push(&over, "-e"); strv_push(&over, optarg); break;
                case 'u': strv_push(&over, "-u"); strv_push(&over, optarg); break;
                case 'w': strv_push(&over, "-w"); strv_push(&over, optarg); break;
                case 'l': strv_push(&over, "--label"); strv_push(&over, optarg); break;
                case 'v': strv_push(&over, "-v"); strv_push(&over, optarg); break;
                case OPT_ENTRYPOINT: strv_push(&over, "--entrypoint"); strv_push(&over, optarg); break;
                case OPT_HELP:
                        puts("Usage:  berth compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]\n\n"
                             "Run a one-off command in a new container of a service (PROJECT-SERVICE-run-ID),\n"
                             "its dependencies started first\n\n"
                             "Options:\n"
                             "  -d, --detach              Run container in background and print container ID\n"
                             "      --entrypoint string   Override the entrypoint of the image\n"
                             "  -e, --env stringArray     Set environment variables\n"
                             "  -l, --label stringArray   Add or override a label\n"
                             "      --name string         Assign a name to the container\n"
                             "      --no-deps             Don't start linked services\n"
                             "  -T, --no-TTY              Disable pseudo-TTY allocation (default: one when stdin is a terminal)\n"
                             "      --rm                  Automatically remove the container when it exits\n"
                             "  -u, --user string         Run as specified username or uid\n"
                             "  -v, --volume stringArray  Bind mount a volume\n"
                             "  -w, --workdir string      Working directory inside the container");
                        return 0;
                default: return cli_usage_error(err, "compose run", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "compose run", "requires at least 1 argument (SERVICE)");
        int first = optind; /* the service; optind is another parser's once up ran */
        cleanup_compose_project struct compose_project *p = NULL;
        const struct compose_service *s = NULL;
        if (load_one(co, argv[first], &p, &s, err) < 0)
                return -1;
        uint8_t rnd[6];
        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                return berth_error(err, errno, "getrandom");
        cleanup_free char *oneoff = name ? xstrdup(name)
                                         : xasprintf("%s-%s-run-%02x%02x%02x%02x%02x%02x", p->name, s->name, rnd[0],
                                                     rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        if (!definition_name_valid(oneoff))
                return berth_error(err, 0, "invalid container name '%s'", oneoff);
        /* the dependencies, as `up -d DEP...` starts them; the project's
         * networks and volumes come with them */
        if (!no_deps && s->n_depends_on) {
                cleanup_strv char **up = NULL;
                strv_push(&up, "up");
                strv_push(&up, "-d");
                for (size_t i = 0; i < s->n_depends_on; i++)
                        strv_push(&up, s->depends_on[i].service);
                optind = 0;
                if (cmd_compose_up_down(cli, co, "up", (int) strv_length(up), up, err) < 0)
                        return -1;
        } else {
                /* as Docker Compose: the networks and volumes are made */
                if (compose_up_resources(cli, co, s->name, err) < 0)
                        return -1;
        }
        /* loaded once the project's network and volume definitions are there */
        cleanup_definition struct definition *d = NULL;
        if (service_definition(p, s, oneoff, &d, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        cleanup_strv char **rargv = NULL;
        strv_push(&rargv, "run");
        strv_push(&rargv, "--name");
        strv_push(&rargv, oneoff);
        strv_push(&rargv, "--label");
        strv_push(&rargv, "com.docker.compose.oneoff=True");
        if (rm)
                strv_push(&rargv, "--rm");
        if (detach)
                strv_push(&rargv, "-d");
        else {
                strv_push(&rargv, "-i");
                if (!no_tty && isatty(0) && isatty(1))
                        strv_push(&rargv, "-t");
        }
        if (d->pull) {
                strv_push(&rargv, "--pull");
                strv_push(&rargv, d->pull);
        }
        compose_run_args(d->run_args, &rargv); /* the service's keys, without its published ports */
        compose_run_limit_args(s, &rargv);     /* and what its unit has */
        for (size_t i = 0; over && over[i]; i++)
                strv_push(&rargv, over[i]);
        strv_push(&rargv, d->image);
        if (argc - first > 1)
                for (int i = first + 1; i < argc; i++)
                        strv_push(&rargv, argv[i]);
        else
                for (size_t i = 0; d->command && d->command[i]; i++)
                        strv_push(&rargv, d->command[i]);
        optind = 0;
        return cmd_run(cli, (int) strv_length(rargv), rargv, err);
}

/* Remove a stopped container (gone already: nothing to do). */
static int remove_stopped(struct berth_cli *cli, struct berth_container *c, bool volumes, berth_error_t *err)
{
        if (access(c->dir, F_OK) < 0)
                return 0; /* a --rm one, gone with its stop */
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0 || container_remove(&cli->store, c, err) < 0)
                return -1;
        if (volumes)
                volume_remove_anonymous(&cli->store, c->config);
        fprintf(stderr, " Container %s  Removed\n", c->name);
        return 0;
}

/* down: the project's one-off containers too (Docker Compose's down
 * includes them), stopped and removed before its networks go. */
int compose_down_oneoffs(struct berth_cli *cli, sd_bus *bus, const char *project, berth_error_t *err)
{
        struct berth_container **v = NULL;
        size_t n = 0;
        if (container_list(&cli->store, &v, &n, err) < 0)
                return -1;
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                json_t *labels = json_at(v[i]->config, "Config.Labels");
                const char *proj = json_string_value(json_object_get(labels, "com.docker.compose.project"));
                const char *oneoff = json_string_value(json_object_get(labels, "com.docker.compose.oneoff"));
                if (!proj || !streq(proj, project) || !oneoff || !streq(oneoff, "True"))
                        continue;
                if (container_stop(&cli->store, bus, v[i], -1, err) < 0 || remove_stopped(cli, v[i], true, err) < 0)
                        r = -1;
        }
        container_list_free(v, n);
        return r;
}

/* ---- rm ------------------------------------------------------------------- */

static int compose_rm_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                          berth_error_t *err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "stop", no_argument, NULL, 's' },
                { "volumes", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'H' }, {},
        };
        bool force = false, stop = false, volumes = false;
        int c;
        while ((c = getopt_long(argc, argv, "fsv", opts, NULL)) != -1) {
                switch (c) {
                case 'f': force = true; break;
                case 's': stop = true; break;
                case 'v': volumes = true; break;
                case 'H':
                        puts("Usage:  berth compose rm [OPTIONS] [SERVICE...]\n\n"
                             "Remove the services' stopped containers (the units stay: 'compose start' makes them again)\n\n"
                             "Options:\n"
                             "  -f, --force     Don't ask to confirm removal\n"
                             "  -s, --stop      Stop the containers, if required, before removing\n"
                             "  -v, --volumes   Remove any anonymous volumes attached to containers");
                        return 0;
                default: return cli_usage_error(err, "compose rm", "unknown option '%s'", argv[optind - 1]);
                }
        }
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        size_t n = 0;
        struct berth_container **gone = xcalloc(p->n_services + 1, sizeof(*gone));
        int r = 0;
        for (size_t i = 0; v[i] && r == 0; i++) {
                struct berth_container *ct = service_container(cli, p, v[i]);
                if (ct && container_is_running(ct) && stop) {
                        if ((!bus && unit_bus_open(&bus, err) < 0) ||
                            container_stop(&cli->store, bus, ct, -1, err) < 0)
                                r = -1;
                        else {
                                cleanup_free char *unit = definition_unit_name(DEFINITION_CONTAINER, ct->name);
                                unit_reset_failed(bus, unit);
                                fprintf(stderr, " Container %s  Stopped\n", ct->name);
                                container_free(ct);
                                ct = service_container(cli, p, v[i]);
                        }
                }
                if (ct && !container_is_running(ct))
                        gone[n++] = ct;
                else if (ct)
                        container_free(ct);
        }
        if (r == 0 && n == 0)
                fprintf(stderr, "No stopped containers\n");
        if (r == 0 && n > 0) {
                cleanup_strbuf struct strbuf names = {};
                for (size_t i = 0; i < n; i++)
                        strbuf_printf(&names, "%s%s", i ? ", " : "", gone[i]->name);
                fprintf(stderr, "Going to remove %s\n", names.s);
                size_t n_remove = n;
                if (!force) {
                        fprintf(stderr, "? Are you sure you want to remove them? (y/N) ");
                        char answer[16] = "";
                        if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
                                n_remove = 0; /* not confirmed: nothing removed */
                }
                for (size_t i = 0; i < n_remove && r == 0; i++)
                        r = remove_stopped(cli, gone[i], volumes, err);
        }
        container_list_free(gone, n);
        return r;
}

int cmd_compose_ops(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc, char **argv,
                    berth_error_t *err)
{
        if (streq(sub, "logs"))
                return compose_logs_cmd(cli, co, argc, argv, err);
        if (streq(sub, "exec"))
                return compose_exec_cmd(cli, co, argc, argv, err);
        if (streq(sub, "top"))
                return compose_top_cmd(cli, co, argc, argv, err);
        if (streq(sub, "run"))
                return compose_run_cmd(cli, co, argc, argv, err);
        if (streq(sub, "rm"))
                return compose_rm_cmd(cli, co, argc, argv, err);
        return compose_lifecycle_cmd(cli, co, sub, argc, argv, err);
}
