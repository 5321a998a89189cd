#!/bin/bash
# tests/harness/in-systemd.sh — runs INSIDE the harness' systemd (boot.sh):
# installs the already-built tree, then runs the bats integration tests.
#
#   tests/harness/boot.sh --out OUT -- tests/harness/in-systemd.sh BUILD_DIR [BATS_FILES...]
#
# BUILD_DIR is a configured and built tree (configure --prefix=/usr
# --sysconfdir=/etc --localstatedir=/var). Without BATS_FILES it runs every
# tests/integration/*.bats. The TAP stream goes to stdout and to
# $BERTH_HARNESS_OUT/integration.tap (or BUILD_DIR, or /tmp if that is
# read-only); for each failed test the journal lines logged while it ran
# follow the TAP output. Exit status: 0 only if every test passed.
set -euo pipefail
shopt -s lastpipe   # the TAP-reading loop below runs in this shell

die() { echo "in-systemd: $*" >&2; exit 2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
if [ "${BERTH_HARNESS:-}" != 1 ] || [ "$(cat /proc/1/comm)" != systemd ]; then
    die "runs only inside tests/harness/boot.sh (it installs into /usr and talks to PID 1)"
fi
[ $# -ge 1 ] || die "usage: in-systemd.sh BUILD_DIR [BATS_FILES...]"
build=$(cd "$1" && pwd -P) || die "no build dir $1"
shift
command -v bats >/dev/null || die "bats not found (apt-get install bats)"

# Where the caller can read our results.
out=${BERTH_HARNESS_OUT:-$build}
if ! touch "$out/.write-test" 2>/dev/null; then
    out=/tmp
    echo "in-systemd: $build is read-only; results go to $out (pass boot.sh --out DIR)" >&2
fi
rm -f "$out/.write-test"
tap=$out/integration.tap
: >"$tap"

# ---- install the built tree into the guest's /usr and /etc
echo "# make install from $build"
if ! make -C "$build" install >"$out/install.log" 2>&1; then
    tail -n 40 "$out/install.log" | sed 's/^/#   /'
    die "make install failed (full log: $out/install.log)"
fi
systemctl daemon-reload
if [ "$(command -v berth || true)" != /usr/bin/berth ]; then
    die "berth did not land in /usr/bin (configure with --prefix=/usr)"
fi

# ---- run the tests
if [ $# -gt 0 ]; then
    files=("$@")
else
    files=("$repo"/tests/integration/*.bats)
    [ -e "${files[0]}" ] || die "no tests/integration/*.bats"
fi
# A hung test must not hang the whole run (bats >= 1.7 honours this).
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

# Read bats' TAP as it streams: a test starts when the previous one ended,
# so each result line closes the time window of the test it reports.
# An ASan/UBSan build: sanitizer reports go to files, for every berth
# process (the tests' and the ones systemd starts for units), not into the
# output the tests compare; any error report there fails the run below.
san_dir=''
if grep -q -- '-fsanitize=address' "$build/Makefile" 2>/dev/null; then
    san_dir=/run/berth-sanitizers
    mkdir -p "$san_dir"
    chmod 1777 "$san_dir"
    export ASAN_OPTIONS="log_path=$san_dir/asan" UBSAN_OPTIONS="log_path=$san_dir/ubsan:print_stacktrace=1"
    systemctl set-environment ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS"
    echo "# sanitizer reports go to $san_dir"
fi

failed_names=() failed_since=() failed_until=()
since=$(date +%s.%N)
cd "$repo"
set +e
bats --tap "${files[@]}" 2>&1 | tee -a "$tap" | while IFS= read -r line; do
    printf '%s\n' "$line"
    if [[ $line =~ ^(not\ )?ok\ [0-9]+\ (.*)$ ]]; then
        now=$(date +%s.%N)
        if [ -n "${BASH_REMATCH[1]}" ]; then
            failed_names+=("${BASH_REMATCH[2]}")
            failed_since+=("$since")
            failed_until+=("$now")
        fi
        since=$now
    fi
done
bats_status=${PIPESTATUS[0]}
set -e

# ---- tell what went wrong
for i in "${!failed_names[@]}"; do
    echo "# ---- journal while this test ran: ${failed_names[$i]}"
    journalctl --no-pager -o short-precise \
        --since "@${failed_since[$i]}" --until "@${failed_until[$i]}" 2>&1 \
        | tail -n 80 | sed 's/^/#   /'
done

# (LeakSanitizer's "Unable to get registers from thread" notes are not
# reports: only ERROR lines and UBSan's runtime errors count)
san_errors=0
if [ -n "$san_dir" ]; then
    for f in "$san_dir"/*; do
        [ -e "$f" ] || continue
        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
            san_errors=$((san_errors + 1))
            echo "# ---- sanitizer report $f"
            head -n 40 "$f" | sed 's/^/#   /'
        fi
    done
    if [ "$san_errors" -gt 0 ]; then
        echo "# $san_errors sanitizer report(s) with errors"
        exit 1
    fi
    echo "# sanitizers: $(find "$san_dir" -type f | wc -l) log file(s), no error report"
fi

planned=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$tap" | head -n1)
ran=$(grep -cE '^(not )?ok [0-9]+' "$tap" || true)
if [ -z "$planned" ] || [ "$ran" -lt "$planned" ]; then
    echo "# bats ran $ran of ${planned:-?} planned tests (status $bats_status): it broke off"
    exit 1
fi
if [ "${#failed_names[@]}" -gt 0 ] || [ "$bats_status" -ne 0 ]; then
    echo "# ${#failed_names[@]} of $planned integration tests failed"
    exit 1
fi
exit 0
