/* berth — rtnetlink over libmnl: bridges, veth pairs, addresses, routes.
 * No `ip` subprocess: a container start makes a handful of requests. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <time.h>

#include "berth/network-internal.h"
#include "berth/util.h"

struct nl {
        struct mnl_socket *sk;
        unsigned seq, portid;
        char buf[8192];
};

static int nl_open(struct nl *nl, berth_error_t *err)
{
        nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->sk || mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
                int e = errno;
                if (nl->sk)
                        mnl_socket_close(nl->sk);
                nl->sk = NULL;
                return berth_error(err, e, "open an rtnetlink socket");
        }
        nl->portid = mnl_socket_get_portid(nl->sk);
        nl->seq = time(NULL);
        return 0;
}

static void nl_close(struct nl *nl)
{
        if (nl->sk)
                mnl_socket_close(nl->sk);
        nl->sk = NULL;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
        memset(nl->buf, 0, sizeof(nl->buf));
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh->nlmsg_seq = ++nl->seq;
        return nlh;
}

/* Send and wait for the ack: 0 or -errno. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh)
{
        if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
                if (n < 0)
                        return -errno;
                int r = mnl_cb_run(nl->buf, n, nl->seq, nl->portid, NULL, NULL);
                if (r < 0)
                        return -errno;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

static struct ifinfomsg *nl_link_msg(struct nl *nl, uint16_t type, uint16_t flags, int index)
{
        struct nlmsghdr *nlh = nl_msg(nl, type, flags);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = index;
        return ifm;
}

static int nl_link_up(struct nl *nl, int index)
{
        struct ifinfomsg *ifm = nl_link_msg(nl, RTM_NEWLINK, 0, index);
        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
        return nl_talk(nl, (struct nlmsghdr *) nl->buf);
}

static int nl_addr_add(struct nl *nl, int index, uint32_t addr, unsigned prefix)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = index;
        uint32_t a = htonl(addr), bcast = htonl(addr | (prefix ? 0xffffffffu >> prefix : 0));
        mnl_attr_put_u32(nlh, IFA_LOCAL, a);
        mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
        mnl_attr_put_u32(nlh, IFA_BROADCAST, bcast);
        int r = nl_talk(nl, nlh);
        return r == -EEXIST ? 0 : r;
}

static int nl_route_default(struct nl *nl, int index, uint32_t gw)
{
        struct nlmsghdr *nlh = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = AF_INET;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
        mnl_attr_put_u32(nlh, RTA_OIF, index);
        return nl_talk(nl, nlh);
}

int nl_bridge_ensure(const char *name, uint32_t addr, unsigned prefix, berth_error_t *err)
{
        struct nl nl = {};
        if (nl_open(&nl, err) < 0)
                return -1;
        int index = if_nametoindex(name);
        int r = 0;
        const char *what = "create";
        if (!index) {
                nl_link_msg(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
                struct nlmsghdr *nlh = (struct nlmsghdr *) nl.buf;
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
                struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
                mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
                mnl_attr_nest_end(nlh, info);
                r = nl_talk(&nl, nlh);
                if (r == -EEXIST) /* made by a concurrent start */
                        r = 0;
                index = if_nametoindex(name);
                if (r == 0 && !index)
                        r = -ENODEV;
        }
        if (r == 0) {
                what = "add the address of";
                r = nl_addr_add(&nl, index, addr, prefix);
        }
        if (r == 0) {
                what = "bring up";
                r = nl_link_up(&nl, index);
        }
        nl_close(&nl);
        if (r < 0)
                return berth_error(err, -r, "%s the bridge %s", what, name);
        return 0;
}

int nl_loopback_up(berth_error_t *err)
{
        struct nl nl = {};
        if (nl_open(&nl, err) < 0)
                return -1;
        int r = nl_link_up(&nl, if_nametoindex("lo"));
        nl_close(&nl);
        if (r < 0)
                return berth_error(err, -r, "bring up the loopback interface");
        return 0;
}

int nl_link_delete(const char *name, berth_error_t *err)
{
        int index = if_nametoindex(name);
        if (!index)
                return 0;
        struct nl nl = {};
        if (nl_open(&nl, err) < 0)
                return -1;
        nl_link_msg(&nl, RTM_DELLINK, 0, index);
        int r = nl_talk(&nl, (struct nlmsghdr *) nl.buf);
        nl_close(&nl);
        if (r < 0 && r != -ENODEV)
                return berth_error(err, -r, "delete the link %s", name);
        return 0;
}

static int nl_veth_create(struct nl *nl, const char *host_name, int master, pid_t pid, const char *ifname,
                          uint32_t addr)
{
        nl_link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
        struct nlmsghdr *nlh = (struct nlmsghdr *) nl->buf;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
        mnl_attr_put_u32(nlh, IFLA_MASTER, master);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* the peer's own ifinfomsg comes first inside VETH_INFO_PEER */
        struct ifinfomsg *pifm = mnl_nlmsg_get_payload_tail(nlh);
        nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
        memset(pifm, 0, sizeof(*pifm));
        pifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        /* Docker's MAC of old: 02:42 and the IPv4 address, so inspect can
         * tell it without asking the container's namespace */
        uint8_t mac[6] = { 0x02, 0x42, addr >> 24, addr >> 16, addr >> 8, addr };
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, pid);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        return nl_talk(nl, nlh);
}

/* Inside the container's namespace: lo and ifname up, the address, the
 * default route (when gw).  The socket is opened there; the shim itself goes
 * back at once. */
static int nl_configure_inside(pid_t pid, const char *ifname, uint32_t addr, unsigned prefix, uint32_t gw,
                               berth_error_t *err)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/net", (int) pid);
        cleanup_close int target = open(p, O_RDONLY | O_CLOEXEC);
        cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (target < 0 || self < 0)
                return berth_error(err, errno, "open the network namespace of the container");
        if (setns(target, CLONE_NEWNET) < 0)
                return berth_error(err, errno, "enter the network namespace of the container");
        struct nl nl = {};
        int r = nl_open(&nl, err) < 0 ? -EIO : 0;
        int eth0 = if_nametoindex(ifname), lo = if_nametoindex("lo");
        if (setns(self, CLONE_NEWNET) < 0)
                abort(); /* cannot happen: we could leave it; never run on in the wrong one */
        if (r < 0)
                return -1;
        const char *what = "find";
        if (!eth0 || !lo)
                r = -ENODEV;
        if (r == 0 && (r = nl_addr_add(&nl, eth0, addr, prefix)) < 0)
                what = "add the address of";
        if (r == 0 && (r = nl_link_up(&nl, eth0)) < 0)
                what = "bring up";
        if (r == 0 && (r = nl_link_up(&nl, lo)) < 0)
                what = "bring up lo with";
        if (r == 0 && gw && (r = nl_route_default(&nl, eth0, gw)) < 0)
                what = "add the default route of";
        nl_close(&nl);
        if (r < 0)
                return berth_error(err, -r, "%s %s in the container", what, ifname);
        return 0;
}

int nl_veth_attach(const char *host_name, const char *bridge, pid_t pid, const char *ifname, uint32_t addr,
                   unsigned prefix, uint32_t gw, berth_error_t *err)
{
        int master = if_nametoindex(bridge);
        if (!master)
                return berth_error(err, errno, "find the bridge %s", bridge);
        struct nl nl = {};
        if (nl_open(&nl, err) < 0)
                return -1;
        int r = nl_veth_create(&nl, host_name, master, pid, ifname, addr);
        if (r == -EEXIST) {
                /* a leftover of a container whose stop hook never ran */
                nl_link_msg(&nl, RTM_DELLINK, 0, if_nametoindex(host_name));
                (void) nl_talk(&nl, (struct nlmsghdr *) nl.buf);
                r = nl_veth_create(&nl, host_name, master, pid, ifname, addr);
        }
        int index = r == 0 ? (int) if_nametoindex(host_name) : 0;
        if (r == 0)
                r = index ? nl_link_up(&nl, index) : -ENODEV;
        nl_close(&nl);
        if (r < 0)
                return berth_error(err, -r, "create the veth pair %s", host_name);
        return nl_configure_inside(pid, ifname, addr, prefix, gw, err);
}
