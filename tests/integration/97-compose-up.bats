#!/usr/bin/env bats
# berth compose up -d / down: a project becomes definition files in
# /run/berth/containers and the target berth-compose-PROJECT.target;
# depends_on with service_healthy waits for the dependency's health check
# (Notify=healthy); the services reach each other by container name on
# PROJECT_default; down removes what up made and nothing else, -v the
# named volumes too; bad projects fail in one line, exit 125, writing nothing.

load helpers

setup_file() { ensure_busybox_image; }

setup() {
    D=$(mktemp -d /tmp/t97.XXXXXX)
    mkdir -p "$D/shop/conf"
    echo "from a bind mount" >"$D/shop/conf/motd"
    cat >"$D/shop/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
    init: true
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    volumes:
      - site:/www
      - ./conf:/conf:ro
    environment:
      GREETING: hello world
    depends_on:
      db:
        condition: service_healthy
    restart: on-failure
  db:
    image: busybox
    init: true
    command: ["sh", "-c", "mkdir -p /srv && echo db-ok > /srv/index.html && sleep 2 && exec httpd -f -p 8080 -h /srv"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
volumes:
  site:
YAML
}

teardown() {
    if [ -f /run/berth/compose/shop.list ]; then
        (cd "$D/shop" && berth compose down -v >/dev/null 2>&1) || :
    fi
    if [ -f /run/berth/compose/sec.list ]; then
        (cd "$D/sec" && berth compose down >/dev/null 2>&1) || :
    fi
    rm -rf "$D"
    remove_all_containers
}

# A unit that has stopped (inactive, or failed by the signal that stopped it).
stopped() {
    case $(systemctl is-active "$1") in inactive | failed) return 0 ;; *) return 1 ;; esac
}

@test "compose up -d: services as units of a target, healthy dependency first, names on the project network" {
    cd "$D/shop"
    run berth compose up -d
    assert_success
    [ "$(systemctl is-active container@shop-db-1.service)" = active ]
    [ "$(systemctl is-active container@shop-web-1.service)" = active ]
    [ "$(systemctl is-active berth-compose-shop.target)" = active ]

    # db was healthy (ready) before web started
    run berth inspect -f '{{.State.Health.Status}}' shop-db-1
    assert_output healthy
    db_ready=$(systemctl show -p ActiveEnterTimestampMonotonic --value container@shop-db-1.service)
    web_start=$(systemctl show -p ExecMainStartTimestampMonotonic --value container@shop-web-1.service)
    [ "$db_ready" -gt 0 ] && [ "$web_start" -ge "$db_ready" ] ||
        _fail "web started ($web_start) before db was healthy ($db_ready)"
    [ "$(systemctl show -p Restart --value container@shop-web-1.service)" = on-failure ]

    # the target wants both; compose ps agrees
    run systemctl list-dependencies --plain berth-compose-shop.target
    assert_success
    assert_output_contains container@shop-db-1.service
    assert_output_contains container@shop-web-1.service
    run berth compose ps --format '{{.Name}} {{.Service}}'
    assert_success
    assert_output_contains "shop-db-1 db"
    assert_output_contains "shop-web-1 web"
    run berth inspect -f '{{index .Config.Labels "com.docker.compose.container-number"}} {{.HostConfig.NetworkMode}}' shop-web-1
    assert_output "1 shop_default"

    # named volume, relative bind made absolute, environment
    run berth exec shop-web-1 sh -c 'echo served > /www/index.html; cat /conf/motd; echo "$GREETING"'
    assert_success
    assert_output "from a bind mount
hello world"
    run berth volume inspect -f '{{.Name}}' shop_site
    assert_output shop_site
    # each reaches the other by service and container name on shop_default
    run berth exec shop-web-1 wget -q -O - http://db:8080/
    assert_success
    assert_output db-ok
    run berth exec shop-web-1 wget -q -O - http://shop-db-1:8080/
    assert_success
    assert_output db-ok
    run berth exec shop-web-1 ping -c1 -W2 db
    assert_success
    run berth exec shop-db-1 wget -q -O - http://web/
    assert_success
    assert_output served

    # down: nothing of the project is left but the named volume
    run berth compose down
    assert_success
    assert_no_compose_project shop
    run berth volume inspect shop_site
    assert_success
}

@test "compose up -d SERVICE brings its dependencies; down -v removes the named volume too" {
    cd "$D/shop"
    run berth compose up -d web
    assert_success
    [ "$(systemctl is-active container@shop-db-1.service)" = active ]
    # a second up of a running project changes nothing and succeeds
    id=$(berth inspect -f '{{.State.Pid}}' shop-web-1)
    run berth compose up -d
    assert_success
    [ "$(berth inspect -f '{{.State.Pid}}' shop-web-1)" = "$id" ] || _fail "web was restarted"
    # the target stops and starts the project (PartOf=)
    systemctl stop berth-compose-shop.target
    # systemctl waits for the target's job only; the services' stops follow
    wait_until 20 stopped container@shop-web-1.service
    wait_until 20 stopped container@shop-db-1.service
    systemctl start berth-compose-shop.target
    [ "$(systemctl is-active container@shop-web-1.service)" = active ]
    [ "$(systemctl is-active container@shop-db-1.service)" = active ]
    run berth compose down -v
    assert_success
    assert_output_contains "Volume shop_site  Removed"
    assert_no_compose_project shop
    run berth volume inspect shop_site
    assert_failure
    # a second down has nothing to do
    run berth compose down
    assert_success
}

@test "compose up: unsupported keys, a missing image and a bad --pull fail in one line with 125, writing nothing" {
    cd "$D/shop"
    cp compose.yaml good.yaml
    sed -i 's/^    restart: on-failure$/    restart: on-failure:3/' compose.yaml
    run --separate-stderr berth compose up -d
    assert_status 125
    [ "$stderr" = "berth: service web: restart with a retry count is not supported by compose up yet" ] ||
        _fail "stderr: $stderr"
    assert_no_compose_project shop

    cp good.yaml compose.yaml
    sed -i '0,/image: busybox/s//image: localhost\/nosuchimage:1/' compose.yaml
    run --separate-stderr berth compose up -d
    assert_status 125
    [ "$(echo "$stderr" | grep -c '^berth: ')" -eq 1 ] || _fail "stderr: $stderr"
    assert_no_compose_project shop
    run berth volume inspect shop_site
    assert_failure

    cp good.yaml compose.yaml
    run --separate-stderr berth compose up --pull sometimes -d
    assert_status 125
    [[ "$stderr" == "berth: compose up: --pull must be always, missing or never"* ]] || _fail "stderr: $stderr"
    assert_no_compose_project shop
}

@test "compose up (attached): the services' output with prefixes until Ctrl-C, then they stop" {
    cd "$D/shop"
    sed -i 's/"mkdir -p \/srv \&\& /"echo db says hello \&\& mkdir -p \/srv \&\& /' compose.yaml
    grep -q 'echo db says hello' compose.yaml
    run --separate-stderr timeout --preserve-status -s INT 10 berth compose up
    assert_success
    assert_line_matches '^shop-db-1  \| db says hello$'
    [[ "$stderr" == *"Gracefully stopping..."* ]] || _fail "stderr: $stderr"
    stopped container@shop-db-1.service
    stopped container@shop-web-1.service
    # stopped, not removed: down removes
    run berth ps -a --filter label=com.docker.compose.project=shop --format '{{.Names}}'
    assert_output_contains shop-db-1
    run berth compose down
    assert_success
    assert_no_compose_project shop
}

@test "compose up: a file secret at /run/secrets (read-only), privileged and expose, as Docker Compose makes them" {
    mkdir -p "$D/sec"
    echo "s3cret-value" >"$D/sec/pw.txt"
    cat >"$D/sec/compose.yaml" <<'YAML'
services:
  app:
    image: busybox
    command: ["sleep", "1000"]
    privileged: true
    expose: ["9000"]
    secrets: [pw, {source: pw, target: /etc/pw}]
  plain:
    image: busybox
    command: ["sleep", "1000"]
secrets:
  pw:
    file: ./pw.txt
YAML
    cd "$D/sec"
    run berth compose up -d
    assert_success
    run berth compose exec -T app cat /run/secrets/pw
    assert_success
    assert_output s3cret-value
    run berth compose exec -T app cat /etc/pw
    assert_output s3cret-value
    run berth compose exec -T app sh -c 'echo changed >/run/secrets/pw'
    assert_failure
    assert_equal "$(cat "$D/sec/pw.txt")" s3cret-value
    run berth compose exec -T plain ls /run/secrets
    assert_failure
    run berth inspect -f '{{.HostConfig.Privileged}} {{json .Config.ExposedPorts}}' sec-app-1
    assert_output 'true {"9000/tcp":{}}'
    run berth inspect -f '{{.HostConfig.Privileged}}' sec-plain-1
    assert_output false
    run berth compose down
    assert_success
}
