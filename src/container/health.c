/* berth — one health check and the state it leaves (health.h). */
#include "config.h"

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "berth/health-timer.h"
#include "berth/health.h"
#include "berth/json-util.h"
#include "berth/parse.h"
#include "berth/runtime.h"
#include "berth/unit.h"
#include "berth/util.h"

#define HEALTH_OUTPUT_MAX 4096 /* Docker's maxOutputLen */
#define HEALTH_LOG_MAX 5       /* Docker keeps the last 5 results */

json_t *health_state_load(struct berth_container *c)
{
        cleanup_free char *path = xasprintf("%s/health.json", c->dir);
        json_t *h = json_load_path(path, 0, NULL);
        if (h && !json_is_object(h)) {
                json_decref(h);
                return NULL;
        }
        return h;
}

/* The argv of the Test: CMD's as given, CMD-SHELL's through SHELL. */
static char **test_argv(json_t *cfg, berth_error_t *err)
{
        json_t *test = json_at(cfg, "Config.Healthcheck.Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        char **argv = NULL;
        if (kind && streq(kind, "CMD-SHELL") && json_is_string(json_array_get(test, 1))) {
                json_t *shell = json_at(cfg, "Config.Shell");
                if (json_array_size(shell))
                        argv = json_strv(shell);
                else {
                        strv_push(&argv, "/bin/sh");
                        strv_push(&argv, "-c");
                }
                strv_push(&argv, json_string_value(json_array_get(test, 1)));
                return argv;
        }
        if (kind && streq(kind, "CMD") && json_array_size(test) > 1) {
                size_t i;
                json_t *a;
                json_array_foreach(test, i, a)
                        if (i > 0 && json_is_string(a))
                                strv_push(&argv, json_string_value(a));
                return argv;
        }
        berth_error(err, 0, "the health check of the container is not a command: Test[0] is %s",
                    kind ? kind : "missing");
        return NULL;
}

static void log_change(struct berth_container *c, const char *status, int streak)
{
        (void) sd_journal_send("MESSAGE=Container %s is %s%s", c->name, status,
                               streq(status, "unhealthy") ? " (health check failed)" : "",
                               "PRIORITY=%d", streq(status, "unhealthy") ? LOG_WARNING : LOG_INFO,
                               "SYSLOG_IDENTIFIER=berth-health", "BERTH_CONTAINER_NAME=%s", c->name,
                               "BERTH_CONTAINER_ID=%s", c->id, "BERTH_HEALTH_STATUS=%s", status,
                               "BERTH_HEALTH_FAILING_STREAK=%d", streak, NULL);
        /* Docker's event of a change: "health_status: healthy" */
        cleanup_free char *action = xasprintf("health_status: %s", status);
        container_event(c, action, NULL);
}

/* Docker's handleProbeResult: the new status after one result. */
static const char *next_status(const char *old, bool passed, bool in_start_period, unsigned retries,
                               json_int_t *streak)
{
        if (passed) {
                *streak = 0;
                return "healthy";
        }
        if (streq(old, "starting") && in_start_period)
                return old; /* failures in the start period do not count */
        (*streak)++;
        return *streak >= (json_int_t) retries ? "unhealthy" : old;
}

/* What HealthOnFailure= asks once the container turned unhealthy. */
static void on_failure(sd_bus *bus, struct berth_container *c)
{
        const char *action = json_str(c->config, "Berth.HealthOnFailure");
        if (!action || streq(action, "none"))
                return;
        berth_error_t e = NULL;
        const char *unit = container_unit(c);
        int r = streq(action, "kill")      ? unit_kill(bus, unit, "main", SIGKILL, &e)
                : streq(action, "restart") ? unit_job_nowait(bus, "RestartUnit", unit, &e)
                                           : unit_job_nowait(bus, "StopUnit", unit, &e);
        if (r < 0)
                berth_warn_error(&e, "health-on-failure=%s for %s", action, c->name);
        else
                (void) sd_journal_send("MESSAGE=Container %s is unhealthy: health-on-failure=%s", c->name, action,
                                       "PRIORITY=%d", LOG_WARNING, "SYSLOG_IDENTIFIER=berth-health",
                                       "BERTH_CONTAINER_NAME=%s", c->name, "BERTH_CONTAINER_ID=%s", c->id, NULL);
}

/* Notify=healthy: READY=1 on behalf of the unit's main process (root may
 * send for another PID; systemd takes it as the main PID's). */
static void notify_ready(struct berth_container *c)
{
        if (!json_bool(c->config, "Berth.NotifyHealthy"))
                return;
        pid_t pid = json_int(c->state, "Pid", 0);
        if (pid <= 0)
                return;
        if (!getenv("NOTIFY_SOCKET"))
                setenv("NOTIFY_SOCKET", "/run/systemd/notify", 0);
        if (sd_pid_notify(pid, 0, "READY=1\nSTATUS=healthy") <= 0)
                berth_warn("cannot tell systemd that %s is healthy", c->name);
}

/* Record one result under the container's lock; returns the new status. */
static int record(struct berth_container *c, json_t *entry, bool passed, const char **status, berth_error_t *err)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        cleanup_close int lfd = container_lock(c, err);
        if (lfd < 0)
                return -1;
        json_auto_t *h = health_state_load(c);
        if (!h)
                h = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
        const char *old = json_str(h, "Status") ?: "starting";
        json_int_t streak = json_int(h, "FailingStreak", 0);
        long long started = parse_rfc3339_ns(json_str(c->state, "StartedAt"));
        bool in_start = started > 0 && now_ns() < started + (long long) hs.start_period_usec * 1000LL;
        const char *now = next_status(old, passed, in_start, hs.retries, &streak);
        /* static strings for the caller */
        *status = streq(now, "healthy") ? "healthy" : streq(now, "unhealthy") ? "unhealthy" : "starting";
        bool changed = !streq(old, *status);
        json_t *log = json_object_get(h, "Log");
        if (!json_is_array(log)) {
                log = json_array();
                json_object_set_new(h, "Log", log);
        }
        json_array_append(log, entry);
        while (json_array_size(log) > HEALTH_LOG_MAX)
                json_array_remove(log, 0);
        json_object_set_new(h, "Status", json_string(*status));
        json_object_set_new(h, "FailingStreak", json_integer(streak));
        cleanup_free char *path = xasprintf("%s/health.json", c->dir);
        if (json_write_atomic(path, h, JSON_COMPACT, 0600, err) < 0)
                return -1;
        return changed ? 1 : 0;
}

bool health_due(struct berth_container *c)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        long long started = parse_rfc3339_ns(json_str(c->state, "StartedAt"));
        long long now = now_ns();
        if (started <= 0 || now >= started + (long long) hs.start_period_usec * 1000LL)
                return true; /* past the start period: the timer's own pace */
        json_auto_t *h = health_state_load(c);
        const char *st = json_str(h, "Status");
        if (!st || streq(st, "starting"))
                return true;
        json_t *log = json_object_get(h, "Log");
        long long last = parse_rfc3339_ns(json_str(json_array_get(log, json_array_size(log) - 1), "End"));
        return last <= 0 || now >= last + (long long) hs.interval_usec * 1000LL;
}

int health_run(struct berth_store *s, sd_bus *bus, struct berth_container *c, const char **status,
               berth_error_t *err)
{
        struct health_settings hs;
        health_settings_from_config(c->config, &hs);
        if (!hs.enabled)
                return berth_error(err, 0, "container %s has no healthcheck", c->name);
        if (!container_is_running(c))
                return berth_error(err, 0, "container %s is not running", c->name);
        if (streq(json_str(c->state, "Status"), "paused"))
                return berth_error(err, 0, "container %s is paused", c->name);
        cleanup_strv char **argv = test_argv(c->config, err);
        if (!argv)
                return -1;
        char output[HEALTH_OUTPUT_MAX + 1];
        bool timed_out = false;
        struct exec_opts o = {
                .argv = argv,
                .bus = bus,
                .capture = output,
                .capture_size = sizeof(output),
                .timeout_usec = hs.timeout_usec,
                .timed_out = &timed_out,
        };
        cleanup_free char *start = format_rfc3339(now_ns());
        int code = 0;
        berth_error_t e = NULL;
        if (runtime_exec(s, c, &o, &code, &e) < 0) {
                /* it could not run (not found, no such user...): a failed check */
                snprintf(output, sizeof(output), "%s", e->msg);
                code = e->exit_code ? e->exit_code : 1;
                berth_error_free(&e);
        }
        cleanup_free char *end = format_rfc3339(now_ns());
        if (timed_out) {
                cleanup_free char *limit = format_go_duration((long long) hs.timeout_usec * 1000LL);
                snprintf(output, sizeof(output), "Health check exceeded timeout (%s)", limit);
                code = -1;
        }
        json_auto_t *entry = json_pack("{s:s, s:s, s:i, s:s}", "Start", start, "End", end, "ExitCode", code,
                                       "Output", output);
        if (!entry) /* output that is not UTF-8 */
                entry = json_pack("{s:s, s:s, s:i, s:s}", "Start", start, "End", end, "ExitCode", code, "Output",
                                  "(output not valid UTF-8)");
        int changed = record(c, entry, code == 0, status, err);
        if (changed < 0)
                return -1;
        if (changed) {
                json_auto_t *h = health_state_load(c);
                log_change(c, *status, (int) json_int(h, "FailingStreak", 0));
                if (streq(*status, "unhealthy"))
                        on_failure(bus, c);
                else if (streq(*status, "healthy"))
                        notify_ready(c);
        }
        return 0;
}
