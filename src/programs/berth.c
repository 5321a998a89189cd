/* berth — a daemonless container engine whose containers are systemd units.
 * This file is only the dispatcher: global options, management forms
 * ("container ls", "image rm"), and printing the one error line. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <signal.h>

#include "berth/cli.h"
#include "berth/log-relay.h"
#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/util.h"

struct command {
        const char *name;
        berth_cmd_fn fn;
        const char *summary; /* NULL: hidden */
        bool own_store;      /* opens the store itself, when it needs it (cli_store_open) */
        bool outside;        /* for a user: stays outside berth's user namespace (rootless-ns.h):
                              * reads only files of the user's own, or joins a container's */
};

static const struct command commands[] = {
        { "run", cmd_run, "Create and run a new container from an image" },
        { "create", cmd_create, "Create a new container" },
        { "start", cmd_start, "Start one or more stopped containers" },
        { "stop", cmd_stop, "Stop one or more running containers" },
        { "restart", cmd_restart, "Restart one or more containers" },
        { "kill", cmd_kill, "Kill one or more running containers" },
        { "rename", cmd_rename, "Rename a container" },
        { "pause", cmd_pause, "Pause all processes within one or more containers" },
        { "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
        { "update", cmd_update, "Update configuration of one or more containers" },
        { "rm", cmd_rm, "Remove one or more containers" },
        { "ps", cmd_ps, "List containers", .outside = true },
        { "logs", cmd_logs, "Fetch the logs of a container (from the journal)", .outside = true },
        { "events", cmd_events, "Get real time events from the journal", .outside = true },
        { "attach", cmd_attach, "Attach to a running container's output", .outside = true },
        { "exec", cmd_exec, "Execute a command in a running container", .outside = true },
        { "inspect", cmd_inspect, "Return low-level information on containers and images", .outside = true },
        { "wait", cmd_wait, "Block until containers stop, then print their exit codes", .outside = true },
        { "stats", cmd_stats, "Display a live stream of container(s) resource usage statistics", .outside = true },
        { "top", cmd_top, "Display the running processes of a container", .outside = true },
        { "import", cmd_import, "Import the contents from a tarball to create an image" },
        { "images", cmd_images, "List images", .outside = true },
        { "rmi", cmd_rmi, "Remove one or more images" },
        { "tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
        { "save", cmd_save, "Save one or more images to a tar archive" },
        { "load", cmd_load, "Load images from a tar archive or STDIN" },
        { "history", cmd_history, "Show the history of an image", .outside = true },
        { "commit", cmd_commit, "Create a new image from a container's changes" },
        { "export", cmd_export, "Export a container's filesystem as a tar archive" },
        { "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
        { "version", cmd_version, "Show the berth version information", .outside = true },
        { "info", cmd_info, "Display system-wide information", .outside = true },
        { "generate", cmd_generate, "Show or write the units berth-generator makes from definition files", .outside = true },
        { "network", cmd_network, "Manage networks (create, ls, inspect, rm)" },
        { "port", cmd_port, "List port mappings of a container", .outside = true },
        { "volume", cmd_volume, "Manage volumes (create, ls, inspect, rm, prune)" },
        { "secret", cmd_secret, "Manage secrets (create, ls, inspect, rm)" },
        { "healthcheck", cmd_healthcheck, "Run the health check of a container now", .outside = true },
        { "auto-update", cmd_auto_update, "Update containers to their newer images and restart their units" },
        { "cp", cmd_cp, "Copy files/folders between a container and the local filesystem", .outside = true },
        { "pull", cmd_pull, "Download an image from a registry" },
        { "push", cmd_push, "Upload an image to a registry" },
        { "login", cmd_login, "Log in to a registry", .outside = true },
        { "logout", cmd_logout, "Log out from a registry", .outside = true },
        { "search", cmd_search, "Search a registry for images", .outside = true },
        { "build", cmd_build, "Build an image from a Dockerfile" },
        { "unshare", cmd_unshare, "Run a command in the user namespace of a user's berth" },
        { "compose", cmd_compose, "Define and run multi-container applications (compose files)", .own_store = true },
        { "image-prune", cmd_image_prune, NULL },
        { "image-inspect", cmd_image_inspect, NULL, .outside = true },
        { "container-prune", cmd_container_prune, NULL },
        { "container-inspect", cmd_container_inspect, NULL, .outside = true },
        { "system-df", cmd_system_df, NULL },
        { "system-check", cmd_system_check, NULL },
        { "system-prune", cmd_system_prune, NULL },
        { "_shim", cmd__shim, NULL },
        { "_cleanup", cmd__cleanup, NULL },
        { "_healthcheck", cmd__healthcheck, NULL },
        { "_unit-start", cmd__unit_start, NULL, .outside = true }, /* enters for itself (runtime.h) */
        { "_unit-stop", cmd__unit_stop, NULL },

};

/* Management forms: "berth container ls" -> "ps", "berth image rm" -> "rmi". */
struct alias {
        const char *group, *sub, *target;
};
static const struct alias aliases[] = {
        { "container", "ls", "ps" },      { "container", "list", "ps" },
        { "container", "ps", "ps" },      { "container", "remove", "rm" },
        { "image", "ls", "images" },      { "image", "list", "images" },
        { "image", "rm", "rmi" },         { "image", "remove", "rmi" },
        { "system", "info", "info" },      { "system", "events", "events" },
        { "image", "prune", "image-prune" }, { "system", "df", "system-df" },
        { "image", "build", "build" },
        { "image", "inspect", "image-inspect" }, { "container", "inspect", "container-inspect" },
        { "container", "prune", "container-prune" },
        { "system", "check", "system-check" }, { "system", "prune", "system-prune" },
};

static const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static void usage(FILE *out)
{
        fputs("Usage:  berth [OPTIONS] COMMAND\n\n"
              "A daemonless container engine: every container is a systemd unit.\n\n"
              "Options:\n"
              "      --root DIR      Persistent store (default /var/lib/berth, or $BERTH_ROOT)\n"
              "      --runroot DIR   Runtime state (default /run/berth, or $BERTH_RUNROOT)\n"
              "  -v, --version       Print version information and quit\n\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (commands[i].summary)
                        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fputs("\nManagement forms are accepted too: berth container ls, berth image rm, ...\n"
              "Run 'berth COMMAND --help' for more information on a command.\n",
              out);
}

int main(int argc, char **argv)
{
        /* The character set only (table widths, file names in archives):
         * numbers and dates stay as Docker prints and parses them whatever
         * the user's locale (--cpus 1.5 under de_DE, stats' 0.50%), and
         * messages are English as Docker's; loading one category instead
         * of thirteen also spares every command a dozen file opens. */
        setlocale(LC_CTYPE, "");
        rootless_init();
        /* a user's container's log relay (log-relay.h): no store, no options */
        if (argc >= 2 && streq(argv[1], "_log-relay"))
                return log_relay_main(argc, argv);
        signal(SIGPIPE, SIG_IGN);

        const char *root = NULL, *runroot = NULL;
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "runroot", required_argument, NULL, 'R' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root = optarg;
                        break;
                case 'R':
                        runroot = optarg;
                        break;
                case 'v':
                        printf("berth version %s\n", PACKAGE_VERSION);
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        fputs("See 'berth --help'.\n", stderr);
                        return BERTH_EXIT_ENGINE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return BERTH_EXIT_ENGINE;
        }
        char **cargv = argv + optind;
        int cargc = argc - optind;

        const char *name = cargv[0];
        if ((streq(name, "container") || streq(name, "image") || streq(name, "system")) && cargc >= 2) {
                const char *target = NULL;
                for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
                        if (streq(aliases[i].group, name) && streq(aliases[i].sub, cargv[1]))
                                target = aliases[i].target;
                if (!target && find_command(cargv[1]))
                        target = cargv[1]; /* "container run", "image tag", ... */
                if (target) {
                        cargv++;
                        cargc--;
                        name = target;
                }
        }
        const struct command *cmd = find_command(name);
        if (!cmd) {
                fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n", cargv[0]);
                return BERTH_EXIT_ENGINE;
        }

        struct berth_cli cli = { .store = { .lock_fd = -1 }, .root = root, .runroot = runroot };
        cleanup_free char *self = realpath("/proc/self/exe", NULL);
        cli.self = self ? self : argv[0];
        berth_error_t err = NULL;
        int r = cmd->outside ? 0 : rootless_enter(&err);
        if (r >= 0 && !cmd->own_store)
                r = cli_store_open(&cli, &err);
        if (r >= 0) {
                optind = 0; /* full getopt re-initialisation for the command */
                opterr = 0; /* commands report bad options themselves, in one line */
                cargv[0] = (char *) name;
                r = cmd->fn(&cli, cargc, cargv, &err);
        }
        store_close(&cli.store);
        if (r < 0) {
                fflush(stdout);
                fprintf(stderr, "berth: %s\n", err ? err->msg : "unknown error");
                r = err ? err->exit_code : BERTH_EXIT_ENGINE;
                berth_error_free(&err);
        }
        fflush(stdout);
        return r;
}
