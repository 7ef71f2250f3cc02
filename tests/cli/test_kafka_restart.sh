#!/usr/bin/env bash
# Crash and warm restart: `vigil run` is killed with SIGKILL mid-stream,
# after a checkpoint and after it has processed (and alerted on) messages
# past that checkpoint; a new process in the same group takes over once the
# dead member's session expires. A reference instance in another group reads
# the same topic without interruption. Proves:
#  - no incident is lost: the restarted group emits every expected incident;
#  - the messages after the checkpoint are re-read (at-least-once), and the
#    events they cause again are duplicates with the same ids;
#  - the restart is warm and exact: every event line of the crashed and the
#    restarted process is byte-identical to the reference's line for the
#    same id and state (scores, bands, source offsets), and the partitions'
#    final saved state is byte-identical to the reference's.
#
# usage: test_kafka_restart.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=16 points=600
kl_broker_start --topic metrics:4 --topic alerts-run:1 --topic alerts-ref:1

# Spikes at points 250..349 (series.awk): part 1 (points 0..299) holds 8
# incidents, the last one still open at its end; part 2 (300..339) 5 more,
# part 3 (340..599) the last 2. An end marker (a bad message) closes every
# partition: once its dead letter is out, the partition is consumed.
produce_points() { kl_produce_series e2e_restart "$@"; }  # first-point count-points

topics='[{"name": "metrics", "format": "json"}]'
for who in run ref; do
    mkdir -p "$tmp/state-$who"
    kl_config "$tmp/$who.json" "$who" "$topics" \
        '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "alerts-'$who'"},
          {"type": "ndjson", "path": "'"$tmp/$who"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-$who"'", "checkpoint_ms": 3000},
          "metrics": {"listen": "127.0.0.1:0"},
          "input": {"dead_letter_topic": "dlq-'$who'"}}'
done

produce_points 0 300
kl_vigil_start ref "$tmp/ref.json"; ref_pid=$vigil_pid
kl_vigil_start run1 "$tmp/run.json"; run1_pid=$vigil_pid
kl_wait 40 "the part-1 incidents (8 firing, 7 resolved)" kl_has_at_least 15 alerts-run

# A checkpoint after part 1 (vigil_checkpoints_total). Then part 2 at
# once, and the kill as soon as its 11 events are out: well before the next
# checkpoint (3 s), so the crash loses processed, alerted, uncommitted work.
url=$(kl_metrics_url "$tmp/run1.log")
since=$(kl_checkpoints "$url")
kl_wait 20 "a checkpoint after part 1" kl_checkpointed_since "$url" "$since"
produce_points 300 40
kl_wait 20 "part-2 events before the kill" kl_has_at_least 26 alerts-run
{ kill -KILL "$run1_pid" && wait "$run1_pid"; } 2>/dev/null || true
before_restart=$(kl_count alerts-run)
ls "$tmp"/state-run/run-{0,1,2,3}.vgstate >/dev/null || kl_fail "not every partition had saved state"

# The restart: it waits for the killed member's session (6 s) to expire.
kl_vigil_start run2 "$tmp/run.json"; run2_pid=$vigil_pid
produce_points 340 260
kl_end_markers metrics 4
kl_wait 60 "the restarted process at the end of every partition" kl_consumed_all dlq-run 4
kl_wait 60 "the reference at the end of every partition" kl_consumed_all dlq-ref 4
kl_stop "$run2_pid"
kl_stop "$ref_pid"

grep -Eq 'partitions assigned: 4; [1-9][0-9]* series loaded' "$tmp/run2.log" ||
    kl_fail "the restarted process did not load the saved state: $(grep assigned "$tmp/run2.log")"
[ "$(kl_stat "$tmp/ref.log" points)" = $((series * points)) ] || kl_fail "the reference missed points"

kl_consume alerts-run >"$tmp/run-alerts.ndjson"
kl_consume alerts-ref >"$tmp/ref-alerts.ndjson"
# The reference: 16 incidents, each one firing and one resolved event.
[ "$(wc -l <"$tmp/ref-alerts.ndjson")" = $((2 * series)) ] || kl_fail "reference: not 32 events"
[ "$(jq -r .id "$tmp/ref-alerts.ndjson" | sort -u | wc -l)" = $series ] || kl_fail "reference: ids"
# Nothing lost, nothing new: the same (state, id) set.
diff -u <(jq -r '.state + " " + .id' "$tmp/ref-alerts.ndjson" | sort) \
    <(jq -r '.state + " " + .id' "$tmp/run-alerts.ndjson" | sort -u) ||
    kl_fail "the restarted group's incidents differ from the uninterrupted run's"
# The re-read messages alerted again: duplicates, sharing ids.
dups=$(($(wc -l <"$tmp/run-alerts.ndjson") - 2 * series))
[ "$dups" -ge 1 ] || kl_fail "no event was re-sent after the crash: the kill came too late"
# Byte-identical: every event of both processes equals the reference's.
diff -u <(LC_ALL=C sort "$tmp/ref-alerts.ndjson") <(LC_ALL=C sort -u "$tmp/run-alerts.ndjson") ||
    kl_fail "events after the restart differ from the uninterrupted run's"
diff -u <(LC_ALL=C sort "$tmp/ref.ndjson") <(LC_ALL=C sort -u "$tmp/run.ndjson") ||
    kl_fail "the event logs differ"
# The learned state at the end is the same as without the crash.
for p in 0 1 2 3; do
    cmp "$tmp/state-ref/ref-$p.vgstate" "$tmp/state-run/run-$p.vgstate" ||
        kl_fail "partition $p: final state differs from the uninterrupted run's"
done
echo "events before the restart: $before_restart; re-sent after it: $dups"
kl_done
