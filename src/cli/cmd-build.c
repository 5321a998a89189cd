/* berth build: options, the context (a directory, or a tar or Dockerfile on
 * stdin), then build_run(). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <getopt.h>
#include <sys/stat.h>

#include "berth/archive-util.h"
#include "berth/build.h"
#include "berth/cli.h"
#include "berth/util.h"

static const char build_usage[] =
        "Usage:  berth build [OPTIONS] PATH | -\n\n"
        "Build an image from a Dockerfile\n\n"
        "Options:\n"
        "      --build-arg list      Set build-time variables (KEY=VALUE, or KEY to take it from the environment)\n"
        "  -f, --file string         Name of the Dockerfile (default: \"PATH/Dockerfile\"; - reads stdin)\n"
        "      --label list          Set metadata for an image\n"
        "      --network string      Networking mode for the RUN instructions (host, none; default host)\n"
        "      --no-cache            Do not use cache when building the image\n"
        "  -q, --quiet               Suppress the build output and print image ID on success\n"
        "  -t, --tag list            Name and optionally a tag in the \"name:tag\" format\n"
        "      --target string       Set the target build stage to build\n";

enum { OPT_BUILD_ARG = 1000, OPT_LABEL, OPT_NETWORK, OPT_NO_CACHE, OPT_TARGET };

/* Extract a tar read from fd into dir, refusing paths that escape it. */
static int context_extract(struct archive *a, const char *dir, berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        cleanup_archive_write struct archive *w = sym_archive_write_disk_new();
        sym_archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                      ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                      ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                      ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        cleanup_free char *cwd = getcwd(NULL, 0);
        if (chdir(dir) < 0)
                return berth_error(err, errno, "enter `%s`", dir);
        int ret = -1;
        for (;;) {
                struct archive_entry *e;
                int r = sym_archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN || sym_archive_write_header(w, e) < ARCHIVE_WARN) {
                        berth_error(err, 0, "read the context from stdin: %s",
                                    sym_archive_error_string(r < ARCHIVE_WARN ? a : w));
                        goto out;
                }
                const void *buf;
                size_t len;
                la_int64_t off;
                while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                        sym_archive_write_data_block(w, buf, len, off);
                sym_archive_write_finish_entry(w);
        }
        ret = 0;
out:
        if (cwd && chdir(cwd) < 0)
                ret = berth_error(err, errno, "return to `%s`", cwd);
        return ret;
}

static int read_stdin(char **out, size_t *len_out, berth_error_t *err)
{
        char *data = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len + 65536 > cap) {
                        cap = (len + 65536) * 2;
                        data = xrealloc(data, cap);
                }
                ssize_t n = read(0, data + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(data);
                        return berth_error(err, errno, "read stdin");
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        data[len] = '\0';
        *out = data;
        *len_out = len;
        return 0;
}

/* `-f -`: the Dockerfile from stdin, into a staging file. */
static int dockerfile_from_stdin(struct berth_cli *cli, char **path_out, int *lock_fd, berth_error_t *err)
{
        cleanup_free char *dir = NULL;
        if (store_tmp_create(&cli->store, "build-dockerfile", true, &dir, lock_fd, err) < 0)
                return -1;
        cleanup_free char *data = NULL;
        size_t len = 0;
        if (read_stdin(&data, &len, err) < 0)
                return -1;
        char *path = xasprintf("%s/Dockerfile", dir);
        if (write_file_atomic(path, data, len, 0644, err) < 0) {
                free(path);
                return -1;
        }
        *path_out = path;
        return 0;
}

/* `berth build -`: stdin is a tar (maybe compressed) of the context, or a
 * Dockerfile alone (then the context is empty). */
static int context_from_stdin(struct berth_cli *cli, char **dir_out, int *lock_fd, berth_error_t *err)
{
        cleanup_free char *dir = NULL;
        if (store_tmp_create(&cli->store, "build-context", true, &dir, lock_fd, err) < 0)
                return -1;
        cleanup_free char *data = NULL;
        size_t len = 0;
        if (read_stdin(&data, &len, err) < 0 || archive_lib_load(err) < 0)
                return -1;
        cleanup_archive_read struct archive *a = sym_archive_read_new();
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_tar(a);
        struct archive_entry *probe;
        bool is_tar = len > 0 && sym_archive_read_open_memory(a, data, len) == ARCHIVE_OK &&
                      sym_archive_read_next_header(a, &probe) == ARCHIVE_OK;
        if (is_tar) {
                sym_archive_read_free(a);
                a = sym_archive_read_new();
                sym_archive_read_support_filter_all(a);
                sym_archive_read_support_format_tar(a);
                if (sym_archive_read_open_memory(a, data, len) != ARCHIVE_OK)
                        return berth_error(err, 0, "read the context from stdin: %s", sym_archive_error_string(a));
                if (context_extract(a, dir, err) < 0)
                        return -1;
        } else {
                cleanup_free char *df = xasprintf("%s/Dockerfile", dir);
                if (write_file_atomic(df, data ? data : "", len, 0644, err) < 0)
                        return -1;
        }
        *dir_out = steal_pointer(&dir);
        return 0;
}

static void build_opts_free(struct build_opts *o)
{
        strv_free(o->tags);
        strv_free(o->build_args);
        strv_free(o->labels);
}

int cmd_build(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "tag", required_argument, NULL, 't' },
                { "file", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { "build-arg", required_argument, NULL, OPT_BUILD_ARG },
                { "label", required_argument, NULL, OPT_LABEL },
                { "network", required_argument, NULL, OPT_NETWORK },
                { "no-cache", no_argument, NULL, OPT_NO_CACHE },
                { "target", required_argument, NULL, OPT_TARGET },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        __attribute__((cleanup(build_opts_free))) struct build_opts o = { .network = "host" };
        int c;
        while ((c = getopt_long(argc, argv, "t:f:q", opts, NULL)) != -1) {
                switch (c) {
                case 't': strv_push(&o.tags, optarg); break;
                case 'f': o.dockerfile = optarg; break;
                case 'q': o.quiet = true; break;
                case OPT_BUILD_ARG:
                        if (strchr(optarg, '=')) {
                                strv_push(&o.build_args, optarg);
                        } else if (getenv(optarg)) {
                                /* "--build-arg KEY": the value from berth's environment */
                                cleanup_free char *kv = xasprintf("%s=%s", optarg, getenv(optarg));
                                strv_push(&o.build_args, kv);
                        }
                        break;
                case OPT_LABEL:
                        strv_push(&o.labels, optarg);
                        break;
                case OPT_NETWORK:
                        if (!streq(optarg, "host") && !streq(optarg, "none") && !streq(optarg, "default"))
                                return cli_usage_error(err, "build",
                                                       "invalid --network \"%s\": RUN steps use host or none", optarg);
                        o.network = streq(optarg, "default") ? "host" : optarg;
                        break;
                case OPT_NO_CACHE: o.no_cache = true; break;
                case OPT_TARGET: o.target = optarg; break;
                case 'h': fputs(build_usage, stdout); return 0;
                default: return cli_usage_error(err, "build", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (argc - optind != 1)
                return cli_usage_error(err, "build", "requires exactly 1 argument (the context: PATH or -)");
        cleanup_free char *stdin_dir = NULL, *stdin_df = NULL, *abs_context = NULL, *abs_dockerfile = NULL;
        cleanup_close int stdin_lock = -1;
        /* the context and -f are relative to the working directory (as
         * Docker's): resolved here, before the build enters other roots */
        if (o.dockerfile && !streq(o.dockerfile, "-"))
                o.dockerfile = abs_dockerfile = path_absolute(NULL, o.dockerfile);
        if (o.dockerfile && streq(o.dockerfile, "-")) {
                if (streq(argv[optind], "-"))
                        return cli_usage_error(err, "build", "stdin cannot hold both the Dockerfile (-f -) and the "
                                                             "context (-)");
                if (dockerfile_from_stdin(cli, &stdin_df, &stdin_lock, err) < 0)
                        return -1;
                o.dockerfile = stdin_df;
        }
        if (streq(argv[optind], "-")) {
                if (context_from_stdin(cli, &stdin_dir, &stdin_lock, err) < 0)
                        return -1;
                o.context = stdin_dir;
        } else
                o.context = abs_context = path_absolute(NULL, argv[optind]);
        cleanup_free char *id = NULL;
        int r = build_run(&cli->store, cli->self, &o, &id, err);
        berth_error_t e = NULL;
        if (stdin_dir)
                rm_rf(stdin_dir, &e);
        if (stdin_df) {
                *strrchr(stdin_df, '/') = '\0';
                rm_rf(stdin_df, &e);
        }
        berth_error_free(&e);
        if (r < 0)
                return -1;
        if (o.quiet)
                printf("%s\n", id);
        return 0;
}
