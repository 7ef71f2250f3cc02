#!/usr/bin/env bash
# A failed delivery to the alert topic is never forgotten (issue 9, fault 1):
# non-retriable produce errors (TOPIC_AUTHORIZATION_FAILED) hit vigil's
# alert producer while incidents fire. vigil keeps the failed events,
# holds the checkpoint back (no commit past them), pauses and reports not
# ready once the failures outlast state.hold_max_ms (/readyz 503 with the
# reason, vigil_not_durable_total{sink="kafka",reason="delivery"}), and
# delivers them once the errors stop. The incident set on the alert topic
# (ids and states) then equals a fault-free instance's; repeats allowed.
#
# usage: test_fault_delivery.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl

series=16 points=600
kl_broker_start_control --topic metrics:4 --topic alerts:1 --topic alerts-ref:1
topics='[{"name": "metrics", "format": "json"}]'
for who in run ref; do
    alerts=alerts
    [ $who = ref ] && alerts=alerts-ref
    kl_config "$tmp/$who.json" "$who" "$topics" \
        '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "'$alerts'"}]' \
        '{"state": {"checkpoint_ms": 500, "hold_max_ms": 1000},
          "metrics": {"listen": "127.0.0.1:0"}}'
done

kl_produce_series e2e_delivery 0 200
kl_vigil_start run "$tmp/run.json"; run_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/run.log")
ready() { [ "$(kl_http_code "$url/readyz")" = 200 ]; }
kl_wait 30 "vigil ready" ready
kl_wait 40 "vigil through the first part" kl_read_at_least "$url" $((200 * series))

# The faults: the next produce requests fail, and vigil's are the next
# ones (it is frozen while kcat produces the rest), as it meets the spikes
# (from point 250) and their incidents.
kill -STOP "$run_pid"
kl_produce_series e2e_delivery 200 400
kl_control "errors Produce 6 TOPIC_AUTHORIZATION_FAILED"
kill -CONT "$run_pid"

kl_wait 60 "/readyz reporting the held checkpoint" kl_get_has "$url/readyz" 'consumption paused'

[ "$(kl_http_code "$url/readyz")" = 503 ] || kl_fail "/readyz not 503"
kl_get_has "$url/metrics" '^vigil_not_durable_total\{sink="kafka",reason="delivery"\} [1-9]' ||
    kl_fail "delivery failures not counted by sink and reason"
kl_wait 60 "vigil ready again" ready
kl_wait 30 "vigil through every point" kl_read_at_least "$url" $((points * series))
kl_stop "$run_pid"

kl_control "clear Produce"   # errors left over are not the reference's
kl_vigil_start ref "$tmp/ref.json"; ref_pid=$vigil_pid
ref_url=$(kl_metrics_url "$tmp/ref.log")
kl_wait 60 "the reference through every point" kl_read_at_least "$ref_url" $((points * series))
kl_stop "$ref_pid"

kl_consume alerts-ref >"$tmp/ref.ndjson"
kl_consume alerts >"$tmp/run.ndjson"
[ "$(jq -r '.state + " " + .id' "$tmp/ref.ndjson" | sort -u | wc -l)" = $((2 * series)) ] ||
    kl_fail "reference: not 32 incidents"
kl_same_incidents "$tmp/ref.ndjson" "$tmp/run.ndjson" || kl_fail "incidents lost to failed deliveries"
grep -q 'checkpoint held back' "$tmp/run.log" || kl_fail "no held checkpoint logged"
echo "held checkpoints logged: $(grep -c 'checkpoint held back' "$tmp/run.log")"
kl_done
