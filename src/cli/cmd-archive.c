/* berth save | load | history (image ...) and commit | export | diff
 * (container ...): Docker's flags and output over archive.h, commit.h,
 * export.h and diff.h. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <sys/stat.h>

#include "berth/archive.h"
#include "berth/cli.h"
#include "berth/commit.h"
#include "berth/container.h"
#include "berth/diff.h"
#include "berth/export.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/layer.h"
#include "berth/lifecycle.h"
#include "berth/parse.h"
#include "berth/unit.h"
#include "berth/util.h"

static int usage_ok(const char *text)
{
        fputs(text, stdout);
        return 0;
}

static void print_stderr(const char *line, void *userdata)
{
        (void) userdata;
        fflush(stdout);
        fprintf(stderr, "%s\n", line);
}

static void print_stdout(const char *line, void *userdata)
{
        (void) userdata;
        printf("%s\n", line);
        fflush(stdout);
}

/* ---- output files: written under a temporary name, renamed when complete ---- */
struct output {
        char *path; /* absolute; NULL: stdout */
        char *tmp;
        int fd;
};

static int output_open(struct output *o, const char *path, berth_error_t *err)
{
        o->path = NULL;
        o->tmp = NULL;
        o->fd = STDOUT_FILENO;
        if (!path) {
                if (isatty(STDOUT_FILENO))
                        return berth_error(err, 0, "cowardly refusing to save to a terminal. Use the -o flag or "
                                                   "redirect");
                return 0;
        }
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                /* a device or a pipe (-o /dev/stdout): write to it as is */
                o->fd = open(path, O_WRONLY | O_CLOEXEC);
                if (o->fd < 0)
                        return berth_error(err, errno, "open `%s`", path);
                return 0;
        }
        /* relative to the working directory of the command, resolved once */
        cleanup_free char *abs = path_absolute(NULL, path);
        cleanup_free char *dcopy = xstrdup(abs);
        cleanup_free char *bcopy = xstrdup(abs);
        cleanup_free char *tmp = xasprintf("%s/.%s.XXXXXX", dirname(dcopy), basename(bcopy));
        o->fd = mkostemp(tmp, O_CLOEXEC);
        if (o->fd < 0)
                return berth_error(err, errno, "create `%s`", path);
        o->tmp = steal_pointer(&tmp);
        o->path = steal_pointer(&abs);
        (void) fchmod(o->fd, 0644);
        return 0;
}

/* ok: keep the file (rename it into place), else remove it. */
static int output_close(struct output *o, bool ok, berth_error_t *err)
{
        int r = 0;
        if (o->tmp) {
                if (ok && (fsync(o->fd) < 0 || rename(o->tmp, o->path) < 0))
                        r = berth_error(err, errno, "write `%s`", o->path);
                if (!ok || r < 0)
                        unlink(o->tmp);
                free(o->tmp);
                o->tmp = NULL;
        }
        free(o->path);
        o->path = NULL;
        if (o->fd != STDOUT_FILENO && o->fd >= 0)
                close(o->fd);
        o->fd = -1;
        return r;
}

/* ---- save --------------------------------------------------------------------- */
static const char save_usage[] =
        "Usage:  berth save [OPTIONS] IMAGE [IMAGE...]\n\n"
        "Save one or more images to a tar archive (streamed to STDOUT by default)\n\n"
        "Options:\n"
        "      --format string   docker-archive (default: Docker's layout, which is also an\n"
        "                        OCI image layout) or oci-archive\n"
        "  -o, --output string   Write to a file, instead of STDOUT\n"
        "  -q, --quiet           Suppress the progress output\n";

int cmd_save(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "format", required_argument, NULL, 'F' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *output = NULL;
        enum image_archive_format format = IMAGE_ARCHIVE_DOCKER;
        bool quiet = false;
        int c;
        while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case 'F':
                        if (streq(optarg, "docker-archive") || streq(optarg, "docker"))
                                format = IMAGE_ARCHIVE_DOCKER;
                        else if (streq(optarg, "oci-archive") || streq(optarg, "oci"))
                                format = IMAGE_ARCHIVE_OCI;
                        else
                                return cli_usage_error(err, "save", "unknown format `%s` (docker-archive or "
                                                                    "oci-archive)",
                                                       optarg);
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        return usage_ok(save_usage);
                default:
                        return cli_usage_error(err, "save", "unknown option");
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "save", "\"save\" requires at least 1 argument");
        /* every image must exist before an output file is created */
        cleanup_strv char **ids = xcalloc(1, sizeof(char *));
        for (int i = optind; i < argc; i++) {
                struct berth_image *img = NULL;
                if (image_lookup(&cli->store, argv[i], &img, err) < 0)
                        return -1;
                strv_push(&ids, img->id);
                image_free(img);
        }
        struct output out;
        if (output_open(&out, output, err) < 0)
                return -1;
        cleanup_strv char **refs = xcalloc(1, sizeof(char *));
        for (int i = optind; i < argc; i++)
                strv_push(&refs, argv[i]);
        struct image_archive_report report = { .progress = quiet ? NULL : print_stderr,
                                               .bar = !quiet && isatty(STDERR_FILENO) ? stderr : NULL };
        int r = image_save_archive(&cli->store, refs, format, out.fd, &report, err);
        if (output_close(&out, r == 0, r == 0 ? err : NULL) < 0)
                return -1;
        for (size_t i = 0; r == 0 && ids[i]; i++)
                image_event("save", ids[i], refs[i]);
        return r < 0 ? -1 : 0;
}

/* ---- load --------------------------------------------------------------------- */
static const char load_usage[] =
        "Usage:  berth load [OPTIONS]\n\n"
        "Load images from a tar archive or STDIN: Docker's (docker save, podman save,\n"
        "skopeo docker-archive:) or an OCI layout (oci-archive:), plain or compressed\n\n"
        "Options:\n"
        "  -i, --input string   Read from tar archive file, instead of STDIN\n"
        "  -q, --quiet          Suppress the load output\n";

int cmd_load(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "input", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *input = NULL;
        bool quiet = false;
        int c;
        while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'i':
                        input = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        return usage_ok(load_usage);
                default:
                        return cli_usage_error(err, "load", "unknown option");
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "load", "\"load\" accepts no arguments");
        cleanup_close int fd = -1;
        if (input && !streq(input, "-")) {
                fd = open(input, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, errno, "open `%s`", input);
        } else if (isatty(STDIN_FILENO))
                return berth_error(err, 0, "requested load from stdin, but stdin is empty");
        struct image_archive_report report = { .progress = quiet ? NULL : print_stderr, .result = print_stdout,
                                               .bar = !quiet && isatty(STDERR_FILENO) ? stderr : NULL };
        cleanup_strv char **ids = NULL;
        if (image_load_archive(&cli->store, fd >= 0 ? fd : STDIN_FILENO, &report, &ids, err) < 0)
                return berth_error_wrap(err, "load %s", fd >= 0 ? input : "from standard input");
        for (size_t i = 0; ids && ids[i]; i++)
                image_event("load", ids[i], NULL);
        return 0;
}

/* ---- history ------------------------------------------------------------------ */
static const char history_usage[] =
        "Usage:  berth history [OPTIONS] IMAGE\n\n"
        "Show the history of an image\n\n"
        "Options:\n"
        "      --format string   Format output using a template: 'table', 'json', or\n"
        "                        fields such as '{{.ID}}\\t{{.CreatedBy}}'\n"
        "  -H, --human           Print sizes and dates in human readable format (default true)\n"
        "      --no-trunc        Don't truncate output\n"
        "  -q, --quiet           Only show image IDs\n";

struct history_row {
        char *id, *created_since, *created_at, *created_by, *size, *comment;
};

static json_t *history_object(const struct history_row *r)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", r->id, "CreatedSince", r->created_since, "CreatedAt",
                         r->created_at, "CreatedBy", r->created_by, "Size", r->size, "Comment", r->comment);
}

int cmd_history(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'F' },
                { "human", optional_argument, NULL, 'H' },
                { "no-trunc", no_argument, NULL, 'T' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *format = NULL;
        bool human = true, no_trunc = false, quiet = false;
        int c;
        while ((c = getopt_long(argc, argv, "Hqh", opts, NULL)) != -1) {
                switch (c) {
                case 'F':
                        format = optarg;
                        break;
                case 'H':
                        if (!parse_bool_flag(optarg, &human))
                                return cli_usage_error(err, "history", "invalid value `%s` for --human", optarg);
                        break;
                case 'T':
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        return usage_ok(history_usage);
                default:
                        return cli_usage_error(err, "history", "unknown option");
                }
        }
        if (argc - optind != 1)
                return cli_usage_error(err, "history", "\"history\" requires exactly 1 argument");
        cleanup_image struct berth_image *img = NULL;
        if (image_lookup(&cli->store, argv[optind], &img, err) < 0)
                return -1;

        json_t *history = json_object_get(img->config, "history");
        size_t nhist = json_array_size(history), nlayers = strv_length(img->diff_ids);
        size_t nrows = nhist ? nhist : nlayers;
        struct history_row *rows = xcalloc(nrows + 1, sizeof(*rows));
        size_t layer = 0;
        for (size_t i = 0; i < nrows; i++) {
                json_t *h = json_array_get(history, i); /* NULL without history */
                bool empty = json_is_true(json_object_get(h, "empty_layer"));
                long long size = 0;
                if (!empty && layer < nlayers) {
                        store_layer_info(&cli->store, img->diff_ids[layer], NULL, &size, NULL);
                        layer++;
                }
                const char *created = json_string_value(json_object_get(h, "created"));
                long long ns = created ? parse_rfc3339_ns(created) : img->created_ns;
                const char *by = json_string_value(json_object_get(h, "created_by"));
                cleanup_free char *by_flat = xstrdup(by ? by : "");
                for (char *p = by_flat; *p; p++)
                        if (*p == '\t')
                                *p = ' ';
                const char *comment = json_string_value(json_object_get(h, "comment"));
                struct history_row *r = &rows[nrows - 1 - i]; /* newest first */
                r->id = i + 1 == nrows ? (no_trunc ? xstrdup(img->id) : xstrndup(img->id + 7, 12))
                                       : xstrdup("<missing>");
                r->created_since = human ? format_human_ago(ns) : format_rfc3339(ns);
                r->created_at = format_rfc3339(ns);
                r->created_by = no_trunc ? xstrdup(by_flat) : format_ellipsis(by_flat, 45);
                r->size = human ? format_human_size(size) : xasprintf("%lld", size);
                r->comment = xstrdup(comment ? comment : "");
        }
        int ret = 0;
        if (quiet) {
                for (size_t i = 0; i < nrows; i++)
                        printf("%s\n", rows[i].id);
        } else if (format && *format) {
                struct history_row hdr = { "IMAGE", "CREATED", "CREATED AT", "CREATED BY", "SIZE", "COMMENT" };
                json_t *header = history_object(&hdr);
                json_t **objs = xcalloc(nrows + 1, sizeof(json_t *));
                for (size_t i = 0; i < nrows; i++)
                        objs[i] = history_object(&rows[i]);
                ret = cli_print_formatted(format, "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                                          header, objs, nrows, err);
                for (size_t i = 0; i < nrows; i++)
                        json_decref(objs[i]);
                free(objs);
                json_decref(header);
        } else {
                struct cli_table t;
                cli_table_init(&t, 5, "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
                for (size_t i = 0; i < nrows; i++)
                        cli_table_add(&t, rows[i].id, rows[i].created_since, rows[i].created_by, rows[i].size,
                                      rows[i].comment);
                cli_table_print(&t, stdout);
                cli_table_free(&t);
        }
        for (size_t i = 0; i < nrows; i++) {
                free(rows[i].id);
                free(rows[i].created_since);
                free(rows[i].created_at);
                free(rows[i].created_by);
                free(rows[i].size);
                free(rows[i].comment);
        }
        free(rows);
        return ret < 0 ? -1 : 0;
}

/* ---- commit ------------------------------------------------------------------- */
static const char commit_usage[] =
        "Usage:  berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
        "Create a new image from a container's changes\n\n"
        "Options:\n"
        "  -a, --author string    Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
        "  -c, --change list      Apply Dockerfile instruction to the created image\n"
        "  -m, --message string   Commit message\n"
        "  -p, --pause            Pause container during commit (default true)\n";

int cmd_commit(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "author", required_argument, NULL, 'a' },
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "pause", optional_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cleanup_strv char **changes = xcalloc(1, sizeof(char *));
        struct commit_opts o = {};
        bool pause = true;
        int c;
        while ((c = getopt_long(argc, argv, "a:c:m:ph", opts, NULL)) != -1) {
                switch (c) {
                case 'a':
                        o.author = optarg;
                        break;
                case 'c':
                        strv_push(&changes, optarg);
                        break;
                case 'm':
                        o.message = optarg;
                        break;
                case 'p':
                        if (!parse_bool_flag(optarg, &pause))
                                return cli_usage_error(err, "commit", "invalid value `%s` for --pause", optarg);
                        break;
                case 'h':
                        return usage_ok(commit_usage);
                default:
                        return cli_usage_error(err, "commit", "unknown option");
                }
        }
        int nargs = argc - optind;
        if (nargs < 1 || nargs > 2)
                return cli_usage_error(err, "commit", "\"commit\" requires at least 1 and at most 2 arguments");
        o.changes = changes;
        o.ref = nargs == 2 ? argv[optind + 1] : NULL;
        cleanup_container struct berth_container *ct = NULL;
        if (container_lookup(&cli->store, argv[optind], &ct, err) < 0)
                return -1;
        /* As Docker: a running container is paused while its upper dir is
         * read, so the layer is one consistent snapshot. */
        cleanup_bus sd_bus *bus = NULL;
        bool paused = false;
        if (pause && container_is_running(ct) && !streq(json_str(ct->state, "Status"), "paused")) {
                if (unit_bus_open(&bus, err) < 0 || container_pause(bus, ct, err) < 0)
                        return berth_error_wrap(err, "commit %s: pause", ct->name);
                paused = true;
        }
        cleanup_free char *id = NULL;
        int r = container_commit(&cli->store, ct, &o, &id, err);
        if (paused) {
                berth_error_t e = NULL;
                if (container_unpause(bus, ct, &e) < 0) {
                        fprintf(stderr, "berth: commit %s: unpause: %s\n", ct->name, e->msg);
                        berth_error_free(&e);
                }
        }
        if (r < 0)
                return berth_error_wrap(err, "commit %s", ct->name);
        printf("%s\n", id);
        return 0;
}

/* ---- export ------------------------------------------------------------------- */
static const char export_usage[] =
        "Usage:  berth export [OPTIONS] CONTAINER\n\n"
        "Export a container's filesystem as a tar archive\n\n"
        "Options:\n"
        "  -o, --output string   Write to a file, instead of STDOUT\n";

int cmd_export(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *output = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case 'h':
                        return usage_ok(export_usage);
                default:
                        return cli_usage_error(err, "export", "unknown option");
                }
        }
        if (argc - optind != 1)
                return cli_usage_error(err, "export", "\"export\" requires exactly 1 argument");
        cleanup_container struct berth_container *ct = NULL;
        if (container_lookup(&cli->store, argv[optind], &ct, err) < 0)
                return -1;
        struct output out;
        if (output_open(&out, output, err) < 0)
                return -1;
        int r = container_export(&cli->store, ct, out.fd, err);
        if (output_close(&out, r == 0, r == 0 ? err : NULL) < 0)
                return -1;
        if (r == 0)
                container_event(ct, "export", NULL);
        return r < 0 ? -1 : 0;
}

/* ---- diff --------------------------------------------------------------------- */
static const char diff_usage[] = "Usage:  berth diff CONTAINER\n\n"
                                 "Inspect changes to files or directories on a container's filesystem\n"
                                 "(A added, C changed, D deleted)\n";

int cmd_diff(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h')
                        return usage_ok(diff_usage);
                return cli_usage_error(err, "diff", "unknown option");
        }
        if (argc - optind != 1)
                return cli_usage_error(err, "diff", "\"diff\" requires exactly 1 argument");
        cleanup_container struct berth_container *ct = NULL;
        if (container_lookup(&cli->store, argv[optind], &ct, err) < 0)
                return -1;
        cleanup_image struct berth_image *img = NULL;
        if (image_lookup(&cli->store, json_str(ct->config, "Image"), &img, err) < 0)
                return berth_error_wrap(err, "the image of container %s", ct->name);
        struct fs_change *v = NULL;
        size_t n = 0;
        if (container_changes(&cli->store, ct, img, &v, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                printf("%c %s\n", v[i].kind, v[i].path);
        fs_changes_free(v, n);
        return 0;
}
