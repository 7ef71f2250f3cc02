#!/usr/bin/env bash
# Every input format over real Kafka (TCP, `vigil broker`): kcat produces one
# series per format (json, influx, graphite, collectd-json, collectd-command)
# with one injected spike at a known offset, `vigil run` consumes all five
# topics, and kcat reads the alert topic back. Proves: each format is parsed
# from Kafka into the right series key; each spike gives exactly one firing
# event at the spike's source offset and one resolved event 5 points later,
# both with the same id; the ids are the pinned ones (stable across runs);
# the NDJSON log holds the same events as the alert topic; every message
# became a point.
#
# usage: test_kafka_formats.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

points=300
# topic format name spike-offset
cases=(
    "e2e-json json e2e_json 250"
    "e2e-influx influx e2e_influx 255"
    "e2e-graphite graphite e2e_graphite 260"
    "e2e-cj collectd-json e2e_cj 265"
    "e2e-cc collectd-command e2e_cc 270"
)

broker_args=(--topic alerts:1)
topics='[]'
for c in "${cases[@]}"; do
    read -r topic format name spike <<<"$c"
    broker_args+=(--topic "$topic:1")
    topics=$(jq -c --arg t "$topic" --arg f "$format" '. + [{name: $t, format: $f}]' <<<"$topics")
done
kl_broker_start "${broker_args[@]}"

expected=$tmp/expected
: >"$expected"
for c in "${cases[@]}"; do
    read -r topic format name spike <<<"$c"
    awk -v format="$format" -v name="$name" -v series=1 -v points=$points -v spike="$spike" \
        -f "$fixtures/series.awk" >"$tmp/$topic.msgs"
    kl_produce "$topic" <"$tmp/$topic.msgs"
    key=$(head -n1 "$tmp/$topic.msgs" | cut -f1)
    # By construction: the spike fires at its own offset (fire_after 1) and
    # resolves at the 5th normal point after it (resolve_after 5).
    echo "firing $key $topic/0@$spike" >>"$expected"
    echo "resolved $key $topic/0@$((spike + 5))" >>"$expected"
done
total=$((points * ${#cases[@]}))
kl_wait 20 "all produced messages in Kafka" kl_has_at_least $points e2e-cc

kl_config "$tmp/vigil.json" formats "$topics" \
    '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "alerts"},
      {"type": "ndjson", "path": "'"$tmp"'/events.ndjson"}]'
kl_vigil_start run "$tmp/vigil.json"
kl_wait 60 "10 events on the alert topic" kl_has_at_least 10 alerts
kl_stop "$vigil_pid"

[ "$(kl_stat "$tmp/run.log" points)" = $total ] ||
    kl_fail "vigil did not score all $total points: $(grep stopped "$tmp/run.log")"
[ "$(kl_stat "$tmp/run.log" bad)" = 0 ] || kl_fail "parse errors: $(grep -i 'bad\|warn' "$tmp/run.log")"

kl_consume alerts >"$tmp/alerts.ndjson"
kl_incidents "$tmp/alerts.ndjson" >"$tmp/got"
# 1. Exactly the injected incidents: series, state, source offset.
diff -u <(LC_ALL=C sort "$expected") <(cut -d' ' -f1-3 "$tmp/got") ||
    kl_fail "incidents on the alert topic differ from the injected spikes"
# 2. Firing and resolved events of an incident share its id; incidents differ.
[ "$(cut -d' ' -f2,4 "$tmp/got" | sort -u | wc -l)" = ${#cases[@]} ] ||
    kl_fail "firing and resolved ids do not pair up: $(cat "$tmp/got")"
# 3. The ids are the pinned ones: stable across processes and runs.
diff -u "$fixtures/formats.ids" <(cut -d' ' -f2,4 "$tmp/got" | LC_ALL=C sort -u) ||
    kl_fail "event ids differ from tests/fixtures/kafka/formats.ids"
# 4. The alert topic is keyed by series, and the event log says the same.
kcat -q -b "$broker" -C -t alerts -o beginning -e -f '%k %s\n' |
    while read -r k json; do
        [ "$k" = "$(jq -r .series <<<"$json")" ] || kl_fail "alert keyed '$k', not by its series"
    done
diff -u <(LC_ALL=C sort "$tmp/alerts.ndjson") <(LC_ALL=C sort "$tmp/events.ndjson") ||
    kl_fail "the NDJSON log and the alert topic differ"
kl_done
