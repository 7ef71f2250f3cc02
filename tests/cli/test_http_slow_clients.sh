#!/usr/bin/env bash
# Slow HTTP clients do not lock /healthz, /readyz and /metrics out (issue 9,
# item 9): 40 connections (the old limit was 16) that trickle a header byte
# every second, so the idle timeout never closes them, while /healthz,
# /readyz and /metrics must each answer within 2 s, over 8 s. The trickling
# connections must still be open at the end (the server kept them, so the
# probes got through beside them, not after them).
#
# usage: test_http_slow_clients.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl python3

kl_broker_start --topic metrics:1
kl_config "$tmp/run.json" slow '[{"name": "metrics", "format": "json"}]' \
    '[{"type": "ndjson", "path": "'"$tmp"'/events.ndjson"}]' \
    '{"metrics": {"listen": "127.0.0.1:0"}}'
kl_vigil_start run "$tmp/run.json"; run_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/run.log")
port=${url##*:}
kl_wait 30 "vigil answering /healthz" kl_get_has "$url/healthz" '^ok'

n=40
python3 "$srcdir/tests/cli/slow_http_clients.py" "$port" $n 8 "$tmp/slow.ready" \
    >"$tmp/slow.out" 2>"$tmp/slow.err" &
slow_pid=$!
KL_PIDS+=("$slow_pid")
kl_wait 10 "the slow clients connected" test -s "$tmp/slow.ready"
answered=0
while kl_running "$slow_pid"; do
    for path in healthz readyz metrics; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/$path" || true)
        case "$code" in
        200 | 503) ;;  # readyz may be 503 (not ready) but it answers
        *) kl_running "$slow_pid" && kl_fail "/$path unanswered ($code) beside $n slow clients" ;;
        esac
    done
    answered=$((answered + 1))
    sleep 0.5
done
wait "$slow_pid" || kl_fail "slow clients failed: $(cat "$tmp/slow.err")"
[ "$answered" -ge 5 ] || kl_fail "only $answered rounds of probes in 8 s"
[ "$(cat "$tmp/slow.out")" = $n ] ||
    kl_fail "the server dropped trickling connections ($(cat "$tmp/slow.out") of $n open)"
kl_stop "$run_pid"
kl_done
