/* Fuzz target: .dockerignore.  The input up to the first NUL byte is the
 * .dockerignore file, the lines after it are the paths to match (without a
 * NUL, the file's own lines are the paths).  Also the pattern matcher on
 * its own (first line as the pattern, second as the path) and the path
 * cleaner. */
#include "config.h"

#include "berth/dockerfile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cleanup_free char *text = fuzz_text(data, size);
        const uint8_t *nul = memchr(data, '\0', size);
        cleanup_free char *paths = nul ? fuzz_text(nul + 1, size - (size_t) (nul + 1 - data)) : xstrdup(text);

        cleanup_error berth_error_t err = NULL;
        struct dockerignore *di = NULL;
        if (dockerignore_parse(text, &di, &err) == 0) {
                (void) dockerignore_has_exceptions(di);
                char *save = NULL;
                for (char *p = strtok_r(paths, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                        (void) dockerignore_excluded(di, p);
                        (void) dockerignore_walk_excluded(di, p);
                        free(df_path_clean(p));
                }
                dockerignore_free(di);
        }

        char *nl = strchr(text, '\n');
        if (nl) {
                *nl = '\0';
                char *end = strchr(nl + 1, '\n');
                if (end)
                        *end = '\0';
                (void) dockerignore_pattern_match(text, nl + 1);
        }
        return 0;
}
