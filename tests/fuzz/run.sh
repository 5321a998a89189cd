#!/bin/bash
# tests/fuzz/run.sh — run the libFuzzer targets of a build for a fixed time.
#
#   tests/fuzz/run.sh BUILD_DIR [TARGET...]
#
# BUILD_DIR was configured with CC=clang --enable-fuzzing and built; TARGET
# is a name such as fuzz-dockerfile (default: all of them).  Each target
# runs for FUZZ_TIME seconds (default 15) on a copy of its seed corpus,
# tests/fuzz/corpus/NAME/ (the checkout is never written to); the corpus it
# grows, its log and any reproducer go to FUZZ_OUT/TARGET/ (default
# BUILD_DIR/fuzz-out/).
#
# Prints TAP: the plan "1..N", then per target
#   ok 1 fuzz-dockerfile: 3712 exec/s, 210 inputs in the corpus (5 seeds), 0 crashes
# or "not ok" with the sanitizer report and the reproducer's path, to run
# again with `BUILD_DIR/tests/fuzz/TARGET REPRODUCER`.  A crash, a leak, a
# sanitizer report, a timeout (FUZZ_TIMEOUT seconds for one input, default
# 10) or running out of memory fails the target.  The random seed is
# FUZZ_SEED (default 1, so that CI's result is the same on every run of one
# tree and a failure reproduces; FUZZ_SEED=0 picks a new one each time, for
# hunting).  Exit status: 0 only if
# every target passed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
all_targets=(fuzz-dockerfile fuzz-image-ref fuzz-definition fuzz-parse fuzz-dockerignore fuzz-template
    fuzz-registry fuzz-manifest fuzz-seccomp fuzz-idmap fuzz-load fuzz-compose fuzz-pasta)

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd -P) || exit 2
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
budget=${FUZZ_TIME:-15}
out_root=${FUZZ_OUT:-$build/fuzz-out}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "1..${#targets[@]}"
n=0 failed=0
for t in "${targets[@]}"; do
    n=$((n + 1))
    bin=$build/tests/fuzz/$t
    seeds=$repo/tests/fuzz/corpus/${t#fuzz-}
    out=$out_root/$t
    if [ ! -x "$bin" ]; then
        echo "not ok $n $t: $bin was not built (configure CC=clang --enable-fuzzing)"
        failed=$((failed + 1))
        continue
    fi
    rm -rf "$out"
    mkdir -p "$out/corpus" "$out/artifacts"
    nseeds=0
    if [ -d "$seeds" ]; then
        cp -R "$seeds/." "$out/corpus/"
        nseeds=$(find "$seeds" -type f | wc -l)
    fi
    rc=0
    "$bin" -seed="${FUZZ_SEED:-1}" -max_total_time="$budget" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$out/corpus" \
        >"$out/log" 2>&1 </dev/null || rc=$?
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/log" | tail -n1)
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n1)
    corpus=$(find "$out/corpus" -type f | wc -l)
    mapfile -t repro < <(find "$out/artifacts" -type f | sort)
    desc="$t: ${execs:-?} exec/s (${units:-?} runs), $corpus inputs in the corpus ($nseeds seeds), ${#repro[@]} crashes"
    if [ "$rc" -eq 0 ] && [ ${#repro[@]} -eq 0 ] \
            && ! grep -qE '^(==[0-9]+==ERROR: |SUMMARY: )|runtime error: ' "$out/log"; then
        echo "ok $n $desc"
        continue
    fi
    failed=$((failed + 1))
    echo "not ok $n $desc (exit $rc)"
    # The report: from the sanitizer's or libFuzzer's first error line.
    sed -n '/==ERROR: \|runtime error: \|ERROR: libFuzzer\|^SUMMARY: /,$p' "$out/log" \
        | grep -vE '^(0x[0-9a-f]+,)+$|^Base64: |^stat::' | head -n 50 | sed 's/^/#   /'
    echo "#   log: $out/log"
    for r in "${repro[@]}"; do
        echo "#   reproducer: $r (run: $bin $r)"
    done
done
[ "$failed" -eq 0 ]
