/* berth events: the berth entries of the journal, as `docker events`. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "berth/cli.h"
#include "berth/event.h"
#include "berth/events.h"
#include "berth/parse.h"
#include "berth/template.h"
#include "berth/util.h"

static volatile sig_atomic_t events_stop;

static void on_signal(int sig)
{
        (void) sig;
        events_stop = 1;
}

struct events_out {
        bool json;
        struct template *tmpl; /* NULL: Docker's text line */
        berth_error_t *err;
};

static int show_event(const struct event *e, void *userdata)
{
        struct events_out *out = userdata;
        cleanup_free char *line = NULL;
        if (out->json || out->tmpl) {
                json_auto_t *j = event_to_json(e);
                if (out->json)
                        line = json_dumps(j, JSON_COMPACT);
                else if (template_execute(out->tmpl, j, &line, out->err) < 0)
                        return -1;
        } else
                line = event_format_line(e);
        puts(line ? line : "");
        fflush(stdout);
        return ferror(stdout) ? berth_error(out->err, EIO, "write the events") : 0;
}

/* The options into o and *format; 1 when --help was printed. */
static int events_options(int argc, char **argv, struct events_opts *o, struct event_filter *filter,
                          const char **format, berth_error_t *err)
{
        static const struct option opts[] = {
                { "since", required_argument, NULL, 'S' },  { "until", required_argument, NULL, 'U' },
                { "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'H' },         {},
        };
        int ch;
        while ((ch = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
                switch (ch) {
                case 'S':
                        if (parse_timestamp(optarg, now_ns(), &o->since_ns, err) < 0)
                                return -1;
                        break;
                case 'U':
                        if (parse_timestamp(optarg, now_ns(), &o->until_ns, err) < 0)
                                return -1;
                        break;
                case 'f':
                        if (event_filter_add(filter, optarg, err) < 0)
                                return -1;
                        break;
                case 'F': *format = optarg; break;
                case 'H':
                        puts("Usage:  berth events [OPTIONS]\n\n"
                             "Get real time events from the journal\n\n"
                             "  -f, --filter filter   Filter output based on conditions provided\n"
                             "      --format string   Format output using a custom template or \"json\"\n"
                             "      --since string    Show all events created since timestamp\n"
                             "      --until string    Stream events until this timestamp");
                        return 1;
                default: return cli_usage_error(err, "events", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return cli_usage_error(err, "events", "accepts no arguments");
        return 0;
}

int cmd_events(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        (void) cli;
        cleanup_event_filter struct event_filter filter = {};
        struct events_opts o = { .filter = &filter, .stop = &events_stop };
        const char *format = NULL;
        int r = events_options(argc, argv, &o, &filter, &format, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        struct events_out out = { .err = err };
        cleanup_template struct template *t = NULL;
        if (format && streq(format, "json"))
                out.json = true;
        else if (format && *format) {
                cleanup_free char *pre = template_preformat(format);
                if (template_parse(pre, &t, err) < 0)
                        return -1;
                out.tmpl = t;
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        return events_read(&o, show_event, &out, err);
}
