/* Unit tests: image archives (save/load) over a store in a temp dir.
 * Docker's manifest.json (with legacy ID/layer.tar symlinks and compressed
 * layers as skopeo writes them), OCI index.json (annotations, nested
 * indexes), and refusals that must leave the store exactly as it was: bad
 * digests, sizes and diff_ids, names leaving the archive, layer entries
 * leaving the layer, truncated and random input.  Needs root (layers keep
 * ownership). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "berth/archive.h"
#include "berth/blob.h"
#include "berth/image-import.h"
#include "berth/image.h"
#include "berth/layer.h"
#include "berth/store.h"
#include "berth/util.h"

#include "store-fixture.h"
#include "check-main.h"

static size_t count_images(void)
{
        struct berth_image **v = NULL;
        size_t n = 0;
        berth_error_t err = NULL;
        ck_assert_int_eq(image_list(&st, &v, &n, &err), 0);
        image_list_free(v, n);
        return n;
}

static void assert_store_empty(void)
{
        ck_assert_uint_eq(count_entries("blobs/sha256"), 0);
        ck_assert_uint_eq(count_entries("layers"), 0);
        ck_assert_uint_eq(count_entries("l"), 0);
        ck_assert_uint_eq(count_entries("tmp"), 0);
        ck_assert_uint_eq(count_images(), 0);
}

/* ---- building archives ------------------------------------------------------------ */
struct member {
        const char *name;
        const void *data; /* NULL for directories and links */
        size_t len;
        char type; /* 'f' (default), 'd', 's' symlink, 'h' hard link */
        const char *target;
};

/* A tar (filter: ARCHIVE_FILTER_NONE/_GZIP) in memory. */
static void tar_mem(const struct member *m, size_t n, int filter, char **out, size_t *outlen)
{
        size_t cap = 4 << 20, used = 0;
        char *buf = xmalloc(cap);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (filter != ARCHIVE_FILTER_NONE)
                ck_assert_int_eq(archive_write_add_filter(a, filter), ARCHIVE_OK);
        archive_write_set_bytes_in_last_block(a, 1);
        ck_assert_int_eq(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, m[i].name);
                archive_entry_set_mtime(e, 1000000000, 0);
                switch (m[i].type) {
                case 'd':
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, 0755);
                        break;
                case 's':
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, m[i].target);
                        break;
                case 'h':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, m[i].target);
                        archive_entry_set_size(e, 0);
                        break;
                default:
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_size(e, (la_int64_t) m[i].len);
                }
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                if (m[i].data && m[i].len)
                        ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t) m[i].len);
                archive_entry_free(e);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        *out = buf;
        *outlen = used;
}

static char *write_tmp(const char *name, const void *data, size_t len)
{
        char *path = xasprintf("%s/%s", tdir, name);
        ck_assert_int_eq(write_file_atomic(path, data, len, 0644, NULL), 0);
        return path;
}

/* load the file; returns the result and leaves the message in *msg. */
static int load_file(const char *path, char ***ids, char **msg)
{
        berth_error_t err = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        int r = image_load_archive(&st, fd, NULL, ids, &err);
        close(fd);
        if (msg)
                *msg = err ? xstrdup(err->msg) : NULL;
        berth_error_free(&err);
        return r;
}

/* A layer: "hello" and "d/f" (content varies with seed); bad: an entry
 * `../../escape` at the end. */
static void make_layer(const char *seed, bool bad, char **data, size_t *len)
{
        struct member m[] = {
                { .name = "hello", .data = seed, .len = strlen(seed) },
                { .name = "d", .type = 'd' },
                { .name = "d/f", .data = "f\n", .len = 2 },
                { .name = "../../escape", .data = "x", .len = 1 },
        };
        tar_mem(m, bad ? 4 : 3, ARCHIVE_FILTER_NONE, data, len);
}

static char *config_json(char **diff_ids)
{
        json_t *ids = json_array();
        json_t *hist = json_array();
        for (size_t i = 0; diff_ids[i]; i++) {
                json_array_append_new(ids, json_string(diff_ids[i]));
                json_array_append_new(hist, json_pack("{s:s, s:s}", "created", "2024-01-02T03:04:05Z", "created_by",
                                                      "test"));
        }
        json_t *c = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:o}, s:o}", "created", "2024-01-02T03:04:05Z",
                              "architecture", "amd64", "os", "linux", "config", "Cmd", "sh", "rootfs", "type",
                              "layers", "diff_ids", ids, "history", hist);
        char *text = json_dumps(c, JSON_COMPACT);
        json_decref(c);
        return text;
}

/* ---- names --------------------------------------------------------------------------- */
START_TEST(test_name_safe)
{
        static const char *const ok[] = { "manifest.json", "./manifest.json", "blobs/sha256/abc", "a//b/./c",
                                          "dir/", "a..b", "..a" };
        static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "./", "//" };
        for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
                ck_assert_msg(image_archive_name_safe(ok[i]), "refused `%s`", ok[i]);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                ck_assert_msg(!image_archive_name_safe(bad[i]), "accepted `%s`", bad[i]);
}
END_TEST

/* ---- Docker's layout ----------------------------------------------------------------- */

/* manifest.json + HEX.json + ID/layer.tar, as `docker save` before 25 */
START_TEST(test_load_docker_classic)
{
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("classic\n", false, &layer, &llen);
        cleanup_free char *diff_id = digest_of_data(layer, llen);
        char *ids[] = { diff_id, NULL };
        cleanup_free char *config = config_json(ids);
        cleanup_free char *config_digest = digest_of_data(config, strlen(config));
        cleanup_free char *config_name = xasprintf("%s.json", config_digest + 7);
        cleanup_free char *manifest = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"test/img:1\",\"other:2\"],"
                                                "\"Layers\":[\"0123legacy/layer.tar\"]}]",
                                                config_name);
        struct member m[] = {
                { .name = "0123legacy", .type = 'd' },
                { .name = "0123legacy/VERSION", .data = "1.0", .len = 3 },
                { .name = "0123legacy/layer.tar", .data = layer, .len = llen },
                { .name = config_name, .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
                { .name = "repositories", .data = "{}", .len = 2 },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *path = write_tmp("classic.tar", tar, tlen);
        cleanup_strv char **loaded = NULL;
        cleanup_free char *msg = NULL;
        ck_assert_msg(load_file(path, &loaded, &msg) == 0, "load failed: %s", msg);
        ck_assert_str_eq(loaded[0], config_digest);
        ck_assert_ptr_null(loaded[1]);
        berth_error_t err = NULL;
        cleanup_image struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "test/img:1", &img, &err), 0);
        ck_assert_str_eq(img->id, config_digest);
        ck_assert_str_eq(img->diff_ids[0], diff_id);
        cleanup_image struct berth_image *img2 = NULL;
        ck_assert_int_eq(image_lookup(&st, "other:2", &img2, &err), 0);
        ck_assert_str_eq(img2->id, config_digest);
        cleanup_free char *hello = store_path(&st, "layers/%s/diff/hello", diff_id + 7);
        cleanup_free char *content = NULL;
        ck_assert_int_eq(read_file(hello, &content, NULL, NULL), 0);
        ck_assert_str_eq(content, "classic\n");
        ck_assert_uint_eq(count_entries("tmp"), 0);
}
END_TEST

/* skopeo/podman: HEX.tar layers (here gzip-compressed), ID/layer.tar symlinks
 * to them, the whole archive gzip-compressed too. */
START_TEST(test_load_docker_skopeo_gzip)
{
        struct member lm[] = { { .name = "hello", .data = "gz\n", .len = 3 } };
        cleanup_free char *plain = NULL, *gz = NULL;
        size_t plen = 0, glen = 0;
        tar_mem(lm, 1, ARCHIVE_FILTER_NONE, &plain, &plen);
        tar_mem(lm, 1, ARCHIVE_FILTER_GZIP, &gz, &glen);
        cleanup_free char *diff_id = digest_of_data(plain, plen);
        cleanup_free char *blob = digest_of_data(gz, glen);
        char *ids[] = { diff_id, NULL };
        cleanup_free char *config = config_json(ids);
        cleanup_free char *config_digest = digest_of_data(config, strlen(config));
        cleanup_free char *config_name = xasprintf("%s.json", config_digest + 7);
        cleanup_free char *layer_name = xasprintf("%s.tar", blob + 7);
        cleanup_free char *link_target = xasprintf("../%s", layer_name);
        cleanup_free char *manifest = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"docker.io/sk/img:v1\"],"
                                                "\"Layers\":[\"legacy/layer.tar\"]}]",
                                                config_name);
        struct member m[] = {
                { .name = layer_name, .data = gz, .len = glen },
                { .name = config_name, .data = config, .len = strlen(config) },
                { .name = "legacy/layer.tar", .type = 's', .target = link_target },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_GZIP, &tar, &tlen);
        cleanup_free char *path = write_tmp("skopeo.tar.gz", tar, tlen);
        cleanup_free char *msg = NULL;
        ck_assert_msg(load_file(path, NULL, &msg) == 0, "load failed: %s", msg);
        berth_error_t err = NULL;
        cleanup_image struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "sk/img:v1", &img, &err), 0);
        ck_assert(store_blob_exists(&st, blob)); /* the compressed blob, as it came */
        ck_assert(store_layer_exists(&st, diff_id));
        /* the manifest made for it says gzip */
        cleanup_free char *mdata = NULL;
        ck_assert_int_eq(store_blob_read(&st, img->manifest_digest, &mdata, NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(mdata, "application/vnd.oci.image.layer.v1.tar+gzip"));
}
END_TEST

/* ---- OCI layout ------------------------------------------------------------------------ */
struct oci_image {
        char *layer, *config, *manifest;
        size_t llen;
        char *diff_id, *config_digest, *manifest_digest;
        char *lname, *cname, *mname;
};

static void oci_image_make(struct oci_image *o, const char *seed, bool bad_layer)
{
        make_layer(seed, bad_layer, &o->layer, &o->llen);
        o->diff_id = digest_of_data(o->layer, o->llen);
        char *ids[] = { o->diff_id, NULL };
        o->config = config_json(ids);
        o->config_digest = digest_of_data(o->config, strlen(o->config));
        o->manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                                "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                                "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
                                "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
                                o->config_digest, strlen(o->config), o->diff_id, o->llen);
        o->manifest_digest = digest_of_data(o->manifest, strlen(o->manifest));
        o->lname = xasprintf("blobs/sha256/%s", o->diff_id + 7);
        o->cname = xasprintf("blobs/sha256/%s", o->config_digest + 7);
        o->mname = xasprintf("blobs/sha256/%s", o->manifest_digest + 7);
}

static void oci_image_free(struct oci_image *o)
{
        free(o->layer);
        free(o->config);
        free(o->manifest);
        free(o->diff_id);
        free(o->config_digest);
        free(o->manifest_digest);
        free(o->lname);
        free(o->cname);
        free(o->mname);
}

/* The archive of one OCI image with index.json text `index`. */
static char *oci_archive(struct oci_image *o, const char *index, const char *name)
{
        struct member m[] = {
                { .name = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}", .len = 30 },
                { .name = "blobs", .type = 'd' },
                { .name = "blobs/sha256", .type = 'd' },
                { .name = o->lname, .data = o->layer, .len = o->llen },
                { .name = o->cname, .data = o->config, .len = strlen(o->config) },
                { .name = o->mname, .data = o->manifest, .len = strlen(o->manifest) },
                { .name = "index.json", .data = index, .len = strlen(index) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        return write_tmp(name, tar, tlen);
}

START_TEST(test_load_oci_annotations)
{
        struct oci_image o = {};
        oci_image_make(&o, "oci\n", false);
        cleanup_free char *index = xasprintf(
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                "\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/oci:2\","
                "\"org.opencontainers.image.ref.name\":\"2\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                "\"annotations\":{\"org.opencontainers.image.ref.name\":\"example.com/x:3\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
                o.manifest_digest, strlen(o.manifest), o.manifest_digest, strlen(o.manifest), o.manifest_digest,
                strlen(o.manifest));
        cleanup_free char *path = oci_archive(&o, index, "oci.tar");
        cleanup_free char *msg = NULL;
        ck_assert_msg(load_file(path, NULL, &msg) == 0, "load failed: %s", msg);
        berth_error_t err = NULL;
        cleanup_image struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "oci:2", &img, &err), 0);
        ck_assert_str_eq(img->manifest_digest, o.manifest_digest); /* kept as it was */
        ck_assert_str_eq(img->id, o.config_digest);
        ck_assert_uint_eq(strv_length(img->tags), 2);
        cleanup_image struct berth_image *img2 = NULL;
        ck_assert_int_eq(image_lookup(&st, "example.com/x:3", &img2, &err), 0);
        /* a bare tag names no repository */
        cleanup_image struct berth_image *none = NULL;
        ck_assert_int_lt(image_lookup(&st, "latest", &none, &err), 0);
        berth_error_free(&err);
        oci_image_free(&o);
}
END_TEST

/* An image index: the entry for this machine is taken, the others (whose
 * blobs are not even in the archive) are not read. */
START_TEST(test_load_oci_nested_index)
{
        struct oci_image o = {};
        oci_image_make(&o, "nested\n", false);
        cleanup_free char *inner = xasprintf(
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
                "1111111111111111111111111111111111111111111111111111111111111111\",\"size\":10,"
                "\"platform\":{\"os\":\"linux\",\"architecture\":\"no-such-arch\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
                "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
                "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}",
                o.manifest_digest, strlen(o.manifest), o.manifest_digest, strlen(o.manifest));
        cleanup_free char *inner_digest = digest_of_data(inner, strlen(inner));
        cleanup_free char *inner_name = xasprintf("blobs/sha256/%s", inner_digest + 7);
        cleanup_free char *index = xasprintf(
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"io.containerd.image.name\":"
                "\"docker.io/library/multi:1\"}}]}",
                inner_digest, strlen(inner));
        struct member m[] = {
                { .name = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}", .len = 30 },
                { .name = o.lname, .data = o.layer, .len = o.llen },
                { .name = o.cname, .data = o.config, .len = strlen(o.config) },
                { .name = o.mname, .data = o.manifest, .len = strlen(o.manifest) },
                { .name = inner_name, .data = inner, .len = strlen(inner) },
                { .name = "index.json", .data = index, .len = strlen(index) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *path = write_tmp("nested.tar", tar, tlen);
        cleanup_free char *msg = NULL;
#if defined(__x86_64__) || defined(__aarch64__)
        ck_assert_msg(load_file(path, NULL, &msg) == 0, "load failed: %s", msg);
        berth_error_t err = NULL;
        cleanup_image struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "multi:1", &img, &err), 0);
        ck_assert_str_eq(img->id, o.config_digest);
#else
        ck_assert_int_lt(load_file(path, NULL, &msg), 0);
#endif
        oci_image_free(&o);
}
END_TEST

/* ---- refusals: one clear message, the store unchanged ------------------------------- */
static void assert_refused(const char *path, const char *needle)
{
        cleanup_free char *msg = NULL;
        ck_assert_msg(load_file(path, NULL, &msg) < 0, "`%s` was loaded", path);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(!strchr(msg, '\n'), "message on several lines: %s", msg);
        ck_assert_msg(strstr(msg, needle), "message `%s` does not say `%s`", msg, needle);
        assert_store_empty();
}

START_TEST(test_refuse_random_truncated_empty)
{
        char rnd[8192];
        ck_assert_int_eq(random_bytes(rnd, sizeof(rnd)), 0);
        cleanup_free char *p1 = write_tmp("random.bin", rnd, sizeof(rnd));
        assert_refused(p1, "invalid image archive");

        struct oci_image o = {};
        oci_image_make(&o, "trunc\n", false);
        cleanup_free char *index = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}",
                                             o.manifest_digest, strlen(o.manifest));
        cleanup_free char *full = oci_archive(&o, index, "full.tar");
        struct stat sb;
        ck_assert_int_eq(stat(full, &sb), 0);
        ck_assert_int_eq(truncate(full, 3000), 0); /* in the middle of the layer */
        assert_refused(full, "invalid image archive");
        cleanup_free char *p3 = write_tmp("empty.tar", "", 0);
        assert_refused(p3, "invalid image archive");
        oci_image_free(&o);
}
END_TEST

START_TEST(test_refuse_bad_digests)
{
        struct oci_image o = {};
        oci_image_make(&o, "digest\n", false);
        /* the manifest blob does not hash to its name */
        free(o.manifest);
        o.manifest = xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\"},\"layers\":[]}", o.config_digest);
        cleanup_free char *index = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\"}]}",
                                             o.manifest_digest);
        cleanup_free char *p1 = oci_archive(&o, index, "badmanifest.tar");
        assert_refused(p1, "does not match its digest");
        oci_image_free(&o);

        /* the config has been edited (a different Cmd) but keeps its name */
        oci_image_make(&o, "digest\n", false);
        char *at = strstr(o.config, "\"sh\"");
        ck_assert_ptr_nonnull(at);
        at[1] = 'S';
        cleanup_free char *index2 = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}",
                                              o.manifest_digest, strlen(o.manifest));
        cleanup_free char *p2 = oci_archive(&o, index2, "badconfig.tar");
        assert_refused(p2, "does not match its digest");
        oci_image_free(&o);

        /* a descriptor size that is not the blob's */
        oci_image_make(&o, "size\n", false);
        cleanup_free char *index3 = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}",
                                              o.manifest_digest, strlen(o.manifest) + 1);
        cleanup_free char *p3 = oci_archive(&o, index3, "badsize.tar");
        assert_refused(p3, "descriptor says");
        oci_image_free(&o);

        /* Docker's layout: Config named by a digest it does not have */
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("d\n", false, &layer, &llen);
        cleanup_free char *diff_id = digest_of_data(layer, llen);
        char *ids[] = { diff_id, NULL };
        cleanup_free char *config = config_json(ids);
        cleanup_free char *cname = xasprintf("blobs/sha256/%s", diff_id + 7); /* wrong on purpose */
        cleanup_free char *manifest = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":null,\"Layers\":[\"l.tar\"]}]",
                                                cname);
        struct member m[] = {
                { .name = "l.tar", .data = layer, .len = llen },
                { .name = cname, .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *p4 = write_tmp("dockerbadconfig.tar", tar, tlen);
        assert_refused(p4, "does not match its digest");
}
END_TEST

START_TEST(test_refuse_bad_diff_ids)
{
        /* the config's diff_id is not the layer's */
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("diff\n", false, &layer, &llen);
        char *ids[] = { "sha256:2222222222222222222222222222222222222222222222222222222222222222", NULL };
        cleanup_free char *config = config_json(ids);
        cleanup_free char *manifest = xasprintf("[{\"Config\":\"c.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l.tar\"]}]");
        struct member m[] = {
                { .name = "l.tar", .data = layer, .len = llen },
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *p1 = write_tmp("baddiff.tar", tar, tlen);
        assert_refused(p1, "layer digest mismatch");

        /* as many diff_ids as layers */
        char *two[] = { "sha256:2222222222222222222222222222222222222222222222222222222222222222",
                        "sha256:3333333333333333333333333333333333333333333333333333333333333333", NULL };
        cleanup_free char *config2 = config_json(two);
        m[1] = (struct member){ .name = "c.json", .data = config2, .len = strlen(config2) };
        cleanup_free char *tar2 = NULL;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar2, &tlen);
        cleanup_free char *p2 = write_tmp("count.tar", tar2, tlen);
        assert_refused(p2, "lists 2 layers but the manifest 1");
}
END_TEST

START_TEST(test_refuse_names_outside)
{
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("names\n", false, &layer, &llen);
        cleanup_free char *diff_id = digest_of_data(layer, llen);
        char *ids[] = { diff_id, NULL };
        cleanup_free char *config = config_json(ids);
        const char *manifest = "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"l.tar\"]}]";

        /* a member named ../evil */
        struct member m1[] = {
                { .name = "l.tar", .data = layer, .len = llen },
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "../evil", .data = "x", .len = 1 },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m1, ARRAY_SIZE(m1), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *p1 = write_tmp("evil.tar", tar, tlen);
        assert_refused(p1, "`../evil` points outside the archive");
        struct stat sb;
        cleanup_free char *evil = xasprintf("%s/../evil", tdir);
        ck_assert_int_lt(stat(evil, &sb), 0);

        /* an absolute member name */
        m1[2].name = "/tmp/abs-evil";
        cleanup_free char *tar2 = NULL;
        tar_mem(m1, ARRAY_SIZE(m1), ARCHIVE_FILTER_NONE, &tar2, &tlen);
        cleanup_free char *p2 = write_tmp("abs.tar", tar2, tlen);
        assert_refused(p2, "points outside the archive");

        /* manifest.json pointing outside */
        const char *manifest3 = "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"../../etc/passwd\"]}]";
        struct member m3[] = {
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest3, .len = strlen(manifest3) },
        };
        cleanup_free char *tar3 = NULL;
        tar_mem(m3, ARRAY_SIZE(m3), ARCHIVE_FILTER_NONE, &tar3, &tlen);
        cleanup_free char *p3 = write_tmp("outside.tar", tar3, tlen);
        assert_refused(p3, "outside the archive");

        /* a layer reached through a symlink that leaves the archive */
        const char *manifest4 = "[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"id/layer.tar\"]}]";
        struct member m4[] = {
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "id/layer.tar", .type = 's', .target = "../../../etc/passwd" },
                { .name = "manifest.json", .data = manifest4, .len = strlen(manifest4) },
        };
        cleanup_free char *tar4 = NULL;
        tar_mem(m4, ARRAY_SIZE(m4), ARCHIVE_FILTER_NONE, &tar4, &tlen);
        cleanup_free char *p4 = write_tmp("symlink-out.tar", tar4, tlen);
        assert_refused(p4, "links outside the archive");

        /* a layer a tag name cannot be */
        const char *manifest5 = "[{\"Config\":\"c.json\",\"RepoTags\":[\"Bad Name\"],\"Layers\":[\"l.tar\"]}]";
        struct member m5[] = {
                { .name = "l.tar", .data = layer, .len = llen },
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest5, .len = strlen(manifest5) },
        };
        cleanup_free char *tar5 = NULL;
        tar_mem(m5, ARRAY_SIZE(m5), ARCHIVE_FILTER_NONE, &tar5, &tlen);
        cleanup_free char *p5 = write_tmp("badname.tar", tar5, tlen);
        assert_refused(p5, "not a valid image name");

        /* neither manifest.json nor index.json */
        struct member m6[] = { { .name = "hello", .data = "x", .len = 1 } };
        cleanup_free char *tar6 = NULL;
        tar_mem(m6, ARRAY_SIZE(m6), ARCHIVE_FILTER_NONE, &tar6, &tlen);
        cleanup_free char *p6 = write_tmp("nothing.tar", tar6, tlen);
        assert_refused(p6, "neither manifest.json");
}
END_TEST

/* The first layer unpacks, the second has `../../escape`: the first is
 * removed again. */
START_TEST(test_refuse_layer_escape_rolls_back)
{
        cleanup_free char *l1 = NULL, *l2 = NULL;
        size_t n1 = 0, n2 = 0;
        make_layer("first\n", false, &l1, &n1);
        make_layer("second\n", true, &l2, &n2);
        cleanup_free char *d1 = digest_of_data(l1, n1);
        cleanup_free char *d2 = digest_of_data(l2, n2);
        char *ids[] = { d1, d2, NULL };
        cleanup_free char *config = config_json(ids);
        const char *manifest = "[{\"Config\":\"c.json\",\"RepoTags\":[\"esc:1\"],\"Layers\":[\"1.tar\",\"2.tar\"]}]";
        struct member m[] = {
                { .name = "1.tar", .data = l1, .len = n1 },
                { .name = "2.tar", .data = l2, .len = n2 },
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *p = write_tmp("escape.tar", tar, tlen);
        assert_refused(p, "escapes the layer");
        cleanup_free char *escaped = xasprintf("%s/escape", tdir);
        struct stat sb;
        ck_assert_int_lt(stat(escaped, &sb), 0);
}
END_TEST

/* A layer that was in the store before a failed load stays. */
START_TEST(test_refuse_keeps_existing)
{
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("keep\n", false, &layer, &llen);
        cleanup_free char *lp = write_tmp("keep-rootfs.tar", layer, llen);
        cleanup_close int fd = open(lp, O_RDONLY | O_CLOEXEC);
        berth_error_t err = NULL;
        cleanup_free char *id = NULL;
        ck_assert_int_eq(image_import(&st, fd, "kept:1", NULL, NULL, &id, &err), 0);
        size_t blobs = count_entries("blobs/sha256"), layers = count_entries("layers");
        cleanup_free char *diff_id = digest_of_data(layer, llen);
        cleanup_free char *l2 = NULL;
        size_t n2 = 0;
        make_layer("bad\n", true, &l2, &n2);
        cleanup_free char *d2 = digest_of_data(l2, n2);
        char *ids[] = { diff_id, d2, NULL };
        cleanup_free char *config = config_json(ids);
        const char *manifest = "[{\"Config\":\"c.json\",\"RepoTags\":[\"kept:1\"],\"Layers\":[\"1.tar\",\"2.tar\"]}]";
        struct member m[] = {
                { .name = "1.tar", .data = layer, .len = llen },
                { .name = "2.tar", .data = l2, .len = n2 },
                { .name = "c.json", .data = config, .len = strlen(config) },
                { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
        };
        cleanup_free char *tar = NULL;
        size_t tlen = 0;
        tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
        cleanup_free char *p = write_tmp("keep.tar", tar, tlen);
        cleanup_free char *msg = NULL;
        ck_assert_int_lt(load_file(p, NULL, &msg), 0);
        ck_assert_uint_eq(count_entries("blobs/sha256"), blobs);
        ck_assert_uint_eq(count_entries("layers"), layers);
        ck_assert(store_layer_exists(&st, diff_id));
        cleanup_image struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "kept:1", &img, &err), 0);
        ck_assert_str_eq(img->id, id); /* the tag did not move */
}
END_TEST

/* A layer the store has already is not unpacked again, but the archive's
 * copy must still be that layer (plain or compressed). */
START_TEST(test_existing_layer_still_verified)
{
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("exists\n", false, &layer, &llen);
        cleanup_free char *lp = write_tmp("exists-rootfs.tar", layer, llen);
        cleanup_close int fd = open(lp, O_RDONLY | O_CLOEXEC);
        berth_error_t err = NULL;
        ck_assert_int_eq(image_import(&st, fd, "exists:1", NULL, NULL, NULL, &err), 0);
        size_t blobs = count_entries("blobs/sha256"), layers = count_entries("layers");
        cleanup_free char *diff_id = digest_of_data(layer, llen);
        char *ids[] = { diff_id, NULL };
        cleanup_free char *config = config_json(ids);
        const char *manifest = "[{\"Config\":\"c.json\",\"RepoTags\":[\"other:1\"],\"Layers\":[\"l.tar\"]}]";

        struct member lm[] = { { .name = "hello", .data = "not the layer\n", .len = 14 } };
        cleanup_free char *other = NULL, *other_gz = NULL, *good_gz = NULL;
        size_t olen = 0, oglen = 0, gglen = 0;
        tar_mem(lm, 1, ARCHIVE_FILTER_NONE, &other, &olen);
        tar_mem(lm, 1, ARCHIVE_FILTER_GZIP, &other_gz, &oglen);
        {
                struct archive *a = archive_write_new(); /* the real layer, gzip'ed */
                size_t cap = 1 << 20;
                good_gz = xmalloc(cap);
                archive_write_add_filter_gzip(a);
                archive_write_set_format_raw(a);
                ck_assert_int_eq(archive_write_open_memory(a, good_gz, cap, &gglen), ARCHIVE_OK);
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_filetype(e, AE_IFREG);
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                ck_assert_int_eq(archive_write_data(a, layer, llen), (la_ssize_t) llen);
                archive_entry_free(e);
                archive_write_close(a);
                archive_write_free(a);
        }
        const struct {
                const char *data;
                size_t len;
                bool ok;
        } cases[] = { { other, olen, false }, { other_gz, oglen, false }, { good_gz, gglen, true } };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct member m[] = {
                        { .name = "l.tar", .data = cases[i].data, .len = cases[i].len },
                        { .name = "c.json", .data = config, .len = strlen(config) },
                        { .name = "manifest.json", .data = manifest, .len = strlen(manifest) },
                };
                cleanup_free char *tar = NULL;
                size_t tlen = 0;
                tar_mem(m, ARRAY_SIZE(m), ARCHIVE_FILTER_NONE, &tar, &tlen);
                cleanup_free char *p = write_tmp("exists.tar", tar, tlen);
                cleanup_free char *msg = NULL;
                if (!cases[i].ok) {
                        ck_assert_msg(load_file(p, NULL, &msg) < 0, "case %zu was loaded", i);
                        ck_assert_msg(strstr(msg, "layer digest mismatch"), "case %zu: %s", i, msg);
                        ck_assert_uint_eq(count_entries("blobs/sha256"), blobs);
                        ck_assert_uint_eq(count_entries("layers"), layers);
                } else
                        ck_assert_msg(load_file(p, NULL, &msg) == 0, "case %zu: %s", i, msg);
        }
        cleanup_image struct berth_image *img = NULL;
        ck_assert_int_eq(image_lookup(&st, "other:1", &img, &err), 0);
}
END_TEST

/* ---- save -> load --------------------------------------------------------------------- */
static char *archive_list(const char *path)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_filename(a, path, 1 << 16), ARCHIVE_OK);
        char *names = xstrdup("");
        struct archive_entry *e;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                char *n = xasprintf("%s%s\n", names, archive_entry_pathname(e));
                free(names);
                names = n;
        }
        archive_read_free(a);
        return names;
}

START_TEST(test_save_load_roundtrip)
{
        cleanup_free char *layer = NULL;
        size_t llen = 0;
        make_layer("roundtrip\n", false, &layer, &llen);
        cleanup_free char *lp = write_tmp("rt-rootfs.tar", layer, llen);
        berth_error_t err = NULL;
        cleanup_free char *id = NULL;
        {
                cleanup_close int fd = open(lp, O_RDONLY | O_CLOEXEC);
                ck_assert_int_eq(image_import(&st, fd, "rt:1", NULL, "msg", &id, &err), 0);
        }
        ck_assert_int_eq(image_tag(&st, "rt:1", "rt:2", &err), 0);
        cleanup_image struct berth_image *before = NULL;
        ck_assert_int_eq(image_lookup(&st, "rt:1", &before, &err), 0);

        static const enum image_archive_format formats[] = { IMAGE_ARCHIVE_DOCKER, IMAGE_ARCHIVE_OCI };
        for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
                cleanup_free char *out = xasprintf("%s/saved-%zu.tar", tdir, f);
                {
                        cleanup_close int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        char *refs[] = { "rt:1", "rt:2", id, NULL }; /* one image, written once */
                        ck_assert_int_eq(image_save_archive(&st, refs, formats[f], fd, NULL, &err), 0);
                }
                cleanup_free char *names = archive_list(out);
                ck_assert_ptr_nonnull(strstr(names, "index.json\n"));
                ck_assert_ptr_nonnull(strstr(names, "oci-layout\n"));
                cleanup_free char *blob = xasprintf("blobs/sha256/%s\n", before->diff_ids[0] + 7);
                ck_assert_ptr_nonnull(strstr(names, blob));
                ck_assert_ptr_eq(strstr(strstr(names, blob) + 1, blob), NULL);
                if (formats[f] == IMAGE_ARCHIVE_DOCKER) {
                        ck_assert_ptr_nonnull(strstr(names, "manifest.json\n"));
                        ck_assert_ptr_nonnull(strstr(names, "repositories\n"));
                } else
                        ck_assert_ptr_null(strstr(names, "manifest.json\n"));

                ck_assert_int_eq(image_remove(&st, id, true, NULL, NULL, NULL, &err), 0);
                ck_assert_uint_eq(count_images(), 0);
                cleanup_strv char **loaded = NULL;
                cleanup_free char *msg = NULL;
                ck_assert_msg(load_file(out, &loaded, &msg) == 0, "load failed: %s", msg);
                cleanup_image struct berth_image *after = NULL;
                ck_assert_int_eq(image_lookup(&st, "rt:2", &after, &err), 0);
                ck_assert_str_eq(after->id, before->id);
                ck_assert_str_eq(after->manifest_digest, before->manifest_digest);
                ck_assert_uint_eq(strv_length(after->tags), 2);
                ck_assert_uint_eq(count_entries("tmp"), 0);
        }
        /* saving an unknown image fails before writing */
        char *refs[] = { "rt:1", "no-such:9", NULL };
        ck_assert_int_lt(image_save_archive(&st, refs, IMAGE_ARCHIVE_DOCKER, -1, NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "No such image"));
        berth_error_free(&err);
}
END_TEST

static Suite *archive_suite(void)
{
        Suite *s = suite_create("archive");
        TCase *tc = tcase_create("names");
        tcase_add_test(tc, test_name_safe);
        suite_add_tcase(s, tc);
        tc = tcase_create("load");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_load_docker_classic);
        tcase_add_test(tc, test_load_docker_skopeo_gzip);
        tcase_add_test(tc, test_load_oci_annotations);
        tcase_add_test(tc, test_load_oci_nested_index);
        tcase_add_test(tc, test_refuse_random_truncated_empty);
        tcase_add_test(tc, test_refuse_bad_digests);
        tcase_add_test(tc, test_refuse_bad_diff_ids);
        tcase_add_test(tc, test_refuse_names_outside);
        tcase_add_test(tc, test_refuse_layer_escape_rolls_back);
        tcase_add_test(tc, test_refuse_keeps_existing);
        tcase_add_test(tc, test_existing_layer_still_verified);
        tcase_add_test(tc, test_save_load_roundtrip);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(archive_suite)
