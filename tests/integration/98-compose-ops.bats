#!/usr/bin/env bats
# berth compose logs / start / stop / restart / exec / run / top / images /
# build / pull / push and up --build, on what `compose up` made: logs with
# Docker Compose v2's "service-1  | " prefixes from the journal (-f until
# Ctrl-C), unit states through systemctl, exec's exit code, one-off run
# containers (PROJECT-SERVICE-run-HEX, --rm leaves none), builds from a
# relative context with args and target, pull and push through the seed
# registry, and a python web service built on the real Debian image talking
# to a second service by name.  Bad input: one line, 125, nothing changed.

load helpers

setup_file() { ensure_busybox_image; }

setup() {
    D=$(mktemp -d /tmp/t98.XXXXXX)
    mkdir -p "$D/ops"
    cat >"$D/ops/compose.yaml" <<'YAML'
services:
  alpha:
    image: busybox
    init: true
    command: ["sh", "-c", "echo alpha starts; echo alpha err >&2; i=0; while sleep 0.3; do i=$$((i+1)); echo alpha tick $$i; done"]
  b:
    image: busybox
    init: true
    command: ["sh", "-c", "echo b starts; exec sleep 1000"]
    working_dir: /etc
    environment:
      FROM_FILE: file
    mem_limit: 64m
    depends_on: [alpha]
YAML
}

teardown() {
    local f
    for f in "$D"/*/compose.yaml; do
        [ -f "$f" ] || continue
        (cd "$(dirname "$f")" && berth compose down -v >/dev/null 2>&1) || :
    done
    rm -rf "$D"
    remove_all_containers
}

# A unit that has stopped (inactive, or failed by the signal that stopped it).
stopped() {
    case $(systemctl is-active "$1") in inactive | failed) return 0 ;; *) return 1 ;; esac
}

@test "compose logs: prefixes padded as Docker Compose v2's, stderr apart, --tail per container, -t, services, --no-log-prefix" {
    cd "$D/ops"
    run berth compose up -d
    assert_success
    wait_until 10 sh -c 'berth compose logs alpha | grep -q "alpha tick 2"'
    run berth compose logs
    assert_success
    assert_line_matches '^alpha-1  \| alpha starts$'
    assert_line_matches '^alpha-1  \| alpha err$'
    assert_line_matches '^b-1      \| b starts$'
    assert_line_matches '^alpha-1  \| alpha tick 1$'

    run --separate-stderr berth compose logs b
    assert_success
    assert_output "b-1  | b starts"

    run --separate-stderr berth compose logs --no-log-prefix b
    assert_output "b starts"

    run --separate-stderr berth compose logs -t b
    assert_line_matches '^b-1  \| [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z b starts$'

    # --tail is per container: the last line of each
    run --separate-stderr berth compose logs --tail 1
    assert_success
    [ "${#lines[@]}" -eq 2 ] || _fail "want 2 lines: $output"
    [ -z "$stderr" ] || _fail "stderr: $stderr"
    assert_line_matches '^alpha-1  \| alpha tick [0-9]+$'
    assert_line_matches '^b-1      \| b starts$'
    run --separate-stderr berth compose logs -n 0
    assert_success
    assert_output ""

    run --separate-stderr berth compose logs --tail lots
    assert_status 125
    [[ "$stderr" == "berth: compose logs: invalid --tail 'lots': a number or all"* ]] || _fail "stderr: $stderr"
    run --separate-stderr berth compose logs nope
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"
}

@test "compose logs -f: the services' new lines, interleaved as they come, until SIGINT" {
    cd "$D/ops"
    run berth compose up -d
    assert_success
    wait_until 10 sh -c 'berth compose logs b | grep -q "b starts"'
    berth compose logs -f --tail 0 >"$D/follow.out" 2>"$D/follow.err" 3>&- &
    local pid=$!
    wait_until 10 grep -q 'alpha tick' "$D/follow.out"
    # b's new start: its line comes among alpha's ticks
    berth compose restart -t 0 b 2>/dev/null
    wait_until 10 grep -q '^b-1      | b starts$' "$D/follow.out"
    wait_until 10 sh -c "sed -n '/b starts/,\$p' '$D/follow.out' | grep -q 'alpha tick'"
    kill -INT "$pid"
    local st=0
    wait "$pid" || st=$?
    [ "$st" -eq 0 ] || _fail "logs -f ended with $st: $(cat "$D/follow.err")"
    grep -q '^alpha-1  | alpha tick [0-9]*$' "$D/follow.out" || _fail "no ticks: $(cat "$D/follow.out")"
    # --tail 0: nothing from before the follow started; then in time order
    run grep -c 'starts$' "$D/follow.out"
    assert_output 1
    [ "$(head -1 "$D/follow.out" | grep -c 'alpha tick')" -eq 1 ] || _fail "order: $(cat "$D/follow.out")"
}

@test "compose stop / start / restart: the units' states as systemctl shows them, -t, SERVICE" {
    cd "$D/ops"
    run berth compose up -d
    assert_success
    run berth compose stop -t 1 b
    assert_success
    assert_output_contains "Container ops-b-1  Stopped"
    stopped container@ops-b-1.service
    [ "$(systemctl is-active container@ops-alpha-1.service)" = active ]

    run berth compose stop
    assert_success
    stopped container@ops-alpha-1.service
    run berth ps -a --filter label=com.docker.compose.project=ops --format '{{.Names}} {{.State}}'
    assert_line_matches '^ops-alpha-1 exited$'
    # the output stays, the stop's events are not lines of it
    run --separate-stderr berth compose logs --tail 1 b
    assert_output "b-1  | b starts"

    run berth compose start
    assert_success
    [ "$(systemctl is-active container@ops-alpha-1.service)" = active ]
    [ "$(systemctl is-active container@ops-b-1.service)" = active ]

    local before after
    before=$(systemctl show -P ActiveEnterTimestampMonotonic container@ops-b-1.service)
    run berth compose restart -t 0 b
    assert_success
    assert_output_contains "Container ops-b-1  Started"
    after=$(systemctl show -P ActiveEnterTimestampMonotonic container@ops-b-1.service)
    [ "$(systemctl is-active container@ops-b-1.service)" = active ]
    [ "$after" -gt "$before" ] || _fail "not restarted: $before -> $after"

    run --separate-stderr berth compose stop nope
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"
    [ "$(systemctl is-active container@ops-b-1.service)" = active ]
    run --separate-stderr berth compose stop -t soon
    assert_status 125
    [[ "$stderr" == "berth: compose stop: invalid --timeout 'soon': seconds"* ]] || _fail "stderr: $stderr"
    [ "$(systemctl is-active container@ops-b-1.service)" = active ]

    # a project that is not up: start says so; stop has nothing to do
    berth compose down >/dev/null 2>&1
    run --separate-stderr berth compose start b
    assert_status 125
    [ "$stderr" = "berth: service \"b\" has no container to start: run 'berth compose up' first" ] || _fail "stderr: $stderr"
    run berth compose stop
    assert_success
}

@test "compose create: the containers without starting them (up --no-start); start starts them" {
    cd "$D/ops"
    run --separate-stderr berth compose create
    assert_success
    run berth ps -a --filter label=com.docker.compose.project=ops --format '{{.Names}}'
    assert_line_matches '^ops-alpha-1$'
    assert_line_matches '^ops-b-1$'
    stopped container@ops-b-1.service
    run berth compose start
    assert_success
    [ "$(systemctl is-active container@ops-b-1.service)" = active ]
}

@test "compose exec: the command's exit code, -T, -e, -w, -u, the service's environment and workdir" {
    cd "$D/ops"
    run berth compose up -d
    assert_success
    run berth compose exec -T b sh -c 'exit 3'
    assert_status 3
    run berth compose exec -T b sh -c 'echo "$FROM_FILE $X $(pwd)"'
    assert_success
    assert_output "file  /etc"
    run berth compose exec -T -e X=set -w /tmp b sh -c 'echo "$X $(pwd)"'
    assert_output "set /tmp"
    run berth compose exec -T -u 1234 b id -u
    assert_output 1234
    run berth compose exec -d b touch /tmp/detached
    assert_success
    wait_until 5 berth compose exec -T b test -e /tmp/detached

    run --separate-stderr berth compose exec -T nope true
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"
    berth compose stop b >/dev/null 2>&1
    run --separate-stderr berth compose exec -T b true
    assert_status 125
    [ "$stderr" = 'berth: service "b" is not running' ] || _fail "stderr: $stderr"
    run --separate-stderr berth compose exec b
    assert_status 125
}

@test "compose run: a one-off container of the service's config, --rm leaves none, dependencies started first" {
    cd "$D/ops"
    run --separate-stderr berth compose run --rm -T b sh -c 'echo "one-off $FROM_FILE $Y $(pwd)"'
    [ "$status" -eq 0 ] || _fail "status $status, stderr: $stderr"
    assert_output "one-off file  /etc"
    # the dependency came up with its unit; the one-off is gone
    [ "$(systemctl is-active container@ops-alpha-1.service)" = active ]
    run berth ps -aq --filter label=com.docker.compose.oneoff=True
    assert_output ""

    run --separate-stderr berth compose run --rm -T -e Y=over --entrypoint /bin/sh b -c 'echo "$Y"; exit 4'
    assert_status 4
    assert_output "over"

    run berth compose run -d --no-deps b
    assert_success
    run berth ps -a --filter label=com.docker.compose.oneoff=True --filter label=com.docker.compose.project=ops \
        --format '{{.Names}} {{.Service}}'
    assert_line_matches '^ops-b-run-[0-9a-f]{12} b$'
    # the one-off is on the project network, without the service's alias;
    # with the service's limits
    local name=${output%% *} unit
    unit=$(berth ps --filter "name=$name" --format '{{.Unit}}')
    [ "$(systemctl show -P MemoryMax "$unit")" = 67108864 ] || _fail "MemoryMax of $unit: $(systemctl show -P MemoryMax "$unit")"
    run berth exec "$name" cat /etc/hosts
    assert_line_matches '[[:space:]]alpha([[:space:]]|$)'
    [ -z "$(echo "$output" | awk '{ for (i = 2; i <= NF; i++) if ($i == "b") print }')" ] || _fail "alias b: $output"

    run --separate-stderr berth compose run --rm nope true
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"

    # down takes the one-off containers too, as Docker Compose's does
    run --separate-stderr berth compose down
    assert_success
    [[ "$stderr" == *"Container $name  Removed"* ]] || _fail "stderr: $stderr"
    run berth ps -aq --filter label=com.docker.compose.project=ops
    assert_output ""
    [ ! -e /run/berth/compose/ops.list ] || _fail "manifest left"
}

@test "compose run --rm --no-deps on a project that is not up: its network is made, no service container; down takes it" {
    cd "$D/ops"
    local before
    before=$(berth ps -aq | wc -l)
    run --separate-stderr berth compose run --rm --no-deps -T b sh -c 'ip -4 -o addr show eth0 | grep -c inet'
    assert_success
    assert_output 1
    [ "$(berth ps -aq | wc -l)" -eq "$before" ] || _fail "a container was left"
    run berth network inspect ops_default
    assert_success
    run berth inspect ops-b-1
    assert_failure
    run berth compose down
    assert_success
    run berth network inspect ops_default
    assert_failure
    [ ! -e /run/berth/compose/ops.list ] || _fail "manifest left"
}

@test "compose rm: the stopped containers after a confirmation or -f, -s stops first; start makes them again" {
    cd "$D/ops"
    run berth compose up -d
    assert_success
    run --separate-stderr berth compose rm -f
    assert_success
    [[ "$stderr" == *"No stopped containers"* ]] || _fail "stderr: $stderr"
    berth compose stop b 2>/dev/null
    run --separate-stderr sh -c 'echo n | berth compose rm b'
    assert_success
    [[ "$stderr" == *"Going to remove ops-b-1"* ]] || _fail "stderr: $stderr"
    berth inspect ops-b-1 >/dev/null
    run --separate-stderr sh -c 'echo y | berth compose rm b'
    assert_success
    [[ "$stderr" == *"Container ops-b-1  Removed"* ]] || _fail "stderr: $stderr"
    run berth inspect ops-b-1
    assert_failure
    [ "$(systemctl is-active container@ops-alpha-1.service)" = active ]
    run berth compose start b
    assert_success
    [ "$(systemctl is-active container@ops-b-1.service)" = active ]
    run --separate-stderr berth compose rm -s -f -v
    assert_success
    [[ "$stderr" == *"Container ops-alpha-1  Removed"* ]] || _fail "stderr: $stderr"
    run berth ps -aq --filter label=com.docker.compose.project=ops
    assert_output ""
    run --separate-stderr berth compose rm -f nope
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"
}

@test "compose top and images: the services' processes and images" {
    cd "$D/ops"
    run berth compose up -d
    assert_success
    run --separate-stderr berth compose top b
    assert_success
    [ "${lines[0]}" = "ops-b-1" ] || _fail "first line: ${lines[0]}"
    assert_line_matches '^UID +PID +PPID'
    assert_line_matches 'sleep 1000$'
    run --separate-stderr berth compose top
    assert_line_matches '^ops-alpha-1$'
    assert_line_matches '^ops-b-1$'

    run --separate-stderr berth compose images
    assert_success
    assert_line_matches '^CONTAINER +REPOSITORY +TAG +IMAGE ID +SIZE$'
    local id
    id=$(berth images -q busybox:latest)
    assert_line_matches "^ops-alpha-1 +busybox +latest +$id +[0-9.]+[kMG]?B$"
    assert_line_matches "^ops-b-1 +busybox +latest +$id "
    run berth compose images -q b
    assert_output "$(berth image inspect -f '{{.Id}}' busybox:latest)"
}

@test "compose build from a relative context: dockerfile, args, target, --build-arg, --no-cache; up --build rebuilds and recreates" {
    mkdir -p "$D/app/ctx"
    cat >"$D/app/ctx/Dockerfile.web" <<'EOF'
FROM busybox AS base
ARG GREETING=unset
RUN echo "$GREETING" >/greeting
COPY msg /msg
FROM base AS final
CMD ["sh", "-c", "cat /greeting /msg; exec sleep 1000"]
FROM base AS never
RUN false
EOF
    echo first >"$D/app/ctx/msg"
    cat >"$D/app/compose.yaml" <<'YAML'
name: t98app
services:
  web:
    build:
      context: ./ctx
      dockerfile: Dockerfile.web
      target: final
      args:
        GREETING: hello from args
  named:
    image: t98/named:1
    build: ./ctx/../ctx
YAML
    cd "$D/app"
    run --separate-stderr berth compose build web
    assert_success
    [[ "$stderr" == *"Service web  Built"* ]] || _fail "stderr: $stderr"
    run berth run --rm t98app-web cat /greeting /msg
    assert_output "hello from args
first"
    run berth compose build --build-arg GREETING=overridden --no-cache web
    assert_success
    run berth run --rm t98app-web cat /greeting
    assert_output "overridden"

    # up builds what is missing (named: no Dockerfile.web target: the default Dockerfile is absent)
    run --separate-stderr berth compose up -d web
    assert_success
    wait_until 10 sh -c 'berth compose logs web | grep -q "web-1  | first"'
    # up --build while it runs: a new image, so the container is made again
    echo second >"$D/app/ctx/msg"
    run --separate-stderr berth compose up -d --build web
    assert_success
    [[ "$stderr" == *"Container t98app-web-1  Recreated"* ]] || _fail "stderr: $stderr"
    wait_until 10 sh -c 'berth compose logs web | grep -q "web-1  | second"'
    # the same image again: left running as it is
    local started
    started=$(berth inspect -f '{{.State.StartedAt}}' t98app-web-1)
    run --separate-stderr berth compose up -d web
    assert_success
    [[ "$stderr" != *"Recreated"* ]] || _fail "stderr: $stderr"
    [ "$(berth inspect -f '{{.State.StartedAt}}' t98app-web-1)" = "$started" ] || _fail "restarted"
    run berth compose exec -T web cat /msg
    assert_output second

    # a build that fails: the step's error; the image stays as it was
    local id
    id=$(berth images -q t98/named:1)
    run --separate-stderr berth compose build named
    assert_failure
    [ "$(echo "$stderr" | grep -c '^berth: ')" -eq 1 ] || _fail "stderr: $stderr"
    [ "$(berth images -q t98/named:1)" = "$id" ] || _fail "image changed"
    run --separate-stderr berth compose build nope
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"

    # down --rmi: a bad type is one line and changes nothing; local takes
    # the image built for want of an image: key, all the named one too
    # (here a second name of busybox: only that name goes)
    berth tag busybox t98/named:1
    id=$(berth images -q t98/named:1)
    [ -n "$id" ] || _fail "no t98/named:1"
    run --separate-stderr berth compose down --rmi some
    assert_status 125
    [ "$stderr" = "berth: compose down: --rmi takes local or all, not 'some' (see 'berth compose down --help')" ] ||
        _fail "stderr: $stderr"
    [ "$(berth compose ps -q | wc -l)" -eq 1 ] || _fail "down --rmi some took the project down"
    run --separate-stderr berth compose down --rmi local
    assert_success
    [[ "$stderr" == *"Image t98app-web  Removed"* ]] || _fail "stderr: $stderr"
    run berth image inspect t98app-web
    assert_failure
    [ "$(berth images -q t98/named:1)" = "$id" ] || _fail "down --rmi local removed t98/named:1"
    run --separate-stderr berth compose down --rmi all
    assert_success
    [[ "$stderr" == *"Image t98/named:1  Removed"* ]] || _fail "stderr: $stderr"
    run berth image inspect t98/named:1
    assert_failure
    [ "$(berth images -q busybox)" = "$id" ] || _fail "busybox went with its other name"
}

@test "compose pull and push through a registry; up --pull always|never" {
    ensure_seed_images
    mkdir -p "$D/reg/ctx"
    printf 'FROM busybox\nRUN echo pushed >/marker\n' >"$D/reg/ctx/Dockerfile"
    cat >"$D/reg/compose.yaml" <<YAML
name: t98reg
services:
  deb:
    image: $SEED_REGISTRY/debian:bookworm
    command: ["sleep", "1000"]
  mine:
    image: $SEED_REGISTRY/t98/mine:1
    build: ./ctx
    command: ["sleep", "1000"]
YAML
    cd "$D/reg"
    berth rmi -f "$SEED_REGISTRY/debian:bookworm" >/dev/null 2>&1 || :
    run --separate-stderr berth compose pull deb
    assert_success
    [[ "$stderr" == *" deb Pulled"* ]] || _fail "stderr: $stderr"
    [ -n "$(berth images -q "$SEED_REGISTRY/debian:bookworm")" ] || _fail "not pulled"

    run --separate-stderr berth compose build
    assert_success
    run --separate-stderr berth compose push
    assert_success
    [[ "$stderr" == *" mine Pushed"* ]] || _fail "stderr: $stderr"
    # only services with a build section are pushed
    [[ "$stderr" != *" deb Pushed"* ]] || _fail "stderr: $stderr"
    curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
        "http://127.0.0.1:5000/v2/t98/mine/manifests/1" || _fail "not in the registry"
    berth rmi -f "$SEED_REGISTRY/t98/mine:1" >/dev/null

    # never: a missing image is an error before anything is written
    run --separate-stderr berth compose up -d --pull never deb
    assert_success
    berth compose down >/dev/null
    berth rmi -f "$SEED_REGISTRY/debian:bookworm" >/dev/null
    run --separate-stderr berth compose up -d --pull never deb
    assert_status 125
    [ "$(echo "$stderr" | grep -c '^berth: ')" -eq 1 ] || _fail "stderr: $stderr"
    [ ! -e /run/berth/compose/t98reg.list ] || _fail "a manifest was written"
    # always: pulled again; mine comes from the registry, not built
    run --separate-stderr berth compose up -d --pull always
    assert_success
    [ "$(berth compose exec -T mine cat /marker)" = pushed ] || _fail "mine is not the pushed image"
    berth compose down >/dev/null
    berth rmi -f "$SEED_REGISTRY/t98/mine:1" >/dev/null 2>&1 || :
}

@test "a python web service built on the real Debian image talks to a second service by name: up --build, logs, exec, run" {
    ensure_seed_images
    mkdir -p "$D/pyapp/web"
    cat >"$D/pyapp/web/Dockerfile" <<EOF
FROM $SEED_REGISTRY/python:3
WORKDIR /app
COPY app.py .
CMD ["python3", "-u", "app.py"]
EOF
    cat >"$D/pyapp/web/app.py" <<'EOF'
import http.server, urllib.request
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = urllib.request.urlopen("http://store:8080/item").read()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"web got: " + body)
    def log_message(self, fmt, *args):
        print("request", self.path, flush=True)
print("web listening", flush=True)
http.server.HTTPServer(("", 8000), H).serve_forever()
EOF
    cat >"$D/pyapp/compose.yaml" <<'YAML'
services:
  web:
    build: ./web
    depends_on:
      store:
        condition: service_healthy
  store:
    image: busybox
    init: true
    command: ["sh", "-c", "mkdir -p /srv && echo stored-item >/srv/item && exec httpd -f -v -p 8080 -h /srv"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/item"]
      interval: 1s
      retries: 30
YAML
    cd "$D/pyapp"
    run --separate-stderr berth compose up -d --build
    assert_success
    [ -n "$(berth images -q pyapp-web)" ] || _fail "no image pyapp-web"
    wait_until 20 sh -c 'berth compose logs web | grep -q "^web-1  | web listening$"'
    run berth compose exec -T web python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8000/").read().decode())'
    assert_success
    assert_output "web got: stored-item"
    wait_until 10 sh -c 'berth compose logs web | grep -q "^web-1  | request /$"'
    run berth compose logs
    assert_line_matches '^web-1    \| web listening$'
    assert_line_matches '^store-1  \| '
    run berth compose run --rm -T --no-deps web python3 -c 'import urllib.request; print(urllib.request.urlopen("http://web:8000/").read().decode())'
    assert_success
    assert_output "web got: stored-item"
    run berth compose images web
    assert_line_matches '^pyapp-web-1 +pyapp-web +latest +[0-9a-f]{12} '
    run berth compose down -v
    assert_success
    berth rmi -f pyapp-web >/dev/null 2>&1 || :
}
