/* berth — container health checks as Docker's (HEALTHCHECK, --health-*),
 * run from a systemd timer (health-timer.h) with no berth process in
 * between.
 *
 * One check: the Test (["CMD", argv...] or ["CMD-SHELL", "cmd"], the latter
 * through the image's SHELL or /bin/sh -c) exec'd in the container as `berth
 * exec` does, its output (first 4 KiB) and exit status kept, killed after
 * Timeout.  The state is Docker's .State.Health, in
 * ROOT/containers/ID/health.json:
 *   { "Status": "starting"|"healthy"|"unhealthy", "FailingStreak": N,
 *     "Log": [{"Start", "End", "ExitCode", "Output"}] (the last 5) }
 * A pass makes it healthy; a failure counts in FailingStreak (not during
 * StartPeriod while still starting) and Retries of them in a row make it
 * unhealthy.  Each change of status is a journal entry
 * (SYSLOG_IDENTIFIER=berth-health, BERTH_CONTAINER_NAME=, BERTH_HEALTH_STATUS=).
 * On a change to unhealthy, Berth.HealthOnFailure acts on the unit: kill
 * (SIGKILL: the unit's Restart= decides what follows), restart, stop.  On a
 * change to healthy, a Notify=healthy container's unit gets READY=1. */
#ifndef BERTH_HEALTH_H
#define BERTH_HEALTH_H

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

/* health.json of a container, or NULL (never checked, or no health check). */
json_t *health_state_load(struct berth_container *c);

/* Is a check due now, for the timer?  During the start period the timer
 * ticks every StartInterval; once the container is no longer "starting"
 * the checks go at Interval, as Docker's: a tick sooner than Interval after
 * the last check is skipped. */
bool health_due(struct berth_container *c);

/* Run one check now and record it.  *status is the status after it
 * ("healthy", "unhealthy", "starting"; static).  Errors: no health check,
 * not running, paused. */
int health_run(struct berth_store *s, sd_bus *bus, struct berth_container *c, const char **status,
               berth_error_t *err);

#endif
