/* berth — libraries loaded on first use (see include/berth/dlopen-util.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>

#include "berth/dlopen-util.h"

typedef void (*dl_fn)(void);

int dlopen_many_sym(void **dlp, const char *filename, berth_error_t *err, ...)
{
        if (*dlp)
                return 0;
        /* RTLD_NODELETE: the pointers stay good whoever else loads and
         * unloads it; the library is never closed once resolved. */
        void *dl = dlopen(filename, RTLD_NOW | RTLD_NODELETE);
        if (!dl)
                return berth_error(err, 0, "%s is not available: %s", filename, dlerror());

        /* Resolve everything first, store only when all were found. */
        size_t n = 0;
        va_list ap;
        va_start(ap, err);
        while (va_arg(ap, void *)) {
                (void) va_arg(ap, const char *);
                n++;
        }
        va_end(ap);
        dl_fn *found = calloc(n ? n : 1, sizeof(*found));
        if (!found)
                abort();

        int r = 0;
        va_start(ap, err);
        for (size_t i = 0; i < n; i++) {
                (void) va_arg(ap, void *);
                const char *name = va_arg(ap, const char *);
                (void) dlerror();
                void *p = dlsym(dl, name);
                if (!p) {
                        const char *why = dlerror();
                        r = berth_error(err, 0, "%s is not available: %s", filename,
                                        why ? why : "a function is missing");
                        break;
                }
                /* POSIX: a function's address fits a data pointer */
                found[i] = (dl_fn) p;
        }
        va_end(ap);
        if (r < 0) {
                free(found);
                dlclose(dl);
                return r;
        }

        va_start(ap, err);
        for (size_t i = 0; i < n; i++) {
                dl_fn *where = va_arg(ap, void *);
                (void) va_arg(ap, const char *);
                *where = found[i];
        }
        va_end(ap);
        free(found);
        *dlp = dl;
        return 0;
}
