#!/usr/bin/env bats
# exec, inspect, top, logs options.

load helpers

setup_file() { ensure_busybox_image; }
teardown() { berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true; }

@test "exec runs in the container's namespaces and unit" {
    berth run -d --name ex --hostname exhost busybox sleep 1000
    run berth exec ex hostname
    [ "$output" = exhost ]
    run berth exec ex sh -c 'echo $$'
    [ "$output" -gt 1 ]
    run berth exec -e X=y -w /tmp -u nobody ex sh -c 'echo $X $(pwd) $(id -u)'
    [ "$output" = "y /tmp 65534" ]
    run berth exec ex sh -c 'exit 5'
    [ "$status" -eq 5 ]
    run -127 berth exec ex nosuchcmd
    [ "$status" -eq 127 ]
    # the exec'd process is in the unit's cgroup
    berth exec -d ex sleep 777
    wait_until 20 bash -c 'systemctl status berth-ex.service | grep -q "sleep 777"'
}

@test "exec into a stopped container is refused" {
    berth create --name stopped busybox sleep 1
    run berth exec stopped true
    [ "$status" -ne 0 ]
    [[ "$output" == *"is not running"* ]]
}

@test "exec -it gives a terminal" {
    berth run -d --name tt busybox sleep 1000
    run script -qec 'berth exec -it tt tty' /dev/null
    [[ "$output" == */dev/pts/* ]]
}

@test "inspect shows docker's shape and answers go templates" {
    berth run -d --name insp -e K=v --label app=web busybox sleep 1000
    run berth inspect insp
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.[0] |
        .Name == "/insp" and .State.Running == true and .State.Pid > 0 and
        (.Config.Env | index("K=v")) != null and .Config.Labels.app == "web" and
        .Config.Image == "busybox" and .HostConfig.NetworkMode == "bridge" and
        (.Image | startswith("sha256:"))'
    pid=$(berth inspect -f '{{.State.Pid}}' insp)
    [ "$pid" = "$(systemctl show -p MainPID --value berth-insp.service)" ]
    run berth inspect -f '{{index .Config.Labels "app"}}' insp
    [ "$output" = web ]
    run berth ps -f label=app=web --format '{{.Names}}'
    [ "$output" = insp ]
    run berth inspect -f '{{.NoSuchField}}' insp
    [ "$status" -ne 0 ]
}

@test "top lists the container's processes" {
    berth run -d --name topc busybox sleep 1000
    run berth top topc
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == *PID*CMD* ]]
    [[ "$output" == *"sleep 1000"* ]]
    [ "${#lines[@]}" -eq 2 ]            # the header and the one process: nothing of the host
    run berth top topc aux              # ps options, as docker passes them on
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == *USER*PID* ]]
    [ "${#lines[@]}" -eq 2 ]
}

@test "logs --tail, -t, --since and -f" {
    berth run -d --name lg busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done; sleep 2; echo late'
    wait_until 20 bash -c 'berth logs lg | grep -q line5'
    run berth logs --tail 2 lg
    [ "${lines[0]}" = line4 ]
    [ "${lines[1]}" = line5 ]
    run berth logs -t --tail 1 lg
    [[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ line5$ ]]
    run berth logs --since 1h lg
    [[ "$output" == *line1* ]]
    run berth logs --until 2000-01-01 lg
    [ -z "$output" ]
    # -f follows until the container exits
    run timeout 20 berth logs -f lg
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = late ]
}

@test "logs of an exited container still work" {
    berth run --name done busybox echo finished-line
    run berth logs done
    [ "$output" = finished-line ]
}

@test "exec -e replaces the container's variable and takes a bare name from berth's environment" {
    berth run -d --name envc -e A=old busybox sleep 1000
    run berth exec -e A=new envc sh -c 'echo $A; env | grep -c "^A="'
    [ "${lines[0]}" = new ]
    [ "${lines[1]}" = 1 ]
    FROMHOST=yes run berth exec -e FROMHOST envc sh -c 'echo $FROMHOST'
    [ "$output" = yes ]
}

@test "exec -i passes stdin, without -i the process reads nothing" {
    berth run -d --name ei busybox sleep 1000
    run bash -c 'echo piped | berth exec -i ei cat'
    [ "$output" = piped ]
    run bash -c 'echo piped | berth exec ei cat'
    [ -z "$output" ]
}
