/* berth update: Docker's `update`, new resource limits and restart policy
 * for existing containers.  The flags are rows of limits.h's table, so
 * they take what `run` takes; container-update.h does the work. */
#include "config.h"

#include <getopt.h>

#include "berth/cli.h"
#include "berth/container-update.h"
#include "berth/container.h"
#include "berth/limits.h"
#include "berth/unit.h"
#include "berth/util.h"

/* Docker's update flags that berth has, in its --help's order. */
static const char *const update_flags[] = {
        "blkio-weight", "cpu-shares", "cpus",       "cpuset-cpus", "memory",
        "memory-reservation", "memory-swap", "pids-limit", "restart",
};

enum { OPT_HELP = 1000, OPT_LIMIT = 2000 /* + index in update_flags[] */ };

static void print_usage(void)
{
        fputs("Usage:  berth update [OPTIONS] CONTAINER [CONTAINER...]\n\n"
              "Update configuration of one or more containers\n\n"
              "Options:\n",
              stdout);
        for (size_t i = 0; i < ARRAY_SIZE(update_flags); i++) {
                const struct limit_def *d = limit_by_flag(update_flags[i]);
                cleanup_free char *shortf = d->short_flag ? xasprintf("-%c,", d->short_flag) : xstrdup("");
                cleanup_free char *left = xasprintf("%-3s --%s %s", shortf, d->flag, d->metavar);
                printf("  %-32s %s\n", left, d->help);
        }
        printf("  %-32s %s\n", "    --help", "Print usage");
}

/* The flags' values, flag -> value text (the last of a repeated flag). */
static int parse_update_opts(int argc, char **argv, json_t *limits, berth_error_t *err)
{
        struct option opts[ARRAY_SIZE(update_flags) + 2] = {};
        char shortopts[2 * ARRAY_SIZE(update_flags) + 1] = "";
        size_t k = 0;
        for (size_t i = 0; i < ARRAY_SIZE(update_flags); i++) {
                const struct limit_def *d = limit_by_flag(update_flags[i]);
                opts[i] = (struct option) { d->flag, required_argument, NULL, OPT_LIMIT + (int) i };
                if (d->short_flag) {
                        shortopts[k++] = d->short_flag;
                        shortopts[k++] = ':';
                }
        }
        opts[ARRAY_SIZE(update_flags)] = (struct option) { "help", no_argument, NULL, OPT_HELP };
        int c;
        while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
                if (c == OPT_HELP) {
                        print_usage();
                        return 1;
                }
                const struct limit_def *def = NULL;
                if (c >= OPT_LIMIT && c < OPT_LIMIT + (int) ARRAY_SIZE(update_flags))
                        def = limit_by_flag(update_flags[c - OPT_LIMIT]);
                else if (c != '?' && c > 0 && c < 128)
                        def = limit_by_flag((char[]) { (char) c, 0 });
                if (!def)
                        return cli_usage_error(err, "update", "unknown or incomplete option '%s'", argv[optind - 1]);
                json_object_set_new(limits, def->flag, json_string(optarg));
        }
        if (optind >= argc)
                return cli_usage_error(err, "update", "requires at least 1 argument");
        if (json_object_size(limits) == 0)
                return cli_usage_error(err, "update", "you must provide one or more flags when using this command");
        return 0;
}

static void containers_free(struct berth_container **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                container_free(v[i]);
        free(v);
}

/* Keep the last error in *last, printing the one it replaces. */
static void keep_last_error(berth_error_t *last, berth_error_t e)
{
        if (*last) {
                fprintf(stderr, "berth: %s\n", (*last)->msg);
                berth_error_free(last);
        }
        *last = e;
}

int cmd_update(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        json_auto_t *limits = json_object();
        int r = parse_update_opts(argc, argv, limits, err);
        if (r != 0)
                return r < 0 ? r : 0;
        /* Every value, then every container, before anything changes: a bad
         * value or a container that would refuse it changes none (125). */
        if (container_update_check_values(limits, err) < 0)
                return -1;
        size_t n = (size_t) (argc - optind);
        struct berth_container **cs = xcalloc(n, sizeof(*cs));
        berth_error_t last = NULL;
        for (size_t i = 0; i < n; i++) {
                berth_error_t e = NULL;
                if (container_lookup(&cli->store, argv[optind + (int) i], &cs[i], &e) < 0 ||
                    container_update_check(cs[i], limits, &e) < 0)
                        keep_last_error(&last, e);
        }
        cleanup_bus sd_bus *bus = NULL;
        if (last || unit_bus_open(&bus, err) < 0) {
                containers_free(cs, n);
                if (last)
                        *err = last;
                return -1;
        }
        /* Then each in turn, as Docker: one that fails (systemd refused) does
         * not stop the others, and the command exits 1. */
        for (size_t i = 0; i < n; i++) {
                berth_error_t e = NULL;
                if (container_update(bus, cs[i], limits, &e) >= 0)
                        printf("%s\n", argv[optind + (int) i]);
                else
                        keep_last_error(&last, e);
        }
        containers_free(cs, n);
        if (last) {
                *err = last;
                (*err)->exit_code = 1;
                return -1;
        }
        return 0;
}
