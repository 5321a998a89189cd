/* berth — the /etc/hosts of containers on a network (network-internal.h):
 * each its own name, and on a user network every other member's name and
 * --network-alias names. */
#include "config.h"

#include <fcntl.h>

#include "berth/json-util.h"
#include "berth/network-internal.h"
#include "berth/network.h"
#include "berth/store.h"
#include "berth/util.h"

static const char hosts_base[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                                 "ff02::2\tip6-allrouters\n";

void network_ip_only(const char *cidr, char *out, size_t n)
{
        snprintf(out, n, "%.*s", (int) strcspn(cidr ? cidr : "", "/"), cidr ? cidr : "");
}

static void names_append(char **text, const char *ip, json_t *m)
{
        cleanup_free char *names = xstrdup(json_str(m, "Name") ?: "");
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(m, "Aliases"), k, a)
        {
                char *n = xasprintf("%s %s", names, json_string_value(a));
                free(names);
                names = n;
        }
        char *t = xasprintf("%s%s\t%s\n", *text, ip, names);
        free(*text);
        *text = t;
}

/* The file is bind-mounted into the running container: rewrite it in place
 * (a rename would leave the container with the old inode).  Under the
 * network lock: the members files are read as they are now. */
static void hosts_write(struct berth_store *s, const char *id)
{
        json_auto_t *mine = network_memberships(s, id);
        json_t *self = NULL;
        const char *net;
        json_t *m;
        /* its own names on its first interface */
        json_object_foreach(mine, net, m)
                if (!self || strcmp(json_str(m, "Interface") ?: "eth0", json_str(self, "Interface") ?: "eth0") < 0)
                        self = m;
        if (!self)
                return;
        char ip[32];
        network_ip_only(json_str(self, "IPv4Address"), ip, sizeof(ip));
        cleanup_free char *text = xasprintf("%s%s\t%s %s\n", hosts_base, ip, json_str(self, "Hostname"),
                                            json_str(self, "Name"));
        /* every other member of each user network, with its aliases there */
        json_object_foreach(mine, net, m)
        {
                json_auto_t *members = NULL;
                if (streq(net, NETWORK_DEFAULT) || network_members(s, net, &members, NULL) < 0)
                        continue;
                const char *pid;
                json_t *peer;
                json_object_foreach(members, pid, peer)
                {
                        if (streq(pid, id))
                                continue;
                        network_ip_only(json_str(peer, "IPv4Address"), ip, sizeof(ip));
                        names_append(&text, ip, peer);
                }
        }
        cleanup_free char *path = store_path(s, "containers/%s/hosts", id);
        cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0)
                (void) write_all(fd, text, strlen(text));
}

void network_hosts_sync(struct berth_store *s, const char *network, json_t *members, const char *only)
{
        bool peers = !streq(network, NETWORK_DEFAULT);
        const char *id;
        json_t *m;
        json_object_foreach(members, id, m)
                if (peers || (only && streq(id, only)))
                        hosts_write(s, id);
        if (only && !json_object_get(members, only))
                hosts_write(s, only); /* one that left: without that network's members */
}
