#!/usr/bin/env bash
# The Alertmanager sink against a real Prometheus Alertmanager (Debian's
# prometheus-alertmanager, installed here if missing): `vigil replay` of a
# series with one clear spike posts the incident to Alertmanager on
# 127.0.0.1, which routes it (group_wait 1s, send_resolved) to a webhook
# receiver we run; the receiver must get the alert firing and then
# resolved, with our labels and the incident's times.
#
# A replay emits firing and resolved within a millisecond; Alertmanager
# notifies a resolution only for an alert it notified as firing, after
# group_wait. resolve_hold_s (3 s > group_wait) makes the sink hold the
# resolved back, so this also checks that hold end to end.
# usage: test_alertmanager.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
src="$2"
source "$src/tests/cli/alertmanager_lib.sh"
am_start "route:
  receiver: hook
  group_by: [alertname, series]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h"

# The fixture is 800 minutes long: no paging warm-up (alert.warmup_s).
cat >"$tmp/vigil.json" <<JSON
{"alert": {"warmup_s": 0},
 "outputs": [{"type": "alertmanager", "url": "$am_url",
              "alertname": "VigilAnomaly", "resolve_hold_s": 3,
              "generator_url": "http://vigil.example/replay"}]}
JSON
"$vigil" replay "$src/tests/fixtures/spike.csv" -c "$tmp/vigil.json" \
    --events "$tmp/events.ndjson" 2>"$tmp/replay.log" ||
    { echo "FAIL: vigil replay"; cat "$tmp/replay.log"; exit 1; }

grep -q '"state":"firing"' "$tmp/events.ndjson" || { echo "FAIL: the fixture fired no incident"; exit 1; }
resolved_seen() { grep -q '"status": "resolved"' "$hook" 2>/dev/null; }
wait_for "the resolved notification" 30 resolved_seen

# Every notification, in arrival order, against the events vigil wrote.
python3 - "$hook" "$tmp/events.ndjson" <<'PY'
import json, sys
hooks = [json.loads(l) for l in open(sys.argv[1])]
events = [json.loads(l) for l in open(sys.argv[2])]
fired = [e for e in events if e["state"] == "firing"]
assert len(fired) == 1, f"want one incident, got {len(events)} events"
ev = fired[0]
seq = [(a["status"], a) for h in hooks for a in h["alerts"]]
statuses = [s for s, _ in seq]
print("notifications:", statuses)
assert statuses[0] == "firing", statuses
assert "resolved" in statuses, statuses
assert statuses.index("resolved") > statuses.index("firing"), statuses
want = {"alertname": "VigilAnomaly", "series": ev["name"], "severity": ev["severity"]}
want.update(ev["labels"])
firing = seq[statuses.index("firing")][1]
resolved = seq[statuses.index("resolved")][1]
for a in (firing, resolved):
    assert a["labels"] == want, (a["labels"], want)
    assert a["annotations"]["incident"] == ev["id"], a["annotations"]
    assert a["generatorURL"] == "http://vigil.example/replay", a
    # startsAt is the incident's first anomalous point, as the event says.
    assert a["startsAt"].startswith("2024-01-01T08:"), a["startsAt"]
assert firing["endsAt"].startswith("0001-01-01"), firing["endsAt"]  # not ended
res_ev = [e for e in events if e["state"] == "resolved"][0]
assert resolved["endsAt"].startswith(res_ev["ts"][:19]), (resolved["endsAt"], res_ev["ts"])
assert "value" in firing["annotations"] and "score" in firing["annotations"]
print("ok: firing then resolved, labels", want)
PY
echo "ok: alertmanager"
