/* berth import | images (image ls) | rmi (image rm) | tag: Docker's flags,
 * columns and output lines over image.h. */
#include "config.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <time.h>

#include "berth/cli.h"
#include "berth/image-import.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/template.h"
#include "berth/util.h"

/* Docker's images SIZE: go-units HumanSizeWithPrecision(size, 3), "77.8MB". */
static int usage_ok(const char *text)
{
        fputs(text, stdout);
        return 0;
}

/* ---- import ---------------------------------------------------------------------- */
static const char import_usage[] =
        "Usage:  berth import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\n"
        "Import the contents from a tarball to create a filesystem image\n\n"
        "Options:\n"
        "  -c, --change list      Apply Dockerfile instruction to the created image\n"
        "  -m, --message string   Set commit message for imported image\n";

int cmd_import(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cleanup_strv char **changes = xcalloc(1, sizeof(char *));
        const char *message = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        strv_push(&changes, optarg);
                        break;
                case 'm':
                        message = optarg;
                        break;
                case 'h':
                        return usage_ok(import_usage);
                default:
                        return cli_usage_error(err, "import", "unknown option");
                }
        }
        int nargs = argc - optind;
        if (nargs < 1 || nargs > 2)
                return cli_usage_error(err, "import", "\"import\" requires at least 1 and at most 2 arguments");
        const char *src = argv[optind];
        const char *ref = nargs == 2 ? argv[optind + 1] : NULL;
        if (startswith(src, "http://") || startswith(src, "https://"))
                return berth_error(err, 0, "import: importing from a URL is not supported; download `%s` first "
                                           "and import the file",
                                   src);
        cleanup_close int fd = -1;
        if (!streq(src, "-")) {
                fd = open(src, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, errno, "import: open `%s`", src);
        }
        cleanup_free char *comment = message && *message ? xstrdup(message) : xasprintf("Imported from -");
        cleanup_free char *id = NULL;
        if (image_import(&cli->store, fd >= 0 ? fd : STDIN_FILENO, ref, changes, comment, &id, err) < 0)
                return berth_error_wrap(err, "import: %s", streq(src, "-") ? "standard input" : src);
        image_event("import", id, ref);
        printf("%s\n", id);
        return 0;
}

/* ---- images ---------------------------------------------------------------------- */
static const char images_usage[] =
        "Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]\n\n"
        "List images (also: berth image ls)\n\n"
        "Options:\n"
        "  -a, --all             Show all images (default hides intermediate images)\n"
        "      --digests         Show digests\n"
        "  -f, --filter filter   Filter output based on conditions provided\n"
        "                        (dangling=true|false, reference=PATTERN, label=KEY[=VALUE],\n"
        "                        before=IMAGE, since=IMAGE)\n"
        "      --format string   Format output using a template: 'table', 'json', or\n"
        "                        fields such as '{{.Repository}}:{{.Tag}}\\t{{.ID}}'\n"
        "      --no-trunc        Don't truncate output\n"
        "  -q, --quiet           Only show image IDs\n";

struct image_row {
        const struct berth_image *img;
        char *repo, *tag; /* "<none>" when untagged */
};

struct images_filter {
        int dangling; /* -1 any, 0 tagged only, 1 untagged only */
        char **references;
        char **labels;
        long long before_ns, since_ns; /* 0: unset */
};

static bool match_reference(char **patterns, const char *repo, const char *tag)
{
        if (!patterns || !*patterns)
                return true;
        cleanup_free char *withtag = xasprintf("%s:%s", repo, tag);
        for (size_t i = 0; patterns[i]; i++)
                if (fnmatch(patterns[i], repo, FNM_PATHNAME) == 0 || fnmatch(patterns[i], withtag, FNM_PATHNAME) == 0)
                        return true;
        return false;
}

static bool match_labels(char **labels, const struct berth_image *img)
{
        json_t *have = json_object_get(json_object_get(img->config, "config"), "Labels");
        for (size_t i = 0; labels && labels[i]; i++) {
                cleanup_free char *key = xstrdup(labels[i]);
                char *eq = strchr(key, '=');
                if (eq)
                        *eq = '\0';
                const char *v = json_string_value(json_object_get(have, key));
                if (!v || (eq && !streq(v, eq + 1)))
                        return false;
        }
        return true;
}

/* Docker's reference filter takes a familiar name pattern; a positional
 * "busybox" means every tag of busybox, "busybox:1.36" that one tag. */
static char *reference_pattern(const char *arg)
{
        if (strpbrk(arg, "*?["))
                return xstrdup(arg);
        struct image_ref r;
        if (image_ref_parse(arg, &r, NULL) < 0)
                return xstrdup(arg);
        char *repo = image_ref_familiar_repo(&r);
        bool tagged = strchr(arg + (strrchr(arg, '/') ? strrchr(arg, '/') - arg : 0), ':') != NULL;
        char *p = tagged && r.tag ? xasprintf("%s:%s", repo, r.tag) : xstrdup(repo);
        free(repo);
        image_ref_free(&r);
        return p;
}

static int parse_images_filter(struct berth_store *s, const char *f, struct images_filter *flt, berth_error_t *err)
{
        const char *eq = strchr(f, '=');
        if (!eq)
                return cli_usage_error(err, "images", "bad format of filter (expected name=value): %s", f);
        cleanup_free char *key = xstrndup(f, (size_t) (eq - f));
        const char *val = eq + 1;
        if (streq(key, "dangling")) {
                if (streq(val, "true") || streq(val, "1"))
                        flt->dangling = 1;
                else if (streq(val, "false") || streq(val, "0"))
                        flt->dangling = 0;
                else
                        return cli_usage_error(err, "images", "invalid filter 'dangling=%s'", val);
        } else if (streq(key, "reference")) {
                cleanup_free char *p = reference_pattern(val);
                strv_push(&flt->references, p);
        } else if (streq(key, "label")) {
                strv_push(&flt->labels, val);
        } else if (streq(key, "before") || streq(key, "since")) {
                struct berth_image *img = NULL;
                if (image_lookup(s, val, &img, err) < 0)
                        return -1;
                if (streq(key, "before"))
                        flt->before_ns = img->created_ns;
                else
                        flt->since_ns = img->created_ns;
                image_free(img);
        } else
                return cli_usage_error(err, "images", "invalid filter '%s'", key);
        return 0;
}

static char *created_at(long long ns)
{
        time_t t = ns / 1000000000LL;
        struct tm tm;
        localtime_r(&t, &tm);
        char buf[96];
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
        return xstrdup(buf);
}

/* The value of one --format field for a row (malloc'ed), NULL if unknown. */
static char *row_field(const struct image_row *row, const char *field, bool no_trunc)
{
        const struct berth_image *img = row->img;
        if (streq(field, "Repository"))
                return xstrdup(row->repo);
        if (streq(field, "Tag"))
                return xstrdup(row->tag);
        if (streq(field, "ID"))
                return no_trunc ? xstrdup(img->id) : xstrndup(img->id + 7, 12);
        if (streq(field, "Digest"))
                return xstrdup(img->manifest_digest ? img->manifest_digest : "<none>");
        if (streq(field, "CreatedSince"))
                return format_human_ago(img->created_ns);
        if (streq(field, "CreatedAt"))
                return created_at(img->created_ns);
        if (streq(field, "Size") || streq(field, "VirtualSize"))
                return format_human_size(img->size);
        if (streq(field, "Containers") || streq(field, "SharedSize") || streq(field, "UniqueSize"))
                return xstrdup("N/A");
        return NULL;
}

static const struct {
        const char *field, *header;
} image_fields[] = {
        { "Containers", "CONTAINERS" }, { "CreatedAt", "CREATED AT" }, { "CreatedSince", "CREATED" },
        { "Digest", "DIGEST" },         { "ID", "IMAGE ID" },          { "Repository", "REPOSITORY" },
        { "SharedSize", "SHARED SIZE" }, { "Size", "SIZE" },           { "Tag", "TAG" },
        { "UniqueSize", "UNIQUE SIZE" }, { "VirtualSize", "SIZE" },
};

static json_t *row_object(const struct image_row *row, bool no_trunc, bool header)
{
        json_t *o = json_object();
        for (size_t i = 0; i < ARRAY_SIZE(image_fields); i++) {
                cleanup_free char *v = header ? xstrdup(image_fields[i].header)
                                              : row_field(row, image_fields[i].field, no_trunc);
                json_object_set_new(o, image_fields[i].field, json_string(v));
        }
        return o;
}

/* --format: Docker's templates over each row, "json", or "table TEMPLATE". */
static int print_formatted(const char *format, struct image_row *rows, size_t nrows, bool no_trunc,
                           berth_error_t *err)
{
        json_t *header = row_object(NULL, no_trunc, true);
        json_t **objs = xcalloc(nrows + 1, sizeof(json_t *));
        for (size_t i = 0; i < nrows; i++)
                objs[i] = row_object(&rows[i], no_trunc, false);
        int r = cli_print_formatted(format, "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
                                    header, objs, nrows, err);
        for (size_t i = 0; i < nrows; i++)
                json_decref(objs[i]);
        free(objs);
        json_decref(header);
        return r;
}

/* As Docker's: an untagged image that another image was built on (the steps
 * of `berth build`, kept for its cache) is intermediate, shown only with -a.
 * Y was built on X when X's history and layers are a prefix of Y's. */
static bool json_array_prefix(json_t *prefix, json_t *of)
{
        if (!json_is_array(prefix) || !json_is_array(of) || json_array_size(prefix) > json_array_size(of))
                return false;
        for (size_t i = 0; i < json_array_size(prefix); i++)
                if (!json_equal(json_array_get(prefix, i), json_array_get(of, i)))
                        return false;
        return true;
}

static bool image_is_intermediate(const struct berth_image *x, struct berth_image **all, size_t n)
{
        json_t *xh = json_object_get(x->config, "history");
        json_t *xl = json_object_get(json_object_get(x->config, "rootfs"), "diff_ids");
        for (size_t i = 0; i < n; i++) {
                json_t *yh = json_object_get(all[i]->config, "history");
                if (all[i] == x || json_array_size(yh) <= json_array_size(xh))
                        continue;
                if (json_array_prefix(xh, yh) &&
                    json_array_prefix(xl, json_object_get(json_object_get(all[i]->config, "rootfs"), "diff_ids")))
                        return true;
        }
        return false;
}

int cmd_images(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },       { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' },  { "digests", no_argument, NULL, 'D' },
                { "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'h' },      {},
        };
        bool quiet = false, no_trunc = false, digests = false, all = false;
        const char *format = NULL;
        struct images_filter flt = { .dangling = -1 };
        cleanup_strv char **filters = xcalloc(1, sizeof(char *));
        int c;
        while ((c = getopt_long(argc, argv, "aqf:h", opts, NULL)) != -1) {
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'T':
                        no_trunc = true;
                        break;
                case 'D':
                        digests = true;
                        break;
                case 'f':
                        strv_push(&filters, optarg);
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'h':
                        return usage_ok(images_usage);
                default:
                        return cli_usage_error(err, "images", "unknown option");
                }
        }
        if (argc - optind > 1)
                return cli_usage_error(err, "images", "\"images\" requires at most 1 argument");
        int ret = -1;
        struct berth_image **imgs = NULL;
        size_t nimg = 0;
        struct image_row *rows = NULL;
        size_t nrows = 0;
        for (size_t i = 0; filters[i]; i++)
                if (parse_images_filter(&cli->store, filters[i], &flt, err) < 0)
                        goto out;
        if (optind < argc) {
                cleanup_free char *p = reference_pattern(argv[optind]);
                strv_push(&flt.references, p);
        }
        if (image_list(&cli->store, &imgs, &nimg, err) < 0)
                goto out;
        for (size_t i = 0; i < nimg; i++) {
                struct berth_image *img = imgs[i];
                if (flt.before_ns && img->created_ns >= flt.before_ns)
                        continue;
                if (flt.since_ns && img->created_ns <= flt.since_ns)
                        continue;
                if (!match_labels(flt.labels, img))
                        continue;
                size_t ntags = strv_length(img->tags);
                if ((flt.dangling == 1 && ntags) || (flt.dangling == 0 && !ntags))
                        continue;
                if (!ntags && !all && image_is_intermediate(img, imgs, nimg))
                        continue;
                if (ntags == 0) {
                        if (flt.references)
                                continue;
                        rows = xrealloc(rows, (nrows + 1) * sizeof(*rows));
                        rows[nrows++] = (struct image_row){ img, xstrdup("<none>"), xstrdup("<none>") };
                        continue;
                }
                for (size_t k = 0; k < ntags; k++) {
                        struct image_ref r;
                        if (image_ref_parse(img->tags[k], &r, NULL) < 0)
                                continue;
                        char *repo = image_ref_familiar_repo(&r);
                        char *tag = xstrdup(r.tag ? r.tag : "<none>");
                        image_ref_free(&r);
                        if (!match_reference(flt.references, repo, tag)) {
                                free(repo);
                                free(tag);
                                continue;
                        }
                        rows = xrealloc(rows, (nrows + 1) * sizeof(*rows));
                        rows[nrows++] = (struct image_row){ img, repo, tag };
                }
        }

        if (quiet) {
                cleanup_strv char **seen = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < nrows; i++) {
                        if (strv_contains(seen, rows[i].img->id))
                                continue;
                        strv_push(&seen, rows[i].img->id);
                        if (no_trunc)
                                printf("%s\n", rows[i].img->id);
                        else
                                printf("%.12s\n", rows[i].img->id + 7);
                }
        } else if (format && *format) {
                if (print_formatted(format, rows, nrows, no_trunc, err) < 0)
                        goto out;
        } else {
                struct cli_table t;
                if (digests)
                        cli_table_init(&t, 6, "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
                else
                        cli_table_init(&t, 5, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
                for (size_t i = 0; i < nrows; i++) {
                        const struct berth_image *img = rows[i].img;
                        cleanup_free char *id = no_trunc ? xstrdup(img->id) : xstrndup(img->id + 7, 12);
                        cleanup_free char *ago = format_human_ago(img->created_ns);
                        cleanup_free char *size = format_human_size(img->size);
                        if (digests)
                                cli_table_add(&t, rows[i].repo, rows[i].tag,
                                              img->manifest_digest ? img->manifest_digest : "<none>", id, ago, size);
                        else
                                cli_table_add(&t, rows[i].repo, rows[i].tag, id, ago, size);
                }
                cli_table_print(&t, stdout);
                cli_table_free(&t);
        }
        ret = 0;
out:
        for (size_t i = 0; i < nrows; i++) {
                free(rows[i].repo);
                free(rows[i].tag);
        }
        free(rows);
        image_list_free(imgs, nimg);
        strv_free(flt.references);
        strv_free(flt.labels);
        return ret;
}

/* ---- rmi ----------------------------------------------------------------------- */
static const char rmi_usage[] =
        "Usage:  berth rmi [OPTIONS] IMAGE [IMAGE...]\n\n"
        "Remove one or more images (also: berth image rm)\n\n"
        "Options:\n"
        "  -f, --force      Force removal of the image\n"
        "      --no-prune   Do not delete untagged parents (accepted; berth has none)\n";

static void print_line(const char *line, void *userdata)
{
        printf("%s\n", line);
}

int cmd_rmi(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "no-prune", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case 'P':
                        break;
                case 'h':
                        return usage_ok(rmi_usage);
                default:
                        return cli_usage_error(err, "rmi", "unknown option");
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "rmi", "\"rmi\" requires at least 1 argument");
        if (argc - optind == 1)
                return image_remove(&cli->store, argv[optind], force, cli_image_in_use, &cli->store, print_line, err) < 0
                               ? -1
                               : 0;
        /* several: go on after a failure, as Docker does, and fail at the end */
        int failed = 0;
        for (int i = optind; i < argc; i++) {
                berth_error_t e = NULL;
                if (image_remove(&cli->store, argv[i], force, cli_image_in_use, &cli->store, print_line, &e) < 0) {
                        fflush(stdout);
                        fprintf(stderr, "berth: %s\n", e ? e->msg : "unknown error");
                        failed = e ? e->exit_code : BERTH_EXIT_ENGINE;
                        berth_error_free(&e);
                }
        }
        return failed;
}

/* ---- tag ------------------------------------------------------------------------- */
static const char tag_usage[] = "Usage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
                                "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n";

int cmd_tag(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h')
                        return usage_ok(tag_usage);
                return cli_usage_error(err, "tag", "unknown option");
        }
        if (argc - optind != 2)
                return cli_usage_error(err, "tag", "\"tag\" requires exactly 2 arguments");
        return image_tag(&cli->store, argv[optind], argv[optind + 1], err) < 0 ? -1 : 0;
}
