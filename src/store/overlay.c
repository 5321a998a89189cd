/* berth — an overlay of the store's layers: the kernel's, or fuse-overlayfs
 * for a user (see include/berth/overlay.h). */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "berth/json-util.h"
#include "berth/overlay.h"
#include "berth/rootless.h"
#include "berth/store.h"
#include "berth/util.h"

#define FUSE_OPAQUE_XATTR "user.fuseoverlayfs.opaque"

int overlay_mount_program(char **out, berth_error_t *err)
{
        *out = NULL;
        if (!rootless())
                return 0;
        cleanup_free char *dir = rootless_config_dir();
        cleanup_free char *path = xasprintf("%s/config.json", dir);
        return overlay_mount_program_read(path, out, err);
}

int overlay_mount_program_read(const char *path, char **out, berth_error_t *err)
{
        if (json_config_string(path, "mount-program", out, err) < 0)
                return -1;
        if (*out && (*out)[0] != '/') {
                berth_error(err, 0, "%s: \"mount-program\" must be an absolute path, not `%s`", path, *out);
                free(steal_pointer(out));
                return -1;
        }
        return 0;
}

/* NAME in $PATH (the default path without one), NULL when it is not there */
static char *find_program(const char *name)
{
        const char *path = getenv("PATH");
        cleanup_free char *copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if (d[0] != '/')
                        continue;
                char *p = xasprintf("%s/%s", d, name);
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

/* The daemons tied to this process (overlay_mounts_end()). */
static pid_t *own_daemons;
static size_t n_own_daemons;

/* The first line of what the program said (its anonymous output file). */
static char *program_said(int fd)
{
        char buf[512];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return *buf ? xstrdup(buf) : NULL;
}

static __attribute__((noreturn)) void exec_daemon(const char *program, const char *opts, const char *target,
                                                  int out, pid_t parent, bool tied)
{
        if (tied && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent))
                _exit(1);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(out, 2) < 0)
                _exit(1);
        (void) setsid();
        syscall(SYS_close_range, 3, ~0U, 0);
        execl(program, program, "-f", "-o", opts, target, (char *) NULL);
        dprintf(2, "cannot run %s: %s\n", program, strerror(errno));
        _exit(127);
}

/* fuse-overlayfs in the foreground: mounted once TARGET is another file
 * system than before; an exit before that is its failure. */
static int fuse_mount(const char *program, const char *target, const char *opts, pid_t *daemon, berth_error_t *err)
{
        struct stat before, now;
        if (stat(target, &before) < 0)
                return berth_error(err, errno, "the mount point `%s`", target);
        cleanup_close int out = memfd_create("fuse-overlayfs", MFD_CLOEXEC);
        if (out < 0)
                return berth_error(err, errno, "memfd_create");
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return berth_error(err, errno, "fork %s", program);
        if (pid == 0)
                exec_daemon(program, opts, target, out, parent, !daemon);
        for (int i = 0; i < 3000; i++) { /* 30 s */
                int status;
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid || (r < 0 && errno == ECHILD)) {
                        cleanup_free char *said = program_said(out);
                        if (said)
                                return berth_error(err, 0, "%s failed: %s", program, said);
                        return berth_error(err, 0, "%s failed (exit status %d)", program,
                                           r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                }
                if (stat(target, &now) == 0 && now.st_dev != before.st_dev) {
                        if (daemon)
                                *daemon = pid;
                        else {
                                own_daemons = xrealloc(own_daemons, (n_own_daemons + 1) * sizeof(pid_t));
                                own_daemons[n_own_daemons++] = pid;
                        }
                        return 0;
                }
                usleep(10000);
        }
        kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return berth_error(err, 0, "%s did not mount `%s` within 30 s", program, target);
}

int overlay_mount(const char *dir, const char *target, const char *opts, unsigned long flags, pid_t *daemon,
                  berth_error_t *err)
{
        if (daemon)
                *daemon = 0;
        cleanup_free char *program = NULL;
        if (overlay_mount_program(&program, err) < 0)
                return -1;
        if (dir && chdir(dir) < 0)
                return berth_error(err, errno, "enter `%s`", dir);
        if (!program) {
                cleanup_free char *kopts = xasprintf("%s%s", opts, overlay_mount_extra());
                if (mount("overlay", target, "overlay", flags, kopts) == 0)
                        return 0;
                int e = errno;
                if (!rootless() || (e != EPERM && e != EINVAL && e != ENODEV))
                        return berth_error(err, e, "mount overlayfs");
                program = find_program("fuse-overlayfs");
                if (!program)
                        return berth_error(err, 0, "the kernel refuses overlayfs in a user namespace and "
                                                   "fuse-overlayfs is not installed (apt-get install fuse-overlayfs)");
        } else if (access(program, X_OK) < 0) {
                cleanup_free char *cfg = rootless_config_dir();
                return berth_error(err, errno, "the mount program `%s` (\"mount-program\" of %s/config.json)",
                                   program, cfg);
        }
        return fuse_mount(program, target, opts, daemon, err);
}

/* SIGTERM: the daemon unmounts and exits; SIGKILL after 2 s */
static void daemon_end(int pidfd, pid_t pid)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0)
                return;
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        if (poll(&p, 1, 2000) == 0) {
                berth_warn("fuse-overlayfs (pid %d) did not end on SIGTERM: killed", (int) pid);
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                (void) poll(&p, 1, 2000);
        }
}

void overlay_mounts_end(void)
{
        for (size_t i = 0; i < n_own_daemons; i++) {
                cleanup_close int fd = (int) syscall(SYS_pidfd_open, own_daemons[i], 0);
                if (fd >= 0)
                        daemon_end(fd, own_daemons[i]);
                (void) waitpid(own_daemons[i], NULL, 0);
        }
        free(own_daemons);
        own_daemons = NULL;
        n_own_daemons = 0;
}

char *overlay_container_pidfile(const struct berth_store *s, const char *id)
{
        return store_run_path(s, "containers/%s/fuse-overlayfs.pid", id);
}

int overlay_daemon_record(const char *pidfile, pid_t daemon, berth_error_t *err)
{
        cleanup_free char *text = xasprintf("%d %lld\n", (int) daemon, proc_starttime(daemon));
        return write_file_atomic_sync(pidfile, text, strlen(text), 0600, WRITE_VOLATILE, err);
}

void overlay_daemon_stop(const char *pidfile)
{
        cleanup_free char *text = NULL;
        if (read_file(pidfile, &text, NULL, NULL) < 0)
                return;
        int pid = 0;
        long long start = 0;
        if (sscanf(text, "%d %lld", &pid, &start) == 2 && pid > 1) {
                /* a pidfd, so the check and the signal are about one process */
                cleanup_close int fd = (int) syscall(SYS_pidfd_open, pid, 0);
                if (fd >= 0 && proc_starttime(pid) == start)
                        daemon_end(fd, pid);
        }
        (void) unlink(pidfile);
}

bool overlay_dir_opaque(int fd)
{
        char v[4];
        ssize_t n = fgetxattr(fd, overlay_opaque_xattr(), v, sizeof(v));
        if (n < 0 && rootless())
                n = fgetxattr(fd, FUSE_OPAQUE_XATTR, v, sizeof(v));
        if (n == 1 && v[0] == 'y')
                return true;
        struct stat st;
        return rootless() && fstatat(fd, OVERLAY_FUSE_OPAQUE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISREG(st.st_mode);
}
