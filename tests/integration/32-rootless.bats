#!/usr/bin/env bats
# berth as a user (issue 17): the user's own store, runtime dir and systemd
# manager, containers in a user namespace made with newuidmap from the
# user's subordinate ids.

load helpers

setup_file() {
    rootless_user_setup
    ensure_user_busybox_image
}

teardown() {
    local ids
    ids=$(as_user berth ps -aq)
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
}

@test "rootless: run prints, the store is the user's, container root is the user on the host" {
    run --separate-stderr as_user berth run --rm --network none busybox echo hello-rootless
    assert_success
    assert_output "hello-rootless"
    [ -d "/home/$ROOTLESS_USER/.local/share/berth/containers" ]
    [ "$(stat -c %U "/home/$ROOTLESS_USER/.local/share/berth")" = "$ROOTLESS_USER" ]
    [ -d "/run/user/$ROOTLESS_UID/berth" ]

    as_user berth run -d --name rl1 --network none busybox sleep 300
    pid=$(as_user berth inspect -f '{{.State.Pid}}' rl1)
    [ "$pid" -gt 0 ]
    run awk '/^Uid:/ {print $2}' "/proc/$pid/status"
    assert_output "$ROOTLESS_UID"
    run as_user systemctl --user is-active berth-rl1.service
    assert_output active
    # root's store does not see it
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains rl1
}
