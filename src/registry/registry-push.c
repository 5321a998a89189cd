/* berth — push: each blob of the image the registry lacks (HEAD first),
 * linked from another repository of the registry the image is tagged in
 * when the registry can (cross-repository mount), else uploaded (POST, then
 * one monolithic PUT); then the manifest.  See include/berth/registry.h. */
#include "config.h"

#include <sys/stat.h>

#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/registry-internal.h"
#include "berth/util.h"

static char *upload_url_with_digest(const char *base, const char *location, const char *digest)
{
        cleanup_free char *param = xasprintf("digest=%s", digest);
        /* digests hold only "sha256:" + hex: ':' is allowed in a query */
        return registry_upload_url(base, location, param);
}

/* Ask the registry to link DIGEST from the repository FROM into PATH
 * (cross-repository blob mount) instead of sending it.  1: mounted; 0: not
 * (*location: the upload the registry opened instead, if it did).  Never an
 * error: a registry that cannot mount gets the blob uploaded. */
static int mount_blob(struct reg_client *c, const char *path, const char *digest, const char *from, char **location)
{
        cleanup_free char *url = xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, path, digest, from);
        cleanup_error berth_error_t ignored = NULL;
        struct http_resp r = {};
        int mounted = 0;
        if (reg_request(c, "POST", url, NULL, NULL, &r, &ignored) == 0) {
                if (r.status == 201)
                        mounted = 1;
                else if (r.status == 202 && r.location && !*location)
                        *location = xstrdup(r.location);
        }
        reg_resp_free(&r);
        return mounted;
}

/* Upload one blob unless the registry has it.  *pushed: it was sent;
 * *mounted_from: the repository of MOUNT_FROM (other repositories of this
 * registry the image is tagged in) the registry linked it from instead. */
static int push_blob(struct berth_store *s, struct reg_client *c, const char *path, const char *digest,
                     char *const *mount_from, bool *pushed, const char **mounted_from, berth_error_t *err)
{
        *pushed = false;
        if (mounted_from)
                *mounted_from = NULL;
        cleanup_free char *url = registry_url(c->base, path, "blobs", digest);
        struct http_resp r = {};
        if (reg_request(c, "HEAD", url, NULL, NULL, &r, err) < 0) {
                reg_resp_free(&r);
                return -1;
        }
        long status = r.status;
        reg_resp_free(&r);
        if (status == 200)
                return 0;
        cleanup_free char *location = NULL;
        for (size_t i = 0; mount_from && mount_from[i] && !location; i++) {
                if (mount_blob(c, path, digest, mount_from[i], &location)) {
                        if (mounted_from)
                                *mounted_from = mount_from[i];
                        return 0;
                }
        }
        cleanup_free char *bpath = NULL;
        if (store_blob_path(s, digest, &bpath, err) < 0)
                return -1;
        cleanup_fclose FILE *f = fopen(bpath, "re");
        struct stat st;
        if (!f || fstat(fileno(f), &st) < 0)
                return berth_error(err, errno, "open `%s`", bpath);
        if (location) {
                /* the registry opened an upload when it could not mount */
                r.status = 202;
                r.location = steal_pointer(&location);
        } else {
                cleanup_free char *start = registry_url(c->base, path, "blobs", "uploads/");
                if (reg_request(c, "POST", start, NULL, NULL, &r, err) < 0) {
                        reg_resp_free(&r);
                        return -1;
                }
        }
        if (r.status != 202 || !r.location) {
                cleanup_free char *why = reg_resp_error_text(&r);
                reg_resp_free(&r);
                return berth_error(err, 0, "%s: starting the upload of %s failed: %s", c->host, digest, why);
        }
        cleanup_free char *put = upload_url_with_digest(c->base, r.location, digest);
        reg_resp_free(&r);
        struct http_upload up = { .f = f, .size = st.st_size };
        char *hdr[] = { "Content-Type: application/octet-stream", NULL };
        if (reg_request(c, "PUT", put, hdr, &up, &r, err) < 0) {
                reg_resp_free(&r);
                return -1;
        }
        if (r.status != 201) {
                cleanup_free char *why = reg_resp_error_text(&r);
                reg_resp_free(&r);
                return berth_error(err, 0, "%s: uploading %s failed: %s", c->host, digest, why);
        }
        reg_resp_free(&r);
        *pushed = true;
        return 0;
}

static int push_manifest(struct reg_client *c, const char *path, const char *tag, const char *body, size_t len,
                         const char *media_type, berth_error_t *err)
{
        cleanup_free char *url = registry_url(c->base, path, "manifests", tag);
        cleanup_free char *ct = xasprintf("Content-Type: %s", media_type);
        char *hdr[] = { ct, NULL };
        struct http_upload up = { .data = body, .len = len };
        struct http_resp r = {};
        if (reg_request(c, "PUT", url, hdr, &up, &r, err) < 0) {
                reg_resp_free(&r);
                return -1;
        }
        if (r.status != 201 && r.status != 200) {
                cleanup_free char *why = reg_resp_error_text(&r);
                reg_resp_free(&r);
                return berth_error(err, 0, "%s: uploading the manifest failed: %s", c->host, why);
        }
        reg_resp_free(&r);
        return 0;
}

int registry_push(struct berth_store *s, const char *image, const char *dest, const struct registry_push_opts *o,
                  char **digest_out, berth_error_t *err)
{
        struct reg_out out = { .f = o ? o->progress : NULL, .quiet = o && o->quiet };
        cleanup_image struct berth_image *img = NULL;
        if (image_lookup(s, image, &img, err) < 0)
                return -1;
        struct registry_config cfg;
        if (registry_engine_config_load(&cfg, err) < 0)
                return -1;
        struct image_ref ref = {};
        int r = registry_ref_resolve(&cfg, dest ? dest : image, &ref, err);
        if (r == 0 && ref.digest && !ref.tag)
                r = berth_error(err, 0, "cannot push to a digest reference; name a tag");
        cleanup_free char *mbody = NULL;
        size_t mlen = 0;
        json_auto_t *mj = NULL;
        if (r == 0)
                r = store_blob_read(s, img->manifest_digest, &mbody, &mlen, err);
        if (r == 0)
                r = registry_document_parse(mbody, mlen, "image manifest", &mj, err);
        cleanup_client struct reg_client *c = NULL;
        if (r == 0) {
                cleanup_free char *scope = xasprintf("repository:%s:pull,push", ref.path);
                r = reg_client_open(&cfg, ref.domain, NULL, scope, true, &c, err);
        }
        if (r == 0) {
                cleanup_free char *repo = xasprintf("%s/%s", ref.domain, ref.path);
                reg_out_line(&out, "The push refers to repository [%s]", repo);
                json_t *layers = json_object_get(mj, "layers");
                size_t nl = json_array_size(layers);
                /* Docker lists the top layer first */
                for (size_t i = nl; i-- > 0;)
                        reg_out_line(&out, "%.12s: Preparing",
                                 json_string_value(json_object_get(json_array_get(layers, i), "digest")) + 7);
                /* Repositories of this registry the image is tagged in
                 * hold its layers already: the registry can link them. */
                cleanup_strv char **mount_from = NULL;
                for (size_t k = 0; img->tags && img->tags[k]; k++) {
                        struct image_ref t = {};
                        if (image_ref_parse(img->tags[k], &t, NULL) == 0 && streq(t.domain, ref.domain) &&
                            !streq(t.path, ref.path) && !strv_contains(mount_from, t.path))
                                strv_push(&mount_from, t.path);
                        image_ref_free(&t);
                }
                for (size_t i = nl; r == 0 && i-- > 0;) {
                        const char *d = json_string_value(json_object_get(json_array_get(layers, i), "digest"));
                        bool pushed = false;
                        const char *from = NULL;
                        r = push_blob(s, c, ref.path, d, mount_from, &pushed, &from, err);
                        if (r == 0 && from)
                                reg_out_line(&out, "%.12s: Mounted from %s", d + 7, from);
                        else if (r == 0)
                                reg_out_line(&out, "%.12s: %s", d + 7, pushed ? "Pushed" : "Layer already exists");
                }
                bool pushed;
                if (r == 0)
                        r = push_blob(s, c, ref.path,
                                      json_string_value(json_object_get(json_object_get(mj, "config"), "digest")),
                                      mount_from, &pushed, NULL, err);
        }
        if (r == 0) {
                const char *mt = json_string_value(json_object_get(mj, "mediaType"));
                r = push_manifest(c, ref.path, ref.tag, mbody, mlen, mt ? mt : MT_OCI_MANIFEST, err);
        }
        if (r == 0) {
                reg_out_line(&out, "%s: digest: %s size: %zu", ref.tag, img->manifest_digest, mlen);
                cleanup_free char *f = image_ref_familiar(&ref);
                image_event("push", f, f);
                if (digest_out)
                        *digest_out = xstrdup(img->manifest_digest);
        }
        image_ref_free(&ref);
        registry_config_free(&cfg);
        return r;
}
