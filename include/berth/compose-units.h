/* berth — a compose project as definition files (berth compose up): one
 * PROJECT-SERVICE-1.container per service, PROJECT_NAME.volume and
 * PROJECT_NAME.network for the project's own volumes and networks, and the
 * target berth-compose-PROJECT.target that wants every service's unit.
 * depends_on becomes Requires=/After= (service_healthy: the dependency gets
 * Notify=healthy; service_completed_successfully: Type=oneshot), restart
 * becomes Restart=.  Each container carries the label
 * com.docker.compose.config-hash, the hash of its file, so that a re-up
 * recreates only what changed.  A compose key the definition
 * model cannot express is an error naming it (nothing is dropped). */
#ifndef BERTH_COMPOSE_UNITS_H
#define BERTH_COMPOSE_UNITS_H

#include <stddef.h>

#include "berth/compose.h"
#include "berth/error.h"

struct compose_unit_file {
        char *name; /* "proj-web-1.container", "proj_data.volume", "berth-compose-proj.target" */
        char *text;
};

struct compose_units {
        struct compose_unit_file *files; /* the definitions, then the target last */
        size_t n_files;
        char **units;      /* the services' units: "container@proj-web-1.service" */
        char **containers; /* their container names */
        char **images;     /* the image of each (same order) */
        char **hashes;     /* the com.docker.compose.config-hash of each (same order) */
        char **run_once;   /* the units that run to completion (service_completed_successfully) */
        char **volumes;    /* names of the volumes the project's files create */
        char **networks;   /* likewise networks */
        char *target;      /* "berth-compose-proj.target" */
};

/* The definition files for the services named (NULL: all), with the services
 * they depend on.  A bare "KEY" of environment: takes its value from the
 * project's environment (p->env), or is left out when that has none. */
int compose_units_make(const struct compose_project *p, char *const *services, struct compose_units **out,
                       berth_error_t *err);
/* The target gets [Install] WantedBy= the layout's target (up --enable,
 * generate). */
void compose_units_set_install(struct compose_units *u);
/* Where compose puts a project's files, for this boot only (enabled false)
 * or for every boot: root's
 *   /run/berth/containers, /run/systemd/system, /run/berth/compose
 *   /etc/berth/containers, /etc/systemd/system, /etc/berth/compose
 * and a user's, on the user generator's search path and the user
 * manager's unit path
 *   $XDG_RUNTIME_DIR/berth/containers, $XDG_RUNTIME_DIR/systemd/user,
 *   $XDG_RUNTIME_DIR/berth/compose
 *   ~/.config/berth/containers, ~/.config/systemd/user,
 *   ~/.config/berth/compose
 * with the target an enabled project is wanted by (multi-user.target,
 * default.target). */
struct compose_layout {
        char *definitions, *units, *manifests;
        const char *wanted_by;
};
const struct compose_layout *compose_layout(bool enabled);
void compose_units_free(struct compose_units *u);
static inline void compose_units_freep(struct compose_units **u) { if (*u) compose_units_free(*u); }
#define cleanup_compose_units __attribute__((cleanup(compose_units_freep)))

/* The config hash of a definition file's text: sha256, hex. */
char *compose_config_hash(const char *text);

/* "berth-compose-PROJECT.target" */
char *compose_target_name(const char *project);

#endif
