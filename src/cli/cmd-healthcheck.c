/* berth healthcheck run: one health check now (Podman's command), recorded
 * as the timer's checks are (health.h). */
#include "config.h"

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/health.h"
#include "berth/unit.h"
#include "berth/util.h"

static void usage(void)
{
        puts("Usage:  berth healthcheck run CONTAINER\n\n"
             "Run the health check of a container now and record its result.\n"
             "Exit status: 0 healthy, 1 unhealthy or still starting (the status is printed), 125 error.");
}

int cmd_healthcheck(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                usage();
                return 0;
        }
        if (argc < 2)
                return cli_usage_error(err, "healthcheck", "requires a subcommand: run");
        if (!streq(argv[1], "run"))
                return cli_usage_error(err, "healthcheck", "unknown subcommand '%s' (use run)", argv[1]);
        if (argc >= 3 && (streq(argv[2], "--help") || streq(argv[2], "-h"))) {
                usage();
                return 0;
        }
        if (argc != 3)
                return cli_usage_error(err, "healthcheck run", "requires exactly 1 argument");
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, argv[2], &c, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        const char *status;
        if (health_run(&cli->store, bus, c, &status, err) < 0)
                return -1;
        if (streq(status, "healthy"))
                return 0;
        puts(status);
        return 1;
}
