#!/bin/bash
# tests/harness/init.sh — PID 1 of the harness' fresh namespaces, before systemd.
#
# Started by boot.sh through `unshare --pid --fork --mount --uts --ipc --net`,
# so this script is PID 1 of a new PID namespace with a private mount
# namespace. It builds a private root and then execs systemd on it:
#
#   tmpfs  $H_WORK/t                 (upper + work dirs of the overlay)
#   overlay $H_WORK/t/root           lowerdir=/ : the host's root, copy-on-write
#     /proc            fresh proc of this PID namespace (/proc/sys read-only
#                      except /proc/sys/net, which belongs to our netns)
#     /dev             private tmpfs with a few host nodes bound in, new devpts,
#                      a /dev/net/tun and /dev/fuse of its own (0666)
#     /sys             fresh sysfs of our netns (read-only) + the host's
#                      /sys/fs/cgroup (systemd manages its own subtree there)
#     /tmp /run        fresh tmpfs (systemd-tmpfiles empties /tmp at boot!)
#     /var/lib/berth   tmpfs, or the --state dir (overlayfs upper dirs
#     /etc/berth       cannot live on an overlayfs; with --state also
#     /etc/systemd/system)
#     $H_BINDS         the checkout and build dirs, at the same paths
#
# The network namespace has lo and an uplink that leads nowhere (uplink0,
# 10.99.0.2/24, default route via 10.99.0.1: what pasta needs; see below).
#
# Nothing here writes to the host: every change to / lands in the tmpfs
# upper dir, which vanishes with the namespace.
#
# Input (environment, set by boot.sh): H_WORK, H_CGROUPS, H_BINDS, H_STATE,
# H_TARGET, H_MACHINE_ID. Output: stdout/stderr are the console log.
set -euo pipefail

die() { echo "harness-init: $*" >&2; exit 1; }
[ "$$" = 1 ] || die "must run as PID 1 of a new PID namespace"
: "${H_WORK:?}" "${H_TARGET:?}" "${H_MACHINE_ID:?}"

# Join the cgroup boot.sh prepared (one cgroup.procs file per hierarchy), so
# the systemd below takes that cgroup as its root and never touches cgroups
# of the host or of another harness running in parallel. "0" = this process.
for procs in ${H_CGROUPS:-}; do
    echo 0 >"$procs" || die "cannot join cgroup $procs"
done

# Nothing we mount may leak back to the host.
mount --make-rprivate /

T=$H_WORK/t
N=$T/root
mkdir -p "$T"
mount -t tmpfs -o mode=0755 berth-harness "$T"
mkdir "$T/upper" "$T/work" "$N"
mount -t overlay -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" berth-harness-root "$N"

# /proc: a fresh one for this PID namespace. Kernel-wide knobs stay
# read-only (systemd-sysctl, binfmt etc. then skip themselves), but
# /proc/sys/net is per network namespace and tests need it (ip_forward).
mount -t proc -o nosuid,nodev,noexec proc "$N/proc"
mount --bind "$N/proc/sys" "$N/proc/sys"
mount -o remount,bind,ro,nosuid,nodev,noexec "$N/proc/sys"
mount --bind "$N/proc/sys/net" "$N/proc/sys/net"
mount -o remount,bind,rw,nosuid,nodev,noexec "$N/proc/sys/net"
if [ -e "$N/proc/sysrq-trigger" ]; then
    mount --bind "$N/proc/sysrq-trigger" "$N/proc/sysrq-trigger"
    mount -o remount,bind,ro "$N/proc/sysrq-trigger"
fi

# /dev: private, so that systemd-tmpfiles-setup-dev & co. cannot chmod/chown
# the host's device nodes and nothing writes to the host's /dev/kmsg.
mount -t tmpfs -o mode=0755,nosuid,size=4m berth-harness-dev "$N/dev"
for node in null zero full random urandom tty; do
    [ -c "/dev/$node" ] || continue
    touch "$N/dev/$node"
    mount --bind "/dev/$node" "$N/dev/$node"
done
mkdir -m 0755 "$N/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$N/dev/pts"
ln -s pts/ptmx "$N/dev/ptmx"
mkdir -m 1777 "$N/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev berth-harness-shm "$N/dev/shm"
ln -s /proc/self/fd "$N/dev/fd"
ln -s /proc/self/fd/0 "$N/dev/stdin"
ln -s /proc/self/fd/1 "$N/dev/stdout"
ln -s /proc/self/fd/2 "$N/dev/stderr"
# /dev/net/tun of the guest's own (not the host's node, which is 0600 with
# no udev to open it up): pasta, a user's container network, makes its tap
# device through it as the user, as on a desktop host.
mkdir -m 0755 "$N/dev/net"
mknod -m 0666 "$N/dev/net/tun" c 10 200
# /dev/fuse of the guest's own, 0666 as Debian's fuse3 package leaves it
# (the host's may be 0600): a user's fuse-overlayfs opens it as the user.
mknod -m 0666 "$N/dev/fuse" c 10 229

# /sys: a fresh sysfs shows only this netns' interfaces; read-only so that
# udev-ish units skip themselves.
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$N/sys"
# The cgroup hierarchies are the host's (systemd manages its own subtree in
# them). On a v1/hybrid host they sit in a tmpfs, which systemd remounts
# read-only and adds directories to: give the guest a tmpfs of its own with
# the host's hierarchies bound in, never the host's tmpfs itself.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    mount --bind /sys/fs/cgroup "$N/sys/fs/cgroup"
else
    mount -t tmpfs -o mode=0755,nosuid,nodev,noexec berth-harness-cgroup "$N/sys/fs/cgroup"
    for entry in /sys/fs/cgroup/*; do
        name=${entry##*/}
        if [ -L "$entry" ]; then                  # cpu -> cpu,cpuacct etc.
            ln -s "$(readlink "$entry")" "$N/sys/fs/cgroup/$name"
        elif mountpoint -q "$entry"; then
            mkdir "$N/sys/fs/cgroup/$name"
            mount --bind "$entry" "$N/sys/fs/cgroup/$name"
        fi
    done
fi

mount -t tmpfs -o mode=1777,nosuid,nodev berth-harness-tmp "$N/tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev berth-harness-run "$N/run"

# A second proc of this PID namespace, without the read-only submounts
# above, in a directory only root may enter: the kernel lets a user
# namespace mount a proc (a rootless container's) only while some proc
# mount is fully visible, as /proc is on a real host.
mkdir -m 0700 "$N/run/berth-harness"
mkdir "$N/run/berth-harness/proc"
mount -t proc -o nosuid,nodev,noexec proc "$N/run/berth-harness/proc"

# The store and the engine config: tmpfs, the persistent --state dir, or
# (--store-fs ext4) ext4 in loop files for the store and podman's storage.
mkdir -p "$N/var/lib/berth" "$N/etc/berth"
if [ -n "${H_STORE_IMGS:-}" ]; then
    mkdir -p "$N/var/lib/containers"
    mount -o loop "${H_STORE_IMGS%%:*}" "$N/var/lib/berth"
    mount -o loop "${H_STORE_IMGS#*:}" "$N/var/lib/containers"
    chmod 0700 "$N/var/lib/berth" "$N/var/lib/containers"
    mount -t tmpfs -o mode=0755 berth-harness-etc "$N/etc/berth"
elif [ -n "${H_STATE:-}" ]; then
    mount --bind "$H_STATE/lib" "$N/var/lib/berth"
    mount --bind "$H_STATE/etc" "$N/etc/berth"
    # /etc/systemd/system too (what `systemctl enable` and `berth compose
    # up --enable` write): the host's on the first boot, then kept
    if [ ! -d "$H_STATE/systemd" ]; then
        mkdir "$H_STATE/systemd.new"
        cp -a "$N/etc/systemd/system/." "$H_STATE/systemd.new/"
        mv "$H_STATE/systemd.new" "$H_STATE/systemd"
    fi
    mount --bind "$H_STATE/systemd" "$N/etc/systemd/system"
else
    mount -t tmpfs -o mode=0700 berth-harness-store "$N/var/lib/berth"
    mount -t tmpfs -o mode=0755 berth-harness-etc "$N/etc/berth"
fi

# The checkout, build and output dirs, at the same absolute paths as on the
# host ("ro:/path" or "rw:/path", parents before children).
while IFS= read -r bind; do
    [ -n "$bind" ] || continue
    mode=${bind%%:*} path=${bind#*:}
    mkdir -p "$N$path"
    mount --bind "$path" "$N$path"
    if [ "$mode" = ro ]; then
        mount -o remount,bind,ro "$N$path"
    fi
done <<<"${H_BINDS:-}"

# ---- configuration of the guest (all of it lands in the overlay's upper dir)
echo "$H_MACHINE_ID" >"$N/etc/machine-id"      # own journal dir, own boot
echo berth-test >"$N/etc/hostname"
echo "# berth test harness: no filesystems to mount" >"$N/etc/fstab"

# Never let tmpfiles empty /tmp (a bind-mounted build dir may live there).
mkdir -p "$N/etc/tmpfiles.d"
echo "d /tmp 1777 root root -" >"$N/etc/tmpfiles.d/tmp.conf"

# A journal without rate limits, so tests can read every line; persistent
# (in the guest's /var/log/journal, on the overlay's tmpfs) as on Debian 12,
# where only that splits a user's entries into a file the user may read
# (`journalctl --user`, a rootless berth's logs).
mkdir -p "$N/etc/systemd/journald.conf.d" "$N/var/log/journal"
cat >"$N/etc/systemd/journald.conf.d/berth-harness.conf" <<'EOF'
[Journal]
Storage=persistent
RateLimitIntervalSec=0
RateLimitBurst=0
EOF

# Units that would touch the host (devices, kernel knobs, clock, disks) or
# only cost boot time. Masked in the overlay's /etc, which beats /usr/lib.
mask=(
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
    systemd-udev-trigger.service systemd-udev-settle.service
    systemd-modules-load.service systemd-sysctl.service systemd-binfmt.service
    proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount
    systemd-timesyncd.service systemd-pstore.service systemd-firstboot.service
    systemd-repart.service systemd-machine-id-commit.service
    systemd-hwdb-update.service systemd-journal-catalog-update.service
    sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
    sys-fs-fuse-connections.mount dev-hugepages.mount
    systemd-tmpfiles-clean.timer systemd-tmpfiles-clean.service
    getty.target console-getty.service
)
# Every timer the host enables (apt-daily, e2scrub_all, fstrim...).
for wants in "$N"/etc/systemd/system/timers.target.wants "$N"/lib/systemd/system/timers.target.wants; do
    [ -d "$wants" ] || continue
    for unit in "$wants"/*; do
        [ -e "$unit" ] || [ -L "$unit" ] || continue
        mask+=("${unit##*/}")
    done
done
for unit in "${mask[@]}"; do
    rm -f "$N/etc/systemd/system/$unit"
    ln -s /dev/null "$N/etc/systemd/system/$unit"
done

# The harness' own small target (boot.sh may ask for another with --target).
mkdir -p "$N/run/systemd/system"
cat >"$N/run/systemd/system/berth-harness.target" <<'EOF'
[Unit]
Description=berth test harness
Requires=basic.target dbus.socket systemd-journald.socket
After=basic.target dbus.socket systemd-journald.socket
AllowIsolate=yes
EOF

# --install BUILD: berth installed into the guest's root before systemd
# starts, so its generator and units are there at boot (the reboot test).
if [ -n "${H_INSTALL:-}" ]; then
    make -s -C "$H_INSTALL" install DESTDIR="$N" >/dev/null
fi

# ---- switch to the private root
cd "$N"
pivot_root . .
umount -l .
cd /

ip link set lo up
# An uplink of the guest's own network namespace (never the host's): pasta
# (a user's container network) copies the address and default route of the
# interface that has the default route, and starts only where there is one.
# It leads nowhere: the peer of the veth pair is in this namespace too, and
# a lookup that would take the default route fails at once (the rules below:
# main without its default route, then unreachable), as when there was no
# route at all -- so nothing waits on a timeout.
ip link add uplink0 type veth peer name uplink1
ip addr add 10.99.0.2/24 dev uplink0
ip link set uplink1 up
ip link set uplink0 up
ip route add default via 10.99.0.1 dev uplink0
ip rule add priority 32000 lookup main suppress_prefixlength 0
ip rule add priority 32001 unreachable

# shellcheck disable=SC2086  # H_SYSTEMD_ARGS: several words on purpose
exec env -i container=berth-test \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /lib/systemd/systemd --system --unit="$H_TARGET" --show-status=no ${H_SYSTEMD_ARGS:-}
