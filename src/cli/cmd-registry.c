/* berth pull | push | login | logout | search: Docker's flags and output over
 * registry.h. */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <termios.h>
#include <unistd.h>

#include "berth/cli.h"
#include "berth/registry.h"
#include "berth/util.h"

static int usage_ok(const char *text)
{
        fputs(text, stdout);
        return 0;
}

/* ---- pull ----------------------------------------------------------------- */
static const char pull_usage[] =
        "Usage:  berth pull [OPTIONS] NAME[:TAG|@DIGEST]\n\n"
        "Download an image from a registry\n\n"
        "Options:\n"
        "      --platform string   Set platform if server is multi-platform capable (os/arch[/variant])\n"
        "  -q, --quiet             Suppress verbose output\n";

int cmd_pull(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "platform", required_argument, NULL, 'P' },
                { "quiet", no_argument, NULL, 'q' },
                { "all-tags", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct registry_pull_opts o = { .progress = stdout };
        int c;
        while ((c = getopt_long(argc, argv, "qah", opts, NULL)) != -1) {
                switch (c) {
                case 'P':
                        o.platform = optarg;
                        break;
                case 'q':
                        o.quiet = true;
                        break;
                case 'a':
                        return cli_usage_error(err, "pull", "--all-tags is not supported");
                case 'h':
                        return usage_ok(pull_usage);
                default:
                        return cli_usage_error(err, "pull", "unknown option");
                }
        }
        if (argc - optind != 1)
                return cli_usage_error(err, "pull", "\"pull\" requires exactly 1 argument");
        return registry_pull(&cli->store, argv[optind], &o, NULL, err) < 0 ? -1 : 0;
}

/* ---- push ----------------------------------------------------------------- */
static const char push_usage[] =
        "Usage:  berth push [OPTIONS] NAME[:TAG] [DESTINATION]\n\n"
        "Upload an image to a registry (to DESTINATION, a NAME[:TAG] in another\n"
        "repository, when given)\n\n"
        "Options:\n"
        "  -q, --quiet   Suppress verbose output\n";

int cmd_push(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct registry_push_opts o = { .progress = stdout };
        int c;
        while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
                switch (c) {
                case 'q':
                        o.quiet = true;
                        break;
                case 'h':
                        return usage_ok(push_usage);
                default:
                        return cli_usage_error(err, "push", "unknown option");
                }
        }
        int n = argc - optind;
        if (n < 1 || n > 2)
                return cli_usage_error(err, "push", "\"push\" requires 1 or 2 arguments");
        cleanup_free char *digest = NULL;
        if (registry_push(&cli->store, argv[optind], n == 2 ? argv[optind + 1] : NULL, &o, &digest, err) < 0)
                return -1;
        if (o.quiet)
                printf("%s\n", digest);
        return 0;
}

/* ---- login / logout ----------------------------------------------------------- */
static const char login_usage[] =
        "Usage:  berth login [OPTIONS] [SERVER]\n\n"
        "Log in to a registry (the default registry when SERVER is not given)\n\n"
        "Options:\n"
        "  -p, --password string   Password\n"
        "      --password-stdin    Take the password from stdin\n"
        "  -u, --username string   Username\n";

/* The password from stdin: the first line, without its newline. */
/* One line of stdin without its line end; NULL at EOF. */
static char *read_line_stdin(void)
{
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
                free(line);
                return NULL;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
        return line;
}

static int read_password_stdin(char **out, berth_error_t *err)
{
        *out = read_line_stdin();
        return *out ? 0 : berth_error(err, 0, "login: no password on stdin");
}

/* As `docker login` on a terminal: "Username: " and "Password: " (not
 * echoed) on stderr, answers from the terminal on stdin. */
static int prompt(const char *question, bool secret, char **out, berth_error_t *err)
{
        if (!isatty(STDIN_FILENO))
                return berth_error(err, 0, "Cannot perform an interactive login from a non TTY device "
                                           "(use -u and --password-stdin)");
        fputs(question, stderr);
        fflush(stderr);
        struct termios old, quiet;
        bool restore = secret && tcgetattr(STDIN_FILENO, &old) == 0;
        if (restore) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) ECHO;
                quiet.c_lflag |= ECHONL;
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
        }
        *out = read_line_stdin();
        if (restore)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &old);
        if (!*out || !**out) {
                free(*out);
                *out = NULL;
                return berth_error(err, 0, "login: %s is required", secret ? "a password" : "a username");
        }
        return 0;
}

int cmd_login(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        (void) cli;
        static const struct option opts[] = {
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *user = NULL, *pass = NULL;
        bool from_stdin = false;
        int c;
        while ((c = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
                switch (c) {
                case 'u':
                        user = optarg;
                        break;
                case 'p':
                        pass = optarg;
                        break;
                case 'S':
                        from_stdin = true;
                        break;
                case 'h':
                        return usage_ok(login_usage);
                default:
                        return cli_usage_error(err, "login", "unknown option");
                }
        }
        if (argc - optind > 1)
                return cli_usage_error(err, "login", "\"login\" requires at most 1 argument");
        if (from_stdin && pass)
                return cli_usage_error(err, "login", "--password and --password-stdin are mutually exclusive");
        if (from_stdin && !user)
                return cli_usage_error(err, "login", "--password-stdin needs a username (-u)");
        cleanup_free char *asked_user = NULL, *stdin_pass = NULL;
        if (!user) {
                if (prompt("Username: ", false, &asked_user, err) < 0)
                        return -1;
                user = asked_user;
        }
        if (from_stdin) {
                if (read_password_stdin(&stdin_pass, err) < 0)
                        return -1;
                pass = stdin_pass;
        } else if (!pass) {
                if (prompt("Password: ", true, &stdin_pass, err) < 0)
                        return -1;
                pass = stdin_pass;
        } else
                fputs("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n", stderr);
        if (registry_login(argc > optind ? argv[optind] : NULL, user, pass, err) < 0)
                return -1;
        puts("Login Succeeded");
        return 0;
}

static const char logout_usage[] = "Usage:  berth logout [SERVER]\n\n"
                                   "Log out from a registry (the default registry when SERVER is not given)\n";

int cmd_logout(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        (void) cli;
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h')
                        return usage_ok(logout_usage);
                return cli_usage_error(err, "logout", "unknown option");
        }
        if (argc - optind > 1)
                return cli_usage_error(err, "logout", "\"logout\" requires at most 1 argument");
        const char *server = argc > optind ? argv[optind] : NULL;
        bool was = false;
        cleanup_free char *host = NULL;
        if (registry_logout(server, &was, &host, err) < 0)
                return -1;
        printf(was ? "Removing login credentials for %s\n" : "Not logged in to %s\n", host);
        return 0;
}

/* ---- search ------------------------------------------------------------------- */
static const char search_usage[] =
        "Usage:  berth search [OPTIONS] TERM\n\n"
        "Search a registry for images (Docker Hub, or the registry TERM names:\n"
        "HOST[:PORT]/TERM)\n\n"
        "Options:\n"
        "  -f, --filter filter   Filter output based on conditions provided\n"
        "                        (stars=N, is-official=true|false, is-automated=true|false)\n"
        "      --format string   Pretty-print search using a Go template ('table', 'json',\n"
        "                        or fields such as '{{.Name}}: {{.StarCount}}')\n"
        "      --limit int       Max number of search results (default 25)\n"
        "      --no-trunc        Don't truncate output\n"
        "  -s, --stars int       Only show results with at least this many stars\n"
        "                        (the old spelling of --filter stars=N)\n";

#define SEARCH_DEFAULT_TABLE "{{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"

/* One row as Docker's search formatter shows it: every field a string,
 * booleans "[OK]"/"" (or "true"/"false" for --format json). */
static json_t *search_row(const struct registry_search_result *r, bool trunc, bool json)
{
        cleanup_free char *flat = xstrdup(r->description);
        for (char *p = flat; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        cleanup_free char *desc = trunc ? format_ellipsis(flat, 45) : xstrdup(flat);
        cleanup_free char *stars = xasprintf("%lld", r->stars);
        const char *yes = json ? "true" : "[OK]", *no = json ? "false" : "";
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", r->name, "Description", desc, "StarCount", stars,
                         "IsOfficial", r->official ? yes : no, "IsAutomated", r->automated ? yes : no);
}

int cmd_search(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        (void) cli;
        static const struct option opts[] = {
                { "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
                { "limit", required_argument, NULL, 'l' },  { "no-trunc", no_argument, NULL, 'T' },
                { "stars", required_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' },
                {},
        };
        struct registry_search_opts o = { .limit = 25, .filter = REGISTRY_SEARCH_FILTER_INIT };
        const char *format = NULL;
        bool no_trunc = false;
        cleanup_strv char **filters = xcalloc(1, sizeof(char *));
        int c;
        while ((c = getopt_long(argc, argv, "f:s:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        strv_push(&filters, optarg);
                        break;
                case 's': {
                        cleanup_free char *f = xasprintf("stars=%s", optarg);
                        strv_push(&filters, f);
                        break;
                }
                case 'F':
                        format = optarg;
                        break;
                case 'l': {
                        char *end = NULL;
                        errno = 0;
                        long n = strtol(optarg, &end, 10);
                        if (!*optarg || *end || errno)
                                return cli_usage_error(err, "search", "invalid argument \"%s\" for \"--limit\"",
                                                       optarg);
                        if (n < 1 || n > 100)
                                return cli_usage_error(err, "search", "limit %ld is outside the range of [1, 100]",
                                                       n);
                        o.limit = (unsigned) n;
                        break;
                }
                case 'T':
                        no_trunc = true;
                        break;
                case 'h':
                        return usage_ok(search_usage);
                default:
                        return cli_usage_error(err, "search", "unknown option");
                }
        }
        if (argc - optind != 1)
                return cli_usage_error(err, "search", "\"search\" requires exactly 1 argument");
        for (size_t i = 0; filters[i]; i++) {
                cleanup_error berth_error_t e = NULL;
                if (registry_search_filter_add(&o.filter, filters[i], &e) < 0)
                        return cli_usage_error(err, "search", "%s", e->msg);
        }
        struct registry_search_results res;
        if (registry_search(argv[optind], &o, &res, err) < 0)
                return -1;
        bool json = format && streq(format, "json");
        json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", "NAME", "Description", "DESCRIPTION",
                                   "StarCount", "STARS", "IsOfficial", "OFFICIAL", "IsAutomated", "AUTOMATED");
        json_t **rows = xcalloc(res.n + 1, sizeof(json_t *));
        for (size_t i = 0; i < res.n; i++)
                rows[i] = search_row(&res.v[i], !no_trunc, json);
        int r = cli_print_formatted(format ? format : "table", SEARCH_DEFAULT_TABLE, header, rows, res.n, err);
        for (size_t i = 0; i < res.n; i++)
                json_decref(rows[i]);
        free(rows);
        json_decref(header);
        registry_search_results_free(&res);
        return r < 0 ? -1 : 0;
}
