#!/usr/bin/env bats
# Images move in bounded memory whatever their size (issue 15): load, save,
# import, export, commit and build stream a layer through fixed buffers and never
# hold it whole, so their peak resident size stays far below the layer's.
# GNU time's "Maximum resident set size" of the berth process measures it.

load helpers

# 256 MB of random data in one layer; a command that read a layer into
# memory would need at least that much.
LAYER_MB=256
LIMIT_KB=$((64 * 1024))

setup_file() {
    ensure_busybox_image
    T66=$(mktemp -d /tmp/t66.XXXXXX)
    export T66
}

teardown_file() {
    rm -rf "$T66"
}

teardown() {
    remove_all_containers
    local i
    for i in mem66/big:1 mem66/imported:1 mem66/committed:1 mem66/built:1; do
        if berth image inspect "$i" >/dev/null 2>&1; then
            berth rmi -f "$i" >/dev/null
        fi
    done
}

# peak_kb CMD...: run CMD under GNU time; fail unless it succeeds; print
# its peak resident size in KB.
peak_kb() {
    /usr/bin/time -f 'peak %M' -o "$T66/time" "$@" >"$T66/out" 2>"$T66/err" ||
        { cat "$T66/err" >&2; return 1; }
    sed -n 's/^peak \([0-9]\+\)$/\1/p' "$T66/time"
}

assert_bounded() {
    local what=$1 kb=$2
    [ -n "$kb" ] || _fail "$what: no peak resident size measured"
    [ "$kb" -lt "$LIMIT_KB" ] || _fail "$what: peak resident size ${kb} KB, limit ${LIMIT_KB} KB for a ${LAYER_MB} MB layer"
}

@test "commit, save, load, export and import of a ${LAYER_MB} MB layer stay under 64 MB resident" {
    local name kb
    name=$(unique_name)
    berth run --name "$name" --network none busybox sh -c "head -c $((LAYER_MB * 1048576)) /dev/urandom >/big"

    kb=$(peak_kb berth commit "$name" mem66/committed:1)
    assert_bounded commit "$kb"
    run berth run --rm --network none mem66/committed:1 stat -c %s /big
    assert_success
    assert_output "$((LAYER_MB * 1048576))"

    kb=$(peak_kb berth save -o "$T66/big.tar" mem66/committed:1)
    assert_bounded save "$kb"
    [ "$(stat -c %s "$T66/big.tar")" -gt $((LAYER_MB * 1048576)) ] || _fail "the archive is smaller than its layer"

    berth rmi mem66/committed:1 >/dev/null
    kb=$(peak_kb berth load -i "$T66/big.tar")
    assert_bounded load "$kb"
    run berth run --rm --network none mem66/committed:1 stat -c %s /big
    assert_success
    assert_output "$((LAYER_MB * 1048576))"

    kb=$(peak_kb berth export -o "$T66/fs.tar" "$name")
    assert_bounded export "$kb"
    kb=$(peak_kb berth import "$T66/fs.tar" mem66/imported:1)
    assert_bounded import "$kb"
    run berth run --rm --network none mem66/imported:1 stat -c %s /big
    assert_success
    assert_output "$((LAYER_MB * 1048576))"
}

@test "build with a ${LAYER_MB} MB file in its context (COPY, then a RUN on it) stays under 64 MB resident" {
    local kb
    mkdir -p "$T66/ctx"
    head -c $((LAYER_MB * 1048576)) /dev/urandom >"$T66/ctx/big"
    printf '%s\n' 'FROM busybox' 'COPY big /big' 'RUN stat -c %s /big >/size' >"$T66/ctx/Dockerfile"
    kb=$(peak_kb berth build -q --network none -t mem66/built:1 "$T66/ctx")
    assert_bounded build "$kb"
    run berth run --rm --network none mem66/built:1 cat /size
    assert_success
    assert_output "$((LAYER_MB * 1048576))"
    rm -rf "$T66/ctx"
}
