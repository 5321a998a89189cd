/* berth — definition files (include/berth/definition.h): the keys, and the
 * struct definition they fill.  definition-syntax.c reads the file and hands
 * each [Container] and [Install] assignment here.
 *
 * [Container] is driven by one table, container_keys[]: key, kind (how the
 * assignments accumulate), the `berth run` flag each value becomes, a check
 * for one value (so the error carries FILE:LINE), and an apply function for
 * keys that become something other than run flags.  The limit keys come from
 * limits.h's own table (limit_by_key) and go through limits_set.
 *
 * [Unit]/[Service] lines are kept both expanded (unit_lines, service_lines)
 * and as written (*_raw): the drop-in carries them as written, because
 * systemd expands specifiers itself, per setting, with the same values (the
 * unit is container@NAME.service) — writing the expanded text would expand a
 * "%%" twice. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>

#include "berth/caps.h"
#include "berth/container-spec.h"
#include "berth/definition-internal.h"
#include "berth/devices.h"
#include "berth/network.h"
#include "berth/parse.h"
#include "berth/rootless.h"
#include "berth/secret.h"
#include "berth/util.h"
#include "berth/volume.h"

static bool plain_name_valid(const char *name, size_t n)
{
        if (n == 0 || !isalnum((unsigned char) name[0]) || n > 128)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && !strchr("_.-", name[i]))
                        return false;
        return true;
}

bool definition_name_valid(const char *name)
{
        if (!name)
                return false;
        const char *at = strchr(name, '@');
        if (!at)
                return plain_name_valid(name, strlen(name));
        return plain_name_valid(name, (size_t) (at - name)) && plain_name_valid(at + 1, strlen(at + 1));
}

const char *const definition_suffixes[_DEFINITION_KIND_MAX] = {
        [DEFINITION_CONTAINER] = ".container",
        [DEFINITION_VOLUME] = ".volume",
        [DEFINITION_NETWORK] = ".network",
        [DEFINITION_IMAGE] = ".image",
        [DEFINITION_BUILD] = ".build",
};

char *definition_unit_name(enum definition_kind kind, const char *name)
{
        switch (kind) {
        case DEFINITION_VOLUME: return xasprintf("berth-volume@%s.service", name);
        case DEFINITION_NETWORK: return xasprintf("berth-network@%s.service", name);
        case DEFINITION_IMAGE: return xasprintf("berth-image@%s.service", name);
        case DEFINITION_BUILD: return xasprintf("berth-build@%s.service", name);
        default: return xasprintf("container@%s.service", name);
        }
}

/* The volume or network a Volume=NAME.volume:... or Network=NAME.network
 * names: the name its definition declares.  *unit_out (may be NULL) gets
 * the unit that creates it. */
static int resource_ref(const char *stem, enum definition_kind kind, char **name_out, char **unit_out,
                        berth_error_t *err)
{
        cleanup_free char *path = NULL;
        cleanup_definition struct definition *r = NULL;
        if (definition_find_kind(stem, kind, &path, err) < 0 || definition_load(path, stem, &r, err) < 0)
                return -1;
        *name_out = xstrdup(r->resource_name);
        if (unit_out)
                *unit_out = definition_unit_name(kind, stem);
        return 0;
}

/* "NAME.volume" (or .network) → "NAME"; NULL when v is no such reference. */
static char *resource_stem(const char *v, size_t len, enum definition_kind kind)
{
        const char *suffix = definition_suffixes[kind];
        size_t n = strlen(suffix);
        if (len <= n || strncmp(v + len - n, suffix, n) != 0 || memchr(v, '/', len))
                return NULL;
        return xstrndup(v, len - n);
}

/* ---- [Container]: checks of one value ------------------------------------------ */

static int check_bool(const char *v, berth_error_t *err)
{
        return def_parse_bool(v, NULL, err);
}

static int check_container_name(const char *v, berth_error_t *err)
{
        if (!definition_name_valid(v))
                return berth_error(err, 0, "invalid container name: '%s' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)",
                                   v);
        return 0;
}

static int check_environment(const char *v, berth_error_t *err)
{
        const char *eq = strchr(v, '=');
        if (!eq || eq == v)
                return berth_error(err, 0, "invalid environment assignment: '%s' (use NAME=VALUE)", v);
        return 0;
}

static int check_absolute(const char *v, berth_error_t *err)
{
        if (v[0] != '/')
                return berth_error(err, 0, "invalid working directory: '%s' (it must be an absolute path)", v);
        return 0;
}

static int check_capability(const char *v, berth_error_t *err)
{
        int cap;
        if (strcasecmp(v, "ALL") == 0 || cap_from_name_docker(v, &cap) == 0)
                return 0;
        cleanup_free char *up = xstrdup(v);
        for (char *s = up; *s; s++)
                *s = (char) toupper((unsigned char) *s);
        return berth_error(err, 0, "unknown capability: \"%s%s\"", startswith(up, "CAP_") ? "" : "CAP_", up);
}

static int check_stop_timeout(const char *v, berth_error_t *err)
{
        int64_t n;
        if (parse_int64(v, &n, NULL) < 0 || n < 0)
                return berth_error(err, 0, "invalid stop timeout: '%s' (use a number of seconds)", v);
        return 0;
}

/* A value as `berth run --OPTION` checks it (the spec's own setter). */
static int check_spec_option(const char *option, const char *v, berth_error_t *err)
{
        struct container_spec s;
        container_spec_init(&s);
        int r = container_spec_set(&s, option, v, NULL, err);
        container_spec_clear(&s);
        return r;
}

/* AutoUpdate=: Podman's policies (auto-update.h) */
static int check_auto_update(const char *v, berth_error_t *err)
{
        if (streq(v, "registry") || streq(v, "local") || streq(v, "disabled"))
                return 0;
        return berth_error(err, 0, "invalid AutoUpdate= value: '%s' (use registry, local or disabled)", v);
}

/* Notify=: a boolean, or "healthy" (ready once the first check passed). */
static int check_notify(const char *v, berth_error_t *err)
{
        if (streq(v, "healthy") || check_bool(v, NULL) == 0)
                return 0;
        return berth_error(err, 0, "invalid Notify= value: '%s' (use yes, no or healthy)", v);
}

static int check_pull(const char *v, berth_error_t *err)
{
        if (streq(v, "missing") || streq(v, "always") || streq(v, "never") || streq(v, "newer"))
                return 0;
        return berth_error(err, 0, "invalid pull policy: '%s' (use missing, always, never or newer)", v);
}

/* Ulimit=NAME=SOFT[:HARD] (Docker's --ulimit, parsed as `berth run` does) →
 * systemd's LimitNAME=SOFT:HARD in [Service] (systemd.exec(5)). */
static char *rlimit_text(uint64_t v)
{
        return v == UINT64_MAX ? xstrdup("infinity") : xasprintf("%" PRIu64, v);
}

static int ulimit_line(const char *v, char **line, berth_error_t *err)
{
        const char *property;
        uint64_t soft, hard;
        if (parse_ulimit(v, &property, &soft, &hard, err) < 0)
                return -1;
        cleanup_free char *ts = rlimit_text(soft), *th = rlimit_text(hard);
        *line = soft == hard ? xasprintf("%s=%s", property, ts) : xasprintf("%s=%s:%s", property, ts, th);
        return 0;
}

static int check_ulimit(const char *v, berth_error_t *err)
{
        cleanup_free char *line = NULL;
        return ulimit_line(v, &line, err);
}

/* AddDevice=[-]HOST[:CONTAINER][:PERMS] (Quadlet's key): "-" makes it optional. */
static int check_device(const char *v, berth_error_t *err)
{
        const char *spec = v[0] == '-' ? v + 1 : v;
        if (spec[0] != '/')
                return berth_error(err, 0, "invalid device '%s': the host path must be absolute", v);
        struct device_map d;
        if (device_map_parse(spec, &d, err) < 0)
                return -1;
        device_map_clear(&d);
        return 0;
}

/* Volume=NAME.volume:/path[:opts]: the definition must exist and be good. */
static int check_volume(const char *v, berth_error_t *err)
{
        cleanup_free char *stem = resource_stem(v, strcspn(v, ":"), DEFINITION_VOLUME);
        cleanup_free char *name = NULL;
        return stem ? resource_ref(stem, DEFINITION_VOLUME, &name, NULL, err) : 0;
}

/* Image=NAME.image or NAME.build: the definition must exist and be good. */
static int check_image(const char *v, berth_error_t *err)
{
        static const enum definition_kind kinds[] = { DEFINITION_IMAGE, DEFINITION_BUILD };
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
                cleanup_free char *stem = resource_stem(v, strlen(v), kinds[i]);
                cleanup_free char *name = NULL;
                if (stem)
                        return resource_ref(stem, kinds[i], &name, NULL, err);
        }
        return 0;
}

/* Network=NAME[:OPTIONS], Podman's form (alias=A,ip=IP): the length of
 * NAME, *opts the options or NULL; container:NAME and pasta:OPTIONS (pasta's
 * own arguments) are one value. */
static size_t network_value_split(const char *v, const char **opts)
{
        const char *colon = startswith(v, "container:") || startswith(v, "pasta:") ? NULL : strchr(v, ':');
        *opts = colon ? colon + 1 : NULL;
        return colon ? (size_t) (colon - v) : strlen(v);
}

/* The options as `berth run --network` takes them, checked the same way. */
static char *network_value_long(const char *name, const char *opts, char *const *aliases, berth_error_t *err)
{
        char *arg = xasprintf("name=%s%s%s", name, opts && *opts ? "," : "", opts ? opts : "");
        for (size_t a = 0; aliases && aliases[a]; a++) {
                char *t = xasprintf("%s,alias=%s", arg, aliases[a]);
                free(arg);
                arg = t;
        }
        struct network_endpoint_spec e;
        if (network_endpoint_parse(arg, &e, err) < 0) {
                free(arg);
                return NULL;
        }
        network_endpoint_spec_done(&e);
        return arg;
}

static int check_network(const char *v, berth_error_t *err)
{
        const char *opts;
        size_t n = network_value_split(v, &opts);
        if (opts) {
                cleanup_free char *name = xstrndup(v, n);
                cleanup_free char *arg = network_value_long(name, opts, NULL, err);
                if (!arg)
                        return -1;
        }
        cleanup_free char *stem = resource_stem(v, n, DEFINITION_NETWORK);
        cleanup_free char *name = NULL;
        return stem ? resource_ref(stem, DEFINITION_NETWORK, &name, NULL, err) : 0;
}

/* ---- [Container]: the table ------------------------------------------------------ */

enum key_kind {
        KEY_STRING,  /* one value, the last assignment wins */
        KEY_BOOL,    /* a boolean, the last assignment wins */
        KEY_LIST,    /* each assignment adds one value */
        KEY_WORDS,   /* each assignment adds several (quoted) words */
        KEY_COMMAND, /* (quoted) words, the last assignment wins */
};

struct container_key;
typedef int (*apply_fn)(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err);

struct container_key {
        const char *key;
        enum key_kind kind;
        const char *flag; /* `berth run` flag each value becomes (NULL: none) */
        const char *arg;  /* KEY_BOOL: the flag's argument when true; otherwise a prefix of each value */
        int (*check)(const char *value, berth_error_t *err); /* one value or word */
        apply_fn apply;   /* NULL: emit_flags() */
        bool run_check;   /* check each value as `berth run FLAG VALUE` does */
};

static void push_flag(struct definition *d, const char *flag, const char *prefix, const char *value)
{
        strv_push(&d->run_args, flag);
        if (prefix) {
                cleanup_free char *t = xasprintf("%s%s", prefix, value);
                strv_push(&d->run_args, t);
        } else
                strv_push(&d->run_args, value);
}

/* The default: each value becomes FLAG VALUE; a true boolean becomes FLAG [ARG]. */
static int emit_flags(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        if (!k->flag || !st->values)
                return 0;
        if (k->kind == KEY_BOOL) {
                bool b = false;
                (void) def_parse_bool(st->values[0], &b, NULL);
                if (b) {
                        strv_push(&p->d->run_args, k->flag);
                        if (k->arg)
                                strv_push(&p->d->run_args, k->arg);
                }
                return 0;
        }
        for (size_t i = 0; st->values[i]; i++)
                push_flag(p->d, k->flag, k->arg, st->values[i]);
        return 0;
}

static char *last_value(const struct key_state *st)
{
        size_t n = strv_length(st->values);
        return n ? st->values[n - 1] : NULL;
}

static void add_requires(struct definition *d, const char *unit);

/* Image=NAME.image (pulled by its unit first) or NAME.build (built by its
 * unit first): the image that definition names. */
static int apply_image(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        static const enum definition_kind kinds[] = { DEFINITION_IMAGE, DEFINITION_BUILD };
        const char *v = last_value(st);
        if (!v)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(kinds) && !p->template; i++) {
                cleanup_free char *stem = resource_stem(v, strlen(v), kinds[i]);
                if (!stem)
                        continue;
                cleanup_free char *unit = NULL;
                if (resource_ref(stem, kinds[i], &p->d->image, &unit, err) < 0)
                        return berth_error_wrap(err, "%s:%u", p->path, st->line);
                add_requires(p->d, unit);
                return 0;
        }
        p->d->image = xstrdup(v);
        return 0;
}

/* The default name: NAME, or PREFIX-INSTANCE for an instance of a template. */
static int apply_container_name(struct parser *p, const struct container_key *k, struct key_state *st,
                                berth_error_t *err)
{
        p->d->container_name = xstrdup(last_value(st) ? last_value(st) : p->d->name);
        char *at = strchr(p->d->container_name, '@');
        if (at)
                *at = '-';
        return 0;
}

static int apply_exec(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        if (st->values && st->values[0])
                p->d->command = strv_copy(st->values);
        return 0;
}

/* A relative path is relative to the definition file's directory (as Quadlet). */
static char *resolve_path(const struct parser *p, const char *v)
{
        return path_absolute(p->dir, v);
}

static int apply_path(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                cleanup_free char *path = resolve_path(p, st->values[i]);
                push_flag(p->d, k->flag, k->arg, path);
        }
        return 0;
}

static int apply_seccomp(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        const char *v = last_value(st);
        if (!v)
                return 0;
        cleanup_free char *path = streq(v, "unconfined") ? xstrdup(v) : resolve_path(p, v);
        push_flag(p->d, k->flag, k->arg, path);
        return 0;
}

/* Volume=SOURCE:DEST[:OPTS]: a source starting with "." is a path relative to
 * the definition file's directory; "/..." a host path; else a named volume.
 * Mount=type=bind,source=REL likewise. */
static void add_requires(struct definition *d, const char *unit)
{
        if (!strv_contains(d->requires, unit))
                strv_push(&d->requires, unit);
}

/* Volume=NAME.volume:DEST[:OPTS] (as Quadlet): the volume NAME.volume declares,
 * and the unit that creates it first. */
static int resolve_volume_ref(struct parser *p, const char *v, char **out, berth_error_t *err)
{
        size_t len = strcspn(v, ":");
        cleanup_free char *stem = p->template ? NULL : resource_stem(v, len, DEFINITION_VOLUME);
        if (!stem) {
                *out = xstrdup(v);
                return 0;
        }
        cleanup_free char *name = NULL, *unit = NULL;
        if (resource_ref(stem, DEFINITION_VOLUME, &name, &unit, err) < 0)
                return -1;
        add_requires(p->d, unit);
        *out = xasprintf("%s%s", name, v + len);
        return 0;
}

static int apply_mount_paths(struct parser *p, const struct container_key *k, struct key_state *st,
                             berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                if (!streq(k->flag, "-v")) {
                        cleanup_free char *v = mount_spec_mount_absolute(st->values[i], p->dir);
                        push_flag(p->d, k->flag, NULL, v);
                        continue;
                }
                cleanup_free char *ref = NULL;
                if (resolve_volume_ref(p, st->values[i], &ref, err) < 0)
                        return berth_error_wrap(err, "%s:%u", p->path, st->line);
                cleanup_free char *v = mount_spec_volume_absolute(ref, p->dir);
                push_flag(p->d, k->flag, NULL, v);
        }
        return 0;
}

/* Network=NAME.network: the network NAME.network declares, created first.
 * Repeated: one network each, in order.  NetworkAlias= names the container
 * on every user network, as Podman's --network-alias does; with several
 * networks or NAME:OPTIONS the values become `--network
 * name=NAME,OPTIONS,alias=A...` (berth run's --network-alias is Docker's,
 * for the first network only). */
static struct key_state *state_of(struct parser *p, const char *key);

static bool network_values_long(char *const *values)
{
        const char *opts = NULL;
        for (size_t i = 0; values && values[i] && !opts; i++)
                (void) network_value_split(values[i], &opts);
        return strv_length(values) > 1 || opts;
}

static int apply_network(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        bool long_form = network_values_long(st->values);
        char **aliases = state_of(p, "NetworkAlias")->values;
        p->d->no_network = strv_length(st->values) == 1 && streq(st->values[0], "none");
        for (size_t i = 0; st->values && st->values[i]; i++) {
                const char *v = st->values[i], *opts;
                size_t n = network_value_split(v, &opts);
                cleanup_free char *stem = p->template ? NULL : resource_stem(v, n, DEFINITION_NETWORK);
                cleanup_free char *name = NULL, *unit = NULL;
                if (stem) {
                        if (resource_ref(stem, DEFINITION_NETWORK, &name, &unit, err) < 0)
                                return berth_error_wrap(err, "%s:%u", p->path, st->line);
                        add_requires(p->d, unit);
                } else
                        name = xstrndup(v, n);
                bool user = !streq(name, "host") && !streq(name, "none") && !streq(name, "bridge") &&
                            !startswith(name, "container:") && !streq(name, "pasta") && !startswith(name, "pasta:");
                p->d->bridge_network |= user;
                cleanup_free char *arg = long_form ? network_value_long(name, opts, user ? aliases : NULL, err)
                                                   : xstrdup(name);
                if (!arg)
                        return berth_error_wrap(err, "%s:%u", p->path, st->line);
                push_flag(p->d, k->flag, NULL, arg);
        }
        return 0;
}

/* NetworkAlias=: --network-alias, unless Network= took them. */
static int apply_network_alias(struct parser *p, const struct container_key *k, struct key_state *st,
                               berth_error_t *err)
{
        if (network_values_long(state_of(p, "Network")->values))
                return 0;
        return emit_flags(p, k, st, err);
}

/* Each device's rule goes into the unit (DeviceAllow=, whether or not the node
 * exists yet at generation time); the node into the container when it
 * exists, or always when not optional (then a missing one fails the start). */
static int apply_devices(struct parser *p, const struct container_key *k, struct key_state *st,
                         berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                bool optional = st->values[i][0] == '-';
                const char *spec = st->values[i] + optional;
                strv_push(&p->d->devices, spec);
                struct device_map d;
                if (device_map_parse(spec, &d, err) < 0)
                        return -1;
                bool present = device_map_check(&d, NULL) == 0;
                device_map_clear(&d);
                if (present || !optional)
                        push_flag(p->d, k->flag, NULL, spec);
        }
        return 0;
}

static int apply_publish(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        p->d->publishes = strv_length(st->values) > 0;
        return emit_flags(p, k, st, err);
}

/* User= and Group= together: -u USER[:GROUP]. */
static int apply_user(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        const char *user = last_value(st);
        struct key_state *g = state_of(p, "Group");
        const char *group = last_value(g);
        if (group && !user) {
                berth_error(err, 0, "Group= needs User= (the group applies to that user)");
                return berth_error_wrap(err, "%s:%u", p->path, g->line);
        }
        if (!user)
                return 0;
        cleanup_free char *u = group ? xasprintf("%s:%s", user, group) : xstrdup(user);
        push_flag(p->d, "-u", NULL, u);
        return 0;
}

static int apply_nothing(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        return 0;
}

static int apply_notify(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        const char *v = last_value(st);
        if (v && streq(v, "healthy"))
                push_flag(p->d, "--sdnotify", NULL, "healthy");
        else if (v)
                (void) def_parse_bool(v, &p->d->notify, NULL);
        return 0;
}

/* HealthCmd=none (Podman's spelling) turns the image's health check off. */
static int apply_health_cmd(struct parser *p, const struct container_key *k, struct key_state *st,
                            berth_error_t *err)
{
        const char *v = last_value(st);
        if (v && strcasecmp(v, "none") == 0)
                strv_push(&p->d->run_args, "--no-healthcheck");
        else if (v)
                push_flag(p->d, k->flag, NULL, v);
        return 0;
}

static int apply_stop_timeout(struct parser *p, const struct container_key *k, struct key_state *st,
                              berth_error_t *err)
{
        if (!last_value(st))
                return 0;
        int64_t n = 0;
        (void) parse_int64(last_value(st), &n, NULL);
        p->d->stop_timeout = n;
        return emit_flags(p, k, st, err);
}

static int apply_pull(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        p->d->pull = xstrdup(last_value(st) ? last_value(st) : "missing");
        return 0;
}

static int apply_ulimit(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                cleanup_free char *line = NULL;
                if (ulimit_line(st->values[i], &line, err) < 0)
                        return berth_error_wrap(err, "%s:%u", p->path, st->line);
                strv_push(&p->d->ulimit_lines, line);
        }
        return 0;
}

/* The [Container] keys, in the order their run flags are emitted.  The limit
 * keys (Memory=, CPUs=, ...) are limits.h's table. */
static const struct container_key container_keys[] = {
        { "Image", KEY_STRING, NULL, NULL, check_image, apply_image },
        { "ContainerName", KEY_STRING, NULL, NULL, check_container_name, apply_container_name },
        { "Exec", KEY_COMMAND, NULL, NULL, NULL, apply_exec },
        { "Entrypoint", KEY_STRING, "--entrypoint", NULL, NULL, NULL },
        { "Environment", KEY_WORDS, "-e", NULL, check_environment, NULL },
        { "EnvironmentFile", KEY_LIST, "--env-file", NULL, NULL, apply_path },
        { "PublishPort", KEY_LIST, "-p", NULL, NULL, apply_publish },
        { "ExposeHostPort", KEY_LIST, "--expose", NULL, NULL, NULL },
        { "Volume", KEY_LIST, "-v", NULL, check_volume, apply_mount_paths },
        { "Mount", KEY_LIST, "--mount", NULL, NULL, apply_mount_paths },
        { "Tmpfs", KEY_LIST, "--tmpfs", NULL, NULL, NULL },
        { "Secret", KEY_LIST, "--secret", NULL, secret_ref_check, NULL },
        { "Network", KEY_LIST, "--network", NULL, check_network, apply_network },
        { "NetworkAlias", KEY_LIST, "--network-alias", NULL, NULL, apply_network_alias, true },
        { "User", KEY_STRING, "-u", NULL, NULL, apply_user },
        { "Group", KEY_STRING, NULL, NULL, NULL, apply_nothing }, /* apply_user: -u USER:GROUP */
        { "WorkingDir", KEY_STRING, "-w", NULL, check_absolute, NULL },
        { "HostName", KEY_STRING, "--hostname", NULL, NULL, NULL },
        { "ReadOnly", KEY_BOOL, "--read-only", NULL, NULL, NULL },
        /* berth's own: Quadlet has none (PodmanArgs=--privileged there) */
        { "Privileged", KEY_BOOL, "--privileged", NULL, NULL, NULL },
        { "AddCapability", KEY_WORDS, "--cap-add", NULL, check_capability, NULL },
        { "AddDevice", KEY_LIST, "--device", NULL, check_device, apply_devices },
        { "DropCapability", KEY_WORDS, "--cap-drop", NULL, check_capability, NULL },
        { "NoNewPrivileges", KEY_BOOL, "--security-opt", "no-new-privileges", NULL, NULL },
        { "SeccompProfile", KEY_STRING, "--security-opt", "seccomp=", NULL, apply_seccomp },
        { "Label", KEY_WORDS, "-l", NULL, NULL, NULL },
        { "AutoUpdate", KEY_STRING, "-l", "io.containers.autoupdate=", check_auto_update, NULL },
        { "RunInit", KEY_BOOL, "--init", NULL, NULL, NULL },
        { "StopTimeout", KEY_STRING, "--stop-timeout", NULL, check_stop_timeout, apply_stop_timeout },
        { "Notify", KEY_STRING, NULL, NULL, check_notify, apply_notify },
        { "HealthCmd", KEY_STRING, "--health-cmd", NULL, NULL, apply_health_cmd },
        { "HealthInterval", KEY_STRING, "--health-interval", NULL, NULL, NULL, true },
        { "HealthTimeout", KEY_STRING, "--health-timeout", NULL, NULL, NULL, true },
        { "HealthStartPeriod", KEY_STRING, "--health-start-period", NULL, NULL, NULL, true },
        { "HealthStartInterval", KEY_STRING, "--health-start-interval", NULL, NULL, NULL, true },
        { "HealthRetries", KEY_STRING, "--health-retries", NULL, NULL, NULL, true },
        { "HealthOnFailure", KEY_STRING, "--health-on-failure", NULL, NULL, NULL, true },
        { "Pull", KEY_STRING, NULL, NULL, check_pull, apply_pull },
        { "Ulimit", KEY_LIST, NULL, NULL, check_ulimit, apply_ulimit },
        /* user namespaces (idmap.h), Quadlet's keys */
        { "UserNS", KEY_STRING, "--userns", NULL, NULL, NULL, true },
        { "UIDMap", KEY_LIST, "--uidmap", NULL, NULL, NULL, true },
        { "GIDMap", KEY_LIST, "--gidmap", NULL, NULL, NULL, true },
        { "SubUIDMap", KEY_STRING, "--subuidname", NULL, NULL, NULL, true },
        { "SubGIDMap", KEY_STRING, "--subgidname", NULL, NULL, NULL, true },
};

static const struct container_key *container_key_by_name(const char *key)
{
        for (size_t i = 0; i < ARRAY_SIZE(container_keys); i++)
                if (streq(container_keys[i].key, key))
                        return &container_keys[i];
        return NULL;
}

static struct key_state *state_of(struct parser *p, const char *key)
{
        return &p->keys[container_key_by_name(key) - container_keys];
}

/* ---- assignments, and the definition they make --------------------------------- */

/* Checks that read other definitions (Volume=NAME.volume...): not in a
 * template itself, whose %i is no instance yet (each instance is checked). */
static bool is_reference_check(int (*check)(const char *value, berth_error_t *err))
{
        return check == check_volume || check == check_network || check == check_image;
}

static int check_value(const struct container_key *k, const char *v, berth_error_t *err)
{
        if (k->kind == KEY_BOOL)
                return check_bool(v, err);
        if (k->run_check)
                return check_spec_option(k->flag + 2, v, err);
        return k->check ? k->check(v, err) : 0;
}

int def_assign_container(struct parser *p, const char *key, const char *value, unsigned line, berth_error_t *err)
{
        const struct container_key *k = container_key_by_name(key);
        if (k) {
                struct key_state *st = &p->keys[k - container_keys];
                st->line = line;
                if (!*value) { /* an empty assignment resets */
                        strv_free(st->values);
                        st->values = NULL;
                        return 0;
                }
                if (k->kind == KEY_WORDS || k->kind == KEY_COMMAND) {
                        cleanup_strv char **words = NULL;
                        if (def_split_words(value, &words, err) < 0)
                                return -1;
                        for (size_t i = 0; k->kind == KEY_WORDS && words[i]; i++)
                                if (check_value(k, words[i], err) < 0)
                                        return -1;
                        if (k->kind == KEY_COMMAND) {
                                strv_free(st->values);
                                st->values = steal_pointer(&words);
                        } else
                                for (size_t i = 0; words[i]; i++)
                                        strv_push(&st->values, words[i]);
                        return 0;
                }
                if (!(p->template && is_reference_check(k->check)) && check_value(k, value, err) < 0)
                        return -1;
                if (k->kind != KEY_LIST) {
                        strv_free(st->values);
                        st->values = NULL;
                }
                strv_push(&st->values, value);
                return 0;
        }
        const struct limit_def *l = limit_by_key(key);
        if (l) {
                if (!*value && !l->repeatable) {
                        p->d->limits.set[l->id] = false; /* back to the default */
                        return 0;
                }
                return limits_set(&p->d->limits, l, value, err);
        }
        return berth_error(err, 0, "unknown key '%s' in section [Container]", key);
}

/* [Install]: only what a generator can do, links. */
const char *const def_install_keys[3] = { "WantedBy", "RequiredBy", "UpheldBy" };

static bool unit_name_valid(const char *s)
{
        if (!*s || !strchr(s, '.') || s[0] == '.' || strlen(s) > 255)
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr(":_.\\@-", *c))
                        return false;
        return true;
}

int def_assign_install(struct parser *p, const char *key, const char *value, berth_error_t *err)
{
        if (streq(key, "DefaultInstance")) {
                if (!strchr(p->d->name, '@'))
                        return berth_error(err, 0, "DefaultInstance= is only for templates (NAME@%s)",
                                           definition_suffixes[p->d->kind]);
                if (*value && !definition_name_valid(value))
                        return berth_error(err, 0, "invalid instance name in DefaultInstance=: '%s'", value);
                free(p->d->default_instance);
                p->d->default_instance = *value ? xstrdup(value) : NULL;
                return 0;
        }
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(def_install_keys); i++)
                known |= streq(def_install_keys[i], key);
        if (!known)
                return berth_error(err, 0,
                                   "[Install] %s= is not supported in definition files (generated units can only "
                                   "use WantedBy=, RequiredBy=, UpheldBy= and DefaultInstance=)",
                                   key);
        cleanup_strv char **words = NULL;
        if (def_split_words(value, &words, err) < 0)
                return -1;
        for (size_t i = 0; words[i]; i++)
                if (!unit_name_valid(words[i]))
                        return berth_error(err, 0, "invalid unit name in %s=: '%s'", key, words[i]);
        return 0;
}

/* Turn the accumulated [Container] keys into the definition. */
int def_container_finish(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        for (size_t i = 0; i < ARRAY_SIZE(container_keys); i++) {
                const struct container_key *k = &container_keys[i];
                apply_fn apply = k->apply ? k->apply : emit_flags;
                if (apply(p, k, &p->keys[i], err) < 0)
                        return -1;
        }
        if (!d->image)
                return berth_error(err, 0, "%s: missing Image= in [Container]", d->path);
        struct unit_props props = { 0 };
        berth_error_t e = NULL;
        int r = limits_to_props(&d->limits, &props, &e);
        unit_props_free(&props);
        if (r < 0) {
                berth_error(err, 0, "%s: %s", d->path, e ? e->msg : "invalid limits");
                berth_error_free(&e);
                return -1;
        }
        return 0;
}

/* Read one file (the definition or a drop-in) into p. */
static int parse_file(struct parser *p, const char *path, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        if (read_file(path, &text, NULL, err) < 0)
                return -1;
        p->path = path;
        p->section = SECTION_NONE;
        return def_parse_text(p, text, err);
}

static int parse_all(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        if (parse_file(p, d->path, err) < 0)
                return -1;
        for (size_t i = 0; d->dropins && d->dropins[i]; i++)
                if (parse_file(p, d->dropins[i], err) < 0)
                        return -1;
        p->path = d->path;
        return d->kind == DEFINITION_CONTAINER ? def_container_finish(p, err) : def_resource_finish(p, err);
}

int definition_load(const char *path, const char *name, struct definition **out, berth_error_t *err)
{
        /* "web@": the template itself, read to check it and for its DefaultInstance= */
        size_t len = name ? strlen(name) : 0;
        bool template = len > 1 && name[len - 1] == '@' && plain_name_valid(name, len - 1);
        int kind = definition_kind_of_file(path);
        if (kind < 0)
                return berth_error(err, 0, "%s: not a definition file (.container, .volume, .network, .image or "
                                           ".build)",
                                   path);
        if (!template && !definition_name_valid(name))
                return berth_error(err, 0,
                                   "%s: invalid definition name '%s' (a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                   path, name ? name : "");
        struct definition *d = xcalloc(1, sizeof(*d));
        d->kind = (enum definition_kind) kind;
        d->name = xstrdup(name);
        d->path = xstrdup(path);
        d->stop_timeout = -1;
        d->user = rootless();
        if (strchr(name, '@'))
                d->instance = xstrdup(strchr(name, '@') + 1);
        d->dropins = def_dropin_paths(name, d->kind);
        struct parser p = { .path = path, .d = d, .section = SECTION_NONE, .template = template };
        const char *slash = strrchr(path, '/');
        p.dir = slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t) (slash - path))) : xstrdup(".");
        p.keys = xcalloc(ARRAY_SIZE(container_keys), sizeof(*p.keys));
        p.res_keys = def_resource_keys_new();
        berth_error_t e = NULL;
        int r = parse_all(&p, &e);
        for (size_t i = 0; i < ARRAY_SIZE(container_keys); i++)
                strv_free(p.keys[i].values);
        free(p.keys);
        free(p.dir);
        def_resource_keys_free(p.res_keys);
        if (r < 0) {
                definition_free(d);
                if (err && !*err)
                        *err = e;
                else
                        berth_error_free(&e);
                return -1;
        }
        *out = d;
        return 0;
}

int definition_to_spec(const struct definition *d, struct container_spec *spec, berth_error_t *err)
{
        container_spec_init(spec);
        spec->name = xstrdup(d->container_name ? d->container_name : d->name);
        spec->image = xstrdup(d->image);
        spec->command = d->command && d->command[0] ? strv_copy(d->command) : NULL;
        spec->id = definition_container_id(d->name);
        spec->unit = definition_unit_name(DEFINITION_CONTAINER, d->name);
        spec->definition = xstrdup(d->path);
        spec->notify = d->notify;
        /* paths in run_args are absolute already (resolved against the file's directory) */
        if (container_spec_set_args(spec, d->run_args, NULL, err) < 0 || container_spec_finish(spec, err) < 0)
                return berth_error_wrap(err, "%s", d->path);
        return 0;
}

void definition_free(struct definition *d)
{
        if (!d)
                return;
        free(d->name);
        free(d->instance);
        free(d->path);
        strv_free(d->dropins);
        free(d->default_instance);
        strv_free(d->requires);
        free(d->resource_name);
        strv_free(d->create_args);
        free(d->image);
        free(d->container_name);
        free(d->stop_signal);
        strv_free(d->command);
        strv_free(d->run_args);
        free(d->pull);
        limits_free(&d->limits);
        strv_free(d->devices);
        strv_free(d->ulimit_lines);
        strv_free(d->unit_lines);
        strv_free(d->service_lines);
        strv_free(d->install_lines);
        strv_free(d->unit_lines_raw);
        strv_free(d->service_lines_raw);
        free(d);
}

void definitions_free(struct definition **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                definition_free(v[i]);
        free(v);
}
