#!/usr/bin/env bats
# Every path a user types is relative to the shell's working directory, as
# in Docker: the build context and -f, --env-file, --label-file, load -i,
# save -o, import FILE, export -o, cp both ways, -v ./data and --mount
# source=./data, --security-opt seccomp=./profile.json, --cidfile. Each test
# works from a fresh directory with relative arguments, the way the seed
# tutorials type them, and checks the result from an absolute path.

load helpers

setup_file() { ensure_busybox_image; }

setup() {
    WORK=$(mktemp -d /tmp/t12.XXXXXX)
    cd "$WORK"
}

teardown() {
    cd /
    rm -rf "$WORK"
    berth rm -f $(berth ps -aq --filter label=t12) >/dev/null 2>&1 || true
}

teardown_file() {
    for i in $(berth images --format '{{.Repository}}:{{.Tag}}' | grep '^t12/'); do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
}

@test "build -t NAME . with COPY . /app, from the context directory" {
    mkdir app && cd app
    printf 'hello from the context\n' >hello.txt
    mkdir sub && printf 'nested\n' >sub/n.txt
    cat >Dockerfile <<'DF'
FROM busybox
COPY hello.txt /hello.txt
COPY . /app
WORKDIR /app
CMD ["sh", "-c", "cat /hello.txt sub/n.txt; ls /app | sort | tr '\\n' ' '"]
DF
    run berth build -t t12/app .
    assert_success
    run berth run --rm --label t12 t12/app
    assert_success
    assert_line_matches '^hello from the context$'
    assert_line_matches '^nested$'
    # the context's own files, nothing of the store or the build's tmp dirs
    assert_line_matches '^Dockerfile hello.txt sub $'
}

@test "build with the context as .. and sub/dir, -f sub/Dockerfile.dev and -f -" {
    mkdir -p proj/docker proj/src
    printf 'src file\n' >proj/src/f.txt
    cat >proj/docker/Dockerfile.dev <<'DF'
FROM busybox
COPY src/f.txt /f.txt
CMD ["cat", "/f.txt"]
DF
    # from proj/docker: the context is .., -f is relative to here
    cd proj/docker
    run berth build -t t12/up -f Dockerfile.dev ..
    assert_success
    run berth run --rm --label t12 t12/up
    assert_output "src file"
    # from the top: context sub/dir, -f sub/Dockerfile.dev
    cd "$WORK"
    cat >proj/src/Dockerfile <<'DF'
FROM busybox
COPY f.txt /g.txt
CMD ["cat", "/g.txt"]
DF
    run berth build -t t12/sub proj/src
    assert_success
    run berth run --rm --label t12 t12/sub
    assert_output "src file"
    run berth build -t t12/dev -f proj/docker/Dockerfile.dev proj
    assert_success
    run berth run --rm --label t12 t12/dev
    assert_output "src file"
    # -f -: the Dockerfile on stdin, the context relative
    run berth build -t t12/stdin -f - proj/src <<'DF'
FROM busybox
COPY f.txt /h.txt
CMD ["cat", "/h.txt"]
DF
    assert_success
    run berth run --rm --label t12 t12/stdin
    assert_output "src file"
    # a context that does not exist: one line naming it
    run berth build -t t12/none nowhere
    assert_status 125
    [ "${#lines[@]}" -eq 1 ]
    assert_output_contains nowhere
}

@test "--env-file, --label-file and --cidfile relative to the working directory" {
    mkdir conf
    printf 'GREETING=hi from the env file\n# a comment\n\nOTHER=2\n' >conf/app.env
    printf 'com.example.team=blue\n# comment\ncom.example.flag\n' >conf/labels
    run berth run --rm --label t12 --env-file conf/app.env busybox sh -c 'echo "$GREETING/$OTHER"'
    assert_output "hi from the env file/2"
    name=$(unique_name lf)
    run berth create --name "$name" --label t12 --label-file ./conf/labels --label com.example.team=red \
        --cidfile run/../web.cid busybox true
    assert_success
    id=$output
    # --label wins over the file; a bare key is an empty label
    run berth inspect -f '{{index .Config.Labels "com.example.team"}}|{{index .Config.Labels "com.example.flag"}}' "$name"
    assert_output "red|"
    [ "$(cat "$WORK/web.cid")" = "$id" ]
    # a cidfile that exists: refused, nothing created
    before=$(berth ps -aq | wc -l)
    run berth create --label t12 --cidfile web.cid busybox true
    assert_status 125
    assert_output_contains "container ID file found"
    [ "$(berth ps -aq | wc -l)" -eq "$before" ]
    # a failed create leaves no cidfile behind
    run berth create --label t12 --cidfile other.cid --env-file missing.env busybox true
    assert_status 125
    [ ! -e "$WORK/other.cid" ]
    run berth run --rm --label t12 --label-file nolabels busybox true
    assert_status 125
    assert_output_contains nolabels
}

@test "-v ./data:/data and --mount type=bind,source=./data" {
    mkdir data
    printf 'on the host\n' >data/in.txt
    run berth run --rm --label t12 -v ./data:/data busybox sh -c 'cat /data/in.txt; echo written >/data/out.txt'
    assert_output "on the host"
    [ "$(cat "$WORK/data/out.txt")" = written ]
    run berth run --rm --label t12 --mount type=bind,source=./data,target=/d,readonly busybox sh -c 'cat /d/out.txt; touch /d/x'
    assert_line_matches '^written$'
    assert_output_contains "Read-only file system"
    # -v .:/src and a parent: Docker's CLI makes them absolute too
    cd data
    run berth run --rm --label t12 -v .:/src:ro -v ..:/up busybox sh -c 'cat /src/in.txt; ls /up'
    assert_line_matches '^on the host$'
    assert_line_matches '^data$'
    # what the container records is the absolute path
    name=$(unique_name binds)
    berth create --name "$name" --label t12 -v ./sub:/s busybox true
    run berth inspect -f '{{json .HostConfig.Binds}}' "$name"
    assert_output "[\"$WORK/data/sub:/s\"]"
    [ -d "$WORK/data/sub" ]    # -v makes a missing host dir, as Docker's
}

@test "--security-opt seccomp=./profile.json" {
    cat >profile.json <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
JSON
    run berth run --rm --label t12 --security-opt seccomp=./profile.json busybox mkdir /tmp/x
    assert_failure
    assert_output_contains "Operation not permitted"
    run berth run --rm --label t12 --security-opt seccomp=profile.json busybox true
    assert_success
    run berth run --rm --label t12 --security-opt seccomp=./nope.json busybox true
    assert_status 125
    assert_output_contains nope.json
}

@test "save -o, load -i, import FILE, export -o with relative paths" {
    mkdir out
    run berth save -o out/bb.tar busybox
    assert_success
    [ -s "$WORK/out/bb.tar" ]
    ls -a "$WORK/out" >"$BATS_TEST_TMPDIR/ls"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/ls")" -eq 3 ]   # . .. bb.tar: no temp file left
    berth tag busybox t12/saved:1
    berth save -o ./out/saved.tar t12/saved:1
    berth rmi t12/saved:1
    cd out
    run berth load -i saved.tar
    assert_success
    assert_output_contains "t12/saved:1"
    name=$(unique_name exp)
    berth create --name "$name" --label t12 busybox sh -c 'true'
    berth cp /etc/hostname "$name":/exported-marker
    run berth export -o ../rootfs.tar "$name"
    assert_success
    tar -tf "$WORK/rootfs.tar" | grep -qx 'exported-marker'
    cd ..
    run berth import rootfs.tar t12/imported:1
    assert_success
    run berth run --rm --label t12 t12/imported:1 ls /exported-marker
    assert_output /exported-marker
    run berth load -i ./missing.tar
    assert_status 125
    [ "${#lines[@]}" -eq 1 ]
}

@test "cp both ways with relative host paths, trailing /. kept" {
    name=$(unique_name cp)
    berth run -d --name "$name" --label t12 busybox sleep 1000
    mkdir -p src/dir
    printf 'one\n' >src/dir/a
    printf 'two\n' >src/file
    berth cp src/file "$name":/tmp/file
    berth cp ./src/dir "$name":/tmp/
    berth cp src/dir/. "$name":/tmp/contents
    run berth exec "$name" sh -c 'cat /tmp/file /tmp/dir/a /tmp/contents/a'
    assert_output "$(printf 'two\none\none')"
    mkdir back
    cd back
    berth cp "$name":/tmp/dir .
    berth cp "$name":/tmp/file ./f2
    berth cp "$name":/tmp/dir/. ../flat
    [ "$(cat "$WORK/back/dir/a")" = one ]
    [ "$(cat "$WORK/back/f2")" = two ]
    [ "$(cat "$WORK/flat/a")" = one ]
}
