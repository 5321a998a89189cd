#!/usr/bin/env bats
# Resource limits are systemd properties of the container's unit.

load helpers

setup_file() { ensure_busybox_image; }
teardown() { berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true; }

@test "memory, cpus, pids and cpu-shares land on the unit" {
    berth run -d --name lim -m 512m --cpus 1.5 --pids-limit 100 --cpu-shares 1024 \
        --memory-reservation 256m busybox sleep 1000
    [ "$(systemctl show -p MemoryMax --value berth-lim.service)" = 536870912 ]
    [ "$(systemctl show -p MemoryLow --value berth-lim.service)" = 268435456 ]
    [ "$(systemctl show -p CPUQuotaPerSecUSec --value berth-lim.service)" = 1.500000s ]
    [ "$(systemctl show -p TasksMax --value berth-lim.service)" = 100 ]
    [ "$(systemctl show -p CPUWeight --value berth-lim.service)" = 39 ]
}

@test "cpuset and restart policy" {
    berth run -d --name pol --cpuset-cpus 0 --restart on-failure:3 busybox sleep 1000
    [ "$(systemctl show -p AllowedCPUs --value berth-pol.service)" = 0 ]
    [ "$(systemctl show -p Restart --value berth-pol.service)" = on-failure ]
    [ "$(systemctl show -p StartLimitBurst --value berth-pol.service)" = 4 ]  # the first start counts too
}

@test "restart=always brings a killed container back" {
    berth run -d --name phoenix --restart always busybox sleep 1000
    pid1=$(berth inspect -f '{{.State.Pid}}' phoenix)
    kill -9 "$pid1"
    wait_until 20 bash -c '[ "$(berth inspect -f "{{.State.Status}}" phoenix)" = running ] && [ "$(berth inspect -f "{{.State.Pid}}" phoenix)" != "'"$pid1"'" ]'
    berth stop phoenix
    [ "$(berth inspect -f '{{.State.Status}}' phoenix)" = exited ]
}

@test "the description names the image" {
    berth run -d --name described busybox sleep 1000
    run systemctl show -p Description --value berth-described.service
    [[ "$output" == *busybox* ]]
}

@test "--ulimit becomes LimitX= of the unit and the container's rlimit" {
    berth run -d --name ul --ulimit nofile=512:1024 busybox sleep 1000
    [ "$(systemctl show -p LimitNOFILE --value berth-ul.service)" = 1024 ]
    [ "$(systemctl show -p LimitNOFILESoft --value berth-ul.service)" = 512 ]
    run berth exec ul sh -c 'ulimit -n; ulimit -Hn'
    [ "${lines[0]}" = 512 ]
    [ "${lines[1]}" = 1024 ]
    run bash -c "berth inspect ul | jq -c '.[0].HostConfig.Ulimits[0] | [.Name, .Soft, .Hard]'"
    [ "$output" = '["nofile",512,1024]' ]
    run berth run --rm --ulimit nofiles=1 busybox true
    [ "$status" -eq 125 ]
    [[ "$output" == *"invalid ulimit type: nofiles"* ]]
    run berth run --rm --ulimit nofile=10:5 busybox true
    [ "$status" -eq 125 ]
}

@test "stats shows CPU, memory against the limit, network and PIDs; units account for them" {
    berth run -d --name hog -m 64m busybox sh -c 'while :; do :; done' >/dev/null
    berth run -d --name calm --network host busybox sleep 1000 >/dev/null
    berth create --name notyet busybox true >/dev/null
    # accounting is switched on for the unit, whatever the host's defaults
    for p in CPUAccounting MemoryAccounting TasksAccounting IOAccounting; do
        [ "$(systemctl show -p $p --value berth-hog.service)" = yes ] || _fail "$p is not on"
    done
    sleep 1
    run berth stats --no-stream --format '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.PIDs}}'
    assert_success
    [ "${#lines[@]}" -eq 2 ] || _fail "not only the running two: $output"
    hog=$(grep '^hog|' <<<"$output")
    [[ $hog =~ ^hog\|([0-9.]+)%\|[0-9.]+(B|KiB|MiB)\ /\ 64MiB\|[0-9.]+%\|[0-9.]+k?B\ /\ [0-9.]+k?B\|1$ ]] ||
        _fail "hog: $hog"
    cpu=${BASH_REMATCH[1]}
    [ "${cpu%.*}" -ge 20 ] || _fail "a busy loop at $cpu% CPU"
    calm=$(grep '^calm|' <<<"$output")
    [[ $calm =~ ^calm\|0\.[0-9]+%\|.*\|--\|1$ ]] || _fail "calm: $calm"
    run berth stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.PIDs}}'
    assert_line_matches '^notyet -- --$'
    run berth stats --no-stream
    [[ ${lines[0]} =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +NET\ I/O\ +BLOCK\ I/O\ +PIDS$ ]] ||
        _fail "header: ${lines[0]}"
    run berth stats --no-stream no-such-container
    assert_status 125
    assert_output "berth: No such container: no-such-container"
}
