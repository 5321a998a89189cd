#!/usr/bin/env bats
# The installed programs are built with Debian's hardening flags (what
# dpkg-buildflags' hardening=+all gives, checked as hardening-check does):
# PIE, full RELRO (read-only relocations, bound now), the stack protector and
# _FORTIFY_SOURCE's checked functions.

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
