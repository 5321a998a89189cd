/* berth — the command-line front end.  src/programs/berth.c parses global
 * options, opens the store and dispatches to one cmd_*() per command, in
 * src/cli/cmd-*.c (one file per command or group of commands).  Commands print their normal output themselves; errors are
 * returned in err and printed once by main() as "berth: <message>". */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "berth/error.h"
#include "berth/registry.h"
#include "berth/store.h"

struct berth_cli {
        struct berth_store store; /* opened before the command runs (unless it opens it itself) */
        const char *self;         /* absolute path of the berth binary */
        const char *root, *runroot; /* --root, --runroot (NULL: the defaults) */
};

/* Open cli->store as the dispatcher does for most commands; a command that
 * needs no store for some of its work (`compose config`) calls it only when
 * it does, so that work needs neither root nor /var/lib/berth. */
int cli_store_open(struct berth_cli *cli, berth_error_t *err);

/* argv[0] is the command name ("images"); parse the rest with getopt_long
 * (optind is reset by the dispatcher).  Return the process exit code (0 on
 * success), or a negative value with *err set. */
typedef int (*berth_cmd_fn)(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);

/* Usage error for a command: "berth: <cmd>: <msg>\nSee 'berth <cmd> --help'."
 * exit 125 as Docker. */
int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The containers a listing shows (ps, info, stats, container prune): the
 * readable ones; each record that cannot be read is one line on stderr
 * ("berth: container record ID unreadable: ...; run berth system check").
 * Never for a decision about what is in use: that is container_list(). */
struct berth_container;
int cli_container_list(struct berth_store *s, struct berth_container ***out, size_t *n, berth_error_t *err);

/* volume prune, also for system prune --volumes (src/cli/cmd-volume.c):
 * remove unused volumes, anonymous ones only unless all (as Docker 23+),
 * printing "Deleted Volumes:" and the names; adds their sizes to
 * *reclaimed. */
int cli_volume_prune(struct berth_store *s, bool all, long long *reclaimed, berth_error_t *err);

/* image_remove()'s in_use callback: userdata is the struct berth_store *;
 * whether a container (its ID in *container_id) uses the image. */
int cli_image_in_use(const char *image_id, char **container_id, void *userdata, berth_error_t *err);

/* compose up, down and generate (src/cli/cmd-compose-up.c), for cmd_compose(). */
struct compose_options;
int cmd_compose_up_down(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc,
                        char **argv, berth_error_t *err);
/* compose run of a project that is not up: the files of SERVICE (and what
 * it depends on) as up writes them, its networks and volumes made, no
 * container created or started (cmd-compose-up.c). */
int compose_up_resources(struct berth_cli *cli, const struct compose_options *co, const char *service,
                         berth_error_t *err);
/* compose logs/start/stop/restart/exec/top/run (src/cli/cmd-compose-ops.c),
 * build/pull/push/images (src/cli/cmd-compose-build.c), for cmd_compose(). */
int cmd_compose_ops(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc, char **argv,
                    berth_error_t *err);
int cmd_compose_images(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc,
                       char **argv, berth_error_t *err);
/* The images `compose up` needs (images: of compose_units): a service with
 * a build section is built when build is set, when its image is missing
 * (unless pull is "always") or pull_policy is build; the others are pulled
 * with the policy pull (always, missing, never) when it is set. */
struct compose_project;
int compose_up_images(struct berth_cli *cli, const struct compose_project *p, char *const *images, bool build,
                      const char *pull, berth_error_t *err);
/* compose down: the project's one-off `compose run` containers, stopped
 * and removed (cmd-compose-ops.c). */
typedef struct sd_bus sd_bus;
int compose_down_oneoffs(struct berth_cli *cli, sd_bus *bus, const char *project, berth_error_t *err);

/* Print an aligned table: rows of cells, the first row the header; columns are
 * separated by at least three spaces as Docker's tabwriter does. */
struct cli_table {
        size_t ncols, nrows;
        char ***rows; /* rows[r][c], owned */
};
void cli_table_init(struct cli_table *t, size_t ncols, ...); /* header cells */
void cli_table_add(struct cli_table *t, ...);                 /* ncols cells, copied */
void cli_table_print(struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);

/* Docker's --format for list commands: "json" (one object per line), a Go
 * template per row, or "table [TEMPLATE]" (header from running the template
 * over `header`, which maps each field to its column title; then aligned
 * tab-separated columns; default_table is used for a bare "table"). */
typedef struct json_t json_t;
int cli_print_formatted(const char *format, const char *default_table, json_t *header, json_t *const *rows, size_t n,
                        berth_error_t *err);

/* The options of `network ls`, `secret ls`: -q, --format, --help (1: the
 * help was printed); anything else is a usage error of cmd ("secret ls"). */
int cli_ls_options(int argc, char **argv, const char *cmd, const char *ids, bool *quiet, const char **format,
                   berth_error_t *err);

/* --label KEY=VALUE (or KEY: "") into a labels object, as volume and secret
 * create take it; and a labels object as ls prints it ("a=1,b=2"). */
void cli_label_add(json_t *labels, const char *kv);
char *cli_labels_text(json_t *labels);

#define BERTH_COMMANDS(X)                                                           \
        X(import) X(images) X(rmi) X(tag) X(run) X(create) X(start) X(stop)         \
        X(restart) X(kill) X(rename) X(pause) X(unpause) X(update) X(rm) X(ps) X(logs) X(attach) X(exec) X(inspect) X(wait) X(stats) X(top)    \
        X(version) X(info) X(generate) X(save) X(load) X(history) X(commit)       \
        X(export) X(diff) X(image_prune) X(image_inspect) X(container_inspect) X(container_prune) X(system_df) X(system_check) X(system_prune) \
        X(pull) X(push) X(login) X(logout) X(search) \
        X(network) X(port) \
        X(volume) X(secret) X(healthcheck) X(auto_update) X(cp) X(events) \
        X(build) X(compose) X(unshare)
#define X(name) int cmd_##name(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);
BERTH_COMMANDS(X)
#undef X

/* Hidden commands, run by units rather than users: ExecStart and
 * ExecStopPost of a container's transient unit (src/cli/cmd-hooks.c, also
 * linked into berth-runtime), and of container@NAME.service for definition
 * containers (src/cli/cmd-unit.c). */
int cmd__shim(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);
int cmd__cleanup(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);
int cmd__healthcheck(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);
int cmd__unit_start(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);
int cmd__unit_stop(struct berth_cli *cli, int argc, char **argv, berth_error_t *err);

#endif
