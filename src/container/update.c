/* berth — `update`: new limits for existing containers, and the record's
 * limits as start and inspect read them (see container-update.h). */
#include "config.h"

#include "berth/container-update.h"
#include "berth/json-util.h"
#include "berth/unit.h"
#include "berth/util.h"

int container_limits_parse(json_t *limits, struct limits *l, berth_error_t *err)
{
        const char *key;
        json_t *v;
        json_object_foreach(limits, key, v)
        {
                const struct limit_def *def = limit_by_flag(key);
                if (def && json_is_string(v) && limits_set(l, def, json_string_value(v), err) < 0)
                        return -1;
        }
        return 0;
}

int container_host_config_limits(json_t *config, berth_error_t *err)
{
        json_t *hc = json_object_get(config, "HostConfig");
        json_t *limits = json_at(config, "Berth.Limits");
        if (!json_is_object(hc))
                return berth_error(err, 0, "internal error: the container configuration has no HostConfig");
        struct limits l = {};
        if (container_limits_parse(limits, &l, err) < 0) {
                limits_free(&l);
                return -1;
        }
        json_int_t mem = l.set[LIMIT_MEMORY] ? (json_int_t) l.memory : 0;
        /* Docker records its default total, twice the memory (what the unit
         * gets: MemorySwapMax = memory) */
        json_int_t swap = l.set[LIMIT_MEMORY_SWAP] && l.memory_swap ? l.memory_swap
                          : mem <= INT64_MAX / 2                      ? 2 * mem
                                                                      : INT64_MAX;
        const char *cpuset = json_str(limits, "cpuset-cpus");
        json_object_set_new(hc, "Memory", json_integer(mem));
        json_object_set_new(hc, "MemoryReservation",
                            json_integer(l.set[LIMIT_MEMORY_RESERVATION] ? (json_int_t) l.memory_reservation : 0));
        json_object_set_new(hc, "MemorySwap", json_integer(swap));
        json_object_set_new(hc, "NanoCpus", json_integer(l.set[LIMIT_CPUS] ? (json_int_t) l.nano_cpus : 0));
        json_object_set_new(hc, "CpuShares", json_integer(l.set[LIMIT_CPU_SHARES] ? (json_int_t) l.cpu_shares : 0));
        json_object_set_new(hc, "CpusetCpus", json_string(cpuset ? cpuset : ""));
        /* Docker: 0 and -1 are unlimited, shown as null */
        json_object_set_new(hc, "PidsLimit",
                            l.set[LIMIT_PIDS_LIMIT] && l.pids_limit > 0 ? json_integer(l.pids_limit) : json_null());
        json_object_set_new(hc, "BlkioWeight",
                            json_integer(l.set[LIMIT_BLKIO_WEIGHT] ? (json_int_t) l.blkio_weight : 0));
        json_object_set_new(hc, "RestartPolicy", json_pack("{s:s, s:i}", "Name", l.restart ? l.restart : "no",
                                                           "MaximumRetryCount", (int) l.restart_retries));
        limits_free(&l);
        return 0;
}

/* The rows an update can change: one value each (the device rates are
 * lists of their own, and not in Docker's update either). */
static const struct limit_def *update_def(const char *flag, berth_error_t *err)
{
        const struct limit_def *def = limit_by_flag(flag);
        if (!def)
                berth_error(err, 0, "internal error: --%s is not a resource limit", flag);
        else if (def->repeatable) {
                berth_error(err, 0, "--%s cannot be updated: remove and create the container", flag);
                def = NULL;
        }
        return def;
}

/* Parse one value as `run` does and say whether it leaves the limit as it
 * is: Docker's update changes a limit only when given something other than
 * 0 (its flags cannot tell 0 from not given), or, for --cpuset-cpus and
 * --restart, something other than "". */
static int parse_update_value(const struct limit_def *def, const char *value, bool *keep, berth_error_t *err)
{
        *keep = false;
        if (!*value && (def->id == LIMIT_CPUSET_CPUS || def->id == LIMIT_RESTART)) {
                *keep = true;
                return 0;
        }
        struct limits l = {};
        int r = limits_set(&l, def, value, err);
        if (r >= 0) {
                switch (def->id) {
                case LIMIT_MEMORY: *keep = l.memory == 0; break;
                case LIMIT_MEMORY_RESERVATION: *keep = l.memory_reservation == 0; break;
                case LIMIT_MEMORY_SWAP: *keep = l.memory_swap == 0; break;
                case LIMIT_CPUS: *keep = l.nano_cpus == 0; break;
                case LIMIT_CPU_SHARES: *keep = l.cpu_shares == 0; break;
                case LIMIT_BLKIO_WEIGHT: *keep = l.blkio_weight == 0; break;
                default: break; /* --pids-limit 0: unlimited, as Docker */
                }
        }
        limits_free(&l);
        return r < 0 ? berth_error_wrap(err, "--%s", def->flag) : 0;
}

int container_update_check_values(json_t *limits, berth_error_t *err)
{
        const char *flag;
        json_t *v;
        json_object_foreach(limits, flag, v)
        {
                const struct limit_def *def = update_def(flag, err);
                bool keep;
                if (!def)
                        return -1;
                if (!json_is_string(v))
                        return berth_error(err, 0, "internal error: --%s without a value", flag);
                if (parse_update_value(def, json_string_value(v), &keep, err) < 0)
                        return -1;
        }
        return 0;
}

/* A definition container's limits are its file's: the generator writes them
 * into its unit at every daemon-reload, not from the record; a change of
 * the unit alone would differ from the file until the next boot undid it
 * (and `systemctl set-property` already does that, knowingly). */
static int refuse_definition(struct berth_container *c, const char *file, json_t *limits, berth_error_t *err)
{
        cleanup_free char *keys = xstrdup("");
        const char *flag;
        json_t *v;
        json_object_foreach(limits, flag, v)
        {
                const struct limit_def *def = limit_by_flag(flag);
                if (!def)
                        continue;
                char *t = xasprintf("%s%s%s=%s", keys, *keys ? ", " : "", def->key ? def->key : "Restart",
                                    def->key ? "" : " in [Service]");
                free(keys);
                keys = t;
        }
        return berth_error(err, 0, "container %s comes from %s: change %s there", c->name, file, keys);
}

/* c's config with limits merged in (Berth.Limits, then HostConfig from
 * it), checked as a start would check it; *live (when not NULL) gets what a
 * loaded unit can take: every limit's properties but the restart policy's. */
static int prepare(struct berth_container *c, json_t *limits, json_t **out, struct unit_props *live,
                   berth_error_t *err)
{
        const char *file = json_str(c->config, "Berth.Definition");
        if (file)
                return refuse_definition(c, file, limits, err);
        json_auto_t *cfg = json_deep_copy(c->config);
        json_t *berth = json_object_get(cfg, "Berth");
        if (!json_is_object(berth))
                return berth_error(err, 0, "container record %s has no Berth section; run berth system check", c->id);
        json_t *have = json_object_get(berth, "Limits");
        if (!json_is_object(have)) {
                have = json_object();
                json_object_set_new(berth, "Limits", have);
        }
        const char *flag;
        json_t *v;
        json_object_foreach(limits, flag, v)
        {
                const struct limit_def *def = update_def(flag, err);
                bool keep;
                if (!def || !json_is_string(v) || parse_update_value(def, json_string_value(v), &keep, err) < 0)
                        return berth_error(err, 0, "internal error: unchecked update values");
                if (!keep)
                        json_object_set(have, def->flag, v);
        }
        if (container_host_config_limits(cfg, err) < 0)
                return -1;
        const char *restart = json_str(cfg, "HostConfig.RestartPolicy.Name");
        if (json_bool(cfg, "HostConfig.AutoRemove") && restart && !streq(restart, "no"))
                return berth_error(err, 0,
                                   "cannot update container %s: Restart policy cannot be updated because AutoRemove "
                                   "is enabled for the container",
                                   c->name);
        struct limits l = {};
        struct unit_props all = {};
        int r = container_limits_parse(have, &l, err);
        if (r >= 0)
                r = limits_to_props(&l, &all, err);
        if (r >= 0 && live) {
                l.set[LIMIT_RESTART] = false;
                r = limits_to_props(&l, live, err);
        }
        unit_props_free(&all);
        limits_free(&l);
        if (r < 0)
                return berth_error_wrap(err, "cannot update container %s", c->name);
        *out = steal_pointer(&cfg);
        return 0;
}

int container_update_check(struct berth_container *c, json_t *limits, berth_error_t *err)
{
        json_auto_t *cfg = NULL;
        return prepare(c, limits, &cfg, NULL, err);
}

int container_update(sd_bus *bus, struct berth_container *c, json_t *limits, berth_error_t *err)
{
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        /* a fresh copy: rename and the unit's hooks write the record too */
        cleanup_free char *path = xasprintf("%s/config.json", c->dir);
        json_error_t jerr;
        json_t *fresh = json_load_path(path, 0, &jerr);
        if (!json_is_object(fresh)) {
                json_decref(fresh);
                return berth_error(err, 0, "container record %s unreadable: %s; run berth system check", c->id,
                                   jerr.text);
        }
        json_decref(c->config);
        c->config = fresh;

        json_auto_t *old = json_incref(c->config);
        json_t *cfg = NULL;
        struct unit_props live = {};
        if (prepare(c, limits, &cfg, &live, err) < 0) {
                unit_props_free(&live);
                return -1;
        }
        /* the record first: it can be put back, a unit's properties not all */
        json_decref(c->config);
        c->config = cfg;
        int r = container_save_config(c, err);
        if (r >= 0) {
                r = unit_set_properties(bus, container_unit(c), &live, err);
                if (r == -ENOENT) {
                        r = 0; /* not loaded: the next start reads the record */
                } else if (r >= 0 && !json_equal(json_at(old, "HostConfig.RestartPolicy"),
                                                 json_at(cfg, "HostConfig.RestartPolicy"))) {
                        berth_warn("the new restart policy of %s applies from its next start: systemd cannot change "
                                   "Restart= of a running unit",
                                   c->name);
                } else if (r < 0) {
                        json_decref(c->config);
                        c->config = json_incref(old);
                        berth_error_t e = NULL;
                        if (container_save_config(c, &e) < 0)
                                berth_warn_error(&e, "cannot put back the record of %s", c->name);
                }
        } else {
                json_decref(c->config);
                c->config = json_incref(old);
        }
        unit_props_free(&live);
        if (r < 0)
                return -1;
        container_event(c, "update", NULL);
        return 0;
}
