/* berth — the stages of a parsed Dockerfile (dockerfile_stages() of
 * include/berth/dockerfile.h): each FROM starts one, whose base image is
 * expanded (dockerfile-expand.c) with the ARGs declared before the first
 * FROM, the only variables FROM lines see, and resolved to an earlier stage
 * when it names one. */
#include "config.h"

#include "berth/dockerfile-internal.h"
#include "berth/util.h"

/* Put "Dockerfile:12" before an error from elsewhere (df_expand()). */
static int line_wrap(berth_error_t *err, const struct df_insn_ctx *ctx)
{
        return berth_error_wrap(err, "%s:%d", ctx->file, ctx->line);
}

void df_stages_free(struct df_stage *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].base);
                free(v[i].name);
                free(v[i].platform);
        }
        free(v);
}

static void kv_env_set(char ***env, const char *key, const char *value)
{
        cleanup_free char *kv = xasprintf("%s=%s", key, value);
        strv_env_set(env, kv);
}

/* The ARGs before the first FROM, with build args applied. */
static int meta_args(const struct dockerfile *df, const char *file, char *const *build_args, size_t *first_from,
                     char ***meta, berth_error_t *err)
{
        size_t i;
        for (i = 0; i < df->n && df->insns[i].kind != DF_FROM; i++) {
                const struct df_insn *in = &df->insns[i];
                struct df_insn_ctx ctx = { .file = file, .line = in->line };
                if (in->kind != DF_ARG)
                        return df_line_error(err, &ctx,
                                             "no build stage in current context: the first instruction must be FROM "
                                             "(only ARG may come before it)");
                for (size_t k = 0; k < in->nkv; k++) {
                        const char *given = df_env_get(build_args, in->kv[k].key);
                        if (given) {
                                kv_env_set(meta, in->kv[k].key, given);
                                continue;
                        }
                        if (!in->kv[k].value)
                                continue;
                        cleanup_free char *v = NULL;
                        if (df_expand(in->kv[k].value, *meta, df->escape, &v, err) < 0)
                                return line_wrap(err, &ctx);
                        kv_env_set(meta, in->kv[k].key, v);
                }
        }
        if (i == df->n)
                return berth_error(err, 0, "%s: no FROM instruction: nothing to build", file);
        *first_from = i;
        return 0;
}

int dockerfile_stages(const struct dockerfile *df, const char *name, char *const *build_args,
                      struct df_stage **out, size_t *n, char ***meta_out, berth_error_t *err)
{
        cleanup_strv char **meta = xcalloc(1, sizeof(char *));
        size_t first = 0;
        if (meta_args(df, name, build_args, &first, &meta, err) < 0)
                return -1;
        struct df_stage *v = NULL;
        size_t nv = 0;
        for (size_t i = first; i < df->n; i++) {
                const struct df_insn *in = &df->insns[i];
                if (in->kind != DF_FROM)
                        continue;
                struct df_insn_ctx ctx = { .file = name, .line = in->line };
                v = xrealloc(v, (nv + 1) * sizeof(*v));
                struct df_stage *st = &v[nv++];
                memset(st, 0, sizeof(*st));
                st->from = i;
                st->base_stage = -1;
                if (nv > 1)
                        v[nv - 2].end = i;
                if (df_expand(in->args[0], meta, df->escape, &st->base, err) < 0) {
                        line_wrap(err, &ctx);
                        goto fail;
                }
                if (!*st->base) {
                        df_line_error(err, &ctx, "base name (%s) should not be blank", in->args[0]);
                        goto fail;
                }
                const char *platform = df_insn_flag(in, "platform");
                if (platform && df_expand(platform, meta, df->escape, &st->platform, err) < 0) {
                        line_wrap(err, &ctx);
                        goto fail;
                }
                if (in->args[1])
                        st->name = xstrdup(in->args[2]);
                for (size_t j = 0; j + 1 < nv; j++) {
                        if (st->name && v[j].name && streq(v[j].name, st->name)) {
                                df_line_error(err, &ctx, "duplicate stage name \"%s\"", st->name);
                                goto fail;
                        }
                        if (v[j].name && strcasecmp(v[j].name, st->base) == 0)
                                st->base_stage = (ssize_t) j;
                }
        }
        v[nv - 1].end = df->n;
        *out = v;
        *n = nv;
        if (meta_out)
                *meta_out = steal_pointer(&meta);
        return 0;
fail:
        df_stages_free(v, nv);
        return -1;
}

ssize_t df_stage_find(const struct df_stage *v, size_t n, const char *target, berth_error_t *err)
{
        for (size_t i = 0; i < n; i++)
                if (v[i].name && strcasecmp(v[i].name, target) == 0)
                        return (ssize_t) i;
        berth_error(err, 0, "target stage \"%s\" could not be found", target);
        return -1;
}
