/* berth — the syntax of definition files: systemd's unit file syntax
 * (systemd.syntax(7)), read as its conf-parser reads it.  "#" and ";"
 * comment lines (also inside a continuation), a trailing backslash joins the
 * next line (replaced by a space), whitespace around keys and values is
 * trimmed, sections repeat, "X-" sections and keys are ignored.  Values are
 * %-specifier expanded as systemd does for container@NAME.service
 * (systemd.unit(5)), then go to their section: [Container] and [Install]
 * to definition.c's keys, [Unit] and [Service] lines into the definition
 * both expanded (unit_lines, service_lines) and as written (*_raw). */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "berth/definition-internal.h"
#include "berth/util.h"

#define WHITESPACE " \t\n\r"

static const struct {
        const char *name;
        enum section section;
} sections[] = {
        { "Unit", SECTION_UNIT },
        { "Container", SECTION_CONTAINER },
        { "Volume", SECTION_VOLUME },
        { "Network", SECTION_NETWORK },
        { "Image", SECTION_IMAGE },
        { "Build", SECTION_BUILD },
        { "Service", SECTION_SERVICE },
        { "Install", SECTION_INSTALL },
};

/* ---- small helpers -------------------------------------------------------------- */

static char *strstrip(char *s)
{
        s += strspn(s, WHITESPACE);
        size_t n = strlen(s);
        while (n > 0 && strchr(WHITESPACE, s[n - 1]))
                s[--n] = '\0';
        return s;
}

int def_parse_bool(const char *v, bool *out, berth_error_t *err)
{
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
                if (strcasecmp(v, yes[i]) == 0) {
                        if (out)
                                *out = true;
                        return 0;
                }
        for (size_t i = 0; i < ARRAY_SIZE(no); i++)
                if (strcasecmp(v, no[i]) == 0) {
                        if (out)
                                *out = false;
                        return 0;
                }
        return berth_error(err, 0, "invalid boolean: '%s' (use yes or no)", v);
}

/* One C escape as systemd's cunescape_one(); *p points at the backslash and is
 * left on the last character consumed.  Appends to w[*n]. */
static int unescape_one(const char **p, char *w, size_t *n, const char *value, berth_error_t *err)
{
        const char *s = *p + 1;
        static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s ";
        for (const char *q = simple; *q; q += 2)
                if (*s == q[0]) {
                        w[(*n)++] = q[1];
                        *p = s;
                        return 0;
                }
        uint32_t c = 0;
        size_t digits = 0;
        int base = 16;
        if (*s == 'x')
                digits = 2;
        else if (*s == 'u')
                digits = 4;
        else if (*s == 'U')
                digits = 8;
        else if (*s >= '0' && *s <= '7') {
                digits = 3;
                base = 8;
                s--; /* the digits start at the escape character itself */
        }
        if (!digits) {
                if (!*s)
                        return berth_error(err, 0, "trailing backslash in '%s'", value);
                return berth_error(err, 0, "invalid escape sequence '\\%c' in '%s'", *s, value);
        }
        for (size_t i = 1; i <= digits; i++) {
                int v = hex_digit_value(s[i]);
                if (v < 0 || v >= base)
                        return berth_error(err, 0, "invalid escape sequence in '%s'", value);
                c = c * (uint32_t) base + (uint32_t) v;
        }
        if (c == 0 || c > 0x10FFFF || (base == 8 && c > 255))
                return berth_error(err, 0, "invalid escape sequence in '%s'", value);
        if (s[0] == 'x' || base == 8)
                w[(*n)++] = (char) c; /* a byte */
        else
                *n += utf8_encode(c, w + *n);
        *p = s + digits;
        return 0;
}

/* Whitespace separates, single or double quotes (anywhere in a word) group,
 * C escapes work inside and outside quotes. */
int def_split_words(const char *value, char ***out, berth_error_t *err)
{
        cleanup_strv char **v = xcalloc(1, sizeof(char *));
        cleanup_free char *w = xmalloc(strlen(value) + 1); /* unescaping never grows */
        const char *p = value;
        for (;;) {
                p += strspn(p, WHITESPACE);
                if (!*p)
                        break;
                size_t n = 0;
                char quote = 0;
                for (; *p; p++) {
                        if (*p == '\\') {
                                if (unescape_one(&p, w, &n, value, err) < 0)
                                        return -1;
                        } else if (quote) {
                                if (*p == quote)
                                        quote = 0;
                                else
                                        w[n++] = *p;
                        } else if (*p == '"' || *p == '\'') {
                                quote = *p;
                        } else if (strchr(WHITESPACE, *p)) {
                                break;
                        } else
                                w[n++] = *p;
                }
                if (quote)
                        return berth_error(err, 0, "unbalanced quotes in '%s'", value);
                w[n] = '\0';
                strv_push(&v, w);
        }
        *out = steal_pointer(&v);
        return 0;
}

/* ---- specifiers (systemd.unit(5), as for container@NAME.service) --------------- */

/* systemd's unit_name_unescape(): "-" is "/", "\xNN" a byte. */
static char *unit_unescape(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        for (const char *p = s; *p; p++) {
                if (*p == '-')
                        *o++ = '/';
                else if (p[0] == '\\' && p[1] == 'x' && hex_digit_value(p[2]) >= 0 && hex_digit_value(p[3]) >= 0) {
                        *o++ = (char) (hex_digit_value(p[2]) * 16 + hex_digit_value(p[3]));
                        p += 3;
                } else
                        *o++ = *p;
        }
        *o = '\0';
        return out;
}

/* %i: the definition's NAME, or the instance of a template's ("a" of web@a),
 * as Quadlet's %i in web@.container. */
static const char *instance_of(const struct parser *p)
{
        return p->d->instance ? p->d->instance : p->d->name;
}

static int spec_instance(const struct parser *p, char **out, berth_error_t *err)
{
        *out = xstrdup(instance_of(p));
        return 0;
}

static int spec_instance_unescaped(const struct parser *p, char **out, berth_error_t *err)
{
        *out = unit_unescape(instance_of(p));
        return 0;
}

static int spec_instance_path(const struct parser *p, char **out, berth_error_t *err)
{
        cleanup_free char *u = unit_unescape(instance_of(p));
        *out = u[0] == '/' ? steal_pointer(&u) : xasprintf("/%s", u);
        return 0;
}

static int spec_unit(const struct parser *p, char **out, berth_error_t *err)
{
        *out = definition_unit_name(p->d->kind, p->d->name);
        return 0;
}

static int spec_unit_prefix(const struct parser *p, char **out, berth_error_t *err)
{
        cleanup_free char *u = definition_unit_name(p->d->kind, p->d->name);
        *out = xstrndup(u, strlen(u) - strlen(".service"));
        return 0;
}

static int spec_hostname(const struct parser *p, char **out, berth_error_t *err)
{
        char h[HOST_NAME_MAX + 1] = "";
        if (gethostname(h, sizeof(h) - 1) < 0)
                return berth_error(err, errno, "cannot resolve %%H");
        *out = xstrdup(h);
        return 0;
}

static int spec_short_hostname(const struct parser *p, char **out, berth_error_t *err)
{
        if (spec_hostname(p, out, err) < 0)
                return -1;
        char *dot = strchr(*out, '.');
        if (dot)
                *dot = '\0';
        return 0;
}

/* The first line of a file, for %m and %b, without dashes and newline. */
static int spec_id_file(const char *path, char **out, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        if (read_file(path, &text, NULL, err) < 0)
                return -1;
        char *o = text;
        for (const char *s = text; *s && *s != '\n'; s++)
                if (*s != '-')
                        *o++ = *s;
        *o = '\0';
        *out = steal_pointer(&text);
        return 0;
}

static int spec_machine_id(const struct parser *p, char **out, berth_error_t *err)
{
        return spec_id_file("/etc/machine-id", out, err);
}

static int spec_boot_id(const struct parser *p, char **out, berth_error_t *err)
{
        return spec_id_file("/proc/sys/kernel/random/boot_id", out, err);
}

static int spec_kernel_release(const struct parser *p, char **out, berth_error_t *err)
{
        struct utsname u;
        if (uname(&u) < 0)
                return berth_error(err, errno, "cannot resolve %%v");
        *out = xstrdup(u.release);
        return 0;
}

/* One row per specifier: a fixed value or a function. */
static const struct specifier {
        char c;
        const char *value;
        int (*get)(const struct parser *p, char **out, berth_error_t *err);
} specifiers[] = {
        { 'i', NULL, spec_instance },        { 'I', NULL, spec_instance_unescaped },
        { 'n', NULL, spec_unit },            { 'N', NULL, spec_unit_prefix },
        { 'p', "container", NULL },          { 'P', "container", NULL },
        { 'j', "container", NULL },          { 'J', "container", NULL },
        { 'f', NULL, spec_instance_path },   { 'H', NULL, spec_hostname },
        { 'l', NULL, spec_short_hostname },  { 'm', NULL, spec_machine_id },
        { 'b', NULL, spec_boot_id },         { 'v', NULL, spec_kernel_release },
        { 't', "/run", NULL },               { 'S', "/var/lib", NULL },
        { 'C', "/var/cache", NULL },         { 'L', "/var/log", NULL },
        { 'E', "/etc", NULL },               { 'T', "/tmp", NULL },
        { 'V', "/var/tmp", NULL },           { 'h', "/root", NULL },
        { 'u', "root", NULL },               { 'U', "0", NULL },
        { 'g', "root", NULL },               { 'G', "0", NULL },
};

/* systemd's specifier_printf(): "%%" is "%", a '%' at the very end stays. */
static int expand_specifiers(const struct parser *p, const char *value, char **out, berth_error_t *err)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        int r = 0;
        for (const char *s = value; *s && r == 0; s++) {
                if (*s != '%' || !s[1]) {
                        fputc(*s, f);
                        continue;
                }
                s++;
                if (*s == '%') {
                        fputc('%', f);
                        continue;
                }
                const struct specifier *sp = NULL;
                for (size_t i = 0; i < ARRAY_SIZE(specifiers); i++)
                        if (specifiers[i].c == *s)
                                sp = &specifiers[i];
                if (!sp) {
                        r = berth_error(err, 0, "unknown specifier '%%%c' in '%s' (write %%%% for a '%%')", *s, value);
                        break;
                }
                if (sp->value) {
                        fputs(sp->value, f);
                        continue;
                }
                cleanup_free char *v = NULL;
                r = sp->get(p, &v, err);
                if (r == 0)
                        fputs(v, f);
        }
        fclose(f);
        if (r < 0) {
                free(buf);
                return r;
        }
        *out = buf;
        return 0;
}

/* ---- lines and sections ----------------------------------------------------------- */

/* One logical line: a section header, or an assignment for the current
 * section. */
static int parse_line(struct parser *p, char *l, unsigned line, berth_error_t *err)
{
        l = strstrip(l);
        if (!*l)
                return 0;
        if (*l == '[') {
                size_t n = strlen(l);
                if (n < 3 || l[n - 1] != ']')
                        return berth_error(err, 0, "invalid section header '%s'", l);
                l[n - 1] = '\0';
                const char *name = l + 1;
                if (startswith(name, "X-")) {
                        p->section = SECTION_IGNORED;
                        return 0;
                }
                static const enum section own[] = {
                        [DEFINITION_CONTAINER] = SECTION_CONTAINER,
                        [DEFINITION_VOLUME] = SECTION_VOLUME,
                        [DEFINITION_NETWORK] = SECTION_NETWORK,
                        [DEFINITION_IMAGE] = SECTION_IMAGE,
                        [DEFINITION_BUILD] = SECTION_BUILD,
                };
                const char *own_name = NULL;
                for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
                        bool other = sections[i].section >= SECTION_CONTAINER &&
                                     sections[i].section <= SECTION_BUILD &&
                                     sections[i].section != own[p->d->kind];
                        if (sections[i].section == own[p->d->kind])
                                own_name = sections[i].name;
                        if (!other && streq(sections[i].name, name)) {
                                p->section = sections[i].section;
                                return 0;
                        }
                }
                return berth_error(err, 0, "unknown section [%s] (use [Unit], [%s], [Service] or [Install])", name,
                                   own_name);
        }
        if (p->section == SECTION_NONE)
                return berth_error(err, 0, "assignment outside of a section: '%s'", l);
        if (p->section == SECTION_IGNORED)
                return 0;
        char *eq = strchr(l, '=');
        if (!eq)
                return berth_error(err, 0, "missing '=' in '%s'", l);
        *eq = '\0';
        const char *key = strstrip(l), *raw = strstrip(eq + 1);
        if (!*key)
                return berth_error(err, 0, "missing the key before '=%s'", raw);
        if (startswith(key, "X-"))
                return 0;
        cleanup_free char *value = NULL;
        if (expand_specifiers(p, raw, &value, err) < 0)
                return -1;
        cleanup_free char *kv = xasprintf("%s=%s", key, value);
        /* as written: systemd expands it with the same values, except in an
         * instance of a template, whose %i is not systemd's ("a", not "web@a") */
        cleanup_free char *kv_raw = NULL;
        if (p->d->instance) {
                cleanup_free char *escaped = def_escape_specifiers(value);
                kv_raw = xasprintf("%s=%s", key, escaped);
        } else
                kv_raw = xasprintf("%s=%s", key, raw);
        struct definition *d = p->d;
        switch (p->section) {
        case SECTION_CONTAINER:
                return def_assign_container(p, key, value, line, err);
        case SECTION_VOLUME:
        case SECTION_NETWORK:
        case SECTION_IMAGE:
        case SECTION_BUILD:
                return def_assign_resource(p, key, value, err);
        case SECTION_UNIT:
                strv_push(&d->unit_lines, kv);
                strv_push(&d->unit_lines_raw, kv_raw);
                return 0;
        case SECTION_SERVICE:
                strv_push(&d->service_lines, kv);
                strv_push(&d->service_lines_raw, kv_raw);
                return 0;
        case SECTION_INSTALL:
                if (def_assign_install(p, key, value, err) < 0)
                        return -1;
                if (!streq(key, "DefaultInstance"))
                        strv_push(&d->install_lines, kv);
                return 0;
        default:
                return 0;
        }
}

/* Lines, continuations and comments as systemd's config_parse(). */
int def_parse_text(struct parser *p, char *text, berth_error_t *err)
{
        cleanup_free char *cont = NULL;
        unsigned lineno = 0, first = 0;
        if (startswith(text, "\xef\xbb\xbf")) /* UTF-8 BOM */
                text += 3;
        for (char *line = text, *next; line; line = next) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                next = nl ? nl + 1 : NULL;
                if (!nl && !*line)
                        break;
                lineno++;
                size_t n = strlen(line);
                if (n > 0 && line[n - 1] == '\r')
                        line[--n] = '\0';
                const char *s = line + strspn(line, WHITESPACE);
                if (*s == '#' || *s == ';')
                        continue; /* a comment, also in the middle of a continuation */
                if (cont) {
                        char *t = xasprintf("%s%s", cont, line);
                        free(cont);
                        cont = t;
                } else {
                        cont = xstrdup(line);
                        first = lineno;
                }
                n = strlen(cont);
                size_t bs = 0;
                while (bs < n && cont[n - 1 - bs] == '\\')
                        bs++;
                if (bs % 2 == 1) {
                        cont[n - 1] = ' '; /* continued on the next line */
                        continue;
                }
                int r = parse_line(p, cont, first, err);
                if (r < 0)
                        return berth_error_wrap(err, "%s:%u", p->path, first);
                free(cont);
                cont = NULL;
        }
        if (cont && parse_line(p, cont, first, err) < 0)
                return berth_error_wrap(err, "%s:%u", p->path, first);
        return 0;
}
