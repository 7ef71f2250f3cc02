#!/usr/bin/env bash
# What the default config does on series operations see every day, through
# the whole pipeline (detectors, ensemble calibration, guards, alerts):
#  - Gaussian noise: the default threshold 0.9999 flags about one point in
#    10k per series (the calibration is honest: docs/quality.md), and an
#    incident needs two in a row (alert.fire_after) unless one is critical:
#    5 x 40k points page at most twice; with fire_after 1 the same noise
#    pages about 20 times (5..40), so the confirmation is what holds it;
#  - a counter that resets, a mostly-zero event count, a flat line: no
#    incident storm (a few at most while a sparse series is young);
#  - a 10-sigma level shift in noise: an incident, at the shift.
# The data is generated here, deterministically (awk's seeded rand()).
# usage: test_quality_ops.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
[ -x "$vigil" ] || { echo "FAIL: no vigil binary at $vigil"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

awk 'BEGIN {
    srand(12345)
    print "timestamp,series,value"
    c = 0
    for (i = 0; i < 40000; i++) {
        t = 1700000000 + 60 * i  # epoch seconds
        for (s = 0; s < 5; s++) {
            g = sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand())
            printf "%s,noise%d,%.4f\n", t, s, 50 + g
        }
        g = sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand())
        printf "%s,shift,%.4f\n", t, 50 + g + (i >= 30000 ? 10 : 0)
        c += 5 + int(10 * rand())
        if (i == 15000 || i == 32000) c = int(10 * rand())
        printf "%s,counter,%d\n", t, c
        printf "%s,sparse,%d\n", t, rand() < 0.02 ? 1 + int(2 * rand()) : 0
        printf "%s,flat,%s\n", t, "100.25"
    }
}' >"$tmp/ops.csv"
"$vigil" replay -q "$tmp/ops.csv" --events "$tmp/events.ndjson" >/dev/null

fired() {  # series name pattern [event log] -> firing events
    grep -cE "\"state\":\"firing\".*\"series\":\"$1\"" "${2:-$tmp/events.ndjson}" || true
}
status=0
check() {  # what, count, max allowed, min required
    if [ "$2" -le "$3" ] && [ "$2" -ge "$4" ]; then
        echo "ok: $1: $2 incidents (allowed $4..$3)"
    else
        echo "FAIL: $1: $2 incidents, allowed $4..$3"
        status=1
    fi
}
check "noise, 5 x 40k points" "$(fired 'noise[0-9]')" 2 0
"$vigil" replay -q -c <(echo '{"alert": {"fire_after": 1}}') "$tmp/ops.csv" \
    --events "$tmp/fire_at_1.ndjson" >/dev/null
check "noise, 5 x 40k points, fire_after 1" "$(fired 'noise[0-9]' "$tmp/fire_at_1.ndjson")" 40 5
check "counter with 2 resets" "$(fired counter)" 0 0
check "sparse event count" "$(fired sparse)" 3 0
check "flat line" "$(fired flat)" 0 0
check "10-sigma level shift" "$(fired shift)" 3 1
# The shift's incident starts at the shift (point 30000).
first="$(grep -E '"state":"firing".*"series":"shift"' "$tmp/events.ndjson" | grep -o '"ts_ms":[0-9]*' |
         cut -d: -f2 | sort -n | tail -1)"
want=$(( (1700000000 + 60 * 30000) * 1000 ))
[ "${first:-0}" -ge "$want" ] && [ "${first:-0}" -le $((want + 5 * 60000)) ] &&
    echo "ok: the shift fires within 5 points" ||
    { echo "FAIL: the shift's last incident starts at ${first:-none}, want $want"; status=1; }
exit $status
