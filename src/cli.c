/* berth — CLI helpers shared by the commands: usage errors, tables. */
#include "config.h"

#include <stdarg.h>

#include "berth/cli.h"
#include "berth/util.h"

int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return berth_error(err, 0, "%s: %s (see 'berth %s --help')", cmd, msg, cmd);
}

void cli_table_init(struct cli_table *t, size_t ncols, ...)
{
        t->ncols = ncols;
        t->nrows = 1;
        t->rows = xcalloc(1, sizeof(char **));
        t->rows[0] = xcalloc(ncols, sizeof(char *));
        va_list ap;
        va_start(ap, ncols);
        for (size_t c = 0; c < ncols; c++)
                t->rows[0][c] = xstrdup(va_arg(ap, const char *));
        va_end(ap);
}

void cli_table_add(struct cli_table *t, ...)
{
        t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof(char **));
        char **row = xcalloc(t->ncols, sizeof(char *));
        va_list ap;
        va_start(ap, t);
        for (size_t c = 0; c < t->ncols; c++)
                row[c] = xstrdup(va_arg(ap, const char *));
        va_end(ap);
        t->rows[t->nrows++] = row;
}

void cli_table_print(struct cli_table *t, FILE *out)
{
        cleanup_free size_t *width = xcalloc(t->ncols, sizeof(size_t));
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++) {
                        size_t w = mbstowcs(NULL, t->rows[r][c], 0);
                        if (w == (size_t) -1)
                                w = strlen(t->rows[r][c]);
                        if (w > width[c])
                                width[c] = w;
                }
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *cell = t->rows[r][c];
                        if (c + 1 == t->ncols) {
                                fputs(cell, out);
                                break;
                        }
                        size_t w = mbstowcs(NULL, cell, 0);
                        if (w == (size_t) -1)
                                w = strlen(cell);
                        fprintf(out, "%s%*s", cell, (int) (width[c] - w + 3), "");
                }
                fputc('\n', out);
        }
}

void cli_table_free(struct cli_table *t)
{
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t c = 0; c < t->ncols; c++)
                        free(t->rows[r][c]);
                free(t->rows[r]);
        }
        free(t->rows);
        t->rows = NULL;
        t->nrows = 0;
}
