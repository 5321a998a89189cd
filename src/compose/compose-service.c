/* A compose service: its keys read from the merged, normalised tree into
 * struct compose_service (every key berth does not support is an error
 * naming it), and the service written back as the tree `compose config`
 * prints, in Docker Compose's canonical shape. */
#include "config.h"

#include <ctype.h>

#include "berth/compose-internal.h"
#include "berth/parse.h"
#include "berth/util.h"

/* Docker's shell-like split of a command string: blanks separate words,
 * '...' is literal, "..." and \ escape. */
static int shell_split(const struct cnode *n, char ***out, berth_error_t *err)
{
        cleanup_strv char **v = xcalloc(1, sizeof(char *));
        struct strbuf w = {};
        bool in_word = false;
        for (const char *p = n->value; *p; p++) {
                if (*p == ' ' || *p == '\t' || *p == '\n') {
                        if (in_word)
                                strv_push(&v, w.s ? w.s : "");
                        free(w.s);
                        w = (struct strbuf) {};
                        in_word = false;
                        continue;
                }
                in_word = true;
                if (*p == '\\' && p[1])
                        strbuf_addc(&w, *++p);
                else if (*p == '\'' || *p == '"') {
                        char q = *p++;
                        for (; *p && *p != q; p++) {
                                if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$'))
                                        p++;
                                strbuf_addc(&w, *p);
                        }
                        if (!*p) {
                                free(w.s);
                                return cnode_error(err, n, "unterminated quote in \"%s\"", n->value);
                        }
                        if (!w.s)
                                strbuf_adds(&w, "");
                } else
                        strbuf_addc(&w, *p);
        }
        if (in_word)
                strv_push(&v, w.s ? w.s : "");
        free(w.s);
        *out = steal_pointer(&v);
        return 0;
}

static int command_value(const struct cnode *n, const char *what, char ***out, berth_error_t *err)
{
        strv_free(*out);
        *out = NULL;
        if (cnode_is_null(n))
                return 0;
        if (n->kind == CNODE_SCALAR)
                return shell_split(n, out, err);
        return cnode_strv(n, what, false, out, err);
}

/* A mapping of strings as "K=V"; a null value is looked up in env, and
 * stays "K" (null) when it is not there, or is "" without env (labels are
 * strings, never null). */
static int kv_map(const struct cnode *n, const char *what, char *const *env, char ***out, berth_error_t *err)
{
        if (cnode_is_null(n))
                return 0;
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "%s must be a mapping", what);
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *v = n->items[i];
                if (v->kind == CNODE_NULL) {
                        const char *e = NULL;
                        size_t kl = strlen(n->keys[i]);
                        for (size_t j = 0; env && env[j] && !e; j++)
                                if (strncmp(env[j], n->keys[i], kl) == 0 && env[j][kl] == '=')
                                        e = env[j];
                        cleanup_free char *empty = env ? NULL : xasprintf("%s=", n->keys[i]);
                        strv_env_set(out, e ? e : env ? n->keys[i] : empty);
                        continue;
                }
                if (v->kind != CNODE_SCALAR)
                        return cnode_error(err, v, "%s.%s must be a string", what, n->keys[i]);
                cleanup_free char *kv = xasprintf("%s=%s", n->keys[i], v->value);
                strv_env_set(out, kv);
        }
        return 0;
}

static int size_value(const struct cnode *n, const char *what, int64_t *out, berth_error_t *err)
{
        uint64_t v;
        cleanup_error berth_error_t e = NULL;
        if (!n || n->kind != CNODE_SCALAR || parse_size(n->value, &v, &e) < 0 || v > INT64_MAX)
                return cnode_error(err, n, "%s: invalid size%s%s", what, e ? ": " : "", e ? e->msg : "");
        *out = (int64_t) v;
        return 0;
}

static int cpus_value(const struct cnode *n, const char *what, double *out, berth_error_t *err)
{
        uint64_t nano;
        cleanup_error berth_error_t e = NULL;
        if (!n || n->kind != CNODE_SCALAR || parse_nano_cpus(n->value, &nano, &e) < 0)
                return cnode_error(err, n, "%s: invalid number of CPUs", what);
        *out = (double) nano / 1e9;
        return 0;
}

static int duration_value(const struct cnode *n, const char *what, long long *out, berth_error_t *err)
{
        cleanup_error berth_error_t e = NULL;
        if (!n || n->kind != CNODE_SCALAR || parse_go_duration(n->value, out, &e) < 0 || *out < 0)
                return cnode_error(err, n, "%s: invalid duration (as 30s, 1m30s)", what);
        return 0;
}

static int build_value(struct compose_project *p, const struct cnode *n, struct compose_service *s,
                       berth_error_t *err)
{
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "build must be a path or a mapping");
        struct compose_build *b = s->build = xcalloc(1, sizeof(*b));
        for (size_t i = 0; i < n->n; i++) {
                const char *k = n->keys[i];
                struct cnode *v = n->items[i];
                int r;
                if (streq(k, "context")) {
                        cleanup_free char *c = NULL;
                        r = cnode_str(v, "build.context", &c, err);
                        if (r == 0) {
                                free(b->context);
                                b->context = path_absolute(p->dir, c);
                        }
                } else if (streq(k, "dockerfile"))
                        r = cnode_str(v, "build.dockerfile", &b->dockerfile, err);
                else if (streq(k, "target"))
                        r = cnode_str(v, "build.target", &b->target, err);
                else if (streq(k, "args"))
                        r = kv_map(v, "build.args", p->env, &b->args, err);
                else if (startswith(k, "x-"))
                        r = 0;
                else
                        r = cnode_error(err, v, "build.%s: not supported by berth", k);
                if (r < 0)
                        return -1;
        }
        if (!b->context)
                b->context = xstrdup(p->dir);
        if (!b->dockerfile)
                b->dockerfile = xstrdup("Dockerfile");
        return 0;
}

static int resources_value(const struct cnode *n, const char *what, struct compose_resources *r,
                           berth_error_t *err)
{
        if (cnode_is_null(n))
                return 0;
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "%s must be a mapping", what);
        for (size_t i = 0; i < n->n; i++) {
                const char *k = n->keys[i];
                struct cnode *v = n->items[i];
                long long pids;
                if (streq(k, "memory")) {
                        if (size_value(v, "memory", &r->memory, err) < 0)
                                return -1;
                } else if (streq(k, "cpus")) {
                        if (cpus_value(v, "cpus", &r->cpus, err) < 0)
                                return -1;
                } else if (streq(k, "pids")) {
                        if (cnode_int(v, "pids", -1, INT64_MAX, &pids, err) < 0)
                                return -1;
                        r->pids = pids;
                } else
                        return cnode_error(err, v, "%s.%s: not supported by berth", what, k);
        }
        return 0;
}

static int deploy_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "deploy must be a mapping");
        s->has_deploy = true;
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *v = n->items[i];
                if (!streq(n->keys[i], "resources"))
                        return cnode_error(err, v, "deploy.%s: not supported by berth (only deploy.resources)",
                                           n->keys[i]);
                if (v->kind != CNODE_MAP)
                        return cnode_error(err, v, "deploy.resources must be a mapping");
                for (size_t j = 0; j < v->n; j++) {
                        int r;
                        if (streq(v->keys[j], "limits"))
                                r = resources_value(v->items[j], "deploy.resources.limits", &s->limits, err);
                        else if (streq(v->keys[j], "reservations"))
                                r = resources_value(v->items[j], "deploy.resources.reservations", &s->reservations,
                                                    err);
                        else
                                r = cnode_error(err, v->items[j], "deploy.resources.%s: not supported by berth",
                                                v->keys[j]);
                        if (r < 0)
                                return -1;
                }
        }
        return 0;
}

static int healthcheck_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "healthcheck must be a mapping");
        struct compose_healthcheck *h = s->healthcheck = xcalloc(1, sizeof(*h));
        h->interval = h->timeout = h->start_period = h->start_interval = h->retries = -1;
        for (size_t i = 0; i < n->n; i++) {
                const char *k = n->keys[i];
                struct cnode *v = n->items[i];
                int r;
                if (streq(k, "test")) {
                        if (v->kind == CNODE_SCALAR) {
                                strv_free(h->test);
                                h->test = xcalloc(3, sizeof(char *));
                                h->test[0] = xstrdup("CMD-SHELL");
                                h->test[1] = xstrdup(v->value);
                                r = 0;
                        } else
                                r = cnode_strv(v, "healthcheck.test", false, &h->test, err);
                        if (r == 0 && h->test && h->test[0] && !streq(h->test[0], "CMD") &&
                            !streq(h->test[0], "CMD-SHELL") && !streq(h->test[0], "NONE"))
                                r = cnode_error(err, v, "healthcheck.test must start with CMD, CMD-SHELL or NONE");
                } else if (streq(k, "interval"))
                        r = duration_value(v, "healthcheck.interval", &h->interval, err);
                else if (streq(k, "timeout"))
                        r = duration_value(v, "healthcheck.timeout", &h->timeout, err);
                else if (streq(k, "start_period"))
                        r = duration_value(v, "healthcheck.start_period", &h->start_period, err);
                else if (streq(k, "start_interval"))
                        r = duration_value(v, "healthcheck.start_interval", &h->start_interval, err);
                else if (streq(k, "retries"))
                        r = cnode_int(v, "healthcheck.retries", 0, INT32_MAX, &h->retries, err);
                else if (streq(k, "disable"))
                        r = cnode_bool(v, "healthcheck.disable", &h->disable, err);
                else
                        r = cnode_error(err, v, "healthcheck.%s: not supported by berth", k);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int ports_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_SEQ)
                return cnode_error(err, n, "ports must be a list");
        s->ports = xcalloc(n->n, sizeof(*s->ports));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *it = n->items[i];
                struct compose_port *pt = &s->ports[s->n_ports++];
                if (it->kind != CNODE_MAP)
                        return cnode_error(err, it, "a port must be a string or a mapping");
                for (size_t j = 0; j < it->n; j++) {
                        const char *k = it->keys[j];
                        struct cnode *v = it->items[j];
                        long long t;
                        int r = 0;
                        if (streq(k, "target")) {
                                r = cnode_int(v, "ports.target", 1, 65535, &t, err);
                                pt->target = (unsigned) t;
                        } else if (streq(k, "published"))
                                r = cnode_str(v, "ports.published", &pt->published, err);
                        else if (streq(k, "host_ip"))
                                r = cnode_str(v, "ports.host_ip", &pt->host_ip, err);
                        else if (streq(k, "protocol")) {
                                r = cnode_str(v, "ports.protocol", &pt->protocol, err);
                                if (r == 0 && !streq(pt->protocol, "tcp") && !streq(pt->protocol, "udp"))
                                        r = cnode_error(err, v, "ports.protocol must be tcp or udp");
                        } else if (streq(k, "mode")) {
                                r = cnode_str(v, "ports.mode", &pt->mode, err);
                                if (r == 0 && !streq(pt->mode, "ingress") && !streq(pt->mode, "host"))
                                        r = cnode_error(err, v, "ports.mode must be ingress or host");
                        } else
                                r = cnode_error(err, v, "ports.%s: not supported by berth", k);
                        if (r < 0)
                                return -1;
                }
                if (!pt->target)
                        return cnode_error(err, it, "a port needs a target");
                if (!pt->protocol)
                        pt->protocol = xstrdup("tcp");
                if (!pt->mode)
                        pt->mode = xstrdup("ingress");
        }
        return 0;
}

static int mount_options(const struct cnode *v, const char *what, struct compose_mount *m, berth_error_t *err)
{
        if (cnode_is_null(v))
                return 0;
        if (v->kind != CNODE_MAP)
                return cnode_error(err, v, "volumes.%s must be a mapping", what);
        for (size_t i = 0; i < v->n; i++) {
                const char *k = v->keys[i];
                struct cnode *o = v->items[i];
                int r;
                if (streq(what, "bind") && streq(k, "create_host_path"))
                        r = cnode_bool(o, "bind.create_host_path", &m->create_host_path, err);
                else if (streq(what, "bind") && streq(k, "selinux")) {
                        r = cnode_str(o, "bind.selinux", &m->selinux, err);
                        if (r == 0 && !streq(m->selinux, "z") && !streq(m->selinux, "Z"))
                                r = cnode_error(err, o, "bind.selinux must be z or Z");
                } else if (streq(what, "volume") && streq(k, "nocopy"))
                        r = cnode_bool(o, "volume.nocopy", &m->nocopy, err);
                else if (streq(what, "tmpfs") && streq(k, "size"))
                        r = size_value(o, "tmpfs.size", &m->tmpfs_size, err);
                else
                        r = cnode_error(err, o, "volumes.%s.%s: not supported by berth", what, k);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int volumes_value(struct compose_project *p, const struct cnode *n, struct compose_service *s,
                         berth_error_t *err)
{
        if (n->kind != CNODE_SEQ)
                return cnode_error(err, n, "volumes must be a list");
        s->volumes = xcalloc(n->n, sizeof(*s->volumes));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *it = n->items[i];
                struct compose_mount *m = &s->volumes[s->n_volumes++];
                m->tmpfs_size = -1;
                if (it->kind != CNODE_MAP)
                        return cnode_error(err, it, "a volume must be a string or a mapping");
                for (size_t j = 0; j < it->n; j++) {
                        const char *k = it->keys[j];
                        struct cnode *v = it->items[j];
                        int r;
                        if (streq(k, "type"))
                                r = cnode_str(v, "volumes.type", &m->type, err);
                        else if (streq(k, "source"))
                                r = cnode_str(v, "volumes.source", &m->source, err);
                        else if (streq(k, "target"))
                                r = cnode_str(v, "volumes.target", &m->target, err);
                        else if (streq(k, "read_only"))
                                r = cnode_bool(v, "volumes.read_only", &m->read_only, err);
                        else if (streq(k, "bind") || streq(k, "volume") || streq(k, "tmpfs"))
                                r = mount_options(v, k, m, err);
                        else
                                r = cnode_error(err, v, "volumes.%s: not supported by berth", k);
                        if (r < 0)
                                return -1;
                }
                if (!m->type || (!streq(m->type, "volume") && !streq(m->type, "bind") && !streq(m->type, "tmpfs")))
                        return cnode_error(err, it, "volumes.type must be volume, bind or tmpfs");
                if (!m->target || m->target[0] != '/')
                        return cnode_error(err, it, "a volume needs an absolute target path");
                if (streq(m->type, "bind")) {
                        if (!m->source)
                                return cnode_error(err, it, "a bind mount needs a source");
                        if (m->source[0] == '~') {
                                const char *home = NULL;
                                for (size_t k = 0; p->env && p->env[k]; k++)
                                        if (startswith(p->env[k], "HOME="))
                                                home = p->env[k] + 5;
                                char *abs = xasprintf("%s%s", home ? home : "", m->source + 1);
                                free(m->source);
                                m->source = abs;
                        } else if (m->source[0] != '/') {
                                char *abs = path_absolute(p->dir, m->source);
                                free(m->source);
                                m->source = abs;
                        }
                } else if (streq(m->type, "tmpfs") && m->source)
                        return cnode_error(err, it, "a tmpfs mount has no source");
        }
        return 0;
}

static int networks_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "networks must be a list or a mapping");
        s->networks = xcalloc(n->n, sizeof(*s->networks));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *v = n->items[i];
                struct compose_service_net *sn = &s->networks[s->n_networks++];
                sn->name = xstrdup(n->keys[i]);
                if (cnode_is_null(v)) {
                        sn->is_null = true;
                        continue;
                }
                if (v->kind != CNODE_MAP)
                        return cnode_error(err, v, "networks.%s must be a mapping", n->keys[i]);
                for (size_t j = 0; j < v->n; j++) {
                        int r;
                        if (streq(v->keys[j], "aliases"))
                                r = cnode_strv(v->items[j], "networks.aliases", false, &sn->aliases, err);
                        else if (streq(v->keys[j], "ipv4_address"))
                                r = cnode_str(v->items[j], "networks.ipv4_address", &sn->ipv4_address, err);
                        else
                                r = cnode_error(err, v->items[j], "networks.%s.%s: not supported by berth",
                                                n->keys[i], v->keys[j]);
                        if (r < 0)
                                return -1;
                }
        }
        return 0;
}

static int depends_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "depends_on must be a list or a mapping");
        s->depends_on = xcalloc(n->n, sizeof(*s->depends_on));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *v = n->items[i];
                struct compose_dep *d = &s->depends_on[s->n_depends_on++];
                d->service = xstrdup(n->keys[i]);
                d->required = true;
                if (v->kind != CNODE_MAP && !cnode_is_null(v))
                        return cnode_error(err, v, "depends_on.%s must be a mapping", n->keys[i]);
                for (size_t j = 0; v->kind == CNODE_MAP && j < v->n; j++) {
                        const char *k = v->keys[j];
                        int r;
                        if (streq(k, "condition")) {
                                r = cnode_str(v->items[j], "depends_on.condition", &d->condition, err);
                                if (r == 0 && !streq(d->condition, "service_started") &&
                                    !streq(d->condition, "service_healthy") &&
                                    !streq(d->condition, "service_completed_successfully"))
                                        r = cnode_error(err, v->items[j],
                                                        "depends_on.condition must be service_started, "
                                                        "service_healthy or service_completed_successfully");
                        } else if (streq(k, "required"))
                                r = cnode_bool(v->items[j], "depends_on.required", &d->required, err);
                        else if (streq(k, "restart"))
                                r = cnode_bool(v->items[j], "depends_on.restart", &d->restart, err);
                        else
                                r = cnode_error(err, v->items[j], "depends_on.%s: not supported by berth", k);
                        if (r < 0)
                                return -1;
                }
                if (!d->condition)
                        d->condition = xstrdup("service_started");
        }
        return 0;
}

static int ulimits_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_MAP)
                return cnode_error(err, n, "ulimits must be a mapping");
        s->ulimits = xcalloc(n->n, sizeof(*s->ulimits));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *v = n->items[i];
                struct compose_ulimit *u = &s->ulimits[s->n_ulimits++];
                u->name = xstrdup(n->keys[i]);
                cleanup_free char *probe = xasprintf("%s=1", u->name);
                const char *prop;
                uint64_t a, b;
                cleanup_error berth_error_t e = NULL;
                if (parse_ulimit(probe, &prop, &a, &b, &e) < 0)
                        return cnode_error(err, v, "ulimits: unknown limit \"%s\"", u->name);
                if (v->kind == CNODE_SCALAR) {
                        u->single = true;
                        if (cnode_int(v, "ulimits value", -1, INT64_MAX, &u->soft, err) < 0)
                                return -1;
                        u->hard = u->soft;
                        continue;
                }
                struct cnode *soft = cnode_get(v, "soft"), *hard = cnode_get(v, "hard");
                if (v->kind != CNODE_MAP || !soft || !hard || v->n != 2)
                        return cnode_error(err, v, "ulimits.%s must be a number or soft and hard", u->name);
                if (cnode_int(soft, "ulimits soft", -1, INT64_MAX, &u->soft, err) < 0 ||
                    cnode_int(hard, "ulimits hard", -1, INT64_MAX, &u->hard, err) < 0)
                        return -1;
        }
        return 0;
}

static int secrets_value(const struct cnode *n, struct compose_service *s, berth_error_t *err)
{
        if (n->kind != CNODE_SEQ)
                return cnode_error(err, n, "secrets must be a list");
        s->secrets = xcalloc(n->n, sizeof(*s->secrets));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *it = n->items[i];
                struct compose_secret_ref *r = &s->secrets[s->n_secrets++];
                if (it->kind != CNODE_MAP)
                        return cnode_error(err, it, "a secret must be a name or a mapping");
                for (size_t j = 0; j < it->n; j++) {
                        int x;
                        if (streq(it->keys[j], "source"))
                                x = cnode_str(it->items[j], "secrets.source", &r->source, err);
                        else if (streq(it->keys[j], "target"))
                                x = cnode_str(it->items[j], "secrets.target", &r->target, err);
                        else
                                x = cnode_error(err, it->items[j], "secrets.%s: not supported by berth",
                                                it->keys[j]);
                        if (x < 0)
                                return -1;
                }
                if (!r->source)
                        return cnode_error(err, it, "a secret needs a source");
        }
        return 0;
}

static int env_files_value(struct compose_project *p, const struct cnode *n, struct compose_service *s,
                           berth_error_t *err)
{
        if (n->kind != CNODE_SEQ)
                return cnode_error(err, n, "env_file must be a path or a list");
        s->env_files = xcalloc(n->n, sizeof(*s->env_files));
        for (size_t i = 0; i < n->n; i++) {
                struct cnode *it = n->items[i], *path = it;
                struct compose_env_file *f = &s->env_files[s->n_env_files++];
                f->required = true;
                if (it->kind == CNODE_MAP) {
                        path = cnode_get(it, "path");
                        for (size_t j = 0; j < it->n; j++)
                                if (streq(it->keys[j], "required")) {
                                        if (cnode_bool(it->items[j], "env_file.required", &f->required, err) < 0)
                                                return -1;
                                } else if (!streq(it->keys[j], "path"))
                                        return cnode_error(err, it->items[j], "env_file.%s: not supported by berth",
                                                           it->keys[j]);
                }
                cleanup_free char *rel = NULL;
                if (cnode_str(path ? path : it, "env_file.path", &rel, err) < 0)
                        return -1;
                f->path = path_absolute(p->dir, rel);
                if (p->skip_env_files || (access(f->path, F_OK) < 0 && !f->required))
                        continue;
                cleanup_strv char **vars = NULL;
                cleanup_error berth_error_t e = NULL;
                if (compose_dotenv_read(f->path, rel, p->env, &vars, &e) < 0)
                        return cnode_error(err, it, "env_file: %s", e->msg);
                for (size_t j = 0; vars && vars[j]; j++) {
                        size_t kl = strcspn(vars[j], "=");
                        bool have = false;
                        for (size_t k = 0; s->environment && s->environment[k] && !have; k++)
                                have = strncmp(s->environment[k], vars[j], kl) == 0 &&
                                       (s->environment[k][kl] == '=' || !s->environment[k][kl]);
                        if (!have)
                                strv_push(&s->environment, vars[j]);
                }
        }
        return 0;
}

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*: profiles (the docs' pattern, one letter
 * too) and container names (Docker's) */
static bool valid_name(const char *s)
{
        if (!isalnum((unsigned char) s[0]))
                return false;
        return strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s + 1);
}

static int tristate(const struct cnode *v, const char *what, int *out, berth_error_t *err)
{
        bool b;
        if (cnode_bool(v, what, &b, err) < 0)
                return -1;
        *out = b;
        return 0;
}

int compose_service_parse(struct compose_project *p, const char *name, const struct cnode *n,
                          struct compose_service *s, berth_error_t *err)
{
        s->name = xstrdup(name);
        s->mem_limit = s->mem_reservation = s->pids_limit = -1;
        s->limits = s->reservations = (struct compose_resources) { -1, -1, -1 };
        s->cpus = -1;
        s->privileged = s->read_only = s->init = s->tty = s->stdin_open = -1;
        s->stop_grace_period = -1;
        const struct cnode *env_file = NULL;
        for (size_t i = 0; i < n->n; i++) {
                const char *k = n->keys[i];
                struct cnode *v = n->items[i];
                long long ll;
                int r = 0;
                if (startswith(k, "x-") || (cnode_is_null(v) && v->reset))
                        continue;
                if (streq(k, "image"))
                        r = cnode_str(v, "image", &s->image, err);
                else if (streq(k, "container_name")) {
                        r = cnode_str(v, "container_name", &s->container_name, err);
                        if (r == 0 && !valid_name(s->container_name))
                                r = cnode_error(err, v, "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-]",
                                                s->container_name);
                }
                else if (streq(k, "build"))
                        r = build_value(p, v, s, err);
                else if (streq(k, "command"))
                        r = command_value(v, "command", &s->command, err);
                else if (streq(k, "entrypoint"))
                        r = command_value(v, "entrypoint", &s->entrypoint, err);
                else if (streq(k, "environment"))
                        r = kv_map(v, "environment", p->env, &s->environment, err);
                else if (streq(k, "env_file"))
                        env_file = v;
                else if (streq(k, "ports"))
                        r = ports_value(v, s, err);
                else if (streq(k, "expose"))
                        r = cnode_strv(v, "expose", false, &s->expose, err);
                else if (streq(k, "volumes"))
                        r = volumes_value(p, v, s, err);
                else if (streq(k, "networks"))
                        r = networks_value(v, s, err);
                else if (streq(k, "network_mode"))
                        r = cnode_str(v, "network_mode", &s->network_mode, err);
                else if (streq(k, "depends_on"))
                        r = depends_value(v, s, err);
                else if (streq(k, "restart")) {
                        cleanup_free char *pol = NULL;
                        unsigned max;
                        cleanup_error berth_error_t e = NULL;
                        r = cnode_str(v, "restart", &s->restart, err);
                        if (r == 0 && parse_restart_policy(s->restart, &pol, &max, &e) < 0)
                                r = cnode_error(err, v, "restart: %s", e->msg);
                } else if (streq(k, "healthcheck"))
                        r = healthcheck_value(v, s, err);
                else if (streq(k, "deploy"))
                        r = deploy_value(v, s, err);
                else if (streq(k, "mem_limit"))
                        r = size_value(v, "mem_limit", &s->mem_limit, err);
                else if (streq(k, "mem_reservation"))
                        r = size_value(v, "mem_reservation", &s->mem_reservation, err);
                else if (streq(k, "cpus"))
                        r = cpus_value(v, "cpus", &s->cpus, err);
                else if (streq(k, "pids_limit")) {
                        r = cnode_int(v, "pids_limit", -1, INT64_MAX, &ll, err);
                        s->pids_limit = ll;
                } else if (streq(k, "user"))
                        r = cnode_str(v, "user", &s->user, err);
                else if (streq(k, "working_dir"))
                        r = cnode_str(v, "working_dir", &s->working_dir, err);
                else if (streq(k, "hostname"))
                        r = cnode_str(v, "hostname", &s->hostname, err);
                else if (streq(k, "labels"))
                        r = kv_map(v, "labels", NULL, &s->labels, err);
                else if (streq(k, "cap_add"))
                        r = cnode_strv(v, "cap_add", false, &s->cap_add, err);
                else if (streq(k, "cap_drop"))
                        r = cnode_strv(v, "cap_drop", false, &s->cap_drop, err);
                else if (streq(k, "security_opt"))
                        r = cnode_strv(v, "security_opt", false, &s->security_opt, err);
                else if (streq(k, "profiles")) {
                        r = cnode_strv(v, "profiles", false, &s->profiles, err);
                        for (size_t j = 0; r == 0 && s->profiles[j]; j++)
                                if (!valid_name(s->profiles[j]))
                                        r = cnode_error(err, v, "invalid profile name \"%s\"", s->profiles[j]);
                }
                else if (streq(k, "dns"))
                        r = cnode_strv(v, "dns", true, &s->dns, err);
                else if (streq(k, "extra_hosts"))
                        r = cnode_strv(v, "extra_hosts", false, &s->extra_hosts, err);
                else if (streq(k, "privileged"))
                        r = tristate(v, "privileged", &s->privileged, err);
                else if (streq(k, "read_only"))
                        r = tristate(v, "read_only", &s->read_only, err);
                else if (streq(k, "init"))
                        r = tristate(v, "init", &s->init, err);
                else if (streq(k, "tty"))
                        r = tristate(v, "tty", &s->tty, err);
                else if (streq(k, "stdin_open"))
                        r = tristate(v, "stdin_open", &s->stdin_open, err);
                else if (streq(k, "ulimits"))
                        r = ulimits_value(v, s, err);
                else if (streq(k, "stop_signal")) {
                        int sig;
                        cleanup_error berth_error_t e = NULL;
                        r = cnode_str(v, "stop_signal", &s->stop_signal, err);
                        if (r == 0 && parse_signal(s->stop_signal, &sig, &e) < 0)
                                r = cnode_error(err, v, "stop_signal: %s", e->msg);
                } else if (streq(k, "stop_grace_period"))
                        r = duration_value(v, "stop_grace_period", &s->stop_grace_period, err);
                else if (streq(k, "secrets"))
                        r = secrets_value(v, s, err);
                else if (streq(k, "pull_policy")) {
                        r = cnode_str(v, "pull_policy", &s->pull_policy, err);
                        if (r == 0 && !streq(s->pull_policy, "always") && !streq(s->pull_policy, "never") &&
                            !streq(s->pull_policy, "missing") && !streq(s->pull_policy, "build") &&
                            !streq(s->pull_policy, "if_not_present"))
                                r = cnode_error(err, v, "pull_policy must be always, never, missing or build");
                } else
                        r = cnode_error(err, v, "services.%s.%s: not supported by berth", name, k);
                if (r < 0)
                        return -1;
        }
        /* env_file after environment: environment wins */
        if (env_file && env_files_value(p, env_file, s, err) < 0)
                return -1;
        if (!s->image && !s->build)
                return cnode_error(err, n, "service \"%s\" has neither an image nor a build context", name);
        return 0;
}

void compose_service_clear(struct compose_service *s)
{
        free(s->name);
        free(s->container_name);
        free(s->image);
        if (s->build) {
                free(s->build->context);
                free(s->build->dockerfile);
                strv_free(s->build->args);
                free(s->build->target);
                free(s->build);
        }
        strv_free(s->command);
        strv_free(s->entrypoint);
        strv_free(s->environment);
        for (size_t i = 0; i < s->n_env_files; i++)
                free(s->env_files[i].path);
        free(s->env_files);
        for (size_t i = 0; i < s->n_ports; i++) {
                free(s->ports[i].host_ip);
                free(s->ports[i].published);
                free(s->ports[i].protocol);
                free(s->ports[i].mode);
        }
        free(s->ports);
        strv_free(s->expose);
        for (size_t i = 0; i < s->n_volumes; i++) {
                free(s->volumes[i].type);
                free(s->volumes[i].source);
                free(s->volumes[i].target);
                free(s->volumes[i].selinux);
        }
        free(s->volumes);
        for (size_t i = 0; i < s->n_networks; i++) {
                free(s->networks[i].name);
                strv_free(s->networks[i].aliases);
                free(s->networks[i].ipv4_address);
        }
        free(s->networks);
        free(s->network_mode);
        for (size_t i = 0; i < s->n_depends_on; i++) {
                free(s->depends_on[i].service);
                free(s->depends_on[i].condition);
        }
        free(s->depends_on);
        free(s->restart);
        if (s->healthcheck) {
                strv_free(s->healthcheck->test);
                free(s->healthcheck);
        }
        free(s->user);
        free(s->working_dir);
        free(s->hostname);
        strv_free(s->labels);
        strv_free(s->cap_add);
        strv_free(s->cap_drop);
        strv_free(s->security_opt);
        strv_free(s->profiles);
        strv_free(s->dns);
        strv_free(s->extra_hosts);
        for (size_t i = 0; i < s->n_ulimits; i++)
                free(s->ulimits[i].name);
        free(s->ulimits);
        free(s->stop_signal);
        for (size_t i = 0; i < s->n_secrets; i++) {
                free(s->secrets[i].source);
                free(s->secrets[i].target);
        }
        free(s->secrets);
        free(s->pull_policy);
        memset(s, 0, sizeof(*s));
}
