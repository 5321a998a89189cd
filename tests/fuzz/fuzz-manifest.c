/* Fuzz target: the documents a registry sends to `berth pull`, through
 * pull's own checks (registry-manifest.c) in pull's order: the manifest's
 * media type, an index's choice for the platform, the manifest type, the
 * manifest and its config digest, the config, and the plan of the layers
 * against the store.
 *
 * Input: one selector byte, then the documents as the registry would send
 * them, separated by NUL bytes (a document with a NUL in it is no JSON):
 * the manifest, or an index and then the manifest it names; then the
 * config.  The selector picks the Content-Type the documents come with (bits
 * 0-2) and the platform asked for (bits 3-4); the seeds in
 * tests/fuzz/corpus/manifest/ start with a letter: '@' none and the default
 * platform, 'A'-'G' a Content-Type, 'H' linux/amd64, 'P' linux/arm64/v8,
 * 'X' linux/arm/v7.  What only the network decides is left out: the digest
 * of each document is taken to be the one that named it (pull refuses any
 * other before these checks see it).
 *
 * The store is opened once in a scratch directory (removed at exit) and
 * holds the blob and the layer FUZZ_HAVE names, so the plan's "Already
 * exists" paths are reached too; the plan only reads it. */
#include "config.h"

#include "berth/blob.h"
#include "berth/image-ref.h"
#include "berth/registry-internal.h"
#include "fuzz.h"

/* sha256("berth fuzz-manifest\n"): in the store as a blob, and as a layer */
#define FUZZ_HAVE "sha256:8c17495ef1c89f88aa6b22778cb5d50185ae27365e962e8312cc51d55b4450e1"

static const char *const content_types[8] = {
        NULL,
        MT_OCI_MANIFEST,
        MT_OCI_INDEX,
        MT_DOCKER_MANIFEST,
        MT_DOCKER_LIST,
        MT_DOCKER_V1_SIGNED,
        "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
        "text/html",
};
static const char *const platforms[4] = { NULL, "linux/amd64", "linux/arm64/v8", "linux/arm/v7" };

static char *scratch;
static struct berth_store store;

static void scratch_remove(void)
{
        store_close(&store);
        (void) rm_rf(scratch, NULL);
        free(scratch);
}

static struct berth_store *fuzz_store(void)
{
        if (scratch)
                return &store;
        scratch = xstrdup("/tmp/berth-fuzz-manifest-XXXXXX");
        if (!mkdtemp(scratch))
                abort();
        atexit(scratch_remove);
        cleanup_free char *root = xasprintf("%s/root", scratch);
        cleanup_free char *run = xasprintf("%s/run", scratch);
        cleanup_error berth_error_t err = NULL;
        static const char have[] = "berth fuzz-manifest\n";
        cleanup_free char *digest = NULL;
        if (store_open(&store, root, run, &err) < 0 ||
            store_blob_put_data(&store, have, sizeof(have) - 1, &digest, &err) < 0) {
                fprintf(stderr, "fuzz-manifest: %s\n", err->msg);
                abort();
        }
        if (!streq(digest, FUZZ_HAVE))
                abort(); /* the seeds name this digest */
        /* a layer is in the store when its link is (store_layer_exists) */
        cleanup_free char *dir = store_path(&store, "layers/%s", &FUZZ_HAVE[7]);
        cleanup_free char *link = xasprintf("%s/link", dir);
        if (mkdir_p(dir, 0700, &err) < 0 || write_file_atomic(link, "fuzzmanifest0000", 16, 0600, &err) < 0) {
                fprintf(stderr, "fuzz-manifest: %s\n", err->msg);
                abort();
        }
        return &store;
}

/* The next document: up to the next NUL byte (or the end). */
static bool next_doc(const uint8_t **data, size_t *size, const char **doc, size_t *len)
{
        if (!*data)
                return false;
        const uint8_t *nul = memchr(*data, '\0', *size);
        *doc = (const char *) *data;
        *len = nul ? (size_t) (nul - *data) : *size;
        if (nul) {
                *size -= *len + 1;
                *data = nul + 1;
        } else
                *data = NULL;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        struct berth_store *s = fuzz_store();
        const char *content_type = content_types[data[0] & 7];
        const char *platform = platforms[(data[0] >> 3) & 3];
        data++;
        size--;
        cleanup_error berth_error_t err = NULL;
        struct image_ref ref = { 0 };
        if (image_ref_parse("registry.example.com:5000/team/app:1.0", &ref, &err) < 0)
                abort();
        const char *doc = NULL;
        size_t len = 0;
        cleanup_free char *mt = NULL, *picked = NULL;
        json_auto_t *manifest = NULL, *config = NULL;
        struct pull_layer *layers = NULL;
        size_t n = 0;
        const char *cdigest = NULL;
        if (!next_doc(&data, &size, &doc, &len))
                goto out;
        mt = registry_manifest_media_type(doc, len, content_type);
        if (registry_media_type_is_index(mt)) {
                if (registry_index_pick(doc, len, platform, ref.domain, &picked, &err) < 0)
                        goto out;
                if (!image_digest_valid(picked))
                        abort(); /* pull GETs the manifest by this digest */
                if (!next_doc(&data, &size, &doc, &len))
                        goto out;
                free(mt);
                mt = registry_manifest_media_type(doc, len, content_type);
        }
        if (registry_manifest_type_check(mt, &ref, ref.tag, &err) < 0 ||
            registry_document_parse(doc, len, "image manifest", &manifest, &err) < 0 ||
            registry_manifest_config_digest(manifest, &ref, &cdigest, &err) < 0)
                goto out;
        if (!image_digest_valid(cdigest))
                abort(); /* pull GETs the config by this digest */
        if (!next_doc(&data, &size, &doc, &len) ||
            registry_document_parse(doc, len, "image config", &config, &err) < 0)
                goto out;
        if (registry_pull_plan(s, manifest, config, &layers, &n, &err) == 0) {
                /* what pull goes on with: every layer named and sized; one
                 * it skips has its blob, or repeats an earlier layer's */
                if (n != json_array_size(json_object_get(manifest, "layers")))
                        abort();
                for (size_t i = 0; i < n; i++)
                        if (!image_digest_valid(layers[i].digest) || !image_digest_valid(layers[i].diff_id) ||
                            layers[i].size < 0 || (i == 0 && layers[i].present && !layers[i].have_blob))
                                abort();
        }
out:
        free(layers);
        image_ref_free(&ref);
        return 0;
}
