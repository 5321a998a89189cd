/* Fuzz target: compose files — YAML through libyaml into the tree,
 * interpolation, normalisation of the short syntaxes, the merge (the
 * input merged over itself too) and the model; for what loads, the YAML and
 * JSON of `compose config`. */
#include "config.h"

#include "berth/compose.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[32];
        cleanup_close int fd = fuzz_file(data, size, path);
        if (fd < 0)
                return 0;
        static char *env[] = { "HOME=/home/fuzz", "TAG=1", "EMPTY=", NULL };
        char *one[] = { path, NULL }, *twice[] = { path, path, NULL };
        char **sets[] = { one, twice };
        for (size_t i = 0; i < 2; i++) {
                struct compose_options o = { .files = sets[i], .project_name = "fuzz", .workdir = "/nonexistent",
                                             .environ = env, .skip_env_files = true };
                cleanup_compose_project struct compose_project *p = NULL;
                cleanup_error berth_error_t err = NULL;
                if (compose_load(&o, &p, &err) < 0) {
                        if (!err || !err->msg)
                                abort();
                        continue;
                }
                cleanup_free char *y = compose_config_yaml(p, &err);
                cleanup_free char *j = compose_config_json(p);
                if (!y || !j)
                        abort();
                for (size_t s = 0; s < p->n_services; s++) {
                        cleanup_free char *n = compose_container_name(p, &p->services[s], 1);
                        if (!n || compose_find_service(p, p->services[s].name) != &p->services[s])
                                abort();
                }
        }
        return 0;
}
