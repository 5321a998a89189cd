/* berth — NAME.volume and NAME.network definitions (include/berth/definition.h):
 * their [Volume] and [Network] keys (Quadlet's names, as far as `berth volume
 * create` and `berth network create` go: a key berth cannot honour is an
 * error, never ignored), and the unit each becomes, a oneshot
 * berth-volume@NAME.service / berth-network@NAME.service that creates it
 * with the berth binary, idempotently (RemainAfterExit=yes).  A container
 * naming Volume=NAME.volume:... or Network=NAME.network gets Requires= and
 * After= on it (definition.c). */
#include "config.h"

#include "berth/definition-internal.h"
#include "berth/network.h"
#include "berth/util.h"
#include "berth/volume.h"

#ifndef BERTH_BINDIR
#define BERTH_BINDIR "/usr/bin"
#endif

enum resource_what { R_NAME, R_LABEL, R_DRIVER, R_SUBNET, R_COPY, R_UNSUPPORTED };

static const struct resource_key {
        const char *key;
        enum definition_kind kind;
        enum resource_what what;
} resource_keys[] = {
        { "VolumeName", DEFINITION_VOLUME, R_NAME },
        { "Label", DEFINITION_VOLUME, R_LABEL },
        { "Driver", DEFINITION_VOLUME, R_DRIVER },
        { "Copy", DEFINITION_VOLUME, R_COPY },
        { "Device", DEFINITION_VOLUME, R_UNSUPPORTED },
        { "Type", DEFINITION_VOLUME, R_UNSUPPORTED },
        { "Options", DEFINITION_VOLUME, R_UNSUPPORTED },
        { "User", DEFINITION_VOLUME, R_UNSUPPORTED },
        { "Group", DEFINITION_VOLUME, R_UNSUPPORTED },
        { "Image", DEFINITION_VOLUME, R_UNSUPPORTED },
        { "NetworkName", DEFINITION_NETWORK, R_NAME },
        { "Subnet", DEFINITION_NETWORK, R_SUBNET },
        { "Driver", DEFINITION_NETWORK, R_DRIVER },
        { "Gateway", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "IPRange", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "Internal", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "IPv6", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "DNS", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "DisableDNS", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "Label", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "Options", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "IPAMDriver", DEFINITION_NETWORK, R_UNSUPPORTED },
        { "InterfaceName", DEFINITION_NETWORK, R_UNSUPPORTED },
};

static const char *const kind_word[_DEFINITION_KIND_MAX] = { "container", "volume", "network" };
static const char *const section_name[_DEFINITION_KIND_MAX] = { "Container", "Volume", "Network" };

static int check_name(enum definition_kind kind, const char *v, berth_error_t *err)
{
        if (kind == DEFINITION_VOLUME ? volume_name_valid(v) : network_name_valid(v))
                return 0;
        return berth_error(err, 0, "invalid %s name: '%s' (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)",
                           kind_word[kind], v);
}

int def_assign_resource(struct parser *p, const char *key, const char *value, berth_error_t *err)
{
        enum definition_kind kind = p->d->kind;
        const struct resource_key *k = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(resource_keys); i++)
                if (resource_keys[i].kind == kind && streq(resource_keys[i].key, key))
                        k = &resource_keys[i];
        if (!k)
                return berth_error(err, 0, "unknown key '%s' in section [%s]", key, section_name[kind]);
        cleanup_strv char **words = NULL;
        switch (k->what) {
        case R_NAME:
                if (*value && check_name(kind, value, err) < 0)
                        return -1;
                free(p->res_name);
                p->res_name = *value ? xstrdup(value) : NULL;
                return 0;
        case R_LABEL:
                if (!*value) {
                        strv_free(p->res_labels);
                        p->res_labels = NULL;
                        return 0;
                }
                if (def_split_words(value, &words, err) < 0)
                        return -1;
                for (size_t i = 0; words[i]; i++)
                        strv_push(&p->res_labels, words[i]);
                return 0;
        case R_DRIVER: {
                const char *only = kind == DEFINITION_VOLUME ? "local" : "bridge";
                if (*value && !streq(value, only))
                        return berth_error(err, 0, "%s driver '%s' is not supported (berth has the %s driver only)",
                                           kind_word[kind], value, only);
                return 0;
        }
        case R_SUBNET:
                if (*value && p->res_subnet)
                        return berth_error(err, 0,
                                           "a second Subnet= ('%s'): berth networks have one IPv4 subnet (an empty "
                                           "Subnet= resets the first)",
                                           value);
                if (*value && network_subnet_check(value, err) < 0)
                        return -1;
                free(p->res_subnet);
                p->res_subnet = *value ? xstrdup(value) : NULL;
                return 0;
        case R_COPY: {
                bool copy = true;
                if (*value && def_parse_bool(value, &copy, err) < 0)
                        return -1;
                if (!copy)
                        return berth_error(err, 0, "Copy=no is not supported: berth fills an empty volume from the "
                                                   "image on first use (mount it with Volume=NAME.volume:/PATH:nocopy "
                                                   "instead)");
                return 0;
        }
        default:
                return berth_error(err, 0, "%s= is not supported: `berth %s create` has no such option", key,
                                   kind_word[kind]);
        }
}

int def_resource_finish(struct parser *p, berth_error_t *err)
{
        struct definition *d = p->d;
        enum definition_kind kind = d->kind;
        if (p->res_name)
                d->resource_name = xstrdup(p->res_name);
        else {
                /* the file's NAME; an instance data@a makes data-a */
                d->resource_name = xstrdup(d->name);
                char *at = strchr(d->resource_name, '@');
                if (at)
                        *at = '-';
                if (at && !at[1])
                        *at = '\0'; /* the template itself */
                if (*d->resource_name && check_name(kind, d->resource_name, err) < 0)
                        return berth_error_wrap(err, "%s", d->path);
        }
        d->create_args = xcalloc(1, sizeof(char *));
        strv_push(&d->create_args, kind_word[kind]);
        strv_push(&d->create_args, "create");
        if (kind == DEFINITION_NETWORK)
                strv_push(&d->create_args, "--ignore"); /* volume create is idempotent as Docker's */
        for (size_t i = 0; p->res_labels && p->res_labels[i]; i++) {
                strv_push(&d->create_args, "--label");
                strv_push(&d->create_args, p->res_labels[i]);
        }
        if (p->res_subnet) {
                strv_push(&d->create_args, "--subnet");
                strv_push(&d->create_args, p->res_subnet);
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
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        const char *word = kind_word[d->kind];
        cleanup_free char *path = def_escape_specifiers(d->path);
        fprintf(f, "# Generated by berth-generator from %s: edit that file, then run\n"
                   "# systemctl daemon-reload.  See berth.%s(5).\n",
                d->path, word);
        for (size_t i = 0; d->dropins && d->dropins[i]; i++)
                fprintf(f, "# with the drop-in %s\n", d->dropins[i]);
        fputs("[Unit]\n", f);
        fprintf(f, "Description=berth %s %s\n", word, d->resource_name);
        fprintf(f, "Documentation=man:berth.%s(5)\n", word);
        fprintf(f, "SourcePath=%s\n", path);
        fputs("RequiresMountsFor=/var/lib/berth\n", f);
        for (size_t i = 0; d->unit_lines_raw && d->unit_lines_raw[i]; i++)
                fprintf(f, "%s\n", d->unit_lines_raw[i]);
        fputs("\n[Service]\nType=oneshot\nRemainAfterExit=yes\n", f);
        fputs("ExecStart=", f);
        put_exec_word(f, BERTH_BINDIR "/berth");
        for (size_t i = 0; d->create_args[i]; i++) {
                fputc(' ', f);
                put_exec_word(f, d->create_args[i]);
        }
        fprintf(f, "\nSyslogIdentifier=berth-%s\n", word);
        for (size_t i = 0; d->service_lines_raw && d->service_lines_raw[i]; i++)
                fprintf(f, "%s\n", d->service_lines_raw[i]);
        fclose(f);
        return buf;
}
