/* berth volume create / ls / inspect / rm / prune. */
#include "config.h"

#include <getopt.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/template.h"
#include "berth/util.h"
#include "berth/volume.h"

static const char volume_usage[] =
        "Usage:  berth volume COMMAND\n\n"
        "Manage volumes\n\n"
        "Commands:\n"
        "  create      Create a volume\n"
        "  inspect     Display detailed information on one or more volumes\n"
        "  ls          List volumes\n"
        "  prune       Remove unused local volumes\n"
        "  rm          Remove one or more volumes\n";

/* Docker's shape of `volume inspect`. */
static json_t *volume_json(const struct volume_info *v)
{
        json_t *labels = json_object_get(v->meta, "Labels");
        return json_pack("{s:s, s:s, s:O, s:s, s:s, s:{}, s:s}", "CreatedAt", json_str(v->meta, "CreatedAt") ?: "",
                         "Driver", "local", "Labels", json_is_object(labels) ? labels : json_null(), "Mountpoint",
                         v->mountpoint, "Name", v->name, "Options", "Scope", "local");
}

static int volume_create_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "label", required_argument, NULL, 'l' }, { "driver", required_argument, NULL, 'd' },
                { "opt", required_argument, NULL, 'o' },   { "name", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'H' },        {},
        };
        json_auto_t *labels = json_object();
        const char *name = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "d:o:", opts, NULL)) != -1) {
                switch (c) {
                case 'l': cli_label_add(labels, optarg); break;
                case 'n': name = optarg; break;
                case 'd':
                        if (!streq(optarg, "local"))
                                return berth_error(err, 0, "volume driver %s is not supported: berth has the local "
                                                           "driver only", optarg);
                        break;
                case 'o':
                        return berth_error(err, 0, "volume create: driver options (-o %s) are not supported", optarg);
                case 'H':
                        puts("Usage:  berth volume create [OPTIONS] [VOLUME]\n\n"
                             "Options:\n"
                             "  -d, --driver string   Volume driver name (local)\n"
                             "      --label list      Set metadata for a volume");
                        return 0;
                default: return cli_usage_error(err, "volume create", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                name = argv[optind++];
        if (optind < argc)
                return cli_usage_error(err, "volume create", "requires at most 1 argument");
        cleanup_free char *made = NULL;
        if (volume_create(&cli->store, name, labels, false, &made, err) < 0)
                return -1;
        printf("%s\n", made);
        return 0;
}

/* volume ls --filter: dangling=BOOL, driver=, label=KEY[=VALUE], name= (substring). */
static int filter_check(const char *f, berth_error_t *err)
{
        static const char *const keys[] = { "dangling=", "driver=", "label=", "name=" };
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (startswith(f, keys[i])) {
                        const char *v = f + strlen(keys[i]);
                        if (i == 0 && !streq(v, "true") && !streq(v, "false") && !streq(v, "1") && !streq(v, "0"))
                                return berth_error(err, 0, "invalid filter 'dangling=%s': use true or false", v);
                        return 0;
                }
        return berth_error(err, 0, "invalid filter '%s' (dangling=, driver=, label=, name=)", f);
}

/* 1 when v passes filter f, 0 when not, -1 when that cannot be told. */
static int filter_match(struct berth_store *s, const struct volume_info *v, const char *f, berth_error_t *err)
{
        const char *val = strchr(f, '=') + 1;
        if (startswith(f, "name="))
                return strstr(v->name, val) != NULL;
        if (startswith(f, "driver="))
                return streq(val, "local");
        if (startswith(f, "label=")) {
                cleanup_free char *k = xstrdup(val);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq = '\0';
                json_t *lv = json_object_get(json_object_get(v->meta, "Labels"), k);
                return lv && (!eq || (json_is_string(lv) && streq(json_string_value(lv), eq + 1)));
        }
        bool want_dangling = streq(val, "true") || streq(val, "1");
        cleanup_strv char **users = NULL;
        if (volume_users(s, v->name, &users, err) < 0)
                return -1;
        return want_dangling == (users[0] == NULL);
}

static int volume_ls_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'F' },
                { "filter", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        bool quiet = false;
        const char *format = NULL;
        cleanup_strv char **filters = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "qf:", opts, NULL)) != -1) {
                switch (c) {
                case 'q': quiet = true; break;
                case 'f':
                        if (filter_check(optarg, err) < 0)
                                return -1;
                        strv_push(&filters, optarg);
                        break;
                case 'F': format = optarg; break;
                case 'H':
                        puts("Usage:  berth volume ls [OPTIONS]\n\n"
                             "Options:\n"
                             "  -f, --filter filter   dangling=true|false, driver=local, label=KEY[=VALUE], name=\n"
                             "      --format string   json, a Go template, or table TEMPLATE\n"
                             "  -q, --quiet           Only display volume names");
                        return 0;
                default: return cli_usage_error(err, "volume ls", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "volume ls", "\"volume ls\" accepts no arguments");
        struct volume_info *vs = NULL;
        size_t n = 0;
        if (volume_list(&cli->store, &vs, &n, err) < 0)
                return -1;
        size_t kept = 0; /* every filter must match (Docker ORs values of one key; rarely used) */
        for (size_t i = 0; i < n; i++) {
                int ok = 1;
                for (size_t k = 0; ok > 0 && filters && filters[k]; k++)
                        ok = filter_match(&cli->store, &vs[i], filters[k], err);
                if (ok < 0) {
                        /* vs[kept..i) were moved or freed */
                        for (size_t j = i; j < n; j++)
                                vs[kept++] = vs[j];
                        volume_list_free(vs, kept);
                        return -1;
                }
                if (ok)
                        vs[kept++] = vs[i];
                else
                        volume_info_free(&vs[i]);
        }
        n = kept;
        if (quiet && !format) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", vs[i].name);
                volume_list_free(vs, n);
                return 0;
        }
        json_t **rows = xcalloc(n + 1, sizeof(json_t *));
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *labels = cli_labels_text(json_object_get(vs[i].meta, "Labels"));
                rows[i] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Driver", "local", "Name", vs[i].name,
                                    "Scope", "local", "Mountpoint", vs[i].mountpoint, "Labels", labels, "CreatedAt",
                                    json_str(vs[i].meta, "CreatedAt") ?: "", "Links", "N/A", "Size", "N/A");
        }
        json_auto_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Driver", "DRIVER", "Name",
                                        "VOLUME NAME", "Scope", "SCOPE", "Mountpoint", "MOUNTPOINT", "Labels", "LABELS",
                                        "CreatedAt", "CREATED", "Links", "LINKS", "Size", "SIZE");
        int r = cli_print_formatted(format ? format : "table", "{{.Driver}}\t{{.Name}}", header, rows, n, err);
        for (size_t i = 0; i < n; i++)
                json_decref(rows[i]);
        free(rows);
        volume_list_free(vs, n);
        return r;
}

static int volume_inspect_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
                if (c == 'f') {
                        format = optarg;
                } else if (c == 'H') {
                        puts("Usage:  berth volume inspect [-f FORMAT] VOLUME [VOLUME...]");
                        return 0;
                } else
                        return cli_usage_error(err, "volume inspect", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, "volume inspect", "requires at least 1 argument");
        json_auto_t *all = json_array();
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                struct volume_info v;
                berth_error_t e = NULL;
                if (volume_get(&cli->store, argv[i], &v, &e) < 0) {
                        fprintf(stderr, "Error: %s\n", e->msg);
                        berth_error_free(&e);
                        ret = 1;
                        continue;
                }
                json_t *obj = volume_json(&v);
                volume_info_free(&v);
                if (!format) {
                        json_array_append_new(all, obj);
                        continue;
                }
                cleanup_free char *out = NULL;
                int r = template_render(format, obj, &out, err);
                json_decref(obj);
                if (r < 0)
                        return -1;
                printf("%s\n", out);
        }
        if (!format) {
                cleanup_free char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", text ? text : "[]");
        }
        return ret;
}

static int volume_rm_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
                if (c == 'f') {
                        force = true;
                } else if (c == 'H') {
                        puts("Usage:  berth volume rm [-f] VOLUME [VOLUME...]\n\n"
                             "Remove one or more volumes. A volume in use by a container (running or not) is\n"
                             "never removed.\n\n"
                             "  -f, --force   Do not fail on volumes that do not exist");
                        return 0;
                } else
                        return cli_usage_error(err, "volume rm", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, "volume rm", "requires at least 1 argument");
        berth_error_t last = NULL;
        for (int i = optind; i < argc; i++) {
                berth_error_t e = NULL;
                if (volume_remove(&cli->store, argv[i], force, &e) == 0) {
                        printf("%s\n", argv[i]);
                        continue;
                }
                if (last) {
                        fprintf(stderr, "berth: %s\n", last->msg);
                        berth_error_free(&last);
                }
                last = e;
        }
        if (last) {
                *err = last;
                (*err)->exit_code = 1;
                return -1;
        }
        return 0;
}

static bool confirm_prune(bool all)
{
        if (!isatty(STDIN_FILENO))
                return true;
        printf("WARNING! This will remove %s local volumes not used by at least one container.\n"
               "Are you sure you want to continue? [y/N] ",
               all ? "all" : "anonymous");
        fflush(stdout);
        char buf[64];
        return fgets(buf, sizeof(buf), stdin) && (buf[0] == 'y' || buf[0] == 'Y');
}

/* Remove the volumes no container uses (only anonymous ones unless all, as
 * Docker 23+), printing "Deleted Volumes:" and their names. */
int cli_volume_prune(struct berth_store *s, bool all, long long *reclaimed, berth_error_t *err)
{
        /* a volume whose users cannot be told is kept (volume_remove); say
         * so once, before removing anything */
        struct berth_container **cs = NULL;
        size_t ncs = 0;
        if (container_list(s, &cs, &ncs, err) < 0)
                return berth_error_wrap(err, "cannot tell which volumes are in use");
        container_list_free(cs, ncs);
        struct volume_info *vs = NULL;
        size_t n = 0;
        if (volume_list(s, &vs, &n, err) < 0)
                return -1;
        bool header = false;
        for (size_t i = 0; i < n; i++) {
                if (!all && !json_bool(vs[i].meta, "Anonymous"))
                        continue;
                long long size = volume_size(s, vs[i].name);
                berth_error_t e = NULL;
                if (volume_remove(s, vs[i].name, true, &e) < 0) {
                        berth_error_free(&e); /* in use: kept */
                        continue;
                }
                if (!header)
                        printf("Deleted Volumes:\n");
                header = true;
                printf("%s\n", vs[i].name);
                *reclaimed += size;
        }
        if (header)
                printf("\n");
        volume_list_free(vs, n);
        return 0;
}

static int volume_prune_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "all", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        bool force = false, all = false;
        int c;
        while ((c = getopt_long(argc, argv, "fa", opts, NULL)) != -1) {
                if (c == 'f') {
                        force = true;
                } else if (c == 'a') {
                        all = true;
                } else if (c == 'H') {
                        puts("Usage:  berth volume prune [-a] [-f]\n\n"
                             "Remove unused local volumes (anonymous ones; with -a named ones too)\n\n"
                             "  -a, --all     Remove all unused volumes, not just anonymous ones\n"
                             "  -f, --force   Do not prompt for confirmation");
                        return 0;
                } else
                        return cli_usage_error(err, "volume prune", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind < argc)
                return cli_usage_error(err, "volume prune", "\"volume prune\" accepts no arguments");
        if (!force && !confirm_prune(all))
                return 0;
        long long reclaimed = 0;
        if (cli_volume_prune(&cli->store, all, &reclaimed, err) < 0)
                return -1;
        cleanup_free char *size = format_human_size(reclaimed);
        printf("Total reclaimed space: %s\n", size);
        return 0;
}

int cmd_volume(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct {
                const char *name;
                berth_cmd_fn fn;
        } subs[] = {
                { "create", volume_create_cmd }, { "ls", volume_ls_cmd },      { "list", volume_ls_cmd },
                { "inspect", volume_inspect_cmd }, { "rm", volume_rm_cmd },    { "remove", volume_rm_cmd },
                { "prune", volume_prune_cmd },
        };
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fputs(volume_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? BERTH_EXIT_ENGINE : 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (streq(subs[i].name, argv[1])) {
                        optind = 0;
                        return subs[i].fn(cli, argc - 1, argv + 1, err);
                }
        return cli_usage_error(err, "volume", "unknown command '%s' (create, ls, inspect, rm, prune)", argv[1]);
}
