#!/usr/bin/env bats
# An attached `berth run --rm` of root's has no stop hook: the client removes
# the container itself (issue 15). What users see must not change: exit
# codes, the container gone when run returns, stop and rm -f from another
# terminal, the events; and a client killed with SIGKILL leaves a container
# that stop or rm still clean up.

load helpers

setup_file() { ensure_busybox_image; }
teardown() { remove_all_containers; }

# The unit of a running container NAME, once it runs.
unit_running() { [ "$(systemctl is-active "berth-$1.service")" = active ]; }
unit_gone() { ! systemctl is-active -q "berth-$1.service"; }

# orphan NAME: an attached run --rm of sleep whose client is SIGKILLed once
# the container runs (the client's own status: 137).
orphan() {
    berth run --rm --name "$1" busybox sleep 30 >/dev/null &
    local client=$! st=0
    wait_until 10 unit_running "$1"
    kill -KILL "$client"
    wait "$client" || st=$?
    [ "$st" -eq 137 ] || _fail "the killed client of $1: status $st"
}

@test "attached run --rm: no ExecStopPost, the client is named, gone when run returns; -d keeps the hook" {
    berth run --rm --name rmc busybox sleep 30 >/dev/null &
    client=$!
    wait_until 10 unit_running rmc
    run systemctl show -p ExecStopPost --value berth-rmc.service
    assert_success
    assert_output ""
    id=$(berth inspect -f '{{.Id}}' rmc)
    read -r pid _ </var/lib/berth/containers/"$id"/cleaner
    [ "$pid" = "$client" ] || _fail "the cleaner mark names $pid, the client is $client"
    berth kill rmc >/dev/null
    st=0
    wait "$client" || st=$?
    [ "$st" -eq 137 ] || _fail "the client exits with the container's status, not $st"
    [ ! -d "/var/lib/berth/containers/$id" ] || _fail "the record is still there"
    [ ! -e "/run/berth/containers/$id" ] || _fail "the run dir is still there"
    [ ! -e "/run/berth/exits/$id" ] || _fail "the exit file is still there"

    berth run -d --rm --name rmd busybox sleep 30 >/dev/null
    run systemctl show -p ExecStopPost --value berth-rmd.service
    assert_output_contains "_cleanup"
    berth run -d --name keep busybox sleep 30 >/dev/null
    run systemctl show -p ExecStopPost --value berth-keep.service
    assert_output_contains "_cleanup"
}

@test "attached run --rm: exit codes and signals as before, a name free again at once" {
    # the exit comes from the unit's signal: the last run's of the same name must not count
    for i in $(seq 40); do
        code=$(( i % 4 == 3 ? 125 : i % 4 ))
        run berth run --rm --name again --network none busybox sh -c "echo run-$i; exit $code"
        [ "$status" -eq "$code" ] || _fail "run $i: exit $code gave $status"
        [ "$output" = "run-$i" ] || _fail "run $i: output"
    done
    # a signal from outside ends it: 128 + SIGTERM through `berth stop`
    berth run --rm --name sig busybox sleep 30 >/dev/null &
    client=$!
    wait_until 10 unit_running sig
    berth stop -t 1 sig >/dev/null
    st=0
    wait "$client" || st=$?
    # sleep as PID 1 ignores SIGTERM: killed after the timeout, as Docker's
    [ "$st" -eq 137 ] || _fail "stop: status $st"
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains sig
}

@test "stop and rm -f from another terminal: run returns, the container is gone, one destroy" {
    since=$(date +%s.%N)
    berth run --rm --name st busybox sleep 30 >/dev/null &
    c1=$!
    wait_until 10 unit_running st
    id=$(berth inspect -f '{{.Id}}' st)
    run berth stop -t 1 st
    assert_success
    # stop returns once the container is gone, not just its unit
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains st
    st=0
    wait "$c1" || st=$?
    # sleep as PID 1 ignores SIGTERM: killed after the timeout
    [ "$st" -eq 137 ] || _fail "the client of a stopped container: $st"

    berth run --rm --name rf busybox sleep 30 >/dev/null &
    c2=$!
    wait_until 10 unit_running rf
    id2=$(berth inspect -f '{{.Id}}' rf)
    run berth rm -f rf
    assert_success
    assert_output rf
    st=0
    wait "$c2" || st=$?
    [ "$st" -eq 137 ] || _fail "the client of a removed container: $st"
    run berth events --since "$since" --until "$(date +%s.%N)" --filter "container=$id2" --format '{{.Action}}'
    assert_success
    [ "$(grep -c '^destroy$' <<<"$output")" -eq 1 ] || _fail "expected one destroy event"
    [ "$(grep -c '^die$' <<<"$output")" -eq 1 ] || _fail "expected one die event"
}

@test "a client killed with SIGKILL: its container still goes at its end; stop and rm still remove it" {
    orphan orphan
    id=$(berth inspect -f '{{.Id}}' orphan)
    since=$(date +%s.%N)
    run berth ps --format '{{.Names}}'
    assert_output_contains orphan
    # ended by itself with nobody to clean up: the next listing removes
    # it, as Docker's daemon would, without waiting for a hook
    berth kill orphan >/dev/null
    wait_until 10 unit_gone orphan
    start=$(date +%s%N)
    run berth ps -a --format '{{.Names}} {{.Status}}'
    assert_success
    assert_output_not_contains orphan
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 900 ] || _fail "ps waited for a stop hook that does not come"
    [ ! -e "/var/lib/berth/containers/$id" ] || _fail "the record is left"
    run berth inspect orphan
    assert_failure
    run berth events --since "$since" --until "$(date +%s.%N)" --filter "container=$id" --format '{{.Action}}'
    [ "$(grep -c '^destroy$' <<<"$output")" -eq 1 ] || _fail "destroy events: $output"
    [ "$(grep -c '^die$' <<<"$output")" -eq 1 ] || _fail "die events: $output"
    # still running when listed: listed, not removed
    orphan orphan0
    run berth ps -a --format '{{.Names}}'
    assert_output_contains orphan0
    run berth rm -f orphan0
    assert_success

    orphan orphan1
    run berth stop -t 1 orphan1
    assert_success
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains orphan1

    orphan orphan2
    run berth rm -f orphan2
    assert_success
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains orphan2
}

@test "a unit of the same name still loaded (failed): run and start reset it and start anyway" {
    # the start is tried first; only a unit left loaded costs the wait and
    # the reset (issue 15): a failed unit that systemd keeps stands for a
    # stop hook still running or a failure nobody reset
    systemd-run -q --unit berth-stale.service -p CollectMode=inactive /bin/false
    wait_until 10 sh -c '[ "$(systemctl is-failed berth-stale.service)" = failed ]'
    run berth run --rm --name stale --network none busybox echo fresh
    assert_success
    assert_output fresh
    # the same for a container's second start
    systemd-run -q --unit berth-stale2.service -p CollectMode=inactive /bin/false
    wait_until 10 sh -c '[ "$(systemctl is-failed berth-stale2.service)" = failed ]'
    berth create --name stale2 busybox echo again >/dev/null
    run berth start -a stale2
    assert_success
    assert_output again
    # a unit of that name that stays active is not taken over: one line
    systemd-run -q --unit berth-busy.service sleep 100
    run --separate-stderr berth run --name busy busybox true
    assert_failure
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || _fail "stderr: $stderr"
    [[ "$stderr" == *"berth-busy.service"* ]] || _fail "stderr: $stderr"
    run systemctl is-active berth-busy.service
    assert_output active
    systemctl stop berth-busy.service
}
