/* berth — libraries loaded on first use (src/base/dlopen-util.c).
 *
 * A library only some commands need (libcurl for the registry, libnftables
 * for published ports) is not linked: the module that uses it declares one
 * pointer per function it calls, typed from the library's own header,
 *
 *     extern DLSYM_PROTOTYPE(curl_easy_init);      -- in its header
 *     DLSYM_PROTOTYPE(curl_easy_init) = NULL;      -- in its .c
 *
 * and, before the first call, resolves them all at once:
 *
 *     static void *dl;
 *     r = dlopen_many_sym(&dl, "libcurl.so.4", err,
 *                         DLSYM_ARG(curl_easy_init), ..., NULL);
 *
 * then calls sym_curl_easy_init().  So `berth version` or `berth ps` never
 * maps libcurl and what it pulls in (krb5, ldap, gnutls, ICU...). */
#ifndef BERTH_DLOPEN_UTIL_H
#define BERTH_DLOPEN_UTIL_H

#include "berth/error.h"

/* The pointer to FUNCTION, with FUNCTION's prototype. */
#define DLSYM_PROTOTYPE(symbol) typeof(symbol) *sym_##symbol

/* The two arguments dlopen_many_sym() takes per function: where to store
 * it (checked to have the real function's type) and its name. */
#define DLSYM_ARG(symbol)                                                                        \
        (__builtin_choose_expr(__builtin_types_compatible_p(typeof(sym_##symbol), typeof(&symbol)), \
                               (void *) &sym_##symbol, (void) 0)),                               \
                #symbol

/* Load FILENAME (a soname such as "libcurl.so.4") and resolve each
 * (void *where, const char *name) pair up to a NULL into *where.  Once done
 * (*dlp set) it returns 0 at once.  A missing library or function is one
 * error: "FILENAME is not available: WHY"; nothing is kept then. */
int dlopen_many_sym(void **dlp, const char *filename, berth_error_t *err, ...) __attribute__((sentinel));

#endif
