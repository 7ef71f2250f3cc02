#!/usr/bin/env bash
# Unkeyed topics: "repartition": true re-keys a topic by series through the
# internal topic <group>-<topic>-repartition (as Kafka Streams does).
#
# The same 8 series go to two topics: "keyed" (key = series, as
# test_kafka_group.sh) and "unkeyed" (no key; every series spread over all 4
# partitions, as collectd's random keys or Telegraf's unkeyed messages do).
# Proves:
#   - two members reading the unkeyed topic with repartition on keep each
#     series' state in one member (each series' events come from one member,
#     every point is scored once) and emit the same incidents, with the same
#     values and scores, as one member reading the keyed topic;
#   - the internal topic is created by vigil with the input's partition count;
#   - without repartition, one member reading the unkeyed topic reports the
#     series seen on several partitions: a counter in /metrics and a log line
#     naming the series and the fix.
#
# The unkeyed topic gets the stream in runs of 50 points per series, run r on
# partition r % 4, and the next run is produced only once the pair has
# scored the previous one: a producer spreading a series over partitions
# faster than the group reads them would reorder its points, which no
# re-keying can undo (the out-of-order points are then counted and logged).
#
# usage: test_kafka_repartition.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=8 points=400 run=50
total=$((series * points))
kl_broker_start --topic keyed:4 --topic unkeyed:4

for who in solo a b plain; do
    group=pair topic=unkeyed repartition=true
    [ $who = solo ] && group=solo topic=keyed repartition=false
    [ $who = plain ] && group=plain repartition=false
    kl_config "$tmp/$who.json" "$group" \
        '[{"name": "'$topic'", "format": "json", "repartition": '$repartition'}]' \
        '[{"type": "ndjson", "path": "'"$tmp/$who"'.ndjson"}]' \
        '{"metrics": {"listen": "127.0.0.1:0"}}'
done

points_read() {
    curl -s "$1/metrics" | awk '/^vigil_points_read_total/ {print $2}'
}
pair_read_at_least() {
    [ $(($(points_read "$url_a") + $(points_read "$url_b"))) -ge "$1" ]
}

kl_vigil_start solo "$tmp/solo.json"; solo_pid=$vigil_pid
kl_vigil_start a "$tmp/a.json"; a_pid=$vigil_pid
kl_vigil_start b "$tmp/b.json"; b_pid=$vigil_pid
url_a=$(kl_metrics_url "$tmp/a.log") url_b=$(kl_metrics_url "$tmp/b.log")
kl_wait 60 "both members holding partitions" kl_pair_settled
echo "split: a holds $(kl_assigned a), b holds $(kl_assigned b) partitions"

# vigil created the internal topic with the input's 4 partitions.
meta=$(kcat -b "$broker" -L -t pair-unkeyed-repartition)
grep -q 'topic "pair-unkeyed-repartition" with 4 partitions' <<<"$meta" ||
    kl_fail "internal topic not created with 4 partitions: $meta"

awk -v format=json -v name=rekey -v series=$series -v points=$points -v spike=250 \
    -f "$fixtures/series.awk" >"$tmp/stream.tsv"
kl_produce keyed -z zstd <"$tmp/stream.tsv"
for ((r = 0; r < points / run; r++)); do
    sed -n "$((r * run * series + 1)),$(((r + 1) * run * series))p" "$tmp/stream.tsv" |
        cut -f2 | kcat -q -b "$broker" -P -t unkeyed -p $((r % 4)) -X linger.ms=5 ||
        kl_fail "cannot produce run $r"
    kl_wait 60 "the pair scoring run $r" pair_read_at_least $(((r + 1) * run * series))
done
kl_wait 60 "the solo member reading every point" kl_read_at_least \
    "$(kl_metrics_url "$tmp/solo.log")" $total
kl_get_has "$url_a/metrics" '^vigil_points_repartitioned_total [1-9]' ||
    kl_fail "member a re-keyed nothing"
for pid in $solo_pid $a_pid $b_pid; do kl_stop "$pid"; done

# Every point scored once, by the member owning its series.
pa=$(kl_stat "$tmp/a.log" points) pb=$(kl_stat "$tmp/b.log" points)
[ "$pa" -gt 0 ] && [ "$pb" -gt 0 ] || kl_fail "one member scored nothing (a: $pa, b: $pb points)"
[ $((pa + pb)) = $total ] || kl_fail "the pair scored $pa + $pb points, not $total"
jq -r .series "$tmp/a.ndjson" | sort -u >"$tmp/a.series"
jq -r .series "$tmp/b.ndjson" | sort -u >"$tmp/b.series"
[ -z "$(comm -12 "$tmp/a.series" "$tmp/b.series")" ] || kl_fail "both members emitted for one series"
[ "$(cat "$tmp/a.series" "$tmp/b.series" | wc -l)" = $series ] || kl_fail "not every series fired"
# The same incidents as one member on the keyed topic: everything but the
# source position is equal.
strip() { jq -c 'del(.source)' "$@" | LC_ALL=C sort; }
[ "$(grep -c '"firing"' "$tmp/solo.ndjson")" = $series ] || kl_fail "solo: not $series firing events"
diff -u <(strip "$tmp/solo.ndjson") <(strip "$tmp/a.ndjson" "$tmp/b.ndjson") ||
    kl_fail "the re-keyed pair's incidents differ from the keyed solo member's"
! grep -q 'arrives on partitions' "$tmp/a.log" "$tmp/b.log" ||
    kl_fail "a re-keyed series was reported on several partitions"

# Without repartition: every series is reported as arriving on several
# partitions, by name, with the fix.
kl_vigil_start plain "$tmp/plain.json"; plain_pid=$vigil_pid
url_plain=$(kl_metrics_url "$tmp/plain.log")
kl_wait 60 "the plain member reading every point" kl_read_at_least "$url_plain" $total
kl_get_has "$url_plain/metrics" "^vigil_series_multi_partition_total $series\$" ||
    kl_fail "plain: not $series series counted on several partitions"
kl_log_has "$tmp/plain.log" 'series rekey\{host=\\?"h[0-9]\\?"\} arrives on partitions [0-9] and [0-9] of unkeyed.*repartition' ||
    kl_fail "plain: no log line naming the series and the fix"
kl_stop "$plain_pid"
kl_done
