#!/usr/bin/env bash
# A host event that is over is not joined (alert.group_window_s,
# engine/incident_join.c), through `vigil replay` on a wide CSV (its columns
# are one machine's, one group). The pattern of the live collectd run
# (docs/quality.md, branch q-live8): a disk read burst on two series fires
# and resolves, then 150 s later, inside the 300 s window of its firing, a
# loopback flood moves two other series. Its first series must page (a
# firing event without group_id) and the other join it: before, both
# joined the burst's incident, whose page had ended, so nothing paged.
# The data is made here: 12,000 rows at 10 s (past the day's warm-up),
# noise of 1, steps of +30..+40 on a and b for rows 10000..10003 and on c
# and d for rows 10015..10020.
# usage: test_join_after_end.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
[ -x "$vigil" ] || { echo "FAIL: no vigil binary at $vigil"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
awk -v t0=1700000000 'BEGIN {
    srand(11)
    print "timestamp,a,b,c,d"
    for (i = 0; i < 12000; i++) {
        a = 10 + rand(); b = 20 + rand(); c = 5 + rand(); d = 40 + rand()
        if (i >= 10000 && i < 10004) { a += 30; b += 40 }
        if (i >= 10015 && i < 10021) { c += 30; d += 40 }
        printf "%d,%.4f,%.4f,%.4f,%.4f\n", t0 + 10 * i, a, b, c, d
    }
}' >"$tmp/wide.csv"

cd "$tmp"
"$vigil" replay -q wide.csv --events events.ndjson >/dev/null
python3 - events.ndjson <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
firing = [e for e in events if e["state"] == "firing"]
pages = [e for e in firing if "group_id" not in e]
assert len(firing) == 4, [(e["series"], e["ts_ms"]) for e in firing]
assert len(pages) == 2, [(e["series"], e.get("group_id")) for e in firing]
first, second = sorted(pages, key=lambda e: e["ts_ms"])
resolved = [e for e in events if e["state"] == "resolved" and e["ts_ms"] < second["ts_ms"]]
assert len(resolved) == 2, "the first event is over before the second fires"
assert second["ts_ms"] - first["ts_ms"] < 300000, "inside the window"
for e in firing:
    if e is not first and e is not second:
        lead = first if e["ts_ms"] < second["ts_ms"] else second
        assert e["group_id"] == lead["id"], (e["series"], e["group_id"])
print("ok: the flood after the burst's end pages; each event's second series joins it")
PY
