/* berth — Dockerfiles and .dockerignore files, as Docker reads them.
 *
 * dockerfile_parse() turns the text into instructions, each with the line it
 * starts on: parser directives (`# escape=`, `# syntax=`) at the top,
 * comments, `\` continuations, JSON (exec) and shell forms, heredocs
 * (`RUN <<EOF`), instructions in any case.  Nothing is substituted at parse
 * time: words keep their quotes so that df_expand() can apply Docker's word
 * rules ($VAR, ${VAR:-default}, quotes, escapes) when the builder knows the
 * variables of the stage.  Errors name the line: "Dockerfile:12: unknown
 * instruction: FORM (did you mean FROM?)".
 *
 * dockerfile_stages() splits the instructions into stages and resolves the
 * base image of each FROM with the ARGs declared before the first FROM.
 *
 * dockerignore_*: the .dockerignore rules of Docker's patternmatcher.
 *
 * In src/build/: dockerfile.c (the file), dockerfile-insn.c (one
 * instruction), dockerfile-expand.c, dockerfile-stage.c, dockerignore.c. */
#ifndef BERTH_DOCKERFILE_H
#define BERTH_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "berth/error.h"

enum df_kind {
        DF_FROM,
        DF_RUN,
        DF_CMD,
        DF_ENTRYPOINT,
        DF_ENV,
        DF_ARG,
        DF_COPY,
        DF_ADD,
        DF_WORKDIR,
        DF_EXPOSE,
        DF_VOLUME,
        DF_LABEL,
        DF_USER,
        DF_MAINTAINER,
        DF_ONBUILD,
        DF_STOPSIGNAL,
        DF_HEALTHCHECK,
        DF_SHELL,
};
/* "FROM", "RUN", ... */
const char *df_kind_name(enum df_kind k);

/* ENV, LABEL, ARG: key and value as written (quotes kept; expand both). */
struct df_kv {
        char *key;
        char *value; /* NULL: an ARG without a default */
};

struct df_heredoc {
        char *name;    /* "EOF" */
        char *content; /* the lines up to the terminator, each with its '\n' */
        bool expand;   /* the name was not quoted: $VAR in content is expanded */
        bool chomp;    /* <<-EOF: leading tabs were removed */
};

struct df_insn {
        enum df_kind kind;
        int line;        /* where the instruction starts (1-based) */
        char *text;      /* "RUN echo hi" (continuations joined, flags kept) */
        char **flags;    /* "from=builder", "link" (name[=value], without "--") */
        bool json;       /* exec (JSON) form */
        /* RUN/CMD/ENTRYPOINT/SHELL, HEALTHCHECK CMD: the JSON strings, or one
         * element, the shell command line; FROM: the words (image [AS name]);
         * COPY/ADD: sources and destination (words or JSON strings); EXPOSE,
         * VOLUME: the words or JSON strings; USER, WORKDIR, STOPSIGNAL,
         * MAINTAINER: one element, the rest of the line. */
        char **args;
        struct df_kv *kv; /* ENV, LABEL, ARG */
        size_t nkv;
        struct df_insn *trigger;     /* ONBUILD: the instruction it registers */
        bool healthcheck_none;       /* HEALTHCHECK NONE */
        struct df_heredoc *heredocs; /* RUN/COPY/ADD <<EOF ... */
        size_t nheredocs;
};

struct dockerfile {
        char escape;  /* '\\' or '`' */
        char *syntax; /* `# syntax=` value, or NULL */
        struct df_insn *insns;
        size_t n;
};

/* Parse text (NUL-terminated).  name is what errors call the file
 * ("Dockerfile").  A Dockerfile must have at least one instruction and
 * start with FROM (after ARGs and comments). */
int dockerfile_parse(const char *text, const char *name, struct dockerfile **out, berth_error_t *err);
/* Parse one instruction line (an ONBUILD trigger from a base image's
 * config, a `commit --change` value), with the default escape character.
 * name and line are used in errors; name NULL: errors are just the message. */
int df_insn_parse_line(const char *text, const char *name, int line, struct df_insn *out, berth_error_t *err);
void df_insn_clear(struct df_insn *in);
void dockerfile_free(struct dockerfile *df);
static inline void dockerfile_freep(struct dockerfile **p) { if (*p) dockerfile_free(*p); }
#define cleanup_dockerfile __attribute__((cleanup(dockerfile_freep)))

/* The flag's value ("from" -> "builder"); NULL when absent; "" for a flag
 * given without a value. */
const char *df_insn_flag(const struct df_insn *in, const char *name);

/* Docker's word processing of one word: single quotes are literal, double
 * quotes group and allow $ expansion, the escape character quotes the next
 * character; $VAR, ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w}, ${VAR+w},
 * ${VAR:?msg}, ${VAR?msg}.  env is a list of "K=V" (the last of a key
 * wins); unset variables are empty.  Errors: "unexpected end of statement
 * while looking for matching double-quote", "missing '}'", ... */
int df_expand(const char *word, char *const *env, char escape, char **out, berth_error_t *err);
/* Only the $ expansion of a heredoc body (quotes and escapes stay). */
int df_expand_heredoc(const char *text, char *const *env, char escape, char **out, berth_error_t *err);

/* ---- stages -------------------------------------------------------------- */
struct df_stage {
        char *base;   /* FROM's image after expansion ("busybox", "scratch", or a stage name) */
        char *name;   /* AS name, lower-cased, or NULL */
        char *platform; /* --platform after expansion, or NULL */
        size_t from;  /* index of the FROM instruction in df->insns */
        size_t end;   /* one past the stage's last instruction */
        ssize_t base_stage; /* index of an earlier stage named by base, or -1 */
};
/* Split df into stages.  build_args ("K=V") override the defaults of the
 * ARGs before the first FROM (the "meta" args), which are the only
 * variables FROM lines see; *meta_out (may be NULL) gets them as "K=V" (a
 * declared ARG without a value and without a build arg is left out).
 * Stage names must be unique; a base naming an earlier stage is resolved. */
int dockerfile_stages(const struct dockerfile *df, const char *name, char *const *build_args,
                      struct df_stage **out, size_t *n, char ***meta_out, berth_error_t *err);
void df_stages_free(struct df_stage *v, size_t n);
/* The stage --target names (by name, case-insensitive, or by index), or -1
 * with "target stage \"x\" could not be found". */
ssize_t df_stage_find(const struct df_stage *v, size_t n, const char *target, berth_error_t *err);

/* ---- .dockerignore --------------------------------------------------------- */
struct dockerignore;
/* Read patterns (one per line; "#" comments; "!" exceptions; leading "/"
 * and "./" and "a/../b" cleaned). */
int dockerignore_parse(const char *text, struct dockerignore **out, berth_error_t *err);
/* Is path (relative to the context, '/'-separated) excluded?  The last
 * pattern that matches the path or one of its parent directories wins. */
bool dockerignore_excluded(const struct dockerignore *di, const char *path);
/* Are there "!" patterns at all? */
bool dockerignore_has_exceptions(const struct dockerignore *di);
/* Must the excluded directory dir still be walked, because an exception
 * names something below it ("!dir/keep")?  Docker's context walker rule:
 * the exception's text must start with "dir/". */
bool dockerignore_walk_excluded(const struct dockerignore *di, const char *dir);
void dockerignore_free(struct dockerignore *di);
static inline void dockerignore_freep(struct dockerignore **p) { if (*p) dockerignore_free(*p); }
#define cleanup_dockerignore __attribute__((cleanup(dockerignore_freep)))
/* Go's path.Clean: "./a//b/../c/" -> "a/c", "" -> ".", "/../x" -> "/x". */
char *df_path_clean(const char *path);
/* filepath.Match-style matching with "**" (any number of directories). */
bool dockerignore_pattern_match(const char *pattern, const char *path);

#endif
