/* berth — compose files (the compose specification's common subset): the
 * files found or named, interpolated from the environment and .env, merged
 * by the spec's rules, checked and turned into a model of the project, with
 * the names Docker Compose v2 gives what it makes (PROJECT-SERVICE-1,
 * PROJECT_default, PROJECT_VOLUME).  `berth compose config` prints the
 * model in Docker Compose's canonical shape.
 *
 * Everything berth does not support is an error naming the key and
 * FILE:LINE, never ignored.  Durations are in nanoseconds, sizes in bytes;
 * -1 (or NULL) means "not set". */
#ifndef BERTH_COMPOSE_H
#define BERTH_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "berth/error.h"

struct compose_build {
        char *context;    /* absolute */
        char *dockerfile; /* relative to the context, default "Dockerfile" */
        char **args;      /* "K=V", or "K" for a value taken from the environment */
        char *target;
};

struct compose_port {
        char *host_ip;
        unsigned target;
        char *published; /* "8080", "8000-8010", or NULL for a random one */
        char *protocol;  /* "tcp", "udp" */
        char *mode;      /* "ingress", "host" */
};

struct compose_mount {
        char *type;   /* "volume", "bind", "tmpfs" */
        char *source; /* volume key (not its name), absolute host path, or NULL */
        char *target;
        bool read_only;
        bool create_host_path; /* bind: the short syntax makes the host path */
        char *selinux;         /* bind: "z", "Z" or NULL */
        bool nocopy;           /* volume */
        int64_t tmpfs_size;    /* tmpfs: bytes, -1 */
};

struct compose_service_net {
        char *name; /* the network's key */
        char **aliases;
        char *ipv4_address;
        bool is_null; /* written without options */
};

struct compose_dep {
        char *service;
        char *condition; /* service_started, service_healthy, service_completed_successfully */
        bool required, restart;
};

struct compose_healthcheck {
        char **test; /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"] */
        long long interval, timeout, start_period, start_interval;
        long long retries;
        bool disable;
};

struct compose_resources {
        int64_t memory; /* bytes */
        double cpus;    /* < 0: not set */
        int64_t pids;
};

struct compose_ulimit {
        char *name;
        long long soft, hard;
        bool single; /* written as one number */
};

struct compose_env_file {
        char *path; /* absolute */
        bool required;
};

struct compose_secret_ref {
        char *source, *target;
};

struct compose_service {
        char *name;
        char *container_name;
        char *image;
        struct compose_build *build;
        char **command, **entrypoint; /* NULL: the image's */
        char **environment;           /* "K=V", or "K" for null */
        struct compose_env_file *env_files;
        size_t n_env_files;
        struct compose_port *ports;
        size_t n_ports;
        char **expose;
        struct compose_mount *volumes;
        size_t n_volumes;
        struct compose_service_net *networks;
        size_t n_networks;
        char *network_mode;
        struct compose_dep *depends_on;
        size_t n_depends_on;
        char *restart;
        struct compose_healthcheck *healthcheck;
        struct compose_resources limits, reservations; /* deploy.resources */
        bool has_deploy;
        int64_t mem_limit, mem_reservation, pids_limit;
        double cpus;
        char *user, *working_dir, *hostname;
        char **labels; /* "K=V" */
        char **cap_add, **cap_drop, **security_opt, **profiles, **dns, **extra_hosts;
        int privileged, read_only, init, tty, stdin_open; /* -1: not set */
        struct compose_ulimit *ulimits;
        size_t n_ulimits;
        char *stop_signal;
        long long stop_grace_period;
        struct compose_secret_ref *secrets;
        size_t n_secrets;
        char *pull_policy;
};

struct compose_volume {
        char *key, *name;
        bool external;
        char *driver;
        char **driver_opts, **labels; /* "K=V" */
};

struct compose_network {
        char *key, *name;
        bool external, internal;
        char *driver;
        char **labels;
};

struct compose_secret {
        char *key, *name;
        char *file;        /* absolute */
        char *environment; /* the variable holding it */
        bool external;
};

struct compose_project {
        char *name;
        char *dir;    /* the project directory, absolute */
        char **files; /* as given or found */
        char **env;   /* the variables interpolation used */
        struct compose_service *services; /* the enabled ones, by name */
        size_t n_services;
        struct compose_volume *volumes;
        size_t n_volumes;
        struct compose_network *networks;
        size_t n_networks;
        struct compose_secret *secrets;
        size_t n_secrets;
        bool skip_env_files; /* from the options */
};

struct compose_options {
        char **files;            /* -f, in order ("-" is stdin); NULL: look in workdir */
        const char *project_name; /* -p */
        const char *env_file;     /* --env-file (default PROJECT_DIR/.env) */
        char **profiles;          /* --profile ("*": all) */
        const char *workdir;      /* NULL: the current directory */
        char **environ;           /* NULL: the process's */
        bool skip_env_files;      /* the fuzzer: env_file entries are not read */
};

int compose_load(const struct compose_options *o, struct compose_project **out, berth_error_t *err);
void compose_project_free(struct compose_project *p);
/* The project's name: -p when given (no file needed), else the files' (as
 * compose_load() finds it). */
int compose_project_name(const struct compose_options *o, char **out, berth_error_t *err);
static inline void compose_project_freep(struct compose_project **p) { compose_project_free(*p); }
#define cleanup_compose_project __attribute__((cleanup(compose_project_freep)))

/* The model in Docker Compose's canonical shape, as YAML or JSON text. */
char *compose_config_yaml(const struct compose_project *p, berth_error_t *err);
char *compose_config_json(const struct compose_project *p);

/* Docker Compose v2's names: container_name or PROJECT-SERVICE-N. */
char *compose_container_name(const struct compose_project *p, const struct compose_service *s, unsigned n);
/* The image a service runs: image:, else the one its build makes,
 * PROJECT-SERVICE as Docker Compose v2 names it. */
char *compose_service_image(const struct compose_project *p, const struct compose_service *s);
/* What `compose logs` puts before a container's lines: SERVICE-N, or the
 * container_name. */
char *compose_log_prefix_label(const struct compose_service *s, unsigned n);
const struct compose_service *compose_find_service(const struct compose_project *p, const char *name);
/* The services named (all when names is NULL or empty), in the project's
 * order, NULL-terminated (free the array only); an unknown name is the
 * error "no such service: NAME". */
int compose_select_services(const struct compose_project *p, char *const *names,
                            const struct compose_service ***out, berth_error_t *err);
/* compose_load() then compose_select_services(): what the commands that
 * take [SERVICE...] start with. */
int compose_load_services(const struct compose_options *o, char *const *names, struct compose_project **p,
                          const struct compose_service ***v, berth_error_t *err);
static inline void compose_services_freep(const struct compose_service ***v) { free(*v); }
#define cleanup_compose_services __attribute__((cleanup(compose_services_freep)))

/* `compose logs` prefixes for these labels (compose_log_prefix_label()):
 * each padded to the widest plus one, then "| ", as Docker Compose v2
 * aligns them ("web-1  | ", "db-1   | "). */
char **compose_log_prefixes(char *const *labels);
/* --tail: "all" (-1) or a count >= 0; -EINVAL otherwise. */
int compose_parse_tail(const char *s, long *tail);
/* A service's `run` flags for a one-off container (`compose run`): all of
 * args but the published ports (-p X, --publish X, -P) and the network
 * aliases (as Docker Compose without --use-aliases), appended to *out. */
void compose_run_args(char *const *args, char ***out);
/* A service's limits as they apply: deploy.resources, else mem_limit,
 * cpus, pids_limit (-1: not set); *reservation: the memory reservation. */
void compose_service_limits(const struct compose_service *s, struct compose_resources *lim, int64_t *reservation);
/* The `run` flags of what a service's definition keeps in its unit rather
 * than in its [Container] options: --memory, --memory-reservation,
 * --pids-limit, --cpus, --ulimit, --stop-signal, --stop-timeout (seconds,
 * rounded up), appended to *out. */
void compose_run_limit_args(const struct compose_service *s, char ***out);

#endif
