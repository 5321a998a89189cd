/* berth — error objects: see include/berth/error.h for the convention. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
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

/* "added: message" (prefix) or "message; added". */
static int error_vedit(berth_error_t *err, bool prefix, const char *fmt, va_list ap)
{
        if (!err || !*err)
                return -1;
        char *added = xvasprintf(fmt, ap);
        char *msg = prefix ? xasprintf("%s: %s", added, (*err)->msg) : xasprintf("%s; %s", (*err)->msg, added);
        free(added);
        free((*err)->msg);
        (*err)->msg = msg;
        return (*err)->errnum > 0 ? -(*err)->errnum : -1;
}

int berth_error_wrap(berth_error_t *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vedit(err, true, fmt, ap);
        va_end(ap);
        return r;
}

int berth_error_hint(berth_error_t *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_vedit(err, false, fmt, ap);
        va_end(ap);
        return r;
}

void berth_error_free(berth_error_t *err)
{
        if (!err || !*err)
                return;
        free((*err)->msg);
        free(*err);
        *err = NULL;
}

static berth_warn_fn warn_printer;
static char **warned; /* what this process printed already */

void berth_warn_set_printer(berth_warn_fn fn)
{
        warn_printer = fn;
}

static void warn_emit(char *msg)
{
        if (strv_contains(warned, msg)) {
                free(msg);
                return;
        }
        if (warn_printer)
                warn_printer(msg);
        else
                fprintf(stderr, "WARNING: %s\n", msg);
        strv_push(&warned, msg);
        free(msg);
}

void berth_warn(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        warn_emit(msg);
}

void berth_warn_error(berth_error_t *err, const char *fmt, ...)
{
        if (!err || !*err)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *context = xvasprintf(fmt, ap);
        va_end(ap);
        char *msg = xasprintf("%s: %s", context, (*err)->msg);
        free(context);
        berth_error_free(err);
        warn_emit(msg);
}
