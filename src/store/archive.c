/* berth — image archives (save/load) and container filesystems as tars
 * (diff/commit/export).  See include/berth/archive.h.
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
#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

#include "berth/archive.h"
#include "berth/archive-util.h"
#include "berth/mounts.h"
#include "berth/util.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_IMAGE_NAME "io.containerd.image.name"

#define SMALL_MEMBER (1 << 20)        /* members up to this size are kept in memory */
#define MAX_MEMORY (256LL << 20)      /* ... up to this much in total */
#define MAX_MEMBERS 100000
#define MAX_LINK_HOPS 16


static void md_freep(EVP_MD_CTX **md)
{
        EVP_MD_CTX_free(*md);
}
#define cleanup_md __attribute__((cleanup(md_freep)))

static const char *arch_msg(struct archive *a)
{
        const char *m = a ? archive_error_string(a) : NULL;
        return m ? m : "unknown error";
}

static EVP_MD_CTX *sha256_new(void)
{
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                abort();
        return md;
}

static char *sha256_final(EVP_MD_CTX *md)
{
        unsigned char raw[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        EVP_DigestFinal_ex(md, raw, &n);
        hex_encode(raw, n, hex);
        return xasprintf("sha256:%s", hex);
}

static void report_progress(const struct image_archive_report *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* A layer's progress bar on a terminal, redrawn in place. */
struct layer_bar {
        FILE *f;
        const char *verb; /* "Loading layer" */
        const char *hex;  /* the layer's digest (hex) */
};

static void layer_bar_draw(long long done, long long total, void *userdata)
{
        struct layer_bar *b = userdata;
        cleanup_free char *bar = format_progress_bar(done, total);
        fprintf(b->f, "\r\033[2K%s %.12s %s", b->verb, b->hex, bar);
        fflush(b->f);
}

static void layer_bar_end(struct layer_bar *b, long long size, bool ok)
{
        if (ok)
                layer_bar_draw(size, size, b);
        fputc('\n', b->f);
}

static void report_progress(const struct image_archive_report *r, const char *fmt, ...)
{
        if (!r || !r->progress)
                return;
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *line = xvasprintf(fmt, ap);
        va_end(ap);
        r->progress(line, r->userdata);
}

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


static char *json_compact(json_t *j)
{
        char *text = json_dumps(j, JSON_COMPACT);
        if (!text)
                abort();
        return text;
}

/* One part of a stored name ("docker.io/library/busybox:latest"): the
 * familiar name "busybox:latest", the repository "busybox" or the tag
 * "latest" (the name as is, or "latest" for the tag, when it does not
 * parse). */
enum name_part { NAME_FAMILIAR, NAME_REPO, NAME_TAG };

static char *name_part(const char *full, enum name_part part)
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

/* Lexical normalisation: "./a//b/../c/" -> "a/c".  NULL when ".." would
 * climb above the root or the result is empty. */
static char *name_normalize(const char *p)
{
        size_t cap = strlen(p) + 1;
        char *out = xmalloc(cap);
        size_t o = 0;
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.') {
                        if (o == 0) {
                                free(out);
                                return NULL;
                        }
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* the slash */
                } else if (n > 0 && !(n == 1 && c[0] == '.')) {
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, c, n);
                        o += n;
                }
                c += n;
                while (*c == '/')
                        c++;
        }
        out[o] = '\0';
        if (o == 0) {
                free(out);
                return NULL;
        }
        return out;
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
        cleanup_free char *norm = image_archive_name_safe(name) ? name_normalize(name) : NULL;
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
                la_ssize_t n = archive_read_data(a, buf, 1 << 16);
                if (n < 0)
                        return berth_error(err, 0, "invalid image archive: `%s`: %s", m->name, arch_msg(a));
                if (n == 0)
                        break;
                EVP_DigestUpdate(md, buf, (size_t) n);
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
        cleanup_archive_read struct archive *a = archive_read_new();
        if (!a)
                abort();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
                return berth_error(err, 0, "invalid image archive: %s", arch_msg(a));
        size_t entries = 0;
        for (;;) {
                struct archive_entry *e = NULL;
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "invalid image archive: %s", arch_msg(a));
                if (++entries > MAX_MEMBERS)
                        return berth_error(err, 0, "invalid image archive: more than %d members", MAX_MEMBERS);
                const char *name = archive_entry_pathname(e);
                if (!name)
                        return berth_error(err, 0, "invalid image archive: a member has an unreadable name");
                const char *hardlink = archive_entry_hardlink(e);
                mode_t type = archive_entry_filetype(e);
                if (!hardlink && type == AE_IFDIR && strspn(name, "./") == strlen(name))
                        continue; /* "./": the root directory */
                if (!image_archive_name_safe(name))
                        return berth_error(err, 0, "invalid image archive: member `%s` points outside the archive",
                                           name);
                if (!hardlink && type != AE_IFREG && type != AE_IFLNK)
                        continue; /* directories, devices: not content */
                cleanup_free char *norm = name_normalize(name);
                if (member_get(ms, norm))
                        return berth_error(err, 0, "invalid image archive: member `%s` appears twice", name);
                ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
                struct member *m = &ms->v[ms->n++];
                memset(m, 0, sizeof(*m));
                m->name = steal_pointer(&norm);
                if (hardlink) {
                        m->type = 'h';
                        m->target = image_archive_name_safe(hardlink) ? name_normalize(hardlink) : NULL;
                } else if (type == AE_IFLNK) {
                        m->type = 's';
                        const char *t = archive_entry_symlink(e);
                        if (t && t[0] != '/') {
                                const char *slash = strrchr(m->name, '/');
                                cleanup_free char *joined = slash ? xasprintf("%.*s/%s", (int) (slash - m->name),
                                                                              m->name, t)
                                                                  : xstrdup(t);
                                m->target = name_normalize(joined);
                        }
                } else {
                        m->type = 'f';
                        long long declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
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

/* A name an image may be tagged with: parses, and is not a digest. */
static bool tag_name_valid(const char *name)
{
        struct image_ref r;
        if (image_ref_parse(name, &r, NULL) < 0)
                return false;
        bool ok = r.digest == NULL;
        image_ref_free(&r);
        return ok;
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
 * Undoing a failed load or commit
 * ====================================================================== */
struct added {
        char **blobs;  /* digests this operation put in the store */
        char **layers; /* diff_ids it unpacked */
};

static void added_free(struct added *a)
{
        strv_free(a->blobs);
        strv_free(a->layers);
        a->blobs = a->layers = NULL;
}

/* Remove what was added, unless an image registered meanwhile uses it
 * (checked under the exclusive store lock; layer dirs are moved to ROOT/tmp
 * and deleted after it). */
static void added_rollback(struct berth_store *s, struct added *a)
{
        if (!strv_length(a->blobs) && !strv_length(a->layers))
                return;
        berth_error_t e = NULL;
        if (store_lock(s, true, &e) < 0) {
                berth_error_free(&e);
                return;
        }
        struct berth_image **imgs = NULL;
        size_t n = 0;
        if (image_list(s, &imgs, &n, &e) < 0) {
                berth_error_free(&e);
                store_unlock(s);
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
        store_unlock(s);
        for (size_t i = 0; trash[i]; i++)
                rm_rf(trash[i], NULL);
}

/* ======================================================================
 * load
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
        cleanup_archive_read struct archive *a = archive_read_new();
        if (!a)
                abort();
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        int r = m->data ? archive_read_open_memory(a, m->data, m->len) : archive_read_open_filename(a, path, 1 << 16);
        struct archive_entry *e;
        if (r != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
                return berth_error(err, 0, "invalid image archive: layer `%s`: %s", m->name, arch_msg(a));
        EVP_MD_CTX *md cleanup_md = sha256_new();
        for (;;) {
                const void *buf;
                size_t n;
                la_int64_t off;
                r = archive_read_data_block(a, &buf, &n, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "invalid image archive: layer `%s`: %s", m->name, arch_msg(a));
                EVP_DigestUpdate(md, buf, n);
        }
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

/* ======================================================================
 * save
 * ====================================================================== */
struct save_image {
        struct berth_image *img;
        json_t *manifest;
        char **tags; /* full names */
};

static int write_header(struct archive *a, const char *name, mode_t type, long long size, berth_error_t *err)
{
        cleanup_archive_entry struct archive_entry *e = archive_entry_new();
        if (!e)
                abort();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
        archive_entry_set_mtime(e, 0, 0);
        if (archive_write_header(a, e) < ARCHIVE_WARN)
                return berth_error(err, 0, "write the archive: %s", arch_msg(a));
        return 0;
}

static int write_data(struct archive *a, const void *data, size_t len, berth_error_t *err)
{
        while (len > 0) {
                la_ssize_t n = archive_write_data(a, data, len);
                if (n <= 0)
                        return berth_error(err, 0, "write the archive: %s", arch_msg(a));
                data = (const char *) data + n;
                len -= (size_t) n;
        }
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
        for (;;) {
                ssize_t n = read(fd, buf, 1 << 16);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_error(err, errno, "read `%s`", path);
                }
                if (n == 0)
                        break;
                EVP_DigestUpdate(md, buf, (size_t) n);
                if (bar && total >> 20 != (total + n) >> 20)
                        layer_bar_draw(total + n, st.st_size, bar);
                total += n;
                if (write_data(a, buf, (size_t) n, err) < 0)
                        return -1;
        }
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
        struct save_image *imgs = NULL;
        size_t n = 0;
        if (save_collect(s, refs, &imgs, &n, err) < 0)
                return -1;
        int ret = -1;
        cleanup_strv char **written = xcalloc(1, sizeof(char *));
        cleanup_archive_write struct archive *a = archive_write_new();
        if (!a)
                abort();
        archive_write_set_format_pax_restricted(a);
        archive_write_set_bytes_in_last_block(a, 1);
        json_auto_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
                                       "manifests");
        json_auto_t *dmanifest = json_array();
        json_auto_t *repositories = json_object();
        json_auto_t *layout = NULL;
        if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
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
        if (archive_write_close(a) != ARCHIVE_OK) {
                berth_error(err, 0, "write the archive: %s", arch_msg(a));
                goto out;
        }
        ret = 0;
out:
        save_images_free(imgs, n);
        return ret;
}

/* ======================================================================
 * Container changes (diff), commit, export
 * ====================================================================== */
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

void fs_changes_free(struct fs_change *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool fd_opaque(int fd)
{
        char v[4];
        ssize_t n = fgetxattr(fd, OVERLAY_OPAQUE_XATTR, v, sizeof(v));
        return n == 1 && v[0] == 'y';
}

/* The image's layer dirs, bottom first. */
struct lower {
        int *fds;
        size_t n;
};

static void lower_close(struct lower *lo)
{
        for (size_t i = 0; i < lo->n; i++)
                if (lo->fds[i] >= 0)
                        close(lo->fds[i]);
        free(lo->fds);
        lo->fds = NULL;
        lo->n = 0;
}

static int lower_open(struct berth_store *s, struct berth_image *img, struct lower *lo, berth_error_t *err)
{
        size_t n = strv_length(img->layer_links);
        lo->fds = xcalloc(n + 1, sizeof(int));
        lo->n = 0;
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *p = store_path(s, "%s", img->layer_links[i]);
                int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        lower_close(lo);
                        return berth_error(err, errno, "open the layer `%s` of image %s", p, img->id);
                }
                lo->fds[lo->n++] = fd;
        }
        return 0;
}

/* Does rel exist in the merged lower layers?  1 (with *st), 0 not.  Walks
 * each layer top-down without following symlinks; whiteouts, opaque
 * directories and non-directories on the way hide what is below. */
static int lower_lookup(const struct lower *lo, const char *rel, struct stat *st)
{
        for (size_t i = lo->n; i > 0; i--) {
                int dfd = lo->fds[i - 1];
                bool own = false, hidden = false;
                int result = -1; /* -1: not in this layer, look further down */
                cleanup_free char *p = xstrdup(rel);
                for (char *c = p;;) {
                        char *slash = strchr(c, '/');
                        if (slash)
                                *slash = '\0';
                        struct stat s2;
                        if (fstatat(dfd, c, &s2, AT_SYMLINK_NOFOLLOW) < 0) {
                                result = hidden ? 0 : -1;
                                break;
                        }
                        if (!slash) {
                                if (is_whiteout(&s2))
                                        result = 0;
                                else {
                                        *st = s2;
                                        result = 1;
                                }
                                break;
                        }
                        if (!S_ISDIR(s2.st_mode)) {
                                result = 0; /* a whiteout or a file hides everything under it */
                                break;
                        }
                        int nfd = openat(dfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (nfd < 0) {
                                result = hidden ? 0 : -1;
                                break;
                        }
                        if (own)
                                close(dfd);
                        dfd = nfd;
                        own = true;
                        if (fd_opaque(dfd))
                                hidden = true;
                        c = slash + 1;
                }
                if (own)
                        close(dfd);
                if (result >= 0)
                        return result;
        }
        return 0;
}

struct walk {
        struct lower lo;
        char **excluded; /* relative paths berth mounts over ("etc/hosts", "proc") */
        struct fs_change *v;
        size_t n;
};

static void walk_add(struct walk *w, char kind, const char *rel, bool opaque)
{
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        w->v[w->n++] = (struct fs_change){ .kind = kind, .path = xasprintf("/%s", rel), .opaque = opaque };
}

static bool ancestor_of_excluded(char **excluded, const char *rel)
{
        size_t n = strlen(rel);
        for (size_t i = 0; excluded[i]; i++)
                if (strncmp(excluded[i], rel, n) == 0 && excluded[i][n] == '/')
                        return true;
        return false;
}

static int walk_dir(struct walk *w, int dfd, const char *rel_dir, berth_error_t *err)
{
        int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return berth_error(err, errno, "read the container's changes");
        cleanup_dir DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return berth_error(err, errno, "read the container's changes");
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cleanup_free char *rel = *rel_dir ? xasprintf("%s/%s", rel_dir, de->d_name) : xstrdup(de->d_name);
                if (strv_contains(w->excluded, rel))
                        continue;
                struct stat st, lst = {};
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* a running container removed it */
                        return berth_error(err, errno, "stat `/%s` in the container's changes", rel);
                }
                if (is_whiteout(&st)) {
                        walk_add(w, 'D', rel, false);
                        continue;
                }
                int in_lower = lower_lookup(&w->lo, rel, &lst);
                if (!S_ISDIR(st.st_mode)) {
                        walk_add(w, in_lower ? 'C' : 'A', rel, false);
                        continue;
                }
                cleanup_close int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return berth_error(err, errno, "open `/%s` in the container's changes", rel);
                }
                bool opaque = fd_opaque(cfd);
                size_t before = w->n;
                if (walk_dir(w, cfd, rel, err) < 0)
                        return -1;
                bool children = w->n > before;
                if (!in_lower) {
                        /* a directory berth made only as a mount point is no change */
                        if (children || !ancestor_of_excluded(w->excluded, rel))
                                walk_add(w, 'A', rel, false);
                } else if (children || opaque || !S_ISDIR(lst.st_mode) ||
                           (st.st_mode & 07777) != (lst.st_mode & 07777) || st.st_uid != lst.st_uid ||
                           st.st_gid != lst.st_gid)
                        walk_add(w, 'C', rel, opaque);
        }
        if (errno)
                return berth_error(err, errno, "read the container's changes");
        return 0;
}

static int change_cmp(const void *a, const void *b)
{
        return strcmp(((const struct fs_change *) a)->path, ((const struct fs_change *) b)->path);
}

/* "/etc/hosts" -> "etc/hosts" */
static void push_excluded(char ***v, const char *abs)
{
        if (!abs)
                return;
        cleanup_free char *n = name_normalize(abs[0] == '/' ? abs + 1 : abs);
        if (n && !strv_contains(*v, n))
                strv_push(v, n);
}

/* Mount points berth itself puts in a container's root. */
static char **container_mount_points(struct berth_container *c)
{
        char **v = xcalloc(1, sizeof(char *));
        size_t n;
        const struct mount_op *ops = mounts_base(&n);
        for (size_t i = 0; i < n; i++)
                push_excluded(&v, ops[i].dst);
        push_excluded(&v, "/etc/hostname");
        push_excluded(&v, "/etc/hosts");
        push_excluded(&v, "/etc/resolv.conf");
        size_t i;
        json_t *m;
        json_array_foreach(json_at(c->config, "Berth.Mounts"), i, m)
                push_excluded(&v, json_str(m, "Destination"));
        json_array_foreach(json_at(c->config, "Berth.Tmpfs"), i, m) {
                const char *t = json_string_value(m);
                if (!t)
                        continue;
                cleanup_free char *dst = xstrdup(t);
                char *colon = strchr(dst, ':');
                if (colon)
                        *colon = '\0';
                push_excluded(&v, dst);
        }
        return v;
}

int container_changes(struct berth_store *s, struct berth_container *c, struct berth_image *img,
                      struct fs_change **out, size_t *nout, berth_error_t *err)
{
        struct walk w = {};
        cleanup_free char *upper = xasprintf("%s/upper", c->dir);
        cleanup_close int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ufd < 0)
                return berth_error(err, errno, "open the container's upper directory `%s`", upper);
        if (lower_open(s, img, &w.lo, err) < 0)
                return -1;
        w.excluded = container_mount_points(c);
        int r = walk_dir(&w, ufd, "", err);
        lower_close(&w.lo);
        strv_free(w.excluded);
        if (r < 0) {
                fs_changes_free(w.v, w.n);
                return -1;
        }
        if (w.n)
                qsort(w.v, w.n, sizeof(*w.v), change_cmp);
        *out = w.v;
        *nout = w.n;
        return 0;
}

/* ---- tar writing shared by commit and export ----------------------------------- */


/* Write e (and the file's data from fd when it is a regular file), through
 * the hard link resolver when lr is not NULL (files read from disk; not the
 * whiteouts made up here, which have no inode). */
static int tar_put(struct archive *a, struct archive_entry_linkresolver *lr, struct archive_entry *e, int fd,
                   const char *display, berth_error_t *err)
{
        struct archive_entry *spare = NULL;
        struct archive_entry *cur = e;
        if (lr)
                archive_entry_linkify(lr, &cur, &spare);
        if (!cur)
                return 0;
        int r = archive_write_header(a, cur);
        if (r < ARCHIVE_WARN)
                return berth_error(err, 0, "`%s`: %s", display, arch_msg(a));
        if (fd >= 0 && archive_entry_size(cur) > 0 && !archive_entry_hardlink(cur)) {
                cleanup_free char *buf = xmalloc(1 << 16);
                long long left = archive_entry_size(cur);
                while (left > 0) {
                        ssize_t n = read(fd, buf, left < (1 << 16) ? (size_t) left : (1 << 16));
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return berth_error(err, errno, "read `%s`", display);
                        }
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

/* ---- commit ------------------------------------------------------------------- */
struct writer_ctx {
        struct blob_writer *w;
        EVP_MD_CTX *md; /* the digest of what was written, known before the commit */
        berth_error_t err;
};

static la_ssize_t blob_write_cb(struct archive *a, void *userdata, const void *buf, size_t len)
{
        struct writer_ctx *ctx = userdata;
        if (store_blob_writer_write(ctx->w, buf, len, &ctx->err) < 0) {
                archive_set_error(a, EIO, "%s", ctx->err ? ctx->err->msg : "write error");
                return -1;
        }
        EVP_DigestUpdate(ctx->md, buf, len);
        return (la_ssize_t) len;
}

/* One change as tar entries: the file from the upper dir, or a whiteout. */
static int commit_entry(struct archive *a, struct archive *disk, struct archive_entry_linkresolver *lr, int ufd,
                        const char *upper, const struct fs_change *ch, berth_error_t *err)
{
        const char *rel = ch->path + 1;
        if (ch->kind == 'D') {
                const char *slash = strrchr(rel, '/');
                cleanup_free char *wh = slash ? xasprintf("%.*s/.wh.%s", (int) (slash - rel), rel, slash + 1)
                                              : xasprintf(".wh.%s", rel);
                struct stat st;
                cleanup_archive_entry struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, wh);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0);
                archive_entry_set_size(e, 0);
                if (fstatat(ufd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
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
        cleanup_archive_entry struct archive_entry *e = archive_entry_new();
        cleanup_free char *src = xasprintf("%s/%s", upper, rel);
        archive_entry_copy_sourcepath(e, src);
        archive_entry_copy_pathname(e, rel);
        if (archive_read_disk_entry_from_file(disk, e, fd, &st) < ARCHIVE_WARN)
                return berth_error(err, 0, "`%s`: %s", ch->path, arch_msg(disk));
        archive_entry_copy_pathname(e, rel);
        archive_entry_drop_overlay_xattrs(e);
        if (tar_put(a, lr, e, fd, ch->path, err) < 0)
                return -1;
        if (ch->opaque && S_ISDIR(st.st_mode)) {
                cleanup_archive_entry struct archive_entry *o = archive_entry_new();
                cleanup_free char *name = xasprintf("%s/.wh..wh..opq", rel);
                archive_entry_set_pathname(o, name);
                archive_entry_set_filetype(o, AE_IFREG);
                archive_entry_set_perm(o, 0);
                archive_entry_set_size(o, 0);
                archive_entry_set_mtime(o, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
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
        EVP_MD_CTX *md cleanup_md = sha256_new();
        struct writer_ctx ctx = { .w = w, .md = md };
        cleanup_archive_write struct archive *a = archive_write_new();
        cleanup_archive_read struct archive *disk = archive_read_disk_new();
        struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
        if (!a || !disk || !lr)
                abort();
        archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
        archive_write_set_format_pax_restricted(a);
        archive_entry_linkresolver_set_strategy(lr, archive_format(a));
        int ret = -1;
        if (archive_write_open(a, &ctx, NULL, blob_write_cb, NULL) != ARCHIVE_OK) {
                berth_error(err, 0, "write the layer: %s", arch_msg(a));
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                if (commit_entry(a, disk, lr, ufd, upper, &v[i], err) < 0)
                        goto out;
        if (archive_write_close(a) != ARCHIVE_OK) {
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
        archive_entry_linkresolver_free(lr);
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
        static const char *const keys[] = { "Env", "Cmd", "WorkingDir", "User", "Labels" };
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
        for (size_t i = 0; o->changes && o->changes[i]; i++)
                if (image_config_apply_change(cc, o->changes[i], err) < 0)
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
        for (size_t i = 0; o->changes && o->changes[i]; i++)
                if (image_config_apply_change(probe, o->changes[i], err) < 0)
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

/* ---- export ------------------------------------------------------------------- */

/* Runs in the child, in its own mount namespace: mount the merged view
 * read-only on mnt and write it as a tar to fd. */
static int export_child(struct berth_store *s, struct berth_container *c, const char *lower, const char *mnt, int fd,
                        berth_error_t *err)
{
        if (unshare(CLONE_NEWNS) < 0)
                return berth_error(err, errno, "create a mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make mounts private");
        /* the upper dir as the topmost lower dir: a read-only overlay that
         * leaves the container's own upper/work dirs alone */
        cleanup_free char *opts = xasprintf("lowerdir=%s/upper:%s", c->dir, lower);
        if (chdir(s->root) < 0)
                return berth_error(err, errno, "enter `%s`", s->root);
        if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) < 0)
                return berth_error(err, errno, "mount the container's filesystem");
        if (chdir("/") < 0)
                return berth_error(err, errno, "chdir /");

        cleanup_archive_write struct archive *a = archive_write_new();
        cleanup_archive_read struct archive *disk = archive_read_disk_new();
        struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
        if (!a || !disk || !lr)
                abort();
        archive_write_set_format_pax_restricted(a);
        archive_entry_linkresolver_set_strategy(lr, archive_format(a));
        archive_read_disk_set_symlink_physical(disk);
        archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE |
                                                     ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
        int ret = -1;
        size_t plen = strlen(mnt);
        if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                berth_error(err, 0, "write the archive: %s", arch_msg(a));
                goto out;
        }
        if (archive_read_disk_open(disk, mnt) != ARCHIVE_OK) {
                berth_error(err, 0, "read the container's filesystem: %s", arch_msg(disk));
                goto out;
        }
        for (;;) {
                cleanup_archive_entry struct archive_entry *e = archive_entry_new();
                int r = archive_read_next_header2(disk, e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        berth_error(err, 0, "read the container's filesystem: %s", arch_msg(disk));
                        goto out;
                }
                archive_read_disk_descend(disk);
                const char *path = archive_entry_pathname(e);
                if (!path || strncmp(path, mnt, plen) != 0)
                        continue;
                const char *rel = path + plen;
                while (*rel == '/')
                        rel++;
                if (!*rel || archive_entry_filetype(e) == AE_IFSOCK)
                        continue;
                cleanup_free char *name = xstrdup(rel);
                archive_entry_copy_pathname(e, name);
                archive_entry_drop_overlay_xattrs(e);
                cleanup_close int dfd = -1;
                if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
                        dfd = open(archive_entry_sourcepath(e), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (dfd < 0) {
                                berth_error(err, errno, "open `/%s`", name);
                                goto out;
                        }
                }
                cleanup_free char *display = xasprintf("/%s", name);
                if (tar_put(a, lr, e, dfd, display, err) < 0)
                        goto out;
        }
        if (archive_write_close(a) != ARCHIVE_OK) {
                berth_error(err, 0, "write the archive: %s", arch_msg(a));
                goto out;
        }
        ret = 0;
out:
        archive_entry_linkresolver_free(lr);
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
                if (export_child(s, c, lower, mnt, fd, &cerr) < 0) {
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
