#!/usr/bin/env bash
# The operator view of `vigil replay --labels` on a wide file of given
# scores: the file is one unit (its rows score the max over its series),
# alert runs are counted on those rows, and the corpus threshold for a
# budget of false alerts per file-day is chosen as src/ops_eval.h says.
# Data made here: one day at one minute (1441 rows), one window on rows
# 100..109; series a: 0.9 on rows 10..12 and 0.95 on row 106; series b:
# 0.8 on rows 98..104 (a run starting before the window: false, catches
# nothing) and 0.7 on row 700; 0.1 elsewhere.
# usage: test_ops_eval.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
[ -x "$vigil" ] || { echo "FAIL: no vigil binary at $vigil"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
t0=1700000000
awk -v t0=$t0 'BEGIN {
    print "timestamp,a,b"
    for (i = 0; i <= 1440; i++) {
        a = (i >= 10 && i <= 12) ? 0.9 : (i == 106 ? 0.95 : 0.1)
        b = (i >= 98 && i <= 104) ? 0.8 : (i == 700 ? 0.7 : 0.1)
        printf "%d,%s,%s\n", t0 + 60 * i, a, b
    }
}' >"$tmp/wide.csv"
printf '{"wide.csv": [[%d, %d]]}\n' $((t0 + 6000)) $((t0 + 6540)) >"$tmp/labels.json"

out="$("$vigil" replay -q --given-scores "$tmp/wide.csv" --labels "$tmp/labels.json" \
       --eval-json "$tmp/eval.json")"
status=0
expect() {  # what, extended regex the output must match
    if grep -qE "$2" <<<"$out"; then echo "ok: $1"; else echo "FAIL: $1: no /$2/"; status=1; fi
}
expect "NAB total counts rows, not points" '^total +1441 '
expect "one file-day, no incident (given scores)" '^\(all\) +1\.00 +1 +0 +0 +0 +0\.00 +0 '
expect "<= 1 false alert a day: 0.95 catches the window" \
    '<= 1 false alert/file-day: threshold 0\.95 catches 1/1 windows, 0 false alerts'
expect "<= 5: no better threshold" '<= 5 false alert/file-day: threshold 0\.95 catches 1/1'
# The curve: at 0.8 the run from row 98 is false and does not catch; at 0.1
# everything is one run from row 0.
python3 - "$tmp/eval.json" <<'PY' || status=1
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
want = [[0.95, 1, 0], [0.9, 1, 1], [0.8, 1, 2], [0.7, 1, 3], [0.1, 0, 1]]
assert f["ops_curve"] == want, f["ops_curve"]
assert abs(f["days"] - 1.0) < 1e-12 and f["windows"] == 1 and f["incidents"] == 0
print("ok: eval JSON curve")
PY
[ "$out" = "$("$vigil" replay -q --given-scores "$tmp/wide.csv" --labels "$tmp/labels.json")" ] ||
    { echo "FAIL: two replays differ"; status=1; }
exit $status
