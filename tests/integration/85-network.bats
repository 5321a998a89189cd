#!/usr/bin/env bats
# Networks: the default bridge, published ports (TCP from 127.0.0.1, UDP),
# user networks with names, clashes, cleanup after kill -9, none and host.
# Runs in the harness' own network namespace (boot.sh), never the host's.

load helpers

setup_file() {
    ensure_busybox_image
    # Debian's busybox nc has no UDP: a tiny static UDP echo server/client,
    # bind-mounted into the container (it has no libc).
    cat >"$BATS_FILE_TMPDIR/udpecho.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
/* udpecho serve PORT | udpecho send IP PORT TEXT (prints the reply) */
int main(int argc, char **argv)
{
        char buf[512];
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t l = sizeof(sa);
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (argc == 3 && !strcmp(argv[1], "serve")) {
                sa.sin_port = htons(atoi(argv[2]));
                if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        return perror("bind"), 1;
                for (;;) {
                        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *) &sa, &l);
                        if (n > 0)
                                sendto(fd, buf, n, 0, (struct sockaddr *) &sa, l);
                }
        }
        if (argc != 5)
                return 2;
        inet_pton(AF_INET, argv[2], &sa.sin_addr);
        sa.sin_port = htons(atoi(argv[3]));
        struct timeval tv = { .tv_sec = 1 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (int i = 0; i < 10; i++) {
                sendto(fd, argv[4], strlen(argv[4]), 0, (struct sockaddr *) &sa, sizeof(sa));
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n > 0) {
                        buf[n] = 0;
                        printf("%s\n", buf);
                        return 0;
                }
        }
        return 1;
}
EOF
    cc -static -O -o "$BATS_FILE_TMPDIR/udpecho" "$BATS_FILE_TMPDIR/udpecho.c"
}

# No veth of a container left on the host.
no_veth() { ! compgen -G '/sys/class/net/veth*' >/dev/null; }

teardown() {
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
    for n in netA netB netC; do berth network rm $n >/dev/null 2>&1 || true; done
}

# the busybox httpd example of the README, on a published port
@test "httpd with -p 8080:80 and a bind-mounted directory answers at 127.0.0.1:8080" {
    www=$(mktemp -d)
    echo "hello from the host" >"$www/index.html"
    berth run -d --name web -p 8080:80 -v "$www":/www:ro busybox httpd -f -p 80 -h /www
    wait_until 10 curl -sf -m 3 http://127.0.0.1:8080/ || { net_diag; false; }
    run curl -sf http://127.0.0.1:8080/
    assert_success
    assert_output "hello from the host"
    # also on the host's other addresses (prerouting is for other hosts)
    run berth ps --format '{{.Ports}}'
    assert_output "0.0.0.0:8080->80/tcp"
    run berth port web
    assert_output "80/tcp -> 0.0.0.0:8080"
    run berth port web 80
    assert_output "0.0.0.0:8080"
    run berth inspect -f '{{json .HostConfig.PortBindings}}' web
    assert_output '{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}'
    run berth inspect -f '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Gateway}}' web
    assert_output "bridge 172.17.0.1"
    ip=$(berth inspect -f '{{.NetworkSettings.IPAddress}}' web)
    [[ $ip == 172.17.0.* ]]
    # the container itself, straight over the bridge
    run curl -sf "http://$ip/"
    assert_output "hello from the host"
    rm -rf "$www"
}

@test "a published port is reachable from another host" {
    # "another host": a network namespace of its own, joined to the harness
    # (itself a namespace, never the machine's) by a veth pair
    local peer=berthpeer$$
    ip netns add $peer
    ip link add vpeer0 type veth peer name vpeer1
    ip link set vpeer1 netns $peer
    ip addr add 10.99.7.1/24 dev vpeer0
    ip link set vpeer0 up
    ip -n $peer addr add 10.99.7.2/24 dev vpeer1
    ip -n $peer link set vpeer1 up
    ip -n $peer link set lo up
    www=$(mktemp -d)
    echo "seen from afar" >"$www/index.html"
    berth run -d --name farweb -p 8091:80 -v "$www":/www:ro busybox httpd -f -p 80 -h /www
    wait_until 10 ip netns exec $peer curl -sf http://10.99.7.1:8091/
    run ip netns exec $peer curl -sf http://10.99.7.1:8091/
    local out=$output st=$status
    berth rm -f farweb >/dev/null
    ip link del vpeer0
    ip netns del $peer
    rm -rf "$www"
    [ "$st" -eq 0 ] || _fail "curl from the peer failed ($st)"
    [ "$out" = "seen from afar" ] || _fail "got: $out"
}

@test "-p CTRPORT picks a free host port; -P publishes nothing without EXPOSE" {
    berth run -d --name rnd -p 80 busybox httpd -f -p 80 -h /www
    run berth port rnd 80/tcp
    assert_success
    [[ $output =~ ^0\.0\.0\.0:([0-9]+)$ ]]
    port=${BASH_REMATCH[1]}
    [ "$port" -gt 1024 ]
    wait_until 10 curl -sf -m 3 "http://127.0.0.1:$port/" || { net_diag; false; }
    run berth port rnd 81
    assert_failure
    assert_output "berth: No public port '81/tcp' published for rnd"
}

@test "-p IP:HOSTPORT:PORT publishes on that address only; several ports in ps" {
    berth run -d --name lo-only -p 127.0.0.1:8086:80 -p 8087:80 -p 5300:53/udp busybox httpd -f -p 80 -h /www
    wait_until 10 curl -sf -m 3 http://127.0.0.1:8086/ || { net_diag; false; }
    curl -sf http://127.0.0.1:8087/ >/dev/null
    # the gateway is a local address too, but not 127.0.0.1
    run curl -s -m 2 http://172.17.0.1:8086/
    assert_failure
    # sorted as Docker sorts them: by container port, then host address
    run berth ps --format '{{.Ports}}'
    assert_output "0.0.0.0:5300->53/udp, 0.0.0.0:8087->80/tcp, 127.0.0.1:8086->80/tcp"
    run berth port lo-only 80
    assert_output $'127.0.0.1:8086\n0.0.0.0:8087'
    # the host's loopback name servers are not the container's
    run berth exec lo-only cat /etc/resolv.conf
    assert_output_not_contains "nameserver 127."
    assert_output_contains "nameserver"
}

@test "-P publishes the image's EXPOSE ports on random host ports" {
    berth run --name exposer busybox true
    berth commit -c 'EXPOSE 80' -c 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]' exposer exposed:net >/dev/null
    berth rm exposer
    berth run -d --name pub -P exposed:net
    run berth port pub
    assert_success
    [[ $output =~ ^80/tcp\ -\>\ 0\.0\.0\.0:([0-9]+)$ ]]
    wait_until 10 curl -sf -m 3 "http://127.0.0.1:${BASH_REMATCH[1]}/" || { net_diag; false; }
    run berth inspect -f '{{json .Config.ExposedPorts}} {{.HostConfig.PublishAllPorts}}' pub
    assert_output '{"80/tcp":{}} true'
    berth rm -f pub
    berth rmi exposed:net
}

@test "ps shows exposed ports that are not published and merges ranges, as Docker does; --expose" {
    berth run --name exposer5000 busybox true
    berth commit -c 'EXPOSE 5000' exposer5000 exposed:5000 >/dev/null
    berth rm exposer5000
    # the flask seed's shape: EXPOSE 5000 and no -p
    berth run -d --name flaskish exposed:5000 sleep 1000
    run berth ps --filter name=flaskish
    [[ ${lines[1]} =~ \ 5000/tcp\ +flaskish$ ]] || _fail "no 5000/tcp in the PORTS column"
    run berth ps --filter name=flaskish --format '{{.Ports}}'
    assert_output "5000/tcp"
    run berth inspect -f '{{json .NetworkSettings.Ports}}' flaskish
    assert_output '{"5000/tcp":null}'
    # exposed is not published: port has nothing to say
    run berth port flaskish
    assert_success
    assert_output ""
    run berth port flaskish 5000
    assert_failure
    assert_output "berth: No public port '5000/tcp' published for flaskish"

    # --expose (a range, udp) and -p (a range, another host port) next to the image's port
    berth run -d --name ranges --expose 7000-7002 --expose 53/udp -p 8000-8002:8000-8002 -p 8080:80 \
        exposed:5000 sleep 1000
    run berth ps --filter name=ranges --format '{{.Ports}}'
    assert_output "5000/tcp, 53/udp, 7000-7002/tcp, 0.0.0.0:8000-8002->8000-8002/tcp, 0.0.0.0:8080->80/tcp"
    run berth inspect -f '{{json .Config.ExposedPorts}}' ranges
    assert_output '{"5000/tcp":{},"53/udp":{},"7000/tcp":{},"7001/tcp":{},"7002/tcp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{},"8002/tcp":{}}'
    run berth port ranges 8001
    assert_output "0.0.0.0:8001"
    # a stopped container shows none
    berth stop -t 1 ranges >/dev/null
    run berth ps -a --filter name=ranges --format '{{.Ports}}'
    assert_output ""

    # -P publishes what --expose exposes
    berth run -d --name pexp -P --expose 7100 busybox sleep 1000
    run berth port pexp 7100
    assert_success
    [[ $output =~ ^0\.0\.0\.0:[0-9]+$ ]] || _fail "not published"

    # --expose takes no host part
    run berth run --expose 80:80 busybox true
    assert_status 125
    assert_output "berth: invalid range format for --expose: 80:80 (PORT[-END][/PROTO])"
    run berth run --expose 70000 busybox true
    assert_status 125
    assert_output_contains "--expose 70000: invalid containerPort: 70000"
    berth rm -f flaskish ranges pexp >/dev/null
    berth rmi exposed:5000 >/dev/null
}

@test "a container reaches out through the gateway" {
    echo outside >"$BATS_FILE_TMPDIR/out.txt"
    # the bridge exists once a container used it
    berth run --rm busybox true
    busybox httpd -f -p 172.17.0.1:9099 -h "$BATS_FILE_TMPDIR" &
    httpd=$!
    wait_until 5 curl -sf http://172.17.0.1:9099/out.txt
    run berth run --rm busybox wget -qO- http://172.17.0.1:9099/out.txt
    kill $httpd
    assert_success
    assert_output outside
    run berth run --rm busybox ping -c1 -W2 172.17.0.1
    assert_success
    run berth run --rm busybox ip route
    assert_output_contains "default via 172.17.0.1 dev eth0"
}

@test "UDP through a published udp port" {
    berth run -d --name udp -p 5353:5353/udp -v "$BATS_FILE_TMPDIR/udpecho:/udpecho:ro" busybox /udpecho serve 5353
    run berth port udp
    assert_output "5353/udp -> 0.0.0.0:5353"
    run "$BATS_FILE_TMPDIR/udpecho" send 127.0.0.1 5353 ping-over-udp
    assert_success
    assert_output ping-over-udp
}

@test "containers on a user network reach each other by name" {
    run berth network create netA
    assert_success
    [[ $output =~ ^[0-9a-f]{64}$ ]]
    run berth network ls
    assert_line_matches '^[0-9a-f]{12} +netA +bridge +local$'
    assert_line_matches '^[0-9a-f]{12} +bridge +bridge +local$'
    assert_line_matches '^[0-9a-f]{12} +none +null +local$'
    subnet=$(berth network inspect netA | grep -o '"Subnet": "[^"]*"')
    [ "$subnet" = '"Subnet": "172.18.0.0/16"' ]
    berth run -d --name alpha --network netA busybox httpd -f -p 80 -h /www
    run berth run --rm --name beta --network netA busybox wget -qO- http://alpha/
    assert_success
    [ -n "$output" ]
    run berth run --rm --network netA busybox ping -c1 -W2 alpha
    assert_success
    # the newcomer is in alpha's hosts file while it lives, gone after
    berth run -d --name gamma --network netA busybox sleep 1000
    run berth exec alpha cat /etc/hosts
    assert_line_matches $'^172\\.18\\.0\\.[0-9]+\tgamma$'
    berth rm -f gamma
    run berth exec alpha cat /etc/hosts
    assert_output_not_contains gamma
    run berth network inspect netA
    assert_output_contains '"Name": "alpha"'
    # a container on the default bridge does not know the names
    run berth run --rm busybox ping -c1 -W1 alpha
    assert_failure
}

@test "--network-alias: more names on a user network, refused on the default bridge" {
    berth network create netA >/dev/null
    berth run -d --name alpha --network netA --network-alias www --network-alias api.local busybox \
        httpd -f -p 80 -h /www
    run berth run --rm --network netA busybox sh -c 'ping -c1 -W2 www >/dev/null && ping -c1 -W2 api.local >/dev/null && cat /etc/hosts'
    assert_success
    assert_line_matches $'^172\\.18\\.0\\.[0-9]+\talpha www api\\.local$'
    run berth inspect -f '{{json .NetworkSettings.Networks.netA.Aliases}}' alpha
    assert_output '["www","api.local"]'
    before=$(berth ps -aq | wc -l)
    run --separate-stderr berth run --rm --network-alias x busybox true
    assert_status 125
    [ "$stderr" = "berth: network-scoped aliases are supported only for containers in user defined networks" ] ||
        _fail "stderr: $stderr"
    run --separate-stderr berth run --rm --network netA --network-alias 'a b' busybox true
    assert_status 125
    [[ "$stderr" == "berth: invalid network alias 'a b'"* ]] || _fail "stderr: $stderr"
    [ "$(berth ps -aq | wc -l)" -eq "$before" ] || _fail "a container was created"
}

@test "network rm of a network in use is refused; create checks its input" {
    berth network create --subnet 10.77.0.0/24 netB
    berth run -d --name user --network netB busybox sleep 1000
    run berth inspect -f '{{.NetworkSettings.IPAddress}}' user
    assert_output 10.77.0.2
    run berth network rm netB
    assert_failure
    assert_output_contains "berth: error while removing network: network netB id"
    assert_output_contains "has active endpoints"
    [ "${#lines[@]}" -eq 1 ]
    run berth network create netB
    assert_failure
    assert_output "berth: network with name netB already exists"
    run berth network create --subnet 10.77.0.0/16 netC
    assert_failure
    assert_output "berth: invalid pool request: subnet 10.77.0.0/16 overlaps with a subnet of another network"
    run berth network rm bridge
    assert_output "berth: bridge is a pre-defined network and cannot be removed"
    # its subnet is masqueraded while it exists
    run nft list set ip berth subnets
    assert_output_contains 10.77.0.0/24
    run berth run --rm --network nosuchnet busybox true
    assert_status 125
    assert_output "berth: network nosuchnet not found"
    berth rm -f user
    bridge=$(berth network inspect netB | grep -o 'br-[0-9a-f]*' | head -1)
    [ -e "/sys/class/net/$bridge" ]
    run berth network rm netB
    assert_success
    [ ! -e "/sys/class/net/$bridge" ]
    run nft list set ip berth subnets
    assert_output_not_contains 10.77.0.0/24
    run berth network inspect netB
    assert_failure
}

@test "a port clash gives one clear line and leaves nothing behind" {
    berth run -d --name first -p 8081:80 busybox httpd -f -p 80 -h /www
    before=$(ls /var/lib/berth/containers | wc -l)
    run berth run -d --name second -p 8081:80 busybox httpd -f -p 80 -h /www
    assert_status 125
    assert_output "berth: Bind for 0.0.0.0:8081/tcp failed: port is already allocated (by container first)"
    [ "$(ls /var/lib/berth/containers | wc -l)" -eq "$before" ]
    run berth inspect second
    assert_failure
    # a port a host process listens on
    busybox nc -l -p 8082 >/dev/null 2>&1 &
    nc=$!
    wait_until 5 bash -c 'ss -ltn | grep -q ":8082 "'
    run berth run --rm -p 8082:80 busybox true
    kill $nc || true
    assert_status 125
    assert_output "berth: Bind for 0.0.0.0:8082/tcp failed: address already in use on the host"
    run berth run --rm -p 99999:80 busybox true
    assert_status 125
    assert_output "berth: -p 99999:80: invalid hostPort: 99999"
    run berth run --rm -p 8085:80 -p 8085:81 busybox true
    assert_status 125
    assert_output "berth: host port 8085/tcp is published twice"
    [ "$(ls /var/lib/berth/containers | wc -l)" -eq "$before" ]
}

@test "after kill -9 of the container's process no veth, nft rule, address or port is left" {
    id=$(berth run -d --name doomed -p 8083:80 busybox httpd -f -p 80 -h /www)
    veth=veth${id:0:11}
    [ -e "/sys/class/net/$veth" ]
    run nft list map ip berth tcp_any
    assert_output_contains "8083 comment \"$id\" : 172.17.0."
    grep -q "$id" /run/berth/networks/bridge.json
    grep -q "$id" /run/berth/networks/ports.json
    kill -9 "$(berth inspect -f '{{.State.Pid}}' doomed)"
    wait_until 20 bash -c '[ "$(berth inspect -f "{{.State.Status}}" doomed)" = exited ]'
    [ "$(systemctl show -p ActiveState --value berth-doomed.service)" != active ]
    # the kernel deletes the veth with the container's network namespace,
    # right after the stop hook
    wait_until 5 test ! -e "/sys/class/net/$veth"
    run nft list ruleset
    assert_output_not_contains "$id"
    assert_output_not_contains 8083
    run cat /run/berth/networks/bridge.json /run/berth/networks/ports.json
    assert_output_not_contains "$id"
    run berth ps -a --format '{{.Ports}}'
    assert_output ""
    # the port is free again
    berth rm doomed
    berth run -d --name reborn -p 8083:80 busybox httpd -f -p 80 -h /www
    wait_until 10 curl -sf -m 3 http://127.0.0.1:8083/ || { net_diag; false; }
}

@test "--rm containers clean up on exit too" {
    berth run --rm -p 8084:80 busybox true
    run nft list table ip berth
    assert_success
    assert_output_not_contains 8084
    run cat /run/berth/networks/ports.json
    assert_output_not_contains 8084
    wait_until 5 no_veth
}

@test "the owner of a joined network namespace stops: its interface goes at once, its address is free" {
    berth run -d --name owner2 busybox sleep 1000 >/dev/null
    id=$(berth inspect -f '{{.Id}}' owner2)
    berth run -d --name joiner2 --network container:owner2 busybox sleep 1000 >/dev/null
    run berth exec joiner2 ip -4 -o addr show eth0
    assert_success
    [ -e "/run/berth/netns-joiners/$(berth inspect -f '{{.Id}}' joiner2)" ]
    berth stop -t 1 owner2 >/dev/null
    # the joiner still holds the namespace: the stop hook took the veth
    # down itself, so the joiner has no eth0 left
    [ ! -e "/sys/class/net/veth${id:0:11}" ]
    run berth exec joiner2 ip link show eth0
    assert_failure
    run cat /run/berth/networks/bridge.json
    assert_output_not_contains "$id"
    berth rm -f joiner2 >/dev/null
    [ -z "$(ls /run/berth/netns-joiners)" ] || _fail "marks left: $(ls /run/berth/netns-joiners)"
}

@test "--network none has only lo; --network host sees the harness' interfaces" {
    run berth run --rm --network none busybox ls /sys/class/net
    assert_success
    assert_output lo
    berth run --rm busybox true # makes berth0
    # (its veth goes with its network namespace, a moment after)
    wait_until 5 no_veth
    run berth run --rm --network host busybox ls /sys/class/net
    assert_success
    assert_equal "$output" "$(ls /sys/class/net)"
    assert_output_contains berth0
    run berth run --rm --network host -p 80:80 busybox true
    assert_success
    assert_output_contains "WARNING: Published ports are discarded when using host network mode"
}

@test "--network container:NAME shares the other container's network" {
    berth run -d --name owner busybox httpd -f -p 80 -h /www
    ip=$(berth inspect -f '{{.NetworkSettings.IPAddress}}' owner)
    run berth run --rm --network container:owner busybox ip -4 addr show eth0
    assert_success
    assert_output_contains "inet $ip/16"
    run berth run --rm --network container:owner busybox wget -qO- http://127.0.0.1/
    assert_success
}
