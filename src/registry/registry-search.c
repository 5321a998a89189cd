/* berth — the pure parts of `berth search`: which registry a term names,
 * Docker's search filters, the next page of a catalog (the Link header), and
 * the answers of the search API and of the catalog.  See
 * include/berth/registry.h; the HTTP side is registry_search() in
 * registry.c. */
#include "config.h"

#include <ctype.h>
#include <strings.h>

#include "berth/registry.h"
#include "berth/util.h"

static void json_freep(json_t **j)
{
        json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(json_freep)))

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
        cleanup_json json_t *root = json_loadb(body ? body : "", len, 0, &je);
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
