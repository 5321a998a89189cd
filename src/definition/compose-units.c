/* berth — a compose project as definition files (include/berth/compose-units.h).
 *
 * Each compose key becomes the [Container] key that means the same `berth
 * run` flag (definition.c's table), so the container `up` makes is the one
 * `berth run` would; what has no such key is an error "service NAME: KEY is
 * not supported by compose up yet".  Values are written quoted where the key
 * takes words, with '%' doubled (the files are read with specifiers). */
#include "config.h"

#include "berth/blob.h"
#include "berth/compose-units.h"
#include "berth/container-spec.h"
#include "berth/definition-internal.h"
#include "berth/definition.h"
#include "berth/rootless.h"
#include "berth/util.h"

char *compose_target_name(const char *project)
{
        return xasprintf("berth-compose-%s.target", project);
}

static int unsupported(const struct compose_service *s, const char *key, berth_error_t *err)
{
        return berth_error(err, 0, "service %s: %s is not supported by compose up yet", s->name, key);
}

/* One value of a key that takes a single string. */
static int add_string(struct strbuf *b, const struct compose_service *s, const char *key, const char *v,
                      berth_error_t *err)
{
        if (strpbrk(v, "\n\r") || (*v && (strchr(" \t", v[0]) || strchr(" \t", v[strlen(v) - 1]))) ||
            (*v && v[strlen(v) - 1] == '\\'))
                return berth_error(err, 0, "service %s: the value of %s cannot be written in a definition file: '%s'",
                                   s->name, key, v);
        cleanup_free char *e = def_escape_specifiers(v);
        strbuf_printf(b, "%s=%s\n", key, e);
        return 0;
}

/* A value as `berth run --OPTION` checks it, so that up fails before it
 * writes anything rather than the unit at its start. */
static int check_run_option(const struct compose_service *s, const char *option, const char *v, berth_error_t *err)
{
        struct container_spec sp;
        container_spec_init(&sp);
        int r = container_spec_set(&sp, option, v, NULL, err);
        container_spec_clear(&sp);
        if (r < 0)
                return berth_error_wrap(err, "service %s", s->name);
        return 0;
}

/* A word in double quotes, C escapes for '\' and '"', '%' doubled. */
static void add_word(struct strbuf *b, const char *v)
{
        strbuf_addc(b, '"');
        for (const char *c = v; *c; c++) {
                if (*c == '"' || *c == '\\')
                        strbuf_addc(b, '\\');
                if (*c == '\n') {
                        strbuf_adds(b, "\\n");
                        continue;
                }
                if (*c == '%')
                        strbuf_addc(b, '%');
                strbuf_addc(b, *c);
        }
        strbuf_addc(b, '"');
}

static void add_words(struct strbuf *b, const char *key, char *const *v)
{
        strbuf_printf(b, "%s=", key);
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        strbuf_addc(b, ' ');
                add_word(b, v[i]);
        }
        strbuf_addc(b, '\n');
}

static void add_word_line(struct strbuf *b, const char *key, const char *v)
{
        char *one[] = { (char *) v, NULL };
        add_words(b, key, one);
}

/* Go-style durations, as --health-interval takes them. */
static char *duration_text(long long ns)
{
        if (ns % 1000000LL == 0)
                return xasprintf("%lldms", ns / 1000000LL);
        return xasprintf("%lldns", ns);
}

/* 'word' for /bin/sh: a ["CMD", ...] test becomes the shell line running it. */
static void shell_quote(struct strbuf *b, const char *v)
{
        strbuf_addc(b, '\'');
        for (const char *c = v; *c; c++) {
                if (*c == '\'')
                        strbuf_adds(b, "'\\''");
                else
                        strbuf_addc(b, *c);
        }
        strbuf_addc(b, '\'');
}

static int add_healthcheck(struct strbuf *b, const struct compose_service *s, berth_error_t *err)
{
        const struct compose_healthcheck *h = s->healthcheck;
        if (!h)
                return 0;
        if (h->disable || (h->test && h->test[0] && streq(h->test[0], "NONE"))) {
                strbuf_adds(b, "HealthCmd=none\n");
                return 0;
        }
        if (h->test && h->test[0]) {
                cleanup_strbuf struct strbuf cmd = {};
                if (streq(h->test[0], "CMD-SHELL") && h->test[1])
                        strbuf_adds(&cmd, h->test[1]);
                else if (streq(h->test[0], "CMD") && h->test[1])
                        for (size_t i = 1; h->test[i]; i++) {
                                if (i > 1)
                                        strbuf_addc(&cmd, ' ');
                                shell_quote(&cmd, h->test[i]);
                        }
                else
                        return unsupported(s, "healthcheck.test of this form", err);
                if (add_string(b, s, "HealthCmd", cmd.s, err) < 0)
                        return -1;
        }
        const struct {
                const char *key;
                long long v;
        } d[] = {
                { "HealthInterval", h->interval },
                { "HealthTimeout", h->timeout },
                { "HealthStartPeriod", h->start_period },
                { "HealthStartInterval", h->start_interval },
        };
        for (size_t i = 0; i < ARRAY_SIZE(d); i++)
                if (d[i].v >= 0) {
                        cleanup_free char *t = duration_text(d[i].v);
                        strbuf_printf(b, "%s=%s\n", d[i].key, t);
                }
        if (h->retries >= 0)
                strbuf_printf(b, "HealthRetries=%lld\n", h->retries);
        return 0;
}

static const struct compose_volume *find_volume(const struct compose_project *p, const char *key)
{
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i].key, key))
                        return &p->volumes[i];
        return NULL;
}

static const struct compose_network *find_network(const struct compose_project *p, const char *key)
{
        for (size_t i = 0; i < p->n_networks; i++)
                if (streq(p->networks[i].key, key))
                        return &p->networks[i];
        return NULL;
}

static int add_mounts(struct strbuf *b, const struct compose_project *p, const struct compose_service *s,
                      struct compose_units *u, berth_error_t *err)
{
        for (size_t i = 0; i < s->n_volumes; i++) {
                const struct compose_mount *m = &s->volumes[i];
                cleanup_free char *v = NULL;
                if (streq(m->type, "tmpfs")) {
                        v = m->tmpfs_size >= 0 ? xasprintf("%s:size=%lld", m->target, (long long) m->tmpfs_size)
                                               : xstrdup(m->target);
                        if (add_string(b, s, "Tmpfs", v, err) < 0)
                                return -1;
                        continue;
                }
                if (m->nocopy)
                        return unsupported(s, "volumes' nocopy", err);
                if (streq(m->type, "volume") && m->source) {
                        const struct compose_volume *cv = find_volume(p, m->source);
                        if (!cv)
                                return berth_error(err, 0, "service %s: volume %s is not declared", s->name,
                                                   m->source);
                        if (cv->external)
                                v = xasprintf("%s:%s", cv->name, m->target);
                        else {
                                v = xasprintf("%s.volume:%s", cv->name, m->target);
                                if (!strv_contains(u->volumes, cv->name))
                                        strv_push(&u->volumes, cv->name);
                        }
                } else if (streq(m->type, "volume"))
                        v = xstrdup(m->target); /* anonymous */
                else if (streq(m->type, "bind"))
                        v = xasprintf("%s:%s", m->source, m->target);
                else
                        return unsupported(s, "this volume type", err);
                cleanup_free char *opts = xstrdup("");
                if (m->read_only || m->selinux) {
                        free(opts);
                        opts = xasprintf(":%s%s%s", m->read_only ? "ro" : "", m->read_only && m->selinux ? "," : "",
                                         m->selinux ? m->selinux : "");
                }
                cleanup_free char *line = xasprintf("%s%s", v, opts);
                if (add_string(b, s, "Volume", line, err) < 0)
                        return -1;
        }
        return 0;
}

/* secrets: as Docker Compose outside a swarm, a file secret is the file
 * bound read-only at /run/secrets/TARGET (TARGET: the secret's key, or the
 * long syntax's target, a name or an absolute path). */
static int add_secrets(struct strbuf *b, const struct compose_project *p, const struct compose_service *s,
                       berth_error_t *err)
{
        for (size_t i = 0; i < s->n_secrets; i++) {
                const struct compose_secret_ref *r = &s->secrets[i];
                const struct compose_secret *cs = NULL;
                for (size_t k = 0; k < p->n_secrets && !cs; k++)
                        if (streq(p->secrets[k].key, r->source))
                                cs = &p->secrets[k];
                if (!cs)
                        return berth_error(err, 0, "service %s: secret %s is not declared", s->name, r->source);
                if (!cs->file)
                        return berth_error(err, 0,
                                           "service %s: secret %s: only secrets from a file are supported by compose "
                                           "up yet",
                                           s->name, r->source);
                const char *t = r->target ? r->target : r->source;
                cleanup_free char *line = t[0] == '/' ? xasprintf("%s:%s:ro", cs->file, t)
                                                      : xasprintf("%s:/run/secrets/%s:ro", cs->file, t);
                if (add_string(b, s, "Volume", line, err) < 0)
                        return -1;
        }
        return 0;
}

static int add_network(struct strbuf *b, const struct compose_project *p, const struct compose_service *s,
                       struct compose_units *u, berth_error_t *err)
{
        if (s->network_mode) {
                if (!streq(s->network_mode, "host") && !streq(s->network_mode, "none"))
                        return unsupported(s, "network_mode other than host and none", err);
                strbuf_printf(b, "Network=%s\n", s->network_mode);
                return 0;
        }
        if (s->n_networks == 0)
                return 0;
        /* one network: Network= and NetworkAlias=; several (or an address):
         * Network=NAME:alias=...,ip=..., each with its own aliases, the
         * service's name on every one, as Docker Compose does */
        bool own = s->n_networks > 1;
        for (size_t i = 0; i < s->n_networks; i++)
                own |= s->networks[i].ipv4_address != NULL;
        for (size_t i = 0; i < s->n_networks; i++) {
                const struct compose_service_net *sn = &s->networks[i];
                const struct compose_network *n = find_network(p, sn->name);
                if (!n)
                        return berth_error(err, 0, "service %s: network %s is not declared", s->name, sn->name);
                for (size_t k = 0; sn->aliases && sn->aliases[k]; k++)
                        if (check_run_option(s, "network-alias", sn->aliases[k], err) < 0)
                                return -1;
                cleanup_free char *line = xasprintf("%s%s", n->name, n->external ? "" : ".network");
                if (!n->external && !strv_contains(u->networks, n->name))
                        strv_push(&u->networks, n->name);
                if (!own) {
                        if (add_string(b, s, "Network", line, err) < 0 || add_string(b, s, "NetworkAlias", s->name, err) < 0)
                                return -1;
                        for (size_t k = 0; sn->aliases && sn->aliases[k]; k++)
                                if (add_string(b, s, "NetworkAlias", sn->aliases[k], err) < 0)
                                        return -1;
                        continue;
                }
                char *t = xasprintf("%s:alias=%s", line, s->name);
                free(line);
                line = t;
                for (size_t k = 0; sn->aliases && sn->aliases[k]; k++) {
                        t = xasprintf("%s,alias=%s", line, sn->aliases[k]);
                        free(line);
                        line = t;
                }
                if (sn->ipv4_address) {
                        t = xasprintf("%s,ip=%s", line, sn->ipv4_address);
                        free(line);
                        line = t;
                }
                if (add_string(b, s, "Network", line, err) < 0)
                        return -1;
        }
        return 0;
}

static void add_limits(struct strbuf *b, const struct compose_service *s)
{
        struct compose_resources lim;
        int64_t res;
        compose_service_limits(s, &lim, &res);
        if (lim.memory >= 0)
                strbuf_printf(b, "Memory=%lld\n", (long long) lim.memory);
        if (res >= 0)
                strbuf_printf(b, "MemoryReservation=%lld\n", (long long) res);
        if (lim.pids >= 0)
                strbuf_printf(b, "PidsLimit=%lld\n", (long long) lim.pids);
        if (lim.cpus >= 0)
                strbuf_printf(b, "CPUs=%g\n", lim.cpus);
}

static int add_security(struct strbuf *b, const struct compose_service *s, berth_error_t *err)
{
        for (size_t i = 0; s->security_opt && s->security_opt[i]; i++) {
                const char *o = s->security_opt[i];
                if (streq(o, "no-new-privileges") || streq(o, "no-new-privileges:true") ||
                    streq(o, "no-new-privileges=true"))
                        strbuf_adds(b, "NoNewPrivileges=yes\n");
                else if (startswith(o, "seccomp=") || startswith(o, "seccomp:")) {
                        if (add_string(b, s, "SeccompProfile", o + 8, err) < 0)
                                return -1;
                } else
                        return berth_error(err, 0, "service %s: security_opt %s is not supported by compose up yet",
                                           s->name, o);
        }
        return 0;
}

/* Keys the definitions have no counterpart for yet. */
static int check_unsupported(const struct compose_service *s, berth_error_t *err)
{
        if (!s->image && !s->build)
                return berth_error(err, 0, "service %s has neither an image nor a build section", s->name);
        if (s->tty > 0 || s->stdin_open > 0)
                return unsupported(s, s->tty > 0 ? "tty" : "stdin_open", err);
        if (s->dns)
                return unsupported(s, "dns", err);
        if (s->extra_hosts)
                return unsupported(s, "extra_hosts", err);
        if (s->reservations.cpus >= 0 || s->reservations.pids >= 0)
                /* Docker Compose passes neither to a container outside a
                 * swarm: a file that has them still comes up */
                berth_warn("service %s: deploy.resources.reservations.%s is not applied outside a swarm, as "
                           "with Docker Compose",
                           s->name, s->reservations.cpus >= 0 ? "cpus" : "pids");
        return 0;
}

static int add_restart(struct strbuf *svc, const struct compose_service *s, berth_error_t *err)
{
        if (!s->restart || streq(s->restart, "no"))
                return 0;
        if (streq(s->restart, "always") || streq(s->restart, "unless-stopped"))
                strbuf_adds(svc, "Restart=always\n");
        else if (streq(s->restart, "on-failure"))
                strbuf_adds(svc, "Restart=on-failure\n");
        else
                return unsupported(s, "restart with a retry count", err);
        return 0;
}

static int add_depends(struct strbuf *unit, const struct compose_project *p, const struct compose_service *s,
                       berth_error_t *err)
{
        for (size_t i = 0; i < s->n_depends_on; i++) {
                const struct compose_dep *d = &s->depends_on[i];
                const struct compose_service *ds = compose_find_service(p, d->service);
                if (!ds)
                        return berth_error(err, 0, "service %s depends on undefined service %s", s->name, d->service);
                if (d->restart)
                        return unsupported(s, "depends_on restart", err);
                cleanup_free char *cname = compose_container_name(p, ds, 1);
                cleanup_free char *dunit = definition_unit_name(DEFINITION_CONTAINER, cname);
                strbuf_printf(unit, "%s=%s\nAfter=%s\n", d->required ? "Requires" : "Wants", dunit, dunit);
        }
        return 0;
}

/* Does any selected service depend on s with this condition? */
static bool condition_wanted(const struct compose_project *p, const bool *selected, const struct compose_service *s,
                             const char *condition)
{
        for (size_t i = 0; i < p->n_services; i++)
                for (size_t j = 0; selected[i] && j < p->services[i].n_depends_on; j++) {
                        const struct compose_dep *d = &p->services[i].depends_on[j];
                        if (streq(d->service, s->name) && d->condition && streq(d->condition, condition))
                                return true;
                }
        return false;
}

/* A service others wait for with service_completed_successfully runs to
 * completion: its unit is Type=oneshot, whose start job ends when the
 * container's process (the unit's main process once the shim handed it
 * over) exits, done with status 0 and failed otherwise; so Requires=+After=
 * on it starts the dependent only after a successful run.  Without
 * RemainAfterExit= the unit is inactive again afterwards and its stop hook
 * records the exit code, as for any container that exited. */
static int add_run_once(struct strbuf *svc, const struct compose_service *s, bool healthy, berth_error_t *err)
{
        if (healthy)
                return berth_error(err, 0,
                                   "service %s: services depend on it with both service_healthy and "
                                   "service_completed_successfully",
                                   s->name);
        if (s->restart && (streq(s->restart, "always") || streq(s->restart, "unless-stopped")))
                return berth_error(err, 0,
                                   "service %s: restart %s cannot be combined with a dependency of condition "
                                   "service_completed_successfully (it must run to completion)",
                                   s->name, s->restart);
        strbuf_adds(svc, "Type=oneshot\nRemainAfterExit=no\n");
        return 0;
}

/* Docker Compose's com.docker.compose.config-hash: here the sha256 of the
 * definition file without that label, so any change to what the container
 * is made from changes it. */
char *compose_config_hash(const char *text)
{
        cleanup_free char *d = digest_of_data(text, strlen(text));
        return xstrdup(strchr(d, ':') + 1);
}

static int service_file(const struct compose_project *p, const struct compose_service *s, const bool *selected,
                        struct compose_units *u, berth_error_t *err)
{
        if (check_unsupported(s, err) < 0)
                return -1;
        cleanup_free char *cname = compose_container_name(p, s, 1);
        if (!definition_name_valid(cname))
                return berth_error(err, 0, "service %s: invalid container name '%s'", s->name, cname);
        cleanup_free char *image = compose_service_image(p, s); /* a build's: PROJECT-SERVICE */
        cleanup_strbuf struct strbuf unit = {}, c = {}, svc = {};
        strbuf_printf(&unit, "[Unit]\nDescription=compose project %s, service %s\nPartOf=", p->name, s->name);
        cleanup_free char *target = compose_target_name(p->name);
        strbuf_printf(&unit, "%s\n", target);
        if (add_depends(&unit, p, s, err) < 0)
                return -1;
        strbuf_adds(&c, "[Container]\n");
        if (add_string(&c, s, "Image", image, err) < 0 || add_string(&c, s, "ContainerName", cname, err) < 0)
                return -1;
        if (s->pull_policy) {
                const char *pull = streq(s->pull_policy, "if_not_present") ? "missing" : s->pull_policy;
                if (!streq(pull, "missing") && !streq(pull, "always") && !streq(pull, "never"))
                        return unsupported(s, "this pull_policy", err);
                strbuf_printf(&c, "Pull=%s\n", pull);
        }
        cleanup_strv char **exec = NULL;
        if (s->entrypoint) {
                if (!s->entrypoint[0])
                        return unsupported(s, "an empty entrypoint", err);
                if (add_string(&c, s, "Entrypoint", s->entrypoint[0], err) < 0)
                        return -1;
                for (size_t i = 1; s->entrypoint[i]; i++)
                        strv_push(&exec, s->entrypoint[i]);
        }
        for (size_t i = 0; s->command && s->command[i]; i++)
                strv_push(&exec, s->command[i]);
        if (exec && exec[0])
                add_words(&c, "Exec", exec);
        for (size_t i = 0; s->environment && s->environment[i]; i++) {
                const char *kv = s->environment[i];
                if (strchr(kv, '=')) {
                        add_word_line(&c, "Environment", kv);
                        continue;
                }
                /* a bare KEY: its value in the project's environment (the
                 * process's and .env), or unset */
                size_t kl = strlen(kv);
                for (size_t j = 0; p->env && p->env[j]; j++)
                        if (strncmp(p->env[j], kv, kl) == 0 && p->env[j][kl] == '=') {
                                add_word_line(&c, "Environment", p->env[j]);
                                break;
                        }
        }
        for (size_t i = 0; i < s->n_env_files; i++)
                if (s->env_files[i].required || access(s->env_files[i].path, F_OK) == 0)
                        if (add_string(&c, s, "EnvironmentFile", s->env_files[i].path, err) < 0)
                                return -1;
        for (size_t i = 0; i < s->n_ports; i++) {
                const struct compose_port *pt = &s->ports[i];
                cleanup_free char *v = NULL;
                const char *proto = pt->protocol ? pt->protocol : "tcp";
                if (pt->published)
                        v = xasprintf("%s%s%s:%u/%s", pt->host_ip ? pt->host_ip : "", pt->host_ip ? ":" : "",
                                      pt->published, pt->target, proto);
                else if (pt->host_ip)
                        v = xasprintf("%s::%u/%s", pt->host_ip, pt->target, proto);
                else
                        v = xasprintf("%u/%s", pt->target, proto);
                strbuf_printf(&c, "PublishPort=%s\n", v);
        }
        if (add_mounts(&c, p, s, u, err) < 0 || add_secrets(&c, p, s, err) < 0 || add_network(&c, p, s, u, err) < 0)
                return -1;
        if (s->user && add_string(&c, s, "User", s->user, err) < 0)
                return -1;
        if (s->working_dir && add_string(&c, s, "WorkingDir", s->working_dir, err) < 0)
                return -1;
        if (s->hostname && add_string(&c, s, "HostName", s->hostname, err) < 0)
                return -1;
        if (s->read_only > 0)
                strbuf_adds(&c, "ReadOnly=yes\n");
        if (s->privileged > 0)
                strbuf_adds(&c, "Privileged=yes\n");
        for (size_t i = 0; s->expose && s->expose[i]; i++)
                if (add_string(&c, s, "ExposeHostPort", s->expose[i], err) < 0)
                        return -1;
        if (s->init > 0)
                strbuf_adds(&c, "RunInit=yes\n");
        if (s->cap_add)
                add_words(&c, "AddCapability", s->cap_add);
        if (s->cap_drop)
                add_words(&c, "DropCapability", s->cap_drop);
        if (add_security(&c, s, err) < 0)
                return -1;
        for (size_t i = 0; s->labels && s->labels[i]; i++)
                add_word_line(&c, "Label", s->labels[i]);
        cleanup_free char *l1 = xasprintf("com.docker.compose.project=%s", p->name);
        cleanup_free char *l2 = xasprintf("com.docker.compose.service=%s", s->name);
        cleanup_free char *l3 = xasprintf("com.docker.compose.project.working_dir=%s", p->dir);
        add_word_line(&c, "Label", l1);
        add_word_line(&c, "Label", l2);
        add_word_line(&c, "Label", "com.docker.compose.container-number=1");
        add_word_line(&c, "Label", l3);
        for (size_t i = 0; i < s->n_ulimits; i++) {
                const struct compose_ulimit *ul = &s->ulimits[i];
                strbuf_printf(&c, "Ulimit=%s=%lld:%lld\n", ul->name, ul->soft, ul->hard);
        }
        if (s->stop_grace_period >= 0)
                strbuf_printf(&c, "StopTimeout=%lld\n", (s->stop_grace_period + 999999999LL) / 1000000000LL);
        if (add_healthcheck(&c, s, err) < 0)
                return -1;
        bool healthy = condition_wanted(p, selected, s, "service_healthy");
        bool once = condition_wanted(p, selected, s, "service_completed_successfully");
        if (healthy) {
                /* without a compose healthcheck, the image's HEALTHCHECK (the
                 * unit's start says so when there is none) */
                if (s->healthcheck && s->healthcheck->disable)
                        return berth_error(err, 0,
                                           "service %s: its healthcheck is disabled, but a service depends on it "
                                           "with condition service_healthy",
                                           s->name);
                strbuf_adds(&c, "Notify=healthy\n");
        }
        add_limits(&c, s);
        strbuf_adds(&svc, "[Service]\n");
        if (s->stop_signal && add_string(&svc, s, "KillSignal", s->stop_signal, err) < 0)
                return -1;
        if (add_restart(&svc, s, err) < 0)
                return -1;
        if (once && add_run_once(&svc, s, healthy, err) < 0)
                return -1;

        cleanup_free char *head = xasprintf("# berth compose up: project %s, service %s\n%s\n", p->name, s->name,
                                            unit.s);
        cleanup_free char *whole = xasprintf("%s%s\n%s", head, c.s, svc.s);
        cleanup_free char *hash = compose_config_hash(whole);
        cleanup_free char *l4 = xasprintf("com.docker.compose.config-hash=%s", hash);
        add_word_line(&c, "Label", l4);
        struct compose_unit_file *f = &u->files[u->n_files++];
        f->name = xasprintf("%s.container", cname);
        f->text = xasprintf("%s%s\n%s", head, c.s, svc.s);
        cleanup_free char *unit_name = definition_unit_name(DEFINITION_CONTAINER, cname);
        strv_push(&u->units, unit_name);
        strv_push(&u->hashes, hash);
        if (once)
                strv_push(&u->run_once, unit_name);
        strv_push(&u->containers, cname);
        strv_push(&u->images, image);
        return 0;
}

/* The services named and those they depend on, transitively. */
static int select_services(const struct compose_project *p, char *const *names, bool *selected, berth_error_t *err)
{
        if (!names || !names[0]) {
                for (size_t i = 0; i < p->n_services; i++)
                        selected[i] = true;
                return 0;
        }
        for (size_t i = 0; names[i]; i++) {
                const struct compose_service *s = compose_find_service(p, names[i]);
                if (!s)
                        return berth_error(err, 0, "no such service: %s", names[i]);
                selected[s - p->services] = true;
        }
        for (bool changed = true; changed;) {
                changed = false;
                for (size_t i = 0; i < p->n_services; i++)
                        for (size_t j = 0; selected[i] && j < p->services[i].n_depends_on; j++) {
                                const struct compose_service *d =
                                        compose_find_service(p, p->services[i].depends_on[j].service);
                                if (d && !selected[d - p->services]) {
                                        selected[d - p->services] = true;
                                        changed = true;
                                }
                        }
        }
        return 0;
}

static void resource_file(struct compose_units *u, const struct compose_project *p, const char *name,
                          const char *key, bool volume)
{
        struct compose_unit_file *f = &u->files[u->n_files++];
        f->name = xasprintf("%s.%s", name, volume ? "volume" : "network");
        if (volume)
                f->text = xasprintf("# berth compose up: project %s, volume %s\n[Volume]\nVolumeName=%s\n"
                                    "Label=\"com.docker.compose.project=%s\" \"com.docker.compose.volume=%s\"\n",
                                    p->name, key, name, p->name, key);
        else
                f->text = xasprintf("# berth compose up: project %s, network %s\n[Network]\nNetworkName=%s\n", p->name,
                                    key, name);
}

static int resource_check(const struct compose_project *p, struct compose_units *u, berth_error_t *err)
{
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct compose_volume *v = &p->volumes[i];
                if (!strv_contains(u->volumes, v->name))
                        continue;
                if (v->driver && !streq(v->driver, "local"))
                        return berth_error(err, 0, "volume %s: driver %s is not supported", v->key, v->driver);
                if (v->driver_opts || v->labels)
                        return berth_error(err, 0, "volume %s: %s is not supported by compose up yet", v->key,
                                           v->driver_opts ? "driver_opts" : "labels");
                if (strpbrk(v->name, "%\"\\"))
                        return berth_error(err, 0, "volume %s: invalid name '%s'", v->key, v->name);
                resource_file(u, p, v->name, v->key, true);
        }
        for (size_t i = 0; i < p->n_networks; i++) {
                const struct compose_network *n = &p->networks[i];
                if (!strv_contains(u->networks, n->name))
                        continue;
                if (n->driver && !streq(n->driver, "bridge"))
                        return berth_error(err, 0, "network %s: driver %s is not supported", n->key, n->driver);
                if (n->internal || n->labels)
                        return berth_error(err, 0, "network %s: %s is not supported by compose up yet", n->key,
                                           n->internal ? "internal" : "labels");
                if (!definition_name_valid(n->name))
                        return berth_error(err, 0, "network %s: invalid name '%s'", n->key, n->name);
                resource_file(u, p, n->name, n->key, false);
        }
        return 0;
}

int compose_units_make(const struct compose_project *p, char *const *services, struct compose_units **out,
                       berth_error_t *err)
{
        if (!definition_name_valid(p->name))
                return berth_error(err, 0, "invalid project name '%s'", p->name);
        cleanup_free bool *selected = xcalloc(p->n_services + 1, sizeof(bool));
        if (select_services(p, services, selected, err) < 0)
                return -1;
        struct compose_units *u = xcalloc(1, sizeof(*u));
        u->files = xcalloc(p->n_services + p->n_volumes + p->n_networks + 1, sizeof(*u->files));
        u->units = xcalloc(1, sizeof(char *));
        u->containers = xcalloc(1, sizeof(char *));
        u->images = xcalloc(1, sizeof(char *));
        u->hashes = xcalloc(1, sizeof(char *));
        u->run_once = xcalloc(1, sizeof(char *));
        u->volumes = xcalloc(1, sizeof(char *));
        u->networks = xcalloc(1, sizeof(char *));
        u->target = compose_target_name(p->name);
        for (size_t i = 0; i < p->n_services; i++)
                if (selected[i] && service_file(p, &p->services[i], selected, u, err) < 0) {
                        compose_units_free(u);
                        return -1;
                }
        if (resource_check(p, u, err) < 0) {
                compose_units_free(u);
                return -1;
        }
        /* the target: wants every service, and is reached once they started */
        cleanup_strbuf struct strbuf t = {};
        strbuf_printf(&t, "# berth compose up: project %s\n[Unit]\nDescription=compose project %s\n", p->name,
                      p->name);
        for (size_t i = 0; u->units[i]; i++)
                strbuf_printf(&t, "Wants=%s\nAfter=%s\n", u->units[i], u->units[i]);
        struct compose_unit_file *f = &u->files[u->n_files++];
        f->name = xstrdup(u->target);
        f->text = strbuf_steal(&t);
        *out = u;
        return 0;
}

const struct compose_layout *compose_layout(bool enabled)
{
        static struct compose_layout l[2];
        static bool made;
        if (!made) {
                made = true;
                if (!rootless()) {
                        l[0] = (struct compose_layout) { xstrdup("/run/berth/containers"), xstrdup("/run/systemd/system"),
                                                         xstrdup("/run/berth/compose"), "multi-user.target" };
                        l[1] = (struct compose_layout) { xstrdup("/etc/berth/containers"), xstrdup("/etc/systemd/system"),
                                                         xstrdup("/etc/berth/compose"), "multi-user.target" };
                } else {
                        cleanup_free char *run = NULL, *config = rootless_config_dir();
                        berth_error_t e = NULL;
                        if (rootless_xdg_runtime_dir(&run, &e) < 0) {
                                berth_error_free(&e); /* what store_open() says first */
                                run = xasprintf("/run/user/%u", (unsigned) rootless_uid());
                        }
                        l[0] = (struct compose_layout) { xasprintf("%s/berth/containers", run),
                                                         xasprintf("%s/systemd/user", run),
                                                         xasprintf("%s/berth/compose", run), "default.target" };
                        /* ~/.config/berth -> ~/.config/systemd/user */
                        cleanup_free char *xdg = xstrndup(config, strlen(config) - strlen("/berth"));
                        l[1] = (struct compose_layout) { xasprintf("%s/containers", config),
                                                         xasprintf("%s/systemd/user", xdg),
                                                         xasprintf("%s/compose", config), "default.target" };
                }
        }
        return &l[enabled ? 1 : 0];
}

void compose_units_set_install(struct compose_units *u)
{
        struct compose_unit_file *f = &u->files[u->n_files - 1]; /* the target */
        const struct compose_layout *l = compose_layout(true);
        char *t = xasprintf("%s\n[Install]\nWantedBy=%s\n", f->text, l->wanted_by);
        free(f->text);
        f->text = t;
}

void compose_units_free(struct compose_units *u)
{
        for (size_t i = 0; i < u->n_files; i++) {
                free(u->files[i].name);
                free(u->files[i].text);
        }
        free(u->files);
        strv_free(u->units);
        strv_free(u->containers);
        strv_free(u->images);
        strv_free(u->hashes);
        strv_free(u->run_once);
        strv_free(u->volumes);
        strv_free(u->networks);
        free(u->target);
        free(u);
}
