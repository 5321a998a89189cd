/* The model as the tree `berth compose config` prints, in the canonical
 * shape of `docker compose config`: name first, then services (each with
 * its keys sorted), networks, volumes and secrets; long syntax for ports
 * and volumes, environment and labels as sorted mappings, durations as Go
 * prints them, sizes in bytes. */
#include "config.h"

#include "berth/compose-internal.h"
#include "berth/parse.h"
#include "berth/util.h"

static struct cnode *s_(const char *v)
{
        return cnode_scalar(v, CSCALAR_STR, NULL, 0);
}

static struct cnode *b_(bool v)
{
        return cnode_scalar(v ? "true" : "false", CSCALAR_BOOL, NULL, 0);
}

static struct cnode *i_(long long v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", v);
        return cnode_scalar(buf, CSCALAR_INT, NULL, 0);
}

static struct cnode *f_(double v)
{
        char buf[64];
        snprintf(buf, sizeof(buf), "%.9g", v);
        return cnode_scalar(buf, CSCALAR_FLOAT, NULL, 0);
}

/* Sizes as docker compose config prints them: a string of bytes. */
static struct cnode *bytes_(int64_t v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long) v);
        return s_(buf);
}

static struct cnode *dur_(long long ns)
{
        cleanup_free char *s = format_go_duration(ns);
        return s_(s);
}

static struct cnode *map_(void)
{
        return cnode_new(CNODE_MAP, NULL, 0);
}

static struct cnode *seq_(char *const *v)
{
        struct cnode *q = cnode_new(CNODE_SEQ, NULL, 0);
        for (size_t i = 0; v && v[i]; i++)
                cnode_push(q, s_(v[i]));
        return q;
}

static int key_cmp(const void *a, const void *b)
{
        const struct { char *k; struct cnode *v; } *x = a, *y = b;
        return strcmp(x->k, y->k);
}

/* Sort a mapping's keys, as Go prints its maps. */
static void sort_keys(struct cnode *m)
{
        struct kv { char *k; struct cnode *v; } *tmp = xcalloc(m->n ? m->n : 1, sizeof(*tmp));
        for (size_t i = 0; i < m->n; i++)
                tmp[i] = (struct kv) { m->keys[i], m->items[i] };
        qsort(tmp, m->n, sizeof(*tmp), key_cmp);
        for (size_t i = 0; i < m->n; i++) {
                m->keys[i] = tmp[i].k;
                m->items[i] = tmp[i].v;
        }
        free(tmp);
}

/* "K=V" (or "K": null) strings as a sorted mapping. */
static struct cnode *kv_(char *const *v)
{
        struct cnode *m = map_();
        for (size_t i = 0; v && v[i]; i++) {
                const char *eq = strchr(v[i], '=');
                cleanup_free char *k = eq ? xstrndup(v[i], eq - v[i]) : xstrdup(v[i]);
                cnode_set(m, k, eq ? s_(eq + 1) : cnode_new(CNODE_NULL, NULL, 0));
        }
        sort_keys(m);
        return m;
}

static struct cnode *resources_(const struct compose_resources *r)
{
        struct cnode *m = map_();
        if (r->cpus >= 0)
                cnode_set(m, "cpus", f_(r->cpus));
        if (r->memory >= 0)
                cnode_set(m, "memory", bytes_(r->memory));
        if (r->pids >= 0)
                cnode_set(m, "pids", i_(r->pids));
        return m;
}

static struct cnode *healthcheck_(const struct compose_healthcheck *h)
{
        struct cnode *m = map_();
        if (h->test)
                cnode_set(m, "test", seq_(h->test));
        if (h->timeout >= 0)
                cnode_set(m, "timeout", dur_(h->timeout));
        if (h->interval >= 0)
                cnode_set(m, "interval", dur_(h->interval));
        if (h->retries >= 0)
                cnode_set(m, "retries", i_(h->retries));
        if (h->start_period >= 0)
                cnode_set(m, "start_period", dur_(h->start_period));
        if (h->start_interval >= 0)
                cnode_set(m, "start_interval", dur_(h->start_interval));
        if (h->disable)
                cnode_set(m, "disable", b_(true));
        return m;
}

static struct cnode *mount_(const struct compose_mount *v)
{
        struct cnode *m = map_();
        cnode_set(m, "type", s_(v->type));
        if (v->source)
                cnode_set(m, "source", s_(v->source));
        cnode_set(m, "target", s_(v->target));
        if (v->read_only)
                cnode_set(m, "read_only", b_(true));
        if (streq(v->type, "bind")) {
                struct cnode *o = map_();
                if (v->selinux)
                        cnode_set(o, "selinux", s_(v->selinux));
                if (v->create_host_path)
                        cnode_set(o, "create_host_path", b_(true));
                cnode_set(m, "bind", o);
        } else if (streq(v->type, "volume")) {
                struct cnode *o = map_();
                if (v->nocopy)
                        cnode_set(o, "nocopy", b_(true));
                cnode_set(m, "volume", o);
        } else if (v->tmpfs_size >= 0) {
                struct cnode *o = map_();
                cnode_set(o, "size", i_(v->tmpfs_size));
                cnode_set(m, "tmpfs", o);
        }
        return m;
}

struct cnode *compose_service_tree(const struct compose_project *p, const struct compose_service *s)
{
        struct cnode *m = map_();
        (void) p;
        if (s->build) {
                struct cnode *b = map_();
                cnode_set(b, "context", s_(s->build->context));
                cnode_set(b, "dockerfile", s_(s->build->dockerfile));
                if (s->build->args)
                        cnode_set(b, "args", kv_(s->build->args));
                if (s->build->target)
                        cnode_set(b, "target", s_(s->build->target));
                cnode_set(m, "build", b);
        }
        if (s->cap_add)
                cnode_set(m, "cap_add", seq_(s->cap_add));
        if (s->cap_drop)
                cnode_set(m, "cap_drop", seq_(s->cap_drop));
        if (s->command)
                cnode_set(m, "command", seq_(s->command));
        if (s->container_name)
                cnode_set(m, "container_name", s_(s->container_name));
        if (s->cpus >= 0)
                cnode_set(m, "cpus", f_(s->cpus));
        if (s->n_depends_on) {
                struct cnode *d = map_();
                for (size_t i = 0; i < s->n_depends_on; i++) {
                        struct cnode *e = map_();
                        cnode_set(e, "condition", s_(s->depends_on[i].condition));
                        if (s->depends_on[i].restart)
                                cnode_set(e, "restart", b_(true));
                        cnode_set(e, "required", b_(s->depends_on[i].required));
                        cnode_set(d, s->depends_on[i].service, e);
                }
                sort_keys(d);
                cnode_set(m, "depends_on", d);
        }
        if (s->has_deploy) {
                struct cnode *r = map_(), *d = map_();
                if (s->limits.cpus >= 0 || s->limits.memory >= 0 || s->limits.pids >= 0)
                        cnode_set(r, "limits", resources_(&s->limits));
                if (s->reservations.cpus >= 0 || s->reservations.memory >= 0 || s->reservations.pids >= 0)
                        cnode_set(r, "reservations", resources_(&s->reservations));
                cnode_set(d, "resources", r);
                cnode_set(m, "deploy", d);
        }
        if (s->dns)
                cnode_set(m, "dns", seq_(s->dns));
        if (s->entrypoint)
                cnode_set(m, "entrypoint", seq_(s->entrypoint));
        if (s->n_env_files) {
                struct cnode *q = cnode_new(CNODE_SEQ, NULL, 0);
                for (size_t i = 0; i < s->n_env_files; i++) {
                        struct cnode *e = map_();
                        cnode_set(e, "path", s_(s->env_files[i].path));
                        cnode_set(e, "required", b_(s->env_files[i].required));
                        cnode_push(q, e);
                }
                cnode_set(m, "env_file", q);
        }
        if (s->environment)
                cnode_set(m, "environment", kv_(s->environment));
        if (s->expose)
                cnode_set(m, "expose", seq_(s->expose));
        if (s->extra_hosts)
                cnode_set(m, "extra_hosts", seq_(s->extra_hosts));
        if (s->healthcheck)
                cnode_set(m, "healthcheck", healthcheck_(s->healthcheck));
        if (s->hostname)
                cnode_set(m, "hostname", s_(s->hostname));
        if (s->image)
                cnode_set(m, "image", s_(s->image));
        if (s->init >= 0)
                cnode_set(m, "init", b_(s->init));
        if (s->labels)
                cnode_set(m, "labels", kv_(s->labels));
        if (s->mem_limit >= 0)
                cnode_set(m, "mem_limit", bytes_(s->mem_limit));
        if (s->mem_reservation >= 0)
                cnode_set(m, "mem_reservation", bytes_(s->mem_reservation));
        if (s->network_mode)
                cnode_set(m, "network_mode", s_(s->network_mode));
        if (s->n_networks) {
                struct cnode *n = map_();
                for (size_t i = 0; i < s->n_networks; i++) {
                        const struct compose_service_net *sn = &s->networks[i];
                        if (sn->is_null) {
                                cnode_set(n, sn->name, cnode_new(CNODE_NULL, NULL, 0));
                                continue;
                        }
                        struct cnode *e = map_();
                        if (sn->aliases)
                                cnode_set(e, "aliases", seq_(sn->aliases));
                        if (sn->ipv4_address)
                                cnode_set(e, "ipv4_address", s_(sn->ipv4_address));
                        cnode_set(n, sn->name, e);
                }
                sort_keys(n);
                cnode_set(m, "networks", n);
        }
        if (s->pids_limit >= 0)
                cnode_set(m, "pids_limit", i_(s->pids_limit));
        if (s->n_ports) {
                struct cnode *q = cnode_new(CNODE_SEQ, NULL, 0);
                for (size_t i = 0; i < s->n_ports; i++) {
                        const struct compose_port *pt = &s->ports[i];
                        struct cnode *e = map_();
                        cnode_set(e, "mode", s_(pt->mode));
                        if (pt->host_ip)
                                cnode_set(e, "host_ip", s_(pt->host_ip));
                        cnode_set(e, "target", i_(pt->target));
                        if (pt->published)
                                cnode_set(e, "published", s_(pt->published));
                        cnode_set(e, "protocol", s_(pt->protocol));
                        cnode_push(q, e);
                }
                cnode_set(m, "ports", q);
        }
        if (s->privileged >= 0)
                cnode_set(m, "privileged", b_(s->privileged));
        if (s->profiles)
                cnode_set(m, "profiles", seq_(s->profiles));
        if (s->pull_policy)
                cnode_set(m, "pull_policy", s_(s->pull_policy));
        if (s->read_only >= 0)
                cnode_set(m, "read_only", b_(s->read_only));
        if (s->restart)
                cnode_set(m, "restart", s_(s->restart));
        if (s->n_secrets) {
                struct cnode *q = cnode_new(CNODE_SEQ, NULL, 0);
                for (size_t i = 0; i < s->n_secrets; i++) {
                        struct cnode *e = map_();
                        cnode_set(e, "source", s_(s->secrets[i].source));
                        if (s->secrets[i].target)
                                cnode_set(e, "target", s_(s->secrets[i].target));
                        cnode_push(q, e);
                }
                cnode_set(m, "secrets", q);
        }
        if (s->security_opt)
                cnode_set(m, "security_opt", seq_(s->security_opt));
        if (s->stdin_open >= 0)
                cnode_set(m, "stdin_open", b_(s->stdin_open));
        if (s->stop_grace_period >= 0)
                cnode_set(m, "stop_grace_period", dur_(s->stop_grace_period));
        if (s->stop_signal)
                cnode_set(m, "stop_signal", s_(s->stop_signal));
        if (s->tty >= 0)
                cnode_set(m, "tty", b_(s->tty));
        if (s->n_ulimits) {
                struct cnode *u = map_();
                for (size_t i = 0; i < s->n_ulimits; i++) {
                        const struct compose_ulimit *l = &s->ulimits[i];
                        if (l->single) {
                                cnode_set(u, l->name, i_(l->soft));
                                continue;
                        }
                        struct cnode *e = map_();
                        cnode_set(e, "soft", i_(l->soft));
                        cnode_set(e, "hard", i_(l->hard));
                        cnode_set(u, l->name, e);
                }
                sort_keys(u);
                cnode_set(m, "ulimits", u);
        }
        if (s->user)
                cnode_set(m, "user", s_(s->user));
        if (s->n_volumes) {
                struct cnode *q = cnode_new(CNODE_SEQ, NULL, 0);
                for (size_t i = 0; i < s->n_volumes; i++)
                        cnode_push(q, mount_(&s->volumes[i]));
                cnode_set(m, "volumes", q);
        }
        if (s->working_dir)
                cnode_set(m, "working_dir", s_(s->working_dir));
        return m;
}

static struct cnode *project_tree(const struct compose_project *p)
{
        struct cnode *root = map_();
        cnode_set(root, "name", s_(p->name));
        struct cnode *services = map_();
        for (size_t i = 0; i < p->n_services; i++)
                cnode_set(services, p->services[i].name, compose_service_tree(p, &p->services[i]));
        cnode_set(root, "services", services);
        if (p->n_networks) {
                struct cnode *m = map_();
                for (size_t i = 0; i < p->n_networks; i++) {
                        const struct compose_network *n = &p->networks[i];
                        struct cnode *e = map_();
                        cnode_set(e, "name", s_(n->name));
                        if (n->driver)
                                cnode_set(e, "driver", s_(n->driver));
                        if (n->external)
                                cnode_set(e, "external", b_(true));
                        if (n->internal)
                                cnode_set(e, "internal", b_(true));
                        if (n->labels)
                                cnode_set(e, "labels", kv_(n->labels));
                        cnode_set(m, n->key, e);
                }
                sort_keys(m);
                cnode_set(root, "networks", m);
        }
        if (p->n_volumes) {
                struct cnode *m = map_();
                for (size_t i = 0; i < p->n_volumes; i++) {
                        const struct compose_volume *v = &p->volumes[i];
                        struct cnode *e = map_();
                        cnode_set(e, "name", s_(v->name));
                        if (v->driver)
                                cnode_set(e, "driver", s_(v->driver));
                        if (v->driver_opts)
                                cnode_set(e, "driver_opts", kv_(v->driver_opts));
                        if (v->external)
                                cnode_set(e, "external", b_(true));
                        if (v->labels)
                                cnode_set(e, "labels", kv_(v->labels));
                        cnode_set(m, v->key, e);
                }
                sort_keys(m);
                cnode_set(root, "volumes", m);
        }
        if (p->n_secrets) {
                struct cnode *m = map_();
                for (size_t i = 0; i < p->n_secrets; i++) {
                        const struct compose_secret *s = &p->secrets[i];
                        struct cnode *e = map_();
                        cnode_set(e, "name", s_(s->name));
                        if (s->file)
                                cnode_set(e, "file", s_(s->file));
                        if (s->environment)
                                cnode_set(e, "environment", s_(s->environment));
                        if (s->external)
                                cnode_set(e, "external", b_(true));
                        cnode_set(m, s->key, e);
                }
                sort_keys(m);
                cnode_set(root, "secrets", m);
        }
        return root;
}

char *compose_config_yaml(const struct compose_project *p, berth_error_t *err)
{
        cleanup_cnode struct cnode *t = project_tree(p);
        return compose_yaml_emit(t, err);
}

char *compose_config_json(const struct compose_project *p)
{
        cleanup_cnode struct cnode *t = project_tree(p);
        return compose_json_emit(t);
}
