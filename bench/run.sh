#!/bin/bash
# bench/run.sh — time berth against podman and runc on this machine, in one
# run, and print medians and ratios.  Timings never go into tests.
#
#   sudo bench/run.sh       from the checkout, as root: installs podman, runc
#                           and hyperfine if missing, builds the checkout in
#                           build-bench/, boots the throwaway systemd of
#                           tests/harness (never the host's) and measures there
#   bench/run.sh --inside   (what the harness runs) the measurements only
#
# Environment: BENCH_RUNS (default 20) timed runs per command, after 3
# warm-up runs; BENCH_OUT=DIR keeps hyperfine's JSON in DIR/bench-run.json;
# BENCH_STORE=ext4 puts the stores on ext4 (loop files on the disk) instead
# of tmpfs, so that fsync costs what it costs on a real machine;
# BENCH_ONLY=run stops after the first table (and skips build and pull).
#
# What is measured (hyperfine, median of BENCH_RUNS runs each), all on the
# same busybox rootfs (tests/harness/mkbusybox.sh):
#   berth    berth run --rm busybox true   (the default bridge network: a
#            veth pair on berth0, over rtnetlink)
#   berth-nn berth run --rm --network none busybox true   (own netns with
#            only lo, like the two below)
#   podman   podman --runtime runc run --rm --network none
#                   --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 IMAGE true
#            (crun refuses this host's hybrid cgroups; the hard rlimits here
#            are lower than podman's defaults: see /work/shared/TESTING.md)
#   runc     runc run of an OCI bundle (`runc spec`, terminal false, args
#            ["true"]), a fresh container id per run
#   kernel   unshare -mpfuin --fork chroot ROOTFS /bin/true: the namespaces
#            and the exec alone, the floor under every engine
#   systemd  systemd-run --wait --collect -q -p MemoryMax=64M /bin/true:
#            what a transient unit costs, the floor under berth
# Target (issue 2): berth's median at most 1/4 of podman's.
# Then (issues 4, 3): systemctl start of a container@ unit against a podman-run
# unit; load of the same archive by berth and podman (MB/s); disk use of ten
# images sharing a base layer.  Then (issue 15) the light commands against
# /bin/true: berth version, ps, images, inspect and the generator; then,
# unless BENCH_ONLY=run, bench/build.sh (cold and cached builds against
# podman build) and bench/pull.sh (a 4 x 64 MB image against podman pull
# and skopeo copy, BENCH_LAYER_MB to change it), each in a guest of its own,
# so that one run prints every row of issue 15.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
build=$repo/build-bench
runs=${BENCH_RUNS:-20}
die() { echo "bench: $*" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number"

# ---------------------------------------------------------------- on the host
# shellcheck source=lib.sh
. "$repo/bench/lib.sh"
if [ "${1:-}" != --inside ]; then
    # (bench_host ends in an exec of the guest: a subshell, so that the
    # image rows of bench/build.sh and bench/pull.sh follow in the same run)
    st=0
    (bench_host run.sh BENCH_RUNS="$runs" BENCH_ONLY="${BENCH_ONLY:-}" -- podman runc hyperfine) || st=$?
    if [ "$st" = 0 ] && [ "${BENCH_ONLY:-}" != run ]; then
        "$repo/bench/build.sh" || st=$?
        BENCH_LAYER_MB=${BENCH_LAYER_MB:-64} "$repo/bench/pull.sh" || st=$?
    fi
    exit "$st"
fi

# ---------------------------------------------------- inside the harness guest
bench_guest

work=$(mktemp -d /tmp/bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The same rootfs for the three engines.
"$repo/tests/harness/mkbusybox.sh" "$work/rootfs.tar"
berth import "$work/rootfs.tar" busybox:latest >/dev/null
podman import -q "$work/rootfs.tar" localhost/busybox:latest >/dev/null
# runc's bundle (and the kernel row's rootfs) on the stores' file system
store_fs=$(findmnt -n -o FSTYPE --target /var/lib/berth)
bundle=$work/bundle
if [ "${BENCH_STORE:-tmpfs}" = ext4 ]; then
    bundle=/var/lib/containers/bench-bundle
    trap 'rm -rf "$work" "$bundle"' EXIT
fi
mkdir -p "$bundle/rootfs"
tar -C "$bundle/rootfs" -xf "$work/rootfs.tar"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["true"]
json.dump(spec, open(path, "w"), indent=1)
PY

podman_cmd="podman --runtime runc run --rm --network none"
podman_cmd+=" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/busybox true"
names=(berth berth-nn podman runc kernel systemd)
cmds=(
    "berth run --rm busybox true"
    "berth run --rm --network none busybox true"
    "$podman_cmd"
    # hyperfine runs each through sh: $$ is a new container id every run
    "runc run --bundle $bundle bench-\$\$"
    "unshare -mpfuin --fork chroot $bundle/rootfs /bin/true"
    "systemd-run --wait --collect -q -p MemoryMax=64M /bin/true"
)

# Each must work once (with its output shown) before it is timed.
for i in "${!cmds[@]}"; do
    sh -c "${cmds[$i]}" || die "${names[$i]} failed: ${cmds[$i]}"
done

hf=(--style basic --warmup 3 --runs "$runs" --export-json "$work/run.json")
for i in "${!cmds[@]}"; do
    hf+=(-n "${names[$i]}" "${cmds[$i]}")
done
# Other work on the machine skews the figures: say how busy it was.
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: hyperfine, $runs runs per command (load average before: $load)" >&2
hyperfine "${hf[@]}" >&2
[ -z "${BERTH_HARNESS_OUT:-}" ] || cp "$work/run.json" "$BERTH_HARNESS_OUT/bench-run.json"

# ------------------------------------------------------------------ the table
echo
echo "berth bench, $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), load before: $load," \
    "stores on $store_fs"
berth_version=$(berth version 2>/dev/null | awk '$1 == "Version:" {print $2; exit}')
echo "  berth ${berth_version:-?} (-O2); $(podman --version); $(runc --version | head -n1)"
echo "  podman: $(podman info --format '{{.Host.CgroupManager}} cgroup manager, {{.Store.GraphDriverName}} storage, {{.Host.EventLogger}} events')"
python3 - "$work/run.json" "${names[@]}" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
names = sys.argv[2:]
ms = lambda s: s * 1000
berth = res["berth"]["median"]
nn = res["berth-nn"]["median"]
print()
print("%-10s %9s %19s %9s %9s %8s %8s" % ("engine", "median", "mean ± sd", "min", "max", "berth/x", "nn/x"))
for n in names:
    r = res[n]
    print("%-10s %6.1f ms %8.1f ± %5.1f ms %6.1f ms %6.1f ms %8.2f %8.2f"
          % (n, ms(r["median"]), ms(r["mean"]), ms(r["stddev"] or 0), ms(r["min"]),
             ms(r["max"]), berth / r["median"], nn / r["median"]))
podman, runc, sysd = res["podman"]["median"], res["runc"]["median"], res["systemd"]["median"]
print()
print("berth/podman = %.2f   berth/runc = %.2f   (podman/berth = %.1fx)"
      % (berth / podman, berth / runc, podman / berth))
met = lambda ok: "MET" if ok else "NOT MET"
print("issue 2:  berth median <= podman median / 4 (%.1f ms): %s" % (ms(podman / 4), met(berth <= podman / 4)))
print("issue 15: berth-nn median <= runc median (%.1f ms): %s" % (ms(runc), met(nn <= runc)))
print("          berth (bridge) within 1.3x of berth-nn (%.2fx): %s" % (berth / nn, met(berth <= 1.3 * nn)))
print("          moonshot: berth-nn within 1.5x of systemd-run (%.2fx): %s" % (nn / sysd, met(nn <= 1.5 * sysd)))
PY
# BENCH_ONLY=run: this table alone (a quick before/after of the run path)
[ "${BENCH_ONLY:-}" != run ] || exit 0

# ------------------------------------- unit start: systemctl start until READY
# Issue 4: a definition container (container@NAME.service, berth's shim
# hands the main PID over and says READY=1) against a podman-run unit of the
# same image as `podman generate systemd --new` writes it (Type=notify,
# --sdnotify=conmon).  The stop before each run is hyperfine's --prepare,
# not timed; SIGKILL keeps it short (sleep as PID 1 ignores SIGTERM).
mkdir -p /etc/berth/containers
printf '%s\n' '[Container]' 'Image=busybox' 'Exec=sleep 100000' '' '[Service]' 'KillSignal=SIGKILL' \
    > /etc/berth/containers/benchu.container
cat > /run/systemd/system/podman-benchu.service <<UNIT
[Service]
Type=notify
NotifyAccess=all
Environment=PODMAN_SYSTEMD_UNIT=%n
ExecStartPre=/bin/rm -f %t/%n.ctr-id
ExecStart=/usr/bin/podman run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm --sdnotify=conmon --replace -d \\
    --name benchu --runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \\
    localhost/busybox sleep 100000
ExecStop=/usr/bin/podman stop --ignore -t 0 --cidfile=%t/%n.ctr-id
ExecStopPost=/usr/bin/podman rm -f --ignore --cidfile=%t/%n.ctr-id
KillMode=mixed
UNIT
systemctl daemon-reload
units=(container@benchu.service podman-benchu.service)
for u in "${units[@]}"; do
    systemctl start "$u" && systemctl stop "$u" || die "$u does not start"
done
uruns=$(( runs < 10 ? runs : 10 ))
hyperfine --style basic --runs "$uruns" --export-json "$work/units.json" \
    --prepare "systemctl stop ${units[0]} ${units[1]}; systemctl reset-failed ${units[0]} ${units[1]} 2>/dev/null; true" \
    -n berth-unit "systemctl start ${units[0]}" -n podman-unit "systemctl start ${units[1]}" >&2
systemctl stop "${units[@]}" || true
python3 - "$work/units.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
b, p = res["berth-unit"]["median"], res["podman-unit"]["median"]
print()
print("systemctl start until READY (median of %d runs)" % len(res["berth-unit"]["times"]))
print("  container@benchu.service (berth)   %7.1f ms" % (b * 1000))
print("  podman-benchu.service (podman run) %7.1f ms" % (p * 1000))
print("  berth/podman = %.2f" % (b / p))
PY

# ------------------------------ light commands: only the libraries they use
# Issue 15: `berth version`, `ps -a`, `images`, `inspect` and the generator
# against /bin/true (hyperfine -N: exec'd directly, no shell), on a store
# with 11 image names and 20 containers.  Target: each within 3 ms of
# /bin/true — what a command costs before it does anything is mostly the
# shared libraries it loads (libcurl, libarchive and libnftables only on
# first use).
for i in $(seq 1 10); do berth tag busybox:latest "bench/light:$i"; done
for i in $(seq 1 20); do berth create --name "bench-light$i" busybox true >/dev/null; done
gen=$(pkg-config --variable=systemdsystemgeneratordir systemd 2>/dev/null || echo /usr/lib/systemd/system-generators)
mkdir -p "$work/gen"
lnames=(true version ps images inspect generator)
lcmds=(/bin/true "berth version" "berth ps -a" "berth images" "berth inspect bench-light1"
    "$gen/berth-generator $work/gen $work/gen $work/gen")
for i in "${!lcmds[@]}"; do
    ${lcmds[$i]} >/dev/null || die "${lnames[$i]} failed: ${lcmds[$i]}"
done
lhf=(-N --style basic --warmup 10 --runs $(( runs * 5 )) --export-json "$work/light.json")
for i in "${!lcmds[@]}"; do
    lhf+=(-n "${lnames[$i]}" "${lcmds[$i]}")
done
hyperfine "${lhf[@]}" >&2
berth rm $(seq -f bench-light%g 1 20) >/dev/null
berth rmi $(seq -f bench/light:%g 1 10) >/dev/null
ldd_count() { ldd "$1" | grep -c '=>' || true; }
python3 - "$work/light.json" "$(ldd_count /usr/bin/berth)" "$(ldd_count "$gen/berth-generator")" \
    "$(ldd_count /usr/libexec/berth/berth-runtime)" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
nb, ng, nr = sys.argv[2:5]
t = res["true"]["median"]
print()
print("light commands against /bin/true (median of %d runs; shared libraries: berth %s, generator %s, runtime %s)"
      % (len(res["true"]["times"]), nb, ng, nr))
print("%-10s %9s %9s %10s %8s  %s" % ("command", "median", "min", "x - true", "x/true", "target: within 3 ms"))
for n in ("true", "version", "ps", "images", "inspect", "generator"):
    r = res[n]
    d = r["median"] - t
    print("%-10s %6.2f ms %6.2f ms %7.2f ms %8.2f  %s" % (n, r["median"] * 1000, r["min"] * 1000, d * 1000,
          r["median"] / t, "" if n == "true" else ("MET" if d <= 0.003 else "NOT MET")))
PY

# ------------------------------------------------ load: MB/s against podman
# Issue 3: `load` of the same docker-archive (busybox + a layer of 4000
# small files and one 20 MB file, made by berth commit + save) by berth and
# by `podman load`; every timed run starts from a store without it (the
# --prepare step, not timed).  Then disk use of ten images that share the
# busybox layer, each with its own 1 MB layer, loaded into an empty store.
berth run --name bench-mkload busybox sh -c '
    mkdir /data; i=0
    while [ $i -lt 4000 ]; do head -c 4096 /dev/urandom > /data/f$i; i=$((i+1)); done
    head -c 20000000 /dev/urandom > /big' >/dev/null
berth commit bench-mkload bench/load:1 >/dev/null
berth rm bench-mkload >/dev/null
berth save -q -o "$work/load.tar" bench/load:1
ten=()
for i in $(seq 1 10); do
    berth run --name "bench-mk$i" busybox sh -c "head -c 1048576 /dev/urandom > /data$i" >/dev/null
    berth commit "bench-mk$i" "bench/ten:$i" >/dev/null
    berth rm "bench-mk$i" >/dev/null
    ten+=("bench/ten:$i")
done
berth save -q -o "$work/ten.tar" "${ten[@]}"
# from here on the stores start empty
berth_empty() { berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true; berth image prune -af >/dev/null; }
berth_empty
podman rmi -af >/dev/null 2>&1 || true
berth load -q -i "$work/load.tar" >/dev/null && podman load -q -i "$work/load.tar" >/dev/null \
    || die "load of $work/load.tar failed"
lruns=$(( runs < 10 ? runs : 10 ))
hyperfine --style basic --runs "$lruns" --export-json "$work/load.json" \
    --prepare "berth image prune -af >/dev/null; podman rmi -af >/dev/null 2>&1; sync; true" \
    -n berth-load "berth load -q -i $work/load.tar" -n podman-load "podman load -q -i $work/load.tar" >&2
# save of the same image by each (issue 15: at least as fast as podman's)
berth load -q -i "$work/load.tar" >/dev/null && podman load -q -i "$work/load.tar" >/dev/null \
    || die "load of $work/load.tar failed"
podman_ref=$(podman images --format '{{.Repository}}:{{.Tag}}' | grep 'bench/load:1$' | head -n1)
[ -n "$podman_ref" ] || die "podman does not list bench/load:1"
hyperfine --style basic --runs "$lruns" --export-json "$work/save.json" \
    --prepare "rm -f $work/save-b.tar $work/save-p.tar" \
    -n berth-save "berth save -o $work/save-b.tar bench/load:1" \
    -n podman-save "podman save -o $work/save-p.tar $podman_ref" >&2
rm -f "$work/save-b.tar" "$work/save-p.tar"
berth_empty
podman rmi -af >/dev/null 2>&1 || true
du_b0=$(du -sxb /var/lib/berth | cut -f1)
du_p0=$(du -sxb /var/lib/containers/storage | cut -f1)
berth load -q -i "$work/ten.tar" >/dev/null
podman load -q -i "$work/ten.tar" >/dev/null
du_b1=$(du -sxb /var/lib/berth | cut -f1)
du_p1=$(du -sxb /var/lib/containers/storage | cut -f1)
python3 - "$work/load.json" "$(stat -c %s "$work/load.tar")" "$(stat -c %s "$work/ten.tar")" \
    "$((du_b1 - du_b0))" "$((du_p1 - du_p0))" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size, ten, db, dp = (int(x) for x in sys.argv[2:6])
b, p = res["berth-load"]["median"], res["podman-load"]["median"]
mb = size / 1e6
print()
print("load of a %.1f MB docker-archive, 2 layers, 4000+ files (median of %d runs)"
      % (mb, len(res["berth-load"]["times"])))
print("  berth load   %7.1f ms  %6.1f MB/s" % (b * 1000, mb / b))
print("  podman load  %7.1f ms  %6.1f MB/s" % (p * 1000, mb / p))
print("  berth/podman = %.2f (time)" % (b / p))
sv = {r["command"]: r for r in json.load(open(sys.argv[1].replace("load.json", "save.json")))["results"]}
bs, ps = sv["berth-save"]["median"], sv["podman-save"]["median"]
print("save of the same image (median of %d runs)" % len(sv["berth-save"]["times"]))
print("  berth save   %7.1f ms  %6.1f MB/s" % (bs * 1000, mb / bs))
print("  podman save  %7.1f ms  %6.1f MB/s" % (ps * 1000, mb / ps))
print("  berth/podman = %.2f (time)" % (bs / ps))
print()
print("disk use of ten images sharing the busybox layer (archive %.1f MB), loaded into empty stores:" % (ten / 1e6))
print("  berth  /var/lib/berth               +%6.1f MB" % (db / 1e6))
print("  podman /var/lib/containers/storage  +%6.1f MB" % (dp / 1e6))
PY

# ------------------------- listings with 200 images and 200 containers
# Issue 15: `images` and `ps -a` still under 20 ms with 200 images (each
# its own one-file layer) and 200 created containers.
berth import "$work/rootfs.tar" busybox:latest >/dev/null
for i in $(seq 1 200); do
    mkdir -p "$work/img$i" && echo "$i" >"$work/img$i/f" && tar -C "$work/img$i" -cf "$work/img$i.tar" .
    berth import "$work/img$i.tar" "bench/many$i:1" >/dev/null
    berth create --name "bench-many$i" busybox true >/dev/null
done
hyperfine -N --style basic --warmup 5 --runs $(( runs * 2 )) --export-json "$work/many.json" \
    -n images "berth images" -n ps-a "berth ps -a" -n inspect "berth inspect bench-many100" >&2
python3 - "$work/many.json" "$(berth images -q | wc -l)" "$(berth ps -aq | wc -l)" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print()
print("with %s images and %s containers (median of %d runs)" % (sys.argv[2], sys.argv[3], len(res["images"]["times"])))
for n in ("images", "ps-a", "inspect"):
    r = res[n]
    print("  %-8s %6.2f ms  (min %5.2f ms)  %s" % (n, r["median"] * 1000, r["min"] * 1000,
          "" if n == "inspect" else ("target under 20 ms: MET" if r["median"] < 0.020 else "target under 20 ms: NOT MET")))
PY
