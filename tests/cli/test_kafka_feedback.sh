#!/usr/bin/env bash
# Issue 12, feedback on the Kafka feedback topic ("input": {"feedback_topic":
# ...}): one series with three spikes, +20 at point 250, +20 again at 550
# and +40 at 850. After the first incident, three messages on the feedback
# topic (POST /feedback's bodies): one naming an incident that is not the
# series' (refused), one with a bad verdict (refused), and "not_anomalous"
# on the incident (accepted). Proves: each is written to the event log as a
# feedback record with source "kafka", result and why; the refusals are
# logged and counted (vigil_feedback_total{result="refused",source="kafka"},
# none with source="http"); then the repeat of the same deviation does not
# page (no firing at 550, neither in the event log nor on the alert topic)
# while twice as large still does
# (850). A second vigil reading the same points without the feedback topic
# (the control) fires at 550.
#
# usage: test_kafka_feedback.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl

kl_broker_start --topic metrics:1 --topic feedback:1 --topic alerts:1 --topic alerts-control:1

# points [first, first + count): 50 plus Park-Miller noise in [-1, 1],
# 60 s apart, with the spikes.
points() {
    awk -v first="$1" -v count="$2" 'BEGIN {
        rng = 4242
        for (i = 0; i < first + count; i++) {
            rng = (rng * 16807) % 2147483647
            v = 50 + 2 * rng / 2147483647 - 1
            if (i == 250 || i == 550) v += 20
            if (i == 850) v += 40
            if (i >= first)
                printf "fb{host=\"h0\"}\t{\"series\":\"fb\",\"labels\":{\"host\":\"h0\"},\"ts\":%.0f,\"value\":%.4f}\n",
                    (1700000000 + 60 * i) * 1000, v
        }
    }'
}
ts_of() { echo $(((1700000000 + 60 * $1) * 1000)); }

kl_config "$tmp/vigil.json" fb '[{"name": "metrics", "format": "json"}]' \
    '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "alerts"},
      {"type": "ndjson", "path": "'"$tmp/events.ndjson"'"}]' \
    '{"input": {"feedback_topic": "feedback"}, "metrics": {"listen": "127.0.0.1:0"},
      "instance": "fb-test"}'
kl_config "$tmp/control.json" fb-control '[{"name": "metrics", "format": "json"}]' \
    '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "alerts-control"},
      {"type": "ndjson", "path": "'"$tmp/control.ndjson"'"}]'
"$vigil" config check -c "$tmp/vigil.json" >/dev/null || kl_fail "config check refused the feedback topic"

points 0 400 | kl_produce metrics
kl_vigil_start vigil "$tmp/vigil.json"
pid_main=$vigil_pid
kl_vigil_start control "$tmp/control.json"
pid_control=$vigil_pid
url=$(kl_metrics_url "$tmp/vigil.log")
resolved() { [ "$(jq -r 'select(.state == "resolved") | .ts_ms' "$1" 2>/dev/null | wc -l)" = 1 ]; }
kl_wait 60 "the incident of point 250 resolved" resolved "$tmp/events.ndjson"
kl_wait 60 "the control's incident of point 250 resolved" resolved "$tmp/control.ndjson"
[ "$(jq -r 'select(.state == "firing") | .ts_ms' "$tmp/events.ndjson")" = "$(ts_of 250)" ] ||
    kl_fail "the first spike did not fire once: $(cat "$tmp/events.ndjson")"
id=$(jq -r 'select(.state == "firing") | .id' "$tmp/events.ndjson")
series=$(jq -r 'select(.state == "firing") | .series' "$tmp/events.ndjson")

# The verdicts, in order, on the feedback topic.
body() { jq -cn --arg id "$1" --arg s "$series" --arg v "$2" '{incident: $id, series: $s, verdict: $v}'; }
{
    printf 'fb\t%s\n' "$(body 0123456789abcdef0123456789abcdef not_anomalous)"
    printf 'fb\t%s\n' "$(body "$id" maybe)"
    printf 'fb\t%s\n' "$(body "$id" not_anomalous)"
} | kl_produce feedback
records() { jq -c 'select(.kind == "feedback")' "$tmp/events.ndjson"; }
kl_wait 60 "three feedback records in the event log" eval '[ "$(records | wc -l)" = 3 ]'
[ "$(records | jq -r '[.source, .result, .verdict // "-", .id // "-"] | join(" ")')" = \
  "kafka refused not_anomalous 0123456789abcdef0123456789abcdef
kafka refused - $id
kafka accepted not_anomalous $id" ] || kl_fail "feedback records: $(records)"
records | sed -n 1p | jq -e '.detail | test("not the latest")' >/dev/null ||
    kl_fail "the unknown incident's record does not say why: $(records | sed -n 1p)"
records | sed -n 2p | jq -e '.detail | test("verdict")' >/dev/null ||
    kl_fail "the bad verdict's record does not say why: $(records | sed -n 2p)"
kl_log_has "$tmp/vigil.log" 'feedback from kafka refused' || kl_fail "refusals not logged"
kl_get_has "$url/metrics" '^vigil_feedback_total\{result="refused",source="kafka"\} 2$' ||
    kl_fail "refusals not counted: $(curl -s "$url/metrics" | grep feedback)"
kl_get_has "$url/metrics" '^vigil_feedback_total\{result="not_anomalous",source="kafka"\} 1$' ||
    kl_fail "the verdict not counted"
kl_get_has "$url/metrics" '^vigil_feedback_total\{result="refused",source="http"\} 0$' ||
    kl_fail "Kafka refusals counted as HTTP ones"
# Records are not notified: the alert topic holds the incident only.
[ "$(kl_consume alerts | jq -s 'map(select(.kind == "feedback")) | length')" = 0 ] ||
    kl_fail "a feedback record reached the alert topic"

points 400 600 | kl_produce metrics
fired() { jq -r 'select(.state == "firing") | .ts_ms' "$1" | tr '\n' ' '; }
kl_wait 60 "the +40 spike fired" eval '[[ "$(fired "$tmp/events.ndjson")" == *"$(ts_of 850)"* ]]'
kl_wait 60 "the control's +40 spike fired" eval '[[ "$(fired "$tmp/control.ndjson")" == *"$(ts_of 850)"* ]]'
[ "$(fired "$tmp/control.ndjson")" = "$(ts_of 250) $(ts_of 550) $(ts_of 850) " ] ||
    kl_fail "the control did not fire at each spike: $(fired "$tmp/control.ndjson")"
[ "$(fired "$tmp/events.ndjson")" = "$(ts_of 250) $(ts_of 850) " ] ||
    kl_fail "after not_anomalous: fired at $(fired "$tmp/events.ndjson"), not 250 and 850"
[ "$(kl_consume alerts | jq -r 'select(.state == "firing") | .ts_ms' | tr '\n' ' ')" = \
  "$(ts_of 250) $(ts_of 850) " ] || kl_fail "the alert topic paged the repeat"
kl_stop "$pid_main"
kl_stop "$pid_control"
kl_done
