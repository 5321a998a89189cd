/* berth — resource limits: Docker flag → definition key → systemd property.
 *
 * limit_defs[] is SPEC.md's mapping table as data, one row per limit, shared
 * by `berth run/create` (cmd-run.c builds its getopt options from it), by
 * the generator (the `.container` [Container] keys) and by the
 * documentation.  Adding a limit is one row plus its parse function and its
 * lines in limits_to_props().
 *
 * Usage:
 *     struct limits l = {0};
 *     limits_set(&l, limit_by_flag("memory"), "512m", err);   // per flag/key
 *     struct unit_props props = {0};
 *     limits_to_props(&l, &props, err);   // validation + cross-limit math
 *     unit_props_append_bus(m, &props, err);  // StartTransientUnit/SetUnitProperties a(sv)
 *     char *text = unit_props_to_text(&props, "Service"); // generator drop-in
 *     unit_props_free(&props); limits_free(&l);
 */
#ifndef BERTH_LIMITS_H
#define BERTH_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "berth/error.h"

enum limit_id {
        LIMIT_MEMORY,
        LIMIT_MEMORY_RESERVATION,
        LIMIT_MEMORY_SWAP,
        LIMIT_CPUS,
        LIMIT_CPU_SHARES,
        LIMIT_CPUSET_CPUS,
        LIMIT_PIDS_LIMIT,
        LIMIT_BLKIO_WEIGHT,
        LIMIT_DEVICE_READ_BPS,
        LIMIT_DEVICE_WRITE_BPS,
        LIMIT_RESTART,
        _LIMIT_MAX
};

struct limits;

struct limit_def {
        enum limit_id id;
        const char *flag;      /* Docker long flag without "--": "memory" */
        char short_flag;       /* 'm', or 0 */
        const char *key;       /* .container [Container] key, "Memory"; NULL: none
                                  (restart is systemd's own [Service] Restart=) */
        const char *property;  /* systemd D-Bus property: "MemoryMax" */
        const char *unit_key;  /* unit-file key: "MemoryMax", "CPUQuota" */
        const char *metavar;   /* for --help: "bytes" */
        const char *help;      /* one line for --help and the man pages */
        bool repeatable;       /* a list: each use adds an entry */
        int (*parse)(struct limits *l, const char *value, berth_error_t *err);
};

/* The table, in SPEC.md's order. */
extern const struct limit_def limit_defs[];
extern const size_t limit_defs_count;

/* By long flag ("memory", "cpus") or short flag ("m"); with or without the
 * leading dashes.  NULL when not a limit flag. */
const struct limit_def *limit_by_flag(const char *flag);
/* By .container key ("Memory", "PidsLimit"), case-sensitive as systemd. */
const struct limit_def *limit_by_key(const char *key);

struct limit_bps {
        char *path; /* "/dev/sda" */
        uint64_t bytes;
};

/* The parsed values, as given (Docker's units); zero-initialise. */
struct limits {
        bool set[_LIMIT_MAX];
        uint64_t memory;             /* bytes, 0 = unlimited */
        uint64_t memory_reservation; /* bytes, 0 = none */
        int64_t memory_swap;         /* Docker's memory+swap total; -1 = unlimited, 0 = default */
        uint64_t nano_cpus;          /* --cpus × 1e9, 0 = unlimited */
        uint64_t cpu_shares;         /* 0 = default */
        unsigned char *cpuset;       /* AllowedCPUs bitmask */
        size_t cpuset_len;
        int64_t pids_limit;          /* <= 0 = unlimited */
        uint64_t blkio_weight;       /* 10..1000, 0 = default */
        struct limit_bps *read_bps, *write_bps;
        size_t n_read_bps, n_write_bps;
        char *restart;               /* "no", "always", "unless-stopped", "on-failure" */
        unsigned restart_retries;    /* on-failure:N, 0 = unlimited */
};

/* Parse value for one row and store it (later values win; repeatable rows
 * append; for a repeatable row the empty string clears the list, as an empty
 * assignment in a unit file).  The error names the value; callers wrap it
 * with the flag or file:line. */
int limits_set(struct limits *l, const struct limit_def *def, const char *value, berth_error_t *err);
void limits_free(struct limits *l);

/* ---- systemd unit properties --------------------------------------------- */

struct unit_prop_bps {
        char *path;
        uint64_t bytes;
};

struct unit_prop {
        const char *name;     /* D-Bus property: "CPUQuotaPerSecUSec" (static) */
        const char *unit_key; /* unit-file key: "CPUQuota" (static) */
        const char *section;  /* unit-file section: "Service" or "Unit" (static) */
        char type;            /* D-Bus type: 't' 'u' 's' 'b', 'y' = "ay", 'a' = "a(st)", 'd' = "a(ss)" */
        uint64_t u;           /* 't', 'u', 'b' */
        char *s;              /* 's' */
        unsigned char *bytes; /* 'y' */
        size_t nbytes;
        struct unit_prop_bps *bps; /* 'a' */
        size_t nbps;
        char **pairs;         /* 'd': path, access, path, access, ... */
        char **unit_values;   /* unit-file values, one line each: {"150%"} */
};

struct unit_props {
        struct unit_prop *v;
        size_t n;
};

/* Validate the limits together as Docker does (swap ≥ memory, reservation ≤
 * memory, 6MB minimum, ...) and convert them to systemd properties (appended
 * to *out):
 *   Memory → MemoryMax; MemoryReservation → MemoryLow;
 *   MemorySwap (total) → MemorySwapMax = total - memory, -1 → infinity;
 *     without it, MemorySwapMax = memory as Docker's default of 2 × memory;
 *   CPUs → CPUQuotaPerSecUSec (1.5 → 1500000, "CPUQuota=150%");
 *   CPUShares → CPUWeight = 1 + ((shares - 2) * 9999) / 262142 (2..262144);
 *   CPUSet → AllowedCPUs (ay bitmask); PidsLimit → TasksMax (≤ 0: infinity);
 *   IOWeight (blkio 10..1000) → IOWeight = 1 + (w - 10) * 9999 / 990, as runc;
 *   device bps → IOReadBandwidthMax / IOWriteBandwidthMax a(st);
 *   restart → Restart (unless-stopped → always), and on-failure:N →
 *     StartLimitBurst = N + 1 (the first start counts) with
 *     StartLimitIntervalUSec = infinity, in the [Unit] section.
 * Restart and the StartLimit properties are only valid for services. */
int limits_to_props(const struct limits *l, struct unit_props *out, berth_error_t *err);

/* Append each property as "(sv)" to m; the caller has opened the "a(sv)"
 * container of StartTransientUnit (or SetUnitProperties) and closes it. */
int unit_props_append_bus(sd_bus_message *m, const struct unit_props *p, berth_error_t *err);
/* "Key=value\n" lines of the properties of one section ("Service", "Unit"),
 * or of all sections when section is NULL (malloc'd, maybe ""). */
char *unit_props_to_text(const struct unit_props *p, const char *section);
/* A string property whose unit-file key is its D-Bus name ("DevicePolicy"). */
void unit_props_add_string(struct unit_props *p, const char *name, const char *section, const char *value);
/* One more DeviceAllow= entry (a(ss) on the bus, "PATH ACCESS" in a unit file). */
void unit_props_add_device_allow(struct unit_props *p, const char *path, const char *access);
void unit_props_free(struct unit_props *p);

/* The cgroup controller that enforces a unit property ("memory" for
 * MemoryMax, "pids" for TasksMax...), NULL for a property that needs none. */
const char *limits_prop_controller(const char *prop);
/* Whether the user's systemd manager (user@UID.service) has the controller
 * delegated, so that limits on the user's units are enforced: on cgroup v2
 * the controllers of its cgroup; never on v1 or hybrid hosts, where
 * systemd delegates no controller to user managers.  cgroot: the cgroup
 * mount (/sys/fs/cgroup; tests give another). */
bool limits_user_controller_delegated(const char *cgroot, unsigned uid, const char *controller);
/* For a user's unit: one warning per controller whose properties among
 * props will be set but not enforced. */
void limits_warn_undelegated(const struct unit_props *props, const char *unit);

#endif
