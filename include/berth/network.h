/* berth — container networks: the default `bridge` network (berth0,
 * 172.17.0.0/16), user networks (`berth network create`), published ports.
 *
 * Layout:
 *   ROOT/networks/NAME.json   a network's definition: { Name, Id, Created,
 *                             Driver (bridge|host|null), Subnet, Gateway,
 *                             Bridge }; `bridge`, `host` and `none` are made
 *                             on first use.
 *   RUN/networks/NAME.json    who is attached now: { "Containers": { ID:
 *                             { Name, Hostname, IPv4Address, MacAddress,
 *                             Aliases, Interface (eth0...), Veth (the host
 *                             side) } } } (IPAM: an address is taken while
 *                             it is listed here)
 *   RUN/networks/NAME.nat     the nft table has NAME's masquerade (made
 *                             once per boot, or again after a failure)
 *   RUN/networks/ports.json   host ports reserved by running containers:
 *                             { "tcp/8080": { Container, HostIp } }
 *   RUN/networks/lock         exclusive for any change to the above; taken
 *                             after a container's lock, never before it.
 *
 * A container on a bridge network gets a veth pair (host side vethID11 on the
 * network's bridge, eth0 in its own network namespace) set up by the shim
 * over rtnetlink (src/network/netlink.c), after the container's process is
 * cloned and before it execs.  NAT lives in one nftables table, `ip berth`
 * (src/network/nft.c): masquerade for the bridge subnets, DNAT for published
 * ports in prerouting and output (so 127.0.0.1:HOSTPORT works from the host)
 * through maps with one element per published port, deleted by key.
 * Everything is undone by network_detach() from the unit's ExecStopPost, also
 * after kill -9.
 *
 * A user's containers (rootless) cannot have any of that in the host's
 * namespace: their default network is pasta (src/network/pasta.c), which
 * the shim starts in the container's unit, -p its port forwards; a user's
 * bridge networks live in a network namespace of the user's
 * (src/network/user-network.c), where the same code wires them.  Those internals, with -p parsing and IPAM, are declared in
 * network-internal.h for src/network/ alone; this header is what the rest of
 * berth calls.
 */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "berth/container.h"
#include "berth/error.h"
#include "berth/store.h"

#define NETWORK_DEFAULT "bridge"
#define NETWORK_DEFAULT_BRIDGE "berth0"
#define NETWORK_DEFAULT_SUBNET "172.17.0.0/16"

/* resolv.conf for a container with a network of its own: the host's without
 * loopback nameservers, Docker's fallback (8.8.8.8, 8.8.4.4) when none is
 * left (malloc'ed). */
char *network_resolv_conf(const char *host);

/* The definition of NAME or ID (prefix); the built-in ones are made here. */
int network_lookup(struct berth_store *s, const char *ref, json_t **out, berth_error_t *err);
int network_create(struct berth_store *s, const char *name, const char *subnet, json_t **out, berth_error_t *err);
/* What network_create() accepts as a name ([a-zA-Z0-9][a-zA-Z0-9_.-], at
 * most 64) and as a subnet (ADDRESS/PREFIX, IPv4), for checks ahead of it. */
bool network_name_valid(const char *name);
int network_subnet_check(const char *subnet, berth_error_t *err);
int network_remove(struct berth_store *s, const char *ref, berth_error_t *err);
/* A name for /etc/hosts: letters, digits, '-', '.', '_', a letter or digit first. */
bool network_alias_valid(const char *v);
/* One --network value: NAME, or Docker's long form
 * name=NAME[,alias=ALIAS]...[,ip=IPV4]. */
struct network_endpoint_spec {
        char *name;
        char **aliases;
        char *ip;
};
int network_endpoint_parse(const char *s, struct network_endpoint_spec *out, berth_error_t *err);
void network_endpoint_spec_done(struct network_endpoint_spec *e);
/* The networks a container joins at start, in order (eth0, eth1...):
 * [{ Name, Aliases, IPAMConfig: { IPv4Address } }] from Berth.Networks, or
 * NetworkMode and Berth.NetworkAliases for records made before it; [] for
 * host, none and container:NAME.  A new reference. */
json_t *network_endpoints(json_t *cfg);
/* The networks of a container as the NETWORKS of Docker's ps
 * ("front,back"; "host", "none"; "" for container:NAME), malloc'ed. */
char *network_names_text(json_t *cfg);
/* network connect / disconnect: a running container at once (its network
 * namespace entered through its PID), a stopped one at its next start. */
int network_connect(struct berth_store *s, const char *net, const char *container, char *const *aliases,
                    const char *ip, berth_error_t *err);
int network_disconnect(struct berth_store *s, const char *net, const char *container, bool force, berth_error_t *err);
/* Every definition, sorted by name. */
int network_list(struct berth_store *s, json_t **out, berth_error_t *err);
/* The containers attached to a network now (RUN/networks/NAME.json); a
 * file that cannot be read is an error, never "nobody". */
int network_members(struct berth_store *s, const char *name, json_t **out, berth_error_t *err);

/* run/create: check --network (each of Berth.Networks, as typed, into
 * network_endpoints()' form; NetworkMode the first), turn -p/-P/--expose into
 * HostConfig.PortBindings, Config.ExposedPorts and HostConfig.PublishAllPorts
 * in cfg, and refuse a host port another container or a host socket holds. */
int network_prepare_config(struct berth_store *s, json_t *cfg, char *const *publish, bool publish_all,
                           char *const *expose, json_t *image_exposed, berth_error_t *err);
/* Does this NetworkMode give the container a network namespace of its own
 * that the shim sets up (none, bridge, user networks, pasta)? */
bool network_mode_private(const char *mode);
/* pasta or pasta:OPTIONS: a user's network (the default for a user's
 * containers, src/network/pasta.c), recorded as NetworkMode "pasta" and
 * Berth.PastaOptions. */
bool network_mode_pasta(const char *mode);
/* container:NAME: *fd is that container's network namespace (else -1);
 * the joiner (ID) is noted until its stop hook, see
 * network_links_go_with_netns(). */
int network_join_fd(struct berth_store *s, const char *mode, const char *joiner, int *fd, berth_error_t *err);
/* From the stop hook, when the container's processes are gone: whether its
 * network namespace goes with them, taking its veths along (no container
 * joined it).  The kernel deletes those while it tears the namespace down;
 * an RTM_DELLINK of our own would wait for that on the RTNL lock (15 ms
 * here).  Also forgets C's own mark as a joiner. */
bool network_links_go_with_netns(struct berth_store *s, struct berth_container *c);
/* Shim: the child (pid) waits in its network namespace; for each network
 * allocate the address, make the veth (eth0, eth1... in order) and write
 * /etc/hosts; reserve the ports and make their nft rules (to the address on
 * the first network, which has the default route); the result goes to
 * c->state's NetworkSettings (saved by the caller). */
int network_attach(struct berth_store *s, struct berth_container *c, pid_t pid, berth_error_t *err);
/* ExecStopPost: undo what network_attach did (best effort, idempotent);
 * links_gone: the veths go with the network namespace (leave them to the
 * kernel). */
void network_detach(struct berth_store *s, struct berth_container *c, bool links_gone);

/* A user's bridge networks (user-network.c): they live in the network
 * namespace that berth-netns.service (NETWORK_USER_UNIT, a unit of the
 * user's manager) holds, in the user namespace every berth process of the
 * user joins while it runs.  network_user_enter() moves the caller there
 * for good (root of a user namespace may not go back to the host's; a
 * no-op for root and when done); an error when the unit is not running.
 * network_holder_main() is the unit's `berth-runtime _netns`. */
#define NETWORK_USER_UNIT "berth-netns.service"
int network_user_enter(berth_error_t *err);
int network_holder_main(berth_error_t *err);

/* The PORTS column of `ps` for a running container, as Docker writes it
 * ("0.0.0.0:8080->80/tcp, 5000/tcp"); "" for a stopped one. */
char *network_ports_text(struct berth_container *c);

#endif
