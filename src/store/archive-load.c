/* berth — `load`: images from an archive into the store (see
 * include/berth/archive.h).
 *
 * Load reads the whole archive once: small members (JSON) are kept in
 * memory, large ones (layers) are streamed into blob writers (locked staging
 * files under ROOT/tmp) while hashed.  Then the archive is planned and
 * checked (every digest the archive names, config/layer counts, tag names)
 * before anything enters the store; then layers are unpacked (diff_ids
 * verified), blobs committed and images registered.  Whatever this load added
 * is removed again if a later step fails. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include "berth/archive.h"
#include "berth/archive-internal.h"
#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/image.h"
#include "berth/layer.h"
#include "berth/util.h"

#define SMALL_MEMBER (1 << 20)        /* members up to this size are kept in memory */
#define MAX_MEMORY (256LL << 20)      /* ... up to this much in total */
#define MAX_MEMBERS 100000
#define MAX_LINK_HOPS 16

static void report_result(const struct image_archive_report *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void report_result(const struct image_archive_report *r, const char *fmt, ...)
{
        if (!r || !r->result)
                return;
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *line = xvasprintf(fmt, ap);
        va_end(ap);
        r->result(line, r->userdata);
}

/* ======================================================================
 * Archive member names
 * ====================================================================== */

bool image_archive_name_safe(const char *name)
{
        if (!name || !*name || name[0] == '/')
                return false;
        bool any = false;
        for (const char *c = name; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return false;
                if (n > 0 && !(n == 1 && c[0] == '.'))
                        any = true;
                c += n;
                while (*c == '/')
                        c++;
        }
        return any;
}

/* The digest a member's name promises: "blobs/sha256/HEX" (OCI layout,
 * Docker >= 25), top-level "HEX.json" (Docker's config) or "HEX.tar"
 * (skopeo's layers).  NULL when the name promises nothing. */
static char *digest_from_name(const char *name)
{
        const char *hex = NULL;
        size_t len = 0;
        if (startswith(name, "blobs/sha256/")) {
                hex = name + strlen("blobs/sha256/");
                len = strlen(hex);
        } else if (!strchr(name, '/')) {
                const char *dot = strrchr(name, '.');
                if (dot && (streq(dot, ".json") || streq(dot, ".tar"))) {
                        hex = name;
                        len = (size_t) (dot - name);
                }
        }
        if (!hex || len != 64)
                return NULL;
        char *d = xasprintf("sha256:%.64s", hex);
        if (!image_digest_valid(d)) {
                free(d);
                return NULL;
        }
        return d;
}

/* ======================================================================
 * Reading an archive into members
 * ====================================================================== */
struct member {
        char *name;        /* normalised */
        char type;         /* 'f' file, 's' symlink, 'h' hard link */
        char *target;      /* 's'/'h': normalised target name, NULL if it leaves the archive */
        char *data;        /* small files: content, NUL-terminated */
        size_t len;
        struct blob_writer *w; /* large files: staged under ROOT/tmp */
        bool committed;    /* w was committed to the store */
        char *digest;      /* sha256 of the content */
        long long size;
        char *diff_id;     /* of its uncompressed content, once known */
};

struct members {
        struct member *v;
        size_t n;
        long long memory;
};

static void members_free(struct members *ms)
{
        for (size_t i = 0; i < ms->n; i++) {
                struct member *m = &ms->v[i];
                free(m->name);
                free(m->target);
                free(m->data);
                store_blob_writer_free(m->w);
                free(m->digest);
                free(m->diff_id);
        }
        free(ms->v);
        memset(ms, 0, sizeof(*ms));
}

static struct member *member_get(struct members *ms, const char *name)
{
        for (size_t i = 0; i < ms->n; i++)
                if (streq(ms->v[i].name, name))
                        return &ms->v[i];
        return NULL;
}

/* The file a name leads to, through symlinks and hard links. */
static int member_find(struct members *ms, const char *name, struct member **out, berth_error_t *err)
{
        cleanup_free char *norm = image_archive_name_safe(name) ? path_normalize_relative(name) : NULL;
        if (!norm)
                return berth_error(err, 0, "invalid image archive: it refers to `%s`, which is outside the archive",
                                   name);
        struct member *m = member_get(ms, norm);
        for (int hops = 0; m && m->type != 'f'; hops++) {
                if (hops >= MAX_LINK_HOPS)
                        return berth_error(err, 0, "invalid image archive: too many links from `%s`", name);
                if (!m->target)
                        return berth_error(err, 0, "invalid image archive: `%s` links outside the archive", name);
                m = member_get(ms, m->target);
        }
        if (!m)
                return berth_error(err, 0, "invalid image archive: `%s` is missing from the archive", name);
        *out = m;
        return 0;
}

/* Whole content (for JSON members; large ones are read from staging). */
static int member_read(struct member *m, char **data, size_t *len, berth_error_t *err)
{
        if (m->data) {
                *data = xmalloc(m->len + 1);
                memcpy(*data, m->data, m->len + 1);
                *len = m->len;
                return 0;
        }
        if (m->size > (64LL << 20))
                return berth_error(err, 0, "invalid image archive: `%s` is too large for a JSON document", m->name);
        return read_file(store_blob_writer_path(m->w), data, len, err);
}

static int member_json(struct member *m, json_t **out, berth_error_t *err)
{
        cleanup_free char *data = NULL;
        size_t len = 0;
        if (member_read(m, &data, &len, err) < 0)
                return -1;
        json_error_t je;
        json_t *j = json_loadb(data, len, 0, &je);
        if (!j)
                return berth_error(err, 0, "invalid image archive: `%s` is not valid JSON (%s)", m->name, je.text);
        *out = j;
        return 0;
}

static int read_member_data(struct berth_store *s, struct archive *a, struct member *m, long long declared,
                            struct members *ms, berth_error_t *err)
{
        bool small = declared >= 0 && declared <= SMALL_MEMBER && ms->memory + declared <= MAX_MEMORY;
        EVP_MD_CTX *md cleanup_md = sha256_new();
        size_t cap = 0;
        if (small) {
                cap = (size_t) declared + 1;
                m->data = xmalloc(cap);
        } else if (store_blob_writer_open(s, &m->w, err) < 0)
                return -1;
        cleanup_free char *buf = xmalloc(1 << 16);
        for (;;) {
                la_ssize_t n = sym_archive_read_data(a, buf, 1 << 16);
                if (n < 0)
                        return berth_error(err, 0, "invalid image archive: `%s`: %s", m->name, arch_msg(a));
                if (n == 0)
                        break;
                sha256_update(md, buf, (size_t) n);
                if (small) {
                        if (m->len + (size_t) n + 1 > cap) {
                                cap = (m->len + (size_t) n + 1) * 2;
                                m->data = xrealloc(m->data, cap);
                        }
                        memcpy(m->data + m->len, buf, (size_t) n);
                        m->len += (size_t) n;
                } else if (store_blob_writer_write(m->w, buf, (size_t) n, err) < 0)
                        return -1;
                m->size += n;
        }
        if (small) {
                m->data[m->len] = '\0';
                ms->memory += (long long) m->len;
        }
        m->digest = sha256_final(md);
        return 0;
}

static int read_members(struct berth_store *s, int fd, struct members *ms, berth_error_t *err)
{
        if (archive_lib_load(err) < 0)
                return -1;
        cleanup_archive_read struct archive *a = sym_archive_read_new();
        if (!a)
                abort();
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_tar(a);
        if (sym_archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
                return berth_error(err, 0, "invalid image archive: %s", arch_msg(a));
        size_t entries = 0;
        for (;;) {
                struct archive_entry *e = NULL;
                int r = sym_archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "invalid image archive: %s", arch_msg(a));
                if (++entries > MAX_MEMBERS)
                        return berth_error(err, 0, "invalid image archive: more than %d members", MAX_MEMBERS);
                const char *name = sym_archive_entry_pathname(e);
                if (!name)
                        return berth_error(err, 0, "invalid image archive: a member has an unreadable name");
                const char *hardlink = sym_archive_entry_hardlink(e);
                mode_t type = sym_archive_entry_filetype(e);
                if (!hardlink && type == AE_IFDIR && strspn(name, "./") == strlen(name))
                        continue; /* "./": the root directory */
                if (!image_archive_name_safe(name))
                        return berth_error(err, 0, "invalid image archive: member `%s` points outside the archive",
                                           name);
                if (!hardlink && type != AE_IFREG && type != AE_IFLNK)
                        continue; /* directories, devices: not content */
                cleanup_free char *norm = path_normalize_relative(name);
                if (member_get(ms, norm))
                        return berth_error(err, 0, "invalid image archive: member `%s` appears twice", name);
                ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
                struct member *m = &ms->v[ms->n++];
                memset(m, 0, sizeof(*m));
                m->name = steal_pointer(&norm);
                if (hardlink) {
                        m->type = 'h';
                        m->target = image_archive_name_safe(hardlink) ? path_normalize_relative(hardlink) : NULL;
                } else if (type == AE_IFLNK) {
                        m->type = 's';
                        const char *t = sym_archive_entry_symlink(e);
                        if (t && t[0] != '/') {
                                const char *slash = strrchr(m->name, '/');
                                cleanup_free char *joined = slash ? xasprintf("%.*s/%s", (int) (slash - m->name),
                                                                              m->name, t)
                                                                  : xstrdup(t);
                                m->target = path_normalize_relative(joined);
                        }
                } else {
                        m->type = 'f';
                        long long declared = sym_archive_entry_size_is_set(e) ? sym_archive_entry_size(e) : -1;
                        if (read_member_data(s, a, m, declared, ms, err) < 0)
                                return -1;
                }
        }
        if (ms->n == 0)
                return berth_error(err, 0, "invalid image archive: it has no files");
        return 0;
}

/* ======================================================================
 * Planning a load: what images the archive holds, all checked
 * ====================================================================== */
struct plan_layer {
        struct member *m;
        char *digest; /* blob digest */
        char *diff_id;
};

struct plan_image {
        char *manifest;        /* manifest JSON (the archive's or made here) */
        size_t manifest_len;
        char *manifest_digest;
        struct member *config; /* config member */
        char *config_digest;
        struct plan_layer *layers;
        size_t nlayers;
        char **names; /* as the archive gives them ("busybox:latest") */
};

struct plan {
        struct plan_image *v;
        size_t n;
};

static void plan_free(struct plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                struct plan_image *pi = &p->v[i];
                free(pi->manifest);
                free(pi->manifest_digest);
                free(pi->config_digest);
                for (size_t k = 0; k < pi->nlayers; k++) {
                        free(pi->layers[k].digest);
                        free(pi->layers[k].diff_id);
                }
                free(pi->layers);
                strv_free(pi->names);
        }
        free(p->v);
        memset(p, 0, sizeof(*p));
}

static struct plan_image *plan_add(struct plan *p)
{
        p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
        struct plan_image *pi = &p->v[p->n++];
        memset(pi, 0, sizeof(*pi));
        pi->names = xcalloc(1, sizeof(char *));
        return pi;
}

static void plan_add_name(struct plan_image *pi, const char *name)
{
        if (!strv_contains(pi->names, name))
                strv_push(&pi->names, name);
}

static int verify_member(struct member *m, const char *expect, const char *what, berth_error_t *err)
{
        if (!streq(m->digest, expect))
                return berth_error(err, 0,
                                   "invalid image archive: the %s `%s` does not match its digest (expected %s, got %s)",
                                   what, m->name, expect, m->digest);
        return 0;
}

static const char *layer_media_type_of(struct member *m)
{
        unsigned char magic[4] = { 0 };
        if (m->data)
                memcpy(magic, m->data, m->len < 4 ? m->len : 4);
        else {
                cleanup_close int fd = open(store_blob_writer_path(m->w), O_RDONLY | O_CLOEXEC);
                if (fd < 0 || read(fd, magic, sizeof(magic)) < 0)
                        return MT_OCI_LAYER;
        }
        if (magic[0] == 0x1f && magic[1] == 0x8b)
                return MT_OCI_LAYER_GZIP;
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                return MT_OCI_LAYER_ZSTD;
        return MT_OCI_LAYER;
}

/* The config's diff_ids, checked against the number of layers. */
static int config_diff_ids(struct member *cm, size_t nlayers, json_t **config_out, berth_error_t *err)
{
        json_t *config = NULL;
        if (member_json(cm, &config, err) < 0)
                return -1;
        json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        if (!json_is_object(config) || !json_is_array(diff_ids)) {
                json_decref(config);
                return berth_error(err, 0, "invalid image archive: `%s` is not an image config (no rootfs.diff_ids)",
                                   cm->name);
        }
        if (json_array_size(diff_ids) != nlayers) {
                size_t nd = json_array_size(diff_ids);
                json_decref(config);
                return berth_error(err, 0, "invalid image archive: the image config `%s` lists %zu layers but the "
                                           "manifest %zu",
                                   cm->name, nd, nlayers);
        }
        size_t i;
        json_t *d;
        json_array_foreach(diff_ids, i, d) if (!image_digest_valid(json_string_value(d)))
        {
                json_decref(config);
                return berth_error(err, 0, "invalid image archive: the image config `%s` has an invalid layer digest",
                                   cm->name);
        }
        *config_out = config;
        return 0;
}

/* Docker's manifest.json: [{"Config": PATH, "RepoTags": [...], "Layers": [PATH...]}]. */
static int plan_docker(struct members *ms, struct member *mj, struct plan *p, berth_error_t *err)
{
        json_auto_t *manifest = NULL;
        if (member_json(mj, &manifest, err) < 0)
                return -1;
        if (!json_is_array(manifest) || json_array_size(manifest) == 0)
                return berth_error(err, 0, "invalid image archive: manifest.json is not a list of images");
        size_t i;
        json_t *item;
        json_array_foreach(manifest, i, item) {
                const char *config_name = json_string_value(json_object_get(item, "Config"));
                json_t *layers = json_object_get(item, "Layers");
                json_t *tags = json_object_get(item, "RepoTags");
                if (!config_name || !json_is_array(layers) || (tags && !json_is_null(tags) && !json_is_array(tags)))
                        return berth_error(err, 0, "invalid image archive: manifest.json entry %zu needs Config, "
                                                   "Layers and RepoTags",
                                           i + 1);
                struct plan_image *pi = plan_add(p);
                if (member_find(ms, config_name, &pi->config, err) < 0)
                        return -1;
                cleanup_free char *want = digest_from_name(pi->config->name);
                if (want && verify_member(pi->config, want, "image config", err) < 0)
                        return -1;
                pi->config_digest = xstrdup(pi->config->digest);
                json_auto_t *config = NULL;
                if (config_diff_ids(pi->config, json_array_size(layers), &config, err) < 0)
                        return -1;
                json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
                json_auto_t *mlayers = json_array();
                pi->layers = xcalloc(json_array_size(layers) + 1, sizeof(*pi->layers));
                size_t k;
                json_t *l;
                json_array_foreach(layers, k, l) {
                        const char *lname = json_string_value(l);
                        if (!lname)
                                return berth_error(err, 0, "invalid image archive: manifest.json has a layer that is "
                                                           "not a path");
                        struct plan_layer *pl = &pi->layers[pi->nlayers++];
                        if (member_find(ms, lname, &pl->m, err) < 0)
                                return -1;
                        cleanup_free char *lwant = digest_from_name(pl->m->name);
                        if (lwant && verify_member(pl->m, lwant, "layer", err) < 0)
                                return -1;
                        pl->digest = xstrdup(pl->m->digest);
                        pl->diff_id = xstrdup(json_string_value(json_array_get(diff_ids, k)));
                        json_array_append_new(mlayers, json_pack("{s:s, s:s, s:I}", "mediaType",
                                                                 layer_media_type_of(pl->m), "digest", pl->digest,
                                                                 "size", (json_int_t) pl->m->size));
                }
                json_auto_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
                                           MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest",
                                           pi->config_digest, "size", (json_int_t) pi->config->size, "layers",
                                           mlayers);
                if (!m)
                        abort();
                pi->manifest = json_compact(m);
                pi->manifest_len = strlen(pi->manifest);
                pi->manifest_digest = digest_of_data(pi->manifest, pi->manifest_len);
                size_t t;
                json_t *tag;
                json_array_foreach(tags, t, tag) {
                        const char *name = json_string_value(tag);
                        if (!name || !tag_name_valid(name))
                                return berth_error(err, 0, "invalid image archive: `%s` is not a valid image name",
                                                   name ? name : "(not a string)");
                        plan_add_name(pi, name);
                }
        }
        return 0;
}

static int blob_member(struct members *ms, const char *digest, const char *what, struct member **out,
                       berth_error_t *err)
{
        if (!image_digest_valid(digest))
                return berth_error(err, 0, "invalid image archive: %s digest `%s` is not sha256:<64 hex digits>", what,
                                   digest ? digest : "(none)");
        cleanup_free char *name = xasprintf("blobs/sha256/%s", digest + 7);
        if (member_find(ms, name, out, err) < 0)
                return -1;
        return verify_member(*out, digest, what, err);
}

static int check_size(json_t *desc, struct member *m, const char *what, berth_error_t *err)
{
        json_t *size = json_object_get(desc, "size");
        if (json_is_integer(size) && json_integer_value(size) != m->size)
                return berth_error(err, 0, "invalid image archive: the %s `%s` has %lld bytes, its descriptor says "
                                           "%lld",
                                   what, m->name, m->size, (long long) json_integer_value(size));
        return 0;
}

/* One image manifest of an OCI layout (names may be NULL). */
static int plan_oci_manifest(struct members *ms, json_t *desc, struct member *mm, char **names, struct plan *p,
                             berth_error_t *err)
{
        const char *digest = json_string_value(json_object_get(desc, "digest"));
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->v[i].manifest_digest, digest)) {
                        for (size_t k = 0; names && names[k]; k++)
                                plan_add_name(&p->v[i], names[k]);
                        return 0;
                }
        json_auto_t *manifest = NULL;
        if (member_json(mm, &manifest, err) < 0)
                return -1;
        json_t *cdesc = json_object_get(manifest, "config");
        json_t *layers = json_object_get(manifest, "layers");
        if (!json_is_object(manifest) || !json_is_object(cdesc) || !json_is_array(layers))
                return berth_error(err, 0, "invalid image archive: the manifest %s has no config or layers", digest);
        struct plan_image *pi = plan_add(p);
        if (member_read(mm, &pi->manifest, &pi->manifest_len, err) < 0)
                return -1;
        pi->manifest_digest = xstrdup(digest);
        const char *cdigest = json_string_value(json_object_get(cdesc, "digest"));
        if (blob_member(ms, cdigest, "image config", &pi->config, err) < 0 ||
            check_size(cdesc, pi->config, "image config", err) < 0)
                return -1;
        pi->config_digest = xstrdup(cdigest);
        json_auto_t *config = NULL;
        if (config_diff_ids(pi->config, json_array_size(layers), &config, err) < 0)
                return -1;
        json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        pi->layers = xcalloc(json_array_size(layers) + 1, sizeof(*pi->layers));
        size_t k;
        json_t *l;
        json_array_foreach(layers, k, l) {
                struct plan_layer *pl = &pi->layers[pi->nlayers++];
                const char *ldigest = json_string_value(json_object_get(l, "digest"));
                if (blob_member(ms, ldigest, "layer", &pl->m, err) < 0 || check_size(l, pl->m, "layer", err) < 0)
                        return -1;
                pl->digest = xstrdup(ldigest);
                pl->diff_id = xstrdup(json_string_value(json_array_get(diff_ids, k)));
        }
        for (size_t i = 0; names && names[i]; i++)
                plan_add_name(pi, names[i]);
        return 0;
}

static const char *json_media_type(json_t *desc, json_t *doc)
{
        const char *mt = json_string_value(json_object_get(desc, "mediaType"));
        if (!mt && doc)
                mt = json_string_value(json_object_get(doc, "mediaType"));
        if (!mt && doc)
                mt = json_is_array(json_object_get(doc, "manifests")) ? MT_OCI_INDEX : MT_OCI_MANIFEST;
        return mt ? mt : "";
}

static int plan_oci_desc(struct members *ms, json_t *desc, char **names, int depth, struct plan *p,
                         berth_error_t *err)
{
        if (!json_is_object(desc))
                return berth_error(err, 0, "invalid image archive: a manifest descriptor is not an object");
        const char *digest = json_string_value(json_object_get(desc, "digest"));
        struct member *m = NULL;
        if (blob_member(ms, digest, "manifest", &m, err) < 0 || check_size(desc, m, "manifest", err) < 0)
                return -1;
        json_auto_t *doc = NULL;
        if (member_json(m, &doc, err) < 0)
                return -1;
        const char *mt = json_media_type(desc, doc);
        if (streq(mt, MT_OCI_MANIFEST) || streq(mt, MT_DOCKER_MANIFEST))
                return plan_oci_manifest(ms, desc, m, names, p, err);
        if (!streq(mt, MT_OCI_INDEX) && !streq(mt, MT_DOCKER_LIST))
                return 0; /* not an image (an artifact, an attestation): skipped */
        if (depth > 2)
                return berth_error(err, 0, "invalid image archive: image indexes nested too deeply");
        /* an index: the image for this platform (or the only one) */
        json_t *list = json_object_get(doc, "manifests");
        json_t *pick = NULL, *only = NULL;
        size_t i, nimages = 0;
        json_t *d;
        json_array_foreach(list, i, d) {
                const char *dmt = json_string_value(json_object_get(d, "mediaType"));
                json_t *plat = json_object_get(d, "platform");
                const char *os = json_string_value(json_object_get(plat, "os"));
                const char *arch = json_string_value(json_object_get(plat, "architecture"));
                if (os && streq(os, "unknown"))
                        continue; /* buildkit attestations */
                nimages++;
                only = d;
                if (!pick && (!os || streq(os, "linux")) && arch && streq(arch, image_go_arch()) &&
                    (!dmt || !streq(dmt, MT_OCI_INDEX)))
                        pick = d;
        }
        if (!pick && nimages == 1)
                pick = only;
        if (!pick)
                return berth_error(err, 0, "invalid image archive: the image index %s has no linux/%s image",
                                   digest, image_go_arch());
        return plan_oci_desc(ms, pick, names, depth + 1, p, err);
}

static int plan_oci(struct members *ms, struct member *mi, struct member *mj, struct plan *p, berth_error_t *err)
{
        struct member *lay = member_get(ms, "oci-layout");
        if (lay && lay->type == 'f') {
                json_auto_t *l = NULL;
                if (member_json(lay, &l, err) < 0)
                        return -1;
                const char *v = json_string_value(json_object_get(l, "imageLayoutVersion"));
                if (!v || !startswith(v, "1."))
                        return berth_error(err, 0, "invalid image archive: unsupported OCI layout version `%s`",
                                           v ? v : "(none)");
        }
        json_auto_t *index = NULL;
        if (member_json(mi, &index, err) < 0)
                return -1;
        json_t *list = json_object_get(index, "manifests");
        if (!json_is_array(list))
                return berth_error(err, 0, "invalid image archive: index.json has no manifests");
        size_t i;
        json_t *desc;
        json_array_foreach(list, i, desc) {
                json_t *ann = json_object_get(desc, "annotations");
                const char *full = json_string_value(json_object_get(ann, ANN_IMAGE_NAME));
                const char *ref = json_string_value(json_object_get(ann, ANN_REF_NAME));
                cleanup_strv char **names = xcalloc(1, sizeof(char *));
                if (full) {
                        if (!tag_name_valid(full))
                                return berth_error(err, 0, "invalid image archive: `%s` is not a valid image name",
                                                   full);
                        strv_push(&names, full);
                } else if (ref && (strchr(ref, ':') || strchr(ref, '/')) && tag_name_valid(ref)) {
                        /* a full reference; a bare tag ("latest") names no repository */
                        strv_push(&names, ref);
                }
                if (plan_oci_desc(ms, desc, names, 0, p, err) < 0)
                        return -1;
        }
        /* Docker's manifest.json next to the layout may name untagged ones */
        json_auto_t *dm = NULL;
        if (mj && member_json(mj, &dm, NULL) == 0 && json_is_array(dm)) {
                json_t *item;
                json_array_foreach(dm, i, item) {
                        const char *cname = json_string_value(json_object_get(item, "Config"));
                        cleanup_free char *cd = cname ? digest_from_name(cname) : NULL;
                        for (size_t k = 0; cd && k < p->n; k++) {
                                if (!streq(p->v[k].config_digest, cd) || p->v[k].names[0])
                                        continue;
                                size_t t;
                                json_t *tag;
                                json_array_foreach(json_object_get(item, "RepoTags"), t, tag)
                                        if (json_string_value(tag) && tag_name_valid(json_string_value(tag)))
                                                plan_add_name(&p->v[k], json_string_value(tag));
                        }
                }
        }
        if (p->n == 0)
                return berth_error(err, 0, "invalid image archive: index.json lists no image");
        return 0;
}

static int plan_archive(struct members *ms, struct plan *p, berth_error_t *err)
{
        struct member *mi = member_get(ms, "index.json");
        struct member *mj = member_get(ms, "manifest.json");
        if (mi && mi->type != 'f')
                mi = NULL;
        if (mj && mj->type != 'f')
                mj = NULL;
        if (mi)
                return plan_oci(ms, mi, mj, p, err);
        if (mj)
                return plan_docker(ms, mj, p, err);
        if (member_get(ms, "repositories"))
                return berth_error(err, 0, "invalid image archive: an old Docker archive (before Docker 1.10, "
                                           "without manifest.json) is not supported");
        return berth_error(err, 0, "invalid image archive: it has neither manifest.json (Docker) nor index.json "
                                   "(OCI)");
}
/* ======================================================================
 * Loading: layers unpacked, blobs committed, images registered
 * ====================================================================== */

/* Put a member in the store as blob `digest` (already verified). */
static int commit_member(struct berth_store *s, struct member *m, const char *digest, struct added *added,
                         berth_error_t *err)
{
        if (store_blob_exists(s, digest))
                return 0;
        if (m->w && !m->committed) {
                if (store_blob_writer_commit(m->w, digest, NULL, err) < 0)
                        return -1;
                m->committed = true;
        } else if (m->data) {
                cleanup_free char *got = NULL;
                if (store_blob_put_data(s, m->data, m->len, &got, err) < 0)
                        return -1;
                if (!streq(got, digest))
                        return berth_error(err, 0, "internal error: `%s` changed while loading", m->name);
        } else
                return berth_error(err, 0, "blob %s vanished from the store while loading; try again", digest);
        strv_push(&added->blobs, digest);
        return 0;
}

static int hash_block(const void *buf, size_t n, void *md, berth_error_t *err)
{
        sha256_update(md, buf, n);
        return 0;
}

/* sha256 of a layer member's uncompressed content (its diff_id). */
static int member_diff_id(struct berth_store *s, struct member *m, char **out, berth_error_t *err)
{
        if (m->diff_id) {
                *out = xstrdup(m->diff_id);
                return 0;
        }
        cleanup_free char *path = NULL;
        if (!m->data) {
                if (!m->committed)
                        path = xstrdup(store_blob_writer_path(m->w));
                else if (store_blob_path(s, m->digest, &path, err) < 0)
                        return -1;
        }
        if (archive_lib_load(err) < 0)
                return -1;
        cleanup_archive_read struct archive *a = sym_archive_read_new();
        if (!a)
                abort();
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_raw(a);
        int r = m->data ? sym_archive_read_open_memory(a, m->data, m->len)
                        : sym_archive_read_open_filename(a, path, 1 << 16);
        struct archive_entry *e;
        if (r != ARCHIVE_OK || sym_archive_read_next_header(a, &e) != ARCHIVE_OK)
                return berth_error(err, 0, "invalid image archive: layer `%s`: %s", m->name, arch_msg(a));
        EVP_MD_CTX *md cleanup_md = sha256_new();
        if (arch_data_foreach(a, hash_block, md, err) != 0)
                return berth_error(err, 0, "invalid image archive: layer `%s`: %s", m->name, arch_msg(a));
        m->diff_id = sha256_final(md);
        *out = xstrdup(m->diff_id);
        return 0;
}

static int load_layer(struct berth_store *s, struct plan_layer *pl, struct added *added,
                      const struct image_archive_report *report, berth_error_t *err)
{
        cleanup_free char *hsize = format_human_size(pl->m->size);
        if (store_layer_exists(s, pl->diff_id)) {
                /* not unpacked again, but what the archive holds must still
                 * be that layer */
                cleanup_free char *got = NULL;
                if (streq(pl->m->digest, pl->diff_id))
                        got = xstrdup(pl->diff_id); /* an uncompressed tar */
                else if (member_diff_id(s, pl->m, &got, err) < 0)
                        return -1;
                if (!streq(got, pl->diff_id))
                        return berth_error(err, 0, "layer %s (`%s`): layer digest mismatch: expected %s, got %s",
                                           pl->diff_id, pl->m->name, pl->diff_id, got);
                report_progress(report, "Layer %.12s already exists", pl->diff_id + 7);
                return commit_member(s, pl->m, pl->digest, added, err);
        }
        struct layer_bar bar = { report ? report->bar : NULL, "Loading layer", pl->diff_id + 7 };
        struct layer_progress lp = { layer_bar_draw, &bar };
        if (bar.f)
                layer_bar_draw(0, pl->m->size, &bar);
        else
                report_progress(report, "Loading layer %.12s %s", pl->diff_id + 7, hsize);
        cleanup_free char *path = NULL;
        if (pl->m->w && !pl->m->committed)
                path = xstrdup(store_blob_writer_path(pl->m->w));
        else {
                if (commit_member(s, pl->m, pl->digest, added, err) < 0 ||
                    store_blob_path(s, pl->digest, &path, err) < 0)
                        return -1;
        }
        int r = store_layer_unpack_progress(s, path, pl->diff_id, bar.f ? &lp : NULL, NULL, NULL, err);
        if (bar.f)
                layer_bar_end(&bar, pl->m->size, r >= 0);
        if (r < 0)
                return berth_error_wrap(err, "layer %s (`%s`)", pl->diff_id, pl->m->name);
        strv_push(&added->layers, pl->diff_id);
        if (!pl->m->diff_id)
                pl->m->diff_id = xstrdup(pl->diff_id); /* verified by the unpack */
        return commit_member(s, pl->m, pl->digest, added, err);
}

static int load_plan(struct berth_store *s, struct plan *p, struct added *added,
                     const struct image_archive_report *report, char ***ids, berth_error_t *err)
{
        for (size_t i = 0; i < p->n; i++) {
                struct plan_image *pi = &p->v[i];
                for (size_t k = 0; k < pi->nlayers; k++)
                        if (load_layer(s, &pi->layers[k], added, report, err) < 0)
                                return -1;
                if (commit_member(s, pi->config, pi->config_digest, added, err) < 0)
                        return -1;
                if (!store_blob_exists(s, pi->manifest_digest)) {
                        cleanup_free char *got = NULL;
                        if (store_blob_put_data(s, pi->manifest, pi->manifest_len, &got, err) < 0)
                                return -1;
                        strv_push(&added->blobs, got);
                }
        }
        for (size_t i = 0; i < p->n; i++) {
                struct plan_image *pi = &p->v[i];
                /* Docker's notice when a name moves to the loaded image */
                for (size_t k = 0; pi->names[k]; k++) {
                        struct berth_image *old = NULL;
                        if (image_lookup(s, pi->names[k], &old, NULL) == 0) {
                                if (!streq(old->id, pi->config_digest)) {
                                        cleanup_free char *f = name_part(pi->names[k], NAME_FAMILIAR);
                                        report_result(report,
                                                      "The image %s already exists, renaming the old one with ID %s "
                                                      "to empty string",
                                                      f, old->id);
                                }
                                image_free(old);
                        }
                }
                cleanup_free char *id = NULL;
                if (image_add(s, pi->manifest_digest, pi->names, &id, err) < 0)
                        return -1;
                if (ids)
                        strv_push(ids, id);
                if (!pi->names[0])
                        report_result(report, "Loaded image ID: %s", id);
                for (size_t k = 0; pi->names[k]; k++) {
                        cleanup_free char *f = name_part(pi->names[k], NAME_FAMILIAR);
                        report_result(report, "Loaded image: %s", f);
                }
        }
        return 0;
}

int image_load_archive(struct berth_store *s, int fd, const struct image_archive_report *report, char ***ids_out,
                       berth_error_t *err)
{
        struct members ms = {};
        struct plan p = {};
        struct added added = {};
        cleanup_strv char **ids = xcalloc(1, sizeof(char *));
        int r = read_members(s, fd, &ms, err);
        if (r == 0)
                r = plan_archive(&ms, &p, err);
        if (r == 0) {
                r = load_plan(s, &p, &added, report, &ids, err);
                if (r < 0)
                        added_rollback(s, &added);
        }
        added_free(&added);
        plan_free(&p);
        members_free(&ms);
        if (r < 0)
                return -1;
        if (ids_out)
                *ids_out = steal_pointer(&ids);
        return 0;
}
