/* tests/unit/strv-check.h — STRV_EQ(v, "a", "b", ...): a string vector is
 * exactly these strings; HAS_LINE(text, "line") / NO_LINE(): a text has (has
 * not) that whole line; for the unit tests of definition files. */
#ifndef BERTH_STRV_CHECK_H
#define BERTH_STRV_CHECK_H

#include <check.h>

#include "berth/util.h"

static inline void strv_eq(char **v, const char *const *want, size_t n)
{
        ck_assert_msg(strv_length(v) == n, "length %zu, want %zu", strv_length(v), n);
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(v[i], want[i]);
}
#define STRV_EQ(v, ...)                                                   \
        do {                                                              \
                const char *const _w[] = { __VA_ARGS__ };                 \
                strv_eq((v), _w, ARRAY_SIZE(_w));                         \
        } while (0)

static inline bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}
#define HAS_LINE(text, line) ck_assert_msg(has_line(text, line), "no line '%s' in:\n%s", line, text)
#define NO_LINE(text, line) ck_assert_msg(!has_line(text, line), "a line '%s' in:\n%s", line, text)

#endif
