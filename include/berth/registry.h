/* berth — registries: pull, push, login and logout over the OCI distribution
 * API (libcurl).
 *
 * Engine configuration comes from /etc/berth/config.json (Docker's
 * daemon.json keys): "insecure-registries" (hosts reached over plain HTTP),
 * "registry-mirrors" (tried first for docker.io) and "default-registry"
 * (where short names like "busybox" come from; docker.io when unset), plus
 * "registry-stall-timeout" (seconds a transfer may go without a byte before it
 * fails; 60 when unset).
 * TLS uses the system CAs plus /etc/berth/certs.d/HOST[:PORT]/ca.crt.
 * Credentials are read from $XDG_CONFIG_HOME/berth/auth.json (or
 * ~/.config/berth/auth.json), then from Docker's ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json); `login` writes the first one.  Either file
 * may name Docker credential helpers (credsStore, credHelpers): then the
 * secret is kept by the helper and the file holds only {"auths": {"host":
 * {}}}. */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "berth/error.h"
#include "berth/store.h"

/* ---- pull -----------------------------------------------------------------
 * Resolve ref (short names through default-registry; "name", "name:tag",
 * "name@sha256:..."), fetch the manifest (OCI and Docker types; from an index
 * the image for o->platform, default linux/<this machine>), then the config
 * and the layers that are not in the store yet (several at once, each
 * verified against its digest while it streams into the store), unpack them,
 * register the image and point the reference at it (not for a digest
 * reference).  Nothing half-written stays behind on failure; a later pull
 * reuses the verified blobs and layers a failed one completed.
 *
 * Output goes to o->progress (NULL: none), in Docker's words:
 *   Using default tag: latest
 *   latest: Pulling from library/busybox
 *   3f1c2a...: Pulling fs layer / Downloading / Pull complete / Already exists
 *   Digest: sha256:...
 *   Status: Downloaded newer image for busybox:latest  (or Image is up to date)
 *   docker.io/library/busybox:latest
 * With o->quiet only the last line.  A progress bar is drawn only when
 * o->progress is a terminal.
 *
 * o->tick, when set, is called about once a second while the layers
 * download (also when the transfer stalls) and once after each layer is
 * unpacked, with the compressed bytes done and the total of the manifest;
 * the unit path sends EXTEND_TIMEOUT_USEC from it.  Returning non-zero
 * aborts the pull (one line: "pull aborted").  It is not called while the
 * manifest and config are fetched or while one layer unpacks.
 *
 * *image_id_out (may be NULL) receives the image ID ("sha256:" config
 * digest): use it rather than looking ref up again, since a digest
 * reference to an image index names no stored manifest.  Takes the store
 * lock itself (the caller must not hold it).
 * Errors are one line ("registry 127.0.0.1:5000 is unreachable: ...",
 * "manifest for X not found: manifest unknown", "... unauthorized ...: run
 * `berth login HOST`", "layer sha256:...: digest mismatch ..."). */
typedef int (*registry_tick_fn)(long long bytes_done, long long bytes_total, void *userdata);
struct registry_pull_opts {
        const char *platform;  /* "os/arch[/variant]"; NULL: linux/image_go_arch() */
        bool quiet;            /* only the final reference on progress */
        FILE *progress;        /* where the output goes; NULL: nowhere */
        registry_tick_fn tick; /* may be NULL */
        void *userdata;        /* for tick */
};
int registry_pull(struct berth_store *s, const char *ref, const struct registry_pull_opts *o, char **image_id_out,
                  berth_error_t *err);

/* Where a short name ("busybox", "team/app:1") comes from when
 * /etc/berth/config.json sets a default-registry other than docker.io: the
 * full reference there ("reg.example:5000/busybox:latest"), or NULL (no such
 * setting, or ref names its registry).  image_lookup() falls back to it, so
 * `berth run busybox` finds what `berth pull busybox` stored. */
char *registry_default_name(const char *ref);

/* ---- push -----------------------------------------------------------------
 * Push the local image `image` to `dest` (NULL: the image reference itself,
 * which must then name a repository).  Each blob is checked with HEAD first
 * and uploaded (POST, then a monolithic PUT) only when missing, then the
 * manifest is PUT.  Output on o->progress (NULL: none), as Docker's:
 *   The push refers to repository [localhost:5000/busybox]
 *   3f1c2a...: Pushed / Layer already exists
 *   latest: digest: sha256:... size: 527
 * *digest_out (may be NULL) receives the manifest digest. */
struct registry_push_opts {
        bool quiet;
        FILE *progress;
};
int registry_push(struct berth_store *s, const char *image, const char *dest, const struct registry_push_opts *o,
                  char **digest_out, berth_error_t *err);

/* ---- login / logout -------------------------------------------------------
 * server: "host[:port]" (a URL is accepted; scheme and path are dropped);
 * NULL means the default registry.  login checks the credentials against
 * /v2/ (Basic, or a Bearer token issued for them) before writing them to
 * auth.json (mode 0600, atomically).  logout removes the entry; *was_logged_in
 * (may be NULL) tells whether there was one, *host_out (may be NULL) gets the
 * registry host it was for. */
int registry_login(const char *server, const char *user, const char *password, berth_error_t *err);
int registry_logout(const char *server, bool *was_logged_in, char **host_out, berth_error_t *err);
/* The registry host a server argument names ("docker.io" for NULL). */
char *registry_server_host(const char *server);

/* ---- search ---------------------------------------------------------------
 * `berth search TERM`.  TERM names a registry as Docker's search does (a
 * first component with '.' or ':', or "localhost": "localhost:5000/python");
 * otherwise it is searched on default-registry, docker.io when unset.  The
 * registry is asked first with Docker Hub's search API (GET /v1/search?q=
 * TERM&n=LIMIT, on index.docker.io for docker.io); when that answers 404,
 * with the distribution catalog (GET /v2/_catalog, every page the Link
 * header names, until LIMIT repositories whose name contains TERM are
 * found), as Podman does.  Plain HTTP only for insecure-registries; the
 * stored credentials and Bearer tokens as for pull.  Results on registries
 * other than docker.io are named HOST/REPOSITORY, so they can be pulled as
 * shown.  The filter applies to the (at most LIMIT) results, as Docker's.
 * Errors are one line naming the registry and what to do. */
struct registry_search_result {
        char *name;
        char *description; /* "" when the registry has none */
        long long stars;
        bool official, automated;
};
struct registry_search_results {
        struct registry_search_result *v;
        size_t n;
};
void registry_search_results_free(struct registry_search_results *r);

/* Docker's search filters: stars=N (at least N; the largest given wins),
 * is-official=BOOL, is-automated=BOOL (Go's ParseBool words). */
struct registry_search_filter {
        long long stars;
        int official, automated; /* -1: either, 0: not, 1: only */
};
#define REGISTRY_SEARCH_FILTER_INIT { .stars = 0, .official = -1, .automated = -1 }
/* Add one "KEY=VALUE"; errors as Docker's ("invalid filter 'stars=x'"). */
int registry_search_filter_add(struct registry_search_filter *f, const char *spec, berth_error_t *err);
bool registry_search_filter_match(const struct registry_search_filter *f, const struct registry_search_result *r);

struct registry_search_opts {
        unsigned limit; /* 1..100 */
        struct registry_search_filter filter;
};
int registry_search(const char *term, const struct registry_search_opts *o, struct registry_search_results *out,
                    berth_error_t *err);

/* ======================================================================
 * Building blocks, pure functions (exposed for the unit tests).
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
/* Where berth's auth.json is (malloc'ed), and Docker's config.json. */
char *registry_auth_path(void);
char *registry_docker_config_path(void);

/* From an image index (OCI or Docker manifest list), the descriptor of the
 * image for platform ("os/arch[/variant]"; NULL: linux/<this machine>).
 * Entries for os "unknown" (attestations) are ignored; an index with a single
 * image gives that one. */
int registry_index_select(json_t *index, const char *platform, json_t **desc_out, berth_error_t *err);

/* "BASE/v2/PATH/KIND/REF" (KIND "manifests", "blobs"; REF a tag or digest;
 * KIND "blobs/uploads/" with REF NULL). */
char *registry_url(const char *base, const char *path, const char *kind, const char *ref);
/* The URL to PUT an upload to: Location (absolute, or relative to base) with
 * "digest=DIGEST" added to its query. */
char *registry_upload_url(const char *base, const char *location, const char *digest);
/* location (absolute, "/path" on base's origin, or relative to base) as an
 * absolute URL. */
char *registry_url_resolve(const char *base, const char *location);

/* Search building blocks (registry-search.c).
 * The registry a search term names and the term to send: "localhost:5000/
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

/* Base64 (standard alphabet, padded), and its inverse (NULL on bad input). */
char *registry_base64_encode(const void *data, size_t len);
char *registry_base64_decode(const char *text, size_t *len);

#endif
