/* berth — what the files of src/network/ share and the rest of berth does not
 * see: -p parsing, IPAM, rtnetlink and nftables.  Everything else goes
 * through network.h (network_prepare_config, network_attach/detach, the
 * network_* commands); only src/network/ and tests/unit/test-network.c
 * include this. */
#ifndef BERTH_NETWORK_INTERNAL_H
#define BERTH_NETWORK_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/container.h"
#include "berth/error.h"

/* ---- published ports (network.c) ------------------------------------------ */
/* -p [IP:][HOSTPORT[-END]:]CTRPORT[-END][/tcp|udp]; host_port 0 = pick one. */
struct port_spec {
        char host_ip[16];  /* "" = every address */
        unsigned host_port, host_port_end;
        unsigned ctr_port, ctr_port_end;
        char proto[4]; /* "tcp" or "udp" */
};
int port_spec_parse(const char *s, struct port_spec *out, berth_error_t *err);
/* network_ports_text()'s work: the PORTS column of `ps` for
 * NetworkSettings.Ports ({"80/tcp": [{HostIp, HostPort}], "5000/tcp": null}),
 * as Docker writes it: exposed ports without a binding ("5000/tcp"), runs of
 * consecutive ports as ranges ("0.0.0.0:8000-8002->8000-8002/tcp",
 * "5000-5002/tcp"), bindings to another host port one by one, last
 * ("0.0.0.0:8080->80/tcp").  berth publishes on IPv4 only, so there are no
 * ":::" rows.  malloc'ed. */
char *network_ports_display(json_t *ports);

/* ---- state files, shared by network.c and network-attach.c ---------------- */
struct berth_store;
/* RUN/networks/lock, exclusive (the fd). */
int network_state_lock(struct berth_store *s, berth_error_t *err);
/* A JSON object file; a missing one is {}, an unreadable one an error. */
int network_json_load(const char *path, json_t **out, berth_error_t *err);
int network_json_save(const char *path, json_t *j, berth_error_t *err);
/* The lock, then NAME's members read under it; returns the lock's fd. */
int network_lock_members(struct berth_store *s, const char *name, json_t **members, berth_error_t *err);
int network_members_save(struct berth_store *s, const char *name, json_t *members, berth_error_t *err);
/* Every network the container id is a member of now: { NAME: entry }. */
json_t *network_memberships(struct berth_store *s, const char *id);
const char *network_def_subnet(json_t *def);
const char *network_def_bridge(json_t *def);
/* "bridge" for the default NetworkMode, else the mode itself. */
const char *network_mode_name(const char *mode);
void network_event(const char *action, json_t *def, const char *container_id);
/* An endpoint ({ Name }) of network def with aliases and an address: both
 * refused off user networks, the address outside def's subnet. */
int network_endpoint_fill(json_t *ep, json_t *def, json_t *aliases, const char *ip, berth_error_t *err);
/* RUN/networks/ports.json and the checks on it. */
char *network_ports_path(struct berth_store *s);
const char *network_display_ip(const char *ip);
int network_port_check(json_t *reserved, const char *self, const char *proto, const char *ip, unsigned port,
                       berth_error_t *err);
int network_port_pick(json_t *reserved, const char *proto, const char *ip, unsigned *out, berth_error_t *err);

/* ---- host ports of a running container (network-attach.c) ------------------ */
/* Reserve c's host ports in RUN/networks/ports.json (picking the random
 * ones): *out its NetworkSettings.Ports.  Under the network lock. */
int network_ports_reserve(struct berth_store *s, struct berth_container *c, json_t **out, berth_error_t *err);
/* Give back what container id reserved (under the network lock): the
 * reservations it had ({ "tcp/8080": { HostIp... } }). */
json_t *network_ports_release(struct berth_store *s, const char *id);
/* The exposed ports of cfg without a binding, listed in ports as Docker's
 * NetworkSettings.Ports has them ("5000/tcp": null). */
void network_ports_add_exposed(json_t *cfg, json_t *ports);

/* ---- pasta (pasta.c): a user's network -------------------------------------- */
/* --network pasta[:OPTION[,VALUE]...]: pasta's own arguments, split at the
 * commas (Podman's syntax; NULL for none); those berth sets itself
 * (--netns, --userns, --netns-only, -f, --pid) and an empty one refused. */
int pasta_options_parse(const char *mode, char ***out, berth_error_t *err);
/* net.ipv4.ip_unprivileged_port_start of the caller's namespace (1024 when
 * unreadable). */
unsigned pasta_unprivileged_port_start(void);
/* Refuse a host port (HostConfig.PortBindings) below start: pasta binds
 * it as the user. */
int pasta_ports_check(json_t *bindings, unsigned start, berth_error_t *err);
/* pasta's command line for netns (a path), its pid file (NULL: none), the
 * published ports (NetworkSettings.Ports) as -t/-u forwards, the user's
 * options last: --config-net --quiet --ns-ifname eth0 --no-map-gw, and
 * "none" for each kind of forward nothing asks for, unless an option says
 * otherwise. */
char **pasta_argv(const char *netns, const char *pidfile, json_t *ports, char *const *opts);
/* pasta's stderr after a failure on one line: the messages without their
 * timestamps, "; " between them, the usage text after a bad option left
 * out (malloc'ed). */
char *pasta_message(const char *text);
/* Shim: start pasta for pid's network namespace, the ports reserved; the
 * result in c->state's NetworkSettings.  Stop hook: pasta ended (if the
 * unit left it), the ports given back. */
int pasta_attach(struct berth_store *s, struct berth_container *c, pid_t pid, berth_error_t *err);
void pasta_detach(struct berth_store *s, struct berth_container *c);
/* pasta_attach()'s work without NetworkSettings: the ports reserved and
 * pasta started for them, *out NetworkSettings.Ports.  Also what a user's
 * container on bridge networks publishes its ports with (pasta is its eth0
 * then, the bridges eth1...). */
int pasta_publish(struct berth_store *s, struct berth_container *c, pid_t pid, json_t **out, berth_error_t *err);
/* A user's container on bridge networks that publishes ports: pasta
 * carries them (network-attach.c). */
bool network_ports_via_pasta(json_t *cfg);
/* pasta for the network namespace nsfd (name for messages), as the shim
 * runs it for a container: 0 once it is in the background with the tap
 * configured. */
int pasta_run_netns(const char *name, int nsfd, const char *pidfile, json_t *ports, char *const *opts,
                    berth_error_t *err);

/* ---- /etc/hosts (network-hosts.c) ----------------------------------------- */
/* "a.b.c.d" of "a.b.c.d/16" into out. */
void network_ip_only(const char *cidr, char *out, size_t n);
/* Rewrite the hosts files of a network's members (members: the network's
 * member list, ID -> {Name, Hostname, IPv4Address, Aliases, Interface}): on
 * a user network all of them, on the default bridge only `only`'s.  Each
 * file has the container's own names (on its first interface) and the
 * members of every user network it is on, with their aliases there. */
void network_hosts_sync(struct berth_store *s, const char *network, json_t *members, const char *only);

/* ---- IPAM (ipam.c): pure functions on subnets and addresses -------------- */
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
 * address nor in used[], as Docker's IPAM picks it; -ENOSPC when the subnet
 * is full.  (An address given back while the kernel still tears down its
 * old veth is safe to hand out again: the MAC comes from the address, so
 * neighbours' caches stay right.) */
int ipam_pick(const struct ipv4_subnet *sn, const uint32_t *used, size_t nused, uint32_t *out);
/* Is a an address of sn a container can have (not the network, gateway or
 * broadcast address)? */
bool ipam_host_address(const struct ipv4_subnet *sn, uint32_t a);
/* A /16 of 172.18-31.0.0 then 192.168.0-240.0/20 overlapping none of used[]. */
int ipam_pick_subnet(const struct ipv4_subnet *used, size_t nused, struct ipv4_subnet *out);

/* ---- rtnetlink (netlink.c) --------------------------------------------------- */
/* The bridge with its address, up (made when missing). */
int nl_bridge_ensure(const char *name, uint32_t addr, unsigned prefix, berth_error_t *err);
/* Delete a link of the host's namespace; a missing one is fine. */
int nl_link_delete(const char *name, berth_error_t *err);
/* lo of the caller's network namespace, up. */
int nl_loopback_up(berth_error_t *err);
/* A veth pair: host_name on bridge (up), its peer ifname in the network
 * namespace of pid with addr/prefix and the MAC 02:42:ADDR, up, default
 * route via gw (none when gw is 0); lo up. */
int nl_veth_attach(const char *host_name, const char *bridge, pid_t pid, const char *ifname, uint32_t addr,
                   unsigned prefix, uint32_t gw, berth_error_t *err);

/* ---- nftables (nft.c) --------------------------------------------------------- */
/* The berth table (re)made whole, with subnet masqueraded and bridge
 * isolated from the other networks' bridges: one transaction. */
int nft_network_add(const char *subnet, const char *bridge, berth_error_t *err);
/* The same plus the DNAT map elements of container id (ports: its
 * NetworkSettings.Ports) to ctr_ip. */
int nft_ports_add(const char *id, const char *subnet, const char *bridge, const char *ctr_ip, json_t *ports,
                  berth_error_t *err);
/* Delete the DNAT elements of these reservations ({ "tcp/8080": { HostIp } }). */
int nft_ports_delete(json_t *reservations, berth_error_t *err);
/* Take the subnet and the bridge out of the sets (network rm). */
int nft_network_delete(const char *subnet, const char *bridge, berth_error_t *err);

#endif
