#!/bin/bash
# bench/run.sh — time berth against podman and runc on this machine, in one
# run, and print medians and ratios.  Timings never go into tests.
#
#   bench/run.sh            from the checkout, as root: builds, boots the
#                           throwaway systemd of tests/harness and runs there
#   bench/run.sh --inside   (what the harness runs) the measurements only
#
# What is measured (hyperfine, N runs each, medians):
#   run:  `berth run --rm busybox true`
#         `podman --runtime runc run --rm --network none busybox true`
#         `runc run` of an OCI bundle of the same rootfs
# Target (issue 2): berth's median at most 1/4 of podman's.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
runs=${BENCH_RUNS:-20}

if [ "${1:-}" != --inside ]; then
    [ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
    . "$repo/tests/harness/deps.sh"
    berth_install_deps podman runc hyperfine
    (cd "$repo" && { [ -x configure ] || autoreconf -fi; } && mkdir -p build-bench && cd build-bench &&
        { [ -f Makefile ] || ../configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var CFLAGS=-O2; } &&
        make -s -j2 >/dev/null)
    exec "$repo/tests/harness/boot.sh" --env BENCH_RUNS="$runs" -- \
        bash -c "make -s -C '$repo/build-bench' install >/dev/null && '$repo/bench/run.sh' --inside"
fi

[ "${BERTH_HARNESS:-}" = 1 ] || { echo "bench: --inside is for the harness" >&2; exit 1; }
work=$(mktemp -d /tmp/bench.XXXXXX)
# podman's overlay driver cannot sit on the harness' overlay root
mkdir -p /var/lib/containers && mount -t tmpfs tmpfs /var/lib/containers

"$repo/tests/harness/mkbusybox.sh" "$work/rootfs.tar" >/dev/null
berth import "$work/rootfs.tar" busybox:latest >/dev/null
podman import -q "$work/rootfs.tar" localhost/busybox:latest >/dev/null
mkdir -p "$work/bundle/rootfs"
tar -C "$work/bundle/rootfs" -xf "$work/rootfs.tar"
(cd "$work/bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)

podman_flags=(--runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
hyperfine --warmup 3 --runs "$runs" --export-json "$work/run.json" \
    -n berth "berth run --rm busybox true" \
    -n podman "podman ${podman_flags[*]} run --rm localhost/busybox true" \
    -n runc "runc run -b $work/bundle bench-\$RANDOM-\$\$" >/dev/null

python3 - "$work/run.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in res.items()}
print("run --rm busybox true (median of %d runs, ms)" % len(res["berth"]["times"]))
for k in ("berth", "podman", "runc"):
    print("  %-8s %8.1f ms   berth/%s = %.2f" % (k, med[k], k, med["berth"] / med[k]))
print("  target: berth <= podman/4: %s" % ("met" if med["berth"] <= med["podman"] / 4 else "NOT met"))
PY
rm -rf "$work"
