#!/bin/bash
# bench/build.sh — `berth build` against `podman build` (buildah) on the same
# Dockerfile and context, in one run: a cold build (--no-cache) and a fully
# cached rebuild by each, medians and ratios.  Timings never go into tests.
#
#   sudo bench/build.sh       from the checkout, as root: installs podman and
#                             hyperfine if missing, builds the checkout in
#                             build-bench-build/, boots the throwaway systemd of
#                             tests/harness (never the host's) and measures there
#   bench/build.sh --inside   (what the harness runs) the measurements only
#
# Environment: BENCH_RUNS (default 10) timed runs per command after 1
# warm-up; BENCH_OUT=DIR keeps hyperfine's JSON in DIR/bench-build.json.
#
# The Dockerfile (both engines start from the same busybox rootfs of
# tests/harness/mkbusybox.sh, imported into each store):
#   FROM $BASE; COPY of a 4 MB context; two RUNs; ENV, WORKDIR, CMD
# podman runs with --runtime runc --network none and this host's rlimits
# (see /work/shared/TESTING.md); berth with --network none too.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
build=$repo/build-bench-build
runs=${BENCH_RUNS:-10}
die() { echo "bench-build: $*" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"

# ---------------------------------------------------------------- on the host
# shellcheck source=lib.sh
. "$repo/bench/lib.sh"
if [ "${1:-}" != --inside ]; then
    bench_host build.sh BENCH_RUNS="$runs" -- podman hyperfine
fi

# ---------------------------------------------------- inside the harness guest
bench_guest

work=$(mktemp -d /tmp/bench-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$repo/tests/harness/mkbusybox.sh" "$work/rootfs.tar" >/dev/null
berth import "$work/rootfs.tar" bench/base:1 >/dev/null
podman import -q "$work/rootfs.tar" localhost/bench/base:1 >/dev/null

ctx=$work/ctx
mkdir -p "$ctx/src"
for i in $(seq 16); do head -c 262144 /dev/urandom >"$ctx/src/blob-$i"; done
cat >"$ctx/Dockerfile" <<'EOF'
ARG BASE
FROM $BASE
LABEL bench=build
ENV APP=/app
WORKDIR $APP
COPY src/ ./src/
RUN cat src/* | md5sum > checksum && ls src > listing
RUN echo "built $(cat checksum)" > /built
EXPOSE 8080
USER 0
CMD ["cat", "/built"]
EOF
podman_build=(podman --runtime runc build -q --network none --ulimit nofile=1024:1024
              --ulimit nproc=1024:1024 --build-arg BASE=localhost/bench/base:1)
berth_build=(berth build -q --network none --build-arg BASE=bench/base:1)

# Each must work once (with its output shown) before it is timed.
"${berth_build[@]}" -t bench/built:1 "$ctx" >&2 || die "berth build failed"
"${podman_build[@]}" -t localhost/bench/built:1 "$ctx" >&2 || die "podman build failed"
[ "$(berth run --rm bench/built:1)" = "$(podman --runtime runc run --rm --network none \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bench/built:1)" ] ||
    die "the two images do not print the same"

hf=(--style basic --warmup 1 --runs "$runs" --export-json "$work/build.json"
    -n berth-cold "${berth_build[*]} --no-cache -t bench/built:1 $ctx"
    -n podman-cold "${podman_build[*]} --no-cache -t localhost/bench/built:1 $ctx"
    -n berth-cached "${berth_build[*]} -t bench/built:1 $ctx"
    -n podman-cached "${podman_build[*]} -t localhost/bench/built:1 $ctx")
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-build: hyperfine, $runs runs per command (load average before: $load)" >&2
hyperfine "${hf[@]}" >&2
[ -z "${BERTH_HARNESS_OUT:-}" ] || cp "$work/build.json" "$BERTH_HARNESS_OUT/bench-build.json"

echo
echo "berth build bench, $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), load before: $load"
echo "  Dockerfile, 10 steps after ARG: FROM busybox, LABEL, ENV, WORKDIR, COPY of 16 x 256 KB, two RUNs, EXPOSE, USER, CMD"
echo "  $(podman --version) (buildah inside), runtime runc"
python3 - "$work/build.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print()
print("%-14s %10s %19s %10s %10s" % ("build", "median", "mean ± sd", "min", "max"))
for n in ("berth-cold", "podman-cold", "berth-cached", "podman-cached"):
    r = res[n]
    print("%-14s %7.0f ms %8.0f ± %5.0f ms %7.0f ms %7.0f ms"
          % (n, r["median"] * 1000, r["mean"] * 1000, (r["stddev"] or 0) * 1000, r["min"] * 1000,
             r["max"] * 1000))
print()
for kind in ("cold", "cached"):
    b, p = res["berth-" + kind]["median"], res["podman-" + kind]["median"]
    print("%-6s berth/podman = %.2f   (podman/berth = %.2fx)" % (kind, b / p, p / b))
bc, pc = res["berth-cold"]["median"], res["podman-cold"]["median"]
bk, pk = res["berth-cached"]["median"], res["podman-cached"]["median"]
print("issue 15: cold no slower than podman build: %s; cached at most half of podman's: %s"
      % ("MET" if bc <= pc else "NOT MET", "MET" if bk <= pk / 2 else "NOT MET"))
PY
