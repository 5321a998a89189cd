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

# ---- devices: Docker's device cgroup rules as DevicePolicy=/DeviceAllow=
# (the harness' /dev is its own: the loop nodes made here are the guest's)

loop_nodes() {
    [ -b /dev/loop0 ] || mknod /dev/loop0 b 7 0
    [ -b /dev/loop1 ] || mknod /dev/loop1 b 7 1
}

@test "a default container may mknod a host disk's node but not open it" {
    run berth run --rm busybox sh -c 'mknod /tmp/d b 7 0 && echo made; head -c 16 /tmp/d; echo "rc=$?"'
    assert_output_contains made
    assert_output_contains "Operation not permitted"
    assert_output_contains "rc=1"
    # a char device outside the list too (/dev/mem, c 1:1)
    run berth run --rm busybox sh -c 'mknod /tmp/m c 1 1 && head -c 1 /tmp/m; echo "rc=$?"'
    assert_output_contains "Operation not permitted"
    # the standard devices work, including a pty
    run berth run --rm busybox sh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && head -c 2 /dev/full | wc -c'
    assert_success
    assert_output "$(printf '4\n4\n2')"
    run berth run --rm -t busybox sh -c 'tty && echo hi >/dev/tty'
    assert_success
    assert_output_contains /dev/pts/
}

@test "the unit carries the device rules: systemctl show and the cgroup" {
    name=$(unique_name dev)
    berth run -d --name "$name" busybox sleep 1000
    run systemctl show -p DevicePolicy "berth-$name.service"
    assert_output DevicePolicy=strict
    run systemctl show -p DeviceAllow "berth-$name.service"
    for want in "/dev/null rwm" "/dev/zero rwm" "/dev/full rwm" "/dev/random rwm" "/dev/urandom rwm" \
        "/dev/tty rwm" "/dev/console rwm" "/dev/ptmx rwm" "char-pts rwm" "char-* m" "block-* m"; do
        assert_line_matches "^DeviceAllow=${want//\*/\\*}\$"
    done
    [ "${#lines[@]}" -eq 11 ] || _fail "expected exactly 11 DeviceAllow= entries"
    # what systemd made of them (cgroup v1 devices.list where there is one)
    cg=$(systemctl show -p ControlGroup --value "berth-$name.service")
    if [ -f "/sys/fs/cgroup/devices$cg/devices.list" ]; then
        run cat "/sys/fs/cgroup/devices$cg/devices.list"
        assert_line_matches '^b \*:\* m$'
        assert_line_matches '^c 1:3 rwm$'
        assert_output_not_contains 'a *:* rwm'
    fi
    # berth exec joins the unit's cgroup: the same rules apply
    run berth exec "$name" sh -c 'mknod /tmp/d b 7 0; head -c 1 /tmp/d; echo "rc=$?"'
    assert_output_contains "Operation not permitted"
    assert_output_contains "rc=1"
}

@test "--device adds exactly one node and its rule, with its permissions" {
    loop_nodes
    run berth run --rm --device /dev/loop0 busybox sh -c 'ls /dev | grep loop; head -c 1 /dev/loop0; echo "rc=$?"; mknod /tmp/l1 b 7 1; head -c 1 /tmp/l1; echo "rc1=$?"'
    assert_output_contains "loop0"
    assert_output_not_contains "loop1"
    assert_output_contains "rc=0"        # an unbound loop device reads as empty, but opens
    assert_output_contains "rc1=1"       # its neighbour does not
    # HOST:CONTAINER:PERMS, read-only
    run berth run --rm --device /dev/loop0:/dev/xvdc:r busybox sh -c 'ls -l /dev/xvdc; head -c 1 /dev/xvdc; echo "r=$?"; echo x > /dev/xvdc; echo "w=$?"'
    assert_line_matches '^b.* 7, +0 .*/dev/xvdc$'
    assert_output_contains "r=0"
    assert_output_contains "w=1"
    name=$(unique_name dev)
    berth create --name "$name" --device /dev/loop0:/dev/xvdc:r busybox sleep 1000
    run berth inspect -f '{{json .HostConfig.Devices}}' "$name"
    assert_output '[{"CgroupPermissions":"r","PathInContainer":"/dev/xvdc","PathOnHost":"/dev/loop0"}]'
    berth start "$name"
    run systemctl show -p DeviceAllow "berth-$name.service"
    assert_output_contains "DeviceAllow=/dev/loop0 r"
}

@test "--device and --device-cgroup-rule refuse bad input in one line and create nothing" {
    before=$(berth ps -aq | wc -l)
    run berth run --rm --device /nonexistent busybox true
    assert_status 125
    assert_output 'berth: error gathering device information while adding device "/nonexistent": No such file or directory'
    run berth run --rm --device /etc/hostname busybox true
    assert_status 125
    assert_output_contains "not a device node"
    run berth run --rm --device /dev/null:relative busybox true
    assert_status 125
    assert_output_contains "must be absolute"
    run berth run --rm --device-cgroup-rule 'x 1:2 rw' busybox true
    assert_status 125
    [ "${#lines[@]}" -eq 1 ]
    assert_output_contains "invalid device cgroup rule 'x 1:2 rw'"
    run berth run --rm --device-cgroup-rule 'c *:3 rw' busybox true
    assert_status 125
    assert_output_contains "name the major"
    [ "$(berth ps -aq | wc -l)" -eq "$before" ]
}

@test "--device-cgroup-rule: a major's group, or one node" {
    loop_nodes
    run berth run --rm --device-cgroup-rule 'b 7:* rw' busybox sh -c 'mknod /tmp/a b 7 0; mknod /tmp/b b 7 1; head -c 1 /tmp/a; echo "a=$?"; head -c 1 /tmp/b; echo "b=$?"'
    assert_output_contains "a=0"
    assert_output_contains "b=0"
    run berth run --rm --device-cgroup-rule 'b 7:1 rw' busybox sh -c 'mknod /tmp/a b 7 0; mknod /tmp/b b 7 1; head -c 1 /tmp/a; echo "a=$?"; head -c 1 /tmp/b; echo "b=$?"'
    assert_output_contains "a=1"
    assert_output_contains "b=0"
}

@test "--privileged allows every device and has the host's nodes" {
    loop_nodes
    name=$(unique_name priv)
    berth run -d --name "$name" --privileged busybox sleep 1000
    run systemctl show -p DevicePolicy -p DeviceAllow "berth-$name.service"
    assert_line_matches '^DevicePolicy=auto$'
    assert_output_not_contains "block-* m"
    assert_output_not_contains "/dev/null rwm"
    run berth exec "$name" sh -c 'ls /dev; head -c 1 /dev/loop1; echo "rc=$?"'
    assert_output_contains loop0
    assert_output_contains loop1
    assert_output_contains "rc=0"
}

@test "a definition container gets the same device rules, AddDevice= adds one" {
    loop_nodes
    name=$(unique_name defdev)
    mkdir -p /etc/berth/containers
    cat >"/etc/berth/containers/$name.container" <<DEF
[Container]
Image=busybox
Exec=sleep 1000
AddDevice=/dev/loop0:/dev/xvdz:r
AddDevice=-/dev/does-not-exist
DEF
    systemctl daemon-reload
    systemctl start "container@$name.service"
    run systemctl show -p DevicePolicy -p DeviceAllow "container@$name.service"
    assert_line_matches '^DevicePolicy=strict$'
    assert_line_matches '^DeviceAllow=/dev/loop0 r$'
    assert_line_matches '^DeviceAllow=block-\* m$'
    run berth exec "$name" sh -c 'head -c 1 /dev/xvdz; echo "r=$?"; mknod /tmp/b b 7 1; head -c 1 /tmp/b; echo "b=$?"'
    assert_output_contains "r=0"
    assert_output_contains "b=1"
    systemctl stop "container@$name.service"
    rm -f "/etc/berth/containers/$name.container"
    systemctl daemon-reload
}
