#!/usr/bin/env bash
# Detection quality on both dev corpora, in one table (docs/quality.md,
# "Cross-validated evaluation"):
#  - nab-dev: all 31 files, NAB standard score;
#  - smd-dev: each machine learns from train/ (--save-state) and is scored
#    on test/ (--load-state): windows caught at <= 1 and <= 5 false alerts
#    per machine-day (one threshold), and false incidents a day and windows
#    caught at the configured defaults;
#  - beside every vigil figure the same figure for a causal rolling z-score
#    (window 200, max over a file's series), scored by the same code;
#  - leave-one-group-out: for each NAB category / SMD machine, the candidate
#    config and thresholds chosen on the other groups, scored on it.
#
# usage: scripts/evaluate.sh [-g GRID_DIR] [-j JOBS] [-k KEEP_DIR] [DATA_DIR]
#   DATA_DIR  holds nab-dev/ and smd-dev/ (default $VIGIL_DATA, else
#             ../shared/data beside the repository); absent: skipped, exit 0
#   GRID_DIR  candidate configs *.json (default: only the built-in defaults,
#             named "default"); the built-in defaults are always a candidate
#   JOBS      replays at once (default 2)
#   KEEP_DIR  keep the replays' tables (*.txt: NAB and operator tables per
#             run), curves (*.json) and the baseline's scores there
#   VIGIL_BIN the vigil binary (default build/vigil)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
grid=""
jobs=2
keep=""
while getopts "g:j:k:h" opt; do
    case "$opt" in
    g) grid="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    k) keep="$OPTARG" ;;
    *) sed -n '2,23p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
data="${1:-${VIGIL_DATA:-$repo/../shared/data}}"
vigil="${VIGIL_BIN:-$repo/build/vigil}"
nab="$data/nab-dev"
smd="$data/smd-dev"

if [ ! -f "$nab/labels/combined_windows.json" ] && [ ! -f "$smd/labels.json" ]; then
    echo "evaluate: no nab-dev or smd-dev under $data (pass DATA_DIR or set VIGIL_DATA); skipped"
    exit 0
fi
[ -x "$vigil" ] || { echo "evaluate: no vigil binary at $vigil (scripts/setup.sh builds it)" >&2; exit 1; }
vigil="$(cd "$(dirname "$vigil")" && pwd)/$(basename "$vigil")"
nab="$(cd "$(dirname "$nab")" && pwd)/nab-dev"
smd="$(cd "$(dirname "$smd")" && pwd)/smd-dev"

if [ -n "$keep" ]; then
    mkdir -p "$keep"
    work="$(cd "$keep" && pwd)"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

# Candidates: name -> config file ("" for the built-in defaults).
declare -A config=([default]="")
if [ -n "$grid" ]; then
    for f in "$grid"/*.json; do
        [ -e "$f" ] || continue
        n="$(basename "$f" .json)"
        [ "$n" != "zscore" ] || { echo "evaluate: a candidate cannot be named zscore" >&2; exit 2; }
        config[$n]="$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
    done
fi
names=($(printf '%s\n' "${!config[@]}" | sort))

# What each candidate runs, said before the figures: `detectors` lists the
# detectors that run, so a candidate meant to change one detector's params
# that lists only it runs that detector alone (a calendar candidate written
# so scored NAB 51 instead of 70; docs/quality.md, "branch q-nab").
columns() { "$vigil" config check -c "$1" | sed -n 's/.*(\([0-9]*\) detector column.*/\1/p'; }
echo '{}' >"$work/default.json"
want="$(columns "$work/default.json")"
candidates=()
for n in "${names[@]}"; do
    f="${config[$n]:-$work/default.json}"
    check="$("$vigil" config check -c "$f")" || { echo "evaluate: candidate $n: $check" >&2; exit 2; }
    candidates+=("$n: ${check#*: }")
    [ "$(columns "$f")" -ge "$want" ] ||
        echo "evaluate: warning: candidate $n runs $(columns "$f") detector columns, the defaults $want (\"detectors\" lists only those that run)" >&2
done

# One job a line, run $jobs at a time. Replays print their tables to a file
# and their events nowhere: the figures come from --eval-json.
joblist="$work/jobs"
: >"$joblist"
q() { printf '%q' "$1"; }
machines=()
[ -f "$smd/labels.json" ] && for f in "$smd"/test/*.csv; do machines+=("$(basename "$f" .csv)"); done
for n in "${names[@]}"; do
    d="$work/$n"
    mkdir -p "$d"
    c=""
    [ -z "${config[$n]}" ] || c="-c $(q "${config[$n]}")"
    if [ -f "$nab/labels/combined_windows.json" ]; then
        echo "$(q "$vigil") replay -q $c $(q "$nab")/data/*/*.csv --labels $(q "$nab/labels/combined_windows.json") --events /dev/null --eval-json $(q "$d/nab.json") >$(q "$d/nab.txt")" >>"$joblist"
    fi
    for m in "${machines[@]}"; do
        # Paths relative to smd-dev so they end with the labels' keys.
        echo "cd $(q "$smd") && $(q "$vigil") replay -q $c train/$m.csv --events /dev/null --save-state $(q "$d/state-$m") && $(q "$vigil") replay -q $c test/$m.csv --load-state $(q "$d/state-$m") --labels labels.json --events /dev/null --eval-json $(q "$d/smd-$m.json") >$(q "$d/smd-$m.txt")" >>"$joblist"
    done
done

# The baseline: scores computed here, evaluated by vigil as given scores.
z="$work/zscore"
py="$(q "$repo/scripts/evaluate.py")"
mkdir -p "$z/nab" "$z/smd/test"
if [ -f "$nab/labels/combined_windows.json" ]; then
    for f in "$nab"/data/*/*.csv; do
        cat="$(basename "$(dirname "$f")")"
        mkdir -p "$z/nab/$cat"
        echo "python3 $py zscore $(q "$f") $(q "$z/nab/$cat/$(basename "$f")")" >>"$joblist"
    done
fi
for m in "${machines[@]}"; do
    echo "python3 $py zscore $(q "$smd/train/$m.csv") $(q "$smd/test/$m.csv") $(q "$z/smd/test/$m.csv")" >>"$joblist"
done

start=$SECONDS
tr '\n' '\0' <"$joblist" | xargs -0 -P "$jobs" -I{} bash -c {}
if [ -f "$nab/labels/combined_windows.json" ]; then
    "$vigil" replay -q --given-scores "$z"/nab/*/*.csv --labels "$nab/labels/combined_windows.json" \
        --events /dev/null --eval-json "$z/nab.json" >"$z/nab.txt"
fi
for m in "${machines[@]}"; do
    "$vigil" replay -q --given-scores "$z/smd/test/$m.csv" --labels "$smd/labels.json" \
        --events /dev/null --eval-json "$z/smd-$m.json" >"$z/smd-$m.txt"
done

echo "$("$vigil" --version 2>/dev/null | head -1 || true), $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'); data $data"
python3 "$repo/scripts/evaluate.py" aggregate "$work" "${names[@]}" zscore
printf 'candidate %s\n' "${candidates[@]}"
echo "($((SECONDS - start)) s; z-score: causal, window 200, |z| per series, max over a file's series; smd-dev baseline warmed on train/)"
