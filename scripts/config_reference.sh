#!/usr/bin/env bash
# Regenerates the README's configuration reference from `vigil config
# reference` (the modules' own config tables); tests/cli/test_config.sh
# fails while the two differ.
#
# usage: scripts/config_reference.sh [VIGIL]   (default: build/vigil)
set -euo pipefail
cd "$(dirname "$0")/.."
vigil=${1:-build/vigil}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
    sed '/^<!-- config reference: begin/q' README.md
    echo '```text'
    "$vigil" config reference
    echo '```'
    sed -n '/^<!-- config reference: end/,$p' README.md
} > "$tmp"
cp "$tmp" README.md
