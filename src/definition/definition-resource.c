/* berth — NAME.volume, NAME.network, NAME.image and NAME.build definitions
 * (include/berth/definition.h): their [Volume], [Network], [Image] and
 * [Build] keys (Quadlet's names, as far as `berth volume create`, `network
 * create`, `pull` and `build` go: a key berth cannot honour is an error, never
 * ignored), and the unit each becomes, a oneshot berth-KIND@NAME.service that
 * runs the berth binary (RemainAfterExit=yes): creating a volume or network
 * that exists succeeds, a pull or build brings the image up to date.  A
 * container naming Volume=NAME.volume:..., Network=NAME.network or
 * Image=NAME.image|NAME.build gets Requires= and After= on it
 * (definition.c). */
#include "config.h"

#include "berth/definition-internal.h"
#include "berth/network.h"
#include "berth/util.h"
#include "berth/volume.h"

#ifndef BERTH_BINDIR
#define BERTH_BINDIR "/usr/bin"
#endif

enum resource_how {
        R_ONE,         /* the last assignment wins */
        R_UNIQUE,      /* one value: a second is an error (unless reset) */
        R_WORDS,       /* each assignment adds (quoted) words */
        R_LIST,        /* each assignment adds one value */
        R_UNSUPPORTED, /* Quadlet's key, which berth's command has no option for */
};

static int check_volume_name(const char *v, berth_error_t *err);
static int check_network_name(const char *v, berth_error_t *err);
static int check_local(const char *v, berth_error_t *err);
static int check_bridge(const char *v, berth_error_t *err);
static int check_copy(const char *v, berth_error_t *err);
static int check_bool_value(const char *v, berth_error_t *err);
static int check_build_network(const char *v, berth_error_t *err);

static const struct resource_key {
        const char *key;
        enum definition_kind kind;
        enum resource_how how;
        int (*check)(const char *v, berth_error_t *err);
} resource_keys[] = {
        { "VolumeName", DEFINITION_VOLUME, R_ONE, check_volume_name },
        { "Label", DEFINITION_VOLUME, R_WORDS, NULL },
        { "Driver", DEFINITION_VOLUME, R_ONE, check_local },
        { "Copy", DEFINITION_VOLUME, R_ONE, check_copy },
        { "Device", DEFINITION_VOLUME, R_UNSUPPORTED, NULL },
        { "Type", DEFINITION_VOLUME, R_UNSUPPORTED, NULL },
        { "Options", DEFINITION_VOLUME, R_UNSUPPORTED, NULL },
        { "User", DEFINITION_VOLUME, R_UNSUPPORTED, NULL },
        { "Group", DEFINITION_VOLUME, R_UNSUPPORTED, NULL },
        { "Image", DEFINITION_VOLUME, R_UNSUPPORTED, NULL },

        { "NetworkName", DEFINITION_NETWORK, R_ONE, check_network_name },
        { "Subnet", DEFINITION_NETWORK, R_UNIQUE, network_subnet_check },
        { "Driver", DEFINITION_NETWORK, R_ONE, check_bridge },
        { "Gateway", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "IPRange", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "Internal", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "IPv6", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "DNS", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "DisableDNS", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "Label", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "Options", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "IPAMDriver", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },
        { "InterfaceName", DEFINITION_NETWORK, R_UNSUPPORTED, NULL },

        { "Image", DEFINITION_IMAGE, R_ONE, NULL },
        { "ImageTag", DEFINITION_IMAGE, R_ONE, NULL },
        { "AllTags", DEFINITION_IMAGE, R_ONE, check_bool_value },
        { "OS", DEFINITION_IMAGE, R_ONE, NULL },
        { "Arch", DEFINITION_IMAGE, R_ONE, NULL },
        { "Variant", DEFINITION_IMAGE, R_ONE, NULL },
        { "AuthFile", DEFINITION_IMAGE, R_UNSUPPORTED, NULL },
        { "CertDir", DEFINITION_IMAGE, R_UNSUPPORTED, NULL },
        { "Creds", DEFINITION_IMAGE, R_UNSUPPORTED, NULL },
        { "DecryptionKey", DEFINITION_IMAGE, R_UNSUPPORTED, NULL },
        { "TLSVerify", DEFINITION_IMAGE, R_UNSUPPORTED, NULL },
        { "Policy", DEFINITION_IMAGE, R_UNSUPPORTED, NULL },

        { "ImageTag", DEFINITION_BUILD, R_LIST, NULL },
        { "File", DEFINITION_BUILD, R_ONE, NULL },
        { "SetWorkingDirectory", DEFINITION_BUILD, R_ONE, NULL },
        { "Label", DEFINITION_BUILD, R_WORDS, NULL },
        { "Target", DEFINITION_BUILD, R_ONE, NULL },
        { "Network", DEFINITION_BUILD, R_ONE, check_build_network },
        { "Annotation", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "Arch", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "AuthFile", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "DNS", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "Environment", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "ForceRM", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "GroupAdd", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "Pull", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "Secret", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "TLSVerify", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "Variant", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
        { "Volume", DEFINITION_BUILD, R_UNSUPPORTED, NULL },
};

static const char *const section_name[_DEFINITION_KIND_MAX] = { "Container", "Volume", "Network", "Image", "Build" };
/* the berth command that makes each */
static const char *const command_name[_DEFINITION_KIND_MAX] = { "run", "volume create", "network create", "pull",
                                                                 "build" };

static int check_volume_name(const char *v, berth_error_t *err)
{
        if (volume_name_valid(v))
                return 0;
        return berth_error(err, 0, "invalid volume name: '%s' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)", v);
}

static int check_network_name(const char *v, berth_error_t *err)
{
        if (network_name_valid(v))
                return 0;
        return berth_error(err, 0, "invalid network name: '%s' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)", v);
}

static int check_local(const char *v, berth_error_t *err)
{
        if (streq(v, "local"))
                return 0;
        return berth_error(err, 0, "volume driver '%s' is not supported (berth has the local driver only)", v);
}

static int check_bridge(const char *v, berth_error_t *err)
{
        if (streq(v, "bridge"))
                return 0;
        return berth_error(err, 0, "network driver '%s' is not supported (berth has the bridge driver only)", v);
}

static int check_bool_value(const char *v, berth_error_t *err)
{
        return def_parse_bool(v, NULL, err);
}

static int check_copy(const char *v, berth_error_t *err)
{
        bool copy = true;
        if (def_parse_bool(v, &copy, err) < 0)
                return -1;
        if (!copy)
                return berth_error(err, 0, "Copy=no is not supported: berth fills an empty volume from the image on "
                                           "first use (mount it with Volume=NAME.volume:/PATH:nocopy instead)");
        return 0;
}

static int check_build_network(const char *v, berth_error_t *err)
{
        if (streq(v, "host") || streq(v, "none") || streq(v, "default"))
                return 0;
        return berth_error(err, 0, "invalid Network= '%s': build steps use host or none", v);
}

struct key_state *def_resource_keys_new(void)
{
        return xcalloc(ARRAY_SIZE(resource_keys), sizeof(struct key_state));
}

void def_resource_keys_free(struct key_state *keys)
{
        for (size_t i = 0; keys && i < ARRAY_SIZE(resource_keys); i++)
                strv_free(keys[i].values);
        free(keys);
}

static const struct resource_key *key_of(enum definition_kind kind, const char *key)
{
        for (size_t i = 0; i < ARRAY_SIZE(resource_keys); i++)
                if (resource_keys[i].kind == kind && streq(resource_keys[i].key, key))
                        return &resource_keys[i];
        return NULL;
}

int def_assign_resource(struct parser *p, const char *key, const char *value, berth_error_t *err)
{
        enum definition_kind kind = p->d->kind;
        const struct resource_key *k = key_of(kind, key);
        if (!k)
                return berth_error(err, 0, "unknown key '%s' in section [%s]", key, section_name[kind]);
        if (k->how == R_UNSUPPORTED)
                return berth_error(err, 0, "%s= is not supported: `berth %s` has no such option", key,
                                   command_name[kind]);
        struct key_state *st = &p->res_keys[k - resource_keys];
        if (!*value) { /* an empty assignment resets */
                strv_free(st->values);
                st->values = NULL;
                return 0;
        }
        cleanup_strv char **words = NULL;
        if (k->how == R_WORDS) {
                if (def_split_words(value, &words, err) < 0)
                        return -1;
        } else {
                words = xcalloc(1, sizeof(char *));
                strv_push(&words, value);
        }
        for (size_t i = 0; k->check && words[i]; i++)
                if (k->check(words[i], err) < 0)
                        return -1;
        if (k->how == R_UNIQUE && st->values)
                return berth_error(err, 0, "a second %s= ('%s'): there can be one (an empty %s= resets the first)",
                                   key, value, key);
        if (k->how == R_ONE) {
                strv_free(st->values);
                st->values = NULL;
        }
        for (size_t i = 0; words[i]; i++)
                strv_push(&st->values, words[i]);
        return 0;
}

/* The values of a key, NULL when none. */
static char **values_of(const struct parser *p, const char *key)
{
        const struct resource_key *k = key_of(p->d->kind, key);
        return k ? p->res_keys[k - resource_keys].values : NULL;
}

static const char *last_of(const struct parser *p, const char *key)
{
        char **v = values_of(p, key);
        size_t n = strv_length(v);
        return n ? v[n - 1] : NULL;
}

static void push_each(char ***args, const char *flag, char **values)
{
        for (size_t i = 0; values && values[i]; i++) {
                strv_push(args, flag);
                strv_push(args, values[i]);
        }
}

static void push_opt(char ***args, const char *flag, const char *value)
{
        if (value) {
                strv_push(args, flag);
                strv_push(args, value);
        }
}

/* The default name of a volume or network: the file's NAME ("data-a" for
 * instance a of data@.volume). */
static int default_name(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        d->resource_name = xstrdup(d->name);
        char *at = strchr(d->resource_name, '@');
        if (at)
                *at = at[1] ? '-' : '\0'; /* "data@" is the template itself */
        int (*check)(const char *, berth_error_t *) =
                d->kind == DEFINITION_VOLUME ? check_volume_name : check_network_name;
        if (*d->resource_name && check(d->resource_name, err) < 0)
                return berth_error_wrap(err, "%s", d->path);
        return 0;
}

static int image_args(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        const char *image = last_of(p, "Image");
        if (!image)
                return berth_error(err, 0, "%s: missing Image= in [Image]", d->path);
        d->resource_name = xstrdup(last_of(p, "ImageTag") ? last_of(p, "ImageTag") : image);
        bool all = false;
        if (last_of(p, "AllTags"))
                (void) def_parse_bool(last_of(p, "AllTags"), &all, NULL);
        if (all)
                strv_push(&d->create_args, "--all-tags");
        const char *os = last_of(p, "OS"), *arch = last_of(p, "Arch"), *variant = last_of(p, "Variant");
        if (os || arch || variant) {
                if (!arch && variant)
                        return berth_error(err, 0, "%s: Variant= needs Arch=", d->path);
                cleanup_free char *platform = xasprintf("%s/%s%s%s", os ? os : "linux", arch ? arch : "amd64",
                                                        variant ? "/" : "", variant ? variant : "");
                push_opt(&d->create_args, "--platform", platform);
        }
        strv_push(&d->create_args, image);
        return 0;
}

/* The context: SetWorkingDirectory=unit|file (the definition's directory,
 * also the default) or an absolute path; File= relative to it. */
static int build_args(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        char **tags = values_of(p, "ImageTag");
        if (!tags)
                return berth_error(err, 0, "%s: missing ImageTag= in [Build]", d->path);
        d->resource_name = xstrdup(tags[0]);
        const char *wd = last_of(p, "SetWorkingDirectory");
        if (wd && !streq(wd, "unit") && !streq(wd, "file") && wd[0] != '/')
                return berth_error(err, 0,
                                   "%s: invalid SetWorkingDirectory= '%s' (use unit, file or an absolute path; "
                                   "berth builds from local directories only)",
                                   d->path, wd);
        cleanup_free char *context = wd && wd[0] == '/' ? xstrdup(wd) : xstrdup(p->dir);
        push_each(&d->create_args, "-t", tags);
        if (last_of(p, "File")) {
                cleanup_free char *file = path_absolute(context, last_of(p, "File"));
                push_opt(&d->create_args, "-f", file);
        }
        push_each(&d->create_args, "--label", values_of(p, "Label"));
        push_opt(&d->create_args, "--target", last_of(p, "Target"));
        push_opt(&d->create_args, "--network", last_of(p, "Network"));
        strv_push(&d->create_args, context);
        return 0;
}

int def_resource_finish(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        d->create_args = xcalloc(1, sizeof(char *));
        switch (d->kind) {
        case DEFINITION_VOLUME:
        case DEFINITION_NETWORK: {
                bool volume = d->kind == DEFINITION_VOLUME;
                strv_push(&d->create_args, volume ? "volume" : "network");
                strv_push(&d->create_args, "create");
                if (volume) /* idempotent, as Docker's */
                        push_each(&d->create_args, "--label", values_of(p, "Label"));
                else {
                        strv_push(&d->create_args, "--ignore");
                        push_opt(&d->create_args, "--subnet", last_of(p, "Subnet"));
                }
                const char *name = last_of(p, volume ? "VolumeName" : "NetworkName");
                if (name)
                        d->resource_name = xstrdup(name);
                else if (default_name(p, err) < 0)
                        return -1;
                break;
        }
        case DEFINITION_IMAGE:
                strv_push(&d->create_args, "pull");
                return image_args(p, err);
        case DEFINITION_BUILD:
                strv_push(&d->create_args, "build");
                return build_args(p, err);
        default: abort();
        }
        strv_push(&d->create_args, d->resource_name);
        return 0;
}

/* One word of ExecStart=: quoted when it needs it, '%' and '$' doubled
 * (systemd.service(5), "Command lines"). */
static void put_exec_word(FILE *f, const char *w)
{
        bool plain = *w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@+,-") ==
                                   strlen(w);
        if (!plain)
                fputc('"', f);
        for (const char *s = w; *s; s++) {
                if (*s == '%' || *s == '$')
                        fputc(*s, f);
                else if (*s == '"' || *s == '\\')
                        fputc('\\', f);
                fputc(*s, f);
        }
        if (!plain)
                fputc('"', f);
}

char *def_resource_unit(const struct definition *d)
{
        static const char *const word[_DEFINITION_KIND_MAX] = { "container", "volume", "network", "image", "build" };
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        const char *w = word[d->kind];
        cleanup_free char *path = def_escape_specifiers(d->path);
        cleanup_free char *rname = def_escape_specifiers(d->resource_name);
        def_put_header(f, d, w);
        fputs("[Unit]\n", f);
        fprintf(f, "Description=berth %s %s\n", w, rname);
        fprintf(f, "Documentation=man:berth.%s(5)\n", w);
        fprintf(f, "SourcePath=%s\n", path);
        cleanup_free char *store = def_store_dir(d);
        fprintf(f, "RequiresMountsFor=%s\n", store);
        if (d->kind == DEFINITION_IMAGE || d->kind == DEFINITION_BUILD)
                def_put_network_wait(f, d);
        for (size_t i = 0; d->unit_lines_raw && d->unit_lines_raw[i]; i++)
                fprintf(f, "%s\n", d->unit_lines_raw[i]);
        fputs("\n[Service]\nType=oneshot\nRemainAfterExit=yes\n", f);
        fputs("ExecStart=", f);
        put_exec_word(f, BERTH_BINDIR "/berth");
        for (size_t i = 0; d->create_args[i]; i++) {
                fputc(' ', f);
                put_exec_word(f, d->create_args[i]);
        }
        fprintf(f, "\nSyslogIdentifier=berth-%s\n", w);
        for (size_t i = 0; d->service_lines_raw && d->service_lines_raw[i]; i++)
                fprintf(f, "%s\n", d->service_lines_raw[i]);
        fclose(f);
        return buf;
}
