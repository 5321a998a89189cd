/* berth — the client of one registry over libcurl: where it is reached,
 * TLS, credentials, one HTTP exchange, and the authentication dance.  See
 * include/berth/registry-internal.h.
 *
 * One client per registry and repository: it knows the base URL (https, or
 * http for insecure-registries), the CA and client certificate of certs.d,
 * the stored credentials and the Authorization header that last worked.
 * Every request that gets a 401 reads the WWW-Authenticate challenge,
 * authenticates (Basic, or a Bearer token from the realm for the
 * repository's scope) and is sent once more.  What a registry answers is
 * bounded (MAX_DOCUMENT, MAX_TOKEN_BODY, REGISTRY_MAX_ERROR_BODY) and so are
 * its redirects (MAX_REDIRECTS). */
#include "config.h"

#include "berth/blob.h"
#include "berth/registry-internal.h"
#include "berth/rootless.h"
#include "berth/util.h"

#define SYSTEM_CA_PATH "/etc/ssl/certs"
#define DOCKER_IO_API "registry-1.docker.io"
#define MAX_DOCUMENT (4 << 20) /* manifests and configs: the spec's manifest limit */
#define MAX_TOKEN_BODY (1 << 20) /* a token server's answer */
#define MAX_REDIRECTS 10L /* as Go's http client, which Docker uses */

static void curl_slist_freep(struct curl_slist **l)
{
        if (*l)
        sym_curl_slist_free_all(*l);
}
#define cleanup_slist __attribute__((cleanup(curl_slist_freep)))

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

void reg_resp_free(struct http_resp *r)
{
        resp_reset(r);
        berth_error_free(&r->sink_err);
}

void reg_client_free(struct reg_client *c)
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

/* A client for host; base_url overrides where it is reached (a mirror).
 * With stored_creds (and no base_url), it has the credentials stored for host. */
int reg_client_open(const struct registry_config *cfg, const char *host, const char *base_url, const char *scope,
                    bool stored_creds, struct reg_client **out, berth_error_t *err)
{
        if (registry_curl_load(err) < 0)
                return -1;
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
        cleanup_free char *certs = registry_certs_dir();
        c->ca_file = file_if_exists(xasprintf("%s/%s/ca.crt", certs, contact));
        c->cert_file = file_if_exists(xasprintf("%s/%s/client.cert", certs, contact));
        c->key_file = file_if_exists(xasprintf("%s/%s/client.key", certs, contact));
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
        sym_curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
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
        size_t limit = r->sink ? REGISTRY_MAX_ERROR_BODY : r->limit ? r->limit : MAX_DOCUMENT;
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
void reg_easy_setup(struct reg_client *c, CURL *h, const char *url, struct curl_slist *headers,
                    struct http_resp *r)
{
        sym_curl_easy_setopt(h, CURLOPT_URL, url);
        sym_curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
        sym_curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        sym_curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        sym_curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
        sym_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        sym_curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
        sym_curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
        sym_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        sym_curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* a stalled transfer (a registry that stopped sending) fails */
        sym_curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        sym_curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_timeout);
        /* Redirects (a blob served from a CDN) are followed, at most
         * MAX_REDIRECTS of them, to http and https only.  The Authorization
         * header berth sets itself does not follow a redirect to another host
         * or port: libcurl drops custom Authorization headers there since
         * 7.83 (CVE-2022-27776), and the *_PROTOCOLS_STR options below need
         * 7.85 already; CURLOPT_UNRESTRICTED_AUTH is never set. */
        sym_curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
        sym_curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        sym_curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        if (c->ca_file) {
                /* certs.d adds to the system CAs, as Docker's does */
                sym_curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
                sym_curl_easy_setopt(h, CURLOPT_CAPATH, SYSTEM_CA_PATH);
        }
        if (c->cert_file && c->key_file) {
                sym_curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
                sym_curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
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
struct curl_slist *reg_headers_with_auth(struct reg_client *c, const char *url, char *const *extra)
{
        struct curl_slist *l = NULL;
        for (size_t i = 0; extra && extra[i]; i++)
                l = sym_curl_slist_append(l, extra[i]);
        if (c->auth && (c->auth_to_realm || on_registry(c, url)))
                l = sym_curl_slist_append(l, c->auth);
        l = sym_curl_slist_append(l, "Expect:");
        return l;
}

/* "Get "URL": what curl said", as one line. */
static int transport_error(struct reg_client *c, CURLcode code, const char *method, const char *url,
                           berth_error_t *err)
{
        const char *why = c->errbuf[0] ? c->errbuf : sym_curl_easy_strerror(code);
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
char *reg_resp_error_text(const struct http_resp *r)
{
        json_auto_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
        json_t *e = json_array_get(json_object_get(j, "errors"), 0);
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *code = json_string_value(json_object_get(e, "code"));
        if (msg && *msg)
                return xstrdup(msg);
        if (code)
                return xstrdup(code);
        return xasprintf("HTTP status %ld", r->status);
}

static int perform(struct reg_client *c, const char *method, const char *url, char *const *extra,
                   const struct http_upload *up, struct http_resp *r, berth_error_t *err)
{
        CURL *h = sym_curl_easy_init();
        if (!h)
                abort();
        cleanup_slist struct curl_slist *headers = reg_headers_with_auth(c, url, extra);
        c->errbuf[0] = '\0';
        reg_easy_setup(c, h, url, headers, r);
        if (streq(method, "HEAD"))
                sym_curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (streq(method, "GET"))
                sym_curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        else if (up && up->f) {
                rewind(up->f);
                sym_curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                sym_curl_easy_setopt(h, CURLOPT_READDATA, up->f);
                sym_curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up->size);
        } else {
                sym_curl_easy_setopt(h, CURLOPT_POSTFIELDS, up ? (const char *) up->data : "");
                sym_curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (up ? up->len : 0));
        }
        if (!streq(method, "GET") && !streq(method, "HEAD"))
                sym_curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        CURLcode code = sym_curl_easy_perform(h);
        sym_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        c->os_errno = 0;
        sym_curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &c->os_errno);
        sym_curl_easy_cleanup(h);
        r->h = NULL;
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
        CURL *esc = sym_curl_easy_init();
        if (!esc)
                abort();
        cleanup_free char *url = xstrdup(ch->realm);
        const char *params[][2] = { { "service", ch->service }, { "scope", scope } };
        for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
                if (!params[i][1])
                        continue;
                char *e = sym_curl_easy_escape(esc, params[i][1], 0);
                char *next = xasprintf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', params[i][0], e);
                sym_curl_free(e);
                free(url);
                url = next;
        }
        sym_curl_easy_cleanup(esc);
        /* the old header is not sent to the realm: dropped now */
        free(c->auth);
        c->auth = NULL;
        if (c->user)
                c->auth = basic_header(c);
        struct http_resp r = { .limit = MAX_TOKEN_BODY };
        c->auth_to_realm = true;
        int ret = perform(c, "GET", url, NULL, NULL, &r, err);
        c->auth_to_realm = false;
        free(c->auth);
        c->auth = NULL;
        if (ret < 0) {
                reg_resp_free(&r);
                return -1;
        }
        if (r.status == 401 || r.status == 403) {
                reg_resp_free(&r);
                return berth_error(err, 0, "%s: unauthorized: %s; run `berth login %s`", c->host,
                                   c->user ? "incorrect username or password" : "authentication required",
                                   c->host);
        }
        json_auto_t *j = r.status == 200 && r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok)
                tok = json_string_value(json_object_get(j, "access_token"));
        if (!tok || !*tok) {
                cleanup_free char *why = reg_resp_error_text(&r);
                reg_resp_free(&r);
                return berth_error(err, 0, "%s: the token server %s gave no token (%s)", c->host, ch->realm, why);
        }
        c->auth = xasprintf("Authorization: Bearer %s", tok);
        reg_resp_free(&r);
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
int reg_request(struct reg_client *c, const char *method, const char *url, char *const *extra,
                const struct http_upload *up, struct http_resp *r, berth_error_t *err)
{
        for (int attempt = 0;; attempt++) {
                resp_reset(r);
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

char *registry_upload_url(const char *base, const char *location, const char *param)
{
        cleanup_free char *abs = registry_url_resolve(base, location);
        return xasprintf("%s%c%s", abs, strchr(abs, '?') ? '&' : '?', param ? param : "");
}

char *registry_config_path(void)
{
        cleanup_free char *d = rootless_config_dir();
        return xasprintf("%s/config.json", d);
}

char *registry_certs_dir(void)
{
        cleanup_free char *d = rootless_config_dir();
        return xasprintf("%s/certs.d", d);
}

int registry_engine_config_load(struct registry_config *cfg, berth_error_t *err)
{
        cleanup_free char *p = registry_config_path();
        return registry_config_load(p, cfg, err);
}
