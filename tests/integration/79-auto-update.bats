#!/usr/bin/env bats
# auto-update: definition containers with AutoUpdate=local|registry move to
# their newer image by a restart of container@NAME.service (the container
# made afresh), --dry-run changes nothing, a new image that does not start
# is rolled back (or left failed with --rollback=false), the table and
# --format are Podman's, a `berth run` container is reported, and the
# shipped timer and service load.

load helpers

PORT=5140

setup_file() {
    ensure_busybox_image
    REG_DIR=$(mktemp -d /tmp/t79.XXXXXX)
    export REG_DIR
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
    reg_config_save
    printf '{ "insecure-registries": ["127.0.0.1:%s"] }\n' "$PORT" >/etc/berth/config.json
    reg_start plain $PORT
}

teardown_file() {
    . "$REPO/tests/harness/registry.sh"
    reg_stop_all
    reg_config_restore
    rm -rf "$REG_DIR"
}

teardown() {
    remove_definitions aul aur
    remove_all_containers
}

define() { # NAME IMAGE POLICY
    mkdir -p /etc/berth/containers
    printf '%s\n' '[Container]' "Image=$2" 'Exec=sleep 1000' "AutoUpdate=$3" >"/etc/berth/containers/$1.container"
    systemctl daemon-reload
}

# a new image under TAG: the current one with /version saying TEXT (or, with
# "broken", without /bin/sleep, so the definition's Exec= cannot start)
new_image() { # TAG TEXT
    local tmp=mk-$RANDOM
    if [ "$2" = broken ]; then
        berth run --name "$tmp" "$1" rm /bin/sleep
    else
        berth run --name "$tmp" "$1" sh -c "echo $2 >/version"
    fi
    berth commit "$tmp" "$1" >/dev/null
    berth rm "$tmp" >/dev/null
}

image_id() { berth image inspect -f '{{.Id}}' "$1"; }
container_image() { berth inspect -f '{{.Image}}' "$1"; }

@test "AutoUpdate=local: false while current, pending in a dry run, then true: the unit restarted on the new image" {
    berth tag busybox aul-img:1
    define aul aul-img:1 local
    run systemctl start container@aul.service
    assert_success
    run berth inspect -f '{{index .Config.Labels "io.containers.autoupdate"}}' aul
    assert_output local

    run berth auto-update
    assert_success
    assert_line_matches '^UNIT +CONTAINER +IMAGE +POLICY +UPDATED$'
    assert_line_matches "^container@aul\.service +[0-9a-f]{12} \(aul\) +aul-img:1 +local +false$"

    old=$(container_image aul)
    new_image aul-img:1 v2
    v2=$(image_id aul-img:1)
    [ "$v2" != "$old" ] || _fail "the commit made no new image"
    run berth auto-update --dry-run
    assert_success
    assert_line_matches "^container@aul\.service .* +local +pending$"
    assert_equal "$(container_image aul)" "$old"

    pid_before=$(systemctl show -P MainPID container@aul.service)
    run berth auto-update --format '{{.ContainerName}} {{.Policy}} {{.Updated}}'
    assert_success
    assert_output "aul local true"
    assert_equal "$(container_image aul)" "$v2"
    run berth exec aul cat /version
    assert_output v2
    [ "$(systemctl show -P MainPID container@aul.service)" != "$pid_before" ] || _fail "the unit was not restarted"
    run berth auto-update --format json
    assert_success
    assert_equal "$(jq -r .Updated <<<"$output")" false
}

@test "a new image that does not start is rolled back; with --rollback=false the unit is left failed" {
    berth tag busybox aul-img:1
    define aul aul-img:1 local
    systemctl start container@aul.service
    good=$(container_image aul)
    new_image aul-img:1 broken
    broken=$(image_id aul-img:1)

    run berth auto-update --format '{{.ContainerName}} {{.Updated}}'
    assert_success
    assert_line_matches '^aul rolled back$'
    assert_output_contains "rolled back to sha256:"
    assert_equal "$(image_id aul-img:1)" "$good"
    assert_equal "$(container_image aul)" "$good"
    run systemctl show -P ActiveState container@aul.service
    assert_output active

    berth tag "$broken" aul-img:1
    run berth auto-update --rollback=false --format '{{.ContainerName}} {{.Updated}}'
    assert_status 125
    assert_line_matches '^aul failed$'
    assert_line_matches '^berth: aul: '
    run systemctl show -P ActiveState container@aul.service
    assert_output failed
    berth tag "$good" aul-img:1
}

@test "AutoUpdate=registry: a dry run asks the registry only, the update pulls and restarts" {
    ref=127.0.0.1:$PORT/aur/app:stable
    berth tag busybox "$ref"
    run berth push -q "$ref"
    assert_success
    berth rmi "$ref" >/dev/null
    define aur "$ref" registry
    run systemctl start container@aur.service
    assert_success
    old=$(container_image aur)

    run berth auto-update --format '{{.ContainerName}} {{.Updated}}'
    assert_success
    assert_output "aur false"

    # a newer image appears in the registry (built elsewhere: here, pushed
    # and then untagged locally so only the registry has it)
    berth tag "$old" "$ref"
    new_image "$ref" v3
    v3=$(image_id "$ref")
    run berth push -q "$ref"
    assert_success
    berth tag "$old" "$ref"

    run berth auto-update --dry-run --format '{{.ContainerName}} {{.Updated}}'
    assert_success
    assert_output "aur pending"
    assert_equal "$(image_id "$ref")" "$old"   # nothing pulled

    run berth auto-update --format '{{.ContainerName}} {{.Updated}}'
    assert_success
    assert_output "aur true"
    assert_equal "$(container_image aur)" "$v3"
    run berth exec aur cat /version
    assert_output v3
}

@test "a labelled berth run container is reported as failed; unknown policies and bad options are one line" {
    name=$(unique_name au)
    run berth run -d --name "$name" -l io.containers.autoupdate=local busybox sleep 1000
    assert_success
    run berth auto-update --format '{{.ContainerName}} {{.Updated}}'
    assert_status 125
    assert_line_matches "^$name failed$"
    assert_line_matches "^berth: $name: $name is not a definition container"
    berth rm -f "$name" >/dev/null

    name=$(unique_name au)
    berth run -d --name "$name" -l io.containers.autoupdate=sometimes busybox sleep 1000 >/dev/null
    run berth auto-update
    assert_status 125
    assert_line_matches "unknown io.containers.autoupdate policy \"sometimes\""
    berth rm -f "$name" >/dev/null

    run berth auto-update --rollback=maybe
    assert_status 125
    assert_output 'berth: invalid --rollback value "maybe" (use true or false)'
    run berth auto-update extra
    assert_status 125

    printf '%s\n' '[Container]' 'Image=busybox' 'AutoUpdate=weekly' >/etc/berth/containers/aul.container
    run berth generate --dry-run
    assert_failure
    assert_output_contains "aul.container:3: invalid AutoUpdate= value: 'weekly' (use registry, local or disabled)"
}

@test "berth-auto-update.timer and .service are installed and load" {
    run systemctl show -P LoadState berth-auto-update.timer
    assert_output loaded
    run systemctl show -P TimersCalendar berth-auto-update.timer
    assert_output_contains "OnCalendar=*-*-* 00:00:00"
    run systemctl show -P ExecStart berth-auto-update.service
    assert_output_contains "berth auto-update"
    # nothing labelled: the service runs and succeeds
    run systemctl start berth-auto-update.service
    assert_success
    run systemctl show -P Result berth-auto-update.service
    assert_output success
}
