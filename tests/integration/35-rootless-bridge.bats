#!/usr/bin/env bats
# A user's bridge networks (issue 17): `berth network create` and
# `--network NAME` as a user. They live in the network namespace that the
# user's berth-netns.service holds (its way out is pasta); the user's
# containers on them reach each other by name, as root's do. The harness'
# uplink0 (10.99.0.2/24, default route via 10.99.0.1) is the host
# interface pasta copies into that namespace.

load helpers

GUEST_IP=10.99.1.1
GUEST_PORT=8766

setup_file() {
    rootless_user_setup
    ensure_user_busybox_image
    guest_server_start "$GUEST_IP" "$GUEST_PORT"
}

teardown_file() {
    guest_server_stop
}

USER_DEFS_REL=.config/berth/containers

teardown() {
    local ids n
    for u in $(as_user systemctl --user list-units --all --no-legend --plain 'container@*' | awk '{print $1}'); do
        as_user systemctl --user stop "$u"
    done
    rm -rf "/home/$ROOTLESS_USER/$USER_DEFS_REL"
    as_user systemctl --user daemon-reload
    ids=$(as_user berth ps -aq)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
    for n in $(as_user berth network ls --format '{{.Name}}'); do
        case $n in bridge | host | none) ;; *) as_user berth network rm "$n" >/dev/null ;; esac
    done
    [ -z "$(as_user berth ps -aq)" ] || { echo "teardown: containers left" >&2; return 1; }
}

holder_state() {
    as_user systemctl --user is-active berth-netns.service
}

holder_gone() {
    [ "$(holder_state)" = inactive ]
}

# user_container_is NAME STATUS
user_container_is() {
    [ "$(as_user berth inspect -f '{{.State.Status}}' "$1")" = "$2" ]
}

# web NAME NETWORK...: a busybox httpd serving "served-by-NAME"
web() {
    local name=$1
    shift
    local nets=()
    for n in "$@"; do nets+=(--network "$n"); done
    as_user berth run -d --name "$name" "${nets[@]}" busybox \
        sh -c "mkdir -p /www && echo served-by-$name >/www/index.html && exec httpd -f -h /www"
}

@test "user network: containers reach each other by name; root is the user on the host; the unit holds the namespace" {
    as_user berth network create front >/dev/null
    run holder_state
    assert_output inactive
    web web front
    # systemd started the namespace's unit first, and binds the container to it
    run holder_state
    assert_output active
    run as_user systemctl --user show -p BindsTo -p After --value berth-web.service
    assert_output_contains berth-netns.service
    run as_user berth run --rm --network front busybox wget -qO- http://web/
    assert_success
    assert_output served-by-web
    # an address of front's subnet, in inspect and in the container alike
    ip=$(as_user berth inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' web)
    subnet=$(as_user berth network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' front)
    [[ $subnet == "${ip%.*}".0/* || $subnet == "${ip%.*.*}".0.0/* ]] || _fail "$ip is not in $subnet"
    run as_user berth exec web ip -o -4 addr show eth0
    assert_output_contains "inet $ip/"
    # the container's root is the user; the namespace's processes are the user's
    pid=$(as_user berth inspect -f '{{.State.Pid}}' web)
    run grep '^Uid:' "/proc/$pid/status"
    assert_output "Uid:	$ROOTLESS_UID	$ROOTLESS_UID	$ROOTLESS_UID	$ROOTLESS_UID"
    holder=$(as_user systemctl --user show -p MainPID --value berth-netns.service)
    run stat -c %u "/proc/$holder"
    assert_output "$ROOTLESS_UID"
    # the bridge is in the user's namespace, not the host's
    bridge=$(as_user berth network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' front)
    run ip link show "$bridge"
    assert_failure
    run nsenter -t "$holder" -U -n --preserve-credentials ip -o link show "$bridge"
    assert_success
}

@test "user network: the way out goes through pasta; a second network is isolated; aliases, connect and disconnect" {
    as_user berth network create front >/dev/null
    as_user berth network create back >/dev/null
    web web front
    run as_user berth run --rm --network front busybox wget -qO- "http://$GUEST_IP:$GUEST_PORT/greeting"
    assert_success
    assert_output "hello from the guest"

    as_user berth run -d --name db --network back --network-alias store busybox sleep 300
    run as_user berth exec db grep -w web /etc/hosts
    assert_failure
    run as_user berth run --rm --network back busybox wget -qO- -T 3 "http://$(as_user berth inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' web)/"
    assert_failure
    run as_user berth run --rm --network back busybox grep -w store /etc/hosts
    assert_success

    as_user berth network connect front db
    run as_user berth exec db wget -qO- http://web/
    assert_success
    assert_output served-by-web
    run as_user berth inspect -f '{{len .NetworkSettings.Networks}}' db
    assert_output 2
    as_user berth network disconnect front db
    run as_user berth exec db grep -w web /etc/hosts
    assert_failure
    run as_user berth inspect -f '{{len .NetworkSettings.Networks}}' db
    assert_output 1
}

@test "user network: -p publishes through a pasta of the container's own, which is its eth0; the bridge is eth1" {
    as_user berth network create front >/dev/null
    web web front
    as_user berth run -d --name pub --network front -p 8091:80 busybox \
        sh -c 'mkdir -p /www && echo published-on-front >/www/index.html && exec httpd -f -h /www'
    run curl -sf http://127.0.0.1:8091/
    assert_success
    assert_output published-on-front
    run as_user berth port pub
    assert_output "80/tcp -> 0.0.0.0:8091"
    # the peers by name over eth1, the way out over pasta's eth0
    run as_user berth exec pub wget -qO- http://web/
    assert_output served-by-web
    run as_user berth exec pub ip route show default
    assert_output_contains "dev eth0"
    ip=$(as_user berth inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' pub)
    run as_user berth exec pub ip -o -4 addr show eth1
    assert_output_contains "inet $ip/"
    run as_user berth exec pub wget -qO- "http://$GUEST_IP:$GUEST_PORT/greeting"
    assert_output "hello from the guest"
    # its peers reach it by name
    run as_user berth exec web wget -qO- http://pub/
    assert_output published-on-front
    # the port is given back at stop
    as_user berth rm -f pub >/dev/null
    run curl -s -m 2 http://127.0.0.1:8091/
    assert_failure
    run as_user berth run -d --name pub2 --network front -p 8091:80 busybox sleep 300
    assert_success
}

@test "user network: a privileged port is one line and leaves no container; bridge and default are the user's pasta" {
    as_user berth network create front >/dev/null
    run --separate-stderr as_user berth run -d --network front -p 81:80 busybox true
    assert_failure
    assert_equal "$stderr" "berth: cannot publish host port 81/tcp as a user: ports below 1024 (net.ipv4.ip_unprivileged_port_start) need root"
    run as_user berth ps -aq
    assert_output ""
    for net in bridge default; do
        as_user berth run -d --name "on-$net" --network "$net" busybox sleep 300
        run as_user berth inspect -f '{{.HostConfig.NetworkMode}}' "on-$net"
        assert_output pasta
    done
    run holder_state
    assert_output inactive
}

@test "user network: the unit stops with the last container, nothing is left, and it comes back working" {
    as_user berth network create front >/dev/null
    web web front
    run holder_state
    assert_output active
    as_user berth rm -f web >/dev/null
    wait_until 10 holder_gone
    run pgrep -u "$ROOTLESS_USER" -f 'berth-runtime _netns|^pasta '
    assert_failure
    [ ! -e "/run/user/$ROOTLESS_UID/berth/netns.pid" ]
    run as_user berth network inspect -f '{{len .Containers}}' front
    assert_output 0
    # a new namespace: the bridge, its address and its masquerade again
    web web2 front
    run as_user berth run --rm --network front busybox wget -qO- http://web2/
    assert_output served-by-web2
    run as_user berth run --rm --network front busybox wget -qO- "http://$GUEST_IP:$GUEST_PORT/greeting"
    assert_output "hello from the guest"
    # stopping the unit stops its containers (BindsTo=)
    as_user systemctl --user stop berth-netns.service
    wait_until 10 user_container_is web2 exited
    # the network can go now, and its containers are not on it
    as_user berth rm web2 >/dev/null
    run as_user berth network rm front
    assert_success
}

@test "user network: a definition with Network=NAME runs on it, under systemctl --user" {
    as_user berth network create front >/dev/null
    as_user sh -c "mkdir -p ~/$USER_DEFS_REL && cat > ~/$USER_DEFS_REL/api.container" <<'EOF'
[Container]
Image=busybox
Exec=sh -c 'mkdir -p /www && echo served-by-definition >/www/index.html && exec httpd -f -h /www'
Network=front
EOF
    as_user systemctl --user daemon-reload
    run grep -x 'BindsTo=berth-netns.service' "/run/user/$ROOTLESS_UID/systemd/generator/container@api.service.d/50-berth.conf"
    assert_success
    as_user systemctl --user start container@api.service
    run holder_state
    assert_output active
    run as_user berth run --rm --network front busybox wget -qO- http://api/
    assert_success
    assert_output served-by-definition
    # a definition sharing its network: Network=container:api
    as_user sh -c "cat > ~/$USER_DEFS_REL/side.container" <<'EOF'
[Container]
Image=busybox
Exec=sleep 300
Network=container:api
EOF
    as_user systemctl --user daemon-reload
    as_user systemctl --user start container@side.service
    run as_user berth exec side wget -qO- http://127.0.0.1/
    assert_success
    assert_output served-by-definition
    [ "$(readlink "/proc/$(as_user berth inspect -f '{{.State.Pid}}' side)/ns/net")" = \
      "$(readlink "/proc/$(as_user berth inspect -f '{{.State.Pid}}' api)/ns/net")" ]
    as_user systemctl --user stop container@side.service container@api.service
    wait_until 10 holder_gone
}

@test "user network: when its namespace cannot be made, the start fails in one line naming the unit, and leaves the store as it was" {
    as_user berth network create front >/dev/null
    # pasta that fails: the namespace has no way out, the unit fails
    mount --bind /bin/false "$(readlink -f "$(command -v pasta)")"
    run --separate-stderr as_user berth run -d --name nope --network front busybox true
    umount "$(readlink -f "$(command -v pasta)")"
    assert_failure
    assert_equal "$stderr" "berth: container nope failed to start: the user's networks (berth-netns.service) failed: see 'journalctl --user -t berth-netns'"
    run as_user systemctl --user is-failed berth-netns.service
    assert_output failed
    # where the line says: the holder's own words
    holder_said() { as_user journalctl --user --no-pager -o cat -t berth-netns | grep -q 'have no way out'; }
    wait_until 10 holder_said
    # the container is there, not running; the network has no members
    run as_user berth inspect -f '{{.State.Status}}' nope
    assert_output created
    run as_user berth network inspect -f '{{len .Containers}}' front
    assert_output 0
    # and with pasta back, it starts
    as_user systemctl --user reset-failed berth-netns.service
    as_user berth start nope >/dev/null
    wait_until 10 user_container_is nope exited
}

@test "user network: enabled, berth-netns.service stays without containers, and each berth command joins its user namespace" {
    as_user systemctl --user enable --now berth-netns.service
    run holder_state
    assert_output active
    holder=$(as_user systemctl --user show -p MainPID --value berth-netns.service)
    # a berth command works in the holder's user namespace, not one of its own
    run as_user berth unshare readlink /proc/self/ns/user
    assert_success
    assert_output "$(readlink "/proc/$holder/ns/user")"
    run as_user berth run --rm --network none busybox echo joined
    assert_output joined
    # no container needs it, and it stays
    sleep 1
    run holder_state
    assert_output active
    as_user systemctl --user disable --now berth-netns.service
    run holder_state
    assert_output inactive
    # now each command makes its own again
    run as_user berth unshare readlink /proc/self/ns/user
    assert_success
    [ "$output" != "$(readlink /proc/self/ns/user)" ] || _fail "berth unshare ran in the host's user namespace"
}
