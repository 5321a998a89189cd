#!/usr/bin/env bats
# A user's definitions (issue 17): ~/.config/berth/containers and
# /etc/berth/containers/users[/UID], turned into units of the user's own
# manager by berth-user-generator; systemctl --user start/enable; the wait
# for the system's network-online.target; root's and a user's definitions
# not seeing each other.  Network=none throughout: the user's default
# network is not what is tested here.

load helpers

setup_file() {
    rootless_user_setup
    ensure_user_busybox_image
}

USER_DEFS_REL=.config/berth/containers

setup() {
    USER_DEFS=/home/$ROOTLESS_USER/$USER_DEFS_REL
    GEN=/run/user/$ROOTLESS_UID/systemd/generator
}

teardown() {
    local u ids
    teardown_slow_online
    for u in $(as_user systemctl --user list-units --all --no-legend --plain 'container@*' | awk '{print $1}'); do
        as_user systemctl --user stop "$u"
        # not an assertion: the unit may never have failed
        as_user systemctl --user reset-failed "$u" 2>/dev/null || :
    done
    as_user systemctl --user disable container@web.service 2>/dev/null || :
    rm -rf "${USER_DEFS:?}" /etc/berth/containers/users /etc/berth/containers/rootdef.container
    as_user systemctl --user daemon-reload
    systemctl daemon-reload
    ids=$(as_user berth ps -aq)
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
}

# user_def FILE < TEXT: a definition of the user's own, written as the user
user_def() {
    as_user sh -c "mkdir -p ~/$USER_DEFS_REL && cat > ~/$USER_DEFS_REL/$1"
}

write_web() {
    user_def web.container <<'EOF'
[Unit]
Description=the user's web

[Container]
Image=busybox
Exec=sh -c 'trap "exit 0" TERM; echo web-started-as-user; sleep 1000 & wait'
Network=none
Memory=64M
EOF
    as_user systemctl --user daemon-reload
}

@test "user definition: systemctl --user start runs it as the user, in the user's store" {
    write_web
    # the generator wrote a drop-in into the user manager's generator dir
    [ -f "$GEN/container@web.service.d/50-berth.conf" ]
    run as_user systemctl --user show -p Description --value container@web.service
    assert_output "the user's web"
    run as_user systemctl --user show -p FragmentPath --value container@web.service
    assert_output /usr/lib/systemd/user/container@.service

    as_user systemctl --user start container@web.service
    run as_user systemctl --user is-active container@web.service
    assert_output active
    run as_user berth ps --format '{{.Names}} {{.Status}}'
    assert_output_contains "web Up"
    # the container's process is the unit's main process, and the user on the host
    pid=$(as_user berth inspect -f '{{.State.Pid}}' web)
    [ "$pid" -gt 0 ]
    run as_user systemctl --user show -p MainPID --value container@web.service
    assert_output "$pid"
    run awk '/^Uid:/ {print $2}' "/proc/$pid/status"
    assert_output "$ROOTLESS_UID"
    # (journald adds LogExtraFields= of system units only: the user unit's name it is)
    wait_until 10 journal_has _UID="$ROOTLESS_UID" _SYSTEMD_USER_UNIT=container@web.service -- web-started-as-user

    # root sees neither the container nor the unit
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains web
    run systemctl is-active container@web.service
    assert_output inactive

    as_user systemctl --user stop container@web.service
    run as_user systemctl --user is-active container@web.service
    assert_output inactive
    run as_user berth ps -a --format '{{.Names}} {{.Status}}'
    assert_output_contains "web Exited"
}

@test "user definition: systemctl --user enable links it into default.target, [Install] links too" {
    write_web
    as_user systemctl --user enable container@web.service
    link=/home/$ROOTLESS_USER/.config/systemd/user/default.target.wants/container@web.service
    [ -L "$link" ]
    [ "$(readlink "$link")" = /usr/lib/systemd/user/container@.service ]
    as_user systemctl --user disable container@web.service
    [ ! -e "$link" ]

    # WantedBy= of the definition: a link in the generator dir
    user_def auto.container <<'EOF'
[Container]
Image=busybox
Exec=sleep 1000
Network=none
[Install]
WantedBy=default.target
EOF
    as_user systemctl --user daemon-reload
    [ -L "$GEN/default.target.wants/container@auto.service" ]
    [ "$(readlink "$GEN/default.target.wants/container@auto.service")" = /usr/lib/systemd/user/container@.service ]
    run as_user systemctl --user is-enabled container@auto.service
    [[ "$output" == enabled-runtime || "$output" == generated ]]
}

@test "user definition: /etc/berth/containers/users/UID for that user, users/ for all, root's apart" {
    mkdir -p "/etc/berth/containers/users/$ROOTLESS_UID" /etc/berth/containers/users/99999
    printf '[Container]\nImage=busybox\nExec=sleep 1000\nNetwork=none\n' \
        > "/etc/berth/containers/users/$ROOTLESS_UID/peruser.container"
    printf '[Container]\nImage=busybox\nExec=sleep 1000\nNetwork=none\n' > /etc/berth/containers/users/allusers.container
    printf '[Container]\nImage=busybox\nExec=sleep 1000\n' > /etc/berth/containers/users/99999/notmine.container
    printf '[Container]\nImage=busybox\nExec=sleep 1000\n' > /etc/berth/containers/rootdef.container
    # the user's own wins over root's for all users
    user_def allusers.container <<'EOF'
[Unit]
Description=the user's own allusers
[Container]
Image=busybox
Exec=sleep 1000
Network=none
EOF

    run --separate-stderr as_user berth generate --dry-run
    assert_success
    assert_output_contains "# $GEN/container@peruser.service.d/50-berth.conf"
    assert_output_contains "# $GEN/container@allusers.service.d/50-berth.conf"
    assert_output_contains "Description=the user's own allusers"
    assert_output_not_contains notmine
    assert_output_not_contains rootdef
    # root's generator does not look into users/
    run --separate-stderr berth generate --dry-run
    assert_success
    assert_output_contains "container@rootdef.service.d"
    assert_output_not_contains peruser
    assert_output_not_contains allusers
    systemctl daemon-reload
    run systemctl show -p DropInPaths --value container@peruser.service
    assert_output ""

    as_user systemctl --user daemon-reload
    as_user systemctl --user start container@peruser.service
    run as_user systemctl --user is-active container@peruser.service
    assert_output active
    run as_user berth ps --format '{{.Names}}'
    assert_output_contains peruser
}

@test "user definition: a bad key is one line of berth-user-generator, the others still generated" {
    write_web
    user_def bad.container <<'EOF'
[Container]
Image=busybox
Frobnicate=yes
EOF
    run --separate-stderr as_user /usr/lib/systemd/user-generators/berth-user-generator --dry-run
    assert_success
    [ "$stderr" = "berth-user-generator: /home/$ROOTLESS_USER/$USER_DEFS_REL/bad.container:3: unknown key 'Frobnicate' in section [Container]" ]
    assert_output_contains "container@web.service.d/50-berth.conf"

    as_user systemctl --user daemon-reload
    wait_until 10 journal_has _UID="$ROOTLESS_UID" -t berth-user-generator -- "bad.container:3: unknown key 'Frobnicate'"
    # and the user finds it in the user's own journal
    run as_user journalctl --user --no-pager -o cat -t berth-user-generator
    assert_output_contains "bad.container:3: unknown key 'Frobnicate' in section [Container]"
    [ ! -e "$GEN/container@bad.service.d" ]
    [ -f "$GEN/container@web.service.d/50-berth.conf" ]
    run --separate-stderr as_user berth generate --dry-run
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"bad.container:3: unknown key 'Frobnicate' in section [Container]"* ]]

    # root's user manager (as the generator's second name) gets nothing
    run --separate-stderr /usr/lib/systemd/user-generators/berth-user-generator "$BATS_TEST_TMPDIR/out"
    assert_success
    [ -z "$(ls -A "$BATS_TEST_TMPDIR/out" 2>/dev/null)" ]
}

@test "user definition: containers with a network wait for the system's network-online.target" {
    write_web
    user_def net.container <<'EOF'
[Container]
Image=busybox
Exec=sleep 1000
EOF
    as_user systemctl --user daemon-reload
    run as_user systemctl --user show -p After --value container@net.service
    assert_output_contains berth-user-wait-network-online.service
    run as_user systemctl --user show -p Wants --value container@net.service
    assert_output_contains berth-user-wait-network-online.service
    # Network=none has nothing to wait for
    run as_user systemctl --user show -p After --value container@web.service
    assert_output_not_contains berth-user-wait-network-online.service
    run as_user systemctl --user show -p After --value container@net.service
    assert_output_not_contains network-online.target
}

@test "user definition: the wait unit waits for the system's network-online.target while it is coming" {
    WAIT=berth-user-wait-network-online.service
    systemctl stop network-online.target
    # nothing brings the target up (no job of it queued): no wait for the
    # 90 s timeout, as Quadlet's unit does then
    start=$(date +%s)
    as_user systemctl --user start $WAIT
    [ $(( $(date +%s) - start )) -lt 10 ]
    run as_user systemctl --user is-active $WAIT
    assert_output active
    wait_until 10 journal_has _SYSTEMD_USER_UNIT=$WAIT -- "network-online.target is not active and not starting"
    as_user systemctl --user stop $WAIT

    # the target is on its way (a slow "network" before it): the user's unit
    # ends when the system's target is reached, not before
    printf '%s\n' '[Unit]' 'Before=network-online.target' '[Service]' 'Type=oneshot' 'ExecStart=sleep 3' \
        'RemainAfterExit=yes' > /run/systemd/system/berth-test-slow-online.service
    mkdir -p /run/systemd/system/network-online.target.d
    printf '[Unit]\nWants=berth-test-slow-online.service\n' > /run/systemd/system/network-online.target.d/slow.conf
    systemctl daemon-reload
    systemctl start --no-block network-online.target
    as_user systemctl --user start $WAIT
    run systemctl is-active network-online.target
    assert_output active
    run systemctl is-active berth-test-slow-online.service
    assert_output active
}

teardown_slow_online() {
    systemctl stop network-online.target berth-test-slow-online.service 2>/dev/null || :
    rm -rf /run/systemd/system/berth-test-slow-online.service /run/systemd/system/network-online.target.d
    as_user systemctl --user stop berth-user-wait-network-online.service
}
