/* berth — helpers shared by the image archive modules (archive-load.c,
 * archive-save.c) and the container filesystem ones (diff.c, commit.c,
 * export.c): libarchive errors and tar writing, progress lines,
 * image names, and undoing what a failed load or commit added to the store.
 * See include/berth/archive-internal.h. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/layer.h"
#include "berth/util.h"

DLSYM_PROTOTYPE(archive_entry_clear) = NULL;
DLSYM_PROTOTYPE(archive_entry_copy_pathname) = NULL;
DLSYM_PROTOTYPE(archive_entry_copy_sourcepath) = NULL;
DLSYM_PROTOTYPE(archive_entry_filetype) = NULL;
DLSYM_PROTOTYPE(archive_entry_free) = NULL;
DLSYM_PROTOTYPE(archive_entry_gid) = NULL;
DLSYM_PROTOTYPE(archive_entry_hardlink) = NULL;
DLSYM_PROTOTYPE(archive_entry_linkify) = NULL;
DLSYM_PROTOTYPE(archive_entry_linkresolver_free) = NULL;
DLSYM_PROTOTYPE(archive_entry_linkresolver_new) = NULL;
DLSYM_PROTOTYPE(archive_entry_linkresolver_set_strategy) = NULL;
DLSYM_PROTOTYPE(archive_entry_new) = NULL;
DLSYM_PROTOTYPE(archive_entry_pathname) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_filetype) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_gid) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_hardlink) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_mtime) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_pathname) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_perm) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_size) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_uid) = NULL;
DLSYM_PROTOTYPE(archive_entry_size) = NULL;
DLSYM_PROTOTYPE(archive_entry_size_is_set) = NULL;
DLSYM_PROTOTYPE(archive_entry_sourcepath) = NULL;
DLSYM_PROTOTYPE(archive_entry_symlink) = NULL;
DLSYM_PROTOTYPE(archive_entry_uid) = NULL;
DLSYM_PROTOTYPE(archive_entry_xattr_add_entry) = NULL;
DLSYM_PROTOTYPE(archive_entry_xattr_clear) = NULL;
DLSYM_PROTOTYPE(archive_entry_xattr_count) = NULL;
DLSYM_PROTOTYPE(archive_entry_xattr_next) = NULL;
DLSYM_PROTOTYPE(archive_entry_xattr_reset) = NULL;
DLSYM_PROTOTYPE(archive_errno) = NULL;
DLSYM_PROTOTYPE(archive_error_string) = NULL;
DLSYM_PROTOTYPE(archive_filter_bytes) = NULL;
DLSYM_PROTOTYPE(archive_format) = NULL;
DLSYM_PROTOTYPE(archive_read_data) = NULL;
DLSYM_PROTOTYPE(archive_read_data_block) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_descend) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_entry_from_file) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_new) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_open) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_set_behavior) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_set_symlink_hybrid) = NULL;
DLSYM_PROTOTYPE(archive_read_disk_set_symlink_physical) = NULL;
DLSYM_PROTOTYPE(archive_read_free) = NULL;
DLSYM_PROTOTYPE(archive_read_new) = NULL;
DLSYM_PROTOTYPE(archive_read_next_header) = NULL;
DLSYM_PROTOTYPE(archive_read_next_header2) = NULL;
DLSYM_PROTOTYPE(archive_read_open) = NULL;
DLSYM_PROTOTYPE(archive_read_open_fd) = NULL;
DLSYM_PROTOTYPE(archive_read_open_filename) = NULL;
DLSYM_PROTOTYPE(archive_read_open_memory) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_all) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_bzip2) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_gzip) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_xz) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_gnutar) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_raw) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_tar) = NULL;
DLSYM_PROTOTYPE(archive_set_error) = NULL;
DLSYM_PROTOTYPE(archive_write_close) = NULL;
DLSYM_PROTOTYPE(archive_write_data) = NULL;
DLSYM_PROTOTYPE(archive_write_data_block) = NULL;
DLSYM_PROTOTYPE(archive_write_disk_new) = NULL;
DLSYM_PROTOTYPE(archive_write_disk_set_options) = NULL;
DLSYM_PROTOTYPE(archive_write_finish_entry) = NULL;
DLSYM_PROTOTYPE(archive_write_free) = NULL;
DLSYM_PROTOTYPE(archive_write_header) = NULL;
DLSYM_PROTOTYPE(archive_write_new) = NULL;
DLSYM_PROTOTYPE(archive_write_open) = NULL;
DLSYM_PROTOTYPE(archive_write_open_fd) = NULL;
DLSYM_PROTOTYPE(archive_write_set_bytes_in_last_block) = NULL;
DLSYM_PROTOTYPE(archive_write_set_format_pax_restricted) = NULL;

int archive_lib_load(berth_error_t *err)
{
        static void *dl;
        return dlopen_many_sym(&dl, ARCHIVE_SONAME, err,
                               DLSYM_ARG(archive_entry_clear),
                               DLSYM_ARG(archive_entry_copy_pathname),
                               DLSYM_ARG(archive_entry_copy_sourcepath),
                               DLSYM_ARG(archive_entry_filetype),
                               DLSYM_ARG(archive_entry_free),
                               DLSYM_ARG(archive_entry_gid),
                               DLSYM_ARG(archive_entry_hardlink),
                               DLSYM_ARG(archive_entry_linkify),
                               DLSYM_ARG(archive_entry_linkresolver_free),
                               DLSYM_ARG(archive_entry_linkresolver_new),
                               DLSYM_ARG(archive_entry_linkresolver_set_strategy),
                               DLSYM_ARG(archive_entry_new),
                               DLSYM_ARG(archive_entry_pathname),
                               DLSYM_ARG(archive_entry_set_filetype),
                               DLSYM_ARG(archive_entry_set_gid),
                               DLSYM_ARG(archive_entry_set_hardlink),
                               DLSYM_ARG(archive_entry_set_mtime),
                               DLSYM_ARG(archive_entry_set_pathname),
                               DLSYM_ARG(archive_entry_set_perm),
                               DLSYM_ARG(archive_entry_set_size),
                               DLSYM_ARG(archive_entry_set_uid),
                               DLSYM_ARG(archive_entry_size),
                               DLSYM_ARG(archive_entry_size_is_set),
                               DLSYM_ARG(archive_entry_sourcepath),
                               DLSYM_ARG(archive_entry_symlink),
                               DLSYM_ARG(archive_entry_uid),
                               DLSYM_ARG(archive_entry_xattr_add_entry),
                               DLSYM_ARG(archive_entry_xattr_clear),
                               DLSYM_ARG(archive_entry_xattr_count),
                               DLSYM_ARG(archive_entry_xattr_next),
                               DLSYM_ARG(archive_entry_xattr_reset),
                               DLSYM_ARG(archive_errno),
                               DLSYM_ARG(archive_error_string),
                               DLSYM_ARG(archive_filter_bytes),
                               DLSYM_ARG(archive_format),
                               DLSYM_ARG(archive_read_data),
                               DLSYM_ARG(archive_read_data_block),
                               DLSYM_ARG(archive_read_disk_descend),
                               DLSYM_ARG(archive_read_disk_entry_from_file),
                               DLSYM_ARG(archive_read_disk_new),
                               DLSYM_ARG(archive_read_disk_open),
                               DLSYM_ARG(archive_read_disk_set_behavior),
                               DLSYM_ARG(archive_read_disk_set_symlink_hybrid),
                               DLSYM_ARG(archive_read_disk_set_symlink_physical),
                               DLSYM_ARG(archive_read_free),
                               DLSYM_ARG(archive_read_new),
                               DLSYM_ARG(archive_read_next_header),
                               DLSYM_ARG(archive_read_next_header2),
                               DLSYM_ARG(archive_read_open),
                               DLSYM_ARG(archive_read_open_fd),
                               DLSYM_ARG(archive_read_open_filename),
                               DLSYM_ARG(archive_read_open_memory),
                               DLSYM_ARG(archive_read_support_filter_all),
                               DLSYM_ARG(archive_read_support_filter_bzip2),
                               DLSYM_ARG(archive_read_support_filter_gzip),
                               DLSYM_ARG(archive_read_support_filter_xz),
                               DLSYM_ARG(archive_read_support_format_gnutar),
                               DLSYM_ARG(archive_read_support_format_raw),
                               DLSYM_ARG(archive_read_support_format_tar),
                               DLSYM_ARG(archive_set_error),
                               DLSYM_ARG(archive_write_close),
                               DLSYM_ARG(archive_write_data),
                               DLSYM_ARG(archive_write_data_block),
                               DLSYM_ARG(archive_write_disk_new),
                               DLSYM_ARG(archive_write_disk_set_options),
                               DLSYM_ARG(archive_write_finish_entry),
                               DLSYM_ARG(archive_write_free),
                               DLSYM_ARG(archive_write_header),
                               DLSYM_ARG(archive_write_new),
                               DLSYM_ARG(archive_write_open),
                               DLSYM_ARG(archive_write_open_fd),
                               DLSYM_ARG(archive_write_set_bytes_in_last_block),
                               DLSYM_ARG(archive_write_set_format_pax_restricted),
                               NULL);
}

const char *arch_msg(struct archive *a)
{
        const char *m = a ? sym_archive_error_string(a) : NULL;
        return m ? m : "unknown error";
}

int arch_data_foreach(struct archive *a, arch_block_fn fn, void *userdata, berth_error_t *err)
{
        for (;;) {
                const void *buf;
                size_t n;
                la_int64_t off;
                int r = sym_archive_read_data_block(a, &buf, &n, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return 1;
                if ((r = fn(buf, n, userdata, err)) < 0)
                        return r;
        }
}

void layer_bar_draw(long long done, long long total, void *userdata)
{
        struct layer_bar *b = userdata;
        cleanup_free char *bar = format_progress_bar(done, total);
        fprintf(b->f, "\r\033[2K%s %.12s %s", b->verb, b->hex, bar);
        fflush(b->f);
}

void layer_bar_end(struct layer_bar *b, long long size, bool ok)
{
        if (ok)
                layer_bar_draw(size, size, b);
        fputc('\n', b->f);
}

void report_progress(const struct image_archive_report *r, const char *fmt, ...)
{
        if (!r || !r->progress)
                return;
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *line = xvasprintf(fmt, ap);
        va_end(ap);
        r->progress(line, r->userdata);
}

char *json_compact(json_t *j)
{
        char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                abort();
        return text;
}

char *name_part(const char *full, enum name_part part)
{
        struct image_ref r;
        if (image_ref_parse(full, &r, NULL) < 0)
                return xstrdup(part == NAME_TAG ? "latest" : full);
        char *v = part == NAME_FAMILIAR ? image_ref_familiar(&r)
                  : part == NAME_REPO   ? image_ref_familiar_repo(&r)
                                        : xstrdup(r.tag ? r.tag : "latest");
        image_ref_free(&r);
        return v;
}

bool tag_name_valid(const char *name)
{
        struct image_ref r;
        if (image_ref_parse(name, &r, NULL) < 0)
                return false;
        bool ok = r.digest == NULL;
        image_ref_free(&r);
        return ok;
}

void added_free(struct added *a)
{
        strv_free(a->blobs);
        strv_free(a->layers);
        a->blobs = a->layers = NULL;
}

/* Checked under the exclusive store lock; layer dirs are moved to ROOT/tmp
 * and deleted after it. */
void added_rollback(struct berth_store *s, struct added *a)
{
        if (!strv_length(a->blobs) && !strv_length(a->layers))
                return;
        berth_error_t e = NULL;
        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(s, true, &lock, &e) < 0) {
                berth_error_free(&e);
                return;
        }
        struct berth_image **imgs = NULL;
        size_t n = 0;
        if (image_list(s, &imgs, &n, &e) < 0) {
                berth_error_free(&e);
                return;
        }
        cleanup_strv char **keep = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                strv_push(&keep, imgs[i]->id);
                strv_push(&keep, imgs[i]->manifest_digest);
                for (size_t k = 0; imgs[i]->diff_ids[k]; k++)
                        strv_push(&keep, imgs[i]->diff_ids[k]);
                cleanup_free char *data = NULL;
                size_t len;
                if (store_blob_read(s, imgs[i]->manifest_digest, &data, &len, NULL) == 0) {
                        json_auto_t *m = json_loadb(data, len, 0, NULL);
                        size_t k;
                        json_t *l;
                        json_array_foreach(json_object_get(m, "layers"), k, l)
                                if (json_string_value(json_object_get(l, "digest")))
                                        strv_push(&keep, json_string_value(json_object_get(l, "digest")));
                }
        }
        image_list_free(imgs, n);
        cleanup_strv char **trash = xcalloc(1, sizeof(char *));
        for (size_t i = 0; a->blobs && a->blobs[i]; i++) {
                if (strv_contains(keep, a->blobs[i]) || !image_digest_valid(a->blobs[i]))
                        continue;
                cleanup_free char *p = store_path(s, "blobs/sha256/%s", a->blobs[i] + 7);
                (void) unlink(p);
        }
        for (size_t i = 0; a->layers && a->layers[i]; i++) {
                const char *d = a->layers[i];
                if (!strv_contains(keep, d))
                        store_layer_trash(s, d, &trash);
        }
        store_lock_scope_release(&lock);
        for (size_t i = 0; trash[i]; i++)
                rm_rf(trash[i], NULL);
}

int write_data(struct archive *a, const void *data, size_t len, berth_error_t *err)
{
        while (len > 0) {
                la_ssize_t n = sym_archive_write_data(a, data, len);
                if (n <= 0)
                        return berth_error(err, 0, "write the archive: %s", arch_msg(a));
                data = (const char *) data + n;
                len -= (size_t) n;
        }
        return 0;
}

int tar_close(struct archive *a, berth_error_t *err)
{
        if (sym_archive_write_close(a) != ARCHIVE_OK)
                return berth_error(err, 0, "write the archive: %s", arch_msg(a));
        return 0;
}

int tar_put(struct archive *a, struct archive_entry_linkresolver *lr, struct archive_entry *e, int fd,
                   const char *display, berth_error_t *err)
{
        struct archive_entry *spare = NULL;
        struct archive_entry *cur = e;
        if (lr)
                sym_archive_entry_linkify(lr, &cur, &spare);
        if (!cur)
                return 0;
        int r = sym_archive_write_header(a, cur);
        if (r < ARCHIVE_WARN)
                return berth_error(err, 0, "`%s`: %s", display, arch_msg(a));
        if (fd >= 0 && sym_archive_entry_size(cur) > 0 && !sym_archive_entry_hardlink(cur)) {
                cleanup_free char *buf = xmalloc(1 << 16);
                long long left = sym_archive_entry_size(cur);
                while (left > 0) {
                        ssize_t n = read_chunk(fd, buf, left < (1 << 16) ? (size_t) left : (1 << 16), display, err);
                        if (n < 0)
                                return (int) n;
                        if (n == 0) {
                                /* the file shrank (a running container): pad with zeros */
                                memset(buf, 0, 1 << 16);
                                n = left < (1 << 16) ? left : (1 << 16);
                        }
                        if (write_data(a, buf, (size_t) n, err) < 0)
                                return -1;
                        left -= n;
                }
        }
        return 0;
}
