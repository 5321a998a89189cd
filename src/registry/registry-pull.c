/* berth — pull: resolve the reference, fetch the manifest (through the
 * mirrors for docker.io, through an index to the image for the platform) and
 * the config, download the layers the store lacks, unpack them, register
 * the image.  See include/berth/registry.h; the checks of what the registry
 * sent are registry-manifest.c's.
 *
 * The missing layers download concurrently (curl multi, PARALLEL_DOWNLOADS
 * at once) into blob writers: locked staging files under ROOT/tmp, hashed as
 * they fill and refused past the size their descriptor gives.  Only when
 * every download is complete is each one verified and committed, then
 * unpacked, so a failure anywhere leaves only whole, verified blobs behind
 * (which the next pull reuses) and no staging files. */
#include "config.h"

#include <limits.h>

#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/layer.h"
#include "berth/registry-internal.h"
#include "berth/util.h"

#define PARALLEL_DOWNLOADS 3L

static const char manifest_accept[] = "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST
                                      ", " MT_DOCKER_LIST;

void reg_out_line(const struct reg_out *o, const char *fmt, ...)
{
        if (!o->f || o->quiet)
                return;
        va_list ap;
        va_start(ap, fmt);
        vfprintf(o->f, fmt, ap);
        va_end(ap);
        fputc('\n', o->f);
        fflush(o->f);
}

/* GET a manifest (tag or digest); the body, its digest, its media type. */
static int get_manifest(struct reg_client *c, const char *path, const char *ref, char **body, size_t *len,
                        char **digest, char **media_type, berth_error_t *err)
{
        cleanup_free char *url = registry_url(c->base, path, "manifests", ref);
        char *hdr[] = { (char *) manifest_accept, NULL };
        struct http_resp r = {};
        if (reg_request(c, "GET", url, hdr, NULL, &r, err) < 0) {
                reg_resp_free(&r);
                return -1;
        }
        if (r.status != 200) {
                cleanup_free char *why = reg_resp_error_text(&r);
                int ret = r.status == 404
                                  ? berth_error(err, 0, "manifest for %s/%s%s%s not found: %s",
                                                c->host, path, image_digest_valid(ref) ? "@" : ":", ref, why)
                                  : startswith(why, "HTTP status")
                                          ? berth_error(err, 0, "GET %s: %s", url, why)
                                          : berth_error(err, 0, "GET %s: HTTP status %ld: %s", url, r.status, why);
                if (r.status == 404 && err && *err)
                        (*err)->errnum = ENOENT;
                reg_resp_free(&r);
                return ret;
        }
        *digest = digest_of_data(r.body ? r.body : "", r.len);
        /* by digest: it must be that one; by tag: it is stored under the
         * digest of what came, and a registry that names another sha256
         * one lies (another algorithm cannot be compared: it is not used) */
        const char *claimed = image_digest_valid(ref)                      ? ref
                              : r.digest && startswith(r.digest, "sha256:") ? r.digest
                                                                            : NULL;
        if (claimed && !streq(claimed, *digest)) {
                int ret = image_digest_valid(ref)
                                  ? berth_error(err, 0, "manifest %s from %s: digest mismatch: got %s", ref, c->host,
                                                *digest)
                                  : berth_error(err, 0,
                                                "manifest for %s/%s:%s: the registry's Docker-Content-Digest %s is "
                                                "not the digest of the manifest it sent (%s); refused",
                                                c->host, path, ref, r.digest, *digest);
                free(*digest);
                *digest = NULL;
                reg_resp_free(&r);
                return ret;
        }
        *media_type = registry_manifest_media_type(r.body, r.len, r.content_type);
        *len = r.len;
        *body = steal_pointer(&r.body);
        if (!*body)
                *body = xstrdup("");
        reg_resp_free(&r);
        return 0;
}

/* GET a small blob (the config) into memory, verified. */
static int get_small_blob(struct reg_client *c, const char *path, const char *digest, char **body, size_t *len,
                          berth_error_t *err)
{
        cleanup_free char *url = registry_url(c->base, path, "blobs", digest);
        struct http_resp r = {};
        if (reg_request(c, "GET", url, NULL, NULL, &r, err) < 0) {
                reg_resp_free(&r);
                return -1;
        }
        if (r.status != 200) {
                cleanup_free char *why = reg_resp_error_text(&r);
                reg_resp_free(&r);
                return berth_error(err, 0, "blob %s of %s/%s: %s", digest, c->host, path, why);
        }
        cleanup_free char *got = digest_of_data(r.body ? r.body : "", r.len);
        if (!streq(got, digest)) {
                reg_resp_free(&r);
                return berth_error(err, 0, "image config %s from %s: digest mismatch: expected %s, got %s", digest,
                                   c->host, digest, got);
        }
        *len = r.len;
        *body = r.body ? steal_pointer(&r.body) : xstrdup("");
        reg_resp_free(&r);
        return 0;
}

struct pull {
        struct berth_store *s;
        struct reg_client *c;
        const char *path;
        struct pull_layer *layers;
        size_t n;
        struct reg_out out;
        const struct registry_pull_opts *o;
        int nlines;
        long long last_tick, last_draw;
};

static void layer_status(struct pull *p, struct pull_layer *l, const char *status)
{
        if (!p->out.f || p->out.quiet)
                return;
        if (!p->out.tty || l->line < 0) {
                reg_out_line(&p->out, "%.12s: %s", l->digest + 7, status);
                return;
        }
        /* rewrite the layer's own line in the block above the cursor */
        int up = p->nlines - l->line;
        fprintf(p->out.f, "\033[%dA\r\033[2K%.12s: %s\033[%dB\r", up, l->digest + 7, status, up);
        fflush(p->out.f);
}

static void layer_bar(struct pull *p, struct pull_layer *l)
{
        if (!p->out.tty || p->out.quiet || !p->out.f)
                return;
        cleanup_free char *bar = format_progress_bar(l->r.done, l->size > 0 ? l->size : 0);
        cleanup_free char *s = xasprintf("Downloading %s", bar);
        layer_status(p, l, s);
}

static void pull_layers_free(struct pull *p)
{
        for (size_t i = 0; i < p->n; i++) {
                struct pull_layer *l = &p->layers[i];
                store_blob_writer_free(l->w);
                reg_resp_free(&l->r);
                if (l->h)
                        sym_curl_easy_cleanup(l->h);
                sym_curl_slist_free_all(l->headers);
                free(l->url);
        }
        free(p->layers);
        p->layers = NULL;
        p->n = 0;
}

static int pull_tick(struct pull *p, bool force)
{
        long long now = now_ns();
        if (p->out.tty && now - p->last_draw > 200000000LL) {
                p->last_draw = now;
                for (size_t i = 0; i < p->n; i++)
                        if (p->layers[i].started && !p->layers[i].finished)
                                layer_bar(p, &p->layers[i]);
        }
        if (!p->o || !p->o->tick || (!force && now - p->last_tick < 1000000000LL))
                return 0;
        p->last_tick = now;
        /* sizes come from the registry's manifest: saturate, never overflow */
        long long done = 0, total = 0;
        for (size_t i = 0; i < p->n; i++) {
                long long d = p->layers[i].present ? p->layers[i].size : p->layers[i].r.done;
                if (__builtin_add_overflow(done, d, &done))
                        done = LLONG_MAX;
                if (__builtin_add_overflow(total, p->layers[i].size, &total))
                        total = LLONG_MAX;
        }
        return p->o->tick(done, total, p->o->userdata);
}

static int layer_finished(struct pull *p, struct pull_layer *l, CURLcode code, berth_error_t *err)
{
        l->finished = true;
        if (l->r.sink_err) {
                *err = steal_pointer(&l->r.sink_err);
                return -1;
        }
        if (l->r.too_big) {
                long status = 0;
                sym_curl_easy_getinfo(l->h, CURLINFO_RESPONSE_CODE, &status);
                return berth_error(err, 0, "layer %s from %s: an answer (HTTP status %ld) larger than %d bytes; refused",
                                   l->digest, p->c->host, status, REGISTRY_MAX_ERROR_BODY);
        }
        if (l->r.too_long)
                return berth_error(err, 0,
                                   "layer %s from %s: the registry sent more than the %lld bytes the manifest gives "
                                   "for it; refused",
                                   l->digest, p->c->host, l->size);
        if (code != CURLE_OK) {
                const char *why = l->errbuf[0] ? l->errbuf : sym_curl_easy_strerror(code);
                return berth_error(err, 0, "layer %s: download from %s failed: %s", l->digest, p->c->host, why);
        }
        long status = 0;
        sym_curl_easy_getinfo(l->h, CURLINFO_RESPONSE_CODE, &status);
        l->r.status = status;
        if (status != 200) {
                cleanup_free char *why = reg_resp_error_text(&l->r);
                if (status == 401)
                        return berth_error(err, 0, "%s: unauthorized for layer %s; run `berth login %s`", p->c->host,
                                           l->digest, p->c->host);
                return berth_error(err, 0, "layer %s: %s", l->digest, why);
        }
        if (l->r.done != l->size)
                return berth_error(err, 0,
                                   "layer %s from %s: the registry sent %lld bytes, the manifest gives %lld; refused",
                                   l->digest, p->c->host, l->r.done, l->size);
        layer_status(p, l, "Download complete");
        return 0;
}

static void curl_multi_freep(CURLM **m)
{
        if (*m)
                sym_curl_multi_cleanup(*m);
}

/* Download every missing layer, PARALLEL_DOWNLOADS at a time, into blob
 * writers.  On failure the writers are freed by the caller (staging gone). */
static int pull_download(struct pull *p, berth_error_t *err)
{
        __attribute__((cleanup(curl_multi_freep))) CURLM *m = sym_curl_multi_init();
        if (!m)
                abort();
        sym_curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, PARALLEL_DOWNLOADS);
        sym_curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, PARALLEL_DOWNLOADS);
        size_t active = 0;
        for (size_t i = 0; i < p->n; i++) {
                struct pull_layer *l = &p->layers[i];
                if (l->present || l->have_blob)
                        continue;
                if (store_blob_writer_open(p->s, &l->w, err) < 0)
                        return -1;
                l->h = sym_curl_easy_init();
                if (!l->h)
                        abort();
                l->url = registry_url(p->c->base, p->path, "blobs", l->digest);
                l->headers = reg_headers_with_auth(p->c, l->url, NULL);
                l->r.sink = l->w;
                l->r.expect = l->size;
                reg_easy_setup(p->c, l->h, l->url, l->headers, &l->r);
                sym_curl_easy_setopt(l->h, CURLOPT_ERRORBUFFER, l->errbuf);
                sym_curl_easy_setopt(l->h, CURLOPT_FOLLOWLOCATION, 1L);
                sym_curl_easy_setopt(l->h, CURLOPT_PRIVATE, l);
                sym_curl_multi_add_handle(m, l->h);
                active++;
        }
        int r = 0;
        while (active > 0 && r == 0) {
                int running = 0;
                CURLMcode mc = sym_curl_multi_perform(m, &running);
                if (mc != CURLM_OK)
                        return berth_error(err, 0, "download: %s", sym_curl_multi_strerror(mc));
                CURLMsg *msg;
                int left;
                while (r == 0 && (msg = sym_curl_multi_info_read(m, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        struct pull_layer *l = NULL;
                        sym_curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &l);
                        sym_curl_multi_remove_handle(m, l->h);
                        active--;
                        r = layer_finished(p, l, msg->data.result, err);
                }
                for (size_t i = 0; r == 0 && i < p->n; i++) {
                        struct pull_layer *l = &p->layers[i];
                        if (!l->started && !l->present && l->r.done > 0) {
                                l->started = true;
                                if (!p->out.tty)
                                        layer_status(p, l, "Downloading");
                        }
                }
                if (r == 0 && pull_tick(p, false) != 0)
                        r = berth_error(err, 0, "pull aborted");
                if (r == 0 && active > 0)
                        sym_curl_multi_poll(m, NULL, 0, 200, NULL);
        }
        for (size_t i = 0; i < p->n; i++)
                if (p->layers[i].h && !p->layers[i].finished)
                        sym_curl_multi_remove_handle(m, p->layers[i].h);
        return r;
}

/* Verify and commit each downloaded blob, then unpack the layers in order. */
static int pull_unpack(struct pull *p, berth_error_t *err)
{
        for (size_t i = 0; i < p->n; i++) {
                struct pull_layer *l = &p->layers[i];
                if (l->present)
                        continue;
                if (l->w && store_blob_writer_commit(l->w, l->digest, NULL, err) < 0)
                        return berth_error_wrap(err, "layer %s from %s", l->digest, p->c->host);
                cleanup_free char *path = NULL;
                if (store_blob_path(p->s, l->digest, &path, err) < 0 ||
                    store_layer_unpack_expect(p->s, path, l->diff_id, NULL, NULL, err) < 0)
                        return berth_error_wrap(err, "layer %s", l->digest);
                layer_status(p, l, "Pull complete");
                if (pull_tick(p, true) != 0)
                        return berth_error(err, 0, "pull aborted");
        }
        return 0;
}

static void pull_announce(struct pull *p)
{
        int line = 0;
        for (size_t i = 0; i < p->n; i++) {
                struct pull_layer *l = &p->layers[i];
                bool dup = false;
                for (size_t k = 0; k < i; k++)
                        dup = dup || streq(p->layers[k].digest, l->digest);
                if (dup)
                        continue;
                reg_out_line(&p->out, "%.12s: %s", l->digest + 7, l->present ? "Already exists" : "Pulling fs layer");
                if (!l->present)
                        l->line = line;
                line++;
        }
        p->nlines = line;
}

/* Endpoints for host: for docker.io the mirrors first. */
static char **pull_endpoints(const struct registry_config *cfg, const char *host)
{
        char **v = xcalloc(1, sizeof(char *));
        if (streq(host, DOCKER_IO))
                for (size_t i = 0; cfg->mirrors && cfg->mirrors[i]; i++)
                        strv_push(&v, cfg->mirrors[i]);
        strv_push(&v, ""); /* "": the registry itself */
        return v;
}

/* Resolve the reference to an image manifest on some endpoint.  *top_digest
 * is what the reference named: the index's digest when it named an index
 * (Docker prints that one as "Digest:"), else the manifest's. */
static int pull_resolve(const struct registry_config *cfg, const struct image_ref *ref, const char *platform,
                        struct reg_client **client, char **manifest, size_t *mlen, char **mdigest,
                        char **top_digest, berth_error_t *err)
{
        cleanup_strv char **endpoints = pull_endpoints(cfg, ref->domain);
        cleanup_free char *scope = xasprintf("repository:%s:pull", ref->path);
        const char *want = ref->digest ? ref->digest : ref->tag;
        for (size_t i = 0; endpoints[i]; i++) {
                bool mirror = endpoints[i][0] != '\0';
                berth_error_t e = NULL;
                cleanup_client struct reg_client *c = NULL;
                if (reg_client_open(cfg, ref->domain, mirror ? endpoints[i] : NULL, scope, true, &c, err) < 0)
                        return -1;
                cleanup_free char *body = NULL, *digest = NULL, *mt = NULL, *top = NULL;
                size_t len = 0;
                int r = get_manifest(c, ref->path, want, &body, &len, &digest, &mt, mirror ? &e : err);
                if (r == 0)
                        top = xstrdup(digest);
                if (r == 0 && registry_media_type_is_index(mt)) {
                        cleanup_free char *d = NULL;
                        r = registry_index_pick(body, len, platform, c->host, &d, mirror ? &e : err);
                        if (r == 0) {
                                free(body);
                                free(digest);
                                free(mt);
                                body = digest = mt = NULL;
                                r = get_manifest(c, ref->path, d, &body, &len, &digest, &mt, mirror ? &e : err);
                        }
                }
                if (r == 0)
                        r = registry_manifest_type_check(mt, ref, want, mirror ? &e : err);
                berth_error_free(&e); /* a mirror that fails: try the next endpoint */
                if (r < 0 && !mirror)
                        return -1;
                if (r < 0)
                        continue;
                *client = steal_pointer(&c);
                *manifest = steal_pointer(&body);
                *mlen = len;
                *mdigest = steal_pointer(&digest);
                *top_digest = steal_pointer(&top);
                return 0;
        }
        return berth_error(err, 0, "internal error: no registry endpoint");
}

/* Did the user name a tag or digest?  ("busybox" -> no: "Using default tag") */
static bool ref_has_tag(const char *s)
{
        const char *slash = strrchr(s, '/');
        return strchr(slash ? slash : s, ':') || strchr(s, '@');
}

int registry_ref_resolve(const struct registry_config *cfg, const char *s, struct image_ref *ref,
                         berth_error_t *err)
{
        /* a short name ("busybox", "user/app") comes from default-registry */
        cleanup_free char *alt = image_ref_with_default_registry(s, cfg->default_registry);
        return image_ref_parse(alt ? alt : s, ref, err);
}

int registry_manifest_digest(const char *refstr, char **digest_out, berth_error_t *err)
{
        struct registry_config cfg;
        if (registry_engine_config_load(&cfg, err) < 0)
                return -1;
        struct image_ref ref = {};
        cleanup_client struct reg_client *c = NULL;
        cleanup_free char *manifest = NULL, *mdigest = NULL, *top = NULL;
        size_t mlen = 0;
        int r = registry_ref_resolve(&cfg, refstr, &ref, err);
        if (r == 0)
                r = pull_resolve(&cfg, &ref, NULL, &c, &manifest, &mlen, &mdigest, &top, err);
        if (r == 0)
                *digest_out = steal_pointer(&mdigest);
        image_ref_free(&ref);
        registry_config_free(&cfg);
        return r;
}

char *registry_default_registry(void)
{
        struct registry_config cfg = {};
        berth_error_t e = NULL;
        char *host = NULL;
        if (registry_engine_config_load(&cfg, &e) == 0 && cfg.default_registry &&
            !streq(cfg.default_registry, DOCKER_IO))
                host = steal_pointer(&cfg.default_registry);
        berth_error_free(&e);
        registry_config_free(&cfg);
        return host;
}

static int pull_image(struct pull *p, const struct image_ref *ref, json_t *manifest, char **config_id,
                      berth_error_t *err)
{
        const char *cdigest = NULL;
        if (registry_manifest_config_digest(manifest, ref, &cdigest, err) < 0)
                return -1;
        cleanup_free char *cbody = NULL;
        size_t clen = 0;
        if (store_blob_exists(p->s, cdigest)) {
                if (store_blob_read(p->s, cdigest, &cbody, &clen, err) < 0)
                        return -1;
        } else if (get_small_blob(p->c, ref->path, cdigest, &cbody, &clen, err) < 0)
                return -1;
        json_auto_t *config = NULL;
        if (registry_document_parse(cbody, clen, "image config", &config, err) < 0 ||
            registry_pull_plan(p->s, manifest, config, &p->layers, &p->n, err) < 0)
                return -1;
        pull_announce(p);
        if (pull_download(p, err) < 0 || pull_unpack(p, err) < 0)
                return -1;
        if (store_blob_put_data(p->s, cbody, clen, NULL, err) < 0)
                return -1;
        *config_id = xstrdup(cdigest);
        return 0;
}

int registry_pull(struct berth_store *s, const char *refstr, const struct registry_pull_opts *o, char **image_id_out,
                  berth_error_t *err)
{
        struct registry_config cfg;
        if (registry_engine_config_load(&cfg, err) < 0)
                return -1;
        struct image_ref ref = {};
        int r = registry_ref_resolve(&cfg, refstr, &ref, err);
        struct pull p = { .s = s, .o = o };
        p.out.f = o ? o->progress : NULL;
        p.out.quiet = o && o->quiet;
        p.out.tty = p.out.f && isatty(fileno(p.out.f));
        cleanup_free char *manifest = NULL, *mdigest = NULL, *top_digest = NULL, *id = NULL;
        cleanup_free char *full = NULL, *familiar = NULL;
        size_t mlen = 0;
        if (r == 0) {
                full = image_ref_full(&ref);
                familiar = image_ref_familiar(&ref);
                if (!ref_has_tag(refstr))
                        reg_out_line(&p.out, "Using default tag: %s", ref.tag);
                r = pull_resolve(&cfg, &ref, o ? o->platform : NULL, &p.c, &manifest, &mlen, &mdigest, &top_digest,
                                 err);
        }
        json_auto_t *mj = NULL;
        if (r == 0)
                r = registry_document_parse(manifest, mlen, "image manifest", &mj, err);
        bool up_to_date = false;
        if (r == 0) {
                struct berth_image *old = NULL;
                if (image_lookup(s, full, &old, NULL) == 0) {
                        up_to_date = streq(old->manifest_digest, mdigest);
                        image_free(old);
                }
                reg_out_line(&p.out, "%s: Pulling from %s", ref.digest ? ref.digest : ref.tag, ref.path);
                p.path = ref.path;
                r = pull_image(&p, &ref, mj, &id, err);
        }
        if (r == 0)
                r = store_blob_put_data(s, manifest, mlen, NULL, err);
        if (r == 0) {
                char *names[] = { ref.digest ? NULL : full, NULL };
                r = image_add(s, mdigest, names, NULL, err);
        }
        if (r == 0) {
                reg_out_line(&p.out, "Digest: %s", top_digest);
                reg_out_line(&p.out, "Status: %s for %s", up_to_date ? "Image is up to date" : "Downloaded newer image",
                         familiar);
                if (p.out.f) {
                        fprintf(p.out.f, "%s\n", full);
                        fflush(p.out.f);
                }
                image_event("pull", familiar, familiar);
                if (image_id_out)
                        *image_id_out = steal_pointer(&id);
        }
        pull_layers_free(&p);
        reg_client_free(p.c);
        image_ref_free(&ref);
        registry_config_free(&cfg);
        return r;
}
