# shellcheck shell=bash disable=SC2154  # ($status, $output, $lines come from bats' run)
# tests/integration/helpers.bash — loaded by every integration test file:
#
#   load helpers
#   setup_file() { ensure_busybox_image; }
#
# Integration tests run only inside the throwaway systemd of
# tests/harness/boot.sh (tests/run-all.sh arranges that); they never run
# against the host.

if [ "${BERTH_HARNESS:-}" != 1 ] || [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
    echo "helpers.bash: integration tests run only inside tests/harness/boot.sh" >&2
    echo "  e.g. tests/harness/boot.sh -- tests/harness/in-systemd.sh build" >&2
    exit 1
fi

# `run --separate-stderr` and `run -N` need bats >= 1.5.
bats_require_minimum_version 1.5.0

# The checkout (bound at the same path inside the harness).
REPO=${BERTH_HARNESS_REPO:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
export REPO

# ---- images

# Import busybox:latest (a rootfs tarball from Debian's busybox-static, see
# tests/harness/mkbusybox.sh) unless the store has it already. Safe to call
# from every setup_file: a lock serialises concurrent callers.
ensure_busybox_image() {
    (
        flock -w 120 9 || { echo "ensure_busybox_image: lock timeout" >&2; exit 1; }
        if [ -z "$(berth images -q busybox:latest 2>/dev/null)" ]; then
            local tar
            tar=$(mktemp /tmp/busybox-rootfs.XXXXXX.tar)
            "$REPO/tests/harness/mkbusybox.sh" "$tar" >&2 || exit 1
            berth import "$tar" busybox:latest >&2 || { rm -f "$tar"; exit 1; }
            rm -f "$tar"
        fi
        if [ -z "$(berth images -q busybox:latest)" ]; then
            echo "ensure_busybox_image: busybox:latest is missing after the import" >&2
            exit 1
        fi
    ) 9>/run/lock/berth-tests-busybox.lock
}

# Real Debian 12 images (tests/harness/mkimages.sh made them on the host,
# before the harness booted) served by a docker-registry on 127.0.0.1:5000,
# as users meet images: `berth pull localhost:5000/python:3`. Names:
#   localhost:5000/python:3          python3, python-is-python3, flask
#   localhost:5000/gcc:12            gcc, libc6-dev
#   localhost:5000/debian:bookworm   minbase (bash)
# The images go into the registry with skopeo (not berth push), so a pull
# test tests berth alone. The registry runs until the harness powers off;
# /etc/berth/config.json lists it as insecure (merged into what is there).
# Fails loudly when the cache is missing. Safe to call from every setup_file.
SEED_REGISTRY=localhost:5000
SEED_REGISTRY_DIR=/run/berth-seed-registry      # storage, config.yml, log
ensure_seed_images() {
    (
        flock -w 600 9 || { echo "ensure_seed_images: lock timeout" >&2; exit 1; }
        local list name ref oci cfg
        list=$("$REPO/tests/harness/mkimages.sh" --list) || exit 1
        mkdir -p /etc/berth
        cfg=/etc/berth/config.json
        [ -s "$cfg" ] || echo '{}' >"$cfg"
        jq '."insecure-registries" = ((."insecure-registries" // []) + ["localhost:5000", "127.0.0.1:5000"] | unique)' \
            "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg" || exit 1
        if ! curl -sf -o /dev/null http://127.0.0.1:5000/v2/; then
            # A unit of its own: it outlives this bats file and holds none of
            # bats' file descriptors (bats would wait for it to end).
            mkdir -p "$SEED_REGISTRY_DIR/storage"
            printf '%s\n' "version: 0.1" "log:" "  accesslog:" "    disabled: false" \
                "storage:" "  filesystem:" "    rootdirectory: $SEED_REGISTRY_DIR/storage" \
                "  delete:" "    enabled: true" "http:" "  addr: 127.0.0.1:5000" >"$SEED_REGISTRY_DIR/config.yml"
            systemd-run --quiet --unit=berth-seed-registry -p StandardOutput="append:$SEED_REGISTRY_DIR/log" \
                -p StandardError="append:$SEED_REGISTRY_DIR/log" \
                /usr/bin/docker-registry serve "$SEED_REGISTRY_DIR/config.yml" 9>&- || exit 1
            wait_until 10 curl -sf -o /dev/null http://127.0.0.1:5000/v2/ || { cat "$SEED_REGISTRY_DIR/log" >&2; exit 1; }
        fi
        while read -r name ref oci; do
            curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                "http://127.0.0.1:5000/v2/${ref%%:*}/manifests/${ref#*:}" && continue
            skopeo copy -q --dest-tls-verify=false "oci:$oci:$name" "docker://127.0.0.1:5000/$ref" >&2 \
                || { echo "ensure_seed_images: skopeo could not push $oci as $ref" >&2; exit 1; }
        done <<<"$list"
    ) 9>/run/lock/berth-tests-seed-images.lock
}

# A name unique to this test (containers, volumes, units...): PREFIX-N-RANDOM.
unique_name() {
    echo "${1:-t}-${BATS_TEST_NUMBER:-0}-$RANDOM$RANDOM"
}

# ---- asserts on the last `run` ($status, $output, $lines). Each prints
# what it expected and what it got, then fails the test.

_fail() {
    {
        printf '%s\n' "$@"
        echo "-- status: ${status:-?}"
        echo "-- output:"
        printf '%s\n' "${output:-}"
        echo "--"
    } >&2
    return 1
}

assert_status() {
    [ "$status" -eq "$1" ] || _fail "expected exit status $1, got $status"
}

assert_success() {
    [ "$status" -eq 0 ] || _fail "expected success (exit status 0)"
}

assert_failure() {
    [ "$status" -ne 0 ] || _fail "expected a failure (non-zero exit status)"
}

# The whole output equals STR.
assert_output() {
    [ "$output" = "$1" ] || _fail "expected output: $1"
}

assert_output_contains() {
    [[ $output == *"$1"* ]] || _fail "expected output to contain: $1"
}

assert_output_not_contains() {
    [[ $output != *"$1"* ]] || _fail "expected output not to contain: $1"
}

# Some line of the output matches the extended regex RE.
assert_line_matches() {
    local l
    for l in "${lines[@]}"; do
        [[ $l =~ $1 ]] && return 0
    done
    _fail "expected a line matching: $1"
}

# assert_equal ACTUAL EXPECTED
assert_equal() {
    [ "$1" = "$2" ] || {
        printf 'expected: %s\nactual:   %s\n' "$2" "$1" >&2
        return 1
    }
}

# ---- waiting for asynchronous things (journal lines, unit states, ports)

# wait_until SECONDS CMD [ARGS...]: run CMD every 0.1 s until it succeeds;
# fails (and says so) if it never did within SECONDS.
wait_until() {
    local timeout=$1 deadline
    shift
    deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            echo "wait_until: '$*' did not succeed within ${timeout}s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# journal_has JOURNALCTL_MATCHES... -- TEXT: some journal message matching
# the matches (e.g. CONTAINER_NAME=web, -u unit, -t tag) contains TEXT.
# net_diag: what a failed reach through a published port needs to be
# understood afterwards (printed to stderr, which bats shows on failure):
# berth's nftables table, the addresses, routes and the port reservations.
net_diag() {
    {
        echo "---- net_diag"
        nft list table ip berth 2>&1
        ip -4 -o addr show 2>&1
        ip route 2>&1
        cat /run/berth/networks/ports.json 2>&1
        echo
        cat /proc/net/nf_conntrack 2>/dev/null | grep -E 'dport=(80|808[0-9])' | head -n 20
        berth ps -a 2>&1
    } >&2
}

journal_has() {
    local args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    # not grep -q: quitting early would SIGPIPE journalctl, a failure under pipefail
    journalctl --no-pager -o cat "${args[@]}" 2>/dev/null | grep -F -- "$1" >/dev/null
}

# ---- libraries

# `run` CMD with the library SONAME (libcurl.so.4...) replaced by an empty
# file, bound over it in a mount namespace of the command's own: what a
# user meets when a library berth loads on first use is missing.  Skips the
# test when ldconfig does not know SONAME.
without_lib() {
    local soname=$1 lib
    shift
    lib=$(ldconfig -p | awk -v n="$soname" '$1 == n && /x86-64/ {print $NF; exit}')
    # the libraries hidden here are berth's own dependencies (deps.sh): a
    # missing one is a broken setup, not a reason to skip
    [ -n "$lib" ] || { echo "without_lib: ldconfig knows no $soname" >&2; return 1; }
    lib=$(readlink -f "$lib")
    : >"$BATS_TEST_TMPDIR/empty.so"
    run unshare -m sh -c "mount --bind '$BATS_TEST_TMPDIR/empty.so' '$lib' && exec \"\$@\"" sh "$@"
}

# Nothing of compose project $1 is left: no definition file (in /run or
# /etc), target, list or enablement, no container, unit or network.
assert_no_compose_project() {
    local p=$1 left f
    left=$(ls /run/berth/containers/ /etc/berth/containers/ 2>/dev/null | grep "^$p[-_]" || :)
    [ -z "$left" ] || _fail "files left: $left"
    for f in "/run/systemd/system/berth-compose-$p.target" "/etc/systemd/system/berth-compose-$p.target" \
        "/etc/systemd/system/multi-user.target.wants/berth-compose-$p.target" \
        "/run/berth/compose/$p.list" "/etc/berth/compose/$p.list"; do
        [ ! -e "$f" ] && [ ! -L "$f" ] || _fail "left: $f"
    done
    run berth ps -aq --filter "label=com.docker.compose.project=$p"
    assert_success
    [ -z "$output" ] || _fail "containers left: $output"
    left=$(systemctl list-units --all --no-legend --plain "container@$p-*" "berth-network@${p}_*" \
        "berth-volume@${p}_*" "berth-compose-$p.target" | awk '{print $1}')
    [ -z "$left" ] || _fail "units left: $left"
    run berth network inspect "${p}_default"
    assert_failure
}

# Teardown: remove every container, and fail the test when one is left (a
# leftover would change what the next test sees).
remove_all_containers() {
    local ids
    ids=$(berth ps -aq)
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086
        berth rm -f $ids >/dev/null
    fi
    ids=$(berth ps -aq)
    [ -z "$ids" ] || { echo "teardown: containers left: $ids" >&2; return 1; }
}

# Teardown of a test that wrote definition files: stop the template
# instances, forget their failed state (a test may have failed them on
# purpose, and reset-failed exits non-zero for a unit that is not failed
# and no longer loaded), remove the files and reload.
remove_definitions() {
    local name
    for name in "$@"; do
        systemctl stop "container@$name.service"
        # not an assertion: the unit may never have failed
        systemctl reset-failed "container@$name.service" 2>/dev/null || :
        rm -f "/etc/berth/containers/$name.container"
    done
    systemctl daemon-reload
}

# ---- rootless berth: a user made here, with subordinate ids and lingering
# (so the user's systemd manager runs without a login), and its home on a
# tmpfs (an overlay's upper dir cannot be on the guest's overlayfs root).
ROOTLESS_USER=berthie
ROOTLESS_SUB_ADD=600000
# the user's first subordinate range: what container id 1 maps to (useradd
# may have given the user one before ours)
ROOTLESS_SUB=$(awk -F: -v u="$ROOTLESS_USER" '$1 == u { print $2; exit }' /etc/subuid 2>/dev/null)
export ROOTLESS_USER

rootless_user_setup() {
    mountpoint -q /home || mount -t tmpfs -o mode=0755 berth-test-home /home
    if ! id -u "$ROOTLESS_USER" >/dev/null 2>&1; then
        useradd -m -s /bin/bash "$ROOTLESS_USER"
    fi
    local end=$((ROOTLESS_SUB_ADD + 65535))
    grep -q "^$ROOTLESS_USER:$ROOTLESS_SUB_ADD:" /etc/subuid 2>/dev/null ||
        usermod --add-subuids "$ROOTLESS_SUB_ADD-$end" --add-subgids "$ROOTLESS_SUB_ADD-$end" "$ROOTLESS_USER"
    ROOTLESS_UID=$(id -u "$ROOTLESS_USER")
    ROOTLESS_SUB=$(awk -F: -v u="$ROOTLESS_USER" '$1 == u { print $2; exit }' /etc/subuid)
    export ROOTLESS_UID ROOTLESS_SUB
    loginctl enable-linger "$ROOTLESS_USER"
    systemctl start "user@$ROOTLESS_UID.service"
}

# Teardown of a user's tests: the user's containers removed.
remove_user_containers() {
    local ids
    ids=$(as_user berth ps -aq)
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
}

# as_user CMD...: CMD as the user, with a login's environment (no sudo-ish
# leftovers of root's)
as_user() {
    runuser -u "$ROOTLESS_USER" -- env -i HOME="/home/$ROOTLESS_USER" USER="$ROOTLESS_USER" \
        LOGNAME="$ROOTLESS_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        XDG_RUNTIME_DIR="/run/user/$(id -u "$ROOTLESS_USER")" "$@"
}

# The user's busybox:latest, imported as the user from the same tarball.
ensure_user_busybox_image() {
    if [ -z "$(as_user berth images -q busybox:latest 2>/dev/null)" ]; then
        local tar
        tar=$(mktemp /tmp/busybox-rootfs.XXXXXX.tar)
        "$REPO/tests/harness/mkbusybox.sh" "$tar" >&2
        chmod 0644 "$tar"
        as_user berth import "$tar" busybox:latest >&2
        rm -f "$tar"
    fi
    [ -n "$(as_user berth images -q busybox:latest)" ]
}

# guest_server_start IP PORT: an HTTP server of the harness' (the "host" of
# a user's pasta) on IP:PORT, serving /greeting ("hello from the guest");
# guest_server_stop undoes it. For the rootless network tests.
guest_server_start() {
    GUEST_IP=$1 GUEST_PORT=$2
    ip addr add "$GUEST_IP/32" dev lo
    GUEST_WWW=$(mktemp -d)
    echo "hello from the guest" >"$GUEST_WWW/greeting"
    python3 -m http.server --bind "$GUEST_IP" --directory "$GUEST_WWW" "$GUEST_PORT" >/dev/null 2>&1 &
    echo $! >"$BATS_FILE_TMPDIR/server.pid"
    export GUEST_WWW
    wait_until 10 curl -sf "http://$GUEST_IP:$GUEST_PORT/greeting"
}

guest_server_stop() {
    kill "$(cat "$BATS_FILE_TMPDIR/server.pid")"
    ip addr del "$GUEST_IP/32" dev lo
    rm -rf "$GUEST_WWW"
}

# the host's /sys/fs/cgroup is the unified (v2) hierarchy alone
cgroup_is_unified() { [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; }

# UNIT has the accounting berth asks for: CPU, memory and tasks always,
# block I/O only on the unified hierarchy (the only one systemd reads it from)
assert_unit_accounting() {
    local p io=no
    for p in CPUAccounting MemoryAccounting TasksAccounting; do
        [ "$(systemctl show -p $p --value "$1")" = yes ] || _fail "$1: $p is not on"
    done
    cgroup_is_unified && io=yes
    [ "$(systemctl show -p IOAccounting --value "$1")" = $io ] || _fail "$1: IOAccounting is not $io"
}

# PID is in UNIT's cgroup (or below it) for the I/O controller: blkio's
# hierarchy on a cgroup v1 host, io enabled for it on the unified one
assert_in_io_cgroup() {
    local unit=$1 pid=$2 cg
    cg=$(systemctl show -p ControlGroup --value "$unit")
    [ -n "$cg" ] || _fail "$unit has no control group"
    if cgroup_is_unified; then
        [ -e "/sys/fs/cgroup$cg/io.weight" ] || _fail "$unit: no io controller in /sys/fs/cgroup$cg"
        grep -q "^0::$cg" "/proc/$pid/cgroup" || _fail "pid $pid is not in $cg: $(cat /proc/$pid/cgroup)"
    else
        grep -Eq "^[0-9]+:([^:]*,)?blkio(,[^:]*)?:$cg(/|$)" "/proc/$pid/cgroup" ||
            _fail "pid $pid is not in $cg for blkio: $(cat /proc/$pid/cgroup)"
    fi
}
