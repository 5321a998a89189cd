/* berth — the schedule of a container's health checks (health-timer.h). */
#include "config.h"

#include "berth/health-timer.h"
#include "berth/json-util.h"
#include "berth/unit.h"
#include "berth/util.h"

#define USEC_PER_SEC 1000000ULL
/* OnActiveSec= values for the start period: at most this many */
#define MAX_START_TICKS 120

static uint64_t duration_usec(json_t *hc, const char *key, uint64_t def)
{
        json_int_t ns = json_integer_value(json_object_get(hc, key));
        return ns > 0 ? (uint64_t) ns / 1000ULL : def;
}

void health_settings_from_config(json_t *cfg, struct health_settings *out)
{
        json_t *hc = json_at(cfg, "Config.Healthcheck");
        const char *kind = json_string_value(json_array_get(json_object_get(hc, "Test"), 0));
        json_int_t retries = json_integer_value(json_object_get(hc, "Retries"));
        *out = (struct health_settings) {
                .enabled = kind && !streq(kind, "NONE"),
                .interval_usec = duration_usec(hc, "Interval", 30 * USEC_PER_SEC),
                .timeout_usec = duration_usec(hc, "Timeout", 30 * USEC_PER_SEC),
                .start_period_usec = duration_usec(hc, "StartPeriod", 0),
                .start_interval_usec = duration_usec(hc, "StartInterval", 5 * USEC_PER_SEC),
                .retries = retries > 0 ? (unsigned) retries : 3,
        };
}

char *health_timer_name(const char *id)
{
        return xasprintf("berth-health:%.12s", id);
}

/* health.json: {"Status": "starting", "FailingStreak": 0, "Log": [...]} */
static int reset_state(struct berth_container *c, berth_error_t *err)
{
        cleanup_free char *path = xasprintf("%s/health.json", c->dir);
        json_auto_t *h = json_load_path(path, 0, NULL);
        json_t *log = json_object_get(h, "Log");
        /* "o": the pack takes this reference (a new array, or one more on the old log) */
        json_auto_t *fresh = json_pack("{s:s, s:i, s:o}", "Status", "starting", "FailingStreak", 0, "Log",
                                       json_is_array(log) ? json_incref(log) : json_array());
        return json_write_atomic(path, fresh, JSON_COMPACT, 0600, err);
}

int health_timer_start(struct berth_store *s, sd_bus *bus, struct berth_container *c, const char *hooks,
                       berth_error_t *err)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        if (!hs.enabled)
                return 0;
        if (reset_state(c, err) < 0)
                return -1;
        uint64_t ticks[MAX_START_TICKS + 1];
        size_t n = 0;
        if (hs.start_period_usec > 0) {
                for (uint64_t t = hs.start_interval_usec; t <= hs.start_period_usec && n < MAX_START_TICKS;
                     t += hs.start_interval_usec)
                        ticks[n++] = t;
                if (n == 0) /* a start interval longer than the period */
                        ticks[n++] = hs.start_period_usec;
        } else {
                ticks[n++] = hs.interval_usec;
        }
        cleanup_free char *name = health_timer_name(c->id);
        cleanup_free char *desc = xasprintf("berth health check of %s", c->name);
        char *argv[] = { (char *) hooks, "--root", s->root, "--runroot", s->run, "_healthcheck", c->id, NULL };
        struct unit_timer_spec t = {
                .name = name,
                .description = desc,
                .part_of = container_unit(c),
                .on_active_usec = ticks,
                .n_on_active = n,
                .on_unit_inactive_usec = hs.interval_usec,
                /* a check due at 5 s must not wait for a 1 s window */
                .accuracy_usec = hs.start_interval_usec < 10 * USEC_PER_SEC ? 100000ULL : USEC_PER_SEC,
                .exec_start = argv,
                .syslog_identifier = "berth-health",
        };
        if (unit_start_timer(bus, &t, err) < 0)
                return berth_error_wrap(err, "schedule the health checks of %s", c->name);
        return 0;
}

int health_timer_stop(sd_bus *bus, struct berth_container *c, berth_error_t *err)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        if (!hs.enabled)
                return 0;
        cleanup_free char *name = health_timer_name(c->id);
        cleanup_free char *timer = xasprintf("%s.timer", name);
        return unit_job_nowait(bus, "StopUnit", timer, err);
}
