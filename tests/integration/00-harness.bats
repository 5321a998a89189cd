#!/usr/bin/env bats
# The harness itself: a real systemd as PID 1, a working journal, a private
# store, root, /tmp and network, and berth installed from this tree.

load helpers

@test "PID 1 is systemd" {
    run cat /proc/1/comm
    assert_success
    assert_output systemd
}

@test "the system manager has finished booting" {
    run systemctl is-system-running
    [[ $output == running || $output == degraded ]] || _fail "expected running or degraded"
}

@test "journald stores lines from systemd-cat and logger" {
    local marker="harness-marker-$RANDOM$RANDOM"
    echo "cat-$marker" | systemd-cat -t berth-harness-test
    logger -t berth-harness-test "logger-$marker"
    wait_until 10 journal_has -t berth-harness-test -- "cat-$marker"
    wait_until 10 journal_has -t berth-harness-test -- "logger-$marker"
}

@test "transient units run, log to the journal and keep their properties" {
    local unit
    unit=$(unique_name harness-echo)
    run systemd-run --wait --quiet --unit="$unit" -p MemoryMax=50M -p TasksMax=20 \
        /bin/sh -c "echo from-$unit; exit 3"
    assert_status 3
    wait_until 10 journal_has -u "$unit" -- "from-$unit"
    run systemctl show -p MemoryMax -p TasksMax -p ExecMainStatus -p Result "$unit"
    assert_line_matches '^MemoryMax=52428800$'
    assert_line_matches '^TasksMax=20$'
    assert_line_matches '^ExecMainStatus=3$'
    assert_line_matches '^Result=exit-code$'
    systemctl reset-failed "$unit" 2>/dev/null || true
}

@test "the D-Bus system bus answers" {
    run busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
    assert_success
    assert_line_matches '^s "[0-9a-f]{32}"$'
}

@test "the root is a copy-on-write overlay and /tmp a private tmpfs" {
    run findmnt -n -o FSTYPE --mountpoint /
    assert_output overlay
    run findmnt -n -o FSTYPE --mountpoint /tmp
    assert_output tmpfs
}

@test "the store /var/lib/berth is a tmpfs (or the --state dir), never overlayfs" {
    run findmnt -n -o FSTYPE --mountpoint /var/lib/berth
    assert_success
    if [ -n "${BERTH_HARNESS_STATE:-}" ]; then
        [ "$output" != overlay ] || _fail "the --state dir must not be on overlayfs"
    else
        assert_output tmpfs
    fi
    run findmnt -n -o FSTYPE --mountpoint /etc/berth
    assert_success
}

@test "lo is up, and the uplink pasta needs is the only other interface, leading nowhere" {
    run ip -o link show
    assert_success
    [ "${#lines[@]}" -eq 3 ] || _fail "expected lo and the veth pair uplink0/uplink1"
    assert_line_matches '^1: lo: <LOOPBACK,UP'
    assert_line_matches '^[0-9]+: uplink0@uplink1: <.*,UP'
    run ip route show default
    assert_output "default via 10.99.0.1 dev uplink0 "
    # a lookup that would take that route fails at once, as with no route
    run ip route get 192.0.2.1
    assert_failure
    assert_output_contains "Network is unreachable"
}

@test "/dev/net/tun is the guest's own, open to users (pasta)" {
    run stat -c '%F %t:%T %a' /dev/net/tun
    assert_output "character special file a:c8 666"
}

@test "per-namespace network sysctls are writable, kernel-wide ones are not" {
    echo 1 >/proc/sys/net/ipv4/ip_forward
    run cat /proc/sys/net/ipv4/ip_forward
    assert_output 1
    run sh -c 'echo 0 > /proc/sys/kernel/printk_ratelimit'
    assert_failure
}

@test "berth is installed in /usr/bin from this tree and prints its version" {
    run command -v berth
    assert_output /usr/bin/berth
    local version
    version=$(sed -n 's/^AC_INIT(\[berth\], *\[\([^]]*\)\].*/\1/p' "$REPO/configure.ac")
    [ -n "$version" ] || _fail "no version in configure.ac"
    run berth --version
    assert_success
    assert_output_contains "$version"
}
