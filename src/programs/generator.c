/* berth-generator — the systemd generator of berth's definition files.
 *
 *     berth-generator NORMAL_DIR [EARLY_DIR LATE_DIR]     (as systemd calls it)
 *     berth-generator --dry-run [NORMAL_DIR]               (prints, writes nothing)
 *
 * For every NAME.container on the search path it writes the drop-in
 * NORMAL_DIR/container@NAME.service.d/50-berth.conf (for a template
 * web@.container, one per instance it knows: web@X.container files and
 * DefaultInstance=), for every NAME.volume, .network, .image and .build the
 * oneshot unit NORMAL_DIR/berth-KIND@NAME.service that makes it, and the .wants/, .requires/, .upholds/ links of their
 * [Install] sections (systemd.generator(7)).
 * Installed a second time as user-generators/berth-user-generator: a user's
 * manager runs it, and run by a user (getuid() != 0) under either name it
 * reads that user's definitions (~/.config/berth/containers, ...;
 * BERTH_DEFINITION_DIRS in definition.h) into units of the user's manager.
 * Root's own user manager gets nothing: root's definitions are the system
 * manager's.
 * A bad definition is logged with FILE:LINE to the journal (priority err,
 * SYSLOG_IDENTIFIER=berth-generator or berth-user-generator) and to stderr,
 * and skipped; the others are still generated.  A generator must never fail
 * the boot: the exit status is always 0.  BERTH_GENERATOR_DRY_RUN=1 is the
 * same as --dry-run. */
#include "config.h"

#include <syslog.h>

#include "berth/definition.h"
#include "berth/journal-dl.h"
#include "berth/util.h"

#define USER_GENERATOR "berth-user-generator"

/* "berth-generator", or "berth-user-generator" when a user's manager runs it */
static const char *program = "berth-generator";

static void log_error_line(const char *msg)
{
        fprintf(stderr, "%s: %s\n", program, msg);
        if (journal_dl_load(NULL) == 0) /* libsystemd only for a line to log */
                sym_sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", LOG_ERR, "SYSLOG_IDENTIFIER=%s", program, NULL);
}

/* The library's warnings (berth_warn) go where the generator's errors go:
 * stderr and the journal, at warning priority. */
static void log_warning_line(const char *msg)
{
        fprintf(stderr, "%s: WARNING: %s\n", program, msg);
        if (journal_dl_load(NULL) == 0)
                sym_sd_journal_send("MESSAGE=WARNING: %s", msg, "PRIORITY=%d", LOG_WARNING, "SYSLOG_IDENTIFIER=%s",
                                    program, NULL);
}

static void report(const char *msg, void *ud)
{
        (void) ud;
        log_error_line(msg);
}

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: %s NORMAL_DIR [EARLY_DIR LATE_DIR]\n"
                "       %s --dry-run [NORMAL_DIR]\n\n"
                "systemd generator: turns /etc/berth/containers/NAME.container (and /run/berth/containers,\n"
                "/usr/lib/berth/containers) into drop-ins for container@NAME.service; NAME.volume,\n"
                "NAME.network, NAME.image and NAME.build into units berth-KIND@NAME.service.\n"
                "For a user (as " USER_GENERATOR ", or run by a user): the user's definitions,\n"
                "~/.config/berth/containers, $XDG_RUNTIME_DIR/berth/containers,\n"
                "/etc/berth/containers/users/UID and /etc/berth/containers/users, into user units.\n"
                "See berth-generator(8), berth.container(5), berth.volume(5), berth.network(5),\n"
                "berth.image(5) and berth.build(5).\n",
                program, program);
}

int main(int argc, char **argv)
{
        const char *slash = argv[0] ? strrchr(argv[0], '/') : NULL;
        bool user_generator = argv[0] && streq(slash ? slash + 1 : argv[0], USER_GENERATOR);
        if (user_generator || getuid() != 0)
                program = USER_GENERATOR;
        berth_warn_set_printer(log_warning_line);
        const char *dry = getenv("BERTH_GENERATOR_DRY_RUN");
        bool dry_run = dry && (streq(dry, "1") || streq(dry, "yes") || streq(dry, "true"));
        const char *dirs[3] = { NULL };
        size_t ndirs = 0;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--dry-run") || streq(argv[i], "-n"))
                        dry_run = true;
                else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        usage(stdout);
                        return 0;
                } else if (argv[i][0] == '-' || ndirs == ARRAY_SIZE(dirs)) {
                        usage(stderr);
                        return 0;
                } else
                        dirs[ndirs++] = argv[i];
        }
        if (!ndirs && !dry_run) {
                usage(stderr);
                return 0;
        }
        if (user_generator && getuid() == 0) {
                if (dry_run)
                        fputs(USER_GENERATOR ": nothing for root's user manager: root's definitions are the "
                              "system manager's (berth-generator)\n",
                              stderr);
                return 0;
        }
        /* Everything goes into the normal dir: definitions are ordinary
         * configuration, below /etc, above /usr (systemd.generator(7)). */
        cleanup_free char *dflt = definition_generator_dir();
        const char *outdir = ndirs ? dirs[0] : dflt;

        struct definition **defs = NULL;
        size_t n = 0;
        definition_load_all(&defs, &n, report, NULL);
        (void) definitions_generate_all(defs, n, outdir, dry_run, dry_run ? stdout : NULL, report, NULL, NULL);
        definitions_free(defs, n);
        fflush(stdout);
        return 0;
}
