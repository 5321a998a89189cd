/* One compose file's tree brought to the long syntax (ports, volumes,
 * secrets, depends_on, networks, build) and KEY=VALUE lists as mappings, so
 * that several files merge by the compose specification's rules: mappings
 * merged key by key, sequences appended, command/entrypoint/healthcheck
 * test replaced, ports/volumes/secrets merged by their unique key, and the
 * !reset and !override tags.  And the accessors the model reads scalars
 * with. */
#include "config.h"

#include <ctype.h>
#include <limits.h>

#include "berth/compose-internal.h"
#include "berth/util.h"

/* ---- scalars ------------------------------------------------------------ */

int cnode_str(const struct cnode *n, const char *what, char **out, berth_error_t *err)
{
        if (!n || n->kind != CNODE_SCALAR)
                return cnode_error(err, n, "%s must be a string", what);
        free(*out);
        *out = xstrdup(n->value);
        return 0;
}

int cnode_bool(const struct cnode *n, const char *what, bool *out, berth_error_t *err)
{
        if (n && n->kind == CNODE_SCALAR && !n->quoted) {
                const char *v = n->value;
                if (streq(v, "true") || streq(v, "True") || streq(v, "TRUE")) {
                        *out = true;
                        return 0;
                }
                if (streq(v, "false") || streq(v, "False") || streq(v, "FALSE")) {
                        *out = false;
                        return 0;
                }
        }
        /* an interpolated value is a string: "true"/"false" as Docker takes them */
        if (n && n->kind == CNODE_SCALAR && (streq(n->value, "true") || streq(n->value, "false"))) {
                *out = streq(n->value, "true");
                return 0;
        }
        return cnode_error(err, n, "%s must be a boolean (true or false)", what);
}

int cnode_int(const struct cnode *n, const char *what, long long min, long long max, long long *out,
              berth_error_t *err)
{
        if (n && n->kind == CNODE_SCALAR && *n->value) {
                char *end = NULL;
                errno = 0;
                long long v = strtoll(n->value, &end, 10);
                if (errno == 0 && !*end && v >= min && v <= max) {
                        *out = v;
                        return 0;
                }
        }
        return cnode_error(err, n, "%s must be an integer from %lld to %lld", what, min, max);
}

int cnode_strv(const struct cnode *n, const char *what, bool one_ok, char ***out, berth_error_t *err)
{
        cleanup_strv char **v = xcalloc(1, sizeof(char *));
        if (one_ok && n && n->kind == CNODE_SCALAR)
                strv_push(&v, n->value);
        else if (n && n->kind == CNODE_SEQ) {
                for (size_t i = 0; i < n->n; i++) {
                        if (n->items[i]->kind != CNODE_SCALAR)
                                return cnode_error(err, n->items[i], "%s must be a list of strings", what);
                        strv_push(&v, n->items[i]->value);
                }
        } else
                return cnode_error(err, n, "%s must be a list of strings%s", what, one_ok ? " or a string" : "");
        strv_free(*out);
        *out = steal_pointer(&v);
        return 0;
}

/* ---- normalisation ------------------------------------------------------ */

static struct cnode *str_at(const char *v, const struct cnode *at)
{
        return cnode_scalar(v, CSCALAR_STR, at->file, at->line);
}

/* [K=V, K] → {K: V, K: null} (a mapping stays). */
static int kv_list_to_map(struct cnode **slot, const char *what, berth_error_t *err)
{
        struct cnode *n = *slot;
        if (n->kind == CNODE_MAP || n->kind == CNODE_NULL)
                return 0;
        if (n->kind != CNODE_SEQ)
                return cnode_error(err, n, "%s must be a mapping or a list of KEY=VALUE", what);
        struct cnode *m = cnode_new(CNODE_MAP, n->file, n->line);
        m->reset = n->reset;
        m->override = n->override;
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *it = n->items[i];
                if (it->kind != CNODE_SCALAR) {
                        cnode_free(m);
                        return cnode_error(err, it, "%s must be a list of KEY=VALUE strings", what);
                }
                char *eq = strchr(it->value, '=');
                cleanup_free char *k = eq ? xstrndup(it->value, eq - it->value) : xstrdup(it->value);
                cnode_set(m, k, eq ? str_at(eq + 1, it) : cnode_new(CNODE_NULL, it->file, it->line));
        }
        cnode_free(n);
        *slot = m;
        return 0;
}

static struct cnode **slot_of(struct cnode *map, const char *key)
{
        for (size_t i = 0; map && map->kind == CNODE_MAP && i < map->n; i++)
                if (streq(map->keys[i], key))
                        return &map->items[i];
        return NULL;
}

static int parse_port_range(const char *s, unsigned *lo, unsigned *hi)
{
        char *end = NULL;
        if (!isdigit((unsigned char) *s))
                return -1;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (*end == '-') {
                if (!isdigit((unsigned char) end[1]))
                        return -1;
                b = strtoul(end + 1, &end, 10);
        }
        if (*end || a > 65535 || b > 65535 || b < a)
                return -1;
        *lo = a;
        *hi = b;
        return 0;
}

/* "[[IP:]PUBLISHED:]TARGET[/PROTOCOL]" → long-syntax mappings, appended to seq. */
static int port_short(const struct cnode *it, struct cnode *seq, berth_error_t *err)
{
        cleanup_free char *s = xstrdup(it->value);
        const char *proto = "tcp", *host_ip = NULL, *published = NULL;
        char *slash = strchr(s, '/');
        if (slash) {
                *slash = '\0';
                proto = slash + 1;
        }
        char *target = strrchr(s, ':');
        if (target) {
                *target++ = '\0';
                char *pub = strrchr(s, ':');
                if (pub) {
                        *pub++ = '\0';
                        host_ip = s;
                        published = pub;
                } else if (s[0] == '[' || strchr(s, '.'))
                        host_ip = s; /* IP:TARGET is not a form: refused below */
                else
                        published = s;
        } else
                target = s;
        if (host_ip && !published)
                return cnode_error(err, it, "invalid port \"%s\"", it->value);
        if (host_ip && host_ip[0] == '[') {
                size_t l = strlen(host_ip);
                if (l < 2 || host_ip[l - 1] != ']')
                        return cnode_error(err, it, "invalid host IP in port \"%s\"", it->value);
                ((char *) host_ip)[l - 1] = '\0';
                host_ip++;
        }
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                return cnode_error(err, it, "invalid protocol \"%s\" in port \"%s\"", proto, it->value);
        unsigned tlo, thi, plo = 0, phi = 0;
        if (parse_port_range(target, &tlo, &thi) < 0 || tlo == 0)
                return cnode_error(err, it, "invalid container port in \"%s\"", it->value);
        if (published && *published && parse_port_range(published, &plo, &phi) < 0)
                return cnode_error(err, it, "invalid published port in \"%s\"", it->value);
        if (published && !*published)
                published = NULL;
        if (thi > tlo && published && phi - plo != thi - tlo)
                return cnode_error(err, it, "port ranges of different lengths in \"%s\"", it->value);
        for (unsigned t = tlo; t <= thi; t++) {
                struct cnode *m = cnode_new(CNODE_MAP, it->file, it->line);
                cnode_set(m, "mode", str_at("ingress", it));
                if (host_ip && *host_ip)
                        cnode_set(m, "host_ip", str_at(host_ip, it));
                cleanup_free char *ts = xasprintf("%u", t);
                cnode_set(m, "target", str_at(ts, it));
                if (published) {
                        cleanup_free char *ps = thi > tlo ? xasprintf("%u", plo + (t - tlo)) : xstrdup(published);
                        cnode_set(m, "published", str_at(ps, it));
                }
                cnode_set(m, "protocol", str_at(proto, it));
                cnode_push(seq, m);
        }
        return 0;
}

/* "SOURCE:TARGET[:MODE]" or "TARGET" → the long syntax. */
static int volume_short(const struct cnode *it, struct cnode **out, berth_error_t *err)
{
        cleanup_free char *s = xstrdup(it->value);
        char *parts[4] = {};
        size_t n = strsplit_inplace(s, ':', parts, 4);
        if (n == 0 || n > 3 || !*parts[n > 1])
                return cnode_error(err, it, "invalid volume \"%s\": expected [SOURCE:]TARGET[:MODE]", it->value);
        struct cnode *m = cnode_new(CNODE_MAP, it->file, it->line);
        const char *src = n > 1 ? parts[0] : NULL, *target = parts[n > 1];
        bool bind = src && (src[0] == '/' || src[0] == '.' || src[0] == '~');
        cnode_set(m, "type", str_at(bind ? "bind" : "volume", it));
        if (src)
                cnode_set(m, "source", str_at(src, it));
        cnode_set(m, "target", str_at(target, it));
        struct cnode *opts = cnode_new(CNODE_MAP, it->file, it->line);
        if (bind)
                cnode_set(opts, "create_host_path", str_at("true", it));
        if (n == 3) {
                char *save = NULL;
                for (char *o = strtok_r(parts[2], ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        if (streq(o, "ro"))
                                cnode_set(m, "read_only", str_at("true", it));
                        else if (streq(o, "rw"))
                                ;
                        else if (bind && (streq(o, "z") || streq(o, "Z")))
                                cnode_set(opts, "selinux", str_at(o, it));
                        else if (!bind && streq(o, "nocopy"))
                                cnode_set(opts, "nocopy", str_at("true", it));
                        else {
                                cnode_free(opts);
                                cnode_free(m);
                                return cnode_error(err, it, "volume mode \"%s\" in \"%s\" is not supported", o,
                                                   it->value);
                        }
                }
        }
        cnode_set(m, bind ? "bind" : "volume", opts);
        *out = m;
        return 0;
}

/* [a, b] → {a: V, b: V}: V is {condition: service_started} for
 * depends_on, null for networks. */
static int names_to_map(struct cnode **slot, const char *bad, bool dependency, berth_error_t *err)
{
        struct cnode *n = *slot;
        if (n->kind != CNODE_SEQ)
                return 0;
        struct cnode *m = cnode_new(CNODE_MAP, n->file, n->line);
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *it = n->items[i], *v;
                if (it->kind != CNODE_SCALAR) {
                        cnode_free(m);
                        return cnode_error(err, it, "%s", bad);
                }
                if (dependency) {
                        v = cnode_new(CNODE_MAP, it->file, it->line);
                        cnode_set(v, "condition", str_at("service_started", it));
                } else
                        v = cnode_new(CNODE_NULL, it->file, it->line);
                cnode_set(m, it->value, v);
        }
        cnode_free(n);
        *slot = m;
        return 0;
}

static int normalize_service(const char *name, struct cnode *s, berth_error_t *err)
{
        if (s->kind == CNODE_NULL) {
                s->kind = CNODE_MAP;
                return 0;
        }
        if (s->kind != CNODE_MAP)
                return cnode_error(err, s, "service \"%s\" must be a mapping", name);
        struct cnode **p;
        if ((p = slot_of(s, "build")) && (*p)->kind == CNODE_SCALAR) {
                struct cnode *m = cnode_new(CNODE_MAP, (*p)->file, (*p)->line);
                cnode_set(m, "context", *p);
                *p = m;
        }
        if ((p = slot_of(s, "build")) && (*p)->kind == CNODE_MAP && (p = slot_of(*p, "args")) &&
            kv_list_to_map(p, "build.args", err) < 0)
                return -1;
        if ((p = slot_of(s, "environment")) && kv_list_to_map(p, "environment", err) < 0)
                return -1;
        if ((p = slot_of(s, "labels")) && kv_list_to_map(p, "labels", err) < 0)
                return -1;
        if ((p = slot_of(s, "env_file")) && (*p)->kind == CNODE_SCALAR) {
                struct cnode *q = cnode_new(CNODE_SEQ, (*p)->file, (*p)->line);
                cnode_push(q, *p);
                *p = q;
        }
        if ((p = slot_of(s, "depends_on")) && names_to_map(p, "depends_on must list service names", true, err) < 0)
                return -1;
        if ((p = slot_of(s, "networks")) && names_to_map(p, "networks must list network names", false, err) < 0)
                return -1;
        if ((p = slot_of(s, "ports")) && (*p)->kind == CNODE_SEQ) {
                struct cnode *q = cnode_new(CNODE_SEQ, (*p)->file, (*p)->line);
                q->reset = (*p)->reset;
                q->override = (*p)->override;
                for (size_t i = 0; i < (*p)->n; i++) {
                        struct cnode *it = (*p)->items[i];
                        if (it->kind == CNODE_SCALAR) {
                                if (port_short(it, q, err) < 0) {
                                        cnode_free(q);
                                        return -1;
                                }
                        } else
                                cnode_push(q, cnode_copy(it));
                }
                cnode_free(*p);
                *p = q;
        }
        if ((p = slot_of(s, "volumes")) && (*p)->kind == CNODE_SEQ)
                for (size_t i = 0; i < (*p)->n; i++) {
                        struct cnode **it = &(*p)->items[i], *m = NULL;
                        if ((*it)->kind != CNODE_SCALAR)
                                continue;
                        if (volume_short(*it, &m, err) < 0)
                                return -1;
                        cnode_free(*it);
                        *it = m;
                }
        if ((p = slot_of(s, "secrets")) && (*p)->kind == CNODE_SEQ)
                for (size_t i = 0; i < (*p)->n; i++) {
                        struct cnode **it = &(*p)->items[i];
                        if ((*it)->kind != CNODE_SCALAR)
                                continue;
                        struct cnode *m = cnode_new(CNODE_MAP, (*it)->file, (*it)->line);
                        cnode_set(m, "source", *it);
                        *it = m;
                }
        return 0;
}

int compose_normalize(struct cnode *root, berth_error_t *err)
{
        struct cnode *services = cnode_get(root, "services");
        if (!services || services->kind == CNODE_NULL)
                return 0;
        if (services->kind != CNODE_MAP)
                return cnode_error(err, services, "services must be a mapping");
        for (size_t i = 0; i < services->n; i++)
                if (normalize_service(services->keys[i], services->items[i], err) < 0)
                        return -1;
        return 0;
}

/* ---- merge -------------------------------------------------------------- */

enum merge_ctx { AT_TOP, AT_SERVICES, AT_SERVICE, AT_HEALTHCHECK, AT_OTHER };

/* The unique key of a ports/volumes/secrets entry (a new string). */
static char *unique_key(const char *what, const struct cnode *it)
{
        if (it->kind != CNODE_MAP)
                return NULL;
#define V(k) (cnode_get(it, k) && cnode_get(it, k)->kind == CNODE_SCALAR ? cnode_get(it, k)->value : "")
        if (streq(what, "ports"))
                return xasprintf("%s|%s|%s|%s", V("host_ip"), V("target"), V("published"),
                                 *V("protocol") ? V("protocol") : "tcp");
        if (streq(what, "secrets") && !*V("target"))
                return xstrdup(V("source"));
        return xstrdup(V("target"));
#undef V
}

static void merge_map(struct cnode *base, struct cnode *over, enum merge_ctx ctx);

static void merge_seq(const char *key, struct cnode *base, struct cnode *over, enum merge_ctx ctx)
{
        bool unique = ctx == AT_SERVICE && (streq(key, "ports") || streq(key, "volumes") || streq(key, "secrets"));
        for (size_t i = 0; i < over->n; i++) {
                struct cnode *it = over->items[i];
                bool done = false;
                cleanup_free char *k = unique ? unique_key(key, it) : NULL;
                for (size_t j = 0; j < base->n && !done; j++) {
                        struct cnode *b = base->items[j];
                        if (k) {
                                cleanup_free char *bk = unique_key(key, b);
                                if (bk && streq(bk, k)) {
                                        merge_map(b, it, AT_OTHER);
                                        done = true;
                                }
                        } else if (b->kind == CNODE_SCALAR && it->kind == CNODE_SCALAR && streq(b->value, it->value))
                                done = true; /* the same string twice is one */
                }
                if (!done)
                        cnode_push(base, cnode_copy(it));
        }
}

static void merge_map(struct cnode *base, struct cnode *over, enum merge_ctx ctx)
{
        for (size_t i = 0; i < over->n; i++) {
                const char *key = over->keys[i];
                struct cnode *o = over->items[i], **slot = slot_of(base, key);
                enum merge_ctx sub = ctx == AT_TOP && streq(key, "services") ? AT_SERVICES
                                     : ctx == AT_SERVICES                    ? AT_SERVICE
                                     : ctx == AT_SERVICE && streq(key, "healthcheck") ? AT_HEALTHCHECK
                                                                                      : AT_OTHER;
                if (o->reset) {
                        if (slot) {
                                cnode_free(*slot);
                                *slot = cnode_new(CNODE_NULL, o->file, o->line);
                                (*slot)->reset = true;
                        }
                        continue;
                }
                if (!slot || o->override || (*slot)->kind != o->kind) {
                        cnode_set(base, key, cnode_copy(o));
                        continue;
                }
                bool replace = (ctx == AT_SERVICE && (streq(key, "command") || streq(key, "entrypoint"))) ||
                               (ctx == AT_HEALTHCHECK && streq(key, "test"));
                if (o->kind == CNODE_MAP)
                        merge_map(*slot, o, sub);
                else if (o->kind == CNODE_SEQ && !replace)
                        merge_seq(key, *slot, o, ctx);
                else
                        cnode_set(base, key, cnode_copy(o));
        }
}

void compose_merge(struct cnode *base, struct cnode *over)
{
        merge_map(base, over, AT_TOP);
}
