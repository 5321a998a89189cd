/* berth — `berth build`: COPY/ADD: the copy itself, in a child of its
 * own mount namespace with the image mounted.
 * include/berth/build-internal.h says how the executor is split. */
#include "config.h"

#include <archive.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "berth/archive-util.h"
#include "berth/build-internal.h"
#include "berth/overlay.h"
#include "berth/runtime.h"
#include "berth/util.h"

/* ---- COPY / ADD: the copy, in a child with the image mounted ---------------------------- */

static void owner_of(const struct copy_job *j, const struct stat *st, uid_t *uid, gid_t *gid)
{
        if (j->chown) {
                *uid = j->uid;
                *gid = j->gid;
        } else if (j->from_context) {
                *uid = 0;
                *gid = 0;
        } else {
                *uid = st->st_uid;
                *gid = st->st_gid;
        }
}

/* mkdir -p in the image; directories made here get owner (Docker gives
 * --chown to the directories a COPY creates). */
static int mkdirs(const struct copy_job *j, const char *path, berth_error_t *err)
{
        cleanup_free char *p = xstrdup(path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0755) == 0) {
                        if (j->chown && chown(p, j->uid, j->gid) < 0)
                                return berth_error(err, errno, "chown `%s`", p);
                } else if (errno != EEXIST)
                        return berth_error(err, errno, "mkdir `%s`", p);
                *s = c;
                if (!c)
                        break;
        }
        return 0;
}

static int copy_regular(const struct copy_job *j, const char *rel, const struct stat *st, const char *dest,
                        berth_error_t *err)
{
        cleanup_close int in = openat(j->src_root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return berth_error(err, errno, "open `%s`", rel);
        struct stat dst;
        if (lstat(dest, &dst) == 0) {
                if (S_ISDIR(dst.st_mode))
                        return berth_error(err, 0, "cannot overwrite directory `%s` with non-directory `%s`", dest,
                                           rel);
                unlink(dest);
        }
        cleanup_close int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return berth_error(err, errno, "create `%s`", dest);
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read `%s`", rel);
                if (n == 0)
                        break;
                if (write_all(out, buf, (size_t) n) < 0)
                        return berth_error(err, errno, "write `%s`", dest);
        }
        uid_t uid;
        gid_t gid;
        owner_of(j, st, &uid, &gid);
        if (fchown(out, uid, gid) < 0)
                return berth_error(err, errno, "chown `%s`", dest);
        if (fchmod(out, j->chmod >= 0 ? (mode_t) j->chmod : st->st_mode & 07777) < 0)
                return berth_error(err, errno, "chmod `%s`", dest);
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        (void) futimens(out, ts);
        return 0;
}

static int copy_entry(const struct copy_job *j, const char *rel, const char *dest, bool lazy, berth_error_t *err);

/* The entries of rel into dest.  An excluded directory walked only for an
 * exception below it gets no entry of its own: dest is made (as its parents
 * in a tar would be) only when something in it is copied. */
static int copy_dir_contents(const struct copy_job *j, const char *rel, const char *dest, bool lazy,
                             berth_error_t *err)
{
        int fd = openat(j->src_root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", rel);
        cleanup_dir DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return berth_error(err, errno, "open `%s`", rel);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cleanup_free char *child = streq(rel, ".") ? xstrdup(de->d_name) : xasprintf("%s/%s", rel, de->d_name);
                struct stat st;
                if (fstatat(j->src_root, child, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                bool walk_only = false;
                if (j->from_context && dockerignore_excluded(j->ignore, child)) {
                        if (!S_ISDIR(st.st_mode) || !dockerignore_walk_excluded(j->ignore, child))
                                continue;
                        walk_only = true;
                }
                if (lazy && !walk_only && mkdirs(j, dest, err) < 0)
                        return -1;
                cleanup_free char *cdest = xasprintf("%s/%s", streq(dest, "/") ? "" : dest, de->d_name);
                if (copy_entry(j, child, cdest, walk_only, err) < 0)
                        return -1;
        }
        return 0;
}

/* One source entry (file, dir with its contents, symlink, fifo) to dest. */
static int copy_entry(const struct copy_job *j, const char *rel, const char *dest, bool lazy, berth_error_t *err)
{
        struct stat st;
        if (fstatat(j->src_root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat `%s`", rel);
        uid_t uid;
        gid_t gid;
        owner_of(j, &st, &uid, &gid);
        if (S_ISREG(st.st_mode))
                return copy_regular(j, rel, &st, dest, err);
        struct stat dst;
        bool exists = lstat(dest, &dst) == 0;
        if (S_ISDIR(st.st_mode) && lazy)
                return copy_dir_contents(j, rel, dest, true, err);
        if (S_ISDIR(st.st_mode)) {
                if (exists && !S_ISDIR(dst.st_mode))
                        unlink(dest);
                if (!exists || !S_ISDIR(dst.st_mode)) {
                        if (mkdir(dest, 0700) < 0)
                                return berth_error(err, errno, "mkdir `%s`", dest);
                        if (chown(dest, uid, gid) < 0 ||
                            chmod(dest, j->chmod >= 0 ? (mode_t) j->chmod : st.st_mode & 07777) < 0)
                                return berth_error(err, errno, "set the owner and mode of `%s`", dest);
                }
                if (copy_dir_contents(j, rel, dest, false, err) < 0)
                        return -1;
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                (void) utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        if (exists) {
                if (S_ISDIR(dst.st_mode))
                        return berth_error(err, 0, "cannot overwrite directory `%s` with non-directory `%s`", dest,
                                           rel);
                unlink(dest);
        }
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(j->src_root, rel, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_error(err, errno, "readlink `%s`", rel);
                target[n] = '\0';
                if (symlink(target, dest) < 0)
                        return berth_error(err, errno, "symlink `%s`", dest);
        } else if (S_ISFIFO(st.st_mode)) {
                if (mkfifo(dest, st.st_mode & 07777) < 0)
                        return berth_error(err, errno, "mkfifo `%s`", dest);
        } else
                return 0; /* sockets and devices are not copied */
        if (lchown(dest, uid, gid) < 0)
                return berth_error(err, errno, "chown `%s`", dest);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        (void) utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

/* ADD of a local file: is it a (possibly compressed) tar? */
static bool is_tar(int root, const char *rel)
{
        cleanup_close int fd = openat(root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return false;
        cleanup_archive_read struct archive *a = sym_archive_read_new();
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_tar(a);
        struct archive_entry *e;
        return sym_archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK &&
               sym_archive_read_next_header(a, &e) == ARCHIVE_OK;
}

static int extract_tar(const struct copy_job *j, const char *rel, const char *dest, berth_error_t *err)
{
        cleanup_close int fd = openat(j->src_root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", rel);
        if (mkdirs(j, dest, err) < 0)
                return -1;
        if (chdir(dest) < 0)
                return berth_error(err, errno, "chdir `%s`", dest);
        cleanup_archive_read struct archive *a = sym_archive_read_new();
        cleanup_archive_write struct archive *w = sym_archive_write_disk_new();
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_tar(a);
        sym_archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                                      ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                      ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                      ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        if (sym_archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
                return berth_error(err, 0, "read `%s`: %s", rel, sym_archive_error_string(a));
        for (;;) {
                struct archive_entry *e;
                int r = sym_archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "read `%s`: %s", rel, sym_archive_error_string(a));
                if (sym_archive_write_header(w, e) < ARCHIVE_WARN)
                        return berth_error(err, 0, "extract `%s`: %s", rel, sym_archive_error_string(w));
                const void *buf;
                size_t len;
                la_int64_t off;
                while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                        if (sym_archive_write_data_block(w, buf, len, off) < ARCHIVE_WARN)
                                return berth_error(err, 0, "extract `%s`: %s", rel, sym_archive_error_string(w));
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "read `%s`: %s", rel, sym_archive_error_string(a));
                if (sym_archive_write_finish_entry(w) < ARCHIVE_WARN)
                        return berth_error(err, 0, "extract `%s`: %s", rel, sym_archive_error_string(w));
        }
        if (chdir("/") < 0)
                return berth_error(err, errno, "chdir /");
        return 0;
}

/* Every source to the destination, with Docker's rules: a directory's
 * contents (not the directory) go into dest; a file goes into dest when
 * dest ends with "/" or is a directory, else becomes dest. */
static int copy_all(const struct copy_job *j, berth_error_t *err)
{
        size_t n = strv_length(j->srcs);
        size_t dl = strlen(j->dest);
        bool slash = dl > 0 && j->dest[dl - 1] == '/';
        if (n > 1 && !slash)
                return berth_error(err, 0, "When using COPY with more than one source file, the destination must be "
                                           "a directory and end with a /");
        cleanup_free char *dest = df_path_clean(j->dest);
        struct stat dst;
        bool dest_dir = slash || (stat(dest, &dst) == 0 && S_ISDIR(dst.st_mode));
        for (size_t i = 0; i < n; i++) {
                const char *rel = j->srcs[i];
                struct stat st;
                if (fstatat(j->src_root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return berth_error(err, errno, "stat `%s`", rel);
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirs(j, dest, err) < 0 || copy_dir_contents(j, rel, dest, false, err) < 0)
                                return -1;
                        continue;
                }
                if (j->add && S_ISREG(st.st_mode) && is_tar(j->src_root, rel)) {
                        if (extract_tar(j, rel, dest, err) < 0)
                                return -1;
                        continue;
                }
                const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
                cleanup_free char *target = dest_dir ? xasprintf("%s/%s", streq(dest, "/") ? "" : dest, base)
                                                     : xstrdup(dest);
                cleanup_free char *parent = xstrdup(target);
                char *ls = strrchr(parent, '/');
                if (ls && ls != parent) {
                        *ls = '\0';
                        if (mkdirs(j, parent, err) < 0)
                                return -1;
                }
                if (copy_entry(j, rel, target, false, err) < 0)
                        return -1;
        }
        return 0;
}

/* --chown's user and group, looked up in the image (a name without a
 * group: the GID is the UID, as Docker does). */
static int chown_resolve(struct copy_job *j, const char *rootdir, berth_error_t *err)
{
        if (!j->chown)
                return 0;
        struct user_spec us;
        if (user_resolve(rootdir, j->chown, &us, err) < 0)
                return berth_error_wrap(err, "--chown=%s", j->chown);
        j->uid = us.uid;
        j->gid = strchr(j->chown, ':') ? us.gid : (gid_t) us.uid;
        user_spec_free(&us);
        return 0;
}

/* Mount the overlay of img's layers on mnt (in the child's own mount
 * namespace) with upper/work under dir; no layers: use upper itself. */
static int mount_image(struct berth_store *s, struct berth_image *img, const char *dir, const char *name,
                       char **root_out, berth_error_t *err)
{
        cleanup_free char *upper = xasprintf("%s/%s-upper", dir, name);
        cleanup_free char *work = xasprintf("%s/%s-work", dir, name);
        cleanup_free char *mnt = xasprintf("%s/%s", dir, name);
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(mnt, 0755) < 0)
                return berth_error(err, errno, "make the staging directories in `%s`", dir);
        if (!img || !img->layer_links[0]) {
                *root_out = steal_pointer(&upper);
                return 0;
        }
        cleanup_free char *lower = image_lowerdir(img);
        cleanup_free char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
        if (overlay_mount(s->root, mnt, opts, 0, NULL, err) < 0)
                return berth_error_wrap(err, "mount the image's layers");
        *root_out = steal_pointer(&mnt);
        return 0;
}

static int copy_child(struct berth_store *s, struct copy_job *j, struct berth_image *img,
                      struct berth_image *from_img, const char *context, const char *dir, berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        if (unshare(CLONE_NEWNS) < 0)
                return berth_error(err, errno, "create a mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make mounts private");
        cleanup_free char *root = NULL, *src = NULL;
        /* the image's merged view: the step's upper dir is "dest" itself */
        if (mount_image(s, img, dir, "dest", &root, err) < 0)
                return -1;
        if (j->mkdir_only) {
                struct stat st;
                if (chroot(root) < 0 || chdir("/") < 0)
                        return berth_error(err, errno, "enter the image's filesystem");
                return lstat(j->mkdir_only, &st) == 0 ? 0 : mkdirs(j, j->mkdir_only, err);
        }
        if (from_img) {
                if (mount_image(s, from_img, dir, "src", &src, err) < 0)
                        return -1;
        } else
                src = xstrdup(context);
        j->src_root = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (j->src_root < 0)
                return berth_error(err, errno, "open `%s`", src);
        if (from_img && build_sources_expand(j->src_root, j->from_patterns, NULL, "the --from image", &j->srcs, err) < 0)
                return -1;
        if (chown_resolve(j, root, err) < 0)
                return -1;
        if (chroot(root) < 0 || chdir("/") < 0)
                return berth_error(err, errno, "enter the image's filesystem");
        return copy_all(j, err);
}

/* Fork the copy; the child's error message comes back through a pipe. */
int build_copy_run(struct build *b, struct copy_job *j, struct berth_image *img, struct berth_image *from_img,
                    const char *context, const char *dir, berth_error_t *err)
{
        /* the child reads and writes tars in the image's root: libarchive
         * comes from the host, loaded here (see archive-util.h) */
        if (archive_lib_load(err) < 0)
                return -1;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0) {
                close(p[0]);
                berth_error_t e = NULL;
                int r = copy_child(b->store, j, img, from_img, context, dir, &e);
                overlay_mounts_end();
                if (r < 0) {
                        (void) write_all(p[1], e->msg, strlen(e->msg));
                        _exit(1);
                }
                _exit(0);
        }
        close(p[1]);
        char msg[4096];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(p[0], msg + len, sizeof(msg) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || len + (size_t) n >= sizeof(msg) - 1) {
                        if (n > 0)
                                len += (size_t) n;
                        break;
                }
                len += (size_t) n;
        }
        msg[len] = '\0';
        close(p[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "%s", len ? msg : "the copy failed");
        return 0;
}

/* ADD http(s)://...: download into dir/download/NAME (mode 0600, as Docker). */
