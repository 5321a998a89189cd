#!/usr/bin/env bats
# berth events: the journal is the event log. Container events of run -d /
# stop / rm in order, die with exitCode written by the unit's stop hook while
# no berth command runs, --since/--until, filters (same key OR, different
# keys AND), --format json and templates, following until SIGTERM, image tag
# and rmi events, volume and network events, and bad flags refused.

load helpers

setup_file() { ensure_busybox_image; }

teardown() {
    remove_all_containers
    local t
    for t in evtest:one evtest:two; do
        if [ -n "$(berth images -q "$t")" ]; then
            berth rmi "$t" >/dev/null
        fi
    done
}

# events_now SINCE ARGS...: the events from SINCE up to now, as text.
events_now() {
    local since=$1
    shift
    berth events --since "$since" --until "$(date +%s.%N)" "$@"
}

# events_have SINCE REGEX ARGS...: events_now has a line matching REGEX.
events_have() {
    local since=$1 regex=$2
    shift 2
    events_now "$since" "$@" | grep -E -- "$regex" >/dev/null
}

# events_at_least SINCE N ARGS...: events_now has at least N lines.
events_at_least() {
    local since=$1 n=$2
    shift 2
    [ "$(events_now "$since" "$@" | wc -l)" -ge "$n" ]
}

@test "run -d, stop, rm: create, start, die, stop, destroy in order, with image and name" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth run -d --name "$name" --label tier=front busybox sleep 300
    assert_success
    id=$output
    run berth stop -t 1 "$name"
    assert_success
    run berth rm "$name"
    assert_success
    wait_until 10 events_have "$since" " container destroy $id " --filter container="$name"
    run events_now "$since" --filter container="$name"
    assert_success
    actions=$(printf '%s\n' "$output" | awk '{print $3}' | tr '\n' ' ')
    [[ $actions =~ ^create\ start\ (kill\ )?die\ stop\ destroy\ $ ]] || _fail "order: $actions"
    assert_line_matches "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z container create $id \(image=busybox, name=$name, tier=front\)$"
    assert_line_matches " container die $id \(exitCode=[0-9]+, image=busybox, name=$name, tier=front\)$"
    # --until before everything: nothing; --since after everything: nothing
    run berth events --since "$since" --until "$since" --filter container="$name"
    assert_success
    assert_output ""
}

@test "a container that exits on its own while no berth command runs has its die event with exitCode" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth run -d --name "$name" busybox sh -c 'sleep 1; exit 3'
    assert_success
    id=$output
    # no berth command from here on until the event is there
    wait_until 15 events_have "$since" " container die $id " --filter event=die
    run events_now "$since" --filter event=die --filter container="$id"
    assert_success
    assert_line_matches "container die $id \(exitCode=3, image=busybox, name=$name\)$"
    [ "${#lines[@]}" -eq 1 ] || _fail "one die event expected"
    # the hooks' entries carry the unit's CONTAINER_ID_FULL=, but are no output
    run berth logs "$name"
    assert_success
    assert_output ""
}

@test "restarts by systemd (--restart on-failure:2): one start and one die per run, no berth command running" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth run -d --name "$name" --restart on-failure:2 busybox sh -c 'exit 3'
    assert_success
    id=$output
    wait_until 30 events_at_least "$since" 3 --filter container="$id" --filter event=die
    run events_now "$since" --filter container="$id"
    assert_success
    actions=$(printf '%s\n' "$output" | awk '{print $3}' | tr '\n' ' ')
    assert_equal "$actions" "create start die start die start die "
    [ "$(grep -c 'exitCode=3,' <<<"$output")" -eq 3 ] || _fail "three dies with exitCode=3"
}

@test "a container killed by the OOM killer has its oom event before die" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth run -d --name "$name" -m 16m --memory-swap 16m busybox sh -c 'a=aaaaaaaa; while :; do a=$a$a; done'
    assert_success
    id=$output
    wait_until 30 events_have "$since" " die $id " --filter container="$id"
    run events_now "$since" --filter container="$id" --filter event=oom --filter event=die
    assert_success
    actions=$(printf '%s\n' "$output" | awk '{print $3}' | tr '\n' ' ')
    assert_equal "$actions" "oom die "
    assert_line_matches " container die $id \(exitCode=137, "
    # and inspect says so, as Docker's
    run berth inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' "$name"
    assert_output "true 137"
    # a start clears it
    run berth start "$name"
    assert_success
    run berth inspect -f '{{.State.OOMKilled}}' "$name"
    assert_output false
}

@test "health checks: health_status on each change, and the checks' exec events" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth run -d --name "$name" --health-cmd 'test ! -e /tmp/bad' --health-interval 1s --health-retries 1 \
        busybox sleep 300
    assert_success
    id=$output
    wait_until 20 events_have "$since" " health_status: healthy $id " --filter event=health_status
    run berth exec "$name" touch /tmp/bad
    assert_success
    wait_until 20 events_have "$since" " health_status: unhealthy $id " --filter event=health_status
    run events_now "$since" --filter container="$id" --filter event=health_status
    assert_success
    actions=$(printf '%s\n' "$output" | awk '{print $3, $4}' | tr '\n' ' ')
    assert_equal "$actions" "health_status: healthy health_status: unhealthy "
    run events_now "$since" --filter container="$id" --filter event=exec_start
    assert_success
    assert_line_matches " container exec_start: /bin/sh -c test ! -e /tmp/bad $id "
}

@test "filters: same key OR, different keys AND; label, image, type" {
    since=$(date +%s.%N)
    a=$(unique_name eva)
    b=$(unique_name evb)
    run berth create --name "$a" --label team=x busybox true
    assert_success
    run berth create --name "$b" busybox true
    assert_success
    wait_until 10 events_have "$since" " create .*name=$b" --filter container="$b"
    run events_now "$since" --filter container="$a" --filter container="$b"
    assert_success
    [ "${#lines[@]}" -eq 2 ] || _fail "two create events expected"
    run events_now "$since" --filter container="$a" --filter event=start
    assert_success
    assert_output ""
    run events_now "$since" --filter label=team=x
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "one event with label team=x"
    assert_line_matches " container create .*name=$a, team=x\)$"
    run events_now "$since" --filter label=team --filter type=container --filter image=busybox
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "one event with label team"
    run events_now "$since" --filter type=image
    assert_success
    assert_output ""
}

@test "--format json is Docker's event JSON; --format takes a template" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth create --name "$name" busybox true
    assert_success
    id=$output
    wait_until 10 events_have "$since" " create $id" --filter container="$name"
    run events_now "$since" --filter container="$name" --format json
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "one line"
    assert_equal "$(jq -r '.Type' <<<"$output")" container
    assert_equal "$(jq -r '.Action' <<<"$output")" create
    assert_equal "$(jq -r '.status' <<<"$output")" create
    assert_equal "$(jq -r '.id' <<<"$output")" "$id"
    assert_equal "$(jq -r '.from' <<<"$output")" busybox
    assert_equal "$(jq -r '.Actor.ID' <<<"$output")" "$id"
    assert_equal "$(jq -r '.Actor.Attributes.name' <<<"$output")" "$name"
    assert_equal "$(jq -r '.scope' <<<"$output")" local
    t=$(jq -r '.time' <<<"$output")
    tn=$(jq -r '.timeNano' <<<"$output")
    [ "$t" -eq "$((tn / 1000000000))" ] || _fail "time and timeNano disagree"
    [ "$t" -ge "${since%.*}" ] || _fail "time before --since"
    run events_now "$since" --filter container="$name" --format '{{json .}}'
    assert_success
    assert_equal "$(jq -r '.Actor.ID' <<<"$output")" "$id"
    run events_now "$since" --filter container="$name" --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
    assert_success
    assert_output "container create $name"
}

@test "following: a new event shows up, SIGTERM ends berth events with 0" {
    name=$(unique_name ev)
    out=$BATS_TEST_TMPDIR/follow.out
    berth events --filter container="$name" >"$out" 2>&1 &
    pid=$!
    sleep 1
    run berth create --name "$name" busybox true
    assert_success
    id=$output
    wait_until 10 grep -q " container create $id " "$out"
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || _fail "berth events exited $rc on SIGTERM"
    [ "$(wc -l <"$out")" -eq 1 ] || _fail "only the new event: $(cat "$out")"
    # with --until in the future it ends by itself
    run timeout 10 berth events --since 1s --until "$(( $(date +%s) + 2 ))" --filter container=none-such
    assert_success
}

@test "image tag, rmi (untag, delete) and volume/network create/destroy events" {
    since=$(date +%s.%N)
    run berth tag busybox evtest:one
    assert_success
    run berth tag busybox evtest:two
    assert_success
    run berth rmi evtest:one evtest:two
    assert_success
    vol=$(unique_name evvol)
    run berth volume create "$vol"
    assert_success
    run berth volume rm "$vol"
    assert_success
    wait_until 10 events_have "$since" " volume destroy $vol " --filter type=volume
    run events_now "$since" --filter type=image
    assert_success
    assert_line_matches "^.* image tag sha256:[0-9a-f]{64} \(name=evtest:one\)$"
    assert_line_matches "^.* image tag sha256:[0-9a-f]{64} \(name=evtest:two\)$"
    assert_line_matches "^.* image untag sha256:[0-9a-f]{64} \(name=evtest:one\)$"
    assert_line_matches "^.* image untag sha256:[0-9a-f]{64} \(name=evtest:two\)$"
    run events_now "$since" --filter image=evtest:one --filter event=untag
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "one untag of evtest:one"
    run events_now "$since" --filter type=volume
    assert_success
    assert_line_matches " volume create $vol \(driver=local\)$"
    assert_line_matches " volume destroy $vol \(driver=local\)$"

    since=$(date +%s.%N)
    net=$(unique_name evnet)
    run berth network create "$net"
    assert_success
    netid=$(berth network inspect "$net" | jq -r '.[0].Id')
    name=$(unique_name ev)
    run berth run -d --name "$name" --network "$net" busybox sleep 300
    assert_success
    cid=$output
    run berth rm -f "$name"
    assert_success
    run berth network rm "$net"
    assert_success
    wait_until 10 events_have "$since" " network destroy $netid " --filter type=network
    run events_now "$since" --filter type=network
    assert_success
    actions=$(printf '%s\n' "$output" | awk '{print $3}' | tr '\n' ' ')
    assert_equal "$actions" "create connect disconnect destroy "
    assert_line_matches " network connect $netid \(container=$cid, name=$net, type=bridge\)$"
}

@test "exec, pause, unpause, update, rename, restart, kill: their container events" {
    since=$(date +%s.%N)
    name=$(unique_name ev)
    run berth run -d --name "$name" busybox sleep 300
    assert_success
    id=$output
    run berth exec "$name" sh -c 'exit 4'
    assert_status 4
    run berth pause "$name"
    assert_success
    run berth unpause "$name"
    assert_success
    run berth update -m 64m "$name"
    assert_success
    run berth rename "$name" "$name-new"
    assert_success
    run berth restart -t 0 "$name-new"
    assert_success
    run berth kill "$name-new"
    assert_success
    wait_until 10 events_at_least "$since" 2 --filter container="$id" --filter event=die
    run events_now "$since" --filter container="$id"
    assert_success
    actions=$(printf '%s\n' "$output" | awk '{print $3}' | tr '\n' ' ')
    assert_equal "$actions" "create start exec_create: exec_start: exec_die pause unpause update rename die stop start restart kill die "
    assert_line_matches " container exec_start: sh -c exit 4 $id \(execID=[0-9a-f]{64}, image=busybox, name=$name\)$"
    assert_line_matches " container exec_die $id \(execID=[0-9a-f]{64}, exitCode=4, image=busybox, name=$name\)$"
    assert_line_matches " container rename $id \(image=busybox, name=$name-new, oldName=/$name\)$"
    assert_line_matches " container kill $id \(image=busybox, name=$name-new, signal=9\)$"
    run events_now "$since" --filter container="$id" --filter event=exec_start
    assert_success
    [ "${#lines[@]}" -eq 1 ] || _fail "one exec_start"
}

@test "bad --filter, --since, --format: one-line error, exit 125" {
    for args in "--filter bogus=1" "--filter type=pod" "--filter container" "--since yesterday" \
        "--until 12:00x" "--format {{.Nope"; do
        # shellcheck disable=SC2086
        run berth events $args
        assert_status 125
        [ "${#lines[@]}" -eq 1 ] || _fail "$args: one line expected: $output"
        [[ $output == berth:* ]] || _fail "$args: $output"
    done
    run berth events extra-arg
    [ "$status" -ne 0 ] || _fail "an argument must be refused"
    run berth system events --help
    assert_success
    assert_output_contains "Usage:  berth events"
}
