#!/usr/bin/env bats
# berth compose beyond one up and down: generate (the files, printed or in a
# directory), up --enable (files under /etc, the target enabled for boot;
# tests/boot/reboot.sh checks the boot itself), a re-up that recreates only
# the services whose com.docker.compose.config-hash changed, --force-recreate,
# --no-start, depends_on with service_completed_successfully (a oneshot
# unit), and compose ps agreeing with systemctl list-dependencies.

load helpers

setup_file() { ensure_busybox_image; }

setup() {
    D=$(mktemp -d /tmp/t98.XXXXXX)
    mkdir -p "$D/life"
    cat >"$D/life/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
    init: true
    command: ["sleep", "1000"]
    environment:
      V: "1"
    depends_on: [db]
  db:
    image: busybox
    init: true
    command: ["sleep", "1000"]
    volumes:
      - data:/data
volumes:
  data:
YAML
}

teardown() {
    if [ -f /run/berth/compose/life.list ] || [ -f /etc/berth/compose/life.list ]; then
        (cd "$D/life" && berth compose down -v >/dev/null 2>&1) || :
    fi
    rm -rf "$D"
    remove_all_containers
}

started() {
    berth inspect -f '{{.State.StartedAt}} {{.State.Pid}}' "$1"
}

# up --force-recreate of life: both reported recreated and started once each
# (restarting db restarts web, Requires=, which is not restarted again)
force_recreate_once() {
    local since c
    since=$(date +%s.%N)
    run berth compose up -d --force-recreate
    assert_success
    assert_output_contains "Container life-web-1  Recreated"
    assert_output_contains "Container life-db-1  Recreated"
    for c in life-web-1 life-db-1; do
        run berth events --since "$since" --until "$(date +%s.%N)" --filter "container=$c" --filter event=start \
            --format '{{.Action}}'
        assert_output start
    done
}

@test "compose generate: the files up --enable writes, printed or into a directory; bad input writes nothing" {
    cd "$D/life"
    run --separate-stderr berth compose generate
    assert_success
    [ -z "$stderr" ] || _fail "stderr: $stderr"
    [ "$(echo "$output" | grep -c '^---$')" -eq 4 ] || _fail "five files expected"
    assert_line_matches '^# life-web-1\.container$'
    assert_line_matches '^# life-db-1\.container$'
    assert_line_matches '^# life_data\.volume$'
    assert_line_matches '^# life_default\.network$'
    assert_line_matches '^# berth-compose-life\.target$'
    assert_line_matches '^WantedBy=multi-user\.target$'
    assert_line_matches '^Label="com\.docker\.compose\.config-hash=[0-9a-f]{64}"$'
    # generate only describes: nothing is written or started
    [ ! -e /run/berth/compose/life.list ] && [ ! -e /etc/berth/compose/life.list ]
    # and needs no root and no store
    command -v setpriv >/dev/null || _fail "setpriv (util-linux) is missing"
    chmod -R a+rX "$D"
    run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
        berth --root "$D/no-store" --runroot "$D/no-run" compose generate
    assert_success
    assert_line_matches '^# berth-compose-life\.target$'
    [ ! -e "$D/no-store" ] && [ ! -e "$D/no-run" ] || _fail "compose generate made a store"

    run berth compose generate --output "$D/out" web
    assert_success
    assert_output "$D/out/life-db-1.container
$D/out/life-web-1.container
$D/out/life_data.volume
$D/out/life_default.network
$D/out/berth-compose-life.target"
    grep -qx 'Requires=container@life-db-1.service' "$D/out/life-web-1.container"
    grep -qx 'WantedBy=multi-user.target' "$D/out/berth-compose-life.target"

    touch "$D/afile"
    run --separate-stderr berth compose generate -o "$D/afile"
    assert_status 125
    [[ "$stderr" == "berth: --output $D/afile is not a directory"* ]] || _fail "stderr: $stderr"
    [ ! -s "$D/afile" ]
    # a bad project: one line, 125, no directory made
    sed -i 's/^    init: true/    extra_hosts: ["h:10.0.0.1"]/' compose.yaml
    run --separate-stderr berth compose generate -o "$D/bad"
    assert_status 125
    [ "$stderr" = "berth: service db: extra_hosts is not supported by compose up yet" ] || _fail "stderr: $stderr"
    [ ! -e "$D/bad" ]
    run --separate-stderr berth compose generate --bogus
    assert_status 125
    [[ "$stderr" == "berth: compose generate: unknown option '--bogus'"* ]] || _fail "stderr: $stderr"
    assert_no_compose_project life
}

@test "compose up --enable: files under /etc, the target enabled and managed with systemctl; down undoes all" {
    cd "$D/life"
    run berth compose up -d --enable
    assert_success
    [ -f /etc/berth/containers/life-web-1.container ]
    [ -f /etc/berth/containers/life_data.volume ]
    [ ! -e /run/berth/containers/life-web-1.container ]
    grep -qx 'WantedBy=multi-user.target' /etc/systemd/system/berth-compose-life.target
    [ "$(systemctl is-enabled berth-compose-life.target)" = enabled ]
    [ "$(systemctl is-active container@life-web-1.service)" = active ]
    [ "$(systemctl is-active container@life-db-1.service)" = active ]
    # systemctl manages the project as a whole
    systemctl stop berth-compose-life.target
    wait_until 20 bash -c '! systemctl is-active -q container@life-web-1.service'
    wait_until 20 bash -c '! systemctl is-active -q container@life-db-1.service'
    systemctl start berth-compose-life.target
    [ "$(systemctl is-active container@life-web-1.service)" = active ]
    [ "$(systemctl is-active container@life-db-1.service)" = active ]
    # a plain up of an enabled project keeps it enabled
    run berth compose up -d
    assert_success
    [ "$(systemctl is-enabled berth-compose-life.target)" = enabled ]
    [ ! -e /run/berth/compose/life.list ]

    run berth compose down -v
    assert_success
    assert_no_compose_project life
    run systemctl is-enabled berth-compose-life.target
    assert_failure

    # a project up for this boot only must come down before it is enabled
    run berth compose up -d
    assert_success
    run --separate-stderr berth compose up -d --enable
    assert_status 125
    [ "$stderr" = "berth: project life is up without --enable: run 'berth compose down' first" ] ||
        _fail "stderr: $stderr"
    [ ! -e /etc/berth/containers/life-web-1.container ]
    [ ! -e /etc/berth/compose/life.list ]
    # down also takes back an enablement made by hand
    systemctl enable /run/systemd/system/berth-compose-life.target
    run berth compose down -v
    assert_success
    assert_no_compose_project life
}

@test "compose up again: only a changed service is recreated; --force-recreate recreates all; --no-start creates" {
    cd "$D/life"
    run berth compose up --no-start
    assert_success
    assert_output_contains "Container life-web-1  Created"
    run berth ps -a --filter label=com.docker.compose.project=life --format '{{.Names}} {{.State}}'
    assert_success
    assert_line_matches '^life-web-1 created$'
    assert_line_matches '^life-db-1 created$'
    [ "$(systemctl is-active container@life-web-1.service)" = inactive ]
    run berth volume inspect -f '{{.Name}}' life_data
    assert_output life_data

    run berth compose up -d
    assert_success
    [ "$(systemctl is-active container@life-web-1.service)" = active ]
    web1=$(started life-web-1)
    db1=$(started life-db-1)
    hash1=$(berth inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' life-web-1)
    [[ "$hash1" =~ ^[0-9a-f]{64}$ ]] || _fail "hash: $hash1"

    # unchanged: nothing restarts
    run berth compose up -d
    assert_success
    [ "$(started life-web-1)" = "$web1" ] || _fail "web restarted"
    [ "$(started life-db-1)" = "$db1" ] || _fail "db restarted"

    # web changed: web alone is recreated, db keeps running
    sed -i 's/V: "1"/V: "2"/' compose.yaml
    run berth compose up -d
    assert_success
    assert_output_contains "Container life-web-1  Recreated"
    assert_output_not_contains "Container life-db-1  Recreated"
    web2=$(started life-web-1)
    [ "$web2" != "$web1" ] || _fail "web not recreated"
    [ "$(started life-db-1)" = "$db1" ] || _fail "db restarted"
    run berth exec life-web-1 sh -c 'echo $V'
    assert_output 2
    hash2=$(berth inspect -f '{{index .Config.Labels "com.docker.compose.config-hash"}}' life-web-1)
    [ "$hash2" != "$hash1" ]

    force_recreate_once
    [ "$(started life-web-1)" != "$web2" ] || _fail "web not recreated"
    [ "$(started life-db-1)" != "$db1" ] || _fail "db not recreated"
    [ "$(systemctl is-active container@life-web-1.service)" = active ]

    run --separate-stderr berth compose up --no-start --force-recreate
    assert_status 125
    [[ "$stderr" == "berth: compose up: --no-start and --force-recreate cannot be combined"* ]] ||
        _fail "stderr: $stderr"
    run berth compose down -v
    assert_success
    assert_no_compose_project life
}

@test "--force-recreate while a dependent is still starting: each service restarted once, nothing left half-removed" {
    cd "$D/life"
    # web's record is slow to remove (20000 files in its writable layer):
    # restarting db restarts web (Requires=), and web is still starting
    # when compose comes to it
    sed -i 's|command: \["sleep", "1000"\]|command: ["sh", "-c", "mkdir -p /many \&\& cd /many \&\& seq 20000 \| xargs touch \&\& exec sleep 1000"]|' compose.yaml
    grep -q 'xargs touch' compose.yaml || _fail "compose.yaml not changed"
    run berth compose up -d
    assert_success
    wait_until 30 berth exec life-web-1 test -e /many/20000
    force_recreate_once
    [ "$(systemctl is-active container@life-web-1.service)" = active ]
    run berth compose down -v
    assert_success
    assert_no_compose_project life
    [ -z "$(compgen -G '/var/lib/berth/tmp/rm-*')" ] || _fail "left in tmp: $(ls /var/lib/berth/tmp)"
}

@test "depends_on service_completed_successfully: the dependent starts after a successful run, not after a failed one" {
    cd "$D/life"
    cat >compose.yaml <<'YAML'
services:
  web:
    image: busybox
    init: true
    command: ["sh", "-c", "cat /data/ready; exec sleep 1000"]
    volumes: [data:/data]
    depends_on:
      setup:
        condition: service_completed_successfully
  setup:
    image: busybox
    command: ["sh", "-c", "sleep 2; echo prepared > /data/ready; exit ${SETUP_EXIT:-0}"]
    volumes: [data:/data]
volumes:
  data:
YAML
    SETUP_EXIT=3 run --separate-stderr berth compose up -d
    assert_status 125
    [ "$(echo "$stderr" | grep -c '^berth: ')" -eq 1 ] || _fail "stderr: $stderr"
    [[ "$stderr" == *"berth: container life-setup-1 did not complete successfully"* ]] || _fail "stderr: $stderr"
    [ "$(systemctl is-active container@life-setup-1.service)" = failed ]
    run systemctl is-active container@life-web-1.service
    assert_output inactive
    run berth inspect life-web-1
    assert_failure
    run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' life-setup-1
    assert_output "exited 3"

    # fixed: setup runs again, to completion, and only then web starts
    run berth compose up -d
    assert_success
    assert_output_contains "Container life-setup-1  Exited"
    assert_output_contains "Container life-web-1  Started"
    [ "$(systemctl is-active container@life-web-1.service)" = active ]
    [ "$(systemctl show -p Type --value container@life-setup-1.service)" = oneshot ]
    # a run to completion succeeds with 0 only; a service stops cleanly with 143 too
    [ -z "$(systemctl show -P SuccessExitStatus container@life-setup-1.service)" ]
    [ "$(systemctl show -P SuccessExitStatus container@life-web-1.service)" = 143 ]
    run berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' life-setup-1
    assert_output "exited 0"
    done_at=$(systemctl show -p ExecMainExitTimestampMonotonic --value container@life-setup-1.service)
    web_at=$(systemctl show -p ExecMainStartTimestampMonotonic --value container@life-web-1.service)
    [ "$done_at" -gt 0 ] && [ "$web_at" -ge "$done_at" ] || _fail "web started ($web_at) before setup ended ($done_at)"
    run berth logs life-web-1
    assert_output_contains prepared

    # a re-up runs it again (as Docker Compose starts exited containers);
    # the running dependent is left alone
    web1=$(started life-web-1)
    setup1=$(berth inspect -f '{{.State.StartedAt}}' life-setup-1)
    run berth compose up -d
    assert_success
    assert_output_contains "Container life-setup-1  Exited"
    [ "$(berth inspect -f '{{.State.StartedAt}}' life-setup-1)" != "$setup1" ] || _fail "setup did not run again"
    [ "$(started life-web-1)" = "$web1" ] || _fail "web restarted"
    run berth compose down -v
    assert_success
    assert_no_compose_project life
}

@test "compose ps and systemctl list-dependencies of the target name the same containers" {
    cd "$D/life"
    run berth compose up -d
    assert_success
    ps=$(berth compose ps -a --format '{{.Name}}' | sort)
    deps=$(systemctl list-dependencies --plain --no-legend berth-compose-life.target |
        grep -o 'container@[^ ]*\.service' | sed 's/^container@//; s/\.service$//' | sort -u)
    [ -n "$ps" ] && [ "$ps" = "$deps" ] || _fail "ps: $ps" "list-dependencies: $deps"
    [ "$ps" = "life-db-1
life-web-1" ] || _fail "ps: $ps"
    # and still after one service is stopped by systemctl: the running
    # ones compose ps lists are the active units
    systemctl stop container@life-web-1.service
    run berth compose ps --format '{{.Name}}'
    assert_output life-db-1
    for n in $deps; do
        if systemctl is-active -q "container@$n.service"; then
            berth compose ps --format '{{.Name}}' | grep -qx "$n" || _fail "$n is active but not in compose ps"
        else
            run berth compose ps --format '{{.Name}}'
            assert_output_not_contains "$n"
        fi
    done
    run berth compose ps -a --format '{{.Name}} {{.State}}'
    assert_line_matches '^life-web-1 exited$'
    run berth compose down -v
    assert_success
    assert_no_compose_project life
}
