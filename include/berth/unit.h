/* berth — containers as systemd units, over sd-bus.
 *
 * As root berth talks to PID 1 directly on /run/systemd/private (no bus
 * daemon hop, and PID 1 sends its signals to direct connections without a
 * Subscribe()); otherwise it uses the system bus and subscribes. */
#ifndef BERTH_UNIT_H
#define BERTH_UNIT_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "berth/error.h"

struct unit_props;

/* Whether /sys/fs/cgroup is the unified (cgroup v2) hierarchy alone, as on
 * a default Debian 12 host; false on hybrid and legacy (v1) hosts. */
bool cgroup_unified(void);

/* --ulimit: systemd's LimitX= (hard) and LimitXSoft= (soft) properties. */
struct unit_rlimit {
        const char *property; /* "LimitNOFILE" */
        uint64_t soft, hard;  /* UINT64_MAX = infinity */
};

struct unit_spec {
        const char *name;        /* "berth-web.service" */
        const char *description;
        char **exec_start;       /* argv, argv[0] absolute */
        char **exec_stop_post;   /* argv, failure ignored; may be NULL */
        int stdin_fd, stdout_fd, stderr_fd; /* -1: /dev/null in, journal out */
        char **log_extra_fields; /* "KEY=VALUE" */
        const char *syslog_identifier;
        int kill_signal;         /* 0: SIGTERM */
        const char *kill_mode;   /* NULL: "mixed" */
        uint64_t timeout_stop_usec;
        char **environment;      /* "KEY=VALUE" for the ExecStart process */
        const char *notify_access; /* NULL: "main" */
        char **binds_to;         /* units it BindsTo= and is After= */
        const struct unit_props *props; /* limits, restart policy */
        const struct unit_rlimit *rlimits;
        size_t n_rlimits;
};

int unit_bus_open(sd_bus **bus, berth_error_t *err);

/* StartTransientUnit and wait for its start job.  Returns 0 when the job
 * result is "done", 1 when it finished with another result (the unit failed
 * to start: the caller reads why from the container state), <0 on errors
 * talking to systemd; -EEXIST (err set too) when a unit of that name is
 * still loaded. */
int unit_start_transient(sd_bus *bus, const struct unit_spec *spec, berth_error_t *err);
/* A transient NAME.timer and the NAME.service it triggers (Type=oneshot,
 * one ExecStart), as `systemd-run --on-active=... --on-unit-inactive=...`
 * makes them.  The timer fires after each of on_active_usec[] (from its
 * start) and on_unit_inactive_usec after each run of the service ended;
 * part_of: a unit whose stop or restart stops the timer too.  Returns once
 * systemd has the start job, without waiting for it.  A timer of that name
 * still loaded (stopped, not yet collected) is started again. */
struct unit_timer_spec {
        const char *name; /* without the suffix */
        const char *description;
        const char *part_of;
        const uint64_t *on_active_usec;
        size_t n_on_active;
        uint64_t on_unit_inactive_usec; /* 0: none */
        uint64_t accuracy_usec;         /* 0: 1 s */
        char **exec_start;              /* argv, argv[0] absolute */
        const char *syslog_identifier;
};
int unit_start_timer(sd_bus *bus, const struct unit_timer_spec *spec, berth_error_t *err);
/* A Manager job method (StartUnit, StopUnit, RestartUnit) with mode
 * "replace", without waiting for the job.  StopUnit of a unit systemd does
 * not have is not an error. */
int unit_job_nowait(sd_bus *bus, const char *method, const char *unit, berth_error_t *err);
/* StartUnit/StopUnit and wait for the job. */
int unit_start(sd_bus *bus, const char *unit, berth_error_t *err);
int unit_stop(sd_bus *bus, const char *unit, berth_error_t *err);
/* RestartUnit and wait for the job: an error unless it ended "done" (for a
 * Type=notify unit: until it is ready again). */
int unit_restart(sd_bus *bus, const char *unit, berth_error_t *err);
/* KillUnit: who is "main" or "all". */
int unit_kill(sd_bus *bus, const char *unit, const char *who, int sig, berth_error_t *err);
/* A uint64 property of a service unit (MemoryCurrent, CPUUsageNSec,
 * TasksCurrent, IOReadBytes...): UINT64_MAX where systemd has no value. */
int unit_service_u64(sd_bus *bus, const char *unit, const char *property, uint64_t *out, berth_error_t *err);
/* A uint64 property of any unit (InactiveExitTimestampMonotonic...). */
int unit_u64(sd_bus *bus, const char *unit, const char *property, uint64_t *out, berth_error_t *err);
/* GetUnitProcesses: every process in the unit's cgroup (malloc'ed). */
int unit_processes(sd_bus *bus, const char *unit, pid_t **pids, size_t *n, berth_error_t *err);
/* FreezeUnit/ThawUnit (the cgroup v2 freezer).  -EOPNOTSUPP without an
 * error set where systemd cannot freeze (cgroup v1 and hybrid hosts). */
int unit_freeze(sd_bus *bus, const char *unit, bool freeze, berth_error_t *err);
/* Wait until the unit is inactive/failed or gone; timeout_usec 0 = forever.
 * Returns 1 when it is, 0 on timeout. */
int unit_wait_inactive(sd_bus *bus, const char *unit, uint64_t timeout_usec, berth_error_t *err);
/* The same as a watch that an event loop of its own drives (the bus's fd
 * in its poll set, sd_bus_get_events()): unit_watch_inactive() processes
 * what the bus has and tells whether the unit is inactive or failed now
 * (the first call asks systemd once). */
struct unit_watch;
int unit_watch_new(sd_bus *bus, const char *unit, struct unit_watch **out, berth_error_t *err);
bool unit_watch_inactive(struct unit_watch *uw);
/* The exit of main process pid (0: any) as the unit's signals said (a
 * watch made before the unit started sees them all; the pid tells this
 * run's from the last one's): its exit code (128+N for signal N), and
 * whether the kernel's OOM killer ended it.  -ENODATA: not seen. */
int unit_watch_exit(struct unit_watch *uw, pid_t pid, int *exit_code, bool *oom);
void unit_watch_free(struct unit_watch *uw);
static inline void unit_watch_freep(struct unit_watch **uw) { unit_watch_free(*uw); }
/* After the start job: an inactive state seen until now was the last run's
 * (or the start's); the watch looks again. */
void unit_watch_reset(struct unit_watch *uw);
/* ResetFailedUnit, errors ignored (the unit may not exist). */
void unit_reset_failed(sd_bus *bus, const char *unit);
/* Reload (systemctl daemon-reload), waiting until systemd is done. */
int unit_daemon_reload(sd_bus *bus, berth_error_t *err);
/* A unit's ActiveState: "active", "inactive", "failed", "activating",
 * "deactivating" (malloc'ed). */
int unit_active_state(sd_bus *bus, const char *unit, char **state, berth_error_t *err);
/* AttachProcessesToUnit: move pid into the unit's cgroup (for exec). */
int unit_attach_pid(sd_bus *bus, const char *unit, pid_t pid, berth_error_t *err);
/* SetUnitProperties (runtime): new properties for a loaded unit, all or none
 * (systemd checks every one before it applies any).  -ENOENT without an
 * error set when systemd has no such unit (stopped and collected).  systemd
 * takes only what can change while a unit runs: the cgroup properties, not
 * Restart= nor StartLimitBurst= ("Cannot set property Restart"). */
int unit_set_properties(sd_bus *bus, const char *unit, const struct unit_props *props, berth_error_t *err);

static inline void sd_bus_flush_close_unrefp_(sd_bus **b) { if (*b) sd_bus_flush_close_unref(*b); }
#define cleanup_bus __attribute__((cleanup(sd_bus_flush_close_unrefp_)))
#define cleanup_bus_message __attribute__((cleanup(sd_bus_message_unrefp)))
#define cleanup_bus_error __attribute__((cleanup(sd_bus_error_free)))

/* For a unit's stop hook: did the kernel's OOM killer act in the unit's
 * cgroup (the caller's own)?  systemd's SERVICE_RESULT=oom-kill, or the
 * cgroup's oom_kill count (memory.events on v2, memory.oom_control on v1),
 * which systemd does not watch on every host. */
bool unit_cgroup_oom_killed(void);

#endif
