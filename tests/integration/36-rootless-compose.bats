#!/usr/bin/env bats
# berth compose as a user (issue 17): a project's definitions, target and
# manifest go to the user's places ($XDG_RUNTIME_DIR, and ~/.config with
# --enable), its units are the user manager's, its network is one of the
# user's bridge networks (berth-netns.service), where the services reach
# each other by name; published ports go through pasta.

load helpers

setup_file() {
    rootless_user_setup
    ensure_user_busybox_image
}

PROJ=/home/berthie/proj

setup() {
    as_user sh -c 'mkdir -p ~/proj && cat > ~/proj/compose.yaml' <<'YEOF'
services:
  web:
    image: busybox
    command: sh -c 'trap "exit 0" TERM; mkdir -p /www && echo compose-web >/www/index.html && httpd -f -h /www & wait'
    ports:
      - "8093:80"
  client:
    image: busybox
    command: sh -c 'trap "exit 0" TERM; wget -qO- http://web/ && echo client-done; sleep 300 & wait'
    depends_on:
      - web
YEOF
}

teardown() {
    local ids
    as_user sh -c 'cd ~/proj && berth compose down' >/dev/null 2>&1 || echo "teardown: compose down failed" >&2
    rm -rf "$PROJ"
    ids=$(as_user berth ps -aq)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || as_user berth rm -f $ids >/dev/null
}

# in_proj CMD...: CMD as the user in ~/proj (words without quotes of their own)
in_proj() {
    as_user sh -c "cd ~/proj && $*"
}

client_done() {
    in_proj berth compose logs client | grep -q client-done
}

@test "rootless compose: up -d runs the project under the user's manager; services reach each other by name; down leaves nothing" {
    run --separate-stderr in_proj berth compose up -d
    assert_success
    run as_user systemctl --user is-active berth-compose-proj.target container@proj-web-1.service berth-netns.service
    assert_output "active
active
active"
    # the user's places, none of root's
    [ -f "/run/user/$ROOTLESS_UID/berth/containers/proj-web-1.container" ]
    [ -f "/run/user/$ROOTLESS_UID/systemd/user/berth-compose-proj.target" ]
    [ -f "/run/user/$ROOTLESS_UID/berth/compose/proj.list" ]
    [ ! -e /run/berth/containers/proj-web-1.container ]
    # the client found web by name; its output is in the user's journal
    wait_until 10 client_done
    run in_proj berth compose logs client
    assert_output_contains compose-web
    run curl -sf http://127.0.0.1:8093/
    assert_output compose-web
    run as_user sh -c "cd ~/proj && berth compose ps --format '{{.Service}} {{.Ports}}'"
    assert_line_matches "^web 0\.0\.0\.0:8093->80/tcp\$"
    # the container's root is the user on the host
    pid=$(as_user berth inspect -f '{{.State.Pid}}' proj-web-1)
    run stat -c %u "/proc/$pid"
    assert_output "$ROOTLESS_UID"

    run --separate-stderr in_proj berth compose down
    assert_success
    run as_user berth ps -aq
    assert_output ""
    run as_user berth network ls --format '{{.Name}}'
    assert_output_not_contains proj_default
    [ ! -e "/run/user/$ROOTLESS_UID/berth/containers/proj-web-1.container" ]
    [ ! -e "/run/user/$ROOTLESS_UID/systemd/user/berth-compose-proj.target" ]
    wait_until 10 sh -c "[ \"\$(runuser -u $ROOTLESS_USER -- env XDG_RUNTIME_DIR=/run/user/$ROOTLESS_UID systemctl --user is-active berth-netns.service)\" = inactive ]"
}

@test "rootless compose: up --enable puts the project under ~/.config, wanted by default.target; down takes it away" {
    run --separate-stderr in_proj berth compose up -d --enable
    assert_success
    [ -f "/home/$ROOTLESS_USER/.config/berth/containers/proj-web-1.container" ]
    run readlink "/home/$ROOTLESS_USER/.config/systemd/user/default.target.wants/berth-compose-proj.target"
    assert_output "/home/$ROOTLESS_USER/.config/systemd/user/berth-compose-proj.target"
    run as_user systemctl --user is-enabled berth-compose-proj.target
    assert_output enabled
    wait_until 10 client_done
    run --separate-stderr in_proj berth compose down
    assert_success
    [ ! -e "/home/$ROOTLESS_USER/.config/berth/containers/proj-web-1.container" ]
    [ ! -e "/home/$ROOTLESS_USER/.config/systemd/user/default.target.wants/berth-compose-proj.target" ]
    run as_user berth ps -aq
    assert_output ""
}
