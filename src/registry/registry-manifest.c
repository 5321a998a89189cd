/* berth — pull's checks of what a registry sends: the media type of a
 * manifest, the image an index names for a platform, whether a manifest is
 * one berth pulls, its config digest, and the plan of its layers against the
 * config's diff_ids.  See include/berth/registry-internal.h.
 *
 * Nothing here talks to a registry: registry-pull.c fetches each document
 * (bounded, and verified against the digest that named it) and hands it
 * over, and tests/fuzz/fuzz-manifest.c feeds these functions arbitrary
 * documents in the same order.  The only I/O is the plan's look into the
 * store for the blobs and layers it has already. */
#include "config.h"

#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/layer.h"
#include "berth/registry-internal.h"
#include "berth/util.h"

/* ======================================================================
 * Platforms
 * ====================================================================== */
struct platform {
        char *os, *arch, *variant;
};

static void platform_free(struct platform *p)
{
        free(p->os);
        free(p->arch);
        free(p->variant);
}

static int platform_parse(const char *s, struct platform *p, berth_error_t *err)
{
        memset(p, 0, sizeof(*p));
        if (!s) {
                p->os = xstrdup("linux");
                p->arch = xstrdup(image_go_arch());
                return 0;
        }
        cleanup_strv char **parts = xcalloc(1, sizeof(char *));
        for (const char *c = s;;) {
                size_t n = strcspn(c, "/");
                cleanup_free char *part = xstrndup(c, n);
                strv_push(&parts, part);
                if (!c[n])
                        break;
                c += n + 1;
        }
        size_t n = strv_length(parts);
        if (n < 1 || n > 3 || !*parts[0] || (n > 1 && !*parts[1]))
                return berth_error(err, 0, "invalid platform `%s` (expected os[/arch[/variant]])", s);
        p->os = xstrdup(parts[0]);
        p->arch = xstrdup(n > 1 ? parts[1] : image_go_arch());
        p->variant = n > 2 && *parts[2] ? xstrdup(parts[2]) : NULL;
        return 0;
}

int registry_index_select(json_t *index, const char *platform, json_t **desc_out, berth_error_t *err)
{
        struct platform want;
        if (platform_parse(platform, &want, err) < 0)
                return -1;
        json_t *list = json_object_get(index, "manifests");
        json_t *pick = NULL, *only = NULL;
        size_t i, nimages = 0;
        json_t *d;
        json_array_foreach(list, i, d) {
                json_t *plat = json_object_get(d, "platform");
                const char *os = json_string_value(json_object_get(plat, "os"));
                const char *arch = json_string_value(json_object_get(plat, "architecture"));
                const char *variant = json_string_value(json_object_get(plat, "variant"));
                if (os && streq(os, "unknown"))
                        continue; /* attestations */
                nimages++;
                only = d;
                if (pick || !os || !arch || !streq(os, want.os) || !streq(arch, want.arch))
                        continue;
                if (want.variant && (!variant || !streq(variant, want.variant)))
                        continue;
                pick = d;
        }
        if (!pick && nimages == 1 && !platform &&
            !json_object_get(json_object_get(only, "platform"), "architecture"))
                pick = only; /* an index of one image that names no platform */
        if (!pick) {
                int r = berth_error(err, 0, "no matching manifest for %s/%s%s%s in the manifest list entries",
                                    want.os, want.arch, want.variant ? "/" : "", want.variant ? want.variant : "");
                platform_free(&want);
                return r;
        }
        platform_free(&want);
        if (!image_digest_valid(json_string_value(json_object_get(pick, "digest"))))
                return berth_error(err, 0, "the image index has an entry without a valid sha256 digest");
        *desc_out = pick;
        return 0;
}

/* ======================================================================
 * Manifests
 * ====================================================================== */
char *registry_manifest_media_type(const char *body, size_t len, const char *content_type)
{
        json_auto_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        if (!mt && content_type)
                mt = content_type;
        if (!mt)
                mt = json_object_get(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
        return xstrndup(mt, strcspn(mt, "; "));
}

bool registry_media_type_is_index(const char *mt)
{
        return streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST);
}

int registry_index_pick(const char *body, size_t len, const char *platform, const char *host, char **digest,
                        berth_error_t *err)
{
        json_auto_t *idx = json_loadb(body, len, 0, NULL);
        json_t *desc = NULL;
        if (!json_is_object(idx))
                return berth_error(err, 0, "invalid image index from %s", host);
        if (registry_index_select(idx, platform, &desc, err) < 0)
                return -1;
        *digest = xstrdup(json_string_value(json_object_get(desc, "digest")));
        return 0;
}

int registry_manifest_type_check(const char *mt, const struct image_ref *ref, const char *want, berth_error_t *err)
{
        if (streq(mt, MT_DOCKER_V1) || streq(mt, MT_DOCKER_V1_SIGNED))
                return berth_error(err, 0, "%s/%s:%s uses the Docker schema 1 manifest, which berth does not support",
                                   ref->domain, ref->path, want);
        if (!streq(mt, MT_OCI_MANIFEST) && !streq(mt, MT_DOCKER_MANIFEST))
                return berth_error(err, 0, "%s/%s: unsupported manifest type `%s`", ref->domain, ref->path, mt);
        return 0;
}

int registry_document_parse(const char *body, size_t len, const char *what, json_t **out, berth_error_t *err)
{
        json_error_t je;
        *out = json_loadb(body, len, 0, &je);
        if (!*out)
                return berth_error(err, 0, "invalid %s: %s", what, je.text);
        if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return berth_error(err, 0, "invalid %s: not a JSON object", what);
        }
        return 0;
}

int registry_manifest_config_digest(json_t *manifest, const struct image_ref *ref, const char **digest,
                                    berth_error_t *err)
{
        const char *cdigest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        if (!image_digest_valid(cdigest))
                return berth_error(err, 0, "invalid image manifest for %s/%s: no valid config digest", ref->domain,
                                   ref->path);
        *digest = cdigest;
        return 0;
}

/* ======================================================================
 * The plan of the layers
 * ====================================================================== */
int registry_pull_plan(struct berth_store *s, json_t *manifest, json_t *config, struct pull_layer **layers,
                       size_t *n, berth_error_t *err)
{
        *layers = NULL;
        *n = 0;
        json_t *ls = json_object_get(manifest, "layers");
        json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        if (!json_is_array(ls) || !json_is_array(diff_ids) || json_array_size(ls) != json_array_size(diff_ids))
                return berth_error(err, 0, "invalid image: the manifest lists %zu layers, the config %zu",
                                   json_array_size(ls), json_array_size(diff_ids));
        *n = json_array_size(ls);
        *layers = xcalloc(*n + 1, sizeof(**layers));
        size_t i;
        json_t *l;
        json_array_foreach(ls, i, l) {
                struct pull_layer *pl = &(*layers)[i];
                pl->digest = json_string_value(json_object_get(l, "digest"));
                pl->diff_id = json_string_value(json_array_get(diff_ids, i));
                json_t *size = json_object_get(l, "size");
                pl->size = json_integer_value(size);
                pl->line = -1;
                if (!image_digest_valid(pl->digest) || !image_digest_valid(pl->diff_id))
                        return berth_error(err, 0, "invalid image: layer %zu has no valid sha256 digest", i);
                if (!json_is_integer(size) || pl->size < 0)
                        return berth_error(err, 0, "invalid image: layer %zu (%s) has no valid size", i, pl->digest);
                pl->have_blob = store_blob_exists(s, pl->digest);
                pl->present = pl->have_blob && store_layer_exists(s, pl->diff_id);
        }
        /* the same blob twice in one image: download it once */
        for (size_t a = 0; a < *n; a++)
                for (size_t b = 0; b < a; b++)
                        if (streq((*layers)[a].digest, (*layers)[b].digest))
                                (*layers)[a].present = true;
        return 0;
}
