#!/usr/bin/env bash
# Full disks (issue 9, faults 2 and 3), in two rounds on small tmpfs mounts
# (mounted and unmounted here; the test is skipped, exit 77, where mounting
# is not permitted):
#  log:   the event log's disk fills while incidents fire;
#  state: the state directory's disk fills, so checkpoints cannot save.
# In each round vigil must hold the checkpoint back (no commit past what is
# not durable), report not ready once that outlasts hold_max_ms (/readyz
# 503, vigil_not_durable_total by sink and reason), leave no torn line in
# the event log, and, crashed (kill -9) while the disk is full, then
# restarted once there is room, end with exactly the incidents of a
# fault-free run (ids and states; repeats allowed) and its saved state
# (byte-identical: no series resumed cold).
#
# usage: test_fault_disk.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl

mkdir -p "$tmp/disk"
if ! mount -t tmpfs -o size=256k tmpfs "$tmp/disk" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)"
    exit 77
fi
unmount_disk() { umount "$tmp/disk" 2>/dev/null || true; }
KL_ON_CLEANUP=unmount_disk

series=16 points=600
kl_broker_start --topic mlog:4 --topic mstate:4

# disk_full: nothing more fits on the tmpfs. disk_room: room again.
disk_full() { dd if=/dev/zero of="$tmp/disk/filler" bs=4k 2>/dev/null || true; }
disk_room() { rm -f "$tmp/disk/filler"; }

# round NAME ON_DISK HELD_REGEX COUNTED_AS: ON_DISK ("log" or "state") is
# what lives on the tmpfs. The state's disk is full from the start (no
# partition's state was ever saved) and the stream's incidents come after
# the crash; the event log's disk fills as incidents fire, in the middle of
# the stream (and of a line).
round() {
    local name=$1 on_disk=$2 held=$3 counted=$4 log state
    log=$tmp/$name.ndjson state=$tmp/state-$name
    [ "$on_disk" = log ] && log=$tmp/disk/$name.ndjson
    [ "$on_disk" = state ] && state=$tmp/disk/state-$name
    mkdir -p "$state" "$tmp/state-ref-$name"
    local topics='[{"name": "m'$name'", "format": "json"}]'
    kl_config "$tmp/$name.json" "$name" "$topics" \
        '[{"type": "ndjson", "path": "'"$log"'"}]' \
        '{"state": {"dir": "'"$state"'", "checkpoint_ms": 300, "hold_max_ms": 1000},
          "metrics": {"listen": "127.0.0.1:0"}}'
    kl_config "$tmp/ref-$name.json" "ref-$name" "$topics" \
        '[{"type": "ndjson", "path": "'"$tmp/ref-$name"'.ndjson"}]' \
        '{"state": {"dir": "'"$tmp/state-ref-$name"'"}, "metrics": {"listen": "127.0.0.1:0"}}'

    [ "$on_disk" = state ] && disk_full
    KL_TOPIC=m$name kl_produce_series "e2e_$name" 0 200
    kl_vigil_start "$name" "$tmp/$name.json"; local pid=$vigil_pid
    local url; url=$(kl_metrics_url "$tmp/$name.log")
    kl_wait 40 "$name: through the first part" kl_read_at_least "$url" $((200 * series))
    # The event log's round: the rest of the stream, with every incident,
    # arrives at once, and its disk keeps room for a few of their lines.
    local total=$((200 * series))
    if [ "$on_disk" = log ]; then
        kill -STOP "$pid"
        KL_TOPIC=m$name kl_produce_series "e2e_$name" 200 400
        dd if=/dev/zero of="$tmp/disk/filler" bs=4k \
            count=$(($(df -k --output=avail "$tmp/disk" | tail -1) / 4 - 3)) 2>/dev/null
        kill -CONT "$pid"
        total=$((points * series))
    fi
    kl_wait 40 "$name: through every point" kl_read_at_least "$url" $total
    kl_wait 30 "$name: /readyz 503 naming the held checkpoint" \
        kl_get_has "$url/readyz" "consumption paused: .*$held"
    [ "$(kl_http_code "$url/readyz")" = 503 ] || kl_fail "$name: /readyz not 503"
    kl_get_has "$url/metrics" "^vigil_not_durable_total\{$counted\} [1-9]" ||
        kl_fail "$name: not counted in vigil_not_durable_total"
    kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
    if [ -s "$log" ] && [ "$(tail -c1 "$log" | od -An -c | tr -d ' ')" != '\n' ]; then
        kl_fail "$name: the event log ends in a torn line"
    fi

    # Room again: a restart resumes from the last saved state and commit.
    # The state's round: the incidents come now, and need warm state.
    disk_room
    [ "$on_disk" = state ] && KL_TOPIC=m$name kl_produce_series "e2e_$name" 200 400
    kl_vigil_start "$name-2" "$tmp/$name.json"; pid=$vigil_pid
    kl_vigil_start "ref-$name" "$tmp/ref-$name.json"; local ref_pid=$vigil_pid
    url=$(kl_metrics_url "$tmp/ref-$name.log")
    kl_wait 60 "$name: the reference through every point" kl_read_at_least "$url" $((points * series))
    kl_stop "$ref_pid"
    [ "$(jq -r '.state + " " + .id' "$tmp/ref-$name.ndjson" | sort -u | wc -l)" = $((2 * series)) ] ||
        kl_fail "$name: reference: not 32 incidents"
    kl_wait 60 "$name: the incidents of the fault-free run" \
        kl_same_incidents "$tmp/ref-$name.ndjson" "$log" >/dev/null
    kl_stop "$pid"
    local p
    for p in 0 1 2 3; do  # warm again: the state matches, not only the incidents
        cmp "$tmp/state-ref-$name/ref-$name-$p.vgstate" "$state/$name-$p.vgstate" ||
            kl_fail "$name: the state of partition $p differs from the fault-free run's"
    done
    jq -c . "$log" >/dev/null || kl_fail "$name: the event log holds a line that is not JSON"
    grep -q 'checkpoint held back' "$tmp/$name.log" || kl_fail "$name: no held checkpoint logged"
    echo "$name: ok, $(wc -l <"$log") event lines for $(wc -l <"$tmp/ref-$name.ndjson")"
}

round log log 'outputs not durable' 'sink="ndjson",reason="write"'
round state state 'not saved' 'sink="state",reason="save"'
kl_done
