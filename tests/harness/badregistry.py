#!/usr/bin/env python3
"""tests/harness/badregistry.py — a registry that misbehaves on purpose, for
tests/integration/81-registry-hostile.bats. Runs only inside
tests/harness/boot.sh (its own network namespace).

    badregistry.py PORT LOG

serves the distribution API on 127.0.0.1:PORT, and the same handler on
127.0.0.2:PORT and 127.0.0.1:PORT+1 (the "other hosts" a redirect may point
at). Each repository NAME has one tag, "1": a one-layer image whose layer
holds a file naming NAME (so no two repositories share a blob). NAME chooses
how the registry misbehaves:

    good                 nothing wrong
    long-blob            the layer: its bytes, then zeros without end
    short-blob           the layer: its first half only (a clean end)
    error-blob           the layer: HTTP 500 with a body without end
    hang-blob            the layer: 100 bytes, then nothing for 10 minutes
    hang-manifest        the manifest: 10 bytes, then nothing for 10 minutes
    bad-config           the config: one byte changed
    big-config           the config: '{' followed by spaces without end
    big-manifest         the manifest: '{' followed by spaces without end
    lying-digest         the manifest, with a Docker-Content-Digest of another
    bad-child            an index whose entry names a digest the manifest served
                         for it does not have
    endless-token        401 Bearer, realm /token: a token answer without end
    redirect-loop        the manifest URL redirects to itself
    redirect-file        the manifest URL redirects to file:///etc/passwd
    redirect-ftp         the manifest URL redirects to ftp://127.0.0.1/m
    auth-redirect-host   Basic auth (hostile / pw-hostile), blobs redirected
                         to http://127.0.0.2:PORT/cdn/DIGEST
    auth-redirect-port   the same, to http://127.0.0.1:PORT+1/cdn/DIGEST
    auth-upload-host     Basic auth; a push's upload Location is on
                         http://127.0.0.2:PORT/upload/N (which takes it)
    bearer-redirect-host 401 Bearer, realm /token (a token for anyone);
                         blobs redirected as for auth-redirect-host

/v2/ asks for Basic auth (hostile / pw-hostile); /token answers
{"token": "berth-test-token"} but for endless-token. Every request is appended
to LOG as "ADDR:PORT METHOD PATH auth=<Authorization header or ->"."""
import gzip
import hashlib
import io
import json
import platform
import sys
import tarfile
import threading
import time
from base64 import b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
BASIC = "Basic " + b64encode(b"hostile:pw-hostile").decode()
TOKEN = "Bearer berth-test-token"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
log_lock = threading.Lock()


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


blobs = {}  # digest -> (repository, "layer" | "config", bytes)
images = {}  # repository -> manifest bytes


def image(repo):
    if repo in images:
        return images[repo]
    data = ("made for %s\n" % repo).encode()
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo("hostile")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        t.addfile(info, io.BytesIO(data))
    raw = tar.getvalue()
    layer = gzip.compress(raw, mtime=0)
    config = json.dumps({"architecture": ARCH, "os": "linux",
                         "config": {"Cmd": ["/hostile"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha(raw)]}}).encode()
    blobs[sha(layer)] = (repo, "layer", layer)
    blobs[sha(config)] = (repo, "config", config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": sha(layer), "size": len(layer)}]}).encode()
    images[repo] = manifest
    return manifest


class Handler(BaseHTTPRequestHandler):
    def log(self):
        addr = "%s:%d" % self.server.server_address[:2]
        with log_lock, open(log_path, "a") as f:
            f.write("%s %s %s auth=%s\n" % (addr, self.command, self.path,
                                            self.headers.get("Authorization") or "-"))

    def answer(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message, headers=()):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.answer(status, body, headers=headers)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def endless(self, first, filler, ctype, status=200):
        """An answer without Content-Length whose body never ends (until the
        client hangs up)."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.end_headers()
        try:
            self.wfile.write(first)
            while True:
                self.wfile.write(filler)
        except OSError:
            pass

    def hang(self, data, ctype, start=10):
        """A 200 that sends the first bytes of data, then nothing."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:start])
        self.wfile.flush()
        time.sleep(600)

    def unauthorized_basic(self):
        self.error(401, "UNAUTHORIZED", "authentication required",
                   [("WWW-Authenticate", 'Basic realm="badregistry"')])

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        """Starting an upload (auth-upload-host only): its Location is on
        another host."""
        self.log()
        if self.headers.get("Authorization") != BASIC:
            return self.unauthorized_basic()
        if not self.path.startswith("/v2/auth-upload-host/blobs/uploads/"):
            return self.error(404, "NOT_FOUND", "page not found")
        self.answer(202, b"", headers=[("Location", "http://127.0.0.2:%d/upload/%d" % (port, time.time_ns())),
                                       ("Docker-Upload-UUID", "x")])

    def do_PUT(self):
        """An upload (any host: /upload/N) or the manifest of
        auth-upload-host (with credentials): taken, not kept."""
        self.log()
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        if self.path.startswith("/upload/"):
            return self.answer(201, b"")
        if self.headers.get("Authorization") != BASIC:
            return self.unauthorized_basic()
        if self.path.startswith("/v2/auth-upload-host/manifests/"):
            return self.answer(201, b"")
        return self.error(404, "NOT_FOUND", "page not found")

    def do_GET(self):
        self.log()
        parts = self.path.split("?")[0].split("/")
        if self.path.startswith("/token") and "endless-token" in self.path:
            return self.endless(b'{"token": "', b"a" * 65536, "application/json")
        if self.path.startswith("/token"):
            return self.answer(200, json.dumps({"token": TOKEN[len("Bearer "):]}).encode())
        if parts[1] == "cdn" and len(parts) == 3 and parts[2] in blobs:
            return self.answer(200, blobs[parts[2]][2], "application/octet-stream")
        if self.path == "/v2/":
            if self.headers.get("Authorization") != BASIC:
                return self.unauthorized_basic()
            return self.answer(200, b"{}")
        if len(parts) != 5 or parts[1] != "v2":
            return self.error(404, "NOT_FOUND", "page not found")
        repo, kind, ref = parts[2], parts[3], parts[4]
        manifest = image(repo)
        if repo.startswith("auth-") and self.headers.get("Authorization") != BASIC:
            return self.unauthorized_basic()
        if ((repo == "endless-token" or repo.startswith("bearer-"))
                and self.headers.get("Authorization") != TOKEN):
            realm = "http://127.0.0.1:%d/token" % port
            return self.error(401, "UNAUTHORIZED", "authentication required",
                              [("WWW-Authenticate", 'Bearer realm="%s",service="bad",scope="repository:%s:pull"'
                                % (realm, repo))])
        if kind == "manifests":
            return self.manifest(repo, ref, manifest)
        if kind == "blobs" and ref in blobs:
            return self.blob(repo, ref)
        return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")

    def manifest(self, repo, ref, manifest):
        if repo == "redirect-loop":
            return self.redirect(self.path)
        if repo == "redirect-file":
            return self.redirect("file:///etc/passwd")
        if repo == "redirect-ftp":
            return self.redirect("ftp://127.0.0.1/m")
        if repo == "hang-manifest":
            return self.hang(manifest, OCI_MANIFEST)
        if repo == "big-manifest":
            return self.endless(b"{", b" " * 65536, OCI_MANIFEST)
        if repo == "bad-child" and ref == "1":
            index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "ab" * 32,
                                               "size": len(manifest),
                                               "platform": {"os": "linux", "architecture": ARCH}}]}).encode()
            return self.answer(200, index, OCI_INDEX, [("Docker-Content-Digest", sha(index))])
        if ref != "1" and ref != sha(manifest) and repo != "bad-child":
            return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        digest = sha(manifest) if repo != "lying-digest" else "sha256:" + "cd" * 32
        return self.answer(200, manifest, OCI_MANIFEST, [("Docker-Content-Digest", digest)])

    def blob(self, repo, digest):
        owner, kind, data = blobs[digest]
        if repo.endswith("-redirect-host") or repo.endswith("-redirect-port"):
            host = "127.0.0.2:%d" % port if repo.endswith("-host") else "127.0.0.1:%d" % (port + 1)
            return self.redirect("http://%s/cdn/%s" % (host, digest))
        if kind == "config" and repo == "big-config":
            return self.endless(b"{", b" " * 65536, "application/octet-stream")
        if kind == "config" and repo == "bad-config":
            data = data[:-1] + (b" " if data[-1:] != b" " else b"\n")
        if kind == "layer" and repo == "long-blob":
            return self.endless(data, b"\0" * 65536, "application/octet-stream")
        if kind == "layer" and repo == "error-blob":
            return self.endless(b'{"errors": [{"message": "', b"x" * 65536, "application/json", 500)
        if kind == "layer" and repo == "short-blob":
            data = data[:len(data) // 2]
        if kind == "layer" and repo == "hang-blob":
            return self.hang(data, "application/octet-stream", 100)
        self.answer(200, data, "application/octet-stream", [("Docker-Content-Digest", digest)])

    def log_message(self, fmt, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True


servers = [Server((addr, p), Handler) for addr, p in (("127.0.0.1", port), ("127.0.0.2", port),
                                                      ("127.0.0.1", port + 1))]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
