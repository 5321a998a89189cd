#!/usr/bin/env bats
# Health checks: --health-* and the image's HEALTHCHECK (Docker's merge),
# checks run by a systemd timer tied to the container's unit (gone when it
# stops), Docker's .State.Health in inspect, "(healthy)" in ps and
# --filter health=, a journal line per change, timeouts, healthcheck run,
# --health-on-failure kill/stop, --sdnotify=healthy and Notify=healthy
# (the unit is active only once healthy), and the definition keys.

load helpers

setup_file() { ensure_busybox_image; }

teardown() {
    if [ -e /etc/berth/containers/hc.container ] || [ -e /etc/berth/containers/badhc.container ]; then
        remove_definitions hc badhc
    fi
    remove_all_containers
}

health() { berth inspect -f '{{.State.Health.Status}}' "$1"; }
health_is() { [ "$(health "$1")" = "$2" ]; }
timer_of() { echo "berth-health:$(berth inspect -f '{{.Id}}' "$1" | cut -c1-12).timer"; }
timer_gone() {
    local st
    st=$(systemctl show -P ActiveState "$1")
    [ "$st" = inactive ] || [ "$st" = failed ]
}

@test "--health-cmd: starting, then healthy from the timer; unhealthy after Retries failures; timer ends with the container" {
    name=$(unique_name hc)
    run berth run -d --name "$name" --health-cmd 'test -f /tmp/ok' --health-interval 1s --health-retries 2 \
        busybox sh -c 'touch /tmp/ok; exec sleep 1000'
    assert_success
    run berth inspect -f '{{json .Config.Healthcheck}}' "$name"
    assert_success
    assert_equal "$(jq -c .Test <<<"$output")" '["CMD-SHELL","test -f /tmp/ok"]'
    assert_equal "$(jq .Interval <<<"$output")" 1000000000
    assert_equal "$(jq .Retries <<<"$output")" 2

    # the timer is systemd's, part of the container's unit
    timer=$(timer_of "$name")
    run systemctl show -P PartOf "$timer"
    assert_output "berth-$name.service"
    run systemctl show -P ActiveState "$timer"
    assert_output active
    # checks 1 s apart, measured from the end of the last one
    run systemctl show -P TimersMonotonic "$timer"
    assert_output_contains "OnUnitInactiveUSec=1s"

    wait_until 15 health_is "$name" healthy
    run berth ps --format '{{.Names}} {{.Status}}'
    assert_line_matches "^$name Up .* \(healthy\)$"
    run berth ps -q --filter health=healthy
    assert_output "$(berth ps -q --filter name="$name")"
    run berth inspect -f '{{json .State.Health}}' "$name"
    assert_equal "$(jq -r .Status <<<"$output")" healthy
    assert_equal "$(jq .FailingStreak <<<"$output")" 0
    assert_equal "$(jq '.Log[-1].ExitCode' <<<"$output")" 0
    [ "$(jq '.Log | length' <<<"$output")" -ge 1 ] || _fail "no log entry"
    journal_has -t berth-health BERTH_CONTAINER_NAME="$name" -- "Container $name is healthy"

    # failing now: unhealthy once 2 checks in a row failed, the last 5 kept
    berth exec "$name" rm /tmp/ok
    wait_until 15 health_is "$name" unhealthy
    run berth inspect -f '{{json .State.Health}}' "$name"
    [ "$(jq .FailingStreak <<<"$output")" -ge 2 ] || _fail "FailingStreak below Retries"
    assert_equal "$(jq '.Log[-1].ExitCode' <<<"$output")" 1
    wait_until 15 bash -c "[ \"\$(berth inspect -f '{{len .State.Health.Log}}' $name)\" = 5 ]"
    run berth ps --format '{{.Names}} {{.Status}}' --filter health=unhealthy
    assert_line_matches "^$name Up .* \(unhealthy\)$"
    run berth ps -q --filter health=healthy --filter name="$name"
    assert_output ""
    journal_has -t berth-health BERTH_CONTAINER_NAME="$name" BERTH_HEALTH_STATUS=unhealthy -- "is unhealthy"

    # stopping the container stops its checks: no timer left behind
    run berth stop -t 1 "$name"
    assert_success
    wait_until 10 timer_gone "$timer"
    run berth ps --format '{{.Status}}' --filter name="$name" -a
    assert_line_matches '^Exited \('
}

@test "the image's HEALTHCHECK runs; --health-* override its fields; --no-healthcheck turns it off" {
    ctx=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$ctx"
    printf '%s\n' 'FROM busybox' 'HEALTHCHECK --interval=1s --timeout=3s --retries=4 CMD ["true"]' \
        'CMD ["sleep", "1000"]' >"$ctx/Dockerfile"
    img=hc-img-$RANDOM
    cd "$BATS_TEST_TMPDIR"
    run berth build -q -t "$img" ctx
    assert_success
    run berth image inspect -f '{{json .Config.Healthcheck}}' "$img"
    assert_equal "$(jq -c .Test <<<"$output")" '["CMD","true"]'

    name=$(unique_name img)
    run berth run -d --name "$name" "$img"
    assert_success
    wait_until 15 health_is "$name" healthy

    # an override of one field keeps the image's test and the others
    name2=$(unique_name over)
    run berth run -d --name "$name2" --health-interval 2s "$img"
    assert_success
    run berth inspect -f '{{json .Config.Healthcheck}}' "$name2"
    assert_equal "$(jq -c .Test <<<"$output")" '["CMD","true"]'
    assert_equal "$(jq .Interval <<<"$output")" 2000000000
    assert_equal "$(jq .Timeout <<<"$output")" 3000000000
    assert_equal "$(jq .Retries <<<"$output")" 4

    name3=$(unique_name none)
    run berth run -d --name "$name3" --no-healthcheck "$img"
    assert_success
    run berth inspect -f '{{json .Config.Healthcheck.Test}}' "$name3"
    assert_output '["NONE"]'
    run berth inspect -f '{{json .State}}' "$name3"
    assert_equal "$(jq 'has("Health")' <<<"$output")" false
    run systemctl show -P LoadState "$(timer_of "$name3")"
    assert_output not-found
    run berth ps -q --filter health=none --filter name="$name3"
    assert_output "$(berth ps -q --filter name="$name3")"
    run berth healthcheck run "$name3"
    assert_status 125
    assert_output "berth: container $name3 has no healthcheck"
    # commit keeps the container's health check, as Docker's
    run berth commit "$name2" "$img-committed"
    assert_success
    run berth image inspect -f '{{json .Config.Healthcheck}}' "$img-committed"
    assert_equal "$(jq -c .Test <<<"$output")" '["CMD","true"]'
    assert_equal "$(jq .Interval <<<"$output")" 2000000000
    # and save | load too
    run bash -c "berth save '$img-committed' | berth load -q"
    assert_success
    run berth image inspect -f '{{.Config.Healthcheck.Interval}}' "$img-committed"
    assert_output 2000000000

    run berth rm -f "$name" "$name2" "$name3"
    assert_success
    run berth rmi "$img" "$img-committed"
    assert_success
}

@test "healthcheck run: exit 0 when healthy, 1 and the status otherwise; output and timeouts are recorded" {
    name=$(unique_name run)
    run berth run -d --name "$name" --health-cmd 'echo checked-$HOSTNAME; test -f /tmp/ok' \
        --health-interval 1h --health-retries 1 busybox sleep 1000
    assert_success
    run berth healthcheck run "$name"
    assert_status 1
    assert_output unhealthy
    run berth inspect -f '{{json .State.Health}}' "$name"
    assert_equal "$(jq -r .Status <<<"$output")" unhealthy
    [[ $(jq -r '.Log[-1].Output' <<<"$output") == "checked-"* ]] || _fail "output not kept"

    berth exec "$name" touch /tmp/ok
    run berth healthcheck run "$name"
    assert_success
    assert_output ""
    run health "$name"
    assert_output healthy

    # a check that outlives --health-timeout is killed and recorded as Docker's
    name2=$(unique_name slow)
    run berth run -d --name "$name2" --health-cmd 'sleep 30' --health-timeout 1s --health-interval 1h busybox sleep 1000
    assert_success
    start=$(date +%s)
    run berth healthcheck run "$name2"
    assert_status 1
    [ $(( $(date +%s) - start )) -lt 10 ] || _fail "the timeout did not end the check"
    run berth inspect -f '{{json (index .State.Health.Log 0)}}' "$name2"
    assert_equal "$(jq .ExitCode <<<"$output")" -1
    assert_equal "$(jq -r .Output <<<"$output")" "Health check exceeded timeout (1s)"
    run berth exec "$name2" sh -c 'ps -o comm | grep -c "^sleep$"'
    assert_output 1   # only the container's own sleep: the check's was killed

    run berth healthcheck run nosuch-$RANDOM
    assert_status 125
    assert_output_contains "No such container"
    berth stop -t 1 "$name"
    run berth healthcheck run "$name"
    assert_status 125
    assert_output "berth: container $name is not running"
    run berth healthcheck
    assert_failure
}

@test "--health-on-failure=kill: systemd's Restart= brings it back; =stop: it stays down" {
    name=$(unique_name kill)
    run berth run -d --name "$name" --restart always --health-cmd 'test -f /tmp/ok' --health-interval 1s \
        --health-retries 1 --health-on-failure kill busybox sleep 1000
    assert_success
    unit=berth-$name.service
    wait_until 30 bash -c "[ \"\$(systemctl show -P NRestarts $unit)\" -ge 1 ]"
    journal_has -t berth-health BERTH_CONTAINER_NAME="$name" -- "health-on-failure=kill"
    run systemctl show -P ActiveState "$unit"
    [[ $output == active || $output == activating ]] || _fail "not brought back"

    name2=$(unique_name stop)
    run berth run -d --name "$name2" --restart always --health-cmd 'false' --health-interval 1s \
        --health-retries 1 --health-on-failure stop busybox sleep 1000
    assert_success
    wait_until 20 bash -c "[ \"\$(berth inspect -f '{{.State.Status}}' $name2)\" = exited ]"
    sleep 2
    run berth inspect -f '{{.State.Status}}' "$name2"
    assert_output exited
}

@test "--sdnotify=healthy: run -d returns once the first check passed, the unit active only then" {
    name=$(unique_name ready)
    start=$(date +%s%N)
    run berth run -d --name "$name" --sdnotify=healthy --health-cmd 'test -f /tmp/ok' --health-interval 30s \
        --health-start-period 20s --health-start-interval 1s busybox sh -c 'sleep 2; touch /tmp/ok; exec sleep 1000'
    assert_success
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$elapsed" -ge 2000 ] || _fail "run -d returned after ${elapsed} ms, before the check could pass"
    run health "$name"
    assert_output healthy
    run systemctl show -P ActiveState "berth-$name.service"
    assert_output active
    # healthy within the start period: the next check comes after Interval
    # (30s), not at the next start-interval tick, as Docker's
    n=$(berth inspect -f '{{len .State.Health.Log}}' "$name")
    sleep 4
    run berth inspect -f '{{len .State.Health.Log}}' "$name"
    assert_output "$n"
}

@test "definition: HealthCmd=, HealthInterval=, Notify=healthy; systemctl start waits for health; bad values are file:line errors" {
    mkdir -p /etc/berth/containers
    printf '%s\n' '[Container]' 'Image=busybox' "Exec=sh -c 'sleep 2; touch /tmp/ok; exec sleep 1000'" \
        'HealthCmd=test -f /tmp/ok' 'HealthInterval=1s' 'HealthStartPeriod=20s' 'HealthStartInterval=1s' \
        'HealthRetries=2' 'HealthOnFailure=kill' 'Notify=healthy' >/etc/berth/containers/hc.container
    systemctl daemon-reload
    run systemctl start container@hc.service
    assert_success
    run health hc
    assert_output healthy
    run systemctl show -P ActiveState container@hc.service
    assert_output active
    run berth inspect -f '{{.Config.Healthcheck.Retries}} {{.Config.Healthcheck.Interval}}' hc
    assert_output "2 1000000000"

    printf '%s\n' '[Container]' 'Image=busybox' 'HealthInterval=soon' >/etc/berth/containers/badhc.container
    run berth generate --dry-run
    assert_failure
    assert_output_contains "badhc.container:3"
    assert_output_contains "invalid duration"
    printf '%s\n' '[Container]' 'Image=busybox' 'Notify=later' >/etc/berth/containers/badhc.container
    run berth generate --dry-run
    assert_failure
    assert_output_contains "badhc.container:3"
}

@test "bad health options: one line each, exit 125, no container made" {
    before=$(berth ps -aq | wc -l)
    for args in "--health-interval 10" "--health-interval 500us" "--health-retries -1" "--health-on-failure reboot" \
        "--sdnotify=ready" "--health-timeout x"; do
        # shellcheck disable=SC2086
        run berth run -d $args busybox true
        assert_status 125
        [ "${#lines[@]}" -eq 1 ] || _fail "$args: not one line"
        [[ $output == "berth: "* ]] || _fail "$args: no berth: prefix"
    done
    run berth run -d --no-healthcheck --health-cmd true busybox true
    assert_status 125
    assert_output "berth: --no-healthcheck conflicts with --health-* options"
    run berth run -d --sdnotify=healthy busybox true
    assert_status 125
    assert_output_contains "has no health check"
    run berth ps --filter health=great
    assert_status 125
    assert_output "berth: Unrecognised filter value for health: great"
    assert_equal "$(berth ps -aq | wc -l)" "$before"
}
