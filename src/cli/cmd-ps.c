/* berth ps / inspect / logs: reading containers back. */
#include "config.h"

#include <getopt.h>
#include <signal.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/health.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/journal.h"
#include "berth/json-util.h"
#include "berth/lifecycle.h"
#include "berth/network.h"
#include "berth/parse.h"
#include "berth/template.h"
#include "berth/unit.h"
#include "berth/util.h"

/* The object `docker inspect` shows for a container: config.json + state. */
static json_t *container_inspect_json(struct berth_container *c)
{
        json_t *j = json_deep_copy(c->config);
        container_is_running(c);
        json_t *st = json_deep_copy(c->state);
        const char *status = json_str(st, "Status");
        json_object_set_new(st, "Running", json_boolean(status && streq(status, "running")));
        json_object_set_new(st, "Paused", json_boolean(status && streq(status, "paused")));
        json_object_set_new(st, "Restarting", json_false());
        json_object_set_new(st, "OOMKilled", json_boolean(json_bool(st, "OOMKilled")));
        json_object_set_new(st, "Dead", json_false());
        json_object_del(st, "StartTime");
        /* the network part of the state is docker's top-level NetworkSettings */
        json_t *ns = json_object_get(st, "NetworkSettings");
        json_object_set_new(j, "NetworkSettings", ns ? json_incref(ns) : json_pack("{s:{}, s:{}}", "Ports", "Networks"));
        json_object_del(st, "NetworkSettings");
        json_object_set_new(j, "RestartCount", json_integer(json_int(st, "RestartCount", 0)));
        json_object_del(st, "RestartCount");
        /* Docker's State.Health, for containers with a health check */
        if (container_health_status(c)) {
                json_t *h = health_state_load(c);
                json_object_set_new(st, "Health", h ? h : json_pack("{s:s, s:i, s:[]}", "Status", "starting",
                                                                      "FailingStreak", 0, "Log"));
        }
        json_object_set_new(j, "State", st);
        cleanup_free char *slash_name = xasprintf("/%s", c->name);
        json_object_set_new(j, "Name", json_string(slash_name));
        json_t *mounts = json_deep_copy(json_at(c->config, "Berth.Mounts"));
        json_object_set_new(j, "Mounts", mounts ? mounts : json_array());
        json_object_set_new(j, "Driver", json_string("overlay"));
        json_t *hc = json_object_get(j, "HostConfig");
        json_t *limits = json_at(c->config, "Berth.Limits");
        uint64_t v;
        if (hc && json_str(limits, "memory") && parse_size(json_str(limits, "memory"), &v, NULL) == 0)
                json_object_set_new(hc, "Memory", json_integer((json_int_t) v));
        json_object_set_new(j, "Unit", json_string(container_unit(c)));
        return j;
}

/* ---- ps ---- */
struct ps_filter {
        char *key, *value;
};

static bool label_matches(struct berth_container *c, const char *want)
{
        cleanup_free char *kv = xstrdup(want);
        char *eq = strchr(kv, '=');
        if (eq)
                *eq++ = '\0';
        json_t *v = json_object_get(json_at(c->config, "Config.Labels"), kv);
        const char *have = json_is_string(v) ? json_string_value(v) : NULL;
        return have && (!eq || streq(have, eq));
}

static bool filter_one(struct berth_container *c, const char *k, const char *v)
{
        if (streq(k, "status"))
                return streq(container_status(c), v);
        if (streq(k, "name"))
                return strstr(c->name, v) != NULL;
        if (streq(k, "id"))
                return startswith(c->id, v);
        if (streq(k, "label"))
                return label_matches(c, v);
        if (streq(k, "ancestor")) {
                const char *img = json_str(c->config, "Config.Image");
                const char *iid = json_str(c->config, "Image");
                return (img && streq(img, v)) || (iid && (startswith(iid + 7, v) || streq(iid, v)));
        }
        if (streq(k, "health")) {
                const char *h = container_health_status(c);
                return streq(v, "none") ? !h : h && streq(h, v);
        }
        if (streq(k, "network")) {
                cleanup_free char *names = network_names_text(c->config);
                char *save = NULL;
                for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save))
                        if (streq(n, v))
                                return true;
                return false;
        }
        if (streq(k, "exited"))
                return streq(container_status(c), "exited") && json_int(c->state, "ExitCode", -1) == atoi(v);
        return false;
}

/* As docker: filters with the same key are ORed, different keys ANDed
 * (labels are ANDed: every label asked for must be there). */
static bool filter_matches(struct berth_container *c, struct ps_filter *f, size_t nf)
{
        for (size_t i = 0; i < nf; i++) {
                bool any = false;
                for (size_t j = 0; j < nf && !any; j++)
                        if (streq(f[j].key, f[i].key) && (streq(f[i].key, "label") ? j == i : true))
                                any = filter_one(c, f[j].key, f[j].value);
                if (!any)
                        return false;
        }
        return true;
}

/* Go's strconv.Quote of S: in double quotes, with \" \\ and control
 * characters escaped (UTF-8 text passes as it is). */
static char *go_quote(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(4 * n + 3), *o = out;
        *o++ = '"';
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"': o = stpcpy(o, "\\\""); break;
                case '\\': o = stpcpy(o, "\\\\"); break;
                case '\n': o = stpcpy(o, "\\n"); break;
                case '\t': o = stpcpy(o, "\\t"); break;
                case '\r': o = stpcpy(o, "\\r"); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                o += sprintf(o, "\\x%02x", *p);
                        else
                                *o++ = (char) *p;
                }
        }
        *o++ = '"';
        *o = '\0';
        return out;
}

/* The COMMAND column as Docker's daemon and CLI make it: the path and the
 * arguments joined by spaces, an argument holding a space in single quotes
 * ("/bin/sh -c 'echo hi'"), cut to 19 characters and an ellipsis unless
 * --no-trunc, then Go-quoted ("/bin/sh -c 'echo \"h…"). */
static char *command_text(struct berth_container *c, bool trunc)
{
        json_t *cmd = json_at(c->config, "Berth.Command");
        cleanup_free char *s = xstrdup("");
        size_t i;
        json_t *e;
        json_array_foreach(cmd, i, e)
        {
                const char *a = json_string_value(e) ?: "";
                bool q = i > 0 && strchr(a, ' ');
                char *n = xasprintf("%s%s%s%s%s", s, i ? " " : "", q ? "'" : "", a, q ? "'" : "");
                free(s);
                s = n;
        }
        /* Docker truncates to 20 characters (not bytes) with an ellipsis */
        size_t chars = 0, cut = 0;
        for (size_t b = 0; s[b]; b++) {
                if (((unsigned char) s[b] & 0xc0) == 0x80)
                        continue; /* a UTF-8 continuation byte */
                if (++chars == 20)
                        cut = b;
        }
        if (trunc && chars > 20) {
                cleanup_free char *t = xasprintf("%.*s…", (int) cut, s);
                return go_quote(t);
        }
        return go_quote(s);
}

/* Docker's columns; a container of a definition (container@NAME.service)
 * names its unit after the status, as Docker adds "(healthy)". */
#define PS_DEFAULT_TABLE                                                                               \
        "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}{{if .DefinitionUnit}} "          \
        "({{.DefinitionUnit}}){{end}}\t{{.Ports}}\t{{.Names}}"

/* One container as the fields of Docker's ps templates. */
static json_t *ps_row(struct berth_container *c, bool notrunc)
{
        cleanup_free char *cmd = command_text(c, !notrunc);
        cleanup_free char *status = container_status_text(c);
        cleanup_free char *created = format_human_ago(parse_rfc3339_ns(json_str(c->config, "Created")));
        cleanup_free char *ports = network_ports_text(c); /* "0.0.0.0:8080->80/tcp" */
        cleanup_free char *networks = network_names_text(c->config); /* "front,back" */
        /* Labels as docker prints them: "k=v,k2=v2" */
        cleanup_free char *labels = xstrdup("");
        const char *k;
        json_t *val;
        json_object_foreach(json_at(c->config, "Config.Labels"), k, val)
        {
                char *l = xasprintf("%s%s%s=%s", labels, *labels ? "," : "", k, json_string_value(val) ?: "");
                free(labels);
                labels = l;
        }
        const char *def_unit = json_str(c->config, "Berth.Definition") ? container_unit(c) : NULL;
        /* the compose service and Name, for `berth compose ps` (its NAME column) */
        json_t *svc = json_object_get(json_at(c->config, "Config.Labels"), "com.docker.compose.service");
        return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", c->id,
                         (size_t) (notrunc ? 64 : 12), "Image", json_str(c->config, "Config.Image") ?: "", "Command",
                         cmd, "Names", c->name, "Status", status, "State", container_status(c), "Ports", ports,
                         "RunningFor", created, "CreatedAt", json_str(c->config, "Created") ?: "", "Unit",
                         container_unit(c) ?: "", "DefinitionUnit", def_unit ? def_unit : "", "Labels", labels,
                         "Size", "0B", "Service", json_is_string(svc) ? json_string_value(svc) : "", "Name", c->name,
                         "Networks", networks);
}

int cmd_ps(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },      { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' }, { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, 'F' }, { "last", required_argument, NULL, 'n' },
                { "latest", no_argument, NULL, 'l' },   { "size", no_argument, NULL, 's' },
                { "help", no_argument, NULL, 'H' },     {},
        };
        bool all = false, quiet = false, notrunc = false;
        const char *format = NULL;
        long last = -1;
        struct ps_filter filters[16];
        size_t nf = 0;
        int ch;
        while ((ch = getopt_long(argc, argv, "aqf:n:ls", opts, NULL)) != -1) {
                switch (ch) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'T': notrunc = true; break;
                case 'F': format = optarg; break;
                case 'n': last = atol(optarg); all = true; break;
                case 'l': last = 1; all = true; break;
                case 's': break;
                case 'f': {
                        char *eq = strchr(optarg, '=');
                        if (!eq || nf >= ARRAY_SIZE(filters))
                                return berth_error(err, 0, "bad format of filter (expected name=value): %s", optarg);
                        static const char *known[] = { "status", "name", "id", "label", "ancestor", "exited", "health",
                                                       "network" };
                        bool ok = false;
                        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                                ok |= strncmp(optarg, known[i], eq - optarg) == 0 && strlen(known[i]) == (size_t) (eq - optarg);
                        if (!ok)
                                return berth_error(err, 0, "invalid filter '%.*s'", (int) (eq - optarg), optarg);
                        *eq = '\0';
                        if (streq(optarg, "health") && !streq(eq + 1, "starting") && !streq(eq + 1, "healthy") &&
                            !streq(eq + 1, "unhealthy") && !streq(eq + 1, "none"))
                                return berth_error(err, 0, "Unrecognised filter value for health: %s", eq + 1);
                        filters[nf++] = (struct ps_filter) { optarg, eq + 1 };
                        if (streq(optarg, "status") || streq(optarg, "exited"))
                                all = true;
                        break;
                }
                case 'H':
                        puts("Usage:  berth ps [OPTIONS]\n\n"
                             "  -a, --all             Show all containers (default shows just running)\n"
                             "  -f, --filter filter   Filter output (status=, name=, id=, label=, ancestor=, exited=, health=,\n"
                             "                        network=)\n"
                             "      --format string   Format output using a Go template, or json\n"
                             "  -n, --last int        Show n last created containers\n"
                             "  -l, --latest          Show the latest created container\n"
                             "      --no-trunc        Don't truncate output\n"
                             "  -q, --quiet           Only display container IDs");
                        return 0;
                default: return cli_usage_error(err, "ps", "unknown option '%s'", argv[optind - 1]);
                }
        }
        struct berth_container **v = NULL;
        size_t n = 0;
        if (cli_container_list(&cli->store, &v, &n, err) < 0)
                return -1;
        json_t **rows = xcalloc(n + 1, sizeof(json_t *));
        size_t nrows = 0;
        long shown = 0;
        for (size_t i = 0; i < n; i++) {
                struct berth_container *c = v[i];
                if (last >= 0 && shown >= last)
                        break;
                if (!all && !container_is_running(c)) /* running or paused, as docker ps */
                        continue;
                if (!filter_matches(c, filters, nf))
                        continue;
                shown++;
                if (quiet) {
                        printf("%.*s\n", notrunc ? 64 : 12, c->id);
                        continue;
                }
                rows[nrows++] = ps_row(c, notrunc);
        }
        int ret = 0;
        if (!quiet) {
                json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                                           "ID", "CONTAINER ID", "Image", "IMAGE", "Command", "COMMAND", "RunningFor",
                                           "CREATED", "CreatedAt", "CREATED AT", "Status", "STATUS", "State", "STATE",
                                           "Ports", "PORTS", "Names", "NAMES", "Unit", "UNIT", "DefinitionUnit", "",
                                           "Labels", "LABELS", "Size", "SIZE", "Service", "SERVICE", "Name", "NAME");
                ret = cli_print_formatted(format ? format : "table", PS_DEFAULT_TABLE, header, rows, nrows, err);
                json_decref(header);
        }
        for (size_t i = 0; i < nrows; i++)
                json_decref(rows[i]);
        free(rows);
        container_list_free(v, n);
        return ret;
}

/* ---- inspect ---- */
static bool json_strings_contain(json_t *array, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach (array, i, v)
                if (json_is_string(v) && streq(json_string_value(v), s))
                        return true;
        return false;
}

/* obj.key (a new reference), or dflt (itself a new reference) if missing:
 * for json_pack's "o", which steals what it gets. */
static json_t *field_or(json_t *obj, const char *key, json_t *dflt)
{
        json_t *v = json_object_get(obj, key);
        if (!v)
                return dflt;
        json_decref(dflt);
        return json_incref(v);
}

/* The object `docker image inspect` shows, from the image config. */
static json_t *image_inspect_json(const struct berth_image *img)
{
        json_t *cfg = img->config;
        json_t *tags = json_array(), *digests = json_array();
        for (size_t k = 0; img->tags && img->tags[k]; k++) {
                struct image_ref ref;
                if (image_ref_parse(img->tags[k], &ref, NULL) < 0)
                        continue;
                cleanup_free char *familiar = image_ref_familiar(&ref);
                json_array_append_new(tags, json_string(familiar));
                cleanup_free char *repo = image_ref_familiar_repo(&ref);
                cleanup_free char *rd = xasprintf("%s@%s", repo, img->manifest_digest);
                if (!json_strings_contain(digests, rd))
                        json_array_append_new(digests, json_string(rd));
                image_ref_free(&ref);
        }
        /* Docker's Comment is the top history entry's comment. */
        json_t *history = json_object_get(cfg, "history");
        /* Docker's RootFS is {"Type": "layers", "Layers": [diff IDs]}, not
         * the config's own {"type", "diff_ids"}. */
        json_t *rootfs = json_object_get(cfg, "rootfs");
        json_t *layers = json_object_get(rootfs, "diff_ids");
        json_t *rootfs_obj = json_pack("{s:o, s:o}", "Type", field_or(rootfs, "type", json_string("layers")), "Layers",
                                       json_is_array(layers) ? json_incref(layers) : json_array());
        json_t *top = json_array_size(history) ? json_array_get(history, json_array_size(history) - 1) : NULL;
        json_t *obj = json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:s}", "Id", img->id,
                                "RepoTags", tags, "RepoDigests", digests, "Parent", "", "Comment",
                                field_or(top, "comment", json_string("")), "Created",
                                field_or(cfg, "created", json_null()), "Author",
                                field_or(cfg, "author", json_string("")), "Config",
                                field_or(cfg, "config", json_object()), "Architecture",
                                field_or(cfg, "architecture", json_null()), "Os", field_or(cfg, "os", json_null()),
                                "Size", (json_int_t) img->size, "RootFS", rootfs_obj,
                                "ManifestDigest", img->manifest_digest);
        return obj;
}

/* inspect, image inspect (type "image") and container inspect ("container"). */
static int inspect_objects(struct berth_cli *cli, int argc, char **argv, const char *forced_type, berth_error_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
                { "size", no_argument, NULL, 's' },         { "help", no_argument, NULL, 'H' }, {},
        };
        const char *format = NULL, *type = forced_type;
        const char *what = forced_type ? forced_type : "object";
        int ch;
        while ((ch = getopt_long(argc, argv, "f:s", opts, NULL)) != -1) {
                switch (ch) {
                case 'f': format = optarg; break;
                case 't':
                        if (forced_type)
                                return cli_usage_error(err, argv[0], "unknown option '--type'");
                        type = optarg;
                        break;
                case 's': break;
                case 'H':
                        if (forced_type)
                                printf("Usage:  berth %s inspect [-f FORMAT] %s [%s...]\n", forced_type,
                                       streq(forced_type, "image") ? "IMAGE" : "CONTAINER",
                                       streq(forced_type, "image") ? "IMAGE" : "CONTAINER");
                        else
                                puts("Usage:  berth inspect [-f FORMAT] [--type container|image] NAME|ID [NAME|ID...]");
                        return 0;
                default: return cli_usage_error(err, argv[0], "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (type && !streq(type, "container") && !streq(type, "image"))
                return cli_usage_error(err, argv[0], "\"%s\" is not a valid value for --type (container, image)", type);
        if (optind >= argc)
                return cli_usage_error(err, argv[0], "requires at least 1 argument");
        json_t *all = json_array();
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                json_t *obj = NULL;
                berth_error_t e = NULL;
                if (!type || streq(type, "container")) {
                        cleanup_container struct berth_container *c = NULL;
                        if (container_lookup(&cli->store, argv[i], &c, &e) == 0)
                                obj = container_inspect_json(c);
                        berth_error_free(&e);
                }
                if (!obj && (!type || streq(type, "image"))) {
                        cleanup_image struct berth_image *img = NULL;
                        if (image_lookup(&cli->store, argv[i], &img, &e) == 0)
                                obj = image_inspect_json(img);
                        berth_error_free(&e);
                }
                if (!obj) {
                        fprintf(stderr, "Error: No such %s: %s\n", what, argv[i]);
                        ret = 1;
                        continue;
                }
                if (format) {
                        cleanup_free char *out = NULL;
                        if (template_render(format, obj, &out, err) < 0) {
                                json_decref(obj);
                                json_decref(all);
                                return -1;
                        }
                        printf("%s\n", out);
                        json_decref(obj);
                } else
                        json_array_append_new(all, obj);
        }
        if (!format) {
                cleanup_free char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", text ? text : "[]");
        }
        json_decref(all);
        return ret;
}

int cmd_inspect(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        return inspect_objects(cli, argc, argv, NULL, err);
}

int cmd_image_inspect(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        return inspect_objects(cli, argc, argv, "image", err);
}

int cmd_container_inspect(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        return inspect_objects(cli, argc, argv, "container", err);
}

/* ---- logs ---- */
static bool logs_still_running(void *userdata)
{
        struct berth_container *c = userdata;
        return container_is_running(c);
}

int cmd_logs(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' },   { "timestamps", no_argument, NULL, 't' },
                { "tail", required_argument, NULL, 'n' }, { "since", required_argument, NULL, 'S' },
                { "until", required_argument, NULL, 'U' }, { "details", no_argument, NULL, 'D' },
                { "help", no_argument, NULL, 'H' },     {},
        };
        struct logs_opts o = { .tail = -1 };
        int ch;
        while ((ch = getopt_long(argc, argv, "ftn:", opts, NULL)) != -1) {
                switch (ch) {
                case 'f': o.follow = true; break;
                case 't': o.timestamps = true; break;
                case 'n':
                        if (streq(optarg, "all"))
                                o.tail = -1;
                        else {
                                char *end;
                                o.tail = strtol(optarg, &end, 10);
                                if (*end || o.tail < 0)
                                        return berth_error(err, 0, "invalid value for --tail: %s", optarg);
                        }
                        break;
                case 'S':
                        if (parse_timestamp(optarg, now_ns(), &o.since_ns, err) < 0)
                                return -1;
                        break;
                case 'U':
                        if (parse_timestamp(optarg, now_ns(), &o.until_ns, err) < 0)
                                return -1;
                        break;
                case 'D': break;
                case 'H':
                        puts("Usage:  berth logs [OPTIONS] CONTAINER\n\n"
                             "  -f, --follow         Follow log output\n"
                             "      --since string   Show logs since timestamp or relative (e.g. 42m)\n"
                             "      --until string   Show logs before a timestamp or relative\n"
                             "  -n, --tail string    Number of lines to show from the end of the logs\n"
                             "  -t, --timestamps     Show timestamps");
                        return 0;
                default: return cli_usage_error(err, "logs", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(err, "logs", "requires exactly 1 argument");
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, argv[optind], &c, err) < 0)
                return -1;
        return journal_show_logs(c->id, &o, logs_still_running, c, err);
}

/* ---- attach ---- */
/* The container's main process (host PID) for the signal proxy. */
static volatile pid_t attach_pid;

static void attach_forward(int sig)
{
        if (attach_pid > 0)
                kill(attach_pid, sig);
}

/* `docker attach` to a detached container: its output from now on, as it
 * comes (from the journal, where a detached container's output goes), with
 * the signals berth gets passed on to it (--sig-proxy), until it exits;
 * then its exit status.  Its stdin is not connected: a detached container
 * has none. */
int cmd_attach(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_SIG_PROXY = 1000, OPT_NO_STDIN, OPT_DETACH_KEYS };
        static const struct option opts[] = {
                { "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
                { "no-stdin", no_argument, NULL, OPT_NO_STDIN },
                { "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        bool sig_proxy = true;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (ch) {
                case OPT_SIG_PROXY:
                        if (!parse_bool_flag(optarg, &sig_proxy))
                                return cli_usage_error(err, "attach", "invalid value `%s` for --sig-proxy", optarg);
                        break;
                case OPT_NO_STDIN:
                case OPT_DETACH_KEYS: break;
                case 'H':
                        puts("Usage:  berth attach [OPTIONS] CONTAINER\n\n"
                             "Attach to a running container's output (and pass signals on to it)\n\n"
                             "      --no-stdin         Do not attach STDIN (berth never does)\n"
                             "      --sig-proxy        Proxy all received signals to the process (default true)");
                        return 0;
                default: return cli_usage_error(err, "attach", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(err, "attach", "requires exactly 1 argument");
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, argv[optind], &c, err) < 0)
                return -1;
        if (!container_is_running(c))
                return berth_error(err, 0, "You cannot attach to a stopped container, start it first");
        if (streq(json_str(c->state, "Status"), "paused"))
                return berth_error(err, 0, "You cannot attach to a paused container, unpause it first");
        if (sig_proxy) {
                attach_pid = (pid_t) json_int(c->state, "Pid", 0);
                const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
                struct sigaction sa = { .sa_handler = attach_forward, .sa_flags = SA_RESTART };
                for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                        sigaction(sigs[i], &sa, NULL);
        }
        struct logs_opts o = { .follow = true, .tail = 0 };
        if (journal_show_logs(c->id, &o, logs_still_running, c, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        int code = 0;
        if (unit_bus_open(&bus, err) < 0 || container_wait(&cli->store, bus, c, &code, err) < 0)
                return -1;
        return code;
}
