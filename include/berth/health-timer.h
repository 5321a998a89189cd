/* berth — when a container's health checks run: its Config.Healthcheck
 * (Docker's shape: Test, Interval, Timeout, StartPeriod, StartInterval,
 * Retries, durations in ns) read with Docker's defaults, and the systemd
 * timer that runs them.
 *
 * The container's shim starts a transient timer `berth-health:ID12.timer`
 * (PartOf= the container's unit) with its oneshot service, whose ExecStart
 * is `berth-runtime _healthcheck ID` (health.h); the stop hook stops it.  So
 * each start of the unit, by berth or by systemd's Restart=, gets its timer,
 * and nothing is left once the container stops.  The timer fires
 * StartInterval apart during StartPeriod, then Interval after the end of the
 * last check; without a start period the first check comes after Interval,
 * as Docker's. */
#ifndef BERTH_HEALTH_TIMER_H
#define BERTH_HEALTH_TIMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

struct health_settings {
        bool enabled;                /* a Test that is not ["NONE"] */
        uint64_t interval_usec;      /* default 30 s */
        uint64_t timeout_usec;       /* default 30 s */
        uint64_t start_period_usec;  /* default 0 */
        uint64_t start_interval_usec; /* default 5 s */
        unsigned retries;            /* default 3 */
};

/* From a container's config.json (Config.Healthcheck). */
void health_settings_from_config(json_t *cfg, struct health_settings *out);

/* "berth-health:0123456789ab" (the timer's and service's name without the
 * suffix). */
char *health_timer_name(const char *id);

/* The shim: health.json back to "starting" (FailingStreak 0, the log kept,
 * as Docker's) and the timer started.  Nothing for a container without a
 * health check.  hooks: the absolute path of the program the unit runs. */
int health_timer_start(struct berth_store *s, sd_bus *bus, struct berth_container *c, const char *hooks,
                       berth_error_t *err);
/* The stop hook: stop the timer (without waiting; no timer is fine). */
int health_timer_stop(sd_bus *bus, struct berth_container *c, berth_error_t *err);

#endif
