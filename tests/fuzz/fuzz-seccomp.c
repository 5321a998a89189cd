/* Fuzz target: --security-opt seccomp=PROFILE, Docker's JSON profile format
 * compiled with libseccomp (names, arches, args comparisons, includes and
 * excludes by capability), as `berth run` checks a profile it is given. */
#include "config.h"

#include <seccomp.h>

#include "berth/caps.h"
#include "berth/seccomp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cleanup_free char *text = fuzz_text(data, size);
        cleanup_error berth_error_t err = NULL;
        scmp_filter_ctx ctx = NULL;
        if (seccomp_build(text, caps_default_mask(), &ctx, &err) == 0 && ctx)
                seccomp_release(ctx);
        return 0;
}
