#!/usr/bin/env bats
# Resource limits are systemd properties of the container's unit.

load helpers

setup_file() { ensure_busybox_image; }
teardown() {
    rm -f /dev/berth-test-blk
    if [ -e /etc/berth/containers/upddef.container ]; then
        remove_definitions upddef
    fi
    remove_all_containers
}

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

@test "--blkio-weight and --device-read-bps land on the unit, whose processes join the I/O controller" {
    # a node of this machine's first disk (else any block device it has): the
    # guest's /dev has none, Docker takes only paths under /dev, and systemd
    # takes the number from the node
    local sys='' b
    for b in /sys/block/*; do
        [ -e "$b/dev" ] || continue
        case ${b##*/} in
        loop* | ram* | zram*) [ -n "$sys" ] || sys=$b ;;
        *) sys=$b; break ;;
        esac
    done
    [ -n "$sys" ] || _fail "no block device in /sys/block to put the limits on"
    dev=/dev/berth-test-blk
    rm -f "$dev"
    mknod "$dev" b "$(cut -d: -f1 "$sys/dev")" "$(cut -d: -f2 "$sys/dev")"
    berth run -d --name io --blkio-weight 300 --device-read-bps "$dev:1mb" busybox sleep 1000
    # runc's mapping: IOWeight = 1 + (weight - 10) * 9999 / 990
    [ "$(systemctl show -p IOWeight --value berth-io.service)" = 2930 ]
    [ "$(systemctl show -p IOReadBandwidthMax --value berth-io.service)" = "$dev 1048576" ]
    assert_in_io_cgroup berth-io.service "$(berth inspect -f '{{.State.Pid}}' io)"
    # a container started without I/O limits gets the controller with its first
    berth run -d --name late busybox sleep 1000
    berth update --blkio-weight 200 late
    [ "$(systemctl show -p IOWeight --value berth-late.service)" = 1920 ]
    assert_in_io_cgroup berth-late.service "$(berth inspect -f '{{.State.Pid}}' late)"
}

@test "stats shows CPU, memory against the limit, network and PIDs; units account for them" {
    berth run -d --name hog -m 64m busybox sh -c 'while :; do :; done' >/dev/null
    berth run -d --name calm --network host busybox sleep 1000 >/dev/null
    berth create --name notyet busybox true >/dev/null
    # accounting is switched on for the unit, whatever the host's defaults
    assert_unit_accounting berth-hog.service
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

@test "update: a running container's unit changes at once, its record too, and a restart keeps it" {
    berth run -d --name upd -m 128m --cpus 0.5 busybox sleep 1000
    pid=$(berth inspect -f '{{.State.Pid}}' upd)
    [ "$(systemctl show -p MemoryMax --value berth-upd.service)" = 134217728 ]
    [ "$(systemctl show -p CPUQuotaPerSecUSec --value berth-upd.service)" = 500ms ]
    run berth update -m 256m --cpus 1.5 upd
    assert_success
    assert_output upd
    [ "$(systemctl show -p MemoryMax --value berth-upd.service)" = 268435456 ]
    [ "$(systemctl show -p CPUQuotaPerSecUSec --value berth-upd.service)" = 1.500000s ]
    # the container's own cgroup, without a restart
    [ "$(berth inspect -f '{{.State.Pid}}' upd)" = "$pid" ]
    # (the harness' systemd has its tree deep below /sys/fs/cgroup, v2 or v1)
    f=$(find /sys/fs/cgroup \( -path '*/berth-upd.service/memory.max' -o \
        -path '*/berth-upd.service/memory.limit_in_bytes' \) -print -quit)
    [ -n "$f" ] || _fail "no memory limit file for berth-upd.service"
    [ "$(cat "$f")" = 268435456 ]
    run berth inspect --format '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.MemorySwap}}' upd
    assert_output "268435456 1500000000 536870912"
    # what was not named stays as it was
    run berth update --pids-limit 64 upd
    assert_success
    [ "$(systemctl show -p MemoryMax --value berth-upd.service)" = 268435456 ]
    [ "$(systemctl show -p TasksMax --value berth-upd.service)" = 64 ]
    berth restart upd
    [ "$(berth inspect -f '{{.State.Pid}}' upd)" != "$pid" ]
    [ "$(systemctl show -p MemoryMax --value berth-upd.service)" = 268435456 ]
    [ "$(systemctl show -p CPUQuotaPerSecUSec --value berth-upd.service)" = 1.500000s ]
    [ "$(systemctl show -p TasksMax --value berth-upd.service)" = 64 ]
}

@test "update: a bad value is one line and changes nothing" {
    berth run -d --name keep -m 128m --memory-swap 256m busybox sleep 1000
    before=$(berth inspect -f '{{json .HostConfig}} {{json .Berth.Limits}}' keep)
    run berth update -m lots keep
    assert_status 125
    assert_output "berth: --memory: invalid size: 'lots'"
    run berth update -m 200m --cpus -1 keep
    assert_status 125
    assert_output "berth: --cpus: invalid number of CPUs: '-1'"
    # valid alone, not with the container's own --memory-swap
    run berth update -m 512m keep
    assert_status 125
    [ "${#lines[@]}" -eq 1 ] || _fail "$output"
    assert_output_contains "cannot update container keep: "
    # a container that is not there: the others are not changed either
    run berth update -m 200m keep nosuch
    assert_status 125
    assert_output "berth: No such container: nosuch"
    [ "$(berth inspect -f '{{json .HostConfig}} {{json .Berth.Limits}}' keep)" = "$before" ]
    [ "$(systemctl show -p MemoryMax --value berth-keep.service)" = 134217728 ]
    [ "$(systemctl show -p CPUQuotaPerSecUSec --value berth-keep.service)" = infinity ]
    run berth update keep
    assert_status 125
    assert_output_contains "you must provide one or more flags"
    # as Docker, 0 leaves a limit as it is
    run berth update -m 0 keep
    assert_success
    [ "$(systemctl show -p MemoryMax --value berth-keep.service)" = 134217728 ]
    [ "$(berth inspect -f '{{json .HostConfig}} {{json .Berth.Limits}}' keep)" = "$before" ]
}

@test "update: a stopped container's record, used by its next start" {
    berth create --name later -m 128m busybox sleep 1000 >/dev/null
    run berth update -m 300m --pids-limit 50 --cpuset-cpus 0 later
    assert_success
    assert_output later
    run berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}}' later
    assert_output "314572800 50 0"
    berth start later
    [ "$(systemctl show -p MemoryMax --value berth-later.service)" = 314572800 ]
    [ "$(systemctl show -p TasksMax --value berth-later.service)" = 50 ]
    [ "$(systemctl show -p AllowedCPUs --value berth-later.service)" = 0 ]
    # changed while it ran, then again while stopped: the next unit has only the last
    berth update -m 200m later
    [ "$(systemctl show -p MemoryMax --value berth-later.service)" = 209715200 ]
    berth stop later
    berth update -m 400m later
    berth start later
    [ "$(systemctl show -p MemoryMax --value berth-later.service)" = 419430400 ]
}

@test "update --restart: refused with --rm, from the next start for a running container" {
    berth run -d --rm --name gone busybox sleep 1000
    run berth update --restart always gone
    assert_status 125
    assert_output "berth: cannot update container gone: Restart policy cannot be updated because AutoRemove is enabled for the container"
    [ "$(berth inspect -f '{{.HostConfig.RestartPolicy.Name}}' gone)" = no ]
    run berth update --restart no gone
    assert_success
    berth run -d --name pol2 busybox sleep 1000
    run --separate-stderr berth update --restart on-failure:2 pol2
    assert_success
    [ "$output" = pol2 ] || _fail "$output"
    [[ "$stderr" == *"restart policy of pol2 applies from its next start"* ]] || _fail "$stderr"
    # systemd does not change Restart= of a loaded unit
    [ "$(systemctl show -p Restart --value berth-pol2.service)" = no ]
    run berth inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' pol2
    assert_output "on-failure 2"
    berth restart pol2
    [ "$(systemctl show -p Restart --value berth-pol2.service)" = on-failure ]
    [ "$(systemctl show -p StartLimitBurst --value berth-pol2.service)" = 3 ]
}

@test "update: several containers at once, names printed as given" {
    berth run -d --name multi1 busybox sleep 1000 >/dev/null
    id2=$(berth run -d --name multi2 busybox sleep 1000)
    berth create --name multi3 busybox true >/dev/null
    run berth update --pids-limit 77 --cpu-shares 512 multi1 "${id2:0:12}" multi3
    assert_success
    [ "$output" = "multi1"$'\n'"${id2:0:12}"$'\n'"multi3" ] || _fail "$output"
    for u in multi1 multi2; do
        [ "$(systemctl show -p TasksMax --value berth-$u.service)" = 77 ] || _fail "$u"
        [ "$(systemctl show -p CPUWeight --value berth-$u.service)" = 20 ] || _fail "$u"
    done
    [ "$(berth inspect -f '{{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}' multi3)" = "77 512" ]
}

@test "update: a definition container's limits are its file's" {
    mkdir -p /etc/berth/containers
    printf '[Container]\nImage=busybox\nExec=sleep 1000\nMemory=64M\n' > /etc/berth/containers/upddef.container
    systemctl daemon-reload
    systemctl start container@upddef.service
    run berth update -m 128m --restart always upddef
    assert_status 125
    assert_output "berth: container upddef comes from /etc/berth/containers/upddef.container: change Memory=, Restart= in [Service] there"
    [ "$(systemctl show -p MemoryMax --value container@upddef.service)" = 67108864 ]
}
