#!/usr/bin/env bash
# vigil run as operators see it: /metrics, /healthz and /readyz on
# 127.0.0.1; SIGHUP reloads a valid config keeping series state and rejects
# an invalid one keeping the running config, and a rule's mute window added
# by a reload mutes the next incident; SIGTERM stops it with exit 0.
#
# usage: test_run_ops.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1
tmp=$(mktemp -d)
broker_pid="" run_pid=""
cleanup() {
    [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null || true
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/run.log" ] && tail -20 "$tmp/run.log" >&2; exit 1; }
command -v kcat >/dev/null || fail "kcat is missing (scripts/setup.sh installs it)"

# wait_for DESCRIPTION COMMAND...: retries COMMAND for up to 30 s.
wait_for() {
    local what=$1 deadline=$((SECONDS + 30))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
        sleep 0.1
    done
}

"$vigil" broker --topic metrics:2 --bootstrap-file "$tmp/bs" > /dev/null &
broker_pid=$!
wait_for "the broker" test -s "$tmp/bs"
bs=$(cat "$tmp/bs")

# The series is a few hours old: no paging warm-up (alert.warmup_s).
write_config() {  # write_config THRESHOLD [RULES]
    local rules=""
    [ $# -gt 1 ] && rules=", \"rules\": $2"
    cat > "$tmp/vigil.json" <<JSON
{
  "input": {"brokers": "$bs", "group": "ops-test",
            "topics": [{"name": "metrics", "format": "json"}],
            "kafka": {"session.timeout.ms": "6000", "fetch.wait.max.ms": "10"}},
  "outputs": [{"type": "ndjson", "path": "$tmp/events.ndjson"}],
  "metrics": {"listen": "127.0.0.1:0"},
  "alert": {"threshold": $1, "warmup_s": 0}$rules
}
JSON
}
write_config 0.99999
"$vigil" run -c "$tmp/vigil.json" > "$tmp/run.log" 2>&1 &
run_pid=$!
wait_for "the metrics address" grep -q 'port [0-9]' "$tmp/run.log"
port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$tmp/run.log" | head -1)
url=http://127.0.0.1:$port

[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ] || fail "/healthz"
wait_for "readiness" curl -sf "$url/readyz"

# 300 points of one series; the metrics must count them.
for i in $(seq 1 300); do
    printf '{"series":"cpu","labels":{"host":"a"},"ts":%d,"value":%d.%d}\n' \
        $((1700000000000 + i * 60000)) $((50 + i % 3)) $((i % 7))
done > "$tmp/points.ndjson"
kcat -b "$bs" -P -t metrics -l "$tmp/points.ndjson" || fail "kcat could not produce"
scored() { curl -s "$url/metrics" | awk '/^vigil_points_scored_total /{print $2}'; }
wait_for "300 points scored (have $(scored); topic holds $(kcat -b "$bs" -C -t metrics -e -q 2>/dev/null | wc -l))" \
    test "$(scored)" = 300
grep -q '^vigil_series_active 1$' <<<"$(curl -s "$url/metrics")" || fail "series_active"
grep -q '^# TYPE vigil_batch_duration_seconds histogram' <<<"$(curl -s "$url/metrics")" || fail "histogram"

# An invalid config is rejected; the process keeps running the old one.
echo '{"alert": {"threshold": 7}}' > "$tmp/vigil.json"
kill -HUP "$run_pid"
wait_for "the rejection" grep -q 'config reload rejected' "$tmp/run.log"
grep -q 'alert.threshold' "$tmp/run.log" || fail "rejection does not name the key"
kill -0 "$run_pid" || fail "vigil exited on a bad reload"
grep -q 'vigil_config_reloads_total{result="failure"} 1' <<<"$(curl -s "$url/metrics")" || fail "failure counter"

# A valid one is applied and the series keeps its state.
write_config 0.9999
kill -HUP "$run_pid"
wait_for "the reload" grep -q 'config reloaded' "$tmp/run.log"
grep -q '1 series kept, 0 started fresh' "$tmp/run.log" || fail "series state not kept"
grep -q 'vigil_config_reloads_total{result="success"} 1' <<<"$(curl -s "$url/metrics")" || fail "success counter"

# A mute window arrives with a reload: the next incident is recorded muted,
# under its rule, and not counted as firing.
write_config 0.9999 '[{"match": {"name": "cpu"}, "name": "cpu-quiet",
  "mute": {"windows": [{"from": "2023-11-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"}]}}]'
kill -HUP "$run_pid"
reloads() { test "$(grep -c 'config reloaded' "$tmp/run.log")" = 2; }
wait_for "the second reload" reloads
for i in $(seq 301 620); do
    v=$((50 + i % 3)); [ "$i" -ge 601 ] && [ "$i" -le 603 ] && v=900
    printf '{"series":"cpu","labels":{"host":"a"},"ts":%d,"value":%d.%d}\n' \
        $((1700000000000 + i * 60000)) "$v" $((i % 7))
done > "$tmp/points2.ndjson"
kcat -b "$bs" -P -t metrics -l "$tmp/points2.ndjson" || fail "kcat could not produce"
wait_for "the muted incident" grep -q '"state":"firing"' "$tmp/events.ndjson"
grep '"state":"firing"' "$tmp/events.ndjson" | grep '"muted":true,"rule":"cpu-quiet"' > /dev/null \
    || fail "the incident is not muted under its rule: $(cat "$tmp/events.ndjson")"
grep -q '^vigil_incidents_firing{rule="cpu-quiet",severity="critical"} 0$' <<<"$(curl -s "$url/metrics")" \
    || fail "a muted incident counted as firing"

kill -TERM "$run_pid"
wait "$run_pid" || fail "vigil run did not exit 0 on SIGTERM"
run_pid=""
echo "run ops: all checks passed"
