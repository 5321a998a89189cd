#!/usr/bin/env bats
# Containers on several user networks at once: repeated --network (and the
# long form name=NET,alias=A,ip=IP), names and aliases per network, network
# connect/disconnect of running and stopped containers, restart, cleanup,
# definition files with several Network= lines.
# Runs in the harness' own network namespace (boot.sh), never the host's.

load helpers

setup_file() {
    ensure_busybox_image
}

setup() {
    berth network create --subnet 10.81.0.0/24 front >/dev/null
    berth network create --subnet 10.82.0.0/24 back >/dev/null
}

teardown() {
    remove_all_containers
    for n in front back third; do
        if berth network inspect "$n" >/dev/null 2>&1; then
            berth network rm "$n" >/dev/null
        fi
    done
}

# the first address of NAME's /etc/hosts lines in container C
hosts_ip() {
    berth exec "$1" sh -c "grep -w '$2' /etc/hosts | head -n1 | cut -f1"
}

@test "a container on two networks has eth0 and eth1 and reaches a member of each by name" {
    berth run -d --name web --network front busybox httpd -f -p 80 -h /www
    berth run -d --name db --network back --network-alias database busybox httpd -f -p 80 -h /www
    berth run -d --name api --network front --network name=back,alias=apiback busybox sleep 1000
    run berth exec api ip -o -4 addr show
    assert_line_matches '^[0-9]+: eth0 +inet 10\.81\.0\.[0-9]+/24 '
    assert_line_matches '^[0-9]+: eth1 +inet 10\.82\.0\.[0-9]+/24 '
    # the default route is the first network's
    run berth exec api ip route show default
    assert_output_contains "via 10.81.0.1 dev eth0"
    run berth exec api ping -c1 -W2 web
    assert_success
    run berth exec api ping -c1 -W2 db
    assert_success
    run berth exec api ping -c1 -W2 database
    assert_success
    run berth exec api wget -qO- http://db/
    assert_success
    # each side knows api by the name on its own network, and the alias
    # only where it was given
    [ "$(hosts_ip web api)" = "$(berth inspect -f '{{.NetworkSettings.Networks.front.IPAddress}}' api)" ]
    [ "$(hosts_ip db api)" = "$(berth inspect -f '{{.NetworkSettings.Networks.back.IPAddress}}' api)" ]
    run berth exec db ping -c1 -W2 apiback
    assert_success
    run berth exec web ping -c1 -W2 apiback
    assert_failure
    # a container on one network only does not know the other's members
    run berth exec web ping -c1 -W2 db
    assert_failure
    run berth exec db ping -c1 -W2 web
    assert_failure
    # nor by address: the host does not route from one network to another
    run berth exec web ping -c1 -W2 "$(berth inspect -f '{{.NetworkSettings.IPAddress}}' db)"
    assert_failure
    run nft list chain ip berth forward
    assert_output_contains 'iifname @bridges oifname @bridges drop'
    run berth exec api ping -c1 -W2 "$(berth inspect -f '{{.NetworkSettings.IPAddress}}' db)"
    assert_success
}

@test "inspect lists each network with its address, gateway, MAC and aliases" {
    berth run -d --name api --network name=front,alias=a1,alias=a2 --network back busybox sleep 1000
    run berth inspect -f '{{.HostConfig.NetworkMode}}' api
    assert_output front
    run berth inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.IPAddress}} {{$v.Gateway}} {{$v.MacAddress}} {{json $v.Aliases}}
{{end}}' api
    assert_line_matches '^front 10\.81\.0\.2 10\.81\.0\.1 02:42:0a:51:00:02 \["a1","a2"\]$'
    assert_line_matches '^back 10\.82\.0\.2 10\.82\.0\.1 02:42:0a:52:00:02 null$'
    # the legacy top level is the first network's
    run berth inspect -f '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}' api
    assert_output "10.81.0.2 10.81.0.1"
    run berth exec api cat /sys/class/net/eth1/address
    assert_output 02:42:0a:52:00:02
    run berth network inspect back
    assert_output_contains '"Name": "api"'
    assert_output_not_contains '"Veth"'
    run berth ps --format '{{.Names}} {{.Networks}}'
    assert_output "api front,back"
    run berth ps -q --filter network=back
    id=$(berth inspect -f '{{.Id}}' api)
    assert_output "${id:0:12}"
    run berth ps -q --filter network=bridge
    assert_output ""
}

@test "ip= in the long form picks the address; a taken one refuses the start" {
    berth run -d --name one --network name=back,ip=10.82.0.50 busybox sleep 1000
    run berth inspect -f '{{.NetworkSettings.Networks.back.IPAddress}}' one
    assert_output 10.82.0.50
    run --separate-stderr berth run -d --name two --network name=back,ip=10.82.0.50 busybox sleep 1000
    assert_failure
    [[ "$stderr" == *"address 10.82.0.50 is already in use on network back"* ]] || _fail "stderr: $stderr"
}

@test "-p publishes to the address on the first network" {
    berth run -d --name web -p 8086:80 --network back --network front busybox httpd -f -p 80 -h /www
    wait_until 10 curl -sf -m 3 -o /dev/null http://127.0.0.1:8086/ || { net_diag; false; }
    run nft list map ip berth tcp_any
    assert_output_contains "8086 comment"
    assert_output_contains ": 10.82.0.2 . 80"
    # from another network through the host's address: DNAT is let through
    run berth run --rm busybox wget -qO /dev/null http://172.17.0.1:8086/
    assert_success
}

@test "connect and disconnect a running container change its reachability and inspect" {
    berth run -d --name web --network front busybox httpd -f -p 80 -h /www
    berth run -d --name db --network back busybox sleep 1000
    run berth exec db ping -c1 -W2 web
    assert_failure
    since=$(date +%s.%N)
    run berth network connect --alias shop front db
    assert_success
    assert_output ""
    run berth exec db ip -o -4 addr show eth1
    assert_output_contains "inet 10.81.0."
    run berth exec db ping -c1 -W2 web
    assert_success
    run berth exec web ping -c1 -W2 shop
    assert_success
    run berth inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}' db
    assert_line_matches '^back=10\.82\.0\.2 front=10\.81\.0\.[0-9]+ $'
    run berth network inspect front
    assert_output_contains '"Name": "db"'
    # connected twice: refused, nothing changed
    run --separate-stderr berth network connect front db
    assert_failure
    [ "$stderr" = "berth: endpoint with name db already exists in network front" ] || _fail "stderr: $stderr"
    run berth network disconnect front db
    assert_success
    run berth exec db ping -c1 -W2 web
    assert_failure
    # nor by address, once disconnected
    run berth exec db ping -c1 -W2 "$(berth inspect -f '{{.NetworkSettings.IPAddress}}' web)"
    assert_failure
    # the events of connect and disconnect, with the container's ID
    id=$(berth inspect -f '{{.Id}}' db)
    net=$(berth network inspect front | jq -r '.[0].Id')
    run berth events --since "$since" --until "$(date +%s.%N)" --filter type=network
    assert_line_matches " network connect $net \\(container=$id, name=front, type=bridge\\)$"
    assert_line_matches " network disconnect $net \\(container=$id, name=front, type=bridge\\)$"
    run berth exec db ip -o link show
    assert_output_not_contains eth1
    run berth inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' db
    assert_output "back "
    run berth network inspect front
    assert_output_not_contains '"Name": "db"'
    run --separate-stderr berth network disconnect front db
    assert_failure
    [ "$stderr" = "berth: container db is not connected to network front" ] || _fail "stderr: $stderr"
    run berth network disconnect -f front db
    assert_success
}

@test "connect of a stopped container applies at its next start; restart keeps both networks" {
    berth run -d --name web --network front busybox httpd -f -p 80 -h /www
    berth create --name late --network back busybox sleep 1000
    berth network connect front late
    run berth inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}="{{$v.IPAddress}}" {{end}}' late
    assert_output 'back="" front="" '
    berth start late
    run berth exec late ping -c1 -W2 web
    assert_success
    berth restart late
    run berth exec late ip -o -4 addr show
    assert_line_matches '^[0-9]+: eth0 +inet 10\.82\.0\.'
    assert_line_matches '^[0-9]+: eth1 +inet 10\.81\.0\.'
    run berth exec late ping -c1 -W2 web
    assert_success
    # a stopped container disconnected: it comes back on the other only
    berth stop late
    berth network disconnect back late
    run berth inspect -f '{{.HostConfig.NetworkMode}}' late
    assert_output front
    berth start late
    run berth exec late ip -o -4 addr show
    assert_line_matches '^[0-9]+: eth0 +inet 10\.81\.0\.'
    assert_output_not_contains 10.82.0.
}

@test "the stop hook releases every address and veth; network rm refuses while in use" {
    id=$(berth run -d --name api -p 8087:80 --network front --network back busybox httpd -f -p 80 -h /www)
    berth network connect third api 2>/dev/null && _fail "connect to a missing network succeeded"
    ls /sys/class/net >"$BATS_TEST_TMPDIR/links"
    grep -q "^veth${id:0:11}\$" "$BATS_TEST_TMPDIR/links"
    grep -q "^veth${id:0:9}01\$" "$BATS_TEST_TMPDIR/links"
    grep -q "$id" /run/berth/networks/front.json
    grep -q "$id" /run/berth/networks/back.json
    run berth network rm back
    assert_failure
    assert_output_contains "has active endpoints"
    [ "${#lines[@]}" -eq 1 ]
    kill -9 "$(berth inspect -f '{{.State.Pid}}' api)"
    wait_until 20 bash -c '[ "$(berth inspect -f "{{.State.Status}}" api)" = exited ]'
    # the kernel deletes the veths with the container's network namespace
    wait_until 5 test ! -e "/sys/class/net/veth${id:0:11}"
    wait_until 5 test ! -e "/sys/class/net/veth${id:0:9}01"
    run cat /run/berth/networks/front.json /run/berth/networks/back.json /run/berth/networks/ports.json
    assert_output_not_contains "$id"
    run nft list ruleset
    assert_output_not_contains "$id"
    run berth inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}="{{$v.IPAddress}}" {{end}}' api
    assert_output 'back="" front="" '
    # not in use any more: rm works (the container record keeps its name)
    berth rm api
    berth network rm back
}

@test "bad --network combinations and connect inputs: one line, nothing created or changed" {
    berth run -d --name db --network back busybox sleep 1000
    before=$(berth ps -aq | wc -l)
    check() {
        run --separate-stderr "$@"
        [ "$status" -ne 0 ] || _fail "succeeded: $*"
        [ "${#stderr_lines[@]}" -eq 1 ] || _fail "not one line: $stderr"
        [[ "$stderr" == "berth: "* ]] || _fail "stderr: $stderr"
        echo "$stderr"
    }
    check berth run --rm --network front --network host busybox true
    [[ "$stderr" == *"--network host cannot be combined with other networks"* ]] || _fail "$stderr"
    check berth run --rm --network none --network front busybox true
    check berth run --rm --network front --network container:db busybox true
    check berth run --rm --network front --network bridge busybox true
    check berth run --rm --network front --network front busybox true
    [ "$stderr" = 'berth: network "front" is specified multiple times' ] || _fail "$stderr"
    check berth run --rm --network front --network nosuch busybox true
    check berth run --rm --network name=front,alias=x --network-alias y busybox true
    [ "$stderr" = "berth: conflicting options: cannot specify both --network-alias and per-network alias" ] ||
        _fail "$stderr"
    check berth run --rm --network name=front,mac=1 busybox true
    check berth run --rm --network name=front,ip=10.82.0.9 busybox true
    [ "$stderr" = "berth: no configured subnet contains the IP address 10.82.0.9 (network front)" ] || _fail "$stderr"
    check berth run --rm --network name=bridge,alias=x busybox true
    [ "$(berth ps -aq | wc -l)" -eq "$before" ] || _fail "a container was created"

    cfg=$(cat "/var/lib/berth/containers/$(berth inspect -f '{{.Id}}' db)/config.json")
    check berth network connect nosuch db
    check berth network connect front nosuch
    check berth network connect --alias 'a b' front db
    check berth network connect --ip 10.82.0.7 front db
    check berth network connect back db
    check berth network disconnect front db
    check berth network connect
    berth run -d --name hosty --network host busybox sleep 1000
    check berth network connect front hosty
    [ "$cfg" = "$(cat "/var/lib/berth/containers/$(berth inspect -f '{{.Id}}' db)/config.json")" ] ||
        _fail "db's record changed"
    run berth exec db ip -o link show
    assert_output_not_contains eth1
}

@test "a definition with two Network= lines joins both, NetworkAlias= on each" {
    mkdir -p /etc/berth/containers
    cat >/etc/berth/containers/mn-api.container <<'EOF'
[Container]
Image=busybox
Exec=sleep 1000
Network=front
Network=back
NetworkAlias=svc
EOF
    berth run -d --name web --network front busybox sleep 1000
    berth run -d --name db --network back busybox sleep 1000
    systemctl daemon-reload
    systemctl start container@mn-api.service
    run berth exec web ping -c1 -W2 svc
    assert_success
    run berth exec db ping -c1 -W2 svc
    assert_success
    run berth inspect -f '{{json .NetworkSettings.Networks.back.Aliases}}' mn-api
    assert_output '["svc"]'
    remove_definitions mn-api
}

@test "compose up: a service on two networks reaches each side by service name, the sides not each other" {
    D=$(mktemp -d /tmp/t86.XXXXXX)
    mkdir -p "$D/tiers"
    cat >"$D/tiers/compose.yaml" <<'YAML'
services:
  api:
    image: busybox
    command: ["sleep", "1000"]
    networks:
      frontnet: {aliases: [gateway]}
      backnet:
  ui:
    image: busybox
    command: ["sleep", "1000"]
    networks: [frontnet]
  store:
    image: busybox
    command: ["sleep", "1000"]
    networks: [backnet]
networks:
  frontnet:
  backnet:
YAML
    cd "$D/tiers"
    run berth compose up -d
    assert_success
    run berth exec tiers-api-1 ping -c1 -W2 ui
    assert_success
    run berth exec tiers-api-1 ping -c1 -W2 store
    assert_success
    run berth exec tiers-ui-1 ping -c1 -W2 gateway
    assert_success
    run berth exec tiers-store-1 ping -c1 -W2 api
    assert_success
    run berth exec tiers-store-1 ping -c1 -W2 gateway
    assert_failure
    run berth exec tiers-ui-1 ping -c1 -W2 store
    assert_failure
    run berth compose down
    assert_success
    cd /
    rm -rf "$D"
    run berth network ls
    assert_output_not_contains tiers_
}
