#!/bin/bash
# tests/harness/mkbusybox.sh OUT.tar — a tiny rootfs tarball for `berth import`.
#
# Made from Debian's busybox-static (one static /bin/busybox): every applet
# as a symlink (like `busybox --install -s`), /etc/passwd and /etc/group
# with root and nobody, /tmp, /root, and a web root /www (also /var/www)
# with an index.html for `httpd -f -p 8080 -h /www`.
# The tarball is reproducible (fixed owners, order and mtimes), so importing
# it twice gives the same layer digest.
set -euo pipefail

die() { echo "mkbusybox: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: mkbusybox.sh OUT.tar"
out=$1

busybox=''
for candidate in /bin/busybox /usr/bin/busybox; do
    # Must be static: it runs in a rootfs without a libc.
    if [ -x "$candidate" ] && ! LC_ALL=C ldd "$candidate" >/dev/null 2>&1; then
        busybox=$candidate
        break
    fi
done
[ -n "$busybox" ] || die "no static busybox found (apt-get install busybox-static)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/mkbusybox.XXXXXX")
trap 'rm -rf "$dir"' EXIT

chmod 0755 "$dir"
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,root,home,var/www,www}
install -d -m 1777 "$dir/tmp" "$dir/var/tmp"
install -m 0755 "$busybox" "$dir/bin/busybox"

# Every applet this busybox has, at the path it asks for (bin/sh, usr/bin/wget...).
"$dir/bin/busybox" --list-full | while IFS= read -r applet; do
    if [ -z "$applet" ] || [ -e "$dir/$applet" ] || [ -L "$dir/$applet" ]; then
        continue
    fi
    mkdir -p "$dir/$(dirname "$applet")"
    ln -s /bin/busybox "$dir/$applet"
done
[ -L "$dir/bin/sh" ] || die "busybox --list-full gave no bin/sh"

cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$dir/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
chmod 0700 "$dir/root"

page='<html><body><h1>hello from berth</h1><p>served by busybox httpd</p></body></html>'
echo "$page" >"$dir/www/index.html"
echo "$page" >"$dir/var/www/index.html"

tar --sort=name --numeric-owner --owner=0 --group=0 \
    --mtime='2024-01-01 00:00:00Z' --format=gnu \
    -C "$dir" -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "mkbusybox: wrote $out ($(du -k "$out" | cut -f1) KiB, $(tar -tf "$out" | wc -l) entries)" >&2
