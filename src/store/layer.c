/* berth — unpacking layers: ROOT/layers/DIFFID/{diff,link,size} + ROOT/l/SHORT.
 *
 * One pass over the blob: an outer libarchive reader ("raw" format, every
 * filter) decompresses it; its bytes are hashed (the diff_id is the sha256 of
 * the uncompressed tar) and fed to an inner tar reader whose entries are
 * written by archive_write_disk into a staging dir under ROOT/tmp.  Only when
 * every entry is in place is the staging dir renamed to ROOT/layers/DIFFID, so
 * the store never holds half a layer.
 *
 * Safety: entries that are absolute or have a ".." component are refused
 * before anything is written; entries (and hard link targets) whose parent
 * path runs through a symlink are refused too (also libarchive's
 * SECURE_SYMLINKS); extraction runs with the staging dir as the working
 * directory and relative names only; whiteouts and opaque markers are created
 * through O_NOFOLLOW directory fds.  OCI whiteouts become overlayfs ones:
 * ".wh.NAME" -> char device 0/0 NAME, ".wh..wh..opq" -> xattr
 * trusted.overlay.opaque=y on the directory (user.overlay.opaque in a user's
 * store, see overlay_opaque_xattr()). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/idmap.h"
#include "berth/layer.h"
#include "berth/rootless.h"
#include "berth/util.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define SHORT_LINK_LEN 16

/* ---- the decompressed, hashed byte stream -------------------------------- */
struct stream {
        struct archive *outer;
        EVP_MD_CTX *md;
        long long total;
        bool eof;
        const struct layer_progress *progress;
        long long blob_size, last_report;
};

static la_ssize_t stream_read(struct archive *inner, void *userdata, const void **buf)
{
        struct stream *st = userdata;
        while (!st->eof) {
                const void *b = NULL;
                size_t n = 0;
                la_int64_t off = 0;
                int r = sym_archive_read_data_block(st->outer, &b, &n, &off);
                if (r == ARCHIVE_EOF) {
                        st->eof = true;
                        break;
                }
                if (r < ARCHIVE_WARN) {
                        if (inner)
                                sym_archive_set_error(inner, -1 /* misc */, "%s", arch_msg(st->outer));
                        return -1;
                }
                if (n == 0)
                        continue;
                sha256_update(st->md, b, n);
                st->total += n;
                if (st->progress && st->total - st->last_report >= (1 << 20)) {
                        st->last_report = st->total;
                        st->progress->fn(sym_archive_filter_bytes(st->outer, -1), st->blob_size,
                                         st->progress->userdata);
                }
                *buf = b;
                return (la_ssize_t) n;
        }
        *buf = NULL;
        return 0;
}

/* ---- entry names ------------------------------------------------------------ */

/* Absolute, or with a ".." component. */
static bool path_escapes(const char *p)
{
        if (p[0] == '/')
                return true;
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return true;
                c += n;
                while (*c == '/')
                        c++;
        }
        return false;
}

/* An entry's name cleaned ("./a//b/" -> "a/b"), "" for the layer root:
 * path_escapes() has refused every ".." before. */
static char *entry_name(const char *p)
{
        char *n = path_normalize_relative(p);
        return n ? n : xstrdup("");
}

/* Walk the directories of rel (all components when whole, else all but the
 * last) from rootfd without following symlinks.  With create, missing
 * directories are made (0755).  Returns an fd of the last directory reached
 * (or -ENOENT when a component is missing and !create; -ELOOP when one is a
 * symlink; *bad gets the offending prefix). */
static int open_dir_nofollow(int rootfd, const char *rel, bool whole, bool create, char **bad)
{
        cleanup_free char *p = xstrdup(rel);
        if (!whole) {
                char *slash = strrchr(p, '/');
                if (slash)
                        *slash = '\0';
                else
                        p[0] = '\0';
        }
        int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        for (char *c = p; *c;) {
                char *slash = strchr(c, '/');
                if (slash)
                        *slash = '\0';
                int nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
                                int e = errno;
                                close(fd);
                                return -e;
                        }
                        nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0) {
                        int e = errno;
                        struct stat st;
                        if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                                e = ELOOP;
                        close(fd);
                        if (bad)
                                *bad = xstrndup(p, (size_t) (c - p) + strlen(c));
                        return -e;
                }
                close(fd);
                fd = nfd;
                if (!slash)
                        break;
                *slash = '/';
                c = slash + 1;
        }
        return fd;
}

/* Refuse a path whose existing parent directories include a symlink. */
static int check_parents(int rootfd, const char *display, const char *norm, bool whole, berth_error_t *err)
{
        cleanup_free char *bad = NULL;
        int fd = open_dir_nofollow(rootfd, norm, whole, false, &bad);
        if (fd >= 0) {
                close(fd);
                return 0;
        }
        if (fd == -ELOOP)
                return berth_error(err, 0, "layer entry `%s` goes through the symlink `%s`, refusing to unpack it",
                                   display, bad ? bad : norm);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0; /* missing parents are created by the extraction */
        return berth_error(err, -fd, "layer entry `%s`", display);
}

static int make_whiteout(int rootfd, const char *display, const char *norm, struct archive_entry *e,
                         berth_error_t *err)
{
        const char *slash = strrchr(norm, '/');
        const char *base = slash ? slash + 1 : norm;
        cleanup_free char *bad = NULL;
        cleanup_close int dfd = open_dir_nofollow(rootfd, norm, false, true, &bad);
        if (dfd < 0) {
                if (dfd == -ELOOP)
                        return berth_error(err, 0, "layer entry `%s` goes through the symlink `%s`, refusing to unpack it",
                                           display, bad ? bad : norm);
                return berth_error(err, -dfd, "layer entry `%s`", display);
        }
        if (streq(base, WHITEOUT_OPAQUE)) {
                if (fsetxattr(dfd, overlay_opaque_xattr(), "y", 1, 0) < 0)
                        return berth_error(err, errno, "mark the directory of `%s` opaque (%s)", display,
                                           overlay_opaque_xattr());
                return 0;
        }
        if (startswith(base, WHITEOUT_META_PREFIX))
                return 0; /* other AUFS metadata (.wh..wh.plnk, ...): not content */
        const char *name = base + strlen(WHITEOUT_PREFIX);
        if (!*name || streq(name, ".") || streq(name, ".."))
                return berth_error(err, 0, "layer entry `%s` is not a valid whiteout", display);
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                /* the same layer both adds and deletes NAME: deletion wins */
                if (S_ISDIR(st.st_mode)) {
                        cleanup_free char *victim = xasprintf("/proc/self/fd/%d/%s", dfd, name);
                        if (rm_rf(victim, err) < 0)
                                return -1;
                } else if (unlinkat(dfd, name, 0) < 0)
                        return berth_error(err, errno, "layer entry `%s`", display);
        }
        if (mknodat(dfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
                return berth_error(err, errno, "create the whiteout for `%s`", display);
        if (fchownat(dfd, name, sym_archive_entry_uid(e), sym_archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "chown the whiteout for `%s`", display);
        return 0;
}

void archive_entry_unmap_ids(struct archive_entry *e, const struct idmap *uids, const struct idmap *gids)
{
        uint32_t id;
        if (idmap_to_container(uids, (uint32_t) sym_archive_entry_uid(e), &id))
                sym_archive_entry_set_uid(e, id);
        if (idmap_to_container(gids, (uint32_t) sym_archive_entry_gid(e), &id))
                sym_archive_entry_set_gid(e, id);
}

void archive_entry_drop_overlay_xattrs(struct archive_entry *e)
{
        if (sym_archive_entry_xattr_reset(e) == 0)
                return;
        const char *name;
        const void *value;
        size_t size;
        bool found = false;
        while (sym_archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
                if (overlay_xattr_is_private(name))
                        found = true;
        if (!found)
                return;
        size_t n = (size_t) sym_archive_entry_xattr_count(e), k = 0;
        char **names = xcalloc(n, sizeof(char *));
        void **values = xcalloc(n, sizeof(void *));
        size_t *sizes = xcalloc(n, sizeof(size_t));
        sym_archive_entry_xattr_reset(e);
        while (sym_archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (overlay_xattr_is_private(name))
                        continue;
                names[k] = xstrdup(name);
                values[k] = xmalloc(size);
                memcpy(values[k], value, size);
                sizes[k++] = size;
        }
        sym_archive_entry_xattr_clear(e);
        for (size_t i = 0; i < k; i++) {
                sym_archive_entry_xattr_add_entry(e, names[i], values[i], sizes[i]);
                free(names[i]);
                free(values[i]);
        }
        free(names);
        free(values);
        free(sizes);
}

/* ---- extraction ------------------------------------------------------------- */
struct cwd_guard {
        int fd; /* the caller's cwd, or -1 (then "/" is restored) */
        bool moved;
};

static void cwd_restore(struct cwd_guard *g)
{
        if (g->moved && (g->fd < 0 || fchdir(g->fd) < 0))
                (void) !chdir("/");
        if (g->fd >= 0)
                close(g->fd);
}

static int extract_entries(struct archive *inner, int rootfd, long long *size, berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        /* Declared before the writer so it is cleaned up after it: freeing
         * the writer runs its pending fixups (directory modes and times)
         * with relative names, which must still resolve in the staging dir. */
        struct cwd_guard __attribute__((cleanup(cwd_restore))) guard = {
                .fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
        };
        cleanup_archive_write struct archive *disk = sym_archive_write_disk_new();
        if (!disk)
                abort();
        /* No ARCHIVE_EXTRACT_FFLAGS: an immutable flag from an image would
         * make the layer impossible to delete; Docker ignores them too.
         * No set_standard_lookup: owners are the numeric IDs in the tar. */
        sym_archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                         ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                                         ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                         ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                                                         ARCHIVE_EXTRACT_SECURE_SYMLINKS);

        if (fchdir(rootfd) < 0)
                return berth_error(err, errno, "enter the staging directory");
        guard.moved = true;

        for (;;) {
                struct archive_entry *e = NULL;
                int r = sym_archive_read_next_header(inner, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "not a valid tar archive (%s)", arch_msg(inner));
                const char *path = sym_archive_entry_pathname(e);
                if (!path || !*path)
                        return berth_error(err, 0, "layer entry with an empty or unreadable name");
                if (path_escapes(path))
                        return berth_error(err, 0, "layer entry `%s` escapes the layer", path);
                const char *hardlink = sym_archive_entry_hardlink(e);
                if (hardlink && path_escapes(hardlink))
                        return berth_error(err, 0, "layer entry `%s` links to `%s`, which escapes the layer", path,
                                           hardlink);
                cleanup_free char *norm = entry_name(path);
                const char *slash = strrchr(norm, '/');
                const char *base = slash ? slash + 1 : norm;
                if (check_parents(rootfd, path, norm, false, err) < 0)
                        return -1;
                if (startswith(base, WHITEOUT_PREFIX)) {
                        if (make_whiteout(rootfd, path, norm, e, err) < 0)
                                return -1;
                        continue; /* the reader skips its data */
                }
                /* a user namespace may not make device nodes: a user's layers
                 * go without them, as containers-storage's do (the runtime
                 * binds the host's standard nodes into /dev) */
                if (rootless() && (sym_archive_entry_filetype(e) == AE_IFCHR ||
                                   sym_archive_entry_filetype(e) == AE_IFBLK))
                        continue;
                cleanup_free char *nlink = NULL;
                if (hardlink) {
                        nlink = entry_name(hardlink);
                        if (!*nlink)
                                return berth_error(err, 0, "layer entry `%s` is a hard link to the layer root", path);
                        if (check_parents(rootfd, path, nlink, false, err) < 0)
                                return -1;
                        sym_archive_entry_set_hardlink(e, nlink);
                }
                sym_archive_entry_set_pathname(e, *norm ? norm : ".");
                archive_entry_drop_overlay_xattrs(e);
                if (!hardlink && sym_archive_entry_filetype(e) == AE_IFREG)
                        *size += sym_archive_entry_size(e);

                r = sym_archive_write_header(disk, e);
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "layer entry `%s`: %s", path, arch_msg(disk));
                if (sym_archive_entry_size(e) > 0 && r >= ARCHIVE_WARN) {
                        for (;;) {
                                const void *buf;
                                size_t n;
                                la_int64_t off;
                                r = sym_archive_read_data_block(inner, &buf, &n, &off);
                                if (r == ARCHIVE_EOF)
                                        break;
                                if (r < ARCHIVE_WARN)
                                        return berth_error(err, 0, "not a valid tar archive (%s)", arch_msg(inner));
                                if (sym_archive_write_data_block(disk, buf, n, off) < ARCHIVE_WARN)
                                        return berth_error(err, 0, "layer entry `%s`: %s", path, arch_msg(disk));
                        }
                }
                if (sym_archive_write_finish_entry(disk) < ARCHIVE_WARN)
                        return berth_error(err, 0, "layer entry `%s`: %s", path, arch_msg(disk));
        }
        /* Directory times and permissions are fixed up here. */
        if (sym_archive_write_close(disk) < ARCHIVE_WARN)
                return berth_error(err, 0, "finish the layer: %s", arch_msg(disk));
        return 0;
}

static int read_small(const char *path, char *buf, size_t cap)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, cap - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        return 0;
}

bool store_layer_exists(struct berth_store *s, const char *diff_id)
{
        if (!image_digest_valid(diff_id))
                return false;
        cleanup_free char *p = store_path(s, "layers/%s/link", diff_id + 7);
        return access(p, F_OK) == 0;
}

int store_layer_info(struct berth_store *s, const char *diff_id, char **link_out, long long *size_out,
                     berth_error_t *err)
{
        if (!image_digest_valid(diff_id))
                return berth_error(err, 0, "invalid layer digest `%s`", diff_id ? diff_id : "");
        char buf[64];
        cleanup_free char *lp = store_path(s, "layers/%s/link", diff_id + 7);
        int r = read_small(lp, buf, sizeof(buf));
        if (r < 0) {
                if (r == -ENOENT) {
                        berth_error(err, 0, "layer %s is not in the store", diff_id);
                        return -ENOENT;
                }
                return berth_error(err, -r, "read `%s`", lp);
        }
        if (link_out)
                *link_out = xasprintf("l/%s", buf);
        if (size_out) {
                cleanup_free char *sp = store_path(s, "layers/%s/size", diff_id + 7);
                *size_out = read_small(sp, buf, sizeof(buf)) == 0 ? atoll(buf) : 0;
        }
        return 0;
}

static void short_link_name(char out[SHORT_LINK_LEN + 1])
{
        static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        unsigned char raw[SHORT_LINK_LEN];
        if (random_bytes(raw, sizeof(raw)) < 0)
                abort();
        for (size_t i = 0; i < SHORT_LINK_LEN; i++)
                out[i] = b32[raw[i] & 31];
        out[SHORT_LINK_LEN] = '\0';
}

int store_layer_unpack_expect(struct berth_store *s, const char *blob_path, const char *expect_diff_id,
                              char **diff_id_out, long long *size_out, berth_error_t *err)
{
        return store_layer_unpack_progress(s, blob_path, expect_diff_id, NULL, diff_id_out, size_out, err);
}

int store_layer_unpack_progress(struct berth_store *s, const char *blob_path, const char *expect_diff_id,
                                const struct layer_progress *progress, char **diff_id_out, long long *size_out,
                                berth_error_t *err)
{
        if (expect_diff_id && !image_digest_valid(expect_diff_id))
                return berth_error(err, 0, "invalid layer digest `%s`", expect_diff_id);
        if (expect_diff_id && store_layer_exists(s, expect_diff_id)) {
                if (store_layer_info(s, expect_diff_id, NULL, size_out, err) < 0)
                        return -1;
                if (diff_id_out)
                        *diff_id_out = xstrdup(expect_diff_id);
                return 0;
        }

        if (archive_lib_load(err) < 0)
                return -1;
        cleanup_archive_read struct archive *outer = sym_archive_read_new();
        cleanup_archive_read struct archive *inner = sym_archive_read_new();
        cleanup_md EVP_MD_CTX *md = sha256_new();
        if (!outer || !inner)
                abort();
        sym_archive_read_support_filter_all(outer);
        sym_archive_read_support_format_raw(outer);
        sym_archive_read_support_format_tar(inner);

        struct archive_entry *raw_entry = NULL;
        if (sym_archive_read_open_filename(outer, blob_path, 1 << 16) != ARCHIVE_OK)
                return berth_error(err, 0, "not a valid tar archive (%s)", arch_msg(outer));
        int r = sym_archive_read_next_header(outer, &raw_entry);
        if (r == ARCHIVE_EOF)
                return berth_error(err, 0, "not a valid tar archive (it is empty)");
        if (r < ARCHIVE_WARN)
                return berth_error(err, 0, "not a valid tar archive (%s)", arch_msg(outer));

        struct stream st = { .outer = outer, .md = md, .progress = progress && progress->fn ? progress : NULL };
        struct stat sb;
        if (st.progress && stat(blob_path, &sb) == 0)
                st.blob_size = sb.st_size;
        if (sym_archive_read_open(inner, &st, NULL, stream_read, NULL) != ARCHIVE_OK) {
                if (st.total == 0)
                        return berth_error(err, 0, "not a valid tar archive (it is empty)");
                return berth_error(err, 0, "not a valid tar archive (%s)", arch_msg(inner));
        }

        cleanup_free char *stage = NULL;
        cleanup_close int stage_fd = -1;
        if (store_tmp_create(s, "layer", true, &stage, &stage_fd, err) < 0)
                return -1;
        int ret = -1;
        long long size = 0;
        cleanup_free char *digest = NULL;
        cleanup_free char *final = NULL;
        cleanup_free char *lpath = NULL;
        char shortname[SHORT_LINK_LEN + 1];
        cleanup_close int diff_fd = -1;
        cleanup_close int size_fd = -1;
        cleanup_close int link_fd = -1;
        cleanup_free char *target = NULL;
        if (mkdirat(stage_fd, "diff", 0755) < 0) {
                berth_error(err, errno, "create `%s/diff`", stage);
                goto out;
        }
        diff_fd = openat(stage_fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (diff_fd < 0) {
                berth_error(err, errno, "open `%s/diff`", stage);
                goto out;
        }
        if (extract_entries(inner, diff_fd, &size, err) < 0)
                goto out;
        /* Hash what the tar reader left unread (end blocks, padding). */
        for (const void *b; !st.eof;)
                if (stream_read(NULL, &st, &b) < 0) {
                        berth_error(err, 0, "not a valid tar archive (%s)", arch_msg(outer));
                        goto out;
                }
        if (st.total == 0) {
                berth_error(err, 0, "not a valid tar archive (it is empty)");
                goto out;
        }
        digest = sha256_final(md);
        const char *hex = digest + strlen("sha256:");
        if (expect_diff_id && !streq(expect_diff_id, digest)) {
                berth_error(err, 0, "layer digest mismatch: expected %s, got %s", expect_diff_id, digest);
                goto out;
        }

        final = store_path(s, "layers/%s", hex);
        if (access(final, F_OK) == 0) {
                /* already unpacked (earlier, or by a concurrent berth) */
                if (store_layer_info(s, digest, NULL, &size, err) < 0)
                        goto out;
                ret = 0;
                goto out;
        }
        char sizebuf[32];
        int sl;
        sl = snprintf(sizebuf, sizeof(sizebuf), "%lld\n", size);
        size_fd = openat(stage_fd, "size", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (size_fd < 0 || write_all(size_fd, sizebuf, sl) < 0) {
                berth_error(err, errno, "write `%s/size`", stage);
                goto out;
        }
        /* The short link first (dangling until the rename), so a layer in
         * place always has its link. */
        target = xasprintf("../layers/%s/diff", hex);
        for (int tries = 0;; tries++) {
                short_link_name(shortname);
                free(lpath);
                lpath = store_path(s, "l/%s", shortname);
                if (symlink(target, lpath) == 0)
                        break;
                if (errno != EEXIST || tries > 16) {
                        berth_error(err, errno, "create `%s`", lpath);
                        free(lpath);
                        lpath = NULL;
                        goto out;
                }
        }
        link_fd = openat(stage_fd, "link", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (link_fd < 0 || write_all(link_fd, shortname, SHORT_LINK_LEN) < 0) {
                berth_error(err, errno, "write `%s/link`", stage);
                goto out;
        }
        if (syncfs(stage_fd) < 0) {
                berth_error(err, errno, "sync `%s`", stage);
                goto out;
        }
        if (rename(stage, final) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY) {
                        berth_error(err, errno, "rename `%s` to `%s`", stage, final);
                        goto out;
                }
                /* a concurrent berth unpacked the same layer first */
                if (store_layer_info(s, digest, NULL, &size, err) < 0)
                        goto out;
        } else {
                free(stage);
                stage = NULL; /* in place now: nothing to clean up */
                free(lpath);
                lpath = NULL;
                cleanup_free char *layers = store_path(s, "layers");
                cleanup_close int lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (lfd >= 0)
                        (void) fsync(lfd);
        }
        ret = 0;
out:
        if (lpath)
                unlink(lpath);
        if (stage) {
                berth_error_t e2 = NULL;
                rm_rf(stage, &e2);
                berth_error_free(&e2);
        }
        if (ret == 0) {
                if (diff_id_out)
                        *diff_id_out = steal_pointer(&digest);
                if (size_out)
                        *size_out = size;
        }
        return ret;
}

int store_layer_unpack(struct berth_store *s, const char *blob_path, char **diff_id_out, long long *size_out,
                       berth_error_t *err)
{
        return store_layer_unpack_expect(s, blob_path, NULL, diff_id_out, size_out, err);
}

void store_layer_trash(struct berth_store *s, const char *diff_id, char ***trash)
{
        if (!image_digest_valid(diff_id))
                return;
        cleanup_free char *link = NULL;
        if (store_layer_info(s, diff_id, &link, NULL, NULL) == 0) {
                cleanup_free char *lp = store_path(s, "%s", link);
                (void) unlink(lp);
        }
        unsigned char rnd[6];
        char rhex[13];
        if (random_bytes(rnd, sizeof(rnd)) < 0)
                abort();
        hex_encode(rnd, sizeof(rnd), rhex);
        cleanup_free char *dir = store_path(s, "layers/%s", diff_id + 7);
        cleanup_free char *dst = store_path(s, "tmp/rmlayer-%.12s-%s", diff_id + 7, rhex);
        if (rename(dir, dst) == 0)
                strv_push(trash, dst);
}
