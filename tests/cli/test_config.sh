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
    {"match": {"name": "latency_*"}, "alert": {"threshold": 0.9}}
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
# Third: no rule.
grep -q '^cpu{host="db-1"}: no rule matches' "$tmp/out" || fail "cpu should match no rule"

# An invalid file: exit 1, file:line:col and the key.
printf '{\n  "rules": [{"match": {"name": "x"}, "severity": "loud"}]\n}\n' > "$tmp/bad.json"
if "$vigil" config check -c "$tmp/bad.json" 2> "$tmp/err"; then fail "bad config accepted"; fi
grep -q 'bad.json:2:' "$tmp/err" || fail "no position: $(cat "$tmp/err")"
grep -q 'rules\[0\].severity' "$tmp/err" || fail "no key: $(cat "$tmp/err")"
echo "config check: all checks passed"
