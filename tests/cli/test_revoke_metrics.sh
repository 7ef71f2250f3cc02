#!/usr/bin/env bash
# vigil_series_active follows a revoke at once (issue 9, finding 9): a
# member that gives partitions away forgets their series, and its gauge
# says so without waiting for more data (there is none here). (With the
# default eager protocol it gives all four away and gets two back without
# state: it then holds none.)
#
# usage: test_revoke_metrics.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl

series=16 points=100
kl_broker_start --topic metrics:4
topics='[{"name": "metrics", "format": "json"}]'
for who in a b; do
    kl_config "$tmp/$who.json" pair "$topics" '[{"type": "console"}]' \
        '{"metrics": {"listen": "127.0.0.1:0"}}'
done
kl_produce_series e2e_revoke 0 100

kl_vigil_start a "$tmp/a.json"; a_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/a.log")
kl_wait 40 "a through every point" kl_read_at_least "$url" $((points * series))
active() { curl -s "$url/metrics" | awk '/^vigil_series_active / {print $2}'; }
[ "$(active)" = $series ] || kl_fail "a holds $(active) series, not $series"

kl_vigil_start b "$tmp/b.json"; b_pid=$vigil_pid
kl_wait 40 "a giving partitions to b" kl_log_has "$tmp/a.log" 'partitions revoked: [1-9]'
kl_wait 40 "b getting its share" kl_log_has "$tmp/b.log" 'partitions assigned: [1-9]'
fewer() { [ "$(active)" -lt $series ]; }
kl_wait 10 "a's vigil_series_active below $series after the revoke (have $(active))" fewer
echo "a holds $(active) of $series series after the revoke"
kl_stop "$b_pid"
kl_stop "$a_pid"
kl_done
