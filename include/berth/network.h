/* berth — container networks: the default `bridge` network (berth0,
 * 172.17.0.0/16), user networks (`berth network create`), published ports.
 *
 * Layout:
 *   ROOT/networks/NAME.json   a network's definition: { Name, Id, Created,
 *                             Driver (bridge|host|null), Subnet, Gateway,
 *                             Bridge }; `bridge`, `host` and `none` are made
 *                             on first use.
 *   RUN/networks/NAME.json    who is attached now: { "Containers": { ID:
 *                             { Name, Hostname, IPv4Address } } } (IPAM: an
 *                             address is taken while it is listed here)
 *   RUN/networks/NAME.nat     the nft table has NAME's masquerade (made
 *                             once per boot, or again after a failure)
 *   RUN/networks/ports.json   host ports reserved by running containers:
 *                             { "tcp/8080": { Container, HostIp } }
 *   RUN/networks/lock         exclusive for any change to the above; taken
 *                             after a container's lock, never before it.
 *
 * A container on a bridge network gets a veth pair (host side vethID11 on the
 * network's bridge, eth0 in its own network namespace) set up by the shim
 * over rtnetlink (src/netlink.c), after the container's process is cloned and
 * before it execs.  NAT lives in one nftables table, `ip berth` (src/nft.c):
 * masquerade for the bridge subnets, DNAT for published ports in prerouting
 * and output (so 127.0.0.1:HOSTPORT works from the host) through maps with
 * one element per published port, deleted by key.  Everything is undone by
 * network_detach() from the unit's ExecStopPost, also after kill -9.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

#define NETWORK_DEFAULT "bridge"
#define NETWORK_DEFAULT_BRIDGE "berth0"
#define NETWORK_DEFAULT_SUBNET "172.17.0.0/16"

/* ---- pure helpers (tests/unit/test-network.c) ------------------------------- */

/* -p [IP:][HOSTPORT[-END]:]CTRPORT[-END][/tcp|udp]; host_port 0 = pick one. */
struct port_spec {
        char host_ip[16];  /* "" = every address */
        unsigned host_port, host_port_end;
        unsigned ctr_port, ctr_port_end;
        char proto[4]; /* "tcp" or "udp" */
};
int port_spec_parse(const char *s, struct port_spec *out, berth_error_t *err);

/* IPv4 in host byte order. */
struct ipv4_subnet {
        uint32_t addr;
        unsigned prefix;
};
int ipam_parse_subnet(const char *s, struct ipv4_subnet *out, berth_error_t *err);
/* "a.b.c.d" (malloc'ed) */
char *ipam_format(uint32_t addr);
/* The gateway: the first host address of the subnet. */
uint32_t ipam_gateway(const struct ipv4_subnet *sn);
bool ipam_overlaps(const struct ipv4_subnet *a, const struct ipv4_subnet *b);
/* The lowest address of sn that is not the network, gateway or broadcast
 * address nor in used[]; -ENOSPC when the subnet is full. */
int ipam_pick(const struct ipv4_subnet *sn, const uint32_t *used, size_t nused, uint32_t *out);
/* A /16 of 172.18-31.0.0 then 192.168.0-240.0/20 overlapping none of used[]. */
int ipam_pick_subnet(const struct ipv4_subnet *used, size_t nused, struct ipv4_subnet *out);

/* resolv.conf for a container with a network of its own: the host's without
 * loopback nameservers, Docker's fallback (8.8.8.8, 8.8.4.4) when none is
 * left (malloc'ed). */
char *network_resolv_conf(const char *host);

/* ---- rtnetlink (src/netlink.c) --------------------------------------------------- */
/* The bridge with its address, up (made when missing). */
int nl_bridge_ensure(const char *name, uint32_t addr, unsigned prefix, berth_error_t *err);
/* Delete a link of the host's namespace; a missing one is fine. */
int nl_link_delete(const char *name, berth_error_t *err);
/* A veth pair: host_name on bridge (up), its peer eth0 in the network
 * namespace of pid with addr/prefix, up, default route via gw; lo up. */
int nl_veth_attach(const char *host_name, const char *bridge, pid_t pid, uint32_t addr, unsigned prefix, uint32_t gw,
                   berth_error_t *err);

/* ---- nftables (src/nft.c) --------------------------------------------------------- */
/* The berth table (re)made whole, with subnet masqueraded: one transaction. */
int nft_network_add(const char *subnet, berth_error_t *err);
/* The same plus the DNAT map elements of container id (ports: its
 * NetworkSettings.Ports) to ctr_ip. */
int nft_ports_add(const char *id, const char *subnet, const char *ctr_ip, json_t *ports, berth_error_t *err);
/* Delete the DNAT elements of these reservations ({ "tcp/8080": { HostIp } }). */
int nft_ports_delete(json_t *reservations, berth_error_t *err);
/* Take the subnet out of the masquerade set (network rm). */
int nft_subnet_delete(const char *subnet, berth_error_t *err);

/* ---- networks (src/network.c) ------------------------------------------------------ */
/* The definition of NAME or ID (prefix); the built-in ones are made here. */
int network_lookup(struct berth_store *s, const char *ref, json_t **out, berth_error_t *err);
int network_create(struct berth_store *s, const char *name, const char *subnet, json_t **out, berth_error_t *err);
int network_remove(struct berth_store *s, const char *ref, berth_error_t *err);
/* Every definition, sorted by name. */
int network_list(struct berth_store *s, json_t **out, berth_error_t *err);
/* The containers attached to a network now (RUN/networks/NAME.json); a
 * file that cannot be read is an error, never "nobody". */
int network_members(struct berth_store *s, const char *name, json_t **out, berth_error_t *err);

/* run/create: check --network, turn -p/-P/--expose into
 * HostConfig.PortBindings, Config.ExposedPorts and HostConfig.PublishAllPorts
 * in cfg, and refuse a host port another container or a host socket holds. */
int network_prepare_config(struct berth_store *s, json_t *cfg, char *const *publish, bool publish_all,
                           char *const *expose, json_t *image_exposed, berth_error_t *err);
/* Does this NetworkMode give the container a network namespace of its own
 * that the shim sets up (none, bridge, user networks)? */
bool network_mode_private(const char *mode);
/* container:NAME: *fd is that container's network namespace (else -1). */
int network_join_fd(struct berth_store *s, const char *mode, int *fd, berth_error_t *err);
/* Shim: the child (pid) waits in its network namespace; reserve the ports,
 * allocate the address, make the veth and the nft rules, write /etc/hosts;
 * the result goes to c->state's NetworkSettings (saved by the caller). */
int network_attach(struct berth_store *s, struct berth_container *c, pid_t pid, berth_error_t *err);
/* ExecStopPost: undo what network_attach did (best effort, idempotent). */
void network_detach(struct berth_store *s, struct berth_container *c);

/* The PORTS column of `ps` for NetworkSettings.Ports ({"80/tcp": [{HostIp,
 * HostPort}], "5000/tcp": null}), as Docker writes it: exposed ports without
 * a binding ("5000/tcp"), runs of consecutive ports as ranges
 * ("0.0.0.0:8000-8002->8000-8002/tcp", "5000-5002/tcp"), bindings to another
 * host port one by one, last ("0.0.0.0:8080->80/tcp").  berth publishes on
 * IPv4 only, so there are no ":::" rows.  malloc'ed. */
char *network_ports_display(json_t *ports);
/* network_ports_display() of a running container; "" for a stopped one. */
char *network_ports_text(struct berth_container *c);

#endif
