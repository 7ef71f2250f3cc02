#!/usr/bin/env bash
# Fails when a floor's library calls a function defined by a floor above it.
# Static libraries do not refuse such calls by themselves (the final link
# sees every floor), so this reads their symbol tables instead.
# usage: check_floor_links.sh <build dir>
set -euo pipefail
cd "$1"
floors=(core detect io engine models app)   # bottom to top
# The floors each one may call, as in CMakeLists.txt.
declare -A below=(
    [core]="" [detect]="core" [io]="core" [engine]="core detect io"
    [models]="core detect io engine" [app]="core detect io engine models"
)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for f in "${floors[@]}"; do
    nm -g --defined-only "libvigil_$f.a" | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/def_$f"
    nm -u "libvigil_$f.a" | awk 'NF == 2 { print $2 }' | sort -u > "$tmp/und_$f"
done
status=0
for f in "${floors[@]}"; do
    for other in "${floors[@]}"; do
        [ "$other" = "$f" ] && continue
        case " ${below[$f]} " in *" $other "*) continue ;; esac
        calls=$(comm -12 "$tmp/und_$f" "$tmp/def_$other" | tr '\n' ' ')
        if [ -n "$calls" ]; then
            echo "FAIL: vigil_$f calls into vigil_$other, which it may not use: $calls"
            status=1
        fi
    done
done
[ $status -eq 0 ] && echo "ok: no floor calls a floor above it or beside it"
exit $status
