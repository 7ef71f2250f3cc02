#!/usr/bin/env bash
# kill -9 during incremental checkpoints and their compactions (issue 13):
# `vigil run` saves state every 100 ms as a log of changes beside each
# partition's base snapshot. Round 1 never compacts (every kill lands while
# segments are appended); round 2 compacts after every segment (compact_percent
# 1: the writer is rewriting a base most of the time). In each round the
# stream arrives in parts, and after each part vigil is killed at a random
# moment and restarted in the same group. A reference instance in another
# group reads the same topic without interruption. Proves, per round:
#  - nothing lost: the same (state, id) incident set as the reference;
#  - every restart after the first resumes warm (series loaded);
#  - the final state, saved whole at shutdown, is byte-identical to the
#    reference's, and no log of changes is left beside it.
#
# usage: test_kill_checkpoint.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=16 points=600
kl_broker_start --topic m1:4 --topic m2:4

round() {
    local name=$1 compact=$2 topic=m$1
    mkdir -p "$tmp/state-$name" "$tmp/state-ref-$name"
    local topics='[{"name": "'$topic'", "format": "json"}]'
    kl_config "$tmp/$name.json" "$name" "$topics" \
        '[{"type": "ndjson", "path": "'"$tmp/$name"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-$name"'", "checkpoint_ms": 100,
                    "compact_percent": '"$compact"'},
          "input": {"dead_letter_topic": "dlq-'$name'"}}'
    kl_config "$tmp/ref-$name.json" "ref-$name" "$topics" \
        '[{"type": "ndjson", "path": "'"$tmp/ref-$name"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-ref-$name"'"},
          "input": {"dead_letter_topic": "dlq-ref-'$name'"}}'
    kl_vigil_start "ref-$name" "$tmp/ref-$name.json"; local ref_pid=$vigil_pid

    local part pid
    for part in 0 1 2 3; do  # points 0..479 in four parts, a kill after each
        KL_TOPIC=$topic kl_produce_series "e2e_kill_$name" $((part * 120)) 120
        kl_vigil_start "$name-$part" "$tmp/$name.json"; pid=$vigil_pid
        kl_wait 40 "$name-$part: partitions assigned" \
            kl_log_has "$tmp/$name-$part.log" 'partitions assigned: 4'
        sleep "$(awk -v s=$RANDOM 'BEGIN { printf "%.2f", 0.3 + (s % 150) / 100 }')"
        kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
        if [ $part -gt 0 ]; then
            grep -Eq 'partitions assigned: 4; [1-9][0-9]* series loaded' "$tmp/$name-$part.log" ||
                kl_fail "$name-$part: not warm: $(grep assigned "$tmp/$name-$part.log")"
        fi
        grep -q 'not loaded' "$tmp/$name-$part.log" &&
            kl_fail "$name-$part: saved state refused: $(grep 'not loaded' "$tmp/$name-$part.log")"
    done
    KL_TOPIC=$topic kl_produce_series "e2e_kill_$name" 480 120
    kl_end_markers "$topic" 4
    kl_vigil_start "$name-end" "$tmp/$name.json"; pid=$vigil_pid
    kl_wait 60 "$name: the last process at the end of every partition" \
        kl_consumed_all "dlq-$name" 4
    kl_wait 60 "$name: the reference at the end of every partition" \
        kl_consumed_all "dlq-ref-$name" 4
    kl_stop "$pid"
    kl_stop "$ref_pid"
    grep -Eq 'partitions assigned: 4; [1-9][0-9]* series loaded' "$tmp/$name-end.log" ||
        kl_fail "$name-end: not warm"

    [ "$(jq -r '.state + " " + .id' "$tmp/ref-$name.ndjson" | sort -u | wc -l)" = $((2 * series)) ] ||
        kl_fail "$name: reference: not 32 incidents"
    kl_same_incidents "$tmp/ref-$name.ndjson" "$tmp/$name.ndjson" ||
        kl_fail "$name: the incidents after the kills differ from the uninterrupted run's"
    # Warm and exact: every event line equals the reference's.
    diff -u <(LC_ALL=C sort "$tmp/ref-$name.ndjson") <(LC_ALL=C sort -u "$tmp/$name.ndjson") ||
        kl_fail "$name: events after the kills differ from the uninterrupted run's"
    local p
    for p in 0 1 2 3; do
        cmp "$tmp/state-ref-$name/ref-$name-$p.vgstate" "$tmp/state-$name/$name-$p.vgstate" ||
            kl_fail "$name: partition $p: final state differs from the uninterrupted run's"
        [ ! -e "$tmp/state-$name/$name-$p.vgdelta" ] ||
            kl_fail "$name: partition $p: a log of changes left after a clean stop"
    done
    echo "$name: ok, $(wc -l <"$tmp/$name.ndjson") event lines for $(wc -l <"$tmp/ref-$name.ndjson")"
}

round 1 10000
round 2 1
kl_done
