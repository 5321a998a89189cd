#!/usr/bin/env bats
# A user's container network (issue 17): pasta, started by the shim in the
# container's unit, is a user's default network and `--network pasta`;
# -p becomes its port forwards. The harness' uplink0 (10.99.0.2/24, default
# route via 10.99.0.1, see tests/harness/init.sh) is the "host interface"
# pasta copies into the container.

load helpers

# An address of the guest's that is not the one pasta copies (which is the
# container's own then), with a TCP server on it.
GUEST_IP=10.99.1.1
GUEST_PORT=8765

setup_file() {
    ensure_busybox_image
    rootless_user_setup
    ensure_user_busybox_image
    guest_server_start "$GUEST_IP" "$GUEST_PORT"
}

teardown_file() {
    guest_server_stop
}

teardown() {
    local ids
    ids=$(as_user berth ps -aq)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
    ids=$(as_user berth ps -aq)
    [ -z "$ids" ] || { echo "teardown: containers of $ROOTLESS_USER left: $ids" >&2; return 1; }
}

# pasta's processes of the user (its binary may be passt.avx2: the command
# line is what tells)
user_pasta() {
    pgrep -u "$ROOTLESS_USER" -f '^pasta '
}

no_user_pasta() {
    if user_pasta >/dev/null; then
        return 1
    fi
}

# user_container_is NAME STATUS
user_container_is() {
    [ "$(as_user berth inspect -f '{{.State.Status}}' "$1")" = "$2" ]
}

@test "rootless net: the default network is pasta, with an address, a route and the guest's TCP server reachable" {
    run --separate-stderr as_user berth run --rm busybox ip -o -4 addr show eth0
    assert_success
    assert_output_contains "inet 10.99.0.2/24"
    run --separate-stderr as_user berth run --rm busybox ip route show default
    assert_success
    assert_output_contains "default via 10.99.0.1 dev eth0"
    run --separate-stderr as_user berth run --rm busybox wget -qO- "http://$GUEST_IP:$GUEST_PORT/greeting"
    assert_success
    assert_output "hello from the guest"
    # nothing of pasta's on the user's terminal, and nothing left of it
    assert_equal "$stderr" ""
    run user_pasta
    assert_failure

    as_user berth run -d --name netmode busybox sleep 300
    run as_user berth inspect -f '{{.HostConfig.NetworkMode}}' netmode
    assert_output pasta
    run as_user berth ps --format '{{.Names}} {{.Networks}}'
    assert_output "netmode pasta"
}

@test "rootless net: -p 8080:80 serves from the container; port and ps show it; the port is free again after stop" {
    as_user berth run -d --name web -p 8080:80 busybox \
        sh -c 'echo hello-from-rootless-web >/www/index.html && exec httpd -f -p 80 -h /www'
    wait_until 10 curl -sf http://127.0.0.1:8080/
    run curl -sf http://127.0.0.1:8080/
    assert_success
    assert_output hello-from-rootless-web
    run as_user berth port web
    assert_success
    assert_output "80/tcp -> 0.0.0.0:8080"
    run as_user berth ps --format '{{.Names}} {{.Ports}}'
    assert_output "web 0.0.0.0:8080->80/tcp"
    # the host port is the user's: pasta listens on it, as the user
    run ss -Htlne 'sport = :8080'
    assert_output_contains "uid:$ROOTLESS_UID "

    # a second container cannot have it
    run --separate-stderr as_user berth run -d --name web2 -p 8080:80 busybox sleep 300
    assert_failure
    [ "${#stderr_lines[@]}" -eq 1 ] || _fail "expected one line: $stderr"
    [[ $stderr == "berth: Bind for 0.0.0.0:8080/tcp failed: "* ]] || _fail "got: $stderr"

    as_user berth stop web
    run as_user berth ps --format '{{.Names}} {{.Ports}}' -a
    assert_output "web "
    run curl -s -m 2 http://127.0.0.1:8080/
    assert_failure
    as_user berth rm web
    as_user berth run -d --name web3 -p 8080:80 busybox sleep 300
    run as_user berth port web3 80
    assert_output "0.0.0.0:8080"

    # an address of the host's only, and a random host port
    as_user berth run -d --name web4 -p 127.0.0.1:8085:80 -p 81 busybox \
        sh -c 'echo four >/www/index.html && httpd -p 81 -h /www && exec httpd -f -p 80 -h /www'
    run as_user berth port web4 81
    [[ $output =~ ^0\.0\.0\.0:([0-9]+)$ ]] || _fail "got: $output"
    wait_until 10 curl -sf "http://127.0.0.1:${BASH_REMATCH[1]}/"
    wait_until 10 curl -sf http://127.0.0.1:8085/
    run ss -Htln 'sport = :8085'
    assert_output_contains "127.0.0.1:8085"
    run curl -s -m 2 http://10.99.0.2:8085/
    assert_failure
}

@test "rootless net: pasta lives in the container's unit and is gone after berth stop" {
    as_user berth run -d --name p1 -p 8082:80 busybox sleep 300
    run user_pasta
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "expected one pasta: $output"
    pid=${lines[0]}
    run grep -c 'berth-p1.service' "/proc/$pid/cgroup"
    assert_success
    run as_user berth stop p1
    assert_success
    run user_pasta
    assert_failure
    run pgrep -u "$ROOTLESS_USER" -f 'pasta|passt'
    assert_failure

    # the same when the container's command ends by itself
    as_user berth run -d --name p2 -p 8083:80 busybox sleep 1
    wait_until 10 user_container_is p2 exited
    wait_until 5 no_user_pasta

    # and after kill -9 of its process: the port is free again too
    as_user berth run -d --name p3 -p 8084:80 busybox sleep 300
    kill -9 "$(as_user berth inspect -f '{{.State.Pid}}' p3)"
    wait_until 10 user_container_is p3 exited
    wait_until 5 no_user_pasta
    as_user berth run -d --name p4 -p 8084:80 busybox sleep 300
    run as_user berth port p4 80
    assert_output "0.0.0.0:8084"
}

@test "rootless net: a privileged host port is one line and leaves no container" {
    run --separate-stderr as_user berth run -d --name low -p 80:80 busybox sleep 300
    assert_failure
    assert_equal "$stderr" "berth: cannot publish host port 80/tcp as a user: ports below 1024 (net.ipv4.ip_unprivileged_port_start) need root"
    run as_user berth ps -aq
    assert_output ""
    run --separate-stderr as_user berth create --name low -p 127.0.0.1:53:53/udp busybox true
    assert_failure
    assert_equal "$stderr" "berth: cannot publish host port 53/udp as a user: ports below 1024 (net.ipv4.ip_unprivileged_port_start) need root"
    run as_user berth ps -aq
    assert_output ""
}

@test "rootless net: --network none has only lo; a container on pasta cannot be connected to a network" {
    run --separate-stderr as_user berth run --rm --network none busybox ip -o link show
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "expected lo alone: $output"
    assert_output_contains "1: lo:"

    as_user berth network create usernet >/dev/null
    # nor can a container on pasta be connected to one
    as_user berth run -d --name onpasta busybox sleep 300
    run --separate-stderr as_user berth network connect usernet onpasta
    assert_failure
    assert_equal "$stderr" "berth: container onpasta uses --network pasta: it cannot be connected to or disconnected from other networks"
    as_user berth rm -f onpasta >/dev/null
    as_user berth network rm usernet >/dev/null
    run as_user berth ps -aq
    assert_output ""
}

@test "rootless net: --network pasta:OPTIONS reach pasta; bad ones are one line" {
    # pasta's own option: the interface named as asked
    run --separate-stderr as_user berth run --rm --network pasta:-I,tap0 busybox ip -o -4 addr show tap0
    assert_success
    assert_output_contains "inet 10.99.0.2/24"
    run --separate-stderr as_user berth run --rm --network pasta:--netns,/run/netns/x busybox true
    assert_failure
    assert_equal "$stderr" "berth: invalid --network pasta:--netns,/run/netns/x: berth sets --netns itself (pasta runs in the background on the container's namespace)"
    # one pasta refuses is its message, and no container runs
    run --separate-stderr as_user berth run --rm --network pasta:--no-such-option busybox true
    assert_failure
    [ "${#stderr_lines[@]}" -eq 1 ] || _fail "expected one line: $stderr"
    [[ $stderr == "berth: failed to start container "*": pasta could not set up the network of "*": pasta: unrecognized option '--no-such-option'" ]] ||
        _fail "got: $stderr"
    run as_user berth ps -aq
    assert_output ""
    run user_pasta
    assert_failure
}

@test "rootless net: root has no pasta; a network named pasta is refused" {
    run --separate-stderr berth run --rm --network pasta busybox true
    assert_failure
    assert_equal "$stderr" "berth: --network pasta is for a user's containers: root's use bridge networks"
    run --separate-stderr berth network create pasta
    assert_failure
    assert_equal "$stderr" "berth: network name pasta is reserved: --network pasta is a user's network"
}

@test "rootless net: --network container:NAME shares a user's container's network, on pasta and on a user network" {
    as_user berth run -d --name srv busybox \
        sh -c 'mkdir -p /www && echo served-to-the-joiner >/www/index.html && exec httpd -f -p 127.0.0.1:80 -h /www'
    run --separate-stderr as_user berth run --rm --network container:srv busybox wget -qO- http://127.0.0.1/
    assert_success
    assert_output served-to-the-joiner
    # the same interfaces: the joiner is in srv's network namespace
    srvpid=$(as_user berth inspect -f '{{.State.Pid}}' srv)
    as_user berth run -d --name joiner --network container:srv busybox sleep 300
    joinpid=$(as_user berth inspect -f '{{.State.Pid}}' joiner)
    [ "$(readlink "/proc/$srvpid/ns/net")" = "$(readlink "/proc/$joinpid/ns/net")" ]
    run grep '^Uid:' "/proc/$joinpid/status"
    assert_output "Uid:	$ROOTLESS_UID	$ROOTLESS_UID	$ROOTLESS_UID	$ROOTLESS_UID"
    as_user berth rm -f joiner >/dev/null

    # one on a user network reaches that network's members by name
    as_user berth network create shared >/dev/null
    as_user berth run -d --name member --network shared busybox \
        sh -c 'mkdir -p /www && echo member-page >/www/index.html && exec httpd -f -h /www'
    as_user berth run -d --name onnet --network shared busybox sleep 300
    run --separate-stderr as_user berth run --rm --network container:onnet busybox wget -qO- "http://$(as_user berth inspect -f '{{.NetworkSettings.Networks.shared.IPAddress}}' member)/"
    assert_success
    assert_output member-page

    # a stopped one cannot be joined: one line, nothing left
    as_user berth stop -t 1 srv >/dev/null
    run --separate-stderr as_user berth run --rm --network container:srv busybox true
    assert_failure
    [[ $stderr == *"cannot join the network of container srv: it is not running"* ]] || _fail "got: $stderr"
    [ "$(as_user berth ps -aq | wc -l)" -eq 3 ] || _fail "a container was left: $(as_user berth ps -a)"
    as_user berth rm -f member onnet >/dev/null
    as_user berth network rm shared >/dev/null
}
