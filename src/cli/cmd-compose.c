/* berth compose [-f FILE]... [-p NAME] [--env-file FILE] [--profile P]
 * COMMAND: multi-container applications from compose files (compose.h).
 * This file has `config` (the resolved, merged, interpolated model as
 * Docker Compose prints it) and `ps`; `up -d` and `down` are in
 * cmd-compose-up.c, logs/start/stop/restart/exec/top/run in
 * cmd-compose-ops.c, build/pull/push/images in cmd-compose-build.c. */
#include "config.h"

#include <getopt.h>

#include "berth/cli.h"
#include "berth/compose.h"
#include "berth/util.h"

static const char compose_usage[] =
        "Usage:  berth compose [OPTIONS] COMMAND\n\n"
        "Define and run multi-container applications from compose files\n\n"
        "Options:\n"
        "      --env-file string       An alternate environment file (default: .env of the project)\n"
        "  -f, --file stringArray      Compose configuration files (- for stdin)\n"
        "      --profile stringArray   Enable services of a profile (* for all)\n"
        "  -p, --project-name string   Project name\n\n"
        "Commands:\n"
        "  build       Build or rebuild services\n"
        "  config      Parse, resolve and render the compose file in canonical format\n"
        "  create      Creates containers for a service (up --no-start)\n"
        "  down        Stop and remove what up made\n"
        "  exec        Execute a command in a running container\n"
        "  generate    Print or write the definition files and target of the project\n"
        "  images      List images used by the created containers\n"
        "  logs        View output from containers\n"
        "  ps          List the project's containers\n"
        "  pull        Pull service images\n"
        "  push        Push service images\n"
        "  restart     Restart service containers\n"
        "  rm          Removes stopped service containers\n"
        "  run         Run a one-off command on a service\n"
        "  start       Start services\n"
        "  stop        Stop services\n"
        "  top         Display the running processes\n"
        "  up          Create and start the containers as systemd units\n";

static int compose_config_cmd(const struct compose_options *co, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "services", no_argument, NULL, 'S' },
                { "volumes", no_argument, NULL, 'V' },
                { "format", required_argument, NULL, 'F' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        bool services = false, volumes = false, quiet = false, json = false;
        int c;
        while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
                switch (c) {
                case 'S': services = true; break;
                case 'V': volumes = true; break;
                case 'q': quiet = true; break;
                case 'F':
                        if (streq(optarg, "json"))
                                json = true;
                        else if (!streq(optarg, "yaml"))
                                return cli_usage_error(err, "compose config", "--format must be yaml or json");
                        break;
                case 'H':
                        puts("Usage:  berth compose config [OPTIONS]\n\n"
                             "Parse, resolve and render the compose file in canonical format\n\n"
                             "Options:\n"
                             "      --format string   Format the output: yaml or json (default yaml)\n"
                             "  -q, --quiet           Only validate the configuration, don't print anything\n"
                             "      --services        Print the service names, one per line\n"
                             "      --volumes         Print the volume names, one per line");
                        return 0;
                default: return cli_usage_error(err, "compose config", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "compose config", "unexpected argument '%s'", argv[optind]);
        cleanup_compose_project struct compose_project *p = NULL;
        if (compose_load(co, &p, err) < 0)
                return -1;
        if (quiet)
                return 0;
        if (services || volumes) {
                for (size_t i = 0; services && i < p->n_services; i++)
                        puts(p->services[i].name);
                for (size_t i = 0; volumes && i < p->n_volumes; i++)
                        puts(p->volumes[i].key);
                return 0;
        }
        cleanup_free char *text = json ? compose_config_json(p) : compose_config_yaml(p, err);
        if (!text)
                return -1;
        fputs(text, stdout);
        if (json)
                putchar('\n');
        return 0;
}

/* Docker Compose's columns for ps. */
#define COMPOSE_PS_TABLE \
        "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"

/* The project's containers are those labelled com.docker.compose.project=
 * NAME (as Docker Compose labels them): `berth ps` filtered by the label. */
static int compose_ps_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                          berth_error_t *err)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },       { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'F' }, { "no-trunc", no_argument, NULL, 'T' },
                { "help", no_argument, NULL, 'H' },      {},
        };
        bool all = false, quiet = false, notrunc = false;
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "aq", opts, NULL)) != -1) {
                switch (c) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'T': notrunc = true; break;
                case 'F': format = optarg; break;
                case 'H':
                        puts("Usage:  berth compose ps [OPTIONS]\n\n"
                             "List the project's containers (running ones unless -a)\n\n"
                             "Options:\n"
                             "  -a, --all             Show all containers, stopped ones too\n"
                             "      --format string   Format the output: table, json or a Go template\n"
                             "      --no-trunc        Don't truncate output\n"
                             "  -q, --quiet           Only display IDs");
                        return 0;
                default: return cli_usage_error(err, "compose ps", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "compose ps", "unexpected argument '%s' (services are not taken yet)",
                                       argv[optind]);
        cleanup_free char *name = NULL;
        if (compose_project_name(co, &name, err) < 0)
                return -1;
        if (cli_store_open(cli, err) < 0)
                return -1;
        cleanup_free char *filter = xasprintf("label=com.docker.compose.project=%s", name);
        char *ps_argv[8] = { "ps", "--filter", filter };
        int n = 3;
        if (all)
                ps_argv[n++] = "--all";
        if (quiet)
                ps_argv[n++] = "--quiet";
        if (quiet || notrunc) /* Docker Compose prints whole IDs */
                ps_argv[n++] = "--no-trunc";
        ps_argv[n++] = "--format";
        ps_argv[n++] = (char *) (format ? format : COMPOSE_PS_TABLE);
        optind = 0;
        return cmd_ps(cli, n, ps_argv, err);
}

int cmd_compose(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "file", required_argument, NULL, 'f' },
                { "project-name", required_argument, NULL, 'p' },
                { "env-file", required_argument, NULL, 'E' },
                { "profile", required_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        cleanup_strv char **files = NULL, **profiles = NULL;
        struct compose_options co = {};
        int c;
        while ((c = getopt_long(argc, argv, "+f:p:", opts, NULL)) != -1) {
                switch (c) {
                case 'f': strv_push(&files, optarg); break;
                case 'p': co.project_name = optarg; break;
                case 'E': co.env_file = optarg; break;
                case 'P': strv_push(&profiles, optarg); break;
                case 'H': fputs(compose_usage, stdout); return 0;
                default: return cli_usage_error(err, "compose", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "compose", "requires a command (config)");
        co.files = files;
        co.profiles = profiles;
        const char *sub = argv[optind];
        argc -= optind;
        argv += optind;
        optind = 0;
        if (streq(sub, "config"))
                return compose_config_cmd(&co, argc, argv, err);
        if (streq(sub, "ps"))
                return compose_ps_cmd(cli, &co, argc, argv, err);
        if (streq(sub, "up") || streq(sub, "down") || streq(sub, "generate"))
                return cmd_compose_up_down(cli, &co, sub, argc, argv, err);
        static const char *const ops[] = { "logs", "start", "stop", "restart", "exec", "run", "top", "rm" };
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                if (streq(sub, ops[i]))
                        return cmd_compose_ops(cli, &co, sub, argc, argv, err);
        if (streq(sub, "build") || streq(sub, "pull") || streq(sub, "push") || streq(sub, "images"))
                return cmd_compose_images(cli, &co, sub, argc, argv, err);
        if (streq(sub, "create")) {
                /* Docker Compose's create is up --no-start */
                cleanup_strv char **up = NULL;
                strv_push(&up, "up");
                strv_push(&up, "--no-start");
                for (int i = 1; i < argc; i++)
                        strv_push(&up, argv[i]);
                optind = 0;
                return cmd_compose_up_down(cli, &co, "up", (int) strv_length(up), up, err);
        }
        return cli_usage_error(err, "compose", "unknown command '%s'", sub);
}
