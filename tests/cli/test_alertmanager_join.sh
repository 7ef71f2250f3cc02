#!/usr/bin/env bash
# A joined incident's page in a real Alertmanager 0.25 on 127.0.0.1
# (alert.group_window_s; engine/incident_join.h): `vigil replay` of host-1's
# m00 jumping for 3 minutes (the leader, a warning), m01 and m02 a minute
# later for 20 (they join, and outlive the leader), m03 a minute later for
# 5 with a rule making it critical (it escalates), and host-2's m00 quiet.
# Alertmanager notifies every alert on its own (group_by: ['...']). The
# receiver must get two alerts: the leader's, whose annotations list the
# three that joined, firing until the last of them resolved (its endsAt is
# that resolve's time, not the leader's own, and leader_resolved says when
# the leader did), and m03's own, critical, naming the page (group_id).
# m01 and m02 never page.
# usage: test_alertmanager_join.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
src="$2"
source "$src/tests/cli/alertmanager_lib.sh"
am_start_each_alert
am_hosts_csv "$tmp/hosts.csv" "{0: (500, 503), 1: (501, 521), 2: (501, 521), 3: (501, 506)}"
# The series are young: no paging warm-up, one point fires (alert.*).
cat >"$tmp/vigil.json" <<JSON
{"alert": {"warmup_s": 0, "warmup_points": 0, "fire_after": 1},
 "rules": [{"match": {"name": "m03"}, "severity": "critical"},
           {"match": {"name": "m*"}, "severity": "warning"}],
 "outputs": [{"type": "alertmanager", "url": "$am_url", "resolve_hold_s": 3}]}
JSON
"$vigil" replay "$tmp/hosts.csv" -c "$tmp/vigil.json" --events "$tmp/events.ndjson" \
    2>"$tmp/replay.log" || { echo "FAIL: vigil replay"; cat "$tmp/replay.log"; exit 1; }

# The event log: the leader, the three that joined it, the page's end time.
python3 - "$tmp/events.ndjson" >"$tmp/expect.json" <<'PY' || { echo "FAIL: event log"; exit 1; }
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
firing = [e for e in events if e["state"] == "firing"]
assert sorted(e["series"].split("{")[0] for e in firing) == ["m00", "m01", "m02", "m03"], \
    [e["series"] for e in firing]
lead = [e for e in firing if "group_id" not in e]
assert len(lead) == 1 and lead[0]["series"].startswith("m00"), lead
lead = lead[0]
members = [e for e in events if e.get("group_id") == lead["id"]]
assert len(members) == 6, members
escalated = {e["series"].split("{")[0] for e in members if e.get("escalated")}
assert escalated == {"m03"}, escalated
lead_end = [e for e in events if e["id"] == lead["id"] and e["state"] == "resolved"][0]
last_end = max(e["ts"] for e in members if e["state"] == "resolved")
assert last_end > lead_end["ts"], (last_end, lead_end["ts"])
json.dump({"id": lead["id"], "ends": last_end, "leader_end": lead_end["ts"]}, sys.stdout)
PY
echo "event log: $(cat "$tmp/expect.json")"

two_resolved() { [ "$(grep -o '"status": "resolved"' "$hook" 2>/dev/null | wc -l)" -ge 2 ]; }
wait_for "both resolved notifications" 30 two_resolved
sleep 2  # anything else Alertmanager would send comes within group_interval

python3 - "$hook" "$tmp/expect.json" <<'PY'
import json, sys
want = json.load(open(sys.argv[2]))
alerts = [a for l in open(sys.argv[1]) for a in json.loads(l)["alerts"]]
by_series = {}
for a in alerts:
    by_series.setdefault(a["labels"]["series"], []).append(a)
assert sorted(by_series) == ["m00", "m03"], f"want the leader and m03 only: {sorted(by_series)}"
lead, crit = by_series["m00"], by_series["m03"]
assert {a["labels"]["severity"] for a in lead} == {"warning"}, lead
assert {a["labels"]["severity"] for a in crit} == {"critical"}, crit
assert lead[0]["labels"]["instance"] == "host-1", lead[0]
assert [a["status"] for a in lead][-1] == "resolved" and lead[0]["status"] == "firing"
assert [a["status"] for a in crit][-1] == "resolved" and crit[0]["status"] == "firing"
end = lead[-1]
ann = end["annotations"]
assert ann["incident"] == want["id"], ann
assert ann["members"] == "3" and ann["members_firing"] == "0", ann
listed = ann["members_listed"]
assert all(f'm0{i}{{instance="host-1"}} (resolved)' in listed for i in (1, 2, 3)), listed
assert ann["leader_resolved"] == want["leader_end"], (ann, want)
# the page ended with its last member, not with its leader
assert end["endsAt"].startswith(want["ends"][:19]), (end["endsAt"], want["ends"])
assert crit[0]["annotations"]["group_id"] == want["id"], crit[0]["annotations"]
print("pages:", [(a["labels"]["series"], a["status"]) for a in alerts])
print("leader's end:", end["endsAt"], "-", listed)
PY
echo "ok: the page lists its members, escalates once, and ends with the last of them"
