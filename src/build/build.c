/* berth — `berth build`: the Dockerfile executor (see include/berth/build.h).
 *
 * A stage's state is its image config (JSON, changed in memory by metadata
 * instructions) and the last registered image holding its layers.  Layer
 * steps (RUN, COPY, ADD) register a new untagged image; metadata changes
 * still pending at the end of a stage go into one config-only image. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/build.h"
#include "berth/commit.h"
#include "berth/container-spec.h"
#include "berth/container.h"
#include "berth/dockerfile.h"
#include "berth/image-ref.h"
#include "berth/image.h"
#include "berth/instructions.h"
#include "berth/lifecycle.h"
#include "berth/parse.h"
#include "berth/runtime.h"
#include "berth/unit.h"
#include "berth/util.h"

struct stage_state {
        json_t *config;           /* the image config being built */
        struct berth_image *img;  /* registered image with the current layers, NULL: none (scratch) */
        char *key;                /* cache key of the state */
        bool dirty;               /* config differs from img's */
        bool cmd_set;             /* CMD given in this stage (ENTRYPOINT then keeps it) */
        bool rebuilt;             /* a step of this stage did work */
        char **args;              /* ARGs in scope with a value, "K=V" */
};

struct build {
        struct berth_store *store;
        const char *self; /* the berth binary, for the units of RUN steps */
        const struct build_opts *o;
        struct dockerfile *df;
        const char *dfname;
        struct df_stage *stages;
        size_t nstages;
        char **meta;
        char **consumed;      /* build args some ARG declared */
        char **stage_ids;     /* final image of each built stage */
        struct dockerignore *ignore;
        sd_bus *bus;
        size_t step, nsteps;
        FILE *out;
};

static void stage_state_clear(struct stage_state *st)
{
        json_decref(st->config);
        if (st->img)
                image_free(st->img);
        free(st->key);
        strv_free(st->args);
        memset(st, 0, sizeof(*st));
}

/* ---- small helpers ------------------------------------------------------------ */

static void out_printf(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct build *b, const char *fmt, ...)
{
        if (b->o->quiet)
                return;
        va_list ap;
        va_start(ap, fmt);
        vfprintf(b->out, fmt, ap);
        va_end(ap);
        fflush(b->out);
}

static char *short_id(const char *id)
{
        const char *h = startswith(id, "sha256:") ? id + 7 : id;
        return xstrndup(h, 12);
}

/* The next cache key: hash of the previous one and the step's parts. */
static char *key_next(const char *prev, const char *text, char *const *args, const char *extra)
{
        char *buf = xasprintf("%s\n%s\n", prev, text);
        for (size_t i = 0; args && args[i]; i++) {
                char *n = xasprintf("%sarg %s\n", buf, args[i]);
                free(buf);
                buf = n;
        }
        char *n = xasprintf("%s%s", buf, extra ? extra : "");
        free(buf);
        char *d = digest_of_data(n, strlen(n));
        free(n);
        return d;
}

static json_t *cfg_obj(struct stage_state *st)
{
        json_t *c = json_object_get(st->config, "config");
        if (!json_is_object(c))
                json_object_set_new(st->config, "config", c = json_object());
        return c;
}

static json_t *cfg_member(struct stage_state *st, const char *key, bool array)
{
        json_t *c = cfg_obj(st);
        json_t *v = json_object_get(c, key);
        if (array ? !json_is_array(v) : !json_is_object(v))
                json_object_set_new(c, key, v = array ? json_array() : json_object());
        return v;
}

static char **json_to_strv(json_t *a)
{
        char **v = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) if (json_is_string(e)) strv_push(&v, json_string_value(e));
        return v;
}

static char *strv_join(char *const *v, const char *sep)
{
        char *s = xstrdup("");
        for (size_t i = 0; v && v[i]; i++) {
                char *n = xasprintf("%s%s%s", s, i ? sep : "", v[i]);
                free(s);
                s = n;
        }
        return s;
}

/* Variables for substitution: ARGs in scope, then ENV (which wins). */
static char **stage_env(struct stage_state *st)
{
        char **env = strv_copy(st->args ? st->args : (char *[]){ NULL });
        cleanup_strv char **cenv = json_to_strv(json_object_get(cfg_obj(st), "Env"));
        for (size_t i = 0; cenv[i]; i++)
                strv_push(&env, cenv[i]);
        return env;
}

static int insn_error(struct build *b, const struct df_insn *in, berth_error_t *err)
{
        return berth_error_wrap(err, "%s:%d", b->dfname, in->line);
}

static int expand(struct build *b, struct stage_state *st, const struct df_insn *in, const char *word, char **out,
                  berth_error_t *err)
{
        cleanup_strv char **env = stage_env(st);
        if (df_expand(word, env, b->df->escape, out, err) < 0)
                return insn_error(b, in, err);
        return 0;
}

static char **shell_of(struct stage_state *st)
{
        json_t *sh = json_object_get(cfg_obj(st), "Shell");
        if (json_is_array(sh) && json_array_size(sh))
                return json_to_strv(sh);
        char **v = xcalloc(1, sizeof(char *));
        strv_push(&v, "/bin/sh");
        strv_push(&v, "-c");
        return v;
}

/* RUN/CMD/ENTRYPOINT: the exec form as is, the shell form after the shell. */
static char **command_of(struct stage_state *st, const struct df_insn *in)
{
        if (in->json)
                return strv_copy(in->args);
        char **v = shell_of(st);
        if (in->nheredocs && in->kind == DF_RUN) {
                const char *cmd = in->args[0];
                char *t = NULL;
                if (strncmp(cmd, "<<", 2) == 0 && !strchr(cmd, ' ')) {
                        t = xstrdup(in->heredocs[0].content); /* RUN <<EOF: the body is the script */
                } else {
                        t = xstrdup(cmd); /* the shell reads the here-documents itself */
                        for (size_t i = 0; i < in->nheredocs; i++) {
                                char *n = xasprintf("%s\n%s%s", t, in->heredocs[i].content, in->heredocs[i].name);
                                free(t);
                                t = n;
                        }
                }
                strv_push(&v, t);
                free(t);
                return v;
        }
        strv_push(&v, in->args[0]);
        return v;
}

static void history_add(struct stage_state *st, const char *created_by, bool empty_layer)
{
        json_t *h = json_object_get(st->config, "history");
        if (!json_is_array(h))
                json_object_set_new(st->config, "history", h = json_array());
        cleanup_free char *now = format_rfc3339(now_ns());
        json_t *e = json_pack("{s:s, s:s}", "created", now, "created_by", created_by);
        if (empty_layer)
                json_object_set_new(e, "empty_layer", json_true());
        json_array_append_new(h, e);
}

/* ---- the cache index ------------------------------------------------------------ */

static json_t *cache_load(struct berth_store *s)
{
        cleanup_free char *path = store_path(s, "build-cache/index.json");
        json_t *j = json_load_file(path, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        return j;
}

/* What the index holds for key (an image ID, or CACHE_NO_LAYER), or NULL. */
#define CACHE_NO_LAYER "none"
static char *cache_lookup(struct build *b, const char *key)
{
        if (b->o->no_cache)
                return NULL;
        json_auto_t *idx = cache_load(b->store);
        const char *v = json_string_value(json_object_get(idx, key));
        return v ? xstrdup(v) : NULL;
}

/* The image cached under key, if it still exists. */
static struct berth_image *cache_get(struct build *b, const char *key)
{
        cleanup_free char *id = cache_lookup(b, key);
        if (!id || streq(id, CACHE_NO_LAYER))
                return NULL;
        struct berth_image *img = NULL;
        berth_error_t e = NULL;
        if (image_lookup(b->store, id, &img, &e) < 0) {
                berth_error_free(&e);
                return NULL;
        }
        return img;
}

static int cache_put(struct build *b, const char *key, const char *id, berth_error_t *err)
{
        struct berth_store *s = b->store;
        cleanup_free char *dir = store_path(s, "build-cache");
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        cleanup_free char *lock = store_path(s, "build-cache/lock");
        cleanup_close int lfd = lock_file(lock, true, err);
        if (lfd < 0)
                return -1;
        json_auto_t *idx = cache_load(s);
        json_object_set_new(idx, key, json_string(id));
        cleanup_free char *text = json_dumps(idx, JSON_COMPACT | JSON_SORT_KEYS);
        cleanup_free char *path = store_path(s, "build-cache/index.json");
        return write_file_atomic(path, text, strlen(text), 0600, err);
}

/* ---- state changes ---------------------------------------------------------------- */

/* Take img (ownership) as the state's image: its config and layers. */
static void state_set_image(struct stage_state *st, struct berth_image *img, char *key)
{
        if (st->img)
                image_free(st->img);
        json_decref(st->config);
        st->img = img;
        st->config = json_deep_copy(img->config);
        free(st->key);
        st->key = key;
        st->dirty = false;
}

/* An image without layers for FROM scratch. */
static struct berth_image *scratch_image(void)
{
        struct berth_image *img = xcalloc(1, sizeof(*img));
        img->id = xstrdup("scratch");
        static const char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        img->config = json_pack("{s:s, s:s, s:{s:[s]}, s:{s:s, s:[]}}", "architecture", image_go_arch(), "os",
                                "linux", "config", "Env", path, "rootfs", "type", "layers", "diff_ids");
        img->layer_links = xcalloc(1, sizeof(char *));
        img->diff_ids = xcalloc(1, sizeof(char *));
        return img;
}

/* A layer step's result: from the cache, or made by fn. */
static void print_result(struct build *b, const char *id, bool cached)
{
        cleanup_free char *sid = short_id(id);
        if (cached)
                out_printf(b, " ---> Using cache\n");
        out_printf(b, " ---> %s\n", sid);
}

static bool cache_hit(struct build *b, struct stage_state *st, char *key)
{
        struct berth_image *hit = cache_get(b, key);
        if (!hit)
                return false;
        print_result(b, hit->id, true);
        state_set_image(st, hit, key);
        return true;
}

static int state_commit_done(struct build *b, struct stage_state *st, char *key, const char *id, berth_error_t *err)
{
        struct berth_image *img = NULL;
        if (image_lookup(b->store, id, &img, err) < 0) {
                free(key);
                return -1;
        }
        if (cache_put(b, key, id, err) < 0) {
                /* the cache is an optimisation: say so and go on */
                fprintf(stderr, "berth: warning: build cache not updated: %s\n", (*err)->msg);
                berth_error_free(err);
        }
        print_result(b, id, false);
        state_set_image(st, img, key);
        st->rebuilt = true;
        return 0;
}

/* ---- metadata instructions ------------------------------------------------------------- */

static int step_arg(struct build *b, struct stage_state *st, const struct df_insn *in, berth_error_t *err)
{
        for (size_t i = 0; i < in->nkv; i++) {
                const char *name = in->kv[i].key;
                const char *given = NULL;
                for (size_t k = 0; b->o->build_args && b->o->build_args[k]; k++) {
                        size_t n = strlen(name);
                        if (strncmp(b->o->build_args[k], name, n) == 0 && b->o->build_args[k][n] == '=')
                                given = b->o->build_args[k] + n + 1;
                }
                if (given && !strv_contains(b->consumed, name))
                        strv_push(&b->consumed, name);
                cleanup_free char *value = NULL;
                if (given)
                        value = xstrdup(given);
                else if (in->kv[i].value) {
                        if (expand(b, st, in, in->kv[i].value, &value, err) < 0)
                                return -1;
                } else {
                        size_t n = strlen(name);
                        for (size_t k = 0; b->meta && b->meta[k]; k++)
                                if (strncmp(b->meta[k], name, n) == 0 && b->meta[k][n] == '=')
                                        value = xstrdup(b->meta[k] + n + 1);
                }
                if (value) {
                        cleanup_free char *kv = xasprintf("%s=%s", name, value);
                        strv_env_set(&st->args, kv);
                }
        }
        return 0;
}

static int step_metadata(struct build *b, struct stage_state *st, const struct df_insn *in, berth_error_t *err)
{
        if (in->kind == DF_ARG)
                return step_arg(b, st, in, err);
        cleanup_strv char **env = stage_env(st);
        struct instruction_scope scope = { .env = env, .escape = b->df->escape, .cmd_set = st->cmd_set };
        if (instruction_apply(st->config, in, &scope, err) < 0)
                return insn_error(b, in, err);
        st->cmd_set = scope.cmd_set;
        return 0;
}

/* ---- RUN ----------------------------------------------------------------------------- */

static int run_remove_container(struct build *b, struct berth_container *c)
{
        berth_error_t e = NULL;
        (void) unit_wait_inactive(b->bus, container_unit(c), 30 * 1000000ULL, &e);
        berth_error_free(&e);
        cleanup_close int lfd = container_lock(c, &e);
        int r = container_remove(b->store, c, &e);
        berth_error_free(&e);
        return r;
}

/* Start the container with its output on ours (or nowhere with -q). */
static int run_attached(struct build *b, struct berth_container *c, berth_error_t *err)
{
        int saved[2] = { -1, -1 };
        if (b->o->quiet) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                saved[0] = fcntl(1, F_DUPFD_CLOEXEC, 3);
                saved[1] = fcntl(2, F_DUPFD_CLOEXEC, 3);
                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                        close(null);
                }
        }
        struct start_io io = { .attach = true, .sig_proxy = true };
        int r = container_start(b->store, b->bus, b->self, c, &io, err);
        for (int i = 0; i < 2; i++)
                if (saved[i] >= 0) {
                        dup2(saved[i], i + 1);
                        close(saved[i]);
                }
        return r;
}

static int step_run(struct build *b, struct stage_state *st, const struct df_insn *in, berth_error_t *err)
{
        char *key = key_next(st->key, in->text, st->args, NULL);
        if (cache_hit(b, st, key))
                return 0;
        if (!st->img || !st->img->layer_links[0]) {
                free(key);
                return berth_error(err, 0, "%s:%d: RUN needs a base image with a shell (the image has no layers)",
                                   b->dfname, in->line);
        }
        if (!b->bus && unit_bus_open(&b->bus, err) < 0) {
                free(key);
                return insn_error(b, in, err);
        }
        cleanup_strv char **cmd = command_of(st, in);
        const char *network = df_insn_flag(in, "network");
        if (!network || streq(network, "default"))
                network = b->o->network ? b->o->network : "host";
        /* The step's container: the stage's image as it is now, its
         * working dir, user and environment, the command without the
         * image's ENTRYPOINT. */
        json_t *c = cfg_obj(st);
        struct container_spec spec;
        container_spec_init(&spec);
        spec.image = xstrdup(st->img->id);
        spec.command = strv_copy(cmd);
        spec.network = xstrdup(network);
        spec.entrypoint = xstrdup("");
        const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
        if (wd && *wd)
                spec.workdir = xstrdup(wd);
        const char *user = json_string_value(json_object_get(c, "User"));
        if (user && *user)
                spec.user = xstrdup(user);
        /* the image's Env may be older than the stage's; ARGs unless ENV sets them */
        cleanup_strv char **env = stage_env(st);
        cleanup_strv char **seen = xcalloc(1, sizeof(char *));
        for (size_t i = strv_length(env); i > 0; i--) {
                cleanup_free char *name = xstrndup(env[i - 1], strcspn(env[i - 1], "="));
                if (strv_contains(seen, name))
                        continue;
                strv_push(&seen, name);
                strv_push(&spec.env, env[i - 1]);
        }

        cleanup_container struct berth_container *ctr = NULL;
        struct container_progress progress = { .out = stderr };
        int cr = container_create_from_spec(b->store, &spec, &progress, &ctr, err);
        container_spec_clear(&spec);
        if (cr < 0) {
                free(key);
                return insn_error(b, in, err);
        }
        cleanup_free char *sid = container_short_id(ctr->id);
        out_printf(b, " ---> Running in %s\n", sid);
        int r = run_attached(b, ctr, err);
        if (r != 0) {
                run_remove_container(b, ctr);
                free(key);
                cleanup_free char *j = strv_join(cmd, " ");
                if (r < 0 && (*err)->exit_code != BERTH_EXIT_CANNOT_EXEC && (*err)->exit_code != BERTH_EXIT_NOT_FOUND)
                        return insn_error(b, in, err);
                if (r < 0) {
                        /* an exec form whose program is missing: a failed command too */
                        cleanup_free char *why = xstrdup((*err)->msg);
                        int code = (*err)->exit_code;
                        berth_error_free(err);
                        return berth_error_exit(err, 1, 0, "%s:%d: the command '%s' returned a non-zero code: %d: %s",
                                                b->dfname, in->line, j, code, why);
                }
                return berth_error_exit(err, 1, 0, "%s:%d: the command '%s' returned a non-zero code: %d", b->dfname,
                                        in->line, j, r);
        }
        cleanup_free char *by = strv_join(cmd, " ");
        cleanup_free char *now = format_rfc3339(now_ns());
        json_auto_t *entry = json_pack("{s:s, s:s}", "created", now, "created_by", by);
        json_object_set_new(st->config, "created", json_string(now));
        cleanup_free char *id = NULL;
        r = image_commit_changes(b->store, ctr, st->img, st->config, entry, &id, err);
        run_remove_container(b, ctr);
        out_printf(b, "Removing intermediate container %s\n", sid);
        if (r < 0) {
                free(key);
                return insn_error(b, in, err);
        }
        return state_commit_done(b, st, key, id, err);
}

/* ---- COPY / ADD: sources ---------------------------------------------------------------- */

static bool has_wildcard(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Source paths matching the components comps[i..] below dir (relative to root). */
static void glob_below(int root, const char *dir, char **comps, size_t i, const struct dockerignore *ign,
                       char ***out)
{
        if (!comps[i]) {
                strv_push(out, *dir ? dir : ".");
                return;
        }
        if (!has_wildcard(comps[i])) {
                cleanup_free char *p = *dir ? xasprintf("%s/%s", dir, comps[i]) : xstrdup(comps[i]);
                struct stat st;
                if (fstatat(root, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && !dockerignore_excluded(ign, p))
                        glob_below(root, p, comps, i + 1, ign, out);
                return;
        }
        int fd = openat(root, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        cleanup_dir DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        cleanup_strv char **names = xcalloc(1, sizeof(char *));
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && fnmatch(comps[i], de->d_name, 0) == 0)
                        strv_push(&names, de->d_name);
        qsort(names, strv_length(names), sizeof(char *), str_cmp);
        for (size_t k = 0; names[k]; k++) {
                cleanup_free char *p = *dir ? xasprintf("%s/%s", dir, names[k]) : xstrdup(names[k]);
                if (!dockerignore_excluded(ign, p))
                        glob_below(root, p, comps, i + 1, ign, out);
        }
}

/* The sources a COPY names, relative to root (the context or a stage). */
static int sources_expand(int root, char *const *patterns, const struct dockerignore *ign, const char *what,
                          char ***out, berth_error_t *err)
{
        cleanup_strv char **v = xcalloc(1, sizeof(char *));
        for (size_t i = 0; patterns[i]; i++) {
                cleanup_free char *clean = df_path_clean(patterns[i][0] == '/' ? patterns[i] + 1 : patterns[i]);
                if (streq(clean, "..") || startswith(clean, "../"))
                        return berth_error(err, 0, "forbidden path outside the build context: %s", patterns[i]);
                size_t before = strv_length(v);
                if (streq(clean, ".")) {
                        strv_push(&v, ".");
                        continue;
                }
                cleanup_strv char **comps = xcalloc(1, sizeof(char *));
                for (char *tok = clean, *next; tok; tok = next) {
                        next = strchr(tok, '/');
                        if (next)
                                *next++ = '\0';
                        strv_push(&comps, tok);
                }
                glob_below(root, "", comps, 0, ign, &v);
                if (strv_length(v) == before && !has_wildcard(patterns[i]))
                        return berth_error(err, 0, "file not found in %s or excluded by .dockerignore: stat %s: "
                                                   "file does not exist",
                                           what, patterns[i]);
        }
        if (!v[0])
                return berth_error(err, 0, "no source files were specified");
        *out = steal_pointer(&v);
        return 0;
}

/* Hash of what a source holds: names, types, modes, owners, content. */
struct sbuf_hash {
        char *text; /* accumulated lines; content is hashed per file */
};

static void hash_line(struct sbuf_hash *h, const char *line)
{
        char *n = xasprintf("%s%s\n", h->text ? h->text : "", line);
        free(h->text);
        h->text = n;
}

/* sha256 of a file's content, read in pieces (files may be large). */
static int hash_file(int root, const char *rel, char **digest, berth_error_t *err)
{
        cleanup_close int fd = openat(root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s` in the build context", rel);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                abort();
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        EVP_MD_CTX_free(md);
                        return berth_error(err, errno, "read `%s` in the build context", rel);
                }
                EVP_DigestUpdate(md, buf, (size_t) n);
        }
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(md, out, &len);
        EVP_MD_CTX_free(md);
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        hex_encode(out, len, hex);
        *digest = xasprintf("sha256:%s", hex);
        return 0;
}

static int hash_tree(int root, const char *rel, const struct dockerignore *ign, struct sbuf_hash *h, berth_error_t *err)
{
        struct stat st;
        if (fstatat(root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat `%s` in the build context", rel);
        char line[4200];
        snprintf(line, sizeof(line), "%s %o %u %u", rel, (unsigned) st.st_mode, (unsigned) st.st_uid,
                 (unsigned) st.st_gid);
        hash_line(h, line);
        if (S_ISREG(st.st_mode)) {
                cleanup_free char *d = NULL;
                if (hash_file(root, rel, &d, err) < 0)
                        return -1;
                hash_line(h, d);
        } else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(root, rel, target, sizeof(target) - 1);
                if (n >= 0) {
                        target[n] = '\0';
                        hash_line(h, target);
                }
        } else if (S_ISDIR(st.st_mode)) {
                int fd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, errno, "open `%s` in the build context", rel);
                cleanup_dir DIR *d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return berth_error(err, errno, "open `%s` in the build context", rel);
                }
                cleanup_strv char **names = xcalloc(1, sizeof(char *));
                struct dirent *de;
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                strv_push(&names, de->d_name);
                qsort(names, strv_length(names), sizeof(char *), str_cmp);
                for (size_t i = 0; names[i]; i++) {
                        cleanup_free char *child = streq(rel, ".") ? xstrdup(names[i])
                                                                   : xasprintf("%s/%s", rel, names[i]);
                        struct stat cst;
                        if (fstatat(root, child, &cst, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (dockerignore_excluded(ign, child) &&
                            !(S_ISDIR(cst.st_mode) && dockerignore_walk_excluded(ign, child)))
                                continue;
                        if (hash_tree(root, child, ign, h, err) < 0)
                                return -1;
                }
        }
        return 0;
}

/* ---- COPY / ADD: the copy, in a child with the image mounted ---------------------------- */

struct copy_job {
        int src_root;           /* the context, or the --from image's root */
        char **srcs;            /* relative to src_root */
        char **from_patterns;   /* --from: patterns expanded in the child */
        const char *dest;       /* absolute, in the image */
        bool from_context;      /* owner 0:0 unless --chown; .dockerignore applies */
        bool add;               /* ADD: local tar archives are extracted */
        const char *chown;      /* --chown or NULL */
        uid_t uid;
        gid_t gid;
        long chmod;             /* --chmod, or -1 */
        const struct dockerignore *ignore;
        const char *mkdir_only; /* WORKDIR: make this directory if it is missing, nothing else */
};

static void owner_of(const struct copy_job *j, const struct stat *st, uid_t *uid, gid_t *gid)
{
        if (j->chown) {
                *uid = j->uid;
                *gid = j->gid;
        } else if (j->from_context) {
                *uid = 0;
                *gid = 0;
        } else {
                *uid = st->st_uid;
                *gid = st->st_gid;
        }
}

/* mkdir -p in the image; directories made here get owner (Docker gives
 * --chown to the directories a COPY creates). */
static int mkdirs(const struct copy_job *j, const char *path, berth_error_t *err)
{
        cleanup_free char *p = xstrdup(path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0755) == 0) {
                        if (j->chown && chown(p, j->uid, j->gid) < 0)
                                return berth_error(err, errno, "chown `%s`", p);
                } else if (errno != EEXIST)
                        return berth_error(err, errno, "mkdir `%s`", p);
                *s = c;
                if (!c)
                        break;
        }
        return 0;
}

static int copy_regular(const struct copy_job *j, const char *rel, const struct stat *st, const char *dest,
                        berth_error_t *err)
{
        cleanup_close int in = openat(j->src_root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return berth_error(err, errno, "open `%s`", rel);
        struct stat dst;
        if (lstat(dest, &dst) == 0) {
                if (S_ISDIR(dst.st_mode))
                        return berth_error(err, 0, "cannot overwrite directory `%s` with non-directory `%s`", dest,
                                           rel);
                unlink(dest);
        }
        cleanup_close int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return berth_error(err, errno, "create `%s`", dest);
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read `%s`", rel);
                if (n == 0)
                        break;
                if (write_all(out, buf, (size_t) n) < 0)
                        return berth_error(err, errno, "write `%s`", dest);
        }
        uid_t uid;
        gid_t gid;
        owner_of(j, st, &uid, &gid);
        if (fchown(out, uid, gid) < 0)
                return berth_error(err, errno, "chown `%s`", dest);
        if (fchmod(out, j->chmod >= 0 ? (mode_t) j->chmod : st->st_mode & 07777) < 0)
                return berth_error(err, errno, "chmod `%s`", dest);
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        (void) futimens(out, ts);
        return 0;
}

static int copy_entry(const struct copy_job *j, const char *rel, const char *dest, bool lazy, berth_error_t *err);

/* The entries of rel into dest.  An excluded directory walked only for an
 * exception below it gets no entry of its own: dest is made (as its parents
 * in a tar would be) only when something in it is copied. */
static int copy_dir_contents(const struct copy_job *j, const char *rel, const char *dest, bool lazy,
                             berth_error_t *err)
{
        int fd = openat(j->src_root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", rel);
        cleanup_dir DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return berth_error(err, errno, "open `%s`", rel);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                cleanup_free char *child = streq(rel, ".") ? xstrdup(de->d_name) : xasprintf("%s/%s", rel, de->d_name);
                struct stat st;
                if (fstatat(j->src_root, child, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                bool walk_only = false;
                if (j->from_context && dockerignore_excluded(j->ignore, child)) {
                        if (!S_ISDIR(st.st_mode) || !dockerignore_walk_excluded(j->ignore, child))
                                continue;
                        walk_only = true;
                }
                if (lazy && !walk_only && mkdirs(j, dest, err) < 0)
                        return -1;
                cleanup_free char *cdest = xasprintf("%s/%s", streq(dest, "/") ? "" : dest, de->d_name);
                if (copy_entry(j, child, cdest, walk_only, err) < 0)
                        return -1;
        }
        return 0;
}

/* One source entry (file, dir with its contents, symlink, fifo) to dest. */
static int copy_entry(const struct copy_job *j, const char *rel, const char *dest, bool lazy, berth_error_t *err)
{
        struct stat st;
        if (fstatat(j->src_root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat `%s`", rel);
        uid_t uid;
        gid_t gid;
        owner_of(j, &st, &uid, &gid);
        if (S_ISREG(st.st_mode))
                return copy_regular(j, rel, &st, dest, err);
        struct stat dst;
        bool exists = lstat(dest, &dst) == 0;
        if (S_ISDIR(st.st_mode) && lazy)
                return copy_dir_contents(j, rel, dest, true, err);
        if (S_ISDIR(st.st_mode)) {
                if (exists && !S_ISDIR(dst.st_mode))
                        unlink(dest);
                if (!exists || !S_ISDIR(dst.st_mode)) {
                        if (mkdir(dest, 0700) < 0)
                                return berth_error(err, errno, "mkdir `%s`", dest);
                        if (chown(dest, uid, gid) < 0 ||
                            chmod(dest, j->chmod >= 0 ? (mode_t) j->chmod : st.st_mode & 07777) < 0)
                                return berth_error(err, errno, "set the owner and mode of `%s`", dest);
                }
                if (copy_dir_contents(j, rel, dest, false, err) < 0)
                        return -1;
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                (void) utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        if (exists) {
                if (S_ISDIR(dst.st_mode))
                        return berth_error(err, 0, "cannot overwrite directory `%s` with non-directory `%s`", dest,
                                           rel);
                unlink(dest);
        }
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(j->src_root, rel, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_error(err, errno, "readlink `%s`", rel);
                target[n] = '\0';
                if (symlink(target, dest) < 0)
                        return berth_error(err, errno, "symlink `%s`", dest);
        } else if (S_ISFIFO(st.st_mode)) {
                if (mkfifo(dest, st.st_mode & 07777) < 0)
                        return berth_error(err, errno, "mkfifo `%s`", dest);
        } else
                return 0; /* sockets and devices are not copied */
        if (lchown(dest, uid, gid) < 0)
                return berth_error(err, errno, "chown `%s`", dest);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        (void) utimensat(AT_FDCWD, dest, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

/* ADD of a local file: is it a (possibly compressed) tar? */
static bool is_tar(int root, const char *rel)
{
        cleanup_close int fd = openat(root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return false;
        cleanup_archive_read struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        struct archive_entry *e;
        return archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK && archive_read_next_header(a, &e) == ARCHIVE_OK;
}

static int extract_tar(const struct copy_job *j, const char *rel, const char *dest, berth_error_t *err)
{
        cleanup_close int fd = openat(j->src_root, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open `%s`", rel);
        if (mkdirs(j, dest, err) < 0)
                return -1;
        if (chdir(dest) < 0)
                return berth_error(err, errno, "chdir `%s`", dest);
        cleanup_archive_read struct archive *a = archive_read_new();
        cleanup_archive_write struct archive *w = archive_write_disk_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                                  ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
                return berth_error(err, 0, "read `%s`: %s", rel, archive_error_string(a));
        for (;;) {
                struct archive_entry *e;
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "read `%s`: %s", rel, archive_error_string(a));
                if (archive_write_header(w, e) < ARCHIVE_WARN)
                        return berth_error(err, 0, "extract `%s`: %s", rel, archive_error_string(w));
                const void *buf;
                size_t len;
                la_int64_t off;
                while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                        if (archive_write_data_block(w, buf, len, off) < ARCHIVE_WARN)
                                return berth_error(err, 0, "extract `%s`: %s", rel, archive_error_string(w));
                if (r < ARCHIVE_WARN)
                        return berth_error(err, 0, "read `%s`: %s", rel, archive_error_string(a));
                if (archive_write_finish_entry(w) < ARCHIVE_WARN)
                        return berth_error(err, 0, "extract `%s`: %s", rel, archive_error_string(w));
        }
        if (chdir("/") < 0)
                return berth_error(err, errno, "chdir /");
        return 0;
}

/* Every source to the destination, with Docker's rules: a directory's
 * contents (not the directory) go into dest; a file goes into dest when
 * dest ends with "/" or is a directory, else becomes dest. */
static int copy_all(const struct copy_job *j, berth_error_t *err)
{
        size_t n = strv_length(j->srcs);
        size_t dl = strlen(j->dest);
        bool slash = dl > 0 && j->dest[dl - 1] == '/';
        if (n > 1 && !slash)
                return berth_error(err, 0, "When using COPY with more than one source file, the destination must be "
                                           "a directory and end with a /");
        cleanup_free char *dest = df_path_clean(j->dest);
        struct stat dst;
        bool dest_dir = slash || (stat(dest, &dst) == 0 && S_ISDIR(dst.st_mode));
        for (size_t i = 0; i < n; i++) {
                const char *rel = j->srcs[i];
                struct stat st;
                if (fstatat(j->src_root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return berth_error(err, errno, "stat `%s`", rel);
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirs(j, dest, err) < 0 || copy_dir_contents(j, rel, dest, false, err) < 0)
                                return -1;
                        continue;
                }
                if (j->add && S_ISREG(st.st_mode) && is_tar(j->src_root, rel)) {
                        if (extract_tar(j, rel, dest, err) < 0)
                                return -1;
                        continue;
                }
                const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
                cleanup_free char *target = dest_dir ? xasprintf("%s/%s", streq(dest, "/") ? "" : dest, base)
                                                     : xstrdup(dest);
                cleanup_free char *parent = xstrdup(target);
                char *ls = strrchr(parent, '/');
                if (ls && ls != parent) {
                        *ls = '\0';
                        if (mkdirs(j, parent, err) < 0)
                                return -1;
                }
                if (copy_entry(j, rel, target, false, err) < 0)
                        return -1;
        }
        return 0;
}

/* --chown's user and group, looked up in the image (a name without a
 * group: the GID is the UID, as Docker does). */
static int chown_resolve(struct copy_job *j, const char *rootdir, berth_error_t *err)
{
        if (!j->chown)
                return 0;
        struct user_spec us;
        if (user_resolve(rootdir, j->chown, &us, err) < 0)
                return berth_error_wrap(err, "--chown=%s", j->chown);
        j->uid = us.uid;
        j->gid = strchr(j->chown, ':') ? us.gid : (gid_t) us.uid;
        user_spec_free(&us);
        return 0;
}

/* Mount the overlay of img's layers on mnt (in the child's own mount
 * namespace) with upper/work under dir; no layers: use upper itself. */
static int mount_image(struct berth_store *s, struct berth_image *img, const char *dir, const char *name,
                       char **root_out, berth_error_t *err)
{
        cleanup_free char *upper = xasprintf("%s/%s-upper", dir, name);
        cleanup_free char *work = xasprintf("%s/%s-work", dir, name);
        cleanup_free char *mnt = xasprintf("%s/%s", dir, name);
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(mnt, 0755) < 0)
                return berth_error(err, errno, "make the staging directories in `%s`", dir);
        if (!img || !img->layer_links[0]) {
                *root_out = steal_pointer(&upper);
                return 0;
        }
        cleanup_free char *lower = image_lowerdir(img);
        cleanup_free char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
        if (chdir(s->root) < 0)
                return berth_error(err, errno, "enter `%s`", s->root);
        if (mount("overlay", mnt, "overlay", 0, opts) < 0)
                return berth_error(err, errno, "mount the image's layers");
        *root_out = steal_pointer(&mnt);
        return 0;
}

static int copy_child(struct berth_store *s, struct copy_job *j, struct berth_image *img,
                      struct berth_image *from_img, const char *context, const char *dir, berth_error_t *err)
{
        if (unshare(CLONE_NEWNS) < 0)
                return berth_error(err, errno, "create a mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_error(err, errno, "make mounts private");
        cleanup_free char *root = NULL, *src = NULL;
        /* the image's merged view: the step's upper dir is "dest" itself */
        if (mount_image(s, img, dir, "dest", &root, err) < 0)
                return -1;
        if (j->mkdir_only) {
                struct stat st;
                if (chroot(root) < 0 || chdir("/") < 0)
                        return berth_error(err, errno, "enter the image's filesystem");
                return lstat(j->mkdir_only, &st) == 0 ? 0 : mkdirs(j, j->mkdir_only, err);
        }
        if (from_img) {
                if (mount_image(s, from_img, dir, "src", &src, err) < 0)
                        return -1;
        } else
                src = xstrdup(context);
        j->src_root = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (j->src_root < 0)
                return berth_error(err, errno, "open `%s`", src);
        if (from_img && sources_expand(j->src_root, j->from_patterns, NULL, "the --from image", &j->srcs, err) < 0)
                return -1;
        if (chown_resolve(j, root, err) < 0)
                return -1;
        if (chroot(root) < 0 || chdir("/") < 0)
                return berth_error(err, errno, "enter the image's filesystem");
        return copy_all(j, err);
}

/* Fork the copy; the child's error message comes back through a pipe. */
static int copy_run(struct build *b, struct copy_job *j, struct berth_image *img, struct berth_image *from_img,
                    const char *context, const char *dir, berth_error_t *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_error(err, errno, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return berth_error(err, errno, "fork");
        }
        if (pid == 0) {
                close(p[0]);
                berth_error_t e = NULL;
                if (copy_child(b->store, j, img, from_img, context, dir, &e) < 0) {
                        (void) write_all(p[1], e->msg, strlen(e->msg));
                        _exit(1);
                }
                _exit(0);
        }
        close(p[1]);
        char msg[4096];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(p[0], msg + len, sizeof(msg) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || len + (size_t) n >= sizeof(msg) - 1) {
                        if (n > 0)
                                len += (size_t) n;
                        break;
                }
                len += (size_t) n;
        }
        msg[len] = '\0';
        close(p[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_error(err, 0, "%s", len ? msg : "the copy failed");
        return 0;
}

/* ADD http(s)://...: download into dir/download/NAME (mode 0600, as Docker). */
static size_t curl_write(char *ptr, size_t size, size_t n, void *userdata)
{
        int fd = *(int *) userdata;
        return write_all(fd, ptr, size * n) < 0 ? 0 : size * n;
}

static int download(const char *url, const char *dir, char **rel_out, berth_error_t *err)
{
        cleanup_free char *dl = xasprintf("%s/download", dir);
        if (mkdir(dl, 0755) < 0 && errno != EEXIST)
                return berth_error(err, errno, "mkdir `%s`", dl);
        const char *path = strstr(url, "://") ? strchr(strstr(url, "://") + 3, '/') : NULL;
        cleanup_free char *name = NULL;
        if (path && path[1]) {
                size_t q = strcspn(path, "?#");
                cleanup_free char *p = xstrndup(path, q);
                const char *base = strrchr(p, '/') + 1;
                name = xstrdup(*base ? base : "index.html");
        } else
                name = xstrdup("index.html");
        cleanup_free char *file = xasprintf("%s/%s", dl, name);
        cleanup_close int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error(err, errno, "create `%s`", file);
        CURL *c = curl_easy_init();
        if (!c)
                return berth_error(err, 0, "cannot initialise libcurl");
        char ebuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
        CURLcode r = curl_easy_perform(c);
        curl_easy_cleanup(c);
        if (r != CURLE_OK)
                return berth_error(err, 0, "ADD %s: %s", url, *ebuf ? ebuf : curl_easy_strerror(r));
        *rel_out = xasprintf("download/%s", name);
        return 0;
}

static bool is_url(const char *s)
{
        return startswith(s, "http://") || startswith(s, "https://");
}

/* --from: a stage (by name or index) or an image. */
static int copy_from_image(struct build *b, const char *from, size_t cur_stage, struct berth_image **out, char **hash,
                           berth_error_t *err)
{
        const char *id = NULL;
        char *end = NULL;
        long idx = strtol(from, &end, 10);
        if (*from && !*end && idx >= 0 && (size_t) idx < cur_stage)
                id = b->stage_ids[idx];
        for (size_t i = 0; !id && i < cur_stage; i++)
                if (b->stages[i].name && strcasecmp(b->stages[i].name, from) == 0)
                        id = b->stage_ids[i];
        if (id) {
                if (image_lookup(b->store, id, out, err) < 0)
                        return -1;
        } else if (container_ensure_image(b->store, from, "missing", &(struct container_progress) { .out = stderr }, out, err) < 0)
                return -1;
        *hash = xstrdup((*out)->id);
        return 0;
}

/* The upper dir a copy child left in dir (dir/dest-upper) as the step's
 * layer on base; takes key. */
static int commit_staged_layer(struct build *b, struct stage_state *st, const struct df_insn *in,
                               struct berth_image *base, const char *dir, char *key, berth_error_t *err)
{
        /* the staging dir is a container without a record: dest-upper is its upper dir */
        cleanup_free char *cdir = xasprintf("%s/c", dir);
        cleanup_free char *upper_from = xasprintf("%s/dest-upper", dir);
        cleanup_free char *upper_to = xasprintf("%s/c/upper", dir);
        if (mkdir(cdir, 0700) < 0 || rename(upper_from, upper_to) < 0) {
                free(key);
                return berth_error(err, errno, "stage the layer in `%s`", dir);
        }
        struct berth_container fake = { .id = "build", .name = "build", .dir = cdir, .config = json_object() };
        cleanup_free char *now = format_rfc3339(now_ns());
        cleanup_free char *by = xasprintf("/bin/sh -c #(nop) %s", in->text);
        json_auto_t *entry = json_pack("{s:s, s:s}", "created", now, "created_by", by);
        json_object_set_new(st->config, "created", json_string(now));
        cleanup_free char *id = NULL;
        int r = image_commit_changes(b->store, &fake, base, st->config, entry, &id, err);
        json_decref(fake.config);
        if (r < 0) {
                free(key);
                return insn_error(b, in, err);
        }
        return state_commit_done(b, st, key, id, err);
}

/* A COPY/ADD source word that is a here-document ("<<EOF", "<<-EOF"). */
static const struct df_heredoc *heredoc_of(const struct df_insn *in, const char *word)
{
        if (!startswith(word, "<<"))
                return NULL;
        const char *name = word + 2 + (word[2] == '-');
        for (size_t i = 0; i < in->nheredocs; i++)
                if (streq(in->heredocs[i].name, name))
                        return &in->heredocs[i];
        return NULL;
}

/* URLs and here-documents as files under dir (download/NAME, heredoc/NAME). */
static int stage_sources(struct build *b, struct stage_state *st, const struct df_insn *in, char *const *patterns,
                         const char *dir, char ***srcs, berth_error_t *err)
{
        *srcs = xcalloc(1, sizeof(char *));
        for (size_t i = 0; patterns[i]; i++) {
                cleanup_free char *rel = NULL;
                const struct df_heredoc *h = heredoc_of(in, patterns[i]);
                if (h) {
                        cleanup_free char *hd = xasprintf("%s/heredoc", dir);
                        if (mkdir(hd, 0755) < 0 && errno != EEXIST)
                                return berth_error(err, errno, "mkdir `%s`", hd);
                        cleanup_free char *text = NULL;
                        cleanup_strv char **env = stage_env(st);
                        if (h->expand ? df_expand_heredoc(h->content, env, b->df->escape, &text, err) < 0
                                      : (text = xstrdup(h->content), 0))
                                return insn_error(b, in, err);
                        rel = xasprintf("heredoc/%s", h->name);
                        cleanup_free char *path = xasprintf("%s/%s", dir, rel);
                        if (write_file_atomic(path, text, strlen(text), 0644, err) < 0)
                                return -1;
                } else if (download(patterns[i], dir, &rel, err) < 0)
                        return insn_error(b, in, err);
                strv_push(srcs, rel);
        }
        return 0;
}

/* The part of COPY/ADD after the flags: sources, hash, cache, copy, layer. */
static int copy_step_in(struct build *b, struct stage_state *st, size_t stage_idx, const struct df_insn *in,
                        struct copy_job *j, char **patterns, const char *from, const char *dir, berth_error_t *err)
{
        cleanup_image struct berth_image *from_img = NULL;
        cleanup_free char *content = NULL;
        cleanup_close int src_fd = -1;
        const char *srcdir = b->o->context;
        if (from) {
                j->from_context = false;
                if (copy_from_image(b, from, stage_idx, &from_img, &content, err) < 0)
                        return insn_error(b, in, err);
                j->from_patterns = patterns;
                cleanup_free char *pj = strv_join(patterns, "\n");
                char *c2 = xasprintf("%s\n%s", content, pj);
                free(content);
                content = c2;
        } else {
                size_t nstaged = 0;
                for (size_t i = 0; patterns[i]; i++)
                        nstaged += (j->add && is_url(patterns[i])) || heredoc_of(in, patterns[i]);
                if (nstaged && nstaged != strv_length(patterns))
                        return berth_error(err, 0, "%s:%d: %s of URLs or here-documents together with local files is "
                                                   "not supported by berth: use two instructions",
                                           b->dfname, in->line, df_kind_name(in->kind));
                if (nstaged) {
                        /* fetched or written into the staging dir, which then is the source */
                        if (stage_sources(b, st, in, patterns, dir, &j->srcs, err) < 0)
                                return -1;
                        srcdir = dir;
                        j->ignore = NULL;
                        j->add = false; /* a fetched archive is not extracted */
                }
                src_fd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (src_fd < 0)
                        return berth_error(err, errno, "open the build context `%s`", srcdir);
                if (!nstaged && sources_expand(src_fd, patterns, b->ignore, "build context", &j->srcs, err) < 0)
                        return berth_error_wrap(err, "%s:%d: %s failed", b->dfname, in->line, df_kind_name(in->kind));
                struct sbuf_hash h = { 0 };
                for (size_t i = 0; j->srcs[i]; i++)
                        if (hash_tree(src_fd, j->srcs[i], j->ignore, &h, err) < 0) {
                                free(h.text);
                                return -1;
                        }
                content = digest_of_data(h.text ? h.text : "", h.text ? strlen(h.text) : 0);
                free(h.text);
        }
        char *key = key_next(st->key, in->text, st->args, content);
        if (cache_hit(b, st, key))
                return 0;
        cleanup_image struct berth_image *scratch = NULL;
        struct berth_image *base = st->img ? st->img : (scratch = scratch_image());
        if (copy_run(b, j, base, from_img, srcdir, dir, err) < 0) {
                free(key);
                return berth_error_wrap(err, "%s:%d: %s failed", b->dfname, in->line, df_kind_name(in->kind));
        }
        return commit_staged_layer(b, st, in, base, dir, key, err);
}

static int step_copy(struct build *b, struct stage_state *st, size_t stage_idx, const struct df_insn *in,
                     berth_error_t *err)
{
        size_t n = strv_length(in->args);
        cleanup_strv char **patterns = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i + 1 < n; i++) {
                cleanup_free char *w = NULL;
                if (expand(b, st, in, in->args[i], &w, err) < 0)
                        return -1;
                strv_push(&patterns, w);
        }
        cleanup_free char *dest_word = NULL;
        if (expand(b, st, in, in->args[n - 1], &dest_word, err) < 0)
                return -1;
        const char *wd = json_string_value(json_object_get(cfg_obj(st), "WorkingDir"));
        cleanup_free char *dest = dest_word[0] == '/' ? xstrdup(dest_word)
                                                      : xasprintf("%s/%s", wd && *wd ? wd : "", dest_word);
        struct copy_job j = { .src_root = -1, .dest = dest, .from_context = true, .add = in->kind == DF_ADD,
                              .chmod = -1, .ignore = b->ignore };
        cleanup_free char *chown_x = NULL, *from = NULL;
        const char *flag = df_insn_flag(in, "chown");
        if (flag) {
                if (expand(b, st, in, flag, &chown_x, err) < 0)
                        return -1;
                j.chown = chown_x;
        }
        flag = df_insn_flag(in, "chmod");
        if (flag) {
                char *e = NULL;
                j.chmod = strtol(flag, &e, 8);
                if (!*flag || *e || j.chmod < 0 || j.chmod > 07777)
                        return berth_error(err, 0, "%s:%d: invalid --chmod=%s: give an octal mode", b->dfname,
                                           in->line, flag);
        }
        flag = df_insn_flag(in, "from");
        if (flag && expand(b, st, in, flag, &from, err) < 0)
                return -1;
        cleanup_free char *dir = NULL;
        cleanup_close int dir_fd = -1;
        if (store_tmp_create(b->store, "build", true, &dir, &dir_fd, err) < 0)
                return -1;
        int r = copy_step_in(b, st, stage_idx, in, &j, patterns, from, dir, err);
        strv_free(j.srcs);
        berth_error_t e = NULL;
        rm_rf(dir, &e);
        berth_error_free(&e);
        return r;
}

/* ---- stages ----------------------------------------------------------------------------- */

/* A step that changed the config only: its history entry and key. */
static void metadata_done(struct stage_state *st, const struct df_insn *in, char *key)
{
        if (in->kind != DF_ARG) {
                cleanup_free char *by = xasprintf("/bin/sh -c #(nop)  %s", in->text);
                history_add(st, by, true);
                st->dirty = true;
        }
        free(st->key);
        st->key = key;
}

/* WORKDIR: the config, and a layer with the directory when the image lacks
 * it (as Docker makes it even when no later step uses it).  Whether it was
 * missing is cached too: the answer depends only on the image. */
static int step_workdir(struct build *b, struct stage_state *st, const struct df_insn *in, berth_error_t *err)
{
        if (step_metadata(b, st, in, err) < 0)
                return -1;
        char *key = key_next(st->key, in->text, st->args, "mkdir");
        cleanup_free char *cached = cache_lookup(b, key);
        if (cached && streq(cached, CACHE_NO_LAYER)) {
                metadata_done(st, in, key);
                return 0;
        }
        if (cache_hit(b, st, key))
                return 0;
        cleanup_free char *dir = NULL;
        cleanup_close int dir_fd = -1;
        if (store_tmp_create(b->store, "build", true, &dir, &dir_fd, err) < 0) {
                free(key);
                return -1;
        }
        cleanup_image struct berth_image *scratch = NULL;
        struct berth_image *base = st->img ? st->img : (scratch = scratch_image());
        struct copy_job j = { .src_root = -1, .chmod = -1,
                              .mkdir_only = json_string_value(json_object_get(cfg_obj(st), "WorkingDir")) };
        int r = copy_run(b, &j, base, NULL, dir, dir, err);
        cleanup_free char *upper = xasprintf("%s/dest-upper", dir);
        cleanup_dir DIR *d = r < 0 ? NULL : opendir(upper);
        struct dirent *de = NULL;
        while (d && (de = readdir(d)) && (streq(de->d_name, ".") || streq(de->d_name, "..")))
                ;
        if (r < 0) {
                free(key);
                insn_error(b, in, err);
        } else if (!de) {
                berth_error_t e = NULL;
                if (cache_put(b, key, CACHE_NO_LAYER, &e) < 0)
                        berth_error_free(&e);
                metadata_done(st, in, key);
        } else
                r = commit_staged_layer(b, st, in, base, dir, key, err);
        berth_error_t e = NULL;
        rm_rf(dir, &e);
        berth_error_free(&e);
        return r;
}

static int exec_insn(struct build *b, struct stage_state *st, size_t stage_idx, const struct df_insn *in,
                     berth_error_t *err)
{
        if (in->kind == DF_FROM)
                return berth_error(err, 0, "%s:%d: FROM inside a stage", b->dfname, in->line);
        if (in->kind == DF_RUN)
                return step_run(b, st, in, err);
        if (in->kind == DF_COPY || in->kind == DF_ADD)
                return step_copy(b, st, stage_idx, in, err);
        if (in->kind == DF_WORKDIR)
                return step_workdir(b, st, in, err);
        if (step_metadata(b, st, in, err) < 0)
                return -1;
        metadata_done(st, in, key_next(st->key, in->text, st->args, NULL));
        return 0;
}

static int stage_from(struct build *b, struct stage_state *st, size_t idx, berth_error_t *err)
{
        const struct df_stage *sg = &b->stages[idx];
        const struct df_insn *in = &b->df->insns[sg->from];
        if (sg->platform && !streq(sg->platform, "linux") && !(startswith(sg->platform, "linux/") &&
                                                               startswith(sg->platform + 6, image_go_arch())))
                return berth_error(err, 0, "%s:%d: --platform=%s: berth builds for linux/%s only", b->dfname,
                                   in->line, sg->platform, image_go_arch());
        struct berth_image *img = NULL;
        if (sg->base_stage >= 0) {
                if (image_lookup(b->store, b->stage_ids[sg->base_stage], &img, err) < 0)
                        return -1;
        } else if (streq(sg->base, "scratch")) {
                img = NULL;
        } else if (container_ensure_image(b->store, sg->base, "missing", &(struct container_progress) { .out = stderr }, &img, err) < 0)
                return insn_error(b, in, err);
        if (img) {
                cleanup_free char *k = xasprintf("FROM %s", img->id);
                state_set_image(st, img, digest_of_data(k, strlen(k)));
        } else {
                struct berth_image *sc = scratch_image();
                st->config = json_deep_copy(sc->config);
                image_free(sc);
                st->key = digest_of_data("FROM scratch", strlen("FROM scratch"));
        }
        json_object_del(st->config, "container");
        return 0;
}

/* ONBUILD triggers of the base image run right after FROM. */
static int stage_triggers(struct build *b, struct stage_state *st, size_t idx, berth_error_t *err)
{
        json_t *c = cfg_obj(st);
        json_t *ob = json_object_get(c, "OnBuild");
        if (!json_is_array(ob) || json_array_size(ob) == 0) {
                json_object_del(c, "OnBuild");
                return 0;
        }
        json_auto_t *triggers = json_incref(ob);
        json_object_set_new(c, "OnBuild", json_null()); /* not inherited by grandchildren */
        size_t n = json_array_size(triggers);
        out_printf(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
        int line = b->df->insns[b->stages[idx].from].line;
        size_t i;
        json_t *t;
        json_array_foreach(triggers, i, t) {
                struct df_insn in;
                if (df_insn_parse_line(json_string_value(t) ? json_string_value(t) : "", b->dfname, line, &in, err) < 0)
                        return berth_error_wrap(err, "ONBUILD trigger");
                out_printf(b, "STEP %zu/%zu: %s (ONBUILD trigger)\n", b->step, b->nsteps, in.text);
                int r = exec_insn(b, st, idx, &in, err);
                df_insn_clear(&in);
                if (r < 0)
                        return -1;
        }
        return 0;
}

/* The stage's final image: the last layer image, or its config on top. */
static int stage_finish(struct build *b, struct stage_state *st, char **id_out, berth_error_t *err)
{
        if (!st->dirty && st->img) {
                *id_out = xstrdup(st->img->id);
                return 0;
        }
        struct berth_image *hit = cache_get(b, st->key);
        if (hit) {
                *id_out = xstrdup(hit->id);
                image_free(hit);
                return 0;
        }
        cleanup_free char *now = format_rfc3339(now_ns());
        json_object_set_new(st->config, "created", json_string(now));
        cleanup_image struct berth_image *scratch = NULL;
        struct berth_image *base = st->img ? st->img : (scratch = scratch_image());
        if (image_commit_config(b->store, base, st->config, id_out, err) < 0)
                return -1;
        if (cache_put(b, st->key, *id_out, err) < 0) {
                fprintf(stderr, "berth: warning: build cache not updated: %s\n", (*err)->msg);
                berth_error_free(err);
        }
        return 0;
}

static int build_stage(struct build *b, size_t idx, bool last, berth_error_t *err)
{
        const struct df_stage *sg = &b->stages[idx];
        struct stage_state st = { 0 };
        int r = -1;
        b->step++;
        out_printf(b, "STEP %zu/%zu: %s\n", b->step, b->nsteps, b->df->insns[sg->from].text);
        if (stage_from(b, &st, idx, err) < 0)
                goto out;
        if (st.img) {
                cleanup_free char *sid = short_id(st.img->id);
                out_printf(b, " ---> %s\n", sid);
        }
        if (stage_triggers(b, &st, idx, err) < 0)
                goto out;
        for (size_t i = sg->from + 1; i < sg->end; i++) {
                const struct df_insn *in = &b->df->insns[i];
                b->step++;
                out_printf(b, "STEP %zu/%zu: %s\n", b->step, b->nsteps, in->text);
                if (exec_insn(b, &st, idx, in, err) < 0)
                        goto out;
        }
        if (last && b->o->labels && b->o->labels[0]) {
                json_t *labels = cfg_member(&st, "Labels", false);
                for (size_t i = 0; b->o->labels[i]; i++) {
                        cleanup_free char *k = xstrdup(b->o->labels[i]);
                        char *eq = strchr(k, '=');
                        if (eq)
                                *eq = '\0';
                        json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
                }
                cleanup_free char *lt = strv_join(b->o->labels, "\n");
                char *key = key_next(st.key, "--label", NULL, lt);
                free(st.key);
                st.key = key;
                st.dirty = true;
        }
        r = stage_finish(b, &st, &b->stage_ids[idx], err);
out:
        stage_state_clear(&st);
        return r;
}

/* ---- the build ---------------------------------------------------------------------------- */

static int read_dockerignore(struct build *b, berth_error_t *err)
{
        cleanup_free char *path = xasprintf("%s/.dockerignore", b->o->context);
        cleanup_free char *text = NULL;
        berth_error_t e = NULL;
        if (read_file(path, &text, NULL, &e) < 0) {
                bool missing = e && e->errnum == ENOENT;
                berth_error_free(&e);
                if (missing)
                        return 0;
                return berth_error(err, 0, "cannot read `%s`", path);
        }
        return dockerignore_parse(text, &b->ignore, err);
}

static int check_tags(char *const *tags, berth_error_t *err)
{
        for (size_t i = 0; tags && tags[i]; i++) {
                struct image_ref r;
                if (image_ref_parse(tags[i], &r, err) < 0)
                        return berth_error_wrap(err, "invalid tag \"%s\"", tags[i]);
                bool digest = r.digest != NULL;
                image_ref_free(&r);
                if (digest)
                        return berth_error(err, 0, "invalid tag \"%s\": a tag cannot hold a digest", tags[i]);
        }
        return 0;
}

static void build_free(struct build *b)
{
        dockerfile_free(b->df);
        df_stages_free(b->stages, b->nstages);
        strv_free(b->meta);
        strv_free(b->consumed);
        for (size_t i = 0; b->stage_ids && i < b->nstages; i++)
                free(b->stage_ids[i]);
        free(b->stage_ids);
        dockerignore_free(b->ignore);
        if (b->bus)
                sd_bus_flush_close_unref(b->bus);
}

static int build_prepare(struct build *b, ssize_t *target, berth_error_t *err)
{
        const struct build_opts *o = b->o;
        if (check_tags(o->tags, err) < 0)
                return -1;
        struct stat st;
        if (stat(o->context, &st) < 0 || !S_ISDIR(st.st_mode))
                return berth_error(err, errno ? errno : ENOTDIR, "unable to prepare context: path \"%s\" not found",
                                   o->context);
        cleanup_free char *dfpath = o->dockerfile ? xstrdup(o->dockerfile) : xasprintf("%s/Dockerfile", o->context);
        cleanup_free char *text = NULL;
        if (read_file(dfpath, &text, NULL, err) < 0)
                return berth_error_wrap(err, "unable to read the Dockerfile");
        const char *base = strrchr(dfpath, '/') ? strrchr(dfpath, '/') + 1 : dfpath;
        b->dfname = xstrdup(base);
        if (dockerfile_parse(text, b->dfname, &b->df, err) < 0)
                return -1;
        if (read_dockerignore(b, err) < 0)
                return -1;
        if (dockerfile_stages(b->df, b->dfname, o->build_args, &b->stages, &b->nstages, &b->meta, err) < 0)
                return -1;
        b->stage_ids = xcalloc(b->nstages, sizeof(char *));
        *target = (ssize_t) b->nstages - 1;
        if (o->target && (*target = df_stage_find(b->stages, b->nstages, o->target, err)) < 0)
                return -1;
        for (ssize_t i = 0; i <= *target; i++)
                b->nsteps += b->stages[i].end - b->stages[i].from;
        /* ARGs before FROM consume their build args too */
        for (size_t i = 0; i < b->stages[0].from; i++)
                for (size_t k = 0; k < b->df->insns[i].nkv; k++) {
                        const char *name = b->df->insns[i].kv[k].key;
                        size_t n = strlen(name);
                        for (size_t a = 0; o->build_args && o->build_args[a]; a++)
                                if (strncmp(o->build_args[a], name, n) == 0 && o->build_args[a][n] == '=' &&
                                    !strv_contains(b->consumed, name))
                                        strv_push(&b->consumed, name);
                }
        return 0;
}

static void warn_unconsumed(struct build *b)
{
        cleanup_strv char **left = xcalloc(1, sizeof(char *));
        for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++) {
                cleanup_free char *name = xstrndup(b->o->build_args[i], strcspn(b->o->build_args[i], "="));
                if (!strv_contains(b->consumed, name))
                        strv_push(&left, name);
        }
        if (left[0]) {
                cleanup_free char *j = strv_join(left, " ");
                fprintf(stderr, "[Warning] One or more build-args [%s] were not consumed\n", j);
        }
}

/* Tag the image and say so. */
static int build_tag(struct build *b, const char *id, berth_error_t *err)
{
        const struct build_opts *o = b->o;
        for (size_t i = 0; o->tags && o->tags[i]; i++)
                if (image_tag(b->store, id, o->tags[i], err) < 0)
                        return -1;
        cleanup_free char *sid = short_id(id);
        out_printf(b, "Successfully built %s\n", sid);
        for (size_t i = 0; o->tags && o->tags[i]; i++) {
                struct image_ref ref;
                berth_error_t e = NULL;
                if (image_ref_parse(o->tags[i], &ref, &e) == 0) {
                        cleanup_free char *fam = image_ref_familiar(&ref);
                        out_printf(b, "Successfully tagged %s\n", fam);
                        image_ref_free(&ref);
                }
                berth_error_free(&e);
        }
        return 0;
}

int build_run(struct berth_store *store, const char *self, const struct build_opts *o, char **id_out,
              berth_error_t *err)
{
        struct build b = { .store = store, .self = self, .o = o, .out = o->out ? o->out : stdout };
        ssize_t target = 0;
        int r = build_prepare(&b, &target, err);
        for (ssize_t i = 0; r == 0 && i <= target; i++)
                r = build_stage(&b, (size_t) i, i == target, err);
        if (r == 0) {
                warn_unconsumed(&b);
                r = build_tag(&b, b.stage_ids[target], err);
        }
        if (r == 0)
                *id_out = xstrdup(b.stage_ids[target]);
        free((char *) b.dfname);
        build_free(&b);
        return r < 0 ? -1 : 0;
}
