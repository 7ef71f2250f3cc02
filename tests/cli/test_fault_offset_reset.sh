#!/usr/bin/env bash
# Offsets never move behind the state (issue 9, fault 6): an injected
# OFFSET_OUT_OF_RANGE makes the consumer reset its fetch position to the
# earliest offset (auto.offset.reset=earliest) mid-stream. vigil must not
# feed the old messages to its warm state again: it skips them up to where
# it was (vigil_offset_rewinds_total, a log line): it reads each point
# once, its saved state is byte-identical to a fault-free run's, and so are
# its incidents (ids and states; nothing extra, nothing lost).
#
# usage: test_fault_offset_reset.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl

series=16 points=600
kl_broker_start_control --topic metrics:4
topics='[{"name": "metrics", "format": "json"}]'
for who in run ref; do
    mkdir -p "$tmp/state-$who"
    kl_config "$tmp/$who.json" "$who" "$topics" \
        '[{"type": "ndjson", "path": "'"$tmp/$who"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-$who"'", "checkpoint_ms": 300},
          "metrics": {"listen": "127.0.0.1:0"}}'
done

kl_produce_series e2e_reset 0 300
kl_vigil_start run "$tmp/run.json"; run_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/run.log")
kl_wait 40 "through the first part" kl_read_at_least "$url" $((300 * series))

# The reset: vigil's next fetches fail with OFFSET_OUT_OF_RANGE.
kill -STOP "$run_pid"
kl_produce_series e2e_reset 300 300
kl_control "errors Fetch 4 OFFSET_OUT_OF_RANGE"
kill -CONT "$run_pid"
kl_wait 60 "through every point" kl_read_at_least "$url" $((points * series))
kl_wait 30 "old messages skipped and counted" kl_get_has "$url/metrics" '^vigil_offset_rewinds_total [1-9]'
sleep 1   # time to apply any re-read data, which must not come; not a synchronisation
read_total() { curl -s "$1/metrics" | awk '/^vigil_points_read_total/ {print $2}'; }
[ "$(read_total "$url")" = $((points * series)) ] ||
    kl_fail "points read again: $(read_total "$url") for $((points * series))"
kl_stop "$run_pid"
grep -q 'behind the position' "$tmp/run.log" || kl_fail "the rewind was not logged"

kl_vigil_start ref "$tmp/ref.json"; ref_pid=$vigil_pid
ref_url=$(kl_metrics_url "$tmp/ref.log")
kl_wait 60 "the reference through every point" kl_read_at_least "$ref_url" $((points * series))
kl_stop "$ref_pid"
[ "$(jq -r '.state + " " + .id' "$tmp/ref.ndjson" | sort -u | wc -l)" = $((2 * series)) ] ||
    kl_fail "reference: not 32 incidents"
for p in 0 1 2 3; do
    cmp "$tmp/state-ref/ref-$p.vgstate" "$tmp/state-run/run-$p.vgstate" ||
        kl_fail "the state of partition $p differs from the fault-free run's"
done
kl_same_incidents "$tmp/ref.ndjson" "$tmp/run.ndjson" ||
    kl_fail "the reset changed the incidents (old data re-applied?)"
echo "skipped messages logged: $(grep -c "behind the position" "$tmp/run.log") line(s)"
kl_done
