/* berth — IPv4 address management: subnets, gateways, picking a free address
 * or a free subnet.  Pure functions: the state they work on is kept by
 * network.c in RUN/networks/NAME.json under the network lock. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "berth/container.h"
#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/util.h"

static uint32_t prefix_mask(unsigned prefix)
{
        return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int ipam_parse_subnet(const char *s, struct ipv4_subnet *out, berth_error_t *err)
{
        const char *slash = strchr(s, '/');
        char *end = NULL;
        if (!slash)
                return berth_error(err, 0, "invalid subnet %s: use ADDRESS/PREFIX, e.g. 172.20.0.0/16", s);
        errno = 0;
        unsigned long prefix = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || prefix < 8 || prefix > 30)
                return berth_error(err, 0, "invalid subnet %s: the prefix length must be 8 to 30", s);
        cleanup_free char *ip = xstrndup(s, slash - s);
        struct in_addr a;
        if (inet_pton(AF_INET, ip, &a) != 1)
                return berth_error(err, 0, "invalid subnet %s: %s is not an IPv4 address", s, ip);
        uint32_t addr = ntohl(a.s_addr);
        if (addr & ~prefix_mask(prefix)) {
                cleanup_free char *net = ipam_format(addr & prefix_mask(prefix));
                return berth_error(err, 0, "invalid subnet %s: host bits are set (did you mean %s/%lu?)", s, net,
                                   prefix);
        }
        *out = (struct ipv4_subnet) { .addr = addr, .prefix = prefix };
        return 0;
}

char *ipam_format(uint32_t addr)
{
        return xasprintf("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
}

uint32_t ipam_gateway(const struct ipv4_subnet *sn)
{
        return sn->addr + 1;
}

bool ipam_overlaps(const struct ipv4_subnet *a, const struct ipv4_subnet *b)
{
        uint32_t m = prefix_mask(a->prefix < b->prefix ? a->prefix : b->prefix);
        return (a->addr & m) == (b->addr & m);
}

int ipam_pick(const struct ipv4_subnet *sn, const uint32_t *used, size_t nused, uint32_t *out)
{
        uint32_t last = sn->addr | ~prefix_mask(sn->prefix); /* broadcast */
        for (uint32_t a = ipam_gateway(sn) + 1; a < last; a++) {
                bool taken = false;
                for (size_t i = 0; i < nused && !taken; i++)
                        taken = used[i] == a;
                if (!taken) {
                        *out = a;
                        return 0;
                }
        }
        return -ENOSPC;
}

int ipam_pick_subnet(const struct ipv4_subnet *used, size_t nused, struct ipv4_subnet *out)
{
        /* Docker's default pools: 172.17-31.0.0/16 (17 is the default
         * bridge), then 192.168.0.0/20 steps. */
        struct ipv4_subnet c;
        for (unsigned i = 0; i < 14 + 16; i++) {
                if (i < 14)
                        c = (struct ipv4_subnet) { .addr = (172u << 24) | ((18u + i) << 16), .prefix = 16 };
                else
                        c = (struct ipv4_subnet) { .addr = (192u << 24) | (168u << 16) | ((i - 14) * 16u << 8),
                                                   .prefix = 20 };
                bool clash = false;
                for (size_t k = 0; k < nused && !clash; k++)
                        clash = ipam_overlaps(&c, &used[k]);
                if (!clash) {
                        *out = c;
                        return 0;
                }
        }
        return -ENOSPC;
}

/* Here rather than in network.c: definition files check these, and the
 * generator must not link the netlink code (libmnl) for them. */
bool network_name_valid(const char *name)
{
        return container_name_valid(name) && strlen(name) <= 64;
}

int network_subnet_check(const char *subnet, berth_error_t *err)
{
        struct ipv4_subnet want = {};
        return ipam_parse_subnet(subnet, &want, err);
}

bool network_alias_valid(const char *v)
{
        size_t n = strlen(v);
        if (n == 0 || n > 253 || !isalnum((unsigned char) v[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) v[i]) && !strchr("-._", v[i]))
                        return false;
        return true;
}

void network_endpoint_spec_done(struct network_endpoint_spec *e)
{
        free(e->name);
        strv_free(e->aliases);
        free(e->ip);
        *e = (struct network_endpoint_spec) {};
}

/* NAME, or Docker's long form: comma-separated KEY=VALUE with name= (or a
 * first field without '='), alias= (repeated), ip=. */
int network_endpoint_parse(const char *s, struct network_endpoint_spec *out, berth_error_t *err)
{
        *out = (struct network_endpoint_spec) {};
        if (!strchr(s, '=')) {
                if (!*s || strchr(s, ','))
                        return berth_error(err, 0, "invalid network \"%s\": a name or name=NAME[,alias=ALIAS][,ip=IP]",
                                           s);
                out->name = xstrdup(s);
                return 0;
        }
        cleanup_free char *copy = xstrdup(s);
        char *rest = copy, *f;
        for (size_t i = 0; (f = strsep(&rest, ",")); i++) {
                char *eq = strchr(f, '=');
                if (!eq) {
                        if (i == 0 && *f) {
                                out->name = xstrdup(f);
                                continue;
                        }
                        network_endpoint_spec_done(out);
                        return berth_error(err, 0, "invalid field \"%s\" in --network %s: must be a key=value pair", f, s);
                }
                *eq = '\0';
                const char *v = eq + 1;
                int r = 0;
                if (streq(f, "name") && *v && !out->name)
                        out->name = xstrdup(v);
                else if (streq(f, "alias") && network_alias_valid(v))
                        strv_push(&out->aliases, v);
                else if (streq(f, "ip") && !out->ip) {
                        struct in_addr a;
                        if (inet_pton(AF_INET, v, &a) == 1)
                                out->ip = xstrdup(v);
                        else
                                r = berth_error(err, 0, "invalid IPv4 address in --network %s: %s", s, v);
                } else if (streq(f, "name") || streq(f, "alias") || streq(f, "ip"))
                        r = berth_error(err, 0, "invalid %s \"%s\" in --network %s", f, v, s);
                else
                        r = berth_error(err, 0, "invalid field key \"%s\" in --network %s (name, alias, ip)", f, s);
                if (r < 0) {
                        network_endpoint_spec_done(out);
                        return r;
                }
        }
        if (!out->name) {
                network_endpoint_spec_done(out);
                return berth_error(err, 0, "invalid --network %s: no network name (name=NAME)", s);
        }
        return 0;
}

bool ipam_host_address(const struct ipv4_subnet *sn, uint32_t a)
{
        uint32_t m = prefix_mask(sn->prefix);
        return (a & m) == sn->addr && a != sn->addr && a != ipam_gateway(sn) && a != (sn->addr | ~m);
}
