/* berth — struct container_spec: Docker's `run` options as one table and one
 * setter per option (container-spec.h). */
#include "config.h"

#include <ctype.h>

#include "berth/container-spec.h"
#include "berth/devices.h"
#include "berth/idmap.h"
#include "berth/limits.h"
#include "berth/network.h"
#include "berth/parse.h"
#include "berth/secret.h"
#include "berth/unit.h"
#include "berth/util.h"
#include "berth/volume.h"

enum spec_opt {
        SO_DETACH, SO_INTERACTIVE, SO_TTY, SO_RM, SO_NAME, SO_ENV, SO_ENV_FILE, SO_VOLUME, SO_MOUNT, SO_TMPFS,
        SO_WORKDIR, SO_USER, SO_ENTRYPOINT, SO_HOSTNAME, SO_NETWORK, SO_NET, SO_PUBLISH, SO_PUBLISH_ALL,
        SO_EXPOSE, SO_RESTART, SO_LABEL, SO_LABEL_FILE, SO_CAP_ADD, SO_CAP_DROP, SO_PRIVILEGED, SO_DEVICE,
        SO_DEVICE_RULE, SO_READ_ONLY, SO_SECURITY_OPT, SO_INIT, SO_STOP_SIGNAL, SO_STOP_TIMEOUT, SO_PULL,
        SO_ULIMIT, SO_SECRET, SO_HEALTH_CMD, SO_HEALTH_INTERVAL, SO_HEALTH_TIMEOUT, SO_HEALTH_START_PERIOD,
        SO_HEALTH_START_INTERVAL, SO_HEALTH_RETRIES, SO_NO_HEALTHCHECK, SO_HEALTH_ON_FAILURE, SO_SDNOTIFY,
        SO_NETWORK_ALIAS, SO_USERNS, SO_UIDMAP, SO_GIDMAP, SO_SUBUIDNAME, SO_SUBGIDNAME,
};

/* Indexed by enum spec_opt. */
const struct container_spec_option container_spec_options[] = {
        [SO_DETACH] = { "detach", 'd', false },
        [SO_INTERACTIVE] = { "interactive", 'i', false },
        [SO_TTY] = { "tty", 't', false },
        [SO_RM] = { "rm", 0, false },
        [SO_NAME] = { "name", 0, true },
        [SO_ENV] = { "env", 'e', true },
        [SO_ENV_FILE] = { "env-file", 0, true },
        [SO_VOLUME] = { "volume", 'v', true },
        [SO_MOUNT] = { "mount", 0, true },
        [SO_TMPFS] = { "tmpfs", 0, true },
        [SO_WORKDIR] = { "workdir", 'w', true },
        [SO_USER] = { "user", 'u', true },
        [SO_ENTRYPOINT] = { "entrypoint", 0, true },
        [SO_HOSTNAME] = { "hostname", 'h', true },
        [SO_NETWORK] = { "network", 0, true },
        [SO_NET] = { "net", 0, true },
        [SO_PUBLISH] = { "publish", 'p', true },
        [SO_PUBLISH_ALL] = { "publish-all", 'P', false },
        [SO_EXPOSE] = { "expose", 0, true },
        [SO_RESTART] = { "restart", 0, true },
        [SO_LABEL] = { "label", 'l', true },
        [SO_LABEL_FILE] = { "label-file", 0, true },
        [SO_CAP_ADD] = { "cap-add", 0, true },
        [SO_CAP_DROP] = { "cap-drop", 0, true },
        [SO_PRIVILEGED] = { "privileged", 0, false },
        [SO_DEVICE] = { "device", 0, true },
        [SO_DEVICE_RULE] = { "device-cgroup-rule", 0, true },
        [SO_READ_ONLY] = { "read-only", 0, false },
        [SO_SECURITY_OPT] = { "security-opt", 0, true },
        [SO_INIT] = { "init", 0, false },
        [SO_STOP_SIGNAL] = { "stop-signal", 0, true },
        [SO_STOP_TIMEOUT] = { "stop-timeout", 0, true },
        [SO_PULL] = { "pull", 0, true },
        [SO_ULIMIT] = { "ulimit", 0, true },
        [SO_SECRET] = { "secret", 0, true },
        [SO_HEALTH_CMD] = { "health-cmd", 0, true },
        [SO_HEALTH_INTERVAL] = { "health-interval", 0, true },
        [SO_HEALTH_TIMEOUT] = { "health-timeout", 0, true },
        [SO_HEALTH_START_PERIOD] = { "health-start-period", 0, true },
        [SO_HEALTH_START_INTERVAL] = { "health-start-interval", 0, true },
        [SO_HEALTH_RETRIES] = { "health-retries", 0, true },
        [SO_NO_HEALTHCHECK] = { "no-healthcheck", 0, false },
        [SO_HEALTH_ON_FAILURE] = { "health-on-failure", 0, true },
        [SO_SDNOTIFY] = { "sdnotify", 0, true },
        [SO_NETWORK_ALIAS] = { "network-alias", 0, true },
        [SO_USERNS] = { "userns", 0, true },
        [SO_UIDMAP] = { "uidmap", 0, true },
        [SO_GIDMAP] = { "gidmap", 0, true },
        [SO_SUBUIDNAME] = { "subuidname", 0, true },
        [SO_SUBGIDNAME] = { "subgidname", 0, true },
};
const size_t container_spec_options_count = ARRAY_SIZE(container_spec_options);

void container_spec_init(struct container_spec *s)
{
        *s = (struct container_spec) { .stop_timeout = -1, .limits = json_object(), .devices = json_array(),
                                       .health = json_object() };
}

void container_spec_clear(struct container_spec *s)
{
        free(s->image);
        strv_free(s->command);
        free(s->name);
        free(s->id);
        free(s->entrypoint);
        free(s->network);
        free(s->restart);
        free(s->workdir);
        free(s->user);
        free(s->hostname);
        free(s->stop_signal);
        free(s->pull);
        strv_free(s->env);
        strv_free(s->env_files);
        strv_free(s->labels);
        strv_free(s->label_files);
        strv_free(s->volumes);
        strv_free(s->mounts);
        strv_free(s->tmpfs);
        strv_free(s->publish);
        strv_free(s->expose);
        strv_free(s->cap_add);
        strv_free(s->network_aliases);
        strv_free(s->networks);
        strv_free(s->cap_drop);
        strv_free(s->security_opts);
        strv_free(s->ulimits);
        strv_free(s->device_rules);
        strv_free(s->secrets);
        json_decref(s->devices);
        json_decref(s->limits);
        json_decref(s->health);
        free(s->health_on_failure);
        free(s->unit);
        free(s->definition);
        free(s->userns);
        strv_free(s->uidmaps);
        strv_free(s->gidmaps);
        free(s->subuidname);
        free(s->subgidname);
        *s = (struct container_spec) { .stop_timeout = -1 };
}

static void set_str(char **field, const char *value)
{
        free(*field);
        *field = xstrdup(value);
}

static void push_absolute(char ***v, const char *basedir, const char *path)
{
        cleanup_free char *abs = path_absolute(basedir, path);
        strv_push(v, abs);
}

static int set_device(struct container_spec *s, const char *value, berth_error_t *err)
{
        struct device_map d;
        if (device_map_parse(value, &d, err) < 0)
                return -1;
        int r = device_map_check(&d, err);
        if (r >= 0)
                json_array_append_new(s->devices, device_map_to_json(&d));
        device_map_clear(&d);
        return r;
}

/* seccomp=PROFILE: the file relative to basedir; everything else as given. */
static void set_security_opt(struct container_spec *s, const char *value, const char *basedir)
{
        bool profile = (startswith(value, "seccomp=") || startswith(value, "seccomp:")) &&
                       !streq(value + 8, "unconfined");
        cleanup_free char *path = profile ? path_absolute(basedir, value + 8) : NULL;
        cleanup_free char *so = profile ? xasprintf("%.8s%s", value, path) : xstrdup(value);
        strv_push(&s->security_opts, so);
}

/* --health-interval and the like: Go durations, 0 (the image's or the
 * default) or at least 1ms, as Docker checks them. */
static int set_health_duration(struct container_spec *s, const char *key, const char *option, const char *value,
                               berth_error_t *err)
{
        long long ns;
        if (parse_go_duration(value, &ns, err) < 0)
                return berth_error_wrap(err, "--%s", option);
        if (ns < 0 || (ns > 0 && ns < 1000000))
                return berth_error(err, 0, "--%s cannot be less than 1ms", option);
        json_object_set_new(s->health, key, json_integer(ns));
        return 0;
}

static int set_health_retries(struct container_spec *s, const char *value, berth_error_t *err)
{
        char *end;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (!*value || *end || errno || n < 0 || n > INT32_MAX)
                return berth_error(err, 0, "invalid --health-retries %s: a number from 0", value);
        json_object_set_new(s->health, "Retries", json_integer(n));
        return 0;
}

/* --sdnotify: podman's values; container = Notify=yes, healthy = ready
 * once the first health check passed, conmon/ignore = berth's default (ready
 * when the process runs). */
static int set_sdnotify(struct container_spec *s, const char *value, berth_error_t *err)
{
        if (!streq(value, "container") && !streq(value, "healthy") && !streq(value, "conmon") &&
            !streq(value, "ignore"))
                return berth_error(err, 0, "invalid --sdnotify %s: use container, healthy, conmon or ignore", value);
        s->notify = streq(value, "container");
        s->notify_healthy = streq(value, "healthy");
        return 0;
}

static int find_option(const char *name)
{
        for (size_t i = 0; i < container_spec_options_count; i++)
                if (streq(container_spec_options[i].name, name))
                        return (int) i;
        return -1;
}

int container_spec_set(struct container_spec *s, const char *option, const char *value, const char *basedir,
                       berth_error_t *err)
{
        int o = find_option(option);
        if (o < 0) {
                const struct limit_def *def = limit_by_flag(option);
                if (!def || !value)
                        return berth_error(err, 0, "internal error: no container option '%s'", option);
                /* checked with the others by container_spec_finish() */
                json_object_set_new(s->limits, def->flag, json_string(value));
                return 0;
        }
        if (container_spec_options[o].has_arg && !value)
                return berth_error(err, 0, "option --%s needs a value", option);
        switch ((enum spec_opt) o) {
        case SO_DETACH: s->detach = true; break;
        case SO_INTERACTIVE: s->interactive = true; break;
        case SO_TTY: s->tty = true; break;
        case SO_RM: s->rm = true; break;
        case SO_PRIVILEGED: s->privileged = true; break;
        case SO_READ_ONLY: s->read_only = true; break;
        case SO_INIT: s->init = true; break;
        case SO_PUBLISH_ALL: s->publish_all = true; break;
        case SO_NAME: set_str(&s->name, value); break;
        case SO_WORKDIR: set_str(&s->workdir, value); break;
        case SO_USER: set_str(&s->user, value); break;
        case SO_ENTRYPOINT: set_str(&s->entrypoint, value); break;
        case SO_HOSTNAME: set_str(&s->hostname, value); break;
        case SO_NETWORK:
        case SO_NET:
                /* repeated (Docker 25): one network each, the first the
                 * NetworkMode; network_prepare_config() checks them */
                if (!s->networks)
                        set_str(&s->network, value);
                strv_push(&s->networks, value);
                break;
        case SO_NETWORK_ALIAS:
                if (!network_alias_valid(value))
                        return berth_error(err, 0, "invalid network alias '%s' (a host name: letters, digits, '-', '.', '_')",
                                           value);
                strv_push(&s->network_aliases, value);
                break;
        case SO_RESTART: set_str(&s->restart, value); break;
        case SO_STOP_SIGNAL: set_str(&s->stop_signal, value); break;
        case SO_PULL: set_str(&s->pull, value); break;
        case SO_ENV: strv_push(&s->env, value); break;
        case SO_LABEL: strv_push(&s->labels, value); break;
        case SO_PUBLISH: strv_push(&s->publish, value); break;
        case SO_EXPOSE: strv_push(&s->expose, value); break;
        case SO_CAP_ADD: strv_push(&s->cap_add, value); break;
        case SO_CAP_DROP: strv_push(&s->cap_drop, value); break;
        case SO_ENV_FILE: push_absolute(&s->env_files, basedir, value); break;
        case SO_LABEL_FILE: push_absolute(&s->label_files, basedir, value); break;
        case SO_VOLUME: {
                cleanup_free char *v = mount_spec_volume_absolute(value, basedir);
                strv_push(&s->volumes, v);
                break;
        }
        case SO_MOUNT: {
                cleanup_free char *v = mount_spec_mount_absolute(value, basedir);
                strv_push(&s->mounts, v);
                break;
        }
        case SO_TMPFS:
                if (value[0] != '/')
                        return berth_error(err, 0, "invalid --tmpfs %s: the path must be absolute", value);
                strv_push(&s->tmpfs, value);
                break;
        case SO_DEVICE: return set_device(s, value, err);
        case SO_DEVICE_RULE:
                if (device_cgroup_rule_check(value, err) < 0)
                        return -1;
                strv_push(&s->device_rules, value);
                break;
        case SO_SECURITY_OPT: set_security_opt(s, value, basedir); break;
        case SO_ULIMIT: {
                const char *prop;
                uint64_t soft, hard;
                if (parse_ulimit(value, &prop, &soft, &hard, err) < 0)
                        return -1;
                strv_push(&s->ulimits, value);
                break;
        }
        case SO_SECRET: /* which secrets exist is create's to say */
                if (secret_ref_check(value, err) < 0)
                        return -1;
                strv_push(&s->secrets, value);
                break;
        case SO_HEALTH_CMD:
                json_object_set_new(s->health, "Test", json_pack("[s,s]", "CMD-SHELL", value));
                break;
        case SO_HEALTH_INTERVAL: return set_health_duration(s, "Interval", option, value, err);
        case SO_HEALTH_TIMEOUT: return set_health_duration(s, "Timeout", option, value, err);
        case SO_HEALTH_START_PERIOD: return set_health_duration(s, "StartPeriod", option, value, err);
        case SO_HEALTH_START_INTERVAL: return set_health_duration(s, "StartInterval", option, value, err);
        case SO_HEALTH_RETRIES: return set_health_retries(s, value, err);
        case SO_NO_HEALTHCHECK: s->no_healthcheck = true; break;
        case SO_HEALTH_ON_FAILURE:
                if (!streq(value, "none") && !streq(value, "kill") && !streq(value, "restart") && !streq(value, "stop"))
                        return berth_error(err, 0, "invalid --health-on-failure %s: use none, kill, restart or stop",
                                           value);
                set_str(&s->health_on_failure, value);
                break;
        case SO_SDNOTIFY: return set_sdnotify(s, value, err);
        case SO_USERNS: {
                struct idmap_userns u;
                if (idmap_userns_parse(value, &u, err) < 0)
                        return -1;
                set_str(&s->userns, value);
                break;
        }
        case SO_UIDMAP:
        case SO_GIDMAP: {
                struct idmap_range r;
                if (idmap_range_parse(value, &r, err) < 0)
                        return berth_error_wrap(err, "--%s", option);
                strv_push(o == SO_UIDMAP ? &s->uidmaps : &s->gidmaps, value);
                break;
        }
        case SO_SUBUIDNAME:
        case SO_SUBGIDNAME:
                if (!*value || strchr(value, ':') || strchr(value, '\n'))
                        return berth_error(err, 0, "invalid --%s '%s': a name of /etc/sub%sid", option, value,
                                           o == SO_SUBUIDNAME ? "u" : "g");
                set_str(o == SO_SUBUIDNAME ? &s->subuidname : &s->subgidname, value);
                break;
        case SO_STOP_TIMEOUT: {
                long long ns;
                if (parse_duration(value, &ns, err) < 0)
                        return -1;
                s->stop_timeout = ns / 1000000000LL;
                break;
        }
        }
        return 0;
}

int container_spec_set_args(struct container_spec *s, char *const *args, const char *basedir,
                            berth_error_t *err)
{
        for (size_t i = 0; args && args[i]; i++) {
                const char *a = args[i];
                const char *opt = NULL;
                if (startswith(a, "--"))
                        opt = a + 2;
                else if (a[0] == '-' && a[1] && !a[2]) {
                        for (size_t k = 0; !opt && k < container_spec_options_count; k++)
                                if (container_spec_options[k].short_name == a[1])
                                        opt = container_spec_options[k].name;
                        if (!opt && limit_by_flag(a + 1)) /* -m */
                                opt = limit_by_flag(a + 1)->flag;
                }
                if (!opt)
                        return berth_error(err, 0, "internal error: not a container option: '%s'", a);
                int o = find_option(opt);
                bool has_arg = o >= 0 ? container_spec_options[o].has_arg : true;
                if (has_arg && !args[i + 1])
                        return berth_error(err, 0, "option %s needs a value", a);
                if (container_spec_set(s, opt, has_arg ? args[++i] : NULL, basedir, err) < 0)
                        return -1;
        }
        return 0;
}

int container_spec_finish(struct container_spec *s, berth_error_t *err)
{
        /* Docker: the files' labels first, --label wins over them */
        if (s->label_files) {
                cleanup_strv char **labels = NULL;
                for (size_t f = 0; s->label_files[f]; f++) {
                        cleanup_strv char **fl = NULL;
                        if (parse_label_file(s->label_files[f], &fl, err) < 0)
                                return -1;
                        for (size_t k = 0; fl[k]; k++)
                                strv_push(&labels, fl[k]);
                }
                for (size_t k = 0; s->labels && s->labels[k]; k++)
                        strv_push(&labels, s->labels[k]);
                strv_free(s->labels);
                s->labels = steal_pointer(&labels);
                strv_free(s->label_files);
                s->label_files = NULL;
        }
        if (s->restart)
                json_object_set_new(s->limits, "restart", json_string(s->restart));
        /* Validate every limit now, so a bad value changes nothing. */
        struct limits l = {};
        struct unit_props props = {};
        const char *key;
        json_t *v;
        int r = 0;
        json_object_foreach(s->limits, key, v)
        {
                const struct limit_def *def = limit_by_flag(key);
                if (def && (r = limits_set(&l, def, json_string_value(v), err)) < 0)
                        break;
        }
        if (r >= 0)
                r = limits_to_props(&l, &props, err);
        limits_free(&l);
        unit_props_free(&props);
        if (r < 0)
                return r;
        if (s->rm && s->restart && !streq(s->restart, "no"))
                return berth_error(err, 0, "Conflicting options: --restart and --rm");
        if (s->no_healthcheck && json_object_size(s->health))
                return berth_error(err, 0, "--no-healthcheck conflicts with --health-* options");
        bool maps = s->uidmaps || s->gidmaps || s->subuidname || s->subgidname;
        if (maps && s->userns && *s->userns)
                return berth_error(err, 0, "--userns and --uidmap/--gidmap/--subuidname/--subgidname conflict: use "
                                           "one of them");
        if ((s->uidmaps || s->gidmaps) && (s->subuidname || s->subgidname))
                return berth_error(err, 0, "--uidmap/--gidmap and --subuidname/--subgidname conflict: use one of them");
        if (s->notify_healthy && s->no_healthcheck)
                return berth_error(err, 0, "--sdnotify=healthy needs a health check, and --no-healthcheck turns it off");
        return 0;
}
