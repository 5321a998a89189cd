#!/usr/bin/env bats
# A user's --userns=keep-id and --userns=nomap (issue 17): a user namespace
# nested in berth's own, the user kept as itself in the container (keep-id)
# or not mapped at all (nomap), and the container's root a subordinate id.

load helpers

setup_file() {
    rootless_user_setup
    ensure_user_busybox_image
}

teardown() {
    remove_user_containers
    rm -rf "/home/$ROOTLESS_USER/kd"
    remove_user_definitions
}

remove_user_definitions() {
    local d="/home/$ROOTLESS_USER/.config/berth/containers"
    if [ -e "$d/kid.container" ]; then
        as_user systemctl --user stop container@kid.service >/dev/null 2>&1 || true
        rm -f "$d/kid.container"
        as_user systemctl --user daemon-reload
    fi
}

@test "keep-id: the user is itself in the container, by name; files it writes are the user's on the host" {
    run --separate-stderr as_user berth run --rm --network none --userns=keep-id busybox sh -c \
        'id -u; id -g; id -un; echo "HOME=$HOME"; stat -c "%U %G" /etc/passwd /bin'
    assert_success
    assert_output "$ROOTLESS_UID
$(id -g "$ROOTLESS_USER")
$ROOTLESS_USER
HOME=/home/$ROOTLESS_USER
root root
root root"

    # the nested map, as Podman's: the user at its own id, the subordinate ids around it
    run as_user berth run --rm --network none --userns=keep-id busybox cat /proc/self/uid_map
    assert_success
    assert_line_matches "^ +0 +1 +$ROOTLESS_UID\$"
    assert_line_matches "^ +$ROOTLESS_UID +0 +1\$"

    as_user mkdir -p "/home/$ROOTLESS_USER/kd"
    echo from-host >"/home/$ROOTLESS_USER/kd/mine"
    chown "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/kd/mine"
    run as_user berth run --rm --network none --userns=keep-id -v "/home/$ROOTLESS_USER/kd:/kd" busybox \
        sh -c 'stat -c %u /kd/mine; echo by-container >/kd/new'
    assert_success
    assert_output "$ROOTLESS_UID"
    [ "$(stat -c %u:%g "/home/$ROOTLESS_USER/kd/new")" = "$ROOTLESS_UID:$(id -g "$ROOTLESS_USER")" ]
    # the container's root is the first subordinate id
    run as_user berth run --rm --network none --userns=keep-id -u 0 -v "/home/$ROOTLESS_USER/kd:/kd" busybox \
        sh -c 'id -u; echo by-root >/kd/root'
    assert_success
    assert_output 0
    [ "$(stat -c %u "/home/$ROOTLESS_USER/kd/root")" = "$ROOTLESS_SUB" ]
    # without keep-id the user's file is the container root's
    run as_user berth run --rm --network none -v "/home/$ROOTLESS_USER/kd:/kd" busybox stat -c %u /kd/mine
    assert_output 0
}

@test "keep-id:uid=N,gid=N puts the user there; nomap leaves the user out" {
    run as_user berth run --rm --network none --userns=keep-id:uid=200,gid=210 busybox sh -c 'id -u; id -g; id -un'
    assert_success
    assert_output $'200\n210\n'"$ROOTLESS_USER"

    as_user mkdir -p "/home/$ROOTLESS_USER/kd"
    run as_user berth run --rm --network none --userns=nomap -v "/home/$ROOTLESS_USER/kd:/kd" busybox \
        sh -c 'id -u; stat -c %u /kd; touch /kd/x'
    assert_failure
    [ "${lines[0]}" = 0 ] || _fail "container root expected"
    [ "${lines[1]}" = 65534 ] || _fail "the user's directory should be nobody's"
    assert_output_contains "Permission denied"
    [ ! -e "/home/$ROOTLESS_USER/kd/x" ]
    run as_user berth run --rm --network none --userns=nomap busybox cat /proc/self/uid_map
    assert_success
    assert_line_matches '^ +0 +1 +[0-9]+$'
    for l in "${lines[@]}"; do
        read -r _ lower _ <<<"$l"
        [ "$lower" != 0 ] || _fail "the user is mapped: $l"
    done
}

@test "keep-id: inspect, exec, cp, commit, export and the default network; the host sees the user" {
    as_user berth run -d --name ke --userns=keep-id busybox sleep 300
    run as_user berth inspect -f '{{.HostConfig.UsernsMode}} {{.Config.User}}' ke
    assert_output "keep-id $ROOTLESS_UID:$(id -g "$ROOTLESS_USER")"
    pid=$(as_user berth inspect -f '{{.State.Pid}}' ke)
    run awk '/^Uid:/ {print $2}' "/proc/$pid/status"
    assert_output "$ROOTLESS_UID"
    run as_user berth exec ke id -u
    assert_output "$ROOTLESS_UID"
    run as_user berth exec -u 0 ke id -u
    assert_output 0
    # pasta's interface: the shim reached the nested namespace
    run as_user berth exec ke sh -c "ip -o link | grep -vc ': lo:'"
    assert_success
    [ "$output" -ge 1 ]

    as_user berth exec ke sh -c 'echo by-user >/tmp/mine'
    echo copied-in >"$BATS_TEST_TMPDIR/in"
    chmod 0644 "$BATS_TEST_TMPDIR/in"
    cp "$BATS_TEST_TMPDIR/in" "/home/$ROOTLESS_USER/in"
    run as_user berth cp "/home/$ROOTLESS_USER/in" ke:/tmp/in
    assert_success
    run as_user berth exec ke stat -c '%u %n' /tmp/mine /tmp/in
    assert_output "$ROOTLESS_UID /tmp/mine
0 /tmp/in"
    as_user berth commit ke kimg
    run as_user berth run --rm --network none kimg stat -c %u /tmp/mine /etc/passwd
    assert_output "$ROOTLESS_UID
0"
    as_user berth stop -t 1 ke
    run as_user sh -c 'berth export ke | tar tvf - tmp/mine etc/hostname bin/sh'
    assert_success
    assert_line_matches "^-.* $ROOTLESS_UID/$(id -g "$ROOTLESS_USER") .* tmp/mine\$"
    assert_line_matches '^-.* 0/0 .* etc/hostname$'
    as_user berth rm ke
    run ls "/home/$ROOTLESS_USER/.local/share/berth/containers"
    assert_output ""
}

@test "keep-id in a definition (UserNS=), and the refusals: one line each, nothing made" {
    local d="/home/$ROOTLESS_USER/.config/berth/containers"
    mkdir -p "$d"
    cat >"$d/kid.container" <<'EOF'
[Container]
Image=busybox
Exec=sh -c 'id -u; id -un; sleep 300'
UserNS=keep-id
Network=none
EOF
    chown -R "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/.config"
    as_user systemctl --user daemon-reload
    as_user systemctl --user start container@kid.service
    kid_logged() { [[ "$(as_user berth logs kid 2>&1)" == *"$ROOTLESS_USER"* ]]; }
    wait_until 10 kid_logged
    run as_user berth logs kid
    assert_output "$ROOTLESS_UID
$ROOTLESS_USER"

    before=$(as_user berth ps -aq | wc -l)
    for args in "--userns=keep-id:uid=x" "--userns=keep-id:size=5" "--userns=nomap:x" "--userns=auto" \
            "--uidmap 0:1:10"; do
        # shellcheck disable=SC2086
        run as_user berth run --rm --network none $args busybox true
        [ "$status" -eq 125 ] || _fail "$args: status $status"
        [ "${#lines[@]}" -eq 1 ] || _fail "$args: ${#lines[@]} lines: $output"
        [[ "${lines[0]}" == "berth: "* ]] || _fail "$args: $output"
    done
    [ "$(as_user berth ps -aq | wc -l)" = "$before" ]
    # root's containers: keep-id means nothing for root
    run berth run --rm --userns=keep-id busybox true
    assert_failure
    assert_output_contains "for a user's berth only"
}

@test "keep-id on a real Debian image, from a working directory with a relative bind mount" {
    ensure_seed_images
    mkdir -p "/home/$ROOTLESS_USER/.config/berth" "/home/$ROOTLESS_USER/kd"
    echo '{"insecure-registries": ["localhost:5000"]}' >"/home/$ROOTLESS_USER/.config/berth/config.json"
    chown -R "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/.config" "/home/$ROOTLESS_USER/kd"
    run as_user berth pull -q localhost:5000/debian:bookworm
    assert_success
    run --separate-stderr as_user sh -c 'cd ~/kd && berth run --rm --network none --userns=keep-id -v ./:/w -w /w \
        localhost:5000/debian:bookworm sh -c "id -un; stat -c %G /var/mail; ls -ld /root | cut -c1-10; echo made >out"'
    assert_success
    assert_output "$ROOTLESS_USER
mail
drwx------"
    [ "$(stat -c %U "/home/$ROOTLESS_USER/kd/out")" = "$ROOTLESS_USER" ]

    # the shifted copy of the image: one per image and mapping, shared, gone with the image
    mapped="/home/$ROOTLESS_USER/.local/share/berth/mapped"
    as_user berth tag localhost:5000/debian:bookworm kdeb
    hex=$(as_user berth image inspect -f '{{.Id}}' kdeb | sed 's/^sha256://')
    as_user berth run -d --name k1 --network none --userns=keep-id kdeb sleep 300
    as_user berth run -d --name k2 --network none --userns=keep-id kdeb sleep 300
    run as_user berth run --rm --network none --userns=keep-id:uid=5 kdeb id -u
    assert_output 5
    run ls "$mapped"
    [ "$(grep -c "^$hex-" <<<"$output")" -eq 2 ] || _fail "expected one copy for keep-id (shared) and one for uid=5"
    as_user berth rmi localhost:5000/debian:bookworm
    run as_user berth rmi kdeb
    assert_failure
    assert_output_contains "is using its referenced image"
    as_user berth rm -f k1 k2
    as_user berth rmi kdeb
    run ls "$mapped"
    [ "$(grep -c "^$hex-" <<<"$output")" -eq 0 ] || _fail "the copies should go with the image"
}
