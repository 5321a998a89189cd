/* Unit tests: the pure parts of the registry client (registry-internal.h) —
 * WWW-Authenticate challenges, auth files, the engine configuration,
 * platform selection from an index, URL building and base64, and the pure
 * parts of search (terms, filters, Link headers, answers).  Runs under
 * valgrind in CI (CK_FORK=no). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "berth/image.h"
#include "berth/registry-internal.h"
#include "berth/util.h"
#include "check-main.h"

static char *tmpdir;

static void setup(void)
{
        tmpdir = xstrdup("/tmp/test-registry-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
        rm_rf(tmpdir, NULL);
        free(tmpdir);
}

static void write_text(const char *path, const char *text)
{
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644, NULL), 0);
}

/* ---- WWW-Authenticate --------------------------------------------------------- */
START_TEST(test_challenge_bearer)
{
        struct registry_challenge c;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(registry_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
                                                  "docker.io\",scope=\"repository:library/busybox:pull\"",
                                                  &c, &err),
                         0);
        ck_assert_str_eq(c.scheme, "bearer");
        ck_assert_str_eq(c.realm, "https://auth.docker.io/token");
        ck_assert_str_eq(c.service, "registry.docker.io");
        ck_assert_str_eq(c.scope, "repository:library/busybox:pull");
        ck_assert_ptr_null(c.error);
        registry_challenge_free(&c);

        /* spaces, unquoted tokens, escapes, a comma inside quotes, unknown keys */
        ck_assert_int_eq(registry_challenge_parse("  BEARER realm=http://127.0.0.1:5001/t , Service=\"a\\\"b\","
                                                  "foo=bar, scope=\"repository:a/b:pull,push\", "
                                                  "error=\"insufficient_scope\"",
                                                  &c, &err),
                         0);
        ck_assert_str_eq(c.scheme, "bearer");
        ck_assert_str_eq(c.realm, "http://127.0.0.1:5001/t");
        ck_assert_str_eq(c.service, "a\"b");
        ck_assert_str_eq(c.scope, "repository:a/b:pull,push");
        ck_assert_str_eq(c.error, "insufficient_scope");
        registry_challenge_free(&c);
}
END_TEST

START_TEST(test_challenge_basic_and_errors)
{
        struct registry_challenge c;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), 0);
        ck_assert_str_eq(c.scheme, "basic");
        ck_assert_str_eq(c.realm, "Registry Realm");
        ck_assert_ptr_null(c.service);
        registry_challenge_free(&c);

        ck_assert_int_eq(registry_challenge_parse("Basic", &c, &err), 0);
        ck_assert_str_eq(c.scheme, "basic");
        registry_challenge_free(&c);

        ck_assert_int_lt(registry_challenge_parse("", &c, &err), 0);
        ck_assert_str_eq(err->msg, "empty WWW-Authenticate header");
        berth_error_free(&err);
        ck_assert_int_lt(registry_challenge_parse("Bearer service=\"x\"", &c, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "without a realm"));
        berth_error_free(&err);
        ck_assert_int_lt(registry_challenge_parse("Bearer realm", &c, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "malformed"));
        berth_error_free(&err);
        /* an unterminated quote ends at the end of the header */
        ck_assert_int_eq(registry_challenge_parse("Bearer realm=\"http://x", &c, &err), 0);
        ck_assert_str_eq(c.realm, "http://x");
        registry_challenge_free(&c);
}
END_TEST

/* ---- base64 ------------------------------------------------------------------- */
START_TEST(test_base64)
{
        const char *cases[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
                                   { "user:pa:ss", "dXNlcjpwYTpzcw==" } };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                cleanup_free char *e = registry_base64_encode(cases[i][0], strlen(cases[i][0]));
                ck_assert_str_eq(e, cases[i][1]);
                size_t n = 99;
                cleanup_free char *d = registry_base64_decode(cases[i][1], &n);
                ck_assert_str_eq(d, cases[i][0]);
                ck_assert_uint_eq(n, strlen(cases[i][0]));
        }
        ck_assert_ptr_null(registry_base64_decode("Zm9v!", NULL));
        ck_assert_ptr_null(registry_base64_decode("Zg=x", NULL));
        ck_assert_ptr_null(registry_base64_decode("Zg=", NULL));
}
END_TEST

/* ---- auth files ------------------------------------------------------------------ */
START_TEST(test_auth_file_roundtrip)
{
        cleanup_free char *path = xasprintf("%s/sub/dir/auth.json", tmpdir);
        cleanup_error berth_error_t err = NULL;
        char *user = NULL, *pass = NULL;
        /* a missing file: not found, no error */
        ck_assert_int_eq(registry_auth_file_get(path, "localhost:5000", &user, &pass, &err), 0);
        bool existed = true;
        ck_assert_int_eq(registry_auth_file_set(path, "localhost:5000", "alice", "s3cr:t", &existed, &err), 0);
        ck_assert(!existed);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        cleanup_free char *text = NULL;
        ck_assert_int_eq(read_file(path, &text, NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(text, "\"localhost:5000\""));
        ck_assert_ptr_nonnull(strstr(text, "\"auth\": \"YWxpY2U6czNjcjp0\""));
        ck_assert_int_eq(registry_auth_file_get(path, "localhost:5000", &user, &pass, &err), 1);
        ck_assert_str_eq(user, "alice");
        ck_assert_str_eq(pass, "s3cr:t");
        free(user);
        free(pass);
        /* a second host; replacing the first keeps the second */
        ck_assert_int_eq(registry_auth_file_set(path, "reg.example.com", "bob", "pw", NULL, &err), 0);
        ck_assert_int_eq(registry_auth_file_set(path, "localhost:5000", "carol", "pw2", &existed, &err), 0);
        ck_assert(existed);
        ck_assert_int_eq(registry_auth_file_get(path, "reg.example.com", &user, &pass, &err), 1);
        ck_assert_str_eq(user, "bob");
        free(user);
        free(pass);
        ck_assert_int_eq(registry_auth_file_get(path, "localhost:5000", &user, &pass, &err), 1);
        ck_assert_str_eq(user, "carol");
        free(user);
        free(pass);
        /* logout */
        ck_assert_int_eq(registry_auth_file_set(path, "localhost:5000", NULL, NULL, &existed, &err), 0);
        ck_assert(existed);
        ck_assert_int_eq(registry_auth_file_get(path, "localhost:5000", &user, &pass, &err), 0);
        ck_assert_int_eq(registry_auth_file_set(path, "localhost:5000", NULL, NULL, &existed, &err), 0);
        ck_assert(!existed);
        ck_assert_int_eq(registry_auth_file_get(path, "reg.example.com", &user, &pass, &err), 1);
        free(user);
        free(pass);
}
END_TEST

START_TEST(test_auth_file_docker_keys)
{
        cleanup_free char *path = xasprintf("%s/config.json", tmpdir);
        cleanup_error berth_error_t err = NULL;
        /* Docker's own file: URL keys, credential helpers, other settings */
        write_text(path, "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"ZG9jOmh1Yg==\"},"
                         " \"http://Reg.Example.com:5000/v2/\": {\"auth\": \"YTpi\"},"
                         " \"helper.io\": {}}, \"credsStore\": \"desktop\", \"detachKeys\": \"ctrl-x\"}");
        char *user = NULL, *pass = NULL;
        ck_assert_int_eq(registry_auth_file_get(path, "docker.io", &user, &pass, &err), 1);
        ck_assert_str_eq(user, "doc");
        ck_assert_str_eq(pass, "hub");
        free(user);
        free(pass);
        ck_assert_int_eq(registry_auth_file_get(path, "reg.example.com:5000", &user, &pass, &err), 1);
        ck_assert_str_eq(user, "a");
        free(user);
        free(pass);
        ck_assert_int_eq(registry_auth_file_get(path, "helper.io", &user, &pass, &err), 0);
        ck_assert_int_eq(registry_auth_file_get(path, "reg.example.com", &user, &pass, &err), 0);
        /* setting docker.io replaces the URL key, keeps the other settings */
        ck_assert_int_eq(registry_auth_file_set(path, "docker.io", "x", "y", NULL, &err), 0);
        cleanup_free char *text = NULL;
        ck_assert_int_eq(read_file(path, &text, NULL, &err), 0);
        ck_assert_ptr_null(strstr(text, "index.docker.io"));
        ck_assert_ptr_nonnull(strstr(text, "\"detachKeys\": \"ctrl-x\""));
        ck_assert_ptr_nonnull(strstr(text, "\"credsStore\""));

        /* broken files are errors, not "logged out" */
        write_text(path, "{\"auths\": {\"h\": {\"auth\": \"bm9jb2xvbg==\"}}}");
        ck_assert_int_lt(registry_auth_file_get(path, "h", &user, &pass, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "not base64(user:password)"));
        berth_error_free(&err);
        write_text(path, "{\"auths\": [1]}");
        ck_assert_int_lt(registry_auth_file_get(path, "h", &user, &pass, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "\"auths\" is not an object"));
        berth_error_free(&err);
        write_text(path, "{nope");
        ck_assert_int_lt(registry_auth_file_set(path, "h", "u", "p", NULL, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "invalid JSON"));
}
END_TEST

START_TEST(test_auth_file_helper)
{
        cleanup_free char *path = xasprintf("%s/helpers.json", tmpdir);
        cleanup_error berth_error_t err = NULL;
        char *h = NULL;
        /* a missing file names none */
        ck_assert_int_eq(registry_auth_file_helper(path, "docker.io", &h, &err), 0);
        ck_assert_ptr_null(h);
        /* credHelpers for its hosts (keys as URLs too), credsStore for the rest */
        write_text(path, "{\"credHelpers\": {\"https://Gcr.io/v2/\": \"gcloud\", \"reg:5000\": \"pass\"},"
                         " \"credsStore\": \"desktop\"}");
        ck_assert_int_eq(registry_auth_file_helper(path, "gcr.io", &h, &err), 0);
        ck_assert_str_eq(h, "gcloud");
        free(h);
        ck_assert_int_eq(registry_auth_file_helper(path, "reg:5000", &h, &err), 0);
        ck_assert_str_eq(h, "pass");
        free(h);
        ck_assert_int_eq(registry_auth_file_helper(path, "reg", &h, &err), 0);
        ck_assert_str_eq(h, "desktop");
        free(h);
        /* only credHelpers: the other hosts have none */
        write_text(path, "{\"credHelpers\": {\"reg:5000\": \"pass\"}}");
        ck_assert_int_eq(registry_auth_file_helper(path, "docker.io", &h, &err), 0);
        ck_assert_ptr_null(h);
        /* a name that is not one, or a list that is not an object */
        write_text(path, "{\"credsStore\": \"../../bin/sh\"}");
        ck_assert_int_lt(registry_auth_file_helper(path, "docker.io", &h, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "\"credsStore\" must name a credential helper"));
        berth_error_free(&err);
        write_text(path, "{\"credHelpers\": [\"pass\"]}");
        ck_assert_int_lt(registry_auth_file_helper(path, "docker.io", &h, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "\"credHelpers\" is not an object"));
        berth_error_free(&err);
        /* with a helper, the file keeps an empty entry: no credentials in it */
        write_text(path, "{}");
        ck_assert_int_eq(registry_auth_file_set(path, "reg:5000", "alice", NULL, NULL, &err), 0);
        cleanup_free char *text = NULL;
        ck_assert_int_eq(read_file(path, &text, NULL, &err), 0);
        ck_assert_str_eq(text, "{\n \"auths\": {\n  \"reg:5000\": {}\n }\n}\n");
        char *user = NULL, *pass = NULL;
        ck_assert_int_eq(registry_auth_file_get(path, "reg:5000", &user, &pass, &err), 0);
}
END_TEST

START_TEST(test_auth_paths)
{
        cleanup_free char *old_xdg = getenv("XDG_CONFIG_HOME") ? xstrdup(getenv("XDG_CONFIG_HOME")) : NULL;
        cleanup_free char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
        setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
        setenv("HOME", "/home/u", 1);
        cleanup_free char *a = registry_auth_path();
        ck_assert_str_eq(a, "/x/cfg/berth/auth.json");
        unsetenv("XDG_CONFIG_HOME");
        cleanup_free char *b = registry_auth_path();
        ck_assert_str_eq(b, "/home/u/.config/berth/auth.json");
        unsetenv("DOCKER_CONFIG");
        cleanup_free char *d = registry_docker_config_path();
        ck_assert_str_eq(d, "/home/u/.docker/config.json");
        if (old_xdg)
                setenv("XDG_CONFIG_HOME", old_xdg, 1);
        if (old_home)
                setenv("HOME", old_home, 1);
}
END_TEST

/* ---- engine configuration -------------------------------------------------------- */
START_TEST(test_config)
{
        cleanup_free char *path = xasprintf("%s/config.json", tmpdir);
        struct registry_config c;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_eq(registry_config_load(path, &c, &err), 0); /* missing: empty */
        ck_assert_ptr_null(c.default_registry);
        ck_assert(!registry_config_insecure(&c, "localhost:5000"));
        registry_config_free(&c);

        write_text(path, "{\"insecure-registries\": [\"127.0.0.1:5000\", \"http://plain.example\"],"
                         " \"registry-mirrors\": [\"https://mirror.example\"], \"default-registry\": "
                         "\"https://Quay.io/\", \"debug\": true}");
        ck_assert_int_eq(registry_config_load(path, &c, &err), 0);
        ck_assert(registry_config_insecure(&c, "127.0.0.1:5000"));
        ck_assert(!registry_config_insecure(&c, "127.0.0.1:5001"));
        ck_assert(!registry_config_insecure(&c, "127.0.0.1"));
        ck_assert(registry_config_insecure(&c, "plain.example"));
        ck_assert(registry_config_insecure(&c, "plain.example:8080"));
        ck_assert(!registry_config_insecure(&c, "plain.example.org"));
        ck_assert_str_eq(c.mirrors[0], "https://mirror.example");
        ck_assert_str_eq(c.default_registry, "quay.io");
        ck_assert_int_eq(c.stall_timeout, REGISTRY_STALL_TIMEOUT); /* unset: the default */
        registry_config_free(&c);

        write_text(path, "{\"registry-stall-timeout\": 5}");
        ck_assert_int_eq(registry_config_load(path, &c, &err), 0);
        ck_assert_int_eq(c.stall_timeout, 5);
        registry_config_free(&c);
        const char *bad_stall[] = { "0", "-1", "86401", "\"10\"", "1.5", "null" };
        for (size_t i = 0; i < ARRAY_SIZE(bad_stall); i++) {
                cleanup_free char *doc = xasprintf("{\"registry-stall-timeout\": %s}", bad_stall[i]);
                write_text(path, doc);
                ck_assert_int_lt(registry_config_load(path, &c, &err), 0);
                ck_assert_msg(strstr(err->msg, "\"registry-stall-timeout\" must be a number of seconds"), "%s: %s",
                              bad_stall[i], err->msg);
                berth_error_free(&err);
        }

        write_text(path, "{\"insecure-registries\": \"x\"}");
        ck_assert_int_lt(registry_config_load(path, &c, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "\"insecure-registries\" must be a list of strings"));
        berth_error_free(&err);
        write_text(path, "{\"default-registry\": 5}");
        ck_assert_int_lt(registry_config_load(path, &c, &err), 0);
        berth_error_free(&err);
        write_text(path, "[]");
        ck_assert_int_lt(registry_config_load(path, &c, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "not an object"));
}
END_TEST

START_TEST(test_server_host)
{
        const char *cases[][2] = {
                { "localhost:5000", "localhost:5000" },     { "https://Reg.IO:443/v2/", "reg.io:443" },
                { "https://index.docker.io/v1/", "docker.io" }, { "registry-1.docker.io", "docker.io" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                cleanup_free char *h = registry_server_host(cases[i][0]);
                ck_assert_str_eq(h, cases[i][1]);
        }
        cleanup_free char *d = registry_server_host(NULL);
        ck_assert_str_eq(d, "docker.io");
}
END_TEST

/* ---- platform selection --------------------------------------------------------- */
static json_t *index_of(const char *text)
{
        json_t *j = json_loads(text, 0, NULL);
        ck_assert_ptr_nonnull(j);
        return j;
}

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
             c c c c c c c c c c c c c c c c c

static const char multi[] =
        "{\"schemaVersion\": 2, \"manifests\": ["
        "{\"digest\": \"" D("a") "\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", \"variant\": \"v7\"}},"
        "{\"digest\": \"" D("b") "\", \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}},"
        "{\"digest\": \"" D("c") "\", \"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\", \"variant\": \"v8\"}},"
        "{\"digest\": \"" D("d") "\", \"platform\": {\"os\": \"unknown\", \"architecture\": \"unknown\"}},"
        "{\"digest\": \"" D("e") "\", \"platform\": {\"os\": \"windows\", \"architecture\": \"amd64\"}}]}";

static const char *pick(json_t *idx, const char *platform)
{
        json_t *d = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_msg(registry_index_select(idx, platform, &d, &err) == 0, "%s: %s", platform ? platform : "(null)",
                      err ? err->msg : "");
        return json_string_value(json_object_get(d, "digest"));
}

START_TEST(test_index_select)
{
        json_t *idx = index_of(multi);
        ck_assert_str_eq(pick(idx, "linux/amd64"), D("b"));
        if (streq(image_go_arch(), "amd64"))
                ck_assert_str_eq(pick(idx, NULL), D("b"));
        ck_assert_str_eq(pick(idx, "linux/arm64"), D("c"));
        ck_assert_str_eq(pick(idx, "linux/arm64/v8"), D("c"));
        ck_assert_str_eq(pick(idx, "linux/arm/v7"), D("a"));
        ck_assert_str_eq(pick(idx, "windows/amd64"), D("e"));
        json_t *d = NULL;
        cleanup_error berth_error_t err = NULL;
        ck_assert_int_lt(registry_index_select(idx, "linux/s390x", &d, &err), 0);
        ck_assert_str_eq(err->msg, "no matching manifest for linux/s390x in the manifest list entries");
        berth_error_free(&err);
        ck_assert_int_lt(registry_index_select(idx, "linux/arm/v6", &d, &err), 0);
        berth_error_free(&err);
        ck_assert_int_lt(registry_index_select(idx, "/amd64", &d, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "invalid platform"));
        berth_error_free(&err);
        ck_assert_int_lt(registry_index_select(idx, "a/b/c/d", &d, &err), 0);
        berth_error_free(&err);
        json_decref(idx);

        /* one image without a platform: that one; attestations do not count */
        idx = index_of("{\"manifests\": [{\"digest\": \"" D("f") "\"}, {\"digest\": \"" D("1") "\", \"platform\": "
                       "{\"os\": \"unknown\", \"architecture\": \"unknown\"}}]}");
        ck_assert_str_eq(pick(idx, NULL), D("f"));
        json_decref(idx);
        /* a bad digest in the chosen entry */
        idx = index_of("{\"manifests\": [{\"digest\": \"md5:x\", \"platform\": {\"os\": \"linux\", "
                       "\"architecture\": \"amd64\"}}]}");
        ck_assert_int_lt(registry_index_select(idx, "linux/amd64", &d, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "valid sha256 digest"));
        json_decref(idx);
}
END_TEST

/* ---- URLs ------------------------------------------------------------------------ */
START_TEST(test_urls)
{
        cleanup_free char *a = registry_url("http://127.0.0.1:5000", "library/busybox", "manifests", "latest");
        ck_assert_str_eq(a, "http://127.0.0.1:5000/v2/library/busybox/manifests/latest");
        cleanup_free char *b = registry_url("https://r.io", "a/b/c", "blobs", D("a"));
        ck_assert_str_eq(b, "https://r.io/v2/a/b/c/blobs/" D("a"));
        cleanup_free char *c = registry_url("https://r.io", "x", "blobs/uploads/", NULL);
        ck_assert_str_eq(c, "https://r.io/v2/x/blobs/uploads/");

        /* Location: absolute, absolute path, with and without a query */
        cleanup_free char *u1 = registry_upload_url("http://127.0.0.1:5000", "/v2/x/blobs/uploads/u1?_state=S",
                                                    "digest=sha256:ab");
        ck_assert_str_eq(u1, "http://127.0.0.1:5000/v2/x/blobs/uploads/u1?_state=S&digest=sha256:ab");
        cleanup_free char *u2 = registry_upload_url("https://r.io/base", "/v2/x/blobs/uploads/u2", "digest=d");
        ck_assert_str_eq(u2, "https://r.io/v2/x/blobs/uploads/u2?digest=d");
        cleanup_free char *u3 = registry_upload_url("https://r.io", "https://cdn.io/up/u3?a=1", "digest=d");
        ck_assert_str_eq(u3, "https://cdn.io/up/u3?a=1&digest=d");
        cleanup_free char *u4 = registry_upload_url("https://r.io", "uploads/u4", "digest=d");
        ck_assert_str_eq(u4, "https://r.io/uploads/u4?digest=d");

        /* a catalog's Link: relative to the origin */
        cleanup_free char *l1 = registry_url_resolve("http://127.0.0.1:5000", "/v2/_catalog?last=b&n=2");
        ck_assert_str_eq(l1, "http://127.0.0.1:5000/v2/_catalog?last=b&n=2");
        cleanup_free char *l2 = registry_url_resolve("https://r.io/prefix", "https://s.io/v2/_catalog?n=1");
        ck_assert_str_eq(l2, "https://s.io/v2/_catalog?n=1");
}
END_TEST

/* ---- search ------------------------------------------------------------------------- */
static void check_split(const char *term, const char *host, const char *query)
{
        char *h = NULL, *q = NULL;
        registry_search_term_split(term, &h, &q);
        if (host)
                ck_assert_str_eq(h, host);
        else
                ck_assert_ptr_null(h);
        ck_assert_str_eq(q, query);
        free(h);
        free(q);
}

START_TEST(test_search_term)
{
        check_split("ubuntu", NULL, "ubuntu");
        check_split("team/app", NULL, "team/app");
        check_split("localhost:5000/python", "localhost:5000", "python");
        check_split("localhost/python", "localhost", "python");
        check_split("Reg.Example.com/a/b", "reg.example.com", "a/b");
        check_split("127.0.0.1:5000/", "127.0.0.1:5000", "");
        check_split("index.docker.io/nginx", "docker.io", "nginx");
        check_split("docker.io/library/nginx", "docker.io", "library/nginx");
        /* "localhostx" and "local" are not hosts */
        check_split("localhostx/a", NULL, "localhostx/a");
        check_split("local/a", NULL, "local/a");
}
END_TEST

static struct registry_search_result result(long long stars, bool official, bool automated)
{
        return (struct registry_search_result) { .name = "n", .description = "", .stars = stars,
                                                 .official = official, .automated = automated };
}

START_TEST(test_search_filter)
{
        cleanup_error berth_error_t err = NULL;
        struct registry_search_filter f = REGISTRY_SEARCH_FILTER_INIT;
        struct registry_search_result plain = result(3, false, false), off = result(500, true, false),
                                      aut = result(20, false, true);
        ck_assert(registry_search_filter_match(&f, &plain));
        ck_assert(registry_search_filter_match(&f, &off));

        ck_assert_int_eq(registry_search_filter_add(&f, "stars=10", &err), 0);
        ck_assert_int_eq(registry_search_filter_add(&f, "stars=5", &err), 0); /* the largest wins */
        ck_assert_int_eq(f.stars, 10);
        ck_assert(!registry_search_filter_match(&f, &plain));
        ck_assert(registry_search_filter_match(&f, &off));
        ck_assert(registry_search_filter_match(&f, &aut));
        ck_assert_int_eq(registry_search_filter_add(&f, "is-official=true", &err), 0);
        ck_assert(registry_search_filter_match(&f, &off));
        ck_assert(!registry_search_filter_match(&f, &aut));
        ck_assert_int_eq(registry_search_filter_add(&f, "is-official=0", &err), 0); /* the last wins */
        ck_assert(!registry_search_filter_match(&f, &off));
        ck_assert(registry_search_filter_match(&f, &aut));
        ck_assert_int_eq(registry_search_filter_add(&f, "is-automated=F", &err), 0);
        ck_assert(!registry_search_filter_match(&f, &aut));
        ck_assert_int_eq(registry_search_filter_add(&f, "is-automated=True", &err), 0);
        ck_assert(registry_search_filter_match(&f, &aut));

        static const struct {
                const char *spec, *msg;
        } bad[] = {
                { "stars=", "invalid filter 'stars='" },
                { "stars=1x", "invalid filter 'stars=1x'" },
                { "stars=99999999999999999999", "invalid filter 'stars=99999999999999999999'" },
                { "is-official=yes", "invalid filter 'is-official=yes'" },
                { "is-automated=", "invalid filter 'is-automated='" },
                { "name=x", "invalid filter 'name'" },
                { "stars", "bad format of filter (expected name=value): stars" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                berth_error_free(&err);
                ck_assert_int_lt(registry_search_filter_add(&f, bad[i].spec, &err), 0);
                ck_assert_str_eq(err->msg, bad[i].msg);
        }
}
END_TEST

static void check_next(const char *link, const char *want)
{
        char *got = registry_link_next(link);
        if (want)
                ck_assert_str_eq(got, want);
        else
                ck_assert_ptr_null(got);
        free(got);
}

START_TEST(test_link_next)
{
        /* distribution's own */
        check_next("</v2/_catalog?last=b&n=2>; rel=\"next\"", "/v2/_catalog?last=b&n=2");
        check_next("<https://r.io/v2/_catalog?n=2&last=a%2Fb>;rel=next", "https://r.io/v2/_catalog?n=2&last=a%2Fb");
        /* several links, other parameters, a quoted comma, a rel list, any case */
        check_next("</p1>; rel=\"prev\", </p3>; title=\"a, b\"; REL=\"last Next\"", "/p3");
        check_next("  </first>; rel=first ,</n>; type=\"x;y\"; rel=next", "/n");
        /* no next */
        check_next("</p1>; rel=\"prev\"", NULL);
        check_next("</p1>; rel=\"nextpage\"", NULL);
        check_next("</p1>", NULL);
        check_next("", NULL);
        check_next("garbage; rel=next", NULL);
        check_next("</unclosed; rel=next", NULL);
}
END_TEST

START_TEST(test_search_answers)
{
        cleanup_error berth_error_t err = NULL;
        struct registry_search_results res = {};
        const char v1[] = "{\"num_results\": 3, \"results\": ["
                          "{\"name\": \"ubuntu\", \"description\": \"Ubuntu.\", \"star_count\": 10000,"
                          " \"is_official\": true, \"is_automated\": false},"
                          "{\"name\": \"u/ubuntu-x\", \"star_count\": 4, \"is_automated\": true},"
                          "{\"name\": \"third\"}]}";
        ck_assert_int_eq(registry_search_parse_v1(v1, strlen(v1), NULL, 2, &res, &err), 0);
        ck_assert_uint_eq(res.n, 2);
        ck_assert_str_eq(res.v[0].name, "ubuntu");
        ck_assert_str_eq(res.v[0].description, "Ubuntu.");
        ck_assert_int_eq(res.v[0].stars, 10000);
        ck_assert(res.v[0].official && !res.v[0].automated);
        ck_assert_str_eq(res.v[1].name, "u/ubuntu-x");
        ck_assert_str_eq(res.v[1].description, "");
        ck_assert(!res.v[1].official && res.v[1].automated);
        registry_search_results_free(&res);
        ck_assert_int_eq(registry_search_parse_v1(v1, strlen(v1), "r.io:5000", 25, &res, &err), 0);
        ck_assert_uint_eq(res.n, 3);
        ck_assert_str_eq(res.v[2].name, "r.io:5000/third");
        registry_search_results_free(&res);

        ck_assert_int_lt(registry_search_parse_v1("<html>", 6, NULL, 25, &res, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "no \"results\" list"));
        berth_error_free(&err);
        ck_assert_int_lt(registry_search_parse_v1("{\"results\": [{\"star_count\": 1}]}", 32, NULL, 25, &res, &err),
                         0);
        ck_assert_str_eq(err->msg, "result 1 has no name");
        berth_error_free(&err);
        registry_search_results_free(&res);

        /* catalog pages add up; matching ignores case; the limit stops it */
        const char p1[] = "{\"repositories\": [\"apps/Python\", \"web/nginx\"]}";
        const char p2[] = "{\"repositories\": [\"x/python-slim\", 7, \"z/jython\"]}";
        ck_assert_int_eq(registry_search_parse_catalog(p1, strlen(p1), "pyTHon", "h:1", 2, &res, &err), 0);
        ck_assert_uint_eq(res.n, 1);
        ck_assert_int_eq(registry_search_parse_catalog(p2, strlen(p2), "pyTHon", "h:1", 2, &res, &err), 0);
        ck_assert_uint_eq(res.n, 2);
        ck_assert_str_eq(res.v[0].name, "h:1/apps/Python");
        ck_assert_str_eq(res.v[1].name, "h:1/x/python-slim");
        ck_assert_str_eq(res.v[1].description, "");
        ck_assert_int_eq(res.v[1].stars, 0);
        registry_search_results_free(&res);
        ck_assert_int_eq(registry_search_parse_catalog(p1, strlen(p1), "", "h:1", 25, &res, &err), 0);
        ck_assert_uint_eq(res.n, 2);
        registry_search_results_free(&res);
        ck_assert_int_lt(registry_search_parse_catalog("{}", 2, "a", "h:1", 25, &res, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "no \"repositories\" list"));
}
END_TEST

START_TEST(test_ellipsis)
{
        cleanup_free char *a = format_ellipsis("short", 45);
        ck_assert_str_eq(a, "short");
        cleanup_free char *b = format_ellipsis("abcdef", 6);
        ck_assert_str_eq(b, "abcdef");
        cleanup_free char *c = format_ellipsis("abcdefg", 6);
        ck_assert_str_eq(c, "abcde…");
        cleanup_free char *d = format_ellipsis("äöüßéèê", 6); /* characters, not bytes */
        ck_assert_str_eq(d, "äöüßé…");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("registry");
        TCase *tc = tcase_create("challenge");
        tcase_add_test(tc, test_challenge_bearer);
        tcase_add_test(tc, test_challenge_basic_and_errors);
        tcase_add_test(tc, test_base64);
        suite_add_tcase(s, tc);
        tc = tcase_create("auth");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_auth_file_roundtrip);
        tcase_add_test(tc, test_auth_file_docker_keys);
        tcase_add_test(tc, test_auth_file_helper);
        tcase_add_test(tc, test_auth_paths);
        tcase_add_test(tc, test_config);
        tcase_add_test(tc, test_server_host);
        suite_add_tcase(s, tc);
        tc = tcase_create("index");
        tcase_add_test(tc, test_index_select);
        tcase_add_test(tc, test_urls);
        suite_add_tcase(s, tc);
        tc = tcase_create("search");
        tcase_add_test(tc, test_search_term);
        tcase_add_test(tc, test_search_filter);
        tcase_add_test(tc, test_link_next);
        tcase_add_test(tc, test_search_answers);
        tcase_add_test(tc, test_ellipsis);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
