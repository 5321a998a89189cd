#!/bin/bash
# tests/layers.sh — the layering of ARCHITECTURE.md, checked (run by make check).
#
# Each folder of src/ is a layer with a rank; a file may include the headers
# of its own folder and of lower ranks only.  A header belongs to the folder
# of the .c file of the same name, or to the folder HEADER_LAYER names below
# (headers of several files, internal headers).  A header this script cannot
# place fails the test, so a new module gets its layer when it lands.
set -euo pipefail
top=${srcdir:-$(dirname "$0")/..}
cd "$top"

declare -A RANK=(
    [base]=0
    [dockerfile]=1 [compose]=1
    [store]=2
    [registry]=3 [network]=3 [systemd]=3
    [runtime]=4
    [container]=5
    [build]=6 [definition]=6
    [cli]=7
    [programs]=8
)

# Headers without a .c of their own name in src/.
declare -A HEADER_LAYER=(
    [error]=base [json-util]=base [template]=base [template-internal]=base
    [archive]=store [archive-internal]=store [archive-util]=store
    [registry]=registry [registry-internal]=registry
    [network-internal]=network
    [caps]=runtime [seccomp]=runtime [security]=runtime [runtime-internal]=runtime
    [container-spec]=container [container-update]=container
    [build-internal]=build
    [dockerfile-internal]=dockerfile
    [compose-internal]=compose
    [definition-internal]=definition
    [cli]=cli
)

layer_of_header() {
    local h=$1 c
    if [ -n "${HEADER_LAYER[$h]:-}" ]; then
        echo "${HEADER_LAYER[$h]}"
        return
    fi
    c=$(find src -name "$h.c" -print -quit)
    if [ -n "$c" ]; then
        basename "$(dirname "$c")"
        return
    fi
    echo "?"
}

fail=0 checked=0
for f in src/*/*.c; do
    dir=$(basename "$(dirname "$f")")
    mine=${RANK[$dir]:-}
    if [ -z "$mine" ]; then
        echo "FAIL: $f: folder src/$dir has no layer (add it to tests/layers.sh and ARCHITECTURE.md)"
        fail=1
        continue
    fi
    for h in $(sed -n 's|^#include "berth/\([a-z0-9-]*\)\.h".*|\1|p' "$f"); do
        checked=$((checked + 1))
        l=$(layer_of_header "$h")
        if [ "$l" = "?" ]; then
            echo "FAIL: $f includes berth/$h.h, which no layer owns (name it in tests/layers.sh)"
            fail=1
        elif [ "$l" != "$dir" ] && [ "${RANK[$l]}" -ge "$mine" ]; then
            echo "FAIL: $f ($dir, rank $mine) includes berth/$h.h ($l, rank ${RANK[$l]}): a layer may use only lower ones"
            fail=1
        fi
    done
done
# Headers too: a header may include headers of its own layer and lower.
for f in include/berth/*.h; do
    h=$(basename "$f" .h)
    dir=$(layer_of_header "$h")
    if [ "$dir" = "?" ]; then
        echo "FAIL: $f: no layer owns it (name it in tests/layers.sh)"
        fail=1
        continue
    fi
    mine=${RANK[$dir]}
    for i in $(sed -n 's|^#include "berth/\([a-z0-9-]*\)\.h".*|\1|p' "$f"); do
        checked=$((checked + 1))
        l=$(layer_of_header "$i")
        if [ "$l" = "?" ] || { [ "$l" != "$dir" ] && [ "${RANK[$l]}" -ge "$mine" ]; }; then
            echo "FAIL: $f ($dir) includes berth/$i.h (${l}): a layer may use only lower ones"
            fail=1
        fi
    done
done
[ "$checked" -gt 100 ] || { echo "FAIL: only $checked includes found: is this the source tree?"; exit 1; }
echo "layers: $checked includes checked"
exit $fail
