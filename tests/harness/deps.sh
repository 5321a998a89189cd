# shellcheck shell=bash disable=SC2034
# tests/harness/deps.sh — the Debian 12 packages berth needs to build and test.
# Sourced by tests/run-all.sh and tests/quickstart.sh:
#
#   . tests/harness/deps.sh && berth_install_deps
#
# Set BERTH_SKIP_DEPS=1 to skip the installation (e.g. offline, no root).

# To build berth (autotools, the libraries configure.ac checks for).
BERTH_DEPS_BUILD=(
    build-essential autoconf automake libtool pkg-config make
    libsystemd-dev libseccomp-dev libcap-dev libarchive-dev libjansson-dev
    libssl-dev libcurl4-openssl-dev libmnl-dev libnftables-dev libyaml-dev
)

# To run it and its tests: the unit test framework and valgrind, the
# throwaway systemd of the harness (systemd, dbus, util-linux for unshare
# and nsenter, iproute2), bats, the busybox test image, the real peers of
# TESTING.md (registry, skopeo, umoci, podman for archive interop), the
# tools tests use to look at what berth did (nft, jq, curl, getfattr,
# getcap...), mmdebstrap for the real Debian images of
# tests/harness/mkimages.sh, runc, podman's runtime here (crun refuses
# the hybrid cgroup layout), fuse-overlayfs (a user's overlay where the
# kernel refuses it, 37-rootless-fuse.bats), and e2fsprogs for the ext4 store of
# `boot.sh --store-fs ext4`, GNU time for the peak memory of 66-memory.bats.
BERTH_DEPS_TEST=(
    check valgrind bats busybox-static
    systemd dbus util-linux mount iproute2 kmod procps
    nftables jq curl wget ca-certificates tar gzip xz-utils zstd
    attr libcap2-bin
    docker-registry skopeo umoci podman
    python3 openssl
    mmdebstrap runc e2fsprogs time
    uidmap passt dbus-user-session fuse-overlayfs fuse3
)

# Only for the fuzz stage (tests/fuzz/): clang and its libFuzzer runtime;
# tests/run-all.sh installs them when it runs that stage.
BERTH_DEPS_FUZZ=(clang libclang-rt-14-dev)

# Only for the benchmarks (bench/), not installed by the test command.
BERTH_DEPS_BENCH=(hyperfine)

# berth_install_deps [EXTRA_PACKAGES...]: install what is missing. Tolerates
# a failing `apt-get update` (stale or offline lists) and fails only if a
# package is still missing afterwards.
berth_install_deps() {
    local pkgs=("${BERTH_DEPS_BUILD[@]}" "${BERTH_DEPS_TEST[@]}" "$@") missing=() p
    if [ -n "${BERTH_SKIP_DEPS:-}" ]; then
        echo "deps: BERTH_SKIP_DEPS set, not installing packages" >&2
        return 0
    fi
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "deps: all ${#pkgs[@]} packages are installed" >&2
        return 0
    fi
    echo "deps: installing ${missing[*]}" >&2
    if [ "$(id -u)" != 0 ]; then
        echo "deps: not root, cannot install: ${missing[*]}" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Another apt may hold the lock for a while (unattended upgrades, a
    # neighbour's install): wait for it, up to 10 minutes, instead of failing.
    apt-get -o DPkg::Lock::Timeout=600 update -q || echo "deps: apt-get update failed; trying the package lists we have" >&2
    apt-get install -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" </dev/null
}
