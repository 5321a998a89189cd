#!/usr/bin/env bats
# Volumes (named, anonymous, copy-up, volume create/ls/inspect/rm/prune) and
# berth cp in both directions.

load helpers

setup_file() { ensure_busybox_image; }
teardown() {
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
    berth volume prune -af >/dev/null 2>&1 || true
}

@test "data in a named volume outlives the container that wrote it" {
    run berth run --name writer -v vdata:/data busybox sh -c 'echo persisted > /data/f'
    assert_success
    berth rm writer
    run berth run --rm -v vdata:/data busybox cat /data/f
    assert_success
    assert_output persisted
    [ -f /var/lib/berth/volumes/vdata/_data/f ]
}

@test "volume create, ls, inspect, rm" {
    run berth volume create --label team=blue v1
    assert_success
    assert_output v1
    run berth volume ls
    assert_success
    [ "${lines[0]}" = "DRIVER   VOLUME NAME" ] || _fail "bad header"
    assert_line_matches '^local +v1$'
    run berth volume ls -q
    assert_output v1
    run berth volume inspect -f '{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Labels.team}}' v1
    assert_success
    assert_output "v1 local /var/lib/berth/volumes/v1/_data blue"
    run berth volume inspect v1
    assert_output_contains '"Scope": "local"'
    run berth volume ls --format '{{.Name}}:{{.Labels}}'
    assert_output 'v1:team=blue'
    run berth volume rm v1
    assert_success
    assert_output v1
    [ ! -e /var/lib/berth/volumes/v1 ]
    run berth volume rm v1
    assert_status 1
    assert_output "berth: No such volume: v1"
    run berth volume rm -f v1
    assert_success
}

@test "volume inspect of a missing volume prints [] and fails" {
    run --separate-stderr berth volume inspect nosuchvol
    assert_status 1
    assert_output "[]"
    [ "$stderr" = "Error: No such volume: nosuchvol" ]
}

@test "a bad volume name is refused with one line, exit 125" {
    run berth volume create 'bad/name'
    assert_status 125
    assert_output_contains 'invalid characters for a local volume name'
    [ "${#lines[@]}" -eq 1 ]
}

@test "a volume in use by a container (running or not) cannot be removed" {
    berth run -d --name user -v busy:/data busybox sleep 1000
    run berth volume rm busy
    assert_status 1
    assert_output_contains "volume is in use"
    berth stop -t 1 user
    run berth volume rm -f busy
    assert_status 1
    assert_output_contains "volume is in use"
    [ -d /var/lib/berth/volumes/busy/_data ]
    berth rm user
    run berth volume rm busy
    assert_success
}

@test "a new named volume is filled with the image's content at the mount path" {
    run berth run --rm -v web:/www busybox cat /www/index.html
    assert_success
    [ -n "$output" ]
    [ -f /var/lib/berth/volumes/web/_data/index.html ]
    # the copy happens once: a changed volume is not refilled
    berth run --rm -v web:/www busybox sh -c 'rm /www/index.html; echo mine > /www/own'
    run berth run --rm -v web:/www busybox ls /www
    assert_output own
}

@test "copy-up keeps owners, modes and symlinks" {
    berth run --name src busybox sh -c 'mkdir -p /srv/d && echo x > /srv/d/f && chown 65534:65534 /srv/d/f && chmod 640 /srv/d/f && ln -s f /srv/d/l'
    berth commit src vol-src:1 >/dev/null
    run berth run --rm -v kept:/srv vol-src:1 sh -c 'stat -c "%u %a" /srv/d/f; readlink /srv/d/l'
    assert_success
    [ "${lines[0]}" = "65534 640" ] || _fail "owner/mode not kept"
    [ "${lines[1]}" = "f" ] || _fail "symlink not kept"
    berth rmi vol-src:1 >/dev/null
}

@test "-v /path makes an anonymous volume that rm -v removes" {
    berth run --name anon -v /data busybox sh -c 'echo a > /data/a'
    name=$(berth inspect -f '{{range .Mounts}}{{.Name}}{{end}}' anon)
    [[ $name =~ ^[0-9a-f]{64}$ ]] || _fail "not an anonymous volume name: $name"
    run berth inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{end}}' anon
    assert_output "volume /data true"
    [ -f "/var/lib/berth/volumes/$name/_data/a" ]
    berth rm -v anon
    [ ! -e "/var/lib/berth/volumes/$name" ]
}

@test "rm without -v keeps the anonymous volume; volume prune removes it" {
    berth run --name anon2 -v /data busybox true
    name=$(berth inspect -f '{{range .Mounts}}{{.Name}}{{end}}' anon2)
    berth volume create named-keep
    berth rm anon2
    [ -d "/var/lib/berth/volumes/$name" ]
    run berth volume prune -f
    assert_success
    assert_output_contains "$name"
    assert_output_not_contains named-keep
    assert_line_matches '^Total reclaimed space: '
    [ ! -e "/var/lib/berth/volumes/$name" ]
    run berth volume prune -af
    assert_output_contains named-keep
}

@test "--rm takes its anonymous volumes along" {
    run berth run --rm -v /data busybox sh -c 'echo x > /data/x'
    assert_success
    run berth volume ls -q
    assert_output ""
}

@test "an image's VOLUME gets an anonymous volume filled from the image" {
    berth run --name mk busybox sh -c 'mkdir /vol && echo img > /vol/f'
    berth commit --change 'VOLUME /vol' mk vol-img:1 >/dev/null
    run berth run --name usevol vol-img:1 cat /vol/f
    assert_success
    assert_output img
    run berth inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}' usevol
    assert_output "volume /vol"
    berth rm -v usevol mk
    run berth volume ls -q
    assert_output ""
    berth rmi vol-img:1 >/dev/null
}

@test "--mount type=volume,readonly is read-only" {
    run berth run --rm --mount type=volume,source=rov,target=/y,readonly busybox touch /y/f
    assert_failure
    assert_output_contains "Read-only file system"
    run berth run --rm --mount type=volume,source=rov,target=/y busybox touch /y/f
    assert_success
    run berth run --rm -v rov:/y:ro busybox ls /y
    assert_output f
}

@test "bad volume specs: one clear line, exit 125, nothing created" {
    for spec in 'bad name:/x' 'data:relative' 'data:/x:bogus' 'a:b:c:d' 'data:/'; do
        run berth run --rm -v "$spec" busybox true
        assert_status 125
        [ "${#lines[@]}" -eq 1 ] || _fail "more than one line for $spec"
        [[ ${lines[0]} == "berth: "* ]] || _fail "no berth: prefix for $spec"
    done
    for spec in 'type=volume,source=x' 'type=nfs,target=/x' 'type=bind,target=/x' 'type=volume,target=/x,bogus=1'; do
        run berth run --rm --mount "$spec" busybox true
        assert_status 125
        [ "${#lines[@]}" -eq 1 ] || _fail "more than one line for $spec"
    done
    run berth run --rm -v d1:/x -v d2:/x busybox true
    assert_status 125
    assert_output "berth: Duplicate mount point: /x"
    [ -z "$(berth ps -aq)" ]
    run berth volume ls -q
    assert_output ""
}

@test "system df counts local volumes" {
    berth volume create dfvol >/dev/null
    echo 12345 > /var/lib/berth/volumes/dfvol/_data/f
    run berth system df
    assert_line_matches '^Local Volumes +1 +0 '
}

# ---- cp

@test "cp host -> container and back, running container, files and dirs" {
    berth run -d --name cpr busybox sleep 1000
    echo hello > "$BATS_TEST_TMPDIR/f"
    mkdir -p "$BATS_TEST_TMPDIR/d/sub"
    echo deep > "$BATS_TEST_TMPDIR/d/sub/x"
    berth cp "$BATS_TEST_TMPDIR/f" cpr:/tmp/
    berth cp "$BATS_TEST_TMPDIR/f" cpr:/tmp/renamed
    berth cp "$BATS_TEST_TMPDIR/d" cpr:/tmp
    berth cp "$BATS_TEST_TMPDIR/d" cpr:/newdir
    run berth exec cpr sh -c 'cat /tmp/f /tmp/renamed /tmp/d/sub/x /newdir/sub/x'
    assert_output "$(printf 'hello\nhello\ndeep\ndeep')"
    run berth exec cpr stat -c %u /tmp/f
    assert_output 0
    berth exec cpr sh -c 'echo fromc > /tmp/c'
    berth cp cpr:/tmp/c "$BATS_TEST_TMPDIR/back"
    [ "$(cat "$BATS_TEST_TMPDIR/back")" = fromc ]
    mkdir "$BATS_TEST_TMPDIR/into"
    berth cp cpr:/tmp/d "$BATS_TEST_TMPDIR/into"
    [ "$(cat "$BATS_TEST_TMPDIR/into/d/sub/x")" = deep ]
    mkdir "$BATS_TEST_TMPDIR/contents"
    berth cp cpr:/tmp/d/. "$BATS_TEST_TMPDIR/contents"
    [ "$(cat "$BATS_TEST_TMPDIR/contents/sub/x")" = deep ]
}

@test "cp to and from a stopped container" {
    berth create --name cps busybox true >/dev/null
    echo stopped > "$BATS_TEST_TMPDIR/s"
    berth cp "$BATS_TEST_TMPDIR/s" cps:/s
    berth cp cps:/etc/passwd "$BATS_TEST_TMPDIR/passwd"
    grep -q '^root:' "$BATS_TEST_TMPDIR/passwd"
    berth cp cps:/s "$BATS_TEST_TMPDIR/s2"
    [ "$(cat "$BATS_TEST_TMPDIR/s2")" = stopped ]
    berth commit cps cp-check:1 >/dev/null
    run berth run --rm cp-check:1 cat /s
    assert_output stopped
    berth rmi cp-check:1 >/dev/null
}

@test "cp with - streams a tar archive both ways" {
    berth run -d --name cpt busybox sleep 1000
    mkdir -p "$BATS_TEST_TMPDIR/t"
    echo one > "$BATS_TEST_TMPDIR/t/one"
    tar -C "$BATS_TEST_TMPDIR/t" -cf - one | berth cp - cpt:/tmp
    run berth exec cpt cat /tmp/one
    assert_output one
    run bash -c "berth cp cpt:/tmp/one - | tar -tf -"
    assert_success
    assert_output one
    run bash -c "berth cp cpt:/tmp/one - | tar -xOf -"
    assert_output one
    run bash -c "echo x | berth cp - cpt:/tmp/one"
    assert_failure
}

@test "cp cannot escape the container through a symlink" {
    berth run -d --name cpe busybox sh -c 'ln -s / /evil; ln -s /etc /etclink; sleep 1000'
    wait_until 10 berth exec cpe test -L /evil
    marker=escape-$RANDOM$RANDOM
    echo inside > "$BATS_TEST_TMPDIR/$marker"
    berth cp "$BATS_TEST_TMPDIR/$marker" cpe:/evil/tmp/
    [ ! -e "/tmp/$marker" ] || _fail "cp wrote to the host's /tmp"
    run berth exec cpe cat "/tmp/$marker"
    assert_output inside
    berth stop -t 1 cpe
    berth cp "$BATS_TEST_TMPDIR/$marker" cpe:/evil/root/
    [ ! -e "/root/$marker" ] || _fail "cp wrote to the host's /root (stopped container)"
    # reading through a symlink resolves inside the container too
    berth cp cpe:/etclink/passwd "$BATS_TEST_TMPDIR/pw"
    [ "$(wc -l < "$BATS_TEST_TMPDIR/pw")" -eq 2 ] || _fail "not the container's /etc/passwd"
    run berth cp -L cpe:/etclink "$BATS_TEST_TMPDIR/etc-copy"
    assert_success
    [ "$(cat "$BATS_TEST_TMPDIR/etc-copy/passwd")" = "$(printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false')" ]
}

@test "cp loads libarchive from the host, never from the container's filesystem" {
    # berth loads libarchive on first use: a container that plants a broken
    # one where the loader would look must not have it loaded by cp (the
    # side that works in the container has it from the host already)
    berth run -d --name cpl busybox sh -c 'for d in /lib /usr/lib /lib64 /usr/lib64 /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do mkdir -p $d && echo broken > $d/libarchive.so.13; done; touch /planted; sleep 1000'
    wait_until 10 berth exec cpl test -e /planted
    echo in > "$BATS_TEST_TMPDIR/in"
    run berth cp "$BATS_TEST_TMPDIR/in" cpl:/tmp/in
    assert_success
    run berth cp cpl:/tmp/in "$BATS_TEST_TMPDIR/out"
    assert_success
    [ "$(cat "$BATS_TEST_TMPDIR/out")" = in ]
    berth stop -t 1 cpl >/dev/null
    run berth cp "$BATS_TEST_TMPDIR/in" cpl:/tmp/in2
    assert_success
    run berth cp cpl:/tmp/in2 "$BATS_TEST_TMPDIR/out2"
    assert_success
    [ "$(cat "$BATS_TEST_TMPDIR/out2")" = in ]
}

@test "cp errors: missing source, dir onto file, no container" {
    berth run -d --name cpx busybox sleep 1000
    run berth cp cpx:/no/such "$BATS_TEST_TMPDIR/x"
    assert_failure
    assert_output_contains "Could not find the file /no/such in container cpx"
    [ "${#lines[@]}" -eq 1 ]
    run berth cp "$BATS_TEST_TMPDIR" cpx:/etc/passwd
    assert_failure
    assert_output_contains "cannot overwrite non-directory"
    run berth cp nosuchctr:/x "$BATS_TEST_TMPDIR/x"
    assert_failure
    assert_output_contains "No such container"
    run berth cp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
    assert_status 125
    # the cause is reported, not the broken pipe it leaves on the other side
    run berth cp "$BATS_TEST_TMPDIR/no-such-file" cpx:/tmp/
    assert_failure
    assert_output_contains "Could not find the file $BATS_TEST_TMPDIR/no-such-file"
    [ "${#lines[@]}" -eq 1 ]
    run berth cp cpx:/etc/passwd "$BATS_TEST_TMPDIR/no/such/dir/x"
    assert_failure
    assert_output_contains "destination directory \"$BATS_TEST_TMPDIR/no/such/dir\" does not exist"
    run berth cp cpx:/etc/passwd "$BATS_TEST_TMPDIR/missing-dir/"
    assert_failure
    assert_output_contains "does not exist"
    run bash -c "echo garbage | berth cp - cpx:/tmp"
    assert_failure
    assert_output_contains "cannot be read"
    run berth exec cpx cat /etc/passwd
    assert_output_contains root:x:0:0
}

@test "inspect shows a named volume's mount as Docker does" {
    berth run --name insp -v named1:/data:ro busybox true
    run berth inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Source}} {{.Destination}} {{.Driver}} {{.RW}}{{end}}' insp
    assert_output "volume named1 /var/lib/berth/volumes/named1/_data /data local false"
    run berth inspect -f '{{json .HostConfig.Binds}}' insp
    assert_output '["named1:/data:ro"]'
}

@test "parallel runs on one new volume fill it once and all see it" {
    pids=()
    for i in 1 2 3 4 5; do
        berth run --rm -v par-vol:/www busybox sh -c "cat /www/index.html >/dev/null && echo $i > /www/run$i" & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    run berth run --rm -v par-vol:/www busybox sh -c 'ls /www | sort | tr "\n" " "'
    assert_success
    [[ $output == *"index.html run1 run2 run3 run4 run5"* ]] || _fail "not every run wrote to the volume"
}

@test "cp -a keeps owners; without -a files belong to root" {
    berth run -d --name cpa busybox sleep 1000
    echo owned > "$BATS_TEST_TMPDIR/owned"
    chown 65534:65534 "$BATS_TEST_TMPDIR/owned"
    berth cp "$BATS_TEST_TMPDIR/owned" cpa:/tmp/plain
    berth cp -a "$BATS_TEST_TMPDIR/owned" cpa:/tmp/kept
    run berth exec cpa stat -c '%u:%g' /tmp/plain /tmp/kept
    assert_output "$(printf '0:0\n65534:65534')"
}

@test "cp -L follows a symlink source, without -L the link is copied" {
    berth run -d --name cpl busybox sh -c 'echo target > /tmp/t; ln -s /tmp/t /tmp/link; sleep 1000'
    wait_until 10 berth exec cpl test -L /tmp/link
    berth cp cpl:/tmp/link "$BATS_TEST_TMPDIR/asis"
    [ -L "$BATS_TEST_TMPDIR/asis" ]
    [ "$(readlink "$BATS_TEST_TMPDIR/asis")" = /tmp/t ]
    berth cp -L cpl:/tmp/link "$BATS_TEST_TMPDIR/followed"
    [ ! -L "$BATS_TEST_TMPDIR/followed" ]
    [ "$(cat "$BATS_TEST_TMPDIR/followed")" = target ]
}

@test "cp into a stopped container's volume lands in the volume" {
    berth run --name cpv -v cpvol:/data busybox true
    echo vol > "$BATS_TEST_TMPDIR/v"
    berth container cp "$BATS_TEST_TMPDIR/v" cpv:/data/v
    [ "$(cat /var/lib/berth/volumes/cpvol/_data/v)" = vol ]
}

@test "system prune --volumes removes unused anonymous volumes" {
    berth run --name sp -v /data busybox true
    name=$(berth inspect -f '{{range .Mounts}}{{.Name}}{{end}}' sp)
    berth volume create keep-named >/dev/null
    run berth system prune -f --volumes
    assert_success
    assert_output_contains "Deleted Volumes:"
    assert_output_contains "$name"
    assert_line_matches '^Total reclaimed space: '
    [ ! -e "/var/lib/berth/volumes/$name" ]
    [ -d /var/lib/berth/volumes/keep-named ]
}

@test "volume ls --filter dangling, label and name" {
    berth volume create --label tier=db fdb >/dev/null
    berth volume create fweb >/dev/null
    berth run -d --name fuser -v fweb:/data busybox sleep 1000 >/dev/null
    run berth volume ls -q -f dangling=true
    assert_output fdb
    run berth volume ls -q -f dangling=false
    assert_output fweb
    run berth volume ls -q -f label=tier=db
    assert_output fdb
    run berth volume ls -q -f name=web
    assert_output fweb
    run berth volume ls -f nosuch=1
    assert_status 125
}

@test "cp of a host directory's content with ./. into a new container dir" {
    berth run -d --name cpdot busybox sleep 1000
    mkdir -p "$BATS_TEST_TMPDIR/dot/sub"
    echo a > "$BATS_TEST_TMPDIR/dot/sub/a"
    (cd "$BATS_TEST_TMPDIR/dot" && berth cp . cpdot:/made)
    run berth exec cpdot cat /made/sub/a
    assert_output a
}

@test "cp keeps non-ASCII and long file names both ways" {
    berth run -d --name cpn busybox sleep 1000
    long=$(printf 'n%.0s' $(seq 1 150))
    mkdir -p "$BATS_TEST_TMPDIR/names"
    echo e > "$BATS_TEST_TMPDIR/names/café-ü"
    echo l > "$BATS_TEST_TMPDIR/names/$long"
    berth cp "$BATS_TEST_TMPDIR/names" cpn:/tmp/
    run berth exec cpn cat "/tmp/names/café-ü" "/tmp/names/$long"
    assert_output "$(printf 'e\nl')"
    berth cp cpn:/tmp/names "$BATS_TEST_TMPDIR/back"
    [ "$(cat "$BATS_TEST_TMPDIR/back/café-ü")" = e ]
    [ "$(cat "$BATS_TEST_TMPDIR/back/$long")" = l ]
}
