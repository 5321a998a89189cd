/* berth — login and logout: credentials checked against the registry's
 * /v2/ (Basic, or a Bearer token issued for them) before they are stored in
 * berth's auth.json, or in the credential helper an auth file names.  See
 * include/berth/registry.h. */
#include "config.h"

#include "berth/registry-internal.h"
#include "berth/util.h"

/* The credential helper for host: the one berth's auth.json names, else
 * Docker's config.json (NULL: none, the file keeps the secret). */
static int creds_helper(const char *host, char **helper, berth_error_t *err)
{
        cleanup_free char *a = registry_auth_path();
        if (registry_auth_file_helper(a, host, helper, err) < 0)
                return -1;
        if (*helper)
                return 0;
        cleanup_free char *d = registry_docker_config_path();
        return registry_auth_file_helper(d, host, helper, err);
}

static char *server_or_default(const struct registry_config *cfg, const char *server)
{
        if (server)
                return registry_server_host(server);
        return xstrdup(cfg->default_registry ? cfg->default_registry : DOCKER_IO);
}

int registry_login(const char *server, const char *user, const char *password, berth_error_t *err)
{
        struct registry_config cfg;
        if (registry_engine_config_load(&cfg, err) < 0)
                return -1;
        cleanup_free char *host = server_or_default(&cfg, server);
        cleanup_client struct reg_client *c = NULL;
        int r = reg_client_open(&cfg, host, NULL, NULL, false, &c, err); /* (the new ones, not stored ones) */
        registry_config_free(&cfg);
        if (r < 0)
                return -1;
        c->user = xstrdup(user);
        c->password = xstrdup(password);
        cleanup_free char *url = xasprintf("%s/v2/", c->base);
        struct http_resp resp = {};
        berth_error_t e = NULL;
        r = reg_request(c, "GET", url, NULL, NULL, &resp, &e);
        long status = resp.status;
        reg_resp_free(&resp);
        if (r < 0) {
                if (status == 401 || strstr(e->msg, "unauthorized")) {
                        berth_error_free(&e);
                        return berth_error(err, 0, "login to %s failed: unauthorized: incorrect username or password",
                                           host);
                }
                if (err && !*err)
                        *err = steal_pointer(&e);
                berth_error_free(&e);
                return berth_error_wrap(err, "login to %s failed", host);
        }
        if (status != 200)
                return berth_error(err, 0, "login to %s failed: GET %s answered HTTP status %ld", host, url, status);
        cleanup_free char *path = registry_auth_path();
        cleanup_free char *helper = NULL;
        if (creds_helper(host, &helper, err) < 0)
                return -1;
        if (helper && registry_credhelper_store(helper, host, user, password, err) < 0)
                return -1;
        /* with a helper, the file only says that there is a login */
        return registry_auth_file_set(path, host, user, helper ? NULL : password, NULL, err);
}

int registry_logout(const char *server, bool *was_logged_in, char **host_out, berth_error_t *err)
{
        struct registry_config cfg;
        if (registry_engine_config_load(&cfg, err) < 0)
                return -1;
        cleanup_free char *host = server_or_default(&cfg, server);
        registry_config_free(&cfg);
        cleanup_free char *path = registry_auth_path();
        cleanup_free char *helper = NULL;
        bool in_file = false, erased = false;
        if (creds_helper(host, &helper, err) < 0 ||
            registry_auth_file_set(path, host, NULL, NULL, &in_file, err) < 0)
                return -1;
        if (helper && registry_credhelper_erase(helper, host, &erased, err) < 0)
                return -1;
        if (was_logged_in)
                *was_logged_in = in_file || erased;
        if (host_out)
                *host_out = steal_pointer(&host);
        return 0;
}
