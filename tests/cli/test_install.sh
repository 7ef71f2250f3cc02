#!/usr/bin/env bash
# `cmake --install` puts what an operator needs in place: the binary, the
# man page, an example config per input format (each passes `vigil config
# check`), and a systemd unit that systemd-analyze finds no fault with.
#
# usage: test_install.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1
build=$(dirname "$vigil")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/usr" > /dev/null
[ -x "$tmp/usr/bin/vigil" ] || fail "binary"
[ -s "$tmp/usr/share/man/man1/vigil.1" ] || fail "man page"
n=0
for cfg in "$tmp"/usr/share/doc/vigil/examples/*.json; do
    "$tmp/usr/bin/vigil" config check -c "$cfg" > /dev/null || fail "$cfg does not pass config check"
    n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "expected an example config per input format, found $n"
for fmt in json influx graphite collectd; do
    grep -l "\"format\": \"$fmt" "$tmp"/usr/share/doc/vigil/examples/*.json > /dev/null ||
        fail "no example config for $fmt"
done
unit=$tmp/usr/lib/systemd/system/vigil.service
[ -s "$unit" ] || fail "systemd unit"
grep -q '^ExecStart=/usr/bin/vigil run -c /etc/vigil/vigil.json$' "$unit" || fail "ExecStart"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" || fail "ExecReload"
for hardening in NoNewPrivileges=yes ProtectSystem=strict DynamicUser=yes CapabilityBoundingSet=; do
    grep -q "^$hardening" "$unit" || fail "unit lacks $hardening"
done
if command -v systemd-analyze > /dev/null; then
    # verify resolves ExecStart against the running system: point it at ours.
    sed "s|/usr/bin/vigil|$tmp/usr/bin/vigil|g" "$unit" > "$tmp/vigil.service"
    out=$(systemd-analyze verify "$tmp/vigil.service" 2>&1 || true)
    if echo "$out" | grep -v 'Documentation\|man:' | grep -qi 'vigil.service.*\(error\|unknown\|invalid\)'; then
        fail "systemd-analyze: $out"
    fi
fi
# Every command answers --help.
for cmd in run replay demo broker config; do
    "$tmp/usr/bin/vigil" "$cmd" --help > "$tmp/help" || fail "$cmd --help exit status"
    grep -q "usage: vigil $cmd" "$tmp/help" || fail "$cmd --help has no usage line"
done
echo "install: all checks passed"
