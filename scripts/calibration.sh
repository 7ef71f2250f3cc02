#!/usr/bin/env bash
# Calibration of the final score on normal data (docs/quality.md, "Honest
# calibration"): the share of series-points at or above 0.999, 0.9999 and
# 0.99999 against the nominal 1e-3, 1e-4, 1e-5, and the ratio.
#  - smd-dev: each machine's train/ half from scratch, after each series'
#    first day (1440 rows); a second line outside the machine-wide events
#    (5 or more of the machine's 38 series at 0.9999 within 3 rows): train/
#    is unlabelled and not clean, and these are its faults (evaluate.py,
#    WIDE_LEVEL; docs/quality.md, "branch q-cal5");
#  - nab-dev: every file after NAB's probationary 15 %, outside the windows.
#
# usage: scripts/calibration.sh [-c CONFIG] [-j JOBS] [DATA_DIR]
#   DATA_DIR  holds nab-dev/ and smd-dev/ (default $VIGIL_DATA, else
#             ../shared/data beside the repository); absent: skipped, exit 0
#   VIGIL_BIN the vigil binary (default build/vigil)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cfg=()
jobs=2
while getopts "c:j:h" opt; do
    case "$opt" in
    c) cfg=(-c "$OPTARG") ;;
    j) jobs="$OPTARG" ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
data="${1:-${VIGIL_DATA:-$repo/../shared/data}}"
vigil="${VIGIL_BIN:-$repo/build/vigil}"
if [ ! -d "$data/nab-dev" ] && [ ! -d "$data/smd-dev" ]; then
    echo "calibration: no nab-dev or smd-dev under $data; skipped"
    exit 0
fi
[ -x "$vigil" ] || { echo "calibration: no vigil binary at $vigil" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/smd" "$work/nab"
py="$repo/scripts/evaluate.py"

if [ -d "$data/smd-dev" ]; then
    for f in "$data"/smd-dev/train/*.csv; do
        [ "$(jobs -rp | wc -l)" -lt "$jobs" ] || wait -n
        "$vigil" replay -q "${cfg[@]}" "$f" --events /dev/null \
            --scores "$work/smd/$(basename "$f" .csv).scores.csv" >/dev/null &
    done
    wait
fi
[ ! -d "$data/nab-dev" ] || "$vigil" replay -q "${cfg[@]}" "$data"/nab-dev/data/*/*.csv \
    --events /dev/null --scores "$work/nab" >/dev/null

echo "corpus   series-points  >=0.999 (x nominal)  >=0.9999 (x)  >=0.99999 (x)"
if [ -d "$data/smd-dev" ]; then
    python3 "$py" exceedance --wide 5 1440 - "$work"/smd/*.scores.csv |
        paste -d ' ' <(printf 'smd-dev\nsmd-dev outside machine-wide events\n') -
fi
if [ -d "$data/nab-dev" ]; then
    # The labels' keys are category/file: file the scores by category.
    for d in "$data"/nab-dev/data/*/; do
        c="$(basename "$d")"
        mkdir -p "$work/nab/$c"
        for f in "$d"*.csv; do
            mv "$work/nab/$(basename "$f" .csv).scores.csv" "$work/nab/$c/"
        done
    done
    printf 'nab-dev  %s\n' "$(python3 "$py" exceedance 0.15 "$data/nab-dev/labels/combined_windows.json" \
        "$work"/nab/*/*.scores.csv)"
fi
