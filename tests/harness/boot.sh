#!/bin/bash
# tests/harness/boot.sh — run a command inside a throwaway systemd.
#
#   tests/harness/boot.sh [OPTIONS] -- CMD [ARGS...]
#
# Boots /lib/systemd/systemd as PID 1 of fresh PID, mount, UTS, IPC and
# network namespaces, on a private copy-on-write root (see init.sh), waits
# until `systemctl is-system-running` says running (or degraded), runs CMD
# inside (as a transient scope, cwd = the checkout) and powers the guest off.
# The exit status is CMD's (or 125 if the guest could not be booted).
# See /work/shared/TESTING.md for why every step is the way it is.
#
# Options:
#   --state DIR    keep /var/lib/berth, /etc/berth and /etc/systemd/system
#                  of the guest in DIR/lib, DIR/etc and DIR/systemd (created
#                  if missing; DIR/systemd from the host's), so that a second
#                  boot with the same DIR sees the same store ("reboot").
#                  DIR must not be on overlayfs (e.g. under /var/tmp).
#   --out DIR      a host dir the guest may write to (bound read-write at the
#                  same path; exported to CMD as BERTH_HARNESS_OUT).
#   --bind DIR     bind another host dir at the same path, read-only
#                  (e.g. a build dir outside the checkout). Repeatable.
#   --bind-rw DIR  the same, read-write. Repeatable.
#   --rw           bind the checkout read-write (default: read-only, so that
#                  nothing inside can damage the host's files).
#   --install BUILD  `make install` BUILD (a configured, built tree, also
#                  given with --bind) into the guest's root before systemd
#                  starts, so berth's generator runs at boot.
#   --target UNIT  boot UNIT instead of the minimal berth-harness.target,
#                  e.g. multi-user.target for boot-time start tests.
#   --store-fs ext4  put the guest's /var/lib/berth (and /var/lib/containers,
#                  for podman in bench/) on ext4 file systems in loop files
#                  on the host's disk, instead of tmpfs: fsync then costs
#                  what it costs on a real machine (issue 15). The files
#                  are sparse (BERTH_HARNESS_STORE_SIZE, default 8G) and go
#                  with the guest. BERTH_HARNESS_STORE_FS=ext4 is the same.
#   --env NAME=VAL pass a variable to CMD. Repeatable. Variables named
#                  BERTH_* and CK_* are passed on as well.
#   -q, --quiet    print nothing of its own unless something goes wrong.
#
# Inside, CMD sees BERTH_HARNESS=1, BERTH_HARNESS_REPO=<checkout> and (with
# --state) BERTH_HARNESS_STATE=DIR. BERTH_HARNESS_BOOT_TIMEOUT (default 60 s)
# bounds the boot; BERTH_HARNESS_CONSOLE=FILE keeps the guest's console log;
# BERTH_HARNESS_SYSTEMD_ARGS adds arguments to systemd (e.g. --log-level=debug).
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 125; }
die() { echo "harness: $*" >&2; exit 125; }
say() { [ -n "$quiet" ] || echo "harness: $*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
orig_args=("$@")
state='' out='' install='' target=berth-harness.target quiet='' checkout_mode=ro store_fs=${BERTH_HARNESS_STORE_FS:-tmpfs}
binds=() envs=()
while [ $# -gt 0 ]; do
    case $1 in
        --state) state=${2:?--state needs a dir}; shift 2 ;;
        --out) out=${2:?--out needs a dir}; shift 2 ;;
        --bind) binds+=("ro:${2:?--bind needs a dir}"); shift 2 ;;
        --bind-rw) binds+=("rw:${2:?--bind-rw needs a dir}"); shift 2 ;;
        --rw) checkout_mode=rw; shift ;;
        --target) target=${2:?--target needs a unit}; shift 2 ;;
        --install) install=${2:?--install needs a build dir}; shift 2 ;;
        --store-fs)
            case ${2:-} in tmpfs | ext4) store_fs=$2 ;; *) die "--store-fs takes tmpfs or ext4" ;; esac
            shift 2 ;;
        --env) [[ ${2:-} == ?*=* ]] || die "--env needs NAME=VALUE"; envs+=("$2"); shift 2 ;;
        -q|--quiet) quiet=1; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        *) usage ;;
    esac
done
[ $# -gt 0 ] || usage

[ "$(id -u)" = 0 ] || die "must run as root (it mounts and creates namespaces)"
for tool in unshare nsenter setpriv mount umount pivot_root ip findmnt; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install util-linux iproute2 mount)"
done
[ -x /lib/systemd/systemd ] || die "/lib/systemd/systemd not found (apt-get install systemd dbus)"

# ---- cgroup: on a host run by systemd, ask it for a delegated scope first
# (re-executing this script inside it), so the guest's systemd gets a subtree
# it may manage. Elsewhere we make our own cgroup below (see cgroup_setup).
host_systemd=''
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
    host_systemd=1
    if [ -z "${BERTH_HARNESS_IN_SCOPE:-}" ]; then
        command -v systemd-run >/dev/null || die "systemd-run not found"
        export BERTH_HARNESS_IN_SCOPE=1
        exec systemd-run --quiet --scope --collect -p Delegate=yes \
            --unit="berth-harness-$$-$RANDOM" -- "$0" "${orig_args[@]}"
    fi
fi
unset BERTH_HARNESS_IN_SCOPE

# ---- paths handed to the guest
abspath() { (cd "$1" && pwd -P); }
bind_list=("$checkout_mode:$repo")
if [ -n "$out" ]; then
    mkdir -p "$out"
    out=$(abspath "$out")
    bind_list+=("rw:$out")
fi
for b in "${binds[@]}"; do
    dir=${b#*:}
    [ -d "$dir" ] || die "no such directory: $dir"
    bind_list+=("${b%%:*}:$(abspath "$dir")")
done
if [ -n "$state" ]; then
    mkdir -p "$state/lib" "$state/etc"
    state=$(abspath "$state")
    fstype=$(stat -f -c %T "$state")
    [ "$fstype" != overlayfs ] || die "--state $state is on overlayfs; use a real filesystem (e.g. /var/tmp)"
fi
# Parents must be bound before their children: sort by path length.
binds_sorted=$(for b in "${bind_list[@]}"; do printf '%s\t%s\n' "${#b}" "$b"; done \
    | sort -n | cut -f2-)

# ---- leftovers of runs that were killed (SIGKILL leaves no time to clean
# up): their work dir holds the pid of a boot.sh that is gone. Remove it and
# its cgroup dirs (named after it), which are empty by then.
reap_stale() {
    local dir pid name
    for dir in "${TMPDIR:-/tmp}"/berth-harness.*; do
        [ -f "$dir/pid" ] || continue
        pid=$(cat "$dir/pid" 2>/dev/null) || continue
        if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
           tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'boot\.sh'; then
            continue                            # still running
        fi
        name=${dir##*/}
        find /sys/fs/cgroup -maxdepth 8 -type d -name "$name" 2>/dev/null | while IFS= read -r cg; do
            # best effort: a cgroup that still has processes stays, and is
            # retried by the next run; a leftover must not fail this one
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
        rm -rf --one-file-system "$dir"
    done
}
reap_stale

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-harness.XXXXXX")
echo $$ >"$work/pid"
machine_id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
upid='' pid1='' cmd_pid='' cgroup_made=()

# ---- cgroup_setup: a cgroup of our own in the hierarchies systemd tracks
# processes with (cgroup2, and v1 name=systemd on hybrid/legacy hosts). The
# guest's systemd takes it as its root and creates init.scope, system.slice...
# below it; v1 controller hierarchies it handles itself under the same path.
cgroup_setup() {
    local mounts base path line mnt
    # Where are the tracking hierarchies mounted?
    mounts=$(findmnt -rn -t cgroup2 -o TARGET; findmnt -rn -t cgroup -o TARGET,OPTIONS \
        | awk '$2 ~ /(^|,)name=systemd(,|$)/ {print $1}')
    [ -n "$mounts" ] || die "no cgroup2 or name=systemd hierarchy mounted"
    if [ -n "$host_systemd" ]; then
        # Our delegated scope: this script moves to scope/supervisor and the
        # guest goes to scope/payload (cgroup2 allows no processes in inner
        # nodes that have controllers enabled).
        base=$(awk -F: '$2 == "name=systemd" || ($1 == "0" && $2 == "") {print $3; exit}' /proc/self/cgroup)
        path=$base/payload
        for mnt in $mounts; do
            mkdir -p "$mnt$base/supervisor" "$mnt$path"
            echo $$ >"$mnt$base/supervisor/cgroup.procs"
            if [ -f "$mnt$base/cgroup.controllers" ]; then
                for c in $(<"$mnt$base/cgroup.controllers"); do
                    # a controller the kernel will not delegate here is just
                    # not available to the guest (its systemd copes)
                    echo "+$c" >"$mnt$base/cgroup.subtree_control" 2>/dev/null || true
                done
            fi
        done
    else
        # No systemd on the host: a fresh cgroup below the deepest one we are
        # in (so that a memory cgroup confining us keeps confining the guest).
        base=$(cut -d: -f3- /proc/self/cgroup | awk '{print length, $0}' | sort -rn | head -n1 | cut -d' ' -f2-)
        path=${base%/}/berth-harness.${work##*.}
    fi
    H_CGROUPS=''
    for mnt in $mounts; do
        # Remember which dirs we create, to remove exactly those afterwards.
        line=$mnt$path
        while [ ! -d "$line" ]; do cgroup_made+=("$line"); line=${line%/*}; done
        mkdir -p "$mnt$path"
        H_CGROUPS+=" $mnt$path/cgroup.procs"
    done
    # The v1 controller hierarchies (hybrid/legacy hosts) need the path too:
    # the guest's systemd creates its units' cgroups below its root there but
    # not the root itself (on a real host it exists), and without them it
    # enforces no limit of that controller (DeviceAllow= needs devices).
    for mnt in $(findmnt -rn -t cgroup -o TARGET); do
        case " $mounts " in *" $mnt "*) continue ;; esac
        line=$mnt$path
        while [ ! -d "$line" ]; do cgroup_made+=("$line"); line=${line%/*}; done
        mkdir -p "$mnt$path" || say "warning: cannot make $mnt$path: the guest gets no such controller"
    done
    cgroup_path=$path
}

# ---- cleanup: the guest gone, remove what we made on the host.
# shellcheck disable=SC2317  # (called by the EXIT trap)
cleanup() {
    local status=$? d mnt
    trap - EXIT INT TERM HUP
    # Teardown, not a check: the guest may already be gone (kill fails) and
    # the waits return the children's own statuses, which the caller's
    # result (status, saved above) must not be replaced by.
    if [ -n "$pid1" ] && kill -0 "$pid1" 2>/dev/null; then
        kill -KILL "$pid1" 2>/dev/null || true
    fi
    if [ -n "$cmd_pid" ]; then wait "$cmd_pid" 2>/dev/null || true; fi
    if [ -n "$upid" ]; then wait "$upid" 2>/dev/null || true; fi
    # The guest's systemd leaves its unit cgroups behind when killed; remove
    # our subtree in every hierarchy (depth first), then the dirs we made.
    if [ -n "${cgroup_path:-}" ]; then
        for mnt in /sys/fs/cgroup /sys/fs/cgroup/*; do
            [ -d "$mnt$cgroup_path" ] || continue
            find "$mnt$cgroup_path" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
        for d in "${cgroup_made[@]}"; do rmdir "$d" 2>/dev/null || true; done
    fi
    # BERTH_HARNESS_CONSOLE=FILE keeps the guest's console output (debugging).
    if [ -n "${BERTH_HARNESS_CONSOLE:-}" ] && [ -f "$work/console.log" ]; then
        cp "$work/console.log" "$BERTH_HARNESS_CONSOLE" || true
    fi
    rm -rf --one-file-system "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM HUP

cgroup_setup

# ---- the store's file systems (--store-fs ext4): loop files in $work, on
# the host's disk; init.sh mounts them in the guest's mount namespace, so
# the loop devices are released when the guest is gone.
store_imgs=''
if [ "$store_fs" = ext4 ]; then
    [ -z "$state" ] || die "--store-fs ext4 and --state do not go together"
    command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found (apt-get install e2fsprogs)"
    for img in store containers; do
        truncate -s "${BERTH_HARNESS_STORE_SIZE:-8G}" "$work/$img.img"
        mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$work/$img.img" ||
            die "mkfs.ext4 $work/$img.img failed"
    done
    store_imgs="$work/store.img:$work/containers.img"
fi

# ---- boot
# Should this script die without cleaning up (SIGKILL), the guest dies too:
# setpriv makes unshare get SIGKILL when we go, and --kill-child passes it
# on to the guest's PID 1, which takes its whole namespace with it.
t0=$(date +%s%N)
H_WORK=$work H_CGROUPS=$H_CGROUPS H_BINDS=$binds_sorted H_STATE=$state \
H_INSTALL=$install H_TARGET=$target H_MACHINE_ID=$machine_id H_STORE_IMGS=$store_imgs H_SYSTEMD_ARGS=${BERTH_HARNESS_SYSTEMD_ARGS:-} \
    setpriv --pdeathsig KILL \
    unshare --pid --fork --kill-child --mount --uts --ipc --net --propagation private \
    "$repo/tests/harness/init.sh" </dev/null >"$work/console.log" 2>&1 &
upid=$!

# The guest's PID 1 is unshare's only child.
for _ in $(seq 100); do
    pid1=$(awk '{print $1}' "/proc/$upid/task/$upid/children" 2>/dev/null) || true
    [ -n "$pid1" ] && break
    kill -0 "$upid" 2>/dev/null || break
    sleep 0.05
done
[ -n "$pid1" ] || { cat "$work/console.log" >&2; die "the namespace did not start"; }

enter() { nsenter -t "$pid1" -m -p -n -u -i -r -w -- "$@"; }

boot_failed() {
    echo "harness: $1; guest console:" >&2
    sed 's/^/  | /' "$work/console.log" >&2
    exit 125
}

# Wait for the system manager to come up and finish booting.
deadline=$(( $(date +%s) + ${BERTH_HARNESS_BOOT_TIMEOUT:-60} ))
sys_state=''
while :; do
    kill -0 "$pid1" 2>/dev/null || boot_failed "the guest died while booting"
    [ "$(date +%s)" -lt "$deadline" ] || boot_failed "the guest did not boot in time (state: ${sys_state:-none})"
    # Only once systemd is PID 1 (not init.sh) and its private socket exists.
    if [ "$(cat "/proc/$pid1/comm" 2>/dev/null)" = systemd ] &&
       [ -S "/proc/$pid1/root/run/systemd/private" ]; then
        sys_state=$(timeout 30 nsenter -t "$pid1" -m -p -n -u -i -r -w -- \
            systemctl is-system-running --wait 2>/dev/null) || true
        case $sys_state in
            running|degraded) break ;;
            maintenance|stopping|offline) boot_failed "the guest is $sys_state" ;;
        esac
    fi
    sleep 0.05
done
t1=$(date +%s%N)
say "systemd up in $(( (t1 - t0) / 1000000 )) ms ($sys_state), pid $pid1"
if [ "$sys_state" = degraded ]; then
    echo "harness: failed units in the guest:" >&2
    enter systemctl --failed --no-legend --plain >&2 || true
fi

# ---- run the command
cmd_env=(
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="${TERM:-dumb}"
    SYSTEMD_PAGER=cat PAGER=cat SYSTEMD_COLORS=0
    BERTH_HARNESS=1 BERTH_HARNESS_REPO="$repo"
)
[ -z "${CI:-}" ] || cmd_env+=(CI="$CI")
[ -z "$out" ] || cmd_env+=(BERTH_HARNESS_OUT="$out")
[ -z "$state" ] || cmd_env+=(BERTH_HARNESS_STATE="$state")
while IFS='=' read -r name _; do
    case $name in BERTH_HARNESS*) ;; BERTH_*|CK_*) cmd_env+=("$name=${!name}") ;; esac
done < <(env)
cmd_env+=("${envs[@]}")

# A transient scope makes CMD a proper unit of the guest's systemd (its own
# cgroup, killed at poweroff) while keeping our stdin/stdout/exit status.
# It runs in the background so that a signal to this script (Ctrl-C, a CI
# timeout) is handled at once: the trap then kills the whole guest.
# (A background job gets /dev/null as stdin unless told otherwise: fd 3.)
{ exec 3<&0; } 2>/dev/null || exec 3</dev/null     # (stdin may be closed)
enter env -i --chdir="$repo" "${cmd_env[@]}" \
    systemd-run --quiet --scope --collect --unit="harness-cmd-$$" -- "$@" <&3 3<&- &
cmd_pid=$!
exec 3<&-
status=0
wait "$cmd_pid" || status=$?

# ---- power off and wait for the namespace to end (kill it if it hangs)
t2=$(date +%s%N)
enter systemctl poweroff --no-block >/dev/null 2>&1 || true
for _ in $(seq 300); do
    kill -0 "$upid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$upid" 2>/dev/null; then
    echo "harness: the guest did not power off in 30 s; killing it" >&2
    kill -KILL "$pid1" 2>/dev/null || true
fi
wait "$upid" 2>/dev/null || true
upid='' pid1=''
say "powered off in $(( ($(date +%s%N) - t2) / 1000000 )) ms; command exited $status"
exit "$status"
