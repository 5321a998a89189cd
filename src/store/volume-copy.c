/* berth — copy-up: a new volume gets the image's files at its mount point
 * (as Docker), copied by a child in the container's view of the image, with
 * modes, owners, times, xattrs and hard links kept (volume.h). */
#include "config.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "berth/idmap.h"
#include "berth/overlay.h"
#include "berth/rootless.h"
#include "berth/util.h"
#include "berth/volume.h"

/* ---- copy-up ------------------------------------------------------------------- */
/* Files seen with more than one link, by path relative to the copy's top. */
struct hardlinks {
        int top; /* the destination's top directory */
        struct { dev_t dev; ino_t ino; char *path; } *v;
        size_t n;
        const struct idmap *uids, *gids; /* owners shifted to these (NULL: kept) */
};

/* An owner of the source as the copy's: id N of the image becomes the id
 * that N of the container maps to; an id the map lacks is kept. */
static void shift_owner(const struct hardlinks *hl, struct stat *st)
{
        uint32_t id;
        if (hl->uids && idmap_to_host(hl->uids, st->st_uid, &id))
                st->st_uid = id;
        if (hl->gids && idmap_to_host(hl->gids, st->st_gid, &id))
                st->st_gid = id;
}

static void copy_xattrs(int src, int dst)
{
        char names[4096];
        ssize_t len = flistxattr(src, names, sizeof(names));
        for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t) strlen(names + off) + 1) {
                const char *n = names + off;
                if (overlay_xattr_is_private(n))
                        continue; /* overlayfs' own bookkeeping */
                char val[65536];
                ssize_t vl = fgetxattr(src, n, val, sizeof(val));
                if (vl >= 0)
                        (void) fsetxattr(dst, n, val, (size_t) vl, 0);
        }
}

static int copy_data(int in, int out)
{
        char buf[65536];
        for (;;) {
                ssize_t r = read(in, buf, sizeof(buf));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return 0;
                if (write_all(out, buf, (size_t) r) < 0)
                        return -errno;
        }
}

static void set_times_owner(int dirfd, const char *name, const struct stat *st)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        (void) !fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
        if (!S_ISLNK(st->st_mode))
                (void) !fchmodat(dirfd, name, st->st_mode & 07777, 0);
        (void) utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int copy_tree_at(int src, int dst, const char *relpath, struct hardlinks *hl, berth_error_t *err);

static int copy_entry(int src, int dst, const char *name, const char *rel, struct hardlinks *hl,
                      berth_error_t *err)
{
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "copy `%s`", rel);
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < hl->n; i++)
                        if (hl->v[i].dev == st.st_dev && hl->v[i].ino == st.st_ino)
                                return linkat(hl->top, hl->v[i].path, hl->top, rel, 0) < 0
                                               ? berth_error(err, errno, "link `%s`", rel) : 0;
                hl->v = xrealloc(hl->v, (hl->n + 1) * sizeof(*hl->v));
                hl->v[hl->n].dev = st.st_dev;
                hl->v[hl->n].ino = st.st_ino;
                hl->v[hl->n++].path = xstrdup(rel);
        }
        (void) unlinkat(dst, name, 0);
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST)
                        return berth_error(err, errno, "create `%s`", rel);
                cleanup_close int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                cleanup_close int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s2 < 0 || d2 < 0)
                        return berth_error(err, errno, "open `%s`", rel);
                copy_xattrs(s2, d2);
                if (copy_tree_at(s2, d2, rel, hl, err) < 0)
                        return -1;
        } else if (S_ISREG(st.st_mode)) {
                cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                cleanup_close int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (in < 0 || out < 0)
                        return berth_error(err, errno, "copy `%s`", rel);
                int r = copy_data(in, out);
                if (r < 0)
                        return berth_error(err, -r, "copy `%s`", rel);
                copy_xattrs(in, out);
        } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_error(err, errno, "read link `%s`", rel);
                target[n] = '\0';
                if (symlinkat(target, dst, name) < 0)
                        return berth_error(err, errno, "create link `%s`", rel);
        } else if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) {
                return berth_error(err, errno, "create node `%s`", rel);
        }
        shift_owner(hl, &st);
        set_times_owner(dst, name, &st);
        return 0;
}

/* relpath: where src/dst are, relative to the copy's top. */
static int copy_tree_at(int src, int dst, const char *relpath, struct hardlinks *hl, berth_error_t *err)
{
        int dfd = dup(src);
        if (dfd < 0)
                return berth_error(err, errno, "dup");
        cleanup_dir DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return berth_error(err, errno, "open `%s`", relpath);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cleanup_free char *rel = *relpath ? xasprintf("%s/%s", relpath, de->d_name) : xstrdup(de->d_name);
                if (copy_entry(src, dst, de->d_name, rel, hl, err) < 0)
                        return -1;
        }
        return 0;
}

static int copy_tree_mapped(int src_dirfd, int dst_dirfd, const struct idmap *uids, const struct idmap *gids,
                            berth_error_t *err)
{
        struct hardlinks hl = { .top = dst_dirfd, .uids = uids, .gids = gids };
        int r = copy_tree_at(src_dirfd, dst_dirfd, "", &hl, err);
        for (size_t i = 0; i < hl.n; i++)
                free(hl.v[i].path);
        free(hl.v);
        return r;
}

int volume_copy_tree(int src_dirfd, int dst_dirfd, berth_error_t *err)
{
        return copy_tree_mapped(src_dirfd, dst_dirfd, NULL, NULL, err);
}

int volume_open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

pid_t volume_child_spawn(int (*fn)(void *data, berth_error_t *err), void *data, int close_in_child, int *errfd,
                         berth_error_t *err)
{
        int ep[2];
        if (pipe2(ep, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(ep[0]);
                close(ep[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0) {
                close(ep[0]);
                if (close_in_child >= 0)
                        close(close_in_child);
                berth_error_t e = NULL;
                int r = fn(data, &e);
                overlay_mounts_end(); /* fuse-overlayfs's daemons, unmounted */
                if (r < 0) {
                        cleanup_free char *msg = xasprintf("%d %s", e ? e->exit_code : BERTH_EXIT_ENGINE,
                                                           e ? e->msg : "failed");
                        (void) write_all(ep[1], msg, strlen(msg));
                        _exit(1);
                }
                _exit(0);
        }
        close(ep[1]);
        *errfd = ep[0];
        return pid;
}

int volume_child_reap(pid_t pid, int errfd, int r, berth_error_t *err)
{
        char msg[2048] = "";
        size_t len = 0;
        ssize_t n;
        while (len < sizeof(msg) - 1 && (n = read(errfd, msg + len, sizeof(msg) - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                len += (size_t) n;
        }
        close(errfd);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (len) {
                char *sp = strchr(msg, ' ');
                berth_error_free(err);
                return berth_error_exit(err, sp ? atoi(msg) : BERTH_EXIT_ENGINE, 0, "%s", sp ? sp + 1 : msg);
        }
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "the child process doing the work was killed");
        return 0;
}

struct copy_up {
        struct berth_store *s;
        const char *lowerdir, *tmp, *target, *data;
        const struct idmap *uids, *gids;
};

/* In a child with its own mount namespace: the image read-only at root (an
 * overlay of its layers over an empty dir, so a single layer works too), the
 * target resolved inside it, copied into data. */
static int copy_up_child(void *userdata, berth_error_t *err)
{
        const struct copy_up *cu = userdata;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "private mount namespace");
        cleanup_free char *root = xasprintf("%s/root", cu->tmp);
        cleanup_free char *opts = xasprintf("lowerdir=%s:%s/empty", cu->lowerdir, cu->tmp);
        /* the layer links are relative to the store's root */
        if (overlay_mount(cu->s->root, root, opts, MS_RDONLY, NULL, err) < 0)
                return berth_error_wrap(err, "mount the image's layers");
        cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_close int src = rootfd < 0 ? -1 : volume_open_in_root(rootfd, cu->target, O_RDONLY | O_DIRECTORY);
        if (src < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0
                                                           : berth_error(err, errno, "open `%s` in the image", cu->target);
        cleanup_close int dst = open(cu->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return berth_error(err, errno, "open `%s`", cu->data);
        struct stat st;
        if (fstat(src, &st) == 0) { /* the volume's root takes the image dir's owner and mode */
                struct hardlinks maps = { .uids = cu->uids, .gids = cu->gids };
                shift_owner(&maps, &st);
                (void) !fchown(dst, st.st_uid, st.st_gid);
                (void) fchmod(dst, st.st_mode & 07777);
        }
        copy_xattrs(src, dst);
        return copy_tree_mapped(src, dst, cu->uids, cu->gids, err);
}

static int copy_up_mapped(struct berth_store *s, const char *lowerdir, const char *target, const char *data,
                          const struct idmap *uids, const struct idmap *gids, berth_error_t *err)
{
        if (!lowerdir || !*lowerdir)
                return 0;
        cleanup_free char *tmp = NULL;
        cleanup_close int tmpfd = -1; /* locked: system check leaves it alone while we copy */
        if (store_tmp_create(s, "copyup", true, &tmp, &tmpfd, err) < 0)
                return -1;
        cleanup_free char *root = xasprintf("%s/root", tmp), *empty = xasprintf("%s/empty", tmp);
        int r = 0, errfd = -1;
        if (mkdir(root, 0755) < 0 || mkdir(empty, 0755) < 0) {
                r = berth_error(err, errno, "prepare the copy-up in `%s`", tmp);
        } else {
                struct copy_up cu = { s, lowerdir, tmp, target, data, uids, gids };
                pid_t pid = volume_child_spawn(copy_up_child, &cu, -1, &errfd, err);
                r = pid < 0 ? -1 : volume_child_reap(pid, errfd, 0, err);
        }
        rm_rf(tmp, NULL);
        return r;
}

static int volume_copy_up(struct berth_store *s, const char *lowerdir, const char *target, const char *data,
                          berth_error_t *err)
{
        if (copy_up_mapped(s, lowerdir, target, data, NULL, NULL, err) < 0)
                return berth_error_wrap(err, "copy the image's %s into the volume", target);
        return 0;
}

int volume_copy_image_mapped(struct berth_store *s, const char *lowerdir, const char *dst, const struct idmap *uids,
                             const struct idmap *gids, berth_error_t *err)
{
        if (copy_up_mapped(s, lowerdir, "/", dst, uids, gids, err) < 0)
                return berth_error_wrap(err, "copy the image for the container's user namespace");
        return 0;
}

static bool dir_is_empty(const char *path)
{
        cleanup_dir DIR *d = opendir(path);
        if (!d)
                return false;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return false;
        return true;
}

/* VOLUME/copyup exists while the copy runs: one left behind by a berth that
 * was killed (or a machine that went down) mid-copy says _data holds part of
 * the image's files, which is no volume's content: empty it and copy again
 * (or leave it empty with nocopy) instead of taking it for a filled one. */
int volume_fill(struct berth_store *s, const char *name, const char *data, const char *lowerdir,
                       const char *target, bool nocopy, berth_error_t *err)
{
        cleanup_free char *pending = store_path(s, "volumes/%s/copyup", name);
        bool cut_short = access(pending, F_OK) == 0;
        if (cut_short) {
                if (rm_rf(data, err) < 0)
                        return berth_error_wrap(err, "empty volume %s after an interrupted copy", name);
                if (mkdir(data, 0755) < 0)
                        return berth_error(err, errno, "create `%s`", data);
        }
        bool copy = !nocopy && lowerdir && *lowerdir && dir_is_empty(data);
        if (copy && (write_file_atomic(pending, "", 0, 0600, err) < 0 ||
                     volume_copy_up(s, lowerdir, target, data, err) < 0))
                return -1; /* the marker stays: the next user copies again */
        if ((copy || cut_short) && unlink(pending) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove `%s`", pending);
        return 0;
}

