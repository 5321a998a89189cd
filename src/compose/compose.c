/* A compose project: its files (-f, or compose.yaml and its override found
 * as Docker finds them), the variables for interpolation (the environment
 * over .env or --env-file), each file parsed, interpolated and normalised,
 * all merged, then the model: the project's name, its enabled services
 * (--profile, COMPOSE_PROFILES) and its networks, volumes and secrets with
 * Docker Compose v2's names, every reference between them checked. */
#include "config.h"

#include <ctype.h>
#include <libgen.h>

#include "berth/compose-internal.h"
#include "berth/util.h"

extern char **environ;

/* Docker's order; each with the override file looked for next to it. */
static const char *const default_files[] = { "compose.yaml", "compose.yml", "docker-compose.yaml",
                                             "docker-compose.yml" };

static bool valid_project_name(const char *s)
{
        if (!*s || !(islower((unsigned char) *s) || isdigit((unsigned char) *s)))
                return false;
        for (; *s; s++)
                if (!islower((unsigned char) *s) && !isdigit((unsigned char) *s) && *s != '-' && *s != '_')
                        return false;
        return true;
}

/* Docker's normalisation of a directory name: lowercase, only [a-z0-9_-],
 * not starting with - or _. */
static char *normalize_project_name(const char *s)
{
        struct strbuf b = {};
        for (; *s; s++) {
                char c = (char) tolower((unsigned char) *s);
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
                        if (b.len || (c != '_' && c != '-'))
                                strbuf_addc(&b, c);
        }
        return b.s ? strbuf_steal(&b) : xstrdup("");
}

/* The schema's ^[a-zA-Z0-9._-]+$ */
static bool valid_service_name(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_' && *s != '.' && *s != '-')
                        return false;
        return true;
}

/* Look for a compose file in dir and its parents, as Docker does. */
static int find_files(const char *workdir, char ***files, char **dir, berth_error_t *err)
{
        cleanup_free char *d = xstrdup(workdir);
        for (;;) {
                const char *found = NULL;
                for (size_t i = 0; i < ARRAY_SIZE(default_files); i++) {
                        cleanup_free char *p = xasprintf("%s/%s", d, default_files[i]);
                        if (access(p, F_OK) < 0)
                                continue;
                        if (found)
                                berth_warn("Found multiple config files with supported names: %s, %s; using %s",
                                           found, default_files[i], found);
                        else
                                found = default_files[i];
                }
                if (found) {
                        cleanup_free char *main = xasprintf("%s/%s", d, found);
                        bool here = streq(d, workdir);
                        strv_push(files, here ? found : main);
                        const char *base = startswith(found, "docker-") ? "docker-compose" : "compose";
                        static const char *const exts[] = { "yaml", "yml" };
                        for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
                                cleanup_free char *o = xasprintf("%s/%s.override.%s", d, base, exts[i]);
                                if (access(o, F_OK) == 0) {
                                        strv_push(files, here ? o + strlen(d) + 1 : o);
                                        break;
                                }
                        }
                        *dir = steal_pointer(&d);
                        return 0;
                }
                if (streq(d, "/"))
                        break;
                char *slash = strrchr(d, '/');
                if (slash == d)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
        return berth_error(err, 0, "no configuration file provided: not found (compose.yaml, compose.yml, "
                                   "docker-compose.yaml or docker-compose.yml in %s or a parent)", workdir);
}

static int read_stdin(char **out, size_t *len, berth_error_t *err)
{
        struct strbuf b = {};
        char buf[8192];
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(b.s);
                        return berth_error(err, errno, "reading the compose file from stdin");
                }
                if (n == 0)
                        break;
                strbuf_addn(&b, buf, n);
        }
        *len = b.len;
        *out = b.s ? strbuf_steal(&b) : xstrdup("");
        return 0;
}

/* Remove what a !reset left (also inside mappings and lists). */
static void strip_reset(struct cnode *n)
{
        size_t w = 0;
        for (size_t i = 0; i < n->n; i++) {
                if (n->items[i]->reset) {
                        cnode_free(n->items[i]);
                        if (n->keys)
                                free(n->keys[i]);
                        continue;
                }
                strip_reset(n->items[i]);
                if (n->keys)
                        n->keys[w] = n->keys[i];
                n->items[w++] = n->items[i];
        }
        n->n = w;
}

static int top_map(const struct cnode *n, const char *what, berth_error_t *err)
{
        if (!cnode_is_null(n) && n->kind != CNODE_MAP)
                return cnode_error(err, n, "%s must be a mapping", what);
        return 0;
}

/* labels or driver_opts of a network or volume: a mapping of strings, or a
 * list of KEY=VALUE, as "K=V" strings. */
static int string_map(const struct cnode *x, const char *top, const char *key, const char *what, char ***out,
                      berth_error_t *err)
{
        if (x->kind == CNODE_SEQ)
                return cnode_strv(x, what, false, out, err);
        if (x->kind != CNODE_MAP)
                return cnode_error(err, x, "%s.%s.%s must be a mapping", top, key, what);
        for (size_t i = 0; i < x->n; i++) {
                if (x->items[i]->kind != CNODE_SCALAR)
                        return cnode_error(err, x->items[i], "%s.%s.%s: values must be strings", top, key, what);
                cleanup_free char *kv = xasprintf("%s=%s", x->keys[i], x->items[i]->value);
                strv_push(out, kv);
        }
        return 0;
}

static int parse_networks(struct compose_project *p, const struct cnode *n, berth_error_t *err)
{
        if (top_map(n, "networks", err) < 0)
                return -1;
        size_t count = n && n->kind == CNODE_MAP ? n->n : 0;
        p->networks = xcalloc(count + 1, sizeof(*p->networks));
        for (size_t i = 0; i < count; i++) {
                struct compose_network *net = &p->networks[p->n_networks++];
                const struct cnode *v = n->items[i];
                net->key = xstrdup(n->keys[i]);
                if (v->kind != CNODE_MAP && !cnode_is_null(v))
                        return cnode_error(err, v, "networks.%s must be a mapping", net->key);
                for (size_t j = 0; v->kind == CNODE_MAP && j < v->n; j++) {
                        const char *k = v->keys[j];
                        int r;
                        if (streq(k, "name"))
                                r = cnode_str(v->items[j], "networks.name", &net->name, err);
                        else if (streq(k, "driver"))
                                r = cnode_str(v->items[j], "networks.driver", &net->driver, err);
                        else if (streq(k, "external"))
                                r = cnode_bool(v->items[j], "networks.external", &net->external, err);
                        else if (streq(k, "internal"))
                                r = cnode_bool(v->items[j], "networks.internal", &net->internal, err);
                        else if (streq(k, "labels"))
                                r = string_map(v->items[j], "networks", net->key, k, &net->labels, err);
                        else
                                r = cnode_error(err, v->items[j], "networks.%s.%s: not supported by berth",
                                                net->key, k);
                        if (r < 0)
                                return -1;
                }
                if (net->driver && !streq(net->driver, "bridge"))
                        return cnode_error(err, v, "networks.%s: driver \"%s\" is not supported by berth (only bridge)",
                                           net->key, net->driver);
                if (!net->name)
                        net->name = net->external ? xstrdup(net->key) : xasprintf("%s_%s", p->name, net->key);
        }
        return 0;
}

static int parse_volumes(struct compose_project *p, const struct cnode *n, berth_error_t *err)
{
        if (top_map(n, "volumes", err) < 0)
                return -1;
        size_t count = n && n->kind == CNODE_MAP ? n->n : 0;
        p->volumes = xcalloc(count + 1, sizeof(*p->volumes));
        for (size_t i = 0; i < count; i++) {
                struct compose_volume *vol = &p->volumes[p->n_volumes++];
                const struct cnode *v = n->items[i];
                vol->key = xstrdup(n->keys[i]);
                if (v->kind != CNODE_MAP && !cnode_is_null(v))
                        return cnode_error(err, v, "volumes.%s must be a mapping", vol->key);
                for (size_t j = 0; v->kind == CNODE_MAP && j < v->n; j++) {
                        const char *k = v->keys[j];
                        const struct cnode *x = v->items[j];
                        int r = 0;
                        if (streq(k, "name"))
                                r = cnode_str(x, "volumes.name", &vol->name, err);
                        else if (streq(k, "driver")) {
                                r = cnode_str(x, "volumes.driver", &vol->driver, err);
                                if (r == 0 && !streq(vol->driver, "local"))
                                        r = cnode_error(err, x, "volumes.%s: driver \"%s\" is not supported by berth "
                                                                "(only local)", vol->key, vol->driver);
                        } else if (streq(k, "external"))
                                r = cnode_bool(x, "volumes.external", &vol->external, err);
                        else if (streq(k, "labels") || streq(k, "driver_opts"))
                                r = string_map(x, "volumes", vol->key, k,
                                               streq(k, "labels") ? &vol->labels : &vol->driver_opts, err);
                        else
                                r = cnode_error(err, x, "volumes.%s.%s: not supported by berth", vol->key, k);
                        if (r < 0)
                                return -1;
                }
                if (!vol->name)
                        vol->name = vol->external ? xstrdup(vol->key) : xasprintf("%s_%s", p->name, vol->key);
        }
        return 0;
}

static int parse_secrets(struct compose_project *p, const struct cnode *n, berth_error_t *err)
{
        if (top_map(n, "secrets", err) < 0)
                return -1;
        size_t count = n && n->kind == CNODE_MAP ? n->n : 0;
        p->secrets = xcalloc(count + 1, sizeof(*p->secrets));
        for (size_t i = 0; i < count; i++) {
                struct compose_secret *sec = &p->secrets[p->n_secrets++];
                const struct cnode *v = n->items[i];
                sec->key = xstrdup(n->keys[i]);
                if (v->kind != CNODE_MAP)
                        return cnode_error(err, v, "secrets.%s must be a mapping with file", sec->key);
                for (size_t j = 0; j < v->n; j++) {
                        const char *k = v->keys[j];
                        int r;
                        if (streq(k, "name"))
                                r = cnode_str(v->items[j], "secrets.name", &sec->name, err);
                        else if (streq(k, "file")) {
                                cleanup_free char *f = NULL;
                                r = cnode_str(v->items[j], "secrets.file", &f, err);
                                if (r == 0)
                                        sec->file = path_absolute(p->dir, f);
                        } else if (streq(k, "environment"))
                                r = cnode_str(v->items[j], "secrets.environment", &sec->environment, err);
                        else if (streq(k, "external"))
                                r = cnode_bool(v->items[j], "secrets.external", &sec->external, err);
                        else
                                r = cnode_error(err, v->items[j], "secrets.%s.%s: not supported by berth", sec->key, k);
                        if (r < 0)
                                return -1;
                }
                if (!!sec->file + !!sec->environment + sec->external != 1)
                        return cnode_error(err, v, "secrets.%s needs exactly one of file, environment, external",
                                           sec->key);
                if (!sec->name)
                        sec->name = sec->external ? xstrdup(sec->key) : xasprintf("%s_%s", p->name, sec->key);
        }
        return 0;
}

static bool service_enabled(const struct cnode *svc, char *const *profiles)
{
        const struct cnode *pr = cnode_get(svc, "profiles");
        if (!pr || pr->kind != CNODE_SEQ || pr->n == 0)
                return true;
        if (strv_contains(profiles, "*"))
                return true;
        for (size_t i = 0; i < pr->n; i++)
                if (pr->items[i]->kind == CNODE_SCALAR && strv_contains(profiles, pr->items[i]->value))
                        return true;
        return false;
}

static int check_references(struct compose_project *p, const struct cnode *services, berth_error_t *err)
{
        bool uses_default = false;
        for (size_t i = 0; i < p->n_services; i++) {
                struct compose_service *s = &p->services[i];
                const struct cnode *at = cnode_get(services, s->name);
                if (!s->n_networks && !s->network_mode) {
                        s->networks = xcalloc(1, sizeof(*s->networks));
                        s->networks[0] = (struct compose_service_net) { .name = xstrdup("default"), .is_null = true };
                        s->n_networks = 1;
                }
                if (s->n_networks && s->network_mode)
                        return cnode_error(err, at, "service \"%s\": network_mode and networks cannot be combined",
                                           s->name);
                for (size_t j = 0; j < s->n_networks; j++) {
                        bool found = false;
                        for (size_t k = 0; k < p->n_networks && !found; k++)
                                found = streq(p->networks[k].key, s->networks[j].name);
                        if (streq(s->networks[j].name, "default"))
                                uses_default = true;
                        else if (!found)
                                return cnode_error(err, cnode_get(at, "networks"),
                                                   "service \"%s\" refers to undefined network %s", s->name,
                                                   s->networks[j].name);
                }
                for (size_t j = 0; j < s->n_volumes; j++) {
                        const struct compose_mount *m = &s->volumes[j];
                        bool found = false;
                        if (!streq(m->type, "volume") || !m->source)
                                continue;
                        for (size_t k = 0; k < p->n_volumes && !found; k++)
                                found = streq(p->volumes[k].key, m->source);
                        if (!found)
                                return cnode_error(err, cnode_get(at, "volumes"),
                                                   "service \"%s\" refers to undefined volume %s (declare it under "
                                                   "the top-level volumes)", s->name, m->source);
                }
                for (size_t j = 0; j < s->n_secrets; j++) {
                        bool found = false;
                        for (size_t k = 0; k < p->n_secrets && !found; k++)
                                found = streq(p->secrets[k].key, s->secrets[j].source);
                        if (!found)
                                return cnode_error(err, cnode_get(at, "secrets"),
                                                   "service \"%s\" refers to undefined secret %s", s->name,
                                                   s->secrets[j].source);
                }
                for (size_t j = 0; j < s->n_depends_on; j++) {
                        const char *d = s->depends_on[j].service;
                        if (!compose_find_service(p, d))
                                return cnode_error(err, cnode_get(at, "depends_on"),
                                                   cnode_get(services, d) ? "service \"%2$s\" is required by \"%1$s\" "
                                                                            "but is disabled (see --profile)"
                                                                          : "service \"%s\" depends on undefined "
                                                                            "service %s",
                                                   s->name, d);
                        if (streq(d, s->name))
                                return cnode_error(err, cnode_get(at, "depends_on"),
                                                   "service \"%s\" depends on itself", s->name);
                }
        }
        bool have_default = false;
        for (size_t k = 0; k < p->n_networks; k++)
                have_default |= streq(p->networks[k].key, "default");
        if (uses_default && !have_default) {
                /* parse_networks left room for one more */
                struct compose_network *n = &p->networks[p->n_networks];
                memmove(p->networks + 1, p->networks, p->n_networks * sizeof(*n));
                p->networks[0] = (struct compose_network) { .key = xstrdup("default"),
                                                             .name = xasprintf("%s_default", p->name) };
                p->n_networks++;
        }
        return 0;
}

static int service_cmp(const void *a, const void *b)
{
        return strcmp(((const struct compose_service *) a)->name, ((const struct compose_service *) b)->name);
}

static int build_model(struct compose_project *p, const struct compose_options *o, const struct cnode *root,
                       berth_error_t *err)
{
        const struct cnode *name = NULL, *services = NULL;
        for (size_t i = 0; i < root->n; i++) {
                const char *k = root->keys[i];
                if (streq(k, "name"))
                        name = root->items[i];
                else if (streq(k, "services"))
                        services = root->items[i];
                else if (streq(k, "version"))
                        berth_warn("%s:%u: the attribute `version` is obsolete, it will be ignored",
                                   root->items[i]->file, root->items[i]->line);
                else if (!startswith(k, "x-") && !streq(k, "networks") && !streq(k, "volumes") &&
                         !streq(k, "secrets"))
                        return cnode_error(err, root->items[i], "%s: not supported by berth", k);
        }
        /* the name: -p, COMPOSE_PROJECT_NAME, name:, the directory */
        const char *env_name = NULL;
        for (size_t i = 0; p->env[i]; i++)
                if (startswith(p->env[i], "COMPOSE_PROJECT_NAME=") && p->env[i][21])
                        env_name = p->env[i] + 21;
        if (o->project_name || env_name) {
                p->name = xstrdup(o->project_name ? o->project_name : env_name);
        } else if (name) {
                if (cnode_str(name, "name", &p->name, err) < 0)
                        return -1;
        } else {
                cleanup_free char *d = xstrdup(p->dir);
                p->name = normalize_project_name(basename(d));
                if (!*p->name)
                        return berth_error(err, 0, "project name could not be derived from the directory %s: "
                                                   "use -p NAME", p->dir);
        }
        if (!valid_project_name(p->name))
                return name && !o->project_name && !env_name
                               ? cnode_error(err, name, "invalid project name \"%s\": only lowercase letters, digits, "
                                                        "- and _, starting with a letter or digit", p->name)
                               : berth_error(err, 0, "invalid project name \"%s\": only lowercase letters, digits, "
                                                     "- and _, starting with a letter or digit", p->name);
        if (parse_networks(p, cnode_get(root, "networks"), err) < 0 ||
            parse_volumes(p, cnode_get(root, "volumes"), err) < 0 ||
            parse_secrets(p, cnode_get(root, "secrets"), err) < 0 || top_map(services, "services", err) < 0)
                return -1;
        if (!services || services->n == 0)
                return berth_error(err, 0, "%s: no service is defined (services: is empty)", p->files[0]);

        cleanup_strv char **profiles = strv_copy(o->profiles);
        for (size_t i = 0; p->env[i]; i++)
                if (startswith(p->env[i], "COMPOSE_PROFILES=")) {
                        cleanup_free char *v = xstrdup(p->env[i] + 17);
                        char *save = NULL;
                        for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save))
                                strv_push(&profiles, t);
                }
        p->services = xcalloc(services->n, sizeof(*p->services));
        for (size_t i = 0; i < services->n; i++) {
                struct compose_service s = {};
                if (!valid_service_name(services->keys[i]))
                        return cnode_error(err, services->items[i], "invalid service name \"%s\"", services->keys[i]);
                int r = compose_service_parse(p, services->keys[i], services->items[i], &s, err);
                if (r < 0 || !service_enabled(services->items[i], profiles)) {
                        compose_service_clear(&s);
                        if (r < 0)
                                return -1;
                        continue;
                }
                p->services[p->n_services++] = s;
        }
        qsort(p->services, p->n_services, sizeof(*p->services), service_cmp);
        return check_references(p, services, err);
}

static int load_env(struct compose_project *p, const struct compose_options *o, berth_error_t *err)
{
        p->env = strv_copy(o->environ ? o->environ : environ);
        cleanup_free char *path = o->env_file ? path_absolute(o->workdir, o->env_file) : xasprintf("%s/.env", p->dir);
        if (!o->env_file && access(path, F_OK) < 0)
                return 0;
        cleanup_strv char **vars = NULL;
        if (compose_dotenv_read(path, o->env_file ? o->env_file : ".env", p->env, &vars, err) < 0)
                return -1;
        for (size_t i = 0; vars && vars[i]; i++) {
                size_t kl = strcspn(vars[i], "=");
                bool set = false;
                for (size_t j = 0; p->env[j] && !set; j++)
                        set = strncmp(p->env[j], vars[i], kl) == 0 && p->env[j][kl] == '=';
                if (!set) /* the environment wins over .env */
                        strv_push(&p->env, vars[i]);
        }
        return 0;
}

int compose_load(const struct compose_options *opts, struct compose_project **out, berth_error_t *err)
{
        struct compose_options o = *opts;
        cleanup_free char *cwd = NULL;
        if (!o.workdir) {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return berth_error(err, errno, "getcwd");
                o.workdir = cwd;
        }
        struct compose_project *p = xcalloc(1, sizeof(*p));
        cleanup_compose_project struct compose_project *guard = p;
        p->skip_env_files = o.skip_env_files;
        const char *compose_file = NULL;
        for (char **e = o.environ ? o.environ : environ; e && *e; e++)
                if (startswith(*e, "COMPOSE_FILE="))
                        compose_file = *e + 13;
        if (o.files && o.files[0]) {
                p->files = strv_copy(o.files);
                if (streq(o.files[0], "-"))
                        p->dir = xstrdup(o.workdir);
                else {
                        cleanup_free char *abs = path_absolute(o.workdir, o.files[0]);
                        p->dir = xstrdup(dirname(abs));
                }
        } else if (compose_file && *compose_file) {
                /* COMPOSE_FILE: the files, separated by ':' */
                cleanup_free char *list = xstrdup(compose_file);
                char *save = NULL;
                p->files = xcalloc(1, sizeof(char *));
                for (char *f = strtok_r(list, ":", &save); f; f = strtok_r(NULL, ":", &save))
                        strv_push(&p->files, f);
                cleanup_free char *abs = path_absolute(o.workdir, p->files[0]);
                p->dir = xstrdup(dirname(abs));
        } else {
                p->files = xcalloc(1, sizeof(char *));
                if (find_files(o.workdir, &p->files, &p->dir, err) < 0)
                        return -1;
        }
        if (load_env(p, &o, err) < 0)
                return -1;

        cleanup_cnode struct cnode *root = cnode_new(CNODE_MAP, p->files[0], 0);
        for (size_t i = 0; p->files[i]; i++) {
                const char *f = p->files[i];
                cleanup_free char *text = NULL;
                size_t len = 0;
                if (streq(f, "-")) {
                        if (read_stdin(&text, &len, err) < 0)
                                return -1;
                } else {
                        cleanup_free char *abs = path_absolute(o.workdir, f);
                        if (read_file(abs, &text, &len, err) < 0)
                                return berth_error_wrap(err, "compose file");
                }
                cleanup_cnode struct cnode *t = NULL;
                if (compose_yaml_parse(text, len, f, &t, err) < 0 || compose_interpolate_tree(t, p->env, err) < 0 ||
                    compose_normalize(t, err) < 0)
                        return -1;
                compose_merge(root, t);
        }
        strip_reset(root);
        if (build_model(p, &o, root, err) < 0)
                return -1;
        *out = steal_pointer(&guard);
        return 0;
}

void compose_project_free(struct compose_project *p)
{
        if (!p)
                return;
        free(p->name);
        free(p->dir);
        strv_free(p->files);
        strv_free(p->env);
        for (size_t i = 0; i < p->n_services; i++)
                compose_service_clear(&p->services[i]);
        free(p->services);
        for (size_t i = 0; i < p->n_volumes; i++) {
                free(p->volumes[i].key);
                free(p->volumes[i].name);
                free(p->volumes[i].driver);
                strv_free(p->volumes[i].driver_opts);
                strv_free(p->volumes[i].labels);
        }
        free(p->volumes);
        for (size_t i = 0; i < p->n_networks; i++) {
                free(p->networks[i].key);
                free(p->networks[i].name);
                free(p->networks[i].driver);
                strv_free(p->networks[i].labels);
        }
        free(p->networks);
        for (size_t i = 0; i < p->n_secrets; i++) {
                free(p->secrets[i].key);
                free(p->secrets[i].name);
                free(p->secrets[i].file);
                free(p->secrets[i].environment);
        }
        free(p->secrets);
        free(p);
}

char *compose_container_name(const struct compose_project *p, const struct compose_service *s, unsigned n)
{
        if (s->container_name)
                return xstrdup(s->container_name);
        return xasprintf("%s-%s-%u", p->name, s->name, n);
}

char *compose_service_image(const struct compose_project *p, const struct compose_service *s)
{
        if (s->image)
                return xstrdup(s->image);
        return xasprintf("%s-%s", p->name, s->name);
}

char *compose_log_prefix_label(const struct compose_service *s, unsigned n)
{
        if (s->container_name)
                return xstrdup(s->container_name);
        return xasprintf("%s-%u", s->name, n);
}

const struct compose_service *compose_find_service(const struct compose_project *p, const char *name)
{
        for (size_t i = 0; i < p->n_services; i++)
                if (streq(p->services[i].name, name))
                        return &p->services[i];
        return NULL;
}

int compose_project_name(const struct compose_options *o, char **out, berth_error_t *err)
{
        if (o->project_name) {
                *out = xstrdup(o->project_name);
                return 0;
        }
        struct compose_project *p = NULL;
        if (compose_load(o, &p, err) < 0)
                return -1;
        *out = xstrdup(p->name);
        compose_project_free(p);
        return 0;
}

int compose_select_services(const struct compose_project *p, char *const *names,
                            const struct compose_service ***out, berth_error_t *err)
{
        const struct compose_service **v = xcalloc(p->n_services + 1, sizeof(*v));
        size_t n = 0;
        for (size_t i = 0; names && names[i]; i++)
                if (!compose_find_service(p, names[i])) {
                        free(v);
                        return berth_error(err, 0, "no such service: %s", names[i]);
                }
        /* in the project's order, each once */
        for (size_t i = 0; i < p->n_services; i++) {
                bool named = !names || !names[0];
                for (size_t j = 0; !named && names[j]; j++)
                        named = streq(names[j], p->services[i].name);
                if (named)
                        v[n++] = &p->services[i];
        }
        *out = v;
        return 0;
}

int compose_load_services(const struct compose_options *o, char *const *names, struct compose_project **p,
                          const struct compose_service ***v, berth_error_t *err)
{
        if (compose_load(o, p, err) < 0)
                return -1;
        return compose_select_services(*p, names, v, err);
}

char **compose_log_prefixes(char *const *labels)
{
        size_t width = 0, n = strv_length(labels);
        for (size_t i = 0; i < n; i++)
                if (strlen(labels[i]) > width)
                        width = strlen(labels[i]);
        char **v = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                v[i] = xasprintf("%-*s | ", (int) width + 1, labels[i]);
        return v;
}

int compose_parse_tail(const char *s, long *tail)
{
        if (streq(s, "all") || streq(s, "-1")) {
                *tail = -1;
                return 0;
        }
        char *end = NULL;
        errno = 0;
        long n = strtol(s, &end, 10);
        if (!*s || *end || errno || n < 0)
                return -EINVAL;
        *tail = n;
        return 0;
}

void compose_run_args(char *const *args, char ***out)
{
        for (size_t i = 0; args && args[i]; i++) {
                if ((streq(args[i], "-p") || streq(args[i], "--publish") || streq(args[i], "--network-alias")) &&
                    args[i + 1]) {
                        i++;
                        continue;
                }
                if (startswith(args[i], "--publish=") || startswith(args[i], "--network-alias=") || streq(args[i], "-P") || streq(args[i], "--publish-all"))
                        continue;
                strv_push(out, args[i]);
        }
}

void compose_service_limits(const struct compose_service *s, struct compose_resources *lim, int64_t *reservation)
{
        lim->memory = s->limits.memory >= 0 ? s->limits.memory : s->mem_limit;
        lim->pids = s->limits.pids >= 0 ? s->limits.pids : s->pids_limit;
        lim->cpus = s->limits.cpus >= 0 ? s->limits.cpus : s->cpus;
        *reservation = s->reservations.memory >= 0 ? s->reservations.memory : s->mem_reservation;
}

/* FLAG VALUE onto *out; value is freed. */
static void push_flag(char ***out, const char *flag, char *value)
{
        strv_push(out, flag);
        strv_push(out, value);
        free(value);
}

void compose_run_limit_args(const struct compose_service *s, char ***out)
{
        struct compose_resources lim;
        int64_t res;
        compose_service_limits(s, &lim, &res);
        if (lim.memory >= 0)
                push_flag(out, "--memory", xasprintf("%lld", (long long) lim.memory));
        if (res >= 0)
                push_flag(out, "--memory-reservation", xasprintf("%lld", (long long) res));
        if (lim.pids >= 0)
                push_flag(out, "--pids-limit", xasprintf("%lld", (long long) lim.pids));
        if (lim.cpus >= 0)
                push_flag(out, "--cpus", xasprintf("%g", lim.cpus));
        for (size_t i = 0; i < s->n_ulimits; i++)
                push_flag(out, "--ulimit",
                          xasprintf("%s=%lld:%lld", s->ulimits[i].name, s->ulimits[i].soft, s->ulimits[i].hard));
        if (s->stop_signal)
                push_flag(out, "--stop-signal", xstrdup(s->stop_signal));
        if (s->stop_grace_period >= 0)
                push_flag(out, "--stop-timeout", xasprintf("%lld", (s->stop_grace_period + 999999999LL) / 1000000000LL));
}
