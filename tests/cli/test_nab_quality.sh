#!/usr/bin/env bash
# Regression guard on detection quality: the default config's NAB scores on
# nab-dev (31 files, shared/data/nab-dev) must stay at or above floors a few
# points under what docs/quality.md reports (66.2 / 53.1 / 72.5). A change
# that drops below a floor is a quality regression, whatever else it fixes.
# usage: test_nab_quality.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
data="$3/nab-dev"
[ -x "$vigil" ] || { echo "FAIL: no vigil binary at $vigil"; exit 1; }
# The corpus is optional (it is not part of the repository): skip, saying so.
[ -f "$data/labels/combined_windows.json" ] || { echo "SKIP: optional nab-dev data absent at $data"; exit 77; }
files=("$data"/data/*/*.csv)
[ "${#files[@]}" -eq 31 ] || { echo "FAIL: expected 31 nab-dev files, found ${#files[@]}"; exit 1; }

out="$("$vigil" replay -q "${files[@]}" --labels "$data/labels/combined_windows.json")"
total="$(grep -E '^total ' <<<"$out" || true)"
[ -n "$total" ] || { echo "FAIL: no total row in:"; echo "$out" | tail -5; exit 1; }
read -r standard low_fp low_fn <<<"$(awk '{print $(NF-2), $(NF-1), $NF}' <<<"$total")"
echo "NAB nab-dev, default config: standard $standard, low FP $low_fp, low FN $low_fn"

status=0
floor() {  # name, measured, floor
    if awk -v v="$2" -v f="$3" 'BEGIN { exit !(v >= f) }'; then
        echo "ok: $1 $2 >= $3"
    else
        echo "FAIL: $1 $2 < floor $3"
        status=1
    fi
}
floor standard "$standard" 63
floor low_FP "$low_fp" 50
floor low_FN "$low_fn" 69
# The replay is deterministic: a second run prints the same table.
[ "$out" = "$("$vigil" replay -q "${files[@]}" --labels "$data/labels/combined_windows.json")" ] ||
    { echo "FAIL: two replays differ"; status=1; }
exit $status
