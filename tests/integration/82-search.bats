#!/usr/bin/env bats
# berth search: Docker Hub's search API (a stand-in on loopback,
# tests/harness/fakehub.py, reached as HOST:PORT/TERM or as default-registry),
# the distribution catalog of real docker-registry servers (several pages,
# Basic and Bearer auth), and the failures a user meets (a registry that is
# down, one that offers neither, bad options).

load helpers

PLAIN=5200 PAGED=5201 BASIC=5202 TOKEN=5203 HUB=5210 NONE=5211 DOWN=5299

setup_file() {
    ensure_busybox_image
    REG_DIR=$(mktemp -d /tmp/t82.XXXXXX)
    export REG_DIR
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
    reg_config_save
    write_config
    reg_start plain $PLAIN
    REG_CATALOG_MAX=2 reg_start plain $PAGED
    reg_start basic $BASIC alice pw-alice
    reg_start token $TOKEN tok pw-tok
    cat >"$REG_DIR/hub.json" <<'JSON'
[
 {"name": "ubuntu", "description": "Ubuntu is a Debian-based Linux operating system based on free software.",
  "star_count": 10000, "is_official": true, "is_automated": false},
 {"name": "dorowu/ubuntu-desktop-lxde-vnc", "description": "Ubuntu with openssh-server and NoVNC",
  "star_count": 4000, "is_official": false, "is_automated": true},
 {"name": "rastasheep/ubuntu-sshd", "description": "Dockerized SSH service,\nbuilt on top of official Ubuntu images.",
  "star_count": 250, "is_official": false, "is_automated": true},
 {"name": "tiny/ubuntu-slim", "description": "Slim Ubuntu: a description of exactly 45 char",
  "star_count": 3, "is_official": false, "is_automated": false},
 {"name": "ubuntu-upstart", "description": "DEPRECATED, as is Upstart (find other process managers!)",
  "star_count": 115, "is_official": true, "is_automated": false},
 {"name": "nginx", "description": "Official build of Nginx.", "star_count": 20000, "is_official": true,
  "is_automated": false}
]
JSON
    local port data
    for port in $HUB $NONE; do
        data=$REG_DIR/hub.json
        [ $port = $NONE ] && data=-
        setsid python3 "$REPO/tests/harness/fakehub.py" $port "$data" "$REG_DIR/hub-$port.log" \
            >"$REG_DIR/hub-$port.err" 2>&1 </dev/null &
        echo $! >>"$REG_DIR/pids"
        _reg_wait_port $port || { cat "$REG_DIR/hub-$port.err" >&2; return 1; }
    done
    # Repositories to find in the catalogs.
    local r
    for r in apps/python apps/python-slim web/nginx; do
        berth push -q busybox:latest 127.0.0.1:$PLAIN/$r:1 >/dev/null
    done
    for r in a/python-1 b/python-2 c/other d/python-3 e/python-4; do
        berth push -q busybox:latest 127.0.0.1:$PAGED/$r:1 >/dev/null
    done
    export XDG_CONFIG_HOME=$REG_DIR/xdg-setup
    berth login -u alice -p pw-alice 127.0.0.1:$BASIC >/dev/null 2>&1
    berth login -u tok -p pw-tok 127.0.0.1:$TOKEN >/dev/null 2>&1
    berth push -q busybox:latest 127.0.0.1:$BASIC/private/python:1 >/dev/null
    berth push -q busybox:latest 127.0.0.1:$TOKEN/secret/python:1 >/dev/null
}

# The engine configuration of this file: its registries over plain HTTP.
write_config() {
    cat >/etc/berth/config.json <<JSON
{ "insecure-registries": ["127.0.0.1:$PLAIN", "127.0.0.1:$PAGED", "127.0.0.1:$BASIC", "127.0.0.1:$TOKEN",
                          "127.0.0.1:$HUB", "127.0.0.1:$NONE", "127.0.0.1:$DOWN"] }
JSON
}

teardown_file() {
    . "$REPO/tests/harness/registry.sh"
    reg_stop_all
    reg_config_restore
    reg_rmi_matching '^127\.0\.0\.1:52'
    rm -rf "$REG_DIR"
}

setup() {
    . "$REPO/tests/harness/registry.sh"
    export XDG_CONFIG_HOME=$REG_DIR/xdg-$BATS_TEST_NUMBER
    : >"$REG_DIR/hub-$HUB.log"
}

teardown() {
    write_config
}

# The catalog requests in a docker-registry's access log.
catalog_requests() { grep -o '"GET /v2/_catalog[^ ]*' "$1"; }

# Requests the fake hub on PORT has seen since the test began.
hub_log() { cat "$REG_DIR/hub-${1:-$HUB}.log"; }

@test "the search API: Docker's columns and header, results in the registry's order, descriptions truncated" {
    run berth search 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_equal "${#lines[@]}" 6
    [[ ${lines[0]} =~ ^NAME\ +DESCRIPTION\ +STARS\ +OFFICIAL$ ]] || _fail "bad header"
    local h=127\\.0\\.0\\.1:$HUB
    [[ ${lines[1]} =~ ^$h/ubuntu\ +Ubuntu\ is\ a\ Debian-based\ Linux\ operating\ sys…\ +10000\ +\[OK\]$ ]] ||
        _fail "bad first row"
    [[ ${lines[2]} =~ ^$h/dorowu/ubuntu-desktop-lxde-vnc\ +Ubuntu\ with\ openssh-server\ and\ NoVNC\ +4000\ *$ ]] ||
        _fail "bad second row"
    # a line break is a space; 45 characters stay whole, more are cut to 44 + …
    [[ ${lines[3]} =~ ^$h/rastasheep/ubuntu-sshd\ +Dockerized\ SSH\ service,\ built\ on\ top\ of\ offi…\ +250\ *$ ]] ||
        _fail "bad third row"
    [[ ${lines[4]} =~ ^$h/tiny/ubuntu-slim\ +Slim\ Ubuntu:\ a\ description\ of\ exactly\ 45\ char\ +3\ *$ ]] ||
        _fail "bad fourth row"
    [[ ${lines[5]} =~ ^$h/ubuntu-upstart\ +DEPRECATED,\ as\ is\ Upstart\ \(find\ other\ proces…\ +115\ +\[OK\]$ ]] ||
        _fail "bad fifth row"
    assert_output_not_contains "nginx"
    # the columns line up: STARS starts at the same column in every line
    local col=${lines[0]%%STARS*}
    [[ ${lines[1]:${#col}} == 10000* ]] || _fail "STARS column misaligned"
    [[ ${lines[4]:${#col}} == "3 "* ]] || _fail "STARS column misaligned"
    # asked with Docker's default limit, and the catalog was not needed
    assert_equal "$(hub_log)" "GET /v1/search?q=ubuntu&n=25"
}

@test "--no-trunc shows whole descriptions" {
    run berth search --no-trunc 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_line_matches "^127\.0\.0\.1:$HUB/ubuntu +Ubuntu is a Debian-based Linux operating system based on free software\. +10000 +\[OK\]$"
    assert_line_matches "/rastasheep/ubuntu-sshd +Dockerized SSH service, built on top of official Ubuntu images\. +250 *$"
    assert_line_matches "/ubuntu-upstart +DEPRECATED, as is Upstart \(find other process managers!\) +115 +\[OK\]$"
    assert_output_not_contains "…"
}

@test "--limit asks the registry for that many and shows no more; out of range and non-numbers are usage errors" {
    run berth search --limit 2 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_equal "${#lines[@]}" 3
    assert_line_matches "^127\.0\.0\.1:$HUB/ubuntu "
    assert_line_matches "^127\.0\.0\.1:$HUB/dorowu/ubuntu-desktop-lxde-vnc "
    assert_equal "$(hub_log)" "GET /v1/search?q=ubuntu&n=2"
    run berth search --limit=100 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_equal "${#lines[@]}" 6
    run berth search --limit 101 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output "berth: search: limit 101 is outside the range of [1, 100] (see 'berth search --help')"
    run berth search --limit 0 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output_contains "limit 0 is outside the range of [1, 100]"
    run berth search --limit many 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output "berth: search: invalid argument \"many\" for \"--limit\" (see 'berth search --help')"
    # the bad ones did not reach the registry
    assert_equal "$(hub_log)" "GET /v1/search?q=ubuntu&n=2
GET /v1/search?q=ubuntu&n=100"
}

@test "--format: a Go template per result, a table template with AUTOMATED, and json" {
    run berth search --format '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}|{{.IsAutomated}}' 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_output "127.0.0.1:$HUB/ubuntu|10000|[OK]|
127.0.0.1:$HUB/dorowu/ubuntu-desktop-lxde-vnc|4000||[OK]
127.0.0.1:$HUB/rastasheep/ubuntu-sshd|250||[OK]
127.0.0.1:$HUB/tiny/ubuntu-slim|3||
127.0.0.1:$HUB/ubuntu-upstart|115|[OK]|"
    run berth search --format 'table {{.Name}}\t{{.IsAutomated}}' --limit 2 127.0.0.1:$HUB/ubuntu
    assert_success
    [[ ${lines[0]} =~ ^NAME\ +AUTOMATED$ ]] || _fail "bad header"
    [[ ${lines[2]} =~ ^127\.0\.0\.1:$HUB/dorowu/ubuntu-desktop-lxde-vnc\ +\[OK\]$ ]] || _fail "bad row"
    run berth search --format json --limit 1 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_equal "${#lines[@]}" 1
    assert_equal "$(jq -r '[.Name, .StarCount, .IsOfficial, .IsAutomated] | join(" ")' <<<"$output")" \
        "127.0.0.1:$HUB/ubuntu 10000 true false"
    assert_equal "$(jq -r .Description <<<"$output")" "Ubuntu is a Debian-based Linux operating sys…"
    run berth search --format '{{.Nope}}' 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output_contains 'map has no entry for key "Nope"'
}

@test "--filter stars, is-official, is-automated (ANDed, after the limit) and -s, the old spelling" {
    run berth search --format '{{.Name}}' --filter stars=250 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_output "127.0.0.1:$HUB/ubuntu
127.0.0.1:$HUB/dorowu/ubuntu-desktop-lxde-vnc
127.0.0.1:$HUB/rastasheep/ubuntu-sshd"
    run berth search --format '{{.Name}}' -s 250 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_equal "${#lines[@]}" 3
    run berth search --format '{{.Name}}' --stars=4000 127.0.0.1:$HUB/ubuntu
    assert_output "127.0.0.1:$HUB/ubuntu
127.0.0.1:$HUB/dorowu/ubuntu-desktop-lxde-vnc"
    run berth search --format '{{.Name}}' -f is-official=true 127.0.0.1:$HUB/ubuntu
    assert_output "127.0.0.1:$HUB/ubuntu
127.0.0.1:$HUB/ubuntu-upstart"
    run berth search --format '{{.Name}}' -f is-official=true -f stars=200 127.0.0.1:$HUB/ubuntu
    assert_output "127.0.0.1:$HUB/ubuntu"
    run berth search --format '{{.Name}}' -f is-automated=true -f is-official=false 127.0.0.1:$HUB/ubuntu
    assert_output "127.0.0.1:$HUB/dorowu/ubuntu-desktop-lxde-vnc
127.0.0.1:$HUB/rastasheep/ubuntu-sshd"
    # the filter applies to the results the limit let through, as Docker's
    run berth search --format '{{.Name}}' --limit 1 -f is-automated=true 127.0.0.1:$HUB/ubuntu
    assert_success
    assert_output ""
    run berth search -f stars=many 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output "berth: search: invalid filter 'stars=many' (see 'berth search --help')"
    run berth search -f is-official=maybe 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output_contains "invalid filter 'is-official=maybe'"
    run berth search -f color=red 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output_contains "invalid filter 'color'"
    run berth search -f stars 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_output_contains "bad format of filter (expected name=value): stars"
}

@test "a term without a registry is searched on default-registry, and on index.docker.io without one" {
    cat >/etc/berth/config.json <<JSON
{ "insecure-registries": ["127.0.0.1:$HUB"], "default-registry": "127.0.0.1:$HUB" }
JSON
    run berth search --format '{{.Name}} {{.StarCount}}' nginx
    assert_success
    assert_output "127.0.0.1:$HUB/nginx 20000"
    assert_equal "$(hub_log)" "GET /v1/search?q=nginx&n=25"
    # Docker Hub's search API is on index.docker.io (the harness has no way out)
    echo '{}' >/etc/berth/config.json
    run berth search nginx
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_output_contains "registry docker.io is unreachable: GET https://index.docker.io/v1/search?q=nginx&n=25: "
    assert_output_contains "; check the registry's address and that it is running"
}

@test "HTTPS unless the registry is in insecure-registries: one line that says so" {
    echo '{}' >/etc/berth/config.json
    run berth search 127.0.0.1:$HUB/ubuntu
    assert_status 125
    assert_equal "${#lines[@]}" 1
    [[ $output =~ ^berth:\ GET\ https://127\.0\.0\.1:$HUB/v1/search\?q=ubuntu\&n=25:\ .*\;\ if\ 127\.0\.0\.1:$HUB\ serves\ plain\ HTTP,\ list\ it\ in\ \"insecure-registries\"\ in\ /etc/berth/config\.json\; ]] ||
        _fail "expected the insecure-registries hint"
}

@test "a registry without the search API: its catalog, repositories whose name contains the term, pullable as shown" {
    run berth search 127.0.0.1:$PLAIN/python
    assert_success
    assert_equal "${#lines[@]}" 3
    [[ ${lines[0]} =~ ^NAME\ +DESCRIPTION\ +STARS\ +OFFICIAL$ ]] || _fail "bad header"
    [[ ${lines[1]} =~ ^127\.0\.0\.1:$PLAIN/apps/python\ +0\ *$ ]] || _fail "bad first row"
    [[ ${lines[2]} =~ ^127\.0\.0\.1:$PLAIN/apps/python-slim\ +0\ *$ ]] || _fail "bad second row"
    # asked /v1/search first (404), then the catalog
    local log
    log=$(reg_log plain $PLAIN)
    grep -q '"GET /v1/search?q=python&n=25 HTTP' "$log" || _fail "no /v1/search request in the registry log"
    grep -q '"GET /v2/_catalog?n=100 HTTP' "$log" || _fail "no catalog request in the registry log"
    # case does not matter; an empty term lists everything
    run berth search --format '{{.Name}}' 127.0.0.1:$PLAIN/NGINX
    assert_output "127.0.0.1:$PLAIN/web/nginx"
    run berth search --format '{{.Name}}' 127.0.0.1:$PLAIN/
    assert_output "127.0.0.1:$PLAIN/apps/python
127.0.0.1:$PLAIN/apps/python-slim
127.0.0.1:$PLAIN/web/nginx"
    run berth search --format '{{.Name}}' 127.0.0.1:$PLAIN/no-such-thing
    assert_success
    assert_output ""
    # is-official never matches a catalog entry, stars=0 always does
    run berth search --format '{{.Name}}' -f is-official=true 127.0.0.1:$PLAIN/python
    assert_output ""
    run berth search --format '{{.Name}}' -f stars=0 127.0.0.1:$PLAIN/python
    assert_equal "${#lines[@]}" 2
    local name
    name=$(berth search --format '{{.Name}}' --limit 1 127.0.0.1:$PLAIN/nginx)
    run berth pull "$name:1"
    assert_success
    assert_equal "${lines[-1]}" "127.0.0.1:$PLAIN/web/nginx:1"
}

@test "a catalog of several pages (Link: rel=next) is followed until the limit is reached" {
    run berth search --format '{{.Name}}' 127.0.0.1:$PAGED/python
    assert_success
    assert_output "127.0.0.1:$PAGED/a/python-1
127.0.0.1:$PAGED/b/python-2
127.0.0.1:$PAGED/d/python-3
127.0.0.1:$PAGED/e/python-4"
    # n=100 is more than this registry gives (400): berth lets it choose its
    # page size, then follows each Link until the last page
    local log
    log=$(reg_log plain $PAGED)
    assert_equal "$(catalog_requests "$log")" '"GET /v2/_catalog?n=100
"GET /v2/_catalog
"GET /v2/_catalog?last=b%2Fpython-2&n=2
"GET /v2/_catalog?last=d%2Fpython-3&n=2'
    # two results were on the first page: no more pages are read
    local before
    before=$(catalog_requests "$log" | wc -l)
    run berth search --format '{{.Name}}' --limit 2 127.0.0.1:$PAGED/python
    assert_output "127.0.0.1:$PAGED/a/python-1
127.0.0.1:$PAGED/b/python-2"
    assert_equal "$(catalog_requests "$log" | tail -n +$((before + 1)))" '"GET /v2/_catalog?n=100
"GET /v2/_catalog'
}

# search_behind_login PORT USER PASS REPO: refused with one line saying to
# log in, then the repository once logged in.
search_behind_login() {
    local port=$1 user=$2 pass=$3 repo=$4
    run berth search 127.0.0.1:$port/python
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_output "berth: 127.0.0.1:$port: unauthorized: authentication required; run \`berth login 127.0.0.1:$port\`"
    berth login -u "$user" -p "$pass" 127.0.0.1:$port >/dev/null 2>&1
    run berth search --format '{{.Name}}' 127.0.0.1:$port/python
    assert_success
    assert_output "127.0.0.1:$port/$repo"
}

@test "a catalog behind Basic auth: one line saying to log in, then the results" {
    search_behind_login $BASIC alice pw-alice private/python
}

@test "a catalog behind Bearer tokens: the token is asked for registry:catalog:*" {
    search_behind_login $TOKEN tok pw-tok secret/python
    grep -q 'GET /token?.*scope=registry%3Acatalog%3A%2A' "$REG_DIR/token-$((TOKEN + 1)).log" ||
        _fail "the token server saw no catalog scope: $(cat "$REG_DIR/token-$((TOKEN + 1)).log")"
}

@test "a registry that is down is one line naming it and what to do" {
    run berth search 127.0.0.1:$DOWN/python
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_output "berth: registry 127.0.0.1:$DOWN is unreachable: GET http://127.0.0.1:$DOWN/v1/search?q=python&n=25: Connection refused; check the registry's address and that it is running"
}

@test "a registry with neither search API nor catalog is one line" {
    : >"$REG_DIR/hub-$NONE.log"
    run berth search 127.0.0.1:$NONE/python
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_output "berth: registry 127.0.0.1:$NONE offers neither a search API (/v1/search) nor a catalog (/v2/_catalog): it cannot be searched; pull by full name (berth pull 127.0.0.1:$NONE/NAME[:TAG])"
    assert_equal "$(hub_log $NONE)" "GET /v1/search?q=python&n=25
GET /v2/_catalog?n=100"
}

@test "bad usage: no term, two terms, an unknown option; --help" {
    run berth search
    assert_status 125
    assert_output "berth: search: \"search\" requires exactly 1 argument (see 'berth search --help')"
    run berth search a b
    assert_status 125
    assert_output_contains "requires exactly 1 argument"
    run berth search --bogus ubuntu
    assert_status 125
    assert_output "berth: search: unknown option (see 'berth search --help')"
    run berth search --help
    assert_success
    assert_line_matches '^Usage:  berth search \[OPTIONS\] TERM$'
    run berth --help
    assert_line_matches '^  search +Search a registry for images$'
}
