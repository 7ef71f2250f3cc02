#!/usr/bin/env bash
# Push from Prometheus: a real Prometheus 2.42 scrapes vigil's own /metrics
# every second and remote-writes the samples to vigil's receiver (POST
# /api/v1/write), which splits each request per series and produces it to
# Kafka keyed by series; `vigil run` reads that topic ("format":
# "prometheus-remote-write") and scores the series.
# Proves: Prometheus' requests are answered 204 (acknowledged by Kafka) and
# none fail; every series lands in one partition under its canonical key;
# the points are scored; and the malformed requests of
# tests/corpus/remote_write_http get their status (400 undecodable, 404,
# 405, 413 over max_bytes, 204 with a nameless series left out and counted);
# and /metrics carries vigil_build_info, the checkpoint time and age and the
# process_* metrics.
#
# usage: test_remote_write.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require prometheus curl python3

broker=embedded
kl_config "$tmp/vigil.json" rw '[{"name": "prometheus", "format": "prometheus-remote-write"}]' \
    '[{"type": "ndjson", "path": "'"$tmp/events.ndjson"'"}]' \
    '{"metrics": {"listen": "127.0.0.1:0"}, "input": {"partitions": 2},
      "remote_write": {"listen": "127.0.0.1:0", "brokers": "embedded", "topic": "prometheus",
                       "max_bytes": 65536}}'
kl_vigil_start vigil "$tmp/vigil.json"; vigil_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/vigil.log")
kl_wait 30 "the remote-write address" kl_log_has "$tmp/vigil.log" 'api/v1/write on .*port [0-9]'
rw_port=$(sed -n 's|.*api/v1/write on [^ ]* (port \([0-9]*\)).*|\1|p' "$tmp/vigil.log" | head -1)
rw="http://127.0.0.1:$rw_port/api/v1/write"
broker=$(sed -n 's/.*embedded broker on \([0-9.:]*\).*/\1/p' "$tmp/vigil.log" | head -1)
[ -n "$broker" ] || kl_fail "no embedded broker address in the log"

# The malformed requests, each with its expected status.
corpus=$srcdir/tests/corpus/remote_write_http
for case in "$corpus"/*/; do
    read -r method path <"$case/request"
    got=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" \
        -H 'Content-Encoding: snappy' -H 'Content-Type: application/x-protobuf' \
        --data-binary @"$case/input" "http://127.0.0.1:$rw_port$path")
    [ "$got" = "$(cat "$case/expect")" ] ||
        kl_fail "$(basename "$case"): answered $got, not $(cat "$case/expect")"
done
head -c 70000 /dev/zero >"$tmp/big"
got=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$tmp/big" "$rw")
[ "$got" = 413 ] || kl_fail "a body over max_bytes was answered $got, not 413"
kl_get_has "$url/metrics" '^vigil_parse_errors_total\{reason="key"\} 1$' ||
    kl_fail "the nameless series was not counted"

# A real Prometheus, on 127.0.0.1 only, scraping vigil and writing back.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
metrics_port=${url##*:}
cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: vigil
    static_configs: [{targets: ['127.0.0.1:$metrics_port']}]
remote_write:
  - url: $rw
    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
KL_PIDS+=("$prom_pid")

accepted() {
    kl_running "$prom_pid" || kl_fail "prometheus exited: $(tail -n 5 "$tmp/prometheus.log")"
    kl_get_has "$url/metrics" '^vigil_remote_write_requests_total\{code="204"\} ([5-9]|[1-9][0-9]+)$'
}
kl_wait 90 "Prometheus' remote-write requests accepted" accepted
kl_wait 30 "the pushed points scored" kl_read_at_least "$url" 100
# Prometheus sent everything it scraped: no failed or dropped samples.
prom=$(curl -s "http://127.0.0.1:$prom_port/metrics")
failed=$(awk '/^prometheus_remote_storage_samples_failed_total/ {s += $2} END {print s + 0}' <<<"$prom")
[ "$failed" = 0 ] || kl_fail "Prometheus counted $failed failed samples"
! grep -q '^vigil_remote_write_requests_total{code="503"} [1-9]' <<<"$(curl -s "$url/metrics")" ||
    kl_fail "requests were answered 503"
kl_stop "$prom_pid"
# The operators' metrics of the run.
m=$(curl -s "$url/metrics")
grep -Eq '^vigil_build_info\{version="[0-9]+\.[0-9]+\.[0-9]+"\} 1$' <<<"$m" || kl_fail "no vigil_build_info"
grep -Eq '^vigil_last_checkpoint_timestamp_seconds 1[0-9]{9}' <<<"$m" || kl_fail "no checkpoint time"
grep -Eq '^vigil_checkpoint_age_seconds [0-9]' <<<"$m" || kl_fail "no checkpoint age"
grep -Eq '^process_resident_memory_bytes [1-9]' <<<"$m" || kl_fail "no process memory"
grep -Eq '^process_open_fds [1-9]' <<<"$m" || kl_fail "no open fds"

# One message per series and request, keyed by the canonical series key;
# a series always in the same partition.
keys=$(kcat -q -b "$broker" -C -t prometheus -o beginning -e -f '%p %k\n')
up="up{instance=\"127.0.0.1:$metrics_port\",job=\"vigil\"}"
grep -qF " $up" <<<"$keys" || kl_fail "no message keyed $up"
[ "$(grep -F " $up" <<<"$keys" | cut -d' ' -f1 | sort -u | wc -l)" = 1 ] ||
    kl_fail "series $up in several partitions"
spread=$(awk '{print $2}' <<<"$keys" | sort -u | wc -l)
split=$(sort -u <<<"$keys" | wc -l)
[ "$spread" = "$split" ] || kl_fail "some series are in several partitions"
kl_stop "$vigil_pid"
[ "$(kl_stat "$tmp/vigil.log" bad)" = 0 ] || kl_fail "the scoring consumer rejected messages"
kl_done
