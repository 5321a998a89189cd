/* berth version / info. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <sys/utsname.h>
#include <systemd/sd-bus.h>

#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/caps.h"
#include "berth/cli.h"
#include "berth/container.h"
#include "berth/idmap.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/overlay.h"
#include "berth/template.h"
#include "berth/unit.h"
#include "berth/util.h"

int cmd_version(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        struct utsname u;
        uname(&u);
        printf("Client: berth\n"
               " Version:           %s\n"
               " OS/Arch:           linux/%s\n"
               " Context:           default\n\n"
               "Server: none (berth has no daemon; containers are systemd units)\n"
               " Engine:\n"
               "  Version:          %s\n"
               "  systemd:          %s\n"
               "  Kernel Version:   %s\n",
               PACKAGE_VERSION, streq(u.machine, "x86_64") ? "amd64" : u.machine, PACKAGE_VERSION,
               getenv("BERTH_SYSTEMD_VERSION") ? getenv("BERTH_SYSTEMD_VERSION") : "(queried by berth info)",
               u.release);
        return 0;
}

static const char *cgroup_layout(void)
{
        if (cgroup_unified())
                return "2 (unified)";
        if (access("/sys/fs/cgroup/unified", F_OK) == 0)
                return "1 (hybrid: v1 controllers, cgroup2 for systemd)";
        return "1 (legacy)";
}

/* Docker's SecurityOptions: "name=NAME[,KEY=VALUE...]", what every
 * container gets unless its flags say otherwise. */
static json_t *security_options(void)
{
        json_t *opts = json_array();
        json_array_append_new(opts, json_string("name=seccomp,profile=builtin"));
        json_array_append_new(opts, json_string("name=cgroupns"));
        char **names = NULL;
        struct strbuf caps = {};
        if (caps_names(caps_default_mask(), &names) >= 0)
                for (size_t i = 0; names && names[i]; i++) {
                        strbuf_adds(&caps, i ? " " : "");
                        strbuf_adds(&caps, names[i]);
                }
        strv_free(names);
        cleanup_free char *c = strbuf_steal(&caps);
        cleanup_free char *cap_opt = xasprintf("name=capabilities,default=%s", c && *c ? c : "(unknown)");
        json_array_append_new(opts, json_string(cap_opt));
        json_array_append_new(opts, json_string("name=devices,policy=strict"));
        json_array_append_new(opts, json_string("name=no-new-privileges,default=false"));
        return opts;
}

/* " Security Options:" as Docker prints them: the name, then "Key: value". */
static void print_security_options(json_t *opts)
{
        size_t i;
        json_t *o;
        puts(" Security Options:");
        json_array_foreach(opts, i, o)
        {
                cleanup_free char *copy = xstrdup(json_string_value(o));
                char *save = NULL;
                for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(kv, '=');
                        if (!eq)
                                continue;
                        *eq = '\0';
                        if (streq(kv, "name"))
                                printf("  %s\n", eq + 1);
                        else
                                printf("   %c%s: %s\n", toupper((unsigned char) kv[0]), kv + 1, eq + 1);
                }
        }
}

/* Host.IDMappings, in the shape of Podman's: the user namespace mode of
 * containers without --userns ("host", or "userns-remap=NAME" from
 * /etc/berth/config.json) and, as UIDMap and GIDMap, NAME's subordinate
 * ranges (those --userns=auto takes from) as {ContainerID, HostID, Size},
 * the container ids counted from 0 over the ranges as --subuidname maps
 * them. */
/* One range of Host.IDMappings' UIDMap/GIDMap, as Podman shows it. */
static json_t *range_json(json_int_t container, json_int_t host, json_int_t size)
{
        return json_pack("{s:I, s:I, s:I}", "ContainerID", container, "HostID", host,
                         "Size", size);
}

/* A user's: the user namespace berth works in (rootless-ns.h). */
static json_t *rootless_id_mappings(char **names_out)
{
        struct idmap maps[2];
        berth_error_t e = NULL;
        if (rootless_maps(&maps[0], &maps[1], &e) < 0) {
                json_t *j = json_pack("{s:s, s:s}", "UsernsMode", "rootless", "Error", e->msg);
                berth_error_free(&e);
                return j;
        }
        json_t *j = json_pack("{s:s}", "UsernsMode", "rootless");
        struct strbuf text = {};
        for (int k = 0; k < 2; k++) {
                json_t *a = json_array();
                for (size_t i = 0; i < maps[k].n; i++) {
                        json_array_append_new(a, range_json(maps[k].r[i].container, maps[k].r[i].host,
                                                            maps[k].r[i].size));
                        if (k == 0 && i > 0)
                                strbuf_printf(&text, "%s%u:%u", i > 1 ? " " : "", (unsigned) maps[k].r[i].host,
                                              (unsigned) maps[k].r[i].size);
                }
                json_object_set_new(j, k ? "GIDMap" : "UIDMap", a);
        }
        *names_out = strbuf_steal(&text);
        return j;
}

static json_t *id_mappings(char **names_out)
{
        if (rootless())
                return rootless_id_mappings(names_out);
        cleanup_free char *remap = NULL;
        berth_error_t e = NULL;
        if (idmap_remap_config(IDMAP_CONFIG_PATH, &remap, &e) < 0) {
                json_t *j = json_pack("{s:s, s:s}", "UsernsMode", "invalid", "Error", e->msg);
                berth_error_free(&e);
                return j;
        }
        const char *name = remap ? remap : IDMAP_SUBID_NAME;
        cleanup_free char *mode = remap ? xasprintf("userns-remap=%s", remap) : xstrdup("host");
        json_t *j = json_pack("{s:s, s:s}", "UsernsMode", mode, "SubordinateName", name);
        static const char *const files[][2] = { { IDMAP_SUBUID_PATH, "UIDMap" }, { IDMAP_SUBGID_PATH, "GIDMap" } };
        struct strbuf text = {};
        for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
                struct idmap_range r[IDMAP_MAX];
                size_t n = 0;
                json_t *a = json_array();
                if (idmap_subid_read(files[f][0], name, (uid_t) -1, r, IDMAP_MAX, &n, &e) < 0)
                        berth_error_free(&e);
                json_int_t next = 0;
                for (size_t i = 0; i < n; i++) {
                        json_array_append_new(a, range_json(next, r[i].host, r[i].size));
                        next += r[i].size;
                        if (f == 0)
                                strbuf_printf(&text, "%s%s:%u:%u", i ? " " : "", name, (unsigned) r[i].host,
                                              (unsigned) r[i].size);
                }
                json_object_set_new(j, files[f][1], a);
        }
        *names_out = strbuf_steal(&text);
        return j;
}

static const char info_usage[] = "Usage:  berth info [OPTIONS]\n\n"
                                 "Display system-wide information\n\n"
                                 "Options:\n"
                                 "  -f, --format string   Format output using a custom template:\n"
                                 "                        'json': Print in JSON format\n"
                                 "                        'TEMPLATE': Print output using the given Go template\n";

int cmd_info(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *format = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (ch) {
                case 'f': format = optarg; break;
                case 'h': fputs(info_usage, stdout); return 0;
                default: return cli_usage_error(err, "info", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "info", "accepts no arguments");
        struct berth_container **cs = NULL;
        size_t nc = 0;
        if (cli_container_list(&cli->store, &cs, &nc, err) < 0)
                return -1;
        size_t running = 0, paused = 0, stopped = 0;
        for (size_t i = 0; i < nc; i++) {
                const char *st = container_status(cs[i]);
                if (streq(st, "running"))
                        running++;
                else if (streq(st, "paused"))
                        paused++;
                else
                        stopped++;
        }
        container_list_free(cs, nc);
        struct berth_image **imgs = NULL;
        size_t ni = 0;
        if (image_list(&cli->store, &imgs, &ni, err) < 0)
                return -1;
        image_list_free(imgs, ni);

        cleanup_free char *sd_version = NULL;
        cleanup_bus sd_bus *bus = NULL;
        berth_error_t e = NULL;
        if (unit_bus_open(&bus, &e) == 0)
                (void) sd_bus_get_property_string(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                  "org.freedesktop.systemd1.Manager", "Version", NULL, &sd_version);
        berth_error_free(&e);
        struct utsname u;
        uname(&u);
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        long long mem = (long long) sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
        /* Docker's field names, for --format */
        json_auto_t *info = json_pack(
                "{s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
                "Containers", (json_int_t) nc, "ContainersRunning", (json_int_t) running, "ContainersPaused",
                (json_int_t) paused, "ContainersStopped", (json_int_t) stopped, "Images", (json_int_t) ni,
                "ServerVersion", PACKAGE_VERSION, "Driver", "overlay", "LoggingDriver", "journald", "CgroupDriver",
                "systemd", "CgroupVersion", cgroup_layout(), "InitBinary", sd_version ? sd_version : "",
                "SecurityOptions", security_options(), "KernelVersion", u.release, "OperatingSystem", "Linux",
                "Architecture", u.machine, "NCPU", (json_int_t) ncpu, "MemTotal", (json_int_t) mem, "DockerRootDir",
                cli->store.root, "BerthRunDir", cli->store.run);
        if (!info)
                return berth_error(err, 0, "internal error: cannot build the info object");
        /* Docker's DriverStatus pairs; Podman shows a mount_program the same way
         * (GraphDriverName overlay, GraphOptions overlay.mount_program) */
        cleanup_free char *mount_program = NULL;
        if (overlay_mount_program(&mount_program, &e) < 0)
                berth_warn_error(&e, "the storage driver's mount program");
        json_t *driver_status = json_array();
        if (mount_program)
                json_array_append_new(driver_status, json_pack("[s,s]", "Mount Program", mount_program));
        json_object_set_new(info, "DriverStatus", driver_status);
        cleanup_free char *subuids = NULL;
        json_t *idm = id_mappings(&subuids);
        /* Podman's .Host.Security.Rootless; Docker's name=rootless */
        json_object_set_new(info, "Host", json_pack("{s:o, s:{s:b}}", "IDMappings", idm, "Security", "Rootless",
                                                    rootless()));
        if (rootless())
                json_array_append_new(json_object_get(info, "SecurityOptions"), json_string("name=rootless"));
        const char *userns_mode = json_str(idm, "UsernsMode");
        if (startswith(userns_mode, "userns-remap")) /* as Docker's */
                json_array_append_new(json_object_get(info, "SecurityOptions"), json_string("name=userns"));
        if (format) {
                cleanup_free char *out = NULL;
                if (streq(format, "json")) {
                        out = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER);
                } else if (template_render(format, info, &out, err) < 0)
                        return -1;
                printf("%s\n", out ? out : "");
                return 0;
        }
        cleanup_free char *memtext = format_human_size(mem);
        printf("Client:\n"
               " Version:    %s\n"
               " Context:    default (no daemon: containers are systemd units)\n\n"
               "Server:\n"
               " Containers: %zu\n"
               "  Running: %zu\n"
               "  Paused: %zu\n"
               "  Stopped: %zu\n"
               " Images: %zu\n"
               " Server Version: berth %s\n"
               " Storage Driver: overlay%s%s\n"
               " Logging Driver: journald\n"
               " Cgroup Driver: systemd\n"
               " Cgroup Version: %s\n"
               " Init Binary: systemd %s\n"
               " Network: %s\n"
               " Default Network: %s\n",
               PACKAGE_VERSION, nc, running, paused, stopped, ni, PACKAGE_VERSION,
               mount_program ? "\n  Mount Program: " : "", mount_program ?: "", cgroup_layout(),
               sd_version ? sd_version : "(not reachable)",
               rootless() ? "pasta (default), host, none" : "bridge (default), host, none, user networks (berth network create)",
               rootless() ? "pasta" : "bridge");
        if (rootless())
                printf(" Rootless: yes (the user's systemd manager, %s)\n", "systemctl --user");
        print_security_options(json_object_get(info, "SecurityOptions"));
        const char *idm_error = json_str(idm, "Error");
        printf(" User namespaces: %s%s%s%s\n", userns_mode, idm_error ? " (" : "", idm_error ?: "",
               idm_error ? ")" : "");
        if (subuids && *subuids)
                printf("  Subordinate uids: %s\n", subuids);
        else if (rootless())
                printf("  Subordinate uids: none (only uid 0 is mapped; see usermod --add-subuids)\n");
        printf(" Kernel Version: %s\n"
               " Operating System: Linux\n"
               " Architecture: %s\n"
               " CPUs: %ld\n"
               " Total Memory: %s\n"
               " Berth Root Dir: %s\n"
               " Berth Run Dir: %s\n",
               u.release, u.machine, ncpu, memtext, cli->store.root, cli->store.run);
        return 0;
}
