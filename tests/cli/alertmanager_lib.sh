# Shared by the tests that run a real Prometheus Alertmanager (Debian's
# prometheus-alertmanager 0.25, installed here if missing) on 127.0.0.1
# with a webhook receiver we run (alertmanager_webhook.py). Source it after
# `set -euo pipefail`; it sets $tmp (removed at exit) and stops what it
# started, by PID. am_start ROUTE_YAML starts both, writing $hook (the
# notifications, one JSON body a line) and setting $am_url.
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

# Sourced after kafka_lib.sh's kl_init, $tmp and the cleanup are kafka_lib's:
# what am_start starts joins KL_PIDS.
if [ -n "${KL_T0:-}" ]; then
    am_track() { KL_PIDS+=("$1"); }
else
    tmp="$(mktemp -d)"
    pids=()
    am_track() { pids+=("$1"); }
    cleanup() {
        for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
        for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
        rm -rf "$tmp"
    }
    trap cleanup EXIT
fi

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

# am_start ROUTE: the route block's YAML (its receiver must be `hook`).
am_start() {
    hook="$tmp/hook.ndjson"
    python3 "$src/tests/cli/alertmanager_webhook.py" "$hook" "$tmp/hook.port" &
    am_track $!
    wait_for "the webhook receiver" 10 test -s "$tmp/hook.port"
    local hook_port am_port
    hook_port="$(cat "$tmp/hook.port")"
    am_port="$(free_port)"
    cat >"$tmp/am.yml" <<YML
$1
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
    am_track $!
    am_url="http://127.0.0.1:$am_port"
    wait_for "Alertmanager to be ready" 30 http_ok "$am_url/-/ready"
}

# am_start_each_alert: am_start with a route that notifies every alert on
# its own (group_by: ['...']), so one page per alert vigil sends.
am_start_each_alert() {
    am_start "route:
  receiver: hook
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h"
}

# am_hosts_csv FILE [JUMPS]: a long CSV of metrics on each of two hosts
# (m00..{instance="host-N"}), smooth and noise-free (no incident but the
# jumps), one a minute for 600 minutes. JUMPS (a Python dict) maps each
# metric to the minutes [first, end) in which host-1's value is 30 higher;
# default: 14 metrics, all jumping for minutes 500..504.
am_hosts_csv() {
local jumps="${2:-}"
[ -n "$jumps" ] || jumps='{m: (500, 505) for m in range(14)}'
python3 - "$1" "$jumps" <<'PY'
import datetime, math, sys
t0 = datetime.datetime(2024, 1, 1)
jumps = eval(sys.argv[2])
with open(sys.argv[1], "w") as out:
    out.write("timestamp,series,value\n")
    for i in range(600):
        ts = (t0 + datetime.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
        for host in ("host-1", "host-2"):
            for m, (first, end) in sorted(jumps.items()):
                v = 10 + math.sin(i / 9 + m)
                if host == "host-1" and first <= i < end:
                    v += 30
                key = f'm{m:02d}{{instance="{host}"}}'.replace('"', '""')
                out.write(f'{ts},"{key}",{v:.4f}\n')
PY
}
