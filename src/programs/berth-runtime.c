/* berth-runtime — the part of berth that a container's transient unit runs:
 *   berth-runtime --root DIR --runroot DIR _shim [--attached] [--tty] ID
 *   berth-runtime --root DIR --runroot DIR _cleanup ID
 *   berth-runtime --root DIR --runroot DIR _healthcheck ID (the health timer's)
 *   berth-runtime _netns (a user's berth-netns.service)
 * (see src/cli/cmd-hooks.c).  Kept apart from the CLI so that the hooks on
 * every container's start and stop load only the libraries they use. */
#include "config.h"

#include <signal.h>

#include "berth/cli.h"
#include "berth/log-relay.h"
#include "berth/network.h"
#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/util.h"

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        rootless_init();
        /* a user's container's log relay (log-relay.h): no store, no options */
        if (argc >= 2 && streq(argv[1], "_log-relay"))
                return log_relay_main(argc, argv);
        /* berth-netns.service: the namespace of a user's bridge networks */
        if (argc == 2 && streq(argv[1], "_netns")) {
                berth_error_t err = NULL;
                if (network_holder_main(&err) < 0) {
                        fprintf(stderr, "berth: %s\n", err->msg);
                        berth_error_free(&err);
                        return BERTH_EXIT_ENGINE;
                }
                return 0;
        }
        const char *root = NULL, *runroot = NULL;
        int i = 1;
        for (; i + 1 < argc && startswith(argv[i], "--"); i += 2) {
                if (streq(argv[i], "--root"))
                        root = argv[i + 1];
                else if (streq(argv[i], "--runroot"))
                        runroot = argv[i + 1];
                else
                        break;
        }
        berth_cmd_fn fn = NULL;
        if (i < argc && streq(argv[i], "_shim"))
                fn = cmd__shim;
        else if (i < argc && streq(argv[i], "_cleanup"))
                fn = cmd__cleanup;
        else if (i < argc && streq(argv[i], "_healthcheck"))
                fn = cmd__healthcheck;
        if (!fn) {
                fputs("berth-runtime: run by berth's container units: "
                      "berth-runtime [--root DIR] [--runroot DIR] _shim|_cleanup|_healthcheck ...\n",
                      stderr);
                return BERTH_EXIT_ENGINE;
        }
        struct berth_cli cli = {};
        berth_error_t err = NULL;
        /* a user's container: the shim and the stop hook work in berth's
         * user namespace (the container's is made there; the shim enters
         * it itself, runtime_shim_enter()); a health check joins the
         * container's own */
        int r = fn == cmd__healthcheck || fn == cmd__shim ? 0 : rootless_enter(&err);
        if (r >= 0)
                r = store_open(&cli.store, root, runroot, &err);
        if (r >= 0)
                r = fn(&cli, argc - i, argv + i, &err);
        store_close(&cli.store);
        if (r < 0) {
                fprintf(stderr, "berth: %s\n", err ? err->msg : "unknown error");
                r = err ? err->exit_code : BERTH_EXIT_ENGINE;
                berth_error_free(&err);
        }
        return r;
}
