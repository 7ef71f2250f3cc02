#!/usr/bin/env bash
# One page per host event (alert.group_window_s, engine/incident_join.c)
# through `vigil replay` on a wide CSV (its columns are one machine's, one
# group): three of four series step up together twice; each time the first
# to fire pages, the two others join its incident (their firing and
# resolved events carry `group_id`, the leader's `id`), with the window off
# every series pages alone; the operator view counts the joined firings
# but not as false pages, and a window is caught by any of them; 1 and 4
# scoring workers give byte-identical events.
# The data is made here: 4000 rows at one minute, steps of +30..+40 (noise
# of 1) on rows 1500..1509 (outside the labelled window: one false page)
# and 3000..3011 (inside it).
# usage: test_host_incident.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
[ -x "$vigil" ] || { echo "FAIL: no vigil binary at $vigil"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
t0=1700000000
awk -v t0=$t0 'BEGIN {
    srand(7)
    print "timestamp,a,b,c,d"
    for (i = 0; i < 4000; i++) {
        a = 10 + rand(); b = 20 + rand(); c = 5 + rand(); d = 40 + rand()
        if ((i >= 1500 && i < 1510) || (i >= 3000 && i < 3010)) { a += 30; b += 40 }
        if ((i >= 1503 && i < 1512) || (i >= 3003 && i < 3012)) c += 20
        printf "%d,%.4f,%.4f,%.4f,%.4f\n", t0 + 60 * i, a, b, c, d
    }
}' >"$tmp/wide.csv"
printf '{"wide.csv": [[%d, %d]]}\n' $((t0 + 60 * 2990)) $((t0 + 60 * 3030)) >"$tmp/labels.json"
echo '{"workers": 1}' >"$tmp/one.json"
echo '{"workers": 4}' >"$tmp/four.json"
echo '{"alert": {"group_window_s": 0}}' >"$tmp/off.json"

cd "$tmp"
status=0
"$vigil" replay -q -c one.json wide.csv --events one.ndjson --labels labels.json >one.txt
"$vigil" replay -q -c four.json wide.csv --events four.ndjson >/dev/null
"$vigil" replay -q -c off.json wide.csv --events off.ndjson --labels labels.json >off.txt
cmp -s one.ndjson four.ndjson && echo "ok: 1 and 4 workers: the same events" ||
    { echo "FAIL: 1 and 4 workers differ"; status=1; }

python3 - one.ndjson off.ndjson <<'PY' || status=1
import json, sys
def events(path):
    return [json.loads(l) for l in open(path)]
on, off = events(sys.argv[1]), events(sys.argv[2])
firing = [e for e in on if e["state"] == "firing"]
leaders = [e for e in firing if "group_id" not in e]
joined = [e for e in firing if "group_id" in e]
assert len(firing) == 6 and len(leaders) == 2 and len(joined) == 4, \
    [(e["series"], e["ts_ms"], e.get("group_id")) for e in firing]
for e in joined:  # each joins the leader that fired last before it
    lead = max((l for l in leaders if l["ts_ms"] <= e["ts_ms"]), key=lambda l: l["ts_ms"])
    assert e["group_id"] == lead["id"] and e["id"] != lead["id"], e
    assert e["ts_ms"] - lead["ts_ms"] <= 300000, e
resolved = {e["id"]: e for e in on if e["state"] == "resolved"}
for e in firing:  # each series resolves on its own, a member under its leader's id
    r = resolved[e["id"]]
    assert r.get("group_id") == e.get("group_id"), (e, r)
assert not any("group_id" in e for e in off), "group_id with the window off"
assert sorted((e["series"], e["ts_ms"]) for e in off if e["state"] == "firing") == \
    sorted((e["series"], e["ts_ms"]) for e in firing), "the window changed what fires"
print("ok: 2 leaders page, 4 series join them (firing and resolved); off: 6 pages")
PY

expect() {  # what, file, extended regex the file must match
    if grep -qE "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: no /$3/ in $2"; status=1; fi
}
# file days win inc join false false/d caught
expect "operator view: 6 incidents, 4 joined, 1 false page, the window caught" one.txt \
    '^\(all\) +2\.78 +1 +6 +4 +1 +0\.36 +1 '
expect "window off: 6 incidents, 3 false pages" off.txt \
    '^\(all\) +2\.78 +1 +6 +0 +3 +1\.08 +1 '
exit $status
