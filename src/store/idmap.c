/* berth — id mappings, subordinate ranges and `--userns=auto` ranges
 * (idmap.h). */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>

#include "berth/container.h"
#include "berth/idmap.h"
#include "berth/json-util.h"
#include "berth/util.h"

/* A decimal uint32 filling all of text. */
static bool parse_u32(const char *text, size_t len, uint32_t *out)
{
        if (len == 0 || len > 10)
                return false;
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char) text[i]))
                        return false;
                v = v * 10 + (uint64_t) (text[i] - '0');
        }
        if (v > UINT32_MAX)
                return false;
        *out = (uint32_t) v;
        return true;
}

/* The end (exclusive) of a range as 64 bits: no overflow. */
static uint64_t end_of(uint32_t start, uint32_t size)
{
        return (uint64_t) start + size;
}

static bool overlap(uint32_t a, uint32_t as, uint32_t b, uint32_t bs)
{
        return a < end_of(b, bs) && b < end_of(a, as);
}

int idmap_range_parse(const char *text, struct idmap_range *out, berth_error_t *err)
{
        const char *c1 = strchr(text, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        struct idmap_range r;
        if (!c2 || !parse_u32(text, (size_t) (c1 - text), &r.container) ||
            !parse_u32(c1 + 1, (size_t) (c2 - c1 - 1), &r.host) || !parse_u32(c2 + 1, strlen(c2 + 1), &r.size))
                return berth_error(err, 0, "invalid id mapping '%s': want CONTAINER_ID:HOST_ID:SIZE", text);
        if (r.size == 0)
                return berth_error(err, 0, "invalid id mapping '%s': the size is 0", text);
        if (end_of(r.container, r.size) > (uint64_t) UINT32_MAX || end_of(r.host, r.size) > (uint64_t) UINT32_MAX)
                return berth_error(err, 0, "invalid id mapping '%s': the range passes 4294967294", text);
        *out = r;
        return 0;
}

int idmap_add(struct idmap *m, const struct idmap_range *r, const char *what, berth_error_t *err)
{
        if (m->n >= IDMAP_MAX)
                return berth_error(err, 0, "%s: more than %d ranges", what, IDMAP_MAX);
        for (size_t i = 0; i < m->n; i++)
                if (overlap(m->r[i].container, m->r[i].size, r->container, r->size) ||
                    overlap(m->r[i].host, m->r[i].size, r->host, r->size))
                        return berth_error(err, 0, "%s: %" PRIu32 ":%" PRIu32 ":%" PRIu32 " overlaps %" PRIu32
                                           ":%" PRIu32 ":%" PRIu32, what, r->container, r->host, r->size,
                                           m->r[i].container, m->r[i].host, m->r[i].size);
        m->r[m->n++] = *r;
        return 0;
}

bool idmap_to_host(const struct idmap *m, uint32_t id, uint32_t *host)
{
        for (size_t i = 0; i < m->n; i++)
                if (id >= m->r[i].container && (uint64_t) id < end_of(m->r[i].container, m->r[i].size)) {
                        *host = m->r[i].host + (id - m->r[i].container);
                        return true;
                }
        return false;
}

bool idmap_to_container(const struct idmap *m, uint32_t host, uint32_t *id)
{
        for (size_t i = 0; i < m->n; i++)
                if (host >= m->r[i].host && (uint64_t) host < end_of(m->r[i].host, m->r[i].size)) {
                        *id = m->r[i].container + (host - m->r[i].host);
                        return true;
                }
        return false;
}

json_t *idmap_to_json(const struct idmap *m)
{
        json_t *a = json_array();
        for (size_t i = 0; i < m->n; i++) {
                cleanup_free char *t = xasprintf("%" PRIu32 ":%" PRIu32 ":%" PRIu32, m->r[i].container, m->r[i].host,
                                                 m->r[i].size);
                json_array_append_new(a, json_string(t));
        }
        return a;
}

int idmap_from_json(json_t *arr, struct idmap *m, berth_error_t *err)
{
        *m = (struct idmap) {};
        if (!json_is_array(arr))
                return berth_error(err, 0, "the id mapping is not a list");
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                struct idmap_range r;
                if (!json_is_string(v))
                        return berth_error(err, 0, "the id mapping has an entry that is not a string");
                if (idmap_range_parse(json_string_value(v), &r, err) < 0 || idmap_add(m, &r, "id mapping", err) < 0)
                        return -1;
        }
        return 0;
}

char *idmap_proc_text(const struct idmap *m)
{
        struct strbuf b = {};
        for (size_t i = 0; i < m->n; i++)
                strbuf_printf(&b, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", m->r[i].container, m->r[i].host,
                              m->r[i].size);
        return strbuf_steal(&b);
}

int idmap_subid_parse(const char *content, const char *name, uid_t uid, struct idmap_range *out, size_t max,
                      size_t *n, berth_error_t *err)
{
        *n = 0;
        char uidbuf[16] = "";
        if (uid != (uid_t) -1)
                snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned) uid);
        unsigned lineno = 0;
        for (const char *p = content; p && *p;) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t) (eol - p) : strlen(p);
                const char *line = p;
                p = eol ? eol + 1 : p + len;
                lineno++;
                while (len > 0 && isspace((unsigned char) line[len - 1]))
                        len--;
                if (len == 0 || line[0] == '#')
                        continue;
                const char *c1 = memchr(line, ':', len);
                if (!c1)
                        continue;
                size_t nlen = (size_t) (c1 - line);
                bool mine = (name && strlen(name) == nlen && strncmp(line, name, nlen) == 0) ||
                            (*uidbuf && strlen(uidbuf) == nlen && strncmp(line, uidbuf, nlen) == 0);
                if (!mine)
                        continue;
                const char *rest = c1 + 1, *end = line + len;
                const char *c2 = memchr(rest, ':', (size_t) (end - rest));
                struct idmap_range r = {};
                if (!c2 || !parse_u32(rest, (size_t) (c2 - rest), &r.host) ||
                    !parse_u32(c2 + 1, (size_t) (end - c2 - 1), &r.size) || r.size == 0 ||
                    end_of(r.host, r.size) > (uint64_t) UINT32_MAX)
                        return berth_error(err, 0, "line %u: invalid entry '%.*s': want NAME:START:COUNT", lineno,
                                           (int) len, line);
                if (*n >= max)
                        return berth_error(err, 0, "line %u: more than %zu ranges for %s", lineno, max, name);
                out[(*n)++] = r;
        }
        return 0;
}

int idmap_subid_read(const char *path, const char *name, uid_t uid, struct idmap_range *out, size_t max, size_t *n,
                     berth_error_t *err)
{
        cleanup_free char *text = NULL;
        *n = 0;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        if (read_file(path, &text, NULL, err) < 0)
                return -1;
        if (idmap_subid_parse(text, name, uid, out, max, n, err) < 0)
                return berth_error_wrap(err, "%s", path);
        return 0;
}

int idmap_allocate(const struct idmap_range *avail, size_t navail, const struct idmap_range *taken,
                   size_t ntaken, uint32_t size, uint32_t *host_start, berth_error_t *err)
{
        for (size_t a = 0; a < navail; a++) {
                uint64_t start = avail[a].host, end = end_of(avail[a].host, avail[a].size);
                /* move past each taken range in the way until none is */
                bool moved = true;
                while (moved && start + size <= end) {
                        moved = false;
                        for (size_t t = 0; t < ntaken; t++)
                                if (overlap((uint32_t) start, size, taken[t].host, taken[t].size)) {
                                        start = end_of(taken[t].host, taken[t].size);
                                        moved = true;
                                }
                }
                if (start + size <= end) {
                        *host_start = (uint32_t) start;
                        return 0;
                }
        }
        return berth_error(err, 0, "no free range of %" PRIu32 " ids left in the subordinate ranges", size);
}

/* "uid=N,gid=N" of keep-id:, each at most once. */
static int keep_id_options(const char *mode, const char *opts, struct idmap_userns *u, berth_error_t *err)
{
        cleanup_free char *copy = xstrdup(opts);
        char *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                bool is_uid = startswith(o, "uid="), is_gid = startswith(o, "gid=");
                uint32_t v;
                if ((!is_uid && !is_gid) || !parse_u32(o + 4, strlen(o + 4), &v) || (is_uid ? u->has_uid : u->has_gid))
                        return berth_error(err, 0, "invalid --userns '%s': keep-id takes uid=N and gid=N", mode);
                if (is_uid) {
                        u->uid = v;
                        u->has_uid = true;
                } else {
                        u->gid = v;
                        u->has_gid = true;
                }
        }
        if (!u->has_uid && !u->has_gid)
                return berth_error(err, 0, "invalid --userns '%s': keep-id takes uid=N and gid=N", mode);
        return 0;
}

int idmap_userns_parse(const char *mode, struct idmap_userns *u, berth_error_t *err)
{
        *u = (struct idmap_userns) { .kind = USERNS_HOST, .size = IDMAP_AUTO_SIZE };
        if (!mode || !*mode || streq(mode, "host"))
                return 0;
        if (streq(mode, "nomap")) {
                u->kind = USERNS_NOMAP;
                return 0;
        }
        if (streq(mode, "keep-id") || startswith(mode, "keep-id:")) {
                u->kind = USERNS_KEEP_ID;
                return mode[7] ? keep_id_options(mode, mode + 8, u, err) : 0;
        }
        if (!streq(mode, "auto") && !startswith(mode, "auto:"))
                return berth_error(err, 0, "invalid --userns '%s': use host, auto[:size=N], keep-id[:uid=N,gid=N] "
                                           "or nomap", mode);
        u->kind = USERNS_AUTO;
        if (!mode[4])
                return 0;
        const char *opt = mode + 5;
        uint32_t v;
        if (!startswith(opt, "size=") || !parse_u32(opt + 5, strlen(opt + 5), &v) || v == 0)
                return berth_error(err, 0, "invalid --userns '%s': auto takes size=N (N > 0)", mode);
        u->size = v;
        return 0;
}

/* The ids of berth's own namespace of a user (own: its ranges, container
 * side) are 0 (the user) and the subordinate ids from 1.  keep-id puts the
 * user at container id `inner` and the subordinate ids around it, in order;
 * nomap maps the subordinate ids from container id 0 and not the user.  A
 * range never spans two of own's: the kernel maps each range of a nested
 * namespace through a single range of its parent. */
int idmap_nested(enum userns_kind kind, const struct idmap *own, uint32_t inner, struct idmap *out,
                 berth_error_t *err)
{
        *out = (struct idmap) {};
        bool keep = kind == USERNS_KEEP_ID, placed = !keep;
        uint64_t next = 0;
        for (size_t i = 0; i < own->n; i++) {
                uint64_t b = own->r[i].container, n = own->r[i].size;
                if (b == 0) { /* the user */
                        b++;
                        n--;
                }
                while (n > 0) {
                        if (!placed && next == inner) {
                                out->r[out->n++] = (struct idmap_range) { inner, 0, 1 };
                                placed = true;
                                next++;
                        }
                        uint64_t chunk = n;
                        if (!placed && next + chunk > inner)
                                chunk = inner - next;
                        if (next + chunk - 1 > UINT32_MAX || out->n >= IDMAP_MAX - 1)
                                return berth_error(err, 0, "too many subordinate ids for --userns=%s",
                                                   keep ? "keep-id" : "nomap");
                        out->r[out->n++] = (struct idmap_range) { (uint32_t) next, (uint32_t) b, (uint32_t) chunk };
                        next += chunk;
                        b += chunk;
                        n -= chunk;
                }
        }
        if (out->n == 0)
                return berth_error(err, 0, "--userns=%s needs subordinate ids for the container's other users: add "
                                           "some with `usermod --add-subuids 100000-165535 --add-subgids "
                                           "100000-165535 USER`",
                                   keep ? "keep-id" : "nomap");
        if (!placed)
                out->r[out->n++] = (struct idmap_range) { inner, 0, 1 };
        return 0;
}

int idmap_remap_config(const char *path, char **name, berth_error_t *err)
{
        cleanup_free char *v = NULL;
        *name = NULL;
        if (json_config_string(path, "userns-remap", &v, err) < 0)
                return -1;
        if (!v)
                return 0;
        if (strchr(v, ':') || strchr(v, '\n'))
                return berth_error(err, 0, "%s: \"userns-remap\": use \"default\" or a name of /etc/subuid", path);
        *name = xstrdup(streq(v, "default") ? IDMAP_SUBID_NAME : v);
        return 0;
}

int idmap_from_config(json_t *cfg, struct idmap *uids, struct idmap *gids, bool *has, berth_error_t *err)
{
        json_t *m = json_at(cfg, "HostConfig.IDMappings");
        *has = false;
        *uids = (struct idmap) {};
        *gids = (struct idmap) {};
        if (!m || json_is_null(m))
                return 0;
        if (idmap_from_json(json_object_get(m, "UidMap"), uids, err) < 0 ||
            idmap_from_json(json_object_get(m, "GidMap"), gids, err) < 0)
                return -1;
        if (uids->n == 0 || gids->n == 0)
                return berth_error(err, 0, "the id mapping is empty");
        *has = true;
        return 0;
}

/* One side (uid or gid) of an auto allocation. */
static int allocate_side(const char *path, const char *name, struct berth_container **list, size_t n,
                         const char *key, uint32_t size, struct idmap *out, berth_error_t *err)
{
        struct idmap_range avail[IDMAP_MAX];
        size_t navail;
        if (idmap_subid_read(path, name, (uid_t) -1, avail, IDMAP_MAX, &navail, err) < 0)
                return -1;
        if (navail == 0)
                return berth_error(err, 0, "no %s entries in %s for user namespaces: add some with `echo "
                                           "%s:100000:65536 >>%s`", name, path, name, path);
        struct idmap_range *taken = NULL;
        size_t ntaken = 0;
        for (size_t i = 0; i < n; i++) {
                struct idmap m;
                json_t *mj = json_at(list[i]->config, "HostConfig.IDMappings");
                if (!mj || json_is_null(mj))
                        continue;
                if (idmap_from_json(json_object_get(mj, key), &m, err) < 0) {
                        free(taken);
                        return berth_error_wrap(err, "container %s", list[i]->name);
                }
                taken = xrealloc(taken, (ntaken + m.n) * sizeof(*taken));
                memcpy(taken + ntaken, m.r, m.n * sizeof(*taken));
                ntaken += m.n;
        }
        uint32_t start;
        int r = idmap_allocate(avail, navail, taken, ntaken, size, &start, err);
        free(taken);
        if (r < 0)
                return berth_error_wrap(err, "%s (%s)", path, name);
        *out = (struct idmap) { .n = 1, .r = { { 0, start, size } } };
        return 0;
}

int idmap_allocate_auto(struct berth_store *s, const char *name, uint32_t size, struct idmap *uids,
                        struct idmap *gids, berth_error_t *err)
{
        struct berth_container **list = NULL;
        size_t n = 0;
        /* fails on an unreadable record: it may hold a range */
        if (container_list(s, &list, &n, err) < 0)
                return berth_error_wrap(err, "cannot tell which id ranges are in use");
        int r = allocate_side(IDMAP_SUBUID_PATH, name, list, n, "UidMap", size, uids, err);
        if (r >= 0)
                r = allocate_side(IDMAP_SUBGID_PATH, name, list, n, "GidMap", size, gids, err);
        container_list_free(list, n);
        return r;
}
