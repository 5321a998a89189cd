/* berth — one error convention for the whole code base.
 *
 * Library functions return a negative value on failure and fill a
 * `berth_error_t *err` with a message (and the Docker-style exit code the CLI
 * should use).  Callers add context with berth_error_wrap().  Only the CLI
 * prints, once, at the top: "berth: <message>".
 *
 * A problem the library can go on past (a cache entry not written, a host
 * port ignored) is reported with berth_warn(): one line through the
 * program's warning printer, never printed by library code itself, never
 * swallowed.
 */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>

/* Docker's exit codes for engine-side failures. */
#define BERTH_EXIT_ENGINE 125   /* berth itself failed */
#define BERTH_EXIT_CANNOT_EXEC 126 /* the command exists but cannot run */
#define BERTH_EXIT_NOT_FOUND 127   /* the command does not exist */

struct berth_error {
        int errnum;    /* errno that caused it, or 0 */
        int exit_code; /* what the CLI exits with, BERTH_EXIT_ENGINE unless set */
        char *msg;
};
typedef struct berth_error *berth_error_t;

/* Set *err (if err != NULL and *err is NULL) to a new error.  When errnum is
 * not 0, ": strerror(errnum)" is appended.  Always returns -1 (or -errnum when
 * errnum > 0) so callers can `return berth_error(err, errno, "open `%s`", p);`.
 */
int berth_error(berth_error_t *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Same, with an explicit exit code for the CLI (126, 127, ...). */
int berth_error_exit(berth_error_t *err, int exit_code, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Prefix the existing message with context: "context: old message". */
int berth_error_wrap(berth_error_t *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Add what the user can do about it: "old message; hint". */
int berth_error_hint(berth_error_t *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void berth_error_free(berth_error_t *err);

/* A non-fatal problem, as one line through the printer the program
 * installed (berth_warn_set_printer); without one, "WARNING: MSG" on stderr
 * as Docker prints its warnings.  The same message is printed once per
 * process, so a loop over many containers does not repeat it. */
void berth_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warn with *err's message after "context: " (fmt), and free it. */
void berth_warn_error(berth_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
typedef void (*berth_warn_fn)(const char *msg);
void berth_warn_set_printer(berth_warn_fn fn);
static inline void berth_error_freep(berth_error_t *err) { berth_error_free(err); }
#define cleanup_error __attribute__((cleanup(berth_error_freep)))

#endif
