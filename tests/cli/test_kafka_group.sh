#!/usr/bin/env bash
# Scale-out through a Kafka consumer group: two `vigil run` instances in one
# group split a 4-partition topic (16 series, keyed by series so each stays
# in one partition) and together emit exactly the events one instance alone
# emits from the same topic: the same ids, byte for byte the same JSON.
# Proves: partitions are shared (each member gets some and scores only its
# own series), no series is scored twice or dropped, and the split changes
# nothing in the results.
#
# Both members join before any data exists, so the split is settled when the
# data arrives (a rebalance in the middle is test_kafka_restart.sh's topic).
#
# usage: test_kafka_group.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=16 points=400
total=$((series * points))
kl_broker_start --topic metrics:4 --topic alerts-solo:1 --topic alerts-pair:1

topics='[{"name": "metrics", "format": "json"}]'
for who in solo a b; do
    group=pair alerts=alerts-pair
    [ $who = solo ] && group=solo alerts=alerts-solo
    mkdir -p "$tmp/state-$group"
    kl_config "$tmp/$who.json" "$group" "$topics" \
        '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "'$alerts'"},
          {"type": "ndjson", "path": "'"$tmp/$who"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-$group"'", "checkpoint_ms": 500}}'
done


kl_vigil_start solo "$tmp/solo.json"; solo_pid=$vigil_pid
kl_vigil_start a "$tmp/a.json"; a_pid=$vigil_pid
kl_vigil_start b "$tmp/b.json"; b_pid=$vigil_pid
kl_wait 40 "both members holding partitions" kl_pair_settled
echo "split: a holds $(kl_assigned a), b holds $(kl_assigned b) partitions"
revokes() { cat "$tmp/a.log" "$tmp/b.log" | grep -c 'partitions revoked' || true; }
revokes_before=$(revokes)

awk -v format=json -v name=e2e_group -v series=$series -v points=$points -v spike=250 \
    -f "$fixtures/series.awk" | kl_produce metrics -z zstd
kl_wait 60 "32 events from the solo instance" kl_has_at_least $((2 * series)) alerts-solo
kl_wait 60 "32 events from the pair" kl_has_at_least $((2 * series)) alerts-pair
[ "$(revokes)" = "$revokes_before" ] || kl_fail "the pair rebalanced while consuming"
for pid in $solo_pid $a_pid $b_pid; do kl_stop "$pid"; done

# Together the pair scored every point once.
pa=$(kl_stat "$tmp/a.log" points) pb=$(kl_stat "$tmp/b.log" points)
[ "$pa" -gt 0 ] && [ "$pb" -gt 0 ] || kl_fail "one member scored nothing (a: $pa, b: $pb points)"
[ $((pa + pb)) = $total ] || kl_fail "the pair scored $pa + $pb points, not $total"
[ "$(kl_stat "$tmp/solo.log" points)" = $total ] || kl_fail "the solo instance did not score $total points"

# Each member emitted events only for series of its own partitions.
for who in a b; do
    jq -r .source.partition "$tmp/$who.ndjson" | sort -u >"$tmp/$who.parts"
done
[ -z "$(comm -12 "$tmp/a.parts" "$tmp/b.parts")" ] || kl_fail "both members emitted for one partition"

# The same incidents: 16 firing + 16 resolved, one series each, ids paired...
kl_consume alerts-solo >"$tmp/solo-alerts.ndjson"
kl_consume alerts-pair >"$tmp/pair-alerts.ndjson"
kl_incidents "$tmp/solo-alerts.ndjson" >"$tmp/solo.inc"
[ "$(grep -c '^firing' "$tmp/solo.inc")" = $series ] || kl_fail "solo: not $series firing events"
[ "$(grep -c '^resolved' "$tmp/solo.inc")" = $series ] || kl_fail "solo: not $series resolved events"
[ "$(cut -d' ' -f2,4 "$tmp/solo.inc" | sort -u | wc -l)" = $series ] || kl_fail "solo: ids do not pair"
# ... and the pair's events equal the solo events byte for byte (order aside).
diff -u <(LC_ALL=C sort "$tmp/solo-alerts.ndjson") <(LC_ALL=C sort "$tmp/pair-alerts.ndjson") ||
    kl_fail "the pair's events differ from the solo instance's"
diff -u <(LC_ALL=C sort "$tmp/pair-alerts.ndjson") <(cat "$tmp/a.ndjson" "$tmp/b.ndjson" | LC_ALL=C sort) ||
    kl_fail "the pair's event logs differ from its alert topic"
kl_done
