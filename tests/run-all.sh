#!/bin/bash
# tests/run-all.sh — THE test command: builds berth and runs every test.
#
#   sudo tests/run-all.sh        (as root, on Debian 12; .ci/run execs it)
#
# Stages, each of which can fail without stopping the others:
#   deps        apt-get install of tests/harness/deps.sh's packages
#   build       autoreconf; build/ with --enable-werror, make check (unit
#               tests, check framework)
#   asan        build-asan/ with --enable-sanitizers, make check again
#   distcheck   make distcheck in build/: the tarball has every file the
#               build and the unit tests need, and installs under a prefix
#   valgrind    the unit test binaries test-parse*, test-image, test-archive, test-registry,
#               test-volume, test-idmap, test-overlay, test-secret, test-network, test-spec, test-compose, test-container, test-definition-model,
#               test-dockerfile and test-dockerignore
#               (and $BERTH_VALGRIND_TESTS)
#               under valgrind --leak-check=full, CK_FORK=no
#   fuzz        build-fuzz/ with CC=clang --enable-fuzzing; tests/fuzz/run.sh
#               runs each libFuzzer target for $FUZZ_TIME s (default 15) on
#               a copy of its seed corpus; a crash, leak or sanitizer report
#               fails the target and prints the reproducer
#   images      tests/harness/mkimages.sh: the real Debian 12 images the
#               integration tests pull (mmdebstrap, needs the network; on the
#               host, before the harness boots; cached in /var/cache/berth-test
#               and built only when missing or when their recipe changed)
#   integration tests/integration/*.bats inside a throwaway systemd
#               (tests/harness/boot.sh -> tests/harness/in-systemd.sh)
#   asan-integration
#               the run, relative-path, images, volumes, events, health, registry, network, build, seed
#               and compose bats
#               files again with the ASan/UBSan build (build-asan/)
#   ext4        the run, crash and volume bats files again with the store on
#               ext4 in a loop file (boot.sh --store-fs ext4) instead of
#               tmpfs: what fsync, rename and overlayfs do on a disk
#   boot        tests/boot/reboot.sh: a container enabled for boot runs after
#               a power-off and a second boot on the same store
#
# The last line printed is the tally over all stages:
#   N passed, N failed[, N skipped]
# where a unit test case, a valgrind-checked binary, a fuzz target and a bats
# test each count once per stage that ran them, and a stage that broke before
# it could run its tests (a build error, say) counts as one failure.
# Exit status: 0 only if nothing failed.
#
# Environment: BERTH_SKIP_DEPS=1 skips apt-get; BERTH_STAGES="build
# integration" runs only those stages; BERTH_VALGRIND_TESTS="test-foo
# test-bar" adds unit test binaries to the valgrind stage; JOBS (default 2).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
jobs=${JOBS:-2}
stages=${BERTH_STAGES:-deps build asan distcheck valgrind fuzz images integration asan-integration ext4 boot}
configure_flags=(--enable-werror --prefix=/usr --sysconfdir=/etc --localstatedir=/var)

passed=0 failed=0 skipped=0
report=()          # one summary line per stage, printed at the end

# log TEXT: a stage's heading; its time counts from here (the summary shows it)
log() { printf '\n==== %s\n' "$*"; stage_t0=$(date +%s); }
# stage_result NAME PASSED FAILED [SKIPPED]
stage_result() {
    passed=$((passed + $2)) failed=$((failed + $3)) skipped=$((skipped + ${4:-0}))
    report+=("$(printf '%-16s %4d passed, %4d failed, %4d skipped  (%d s)' "$1" "$2" "$3" "${4:-0}" \
        $(( $(date +%s) - ${stage_t0:-$t_start} )))")
}
stage_broke() {
    echo "run-all: stage $1 FAILED: $2" >&2
    stage_result "$1" 0 1
}
want() { [[ " $stages " == *" $1 "* ]]; }
# tap_result NAME TAP_FILE: count the ok / not ok lines of a TAP file; tests
# of the plan that never reported (the run broke off) count as failed.
tap_result() {
    local ok notok planned unreported
    ok=$(grep -cE '^ok [0-9]+' "$2" || true)
    notok=$(grep -cE '^not ok [0-9]+' "$2" || true)
    planned=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$2" | head -n1)
    unreported=$(( ${planned:-1} - ok - notok ))
    [ "$unreported" -gt 0 ] || unreported=0
    stage_result "$1" "$ok" $((notok + unreported))
}

# The tally is the last line, whatever happens (even an unexpected error).
finish() {
    local rc=$?
    trap - EXIT
    [ "$rc" -eq 0 ] || stage_broke run-all "unexpected error (exit $rc)"
    printf '\n==== summary\n'
    printf '%s\n' "${report[@]}"
    local line="$passed passed, $failed failed"
    [ "$skipped" -eq 0 ] || line+=", $skipped skipped"
    echo "$line"
    [ "$failed" -eq 0 ] && exit 0 || exit 1
}
trap finish EXIT
t_start=$(date +%s)

# unit_counts BUILD_DIR: "PASSED FAILED" over the unit test logs of the last
# `make check` in BUILD_DIR. A check program's log has a line like
# "100%: Checks: 12, Failures: 0, Errors: 0"; a program without one (it
# crashed, or is not a check program) counts once, by its .trs result.
unit_counts() {
    local dir=$1 p=0 f=0 trs log n fl er res
    while IFS= read -r trs; do
        log=${trs%.trs}.log
        res=$(sed -n 's/^:test-result: //p' "$trs" | head -n1)
        if read -r n fl er < <(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log" 2>/dev/null | tail -n1) && [ -n "$n" ]; then
            p=$((p + n - fl - er)) f=$((f + fl + er))
            # Crashed after printing its tally (e.g. a sanitizer at exit).
            [ "$res" != FAIL ] || [ $((fl + er)) -gt 0 ] || f=$((f + 1))
        else
            case $res in PASS|XFAIL) p=$((p + 1)) ;; SKIP) ;; *) f=$((f + 1)) ;; esac
        fi
    done < <(find "$dir" -name '*.trs' -type f 2>/dev/null | sort)
    echo "$p $f"
}

# build_and_check NAME DIR CONFIGURE_FLAGS...: configure, make, make check.
build_and_check() {
    local name=$1 dir=$2 p f check_rc=0
    shift 2
    mkdir -p "$dir"
    find "$dir" -name '*.trs' -delete 2>/dev/null || true
    ( cd "$dir" && "$repo/configure" "$@" >configure.out 2>&1 ) || {
        tail -n 30 "$dir/configure.out"; stage_broke "$name" "configure failed"; return 0; }
    make -C "$dir" -j"$jobs" >"$dir/make.out" 2>&1 || {
        grep -E 'error|Error' "$dir/make.out" | head -n 40; stage_broke "$name" "make failed (log: $dir/make.out)"; return 0; }
    CK_VERBOSITY=normal make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1 || check_rc=$?
    # Show the test summary and the logs of failed unit tests.
    sed -n '/^=====/,$p' "$dir/check.out" | head -n 40
    grep -hE '^(FAIL|ERROR|XPASS):' "$dir/check.out" || true
    if [ -f "$dir/test-suite.log" ] && [ "$check_rc" -ne 0 ]; then
        head -n 150 "$dir/test-suite.log"
    fi
    read -r p f < <(unit_counts "$dir")
    if [ "$check_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        tail -n 30 "$dir/check.out"
        stage_broke "$name" "make check failed before running the tests"
        p=0 f=0
    fi
    stage_result "$name" "$p" "$f"
}

# ---- deps
if want deps; then
    log "deps"
    # shellcheck source=tests/harness/deps.sh
    . "$repo/tests/harness/deps.sh"
    extra=()
    want fuzz && extra=("${BERTH_DEPS_FUZZ[@]}")
    berth_install_deps "${extra[@]}" || stage_broke deps "could not install the packages"
fi

# ---- autotools
built=''
if want build || want asan || want fuzz; then
    log "autoreconf"
    if autoreconf -fi >autoreconf.out 2>&1; then
        built=1
    else
        cat autoreconf.out
        stage_broke autoreconf "autoreconf -fi failed"
    fi
    rm -f autoreconf.out
fi

# ---- build A: warnings are errors, the unit tests
if want build && [ -n "$built" ]; then
    log "build/ (--enable-werror) + make check"
    build_and_check unit build "${configure_flags[@]}"
fi

# ---- build B: the same unit tests under ASan + UBSan
if want asan && [ -n "$built" ]; then
    log "build-asan/ (--enable-sanitizers) + make check"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        build_and_check unit-asan build-asan "${configure_flags[@]}" --enable-sanitizers
fi

# ---- distcheck: the release tarball builds and passes its unit tests
if want distcheck; then
    log "distcheck (make distcheck in build/)"
    if [ ! -f build/Makefile ]; then
        stage_broke distcheck "build/ was not configured"
    elif make -C build -j"$jobs" distcheck >build/distcheck.out 2>&1; then
        stage_result distcheck 1 0
    else
        grep -E 'error|Error|missing|No rule' build/distcheck.out | head -n 30
        stage_broke distcheck "make distcheck failed (log: build/distcheck.out)"
    fi
fi

# ---- valgrind over the parser tests (built in build/ by make check)
if want valgrind; then
    log "valgrind"
    vg_pass=0 vg_fail=0
    mapfile -t vg_bins < <(
        { find build -type f -perm -u+x -name 'test-parse*' ! -name '*.*' 2>/dev/null
          # the reference, tar and JSON parsers of the image store too, and
          # the Dockerfile and .dockerignore parsers
          for t in test-image test-archive test-dockerfile test-dockerignore test-registry test-volume test-idmap test-overlay test-secret test-network test-spec test-compose test-compose-units test-compose-ops test-error test-container test-definition-model test-definition-user test-pasta test-event ${BERTH_VALGRIND_TESTS:-}; do find build -type f -perm -u+x -name "$t" 2>/dev/null; done
        } | sort -u)
    if [ ${#vg_bins[@]} -eq 0 ]; then
        echo "valgrind: no test-parse* binaries in build/ yet"
    fi
    for bin in "${vg_bins[@]}"; do
        if CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
                --log-file="$bin.valgrind.log" "$bin" >"$bin.valgrind.out" 2>&1; then
            echo "valgrind: clean: $bin"
            vg_pass=$((vg_pass + 1))
        else
            echo "valgrind: FAILED: $bin"
            head -n 60 "$bin.valgrind.log" "$bin.valgrind.out"
            vg_fail=$((vg_fail + 1))
        fi
    done
    stage_result valgrind "$vg_pass" "$vg_fail"
fi

# ---- fuzz: the libFuzzer targets of tests/fuzz/, a fixed time each
if want fuzz && [ -n "$built" ]; then
    log "fuzz (build-fuzz/: CC=clang --enable-fuzzing, tests/fuzz/run.sh)"
    mkdir -p build-fuzz
    if ! ( cd build-fuzz && CC=clang "$repo/configure" --enable-fuzzing --prefix=/usr --sysconfdir=/etc \
            --localstatedir=/var >configure.out 2>&1 ); then
        tail -n 30 build-fuzz/configure.out
        stage_broke fuzz "configure --enable-fuzzing failed"
    elif ! make -C build-fuzz -j"$jobs" >build-fuzz/make.out 2>&1; then
        grep -E 'error|Error' build-fuzz/make.out | head -n 40
        stage_broke fuzz "make failed (log: build-fuzz/make.out)"
    else
        fuzz_tap=$repo/build-fuzz/fuzz.tap
        "$repo/tests/fuzz/run.sh" build-fuzz | tee "$fuzz_tap" || true
        tap_result fuzz "$fuzz_tap"
    fi
fi

# ---- real images for the integration tests, made on the host (the harness
# has no network). A failure here is loud: the tests on these images would
# fail for want of them, not be skipped.
if want images; then
    log "images (tests/harness/mkimages.sh, cached in ${BERTH_IMAGE_CACHE:-/var/cache/berth-test})"
    t_img=$(date +%s)
    if "$repo/tests/harness/mkimages.sh"; then
        echo "images: ready in $(( $(date +%s) - t_img )) s"
        stage_result images "$("$repo/tests/harness/mkimages.sh" --list | wc -l)" 0
    else
        stage_broke images "tests/harness/mkimages.sh failed (no network? see above)"
    fi
fi

# ---- integration tests inside a throwaway systemd
# run_integration STAGE BUILD_DIR [BATS_FILES...]: install BUILD_DIR into a
# throwaway systemd, run the bats files there (all without arguments) and
# count the TAP results.
run_integration() {
    local name=$1 dir=$2 out tap int_rc=0 ok skip notok planned unreported
    shift 2
    out=$repo/$dir/harness-out
    rm -rf "$out"
    mkdir -p "$out"
    if [ ! -x "$dir/berth" ]; then
        stage_broke "$name" "$dir/berth was not built"
        return 0
    fi
    timeout -k 30 "${BERTH_INTEGRATION_TIMEOUT:-2400}" \
        "$repo/tests/harness/boot.sh" --out "$out" -- tests/harness/in-systemd.sh "$dir" "$@" \
        || int_rc=$?
    tap=$out/integration.tap
    if [ ! -s "$tap" ]; then
        stage_broke "$name" "no TAP output (harness exited $int_rc)"
        return 0
    fi
    ok=$(grep -cE '^ok [0-9]+' "$tap" || true)
    skip=$(grep -cE '^ok [0-9]+ .*# skip' "$tap" || true)
    notok=$(grep -cE '^not ok [0-9]+' "$tap" || true)
    planned=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$tap" | head -n1)
    # Tests that never reported (bats broke off) count as failed.
    unreported=$(( ${planned:-0} - ok - notok ))
    [ "$unreported" -gt 0 ] || unreported=0
    stage_result "$name" $((ok - skip)) $((notok + unreported)) "$skip"
    if [ "$int_rc" -ne 0 ] && [ "$notok" -eq 0 ] && [ "$unreported" -eq 0 ]; then
        stage_broke "$name" "the harness exited $int_rc"
    fi
}

if want integration; then
    log "integration (tests/integration/*.bats in a throwaway systemd)"
    run_integration integration build
fi

# ---- the store on a disk file system: tmpfs never syncs, ext4 does (and
# overlayfs over ext4 is what a real host has)
if want ext4; then
    log "ext4 (the run, crash and volume bats with the store on ext4)"
    BERTH_HARNESS_STORE_FS=ext4 run_integration ext4 build \
        tests/integration/10-run.bats tests/integration/55-crash.bats tests/integration/75-volumes.bats
fi

# ---- the same, for the commands that parse and write the most, with the
# ASan/UBSan build: a memory error or leak in berth fails these tests
# (LeakSanitizer's report lands in the command's output)
if want asan-integration; then
    log "asan-integration (the ASan/UBSan build on a part of the bats suite)"
    run_integration asan-integration build-asan \
        tests/integration/10-run.bats tests/integration/12-paths.bats tests/integration/60-images.bats tests/integration/75-volumes.bats \
        tests/integration/77-events.bats tests/integration/78-health.bats tests/integration/80-registry.bats \
        tests/integration/85-network.bats tests/integration/90-build.bats tests/integration/95-seeds.bats \
        tests/integration/96-compose.bats tests/integration/98-compose-lifecycle.bats
fi

# ---- boot: a container enabled for boot runs after a reboot (two boots
# sharing the store, see tests/boot/reboot.sh)
if want boot; then
    log "boot (tests/boot/reboot.sh: power off, boot again)"
    if [ ! -x build/berth ]; then
        stage_broke boot "build/berth was not built"
    else
        boot_tap=$repo/build/boot.tap
        timeout -k 30 600 "$repo/tests/boot/reboot.sh" build | tee "$boot_tap" || true
        tap_result boot "$boot_tap"
    fi
fi

echo
echo "run-all: finished in $(( $(date +%s) - t_start )) s"
