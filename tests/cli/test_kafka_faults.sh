#!/usr/bin/env bash
# Broker faults while `vigil run` consumes (fault injection through
# `vigil broker --control`):
#  1. the only broker goes down for longer than the session timeout (8 s >
#     6 s): every connection drops, the group coordinator expires the member;
#  2. then injected request errors hit vigil's alert producer (Produce),
#     its commits (OffsetCommit), its heartbeats and its fetches.
# Proves: vigil recovers by itself (no restart, exits 0 on SIGTERM, reads
# to the end of every partition), loses no incident (all 16 expected
# incidents, firing and resolved), and what it emits is exactly what a
# fault-free instance emits from the same topic (byte-identical event lines;
# at-least-once may repeat some, with the same ids).
#
# usage: test_kafka_faults.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=16 points=600
kl_broker_start_control --topic metrics:4 --topic alerts:1 --topic alerts-ref:1

# The control interface rejects what it does not know.
echo "errors NoSuchApi 1 REQUEST_TIMED_OUT" >&3
KL_CONTROL_SENT=$((KL_CONTROL_SENT + 1))
kl_wait 10 "an answer to a bad command" kl_control_answered
grep -q '^error: errors: expected' "$tmp/broker.out" || kl_fail "a bad control command was accepted"

produce_points() {  # first-point count-points
    awk -v format=json -v name=e2e_faults -v series=$series -v points=$points -v spike=250 \
        -v first=$(($1 * series)) -v count=$(($2 * series)) -f "$fixtures/series.awk" |
        kl_produce metrics -z zstd
}

topics='[{"name": "metrics", "format": "json"}]'
for who in run ref; do
    alerts=alerts
    [ $who = ref ] && alerts=alerts-ref
    mkdir -p "$tmp/state-$who"
    kl_config "$tmp/$who.json" "$who" "$topics" \
        '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "'$alerts'"},
          {"type": "ndjson", "path": "'"$tmp/$who"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-$who"'", "checkpoint_ms": 500},
          "input": {"dead_letter_topic": "dlq-'$who'"}}'
done

produce_points 0 300
kl_vigil_start run "$tmp/run.json"; run_pid=$vigil_pid
kl_wait 40 "the part-1 incidents (8 firing, 7 resolved)" kl_has_at_least 15 alerts

# 1. The broker down. vigil must notice (a consumer error in its log); the
# outage then lasts 8 s on purpose: longer than session.timeout.ms.
kl_control "down 1"
noticed() { grep -Eq 'Connection refused|brokers are down' "$tmp/run.log"; }
kl_wait 20 "vigil noticing the broker is down" noticed
sleep 8   # the outage itself, not a synchronisation
kl_control "up 1"
kl_running "$run_pid" || kl_fail "vigil died while the broker was down"

# 2. Request errors, queued while vigil is frozen so that it is the client
# that meets them (kcat's own requests come before or after).
produce_points 300 300
kl_end_markers metrics 4
kill -STOP "$run_pid"
kl_control "errors Produce 4 REQUEST_TIMED_OUT"
kl_control "errors OffsetCommit 3 COORDINATOR_NOT_AVAILABLE"
kl_control "errors Heartbeat 2 COORDINATOR_LOAD_IN_PROGRESS"
kl_control "errors Fetch 3 NOT_LEADER_FOR_PARTITION"
kill -CONT "$run_pid"

kl_wait 90 "vigil at the end of every partition after the faults" kl_consumed_all dlq-run 4
unique_events() { [ "$(kl_consume alerts | jq -r '.state + " " + .id' | sort -u | wc -l)" -ge $((2 * series)) ]; }
kl_wait 60 "all 32 events after the faults" unique_events
kl_stop "$run_pid"   # exits 0: it recovered, nothing fatal

# The reference: a fault-free instance over the same topic, afterwards.
kl_vigil_start ref "$tmp/ref.json"; ref_pid=$vigil_pid
kl_wait 60 "the reference at the end of every partition" kl_consumed_all dlq-ref 4
kl_stop "$ref_pid"

# The outage cost vigil its group membership: it rejoined and reloaded
# the state it had saved when the partitions were taken away.
grep -q 'session timed out' "$tmp/run.log" || kl_fail "the outage did not expire vigil's session"
[ "$(grep -c 'partitions assigned: 4; 16 series loaded' "$tmp/run.log")" -ge 1 ] ||
    kl_fail "vigil did not rejoin warm after the outage"
kl_consume alerts >"$tmp/run-alerts.ndjson"
kl_consume alerts-ref >"$tmp/ref-alerts.ndjson"
[ "$(wc -l <"$tmp/ref-alerts.ndjson")" = $((2 * series)) ] || kl_fail "reference: not 32 events"
[ "$(jq -r .id "$tmp/ref-alerts.ndjson" | sort -u | wc -l)" = $series ] || kl_fail "reference: ids"
diff -u <(LC_ALL=C sort "$tmp/ref-alerts.ndjson") <(LC_ALL=C sort -u "$tmp/run-alerts.ndjson") ||
    kl_fail "the events under faults differ from the fault-free run's"
diff -u <(LC_ALL=C sort "$tmp/ref.ndjson") <(LC_ALL=C sort -u "$tmp/run.ndjson") ||
    kl_fail "the event logs under faults differ from the fault-free run's"
echo "events sent: $(wc -l <"$tmp/run-alerts.ndjson")" \
    "($(($(wc -l <"$tmp/run-alerts.ndjson") - 2 * series)) repeated);" \
    "commit failures logged: $(grep -c 'commit failed\|commit:' "$tmp/run.log" || true)"
kl_done
