#!/usr/bin/env bats
# Secrets: secret create/ls/inspect/rm, run --secret (/run/secrets/NAME,
# target=, uid=, gid=, mode=, read-only), the value nowhere but in the
# container's file (not inspect, the record, the environment or the
# journal), rm refused while a container uses it, a definition's Secret=.

load helpers

setup_file() { ensure_busybox_image; }

teardown() {
    # the definitions of the last test
    if [ -e /etc/berth/containers/sec.container ] || [ -e /etc/berth/containers/badsec.container ]; then
        remove_definitions sec badsec
    fi
    remove_all_containers
    local s
    for s in $(berth secret ls --format '{{.Name}}'); do
        berth secret rm "$s" >/dev/null
    done
    [ -z "$(berth secret ls -q)" ]
}

@test "secret create from a file (relative to the cwd) and from stdin; ls and inspect never show the value" {
    mkdir -p "$BATS_TEST_TMPDIR/d"
    printf 'file-value-%s' "$RANDOM$RANDOM" >"$BATS_TEST_TMPDIR/d/pw.txt"
    value=$(cat "$BATS_TEST_TMPDIR/d/pw.txt")
    cd "$BATS_TEST_TMPDIR"
    run berth secret create --label team=blue -l tier=db fromfile d/pw.txt
    assert_success
    [[ $output =~ ^[0-9a-f]{25}$ ]] || _fail "expected a 25-hex ID"
    id=$output
    run bash -c 'printf stdin-value-42 | berth secret create fromstdin -'
    assert_success

    run berth secret ls
    assert_success
    [[ ${lines[0]} =~ ^ID\ +NAME\ +DRIVER\ +CREATED\ +UPDATED$ ]] || _fail "bad header"
    assert_line_matches "^$id +fromfile +file +.* ago +.* ago$"
    assert_line_matches " fromstdin +file "
    run berth secret ls -q
    assert_success
    assert_line_matches "^$id$"
    [ "${#lines[@]}" -eq 2 ] || _fail "expected 2 IDs"
    run berth secret ls --format '{{.Name}} {{.Driver}} {{.Labels}}'
    assert_line_matches '^fromfile file (team=blue,tier=db|tier=db,team=blue)$'
    run berth secret ls --format json
    assert_success
    assert_output_contains '"Name":"fromstdin"'

    run berth secret inspect fromfile fromstdin
    assert_success
    assert_output_contains '"Name": "fromfile"'
    assert_output_contains '"Encrypted": '
    assert_output_not_contains "$value"
    assert_output_not_contains stdin-value-42
    run berth secret inspect -f '{{.Spec.Name}} {{.Spec.Labels.team}} {{.Spec.Driver.Name}}' fromfile
    assert_output "fromfile blue file"
    run berth secret inspect -f '{{.Spec.Name}}' "${id:0:8}"
    assert_output fromfile
    run --separate-stderr berth secret inspect nosuch
    assert_status 1
    assert_output "[]"
    [ "$stderr" = "Error: No such secret: nosuch" ] || _fail "stderr: $stderr"

    # the store: root's only, the value apart from the metadata
    [ "$(stat -c %a /var/lib/berth/secrets)" = 700 ]
    [ "$(stat -c %a "/var/lib/berth/secrets/$id/value")" = 600 ]
    run grep -F -- "$value" "/var/lib/berth/secrets/$id/meta.json"
    assert_failure
}

@test "secret create refuses a taken or bad name, an empty or too large value, with one line" {
    cd "$BATS_TEST_TMPDIR"
    printf x >one
    : >empty
    head -c 524289 /dev/zero >big
    head -c 524288 /dev/urandom >most
    berth secret create taken one
    run berth secret create taken one
    assert_status 125
    assert_output "berth: taken: secret name in use"
    run berth secret create 'bad/name' one
    assert_status 125
    assert_output_contains 'invalid secret name "bad/name"'
    [ "${#lines[@]}" -eq 1 ]
    run berth secret create "$(printf 'a%.0s' {1..65})" one
    assert_status 125
    assert_output_contains 'at most 64 characters'
    run berth secret create empty empty
    assert_status 125
    assert_output "berth: secret empty: the value must have 1 byte to 512 KiB, it has 0 bytes"
    run berth secret create big big
    assert_status 125
    assert_output_contains "it has 524289 bytes"
    run berth secret create nofile ./no-such-file
    assert_status 125
    [ "${#lines[@]}" -eq 1 ]
    run berth secret create most most
    assert_success
    run berth secret ls --format '{{.Name}}'
    assert_output "$(printf '%s\n' most taken)"
}

@test "the value is encrypted at rest when systemd-creds can, and inspect says which" {
    printf 'at-rest-value' | berth secret create atrest -
    id=$(berth secret inspect -f '{{.ID}}' atrest)
    run berth secret inspect -f '{{.Encrypted}}' atrest
    assert_success
    expected=false
    if command -v systemd-creds >/dev/null &&
        printf x | systemd-creds encrypt --name=probe - "$BATS_TEST_TMPDIR/probe" 2>/dev/null; then
        expected=true
    fi
    echo "# systemd-creds encryption here: $expected" >&3
    assert_output "$expected"
    if [ "$expected" = true ]; then
        run grep -F at-rest-value "/var/lib/berth/secrets/$id/value"
        assert_failure
    else
        [ "$(cat "/var/lib/berth/secrets/$id/value")" = at-rest-value ]
    fi
    # either way the container gets the value itself
    run berth run --rm --secret atrest busybox cat /run/secrets/atrest
    assert_success
    assert_output at-rest-value
}

@test "run --secret: /run/secrets/NAME, read-only, root's, mode 0444" {
    printf 'run-value' | berth secret create s1 -
    run berth run --rm --secret s1 busybox sh -c 'cat /run/secrets/s1; echo; stat -c "%a %u %g" /run/secrets/s1'
    assert_success
    assert_output "$(printf 'run-value\n444 0 0')"
    run berth run --rm --secret s1 busybox sh -c 'echo x > /run/secrets/s1'
    assert_failure
    assert_output_contains "Read-only file system"
    run berth run --rm --secret s1 busybox sh -c 'rm /run/secrets/s1'
    assert_failure
    run berth run --rm --secret s1 busybox sh -c 'cat /run/secrets/s1'
    assert_output run-value
}

@test "run --secret: target=, uid=, gid= and mode= are honoured" {
    printf 'opt-value' | berth secret create s2 -
    run berth run --rm --secret s2,target=/etc/app/key,uid=1000,gid=100,mode=0400 \
        --secret s2,target=rel/k busybox sh -c 'stat -c "%a %u %g" /etc/app/key; cat /run/secrets/rel/k'
    assert_success
    assert_output "$(printf '400 1000 100\nopt-value')"
    run berth run --rm -u 1000 --secret s2,uid=1000,mode=0400 busybox cat /run/secrets/s2
    assert_success
    assert_output opt-value
    run berth run --rm -u 2000 --secret s2,uid=1000,mode=0400 busybox cat /run/secrets/s2
    assert_failure
    assert_output_contains "Permission denied"
    run berth run --rm --secret s2,mode=999 busybox true
    assert_status 125
    assert_output_contains "mode=999 is not an octal mode"
}

@test "the value is in no inspect, record, environment, journal or layer; the file goes with the container" {
    value="never-logged-$RANDOM$RANDOM"
    printf '%s' "$value" | berth secret create hidden -
    berth run -d --name holder --secret hidden busybox sleep 1000
    id=$(berth inspect -f '{{.Id}}' holder)
    want=$(printf '%s' "$value" | sha256sum | cut -d' ' -f1)
    run berth exec holder sha256sum /run/secrets/hidden
    assert_success
    [ "${output%% *}" = "$want" ] || _fail "the file does not hold the value"
    run berth inspect holder
    assert_success
    assert_output_contains '"Secrets"'
    assert_output_contains '"/run/secrets/hidden"'
    assert_output_not_contains "$value"
    run berth exec holder env
    assert_output_not_contains "$value"
    run grep -rF -- "$value" "/var/lib/berth/containers/$id" /run/berth
    assert_failure
    run berth diff holder
    assert_output_not_contains secrets
    berth stop -t 1 holder
    [ ! -e "/run/berth/containers/$id/secrets" ] || _fail "the secret's mount point is left after the stop"
    run grep -rF -- "$value" "/var/lib/berth/containers/$id"
    assert_failure
    run ! journal_has -- "$value"
}

@test "an unknown secret is refused and nothing is created" {
    run berth run --name nosec --secret nosuch busybox true
    assert_status 125
    assert_output "berth: No such secret: nosuch"
    [ -z "$(berth ps -aq --filter name=nosec)" ] || _fail "a container was created"
    run berth create --name nosec --secret 'bad/name' busybox true
    assert_status 125
    assert_output_contains 'invalid secret name "bad/name"'
    [ -z "$(berth ps -aq --filter name=nosec)" ] || _fail "a container was created"
}

@test "secret rm is refused while a container uses it, and works once it is removed" {
    printf 'used' | berth secret create inuse -
    printf 'free' | berth secret create unused -
    berth run -d --name user --secret inuse busybox sleep 1000
    run berth secret rm inuse
    assert_status 1
    assert_output_contains "remove inuse: secret is in use by container"
    berth stop -t 1 user
    run berth secret rm inuse unused
    assert_status 1
    assert_line_matches '^unused$'
    assert_output_contains "secret is in use"
    berth secret inspect inuse >/dev/null
    berth rm user
    run berth secret rm inuse
    assert_success
    assert_output inuse
    run berth secret inspect inuse
    assert_status 1
    run berth secret rm inuse
    assert_status 1
    assert_output "berth: No such secret: inuse"
}

@test "a definition's Secret= puts the secret in its container" {
    printf 'def-value' | berth secret create defsec -
    mkdir -p /etc/berth/containers
    cat >/etc/berth/containers/sec.container <<'EOF2'
[Container]
Image=busybox
Exec=sleep 1000
Secret=defsec
Secret=defsec,target=/etc/def.conf,mode=0440
EOF2
    systemctl daemon-reload
    systemctl start container@sec.service
    run berth exec sec sh -c 'cat /run/secrets/defsec; echo; stat -c %a /etc/def.conf'
    assert_success
    assert_output "$(printf 'def-value\n440')"
    systemctl stop container@sec.service
    run berth secret rm defsec
    assert_status 1
    assert_output_contains "secret is in use"
    berth rm sec
    berth secret rm defsec
    # a bad Secret= is the generator's file:line error
    printf '[Container]\nImage=busybox\nExec=true\nSecret=x,mode=9\n' >/etc/berth/containers/badsec.container
    run berth generate --dry-run
    assert_failure
    assert_output_contains "badsec.container:4"
    assert_output_contains "mode=9 is not an octal mode"
}
