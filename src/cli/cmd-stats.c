/* berth stats: live resource usage of running containers, as `docker stats`,
 * from what systemd accounts for each container's unit (CPUUsageNSec,
 * MemoryCurrent, TasksCurrent, IOReadBytes/IOWriteBytes: cgroup v1 and v2
 * alike) and the container's own /proc/PID/net/dev. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/unit.h"
#include "berth/util.h"

struct sample {
        uint64_t cpu_ns, mem, mem_max, tasks, io_read, io_write;
        long long net_rx, net_tx; /* -1: unknown (the host's network) */
        long long at_ns;
};

/* Bytes through the container's interfaces but lo: its own network
 * namespace's /proc/net/dev, seen through its main process. */
static void read_net(pid_t pid, struct sample *sm)
{
        sm->net_rx = sm->net_tx = -1;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int) pid);
        cleanup_fclose FILE *f = fopen(path, "re");
        if (!f)
                return;
        char line[512];
        long long rx = 0, tx = 0;
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue; /* the two header lines */
                *colon = '\0';
                const char *name = line + strspn(line, " ");
                unsigned long long v[16] = {};
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                           &v[4], &v[5], &v[6], &v[7], &v[8]) != 9 || streq(name, "lo"))
                        continue;
                rx += (long long) v[0];
                tx += (long long) v[8];
        }
        sm->net_rx = rx;
        sm->net_tx = tx;
}

/* Where systemd accounts nothing (no controllers delegated to it, as in a
 * nested systemd on a cgroup v1 host), the same figures from /proc, summed
 * over the unit's processes: CPU time, resident memory, threads. */
static void sample_from_proc(sd_bus *bus, const char *unit, struct sample *sm)
{
        cleanup_free pid_t *pids = NULL;
        size_t n = 0;
        berth_error_t e = NULL;
        if (unit_processes(bus, unit, &pids, &n, &e) < 0) {
                berth_error_free(&e);
                return;
        }
        uint64_t cpu = 0, mem = 0, tasks = 0;
        long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        for (size_t i = 0; i < n; i++) {
                char path[64], buf[1024];
                snprintf(path, sizeof(path), "/proc/%d/stat", (int) pids[i]);
                cleanup_fclose FILE *f = fopen(path, "re");
                if (!f || !fgets(buf, sizeof(buf), f))
                        continue;
                /* after "(comm) ": state is field 3; utime 14, stime 15,
                 * num_threads 20, rss 24 */
                const char *p = strrchr(buf, ')');
                unsigned long long ut = 0, st = 0, threads = 0, rss = 0;
                if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %llu "
                                        "%*d %*u %*u %llu", &ut, &st, &threads, &rss) != 4)
                        continue;
                cpu += (ut + st) * 1000000000ULL / (unsigned long long) tick;
                mem += rss * (unsigned long long) page;
                tasks += threads;
        }
        if (sm->cpu_ns == UINT64_MAX)
                sm->cpu_ns = cpu;
        if (sm->mem == UINT64_MAX)
                sm->mem = mem;
        if (sm->tasks == UINT64_MAX)
                sm->tasks = tasks;
}

static int take_sample(sd_bus *bus, struct berth_container *c, struct sample *sm, berth_error_t *err)
{
        const char *unit = container_unit(c);
        struct {
                const char *prop;
                uint64_t *out;
        } props[] = {
                { "CPUUsageNSec", &sm->cpu_ns },   { "MemoryCurrent", &sm->mem },    { "MemoryMax", &sm->mem_max },
                { "TasksCurrent", &sm->tasks },    { "IOReadBytes", &sm->io_read }, { "IOWriteBytes", &sm->io_write },
        };
        for (size_t i = 0; i < ARRAY_SIZE(props); i++)
                if (unit_service_u64(bus, unit, props[i].prop, props[i].out, err) < 0)
                        return -1;
        if (sm->cpu_ns == UINT64_MAX || sm->mem == UINT64_MAX || sm->tasks == UINT64_MAX)
                sample_from_proc(bus, unit, sm);
        sm->at_ns = now_ns();
        if (streq(json_str(c->config, "HostConfig.NetworkMode") ?: "", "host"))
                sm->net_rx = sm->net_tx = -1;
        else
                read_net((pid_t) json_int(c->state, "Pid", 0), sm);
        return 0;
}

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : 0;
}

/* Docker's units: "1.5MiB" for memory, "1.2kB" for I/O. */
static char *binary_size(uint64_t v)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double d = (double) v;
        size_t u = 0;
        while (d >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                d /= 1024;
                u++;
        }
        return u == 0 ? xasprintf("%" PRIu64 "B", v) : xasprintf("%.4g%s", d, units[u]);
}

static char *pair(uint64_t a, uint64_t b, bool binary)
{
        if (a == UINT64_MAX || b == UINT64_MAX)
                return xstrdup("--");
        cleanup_free char *x = binary ? binary_size(a) : format_human_size((long long) a);
        cleanup_free char *y = binary ? binary_size(b) : format_human_size((long long) b);
        return xasprintf("%s / %s", x, y);
}

static json_t *stats_row(struct berth_container *c, const struct sample *a, const struct sample *b, bool notrunc)
{
        cleanup_free char *cpu = NULL, *mem = NULL, *memp = NULL, *net = NULL, *blk = NULL, *pids = NULL;
        if (a->cpu_ns != UINT64_MAX && b->cpu_ns != UINT64_MAX && b->at_ns > a->at_ns)
                cpu = xasprintf("%.2f%%", (double) (b->cpu_ns - a->cpu_ns) * 100.0 / (double) (b->at_ns - a->at_ns));
        else
                cpu = xstrdup("--");
        uint64_t limit = b->mem_max != UINT64_MAX ? b->mem_max : host_memory();
        mem = pair(b->mem, limit, true);
        memp = b->mem != UINT64_MAX && limit ? xasprintf("%.2f%%", (double) b->mem * 100.0 / (double) limit)
                                             : xstrdup("--");
        net = b->net_rx < 0 ? xstrdup("--") : pair((uint64_t) b->net_rx, (uint64_t) b->net_tx, false);
        blk = pair(b->io_read, b->io_write, false);
        pids = b->tasks == UINT64_MAX ? xstrdup("--") : xasprintf("%" PRIu64, b->tasks);
        return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", c->id,
                         (size_t) (notrunc ? 64 : 12), "ID", c->id, "Name", c->name, "CPUPerc", cpu, "MemUsage", mem,
                         "MemPerc", memp, "NetIO", net, "BlockIO", blk, "PIDs", pids);
}

#define STATS_TABLE                                                                                          \
        "{{.Container}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

static const char stats_usage[] =
        "Usage:  berth stats [OPTIONS] [CONTAINER...]\n\n"
        "Display a live stream of container(s) resource usage statistics\n\n"
        "Options:\n"
        "  -a, --all             Show all containers (default shows just running)\n"
        "      --format string   Format output using a Go template, json or table\n"
        "      --no-stream       Disable streaming stats and only pull the first result\n"
        "      --no-trunc        Do not truncate output\n";

int cmd_stats(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_FORMAT = 1000, OPT_NO_STREAM, OPT_NO_TRUNC };
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' },          { "format", required_argument, NULL, OPT_FORMAT },
                { "no-stream", no_argument, NULL, OPT_NO_STREAM }, { "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
                { "help", no_argument, NULL, 'H' },         {},
        };
        bool all = false, stream = true, notrunc = false;
        const char *format = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
                switch (ch) {
                case 'a': all = true; break;
                case OPT_FORMAT: format = optarg; break;
                case OPT_NO_STREAM: stream = false; break;
                case OPT_NO_TRUNC: notrunc = true; break;
                case 'H': fputs(stats_usage, stdout); return 0;
                default: return cli_usage_error(err, "stats", "unknown option '%s'", argv[optind - 1]);
                }
        }
        cleanup_bus sd_bus *bus = NULL;
        if (unit_bus_open(&bus, err) < 0)
                return -1;
        struct berth_container **cs = NULL;
        size_t n = 0;
        if (optind < argc) {
                for (int i = optind; i < argc; i++) {
                        cs = xrealloc(cs, (n + 1) * sizeof(*cs));
                        if (container_lookup(&cli->store, argv[i], &cs[n], err) < 0) {
                                container_list_free(cs, n);
                                return -1;
                        }
                        n++;
                }
        } else if (cli_container_list(&cli->store, &cs, &n, err) < 0)
                return -1;
        json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", "CONTAINER ID", "ID",
                                   "CONTAINER ID", "Name", "NAME", "CPUPerc", "CPU %", "MemUsage",
                                   "MEM USAGE / LIMIT", "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO",
                                   "BLOCK I/O", "PIDs", "PIDS");
        struct sample *prev = xcalloc(n + 1, sizeof(*prev)), *cur = xcalloc(n + 1, sizeof(*cur));
        json_t **rows = xcalloc(n + 1, sizeof(*rows));
        bool tty = isatty(STDOUT_FILENO);
        int ret = 0;
        /* CPU % needs two samples: the first round only primes them. */
        for (int round = 0; ret == 0; round++) {
                size_t nrows = 0;
                for (size_t i = 0; i < n; i++) {
                        berth_error_t e = NULL;
                        if (!container_is_running(cs[i]) || take_sample(bus, cs[i], &cur[i], &e) < 0) {
                                berth_error_free(&e);
                                cur[i] = (struct sample){ .cpu_ns = UINT64_MAX, .mem = UINT64_MAX,
                                                          .mem_max = UINT64_MAX, .tasks = UINT64_MAX,
                                                          .io_read = UINT64_MAX, .io_write = UINT64_MAX,
                                                          .net_rx = -1, .net_tx = -1 };
                                if (!all && optind >= argc)
                                        continue;
                        }
                        if (round > 0)
                                rows[nrows++] = stats_row(cs[i], &prev[i], &cur[i], notrunc);
                }
                if (round > 0) {
                        if (tty && stream)
                                fputs("\033[2J\033[H", stdout);
                        ret = cli_print_formatted(format ? format : "table", STATS_TABLE, header, rows, nrows, err);
                        fflush(stdout);
                        for (size_t i = 0; i < nrows; i++)
                                json_decref(rows[i]);
                        if (!stream)
                                break;
                }
                struct sample *t = prev;
                prev = cur;
                cur = t;
                usleep(round == 0 && !stream ? 500 * 1000 : 1000 * 1000);
        }
        free(rows);
        free(prev);
        free(cur);
        json_decref(header);
        container_list_free(cs, n);
        return ret;
}
