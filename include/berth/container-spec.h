/* berth — what a new container is asked to be, and the call that makes it.
 *
 * A struct container_spec holds everything `berth run`/`create`, a
 * definition file's [Container] keys, a build's RUN step (and later compose)
 * can ask for.  Its vocabulary is Docker's `run` options: each option has one
 * row in container_spec_options[] and one setter, so a value means the same
 * wherever it comes from.  The CLI turns flags into a spec (getopt over the
 * table), the definition's keys name the same options, and the builder fills
 * the fields directly.
 *
 *     struct container_spec spec;
 *     container_spec_init(&spec);
 *     container_spec_set(&spec, "memory", "512m", NULL, err);  // checked now
 *     spec.image = xstrdup("busybox");
 *     container_spec_finish(&spec, err);                       // cross-checks
 *     container_create_from_spec(store, &spec, &progress, &c, err);
 *
 * container_create_from_spec() reads the image (pulling it as spec->pull
 * says), turns the spec into the record's config.json (container.h: the
 * shape of `docker inspect`), prepares the network and volumes and writes the
 * record.  Nothing is made when a value is bad. */
#ifndef BERTH_CONTAINER_SPEC_H
#define BERTH_CONTAINER_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "berth/error.h"
#include "berth/registry.h"
#include "berth/store.h"

struct container_spec {
        char *image;   /* reference or ID (required) */
        char **command; /* after the image: replaces CMD; NULL: the image's */
        char *name;    /* NULL: a generated adjective_name */
        char *id;      /* preset 64-hex ID (definition containers), or NULL */

        /* --entrypoint: NULL the image's, "" none (and CMD reset too) */
        char *entrypoint;
        char *network, *restart, *workdir, *user, *hostname, *stop_signal;
        char *pull;             /* missing (NULL), always, never, newer */
        long long stop_timeout; /* seconds; -1: 10 */
        bool detach, interactive, tty, rm, privileged, read_only, init, publish_all;

        char **env;         /* "K=V", or "K": taken from the caller's environment */
        char **env_files;   /* absolute; read at create, before env */
        char **labels;      /* "K=V" or "K" */
        char **label_files; /* absolute; read by container_spec_finish, before labels */
        char **volumes;     /* -v specs, host sources absolute */
        char **mounts;      /* --mount specs, bind sources absolute */
        char **tmpfs;       /* absolute container paths */
        char **publish, **expose;
        char **cap_add, **cap_drop;
        char **network_aliases; /* --network-alias: more names on a user network */
        char **networks;        /* each --network as given (NAME or name=NAME,alias=...) */
        char **security_opts; /* seccomp= with an absolute profile path */
        char **ulimits;       /* "NAME=SOFT[:HARD]", checked */
        char **device_rules;  /* --device-cgroup-rule, checked */
        char **secrets;       /* --secret NAME[,target=...], syntax checked (secret.h) */
        json_t *devices;      /* HostConfig.Devices (devices.h), checked */
        json_t *limits;       /* limit flag (limits.h) -> value text; "restart" too */
        /* --health-*: what overrides the image's HEALTHCHECK, in Docker's
         * Config.Healthcheck shape ({"Test": ["CMD-SHELL", CMD], "Interval":
         * NS, ...}, each checked); --no-healthcheck turns it off */
        json_t *health;
        bool no_healthcheck;
        char *health_on_failure; /* none (NULL), kill, restart, stop */
        bool notify_healthy;     /* --sdnotify=healthy, Notify=healthy */

        /* User namespace (idmap.h): --userns (NULL: none asked, then
         * userns-remap of /etc/berth/config.json decides), --uidmap/--gidmap
         * ranges "C:H:S" (checked), --subuidname/--subgidname */
        char *userns;
        char **uidmaps, **gidmaps;
        char *subuidname, *subgidname;

        /* Definition containers: their unit and file (config.json Berth.*) */
        char *unit;       /* "container@NAME.service"; NULL: berth-NAME.service */
        char *definition; /* the .container file */
        bool notify;      /* Notify=yes */
};

void container_spec_init(struct container_spec *s);
void container_spec_clear(struct container_spec *s);

/* One row per option: Docker's long name, its short letter (0: none) and
 * whether it takes a value (getopt's has_arg).  The limit flags of limits.h
 * are options too, though not rows here (limit_by_flag). */
struct container_spec_option {
        const char *name;
        char short_name;
        bool has_arg;
};
extern const struct container_spec_option container_spec_options[];
extern const size_t container_spec_options_count;

/* Set one option by its long name ("volume", "env", "memory"), with the
 * value (NULL for a switch).  Relative host paths (-v ./d:/d, --env-file,
 * --label-file, --mount source=, seccomp=FILE) are made absolute against
 * basedir (NULL: the working directory) now, before anything changes
 * directory.  Values that can be checked alone are checked now: one line,
 * nothing set.  Unknown names are an internal error. */
int container_spec_set(struct container_spec *s, const char *option, const char *value, const char *basedir,
                       berth_error_t *err);

/* Options in argument-vector form, as a definition's key table emits them:
 * {"-e", "A=b", "--read-only", "--security-opt", "no-new-privileges"}:
 * "-x" or "--name", followed by its value when the option takes one. */
int container_spec_set_args(struct container_spec *s, char *const *args, const char *basedir,
                            berth_error_t *err);

/* After the options: label files read (their labels first, as Docker), every
 * limit checked together (limits_to_props), --rm with a --restart policy
 * refused. */
int container_spec_finish(struct container_spec *s, berth_error_t *err);

/* Where pull output goes while a create pulls a missing image: a stream
 * (stderr for run/create, the journal for units) and an optional tick. */
struct container_progress {
        FILE *out;
        registry_tick_fn tick;
        void *userdata;
};

/* The image a container is created from, as the pull policy says
 * ("missing" (NULL: the default) pulls it when it is not in the store,
 * after "Unable to find image 'X' locally"; "always" pulls every time;
 * "newer" pulls but keeps a local image when the registry cannot be asked;
 * "never" only looks in the store). */
struct berth_image;
int container_ensure_image(struct berth_store *s, const char *image, const char *policy,
                           const struct container_progress *progress, struct berth_image **out, berth_error_t *err);

/* Make the container: the image (container_ensure_image), config.json from
 * the image and the spec, its network (a taken host port refuses),
 * volumes (named and anonymous ones made now, removed again on failure) and
 * the record (container_create: a taken name refuses). */
struct berth_container;
int container_create_from_spec(struct berth_store *s, const struct container_spec *spec,
                               const struct container_progress *progress, struct berth_container **out,
                               berth_error_t *err);

#endif
