#!/usr/bin/env bats
# The rest of the definition model: NAME.volume and NAME.network units,
# Volume=NAME.volume / Network=NAME.network, drop-ins, templates, and what
# `berth generate --dry-run` shows of them.

load helpers

setup_file() { ensure_busybox_image; }

DEFS=/etc/berth/containers

teardown() {
    local u
    for u in $(systemctl list-units --all --no-legend --plain 'container@*' 'berth-volume@*' 'berth-network@*' |
        awk '{print $1}'); do
        systemctl stop "$u"
        # not an assertion: the unit may never have failed
        systemctl reset-failed "$u" 2>/dev/null || :
    done
    rm -rf "${DEFS:?}"/*
    systemctl daemon-reload
    remove_all_containers
    for v in $(berth volume ls -q); do berth volume rm "$v" >/dev/null; done
    for n in appnet; do
        if berth network inspect "$n" >/dev/null 2>&1; then berth network rm "$n" >/dev/null; fi
    done
    for i in localhost/defbuild:1 127.0.0.1:5171/defimg:1; do
        if [ -n "$(berth images -q "$i")" ]; then berth rmi "$i" >/dev/null; fi
    done
    if [ -n "${REG_DIR:-}" ]; then # the .image test's registry
        reg_stop_all
        if [ -f "$REG_DIR/config.json.orig" ]; then
            cp "$REG_DIR/config.json.orig" /etc/berth/config.json
        else
            rm -f /etc/berth/config.json
        fi
        rm -rf "$REG_DIR"
    fi
}

@test "a .volume becomes berth-volume@NAME.service; Volume=NAME.volume requires it and keeps data" {
    mkdir -p $DEFS
    cat > $DEFS/data.volume <<'EOF'
[Volume]
VolumeName=webdata
Label=app=test
EOF
    cat > $DEFS/store.container <<'EOF'
[Container]
Image=busybox
Exec=sh -c 'trap "exit 0" TERM; echo run >> /data/log; echo "lines $(wc -l < /data/log)"; sleep 1000 & wait'
Volume=data.volume:/data
EOF
    systemctl daemon-reload
    run berth volume inspect webdata
    assert_failure # nothing until something needs it
    systemctl start container@store.service
    [ "$(systemctl is-active container@store.service)" = active ]
    [ "$(systemctl is-active berth-volume@data.service)" = active ]
    [ "$(systemctl show -p Type --value berth-volume@data.service)" = oneshot ]
    [ "$(systemctl show -p RemainAfterExit --value berth-volume@data.service)" = yes ]
    [[ " $(systemctl show -p Requires --value container@store.service) " == *" berth-volume@data.service "* ]]
    [[ " $(systemctl show -p After --value container@store.service) " == *" berth-volume@data.service "* ]]
    run berth volume inspect webdata
    assert_success
    assert_output_contains '"app": "test"'
    wait_until 10 journal_has -u container@store.service -- "lines 1"
    run berth inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}' store
    [ "$output" = "volume webdata /data" ]

    # creating it again is fine (the volume exists), and the data stays
    systemctl stop container@store.service
    systemctl restart berth-volume@data.service
    [ "$(systemctl is-active berth-volume@data.service)" = active ]
    systemctl start container@store.service
    wait_until 10 journal_has -u container@store.service -- "lines 2"
}

@test "a .network: two definitions on it reach each other by name" {
    mkdir -p $DEFS
    cat > $DEFS/app.network <<'EOF'
[Network]
NetworkName=appnet
Subnet=10.89.3.0/24
EOF
    cat > $DEFS/srv.container <<'EOF'
[Container]
Image=busybox
Exec=httpd -f -p 80 -h /www
Network=app.network
EOF
    cat > $DEFS/client.container <<'EOF'
[Container]
Image=busybox
Exec=sh -c 'trap "exit 0" TERM; until wget -qO- http://srv/ >/dev/null; do sleep 0.2; done; echo reached srv; sleep 1000 & wait'
Network=app.network
EOF
    systemctl daemon-reload
    systemctl start container@srv.service container@client.service
    [ "$(systemctl is-active berth-network@app.service)" = active ]
    [[ " $(systemctl show -p Requires --value container@client.service) " == *" berth-network@app.service "* ]]
    run berth network inspect appnet
    assert_success
    assert_output_contains '"Subnet": "10.89.3.0/24"'
    wait_until 15 journal_has -u container@client.service -- "reached srv"
    run berth inspect -f '{{.HostConfig.NetworkMode}}' client
    [ "$output" = appnet ]
    # a restart of the network's unit finds it there and succeeds
    systemctl restart berth-network@app.service
    [ "$(systemctl is-active berth-network@app.service)" = active ]
}

@test "drop-ins: NAME.container.d overrides Exec=, container.d adds Environment=" {
    mkdir -p $DEFS/web.container.d $DEFS/container.d
    cat > $DEFS/web.container <<'EOF'
[Container]
Image=busybox
Exec=sh -c 'trap "exit 0" TERM; echo from the base file; sleep 1000 & wait'
Environment=BASE=base
EOF
    printf '[Container]\nEnvironment=ALL=everyone\n' > $DEFS/container.d/10-all.conf
    cat > $DEFS/web.container.d/20-exec.conf <<'EOF'
[Container]
Exec=sh -c 'trap "exit 0" TERM; echo "from the drop-in $BASE $ALL $OWN"; sleep 1000 & wait'
Environment=OWN=mine
[Service]
Environment=UNIT_LEVEL=yes
EOF
    systemctl daemon-reload
    systemctl start container@web.service
    wait_until 10 journal_has -u container@web.service -- "from the drop-in base everyone mine"
    run journal_has -u container@web.service -- "from the base file"
    assert_failure
    [[ "$(systemctl show -p Environment --value container@web.service)" == *UNIT_LEVEL=yes* ]]
    run berth generate --dry-run web
    assert_success
    assert_output_contains "# with the drop-in $DEFS/container.d/10-all.conf"
    assert_output_contains "# with the drop-in $DEFS/web.container.d/20-exec.conf"
}

@test "a template web@.container runs as instances, %i in its values" {
    mkdir -p $DEFS
    printf '[Volume]\nLabel=instance=%%i\n' > $DEFS/cache@.volume
    cat > $DEFS/web@.container <<'EOF'
[Container]
Image=busybox
Exec=sh -c 'trap "exit 0" TERM; echo "instance $INST"; sleep 1000 & wait'
Environment=INST=%i
Volume=cache@%i.volume:/cache
[Install]
WantedBy=multi-user.target
DefaultInstance=one
EOF
    ln -s web@.container $DEFS/web@two.container
    systemctl daemon-reload
    [ -L /run/systemd/generator/multi-user.target.wants/container@web@one.service ]
    [ -L /run/systemd/generator/multi-user.target.wants/container@web@two.service ]
    systemctl start container@web@one.service container@web@two.service
    [ "$(systemctl is-active container@web@one.service)" = active ]
    [ "$(systemctl is-active container@web@two.service)" = active ]
    run berth ps --format '{{.Names}} {{.Unit}}'
    assert_line_matches '^web-one container@web@one\.service$'
    assert_line_matches '^web-two container@web@two\.service$'
    wait_until 10 journal_has -u container@web@one.service -- "instance one"
    wait_until 10 journal_has -u container@web@two.service -- "instance two"
    wait_until 10 journal_has CONTAINER_NAME=web-two -- "instance two"
    run berth logs web-one
    assert_output_contains "instance one"
    # each instance has its own instance of the template volume
    [ "$(systemctl is-active berth-volume@cache@two.service)" = active ]
    run berth volume inspect cache-two
    assert_output_contains '"instance": "two"'
    run berth inspect -f '{{range .Mounts}}{{.Name}}{{end}}' web-one
    [ "$output" = cache-one ]
    # an instance the generator does not know has no configuration: refused
    run systemctl start container@web@three.service
    assert_failure
    journal_has -u container@web@three.service -- "add the instance as a file web@three.container"
    systemctl reset-failed container@web@three.service
    run berth ps -a --format '{{.Names}}'
    assert_output_not_contains web-three
}

@test "berth generate --dry-run shows volume and network units; bad keys are file:line errors" {
    mkdir -p $DEFS
    printf '[Volume]\nLabel=a=b\n' > $DEFS/data.volume
    printf '[Network]\nNetworkName=appnet\n' > $DEFS/app.network
    printf '[Network]\nSubnet=10.89.9.0/24\nGateway=10.89.9.1\n' > $DEFS/bad.network
    printf '[Container]\nImage=busybox\nVolume=nope.volume:/x\n' > $DEFS/broken.container
    printf '[Container]\nImage=busybox\nVolume=data.volume:/d\nNetwork=app.network\n' > $DEFS/web.container
    systemctl daemon-reload
    run --separate-stderr berth generate --dry-run
    assert_status 1
    [[ "$output" == *"# /run/systemd/generator/berth-volume@data.service"* ]]
    [[ "$output" == *"ExecStart=/usr/bin/berth volume create --label a=b data"* ]]
    [[ "$output" == *"ExecStart=/usr/bin/berth network create --ignore appnet"* ]]
    [[ "$output" == *"Requires=berth-volume@data.service"* ]]
    [[ "$output" == *"After=berth-network@app.service"* ]]
    [[ "$output" != *"berth-network@bad"* ]]
    [[ "$output" != *"container@broken"* ]]
    [[ "$stderr" == *"$DEFS/bad.network:3: Gateway= is not supported: \`berth network create\` has no such option"* ]]
    [[ "$stderr" == *"$DEFS/broken.container:3: no definition nope.volume in "* ]]
    # one name: the same, exit status 1 for a bad one
    run --separate-stderr berth generate --dry-run bad.network
    assert_status 1
    [ "$stderr" = "$DEFS/bad.network:3: Gateway= is not supported: \`berth network create\` has no such option" ]
    run berth generate --dry-run data.volume
    assert_success
    # the generator made the good ones only, and logged the bad ones
    [ -f /run/systemd/generator/berth-volume@data.service ]
    [ ! -e /run/systemd/generator/berth-network@bad.service ]
    [ ! -e /run/systemd/generator/container@broken.service.d ]
    journal_has -t berth-generator -- "bad.network:3"
    run systemctl start berth-network@bad.service
    assert_failure
    # nothing was created for the bad network
    run berth network ls
    assert_output_not_contains 10.89.9
}

@test "a .build builds ahead: Image=NAME.build runs what it built" {
    mkdir -p $DEFS "$BATS_TEST_TMPDIR/ctx"
    printf 'FROM busybox\nRUN echo built by the unit > /built\n' > "$BATS_TEST_TMPDIR/ctx/Containerfile"
    cat > $DEFS/app.build <<EOF2
[Build]
ImageTag=localhost/defbuild:1
SetWorkingDirectory=$BATS_TEST_TMPDIR/ctx
File=Containerfile
Label=made-by=definition
EOF2
    cat > $DEFS/app.container <<'EOF2'
[Container]
Image=app.build
Exec=sh -c 'trap "exit 0" TERM; cat /built; sleep 1000 & wait'
EOF2
    systemctl daemon-reload
    run berth generate --dry-run app.build
    assert_success
    assert_output_contains "ExecStart=/usr/bin/berth build -t localhost/defbuild:1 -f $BATS_TEST_TMPDIR/ctx/Containerfile --label made-by=definition $BATS_TEST_TMPDIR/ctx"
    systemctl start container@app.service
    [ "$(systemctl is-active berth-build@app.service)" = active ]
    wait_until 10 journal_has -u container@app.service -- "built by the unit"
    run berth inspect -f '{{.Config.Image}}' app
    [ "$output" = localhost/defbuild:1 ]
    run berth image inspect -f '{{index .Config.Labels "made-by"}}' localhost/defbuild:1
    [ "$output" = definition ]
}

@test "a .image pulls ahead: Image=NAME.image runs the pulled image" {
    REG_DIR=$(mktemp -d /tmp/t71.XXXXXX)
    export REG_DIR
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
    if [ -f /etc/berth/config.json ]; then cp /etc/berth/config.json "$REG_DIR/config.json.orig"; fi
    mkdir -p /etc/berth
    echo '{ "insecure-registries": ["127.0.0.1:5171"] }' > /etc/berth/config.json
    reg_start plain 5171
    berth push busybox:latest 127.0.0.1:5171/defimg:1 >/dev/null
    run berth images -q 127.0.0.1:5171/defimg:1
    if [ -n "$output" ]; then berth rmi 127.0.0.1:5171/defimg:1 >/dev/null; fi
    mkdir -p $DEFS
    printf '[Image]\nImage=127.0.0.1:5171/defimg:1\n' > $DEFS/bb.image
    cat > $DEFS/pulled.container <<'EOF2'
[Container]
Image=bb.image
Pull=never
Exec=sh -c 'trap "exit 0" TERM; echo pulled and running; sleep 1000 & wait'
EOF2
    systemctl daemon-reload
    systemctl start container@pulled.service
    [ "$(systemctl is-active berth-image@bb.service)" = active ]
    [[ " $(systemctl show -p After --value container@pulled.service) " == *" berth-image@bb.service "* ]]
    wait_until 10 journal_has -u container@pulled.service -- "pulled and running"
    run berth images -q 127.0.0.1:5171/defimg:1
    [ -n "$output" ]
}
