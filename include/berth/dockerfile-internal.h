/* berth — the private half of the Dockerfile reader (include/berth/dockerfile.h
 * is the public one), shared by its files and included by nothing else:
 *
 *   src/dockerfile/dockerfile.c         the file: parser directives, physical and
 *                                  logical lines (continuations, comments),
 *                                  heredoc bodies;
 *   src/dockerfile/dockerfile-insn.c    one instruction: its keyword, --flags and
 *                                  arguments, read in one of Docker's ways;
 *   src/dockerfile/dockerfile-expand.c  Docker's word expansion (df_expand());
 *   src/dockerfile/dockerfile-stage.c   the stages and their FROM lines. */
#ifndef BERTH_DOCKERFILE_INTERNAL_H
#define BERTH_DOCKERFILE_INTERNAL_H

#include <stdbool.h>
#include <string.h>

#include "berth/dockerfile.h"
#include "berth/util.h"

/* Where an instruction is, for errors, and the escape character it is read
 * with. */
struct df_insn_ctx {
        const char *file;
        int line;
        char escape;
};

/* An error at a line of the file: "Dockerfile:12: message", or just the
 * message when ctx->file is NULL (dockerfile-insn.c). */
int df_line_error(berth_error_t *err, const struct df_insn_ctx *ctx, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Parse one logical line (continuations joined) into in, which the caller
 * clears on failure (dockerfile-insn.c). */
int df_insn_parse(const char *line, struct df_insn *in, const struct df_insn_ctx *ctx, berth_error_t *err);

/* The value of name in a "K=V" list, the last one winning; NULL when unset
 * (dockerfile-expand.c). */
const char *df_env_get(char *const *env, const char *name);

static inline bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline const char *skip_blanks(const char *p)
{
        while (*p && is_blank(*p))
                p++;
        return p;
}

static inline char *trim_dup(const char *p)
{
        p = skip_blanks(p);
        size_t n = strlen(p);
        while (n > 0 && is_blank(p[n - 1]))
                n--;
        return xstrndup(p, n);
}

#endif
