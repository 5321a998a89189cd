#!/usr/bin/env bats
# Registries are untrusted: berth pull against tests/harness/badregistry.py,
# a registry that misbehaves on purpose (wrong sizes, endless bodies, lying
# digests, redirect loops and redirects to other schemes or hosts, a blob
# that hangs). Each failure is one `berth: ` line naming what was wrong,
# exit 125, and a store exactly as it was before.

load helpers

BAD=5180

setup_file() {
    ensure_busybox_image
    REG_DIR=$(mktemp -d /tmp/t81.XXXXXX)
    export REG_DIR
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
    reg_config_save
    # the stall timeout is short so that a hanging blob fails in seconds
    cat >/etc/berth/config.json <<JSON
{ "insecure-registries": ["127.0.0.1:$BAD"], "registry-stall-timeout": 3 }
JSON
    setsid python3 "$REPO/tests/harness/badregistry.py" $BAD "$REG_DIR/bad.log" \
        >"$REG_DIR/bad.out" 2>&1 </dev/null &
    echo $! >>"$REG_DIR/pids"
    _reg_wait_port $BAD || { cat "$REG_DIR/bad.out" >&2; return 1; }
}

teardown_file() {
    . "$REPO/tests/harness/registry.sh"
    reg_stop_all
    reg_config_restore
    reg_rmi_matching '^127\.0\.0\.1:'"$BAD"'/'
    rm -rf "$REG_DIR"
}

setup() {
    export XDG_CONFIG_HOME=$REG_DIR/xdg-$BATS_TEST_NUMBER
}

# Every path under the store but its lock file.
store_listing() {
    find /var/lib/berth -path /var/lib/berth/store.lock -prune -o -print | sort
}

# refused REPOSITORY REGEX: pulling REPOSITORY:1 from the bad registry fails
# with exit 125 and exactly one line on stderr matching ^berth: REGEX$, and
# leaves the store as it was.
refused() {
    local before
    before=$(store_listing)
    run --separate-stderr berth pull "127.0.0.1:$BAD/$1:1"
    assert_status 125
    assert_equal "${#stderr_lines[@]}" 1
    [[ $stderr =~ ^berth:\ $2$ ]] || _fail "stderr does not match ^berth: $2\$" "-- stderr: $stderr"
    assert_equal "$(store_listing)" "$before"
}

HEX='[0-9a-f]{64}'

@test "the bad registry's good repository pulls (the fake itself is sound)" {
    run berth pull 127.0.0.1:$BAD/good:1
    assert_success
    assert_line_matches "^Status: Downloaded newer image for 127.0.0.1:$BAD/good:1$"
    [ -n "$(berth images -q 127.0.0.1:$BAD/good:1)" ] || _fail "no image after the pull"
    berth rmi 127.0.0.1:$BAD/good:1 >/dev/null
}

@test "a layer longer than its descriptor (a body without end) is cut off while streaming" {
    refused long-blob "layer sha256:$HEX from 127\.0\.0\.1:$BAD: the registry sent more than the [0-9]+ bytes the manifest gives for it; refused"
}

@test "a layer shorter than its descriptor is refused" {
    refused short-blob "layer sha256:$HEX from 127\.0\.0\.1:$BAD: the registry sent [0-9]+ bytes, the manifest gives [0-9]+; refused"
}

@test "an error answer without end for a layer is cut off at 64 KiB" {
    refused error-blob "layer sha256:$HEX from 127\.0\.0\.1:$BAD: an answer \(HTTP status 500\) larger than 65536 bytes; refused"
}

@test "a layer that stops coming fails after registry-stall-timeout, naming the layer" {
    local layer
    layer=$(curl -s "http://127.0.0.1:$BAD/v2/hang-blob/manifests/1" | jq -r '.layers[0].digest')
    refused hang-blob "layer $layer: download from 127\.0\.0\.1:$BAD failed: Operation too slow\. .*3 seconds"
}

@test "a manifest that stops coming fails after registry-stall-timeout (the registry was reachable)" {
    refused hang-manifest "GET http://127\.0\.0\.1:$BAD/v2/hang-manifest/manifests/1: Operation too slow\. .*3 seconds"
}

@test "a config whose bytes are not its digest is refused" {
    refused bad-config "image config sha256:$HEX from 127\.0\.0\.1:$BAD: digest mismatch: expected sha256:$HEX, got sha256:$HEX"
}

@test "a manifest without end is cut off at 4 MiB" {
    refused big-manifest "GET http://127\.0\.0\.1:$BAD/v2/big-manifest/manifests/1: the response is larger than 4194304 bytes; refused"
}

@test "a config without end is cut off at 4 MiB" {
    local config
    config=$(curl -s "http://127.0.0.1:$BAD/v2/big-config/manifests/1" | jq -r '.config.digest')
    refused big-config "GET http://127\.0\.0\.1:$BAD/v2/big-config/blobs/$config: the response is larger than 4194304 bytes; refused"
}

@test "a tag whose Docker-Content-Digest is not the manifest's digest is refused" {
    refused lying-digest "manifest for 127\.0\.0\.1:$BAD/lying-digest:1: the registry's Docker-Content-Digest sha256:(cd){32} is not the digest of the manifest it sent \(sha256:$HEX\); refused"
}

@test "a manifest fetched by digest (an index's entry) must have that digest" {
    refused bad-child "manifest sha256:(ab){32} from 127\.0\.0\.1:$BAD: digest mismatch: got sha256:$HEX"
}

@test "a token answer without end is cut off at 1 MiB" {
    refused endless-token "GET http://127\.0\.0\.1:$BAD/token\?service=bad&scope=repository%3Aendless-token%3Apull: the response is larger than 1048576 bytes; refused"
}

@test "a redirect loop stops after 10 redirects" {
    refused redirect-loop "GET http://127\.0\.0\.1:$BAD/v2/redirect-loop/manifests/1: Maximum \(10\) redirects followed"
    assert_equal "$(grep -c "GET /v2/redirect-loop/manifests/1 " "$REG_DIR/bad.log")" 11
}

@test "a redirect to file:// or ftp:// is not followed" {
    refused redirect-file "GET http://127\.0\.0\.1:$BAD/v2/redirect-file/manifests/1: .*[Pp]rotocol \"?file\"? .*"
    refused redirect-ftp "GET http://127\.0\.0\.1:$BAD/v2/redirect-ftp/manifests/1: .*[Pp]rotocol \"?ftp\"? .*"
}

login_hostile() {
    run bash -c "echo pw-hostile | berth login -u hostile --password-stdin 127.0.0.1:$BAD"
    assert_success
}

# only_anonymous METHOD PATH_PREFIX HOST:PORT: at least 2 requests reached
# HOST:PORT (config and layer) and none carried an Authorization header.
only_anonymous() {
    local seen
    seen=$(grep "^$3 $1 $2" "$REG_DIR/bad.log" || true)
    [ "$(grep -c . <<<"$seen")" -ge 2 ] || _fail "fewer than 2 $1 requests reached $3" "$(cat "$REG_DIR/bad.log")"
    run grep -v ' auth=-$' <<<"$seen"
    assert_failure
    assert_output ""
}

# auth_redirect REPOSITORY HOST:PORT SCHEME: a pull whose blobs redirect to
# HOST:PORT works, the registry got its blob requests with SCHEME
# credentials, and HOST:PORT never sees them.
auth_redirect() {
    run berth pull "127.0.0.1:$BAD/$1:1"
    assert_success
    local own
    own=$(grep -c "^127\.0\.0\.1:$BAD GET /v2/$1/blobs/sha256:[0-9a-f]* auth=$3 " "$REG_DIR/bad.log" || true)
    [ "$own" -ge 2 ] || _fail "the registry saw $own blob requests with $3 credentials (expected config and layer)" \
        "$(cat "$REG_DIR/bad.log")"
    only_anonymous GET /cdn/ "$2"
    berth rmi "127.0.0.1:$BAD/$1:1" >/dev/null
}

@test "credentials do not follow a redirect to another host" {
    login_hostile
    auth_redirect auth-redirect-host "127.0.0.2:$BAD" Basic
}

@test "a Bearer token does not follow a redirect to another host" {
    auth_redirect bearer-redirect-host "127.0.0.2:$BAD" Bearer
}

@test "credentials do not follow a push's upload Location to another host" {
    login_hostile
    run berth push busybox:latest 127.0.0.1:$BAD/auth-upload-host:1
    assert_success
    local own
    own=$(grep -c "^127\.0\.0\.1:$BAD POST /v2/auth-upload-host/blobs/uploads/ auth=Basic " "$REG_DIR/bad.log" || true)
    [ "$own" -ge 2 ] || _fail "the registry saw $own authorized upload starts" "$(cat "$REG_DIR/bad.log")"
    grep -q "^127\.0\.0\.1:$BAD PUT /v2/auth-upload-host/manifests/1 auth=Basic " "$REG_DIR/bad.log" ||
        _fail "the manifest did not reach the registry with credentials" "$(cat "$REG_DIR/bad.log")"
    only_anonymous PUT /upload/ "127.0.0.2:$BAD"
}

@test "credentials do not follow a redirect to another port of the same host" {
    login_hostile
    auth_redirect auth-redirect-port "127.0.0.1:$((BAD + 1))" Basic
}

@test "registry-stall-timeout must be a number of seconds" {
    local saved
    saved=$(cat /etc/berth/config.json)
    echo '{ "registry-stall-timeout": "soon" }' >/etc/berth/config.json
    run berth pull 127.0.0.1:$BAD/good:1
    echo "$saved" >/etc/berth/config.json
    assert_status 125
    assert_output 'berth: /etc/berth/config.json: "registry-stall-timeout" must be a number of seconds (1 to 86400)'
}
