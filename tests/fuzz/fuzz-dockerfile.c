/* Fuzz target: the Dockerfile parser, then, for what parses, the stages
 * (FROM resolution with the meta ARGs), --target lookup and the word
 * expansion of every argument and heredoc with those ARGs. */
#include "config.h"

#include "berth/dockerfile.h"
#include "fuzz.h"

static void expand_words(const struct df_insn *in, char *const *env, char escape)
{
        for (size_t i = 0; in->args && in->args[i]; i++) {
                cleanup_error berth_error_t err = NULL;
                cleanup_free char *word = NULL;
                (void) df_expand(in->args[i], env, escape, &word, &err);
        }
        for (size_t i = 0; i < in->nkv; i++) {
                cleanup_error berth_error_t err = NULL;
                cleanup_free char *word = NULL;
                (void) df_expand(in->kv[i].key, env, escape, &word, &err);
        }
        for (size_t i = 0; i < in->nheredocs; i++) {
                cleanup_error berth_error_t err = NULL;
                cleanup_free char *text = NULL;
                (void) df_expand_heredoc(in->heredocs[i].content, env, escape, &text, &err);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cleanup_free char *text = fuzz_text(data, size);
        cleanup_dockerfile struct dockerfile *df = NULL;
        cleanup_error berth_error_t err = NULL;
        if (dockerfile_parse(text, "Dockerfile", &df, &err) < 0)
                return 0;

        char *build_args[] = { "VERSION=1.0", "BASE=busybox", NULL };
        struct df_stage *stages = NULL;
        size_t n = 0;
        cleanup_strv char **meta = NULL;
        if (dockerfile_stages(df, "Dockerfile", build_args, &stages, &n, &meta, &err) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                cleanup_error berth_error_t e = NULL;
                if (stages[i].name)
                        (void) df_stage_find(stages, n, stages[i].name, &e);
        }
        cleanup_error berth_error_t e = NULL;
        (void) df_stage_find(stages, n, "0", &e);
        for (size_t i = 0; i < df->n; i++) {
                expand_words(&df->insns[i], meta, df->escape);
                if (df->insns[i].trigger)
                        expand_words(df->insns[i].trigger, meta, df->escape);
        }
        df_stages_free(stages, n);
        return 0;
}
