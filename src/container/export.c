/* berth — `export`: a container's merged filesystem as a tar (see
 * include/berth/export.h). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/export.h"
#include "berth/idmap.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/overlay.h"
#include "berth/util.h"

/* Runs in the child, in its own mount namespace: mount the merged view
 * read-only on mnt and write it as a tar to fd. */
static int export_child(struct berth_store *s, struct berth_container *c, const char *lower, const char *mnt, int fd,
                        berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        struct idmap uids, gids;
        bool userns;
        if (idmap_from_config(c->config, &uids, &gids, &userns, err) < 0)
                return berth_error_wrap(err, "the user namespace of container %s", c->name);
        if (unshare(CLONE_NEWNS) < 0)
                return berth_error(err, errno, "create a mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make mounts private");
        /* the upper dir as the topmost lower dir: a read-only overlay that
         * leaves the container's own upper/work dirs alone */
        cleanup_free char *opts = xasprintf("lowerdir=%s/upper:%s", c->dir, lower);
        if (overlay_mount(s->root, mnt, opts, MS_RDONLY, NULL, err) < 0)
                return berth_error_wrap(err, "mount the container's filesystem");
        if (chdir("/") < 0)
                return berth_error(err, errno, "chdir /");

        cleanup_archive_write struct archive *a = sym_archive_write_new();
        cleanup_archive_read struct archive *disk = sym_archive_read_disk_new();
        struct archive_entry_linkresolver *lr = sym_archive_entry_linkresolver_new();
        if (!a || !disk || !lr)
                abort();
        sym_archive_write_set_format_pax_restricted(a);
        sym_archive_entry_linkresolver_set_strategy(lr, sym_archive_format(a));
        sym_archive_read_disk_set_symlink_physical(disk);
        sym_archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE |
                                                         ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
        int ret = -1;
        size_t plen = strlen(mnt);
        if (sym_archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                berth_error(err, 0, "write the archive: %s", arch_msg(a));
                goto out;
        }
        if (sym_archive_read_disk_open(disk, mnt) != ARCHIVE_OK) {
                berth_error(err, 0, "read the container's filesystem: %s", arch_msg(disk));
                goto out;
        }
        for (;;) {
                cleanup_archive_entry struct archive_entry *e = sym_archive_entry_new();
                int r = sym_archive_read_next_header2(disk, e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        berth_error(err, 0, "read the container's filesystem: %s", arch_msg(disk));
                        goto out;
                }
                sym_archive_read_disk_descend(disk);
                const char *path = sym_archive_entry_pathname(e);
                if (!path || strncmp(path, mnt, plen) != 0)
                        continue;
                const char *rel = path + plen;
                while (*rel == '/')
                        rel++;
                if (!*rel || sym_archive_entry_filetype(e) == AE_IFSOCK)
                        continue;
                cleanup_free char *name = xstrdup(rel);
                sym_archive_entry_copy_pathname(e, name);
                archive_entry_drop_overlay_xattrs(e);
                if (userns)
                        archive_entry_unmap_ids(e, &uids, &gids);
                cleanup_close int dfd = -1;
                if (sym_archive_entry_filetype(e) == AE_IFREG && sym_archive_entry_size(e) > 0) {
                        dfd = open(sym_archive_entry_sourcepath(e), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (dfd < 0) {
                                berth_error(err, errno, "open `/%s`", name);
                                goto out;
                        }
                }
                cleanup_free char *display = xasprintf("/%s", name);
                if (tar_put(a, lr, e, dfd, display, err) < 0)
                        goto out;
        }
        if (tar_close(a, err) < 0)
                goto out;
        ret = 0;
out:
        sym_archive_entry_linkresolver_free(lr);
        return ret;
}

int container_export(struct berth_store *s, struct berth_container *c, int fd, berth_error_t *err)
{
        /* the layers the container runs on (resolved when it was created) */
        cleanup_free char *lower = json_str(c->config, "Berth.LowerDir") ? xstrdup(json_str(c->config, "Berth.LowerDir"))
                                                                           : NULL;
        if (!lower || !*lower) {
                cleanup_image struct berth_image *img = NULL;
                if (image_lookup(s, json_str(c->config, "Image"), &img, err) < 0)
                        return berth_error_wrap(err, "the image of container %s", c->name);
                free(lower);
                lower = image_lowerdir(img);
        }
        if (!*lower)
                return berth_error(err, 0, "the image of container %s has no layers", c->name);
        cleanup_free char *mnt = NULL;
        cleanup_close int mnt_fd = -1;
        if (store_tmp_create(s, "export", true, &mnt, &mnt_fd, err) < 0)
                return -1;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                rmdir(mnt);
                return berth_error(err, errno, "pipe");
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pfd[0]);
                close(pfd[1]);
                rmdir(mnt);
                return berth_error(err, e, "fork");
        }
        if (pid == 0) {
                close(pfd[0]);
                berth_error_t cerr = NULL;
                int r = export_child(s, c, lower, mnt, fd, &cerr);
                overlay_mounts_end();
                if (r < 0) {
                        const char *msg = cerr && cerr->msg ? cerr->msg : "export failed";
                        (void) !write(pfd[1], msg, strlen(msg));
                        _exit(1);
                }
                _exit(0);
        }
        close(pfd[1]);
        char msg[1024];
        size_t got = 0;
        for (;;) {
                ssize_t n = read(pfd[0], msg + got, sizeof(msg) - 1 - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t) n;
                if (got == sizeof(msg) - 1)
                        break;
        }
        msg[got] = '\0';
        close(pfd[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        rmdir(mnt);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "export %s: %s", c->name, got ? msg : "the export process failed");
        return 0;
}
