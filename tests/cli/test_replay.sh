#!/usr/bin/env bash
# vigil replay end to end: exact incidents and exact scores files for small
# fixtures under a pinned config, one row per input point, byte-identical
# reruns, malformed rows reported with file:line, config errors with
# line:col, and every NAB dev file scored row for row.
#
# usage: test_replay.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
# Regenerate the expected files (after a deliberate scoring change) with
#   VIGIL_REGENERATE=1 bash tests/cli/test_replay.sh build/vigil . ../shared/data
set -euo pipefail
vigil=$1 src=$2 data=$3
fx=$src/tests/fixtures/replay
expected=$src/tests/cli/expected
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$fx"   # relative paths: the expected output names the files as given
files=(spikes.csv long.csv wide.csv)

# 1. Incidents, readable form, and the NDJSON events: exactly as expected.
"$vigil" replay -c pinned.json "${files[@]}" > "$tmp/incidents.txt" 2> "$tmp/stderr.txt"
"$vigil" replay -c pinned.json "${files[@]}" --events "$tmp/events.ndjson" \
    --scores "$tmp/scores" 2> /dev/null
if [ "${VIGIL_REGENERATE:-0}" = 1 ]; then
    cp "$tmp/incidents.txt" "$expected/replay_incidents.txt"
    cp "$tmp/events.ndjson" "$expected/replay_events.ndjson"
    for f in "${files[@]}"; do cp "$tmp/scores/${f%.csv}.scores.csv" "$expected/"; done
    echo "regenerated"; exit 0
fi
diff -u "$expected/replay_incidents.txt" "$tmp/incidents.txt" || fail "incidents differ"
diff -u "$expected/replay_events.ndjson" "$tmp/events.ndjson" || fail "events differ"
for f in "${files[@]}"; do
    cmp "$expected/${f%.csv}.scores.csv" "$tmp/scores/${f%.csv}.scores.csv" || fail "scores of $f differ"
done

# 2. The incidents are the injected anomalies: source rows known by construction.
for row in '"file":"spikes.csv","row":1602' '"file":"spikes.csv","row":1802' \
           '"file":"long.csv","row":902' '"file":"long.csv","row":1053' \
           '"file":"wide.csv","row":252'; do
    # not grep -q: it would close the pipe early, and pipefail fail the first grep
    grep '"state":"firing"' "$tmp/events.ndjson" | grep "$row" > /dev/null || fail "no incident at $row"
done
[ "$(grep -c '"state":"firing"' "$tmp/events.ndjson")" = 5 ] || fail "expected exactly 5 incidents"
[ "$(grep -c '"state":"resolved"' "$tmp/events.ndjson")" = 5 ] || fail "expected 5 resolutions"

# 3. One scores row per input point (wide: one per non-empty cell), plus the header.
[ "$(wc -l < "$tmp/scores/spikes.scores.csv")" = 2001 ] || fail "spikes rows"
[ "$(wc -l < "$tmp/scores/long.scores.csv")" = 1501 ] || fail "long rows"
[ "$(wc -l < "$tmp/scores/wide.scores.csv")" = 798 ] || fail "wide rows (400 rows x 2, one empty cell, one bad row)"
head -1 "$tmp/scores/long.scores.csv" | grep -qx 'timestamp,value,anomaly_score,expected,lower,upper,zscore,series' \
    || fail "scores header"

# 4. The malformed row is reported with file:line and counted in the summary.
grep -q 'wide.csv:202' "$tmp/stderr.txt" || fail "malformed row not reported with file:line"
grep -q '1 malformed rows' "$tmp/stderr.txt" || fail "summary does not count the malformed row"

# 5. Deterministic with the default config too (all detectors): byte-identical reruns.
"$vigil" replay "${files[@]}" --scores "$tmp/a" --events "$tmp/a.ndjson" 2> /dev/null
"$vigil" replay "${files[@]}" --scores "$tmp/b" --events "$tmp/b.ndjson" 2> /dev/null
for f in "${files[@]}"; do cmp "$tmp/a/${f%.csv}.scores.csv" "$tmp/b/${f%.csv}.scores.csv" || fail "rerun differs"; done
cmp "$tmp/a.ndjson" "$tmp/b.ndjson" || fail "rerun events differ"

# 6. A bad config names the key, line and column; exit status 1.
printf '{\n  "alert": {\n    "threshold": 7\n  }\n}\n' > "$tmp/bad.json"
if "$vigil" replay -c "$tmp/bad.json" spikes.csv 2> "$tmp/err.txt"; then fail "bad config accepted"; fi
grep -q 'bad.json:3:5: alert.threshold' "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "config error lacks key and position"; }

# 6b. A rule's mute window (the long file's first incident, 2023-11-15 03:13
#     UTC, is 04:13 in Berlin): the console and the event log still show
#     the incident, marked muted; the others are not.
sed 's|^}$|, "rules": [{"match": {"name": "api_*"}, "name": "api", "mute": {"windows": [{"cron": "* 4 15 11 *", "tz": "Europe/Berlin"}]}}]}|' \
    pinned.json > "$tmp/muted.json"
"$vigil" replay -c "$tmp/muted.json" "${files[@]}" > "$tmp/muted.txt" 2> /dev/null
"$vigil" replay -c "$tmp/muted.json" "${files[@]}" --events "$tmp/muted.ndjson" 2> /dev/null
[ "$(grep -c '  muted  ' "$tmp/muted.txt")" = 2 ] || { cat "$tmp/muted.txt"; fail "console: one muted incident (firing, resolved)"; }
[ "$(grep -c '"muted":true,"rule":"api"' "$tmp/muted.ndjson")" = 2 ] || fail "event log: one muted incident"
[ "$(grep -c '"muted":false' "$tmp/muted.ndjson")" = 8 ] || fail "event log: four incidents not muted"

# 7. Every NAB dev file, when the optional corpus is beside the repository:
#    one scores row per input row.
nab=$data/nab-dev/data
if [ -d "$nab" ]; then
    "$vigil" replay -q "$nab"/*/*.csv --scores "$tmp/nab"
    n=0
    for f in "$nab"/*/*.csv; do
        base=$(basename "$f" .csv)
        rows=$(($(grep -c '' "$f")))   # counts a last line without newline too
        got=$(wc -l < "$tmp/nab/$base.scores.csv")
        [ "$rows" = "$got" ] || fail "$base: $rows input lines, $got scores lines"
        n=$((n + 1))
    done
    [ "$n" = 31 ] || fail "expected 31 NAB files, saw $n"
else
    echo "replay: optional nab-dev data absent at $nab: check 7 skipped"
fi
echo "replay: all checks passed"
