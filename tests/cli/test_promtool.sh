#!/usr/bin/env bash
# vigil's whole metric set, filled with sample values by bench_metrics
# (built next to the vigil binary), must pass `promtool check metrics`:
# Prometheus' own parser and naming lint. promtool comes from Debian's
# `prometheus` package; as root the script installs it when missing (the
# service is not used), otherwise, or if that fails, the test fails.
# usage: test_promtool.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
bench="$(dirname "$1")/bench_metrics"
[ -x "$bench" ] || { echo "FAIL: no $bench"; exit 1; }

if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "installing promtool (Debian package prometheus)" >&2
        { apt-get update -qq &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
        } >&2 || true
    fi
    command -v promtool >/dev/null ||
        { echo "FAIL: promtool is missing and could not be installed (apt-get install prometheus)"; exit 1; }
fi

status=0
check() {  # name, exposition text: promtool must accept it and say nothing
    local out
    if ! out="$(promtool check metrics <<<"$2" 2>&1)" || [ -n "$out" ]; then
        echo "FAIL: $1: promtool: $out"
        status=1
    else
        echo "ok: $1 passes promtool check metrics"
    fi
}

text="$("$bench" --exposition)"
check "vigil metric set" "$text"

# What was checked is the whole set, escapes included.
families="$(grep -c '^# TYPE vigil_' <<<"$text")"
[ "$families" -eq 37 ] || { echo "FAIL: expected 37 vigil_ metric families, got $families"; status=1; }
process="$(grep -c '^# TYPE process_' <<<"$text")"
[ "$process" -eq 5 ] || { echo "FAIL: expected 5 process_ metric families, got $process"; status=1; }
grep -qF 'vigil_parse_errors_total{reason="field \"value\" in C:\\data\nnext line"} 1' <<<"$text" ||
    { echo "FAIL: escaped label value missing"; status=1; }
grep -qF 'vigil_batch_duration_seconds_count 8' <<<"$text" ||
    { echo "FAIL: histogram count missing"; status=1; }

# promtool does reject what we must never write, so a pass above means something.
if promtool check metrics <<<$'# HELP x_count X.\n# TYPE x_count counter\nx_count 1' >/dev/null 2>&1; then
    echo "FAIL: promtool accepted a counter without _total"
    status=1
fi
exit $status
