/* Fuzz target: `--network pasta:OPTIONS` (pasta_options_parse), the pasta
 * command line made from what it accepted, and the one line berth makes of
 * pasta's error output (pasta_message). */
#include "config.h"

#include "berth/network-internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cleanup_free char *s = fuzz_text(data, size);
        cleanup_error berth_error_t err = NULL;
        cleanup_free char *mode = xasprintf("pasta:%s", s);
        cleanup_strv char **opts = NULL;
        if (pasta_options_parse(mode, &opts, &err) == 0)
                strv_free(pasta_argv("/proc/self/fd/3", "/run/x/pasta.pid", NULL, opts));
        free(pasta_message(s));
        return 0;
}
