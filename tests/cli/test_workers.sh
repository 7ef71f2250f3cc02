#!/usr/bin/env bash
# Sharded scoring changes nothing but speed: the same replay with 1, 2 and 4
# scoring workers gives byte-identical incidents, NDJSON events and scores,
# with every detector on, and again with a series cap small enough that
# series holding a firing incident are evicted mid-batch (the eviction path
# settles the points taken so far). Runs under ThreadSanitizer too (.ci/run).
#
# usage: test_workers.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The input, made here (no shared data): long format, interleaved in an
# order that changes every step. 12 steady series with spikes, and 10 short
# bursts that end while their spike's incident is firing, so that at a cap
# of 16 series the least recently seen one is a firing burst.
awk 'function noise(t, s) { x = sin(t * 12.9898 + s * 78.233) * 43758.5453; return x - int(x) - 0.5 }
BEGIN {
    print "timestamp,series,value"
    for (t = 0; t < 1200; t++) {
        ts = 1700000000000 + t * 60000
        for (j = 0; j < 12; j++) {
            s = (j + t) % 12
            v = 50 + 10 * s + 3 * sin(t / 30 + s) + noise(t, s)
            if (t % 200 == 150 + s) v += 40
            printf "%d,steady_%d,%.4f\n", ts, s, v
        }
        for (b = 0; b < 10; b++) {
            from = 100 * b + 50
            if (t >= from && t < from + 100) {
                v = 5 + noise(t, 100 + b)
                if (t >= from + 95) v += 60
                printf "%d,burst_%d,%.4f\n", ts, b, v
            }
        }
    }
}' > "$tmp/in.csv"

run() {  # name workers [extra config]
    local name=$1 workers=$2 extra=${3:-}
    # The series are hours old: no paging warm-up (alert.warmup_s).
    printf '{"workers": %d, "alert": {"warmup_s": 0, "warmup_points": 0}%s}\n' "$workers" \
        "$extra" > "$tmp/$name.json"
    "$vigil" replay -c "$tmp/$name.json" "$tmp/in.csv" --events "$tmp/$name.ndjson" \
        --scores "$tmp/$name.scores.csv" > "$tmp/$name.txt" 2> "$tmp/$name.err" ||
        fail "$name: replay failed: $(cat "$tmp/$name.err")"
    grep -q "$workers worker" "$tmp/$name.err" || fail "$name: not $workers workers: $(cat "$tmp/$name.err")"
}

for shape in all evict; do
    extra=""
    [ "$shape" = evict ] && extra=', "max_series": 16'
    for n in 1 2 4; do run "$shape$n" "$n" "$extra"; done
    [ -s "$tmp/${shape}1.ndjson" ] || fail "$shape: no events at all: nothing compared"
    [ "$(wc -l < "$tmp/${shape}1.scores.csv")" -gt 15000 ] || fail "$shape: scores file too short"
    for n in 2 4; do
        for out in txt ndjson scores.csv; do
            cmp "$tmp/${shape}1.$out" "$tmp/$shape$n.$out" ||
                fail "$shape: $out with $n workers differs from 1 worker"
        done
    done
done

# The eviction run did evict firing incidents (what it is there to test).
grep -q '"reason":"evicted"' "$tmp/evict1.ndjson" || fail "evict: no firing series was evicted"
echo "PASS: 1, 2 and 4 workers give the same incidents, events and scores"
