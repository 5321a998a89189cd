#!/bin/bash
# tests/boot/reboot.sh BUILD_DIR — a container enabled for boot starts at boot,
# with the volume and network definitions it names, and a template's
# DefaultInstance=; a compose project brought up with `berth compose up -d
# --enable` comes back at boot (its target is enabled), and `down` after the
# reboot removes it all; a user's definition under ~/.config/berth/containers
# enabled with `systemctl --user enable` runs at boot, as the user, with no
# login: the user's manager lingers.
#
# Two boots of the throwaway systemd (tests/harness/boot.sh) sharing one
# store, /etc/berth and /etc/systemd/system (--state): the first installs berth, imports busybox
# and writes a definition with [Install] WantedBy=multi-user.target, then
# powers off; the second boots multi-user.target and checks the container is
# running without anyone starting it.  Prints TAP; exit 0 only if all passed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
build=$(cd "${1:?usage: reboot.sh BUILD_DIR}" && pwd -P)
state=$(mktemp -d /var/tmp/berth-reboot.XXXXXX)
trap 'rm -rf "$state"' EXIT
boot=("$repo/tests/harness/boot.sh" -q --state "$state" --bind-rw "$build" --install "$build")

echo "1..3"
# The user of the user's container: the guest's accounts are not kept across
# boots (only /etc/berth, /var/lib/berth and /etc/systemd/system are), so a
# unit made in the first boot, and kept, makes the account again early at
# each boot, before logind looks for lingering users; the home, with the
# user's store and definitions, is in /etc/berth.
user_home=/etc/berth/test-home/berthie
user_unit="[Unit]
Description=the reboot test's user berthie, its home in $user_home
Before=systemd-logind.service systemd-user-sessions.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'id -u berthie >/dev/null 2>&1 || useradd -u 1500 -M -d $user_home -s /bin/bash berthie; \
    grep -q ^berthie: /etc/subuid || usermod --add-subuids 600000-665535 --add-subgids 600000-665535 berthie; \
    mkdir -p /var/lib/systemd/linger && touch /var/lib/systemd/linger/berthie'
[Install]
WantedBy=multi-user.target"
# as_user of tests/integration/helpers.bash
as_user="runuser -u berthie -- env -i HOME=$user_home USER=berthie LOGNAME=berthie PATH=/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/1500"
first=$(cat <<SCRIPT
set -e
tar=\$(mktemp /tmp/rootfs.XXXXXX.tar)
'$repo/tests/harness/mkbusybox.sh' "\$tar" >/dev/null
berth import "\$tar" busybox:latest >/dev/null
mkdir -p /etc/berth/containers
# on the default bridge network, published on the host's port 8082 (which
# also orders it after network-online.target at boot)
printf '%s\n' '[Container]' 'Image=busybox' 'Exec=httpd -f -p 8082 -h /www' 'PublishPort=8082:8082' '' \
    '[Install]' 'WantedBy=multi-user.target' > /etc/berth/containers/atboot.container
# a volume and a network made by their own units before the container
printf '%s\n' '[Volume]' 'VolumeName=bootdata' > /etc/berth/containers/data.volume
printf '%s\n' '[Network]' 'Subnet=10.89.44.0/24' > /etc/berth/containers/app.network
printf '%s\n' '[Container]' 'Image=busybox' 'Volume=data.volume:/data' 'Network=app.network' \
    'Exec=sh -c "date >> /data/boots; sleep 1000 & wait"' '' \
    '[Install]' 'WantedBy=multi-user.target' > /etc/berth/containers/stateful.container
# a template whose default instance starts at boot
printf '%s\n' '[Container]' 'Image=busybox' 'Exec=sh -c "echo instance %i; sleep 1000 & wait"' '' \
    '[Install]' 'WantedBy=multi-user.target' 'DefaultInstance=one' > /etc/berth/containers/worker@.container
# a compose project enabled for boot: a named volume, a dependency first
mkdir -p /etc/berth/bootapp
printf '%s\n' 'services:' '  web:' '    image: busybox' '    command: ["sh", "-c", "date >> /data/boots; sleep 1000 & wait"]' \
    '    volumes: [data:/data]' '    depends_on: [db]' '  db:' '    image: busybox' '    command: ["sleep", "1000"]' \
    'volumes:' '  data:' > /etc/berth/bootapp/compose.yaml
cd /etc/berth/bootapp
berth compose up -d --enable
[ "\$(systemctl is-enabled berth-compose-bootapp.target)" = enabled ]
# a user's definition, enabled for the user's default.target
cat > /etc/systemd/system/berth-test-user.service <<'UNIT'
$user_unit
UNIT
systemctl daemon-reload
systemctl enable --now berth-test-user.service
install -d -m 0755 /etc/berth/test-home
install -d -o berthie -g berthie $user_home
systemctl start user@1500.service
chmod 0644 "\$tar"
$as_user berth import "\$tar" busybox:latest >/dev/null
$as_user berth network create usernet >/dev/null
$as_user sh -c 'mkdir -p ~/.config/berth/containers && printf "%s\n" "[Container]" "Image=busybox" \
    "Exec=sleep 1000" "Network=usernet" > ~/.config/berth/containers/userweb.container'
$as_user systemctl --user daemon-reload
$as_user systemctl --user enable container@userweb.service
SCRIPT
)
if "${boot[@]}" -- bash -c "$first"; then
    echo "ok 1 first boot: berth installed, image imported, definition written"
else
    echo "not ok 1 first boot: berth installed, image imported, definition written"
    echo "not ok 2 second boot: not tried, the first boot failed"
    echo "not ok 3 compose down after the reboot: not tried, the first boot failed"
    exit 1
fi

second=$(cat <<SCRIPT
set -e
for i in \$(seq 50); do
    [ "\$(systemctl is-active container@atboot.service)" = active ] && break
    sleep 0.2
done
systemctl status --no-pager container@atboot.service
wget -qO- http://127.0.0.1:8082/ >/dev/null
berth ps --format '{{.Names}} {{.Unit}}' | grep -qx 'atboot container@atboot.service'
for u in container@stateful.service container@worker@one.service; do
    for i in \$(seq 50); do
        [ "\$(systemctl is-active \$u)" = active ] && break
        sleep 0.2
    done
    systemctl status --no-pager \$u
done
[ "\$(systemctl is-active berth-volume@data.service)" = active ]
[ "\$(systemctl is-active berth-network@app.service)" = active ]
berth volume inspect bootdata >/dev/null
berth network inspect app | grep -q '"Subnet": "10.89.44.0/24"'
berth ps --format '{{.Names}} {{.Unit}}' | grep -qx 'worker-one container@worker@one.service'
# the enabled compose project: its target reached at boot, the services up
for i in \$(seq 50); do
    [ "\$(systemctl is-active berth-compose-bootapp.target)" = active ] && break
    sleep 0.2
done
systemctl status --no-pager berth-compose-bootapp.target
for u in container@bootapp-db-1.service container@bootapp-web-1.service; do
    [ "\$(systemctl is-active \$u)" = active ]
done
cd /etc/berth/bootapp
berth compose ps --format '{{.Name}} {{.Service}}' | sort | tr '\n' ' ' | grep -qx 'bootapp-db-1 db bootapp-web-1 web '
# the volume kept what the first boot wrote
berth exec bootapp-web-1 cat /data/boots | wc -l | grep -qx 2
# the user's container: its lingering manager started it, no one logged in
if loginctl list-sessions --no-legend | grep -q berthie; then exit 1; fi
for i in \$(seq 100); do
    [ "\$($as_user systemctl --user is-active container@userweb.service)" = active ] && break
    sleep 0.2
done
$as_user systemctl --user status --no-pager container@userweb.service
$as_user berth ps --format '{{.Names}}' | grep -qx userweb
pid=\$($as_user berth inspect -f '{{.State.Pid}}' userweb)
[ "\$(awk '/^Uid:/ {print \$2}' /proc/\$pid/status)" = 1500 ]
# on the user's own network: systemd started its namespace's unit first
[ "\$($as_user systemctl --user is-active berth-netns.service)" = active ]
$as_user berth inspect -f '{{.NetworkSettings.Networks.usernet.IPAddress}}' userweb | grep -q '^172\.'
SCRIPT
)
if "${boot[@]}" --target multi-user.target -- bash -c "$second"; then
    echo "ok 2 second boot: the enabled containers and compose project run without anyone starting them, after their volume and network; a user's enabled container too, as the user, on the user's network"
else
    echo "not ok 2 second boot: the enabled containers and compose project run without anyone starting them, after their volume and network; a user's enabled container too, as the user, on the user's network"
    echo "not ok 3 compose down after the reboot: not tried, the second boot failed"
    exit 1
fi

third=$(cat <<SCRIPT
set -e
cd /etc/berth/bootapp
berth compose down -v
[ -z "\$(ls /etc/berth/containers | grep '^bootapp' || :)" ]
[ ! -e /etc/systemd/system/berth-compose-bootapp.target ]
[ ! -e /etc/systemd/system/multi-user.target.wants/berth-compose-bootapp.target ]
[ ! -e /etc/berth/compose/bootapp.list ]
[ -z "\$(berth ps -aq --filter label=com.docker.compose.project=bootapp)" ]
# (set -e does not end the script on a failing '! cmd')
if berth volume inspect bootapp_data >/dev/null 2>&1; then exit 1; fi
if systemctl is-enabled berth-compose-bootapp.target 2>/dev/null; then exit 1; fi
# the definitions that are not the project's are still there
[ -f /etc/berth/containers/atboot.container ]
SCRIPT
)
if "${boot[@]}" --target multi-user.target -- bash -c "$third"; then
    echo "ok 3 compose down after the reboot: the enabled project's files, link, containers and volume are gone"
else
    echo "not ok 3 compose down after the reboot: the enabled project's files, link, containers and volume are gone"
    exit 1
fi
