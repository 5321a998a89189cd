/* berth secret create / ls / inspect / rm: Podman's and Docker swarm's
 * secrets, kept by the store (secret.h); a container gets one with
 * `run --secret`.  No command here ever prints a value. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>

#include "berth/cli.h"
#include "berth/json-util.h"
#include "berth/secret.h"
#include "berth/template.h"
#include "berth/util.h"

static const char secret_usage[] =
        "Usage:  berth secret COMMAND\n\n"
        "Manage secrets\n\n"
        "Commands:\n"
        "  create      Create a secret from a file or STDIN as content\n"
        "  inspect     Display detailed information on one or more secrets\n"
        "  ls          List secrets\n"
        "  rm          Remove one or more secrets\n";

/* The value: FILE (absolute already) or "-" for stdin, at most one byte
 * more than a secret may have (so "too large" is told without reading a
 * huge file whole). */
static int read_value(const char *file, struct strbuf *out, berth_error_t *err)
{
        bool is_stdin = streq(file, "-");
        cleanup_close int fd = is_stdin ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", file);
        const char *what = is_stdin ? "STDIN" : file;
        char buf[65536];
        while (out->len <= SECRET_MAX_SIZE) {
                ssize_t n = read_chunk(fd, buf, sizeof(buf), what, err);
                if (n < 0)
                        return -1;
                if (n == 0)
                        break;
                strbuf_addn(out, buf, (size_t) n);
        }
        return 0;
}

static int secret_create_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "label", required_argument, NULL, 'l' },
                { "driver", required_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        json_auto_t *labels = json_object();
        int c;
        while ((c = getopt_long(argc, argv, "l:d:", opts, NULL)) != -1) {
                switch (c) {
                case 'l': cli_label_add(labels, optarg); break;
                case 'd':
                        if (!streq(optarg, "file"))
                                return berth_error(err, 0, "secret driver %s is not supported: berth has the file "
                                                           "driver only", optarg);
                        break;
                case 'H':
                        puts("Usage:  berth secret create [OPTIONS] NAME FILE|-\n\n"
                             "Create a secret from a file, or from STDIN with -\n\n"
                             "Options:\n"
                             "  -d, --driver string   Secret driver (file)\n"
                             "  -l, --label list      Secret labels (KEY=VALUE)");
                        return 0;
                default: return cli_usage_error(err, "secret create", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (argc - optind != 2)
                return cli_usage_error(err, "secret create", "requires exactly 2 arguments: NAME and FILE (or -)");
        const char *name = argv[optind];
        cleanup_free char *file = streq(argv[optind + 1], "-") ? xstrdup("-") : path_absolute(NULL, argv[optind + 1]);
        struct strbuf value = {};
        int r = read_value(file, &value, err);
        cleanup_free char *id = NULL;
        if (r == 0)
                r = secret_create(&cli->store, name, value.s ? value.s : "", value.len, labels, &id, err);
        if (value.s)
                explicit_bzero(value.s, value.len);
        free(value.s);
        if (r < 0)
                return -1;
        printf("%s\n", id);
        return 0;
}

static int secret_ls_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        bool quiet;
        const char *format;
        int r = cli_ls_options(argc, argv, "secret ls", "secret IDs", &quiet, &format, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        struct secret_info *v = NULL;
        size_t n = 0;
        if (secret_list(&cli->store, &v, &n, err) < 0)
                return -1;
        if (quiet && !format) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", v[i].id);
                secret_list_free(v, n);
                return 0;
        }
        json_t **rows = xcalloc(n + 1, sizeof(json_t *));
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *labels = cli_labels_text(json_object_get(v[i].meta, "Labels"));
                cleanup_free char *created = format_human_ago(parse_rfc3339_ns(json_str(v[i].meta, "CreatedAt")));
                cleanup_free char *updated = format_human_ago(parse_rfc3339_ns(json_str(v[i].meta, "UpdatedAt")));
                rows[i] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", v[i].id, "Name", v[i].name, "Driver",
                                    "file", "CreatedAt", created, "UpdatedAt", updated, "Labels", labels);
        }
        json_auto_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "ID", "Name", "NAME", "Driver",
                                        "DRIVER", "CreatedAt", "CREATED", "UpdatedAt", "UPDATED", "Labels", "LABELS");
        r = cli_print_formatted(format ? format : "table",
                                "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}", header, rows, n, err);
        for (size_t i = 0; i < n; i++)
                json_decref(rows[i]);
        free(rows);
        secret_list_free(v, n);
        return r;
}

/* Podman's shape of `secret inspect`, and whether the value is encrypted
 * at rest: metadata only, the value never. */
static json_t *secret_json(const struct secret_info *si)
{
        json_t *labels = json_object_get(si->meta, "Labels");
        return json_pack("{s:s, s:s, s:s, s:{s:s, s:{s:s, s:{}}, s:O}, s:b}", "ID", si->id, "CreatedAt",
                         json_str(si->meta, "CreatedAt") ?: "", "UpdatedAt", json_str(si->meta, "UpdatedAt") ?: "",
                         "Spec", "Name", si->name, "Driver", "Name", "file", "Options", "Labels",
                         json_is_object(labels) ? labels : json_null(), "Encrypted",
                         json_bool(si->meta, "Encrypted"));
}

static int secret_inspect_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
                if (c == 'f')
                        format = optarg;
                else if (c == 'H') {
                        puts("Usage:  berth secret inspect [-f FORMAT] SECRET [SECRET...]");
                        return 0;
                } else
                        return cli_usage_error(err, "secret inspect", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, "secret inspect", "requires at least 1 argument");
        json_auto_t *all = json_array();
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                struct secret_info si;
                cleanup_error berth_error_t e = NULL;
                if (secret_get(&cli->store, argv[i], &si, &e) < 0) {
                        fprintf(stderr, "Error: %s\n", e->msg);
                        ret = 1;
                        continue;
                }
                json_t *obj = secret_json(&si);
                secret_info_free(&si);
                json_array_append_new(all, obj);
        }
        if (!format) {
                cleanup_free char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", text ? text : "[]");
                return ret;
        }
        size_t k;
        json_t *obj;
        json_array_foreach(all, k, obj)
        {
                cleanup_free char *out = NULL;
                if (template_render(format, obj, &out, err) < 0)
                        return -1;
                printf("%s\n", out);
        }
        return ret;
}

static int secret_rm_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'H' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c != 'H')
                        return cli_usage_error(err, "secret rm", "unknown option '%s'", argv[optind - 1]);
                puts("Usage:  berth secret rm SECRET [SECRET...]\n\n"
                     "Remove one or more secrets. A secret used by a container (running or not) is\n"
                     "never removed.");
                return 0;
        }
        if (optind >= argc)
                return cli_usage_error(err, "secret rm", "requires at least 1 argument");
        berth_error_t last = NULL;
        for (int i = optind; i < argc; i++) {
                berth_error_t e = NULL;
                if (secret_remove(&cli->store, argv[i], &e) == 0) {
                        printf("%s\n", argv[i]);
                        continue;
                }
                if (last) /* each failure is said; the last one is the command's */
                        fprintf(stderr, "berth: %s\n", last->msg);
                berth_error_free(&last);
                last = e;
        }
        if (last) {
                *err = last;
                return -1;
        }
        return 0;
}

int cmd_secret(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct {
                const char *name;
                berth_cmd_fn fn;
        } subs[] = {
                { "create", secret_create_cmd }, { "ls", secret_ls_cmd },   { "list", secret_ls_cmd },
                { "inspect", secret_inspect_cmd }, { "rm", secret_rm_cmd }, { "remove", secret_rm_cmd },
        };
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fputs(secret_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? BERTH_EXIT_ENGINE : 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (streq(subs[i].name, argv[1])) {
                        optind = 0;
                        return subs[i].fn(cli, argc - 1, argv + 1, err);
                }
        return cli_usage_error(err, "secret", "unknown command '%s' (create, ls, inspect, rm)", argv[1]);
}
