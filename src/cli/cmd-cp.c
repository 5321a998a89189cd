/* berth cp: copy files between a container and the host, both ways, for
 * running and stopped containers.
 *
 * The container's side always runs in a child process that has entered the
 * container's filesystem and chroot'ed into it: for a running container its
 * mount namespace (setns to /proc/PID/ns/mnt, root = /proc/PID/root), for a
 * stopped one a private mount namespace with the container's overlay (upper
 * over the image's layers) and its volumes mounted.  Every path of the
 * container is therefore resolved inside its root: a symlink /evil -> / in
 * the container points at the container's root, never at the host's.
 *
 * The two sides talk a tar stream (what `-` reads and writes too), preceded,
 * between the two berth processes, by a small header saying what the source
 * is, so the receiving side can apply Docker's rules (copy into an existing
 * directory, create or overwrite DEST, "SRC/." copies the contents). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <grp.h>
#include <getopt.h>
#include <iconv.h>
#include <libgen.h>
#include <locale.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "berth/rootless-ns.h"
#include "berth/archive-util.h"
#include "berth/cli.h"
#include "berth/container.h"
#include "berth/idmap.h"
#include "berth/json-util.h"
#include "berth/overlay.h"
#include "berth/util.h"
#include "berth/volume.h"

struct cp_opts {
        bool archive; /* -a: keep owners */
        bool follow;  /* -L: follow a symlink SRC */
        /* a stopped container with a user namespace, whose files are its
         * mapped host ids on disk: the maps to turn them into the ids it
         * sees and back (NULL: none) */
        const struct idmap *uids, *gids;
};

/* What the producer sends ahead of the tar stream. */
struct cp_header {
        char magic[4]; /* "BCP1" */
        uint8_t is_dir;
        uint8_t contents_only; /* SRC ended in "/." */
        uint16_t namelen;      /* then the top entry's name, not NUL-terminated */
};

static int read_exact(int fd, void *buf, size_t n)
{
        size_t got = 0;
        while (got < n) {
                ssize_t r = read(fd, (char *) buf + got, n - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                got += (size_t) r;
        }
        return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* "dir/." -> "dir", "dir/" -> "dir", "/" stays. */
static char *clean_path(const char *p)
{
        char *c = xstrdup(p);
        for (;;) {
                size_t n = strlen(c);
                if (n > 1 && c[n - 1] == '/')
                        c[n - 1] = '\0';
                else if (n > 2 && streq(c + n - 2, "/."))
                        c[n - 2] = '\0';
                else if (streq(c, "/."))
                        c[1] = '\0';
                else
                        break;
        }
        return c;
}

/* ---- the producer: SRC as a tar stream ------------------------------------------- */
/* Messages starting "the copy" say the other side went away: a consequence,
 * never the cause, when both sides failed (see cp_pick_error()). */
static int archive_fail(berth_error_t *err, struct archive *a, const char *what)
{
        if (sym_archive_errno(a) == EPIPE)
                return berth_error(err, 0, "the copy's receiver stopped reading (%s)", what);
        return berth_error(err, 0, "%s: %s", what, sym_archive_error_string(a) ?: "unknown error");
}

static int copy_disk_data(struct archive *disk, struct archive *w, berth_error_t *err)
{
        const void *buf;
        size_t size;
        la_int64_t offset, pos = 0;
        static const char zeros[4096];
        int r;
        while ((r = sym_archive_read_data_block(disk, &buf, &size, &offset)) == ARCHIVE_OK) {
                while (pos < offset) { /* a hole: tar stores it as zeros */
                        size_t n = offset - pos > (la_int64_t) sizeof(zeros) ? sizeof(zeros) : (size_t) (offset - pos);
                        if (sym_archive_write_data(w, zeros, n) < 0)
                                return archive_fail(err, w, "write the tar stream");
                        pos += (la_int64_t) n;
                }
                if (size && sym_archive_write_data(w, buf, size) < 0)
                        return archive_fail(err, w, "write the tar stream");
                pos = offset + (la_int64_t) size;
        }
        return r == ARCHIVE_EOF ? 0 : archive_fail(err, disk, "read");
}

static int produce(const char *path, const struct cp_opts *o, bool header, int outfd, const char *where,
                   berth_error_t *err)
{
        bool contents_only = ends_with(path, "/.") || streq(path, ".");
        bool want_dir = contents_only || ends_with(path, "/");
        cleanup_free char *clean = clean_path(path);
        struct stat st;
        if ((o->follow ? stat(clean, &st) : lstat(clean, &st)) < 0)
                return errno == ENOENT ? berth_error_exit(err, 1, 0, "Could not find the file %s%s", path, where)
                                       : berth_error(err, errno, "%s%s", path, where);
        if (want_dir && !S_ISDIR(st.st_mode))
                return berth_error_exit(err, 1, 0, "%s%s: not a directory", path, where);
        cleanup_free char *dup = xstrdup(clean);
        const char *name = basename(dup);
        if (streq(name, "/") || streq(name, ".") || streq(name, ".."))
                name = "content"; /* no name of its own: the receiver renames it anyway */
        if (streq(clean, "/") || streq(clean, "."))
                contents_only = true;
        if (header) {
                struct cp_header h = { .magic = "BCP1", .is_dir = S_ISDIR(st.st_mode), .contents_only = contents_only,
                                       .namelen = (uint16_t) strlen(name) };
                if (write_all(outfd, &h, sizeof(h)) < 0 || write_all(outfd, name, h.namelen) < 0)
                        return errno == EPIPE ? berth_error(err, 0, "the copy's receiver stopped reading")
                                              : berth_error(err, errno, "write the copy stream");
        }
        if (archive_lib_load(err) < 0)
                return -1;
        struct archive *w = sym_archive_write_new(), *disk = sym_archive_read_disk_new();
        struct archive_entry *e = sym_archive_entry_new();
        int r = 0;
        if (sym_archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
            sym_archive_write_open_fd(w, outfd) != ARCHIVE_OK)
                r = archive_fail(err, w, "start the tar stream");
        if (r == 0)
                r = (o->follow ? sym_archive_read_disk_set_symlink_hybrid(disk)
                               : sym_archive_read_disk_set_symlink_physical(disk)) == ARCHIVE_OK &&
                                    sym_archive_read_disk_open(disk, clean) == ARCHIVE_OK
                            ? 0
                            : archive_fail(err, disk, clean);
        size_t plen = strlen(clean);
        while (r == 0) {
                sym_archive_entry_clear(e);
                int rr = sym_archive_read_next_header2(disk, e);
                if (rr == ARCHIVE_EOF)
                        break;
                if (rr < ARCHIVE_WARN) {
                        r = archive_fail(err, disk, clean);
                        break;
                }
                const char *p = sym_archive_entry_pathname(e);
                const char *suffix = p && startswith(p, clean) ? p + plen : "";
                while (*suffix == '/')
                        suffix++;
                cleanup_free char *newname = *suffix ? xasprintf("%s/%s", name, suffix) : xstrdup(name);
                sym_archive_entry_set_pathname(e, newname);
                if (sym_archive_entry_filetype(e) == AE_IFDIR)
                        (void) sym_archive_read_disk_descend(disk);
                if (o->uids)
                        archive_entry_unmap_ids(e, o->uids, o->gids);
                if (sym_archive_write_header(w, e) < ARCHIVE_WARN) {
                        r = archive_fail(err, w, newname);
                        break;
                }
                if (sym_archive_entry_filetype(e) == AE_IFREG && sym_archive_entry_size(e) > 0)
                        r = copy_disk_data(disk, w, err);
        }
        if (sym_archive_write_close(w) != ARCHIVE_OK && r == 0)
                r = archive_fail(err, w, "finish the tar stream");
        sym_archive_entry_free(e);
        sym_archive_read_free(disk);
        sym_archive_write_free(w);
        return r;
}

/* ---- the consumer: a tar stream into DEST ----------------------------------------- */
/* "NAME/x" -> "TO/x" ("." for TO: "x"); NULL: skip the entry. */
static char *rename_top(const char *p, const char *from, const char *to)
{
        while (startswith(p, "./"))
                p += 2;
        size_t n = strlen(from);
        if (strncmp(p, from, n) != 0 || (p[n] != '\0' && p[n] != '/'))
                return xstrdup(p);
        const char *rest = p + n;
        while (*rest == '/')
                rest++;
        if (!*rest)
                return streq(to, ".") ? NULL : xstrdup(to);
        return streq(to, ".") ? xstrdup(rest) : xasprintf("%s/%s", to, rest);
}

/* in_container: no decompression filters (libarchive may run an external
 * program for some, which would be the container's). */
static int extract(int infd, const char *from, const char *to, const struct cp_opts *o, bool in_container,
                   berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        struct archive *a = sym_archive_read_new(), *w = sym_archive_write_disk_new();
        int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                    ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                    (o->archive || (o->uids && in_container) ? ARCHIVE_EXTRACT_OWNER : 0);
        int r = 0;
        if (!in_container) {
                sym_archive_read_support_filter_gzip(a);
                sym_archive_read_support_filter_bzip2(a);
                sym_archive_read_support_filter_xz(a);
        }
        sym_archive_read_support_format_tar(a);
        sym_archive_read_support_format_gnutar(a);
        sym_archive_write_disk_set_options(w, flags);
        if (sym_archive_read_open_fd(a, infd, 65536) != ARCHIVE_OK)
                r = archive_fail(err, a, "the copy stream (a tar archive) cannot be read");
        struct archive_entry *e;
        while (r == 0) {
                int rr = sym_archive_read_next_header(a, &e);
                if (rr == ARCHIVE_EOF)
                        break;
                if (rr < ARCHIVE_WARN) {
                        r = archive_fail(err, a, "the copy stream (a tar archive) cannot be read");
                        break;
                }
                if (from) {
                        cleanup_free char *np = rename_top(sym_archive_entry_pathname(e), from, to);
                        if (!np)
                                continue; /* "SRC/.": DEST itself stays as it is */
                        sym_archive_entry_set_pathname(e, np);
                        const char *hl = sym_archive_entry_hardlink(e);
                        cleanup_free char *nh = hl ? rename_top(hl, from, to) : NULL;
                        if (hl && nh)
                                sym_archive_entry_set_hardlink(e, nh);
                }
                if (!o->archive) { /* owned by whoever copies, as Docker without -a */
                        sym_archive_entry_set_uid(e, getuid());
                        sym_archive_entry_set_gid(e, getgid());
                }
                uint32_t hid;
                if (o->uids && in_container) { /* the ids the container sees, as its host ids */
                        if (idmap_to_host(o->uids, (uint32_t) sym_archive_entry_uid(e), &hid))
                                sym_archive_entry_set_uid(e, hid);
                        if (idmap_to_host(o->gids, (uint32_t) sym_archive_entry_gid(e), &hid))
                                sym_archive_entry_set_gid(e, hid);
                }
                if (sym_archive_write_header(w, e) < ARCHIVE_WARN) {
                        r = archive_fail(err, w, sym_archive_entry_pathname(e));
                        break;
                }
                const void *buf;
                size_t size;
                la_int64_t off;
                bool write_failed = false;
                while (!write_failed && (rr = sym_archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
                        write_failed = sym_archive_write_data_block(w, buf, size, off) < ARCHIVE_WARN;
                if (write_failed || rr != ARCHIVE_EOF) {
                        r = write_failed ? archive_fail(err, w, sym_archive_entry_pathname(e))
                                         : archive_fail(err, a, "the copy stream (a tar archive) cannot be read");
                        break;
                }
                if (sym_archive_write_finish_entry(w) < ARCHIVE_WARN)
                        r = archive_fail(err, w, sym_archive_entry_pathname(e));
        }
        if (sym_archive_write_close(w) != ARCHIVE_OK && r == 0)
                r = archive_fail(err, w, "finish writing");
        sym_archive_read_free(a);
        sym_archive_write_free(w);
        return r;
}

/* Docker's rules: where to extract, and what the top entry becomes. */
static int plan_dest(const char *dest, const struct cp_header *h, const char *name, char **dir_out, char **to_out,
                     const char *where, berth_error_t *err)
{
        struct stat st;
        cleanup_free char *clean = clean_path(dest);
        if (stat(clean, &st) == 0) {
                if (S_ISDIR(st.st_mode)) {
                        *dir_out = xstrdup(clean);
                        *to_out = xstrdup(h->is_dir && h->contents_only ? "." : name);
                        return 0;
                }
                if (h->is_dir)
                        return berth_error_exit(err, 1, 0, "cannot overwrite non-directory \"%s\"%s with a directory",
                                                dest, where);
                if (ends_with(dest, "/"))
                        return berth_error_exit(err, 1, 0, "\"%s\"%s is not a directory", dest, where);
        } else if (errno != ENOENT) {
                return berth_error(err, errno, "%s%s", dest, where);
        } else if (!h->is_dir && ends_with(dest, "/")) {
                return berth_error_exit(err, 1, 0, "destination directory \"%s\"%s does not exist", dest, where);
        }
        cleanup_free char *d1 = xstrdup(clean), *d2 = xstrdup(clean);
        const char *parent = dirname(d1);
        if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))
                return berth_error_exit(err, 1, 0, "destination directory \"%s\"%s does not exist", parent, where);
        *dir_out = xstrdup(parent);
        *to_out = xstrdup(basename(d2));
        return 0;
}

static int consume(int infd, const char *dest, bool raw, const struct cp_opts *o, const char *where,
                   bool in_container, berth_error_t *err)
{
        cleanup_free char *dir = NULL, *to = NULL, *name = NULL;
        struct cp_header h = {};
        if (raw) {
                struct stat st;
                if (stat(dest, &st) < 0 || !S_ISDIR(st.st_mode))
                        return berth_error_exit(err, 1, 0, "destination \"%s\"%s must be a directory", dest, where);
                dir = xstrdup(dest);
        } else {
                if (read_exact(infd, &h, sizeof(h)) < 0 || memcmp(h.magic, "BCP1", 4) != 0)
                        return berth_error(err, 0, "the copy's source sent nothing");
                name = xcalloc(1, (size_t) h.namelen + 1);
                if (read_exact(infd, name, h.namelen) < 0)
                        return berth_error(err, 0, "the copy stream ended early");
                if (plan_dest(dest, &h, name, &dir, &to, where, err) < 0)
                        return -1;
        }
        if (chdir(dir) < 0)
                return berth_error(err, errno, "chdir to `%s`%s", dir, where);
        return extract(infd, raw ? NULL : name, to, o, in_container, err);
}

/* ---- entering the container ----------------------------------------------------------- */
static int chroot_to_fd(int fd, berth_error_t *err)
{
        if (fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return berth_error(err, errno, "enter the container's root");
        return 0;
}

static int enter_running(pid_t pid, berth_error_t *err)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int) pid);
        cleanup_close int ns = open(p, O_RDONLY | O_CLOEXEC);
        /* a container with a user namespace: copy as its root, so what comes
         * in is its root's and what goes out has the ids it sees */
        snprintf(p, sizeof(p), "/proc/%d/ns/user", (int) pid);
        cleanup_close int user = open(p, O_RDONLY | O_CLOEXEC);
        struct stat own, theirs;
        if (user >= 0 && stat("/proc/self/ns/user", &own) == 0 && fstat(user, &theirs) == 0 &&
            (own.st_ino != theirs.st_ino || own.st_dev != theirs.st_dev) &&
            (setns(user, CLONE_NEWUSER) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 ||
             setgroups(0, NULL) < 0))
                return berth_error(err, errno, "enter the container's user namespace");
        /* opened from its user namespace: a fuse-overlayfs root (overlay.h)
         * lets in only the processes of the namespace that mounted it */
        snprintf(p, sizeof(p), "/proc/%d/root", (int) pid);
        cleanup_close int rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || ns < 0 || setns(ns, CLONE_NEWNS) < 0)
                return berth_error(err, errno, "enter the container's mount namespace (did it just stop?)");
        return chroot_to_fd(rootfd, err);
}

/* A stopped container: its overlay and volumes in a private mount namespace.
 * Volume targets are resolved inside the root and mounted on through the
 * opened fd, so a symlink in the container cannot move a mount to the host. */
static int enter_stopped(struct berth_store *s, struct berth_container *c, berth_error_t *err)
{
        const char *lower = json_str(c->config, "Berth.LowerDir");
        if (!lower)
                return berth_error(err, 0, "container %s has no image layers recorded: re-create it", c->name);
        cleanup_free char *rootfs = xasprintf("%s/rootfs", c->dir);
        cleanup_free char *opts = xasprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, c->dir, c->dir);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "private mount namespace");
        (void) mkdir(rootfs, 0755);
        /* a fuse-overlayfs daemon ends with the child (volume_child_spawn()) */
        if (overlay_mount(s->root, rootfs, opts, 0, NULL, err) < 0)
                return berth_error_wrap(err, "mount the container's filesystem");
        cleanup_close int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_error(err, errno, "open `%s`", rootfs);
        size_t i;
        json_t *m;
        json_array_foreach(json_at(c->config, "Berth.Mounts"), i, m)
        {
                const char *src = json_str(m, "Source"), *dst = json_str(m, "Destination");
                if (!src || !dst)
                        continue;
                cleanup_close int t = volume_open_in_root(rootfd, dst, O_PATH);
                if (t < 0)
                        continue; /* made at the container's first start: the copy lands in its layer */
                char fdpath[64];
                snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", t);
                if (mount(src, fdpath, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return berth_error(err, errno, "mount `%s` on %s", src, dst);
                if (!json_bool(m, "ReadOnly"))
                        continue;
                /* the new mount, not the one under it: open the target again */
                cleanup_close int t2 = volume_open_in_root(rootfd, dst, O_PATH);
                snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", t2);
                if (t2 < 0 || mount(NULL, fdpath, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                        return berth_error(err, errno, "make %s read-only", dst);
        }
        return chroot_to_fd(rootfd, err);
}

/* ---- running the two sides ---------------------------------------------------------- */
struct cp_job {
        struct berth_store *s;
        struct berth_container *c;
        const struct cp_opts *o;
        const char *path;  /* in the container */
        bool to_container; /* the container side consumes */
        bool raw;          /* "-": no header on the stream */
        int fd;            /* the stream */
};

static int container_side(void *data, berth_error_t *err)
{
        struct cp_job *j = data;
        cleanup_free char *where = xasprintf(" in container %s", j->c->name);
        /* Nothing may be loaded from the container's root once we are in it
         * (docker cp's CVE-2019-14271 was NSS libraries loaded there): no
         * user/group lookups are made, and glibc's iconv, which libarchive
         * uses for file names, gets its configuration from the host now. */
        setlocale(LC_ALL, "C");
        iconv_t cd = iconv_open("UTF-8", "ANSI_X3.4-1968");
        if (cd != (iconv_t) -1)
                iconv_close(cd);
        /* libarchive itself is loaded on first use: from the host, now */
        if (archive_lib_load(err) < 0)
                return -1;
        struct cp_opts o = *j->o;
        struct idmap uids, gids;
        bool userns = false;
        bool running = container_is_running(j->c);
        if (!running && idmap_from_config(j->c->config, &uids, &gids, &userns, err) < 0)
                return berth_error_wrap(err, "the user namespace of container %s", j->c->name);
        if (userns) {
                o.uids = &uids;
                o.gids = &gids;
        }
        /* a user's stopped container: mounted in berth's user namespace */
        int r = running ? enter_running((pid_t) json_int(j->c->state, "Pid", 0), err)
                        : rootless_enter(err) < 0 ? -1 : enter_stopped(j->s, j->c, err);
        if (r < 0)
                return r;
        if (j->to_container)
                return consume(j->fd, j->path, j->raw, &o, where, true, err);
        return produce(j->path, &o, !j->raw, j->fd, where, err);
}

static bool is_consequence(berth_error_t e)
{
        return e && startswith(e->msg, "the copy");
}

/* Both sides may fail: report the cause, not the broken pipe it left. */
static int cp_pick_error(int r, berth_error_t *err, int cr, berth_error_t *cerr)
{
        if (cr < 0 && (r >= 0 || !is_consequence(*cerr) || is_consequence(*err))) {
                berth_error_free(err);
                *err = steal_pointer(cerr);
                return -1;
        }
        berth_error_free(cerr);
        return r;
}

static int cp_run(struct berth_cli *cli, struct berth_container *c, const struct cp_opts *o, const char *cpath,
                  const char *hostpath, bool to_container, berth_error_t *err)
{
        bool raw = streq(hostpath, "-");
        struct cp_job j = { .s = &cli->store, .c = c, .o = o, .path = cpath, .to_container = to_container,
                            .raw = raw };
        int errfd;
        if (archive_lib_load(err) < 0)
                return -1;
        if (raw) { /* the container side reads stdin / writes stdout itself */
                j.fd = to_container ? STDIN_FILENO : STDOUT_FILENO;
                fflush(stdout);
                pid_t pid = volume_child_spawn(container_side, &j, -1, &errfd, err);
                return pid < 0 ? -1 : volume_child_reap(pid, errfd, 0, err);
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        /* the child gets the end it uses; we keep the other */
        int mine = to_container ? p[1] : p[0], theirs = to_container ? p[0] : p[1];
        j.fd = theirs;
        pid_t pid = volume_child_spawn(container_side, &j, mine, &errfd, err);
        close(theirs);
        if (pid < 0) {
                close(mine);
                return -1;
        }
        int r = to_container ? produce(hostpath, o, true, mine, "", err) : consume(mine, hostpath, false, o, "", false, err);
        close(mine);
        berth_error_t cerr = NULL;
        int cr = volume_child_reap(pid, errfd, 0, &cerr);
        return cp_pick_error(r, err, cr, &cerr);
}

/* "NAME:PATH" is a container path unless it starts with / or . (Docker's rule). */
static bool split_container_arg(const char *arg, char **name, const char **path)
{
        if (arg[0] == '/' || arg[0] == '.')
                return false;
        const char *colon = strchr(arg, ':');
        if (!colon || colon == arg)
                return false;
        *name = xstrndup(arg, (size_t) (colon - arg));
        *path = colon + 1;
        return true;
}

static const char cp_usage[] =
        "Usage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
        "        berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
        "Copy files/folders between a container and the local filesystem.\n"
        "Use '-' as the source to read a tar archive from stdin and extract it to a\n"
        "directory destination in a container; as the destination to stream a tar\n"
        "archive of a container source to stdout.\n\n"
        "Options:\n"
        "  -a, --archive       Archive mode (copy all uid/gid information)\n"
        "  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
        "  -q, --quiet         Suppress progress output (there is none)\n";

/* The host path made absolute against the working directory, keeping the
 * trailing "/." or "/" that picks contents-or-directory (as Docker's CLI). */
static char *local_path_absolute(const char *p)
{
        if (streq(p, "-"))
                return xstrdup(p);
        cleanup_free char *abs = path_absolute(NULL, p);
        size_t n = strlen(p);
        bool dot = streq(p, ".") || (n >= 2 && streq(p + n - 2, "/."));
        bool slash = n > 0 && p[n - 1] == '/';
        if (dot)
                return xasprintf("%s%s.", abs, streq(abs, "/") ? "" : "/");
        if (slash && !streq(abs, "/"))
                return xasprintf("%s/", abs);
        return steal_pointer(&abs);
}

int cmd_cp(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "archive", no_argument, NULL, 'a' },
                { "follow-link", no_argument, NULL, 'L' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        struct cp_opts o = {};
        int ch;
        while ((ch = getopt_long(argc, argv, "aLq", opts, NULL)) != -1) {
                switch (ch) {
                case 'a': o.archive = true; break;
                case 'L': o.follow = true; break;
                case 'q': break;
                case 'H': fputs(cp_usage, stdout); return 0;
                default: return cli_usage_error(err, "cp", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (argc - optind != 2)
                return cli_usage_error(err, "cp", "requires exactly 2 arguments");
        const char *src = argv[optind], *dst = argv[optind + 1];
        cleanup_free char *sname = NULL, *dname = NULL;
        const char *spath = NULL, *dpath = NULL;
        bool from_c = split_container_arg(src, &sname, &spath);
        bool to_c = split_container_arg(dst, &dname, &dpath);
        if (from_c && to_c)
                return berth_error(err, 0, "copying between containers is not supported");
        if (!from_c && !to_c)
                return berth_error(err, 0, "must specify at least one container source (CONTAINER:PATH)");
        const char *cpath = from_c ? spath : dpath;
        if (!*cpath)
                return berth_error(err, 0, "the container path is empty: use CONTAINER:/PATH");
        if (streq(from_c ? dst : src, "-") == false && !*(from_c ? dst : src))
                return berth_error(err, 0, "the local path is empty");
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, from_c ? sname : dname, &c, err) < 0)
                return -1;
        /* a user's paused container: the fuse-overlayfs of its root is frozen too */
        cleanup_free char *fuse = overlay_container_pidfile(&cli->store, c->id);
        const char *status = json_str(c->state, "Status");
        if (status && streq(status, "paused") && access(fuse, F_OK) == 0)
                return berth_error(err, 0,
                                   "container %s is paused, and so is the fuse-overlayfs of its root: unpause it first",
                                   c->name);
        /* relative container paths are relative to its root, as Docker's */
        cleanup_free char *abs = cpath[0] == '/' ? xstrdup(cpath) : xasprintf("/%s", cpath);
        /* a stopped container's rootfs must not change under us */
        cleanup_close int lfd = container_is_running(c) ? -1 : container_lock(c, err);
        if (!container_is_running(c) && lfd < 0)
                return -1;
        cleanup_free char *local = local_path_absolute(from_c ? dst : src);
        return cp_run(cli, c, &o, abs, local, to_c, err);
}
