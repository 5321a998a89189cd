#!/usr/bin/env bats
# Namespaces, mounts, capabilities, seccomp: what a process inside sees.

load helpers

setup_file() { ensure_busybox_image; }
teardown() { berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true; }

# Docker's default capability set as a CapEff mask
DEFAULT_CAPS=00000000a80425fb

@test "the container is PID 1 of its own PID namespace" {
    run berth run --rm busybox sh -c 'echo $$; ps -o pid | wc -l'
    [ "${lines[0]}" = 1 ]
}

@test "hostname defaults to the host's on the host network, -h sets it" {
    run berth run --rm --hostname box1 busybox hostname
    [ "$output" = box1 ]
    run berth run --rm --network host busybox cat /etc/hostname
    [ "$output" = "$(hostname)" ]
    # on the default bridge network it is the short container ID, as Docker's
    id=$(berth run -d busybox sleep 1000)
    run berth exec "$id" hostname
    [ "$output" = "${id:0:12}" ]
    berth rm -f "$id"
}

@test "--network none has only loopback, up" {
    run berth run --rm --network none busybox ip -o link
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == *"lo:"*UP* ]]
}

@test "/dev has the standard nodes and nothing of the host" {
    run berth run --rm busybox ls /dev
    for n in null zero full random urandom tty ptmx pts shm mqueue fd stdin stdout stderr; do
        [[ " ${lines[*]} " == *" $n "* ]]
    done
    [[ " ${lines[*]} " != *" sda "* && " ${lines[*]} " != *" vda "* ]]
    run berth run --rm busybox sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c'
    [ "$output" = 4 ]
}

@test "masked and read-only paths as docker" {
    # whichever of them this kernel has: masked (empty), and a mount point
    run berth run --rm busybox sh -c 'for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        [ -e $f ] && echo "$f $(cat $f | wc -c) $(grep -c " $f " /proc/self/mountinfo)"; done'
    [ "${#lines[@]}" -ge 1 ]
    for l in "${lines[@]}"; do [[ "$l" == *" 0 1" ]]; done
    run berth run --rm busybox sh -c 'ls /sys/firmware | wc -l'
    [ "$output" = 0 ]
    run berth run --rm busybox sh -c 'echo 1 > /proc/sys/kernel/panic'
    [ "$status" -ne 0 ]
    [[ "$output" == *"Read-only file system"* ]]
    run berth run --rm busybox sh -c 'touch /sys/x'
    [ "$status" -ne 0 ]
}

@test "docker's default capabilities, --cap-add, --cap-drop, --privileged" {
    run berth run --rm busybox sh -c 'grep CapEff /proc/self/status'
    [[ "$output" == *"$DEFAULT_CAPS"* ]]
    run berth run --rm busybox sh -c 'grep CapBnd /proc/self/status'
    [[ "$output" == *"$DEFAULT_CAPS"* ]]
    run berth run --rm --cap-drop ALL --cap-add NET_BIN_SERVICE busybox true
    [ "$status" -eq 125 ]
    [[ "$output" == *'unknown capability: "CAP_NET_BIN_SERVICE"'* ]]
    run berth run --rm --cap-drop ALL --cap-add chown busybox sh -c 'grep CapEff /proc/self/status'
    [[ "$output" == *0000000000000001* ]]
    run berth run --rm --cap-drop chown busybox chown nobody /tmp
    [ "$status" -ne 0 ]
    run berth run --rm --privileged busybox sh -c 'grep CapEff /proc/self/status'
    [[ "$output" != *"$DEFAULT_CAPS"* ]]
    run berth run --rm --privileged busybox mount -t tmpfs t /tmp
    [ "$status" -eq 0 ]
}

@test "the default seccomp profile denies what docker's denies" {
    run berth run --rm busybox unshare -U true
    [ "$status" -ne 0 ]
    run berth run --rm --security-opt seccomp=unconfined --cap-add SYS_ADMIN busybox unshare -m true
    [ "$status" -eq 0 ]
}

@test "a custom docker-format seccomp profile" {
    cat > "$BATS_TEST_TMPDIR/p.json" <<'P'
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}
P
    run berth run --rm --security-opt seccomp="$BATS_TEST_TMPDIR/p.json" busybox mkdir /tmp/x
    [ "$status" -ne 0 ]
    [[ "$output" == *"Permission denied"* ]]
    echo '{"defaultAction":"SCMP_ACT_NOPE"}' > "$BATS_TEST_TMPDIR/bad.json"
    run berth run --rm --security-opt seccomp="$BATS_TEST_TMPDIR/bad.json" busybox true
    [ "$status" -eq 125 ]
    [[ "$output" == *SCMP_ACT_NOPE* ]]
}

@test "no-new-privileges and read-only root" {
    run berth run --rm --security-opt no-new-privileges busybox grep NoNewPrivs /proc/self/status
    [[ "$output" == *"1"* ]]
    run berth run --rm --read-only busybox touch /x
    [ "$status" -ne 0 ]
    [[ "$output" == *"Read-only file system"* ]]
    run berth run --rm --read-only --tmpfs /scratch busybox touch /scratch/x
    [ "$status" -eq 0 ]
}

@test "users from the image's passwd, uid:gid, and env" {
    run berth run --rm -u nobody busybox id
    [[ "$output" == "uid=65534(nobody) gid=65534"* ]]
    run berth run --rm -u 1234:5678 busybox id -u
    [ "$output" = 1234 ]
    run berth run --rm -u 1234:5678 busybox id -g
    [ "$output" = 5678 ]
    run berth run --rm -u nosuchuser busybox id
    [ "$status" -eq 125 ]
    [[ "$output" == *"unable to find user nosuchuser"* ]]
    echo "FROMFILE=yes" > "$BATS_TEST_TMPDIR/env"
    run berth run --rm -e A=b --env-file "$BATS_TEST_TMPDIR/env" busybox env
    [[ "$output" == *"A=b"* ]]
    [[ "$output" == *"FROMFILE=yes"* ]]
    [[ "$output" == *"PATH="* ]]
    [[ "$output" == *"HOME=/root"* ]]
    run berth run --rm -w /var/work busybox pwd
    [ "$output" = /var/work ]
}

@test "bind mounts, read-only too; /etc/hosts and resolv.conf are provided" {
    mkdir -p "$BATS_TEST_TMPDIR/share"
    echo from-host > "$BATS_TEST_TMPDIR/share/f"
    run berth run --rm -v "$BATS_TEST_TMPDIR/share:/data:ro" busybox cat /data/f
    [ "$output" = from-host ]
    run berth run --rm -v "$BATS_TEST_TMPDIR/share:/data:ro" busybox touch /data/g
    [ "$status" -ne 0 ]
    berth run --rm -v "$BATS_TEST_TMPDIR/share:/data" busybox sh -c 'echo back > /data/g'
    [ "$(cat "$BATS_TEST_TMPDIR/share/g")" = back ]
    run berth run --rm busybox grep -c localhost /etc/hosts
    [ "$output" -ge 1 ]
    berth run --rm busybox test -f /etc/resolv.conf
    # nothing of the container's mounts leaks to the host
    run findmnt -rn
    assert_success
    run ! grep -q '/var/lib/berth/containers/.*/rootfs' <<<"$output"
}

@test "--init reaps zombies and forwards signals" {
    berth run -d --name initd --init busybox sh -c 'sleep 1000'
    run berth exec initd ps -o pid,comm
    [[ "$output" == *"1 berth"* ]] || [[ "$output" == *"1 init"* ]] || [[ "$output" == *"1 _shim"* ]]
    berth stop -t 5 initd
    run berth inspect -f '{{.State.ExitCode}}' initd
    [ "$output" = 143 ]
}

@test "--init reaps orphaned zombies" {
    # sh starts a child that leaves a grandchild behind, then execs sleep:
    # the orphan is reparented to PID 1, which must reap it when it exits
    berth run -d --name reaper --init busybox sh -c '(sleep 1 &) ; exec sleep 1000'
    sleep 3
    run berth exec reaper sh -c 'ps -o stat,comm | grep -c "^Z"'
    [ "$output" = 0 ]
}
