/* Fuzz target: definition files (.container, systemd INI syntax and the
 * key table), loaded from a memfd; for what loads, the drop-in text and
 * the [Install] links the generator would write. */
#include "config.h"

#include "berth/definition.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[32];
        cleanup_close int fd = fuzz_file(data, size, path);
        if (fd < 0)
                return 0;
        cleanup_definition struct definition *d = NULL;
        cleanup_error berth_error_t err = NULL;
        if (definition_load(path, "fuzz", &d, &err) < 0)
                return 0;
        cleanup_free char *dropin = definition_dropin(d);
        cleanup_free char *dropin_path = definition_dropin_path(d, "/run/systemd/generator");
        cleanup_strv char **links = definition_install_links(d);
        if (!dropin || !dropin_path || !links)
                abort();
        return 0;
}
