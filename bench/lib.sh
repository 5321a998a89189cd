# shellcheck shell=bash
# bench/lib.sh — what every bench script shares. Sourced after the script set
# `repo`, `build` (its own build dir under the checkout) and `die`.
#
#   bench_host SCRIPT_NAME ENV_ARGS... -- [BENCH_PACKAGES...]
#       on the host: install the packages, build the checkout with -O2 in
#       $build and stage `make install DESTDIR=$build/stage`, then boot the
#       throwaway systemd of tests/harness (never the host's) and run
#       `bench/SCRIPT_NAME --inside` there, passing each ENV_ARG (NAME=VALUE)
#       into the guest; BENCH_OUT=DIR keeps the guest's output files in DIR;
#       BENCH_STORE=ext4 puts both engines' stores (and runc's bundle) on
#       ext4 in loop files instead of tmpfs.
#       Does not return.
#   bench_guest
#       inside the guest: copy the staged files into /, reload systemd, and
#       mount a tmpfs on /var/lib/containers for podman (overlayfs upper dirs
#       cannot sit on the guest's overlay root).
stage=$build/stage

bench_host() {
    local script=$1 harness=() pkgs=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do harness+=(--env "$1"); shift; done
    [ $# -gt 0 ] && shift
    pkgs=("$@")
    [ "$(id -u)" = 0 ] || die "run as root (sudo bench/$script)"
    # shellcheck source=../tests/harness/deps.sh
    . "$repo/tests/harness/deps.sh"
    berth_install_deps "${pkgs[@]}"
    # Build and stage on the host: the checkout is read-only inside the
    # guest, so `make install` there would fail as soon as a source file is
    # newer than the build. The guest only copies the staged files.
    echo "bench: building $repo in $build" >&2
    (
        cd "$repo"
        [ -x configure ] || autoreconf -fi
        mkdir -p "$build" && cd "$build"
        [ -f Makefile ] || ../configure -q --prefix=/usr --sysconfdir=/etc \
            --localstatedir=/var CFLAGS=-O2
        make -s -j"$(nproc)" >/dev/null
        rm -rf "$stage"
        make -s install DESTDIR="$stage" >/dev/null
    ) || die "the build failed"
    if [ -n "${BENCH_OUT:-}" ]; then
        harness+=(--out "$BENCH_OUT")
    fi
    # BENCH_STORE=ext4: the stores on ext4 in loop files on the disk, where
    # fsync costs what it does on a real machine (default: tmpfs)
    case ${BENCH_STORE:-tmpfs} in
    tmpfs) ;;
    ext4) harness+=(--store-fs ext4 --env BENCH_STORE=ext4) ;;
    *) die "BENCH_STORE must be tmpfs or ext4" ;;
    esac
    exec "$repo/tests/harness/boot.sh" "${harness[@]}" -- "$repo/bench/$script" --inside
}

bench_guest() {
    if [ "${BERTH_HARNESS:-}" != 1 ] || [ "$(cat /proc/1/comm)" != systemd ]; then
        die "--inside runs only in tests/harness/boot.sh"
    fi
    [ -x "$stage/usr/bin/berth" ] || die "no staged build in $stage"
    # (tar, not cp: /lib, /bin... are symlinks into /usr on Debian 12)
    tar -C "$stage" -cf - . | tar -C / -xf - --keep-directory-symlink --no-same-owner
    systemctl daemon-reload
    [ "$(command -v berth)" = /usr/bin/berth ] || die "berth did not land in /usr/bin"
    mkdir -p /var/lib/containers
    # (with BENCH_STORE=ext4 the harness mounted ext4 there already)
    mountpoint -q /var/lib/containers || mount -t tmpfs -o mode=0700 bench-containers /var/lib/containers
}
