#!/usr/bin/env bats
# Definition files, berth-generator and container@.service.

load helpers

setup_file() { ensure_busybox_image; }

teardown() {
    for u in $(systemctl list-units --no-legend --plain 'container@*' | awk '{print $1}'); do
        systemctl stop "$u" || true
    done
    systemctl reset-failed 'container@*' 2>/dev/null || true
    rm -f /etc/berth/containers/*.container
    systemctl daemon-reload
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
    # what the pinned-record test left, if it failed midway: its mounts, then
    # its removal stages (a repair that fails here fails the test)
    awk '$5 ~ "^/var/lib/berth/.*/pinned$" { print $5 }' /proc/self/mountinfo | xargs -r umount
    if compgen -G '/var/lib/berth/tmp/rm-*' >/dev/null; then
        berth system check --repair >/dev/null
    fi
}

write_web() {
    mkdir -p /etc/berth/containers "$BATS_TEST_TMPDIR/data"
    echo from-volume > "$BATS_TEST_TMPDIR/data/file"
    cat > /etc/berth/containers/web.container <<EOF2
# a web server, Quadlet style
[Unit]
Description=the test web server

[Container]
Image=busybox
Exec=sh -c 'echo started \$GREETING; cat /data/file; exec httpd -f -p 8081 -h /www'
Environment=GREETING=hello "OTHER=two words"
Volume=$BATS_TEST_TMPDIR/data:/data:ro
PublishPort=8081:8081
Memory=64M
PidsLimit=50

[Service]
Restart=on-failure
RestartSec=1

[Install]
WantedBy=multi-user.target
EOF2
    systemctl daemon-reload
}

@test "a definition becomes container@NAME.service with its limits, journal and answers" {
    write_web
    systemctl start container@web.service
    [ "$(systemctl is-active container@web.service)" = active ]
    [ "$(systemctl show -p MemoryMax --value container@web.service)" = 67108864 ]
    [ "$(systemctl show -p TasksMax --value container@web.service)" = 50 ]
    [ "$(systemctl show -p Description --value container@web.service)" = "the test web server" ]
    assert_unit_accounting container@web.service
    wait_until 10 wget -qO- http://127.0.0.1:8081/
    # the container's process is the unit's main process, in the unit's cgroup
    main=$(systemctl show -p MainPID --value container@web.service)
    [ "$main" = "$(berth inspect -f '{{.State.Pid}}' web)" ]
    wait_until 10 journal_has -u container@web.service -- "started hello"
    wait_until 10 journal_has CONTAINER_NAME=web -- from-volume
    id=$(berth inspect -f '{{.Id}}' web)
    journal_has CONTAINER_ID_FULL="$id" -- "started hello"
    run berth logs web
    [[ "$output" == *"started hello"* ]]
    run berth ps --format '{{.Names}} {{.Unit}}'
    [ "$output" = "web container@web.service" ]
    # the default table names the unit after the status
    run berth ps
    [[ "${lines[1]}" =~ \ Up\ .*\ \(container@web\.service\)\ +.*\ web$ ]] || _fail "ps: ${lines[1]}"
    systemctl stop container@web.service
    run berth ps -a --format '{{.Names}} {{.Status}}'
    [[ "$output" == "web Exited "* ]]
}

@test "berth stop and restart go through systemd" {
    write_web
    systemctl start container@web.service
    pid1=$(berth inspect -f '{{.State.Pid}}' web)
    berth restart web
    [ "$(systemctl is-active container@web.service)" = active ]
    [ "$(berth inspect -f '{{.State.Pid}}' web)" != "$pid1" ]
    berth stop web
    [ "$(systemctl is-active container@web.service)" != active ]
    berth start web
    [ "$(systemctl is-active container@web.service)" = active ]
}

@test "a start whose previous record cannot all be deleted still starts; rm too; the next removal takes the rest" {
    printf '[Container]\nImage=busybox\nExec=sleep 1000\n' > /etc/berth/containers/pin.container
    systemctl daemon-reload
    systemctl start container@pin.service
    id=$(berth inspect -f '{{.Id}}' pin)
    systemctl stop container@pin.service
    # a mount point in the record: the deletion stops there (never crosses it)
    mkdir "/var/lib/berth/containers/$id/pinned"
    mount -t tmpfs tmpfs "/var/lib/berth/containers/$id/pinned"
    since=$(date '+%Y-%m-%d %H:%M:%S')
    run systemctl start container@pin.service
    assert_success
    [ "$(systemctl is-active container@pin.service)" = active ]
    # the same id again (a definition keeps it), the record a fresh one
    [ "$(berth inspect -f '{{.Id}}' pin)" = "$id" ]
    [ ! -e "/var/lib/berth/containers/$id/pinned" ]
    wait_until 10 journal_has --since "$since" -u container@pin.service -- "container pin is removed, but not all of its files"
    first=$(compgen -G "/var/lib/berth/tmp/rm-${id}-*/pinned")
    [ -n "$first" ] || _fail "no leftover of the first removal"

    # a second leftover of the same id does not stop rm either
    systemctl stop container@pin.service
    mkdir "/var/lib/berth/containers/$id/pinned"
    mount -t tmpfs tmpfs "/var/lib/berth/containers/$id/pinned"
    run --separate-stderr berth rm pin
    assert_success
    assert_output pin
    [[ "$stderr" == *"container pin is removed, but not all of its files: remove \`/var/lib/berth/tmp/rm-${id}-"* ]] ||
        _fail "stderr: $stderr"
    run berth inspect pin
    assert_failure
    [ "$(compgen -G "/var/lib/berth/tmp/rm-${id}-*/pinned" | wc -l)" -eq 2 ]

    for m in $(compgen -G "/var/lib/berth/tmp/rm-${id}-*/pinned"); do umount "$m"; done
    run berth system check
    assert_status 1
    assert_output_contains "leftover staging entry: /var/lib/berth/tmp/rm-${id}-"
    # the next removal of the same id takes what the earlier ones left
    systemctl start container@pin.service
    run berth rm -f pin
    assert_success
    [ -z "$(compgen -G "/var/lib/berth/tmp/rm-${id}-*")" ] || _fail "leftovers: $(ls /var/lib/berth/tmp)"
    run berth system check
    assert_output_not_contains "/var/lib/berth/tmp/rm-${id}-"
}

@test "Restart=on-failure brings a killed container back" {
    write_web
    systemctl start container@web.service
    pid1=$(systemctl show -p MainPID --value container@web.service)
    kill -9 "$pid1"
    wait_until 20 bash -c '[ "$(systemctl is-active container@web.service)" = active ] &&
        p=$(systemctl show -p MainPID --value container@web.service) && [ "$p" != 0 ] && [ "$p" != '"$pid1"' ]'
    wait_until 10 wget -qO- http://127.0.0.1:8081/
}

@test "systemctl enable and disable work on the template" {
    write_web
    run systemctl enable container@web.service
    [ "$status" -eq 0 ]
    [ -L /etc/systemd/system/multi-user.target.wants/container@web.service ]
    systemctl disable container@web.service
    [ ! -e /etc/systemd/system/multi-user.target.wants/container@web.service ]
}

@test "the generator links WantedBy= so the container starts at boot" {
    write_web
    [ -L /run/systemd/generator/multi-user.target.wants/container@web.service ]
    run berth generate --dry-run web
    [ "$status" -eq 0 ]
    [[ "$output" == *"MemoryMax=67108864"* ]]
    [[ "$output" == *"LogExtraFields=CONTAINER_NAME=web"* ]]
}

@test "bad definitions are reported with file:line and the others still work" {
    write_web
    cat > /etc/berth/containers/bad1.container <<'EOF2'
[Container]
Image=busybox
Frobnicate=yes
EOF2
    cat > /etc/berth/containers/bad2.container <<'EOF2'
[Container]
Image=busybox
Memory=12q
EOF2
    cat > /etc/berth/containers/bad3.container <<'EOF2'
[Container]
Exec=true
EOF2
    cat > /etc/berth/containers/bad4.container <<'EOF2'
[Contaner]
Image=busybox
EOF2
    systemctl daemon-reload
    run berth generate --dry-run
    [ "$status" -ne 0 ]
    [[ "$output" == *"bad1.container:3: "*Frobnicate* ]]
    [[ "$output" == *"bad2.container:3: "*12q* ]]
    [[ "$output" == *"bad3.container"*Image* ]]
    [[ "$output" == *"bad4.container:1: "*Contaner* ]]
    journal_has -t berth-generator -- "bad1.container:3"
    # no drop-in for the bad ones, the good one is unaffected
    [ ! -e /run/systemd/generator/container@bad1.service.d/50-berth.conf ]
    systemctl start container@web.service
    [ "$(systemctl is-active container@web.service)" = active ]
}

@test "a missing image fails the unit with a clear journal line" {
    mkdir -p /etc/berth/containers
    # Pull=never: only the store is looked at
    printf '[Container]\nImage=no-such-image:1\nExec=true\nPull=never\n' > /etc/berth/containers/noimg.container
    # Pull=missing (the default) from a registry that is not there
    printf '[Container]\nImage=127.0.0.1:1/nothing:1\nExec=true\n' > /etc/berth/containers/noreg.container
    systemctl daemon-reload
    run systemctl start container@noimg.service
    [ "$status" -ne 0 ]
    journal_has -u container@noimg.service -- "Unable to find image 'no-such-image:1' locally and the pull policy is never"
    run systemctl start container@noreg.service
    [ "$status" -ne 0 ]
    journal_has -u container@noreg.service -- "Unable to find image '127.0.0.1:1/nothing:1' locally"
    journal_has -u container@noreg.service -- "127.0.0.1:1"
    [ -z "$(berth ps -aq --filter name=noimg)" ]
    [ -z "$(berth ps -aq --filter name=noreg)" ]
    rm -f /etc/berth/containers/noimg.container /etc/berth/containers/noreg.container
    systemctl daemon-reload
}

@test "a Quadlet-style file with only shared keys works unchanged" {
    mkdir -p /etc/berth/containers
    cat > /etc/berth/containers/quad.container <<'EOF2'
[Unit]
Description=Quadlet file

[Container]
Image=busybox
ContainerName=quad
Exec=sleep 1000
Environment=FOO=bar
WorkingDir=/tmp
User=nobody
HostName=quadhost
ReadOnly=true
DropCapability=ALL
AddCapability=CAP_NET_BIND_SERVICE
NoNewPrivileges=true
Label=app=quad
Tmpfs=/scratch

[Install]
WantedBy=default.target
EOF2
    systemctl daemon-reload
    systemctl start container@quad.service
    run berth exec quad sh -c 'echo $FOO $(pwd) $(id -un) $(hostname)'
    [ "$output" = "bar /tmp nobody quadhost" ]
    run berth inspect -f '{{index .Config.Labels "app"}}' quad
    [ "$output" = quad ]
}

@test "Notify=yes: the unit is started when the container itself says READY=1" {
    # a static program (the image has no sd_notify tool) that says READY=1
    # after two seconds, over the socket berth binds into the container
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    cat > "$BATS_TEST_TMPDIR/notify.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(void)
{
        sleep(2);
        const char *path = getenv("NOTIFY_SOCKET");
        if (!path)
                return 3;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return 4;
        pause();
        return 0;
}
C
    gcc -static -O2 -o "$BATS_TEST_TMPDIR/bin/notify" "$BATS_TEST_TMPDIR/notify.c"
    mkdir -p /etc/berth/containers
    printf '[Container]\nImage=busybox\nExec=/x/notify\nVolume=%s:/x:ro\nNotify=yes\n' "$BATS_TEST_TMPDIR/bin" \
        > /etc/berth/containers/notif.container
    systemctl daemon-reload
    systemctl start --no-block container@notif.service
    # running, but not ready until the container says so
    wait_until 10 bash -c '[ "$(berth inspect -f "{{.State.Status}}" notif 2>/dev/null)" = running ]'
    [ "$(systemctl is-active container@notif.service)" = activating ]
    wait_until 10 bash -c '[ "$(systemctl is-active container@notif.service)" = active ]'
    [ "$(systemctl show -p NotifyAccess --value container@notif.service)" = all ]
}

@test "systemctl stop of a container that ends with 128+N (an init, a shell) leaves the unit inactive, not failed" {
    printf '[Container]\nImage=busybox\nRunInit=yes\nExec=sleep 1000\n' > /etc/berth/containers/clean.container
    systemctl daemon-reload
    run systemctl show -P SuccessExitStatus container@clean.service
    assert_output 143
    systemctl start container@clean.service
    systemctl stop container@clean.service
    # Docker's record of a stopped container, systemd's of a clean stop
    run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' clean
    assert_output "exited 143"
    run systemctl is-active container@clean.service
    assert_output inactive
    run systemctl show -P Result container@clean.service
    assert_output success
    # an exit of its own with another code is still a failure
    printf '[Container]\nImage=busybox\nExec=sh -c "exit 3"\n' > /etc/berth/containers/clean.container
    systemctl daemon-reload
    run systemctl start container@clean.service
    wait_until 10 bash -c '[ "$(systemctl is-active container@clean.service)" = failed ]'
}

@test "stop sends the image's STOPSIGNAL" {
    tar=$(mktemp /tmp/rootfs.XXXXXX.tar)
    "$REPO/tests/harness/mkbusybox.sh" "$tar" >/dev/null
    berth import -c 'STOPSIGNAL SIGUSR1' "$tar" stopsig:1 >/dev/null
    rm -f "$tar"
    mkdir -p /etc/berth/containers
    printf '%s\n' '[Container]' 'Image=stopsig:1' \
        "Exec=sh -c 'trap \"echo got-usr1; exit 0\" USR1; echo ready; while :; do sleep 0.1; done'" \
        > /etc/berth/containers/sig.container
    systemctl daemon-reload
    [ "$(systemctl show -p KillSignal --value container@sig.service)" = 10 ]
    systemctl start container@sig.service
    wait_until 10 journal_has CONTAINER_NAME=sig -- ready
    systemctl stop container@sig.service
    journal_has CONTAINER_NAME=sig -- got-usr1
    [ "$(berth inspect -f '{{.State.ExitCode}}' sig)" = 0 ]
    berth rm sig
    berth rmi stopsig:1
}
