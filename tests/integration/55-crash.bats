#!/usr/bin/env bats
# Crash consistency: berth killed with SIGKILL at many points of pull, load,
# import, build, commit, run, rm, rmi and volume rm leaves a store that
# `system check --repair` makes clean, on which every image runs, every
# container starts, and no name, tag or volume is doubled or half-present.
# Then 50 mixed operations (and repairs) at once on a few shared names: all
# finish, and the store is as consistent; and a repair run while berth is
# held mid-way (strace delays a call) leaves the live operation alone.
#
# Each operation first runs whole (it must succeed) under strace, counting
# the system calls that change files, and once timed.  Then it is killed on
# entry to the k-th of each such call (strace injects SIGKILL) and after
# delays spread over its duration (with its helper processes); a kill counts
# only if it landed (berth died of SIGKILL, had not finished first).

load helpers

PORT=5150
REG=127.0.0.1:$PORT
KILLS=22      # kills that must land per operation
WWW_SUMS='cd /www && find . -type f -exec md5sum {} + | sort -k2'

setup_file() {
    ensure_busybox_image
    REG_DIR=$(mktemp -d /tmp/t55.XXXXXX)
    export REG_DIR
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
    reg_config_save
    echo "{ \"insecure-registries\": [\"$REG\"] }" >/etc/berth/config.json
    reg_start plain $PORT
    # Payloads big enough for an operation to take a while: random data
    # (gzip cannot shrink it) in several layers.
    local f=$REG_DIR/fix
    mkdir -p "$f/ctx" "$f/root"
    for n in 1 2 3; do head -c $((6 << 20)) /dev/urandom >"$f/ctx/big$n"; done
    cat >"$f/ctx/Dockerfile" <<'EOF'
FROM busybox:latest
COPY big1 /big1
COPY big2 /big2
RUN echo built >/built
COPY big3 /big3
EOF
    "$REPO/tests/harness/mkbusybox.sh" "$f/busybox.tar" >&2
    tar -xf "$f/busybox.tar" -C "$f/root"
    head -c $((16 << 20)) /dev/urandom >"$f/root/www/big"
    for n in $(seq 200); do echo "$n" >"$f/root/www/f$n"; done
    tar -cf "$f/fat-rootfs.tar" -C "$f/root" .
    # what a volume on /www must hold: a whole copy of the image's /www
    berth import "$f/fat-rootfs.tar" crash/www:1 >&2
    berth run --rm crash/www:1 sh -c "$WWW_SUMS" >"$f/www.sums"
    berth build -q -t crash/fat:1 "$f/ctx" >&2
    berth save -o "$f/fat.tar" crash/fat:1 >&2
    berth push crash/fat:1 "$REG/crash/fat:1" >&2
    berth rmi crash/fat:1 >&2
}

teardown_file() {
    . "$REPO/tests/harness/registry.sh"
    reg_stop_all
    reg_config_restore
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
    reg_rmi_matching '^(crash/|cc/|127\.0\.0\.1:)'
    for v in $(berth volume ls -q | grep -E '^(crashvol|ccvol)'); do berth volume rm -f "$v" >/dev/null 2>&1 || true; done
    rm -rf "$REG_DIR"
}

setup() {
    # shellcheck source=../harness/registry.sh
    . "$REPO/tests/harness/registry.sh"
}

teardown() {
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
}

FIX() { echo "$REG_DIR/fix"; }

# ---- the store is usable: what a user sees after a crash ------------------

# Everything system check may find and --repair removes; anything else it
# prints (an unreadable record...) is left to the user: a failure here.
REPAIRABLE='^(leftover staging entry|unreferenced layer|unreferenced blob|dangling link|incomplete container directory): '

# bad MESSAGE [DETAIL]: say what is wrong (on stderr, shown when the test fails).
bad() {
    printf '%s\n' "$@" >&2
    return 1
}

assert_store_usable() {
    local out st x names tags vols
    out=$(berth system check 2>&1) && st=0 || st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 1 ]; then
        bad "system check: exit $st" "$out"
        return 1
    fi
    if [ "$st" -eq 0 ] && [ -n "$out" ]; then
        bad "system check: exit 0 but it printed" "$out"
        return 1
    fi
    x=$(grep -vE "$REPAIRABLE" <<<"$out" || true)
    if [ -n "$x" ]; then
        bad "system check found what it cannot repair:" "$x"
        return 1
    fi
    out=$(berth system check --repair 2>&1) || { bad "system check --repair failed: $?" "$out"; return 1; }
    out=$(berth system check 2>&1) || { bad "system check after --repair: exit $?" "$out"; return 1; }
    [ -z "$out" ] || { bad "system check after --repair is not clean" "$out"; return 1; }

    # every image runs; every tag is listed once and inspects
    for x in $(berth images -q --no-trunc | sort -u); do
        out=$(timeout 60 berth run --rm "$x" true 2>&1) || { bad "image $x does not run" "$out"; return 1; }
    done
    tags=$(berth images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' || true)
    x=$(sort <<<"$tags" | uniq -d)
    [ -z "$x" ] || { bad "tags listed twice:" "$x"; return 1; }
    for x in $tags; do
        berth image inspect "$x" >/dev/null || { bad "tag $x is listed but does not inspect"; return 1; }
    done

    # every container: one name each, inspects, starts
    out=$(berth ps -a --format '{{.Names}}' 2>&1) || { bad "ps -a failed" "$out"; return 1; }
    names=$out
    x=$(sort <<<"$names" | uniq -d)
    [ -z "$x" ] || { bad "container names listed twice:" "$x"; return 1; }
    for x in $names; do
        st=$(berth inspect -f '{{.State.Status}}' "$x" 2>&1) || { bad "container $x is listed but does not inspect" "$st"; return 1; }
        [ "$st" = running ] && continue
        out=$(timeout 60 berth start "$x" 2>&1) || { bad "container $x ($st) does not start" "$out"; return 1; }
    done

    # every volume: once, inspects, has its data dir
    vols=$(berth volume ls -q)
    x=$(sort <<<"$vols" | uniq -d)
    [ -z "$x" ] || { bad "volumes listed twice:" "$x"; return 1; }
    for x in $vols; do
        berth volume inspect "$x" >/dev/null || { bad "volume $x is listed but does not inspect"; return 1; }
        [ -d "/var/lib/berth/volumes/$x/_data" ] || { bad "volume $x has no _data"; return 1; }
    done
    return 0
}

# ---- killing ---------------------------------------------------------------
#
# Two ways to pick the points: on entry to the k-th call of a system call
# that changes the store (strace injects SIGKILL there, before the call runs:
# every step of a rename dance is hit exactly), and after delays spread over
# the operation's duration (points between system calls, in the midst of a
# download or an unpack).

# The calls that change files, and how many of each are picked at least
# (evenly spaced over how many the operation makes; more of each when it
# makes few kinds, so that KILLS+10 points are tried).
STORE_CALLS="rename renameat renameat2 unlink unlinkat rmdir mkdir mkdirat symlink symlinkat link linkat fsync fdatasync openat write mount umount2"
PER_CALL=4
TIME_KILLS=10

# time_ms CMD...: run CMD (it must succeed), print how long it took in ms.
time_ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >"$BATS_TEST_TMPDIR/timed.out" 2>&1 || { cat "$BATS_TEST_TMPDIR/timed.out" >&2; return 1; }
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# call_counts CMD...: run CMD under strace (it must succeed); print
# "CALL COUNT" for each of STORE_CALLS that its main process made.
call_counts() {
    local log=$BATS_TEST_TMPDIR/calls.log c
    strace -qq -o "$log" -e trace="${STORE_CALLS// /,}" "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/calls.err" ||
        { cat "$BATS_TEST_TMPDIR/calls.err" >&2; return 1; }
    for c in $STORE_CALLS; do
        echo "$c $(grep -c "^$c(" "$log" || true)"
    done
}

# landed STATUS: the process died of SIGKILL (did not finish first).
landed() { [ "$1" -eq 137 ]; }

# kill_at_call CALL K CMD...: SIGKILL CMD on entering its K-th CALL.
kill_at_call() {
    local call=$1 k=$2 st
    shift 2
    strace -qq -o /dev/null -e trace="$call" -e inject="$call":signal=KILL:when="$k" "$@" >/dev/null 2>&1 && st=0 || st=$?
    landed "$st"
}

# kill_after MS CMD...: start CMD, SIGKILL it after MS ms, with the helper
# processes it forked (its process group, as Ctrl-C or an OOM kill of the
# cgroup would).
kill_after() {
    local ms=$1 pid st
    shift
    setsid "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null && st=0 || st=$?
    landed "$st"
}

# crash_rounds PREPARE RESET CMD...: run CMD whole once under strace and
# once timed (after PREPARE, then RESET); then for each kill point:
# PREPARE, kill CMD there, check the store, RESET.  A failed check fails the
# test and names the point.  At least KILLS kills must land.
crash_rounds() {
    local prepare=$1 reset=$2 dur landed=0 rounds=0 call n k i per points=()
    shift 2
    $prepare
    call_counts "$@" >"$BATS_TEST_TMPDIR/counts"
    $reset
    # an operation that makes few calls gets more points of each
    for ((per = PER_CALL; per <= 16 && ${#points[@]} < KILLS + 10; per++)); do
        points=()
        while read -r call n; do
            [ "$n" -gt 0 ] || continue
            for i in $(seq 0 $((per - 1))); do
                k=$((1 + (n - 1) * i / (per - 1)))
                [[ " ${points[*]} " == *" $call:$k "* ]] || points+=("$call:$k")
            done
        done <"$BATS_TEST_TMPDIR/counts"
    done
    $prepare
    dur=$(time_ms "$@")
    $reset
    for i in $(seq 0 $((TIME_KILLS - 1))); do
        points+=("ms:$((dur * (3 + 94 * i / (TIME_KILLS - 1)) / 100))")
    done
    for p in "${points[@]}"; do
        $prepare
        rounds=$((rounds + 1))
        if [[ $p == ms:* ]]; then
            if kill_after "${p#ms:}" "$@"; then landed=$((landed + 1)); fi
        elif kill_at_call "${p%:*}" "${p#*:}" "$@"; then
            landed=$((landed + 1))
        fi
        if ! assert_store_usable || ! ${EXTRA_CHECK:-true}; then
            echo "after a kill at $p (whole: ${dur} ms): berth $*" >&2
            return 1
        fi
        $reset
    done
    echo "# $1 $2: $landed kills landed in $rounds rounds (${dur} ms whole)" >&3
    [ "$landed" -ge "$KILLS" ] || { echo "only $landed of $KILLS kills landed" >&2; return 1; }
    # and the operation still works whole afterwards
    $prepare
    "$@" >/dev/null || { echo "berth $* fails after the crashes" >&2; return 1; }
    assert_store_usable
    $reset
}

nothing() { :; }
rmi_quiet() { berth rmi -f "$@" >/dev/null 2>&1 || true; }
rm_all_containers() {
    local ids
    ids=$(berth ps -aq)
    [ -z "$ids" ] || berth rm -f $ids >/dev/null 2>&1 || true
}
reset_pull() { rmi_quiet "$REG/crash/fat:1"; }
reset_load() { rmi_quiet crash/fat:1; }
reset_import() { rmi_quiet crash/imp:1; }
reset_build() { rm_all_containers; rmi_quiet crash/b:1; berth image prune -f >/dev/null 2>&1 || true; }

@test "pull killed at any point" {
    crash_rounds nothing reset_pull berth pull "$REG/crash/fat:1"
}

@test "load killed at any point" {
    crash_rounds nothing reset_load berth load -i "$(FIX)/fat.tar"
}

@test "import killed at any point" {
    crash_rounds nothing reset_import berth import "$(FIX)/fat-rootfs.tar" crash/imp:1
}

@test "build killed at any point" {
    crash_rounds nothing reset_build berth build --no-cache -t crash/b:1 "$(FIX)/ctx"
}

prepare_commit() {
    [ -n "$(berth ps -aq -f name=crash-commit)" ] && return 0
    berth run --name crash-commit busybox sh -c 'head -c 16000000 /dev/urandom >/big; mkdir /d; for i in $(seq 300); do echo $i >/d/$i; done' >/dev/null
}
reset_commit() { rmi_quiet crash/commit:1; }

@test "commit killed at any point" {
    crash_rounds prepare_commit reset_commit berth commit crash-commit crash/commit:1
    berth rm -f crash-commit >/dev/null
}

reset_run() {
    rm_all_containers
    berth volume rm -f crashvol-run >/dev/null 2>&1 || true
}

# A volume that survived a killed run holds all of the image's /www (a
# copy-up cut short is not taken for a whole one).
www_volume_whole() {
    local out
    [ -d /var/lib/berth/volumes/crashvol-run ] || return 0
    out=$(berth run --rm -v crashvol-run:/www crash/www:1 sh -c "$WWW_SUMS" 2>&1) || { bad "run on the volume" "$out"; return 1; }
    [ "$out" = "$(cat "$(FIX)/www.sums")" ] || bad "the volume holds part of /www:" "$(diff <(echo "$out") "$(FIX)/www.sums")"
}

@test "run killed at any point" {
    EXTRA_CHECK=www_volume_whole crash_rounds nothing reset_run \
        berth run --name crash-run -v crashvol-run:/www crash/www:1 sh -c 'ls /www >/dev/null'
}

prepare_rm() {
    berth run --name crash-rm -v crashvol-rm:/data busybox sh -c 'head -c 16000000 /dev/urandom >/big; mkdir /d; for i in $(seq 300); do echo $i >/d/$i; done' >/dev/null
}
reset_rm() {
    rm_all_containers
    berth volume rm -f crashvol-rm >/dev/null 2>&1 || true
}

@test "rm killed at any point" {
    crash_rounds prepare_rm reset_rm berth rm crash-rm
}

prepare_rmi() { berth import "$(FIX)/fat-rootfs.tar" crash/rmi:1 >/dev/null; }
reset_rmi() { rmi_quiet crash/rmi:1; }

@test "rmi killed at any point" {
    crash_rounds prepare_rmi reset_rmi berth rmi crash/rmi:1
}

prepare_volrm() {
    berth volume create crashvol-rm >/dev/null
    local d=/var/lib/berth/volumes/crashvol-rm/_data
    head -c $((16 << 20)) /dev/urandom >"$d/big"
    mkdir -p "$d/many"
    for i in $(seq 300); do : >"$d/many/$i"; done
}
reset_volrm() { berth volume rm -f crashvol-rm >/dev/null 2>&1 || true; }

@test "volume rm killed at any point" {
    crash_rounds prepare_volrm reset_volrm berth volume rm crashvol-rm
}

# ---- many at once ------------------------------------------------------------

# The 12 kinds of operation of the mixed test, on a few shared names.
mixed_op() {
    case $1 in
    0) berth run --name cc-a -v ccvol-1:/data busybox true ;;
    1) berth run -d --name cc-b -v ccvol-2:/data busybox sleep 3 ;;
    2) berth rm -f cc-a ;;
    3) berth rm -f cc-b ;;
    4) berth tag busybox:latest cc/t:1 ;;
    5) berth rmi cc/t:1 ;;
    6) berth pull "$REG/crash/fat:1" ;;
    7) berth rmi "$REG/crash/fat:1" ;;
    8) berth build -t cc/b:1 "$REG_DIR/fix/ctx2" ;;
    9) berth volume create ccvol-1 ;;
    10) berth volume rm ccvol-1 ;;
    11) berth run --rm -v ccvol-2:/d busybox true ;;
    12) berth system check --repair ;;
    esac
}

# Kinds that must succeed whatever runs beside them: tagging an image that
# stays, creating a volume (an existing one is fine), a repair (it must
# leave live staging alone and find no unreadable record).
MUST_SUCCEED=" 4 9 12 "

@test "50 mixed operations (and repairs) at once on shared names: all finish, the store stays consistent" {
    mkdir -p "$REG_DIR/fix/ctx2"
    printf 'FROM busybox:latest\nRUN echo built >/built\n' >"$REG_DIR/fix/ctx2/Dockerfile"
    local d=$BATS_TEST_TMPDIR/mixed i pids=() st bad_ops=()
    mkdir -p "$d"
    for i in $(seq 0 49); do
        timeout 90 bash -c "$(declare -f mixed_op); REG=$REG REG_DIR=$REG_DIR mixed_op $((i * 5 % 13))" \
            >"$d/$i.out" 2>"$d/$i.err" &
        pids+=($!)
    done
    for i in $(seq 0 49); do
        wait "${pids[$i]}" && st=0 || st=$?
        echo "$st" >"$d/$i.status"
        # 124: still running after 90 s (a deadlock); above 125: died of a
        # signal; otherwise a refusal (a name taken, an image in use) is fine
        # if berth says so, except for the kinds that must succeed
        if [ "$st" -eq 124 ] || [ "$st" -gt 125 ]; then
            bad_ops+=("op $((i * 5 % 13)) (#$i): exit $st: $(cat "$d/$i.err")")
        elif [ "$st" -ne 0 ] && [[ $MUST_SUCCEED == *" $((i * 5 % 13)) "* ]]; then
            bad_ops+=("op $((i * 5 % 13)) (#$i): exit $st: $(cat "$d/$i.err" "$d/$i.out")")
        elif [ "$st" -ne 0 ] && ! grep -q '^berth: ' "$d/$i.err"; then
            bad_ops+=("op $((i * 5 % 13)) (#$i): exit $st without a berth: line: $(cat "$d/$i.err")")
        fi
    done
    [ "${#bad_ops[@]}" -eq 0 ] || { printf '%s\n' "${bad_ops[@]}" >&2; false; }
    echo "# $(grep -lx 0 "$d"/*.status | wc -l) of 50 succeeded" >&3
    berth rm -f cc-b >/dev/null 2>&1 || true
    assert_store_usable
    berth rm -f cc-a cc-b >/dev/null 2>&1 || true
    reg_rmi_matching '^(cc/|127\.0\.0\.1:)'
    for v in ccvol-1 ccvol-2; do berth volume rm -f "$v" >/dev/null 2>&1 || true; done
}

# berth held on entry to its K-th CALL (strace delays it) while `system
# check --repair` runs beside it: the repair must leave its staging alone.
# hold_at CALL K SECONDS CMD...: runs CMD in the background; $held is its pid.
hold_at() {
    local call=$1 k=$2 s=$3
    shift 3
    strace -qq -o /dev/null -e trace="$call" -e inject="$call":delay_enter=$((s * 1000000)):when="$k" "$@" \
        >"$BATS_TEST_TMPDIR/held.out" 2>&1 &
    held=$!
}

# repair_beside_held GLOB: once GLOB (the held berth's staging) exists, a
# repair succeeds, and so does the held berth afterwards.
repair_beside_held() {
    local st
    wait_until 20 compgen -G "$1"
    run berth system check --repair
    assert_success
    wait "$held" && st=0 || st=$?
    [ "$st" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/held.out" >&2; false; }
}

@test "a repair beside a volume create that is staging leaves it alone" {
    hold_at rename 2 2 berth volume create crashvol-held
    # the staged volume is complete, waiting for its rename into place
    repair_beside_held '/var/lib/berth/tmp/*/volume.json'
    run berth volume inspect -f '{{.Name}}' crashvol-held
    assert_output crashvol-held
    [ -d /var/lib/berth/volumes/crashvol-held/_data ]
    berth volume rm crashvol-held >/dev/null
}

@test "a repair beside an rm that is deleting leaves both succeeding" {
    berth run --name held-rm -v crashvol-held:/v busybox sh -c \
        'for d in $(seq 400); do mkdir -p /d$d/x /v/d$d/x; done' >/dev/null
    # held in the midst of deleting the container's directory (renamed into
    # ROOT/tmp first, unlocked: the repair may delete it too): on opening
    # one of its 400 directories
    hold_at openat 300 2 berth rm held-rm
    repair_beside_held '/var/lib/berth/tmp/rm-*'
    run berth ps -aq -f name=held-rm
    assert_output ""
    # and the same for a volume
    hold_at openat 300 2 berth volume rm crashvol-held
    repair_beside_held '/var/lib/berth/tmp/rmvol-*'
    run berth volume ls -q
    assert_output_not_contains crashvol-held
}

@test "a container whose exit is not recorded yet starts again once it is" {
    id=$(berth create --name slowhook busybox sleep 1)
    berth start slowhook >/dev/null
    run berth inspect -f '{{.State.Status}}' slowhook
    assert_output running
    # the unit's stop hook waits for the container's lock: the unit stays
    # deactivating after the process ended, and berth sees the process gone
    flock "/var/lib/berth/containers/$id/lock" sleep 4 &
    holder=$!
    wait_until 20 bash -c '[ "$(systemctl show -P ActiveState berth-slowhook.service)" = deactivating ]'
    first=$(berth inspect -f '{{.State.StartedAt}}' slowhook)
    run berth start slowhook
    assert_success
    wait "$holder"
    # it ran a second time
    wait_until 20 bash -c "[ \"\$(berth inspect -f '{{.State.StartedAt}}' slowhook)\" != '$first' ]"
    berth rm -f slowhook >/dev/null
}
