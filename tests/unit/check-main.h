/* tests/unit/check-main.h — the main() every unit test binary shares: run
 * the suite SUITE_FN() builds, with the check framework's output level from
 * CK_VERBOSITY (CK_ENV), and exit non-zero if any test failed. */
#ifndef BERTH_CHECK_MAIN_H
#define BERTH_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define BERTH_CHECK_MAIN(suite_fn)                                    \
        int main(void)                                                \
        {                                                             \
                SRunner *sr = srunner_create(suite_fn());             \
                srunner_run_all(sr, CK_ENV);                          \
                int failed = srunner_ntests_failed(sr);               \
                srunner_free(sr);                                     \
                return failed ? EXIT_FAILURE : EXIT_SUCCESS;          \
        }

#endif
