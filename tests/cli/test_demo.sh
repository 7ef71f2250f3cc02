#!/usr/bin/env bash
# `vigil demo` end to end (embedded broker, 24 synthetic series over 8 days
# with four injected anomalies: a spike, a level shift, a slow drift, an
# error burst): every injected anomaly is caught, the slow drift included,
# and no incident fires anywhere else (series in their first day, honest
# 1-in-10k noise). The full 2,400 steps; --seconds 1 only shortens the
# producer's pacing, not the data.
#
# usage: test_demo.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$vigil" demo --seconds 1 2>&1) || fail "vigil demo exited $?: $out"
summary=$(grep "injected anomalies caught" <<<"$out") || fail "no summary line: $out"
echo "$summary"
for kind in "spike" "level shift" "slow drift" "error burst"; do
    line=$(grep -E "^  $kind +" <<<"$out") || fail "no line for the $kind: $out"
    grep -q "caught$" <<<"$line" || fail "the $kind was missed: $line"
done
grep -q "^4 of 4 injected anomalies caught; 0 false incidents" <<<"$summary" ||
    fail "expected 4 of 4 caught and 0 false incidents: $summary"
echo "ok"
