#!/usr/bin/env bats
# The seed tutorials, typed as their readers type them (`docker` -> `berth`),
# on real Debian 12 images pulled from a private registry (python3 + flask,
# gcc, plain bookworm: tests/harness/mkimages.sh, ensure_seed_images): every
# test works in a fresh directory of its own, writes the tutorial's files
# there and uses RELATIVE paths (`berth build -t name .`, -v ./data:/data).
# The Dockerfiles say FROM localhost:5000/python:3 where the seeds say
# python:3.6, and the requirements come with the image (no network here).

load helpers

PY=$SEED_REGISTRY/python:3
GCC=$SEED_REGISTRY/gcc:12
DEB=$SEED_REGISTRY/debian:bookworm

setup_file() {
    ensure_seed_images
}

setup() {
    WD=$(mktemp -d /tmp/t95.XXXXXX)
    cd "$WD"
}

teardown() {
    cd /
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
    rm -rf "$WD"
}

teardown_file() {
    local i
    for i in http-server test-flask hello-static shuoliuchn/debian-marker t95/dev t95/dev2 t95/subdir \
            shuoliuchn/hello-docker shuoliuchn/flask-hello-world \
            $SEED_REGISTRY/centos $SEED_REGISTRY/shuoliuchn/centos:v1 \
            $SEED_REGISTRY/t95/mount-a:1 $SEED_REGISTRY/t95/mount-b:1; do
        berth rmi -f "$i" >/dev/null 2>&1 || true
    done
}

# need_image REF: pull REF unless the store has it (tests that are not about
# pulling may run alone).
need_image() {
    [ -n "$(berth images -q "$1")" ] || berth pull -q "$1" >/dev/null || _fail "could not pull $1"
}

# pty_session CMD [ARGS...]: run CMD on a new pseudo-terminal, as a user at a
# terminal would: wait for it to settle (its prompt), type the lines of
# $PTY_INPUT one by one, each when the output went quiet, then wait for CMD
# to end. Prints what the terminal showed (without \r and escape sequences); exits with CMD's
# status, or 124 if it had to be killed after 30 s.
pty_session() {
    python3 - "$@" <<'PY'
import os, pty, re, select, signal, sys, time
lines = os.environ.get("PTY_INPUT", "").splitlines()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = bytearray()
def pump(quiet, limit):
    """Read until the output is quiet for `quiet` s; False once it ended."""
    end = time.time() + limit
    while time.time() < end:
        if not select.select([fd], [], [], quiet)[0]:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        out.extend(data)
    return True
alive = pump(1.0, 15)
for line in lines:
    if not alive:
        break
    os.write(fd, (line + "\n").encode())
    alive = pump(0.5, 15)
if alive:
    alive = pump(30, 30)
code = 124
if alive:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    out.extend(b"\npty_session: still running after 30 s, killed\n")
else:
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
# what a reader sees: without \r and terminal control sequences (bash's
# bracketed paste mode, colours)
text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace").replace("\r", ""))
sys.stdout.write(text)
sys.exit(code)
PY
}

@test "pull: the real Debian images come from the private registry as users pull them" {
    local ref
    for ref in "$PY" "$GCC" "$DEB"; do
        run berth pull "$ref"
        assert_success
        assert_line_matches "^Status: (Downloaded newer image|Image is up to date) for ${ref//./\\.}$"
        assert_equal "${lines[-1]}" "$ref"
    done
    run berth images "$SEED_REGISTRY/python"
    assert_success
    assert_line_matches "^${SEED_REGISTRY}/python +3 +[0-9a-f]{12} "
    run berth run --rm "$DEB" cat /etc/debian_version
    assert_success
    assert_line_matches '^12\.[0-9]+$'
    run berth run --rm "$PY" python -c 'import flask, sys; print(sys.version_info[0], flask.__name__)'
    assert_success
    assert_output "3 flask"
    run berth run --rm "$GCC" gcc --version
    assert_success
    assert_line_matches '^gcc \(Debian 12\.'
}

@test "save | gzip, rmi, gunzip | load, run (seed 001); image save -o, image load -i (seed 003)" {
    need_image "$DEB"
    local id
    id=$(berth images -q --no-trunc "$DEB")
    run bash -c "berth save $DEB | gzip -c > ./img.tgz"
    assert_success
    [ "$(stat -c %s ./img.tgz)" -gt 10000000 ] || _fail "./img.tgz is only $(stat -c %s ./img.tgz) bytes"
    run berth rmi "$DEB"
    assert_success
    assert_line_matches "^Untagged: ${DEB//./\\.}$"
    [ -z "$(berth images -q "$DEB")" ] || _fail "$DEB is still there after rmi"
    # (berth's progress lines go to stderr; Docker prints none off a terminal)
    run --separate-stderr bash -c "gunzip -c ./img.tgz | berth load"
    assert_success
    assert_output "Loaded image: $DEB"
    assert_equal "$(berth images -q --no-trunc "$DEB")" "$id"
    run berth run --rm "$DEB" bash -c 'echo "$0 on $(cat /etc/debian_version)"'
    assert_success
    assert_line_matches '^bash on 12\.[0-9]+$'
    # seed 003: docker image save 容器名称:TAG -o xxx.image; docker image load -i xxx.image
    run berth image save "$DEB" -o debian.image
    assert_success
    run berth rmi "$DEB"
    assert_success
    run --separate-stderr berth image load -i debian.image
    assert_success
    assert_output "Loaded image: $DEB"
    assert_equal "$(berth images -q --no-trunc "$DEB")" "$id"
}

@test "seed 002: the httpServer, built from ., run -id -v \$PWD/log -p 8000:8000, curl, its log on the host, exec -it bash" {
    need_image "$PY"
    mkdir -p httpServer/log
    cd httpServer
    cat >http.py <<'EOF'
import socket

from multiprocessing import Process


def handle_client(client_socket):
    # 解析请求报文
    request_data = client_socket.recv(1024)
    request_lines = request_data.splitlines()
    request_start_line = request_lines[0]

    # 打开日志文件写入日志 这个日志文件保存在宿主机上
    with open('./log/log.txt', 'ab') as f:
        f.write(request_start_line + b'\n')

    # 构建响应
    response_start_line = "HTTP/1.1 200 OK\r\n"
    response_headers = "Server: docker server\r\n"
    response_body = "The is docker server!"
    response = response_start_line + response_headers + "\r\n" + response_body

    # 向客户端返回响应数据
    client_socket.send(bytes(response, "utf-8"))

    # 关闭客户端连接
    client_socket.close()


if __name__ == "__main__":
    server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server_socket.bind(('0.0.0.0', 8000))
    server_socket.listen(128)

    while True:
        client_socket, client_address = server_socket.accept()
        handle_client_process = Process(target=handle_client, args=(client_socket,))
        handle_client_process.start()
        client_socket.close()
EOF
    cat >Dockerfile <<EOF
# 指定带有 python 3.6环境的镜像
FROM $PY
# 作者
MAINTAINER geebos
# 将当前目录所有文件添加到要构建的镜像中
COPY . /root/httpServer
# 声明容器中的 /root/httpServer/log 目录为挂载点
VOLUME /root/httpServer/log
# 设置工作目录
WORKDIR /root/httpServer
# 绑定端口
EXPOSE 8000
# 设置启动命令
ENTRYPOINT python http.py
EOF
    run berth build -t http-server .
    assert_success
    assert_output_contains "Successfully tagged http-server:latest"
    # COPY . took the context's files, once (not the destination into itself)
    run berth run --rm --entrypoint ls http-server -A /root/httpServer
    assert_success
    assert_output "$(printf 'Dockerfile\nhttp.py\nlog')"

    run berth run -id -v "$PWD/log":/root/httpServer/log -p 8000:8000 --name http-server-container http-server
    assert_success
    assert_line_matches '^[0-9a-f]{64}$'
    wait_until 20 curl -s http://127.0.0.1:8000/
    run curl -s http://127.0.0.1:8000/seed-002
    assert_success
    assert_output "The is docker server!"
    # the request line landed in the host's directory
    wait_until 5 grep -q 'GET /seed-002 HTTP/1.1' log/log.txt
    run grep -c 'GET /seed-002 HTTP/1.1' log/log.txt
    assert_output 1
    run berth ps
    assert_success
    assert_line_matches '^[0-9a-f]{12} +http-server +"/bin/sh -c '"'"'python …" .* Up .* 0\.0\.0\.0:8000->8000/tcp +http-server-container$'

    # docker exec -it http-server-container /bin/bash, at a real terminal
    PTY_INPUT="echo hi-\$((6*7))-$$
pwd
exit" run pty_session berth exec -it http-server-container /bin/bash
    assert_success
    assert_line_matches "^hi-42-$$\$"
    assert_line_matches '^/root/httpServer$'
    assert_line_matches '^root@[0-9a-f]{12}:~/httpServer# '
    assert_output_not_contains "no job control"
    assert_output_not_contains "cannot set terminal process group"
}

@test "seeds 000/004: the flask app, build . -t test-flask, run -d -p 8000:8000, curl /hello, stop, start, logs, ps" {
    need_image "$PY"
    cat >app.py <<'EOF'
from flask import Flask
app = Flask(__name__)
@app.route('/hello')
def hello():
    return "hello docker"
if __name__ == '__main__':
    app.run(host='0.0.0.0', port=8000)
EOF
    echo flask >requirements.txt
    # seed 000's Dockerfile; pip has nothing to download here, so RUN checks
    # that every requirement is in the image already
    cat >Dockerfile <<EOF
FROM $PY
MAINTAINER Angel_Kitty <angelkitty6698@gmail.com>
WORKDIR /app
COPY . /app
RUN python3 -c "import sys; [__import__(l.strip()) for l in open('requirements.txt') if l.strip()]"
EXPOSE 8000
ENTRYPOINT  ["python3"]
CMD ["app.py"]
EOF
    run berth build . -t test-flask
    assert_success
    assert_output_contains "Successfully tagged test-flask:latest"
    run berth images test-flask
    assert_success
    assert_line_matches '^test-flask +latest +[0-9a-f]{12} '

    run berth run -d -p 8000:8000 test-flask
    assert_success
    assert_line_matches '^[0-9a-f]{64}$'
    local id=${output:0:12}
    wait_until 30 curl -sf http://127.0.0.1:8000/hello
    run curl -s 127.0.0.1:8000/hello
    assert_success
    assert_output "hello docker"
    run berth ps
    assert_success
    assert_line_matches "^$id +test-flask +\"python3 app.py\" .* Up .* 0\\.0\\.0\\.0:8000->8000/tcp +[a-z]+_[a-z]+\$"

    run berth stop "$id"
    assert_success
    assert_output "$id"
    run curl -s 127.0.0.1:8000/hello
    assert_failure
    run berth start "$id"
    assert_success
    wait_until 30 curl -sf http://127.0.0.1:8000/hello
    run curl -s 127.0.0.1:8000/hello
    assert_output "hello docker"
    # both runs' lines (werkzeug logs on stderr, unbuffered): a start banner
    # and two requests each (wait_until's and ours)
    run berth logs "$id"
    assert_success
    [ "$(grep -c 'Running on http://127.0.0.1:8000' <<<"$output")" = 2 ] || _fail "expected 2 'Running on' lines"
    [ "$(grep -c '"GET /hello HTTP/1.1" 200' <<<"$output")" = 4 ] || _fail "expected 4 request lines"
}

@test "multi-stage: gcc --static hello.c in the gcc image, COPY --from into scratch, run it" {
    need_image "$GCC"
    cat >hello.c <<'EOF'
#include <stdio.h>
int main(void)
{
        printf("hello from a static binary\n");
        return 0;
}
EOF
    cat >Dockerfile <<EOF
FROM $GCC AS build
WORKDIR /src
COPY hello.c .
RUN gcc --static -O2 -o hello hello.c
FROM scratch
COPY --from=build /src/hello /hello
CMD ["/hello"]
EOF
    run berth build -t hello-static .
    assert_success
    assert_output_contains "Successfully tagged hello-static:latest"
    run berth run --rm hello-static
    assert_success
    assert_output "hello from a static binary"
    # only the binary: one layer of well under 2 MB
    run berth image inspect -f '{{len .RootFS.Layers}} {{.Size}}' hello-static
    assert_success
    [[ $output =~ ^1\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -lt 2000000 ] || _fail "expected one small layer"
}

@test "seed 004: run, change, commit, history; the committed image runs with the change" {
    need_image "$DEB"
    local name
    name=$(unique_name c95)
    run berth run --name "$name" "$DEB" bash -c 'echo "lrzsz 0.12" > /usr/local/bin/lrzsz-version'
    assert_success
    run berth commit "$name" shuoliuchn/debian-marker
    assert_success
    assert_line_matches '^sha256:[0-9a-f]{64}$'
    local id=${output:7:12}
    run berth image ls shuoliuchn/debian-marker
    assert_line_matches "^shuoliuchn/debian-marker +latest +$id "
    run berth history shuoliuchn/debian-marker
    assert_success
    assert_line_matches '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$'
    assert_line_matches "^$id .* bash -c echo .*"
    assert_line_matches 'CMD \["bash"\] +0B'
    assert_line_matches 'mmdebstrap --variant=minbase .* [0-9.]+MB'
    [ "${#lines[@]}" -eq 4 ] || _fail "expected the header and 3 entries"
    run berth run --rm shuoliuchn/debian-marker cat /usr/local/bin/lrzsz-version
    assert_success
    assert_output "lrzsz 0.12"
}

@test "seed 004's private registry: build -t localhost:5000/centos ., push, rmi, pull, run; tag and push again" {
    need_image "$DEB"
    printf 'FROM %s\nCMD ["/bin/echo", "hello docker"]\n' "$DEB" >Dockerfile
    run berth build -t $SEED_REGISTRY/centos .
    assert_success
    run berth push $SEED_REGISTRY/centos
    assert_success
    assert_line_matches "^The push refers to repository \[$SEED_REGISTRY/centos\]$"
    assert_line_matches '^latest: digest: sha256:[0-9a-f]{64} size: [0-9]+$'
    run curl -s http://127.0.0.1:5000/v2/_catalog
    assert_output_contains '"centos"'
    run berth rmi $SEED_REGISTRY/centos
    assert_success
    run berth pull $SEED_REGISTRY/centos
    assert_success
    assert_equal "${lines[-1]}" "$SEED_REGISTRY/centos:latest"
    run berth run --rm $SEED_REGISTRY/centos
    assert_success
    assert_output "hello docker"
    run berth tag $SEED_REGISTRY/centos $SEED_REGISTRY/shuoliuchn/centos:v1
    assert_success
    run berth image push $SEED_REGISTRY/shuoliuchn/centos:v1
    assert_success
    assert_line_matches '^v1: digest: sha256:[0-9a-f]{64} size: [0-9]+$'
    run berth rmi $SEED_REGISTRY/shuoliuchn/centos:v1
    assert_success
    # run pulls what it does not have; the pull's report goes to stderr
    run --separate-stderr berth run --rm $SEED_REGISTRY/shuoliuchn/centos:v1
    assert_success
    assert_output "hello docker"
    [[ $stderr == "Unable to find image '$SEED_REGISTRY/shuoliuchn/centos:v1' locally"* ]] || _fail "stderr: $stderr"
}

@test "a push to another repository of the same registry mounts the layers it has (Docker: Mounted from ...)" {
    need_image "$DEB"
    berth tag "$DEB" $SEED_REGISTRY/t95/mount-a:1
    berth tag "$DEB" $SEED_REGISTRY/t95/mount-b:1
    run berth push $SEED_REGISTRY/t95/mount-a:1
    assert_success
    local log=$SEED_REGISTRY_DIR/log before
    before=$(grep -c 'PUT /v2/t95/mount-b/blobs/uploads/' "$log" || true)
    run berth push $SEED_REGISTRY/t95/mount-b:1
    assert_success
    assert_line_matches '^[0-9a-f]{12}: Mounted from [a-z0-9/._-]+$'
    assert_equal "$(grep -c 'PUT /v2/t95/mount-b/blobs/uploads/' "$log" || true)" "$before"
}

@test "podman pulls and runs what berth pushed" {
    need_image "$DEB"
    printf 'FROM %s\nRUN echo "made by berth" > /made\nCMD ["cat", "/made"]\n' "$DEB" >Dockerfile
    run berth build -t $SEED_REGISTRY/t95/for-podman:1 .
    assert_success
    run berth push $SEED_REGISTRY/t95/for-podman:1
    assert_success
    berth rmi $SEED_REGISTRY/t95/for-podman:1 >/dev/null
    # podman's store in this test's dir (vfs: no overlay on the harness' overlay)
    run podman --root "$WD/pm/root" --runroot "$WD/pm/run" --storage-driver vfs \
        --cgroup-manager cgroupfs --events-backend none \
        --runtime runc run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
        --tls-verify=false $SEED_REGISTRY/t95/for-podman:1
    assert_success
    assert_line_matches '^made by berth$'
    podman --root "$WD/pm/root" --runroot "$WD/pm/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
}

@test "relative paths: build -f sub/Dockerfile.dev ., -f Dockerfile.dev .. from sub, a context sub/dir; --env-file ./env; -v ./data:/data" {
    need_image "$DEB"
    mkdir -p sub/dir data
    echo "from the context" >hello.txt
    printf 'FROM %s\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n' "$DEB" >sub/Dockerfile.dev
    echo "from sub/dir" >sub/dir/only-here.txt
    printf 'FROM %s\nCOPY only-here.txt /\nCMD ["cat", "/only-here.txt"]\n' "$DEB" >sub/dir/Dockerfile

    run berth build -f sub/Dockerfile.dev -t t95/dev .
    assert_success
    run berth run --rm t95/dev
    assert_output "from the context"

    cd sub
    run berth build -f Dockerfile.dev -t t95/dev2 ..
    assert_success
    run berth run --rm t95/dev2
    assert_output "from the context"
    cd ..

    run berth build -t t95/subdir sub/dir
    assert_success
    run berth run --rm t95/subdir
    assert_output "from sub/dir"

    printf 'GREETING=hello\n# a comment\nWHO=seed reader\n' >env
    run berth run --rm --env-file ./env "$DEB" bash -c 'echo "$GREETING, $WHO"'
    assert_success
    assert_output "hello, seed reader"

    echo "on the host" >data/in
    run berth run --rm -v ./data:/data "$DEB" bash -c 'cat /data/in; echo "from the container" > /data/out'
    assert_success
    assert_output "on the host"
    run cat data/out
    assert_output "from the container"
}

@test "seed 004's baseImage: CMD echo \"hello docker!\", run, container ls -a, rm of the exited ones" {
    need_image "$DEB"
    printf 'FROM %s\nCMD echo "hello docker!"\n' "$DEB" >Dockerfile
    run berth build -t shuoliuchn/hello-docker .
    assert_success
    run berth run shuoliuchn/hello-docker
    assert_success
    assert_output "hello docker!"
    run berth container ls -a
    assert_success
    assert_line_matches '^([0-9a-f]{12}) +shuoliuchn/hello-docker +"/bin/sh -c '"'"'echo \\"h…" .* Exited \(0\) .* ago +[a-z]+_[a-z]+$'
    local id=${BASH_REMATCH[1]}     # (of the line assert_line_matches found)
    # docker rm $(docker container ls -f "status=exited" -q)
    run bash -c 'berth rm $(berth container ls -f "status=exited" -q)'
    assert_success
    assert_line_matches "^$id\$"
    run berth container ls -aq -f status=exited
    assert_output ""
}

@test "seed 004's flask-hello-world: run -d --name=demo, ps shows 5000/tcp, exec -it demo python, stop, start, logs" {
    need_image "$PY"
    cat >app.py <<'PYEOF'
from flask import Flask
app = Flask(__name__)
@app.route('/')
def hello():
    return "hello docker"
if __name__ == '__main__':
    app.run()
PYEOF
    # (pip has nothing to download here: RUN checks the image's own flask)
    cat >Dockerfile <<DFEOF
FROM $PY
LABEL auth="shuo"
RUN python -c "import flask"
COPY app.py /app/
WORKDIR /app
EXPOSE 5000
CMD ["python","app.py"]
DFEOF
    run berth build -t shuoliuchn/flask-hello-world .
    assert_success
    run berth run -d --name=demo shuoliuchn/flask-hello-world
    assert_success
    assert_line_matches '^[0-9a-f]{64}$'
    local id=${output:0:12}
    run berth ps
    assert_success
    assert_line_matches "^$id +shuoliuchn/flask-hello-world +\"python app.py\" .* Up .* +5000/tcp +demo\$"
    # flask listens on the container's own 127.0.0.1:5000 (hence unreachable from outside)
    wait_until 30 berth exec demo python -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:5000/")'
    run berth exec demo python -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:5000/").read().decode())'
    assert_success
    assert_output "hello docker"

    PTY_INPUT='print(6 * 7)
import os; print(os.getcwd())
exit()' run pty_session berth exec -it demo python
    assert_success
    assert_line_matches '^Python 3\.[0-9]+\.[0-9]+ '
    assert_line_matches '^>>> print\(6 \* 7\)$'
    assert_line_matches '^42$'
    assert_line_matches '^/app$'

    run berth stop demo
    assert_output demo
    run berth start demo
    assert_output demo
    wait_until 30 berth exec demo python -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:5000/")'
    run berth logs demo
    assert_success
    [ "$(grep -c 'Running on http://127.0.0.1:5000' <<<"$output")" = 2 ] || _fail "expected both runs' 'Running on' lines"
}
