/* berth — the network namespace of a user's bridge networks.
 *
 * A user may make bridges, veths and nftables rules only in a network
 * namespace that the user's own user namespace owns.  So a user's bridge
 * networks (`berth network create`, `--network NAME`) live in one network
 * namespace of the user's: berth-netns.service (units/user), a unit of
 * the user's manager that runs `berth-runtime _netns`, as Podman's
 * rootless netns.  That process makes a user namespace with the user's
 * mapping and a network namespace in it, starts pasta for the namespace's
 * way out (the host's address and default route on its eth0, traffic
 * carried over the user's sockets on the host), writes its pid file and
 * says READY=1; then it only holds the two namespaces until it is stopped.
 *
 * While it runs, each berth process of the user joins its user namespace
 * (rootless_enter(), store/rootless-ns.c), so the shim of a container on
 * those networks may enter the namespace and wire the container there
 * exactly as root's shim wires one in the host's: the bridge, the veth, the
 * masquerade of the nft table `ip berth`, the members' /etc/hosts by which
 * the containers reach each other by name.
 *
 * A container on a user's bridge network BindsTo= and is After= the unit,
 * so systemd starts it first and stops the containers with it; the unit is
 * StopWhenUnneeded=, so it goes when its last such container stops and
 * nothing of berth's is left running. */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/rootless-ns.h"
#include "berth/rootless.h"
#include "berth/util.h"

int network_user_enter(berth_error_t *err)
{
        static bool moved;
        if (!rootless() || moved)
                return 0;
        int fd = rootless_netns_fd();
        if (fd < 0)
                return berth_error(err, 0, "the user's bridge networks are down: %s is not running "
                                           "(systemctl --user status %s)",
                                   NETWORK_USER_UNIT, NETWORK_USER_UNIT);
        /* for good: root of a user namespace may not go back to the host's */
        if (setns(fd, CLONE_NEWNET) < 0)
                return berth_error(err, errno, "enter the network namespace of the user's networks");
        moved = true;
        return 0;
}

static int write_pid_file(const char *path, berth_error_t *err)
{
        struct stat su, sn;
        if (stat("/proc/self/ns/user", &su) < 0 || stat("/proc/self/ns/net", &sn) < 0)
                return berth_error(err, errno, "stat the namespaces of berth-netns");
        cleanup_free char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        cleanup_free char *text = xasprintf("%d %llu %llu\n", (int) getpid(), (unsigned long long) su.st_ino,
                                            (unsigned long long) sn.st_ino);
        if (mkdir_p(dir, 0700, err) < 0 || write_file_atomic(path, text, strlen(text), 0600, err) < 0)
                return -1;
        return 0;
}

int network_holder_main(berth_error_t *err)
{
        if (!rootless())
                return berth_error(err, 0, "%s is a user's unit (systemctl --user): root's networks live in the "
                                           "host's network namespace",
                                   NETWORK_USER_UNIT);
        cleanup_free char *pidfile = rootless_holder_path();
        if (!pidfile)
                return berth_error(err, 0, "the user has no runtime directory ($XDG_RUNTIME_DIR)");
        if (rootless_enter_new(err) < 0)
                return -1;
        /* pasta's sockets are the host's: it runs from a child left there
         * (a user namespace's root may not enter the host's namespace) */
        int go[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        pid_t helper = fork();
        if (helper < 0)
                return berth_error(err, errno, "fork");
        if (helper == 0) {
                close(go[1]);
                char c;
                if (read(go[0], &c, 1) != 1)
                        _exit(1);
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) getppid());
                cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
                berth_error_t e = NULL;
                if (ns < 0)
                        berth_error(&e, errno, "open the network namespace of the user's networks");
                if (e || pasta_run_netns("the user's networks", ns, NULL, NULL, NULL, &e) < 0) {
                        fprintf(stderr, "berth: %s\n", e->msg);
                        _exit(1);
                }
                _exit(0);
        }
        close(go[0]);
        int r = unshare(CLONE_NEWNET) < 0 ? berth_error(err, errno, "create the network namespace of the user's networks")
                                           : nl_loopback_up(err);
        if (r == 0 && write(go[1], "G", 1) != 1)
                r = berth_error(err, errno, "start pasta");
        close(go[1]);
        int status;
        while (waitpid(helper, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_error(err, errno, "wait for pasta");
        if (r < 0)
                return -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "the user's networks have no way out (pasta failed, see above)");
        /* berth's processes open /proc/PID/ns/ of this one to join it */
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if (write_pid_file(pidfile, err) < 0)
                return -1;
        (void) sd_notify(0, "READY=1\nSTATUS=holding the network namespace of the user's bridge networks");
        int sig = 0;
        while (sigwait(&ss, &sig) != 0)
                ;
        (void) sd_notify(0, "STOPPING=1");
        (void) unlink(pidfile);
        return 0;
}
