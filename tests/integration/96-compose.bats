#!/usr/bin/env bats
# berth compose config: compose files found from a relative working
# directory or named with -f (twice: merged; - : stdin), .env and
# --env-file interpolation, profiles, Docker's samples printing the model
# `docker compose config` prints, and one-line errors with FILE:LINE and
# exit 125 that create nothing.  (up -d and down: 97-compose-up.bats.)

load helpers

setup() {
    D=$(mktemp -d /tmp/t96.XXXXXX)
}

teardown() {
    rm -rf "$D"
    remove_all_containers
}

@test "compose config: Docker's awesome-compose samples give the canonical model" {
    local s
    for s in flask-redis nginx-flask-mysql wordpress-mysql react-express-mongodb; do
        mkdir -p "$D/$s"
        cp "$REPO/tests/integration/compose/$s/compose.yaml" "$D/$s/"
        cd "$D/$s"
        run --separate-stderr berth compose config
        assert_success
        expected=$(sed "s|DIR|$D/$s|g" "$REPO/tests/integration/compose/$s/expected.yaml")
        [ "$output" = "$expected" ] || _fail "config of $s differs from expected.yaml" \
            "$(diff <(echo "$expected") <(echo "$output"))"
    done
}

@test "compose config from a subdirectory finds the file above, resolves paths against the project" {
    mkdir -p "$D/My App/src/deep"
    cat >"$D/My App/compose.yaml" <<'YAML'
services:
  web:
    build: ./src
    volumes: ["./data:/data", "cache:/cache"]
    ports: ["8080:80"]
volumes:
  cache:
YAML
    cd "$D/My App/src/deep"
    run --separate-stderr berth compose config
    assert_success
    [[ ${lines[0]} == "name: myapp" ]] || _fail "the name is the directory's, normalised"
    assert_output_contains "context: $D/My App/src"
    assert_output_contains "source: $D/My App/data"
    assert_output_contains "name: myapp_cache"
    assert_output_contains "name: myapp_default"
    assert_output_contains 'published: "8080"'

    # a relative -f from elsewhere: the project directory is the file's
    cd "$D"
    run --separate-stderr berth compose -f "My App/compose.yaml" -p other config --services
    assert_success
    assert_output "web"
    run --separate-stderr berth compose -f "My App/compose.yaml" config --volumes
    assert_output "cache"
}

@test "compose -f twice merges by the compose spec's rules; the override file is read next to compose.yaml" {
    cd "$D"
    cat >base.yaml <<'YAML'
services:
  web:
    image: busybox:1
    command: ["sh", "-c", "base"]
    environment: {A: "1", B: "2"}
    ports: ["8080:80"]
    cap_add: [NET_ADMIN]
YAML
    cat >over.yaml <<'YAML'
services:
  web:
    image: busybox:2
    command: sh -c over
    environment: [B=3, C=4]
    ports: ["9090:90"]
    cap_add: [SYS_TIME]
YAML
    run --separate-stderr berth compose -f base.yaml -f over.yaml -p merged config --format json
    assert_success
    echo "$output" >"$D/out.json"
    [ "$(jq -r '.services.web.image' out.json)" = busybox:2 ] || _fail "image overridden"
    [ "$(jq -c '.services.web.command' out.json)" = '["sh","-c","over"]' ] || _fail "command replaced"
    [ "$(jq -c '.services.web.environment' out.json)" = '{"A":"1","B":"3","C":"4"}' ] || _fail "environment merged"
    [ "$(jq -c '[.services.web.ports[].target]' out.json)" = '[80,90]' ] || _fail "ports appended"
    [ "$(jq -c '.services.web.cap_add' out.json)" = '["NET_ADMIN","SYS_TIME"]' ] || _fail "cap_add appended"

    cp base.yaml compose.yaml
    printf 'services:\n  web:\n    image: from-override\n' >compose.override.yaml
    run --separate-stderr berth compose config
    assert_success
    assert_output_contains "image: from-override"
}

@test "compose config interpolates from the environment over .env, and --env-file" {
    cd "$D"
    cat >compose.yaml <<'YAML'
name: ${PROJ:-interp}
services:
  web:
    image: "busybox:${TAG}"
    environment:
      GREETING: ${GREETING:-hello}
      LITERAL: $$HOME
      ALT: ${TAG:+tagged}
      DERIVED: ${DERIVED}
YAML
    printf 'TAG=from-dotenv\nGREETING="hi there" # comment\nDERIVED=${TAG}-derived\n' >.env
    run --separate-stderr berth compose config
    assert_success
    assert_output_contains "name: interp"
    assert_output_contains "image: busybox:from-dotenv"
    assert_output_contains "GREETING: hi there"
    assert_output_contains 'LITERAL: $HOME'
    assert_output_contains "ALT: tagged"
    assert_output_contains "DERIVED: from-dotenv-derived"
    TAG=from-env run --separate-stderr berth compose config
    assert_output_contains "image: busybox:from-env"
    printf 'TAG=other\nPROJ=fromfile\n' >other.env
    run --separate-stderr berth compose --env-file other.env config
    assert_output_contains "name: fromfile"
    assert_output_contains "image: busybox:other"
    # the file on stdin; the project directory is the working directory
    run --separate-stderr bash -c 'berth compose -f - -p stdin config --services <compose.yaml'
    assert_success
    assert_output "web"
}

@test "compose config: --profile enables profiled services" {
    cd "$D"
    printf 'services:\n  web:\n    image: a\n  debug:\n    image: b\n    profiles: [dbg]\n' >compose.yaml
    run --separate-stderr berth compose config --services
    assert_output "web"
    run --separate-stderr berth compose --profile dbg config --services
    assert_output $'debug\nweb'
    COMPOSE_PROFILES=dbg run --separate-stderr berth compose config --services
    assert_output $'debug\nweb'
}

@test "compose config needs no store: an unprivileged user can check a file" {
    # util-linux is in tests/harness/deps.sh: its absence is a broken setup
    command -v setpriv >/dev/null || _fail "setpriv (util-linux) is missing"
    mkdir -p "$D/app"
    cp "$REPO/tests/integration/compose/flask-redis/compose.yaml" "$D/app/"
    chmod -R a+rX "$D"
    cd "$D/app"
    run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
        berth --root "$D/no-store" --runroot "$D/no-run" compose config --services
    assert_success
    assert_output $'redis\nweb'
    [ ! -e "$D/no-store" ] && [ ! -e "$D/no-run" ] || _fail "compose config made a store"
    # libyaml is loaded by compose alone
    run env LD_DEBUG=files berth compose config -q
    assert_success
    assert_output_contains "file=libyaml-0.so.2"
    run env LD_DEBUG=files berth version
    assert_output_not_contains libyaml
}

@test "compose errors: one line with FILE:LINE, exit 125, nothing created" {
    cd "$D"
    before=$(berth ps -aq | wc -l)
    printf 'services:\n  web:\n    image: x\n    configs: [a]\n' >compose.yaml
    run --separate-stderr berth compose config
    assert_status 125
    [ "$stderr" = "berth: compose.yaml:4: services.web.configs: not supported by berth" ] || _fail "stderr: $stderr"
    [ -z "$output" ] || _fail "nothing on stdout"

    printf 'services:\n  web:\n    image: ${IMG:?set IMG to the image}\n' >compose.yaml
    run --separate-stderr berth compose config
    assert_status 125
    [ "$stderr" = "berth: compose.yaml:3: required variable IMG is missing a value: set IMG to the image" ] ||
        _fail "stderr: $stderr"

    printf 'services:\n  web:\n   image: x\n  - y\n' >compose.yaml
    run --separate-stderr berth compose -f ./compose.yaml config
    assert_status 125
    [[ $stderr == "berth: ./compose.yaml:4: "* ]] || _fail "stderr: $stderr"

    printf 'services:\n  web:\n    image: x\n    volumes: ["data:/d"]\n' >compose.yaml
    run --separate-stderr berth compose config
    assert_status 125
    [[ $stderr == *"compose.yaml:4: service \"web\" refers to undefined volume data"* ]] || _fail "stderr: $stderr"

    rm compose.yaml
    run --separate-stderr berth compose config
    assert_status 125
    [[ $stderr == "berth: no configuration file provided: not found"* ]] || _fail "stderr: $stderr"

    printf 'services:\n  web:\n    image: x\n' >compose.yaml
    run --separate-stderr berth compose -p "Bad Name" config
    assert_status 125
    [[ $stderr == "berth: invalid project name \"Bad Name\""* ]] || _fail "stderr: $stderr"
    run --separate-stderr berth compose logs nope
    assert_status 125
    [ "$stderr" = "berth: no such service: nope" ] || _fail "stderr: $stderr"
    run --separate-stderr berth compose config --format xml
    assert_status 125
    run --separate-stderr berth compose
    assert_status 125
    [ "$(berth ps -aq | wc -l)" -eq "$before" ] || _fail "a container was created"
}

@test "compose ps lists the project's containers (label com.docker.compose.project) with Docker Compose's columns" {
    ensure_busybox_image
    cd "$D"
    printf 'name: demo96\nservices:\n  web:\n    image: busybox\n  db:\n    image: busybox\n' >compose.yaml
    berth run -d --name demo96-web-1 --label com.docker.compose.project=demo96 \
        --label com.docker.compose.service=web busybox sleep 1000 >/dev/null
    berth create --name demo96-db-1 --label com.docker.compose.project=demo96 \
        --label com.docker.compose.service=db busybox true >/dev/null
    berth run -d --name other96-web-1 --label com.docker.compose.project=other96 \
        --label com.docker.compose.service=web busybox sleep 1000 >/dev/null
    web_id=$(berth inspect -f '{{.Id}}' demo96-web-1)

    run --separate-stderr berth compose ps
    assert_success
    [[ ${lines[0]} =~ ^NAME\ +IMAGE\ +COMMAND\ +SERVICE\ +CREATED\ +STATUS\ +PORTS\ *$ ]] || _fail "header"
    assert_line_matches '^demo96-web-1 +busybox +"sleep 1000" +web +.* ago +Up '
    [ "${#lines[@]}" -eq 2 ] || _fail "only the running container of the project"

    run --separate-stderr berth compose ps -a
    assert_success
    [ "${#lines[@]}" -eq 3 ] || _fail "both containers of the project with -a"
    assert_line_matches '^demo96-db-1 +busybox +"true" +db +.* ago +Created'

    run --separate-stderr berth compose ps -q
    assert_success
    assert_output "$web_id"

    run --separate-stderr berth compose ps -a --format '{{.Service}} {{.Names}}'
    assert_success
    assert_line_matches '^web demo96-web-1$'
    assert_line_matches '^db demo96-db-1$'
    [ "${#lines[@]}" -eq 2 ] || _fail "no other project's container"

    # -p needs no file
    cd /
    run --separate-stderr berth compose -p other96 ps --format '{{.Names}}'
    assert_success
    assert_output "other96-web-1"
    run --separate-stderr berth compose ps
    assert_status 125
    [[ $stderr == "berth: no configuration file provided: not found"* ]] || _fail "stderr: $stderr"
}
