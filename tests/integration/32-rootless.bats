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
    remove_user_containers
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

@test "rootless: logs reach the user's journal with Docker's fields; no berth process stays after stop" {
    as_user berth run -d --name rlog --network none busybox sh -c 'echo to-out; echo to-err >&2; sleep 300'
    for _ in $(seq 50); do
        [[ "$(as_user berth logs rlog 2>&1)" == *to-err* ]] && break
        sleep 0.2
    done
    run --separate-stderr as_user berth logs rlog
    assert_success
    assert_output "to-out"
    [ "$stderr" = "to-err" ]
    run as_user journalctl --user --no-pager -o cat CONTAINER_NAME=rlog
    assert_success
    assert_output_contains to-out
    run as_user journalctl --user --no-pager -o export CONTAINER_NAME=rlog
    assert_output_contains "CONTAINER_ID_FULL=$(as_user berth inspect -f '{{.Id}}' rlog)"
    assert_output_contains "_SYSTEMD_USER_UNIT=berth-rlog.service"
    as_user berth stop -t 1 rlog
    run pgrep -u "$ROOTLESS_USER" -f berth-runtime
    assert_failure
    # an exit right after the last line: the relay still passes it on
    as_user berth run -d --name rlast --network none busybox sh -c 'seq 1 500'
    as_user berth wait rlast
    run as_user berth logs --tail 1 rlast
    assert_output "500"
}

@test "rootless: exec, whiteouts and opaque directories, --network host" {
    as_user berth run -d --name rex --network none busybox sleep 300
    run as_user berth exec rex sh -c 'id -u; ps -o pid,comm | wc -l'
    assert_success
    [ "${lines[0]}" = 0 ]
    run as_user berth exec rex sh -c 'exit 7'
    assert_status 7
    run as_user berth exec rex sh -c 'rm /bin/ls; rm -r /usr; mkdir /usr; ls -A /usr | wc -l; test ! -e /bin/ls'
    assert_success
    assert_output 0
    upper="/home/$ROOTLESS_USER/.local/share/berth/containers/$(as_user berth inspect -f '{{.Id}}' rex)/upper"
    [ -c "$upper/bin/ls" ]
    run --separate-stderr getfattr -n user.overlay.opaque --only-values "$upper/usr"
    assert_output y
    run --separate-stderr as_user berth run --rm --network host busybox sh -c 'test -d /sys/class/net && id -u'
    assert_success
    assert_output 0
}

@test "rootless: a real Debian image pulled from the registry; its ids land in the user's subordinate range" {
    ensure_seed_images
    mkdir -p "/home/$ROOTLESS_USER/.config/berth"
    echo '{"insecure-registries": ["localhost:5000"]}' >"/home/$ROOTLESS_USER/.config/berth/config.json"
    chown -R "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/.config"
    run as_user berth pull -q localhost:5000/debian:bookworm
    assert_success
    run as_user berth run --rm --network none localhost:5000/debian:bookworm sh -c 'cat /etc/debian_version; stat -c %G /var/mail'
    assert_success
    assert_line_matches '^12\.'
    assert_output_contains mail
    # group mail (8) of the image is the 8th subordinate id on the host
    mail=$(find "/home/$ROOTLESS_USER/.local/share/berth/layers" -maxdepth 4 -path '*/var/mail' | head -1)
    [ -n "$mail" ]
    [ "$(stat -c %g "$mail")" = "$((ROOTLESS_SUB + 7))" ]
    [ "$(stat -c %u "$mail")" = "$ROOTLESS_UID" ]
}

@test "rootless: build with RUN from a relative context, run as the image's user, volumes, cp, commit, save and load" {
    ensure_seed_images
    as_user mkdir -p "/home/$ROOTLESS_USER/proj"
    cat >"/home/$ROOTLESS_USER/proj/Dockerfile" <<'DOCKERFILE'
FROM localhost:5000/debian:bookworm
RUN useradd -u 1000 -m app && echo built-by-run >/home/app/f && chown app /home/app/f
COPY note.txt /home/app/
USER app
CMD ["sh", "-c", "cat /home/app/f /home/app/note.txt; id -un"]
DOCKERFILE
    echo from-context >"/home/$ROOTLESS_USER/proj/note.txt"
    chown -R "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/proj"
    run as_user sh -c 'cd ~/proj && berth build -q -t rlapp .'
    assert_success
    run --separate-stderr as_user berth run --rm --network none rlapp
    assert_success
    assert_output $'built-by-run\nfrom-context\napp'

    # a named volume written by uid 1000: the host sees the 1000th subordinate id
    as_user berth run --rm --network none -v rldata:/data -u 0 rlapp sh -c 'echo kept >/data/k; chown app /data/k'
    run as_user berth run --rm --network none -v rldata:/data rlapp cat /data/k
    assert_output kept
    vol=$(as_user berth volume inspect -f '{{.Mountpoint}}' rldata)
    [ "$(stat -c %u "$vol/k")" = "$((ROOTLESS_SUB + 999))" ]
    # a bind mount with a relative path
    as_user mkdir -p "/home/$ROOTLESS_USER/proj/out"
    run as_user sh -c 'cd ~/proj && berth run --rm --network none -u 0 -v ./out:/out rlapp sh -c "echo via-bind >/out/b"'
    assert_success
    [ "$(cat "/home/$ROOTLESS_USER/proj/out/b")" = via-bind ]

    # cp into a stopped container and out of a running one
    as_user berth create --name rlcp --network none rlapp sleep 300
    run as_user sh -c 'cd ~/proj && berth cp note.txt rlcp:/tmp/n'
    assert_success
    as_user berth start rlcp
    run as_user sh -c 'cd ~/proj && berth cp rlcp:/tmp/n copied && cat copied'
    assert_success
    assert_output from-context

    # commit, save, rmi, load
    as_user berth exec rlcp sh -c 'echo committed >/tmp/c'
    as_user berth commit rlcp rlcommitted
    run as_user sh -c 'cd ~/proj && berth save -o img.tar rlcommitted && berth rm -f rlcp && berth rmi rlcommitted && berth load -i img.tar'
    assert_success
    run as_user berth run --rm --network none rlcommitted cat /tmp/c
    assert_output committed
}

@test "rootless: the user cannot use root's store; root's options for user namespaces are refused in one line" {
    [ "$(stat -c %a "/home/$ROOTLESS_USER/.local/share/berth")" = 700 ]
    run as_user berth --root /var/lib/berth images
    assert_failure
    [ "${#lines[@]}" -eq 1 ]
    assert_output_contains "berth: "
    run as_user ls /var/lib/berth
    assert_failure
    before=$(as_user berth ps -aq | wc -l)
    run as_user berth run --userns=auto --network none busybox true
    assert_failure
    assert_output_contains "for root's containers"
    [ "$(as_user berth ps -aq | wc -l)" = "$before" ]
}

@test "rootless: a user without subordinate ids gets one line on how to add them, and the single-id mapping" {
    id -u berthsolo >/dev/null 2>&1 || useradd -m -s /bin/bash berthsolo
    sed -i '/^berthsolo:/d' /etc/subuid /etc/subgid
    loginctl enable-linger berthsolo
    systemctl start "user@$(id -u berthsolo).service"
    tar=$(mktemp /tmp/busybox-rootfs.XXXXXX.tar)
    "$REPO/tests/harness/mkbusybox.sh" "$tar" >&2
    chmod 0644 "$tar"
    solo() { runuser -u berthsolo -- env -i HOME=/home/berthsolo PATH=/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$(id -u berthsolo)" "$@"; }
    solo berth import "$tar" busybox:latest >"$BATS_TEST_TMPDIR/solo.out" 2>&1 || echo "import: exit $?" >>"$BATS_TEST_TMPDIR/solo.out"
    run cat "$BATS_TEST_TMPDIR/solo.out"
    rm -f "$tar"
    assert_success
    assert_output_contains "usermod --add-subuids"
    run solo berth run --rm --network none busybox id -u
    assert_success
    assert_line_matches '^0$'
    ids=$(solo berth ps -aq)
    [ -z "$ids" ]
    # one user cannot reach another's store
    run solo berth --root "/home/$ROOTLESS_USER/.local/share/berth" images
    assert_failure
    assert_line_matches '^berth: '
    run solo ls "/home/$ROOTLESS_USER/.local/share/berth/containers"
    assert_failure
}

@test "rootless: info says so, with the user's mapping and paths; root's says not" {
    run as_user berth info --format '{{.Host.Security.Rootless}} {{.DockerRootDir}} {{.BerthRunDir}}'
    assert_success
    assert_output "true /home/$ROOTLESS_USER/.local/share/berth /run/user/$ROOTLESS_UID/berth"
    run as_user berth info --format '{{json .Host.IDMappings.UIDMap}}'
    assert_output_contains "{\"ContainerID\":0,\"HostID\":$ROOTLESS_UID,\"Size\":1}"
    assert_output_contains "{\"ContainerID\":1,\"HostID\":$ROOTLESS_SUB,"
    run as_user berth info
    assert_output_contains "Rootless: yes"
    assert_line_matches "^  rootless$"
    run berth info --format '{{.Host.Security.Rootless}}'
    assert_output false
}

@test "rootless: health checks, pause, top, restart policy, -it, push to the registry" {
    as_user berth run -d --name rhc --network none --health-cmd 'test -e /tmp/ok' --health-interval 1s \
        --health-retries 1 busybox sh -c 'touch /tmp/ok; sleep 300'
    for _ in $(seq 50); do
        [ "$(as_user berth inspect -f '{{.State.Health.Status}}' rhc)" = healthy ] && break
        sleep 0.2
    done
    run as_user berth healthcheck run rhc
    assert_success
    as_user berth exec rhc rm /tmp/ok
    for _ in $(seq 50); do
        [ "$(as_user berth inspect -f '{{.State.Health.Status}}' rhc)" = unhealthy ] && break
        sleep 0.2
    done
    run as_user berth ps --format '{{.Status}}' --filter name=rhc
    assert_output_contains "(unhealthy)"
    # top: the container's processes, not its log relay
    run as_user berth top rhc
    assert_success
    assert_output_contains "sleep 300"
    assert_output_not_contains berth-runtime
    as_user berth pause rhc
    [ "$(as_user berth inspect -f '{{.State.Status}}' rhc)" = paused ]
    as_user berth unpause rhc
    [ "$(as_user berth inspect -f '{{.State.Status}}' rhc)" = running ]

    as_user berth run -d --name rrp --network none --restart on-failure:2 busybox sh -c 'exit 3'
    for _ in $(seq 50); do
        [ "$(as_user systemctl --user show -P NRestarts berth-rrp.service)" = 2 ] && break
        sleep 0.2
    done
    run as_user systemctl --user show -P NRestarts berth-rrp.service
    assert_output 2

    run as_user script -qec 'berth run --rm -it --network none busybox sh -c "tty; echo in-tty"' /dev/null </dev/null
    assert_success
    assert_output_contains /dev/pts/0
    assert_output_contains in-tty

    ensure_seed_images
    mkdir -p "/home/$ROOTLESS_USER/.config/berth"
    echo '{"insecure-registries": ["localhost:5000"]}' >"/home/$ROOTLESS_USER/.config/berth/config.json"
    chown -R "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/.config"
    as_user berth tag busybox localhost:5000/berthie/bb:1
    run as_user berth push localhost:5000/berthie/bb:1
    assert_success
    run skopeo inspect --tls-verify=false docker://localhost:5000/berthie/bb:1
    assert_success
}

@test "rootless: limits are the user's unit's properties; a controller not delegated to the user's manager is named" {
    run --separate-stderr as_user berth run -d --name rlim --network none -m 64m --pids-limit 50 busybox sleep 300
    assert_success
    run as_user systemctl --user show -P MemoryMax berth-rlim.service
    assert_output 67108864
    run as_user systemctl --user show -P TasksMax berth-rlim.service
    assert_output 50
    uid=$ROOTLESS_UID
    for ctl in memory pids; do
        if [ -e /sys/fs/cgroup/cgroup.controllers ] &&
            grep -qw "$ctl" "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers"; then
            [[ "$stderr" != *"the $ctl controller is not delegated"* ]]
        else
            # this harness's hybrid cgroups delegate nothing to user managers: said by name
            [[ "$stderr" == *"the $ctl controller is not delegated to user@$uid.service on this host"* ]]
        fi
    done
}

@test "rootless: berth unshare shows the store's files with their image ids and lets the user remove them" {
    run as_user berth unshare id -u
    assert_success
    assert_output 0
    run as_user berth unshare sh -c 'exit 9'
    assert_status 9
    run -127 as_user berth unshare no-such-command-here
    run as_user berth volume create rlunshare
    vol=$(as_user berth volume inspect -f '{{.Mountpoint}}' rlunshare)
    as_user berth run --rm --network none -v rlunshare:/v busybox sh -c 'mkdir /v/d; touch /v/d/f; chown -R 33:33 /v/d'
    run as_user berth unshare stat -c %u "$vol/d/f"
    assert_output 33
    # the user alone cannot remove a subordinate id's directory; in the namespace it can
    run as_user rm -rf "$vol/d"
    assert_failure
    [ -e "$vol/d/f" ]
    run as_user berth unshare rm -rf "$vol/d"
    assert_success
    [ ! -e "$vol/d" ]
    run berth unshare true
    assert_failure
    assert_output "berth: berth unshare is for users: root's berth works in the host's user namespace"
}

@test "rootless: an attached run --rm has no stop hook; its client removes it, also when stopped from elsewhere" {
    user_unit_active() { [ "$(as_user systemctl --user is-active "berth-$1.service")" = active ]; }
    as_user berth run --rm --name urm --network none busybox sleep 30 >/dev/null &
    client=$!
    wait_until 10 user_unit_active urm
    run as_user systemctl --user show -p ExecStopPost --value berth-urm.service
    assert_success
    assert_output ""
    id=$(as_user berth inspect -f '{{.Id}}' urm)
    run as_user berth stop -t 1 urm
    assert_success
    run as_user berth ps -a --format '{{.Names}}'
    assert_output_not_contains urm
    st=0
    wait "$client" || st=$?
    [ "$st" -eq 137 ] || _fail "the client: status $st"
    [ ! -e "/home/$ROOTLESS_USER/.local/share/berth/containers/$id" ] || _fail "the record is left"
    # detached, the hook stays
    as_user berth run -d --rm --name urd --network none busybox sleep 30 >/dev/null
    run as_user systemctl --user show -p ExecStopPost --value berth-urd.service
    assert_output_contains _cleanup
}

@test "rootless: a killed client's --rm container: ps lists it exited without a warning, prune removes it" {
    user_unit_active() { [ "$(as_user systemctl --user is-active "berth-$1.service")" = active ]; }
    user_unit_gone() { ! as_user systemctl --user is-active -q "berth-$1.service"; }
    # a file of the container's root (a subordinate id) in its upper dir
    as_user berth run --rm --name uorph --network none busybox sh -c 'mkdir -p /made/deep && touch /made/deep/f && exec sleep 30' >/dev/null &
    wait_until 10 user_unit_active uorph
    wait_until 10 as_user berth exec uorph test -e /made/deep/f
    client=$(pgrep -u "$ROOTLESS_USER" -f 'berth run --rm --name uorph')
    [ -n "$client" ] || _fail "no client found"
    kill -KILL $client
    id=$(as_user berth inspect -f '{{.Id}}' uorph)
    as_user berth kill uorph >/dev/null
    wait_until 10 user_unit_gone uorph
    # ps stays outside the user's namespace: it cannot remove the files of
    # the subordinate ids, so it lists the container, and says nothing else
    run --separate-stderr as_user berth ps -a --format '{{.Names}} {{.Status}}'
    assert_success
    assert_output_contains "uorph Exited"
    [ -z "$stderr" ] || _fail "stderr: $stderr"
    [ -d "/home/$ROOTLESS_USER/.local/share/berth/containers/$id" ] || _fail "the record is gone or half gone"
    # a command in the namespace removes it
    run as_user berth container prune -f
    assert_success
    [ ! -e "/home/$ROOTLESS_USER/.local/share/berth/containers/$id" ] || _fail "the record is left"
    run as_user berth ps -a --format '{{.Names}}'
    assert_output_not_contains uorph
}
