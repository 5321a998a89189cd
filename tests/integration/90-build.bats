#!/usr/bin/env bats
# berth build: the Dockerfile shapes of the seed documents (python replaced
# by busybox's sh, pip by shell commands), CMD/ENTRYPOINT, multi-stage COPY
# --from, ADD of a .tar.gz, ONBUILD, ARG before FROM, .dockerignore, a failing
# RUN, syntax errors with their line, the layer cache, a context on stdin.

load helpers

setup_file() {
    ensure_busybox_image
}

setup() {
    CTX=$(mktemp -d /tmp/t90.XXXXXX)
}

teardown() {
    rm -rf "$CTX"
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
}

teardown_file() {
    for i in $(berth images --format '{{.Repository}}:{{.Tag}}' | grep '^t90/'); do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
    # the untagged images the builds made (layer steps, stage ends): the
    # cache index knows them; other files' dangling images stay
    for i in $(jq -r '.[]' /var/lib/berth/build-cache/index.json 2>/dev/null | grep '^sha256:'); do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
}

# The ID an image name points at.
image_id() { berth images -q --no-trunc "$1"; }

@test "the flask seed shape: COPY, WORKDIR, RUN, EXPOSE, ENTRYPOINT + CMD, MAINTAINER" {
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
MAINTAINER Angel_Kitty <angelkitty6698@gmail.com>
COPY . /app
WORKDIR /app
RUN sed 's/^/installed /' requirements.txt > installed.txt
EXPOSE 5000
ENTRYPOINT ["sh"]
CMD ["app.sh"]
EOF
    printf 'flask\nredis\n' >"$CTX/requirements.txt"
    printf 'echo "hello from $(pwd)"\ncat installed.txt\n' >"$CTX/app.sh"
    run berth build -t t90/flask:v1 "$CTX"
    assert_success
    assert_line_matches '^STEP 1/8: FROM busybox$'
    assert_line_matches '^STEP 5/8: RUN sed'
    assert_line_matches '^STEP 8/8: CMD \["app.sh"\]$'
    assert_line_matches '^Successfully built [0-9a-f]{12}$'
    assert_output_contains "Successfully tagged t90/flask:v1"
    run berth run --rm t90/flask:v1
    assert_success
    assert_output "$(printf 'hello from /app\ninstalled flask\ninstalled redis')"
    run berth inspect --format '{{.Author}} {{json .Config.ExposedPorts}} {{.Config.WorkingDir}}' t90/flask:v1
    assert_success
    assert_output 'Angel_Kitty <angelkitty6698@gmail.com> {"5000/tcp":{}} /app'
    # the files COPY made are root's, with their modes
    run berth run --rm --entrypoint stat t90/flask:v1 -c '%u:%g %a %n' /app/app.sh /app/Dockerfile
    assert_success
    assert_output "$(printf '0:0 644 /app/app.sh\n0:0 644 /app/Dockerfile')"
}

@test "the alpine seed shape: lower-case from, a RUN continued over lines, a comment between" {
    cat >"$CTX/Dockerfile" <<'EOF'
from busybox
RUN mkdir -p /opt/py \
    && echo pip > /opt/py/pip \
    && echo pipenv >> /opt/py/pip
WORKDIR /app
COPY . /app
#pipenv lock --requirements > requirements.txt
RUN cat /opt/py/pip > deps.txt                                             
EXPOSE 8000
ENTRYPOINT  ["sh"]
CMD ["app.sh"]
EOF
    echo 'cat deps.txt' >"$CTX/app.sh"
    run berth build -t t90/alpine "$CTX"
    assert_success
    assert_line_matches '^STEP 2/8: RUN mkdir -p /opt/py     && echo pip'
    run berth run --rm t90/alpine
    assert_success
    assert_output "$(printf 'pip\npipenv')"
}

@test "the ping seed shape: exec ENTRYPOINT with CMD as default arguments, replaced by run's" {
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENTRYPOINT ["/bin/ping", "-c", "1", "-W", "2"]
CMD ["localhost"]
EOF
    run berth build -t t90/ping "$CTX"
    assert_success
    run berth run --rm t90/ping
    assert_success
    assert_output_contains "PING localhost (127.0.0.1)"
    assert_output_contains "1 packets transmitted, 1 packets received"
    run berth run --rm t90/ping 127.0.0.2
    assert_success
    assert_output_contains "PING 127.0.0.2 (127.0.0.2)"
    run berth inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' t90/ping
    assert_output '["/bin/ping","-c","1","-W","2"] ["localhost"]'
}

@test "shell forms: CMD and ENTRYPOINT run in /bin/sh -c; a shell ENTRYPOINT ignores run's arguments" {
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
CMD echo "hello docker!"
EOF
    run berth build -t t90/hello "$CTX"
    assert_success
    run berth run --rm t90/hello
    assert_output "hello docker!"
    run berth inspect --format '{{json .Config.Cmd}}' t90/hello
    assert_output '["/bin/sh","-c","echo \"hello docker!\""]'

    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV GREETING=hi
ENTRYPOINT echo "$GREETING from the entrypoint"
EOF
    run berth build -t t90/hello:ep "$CTX"
    assert_success
    run berth run --rm t90/hello:ep ignored args
    assert_output "hi from the entrypoint"
}

@test "the httpServer seed shape: comments, VOLUME, old ENV form, shell ENTRYPOINT" {
    mkdir -p "$CTX/log"
    echo 'echo "serving on $PORT in $(pwd), production=$PRODUCTION_ENV"' >"$CTX/http.sh"
    cat >"$CTX/Dockerfile" <<'EOF'
# 指定带有 python 3.6环境的镜像
FROM busybox
# 作者
MAINTAINER geebos
# 将当前目录所有文件添加到要构建的镜像中
COPY . /root/httpServer
# 声明容器中的 /root/httpServer/log 目录为挂载点
VOLUME /root/httpServer/log
# 设置工作目录
WORKDIR /root/httpServer
ENV PRODUCTION_ENV 1
ENV PORT=8000
# 绑定端口
EXPOSE ${PORT}
# 设置启动命令
ENTRYPOINT sh http.sh
EOF
    run berth build -t t90/http "$CTX"
    assert_success
    run berth run --rm t90/http
    assert_success
    assert_output "serving on 8000 in /root/httpServer, production=1"
    run berth inspect --format '{{json .Config.Volumes}} {{json .Config.ExposedPorts}}' t90/http
    assert_output '{"/root/httpServer/log":{}} {"8000/tcp":{}}'
}

@test "ENV substitution: \${VERSION} in ENV, WORKDIR, COPY; RUN sees it in its environment" {
    echo payload >"$CTX/file-2.0.1.txt"
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV VERSION=2.0.1
ENV DIR=/opt/ipinfo-${VERSION} OLD=$VERSION
WORKDIR $DIR
COPY file-${VERSION}.txt ./
RUN echo "ipinfo_${VERSION}_linux_amd64" > name && \
    ls > listing
CMD cat name listing; echo "$OLD ${UNSET:-dflt} ${VERSION:+set}"
EOF
    run berth build -t t90/env "$CTX"
    assert_success
    run berth run --rm t90/env
    assert_success
    assert_output "$(printf 'ipinfo_2.0.1_linux_amd64\nfile-2.0.1.txt\nlisting\nname\n2.0.1 dflt set')"
    run berth inspect --format '{{.Config.WorkingDir}}' t90/env
    assert_output "/opt/ipinfo-2.0.1"
}

@test "multi-stage: COPY --from a stage, ENTRYPOINT with an empty CMD, --target" {
    cat >"$CTX/hello.c" <<'EOF'
echo "hello: $*"
EOF
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox AS builder
COPY hello.c /src/hello.c
WORKDIR /src
RUN (echo '#!/bin/sh'; cat hello.c) > hello && chmod 755 hello

FROM busybox
COPY --from=builder /src/hello /src/hello
ENTRYPOINT ["/src/hello"]
CMD []
EOF
    run berth build -t t90/multi "$CTX"
    assert_success
    assert_line_matches '^STEP 5/8: FROM busybox$'
    run berth run --rm t90/multi xxx.yaml
    assert_success
    assert_output "hello: xxx.yaml"
    run berth run --rm t90/multi
    assert_output "hello: "
    # the final image has only what was copied, not the builder's sources
    run berth run --rm --entrypoint ls t90/multi /src
    assert_output "hello"
    run berth build -t t90/multi:builder --target builder "$CTX"
    assert_success
    run berth run --rm t90/multi:builder ls /src
    assert_output "$(printf 'hello\nhello.c')"
    run berth build --target nosuch "$CTX"
    assert_failure
    assert_output 'berth: target stage "nosuch" could not be found'
}

@test "ADD extracts a local .tar.gz; COPY of the same archive copies the file" {
    mkdir -p "$CTX/tt/sub"
    echo one >"$CTX/tt/sub/one.txt"
    tar -czf "$CTX/tt.tar.gz" -C "$CTX/tt" sub
    rm -rf "$CTX/tt"
    echo hello >"$CTX/hello"
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ADD hello /
ADD tt.tar.gz /opt/
COPY tt.tar.gz /archives/
EOF
    run berth build -t t90/add "$CTX"
    assert_success
    run berth run --rm t90/add sh -c 'cat /hello /opt/sub/one.txt; ls /archives'
    assert_success
    assert_output "$(printf 'hello\none\ntt.tar.gz')"
}

@test "ONBUILD triggers run in the child build, not in grandchildren" {
    mkdir "$CTX/parent" "$CTX/child" "$CTX/grand"
    cat >"$CTX/parent/Dockerfile" <<'EOF'
FROM busybox
ONBUILD COPY marker /marker
ONBUILD RUN echo triggered > /triggered
EOF
    run berth build -t t90/onbuild:parent "$CTX/parent"
    assert_success
    run berth inspect --format '{{json .Config.OnBuild}}' t90/onbuild:parent
    assert_output '["COPY marker /marker","RUN echo triggered > /triggered"]'
    echo "child marker" >"$CTX/child/marker"
    echo "FROM t90/onbuild:parent" >"$CTX/child/Dockerfile"
    run berth build -t t90/onbuild:child "$CTX/child"
    assert_success
    assert_output_contains "# Executing 2 build triggers"
    run berth run --rm t90/onbuild:child cat /marker /triggered
    assert_output "$(printf 'child marker\ntriggered')"
    run berth inspect --format '{{json .Config.OnBuild}}' t90/onbuild:child
    assert_output 'null'
    echo "FROM t90/onbuild:child" >"$CTX/grand/Dockerfile"
    run berth build -t t90/onbuild:grand "$CTX/grand"
    assert_success
    assert_output_not_contains "build trigger"
}

@test "ARG before FROM, ARG in a stage, --build-arg, unconsumed build args" {
    cat >"$CTX/Dockerfile" <<'EOF'
ARG BASE=busybox
ARG TAG=latest
FROM ${BASE}:${TAG}
ARG TAG
ARG WHO=world
RUN echo "tag=$TAG who=$WHO" > /args
CMD cat /args
EOF
    run berth build -t t90/args "$CTX"
    assert_success
    run berth run --rm t90/args
    assert_output "tag=latest who=world"
    # ARG values are not in the image's environment
    run berth inspect --format '{{json .Config.Env}}' t90/args
    assert_output_not_contains "WHO"
    run berth build -t t90/args:2 --build-arg WHO=berth --build-arg NOTUSED=1 "$CTX"
    assert_success
    assert_output_contains "[Warning] One or more build-args [NOTUSED] were not consumed"
    run berth run --rm t90/args:2
    assert_output "tag=latest who=berth"
    # the ARG values in scope are part of the cache key
    run berth build -t t90/args:3 --build-arg WHO=berth "$CTX"
    assert_success
    assert_output_contains "Using cache"
    assert_output_not_contains "Running in"
    assert_equal "$(image_id t90/args:3)" "$(image_id t90/args:2)"
    run berth build -t t90/args:4 --build-arg WHO=other "$CTX"
    assert_success
    assert_output_contains "Running in"
    run berth run --rm t90/args:4
    assert_output "tag=latest who=other"
    run berth build --build-arg TAG=nosuchtag "$CTX"
    assert_failure
    assert_output_contains "Dockerfile:3"
    assert_output_contains "busybox:nosuchtag"
}

@test ".dockerignore: patterns, ** and ! exceptions decide what COPY sees" {
    mkdir -p "$CTX/secret" "$CTX/src/deep/node_modules"
    echo s >"$CTX/secret/key"
    echo a >"$CTX/a.log"
    echo k >"$CTX/keep.log"
    echo m >"$CTX/src/main.c"
    echo n >"$CTX/src/deep/node_modules/x.js"
    printf '# comment\nsecret\n*.log\n!keep.log\n**/node_modules\nDockerfile\n' >"$CTX/.dockerignore"
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
COPY . /ctx
EOF
    run berth build -t t90/ignore "$CTX"
    assert_success
    run berth run --rm t90/ignore sh -c 'find /ctx | sort'
    assert_success
    assert_output "$(printf '/ctx\n/ctx/.dockerignore\n/ctx/keep.log\n/ctx/src\n/ctx/src/deep\n/ctx/src/main.c')"
    echo 'COPY secret/key /key' >>"$CTX/Dockerfile"
    run berth build "$CTX"
    assert_failure
    assert_output_contains "Dockerfile:3: COPY failed: file not found in build context or excluded by .dockerignore: stat secret/key"
}

@test "a failing RUN: exit status 1, the step and the command's status named, nothing tagged" {
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
RUN echo before
RUN echo "about to fail"; exit 3
RUN echo never
EOF
    before=$(berth ps -aq | wc -l)
    run berth build -t t90/fails "$CTX"
    assert_status 1
    assert_output_contains "STEP 3/4: RUN echo \"about to fail\"; exit 3"
    assert_output_contains "about to fail"
    assert_output_contains "berth: Dockerfile:3: the command '/bin/sh -c echo \"about to fail\"; exit 3' returned a non-zero code: 3"
    assert_output_not_contains "never"
    assert_equal "$(image_id t90/fails)" ""
    assert_equal "$(berth ps -aq | wc -l)" "$before"
    # an exec form whose program does not exist fails the same way
    printf 'FROM busybox\nRUN ["/no/such/program", "x"]\n' >"$CTX/Dockerfile"
    run berth build -t t90/fails "$CTX"
    assert_status 1
    assert_output_contains "berth: Dockerfile:2: the command '/no/such/program x' returned a non-zero code: 127"
    assert_equal "$(image_id t90/fails)" ""
    assert_equal "$(berth ps -aq | wc -l)" "$before"
}

@test "syntax errors name the line; nothing is built or tagged" {
    printf 'FORM busybox\n' >"$CTX/Dockerfile"
    run berth build -t t90/bad "$CTX"
    assert_status 125
    assert_output "berth: Dockerfile:1: unknown instruction: FORM (did you mean FROM?)"
    # the seed's ENTRYPOINT[“/src/hello”] (no blank, typographic quotes)
    printf 'FROM busybox\n\n# a comment\nRUN echo a \\\n    b\nENTRYPOINT[“/src/hello”]\n' >"$CTX/Dockerfile"
    run berth build -t t90/bad "$CTX"
    assert_status 125
    assert_output "berth: Dockerfile:6: unknown instruction: ENTRYPOINT[“/SRC/HELLO”]"
    printf 'FROM busybox\nCOPY onlyone\n' >"$CTX/Dockerfile"
    run berth build -t t90/bad "$CTX"
    assert_output "berth: Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined."
    printf 'FROM busybox\nENV A="unterminated\n' >"$CTX/Dockerfile"
    run berth build -t t90/bad "$CTX"
    assert_failure
    assert_output_contains "Dockerfile:2:"
    assert_output_contains "matching double-quote"
    printf 'FROM busybox\nCOPY missing.txt /\n' >"$CTX/Dockerfile"
    run berth build -t t90/bad "$CTX"
    assert_failure
    assert_output_contains "Dockerfile:2: COPY failed: file not found in build context"
    assert_equal "$(image_id t90/bad)" ""
    run berth build -f "$CTX/nosuch" "$CTX"
    assert_failure
    assert_output_contains "unable to read the Dockerfile"
}

@test "the cache: an unchanged context does no work; one changed file re-runs from its COPY on" {
    echo 1 >"$CTX/a.txt"
    echo 1 >"$CTX/b.txt"
    cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
COPY a.txt /a.txt
RUN echo "ran a $(cat /a.txt) $RANDOM" > /ran-a
COPY b.txt /b.txt
RUN echo "ran b $(cat /b.txt) $RANDOM" > /ran-b
CMD ["cat", "/ran-a", "/ran-b"]
EOF
    none_rows() { berth images "$@" --format '{{.Repository}}' | { grep -cx '<none>' || true; }; }
    none_before=$(none_rows) none_all_before=$(none_rows -a)
    run berth build -t t90/cache:1 "$CTX"
    assert_success
    assert_output_not_contains "Using cache"
    first=$(image_id t90/cache:1)
    first_out=$(berth run --rm t90/cache:1)
    # the steps' images are intermediate: hidden by `images`, shown by -a
    [ "$(none_rows)" -eq "$none_before" ] || _fail "the steps show up in images: $(berth images)"
    [ "$(none_rows -a)" -ge $((none_all_before + 4)) ] || _fail "images -a lacks the steps: $(berth images -a)"

    run berth build -t t90/cache:2 "$CTX"
    assert_success
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 4 ] || _fail "expected 4 cached steps"
    assert_output_not_contains "Running in"
    assert_equal "$(image_id t90/cache:2)" "$first"

    # mtimes do not matter, content does
    touch -d '2001-01-01' "$CTX/a.txt"
    run berth build -t t90/cache:3 "$CTX"
    assert_output_not_contains "Running in"
    assert_equal "$(image_id t90/cache:3)" "$first"

    echo 2 >"$CTX/b.txt"
    run berth build -t t90/cache:4 "$CTX"
    assert_success
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 2 ] || _fail "expected 2 cached steps"
    [ "$(grep -c -- 'Running in' <<<"$output")" -eq 1 ] || _fail "expected 1 RUN to run"
    new=$(image_id t90/cache:4)
    [ "$new" != "$first" ]
    run berth run --rm t90/cache:4
    assert_equal "${lines[0]}" "$(head -n1 <<<"$first_out")"   # RUN a was reused
    assert_equal "${lines[1]%% *}" "ran"
    assert_line_matches '^ran b 2 '

    # a build arg in scope is part of the key
    run berth build --no-cache -t t90/cache:5 "$CTX"
    assert_success
    assert_output_not_contains "Using cache"
    [ "$(image_id t90/cache:5)" != "$new" ]
}

@test "context on stdin (a tar, or a Dockerfile alone), -q, --label, -f" {
    echo "from tar" >"$CTX/msg"
    printf 'FROM busybox\nCOPY msg /msg\nCMD ["cat", "/msg"]\n' >"$CTX/Dockerfile"
    run bash -c "tar -C '$CTX' -c . | berth build -t t90/stdin -"
    assert_success
    run berth run --rm t90/stdin
    assert_output "from tar"
    run bash -c "printf 'FROM busybox\nCMD [\"echo\", \"df only\"]\n' | berth build -q -t t90/stdin:df -"
    assert_success
    [[ $output =~ ^sha256:[0-9a-f]{64}$ ]] || _fail "expected only the image ID"
    assert_equal "$output" "$(image_id t90/stdin:df)"
    run berth run --rm t90/stdin:df
    assert_output "df only"
    # -q: not even a RUN's output
    run --separate-stderr bash -c "printf 'FROM busybox\nRUN echo noisy; echo noisy-err >&2\n' | berth build -q -"
    assert_success
    [[ $output =~ ^sha256:[0-9a-f]{64}$ ]] || _fail "expected only the image ID"
    [ -z "$stderr" ] || _fail "expected nothing on stderr, got: $stderr"
    # -f -: the Dockerfile on stdin, the context a directory
    run bash -c "printf 'FROM busybox\nCOPY msg /m\nCMD [\"cat\", \"/m\"]\n' | berth build -q -f - -t t90/stdin:f '$CTX'"
    assert_success
    run berth run --rm t90/stdin:f
    assert_output "from tar"
    run berth build -f - - </dev/null
    assert_status 125
    assert_output_contains "stdin cannot hold both"
    run berth build --network bridge "$CTX"
    assert_status 125
    assert_output_contains 'invalid --network "bridge"'
    printf 'FROM busybox\nLABEL from=file\n' >"$CTX/Other.dockerfile"
    run berth build -f "$CTX/Other.dockerfile" --label extra=yes -t t90/labels "$CTX"
    assert_success
    run berth inspect --format '{{.Config.Labels.from}} {{.Config.Labels.extra}}' t90/labels
    assert_output "file yes"
    run berth image build -q -t t90/labels:2 -f "$CTX/Other.dockerfile" "$CTX"
    assert_success
}

@test "COPY rules: dir contents not the dir, the trailing slash, wildcards, --chown, --chmod; USER; heredocs" {
    mkdir -p "$CTX/dir/sub"
    echo f >"$CTX/dir/sub/f"
    echo a >"$CTX/a.txt"
    echo b >"$CTX/b.txt"
    echo c >"$CTX/c.md"
    cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM busybox
RUN echo 'app:x:1234:1234::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1234:' >> /etc/group && \
    mkdir /existing-dir
COPY dir /copied/
COPY a.txt /file-as-name
COPY a.txt /existing-dir
COPY *.txt /multi/
COPY --chown=app:app c.md /owned/
COPY --chmod=700 a.txt /modes/a
USER app
RUN id -u > /tmp/uid
USER root
RUN <<EOF
echo one > /h1
echo two >> /h1
EOF
RUN cat <<EOF > /h2
three
EOF
DOCKERFILE
    run berth build -t t90/rules "$CTX"
    assert_success
    run berth run --rm t90/rules sh -c 'find /copied /multi | sort; cat /file-as-name /existing-dir/a.txt; stat -c "%u:%g %a" /owned/c.md /modes/a /tmp/uid; cat /tmp/uid /h1 /h2'
    assert_success
    assert_output "$(printf '/copied\n/copied/sub\n/copied/sub/f\n/multi\n/multi/a.txt\n/multi/b.txt\na\na\n1234:1234 644\n0:0 700\n1234:1234 644\n1234\none\ntwo\nthree')"
    printf 'FROM busybox\nCOPY a.txt b.txt /nodir\n' >"$CTX/Dockerfile"
    run berth build "$CTX"
    assert_failure
    assert_output_contains "berth: Dockerfile:2: COPY failed: When using COPY with more than one source file, the destination must be a directory and end with a /"
    printf 'FROM busybox\nCOPY ../escape /x\n' >"$CTX/Dockerfile"
    run berth build "$CTX"
    assert_failure
    assert_output_contains "forbidden path outside the build context: ../escape"
}

@test "history: one entry per instruction, layers for RUN and COPY" {
    printf 'FROM busybox\nCOPY Dockerfile /df\nRUN true\nENV A=1\nCMD ["sh"]\n' >"$CTX/Dockerfile"
    run berth build -t t90/hist "$CTX"
    assert_success
    run berth history --no-trunc --format '{{.CreatedBy}}' t90/hist
    assert_success
    assert_equal "${lines[0]}" '/bin/sh -c #(nop)  CMD ["sh"]'
    assert_equal "${lines[1]}" '/bin/sh -c #(nop)  ENV A=1'
    assert_equal "${lines[2]}" '/bin/sh -c true'
    assert_equal "${lines[3]}" '/bin/sh -c #(nop) COPY Dockerfile /df'
}

@test "COPY of a here-document; ADD of an http URL (libcurl), not extracted, mode 0600" {
    mkdir -p "$CTX/www"
    echo "served file" >"$CTX/www/page.txt"
    tar -czf "$CTX/www/t.tar.gz" -C "$CTX/www" page.txt
    port=$((20000 + RANDOM % 20000))
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$CTX/www" >/dev/null 2>&1 &
    server=$!
    wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    cat >"$CTX/Dockerfile" <<DOCKERFILE
FROM busybox
ENV WHO=berth
COPY <<EOF /etc/greeting
hello \$WHO
EOF
COPY <<'EOF' /etc/literal
hello \$WHO
EOF
ADD http://127.0.0.1:$port/page.txt /dl/
ADD http://127.0.0.1:$port/t.tar.gz /dl/
DOCKERFILE
    run berth build -t t90/url "$CTX"
    kill "$server"
    assert_success
    run berth run --rm t90/url sh -c 'cat /etc/greeting /etc/literal /dl/page.txt; stat -c "%a %n" /dl/page.txt /dl/t.tar.gz'
    assert_success
    assert_output "$(printf 'hello berth\nhello $WHO\nserved file\n600 /dl/page.txt\n600 /dl/t.tar.gz')"
    printf 'FROM busybox\nADD http://127.0.0.1:1/nothing /x\n' >"$CTX/Dockerfile"
    run berth build "$CTX"
    assert_failure
    assert_output_contains "Dockerfile:2: ADD http://127.0.0.1:1/nothing:"
}

@test "metadata instructions: # escape, SHELL, LABEL, STOPSIGNAL, HEALTHCHECK, USER, VOLUME JSON" {
    cat >"$CTX/Dockerfile" <<'DOCKERFILE'
# escape=`
FROM busybox
SHELL ["/bin/sh", "-ec"]
RUN echo a `
    b > /ab
LABEL "com.example.vendor"="ACME" version="1.0"
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --retries=3 CMD wget -q -O- localhost || exit 1
VOLUME ["/data1","/data2"]
WORKDIR /made/by
WORKDIR workdir
WORKDIR /
USER nobody
DOCKERFILE
    run berth build -t t90/meta "$CTX"
    assert_success
    run berth inspect --format '{{json .Config.Labels}} {{.Config.StopSignal}} {{.Config.User}} {{json .Config.Shell}}' t90/meta
    assert_output '{"com.example.vendor":"ACME","version":"1.0"} SIGQUIT nobody ["/bin/sh","-ec"]'
    run berth inspect --format '{{json .Config.Healthcheck}} {{json .Config.Volumes}}' t90/meta
    assert_output '{"Test":["CMD-SHELL","wget -q -O- localhost || exit 1"],"Interval":5000000000,"Retries":3} {"/data1":{},"/data2":{}}'
    run berth run --rm -u root t90/meta cat /ab
    assert_output "a b"
    # WORKDIR makes its directory even when no later step uses it
    run berth run --rm -u root t90/meta stat -c '%u:%g %a %n' /made/by/workdir
    assert_output "0:0 755 /made/by/workdir"
    # a second build is all cache, WORKDIR included
    run berth build -t t90/meta "$CTX"
    assert_success
    assert_output_not_contains "Running in"
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 3 ] || _fail "expected 3 cached steps (RUN, 2 WORKDIRs)"
}

@test "COPY --from an image and a stage by index; FROM an earlier stage" {
    cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM busybox AS base
RUN echo base > /base
FROM base
COPY --from=busybox /bin/busybox /copied/busybox
COPY --from=0 /base /from-index
RUN cat /base /from-index && cmp /bin/busybox /copied/busybox && echo same
DOCKERFILE
    run berth build -t t90/from "$CTX"
    assert_success
    assert_output_contains "same"
    run berth run --rm t90/from cat /base /from-index
    assert_output "$(printf 'base\nbase')"
    printf 'FROM busybox\nCOPY --from=nosuchstage /x /y\n' >"$CTX/Dockerfile"
    run berth build "$CTX"
    assert_failure
    assert_output_contains "Dockerfile:2:"
    assert_output_contains "nosuchstage"
}

@test "FROM scratch: COPY into an empty image, then COPY --from it; metadata-only scratch image" {
    echo "from scratch" >"$CTX/hello"
    cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM scratch AS files
COPY hello /files/hello
ENV ONLY=metadata
FROM busybox
COPY --from=files /files/ /from-scratch/
CMD ["cat", "/from-scratch/hello"]
DOCKERFILE
    run berth build -t t90/scratch "$CTX"
    assert_success
    run berth run --rm t90/scratch
    assert_output "from scratch"
    run berth build -t t90/scratch:files --target files "$CTX"
    assert_success
    run berth history -q t90/scratch:files
    assert_success
    [ "${#lines[@]}" -eq 2 ] || _fail "expected 2 history entries (COPY, ENV)"
    run berth inspect --format '{{len .RootFS.Layers}} {{json .Config.Env}}' t90/scratch:files
    assert_output_contains '1 ['
    assert_output_contains '"ONLY=metadata"'
    run berth build -t t90/scratch:empty - <<<'FROM scratch
LABEL only=label'
    assert_success
    run berth inspect --format '{{len .RootFS.Layers}} {{.Config.Labels.only}}' t90/scratch:empty
    assert_output "0 label"
}
