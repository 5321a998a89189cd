/* berth _shim / _cleanup: ExecStart and ExecStopPost of a container's
 * transient unit.  Linked into berth and into the small berth-runtime
 * (libexec), which the units run: it loads no libarchive or libcrypto, so
 * each of the two hooks starts in a third of the time. */
#include "config.h"

#include "berth/cli.h"
#include "berth/health-timer.h"
#include "berth/health.h"
#include "berth/runtime.h"
#include "berth/unit.h"
#include "berth/util.h"

int cmd__shim(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        bool attached = false, tty = false;
        int i = 1;
        for (; i < argc && startswith(argv[i], "--"); i++) {
                if (streq(argv[i], "--attached"))
                        attached = true;
                else if (streq(argv[i], "--tty"))
                        tty = true;
                else
                        break;
        }
        if (i + 1 != argc)
                return berth_error(err, 0, "usage: berth _shim [--attached] [--tty] ID (run by the container's unit)");
        int r = runtime_shim_enter(&cli->store, argv[i], err);
        if (r == 0)
                r = runtime_shim(&cli->store, argv[i], attached, tty, err);
        if (r < 0 && *err) {
                /* for the client, which reads why its container did not start */
                cleanup_free char *p = store_run_path(&cli->store, "exits/%s.error", argv[i]);
                if (access(p, F_OK) < 0) {
                        cleanup_free char *text = xasprintf("%d %s", (*err)->exit_code, (*err)->msg);
                        (void) write_file_atomic(p, text, strlen(text), 0600, NULL);
                }
        }
        return r;
}

int cmd__cleanup(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc != 2)
                return berth_error(err, 0, "usage: berth _cleanup ID (run by the container's unit)");
        return runtime_cleanup(&cli->store, argv[1], err);
}

/* ExecStart of a container's health-check timer service
 * (berth-health:ID12.service, health-timer.h).  A container that is gone or
 * no longer running stops the timer that found it: no check outlives its
 * container. */
int cmd__healthcheck(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc != 2)
                return berth_error(err, 0, "usage: berth _healthcheck ID (run by the container's health timer)");
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        cleanup_container struct berth_container *c = NULL;
        berth_error_t e = NULL;
        if (container_load(&cli->store, argv[1], &c, &e) < 0 || !container_is_running(c)) {
                berth_error_free(&e);
                cleanup_free char *name = health_timer_name(argv[1]);
                cleanup_free char *timer = xasprintf("%s.timer", name);
                return unit_job_nowait(bus, "StopUnit", timer, err);
        }
        if (!health_due(c))
                return 0;
        const char *status;
        if (health_run(&cli->store, bus, c, &status, &e) < 0) {
                /* paused: no check now, the next tick tries again */
                berth_warn_error(&e, "health check of %s", c->name);
                return 0;
        }
        return 0;
}
