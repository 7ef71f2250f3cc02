#!/usr/bin/env bash
# Prometheus → vigil → Alertmanager with the real programs (Debian's
# prometheus 2.42, prometheus-node-exporter 1.5, prometheus-alertmanager
# 0.25), all on 127.0.0.1: node-exporter reports a small tmpfs this test
# mounts, Prometheus scrapes it every 500 ms and remote-writes to vigil's
# receiver (POST /api/v1/write → the embedded Kafka → `vigil run`), and
# vigil posts its incidents to Alertmanager, which notifies our webhook.
# The forced anomaly: a file fills half the tmpfs, so
# node_filesystem_avail_bytes{mountpoint=<it>} drops; removing it brings the
# value back.
# Proves: the node metric is scored; the drop fires one incident that
# reaches Alertmanager's receiver with the node's labels, and resolves once
# the file is gone; nothing else pages. Skipped (77) only where mounting a
# tmpfs is not permitted.
#
# usage: test_prometheus_node.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require prometheus prometheus-node-exporter curl python3
src=$srcdir
source "$srcdir/tests/cli/alertmanager_lib.sh"

mnt=$tmp/fill
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
    exit 77
fi
unmount_fill() { umount "$mnt" 2>/dev/null || true; }
KL_ON_CLEANUP=unmount_fill

am_start "route:
  receiver: hook
  group_by: [alertname, series]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h"

# zscore alone, its scores counting from a series' 10th point: a constant
# series whose value halves is an incident by construction.
broker=embedded
kl_config "$tmp/vigil.json" node '[{"name": "prometheus", "format": "prometheus-remote-write"}]' \
    '[{"type": "ndjson", "path": "'"$tmp/events.ndjson"'"},
      {"type": "alertmanager", "url": "'"$am_url"'", "resolve_hold_s": 2}]' \
    '{"metrics": {"listen": "127.0.0.1:0"}, "detectors": {"zscore": {"warmup": 10}},
      "ensemble": {"warmup": 10},
      "remote_write": {"listen": "127.0.0.1:0", "brokers": "embedded", "topic": "prometheus"}}'
kl_vigil_start vigil "$tmp/vigil.json"; vigil_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/vigil.log")
kl_wait 30 "the remote-write address" kl_log_has "$tmp/vigil.log" 'api/v1/write on .*port [0-9]'
rw_port=$(sed -n 's|.*api/v1/write on [^ ]* (port \([0-9]*\)).*|\1|p' "$tmp/vigil.log" | head -1)

# node-exporter: only the filesystem collector, on a free loopback port.
ne_port=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port" \
    --collector.disable-defaults --collector.filesystem >"$tmp/node.log" 2>&1 &
KL_PIDS+=("$!")
ne_ready() { kl_get_has "http://127.0.0.1:$ne_port/metrics" "mountpoint=\"$mnt\""; }
kl_wait 20 "node-exporter reporting the tmpfs" ne_ready

# Prometheus writes only the tmpfs' series (its own `up` and scrape_* series
# and the host's other mounts are not this test's business).
prom_port=$(free_port)
cat >"$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 500ms, scrape_timeout: 400ms, evaluation_interval: 1s}
scrape_configs:
  - job_name: node
    static_configs: [{targets: ['127.0.0.1:$ne_port']}]
remote_write:
  - url: http://127.0.0.1:$rw_port/api/v1/write
    queue_config: {batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s}
    write_relabel_configs:
      - source_labels: [__name__, mountpoint]
        regex: 'node_filesystem_(avail|size)_bytes;$mnt'
        action: keep
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
KL_PIDS+=("$prom_pid")

series="node_filesystem_avail_bytes{device=\"tmpfs\",fstype=\"tmpfs\",instance=\"127.0.0.1:$ne_port\",job=\"node\",mountpoint=\"$mnt\"}"
# scored POINTS: vigil's scores of the tmpfs' series (points read, minus
# the other series' share: two series arrive in step).
scored() {
    kl_running "$prom_pid" || kl_fail "prometheus exited: $(tail -n 5 "$tmp/prometheus.log")"
    kl_read_at_least "$url" $(($1 * 2))
}
kl_wait 40 "20 scrapes of the tmpfs scored" scored 20

# The forced anomaly: half the tmpfs filled.
dd if=/dev/zero of="$mnt/filler" bs=1M count=2 2>/dev/null
firing() { grep -q '"status": "firing"' "$hook" 2>/dev/null; }
kl_wait 30 "the incident at Alertmanager's receiver" firing
rm -f "$mnt/filler"
resolved() { grep -q '"status": "resolved"' "$hook" 2>/dev/null; }
kl_wait 30 "the resolution at Alertmanager's receiver" resolved
kl_stop "$prom_pid"
kl_stop "$vigil_pid"

# One incident, on the tmpfs' free bytes, with the node's labels, firing
# then resolved, as vigil's event log says.
python3 - "$hook" "$tmp/events.ndjson" "$series" "$mnt" <<'PY'
import json, sys
hooks = [json.loads(l) for l in open(sys.argv[1])]
events = [json.loads(l) for l in open(sys.argv[2])]
series, mnt = sys.argv[3], sys.argv[4]
fired = [e for e in events if e["state"] == "firing"]
assert [e["series"] for e in fired] == [series], [e["series"] for e in fired]
seq = [a for h in hooks for a in h["alerts"]]
assert {a["labels"]["series"] for a in seq} == {"node_filesystem_avail_bytes"}, seq
assert all(a["labels"]["mountpoint"] == mnt and a["labels"]["job"] == "node" for a in seq), seq
statuses = [a["status"] for a in seq]
assert statuses[0] == "firing" and statuses[-1] == "resolved", statuses
assert all(a["annotations"]["incident"] == fired[0]["id"] for a in seq), seq
print("ok: notifications", statuses, "for", series)
PY
[ "$(kl_stat "$tmp/vigil.log" bad)" = 0 ] || kl_fail "the scoring consumer rejected messages"
kl_done
