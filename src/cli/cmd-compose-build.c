/* berth compose build | pull | push | images, and the images `compose up`
 * needs (--build, --pull): the services' images as Docker Compose v2 makes
 * and names them.  A service's build section is `berth build` of its
 * context (absolute in the model: relative to the compose file's
 * directory), dockerfile, args and target; the image is image: when given,
 * else PROJECT-SERVICE. */
#include "config.h"

#include <getopt.h>
#include <jansson.h>

#include "berth/build.h"
#include "berth/cli.h"
#include "berth/compose.h"
#include "berth/container-spec.h"
#include "berth/container.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/registry.h"
#include "berth/util.h"

/* Build one service's image; extra_args (--build-arg K=V) win over the
 * file's args.  A bare "K" without a value in the environment is left out,
 * as Docker Compose does. */
static int build_service(struct berth_cli *cli, const struct compose_project *p, const struct compose_service *s,
                         bool no_cache, bool pull, char *const *extra_args, berth_error_t *err)
{
        const struct compose_build *b = s->build;
        cleanup_free char *image = compose_service_image(p, s);
        cleanup_free char *dockerfile = path_absolute(b->context, b->dockerfile ? b->dockerfile : "Dockerfile");
        cleanup_strv char **tags = NULL, **args = NULL;
        strv_push(&tags, image);
        for (size_t i = 0; b->args && b->args[i]; i++)
                if (strchr(b->args[i], '='))
                        strv_push(&args, b->args[i]);
        for (size_t i = 0; extra_args && extra_args[i]; i++)
                strv_push(&args, extra_args[i]); /* later ones win in build_run */
        struct build_opts o = {
                .context = b->context, .dockerfile = dockerfile, .tags = tags, .target = b->target,
                .no_cache = no_cache, .pull = pull, .build_args = args, .network = "host", .out = stderr,
        };
        fprintf(stderr, " Service %s  Building\n", s->name);
        cleanup_free char *id = NULL;
        if (build_run(&cli->store, cli->self, &o, &id, err) < 0)
                return -1;
        fprintf(stderr, " Service %s  Built\n", s->name);
        return 0;
}

static int compose_build_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                             berth_error_t *err)
{
        enum { OPT_NO_CACHE = 1000, OPT_PULL, OPT_BUILD_ARG, OPT_HELP };
        static const struct option opts[] = {
                { "no-cache", no_argument, NULL, OPT_NO_CACHE }, { "pull", no_argument, NULL, OPT_PULL },
                { "build-arg", required_argument, NULL, OPT_BUILD_ARG }, { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, OPT_HELP },         {},
        };
        bool no_cache = false, pull = false, quiet = false;
        cleanup_strv char **args = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
                switch (c) {
                case OPT_NO_CACHE: no_cache = true; break;
                case OPT_PULL: pull = true; break;
                case 'q': quiet = true; break;
                case OPT_BUILD_ARG:
                        if (strchr(optarg, '='))
                                strv_push(&args, optarg);
                        else if (getenv(optarg)) {
                                cleanup_free char *kv = xasprintf("%s=%s", optarg, getenv(optarg));
                                strv_push(&args, kv);
                        }
                        break;
                case OPT_HELP:
                        puts("Usage:  berth compose build [OPTIONS] [SERVICE...]\n\n"
                             "Build or rebuild the services' images (image:, else PROJECT-SERVICE)\n\n"
                             "Options:\n"
                             "      --build-arg stringArray   Set build-time variables for services\n"
                             "      --no-cache                Do not use cache when building the image\n"
                             "      --pull                    Always attempt to pull a newer version of the image\n"
                             "  -q, --quiet                   Don't print anything to STDOUT");
                        return 0;
                default: return cli_usage_error(err, "compose build", "unknown option '%s'", argv[optind - 1]);
                }
        }
        (void) quiet; /* the progress goes to stderr anyway */
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        for (size_t i = 0; v[i]; i++)
                if (v[i]->build && build_service(cli, p, v[i], no_cache, pull, args, err) < 0)
                        return -1;
        return 0;
}

static int compose_pull_push_cmd(struct berth_cli *cli, const struct compose_options *co, bool push, int argc,
                                 char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "ignore-pull-failures", no_argument, NULL, 'I' },
                { "ignore-push-failures", no_argument, NULL, 'I' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *cmd = push ? "compose push" : "compose pull";
        bool quiet = false, ignore = false;
        int c;
        while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
                switch (c) {
                case 'q': quiet = true; break;
                case 'I': ignore = true; break;
                case 'H':
                        printf("Usage:  berth %s [OPTIONS] [SERVICE...]\n\n%s\n\n"
                               "Options:\n"
                               "      --ignore-%s-failures   Push what it can and ignore images with failures\n"
                               "  -q, --quiet                   %s without printing progress information\n",
                               cmd, push ? "Push the images of the services that have a build section"
                                         : "Pull the images of the services",
                               push ? "push" : "pull", push ? "Push" : "Pull");
                        return 0;
                default: return cli_usage_error(err, cmd, "unknown option '%s'", argv[optind - 1]);
                }
        }
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        for (size_t i = 0; v[i]; i++) {
                const struct compose_service *s = v[i];
                /* pull: what has an image: and may be pulled; push: what is built and named */
                if (!s->image || (push && !s->build) ||
                    (!push && s->pull_policy && (streq(s->pull_policy, "never") || streq(s->pull_policy, "build"))))
                        continue;
                berth_error_t e = NULL, *ep = ignore ? &e : err;
                int r;
                if (push) {
                        struct registry_push_opts o = { .quiet = quiet, .progress = quiet ? NULL : stderr };
                        cleanup_free char *digest = NULL;
                        r = registry_push(&cli->store, s->image, NULL, &o, &digest, ep);
                } else {
                        struct registry_pull_opts o = { .quiet = quiet, .progress = quiet ? NULL : stderr };
                        r = registry_pull(&cli->store, s->image, &o, NULL, ep);
                }
                if (r < 0 && !ignore)
                        return -1;
                if (r < 0) {
                        berth_warn_error(&e, "service %s", s->name);
                        continue;
                }
                if (!quiet)
                        fprintf(stderr, " %s %s\n", s->name, push ? "Pushed" : "Pulled");
        }
        return 0;
}

/* Docker Compose's images table: each existing container of the services,
 * the image it runs. */
static int compose_images_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                              berth_error_t *err)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'H' },  {},
        };
        bool quiet = false;
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
                switch (c) {
                case 'q': quiet = true; break;
                case 'F':
                        if (!streq(optarg, "table") && !streq(optarg, "json"))
                                return cli_usage_error(err, "compose images", "--format must be table or json");
                        format = optarg;
                        break;
                case 'H':
                        puts("Usage:  berth compose images [OPTIONS] [SERVICE...]\n\n"
                             "List the images the project's containers use\n\n"
                             "Options:\n"
                             "      --format string   Format the output: table or json (default table)\n"
                             "  -q, --quiet           Only display IDs");
                        return 0;
                default: return cli_usage_error(err, "compose images", "unknown option '%s'", argv[optind - 1]);
                }
        }
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_services const struct compose_service **v = NULL;
        if (compose_load_services(co, argv + optind, &p, &v, err) < 0 || cli_store_open(cli, err) < 0)
                return -1;
        bool json = format && streq(format, "json");
        json_auto_t *rows = json_array();
        struct cli_table t;
        cli_table_init(&t, 5, "CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE");
        for (size_t i = 0; v[i]; i++) {
                cleanup_free char *name = compose_container_name(p, v[i], 1);
                cleanup_container struct berth_container *ct = NULL;
                berth_error_t e = NULL;
                if (container_lookup(&cli->store, name, &ct, &e) < 0) {
                        berth_error_free(&e);
                        continue;
                }
                const char *ref = json_str(ct->config, "Config.Image");
                const char *id = json_str(ct->config, "Image");
                cleanup_image struct berth_image *img = NULL;
                if (!id || image_lookup(&cli->store, id, &img, &e) < 0) {
                        berth_error_free(&e);
                        continue;
                }
                struct image_ref r = {};
                cleanup_free char *repo = NULL;
                if (ref && image_ref_parse(ref, &r, &e) == 0)
                        repo = image_ref_familiar_repo(&r);
                berth_error_free(&e);
                const char *tag = r.tag ? r.tag : "<none>";
                const char *hex = startswith(img->id, "sha256:") ? img->id + 7 : img->id;
                cleanup_free char *short_id = xstrndup(hex, 12), *size = format_human_size(img->size);
                if (quiet)
                        printf("%s\n", img->id);
                else if (json)
                        json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:s,s:I}", "ContainerName", name,
                                                              "Repository", repo ? repo : "<none>", "Tag", tag,
                                                              "ID", img->id, "Size", (json_int_t) img->size));
                else
                        cli_table_add(&t, name, repo ? repo : "<none>", tag, short_id, size);
                image_ref_free(&r);
        }
        if (json) {
                cleanup_free char *text = json_dumps(rows, JSON_COMPACT);
                puts(text);
        } else if (!quiet)
                cli_table_print(&t, stdout);
        cli_table_free(&t);
        return 0;
}

int compose_up_images(struct berth_cli *cli, const struct compose_project *p, char *const *images, bool build,
                      const char *pull, berth_error_t *err)
{
        struct container_progress progress = { .out = stderr };
        for (size_t i = 0; i < p->n_services; i++) {
                const struct compose_service *s = &p->services[i];
                cleanup_free char *image = compose_service_image(p, s);
                if (!strv_contains(images, image))
                        continue;
                cleanup_image struct berth_image *img = NULL;
                berth_error_t e = NULL;
                bool here = image_lookup(&cli->store, image, &img, &e) == 0;
                berth_error_free(&e);
                if (s->build && (build || (!here && (!pull || !streq(pull, "always"))) ||
                                 (s->pull_policy && streq(s->pull_policy, "build")))) {
                        if (build_service(cli, p, s, false, false, NULL, err) < 0)
                                return -1;
                        continue;
                }
                if (pull && container_ensure_image(&cli->store, image, pull, &progress, &img, err) < 0)
                        return -1;
        }
        return 0;
}

int cmd_compose_images(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc,
                       char **argv, berth_error_t *err)
{
        if (streq(sub, "build"))
                return compose_build_cmd(cli, co, argc, argv, err);
        if (streq(sub, "pull") || streq(sub, "push"))
                return compose_pull_push_cmd(cli, co, streq(sub, "push"), argc, argv, err);
        return compose_images_cmd(cli, co, argc, argv, err);
}
