#!/usr/bin/env bash
# A real producer: collectd (Debian collectd-core) with its write_kafka
# plugin sends cpu, memory, load and interface values every second to the
# embedded broker, in three topics, one per format (JSON, Graphite,
# Command). One `vigil run` per format then reads its topic. Proves: vigil
# parses every message collectd wrote, in each format, without one parse
# error (its shutdown counters: every message read, only the test's end
# marker bad; the dead-letter topic holds nothing but that marker), and it
# keeps exactly one series per collectd value (the saved state's series
# count equals the distinct values in the messages, counted with jq/awk).
#
# collectd-core is installed with apt-get when missing and running as root;
# the test fails when it cannot be had.
#
# usage: test_kafka_collectd.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"

if ! [ -x /usr/sbin/collectd ] || ! [ -f /usr/lib/collectd/write_kafka.so ]; then
    [ "$(id -u)" = 0 ] || kl_fail "collectd-core is not installed and this is not root"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends collectd-core \
        >"$tmp/apt.log" 2>&1 || kl_fail "apt-get install collectd-core failed: $(tail -n3 "$tmp/apt.log")"
fi
[ -f /usr/lib/collectd/write_kafka.so ] || kl_fail "collectd's write_kafka plugin is missing"

formats=(json graphite command)
broker_args=()
for f in "${formats[@]}"; do broker_args+=(--topic "collectd-$f:1"); done
kl_broker_start "${broker_args[@]}"

sed -e "s|@TMP@|$tmp|g" -e "s|@BROKER@|$broker|g" "$fixtures/collectd.conf.in" >"$tmp/collectd.conf"
/usr/sbin/collectd -f -C "$tmp/collectd.conf" >"$tmp/collectd.out" 2>&1 &
collectd_pid=$!
KL_PIDS+=("$collectd_pid")
rounds() { kl_consume collectd-json | jq -r '.[0].time | floor' | sort -u | wc -l; }
enough_rounds() {
    kl_running "$collectd_pid" || kl_fail "collectd exited: $(tail -n5 "$tmp/collectd.out" "$tmp/collectd.log")"
    [ "$(rounds)" -ge 6 ]
}
kl_wait 40 "6 collection rounds from collectd" enough_rounds
kill -TERM "$collectd_pid"
kl_wait 10 "collectd to exit" eval '! kl_running $collectd_pid'
for f in "${formats[@]}"; do kl_count "collectd-$f" >"$tmp/$f.count"; done

# The distinct collectd values in the messages: one per (identifier, data
# source) with at least one known value (null, U and nan are "unknown").
kl_consume collectd-json | jq -r '.[] | . as $v | range(0; .values | length) as $i
    | select($v.values[$i] != null)
    | [$v.host, $v.plugin, $v.plugin_instance, $v.type, $v.type_instance, $v.dsnames[$i]]
    | join("/")' | sort -u | wc -l >"$tmp/json.values"
kl_consume collectd-graphite -f '%s' | tr -d '\r' | awk 'NF == 3 && $2 != "nan" {print $1}' |
    sort -u | wc -l >"$tmp/graphite.values"
kl_consume collectd-command | awk '{n = split($NF, v, ":"); for (i = 2; i <= n; i++)
    if (v[i] != "U") print $2 "#" i}' | sort -u | wc -l >"$tmp/command.values"

for f in "${formats[@]}"; do
    fmt=$f
    [ $f != graphite ] && fmt=collectd-$f
    mkdir -p "$tmp/state-$f"
    kl_config "$tmp/$f.json" "collectd-$f" '[{"name": "collectd-'$f'", "format": "'$fmt'"}]' \
        '[{"type": "ndjson", "path": "'"$tmp/$f"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-$f"'"}, "input": {"dead_letter_topic": "dlq-'$f'"}}'
    kl_vigil_start "vigil-$f" "$tmp/$f.json"
    eval "pid_$f=$vigil_pid"
done
for f in "${formats[@]}"; do kl_end_markers "collectd-$f" 1; done
for f in "${formats[@]}"; do
    kl_wait 40 "vigil ($f) at the end of its topic" kl_consumed_all "dlq-$f" 1
    pid_var=pid_$f
    kl_stop "${!pid_var}"
done

for f in "${formats[@]}"; do
    log=$tmp/vigil-$f.log
    msgs=$(($(cat "$tmp/$f.count") + 1))   # collectd's messages and the end marker
    [ "$(kl_stat "$log" messages)" = $msgs ] ||
        kl_fail "$f: vigil read $(kl_stat "$log" messages) messages, not $msgs"
    [ "$(kl_stat "$log" bad)" = 1 ] ||
        kl_fail "$f: parse errors in collectd's messages: $(grep -v '"info"' "$log" | head -n5)"
    [ "$(kl_count "dlq-$f")" = 1 ] || kl_fail "$f: dead letters besides the end marker"
    [ "$(kl_dead_letter_origins "dlq-$f")" = "collectd-$f/0" ] || kl_fail "$f: dead letter origin"
    kcat -q -b "$broker" -C -t "dlq-$f" -o beginning -e -f '%h' |
        grep -q "vigil-origin=collectd-$f/0@$((msgs - 1))" || kl_fail "$f: the dead letter is not the marker"
    # One series per collectd value: the series count in the saved state's
    # header (u64 little-endian at byte 28, models/snapshot.h).
    state=$tmp/state-$f/collectd-$f-0.vgstate
    [ -s "$state" ] || kl_fail "$f: no saved state"
    n=$(od -An -tu8 -j28 -N8 --endian=little "$state" | tr -d ' ')
    [ "$n" = "$(cat "$tmp/$f.values")" ] ||
        kl_fail "$f: $n series, but collectd sent $(cat "$tmp/$f.values") distinct values"
    echo "$f: $msgs messages, $n series, no parse error"
done
# The naming: cpu jiffies per CPU and state, load's three data sources.
grep -aq 'collectd_cpu_cpu{host="collectd-host.example.org",plugin_instance="0",type_instance="idle"}' \
    "$tmp/state-json/collectd-json-0.vgstate" || kl_fail "json: no series for cpu-0/cpu-idle"
grep -aq 'collectd_load_load_shortterm{host="collectd-host.example.org"}' \
    "$tmp/state-command/collectd-command-0.vgstate" || kl_fail "command: no series for load shortterm"
kl_done
