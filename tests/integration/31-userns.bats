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
