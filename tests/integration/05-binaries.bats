#!/usr/bin/env bats
# The installed programs are built with Debian's hardening flags (what
# dpkg-buildflags' hardening=+all gives, checked as hardening-check does):
# PIE, full RELRO (read-only relocations, bound now), the stack protector and
# _FORTIFY_SOURCE's checked functions.  And each links only the libraries
# it calls: libcurl, libarchive, libnftables and libcrypto are loaded on
# first use (dlopen), so `berth version`, `ps`, `images`, `inspect`, `run`,
# the generator (every boot and daemon-reload) and the runtime hooks (every
# container start and stop) never map them and the forty-odd libraries
# behind them; the generator maps libsystemd only for a line to log.

load helpers

programs() {
    command -v berth
    echo /usr/libexec/berth/berth-runtime
    pkg-config --variable=systemdsystemgeneratordir systemd 2>/dev/null | sed 's|$|/berth-generator|' ||
        echo /usr/lib/systemd/system-generators/berth-generator
}

@test "the installed programs exist" {
    run programs
    [ "${#lines[@]}" -eq 3 ]
    for p in "${lines[@]}"; do
        [ -x "$p" ] || _fail "not installed: $p"
    done
}

@test "PIE and full RELRO" {
    for p in $(programs); do
        run readelf -hldW "$p"
        assert_success
        assert_line_matches '^ +Type: +DYN '
        assert_line_matches 'GNU_RELRO'
        assert_line_matches '\(FLAGS_1\).*PIE'
        assert_line_matches '\((BIND_NOW|FLAGS)\).*(BIND_NOW|NOW)'
    done
}

# hardening-check's rule for fortify: some checked function (__*_chk) is
# used, or no function that has a checked variant is used at all; a
# program using only unchecked ones was built without _FORTIFY_SOURCE.
@test "stack protector and fortified functions" {
    local fortifiable='memcpy|memmove|memset|strcpy|stpcpy|strcat|strncpy|strncat|sprintf|snprintf|vsprintf|vsnprintf|printf|fprintf|vfprintf|read|pread|recv|recvfrom|realpath|getcwd|fgets|readlink|poll|confstr'
    for p in $(programs); do
        run readelf --dyn-syms -W "$p"
        assert_success
        assert_output_contains __stack_chk_fail
        if ! [[ $output =~ __[a-z]+_chk@ ]]; then
            [[ ! $output =~ \ ($fortifiable)@ ]] || _fail "$p: unchecked libc functions and no __*_chk ones"
        fi
    done
}

# The sonames a program NEEDs, without their versions, sorted on one line;
# a sanitizer build's runtime libraries left out.
needed() {
    readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(lib[^.]*\)\.so.*\]$/\1/p' |
        grep -Ev '^lib(asan|ubsan|m|gcc_s|stdc\+\+|dl|pthread|rt)$' | sort | tr '\n' ' '
}

@test "each program links only the libraries it calls" {
    local p
    mapfile -t p < <(programs)
    run needed "${p[0]}"
    assert_output "libc libcap libjansson libmnl libseccomp libsystemd "
    run needed "${p[1]}"
    assert_output "libc libcap libjansson libmnl libseccomp libsystemd "
    # the generator: libsystemd (and its compression and crypto libraries)
    # on first use, for a line to log
    run needed "${p[2]}"
    assert_output "libc libcap libjansson "
}

@test "the generator maps libsystemd only to log a bad definition, and the line reaches the journal" {
    local gen out
    gen=$(programs | tail -n 1)
    out=$(mktemp -d "$BATS_TEST_TMPDIR/gen.XXXXXX")
    mkdir -p /etc/berth/containers
    printf '[Container]\nImage=busybox\nExec=true\n' >/etc/berth/containers/dlgood.container
    loads "$gen" "$out" "$out" "$out"
    assert_output_not_contains libsystemd
    [ -f "$out/container@dlgood.service.d/50-berth.conf" ] || _fail "no drop-in written"
    printf '[Container]\nImage=busybox\nFrobnicate=1\n' >/etc/berth/containers/dlbad.container
    run env LD_DEBUG=files "$gen" "$out" "$out" "$out"
    assert_output_contains "file=libsystemd.so.0"
    assert_output_contains "dlbad.container:3: "
    rm -f /etc/berth/containers/dlgood.container /etc/berth/containers/dlbad.container
    wait_until 10 journal_has -t berth-generator -- "dlbad.container:3: "
}

teardown() {
    rm -f /etc/berth/containers/dlgood.container /etc/berth/containers/dlbad.container
    if [ -n "${HOOKS_ENV:-}" ]; then
        systemctl unset-environment LD_DEBUG
    fi
    remove_all_containers
}

# What the dynamic loader opens (LD_DEBUG=files, on stderr) for one command.
loads() {
    run env LD_DEBUG=files "$@"
    assert_success
}

@test "version, ps, images, inspect and run do not load libcurl, libarchive, libnftables or libcrypto" {
    ensure_busybox_image
    local name
    name=$(unique_name)
    berth create --name "$name" busybox true >/dev/null
    for cmd in version "ps -a" images "inspect $name" "inspect busybox" "run --rm --network none busybox true"; do
        # shellcheck disable=SC2086
        loads berth $cmd
        assert_output_not_contains libcurl
        assert_output_not_contains libarchive
        assert_output_not_contains libnftables
        assert_output_not_contains libcrypto
        assert_output_not_contains libgnutls
        assert_output_not_contains libicu
    done
    # the method sees a loaded library: pull loads libcurl (and fails here)
    run env LD_DEBUG=files berth pull 127.0.0.1:1/nothing
    assert_failure
    assert_output_contains "file=libcurl.so"
}

# The hooks a container's transient unit runs (berth-runtime _shim and
# _cleanup) write the loader's trace to the unit's journal when the
# manager's environment has LD_DEBUG: neither opens libcrypto.  (A
# definition's unit runs `berth _unit-start`, which hashes the name into
# the container's id, as the generator does.)
@test "the hooks of a container's unit do not load libcrypto" {
    ensure_busybox_image
    local name
    name=$(unique_name)
    HOOKS_ENV=1
    systemctl set-environment LD_DEBUG=files
    berth run -d --name "$name" --network none busybox true >/dev/null
    hooks_ran() {
        [ "$(journalctl -q -o cat -u "berth-$name.service" --no-pager |
            grep -c 'transferring control: /usr/libexec/berth/berth-runtime')" -eq 2 ]
    }
    # the manager's environment is read at each spawn: kept until the stop
    # hook has started too (teardown unsets it)
    wait_until 20 hooks_ran
    systemctl unset-environment LD_DEBUG
    run journalctl -q -o cat -u "berth-$name.service" --no-pager
    assert_success
    assert_output_contains "file=libsystemd.so.0"
    assert_output_not_contains libcrypto
}

@test "without libcrypto, a command that hashes is one line and the store is intact" {
    ensure_busybox_image
    local before
    before=$(cat /var/lib/berth/images.json)
    without_lib libcrypto.so.3 berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox:latest
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_line_matches '^berth: libcrypto\.so\.3 is not available: '
    without_lib libcrypto.so.3 berth run --rm --network none busybox echo still-runs
    assert_success
    assert_output still-runs
    assert_equal "$(cat /var/lib/berth/images.json)" "$before"
}

@test "without libarchive, save, load and import are one line; the other commands work" {
    ensure_busybox_image
    local before
    before=$(cat /var/lib/berth/images.json)
    without_lib libarchive.so.13 berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox:latest
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_line_matches '^berth: (.*: )?libarchive\.so\.13 is not available: .*libarchive\.so\.13[^:]*: file too short$'
    berth save -o "$BATS_TEST_TMPDIR/bb.tar" busybox:latest
    without_lib libarchive.so.13 berth load -i "$BATS_TEST_TMPDIR/bb.tar"
    assert_status 125
    assert_equal "${#lines[@]}" 1
    assert_output_contains "libarchive.so.13 is not available"
    without_lib libarchive.so.13 berth import "$BATS_TEST_TMPDIR/bb.tar" nolib:1
    assert_status 125
    assert_output_contains "libarchive.so.13 is not available"
    without_lib libarchive.so.13 berth images -q busybox:latest
    assert_success
    assert_output "$(berth images -q busybox:latest)"
    assert_equal "$(cat /var/lib/berth/images.json)" "$before"
}
