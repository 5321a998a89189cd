/* berth — containers: the record in ROOT/containers/ID (config.json is what
 * the user asked for, state.json what happened), names and IDs, and lookup.
 *
 * config.json mirrors the shape of `docker inspect` so inspect is a merge:
 *   { "Id", "Name", "Created", "Image" (sha256:...), "Path", "Args",
 *     "Config": { Hostname, User, Env, Cmd, Entrypoint, WorkingDir, Labels,
 *                 Tty, OpenStdin, StopSignal, StopTimeout, Image, ... },
 *     "HostConfig": { Binds, NetworkMode, AutoRemove, Privileged,
 *                 ReadonlyRootfs, CapAdd, CapDrop, SecurityOpt, Init,
 *                 RestartPolicy {Name, MaximumRetryCount}, Ulimits, Devices,
 *                 DeviceCgroupRules, PortBindings, Memory, NanoCpus... (the
 *                 limits, derived from Berth.Limits: container-update.h) },
 *     "Berth": { what only berth needs: "Unit": "berth-NAME.service",
 *                "Command" (the argv to exec), "ImageName", "LowerDir" (the
 *                image's layers), "Limits": {"memory": "512m"}, "Mounts",
 *                "Tmpfs", "NoNewPrivileges", "SeccompProfile": TEXT|null;
 *                definition containers add "Definition" and "Notify" } }
 * state.json: { Status, Pid, StartTime (clock ticks, to detect PID reuse),
 *               ExitCode, StartedAt, FinishedAt, Error, RestartCount, OOMKilled,
 *               NetworkSettings, PauseMethod (while paused) }
 */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/error.h"
#include "berth/store.h"

struct berth_container {
        char *id;      /* 64 hex */
        char *name;    /* without the leading '/' */
        char *dir;     /* ROOT/containers/ID */
        json_t *config;
        json_t *state;
};

void container_free(struct berth_container *c);
/* ROOT/containers/ID/cleaner: the client of an attached run --rm removes
 * the container instead of a stop hook (lifecycle.c).  *marked: there is
 * one; true while that client still runs. */
bool container_cleaner(struct berth_container *c, bool *marked);
static inline void container_freep(struct berth_container **p) { if (*p) container_free(*p); }
#define cleanup_container __attribute__((cleanup(container_freep)))

/* By exact name, full ID, or unique ID prefix.  "No such container: X"; an
 * unreadable record matching the ID (prefix) is an error, and so is a
 * name not found while some record is unreadable (it may be that one's). */
int container_lookup(struct berth_store *s, const char *ref, struct berth_container **out, berth_error_t *err);
int container_load(struct berth_store *s, const char *id, struct berth_container **out, berth_error_t *err);
/* Every container, newest first.  A record that cannot be read (a damaged
 * config.json or state.json) fails the whole list, "container record ID
 * unreadable: ...; run berth system check": a caller deciding from the list
 * (is this name free, is this volume or image used) must not decide without
 * it. */
int container_list(struct berth_store *s, struct berth_container ***out, size_t *n, berth_error_t *err);
void container_list_free(struct berth_container **v, size_t n);

/* A record under ROOT/containers that cannot be read. */
struct container_unreadable {
        char *id;    /* 64 hex: the directory's name */
        char *error; /* "container record ID unreadable: WHY" */
};
/* For listings that show what they can (ps, info, stats): the readable
 * containers in *out, newest first, the others in *bad. */
int container_list_readable(struct berth_store *s, struct berth_container ***out, size_t *n,
                            struct container_unreadable **bad, size_t *nbad, berth_error_t *err);
void container_unreadable_free(struct container_unreadable *bad, size_t n);

/* Create the record: allocates the ID, picks a name when name is NULL, checks
 * uniqueness under the store lock, writes config.json and state.json
 * (Status "created") and the upper/work dirs.  config is completed in place
 * (Id, Name, Created).  A config that carries "Id" (64 hex) and/or
 * "Berth.Unit" keeps them: definition containers have a stable ID and run in
 * container@NAME.service. */
int container_create(struct berth_store *s, json_t *config, const char *name, struct berth_container **out,
                     berth_error_t *err);
/* Remove the record and its files (the caller made sure it is not running). */
/* An event (event.h) of type container about c: Docker's attributes image=
 * and name=, the container's labels, and extra ("key=value", NULL-ended, may
 * be NULL).  create, destroy and rename are emitted here; start and die by
 * the unit's hooks (runtime.c); the rest by the container layer. */
void container_event(struct berth_container *c, const char *action, char *const *extra);
/* exec_create and exec_start as Docker names them ("exec_start: sh -c ...")
 * with a new exec ID (id_out, 64 hex) for the exec_die that follows. */
void container_exec_event(struct berth_container *c, char *const *argv, char id_out[static 65]);
int container_remove(struct berth_store *s, struct berth_container *c, berth_error_t *err);

/* `rename`: a new unique, valid name (config.json Name).  A stopped
 * container's unit becomes berth-NEW.service; a running one keeps its unit
 * (and its journal fields) until it stops.  Definition containers are named
 * by their definition and refused. */
int container_rename(struct berth_store *s, struct berth_container *c, const char *name, berth_error_t *err);

/* Before a start: a container renamed while it ran gets the unit of its
 * new name (berth-NAME.service). */
int container_sync_unit_name(struct berth_container *c, berth_error_t *err);

/* Replace state.json atomically (under the container's lock). */
int container_save_state(struct berth_container *c, berth_error_t *err);
/* The same for config.json (update). */
int container_save_config(struct berth_container *c, berth_error_t *err);
/* Take ROOT/containers/ID/lock. Returns the fd. */
int container_lock(struct berth_container *c, berth_error_t *err);

/* Is the container's process alive?  Reconciles a stale "running" state (a
 * process that died without the stop hook running) to "exited". */
bool container_is_running(struct berth_container *c);
const char *container_status(struct berth_container *c);
/* A container with a health check (Config.Healthcheck, not NONE): its
 * health.json's Status ("starting" before the first check); NULL without
 * one.  Static strings. */
const char *container_health_status(struct berth_container *c);
/* "Up 5 minutes (healthy)", "Exited (0) 2 minutes ago", "Created" as docker ps. */
char *container_status_text(struct berth_container *c);
const char *container_unit(struct berth_container *c);
/* Short (12) ID */
char *container_short_id(const char *id);
/* Valid Docker container name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool container_name_valid(const char *name);

#endif
