#!/usr/bin/env bash
# scripts/calibration.sh's second smd-dev line (evaluate.py exceedance
# --wide): points in a file's wide events (5 or more of its series at 0.9999
# within 3 rows) are left out, and honest noise makes no such event.
#  - 12 series of Gaussian noise, 6000 rows: both lines are the same;
#  - the same with a 3-row fault on 6 series at row 4000: the fault's rows
#    are left out of the second line (its exceedance falls), not the first.
# The data is generated here, deterministically (awk's seeded rand()).
# usage: test_calibration_wide.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
src="$2"
[ -x "$vigil" ] || { echo "FAIL: no vigil binary at $vigil"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 0; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

gen() { # $1: the fault's size in sigmas (0: none)
    awk -v fault="$1" 'BEGIN {
        srand(4242)
        printf "timestamp"
        for (s = 1; s <= 12; s++) printf ",m%02d", s
        printf "\n"
        for (i = 0; i < 6000; i++) {
            printf "%d", 1700000000 + 60 * i
            for (s = 1; s <= 12; s++) {
                g = sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand())
                if (s <= 6 && i >= 4000 && i < 4003) g += fault
                printf ",%.4f", 50 + g
            }
            printf "\n"
        }
    }'
}
for f in 0 40; do
    gen "$f" >"$tmp/fault$f.csv"
    "$vigil" replay -q "$tmp/fault$f.csv" --events /dev/null --scores "$tmp/fault$f.scores.csv" >/dev/null
    python3 "$src/scripts/evaluate.py" exceedance --wide 5 500 - "$tmp/fault$f.scores.csv" >"$tmp/fault$f.txt"
    cat "$tmp/fault$f.txt"
    [ "$(wc -l <"$tmp/fault$f.txt")" -eq 2 ] || { echo "FAIL: two lines expected"; exit 1; }
done
# Line: counted, then rate and ratio at 1e-3, 1e-4, 1e-5.
read -r n0 _ <"$tmp/fault0.txt"
if [ "$(sed -n 1p "$tmp/fault0.txt")" != "$(sed -n 2p "$tmp/fault0.txt")" ]; then
    echo "FAIL: honest noise made a wide event"; exit 1
fi
[ "$n0" -eq $((12 * 5500)) ] || { echo "FAIL: counted $n0, expected $((12 * 5500))"; exit 1; }
read -r n1 _ _ _ _ r1 _ < <(sed -n 1p "$tmp/fault40.txt")
read -r n2 _ _ _ _ r2 _ < <(sed -n 2p "$tmp/fault40.txt")
[ "$n1" -eq "$n0" ] || { echo "FAIL: the first line counts every point ($n1)"; exit 1; }
# At least the fault's first row and 3 either side, on all 12 series.
[ "$n2" -le $((n1 - 12 * 7)) ] || { echo "FAIL: the fault's rows were counted ($n2 of $n1)"; exit 1; }
awk -v a="$r1" -v b="$r2" 'BEGIN { exit !(a > 0 && b < a) }' ||
    { echo "FAIL: the fault's exceedances stayed in (1e-5: $r1 -> $r2)"; exit 1; }
echo "PASS"
