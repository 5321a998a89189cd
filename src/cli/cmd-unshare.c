/* berth unshare [COMMAND [ARG...]]: a command in the user namespace a
 * user's berth works in (Podman's `podman unshare`), where the store's
 * files of the user's subordinate ids belong to their image ids: to look
 * at them, or remove them (rootless-ns.h).  berth.c has entered it. */
#include "config.h"

#include "berth/cli.h"
#include "berth/rootless.h"
#include "berth/util.h"

int cmd_unshare(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        (void) cli;
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                puts("Usage:  berth unshare [COMMAND [ARG...]]\n\n"
                     "Run a command (default: $SHELL) in the user namespace of a user's berth, as its root:\n"
                     "the files of the user's store owned by subordinate ids are then its own.");
                return 0;
        }
        if (argc >= 2 && argv[1][0] == '-' && !streq(argv[1], "--"))
                return cli_usage_error(err, "unshare", "unknown option '%s'", argv[1]);
        if (!rootless())
                return berth_error(err, 0, "berth unshare is for users: root's berth works in the host's "
                                           "user namespace");
        char **cmd = argv + 1;
        if (cmd[0] && streq(cmd[0], "--"))
                cmd++;
        const char *shell = getenv("SHELL");
        char *dflt[] = { (char *) (shell && *shell ? shell : "/bin/sh"), NULL };
        if (!cmd[0])
                cmd = dflt;
        fflush(stdout);
        execvp(cmd[0], cmd);
        return berth_error_exit(err, errno == ENOENT ? 127 : 126, errno, "exec %s", cmd[0]);
}
