#!/usr/bin/env bash
# Offset commits that fail must not make the saved state and the stream
# position disagree. A checkpoint saves each partition's state together with
# the offsets it corresponds to (models/snapshot.h positions) and only then
# commits; on assign, vigil resumes from the offsets saved with the state, so
# a commit that never reached the broker (or "assignment lost" on revoke)
# costs re-reading, never re-applying messages to state that already has them.
#
# Scenario: checkpoints every 500 ms; after part 1 is checkpointed, every
# OffsetCommit fails (injected: INVALID_COMMIT_OFFSET_SIZE) while part 2 is
# processed and checkpointed; kill -9; errors cleared; restart; part 3.
# Expected (what at-least-once with warm state promises, run.h): the
# restarted run's events equal a fault-free reference's and the final state
# is byte-identical.
#
# usage: test_kafka_commit_failure.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=16 points=600
kl_broker_start_control --topic metrics:4 --topic alerts-run:1 --topic alerts-ref:1
produce_points() { kl_produce_series e2e_commit "$@"; }  # first-point count-points
topics='[{"name": "metrics", "format": "json"}]'
for who in run ref; do
    mkdir -p "$tmp/state-$who"
    kl_config "$tmp/$who.json" "$who" "$topics" \
        '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "alerts-'$who'"}]' \
        '{"state": {"dir": "'"$tmp/state-$who"'", "checkpoint_ms": 500},
          "metrics": {"listen": "127.0.0.1:0"},
          "input": {"dead_letter_topic": "dlq-'$who'"}}'
done

produce_points 0 300
kl_vigil_start ref "$tmp/ref.json"; ref_pid=$vigil_pid
kl_vigil_start run1 "$tmp/run.json"; run1_pid=$vigil_pid
kl_wait 40 "the part-1 incidents" kl_has_at_least 15 alerts-run
kl_wait 40 "the reference's part-1 incidents" kl_has_at_least 15 alerts-ref
url=$(kl_metrics_url "$tmp/run1.log")
since=$(kl_checkpoints "$url")
kl_wait 20 "a checkpoint after part 1" kl_checkpointed_since "$url" "$since"

kill -STOP "$run1_pid"
kl_control "errors OffsetCommit 100000 INVALID_COMMIT_OFFSET_SIZE"
produce_points 300 40
kill -CONT "$run1_pid"
kl_wait 20 "part-2 events" kl_has_at_least 26 alerts-run
since=$(kl_checkpoints "$url")
kl_wait 20 "a checkpoint (state saved) after part 2" kl_checkpointed_since "$url" "$since"
kl_wait 20 "a failed commit" grep -q 'commit failed' "$tmp/run1.log"
{ kill -KILL "$run1_pid" && wait "$run1_pid"; } 2>/dev/null || true
kl_control "clear OffsetCommit"

kl_vigil_start run2 "$tmp/run.json"; run2_pid=$vigil_pid
produce_points 340 260
kl_end_markers metrics 4
kl_wait 60 "the restarted process at the end" kl_consumed_all dlq-run 4
kl_wait 60 "the reference at the end" kl_consumed_all dlq-ref 4
kl_stop "$run2_pid"
kl_stop "$ref_pid"

kl_consume alerts-run >"$tmp/run-alerts.ndjson"
kl_consume alerts-ref >"$tmp/ref-alerts.ndjson"
diff -u <(jq -r '.state + " " + .id' "$tmp/ref-alerts.ndjson" | sort) \
    <(jq -r '.state + " " + .id' "$tmp/run-alerts.ndjson" | sort -u) ||
    kl_fail "incidents lost or invented"
diff -u <(LC_ALL=C sort "$tmp/ref-alerts.ndjson") <(LC_ALL=C sort -u "$tmp/run-alerts.ndjson") ||
    kl_fail "re-read messages were applied twice: events differ from the uninterrupted run's"
for p in 0 1 2 3; do
    cmp "$tmp/state-ref/ref-$p.vgstate" "$tmp/state-run/run-$p.vgstate" ||
        kl_fail "partition $p: final state differs from the uninterrupted run's"
done
kl_done
