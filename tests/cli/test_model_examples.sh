#!/usr/bin/env bash
# The example state in models/examples loads under the default config and
# starts warm: the day after the bundled NYC taxi CSV ends, every detector
# scores the first point (a cold start scores 0 while warming up). When the
# default config changes, the state id changes and this fails: regenerate
# the example with models/examples/regenerate.sh.
#
# usage: test_model_examples.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

example=$src/models/examples/nyc_taxi
[ -s "$example/replay.vgstate" ] || fail "no example state in $example"

# The next day: the last day's values, one day later, under the series' key
# (a 2-column file is keyed by its base name).
{ echo "timestamp,value"; tail -n 48 "$src/examples/data/nyc_taxi.csv" | sed 's/^2015-01-31/2015-02-01/'; } \
    > "$tmp/nyc_taxi.csv"
if ! out=$("$vigil" replay -q "$tmp/nyc_taxi.csv" --load-state "$example" \
           --scores "$tmp/warm.csv" 2>&1); then
    fail "the example state no longer loads ($out); regenerate it: models/examples/regenerate.sh"
fi
"$vigil" replay -q "$tmp/nyc_taxi.csv" --scores "$tmp/cold.csv"

# Row 2 is the first point; detector columns follow `upper`, up to `series`.
# The new-extreme detector scores only beyond the series' range (0 for a
# usual value, warm or cold), so it proves nothing either way: skipped.
first_point() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "upper") d = i + 1; name[i] = $i } }
             NR == 2 { for (i = d; i <= NF; i++) if (name[i] != "series" && name[i] != "extreme")
                           print $1 "," name[i] "," $i; exit }' "$1"
}
n=0
while IFS=, read -r ts name score; do
    n=$((n + 1))
    awk -v s="$score" 'BEGIN { exit !(s > 0) }' || fail "warm start: detector $name scored $score at $ts"
done < <(first_point "$tmp/warm.csv")
[ "$n" -ge 1 ] || fail "no detector columns in the scores"
while IFS=, read -r ts name score; do
    awk -v s="$score" 'BEGIN { exit !(s == 0) }' || fail "cold start: $name scored $score: the check proves nothing"
done < <(first_point "$tmp/cold.csv")
echo "PASS: example loads; $n detectors warm on the first point"
