#!/usr/bin/env python3
"""tests/harness/fakehub.py — a stand-in for Docker Hub's search API, for
tests/integration/82-search.bats. Runs only inside tests/harness/boot.sh.

    fakehub.py PORT RESULTS.json LOG    # serves GET /v1/search?q=TERM&n=N
    fakehub.py PORT - LOG               # serves neither search nor catalog

RESULTS.json is a list of Docker Hub results ({"name", "description",
"star_count", "is_official", "is_automated"}); a search answers, in that
order, those whose name contains TERM (ignoring case), at most N (default
25), in Hub's envelope. /v2/ answers {} as a registry does; every other path
answers 404 with a distribution error body. Each request line is appended to
LOG, so tests can check what berth asked for."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

port, data_path, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
results = None
if data_path != "-":
    with open(data_path) as f:
        results = json.load(f)


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(log_path, "a") as log:
            log.write("GET %s\n" % self.path)
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/v2/":
            return self.answer(200, {})
        if u.path != "/v1/search" or results is None:
            return self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "page not found"}]})
        term = q.get("q", [""])[0]
        try:
            n = int(q.get("n", ["25"])[0])
        except ValueError:
            return self.answer(400, {"message": "bad n"})
        found = [r for r in results if term.lower() in r["name"].lower()][:n]
        self.answer(200, {"num_pages": 1, "num_results": len(found), "page_size": n, "page": 1,
                          "query": term, "results": found})

    def log_message(self, fmt, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
