#!/bin/bash
# bench/pull.sh — pull of the same multi-layer image from a loopback registry
# by berth and by `podman pull`, in one run: medians, MB/s and the ratio.
# Timings never go into tests.
#
#   sudo bench/pull.sh       from the checkout, as root: installs podman and
#                            hyperfine if missing, builds the checkout in
#                            build-bench-pull/, boots the throwaway systemd of
#                            tests/harness (never the host's) and measures there
#   bench/pull.sh --inside   (what the harness runs) the measurements only
#
# Environment: BENCH_RUNS (default 10) timed runs per engine after 1 warm-up;
# BENCH_LAYERS (default 4) and BENCH_LAYER_MB (default 16) shape the image:
# that many layers of that many MB of random (incompressible) data each,
# made with umoci and pushed by skopeo to docker-registry on 127.0.0.1:5100
# (plain HTTP, listed in insecure-registries). BENCH_OUT=DIR keeps
# hyperfine's JSON in DIR/bench-pull.json.
#
# Each timed run starts from a store without the image (hyperfine's
# --prepare, not timed), so every layer is downloaded, verified and unpacked:
#   berth    berth pull -q 127.0.0.1:5100/bench/pull:1
#   podman   podman pull -q --tls-verify=false 127.0.0.1:5100/bench/pull:1
#   skopeo   skopeo copy -q --src-tls-verify=false docker://IMG
#            containers-storage:IMG (the copy into podman's store alone)
# Issue 15's target: 4 layers of 64 MB (BENCH_LAYER_MB=64), berth at least
# as fast as both.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
build=$repo/build-bench-pull
runs=${BENCH_RUNS:-10}
layers=${BENCH_LAYERS:-4}
layer_mb=${BENCH_LAYER_MB:-16}
die() { echo "bench-pull: $*" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"
[[ $layers =~ ^[1-9][0-9]*$ ]] || die "BENCH_LAYERS must be a positive number"
[[ $layer_mb =~ ^[1-9][0-9]*$ ]] || die "BENCH_LAYER_MB must be a positive number"

# ---------------------------------------------------------------- on the host
# shellcheck source=lib.sh
. "$repo/bench/lib.sh"
if [ "${1:-}" != --inside ]; then
    bench_host pull.sh BENCH_RUNS="$runs" BENCH_LAYERS="$layers" BENCH_LAYER_MB="$layer_mb" -- podman hyperfine
fi

# ---------------------------------------------------- inside the harness guest
bench_guest

work=$(mktemp -d /tmp/bench-pull.XXXXXX)
REG_DIR=$work/reg
mkdir -p "$REG_DIR"
# shellcheck source=../tests/harness/registry.sh
. "$repo/tests/harness/registry.sh"
trap 'reg_stop_all; rm -rf "$work"' EXIT

mkdir -p /etc/berth
echo '{"insecure-registries": ["127.0.0.1:5100"]}' >/etc/berth/config.json
reg_start plain 5100
img=127.0.0.1:5100/bench/pull:1

# The image: busybox, then LAYERS layers of random data, one umoci repack each.
echo "bench-pull: making a $layers x $layer_mb MB image with umoci" >&2
(
    cd "$work"
    umoci init --layout oci
    umoci new --image oci:b
    umoci unpack --image oci:b bundle
    mkdir -p bundle/rootfs/bin
    cp /bin/busybox bundle/rootfs/bin/busybox
    umoci repack --refresh-bundle --image oci:b bundle
    for i in $(seq "$layers"); do
        head -c "$((layer_mb << 20))" /dev/urandom >"bundle/rootfs/data-$i"
        umoci repack --refresh-bundle --image oci:b bundle
    done
    umoci config --image oci:b --config.cmd /bin/busybox --config.cmd true
    skopeo copy -q --dest-tls-verify=false oci:oci:b "docker://$img"
) >/dev/null 2>&1 || die "making the image failed"
bytes=$(skopeo inspect --raw --tls-verify=false "docker://$img" | jq '[.layers[].size] | add')
nlayers=$(skopeo inspect --raw --tls-verify=false "docker://$img" | jq '.layers | length')

# Each must work once (with its output shown) before it is timed.
berth pull "$img" >&2 || die "berth pull failed"
podman pull --tls-verify=false "$img" >&2 || die "podman pull failed"
podman rmi -f "$img" >/dev/null
skopeo copy -q --src-tls-verify=false "docker://$img" "containers-storage:$img" >&2 || die "skopeo copy failed"

hf=(--style basic --warmup 1 --runs "$runs" --export-json "$work/pull.json"
    --prepare "berth rmi -f $img >/dev/null 2>&1; podman rmi -f $img >/dev/null 2>&1; true"
    -n berth "berth pull -q $img"
    -n podman "podman pull -q --tls-verify=false $img"
    -n skopeo "skopeo copy -q --src-tls-verify=false docker://$img containers-storage:$img")
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-pull: hyperfine, $runs runs per engine (load average before: $load)" >&2
hyperfine "${hf[@]}" >&2
[ -z "${BERTH_HARNESS_OUT:-}" ] || cp "$work/pull.json" "$BERTH_HARNESS_OUT/bench-pull.json"
# issue 15: pull in bounded memory whatever the image size
berth rmi -f "$img" >/dev/null 2>&1 || true
/usr/bin/time -f '%M' -o "$work/pull-rss" berth pull -q "$img" >/dev/null || die "berth pull failed"
pull_rss=$(cat "$work/pull-rss")

echo
echo "berth pull bench, $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), load before: $load"
echo "  image: $nlayers layers, $bytes bytes compressed, from docker-registry on 127.0.0.1 (plain HTTP)"
echo "  berth pull's peak resident size: $pull_rss KB"
echo "  $(podman --version); podman: $(podman info --format '{{.Store.GraphDriverName}} storage')"
python3 - "$work/pull.json" "$bytes" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
mb = int(sys.argv[2]) / 1e6
print()
print("%-8s %10s %19s %10s %10s %9s" % ("engine", "median", "mean ± sd", "min", "max", "MB/s"))
for n in ("berth", "podman", "skopeo"):
    r = res[n]
    print("%-8s %7.0f ms %8.0f ± %5.0f ms %7.0f ms %7.0f ms %9.1f"
          % (n, r["median"] * 1000, r["mean"] * 1000, (r["stddev"] or 0) * 1000, r["min"] * 1000,
             r["max"] * 1000, mb / r["median"]))
b, p, k = res["berth"]["median"], res["podman"]["median"], res["skopeo"]["median"]
print()
print("berth/podman = %.2f   (podman/berth = %.2fx)   berth/skopeo = %.2f" % (b / p, p / b, b / k))
print("issue 15: berth at least as fast as podman pull and skopeo copy: %s"
      % ("MET" if b <= p and b <= k else "NOT MET"))
PY
