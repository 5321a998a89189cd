#!/usr/bin/env bats
# A real two-service app with berth compose on the real Debian python image
# (localhost:5000/python:3, see ensure_seed_images): a python web service
# that asks a second service by its name on the project network, keeps a
# counter in a named volume and is published on the host; the second
# service is health-checked and started first.  down keeps the volume (the
# counter goes on after a new up), down -v leaves nothing of the project.

load helpers

PY=$SEED_REGISTRY/python:3

setup_file() { ensure_seed_images; }

setup() {
    D=$(mktemp -d /tmp/t99.XXXXXX)
    mkdir -p "$D/pyapp/web"
    cat >"$D/pyapp/web/web.py" <<'PY'
import http.server, os, urllib.request

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.send_response(204)
            self.end_headers()
            return
        message = urllib.request.urlopen("http://api:9000/message.txt", timeout=5).read().decode().strip()
        path = "/data/hits"
        hits = int(open(path).read()) + 1 if os.path.exists(path) else 1
        with open(path, "w") as f:
            f.write(str(hits))
        body = f"web got: {message} (hit {hits}, {os.environ['GREETING']})\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

print("web listening", flush=True)
http.server.ThreadingHTTPServer(("", 8000), Handler).serve_forever()
PY
    cat >"$D/pyapp/compose.yaml" <<YAML
services:
  web:
    image: $PY
    command: ["python3", "/app/web.py"]
    environment:
      GREETING: \${GREETING:-hi}
    volumes:
      - ./web:/app:ro
      - hits:/data
    ports:
      - "127.0.0.1:8099:8000"
    depends_on:
      api:
        condition: service_healthy
  api:
    image: $PY
    command: ["sh", "-c", "mkdir -p /srv && echo hello from api > /srv/message.txt && sleep 2 && exec python3 -m http.server 9000 -d /srv"]
    healthcheck:
      test: ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9000/')"]
      interval: 1s
      retries: 30
volumes:
  hits:
YAML
}

teardown() {
    if [ -f /run/berth/compose/pyapp.list ]; then
        (cd "$D/pyapp" && berth compose down -v >/dev/null 2>&1) || :
    fi
    rm -rf "$D"
    remove_all_containers
}

get() {
    curl -sf --max-time 10 http://127.0.0.1:8099/
}

# web answers (without counting a hit)
listening() {
    curl -sf --max-time 2 -o /dev/null http://127.0.0.1:8099/health
}

@test "python app: web asks api by name, api healthy first, a named volume, down -v leaves nothing" {
    cd "$D/pyapp"
    GREETING=bonjour run berth compose up -d
    assert_success
    [ "$(systemctl is-active container@pyapp-api-1.service)" = active ]
    [ "$(systemctl is-active container@pyapp-web-1.service)" = active ]
    run berth inspect -f '{{.State.Health.Status}}' pyapp-api-1
    assert_output healthy
    api_ready=$(systemctl show -p ActiveEnterTimestampMonotonic --value container@pyapp-api-1.service)
    web_start=$(systemctl show -p ExecMainStartTimestampMonotonic --value container@pyapp-web-1.service)
    [ "$api_ready" -gt 0 ] && [ "$web_start" -ge "$api_ready" ] ||
        _fail "web started ($web_start) before api was healthy ($api_ready)"

    wait_until 30 listening
    run get
    assert_success
    assert_output "web got: hello from api (hit 1, bonjour)"
    run get
    assert_output "web got: hello from api (hit 2, bonjour)"
    # the project network: api reaches web by name too
    run berth exec pyapp-api-1 python3 -c 'import urllib.request; print(urllib.request.urlopen("http://web:8000/").read().decode().strip())'
    assert_success
    assert_output "web got: hello from api (hit 3, bonjour)"
    run berth compose ps --format '{{.Name}} {{.Service}} {{.State}}'
    assert_line_matches '^pyapp-api-1 api running$'
    assert_line_matches '^pyapp-web-1 web running$'
    run journalctl -q -u container@pyapp-web-1.service -o cat
    assert_output_contains "web listening"

    # down keeps the named volume: a new up counts on
    run berth compose down
    assert_success
    run curl -sf --max-time 2 http://127.0.0.1:8099/
    assert_failure
    GREETING=bonjour run berth compose up -d
    assert_success
    wait_until 30 listening
    run get
    assert_output "web got: hello from api (hit 4, bonjour)"

    run berth compose down -v
    assert_success
    assert_output_contains "Volume pyapp_hits  Removed"
    assert_no_compose_project pyapp
    run berth volume ls -q
    assert_output_not_contains pyapp
    # the image stays: down removes what up made, not what it pulled
    run berth images -q "$PY"
    assert_success
    [ -n "$output" ]
}
