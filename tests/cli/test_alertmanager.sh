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
am=/usr/bin/prometheus-alertmanager

if [ ! -x "$am" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "FAIL: $am missing and not root to install prometheus-alertmanager"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends prometheus-alertmanager >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 &&
          apt-get install -y --no-install-recommends prometheus-alertmanager >/dev/null 2>&1; } ||
        { echo "FAIL: cannot install prometheus-alertmanager"; exit 1; }
fi
[ -x "$am" ] || { echo "FAIL: no $am after install"; exit 1; }
# The package enables a service on :9093/:9094. We never use those ports
# (a free port, no cluster listener), so a running service does not matter
# and is left alone.

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
    local what="$1" deadline=$((SECONDS + $2))
    shift 2
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "FAIL: timed out waiting for $what"
            [ -f "$tmp/am.log" ] && tail -20 "$tmp/am.log"
            exit 1
        fi
        sleep 0.2
    done
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

http_ok() {  # URL: true when a GET answers 2xx
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" \
        >/dev/null 2>&1
}

python3 "$src/tests/cli/alertmanager_webhook.py" "$tmp/hook.ndjson" "$tmp/hook.port" &
pids+=($!)
wait_for "the webhook receiver" 10 test -s "$tmp/hook.port"
hook_port="$(cat "$tmp/hook.port")"

am_port="$(free_port)"
cat >"$tmp/am.yml" <<YML
route:
  receiver: hook
  group_by: [alertname, series]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$hook_port/
        send_resolved: true
YML
# --cluster.listen-address= turns off the gossip port (0.0.0.0:9094 by default).
"$am" --config.file="$tmp/am.yml" --storage.path="$tmp/am-data" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= \
    >"$tmp/am.log" 2>&1 &
pids+=($!)
wait_for "Alertmanager to be ready" 30 http_ok "http://127.0.0.1:$am_port/-/ready"

# The fixture is 800 minutes long: no paging warm-up (alert.warmup_s).
cat >"$tmp/vigil.json" <<JSON
{"alert": {"warmup_s": 0},
 "outputs": [{"type": "alertmanager", "url": "http://127.0.0.1:$am_port",
              "alertname": "VigilAnomaly", "resolve_hold_s": 3,
              "generator_url": "http://vigil.example/replay"}]}
JSON
"$vigil" replay "$src/tests/fixtures/spike.csv" -c "$tmp/vigil.json" \
    --events "$tmp/events.ndjson" 2>"$tmp/replay.log" ||
    { echo "FAIL: vigil replay"; cat "$tmp/replay.log"; exit 1; }

grep -q '"state":"firing"' "$tmp/events.ndjson" || { echo "FAIL: the fixture fired no incident"; exit 1; }
resolved_seen() { grep -q '"status": "resolved"' "$tmp/hook.ndjson" 2>/dev/null; }
wait_for "the resolved notification" 30 resolved_seen

# Every notification, in arrival order, against the events vigil wrote.
python3 - "$tmp/hook.ndjson" "$tmp/events.ndjson" <<'PY'
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
