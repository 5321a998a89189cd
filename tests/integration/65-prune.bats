#!/usr/bin/env bats
# image prune, system prune, system df, system check [--repair].

load helpers

setup_file() {
    ensure_busybox_image
    T65=$(mktemp -d /tmp/t65.XXXXXX)
    export T65
}

teardown_file() {
    rm -rf "$T65"
}

teardown() {
    local c i
    for c in $(cat "$T65/containers" 2>/dev/null); do berth rm -f "$c" >/dev/null 2>&1 || true; done
    : >"$T65/containers"
    for i in $(berth images -q --no-trunc 'prune65/*' 2>/dev/null) $(cat "$T65/images" 2>/dev/null); do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
    : >"$T65/images"
}

# A one-file rootfs tarball with unique content: import_tiny TAG -> prints the ID.
import_tiny() {
    local d
    d=$(mktemp -d "$T65/root.XXXXXX")
    echo "prune65 $RANDOM$RANDOM$RANDOM" >"$d/marker"
    tar -cf "$d.tar" -C "$d" marker
    berth import "$d.tar" "$1" | tee -a "$T65/images"
}

new_container() {
    local name
    name=$(unique_name c65)
    berth create --name "$name" "$1" true >/dev/null
    echo "$name" >>"$T65/containers"
    echo "$name"
}

has_image() { berth images -q --no-trunc | grep -qx "$1"; }

@test "image prune removes a dangling image and keeps a used one" {
    first=$(import_tiny prune65/dangle:1)
    second=$(import_tiny prune65/dangle:1)     # first becomes <none>
    used=$(import_tiny prune65/used:1)
    new_container prune65/used:1 >/dev/null
    import_tiny prune65/used:1 >/dev/null      # used becomes <none>, still used
    [ "$first" != "$second" ]
    has_image "$first"

    run berth image prune -f
    assert_success
    assert_line_matches '^Deleted Images:$'
    assert_output_contains "deleted: $first"
    assert_output_not_contains "$used"
    assert_output_not_contains "$second"
    assert_line_matches '^Total reclaimed space: [0-9.]+k?B$'

    run ! has_image "$first"
    has_image "$used"
    has_image "$second"
    berth images | grep -q 'prune65/dangle'
}

@test "image prune -a removes an unused tagged image, not busybox while a container uses it" {
    bb=$(berth images -q --no-trunc busybox:latest)
    new_container busybox:latest >/dev/null
    unused=$(import_tiny prune65/unused:1)

    run berth image prune -a -f
    assert_success
    assert_output_contains "untagged: prune65/unused:1"
    assert_output_contains "deleted: $unused"
    assert_output_not_contains "$bb"
    run ! has_image "$unused"
    has_image "$bb"
}

@test "image prune with nothing to prune reports 0B" {
    run berth image prune -f </dev/null
    assert_success
    # a second prune right after finds nothing dangling
    run berth image prune -f
    assert_success
    assert_output "Total reclaimed space: 0B"
}

@test "system df shows the busybox image size and the container count" {
    new_container busybox:latest >/dev/null
    new_container busybox:latest >/dev/null
    ncont=$(berth ps -aq | wc -l)
    nimg=$(berth images -q | sort -u | wc -l)
    run berth system df
    assert_success
    assert_line_matches '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$'
    assert_line_matches "^Containers +$ncont +[0-9]+ +[0-9.]+k?M?B +"
    assert_line_matches "^Images +$nimg +[1-9][0-9]* +"
    assert_line_matches '^Local Volumes +0 +0 +0B +0B$'
    assert_line_matches '^Build Cache +0 +0 +0B +0B$'
    # with busybox the only image, its size is the Images size
    berth image prune -a -f >/dev/null
    size=$(berth images --format '{{.Size}}' busybox:latest)
    [ "$(berth images -q | sort -u | wc -l)" -eq 1 ]
    run berth system df
    assert_success
    assert_line_matches "^Images +1 +1 +$size +0B \\(0%\\)$"
}

@test "system check: a clean store prints nothing and exits 0" {
    # leftovers of earlier test files are not this test's business
    berth system check --repair >/dev/null
    run berth system check
    assert_success
    assert_output ""
}

@test "system check finds planted leftovers, --repair removes them" {
    berth system check --repair >/dev/null
    root=/var/lib/berth
    mkdir -p "$root/tmp/stage-planted65/sub"
    echo junk >"$root/tmp/stage-planted65/sub/file"
    hex=$(printf 'prune65 %s' "$RANDOM$RANDOM" | sha256sum | cut -c1-64)
    mkdir -p "$root/layers/$hex/diff"
    echo junk >"$root/layers/$hex/diff/file"
    ln -s "../layers/0000000000000000000000000000000000000000000000000000000000000000/diff" "$root/l/PLANTED65ABCDEFG"

    run berth system check
    assert_status 1
    assert_output_contains "$root/tmp/stage-planted65"
    assert_output_contains "$root/layers/$hex"
    assert_output_contains "$root/l/PLANTED65ABCDEFG"
    [ "${#lines[@]}" -eq 3 ] || _fail "expected 3 findings"

    run berth system check --repair
    assert_success
    assert_output_contains "$root/tmp/stage-planted65"
    assert_output_contains "$root/layers/$hex"
    assert_output_contains "$root/l/PLANTED65ABCDEFG"
    [ ! -e "$root/tmp/stage-planted65" ]
    [ ! -e "$root/layers/$hex" ]
    [ ! -L "$root/l/PLANTED65ABCDEFG" ]

    run berth system check
    assert_success
    assert_output ""

    run berth run --rm busybox:latest echo still-runs
    assert_success
    assert_output "still-runs"
}

@test "system check: a --rm container whose unsynced record was torn by a power cut is garbage; another container's is left to the user" {
    berth system check --repair >/dev/null
    rmid=$(berth create --rm --name torn65 busybox:latest true)
    keepid=$(berth create --name kept65 busybox:latest true)
    # what a power cut can leave of files written without a sync: a --rm
    # record is never synced (its `ephemeral` mark says what it was), another
    # container's state only whole
    [ -e "/var/lib/berth/containers/$rmid/ephemeral" ]
    [ ! -e "/var/lib/berth/containers/$keepid/ephemeral" ]
    : >"/var/lib/berth/containers/$rmid/config.json"
    : >"/var/lib/berth/containers/$rmid/state.json"
    : >"/var/lib/berth/containers/$keepid/state.json"
    run berth system check
    assert_status 1
    assert_line_matches "^--rm container left by a crash: /var/lib/berth/containers/$rmid\$"
    assert_line_matches "^unreadable container record: /var/lib/berth/containers/$keepid: "
    run berth system check --repair
    assert_line_matches "^removed --rm container left by a crash: /var/lib/berth/containers/$rmid\$"
    [ ! -e "/var/lib/berth/containers/$rmid" ]
    [ -d "/var/lib/berth/containers/$keepid" ]
    # the name is free again
    run berth run --rm --name torn65 busybox:latest echo reused
    assert_success
    assert_output reused
    rm -rf "/var/lib/berth/containers/$keepid"
    berth system check --repair >/dev/null
}

@test "system prune removes stopped containers and dangling images" {
    name=$(new_container busybox:latest)
    id=$(berth inspect -f '{{.Id}}' "$name")
    old=$(import_tiny prune65/sp:1)
    import_tiny prune65/sp:1 >/dev/null
    run berth system prune -f
    assert_success
    assert_line_matches '^Deleted Containers:$'
    assert_output_contains "$id"
    assert_output_contains "deleted: $old"
    assert_line_matches '^Total reclaimed space: '
    run berth inspect "$name"
    assert_failure
    run ! has_image "$old"
    has_image "$(berth images -q --no-trunc busybox:latest)"
}
