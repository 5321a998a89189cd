/* berth — CLI helpers shared by the commands: usage errors, tables. */
#include "config.h"

#include <getopt.h>

#include <stdarg.h>

#include <jansson.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/lifecycle.h"
#include "berth/registry.h"
#include "berth/template.h"
#include "berth/util.h"

int cli_store_open(struct berth_cli *cli, berth_error_t *err)
{
        if (store_open(&cli->store, cli->root, cli->runroot, err) < 0)
                return -1;
        cli->store.default_registry = registry_default_registry();
        return 0;
}

int cli_container_list(struct berth_store *s, struct berth_container ***out, size_t *n, berth_error_t *err)
{
        struct container_unreadable *bad = NULL;
        size_t nbad = 0;
        if (container_list_readable(s, out, n, &bad, &nbad, err) < 0)
                return -1;
        fflush(stdout);
        for (size_t i = 0; i < nbad; i++)
                fprintf(stderr, "berth: %s; run berth system check\n", bad[i].error);
        container_unreadable_free(bad, nbad);
        /* a --rm container whose client was killed goes at its end, as
         * Docker's daemon removes it, when the next command lists */
        size_t kept = 0;
        for (size_t i = 0; i < *n; i++) {
                if (container_reap_orphan(s, (*out)[i]))
                        container_free((*out)[i]);
                else
                        (*out)[kept++] = (*out)[i];
        }
        *n = kept;
        return 0;
}

int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        return berth_error(err, 0, "%s: %s (see 'berth %s --help')", cmd, msg, cmd);
}

void cli_label_add(json_t *labels, const char *kv)
{
        cleanup_free char *k = xstrdup(kv);
        char *eq = strchr(k, '=');
        if (eq)
                *eq++ = '\0';
        json_object_set_new(labels, k, json_string(eq ? eq : ""));
}

char *cli_labels_text(json_t *labels)
{
        struct strbuf b = {};
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
                strbuf_printf(&b, "%s%s=%s", b.len ? "," : "", k, json_string_value(v) ?: "");
        return strbuf_steal(&b);
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

/* Split a line on tabs into exactly ncols cells (the last takes the rest). */
static char **split_cells(const char *line, size_t ncols)
{
        char **cells = xcalloc(ncols, sizeof(char *));
        for (size_t col = 0; col < ncols; col++) {
                size_t len = col + 1 < ncols ? strcspn(line, "\t") : strlen(line);
                cells[col] = xstrndup(line, len);
                line += len;
                if (*line == '\t')
                        line++;
        }
        return cells;
}

int cli_print_formatted(const char *format, const char *default_table, json_t *header, json_t *const *rows, size_t n,
                        berth_error_t *err)
{
        if (streq(format, "json")) {
                for (size_t i = 0; i < n; i++) {
                        cleanup_free char *text = json_dumps(rows[i], JSON_COMPACT);
                        puts(text ? text : "{}");
                }
                return 0;
        }
        bool table = template_is_table(format);
        cleanup_free char *pre = template_preformat(format);
        if (table && !*pre) {
                free(pre);
                pre = xstrdup(default_table);
        }
        cleanup_template struct template *t = NULL;
        if (template_parse(pre, &t, err) < 0)
                return -1;
        cleanup_strv char **lines = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i <= n; i++) {
                if (i == 0 && !table)
                        continue;
                cleanup_free char *line = NULL;
                if (template_execute(t, i ? rows[i - 1] : header, &line, err) < 0)
                        return -1;
                strv_push(&lines, line);
        }
        if (!table) {
                for (size_t i = 0; lines[i]; i++)
                        puts(lines[i]);
                return 0;
        }
        size_t ncols = 1;
        for (const char *p = lines[0]; *p; p++)
                ncols += *p == '\t';
        struct cli_table tab = { .ncols = ncols, .nrows = strv_length(lines) };
        tab.rows = xcalloc(tab.nrows, sizeof(char **));
        for (size_t r = 0; r < tab.nrows; r++)
                tab.rows[r] = split_cells(lines[r], ncols);
        cli_table_print(&tab, stdout);
        cli_table_free(&tab);
        return 0;
}

int cli_image_in_use(const char *image_id, char **container_id, void *userdata, berth_error_t *err)
{
        return store_image_in_use(userdata, image_id, container_id, err);
}

int cli_ls_options(int argc, char **argv, const char *cmd, const char *ids, bool *quiet, const char **format,
                   berth_error_t *err)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'F' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        *quiet = false;
        *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
                switch (c) {
                case 'q': *quiet = true; break;
                case 'F': *format = optarg; break;
                case 'H':
                        printf("Usage:  berth %s [OPTIONS]\n\n"
                               "Options:\n"
                               "      --format string   json, a Go template, or table TEMPLATE\n"
                               "  -q, --quiet           Only display %s\n",
                               cmd, ids);
                        return 1;
                default: return cli_usage_error(err, cmd, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error(err, cmd, "\"%s\" accepts no arguments", cmd);
        return 0;
}
