/* berth — the user namespace a user's berth works in (rootless).
 *
 * A user's store holds files of every id an image has: a layer's root-owned
 * files belong to the user, and id N > 0 to the Nth id of the user's
 * subordinate range (/etc/subuid, /etc/subgid), as in Podman's storage.
 * To write them, berth enters a user namespace with that mapping — made by
 * Debian's setuid newuidmap/newgidmap (package uidmap), which check the
 * ranges — and becomes its root; a mount namespace of its own comes with
 * it, so overlay mounts stay berth's.  A user without subordinate ranges
 * gets one line about it and the single-id mapping (only id 0 is mapped:
 * images with files of other owners cannot be unpacked).
 *
 * While the user's berth-netns.service runs (the network namespace of
 * the user's bridge networks, src/network/user-network.c), every berth
 * process of the user joins its user namespace instead of making one: a
 * network namespace can be entered only from the user namespace that owns
 * it, and so the shims of containers on those networks, and `network
 * connect`, can wire them there.  The mapping is the same either way. */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "berth/idmap.h"
#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/util.h"

static bool entered;

int rootless_maps(struct idmap *uids, struct idmap *gids, berth_error_t *err)
{
        struct passwd *pw = getpwuid(rootless_uid());
        cleanup_free char *name = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned) rootless_uid());
        struct idmap *maps[2] = { uids, gids };
        const char *paths[2] = { IDMAP_SUBUID_PATH, IDMAP_SUBGID_PATH };
        uint32_t self[2] = { rootless_uid(), rootless_gid() };
        for (int k = 0; k < 2; k++) {
                struct idmap_range sub[IDMAP_MAX];
                size_t n;
                if (idmap_subid_read(paths[k], name, rootless_uid(), sub, IDMAP_MAX - 1, &n, err) < 0)
                        return -1;
                *maps[k] = (struct idmap) { 0 };
                struct idmap_range r = { 0, self[k], 1 };
                if (idmap_add(maps[k], &r, paths[k], err) < 0)
                        return -1;
                uint32_t next = 1;
                for (size_t i = 0; i < n; i++) {
                        r = (struct idmap_range) { next, sub[i].host, sub[i].size };
                        if (idmap_add(maps[k], &r, paths[k], err) < 0)
                                return -1;
                        next += sub[i].size;
                }
        }
        return 0;
}

/* newuidmap PID 0 UID 1 SUB N ... (its argv) */
static char **map_argv(const char *prog, pid_t pid, const struct idmap *m)
{
        char **argv = NULL;
        strv_push(&argv, prog);
        char num[16];
        snprintf(num, sizeof(num), "%d", (int) pid);
        strv_push(&argv, num);
        for (size_t i = 0; i < m->n; i++) {
                uint32_t v[3] = { m->r[i].container, m->r[i].host, m->r[i].size };
                for (int k = 0; k < 3; k++) {
                        snprintf(num, sizeof(num), "%u", v[k]);
                        strv_push(&argv, num);
                }
        }
        return argv;
}

static int run_map_helper(char **argv, berth_error_t *err)
{
        pid_t p = fork();
        if (p < 0)
                return berth_error(err, errno, "fork");
        if (p == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        while (waitpid(p, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_error(err, errno, "wait for %s", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return berth_error(err, 0, "%s is missing: install it (Debian: apt-get install uidmap)", argv[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "%s refused the mapping (see its message above; /etc/subuid and "
                                           "/etc/subgid must give the user these ranges)",
                                   argv[0]);
        return 0;
}

int rootless_write_maps(pid_t pid, const struct idmap *uids, const struct idmap *gids, berth_error_t *err)
{
        cleanup_strv char **u = map_argv("/usr/bin/newuidmap", pid, uids);
        cleanup_strv char **g = map_argv("/usr/bin/newgidmap", pid, gids);
        if (run_map_helper(u, err) < 0 || run_map_helper(g, err) < 0)
                return -1;
        return 0;
}

static int write_self(const char *file, const char *text, berth_error_t *err)
{
        cleanup_close int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                return berth_error(err, errno, "write %s", file);
        return 0;
}

/* ---- the user's network namespace (berth-netns.service) ------------------ */

static int held_netns = -1;

char *rootless_holder_path(void)
{
        cleanup_free char *run = NULL;
        berth_error_t e = NULL;
        if (rootless_runtime_dir(&run, &e) < 0) {
                berth_error_free(&e);
                return NULL;
        }
        return xasprintf("%s/netns.pid", run);
}

/* /proc/PID/ns/NAME, opened (-1 with errno). */
static int ns_open(pid_t pid, const char *name)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int) pid, name);
        return open(p, O_RDONLY | O_CLOEXEC);
}

/* The holder's namespaces, if its pid file names a live holder: the inodes
 * recorded there are the ones /proc/PID/ns/ shows (a reused pid is not). */
static int holder_open(int *userns, int *netns)
{
        cleanup_free char *path = rootless_holder_path(), *text = NULL;
        int pid;
        unsigned long long uino, nino;
        if (!path || read_file(path, &text, NULL, NULL) < 0 || sscanf(text, "%d %llu %llu", &pid, &uino, &nino) != 3 ||
            pid <= 1)
                return -1;
        cleanup_close int u = ns_open(pid, "user"), n = ns_open(pid, "net");
        struct stat su, sn;
        if (u < 0 || n < 0 || fstat(u, &su) < 0 || fstat(n, &sn) < 0 || su.st_ino != uino || sn.st_ino != nino)
                return -1;
        *userns = steal_fd(&u);
        *netns = steal_fd(&n);
        return 0;
}

int rootless_netns_fd(void)
{
        return held_netns;
}

static int become_root(bool single, berth_error_t *err)
{
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return berth_error(err, errno, "become root in the user namespace");
        if (!single && setgroups(0, NULL) < 0)
                return berth_error(err, errno, "setgroups in the user namespace");
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return berth_error(err, errno, "create a mount namespace");
        /* programs berth runs in here know whom they work for */
        char buf[32];
        snprintf(buf, sizeof(buf), "%u:%u", (unsigned) rootless_uid(), (unsigned) rootless_gid());
        setenv("BERTH_ROOTLESS_ID", buf, 1);
        entered = true;
        return 0;
}

/* Become root of an existing user namespace of the user's (its setgroups
 * as its maker left it). */
static int become_root_of(void)
{
        cleanup_free char *sg = NULL;
        bool denied = read_file("/proc/self/setgroups", &sg, NULL, NULL) == 0 && startswith(sg, "deny");
        berth_error_t e = NULL;
        if (become_root(denied, &e) < 0) {
                berth_warn("%s", e->msg);
                berth_error_free(&e);
                return -1;
        }
        return 0;
}

/* Join the holder's user namespace (the same mapping as a new one). */
static int holder_join(void)
{
        int u = -1, n = -1;
        if (holder_open(&u, &n) < 0)
                return -1;
        int r = setns(u, CLONE_NEWUSER);
        close(u);
        if (r < 0) {
                close(n);
                return -1;
        }
        if (become_root_of() < 0) {
                /* in it already: there is no going back */
                close(n);
                return -2;
        }
        held_netns = n;
        return 0;
}

static int enter_new(berth_error_t *err);

int rootless_enter_pid(pid_t pid, berth_error_t *err)
{
        if (!rootless() || entered)
                return 0;
        cleanup_close int u = ns_open(pid, "user");
        /* the user's own: made by one of the user's berth processes */
        uid_t owner = (uid_t) -1;
        if (u < 0 || ioctl(u, NS_GET_OWNER_UID, &owner) < 0 || owner != rootless_uid())
                return berth_error(err, u < 0 ? errno : 0, "the user namespace of process %d is not the user's",
                                   (int) pid);
        if (setns(u, CLONE_NEWUSER) < 0)
                return berth_error(err, errno, "join the user namespace of process %d", (int) pid);
        if (become_root_of() < 0)
                return berth_error(err, 0, "cannot work in the user namespace of process %d", (int) pid);
        return 0;
}

int rootless_enter(berth_error_t *err)
{
        if (!rootless() || entered)
                return 0;
        int r = holder_join();
        if (r == 0)
                return 0;
        if (r == -2)
                return berth_error(err, 0, "cannot work in the user namespace of berth-netns.service");
        return enter_new(err);
}

int rootless_enter_new(berth_error_t *err)
{
        if (!rootless() || entered)
                return 0;
        return enter_new(err);
}

static int enter_new(berth_error_t *err)
{
        struct idmap uids, gids;
        if (rootless_maps(&uids, &gids, err) < 0)
                return -1;
        bool single = uids.n == 1 || gids.n == 1;
        if (single) {
                struct passwd *pw = getpwuid(rootless_uid());
                berth_warn("no subordinate ids for %s in /etc/subuid and /etc/subgid: only uid 0 of containers "
                           "is mapped (add a range with `usermod --add-subuids 100000-165535 --add-subgids "
                           "100000-165535 %s`)",
                           pw ? pw->pw_name : "the user", pw ? pw->pw_name : "USER");
                uids.n = gids.n = 1;
        }

        int sync[2];
        if (pipe2(sync, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        pid_t self = getpid(), helper = -1;
        if (!single) {
                helper = fork();
                if (helper < 0)
                        return berth_error(err, errno, "fork");
                if (helper == 0) {
                        /* map the parent once it has unshared */
                        char c;
                        close(sync[1]);
                        if (read(sync[0], &c, 1) != 1)
                                _exit(1);
                        berth_error_t e = NULL;
                        if (rootless_write_maps(self, &uids, &gids, &e) < 0) {
                                berth_warn("%s", e->msg);
                                _exit(1);
                        }
                        _exit(0);
                }
        }
        close(sync[0]);
        int r = unshare(CLONE_NEWUSER);
        int unshare_errno = errno;
        if (write(sync[1], "U", 1) != 1 && helper > 0)
                kill(helper, SIGKILL);
        close(sync[1]);
        if (helper > 0) {
                int status;
                while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
                        ;
                if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                        return berth_error(err, 0, "map the user namespace of %s's containers with newuidmap",
                                           getpwuid(rootless_uid()) ? getpwuid(rootless_uid())->pw_name : "the user");
        }
        if (r < 0)
                return berth_error(err, unshare_errno, "create a user namespace (is user.max_user_namespaces 0?)");
        if (single) {
                cleanup_free char *u = xasprintf("0 %u 1\n", (unsigned) rootless_uid());
                cleanup_free char *g = xasprintf("0 %u 1\n", (unsigned) rootless_gid());
                if (write_self("/proc/self/setgroups", "deny", err) < 0 ||
                    write_self("/proc/self/uid_map", u, err) < 0 || write_self("/proc/self/gid_map", g, err) < 0)
                        return -1;
        }
        return become_root(single, err);
}
