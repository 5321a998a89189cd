/* berth _unit-start / _unit-stop: ExecStart and ExecStopPost of the template
 * unit container@.service.  The container runs in that unit's own cgroup (no
 * second, transient unit): _unit-start makes the container from the
 * definition file and becomes its shim (clone, MAINPID handover, exit). */
#include "config.h"

#include <systemd/sd-daemon.h>

#include "berth/cli.h"
#include "berth/container-spec.h"
#include "berth/container.h"
#include "berth/definition.h"
#include "berth/image.h"
#include "berth/rootless.h"
#include "berth/runtime.h"
#include "berth/util.h"
#include "berth/volume.h"

/* The record of a previous start is replaced: a definition describes the
 * container, each start makes it afresh (as Quadlet's --replace). */
static int remove_previous(struct berth_cli *cli, const char *id, const char *name, berth_error_t *err)
{
        cleanup_container struct berth_container *old = NULL;
        berth_error_t e = NULL;
        if (container_lookup(&cli->store, name, &old, &e) < 0) {
                berth_error_free(&e);
                return 0;
        }
        if (!streq(old->id, id))
                return berth_error(err, 0,
                                   "the container name \"%s\" is in use by container %.12s, which is not this "
                                   "definition's: remove it first (berth rm -f %s)",
                                   name, old->id, name);
        if (container_is_running(old))
                return berth_error(err, 0, "container %s is still running", name);
        if (container_remove(&cli->store, old, err) < 0)
                return -1;
        volume_remove_anonymous(&cli->store, old->config); /* each start makes fresh ones */
        return 0;
}

/* While pulling: EXTEND_TIMEOUT_USEC= every few seconds, each granting 30 s
 * more than the time already taken. */
static int extend_start_timeout(long long done, long long total, void *userdata)
{
        static long long last;
        long long now = now_ns();
        if (now - last >= 5000000000LL) {
                last = now;
                (void) sd_notify(0, "EXTEND_TIMEOUT_USEC=30000000");
        }
        return 0;
}

int cmd__unit_start(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc != 2)
                return berth_error(err, 0, "usage: berth _unit-start NAME (the ExecStart of container@NAME.service)");
        const char *name = argv[1];
        /* an instance of a template has its configuration (limits, devices,
         * journal fields) only when the generator knew it */
        if (strchr(name, '@') && !getenv("BERTH_DEFINITION"))
                return berth_error(err, 0,
                                   "container@%s.service has no generated configuration: add the instance as a "
                                   "file %s.container (a link to the template) or DefaultInstance=, then run "
                                   "systemctl%s daemon-reload",
                                   name, name, rootless() ? " --user" : "");
        cleanup_free char *path = NULL;
        cleanup_definition struct definition *d = NULL;
        if (definition_find(name, &path, err) < 0 || definition_load(path, name, &d, err) < 0)
                return -1;
        /* a user's: berth's user namespace, or with Network=container:NAME
         * that container's (it owns the network namespace to share) */
        const char *netmode = NULL;
        for (size_t i = 0; d->run_args && d->run_args[i] && d->run_args[i + 1]; i++)
                if (streq(d->run_args[i], "--network"))
                        netmode = d->run_args[i + 1];
        if (runtime_enter_for_network(&cli->store, netmode, err) < 0)
                return berth_error_wrap(err, "%s", path);

        /* The image, as Pull= says.  Pull output goes to the unit's journal;
         * a long pull keeps pushing the start timeout out (systemd's
         * TimeoutStartSec= would otherwise kill a slow first start). */
        cleanup_image struct berth_image *img = NULL;
        struct container_progress progress = { .out = stderr, .tick = extend_start_timeout };
        if (container_ensure_image(&cli->store, d->image, d->pull, &progress, &img, err) < 0)
                return berth_error_wrap(err, "%s", path);

        cleanup_free char *id = definition_container_id(name);
        const char *cname = d->container_name ? d->container_name : name;
        if (remove_previous(cli, id, cname, err) < 0)
                return -1;

        struct container_spec spec;
        cleanup_container struct berth_container *c = NULL;
        int r = definition_to_spec(d, &spec, err);
        if (r >= 0 && (r = container_create_from_spec(&cli->store, &spec, &progress, &c, err)) < 0)
                berth_error_wrap(err, "%s", path);
        container_spec_clear(&spec);
        if (r < 0)
                return -1;
        return runtime_shim(&cli->store, c->id, false, false, err);
}

int cmd__unit_stop(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc != 2)
                return berth_error(err, 0, "usage: berth _unit-stop NAME (the ExecStopPost of container@NAME.service)");
        cleanup_free char *id = definition_container_id(argv[1]);
        cleanup_free char *p = store_path(&cli->store, "containers/%s", id);
        if (access(p, F_OK) < 0)
                return 0; /* never created (bad definition, missing image) */
        return runtime_cleanup(&cli->store, id, err);
}
