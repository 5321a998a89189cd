/* Unit tests: the Dockerfile parser, word expansion and stages
 * (dockerfile.h), with every Dockerfile shape of the seed documents.  Runs
 * under valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/dockerfile.h"
#include "berth/util.h"
#include "check-main.h"

static struct dockerfile *parse_ok(const char *text)
{
        struct dockerfile *df = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(dockerfile_parse(text, "Dockerfile", &df, &err) == 0, "parse: %s\n%s", err ? err->msg : "",
                      text);
        return df;
}

/* The error message of a Dockerfile that must not parse. */
static char *parse_err(const char *text)
{
        struct dockerfile *df = NULL;
        berth_error_t err = NULL;
        ck_assert_msg(dockerfile_parse(text, "Dockerfile", &df, &err) < 0, "parsed: %s", text);
        ck_assert_ptr_null(df);
        ck_assert_ptr_nonnull(err);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

#define ck_parse_err(text, msg)                                 \
        do {                                                    \
                cleanup_free char *_m = parse_err(text);        \
                ck_assert_str_eq(_m, msg);                      \
        } while (0)

static char *expand_ok(const char *word, char *const *env)
{
        char *out = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(df_expand(word, env, '\\', &out, &err) == 0, "expand(%s): %s", word, err ? err->msg : "");
        return out;
}

#define ck_expand(word, env, want)                              \
        do {                                                    \
                cleanup_free char *_o = expand_ok(word, env);   \
                ck_assert_str_eq(_o, want);                     \
        } while (0)

static char *expand_err(const char *word, char *const *env)
{
        char *out = NULL;
        berth_error_t err = NULL;
        ck_assert_msg(df_expand(word, env, '\\', &out, &err) < 0, "expanded %s to %s", word, out ? out : "");
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

static void ck_insn(const struct df_insn *in, enum df_kind kind, int line, bool json)
{
        ck_assert_str_eq(df_kind_name(in->kind), df_kind_name(kind));
        ck_assert_int_eq(in->line, line);
        ck_assert_int_eq(in->json, json);
}

/* args as one string "a|b|c", to compare in one line */
static char *joined(char *const *v)
{
        char *s = xstrdup("");
        for (size_t i = 0; v && v[i]; i++) {
                char *n = xasprintf("%s%s%s", s, i ? "|" : "", v[i]);
                free(s);
                s = n;
        }
        return s;
}

#define ck_args(in, want)                                       \
        do {                                                    \
                cleanup_free char *_j = joined((in)->args);     \
                ck_assert_str_eq(_j, want);                     \
        } while (0)

/* ---- the seed documents' Dockerfiles ------------------------------------------ */

START_TEST(test_seed_flask_entrypoint)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM python:2.7\n"
                                                            "MAINTAINER Angel_Kitty <angelkitty6698@gmail.com>\n"
                                                            "COPY . /app\n"
                                                            "WORKDIR /app\n"
                                                            "RUN pip install -r requirements.txt\n"
                                                            "EXPOSE 5000\n"
                                                            "ENTRYPOINT [\"python\"]\n"
                                                            "CMD [\"app.py\"]\n");
        ck_assert_uint_eq(df->n, 8);
        ck_insn(&df->insns[0], DF_FROM, 1, false);
        ck_args(&df->insns[0], "python:2.7");
        ck_insn(&df->insns[1], DF_MAINTAINER, 2, false);
        ck_args(&df->insns[1], "Angel_Kitty <angelkitty6698@gmail.com>");
        ck_insn(&df->insns[2], DF_COPY, 3, false);
        ck_args(&df->insns[2], ".|/app");
        ck_insn(&df->insns[3], DF_WORKDIR, 4, false);
        ck_args(&df->insns[3], "/app");
        ck_insn(&df->insns[4], DF_RUN, 5, false);
        ck_args(&df->insns[4], "pip install -r requirements.txt");
        ck_insn(&df->insns[5], DF_EXPOSE, 6, false);
        ck_args(&df->insns[5], "5000");
        ck_insn(&df->insns[6], DF_ENTRYPOINT, 7, true);
        ck_args(&df->insns[6], "python");
        ck_insn(&df->insns[7], DF_CMD, 8, true);
        ck_args(&df->insns[7], "app.py");
        ck_assert_str_eq(df->insns[7].text, "CMD [\"app.py\"]");
        ck_assert_int_eq(df->escape, '\\');
        ck_assert_ptr_null(df->syntax);
}
END_TEST

START_TEST(test_seed_alpine_continuation)
{
        /* lower-case "from", a RUN over three lines, a comment between
         * instructions, trailing blanks, two blanks before the JSON */
        cleanup_dockerfile struct dockerfile *df = parse_ok(
                "from alpine:latest\n"
                "RUN apk add --no-cache python3-dev \\\n"
                "    && pip3 install --upgrade pip \\\n"
                "    && pip3 install --no-cache-dir pipenv \n"
                "WORKDIR /app\n"
                "COPY . /app\n"
                "#pipenv lock --requirements > requirements.txt\n"
                "RUN pip3 --no-cache-dir install -r requirements.txt                      \n"
                "EXPOSE 8000\n"
                "ENTRYPOINT  [\"python3\"]\n"
                "CMD [\"app.py\"]\n");
        ck_assert_uint_eq(df->n, 8);
        ck_insn(&df->insns[0], DF_FROM, 1, false);
        ck_insn(&df->insns[1], DF_RUN, 2, false);
        ck_args(&df->insns[1], "apk add --no-cache python3-dev     && pip3 install --upgrade pip     && pip3 "
                               "install --no-cache-dir pipenv");
        ck_insn(&df->insns[2], DF_WORKDIR, 5, false);
        ck_insn(&df->insns[3], DF_COPY, 6, false);
        ck_insn(&df->insns[4], DF_RUN, 8, false);
        ck_args(&df->insns[4], "pip3 --no-cache-dir install -r requirements.txt");
        ck_insn(&df->insns[5], DF_EXPOSE, 9, false);
        ck_insn(&df->insns[6], DF_ENTRYPOINT, 10, true);
        ck_args(&df->insns[6], "python3");
        ck_insn(&df->insns[7], DF_CMD, 11, true);
}
END_TEST

START_TEST(test_seed_ping_and_volume)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM debian:wheezy\n"
                                                            "ENTRYPOINT [\"/bin/ping\"]\n"
                                                            "CMD [\"localhost\"]\n");
        ck_assert_uint_eq(df->n, 3);
        ck_insn(&df->insns[1], DF_ENTRYPOINT, 2, true);
        ck_args(&df->insns[1], "/bin/ping");
        ck_args(&df->insns[2], "localhost");

        cleanup_dockerfile struct dockerfile *v = parse_ok("FROM ubuntu\n"
                                                           "MAINTAINER hello1\n"
                                                           "VOLUME [\"/data1\",\"/data2\"]\n"
                                                           "VOLUME [\"/data\", \"/data\"]\n"
                                                           "VOLUME /root/httpServer/log /other\n");
        ck_insn(&v->insns[2], DF_VOLUME, 3, true);
        ck_args(&v->insns[2], "/data1|/data2");
        ck_args(&v->insns[3], "/data|/data");
        ck_insn(&v->insns[4], DF_VOLUME, 5, false);
        ck_args(&v->insns[4], "/root/httpServer/log|/other");
}
END_TEST

START_TEST(test_seed_http_server)
{
        /* comments above each instruction; shell-form ENTRYPOINT; old ENV form;
         * ADD of a file, a directory, a URL and a tar */
        cleanup_dockerfile struct dockerfile *df = parse_ok("# 指定带有 python 3.6环境的镜像\n"
                                                            "FROM python:3.6\n"
                                                            "# 作者\n"
                                                            "MAINTAINER geebos\n"
                                                            "# 将当前目录所有文件添加到要构建的镜像中\n"
                                                            "COPY . /root/httpServer\n"
                                                            "# 声明容器中的 /root/httpServer/log 目录为挂载点\n"
                                                            "VOLUME /root/httpServer/log\n"
                                                            "# 设置工作目录\n"
                                                            "WORKDIR /root/httpServer\n"
                                                            "# 绑定端口\n"
                                                            "EXPOSE 8000\n"
                                                            "# 设置启动命令\n"
                                                            "ENTRYPOINT python http.py\n"
                                                            "ENV PRODUCTION_ENV 1\n"
                                                            "ADD ./database.ini /root\n"
                                                            "ADD ./src /root\n"
                                                            "ADD http://www.baidu.com /root\n"
                                                            "ADD code.tar /root\n");
        ck_assert_uint_eq(df->n, 12);
        ck_insn(&df->insns[0], DF_FROM, 2, false);
        ck_insn(&df->insns[1], DF_MAINTAINER, 4, false);
        ck_args(&df->insns[1], "geebos");
        ck_insn(&df->insns[6], DF_ENTRYPOINT, 14, false);
        ck_args(&df->insns[6], "python http.py");
        ck_insn(&df->insns[7], DF_ENV, 15, false);
        ck_assert_uint_eq(df->insns[7].nkv, 1);
        ck_assert_str_eq(df->insns[7].kv[0].key, "PRODUCTION_ENV");
        ck_assert_str_eq(df->insns[7].kv[0].value, "1");
        ck_args(&df->insns[8], "./database.ini|/root");
        ck_args(&df->insns[10], "http://www.baidu.com|/root");
        ck_insn(&df->insns[11], DF_ADD, 19, false);
}
END_TEST

START_TEST(test_seed_env_version_and_multistage)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok(
                "FROM ubuntu:20.04\n"
                "ENV VERSION=2.0.1\n"
                "RUN apt-get update && \\\n"
                "    apt-get install -y wget && \\\n"
                "    wget https://github.com/ipinfo/cli/releases/download/ipinfo-${VERSION}/x_${VERSION}.tar.gz && \\\n"
                "    rm -rf ipinfo_${VERSION}_linux_amd64.tar.gz\n");
        ck_assert_uint_eq(df->n, 3);
        ck_assert_str_eq(df->insns[1].kv[0].key, "VERSION");
        ck_assert_str_eq(df->insns[1].kv[0].value, "2.0.1");
        /* RUN is not substituted by the parser (nor by the builder: the shell does it) */
        ck_assert_ptr_nonnull(strstr(df->insns[2].args[0], "ipinfo-${VERSION}/x_${VERSION}"));
        ck_assert_int_eq(df->insns[2].line, 3);

        cleanup_dockerfile struct dockerfile *ms = parse_ok("FROM gcc:9.4 AS builder\n"
                                                            "COPY hello.c /src/hello.c\n"
                                                            "WORKDIR /src\n"
                                                            "RUN gcc --static -o hello hello.c\n"
                                                            "\n"
                                                            "FROM alpine:3.13.5\n"
                                                            "COPY --from=builder /src/hello /src/hello\n"
                                                            "ENTRYPOINT [\"/src/hello\"]\n"
                                                            "CMD []\n");
        ck_assert_uint_eq(ms->n, 8);
        ck_args(&ms->insns[0], "gcc:9.4|AS|builder");
        ck_insn(&ms->insns[4], DF_FROM, 6, false);
        ck_insn(&ms->insns[5], DF_COPY, 7, false);
        ck_assert_str_eq(df_insn_flag(&ms->insns[5], "from"), "builder");
        ck_assert_ptr_null(df_insn_flag(&ms->insns[5], "chown"));
        ck_args(&ms->insns[5], "/src/hello|/src/hello");
        ck_insn(&ms->insns[7], DF_CMD, 9, true);
        ck_assert_ptr_null(ms->insns[7].args[0]);

        struct df_stage *st = NULL;
        size_t n = 0;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(dockerfile_stages(ms, "Dockerfile", NULL, &st, &n, NULL, &err), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(st[0].base, "gcc:9.4");
        ck_assert_str_eq(st[0].name, "builder");
        ck_assert_uint_eq(st[0].from, 0);
        ck_assert_uint_eq(st[0].end, 4);
        ck_assert_str_eq(st[1].base, "alpine:3.13.5");
        ck_assert_ptr_null(st[1].name);
        ck_assert_uint_eq(st[1].from, 4);
        ck_assert_uint_eq(st[1].end, 8);
        ck_assert_int_eq(df_stage_find(st, n, "BUILDER", &err), 0);
        ck_assert_int_eq(df_stage_find(st, n, "nope", &err), -1);
        ck_assert_str_eq(err->msg, "target stage \"nope\" could not be found");
        df_stages_free(st, n);
}
END_TEST

START_TEST(test_seed_typos_are_errors)
{
        /* the seed's ENTRYPOINT[“/src/hello”] has no blank after the keyword
         * (and typographic quotes): Docker reads one unknown word */
        ck_parse_err("FROM alpine:3.13.5\n"
                     "COPY --from=builder /src/hello /src/hello\n"
                     "ENTRYPOINT[“/src/hello”]\n"
                     "CMD []\n",
                     "Dockerfile:3: unknown instruction: ENTRYPOINT[“/SRC/HELLO”]");
        /* "FROM scratch    # 最小系统": a comment only starts a line */
        ck_parse_err("FROM scratch    # 最小系统\n", "Dockerfile:1: FROM requires either one or three arguments");
        ck_parse_err("FORM busybox\n", "Dockerfile:1: unknown instruction: FORM (did you mean FROM?)");
        ck_parse_err("FROM busybox\n\n\n\n\n\n\n\n\n\n\nRUNN true\n",
                     "Dockerfile:12: unknown instruction: RUNN (did you mean RUN?)");
        ck_parse_err("FROM busybox\nRUN a \\\n  b \\\n  c\nxyzzy plugh\n", "Dockerfile:5: unknown instruction: XYZZY");
}
END_TEST

START_TEST(test_seed_hello_docker_shapes)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM ubuntu\nCMD echo \"hello docker!\"\n");
        ck_insn(&df->insns[1], DF_CMD, 2, false);
        ck_args(&df->insns[1], "echo \"hello docker!\"");

        cleanup_dockerfile struct dockerfile *e = parse_ok("FROM centos\n"
                                                           "# shell 格式\n"
                                                           "CMD echo \"hello docker\"\n"
                                                           "ENTRYPOINT echo \"hello docker\"\n"
                                                           "# exec 格式\n"
                                                           "CMD [\"/bin/echo\", \"hello docker\"]\n"
                                                           "ENTRYPOINT [\"/bin/echo\", \"hello docker\"]\n"
                                                           "RUN yum -y install lrzsz\n");
        ck_assert_uint_eq(e->n, 6);
        ck_insn(&e->insns[3], DF_CMD, 6, true);
        ck_args(&e->insns[3], "/bin/echo|hello docker");
        ck_insn(&e->insns[4], DF_ENTRYPOINT, 7, true);

        /* the LABEL, WORKDIR, ADD, RUN-with-"\ " shapes of the same page */
        cleanup_dockerfile struct dockerfile *w = parse_ok("FROM scratch\n"
                                                           "LABEL version=”1.0”\n"
                                                           "LABEL auther=”sjc”\n"
                                                           "RUN yum -y update && install lrzsz \\ \n"
                                                           "    net-tools\n"
                                                           "WORKDIR /root\n"
                                                           "WORKDIR /test\n"
                                                           "WORKDIR demo\n"
                                                           "RUN pwd\n"
                                                           "ADD hello /\n"
                                                           "ADD tt.tar.gz /\n"
                                                           "LABEL auth=\"shuo\"\n"
                                                           "COPY app.py /app/\n"
                                                           "CMD [\"python\",\"app.py\"]\n");
        ck_assert_uint_eq(w->n, 13);
        ck_assert_str_eq(w->insns[1].kv[0].key, "version");
        ck_assert_str_eq(w->insns[1].kv[0].value, "”1.0”");
        ck_insn(&w->insns[3], DF_RUN, 4, false);
        ck_args(&w->insns[3], "yum -y update && install lrzsz     net-tools");
        ck_insn(&w->insns[4], DF_WORKDIR, 6, false);
        ck_args(&w->insns[6], "demo");
        ck_assert_str_eq(w->insns[10].kv[0].value, "\"shuo\"");
        ck_args(&w->insns[11], "app.py|/app/");
        ck_args(&w->insns[12], "python|app.py");
}
END_TEST

/* ---- syntax ---------------------------------------------------------------------- */

START_TEST(test_directives)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("# syntax=docker/dockerfile:1\n"
                                                            "# escape=`\n"
                                                            "\n"
                                                            "FROM busybox\n"
                                                            "RUN echo a `\n"
                                                            "    b\n"
                                                            "COPY c:\\dir\\ /x/\n");
        ck_assert_str_eq(df->syntax, "docker/dockerfile:1");
        ck_assert_int_eq(df->escape, '`');
        ck_assert_uint_eq(df->n, 3);
        ck_insn(&df->insns[1], DF_RUN, 5, false);
        ck_args(&df->insns[1], "echo a     b");
        /* with ` as the escape, a trailing backslash is not a continuation */
        ck_args(&df->insns[2], "c:\\dir\\|/x/");

        /* a directive after a comment, a blank line or an instruction is a comment */
        cleanup_dockerfile struct dockerfile *late = parse_ok("# hello\n# escape=`\nFROM busybox\n");
        ck_assert_int_eq(late->escape, '\\');
        cleanup_dockerfile struct dockerfile *blank = parse_ok("\n# escape=`\nFROM busybox\n");
        ck_assert_int_eq(blank->escape, '\\');
        /* directive names are case-insensitive, blanks allowed */
        cleanup_dockerfile struct dockerfile *ci = parse_ok("#  ESCAPE = `\nFROM busybox\n");
        ck_assert_int_eq(ci->escape, '`');

        ck_parse_err("# escape=`\n# escape=\\\nFROM busybox\n",
                     "Dockerfile:2: only one escape parser directive can be used");
        ck_parse_err("# escape=x\nFROM busybox\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
        ck_parse_err("# syntax=a\n# syntax=b\nFROM busybox\n",
                     "Dockerfile:2: only one syntax parser directive can be used");
}
END_TEST

START_TEST(test_comments_continuations)
{
        /* comment and empty lines inside a continued instruction are dropped;
         * indented comments are comments; CRLF; a BOM; case-insensitive */
        cleanup_dockerfile struct dockerfile *df = parse_ok("\xEF\xBB\xBF"
                                                            "   # indented comment\r\n"
                                                            "From busybox\r\n"
                                                            "rUn echo 1 \\\r\n"
                                                            "# inside\r\n"
                                                            "\r\n"
                                                            "  echo 2\r\n"
                                                            "\t\tcmd [\"sh\"]\r\n"
                                                            "RUN echo \\\n");
        ck_assert_uint_eq(df->n, 4);
        ck_insn(&df->insns[1], DF_RUN, 3, false);
        ck_args(&df->insns[1], "echo 1   echo 2");
        ck_insn(&df->insns[2], DF_CMD, 7, true);
        /* a continuation at the end of the file ends the instruction */
        ck_insn(&df->insns[3], DF_RUN, 8, false);
        ck_args(&df->insns[3], "echo");
        /* JSON that does not parse is the shell form, as in Docker */
        cleanup_dockerfile struct dockerfile *sh = parse_ok("FROM busybox\nCMD ['sh', '-c']\nCMD [\"a\" \n");
        ck_insn(&sh->insns[1], DF_CMD, 2, false);
        ck_args(&sh->insns[1], "['sh', '-c']");
        ck_insn(&sh->insns[2], DF_CMD, 3, false);
        ck_args(&sh->insns[2], "[\"a\"");
        /* JSON with escapes */
        cleanup_dockerfile struct dockerfile *j =
                parse_ok("FROM busybox\nRUN [\"sh\", \"-c\", \"echo \\\"q\\\" \\u00e9\"]\n");
        ck_assert(j->insns[1].json);
        ck_args(&j->insns[1], "sh|-c|echo \"q\" é");
}
END_TEST

START_TEST(test_env_label_arg)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM busybox\n"
                                                            "ENV A=1 B=\"two words\" C=x\\ y D='$lit' E=\n"
                                                            "ENV OLD the rest  of the line\n"
                                                            "LABEL \"com.example.vendor\"=\"ACME\" multi=\"a \\\n"
                                                            "b\"\n"
                                                            "LABEL old value here\n"
                                                            "ARG NOVAL\n"
                                                            "ARG V=1 W X=\"q q\"\n");
        const struct df_insn *env = &df->insns[1];
        ck_assert_uint_eq(env->nkv, 5);
        ck_assert_str_eq(env->kv[0].key, "A");
        ck_assert_str_eq(env->kv[0].value, "1");
        ck_assert_str_eq(env->kv[1].value, "\"two words\"");
        ck_assert_str_eq(env->kv[2].value, "x\\ y");
        ck_assert_str_eq(env->kv[3].value, "'$lit'");
        ck_assert_str_eq(env->kv[4].key, "E");
        ck_assert_str_eq(env->kv[4].value, "");
        ck_assert_str_eq(df->insns[2].kv[0].key, "OLD");
        ck_assert_str_eq(df->insns[2].kv[0].value, "the rest  of the line");
        ck_assert_uint_eq(df->insns[3].nkv, 2);
        ck_assert_str_eq(df->insns[3].kv[0].key, "\"com.example.vendor\"");
        ck_assert_str_eq(df->insns[3].kv[1].value, "\"a b\"");
        ck_assert_str_eq(df->insns[4].kv[0].key, "old");
        ck_assert_str_eq(df->insns[4].kv[0].value, "value here");
        ck_assert_ptr_null(df->insns[5].kv[0].value);
        ck_assert_uint_eq(df->insns[6].nkv, 3);
        ck_assert_str_eq(df->insns[6].kv[0].value, "1");
        ck_assert_ptr_null(df->insns[6].kv[1].value);
        ck_assert_str_eq(df->insns[6].kv[2].value, "\"q q\"");

        ck_parse_err("FROM busybox\nENV\n", "Dockerfile:2: ENV requires at least one argument");
        ck_parse_err("FROM busybox\nENV ONLYKEY\n", "Dockerfile:2: ENV must have two arguments");
        ck_parse_err("FROM busybox\nENV A=1 B\n",
                     "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value");
        ck_parse_err("FROM busybox\nENV =x\n", "Dockerfile:2: ENV names can not be blank");
        ck_parse_err("FROM busybox\nLABEL\n", "Dockerfile:2: LABEL requires at least one argument");
        ck_parse_err("FROM busybox\nARG\n", "Dockerfile:2: ARG requires at least one argument");
        ck_parse_err("FROM busybox\nARG =1\n", "Dockerfile:2: ARG names can not be blank");
}
END_TEST

START_TEST(test_copy_add_flags)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM busybox\n"
                                                            "COPY --chown=1000:1000 --chmod=640 a b c /dest/\n"
                                                            "COPY [\"with space\", \"/d st/\"]\n"
                                                            "ADD --chown=app src.tar.gz /opt\n"
                                                            "COPY --link --from=0 /x /y\n"
                                                            "COPY -- --weird /y\n");
        ck_assert_str_eq(df_insn_flag(&df->insns[1], "chown"), "1000:1000");
        ck_assert_str_eq(df_insn_flag(&df->insns[1], "chmod"), "640");
        ck_args(&df->insns[1], "a|b|c|/dest/");
        ck_assert(df->insns[2].json);
        ck_args(&df->insns[2], "with space|/d st/");
        ck_insn(&df->insns[3], DF_ADD, 4, false);
        ck_assert_str_eq(df_insn_flag(&df->insns[4], "link"), "");
        ck_assert_str_eq(df_insn_flag(&df->insns[4], "from"), "0");
        ck_args(&df->insns[5], "--weird|/y");

        ck_parse_err("FROM busybox\nCOPY onlyone\n",
                     "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination "
                     "could not be determined.");
        ck_parse_err("FROM busybox\nADD [\"x\"]\n",
                     "Dockerfile:2: ADD requires at least two arguments, but only one was provided. Destination "
                     "could not be determined.");
        ck_parse_err("FROM busybox\nADD --from=x a b\n", "Dockerfile:2: unknown flag: --from for ADD");
        ck_parse_err("FROM busybox\nCOPY --bogus a b\n", "Dockerfile:2: unknown flag: --bogus for COPY");
        ck_parse_err("FROM busybox\nCOPY --from=a --from=b a b\n", "Dockerfile:2: duplicate flag specified: --from");
        ck_parse_err("FROM busybox\nRUN --mount=type=cache,target=/x true\n",
                     "Dockerfile:2: RUN --mount is not supported by berth");
        ck_parse_err("FROM busybox\nRUN [\"a\", 1]\n",
                     "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
}
END_TEST

START_TEST(test_other_instructions)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM busybox AS Base\n"
                                                            "USER app:app\n"
                                                            "STOPSIGNAL SIGQUIT\n"
                                                            "EXPOSE 80/tcp 53/udp 8000-8002\n"
                                                            "SHELL [\"/bin/sh\", \"-ec\"]\n"
                                                            "HEALTHCHECK --interval=5s --retries=3 CMD wget -q -O- "
                                                            "localhost\n"
                                                            "HEALTHCHECK NONE\n"
                                                            "HEALTHCHECK CMD [\"true\"]\n"
                                                            "ONBUILD RUN echo triggered\n"
                                                            "onbuild copy . /app\n"
                                                            "RUN --network=none true\n");
        ck_args(&df->insns[0], "busybox|AS|base");
        ck_args(&df->insns[1], "app:app");
        ck_args(&df->insns[3], "80/tcp|53/udp|8000-8002");
        ck_insn(&df->insns[4], DF_SHELL, 5, true);
        ck_args(&df->insns[4], "/bin/sh|-ec");
        ck_assert_str_eq(df_insn_flag(&df->insns[5], "interval"), "5s");
        ck_assert(!df->insns[5].healthcheck_none);
        ck_args(&df->insns[5], "wget -q -O- localhost");
        ck_assert(df->insns[6].healthcheck_none);
        ck_assert(df->insns[7].json);
        ck_args(&df->insns[7], "true");
        ck_args(&df->insns[8], "RUN echo triggered");
        ck_assert_ptr_nonnull(df->insns[8].trigger);
        ck_insn(df->insns[8].trigger, DF_RUN, 9, false);
        ck_args(df->insns[8].trigger, "echo triggered");
        ck_insn(df->insns[9].trigger, DF_COPY, 10, false);
        ck_assert_str_eq(df_insn_flag(&df->insns[10], "network"), "none");

        ck_parse_err("FROM busybox\nSHELL /bin/bash -c\n",
                     "Dockerfile:2: SHELL requires the arguments to be in JSON form");
        ck_parse_err("FROM busybox\nSHELL []\n", "Dockerfile:2: SHELL requires at least one argument");
        ck_parse_err("FROM busybox\nONBUILD ONBUILD RUN x\n",
                     "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        ck_parse_err("FROM busybox\nONBUILD FROM x\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
        ck_parse_err("FROM busybox\nONBUILD XYZZY x\n", "Dockerfile:2: unknown instruction: XYZZY");
        ck_parse_err("FROM busybox\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
        ck_parse_err("FROM busybox\nHEALTHCHECK CURL x\n",
                     "Dockerfile:2: Unknown type \"CURL\" in HEALTHCHECK (try CMD)");
        ck_parse_err("FROM busybox\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD");
        ck_parse_err("FROM busybox\nHEALTHCHECK --interval=1us CMD x\n",
                     "Dockerfile:2: HEALTHCHECK --interval cannot be less than 1ms");
        ck_parse_err("FROM busybox\nHEALTHCHECK --retries=-1 CMD x\n",
                     "Dockerfile:2: HEALTHCHECK --retries cannot be negative");
        ck_parse_err("FROM busybox\nUSER\n", "Dockerfile:2: USER requires exactly one argument");
        ck_parse_err("FROM busybox\nUSER a b\n", "Dockerfile:2: USER requires exactly one argument");
        ck_parse_err("FROM busybox\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument");
        ck_parse_err("FROM busybox\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument");
        ck_parse_err("FROM busybox\nVOLUME [\"\"]\n", "Dockerfile:2: VOLUME specified can not be an empty string");
        ck_parse_err("FROM busybox\nRUN\n", "Dockerfile:2: RUN requires at least one argument");
        ck_parse_err("FROM busybox AS 1abc\n",
                     "Dockerfile:1: invalid name for build stage: \"1abc\", name can't start with a number or "
                     "contain symbols");
        ck_parse_err("FROM busybox TO x\n", "Dockerfile:1: FROM requires either one or three arguments");
        ck_parse_err("", "Dockerfile: file with no instructions");
        ck_parse_err("# only a comment\n\n", "Dockerfile: file with no instructions");
}
END_TEST

START_TEST(test_heredocs)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok("FROM busybox\n"
                                                            "RUN <<EOF\n"
                                                            "echo one\n"
                                                            "echo two\n"
                                                            "EOF\n"
                                                            "COPY <<-'END' /etc/conf\n"
                                                            "\tkey=$VALUE\n"
                                                            "\tEND\n"
                                                            "RUN echo $((1<<2)) > /x\n"
                                                            "CMD [\"sh\"]\n");
        ck_assert_uint_eq(df->n, 5);
        ck_insn(&df->insns[1], DF_RUN, 2, false);
        ck_assert_uint_eq(df->insns[1].nheredocs, 1);
        ck_assert_str_eq(df->insns[1].heredocs[0].name, "EOF");
        ck_assert_str_eq(df->insns[1].heredocs[0].content, "echo one\necho two\n");
        ck_assert(df->insns[1].heredocs[0].expand);
        ck_insn(&df->insns[2], DF_COPY, 6, false);
        ck_assert_str_eq(df->insns[2].heredocs[0].content, "key=$VALUE\n");
        ck_assert(!df->insns[2].heredocs[0].expand);
        ck_assert(df->insns[2].heredocs[0].chomp);
        ck_assert_uint_eq(df->insns[3].nheredocs, 0);
        ck_insn(&df->insns[4], DF_CMD, 10, true);
        ck_parse_err("FROM busybox\nRUN <<EOF\necho\n", "Dockerfile:2: unterminated heredoc: no line \"EOF\" after it");
}
END_TEST

/* ---- expansion ---------------------------------------------------------------------- */

START_TEST(test_expand)
{
        char *env[] = { "NAME=world", "EMPTY=", "SP=a b", "PATH=/bin", "NAME=later", NULL };
        ck_expand("plain", env, "plain");
        ck_expand("$NAME", env, "later"); /* the last of a key wins */
        ck_expand("${NAME}x", env, "laterx");
        ck_expand("$NAMEx", env, "");
        ck_expand("a$UNSET.b", env, "a.b");
        ck_expand("${UNSET:-def}", env, "def");
        ck_expand("${EMPTY:-def}", env, "def");
        ck_expand("${EMPTY-def}", env, "");
        ck_expand("${UNSET-def}", env, "def");
        ck_expand("${NAME:-def}", env, "later");
        ck_expand("${NAME:+alt}", env, "alt");
        ck_expand("${EMPTY:+alt}", env, "");
        ck_expand("${EMPTY+alt}", env, "alt");
        ck_expand("${UNSET:+alt}", env, "");
        ck_expand("${UNSET:-$PATH/x}", env, "/bin/x");
        ck_expand("${UNSET:-a}b}", env, "ab}");
        ck_expand("${UNSET:-\"q}\"}", env, "q}");
        ck_expand("\\$NAME", env, "$NAME");
        ck_expand("\\${NAME}", env, "${NAME}");
        ck_expand("'$NAME'", env, "$NAME");
        ck_expand("\"$NAME $SP\"", env, "later a b");
        ck_expand("\"a\\\"b\\$c\\d\"", env, "a\"b$c\\d");
        ck_expand("x\\ y", env, "x y");
        ck_expand("$", env, "$");
        ck_expand("a$-b", env, "a$-b");
        ck_expand("$1", env, "");
        ck_expand("trailing\\", env, "trailing");
        ck_expand("", env, "");
        ck_expand("$NAME", NULL, "");

        char *out = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(df_expand("`$NAME ${NAME}", env, '`', &out, &err), 0);
        ck_assert_str_eq(out, "$NAME later");
        free(out);

        cleanup_free char *e1 = expand_err("\"open", env);
        ck_assert_str_eq(e1, "\"open: unexpected end of statement while looking for matching double-quote");
        cleanup_free char *e2 = expand_err("'open", env);
        ck_assert_str_eq(e2, "'open: unexpected end of statement while looking for matching single-quote");
        cleanup_free char *e3 = expand_err("${NAME", env);
        ck_assert_str_eq(e3, "${NAME: syntax error: missing '}'");
        cleanup_free char *e4 = expand_err("${UNSET:?must be set}", env);
        ck_assert_str_eq(e4, "${UNSET:?must be set}: UNSET: must be set");
        cleanup_free char *e5 = expand_err("${}", env);
        ck_assert_str_eq(e5, "${}: bad substitution: missing variable name after '${'");
        cleanup_free char *e6 = expand_err("${NAME%x}", env);
        ck_assert_str_eq(e6, "${NAME%x}: unsupported modifier (%) in substitution");
        cleanup_free char *e7 = expand_err("${UNSET:-abc", env);
        ck_assert_str_eq(e7, "${UNSET:-abc: syntax error: missing '}'");

        cleanup_free char *h = NULL;
        ck_assert_int_eq(df_expand_heredoc("v=$NAME '${SP}' \\$NAME\n", env, '\\', &h, &err), 0);
        ck_assert_str_eq(h, "v=later 'a b' $NAME\n");
}
END_TEST

/* ---- stages and ARG before FROM ---------------------------------------------------------- */

static int stages(const char *text, char *const *build_args, struct df_stage **st, size_t *n, char ***meta,
                  berth_error_t *err)
{
        cleanup_dockerfile struct dockerfile *df = parse_ok(text);
        return dockerfile_stages(df, "Dockerfile", build_args, st, n, meta, err);
}

START_TEST(test_stages_meta_args)
{
        const char *text = "# syntax=docker/dockerfile:1\n"
                           "ARG TAG=latest\n"
                           "ARG BASE=busy${TAG:+box}\n"
                           "ARG UNSET\n"
                           "FROM ${BASE}:${TAG} AS first\n"
                           "ARG TAG\n"
                           "RUN echo $TAG\n"
                           "FROM first\n"
                           "FROM --platform=linux/${ARCH:-amd64} $UNSET${BASE}\n";
        struct df_stage *st = NULL;
        size_t n = 0;
        cleanup_strv char **meta = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(stages(text, NULL, &st, &n, &meta, &err), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(st[0].base, "busybox:latest");
        ck_assert_int_eq(st[0].base_stage, -1);
        ck_assert_uint_eq(st[0].from, 3);
        ck_assert_uint_eq(st[0].end, 6);
        ck_assert_str_eq(st[1].base, "first");
        ck_assert_int_eq(st[1].base_stage, 0);
        ck_assert_str_eq(st[2].base, "busybox");
        ck_assert_str_eq(st[2].platform, "linux/amd64");
        cleanup_free char *m = joined(meta);
        ck_assert_str_eq(m, "TAG=latest|BASE=busybox");
        df_stages_free(st, n);

        /* build args override the defaults, also for the ARGs after them */
        char *ba[] = { "TAG=1.36", "UNSET=x", "OTHER=y", NULL };
        cleanup_strv char **meta2 = NULL;
        ck_assert_int_eq(stages(text, ba, &st, &n, &meta2, &err), 0);
        ck_assert_str_eq(st[0].base, "busybox:1.36");
        ck_assert_str_eq(st[2].base, "xbusybox");
        cleanup_free char *m2 = joined(meta2);
        ck_assert_str_eq(m2, "TAG=1.36|BASE=busybox|UNSET=x");
        df_stages_free(st, n);
}
END_TEST

START_TEST(test_stages_errors)
{
        struct df_stage *st = NULL;
        size_t n = 0;
        berth_error_t err = NULL;
        ck_assert_int_lt(stages("ARG A\nRUN true\nFROM busybox\n", NULL, &st, &n, NULL, &err), 0);
        ck_assert_str_eq(err->msg, "Dockerfile:2: no build stage in current context: the first instruction must be "
                                   "FROM (only ARG may come before it)");
        berth_error_free(&err);
        ck_assert_int_lt(stages("ARG A\n", NULL, &st, &n, NULL, &err), 0);
        ck_assert_str_eq(err->msg, "Dockerfile: no FROM instruction: nothing to build");
        berth_error_free(&err);
        ck_assert_int_lt(stages("ARG B\nFROM ${B}\n", NULL, &st, &n, NULL, &err), 0);
        ck_assert_str_eq(err->msg, "Dockerfile:2: base name (${B}) should not be blank");
        berth_error_free(&err);
        ck_assert_int_lt(stages("FROM a AS x\nFROM b AS X\n", NULL, &st, &n, NULL, &err), 0);
        ck_assert_str_eq(err->msg, "Dockerfile:2: duplicate stage name \"x\"");
        berth_error_free(&err);
        ck_assert_int_lt(stages("FROM \"busybox\n", NULL, &st, &n, NULL, &err), 0);
        ck_assert_str_eq(err->msg, "Dockerfile:1: \"busybox: unexpected end of statement while looking for "
                                   "matching double-quote");
        berth_error_free(&err);
        /* an ENV before FROM is no more allowed than RUN */
        ck_assert_int_lt(stages("ENV A=1\nFROM busybox\n", NULL, &st, &n, NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "Dockerfile:1: no build stage"));
        berth_error_free(&err);
}
END_TEST

START_TEST(test_parse_line_trigger)
{
        struct df_insn in;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(df_insn_parse_line("COPY --chown=1:1 . /app", "ONBUILD", 7, &in, &err), 0);
        ck_insn(&in, DF_COPY, 7, false);
        ck_assert_str_eq(df_insn_flag(&in, "chown"), "1:1");
        ck_assert_str_eq(in.text, "COPY --chown=1:1 . /app");
        df_insn_clear(&in);
        ck_assert_int_lt(df_insn_parse_line("BOGUS x", "ONBUILD", 3, &in, &err), 0);
        ck_assert_str_eq(err->msg, "ONBUILD:3: unknown instruction: BOGUS");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dockerfile");
        TCase *tc = tcase_create("seeds");
        tcase_add_test(tc, test_seed_flask_entrypoint);
        tcase_add_test(tc, test_seed_alpine_continuation);
        tcase_add_test(tc, test_seed_ping_and_volume);
        tcase_add_test(tc, test_seed_http_server);
        tcase_add_test(tc, test_seed_env_version_and_multistage);
        tcase_add_test(tc, test_seed_typos_are_errors);
        tcase_add_test(tc, test_seed_hello_docker_shapes);
        suite_add_tcase(s, tc);
        tc = tcase_create("syntax");
        tcase_add_test(tc, test_directives);
        tcase_add_test(tc, test_comments_continuations);
        tcase_add_test(tc, test_env_label_arg);
        tcase_add_test(tc, test_copy_add_flags);
        tcase_add_test(tc, test_other_instructions);
        tcase_add_test(tc, test_heredocs);
        tcase_add_test(tc, test_parse_line_trigger);
        suite_add_tcase(s, tc);
        tc = tcase_create("expansion");
        tcase_add_test(tc, test_expand);
        tcase_add_test(tc, test_stages_meta_args);
        tcase_add_test(tc, test_stages_errors);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
