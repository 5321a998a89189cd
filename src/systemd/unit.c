/* berth — systemd units over sd-bus (see include/berth/unit.h). */
#include "config.h"

#include <signal.h>
#include <time.h>

#include "berth/limits.h"
#include "berth/rootless.h"
#include "berth/unit.h"
#include "berth/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"

static int bus_error(berth_error_t *err, int r, const sd_bus_error *e, const char *what)
{
        if (e && sd_bus_error_is_set(e) && e->message)
                return berth_error(err, 0, "%s: %s", what, e->message);
        return berth_error(err, -r, "%s", what);
}

int unit_bus_open(sd_bus **bus, berth_error_t *err)
{
        sd_bus *b = NULL;
        int r;
        if (!rootless() && geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
                r = sd_bus_new(&b);
                if (r >= 0)
                        r = sd_bus_set_address(b, "unix:path=/run/systemd/private");
                if (r >= 0)
                        r = sd_bus_negotiate_fds(b, true);
                if (r >= 0)
                        r = sd_bus_start(b);
                if (r >= 0) {
                        *bus = b;
                        return 0;
                }
                b = sd_bus_unref(b);
        }
        if (rootless()) {
                /* a user's containers are units of the user's own manager */
                r = sd_bus_open_user(&b);
                if (r < 0)
                        return berth_error(err, -r, "connect to the user's systemd manager (does `systemctl --user` "
                                                    "work? log in through a session or `loginctl enable-linger`)");
        } else {
                r = sd_bus_open_system(&b);
                if (r < 0)
                        return berth_error(err, -r, "connect to systemd (is systemd running as PID 1?)");
        }
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        r = sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &e, NULL, NULL);
        if (r < 0) {
                sd_bus_unref(b);
                return bus_error(err, r, &e, "subscribe to systemd");
        }
        *bus = b;
        return 0;
}

static char *unit_path(const char *unit)
{
        char *p = NULL;
        if (sd_bus_path_encode(SD_PATH "/unit", unit, &p) < 0)
                abort();
        return p;
}

/* ---- waiting for jobs ----------------------------------------------------- */
struct job_wait {
        char *job;    /* object path of the job we wait for */
        char *result; /* set when JobRemoved arrived */
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct job_wait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && streq(path, w->job) && !w->result)
                w->result = xstrdup(result);
        return 0;
}

static int bus_run_until(sd_bus *bus, bool (*done)(void *), void *userdata, uint64_t timeout_usec,
                         berth_error_t *err)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t start = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
        for (;;) {
                int r;
                while ((r = sd_bus_process(bus, NULL)) > 0)
                        ;
                if (r < 0)
                        return berth_error(err, -r, "talk to systemd");
                if (done(userdata))
                        return 1;
                uint64_t wait = UINT64_MAX;
                if (timeout_usec) {
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        uint64_t now = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
                        if (now - start >= timeout_usec)
                                return 0;
                        wait = timeout_usec - (now - start);
                }
                r = sd_bus_wait(bus, wait);
                if (r < 0 && r != -EINTR)
                        return berth_error(err, -r, "wait for systemd");
        }
}

static bool job_done(void *userdata)
{
        return ((struct job_wait *) userdata)->result != NULL;
}

/* Call a Manager method that returns a job path, then wait for the job. */
static int call_and_wait_job(sd_bus *bus, sd_bus_message *m, const char *what, char **result, berth_error_t *err)
{
        struct job_wait w = {};
        sd_bus_slot *slot = NULL;
        int r = sd_bus_match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return berth_error(err, -r, "watch systemd jobs");
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        cleanup_bus_message sd_bus_message *reply = NULL;
        r = sd_bus_call(bus, m, 0, &e, &reply);
        if (r < 0) {
                sd_bus_slot_unref(slot);
                /* StopUnit of a unit that is already gone (it exited and
                 * was collected since we looked): nothing left to stop. */
                if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") && startswith(what, "StopUnit ")) {
                        *result = xstrdup("done");
                        return 0;
                }
                bus_error(err, r, &e, what);
                return sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists") ? -EEXIST : -1;
        }
        const char *job;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                sd_bus_slot_unref(slot);
                return berth_error(err, -r, "%s: bad reply", what);
        }
        w.job = xstrdup(job);
        r = bus_run_until(bus, job_done, &w, 0, err);
        sd_bus_slot_unref(slot);
        free(w.job);
        if (r < 0) {
                free(w.result);
                return r;
        }
        *result = w.result;
        return 0;
}

/* ---- StartTransientUnit ----------------------------------------------------- */
static int append_exec(sd_bus_message *m, const char *prop, char **argv, bool ignore_failure)
{
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", prop);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", ignore_failure);
        for (int i = 0; i < 4 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_strv_prop(sd_bus_message *m, const char *prop, char **v)
{
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", prop);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, v);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_extra_fields(sd_bus_message *m, char **fields)
{
        int r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "LogExtraFields");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "aay");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "ay");
        for (size_t i = 0; fields && fields[i] && r >= 0; i++)
                r = sd_bus_message_append_array(m, 'y', fields[i], strlen(fields[i]));
        for (int i = 0; i < 3 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

int unit_start_transient(sd_bus *bus, const struct unit_spec *spec, berth_error_t *err)
{
        cleanup_bus_message sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
        if (r < 0)
                return berth_error(err, -r, "create StartTransientUnit message");
        r = sd_bus_message_append(m, "ss", spec->name, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", spec->description,
                                          "Type", "s", "notify", "NotifyAccess", "s",
                                          spec->notify_access ? spec->notify_access : "main", "KillMode", "s",
                                          spec->kill_mode ? spec->kill_mode : "mixed", "KillSignal", "i", spec->kill_signal ? spec->kill_signal : SIGTERM,
                                          "CollectMode", "s", "inactive-or-failed", "SendSIGHUP", "b", 0);
        /* Delegate: berth exec moves its process into the unit's cgroup
         * (AttachProcessesToUnit needs a delegated unit). */
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
        /* What `berth stats` reads back (MemoryCurrent, CPUUsageNSec,
         * TasksCurrent, IOReadBytes...), whatever the host's defaults.
         * IOReadBytes/IOWriteBytes come from the unified hierarchy's io.stat
         * only: on a hybrid or legacy host systemd reports none whatever the
         * unit asks, and IOAccounting= would only cost each start a blkio
         * cgroup (2 ms of a 14 ms `run --rm` here).  I/O limits bring the
         * controller in by themselves. */
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)", "CPUAccounting", "b", 1, "MemoryAccounting", "b", 1,
                                          "TasksAccounting", "b", 1);
        if (r >= 0 && cgroup_unified())
                r = sd_bus_message_append(m, "(sv)", "IOAccounting", "b", 1);
        if (r >= 0 && spec->timeout_stop_usec)
                r = sd_bus_message_append(m, "(sv)", "TimeoutStopUSec", "t", spec->timeout_stop_usec);
        if (r >= 0 && spec->syslog_identifier)
                r = sd_bus_message_append(m, "(sv)", "SyslogIdentifier", "s", spec->syslog_identifier);
        if (r >= 0)
                r = append_exec(m, "ExecStart", spec->exec_start, false);
        if (r >= 0 && spec->exec_stop_post)
                r = append_exec(m, "ExecStopPost", spec->exec_stop_post, true);
        if (r >= 0 && spec->environment)
                r = append_strv_prop(m, "Environment", spec->environment);
        if (r >= 0 && spec->binds_to)
                r = append_strv_prop(m, "BindsTo", spec->binds_to);
        if (r >= 0 && spec->binds_to)
                r = append_strv_prop(m, "After", spec->binds_to);
        if (r >= 0 && spec->log_extra_fields)
                r = append_extra_fields(m, spec->log_extra_fields);
        if (r >= 0 && spec->stdin_fd >= 0)
                r = sd_bus_message_append(m, "(sv)", "StandardInputFileDescriptor", "h", spec->stdin_fd);
        if (r >= 0 && spec->stdout_fd >= 0)
                r = sd_bus_message_append(m, "(sv)", "StandardOutputFileDescriptor", "h", spec->stdout_fd);
        else if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "StandardOutput", "s", "journal");
        if (r >= 0 && spec->stderr_fd >= 0)
                r = sd_bus_message_append(m, "(sv)", "StandardErrorFileDescriptor", "h", spec->stderr_fd);
        else if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "StandardError", "s", "journal");
        if (r >= 0 && spec->props)
                r = unit_props_append_bus(m, spec->props, err);
        for (size_t i = 0; r >= 0 && i < spec->n_rlimits; i++) {
                cleanup_free char *soft = xasprintf("%sSoft", spec->rlimits[i].property);
                r = sd_bus_message_append(m, "(sv)(sv)", spec->rlimits[i].property, "t", spec->rlimits[i].hard, soft,
                                          "t", spec->rlimits[i].soft);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return berth_error(err, -r, "build StartTransientUnit message");

        cleanup_free char *result = NULL;
        cleanup_free char *what = xasprintf("start unit %s", spec->name);
        r = call_and_wait_job(bus, m, what, &result, err);
        if (r < 0)
                return r;
        return streq(result, "done") ? 0 : 1;
}

/* ---- transient timers -------------------------------------------------------- */
static int append_timer_service(sd_bus_message *m, const struct unit_timer_spec *t, const char *name)
{
        int r = sd_bus_message_open_container(m, 'r', "sa(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", t->description, "Type", "s",
                                          "oneshot", "CollectMode", "s", "inactive-or-failed");
        if (r >= 0)
                r = append_exec(m, "ExecStart", t->exec_start, false);
        if (r >= 0 && t->syslog_identifier)
                r = sd_bus_message_append(m, "(sv)", "SyslogIdentifier", "s", t->syslog_identifier);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int unit_start_timer(sd_bus *bus, const struct unit_timer_spec *t, berth_error_t *err)
{
        cleanup_free char *timer = xasprintf("%s.timer", t->name);
        cleanup_free char *service = xasprintf("%s.service", t->name);
        cleanup_bus_message sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", timer);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", t->description, "AccuracyUSec", "t",
                                          t->accuracy_usec ? t->accuracy_usec : 1000000ULL, "RemainAfterElapse", "b",
                                          0);
        /* TimersMonotonic=: (base, usec) pairs, the bases named as in unit files */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "TimersMonotonic");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(st)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(st)");
        for (size_t i = 0; r >= 0 && i < t->n_on_active; i++)
                r = sd_bus_message_append(m, "(st)", "OnActiveSec", t->on_active_usec[i]);
        if (r >= 0 && t->on_unit_inactive_usec)
                r = sd_bus_message_append(m, "(st)", "OnUnitInactiveSec", t->on_unit_inactive_usec);
        for (int i = 0; i < 3 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        if (r >= 0 && t->part_of)
                r = sd_bus_message_append(m, "(sv)", "PartOf", "as", 1, t->part_of);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sa(sv))");
        if (r >= 0)
                r = append_timer_service(m, t, service);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return berth_error(err, -r, "build StartTransientUnit message for %s", timer);
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        r = sd_bus_call(bus, m, 0, &e, NULL);
        if (r >= 0)
                return 0;
        /* A timer of the same name that stopped a moment ago may not have
         * been collected yet: start that one again. */
        if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
                cleanup_bus_error sd_bus_error e2 = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StartUnit", &e2, NULL, "ss", timer,
                                       "fail");
                if (r >= 0)
                        return 0;
                cleanup_free char *what = xasprintf("start %s", timer);
                return bus_error(err, r, &e2, what);
        }
        cleanup_free char *what = xasprintf("start %s", timer);
        return bus_error(err, r, &e, what);
}

int unit_job_nowait(sd_bus *bus, const char *method, const char *unit, berth_error_t *err)
{
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, NULL, "ss", unit, "replace");
        if (r >= 0)
                return 0;
        if (streq(method, "StopUnit") && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                return 0;
        cleanup_free char *what = xasprintf("%s %s", method, unit);
        return bus_error(err, r, &e, what);
}

static int manager_job_call(sd_bus *bus, const char *method, const char *unit, berth_error_t *err)
{
        cleanup_bus_message sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return berth_error(err, -r, "create %s message", method);
        cleanup_free char *result = NULL;
        cleanup_free char *what = xasprintf("%s %s", method, unit);
        r = call_and_wait_job(bus, m, what, &result, err);
        if (r < 0)
                return r;
        if (!streq(result, "done"))
                return berth_error(err, 0, "%s: the job ended with result '%s': see 'journalctl -u %s'", what, result,
                                   unit);
        return 0;
}

int unit_start(sd_bus *bus, const char *unit, berth_error_t *err)
{
        return manager_job_call(bus, "StartUnit", unit, err);
}

int unit_restart(sd_bus *bus, const char *unit, berth_error_t *err)
{
        return manager_job_call(bus, "RestartUnit", unit, err);
}

int unit_stop(sd_bus *bus, const char *unit, berth_error_t *err)
{
        return manager_job_call(bus, "StopUnit", unit, err);
}

int unit_kill(sd_bus *bus, const char *unit, const char *who, int sig, berth_error_t *err)
{
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit", &e, NULL, "ssi", unit, who, sig);
        if (r < 0) {
                cleanup_free char *what = xasprintf("kill %s", unit);
                return bus_error(err, r, &e, what);
        }
        return 0;
}

static int property_u64(sd_bus *bus, const char *unit, const char *iface, const char *property, uint64_t *out,
                        berth_error_t *err)
{
        cleanup_free char *path = unit_path(unit);
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_trivial(bus, SD_DEST, path, iface, property, &e, 't', out);
        if (r < 0) {
                cleanup_free char *what = xasprintf("read %s of %s", property, unit);
                return bus_error(err, r, &e, what);
        }
        return 0;
}

int unit_service_u64(sd_bus *bus, const char *unit, const char *property, uint64_t *out, berth_error_t *err)
{
        return property_u64(bus, unit, "org.freedesktop.systemd1.Service", property, out, err);
}

int unit_u64(sd_bus *bus, const char *unit, const char *property, uint64_t *out, berth_error_t *err)
{
        return property_u64(bus, unit, SD_UNIT, property, out, err);
}

int unit_processes(sd_bus *bus, const char *unit, pid_t **pids, size_t *n, berth_error_t *err)
{
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        cleanup_bus_message sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnitProcesses", &e, &reply, "s", unit);
        if (r < 0) {
                cleanup_free char *what = xasprintf("list the processes of %s", unit);
                return bus_error(err, r, &e, what);
        }
        *pids = NULL;
        *n = 0;
        r = sd_bus_message_enter_container(reply, 'a', "(sus)");
        while (r > 0) {
                const char *cg, *cmd;
                uint32_t pid;
                r = sd_bus_message_read(reply, "(sus)", &cg, &pid, &cmd);
                if (r > 0) {
                        *pids = xrealloc(*pids, (*n + 1) * sizeof(**pids));
                        (*pids)[(*n)++] = (pid_t) pid;
                }
        }
        if (r < 0) {
                free(*pids);
                *pids = NULL;
                *n = 0;
                return berth_error(err, -r, "read the processes of %s", unit);
        }
        return 0;
}

int unit_freeze(sd_bus *bus, const char *unit, bool freeze, berth_error_t *err)
{
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *method = freeze ? "FreezeUnit" : "ThawUnit";
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, NULL, "s", unit);
        if (r >= 0)
                return 0;
        /* cgroup v1 (and hybrid) hosts have no systemd freezer */
        if (sd_bus_error_has_names(&e, SD_BUS_ERROR_NOT_SUPPORTED, SD_BUS_ERROR_UNKNOWN_METHOD))
                return -EOPNOTSUPP;
        cleanup_free char *what = xasprintf("%s %s", freeze ? "freeze" : "thaw", unit);
        return bus_error(err, r, &e, what);
}

int unit_active_state(sd_bus *bus, const char *unit, char **state, berth_error_t *err)
{
        cleanup_free char *path = unit_path(unit);
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_string(bus, SD_DEST, path, SD_UNIT, "ActiveState", &e, state);
        if (r < 0)
                return bus_error(err, r, &e, "query unit state");
        return 0;
}

struct inactive_wait {
        sd_bus *bus;
        const char *unit;
        bool dirty; /* a PropertiesChanged arrived: look again */
        bool done;
        int error;
        /* the Service interface's ExecMainPID, ExecMainCode (CLD_*, 0: not
         * exited), ExecMainStatus and Result, as its signals said */
        uint32_t main_pid;
        int main_code, main_status;
        bool have_status, oom;
};

/* ExecMainCode, ExecMainStatus and Result from a Service signal. */
static void service_props_changed(sd_bus_message *m, struct inactive_wait *w)
{
        if (sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}") < 0)
                return;
        while (sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv") > 0) {
                const char *key = NULL, *text = NULL;
                int v;
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return;
                uint32_t u;
                if (streq(key, "ExecMainPID") && sd_bus_message_read(m, "v", "u", &u) >= 0)
                        w->main_pid = u;
                else if (streq(key, "ExecMainCode") && sd_bus_message_read(m, "v", "i", &v) >= 0)
                        w->main_code = v;
                else if (streq(key, "ExecMainStatus") && sd_bus_message_read(m, "v", "i", &v) >= 0) {
                        w->main_status = v;
                        w->have_status = true;
                } else if (streq(key, "Result") && sd_bus_message_read(m, "v", "s", &text) >= 0)
                        w->oom = streq(text, "oom-kill");
                else if (sd_bus_message_skip(m, "v") < 0)
                        return;
                if (sd_bus_message_exit_container(m) < 0)
                        return;
        }
}

static bool inactive_done(void *userdata)
{
        struct inactive_wait *w = userdata;
        if (w->done)
                return true;
        if (!w->dirty)
                return false;
        w->dirty = false;
        cleanup_free char *st = NULL;
        if (unit_active_state(w->bus, w->unit, &st, NULL) < 0 || streq(st, "inactive") || streq(st, "failed"))
                w->done = true;
        return w->done;
}

/* systemd sends the unit's new ActiveState in the signal itself (it
 * flushes a pending change before UnitRemoved, too): read it there instead
 * of asking again, a round trip to a manager that is busy just then with
 * the unit's cgroup and garbage collection.  A Unit signal without it sends
 * us to ask; the Service interface's signals never carry it. */
static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct inactive_wait *w = userdata;
        const char *iface = NULL;
        if (sd_bus_message_read(m, "s", &iface) < 0)
                return 0;
        if (streq(iface, "org.freedesktop.systemd1.Service")) {
                service_props_changed(m, w);
                return 0;
        }
        if (!streq(iface, SD_UNIT))
                return 0;
        if (sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}") < 0)
                goto ask;
        for (;;) {
                const char *key = NULL, *state = NULL;
                int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
                if (r <= 0)
                        break;
                if (sd_bus_message_read(m, "s", &key) < 0)
                        goto ask;
                if (!streq(key, "ActiveState")) {
                        if (sd_bus_message_skip(m, "v") < 0)
                                goto ask;
                } else if (sd_bus_message_read(m, "v", "s", &state) < 0) {
                        goto ask;
                } else {
                        if (streq(state, "inactive") || streq(state, "failed"))
                                w->done = true;
                        return 0;
                }
                if (sd_bus_message_exit_container(m) < 0)
                        goto ask;
        }
ask:
        w->dirty = true;
        return 0;
}

int unit_wait_inactive(sd_bus *bus, const char *unit, uint64_t timeout_usec, berth_error_t *err)
{
        cleanup_free char *path = unit_path(unit);
        struct inactive_wait w = { .bus = bus, .unit = unit, .dirty = true };
        sd_bus_slot *slot = NULL;
        int r = sd_bus_match_signal(bus, &slot, NULL, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                    on_props_changed, &w);
        if (r < 0)
                return berth_error(err, -r, "watch unit %s", unit);
        r = bus_run_until(bus, inactive_done, &w, timeout_usec, err);
        sd_bus_slot_unref(slot);
        return r;
}

struct unit_watch {
        struct inactive_wait w;
        sd_bus_slot *slot;
        char *unit;
};

int unit_watch_new(sd_bus *bus, const char *unit, struct unit_watch **out, berth_error_t *err)
{
        struct unit_watch *uw = xcalloc(1, sizeof(*uw));
        uw->unit = xstrdup(unit);
        uw->w = (struct inactive_wait) { .bus = bus, .unit = uw->unit, .dirty = true };
        cleanup_free char *path = unit_path(unit);
        int r = sd_bus_match_signal(bus, &uw->slot, NULL, path, "org.freedesktop.DBus.Properties",
                                    "PropertiesChanged", on_props_changed, &uw->w);
        if (r < 0) {
                unit_watch_free(uw);
                return berth_error(err, -r, "watch unit %s", unit);
        }
        *out = uw;
        return 0;
}

bool unit_watch_inactive(struct unit_watch *uw)
{
        while (sd_bus_process(uw->w.bus, NULL) > 0)
                ;
        return inactive_done(&uw->w);
}

void unit_watch_reset(struct unit_watch *uw)
{
        /* an inactive state seen so far was the last run's (or the start's);
         * the exit seen so far may be this run's: its pid tells */
        uw->w.done = false;
        uw->w.dirty = true;
}

int unit_watch_exit(struct unit_watch *uw, pid_t pid, int *exit_code, bool *oom)
{
        struct inactive_wait *w = &uw->w;
        if (!w->have_status || w->main_code == 0 || (pid > 0 && w->main_pid != (uint32_t) pid)) {
                /* not in a signal: the unit itself, if still loaded */
                cleanup_free char *path = unit_path(uw->unit);
                if (sd_bus_get_property_trivial(w->bus, SD_DEST, path, "org.freedesktop.systemd1.Service",
                                                "ExecMainPID", NULL, 'u', &w->main_pid) < 0 ||
                    (pid > 0 && w->main_pid != (uint32_t) pid) ||
                    sd_bus_get_property_trivial(w->bus, SD_DEST, path, "org.freedesktop.systemd1.Service",
                                                "ExecMainCode", NULL, 'i', &w->main_code) < 0 ||
                    sd_bus_get_property_trivial(w->bus, SD_DEST, path, "org.freedesktop.systemd1.Service",
                                                "ExecMainStatus", NULL, 'i', &w->main_status) < 0 ||
                    w->main_code == 0)
                        return -ENODATA;
        }
        /* CLD_EXITED: the status; CLD_KILLED, CLD_DUMPED: the signal */
        *exit_code = w->main_code == CLD_EXITED ? w->main_status : 128 + w->main_status;
        *oom = w->oom;
        return 0;
}

void unit_watch_free(struct unit_watch *uw)
{
        if (!uw)
                return;
        sd_bus_slot_unref(uw->slot);
        free(uw->unit);
        free(uw);
}

void unit_reset_failed(sd_bus *bus, const char *unit)
{
        (void) sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s", unit);
}

int unit_daemon_reload(sd_bus *bus, berth_error_t *err)
{
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        cleanup_bus_message sd_bus_message *m = NULL, *reply = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "Reload");
        if (r < 0)
                return berth_error(err, -r, "create Reload message");
        /* systemd answers once the reload is done, which can take a while */
        r = sd_bus_call(bus, m, 120 * 1000000ULL, &e, &reply);
        if (r < 0)
                return bus_error(err, r, &e, "reload systemd's units");
        return 0;
}

int unit_attach_pid(sd_bus *bus, const char *unit, pid_t pid, berth_error_t *err)
{
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "AttachProcessesToUnit", &e, NULL, "ssau",
                                   unit, "", 1, (uint32_t) pid);
        if (r < 0)
                return bus_error(err, r, &e, "attach process to unit");
        return 0;
}

int unit_set_properties(sd_bus *bus, const char *unit, const struct unit_props *props, berth_error_t *err)
{
        cleanup_bus_message sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "SetUnitProperties");
        /* runtime: a container's unit is transient, gone when it stops; the
         * container's record is what the next start reads */
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", unit, 1);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return berth_error(err, -r, "create SetUnitProperties message");
        if (unit_props_append_bus(m, props, err) < 0)
                return -1;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return berth_error(err, -r, "create SetUnitProperties message");
        cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
        r = sd_bus_call(bus, m, 0, &e, NULL);
        if (r >= 0)
                return 0;
        if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                return -ENOENT;
        cleanup_free char *what = xasprintf("set the properties of %s", unit);
        return bus_error(err, r, &e, what);
}

/* The oom_kill counter of a "memory.events" (v2) or "memory.oom_control" (v1) text. */
static bool oom_count_positive(const char *text)
{
        const char *p = text;
        while (p && (p = strstr(p, "oom_kill ")) != NULL) {
                if (p == text || p[-1] == '\n')
                        return strtoull(p + strlen("oom_kill "), NULL, 10) > 0;
                p++;
        }
        return false;
}

bool unit_cgroup_oom_killed(void)
{
        const char *result = getenv("SERVICE_RESULT");
        if (result && streq(result, "oom-kill"))
                return true;
        cleanup_free char *cg = NULL;
        if (read_file("/proc/self/cgroup", &cg, NULL, NULL) < 0)
                return false;
        char *save = NULL;
        for (char *line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* a delegated unit runs its hooks in UNIT/.control: the unit is the parent */
                char *ctl = strstr(line, "/.control");
                if (ctl && !ctl[strlen("/.control")])
                        *ctl = '\0';
                cleanup_free char *path = NULL;
                if (startswith(line, "0::"))
                        path = xasprintf("/sys/fs/cgroup%s/memory.events", line + 3);
                else if (strstr(line, ":memory:"))
                        path = xasprintf("/sys/fs/cgroup/memory%s/memory.oom_control", strstr(line, ":memory:") + 8);
                cleanup_free char *text = NULL;
                if (path && read_file(path, &text, NULL, NULL) == 0 && oom_count_positive(text))
                        return true;
        }
        return false;
}

/* ---- unit properties onto a message (the mapping itself is limits.c's) ---------- */
static int append_one(sd_bus_message *m, const struct unit_prop *u)
{
        int r;
        switch (u->type) {
        case 't':
                return sd_bus_message_append(m, "(sv)", u->name, "t", u->u);
        case 'u':
                return sd_bus_message_append(m, "(sv)", u->name, "u", (uint32_t) u->u);
        case 'b':
                return sd_bus_message_append(m, "(sv)", u->name, "b", (int) !!u->u);
        case 's':
                return sd_bus_message_append(m, "(sv)", u->name, "s", u->s);
        case 'y':
                if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", u->name)) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
                    (r = sd_bus_message_append_array(m, 'y', u->bytes, u->nbytes)) < 0 ||
                    (r = sd_bus_message_close_container(m)) < 0)
                        return r;
                return sd_bus_message_close_container(m);
        case 'a':
                if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", u->name)) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a(st)")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "(st)")) < 0)
                        return r;
                for (size_t i = 0; i < u->nbps; i++)
                        if ((r = sd_bus_message_append(m, "(st)", u->bps[i].path, u->bps[i].bytes)) < 0)
                                return r;
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                        return r;
                return sd_bus_message_close_container(m);
        case 'd':
                if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
                    (r = sd_bus_message_append(m, "s", u->name)) < 0 ||
                    (r = sd_bus_message_open_container(m, 'v', "a(ss)")) < 0 ||
                    (r = sd_bus_message_open_container(m, 'a', "(ss)")) < 0)
                        return r;
                for (size_t i = 0; u->pairs && u->pairs[i] && u->pairs[i + 1]; i += 2)
                        if ((r = sd_bus_message_append(m, "(ss)", u->pairs[i], u->pairs[i + 1])) < 0)
                                return r;
                if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                        return r;
                return sd_bus_message_close_container(m);
        }
        return -EINVAL;
}

int unit_props_append_bus(sd_bus_message *m, const struct unit_props *p, berth_error_t *err)
{
        for (size_t i = 0; i < p->n; i++) {
                int r = append_one(m, &p->v[i]);
                if (r < 0)
                        return berth_error(err, -r, "append the unit property %s to the D-Bus message", p->v[i].name);
        }
        return 0;
}
