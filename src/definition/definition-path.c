/* berth — where definition files are (include/berth/definition.h): the
 * search path (BERTH_DEFINITION_DIRS, or $BERTH_DEFINITION_PATH), earlier
 * directories winning and a link to /dev/null masking a NAME as for units;
 * the drop-ins of a definition (def_dropin_paths); all definitions, templates
 * made into their instances (definition_load_all); and the stable container
 * ID of a definition's container. */
#include "config.h"

#include <dirent.h>
#include <sys/stat.h>

#include "berth/definition-internal.h"
#include "berth/rootless.h"
#include "berth/sha256.h"
#include "berth/util.h"

static char **split_path(const char *list)
{
        cleanup_free char *copy = xstrdup(list);
        char **v = xcalloc(1, sizeof(char *));
        char *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
                strv_push(&v, t);
        return v;
}

char **def_search_path(uid_t uid, const char *config_dir, const char *runtime_dir, const char *system_dir)
{
        if (uid == 0)
                return split_path(BERTH_DEFINITION_DIRS);
        /* the user's own first, then what root wrote for this user, then
         * for all users (Quadlet's rootless search path) */
        char **v = xcalloc(1, sizeof(char *));
        cleanup_free char *own = xasprintf("%s/containers", config_dir);
        cleanup_free char *run = runtime_dir ? xasprintf("%s/containers", runtime_dir) : NULL;
        cleanup_free char *one = xasprintf("%s/users/%u", system_dir, (unsigned) uid);
        cleanup_free char *all = xasprintf("%s/users", system_dir);
        strv_push(&v, own);
        if (run)
                strv_push(&v, run);
        strv_push(&v, one);
        strv_push(&v, all);
        return v;
}

/* $BERTH_DEFINITION_PATH, else the search path of the user berth runs for. */
static char **search_dirs(void)
{
        const char *env = getenv("BERTH_DEFINITION_PATH");
        if (env && *env)
                return split_path(env);
        if (!rootless())
                return split_path(BERTH_DEFINITION_DIRS);
        cleanup_free char *config = rootless_config_dir(), *run = NULL;
        if (rootless_runtime_dir(&run, NULL) < 0)
                run = NULL; /* no runtime dir: the other directories still count */
        return def_search_path(rootless_uid(), config, run, BERTH_DEFINITION_SYSTEM_DIR);
}

/* A symlink to /dev/null masks a definition, as for units. */
static bool is_masked(const char *path)
{
        cleanup_free char *real = realpath(path, NULL);
        return real && streq(real, "/dev/null");
}

int definition_kind_of_file(const char *path)
{
        size_t n = strlen(path);
        for (int k = 0; k < _DEFINITION_KIND_MAX; k++) {
                size_t m = strlen(definition_suffixes[k]);
                if (n > m && streq(path + n - m, definition_suffixes[k]) && path[n - m - 1] != '/')
                        return k;
        }
        return -1;
}

static char *dirs_text(char **dirs)
{
        char *list = xstrdup("");
        for (size_t i = 0; dirs[i]; i++) {
                char *t = xasprintf("%s%s%s", list, i ? ", " : "", dirs[i]);
                free(list);
                list = t;
        }
        return list;
}

/* DIR/FILE of the first search directory that has it; 0 found, 1 masked, -1 none. */
static int find_file(char **dirs, const char *file, char **path_out)
{
        for (size_t i = 0; dirs[i]; i++) {
                cleanup_free char *path = xasprintf("%s/%s", dirs[i], file);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                bool masked = is_masked(path);
                *path_out = steal_pointer(&path);
                return masked ? 1 : 0;
        }
        return -1;
}

int definition_find_kind(const char *name, enum definition_kind kind, char **path_out, berth_error_t *err)
{
        const char *suffix = definition_suffixes[kind];
        if (!definition_name_valid(name))
                return berth_error(err, 0, "invalid definition name '%s' (a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                   name ? name : "");
        cleanup_strv char **dirs = search_dirs();
        /* an instance "web@a": web@a.container, else the template web@.container */
        const char *at = strchr(name, '@');
        cleanup_free char *file = xasprintf("%s%s", name, suffix);
        cleanup_free char *tfile = at ? xasprintf("%.*s@%s", (int) (at - name), name, suffix) : NULL;
        cleanup_free char *path = NULL;
        int r = find_file(dirs, file, &path);
        if (r < 0 && tfile)
                r = find_file(dirs, tfile, &path);
        if (r > 0)
                return berth_error(err, 0, "definition %s%s is masked (%s is a link to /dev/null)", name, suffix, path);
        if (r == 0) {
                *path_out = steal_pointer(&path);
                return 0;
        }
        cleanup_free char *list = dirs_text(dirs);
        return berth_error(err, 0, "no definition %s%s%s in %s", file, tfile ? " or " : "", tfile ? tfile : "",
                           list);
}

int definition_find(const char *name, char **path_out, berth_error_t *err)
{
        return definition_find_kind(name, DEFINITION_CONTAINER, path_out, err);
}

static int conf_file(const struct dirent *e)
{
        size_t n = strlen(e->d_name);
        return e->d_name[0] != '.' && n > 5 && streq(e->d_name + n - 5, ".conf");
}

static int basename_cmp(const void *a, const void *b)
{
        const char *x = *(const char *const *) a, *y = *(const char *const *) b;
        return strcmp(strrchr(x, '/') + 1, strrchr(y, '/') + 1);
}

/* As systemd's drop-ins: a more specific directory first (NAME.container.d,
 * the template's web@.container.d, then container.d), each on every search
 * directory in order; the first file of a name wins (a link to /dev/null
 * masks it); the winners apply sorted by file name. */
char **def_dropin_paths(const char *name, enum definition_kind kind)
{
        const char *suffix = definition_suffixes[kind];
        cleanup_strv char **levels = xcalloc(1, sizeof(char *));
        cleanup_free char *own = xasprintf("%s%s.d", name, suffix);
        strv_push(&levels, own);
        const char *at = strchr(name, '@');
        if (at && at[1]) {
                cleanup_free char *t = xasprintf("%.*s@%s.d", (int) (at - name), name, suffix);
                strv_push(&levels, t);
        }
        cleanup_free char *all = xasprintf("%s.d", suffix + 1);
        strv_push(&levels, all);

        cleanup_strv char **dirs = search_dirs();
        cleanup_strv char **seen = xcalloc(1, sizeof(char *));
        char **out = xcalloc(1, sizeof(char *));
        for (size_t l = 0; levels[l]; l++)
                for (size_t i = 0; dirs[i]; i++) {
                        cleanup_free char *dir = xasprintf("%s/%s", dirs[i], levels[l]);
                        struct dirent **ents = NULL;
                        int ne = scandir(dir, &ents, conf_file, alphasort);
                        for (int k = 0; k < ne; k++) {
                                cleanup_free char *path = xasprintf("%s/%s", dir, ents[k]->d_name);
                                if (!strv_contains(seen, ents[k]->d_name)) {
                                        strv_push(&seen, ents[k]->d_name);
                                        if (!is_masked(path))
                                                strv_push(&out, path);
                                }
                                free(ents[k]);
                        }
                        free(ents);
                }
        qsort(out, strv_length(out), sizeof(char *), basename_cmp);
        return out;
}

static int definition_file(const struct dirent *e)
{
        return e->d_name[0] != '.' && definition_kind_of_file(e->d_name) >= 0;
}

static int definition_cmp(const void *a, const void *b)
{
        const struct definition *x = *(const struct definition *const *) a, *y = *(const struct definition *const *) b;
        if (x->kind != y->kind)
                return (int) x->kind - (int) y->kind;
        return strcmp(x->name, y->name);
}

static void report_msg(void (*report)(const char *msg, void *ud), void *ud, const char *msg)
{
        if (report)
                report(msg, ud);
}

struct loaded {
        struct definition **v;
        size_t n;
};

static bool loaded_has(const struct loaded *l, enum definition_kind kind, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i]->kind == kind && streq(l->v[i]->name, name))
                        return true;
        return false;
}

/* Load one file as NAME into l, or report it; the definition is returned
 * (NULL when bad), still owned by l unless it is a template (then the
 * caller's, to free). */
static struct definition *load_one(struct loaded *l, const char *path, const char *name, bool keep,
                                   void (*report)(const char *msg, void *ud), void *ud, int *bad)
{
        struct definition *d = NULL;
        berth_error_t e = NULL;
        if (definition_load(path, name, &d, &e) < 0) {
                report_msg(report, ud, e ? e->msg : path);
                berth_error_free(&e);
                (*bad)++;
                return NULL;
        }
        if (keep) {
                l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
                l->v[l->n++] = d;
        }
        return d;
}

/* The kind and NAME of a unit definition_unit_name() made; false for another. */
static bool unit_definition(const char *unit, enum definition_kind *kind, char **name)
{
        for (int k = 0; k < _DEFINITION_KIND_MAX; k++) {
                cleanup_free char *empty = definition_unit_name((enum definition_kind) k, "");
                size_t prefix = strlen(empty) - strlen(".service"), n = strlen(unit);
                if (n > strlen(empty) && strncmp(unit, empty, prefix) == 0 && streq(unit + n - 8, ".service")) {
                        *kind = (enum definition_kind) k;
                        *name = xstrndup(unit + prefix, n - prefix - 8);
                        return true;
                }
        }
        return false;
}

/* An instance of a template volume (network, ...) a loaded definition names
 * (Volume=data@%i.volume:/d) is made too, or its unit would be missing. */
static void load_required_instances(struct loaded *l, void (*report)(const char *msg, void *ud), void *ud, int *bad)
{
        for (size_t i = 0; i < l->n; i++) {
                struct definition *d = l->v[i];
                for (size_t r = 0; d->requires && d->requires[r]; r++) {
                        enum definition_kind kind;
                        cleanup_free char *name = NULL, *path = NULL;
                        if (!unit_definition(d->requires[r], &kind, &name) || !strchr(name, '@') ||
                            loaded_has(l, kind, name) || definition_find_kind(name, kind, &path, NULL) < 0)
                                continue;
                        (void) load_one(l, path, name, true, report, ud, bad);
                }
        }
}

int definition_load_all(struct definition ***out, size_t *n, void (*report)(const char *msg, void *ud), void *ud)
{
        cleanup_strv char **dirs = search_dirs();
        cleanup_strv char **seen = xcalloc(1, sizeof(char *));
        cleanup_strv char **templates = xcalloc(1, sizeof(char *)); /* their paths */
        struct loaded l = { 0 };
        int bad = 0;
        for (size_t i = 0; dirs[i]; i++) {
                struct dirent **ents = NULL;
                int ne = scandir(dirs[i], &ents, definition_file, alphasort);
                if (ne < 0) {
                        if (errno != ENOENT && errno != ENOTDIR) {
                                cleanup_free char *msg = xasprintf("%s: cannot read the directory: %s", dirs[i],
                                                                   strerror(errno));
                                report_msg(report, ud, msg);
                                bad++;
                        }
                        continue;
                }
                for (int k = 0; k < ne; k++) {
                        const char *file = ents[k]->d_name;
                        size_t stem = strlen(file) - strlen(definition_suffixes[definition_kind_of_file(file)]);
                        cleanup_free char *name = xstrndup(file, stem);
                        cleanup_free char *path = xasprintf("%s/%s", dirs[i], file);
                        bool dup = strv_contains(seen, file); /* an earlier directory has it */
                        if (!dup)
                                strv_push(&seen, file);
                        free(ents[k]);
                        if (dup || is_masked(path))
                                continue;
                        if (name[0] && name[strlen(name) - 1] == '@')
                                strv_push(&templates, path); /* after the instance files */
                        else
                                (void) load_one(&l, path, name, true, report, ud, &bad);
                }
                free(ents);
        }
        /* a template is checked, and makes its DefaultInstance= unless an
         * instance file of that name did */
        for (size_t i = 0; templates[i]; i++) {
                const char *file = strrchr(templates[i], '/') + 1;
                enum definition_kind kind = (enum definition_kind) definition_kind_of_file(file);
                cleanup_free char *name = xstrndup(file, strlen(file) - strlen(definition_suffixes[kind]));
                cleanup_definition struct definition *t = load_one(&l, templates[i], name, false, report, ud, &bad);
                if (!t || !t->default_instance)
                        continue;
                cleanup_free char *inst = xasprintf("%s%s", name, t->default_instance);
                if (!loaded_has(&l, kind, inst))
                        (void) load_one(&l, templates[i], inst, true, report, ud, &bad);
        }
        load_required_instances(&l, report, ud, &bad);
        if (l.n)
                qsort(l.v, l.n, sizeof(*l.v), definition_cmp);
        *out = l.v;
        *n = l.n;
        return bad;
}

char *definition_container_id(const char *name)
{
        cleanup_free char *data = xasprintf("berth-definition:%s", name);
        return sha256_hex_of(data, strlen(data));
}
