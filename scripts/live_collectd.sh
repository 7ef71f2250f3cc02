#!/usr/bin/env bash
# The live experiment of issue 10, end to end on this host: collectd
# (collectd-core, 10 s interval, write_kafka JSON) -> `vigil broker` (the
# embedded mock cluster, 127.0.0.1) -> `vigil run`, then the issue's faults
# injected one at a time with quiet gaps between:
#   disk fill   a 3 GiB file written with dd (fsync), kept HOLD_S, deleted
#   memory      1 GiB allocated and touched (python3), held HOLD_S
#   loopback    30 MB/s over TCP on 127.0.0.1 for 30 s
#   disk fill   again (the issue's repeat raised nothing)
# Two vigils read the topic (two consumer groups): "defaults" runs
# examples/kafka-collectd.json as shipped (a day's paging warm-up: it is
# expected to page nothing in an hour), "warm" the same with
# alert.warmup_s = WARM_S, so that it may page once LEARN_S are over.
# Everything injected is written with its time to timeline.tsv; the events,
# the scores (kafka-influx) and collectd's raw messages are kept in OUT;
# scripts/live_collectd_report.py OUT prints the timeline and the false
# pages. An evaluation, not a ctest test: about 48 min (--short: 27 min).
#
# usage: scripts/live_collectd.sh [--short] [-o OUT] [-b VIGIL]
#   env LEARN_S HOLD_S GAP_S WARM_S override the phases' lengths (seconds).
set -euo pipefail
src=$(realpath "$(dirname "$0")/..")
vigil=$src/build/vigil
out=/tmp/vigil-live-$(date -u +%Y%m%dT%H%M%S)
learn=1500 hold=180 gap=180 warm=1200
while [ $# -gt 0 ]; do
    case $1 in
    --short) learn=1080 hold=60 gap=60 warm=1000 ;;
    -o) out=$2; shift ;;
    -b) vigil=$(realpath "$2"); shift ;;
    *) echo "usage: $0 [--short] [-o OUT] [-b VIGIL]" >&2; exit 2 ;;
    esac
    shift
done
learn=${LEARN_S:-$learn} hold=${HOLD_S:-$hold} gap=${GAP_S:-$gap} warm=${WARM_S:-$warm}
# The warm-up in points (alert.warmup_points 100) must end inside the
# learning phase too: 100 points at 10 s are 1,000 s.
for t in collectd kcat jq python3 dd; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "missing: $t" >&2; exit 1; }
done
[ -f /usr/lib/collectd/write_kafka.so ] || { echo "missing: collectd's write_kafka" >&2; exit 1; }
mkdir -p "$out"
fill=$out/fill.bin

PIDS=()
# Stops what this script started, by PID, the last started first.
cleanup() {
    local i pid deadline
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        deadline=$((SECONDS + 20))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$fill"
}
trap cleanup EXIT

mark() {
    printf '%s\t%s\n' "$(date +%s.%N | cut -c1-14)" "$*" >>"$out/timeline.tsv"
    echo "$(date -u +%T) $*"
}

"$vigil" broker --topic collectd-json:1 --bootstrap-file "$out/bootstrap" \
    >"$out/broker.out" 2>"$out/broker.err" &
PIDS+=($!)
for _ in $(seq 300); do [ -s "$out/bootstrap" ] && break; sleep 0.1; done
broker=$(cat "$out/bootstrap")

sed -e "s|@DIR@|$out|g" -e "s|@BROKER@|$broker|g" -e "s|@INTERVAL@|10|g" \
    "$src/scripts/live_collectd.conf.in" >"$out/collectd.conf"
/usr/sbin/collectd -f -C "$out/collectd.conf" >"$out/collectd.out" 2>&1 &
PIDS+=($!)
collectd_pid=$!

# examples/kafka-collectd.json on this broker, its outputs replaced by an
# event log and a scores topic.
VIGILS=()
for v in defaults warm; do
    mkdir -p "$out/state-$v"
    jq --arg b "$broker" --arg v "$v" --arg out "$out" --argjson warm "$warm" '
        .input.brokers = $b | .input.group = "vigil-" + $v
        | .state.dir = $out + "/state-" + $v | .metrics.listen = "127.0.0.1:0"
        | .outputs = [{type: "ndjson", path: ($out + "/events-" + $v + ".ndjson")},
                      {type: "kafka-influx", brokers: $b, topic: ("scores-" + $v)}]
        | if $v == "warm" then .alert.warmup_s = $warm else . end' \
        "$src/examples/kafka-collectd.json" >"$out/vigil-$v.json"
    "$vigil" run -c "$out/vigil-$v.json" >"$out/vigil-$v.log" 2>&1 &
    PIDS+=($!)
    VIGILS+=($!)
done

mark "start: learning for $learn s (warm: pages after $warm s and 100 points)"
sleep "$learn"
mark "learned"

disk_fill() {
    mark "$1 begins: dd 3 GiB"
    dd if=/dev/zero of="$fill" bs=1M count=3072 conv=fsync status=none
    mark "$1 written: kept $hold s"
    sleep "$hold"
    rm -f "$fill"
    mark "$1 ends: deleted"
}

disk_fill disk-fill
sleep "$gap"

mark "memory begins: 1 GiB held $hold s"
python3 "$src/scripts/live_faults.py" memory 1 "$hold" &
PIDS+=($!)
wait $!
mark "memory ends: freed"
sleep "$gap"

mark "loopback begins: 30 MB/s for 30 s"
python3 "$src/scripts/live_faults.py" loopback 30 30 >>"$out/faults.log" &
PIDS+=($!)
wait $!
mark "loopback ends"
sleep "$gap"

disk_fill disk-fill-repeat
sleep "$gap"
mark "end"

# collectd first, then the vigils read to the topic's end and stop cleanly.
kill -TERM "$collectd_pid"
sleep 15
kill -TERM "${VIGILS[@]}"
sleep 10
kcat -q -b "$broker" -C -t collectd-json -o beginning -e >"$out/collectd.ndjson"
for v in defaults warm; do
    kcat -q -b "$broker" -C -t "scores-$v" -o beginning -e >"$out/scores-$v.influx" || true
done
python3 "$src/scripts/live_collectd_report.py" "$out" | tee "$out/report.txt"
echo "kept in $out"
