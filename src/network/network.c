/* berth — networks: definitions, attachment of containers, published ports,
 * /etc/hosts of containers on a network (network-hosts.c).  See include/berth/network.h. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "berth/event.h"
#include "berth/json-util.h"
#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/rootless.h"
#include "berth/util.h"

/* ---- -p specs ----------------------------------------------------------------- */
static int parse_port_range(const char *s, unsigned *lo, unsigned *hi)
{
        char *end;
        errno = 0;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (errno || end == s || a < 1 || a > 65535)
                return -1;
        if (*end == '-') {
                const char *t = end + 1;
                b = strtoul(t, &end, 10);
                if (errno || end == t || b < a || b > 65535)
                        return -1;
        }
        if (*end)
                return -1;
        *lo = a;
        *hi = b;
        return 0;
}

int port_spec_parse(const char *s, struct port_spec *out, berth_error_t *err)
{
        *out = (struct port_spec) { .proto = "tcp" };
        cleanup_free char *spec = xstrdup(s);
        char *proto = strchr(spec, '/');
        if (proto) {
                *proto++ = '\0';
                if (!streq(proto, "tcp") && !streq(proto, "udp"))
                        return berth_error(err, 0, "invalid proto: %s (use tcp or udp)", proto);
                strcpy(out->proto, proto);
        }
        /* from the right: CTRPORT, then HOSTPORT, then IP (which may be empty) */
        char *ctr = strrchr(spec, ':');
        char *host = NULL, *ip = NULL;
        if (ctr) {
                *ctr++ = '\0';
                host = strrchr(spec, ':');
                if (host) {
                        *host++ = '\0';
                        ip = spec;
                } else
                        host = spec;
        } else
                ctr = spec;
        if (parse_port_range(ctr, &out->ctr_port, &out->ctr_port_end) < 0)
                return berth_error(err, 0, "invalid containerPort: %s", ctr);
        if (host && *host) {
                if (parse_port_range(host, &out->host_port, &out->host_port_end) < 0)
                        return berth_error(err, 0, "invalid hostPort: %s", host);
                if (out->host_port_end - out->host_port != out->ctr_port_end - out->ctr_port)
                        return berth_error(err, 0, "invalid ranges specified for container and host Ports: %s:%s",
                                           host, ctr);
        }
        if (ip && *ip) {
                struct in_addr a;
                if (inet_pton(AF_INET, ip, &a) != 1)
                        return berth_error(err, 0, "invalid IP address in -p %s: %s (IPv4 only)", s, ip);
                snprintf(out->host_ip, sizeof(out->host_ip), "%s", ip);
        }
        return 0;
}

char *network_resolv_conf(const char *host)
{
        char *out = xstrdup("");
        bool has_ns = false;
        const char *line = host;
        while (line && *line) {
                size_t len = strcspn(line, "\n");
                cleanup_free char *l = xstrndup(line, len);
                char addr[64] = "";
                bool ns = sscanf(l, " nameserver %63s", addr) == 1;
                if (!ns || (!startswith(addr, "127.") && !streq(addr, "::1"))) {
                        has_ns |= ns;
                        char *t = xasprintf("%s%s\n", out, l);
                        free(out);
                        out = t;
                }
                line += len + (line[len] == '\n');
        }
        if (!has_ns) {
                char *t = xasprintf("%snameserver 8.8.8.8\nnameserver 8.8.4.4\n", out);
                free(out);
                out = t;
        }
        return out;
}

/* ---- files and the lock --------------------------------------------------------- */
int network_state_lock(struct berth_store *s, berth_error_t *err)
{
        cleanup_free char *dir = store_run_path(s, "networks");
        cleanup_free char *path = store_run_path(s, "networks/lock");
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        return lock_file(path, true, err);
}

/* The JSON object in path, or an empty one when there is no such file; a
 * file that cannot be read is an error (it records who holds what: reading
 * it as empty would hand out what is taken). */
int network_json_load(const char *path, json_t **out, berth_error_t *err)
{
        json_error_t jerr;
        json_t *j = json_load_path(path, 0, &jerr);
        if (!j && access(path, F_OK) < 0 && errno == ENOENT)
                j = json_object();
        else if (!j)
                return berth_error(err, 0, "corrupt state file `%s`: %s", path, jerr.text);
        if (!json_is_object(j)) {
                json_decref(j);
                return berth_error(err, 0, "corrupt state file `%s`: not a JSON object", path);
        }
        *out = j;
        return 0;
}

int network_json_save(const char *path, json_t *j, berth_error_t *err)
{
        return json_write_atomic(path, j, JSON_INDENT(2) | JSON_SORT_KEYS, 0644, err);
}

static char *members_path(struct berth_store *s, const char *name)
{
        return store_run_path(s, "networks/%s.json", name);
}

int network_members(struct berth_store *s, const char *name, json_t **out, berth_error_t *err)
{
        cleanup_free char *p = members_path(s, name);
        json_auto_t *j = NULL;
        if (network_json_load(p, &j, err) < 0)
                return berth_error_wrap(err, "cannot tell which containers are on network %s", name);
        json_t *m = json_object_get(j, "Containers");
        *out = json_is_object(m) ? json_incref(m) : json_object();
        return 0;
}

/* The networks lock, then NAME's members read under it: a change to who is
 * on a network (and to the addresses they hold) must start from what the
 * file says while nobody else can change it.  Returns the lock's fd. */
int network_lock_members(struct berth_store *s, const char *name, json_t **members, berth_error_t *err)
{
        cleanup_close int lfd = network_state_lock(s, err);
        if (lfd < 0 || network_members(s, name, members, err) < 0)
                return -1;
        return steal_fd(&lfd);
}

int network_members_save(struct berth_store *s, const char *name, json_t *members, berth_error_t *err)
{
        cleanup_free char *p = members_path(s, name);
        json_auto_t *j = json_pack("{s:O}", "Containers", members);
        /* on /run: gone with a reboot anyway */
        return json_write_atomic_sync(p, j, JSON_INDENT(2) | JSON_SORT_KEYS, 0644, WRITE_VOLATILE, err);
}

json_t *network_memberships(struct berth_store *s, const char *id)
{
        json_t *out = json_object();
        json_auto_t *all = NULL;
        if (network_list(s, &all, NULL) < 0)
                return out;
        size_t i;
        json_t *def;
        json_array_foreach(all, i, def)
        {
                json_auto_t *members = NULL;
                const char *name = json_str(def, "Name");
                if (network_members(s, name, &members, NULL) == 0 && json_object_get(members, id))
                        json_object_set(out, name, json_object_get(members, id));
        }
        return out;
}

/* ---- definitions ------------------------------------------------------------------ */
static json_t *network_def_new(const char *name, const char *driver, const char *subnet, const char *bridge)
{
        unsigned char raw[32];
        char id[65];
        (void) random_bytes(raw, sizeof(raw));
        hex_encode(raw, sizeof(raw), id);
        cleanup_free char *created = format_rfc3339(now_ns());
        json_t *cfg = json_array();
        if (subnet) {
                struct ipv4_subnet sn;
                if (ipam_parse_subnet(subnet, &sn, NULL) == 0) {
                        cleanup_free char *gw = ipam_format(ipam_gateway(&sn));
                        json_array_append_new(cfg, json_pack("{s:s, s:s}", "Subnet", subnet, "Gateway", gw));
                }
        }
        json_t *opts = json_object();
        if (bridge)
                json_object_set_new(opts, "com.docker.network.bridge.name", json_string(bridge));
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:o}, s:b, s:o, s:{}}", "Name", name, "Id", id,
                         "Created", created, "Scope", "local", "Driver", driver, "EnableIPv6", 0, "IPAM", "Driver",
                         "default", "Config", cfg, "Internal", 0, "Options", opts, "Labels");
}

const char *network_def_subnet(json_t *def)
{
        return json_string_value(json_object_get(json_array_get(json_at(def, "IPAM.Config"), 0), "Subnet"));
}

const char *network_def_bridge(json_t *def)
{
        return json_string_value(json_object_get(json_object_get(def, "Options"), "com.docker.network.bridge.name"));
}

static bool network_builtin(const char *name)
{
        return streq(name, "bridge") || streq(name, "host") || streq(name, "none");
}

/* Append the subnets of the host's own IPv4 addresses (but berth0's) to
 * *v: a network picked for berth must not hide a route of the host's, as
 * Docker checks. */
static void host_subnets(struct ipv4_subnet **v, size_t *n)
{
        struct ifaddrs *ifa = NULL;
        if (getifaddrs(&ifa) < 0)
                return;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
                    streq(i->ifa_name, NETWORK_DEFAULT_BRIDGE))
                        continue;
                uint32_t a = ntohl(((struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr);
                uint32_t m = ntohl(((struct sockaddr_in *) i->ifa_netmask)->sin_addr.s_addr);
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = (struct ipv4_subnet) { .addr = a & m, .prefix = __builtin_popcount(m) };
        }
        freeifaddrs(ifa);
}

/* The default bridge's subnet: Docker's 172.17.0.0/16 unless the host uses
 * it, then the first free one of the pool. */
static char *default_subnet(void)
{
        cleanup_free struct ipv4_subnet *used = NULL;
        size_t n = 0;
        host_subnets(&used, &n);
        struct ipv4_subnet want;
        if (ipam_parse_subnet(NETWORK_DEFAULT_SUBNET, &want, NULL) < 0)
                abort();
        for (size_t i = 0; i < n; i++)
                if (ipam_overlaps(&want, &used[i])) {
                        if (ipam_pick_subnet(used, n, &want) < 0)
                                return xstrdup(NETWORK_DEFAULT_SUBNET);
                        break;
                }
        cleanup_free char *net = ipam_format(want.addr);
        return xasprintf("%s/%u", net, want.prefix);
}

/* bridge, host, none: written on first use (a race only costs a new ID). */
static int network_builtins_ensure(struct berth_store *s, berth_error_t *err)
{
        cleanup_free char *dir = store_path(s, "networks");
        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        static const char *names[][2] = { { "bridge", "bridge" }, { "host", "host" }, { "none", "null" } };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                cleanup_free char *p = store_path(s, "networks/%s.json", names[i][0]);
                if (access(p, F_OK) == 0)
                        continue;
                bool br = streq(names[i][0], "bridge");
                cleanup_free char *subnet = br ? default_subnet() : NULL;
                json_auto_t *def = network_def_new(names[i][0], names[i][1], subnet, br ? NETWORK_DEFAULT_BRIDGE : NULL);
                if (network_json_save(p, def, err) < 0)
                        return -1;
        }
        return 0;
}

int network_list(struct berth_store *s, json_t **out, berth_error_t *err)
{
        if (network_builtins_ensure(s, err) < 0)
                return -1;
        cleanup_free char *dir = store_path(s, "networks");
        cleanup_dir DIR *d = opendir(dir);
        if (!d)
                return berth_error(err, errno, "open `%s`", dir);
        json_t *all = json_array();
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 6 || !streq(de->d_name + l - 5, ".json"))
                        continue;
                cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
                json_t *def = json_load_path(p, 0, NULL);
                if (def)
                        json_array_append_new(all, def);
        }
        /* sorted by name, as docker network ls */
        size_t n = json_array_size(all);
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0; k--) {
                        json_t *a = json_array_get(all, k - 1), *b = json_array_get(all, k);
                        if (strcmp(json_str(a, "Name"), json_str(b, "Name")) <= 0)
                                break;
                        json_incref(a);
                        json_array_set(all, k - 1, b);
                        json_array_set_new(all, k, a);
                }
        *out = all;
        return 0;
}

int network_lookup(struct berth_store *s, const char *ref, json_t **out, berth_error_t *err)
{
        json_auto_t *all = NULL;
        if (network_list(s, &all, err) < 0)
                return -1;
        json_t *found = NULL;
        size_t i, matches = 0;
        json_t *def;
        json_array_foreach(all, i, def)
        {
                if (streq(json_str(def, "Name"), ref) || streq(json_str(def, "Id"), ref)) {
                        *out = json_incref(def);
                        return 0;
                }
                if (strlen(ref) >= 3 && startswith(json_str(def, "Id"), ref)) {
                        found = def;
                        matches++;
                }
        }
        if (matches == 1) {
                *out = json_incref(found);
                return 0;
        }
        return berth_error(err, 0, "network %s not found", ref);
}

/* Docker's network events: actor the network's ID; name=, type=bridge and,
 * for connect/disconnect, container=ID. */
void network_event(const char *action, json_t *def, const char *container_id)
{
        cleanup_free char *n = xasprintf("name=%s", json_str(def, "Name") ?: "");
        cleanup_free char *t = xasprintf("type=%s", json_str(def, "Driver") ?: "bridge");
        cleanup_free char *c = container_id ? xasprintf("container=%s", container_id) : NULL;
        char *attrs[] = { n, t, c, NULL };
        event_emit("network", action, json_str(def, "Id") ?: "", attrs, NULL);
}

int network_create(struct berth_store *s, const char *name, const char *subnet, json_t **out, berth_error_t *err)
{
        if (!network_name_valid(name))
                return berth_error(err, 0, "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                   name);
        if (streq(name, "pasta"))
                return berth_error(err, 0, "network name pasta is reserved: --network pasta is a user's network");
        struct ipv4_subnet want = {};
        if (subnet && ipam_parse_subnet(subnet, &want, err) < 0)
                return -1;
        cleanup_close int lfd = network_state_lock(s, err);
        if (lfd < 0)
                return -1;
        json_auto_t *all = NULL;
        if (network_list(s, &all, err) < 0)
                return -1;
        size_t i, n = 0;
        json_t *def;
        cleanup_free struct ipv4_subnet *used = xcalloc(json_array_size(all) + 1, sizeof(*used));
        json_array_foreach(all, i, def)
        {
                if (streq(json_str(def, "Name"), name))
                        return berth_error(err, 0, "network with name %s already exists", name);
                const char *sub = network_def_subnet(def);
                if (sub && ipam_parse_subnet(sub, &used[n], NULL) == 0)
                        n++;
        }
        if (subnet) {
                for (size_t k = 0; k < n; k++)
                        if (ipam_overlaps(&want, &used[k]))
                                return berth_error(err, 0, "invalid pool request: subnet %s overlaps with a subnet "
                                                           "of another network", subnet);
        } else {
                host_subnets(&used, &n);
                if (ipam_pick_subnet(used, n, &want) < 0)
                        return berth_error(err, 0, "could not find an available, non-overlapping IPv4 address pool "
                                                   "among the defaults to assign to the network");
        }
        cleanup_free char *net = ipam_format(want.addr);
        cleanup_free char *cidr = xasprintf("%s/%u", net, want.prefix);
        json_t *nd = network_def_new(name, "bridge", cidr, NULL);
        cleanup_free char *bridge = xasprintf("br-%.12s", json_str(nd, "Id"));
        json_object_set_new(json_object_get(nd, "Options"), "com.docker.network.bridge.name", json_string(bridge));
        cleanup_free char *p = store_path(s, "networks/%s.json", name);
        if (network_json_save(p, nd, err) < 0) {
                json_decref(nd);
                return -1;
        }
        network_event("create", nd, NULL);
        *out = nd;
        return 0;
}

int network_remove(struct berth_store *s, const char *ref, berth_error_t *err)
{
        json_auto_t *def = NULL;
        if (network_lookup(s, ref, &def, err) < 0)
                return -1;
        const char *name = json_str(def, "Name");
        if (network_builtin(name))
                return berth_error(err, 0, "%s is a pre-defined network and cannot be removed", name);
        json_auto_t *members = NULL;
        cleanup_close int lfd = network_lock_members(s, name, &members, err);
        if (lfd < 0)
                return -1;
        if (json_object_size(members) > 0)
                return berth_error(err, 0, "error while removing network: network %s id %s has active endpoints",
                                   name, json_str(def, "Id"));
        /* a user's bridge is in the namespace of berth-netns.service,
         * and goes with it when that is not running */
        berth_error_t e = NULL;
        bool here = network_user_enter(&e) == 0;
        berth_error_free(&e);
        if (here && nl_link_delete(network_def_bridge(def), err) < 0)
                return -1;
        if (here && network_def_subnet(def) &&
            nft_network_delete(network_def_subnet(def), network_def_bridge(def), err) < 0)
                return -1;
        cleanup_free char *mp = members_path(s, name);
        cleanup_free char *nat_mark = store_run_path(s, "networks/%s.nat", name);
        cleanup_free char *p = store_path(s, "networks/%s.json", name);
        unlink(mp);
        unlink(nat_mark);
        if (unlink(p) < 0)
                return berth_error(err, errno, "remove `%s`", p);
        network_event("destroy", def, NULL);
        return 0;
}

/* ---- ports ----------------------------------------------------------------------- */
char *network_ports_path(struct berth_store *s)
{
        return store_run_path(s, "networks/ports.json");
}

/* Is proto/port free on the host?  A listening socket (or a bound UDP one)
 * there makes bind() fail; TIME_WAIT leftovers do not (SO_REUSEADDR). */
static bool host_port_free(const char *proto, const char *ip, unsigned port, unsigned *picked)
{
        bool udp = streq(proto, "udp");
        cleanup_close int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return true; /* cannot tell: the reservation file still guards */
        int one = 1;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        if (ip && *ip)
                inet_pton(AF_INET, ip, &sa.sin_addr);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return false;
        if (picked) {
                socklen_t l = sizeof(sa);
                if (getsockname(fd, (struct sockaddr *) &sa, &l) < 0)
                        return false;
                *picked = ntohs(sa.sin_port);
        }
        return true;
}

const char *network_display_ip(const char *ip)
{
        return ip && *ip ? ip : "0.0.0.0";
}

/* Check one host port against the reservations (other than self's) and the
 * host's sockets.  Returns 0 or -1 with Docker's message. */
int network_port_check(json_t *reserved, const char *self, const char *proto, const char *ip, unsigned port,
                      berth_error_t *err)
{
        char key[32];
        snprintf(key, sizeof(key), "%s/%u", proto, port);
        json_t *r = json_object_get(reserved, key);
        const char *owner = json_str(r, "Container");
        if (owner && (!self || !streq(owner, self)))
                return berth_error(err, 0, "Bind for %s:%u/%s failed: port is already allocated (by container %s)",
                                   network_display_ip(ip), port, proto, json_str(r, "Name") ?: owner);
        if (!host_port_free(proto, ip, port, NULL))
                return berth_error(err, 0, "Bind for %s:%u/%s failed: address already in use on the host",
                                   network_display_ip(ip), port, proto);
        return 0;
}

/* A free host port for -p CTRPORT: the kernel's pick among its ephemeral
 * ports, not reserved by a container. */
int network_port_pick(json_t *reserved, const char *proto, const char *ip, unsigned *out, berth_error_t *err)
{
        for (int tries = 0; tries < 64; tries++) {
                unsigned p = 0;
                if (!host_port_free(proto, ip, 0, &p))
                        break;
                char key[32];
                snprintf(key, sizeof(key), "%s/%u", proto, p);
                if (!json_object_get(reserved, key)) {
                        *out = p;
                        return 0;
                }
        }
        return berth_error(err, 0, "no free host port for %s", proto);
}

/* ---- run / create ----------------------------------------------------------------- */
bool network_mode_private(const char *mode)
{
        return mode && !streq(mode, "host") && !startswith(mode, "container:");
}

const char *network_mode_name(const char *mode)
{
        return !mode || streq(mode, "default") ? NETWORK_DEFAULT : mode;
}

static void add_binding(json_t *bindings, json_t *exposed, const char *key, const char *ip, unsigned host_port)
{
        json_t *list = json_object_get(bindings, key);
        if (!list) {
                list = json_array();
                json_object_set_new(bindings, key, list);
        }
        cleanup_free char *hp = host_port ? xasprintf("%u", host_port) : xstrdup("");
        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", hp));
        json_object_set_new(exposed, key, json_object());
}

/* Does this --network name a user network (an endpoint with aliases, an
 * address of its choosing, company)? */
static bool mode_user(const char *name)
{
        return !network_builtin(name) && !streq(name, "default") && !startswith(name, "container:");
}

int network_endpoint_fill(json_t *ep, json_t *def, json_t *aliases, const char *ip, berth_error_t *err)
{
        const char *name = json_str(ep, "Name");
        if (json_array_size(aliases) > 0 && !mode_user(name))
                return berth_error(err, 0, "network-scoped aliases are supported only for containers in user defined "
                                           "networks");
        if (ip) {
                struct in_addr a;
                struct ipv4_subnet sn;
                if (!mode_user(name))
                        return berth_error(err, 0, "user specified IP address is supported on user defined networks "
                                                   "only");
                if (inet_pton(AF_INET, ip, &a) != 1 || !network_def_subnet(def) ||
                    ipam_parse_subnet(network_def_subnet(def), &sn, NULL) < 0 || !ipam_host_address(&sn, ntohl(a.s_addr)))
                        return berth_error(err, 0, "no configured subnet contains the IP address %s (network %s)", ip,
                                           name);
                json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
        }
        if (json_array_size(aliases) > 0)
                json_object_set(ep, "Aliases", aliases);
        return 0;
}

/* One --network value checked and resolved: { Name, Aliases, IPAMConfig }. */
static int prepare_endpoint(struct berth_store *s, const char *given, json_t *aliases, json_t **out, berth_error_t *err)
{
        struct network_endpoint_spec e;
        if (network_endpoint_parse(given, &e, err) < 0)
                return -1;
        json_auto_t *ep = json_object();
        int r = 0;
        const char *name = streq(e.name, "default") ? NETWORK_DEFAULT : e.name;
        json_auto_t *def = NULL;
        if (startswith(name, "container:")) {
                cleanup_container struct berth_container *other = NULL;
                if (container_lookup(s, name + 10, &other, err) < 0)
                        r = berth_error_wrap(err, "--network %s", name);
        } else if (!streq(name, "host") && !streq(name, "none")) {
                r = network_lookup(s, name, &def, err);
                if (r == 0 && !streq(json_str(def, "Driver"), "bridge"))
                        r = berth_error(err, 0, "network %s: only bridge networks can be joined by name", name);
                if (r == 0)
                        name = json_str(def, "Name"); /* an ID (prefix) is recorded as the name */
        }
        if (r == 0 && e.aliases && json_array_size(aliases) > 0)
                r = berth_error(err, 0, "conflicting options: cannot specify both --network-alias and per-network "
                                        "alias");
        json_auto_t *al = e.aliases ? strv_to_json(e.aliases) : json_incref(aliases);
        json_object_set_new(ep, "Name", json_string(name));
        if (r == 0)
                r = network_endpoint_fill(ep, def, al, e.ip, err);
        network_endpoint_spec_done(&e);
        if (r < 0)
                return -1;
        *out = json_incref(ep);
        return 0;
}

/* --network pasta[:OPTIONS] (given: the --network values): NetworkMode
 * "pasta", the options in Berth.PastaOptions.  A user's only. */
static int prepare_pasta(json_t *cfg, json_t *given, berth_error_t *err)
{
        json_t *berth = json_object_get(cfg, "Berth");
        if (json_array_size(given) > 1)
                return berth_error(err, 0, "conflicting options: --network pasta cannot be combined with other networks");
        if (!rootless())
                return berth_error(err, 0, "--network pasta is for a user's containers: root's use bridge networks");
        if (json_array_size(json_object_get(berth, "NetworkAliases")) > 0)
                return berth_error(err, 0, "network-scoped aliases are supported only for containers in user defined "
                                           "networks");
        cleanup_strv char **opts = NULL;
        if (pasta_options_parse(json_string_value(json_array_get(given, 0)), &opts, err) < 0)
                return -1;
        json_object_set_new(json_object_get(cfg, "HostConfig"), "NetworkMode", json_string("pasta"));
        if (opts)
                json_object_set_new(berth, "PastaOptions", strv_to_json(opts));
        json_object_del(berth, "Networks");
        json_object_del(berth, "NetworkAliases");
        return 0;
}

/* Berth.Networks as typed (or NetworkMode alone) into network_endpoints()'
 * form, NetworkMode the first; --network-alias goes to the first, as
 * Docker's.  host, none, container:NAME and the default bridge stand alone.
 * A user's default is pasta (no bridge without root), as Podman's. */
static int prepare_networks(struct berth_store *s, json_t *cfg, berth_error_t *err)
{
        json_t *hc = json_object_get(cfg, "HostConfig");
        json_t *berth = json_object_get(cfg, "Berth");
        json_auto_t *given = json_incref(json_object_get(berth, "Networks"));
        if (json_array_size(given) == 0) {
                json_decref(given);
                const char *mode = json_str(hc, "NetworkMode");
                if (rootless() && (!mode || streq(mode, NETWORK_DEFAULT) || streq(mode, "default")))
                        mode = "pasta";
                given = json_pack("[s]", mode ?: NETWORK_DEFAULT);
        }
        /* a user's default network is pasta, whatever it is called */
        if (rootless() && json_array_size(given) == 1 &&
            (streq(json_string_value(json_array_get(given, 0)) ?: "", NETWORK_DEFAULT) ||
             streq(json_string_value(json_array_get(given, 0)) ?: "", "default")))
                json_array_set_new(given, 0, json_string("pasta"));
        json_auto_t *eps = json_array();
        size_t i;
        json_t *g;
        json_array_foreach(given, i, g)
                if (network_mode_pasta(json_string_value(g)))
                        return prepare_pasta(cfg, given, err);
        json_array_foreach(given, i, g)
        {
                json_t *ep = NULL;
                if (prepare_endpoint(s, json_string_value(g) ?: "", i == 0 ? json_object_get(berth, "NetworkAliases")
                                                                            : NULL, &ep, err) < 0)
                        return -1;
                json_array_append_new(eps, ep);
                const char *name = json_str(ep, "Name");
                for (size_t k = 0; k < i; k++)
                        if (streq(json_str(json_array_get(eps, k), "Name"), name))
                                return berth_error(err, 0, "network \"%s\" is specified multiple times", name);
                if (json_array_size(given) > 1 && !mode_user(name))
                        return berth_error(err, 0, "conflicting options: --network %s cannot be combined with other "
                                                   "networks (only user defined networks can)", name);
        }
        const char *first = json_str(json_array_get(eps, 0), "Name");
        json_object_set_new(hc, "NetworkMode", json_string(first));
        json_object_del(berth, "NetworkAliases"); /* in the first endpoint now */
        if (network_mode_private(first) && !streq(first, "none"))
                json_object_set(berth, "Networks", eps);
        else
                json_object_del(berth, "Networks");
        return 0;
}

json_t *network_endpoints(json_t *cfg)
{
        json_t *eps = json_at(cfg, "Berth.Networks");
        if (json_is_array(eps))
                return json_incref(eps);
        const char *mode = json_str(cfg, "HostConfig.NetworkMode");
        if (!network_mode_private(mode) || streq(mode, "none") || network_mode_pasta(mode))
                return json_array();
        json_t *ep = json_pack("{s:s}", "Name", network_mode_name(mode));
        json_t *aliases = json_at(cfg, "Berth.NetworkAliases");
        if (json_array_size(aliases) > 0)
                json_object_set(ep, "Aliases", aliases);
        return json_pack("[o]", ep);
}

char *network_names_text(json_t *cfg)
{
        json_auto_t *eps = network_endpoints(cfg);
        const char *mode = json_str(cfg, "HostConfig.NetworkMode") ?: "";
        if (json_array_size(eps) == 0 && !json_is_array(json_at(cfg, "Berth.Networks")))
                return xstrdup(startswith(mode, "container:") ? "" : mode);
        char *text = xstrdup("");
        size_t i;
        json_t *ep;
        json_array_foreach(eps, i, ep)
        {
                char *t = xasprintf("%s%s%s", text, i ? "," : "", json_str(ep, "Name"));
                free(text);
                text = t;
        }
        return text;
}

int network_prepare_config(struct berth_store *s, json_t *cfg, char *const *publish, bool publish_all,
                           char *const *expose, json_t *image_exposed, berth_error_t *err)
{
        json_t *hc = json_object_get(cfg, "HostConfig");
        json_t *config = json_object_get(cfg, "Config");
        if (prepare_networks(s, cfg, err) < 0)
                return -1;
        const char *mode = json_str(hc, "NetworkMode");

        json_t *bindings = json_object(), *exposed = json_object();
        json_object_set_new(hc, "PortBindings", bindings);
        json_object_set_new(hc, "PublishAllPorts", json_boolean(publish_all));
        const char *k;
        json_t *v;
        json_object_foreach(image_exposed, k, v)
                json_object_set_new(exposed, k, json_object());
        json_object_set_new(config, "ExposedPorts", exposed);
        /* --expose PORT[-END][/PROTO]: exposed, not published */
        for (size_t i = 0; expose && expose[i]; i++) {
                struct port_spec ps;
                if (strchr(expose[i], ':'))
                        return berth_error(err, 0, "invalid range format for --expose: %s (PORT[-END][/PROTO])",
                                           expose[i]);
                if (port_spec_parse(expose[i], &ps, err) < 0)
                        return berth_error_wrap(err, "--expose %s", expose[i]);
                for (unsigned p = ps.ctr_port; p <= ps.ctr_port_end; p++) {
                        cleanup_free char *key = xasprintf("%u/%s", p, ps.proto);
                        json_object_set_new(exposed, key, json_object());
                }
        }
        for (size_t i = 0; publish && publish[i]; i++) {
                struct port_spec ps;
                if (port_spec_parse(publish[i], &ps, err) < 0)
                        return berth_error_wrap(err, "-p %s", publish[i]);
                for (unsigned p = ps.ctr_port; p <= ps.ctr_port_end; p++) {
                        cleanup_free char *key = xasprintf("%u/%s", p, ps.proto);
                        add_binding(bindings, exposed, key, ps.host_ip, ps.host_port ? ps.host_port + p - ps.ctr_port : 0);
                }
        }
        if ((publish || publish_all) && !network_mode_private(mode)) {
                berth_warn("Published ports are discarded when using host network mode");
                return 0;
        }
        /* a user's ports are pasta's forwards, on any network */
        if (rootless() && pasta_ports_check(bindings, pasta_unprivileged_port_start(), err) < 0)
                return -1;
        /* a clash is refused now, before anything is created */
        cleanup_free char *pp = network_ports_path(s);
        json_auto_t *reserved = NULL;
        if (network_json_load(pp, &reserved, err) < 0)
                return berth_error_wrap(err, "cannot tell which host ports are taken");
        json_auto_t *mine = json_object(); /* the same host port twice in one run */
        json_object_foreach(bindings, k, v)
        {
                const char *proto = strchr(k, '/') + 1;
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b)
                {
                        unsigned port = atoi(json_str(b, "HostPort"));
                        if (!port)
                                continue;
                        cleanup_free char *key = xasprintf("%s/%u", proto, port);
                        if (json_object_get(mine, key))
                                return berth_error(err, 0, "host port %u/%s is published twice", port, proto);
                        json_object_set_new(mine, key, json_true());
                        if (network_port_check(reserved, json_str(cfg, "Id"), proto, json_str(b, "HostIp"), port, err) < 0)
                                return -1;
                }
        }
        return 0;
}

int network_join_fd(struct berth_store *s, const char *mode, const char *joiner, int *fd, berth_error_t *err)
{
        *fd = -1;
        if (!mode || !startswith(mode, "container:"))
                return 0;
        cleanup_container struct berth_container *other = NULL;
        if (container_lookup(s, mode + 10, &other, err) < 0)
                return -1;
        if (!container_is_running(other))
                return berth_error(err, 0, "cannot join the network of container %s: it is not running", other->name);
        /* RUN/netns-joiners/JOINER names the owner, until the joiner's stop
         * hook: the owner's stop hook then takes its links down itself */
        cleanup_free char *dir = store_run_path(s, "netns-joiners");
        cleanup_free char *mark = store_run_path(s, "netns-joiners/%s", joiner);
        if (mkdir_p(dir, 0700, err) < 0 ||
            write_file_atomic_sync(mark, other->id, strlen(other->id), 0600, WRITE_VOLATILE, err) < 0)
                return -1;
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/net", (int) json_int(other->state, "Pid", 0));
        *fd = open(p, O_RDONLY | O_CLOEXEC);
        if (*fd < 0)
                return berth_error(err, errno, "open the network namespace of container %s", other->name);
        return 0;
}

/* Whether a container that joined ID's network namespace may still be in
 * it: a mark of RUN/netns-joiners names ID.  Fails closed: a directory
 * that cannot be read says yes. */
static bool netns_has_joiners(struct berth_store *s, const char *id)
{
        cleanup_free char *dir = store_run_path(s, "netns-joiners");
        DIR *d = opendir(dir);
        if (!d)
                return errno != ENOENT;
        bool found = false;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name), *owner = NULL;
                found = read_file(p, &owner, NULL, NULL) < 0 || streq(owner, id);
        }
        closedir(d);
        return found;
}

bool network_links_go_with_netns(struct berth_store *s, struct berth_container *c)
{
        cleanup_free char *mark = store_run_path(s, "netns-joiners/%s", c->id);
        (void) unlink(mark); /* it was a joiner: it has left */
        return !netns_has_joiners(s, c->id);
}

/* One (container port, host binding) pair of NetworkSettings.Ports, as the
 * rows of Docker's container list ("Ports": PrivatePort, PublicPort, IP,
 * Type); an exposed port without a binding has no IP and public port 0. */
struct port_row {
        unsigned priv, pub;
        const char *ip, *proto;
};

static int port_row_cmp(const void *a, const void *b)
{
        const struct port_row *x = a, *y = b;
        int r;
        if (x->priv != y->priv)
                return x->priv < y->priv ? -1 : 1;
        if ((r = strcmp(x->ip, y->ip)) != 0)
                return r;
        if (x->pub != y->pub)
                return x->pub < y->pub ? -1 : 1;
        return strcmp(x->proto, y->proto);
}

/* A run of ports under one key ("tcp", or "IP/tcp" for bindings to the same
 * port number on the host). */
struct port_group {
        char *key;
        unsigned first, last;
};

static void port_group_append(char **text, const struct port_group *g)
{
        const char *slash = strchr(g->key, '/');
        cleanup_free char *range = g->first == g->last ? xasprintf("%u", g->first)
                                                       : xasprintf("%u-%u", g->first, g->last);
        char *t = slash ? xasprintf("%s%s%.*s:%s->%s%s", *text, **text ? ", " : "", (int) (slash - g->key), g->key,
                                    range, range, slash)
                        : xasprintf("%s%s%s/%s", *text, **text ? ", " : "", range, g->key);
        free(*text);
        *text = t;
}

char *network_ports_display(json_t *ports)
{
        size_t n = 0, cap = 0;
        cleanup_free struct port_row *rows = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(ports, k, v)
        {
                unsigned priv = (unsigned) atoi(k);
                const char *proto = strchr(k, '/') ? strchr(k, '/') + 1 : "tcp";
                size_t nb = json_is_array(v) ? json_array_size(v) : 0;
                for (size_t i = 0; i < (nb ? nb : 1); i++) {
                        if (n == cap)
                                rows = xrealloc(rows, (cap = cap ? 2 * cap : 8) * sizeof(*rows));
                        json_t *b = nb ? json_array_get(v, i) : NULL;
                        rows[n++] = (struct port_row) { priv, (unsigned) atoi(json_str(b, "HostPort") ?: "0"),
                                                        json_str(b, "HostIp") ?: "", proto };
                }
        }
        if (n > 1) /* qsort with a NULL base is undefined, even for 0 rows */
                qsort(rows, n, sizeof(*rows), port_row_cmp);
        /* Docker's DisplayablePorts: consecutive ports of one key merge into
         * a range; a binding to another host port number stands alone, after
         * the groups; a group ends where a gap is (then it is listed first) */
        char *text = xstrdup("");
        cleanup_free char *mappings = xstrdup("");
        cleanup_free struct port_group *groups = xcalloc(n + 1, sizeof(*groups));
        size_t ng = 0;
        for (size_t i = 0; i < n; i++) {
                const struct port_row *r = &rows[i];
                cleanup_free char *key = NULL;
                if (*r->ip) {
                        if (r->pub != r->priv) {
                                char *t = xasprintf("%s%s%s:%u->%u/%s", mappings, *mappings ? ", " : "", r->ip,
                                                    r->pub, r->priv, r->proto);
                                free(mappings);
                                mappings = t;
                                continue;
                        }
                        key = xasprintf("%s/%s", r->ip, r->proto);
                } else
                        key = xstrdup(r->proto);
                struct port_group *g = NULL;
                for (size_t j = 0; j < ng && !g; j++)
                        if (streq(groups[j].key, key))
                                g = &groups[j];
                if (!g) {
                        groups[ng++] = (struct port_group) { steal_pointer(&key), r->priv, r->priv };
                        continue;
                }
                if (r->priv == g->last + 1) {
                        g->last = r->priv;
                        continue;
                }
                port_group_append(&text, g);
                g->first = g->last = r->priv;
        }
        for (size_t j = 0; j < ng; j++) {
                port_group_append(&text, &groups[j]);
                free(groups[j].key);
        }
        if (*mappings) {
                char *t = xasprintf("%s%s%s", text, *text ? ", " : "", mappings);
                free(text);
                text = t;
        }
        return text;
}

char *network_ports_text(struct berth_container *c)
{
        if (!container_is_running(c))
                return xstrdup("");
        return network_ports_display(json_at(c->state, "NetworkSettings.Ports"));
}
