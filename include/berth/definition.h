/* berth — definition files: /etc/berth/containers/NAME.container, and the
 * .volume, .network, .image and .build files containers can name, each
 * becoming a oneshot unit berth-KIND@NAME.service that makes it; drop-ins
 * (NAME.container.d/, container.d/) and templates (web@.container).
 *
 * systemd INI syntax (comments, line continuation, repeated keys, an empty
 * assignment resets a list, %-specifiers), sections [Unit], [Container],
 * [Service], [Install].  [Container] keys are Podman Quadlet's names where
 * Quadlet has one plus the limit keys of limits.h; each key is one row of a
 * table (key -> how it becomes `berth run` arguments or unit properties).
 * [Unit]/[Service]/[Install] lines pass through to the unit and win over the
 * convenience keys.
 *
 * Used by berth-generator (drop-ins for container@NAME.service), by
 * `berth generate --dry-run`, and by the unit's own ExecStart
 * (`berth _unit-start NAME`), which turns the definition into a container.
 *
 * In src/definition/: definition-syntax.c (the INI syntax), definition.c (the
 * [Container] keys), definition-resource.c (the other kinds' keys and units),
 * definition-path.c (the search path, drop-ins, templates),
 * definition-dropin.c (the drop-in and links). */
#ifndef BERTH_DEFINITION_H
#define BERTH_DEFINITION_H

#include <stdbool.h>
#include <stdio.h>

#include "berth/error.h"
#include "berth/limits.h"

/* Search path, earlier wins (like unit search paths).  $BERTH_DEFINITION_PATH
 * (colon-separated) replaces it, for tests. */
#define BERTH_DEFINITION_DIRS "/etc/berth/containers:/run/berth/containers:/usr/lib/berth/containers"
/* A user's (rootless()) search path instead, as Quadlet's rootless one:
 * $XDG_CONFIG_HOME/berth/containers (~/.config/berth/containers),
 * $XDG_RUNTIME_DIR/berth/containers, then what root keeps for users in
 * BERTH_DEFINITION_SYSTEM_DIR: users/UID/ for that user, users/ for all.
 * Root's search path reads no subdirectory, so neither sees the other's. */
#define BERTH_DEFINITION_SYSTEM_DIR "/etc/berth/containers"

/* What a definition file describes, by its suffix. */
enum definition_kind {
        DEFINITION_CONTAINER, /* NAME.container: container@NAME.service */
        DEFINITION_VOLUME,    /* NAME.volume: berth-volume@NAME.service, a oneshot that creates it */
        DEFINITION_NETWORK,   /* NAME.network: berth-network@NAME.service, likewise */
        DEFINITION_IMAGE,     /* NAME.image: berth-image@NAME.service, a oneshot that pulls it */
        DEFINITION_BUILD,     /* NAME.build: berth-build@NAME.service, a oneshot that builds it */
        _DEFINITION_KIND_MAX,
};
/* ".container", ".volume", ".network", ".image", ".build" */
extern const char *const definition_suffixes[_DEFINITION_KIND_MAX];
/* The kind of a file (or NAME.SUFFIX) by its suffix; -1 for none. */
int definition_kind_of_file(const char *path);

struct definition {
        enum definition_kind kind;
        char *name;          /* NAME of NAME.container (the template instance);
                                "web@a" for instance a of web@.container */
        char *instance;      /* "a" of "web@a" (what %i is), NULL for a plain definition */
        char *path;          /* the file it came from */
        char **dropins;      /* the drop-ins merged into it (NAME.container.d/ *.conf ...), in order */
        char *image;         /* Image= (required for a container) */
        char *container_name;/* ContainerName=, default NAME */
        char **command;      /* Exec=, split like systemd's ExecStart (quotes) */
        char **run_args;     /* container spec options (container-spec.h) from
                                the other [Container] keys, as an argument vector:
                                {"-e", "A=b", "-v", "/a:/b", "--read-only"} */
        char *pull;          /* Pull=: "missing" (default), "always", "never", "newer" */
        bool notify;         /* Notify=yes: the container sends READY=1 itself */
        bool publishes;      /* has PublishPort=: order after network-online.target */
        bool no_network;     /* Network=none: nothing to wait for */
        bool bridge_network; /* Network= names a bridge network (a user's are
                                in berth-netns.service's namespace) */
        bool user;           /* loaded by a user's berth: its units are the user's
                                manager's (the user's store, the user template,
                                DEFINITION_USER_WAIT_ONLINE for the network) */
        char *stop_signal;   /* the image's STOPSIGNAL (KillSignal=), when known */
        bool io_accounting;  /* IOAccounting=yes: the host's hierarchy is the unified
                                one, the only one systemd reads block I/O from
                                (cgroup_unified()); set by definitions_generate_all() */
        long long stop_timeout; /* StopTimeout= in seconds (also TimeoutStopSec=), -1: not set */
        struct limits limits;/* the limit keys (Memory=, CPUs=, ...) */
        char **devices;      /* AddDevice=: HOST[:CONTAINER][:PERMS] ("-" prefix dropped) */
        char **ulimit_lines; /* [Service] lines of Ulimit=: "LimitNOFILE=1024:2048" */
        char **unit_lines;   /* "Key=Value" of [Unit], in file order, specifiers expanded */
        char **service_lines;/* of [Service] */
        char **install_lines;/* of [Install] (WantedBy=, RequiredBy=, UpheldBy=) */
        char *default_instance; /* [Install] DefaultInstance= of a template */
        char **requires;     /* units of the .volume/.network/.image/.build definitions
                                a container names (Volume=NAME.volume:...,
                                Network=NAME.network, Image=NAME.image|NAME.build):
                                Requires= and After= */
        /* .volume, .network, .image, .build */
        char *resource_name; /* VolumeName=/NetworkName= (default NAME), the image's
                                Image=/ImageTag=, the build's first ImageTag= */
        char **create_args;  /* `berth` arguments that create it, idempotently:
                                {"volume", "create", "--label", "a=b", "NAME"} */
        /* [Unit]/[Service] lines as written, before specifier expansion: what
         * the drop-in carries, since systemd expands specifiers itself (with
         * the same values: the unit is container@NAME.service). */
        char **unit_lines_raw;
        char **service_lines_raw;
};

void definition_free(struct definition *d);
static inline void definition_freep(struct definition **d) { if (*d) definition_free(*d); }
#define cleanup_definition __attribute__((cleanup(definition_freep)))

/* Find NAME.container on the search path; for an instance "web@a", web@a.container
 * or else the template web@.container. */
int definition_find(const char *name, char **path_out, berth_error_t *err);
/* The same for any kind: NAME.volume, NAME.network. */
int definition_find_kind(const char *name, enum definition_kind kind, char **path_out, berth_error_t *err);
/* Parse a file (its kind from its suffix) and its drop-ins: on the search path,
 * the *.conf of KIND.d/ (container.d/), of the template's web@.container.d/ and
 * of NAME.container.d/, a file name in a more specific directory (then an
 * earlier search directory) hiding the same name elsewhere, applied sorted by
 * file name after the file itself.  Any unknown section or key, bad value or
 * missing Image= is an error "FILE:LINE: what is wrong" (one line) and nothing
 * is returned. */
int definition_load(const char *path, const char *name, struct definition **out, berth_error_t *err);
/* The unit a definition becomes: "container@NAME.service",
 * "berth-volume@NAME.service", "berth-network@NAME.service",
 * "berth-image@NAME.service", "berth-build@NAME.service". */
char *definition_unit_name(enum definition_kind kind, const char *name);
/* All definitions on the search path, of every kind (one per NAME and kind,
 * earliest dir wins, a symlink to /dev/null masks NAME), sorted by kind then
 * NAME.  A template web@.container is checked and becomes its instances: one
 * per instance file web@X.container and its [Install] DefaultInstance=.  Bad
 * files are reported through report(file_line_message) and skipped.  Returns
 * the number of files reported (0: all good).  Free with definitions_free(). */
int definition_load_all(struct definition ***out, size_t *n, void (*report)(const char *msg, void *ud), void *ud);
void definitions_free(struct definition **v, size_t n);

/* A definition NAME must be a container name that is also a unit instance:
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters; or PREFIX@INSTANCE of two
 * such (an instance of the template PREFIX@.container). */
bool definition_name_valid(const char *name);

/* The text of the drop-in for container@NAME.service (what the generator
 * writes to DIR/container@NAME.service.d/50-berth.conf); for a volume or
 * network, the whole unit berth-volume@NAME.service that creates it. */
char *definition_dropin(const struct definition *d);
/* The file the drop-in goes to, "OUTDIR/container@NAME.service.d/50-berth.conf"
 * (a volume's or network's unit: "OUTDIR/berth-volume@NAME.service"). */
char *definition_dropin_path(const struct definition *d, const char *outdir);
/* The links of [Install] WantedBy=/RequiredBy=/UpheldBy=, relative to the
 * output dir: {"multi-user.target.wants/container@NAME.service", ...}, each
 * pointing at DEFINITION_TEMPLATE_UNIT (a volume's or network's: at its
 * generated unit).  A new strv (maybe empty). */
char **definition_install_links(const struct definition *d);
/* Write the drop-in and the .wants/ links of [Install] WantedBy=/RequiredBy=
 * into a generator output dir. */
int definition_generate(const struct definition *d, const char *outdir, berth_error_t *err);
/* Print what definition_generate() would write: "# PATH" + the drop-in text,
 * then "# LINK -> TARGET" per link (berth generate --dry-run). */
void definition_print(const struct definition *d, const char *outdir, FILE *out);

/* The template unit the links point at (SYSTEMD_UNIT_DIR/container@.service),
 * and a user's (SYSTEMD_USER_UNIT_DIR/container@.service). */
extern const char DEFINITION_TEMPLATE_UNIT[];
extern const char DEFINITION_USER_TEMPLATE_UNIT[];
/* The user unit a user's container and image units order after instead of
 * network-online.target, which a user's manager does not have: it waits for
 * the system's (units/user/berth-user-wait-network-online.service). */
#define DEFINITION_USER_WAIT_ONLINE "berth-user-wait-network-online.service"
/* Where generators write at runtime, and `berth generate` by default. */
#define DEFINITION_GENERATOR_DIR "/run/systemd/generator"
/* That of the manager berth works for: DEFINITION_GENERATOR_DIR, or a
 * user's $XDG_RUNTIME_DIR/systemd/generator (/run/user/UID/...). */
char *definition_generator_dir(void);

/* What berth-generator does with the definitions it loaded, shared with
 * `berth generate`: the images' STOPSIGNAL brought in from the store (a
 * missing store or image is fine: the default, SIGTERM, stays), then each
 * definition written into outdir and its drop-in's path printed to out; with
 * dry_run only printed to out as definition_print() does, an empty line
 * between two.  out may be NULL (nothing printed).  A definition that cannot
 * be written is reported as "FILE: message" and skipped, as
 * definition_load_all() reports a bad file.  Returns the number reported;
 * *written (may be NULL) gets the number written. */
int definitions_generate_all(struct definition **defs, size_t n, const char *outdir, bool dry_run, FILE *out,
                             void (*report)(const char *msg, void *ud), void *ud, size_t *written);

/* The container a start of the unit makes (`berth _unit-start NAME`): the
 * name, image and command, each [Container] option through the spec's own
 * setters (container_spec_set_args: the key means what the flag means), the
 * stable ID, the unit container@NAME.service and the file.  spec is
 * initialised here; the caller clears it. */
struct container_spec;
int definition_to_spec(const struct definition *d, struct container_spec *spec, berth_error_t *err);

/* The container ID of a definition's container: stable across starts (so
 * `berth logs NAME` and CONTAINER_ID_FULL= cover every run), 64 hex. */
char *definition_container_id(const char *name);

#endif
