#!/usr/bin/env bash
# `vigil config check`: a valid file is ok and, per series, names the rule
# that applies (first match wins) with the effective settings; an invalid
# one exits 1 naming file:line:col and the key.
#
# usage: test_config.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$tmp/vigil.json" <<'JSON'
{
  "detectors": {"zscore": {}, "seasonal": {}},
  "alert": {"threshold": 0.99999},
  "rules": [
    {"match": {"name": "latency_*", "labels": {"host": "db-*"}},
     "detectors": {"zscore": {"k": 4}}, "alert": {"fire_after": 3}, "severity": "critical"},
    {"match": {"name": "latency_*"},
     "alert": {"threshold": 0.9, "direction": "down", "min_relative": 0.05,
               "skip_model_update": true}}
  ]
}
JSON
"$vigil" config check -c "$tmp/vigil.json" --series 'latency_ms{host="db-1"}' \
    --series 'latency_ms{host="web-1"}' --series 'cpu{host="db-1"}' > "$tmp/out"
grep -q 'vigil.json: ok' "$tmp/out" || fail "not ok"
# First series: rule 0 (zscore only, k 4, fire_after 3, inherited threshold, critical).
awk '/^latency_ms\{host="db-1"\}/{f=1} /^latency_ms\{host="web-1"\}/{f=0} f' "$tmp/out" > "$tmp/db"
grep -q 'rules\[0\] applies' "$tmp/db" || fail "rule 0 should apply to db-1"
grep -q 'detectors.zscore.k = 4' "$tmp/db" || fail "k"
grep -q 'alert.fire_after = 3' "$tmp/db" || fail "fire_after"
grep -q 'alert.threshold = 0.99999' "$tmp/db" || fail "inherited threshold"
grep -q 'severity = critical' "$tmp/db" || fail "severity"
if grep -q 'detectors.seasonal' "$tmp/db"; then fail "rule 0 replaces the detector set"; fi
# Second: rule 1 (both detectors, threshold 0.9).
awk '/^latency_ms\{host="web-1"\}/{f=1} /^cpu/{f=0} f' "$tmp/out" > "$tmp/web"
grep -q 'rules\[1\] applies' "$tmp/web" || fail "rule 1 should apply to web-1"
grep -q 'alert.threshold = 0.9$' "$tmp/web" || fail "rule 1 threshold"
grep -q 'detectors.seasonal.period' "$tmp/web" || fail "rule 1 inherits the detectors"
# Its suppression: only drops, of 5 % or more, not learned when suppressed.
grep -q 'alert.direction = down$' "$tmp/web" || fail "rule 1 direction"
grep -q 'alert.min_relative = 0.05$' "$tmp/web" || fail "rule 1 min_relative"
grep -q 'alert.skip_model_update = true$' "$tmp/web" || fail "rule 1 skip_model_update"
grep -q 'alert.direction = both$' "$tmp/db" || fail "rule 0 inherits direction both"
# Third: no rule.
grep -q '^cpu{host="db-1"}: no rule matches' "$tmp/out" || fail "cpu should match no rule"

# An invalid file: exit 1, file:line:col and the key.
printf '{\n  "rules": [{"match": {"name": "x"}, "severity": "loud"}]\n}\n' > "$tmp/bad.json"
if "$vigil" config check -c "$tmp/bad.json" 2> "$tmp/err"; then fail "bad config accepted"; fi
grep -q 'bad.json:2:' "$tmp/err" || fail "no position: $(cat "$tmp/err")"
grep -q 'rules\[0\].severity' "$tmp/err" || fail "no key: $(cat "$tmp/err")"
# Inputs and outputs: what `vigil run` or `vigil replay` would reject, check
# rejects too, with the same file:line:col and key. Each case: a file body,
# then the position and the message it must name.
check_rejects() {  # NAME BODY WHERE MESSAGE
    printf '%s\n' "$2" > "$tmp/$1.json"
    if "$vigil" config check -c "$tmp/$1.json" 2> "$tmp/$1.err"; then
        fail "$1 accepted"
    fi
    grep -qF "$1.json:$3: $4" "$tmp/$1.err" || fail "$1: $(cat "$tmp/$1.err")"
}
check_rejects format '{
  "input": {"topics": [{"name": "m", "format": "jsno"}]}
}' 2:24 'input.topics[0]: parser.format: must be one of json|influx|'
check_rejects foreign '{
  "input": {"topics": [{"name": "m", "format": "influx", "series_field": "s"}]}
}' 2:24 'input.topics[0]: parser.series_field: not a key of format "influx"'
check_rejects amkey '{
  "outputs": [
    {"type": "alertmanager", "urll": "http://127.0.0.1:9093"}
  ]
}' 3:30 'outputs.alertmanager.urll: unknown key "urll", did you mean "url"?'
check_rejects amurl '{
  "outputs": [{"type": "alertmanager", "url": "ftp://x"}]
}' 2:40 'outputs.alertmanager.url: must start with http:// or https://'
check_rejects rdkafka '{
  "input": {"topics": [{"name": "m"}],
            "kafka": {"no.such.property": 1}}
}' 3:23 'input.kafka.no.such.property: No such configuration property'
check_rejects sinkkafka '{
  "outputs": [{"type": "kafka", "kafka": {"acks": "some"}}]
}' 2:43 'outputs.kafka.kafka.acks: Invalid value'
check_rejects outtype '{
  "outputs": [{"type": "consol"}]
}' 2:16 'outputs[0].type: unknown output type "consol"'
check_rejects csvkey '{
  "csv": {"max_lines": 64}
}' 2:11 'csv.max_lines: unknown key "max_lines", did you mean "max_line"?'
check_rejects feedbacktopic '{
  "input": {"topics": [{"name": "m"}], "feedback_topic": "m"}
}' 2:40 'input.feedback_topic: m is also an input topic'
check_rejects groupwindow '{
  "rules": [{"match": {"name": "m"}, "group": {"by": ["host"], "window_s": -1}}]
}' 2:64 'rules[0].group.window_s: must be between 0 and 604800'
check_rejects state '{
  "state": {"checkpoint_ms": 1}
}' 2:13 'state.checkpoint_ms: must be between 100 and 86400000'

# ... and the commands that open them give the very same line.
"$vigil" run -c "$tmp/format.json" 2> "$tmp/run.err" && fail "run accepted format.json"
grep -qF "$(cat "$tmp/format.err")" "$tmp/run.err" || fail "run: $(cat "$tmp/run.err")"
printf 't,v\n2020-01-01 00:00:00,1\n' > "$tmp/x.csv"
for f in amkey csvkey outtype; do
    "$vigil" replay -q -c "$tmp/$f.json" "$tmp/x.csv" > /dev/null 2> "$tmp/replay.err" &&
        fail "replay accepted $f.json"
    grep -qF "$(cat "$tmp/$f.err")" "$tmp/replay.err" || fail "replay $f: $(cat "$tmp/replay.err")"
done

# --state: a saved state loaded first shows the series' feedback floors
# (none in the example state: nobody has given a verdict).
echo '{}' > "$tmp/default.json"
"$vigil" config check -c "$tmp/default.json" --state "$2/models/examples/nyc_taxi/replay.vgstate" \
    --series nyc_taxi > "$tmp/state.out" 2>&1 || fail "config check --state: $(cat "$tmp/state.out")"
grep -qF "feedback: floor up = 0, floor down = 0 (0 not anomalous, 0 anomalous)" "$tmp/state.out" ||
    fail "config check --state shows no feedback floors: $(cat "$tmp/state.out")"

# The README's configuration reference is the output of `vigil config reference`.
"$vigil" config reference > "$tmp/reference"
sed -n '/^<!-- config reference: begin/,/^<!-- config reference: end/p' "$2/README.md" |
    sed '1,2d;$d' | sed '$d' > "$tmp/readme-reference"
diff -u "$tmp/readme-reference" "$tmp/reference" > "$tmp/reference.diff" ||
    fail "README's reference differs from 'vigil config reference' (regenerate it with
scripts/config_reference.sh): $(head -20 "$tmp/reference.diff")"
echo "config check: all checks passed"
