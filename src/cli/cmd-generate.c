/* berth generate [--dry-run] [-o DIR] [NAME[.KIND]...]: what berth-generator makes of
 * the definition files.  With --dry-run it prints each drop-in (path, then
 * content) and the links it would create; without, it writes them into
 * /run/systemd/generator as the generator does.  Run by a user: the user's
 * definitions (~/.config/berth/containers, ...) and user units, written into
 * $XDG_RUNTIME_DIR/systemd/generator.  Bad definitions are printed
 * as "FILE:LINE: message" on stderr, the others are still handled, and the
 * exit status is 1 if any was bad. */
#include "config.h"

#include <getopt.h>

#include "berth/cli.h"
#include "berth/definition.h"
#include "berth/rootless.h"
#include "berth/util.h"

static const char generate_usage[] =
        "Usage:  berth generate [OPTIONS] [NAME[.container|.volume|.network|.image|.build]...]\n\n"
        "Show or write the units berth-generator makes from definition files\n"
        "(/etc/berth/containers/NAME.container, .volume, .network, .image, .build; also in\n"
        "/run/berth/containers, /usr/lib/berth/containers); run by a user, the user's\n"
        "(~/.config/berth/containers, $XDG_RUNTIME_DIR/berth/containers,\n"
        "/etc/berth/containers/users/UID, /etc/berth/containers/users) as user units\n\n"
        "Options:\n"
        "  -n, --dry-run         Print the drop-ins and links instead of writing them\n"
        "  -o, --output DIR      Generator output directory (default " DEFINITION_GENERATOR_DIR ",\n"
        "                        a user's $XDG_RUNTIME_DIR/systemd/generator)\n"
        "  -h, --help            Print usage\n";

static void print_bad(const char *msg, void *ud)
{
        fprintf(stderr, "%s\n", msg);
}

static void print_generate_error(const char *msg, void *ud)
{
        fprintf(stderr, "berth: %s\n", msg);
}

int cmd_generate(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "dry-run", no_argument, NULL, 'n' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool dry_run = false;
        cleanup_free char *dflt = definition_generator_dir();
        const char *outdir = dflt;
        int c;
        while ((c = getopt_long(argc, argv, "+no:h", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        dry_run = true;
                        break;
                case 'o':
                        outdir = optarg;
                        break;
                case 'h':
                        fputs(generate_usage, stdout);
                        return 0;
                default:
                        return cli_usage_error(err, "generate", "unknown option '%s'", argv[optind - 1]);
                }
        }

        struct definition **defs = NULL;
        size_t n = 0;
        int bad = 0;
        if (optind >= argc) {
                bad = definition_load_all(&defs, &n, print_bad, NULL);
        } else {
                for (int i = optind; i < argc; i++) {
                        /* NAME (a container), or NAME.KIND */
                        int kind = definition_kind_of_file(argv[i]);
                        cleanup_free char *name = kind < 0 ? xstrdup(argv[i])
                                                           : xstrndup(argv[i], strlen(argv[i]) -
                                                                                       strlen(definition_suffixes[kind]));
                        cleanup_free char *path = NULL;
                        struct definition *d = NULL;
                        berth_error_t e = NULL;
                        if (definition_find_kind(name, kind < 0 ? DEFINITION_CONTAINER : (enum definition_kind) kind,
                                                 &path, &e) < 0 ||
                            definition_load(path, name, &d, &e) < 0) {
                                /* a bad file's message already names it with FILE:LINE */
                                fprintf(stderr, "%s%s\n", path ? "" : "berth: ", e ? e->msg : argv[i]);
                                berth_error_free(&e);
                                bad++;
                                continue;
                        }
                        defs = xrealloc(defs, (n + 1) * sizeof(*defs));
                        defs[n++] = d;
                }
        }

        size_t written = 0;
        bad += definitions_generate_all(defs, n, outdir, dry_run, stdout, print_generate_error, NULL, &written);
        definitions_free(defs, n);
        if (!dry_run && written)
                fprintf(stderr, "Wrote %zu definition%s to %s: run 'systemctl%s daemon-reload' to apply.\n",
                        written, written == 1 ? "" : "s", outdir, rootless() ? " --user" : "");
        fflush(stdout);
        return bad ? 1 : 0;
}
