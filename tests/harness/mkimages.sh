#!/bin/bash
# tests/harness/mkimages.sh — real Debian 12 images for the integration tests.
#
#   tests/harness/mkimages.sh [--cache DIR]          build what is missing
#   tests/harness/mkimages.sh [--cache DIR] --list   print NAME REF OCI_DIR,
#                                                     fail if one is missing
#
# Runs on the HOST, before tests/harness/boot.sh (the harness has no network):
# `mmdebstrap --variant=minbase` makes each root filesystem from the machine's
# own apt sources, and umoci wraps it into an OCI image layout with a config
# like the Docker Hub image's (CMD, ENV PATH). Inside the harness the tests
# copy the layouts with skopeo into a docker-registry on loopback and pull
# them with berth as users do (tests/integration/helpers.bash:
# ensure_seed_images).
#
# The recipes:
#   python    python3, python-is-python3, python3-flask   -> python:3
#   gcc       gcc, libc6-dev                              -> gcc:12
#   bookworm  minbase only (bash, coreutils, apt...)      -> debian:bookworm
#
# Cache (default /var/cache/berth-test, or $BERTH_IMAGE_CACHE): per recipe
# NAME-KEY.tar (the rootfs) and NAME-KEY.oci/ (the layout, tag NAME), where
# KEY is a hash of the recipe, so a changed recipe builds anew and an
# unchanged one is never rebuilt. Everything is written under a temporary
# name and renamed when complete: an interrupted build leaves no truncated
# cache entry. A lock serialises concurrent runs.
set -euo pipefail

die() { echo "mkimages: $*" >&2; exit 1; }
say() { echo "mkimages: $*" >&2; }

cache=${BERTH_IMAGE_CACHE:-/var/cache/berth-test}
list=''
while [ $# -gt 0 ]; do
    case $1 in
        --cache) cache=${2:?--cache needs a dir}; shift 2 ;;
        --list) list=1; shift ;;
        *) die "usage: mkimages.sh [--cache DIR] [--list]" ;;
    esac
done

# Bump when the way images are made changes (not only the package lists).
RECIPE_VERSION=1
SUITE=bookworm
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# NAME|--include list|reference in the test registry|CMD (words)
RECIPES=(
    "python|python3,python-is-python3,python3-flask|python:3|python3"
    "gcc|gcc,libc6-dev|gcc:12|bash"
    "bookworm||debian:bookworm|bash"
)

recipe_key() {
    printf '%s\n' "v$RECIPE_VERSION" "$SUITE" minbase "$1" "$PATH_ENV" LANG=C.UTF-8 \
        | sha256sum | cut -c1-12
}

# ---- --list: what the tests use (never builds: inside the harness there is
# no network, and a missing image must fail loudly, not be skipped)
if [ -n "$list" ]; then
    for r in "${RECIPES[@]}"; do
        IFS='|' read -r name _ ref _ <<<"$r"
        key=$(recipe_key "$r")
        oci=$cache/$name-$key.oci
        [ -f "$oci/index.json" ] || die "missing $oci (run tests/harness/mkimages.sh on the host first)"
        echo "$name $ref $oci"
    done
    exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode)"
for tool in mmdebstrap umoci sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install mmdebstrap umoci)"
done
# The machine's own apt sources (one-line and deb822 files).
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -s "$f" ] && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || die "no apt sources in /etc/apt"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 1800 9 || die "$cache is locked by another run for 30 min"
# Under the lock, a temporary dir is what a killed run left: never a cache entry.
find "$cache" -maxdepth 1 -name '.tmp-*' -exec rm -rf {} +

tmp=''
trap 'if [ -n "$tmp" ]; then rm -rf "$tmp"; fi' EXIT

build_one() {
    local r=$1 name include ref cmd key tar oci t0 args=()
    IFS='|' read -r name include ref cmd <<<"$r"
    key=$(recipe_key "$r")
    tar=$cache/$name-$key.tar
    oci=$cache/$name-$key.oci
    if [ -s "$tar" ] && [ -f "$oci/index.json" ]; then
        say "$name: cached ($tar)"
        return 0
    fi
    tmp=$(mktemp -d "$cache/.tmp-$name.XXXXXX")
    t0=$(date +%s)
    if [ ! -s "$tar" ]; then
        say "$name: mmdebstrap --variant=minbase${include:+ --include=$include} $SUITE"
        [ -z "$include" ] || args+=("--include=$include")
        # stdin from /dev/null: mmdebstrap would read sources from a pipe.
        mmdebstrap --quiet --variant=minbase "${args[@]}" --format=tar \
            "$SUITE" "$tmp/rootfs.tar" "${sources[@]}" </dev/null \
            || die "$name: mmdebstrap failed"
        mv "$tmp/rootfs.tar" "$tar"
    fi
    # The OCI layout: one layer (the rootfs), a config like the Hub image's.
    umoci init --layout "$tmp/layout" >/dev/null
    umoci new --image "$tmp/layout:$name"
    umoci raw add-layer --image "$tmp/layout:$name" \
        --history.created_by "mmdebstrap --variant=minbase${include:+ --include=$include} $SUITE" "$tar"
    local cfg=(--config.env "$PATH_ENV" --config.env LANG=C.UTF-8)
    for w in $cmd; do cfg+=(--config.cmd "$w"); done
    umoci config --image "$tmp/layout:$name" "${cfg[@]}" \
        --history.created_by "CMD [\"$cmd\"]"
    umoci gc --layout "$tmp/layout"
    rm -rf "$oci"
    mv "$tmp/layout" "$oci"
    rm -rf "$tmp"
    tmp=''
    # Entries of older recipes of this image are dead weight now.
    find "$cache" -maxdepth 1 -name "$name-*" ! -name "$name-$key.*" -exec rm -rf {} +
    say "$name: built in $(( $(date +%s) - t0 )) s: $tar ($(du -m "$tar" | cut -f1) MB), $oci ($ref)"
}

for r in "${RECIPES[@]}"; do
    build_one "$r"
done
