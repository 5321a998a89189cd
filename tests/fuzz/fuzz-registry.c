/* Fuzz target: what registries and auth files say to berth.  The first byte
 * chooses: a WWW-Authenticate challenge, base64 (the "auth" of an auth
 * file), an auth file (Docker's config.json format, read from a memfd),
 * berth's /etc/berth/config.json (insecure-registries, mirrors...), an image
 * index (the platform pull picks), a Link header and a Location (paging and
 * redirects), or a search answer (Docker Hub's /v1/search, a catalog page). */
#include "config.h"

#include <jansson.h>

#include "berth/registry-internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        unsigned which = data[0] % 8;
        data++;
        size--;
        cleanup_error berth_error_t err = NULL;
        switch (which) {
        case 0: {
                cleanup_free char *text = fuzz_text(data, size);
                struct registry_challenge c = { 0 };
                if (registry_challenge_parse(text, &c, &err) == 0)
                        registry_challenge_free(&c);
                break;
        }
        case 1: {
                cleanup_free char *text = fuzz_text(data, size);
                size_t len = 0;
                cleanup_free char *raw = registry_base64_decode(text, &len);
                if (raw) { /* what decodes encodes back to a string that decodes the same */
                        cleanup_free char *again = registry_base64_encode(raw, len);
                        size_t len2 = 0;
                        cleanup_free char *raw2 = registry_base64_decode(again, &len2);
                        if (!raw2 || len2 != len || memcmp(raw, raw2, len) != 0)
                                abort();
                }
                break;
        }
        case 2: {
                char path[32];
                cleanup_close int fd = fuzz_file(data, size, path);
                if (fd < 0)
                        return 0;
                cleanup_free char *user = NULL, *password = NULL;
                (void) registry_auth_file_get(path, "registry.example.com:5000", &user, &password, &err);
                break;
        }
        case 3: {
                char path[32];
                cleanup_close int fd = fuzz_file(data, size, path);
                if (fd < 0)
                        return 0;
                struct registry_config c = { 0 };
                if (registry_config_load(path, &c, &err) == 0) {
                        (void) registry_config_insecure(&c, "localhost:5000");
                        registry_config_free(&c);
                }
                break;
        }
        case 4: {
                json_auto_t *index = json_loadb((const char *) data, size, 0, NULL);
                json_t *desc = NULL;
                if (index && registry_index_select(index, "linux/amd64", &desc, &err) == 0 && !desc)
                        abort(); /* success names a manifest */
                break;
        }
        case 5: {
                cleanup_free char *text = fuzz_text(data, size);
                cleanup_free char *next = registry_link_next(text);
                cleanup_free char *url = registry_url_resolve("https://registry.example.com:5000/v2/a/b", text);
                break;
        }
        case 6:
        case 7: {
                struct registry_search_results res = { 0 };
                if (which == 6)
                        (void) registry_search_parse_v1((const char *) data, size, "registry.example.com", 100,
                                                        &res, &err);
                else
                        (void) registry_search_parse_catalog((const char *) data, size, "ub", "localhost:5000", 100,
                                                             &res, &err);
                registry_search_results_free(&res);
                break;
        }
        }
        return 0;
}
