/* berth — value parsers with Docker's syntax (see include/berth/parse.h).
 *
 * Everything is parsed by hand, byte by byte, so the results do not depend
 * on the locale (strtod would want "1,5" under de_DE). */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <time.h>

#include "berth/parse.h"
#include "berth/util.h"

#define NSEC_PER_SEC 1000000000LL

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Accumulate decimal digits into *v; false on overflow past max. */
static bool add_digit(uint64_t *v, char c, uint64_t max)
{
        uint64_t d = (uint64_t) (c - '0');
        if (*v > (max - d) / 10)
                return false;
        *v = *v * 10 + d;
        return true;
}

int parse_int64(const char *s, int64_t *out, berth_error_t *err)
{
        const char *p = s;
        bool neg = false;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (!is_digit(*p))
                return berth_error(err, 0, "invalid integer: '%s'", s);
        uint64_t v = 0, max = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
        for (; is_digit(*p); p++)
                if (!add_digit(&v, *p, max))
                        return berth_error(err, 0, "integer out of range: '%s'", s);
        if (*p)
                return berth_error(err, 0, "invalid integer: '%s'", s);
        *out = neg ? (int64_t) (0 - v) : (int64_t) v;
        return 0;
}

/* ---- sizes ----------------------------------------------------------------- */

int parse_size(const char *s, uint64_t *out, berth_error_t *err)
{
        /* go-units: ^(\d+(\.\d+)?) ?([kmgtp])?(i?b)?$, case-insensitive. */
        const char *p = s;
        uint64_t whole = 0, frac = 0, frac_scale = 1;
        if (!is_digit(*p))
                goto invalid;
        for (; is_digit(*p); p++)
                if (!add_digit(&whole, *p, INT64_MAX))
                        goto invalid;
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        goto invalid;
                for (; is_digit(*p); p++)
                        if (frac_scale <= UINT64_MAX / 100) { /* keep 18 digits */
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_scale *= 10;
                        }
        }
        if (*p == ' ')
                p++;
        uint64_t mul = 1;
        static const char units[] = "kmgtp";
        const char *u = *p ? strchr(units, tolower((unsigned char) *p)) : NULL;
        if (u) {
                mul = 1ULL << (10 * (u - units + 1));
                p++;
                if (*p == 'i' || *p == 'I') {
                        p++;
                        if (*p != 'b' && *p != 'B')
                                goto invalid;
                }
        }
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                goto invalid;
        if (whole > INT64_MAX / mul)
                goto invalid;
        uint64_t v = whole * mul;
        /* The fraction, truncated to whole bytes as Go's int64(float64). */
        uint64_t f = (uint64_t) ((long double) frac / (long double) frac_scale * (long double) mul);
        if (v > INT64_MAX - f)
                goto invalid;
        *out = v + f;
        return 0;
invalid:
        return berth_error(err, 0, "invalid size: '%s'", s);
}

/* ---- durations ------------------------------------------------------------- */

static const struct {
        const char *name;
        long long ns;
} duration_units[] = {
        { "ns", 1 },
        { "us", 1000 },
        { "\xc2\xb5s", 1000 }, /* U+00B5 micro sign */
        { "\xce\xbcs", 1000 }, /* U+03BC greek mu */
        { "ms", 1000000 },
        { "s", NSEC_PER_SEC },
        { "m", 60 * NSEC_PER_SEC },
        { "h", 3600 * NSEC_PER_SEC },
};

/* Go's time.ParseDuration.  Returns 0, or -EINVAL / -ERANGE without a
 * message (callers word the error). */
static int go_duration(const char *s, long long *ns)
{
        const char *p = s;
        bool neg = false;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (streq(p, "0")) {
                *ns = 0;
                return 0;
        }
        if (!*p)
                return -EINVAL;
        uint64_t total = 0;
        const uint64_t max = neg ? (uint64_t) LLONG_MAX + 1 : (uint64_t) LLONG_MAX;
        while (*p) {
                uint64_t v = 0, frac = 0, scale = 1;
                bool digits = false, overflow = false;
                for (; is_digit(*p); p++) {
                        digits = true;
                        if (!add_digit(&v, *p, UINT64_MAX))
                                overflow = true;
                }
                if (*p == '.') {
                        p++;
                        for (; is_digit(*p); p++) {
                                digits = true;
                                if (scale <= UINT64_MAX / 100) {
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        scale *= 10;
                                }
                        }
                }
                if (!digits)
                        return -EINVAL;
                if (overflow)
                        return -ERANGE;
                size_t ulen = 0;
                while (p[ulen] && p[ulen] != '.' && !is_digit(p[ulen]))
                        ulen++;
                if (ulen == 0)
                        return -EINVAL; /* missing unit */
                long long unit = 0;
                for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++)
                        if (strlen(duration_units[i].name) == ulen &&
                            strncmp(duration_units[i].name, p, ulen) == 0)
                                unit = duration_units[i].ns;
                if (!unit)
                        return -EINVAL; /* unknown unit */
                p += ulen;
                if (v > max / (uint64_t) unit)
                        return -ERANGE;
                v *= (uint64_t) unit;
                if (frac) {
                        uint64_t f = (uint64_t) ((long double) frac * ((long double) unit / (long double) scale));
                        if (v > max - f)
                                return -ERANGE;
                        v += f;
                }
                if (total > max - v)
                        return -ERANGE;
                total += v;
        }
        *ns = neg ? (long long) (0 - total) : (long long) total;
        return 0;
}

/* "1.500" -> "1.5", "2.000" -> "2" */
static char *trim_fraction(char *s)
{
        char *dot = strchr(s, '.');
        if (!dot)
                return s;
        char *end = s + strlen(s);
        while (end > dot + 1 && end[-1] == '0')
                *--end = '\0';
        if (end == dot + 1)
                *dot = '\0';
        return s;
}

char *format_go_duration(long long ns)
{
        bool neg = ns < 0;
        unsigned long long u = neg ? 0ULL - (unsigned long long) ns : (unsigned long long) ns;
        const char *sign = neg ? "-" : "";
        char num[64];
        if (u == 0)
                return xstrdup("0s");
        if (u < 1000ULL)
                return xasprintf("%s%lluns", sign, u);
        if (u < 1000000ULL) {
                snprintf(num, sizeof(num), "%llu.%03llu", u / 1000ULL, u % 1000ULL);
                return xasprintf("%s%sµs", sign, trim_fraction(num));
        }
        if (u < 1000000000ULL) {
                snprintf(num, sizeof(num), "%llu.%06llu", u / 1000000ULL, u % 1000000ULL);
                return xasprintf("%s%sms", sign, trim_fraction(num));
        }
        unsigned long long secs = u / 1000000000ULL, frac = u % 1000000000ULL;
        snprintf(num, sizeof(num), "%llu.%09llu", secs % 60, frac);
        trim_fraction(num);
        if (secs < 60)
                return xasprintf("%s%ss", sign, num);
        if (secs < 3600)
                return xasprintf("%s%llum%ss", sign, secs / 60, num);
        return xasprintf("%s%lluh%llum%ss", sign, secs / 3600, (secs / 60) % 60, num);
}

int parse_go_duration(const char *s, long long *ns, berth_error_t *err)
{
        int r = go_duration(s, ns);
        if (r == -ERANGE)
                return berth_error(err, 0, "duration out of range: '%s'", s);
        if (r < 0)
                return berth_error(err, 0, "invalid duration: '%s' (use a number of seconds or a Go duration such as 10s, 1m30s, 500ms)", s);
        return 0;
}

int parse_duration(const char *s, long long *ns, berth_error_t *err)
{
        int64_t secs;
        if (parse_int64(s, &secs, NULL) == 0) {
                if (secs > LLONG_MAX / NSEC_PER_SEC || secs < LLONG_MIN / NSEC_PER_SEC)
                        return berth_error(err, 0, "duration out of range: '%s'", s);
                *ns = secs * NSEC_PER_SEC;
                return 0;
        }
        return parse_go_duration(s, ns, err);
}

/* ---- timestamps ------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
        y -= m <= 2;
        long long era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (long long) doe - 719468;
}

static unsigned days_in_month(long long y, unsigned m)
{
        static const unsigned dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return m == 2 && leap ? 29 : dm[m - 1];
}

/* Exactly n digits at *p into *v. */
static bool fixed_digits(const char **p, int n, unsigned *v)
{
        *v = 0;
        for (int i = 0; i < n; i++) {
                if (!is_digit((*p)[i]))
                        return false;
                *v = *v * 10 + (unsigned) ((*p)[i] - '0');
        }
        *p += n;
        return true;
}

/* The fraction of a second at *p, its separator (. or ,) included, into
 * *nsec; digits past the ninth are ignored.  False when no digit follows
 * the separator.  *p is left after the digits. */
static bool fraction_ns(const char **p, long long *nsec)
{
        const char *q = *p + 1;
        if (!is_digit(*q))
                return false;
        long long scale = 100000000;
        for (*nsec = 0; is_digit(*q); q++, scale /= 10)
                *nsec += (*q - '0') * scale;
        *p = q;
        return true;
}

/* "YYYY-MM-DD[THH[:MM[:SS[.frac]]]][Z|±HH:MM]".  *has_zone tells whether a
 * zone was given; without one *ns is as if the time were UTC. */
static bool parse_datetime(const char *s, long long *ns, bool *has_zone, long long *zone_off)
{
        const char *p = s;
        unsigned year, mon, day, hour = 0, min = 0, sec = 0;
        long long nsec = 0;
        if (!fixed_digits(&p, 4, &year) || *p++ != '-' || !fixed_digits(&p, 2, &mon) ||
            *p++ != '-' || !fixed_digits(&p, 2, &day))
                return false;
        if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
                return false;
        if (*p == 'T') {
                p++;
                if (!fixed_digits(&p, 2, &hour) || hour > 23)
                        return false;
                if (*p == ':' && is_digit(p[1])) {
                        p++;
                        if (!fixed_digits(&p, 2, &min) || min > 59)
                                return false;
                        if (*p == ':' && is_digit(p[1])) {
                                p++;
                                if (!fixed_digits(&p, 2, &sec) || sec > 59)
                                        return false;
                                if ((*p == '.' || *p == ',') && !fraction_ns(&p, &nsec))
                                        return false;
                        }
                }
        }
        *has_zone = false;
        *zone_off = 0;
        if (*p == 'Z' || *p == 'z') {
                *has_zone = true;
                p++;
        } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1;
                unsigned zh, zm;
                if (!fixed_digits(&p, 2, &zh) || *p++ != ':' || !fixed_digits(&p, 2, &zm) ||
                    zh > 23 || zm > 59)
                        return false;
                *has_zone = true;
                *zone_off = sign * (long long) (zh * 3600 + zm * 60);
        }
        if (*p)
                return false;
        long long t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
        /* Nanoseconds since the epoch only reach the years 1677 to 2262. */
        return !__builtin_mul_overflow(t, NSEC_PER_SEC, ns) && !__builtin_add_overflow(*ns, nsec, ns);
}

/* "sec[.frac]" as Docker's parseTimestamp. */
static bool parse_unix_timestamp(const char *s, long long *ns)
{
        const char *p = s;
        uint64_t sec = 0;
        if (!is_digit(*p))
                return false;
        for (; is_digit(*p); p++)
                if (!add_digit(&sec, *p, LLONG_MAX / NSEC_PER_SEC))
                        return false;
        long long nsec = 0;
        if (*p == '.' && !fraction_ns(&p, &nsec))
                return false;
        if (*p)
                return false;
        *ns = (long long) sec * NSEC_PER_SEC + nsec;
        return true;
}

int parse_timestamp(const char *s, long long now, long long *ns, berth_error_t *err)
{
        long long d;
        if (!streq(s, "0") && go_duration(s, &d) == 0) {
                if (__builtin_sub_overflow(now, d, ns))
                        return berth_error(err, 0, "time out of range: '%s'", s);
                return 0;
        }
        bool has_zone;
        long long t, off;
        if (parse_datetime(s, &t, &has_zone, &off)) {
                if (!has_zone) {
                        /* Docker: time.FixedZone(time.Now().Zone()). */
                        time_t nt = (time_t) (now / NSEC_PER_SEC);
                        struct tm tm;
                        if (localtime_r(&nt, &tm))
                                off = tm.tm_gmtoff;
                }
                if (__builtin_sub_overflow(t, off * NSEC_PER_SEC, ns))
                        return berth_error(err, 0, "time out of range: '%s'", s);
                return 0;
        }
        if (!strchr(s, '-') && parse_unix_timestamp(s, ns))
                return 0;
        return berth_error(err, 0, "failed to parse value as time or duration: '%s'", s);
}

/* ---- signals --------------------------------------------------------------- */

#define BERTH_SIGRTMIN 34
#define BERTH_SIGRTMAX 64

static const struct {
        const char *name;
        int sig;
} signal_table[] = {
        { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },       { "CHLD", SIGCHLD },
        { "CLD", SIGCHLD },  { "CONT", SIGCONT }, { "FPE", SIGFPE },       { "HUP", SIGHUP },
        { "ILL", SIGILL },   { "INT", SIGINT },   { "IO", SIGIO },         { "IOT", SIGABRT },
        { "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGIO },       { "PROF", SIGPROF },
        { "PWR", SIGPWR },   { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },     { "STKFLT", SIGSTKFLT },
        { "STOP", SIGSTOP }, { "SYS", SIGSYS },   { "TERM", SIGTERM },     { "TRAP", SIGTRAP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
        { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH },
        { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

int parse_signal(const char *s, int *sig, berth_error_t *err)
{
        int64_t n;
        if (parse_int64(s, &n, NULL) == 0) {
                if (n < 1 || n > BERTH_SIGRTMAX)
                        return berth_error(err, 0, "invalid signal: '%s'", s);
                *sig = (int) n;
                return 0;
        }
        const char *p = s;
        if (strncasecmp(p, "SIG", 3) == 0)
                p += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signal_table); i++)
                if (strcasecmp(p, signal_table[i].name) == 0) {
                        *sig = signal_table[i].sig;
                        return 0;
                }
        int base = 0;
        if (strncasecmp(p, "RTMIN", 5) == 0)
                base = BERTH_SIGRTMIN;
        else if (strncasecmp(p, "RTMAX", 5) == 0)
                base = BERTH_SIGRTMAX;
        if (base) {
                p += 5;
                int v = base;
                if (*p == '+' || *p == '-') {
                        int sign = *p++ == '+' ? 1 : -1;
                        uint64_t k = 0;
                        if (!is_digit(*p))
                                goto invalid;
                        for (; is_digit(*p); p++)
                                if (!add_digit(&k, *p, 64))
                                        goto invalid;
                        v = base + sign * (int) k;
                }
                if (*p || v < BERTH_SIGRTMIN || v > BERTH_SIGRTMAX)
                        goto invalid;
                *sig = v;
                return 0;
        }
invalid:
        return berth_error(err, 0, "invalid signal: '%s'", s);
}

/* ---- restart policies ------------------------------------------------------ */

int parse_restart_policy(const char *s, char **policy, unsigned *max_retries, berth_error_t *err)
{
        const char *colon = strchr(s, ':');
        cleanup_free char *name = colon ? xstrndup(s, (size_t) (colon - s)) : xstrdup(s);
        unsigned retries = 0;
        if (colon && !*name)
                return berth_error(err, 0, "invalid restart policy '%s': no policy before the colon", s);
        if (!*name) {
                free(name);
                name = xstrdup("no");
        }
        if (!streq(name, "no") && !streq(name, "always") && !streq(name, "unless-stopped") &&
            !streq(name, "on-failure"))
                return berth_error(err, 0,
                                   "invalid restart policy '%s': use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
                                   s);
        if (colon && colon[1]) {
                int64_t n;
                if (parse_int64(colon + 1, &n, NULL) < 0)
                        return berth_error(err, 0, "invalid restart policy '%s': maximum retry count must be an integer", s);
                if (n < 0)
                        return berth_error(err, 0, "invalid restart policy '%s': maximum retry count cannot be negative", s);
                if (n > 0 && !streq(name, "on-failure"))
                        return berth_error(err, 0, "invalid restart policy '%s': maximum retry count can only be used with 'on-failure'", s);
                if (n > UINT_MAX - 1)
                        return berth_error(err, 0, "invalid restart policy '%s': maximum retry count out of range", s);
                retries = (unsigned) n;
        }
        *policy = steal_pointer(&name);
        *max_retries = retries;
        return 0;
}

/* ---- env files ------------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                unsigned char c = s[i];
                size_t len;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xe0) == 0xc0) {
                        len = 2;
                        cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        len = 3;
                        cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        return false;
                if (i + len > n)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += len;
        }
        return true;
}

static bool is_env_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Docker's key=value files (--env-file, --label-file): one entry a line,
 * blank lines and #-comments skipped; a line without "=" takes its value
 * from berth's environment (env files) or stays a bare key (label files). */
static int parse_kv_file(const char *path, const char *what, bool from_env, char ***env, berth_error_t *err)
{
        cleanup_free char *data = NULL;
        size_t len;
        int r = read_file(path, &data, &len, err);
        if (r < 0)
                return r;
        cleanup_strv char **out = xcalloc(1, sizeof(char *));
        size_t lineno = 0;
        for (size_t pos = 0; pos < len;) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t end = nl ? (size_t) (nl - data) : len;
                size_t next = nl ? end + 1 : len;
                if (end > pos && data[end - 1] == '\r')
                        end--; /* bufio.ScanLines drops a CR before the LF */
                lineno++;
                const char *line = data + pos;
                size_t n = end - pos;
                pos = next;
                if (lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
                        line += 3;
                        n -= 3;
                }
                if (!utf8_valid((const unsigned char *) line, n))
                        return berth_error(err, 0, "%s file %s contains invalid utf8 bytes at line %zu", what, path, lineno);
                if (memchr(line, '\0', n))
                        return berth_error(err, 0, "%s file %s contains a NUL byte at line %zu", what, path, lineno);
                while (n > 0 && is_env_space(*line)) {
                        line++;
                        n--;
                }
                if (n == 0 || *line == '#')
                        continue;
                cleanup_free char *l = xstrndup(line, n);
                char *eq = strchr(l, '=');
                size_t klen = eq ? (size_t) (eq - l) : n;
                for (size_t i = 0; i < klen; i++)
                        if (is_env_space(l[i]))
                                return berth_error(err, 0, "invalid %s file %s line %zu: variable '%.*s' contains whitespaces",
                                                   what, path, lineno, (int) klen, l);
                if (klen == 0)
                        return berth_error(err, 0, "invalid %s file %s line %zu: no variable name on line '%s'", what,
                                           path, lineno, l);
                if (eq || !from_env) {
                        strv_push(&out, l);
                } else {
                        const char *v = getenv(l);
                        if (v) {
                                cleanup_free char *kv = xasprintf("%s=%s", l, v);
                                strv_push(&out, kv);
                        }
                }
        }
        *env = steal_pointer(&out);
        return 0;
}

int parse_env_file(const char *path, char ***env, berth_error_t *err)
{
        return parse_kv_file(path, "env", true, env, err);
}

int parse_label_file(const char *path, char ***labels, berth_error_t *err)
{
        return parse_kv_file(path, "label", false, labels, err);
}

/* ---- CPUs ------------------------------------------------------------------ */

int parse_nano_cpus(const char *s, uint64_t *nano, berth_error_t *err)
{
        const char *p = s;
        uint64_t whole = 0, frac = 0;
        bool digits = false;
        for (; is_digit(*p); p++) {
                digits = true;
                if (!add_digit(&whole, *p, UINT64_MAX / NSEC_PER_SEC))
                        return berth_error(err, 0, "invalid number of CPUs: '%s'", s);
        }
        if (*p == '.') {
                p++;
                int n = 0;
                for (; is_digit(*p); p++, n++) {
                        digits = true;
                        if (n < 9)
                                frac = frac * 10 + (uint64_t) (*p - '0');
                        else if (*p != '0')
                                return berth_error(err, 0, "invalid number of CPUs: '%s': value is too precise", s);
                }
                for (; n < 9; n++)
                        frac *= 10;
        }
        if (!digits || *p)
                return berth_error(err, 0, "invalid number of CPUs: '%s'", s);
        *nano = whole * NSEC_PER_SEC + frac;
        return 0;
}

#define CPUSET_MAX 8192

int parse_cpuset(const char *s, unsigned char **mask, size_t *len, berth_error_t *err)
{
        cleanup_free unsigned char *m = xcalloc(CPUSET_MAX / 8, 1);
        size_t maxcpu = 0;
        const char *p = s;
        if (!*p)
                goto invalid;
        for (;;) {
                uint64_t a = 0, b;
                if (!is_digit(*p))
                        goto invalid;
                for (; is_digit(*p); p++)
                        if (!add_digit(&a, *p, CPUSET_MAX - 1))
                                return berth_error(err, 0, "invalid cpuset '%s': CPU numbers go up to %d", s, CPUSET_MAX - 1);
                b = a;
                if (*p == '-') {
                        p++;
                        b = 0;
                        if (!is_digit(*p))
                                goto invalid;
                        for (; is_digit(*p); p++)
                                if (!add_digit(&b, *p, CPUSET_MAX - 1))
                                        return berth_error(err, 0, "invalid cpuset '%s': CPU numbers go up to %d", s,
                                                           CPUSET_MAX - 1);
                        if (b < a)
                                goto invalid;
                }
                for (uint64_t i = a; i <= b; i++)
                        m[i / 8] |= (unsigned char) (1u << (i % 8));
                if (b > maxcpu)
                        maxcpu = b;
                if (!*p)
                        break;
                if (*p++ != ',')
                        goto invalid;
        }
        *len = maxcpu / 8 + 1;
        *mask = xrealloc(steal_pointer(&m), *len);
        return 0;
invalid:
        return berth_error(err, 0, "invalid cpuset: '%s' (use a list such as 0-3 or 0,2)", s);
}

char *format_cpuset(const unsigned char *mask, size_t len)
{
        char *out = xstrdup("");
        size_t n = len * 8;
        for (size_t i = 0; i < n; i++) {
                if (!(mask[i / 8] & (1u << (i % 8))))
                        continue;
                size_t j = i;
                while (j + 1 < n && (mask[(j + 1) / 8] & (1u << ((j + 1) % 8))))
                        j++;
                char *t = j > i ? xasprintf("%s%s%zu-%zu", out, *out ? "," : "", i, j)
                                : xasprintf("%s%s%zu", out, *out ? "," : "", i);
                free(out);
                out = t;
                i = j;
        }
        return out;
}

/* Docker's ulimit names and systemd's LimitX= properties (systemd.exec(5)). */
static const struct {
        const char *name, *property;
} ulimit_table[] = {
        { "core", "LimitCORE" },         { "cpu", "LimitCPU" },       { "data", "LimitDATA" },
        { "fsize", "LimitFSIZE" },       { "locks", "LimitLOCKS" },   { "memlock", "LimitMEMLOCK" },
        { "msgqueue", "LimitMSGQUEUE" }, { "nice", "LimitNICE" },     { "nofile", "LimitNOFILE" },
        { "nproc", "LimitNPROC" },       { "rss", "LimitRSS" },       { "rtprio", "LimitRTPRIO" },
        { "rttime", "LimitRTTIME" },     { "sigpending", "LimitSIGPENDING" }, { "stack", "LimitSTACK" },
        { "as", "LimitAS" },
};

static int parse_rlimit_value(const char *s, const char *whole, uint64_t *out, berth_error_t *err)
{
        int64_t v;
        if (parse_int64(s, &v, NULL) < 0 || v < -1)
                return berth_error(err, 0, "invalid ulimit argument: %s", whole);
        *out = v == -1 ? UINT64_MAX : (uint64_t) v;
        return 0;
}

int parse_ulimit(const char *s, const char **property, uint64_t *soft, uint64_t *hard, berth_error_t *err)
{
        const char *eq = strchr(s, '=');
        if (!eq)
                return berth_error(err, 0, "invalid ulimit argument: %s (want NAME=SOFT[:HARD])", s);
        *property = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(ulimit_table); i++)
                if (strlen(ulimit_table[i].name) == (size_t) (eq - s) && strncmp(ulimit_table[i].name, s, eq - s) == 0)
                        *property = ulimit_table[i].property;
        if (!*property)
                return berth_error(err, 0, "invalid ulimit type: %.*s", (int) (eq - s), s);
        cleanup_free char *val = xstrdup(eq + 1);
        char *colon = strchr(val, ':');
        if (colon)
                *colon++ = '\0';
        if (parse_rlimit_value(val, s, soft, err) < 0 || parse_rlimit_value(colon ? colon : val, s, hard, err) < 0)
                return -1;
        if (*soft > *hard)
                return berth_error(err, 0, "ulimit soft limit must be less than or equal to hard limit: %s", s);
        return 0;
}

bool parse_bool_flag(const char *arg, bool *out)
{
        if (!arg || streq(arg, "true") || streq(arg, "1")) {
                *out = true;
                return true;
        }
        if (streq(arg, "false") || streq(arg, "0")) {
                *out = false;
                return true;
        }
        return false;
}
