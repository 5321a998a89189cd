/* tests/unit/check-main.h — the main() every unit test binary shares: run
 * the suite SUITE_FN() builds, with the check framework's output level from
 * CK_VERBOSITY (CK_ENV), and exit non-zero if any test failed, 77 if some
 * were skipped (berth_check_need_root()). */
#ifndef BERTH_CHECK_MAIN_H
#define BERTH_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

/* Did the suite builder leave tests out because this run cannot do them? */
static bool berth_check_skipped;

/* For the suite builder: true when running as root; otherwise the builder
 * leaves out the tests (what) that need it, and this says so on stderr. */
static inline bool berth_check_need_root(const char *what)
{
        if (geteuid() == 0)
                return true;
        fprintf(stderr, "SKIP: %s: needs root\n", what);
        berth_check_skipped = true;
        return false;
}

/* Exit 77 (automake's SKIP) when nothing failed but tests were left out: a
 * run without root must not pass as a full one.  Events (event.h) are off:
 * a unit test writes nothing to the host's journal. */
#define BERTH_CHECK_MAIN(suite_fn)                                    \
        int main(void)                                                \
        {                                                             \
                setenv("BERTH_EVENTS", "0", 1); /* no host journal */ \
                SRunner *sr = srunner_create(suite_fn());             \
                srunner_run_all(sr, CK_ENV);                          \
                int failed = srunner_ntests_failed(sr);               \
                srunner_free(sr);                                     \
                if (failed)                                           \
                        return EXIT_FAILURE;                          \
                return berth_check_skipped ? 77 : EXIT_SUCCESS;       \
        }

#endif
