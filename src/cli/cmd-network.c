/* berth network create|ls|inspect|rm, berth port. */
#include "config.h"

#include <getopt.h>

#include "berth/cli.h"
#include "berth/container.h"
#include "berth/json-util.h"
#include "berth/network.h"
#include "berth/template.h"
#include "berth/util.h"

static const char network_usage[] =
        "Usage:  berth network COMMAND\n\n"
        "Manage networks\n\n"
        "Commands:\n"
        "  create [--subnet CIDR] NAME   Create a bridge network\n"
        "  ls [-q] [--format F]          List networks\n"
        "  inspect [-f F] NAME [NAME...] Display detailed information on networks\n"
        "  rm NAME [NAME...]             Remove networks (not while containers use them)\n"
        "  connect [--alias A] [--ip IP] NETWORK CONTAINER\n"
        "                                Connect a container to a network\n"
        "  disconnect [-f] NETWORK CONTAINER\n"
        "                                Disconnect a container from a network\n";

static int network_create_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "subnet", required_argument, NULL, 's' },
                { "driver", required_argument, NULL, 'd' },
                { "ignore", no_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *subnet = NULL;
        bool ignore = false;
        int ch;
        while ((ch = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
                switch (ch) {
                case 's': subnet = optarg; break;
                case 'i': ignore = true; break;
                case 'd':
                        if (!streq(optarg, "bridge"))
                                return berth_error(err, 0, "network driver %s is not supported (bridge only)", optarg);
                        break;
                case 'h': puts("Usage:  berth network create [--subnet CIDR] [-d bridge] [--ignore] NAME"); return 0;
                default: return cli_usage_error(err, "network create", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(err, "network create", "requires exactly 1 argument");
        json_auto_t *def = NULL;
        /* --ignore (Podman's): an existing network of that name is fine, as is */
        if (ignore && network_name_valid(argv[optind]) && network_lookup(&cli->store, argv[optind], &def, NULL) == 0 &&
            streq(json_str(def, "Name"), argv[optind])) {
                printf("%s\n", json_str(def, "Id"));
                return 0;
        }
        json_decref(def);
        def = NULL;
        if (network_create(&cli->store, argv[optind], subnet, &def, err) < 0)
                return -1;
        printf("%s\n", json_str(def, "Id"));
        return 0;
}

static int network_ls_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        bool quiet;
        const char *format;
        int r = cli_ls_options(argc, argv, "network ls", "network IDs", &quiet, &format, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        json_auto_t *all = NULL;
        if (network_list(&cli->store, &all, err) < 0)
                return -1;
        size_t n = json_array_size(all);
        json_t **rows = xcalloc(n + 1, sizeof(json_t *));
        size_t i;
        json_t *def;
        json_array_foreach(all, i, def)
        {
                char id[13];
                snprintf(id, sizeof(id), "%s", json_str(def, "Id"));
                if (quiet && !format)
                        printf("%s\n", id);
                rows[i] = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "Name", json_str(def, "Name"),
                                    "Driver", json_str(def, "Driver"), "Scope", "local", "IPv6", "false", "Internal",
                                    "false", "Labels", "", "CreatedAt", json_str(def, "Created") ?: "");
        }
        json_auto_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "NETWORK ID", "Name", "NAME",
                                        "Driver", "DRIVER", "Scope", "SCOPE", "IPv6", "IPV6", "Internal", "INTERNAL",
                                        "Labels", "LABELS", "CreatedAt", "CREATED AT");
        r = quiet && !format ? 0
                             : cli_print_formatted(format ? format : "table",
                                                       "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", header, rows, n, err);
        for (i = 0; i < n; i++)
                json_decref(rows[i]);
        free(rows);
        return r;
}

static int network_inspect_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        const char *format = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
                if (ch == 'f')
                        format = optarg;
                else if (ch == 'H') {
                        puts("Usage:  berth network inspect [-f FORMAT] NETWORK [NETWORK...]");
                        return 0;
                } else
                        return cli_usage_error(err, "network inspect", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, "network inspect", "requires at least 1 argument");
        json_auto_t *out = json_array();
        for (int i = optind; i < argc; i++) {
                json_t *def = NULL;
                if (network_lookup(&cli->store, argv[i], &def, err) < 0)
                        return -1;
                json_t *members = NULL;
                if (network_members(&cli->store, json_str(def, "Name"), &members, err) < 0) {
                        json_decref(def);
                        return -1;
                }
                const char *id;
                json_t *m;
                json_object_foreach(members, id, m)
                {
                        json_object_del(m, "Hostname");
                        json_object_del(m, "Interface");
                        json_object_del(m, "Veth");
                }
                json_object_set_new(def, "Containers", members);
                json_array_append_new(out, def);
        }
        if (format) {
                size_t i;
                json_t *def;
                json_array_foreach(out, i, def)
                {
                        cleanup_free char *text = NULL;
                        if (template_render(format, def, &text, err) < 0)
                                return -1;
                        printf("%s\n", text);
                }
                return 0;
        }
        cleanup_free char *text = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        return 0;
}

static int network_rm_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc < 2)
                return cli_usage_error(err, "network rm", "requires at least 1 argument");
        for (int i = 1; i < argc; i++) {
                if (network_remove(&cli->store, argv[i], err) < 0)
                        return -1;
                printf("%s\n", argv[i]);
        }
        return 0;
}

static int network_connect_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "alias", required_argument, NULL, 'a' },
                { "ip", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        cleanup_strv char **aliases = NULL;
        const char *ip = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (ch) {
                case 'a':
                        if (!network_alias_valid(optarg))
                                return berth_error(err, 0, "invalid network alias '%s' (a host name: letters, digits, "
                                                           "'-', '.', '_')", optarg);
                        strv_push(&aliases, optarg);
                        break;
                case 'i': ip = optarg; break;
                case 'h':
                        puts("Usage:  berth network connect [--alias ALIAS]... [--ip IPV4] NETWORK CONTAINER");
                        return 0;
                default: return cli_usage_error(err, "network connect", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind + 2 != argc)
                return cli_usage_error(err, "network connect", "requires exactly 2 arguments");
        return network_connect(&cli->store, argv[optind], argv[optind + 1], aliases, ip, err);
}

static int network_disconnect_cmd(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool force = false;
        int ch;
        while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
                switch (ch) {
                case 'f': force = true; break;
                case 'h': puts("Usage:  berth network disconnect [-f] NETWORK CONTAINER"); return 0;
                default: return cli_usage_error(err, "network disconnect", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind + 2 != argc)
                return cli_usage_error(err, "network disconnect", "requires exactly 2 arguments");
        return network_disconnect(&cli->store, argv[optind], argv[optind + 1], force, err);
}

int cmd_network(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        static const struct {
                const char *name;
                berth_cmd_fn fn;
        } subs[] = {
                { "create", network_create_cmd }, { "ls", network_ls_cmd }, { "list", network_ls_cmd },
                { "inspect", network_inspect_cmd }, { "rm", network_rm_cmd }, { "remove", network_rm_cmd },
                { "connect", network_connect_cmd }, { "disconnect", network_disconnect_cmd },
        };
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fputs(network_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? BERTH_EXIT_ENGINE : 0;
        }
        if (argc > 2 && (streq(argv[2], "--help") || streq(argv[2], "-h"))) {
                fputs(network_usage, stdout);
                return 0;
        }
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (streq(subs[i].name, argv[1])) {
                        optind = 0;
                        return subs[i].fn(cli, argc - 1, argv + 1, err);
                }
        return cli_usage_error(err, "network", "unknown command '%s'", argv[1]);
}

int cmd_port(struct berth_cli *cli, int argc, char **argv, berth_error_t *err)
{
        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                puts("Usage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]");
                return 0;
        }
        if (argc < 2 || argc > 3)
                return cli_usage_error(err, "port", "requires 1 or 2 arguments");
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(&cli->store, argv[1], &c, err) < 0)
                return -1;
        cleanup_free char *want = argc == 3 ? (strchr(argv[2], '/') ? xstrdup(argv[2]) : xasprintf("%s/tcp", argv[2]))
                                            : NULL;
        bool running = container_is_running(c), found = false;
        const char *k;
        json_t *v;
        json_object_foreach(running ? json_at(c->state, "NetworkSettings.Ports") : NULL, k, v)
        {
                if (want && !streq(want, k))
                        continue;
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b)
                {
                        found = true;
                        if (want)
                                printf("%s:%s\n", json_str(b, "HostIp"), json_str(b, "HostPort"));
                        else
                                printf("%s -> %s:%s\n", k, json_str(b, "HostIp"), json_str(b, "HostPort"));
                }
        }
        if (want && !found)
                return berth_error(err, 0, "No public port '%s' published for %s", want, c->name);
        return 0;
}
