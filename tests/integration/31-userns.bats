#!/usr/bin/env bats
# User namespaces for root's containers: --userns=auto|host, --uidmap,
# --gidmap, --subuidname, userns-remap in /etc/berth/config.json.  The
# berth entries of /etc/subuid and /etc/subgid are made here, in the
# harness's throwaway root.

load helpers

SUB_START=200000
SUB_COUNT=262144

setup_file() {
    ensure_busybox_image
    for f in /etc/subuid /etc/subgid; do
        [ -e "$f" ] && cp "$f" "$f.berth-test-saved"
        echo "berth:$SUB_START:$SUB_COUNT" >>"$f"
        echo "other:500000:65536" >>"$f"
    done
    mkdir -p /etc/berth
    cfg=/etc/berth/config.json
    [ -s "$cfg" ] || echo '{}' >"$cfg"
    cp "$cfg" "$BATS_FILE_TMPDIR/config.json.saved"
}

teardown_file() {
    for f in /etc/subuid /etc/subgid; do
        if [ -e "$f.berth-test-saved" ]; then mv "$f.berth-test-saved" "$f"; else rm -f "$f"; fi
    done
    cp "$BATS_FILE_TMPDIR/config.json.saved" /etc/berth/config.json
}

teardown() {
    cp "$BATS_FILE_TMPDIR/config.json.saved" /etc/berth/config.json
    if [ -e /etc/berth/containers/ns31.container ]; then
        remove_definitions ns31
    fi
    remove_all_containers
}

# The host uid of the container's main process (Uid: line of /proc/PID/status).
host_uid_of() {
    local pid
    pid=$(berth inspect -f '{{.State.Pid}}' "$1")
    awk '/^Uid:/ { print $2 }' "/proc/$pid/status"
}

in_berth_range() {
    [ "$1" -ge "$SUB_START" ] && [ "$1" -lt $((SUB_START + SUB_COUNT)) ]
}

@test "--userns=auto: root in the container is an unprivileged id of the berth range on the host" {
    id=$(berth run -d --userns=auto busybox sleep 1000)
    uid=$(host_uid_of "$id")
    in_berth_range "$uid"
    run berth exec "$id" id
    assert_success
    assert_output_contains "uid=0(root) gid=0(root)"
    run berth exec "$id" cat /proc/self/uid_map
    assert_success
    [[ "$output" =~ ^[[:space:]]*0[[:space:]]+$uid[[:space:]]+65536 ]]
    run berth inspect -f '{{.HostConfig.UsernsMode}} {{index .HostConfig.IDMappings.UidMap 0}}' "$id"
    assert_output "auto 0:$uid:65536"
}

@test "files the container writes land with its mapped host ids; the image's own files keep their owners" {
    name=$(unique_name u)
    id=$(berth run -d --userns=auto --name "$name" busybox sleep 1000)
    uid=$(host_uid_of "$id")
    run berth exec "$id" sh -c 'touch /new && stat -c "%u:%g" /new /bin/busybox /'
    assert_success
    assert_equal "${lines[*]}" "0:0 0:0 0:0"
    upper=/var/lib/berth/containers/$id/upper
    assert_equal "$(stat -c %u "$upper/new")" "$uid"
}

@test "a named volume is the container root's: what it writes there has the mapped host id on the host" {
    vol=$(unique_name vol)
    id=$(berth run -d --userns=auto -v "$vol:/data" busybox sleep 1000)
    uid=$(host_uid_of "$id")
    run berth exec "$id" sh -c 'echo hi >/data/f && stat -c %u:%g /data /data/f'
    assert_success
    assert_equal "${lines[*]}" "0:0 0:0"
    src=$(berth volume inspect -f '{{.Mountpoint}}' "$vol")
    assert_equal "$(stat -c %u "$src/f")" "$uid"
    berth rm -f "$id" >/dev/null
    berth volume rm "$vol" >/dev/null
}

@test "a bind mount: host ids outside the range are nobody inside; with :idmap the host's ids show as they are" {
    dir=$BATS_TEST_TMPDIR/bind
    mkdir -p "$dir"
    echo host >"$dir/by-root"
    id=$(berth run -d --userns=auto -v "$dir:/plain" -v "$dir:/mapped:idmap" busybox sleep 1000)
    run berth exec "$id" stat -c %u:%g /plain/by-root /mapped/by-root
    assert_success
    assert_equal "${lines[*]}" "65534:65534 0:0"
    run berth exec "$id" sh -c 'echo new >/mapped/made && cat /mapped/by-root'
    assert_success
    assert_output host
    # written by the container's root through the idmapped mount: host root's on the host
    assert_equal "$(stat -c %u:%g "$dir/made")" "0:0"
    # the plain bind: container root is nobody to the directory, no writing
    run berth exec "$id" sh -c 'echo x >/plain/other'
    assert_failure
    # without a user namespace idmap changes nothing
    run berth run --rm -v "$dir:/mapped:idmap" busybox stat -c %u /mapped/by-root
    assert_output 0
}

@test "two --userns=auto containers get distinct ranges; a range is free again after rm" {
    a=$(berth run -d --userns=auto busybox sleep 1000)
    b=$(berth run -d --userns=auto:size=1000 busybox sleep 1000)
    ua=$(host_uid_of "$a")
    ub=$(host_uid_of "$b")
    in_berth_range "$ua"
    in_berth_range "$ub"
    [ "$ua" != "$ub" ]
    # no overlap: b's 1000 ids start past a's 65536 or end before them
    [ "$ub" -ge $((ua + 65536)) ] || [ $((ub + 1000)) -le "$ua" ]
    run berth exec "$b" cat /proc/self/uid_map
    [[ "$output" =~ ^[[:space:]]*0[[:space:]]+$ub[[:space:]]+1000 ]]
    berth rm -f "$a" >/dev/null
    c=$(berth run -d --userns=auto busybox sleep 1000)
    assert_equal "$(host_uid_of "$c")" "$ua"
}

@test "--uidmap and --gidmap explicit; --gidmap defaults to --uidmap; --subuidname" {
    id=$(berth run -d --uidmap 0:300000:5000 --gidmap 0:310000:5000 busybox sleep 1000)
    assert_equal "$(host_uid_of "$id")" 300000
    pid=$(berth inspect -f '{{.State.Pid}}' "$id")
    run awk '/^Gid:/ { print $2 }' "/proc/$pid/status"
    assert_output 310000
    run berth inspect -f '{{.HostConfig.UsernsMode}} {{.HostConfig.IDMappings.UidMap}} {{.HostConfig.IDMappings.GidMap}}' "$id"
    assert_output "private [0:300000:5000] [0:310000:5000]"
    id2=$(berth run -d --uidmap 0:320000:100 --uidmap 100:330000:100 busybox sleep 1000)
    run berth exec "$id2" cat /proc/self/gid_map
    [[ "$output" == *330000* ]]
    id3=$(berth run -d --subuidname other busybox sleep 1000)
    assert_equal "$(host_uid_of "$id3")" 500000
}

@test "--userns=host and no option: the host's user namespace, as before" {
    id=$(berth run -d busybox sleep 1000)
    assert_equal "$(host_uid_of "$id")" 0
    pid=$(berth inspect -f '{{.State.Pid}}' "$id")
    [ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/1/ns/user)" ]
    echo '{"userns-remap": "default"}' >/etc/berth/config.json
    id2=$(berth run -d --userns=host busybox sleep 1000)
    assert_equal "$(host_uid_of "$id2")" 0
    run berth inspect -f '{{.HostConfig.UsernsMode}}' "$id2"
    assert_output host
}

@test "userns-remap default in /etc/berth/config.json: every container gets an auto range; berth info says so" {
    run berth info --format '{{.Host.IDMappings.UsernsMode}}'
    assert_output host
    jq '."userns-remap" = "default"' "$BATS_FILE_TMPDIR/config.json.saved" >/etc/berth/config.json
    id=$(berth run -d busybox sleep 1000)
    in_berth_range "$(host_uid_of "$id")"
    run berth info --format '{{.Host.IDMappings.UsernsMode}} {{range .Host.IDMappings.UIDMap}}{{.ContainerID}}:{{.HostID}}:{{.Size}}{{end}}'
    assert_output "userns-remap=berth 0:$SUB_START:$SUB_COUNT"
    run berth info
    assert_output_contains "User namespaces: userns-remap=berth"
    assert_output_contains "Subordinate uids: berth:$SUB_START:$SUB_COUNT"
}

@test "exec, logs and a health check in a user namespace" {
    name=$(unique_name log)
    id=$(berth run -d --userns=auto --name "$name" --health-cmd 'test -e /proc/1' --health-interval 1s busybox \
        sh -c 'echo started as $(id -u); sleep 1000')
    wait_until 10 sh -c "berth logs $name | grep -q 'started as 0'"
    run berth exec -u 1000 "$id" id -u
    assert_output 1000
    wait_until 15 sh -c "[ \"\$(berth inspect -f '{{.State.Health.Status}}' $name)\" = healthy ]"
    run berth exec "$id" sh -c 'ls -ld /proc/1 /etc/hosts && hostname'
    assert_success
    # a second start of the same container: same range, same files
    uid=$(host_uid_of "$id")
    berth exec "$id" touch /kept
    berth restart -t 1 "$id" >/dev/null
    assert_equal "$(host_uid_of "$id")" "$uid"
    run berth exec "$id" stat -c %u /kept
    assert_output 0
}

@test "an image's files owned by other ids keep them inside; /dev, /proc, /sys are the container's own" {
    dir=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$dir"
    printf 'FROM busybox\nRUN touch /owned && chown 1000:50 /owned\n' >"$dir/Dockerfile"
    berth build -q -t t31/owned "$dir" >/dev/null
    run berth run --rm --userns=auto t31/owned sh -c 'stat -c %u:%g /owned; ls /dev/null /dev/pts; cat /proc/self/uid_map | wc -l; ls /sys/class/net'
    assert_success
    assert_equal "${lines[0]}" "1000:50"
    assert_output_contains "/dev/null"
    run berth run --rm --userns=auto t31/owned sh -c 'echo x >/owned'
    assert_success
    berth rmi t31/owned >/dev/null
}

@test "commit, export and cp see the ids the container sees, not its host ids" {
    id=$(berth run -d --userns=auto busybox sh -c 'touch /made && chown 1000:50 /made2 2>/dev/null; touch /made2 && chown 1000:50 /made2 && sleep 1000')
    wait_until 10 berth exec "$id" test -e /made2
    berth commit "$id" t31/committed >/dev/null
    run berth run --rm t31/committed stat -c %u:%g /made /made2
    assert_success
    assert_equal "${lines[*]}" "0:0 1000:50"
    berth export "$id" >"$BATS_TEST_TMPDIR/export.tar"
    run tar --numeric-owner -tvf "$BATS_TEST_TMPDIR/export.tar" made
    [[ "$output" == *" 0/0 "* ]]
    run tar --numeric-owner -tvf "$BATS_TEST_TMPDIR/export.tar" made2
    [[ "$output" == *" 1000/50 "* ]]
    echo copied >"$BATS_TEST_TMPDIR/in"
    berth cp "$BATS_TEST_TMPDIR/in" "$id:/in"
    run berth exec "$id" stat -c %u:%g /in
    assert_output "0:0"
    berth cp "$id:/made2" "$BATS_TEST_TMPDIR/out"
    [ -e "$BATS_TEST_TMPDIR/out" ]
    # a stopped one: in as its root, out with the ids it sees
    berth stop -t 1 "$id" >/dev/null
    berth cp "$BATS_TEST_TMPDIR/in" "$id:/in-stopped"
    run sh -c "berth cp -a $id:/made2 - | tar --numeric-owner -tvf -"
    [[ "$output" == *" 1000/50 "* ]]
    berth start "$id" >/dev/null
    run berth exec "$id" stat -c %u:%g /in-stopped
    assert_output "0:0"
    berth rm -f "$id" >/dev/null
    berth rmi t31/committed >/dev/null
}

@test "a user namespace container serves port 80 published with -p, on --network host, read-only, with a secret" {
    www=$BATS_TEST_TMPDIR/www
    mkdir -p "$www"
    chmod 755 "$www"
    echo "hello from a user namespace" >"$www/index.html"
    chmod 644 "$www/index.html"
    berth run -d --userns=auto --name web31 -p 8131:80 -v "$www":/www:ro busybox httpd -f -p 80 -h /www
    wait_until 10 curl -sf http://127.0.0.1:8131/
    run curl -sf http://127.0.0.1:8131/
    assert_output "hello from a user namespace"
    run berth run --rm --userns=auto --network host busybox sh -c 'id -u; ls /sys/class/net | grep -c lo'
    assert_success
    assert_equal "${lines[0]}" 0
    run berth run --rm --userns=auto --read-only busybox sh -c 'touch /x'
    assert_failure
    # attached with a terminal; --privileged (every capability, of its own namespace only)
    run berth run --rm -t --userns=auto busybox sh -c 'id -u; tty'
    assert_success
    [[ "$output" == *"/dev/pts/"* ]]
    run berth run --rm --privileged --userns=auto busybox sh -c 'grep CapEff /proc/self/status; ls /dev/null'
    assert_success
    [[ "$output" == *"000001ffffffffff"* ]] || [[ "$output" == *"000003ffffffffff"* ]] || [[ "$output" == *"0000003fffffffff"* ]]
    printf s3cret | berth secret create t31secret - >/dev/null
    run berth run --rm --userns=auto --secret t31secret busybox sh -c 'cat /run/secrets/t31secret; ls -a /dev | grep -c berth-secret'
    berth secret rm t31secret >/dev/null
    assert_equal "${lines[0]}" "s3cret0"
}

@test "UserNS= in a definition: its unit's container runs in a user namespace" {
    mkdir -p /etc/berth/containers
    cat >/etc/berth/containers/ns31.container <<'EOF2'
[Container]
Image=busybox
Exec=sleep 1000
UserNS=auto:size=2000
EOF2
    systemctl daemon-reload
    systemctl start container@ns31.service
    pid=$(systemctl show -p MainPID --value container@ns31.service)
    uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
    in_berth_range "$uid"
    run berth inspect -f '{{.HostConfig.UsernsMode}}' ns31
    assert_output auto:size=2000
    remove_definitions ns31
}

@test "the real Debian image: /var/mail stays group mail in a user namespace" {
    ensure_seed_images
    img=$SEED_REGISTRY/debian:bookworm
    [ -n "$(berth images -q "$img")" ] || berth pull -q "$img" >/dev/null
    run berth run --rm --userns=auto "$img" stat -c %G /var/mail
    assert_success
    assert_output mail
}

@test "bad user namespace options: one line each, nothing made" {
    before=$(berth ps -aq | wc -l)
    for args in "--userns=bogus" "--userns=auto:size=0" "--userns=auto:uidmapping=0:1:2" "--uidmap 0:1" \
            "--uidmap a:b:c" "--uidmap 0:100000:0" "--uidmap 0:4294967295:10" \
            "--uidmap 0:300000:100 --uidmap 50:400000:100" "--uidmap 1:300000:100" \
            "--userns=auto --uidmap 0:300000:10" "--subuidname nosuch" "--userns=keep-id" "--userns=nomap"; do
        # shellcheck disable=SC2086
        run berth run --rm $args busybox true
        [ "$status" -eq 125 ] || _fail "$args: status $status"
        [ "${#lines[@]}" -eq 1 ] || _fail "$args: ${#lines[@]} lines: $output"
        [[ "${lines[0]}" == "berth: "* ]] || _fail "$args: $output"
    done
    # no subordinate ranges for berth: says how to add them
    cp /etc/subuid "$BATS_TEST_TMPDIR/subuid"
    grep -v '^berth:' "$BATS_TEST_TMPDIR/subuid" >/etc/subuid
    run berth run --rm --userns=auto busybox true
    cp "$BATS_TEST_TMPDIR/subuid" /etc/subuid
    [ "$status" -eq 125 ]
    assert_output_contains "berth:100000:65536"
    # a full range
    run berth run --rm --userns=auto:size=99999999 busybox true
    [ "$status" -eq 125 ]
    assert_output_contains "no free range"
    # a record that cannot be read may hold a range: no range is chosen
    held=$(berth create busybox true)
    cp "/var/lib/berth/containers/$held/config.json" "$BATS_TEST_TMPDIR/config.saved"
    echo '{' >"/var/lib/berth/containers/$held/config.json"
    run berth run --rm --userns=auto busybox true
    cp "$BATS_TEST_TMPDIR/config.saved" "/var/lib/berth/containers/$held/config.json"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    assert_output_contains "cannot tell which id ranges are in use"
    berth rm "$held" >/dev/null
    echo '{"userns-remap": 5}' >/etc/berth/config.json
    run berth run --rm busybox true
    [ "$status" -eq 125 ]
    assert_output_contains "userns-remap"
    assert_equal "$(berth ps -aq | wc -l)" "$before"
}
