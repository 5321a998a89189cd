/* berth — a container's place on its networks: the addresses, veths and
 * published ports network_attach() makes at start and network_detach()
 * undoes at stop, and `network connect`/`disconnect` of one network (see
 * include/berth/network.h). */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/json-util.h"
#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/rootless.h"
#include "berth/util.h"

/* The host side of interface ethN: vethID11 for eth0 (as before there were
 * several), vethID9NN for the others: 15 characters, IFNAMSIZ's limit. */
static char *veth_name(const char *id, unsigned n)
{
        return n == 0 ? xasprintf("veth%.11s", id) : xasprintf("veth%.9s%02x", id, n);
}

/* The container's bindings: -p ones plus, with -P, the exposed ports. */
static json_t *wanted_bindings(json_t *cfg)
{
        json_t *b = json_deep_copy(json_at(cfg, "HostConfig.PortBindings"));
        if (!json_is_object(b)) {
                json_decref(b);
                b = json_object();
        }
        if (json_bool(cfg, "HostConfig.PublishAllPorts")) {
                const char *k;
                json_t *v;
                json_object_foreach(json_at(cfg, "Config.ExposedPorts"), k, v)
                        if (!json_object_get(b, k))
                                json_object_set_new(b, k, json_pack("[{s:s, s:s}]", "HostIp", "", "HostPort", ""));
        }
        return b;
}

int network_ports_reserve(struct berth_store *s, struct berth_container *c, json_t **out, berth_error_t *err)
{
        cleanup_free char *pp = network_ports_path(s);
        json_auto_t *reserved = NULL;
        if (network_json_load(pp, &reserved, err) < 0)
                return berth_error_wrap(err, "cannot tell which host ports are taken");
        json_auto_t *want = wanted_bindings(c->config);
        json_auto_t *ports = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(want, k, v)
        {
                const char *proto = strchr(k, '/') ? strchr(k, '/') + 1 : "tcp";
                json_t *list = json_array();
                json_object_set_new(ports, k, list);
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b)
                {
                        const char *ip = json_str(b, "HostIp");
                        unsigned port = atoi(json_str(b, "HostPort") ?: "0");
                        if (port ? network_port_check(reserved, c->id, proto, ip, port, err) < 0
                                 : network_port_pick(reserved, proto, ip, &port, err) < 0)
                                return -1;
                        char key[32], num[8];
                        snprintf(key, sizeof(key), "%s/%u", proto, port);
                        snprintf(num, sizeof(num), "%u", port);
                        json_object_set_new(reserved, key, json_pack("{s:s, s:s, s:s}", "Container", c->id, "Name",
                                                                     c->name, "HostIp", network_display_ip(ip)));
                        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", network_display_ip(ip), "HostPort", num));
                }
        }
        if (json_object_size(want) > 0 && network_json_save(pp, reserved, err) < 0)
                return -1;
        *out = json_incref(ports);
        return 0;
}

/* The MAC nl_veth_attach() gives the interface of addr: 02:42:ADDR. */
static char *mac_of(uint32_t addr)
{
        return xasprintf("02:42:%02x:%02x:%02x:%02x", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
}

/* The lowest N of ethN none of the container's memberships has. */
static unsigned free_interface(json_t *memberships)
{
        for (unsigned n = 0;; n++) {
                char want[16];
                snprintf(want, sizeof(want), "eth%u", n);
                bool taken = false;
                const char *k;
                json_t *m;
                json_object_foreach(memberships, k, m)
                        taken |= streq(json_str(m, "Interface") ?: "eth0", want);
                if (!taken)
                        return n;
        }
}

/* The inode of the caller's network namespace, as text. */
static char *netns_id(void)
{
        struct stat st;
        if (stat("/proc/self/ns/net", &st) < 0)
                return xstrdup("");
        return xasprintf("%llu", (unsigned long long) st.st_ino);
}

/* Allocate the address (the endpoint's own, or a free one) and, for the
 * first network, reserve the ports, under the lock; record the member and
 * update the members' hosts files. */
static int endpoint_allocate(struct berth_store *s, struct berth_container *c, json_t *ep, unsigned iface,
                             const struct ipv4_subnet *sn, uint32_t *addr, json_t **ports, berth_error_t *err)
{
        const char *name = json_str(ep, "Name");
        json_auto_t *members = NULL;
        cleanup_close int lfd = network_lock_members(s, name, &members, err);
        if (lfd < 0)
                return -1;
        json_object_del(members, c->id); /* a stale entry of ours */
        size_t n = 0;
        cleanup_free uint32_t *used = xcalloc(json_object_size(members) + 1, sizeof(uint32_t));
        const char *id;
        json_t *m;
        json_object_foreach(members, id, m)
        {
                char ip[32];
                struct in_addr a;
                network_ip_only(json_str(m, "IPv4Address"), ip, sizeof(ip));
                if (inet_pton(AF_INET, ip, &a) == 1)
                        used[n++] = ntohl(a.s_addr);
        }
        const char *want = json_string_value(json_at(ep, "IPAMConfig.IPv4Address"));
        if (want) {
                struct in_addr a;
                if (inet_pton(AF_INET, want, &a) != 1 || !ipam_host_address(sn, ntohl(a.s_addr)))
                        return berth_error(err, 0, "no configured subnet contains the IP address %s (network %s)",
                                           want, name);
                *addr = ntohl(a.s_addr);
                for (size_t i = 0; i < n; i++)
                        if (used[i] == *addr)
                                return berth_error(err, 0, "address %s is already in use on network %s", want, name);
        } else if (ipam_pick(sn, used, n, addr) < 0)
                return berth_error(err, 0, "no available IPv4 addresses on network %s", name);
        if (ports && network_ports_reserve(s, c, ports, err) < 0)
                return -1;
        cleanup_free char *ip = ipam_format(*addr);
        cleanup_free char *cidr = xasprintf("%s/%u", ip, sn->prefix);
        cleanup_free char *mac = mac_of(*addr);
        cleanup_free char *ifname = xasprintf("eth%u", iface);
        cleanup_free char *veth = veth_name(c->id, iface);
        const char *hostname = json_str(c->config, "Config.Hostname");
        char short_id[13];
        snprintf(short_id, sizeof(short_id), "%s", c->id);
        json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Name", c->name, "Hostname",
                                  hostname && *hostname ? hostname : short_id, "IPv4Address", cidr, "MacAddress", mac,
                                  "Interface", ifname, "Veth", veth);
        json_object_set_new(members, c->id, entry);
        json_t *aliases = json_object_get(ep, "Aliases");
        if (json_array_size(aliases) > 0)
                json_object_set(entry, "Aliases", aliases);
        if (network_members_save(s, name, members, err) < 0)
                return -1;
        network_hosts_sync(s, name, members, c->id);
        return 0;
}

/* One network: the address, the veth as ethN in pid's namespace (the
 * default route on eth0), the nft rules; *out its NetworkSettings.Networks
 * entry.  ports: the first network's, which the published ports go to. */
static int endpoint_attach(struct berth_store *s, struct berth_container *c, pid_t pid, json_t *ep, unsigned iface,
                           json_t **ports, json_t **out, berth_error_t *err)
{
        const char *name = json_str(ep, "Name");
        json_auto_t *def = NULL;
        if (network_lookup(s, name, &def, err) < 0)
                return -1;
        struct ipv4_subnet sn;
        const char *subnet = network_def_subnet(def), *bridge = network_def_bridge(def);
        if (!subnet || !bridge || ipam_parse_subnet(subnet, &sn, err) < 0)
                return berth_error(err, 0, "network %s has no subnet or bridge", name);
        uint32_t addr;
        if (endpoint_allocate(s, c, ep, iface, &sn, &addr, ports, err) < 0)
                return -1;
        cleanup_free char *ip = ipam_format(addr);
        cleanup_free char *gw = ipam_format(ipam_gateway(&sn));
        cleanup_free char *veth = veth_name(c->id, iface);
        cleanup_free char *ifname = xasprintf("eth%u", iface);
        if (nl_bridge_ensure(bridge, ipam_gateway(&sn), sn.prefix, err) < 0)
                return -1;
        /* forwarding, and 127.0.0.1 DNAT'd onto the bridge (published ports
         * reached from the host itself) */
        cleanup_free char *localnet = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
        const char *sysctls[] = { "/proc/sys/net/ipv4/ip_forward", localnet };
        for (size_t i = 0; i < ARRAY_SIZE(sysctls); i++) {
                cleanup_close int fd = open(sysctls[i], O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "1", 1) != 1)
                        return berth_error(err, errno, "set %s", sysctls[i]);
        }
        if (nl_veth_attach(veth, bridge, pid, ifname, addr, sn.prefix, iface == 0 ? ipam_gateway(&sn) : 0, err) < 0)
                return -1;
        /* nftables only for published ports, or once for the network's
         * masquerade (see nft.c: each transaction costs milliseconds) */
        /* the mark names the namespace it was made in: a user's networks
         * get a new one each time berth-netns.service starts */
        cleanup_free char *nat_mark = store_run_path(s, "networks/%s.nat", name), *nat_text = NULL;
        cleanup_free char *netns = netns_id();
        bool nat_done = read_file(nat_mark, &nat_text, NULL, NULL) == 0 && streq(nat_text, netns);
        int r = 0;
        if (ports && json_object_size(*ports) > 0)
                r = nft_ports_add(c->id, subnet, bridge, ip, *ports, err);
        else if (!nat_done)
                r = nft_network_add(subnet, bridge, err);
        if (r < 0)
                return -1;
        if (!nat_done)
                (void) write_file_atomic(nat_mark, netns, strlen(netns), 0644, NULL);
        cleanup_free char *mac = mac_of(addr);
        json_t *aliases = json_object_get(ep, "Aliases");
        *out = json_pack("{s:O?, s:O, s:s, s:s, s:s, s:s, s:i, s:s}", "IPAMConfig", json_object_get(ep, "IPAMConfig"),
                         "Aliases", aliases ? aliases : json_null(), "NetworkID", json_str(def, "Id"), "Gateway", gw,
                         "IPAddress", ip, "MacAddress", mac, "IPPrefixLen", (int) sn.prefix, "Bridge", bridge);
        network_event("connect", def, c->id);
        return 0;
}

/* NetworkSettings' top level: the first network's (Docker's legacy fields). */
static void settings_top(json_t *ns)
{
        json_t *first = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(ns, "Networks"), k, v)
                if (!first)
                        first = v;
        json_object_set_new(ns, "IPAddress", json_string(json_str(first, "IPAddress") ?: ""));
        json_object_set_new(ns, "Gateway", json_string(json_str(first, "Gateway") ?: ""));
        json_object_set_new(ns, "IPPrefixLen", json_integer(json_int(first, "IPPrefixLen", 0)));
        json_object_set_new(ns, "MacAddress", json_string(json_str(first, "MacAddress") ?: ""));
        json_object_set_new(ns, "Bridge", json_string(json_str(first, "Bridge") ?: ""));
}

void network_ports_add_exposed(json_t *cfg, json_t *ports)
{
        const char *k;
        json_t *v;
        json_object_foreach(json_at(cfg, "Config.ExposedPorts"), k, v)
                if (!json_object_get(ports, k))
                        json_object_set_new(ports, k, json_null());
}

bool network_ports_via_pasta(json_t *cfg)
{
        if (!rootless() || network_mode_pasta(json_str(cfg, "HostConfig.NetworkMode")))
                return false;
        json_auto_t *eps = network_endpoints(cfg);
        json_auto_t *want = wanted_bindings(cfg);
        return json_array_size(eps) > 0 && json_object_size(want) > 0;
}

int network_attach(struct berth_store *s, struct berth_container *c, pid_t pid, berth_error_t *err)
{
        if (network_mode_pasta(json_str(c->config, "HostConfig.NetworkMode")))
                return pasta_attach(s, c, pid, err);
        json_auto_t *eps = network_endpoints(c->config);
        if (json_array_size(eps) == 0)
                return 0;
        json_auto_t *ports = NULL;
        json_t *nets = json_object();
        json_t *ns = json_pack("{s:s, s:o}", "SandboxKey", "", "Networks", nets);
        json_object_set_new(c->state, "NetworkSettings", ns);
        /* A user's bridges are behind the pasta of berth-netns.service,
         * which forwards no ports: a container that publishes some gets a
         * pasta of its own as eth0 (its way out too, started from the
         * host's namespace), the bridges as eth1... */
        unsigned first = 0;
        if (network_ports_via_pasta(c->config)) {
                if (pasta_publish(s, c, pid, &ports, err) < 0)
                        return -1;
                first = 1;
        }
        if (network_user_enter(err) < 0)
                return -1;
        size_t i;
        json_t *ep;
        json_array_foreach(eps, i, ep)
        {
                json_t *net = NULL;
                if (endpoint_attach(s, c, pid, ep, first + i, i == 0 && !first ? &ports : NULL, &net, err) < 0)
                        return -1;
                json_object_set_new(nets, json_str(ep, "Name"), net);
        }
        /* exposed but not published: listed without a binding */
        network_ports_add_exposed(c->config, ports);
        json_object_set(ns, "Ports", ports);
        settings_top(ns);
        return 0;
}

/* Out of one network: the veth (unless links_gone), the member entry, the
 * peers' hosts files.  Under the network lock. */
static void endpoint_detach(struct berth_store *s, struct berth_container *c, const char *name, json_t *entry,
                            bool links_gone)
{
        berth_error_t e = NULL;
        cleanup_free char *veth = json_str(entry, "Veth") ? xstrdup(json_str(entry, "Veth")) : veth_name(c->id, 0);
        if (!links_gone && network_user_enter(&e) == 0)
                (void) nl_link_delete(veth, &e);
        berth_error_free(&e);
        json_auto_t *members = NULL;
        if (network_members(s, name, &members, &e) < 0) {
                berth_error_free(&e); /* left as it is: the next attach refuses it */
                return;
        }
        json_object_del(members, c->id);
        (void) network_members_save(s, name, members, NULL);
        network_hosts_sync(s, name, members, c->id);
        json_auto_t *def = NULL;
        if (network_lookup(s, name, &def, NULL) == 0)
                network_event("disconnect", def, c->id);
}

json_t *network_ports_release(struct berth_store *s, const char *id)
{
        json_t *mine = json_object();
        berth_error_t e = NULL;
        cleanup_free char *pp = network_ports_path(s);
        json_auto_t *reserved = NULL;
        if (network_json_load(pp, &reserved, &e) < 0)
                berth_error_free(&e); /* left as it is: the next attach refuses it */
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(reserved, tmp, k, v)
                if (streq(json_str(v, "Container") ?: "", id)) {
                        json_object_set(mine, k, v);
                        json_object_del(reserved, k);
                }
        if (json_object_size(mine) > 0)
                (void) network_json_save(pp, reserved, NULL);
        return mine;
}

void network_detach(struct berth_store *s, struct berth_container *c, bool links_gone)
{
        if (network_mode_pasta(json_str(c->config, "HostConfig.NetworkMode"))) {
                pasta_detach(s, c);
                return;
        }
        if (network_ports_via_pasta(c->config))
                pasta_detach(s, c); /* its ports given back: none for nft below */
        json_auto_t *eps = network_endpoints(c->config);
        berth_error_t e = NULL;
        cleanup_close int lfd = network_state_lock(s, &e);
        berth_error_free(&e);
        /* every network that lists it, whatever the record says now */
        json_auto_t *mine_nets = network_memberships(s, c->id);
        if (json_array_size(eps) == 0 && json_object_size(mine_nets) == 0)
                return;
        /* a user's links are in the namespace of the user's networks; when
         * that is gone, so are they */
        if (network_user_enter(&e) < 0) {
                berth_error_free(&e);
                links_gone = true;
        }
        const char *name;
        json_t *entry;
        json_object_foreach(mine_nets, name, entry)
                endpoint_detach(s, c, name, entry, links_gone);
        cleanup_free char *veth0 = veth_name(c->id, 0); /* an attach that failed before its record */
        if (!links_gone)
                (void) nl_link_delete(veth0, &e);
        berth_error_free(&e);

        /* the rules go before the reservations, under the lock: a port
         * given back is free for the next container at once, and its
         * element must not outlive it (nor be deleted after the next
         * owner added its own) */
        json_auto_t *mine = network_ports_release(s, c->id);
        (void) nft_ports_delete(mine, &e);
        if (lfd >= 0)
                close(steal_fd(&lfd));
        berth_error_free(&e);
        json_t *ns = json_object_get(c->state, "NetworkSettings");
        const char *k;
        json_t *v;
        if (ns) {
                json_object_set_new(ns, "Ports", json_object());
                json_object_foreach(json_object_get(ns, "Networks"), k, v)
                {
                        json_object_set_new(v, "IPAddress", json_string(""));
                        json_object_set_new(v, "Gateway", json_string(""));
                        json_object_set_new(v, "IPPrefixLen", json_integer(0));
                }
                settings_top(ns);
        }
}

/* ---- network connect / disconnect ----------------------------------------------- */

/* The container looked up and locked, its record read again under the lock. */
static int container_take(struct berth_store *s, const char *ref, struct berth_container **out, int *lfd,
                          berth_error_t *err)
{
        cleanup_container struct berth_container *c = NULL;
        if (container_lookup(s, ref, &c, err) < 0)
                return -1;
        *lfd = container_lock(c, err);
        if (*lfd < 0)
                return -1;
        return container_load(s, c->id, out, err);
}

/* What a container's NetworkMode allows: only a network namespace of its
 * own that berth wires can be connected. */
static int connectable(struct berth_container *c, berth_error_t *err)
{
        const char *mode = json_str(c->config, "HostConfig.NetworkMode");
        if (!network_mode_private(mode) || streq(mode, "none") || network_mode_pasta(mode))
                return berth_error(err, 0, "container %s uses --network %s: it cannot be connected to or disconnected "
                                           "from other networks", c->name, mode ? mode : "");
        return 0;
}

static bool running_now(struct berth_container *c)
{
        const char *st = json_str(c->state, "Status");
        return st && (streq(st, "running") || streq(st, "paused")) && json_int(c->state, "Pid", 0) > 0;
}

/* The record's endpoints with ep added or (ep NULL) name taken out;
 * NetworkMode the first that is left. */
static int endpoints_save(struct berth_container *c, json_t *eps, berth_error_t *err)
{
        json_object_set(json_object_get(c->config, "Berth"), "Networks", eps);
        json_object_del(json_object_get(c->config, "Berth"), "NetworkAliases");
        const char *first = json_str(json_array_get(eps, 0), "Name");
        if (first)
                json_object_set_new(json_object_get(c->config, "HostConfig"), "NetworkMode", json_string(first));
        return container_save_config(c, err);
}

int network_connect(struct berth_store *s, const char *net, const char *container, char *const *aliases,
                    const char *ip, berth_error_t *err)
{
        json_auto_t *def = NULL;
        if (network_lookup(s, net, &def, err) < 0)
                return -1;
        const char *name = json_str(def, "Name");
        if (!streq(json_str(def, "Driver"), "bridge"))
                return berth_error(err, 0, "network %s: only bridge networks can be connected", name);
        cleanup_container struct berth_container *c = NULL;
        cleanup_close int lfd = -1;
        if (container_take(s, container, &c, &lfd, err) < 0 || connectable(c, err) < 0)
                return -1;
        json_auto_t *eps = json_deep_copy(network_endpoints(c->config));
        size_t i;
        json_t *ep;
        json_array_foreach(eps, i, ep)
                if (streq(json_str(ep, "Name"), name))
                        return berth_error(err, 0, "endpoint with name %s already exists in network %s", c->name,
                                           name);
        ep = json_pack("{s:s}", "Name", name);
        json_array_append_new(eps, ep);
        json_auto_t *al = aliases ? strv_to_json(aliases) : NULL;
        if (network_endpoint_fill(ep, def, al, ip, err) < 0)
                return -1;
        json_t *out = NULL;
        if (running_now(c)) {
                json_auto_t *mine = network_memberships(s, c->id);
                if (network_user_enter(err) < 0 ||
                    endpoint_attach(s, c, (pid_t) json_int(c->state, "Pid", 0), ep, free_interface(mine), NULL, &out,
                                    err) < 0) {
                        /* undo what was made of it: recorded first, so an
                         * entry is all there can be */
                        json_auto_t *now = network_memberships(s, c->id);
                        json_t *entry = json_object_get(now, name);
                        berth_error_t e = NULL;
                        cleanup_close int nfd = network_state_lock(s, &e);
                        berth_error_free(&e);
                        if (entry)
                                endpoint_detach(s, c, name, entry, false);
                        return -1;
                }
        }
        json_t *ns = json_object_get(c->state, "NetworkSettings");
        if (!json_is_object(ns)) {
                ns = json_object();
                json_object_set_new(c->state, "NetworkSettings", ns);
        }
        json_t *nets = json_object_get(ns, "Networks");
        if (!json_is_object(nets))
                json_object_set_new(ns, "Networks", nets = json_object());
        if (out)
                json_object_set_new(nets, name, out);
        /* a stopped one lists its networks without addresses until it
         * starts, as Docker's (one never started had none listed yet) */
        json_array_foreach(running_now(c) ? NULL : eps, i, ep)
        {
                const char *n = json_str(ep, "Name");
                json_auto_t *d = NULL;
                if (json_object_get(nets, n))
                        continue;
                (void) network_lookup(s, n, &d, NULL);
                json_object_set_new(nets, n, json_pack("{s:O?, s:O?, s:s, s:s, s:s, s:s, s:i}", "IPAMConfig",
                                                       json_object_get(ep, "IPAMConfig"), "Aliases",
                                                       json_object_get(ep, "Aliases"), "NetworkID",
                                                       json_str(d, "Id") ?: "", "Gateway", "", "IPAddress", "",
                                                       "MacAddress", "", "IPPrefixLen", 0));
        }
        settings_top(ns);
        if (container_save_state(c, err) < 0)
                return -1;
        return endpoints_save(c, eps, err);
}

int network_disconnect(struct berth_store *s, const char *net, const char *container, bool force, berth_error_t *err)
{
        json_auto_t *def = NULL;
        if (network_lookup(s, net, &def, err) < 0)
                return -1;
        const char *name = json_str(def, "Name");
        cleanup_container struct berth_container *c = NULL;
        cleanup_close int lfd = -1;
        if (container_take(s, container, &c, &lfd, err) < 0 || connectable(c, err) < 0)
                return -1;
        json_auto_t *eps = json_deep_copy(network_endpoints(c->config));
        size_t i, found = SIZE_MAX;
        json_t *ep;
        json_array_foreach(eps, i, ep)
                if (streq(json_str(ep, "Name"), name))
                        found = i;
        json_auto_t *mine = network_memberships(s, c->id);
        json_t *entry = json_object_get(mine, name);
        if (found == SIZE_MAX && !entry && !force)
                return berth_error(err, 0, "container %s is not connected to network %s", c->name, name);
        if (entry) {
                cleanup_close int nfd = network_state_lock(s, err);
                if (nfd < 0)
                        return -1;
                endpoint_detach(s, c, name, entry, false);
        }
        json_t *ns = json_object_get(c->state, "NetworkSettings");
        if (json_object_get(json_object_get(ns, "Networks"), name)) {
                json_object_del(json_object_get(ns, "Networks"), name);
                settings_top(ns);
                if (container_save_state(c, err) < 0)
                        return -1;
        }
        if (found != SIZE_MAX)
                json_array_remove(eps, found);
        return endpoints_save(c, eps, err);
}
