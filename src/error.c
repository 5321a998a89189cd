/* berth — error objects: see include/berth/error.h for the convention. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/error.h"
#include "berth/util.h"

static int error_vset(berth_error_t *err, int exit_code, int errnum, const char *fmt, va_list ap)
{
        int ret = errnum > 0 ? -errnum : -1;
        if (!err || *err)
                return ret;
        char *msg = xvasprintf(fmt, ap);
        struct berth_error *e = xcalloc(1, sizeof(*e));
        e->errnum = errnum;
        e->exit_code = exit_code;
        if (errnum > 0) {
                e->msg = xasprintf("%s: %s", msg, strerror(errnum));
                free(msg);
        } else
                e->msg = msg;
        *err = e;
        return ret;
}

int berth_error(berth_error_t *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, BERTH_EXIT_ENGINE, errnum, fmt, ap);
        va_end(ap);
        return r;
}

int berth_error_exit(berth_error_t *err, int exit_code, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vset(err, exit_code, errnum, fmt, ap);
        va_end(ap);
        return r;
}

int berth_error_wrap(berth_error_t *err, const char *fmt, ...)
{
        if (!err || !*err)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        char *ctx = xvasprintf(fmt, ap);
        va_end(ap);
        char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
        free(ctx);
        free((*err)->msg);
        (*err)->msg = msg;
        return (*err)->errnum > 0 ? -(*err)->errnum : -1;
}

void berth_error_free(berth_error_t *err)
{
        if (!err || !*err)
                return;
        free((*err)->msg);
        free(*err);
        *err = NULL;
}
