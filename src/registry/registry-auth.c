/* berth — what a registry client needs besides HTTP: the engine
 * configuration (/etc/berth/config.json), WWW-Authenticate challenges, and
 * credentials in Docker's auth file format.  See
 * include/berth/registry-internal.h.  Pure functions only; the transport is
 * in registry-transport.c. */
#include "config.h"

#include <ctype.h>
#include <sys/stat.h>

#include "berth/registry-internal.h"
#include "berth/rootless.h"
#include "berth/util.h"

/* ---- engine configuration ------------------------------------------------ */

static int config_strings(json_t *root, const char *key, char ***out, const char *path, berth_error_t *err)
{
        json_t *v = json_object_get(root, key);
        *out = xcalloc(1, sizeof(char *));
        if (!v)
                return 0;
        if (!json_is_array(v))
                return berth_error(err, 0, "%s: \"%s\" must be a list of strings", path, key);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
                if (!json_is_string(e))
                        return berth_error(err, 0, "%s: \"%s\" must be a list of strings", path, key);
                strv_push(out, json_string_value(e));
        }
        return 0;
}

int registry_config_load(const char *path, struct registry_config *c, berth_error_t *err)
{
        memset(c, 0, sizeof(*c));
        json_auto_t *root = NULL;
        if (access(path, F_OK) == 0) {
                json_error_t je;
                root = json_load_file(path, 0, &je);
                if (!json_is_object(root))
                        return berth_error(err, 0, "%s: invalid JSON (%s, line %d)", path,
                                           root ? "not an object" : je.text, je.line);
        }
        if (config_strings(root, "insecure-registries", &c->insecure, path, err) < 0 ||
            config_strings(root, "registry-mirrors", &c->mirrors, path, err) < 0) {
                registry_config_free(c);
                return -1;
        }
        json_t *d = json_object_get(root, "default-registry");
        if (d && (!json_is_string(d) || !*json_string_value(d))) {
                registry_config_free(c);
                return berth_error(err, 0, "%s: \"default-registry\" must be a host name", path);
        }
        if (d)
                c->default_registry = registry_server_host(json_string_value(d));
        json_t *st = json_object_get(root, "registry-stall-timeout");
        c->stall_timeout = REGISTRY_STALL_TIMEOUT;
        if (st && (!json_is_integer(st) || json_integer_value(st) < 1 || json_integer_value(st) > 86400)) {
                registry_config_free(c);
                return berth_error(err, 0, "%s: \"registry-stall-timeout\" must be a number of seconds (1 to 86400)",
                                   path);
        }
        if (st)
                c->stall_timeout = (long) json_integer_value(st);
        return 0;
}

void registry_config_free(struct registry_config *c)
{
        strv_free(c->insecure);
        strv_free(c->mirrors);
        free(c->default_registry);
        memset(c, 0, sizeof(*c));
}

bool registry_config_insecure(const struct registry_config *c, const char *host)
{
        size_t hlen = strcspn(host, ":");
        for (size_t i = 0; c->insecure && c->insecure[i]; i++) {
                cleanup_free char *e = registry_server_host(c->insecure[i]);
                if (streq(e, host))
                        return true;
                /* "host" without a port covers every port of that host */
                if (!strchr(e, ':') && strlen(e) == hlen && strncmp(e, host, hlen) == 0)
                        return true;
        }
        return false;
}

/* "https://Host:5000/v1/" -> "host:5000"; index.docker.io and
 * registry-1.docker.io are docker.io. */
char *registry_server_host(const char *server)
{
        if (!server || !*server)
                return xstrdup(DOCKER_IO);
        const char *p = strstr(server, "://");
        p = p ? p + 3 : server;
        char *h = xstrndup(p, strcspn(p, "/"));
        for (char *c = h; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        if (streq(h, "index.docker.io") || streq(h, "registry-1.docker.io")) {
                free(h);
                h = xstrdup(DOCKER_IO);
        }
        return h;
}

/* ---- WWW-Authenticate ------------------------------------------------------ */

/* One auth-param value: a quoted string (with \ escapes) or a token. */
static const char *parse_value(const char *p, char **out)
{
        size_t cap = strlen(p) + 1, n = 0;
        char *v = xmalloc(cap);
        if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                        if (*p == '\\' && p[1])
                                p++;
                        v[n++] = *p++;
                }
                if (*p == '"')
                        p++;
        } else {
                while (*p && *p != ',' && !isspace((unsigned char) *p))
                        v[n++] = *p++;
        }
        v[n] = '\0';
        *out = v;
        return p;
}

int registry_challenge_parse(const char *header, struct registry_challenge *out, berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        const char *p = header;
        while (isspace((unsigned char) *p))
                p++;
        size_t n = strcspn(p, " \t");
        if (n == 0)
                return berth_error(err, 0, "empty WWW-Authenticate header");
        out->scheme = xstrndup(p, n);
        for (char *c = out->scheme; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        p += n;
        for (;;) {
                while (isspace((unsigned char) *p) || *p == ',')
                        p++;
                if (!*p)
                        break;
                size_t k = strcspn(p, "= \t,");
                if (p[k] != '=') {
                        registry_challenge_free(out);
                        return berth_error(err, 0, "malformed WWW-Authenticate header `%s`", header);
                }
                cleanup_free char *key = xstrndup(p, k);
                char *val = NULL;
                p = parse_value(p + k + 1, &val);
                char **slot = strcasecmp(key, "realm") == 0     ? &out->realm
                              : strcasecmp(key, "service") == 0 ? &out->service
                              : strcasecmp(key, "scope") == 0   ? &out->scope
                              : strcasecmp(key, "error") == 0   ? &out->error
                                                                : NULL;
                if (slot) {
                        free(*slot);
                        *slot = val;
                } else
                        free(val);
        }
        if (streq(out->scheme, "bearer") && (!out->realm || !*out->realm)) {
                registry_challenge_free(out);
                return berth_error(err, 0, "WWW-Authenticate: a Bearer challenge without a realm: `%s`", header);
        }
        return 0;
}

void registry_challenge_free(struct registry_challenge *c)
{
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        free(c->error);
        memset(c, 0, sizeof(*c));
}

/* ---- base64 ------------------------------------------------------------------ */
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *registry_base64_encode(const void *data, size_t len)
{
        const unsigned char *in = data;
        char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned) in[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned) in[i + 1] << 8;
                if (i + 2 < len)
                        v |= in[i + 2];
                *o++ = b64[(v >> 18) & 63];
                *o++ = b64[(v >> 12) & 63];
                *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? b64[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

char *registry_base64_decode(const char *text, size_t *len)
{
        size_t n = strlen(text);
        char *out = xmalloc(n / 4 * 3 + 3);
        size_t o = 0;
        unsigned v = 0;
        int bits = 0;
        size_t pad = 0;
        for (size_t i = 0; i < n; i++) {
                if (text[i] == '=') {
                        pad++;
                        continue;
                }
                const char *c = text[i] ? strchr(b64, text[i]) : NULL;
                if (!c || pad) {
                        free(out);
                        return NULL;
                }
                v = (v << 6) | (unsigned) (c - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (char) ((v >> bits) & 0xff);
                }
        }
        if (pad > 2 || (n % 4 != 0 && pad)) {
                free(out);
                return NULL;
        }
        out[o] = '\0';
        if (len)
                *len = o;
        return out;
}

/* ---- auth files ---------------------------------------------------------------- */

char *registry_auth_path(void)
{
        const char *x = getenv("XDG_CONFIG_HOME");
        if (x && *x)
                return xasprintf("%s/berth/auth.json", x);
        cleanup_free char *h = rootless_home(); /* the user's, also in berth's user namespace */
        return xasprintf("%s/.config/berth/auth.json", h);
}

char *registry_docker_config_path(void)
{
        const char *d = getenv("DOCKER_CONFIG");
        if (d && *d)
                return xasprintf("%s/config.json", d);
        cleanup_free char *h = rootless_home();
        return xasprintf("%s/.docker/config.json", h);
}

static int auth_file_load(const char *path, json_t **out, berth_error_t *err)
{
        *out = NULL;
        if (access(path, F_OK) < 0)
                return 0;
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        if (!json_is_object(j)) {
                json_decref(j);
                return berth_error(err, 0, "%s: invalid JSON (%s)", path, j ? "not an object" : je.text);
        }
        json_t *auths = json_object_get(j, "auths");
        if (auths && !json_is_object(auths)) {
                json_decref(j);
                return berth_error(err, 0, "%s: \"auths\" is not an object", path);
        }
        *out = j;
        return 0;
}

/* The key of auths that names host (with or without scheme and path). */
static const char *auth_key_find(json_t *auths, const char *host)
{
        const char *key;
        json_t *v;
        json_object_foreach(auths, key, v) {
                cleanup_free char *h = registry_server_host(key);
                if (streq(h, host))
                        return key;
        }
        return NULL;
}

int registry_auth_file_get(const char *path, const char *host, char **user, char **password, berth_error_t *err)
{
        json_auto_t *j = NULL;
        if (auth_file_load(path, &j, err) < 0)
                return -1;
        json_t *auths = json_object_get(j, "auths");
        const char *key = auths ? auth_key_find(auths, host) : NULL;
        if (!key)
                return 0;
        const char *a = json_string_value(json_object_get(json_object_get(auths, key), "auth"));
        if (!a || !*a)
                return 0; /* a credential helper's entry: not ours to read */
        cleanup_free char *plain = registry_base64_decode(a, NULL);
        char *colon = plain ? strchr(plain, ':') : NULL;
        if (!colon)
                return berth_error(err, 0, "%s: the credentials for %s are not base64(user:password)", path, host);
        *user = xstrndup(plain, (size_t) (colon - plain));
        *password = xstrdup(colon + 1);
        return 1;
}

int registry_auth_file_helper(const char *path, const char *host, char **helper, berth_error_t *err)
{
        *helper = NULL;
        json_auto_t *j = NULL;
        if (auth_file_load(path, &j, err) < 0)
                return -1;
        json_t *helpers = json_object_get(j, "credHelpers");
        if (helpers && !json_is_object(helpers))
                return berth_error(err, 0, "%s: \"credHelpers\" is not an object", path);
        const char *key = helpers ? auth_key_find(helpers, host) : NULL;
        json_t *name = key ? json_object_get(helpers, key) : json_object_get(j, "credsStore");
        if (!name)
                return 0;
        const char *n = json_string_value(name);
        if (!n || strchr(n, '/'))
                return berth_error(err, 0, "%s: \"%s\" must name a credential helper (NAME of docker-credential-NAME)",
                                   path, key ? "credHelpers" : "credsStore");
        if (*n)
                *helper = xstrdup(n);
        return 0;
}

/* The directory of berth's auth file is 0700, also when it existed with a
 * looser mode (as an earlier berth or a user's mkdir left it). */
static int auth_dir_private(const char *path, berth_error_t *err)
{
        cleanup_free char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        struct stat st;
        if (stat(dir, &st) < 0)
                return berth_error(err, errno, "stat `%s`", dir);
        if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
                return berth_error(err, errno, "make `%s` private (chmod 0700)", dir);
        return 0;
}

int registry_auth_file_set(const char *path, const char *host, const char *user, const char *password,
                           bool *existed, berth_error_t *err)
{
        json_auto_t *j = NULL;
        if (auth_file_load(path, &j, err) < 0)
                return -1;
        if (!j)
                j = json_object();
        json_t *auths = json_object_get(j, "auths");
        if (!auths) {
                auths = json_object();
                json_object_set_new(j, "auths", auths);
        }
        const char *key;
        bool had = false;
        while ((key = auth_key_find(auths, host))) {
                json_object_del(auths, key);
                had = true;
        }
        if (existed)
                *existed = had;
        if (user && password) {
                cleanup_free char *plain = xasprintf("%s:%s", user, password);
                cleanup_free char *enc = registry_base64_encode(plain, strlen(plain));
                explicit_bzero(plain, strlen(plain));
                json_object_set_new(auths, host, json_pack("{s:s}", "auth", enc));
        } else if (user) /* the secret is with a credential helper */
                json_object_set_new(auths, host, json_object());
        else if (!had)
                return 0;
        if (auth_dir_private(path, err) < 0)
                return -1;
        cleanup_free char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
        if (!text)
                abort();
        cleanup_free char *withnl = xasprintf("%s\n", text);
        return write_file_atomic(path, withnl, strlen(withnl), 0600, err);
}
