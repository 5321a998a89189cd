/* berth — the OCI distribution API over libcurl: pull, push, login.
 * See include/berth/registry.h.
 *
 * One client per registry and repository: it knows the base URL (https, or
 * http for insecure-registries), the CA of certs.d, the stored credentials
 * and the Authorization header that last worked.  Every request that gets a
 * 401 reads the WWW-Authenticate challenge, authenticates (Basic, or a Bearer
 * token from the realm for the repository's scope) and is sent once more.
 *
 * Pull downloads the missing layers concurrently (curl multi) into blob
 * writers: locked staging files under ROOT/tmp, hashed as they fill.  Only
 * when every download is complete is each one verified and committed, then
 * unpacked, so a failure anywhere leaves only whole, verified blobs behind
 * (which the next pull reuses) and no staging files. */
#include "config.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include "berth/image.h"
#include "berth/registry.h"
#include "berth/util.h"

#define CONFIG_PATH "/etc/berth/config.json"
#define CERTS_DIR "/etc/berth/certs.d"
#define SYSTEM_CA_PATH "/etc/ssl/certs"
#define DOCKER_IO "docker.io"
#define DOCKER_IO_API "registry-1.docker.io"
#define MAX_DOCUMENT (4 << 20) /* manifests and configs: the spec's manifest limit */
#define MAX_TOKEN_BODY (1 << 20) /* a token server's answer */
#define MAX_ERROR_BODY (64 << 10)
#define MAX_REDIRECTS 10L /* as Go's http client, which Docker uses */
#define PARALLEL_DOWNLOADS 3L

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

static void json_freep(json_t **j)
{
        json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(json_freep)))

static void curl_slist_freep(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}
#define cleanup_slist __attribute__((cleanup(curl_slist_freep)))

static void curl_global(void)
{
        static bool done;
        if (!done) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                done = true;
        }
}

/* ======================================================================
 * Client and one HTTP exchange
 * ====================================================================== */
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

/* Forget the headers of a response (a redirect's, before the next one's). */
static void resp_headers_reset(struct http_resp *r)
{
        free(r->www_auth);
        free(r->location);
        free(r->content_type);
        free(r->digest);
        free(r->link);
        r->www_auth = r->location = r->content_type = r->digest = r->link = NULL;
}

static void resp_reset(struct http_resp *r)
{
        free(r->body);
        r->body = NULL;
        resp_headers_reset(r);
        r->len = 0;
        r->status = 0;
        r->too_big = r->too_long = false;
}

static void resp_free(struct http_resp *r)
{
        resp_reset(r);
        berth_error_free(&r->sink_err);
}

static void reg_client_free(struct reg_client *c)
{
        if (!c)
                return;
        free(c->host);
        free(c->base);
        free(c->ca_file);
        free(c->cert_file);
        free(c->key_file);
        free(c->user);
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->password);
        free(c->auth);
        free(c->scope);
        free(c);
}
static void reg_client_freep(struct reg_client **c)
{
        reg_client_free(*c);
}
#define cleanup_client __attribute__((cleanup(reg_client_freep)))

static char *file_if_exists(char *path)
{
        if (access(path, R_OK) == 0)
                return path;
        free(path);
        return NULL;
}

/* Stored credentials for host: berth's auth.json, then Docker's; in each,
 * from the credential helper it names for host, else from its "auths". */
static int creds_lookup(const char *host, char **user, char **password, berth_error_t *err)
{
        cleanup_free char *a = registry_auth_path(), *d = registry_docker_config_path();
        const char *files[] = { a, d };
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                cleanup_free char *helper = NULL;
                int r = registry_auth_file_helper(files[i], host, &helper, err);
                if (r == 0 && helper)
                        r = registry_credhelper_get(helper, host, user, password, err);
                if (r == 0)
                        r = registry_auth_file_get(files[i], host, user, password, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* The credential helper for host: the one berth's auth.json names, else
 * Docker's config.json (NULL: none, the file keeps the secret). */
static int creds_helper(const char *host, char **helper, berth_error_t *err)
{
        cleanup_free char *a = registry_auth_path();
        if (registry_auth_file_helper(a, host, helper, err) < 0)
                return -1;
        if (*helper)
                return 0;
        cleanup_free char *d = registry_docker_config_path();
        return registry_auth_file_helper(d, host, helper, err);
}

/* A client for host; base_url overrides where it is reached (a mirror).
 * With stored_creds (and no base_url), it has the credentials stored for host. */
static int reg_client_open(const struct registry_config *cfg, const char *host, const char *base_url,
                           const char *scope, bool stored_creds, struct reg_client **out, berth_error_t *err)
{
        curl_global();
        struct reg_client *c = xcalloc(1, sizeof(*c));
        c->host = xstrdup(host);
        c->scope = scope ? xstrdup(scope) : NULL;
        c->stall_timeout = cfg->stall_timeout > 0 ? cfg->stall_timeout : REGISTRY_STALL_TIMEOUT;
        cleanup_free char *contact = NULL;
        if (base_url) {
                size_t n = strlen(base_url);
                while (n > 0 && base_url[n - 1] == '/')
                        n--;
                c->base = xstrndup(base_url, n);
                contact = registry_server_host(base_url);
                if (!strstr(base_url, "://")) {
                        free(c->base);
                        c->base = xasprintf("%s://%s", registry_config_insecure(cfg, contact) ? "http" : "https",
                                            contact);
                }
        } else {
                contact = xstrdup(streq(host, DOCKER_IO) ? DOCKER_IO_API : host);
                c->base = xasprintf("%s://%s", registry_config_insecure(cfg, host) ? "http" : "https", contact);
        }
        c->ca_file = file_if_exists(xasprintf("%s/%s/ca.crt", CERTS_DIR, contact));
        c->cert_file = file_if_exists(xasprintf("%s/%s/client.cert", CERTS_DIR, contact));
        c->key_file = file_if_exists(xasprintf("%s/%s/client.key", CERTS_DIR, contact));
        if (stored_creds && !base_url && creds_lookup(host, &c->user, &c->password, err) < 0) {
                reg_client_free(c);
                return -1;
        }
        *out = c;
        return 0;
}

static size_t on_header(char *buf, size_t size, size_t n, void *userdata)
{
        struct http_resp *r = userdata;
        size_t len = size * n;
        if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
                /* a new response (after a redirect or 100-continue) */
                resp_headers_reset(r);
                return len;
        }
        const char *colon = memchr(buf, ':', len);
        if (!colon)
                return len;
        size_t klen = (size_t) (colon - buf);
        const char *v = colon + 1;
        while (v < buf + len && (*v == ' ' || *v == '\t'))
                v++;
        size_t vlen = (size_t) (buf + len - v);
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
                vlen--;
        char **slot = NULL;
        if (klen == 16 && strncasecmp(buf, "WWW-Authenticate", klen) == 0)
                slot = &r->www_auth;
        else if (klen == 8 && strncasecmp(buf, "Location", klen) == 0)
                slot = &r->location;
        else if (klen == 12 && strncasecmp(buf, "Content-Type", klen) == 0)
                slot = &r->content_type;
        else if (klen == 21 && strncasecmp(buf, "Docker-Content-Digest", klen) == 0)
                slot = &r->digest;
        else if (klen == 4 && strncasecmp(buf, "Link", klen) == 0)
                slot = &r->link;
        if (slot && !*slot) /* the first challenge is the one to answer */
                *slot = xstrndup(v, vlen);
        return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *userdata)
{
        struct http_resp *r = userdata;
        size_t len = size * n;
        long status = 0;
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
        if (r->sink && status >= 200 && status < 300) {
                if (r->done + (long long) len > r->expect) {
                        /* longer than its descriptor says: refused before it lands */
                        r->too_long = true;
                        return 0;
                }
                if (store_blob_writer_write(r->sink, buf, len, &r->sink_err) < 0)
                        return 0;
                r->done += (long long) len;
                return len;
        }
        size_t limit = r->sink ? MAX_ERROR_BODY : r->limit ? r->limit : MAX_DOCUMENT;
        if (r->len + len > limit) {
                r->too_big = true;
                return 0;
        }
        r->body = xrealloc(r->body, r->len + len + 1);
        memcpy(r->body + r->len, buf, len);
        r->len += len;
        r->body[r->len] = '\0';
        return len;
}

/* Options every request of this client shares. */
static void reg_easy_setup(struct reg_client *c, CURL *h, const char *url, struct curl_slist *headers,
                           struct http_resp *r)
{
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* a stalled transfer (a registry that stopped sending) fails */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_timeout);
        /* Redirects (a blob served from a CDN) are followed, at most
         * MAX_REDIRECTS of them, to http and https only.  The Authorization
         * header berth sets itself does not follow a redirect to another host
         * or port: libcurl drops custom Authorization headers there since
         * 7.83 (CVE-2022-27776), and the *_PROTOCOLS_STR options below need
         * 7.85 already; CURLOPT_UNRESTRICTED_AUTH is never set. */
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        if (c->ca_file) {
                /* certs.d adds to the system CAs, as Docker's does */
                curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
                curl_easy_setopt(h, CURLOPT_CAPATH, SYSTEM_CA_PATH);
        }
        if (c->cert_file && c->key_file) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
        }
        r->h = h;
}

/* url is on the registry itself: scheme://host[:port] (and path) of its base. */
static bool on_registry(const struct reg_client *c, const char *url)
{
        size_t n = strlen(c->base);
        return strncasecmp(url, c->base, n) == 0 && (url[n] == '\0' || url[n] == '/' || url[n] == '?');
}

/* The headers for url: extra, and the credentials only for the registry
 * itself (or the token realm that asked for them), never for a host an
 * answer pointed at (an upload Location, a Link). */
static struct curl_slist *headers_with_auth(struct reg_client *c, const char *url, char *const *extra)
{
        struct curl_slist *l = NULL;
        for (size_t i = 0; extra && extra[i]; i++)
                l = curl_slist_append(l, extra[i]);
        if (c->auth && (c->auth_to_realm || on_registry(c, url)))
                l = curl_slist_append(l, c->auth);
        l = curl_slist_append(l, "Expect:");
        return l;
}

/* "Get "URL": what curl said", as one line. */
static int transport_error(struct reg_client *c, CURLcode code, const char *method, const char *url,
                           berth_error_t *err)
{
        const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(code);
        if (code == CURLE_COULDNT_CONNECT && c->os_errno > 0)
                why = strerror((int) c->os_errno); /* "Connection refused" says it all */
        /* (a registry that stopped sending was reached: not "unreachable") */
        bool stalled = code == CURLE_OPERATION_TIMEDOUT && startswith(why, "Operation too slow");
        if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
            (code == CURLE_OPERATION_TIMEDOUT && !stalled)) {
                int r = berth_error(err, 0, "registry %s is unreachable: %s %s: %s", c->host, method, url, why);
                if (err && *err) /* (tells callers it was never reached; the message is unchanged) */
                        (*err)->errnum = EHOSTUNREACH;
                return r;
        }
        return berth_error(err, 0, "%s %s: %s", method, url, why);
}

/* The registry's own words for a failed request ("manifest unknown"). */
static char *resp_error_text(const struct http_resp *r)
{
        cleanup_json json_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
        json_t *e = json_array_get(json_object_get(j, "errors"), 0);
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *code = json_string_value(json_object_get(e, "code"));
        if (msg && *msg)
                return xstrdup(msg);
        if (code)
                return xstrdup(code);
        return xasprintf("HTTP status %ld", r->status);
}

struct upload {
        FILE *f; /* PUT body from a file */
        long long size;
        const void *data; /* or from memory */
        size_t len;
};

static int perform(struct reg_client *c, const char *method, const char *url, char *const *extra,
                   const struct upload *up, struct http_resp *r, berth_error_t *err)
{
        CURL *h = curl_easy_init();
        if (!h)
                abort();
        cleanup_slist struct curl_slist *headers = headers_with_auth(c, url, extra);
        c->errbuf[0] = '\0';
        reg_easy_setup(c, h, url, headers, r);
        if (streq(method, "HEAD"))
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (streq(method, "GET"))
                curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        else if (up && up->f) {
                rewind(up->f);
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READDATA, up->f);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up->size);
        } else {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, up ? (const char *) up->data : "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (up ? up->len : 0));
        }
        if (!streq(method, "GET") && !streq(method, "HEAD"))
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        CURLcode code = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        c->os_errno = 0;
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &c->os_errno);
        curl_easy_cleanup(h);
        r->h = NULL;
        if (r->sink_err) {
                if (err && !*err) {
                        *err = r->sink_err;
                        r->sink_err = NULL;
                }
                return -1;
        }
        if (r->too_big)
                return berth_error(err, 0, "%s %s: the response is larger than %zu bytes; refused", method, url,
                                   r->limit ? r->limit : (size_t) MAX_DOCUMENT);
        if (code != CURLE_OK)
                return transport_error(c, code, method, url, err);
        return 0;
}

/* "Authorization: Basic ..." for the client's credentials. */
static char *basic_header(const struct reg_client *c)
{
        cleanup_free char *plain = xasprintf("%s:%s", c->user, c->password ? c->password : "");
        cleanup_free char *b = registry_base64_encode(plain, strlen(plain));
        explicit_bzero(plain, strlen(plain));
        return xasprintf("Authorization: Basic %s", b);
}

/* GET the realm's token for scope (with the stored credentials, if any). */
static int fetch_token(struct reg_client *c, const struct registry_challenge *ch, const char *scope,
                       berth_error_t *err)
{
        CURL *esc = curl_easy_init();
        if (!esc)
                abort();
        cleanup_free char *url = xstrdup(ch->realm);
        const char *params[][2] = { { "service", ch->service }, { "scope", scope } };
        for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
                if (!params[i][1])
                        continue;
                char *e = curl_easy_escape(esc, params[i][1], 0);
                char *next = xasprintf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', params[i][0], e);
                curl_free(e);
                free(url);
                url = next;
        }
        curl_easy_cleanup(esc);
        cleanup_free char *saved = steal_pointer(&c->auth);
        if (c->user)
                c->auth = basic_header(c);
        struct http_resp r = { .limit = MAX_TOKEN_BODY };
        c->auth_to_realm = true;
        int ret = perform(c, "GET", url, NULL, NULL, &r, err);
        c->auth_to_realm = false;
        free(c->auth);
        c->auth = NULL;
        if (ret < 0) {
                resp_free(&r);
                return -1;
        }
        if (r.status == 401 || r.status == 403) {
                resp_free(&r);
                return berth_error(err, 0, "%s: unauthorized: %s; run `berth login %s`", c->host,
                                   c->user ? "incorrect username or password" : "authentication required",
                                   c->host);
        }
        cleanup_json json_t *j = r.status == 200 && r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok)
                tok = json_string_value(json_object_get(j, "access_token"));
        if (!tok || !*tok) {
                cleanup_free char *why = resp_error_text(&r);
                resp_free(&r);
                return berth_error(err, 0, "%s: the token server %s gave no token (%s)", c->host, ch->realm, why);
        }
        c->auth = xasprintf("Authorization: Bearer %s", tok);
        resp_free(&r);
        return 0;
}

/* Answer a 401's challenge: set c->auth for the next attempt. */
static int reg_authenticate(struct reg_client *c, const char *www_auth, berth_error_t *err)
{
        struct registry_challenge ch;
        if (registry_challenge_parse(www_auth, &ch, err) < 0)
                return berth_error_wrap(err, "%s", c->host);
        int r = 0;
        if (streq(ch.scheme, "basic")) {
                if (!c->user)
                        r = berth_error(err, 0, "%s: unauthorized: authentication required; run `berth login %s`",
                                        c->host, c->host);
                else {
                        free(c->auth);
                        c->auth = basic_header(c);
                }
        } else if (streq(ch.scheme, "bearer")) {
                r = fetch_token(c, &ch, ch.scope ? ch.scope : c->scope, err);
        } else
                r = berth_error(err, 0, "%s: unsupported authentication scheme `%s`", c->host, ch.scheme);
        registry_challenge_free(&ch);
        return r;
}

/* One request, authenticating once on a 401.  The caller looks at r->status;
 * a second 401 is turned into an error here. */
static int reg_request(struct reg_client *c, const char *method, const char *url, char *const *extra,
                       const struct upload *up, struct http_resp *r, berth_error_t *err)
{
        for (int attempt = 0;; attempt++) {
                resp_reset(r);
                if (r->sink && attempt > 0)
                        return berth_error(err, 0, "internal error: a streamed request needs authentication again");
                if (perform(c, method, url, extra, up, r, err) < 0)
                        return -1;
                if (r->status != 401)
                        return 0;
                if (attempt > 0 || !r->www_auth || !on_registry(c, url))
                        break; /* (another host's challenge gets no credentials) */
                cleanup_free char *challenge = xstrdup(r->www_auth);
                if (reg_authenticate(c, challenge, err) < 0)
                        return -1;
        }
        return berth_error(err, 0, "%s: unauthorized: %s; run `berth login %s`", c->host,
                           c->user ? "incorrect username or password, or no access to this repository"
                                   : "authentication required",
                           c->host);
}

/* ======================================================================
 * URLs
 * ====================================================================== */
char *registry_url(const char *base, const char *path, const char *kind, const char *ref)
{
        if (!ref)
                return xasprintf("%s/v2/%s/%s", base, path, kind);
        return xasprintf("%s/v2/%s/%s/%s", base, path, kind, ref);
}

char *registry_url_resolve(const char *base, const char *location)
{
        if (strstr(location, "://"))
                return xstrdup(location);
        if (location[0] == '/') {
                /* relative to the origin of base: scheme://host */
                const char *h = strstr(base, "://");
                size_t origin = h ? (size_t) (h + 3 - base) + strcspn(h + 3, "/") : strlen(base);
                return xasprintf("%.*s%s", (int) origin, base, location);
        }
        return xasprintf("%s/%s", base, location);
}

char *registry_upload_url(const char *base, const char *location, const char *digest)
{
        cleanup_free char *abs = registry_url_resolve(base, location);
        return xasprintf("%s%c%s", abs, strchr(abs, '?') ? '&' : '?', digest ? digest : "");
}

static char *upload_url_with_digest(const char *base, const char *location, const char *digest)
{
        cleanup_free char *param = xasprintf("digest=%s", digest);
        /* digests hold only "sha256:" + hex: ':' is allowed in a query */
        return registry_upload_url(base, location, param);
}

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
 * Pull
 * ====================================================================== */
static const char manifest_accept[] = "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST
                                      ", " MT_DOCKER_LIST;

struct out {
        FILE *f;
        bool quiet, tty;
};

static void out_line(const struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(const struct out *o, const char *fmt, ...)
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
                resp_free(&r);
                return -1;
        }
        if (r.status != 200) {
                cleanup_free char *why = resp_error_text(&r);
                int ret = r.status == 404
                                  ? berth_error(err, 0, "manifest for %s/%s%s%s not found: %s",
                                                c->host, path, image_digest_valid(ref) ? "@" : ":", ref, why)
                                  : startswith(why, "HTTP status")
                                          ? berth_error(err, 0, "GET %s: %s", url, why)
                                          : berth_error(err, 0, "GET %s: HTTP status %ld: %s", url, r.status, why);
                if (r.status == 404 && err && *err)
                        (*err)->errnum = ENOENT;
                resp_free(&r);
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
                resp_free(&r);
                return ret;
        }
        cleanup_json json_t *j = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        if (!mt && r.content_type)
                mt = r.content_type;
        if (!mt)
                mt = json_object_get(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
        *media_type = xstrndup(mt, strcspn(mt, "; "));
        *len = r.len;
        *body = steal_pointer(&r.body);
        if (!*body)
                *body = xstrdup("");
        resp_free(&r);
        return 0;
}

/* GET a small blob (the config) into memory, verified. */
static int get_small_blob(struct reg_client *c, const char *path, const char *digest, char **body, size_t *len,
                          berth_error_t *err)
{
        cleanup_free char *url = registry_url(c->base, path, "blobs", digest);
        struct http_resp r = {};
        if (reg_request(c, "GET", url, NULL, NULL, &r, err) < 0) {
                resp_free(&r);
                return -1;
        }
        if (r.status != 200) {
                cleanup_free char *why = resp_error_text(&r);
                resp_free(&r);
                return berth_error(err, 0, "blob %s of %s/%s: %s", digest, c->host, path, why);
        }
        cleanup_free char *got = digest_of_data(r.body ? r.body : "", r.len);
        if (!streq(got, digest)) {
                resp_free(&r);
                return berth_error(err, 0, "image config %s from %s: digest mismatch: expected %s, got %s", digest,
                                   c->host, digest, got);
        }
        *len = r.len;
        *body = r.body ? steal_pointer(&r.body) : xstrdup("");
        resp_free(&r);
        return 0;
}

struct pull_layer {
        const char *digest;  /* borrowed from the manifest */
        const char *diff_id; /* borrowed from the config */
        long long size;
        bool present;  /* blob and unpacked layer in the store: nothing to do */
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

struct pull {
        struct berth_store *s;
        struct reg_client *c;
        const char *path;
        struct pull_layer *layers;
        size_t n;
        struct out out;
        const struct registry_pull_opts *o;
        int nlines;
        long long last_tick, last_draw;
};

static void layer_status(struct pull *p, struct pull_layer *l, const char *status)
{
        if (!p->out.f || p->out.quiet)
                return;
        if (!p->out.tty || l->line < 0) {
                out_line(&p->out, "%.12s: %s", l->digest + 7, status);
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
                resp_free(&l->r);
                if (l->h)
                        curl_easy_cleanup(l->h);
                curl_slist_free_all(l->headers);
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
        long long done = 0, total = 0;
        for (size_t i = 0; i < p->n; i++) {
                done += p->layers[i].present ? p->layers[i].size : p->layers[i].r.done;
                total += p->layers[i].size;
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
                curl_easy_getinfo(l->h, CURLINFO_RESPONSE_CODE, &status);
                return berth_error(err, 0, "layer %s from %s: an answer (HTTP status %ld) larger than %d bytes; refused",
                                   l->digest, p->c->host, status, MAX_ERROR_BODY);
        }
        if (l->r.too_long)
                return berth_error(err, 0,
                                   "layer %s from %s: the registry sent more than the %lld bytes the manifest gives "
                                   "for it; refused",
                                   l->digest, p->c->host, l->size);
        if (code != CURLE_OK) {
                const char *why = l->errbuf[0] ? l->errbuf : curl_easy_strerror(code);
                return berth_error(err, 0, "layer %s: download from %s failed: %s", l->digest, p->c->host, why);
        }
        long status = 0;
        curl_easy_getinfo(l->h, CURLINFO_RESPONSE_CODE, &status);
        l->r.status = status;
        if (status != 200) {
                cleanup_free char *why = resp_error_text(&l->r);
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
                curl_multi_cleanup(*m);
}

/* Download every missing layer, PARALLEL_DOWNLOADS at a time, into blob
 * writers.  On failure the writers are freed by the caller (staging gone). */
static int pull_download(struct pull *p, berth_error_t *err)
{
        __attribute__((cleanup(curl_multi_freep))) CURLM *m = curl_multi_init();
        if (!m)
                abort();
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, PARALLEL_DOWNLOADS);
        curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, PARALLEL_DOWNLOADS);
        size_t active = 0;
        for (size_t i = 0; i < p->n; i++) {
                struct pull_layer *l = &p->layers[i];
                if (l->present || l->have_blob)
                        continue;
                if (store_blob_writer_open(p->s, &l->w, err) < 0)
                        return -1;
                l->h = curl_easy_init();
                if (!l->h)
                        abort();
                l->url = registry_url(p->c->base, p->path, "blobs", l->digest);
                l->headers = headers_with_auth(p->c, l->url, NULL);
                l->r.sink = l->w;
                l->r.expect = l->size;
                reg_easy_setup(p->c, l->h, l->url, l->headers, &l->r);
                curl_easy_setopt(l->h, CURLOPT_ERRORBUFFER, l->errbuf);
                curl_easy_setopt(l->h, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(l->h, CURLOPT_PRIVATE, l);
                curl_multi_add_handle(m, l->h);
                active++;
        }
        int r = 0;
        while (active > 0 && r == 0) {
                int running = 0;
                CURLMcode mc = curl_multi_perform(m, &running);
                if (mc != CURLM_OK)
                        return berth_error(err, 0, "download: %s", curl_multi_strerror(mc));
                CURLMsg *msg;
                int left;
                while (r == 0 && (msg = curl_multi_info_read(m, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        struct pull_layer *l = NULL;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &l);
                        curl_multi_remove_handle(m, l->h);
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
                        curl_multi_poll(m, NULL, 0, 200, NULL);
        }
        for (size_t i = 0; i < p->n; i++)
                if (p->layers[i].h && !p->layers[i].finished)
                        curl_multi_remove_handle(m, p->layers[i].h);
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

/* Plan the layers of manifest + config: which are in the store already. */
static int pull_plan(struct pull *p, json_t *manifest, json_t *config, berth_error_t *err)
{
        json_t *layers = json_object_get(manifest, "layers");
        json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        if (!json_is_array(layers) || !json_is_array(diff_ids) || json_array_size(layers) != json_array_size(diff_ids))
                return berth_error(err, 0, "invalid image: the manifest lists %zu layers, the config %zu",
                                   json_array_size(layers), json_array_size(diff_ids));
        p->n = json_array_size(layers);
        p->layers = xcalloc(p->n + 1, sizeof(*p->layers));
        size_t i;
        json_t *l;
        json_array_foreach(layers, i, l) {
                struct pull_layer *pl = &p->layers[i];
                pl->digest = json_string_value(json_object_get(l, "digest"));
                pl->diff_id = json_string_value(json_array_get(diff_ids, i));
                json_t *size = json_object_get(l, "size");
                pl->size = json_integer_value(size);
                pl->line = -1;
                if (!image_digest_valid(pl->digest) || !image_digest_valid(pl->diff_id))
                        return berth_error(err, 0, "invalid image: layer %zu has no valid sha256 digest", i);
                if (!json_is_integer(size) || pl->size < 0)
                        return berth_error(err, 0, "invalid image: layer %zu (%s) has no valid size", i, pl->digest);
                pl->have_blob = store_blob_exists(p->s, pl->digest);
                pl->present = pl->have_blob && store_layer_exists(p->s, pl->diff_id);
        }
        /* the same blob twice in one image: download it once */
        for (size_t a = 0; a < p->n; a++)
                for (size_t b = 0; b < a; b++)
                        if (streq(p->layers[a].digest, p->layers[b].digest))
                                p->layers[a].present = true;
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
                out_line(&p->out, "%.12s: %s", l->digest + 7, l->present ? "Already exists" : "Pulling fs layer");
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
                if (r == 0 && (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST))) {
                        cleanup_json json_t *idx = json_loadb(body, len, 0, NULL);
                        json_t *desc = NULL;
                        if (!json_is_object(idx))
                                r = berth_error(mirror ? &e : err, 0, "invalid image index from %s", c->host);
                        else
                                r = registry_index_select(idx, platform, &desc, mirror ? &e : err);
                        if (r == 0) {
                                cleanup_free char *d = xstrdup(json_string_value(json_object_get(desc, "digest")));
                                free(body);
                                free(digest);
                                free(mt);
                                body = digest = mt = NULL;
                                r = get_manifest(c, ref->path, d, &body, &len, &digest, &mt, mirror ? &e : err);
                        }
                }
                if (r == 0 && (streq(mt, MT_DOCKER_V1) || streq(mt, MT_DOCKER_V1_SIGNED)))
                        r = berth_error(mirror ? &e : err, 0,
                                        "%s/%s:%s uses the Docker schema 1 manifest, which berth does not support",
                                        ref->domain, ref->path, want);
                else if (r == 0 && !streq(mt, MT_OCI_MANIFEST) && !streq(mt, MT_DOCKER_MANIFEST))
                        r = berth_error(mirror ? &e : err, 0, "%s/%s: unsupported manifest type `%s`", ref->domain,
                                        ref->path, mt);
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

static int ref_resolve_default(const struct registry_config *cfg, const char *s, struct image_ref *ref,
                               berth_error_t *err)
{
        if (image_ref_parse(s, ref, err) < 0)
                return -1;
        if (!cfg->default_registry || streq(cfg->default_registry, DOCKER_IO) || !streq(ref->domain, DOCKER_IO))
                return 0;
        /* a short name ("busybox", "user/app") comes from default-registry */
        if (startswith(s, "docker.io/") || startswith(s, "index.docker.io/"))
                return 0;
        cleanup_free char *path = startswith(ref->path, "library/") && !strchr(s, '/')
                                          ? xstrdup(ref->path + strlen("library/"))
                                          : xstrdup(ref->path);
        cleanup_free char *full = xasprintf("%s/%s%s%s", cfg->default_registry, path,
                                            ref->digest ? "@" : ":", ref->digest ? ref->digest : ref->tag);
        image_ref_free(ref);
        return image_ref_parse(full, ref, err);
}

static int load_config(struct registry_config *cfg, berth_error_t *err)
{
        return registry_config_load(CONFIG_PATH, cfg, err);
}

char *registry_default_name(const char *ref)
{
        struct registry_config cfg = {};
        berth_error_t e = NULL;
        char *full = NULL;
        if (load_config(&cfg, &e) == 0 && cfg.default_registry && !streq(cfg.default_registry, DOCKER_IO)) {
                struct image_ref r;
                if (ref_resolve_default(&cfg, ref, &r, &e) == 0) {
                        if (!streq(r.domain, DOCKER_IO))
                                full = image_ref_full(&r);
                        image_ref_free(&r);
                }
        }
        berth_error_free(&e);
        registry_config_free(&cfg);
        return full;
}

static int parse_json_doc(const char *body, size_t len, const char *what, json_t **out, berth_error_t *err)
{
        json_error_t je;
        *out = json_loadb(body, len, 0, &je);
        if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return berth_error(err, 0, "invalid %s: %s", what, je.text);
        }
        return 0;
}

static int pull_image(struct pull *p, const struct image_ref *ref, json_t *manifest, char **config_id,
                      berth_error_t *err)
{
        const char *cdigest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        if (!image_digest_valid(cdigest))
                return berth_error(err, 0, "invalid image manifest for %s/%s: no valid config digest", ref->domain,
                                   ref->path);
        cleanup_free char *cbody = NULL;
        size_t clen = 0;
        if (store_blob_exists(p->s, cdigest)) {
                if (store_blob_read(p->s, cdigest, &cbody, &clen, err) < 0)
                        return -1;
        } else if (get_small_blob(p->c, ref->path, cdigest, &cbody, &clen, err) < 0)
                return -1;
        cleanup_json json_t *config = NULL;
        if (parse_json_doc(cbody, clen, "image config", &config, err) < 0 ||
            pull_plan(p, manifest, config, err) < 0)
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
        if (load_config(&cfg, err) < 0)
                return -1;
        struct image_ref ref = {};
        int r = ref_resolve_default(&cfg, refstr, &ref, err);
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
                        out_line(&p.out, "Using default tag: %s", ref.tag);
                r = pull_resolve(&cfg, &ref, o ? o->platform : NULL, &p.c, &manifest, &mlen, &mdigest, &top_digest,
                                 err);
        }
        cleanup_json json_t *mj = NULL;
        if (r == 0)
                r = parse_json_doc(manifest, mlen, "image manifest", &mj, err);
        bool up_to_date = false;
        if (r == 0) {
                struct berth_image *old = NULL;
                if (image_lookup(s, full, &old, NULL) == 0) {
                        up_to_date = streq(old->manifest_digest, mdigest);
                        image_free(old);
                }
                out_line(&p.out, "%s: Pulling from %s", ref.digest ? ref.digest : ref.tag, ref.path);
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
                out_line(&p.out, "Digest: %s", top_digest);
                out_line(&p.out, "Status: %s for %s", up_to_date ? "Image is up to date" : "Downloaded newer image",
                         familiar);
                if (p.out.f) {
                        fprintf(p.out.f, "%s\n", full);
                        fflush(p.out.f);
                }
                if (image_id_out)
                        *image_id_out = steal_pointer(&id);
        }
        pull_layers_free(&p);
        reg_client_free(p.c);
        image_ref_free(&ref);
        registry_config_free(&cfg);
        return r;
}

/* ======================================================================
 * Push
 * ====================================================================== */

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
        resp_free(&r);
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
                resp_free(&r);
                return -1;
        }
        long status = r.status;
        resp_free(&r);
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
                        resp_free(&r);
                        return -1;
                }
        }
        if (r.status != 202 || !r.location) {
                cleanup_free char *why = resp_error_text(&r);
                resp_free(&r);
                return berth_error(err, 0, "%s: starting the upload of %s failed: %s", c->host, digest, why);
        }
        cleanup_free char *put = upload_url_with_digest(c->base, r.location, digest);
        resp_free(&r);
        struct upload up = { .f = f, .size = st.st_size };
        char *hdr[] = { "Content-Type: application/octet-stream", NULL };
        if (reg_request(c, "PUT", put, hdr, &up, &r, err) < 0) {
                resp_free(&r);
                return -1;
        }
        if (r.status != 201) {
                cleanup_free char *why = resp_error_text(&r);
                resp_free(&r);
                return berth_error(err, 0, "%s: uploading %s failed: %s", c->host, digest, why);
        }
        resp_free(&r);
        *pushed = true;
        return 0;
}

static int push_manifest(struct reg_client *c, const char *path, const char *tag, const char *body, size_t len,
                         const char *media_type, berth_error_t *err)
{
        cleanup_free char *url = registry_url(c->base, path, "manifests", tag);
        cleanup_free char *ct = xasprintf("Content-Type: %s", media_type);
        char *hdr[] = { ct, NULL };
        struct upload up = { .data = body, .len = len };
        struct http_resp r = {};
        if (reg_request(c, "PUT", url, hdr, &up, &r, err) < 0) {
                resp_free(&r);
                return -1;
        }
        if (r.status != 201 && r.status != 200) {
                cleanup_free char *why = resp_error_text(&r);
                resp_free(&r);
                return berth_error(err, 0, "%s: uploading the manifest failed: %s", c->host, why);
        }
        resp_free(&r);
        return 0;
}

int registry_push(struct berth_store *s, const char *image, const char *dest, const struct registry_push_opts *o,
                  char **digest_out, berth_error_t *err)
{
        struct out out = { .f = o ? o->progress : NULL, .quiet = o && o->quiet };
        cleanup_image struct berth_image *img = NULL;
        if (image_lookup(s, image, &img, err) < 0)
                return -1;
        struct registry_config cfg;
        if (load_config(&cfg, err) < 0)
                return -1;
        struct image_ref ref = {};
        int r = ref_resolve_default(&cfg, dest ? dest : image, &ref, err);
        if (r == 0 && ref.digest && !ref.tag)
                r = berth_error(err, 0, "cannot push to a digest reference; name a tag");
        cleanup_free char *mbody = NULL;
        size_t mlen = 0;
        cleanup_json json_t *mj = NULL;
        if (r == 0)
                r = store_blob_read(s, img->manifest_digest, &mbody, &mlen, err);
        if (r == 0)
                r = parse_json_doc(mbody, mlen, "image manifest", &mj, err);
        cleanup_client struct reg_client *c = NULL;
        if (r == 0) {
                cleanup_free char *scope = xasprintf("repository:%s:pull,push", ref.path);
                r = reg_client_open(&cfg, ref.domain, NULL, scope, true, &c, err);
        }
        if (r == 0) {
                cleanup_free char *repo = xasprintf("%s/%s", ref.domain, ref.path);
                out_line(&out, "The push refers to repository [%s]", repo);
                json_t *layers = json_object_get(mj, "layers");
                size_t nl = json_array_size(layers);
                /* Docker lists the top layer first */
                for (size_t i = nl; i-- > 0;)
                        out_line(&out, "%.12s: Preparing",
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
                                out_line(&out, "%.12s: Mounted from %s", d + 7, from);
                        else if (r == 0)
                                out_line(&out, "%.12s: %s", d + 7, pushed ? "Pushed" : "Layer already exists");
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
                out_line(&out, "%s: digest: %s size: %zu", ref.tag, img->manifest_digest, mlen);
                if (digest_out)
                        *digest_out = xstrdup(img->manifest_digest);
        }
        image_ref_free(&ref);
        registry_config_free(&cfg);
        return r;
}

/* ======================================================================
 * Login / logout
 * ====================================================================== */
static char *server_or_default(const struct registry_config *cfg, const char *server)
{
        if (server)
                return registry_server_host(server);
        return xstrdup(cfg->default_registry ? cfg->default_registry : DOCKER_IO);
}

int registry_login(const char *server, const char *user, const char *password, berth_error_t *err)
{
        struct registry_config cfg;
        if (load_config(&cfg, err) < 0)
                return -1;
        cleanup_free char *host = server_or_default(&cfg, server);
        cleanup_client struct reg_client *c = NULL;
        int r = reg_client_open(&cfg, host, NULL, NULL, false, &c, err); /* (the new ones, not stored ones) */
        registry_config_free(&cfg);
        if (r < 0)
                return -1;
        c->user = xstrdup(user);
        c->password = xstrdup(password);
        cleanup_free char *url = xasprintf("%s/v2/", c->base);
        struct http_resp resp = {};
        berth_error_t e = NULL;
        r = reg_request(c, "GET", url, NULL, NULL, &resp, &e);
        long status = resp.status;
        resp_free(&resp);
        if (r < 0) {
                if (status == 401 || strstr(e->msg, "unauthorized")) {
                        berth_error_free(&e);
                        return berth_error(err, 0, "login to %s failed: unauthorized: incorrect username or password",
                                           host);
                }
                if (err && !*err)
                        *err = steal_pointer(&e);
                berth_error_free(&e);
                return berth_error_wrap(err, "login to %s failed", host);
        }
        if (status != 200)
                return berth_error(err, 0, "login to %s failed: GET %s answered HTTP status %ld", host, url, status);
        cleanup_free char *path = registry_auth_path();
        cleanup_free char *helper = NULL;
        if (creds_helper(host, &helper, err) < 0)
                return -1;
        if (helper && registry_credhelper_store(helper, host, user, password, err) < 0)
                return -1;
        /* with a helper, the file only says that there is a login */
        return registry_auth_file_set(path, host, user, helper ? NULL : password, NULL, err);
}

int registry_logout(const char *server, bool *was_logged_in, char **host_out, berth_error_t *err)
{
        struct registry_config cfg;
        if (load_config(&cfg, err) < 0)
                return -1;
        cleanup_free char *host = server_or_default(&cfg, server);
        registry_config_free(&cfg);
        cleanup_free char *path = registry_auth_path();
        cleanup_free char *helper = NULL;
        bool in_file = false, erased = false;
        if (creds_helper(host, &helper, err) < 0 ||
            registry_auth_file_set(path, host, NULL, NULL, &in_file, err) < 0)
                return -1;
        if (helper && registry_credhelper_erase(helper, host, &erased, err) < 0)
                return -1;
        if (was_logged_in)
                *was_logged_in = in_file || erased;
        if (host_out)
                *host_out = steal_pointer(&host);
        return 0;
}

/* ======================================================================
 * Search
 * ====================================================================== */
#define DOCKER_IO_INDEX "https://index.docker.io" /* where Docker Hub's search API is */
#define CATALOG_PAGE 100

/* GET url for search; a transport failure says what to do about it. */
static int search_get(struct reg_client *c, const char *url, struct http_resp *r, berth_error_t *err)
{
        if (reg_request(c, "GET", url, NULL, NULL, r, err) == 0)
                return 0;
        if (r->status != 0 || !err || !*err)
                return -1; /* (an HTTP answer: the message says what to do already) */
        if ((*err)->errnum == EHOSTUNREACH)
                return berth_error_hint(err, "check the registry's address and that it is running");
        if (startswith(c->base, "https://") && !streq(c->host, DOCKER_IO))
                return berth_error_hint(err,
                                        "if %s serves plain HTTP, list it in \"insecure-registries\" in %s; "
                                        "for a private CA, put its ca.crt in %s/%s/",
                                        c->host, CONFIG_PATH, CERTS_DIR, c->host);
        return -1;
}

static int search_http_error(struct reg_client *c, const char *url, const struct http_resp *r, berth_error_t *err)
{
        cleanup_free char *why = resp_error_text(r);
        if (startswith(why, "HTTP status"))
                return berth_error(err, 0, "search on %s failed: GET %s: %s", c->host, url, why);
        return berth_error(err, 0, "search on %s failed: GET %s: HTTP status %ld: %s", c->host, url, r->status, why);
}

/* Docker Hub's search API.  1: answered, 0: the registry has none (404). */
static int search_v1(struct reg_client *c, const char *query, unsigned limit, const char *prefix,
                     struct registry_search_results *res, berth_error_t *err)
{
        char *q = curl_easy_escape(NULL, query, 0);
        if (!q)
                abort();
        cleanup_free char *url = xasprintf("%s/v1/search?q=%s&n=%u", c->base, q, limit);
        curl_free(q);
        struct http_resp r = {};
        int ret = search_get(c, url, &r, err);
        if (ret == 0 && r.status == 404)
                ret = 0;
        else if (ret == 0 && r.status != 200)
                ret = search_http_error(c, url, &r, err);
        else if (ret == 0 && registry_search_parse_v1(r.body, r.len, prefix, limit, res, err) < 0)
                ret = berth_error_wrap(err, "search on %s: GET %s", c->host, url);
        else if (ret == 0)
                ret = 1;
        resp_free(&r);
        return ret;
}

/* The distribution catalog, page after page (Link: rel="next") until limit
 * names contain query.  1: listed, 0: the registry has no catalog (404). */
static int search_catalog(struct reg_client *c, const char *query, unsigned limit, const char *prefix,
                          struct registry_search_results *res, berth_error_t *err)
{
        cleanup_free char *url = xasprintf("%s/v2/_catalog?n=%d", c->base, CATALOG_PAGE);
        bool first = true, sized = true;
        while (url && res->n < limit) {
                struct http_resp r = {};
                int ret = search_get(c, url, &r, err);
                if (ret == 0 && first && sized && r.status == 400) {
                        /* n above the registry's own page size (distribution's
                         * catalog.maxentries): let it choose */
                        free(url);
                        url = xasprintf("%s/v2/_catalog", c->base);
                        sized = false;
                        resp_free(&r);
                        continue;
                }
                if (ret == 0 && first && r.status == 404) {
                        resp_free(&r);
                        return 0;
                }
                if (ret == 0 && r.status != 200)
                        ret = search_http_error(c, url, &r, err);
                if (ret == 0 && registry_search_parse_catalog(r.body, r.len, query, prefix, limit, res, err) < 0)
                        ret = berth_error_wrap(err, "the catalog of %s: GET %s", c->host, url);
                cleanup_free char *next = ret == 0 && r.link ? registry_link_next(r.link) : NULL;
                resp_free(&r);
                if (ret < 0)
                        return -1;
                char *abs = next ? registry_url_resolve(c->base, next) : NULL;
                if (abs && streq(abs, url)) { /* a registry that names the same page again */
                        free(abs);
                        abs = NULL;
                }
                free(url);
                url = abs;
                first = false;
        }
        return 1;
}

int registry_search(const char *term, const struct registry_search_opts *o, struct registry_search_results *out,
                    berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        struct registry_config cfg;
        if (load_config(&cfg, err) < 0)
                return -1;
        cleanup_free char *host = NULL, *query = NULL;
        registry_search_term_split(term, &host, &query);
        if (!host)
                host = xstrdup(cfg.default_registry ? cfg.default_registry : DOCKER_IO);
        bool hub = streq(host, DOCKER_IO);
        cleanup_client struct reg_client *c = NULL;
        int r = reg_client_open(&cfg, host, hub ? DOCKER_IO_INDEX : NULL, "registry:catalog:*", true, &c, err);
        registry_config_free(&cfg);
        if (r < 0)
                return -1;
        struct registry_search_results all = {};
        const char *prefix = hub ? NULL : host; /* HOST/NAME: what pull takes */
        r = search_v1(c, query, o->limit, prefix, &all, err);
        if (r == 0)
                r = search_catalog(c, query, o->limit, prefix, &all, err);
        if (r == 0)
                r = berth_error(err, 0,
                                "registry %s offers neither a search API (/v1/search) nor a catalog (/v2/_catalog): "
                                "it cannot be searched; pull by full name (berth pull %s/NAME[:TAG])",
                                host, host);
        if (r < 0) {
                registry_search_results_free(&all);
                return -1;
        }
        /* Docker filters the results it got, after the limit */
        size_t kept = 0;
        for (size_t i = 0; i < all.n; i++) {
                if (registry_search_filter_match(&o->filter, &all.v[i])) {
                        all.v[kept++] = all.v[i];
                        continue;
                }
                free(all.v[i].name);
                free(all.v[i].description);
        }
        all.n = kept;
        *out = all;
        return 0;
}
