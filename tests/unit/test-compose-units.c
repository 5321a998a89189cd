/* Unit tests: a compose project as definition files (compose-units.h) —
 * the files written are read back by the definition parser itself, so each
 * compose key must become the `berth run` flags it means; depends_on,
 * healthy dependencies, restart, the target; and every key the definitions
 * cannot express is an error naming it.  Runs under valgrind in CI
 * (CK_FORK=no), so everything is freed. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "berth/compose-units.h"
#include "berth/compose.h"
#include "berth/definition.h"
#include "berth/util.h"
#include "check-main.h"
#include "strv-check.h"

static char *tmpdir, *defdir;

static void setup(void)
{
        char tmpl[] = "/tmp/berth-test-cunits-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        tmpdir = xasprintf("%s/app", tmpl);
        defdir = xstrdup(tmpl);
        ck_assert_int_eq(mkdir_p(tmpdir, 0755, NULL), 0);
        setenv("BERTH_DEFINITION_PATH", defdir, 1);
}

static void teardown(void)
{
        rm_rf(defdir, NULL);
        free(tmpdir);
        free(defdir);
        tmpdir = defdir = NULL;
        unsetenv("BERTH_DEFINITION_PATH");
}

/* compose.yaml from text, made into units (NULL and *err set on errors). */
static struct compose_units *make(const char *yaml, char *const *services, berth_error_t *err)
{
        cleanup_free char *path = xasprintf("%s/compose.yaml", tmpdir);
        ck_assert_int_eq(write_file_atomic(path, yaml, strlen(yaml), 0644, NULL), 0);
        char *env[] = { "TOKEN=s3cret", NULL };
        struct compose_options o = { .workdir = tmpdir, .environ = env };
        cleanup_compose_project struct compose_project *p = NULL;
        struct compose_units *u = NULL;
        if (compose_load(&o, &p, err) < 0 || compose_units_make(p, services, &u, err) < 0)
                return NULL;
        for (size_t i = 0; i < u->n_files; i++) {
                cleanup_free char *f = xasprintf("%s/%s", defdir, u->files[i].name);
                ck_assert_int_eq(write_file_atomic(f, u->files[i].text, strlen(u->files[i].text), 0644, NULL), 0);
        }
        return u;
}

static struct definition *load(const char *name, enum definition_kind kind)
{
        cleanup_free char *path = NULL;
        cleanup_error berth_error_t err = NULL;
        struct definition *d = NULL;
        ck_assert_msg(definition_find_kind(name, kind, &path, &err) == 0 && definition_load(path, name, &d, &err) == 0,
                      "load %s: %s", name, err ? err->msg : "?");
        return d;
}

static const char *file_text(const struct compose_units *u, const char *name)
{
        for (size_t i = 0; i < u->n_files; i++)
                if (streq(u->files[i].name, name))
                        return u->files[i].text;
        ck_abort_msg("no file %s", name);
        return NULL;
}

START_TEST(test_service_keys)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u = make(
                "services:\n"
                "  web:\n"
                "    image: busybox\n"
                "    entrypoint: [\"/bin/sh\", \"-c\"]\n"
                "    command: [\"echo '100%' \\\"q\\\\\\\"\", \"x\"]\n"
                "    environment: {A: \"two words\", TOKEN: null}\n"
                "    ports: [\"8080:80\", \"127.0.0.1::53/udp\"]\n"
                "    volumes: [\"data:/data:ro\", \"./conf:/conf\", \"/anon\"]\n"
                "    working_dir: /srv\n"
                "    user: \"1000:1000\"\n"
                "    labels: [\"a=b\"]\n"
                "    read_only: true\n"
                "    cap_drop: [NET_RAW]\n"
                "    mem_limit: 64m\n"
                "    stop_grace_period: 1500ms\n"
                "    restart: unless-stopped\n"
                "    networks: {default: {aliases: [www]}}\n"
                "volumes:\n"
                "  data:\n",
                NULL, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        STRV_EQ(u->units, "container@app-web-1.service");
        STRV_EQ(u->containers, "app-web-1");
        STRV_EQ(u->volumes, "app_data");
        STRV_EQ(u->networks, "app_default");
        ck_assert_str_eq(u->target, "berth-compose-app.target");
        ck_assert_uint_eq(u->n_files, 4);
        ck_assert_str_eq(u->files[3].name, "berth-compose-app.target");

        cleanup_definition struct definition *d = load("app-web-1", DEFINITION_CONTAINER);
        ck_assert_str_eq(d->image, "busybox");
        ck_assert_str_eq(d->container_name, "app-web-1");
        STRV_EQ(d->command, "-c", "echo '100%' \"q\\\"", "x");
        cleanup_free char *conf = xasprintf("%s/conf:/conf", tmpdir);
        cleanup_free char *wd = xasprintf("com.docker.compose.project.working_dir=%s", tmpdir);
        cleanup_free char *hash = xasprintf("com.docker.compose.config-hash=%s", u->hashes[0]);
        STRV_EQ(d->run_args, "--entrypoint", "/bin/sh", "-e", "A=two words", "-e", "TOKEN=s3cret", "-p",
                "8080:80/tcp", "-p", "127.0.0.1::53/udp", "-v", "app_data:/data:ro", "-v", conf, "-v", "/anon",
                "--network", "app_default", "--network-alias", "web", "--network-alias", "www", "-u", "1000:1000", "-w", "/srv", "--read-only", "--cap-drop", "NET_RAW",
                "-l", "a=b", "-l", "com.docker.compose.project=app", "-l", "com.docker.compose.service=web", "-l",
                "com.docker.compose.container-number=1", "-l", wd, "-l", hash, "--stop-timeout", "2");
        STRV_EQ(d->requires, "berth-volume@app_data.service", "berth-network@app_default.service");
        STRV_EQ(d->service_lines, "Restart=always");
        ck_assert(d->limits.set[LIMIT_MEMORY]);

        cleanup_definition struct definition *v = load("app_data", DEFINITION_VOLUME);
        ck_assert_str_eq(v->resource_name, "app_data");
        cleanup_definition struct definition *n = load("app_default", DEFINITION_NETWORK);
        ck_assert_str_eq(n->resource_name, "app_default");
        ck_assert_str_eq(file_text(u, "berth-compose-app.target"),
                         "# berth compose up: project app\n[Unit]\nDescription=compose project app\n"
                         "Wants=container@app-web-1.service\nAfter=container@app-web-1.service\n");
}
END_TEST

START_TEST(test_depends_on)
{
        const char *yaml = "services:\n"
                           "  web:\n"
                           "    image: busybox\n"
                           "    depends_on:\n"
                           "      db: {condition: service_healthy}\n"
                           "      cache: {condition: service_started, required: false}\n"
                           "  db:\n"
                           "    image: busybox\n"
                           "    healthcheck:\n"
                           "      test: [\"CMD\", \"test\", \"-f\", \"/it's\"]\n"
                           "      interval: 1s\n"
                           "      retries: 5\n"
                           "  cache:\n"
                           "    image: busybox\n"
                           "  other:\n"
                           "    image: busybox\n"
                           "    network_mode: host\n";
        cleanup_error berth_error_t err = NULL;
        char *only_web[] = { "web", NULL };
        cleanup_compose_units struct compose_units *u = make(yaml, only_web, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        /* web and what it depends on, not other */
        STRV_EQ(u->containers, "app-cache-1", "app-db-1", "app-web-1");
        cleanup_definition struct definition *web = load("app-web-1", DEFINITION_CONTAINER);
        STRV_EQ(web->unit_lines, "Description=compose project app, service web", "PartOf=berth-compose-app.target",
                "Requires=container@app-db-1.service", "After=container@app-db-1.service",
                "Wants=container@app-cache-1.service", "After=container@app-cache-1.service");
        cleanup_definition struct definition *db = load("app-db-1", DEFINITION_CONTAINER);
        ck_assert(strv_contains(db->run_args, "--sdnotify"));
        ck_assert(strv_contains(db->run_args, "'test' '-f' '/it'\\''s'"));
        ck_assert(strv_contains(db->run_args, "1000ms"));
        cleanup_definition struct definition *cache = load("app-cache-1", DEFINITION_CONTAINER);
        ck_assert(!strv_contains(cache->run_args, "--sdnotify"));
}
END_TEST

START_TEST(test_completed_successfully)
{
        const char *yaml = "services:\n"
                           "  web:\n"
                           "    image: busybox\n"
                           "    depends_on:\n"
                           "      init: {condition: service_completed_successfully}\n"
                           "  init:\n"
                           "    image: busybox\n"
                           "    restart: on-failure\n";
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u = make(yaml, NULL, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        STRV_EQ(u->run_once, "container@app-init-1.service");
        cleanup_definition struct definition *init = load("app-init-1", DEFINITION_CONTAINER);
        STRV_EQ(init->service_lines, "Restart=on-failure", "Type=oneshot", "RemainAfterExit=no");
        ck_assert(!strv_contains(init->run_args, "--sdnotify"));
        cleanup_definition struct definition *web = load("app-web-1", DEFINITION_CONTAINER);
        ck_assert(strv_contains(web->unit_lines, "Requires=container@app-init-1.service"));
        ck_assert(strv_contains(web->unit_lines, "After=container@app-init-1.service"));
        ck_assert_ptr_null(web->service_lines);
        /* a oneshot's start job ends when the process exits: the drop-in keeps
         * the unit's own notify protocol out of the way by coming last */
        cleanup_free char *dropin = definition_dropin(init);
        ck_assert_ptr_nonnull(strstr(dropin, "Type=oneshot\nRemainAfterExit=no\n"));
}
END_TEST

/* The label com.docker.compose.config-hash: the hash of the file without
 * it; the same project gives the same hash, any change to a service
 * another one, and only to that service. */
START_TEST(test_config_hash)
{
        const char *yaml = "services:\n"
                           "  web:\n"
                           "    image: busybox\n"
                           "    environment: [A=1]\n"
                           "  db:\n"
                           "    image: busybox\n";
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u1 = make(yaml, NULL, &err);
        ck_assert_msg(u1 != NULL, "%s", err ? err->msg : "?");
        cleanup_compose_units struct compose_units *u2 = make(yaml, NULL, &err);
        ck_assert_msg(u2 != NULL, "%s", err ? err->msg : "?");
        STRV_EQ(u1->containers, "app-db-1", "app-web-1");
        ck_assert_uint_eq(strv_length(u1->hashes), 2);
        ck_assert_uint_eq(strlen(u1->hashes[0]), 64);
        ck_assert_str_eq(u1->hashes[0], u2->hashes[0]);
        ck_assert_str_eq(u1->hashes[1], u2->hashes[1]);
        ck_assert_str_ne(u1->hashes[0], u1->hashes[1]);

        /* the label is in the file, and is the hash of the rest */
        const char *text = file_text(u1, "app-web-1.container");
        cleanup_free char *label = xasprintf("Label=\"com.docker.compose.config-hash=%s\"\n", u1->hashes[1]);
        const char *at = strstr(text, label);
        ck_assert_ptr_nonnull(at);
        cleanup_free char *rest = xasprintf("%.*s%s", (int) (at - text), text, at + strlen(label));
        cleanup_free char *h = compose_config_hash(rest);
        ck_assert_str_eq(h, u1->hashes[1]);
        cleanup_definition struct definition *web = load("app-web-1", DEFINITION_CONTAINER);
        cleanup_free char *arg = xasprintf("com.docker.compose.config-hash=%s", u1->hashes[1]);
        ck_assert(strv_contains(web->run_args, arg));

        cleanup_compose_units struct compose_units *u3 =
                make("services:\n  web:\n    image: busybox\n    environment: [A=2]\n  db:\n    image: busybox\n",
                     NULL, &err);
        ck_assert_msg(u3 != NULL, "%s", err ? err->msg : "?");
        ck_assert_str_eq(u3->hashes[0], u1->hashes[0]);
        ck_assert_str_ne(u3->hashes[1], u1->hashes[1]);
}
END_TEST

/* up --enable and generate: the target is installed into multi-user.target */
START_TEST(test_install)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u = make("services:\n  a:\n    image: x\n", NULL, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        ck_assert_ptr_null(strstr(file_text(u, "berth-compose-app.target"), "[Install]"));
        compose_units_set_install(u);
        ck_assert_str_eq(file_text(u, "berth-compose-app.target"),
                         "# berth compose up: project app\n[Unit]\nDescription=compose project app\n"
                         "Wants=container@app-a-1.service\nAfter=container@app-a-1.service\n\n"
                         "[Install]\nWantedBy=multi-user.target\n");
}
END_TEST

/* several networks: one Network= each with its own aliases and address,
 * the service's name on every one */
START_TEST(test_several_networks)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u = make("services:\n"
                                                             "  api:\n"
                                                             "    image: busybox\n"
                                                             "    networks:\n"
                                                             "      front: {aliases: [web]}\n"
                                                             "      back: {ipv4_address: 10.89.3.7}\n"
                                                             "networks:\n"
                                                             "  front: {}\n"
                                                             "  back: {external: true, name: shared}\n",
                                                             NULL, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        STRV_EQ(u->networks, "app_front");
        cleanup_definition struct definition *d = load("app-api-1", DEFINITION_CONTAINER);
        ck_assert(strv_contains(d->run_args, "name=app_front,alias=api,alias=web"));
        ck_assert(strv_contains(d->run_args, "name=shared,alias=api,ip=10.89.3.7"));
        ck_assert(!strv_contains(d->run_args, "--network-alias"));
        STRV_EQ(d->requires, "berth-network@app_front.service");
}
END_TEST

static void bad(const char *yaml, const char *want)
{
        cleanup_error berth_error_t err = NULL;
        struct compose_units *u = make(yaml, NULL, &err);
        ck_assert_ptr_null(u);
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err->msg, want);
}

START_TEST(test_unsupported)
{
        bad("services:\n  a:\n    image: x\n    secrets: [s]\nsecrets:\n  s: {environment: TOKEN}\n",
            "service a: secret s: only secrets from a file are supported by compose up yet");
        bad("services:\n  a:\n    image: x\n    networks: {default: {aliases: [\"b c\"]}}\n",
            "service a: invalid network alias 'b c' (a host name: letters, digits, '-', '.', '_')");
        bad("services:\n  a:\n    image: x\n    restart: on-failure:3\n",
            "service a: restart with a retry count is not supported by compose up yet");
        bad("services:\n  a:\n    image: x\n    security_opt: [\"label=disable\"]\n",
            "service a: security_opt label=disable is not supported by compose up yet");
        bad("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_completed_successfully}\n"
            "  b:\n    image: x\n    restart: always\n",
            "service b: restart always cannot be combined with a dependency of condition "
            "service_completed_successfully (it must run to completion)");
        bad("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_completed_successfully}\n"
            "  c:\n    image: x\n    depends_on:\n      b: {condition: service_healthy}\n"
            "  b:\n    image: x\n",
            "service b: services depend on it with both service_healthy and service_completed_successfully");
        bad("services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_healthy}\n"
            "  b:\n    image: x\n    healthcheck: {disable: true}\n",
            "service b: its healthcheck is disabled, but a service depends on it with condition service_healthy");
        bad("services:\n  a:\n    image: x\n    volumes: [\"v:/v\"]\nvolumes:\n  v:\n    labels: [x=y]\n",
            "volume v: labels is not supported by compose up yet");
}
END_TEST

/* privileged, expose and file secrets (read-only binds at /run/secrets,
 * as Docker Compose makes them outside a swarm) */
START_TEST(test_privileged_expose_secrets)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u =
                make("services:\n  a:\n    image: x\n    privileged: true\n    expose: [\"80\", 90/udp]\n"
                     "    secrets: [pw, {source: key, target: /etc/app.key}, {source: pw, target: other}]\n"
                     "    deploy: {resources: {reservations: {cpus: '0.5', memory: 64m}}}\n"
                     "secrets:\n  pw: {file: ./pw.txt}\n  key: {file: /srv/app.key}\n",
                     NULL, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        cleanup_definition struct definition *d = load("app-a-1", DEFINITION_CONTAINER);
        cleanup_free char *pw = xasprintf("%s/pw.txt:/run/secrets/pw:ro", tmpdir);
        cleanup_free char *other = xasprintf("%s/pw.txt:/run/secrets/other:ro", tmpdir);
        ck_assert(strv_contains(d->run_args, pw));
        ck_assert(strv_contains(d->run_args, other));
        ck_assert(strv_contains(d->run_args, "/srv/app.key:/etc/app.key:ro"));
        ck_assert(strv_contains(d->run_args, "--privileged"));
        ck_assert(strv_contains(d->run_args, "--expose"));
        ck_assert(strv_contains(d->run_args, "90/udp"));
        ck_assert(d->limits.set[LIMIT_MEMORY_RESERVATION]);
}
END_TEST

/* A service with a build section runs its image: image:, else PROJECT-SERVICE. */
START_TEST(test_build_image)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_compose_units struct compose_units *u =
                make("services:\n  a:\n    build: .\n  b:\n    image: reg:5000/b:2\n    build: .\n", NULL, &err);
        ck_assert_msg(u != NULL, "%s", err ? err->msg : "?");
        STRV_EQ(u->images, "app-a", "reg:5000/b:2");
        cleanup_definition struct definition *d = load("app-a-1", DEFINITION_CONTAINER);
        ck_assert_str_eq(d->image, "app-a");
}
END_TEST

START_TEST(test_no_such_service)
{
        cleanup_error berth_error_t err = NULL;
        char *names[] = { "nope", NULL };
        ck_assert_ptr_null(make("services:\n  a:\n    image: x\n", names, &err));
        ck_assert_str_eq(err->msg, "no such service: nope");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-units");
        TCase *tc = tcase_create("units");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_service_keys);
        tcase_add_test(tc, test_depends_on);
        tcase_add_test(tc, test_unsupported);
        tcase_add_test(tc, test_build_image);
        tcase_add_test(tc, test_privileged_expose_secrets);
        tcase_add_test(tc, test_several_networks);
        tcase_add_test(tc, test_no_such_service);
        tcase_add_test(tc, test_completed_successfully);
        tcase_add_test(tc, test_config_hash);
        tcase_add_test(tc, test_install);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
