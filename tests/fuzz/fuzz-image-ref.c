/* Fuzz target: image references (Docker's reference grammar).  What parses
 * must print in full and familiar form, and the full form must parse back
 * to the same reference. */
#include "config.h"

#include "berth/image-ref.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cleanup_free char *text = fuzz_text(data, size);
        cleanup_error berth_error_t err = NULL;
        struct image_ref ref = { 0 };
        if (image_ref_parse(text, &ref, &err) < 0)
                return 0;
        cleanup_free char *full = image_ref_full(&ref);
        cleanup_free char *familiar = image_ref_familiar(&ref);
        cleanup_free char *repo = image_ref_familiar_repo(&ref);
        if (!full || !familiar || !repo)
                abort();

        struct image_ref again = { 0 };
        if (image_ref_parse(full, &again, &err) < 0) {
                fprintf(stderr, "'%s' parses, its full form '%s' does not: %s\n", text, full, err->msg);
                abort();
        }
        cleanup_free char *full_again = image_ref_full(&again);
        if (!streq(full, full_again)) {
                fprintf(stderr, "'%s' -> '%s' -> '%s'\n", text, full, full_again);
                abort();
        }
        image_ref_free(&again);
        image_ref_free(&ref);
        return 0;
}
