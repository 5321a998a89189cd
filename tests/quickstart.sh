#!/bin/bash
# tests/quickstart.sh — install what berth needs, build it, install it, and
# show what it does: import a busybox image, run a container, run a web
# server as a systemd unit, read its logs through berth and journalctl.
#
#   sudo tests/quickstart.sh
#
# On a host run by systemd it installs berth into /usr and runs the demo
# right there. Anywhere else (a container, a CI sandbox) it boots a
# throwaway systemd (tests/harness/boot.sh), installs and runs the demo in
# it, and leaves the host untouched but for the packages and the build/ dir.
# BERTH_SKIP_DEPS=1 skips apt-get.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"

# Commands shown in bold when the output is a terminal.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
# step CMD...: show the command, run it, stop the demo if it fails.
step() {
    say "$*"
    "$@" || { local rc=$?; echo "quickstart: '$*' failed (exit $rc)" >&2; exit "$rc"; }
}

# ---- the demo (on the host, or inside the harness as `quickstart.sh --demo BUILD`)
demo() {
    local build=${1:-} i
    if [ -n "$build" ]; then
        step make -s -C "$build" install
        step systemctl daemon-reload
    fi
    tar=$(mktemp "${TMPDIR:-/tmp}/busybox-rootfs.XXXXXX.tar")   # global: the trap needs it
    trap 'rm -f "$tar"' EXIT

    step "$repo/tests/harness/mkbusybox.sh" "$tar"
    step berth import "$tar" busybox:latest
    step berth images
    step berth run --rm busybox echo hello

    # A web server as a systemd unit, its port published on the host.
    berth rm -f web >/dev/null 2>&1 || true
    step berth run -d --name web -p 8080:8080 busybox httpd -f -v -p 8080 -h /www
    for i in $(seq 50); do
        wget -qO /dev/null http://127.0.0.1:8080/ 2>/dev/null && break
        [ "$i" -lt 50 ] || { echo "quickstart: nothing answers on 127.0.0.1:8080" >&2; exit 1; }
        sleep 0.2
    done
    step wget -qO- http://127.0.0.1:8080/
    step berth ps
    step berth logs web
    step journalctl CONTAINER_NAME=web --no-pager
    step systemctl list-units --no-pager 'berth-web.*'
    step berth rm -f web
    step berth ps -a
    echo
    if [ -n "${BERTH_HARNESS:-}" ]; then
        echo "quickstart: done (in a throwaway systemd, gone now; on a host run by systemd"
        echo "this installs berth into /usr and runs the same demo there)"
    else
        echo "quickstart: done. berth is installed; try: berth run --rm -it busybox sh"
    fi
}

if [ "${1:-}" = --demo ]; then
    shift
    demo "$@"
    exit 0
fi

[ "$(id -u)" = 0 ] || { echo "quickstart: run as root (it installs packages and berth)" >&2; exit 1; }

# ---- packages, build
. "$repo/tests/harness/deps.sh"
step berth_install_deps
step autoreconf -fi
mkdir -p build
( cd build && step ../configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var -q )
step make -s -C build -j"${JOBS:-2}"

# ---- install and demo
if [ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ]; then
    demo build
else
    echo
    echo "quickstart: PID 1 is not systemd here; booting a throwaway systemd for the demo"
    step "$repo/tests/harness/boot.sh" -- tests/quickstart.sh --demo build
fi
