/* berth — nftables through libnftables: one table, `ip berth`.
 *
 *   set subnets        the bridge networks' subnets (interval set)
 *   set bridges        their bridges, and set same each one's pair
 *                      BRIDGE . BRIDGE
 *   chain prerouting   nat hook: traffic to a local address -> ports
 *   chain output       the same for the host's own traffic (127.0.0.1:PORT)
 *   chain postrouting  masquerade what leaves the subnets, and the host's
 *                      127.0.0.1 traffic that the output chain sent to one
 *   chain forward      isolation, as Docker's DOCKER-ISOLATION chains: what
 *                      the host would route from one network's bridge to
 *                      another's is dropped (a container on both reaches
 *                      each directly; a published port's DNAT is let
 *                      through; traffic inside one bridge, seen here with
 *                      br_netfilter, matches @same)
 *   chain ports        DNAT through four maps: {tcp,udp}_any (HOSTPORT ->
 *                      ADDR . PORT) and {tcp,udp}_addr (HOSTIP . HOSTPORT ->
 *                      ADDR . PORT); an element per published port, its
 *                      comment the container's ID
 *
 * Each transaction costs milliseconds (the kernel waits for RCU grace
 * periods), so a container without published ports makes none, and one
 * with ports one at start and one at stop.  The base is (re)written whole in
 * each of them: flushed and refilled chains, whatever happened to the table
 * meanwhile.  No `nft` subprocess.  libnftables (and libnftnl, libxtables,
 * libgmp behind it) is loaded on the first transaction, not linked: only
 * what publishes ports or makes networks maps it. */
#include "config.h"

#include <nftables/libnftables.h>

#include "berth/dlopen-util.h"
#include "berth/json-util.h"
#include "berth/network-internal.h"
#include "berth/util.h"

static const char nft_base[] =
        "add table ip berth\n"
        "add set ip berth subnets { type ipv4_addr; flags interval; }\n"
        "add set ip berth bridges { type ifname; }\n"
        "add set ip berth same { type ifname . ifname; }\n"
        "add map ip berth tcp_any { type inet_service : ipv4_addr . inet_service; }\n"
        "add map ip berth udp_any { type inet_service : ipv4_addr . inet_service; }\n"
        "add map ip berth tcp_addr { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
        "add map ip berth udp_addr { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
        "add chain ip berth prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
        "add chain ip berth output { type nat hook output priority -100; policy accept; }\n"
        "add chain ip berth postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
        "add chain ip berth forward { type filter hook forward priority filter; policy accept; }\n"
        "add chain ip berth ports\n"
        "flush chain ip berth forward\n"
        "flush chain ip berth prerouting\n"
        "flush chain ip berth output\n"
        "flush chain ip berth postrouting\n"
        "flush chain ip berth ports\n"
        "add rule ip berth prerouting fib daddr type local jump ports\n"
        "add rule ip berth output fib daddr type local jump ports\n"
        "add rule ip berth postrouting ip saddr 127.0.0.0/8 ip daddr @subnets masquerade\n"
        "add rule ip berth postrouting ip saddr @subnets ip daddr != @subnets masquerade\n"
        "add rule ip berth forward iifname . oifname @same accept\n"
        "add rule ip berth forward ct status dnat accept\n"
        "add rule ip berth forward iifname @bridges oifname @bridges drop\n"
        "add rule ip berth ports dnat ip to ip daddr . tcp dport map @tcp_addr\n"
        "add rule ip berth ports dnat ip to ip daddr . udp dport map @udp_addr\n"
        "add rule ip berth ports dnat ip to tcp dport map @tcp_any\n"
        "add rule ip berth ports dnat ip to udp dport map @udp_any\n";

static DLSYM_PROTOTYPE(nft_ctx_new) = NULL;
static DLSYM_PROTOTYPE(nft_ctx_free) = NULL;
static DLSYM_PROTOTYPE(nft_ctx_buffer_error) = NULL;
static DLSYM_PROTOTYPE(nft_ctx_get_error_buffer) = NULL;
static DLSYM_PROTOTYPE(nft_run_cmd_from_buffer) = NULL;

static int nft_load(berth_error_t *err)
{
        static void *dl;
        return dlopen_many_sym(&dl, "libnftables.so.1", err,
                               DLSYM_ARG(nft_ctx_new),
                               DLSYM_ARG(nft_ctx_free),
                               DLSYM_ARG(nft_ctx_buffer_error),
                               DLSYM_ARG(nft_ctx_get_error_buffer),
                               DLSYM_ARG(nft_run_cmd_from_buffer),
                               NULL);
}

/* Run commands in one transaction. */
static int nft_run(const char *cmds, berth_error_t *err)
{
        if (nft_load(err) < 0)
                return berth_error_wrap(err, "nftables");
        struct nft_ctx *ctx = sym_nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return berth_error(err, 0, "nftables: cannot create a context");
        sym_nft_ctx_buffer_error(ctx);
        int r = sym_nft_run_cmd_from_buffer(ctx, cmds);
        if (r != 0) {
                const char *e = sym_nft_ctx_get_error_buffer(ctx);
                size_t len = e ? strcspn(e, "\n") : 0;
                berth_error(err, 0, "nftables: %.*s", (int) len, len ? e : "the transaction failed");
                sym_nft_ctx_free(ctx);
                return -1;
        }
        sym_nft_ctx_free(ctx);
        return 0;
}

static void append(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(char **buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        cleanup_free char *more = xvasprintf(fmt, ap);
        va_end(ap);
        char *n = xasprintf("%s%s", *buf ? *buf : "", more);
        free(*buf);
        *buf = n;
}

/* The key of a published port in its map: "tcp_any { 8080" or
 * "tcp_addr { 127.0.0.1 . 8080" (the caller closes it). */
static char *port_key(const char *proto, const char *host_ip, const char *host_port)
{
        bool any = !host_ip || !*host_ip || streq(host_ip, "0.0.0.0");
        const char *p = proto && streq(proto, "udp") ? "udp" : "tcp";
        if (any)
                return xasprintf("%s_any { %s", p, host_port);
        return xasprintf("%s_addr { %s . %s", p, host_ip, host_port);
}

/* The base and a network's elements. */
static char *network_cmds(const char *subnet, const char *bridge)
{
        return xasprintf("%sadd element ip berth subnets { %s }\n"
                         "add element ip berth bridges { \"%s\" }\n"
                         "add element ip berth same { \"%s\" . \"%s\" }\n",
                         nft_base, subnet, bridge, bridge, bridge);
}

int nft_network_add(const char *subnet, const char *bridge, berth_error_t *err)
{
        cleanup_free char *cmds = network_cmds(subnet, bridge);
        return nft_run(cmds, err);
}

int nft_ports_add(const char *id, const char *subnet, const char *bridge, const char *ctr_ip, json_t *ports,
                  berth_error_t *err)
{
        cleanup_free char *cmds = network_cmds(subnet, bridge);
        const char *key;
        json_t *binds;
        json_object_foreach(ports, key, binds)
        {
                const char *slash = strchr(key, '/');
                unsigned ctr_port = atoi(key);
                size_t i;
                json_t *b;
                json_array_foreach(binds, i, b)
                {
                        cleanup_free char *k = port_key(slash ? slash + 1 : "tcp", json_str(b, "HostIp"),
                                                        json_str(b, "HostPort") ?: "0");
                        append(&cmds, "add element ip berth %s comment \"%s\" : %s . %u }\n", k, id, ctr_ip,
                               ctr_port);
                }
        }
        return nft_run(cmds, err);
}

int nft_ports_delete(json_t *reservations, berth_error_t *err)
{
        cleanup_free char *cmds = NULL;
        const char *key;
        json_t *r;
        json_object_foreach(reservations, key, r)
        {
                /* "tcp/8080" -> { HostIp } */
                cleanup_free char *proto = xstrndup(key, strcspn(key, "/"));
                const char *port = strchr(key, '/') ? strchr(key, '/') + 1 : "0";
                cleanup_free char *k = port_key(proto, json_str(r, "HostIp"), port);
                append(&cmds, "delete element ip berth %s }\n", k);
        }
        if (!cmds)
                return 0;
        if (nft_run(cmds, NULL) == 0)
                return 0;
        /* one transaction fails whole: an element already gone must not
         * keep the others in place, so one at a time */
        int failed = 0;
        for (char *line = cmds, *end; *line; line = end + 1) {
                end = strchr(line, '\n');
                *end = '\0';
                cleanup_free char *one = xasprintf("%s\n", line);
                if (nft_run(one, failed ? NULL : err) < 0)
                        failed = -1;
        }
        return failed;
}

int nft_network_delete(const char *subnet, const char *bridge, berth_error_t *err)
{
        /* one at a time: a network used before its bridge was in the sets
         * has the subnet alone */
        char *cmds[] = {
                xasprintf("delete element ip berth subnets { %s }\n", subnet),
                xasprintf("delete element ip berth bridges { \"%s\" }\n", bridge),
                xasprintf("delete element ip berth same { \"%s\" . \"%s\" }\n", bridge, bridge),
        };
        for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
                berth_error_t e = NULL;
                if (nft_run(cmds[i], &e) < 0)
                        berth_error_free(&e); /* not there (no table, or never used): nothing to undo */
                free(cmds[i]);
        }
        (void) err;
        return 0;
}
