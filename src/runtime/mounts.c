/* berth — the container's filesystem as an ordered list of operations
 * (bubblewrap style): what gets mounted where, masked or made read-only is
 * data in the tables below, applied in order by mounts_apply(). */
#include "config.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "berth/mounts.h"
#include "berth/util.h"

/* Mounted under the new root before pivot_root (dst relative to it). */
static const struct mount_op base_ops[] = {
        { OP_PROC, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        { OP_TMPFS, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k" },
        { OP_MKNOD, "/dev/null", "/dev/null", NULL, 0, NULL },
        { OP_MKNOD, "/dev/zero", "/dev/zero", NULL, 0, NULL },
        { OP_MKNOD, "/dev/full", "/dev/full", NULL, 0, NULL },
        { OP_MKNOD, "/dev/random", "/dev/random", NULL, 0, NULL },
        { OP_MKNOD, "/dev/urandom", "/dev/urandom", NULL, 0, NULL },
        { OP_MKNOD, "/dev/tty", "/dev/tty", NULL, 0, NULL },
        { OP_MOUNT, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5" },
        { OP_SYMLINK, "pts/ptmx", "/dev/ptmx", NULL, 0, NULL },
        { OP_TMPFS, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k" },
        { OP_MOUNT, "mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
        { OP_SYMLINK, "/proc/self/fd", "/dev/fd", NULL, 0, NULL },
        { OP_SYMLINK, "/proc/self/fd/0", "/dev/stdin", NULL, 0, NULL },
        { OP_SYMLINK, "/proc/self/fd/1", "/dev/stdout", NULL, 0, NULL },
        { OP_SYMLINK, "/proc/self/fd/2", "/dev/stderr", NULL, 0, NULL },
        { OP_SYMLINK, "/proc/kcore", "/dev/core", NULL, 0, NULL },
        { OP_MOUNT, "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL },
        { OP_MOUNT_OPTIONAL, "cgroup", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL },
};

/* Applied after pivot_root unless --privileged: Docker's masked and
 * read-only paths. */
static const struct mount_op confine_ops[] = {
        { OP_MASK, NULL, "/proc/asound", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/acpi", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/kcore", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/keys", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/latency_stats", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/timer_list", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/timer_stats", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/sched_debug", NULL, 0, NULL },
        { OP_MASK, NULL, "/proc/scsi", NULL, 0, NULL },
        { OP_MASK, NULL, "/sys/firmware", NULL, 0, NULL },
        { OP_MASK, NULL, "/sys/devices/virtual/powercap", NULL, 0, NULL },
        { OP_READONLY, NULL, "/proc/bus", NULL, 0, NULL },
        { OP_READONLY, NULL, "/proc/fs", NULL, 0, NULL },
        { OP_READONLY, NULL, "/proc/irq", NULL, 0, NULL },
        { OP_READONLY, NULL, "/proc/sys", NULL, 0, NULL },
        { OP_READONLY, NULL, "/proc/sysrq-trigger", NULL, 0, NULL },
};

const struct mount_op *mounts_base(size_t *n)
{
        *n = ARRAY_SIZE(base_ops);
        return base_ops;
}

const struct mount_op *mounts_confine(size_t *n)
{
        *n = ARRAY_SIZE(confine_ops);
        return confine_ops;
}

/* Create the mount point dst (a dir, or an empty file when want_file). */
static int ensure_target(const char *dst, bool want_file)
{
        struct stat st;
        if (lstat(dst, &st) == 0)
                return 0;
        cleanup_free char *parent = xstrdup(dst);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
                *slash = '\0';
                if (mkdir_p(parent, 0755, NULL) < 0)
                        return -errno;
        }
        if (want_file) {
                int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return -errno;
                close(fd);
                return 0;
        }
        if (mkdir(dst, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The flags a read-only remount of dst's bind must keep: in a user
 * namespace the kernel refuses to drop the nosuid, nodev, noexec and atime
 * flags of a mount that came from the host. */
static unsigned long kept_flags(const char *dst)
{
        struct statvfs sv;
        if (statvfs(dst, &sv) < 0)
                return 0;
        unsigned long f = 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

static int remount_ro(const char *dst, unsigned long extra)
{
        if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | extra | kept_flags(dst), NULL) < 0)
                return -errno;
        return 0;
}

static int bind_ro(const char *dst, unsigned long extra)
{
        if (mount(dst, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        return remount_ro(dst, extra);
}

static int secret_apply(const struct mount_op *op, const char *dst)
{
        if (mkdir_p(op->src, 0700, NULL) < 0)
                return -errno;
        /* room for the value: tmpfs rounds the size up to pages */
        cleanup_free char *opts = xasprintf("mode=0700,size=%zu", op->content_len + 4096);
        if (mount("tmpfs", op->src, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
                return -errno;
        cleanup_free char *file = xasprintf("%s/value", op->src);
        cleanup_close int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, op->content, op->content_len);
        if (r == 0 && (fchown(fd, op->uid, op->gid) < 0 || fchmod(fd, op->mode) < 0))
                r = -errno;
        if (r == 0)
                r = ensure_target(dst, true);
        if (r == 0 && mount(file, dst, NULL, MS_BIND, NULL) < 0)
                r = -errno;
        if (r == 0 && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                            NULL) < 0)
                r = -errno;
        /* a mount point inside the container (user namespaces): the bound
         * file keeps the tmpfs, the mount point goes */
        if (r == 0 && op->src[0] == '.' && (umount2(op->src, MNT_DETACH) < 0 || rmdir(op->src) < 0))
                r = -errno;
        return r;
}

/* root is prefixed to dst ("" after pivot_root). */
static int mount_op_apply(const struct mount_op *op, const char *root, berth_error_t *err)
{
        cleanup_free char *dst = xasprintf("%s%s", root, op->dst);
        struct stat st;
        int r = 0;
        switch (op->kind) {
        case OP_PROC:
        case OP_TMPFS:
        case OP_MOUNT:
        case OP_MOUNT_OPTIONAL:
                r = ensure_target(dst, false);
                if (r == 0 && mount(op->src, dst, op->fstype, op->flags, op->data) < 0)
                        r = -errno;
                /* the tty group (gid 5) is not mapped when a user has no
                 * subordinate ids: the ptys then belong to the user's group */
                if (r == -EINVAL && op->fstype && streq(op->fstype, "devpts")) {
                        r = 0;
                        if (mount(op->src, dst, op->fstype, op->flags, "newinstance,ptmxmode=0666,mode=0620") < 0)
                                r = -errno;
                }
                /* a user namespace may mount a sysfs only for a network
                 * namespace of its own: with the host's network (a user's
                 * --network host), the host's /sys read-only, as crun does */
                if (r == -EPERM && op->fstype && streq(op->fstype, "sysfs")) {
                        r = 0;
                        if (mount("/sys", dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                                r = -errno;
                        else
                                r = remount_ro(dst, MS_NOSUID | MS_NODEV | MS_NOEXEC);
                }
                if (r < 0 && op->kind == OP_MOUNT_OPTIONAL)
                        r = 0;
                break;
        case OP_MKNOD:
                if (stat(op->src, &st) < 0)
                        return berth_error(err, errno, "stat `%s`", op->src);
                if (mknod(dst, S_IFCHR | 0666, st.st_rdev) < 0) {
                        /* no mknod right (nested): bind the host's node */
                        r = ensure_target(dst, true);
                        if (r == 0 && mount(op->src, dst, NULL, MS_BIND, NULL) < 0)
                                r = -errno;
                } else
                        (void) chmod(dst, 0666);
                break;
        case OP_DEVICE: {
                if (stat(op->src, &st) < 0)
                        return berth_error(err, errno, "error gathering device information while adding device `%s`",
                                           op->src);
                cleanup_free char *parent = xstrdup(dst);
                *strrchr(parent, '/') = '\0';
                if (mkdir_p(parent, 0755, NULL) < 0) {
                        r = -errno;
                        break;
                }
                if (mknod(dst, st.st_mode & (S_IFMT | 07777), st.st_rdev) == 0) {
                        /* mknod applied the umask; the owner is the host node's too */
                        if (chmod(dst, st.st_mode & 07777) < 0 || chown(dst, st.st_uid, st.st_gid) < 0)
                                r = -errno;
                } else if (errno == EEXIST) {
                        /* already there: the standard nodes under --privileged */
                } else {
                        r = ensure_target(dst, true);
                        if (r == 0 && mount(op->src, dst, NULL, MS_BIND, NULL) < 0)
                                r = -errno;
                }
                break;
        }
        case OP_SYMLINK:
                if (symlink(op->src, dst) < 0 && errno != EEXIST)
                        r = -errno;
                break;
        case OP_BIND:
        case OP_BIND_RO: {
                if (stat(op->src, &st) < 0)
                        return berth_error(err, errno, "bind mount source `%s`", op->src);
                r = ensure_target(dst, !S_ISDIR(st.st_mode));
                if (r == 0 && mount(op->src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
                        r = -errno;
                if (r == 0 && op->kind == OP_BIND_RO)
                        r = remount_ro(dst, 0);
                break;
        }
        case OP_MASK:
                if (lstat(dst, &st) < 0)
                        return 0; /* nothing to mask */
                if (S_ISDIR(st.st_mode)) {
                        if (mount("tmpfs", dst, "tmpfs", MS_RDONLY, NULL) < 0)
                                r = -errno;
                } else if (mount("/dev/null", dst, NULL, MS_BIND, NULL) < 0)
                        r = -errno;
                break;
        case OP_READONLY:
                if (lstat(dst, &st) < 0)
                        return 0;
                r = bind_ro(dst, MS_NOSUID | MS_NODEV | MS_NOEXEC);
                break;
        case OP_SECRET:
                if ((r = secret_apply(op, dst)) < 0)
                        return berth_error(err, -r, "put a secret at `%s`", op->dst);
                break;
        }
        if (r < 0)
                return berth_error(err, -r, "mount %s on `%s`", op->src ? op->src : "", op->dst);
        return 0;
}

int mounts_apply(const struct mount_op *ops, size_t n, const char *root, berth_error_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (mount_op_apply(&ops[i], root, err) < 0)
                        return -1;
        return 0;
}
