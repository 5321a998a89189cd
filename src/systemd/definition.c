/* berth — definition files (include/berth/definition.h).
 *
 * The reader follows systemd's conf-parser (systemd.syntax(7)): "#" and ";"
 * comment lines (also inside a continuation), a trailing backslash joins the
 * next line (replaced by a space), whitespace around keys and values is
 * trimmed, sections repeat, "X-" sections and keys are ignored, and an empty
 * assignment resets a key.  Values are %-specifier expanded as systemd does
 * for container@NAME.service (systemd.unit(5)).
 *
 * [Container] is driven by one table, container_keys[]: key, kind (how the
 * assignments accumulate), the `berth run` flag each value becomes, a check
 * for one value (so the error carries FILE:LINE), and an apply function for
 * keys that become something other than run flags.  The limit keys come from
 * limits.h's own table (limit_by_key) and go through limits_set.
 *
 * [Unit]/[Service] lines are kept both expanded (unit_lines, service_lines)
 * and as written (*_raw): the drop-in carries them as written, because
 * systemd expands specifiers itself, per setting, with the same values (the
 * unit is container@NAME.service) — writing the expanded text would expand a
 * "%%" twice. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "berth/definition.h"
#include "berth/devices.h"
#include "berth/image.h"
#include "berth/journal.h"
#include "berth/parse.h"
#include "berth/security.h"
#include "berth/util.h"
#include "berth/volume.h"

#ifndef SYSTEMD_UNIT_DIR
#define SYSTEMD_UNIT_DIR "/usr/lib/systemd/system"
#endif

const char DEFINITION_TEMPLATE_UNIT[] = SYSTEMD_UNIT_DIR "/container@.service";

#define WHITESPACE " \t\n\r"
#define DROPIN_NAME "50-berth.conf"

enum section { SECTION_NONE, SECTION_UNIT, SECTION_CONTAINER, SECTION_SERVICE, SECTION_INSTALL, SECTION_IGNORED };

static const struct {
        const char *name;
        enum section section;
} sections[] = {
        { "Unit", SECTION_UNIT },
        { "Container", SECTION_CONTAINER },
        { "Service", SECTION_SERVICE },
        { "Install", SECTION_INSTALL },
};

/* The assignments of one [Container] key so far. */
struct key_state {
        char **values;
        unsigned line; /* of the last assignment, for errors found at the end */
};

struct parser {
        const char *path;
        char *dir; /* of the definition file: relative paths are relative to it */
        struct definition *d;
        enum section section;
        struct key_state *keys; /* one per container_keys[] row */
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

/* systemd's parse_boolean(). */
static int parse_bool(const char *v, bool *out, berth_error_t *err)
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

bool definition_name_valid(const char *name)
{
        if (!name || !isalnum((unsigned char) name[0]) || strlen(name) > 128)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
                        return false;
        return true;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static size_t utf8_encode(uint32_t c, char *out)
{
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
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
                int v = hexval(s[i]);
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

/* Split a value into words as systemd's extract_first_word() with
 * EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE (Environment=, ExecStart=): whitespace
 * separates, single or double quotes (anywhere in a word) group, C escapes
 * work inside and outside quotes. */
static int split_words(const char *value, char ***out, berth_error_t *err)
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

/* Double every '%' so systemd reads the text literally. */
static char *escape_specifiers(const char *s)
{
        char *out = xmalloc(2 * strlen(s) + 1), *o = out;
        for (; *s; s++) {
                if (*s == '%')
                        *o++ = '%';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

/* A value for Environment=: quoted when it has whitespace, quotes or
 * backslashes; '%' doubled. */
static char *quote_env(const char *s)
{
        cleanup_free char *e = escape_specifiers(s);
        if (!strpbrk(e, " \t\"'\\"))
                return steal_pointer(&e);
        char *out = xmalloc(2 * strlen(e) + 3), *o = out;
        *o++ = '"';
        for (const char *p = e; *p; p++) {
                if (*p == '"' || *p == '\\')
                        *o++ = '\\';
                *o++ = *p;
        }
        *o++ = '"';
        *o = '\0';
        return out;
}

/* ---- specifiers (systemd.unit(5), as for container@NAME.service) --------------- */

/* systemd's unit_name_unescape(): "-" is "/", "\xNN" a byte. */
static char *unit_unescape(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        for (const char *p = s; *p; p++) {
                if (*p == '-')
                        *o++ = '/';
                else if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                        *o++ = (char) (hexval(p[2]) * 16 + hexval(p[3]));
                        p += 3;
                } else
                        *o++ = *p;
        }
        *o = '\0';
        return out;
}

static int spec_instance(const struct parser *p, char **out, berth_error_t *err)
{
        *out = xstrdup(p->d->name);
        return 0;
}

static int spec_instance_unescaped(const struct parser *p, char **out, berth_error_t *err)
{
        *out = unit_unescape(p->d->name);
        return 0;
}

static int spec_instance_path(const struct parser *p, char **out, berth_error_t *err)
{
        cleanup_free char *u = unit_unescape(p->d->name);
        *out = u[0] == '/' ? steal_pointer(&u) : xasprintf("/%s", u);
        return 0;
}

static int spec_unit(const struct parser *p, char **out, berth_error_t *err)
{
        *out = xasprintf("container@%s.service", p->d->name);
        return 0;
}

static int spec_unit_prefix(const struct parser *p, char **out, berth_error_t *err)
{
        *out = xasprintf("container@%s", p->d->name);
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

/* ---- [Container]: checks of one value ------------------------------------------ */

static int check_bool(const char *v, berth_error_t *err)
{
        return parse_bool(v, NULL, err);
}

static int check_container_name(const char *v, berth_error_t *err)
{
        if (!definition_name_valid(v))
                return berth_error(err, 0, "invalid container name: '%s' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)",
                                   v);
        return 0;
}

static int check_environment(const char *v, berth_error_t *err)
{
        const char *eq = strchr(v, '=');
        if (!eq || eq == v)
                return berth_error(err, 0, "invalid environment assignment: '%s' (use NAME=VALUE)", v);
        return 0;
}

static int check_absolute(const char *v, berth_error_t *err)
{
        if (v[0] != '/')
                return berth_error(err, 0, "invalid working directory: '%s' (it must be an absolute path)", v);
        return 0;
}

static int check_capability(const char *v, berth_error_t *err)
{
        int cap;
        if (strcasecmp(v, "ALL") == 0 || cap_from_name_docker(v, &cap) == 0)
                return 0;
        cleanup_free char *up = xstrdup(v);
        for (char *s = up; *s; s++)
                *s = (char) toupper((unsigned char) *s);
        return berth_error(err, 0, "unknown capability: \"%s%s\"", startswith(up, "CAP_") ? "" : "CAP_", up);
}

static int check_stop_timeout(const char *v, berth_error_t *err)
{
        int64_t n;
        if (parse_int64(v, &n, NULL) < 0 || n < 0)
                return berth_error(err, 0, "invalid stop timeout: '%s' (use a number of seconds)", v);
        return 0;
}

static int check_pull(const char *v, berth_error_t *err)
{
        if (streq(v, "missing") || streq(v, "always") || streq(v, "never") || streq(v, "newer"))
                return 0;
        return berth_error(err, 0, "invalid pull policy: '%s' (use missing, always, never or newer)", v);
}

/* Ulimit=NAME=SOFT[:HARD] (Docker's --ulimit, parsed as `berth run` does) →
 * systemd's LimitNAME=SOFT:HARD in [Service] (systemd.exec(5)). */
static char *rlimit_text(uint64_t v)
{
        return v == UINT64_MAX ? xstrdup("infinity") : xasprintf("%" PRIu64, v);
}

static int ulimit_line(const char *v, char **line, berth_error_t *err)
{
        const char *property;
        uint64_t soft, hard;
        if (parse_ulimit(v, &property, &soft, &hard, err) < 0)
                return -1;
        cleanup_free char *ts = rlimit_text(soft), *th = rlimit_text(hard);
        *line = soft == hard ? xasprintf("%s=%s", property, ts) : xasprintf("%s=%s:%s", property, ts, th);
        return 0;
}

static int check_ulimit(const char *v, berth_error_t *err)
{
        cleanup_free char *line = NULL;
        return ulimit_line(v, &line, err);
}

/* AddDevice=[-]HOST[:CONTAINER][:PERMS] (Quadlet's key): "-" makes it optional. */
static int check_device(const char *v, berth_error_t *err)
{
        const char *spec = v[0] == '-' ? v + 1 : v;
        if (spec[0] != '/')
                return berth_error(err, 0, "invalid device '%s': the host path must be absolute", v);
        struct device_map d;
        if (device_map_parse(spec, &d, err) < 0)
                return -1;
        device_map_clear(&d);
        return 0;
}

/* ---- [Container]: the table ------------------------------------------------------ */

enum key_kind {
        KEY_STRING,  /* one value, the last assignment wins */
        KEY_BOOL,    /* a boolean, the last assignment wins */
        KEY_LIST,    /* each assignment adds one value */
        KEY_WORDS,   /* each assignment adds several (quoted) words */
        KEY_COMMAND, /* (quoted) words, the last assignment wins */
};

struct container_key;
typedef int (*apply_fn)(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err);

struct container_key {
        const char *key;
        enum key_kind kind;
        const char *flag; /* `berth run` flag each value becomes (NULL: none) */
        const char *arg;  /* KEY_BOOL: the flag's argument when true; otherwise a prefix of each value */
        int (*check)(const char *value, berth_error_t *err); /* one value or word */
        apply_fn apply;   /* NULL: emit_flags() */
};

static void push_flag(struct definition *d, const char *flag, const char *prefix, const char *value)
{
        strv_push(&d->run_args, flag);
        if (prefix) {
                cleanup_free char *t = xasprintf("%s%s", prefix, value);
                strv_push(&d->run_args, t);
        } else
                strv_push(&d->run_args, value);
}

/* The default: each value becomes FLAG VALUE; a true boolean becomes FLAG [ARG]. */
static int emit_flags(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        if (!k->flag || !st->values)
                return 0;
        if (k->kind == KEY_BOOL) {
                bool b = false;
                (void) parse_bool(st->values[0], &b, NULL);
                if (b) {
                        strv_push(&p->d->run_args, k->flag);
                        if (k->arg)
                                strv_push(&p->d->run_args, k->arg);
                }
                return 0;
        }
        for (size_t i = 0; st->values[i]; i++)
                push_flag(p->d, k->flag, k->arg, st->values[i]);
        return 0;
}

static char *last_value(const struct key_state *st)
{
        size_t n = strv_length(st->values);
        return n ? st->values[n - 1] : NULL;
}

static int apply_image(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        if (last_value(st))
                p->d->image = xstrdup(last_value(st));
        return 0;
}

static int apply_container_name(struct parser *p, const struct container_key *k, struct key_state *st,
                                berth_error_t *err)
{
        p->d->container_name = xstrdup(last_value(st) ? last_value(st) : p->d->name);
        return 0;
}

static int apply_exec(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        if (st->values && st->values[0])
                p->d->command = strv_copy(st->values);
        return 0;
}

/* A relative path is relative to the definition file's directory (as Quadlet). */
static char *resolve_path(const struct parser *p, const char *v)
{
        return path_absolute(p->dir, v);
}

static int apply_path(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                cleanup_free char *path = resolve_path(p, st->values[i]);
                push_flag(p->d, k->flag, k->arg, path);
        }
        return 0;
}

static int apply_seccomp(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        const char *v = last_value(st);
        if (!v)
                return 0;
        cleanup_free char *path = streq(v, "unconfined") ? xstrdup(v) : resolve_path(p, v);
        push_flag(p->d, k->flag, k->arg, path);
        return 0;
}

/* Volume=SOURCE:DEST[:OPTS]: a source starting with "." is a path relative to
 * the definition file's directory; "/..." a host path; else a named volume.
 * Mount=type=bind,source=REL likewise. */
static int apply_mount_paths(struct parser *p, const struct container_key *k, struct key_state *st,
                             berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                cleanup_free char *v = streq(k->flag, "-v") ? mount_spec_volume_absolute(st->values[i], p->dir)
                                                            : mount_spec_mount_absolute(st->values[i], p->dir);
                push_flag(p->d, k->flag, NULL, v);
        }
        return 0;
}

/* Each device's rule goes into the unit (DeviceAllow=, whether or not the node
 * exists yet at generation time); the node into the container when it
 * exists, or always when not optional (then a missing one fails the start). */
static int apply_devices(struct parser *p, const struct container_key *k, struct key_state *st,
                         berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                bool optional = st->values[i][0] == '-';
                const char *spec = st->values[i] + optional;
                strv_push(&p->d->devices, spec);
                struct device_map d;
                if (device_map_parse(spec, &d, err) < 0)
                        return -1;
                bool present = device_map_check(&d, NULL) == 0;
                device_map_clear(&d);
                if (present || !optional)
                        push_flag(p->d, k->flag, NULL, spec);
        }
        return 0;
}

static int apply_publish(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        p->d->publishes = strv_length(st->values) > 0;
        return emit_flags(p, k, st, err);
}

static struct key_state *state_of(struct parser *p, const char *key);

/* User= and Group= together: -u USER[:GROUP]. */
static int apply_user(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        const char *user = last_value(st);
        struct key_state *g = state_of(p, "Group");
        const char *group = last_value(g);
        if (group && !user) {
                berth_error(err, 0, "Group= needs User= (the group applies to that user)");
                return berth_error_wrap(err, "%s:%u", p->path, g->line);
        }
        if (!user)
                return 0;
        cleanup_free char *u = group ? xasprintf("%s:%s", user, group) : xstrdup(user);
        push_flag(p->d, "-u", NULL, u);
        return 0;
}

static int apply_nothing(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        return 0;
}

static int apply_notify(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        if (last_value(st))
                (void) parse_bool(last_value(st), &p->d->notify, NULL);
        return 0;
}

static int apply_stop_timeout(struct parser *p, const struct container_key *k, struct key_state *st,
                              berth_error_t *err)
{
        if (!last_value(st))
                return 0;
        int64_t n = 0;
        (void) parse_int64(last_value(st), &n, NULL);
        p->d->stop_timeout = n;
        return emit_flags(p, k, st, err);
}

static int apply_pull(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        p->d->pull = xstrdup(last_value(st) ? last_value(st) : "missing");
        return 0;
}

static int apply_ulimit(struct parser *p, const struct container_key *k, struct key_state *st, berth_error_t *err)
{
        for (size_t i = 0; st->values && st->values[i]; i++) {
                cleanup_free char *line = NULL;
                if (ulimit_line(st->values[i], &line, err) < 0)
                        return berth_error_wrap(err, "%s:%u", p->path, st->line);
                strv_push(&p->d->ulimit_lines, line);
        }
        return 0;
}

/* The [Container] keys, in the order their run flags are emitted.  The limit
 * keys (Memory=, CPUs=, ...) are limits.h's table. */
static const struct container_key container_keys[] = {
        { "Image", KEY_STRING, NULL, NULL, NULL, apply_image },
        { "ContainerName", KEY_STRING, NULL, NULL, check_container_name, apply_container_name },
        { "Exec", KEY_COMMAND, NULL, NULL, NULL, apply_exec },
        { "Entrypoint", KEY_STRING, "--entrypoint", NULL, NULL, NULL },
        { "Environment", KEY_WORDS, "-e", NULL, check_environment, NULL },
        { "EnvironmentFile", KEY_LIST, "--env-file", NULL, NULL, apply_path },
        { "PublishPort", KEY_LIST, "-p", NULL, NULL, apply_publish },
        { "Volume", KEY_LIST, "-v", NULL, NULL, apply_mount_paths },
        { "Mount", KEY_LIST, "--mount", NULL, NULL, apply_mount_paths },
        { "Tmpfs", KEY_LIST, "--tmpfs", NULL, NULL, NULL },
        { "Network", KEY_STRING, "--network", NULL, NULL, NULL },
        { "User", KEY_STRING, "-u", NULL, NULL, apply_user },
        { "Group", KEY_STRING, NULL, NULL, NULL, apply_nothing }, /* apply_user: -u USER:GROUP */
        { "WorkingDir", KEY_STRING, "-w", NULL, check_absolute, NULL },
        { "HostName", KEY_STRING, "--hostname", NULL, NULL, NULL },
        { "ReadOnly", KEY_BOOL, "--read-only", NULL, NULL, NULL },
        { "AddCapability", KEY_WORDS, "--cap-add", NULL, check_capability, NULL },
        { "AddDevice", KEY_LIST, "--device", NULL, check_device, apply_devices },
        { "DropCapability", KEY_WORDS, "--cap-drop", NULL, check_capability, NULL },
        { "NoNewPrivileges", KEY_BOOL, "--security-opt", "no-new-privileges", NULL, NULL },
        { "SeccompProfile", KEY_STRING, "--security-opt", "seccomp=", NULL, apply_seccomp },
        { "Label", KEY_WORDS, "-l", NULL, NULL, NULL },
        { "RunInit", KEY_BOOL, "--init", NULL, NULL, NULL },
        { "StopTimeout", KEY_STRING, "--stop-timeout", NULL, check_stop_timeout, apply_stop_timeout },
        { "Notify", KEY_BOOL, NULL, NULL, NULL, apply_notify },
        { "Pull", KEY_STRING, NULL, NULL, check_pull, apply_pull },
        { "Ulimit", KEY_LIST, NULL, NULL, check_ulimit, apply_ulimit },
};

static const struct container_key *container_key_by_name(const char *key)
{
        for (size_t i = 0; i < ARRAY_SIZE(container_keys); i++)
                if (streq(container_keys[i].key, key))
                        return &container_keys[i];
        return NULL;
}

static struct key_state *state_of(struct parser *p, const char *key)
{
        return &p->keys[container_key_by_name(key) - container_keys];
}

/* ---- the reader ---------------------------------------------------------------- */

static int check_value(const struct container_key *k, const char *v, berth_error_t *err)
{
        if (k->kind == KEY_BOOL)
                return check_bool(v, err);
        return k->check ? k->check(v, err) : 0;
}

static int assign_container(struct parser *p, const char *key, const char *value, unsigned line,
                            berth_error_t *err)
{
        const struct container_key *k = container_key_by_name(key);
        if (k) {
                struct key_state *st = &p->keys[k - container_keys];
                st->line = line;
                if (!*value) { /* an empty assignment resets */
                        strv_free(st->values);
                        st->values = NULL;
                        return 0;
                }
                if (k->kind == KEY_WORDS || k->kind == KEY_COMMAND) {
                        cleanup_strv char **words = NULL;
                        if (split_words(value, &words, err) < 0)
                                return -1;
                        for (size_t i = 0; k->kind == KEY_WORDS && words[i]; i++)
                                if (check_value(k, words[i], err) < 0)
                                        return -1;
                        if (k->kind == KEY_COMMAND) {
                                strv_free(st->values);
                                st->values = steal_pointer(&words);
                        } else
                                for (size_t i = 0; words[i]; i++)
                                        strv_push(&st->values, words[i]);
                        return 0;
                }
                if (check_value(k, value, err) < 0)
                        return -1;
                if (k->kind != KEY_LIST) {
                        strv_free(st->values);
                        st->values = NULL;
                }
                strv_push(&st->values, value);
                return 0;
        }
        const struct limit_def *l = limit_by_key(key);
        if (l) {
                if (!*value && !l->repeatable) {
                        p->d->limits.set[l->id] = false; /* back to the default */
                        return 0;
                }
                return limits_set(&p->d->limits, l, value, err);
        }
        return berth_error(err, 0, "unknown key '%s' in section [Container]", key);
}

/* [Install]: only what a generator can do, links. */
static const char *const install_keys[] = { "WantedBy", "RequiredBy", "UpheldBy" };

static bool unit_name_valid(const char *s)
{
        if (!*s || !strchr(s, '.') || s[0] == '.' || strlen(s) > 255)
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr(":_.\\@-", *c))
                        return false;
        return true;
}

static int assign_install(const char *key, const char *value, berth_error_t *err)
{
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(install_keys); i++)
                known |= streq(install_keys[i], key);
        if (!known)
                return berth_error(err, 0,
                                   "[Install] %s= is not supported in definition files (generated units can only "
                                   "use WantedBy=, RequiredBy= and UpheldBy=)",
                                   key);
        cleanup_strv char **words = NULL;
        if (split_words(value, &words, err) < 0)
                return -1;
        for (size_t i = 0; words[i]; i++)
                if (!unit_name_valid(words[i]))
                        return berth_error(err, 0, "invalid unit name in %s=: '%s'", key, words[i]);
        return 0;
}

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
                for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
                        if (streq(sections[i].name, name)) {
                                p->section = sections[i].section;
                                return 0;
                        }
                return berth_error(err, 0, "unknown section [%s] (use [Unit], [Container], [Service] or [Install])",
                                   name);
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
        cleanup_free char *kv_raw = xasprintf("%s=%s", key, raw);
        struct definition *d = p->d;
        switch (p->section) {
        case SECTION_CONTAINER:
                return assign_container(p, key, value, line, err);
        case SECTION_UNIT:
                strv_push(&d->unit_lines, kv);
                strv_push(&d->unit_lines_raw, kv_raw);
                return 0;
        case SECTION_SERVICE:
                strv_push(&d->service_lines, kv);
                strv_push(&d->service_lines_raw, kv_raw);
                return 0;
        case SECTION_INSTALL:
                if (assign_install(key, value, err) < 0)
                        return -1;
                strv_push(&d->install_lines, kv);
                return 0;
        default:
                return 0;
        }
}

/* Lines, continuations and comments as systemd's config_parse(). */
static int parse_text(struct parser *p, char *text, berth_error_t *err)
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

/* Turn the accumulated [Container] keys into the definition. */
static int parse_finish(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        for (size_t i = 0; i < ARRAY_SIZE(container_keys); i++) {
                const struct container_key *k = &container_keys[i];
                apply_fn apply = k->apply ? k->apply : emit_flags;
                if (apply(p, k, &p->keys[i], err) < 0)
                        return -1;
        }
        if (!d->image)
                return berth_error(err, 0, "%s: missing Image= in [Container]", p->path);
        struct unit_props props = { 0 };
        berth_error_t e = NULL;
        int r = limits_to_props(&d->limits, &props, &e);
        unit_props_free(&props);
        if (r < 0) {
                berth_error(err, 0, "%s: %s", p->path, e ? e->msg : "invalid limits");
                berth_error_free(&e);
                return -1;
        }
        return 0;
}

int definition_load(const char *path, const char *name, struct definition **out, berth_error_t *err)
{
        if (!definition_name_valid(name))
                return berth_error(err, 0,
                                   "%s: invalid definition name '%s' (a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                   path, name ? name : "");
        cleanup_free char *text = NULL;
        if (read_file(path, &text, NULL, err) < 0)
                return -1;
        struct definition *d = xcalloc(1, sizeof(*d));
        d->name = xstrdup(name);
        d->path = xstrdup(path);
        d->stop_timeout = -1;
        struct parser p = { .path = path, .d = d, .section = SECTION_NONE };
        const char *slash = strrchr(path, '/');
        p.dir = slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t) (slash - path))) : xstrdup(".");
        p.keys = xcalloc(ARRAY_SIZE(container_keys), sizeof(*p.keys));
        berth_error_t e = NULL;
        int r = parse_text(&p, text, &e);
        if (r >= 0)
                r = parse_finish(&p, &e);
        for (size_t i = 0; i < ARRAY_SIZE(container_keys); i++)
                strv_free(p.keys[i].values);
        free(p.keys);
        free(p.dir);
        if (r < 0) {
                definition_free(d);
                if (err && !*err)
                        *err = e;
                else
                        berth_error_free(&e);
                return -1;
        }
        *out = d;
        return 0;
}

void definition_free(struct definition *d)
{
        if (!d)
                return;
        free(d->name);
        free(d->path);
        free(d->image);
        free(d->container_name);
        free(d->stop_signal);
        strv_free(d->command);
        strv_free(d->run_args);
        free(d->pull);
        limits_free(&d->limits);
        strv_free(d->devices);
        strv_free(d->ulimit_lines);
        strv_free(d->unit_lines);
        strv_free(d->service_lines);
        strv_free(d->install_lines);
        strv_free(d->unit_lines_raw);
        strv_free(d->service_lines_raw);
        free(d);
}

void definitions_free(struct definition **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                definition_free(v[i]);
        free(v);
}

/* ---- the search path ------------------------------------------------------------- */

static char **search_dirs(void)
{
        const char *env = getenv("BERTH_DEFINITION_PATH");
        cleanup_free char *copy = xstrdup(env && *env ? env : BERTH_DEFINITION_DIRS);
        char **v = xcalloc(1, sizeof(char *));
        char *save = NULL;
        for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
                strv_push(&v, t);
        return v;
}

/* A symlink to /dev/null masks a definition, as for units. */
static bool is_masked(const char *path)
{
        cleanup_free char *real = realpath(path, NULL);
        return real && streq(real, "/dev/null");
}

int definition_find(const char *name, char **path_out, berth_error_t *err)
{
        if (!definition_name_valid(name))
                return berth_error(err, 0, "invalid definition name '%s' (a container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                   name ? name : "");
        cleanup_strv char **dirs = search_dirs();
        for (size_t i = 0; dirs[i]; i++) {
                cleanup_free char *path = xasprintf("%s/%s.container", dirs[i], name);
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (is_masked(path))
                        return berth_error(err, 0, "definition %s is masked (%s is a link to /dev/null)", name, path);
                *path_out = steal_pointer(&path);
                return 0;
        }
        cleanup_free char *list = xstrdup("");
        for (size_t i = 0; dirs[i]; i++) {
                char *t = xasprintf("%s%s%s", list, i ? ", " : "", dirs[i]);
                free(list);
                list = t;
        }
        return berth_error(err, ENOENT, "no definition %s.container in %s", name, list);
}

static int container_file(const struct dirent *e)
{
        size_t n = strlen(e->d_name);
        return e->d_name[0] != '.' && n > 10 && streq(e->d_name + n - 10, ".container");
}

static int definition_cmp(const void *a, const void *b)
{
        const struct definition *x = *(const struct definition *const *) a, *y = *(const struct definition *const *) b;
        return strcmp(x->name, y->name);
}

static void report_msg(void (*report)(const char *msg, void *ud), void *ud, const char *msg)
{
        if (report)
                report(msg, ud);
}

int definition_load_all(struct definition ***out, size_t *n, void (*report)(const char *msg, void *ud), void *ud)
{
        cleanup_strv char **dirs = search_dirs();
        cleanup_strv char **seen = xcalloc(1, sizeof(char *));
        struct definition **v = NULL;
        size_t count = 0;
        int bad = 0;
        for (size_t i = 0; dirs[i]; i++) {
                struct dirent **ents = NULL;
                int ne = scandir(dirs[i], &ents, container_file, alphasort);
                if (ne < 0) {
                        if (errno != ENOENT && errno != ENOTDIR) {
                                cleanup_free char *msg = xasprintf("%s: cannot read the directory: %s", dirs[i],
                                                                   strerror(errno));
                                report_msg(report, ud, msg);
                                bad++;
                        }
                        continue;
                }
                for (int k = 0; k < ne; k++) {
                        cleanup_free char *name = xstrndup(ents[k]->d_name, strlen(ents[k]->d_name) - 10);
                        cleanup_free char *path = xasprintf("%s/%s", dirs[i], ents[k]->d_name);
                        free(ents[k]);
                        if (strv_contains(seen, name))
                                continue; /* an earlier directory has it */
                        strv_push(&seen, name);
                        if (is_masked(path))
                                continue;
                        struct definition *d = NULL;
                        berth_error_t e = NULL;
                        if (definition_load(path, name, &d, &e) < 0) {
                                report_msg(report, ud, e ? e->msg : path);
                                berth_error_free(&e);
                                bad++;
                                continue;
                        }
                        v = xrealloc(v, (count + 1) * sizeof(*v));
                        v[count++] = d;
                }
                free(ents);
        }
        if (count)
                qsort(v, count, sizeof(*v), definition_cmp);
        *out = v;
        *n = count;
        return bad;
}

/* ---- output ---------------------------------------------------------------------- */

char *definition_container_id(const char *name)
{
        cleanup_free char *data = xasprintf("berth-definition:%s", name);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_Digest(data, strlen(data), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
                abort();
        char *hex = xmalloc(2 * 32 + 1);
        hex_encode(md, len, hex);
        return hex;
}

/* DevicePolicy=strict and Docker's DeviceAllow= list, plus AddDevice='s. */
static int definition_device_props(const struct definition *d, struct unit_props *props, berth_error_t *err)
{
        json_auto_t *hc = json_pack("{s:[]}", "Devices");
        for (size_t i = 0; d->devices && d->devices[i]; i++) {
                struct device_map m;
                if (device_map_parse(d->devices[i], &m, err) < 0)
                        return -1;
                json_array_append_new(json_object_get(hc, "Devices"), device_map_to_json(&m));
                device_map_clear(&m);
        }
        return devices_to_props(hc, props, err);
}

char *definition_dropin(const struct definition *d)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        const char *cname = d->container_name ? d->container_name : d->name;
        cleanup_free char *path = escape_specifiers(d->path);
        cleanup_free char *env = xasprintf("BERTH_DEFINITION=%s", d->path);
        cleanup_free char *env_q = quote_env(env);
        struct unit_props props = { 0 };
        cleanup_free char *unit_props = NULL, *service_props = NULL;
        cleanup_error berth_error_t e = NULL;
        if (limits_to_props(&d->limits, &props, &e) == 0 && definition_device_props(d, &props, &e) == 0) {
                unit_props = unit_props_to_text(&props, "Unit");
                service_props = unit_props_to_text(&props, "Service");
        }
        unit_props_free(&props);

        fprintf(f, "# Generated by berth-generator from %s: edit that file, then run\n"
                   "# systemctl daemon-reload.  See berth.container(5).\n",
                d->path);
        fputs("[Unit]\n", f);
        fprintf(f, "Description=berth container %s (%s)\n", d->name, d->image);
        fprintf(f, "SourcePath=%s\n", path);
        if (d->publishes)
                fputs("After=network-online.target\nWants=network-online.target\n", f);
        if (unit_props)
                fputs(unit_props, f);
        for (size_t i = 0; d->unit_lines_raw && d->unit_lines_raw[i]; i++)
                fprintf(f, "%s\n", d->unit_lines_raw[i]);

        fputs("\n[Service]\n", f);
        fprintf(f, "Environment=%s\n", env_q);
        fprintf(f, "SyslogIdentifier=%s\n", cname);
        cleanup_free char *id = definition_container_id(d->name);
        /* CONTAINER_TAG: Docker's default, the short ID, as for `berth run` containers */
        struct log_fields lf = { .id_full = id, .name = cname, .tag = NULL, .image = d->image };
        cleanup_strv char **fields = journal_extra_fields(&lf);
        for (size_t i = 0; fields && fields[i]; i++) {
                cleanup_free char *ef = escape_specifiers(fields[i]);
                fprintf(f, "LogExtraFields=%s\n", ef);
        }
        if (e)
                fprintf(f, "# the limits are invalid: %s\n", e->msg);
        if (service_props)
                fputs(service_props, f);
        if (d->stop_timeout >= 0)
                fprintf(f, "TimeoutStopSec=%lld\n", d->stop_timeout);
        if (d->notify)
                fputs("NotifyAccess=all\n", f);
        if (d->stop_signal)
                fprintf(f, "KillSignal=%s\n", d->stop_signal);
        for (size_t i = 0; d->ulimit_lines && d->ulimit_lines[i]; i++)
                fprintf(f, "%s\n", d->ulimit_lines[i]);
        /* last, so that they win over everything above */
        for (size_t i = 0; d->service_lines_raw && d->service_lines_raw[i]; i++)
                fprintf(f, "%s\n", d->service_lines_raw[i]);
        fclose(f);
        return buf;
}

char *definition_dropin_path(const struct definition *d, const char *outdir)
{
        return xasprintf("%s/container@%s.service.d/" DROPIN_NAME, outdir, d->name);
}

char **definition_install_links(const struct definition *d)
{
        static const char *const dirs[] = { "wants", "requires", "upholds" }; /* as install_keys[] */
        char **targets[ARRAY_SIZE(install_keys)] = { NULL };
        for (size_t i = 0; d->install_lines && d->install_lines[i]; i++) {
                const char *line = d->install_lines[i], *eq = strchr(line, '=');
                for (size_t k = 0; eq && k < ARRAY_SIZE(install_keys); k++) {
                        if (strlen(install_keys[k]) != (size_t) (eq - line) ||
                            strncmp(install_keys[k], line, (size_t) (eq - line)) != 0)
                                continue;
                        cleanup_strv char **words = NULL;
                        if (split_words(eq + 1, &words, NULL) < 0)
                                continue; /* checked when loaded */
                        if (!words[0]) { /* WantedBy= resets */
                                strv_free(targets[k]);
                                targets[k] = NULL;
                        }
                        for (size_t w = 0; words[w]; w++)
                                if (!strv_contains(targets[k], words[w]))
                                        strv_push(&targets[k], words[w]);
                }
        }
        char **links = xcalloc(1, sizeof(char *));
        for (size_t k = 0; k < ARRAY_SIZE(install_keys); k++)
                for (size_t w = 0; targets[k] && targets[k][w]; w++) {
                        cleanup_free char *l =
                                xasprintf("%s.%s/container@%s.service", targets[k][w], dirs[k], d->name);
                        strv_push(&links, l);
                }
        for (size_t k = 0; k < ARRAY_SIZE(install_keys); k++)
                strv_free(targets[k]);
        return links;
}

int definition_generate(const struct definition *d, const char *outdir, berth_error_t *err)
{
        cleanup_free char *path = definition_dropin_path(d, outdir);
        cleanup_free char *dir = xstrndup(path, strlen(path) - strlen("/" DROPIN_NAME));
        if (mkdir_p(dir, 0755, err) < 0)
                return -1;
        cleanup_free char *text = definition_dropin(d);
        if (write_file_atomic(path, text, strlen(text), 0644, err) < 0)
                return -1;
        cleanup_strv char **links = definition_install_links(d);
        for (size_t i = 0; links[i]; i++) {
                cleanup_free char *link = xasprintf("%s/%s", outdir, links[i]);
                cleanup_free char *ldir = xstrndup(link, (size_t) (strrchr(link, '/') - link));
                if (mkdir_p(ldir, 0755, err) < 0)
                        return -1;
                if (unlink(link) < 0 && errno != ENOENT)
                        return berth_error(err, errno, "remove `%s`", link);
                if (symlink(DEFINITION_TEMPLATE_UNIT, link) < 0)
                        return berth_error(err, errno, "create the link `%s`", link);
        }
        return 0;
}

void definition_print(const struct definition *d, const char *outdir, FILE *out)
{
        cleanup_free char *path = definition_dropin_path(d, outdir);
        cleanup_free char *text = definition_dropin(d);
        fprintf(out, "# %s\n%s", path, text);
        cleanup_strv char **links = definition_install_links(d);
        for (size_t i = 0; links[i]; i++)
                fprintf(out, "# %s/%s -> %s\n", outdir, links[i], DEFINITION_TEMPLATE_UNIT);
}

void definitions_use_store(struct definition **defs, size_t n)
{
        /* Only a store that exists is read: a generator runs early at boot
         * and must not create /var/lib/berth (which may not be mounted). */
        const char *root = getenv("BERTH_ROOT") ? getenv("BERTH_ROOT") : "/var/lib/berth";
        cleanup_free char *index = xasprintf("%s/images.json", root);
        if (n == 0 || access(index, R_OK) < 0)
                return;
        struct berth_store s = { .lock_fd = -1 };
        berth_error_t err = NULL;
        if (store_open(&s, root, NULL, &err) < 0) {
                berth_error_free(&err);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct berth_image *img = NULL;
                if (image_lookup(&s, defs[i]->image, &img, &err) < 0) {
                        berth_error_free(&err);
                        continue;
                }
                json_t *sig = json_object_get(json_object_get(img->config, "config"), "StopSignal");
                if (json_is_string(sig) && *json_string_value(sig)) {
                        free(defs[i]->stop_signal);
                        defs[i]->stop_signal = xstrdup(json_string_value(sig));
                }
                image_free(img);
        }
        store_close(&s);
}
