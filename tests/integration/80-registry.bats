#!/usr/bin/env bats
# Registries: berth pull / push / login / logout against real docker-registry
# servers on loopback (plain HTTP listed as insecure, htpasswd Basic auth,
# TLS from a CA in certs.d, Bearer tokens from a token server), with skopeo
# and umoci as the peers, and the failures a user meets (down, 401, 404,
# digest mismatch, a connection cut mid-layer).

load helpers

PLAIN=5100 BASIC=5101 TLS=5102 TOKEN=5103 CUT=5105 SLOW=5106

setup_file() {
    ensure_busybox_image
    REG_DIR=$(mktemp -d /tmp/t80.XXXXXX)
    export REG_DIR
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
    mkdir -p /etc/berth
    [ -f /etc/berth/config.json ] && cp /etc/berth/config.json "$REG_DIR/config.json.orig"
    cat >/etc/berth/config.json <<JSON
{ "insecure-registries": ["127.0.0.1:$PLAIN", "127.0.0.1:$BASIC", "127.0.0.1:$TOKEN", "127.0.0.1:$CUT", "127.0.0.1:$SLOW", "127.0.0.1:5999"] }
JSON
    reg_start plain $PLAIN
    reg_start basic $BASIC alice 'pw-alice'
    reg_start tls $TLS
    reg_start token $TOKEN tok 'pw-tok'
    reg_cut_proxy $CUT $PLAIN 3000
    reg_cut_proxy $SLOW $PLAIN 0 5
    # An image made by umoci, pushed by skopeo: busybox's binary and a marker.
    (
        set -e
        cd "$REG_DIR"
        umoci init --layout oci
        umoci new --image oci:u
        umoci unpack --image oci:u bundle
        mkdir -p bundle/rootfs/bin
        cp /bin/busybox bundle/rootfs/bin/busybox
        echo "made by umoci" >bundle/rootfs/marker
        umoci repack --image oci:u bundle
        umoci config --image oci:u --config.cmd /bin/busybox --config.cmd cat --config.cmd /marker
        skopeo copy -q --dest-tls-verify=false oci:oci:u docker://127.0.0.1:$PLAIN/umoci/img:1
    ) >&2
}

teardown_file() {
    . "$REPO/tests/harness/registry.sh"
    reg_stop_all
    if [ -f "$REG_DIR/config.json.orig" ]; then
        cp "$REG_DIR/config.json.orig" /etc/berth/config.json
    else
        rm -f /etc/berth/config.json
    fi
    rm -rf /etc/berth/certs.d/127.0.0.1:$TLS
    for i in $(berth images --format '{{.Repository}}:{{.Tag}}' | grep '^127.0.0.1:'); do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
    rm -rf "$REG_DIR"
}

setup() {
    . "$REPO/tests/harness/registry.sh"
    export XDG_CONFIG_HOME=$REG_DIR/xdg-$BATS_TEST_NUMBER
}

# Blob uploads the registry on PORT (mode MODE) has logged so far.
uploads() { grep -c 'PUT /v2/.*/blobs/uploads/' "$(reg_log "$1" "$2")" || true; }

# Remove every tag of the umoci image, so its layer leaves the store.
forget_umoci() {
    local t
    for t in 127.0.0.1:$PLAIN/multi:latest 127.0.0.1:$PLAIN/umoci/img:1 127.0.0.1:$CUT/umoci/img:1; do
        berth rmi -f "$t" >/dev/null 2>&1 || true
    done
}

# Tag busybox as REF, push it, remove it and pull it back.
push_rmi_pull() {
    berth tag busybox:latest "$1"
    run berth push "$1"
    assert_success
    berth rmi "$1" >/dev/null
    run berth pull "$1"
    assert_success
}

staging_empty() {
    [ -z "$(ls -A /var/lib/berth/tmp 2>/dev/null)" ] || _fail "staging left in /var/lib/berth/tmp: $(ls /var/lib/berth/tmp)"
}

@test "push, rmi, pull, run: a round trip through a plain HTTP registry; a second push sends no blob" {
    local r=127.0.0.1:$PLAIN/rt/busybox
    run berth push busybox:latest $r:1
    assert_success
    assert_line_matches "^The push refers to repository \[$r\]$"
    assert_line_matches '^[0-9a-f]{12}: Pushed$'
    assert_line_matches "^1: digest: sha256:[0-9a-f]{64} size: [0-9]+$"
    local before
    before=$(uploads plain $PLAIN)
    [ "$before" -ge 2 ] || _fail "expected blob uploads in the registry log, got $before"

    run berth push busybox:latest $r:1
    assert_success
    assert_line_matches '^[0-9a-f]{12}: Layer already exists$'
    assert_output_not_contains "Pushed"
    assert_equal "$(uploads plain $PLAIN)" "$before"

    berth tag busybox:latest $r:1
    run berth rmi $r:1
    assert_success
    run berth pull $r:1
    assert_success
    assert_line_matches '^1: Pulling from rt/busybox$'
    assert_line_matches '^Digest: sha256:[0-9a-f]{64}$'
    assert_line_matches "^Status: Image is up to date for $r:1$|^Status: Downloaded newer image for $r:1$"
    assert_equal "${lines[-1]}" "$r:1"
    assert_equal "$(berth images -q $r:1)" "$(berth images -q busybox:latest)"
    run berth run --rm $r:1 echo pulled-and-ran
    assert_success
    assert_output "pulled-and-ran"
    # again: up to date, nothing downloaded
    run berth pull $r:1
    assert_success
    assert_line_matches "^Status: Image is up to date for $r:1$"
    assert_output_not_contains "Pulling fs layer"
    run berth pull -q $r:1
    assert_success
    assert_output "$r:1"
    # by digest: the manifest digest push printed
    local digest
    digest=$(berth push -q $r:1)
    run berth pull $r@$digest
    assert_success
    assert_line_matches "^Digest: $digest$"
    assert_equal "${lines[-1]}" "$r@$digest"
    run berth run --rm $r@$digest echo by-digest
    assert_output "by-digest"
}

@test "registry-mirrors serve docker.io names; default-registry resolves short names" {
    cp /etc/berth/config.json "$REG_DIR/config.saved"
    berth push -q busybox:latest 127.0.0.1:$PLAIN/library/mirrored:1 >/dev/null
    cat >/etc/berth/config.json <<JSON
{ "insecure-registries": ["127.0.0.1:$PLAIN"], "registry-mirrors": ["http://127.0.0.1:$PLAIN"] }
JSON
    # (the harness has no way out: only the mirror can answer)
    run berth pull mirrored:1
    assert_success
    assert_equal "${lines[-1]}" "docker.io/library/mirrored:1"
    assert_line_matches "^Status: (Downloaded newer image|Image is up to date) for mirrored:1$"
    berth rmi mirrored:1 >/dev/null
    cat >/etc/berth/config.json <<JSON
{ "insecure-registries": ["127.0.0.1:$PLAIN"], "default-registry": "127.0.0.1:$PLAIN" }
JSON
    run berth pull mirrored:1
    assert_status 125
    assert_output "berth: manifest for 127.0.0.1:$PLAIN/mirrored:1 not found: manifest unknown"
    run berth pull library/mirrored:1
    assert_success
    assert_equal "${lines[-1]}" "127.0.0.1:$PLAIN/library/mirrored:1"
    # the short name finds what it pulled, without pulling again
    run --separate-stderr berth run --rm library/mirrored:1 echo found-locally
    assert_success
    assert_output found-locally
    [ -z "$stderr" ] || _fail "pulled again: $stderr"
    cp "$REG_DIR/config.saved" /etc/berth/config.json
    berth rmi 127.0.0.1:$PLAIN/library/mirrored:1 >/dev/null
}

@test "run and create pull a missing image first; --pull=always|never; a unit's Pull= pulls before the start" {
    local r=127.0.0.1:$PLAIN/autopull/busybox
    berth push -q busybox:latest $r:1 >/dev/null
    berth rmi -f $r:1 >/dev/null 2>&1 || true
    run --separate-stderr berth run --rm $r:1 echo pulled-and-ran
    assert_success
    assert_output pulled-and-ran
    [ "${stderr_lines[0]}" = "Unable to find image '$r:1' locally" ] || _fail "stderr: $stderr"
    [[ "$stderr" == *"Status: "*" for $r:1"* ]] || _fail "no pull status on stderr: $stderr"
    # present now: no pull; --pull=always asks the registry again
    run --separate-stderr berth run --rm $r:1 true
    [ -z "$stderr" ] || _fail "pulled again: $stderr"
    run --separate-stderr berth run --rm --pull=always $r:1 true
    assert_success
    [[ "$stderr" == *"Status: Image is up to date for $r:1"* ]] || _fail "stderr: $stderr"
    berth rmi $r:1 >/dev/null
    run berth create --pull=never --name never-pulled $r:1
    assert_status 125
    assert_output "berth: Unable to find image '$r:1' locally and the pull policy is never"
    run --separate-stderr berth create --name autopull-created $r:1 true
    assert_success
    [ "$(berth inspect -f '{{.Config.Image}}' autopull-created)" = "$r:1" ]
    berth rm autopull-created >/dev/null
    berth rmi $r:1 >/dev/null

    # a definition whose image is not in the store: the unit pulls it
    mkdir -p /etc/berth/containers
    printf '[Container]\nImage=%s\nExec=sh -c "echo unit-pulled; sleep 1000"\n' "$r:1" \
        >/etc/berth/containers/autopull.container
    systemctl daemon-reload
    run systemctl start container@autopull.service
    assert_success
    wait_until 10 bash -c 'berth logs autopull | grep -q unit-pulled'
    journal_has -u container@autopull.service -- "Status: Downloaded newer image for $r:1"
    systemctl stop container@autopull.service
    rm -f /etc/berth/containers/autopull.container
    systemctl daemon-reload
    berth rm -f autopull >/dev/null 2>&1 || true
    berth rmi -f $r:1 >/dev/null
}

@test "build pulls a FROM image that is not in the store" {
    local r=127.0.0.1:$PLAIN/base/busybox:1 ctx=$REG_DIR/ctx-from
    berth push -q busybox:latest $r >/dev/null
    berth rmi -f $r >/dev/null 2>&1 || true
    mkdir -p "$ctx"
    printf 'FROM %s\nRUN echo built-on-pulled > /marker\nCMD ["cat", "/marker"]\n' "$r" >"$ctx/Dockerfile"
    run --separate-stderr berth build -t t80/frompull:1 "$ctx"
    assert_success
    [[ "$stderr" == *"Unable to find image '$r' locally"* ]] || _fail "stderr: $stderr"
    [[ "$stderr" == *"Status: Downloaded newer image for $r"* ]] || _fail "stderr: $stderr"
    run berth run --rm t80/frompull:1
    assert_output built-on-pulled
    berth rmi t80/frompull:1 $r >/dev/null
}

@test "a unit whose pull outlasts TimeoutStartSec= keeps extending it and starts" {
    # a layer the store does not have, which trickles out over 5 s; the
    # unit allows 2 s to start
    local mk=slowmk-$RANDOM
    berth run --name $mk busybox sh -c 'head -c 300000 /dev/urandom > /junk' >/dev/null
    berth commit $mk t80/slowsrc:1 >/dev/null
    berth rm $mk >/dev/null
    berth push -q t80/slowsrc:1 127.0.0.1:$PLAIN/slow/busybox:1 >/dev/null
    berth rmi t80/slowsrc:1 >/dev/null
    mkdir -p /etc/berth/containers
    printf '%s\n' '[Container]' "Image=127.0.0.1:$SLOW/slow/busybox:1" 'Exec=sleep 1000' \
        '[Service]' 'TimeoutStartSec=2' >/etc/berth/containers/slowpull.container
    systemctl daemon-reload
    SECONDS=0
    run systemctl start container@slowpull.service
    assert_success
    [ "$SECONDS" -ge 4 ] || _fail "the pull was not slow ($SECONDS s): the test proves nothing"
    [ "$(systemctl is-active container@slowpull.service)" = active ]
    journal_has -u container@slowpull.service -- "Status: Downloaded newer image for 127.0.0.1:$SLOW/slow/busybox:1"
    systemctl stop container@slowpull.service
    rm -f /etc/berth/containers/slowpull.container
    systemctl daemon-reload
    berth rm -f slowpull >/dev/null 2>&1 || true
    berth rmi -f 127.0.0.1:$SLOW/slow/busybox:1 >/dev/null
}

@test "an image made by umoci and pushed by skopeo is pulled (layers downloaded) and run" {
    local r=127.0.0.1:$PLAIN/umoci/img
    berth rmi -f $r:1 >/dev/null 2>&1 || true
    run berth pull $r:1
    assert_success
    assert_line_matches '^[0-9a-f]{12}: Pulling fs layer$'
    assert_line_matches '^[0-9a-f]{12}: Pull complete$'
    assert_line_matches "^Status: Downloaded newer image for $r:1$"
    run berth run --rm $r:1
    assert_success
    assert_output "made by umoci"
    staging_empty
}

@test "pull without a tag uses latest, and a missing tag is one line: manifest unknown" {
    run berth pull 127.0.0.1:$PLAIN/umoci/img
    assert_status 125
    assert_equal "${lines[0]}" "Using default tag: latest"
    assert_line_matches "^berth: manifest for 127.0.0.1:$PLAIN/umoci/img:latest not found: manifest unknown$"
    run berth pull 127.0.0.1:$PLAIN/umoci/img:nope
    assert_status 125
    assert_output "berth: manifest for 127.0.0.1:$PLAIN/umoci/img:nope not found: manifest unknown"
}

@test "an image pushed by berth is read by skopeo inspect and copied out by skopeo" {
    local r=127.0.0.1:$PLAIN/sk/busybox:2
    run berth push -q busybox:latest $r
    assert_success
    local digest=$output
    [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || _fail "push -q printed $digest"
    run skopeo inspect --tls-verify=false docker://$r
    assert_success
    assert_equal "$(jq -r .Digest <<<"$output")" "$digest"
    assert_equal "$(jq -r .Architecture <<<"$output")" "$(go_arch)"
    run skopeo copy -q --src-tls-verify=false docker://$r oci:$REG_DIR/out:x
    assert_success
    [ -f "$REG_DIR/out/index.json" ] || _fail "no OCI layout written"
    # the copy is the same image: same config digest as berth's image ID
    local cfg
    cfg=$(skopeo inspect --raw oci:$REG_DIR/out:x | jq -r .config.digest)
    assert_equal "$cfg" "$(berth images -q --no-trunc busybox:latest)"
}

go_arch() { dpkg --print-architecture; }

@test "a multi-arch index pulls this machine's entry, and --platform another" {
    local repo=127.0.0.1:$PLAIN/multi
    berth push -q busybox:latest $repo:amd64 >/dev/null
    skopeo copy -q --dest-tls-verify=false docker://127.0.0.1:$PLAIN/umoci/img:1 docker://$repo:arm64 \
        --src-tls-verify=false
    local a b sa sb
    a=$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PLAIN/v2/multi/manifests/amd64" | tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip')
    b=$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PLAIN/v2/multi/manifests/arm64" | tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip')
    sa=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PLAIN/v2/multi/manifests/$a" | wc -c)
    sb=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://127.0.0.1:$PLAIN/v2/multi/manifests/$b" | wc -c)
    cat >"$REG_DIR/index.json" <<JSON
{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "$b", "size": $sb,
  "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "$a", "size": $sa,
  "platform": {"os": "linux", "architecture": "amd64"}}]}
JSON
    run curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
        --data-binary @"$REG_DIR/index.json" "http://127.0.0.1:$PLAIN/v2/multi/manifests/latest"
    assert_output 201
    run berth pull $repo:latest
    assert_success
    assert_equal "$(berth images -q --no-trunc $repo:latest)" "$(berth images -q --no-trunc busybox:latest)"
    # Digest: is the index's, the digest that names the whole multi-arch image
    assert_line_matches "^Digest: sha256:$(sha256sum <"$REG_DIR/index.json" | cut -d' ' -f1)$"
    run berth pull --platform linux/arm64 $repo:latest
    assert_success
    assert_equal "$(berth images -q --no-trunc $repo:latest)" \
        "$(berth images -q --no-trunc 127.0.0.1:$PLAIN/umoci/img:1)"
    run berth pull --platform linux/s390x $repo:latest
    assert_status 125
    assert_output "berth: no matching manifest for linux/s390x in the manifest list entries"
}

@test "htpasswd Basic auth: 401 without login, wrong password refused, login/logout" {
    local r=127.0.0.1:$BASIC/priv/busybox:1
    run berth push busybox:latest $r
    assert_status 125
    assert_line_matches "^berth: 127.0.0.1:$BASIC: unauthorized: authentication required; run \`berth login 127.0.0.1:$BASIC\`$"
    run berth login -u alice -p wrong 127.0.0.1:$BASIC
    assert_status 125
    assert_line_matches "^berth: login to 127.0.0.1:$BASIC failed: unauthorized: incorrect username or password$"
    [ ! -e "$XDG_CONFIG_HOME/berth/auth.json" ] || _fail "a failed login wrote auth.json"
    # on a terminal berth asks, as docker login; without one it says so
    run bash -c "berth login 127.0.0.1:$BASIC </dev/null"
    assert_status 125
    assert_output "berth: Cannot perform an interactive login from a non TTY device (use -u and --password-stdin)"
    # (the password comes once berth has turned the echo off)
    run bash -c "{ echo alice; sleep 1; echo pw-alice; } | script -qec 'berth login 127.0.0.1:$BASIC' /dev/null"
    assert_success
    assert_output_contains "Username: "
    assert_output_contains "Password: "
    assert_output_not_contains "pw-alice"
    assert_output_contains "Login Succeeded"
    berth logout 127.0.0.1:$BASIC >/dev/null
    run bash -c "echo pw-alice | berth login -u alice --password-stdin 127.0.0.1:$BASIC"
    assert_success
    assert_output "Login Succeeded"
    assert_equal "$(stat -c %a "$XDG_CONFIG_HOME/berth/auth.json")" 600
    assert_equal "$(jq -r '.auths["127.0.0.1:'$BASIC'"].auth' "$XDG_CONFIG_HOME/berth/auth.json" | base64 -d)" \
        "alice:pw-alice"
    push_rmi_pull $r
    run berth logout 127.0.0.1:$BASIC
    assert_success
    assert_output "Removing login credentials for 127.0.0.1:$BASIC"
    run berth logout 127.0.0.1:$BASIC
    assert_success
    assert_output "Not logged in to 127.0.0.1:$BASIC"
    run berth pull $r
    assert_status 125
    assert_output_contains "run \`berth login 127.0.0.1:$BASIC\`"
    # Docker's ~/.docker/config.json is read too
    mkdir -p "$REG_DIR/home/.docker"
    printf '{"auths":{"http://127.0.0.1:%s/v1/":{"auth":"%s"}}}' $BASIC "$(printf alice:pw-alice | base64)" \
        >"$REG_DIR/home/.docker/config.json"
    HOME=$REG_DIR/home run berth pull $r
    assert_success
    berth rmi $r >/dev/null
}

@test "login --password-stdin: auth.json 0600 in a 0700 directory, fixed when looser; logout removes only its entry" {
    local cfg=$XDG_CONFIG_HOME/berth other
    mkdir -p "$cfg"
    chmod 0755 "$cfg"
    other=$(printf bob:pw-bob | base64)
    printf '{"auths": {"other.example:5000": {"auth": "%s"}}, "psFormat": "table {{.ID}}"}\n' "$other" >"$cfg/auth.json"
    chmod 0644 "$cfg/auth.json"
    run berth login -u alice --password-stdin 127.0.0.1:$BASIC </dev/null
    assert_status 125
    assert_output "berth: login: no password on stdin"
    run bash -c "printf 'pw-alice\n' | berth login -u alice --password-stdin 127.0.0.1:$BASIC"
    assert_success
    assert_output "Login Succeeded"
    assert_equal "$(stat -c %a "$cfg")" 700
    assert_equal "$(stat -c %a "$cfg/auth.json")" 600
    assert_equal "$(jq -r '.auths["127.0.0.1:'$BASIC'"].auth' "$cfg/auth.json" | base64 -d)" "alice:pw-alice"
    assert_equal "$(jq -r '.auths["other.example:5000"].auth' "$cfg/auth.json")" "$other"
    run berth logout 127.0.0.1:$BASIC
    assert_success
    assert_output "Removing login credentials for 127.0.0.1:$BASIC"
    assert_equal "$(jq -c '.auths' "$cfg/auth.json")" "{\"other.example:5000\":{\"auth\":\"$other\"}}"
    assert_equal "$(jq -r '.psFormat' "$cfg/auth.json")" "table {{.ID}}"
    assert_equal "$(stat -c %a "$cfg/auth.json")" 600
    # a directory created by login is 0700 from the start
    rm -rf "$cfg"
    run bash -c "echo pw-alice | berth login -u alice --password-stdin 127.0.0.1:$BASIC"
    assert_success
    assert_equal "$(stat -c %a "$cfg")" 700
    assert_equal "$(stat -c %a "$cfg/auth.json")" 600
}

# The fake credential helper of tests/harness/credhelper, its store and log.
use_credhelper() {
    export PATH=$REPO/tests/harness/credhelper:$PATH
    export BERTH_TEST_CREDS=$REG_DIR/creds-$BATS_TEST_NUMBER.json
    rm -f "$BERTH_TEST_CREDS" "$BERTH_TEST_CREDS.log"
}

@test "credsStore: login stores through the helper (no secret in the file), pull and push get it there, logout erases" {
    local r=127.0.0.1:$BASIC/helper/busybox:1 f=$XDG_CONFIG_HOME/berth/auth.json
    use_credhelper
    mkdir -p "$XDG_CONFIG_HOME/berth"
    echo '{"credsStore": "berthtest"}' >"$f"
    run bash -c "echo pw-alice | berth login -u alice --password-stdin 127.0.0.1:$BASIC"
    assert_success
    assert_output "Login Succeeded"
    assert_equal "$(jq -c . "$f")" "{\"auths\":{\"127.0.0.1:$BASIC\":{}},\"credsStore\":\"berthtest\"}"
    assert_equal "$(jq -c '.["127.0.0.1:'$BASIC'"]' "$BERTH_TEST_CREDS")" '{"Username":"alice","Secret":"pw-alice"}'
    assert_equal "$(stat -c %a "$f")" 600
    push_rmi_pull $r
    assert_equal "$(grep -c "^berthtest get 127.0.0.1:$BASIC$" "$BERTH_TEST_CREDS.log")" 2
    run berth logout 127.0.0.1:$BASIC
    assert_success
    assert_output "Removing login credentials for 127.0.0.1:$BASIC"
    assert_equal "$(jq -c . "$BERTH_TEST_CREDS")" "{}"
    assert_equal "$(jq -c . "$f")" '{"auths":{},"credsStore":"berthtest"}'
    grep -q "^berthtest erase 127.0.0.1:$BASIC$" "$BERTH_TEST_CREDS.log" || _fail "no erase: $(cat "$BERTH_TEST_CREDS.log")"
    berth rmi $r >/dev/null
    run berth pull $r
    assert_status 125
    assert_output "berth: 127.0.0.1:$BASIC: unauthorized: authentication required; run \`berth login 127.0.0.1:$BASIC\`"
}

@test "credHelpers in Docker's config.json for one registry; a missing or failing helper is one line" {
    local r=127.0.0.1:$BASIC/helper/busybox:2 f=$XDG_CONFIG_HOME/berth/auth.json
    use_credhelper
    export HOME=$REG_DIR/home-$BATS_TEST_NUMBER
    mkdir -p "$HOME/.docker"
    echo '{"credHelpers": {"127.0.0.1:'$BASIC'": "berthtest"}}' >"$HOME/.docker/config.json"
    run bash -c "echo pw-alice | berth login -u alice --password-stdin 127.0.0.1:$BASIC"
    assert_success
    assert_equal "$(jq -c . "$f")" "{\"auths\":{\"127.0.0.1:$BASIC\":{}}}"
    assert_equal "$(jq -r '.["127.0.0.1:'$BASIC'"].Secret' "$BERTH_TEST_CREDS")" pw-alice
    push_rmi_pull $r
    berth rmi $r >/dev/null
    # another registry does not ask the helper
    run berth pull 127.0.0.1:$PLAIN/umoci/img:1
    assert_success
    run grep -v " 127.0.0.1:$BASIC$" "$BERTH_TEST_CREDS.log"
    assert_failure
    # the helper is missing
    echo '{"credHelpers": {"127.0.0.1:'$BASIC'": "nosuch"}}' >"$HOME/.docker/config.json"
    run berth pull $r
    assert_status 125
    assert_output "berth: credential helper docker-credential-nosuch: not found in PATH (install it, or remove the helper from the credentials file)"
    # the helper fails: login keeps nothing
    echo '{"credsStore": "berthfail"}' >"$HOME/.docker/config.json"
    rm -f "$f"
    run bash -c "echo pw-alice | berth login -u alice --password-stdin 127.0.0.1:$BASIC"
    assert_status 125
    assert_output "berth: credential helper docker-credential-berthfail: store: the keyring is locked"
    [ ! -e "$f" ] || _fail "a failed login wrote $f: $(cat "$f")"
    run berth pull $r
    assert_status 125
    assert_output "berth: credential helper docker-credential-berthfail: get: the keyring is locked"
}

@test "TLS with a self-signed CA: refused until its ca.crt is in certs.d" {
    local r=127.0.0.1:$TLS/tls/busybox:1
    rm -rf /etc/berth/certs.d/127.0.0.1:$TLS
    run berth push busybox:latest $r
    assert_status 125
    [[ ${lines[-1]} =~ ^berth:\ .*(certificate|SSL) ]] || _fail "expected a certificate error last"
    mkdir -p /etc/berth/certs.d/127.0.0.1:$TLS
    cp "$REG_DIR/ca/ca.crt" /etc/berth/certs.d/127.0.0.1:$TLS/ca.crt
    push_rmi_pull $r
    assert_line_matches "^Status: Downloaded newer image for $r$"
}

@test "Bearer tokens from the registry's token server" {
    local r=127.0.0.1:$TOKEN/tok/busybox:1
    run berth pull $r
    assert_status 125
    assert_output "berth: 127.0.0.1:$TOKEN: unauthorized: authentication required; run \`berth login 127.0.0.1:$TOKEN\`"
    run berth login -u tok -p bad 127.0.0.1:$TOKEN
    assert_status 125
    assert_output_contains "incorrect username or password"
    run berth login -u tok -p pw-tok 127.0.0.1:$TOKEN
    assert_success
    assert_line_matches "^Login Succeeded$"
    berth tag busybox:latest $r
    run berth push $r
    assert_success
    assert_line_matches '^[0-9a-f]{12}: Pushed$'
    berth rmi $r >/dev/null
    run berth pull $r
    assert_success
    run berth run --rm $r echo token-ok
    assert_output "token-ok"
    grep -q 'GET /token?.*scope=repository%3Atok%2Fbusybox%3Apull' "$REG_DIR/token-$((TOKEN + 1)).log" ||
        _fail "the token server saw no pull scope: $(cat "$REG_DIR/token-$((TOKEN + 1)).log")"
}

@test "a registry that is down is one line; the store is untouched" {
    local before
    before=$(cat /var/lib/berth/images.json)
    run berth pull 127.0.0.1:5999/nothing/here:1
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_output "berth: registry 127.0.0.1:5999 is unreachable: GET http://127.0.0.1:5999/v2/nothing/here/manifests/1: Connection refused"
    assert_equal "$(cat /var/lib/berth/images.json)" "$before"
}

@test "without libcurl, pull, push, login and search are one line; the other commands work; the store is untouched" {
    # berth loads libcurl on first use: hide it (an empty file bound over it,
    # in a mount namespace of the command's own) and only the registry
    # commands fail
    local before cmd
    before=$(cat /var/lib/berth/images.json)
    for cmd in "pull 127.0.0.1:$PLAIN/rt/busybox:1" "push busybox:latest 127.0.0.1:$PLAIN/nocurl:1" \
        "login -u alice --password-stdin 127.0.0.1:$BASIC" "search 127.0.0.1:$PLAIN/busybox"; do
        without_lib libcurl.so.4 sh -c "echo pw-alice | berth $cmd"
        assert_status 125
        assert_equal "${#lines[@]}" 1
        assert_line_matches '^berth: (.*: )?libcurl\.so\.4 is not available: .*libcurl\.so\.4[^:]*: file too short$'
    done
    without_lib libcurl.so.4 berth images -q busybox:latest
    assert_success
    assert_output "$(berth images -q busybox:latest)"
    assert_equal "$(cat /var/lib/berth/images.json)" "$before"
    staging_empty
}

@test "a corrupt blob in the registry is a digest mismatch; nothing half-written; a retry after the fix works" {
    local r=127.0.0.1:$PLAIN/umoci/img:1 st layer data
    forget_umoci
    layer=$(skopeo inspect --raw --tls-verify=false docker://$r | jq -r '.layers[0].digest')
    st=$(reg_storage plain $PLAIN)
    data=$st/blobs/sha256/${layer:7:2}/${layer:7}/data
    [ -f "$data" ] || _fail "no blob file $data"
    cp "$data" "$REG_DIR/good-blob"
    printf 'XXXX' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
    run berth pull $r
    assert_status 125
    assert_line_matches "^berth: layer $layer from 127.0.0.1:$PLAIN: digest mismatch: expected $layer, got sha256:[0-9a-f]{64}$"
    assert_equal "$(berth images -q $r)" ""
    [ ! -e /var/lib/berth/blobs/sha256/${layer:7} ] || _fail "the bad layer blob entered the store"
    staging_empty
    cp "$REG_DIR/good-blob" "$data"
    run berth pull $r
    assert_success
    assert_line_matches "^Status: Downloaded newer image for $r$"
}

@test "a connection cut mid-layer is one line and leaves no staging; a retry works" {
    local r=127.0.0.1:$CUT/umoci/img:1
    forget_umoci
    run berth pull $r
    assert_status 125
    assert_line_matches "^berth: layer sha256:[0-9a-f]{64}: download from 127.0.0.1:$CUT failed: .*"
    assert_equal "$(berth images -q $r)" ""
    staging_empty
    run berth pull 127.0.0.1:$PLAIN/umoci/img:1
    assert_success
    assert_line_matches "^Status: Downloaded newer image for 127.0.0.1:$PLAIN/umoci/img:1$"
}
