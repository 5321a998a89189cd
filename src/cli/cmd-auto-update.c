/* berth auto-update: Podman's command (auto-update.h does the work). */
#include "config.h"

#include <getopt.h>

#include "berth/auto-update.h"
#include "berth/cli.h"
#include "berth/json-util.h"
#include "berth/unit.h"
#include "berth/util.h"

#define AUTO_UPDATE_TABLE "{{.Unit}}\t{{.Container}}\t{{.Image}}\t{{.Policy}}\t{{.Updated}}"

static int parse_bool_opt(const char *v, bool *out, berth_error_t *err)
{
        if (streq(v, "true") || streq(v, "1"))
                *out = true;
        else if (streq(v, "false") || streq(v, "0"))
                *out = false;
        else
                return berth_error(err, 0, "invalid --rollback value \"%s\" (use true or false)", v);
        return 0;
}

int cmd_auto_update(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "dry-run", no_argument, NULL, 'n' },
                { "rollback", optional_argument, NULL, 'r' },
                { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct auto_update_opts o = { .rollback = true };
        const char *format = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (ch) {
                case 'n': o.dry_run = true; break;
                case 'r':
                        if (optarg && parse_bool_opt(optarg, &o.rollback, err) < 0)
                                return -1;
                        if (!optarg)
                                o.rollback = true;
                        break;
                case 'F': format = optarg; break;
                case 'H':
                        puts("Usage:  berth auto-update [OPTIONS]\n\n"
                             "Update containers labelled io.containers.autoupdate=registry|local to their newer image\n"
                             "and restart their units\n\n"
                             "      --dry-run          Check for updates, change nothing (UPDATED: pending)\n"
                             "      --format string    Go template for each row, or json\n"
                             "      --rollback bool    Go back to the old image when the new one does not start "
                             "(default true)");
                        return 0;
                default: return cli_usage_error(err, "auto-update", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "auto-update", "\"auto-update\" accepts no arguments");
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        /* no pull output: the table says what happened, as Podman's */
        struct auto_update_result *v = NULL;
        size_t n = 0;
        if (auto_update(&cli->store, bus, &o, &v, &n, err) < 0)
                return -1;
        json_t **rows = xcalloc(n + 1, sizeof(json_t *));
        bool failed = false;
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *container = xasprintf("%.12s (%s)", v[i].container_id, v[i].container_name);
                rows[i] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Unit", v[i].unit, "Container",
                                    container, "ContainerID", v[i].container_id, "ContainerName",
                                    v[i].container_name, "Image", v[i].image, "Policy", v[i].policy, "Updated",
                                    v[i].updated, "Error", v[i].error ? v[i].error : "");
                failed |= streq(v[i].updated, "failed");
        }
        json_auto_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Unit", "UNIT", "Container", "CONTAINER",
                                        "Image", "IMAGE", "Policy", "POLICY", "Updated", "UPDATED");
        int r = cli_print_formatted(format ? format : "table", AUTO_UPDATE_TABLE, header, rows, n, err);
        for (size_t i = 0; i < n; i++)
                json_decref(rows[i]);
        free(rows);
        /* what went wrong, one line each, after the table (as Podman's) */
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (v[i].error)
                        fprintf(stderr, "berth: %s: %s\n", v[i].container_name, v[i].error);
        auto_update_results_free(v, n);
        if (r < 0)
                return -1;
        return failed ? BERTH_EXIT_ENGINE : 0;
}
