/* berth — `commit`: a container's changes (diff.c) as an uncompressed OCI
 * layer tar, unpacked into the store and registered as a new image on top of
 * the container's (see include/berth/commit.h).  What a failed commit added
 * is removed again. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/commit.h"
#include "berth/diff.h"
#include "berth/image-ref.h"
#include "berth/idmap.h"
#include "berth/image.h"
#include "berth/instructions.h"
#include "berth/json-util.h"
#include "berth/layer.h"
#include "berth/util.h"

struct writer_ctx {
        struct blob_writer *w;
        EVP_MD_CTX *md; /* the digest of what was written, known before the commit */
        berth_error_t err;
};

static la_ssize_t blob_write_cb(struct archive *a, void *userdata, const void *buf, size_t len)
{
        struct writer_ctx *ctx = userdata;
        if (store_blob_writer_write(ctx->w, buf, len, &ctx->err) < 0) {
                sym_archive_set_error(a, EIO, "%s", ctx->err ? ctx->err->msg : "write error");
                return -1;
        }
        sha256_update(ctx->md, buf, len);
        return (la_ssize_t) len;
}

/* One change as tar entries: the file from the upper dir, or a whiteout. */
static int commit_entry(struct archive *a, struct archive *disk, struct archive_entry_linkresolver *lr, int ufd,
                        const char *upper, const struct fs_change *ch, const struct idmap *maps, berth_error_t *err)
{
        const char *rel = ch->path + 1;
        if (ch->kind == 'D') {
                const char *slash = strrchr(rel, '/');
                cleanup_free char *wh = slash ? xasprintf("%.*s/.wh.%s", (int) (slash - rel), rel, slash + 1)
                                              : xasprintf(".wh.%s", rel);
                struct stat st;
                cleanup_archive_entry struct archive_entry *e = sym_archive_entry_new();
                sym_archive_entry_set_pathname(e, wh);
                sym_archive_entry_set_filetype(e, AE_IFREG);
                sym_archive_entry_set_perm(e, 0);
                sym_archive_entry_set_size(e, 0);
                if (fstatat(ufd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        sym_archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
                return tar_put(a, NULL, e, -1, ch->path, err);
        }
        struct stat st;
        if (fstatat(ufd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0; /* removed meanwhile (a running container) */
                return berth_error(err, errno, "stat `%s`", ch->path);
        }
        if (S_ISSOCK(st.st_mode))
                return 0; /* tar cannot hold sockets; Docker skips them too */
        cleanup_close int fd = -1;
        if (S_ISREG(st.st_mode)) {
                fd = openat(ufd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, errno, "open `%s`", ch->path);
                if (fstat(fd, &st) < 0)
                        return berth_error(err, errno, "stat `%s`", ch->path);
        }
        cleanup_archive_entry struct archive_entry *e = sym_archive_entry_new();
        cleanup_free char *src = xasprintf("%s/%s", upper, rel);
        sym_archive_entry_copy_sourcepath(e, src);
        sym_archive_entry_copy_pathname(e, rel);
        if (sym_archive_read_disk_entry_from_file(disk, e, fd, &st) < ARCHIVE_WARN)
                return berth_error(err, 0, "`%s`: %s", ch->path, arch_msg(disk));
        sym_archive_entry_copy_pathname(e, rel);
        archive_entry_drop_overlay_xattrs(e);
        if (maps) /* the ids the container sees, not its host ids */
                archive_entry_unmap_ids(e, &maps[0], &maps[1]);
        if (tar_put(a, lr, e, fd, ch->path, err) < 0)
                return -1;
        if (ch->opaque && S_ISDIR(st.st_mode)) {
                cleanup_archive_entry struct archive_entry *o = sym_archive_entry_new();
                cleanup_free char *name = xasprintf("%s/.wh..wh..opq", rel);
                sym_archive_entry_set_pathname(o, name);
                sym_archive_entry_set_filetype(o, AE_IFREG);
                sym_archive_entry_set_perm(o, 0);
                sym_archive_entry_set_size(o, 0);
                sym_archive_entry_set_mtime(o, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
                if (tar_put(a, NULL, o, -1, ch->path, err) < 0)
                        return -1;
        }
        return 0;
}

/* The changes as an uncompressed layer tar in w; *digest_out gets its sha256. */
static int write_changes_tar(struct berth_container *c, struct fs_change *v, size_t n, struct blob_writer *w,
                             char **digest_out, berth_error_t *err)
{
        cleanup_free char *upper = xasprintf("%s/upper", c->dir);
        cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ufd < 0)
                return berth_error(err, errno, "open `%s`", upper);
        if (archive_lib_load(err) < 0)
                return -1;
        struct idmap maps[2];
        bool userns;
        if (idmap_from_config(c->config, &maps[0], &maps[1], &userns, err) < 0)
                return berth_error_wrap(err, "the user namespace of container %s", c->name);
        EVP_MD_CTX *md cleanup_md = sha256_new();
        struct writer_ctx ctx = { .w = w, .md = md };
        cleanup_archive_write struct archive *a = sym_archive_write_new();
        cleanup_archive_read struct archive *disk = sym_archive_read_disk_new();
        struct archive_entry_linkresolver *lr = sym_archive_entry_linkresolver_new();
        if (!a || !disk || !lr)
                abort();
        sym_archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
        sym_archive_write_set_format_pax_restricted(a);
        sym_archive_entry_linkresolver_set_strategy(lr, sym_archive_format(a));
        int ret = -1;
        if (sym_archive_write_open(a, &ctx, NULL, blob_write_cb, NULL) != ARCHIVE_OK) {
                berth_error(err, 0, "write the layer: %s", arch_msg(a));
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                if (commit_entry(a, disk, lr, ufd, upper, &v[i], userns ? maps : NULL, err) < 0)
                        goto out;
        if (sym_archive_write_close(a) != ARCHIVE_OK) {
                berth_error(err, 0, "write the layer: %s", arch_msg(a));
                goto out;
        }
        *digest_out = sha256_final(md);
        ret = 0;
out:
        if (ret < 0 && ctx.err && err && !*err) {
                *err = ctx.err;
                ctx.err = NULL;
        }
        berth_error_free(&ctx.err);
        sym_archive_entry_linkresolver_free(lr);
        return ret;
}

/* Docker layer media types in an OCI manifest become their OCI names. */
static const char *oci_layer_type(const char *mt)
{
        if (!mt || streq(mt, MT_DOCKER_LAYER))
                return MT_OCI_LAYER;
        if (streq(mt, MT_DOCKER_LAYER_GZIP))
                return MT_OCI_LAYER_GZIP;
        if (streq(mt, MT_DOCKER_LAYER_FOREIGN))
                return MT_OCI_LAYER_ND_GZIP;
        return mt;
}

static char *join_command(json_t *c)
{
        cleanup_free char *out = xstrdup("");
        const char *path = json_str(c, "Path");
        if (path) {
                free(out);
                out = xstrdup(path);
        }
        size_t i;
        json_t *a;
        json_array_foreach(json_at(c, "Args"), i, a) {
                char *next = xasprintf("%s%s%s", out, *out ? " " : "", json_string_value(a) ? json_string_value(a) : "");
                free(out);
                out = next;
        }
        return steal_pointer(&out);
}

/* Add a layer to an image config: its diff_id to rootfs.diff_ids and entry
 * (a history entry, reference taken) to history, padding the history of a
 * parent (parent_config) that had fewer entries than layers. */
static void config_append_layer(json_t *cfg, json_t *parent_config, const char *diff_id, json_t *entry)
{
        const char *created = json_string_value(json_object_get(entry, "created"));
        json_t *rootfs = json_object_get(cfg, "rootfs");
        if (!json_is_object(rootfs))
                json_object_set_new(cfg, "rootfs", rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids"));
        json_t *diff_ids = json_object_get(rootfs, "diff_ids");
        if (!json_is_array(diff_ids))
                json_object_set_new(rootfs, "diff_ids", diff_ids = json_array());
        size_t parent_layers = json_array_size(diff_ids);
        json_array_append_new(diff_ids, json_string(diff_id));
        json_t *history = json_object_get(cfg, "history");
        if (!json_is_array(history))
                json_object_set_new(cfg, "history", history = json_array());
        /* one history entry per layer: pad a parent that had none */
        size_t with_layer = 0, i;
        json_t *h;
        json_array_foreach(history, i, h) if (!json_is_true(json_object_get(h, "empty_layer"))) with_layer++;
        const char *pcreated = json_string_value(json_object_get(parent_config, "created"));
        for (; with_layer < parent_layers; with_layer++)
                json_array_append_new(history,
                                      json_pack("{s:s}", "created", pcreated ? pcreated : created ? created : ""));
        json_array_append_new(history, entry);
}

/* The new image config: the parent's, with the container's run settings,
 * the changes, one more layer and history entry. */
static int commit_config(struct berth_container *c, struct berth_image *img, const struct commit_opts *o,
                         const char *diff_id, json_t **out, berth_error_t *err)
{
        json_auto_t *cfg = json_deep_copy(img->config);
        json_t *cc = json_object_get(cfg, "config");
        if (!json_is_object(cc))
                json_object_set_new(cfg, "config", cc = json_object());
        json_t *ccfg = json_object_get(c->config, "Config");
        static const char *const keys[] = { "Env", "Cmd", "WorkingDir", "User", "Labels", "Healthcheck" };
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                json_t *v = json_object_get(ccfg, keys[i]);
                if (v && !json_is_null(v))
                        json_object_set(cc, keys[i], v);
        }
        json_t *ep = json_object_get(ccfg, "Entrypoint");
        if (json_is_array(ep) && json_array_size(ep))
                json_object_set(cc, "Entrypoint", ep);
        else
                json_object_del(cc, "Entrypoint");
        const char *sig = json_string_value(json_object_get(ccfg, "StopSignal"));
        if (sig && (!streq(sig, "SIGTERM") || json_object_get(cc, "StopSignal")))
                json_object_set_new(cc, "StopSignal", json_string(sig));
        if (image_config_apply_changes(cc, o->changes, err) < 0)
                return -1;

        cleanup_free char *created = format_rfc3339(now_ns());
        json_object_set_new(cfg, "created", json_string(created));
        if (o->author && *o->author)
                json_object_set_new(cfg, "author", json_string(o->author));
        else
                json_object_del(cfg, "author");
        json_object_set_new(cfg, "container", json_string(c->id));
        cleanup_free char *by = join_command(c->config);
        json_t *entry = json_pack("{s:s, s:s}", "created", created, "created_by", by);
        if (o->author && *o->author)
                json_object_set_new(entry, "author", json_string(o->author));
        if (o->message && *o->message)
                json_object_set_new(entry, "comment", json_string(o->message));
        config_append_layer(cfg, img->config, diff_id, entry);
        *out = json_incref(cfg);
        return 0;
}

static int commit_register(struct berth_store *s, struct berth_image *img, json_t *config, const char *layer_digest,
                           long long layer_size, const char *ref, struct added *added, char **id_out,
                           berth_error_t *err)
{
        cleanup_free char *pdata = NULL;
        size_t plen = 0;
        if (img->manifest_digest && store_blob_read(s, img->manifest_digest, &pdata, &plen, err) < 0)
                return berth_error_wrap(err, "the container's image");
        json_auto_t *parent = pdata ? json_loadb(pdata, plen, 0, NULL) : NULL;
        json_auto_t *layers = json_array();
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(parent, "layers"), i, l) {
                json_t *copy = json_deep_copy(l);
                json_object_set_new(copy, "mediaType",
                                    json_string(oci_layer_type(json_string_value(json_object_get(l, "mediaType")))));
                json_array_append_new(layers, copy);
        }
        if (layer_digest) /* NULL: a new config on the same layers */
                json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_LAYER, "digest",
                                                        layer_digest, "size", (json_int_t) layer_size));
        cleanup_free char *ctext = json_compact(config);
        cleanup_free char *cdigest = digest_of_data(ctext, strlen(ctext));
        bool had = store_blob_exists(s, cdigest);
        if (store_blob_put_data(s, ctext, strlen(ctext), NULL, err) < 0)
                return -1;
        if (!had)
                strv_push(&added->blobs, cdigest);
        json_auto_t *manifest = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
                                          MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest", cdigest,
                                          "size", (json_int_t) strlen(ctext), "layers", layers);
        if (!manifest)
                abort();
        cleanup_free char *mtext = json_compact(manifest);
        cleanup_free char *mdigest = digest_of_data(mtext, strlen(mtext));
        had = store_blob_exists(s, mdigest);
        if (store_blob_put_data(s, mtext, strlen(mtext), NULL, err) < 0)
                return -1;
        if (!had)
                strv_push(&added->blobs, mdigest);
        char *names[] = { (char *) ref, NULL };
        return image_add(s, mdigest, ref ? names : NULL, id_out, err);
}

/* The changes of c's upper dir against img as a layer: tar, blob, unpacked
 * layer (what it added is recorded in added for a rollback). */
static int commit_upper_layer(struct berth_store *s, struct berth_container *c, struct berth_image *img,
                              struct added *added, char **diff_id_out, long long *size_out, berth_error_t *err)
{
        struct fs_change *changes = NULL;
        size_t n = 0;
        if (container_changes(s, c, img, &changes, &n, err) < 0)
                return -1;
        cleanup_blob_writer struct blob_writer *w = NULL;
        cleanup_free char *diff_id = NULL; /* the tar is uncompressed: blob digest = diff_id */
        int r = store_blob_writer_open(s, &w, err);
        if (r == 0)
                r = write_changes_tar(c, changes, n, w, &diff_id, err);
        fs_changes_free(changes, n);
        if (r < 0)
                return -1;
        *size_out = store_blob_writer_size(w);
        bool had_layer = store_layer_exists(s, diff_id), had_blob = store_blob_exists(s, diff_id);
        if (store_layer_unpack_expect(s, store_blob_writer_path(w), diff_id, NULL, NULL, err) < 0)
                return -1;
        if (!had_layer)
                strv_push(&added->layers, diff_id);
        if (store_blob_writer_commit(w, diff_id, NULL, err) < 0)
                return -1;
        if (!had_blob)
                strv_push(&added->blobs, diff_id);
        *diff_id_out = steal_pointer(&diff_id);
        return 0;
}

int container_commit(struct berth_store *s, struct berth_container *c, const struct commit_opts *o, char **id_out,
                     berth_error_t *err)
{
        /* everything the user typed is checked before any work */
        if (o->ref && !tag_name_valid(o->ref)) {
                struct image_ref r;
                if (image_ref_parse(o->ref, &r, err) < 0)
                        return -1;
                image_ref_free(&r);
                return berth_error(err, 0, "refusing to create a tag with a digest reference (%s)", o->ref);
        }
        json_auto_t *probe = json_object();
        if (image_config_apply_changes(probe, o->changes, err) < 0)
                return -1;
        cleanup_image struct berth_image *img = NULL;
        if (image_lookup(s, json_str(c->config, "Image"), &img, err) < 0)
                return berth_error_wrap(err, "the image of container %s", c->name);

        struct added added = {};
        json_auto_t *config = NULL;
        cleanup_free char *diff_id = NULL;
        long long layer_size = 0;
        int r = commit_upper_layer(s, c, img, &added, &diff_id, &layer_size, err);
        if (r == 0)
                r = commit_config(c, img, o, diff_id, &config, err);
        if (r == 0)
                r = commit_register(s, img, config, diff_id, layer_size, o->ref, &added, id_out, err);
        if (r < 0)
                added_rollback(s, &added);
        added_free(&added);
        return r < 0 ? -1 : 0;
}

int image_commit_changes(struct berth_store *s, struct berth_container *c, struct berth_image *img, json_t *config,
                         json_t *history_entry, char **id_out, berth_error_t *err)
{
        struct added added = {};
        cleanup_free char *diff_id = NULL;
        long long layer_size = 0;
        int r = commit_upper_layer(s, c, img, &added, &diff_id, &layer_size, err);
        if (r == 0) {
                json_auto_t *cfg = json_deep_copy(config);
                config_append_layer(cfg, img->config, diff_id, json_incref(history_entry));
                r = commit_register(s, img, cfg, diff_id, layer_size, NULL, &added, id_out, err);
        }
        if (r < 0)
                added_rollback(s, &added);
        added_free(&added);
        return r < 0 ? -1 : 0;
}

int image_commit_config(struct berth_store *s, struct berth_image *img, json_t *config, char **id_out,
                        berth_error_t *err)
{
        struct added added = {};
        int r = commit_register(s, img, config, NULL, 0, NULL, &added, id_out, err);
        if (r < 0)
                added_rollback(s, &added);
        added_free(&added);
        return r < 0 ? -1 : 0;
}
