#!/usr/bin/env bash
# Malformed messages among good ones. Topic "clean" holds 600 good JSON
# messages (2 series, one spike each); topic "dirty" holds the same 600 with
# bad messages between them (tests/fixtures/kafka/malformed/: truncated
# JSON, wrong types, NaN, missing fields, a bad timestamp, binary garbage;
# plus a 1.1 MiB message), one just before each spike. One `vigil run` reads
# each topic. Proves: every bad message is skipped and counted (shutdown
# counters), logged with a rate limit (one log line, not one per message),
# and sent unchanged to the dead-letter topic with the parser's reason in
# header vigil-reason and its origin in vigil-origin (read back with kcat)
# -- except the 1.1 MiB one: the dead-letter producer keeps librdkafka's
# default message.max.bytes (1000000), so that dead letter fails, and the
# failure is counted and logged (kafka_source.h: it does not hold commits);
# the good messages around them give exactly the incidents they give alone
# (event lines equal but for the source offset, which shifts by the bad
# messages before it). Also: a topic with an unknown format is a config
# error naming the key and its line:col, exit status 1.
#
# usage: test_kafka_malformed.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

series=2 points=300
kl_broker_start --topic clean:1 --topic dirty:1 --topic alerts-clean:1 --topic alerts-dirty:1

# 1. An unknown format: refused before anything is consumed.
printf '{\n  "input": {\n    "brokers": "%s",\n    "topics": [{"name": "clean", "format": "yaml"}]\n  }\n}\n' \
    "$broker" >"$tmp/bad-format.json"
status=0
"$vigil" run -c "$tmp/bad-format.json" >"$tmp/bad-format.out" 2>&1 || status=$?
[ $status = 1 ] || kl_fail "an unknown format exited $status, not 1"
grep -q 'bad-format.json:4:.*format' "$tmp/bad-format.out" ||
    kl_fail "the format error does not name the key and line: $(cat "$tmp/bad-format.out")"

# 2. The topics. Bad message i goes in after good message at[i] (the
# spikes are good messages 500 and 515).
good() {  # first-message count
    awk -v format=json -v name=e2e_malformed -v series=$series -v points=$points -v spike=250 \
        -v first="$1" -v count="$2" -f "$fixtures/series.awk"
}
good 0 $((series * points)) | kl_produce clean
bad_files=("$fixtures"/malformed/*.msg)
{
    printf '{"series":"e2e_malformed","labels":{"host":"h0","pad":"'
    head -c $((1100 * 1024)) /dev/zero | tr '\0' x
    printf '"},"ts":1700006000000,"value":1.5}'
} >"$tmp/10-too-large.msg"
bad_files+=("$tmp/10-too-large.msg")
at=(50 100 150 200 250 300 350 400 500 515)
prev=0
for i in "${!bad_files[@]}"; do
    good $prev $((at[i] - prev)) | kl_produce dirty
    kcat -q -b "$broker" -P -t dirty -k "bad-$i" -X message.max.bytes=4000000 "${bad_files[i]}" ||
        kl_fail "kcat could not produce ${bad_files[i]}"
    prev=${at[i]}
done
good $prev $((series * points - prev)) | kl_produce dirty
n_bad=${#bad_files[@]}

# 3. Both consumers, each with a dead-letter topic and an end marker.
for t in clean dirty; do
    kl_config "$tmp/$t.json" "$t" '[{"name": "'$t'", "format": "json"}]' \
        '[{"type": "kafka", "brokers": "'"$broker"'", "topic": "alerts-'$t'"},
          {"type": "ndjson", "path": "'"$tmp/$t"'.ndjson"}]' \
        '{"input": {"dead_letter_topic": "dlq-'$t'"}}'
    kl_vigil_start "$t" "$tmp/$t.json"
    eval "pid_$t=$vigil_pid"
done
kl_end_markers clean 1
kl_end_markers dirty 1
kl_wait 60 "the clean run at the end of its topic" kl_consumed_all dlq-clean 1
# Every bad message but the oversized one, and the end marker.
kl_wait 60 "the dirty run at its end marker" kl_has_at_least $n_bad dlq-dirty
kl_stop "$pid_clean"
kl_stop "$pid_dirty"

# Counted: every bad message (and the end marker) and nothing else.
[ "$(kl_stat "$tmp/dirty.log" bad)" = $((n_bad + 1)) ] ||
    kl_fail "dirty: $(kl_stat "$tmp/dirty.log" bad) bad messages counted, not $((n_bad + 1))"
[ "$(kl_stat "$tmp/dirty.log" points)" = $((series * points)) ] || kl_fail "dirty: good points lost"
[ "$(kl_stat "$tmp/dirty.log" 'dead letters')" = $n_bad ] || kl_fail "dirty: dead letters not acknowledged"
[ "$(kl_stat "$tmp/dirty.log" 'dead letter failures')" = 1 ] || kl_fail "dirty: the oversized dead letter did not fail"
grep -q 'dead-letter topic dlq-dirty: dirty/0@[0-9]*: Broker: Message size too large' "$tmp/dirty.log" ||
    kl_fail "dirty: the failed dead letter was not logged"
[ "$(kl_stat "$tmp/clean.log" bad)" = 1 ] || kl_fail "clean: bad messages besides the end marker"
# Logged with a rate limit: one line for the first, the rest suppressed.
logged=$(grep -c '"level":"warn","msg":"kafka input: dirty/0@' "$tmp/dirty.log" || true)
[ "$logged" -ge 1 ] && [ "$logged" -lt 3 ] || kl_fail "$logged log lines for $((n_bad + 1)) bad messages"

# Dead letters: unchanged payload (compared byte for byte), key, reason, origin.
kcat -q -b "$broker" -C -t dlq-dirty -o beginning -e -f '%k\t%p\t%o\t%h\n' >"$tmp/dlq.txt"
kcat -q -b "$broker" -C -t dirty -o beginning -e -f '%o\t%k\n' | grep -P '\tbad-' >"$tmp/bad-offsets.txt"
for ((i = 0; i < n_bad - 1; i++)); do
    line=$(grep -P "^bad-$i\t" "$tmp/dlq.txt") || kl_fail "no dead letter keyed bad-$i"
    offset=$(grep -P "\tbad-$i\$" "$tmp/bad-offsets.txt" | cut -f1)
    grep -q "vigil-origin=dirty/0@$offset" <<<"$line" || kl_fail "bad-$i: origin is not dirty/0@$offset: $line"
    reason=$(grep -Eo 'vigil-reason=[a-z_]+' <<<"$line" | cut -d= -f2)
    [ -n "$reason" ] || kl_fail "bad-$i: no vigil-reason header: $line"
    kcat -q -b "$broker" -C -t dlq-dirty -p "$(cut -f2 <<<"$line")" -o "$(cut -f3 <<<"$line")" \
        -c 1 -f '%s' >"$tmp/dl-$i"
    cmp -s "$tmp/dl-$i" "${bad_files[i]}" || kl_fail "bad-$i: the dead letter's payload is not the message"
    printf '%-22s -> %s\n' "$(basename "${bad_files[i]}")" "$reason"
done >"$tmp/reasons.txt"
cat "$tmp/reasons.txt"
diff -u "$fixtures/malformed.reasons" "$tmp/reasons.txt" || kl_fail "parser reasons differ from the pinned ones"

# The incidents: as without the bad messages (2 firing, 2 resolved), the
# events equal but for the offset.
[ "$(grep -c . "$tmp/clean.ndjson")" = $((2 * series)) ] || kl_fail "clean: not $((2 * series)) events"
strip() { jq -c 'del(.source)' "$1" | LC_ALL=C sort; }
diff -u <(strip "$tmp/clean.ndjson") <(strip "$tmp/dirty.ndjson") ||
    kl_fail "the bad messages changed the incidents"
# The offsets shift by the bad messages before each point.
paste <(jq -r '.id + .state + " " + (.source.offset | tostring)' "$tmp/clean.ndjson" | sort) \
      <(jq -r '.id + .state + " " + (.source.offset | tostring)' "$tmp/dirty.ndjson" | sort) |
    while read -r id1 o1 id2 o2; do
        before=0
        for a in "${at[@]}"; do [ "$a" -le "$o1" ] && before=$((before + 1)); done
        [ "$id1" = "$id2" ] && [ $((o1 + before)) = "$o2" ] ||
            kl_fail "event $id1 at clean offset $o1 is at dirty offset $o2"
    done
diff -u <(LC_ALL=C sort "$tmp/dirty.ndjson") <(kl_consume alerts-dirty | LC_ALL=C sort) ||
    kl_fail "dirty: the alert topic and the event log differ"
kl_done
