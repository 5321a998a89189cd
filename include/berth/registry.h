/* berth — registries: pull, push, login, logout and search over the OCI
 * distribution API (libcurl).  What the other layers call; the files of
 * src/registry/ and their building blocks are in berth/registry-internal.h.
 *
 * Engine configuration comes from /etc/berth/config.json (Docker's
 * daemon.json keys): "insecure-registries" (hosts reached over plain HTTP),
 * "registry-mirrors" (tried first for docker.io) and "default-registry"
 * (where short names like "busybox" come from; docker.io when unset), plus
 * "registry-stall-timeout" (seconds a transfer may go without a byte before it
 * fails; 60 when unset).
 * TLS uses the system CAs plus /etc/berth/certs.d/HOST[:PORT]/ca.crt (and
 * client.cert + client.key there for a client certificate).
 * Credentials are read from $XDG_CONFIG_HOME/berth/auth.json (or
 * ~/.config/berth/auth.json), then from Docker's ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json); `login` writes the first one.  Either file
 * may name Docker credential helpers (credsStore, credHelpers): then the
 * secret is kept by the helper and the file holds only {"auths": {"host":
 * {}}}.
 *
 * A registry is not trusted: manifests and configs are bounded (4 MiB) and
 * checked before anything is stored; a layer is refused past the size its
 * descriptor gives and verified against its digest before it is unpacked;
 * redirects are bounded and never carry the credentials to another host. */
#ifndef BERTH_REGISTRY_H
#define BERTH_REGISTRY_H

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

/* What a pull of ref would fetch, without fetching it: the digest of the
 * image manifest for this platform (the one berth_image.manifest_digest
 * holds once pulled).  For `auto-update --dry-run`. */
int registry_manifest_digest(const char *ref, char **digest_out, berth_error_t *err);

/* The default-registry of /etc/berth/config.json when it is set to something
 * else than docker.io (malloc'ed), else NULL; an unreadable configuration
 * counts as unset.  Programs put it in struct berth_store's
 * default_registry after store_open(), so that image_lookup() finds a short
 * name where `berth pull` stored it. */
char *registry_default_registry(void);

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

#endif
