/* berth — a container in its own user namespace (idmap.h): the maps
 * written by the shim, the overlay root mounted by a host-root helper in the
 * container's mount namespace over idmapped image layers, and the container
 * process becoming the namespace's root. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "berth/runtime-internal.h"
#include "berth/util.h"

static int write_map(pid_t pid, const char *what, const struct idmap *m, berth_error_t *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, what);
        cleanup_free char *text = idmap_proc_text(m);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                return berth_error(err, errno, "write the container's %s", what);
        return 0;
}

int userns_write_maps(pid_t pid, const struct idmap *uids, const struct idmap *gids, berth_error_t *err)
{
        if (write_map(pid, "uid_map", uids, err) < 0 || write_map(pid, "gid_map", gids, err) < 0)
                return -1;
        return 0;
}

/* A copy of the mount at path, idmapped to the container's user namespace,
 * mounted on target (made here). */
static int idmapped_copy(int userns_fd, const char *path, const char *target, berth_error_t *err)
{
        cleanup_close int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns_fd };
        if (fd < 0 || mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 || mkdir(target, 0700) < 0 ||
            move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return berth_error(err, errno, "idmap `%s`", path);
        return 0;
}

/* A user's keep-id or nomap container: its lower dir is a copy of the
 * image with the ids shifted (volume_copy_image_mapped()), so a plain
 * overlay, mounted by root of berth's namespace (the store's owner), shows
 * the container the image's ids. */
static int mount_user_overlay(int userns_fd, const struct userns_rootfs *r, berth_error_t *err)
{
        (void) userns_fd;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make mounts private");
        cleanup_free char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", r->lower, r->upper,
                                            r->work);
        if (chdir(r->store_root) < 0 || mount("overlay", r->rootfs, "overlay", 0, opts) < 0)
                return berth_error(err, errno, "mount the container's overlay root");
        return 0;
}

/* In the helper, in the container's mount namespace: each image layer
 * idmapped (OPEN_TREE_CLONE + MOUNT_ATTR_IDMAP) under scratch/N, then the
 * overlay on rootfs with those as its lower layers.  The helper keeps host
 * root's credentials, so the overlay's upper and work dirs are the store's
 * and what the container writes lands with its mapped host ids. */
static int mount_idmapped_root(int userns_fd, const struct userns_rootfs *r, berth_error_t *err)
{
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make mounts private");
        if (mkdir_p(r->scratch, 0700, err) < 0)
                return -1;
        if (mount("tmpfs", r->scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
                return berth_error(err, errno, "mount a tmpfs on `%s`", r->scratch);
        if (chdir(r->store_root) < 0)
                return berth_error(err, errno, "chdir to `%s`", r->store_root);
        cleanup_free char *lowers = xstrdup(r->lower);
        struct strbuf opt = {};
        strbuf_adds(&opt, "lowerdir=");
        char *save = NULL;
        size_t i = 0;
        for (char *l = strtok_r(lowers, ":", &save); l; l = strtok_r(NULL, ":", &save), i++) {
                cleanup_free char *target = xasprintf("%s/%zu", r->scratch, i);
                if (idmapped_copy(userns_fd, l, target, err) < 0) {
                        free(opt.s);
                        return berth_error_wrap(err, "the image layer `%s`", l);
                }
                strbuf_printf(&opt, "%s%zu", i ? ":" : "", i);
        }
        strbuf_printf(&opt, ",upperdir=%s,workdir=%s", r->upper, r->work);
        cleanup_free char *opts = strbuf_steal(&opt);
        /* lowerdir= is relative to scratch: the option text stays short */
        if (chdir(r->scratch) < 0 || mount("overlay", r->rootfs, "overlay", 0, opts) < 0)
                return berth_error(err, errno, "mount the container's overlay root over idmapped layers");
        for (size_t b = 0; r->idmapped && r->idmapped[b]; b++) {
                cleanup_free char *target = xasprintf("%s/b%zu", r->scratch, b);
                if (idmapped_copy(userns_fd, r->idmapped[b], target, err) < 0)
                        return berth_error_wrap(err, "-v %s:...:idmap", r->idmapped[b]);
        }
        return 0;
}

/* A new instance of fstype (proc, sysfs), detached: made by a process of
 * the container's PID and network namespaces but of the host's mount
 * namespace, where the kernel does not ask whether the host's own /proc and
 * /sys are fully visible (in the harness, or under a container manager that
 * masks parts of them, they are not, and a user namespace could not mount
 * them at all). */
static int fs_detached(const char *fstype, unsigned attrs, berth_error_t *err)
{
        cleanup_close int fs = fsopen(fstype, FSOPEN_CLOEXEC);
        if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return berth_error(err, errno, "make the container's %s", fstype);
        int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (m < 0)
                return berth_error(err, errno, "make the container's %s", fstype);
        return m;
}

static int attach(int fd, const char *rootfs, const char *dst, berth_error_t *err)
{
        cleanup_free char *target = xasprintf("%s%s", rootfs, dst);
        if (mkdir_p(target, 0755, err) < 0)
                return -1;
        if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return berth_error(err, errno, "mount the container's `%s`", dst);
        return 0;
}

/* The helper's child: in the container's PID and network namespaces, host
 * root otherwise. */
static int helper_run(int userns_fd, int mnt_fd, int net_fd, const struct userns_rootfs *r, berth_error_t *err)
{
        if (net_fd >= 0 && setns(net_fd, CLONE_NEWNET) < 0)
                return berth_error(err, errno, "join the container's network namespace");
        int proc = fs_detached("proc", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
        if (proc < 0)
                return -1;
        int sys = fs_detached("sysfs", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY,
                              err);
        if (sys < 0)
                return -1;
        if (setns(mnt_fd, CLONE_NEWNS) < 0)
                return berth_error(err, errno, "join the container's mount namespace");
        if ((r->whole ? mount_user_overlay : mount_idmapped_root)(userns_fd, r, err) < 0)
                return -1;
        return attach(proc, r->rootfs, "/proc", err) < 0 || attach(sys, r->rootfs, "/sys", err) < 0 ? -1 : 0;
}

int userns_mount_rootfs(pid_t pid, const struct userns_rootfs *r, berth_error_t *err)
{
        static const char *names[] = { "user", "mnt", "pid", "net" };
        int fds[ARRAY_SIZE(names)];
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) pid, names[i]);
                fds[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0) {
                        int e = errno;
                        for (size_t k = 0; k < i; k++)
                                close(fds[k]);
                        return berth_error(err, e, "open the container's %s namespace", names[i]);
                }
        }
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                for (size_t k = 0; k < ARRAY_SIZE(names); k++)
                        close(fds[k]);
                return berth_error(err, errno, "pipe");
        }
        pid_t helper = fork();
        if (helper == 0) {
                close(pfd[0]);
                berth_error_t e = NULL;
                /* a child of ours after setns(pid) is in the container's PID namespace */
                pid_t inner = -1;
                if (setns(fds[2], CLONE_NEWPID) < 0)
                        berth_error(&e, errno, "join the container's PID namespace");
                else if ((inner = fork()) == 0) {
                        (void) helper_run(fds[0], fds[1], fds[3], r, &e);
                        if (e)
                                (void) write_all(pfd[1], e->msg, strlen(e->msg));
                        _exit(e ? 1 : 0);
                } else if (inner < 0)
                        berth_error(&e, errno, "fork");
                int status = 0;
                while (inner > 0 && waitpid(inner, &status, 0) < 0 && errno == EINTR)
                        ;
                if (e)
                        (void) write_all(pfd[1], e->msg, strlen(e->msg));
                _exit(e || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ? 1 : 0);
        }
        int fork_errno = errno;
        for (size_t k = 0; k < ARRAY_SIZE(names); k++)
                close(fds[k]);
        close(pfd[1]);
        if (helper < 0) {
                close(pfd[0]);
                return berth_error(err, fork_errno, "fork");
        }
        char buf[1024];
        ssize_t n, len = 0;
        while ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - (size_t) len)) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        len += n;
        close(pfd[0]);
        buf[len] = '\0';
        int status;
        while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
                ;
        if (len > 0)
                return berth_error(err, 0, "%s", buf);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "the helper mounting the container's root failed");
        return 0;
}

int userns_become_root(berth_error_t *err)
{
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return berth_error(err, errno, "become root in the container's user namespace");
        if (setgroups(0, NULL) < 0)
                return berth_error(err, errno, "setgroups in the container's user namespace");
        /* The change of ids made this process undumpable, and its memory
         * (copied from the shim, which a user's manager started) belongs to
         * the host's namespace: a user's shim could then not open its
         * namespaces to connect its network.  exec decides anew. */
        if (prctl(PR_SET_DUMPABLE, 1) < 0)
                return berth_error(err, errno, "prctl(PR_SET_DUMPABLE)");
        return 0;
}

int userns_add_entry(const char *file, uint32_t id, const char *line, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (read_file(file, &text, &len, NULL) < 0 && errno != ENOENT)
                return berth_error(err, errno, "read the container's %s", file);
        char idtext[16];
        snprintf(idtext, sizeof(idtext), "%" PRIu32, id);
        for (const char *l = text; l && *l;) {
                const char *end = strchrnul(l, '\n');
                /* NAME:PASSWORD:ID:... */
                const char *f = memchr(l, ':', (size_t) (end - l));
                f = f ? memchr(f + 1, ':', (size_t) (end - f - 1)) : NULL;
                if (f && strncmp(f + 1, idtext, strlen(idtext)) == 0 && f[1 + strlen(idtext)] == ':')
                        return 0;
                l = *end ? end + 1 : end;
        }
        cleanup_close int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        cleanup_free char *add = xasprintf("%s%s\n", len && text[len - 1] != '\n' ? "\n" : "", line);
        if (fd < 0 || write_all(fd, add, strlen(add)) < 0)
                return berth_error(err, errno, "add the user to the container's %s", file);
        return 0;
}

/* nftw has no user data: the maps of the tree being shifted. */
static const struct idmap *shift_uids, *shift_gids;

static int shift_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void) type;
        (void) ftw;
        uint32_t u, g;
        if (!idmap_to_host(shift_uids, st->st_uid, &u))
                u = st->st_uid;
        if (!idmap_to_host(shift_gids, st->st_gid, &g))
                g = st->st_gid;
        if ((u != st->st_uid || g != st->st_gid) && lchown(path, u, g) < 0)
                return -1;
        /* lchown clears set-id bits of a file: put them back */
        if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) &&
            fchmodat(AT_FDCWD, path, st->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
                return -1;
        return 0;
}

int userns_shift_tree(const char *path, const struct idmap *uids, const struct idmap *gids, berth_error_t *err)
{
        struct stat st;
        uint32_t root_uid;
        if (lstat(path, &st) < 0)
                return berth_error(err, errno, "stat `%s`", path);
        if (!idmap_to_host(uids, 0, &root_uid) || st.st_uid != 0 || root_uid == 0)
                return 0; /* shifted already (or by hand), or nothing to do */
        shift_uids = uids;
        shift_gids = gids;
        if (nftw(path, shift_one, 32, FTW_PHYS | FTW_MOUNT) < 0)
                return berth_error(err, errno, "give `%s` to the container's user namespace", path);
        return 0;
}
