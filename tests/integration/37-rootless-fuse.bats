#!/usr/bin/env bats
# A user's overlays through fuse-overlayfs (issue 17): the fallback where the
# kernel refuses overlayfs in a user namespace, forced here with the
# user's config.json key "mount-program" (Podman's mount_program), since
# the harness' kernel would take the kernel's overlay.

load helpers

USER_CONFIG="/home/$ROOTLESS_USER/.config/berth/config.json"

setup_file() {
    command -v fuse-overlayfs >/dev/null ||
        skip "fuse-overlayfs is not installed (apt-get install fuse-overlayfs)"
    rootless_user_setup
    as_user test -r /dev/fuse -a -w /dev/fuse ||
        skip "/dev/fuse is not readable and writable by the user (Debian's fuse3 leaves it 0666)"
    ensure_user_busybox_image
    as_user mkdir -p "$(dirname "$USER_CONFIG")"
    if [ -e "$USER_CONFIG" ]; then
        cp "$USER_CONFIG" "$BATS_FILE_TMPDIR/config.json.saved"
    fi
    touch "$BATS_FILE_TMPDIR/set-up"
}

teardown() {
    local ids
    ids=$(as_user berth ps -aq)
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
}

teardown_file() {
    [ -e "$BATS_FILE_TMPDIR/set-up" ] || return 0
    if [ -e "$BATS_FILE_TMPDIR/config.json.saved" ]; then
        cp "$BATS_FILE_TMPDIR/config.json.saved" "$USER_CONFIG"
    else
        rm -f "$USER_CONFIG"
    fi
    as_user berth rmi -f fuimg fucommit fuopq >/dev/null 2>&1 || true
}

# user_config JSON: the user's config.json
user_config() {
    printf '%s\n' "$1" >"$USER_CONFIG"
    chown "$ROOTLESS_USER:" "$USER_CONFIG"
}

fuse_on() {
    user_config '{"mount-program": "'"$(command -v fuse-overlayfs)"'"}'
}

# sees_both IMAGE SCRIPT EXPECTED: SCRIPT run in IMAGE prints EXPECTED
# through fuse-overlayfs and through the kernel's overlay (after which the
# config has no mount program).
sees_both() {
    local how
    for how in fuse kernel; do
        if [ "$how" = fuse ]; then fuse_on; else user_config '{}'; fi
        run --separate-stderr as_user berth run --rm --network none "$1" sh -c "$2"
        assert_success
        assert_output "$3"
    done
}

# No fuse-overlayfs process is left, and no process sees its mount.
no_fuse_left() {
    local p
    for p in /proc/[0-9]*; do
        if [ "$(cat "$p/comm" 2>/dev/null)" = fuse-overlayfs ]; then
            echo "left running: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" >&2
            return 1
        fi
        if grep -q ' fuse.fuse-overlayfs ' "$p/mountinfo" 2>/dev/null; then
            echo "a fuse-overlayfs mount is left in the namespace of ${p#/proc/} ($(cat "$p/comm" 2>/dev/null))" >&2
            return 1
        fi
    done
}

@test "rootless fuse: the root through fuse-overlayfs, its daemon outside the container and in the unit's cgroup" {
    fuse_on
    run --separate-stderr as_user berth run --rm --network none busybox sh -c 'cat /etc/group; echo written >/tmp/w; cat /tmp/w'
    assert_success
    assert_output $'root:x:0:\nnobody:x:65534:\nwritten'
    no_fuse_left

    as_user berth run -d --name fu1 --network none busybox sleep 300
    run as_user berth exec fu1 awk '$2 == "/" {print $3}' /proc/mounts
    assert_success
    assert_output fuse.fuse-overlayfs
    # not among the container's processes
    run as_user berth exec fu1 ps -o comm
    assert_output_not_contains fuse-overlayfs
    run pgrep -u "$ROOTLESS_USER" -x fuse-overlayfs
    assert_success
    [ "${#lines[@]}" -eq 1 ]
    run cat "/proc/${lines[0]}/cgroup"
    assert_output_contains "/berth-fu1.service"

    # paused, its fuse-overlayfs is frozen with it: cp says so
    as_user berth pause fu1
    run as_user berth cp fu1:/etc/passwd -
    assert_failure
    assert_output "berth: container fu1 is paused, and so is the fuse-overlayfs of its root: unpause it first"
    as_user berth unpause fu1
    run as_user sh -c 'berth cp fu1:/etc/group - | tar -xO'
    assert_output $'root:x:0:\nnobody:x:65534:'

    run as_user berth info -f '{{.Driver}}'
    assert_output overlay
    run as_user berth info
    assert_output_contains "  Mount Program: $(command -v fuse-overlayfs)"

    # stop ends it; a new start mounts again; rm leaves nothing
    as_user berth stop -t 1 fu1
    no_fuse_left
    as_user berth start fu1
    run as_user berth exec fu1 cat /etc/passwd
    assert_success
    assert_output_contains "root:x:0:0:root:/root:/bin/sh"
    as_user berth rm -f fu1
    no_fuse_left
}

@test "rootless fuse: what a container writes is seen by cp, export and commit; cp into a stopped container; a volume's copy-up" {
    fuse_on
    as_user berth run -d --name fu2 --network none busybox sh -c 'echo from-run >/tmp/r; sleep 300'
    for _ in $(seq 50); do
        as_user berth exec fu2 test -f /tmp/r && break
        sleep 0.1
    done
    run as_user sh -c 'cd && berth cp fu2:/tmp/r r1 && cat r1'
    assert_success
    assert_output from-run
    as_user berth stop -t 1 fu2

    # a stopped container: cp mounts its root through fuse-overlayfs
    run as_user sh -c 'cd && berth cp fu2:/tmp/r r2 && cat r2'
    assert_success
    assert_output from-run
    no_fuse_left
    as_user sh -c 'cd && echo copied-in >in.txt && berth cp in.txt fu2:/tmp/in'
    no_fuse_left
    run as_user sh -c 'berth export fu2 | tar -xOf - tmp/in tmp/r'
    assert_success
    assert_output $'copied-in\nfrom-run'
    no_fuse_left

    as_user berth commit fu2 fucommit
    run --separate-stderr as_user berth run --rm --network none fucommit cat /tmp/r /tmp/in
    assert_success
    assert_output $'from-run\ncopied-in'
    as_user berth rm -f fu2
    no_fuse_left

    # a new volume gets the image's files through the copy-up's own mount
    run --separate-stderr as_user berth run --rm --network none -v fuvol:/etc busybox cat /etc/group
    assert_success
    assert_output $'root:x:0:\nnobody:x:65534:'
    as_user berth volume rm fuvol
    no_fuse_left
}

@test "rootless fuse: build with RUN and COPY; whiteouts and opaque directories of layers and of a container" {
    fuse_on
    as_user mkdir -p "/home/$ROOTLESS_USER/fuproj"
    cat >"/home/$ROOTLESS_USER/fuproj/Dockerfile" <<'DOCKERFILE'
FROM busybox
RUN mkdir -p /d/sub && echo old >/d/old && echo gone >/gone
RUN rm /gone /bin/ls && rm -r /d && mkdir /d && echo new >/d/new
COPY note.txt /d/
DOCKERFILE
    echo from-context >"/home/$ROOTLESS_USER/fuproj/note.txt"
    chown -R "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/fuproj"
    run as_user sh -c 'cd ~/fuproj && berth build -q -t fuimg .'
    assert_success
    no_fuse_left
    sees_both fuimg 'ls -A /d; cat /d/note.txt; test ! -e /bin/ls && test ! -e /gone && echo hidden' \
        $'new\nnote.txt\nfrom-context\nhidden'

    # a container's own whiteout and opaque directory, as fuse-overlayfs
    # marks them in the upper dir, become the committed layer's
    fuse_on
    as_user berth run -d --name fu3 --network none fuimg sh -c 'rm -r /d && mkdir /d && echo x >/d/x && rm /bin/cat && touch /ready && sleep 300'
    for _ in $(seq 50); do
        as_user berth exec fu3 test -f /ready && break
        sleep 0.1
    done
    run as_user berth diff fu3
    assert_success
    assert_output_not_contains ".wh."
    assert_output_contains "D /bin/cat"
    assert_output_contains "A /d/x"
    as_user berth commit fu3 fuopq
    sees_both fuopq 'ls -A /d; test ! -e /bin/cat && echo no-cat' $'x\nno-cat'
    as_user berth rm -f fu3
    no_fuse_left
}

@test "rootless fuse: a missing or relative mount program is one line, and the store is intact" {
    user_config '{"mount-program": "/nonexistent/fuse-overlayfs"}'
    before=$(as_user berth ps -aq | wc -l)
    run as_user berth run --rm --network none busybox true
    assert_failure
    [ "${#lines[@]}" -eq 1 ]
    assert_output_contains "berth: "
    assert_output_contains "cannot mount the container's root: the mount program \`/nonexistent/fuse-overlayfs\` (\"mount-program\" of /home/$ROOTLESS_USER/.config/berth/config.json): No such file or directory"
    [ "$(as_user berth ps -aq | wc -l)" -eq "$before" ]
    [ -n "$(as_user berth images -q busybox:latest)" ]
    no_fuse_left

    # a created container keeps its record; it starts once the key is fixed
    as_user berth create --name fu4 --network none busybox echo started
    run as_user berth start -a fu4
    assert_failure
    assert_output_contains "the mount program \`/nonexistent/fuse-overlayfs\`"
    user_config '{"mount-program": "fuse-overlayfs"}'
    run as_user berth start -a fu4
    assert_failure
    [ "${#lines[@]}" -eq 1 ]
    assert_output_contains "\"mount-program\" must be an absolute path, not \`fuse-overlayfs\`"
    user_config '{"mount-program": ""}'
    run --separate-stderr as_user berth start -a fu4
    assert_success
    assert_output started
    no_fuse_left
}

@test "rootless fuse: where the kernel refuses (a store on the guest's overlayfs root) fuse-overlayfs is the fallback; without it, one line" {
    findmnt -n -o FSTYPE --target /var/tmp | grep -qx overlay ||
        skip "/var/tmp is not on an overlayfs here: the kernel would not refuse the store's overlay"
    user_config '{}'
    store=/var/tmp/berthie-fuse-store
    as_user mkdir -p "$store"
    as_user sh -c "berth save busybox:latest | berth --root $store load -q" >/dev/null
    as_user berth --root "$store" run -d --name fu5 --network none busybox sh -c 'echo fallback >/tmp/f; sleep 300'
    run pgrep -u "$ROOTLESS_USER" -x fuse-overlayfs
    if [ "$status" -ne 0 ]; then
        as_user berth --root "$store" rm -f fu5 >/dev/null
        skip "the kernel mounts overlayfs with the upper dir on the guest's root here: no fallback to see"
    fi
    run as_user berth --root "$store" exec fu5 awk '$2 == "/" {print $3}' /proc/mounts
    assert_output fuse.fuse-overlayfs
    as_user berth --root "$store" stop -t 1 fu5
    no_fuse_left

    # cp into the stopped container mounts it too: without fuse-overlayfs
    # in PATH, one line, and the container is as it was
    echo in >"/home/$ROOTLESS_USER/fu5-in"
    chown "$ROOTLESS_USER:" "/home/$ROOTLESS_USER/fu5-in"
    run as_user env PATH=/nonexistent /usr/bin/berth --root "$store" cp "/home/$ROOTLESS_USER/fu5-in" fu5:/tmp/in
    assert_failure
    [ "${#lines[@]}" -eq 1 ]
    assert_output "berth: mount the container's filesystem: the kernel refuses overlayfs in a user namespace and fuse-overlayfs is not installed (apt-get install fuse-overlayfs)"
    run as_user berth --root "$store" cp "/home/$ROOTLESS_USER/fu5-in" fu5:/tmp/in
    assert_success
    run as_user sh -c "berth --root $store export fu5 | tar -xOf - tmp/f tmp/in | sort"
    assert_output $'fallback\nin'
    as_user berth --root "$store" rm -f fu5
    no_fuse_left
    as_user berth unshare rm -rf "$store"
}
