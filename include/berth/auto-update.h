/* berth — auto-update, as Podman's: containers labelled
 * io.containers.autoupdate=registry|local (a definition's AutoUpdate=) are
 * moved to a newer image and their unit restarted.
 *
 * For each running container with the label:
 *   registry: pull Config.Image (the reference the container was made
 *             from); a new image ID means an update;
 *   local:    the image the reference names in the store now is not the
 *             container's.
 * An update restarts the container's unit, container@NAME.service, which
 * makes the container afresh from the definition and so from the new image
 * (a `berth run` container cannot be made again: it is reported as failed).
 * When the restart job does not end "done" — the container did not start,
 * or with Notify=healthy did not become healthy within TimeoutStartSec= —
 * and rollback is on, the reference is tagged back to the previous image
 * and the unit restarted again ("rolled back").  A dry run pulls nothing:
 * registry asks the registry for the manifest digest only. */
#ifndef BERTH_AUTO_UPDATE_H
#define BERTH_AUTO_UPDATE_H

#include <stdbool.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "berth/error.h"
#include "berth/store.h"

#define AUTO_UPDATE_LABEL "io.containers.autoupdate"

struct auto_update_opts {
        bool dry_run;
        bool rollback;  /* default true */
        FILE *progress; /* pull output; NULL: none */
};

struct auto_update_result {
        char *unit;
        char *container_id; /* 64 hex */
        char *container_name;
        char *image;        /* the reference */
        char *policy;       /* registry, local */
        const char *updated; /* "true", "false", "pending", "failed", "rolled back" */
        char *error;        /* why it failed, or NULL */
};

/* Every labelled running container, oldest first; errors of one container
 * are in its result, the call fails only when the containers cannot be
 * listed. */
int auto_update(struct berth_store *s, sd_bus *bus, const struct auto_update_opts *o,
                struct auto_update_result **out, size_t *n, berth_error_t *err);
void auto_update_results_free(struct auto_update_result *v, size_t n);

#endif
