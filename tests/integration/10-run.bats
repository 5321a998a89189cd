#!/usr/bin/env bats
# berth run: output, exit codes, detached containers, the journal.

load helpers

setup_file() { ensure_busybox_image; }
teardown() { berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true; }

@test "run --rm prints the command's output and leaves no container" {
    run berth run --rm busybox echo hello
    [ "$status" -eq 0 ]
    [ "$output" = "hello" ]
    [ -z "$(berth ps -aq)" ]
}

@test "the container's exit status is berth's" {
    run berth run --rm busybox sh -c 'exit 3'
    [ "$status" -eq 3 ]
}

@test "stdout and stderr stay apart" {
    run --separate-stderr berth run --rm busybox sh -c 'echo out; echo err >&2'
    [ "$status" -eq 0 ]
    [ "$output" = "out" ]
    [ "$stderr" = "err" ]
}

@test "a command that does not exist exits 127 with one clear line" {
    run -127 berth run --rm busybox no-such-command
    [ "$status" -eq 127 ]
    [[ "$output" == *'berth: '*'"no-such-command": executable file not found in $PATH'* ]]
    [ "${#lines[@]}" -eq 1 ]
}

@test "a command that cannot be executed exits 126" {
    run -126 berth run --rm busybox /etc/passwd
    [ "$status" -eq 126 ]
    [[ "$output" == *"permission denied"* ]]
}

@test "an unknown image exits 125 and creates nothing" {
    run berth run --rm --pull=never no-such-image:1 true
    [ "$status" -eq 125 ]
    assert_output "berth: Unable to find image 'no-such-image:1' locally and the pull policy is never"
    # the default policy pulls: from a registry that is not there here
    run --separate-stderr berth run --rm 127.0.0.1:1/no-such-image:1 true
    [ "$status" -eq 125 ]
    [ "${stderr_lines[0]}" = "Unable to find image '127.0.0.1:1/no-such-image:1' locally" ] || _fail "$stderr"
    [[ "${stderr_lines[-1]}" == "berth: "*"127.0.0.1:1"* ]] || _fail "$stderr"
    run berth create --pull=sometimes busybox true
    [ "$status" -eq 125 ]
    assert_output "berth: invalid pull policy: 'sometimes' (use missing, always, never or newer)"
    [ -z "$(berth ps -aq)" ]
}

@test "an unknown flag exits 125 and creates nothing" {
    run berth run --no-such-flag busybox true
    [ "$status" -eq 125 ]
    [[ "$output" == "berth: run: "* ]]
    [ -z "$(berth ps -aq)" ]
}

@test "a bad memory size exits 125 and creates nothing" {
    run berth run -m 12q busybox true
    [ "$status" -eq 125 ]
    [[ "$output" == *"12q"* ]]
    [ -z "$(berth ps -aq)" ]
}

@test "a detached container runs in its own unit and logs to the journal" {
    id=$(berth run -d --name web busybox sh -c 'echo hello-out; echo hello-err >&2; sleep 1000')
    [[ "$id" =~ ^[0-9a-f]{64}$ ]]
    [ "$(systemctl is-active berth-web.service)" = active ]
    # no berth process stays behind: the unit's main process is the container's
    main=$(systemctl show -p MainPID --value berth-web.service)
    [ "$main" = "$(berth inspect -f '{{.State.Pid}}' web)" ]
    wait_until 10 bash -c 'berth logs web | grep -q hello-out'
    # busybox sh execs its last command: the main process is that sleep
    [ "$(tr '\0' ' ' < /proc/$main/cmdline)" = "sleep 1000 " ]
    run ! pgrep -x berth
    wait_until 20 bash -c 'berth logs web | grep -q hello-out'
    run --separate-stderr berth logs web
    [ "$output" = "hello-out" ]
    [ "$stderr" = "hello-err" ]
    run journalctl -o cat CONTAINER_NAME=web
    [[ "$output" == *hello-out* ]]
    [[ "$output" == *hello-err* ]]
    # Docker's journald field names
    run journalctl -o export CONTAINER_NAME=web MESSAGE=hello-err
    [[ "$output" == *"CONTAINER_ID=${id:0:12}"* ]]
    [[ "$output" == *"CONTAINER_ID_FULL=$id"* ]]
    [[ "$output" == *"CONTAINER_TAG=${id:0:12}"* ]]   # docker's default tag: the short ID
    [[ "$output" == *"IMAGE_NAME=busybox"* ]]
    [[ "$output" == *"SYSLOG_IDENTIFIER=web"* ]]
    [[ "$output" == *"PRIORITY=3"* ]]
    run journalctl -o export CONTAINER_NAME=web MESSAGE=hello-out
    [[ "$output" == *"PRIORITY=6"* ]]
    run journalctl -o cat -u berth-web.service
    [[ "$output" == *hello-out* ]]
}

@test "ps, stop and ps -a show the life cycle as docker does" {
    berth run -d --name life busybox sleep 1000
    run berth ps
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
    [[ "${lines[1]}" == *busybox*'"sleep 1000"'*Up*life ]]
    run berth stop -t 1 life
    [ "$status" -eq 0 ]
    [ "$output" = life ]
    run berth ps --format '{{.Names}}'
    [ -z "$output" ]
    run berth ps -a --format '{{.Names}} {{.Status}}'
    [[ "$output" == "life Exited (137) "* ]]
    run berth ps -a -f status=exited -q
    [ "${#lines[@]}" -eq 1 ]
    [ "$(systemctl is-active berth-life.service)" != active ]
}

@test "a stopped container whose process handles SIGTERM exits 0" {
    berth run -d --name term busybox sh -c 'trap "exit 0" TERM; echo trapped; while :; do sleep 0.1; done'
    wait_until 10 bash -c 'berth logs term | grep -q trapped'
    berth stop term
    run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' term
    [ "$output" = "exited 0" ]
}

@test "names are unique and a taken name is refused" {
    berth create --name taken busybox true
    run berth create --name taken busybox true
    [ "$status" -eq 125 ]
    [[ "$output" == *'The container name "/taken" is already in use'* ]]
    [ "$(berth ps -aq | wc -l)" -eq 1 ]
}

@test "generated names look like docker's" {
    berth create busybox true
    run berth ps -a --format '{{.Names}}'
    [[ "$output" =~ ^[a-z]+_[a-z]+$ ]]
}

@test "create then start -a, and start of an exited container runs it again" {
    berth create --name again busybox echo ran
    run berth ps -a --format '{{.Status}}'
    [ "$output" = Created ]
    run berth start -a again
    [ "$status" -eq 0 ]
    [ "$output" = ran ]
    run berth start -a again
    [ "$output" = ran ]
}

@test "rm refuses a running container without -f" {
    berth run -d --name busy busybox sleep 1000
    run berth rm busy
    [ "$status" -ne 0 ]
    [[ "$output" == *"container is running: stop the container before removing or force remove"* ]]
    berth ps -q | grep -q .
    berth rm -f busy
    [ -z "$(berth ps -aq)" ]
    [ "$(systemctl is-active berth-busy.service)" != active ]
}

@test "any unique ID prefix works" {
    id=$(berth create busybox true)
    run berth inspect -f '{{.Id}}' "${id:0:5}"
    [ "$output" = "$id" ]
    run berth inspect -f '{{.Id}}' nosuchcontainer
    [ "$status" -ne 0 ]
}

@test "stdin reaches the container with -i" {
    run bash -c 'echo piped | berth run --rm -i busybox cat'
    [ "$status" -eq 0 ]
    [ "$output" = piped ]
}

@test "-t gives the container a terminal" {
    run script -qec 'berth run --rm -t busybox tty' /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" == */dev/pts/* ]]
}

@test "attached runs are logged to the journal too" {
    berth run --name attached busybox echo attached-line
    wait_until 20 bash -c 'journalctl -o cat CONTAINER_NAME=attached | grep -q attached-line'
    run berth logs attached
    [ "$output" = attached-line ]
}

@test "wait prints the exit code" {
    berth run -d --name waiter busybox sh -c 'sleep 1; exit 7'
    run berth wait waiter
    [ "$output" = 7 ]
}

@test "the exit status survives the unit" {
    berth run --name gone busybox sh -c 'exit 4' || true
    run systemctl is-active berth-gone.service
    [ "$output" != active ]
    run berth ps -a --format '{{.Status}}'
    [[ "$output" == "Exited (4) "* ]]
}

@test "kill -s sends the signal to the container's main process" {
    berth run -d --name killme busybox sh -c 'trap "echo got-usr1; exit 9" USR1; echo ready; while :; do sleep 0.1; done'
    wait_until 10 bash -c 'berth logs killme | grep -q ready'
    berth kill -s USR1 killme
    run berth wait killme
    [ "$output" = 9 ]
    wait_until 10 bash -c 'berth logs killme | grep -q got-usr1'
    run berth kill killme
    [ "$status" -ne 0 ]
    [[ "$output" == *"is not running"* ]]
}

@test "restart runs the same container again" {
    berth run -d --name again2 busybox sleep 1000
    pid1=$(berth inspect -f '{{.State.Pid}}' again2)
    id1=$(berth inspect -f '{{.Id}}' again2)
    run berth restart -t 1 again2
    [ "$status" -eq 0 ]
    [ "$(berth inspect -f '{{.State.Status}}' again2)" = running ]
    [ "$(berth inspect -f '{{.State.Pid}}' again2)" != "$pid1" ]
    [ "$(berth inspect -f '{{.Id}}' again2)" = "$id1" ]
}

@test "pause stops every process of the container until unpause; stop and exec know about it" {
    berth run -d --name pz busybox sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'
    wait_until 10 bash -c '[ "$(berth logs pz | wc -l)" -ge 3 ]'
    run berth pause pz
    assert_success
    assert_output pz
    [ "$(berth inspect -f '{{.State.Status}} {{.State.Paused}}' pz)" = "paused true" ]
    [[ "$(berth ps --filter name=pz --format '{{.Status}}')" == Up*"(Paused)" ]] || _fail "ps does not say Paused"
    # Nothing runs: no new lines while paused (a tick every 0.1 s otherwise).
    sleep 0.3
    n1=$(berth logs pz | wc -l)
    sleep 1
    n2=$(berth logs pz | wc -l)
    [ "$n1" -eq "$n2" ] || _fail "the container kept printing while paused ($n1 -> $n2)"
    run berth pause pz
    assert_status 1
    assert_output "berth: container pz is already paused"
    run berth exec pz true
    assert_status 125
    assert_output_contains "is paused, unpause the container before exec"
    run berth unpause pz
    assert_success
    [ "$(berth inspect -f '{{.State.Status}} {{.State.Paused}}' pz)" = "running false" ]
    wait_until 10 bash -c "[ \"\$(berth logs pz | wc -l)\" -gt $n2 ]"
    run berth unpause pz
    assert_status 1
    assert_output "berth: container pz is not paused"
    # A paused container still stops promptly.
    berth pause pz
    run timeout 20 berth stop -t 5 pz
    assert_success
    [ "$(berth inspect -f '{{.State.Status}}' pz)" = exited ]
    run berth pause pz
    assert_status 1
    assert_output "berth: container pz is not running"
}

@test "attach follows a detached container's output, passes signals on, and exits with its status" {
    berth run -d --name att busybox sh -c 'trap "echo got-int; exit 3" INT; i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.2; done'
    wait_until 10 bash -c 'berth logs att | grep -q "line 2"'
    berth attach att >"$BATS_TEST_TMPDIR/att.out" 2>&1 &
    apid=$!
    wait_until 10 grep -q line "$BATS_TEST_TMPDIR/att.out"
    # only what comes after the attach: not the first lines again
    run ! grep -qx 'line 1' "$BATS_TEST_TMPDIR/att.out"
    kill -INT $apid
    rc=0
    wait $apid || rc=$?
    [ "$rc" -eq 3 ] || _fail "attach exited $rc, not the container's 3: $(cat "$BATS_TEST_TMPDIR/att.out")"
    grep -q got-int "$BATS_TEST_TMPDIR/att.out" || _fail "no got-int: $(cat "$BATS_TEST_TMPDIR/att.out")"
    [ "$(berth inspect -f '{{.State.ExitCode}}' att)" = 3 ]
    run berth attach att
    assert_status 125
    assert_output "berth: You cannot attach to a stopped container, start it first"
}

@test "rename: a stopped container starts under its new name; a running one keeps its unit; clashes refused" {
    berth create --name old1 busybox sh -c 'echo renamed-ok'
    run berth rename old1 new1
    assert_success
    [ -z "$(berth ps -aq --filter name=old1)" ]
    run berth start -a new1
    assert_output renamed-ok
    [ "$(berth inspect -f '{{.Unit}}' new1)" = berth-new1.service ]
    berth run -d --name run1 busybox sleep 1000
    berth rename run1 run2
    [ "$(berth inspect -f '{{.Name}} {{.Unit}} {{.State.Status}}' run2)" = "/run2 berth-run1.service running" ]
    run berth rename run2 new1
    assert_status 125
    assert_output 'berth: Conflict. The container name "/new1" is already in use'
    run berth rename run2 'bad name'
    assert_status 125
    assert_output "berth: Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    berth stop -t 1 run2 >/dev/null
    berth start run2 >/dev/null
    [ "$(berth inspect -f '{{.Unit}}' run2)" = berth-run2.service ]
    [ "$(systemctl is-active berth-run2.service)" = active ]
}

@test "container prune removes stopped containers only" {
    berth run --name pr-done busybox true
    berth create --name pr-created busybox true
    berth run -d --name pr-live busybox sleep 1000
    done_id=$(berth inspect -f '{{.Id}}' pr-done)
    run berth container prune -f
    assert_success
    assert_line_matches "^$done_id$"
    assert_line_matches '^Total reclaimed space: '
    [ "$(berth ps -a --format '{{.Names}}')" = pr-live ]
}
