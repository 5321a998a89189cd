/* berth — `berth build`: the Dockerfile executor (see include/berth/build.h).
 *
 * A stage's state is its image config (JSON, changed in memory by metadata
 * instructions) and the last registered image holding its layers.  Layer
 * steps (RUN, COPY, ADD) register a new untagged image; metadata changes
 * still pending at the end of a stage go into one config-only image. */
#include "config.h"

#include <sys/stat.h>

#include "berth/archive-util.h"
#include "berth/blob.h"
#include "berth/build-internal.h"
#include "berth/commit.h"
#include "berth/container-spec.h"
#include "berth/image-ref.h"
#include "berth/instructions.h"
#include "berth/json-util.h"
#include "berth/util.h"

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

void build_printf(struct build *b, const char *fmt, ...)
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
char *build_key_next(const char *prev, const char *text, char *const *args, const char *extra)
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

json_t *build_cfg(struct stage_state *st)
{
        json_t *c = json_object_get(st->config, "config");
        if (!json_is_object(c))
                json_object_set_new(st->config, "config", c = json_object());
        return c;
}

static json_t *cfg_member(struct stage_state *st, const char *key, bool array)
{
        json_t *c = build_cfg(st);
        json_t *v = json_object_get(c, key);
        if (array ? !json_is_array(v) : !json_is_object(v))
                json_object_set_new(c, key, v = array ? json_array() : json_object());
        return v;
}

char *build_strv_join(char *const *v, const char *sep)
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
char **build_stage_env(struct stage_state *st)
{
        char **env = strv_copy(st->args ? st->args : (char *[]){ NULL });
        cleanup_strv char **cenv = json_strv(json_object_get(build_cfg(st), "Env"));
        for (size_t i = 0; cenv[i]; i++)
                strv_push(&env, cenv[i]);
        return env;
}

int build_insn_error(struct build *b, const struct df_insn *in, berth_error_t *err)
{
        return berth_error_wrap(err, "%s:%d", b->dfname, in->line);
}

int build_expand(struct build *b, struct stage_state *st, const struct df_insn *in, const char *word, char **out,
                  berth_error_t *err)
{
        cleanup_strv char **env = build_stage_env(st);
        if (df_expand(word, env, b->df->escape, out, err) < 0)
                return build_insn_error(b, in, err);
        return 0;
}

static char **shell_of(struct stage_state *st)
{
        json_t *sh = json_object_get(build_cfg(st), "Shell");
        if (json_is_array(sh) && json_array_size(sh))
                return json_strv(sh);
        char **v = xcalloc(1, sizeof(char *));
        strv_push(&v, "/bin/sh");
        strv_push(&v, "-c");
        return v;
}

/* RUN/CMD/ENTRYPOINT: the exec form as is, the shell form after the shell. */
char **build_command_of(struct stage_state *st, const struct df_insn *in)
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
struct berth_image *build_scratch_image(void)
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
                build_printf(b, " ---> Using cache\n");
        build_printf(b, " ---> %s\n", sid);
}

bool build_cache_hit(struct build *b, struct stage_state *st, char *key)
{
        struct berth_image *hit = build_cache_get(b, key);
        if (!hit)
                return false;
        print_result(b, hit->id, true);
        state_set_image(st, hit, key);
        return true;
}

int build_state_commit_done(struct build *b, struct stage_state *st, char *key, const char *id, berth_error_t *err)
{
        struct berth_image *img = NULL;
        if (image_lookup(b->store, id, &img, err) < 0) {
                free(key);
                return -1;
        }
        if (build_cache_put(b, key, id, err) < 0) {
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
                        if (build_expand(b, st, in, in->kv[i].value, &value, err) < 0)
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
        cleanup_strv char **env = build_stage_env(st);
        struct instruction_scope scope = { .env = env, .escape = b->df->escape, .cmd_set = st->cmd_set };
        if (instruction_apply(st->config, in, &scope, err) < 0)
                return build_insn_error(b, in, err);
        st->cmd_set = scope.cmd_set;
        return 0;
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
        char *key = build_key_next(st->key, in->text, st->args, "mkdir");
        cleanup_free char *cached = build_cache_lookup(b, key);
        if (cached && streq(cached, CACHE_NO_LAYER)) {
                metadata_done(st, in, key);
                return 0;
        }
        if (build_cache_hit(b, st, key))
                return 0;
        cleanup_free char *dir = NULL;
        cleanup_close int dir_fd = -1;
        if (store_tmp_create(b->store, "build", true, &dir, &dir_fd, err) < 0) {
                free(key);
                return -1;
        }
        cleanup_image struct berth_image *scratch = NULL;
        struct berth_image *base = st->img ? st->img : (scratch = build_scratch_image());
        struct copy_job j = { .src_root = -1, .chmod = -1,
                              .mkdir_only = json_string_value(json_object_get(build_cfg(st), "WorkingDir")) };
        int r = build_copy_run(b, &j, base, NULL, dir, dir, err);
        cleanup_free char *upper = xasprintf("%s/dest-upper", dir);
        cleanup_dir DIR *d = r < 0 ? NULL : opendir(upper);
        struct dirent *de = NULL;
        while (d && (de = readdir(d)) && (streq(de->d_name, ".") || streq(de->d_name, "..")))
                ;
        if (r < 0) {
                free(key);
                build_insn_error(b, in, err);
        } else if (!de) {
                berth_error_t e = NULL;
                if (build_cache_put(b, key, CACHE_NO_LAYER, &e) < 0)
                        berth_error_free(&e);
                metadata_done(st, in, key);
        } else
                r = build_commit_staged_layer(b, st, in, base, dir, key, err);
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
                return build_step_run(b, st, in, err);
        if (in->kind == DF_COPY || in->kind == DF_ADD)
                return build_step_copy(b, st, stage_idx, in, err);
        if (in->kind == DF_WORKDIR)
                return step_workdir(b, st, in, err);
        if (step_metadata(b, st, in, err) < 0)
                return -1;
        metadata_done(st, in, build_key_next(st->key, in->text, st->args, NULL));
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
        } else if (container_ensure_image(b->store, sg->base, b->o->pull ? "always" : "missing", &(struct container_progress) { .out = stderr }, &img, err) < 0)
                return build_insn_error(b, in, err);
        if (img) {
                cleanup_free char *k = xasprintf("FROM %s", img->id);
                state_set_image(st, img, digest_of_data(k, strlen(k)));
        } else {
                struct berth_image *sc = build_scratch_image();
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
        json_t *c = build_cfg(st);
        json_t *ob = json_object_get(c, "OnBuild");
        if (!json_is_array(ob) || json_array_size(ob) == 0) {
                json_object_del(c, "OnBuild");
                return 0;
        }
        json_auto_t *triggers = json_incref(ob);
        json_object_set_new(c, "OnBuild", json_null()); /* not inherited by grandchildren */
        size_t n = json_array_size(triggers);
        build_printf(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
        int line = b->df->insns[b->stages[idx].from].line;
        size_t i;
        json_t *t;
        json_array_foreach(triggers, i, t) {
                struct df_insn in;
                if (df_insn_parse_line(json_string_value(t) ? json_string_value(t) : "", b->dfname, line, &in, err) < 0)
                        return berth_error_wrap(err, "ONBUILD trigger");
                build_printf(b, "STEP %zu/%zu: %s (ONBUILD trigger)\n", b->step, b->nsteps, in.text);
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
        struct berth_image *hit = build_cache_get(b, st->key);
        if (hit) {
                *id_out = xstrdup(hit->id);
                image_free(hit);
                return 0;
        }
        cleanup_free char *now = format_rfc3339(now_ns());
        json_object_set_new(st->config, "created", json_string(now));
        cleanup_image struct berth_image *scratch = NULL;
        struct berth_image *base = st->img ? st->img : (scratch = build_scratch_image());
        if (image_commit_config(b->store, base, st->config, id_out, err) < 0)
                return -1;
        if (build_cache_put(b, st->key, *id_out, err) < 0) {
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
        build_printf(b, "STEP %zu/%zu: %s\n", b->step, b->nsteps, b->df->insns[sg->from].text);
        if (stage_from(b, &st, idx, err) < 0)
                goto out;
        if (st.img) {
                cleanup_free char *sid = short_id(st.img->id);
                build_printf(b, " ---> %s\n", sid);
        }
        if (stage_triggers(b, &st, idx, err) < 0)
                goto out;
        for (size_t i = sg->from + 1; i < sg->end; i++) {
                const struct df_insn *in = &b->df->insns[i];
                b->step++;
                build_printf(b, "STEP %zu/%zu: %s\n", b->step, b->nsteps, in->text);
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
                cleanup_free char *lt = build_strv_join(b->o->labels, "\n");
                char *key = build_key_next(st.key, "--label", NULL, lt);
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
                cleanup_free char *j = build_strv_join(left, " ");
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
        build_printf(b, "Successfully built %s\n", sid);
        for (size_t i = 0; o->tags && o->tags[i]; i++) {
                struct image_ref ref;
                berth_error_t e = NULL;
                if (image_ref_parse(o->tags[i], &ref, &e) == 0) {
                        cleanup_free char *fam = image_ref_familiar(&ref);
                        build_printf(b, "Successfully tagged %s\n", fam);
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

