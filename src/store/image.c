/* berth — images in the store: the index (ROOT/images.json), lookup, list,
 * tag, remove with its garbage collection, register (image.h).
 *
 * An image is an OCI manifest stored as a blob; its ID is the digest of its
 * config blob, as in Docker.  images.json (see store.h) maps manifests to IDs
 * and full tag names to manifests.  It is only read under the store lock
 * (shared) and only replaced, atomically, under the exclusive lock; blobs and
 * layers are only deleted under that lock, and a new image is only registered
 * under it after checking that everything it needs is there. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <sys/utsname.h>
#include <time.h>

#include "berth/blob.h"
#include "berth/event.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/json-util.h"
#include "berth/layer.h"
#include "berth/util.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

static int error_no_such_image(berth_error_t *err, const char *name)
{
        berth_error(err, 0, "No such image: %s", name);
        if (err && *err)
                (*err)->errnum = ENOENT;
        return -ENOENT;
}

/* ---- the index --------------------------------------------------------------- */
static int index_load(struct berth_store *s, json_t **out, berth_error_t *err)
{
        cleanup_free char *p = store_path(s, "images.json");
        json_t *idx = NULL;
        if (access(p, F_OK) < 0 && errno == ENOENT)
                idx = json_object();
        else {
                json_error_t je;
                idx = json_load_path(p, 0, &je);
                if (!idx || !json_is_object(idx)) {
                        json_decref(idx);
                        return berth_error(err, 0, "the image index `%s` is corrupt (%s, line %d)", p, je.text,
                                           je.line);
                }
        }
        if (!json_is_object(json_object_get(idx, "manifests")))
                json_object_set_new(idx, "manifests", json_object());
        if (!json_is_object(json_object_get(idx, "tags")))
                json_object_set_new(idx, "tags", json_object());
        *out = idx;
        return 0;
}

/* The index under the store lock (exclusive for a change), taken into
 * *lock unless the caller holds it. */
static int index_open(struct berth_store *s, bool exclusive, struct store_lock_scope *lock, json_t **idx,
                      berth_error_t *err)
{
        if (store_lock_scope_take(s, exclusive, lock, err) < 0)
                return -1;
        return index_load(s, idx, err);
}

static int index_save(struct berth_store *s, json_t *idx, berth_error_t *err)
{
        cleanup_free char *p = store_path(s, "images.json");
        cleanup_free char *text = json_dumps(idx, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text)
                abort();
        size_t n = strlen(text);
        text = xrealloc(text, n + 2);
        text[n] = '\n';
        text[n + 1] = '\0';
        return write_file_atomic(p, text, n + 1, 0600, err);
}

static const char *index_id_of(json_t *idx, const char *manifest)
{
        return json_string_value(json_object_get(json_object_get(json_object_get(idx, "manifests"), manifest), "id"));
}

static void names_sort(char **v)
{
        size_t n = strv_length(v);
        for (size_t i = 1; i < n; i++) /* few names: insertion sort */
                for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
                        char *t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
}

/* Full tag names whose manifest has image ID id, sorted. */
static char **index_names_of_id(json_t *idx, const char *id)
{
        char **v = xcalloc(1, sizeof(char *));
        const char *name;
        json_t *m;
        json_object_foreach(json_object_get(idx, "tags"), name, m) {
                const char *mid = index_id_of(idx, json_string_value(m));
                if (mid && streq(mid, id))
                        strv_push(&v, name);
        }
        names_sort(v);
        return v;
}

/* The manifest to use for image ID id: one a tag points at, else any. */
static const char *index_manifest_of_id(json_t *idx, const char *id)
{
        const char *name, *first = NULL;
        json_t *m;
        json_object_foreach(json_object_get(idx, "tags"), name, m) {
                const char *mid = index_id_of(idx, json_string_value(m));
                if (mid && streq(mid, id))
                        return json_string_value(m);
        }
        json_object_foreach(json_object_get(idx, "manifests"), name, m) {
                const char *mid = json_string_value(json_object_get(m, "id"));
                if (mid && streq(mid, id) && (!first || strcmp(name, first) < 0))
                        first = name;
        }
        return first;
}

/* ---- time ---------------------------------------------------------------------- */
static long long parse_rfc3339(const char *s)
{
        if (!s)
                return 0;
        struct tm tm = {};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return 0;
        long long frac = 0;
        if (*p == '.') {
                int digits = 0;
                for (p++; isdigit((unsigned char) *p); p++)
                        if (digits < 9) {
                                frac = frac * 10 + (*p - '0');
                                digits++;
                        }
                while (digits++ < 9)
                        frac *= 10;
        }
        long long off = 0;
        if (*p == '+' || *p == '-') {
                int hh = 0, mm = 0;
                if (sscanf(p + 1, "%d:%d", &hh, &mm) >= 1)
                        off = (hh * 3600LL + mm * 60LL) * (*p == '-' ? -1 : 1);
        }
        time_t t = timegm(&tm);
        return ((long long) t - off) * 1000000000LL + frac;
}

/* ---- images ---------------------------------------------------------------------- */
void image_free(struct berth_image *img)
{
        if (!img)
                return;
        free(img->id);
        free(img->manifest_digest);
        json_decref(img->config);
        strv_free(img->tags);
        strv_free(img->layer_links);
        strv_free(img->diff_ids);
        free(img);
}

void image_list_free(struct berth_image **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                image_free(v[i]);
        free(v);
}

/* Go's GOARCH for this machine, as image configs and indexes name it. */
const char *image_go_arch(void)
{
        static struct utsname u;
        if (uname(&u) < 0)
                return "amd64";
        static const struct {
                const char *machine, *arch;
        } map[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" },    { "armv6l", "arm" },
                { "i686", "386" },     { "i386", "386" },      { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
                { "riscv64", "riscv64" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (streq(u.machine, map[i].machine))
                        return map[i].arch;
        return u.machine;
}

char *image_lowerdir(const struct berth_image *img)
{
        /* overlayfs wants the top layer first */
        char *lower = xstrdup("");
        for (size_t i = strv_length(img->layer_links); i > 0; i--) {
                char *n = xasprintf("%s%s%s", lower, *lower ? ":" : "", img->layer_links[i - 1]);
                free(lower);
                lower = n;
        }
        return lower;
}

static int blob_json(struct berth_store *s, const char *digest, json_t **out, berth_error_t *err)
{
        cleanup_free char *data = NULL;
        size_t len = 0;
        int r = store_blob_read_trusted(s, digest, &data, &len, err);
        if (r < 0)
                return r;
        json_error_t je;
        json_t *j = json_loadb(data, len, 0, &je);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                return berth_error(err, 0, "blob %s is not a JSON object (%s)", digest, je.text);
        }
        *out = j;
        return 0;
}

/* Load the image behind a manifest.  strict: every layer must be unpacked. */
/* The image of a manifest, with its tags (taken).  Strict (one image
 * looked up to be used): the manifest blob is read and every layer must be
 * there.  Listing: the index's ID of the manifest stands for the manifest
 * (content-addressed, registered from it), one blob read fewer per image. */
static int image_load(struct berth_store *s, json_t *idx, const char *manifest_digest, char **tags, bool strict,
                      struct berth_image **out, berth_error_t *err)
{
        cleanup_strv char **names = tags;
        json_auto_t *manifest = NULL;
        const char *config_digest = strict ? NULL : index_id_of(idx, manifest_digest);
        if (!config_digest) {
                if (blob_json(s, manifest_digest, &manifest, err) < 0)
                        return berth_error_wrap(err, "image manifest");
                config_digest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        }
        if (!image_digest_valid(config_digest))
                return berth_error(err, 0, "manifest %s has no valid config digest", manifest_digest);
        struct berth_image *img __attribute__((cleanup(image_freep))) = xcalloc(1, sizeof(*img));
        img->id = xstrdup(config_digest);
        img->manifest_digest = xstrdup(manifest_digest);
        if (blob_json(s, config_digest, &img->config, err) < 0)
                return berth_error_wrap(err, "image config");
        img->created_ns = parse_rfc3339(json_string_value(json_object_get(img->config, "created")));
        img->tags = steal_pointer(&names);
        img->diff_ids = xcalloc(1, sizeof(char *));
        img->layer_links = xcalloc(1, sizeof(char *));
        json_t *diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
        size_t i;
        json_t *d;
        json_array_foreach(diff_ids, i, d) {
                const char *diff_id = json_string_value(d);
                if (!image_digest_valid(diff_id))
                        return berth_error(err, 0, "image %s has an invalid layer digest", img->id);
                strv_push(&img->diff_ids, diff_id);
                cleanup_free char *link = NULL;
                long long size = 0;
                berth_error_t e2 = NULL;
                if (store_layer_info(s, diff_id, &link, &size, &e2) < 0) {
                        if (strict) {
                                int r = berth_error(err, 0, "layer %s of image %s is missing from the store (%s); "
                                                           "remove the image and import, load or pull it again",
                                                    diff_id, img->id, e2->msg);
                                berth_error_free(&e2);
                                return r;
                        }
                        berth_error_free(&e2);
                        link = xstrdup("");
                }
                strv_push(&img->layer_links, link);
                img->size += size;
        }
        *out = steal_pointer(&img);
        return 0;
}

/* What a reference resolved to. */
struct resolved {
        char *manifest; /* digest of the manifest */
        char *id;       /* image ID */
        char *tag;      /* full tag name when found by name:tag, else NULL */
};

static void resolved_clear(struct resolved *r)
{
        free(r->manifest);
        free(r->id);
        free(r->tag);
        memset(r, 0, sizeof(*r));
}
#define cleanup_resolved __attribute__((cleanup(resolved_clear)))

static bool all_hex(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

/* Search IDs by hex prefix: 1 found, 0 not found, -1 ambiguous. */
static int find_id_prefix(json_t *idx, const char *hex, char **id_out)
{
        const char *m;
        json_t *v;
        const char *found = NULL;
        json_object_foreach(json_object_get(idx, "manifests"), m, v) {
                const char *id = json_string_value(json_object_get(v, "id"));
                if (!id || !startswith(id + 7, hex))
                        continue;
                if (found && !streq(found, id))
                        return -1;
                found = id;
        }
        if (!found)
                return 0;
        *id_out = xstrdup(found);
        return 1;
}

static int resolve(json_t *idx, const char *ref, struct resolved *res, berth_error_t *err)
{
        memset(res, 0, sizeof(*res));
        const char *hex = NULL;
        if (startswith(ref, "sha256:"))
                hex = ref + 7;
        else if (strlen(ref) == 64 && all_hex(ref))
                hex = ref;

        cleanup_free char *display = NULL;
        if (!hex) {
                struct image_ref r;
                berth_error_t perr = NULL;
                if (image_ref_parse(ref, &r, &perr) == 0) {
                        berth_error_free(&perr);
                        display = image_ref_familiar(&r);
                        cleanup_free char *full = image_ref_full(&r);
                        json_t *manifests = json_object_get(idx, "manifests");
                        if (r.digest && json_object_get(manifests, r.digest)) {
                                res->manifest = xstrdup(r.digest);
                        } else if (!r.digest) {
                                const char *m = json_string_value(json_object_get(json_object_get(idx, "tags"), full));
                                if (m && index_id_of(idx, m)) {
                                        res->manifest = xstrdup(m);
                                        res->tag = steal_pointer(&full);
                                }
                        }
                        image_ref_free(&r);
                        if (res->manifest) {
                                res->id = xstrdup(index_id_of(idx, res->manifest));
                                return 0;
                        }
                } else if (!all_hex(ref)) {
                        int rr = berth_error(err, 0, "%s", perr->msg);
                        berth_error_free(&perr);
                        return rr;
                } else
                        berth_error_free(&perr);
                if (all_hex(ref))
                        hex = ref; /* a short ID, tried after names as Docker does */
        }
        if (hex && all_hex(hex)) {
                int r = find_id_prefix(idx, hex, &res->id);
                if (r < 0)
                        return berth_error(err, 0, "multiple IDs found with provided prefix: %s", ref);
                if (r > 0) {
                        res->manifest = xstrdup(index_manifest_of_id(idx, res->id));
                        return 0;
                }
        }
        return error_no_such_image(err, display ? display : ref);
}

int image_lookup(struct berth_store *s, const char *ref, struct berth_image **out, berth_error_t *err)
{
        cleanup_store_lock struct store_lock_scope lock = {};
        json_auto_t *idx = NULL;
        if (index_open(s, false, &lock, &idx, err) < 0)
                return -1;
        cleanup_resolved struct resolved res = {};
        int r = resolve(idx, ref, &res, err);
        if (r < 0) {
                /* a short name pulled from the configured default registry */
                cleanup_free char *alt = image_ref_with_default_registry(ref, s->default_registry);
                berth_error_t e = NULL;
                if (!alt || resolve(idx, alt, &res, &e) < 0) {
                        berth_error_free(&e);
                        return r;
                }
                berth_error_free(err);
        }
        return image_load(s, idx, res.manifest, index_names_of_id(idx, res.id), true, out, err);
}

static int image_cmp(const void *a, const void *b)
{
        const struct berth_image *x = *(struct berth_image *const *) a, *y = *(struct berth_image *const *) b;
        if (x->created_ns != y->created_ns)
                return x->created_ns > y->created_ns ? -1 : 1;
        return strcmp(x->id, y->id);
}

int image_list(struct berth_store *s, struct berth_image ***out, size_t *n, berth_error_t *err)
{
        cleanup_store_lock struct store_lock_scope lock = {};
        json_auto_t *idx = NULL;
        if (index_open(s, false, &lock, &idx, err) < 0)
                return -1;
        /* each ID once, with the manifest a tag points at (else the least
         * digest of its manifests) and its tags: one pass over each table */
        json_auto_t *by_id = json_object(); /* id -> [manifest, [tags]] */
        const char *m;
        json_t *val;
        json_object_foreach(json_object_get(idx, "manifests"), m, val) {
                const char *id = json_string_value(json_object_get(val, "id"));
                json_t *e = id ? json_object_get(by_id, id) : NULL;
                if (id && !e)
                        json_object_set_new(by_id, id, json_pack("[s,[]]", m));
                else if (e && !json_array_size(json_array_get(e, 1)) && strcmp(m, json_string_value(json_array_get(e, 0))) < 0)
                        json_array_set_new(e, 0, json_string(m));
        }
        const char *name;
        json_object_foreach(json_object_get(idx, "tags"), name, val) {
                const char *id = index_id_of(idx, json_string_value(val));
                json_t *e = id ? json_object_get(by_id, id) : NULL;
                if (!e)
                        continue;
                if (!json_array_size(json_array_get(e, 1)))
                        json_array_set(e, 0, val);
                json_array_append_new(json_array_get(e, 1), json_string(name));
        }
        struct berth_image **v = NULL;
        size_t count = 0;
        const char *id;
        json_object_foreach(by_id, id, val) {
                char **tags = xcalloc(1, sizeof(char *));
                size_t k;
                json_t *t;
                json_array_foreach(json_array_get(val, 1), k, t)
                        strv_push(&tags, json_string_value(t));
                names_sort(tags);
                struct berth_image *img = NULL;
                berth_error_t e2 = NULL;
                /* a broken image does not hide the others; `rmi` still works on it */
                if (image_load(s, idx, json_string_value(json_array_get(val, 0)), tags, false, &img, &e2) < 0) {
                        berth_error_free(&e2);
                        continue;
                }
                v = xrealloc(v, (count + 1) * sizeof(*v));
                v[count++] = img;
        }
        if (count)
                qsort(v, count, sizeof(*v), image_cmp);
        *out = v;
        *n = count;
        return 0;
}

/* ---- registering ------------------------------------------------------------------ */
int image_add(struct berth_store *s, const char *manifest_digest, char *const *names, char **id_out,
              berth_error_t *err)
{
        if (!image_digest_valid(manifest_digest))
                return berth_error(err, 0, "invalid manifest digest `%s`", manifest_digest ? manifest_digest : "");
        cleanup_strv char **fulls = xcalloc(1, sizeof(char *));
        for (size_t i = 0; names && names[i]; i++) {
                cleanup_free char *full = NULL;
                if (image_ref_tag_name(names[i], &full, err) < 0)
                        return -1;
                strv_push(&fulls, full);
        }
        cleanup_store_lock struct store_lock_scope lock = {};
        if (store_lock_scope_take(s, true, &lock, err) < 0)
                return -1;
        json_auto_t *manifest = NULL;
        if (blob_json(s, manifest_digest, &manifest, err) < 0)
                return berth_error_wrap(err, "register image");
        const char *mt = json_string_value(json_object_get(manifest, "mediaType"));
        if (json_integer_value(json_object_get(manifest, "schemaVersion")) != 2 ||
            (mt && !streq(mt, MT_OCI_MANIFEST) && !streq(mt, MT_DOCKER_MANIFEST)))
                return berth_error(err, 0, "%s is not an OCI or Docker v2 image manifest", manifest_digest);
        const char *config_digest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        json_auto_t *config = NULL;
        if (!image_digest_valid(config_digest))
                return berth_error(err, 0, "manifest %s has no valid config digest", manifest_digest);
        if (blob_json(s, config_digest, &config, err) < 0)
                return berth_error_wrap(err, "register image");
        json_t *layers = json_object_get(manifest, "layers");
        json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        if (!json_is_array(layers) || !json_is_array(diff_ids) || json_array_size(layers) != json_array_size(diff_ids))
                return berth_error(err, 0, "image %s: the manifest lists %zu layers but the config %zu", config_digest,
                                   json_array_size(layers), json_array_size(diff_ids));
        size_t i;
        json_t *v;
        json_array_foreach(layers, i, v) {
                const char *d = json_string_value(json_object_get(v, "digest"));
                if (!store_blob_exists(s, d))
                        return berth_error(err, 0, "layer blob %s of image %s is not in the store (removed by a "
                                                   "concurrent rmi?); try again",
                                           d ? d : "?", config_digest);
                const char *diff_id = json_string_value(json_array_get(diff_ids, i));
                if (!store_layer_exists(s, diff_id))
                        return berth_error(err, 0, "layer %s of image %s is not unpacked (removed by a concurrent "
                                                   "rmi?); try again",
                                           diff_id ? diff_id : "?", config_digest);
        }
        json_auto_t *idx = NULL;
        if (index_load(s, &idx, err) < 0)
                return -1;
        json_object_set_new(json_object_get(idx, "manifests"), manifest_digest,
                            json_pack("{s:s}", "id", config_digest));
        for (size_t k = 0; fulls[k]; k++)
                json_object_set_new(json_object_get(idx, "tags"), fulls[k], json_string(manifest_digest));
        if (index_save(s, idx, err) < 0)
                return -1;
        if (id_out)
                *id_out = xstrdup(config_digest);
        return 0;
}

void image_event(const char *action, const char *id, const char *name)
{
        cleanup_free char *n = xasprintf("name=%s", name ? name : id);
        char *attrs[] = { n, NULL };
        event_emit("image", action, id, attrs, NULL);
}

static char *familiar_of_full(const char *full);

int image_tag(struct berth_store *s, const char *image, const char *name, berth_error_t *err)
{
        cleanup_free char *full = NULL;
        if (image_ref_tag_name(name, &full, err) < 0)
                return -1;
        cleanup_store_lock struct store_lock_scope lock = {};
        json_auto_t *idx = NULL;
        if (index_open(s, true, &lock, &idx, err) < 0)
                return -1;
        cleanup_resolved struct resolved res = {};
        int r = resolve(idx, image, &res, err);
        if (r < 0)
                return r;
        json_object_set_new(json_object_get(idx, "tags"), full, json_string(res.manifest));
        if (index_save(s, idx, err) < 0)
                return -1;
        cleanup_free char *f = familiar_of_full(full);
        image_event("tag", res.id, f);
        return 0;
}

/* ---- removing -------------------------------------------------------------------- */
static char *familiar_of_full(const char *full)
{
        struct image_ref r;
        if (image_ref_parse(full, &r, NULL) < 0)
                return xstrdup(full);
        char *f = image_ref_familiar(&r);
        image_ref_free(&r);
        return f;
}

static char *repo_of_full(const char *full)
{
        struct image_ref r;
        if (image_ref_parse(full, &r, NULL) < 0)
                return xstrdup(full);
        char *f = xasprintf("%s/%s", r.domain, r.path);
        image_ref_free(&r);
        return f;
}

static void report_line(void (*report)(const char *, void *), void *ud, const char *what, const char *arg)
{
        if (!report)
                return;
        cleanup_free char *line = xasprintf("%s: %s", what, arg);
        report(line, ud);
}

/* Blob digests and diff_ids a manifest needs (best effort: a missing blob
 * contributes what can be read). */
static void manifest_refs(struct berth_store *s, const char *manifest_digest, char ***blobs, char ***diff_ids)
{
        strv_push(blobs, manifest_digest);
        json_auto_t *manifest = NULL;
        if (blob_json(s, manifest_digest, &manifest, NULL) < 0)
                return;
        const char *cd = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(manifest, "layers"), i, v) {
                const char *d = json_string_value(json_object_get(v, "digest"));
                if (d)
                        strv_push(blobs, d);
        }
        if (!cd)
                return;
        strv_push(blobs, cd);
        json_auto_t *config = NULL;
        if (blob_json(s, cd, &config, NULL) < 0)
                return;
        json_array_foreach(json_object_get(json_object_get(config, "rootfs"), "diff_ids"), i, v) {
                const char *d = json_string_value(v);
                if (d)
                        strv_push(diff_ids, d);
        }
}

/* Under the exclusive lock, after the index no longer has the removed
 * manifests: delete their blobs and layers that no remaining image needs.
 * Layer dirs are renamed into ROOT/tmp (their deletion then happens in
 * *trash, after the lock is released). */
static void collect_garbage(struct berth_store *s, json_t *idx, char **cand_blobs, char **cand_diffs, char ***trash)
{
        cleanup_strv char **keep_blobs = xcalloc(1, sizeof(char *));
        cleanup_strv char **keep_diffs = xcalloc(1, sizeof(char *));
        const char *m;
        json_t *v;
        json_object_foreach(json_object_get(idx, "manifests"), m, v)
                manifest_refs(s, m, &keep_blobs, &keep_diffs);
        for (size_t i = 0; cand_blobs[i]; i++) {
                if (strv_contains(keep_blobs, cand_blobs[i]) || !image_digest_valid(cand_blobs[i]))
                        continue;
                cleanup_free char *p = store_path(s, "blobs/sha256/%s", cand_blobs[i] + 7);
                (void) unlink(p);
        }
        for (size_t i = 0; cand_diffs[i]; i++) {
                const char *d = cand_diffs[i];
                if (!strv_contains(keep_diffs, d))
                        store_layer_trash(s, d, trash);
        }
}

static void remove_manifests_of_id(json_t *idx, const char *id, char ***cand_blobs, char ***cand_diffs,
                                   struct berth_store *s)
{
        json_t *manifests = json_object_get(idx, "manifests");
        cleanup_strv char **drop = xcalloc(1, sizeof(char *));
        const char *m;
        json_t *v;
        json_object_foreach(manifests, m, v) {
                const char *mid = json_string_value(json_object_get(v, "id"));
                if (mid && streq(mid, id))
                        strv_push(&drop, m);
        }
        for (size_t i = 0; drop[i]; i++) {
                manifest_refs(s, drop[i], cand_blobs, cand_diffs);
                json_object_del(manifests, drop[i]);
        }
        /* tags can only point at manifests in the index */
        json_t *tags = json_object_get(idx, "tags");
        void *tmp;
        json_object_foreach_safe(tags, tmp, m, v)
                if (strv_contains(drop, json_string_value(v)))
                        json_object_del(tags, m);
}

/* ROOT/mapped/HEX-MAP: the copies of an image with shifted ids that a
 * user's keep-id and nomap containers use (container create.c); the image's
 * removal (no container uses it) takes them along. */
static void trash_mapped_copies(struct berth_store *s, const char *hex, char ***trash)
{
        cleanup_free char *top = store_path(s, "mapped");
        cleanup_dir DIR *d = opendir(top);
        struct dirent *de;
        size_t n = strlen(hex);
        while (d && (de = readdir(d))) {
                if (strncmp(de->d_name, hex, n) != 0 || de->d_name[n] != '-')
                        continue;
                cleanup_free char *src = store_path(s, "mapped/%s", de->d_name);
                char *dst = store_path(s, "tmp/rmlayer-mapped-%s", de->d_name);
                if (rename(src, dst) == 0)
                        strv_push(trash, dst);
                free(dst);
        }
}

int image_remove(struct berth_store *s, const char *ref, bool force, image_in_use_fn in_use, void *userdata,
                 void (*report)(const char *line, void *userdata), berth_error_t *err)
{
        cleanup_strv char **trash = xcalloc(1, sizeof(char *));
        {
                cleanup_store_lock struct store_lock_scope lock = {};
                json_auto_t *idx = NULL;
                if (index_open(s, true, &lock, &idx, err) < 0)
                        return -1;
                cleanup_resolved struct resolved res = {};
                int r = resolve(idx, ref, &res, err);
                if (r < 0)
                        return r;
                cleanup_strv char **names = index_names_of_id(idx, res.id);
                json_t *tags = json_object_get(idx, "tags");
                const char *hex = res.id + 7;
                cleanup_free char *cid = NULL;

                if (res.tag && strv_length(names) > 1) {
                        /* one of several names: only untag */
                        json_object_del(tags, res.tag);
                        if (index_save(s, idx, err) < 0)
                                return -1;
                        cleanup_free char *f = familiar_of_full(res.tag);
                        report_line(report, userdata, "Untagged", f);
                        image_event("untag", res.id, f);
                        return 0;
                }
                if (!res.tag && !force) {
                        cleanup_strv char **repos = xcalloc(1, sizeof(char *));
                        for (size_t i = 0; names[i]; i++) {
                                cleanup_free char *repo = repo_of_full(names[i]);
                                if (!strv_contains(repos, repo))
                                        strv_push(&repos, repo);
                        }
                        if (strv_length(repos) > 1)
                                return berth_error(err, 0,
                                                   "conflict: unable to delete %.12s (must be forced) - image is "
                                                   "referenced in multiple repositories",
                                                   hex);
                }
                int used = in_use ? in_use(res.id, &cid, userdata, err) : 0;
                if (used < 0)
                        return -1;
                if (used && !force) {
                        if (res.tag)
                                return berth_error(err, 0,
                                                   "conflict: unable to remove repository reference \"%s\" (must "
                                                   "force) - container %.12s is using its referenced image %.12s",
                                                   ref, cid ? cid : "?", hex);
                        return berth_error(err, 0,
                                           "conflict: unable to delete %.12s (must be forced) - image is being used "
                                           "by container %.12s",
                                           hex, cid ? cid : "?");
                }
                /* untag everything (a tag removes just itself: it is the last one) */
                for (size_t i = 0; names[i]; i++)
                        json_object_del(tags, names[i]);
                cleanup_strv char **cand_blobs = xcalloc(1, sizeof(char *));
                cleanup_strv char **cand_diffs = xcalloc(1, sizeof(char *));
                if (!used)
                        remove_manifests_of_id(idx, res.id, &cand_blobs, &cand_diffs, s);
                if (index_save(s, idx, err) < 0)
                        return -1;
                for (size_t i = 0; names[i]; i++) {
                        cleanup_free char *f = familiar_of_full(names[i]);
                        report_line(report, userdata, "Untagged", f);
                        image_event("untag", res.id, f);
                }
                if (used)
                        return 0; /* forced: the container keeps the image (now <none>) and its layers */
                report_line(report, userdata, "Deleted", res.id);
                image_event("delete", res.id, NULL);
                collect_garbage(s, idx, cand_blobs, cand_diffs, &trash);
                trash_mapped_copies(s, hex, &trash);
        }
        /* outside the lock: the renamed layer dirs are nobody's */
        for (size_t i = 0; trash[i]; i++)
                rm_rf(trash[i], NULL);
        return 0;
}

/* ---- what the index references ------------------------------------------------------ */
/* Every manifest of the index counts, not just one per image ID; a manifest
 * or config that cannot be read contributes what could be read. */
int image_referenced_content(struct berth_store *s, char ***blobs, char ***diffs, berth_error_t *err)
{
        json_t *idx = NULL;
        if (index_load(s, &idx, err) < 0)
                return -1;
        const char *m;
        json_t *v;
        json_object_foreach(json_object_get(idx, "manifests"), m, v) {
                strv_push(blobs, m);
                const char *id = json_string_value(json_object_get(v, "id"));
                if (id)
                        strv_push(blobs, id);
                cleanup_free char *data = NULL;
                size_t len = 0;
                if (store_blob_read(s, m, &data, &len, NULL) < 0)
                        continue;
                json_t *man = json_loadb(data, len, 0, NULL);
                const char *cd = json_string_value(json_object_get(json_object_get(man, "config"), "digest"));
                if (cd)
                        strv_push(blobs, cd);
                size_t i;
                json_t *l;
                json_array_foreach(json_object_get(man, "layers"), i, l)
                        if (json_string_value(json_object_get(l, "digest")))
                                strv_push(blobs, json_string_value(json_object_get(l, "digest")));
                cleanup_free char *cdata = NULL;
                if (cd && store_blob_read(s, cd, &cdata, &len, NULL) == 0) {
                        json_t *cfg = json_loadb(cdata, len, 0, NULL);
                        json_array_foreach(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), i, l)
                                if (json_string_value(l))
                                        strv_push(diffs, json_string_value(l));
                        json_decref(cfg);
                }
                json_decref(man);
        }
        json_decref(idx);
        return 0;
}
