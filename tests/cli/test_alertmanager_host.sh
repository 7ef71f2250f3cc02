#!/usr/bin/env bash
# One page per host event without any rule (alert.group_window_s, default
# 300 s): `vigil replay` of 14 metrics on each of two hosts, host-1's all
# jumping for five minutes, into a real Alertmanager 0.25 on 127.0.0.1 that
# notifies every alert on its own (group_by: ['...']), so one page per
# alert vigil sends. The receiver must get one alert, host-1's first series
# (the leader), firing then resolved; the event log must hold all 14
# series' incidents, 13 of them with `group_id` = the leader's `id`, firing
# and resolved.
# usage: test_alertmanager_host.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
src="$2"
source "$src/tests/cli/alertmanager_lib.sh"
am_start_each_alert
am_hosts_csv "$tmp/hosts.csv"
# The series are young: no paging warm-up, one point fires (alert.*).
cat >"$tmp/vigil.json" <<JSON
{"alert": {"warmup_s": 0, "warmup_points": 0, "fire_after": 1},
 "outputs": [{"type": "alertmanager", "url": "$am_url", "resolve_hold_s": 3}]}
JSON
"$vigil" replay "$tmp/hosts.csv" -c "$tmp/vigil.json" --events "$tmp/events.ndjson" \
    2>"$tmp/replay.log" || { echo "FAIL: vigil replay"; cat "$tmp/replay.log"; exit 1; }

leader="$(python3 - "$tmp/events.ndjson" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
firing = [e for e in events if e["state"] == "firing"]
leaders = [e for e in firing if "group_id" not in e]
assert len({e["series"] for e in firing}) == 14, [e["series"] for e in firing]
assert len(leaders) == 1, [e["series"] for e in leaders]
lead = leaders[0]
members = [e for e in events if "group_id" in e]
assert {e["group_id"] for e in members} == {lead["id"]}, members
assert sum(e["state"] == "firing" for e in members) == 13
assert sum(e["state"] == "resolved" for e in members) == 13
print(lead["series"])
PY
)" || { echo "FAIL: event log"; exit 1; }
echo "event log: 14 incidents, 13 joined $leader"

resolved_seen() { grep -q '"status": "resolved"' "$hook" 2>/dev/null; }
wait_for "the leader's resolved notification" 30 resolved_seen
sleep 2  # anything else Alertmanager would send comes within group_interval

python3 - "$hook" "$leader" <<'PY'
import json, sys
alerts = [(a["status"], a) for l in open(sys.argv[1]) for a in json.loads(l)["alerts"]]
labels = {json.dumps(a["labels"], sort_keys=True) for _, a in alerts}
assert len(labels) == 1, f"want one alert, got {len(labels)}: {labels}"
first = alerts[0][1]
name = sys.argv[2].split("{")[0]
assert first["labels"]["instance"] == "host-1" and first["labels"]["series"] == name, first
statuses = [s for s, _ in alerts]
assert statuses[0] == "firing" and statuses[-1] == "resolved", statuses
print("pages:", statuses, "-", first["annotations"]["summary"])
PY
echo "ok: 14 metrics of one host, no rule: one page"
