#!/usr/bin/env bash
# Issue 12, grouped incidents: a host whose 14 metrics move together pages
# once. `vigil replay` of 14 metrics on each of two hosts, host-1's all
# jumping for five minutes, with a rule grouping by `instance`; a real
# Alertmanager 0.25 on 127.0.0.1 that notifies every alert on its own
# (group_by: ['...']), so one page per alert vigil sends. The receiver must
# get host-1 as one alert (labels series="host", instance="host-1"), firing
# then resolved, and none of the 14 series' own; the event log must list
# the 14 members joining the one incident and the group closing when the
# last one resolves.
# usage: test_alertmanager_group.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
src="$2"
source "$src/tests/cli/alertmanager_lib.sh"
am_start_each_alert
am_hosts_csv "$tmp/hosts.csv"
# The series are young: no paging warm-up, one point fires (alert.*).
cat >"$tmp/vigil.json" <<JSON
{"alert": {"warmup_s": 0, "warmup_points": 0, "fire_after": 1},
 "rules": [{"match": {"name": "m*"}, "name": "host", "group": {"by": ["instance"]}}],
 "outputs": [{"type": "alertmanager", "url": "$am_url", "resolve_hold_s": 3}]}
JSON
"$vigil" replay "$tmp/hosts.csv" -c "$tmp/vigil.json" --events "$tmp/events.ndjson" \
    2>"$tmp/replay.log" || { echo "FAIL: vigil replay"; cat "$tmp/replay.log"; exit 1; }

python3 - "$tmp/events.ndjson" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
members = [e for e in events if "group_id" in e]
groups = [e for e in events if "group" in e]
assert len({e["series"] for e in members if e["state"] == "firing"}) == 14, members
ids = {e["id"] for e in groups}
assert len(ids) == 1, f"want one grouped incident, got {len(ids)}"
assert {e["group_id"] for e in members} == ids
changes = [e["group"]["change"] for e in groups]
assert changes[0] == "opened" and changes.count("joined") == 13, changes
assert changes[-1] == "closed" and groups[-1]["state"] == "resolved", changes
assert all(e["state"] == "firing" for e in groups[:-1])
assert len(groups[-1]["group"]["members"]) == 14
print("event log:", changes.count("joined"), "joined,", changes.count("left"), "left, closed;",
      groups[-1]["summary"])
PY

resolved_seen() { grep -q '"status": "resolved"' "$hook" 2>/dev/null; }
wait_for "the group's resolved notification" 30 resolved_seen
sleep 2  # anything else Alertmanager would send comes within group_interval

python3 - "$hook" <<'PY'
import json, sys
alerts = [(a["status"], a) for l in open(sys.argv[1]) for a in json.loads(l)["alerts"]]
labels = {json.dumps(a["labels"], sort_keys=True) for _, a in alerts}
assert len(labels) == 1, f"want one alert, got {len(labels)}: {labels}"
first = alerts[0][1]
assert first["labels"]["instance"] == "host-1" and first["labels"]["series"] == "host", first
statuses = [s for s, _ in alerts]
assert statuses[0] == "firing" and statuses[-1] == "resolved", statuses
print("pages:", statuses, "-", first["annotations"]["summary"])
PY
echo "ok: 14 metrics of one host paged once"
