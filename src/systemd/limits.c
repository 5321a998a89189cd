/* berth — the limits table and its systemd properties (include/berth/limits.h). */
#include "config.h"

#include <inttypes.h>

#include "berth/limits.h"
#include "berth/parse.h"
#include "berth/rootless.h"
#include "berth/util.h"

#define MIN_MEMORY (6ULL * 1024 * 1024) /* Docker's linuxMinMemory */

/* ---- per-row parsers -------------------------------------------------------- */

static int parse_memory(struct limits *l, const char *value, berth_error_t *err)
{
        return parse_size(value, &l->memory, err);
}

static int parse_memory_reservation(struct limits *l, const char *value, berth_error_t *err)
{
        return parse_size(value, &l->memory_reservation, err);
}

static int parse_memory_swap(struct limits *l, const char *value, berth_error_t *err)
{
        uint64_t v;
        if (streq(value, "-1")) {
                l->memory_swap = -1;
                return 0;
        }
        int r = parse_size(value, &v, err);
        if (r < 0)
                return r;
        l->memory_swap = (int64_t) v;
        return 0;
}

static int parse_cpus(struct limits *l, const char *value, berth_error_t *err)
{
        uint64_t v;
        int r = parse_nano_cpus(value, &v, err);
        if (r < 0)
                return r;
        if (v != 0 && v < 10000000)
                return berth_error(err, 0, "invalid number of CPUs: '%s': the minimum is 0.01", value);
        l->nano_cpus = v;
        return 0;
}

static int parse_cpu_shares(struct limits *l, const char *value, berth_error_t *err)
{
        int64_t v;
        if (parse_int64(value, &v, NULL) < 0 || v < 0)
                return berth_error(err, 0, "invalid CPU shares: '%s' (use a number from 2 to 262144)", value);
        l->cpu_shares = (uint64_t) v;
        return 0;
}

static int parse_cpuset_cpus(struct limits *l, const char *value, berth_error_t *err)
{
        unsigned char *m;
        size_t n;
        int r = parse_cpuset(value, &m, &n, err);
        if (r < 0)
                return r;
        free(l->cpuset);
        l->cpuset = m;
        l->cpuset_len = n;
        return 0;
}

static int parse_pids_limit(struct limits *l, const char *value, berth_error_t *err)
{
        if (parse_int64(value, &l->pids_limit, NULL) < 0)
                return berth_error(err, 0, "invalid PIDs limit: '%s' (use a number, -1 for unlimited)", value);
        return 0;
}

static int parse_blkio_weight(struct limits *l, const char *value, berth_error_t *err)
{
        int64_t v;
        if (parse_int64(value, &v, NULL) < 0 || (v != 0 && (v < 10 || v > 1000)))
                return berth_error(err, 0, "invalid blkio weight: '%s' (the range is from 10 to 1000)", value);
        l->blkio_weight = (uint64_t) v;
        return 0;
}

static void bps_clear(struct limit_bps **v, size_t *n)
{
        for (size_t i = 0; i < *n; i++)
                free((*v)[i].path);
        free(*v);
        *v = NULL;
        *n = 0;
}

/* "/dev/sda:1mb" as Docker's ValidateThrottleBpsDevice. */
static int parse_bps(struct limit_bps **v, size_t *n, const char *value, berth_error_t *err)
{
        if (!*value) {
                bps_clear(v, n);
                return 0;
        }
        const char *colon = strrchr(value, ':');
        if (!colon)
                return berth_error(err, 0, "bad format: '%s' (use <device-path>:<rate>, such as /dev/sda:1mb)", value);
        if (!startswith(value, "/dev/"))
                return berth_error(err, 0, "bad format for device path: '%s'", value);
        uint64_t bytes;
        if (parse_size(colon + 1, &bytes, NULL) < 0)
                return berth_error(err, 0,
                                   "invalid rate for device: '%s' (the correct format is <device-path>:<number>[<unit>], unit kb, mb or gb)",
                                   value);
        cleanup_free char *path = xstrndup(value, (size_t) (colon - value));
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i].path, path)) {
                        (*v)[i].bytes = bytes; /* the same device again: last wins */
                        return 0;
                }
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[*n] = (struct limit_bps){ .path = steal_pointer(&path), .bytes = bytes };
        (*n)++;
        return 0;
}

static int parse_device_read_bps(struct limits *l, const char *value, berth_error_t *err)
{
        return parse_bps(&l->read_bps, &l->n_read_bps, value, err);
}

static int parse_device_write_bps(struct limits *l, const char *value, berth_error_t *err)
{
        return parse_bps(&l->write_bps, &l->n_write_bps, value, err);
}

static int parse_restart(struct limits *l, const char *value, berth_error_t *err)
{
        char *policy;
        unsigned retries;
        int r = parse_restart_policy(value, &policy, &retries, err);
        if (r < 0)
                return r;
        free(l->restart);
        l->restart = policy;
        l->restart_retries = retries;
        return 0;
}

/* ---- the table --------------------------------------------------------------- */

const struct limit_def limit_defs[] = {
        { LIMIT_MEMORY, "memory", 'm', "Memory", "MemoryMax", "MemoryMax", "bytes",
          "Memory limit (512m, 1g)", false, parse_memory },
        { LIMIT_MEMORY_RESERVATION, "memory-reservation", 0, "MemoryReservation", "MemoryLow", "MemoryLow", "bytes",
          "Memory soft limit", false, parse_memory_reservation },
        { LIMIT_MEMORY_SWAP, "memory-swap", 0, "MemorySwap", "MemorySwapMax", "MemorySwapMax", "bytes",
          "Swap limit equal to memory plus swap: -1 to enable unlimited swap", false, parse_memory_swap },
        { LIMIT_CPUS, "cpus", 0, "CPUs", "CPUQuotaPerSecUSec", "CPUQuota", "decimal",
          "Number of CPUs (1.5 is CPUQuota=150%)", false, parse_cpus },
        { LIMIT_CPU_SHARES, "cpu-shares", 0, "CPUShares", "CPUWeight", "CPUWeight", "int",
          "CPU shares (relative weight, 1024 is the default share)", false, parse_cpu_shares },
        { LIMIT_CPUSET_CPUS, "cpuset-cpus", 0, "CPUSet", "AllowedCPUs", "AllowedCPUs", "list",
          "CPUs in which to allow execution (0-3, 0,1)", false, parse_cpuset_cpus },
        { LIMIT_PIDS_LIMIT, "pids-limit", 0, "PidsLimit", "TasksMax", "TasksMax", "int",
          "Tune container pids limit (set -1 for unlimited)", false, parse_pids_limit },
        { LIMIT_BLKIO_WEIGHT, "blkio-weight", 0, "IOWeight", "IOWeight", "IOWeight", "uint16",
          "Block IO (relative weight), between 10 and 1000", false, parse_blkio_weight },
        { LIMIT_DEVICE_READ_BPS, "device-read-bps", 0, "IOReadBandwidthMax", "IOReadBandwidthMax",
          "IOReadBandwidthMax", "path:rate", "Limit read rate (bytes per second) from a device (/dev/sda:1mb)", true,
          parse_device_read_bps },
        { LIMIT_DEVICE_WRITE_BPS, "device-write-bps", 0, "IOWriteBandwidthMax", "IOWriteBandwidthMax",
          "IOWriteBandwidthMax", "path:rate", "Limit write rate (bytes per second) to a device (/dev/sda:1mb)", true,
          parse_device_write_bps },
        { LIMIT_RESTART, "restart", 0, NULL, "Restart", "Restart", "policy",
          "Restart policy to apply when a container exits (no, always, on-failure[:max-retries], unless-stopped)",
          false, parse_restart },
};
const size_t limit_defs_count = ARRAY_SIZE(limit_defs);

_Static_assert(ARRAY_SIZE(limit_defs) == _LIMIT_MAX, "one row per limit");

const struct limit_def *limit_by_flag(const char *flag)
{
        if (!flag)
                return NULL;
        if (startswith(flag, "--"))
                flag += 2;
        else if (flag[0] == '-')
                flag += 1;
        for (size_t i = 0; i < limit_defs_count; i++) {
                const struct limit_def *d = &limit_defs[i];
                if (streq(d->flag, flag) || (d->short_flag && flag[0] == d->short_flag && !flag[1]))
                        return d;
        }
        return NULL;
}

const struct limit_def *limit_by_key(const char *key)
{
        for (size_t i = 0; key && i < limit_defs_count; i++)
                if (limit_defs[i].key && streq(limit_defs[i].key, key))
                        return &limit_defs[i];
        return NULL;
}

int limits_set(struct limits *l, const struct limit_def *def, const char *value, berth_error_t *err)
{
        if (!def)
                return berth_error(err, 0, "not a resource limit");
        int r = def->parse(l, value, err);
        if (r < 0)
                return r;
        switch (def->id) {
        case LIMIT_DEVICE_READ_BPS:
                l->set[def->id] = l->n_read_bps > 0;
                break;
        case LIMIT_DEVICE_WRITE_BPS:
                l->set[def->id] = l->n_write_bps > 0;
                break;
        default:
                l->set[def->id] = true;
        }
        return 0;
}

void limits_free(struct limits *l)
{
        free(l->cpuset);
        bps_clear(&l->read_bps, &l->n_read_bps);
        bps_clear(&l->write_bps, &l->n_write_bps);
        free(l->restart);
        *l = (struct limits){ 0 };
}

/* ---- unit properties ------------------------------------------------------- */

static struct unit_prop *prop_add(struct unit_props *p, const char *name, const char *unit_key,
                                  const char *section, char type)
{
        p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
        struct unit_prop *u = &p->v[p->n++];
        *u = (struct unit_prop){ .name = name, .unit_key = unit_key, .section = section, .type = type };
        return u;
}

static void prop_value(struct unit_prop *u, const char *text)
{
        strv_push(&u->unit_values, text);
}

/* A uint64 property; UINT64_MAX is "infinity" in unit files. */
static void prop_u64(struct unit_props *p, const char *name, const char *unit_key, const char *section, uint64_t v)
{
        struct unit_prop *u = prop_add(p, name, unit_key, section, 't');
        u->u = v;
        if (v == UINT64_MAX) {
                prop_value(u, "infinity");
        } else {
                cleanup_free char *t = xasprintf("%" PRIu64, v);
                prop_value(u, t);
        }
}

static void prop_bps(struct unit_props *p, const char *name, const struct limit_bps *v, size_t n)
{
        struct unit_prop *u = prop_add(p, name, name, "Service", 'a');
        u->bps = xcalloc(n, sizeof(*u->bps));
        u->nbps = n;
        for (size_t i = 0; i < n; i++) {
                u->bps[i].path = xstrdup(v[i].path);
                u->bps[i].bytes = v[i].bytes;
                cleanup_free char *t = xasprintf("%s %" PRIu64, v[i].path, v[i].bytes);
                prop_value(u, t);
        }
}

/* "150%", "1.5%", "0.25%": CPUQuota= takes a percentage with two decimals. */
static char *cpu_quota_text(uint64_t nano_cpus)
{
        uint64_t permyriad = (nano_cpus + 50000) / 100000; /* 1 CPU = 10000 */
        if (permyriad == 0)
                permyriad = 1;
        if (permyriad % 100 == 0)
                return xasprintf("%" PRIu64 "%%", permyriad / 100);
        if (permyriad % 10 == 0)
                return xasprintf("%" PRIu64 ".%" PRIu64 "%%", permyriad / 100, (permyriad % 100) / 10);
        return xasprintf("%" PRIu64 ".%02" PRIu64 "%%", permyriad / 100, permyriad % 100);
}

static int limits_check(const struct limits *l, berth_error_t *err)
{
        uint64_t mem = l->set[LIMIT_MEMORY] ? l->memory : 0;
        uint64_t res = l->set[LIMIT_MEMORY_RESERVATION] ? l->memory_reservation : 0;
        int64_t swap = l->set[LIMIT_MEMORY_SWAP] ? l->memory_swap : 0;
        if (mem && mem < MIN_MEMORY)
                return berth_error(err, 0, "Minimum memory limit allowed is 6MB");
        if (res && res < MIN_MEMORY)
                return berth_error(err, 0, "Minimum memory reservation allowed is 6MB");
        if (mem && res && mem < res)
                return berth_error(err, 0, "Minimum memory limit can not be less than memory reservation limit, see usage");
        if (swap > 0 && !mem)
                return berth_error(err, 0, "You should always set the Memory limit when using Memoryswap limit, see usage");
        if (swap > 0 && (uint64_t) swap < mem)
                return berth_error(err, 0, "Minimum memoryswap limit should be larger than memory limit, see usage");
        return 0;
}

int limits_to_props(const struct limits *l, struct unit_props *out, berth_error_t *err)
{
        int r = limits_check(l, err);
        if (r < 0)
                return r;
        uint64_t mem = l->set[LIMIT_MEMORY] ? l->memory : 0;

        if (mem)
                prop_u64(out, "MemoryMax", "MemoryMax", "Service", mem);
        if (l->set[LIMIT_MEMORY_RESERVATION] && l->memory_reservation)
                prop_u64(out, "MemoryLow", "MemoryLow", "Service", l->memory_reservation);
        if (l->set[LIMIT_MEMORY_SWAP] && l->memory_swap == -1)
                prop_u64(out, "MemorySwapMax", "MemorySwapMax", "Service", UINT64_MAX);
        else if (l->set[LIMIT_MEMORY_SWAP] && l->memory_swap > 0)
                prop_u64(out, "MemorySwapMax", "MemorySwapMax", "Service", (uint64_t) l->memory_swap - mem);
        else if (mem)
                /* Docker: without --memory-swap the total is twice the memory. */
                prop_u64(out, "MemorySwapMax", "MemorySwapMax", "Service", mem);

        if (l->set[LIMIT_CPUS] && l->nano_cpus) {
                struct unit_prop *u = prop_add(out, "CPUQuotaPerSecUSec", "CPUQuota", "Service", 't');
                u->u = l->nano_cpus / 1000;
                cleanup_free char *t = cpu_quota_text(l->nano_cpus);
                prop_value(u, t);
        }
        if (l->set[LIMIT_CPU_SHARES] && l->cpu_shares) {
                uint64_t s = l->cpu_shares;
                s = s < 2 ? 2 : s > 262144 ? 262144 : s; /* the kernel clamps, Docker warns */
                prop_u64(out, "CPUWeight", "CPUWeight", "Service", 1 + ((s - 2) * 9999) / 262142);
        }
        if (l->set[LIMIT_CPUSET_CPUS] && l->cpuset) {
                struct unit_prop *u = prop_add(out, "AllowedCPUs", "AllowedCPUs", "Service", 'y');
                u->bytes = xmalloc(l->cpuset_len);
                memcpy(u->bytes, l->cpuset, l->cpuset_len);
                u->nbytes = l->cpuset_len;
                cleanup_free char *t = format_cpuset(l->cpuset, l->cpuset_len);
                prop_value(u, t);
        }
        if (l->set[LIMIT_PIDS_LIMIT])
                prop_u64(out, "TasksMax", "TasksMax", "Service",
                         l->pids_limit > 0 ? (uint64_t) l->pids_limit : UINT64_MAX);
        if (l->set[LIMIT_BLKIO_WEIGHT] && l->blkio_weight)
                prop_u64(out, "IOWeight", "IOWeight", "Service", 1 + (l->blkio_weight - 10) * 9999 / 990);
        if (l->set[LIMIT_DEVICE_READ_BPS] && l->n_read_bps)
                prop_bps(out, "IOReadBandwidthMax", l->read_bps, l->n_read_bps);
        if (l->set[LIMIT_DEVICE_WRITE_BPS] && l->n_write_bps)
                prop_bps(out, "IOWriteBandwidthMax", l->write_bps, l->n_write_bps);

        if (l->set[LIMIT_RESTART] && l->restart) {
                const char *policy = streq(l->restart, "unless-stopped") ? "always" : l->restart;
                struct unit_prop *u = prop_add(out, "Restart", "Restart", "Service", 's');
                u->s = xstrdup(policy);
                prop_value(u, policy);
                if (streq(l->restart, "on-failure") && l->restart_retries > 0) {
                        /* N restarts after the first start: N + 1 starts, ever. */
                        struct unit_prop *b = prop_add(out, "StartLimitBurst", "StartLimitBurst", "Unit", 'u');
                        b->u = (uint64_t) l->restart_retries + 1;
                        cleanup_free char *t = xasprintf("%" PRIu64, b->u);
                        prop_value(b, t);
                        prop_u64(out, "StartLimitIntervalUSec", "StartLimitIntervalSec", "Unit", UINT64_MAX);
                }
        }
        return 0;
}

char *unit_props_to_text(const struct unit_props *p, const char *section)
{
        char *out = xstrdup("");
        for (size_t i = 0; i < p->n; i++) {
                const struct unit_prop *u = &p->v[i];
                if (section && !streq(section, u->section))
                        continue;
                for (size_t k = 0; u->unit_values && u->unit_values[k]; k++) {
                        char *t = xasprintf("%s%s=%s\n", out, u->unit_key, u->unit_values[k]);
                        free(out);
                        out = t;
                }
        }
        return out;
}

void unit_props_add_string(struct unit_props *p, const char *name, const char *section, const char *value)
{
        struct unit_prop *u = prop_add(p, name, name, section, 's');
        u->s = xstrdup(value);
        prop_value(u, value);
}

void unit_props_add_device_allow(struct unit_props *p, const char *path, const char *access)
{
        struct unit_prop *u = NULL;
        for (size_t i = 0; i < p->n && !u; i++)
                if (streq(p->v[i].name, "DeviceAllow"))
                        u = &p->v[i];
        if (!u)
                u = prop_add(p, "DeviceAllow", "DeviceAllow", "Service", 'd');
        strv_push(&u->pairs, path);
        strv_push(&u->pairs, access);
        cleanup_free char *t = xasprintf("%s %s", path, access);
        prop_value(u, t);
}

const char *limits_prop_controller(const char *prop)
{
        static const struct {
                const char *prefix, *controller;
        } map[] = {
                { "Memory", "memory" }, { "Tasks", "pids" },  { "CPUQuota", "cpu" },
                { "CPUWeight", "cpu" }, { "AllowedCPUs", "cpuset" }, { "IO", "io" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (startswith(prop, map[i].prefix))
                        return map[i].controller;
        return NULL;
}

bool limits_user_controller_delegated(const char *cgroot, unsigned uid, const char *controller)
{
        cleanup_free char *top = xasprintf("%s/cgroup.controllers", cgroot);
        if (access(top, F_OK) < 0)
                return false; /* v1 or hybrid: nothing is delegated to a user manager */
        cleanup_free char *p = xasprintf("%s/user.slice/user-%u.slice/user@%u.service/cgroup.controllers", cgroot,
                                         uid, uid);
        cleanup_free char *text = NULL;
        if (read_file(p, &text, NULL, NULL) < 0)
                return false;
        char *pos = NULL;
        for (char *w = strtok_r(text, " \n", &pos); w; w = strtok_r(NULL, " \n", &pos))
                if (streq(w, controller))
                        return true;
        return false;
}

void limits_warn_undelegated(const struct unit_props *props, const char *unit)
{
        const char *looked[8] = { 0 };
        size_t nlooked = 0;
        for (size_t i = 0; i < props->n; i++) {
                const char *ctl = limits_prop_controller(props->v[i].name);
                bool seen = false;
                for (size_t k = 0; ctl && k < nlooked; k++)
                        seen = seen || streq(looked[k], ctl);
                /* each controller looked up once, whether delegated or not */
                if (!ctl || seen || nlooked == ARRAY_SIZE(looked))
                        continue;
                looked[nlooked++] = ctl;
                if (limits_user_controller_delegated("/sys/fs/cgroup", (unsigned) rootless_uid(), ctl))
                        continue;
                berth_warn("the %s controller is not delegated to user@%u.service on this host: %s is set on %s "
                           "but not enforced",
                           ctl, (unsigned) rootless_uid(), props->v[i].unit_key ? props->v[i].unit_key : props->v[i].name,
                           unit);
        }
}

void unit_props_free(struct unit_props *p)
{
        for (size_t i = 0; i < p->n; i++) {
                struct unit_prop *u = &p->v[i];
                free(u->s);
                free(u->bytes);
                for (size_t k = 0; k < u->nbps; k++)
                        free(u->bps[k].path);
                free(u->bps);
                strv_free(u->pairs);
                strv_free(u->unit_values);
        }
        free(p->v);
        p->v = NULL;
        p->n = 0;
}
