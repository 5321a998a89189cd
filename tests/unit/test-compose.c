/* Unit tests: compose files (compose.h) — the YAML tree with lines,
 * interpolation and .env, the short syntaxes, the merge of several files,
 * the project's name, profiles and names, file discovery, the canonical
 * output of `compose config`, and every error with FILE:LINE.  Runs under
 * valgrind in CI (CK_FORK=no), so everything is freed. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/compose-internal.h"
#include "berth/util.h"
#include "check-main.h"
#include "tmpdir-fixture.h"

static void setup(void)
{
        tmpdir_make("compose");
}

static void teardown(void)
{
        tmpdir_remove();
}

static char *env_default[] = { "HOME=/home/u", "TAG=1.2", "EMPTY=", NULL };

static void write_in(const char *dir, const char *name, const char *text)
{
        cleanup_free char *d = *dir ? xasprintf("%s/%s", tmpdir, dir) : xstrdup(tmpdir);
        ck_assert_int_eq(mkdir_p(d, 0755, NULL), 0);
        cleanup_free char *p = xasprintf("%s/%s", d, name);
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0644, NULL), 0);
}

/* Replace every tmpdir in s by "DIR" (frees s). */
static char *undir(char *s)
{
        struct strbuf b = {};
        size_t l = strlen(tmpdir);
        for (const char *p = s; *p;) {
                if (strncmp(p, tmpdir, l) == 0) {
                        strbuf_adds(&b, "DIR");
                        p += l;
                } else
                        strbuf_addc(&b, *p++);
        }
        free(s);
        return b.s ? strbuf_steal(&b) : xstrdup("");
}

static int load(struct compose_options *o, struct compose_project **p, berth_error_t *err)
{
        if (!o->workdir)
                o->workdir = tmpdir;
        if (!o->environ)
                o->environ = env_default;
        return compose_load(o, p, err);
}

/* The error of loading compose.yaml = text, with tmpdir as "DIR". */
static char *load_err(const char *text)
{
        write_in("", "compose.yaml", text);
        struct compose_options o = {};
        struct compose_project *p = NULL;
        berth_error_t err = NULL;
        int r = load(&o, &p, &err);
        ck_assert_msg(r < 0, "loading succeeded:\n%s", text);
        ck_assert_ptr_null(p);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return undir(m);
}

static char *config_opts(struct compose_options *o)
{
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        int r = load(o, &p, &err);
        ck_assert_msg(r == 0, "compose_load: %s", err ? err->msg : "?");
        char *y = compose_config_yaml(p, &err);
        ck_assert_ptr_nonnull(y);
        compose_project_free(p);
        return undir(y);
}

static char *config_of(const char *text)
{
        write_in("", "compose.yaml", text);
        struct compose_options o = {};
        return config_opts(&o);
}

#define assert_config(text, expected)                    \
        do {                                             \
                cleanup_free char *_y = config_of(text); \
                ck_assert_str_eq(_y, expected);          \
        } while (0)

/* ---- interpolation ----------------------------------------------------- */

static char *interp(const char *s)
{
        cleanup_cnode struct cnode *at = cnode_new(CNODE_SCALAR, "compose.yaml", 7);
        char *out = NULL;
        cleanup_error berth_error_t err = NULL;
        int r = compose_interpolate(s, env_default, at, &out, &err);
        ck_assert_msg(r == 0, "interpolate %s: %s", s, err ? err->msg : "?");
        return out;
}

static char *interp_err(const char *s)
{
        cleanup_cnode struct cnode *at = cnode_new(CNODE_SCALAR, "compose.yaml", 7);
        char *out = NULL;
        berth_error_t err = NULL;
        ck_assert_int_lt(compose_interpolate(s, env_default, at, &out, &err), 0);
        ck_assert_ptr_null(out);
        char *m = xstrdup(err->msg);
        berth_error_free(&err);
        return m;
}

#define assert_interp(in, expected)                 \
        do {                                        \
                cleanup_free char *_o = interp(in); \
                ck_assert_str_eq(_o, expected);     \
        } while (0)
#define assert_interp_err(in, expected)                 \
        do {                                            \
                cleanup_free char *_o = interp_err(in); \
                ck_assert_str_eq(_o, expected);         \
        } while (0)

START_TEST(test_interpolate_forms)
{
        assert_interp("plain", "plain");
        assert_interp("$HOME/x", "/home/u/x");
        assert_interp("${HOME}x", "/home/ux");
        assert_interp("img:$TAG-${TAG}", "img:1.2-1.2");
        assert_interp("$UNSET|${UNSET}", "|");
        assert_interp("${UNSET:-def}", "def");
        assert_interp("${EMPTY:-def}", "def");
        assert_interp("${EMPTY-def}", "");
        assert_interp("${UNSET-def}", "def");
        assert_interp("${TAG:-def}", "1.2");
        assert_interp("${TAG:+alt}", "alt");
        assert_interp("${EMPTY:+alt}", "");
        assert_interp("${EMPTY+alt}", "alt");
        assert_interp("${UNSET+alt}", "");
        assert_interp("${TAG:?no}", "1.2");
        assert_interp("${EMPTY?no}", "");
        assert_interp("${UNSET:-${HOME}}", "/home/u");
        assert_interp("${UNSET:-${NOPE:-deep}}", "deep");
        assert_interp("${UNSET:-a}}", "a}");
        assert_interp("$$HOME and $${TAG}", "$HOME and ${TAG}");
        assert_interp("cost: 5$ or $1 or $-", "cost: 5$ or $1 or $-");
        assert_interp("", "");
}
END_TEST

START_TEST(test_interpolate_errors)
{
        assert_interp_err("${UNSET:?set UNSET first}", "compose.yaml:7: required variable UNSET is missing a value: set UNSET first");
        assert_interp_err("${EMPTY:?}", "compose.yaml:7: required variable EMPTY is missing a value");
        assert_interp_err("${UNSET?in $HOME}", "compose.yaml:7: required variable UNSET is missing a value: in /home/u");
        assert_interp_err("${TAG", "compose.yaml:7: invalid interpolation format in \"${TAG\" (a literal $ is written $$)");
        assert_interp_err("${}", "compose.yaml:7: invalid interpolation format in \"${}\" (a literal $ is written $$)");
        assert_interp_err("${1A}", "compose.yaml:7: invalid interpolation format in \"${1A}\" (a literal $ is written $$)");
        assert_interp_err("${A/b/c}", "compose.yaml:7: invalid interpolation format in \"${A/b/c}\" (a literal $ is written $$)");
        assert_interp_err("${A:}", "compose.yaml:7: invalid interpolation format in \"${A:}\" (a literal $ is written $$)");
        assert_interp_err("${UNSET:-${X}", "compose.yaml:7: invalid interpolation format in \"${UNSET:-${X}\" (a literal $ is written $$)");
}
END_TEST

START_TEST(test_dotenv)
{
        write_in("", ".env", "# comment\n\nA=1\nexport B = two words # comment\nC='lit $x # no'\nD=\"q\\n\\\"x\\\"\"\nE=\nF\nA=override\r\n");
        cleanup_free char *p = xasprintf("%s/.env", tmpdir);
        cleanup_strv char **v = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(compose_dotenv_read(p, ".env", NULL, &v, &err), 0);
        ck_assert_int_eq(strv_length(v), 5);
        ck_assert_str_eq(v[0], "A=override");
        ck_assert_str_eq(v[1], "B=two words");
        ck_assert_str_eq(v[2], "C=lit $x # no");
        ck_assert_str_eq(v[3], "D=q\n\"x\"");
        ck_assert_str_eq(v[4], "E=");

        write_in("", ".env", "A=1\n=x\n");
        strv_free(steal_pointer(&v));
        ck_assert_int_lt(compose_dotenv_read(p, ".env", NULL, &v, &err), 0);
        ck_assert_str_eq(err->msg, ".env:2: invalid variable name in \"=x\"");
        berth_error_free(&err);
        write_in("", ".env", "A B\n");
        ck_assert_int_lt(compose_dotenv_read(p, ".env", NULL, &v, &err), 0);
        ck_assert_str_eq(err->msg, ".env:1: invalid variable name in \"A B\"");
        berth_error_free(&err);
        write_in("", ".env", "A='open\n");
        ck_assert_int_lt(compose_dotenv_read(p, ".env", NULL, &v, &err), 0);
        ck_assert_str_eq(err->msg, ".env:1: unterminated quoted value");
        berth_error_free(&err);
        /* values are interpolated from the lines before, then the environment; '...' is literal */
        write_in("", ".env", "A=1\nB=${A}-$TAG-${NOPE:-d}\nC=\"$A\"\nD='$A'\nE=${X:?needs X}\n");
        ck_assert_int_lt(compose_dotenv_read(p, ".env", env_default, &v, &err), 0);
        ck_assert_str_eq(err->msg, ".env:5: required variable X is missing a value: needs X");
        strv_free(steal_pointer(&v));
        write_in("", ".env", "A=1\nB=${A}-$TAG-${NOPE:-d}\nC=\"$A\"\nD='$A'\nHOME=${HOME}/x\n");
        ck_assert_int_eq(compose_dotenv_read(p, ".env", env_default, &v, &err), 0);
        ck_assert_str_eq(v[1], "B=1-1.2-d");
        ck_assert_str_eq(v[2], "C=1");
        ck_assert_str_eq(v[3], "D=$A");
        ck_assert_str_eq(v[4], "HOME=/home/u/x");
}
END_TEST

START_TEST(test_dotenv_in_project)
{
        write_in("", ".env", "IMG=from-dotenv\nTAG=from-dotenv\nCOMPOSE_PROJECT_NAME=fromenv\n");
        /* the environment (TAG=1.2) wins over .env */
        assert_config("services:\n  web:\n    image: ${IMG}:${TAG}\n",
                      "name: fromenv\nservices:\n  web:\n    image: from-dotenv:1.2\n    networks:\n      default: null\n"
                      "networks:\n  default:\n    name: fromenv_default\n");
        /* --env-file instead of .env, relative to the working directory */
        write_in("sub", "other.env", "IMG=other\n");
        struct compose_options o = { .env_file = "sub/other.env" };
        cleanup_free char *y = config_opts(&o);
        ck_assert_ptr_nonnull(strstr(y, "image: other:1.2\n"));
        ck_assert_ptr_nonnull(strstr(y, "name: "));
        /* a missing --env-file is an error */
        struct compose_options o2 = { .env_file = "nope.env" };
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(load(&o2, &p, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "nope.env"));
}
END_TEST

/* ---- YAML -------------------------------------------------------------- */

START_TEST(test_yaml_tree)
{
        cleanup_cnode struct cnode *t = NULL;
        cleanup_error berth_error_t err = NULL;
        const char *y = "x-base: &base\n  image: busybox\n  restart: always\nservices:\n  a:\n    <<: *base\n"
                        "    restart: \"no\"\n  b: *base\nlist: [1, '2', ~]\n";
        ck_assert_int_eq(compose_yaml_parse(y, strlen(y), "c.yaml", &t, &err), 0);
        struct cnode *a = cnode_get(cnode_get(t, "services"), "a");
        ck_assert_str_eq(cnode_get(a, "image")->value, "busybox");
        ck_assert_str_eq(cnode_get(a, "restart")->value, "no");
        ck_assert(cnode_get(a, "restart")->quoted);
        ck_assert_uint_eq(cnode_get(a, "image")->line, 2);
        ck_assert_str_eq(cnode_get(cnode_get(cnode_get(t, "services"), "b"), "restart")->value, "always");
        struct cnode *l = cnode_get(t, "list");
        ck_assert_int_eq(l->kind, CNODE_SEQ);
        ck_assert_int_eq(l->items[2]->kind, CNODE_NULL);
        ck_assert(l->items[1]->quoted);
        ck_assert(!l->items[0]->quoted);
}
END_TEST

static void assert_yaml_err(const char *y, const char *expected)
{
        cleanup_cnode struct cnode *t = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(compose_yaml_parse(y, strlen(y), "c.yaml", &t, &err), 0);
        ck_assert_ptr_null(t);
        ck_assert_str_eq(err->msg, expected);
}

START_TEST(test_yaml_errors)
{
        assert_yaml_err("services:\n  web:\n   image: x\n  - bad\n",
                        "c.yaml:4: did not find expected key while parsing a block mapping");
        assert_yaml_err("- a\n- b\n", "c.yaml:1: a compose file must be a mapping at the top");
        assert_yaml_err("a: 1\na: 2\n", "c.yaml:2: mapping key \"a\" already defined");
        assert_yaml_err("? [a]\n: 1\n", "c.yaml:1: a mapping key must be a string");
        assert_yaml_err("a:\n  <<: [1]\n", "c.yaml:2: the value of the merge key << must be a mapping");
        assert_yaml_err("a: *nope\n", "c.yaml:1: found undefined alias");
        /* a billion laughs stops at the node bound */
        const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                           "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        cleanup_cnode struct cnode *t = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(compose_yaml_parse(bomb, strlen(bomb), "c.yaml", &t, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "nodes once aliases are expanded"));
        /* empty documents are empty mappings */
        cleanup_cnode struct cnode *e = NULL;
        ck_assert_int_eq(compose_yaml_parse("", 0, "c.yaml", &e, NULL), 0);
        ck_assert_int_eq(e->kind, CNODE_MAP);
}
END_TEST

START_TEST(test_yaml_emit_quotes)
{
        cleanup_cnode struct cnode *m = cnode_new(CNODE_MAP, NULL, 0);
        const char *strs[] = { "8080", "1.5", "true", "no", "", "0x1f", "1e3", "30s", "127.0.0.1", "a: b", "null" };
        for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
                cleanup_free char *k = xasprintf("k%zu", i);
                cnode_set(m, k, cnode_scalar(strs[i], CSCALAR_STR, NULL, 0));
        }
        cnode_set(m, "n", cnode_scalar("5", CSCALAR_INT, NULL, 0));
        cleanup_free char *y = compose_yaml_emit(m, NULL);
        ck_assert_str_eq(y, "k0: \"8080\"\nk1: \"1.5\"\nk2: \"true\"\nk3: \"no\"\nk4: \"\"\nk5: \"0x1f\"\nk6: \"1e3\"\n"
                            "k7: 30s\nk8: 127.0.0.1\nk9: 'a: b'\nk10: \"null\"\n\"n\": 5\n");
        cleanup_free char *j = compose_json_emit(m);
        ck_assert_ptr_nonnull(strstr(j, "\"k0\": \"8080\""));
        ck_assert_ptr_nonnull(strstr(j, "\"n\": 5"));
}
END_TEST

/* ---- the model and config ---------------------------------------------- */

START_TEST(test_config_canonical)
{
        write_in("", "token.txt", "s3cret\n");
        write_in("", "web.env", "FROM_FILE=1\nFOO=from-file\n");
        write_in("", "compose.yaml",
                "services:\n"
                "  web:\n"
                "    build: ./app\n"
                "    command: python app.py --name \"a b\" 'c d'\n"
                "    entrypoint: [\"/bin/sh\", \"-c\"]\n"
                "    ports: [\"8000:5000\", \"127.0.0.1:9000-9001:9000-9001/udp\", 3000, \"[::1]:53:53/udp\"]\n"
                "    expose: [3306, \"33060\"]\n"
                "    environment: [FOO=bar, HOME, NOT_SET]\n"
                "    env_file: web.env\n"
                "    volumes: [\"./data:/data\", \"db:/var/lib/db:ro\", \"/anon\", \"~/cfg:/cfg:ro,z\"]\n"
                "    depends_on: {db: {condition: service_healthy}}\n"
                "    healthcheck: {test: curl -f http://x, interval: 90s, timeout: 5s, retries: 3, start_period: 1m, "
                "start_interval: 2s}\n"
                "    deploy: {resources: {limits: {memory: 256m, cpus: '0.5', pids: 100}, reservations: {memory: 64m}}}\n"
                "    mem_limit: 1g\n"
                "    cpus: 1.5\n"
                "    pids_limit: 50\n"
                "    user: \"1000:1000\"\n"
                "    working_dir: /app\n"
                "    hostname: web\n"
                "    labels: {b: \"2\", a: x}\n"
                "    cap_add: [NET_ADMIN]\n"
                "    cap_drop: [ALL]\n"
                "    privileged: false\n"
                "    read_only: true\n"
                "    security_opt: [no-new-privileges:true]\n"
                "    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}\n"
                "    stop_signal: SIGINT\n"
                "    stop_grace_period: 1m30s\n"
                "    init: true\n"
                "    restart: on-failure:3\n"
                "    secrets: [token, {source: token, target: /etc/tok}]\n"
                "    networks: {front: {aliases: [w]}, back: null}\n"
                "  db:\n"
                "    image: postgres:16\n"
                "    networks: [back]\n"
                "    healthcheck: {disable: true}\n"
                "volumes:\n"
                "  db:\n"
                "  ext: {external: true}\n"
                "networks:\n"
                "  front:\n"
                "  back: {name: custom-back, internal: true}\n"
                "secrets:\n"
                "  token: {file: token.txt}\n");
        struct compose_options o = { .project_name = "demo" };
        cleanup_free char *y = config_opts(&o);
        ck_assert_str_eq(y,
                         "name: demo\n"
                         "services:\n"
                         "  db:\n"
                         "    healthcheck:\n"
                         "      disable: true\n"
                         "    image: postgres:16\n"
                         "    networks:\n"
                         "      back: null\n"
                         "  web:\n"
                         "    build:\n"
                         "      context: DIR/app\n"
                         "      dockerfile: Dockerfile\n"
                         "    cap_add:\n"
                         "    - NET_ADMIN\n"
                         "    cap_drop:\n"
                         "    - ALL\n"
                         "    command:\n"
                         "    - python\n"
                         "    - app.py\n"
                         "    - --name\n"
                         "    - a b\n"
                         "    - c d\n"
                         "    cpus: 1.5\n"
                         "    depends_on:\n"
                         "      db:\n"
                         "        condition: service_healthy\n"
                         "        required: true\n"
                         "    deploy:\n"
                         "      resources:\n"
                         "        limits:\n"
                         "          cpus: 0.5\n"
                         "          memory: \"268435456\"\n"
                         "          pids: 100\n"
                         "        reservations:\n"
                         "          memory: \"67108864\"\n"
                         "    entrypoint:\n"
                         "    - /bin/sh\n"
                         "    - -c\n"
                         "    env_file:\n"
                         "    - path: DIR/web.env\n"
                         "      required: true\n"
                         "    environment:\n"
                         "      FOO: bar\n"
                         "      FROM_FILE: \"1\"\n"
                         "      HOME: /home/u\n"
                         "      NOT_SET: null\n"
                         "    expose:\n"
                         "    - \"3306\"\n"
                         "    - \"33060\"\n"
                         "    healthcheck:\n"
                         "      test:\n"
                         "      - CMD-SHELL\n"
                         "      - curl -f http://x\n"
                         "      timeout: 5s\n"
                         "      interval: 1m30s\n"
                         "      retries: 3\n"
                         "      start_period: 1m0s\n"
                         "      start_interval: 2s\n"
                         "    hostname: web\n"
                         "    init: true\n"
                         "    labels:\n"
                         "      a: x\n"
                         "      b: \"2\"\n"
                         "    mem_limit: \"1073741824\"\n"
                         "    networks:\n"
                         "      back: null\n"
                         "      front:\n"
                         "        aliases:\n"
                         "        - w\n"
                         "    pids_limit: 50\n"
                         "    ports:\n"
                         "    - mode: ingress\n"
                         "      target: 5000\n"
                         "      published: \"8000\"\n"
                         "      protocol: tcp\n"
                         "    - mode: ingress\n"
                         "      host_ip: 127.0.0.1\n"
                         "      target: 9000\n"
                         "      published: \"9000\"\n"
                         "      protocol: udp\n"
                         "    - mode: ingress\n"
                         "      host_ip: 127.0.0.1\n"
                         "      target: 9001\n"
                         "      published: \"9001\"\n"
                         "      protocol: udp\n"
                         "    - mode: ingress\n"
                         "      target: 3000\n"
                         "      protocol: tcp\n"
                         "    - mode: ingress\n"
                         "      host_ip: ::1\n"
                         "      target: 53\n"
                         "      published: \"53\"\n"
                         "      protocol: udp\n"
                         "    privileged: false\n"
                         "    read_only: true\n"
                         "    restart: on-failure:3\n"
                         "    secrets:\n"
                         "    - source: token\n"
                         "    - source: token\n"
                         "      target: /etc/tok\n"
                         "    security_opt:\n"
                         "    - no-new-privileges:true\n"
                         "    stop_grace_period: 1m30s\n"
                         "    stop_signal: SIGINT\n"
                         "    ulimits:\n"
                         "      nofile:\n"
                         "        soft: 20000\n"
                         "        hard: 40000\n"
                         "      nproc: 65535\n"
                         "    user: 1000:1000\n"
                         "    volumes:\n"
                         "    - type: bind\n"
                         "      source: DIR/data\n"
                         "      target: /data\n"
                         "      bind:\n"
                         "        create_host_path: true\n"
                         "    - type: volume\n"
                         "      source: db\n"
                         "      target: /var/lib/db\n"
                         "      read_only: true\n"
                         "      volume: {}\n"
                         "    - type: volume\n"
                         "      target: /anon\n"
                         "      volume: {}\n"
                         "    - type: bind\n"
                         "      source: /home/u/cfg\n"
                         "      target: /cfg\n"
                         "      read_only: true\n"
                         "      bind:\n"
                         "        selinux: z\n"
                         "        create_host_path: true\n"
                         "    working_dir: /app\n"
                         "networks:\n"
                         "  back:\n"
                         "    name: custom-back\n"
                         "    internal: true\n"
                         "  front:\n"
                         "    name: demo_front\n"
                         "volumes:\n"
                         "  db:\n"
                         "    name: demo_db\n"
                         "  ext:\n"
                         "    name: ext\n"
                         "    external: true\n"
                         "secrets:\n"
                         "  token:\n"
                         "    name: demo_token\n"
                         "    file: DIR/token.txt\n");
}
END_TEST

START_TEST(test_names)
{
        write_in("", "compose.yaml", "services:\n  web:\n    image: x\n    labels: [only]\n    environment: [HOME, NOPE]\n"
                                     "  db:\n    image: y\n    container_name: the-db\n");
        struct compose_options o = { .project_name = "shop" };
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->name, "shop");
        ck_assert_uint_eq(p->n_services, 2);
        ck_assert_str_eq(p->services[0].name, "db"); /* sorted */
        cleanup_free char *c1 = compose_container_name(p, compose_find_service(p, "web"), 1);
        cleanup_free char *c2 = compose_container_name(p, compose_find_service(p, "db"), 1);
        ck_assert_str_eq(c1, "shop-web-1");
        ck_assert_str_eq(c2, "the-db");
        /* a label without a value is empty; a variable without one is the environment's or null */
        const struct compose_service *web = compose_find_service(p, "web");
        ck_assert_str_eq(web->labels[0], "only=");
        ck_assert_str_eq(web->environment[0], "HOME=/home/u");
        ck_assert_str_eq(web->environment[1], "NOPE");
        ck_assert_ptr_null(compose_find_service(p, "nope"));
        ck_assert_uint_eq(p->n_networks, 1);
        ck_assert_str_eq(p->networks[0].name, "shop_default");
        compose_project_free(p);
}
END_TEST

START_TEST(test_project_name)
{
        /* the directory, normalised */
        write_in("My.App_2", "compose.yaml", "services:\n  web:\n    image: x\n");
        cleanup_free char *wd = xasprintf("%s/My.App_2", tmpdir);
        struct compose_options o = { .workdir = wd };
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->name, "myapp_2");
        compose_project_free(steal_pointer(&p));
        /* name: in the file, COMPOSE_PROJECT_NAME over it, -p over both */
        write_in("My.App_2", "compose.yaml", "name: filename\nservices:\n  web:\n    image: x\n");
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->name, "filename");
        compose_project_free(steal_pointer(&p));
        char *env[] = { "COMPOSE_PROJECT_NAME=fromenv", NULL };
        o.environ = env;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->name, "fromenv");
        compose_project_free(steal_pointer(&p));
        o.project_name = "fromflag";
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->name, "fromflag");
        compose_project_free(steal_pointer(&p));
        o.project_name = "Bad Name";
        ck_assert_int_lt(load(&o, &p, &err), 0);
        ck_assert_str_eq(err->msg, "invalid project name \"Bad Name\": only lowercase letters, digits, - and _, "
                                   "starting with a letter or digit");
        berth_error_free(&err);
        /* a directory with nothing usable */
        write_in("___", "compose.yaml", "services:\n  web:\n    image: x\n");
        cleanup_free char *wd2 = xasprintf("%s/___", tmpdir);
        struct compose_options o2 = { .workdir = wd2 };
        ck_assert_int_lt(load(&o2, &p, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "use -p NAME"));
}
END_TEST

START_TEST(test_find_files)
{
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        struct compose_options o = {};
        ck_assert_int_lt(load(&o, &p, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "no configuration file provided: not found"));
        berth_error_free(&err);

        write_in("", "docker-compose.yml", "services:\n  old:\n    image: x\n");
        write_in("", "docker-compose.override.yml", "services:\n  old:\n    image: overridden\n");
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->files[0], "docker-compose.yml");
        ck_assert_str_eq(p->files[1], "docker-compose.override.yml");
        ck_assert_str_eq(p->services[0].image, "overridden");
        compose_project_free(steal_pointer(&p));

        /* compose.yaml first; its override is compose.override.yaml; from a subdirectory too */
        write_in("", "compose.yaml", "services:\n  new:\n    image: x\n");
        write_in("", "compose.override.yaml", "services:\n  new:\n    environment: [A=1]\n");
        write_in("sub/deeper", "README", "x");
        cleanup_free char *sub = xasprintf("%s/sub/deeper", tmpdir);
        o.workdir = sub;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_str_eq(p->dir, tmpdir);
        ck_assert_uint_eq(strv_length(p->files), 2);
        ck_assert_str_eq(p->services[0].name, "new");
        ck_assert_str_eq(p->services[0].environment[0], "A=1");
        compose_project_free(steal_pointer(&p));

        /* COMPOSE_FILE names the files when -f does not */
        write_in("alt", "one.yaml", "services:\n  one:\n    image: x\n");
        write_in("alt", "two.yaml", "services:\n  two:\n    image: x\n");
        char *env[] = { "COMPOSE_FILE=alt/one.yaml:alt/two.yaml", NULL };
        struct compose_options o2 = { .environ = env };
        ck_assert_int_eq(load(&o2, &p, &err), 0);
        ck_assert_uint_eq(p->n_services, 2);
        cleanup_free char *alt = xasprintf("%s/alt", tmpdir);
        ck_assert_str_eq(p->dir, alt);
        compose_project_free(steal_pointer(&p));
}
END_TEST

START_TEST(test_merge)
{
        write_in("", "a.yaml",
                 "services:\n  web:\n    image: a\n    command: [a, b]\n    environment: {A: '1', B: '2'}\n"
                 "    ports: ['8080:80', '9090:90']\n    volumes: ['foo:/work', './x:/x']\n    cap_add: [NET_ADMIN]\n"
                 "    labels: [l1=a]\n    healthcheck: {test: [CMD, a], interval: 5s}\n    expose: ['1']\n"
                 "    dns: 1.1.1.1\nvolumes: {foo: {}, bar: {}}\n");
        write_in("", "b.yaml",
                 "services:\n  web:\n    image: b\n    command: c\n    environment: [B=3, C=4]\n"
                 "    ports: [{target: 80, published: '8080', protocol: tcp}, '7070:70']\n"
                 "    volumes: ['bar:/work']\n    cap_add: [NET_ADMIN, SYS_TIME]\n    labels: {l2: b}\n"
                 "    healthcheck: {test: [CMD, b]}\n    expose: !reset []\n  extra:\n    image: e\n");
        char *files[] = { "a.yaml", "b.yaml", NULL };
        struct compose_options o = { .files = files, .project_name = "m" };
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        const struct compose_service *w = compose_find_service(p, "web");
        ck_assert_str_eq(w->image, "b");
        ck_assert_uint_eq(strv_length(w->command), 1);
        ck_assert_str_eq(w->command[0], "c");
        ck_assert_uint_eq(strv_length(w->environment), 3);
        ck_assert(strv_contains(w->environment, "A=1") && strv_contains(w->environment, "B=3") &&
                  strv_contains(w->environment, "C=4"));
        ck_assert_uint_eq(w->n_ports, 3); /* 8080:80 merged, 9090:90 kept, 7070:70 added */
        ck_assert_uint_eq(w->n_volumes, 2);
        ck_assert_str_eq(w->volumes[0].source, "bar");
        ck_assert_uint_eq(strv_length(w->cap_add), 2);
        ck_assert_uint_eq(strv_length(w->labels), 2);
        ck_assert_str_eq(w->healthcheck->test[1], "b");
        ck_assert_int_eq(w->healthcheck->interval, 5000000000LL);
        ck_assert_ptr_null(w->expose);
        ck_assert_str_eq(w->dns[0], "1.1.1.1");
        ck_assert_ptr_nonnull(compose_find_service(p, "extra"));
        compose_project_free(steal_pointer(&p));

        /* !override replaces a list; !reset removes a key of a mapping */
        write_in("", "c.yaml", "services:\n  web:\n    ports: !override ['1:1']\n    environment: {A: !reset null}\n");
        char *files2[] = { "a.yaml", "c.yaml", NULL };
        o.files = files2;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        w = compose_find_service(p, "web");
        ck_assert_uint_eq(w->n_ports, 1);
        ck_assert_str_eq(w->ports[0].published, "1");
        ck_assert_uint_eq(strv_length(w->environment), 1);
        ck_assert_str_eq(w->environment[0], "B=2");
        compose_project_free(p);
}
END_TEST

START_TEST(test_profiles)
{
        write_in("", "compose.yaml",
                 "services:\n  web:\n    image: x\n  debug:\n    image: d\n    profiles: [dbg]\n"
                 "  tools:\n    image: t\n    profiles: [tools, dbg]\n");
        struct compose_options o = {};
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_uint_eq(p->n_services, 1);
        compose_project_free(steal_pointer(&p));
        char *prof[] = { "tools", NULL };
        o.profiles = prof;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_uint_eq(p->n_services, 2);
        ck_assert_ptr_nonnull(compose_find_service(p, "tools"));
        compose_project_free(steal_pointer(&p));
        char *all[] = { "*", NULL };
        o.profiles = all;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_uint_eq(p->n_services, 3);
        compose_project_free(steal_pointer(&p));
        char *env[] = { "COMPOSE_PROFILES=x,dbg", NULL };
        o.profiles = NULL;
        o.environ = env;
        ck_assert_int_eq(load(&o, &p, &err), 0);
        ck_assert_uint_eq(p->n_services, 3);
        compose_project_free(p);
}
END_TEST

START_TEST(test_stdin_file)
{
        /* "-" reads stdin; the project directory is the working directory */
        write_in("", "in.yaml", "services:\n  s:\n    image: x\n    volumes: [./d:/d]\n");
        cleanup_free char *in = xasprintf("%s/in.yaml", tmpdir);
        int saved = dup(STDIN_FILENO);
        ck_assert(freopen(in, "r", stdin) != NULL);
        char *files[] = { "-", NULL };
        struct compose_options o = { .files = files, .project_name = "p" };
        struct compose_project *p = NULL;
        cleanup_error berth_error_t err = NULL;
        int r = load(&o, &p, &err);
        dup2(saved, STDIN_FILENO);
        close(saved);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        cleanup_free char *want = xasprintf("%s/d", tmpdir);
        ck_assert_str_eq(p->services[0].volumes[0].source, want);
        compose_project_free(p);
}
END_TEST

struct err_case {
        const char *yaml, *msg;
};

static const struct err_case err_cases[] = {
        { "services:\n  web:\n    image: x\n    configs: [a]\n", "compose.yaml:4: services.web.configs: not supported by berth" },
        { "include: [a.yaml]\nservices: {web: {image: x}}\n", "compose.yaml:1: include: not supported by berth" },
        { "services: []\n", "compose.yaml:1: services must be a mapping" },
        { "services:\n", "compose.yaml: no service is defined (services: is empty)" },
        { "services:\n  web: 3\n", "compose.yaml:2: service \"web\" must be a mapping" },
        { "services:\n  bad name:\n    image: x\n", "compose.yaml:3: invalid service name \"bad name\"" },
        { "services:\n  web:\n    image: x\n    container_name: \"-x\"\n", "compose.yaml:4: invalid container name \"-x\": only [a-zA-Z0-9][a-zA-Z0-9_.-]" },
        { "services:\n  web:\n    restart: always\n", "compose.yaml:3: service \"web\" has neither an image nor a build context" },
        { "services:\n  web:\n    image: ${IMG:?set IMG}\n", "compose.yaml:3: required variable IMG is missing a value: set IMG" },
        { "services:\n  web:\n    image: [a]\n", "compose.yaml:3: image must be a string" },
        { "services:\n  web:\n    build: {context: ., ssh: [default]}\n", "compose.yaml:3: build.ssh: not supported by berth" },
        { "services:\n  web:\n    build: [a]\n", "compose.yaml:3: build must be a path or a mapping" },
        { "services:\n  web:\n    image: x\n    command: \"echo 'open\"\n", "compose.yaml:4: unterminated quote in \"echo 'open\"" },
        { "services:\n  web:\n    image: x\n    command: {a: b}\n", "compose.yaml:4: command must be a list of strings" },
        { "services:\n  web:\n    image: x\n    environment: 3\n", "compose.yaml:4: environment must be a mapping or a list of KEY=VALUE" },
        { "services:\n  web:\n    image: x\n    environment: [[a]]\n", "compose.yaml:4: environment must be a list of KEY=VALUE strings" },
        { "services:\n  web:\n    image: x\n    environment: {A: [1]}\n", "compose.yaml:4: environment.A must be a string" },
        { "services:\n  web:\n    image: x\n    labels: 3\n", "compose.yaml:4: labels must be a mapping or a list of KEY=VALUE" },
        { "services:\n  web:\n    image: x\n    env_file: missing.env\n", "compose.yaml:4: env_file: open `DIR/missing.env`: No such file or directory" },
        { "services:\n  web:\n    image: x\n    env_file: [{path: a.env, format: raw}]\n", "compose.yaml:4: env_file.format: not supported by berth" },
        { "services:\n  web:\n    image: x\n    ports: [\"99999:80\"]\n", "compose.yaml:4: invalid published port in \"99999:80\"" },
        { "services:\n  web:\n    image: x\n    ports: [\"80:0\"]\n", "compose.yaml:4: invalid container port in \"80:0\"" },
        { "services:\n  web:\n    image: x\n    ports: [\"80/icmp\"]\n", "compose.yaml:4: invalid protocol \"icmp\" in port \"80/icmp\"" },
        { "services:\n  web:\n    image: x\n    ports: [\"1-3:1-2\"]\n", "compose.yaml:4: port ranges of different lengths in \"1-3:1-2\"" },
        { "services:\n  web:\n    image: x\n    ports: [\"[::1:80:80\"]\n", "compose.yaml:4: invalid host IP in port \"[::1:80:80\"" },
        { "services:\n  web:\n    image: x\n    ports: [\"1.2.3.4:80\"]\n", "compose.yaml:4: invalid port \"1.2.3.4:80\"" },
        { "services:\n  web:\n    image: x\n    ports: [{published: 80}]\n", "compose.yaml:4: a port needs a target" },
        { "services:\n  web:\n    image: x\n    ports: [{target: 80, mode: x}]\n", "compose.yaml:4: ports.mode must be ingress or host" },
        { "services:\n  web:\n    image: x\n    ports: [{target: 80, protocol: sctp}]\n", "compose.yaml:4: ports.protocol must be tcp or udp" },
        { "services:\n  web:\n    image: x\n    ports: [{target: 80, app_protocol: http}]\n", "compose.yaml:4: ports.app_protocol: not supported by berth" },
        { "services:\n  web:\n    image: x\n    ports: [[1]]\n", "compose.yaml:4: a port must be a string or a mapping" },
        { "services:\n  web:\n    image: x\n    ports: 80\n", "compose.yaml:4: ports must be a list" },
        { "services:\n  web:\n    image: x\n    volumes: [\"db:/x\"]\n", "compose.yaml:4: service \"web\" refers to undefined volume db (declare it under the top-level volumes)" },
        { "services:\n  web:\n    image: x\n    volumes: [\"a:b:c:d\"]\n", "compose.yaml:4: invalid volume \"a:b:c:d\": expected [SOURCE:]TARGET[:MODE]" },
        { "services:\n  web:\n    image: x\n    volumes: [\"./a:/b:rshared\"]\n", "compose.yaml:4: volume mode \"rshared\" in \"./a:/b:rshared\" is not supported" },
        { "services:\n  web:\n    image: x\n    volumes: [\"./a:rel\"]\n", "compose.yaml:4: a volume needs an absolute target path" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: npipe, target: /x}]\n", "compose.yaml:4: volumes.type must be volume, bind or tmpfs" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: bind, target: /x}]\n", "compose.yaml:4: a bind mount needs a source" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: tmpfs, source: a, target: /x}]\n", "compose.yaml:4: a tmpfs mount has no source" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: bind, source: ., target: /x, bind: {propagation: shared}}]\n", "compose.yaml:4: volumes.bind.propagation: not supported by berth" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: bind, source: ., target: /x, bind: {selinux: q}}]\n", "compose.yaml:4: bind.selinux must be z or Z" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: tmpfs, target: /x, tmpfs: {size: lots}}]\n", "compose.yaml:4: tmpfs.size: invalid size: invalid size: 'lots'" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: volume, target: /x, consistency: cached}]\n", "compose.yaml:4: volumes.consistency: not supported by berth" },
        { "services:\n  web:\n    image: x\n    volumes: [3]\n", "compose.yaml:4: a volume needs an absolute target path" },
        { "services:\n  web:\n    image: x\n    volumes: [[3]]\n", "compose.yaml:4: a volume must be a string or a mapping" },
        { "services:\n  web:\n    image: x\n    networks: [front]\n", "compose.yaml:4: service \"web\" refers to undefined network front" },
        { "services:\n  web:\n    image: x\n    networks: [{a: b}]\n", "compose.yaml:4: networks must list network names" },
        { "services:\n  web:\n    image: x\n    networks: {default: {priority: 1}}\n", "compose.yaml:4: networks.default.priority: not supported by berth" },
        { "services:\n  web:\n    image: x\n    networks: {default: 3}\n", "compose.yaml:4: networks.default must be a mapping" },
        { "services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n", "compose.yaml:3: service \"web\": network_mode and networks cannot be combined" },
        { "services:\n  web:\n    image: x\n    depends_on: [db]\n", "compose.yaml:4: service \"web\" depends on undefined service db" },
        { "services:\n  web:\n    image: x\n    depends_on: [web]\n", "compose.yaml:4: service \"web\" depends on itself" },
        { "services:\n  web:\n    image: x\n    depends_on: [db]\n  db:\n    image: y\n    profiles: [p]\n", "compose.yaml:4: service \"db\" is required by \"web\" but is disabled (see --profile)" },
        { "services:\n  web:\n    image: x\n    profiles: [\"-x\"]\n", "compose.yaml:4: invalid profile name \"-x\"" },
        { "services:\n  web:\n    image: x\n    depends_on: {db: {condition: service_ready}}\n  db: {image: y}\n", "compose.yaml:4: depends_on.condition must be service_started, service_healthy or service_completed_successfully" },
        { "services:\n  web:\n    image: x\n    depends_on: {db: {wait: 1}}\n  db: {image: y}\n", "compose.yaml:4: depends_on.wait: not supported by berth" },
        { "services:\n  web:\n    image: x\n    depends_on: [[db]]\n", "compose.yaml:4: depends_on must list service names" },
        { "services:\n  web:\n    image: x\n    depends_on: {db: 1}\n", "compose.yaml:4: depends_on.db must be a mapping" },
        { "services:\n  web:\n    image: x\n    restart: sometimes\n", "compose.yaml:4: restart: invalid restart policy 'sometimes': use one of 'no', 'always', 'on-failure', or 'unless-stopped'" },
        { "services:\n  web:\n    image: x\n    healthcheck: {test: [RUN, x]}\n", "compose.yaml:4: healthcheck.test must start with CMD, CMD-SHELL or NONE" },
        { "services:\n  web:\n    image: x\n    healthcheck: {interval: often}\n", "compose.yaml:4: healthcheck.interval: invalid duration (as 30s, 1m30s)" },
        { "services:\n  web:\n    image: x\n    healthcheck: {retries: -1}\n", "compose.yaml:4: healthcheck.retries must be an integer from 0 to 2147483647" },
        { "services:\n  web:\n    image: x\n    healthcheck: {disable: 1}\n", "compose.yaml:4: healthcheck.disable must be a boolean (true or false)" },
        { "services:\n  web:\n    image: x\n    healthcheck: {interval: 1s, foo: 1}\n", "compose.yaml:4: healthcheck.foo: not supported by berth" },
        { "services:\n  web:\n    image: x\n    healthcheck: yes\n", "compose.yaml:4: healthcheck must be a mapping" },
        { "services:\n  web:\n    image: x\n    deploy: {replicas: 2}\n", "compose.yaml:4: deploy.replicas: not supported by berth (only deploy.resources)" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {devices: []}}}\n", "compose.yaml:4: deploy.resources.limits.devices: not supported by berth" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {cpus: lots}}}\n", "compose.yaml:4: cpus: invalid number of CPUs" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {memory: 1q}}}\n", "compose.yaml:4: memory: invalid size: invalid size: '1q'" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {pids: x}}}\n", "compose.yaml:4: pids must be an integer from -1 to 9223372036854775807" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: {generic: 1}}\n", "compose.yaml:4: deploy.resources.generic: not supported by berth" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: 1}\n", "compose.yaml:4: deploy.resources must be a mapping" },
        { "services:\n  web:\n    image: x\n    deploy: 1\n", "compose.yaml:4: deploy must be a mapping" },
        { "services:\n  web:\n    image: x\n    mem_limit: big\n", "compose.yaml:4: mem_limit: invalid size: invalid size: 'big'" },
        { "services:\n  web:\n    image: x\n    pids_limit: many\n", "compose.yaml:4: pids_limit must be an integer from -1 to 9223372036854775807" },
        { "services:\n  web:\n    image: x\n    privileged: maybe\n", "compose.yaml:4: privileged must be a boolean (true or false)" },
        { "services:\n  web:\n    image: x\n    cap_add: NET_ADMIN\n", "compose.yaml:4: cap_add must be a list of strings" },
        { "services:\n  web:\n    image: x\n    cap_add: [[a]]\n", "compose.yaml:4: cap_add must be a list of strings" },
        { "services:\n  web:\n    image: x\n    ulimits: {nofiles: 1}\n", "compose.yaml:4: ulimits: unknown limit \"nofiles\"" },
        { "services:\n  web:\n    image: x\n    ulimits: {nofile: {soft: 1}}\n", "compose.yaml:4: ulimits.nofile must be a number or soft and hard" },
        { "services:\n  web:\n    image: x\n    ulimits: {nofile: x}\n", "compose.yaml:4: ulimits value must be an integer from -1 to 9223372036854775807" },
        { "services:\n  web:\n    image: x\n    ulimits: 1\n", "compose.yaml:4: ulimits must be a mapping" },
        { "services:\n  web:\n    image: x\n    stop_signal: SIGNOPE\n", "compose.yaml:4: stop_signal: invalid signal: 'SIGNOPE'" },
        { "services:\n  web:\n    image: x\n    stop_grace_period: 10\n", "compose.yaml:4: stop_grace_period: invalid duration (as 30s, 1m30s)" },
        { "services:\n  web:\n    image: x\n    secrets: [tok]\n", "compose.yaml:4: service \"web\" refers to undefined secret tok" },
        { "services:\n  web:\n    image: x\n    secrets: [{source: tok, mode: 0400}]\n", "compose.yaml:4: secrets.mode: not supported by berth" },
        { "services:\n  web:\n    image: x\n    secrets: [{target: /x}]\n", "compose.yaml:4: a secret needs a source" },
        { "services:\n  web:\n    image: x\n    secrets: [[a]]\n", "compose.yaml:4: a secret must be a name or a mapping" },
        { "services:\n  web:\n    image: x\n    secrets: a\n", "compose.yaml:4: secrets must be a list" },
        { "services:\n  web:\n    image: x\n    pull_policy: sometimes\n", "compose.yaml:4: pull_policy must be always, never, missing or build" },
        { "services: {web: {image: x}}\nsecrets:\n  tok: {}\n", "compose.yaml:3: secrets.tok needs exactly one of file, environment, external" },
        { "services: {web: {image: x}}\nsecrets:\n  tok: {file: a, driver: x}\n", "compose.yaml:3: secrets.tok.driver: not supported by berth" },
        { "services: {web: {image: x}}\nsecrets:\n  tok: 1\n", "compose.yaml:3: secrets.tok must be a mapping with file" },
        { "services: {web: {image: x}}\nsecrets: 1\n", "compose.yaml:2: secrets must be a mapping" },
        { "services: {web: {image: x}}\nnetworks:\n  n: {driver: overlay}\n", "compose.yaml:3: networks.n: driver \"overlay\" is not supported by berth (only bridge)" },
        { "services: {web: {image: x}}\nnetworks:\n  n: {ipam: {}}\n", "compose.yaml:3: networks.n.ipam: not supported by berth" },
        { "services: {web: {image: x}}\nnetworks:\n  n: {labels: 1}\n", "compose.yaml:3: networks.n.labels must be a mapping" },
        { "services: {web: {image: x}}\nnetworks:\n  n: 1\n", "compose.yaml:3: networks.n must be a mapping" },
        { "services: {web: {image: x}}\nvolumes:\n  v: {driver: nfs}\n", "compose.yaml:3: volumes.v: driver \"nfs\" is not supported by berth (only local)" },
        { "services: {web: {image: x}}\nvolumes:\n  v: {labels: {a: [1]}}\n", "compose.yaml:3: volumes.v.labels: values must be strings" },
        { "services: {web: {image: x}}\nvolumes:\n  v: {x: 1}\n", "compose.yaml:3: volumes.v.x: not supported by berth" },
        { "services: {web: {image: x}}\nvolumes:\n  v: 1\n", "compose.yaml:3: volumes.v must be a mapping" },
        { "name: Bad_Name\nservices: {web: {image: x}}\n", "compose.yaml:1: invalid project name \"Bad_Name\": only lowercase letters, digits, - and _, starting with a letter or digit" },
        { "services:\n  web:\n    image: x\n    ports: [\"abc\"]\n", "compose.yaml:4: invalid container port in \"abc\"" },
        { "services:\n  web:\n    image: x\n    ports: [\"80-:80\"]\n", "compose.yaml:4: invalid published port in \"80-:80\"" },
        { "services:\n  web:\n    build: {context: ., args: 3}\n", "compose.yaml:3: build.args must be a mapping or a list of KEY=VALUE" },
        { "services:\n  web:\n    image: x\n    ulimits: {nofile: {soft: 1, hard: x}}\n", "compose.yaml:4: ulimits hard must be an integer from -1 to 9223372036854775807" },
        { "services:\n  web:\n    image: x\n    env_file: [{path: a.env, required: maybe}]\n", "compose.yaml:4: env_file.required must be a boolean (true or false)" },
        { "services:\n  web:\n    image: x\n    env_file: [{required: true}]\n", "compose.yaml:4: env_file.path must be a string" },
        { "services:\n  web:\n    image: x\n    env_file: {a: b}\n", "compose.yaml:4: env_file must be a path or a list" },
        { "services:\n  web:\n    image: x\n    deploy: {resources: {limits: 3}}\n", "compose.yaml:4: deploy.resources.limits must be a mapping" },
        { "services:\n  web:\n    image: x\n    volumes: [{type: bind, source: ., target: /x, bind: 3}]\n", "compose.yaml:4: volumes.bind must be a mapping" },
        { "services:\n  web:\n    image: x\n    volumes: {a: b}\n", "compose.yaml:4: volumes must be a list" },
        { "services:\n  web:\n    image: x\n    networks: 3\n", "compose.yaml:4: networks must be a list or a mapping" },
        { "services:\n  web:\n    image: x\n    depends_on: 3\n", "compose.yaml:4: depends_on must be a list or a mapping" },
        { "services: {web: {image: x}}\nnetworks: [a]\n", "compose.yaml:2: networks must be a mapping" },
        { "services: {web: {image: x}}\nvolumes: [a]\n", "compose.yaml:2: volumes must be a mapping" },
        { "services:\n  web:\n    image: \"${UNSET:-${Y:?inner}}\"\n", "compose.yaml:3: required variable Y is missing a value: inner" },
        { "services:\n  web:\n    image: \"${TAG:+${Y:?alt}}\"\n", "compose.yaml:3: required variable Y is missing a value: alt" },
        { "name: [a]\nservices: {web: {image: x}}\n", "compose.yaml:1: name must be a string" },
};

START_TEST(test_errors_limits)
{
        /* a file that is not there */
        char *files[] = { "missing.yaml", NULL };
        struct compose_options o = { .files = files };
        struct compose_project *p = NULL;
        berth_error_t err = NULL;
        ck_assert_int_lt(load(&o, &p, &err), 0);
        cleanup_free char *m = undir(xstrdup(err->msg));
        ck_assert_str_eq(m, "compose file: open `DIR/missing.yaml`: No such file or directory");
        berth_error_free(&err);
        /* YAML nested deeper than the tree takes */
        struct strbuf b = {};
        strbuf_adds(&b, "a: ");
        for (int i = 0; i < 70; i++)
                strbuf_addc(&b, '[');
        for (int i = 0; i < 70; i++)
                strbuf_addc(&b, ']');
        strbuf_addc(&b, '\n');
        cleanup_cnode struct cnode *t = NULL;
        ck_assert_int_lt(compose_yaml_parse(b.s, b.len, "c.yaml", &t, &err), 0);
        ck_assert_str_eq(err->msg, "c.yaml:1: nested more than 64 levels deep");
        berth_error_free(&err);
        free(b.s);
        /* interpolation nested deeper than 16 */
        b = (struct strbuf) {};
        for (int i = 0; i < 20; i++)
                strbuf_adds(&b, "${U:-");
        for (int i = 0; i < 20; i++)
                strbuf_addc(&b, '}');
        cleanup_free char *e = interp_err(b.s);
        ck_assert_ptr_nonnull(strstr(e, "compose.yaml:7: interpolation nested too deep in"));
        free(b.s);
}
END_TEST

START_TEST(test_errors)
{
        unsigned bad = 0;
        for (size_t i = 0; i < ARRAY_SIZE(err_cases); i++) {
                cleanup_free char *m = load_err(err_cases[i].yaml);
                if (!streq(m, err_cases[i].msg)) {
                        fprintf(stderr, "case %zu:\n%sgave: %s\nwant: %s\n", i, err_cases[i].yaml, m, err_cases[i].msg);
                        bad++;
                }
        }
        ck_assert_uint_eq(bad, 0);
}
END_TEST

static Suite *compose_suite(void)
{
        Suite *s = suite_create("compose");
        TCase *tc = tcase_create("compose");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_interpolate_forms);
        tcase_add_test(tc, test_interpolate_errors);
        tcase_add_test(tc, test_dotenv);
        tcase_add_test(tc, test_dotenv_in_project);
        tcase_add_test(tc, test_yaml_tree);
        tcase_add_test(tc, test_yaml_errors);
        tcase_add_test(tc, test_yaml_emit_quotes);
        tcase_add_test(tc, test_config_canonical);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_project_name);
        tcase_add_test(tc, test_find_files);
        tcase_add_test(tc, test_merge);
        tcase_add_test(tc, test_profiles);
        tcase_add_test(tc, test_stdin_file);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_errors_limits);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(compose_suite)
