#!/usr/bin/env bats
# Many berth processes at once, killed containers, leftovers.

load helpers

setup_file() { ensure_busybox_image; }
teardown() { berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true; }

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
