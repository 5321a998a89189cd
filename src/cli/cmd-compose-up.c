/* berth compose up [-d] [--enable] / down / generate: a project as definition
 * files (compose-units.h) in /run/berth/containers, its target
 * berth-compose-PROJECT.target in /run/systemd/system, and a manifest
 * /run/berth/compose/PROJECT.list of what up wrote and made, so that down
 * removes exactly that.  With --enable the same under /etc (definitions in
 * /etc/berth/containers, the target in /etc/systemd/system with [Install],
 * linked into multi-user.target.wants, the manifest in /etc/berth/compose),
 * so the project comes back at boot.  systemd does the rest: order
 * (Requires=/After=), readiness (Notify=healthy), run-to-completion
 * dependencies (Type=oneshot), restarts.  A re-up restarts (recreates) only
 * the services whose config hash or image changed.  A user's projects go
 * to the user's places instead (compose_layout(): $XDG_RUNTIME_DIR and
 * ~/.config, units of the user's manager, the target wanted by
 * default.target). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>

#include "berth/cli.h"
#include "berth/compose-units.h"
#include "berth/compose.h"
#include "berth/container-spec.h"
#include "berth/container.h"
#include "berth/definition.h"
#include "berth/image.h"
#include "berth/journal.h"
#include "berth/json-util.h"
#include "berth/network.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"

static char *manifest_path(const struct compose_layout *l, const char *project)
{
        return xasprintf("%s/%s.list", l->manifests, project);
}

static char *file_path(const struct compose_layout *l, const struct compose_unit_file *f)
{
        bool target = definition_kind_of_file(f->name) < 0; /* the .target */
        return xasprintf("%s/%s", target ? l->units : l->definitions, f->name);
}

/* What systemctl enable makes of the target's [Install]. */
static char *wants_link(const struct compose_layout *l, const char *target)
{
        return xasprintf("%s/%s.wants/%s", l->units, l->wanted_by, target);
}

/* Lines "file PATH", "unit UNIT", "container NAME", "volume NAME",
 * "network NAME"; a re-up keeps what an earlier up listed. */
static void manifest_add(struct strbuf *b, char **old, const char *kind, const char *value)
{
        cleanup_free char *line = xasprintf("%s %s", kind, value);
        if (strv_contains(old, line))
                return;
        strbuf_printf(b, "%s\n", line);
}

static char **manifest_read(const struct compose_layout *l, const char *project)
{
        cleanup_free char *path = manifest_path(l, project), *text = NULL;
        char **v = xcalloc(1, sizeof(char *));
        if (read_file(path, &text, NULL, NULL) < 0)
                return v;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                strv_push(&v, line);
        return v;
}

/* The other definitions on the search path must not hide or clash with ours. */
static int check_clash(const struct compose_layout *l, const struct compose_unit_file *f, berth_error_t *err)
{
        int kind = definition_kind_of_file(f->name);
        if (kind < 0)
                return 0;
        cleanup_free char *stem = xstrndup(f->name, strlen(f->name) - strlen(definition_suffixes[kind]));
        cleanup_free char *found = NULL, *ours = file_path(l, f);
        berth_error_t e = NULL;
        if (definition_find_kind(stem, kind, &found, &e) < 0) {
                berth_error_free(&e);
                return 0;
        }
        if (!streq(found, ours))
                return berth_error(err, 0, "a definition %s already exists: remove it or choose another project name",
                                   found);
        return 0;
}

static int write_project(const struct compose_layout *l, bool enable, const struct compose_project *p,
                         const struct compose_units *u, berth_error_t *err)
{
        if (mkdir_p(l->definitions, 0755, err) < 0 || mkdir_p(l->manifests, 0755, err) < 0 ||
            mkdir_p(l->units, 0755, err) < 0)
                return -1;
        cleanup_strv char **old = manifest_read(l, p->name);
        cleanup_strbuf struct strbuf b = {};
        for (size_t i = 0; old[i]; i++)
                strbuf_printf(&b, "%s\n", old[i]);
        for (size_t i = 0; i < u->n_files; i++) {
                cleanup_free char *path = file_path(l, &u->files[i]);
                manifest_add(&b, old, "file", path);
        }
        cleanup_free char *link = wants_link(l, u->target);
        if (enable)
                manifest_add(&b, old, "file", link);
        for (size_t i = 0; u->units[i]; i++) {
                manifest_add(&b, old, "unit", u->units[i]);
                manifest_add(&b, old, "container", u->containers[i]);
        }
        for (size_t i = 0; u->volumes[i]; i++)
                manifest_add(&b, old, "volume", u->volumes[i]);
        for (size_t i = 0; u->networks[i]; i++)
                manifest_add(&b, old, "network", u->networks[i]);
        cleanup_free char *mpath = manifest_path(l, p->name);
        /* the manifest first: a berth killed half-way still leaves down a list */
        if (write_file_atomic(mpath, b.s, strlen(b.s), 0644, err) < 0)
                return -1;
        for (size_t i = 0; i < u->n_files; i++) {
                cleanup_free char *path = file_path(l, &u->files[i]);
                if (write_file_atomic(path, u->files[i].text, strlen(u->files[i].text), 0644, err) < 0)
                        return -1;
        }
        if (!enable)
                return 0;
        /* systemctl enable: the link of [Install] WantedBy= */
        cleanup_free char *dir = xstrndup(link, (size_t) (strrchr(link, '/') - link));
        cleanup_free char *to = xasprintf("%s/%s", l->units, u->target);
        if (mkdir_p(dir, 0755, err) < 0)
                return -1;
        if (unlink(link) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", link);
        if (symlink(to, link) < 0)
                return berth_error(err, errno, "link %s", link);
        return 0;
}

static volatile int interrupted;

static void on_interrupt(int sig)
{
        interrupted = 1;
}

/* Plain up: the services' output with "CONTAINER  | " prefixes until
 * Ctrl-C (or SIGTERM), then the project is stopped (not removed), as
 * `docker compose up` does. */
static int attach_project(sd_bus *bus, const struct compose_units *u, long long since_ns, berth_error_t *err)
{
        size_t width = 0, n = strv_length(u->containers);
        for (size_t i = 0; i < n; i++)
                if (strlen(u->containers[i]) > width)
                        width = strlen(u->containers[i]);
        cleanup_strv char **ids = xcalloc(n + 1, sizeof(char *)), **prefixes = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                ids[i] = definition_container_id(u->containers[i]);
                prefixes[i] = xasprintf("%-*s | ", (int) width, u->containers[i]);
        }
        struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term; /* no SA_RESTART */
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        int r = journal_follow_many(ids, prefixes, since_ns, &interrupted, err);
        /* a second Ctrl-C ends berth at once */
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (r < 0)
                return -1;
        fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
        if (unit_stop(bus, u->target, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (unit_stop(bus, u->units[i], err) < 0)
                        return -1;
                fprintf(stderr, " Container %s  Stopped\n", u->containers[i]);
        }
        return 0;
}

/* Whether the container runs an image other than the one its reference
 * names now (built again by up --build, pulled): Docker Compose recreates it
 * then, as when its configuration changed.  A reference the store cannot
 * resolve is no reason. */
static bool image_changed(struct berth_cli *cli, struct berth_container *c, const char *ref)
{
        const char *id = json_str(c->config, "Image");
        cleanup_image struct berth_image *img = NULL;
        berth_error_t e = NULL;
        if (!id || !ref || image_lookup(&cli->store, ref, &img, &e) < 0) {
                berth_error_free(&e);
                return false;
        }
        return !streq(img->id, id);
}

/* The com.docker.compose.config-hash of the container up made last time
 * (NULL: no record), and whether it ran to completion with status 0; with
 * image, *stale says whether it runs another image than that reference's. */
static char *container_hash_image(struct berth_cli *cli, const char *name, const char *image, bool *exists,
                                  bool *exited_ok, bool *stale)
{
        cleanup_container struct berth_container *c = NULL;
        berth_error_t e = NULL;
        *exists = *exited_ok = false;
        if (stale)
                *stale = false;
        if (container_lookup(&cli->store, name, &c, &e) < 0) {
                berth_error_free(&e);
                return NULL;
        }
        *exists = true;
        if (stale)
                *stale = image_changed(cli, c, image);
        const char *status = json_string_value(json_object_get(c->state, "Status"));
        *exited_ok = status && streq(status, "exited") && json_integer_value(json_object_get(c->state, "ExitCode")) == 0;
        const char *h = json_string_value(
                json_object_get(json_at(c->config, "Config.Labels"), "com.docker.compose.config-hash"));
        return h ? xstrdup(h) : NULL;
}

static char *container_hash(struct berth_cli *cli, const char *name, bool *exists, bool *exited_ok)
{
        return container_hash_image(cli, name, NULL, exists, exited_ok, NULL);
}

/* --no-start: the networks and volumes, and each container's record as its
 * unit would make it (state "created"); a later up or start makes it afresh. */
static int start_resources(sd_bus *bus, const struct compose_units *u, berth_error_t *err)
{
        for (int k = 0; k < 2; k++)
                for (char **n = k ? u->volumes : u->networks; *n; n++) {
                        cleanup_free char *unit = definition_unit_name(k ? DEFINITION_VOLUME : DEFINITION_NETWORK, *n);
                        if (unit_start(bus, unit, err) < 0)
                                return -1;
                }
        return 0;
}

static int create_only(struct berth_cli *cli, sd_bus *bus, const struct compose_units *u, berth_error_t *err)
{
        if (start_resources(bus, u, err) < 0)
                return -1;
        struct container_progress progress = { .out = stderr };
        for (size_t i = 0; u->containers[i]; i++) {
                bool exists, ok;
                free(container_hash(cli, u->containers[i], &exists, &ok)); /* the record alone */
                if (exists)
                        continue;
                cleanup_free char *path = NULL;
                cleanup_definition struct definition *d = NULL;
                if (definition_find_kind(u->containers[i], DEFINITION_CONTAINER, &path, err) < 0 ||
                    definition_load(path, u->containers[i], &d, err) < 0)
                        return -1;
                struct container_spec spec;
                cleanup_container struct berth_container *c = NULL;
                int r = definition_to_spec(d, &spec, err);
                if (r >= 0)
                        r = container_create_from_spec(&cli->store, &spec, &progress, &c, err);
                container_spec_clear(&spec);
                if (r < 0)
                        return -1;
                fprintf(stderr, " Container %s  Created\n", u->containers[i]);
        }
        return 0;
}

/* Bring the project to what the files say: a running service whose config
 * hash or image changed (or every one, force) is restarted, which makes its
 * container afresh; then the target is started, which starts every service
 * not running (even when the target is active already), in order.  A
 * run-to-completion service is not running once it exited, so it runs
 * again, as Docker Compose starts a project's exited containers on up; it
 * counts as up when it exited with 0.  The first failure is the error,
 * after every service was reported. */
static int start_project(struct berth_cli *cli, sd_bus *bus, const struct compose_units *u, bool force,
                         berth_error_t *err)
{
        size_t n = strv_length(u->units);
        /* When each one last stopped and started: a restart reaches the
         * services that Require= the restarted one too (systemd propagates
         * it), and one restarted so, or on its way (stopped, its start
         * queued), is not restarted again: a second RestartUnit while it is
         * starting would stop its ExecStart midway. */
        static const char *const marks[] = { "InactiveEnterTimestampMonotonic", "InactiveExitTimestampMonotonic" };
        cleanup_free uint64_t *began = xcalloc(2 * n + 1, sizeof(*began));
        for (size_t i = 0; i < 2 * n; i++)
                if (unit_u64(bus, u->units[i / 2], marks[i % 2], &began[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < n; i++) {
                bool exists, ok, stale, moved = false;
                cleanup_free char *h =
                        container_hash_image(cli, u->containers[i], u->images[i], &exists, &ok, &stale);
                cleanup_free char *state = NULL;
                if (unit_active_state(bus, u->units[i], &state, err) < 0)
                        return -1;
                for (size_t k = 0; k < 2; k++) {
                        uint64_t now = 0;
                        if (unit_u64(bus, u->units[i], marks[k], &now, err) < 0)
                                return -1;
                        moved = moved || now != began[2 * i + k];
                }
                if (moved) {
                        fprintf(stderr, " Container %s  Recreated\n", u->containers[i]);
                        continue;
                }
                if (!exists || (!force && !stale && h && streq(h, u->hashes[i])) ||
                    (!streq(state, "active") && !streq(state, "activating")))
                        continue;
                berth_error_t e = NULL;
                if (unit_restart(bus, u->units[i], &e) < 0)
                        berth_error_free(&e); /* reported below */
                else
                        fprintf(stderr, " Container %s  Recreated\n", u->containers[i]);
        }
        if (unit_start(bus, u->target, err) < 0)
                return -1;
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                bool exists, ok, once = strv_contains(u->run_once, u->units[i]);
                cleanup_free char *state = NULL;
                if (unit_active_state(bus, u->units[i], &state, err) < 0)
                        return -1;
                if (streq(state, "active")) {
                        fprintf(stderr, " Container %s  Started\n", u->containers[i]);
                        continue;
                }
                /* a oneshot's start job is over while its stop hook still
                 * writes the exit code */
                if (once && streq(state, "deactivating")) {
                        if (unit_wait_inactive(bus, u->units[i], 30 * 1000000ULL, err) < 0)
                                return -1;
                        free(state);
                        state = NULL;
                        if (unit_active_state(bus, u->units[i], &state, err) < 0)
                                return -1;
                }
                free(container_hash(cli, u->containers[i], &exists, &ok));
                if (once && ok && streq(state, "inactive")) {
                        fprintf(stderr, " Container %s  Exited\n", u->containers[i]);
                        continue;
                }
                fprintf(stderr, " Container %s  Error\n", u->containers[i]);
                if (r == 0)
                        r = berth_error(err, 0, "container %s %s (%s is %s): see 'journalctl -u %s'",
                                        u->containers[i],
                                        once && exists ? "did not complete successfully" : "did not start",
                                        u->units[i], state, u->units[i]);
        }
        return r;
}

static int compose_up_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                          berth_error_t *err)
{
        static const struct option opts[] = {
                { "detach", no_argument, NULL, 'd' }, { "build", no_argument, NULL, 'B' },
                { "pull", required_argument, NULL, 'P' }, { "enable", no_argument, NULL, 'E' },
                { "force-recreate", no_argument, NULL, 'F' }, { "no-start", no_argument, NULL, 'N' },
                { "help", no_argument, NULL, 'H' }, {},
        };
        bool detach = false, enable = false, force = false, no_start = false, build = false;
        const char *pull = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "d", opts, NULL)) != -1) {
                switch (c) {
                case 'd': detach = true; break;
                case 'E': enable = true; break;
                case 'F': force = true; break;
                case 'N': no_start = true; break;
                case 'B': build = true; break;
                case 'P':
                        if (!streq(optarg, "always") && !streq(optarg, "missing") && !streq(optarg, "never"))
                                return cli_usage_error(err, "compose up", "--pull must be always, missing or never");
                        pull = optarg;
                        break;
                case 'H':
                        puts("Usage:  berth compose up [OPTIONS] [SERVICE...]\n\n"
                             "Create and start the project's containers as systemd units: one\n"
                             "container@PROJECT-SERVICE-1.service per service, wanted by\n"
                             "berth-compose-PROJECT.target\n\n"
                             "Options:\n"
                             "      --build          Build images before starting containers\n"
                             "  -d, --detach         Detached mode: start and return (without it: show the services'\n"
                             "                       output until Ctrl-C, then stop them)\n"
                             "      --enable         Write the files under /etc and enable the target, so the\n"
                             "                       project starts at boot (implies -d)\n"
                             "      --force-recreate Recreate the containers even if their configuration is unchanged\n"
                             "      --no-start       Create the containers, networks and volumes without starting\n"
                             "      --pull string    Pull images before running: always, missing or never");
                        return 0;
                default: return cli_usage_error(err, "compose up", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (no_start && force)
                return cli_usage_error(err, "compose up", "--no-start and --force-recreate cannot be combined");
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_units struct compose_units *u = NULL;
        if (compose_load(co, &p, err) < 0 || compose_units_make(p, argv + optind, &u, err) < 0)
                return -1;
        /* a project enabled once stays so until down; one up for this boot
         * only must come down before it can be enabled */
        cleanup_strv char **was_enabled = manifest_read(compose_layout(true), p->name);
        cleanup_strv char **was_runtime = manifest_read(compose_layout(false), p->name);
        if (enable && was_runtime[0])
                return berth_error(err, 0, "project %s is up without --enable: run 'berth compose down' first",
                                   p->name);
        if (was_enabled[0])
                enable = true;
        const struct compose_layout *l = enable ? compose_layout(true) : compose_layout(false);
        if (enable) {
                compose_units_set_install(u);
                detach = true;
        }
        for (size_t i = 0; i < u->n_files; i++)
                if (check_clash(l, &u->files[i], err) < 0)
                        return -1;
        if (cli_store_open(cli, err) < 0)
                return -1;
        /* the images first, as Docker Compose pulls before it creates: a
         * missing one fails here, before anything is written */
        if (compose_up_images(cli, p, u->images, build, pull, err) < 0) /* cmd-compose-build.c */
                return -1;
        struct container_progress progress = { .out = stderr };
        for (size_t i = 0; u->images[i]; i++) {
                const struct compose_service *s = NULL;
                for (size_t j = 0; j < p->n_services && !s; j++)
                        if (streq(p->services[j].image ? p->services[j].image : "", u->images[i]))
                                s = &p->services[j];
                const char *pol = s && s->pull_policy && !streq(s->pull_policy, "if_not_present") ? s->pull_policy
                                                                                                   : "missing";
                cleanup_image struct berth_image *img = NULL;
                if (container_ensure_image(&cli->store, u->images[i], pol, &progress, &img, err) < 0)
                        return -1;
        }
        if (write_project(l, enable, p, u, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0 || unit_daemon_reload(bus, err) < 0)
                return -1;
        if (no_start)
                return create_only(cli, bus, u, err);
        for (size_t i = 0; u->units[i]; i++)
                unit_reset_failed(bus, u->units[i]);
        long long started = now_ns();
        int r = start_project(cli, bus, u, force, err);
        if (r < 0 || detach)
                return r;
        return attach_project(bus, u, started, err);
}

int compose_up_resources(struct berth_cli *cli, const struct compose_options *co, const char *service,
                         berth_error_t *err)
{
        char *names[] = { (char *) service, NULL };
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_units struct compose_units *u = NULL;
        if (compose_load(co, &p, err) < 0)
                return -1;
        cleanup_strv char **was_enabled = manifest_read(compose_layout(true), p->name);
        cleanup_strv char **was_runtime = manifest_read(compose_layout(false), p->name);
        if (was_enabled[0] || was_runtime[0])
                return 0; /* up already: its networks and volumes are there */
        if (compose_units_make(p, names, &u, err) < 0)
                return -1;
        for (size_t i = 0; i < u->n_files; i++)
                if (check_clash(compose_layout(false), &u->files[i], err) < 0)
                        return -1;
        if (cli_store_open(cli, err) < 0 || write_project(compose_layout(false), false, p, u, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0 || unit_daemon_reload(bus, err) < 0)
                return -1;
        return start_resources(bus, u, err);
}

/* berth compose generate [--output DIR] [SERVICE...]: the files up --enable
 * would write, printed (each headed "# NAME", separated by "---" lines, as
 * podlet prints several files) or written into DIR. */
static int compose_generate_cmd(const struct compose_options *co, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *outdir = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
                switch (c) {
                case 'o': outdir = optarg; break;
                case 'H':
                        puts("Usage:  berth compose generate [OPTIONS] [SERVICE...]\n\n"
                             "Print the definition files and the target 'compose up --enable' would write\n\n"
                             "Options:\n"
                             "  -o, --output DIR   Write them into DIR instead (the .container, .volume and\n"
                             "                     .network files belong in /etc/berth/containers, the .target\n"
                             "                     in /etc/systemd/system)");
                        return 0;
                default: return cli_usage_error(err, "compose generate", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (outdir && !*outdir)
                return cli_usage_error(err, "compose generate", "--output needs a directory");
        cleanup_compose_project struct compose_project *p = NULL;
        cleanup_compose_units struct compose_units *u = NULL;
        if (compose_load(co, &p, err) < 0 || compose_units_make(p, argv + optind, &u, err) < 0)
                return -1;
        compose_units_set_install(u);
        if (!outdir) {
                for (size_t i = 0; i < u->n_files; i++)
                        printf("%s# %s\n%s", i ? "\n---\n\n" : "", u->files[i].name, u->files[i].text);
                return 0;
        }
        struct stat st;
        if (stat(outdir, &st) == 0 && !S_ISDIR(st.st_mode))
                return berth_error(err, ENOTDIR, "--output %s is not a directory", outdir);
        if (mkdir_p(outdir, 0755, err) < 0)
                return -1;
        for (size_t i = 0; i < u->n_files; i++) {
                cleanup_free char *path = xasprintf("%s/%s", outdir, u->files[i].name);
                if (write_file_atomic(path, u->files[i].text, strlen(u->files[i].text), 0644, err) < 0)
                        return -1;
                puts(path);
        }
        return 0;
}

static void stop_unit(sd_bus *bus, const char *unit)
{
        berth_error_t e = NULL;
        if (unit_stop(bus, unit, &e) < 0)
                berth_warn("%s", e->msg);
        berth_error_free(&e);
        unit_reset_failed(bus, unit);
}

static int remove_container(struct berth_cli *cli, const char *name, const char *project, berth_error_t *err)
{
        cleanup_container struct berth_container *c = NULL;
        berth_error_t e = NULL;
        if (container_lookup(&cli->store, name, &c, &e) < 0) {
                berth_error_free(&e);
                return 0;
        }
        const char *label = json_string_value(json_object_get(json_at(c->config, "Config.Labels"),
                                                              "com.docker.compose.project"));
        if (!label || !streq(label, project))
                return berth_error(err, 0, "container %s is not the project's: not removed", name);
        if (container_is_running(c))
                return berth_error(err, 0, "container %s is still running", name);
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0 || container_remove(&cli->store, c, err) < 0)
                return -1;
        volume_remove_anonymous(&cli->store, c->config);
        fprintf(stderr, " Container %s  Removed\n", name);
        return 0;
}

/* Down for the files and things one manifest lists (after the target stopped). */
static int down_manifest(struct berth_cli *cli, sd_bus *bus, const struct compose_layout *l, const char *name, char **m,
                         bool volumes, berth_error_t *err)
{
        for (size_t i = 0; m[i]; i++)
                if (startswith(m[i], "unit "))
                        stop_unit(bus, m[i] + 5);
        for (size_t i = 0; m[i]; i++) {
                const char *v = strchr(m[i], ' ') ? strchr(m[i], ' ') + 1 : "";
                if (startswith(m[i], "network ") || startswith(m[i], "volume ")) {
                        cleanup_free char *unit = definition_unit_name(
                                startswith(m[i], "network ") ? DEFINITION_NETWORK : DEFINITION_VOLUME, v);
                        stop_unit(bus, unit);
                }
        }
        if (compose_down_oneoffs(cli, bus, name, err) < 0) /* cmd-compose-ops.c */
                return -1;
        for (size_t i = 0; m[i]; i++)
                if (startswith(m[i], "container ") && remove_container(cli, m[i] + 10, name, err) < 0)
                        return -1;
        for (size_t i = 0; m[i]; i++) {
                if (startswith(m[i], "network ")) {
                        json_auto_t *net = NULL;
                        berth_error_t e = NULL;
                        if (network_lookup(&cli->store, m[i] + 8, &net, &e) < 0) {
                                berth_error_free(&e);
                                continue;
                        }
                        if (network_remove(&cli->store, m[i] + 8, err) < 0)
                                return -1;
                        fprintf(stderr, " Network %s  Removed\n", m[i] + 8);
                } else if (volumes && startswith(m[i], "volume ")) {
                        if (volume_remove(&cli->store, m[i] + 7, true, err) < 0)
                                return -1;
                        fprintf(stderr, " Volume %s  Removed\n", m[i] + 7);
                }
        }
        for (size_t i = 0; m[i]; i++)
                if (startswith(m[i], "file ") && unlink(m[i] + 5) < 0 && errno != ENOENT)
                        return berth_error(err, errno, "remove %s", m[i] + 5);
        /* an enablement of the target made by hand (systemctl enable) */
        cleanup_free char *target = compose_target_name(name), *ours = xasprintf("%s/%s", l->units, target);
        const struct compose_layout *ls[] = { compose_layout(false), compose_layout(true) };
        for (size_t i = 0; i < ARRAY_SIZE(ls); i++) {
                cleanup_free char *link = wants_link(ls[i], target);
                char to[PATH_MAX];
                ssize_t n = readlink(link, to, sizeof(to) - 1);
                if (n < 0)
                        continue;
                to[n] = '\0';
                if (streq(to, ours) && unlink(link) < 0 && errno != ENOENT)
                        return berth_error(err, errno, "remove %s", link);
        }
        cleanup_free char *mpath = manifest_path(l, name);
        if (unlink(mpath) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", mpath);
        return 0;
}

/* down --rmi: the images of the project's services (all), or only those
 * its builds named PROJECT-SERVICE for want of an image: key (local), as
 * Docker Compose picks them; read from the files before anything goes. */
static int rmi_images(const struct compose_options *co, const char *rmi, char ***out, berth_error_t *err)
{
        cleanup_compose_project struct compose_project *p = NULL;
        if (compose_load(co, &p, err) < 0)
                return berth_error_wrap(err, "down --rmi %s", rmi);
        for (size_t i = 0; i < p->n_services; i++) {
                const struct compose_service *s = &p->services[i];
                if (streq(rmi, "local") && (!s->build || s->image))
                        continue;
                cleanup_free char *image = compose_service_image(p, s);
                if (image && !strv_contains(*out, image))
                        strv_push(out, image);
        }
        return 0;
}

/* Each image that is there and no other container uses goes; the first
 * failure is the error, after all were tried. */
static int remove_images(struct berth_cli *cli, char *const *images, berth_error_t *err)
{
        int r = 0;
        for (size_t i = 0; images && images[i]; i++) {
                cleanup_image struct berth_image *img = NULL;
                berth_error_t e = NULL;
                if (image_lookup(&cli->store, images[i], &img, &e) < 0) {
                        berth_error_free(&e); /* never pulled or built */
                        continue;
                }
                if (image_remove(&cli->store, images[i], false, cli_image_in_use, &cli->store, NULL, &e) < 0) {
                        fprintf(stderr, " Image %s  Error\n", images[i]);
                        if (r == 0)
                                r = berth_error(err, 0, "%s", e->msg);
                        berth_error_free(&e);
                        continue;
                }
                fprintf(stderr, " Image %s  Removed\n", images[i]);
        }
        return r;
}

static int compose_down_cmd(struct berth_cli *cli, const struct compose_options *co, int argc, char **argv,
                            berth_error_t *err)
{
        static const struct option opts[] = {
                { "volumes", no_argument, NULL, 'v' },
                { "rmi", required_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        bool volumes = false;
        const char *rmi = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
                switch (c) {
                case 'v': volumes = true; break;
                case 'R':
                        if (!streq(optarg, "local") && !streq(optarg, "all"))
                                return cli_usage_error(err, "compose down", "--rmi takes local or all, not '%s'",
                                                       optarg);
                        rmi = optarg;
                        break;
                case 'H':
                        puts("Usage:  berth compose down [OPTIONS]\n\n"
                             "Stop and remove what 'compose up' made: the units, containers, networks and files\n\n"
                             "Options:\n"
                             "      --rmi type  Remove images used by services: \"local\" only those without an\n"
                             "                  image: key (built as PROJECT-SERVICE), \"all\" every one\n"
                             "  -v, --volumes   Remove the project's named volumes too");
                        return 0;
                default: return cli_usage_error(err, "compose down", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "compose down", "unexpected argument '%s'", argv[optind]);
        cleanup_free char *name = NULL;
        if (compose_project_name(co, &name, err) < 0)
                return -1;
        cleanup_strv char **images = NULL;
        if (rmi && rmi_images(co, rmi, &images, err) < 0)
                return -1;
        if (!definition_name_valid(name))
                return berth_error(err, 0, "invalid project name '%s'", name);
        cleanup_strv char **mr = manifest_read(compose_layout(false), name), **me = manifest_read(compose_layout(true), name);
        if (!mr[0] && !me[0] && !images)
                return 0; /* nothing up made */
        if (cli_store_open(cli, err) < 0)
                return -1;
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        cleanup_free char *target = compose_target_name(name);
        stop_unit(bus, target);
        if (me[0] && down_manifest(cli, bus, compose_layout(true), name, me, volumes, err) < 0)
                return -1;
        if (mr[0] && down_manifest(cli, bus, compose_layout(false), name, mr, volumes, err) < 0)
                return -1;
        if (unit_daemon_reload(bus, err) < 0)
                return -1;
        return remove_images(cli, images, err);
}

int cmd_compose_up_down(struct berth_cli *cli, const struct compose_options *co, const char *sub, int argc,
                        char **argv, berth_error_t *err)
{
        if (streq(sub, "generate"))
                return compose_generate_cmd(co, argc, argv, err);
        return streq(sub, "up") ? compose_up_cmd(cli, co, argc, argv, err) : compose_down_cmd(cli, co, argc, argv, err);
}
