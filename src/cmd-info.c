/* berth version / info. */
#include "config.h"

#include <sys/utsname.h>
#include <sys/vfs.h>
#include <systemd/sd-bus.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/image.h"
#include "berth/unit.h"
#include "berth/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

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
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                return "2 (unified)";
        if (access("/sys/fs/cgroup/unified", F_OK) == 0)
                return "1 (hybrid: v1 controllers, cgroup2 for systemd)";
        return "1 (legacy)";
}

int cmd_info(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        struct berth_container **cs = NULL;
        size_t nc = 0;
        if (cli_container_list(&cli->store, &cs, &nc, err) < 0)
                return -1;
        size_t running = 0, stopped = 0;
        for (size_t i = 0; i < nc; i++) {
                const char *st = container_status(cs[i]);
                if (streq(st, "running"))
                        running++;
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
        cleanup_free char *memtext = format_human_size(mem);
        printf("Client:\n"
               " Version:    %s\n"
               " Context:    default (no daemon: containers are systemd units)\n\n"
               "Server:\n"
               " Containers: %zu\n"
               "  Running: %zu\n"
               "  Paused: 0\n"
               "  Stopped: %zu\n"
               " Images: %zu\n"
               " Server Version: berth %s\n"
               " Storage Driver: overlay\n"
               " Logging Driver: journald\n"
               " Cgroup Driver: systemd\n"
               " Cgroup Version: %s\n"
               " Init Binary: systemd %s\n"
               " Network: bridge (default), host, none, user networks (berth network create)\n"
               " Default Network: bridge\n"
               " Security Options:\n"
               "  seccomp\n"
               "   Profile: builtin\n"
               " Kernel Version: %s\n"
               " Operating System: Linux\n"
               " Architecture: %s\n"
               " CPUs: %ld\n"
               " Total Memory: %s\n"
               " Berth Root Dir: %s\n"
               " Berth Run Dir: %s\n",
               PACKAGE_VERSION, nc, running, stopped, ni, PACKAGE_VERSION, cgroup_layout(),
               sd_version ? sd_version : "(not reachable)", u.release, u.machine, ncpu, memtext, cli->store.root,
               cli->store.run);
        return 0;
}
