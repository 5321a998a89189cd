/* berth — `berth search`: Docker Hub's search API, else the distribution
 * catalog page after page; and its pure parts: which registry a term names,
 * Docker's search filters, the next page of a catalog (the Link header), and
 * the answers of the search API and of the catalog.  See
 * include/berth/registry.h. */
#include "config.h"

#include <ctype.h>
#include <strings.h>

#include "berth/registry-internal.h"
#include "berth/util.h"

#define DOCKER_IO_INDEX "https://index.docker.io" /* where Docker Hub's search API is */
#define CATALOG_PAGE 100

void registry_search_results_free(struct registry_search_results *r)
{
        for (size_t i = 0; i < r->n; i++) {
                free(r->v[i].name);
                free(r->v[i].description);
        }
        free(r->v);
        r->v = NULL;
        r->n = 0;
}

static struct registry_search_result *results_add(struct registry_search_results *r, const char *prefix,
                                                  const char *name)
{
        r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
        struct registry_search_result *e = &r->v[r->n++];
        memset(e, 0, sizeof(*e));
        e->name = prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
        e->description = xstrdup("");
        return e;
}

/* ---- the term -------------------------------------------------------------- */

void registry_search_term_split(const char *term, char **host, char **query)
{
        /* Docker's splitReposSearchTerm */
        const char *slash = strchr(term, '/');
        size_t n = slash ? (size_t) (slash - term) : 0;
        if (!slash || (!memchr(term, '.', n) && !memchr(term, ':', n) && !(n == 9 && !strncmp(term, "localhost", 9)))) {
                *host = NULL;
                *query = xstrdup(term);
                return;
        }
        cleanup_free char *h = xstrndup(term, n);
        *host = registry_server_host(h);
        *query = xstrdup(slash + 1);
}

/* ---- filters ----------------------------------------------------------------- */

/* Go's strconv.ParseBool: 1 true, 0 false, -1 neither. */
static int parse_go_bool(const char *v)
{
        static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
        static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                if (streq(v, yes[i]))
                        return 1;
                if (streq(v, no[i]))
                        return 0;
        }
        return -1;
}

int registry_search_filter_add(struct registry_search_filter *f, const char *spec, berth_error_t *err)
{
        const char *eq = strchr(spec, '=');
        if (!eq)
                return berth_error(err, 0, "bad format of filter (expected name=value): %s", spec);
        cleanup_free char *key = xstrndup(spec, (size_t) (eq - spec));
        const char *val = eq + 1;
        if (streq(key, "stars")) {
                char *end = NULL;
                errno = 0;
                long long n = strtoll(val, &end, 10);
                if (!*val || *end || errno)
                        return berth_error(err, 0, "invalid filter 'stars=%s'", val);
                if (n > f->stars)
                        f->stars = n;
                return 0;
        }
        int *slot = streq(key, "is-official") ? &f->official : streq(key, "is-automated") ? &f->automated : NULL;
        if (!slot)
                return berth_error(err, 0, "invalid filter '%s'", key);
        int b = parse_go_bool(val);
        if (b < 0)
                return berth_error(err, 0, "invalid filter '%s=%s'", key, val);
        *slot = b;
        return 0;
}

bool registry_search_filter_match(const struct registry_search_filter *f, const struct registry_search_result *r)
{
        if (r->stars < f->stars)
                return false;
        if (f->official >= 0 && r->official != (f->official == 1))
                return false;
        if (f->automated >= 0 && r->automated != (f->automated == 1))
                return false;
        return true;
}

/* ---- Link: <URL>; rel="next" ------------------------------------------------ */

/* Does a rel value (a quoted or bare, space-separated list) name "next"? */
static bool rel_has_next(const char *v, size_t n)
{
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v++;
                n -= 2;
        }
        for (size_t i = 0; i < n;) {
                while (i < n && isspace((unsigned char) v[i]))
                        i++;
                size_t s = i;
                while (i < n && !isspace((unsigned char) v[i]))
                        i++;
                if (i - s == 4 && strncasecmp(v + s, "next", 4) == 0)
                        return true;
        }
        return false;
}

/* The end of a link-value's parameters: the next ',' outside quotes. */
static const char *params_end(const char *p)
{
        bool quoted = false;
        for (; *p; p++) {
                if (*p == '"')
                        quoted = !quoted;
                else if (*p == '\\' && quoted && p[1])
                        p++;
                else if (*p == ',' && !quoted)
                        break;
        }
        return p;
}

char *registry_link_next(const char *link)
{
        const char *p = link;
        while (p && *p) {
                while (*p == ',' || isspace((unsigned char) *p))
                        p++;
                if (*p != '<')
                        return NULL;
                const char *close = strchr(p, '>');
                if (!close)
                        return NULL;
                const char *url = p + 1;
                size_t url_len = (size_t) (close - url);
                const char *end = params_end(close + 1);
                /* parameters: ; key=value ; key="value" */
                for (const char *q = close + 1; q < end;) {
                        while (q < end && (*q == ';' || isspace((unsigned char) *q)))
                                q++;
                        const char *k = q;
                        while (q < end && *q != '=' && *q != ';')
                                q++;
                        size_t klen = (size_t) (q - k);
                        while (klen > 0 && isspace((unsigned char) k[klen - 1]))
                                klen--;
                        if (q >= end || *q != '=')
                                continue;
                        q++;
                        while (q < end && isspace((unsigned char) *q))
                                q++;
                        const char *v = q;
                        bool quoted = false;
                        while (q < end && (quoted || *q != ';')) {
                                if (*q == '"')
                                        quoted = !quoted;
                                q++;
                        }
                        size_t vlen = (size_t) (q - v);
                        while (vlen > 0 && isspace((unsigned char) v[vlen - 1]))
                                vlen--;
                        if (klen == 3 && strncasecmp(k, "rel", 3) == 0 && rel_has_next(v, vlen))
                                return xstrndup(url, url_len);
                }
                p = end;
        }
        return NULL;
}

/* ---- answers ------------------------------------------------------------------ */

/* haystack contains needle, ASCII letters compared without case. */
static bool contains_nocase(const char *haystack, const char *needle)
{
        size_t n = strlen(needle);
        for (const char *h = haystack;; h++) {
                if (strncasecmp(h, needle, n) == 0)
                        return true;
                if (!*h)
                        return false;
        }
}

/* One Hub result: {"name", "description", "star_count", "is_official",
 * "is_automated"}. */
static int add_v1_result(json_t *e, size_t i, const char *prefix, struct registry_search_results *res,
                         berth_error_t *err)
{
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!name || !*name)
                return berth_error(err, 0, "result %zu has no name", i + 1);
        struct registry_search_result *r = results_add(res, prefix, name);
        const char *d = json_string_value(json_object_get(e, "description"));
        if (d) {
                free(r->description);
                r->description = xstrdup(d);
        }
        r->stars = json_integer_value(json_object_get(e, "star_count"));
        r->official = json_is_true(json_object_get(e, "is_official"));
        r->automated = json_is_true(json_object_get(e, "is_automated"));
        return 0;
}

/* The list under "results" (query NULL) or, for a catalog page, under
 * "repositories" (the names that contain query). */
static int parse_answer(const char *body, size_t len, const char *query, const char *prefix, size_t limit,
                        struct registry_search_results *res, berth_error_t *err)
{
        const char *key = query ? "repositories" : "results";
        json_error_t je;
        json_auto_t *root = json_loadb(body ? body : "", len, 0, &je);
        json_t *list = json_object_get(root, key), *e;
        if (!json_is_array(list))
                return berth_error(err, 0, "the answer has no \"%s\" list (%s)", key,
                                   root ? "not in the expected format" : je.text);
        size_t i;
        json_array_foreach(list, i, e) {
                if (res->n >= limit)
                        break;
                if (!query) {
                        if (add_v1_result(e, i, prefix, res, err) < 0)
                                return -1;
                } else if (json_is_string(e) && contains_nocase(json_string_value(e), query))
                        results_add(res, prefix, json_string_value(e));
        }
        return 0;
}

int registry_search_parse_v1(const char *body, size_t len, const char *prefix, size_t limit,
                             struct registry_search_results *res, berth_error_t *err)
{
        return parse_answer(body, len, NULL, prefix, limit, res, err);
}

int registry_search_parse_catalog(const char *body, size_t len, const char *query, const char *prefix, size_t limit,
                                  struct registry_search_results *res, berth_error_t *err)
{
        return parse_answer(body, len, query, prefix, limit, res, err);
}

/* ---- the HTTP side --------------------------------------------------------- */

/* GET url for search; a transport failure says what to do about it. */
static int search_get(struct reg_client *c, const char *url, struct http_resp *r, berth_error_t *err)
{
        if (reg_request(c, "GET", url, NULL, NULL, r, err) == 0)
                return 0;
        if (r->status != 0 || !err || !*err)
                return -1; /* (an HTTP answer: the message says what to do already) */
        if ((*err)->errnum == EHOSTUNREACH)
                return berth_error_hint(err, "check the registry's address and that it is running");
        cleanup_free char *cfg_path = registry_config_path(), *certs = registry_certs_dir();
        if (startswith(c->base, "https://") && !streq(c->host, DOCKER_IO))
                return berth_error_hint(err,
                                        "if %s serves plain HTTP, list it in \"insecure-registries\" in %s; "
                                        "for a private CA, put its ca.crt in %s/%s/",
                                        c->host, cfg_path, certs, c->host);
        return -1;
}

static int search_http_error(struct reg_client *c, const char *url, const struct http_resp *r, berth_error_t *err)
{
        cleanup_free char *why = reg_resp_error_text(r);
        if (startswith(why, "HTTP status"))
                return berth_error(err, 0, "search on %s failed: GET %s: %s", c->host, url, why);
        return berth_error(err, 0, "search on %s failed: GET %s: HTTP status %ld: %s", c->host, url, r->status, why);
}

/* Docker Hub's search API.  1: answered, 0: the registry has none (404). */
static int search_v1(struct reg_client *c, const char *query, unsigned limit, const char *prefix,
                     struct registry_search_results *res, berth_error_t *err)
{
        char *q = sym_curl_easy_escape(NULL, query, 0);
        if (!q)
                abort();
        cleanup_free char *url = xasprintf("%s/v1/search?q=%s&n=%u", c->base, q, limit);
        sym_curl_free(q);
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
        reg_resp_free(&r);
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
                        reg_resp_free(&r);
                        continue;
                }
                if (ret == 0 && first && r.status == 404) {
                        reg_resp_free(&r);
                        return 0;
                }
                if (ret == 0 && r.status != 200)
                        ret = search_http_error(c, url, &r, err);
                if (ret == 0 && registry_search_parse_catalog(r.body, r.len, query, prefix, limit, res, err) < 0)
                        ret = berth_error_wrap(err, "the catalog of %s: GET %s", c->host, url);
                cleanup_free char *next = ret == 0 && r.link ? registry_link_next(r.link) : NULL;
                reg_resp_free(&r);
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
        if (registry_engine_config_load(&cfg, err) < 0)
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
