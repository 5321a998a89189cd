/* berth — `save`: images from the store as one archive, Docker's layout
 * or a plain OCI image layout (see include/berth/archive.h).  Every blob is
 * checked against its digest as it is copied out of the store. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/archive.h"
#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/util.h"

struct save_image {
        struct berth_image *img;
        json_t *manifest;
        char **tags; /* full names */
};

static int write_header(struct archive *a, const char *name, mode_t type, long long size, berth_error_t *err)
{
        cleanup_archive_entry struct archive_entry *e = sym_archive_entry_new();
        if (!e)
                abort();
        sym_archive_entry_set_pathname(e, name);
        sym_archive_entry_set_filetype(e, type);
        sym_archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        sym_archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
        sym_archive_entry_set_mtime(e, 0, 0);
        if (sym_archive_write_header(a, e) < ARCHIVE_WARN)
                return berth_error(err, 0, "write the archive: %s", arch_msg(a));
        return 0;
}
static int write_mem(struct archive *a, const char *name, const void *data, size_t len, berth_error_t *err)
{
        if (write_header(a, name, AE_IFREG, (long long) len, err) < 0)
                return -1;
        return write_data(a, data, len, err);
}

/* A blob from the store, checked against its digest as it is copied. */
static int write_blob(struct berth_store *s, struct archive *a, const char *digest, struct layer_bar *bar,
                      berth_error_t *err)
{
        cleanup_free char *path = NULL;
        if (store_blob_path(s, digest, &path, err) < 0)
                return -1;
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_error(err, errno, "open `%s`", path);
        cleanup_free char *name = xasprintf("blobs/sha256/%s", digest + 7);
        if (write_header(a, name, AE_IFREG, st.st_size, err) < 0)
                return -1;
        EVP_MD_CTX *md cleanup_md = sha256_new();
        cleanup_free char *buf = xmalloc(1 << 16);
        long long total = 0;
        ssize_t n;
        while ((n = read_chunk(fd, buf, 1 << 16, path, err)) > 0) {
                sha256_update(md, buf, (size_t) n);
                if (bar && total >> 20 != (total + n) >> 20)
                        layer_bar_draw(total + n, st.st_size, bar);
                total += n;
                if (write_data(a, buf, (size_t) n, err) < 0)
                        return -1;
        }
        if (n < 0)
                return (int) n;
        cleanup_free char *got = sha256_final(md);
        if (total != st.st_size || !streq(got, digest))
                return berth_error(err, 0, "blob %s in the store is corrupt (its content hashes to %s)", digest, got);
        return 0;
}

static void save_images_free(struct save_image *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                image_free(v[i].img);
                json_decref(v[i].manifest);
                strv_free(v[i].tags);
        }
        free(v);
}

/* The full tag name ref names, when it names one of img's tags. */
static char *ref_tag(const char *ref, struct berth_image *img)
{
        struct image_ref r;
        if (image_ref_parse(ref, &r, NULL) < 0)
                return NULL;
        char *full = r.digest ? NULL : image_ref_full(&r);
        image_ref_free(&r);
        if (full && !strv_contains(img->tags, full)) {
                free(full);
                full = NULL;
        }
        return full;
}

static int save_collect(struct berth_store *s, char *const *refs, struct save_image **out, size_t *nout,
                        berth_error_t *err)
{
        struct save_image *v = NULL;
        size_t n = 0;
        for (size_t i = 0; refs[i]; i++) {
                struct berth_image *img = NULL;
                if (image_lookup(s, refs[i], &img, err) < 0) {
                        save_images_free(v, n);
                        return -1;
                }
                cleanup_free char *tag = ref_tag(refs[i], img);
                struct save_image *si = NULL;
                for (size_t k = 0; k < n; k++)
                        if (streq(v[k].img->id, img->id))
                                si = &v[k];
                if (si)
                        image_free(img);
                else {
                        v = xrealloc(v, (n + 1) * sizeof(*v));
                        si = &v[n++];
                        *si = (struct save_image){ .img = img, .tags = xcalloc(1, sizeof(char *)) };
                        cleanup_free char *data = NULL;
                        size_t len = 0;
                        if (store_blob_read(s, img->manifest_digest, &data, &len, err) < 0) {
                                save_images_free(v, n);
                                return berth_error_wrap(err, "image %s", refs[i]);
                        }
                        si->manifest = json_loadb(data, len, 0, NULL);
                        if (!json_is_array(json_object_get(si->manifest, "layers"))) {
                                save_images_free(v, n);
                                return berth_error(err, 0, "image %s: its manifest is not valid", refs[i]);
                        }
                }
                if (tag && !strv_contains(si->tags, tag))
                        strv_push(&si->tags, tag);
        }
        *out = v;
        *nout = n;
        return 0;
}

static int write_json_member(struct archive *a, const char *name, json_t *j, berth_error_t *err)
{
        cleanup_free char *text = json_compact(j);
        return write_mem(a, name, text, strlen(text), err);
}

int image_save_archive(struct berth_store *s, char *const *refs, enum image_archive_format format, int fd,
                       const struct image_archive_report *report, berth_error_t *err)
{
        if (!refs || !refs[0])
                return berth_error(err, 0, "no image to save");
        if (archive_lib_load(err) < 0)
                return -1;
        struct save_image *imgs = NULL;
        size_t n = 0;
        if (save_collect(s, refs, &imgs, &n, err) < 0)
                return -1;
        int ret = -1;
        cleanup_strv char **written = xcalloc(1, sizeof(char *));
        cleanup_archive_write struct archive *a = sym_archive_write_new();
        if (!a)
                abort();
        sym_archive_write_set_format_pax_restricted(a);
        sym_archive_write_set_bytes_in_last_block(a, 1);
        json_auto_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
                                       "manifests");
        json_auto_t *dmanifest = json_array();
        json_auto_t *repositories = json_object();
        json_auto_t *layout = NULL;
        if (sym_archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                berth_error(err, 0, "write the archive: %s", arch_msg(a));
                goto out;
        }
        if (write_header(a, "blobs", AE_IFDIR, 0, err) < 0 || write_header(a, "blobs/sha256", AE_IFDIR, 0, err) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                struct save_image *si = &imgs[i];
                json_t *layers = json_object_get(si->manifest, "layers");
                json_auto_t *dlayers = json_array();
                size_t k;
                json_t *l;
                json_array_foreach(layers, k, l) {
                        const char *d = json_string_value(json_object_get(l, "digest"));
                        if (!image_digest_valid(d)) {
                                berth_error(err, 0, "image %s: its manifest has an invalid layer digest", si->img->id);
                                goto out;
                        }
                        cleanup_free char *lname = xasprintf("blobs/sha256/%s", d + 7);
                        json_array_append_new(dlayers, json_string(lname));
                        if (strv_contains(written, d))
                                continue;
                        json_int_t size = json_integer_value(json_object_get(l, "size"));
                        cleanup_free char *hsize = format_human_size(size);
                        struct layer_bar bar = { report ? report->bar : NULL, "Saving layer", d + 7 };
                        if (bar.f)
                                layer_bar_draw(0, size, &bar);
                        else
                                report_progress(report, "Saving layer %.12s %s", d + 7, hsize);
                        int wr = write_blob(s, a, d, bar.f ? &bar : NULL, err);
                        if (bar.f)
                                layer_bar_end(&bar, size, wr >= 0);
                        if (wr < 0)
                                goto out;
                        strv_push(&written, d);
                }
                const char *blobs[] = { si->img->id, si->img->manifest_digest };
                for (size_t b = 0; b < ARRAY_SIZE(blobs); b++) {
                        if (strv_contains(written, blobs[b]))
                                continue;
                        cleanup_free char *data = NULL;
                        size_t len = 0;
                        if (store_blob_read(s, blobs[b], &data, &len, err) < 0)
                                goto out;
                        cleanup_free char *name = xasprintf("blobs/sha256/%s", blobs[b] + 7);
                        if (write_mem(a, name, data, len, err) < 0)
                                goto out;
                        strv_push(&written, blobs[b]);
                }
                /* index.json: one descriptor per tag (Docker's annotations) */
                cleanup_free char *mdata = NULL;
                size_t mlen = 0;
                if (store_blob_read(s, si->img->manifest_digest, &mdata, &mlen, err) < 0)
                        goto out;
                const char *mt = json_string_value(json_object_get(si->manifest, "mediaType"));
                for (size_t t = 0; t == 0 || si->tags[t]; t++) {
                        json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", mt ? mt : MT_OCI_MANIFEST, "digest",
                                                 si->img->manifest_digest, "size", (json_int_t) mlen);
                        if (si->tags[t]) {
                                cleanup_free char *tag = name_part(si->tags[t], NAME_TAG);
                                json_object_set_new(desc, "annotations",
                                                    json_pack("{s:s, s:s}", ANN_IMAGE_NAME, si->tags[t], ANN_REF_NAME,
                                                              tag));
                        }
                        json_array_append_new(json_object_get(index, "manifests"), desc);
                        if (!si->tags[t])
                                break;
                }
                /* manifest.json and repositories (Docker's) */
                json_t *repotags = json_array();
                for (size_t t = 0; si->tags[t]; t++) {
                        cleanup_free char *f = name_part(si->tags[t], NAME_FAMILIAR);
                        json_array_append_new(repotags, json_string(f));
                        cleanup_free char *repo = name_part(si->tags[t], NAME_REPO);
                        cleanup_free char *tag = name_part(si->tags[t], NAME_TAG);
                        json_t *r = json_object_get(repositories, repo);
                        if (!r)
                                json_object_set_new(repositories, repo, r = json_object());
                        const char *top = json_string_value(json_array_get(dlayers, json_array_size(dlayers) - 1));
                        if (top)
                                json_object_set_new(r, tag, json_string(top + strlen("blobs/sha256/")));
                }
                if (json_array_size(repotags) == 0) {
                        json_decref(repotags);
                        repotags = json_null(); /* Docker's "RepoTags": null */
                }
                cleanup_free char *cname = xasprintf("blobs/sha256/%s", si->img->id + 7);
                json_array_append_new(dmanifest, json_pack("{s:s, s:o, s:O}", "Config", cname, "RepoTags", repotags,
                                                           "Layers", dlayers));
        }
        if (write_json_member(a, "index.json", index, err) < 0)
                goto out;
        if (format == IMAGE_ARCHIVE_DOCKER && write_json_member(a, "manifest.json", dmanifest, err) < 0)
                goto out;
        layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
        if (write_json_member(a, "oci-layout", layout, err) < 0)
                goto out;
        if (format == IMAGE_ARCHIVE_DOCKER && json_object_size(repositories) &&
            write_json_member(a, "repositories", repositories, err) < 0)
                goto out;
        if (tar_close(a, err) < 0)
                goto out;
        ret = 0;
out:
        save_images_free(imgs, n);
        return ret;
}
