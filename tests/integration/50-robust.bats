#!/usr/bin/env bats
# Many berth processes at once, killed containers, leftovers.

load helpers

setup_file() { ensure_busybox_image; }
teardown() {
    # a record a test damaged is put back first, so that it can be removed
    if [ -n "${damaged:-}" ]; then cp "$BATS_TEST_TMPDIR/damaged.orig" "$damaged"; fi
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
}

# What the store holds for containers and volumes (lock files aside).
store_digest() {
    find /var/lib/berth/containers /var/lib/berth/volumes ! -name lock -printf '%p %y %s\n' | sort
    find /var/lib/berth/containers /var/lib/berth/volumes -type f ! -name lock -exec sha256sum {} + | sort
}

@test "20 parallel run -d then rm -f leave a consistent store" {
    pids=()
    for i in $(seq 1 20); do berth run -d --name par$i busybox sleep 1000 >/dev/null & pids+=($!); done
    wait "${pids[@]}"   # not a bare wait: the harness' per-test timer is a child too
    [ "$(berth ps -q | wc -l)" -eq 20 ]
    [ "$(berth ps --format '{{.Names}}' | sort -u | wc -l)" -eq 20 ]
    berth rm -f $(berth ps -aq) >/dev/null
    [ -z "$(berth ps -aq)" ]
    [ -z "$(ls /var/lib/berth/containers)" ]
    [ -z "$(systemctl list-units --no-legend 'berth-par*')" ]
}

@test "parallel runs asking for the same name: exactly one wins" {
    pids=()
    for i in $(seq 1 8); do berth run -d --name same busybox sleep 1000 >/dev/null 2>&1 & pids+=($!); done
    wins=0
    for p in "${pids[@]}"; do wait "$p" && wins=$((wins + 1)); done
    [ "$wins" -eq 1 ]
    [ "$(berth ps -aq | wc -l)" -eq 1 ]
}

@test "a container killed with SIGKILL is recorded and its name reusable" {
    berth run -d --name victim busybox sleep 1000
    kill -9 "$(berth inspect -f '{{.State.Pid}}' victim)"
    wait_until 20 bash -c '[ "$(berth inspect -f "{{.State.Status}}" victim)" = exited ]'
    run berth inspect -f '{{.State.ExitCode}}' victim
    [ "$output" = 137 ]
    berth rm victim
    berth run -d --name victim busybox sleep 1000
    [ "$(berth inspect -f '{{.State.Status}}' victim)" = running ]
}

@test "a berth run killed mid-way blocks nothing" {
    berth run --name midway busybox sleep 1000 &
    client=$!
    wait_until 20 bash -c '[ "$(berth inspect -f "{{.State.Status}}" midway 2>/dev/null)" = running ]'
    kill -9 $client
    berth rm -f midway
    [ -z "$(systemctl list-units --no-legend 'berth-midway*')" ]
    run berth run --rm --name midway busybox echo again
    [ "$output" = again ]
}

@test "bad input changes nothing" {
    before=$(ls /var/lib/berth/containers | wc -l)
    run berth run --name 'bad name' busybox true
    [ "$status" -eq 125 ]
    run berth run --cpus abc busybox true
    [ "$status" -eq 125 ]
    run berth rm nosuch
    [ "$status" -ne 0 ]
    [[ "$output" == "berth: No such container: nosuch" ]]
    run berth nosuchcommand
    [ "$status" -eq 125 ]
    [ "$(ls /var/lib/berth/containers | wc -l)" -eq "$before" ]
}

@test "version and info" {
    run berth version
    [ "$status" -eq 0 ]
    [[ "$output" == *Version* ]]
    run berth info
    [ "$status" -eq 0 ]
    [[ "$output" == *"Cgroup Driver: systemd"* ]]
    [[ "$output" == *"Default Network: bridge"* ]]
    [[ "$output" == *"Logging Driver: journald"* ]]
    # the security options every container gets, as Docker's SecurityOptions
    [[ "$output" == *$'  seccomp\n   Profile: builtin'* ]]
    [[ "$output" == *$'  devices\n   Policy: strict'* ]]
    [[ "$output" == *$'  no-new-privileges\n   Default: false'* ]]
    run berth info --format '{{json .SecurityOptions}}'
    [ "$status" -eq 0 ]
    [ "$(jq -r '.[0]' <<<"$output")" = name=seccomp,profile=builtin ]
    [ "$(jq -r '.[] | select(startswith("name=devices"))' <<<"$output")" = name=devices,policy=strict ]
    caps=$(jq -r '.[] | select(startswith("name=capabilities"))' <<<"$output")
    [[ "$caps" == name=capabilities,default=*CAP_CHOWN*CAP_NET_BIND_SERVICE* ]]
    [[ "$caps" != *CAP_SYS_ADMIN* ]]
    # the counts follow the store: a paused container counts as paused
    berth run -d --name info-p busybox sleep 1000
    berth pause info-p
    run berth info --format '{{.ContainersPaused}} {{.ContainersRunning}}'
    [ "$output" = "1 0" ]
    berth rm -f info-p
    run berth info --format json
    [ "$(jq -r .CgroupDriver <<<"$output")" = systemd ]
    run berth info --format '{{.Nope'
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
}

@test "management forms" {
    berth container run --name mgmt busybox true
    run berth container ls -a --format '{{.Names}}'
    [ "$output" = mgmt ]
    run berth image ls
    [[ "$output" == *busybox* ]]
    berth container rm mgmt
}

@test "ps --format table, repeated filters of one key are ORed" {
    berth create --name c1 busybox true
    berth run --name c2 busybox true
    run berth ps -a -f status=exited -f status=created --format '{{.Names}}'
    [ "${#lines[@]}" -eq 2 ]
    run berth ps -a --format 'table {{.Names}}\t{{.Status}}'
    [[ "${lines[0]}" =~ ^NAMES\ +STATUS$ ]]
    [ "${#lines[@]}" -eq 3 ]
    run berth ps -a --format json
    [ "$(echo "${lines[0]}" | jq -r .Names)" = c2 ]
}

@test "an unreadable container record: the checks that need it refuse, listings say so, system check reports it" {
    vol=$(unique_name vol)
    berth volume create "$vol" >/dev/null
    id=$(berth create --name holder -v "$vol":/data busybox true)
    berth create --name bystander busybox true >/dev/null
    damaged=/var/lib/berth/containers/$id/config.json
    cp "$damaged" "$BATS_TEST_TMPDIR/damaged.orig"
    echo 'garbage{' >"$damaged"
    before=$(store_digest)
    why="container record ${id:0:12} unreadable: corrupt store file \`$damaged\`: "

    # the volume's user cannot be read: not removed
    run --separate-stderr berth volume rm "$vol"
    assert_failure
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "berth: cannot tell whether volume $vol is in use: $why"*"; run berth system check" ]] || _fail "stderr: $stderr"
    run berth volume prune -f
    assert_failure
    assert_output_contains "cannot tell which volumes are in use: $why"
    [ "$(berth volume ls -q --filter name="$vol")" = "$vol" ]

    # its name may be the one asked for: refused, nothing created
    run --separate-stderr berth run --name holder busybox true
    assert_failure
    [[ $stderr == "berth: cannot tell whether the name \"holder\" is free: $why"* ]] || _fail "stderr: $stderr"

    # the image it may use: not pruned
    run berth image prune -a -f
    assert_failure
    assert_output_contains "cannot tell whether image"
    assert_output_contains "$why"
    [ -n "$(berth images -q busybox:latest)" ]

    # ps lists the others and says which record it cannot read
    run --separate-stderr berth ps -a --format '{{.Names}}'
    assert_success
    assert_output bystander
    [[ $stderr == "berth: $why"*"; run berth system check" ]] || _fail "stderr: $stderr"

    # system check reports it; --repair leaves it to the user
    run berth system check
    assert_status 1
    assert_line_matches "^unreadable container record: /var/lib/berth/containers/$id: corrupt store file"
    run berth system check --repair
    assert_status 1
    assert_line_matches "^unreadable container record: /var/lib/berth/containers/$id: .*\(not repaired: "

    [ "$(store_digest)" = "$before" ] || _fail "the store changed"

    # put back, the record is a user of its volume again
    cp "$BATS_TEST_TMPDIR/damaged.orig" "$damaged"
    damaged=
    run berth volume rm "$vol"
    assert_failure
    assert_output "berth: remove $vol: volume is in use - [${id:0:12}]"
    berth rm holder >/dev/null
    berth volume rm "$vol" >/dev/null
}
