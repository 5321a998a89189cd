# shellcheck shell=bash
# tests/harness/registry.sh — real registries on loopback for the registry
# tests and bench/pull.sh. Sourced; runs only inside tests/harness/boot.sh
# (its own network namespace), never on the host:
#
#   . "$REPO/tests/harness/registry.sh"
#   REG_DIR=$(mktemp -d)            # where configs, storage, logs, certs go
#   reg_start plain 5100            # plain HTTP
#   reg_start basic 5101 USER PASS  # htpasswd Basic auth (bcrypt)
#   reg_start tls 5102              # HTTPS with a certificate of reg_ca
#   reg_start token 5103 USER PASS  # Bearer tokens from reg_token_server
#   REG_CATALOG_MAX=2 reg_start plain 5104  # /v2/_catalog pages of 2 at most
#   reg_stop_all
#
# Each registry is docker-registry (distribution 2.8) with filesystem storage
# in $REG_DIR/NAME/storage and its log in $REG_DIR/NAME/log.

REG_BIN=${REG_BIN:-/usr/bin/docker-registry}

_reg_die() { echo "registry.sh: $*" >&2; return 1; }

# Wait until something answers on 127.0.0.1:PORT (curl exit 7 = refused).
_reg_wait_port() {
    local port=$1 scheme=${2:-http} i
    for i in $(seq 100); do
        curl -s -k -o /dev/null "$scheme://127.0.0.1:$port/" && return 0
        [ $? -ne 7 ] && return 0
        sleep 0.1
    done
    _reg_die "nothing listens on 127.0.0.1:$port after 10 s"
}

# A CA and a server certificate for 127.0.0.1 signed by it ($REG_DIR/ca/).
reg_ca() {
    local d=$REG_DIR/ca
    [ -f "$d/server.crt" ] && return 0
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || _reg_die "openssl: CA" || return 1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || _reg_die "openssl: CSR" || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/ext.cnf" -out "$d/server.crt" 2>/dev/null || _reg_die "openssl: sign" || return 1
}

# htpasswd line with a bcrypt hash (what docker-registry accepts).
_reg_htpasswd() {
    python3 -W ignore -c 'import crypt, sys
print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" "$2"
}

# reg_start MODE PORT [USER PASS]: start a registry; MODE plain|basic|tls|token.
reg_start() {
    local mode=$1 port=$2 user=${3:-} pass=${4:-}
    local d=$REG_DIR/$mode-$port scheme=http auth=""
    mkdir -p "$d/storage"
    case $mode in
    plain) ;;
    basic)
        _reg_htpasswd "$user" "$pass" >"$d/htpasswd" || return 1
        auth="auth:
  htpasswd:
    realm: berth-test
    path: $d/htpasswd"
        ;;
    tls)
        reg_ca || return 1
        scheme=https
        ;;
    token)
        reg_ca || return 1
        reg_token_server $((port + 1)) "$user" "$pass" || return 1
        auth="auth:
  token:
    realm: http://127.0.0.1:$((port + 1))/token
    service: berth-test
    issuer: berth-test-issuer
    rootcertbundle: $REG_DIR/ca/ca.crt"
        ;;
    *) _reg_die "unknown mode $mode"; return 1 ;;
    esac
    {
        echo "version: 0.1"
        echo "log:"
        echo "  level: info"
        echo "  accesslog:"
        echo "    disabled: false"
        echo "storage:"
        echo "  filesystem:"
        echo "    rootdirectory: $d/storage"
        echo "  delete:"
        echo "    enabled: true"
        echo "http:"
        echo "  addr: 127.0.0.1:$port"
        if [ "$mode" = tls ]; then
            echo "  tls:"
            echo "    certificate: $REG_DIR/ca/server.crt"
            echo "    key: $REG_DIR/ca/server.key"
        fi
        [ -n "$auth" ] && echo "$auth"
        if [ -n "${REG_CATALOG_MAX:-}" ]; then
            echo "catalog:"
            echo "  maxentries: $REG_CATALOG_MAX"
        fi
    } >"$d/config.yml"
    setsid "$REG_BIN" serve "$d/config.yml" >"$d/log" 2>&1 </dev/null &
    echo $! >>"$REG_DIR/pids"
    _reg_wait_port "$port" "$scheme" || { cat "$d/log" >&2; return 1; }
}

# The storage dir and the log of the registry started as MODE on PORT.
reg_storage() { echo "$REG_DIR/$1-$2/storage/docker/registry/v2"; }
reg_log() { echo "$REG_DIR/$1-$2/log"; }

# reg_token_server PORT USER PASS: a token server for distribution's token
# auth. GET /token?service=S&scope=repository:NAME:ACTIONS (or
# registry:catalog:*) with Basic USER:PASS answers {"token": JWT} (RS256,
# signed with openssl by the key of reg_ca, whose certificate travels in the
# x5c header); wrong or missing credentials answer 401.
reg_token_server() {
    local port=$1 user=$2 pass=$3
    cat >"$REG_DIR/token-server.py" <<'PY'
import base64, json, os, subprocess, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs

port, user, password, cadir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

der = subprocess.run(["openssl", "x509", "-in", cadir + "/ca.crt", "-outform", "DER"],
                     check=True, capture_output=True).stdout

def token(service, scopes):
    access = []
    for s in scopes:
        parts = s.split(":")
        if len(parts) == 3 and parts[0] in ("repository", "registry"):
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    head = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    claims = {"iss": "berth-test-issuer", "sub": user, "aud": service, "exp": now + 600,
              "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
    signing = b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", cadir + "/ca.key"],
                         input=signing.encode(), check=True, capture_output=True).stdout
    return signing + "." + b64url(sig)

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        want = "Basic " + base64.b64encode((user + ":" + password).encode()).decode()
        if u.path != "/token":
            self.send_response(404); self.end_headers(); return
        if self.headers.get("Authorization") != want:
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body); return
        body = json.dumps({"token": token(q.get("service", [""])[0], q.get("scope", []))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, fmt, *args):
        sys.stderr.write("token: " + (fmt % args) + "\n")

HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
    setsid python3 "$REG_DIR/token-server.py" "$port" "$user" "$pass" "$REG_DIR/ca" \
        >"$REG_DIR/token-$port.log" 2>&1 </dev/null &
    echo $! >>"$REG_DIR/pids"
    _reg_wait_port "$port" || { cat "$REG_DIR/token-$port.log" >&2; return 1; }
}

# reg_cut_proxy PORT TARGET_PORT BYTES [SECONDS]: forwards to
# 127.0.0.1:TARGET_PORT but cuts every blob download after BYTES bytes of its
# body (a connection lost mid-layer); everything else passes whole.  With
# SECONDS, blob bodies (of layers: over 10 kB) are not cut but trickle out
# over that many seconds (a slow registry).
reg_cut_proxy() {
    local port=$1 target=$2 bytes=$3 slow=${4:-0}
    cat >"$REG_DIR/cut-proxy.py" <<'PY'
import http.client, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, target, cut, slow = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def proxy(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection("127.0.0.1", target)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        c.request(method, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if slow and "/blobs/sha256:" in self.path and method == "GET" and r.status == 200 and len(data) > 10000:
            step = max(1, len(data) // 20)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step]); self.wfile.flush()
                time.sleep(slow / 20)
            return
        if cut and "/blobs/sha256:" in self.path and method == "GET" and r.status == 200 and len(data) > cut:
            self.wfile.write(data[:cut]); self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)
    def do_GET(self): self.proxy("GET")
    def do_HEAD(self): self.proxy("HEAD")
    def log_message(self, fmt, *args): pass

ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
    setsid python3 "$REG_DIR/cut-proxy.py" "$port" "$target" "$bytes" "$slow" >"$REG_DIR/cut-$port.log" 2>&1 </dev/null &
    echo $! >>"$REG_DIR/pids"
    _reg_wait_port "$port"
}

# reg_config_save / reg_config_restore: keep /etc/berth/config.json (or its
# absence) in $REG_DIR while a test file rewrites it.
reg_config_save() {
    mkdir -p /etc/berth
    rm -f "$REG_DIR/config.json.orig"
    [ -f /etc/berth/config.json ] && cp /etc/berth/config.json "$REG_DIR/config.json.orig"
    return 0
}
reg_config_restore() {
    if [ -f "$REG_DIR/config.json.orig" ]; then
        cp "$REG_DIR/config.json.orig" /etc/berth/config.json
    else
        rm -f /etc/berth/config.json
    fi
}

# reg_rmi_matching REGEX: remove the stored images whose REPOSITORY:TAG
# matches REGEX (what a test file pulled or tagged for its registries).
reg_rmi_matching() {
    local i
    for i in $(berth images --format '{{.Repository}}:{{.Tag}}' | grep -E "$1"); do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
}

# Stop every server started through this file (by the pids it recorded).
reg_stop_all() {
    local p
    [ -f "$REG_DIR/pids" ] || return 0
    while read -r p; do
        kill "$p" 2>/dev/null || true
    done <"$REG_DIR/pids"
    while read -r p; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done <"$REG_DIR/pids"
    rm -f "$REG_DIR/pids"
}
