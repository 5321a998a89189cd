#!/usr/bin/env bats
# Images in and out: save/load (Docker's and OCI's archives) against skopeo
# and umoci, refusals that leave the store alone, history, commit, export,
# diff.

load helpers

# Our own image (busybox + a marker file, so its layer is not busybox's):
# tests remove and load it back freely without touching busybox:latest.
setup_file() {
    ensure_busybox_image
    T60=$(mktemp -d /tmp/t60.XXXXXX)
    export T60
    "$REPO/tests/harness/mkbusybox.sh" "$T60/rootfs.tar" >&2
    mkdir -p "$T60/m"
    echo "img60 marker $RANDOM$RANDOM" >"$T60/m/img60-marker"
    tar -rf "$T60/rootfs.tar" -C "$T60/m" img60-marker
    berth import -c 'CMD ["sh"]' -m "img60 base" "$T60/rootfs.tar" img60/base:1 >&2
}

teardown_file() {
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
    for i in $(berth images -q 'img60/*'); do berth rmi -f "$i" >/dev/null 2>&1 || true; done
    rm -rf "$T60"
}

teardown() {
    berth rm -f $(berth ps -aq) >/dev/null 2>&1 || true
}

# Everything in the store that a load could change.
store_state() {
    (cd /var/lib/berth && ls -R blobs layers l && cat images.json)
}

base_id() { berth images -q --no-trunc img60/base:1; }

# Load FILE back after the image was removed (the next test needs it).
restore_base() {
    if [ -z "$(base_id)" ]; then
        berth load -q -i "$T60/base-saved.tar" >/dev/null
    fi
}

@test "save writes Docker's layout; rmi + load bring the same image back and it runs" {
    id=$(base_id)
    [ -n "$id" ]
    run berth save -o "$T60/base-saved.tar" img60/base:1
    assert_success
    run tar -tf "$T60/base-saved.tar"
    assert_success
    assert_line_matches '^manifest\.json$'
    assert_line_matches '^repositories$'
    assert_line_matches '^index\.json$'
    assert_line_matches '^oci-layout$'
    assert_line_matches "^blobs/sha256/${id#sha256:}$"
    run sh -c "tar -xOf '$T60/base-saved.tar' manifest.json | jq -r '.[0].RepoTags[0], .[0].Config, (.[0].Layers | length)'"
    assert_output "img60/base:1
blobs/sha256/${id#sha256:}
1"

    run berth rmi img60/base:1
    assert_success
    [ -z "$(base_id)" ]
    run --separate-stderr berth load -i "$T60/base-saved.tar"
    assert_success
    assert_output "Loaded image: img60/base:1"
    [[ $stderr == *"Loading layer"* ]] || _fail "no progress line on stderr: $stderr"
    [ "$(base_id)" = "$id" ]
    run berth run --rm img60/base:1 cat /img60-marker
    assert_success
    assert_output "$(cat "$T60/m/img60-marker")"
}

@test "save --format oci-archive writes an OCI layout; load reads it from stdin, gzip-compressed" {
    restore_base
    id=$(base_id)
    run berth save --format oci-archive -o "$T60/oci.tar" img60/base:1
    assert_success
    run tar -tf "$T60/oci.tar"
    assert_output_not_contains "manifest.json"
    assert_line_matches '^index\.json$'
    run sh -c "tar -xOf '$T60/oci.tar' index.json | jq -r '.manifests[0].annotations[\"org.opencontainers.image.ref.name\"], .manifests[0].annotations[\"io.containerd.image.name\"]'"
    assert_output "1
docker.io/img60/base:1"
    berth rmi img60/base:1
    run sh -c "gzip -c '$T60/oci.tar' | berth load -q"
    assert_success
    assert_output "Loaded image: img60/base:1"
    [ "$(base_id)" = "$id" ]
    run berth run --rm img60/base:1 cat /img60-marker
    assert_output "$(cat "$T60/m/img60-marker")"
}

@test "on a terminal, save and load draw a progress bar per layer; -q draws none" {
    restore_base
    # script(1) gives berth a terminal (stderr included)
    script -qec "berth save -o $T60/bar.tar img60/base:1" /dev/null >"$T60/bar-save.out"
    run sh -c "tr '\r' '\n' < '$T60/bar-save.out'"
    assert_line_matches '^.*Saving layer [0-9a-f]{12} \[=+\]  [0-9.]+[kM]?B/[0-9.]+[kM]?B$'
    berth rmi img60/base:1 >/dev/null
    script -qec "berth load -i $T60/bar.tar" /dev/null >"$T60/bar-load.out"
    run sh -c "tr '\r' '\n' < '$T60/bar-load.out'"
    assert_line_matches '^.*Loading layer [0-9a-f]{12} \[=+\]  [0-9.]+[kM]?B/[0-9.]+[kM]?B$'
    assert_line_matches '^Loaded image: img60/base:1$'
    [ -n "$(base_id)" ]
    script -qec "berth save -q -o $T60/bar.tar img60/base:1" /dev/null >"$T60/bar-q.out"
    [ ! -s "$T60/bar-q.out" ] || _fail "quiet save printed: $(cat -v "$T60/bar-q.out")"
}

@test "several images and tags in one archive; save to stdout" {
    restore_base
    berth tag img60/base:1 img60/base:second
    run sh -c "berth save -q img60/base:1 img60/base:second busybox > '$T60/two.tar'"
    assert_success
    run sh -c "tar -xOf '$T60/two.tar' manifest.json | jq -r 'length, (map(.RepoTags | join(\",\")) | sort | join(\" \"))'"
    assert_output "2
busybox:latest img60/base:1,img60/base:second"
    berth rmi img60/base:second >/dev/null
    berth rmi img60/base:1 >/dev/null
    run --separate-stderr berth load -i "$T60/two.tar"
    assert_success
    assert_line_matches '^Loaded image: busybox:latest$'
    assert_line_matches '^Loaded image: img60/base:1$'
    assert_line_matches '^Loaded image: img60/base:second$'
    [ "$(berth images -q img60/base:1)" = "$(berth images -q img60/base:second)" ]
    berth rmi img60/base:second >/dev/null
}

@test "save refuses to write to a terminal and an unknown image before writing" {
    run berth save -o "$T60/never.tar" img60/base:1 no-such-image:1
    assert_status 125
    assert_output_contains "No such image: no-such-image:1"
    [ ! -e "$T60/never.tar" ]
    run script -qec "berth save img60/base:1" /dev/null
    assert_output_contains "cowardly refusing to save to a terminal"
}

@test "skopeo reads berth's archives; umoci unpacks the same files berth exports" {
    restore_base
    id=$(base_id)
    berth save -q -o "$T60/sk-src.tar" img60/base:1
    run skopeo inspect "docker-archive:$T60/sk-src.tar"
    assert_success
    [ "$(echo "$output" | jq -r '.Layers | length')" = 1 ]
    [ "$(echo "$output" | jq -r '.Architecture')" = amd64 ]
    run skopeo inspect --config "oci-archive:$T60/sk-src.tar"
    assert_success
    [ "$(echo "$output" | jq -r '.config.Cmd[0]')" = sh ]

    rm -rf "$T60/layout" "$T60/bundle"
    run skopeo copy "docker-archive:$T60/sk-src.tar" "oci:$T60/layout:t1"
    assert_success
    run umoci unpack --image "$T60/layout:t1" "$T60/bundle"
    assert_success
    (cd "$T60/bundle/rootfs" && find . -mindepth 1 | sed 's|^\./||' | sort) >"$T60/umoci.list"
    name=$(unique_name exp)
    berth create --name "$name" img60/base:1 true >/dev/null
    berth export "$name" | tar -t | sed 's|/$||' | sort >"$T60/berth.list"
    run diff "$T60/umoci.list" "$T60/berth.list"
    assert_success
    [ "$(wc -l <"$T60/berth.list")" -gt 100 ]
    cmp "$T60/bundle/rootfs/img60-marker" "$T60/m/img60-marker"
}

@test "images made by skopeo (docker-archive, oci-archive) and umoci load and run" {
    restore_base
    berth save -q -o "$T60/src.tar" img60/base:1
    rm -rf "$T60/sl"
    skopeo copy -q "docker-archive:$T60/src.tar" "oci:$T60/sl:x"
    # the OCI layout now has gzip layers; skopeo writes both kinds of archive
    rm -f "$T60/sk-docker.tar" "$T60/sk-oci.tar"
    run skopeo copy "oci:$T60/sl:x" "docker-archive:$T60/sk-docker.tar:img60/skdocker:1"
    assert_success
    run skopeo copy "oci:$T60/sl:x" "oci-archive:$T60/sk-oci.tar:img60/skoci:1"
    assert_success
    run --separate-stderr berth load -i "$T60/sk-docker.tar"
    assert_success
    assert_output "Loaded image: img60/skdocker:1"
    run --separate-stderr berth load -i "$T60/sk-oci.tar"
    assert_success
    assert_output "Loaded image: img60/skoci:1"
    for img in img60/skdocker:1 img60/skoci:1; do
        run berth run --rm "$img" cat /img60-marker
        assert_success
        assert_output "$(cat "$T60/m/img60-marker")"
    done

    # a layout built by umoci from scratch: busybox's rootfs unpacked by hand
    rm -rf "$T60/ul" "$T60/ub"
    umoci init --layout "$T60/ul"
    umoci new --image "$T60/ul:u"
    umoci unpack --image "$T60/ul:u" "$T60/ub"
    tar -xf "$T60/rootfs.tar" -C "$T60/ub/rootfs"
    echo umoci-made >"$T60/ub/rootfs/umoci-file"
    umoci repack --image "$T60/ul:u" "$T60/ub"
    umoci config --image "$T60/ul:u" --config.cmd cat --config.cmd /umoci-file
    rm -f "$T60/um.tar"
    skopeo copy -q "oci:$T60/ul:u" "oci-archive:$T60/um.tar:img60/umoci:1"
    run --separate-stderr berth load -i "$T60/um.tar"
    assert_success
    assert_output "Loaded image: img60/umoci:1"
    run berth run --rm img60/umoci:1
    assert_success
    assert_output "umoci-made"
}

@test "podman save's archives load into berth and run; berth's archives load into podman" {
    restore_base
    # podman's own store on the guest's tmpfs (vfs: no overlay on overlay);
    # import and save need no container runtime.
    pm() {
        podman --root "$T60/pm/root" --runroot "$T60/pm/run" --storage-driver vfs \
            --cgroup-manager cgroupfs --events-backend none "$@"
    }
    rm -rf "$T60/pm"
    echo podman-made >"$T60/m/pm-file"
    cp "$T60/rootfs.tar" "$T60/pm-rootfs.tar"
    tar -rf "$T60/pm-rootfs.tar" -C "$T60/m" pm-file
    pm import -q -c 'CMD ["cat","/pm-file"]' "$T60/pm-rootfs.tar" localhost/img60/pm:1 >/dev/null
    pm save -q -o "$T60/pm-docker.tar" localhost/img60/pm:1
    pm save -q --format oci-archive -o "$T60/pm-oci.tar" localhost/img60/pm:1
    run --separate-stderr berth load -i "$T60/pm-docker.tar"
    assert_success
    assert_output "Loaded image: localhost/img60/pm:1"
    run berth run --rm localhost/img60/pm:1
    assert_success
    assert_output podman-made
    berth rmi localhost/img60/pm:1 >/dev/null
    run --separate-stderr berth load -i "$T60/pm-oci.tar"
    assert_success
    run berth run --rm localhost/img60/pm:1
    assert_output podman-made

    # the other way: podman loads what berth saved, with the same layers
    berth save -q -o "$T60/to-podman.tar" img60/base:1
    run pm load -q -i "$T60/to-podman.tar"
    assert_success
    run pm image inspect --format '{{json .RootFS.Layers}}' img60/base:1
    assert_success
    [ "$output" = "$(berth image inspect -f '{{json .RootFS.Layers}}' img60/base:1)" ] || _fail "layers differ: $output"
    berth rmi localhost/img60/pm:1 >/dev/null
    rm -rf "$T60/pm"
}

@test "truncated, random, bad-digest and escaping archives are refused and the store is unchanged" {
    restore_base
    berth save -q -o "$T60/good.tar" img60/base:1
    berth rmi img60/base:1 >/dev/null
    before=$(store_state)

    size=$(stat -c %s "$T60/good.tar")
    head -c $((size / 2)) "$T60/good.tar" >"$T60/trunc.tar"
    run berth load -i "$T60/trunc.tar"
    assert_status 125
    [ "${#lines[@]}" -eq 1 ] || _fail "expected one line"
    assert_output_contains "berth: load $T60/trunc.tar: invalid image archive"
    [ "$(store_state)" = "$before" ]

    head -c 100000 /dev/urandom >"$T60/random.bin"
    run berth load -i "$T60/random.bin"
    assert_status 125
    [ "${#lines[@]}" -eq 1 ] || _fail "expected one line"
    [ "$(store_state)" = "$before" ]

    # the image config edited, still under its digest's name
    rm -rf "$T60/bad" && mkdir "$T60/bad"
    tar -xf "$T60/good.tar" -C "$T60/bad"
    cfg=$(jq -r '.[0].Config' "$T60/bad/manifest.json")
    jq -c '.config.Cmd = ["evil"]' "$T60/bad/$cfg" >"$T60/cfg" && cat "$T60/cfg" >"$T60/bad/$cfg"
    tar -cf "$T60/bad.tar" -C "$T60/bad" .
    run berth load -i "$T60/bad.tar"
    assert_status 125
    assert_output_contains "does not match its digest"
    [ "${#lines[@]}" -eq 1 ] || _fail "expected one line"
    [ "$(store_state)" = "$before" ]

    # a layer whose diff_id is wrong (only manifest.json: the Docker path)
    rm -f "$T60/bad/index.json"
    tar -xf "$T60/good.tar" -C "$T60/bad" "$cfg"
    layer=$(jq -r '.[0].Layers[0]' "$T60/bad/manifest.json")
    echo extra >"$T60/extra" && tar -rf "$T60/bad/$layer" -C "$T60" extra
    mv "$T60/bad/$layer" "$T60/bad/changed-layer.tar"
    jq -c '.[0].Layers = ["changed-layer.tar"]' "$T60/bad/manifest.json" >"$T60/m.json" && mv "$T60/m.json" "$T60/bad/manifest.json"
    tar -cf "$T60/bad2.tar" -C "$T60/bad" .
    run berth load -i "$T60/bad2.tar"
    assert_status 125
    assert_output_contains "layer digest mismatch"
    [ "$(store_state)" = "$before" ]

    # a layer entry ../../x after a good (new) layer: the good one is
    # unpacked first, then removed again
    mkdir -p "$T60/esc/a/b" "$T60/esc/g" && echo pwned >"$T60/esc/x"
    (cd "$T60/esc/a/b" && tar -cPf "$T60/esc/evil.tar" ../../x)
    tar -tPf "$T60/esc/evil.tar" | grep -qx '../../x'
    echo "fresh $RANDOM$RANDOM" >"$T60/esc/g/fresh-file"
    glayer=good.tar
    tar -cf "$T60/esc/$glayer" -C "$T60/esc/g" fresh-file
    d_good=$(sha256sum <"$T60/esc/$glayer" | cut -d' ' -f1)
    d_evil=$(sha256sum <"$T60/esc/evil.tar" | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
        "$d_good" "$d_evil" >"$T60/esc/config.json"
    printf '[{"Config":"config.json","RepoTags":["img60/evil:1"],"Layers":["%s","evil.tar"]}]' \
        "$glayer" >"$T60/esc/manifest.json"
    tar -cf "$T60/evil-archive.tar" -C "$T60/esc" manifest.json config.json "$glayer" evil.tar
    run berth load -i "$T60/evil-archive.tar"
    assert_status 125
    assert_output_contains "escapes the layer"
    [ ! -e /var/lib/berth/x ] && [ ! -e /var/lib/berth/tmp/x ] && [ ! -e /var/lib/x ]
    [ "$(store_state)" = "$before" ]
    [ -z "$(berth images -q img60/evil:1)" ]

    # and the good archive still loads
    berth load -q -i "$T60/good.tar"
}

@test "history shows Docker's columns, newest first" {
    restore_base
    run berth history img60/base:1
    assert_success
    [[ ${lines[0]} =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]] || _fail "bad header"
    short=$(berth images -q img60/base:1)
    [[ ${lines[1]} =~ ^$short\ +[^\ ].*\ ago\ +berth\ import\ +[0-9.]+MB\ +img60\ base$ ]] || _fail "bad row"
    [ "${#lines[@]}" -eq 2 ]

    name=$(unique_name hist)
    berth run --name "$name" img60/base:1 sh -c 'echo 1234567890 > /h; echo a-long-command-cut-with-an-ellipsis' >/dev/null
    berth commit -m "second step" "$name" img60/hist:1 >/dev/null
    run berth history img60/hist:1
    assert_success
    [ "${#lines[@]}" -eq 3 ]
    # 45 characters: 44 of the command and "…"
    [[ ${lines[1]} =~ ^[0-9a-f]{12}\ +.*\ ago\ +sh\ -c\ echo\ 1234567890\ \>\ /h\;\ echo\ a-long-comm…\ +[0-9.]+k?B\ +second\ step$ ]] || _fail "bad top row"
    [[ ${lines[2]} =~ ^\<missing\>\ + ]] || _fail "lower rows are <missing>"
    run berth history -q img60/hist:1
    assert_output "$(berth images -q img60/hist:1)
<missing>"
    run berth history --no-trunc --format '{{.ID}}|{{.CreatedBy}}|{{.Comment}}' img60/hist:1
    assert_output "$(berth images -q --no-trunc img60/hist:1)|sh -c echo 1234567890 > /h; echo a-long-command-cut-with-an-ellipsis|second step
<missing>|berth import|img60 base"
    run berth image history --human=false --format '{{.Size}}' img60/hist:1
    [[ ${lines[0]} =~ ^[0-9]+$ ]] || _fail "size in bytes"
    run berth history no-such-image:7
    assert_status 125
    assert_output "berth: No such image: no-such-image:7"
}

@test "commit: new and deleted files, opaque dirs, config changes; the image runs" {
    restore_base
    name=$(unique_name commit)
    berth run --name "$name" img60/base:1 sh -c '
        echo new > /added; mkdir -p /d; echo x > /d/f; ln /d/f /d/hard
        rm /img60-marker; rm -r /www
        rm -rf /var/www && mkdir /var/www && echo only > /var/www/only' >/dev/null
    run berth commit -m "made by test" -a "Tester <t@example.com>" -c 'CMD ["cat","/added"]' -c 'ENV A=b' \
        "$name" img60/commit:1
    assert_success
    [[ $output =~ ^sha256:[0-9a-f]{64}$ ]] || _fail "not an image ID"
    [ "$output" = "$(berth images -q --no-trunc img60/commit:1)" ]
    run berth run --rm img60/commit:1
    assert_success
    assert_output "new"
    run berth run --rm img60/commit:1 sh -c '
        test ! -e /img60-marker && test ! -e /www && cat /d/f && echo "$A" && ls /var/www &&
        [ "$(stat -c %i /d/f)" = "$(stat -c %i /d/hard)" ] && echo linked'
    assert_success
    assert_output "x
b
only
linked"
    # the config has the author and the history the message
    berth save -q -o "$T60/commit.tar" img60/commit:1
    cfg=$(tar -xOf "$T60/commit.tar" manifest.json | jq -r '.[0].Config')
    run sh -c "tar -xOf '$T60/commit.tar' '$cfg' | jq -r '.author, .history[-1].comment, .history[-1].author, (.rootfs.diff_ids | length)'"
    assert_output "Tester <t@example.com>
made by test
Tester <t@example.com>
2"
    # image inspect shows the same, and only looks at images
    run berth image inspect -f '{{.Author}}|{{.Comment}}|{{index .Config.Env 1}}|{{len .RootFS.Layers}}' img60/commit:1
    assert_output "Tester <t@example.com>|made by test|A=b|2"
    run --separate-stderr berth image inspect "$name"
    assert_status 1
    assert_output "[]"
    [ "$stderr" = "Error: No such image: $name" ] || _fail "stderr: $stderr"
    run berth container inspect -f '{{.Name}}' "$name"
    assert_output "/$name"
    # the layer carries the deletions as whiteouts
    top=$(tar -xOf "$T60/commit.tar" manifest.json | jq -r '.[0].Layers[-1]')
    run sh -c "tar -xOf '$T60/commit.tar' '$top' | tar -t"
    assert_line_matches '^\.wh\.img60-marker$'
    assert_line_matches '^\.wh\.www$'
    assert_line_matches '^var/www/\.wh\.\.wh\.\.opq$'
    assert_output_not_contains "etc/hostname"
    assert_output_not_contains "resolv.conf"
}

@test "commit -c reads a change as build reads the line: WORKDIR cleaned, HEALTHCHECK options, \$VAR from Env" {
    restore_base
    name=$(unique_name changes)
    berth create --name "$name" -w /srv/app -e BASE=/opt img60/base:1 true >/dev/null
    run berth commit -c 'WORKDIR rel/../sub/.' -c 'HEALTHCHECK --interval=5s --retries=2 CMD true' \
        -c 'ENV HOME_DIR=$BASE/home' "$name" img60/changes:1
    assert_success
    run sh -c "berth image inspect img60/changes:1 | jq -c '.[0].Config |
        .WorkingDir, [.Healthcheck.Test, .Healthcheck.Interval, .Healthcheck.Retries, .Healthcheck.Timeout],
        (.Env[] | select(startswith(\"HOME_DIR=\")))'"
    assert_success
    assert_output '"/srv/app/sub"
[["CMD-SHELL","true"],5000000000,2,null]
"HOME_DIR=/opt/home"'
    run berth commit -c 'WORKDIR rel' -c 'HEALTHCHECK NONE' "$name" img60/changes:2
    assert_success
    run berth image inspect -f '{{.Config.WorkingDir}} {{index .Config.Healthcheck.Test 0}}' img60/changes:2
    assert_output "/srv/app/rel NONE"
    run berth commit -c 'HEALTHCHECK --interval=1ns CMD true' "$name" img60/x:1
    assert_status 125
    assert_output_contains "HEALTHCHECK --interval cannot be less than 1ms"
    # the -c values are one list, as Docker's: an ENTRYPOINT of its own clears
    # the Cmd it inherits, one after a CMD keeps that CMD
    berth create --name "$name-cmd" img60/base:1 sh -c 'echo from-cmd' >/dev/null
    run berth commit -c 'ENTRYPOINT ["echo", "ep"]' "$name-cmd" img60/changes:3
    assert_success
    run berth image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' img60/changes:3
    assert_output '["echo","ep"] null'
    run berth run --rm img60/changes:3
    assert_output "ep"
    run berth commit -c 'CMD ["arg"]' -c 'ENTRYPOINT ["echo", "ep"]' "$name-cmd" img60/changes:4
    assert_success
    run berth run --rm img60/changes:4
    assert_output "ep arg"
    berth rm "$name" "$name-cmd" >/dev/null
}

@test "commit of a running container pauses it for the snapshot and resumes it" {
    restore_base
    name=$(unique_name live)
    berth run -d --name "$name" img60/base:1 sh -c 'echo state-1 > /live; echo ready; exec sleep 1000'
    wait_until 10 bash -c "berth logs $name | grep -q ready"
    pid=$(berth inspect -f '{{.State.Pid}}' "$name")
    run berth commit "$name" img60/live:1
    assert_success
    # still the same process, running and no longer paused
    [ "$(berth inspect -f '{{.State.Status}} {{.State.Paused}} {{.State.Pid}}' "$name")" = "running false $pid" ]
    grep -q '^State:.*S (sleeping)' "/proc/$pid/status" || _fail "the container was left stopped: $(grep State /proc/$pid/status)"
    run berth run --rm img60/live:1 cat /live
    assert_output state-1
    run berth commit --pause=false "$name" img60/live:2
    assert_success
    run berth commit --pause=maybe "$name" img60/live:3
    assert_status 125
    assert_output_contains "invalid value \`maybe\` for --pause"
    berth rm -f "$name" >/dev/null
}

@test "commit of an unknown container or with a bad change fails and adds nothing" {
    restore_base
    before=$(store_state)
    run berth commit no-such-container img60/x:1
    assert_status 125
    assert_output_contains "No such container"
    name=$(unique_name badchange)
    berth create --name "$name" img60/base:1 true >/dev/null
    run berth commit -c 'RUN rm -rf /' "$name" img60/x:1
    assert_status 125
    assert_output_contains "RUN is not a valid change command"
    run berth commit "$name" 'Bad:Name'
    assert_status 125
    [ "$(store_state)" = "$before" ]
}

@test "export writes the merged filesystem with the container's changes" {
    restore_base
    name=$(unique_name export)
    berth run --name "$name" img60/base:1 sh -c 'echo e > /exported; rm /img60-marker' >/dev/null
    run sh -c "berth export '$name' | tar -t"
    assert_success
    assert_line_matches '^exported$'
    assert_line_matches '^bin/busybox$'
    assert_output_not_contains "img60-marker"
    run berth container export -o "$T60/exp.tar" "$name"
    assert_success
    [ "$(tar -xOf "$T60/exp.tar" exported)" = e ]
    # a running container can be exported too
    name2=$(unique_name export-running)
    berth run -d --name "$name2" img60/base:1 sh -c 'echo r > /running-file; sleep 60' >/dev/null
    wait_until 10 sh -c "berth export '$name2' | tar -t | grep -qx running-file"
    run script -qec "berth export $name2" /dev/null
    assert_output_contains "cowardly refusing"
}

@test "diff lists A/C/D like docker diff" {
    restore_base
    name=$(unique_name diff)
    berth run --name "$name" img60/base:1 sh -c '
        echo new > /added; mkdir -p /d; echo x > /d/f
        rm /img60-marker; rm -r /www; echo changed >> /etc/passwd
        rm -rf /var/www && mkdir /var/www && echo only > /var/www/only' >/dev/null
    run berth diff "$name"
    assert_success
    assert_output "A /added
A /d
A /d/f
C /etc
C /etc/passwd
D /img60-marker
C /var
C /var/www
A /var/www/only
D /www"
    run berth container diff "$name"
    assert_success
    name2=$(unique_name nodiff)
    berth run --name "$name2" img60/base:1 true
    run berth diff "$name2"
    assert_success
    assert_output ""
}
