/* berth — what the files of src/registry/ share, and the pure building
 * blocks the unit tests (tests/unit/test-registry.c) and fuzz targets
 * (tests/fuzz/fuzz-registry.c, fuzz-manifest.c) drive.  Only src/registry/
 * and those tests include it; the other layers use berth/registry.h.
 *
 *   registry-transport.c   the client of one registry: base URL (https, or
 *                          http for insecure-registries), certs.d, stored
 *                          credentials; one HTTP exchange with bounded
 *                          bodies and redirects; a 401's WWW-Authenticate
 *                          answered (Basic, or a Bearer token from the
 *                          realm) and the request sent once more; URLs
 *   registry-manifest.c    pull's checks of what a registry sends: media
 *                          types, the platform an index gives, the config
 *                          digest, the plan of the layers (no I/O but the
 *                          store lookups of the plan)
 *   registry-pull.c        pull: manifests through mirrors, the config, the
 *                          layers downloaded at once, verified, unpacked;
 *                          Docker's progress lines
 *   registry-push.c        push: blobs (HEAD, cross-repository mount,
 *                          upload), then the manifest
 *   registry-login.c       login / logout
 *   registry-search.c      search: the HTTP side and the pure parts
 *   registry-auth.c        engine configuration, challenges, auth files,
 *                          base64 (pure)
 *   registry-credhelper.c  Docker's credential helpers */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "berth/blob.h"
#include "berth/error.h"
#include "berth/image-ref.h"
#include "berth/registry-curl.h"
#include "berth/registry.h"

/* The engine config and the certificates dir of whom berth runs for:
 * root's /etc/berth/config.json and /etc/berth/certs.d, a user's in
 * rootless_config_dir() (~/.config/berth). */
char *registry_config_path(void);
char *registry_certs_dir(void);
#define DOCKER_IO "docker.io"
#define REGISTRY_MAX_ERROR_BODY (64 << 10) /* an error answer's body */

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* ======================================================================
 * Engine configuration, challenges, auth files (registry-auth.c)
 * ====================================================================== */

/* Engine configuration (/etc/berth/config.json). */
struct registry_config {
        char **insecure;        /* "host[:port]" entries */
        char **mirrors;         /* URLs, for docker.io */
        char *default_registry; /* NULL: docker.io */
        long stall_timeout;     /* "registry-stall-timeout": seconds without a byte
                                 * before a transfer fails (REGISTRY_STALL_TIMEOUT) */
};
#define REGISTRY_STALL_TIMEOUT 60L
/* A missing file is an empty configuration. */
int registry_config_load(const char *path, struct registry_config *c, berth_error_t *err);
void registry_config_free(struct registry_config *c);
/* host[:port] is listed in insecure-registries (as "host:port", or as "host"
 * for any port, or with an http:// prefix). */
bool registry_config_insecure(const struct registry_config *c, const char *host);

/* The registry host a server argument names: "https://Host:5000/v1/" ->
 * "host:5000"; "docker.io" for NULL, index.docker.io and
 * registry-1.docker.io. */
char *registry_server_host(const char *server);

/* A WWW-Authenticate challenge: `Bearer realm="...",service="...",scope="..."`
 * or `Basic realm="..."`.  scheme is lower-case. */
struct registry_challenge {
        char *scheme;
        char *realm;
        char *service;
        char *scope;
        char *error; /* error="insufficient_scope"... or NULL */
};
int registry_challenge_parse(const char *header, struct registry_challenge *out, berth_error_t *err);
void registry_challenge_free(struct registry_challenge *c);

/* Credentials in an auth file of Docker's format ({"auths": {"host":
 * {"auth": "base64(user:password)"}}}).  Keys match with or without a
 * scheme and path ("https://index.docker.io/v1/" is docker.io).
 * registry_auth_file_get returns 1 and sets *user and *password when found, 0
 * when not (a missing file too), negative on a broken file. */
int registry_auth_file_get(const char *path, const char *host, char **user, char **password, berth_error_t *err);
/* Set (password != NULL), mark as kept by a credential helper ({}: user
 * != NULL, password == NULL) or remove (user == NULL) the entry for host,
 * keeping every other key of the file; written atomically with mode 0600 in
 * a directory made 0700 (created so, or its mode fixed).  *existed (may be
 * NULL): there was one. */
int registry_auth_file_set(const char *path, const char *host, const char *user, const char *password,
                           bool *existed, berth_error_t *err);
/* The credential helper an auth file names for host: credHelpers[host], else
 * credsStore (Docker's keys).  *helper is NAME of docker-credential-NAME,
 * or NULL when there is none (a missing file too). */
int registry_auth_file_helper(const char *path, const char *host, char **helper, berth_error_t *err);
/* Where berth's auth.json is (malloc'ed), and Docker's config.json. */
char *registry_auth_path(void);
char *registry_docker_config_path(void);

/* Base64 (standard alphabet, padded), and its inverse (NULL on bad input). */
char *registry_base64_encode(const void *data, size_t len);
char *registry_base64_decode(const char *text, size_t *len);

/* Docker's credential helpers, `docker-credential-NAME get|store|erase`
 * (registry-credhelper.c), run with a bounded time; "berth: credential
 * helper docker-credential-NAME: ..." when one is missing or fails.  The
 * server URL given to the helper is host ("https://index.docker.io/v1/" for
 * docker.io, as Docker's).  get returns 1 with *user and *secret, or 0 when
 * the helper has none for host; erase sets *erased (may be NULL) when there
 * was something to erase. */
char *registry_credhelper_server_url(const char *host);
int registry_credhelper_get(const char *name, const char *host, char **user, char **secret, berth_error_t *err);
int registry_credhelper_store(const char *name, const char *host, const char *user, const char *secret,
                              berth_error_t *err);
int registry_credhelper_erase(const char *name, const char *host, bool *erased, berth_error_t *err);

/* ======================================================================
 * The client and one HTTP exchange (registry-transport.c)
 * ====================================================================== */

/* REGISTRY_CONFIG_PATH, through registry_config_load(). */
int registry_engine_config_load(struct registry_config *cfg, berth_error_t *err);

/* One client per registry and repository. */
struct reg_client {
        char *host;      /* "docker.io", "127.0.0.1:5000": what references name */
        char *base;      /* "https://registry-1.docker.io" */
        char *ca_file;   /* certs.d/HOST/ca.crt, or NULL */
        char *cert_file; /* certs.d/HOST/client.cert + client.key, or NULL */
        char *key_file;
        char *user, *password;
        char *auth;  /* "Authorization: ..." that worked last, or NULL */
        bool auth_to_realm; /* fetch_token: auth (Basic) goes to the token realm */
        char *scope; /* "repository:PATH:pull" */
        long stall_timeout; /* seconds */
        char errbuf[CURL_ERROR_SIZE];
        long os_errno; /* of the last failed connection */
};

/* A client for host; base_url overrides where it is reached (a mirror).
 * With stored_creds (and no base_url), it has the credentials stored for host. */
int reg_client_open(const struct registry_config *cfg, const char *host, const char *base_url, const char *scope,
                    bool stored_creds, struct reg_client **out, berth_error_t *err);
void reg_client_free(struct reg_client *c);
static inline void reg_client_freep(struct reg_client **c)
{
        reg_client_free(*c);
}
#define cleanup_client __attribute__((cleanup(reg_client_freep)))

/* An answer: the status, the headers berth reads, and the body (bounded:
 * limit, else 4 MiB), or for a layer download (registry-pull.c) a 2xx body
 * streamed into sink, refused past expect bytes. */
struct http_resp {
        CURL *h;
        long status;
        char *body;
        size_t len;
        char *www_auth, *location, *content_type, *digest, *link;
        struct blob_writer *sink; /* a 2xx body goes here instead of body */
        berth_error_t sink_err;
        size_t limit;     /* of body: MAX_DOCUMENT when 0 */
        long long expect; /* the sink's body is exactly this long (its descriptor's size) */
        bool too_big, too_long;
        long long done; /* bytes into sink */
};
void reg_resp_free(struct http_resp *r);
/* The registry's own words for a failed request ("manifest unknown"), else
 * "HTTP status N". */
char *reg_resp_error_text(const struct http_resp *r);

/* A request body (PUT, POST). */
struct http_upload {
        FILE *f; /* PUT body from a file */
        long long size;
        const void *data; /* or from memory */
        size_t len;
};

/* One request, authenticating once on a 401.  The caller looks at r->status;
 * a second 401 is turned into an error here. */
int reg_request(struct reg_client *c, const char *method, const char *url, char *const *extra,
                const struct http_upload *up, struct http_resp *r, berth_error_t *err);

/* For a transfer driven by the caller (pull's curl multi): the headers for
 * url (extra, and the credentials only for the registry itself), and the
 * options every request of c shares. */
struct curl_slist *reg_headers_with_auth(struct reg_client *c, const char *url, char *const *extra);
void reg_easy_setup(struct reg_client *c, CURL *h, const char *url, struct curl_slist *headers,
                    struct http_resp *r);

/* "BASE/v2/PATH/KIND/REF" (KIND "manifests", "blobs"; REF a tag or digest;
 * KIND "blobs/uploads/" with REF NULL). */
char *registry_url(const char *base, const char *path, const char *kind, const char *ref);
/* The URL to PUT an upload to: Location (absolute, or relative to base) with
 * the query parameter param ("digest=DIGEST") added. */
char *registry_upload_url(const char *base, const char *location, const char *param);
/* location (absolute, "/path" on base's origin, or relative to base) as an
 * absolute URL. */
char *registry_url_resolve(const char *base, const char *location);

/* ======================================================================
 * Pull's checks of what a registry sends (registry-manifest.c), in the
 * order pull makes them; tests/fuzz/fuzz-manifest.c drives them so.
 * ====================================================================== */

/* A manifest's media type: its "mediaType", else the Content-Type it came
 * with (may be NULL), else an index when it has "manifests"; without
 * parameters ("; charset=..."). */
char *registry_manifest_media_type(const char *body, size_t len, const char *content_type);
/* mt is an image index (OCI) or a manifest list (Docker). */
bool registry_media_type_is_index(const char *mt);

/* From an image index (OCI or Docker manifest list), the descriptor of the
 * image for platform ("os/arch[/variant]"; NULL: linux/<this machine>).
 * Entries for os "unknown" (attestations) are ignored; an index with a single
 * image gives that one. */
int registry_index_select(json_t *index, const char *platform, json_t **desc_out, berth_error_t *err);
/* The same from the index document host sent: *digest (a valid sha256
 * digest) of the manifest to get next. */
int registry_index_pick(const char *body, size_t len, const char *platform, const char *host, char **digest,
                        berth_error_t *err);

/* mt is an image manifest berth pulls (OCI, Docker schema 2); else the
 * error names ref and want (the tag or digest asked for). */
int registry_manifest_type_check(const char *mt, const struct image_ref *ref, const char *want, berth_error_t *err);

/* body as a JSON object; else "invalid WHAT: what jansson said". */
int registry_document_parse(const char *body, size_t len, const char *what, json_t **out, berth_error_t *err);

/* The manifest's config digest (borrowed), a valid sha256 digest. */
int registry_manifest_config_digest(json_t *manifest, const struct image_ref *ref, const char **digest,
                                    berth_error_t *err);

/* One layer of a pull: its plan (registry_pull_plan), then the state of its
 * download (registry-pull.c). */
struct pull_layer {
        const char *digest;  /* borrowed from the manifest */
        const char *diff_id; /* borrowed from the config */
        long long size;
        bool present;   /* blob and unpacked layer in the store, or an earlier
                         * layer's blob: nothing to do */
        bool have_blob; /* only the blob: unpack it, no download */
        struct blob_writer *w;
        struct http_resp r;
        CURL *h;
        struct curl_slist *headers;
        char *url;
        bool started, finished;
        int line; /* tty: its line in the block of layer lines */
        char errbuf[CURL_ERROR_SIZE];
};
/* The layers of manifest + config: each with a valid digest, diff_id and
 * size, as many as the config's diff_ids, and which are in the store s
 * already.  *layers (one allocation; it holds nothing else yet) and *n are
 * set also on failure. */
int registry_pull_plan(struct berth_store *s, json_t *manifest, json_t *config, struct pull_layer **layers,
                       size_t *n, berth_error_t *err);

/* ======================================================================
 * Shared by pull and push (registry-pull.c)
 * ====================================================================== */

/* Parse a reference as pull and push take it: a short name ("busybox",
 * "user/app") comes from cfg's default-registry. */
int registry_ref_resolve(const struct registry_config *cfg, const char *s, struct image_ref *ref,
                         berth_error_t *err);

/* One of Docker's progress lines; nothing when f is NULL or quiet. */
struct reg_out {
        FILE *f;
        bool quiet, tty;
};
void reg_out_line(const struct reg_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ======================================================================
 * Search building blocks (registry-search.c)
 * ====================================================================== */

/* The registry a search term names and the term to send: "localhost:5000/
 * py" -> *host "localhost:5000", *query "py"; "team/app" -> *host NULL (the
 * default registry), *query "team/app".  Hosts as registry_server_host(). */
void registry_search_term_split(const char *term, char **host, char **query);
/* The target of rel="next" in a Link header (RFC 8288: "<URL>; rel=next,
 * <URL2>; rel=\"prev\""), or NULL. */
char *registry_link_next(const char *link);
/* Append the results of a /v1/search answer ({"results": [{"name",
 * "description", "star_count", "is_official", "is_automated"}]}), at most
 * limit in all; names get "PREFIX/" when prefix is not NULL. */
int registry_search_parse_v1(const char *body, size_t len, const char *prefix, size_t limit,
                             struct registry_search_results *res, berth_error_t *err);
/* Append the repositories of one /v2/_catalog page ({"repositories": [...]})
 * whose name contains query (ignoring case), as "PREFIX/NAME", until res
 * holds limit. */
int registry_search_parse_catalog(const char *body, size_t len, const char *query, const char *prefix, size_t limit,
                                  struct registry_search_results *res, berth_error_t *err);

#endif
