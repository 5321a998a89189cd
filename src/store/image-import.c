/* berth — `import`: a rootfs tarball (plain or compressed) becomes a
 * one-layer image.  The tarball is decompressed into a blob as it is read
 * (the layer blob is the uncompressed tar, so its digest is the diff_id),
 * unpacked, and registered with a config built from the `-c` changes; every
 * change is checked before the input is read. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>

#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/image-import.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/instructions.h"
#include "berth/layer.h"
#include "berth/util.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int write_block(const void *buf, size_t n, void *w, berth_error_t *err)
{
        return store_blob_writer_write(w, buf, n, err);
}

/* Decompress what fd delivers into a blob writer (the layer blob is the
 * uncompressed tar, so its digest is its diff_id). */
static int copy_decompressed(int fd, struct blob_writer *w, berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        cleanup_archive_read struct archive *a = sym_archive_read_new();
        if (!a)
                abort();
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_raw(a);
        struct archive_entry *e;
        if (sym_archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
                return berth_error(err, 0, "not a valid tar archive (%s)",
                                   sym_archive_error_string(a) ? sym_archive_error_string(a) : "cannot read it");
        int r = sym_archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
                return berth_error(err, 0, "not a valid tar archive (it is empty)");
        if (r < ARCHIVE_WARN)
                return berth_error(err, 0, "not a valid tar archive (%s)",
                                   sym_archive_error_string(a) ? sym_archive_error_string(a) : "cannot read it");
        r = arch_data_foreach(a, write_block, w, err);
        if (r < 0)
                return r;
        if (r > 0)
                return berth_error(err, 0, "not a valid tar archive (%s)",
                                   sym_archive_error_string(a) ? sym_archive_error_string(a) : "read error");
        if (store_blob_writer_size(w) == 0)
                return berth_error(err, 0, "not a valid tar archive (it is empty)");
        return 0;
}

static int put_json(struct berth_store *s, json_t *j, char **digest_out, long long *size_out, berth_error_t *err)
{
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                abort();
        *size_out = (long long) strlen(text);
        return store_blob_put_data(s, text, strlen(text), digest_out, err);
}

int image_import(struct berth_store *s, int fd, const char *ref, char *const *changes, const char *message,
                 char **id_out, berth_error_t *err)
{
        /* Check everything the user typed before reading the input. */
        cleanup_free char *full = NULL;
        if (ref && image_ref_tag_name(ref, &full, err) < 0)
                return -1;
        json_auto_t *cfg = json_object();
        json_object_set_new(cfg, "Env", json_pack("[s]", DEFAULT_PATH_ENV));
        if (image_config_apply_changes(cfg, changes, err) < 0)
                return -1;

        cleanup_blob_writer struct blob_writer *w = NULL;
        if (store_blob_writer_open(s, &w, err) < 0)
                return -1;
        if (copy_decompressed(fd, w, err) < 0)
                return -1;
        cleanup_free char *diff_id = NULL;
        long long content_size = 0;
        if (store_layer_unpack(s, store_blob_writer_path(w), &diff_id, &content_size, err) < 0)
                return -1;
        long long layer_size = store_blob_writer_size(w);
        cleanup_free char *layer_digest = NULL;
        if (store_blob_writer_commit(w, diff_id, &layer_digest, err) < 0)
                return -1;

        long long now = now_ns();
        cleanup_free char *created = format_rfc3339(now);
        json_auto_t *history = json_pack("{s:s, s:s}", "created", created, "created_by", "berth import");
        if (message && *message)
                json_object_set_new(history, "comment", json_string(message));
        json_auto_t *config = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s]}, s:[O]}", "created", created,
                                                "architecture", image_go_arch(), "os", "linux", "config", cfg, "rootfs",
                                                "type", "layers", "diff_ids", diff_id, "history", history);
        if (!config)
                abort();
        cleanup_free char *config_digest = NULL;
        long long config_size = 0;
        if (put_json(s, config, &config_digest, &config_size, err) < 0)
                return -1;
        json_auto_t *manifest = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}",
                                                  "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST, "config",
                                                  "mediaType", MT_OCI_CONFIG, "digest", config_digest, "size",
                                                  (json_int_t) config_size, "layers", "mediaType", MT_OCI_LAYER,
                                                  "digest", layer_digest, "size", (json_int_t) layer_size);
        if (!manifest)
                abort();
        cleanup_free char *manifest_digest = NULL;
        long long manifest_size = 0;
        if (put_json(s, manifest, &manifest_digest, &manifest_size, err) < 0)
                return -1;
        char *names[] = { full, NULL };
        return image_add(s, manifest_digest, full ? names : NULL, id_out, err);
}
