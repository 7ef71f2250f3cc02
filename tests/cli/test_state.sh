#!/usr/bin/env bash
# replay --save-state / --load-state end to end: replaying the first half of
# a file, saving, and replaying the second half from the saved state gives
# byte for byte the second half of one uninterrupted run's scores (one
# 2-column file and the long and wide multi-series shapes); saving is
# deterministic; bad state is refused with a clear message.
#
# usage: test_state.sh VIGIL SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
vigil=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# split FILE: $tmp/a/NAME and $tmp/b/NAME, each with the header and one half
# of the rows (same base name: a 2-column file's series is keyed by it).
split_halves() {
    local f=$1 name rows half
    name=$(basename "$f")
    rows=$(($(wc -l < "$f") - 1))
    half=$((rows / 2))
    mkdir -p "$tmp/a" "$tmp/b"
    { head -n 1 "$f"; sed -n "2,$((half + 1))p" "$f"; } > "$tmp/a/$name"
    { head -n 1 "$f"; tail -n +"$((half + 2))" "$f"; } > "$tmp/b/$name"
    echo "$half"
}

check_split() {  # FILE [config args...]
    local f=$1 name half first
    shift
    name=$(basename "$f" .csv)
    rm -rf "$tmp/a" "$tmp/b" "$tmp/state"
    half=$(split_halves "$f")
    "$vigil" replay -q "$@" "$f" --scores "$tmp/full.csv" 2> /dev/null
    "$vigil" replay -q "$@" "$tmp/a/$name.csv" --scores "$tmp/first.csv" \
        --save-state "$tmp/state" 2> /dev/null
    [ -s "$tmp/state/replay.vgstate" ] || fail "$name: no state saved"
    "$vigil" replay -q "$@" "$tmp/b/$name.csv" --load-state "$tmp/state" \
        --scores "$tmp/resumed.csv" 2> /dev/null
    # Header, then the points after those of the first half (a wide row
    # makes several points; a bad row none).
    first=$(($(wc -l < "$tmp/first.csv") - 1))
    { head -n 1 "$tmp/full.csv"; tail -n +"$((first + 2))" "$tmp/full.csv"; } > "$tmp/expected.csv"
    [ "$(wc -l < "$tmp/expected.csv")" -gt 100 ] || fail "$name: too few rows compared"
    cmp "$tmp/expected.csv" "$tmp/resumed.csv" || fail "$name: resumed scores differ"
    # A cold second half scores differently: the state mattered.
    "$vigil" replay -q "$@" "$tmp/b/$name.csv" --scores "$tmp/cold.csv" 2> /dev/null
    ! cmp -s "$tmp/expected.csv" "$tmp/cold.csv" || fail "$name: state made no difference"
    echo "ok: $name resumes exactly ($half rows, then $(($(wc -l < "$tmp/resumed.csv") - 1)) points)"
}

check_split "$src/examples/data/nyc_taxi.csv"
check_split "$src/tests/fixtures/replay/long.csv"
check_split "$src/tests/fixtures/replay/wide.csv"
check_split "$src/tests/fixtures/replay/spikes.csv" -c "$src/tests/fixtures/replay/pinned.json"

# Saving is deterministic, and load + save with no new points is the identity.
f=$src/examples/data/nyc_taxi.csv
"$vigil" replay -q "$f" --scores /dev/null --save-state "$tmp/s1"
"$vigil" replay -q "$f" --scores /dev/null --save-state "$tmp/s2"
cmp "$tmp/s1/replay.vgstate" "$tmp/s2/replay.vgstate" || fail "two saves differ"
head -n 1 "$f" > "$tmp/nyc_taxi.csv"
"$vigil" replay -q "$tmp/nyc_taxi.csv" --scores /dev/null --load-state "$tmp/s1" --save-state "$tmp/s3"
cmp "$tmp/s1/replay.vgstate" "$tmp/s3/replay.vgstate" || fail "load then save changed the state"
[ ! -e "$tmp/s1/replay.vgstate.tmp" ] || fail "temp file left behind"
echo "ok: saves are deterministic"

# Refusals: exit 1, a message naming the file, and no scores written.
refused() {  # expected message part, then vigil arguments
    local want=$1 out
    shift
    rm -f "$tmp/refused.csv"
    if out=$("$vigil" replay -q "$tmp/nyc_taxi.csv" --scores "$tmp/refused.csv" "$@" 2>&1); then
        fail "accepted: $*"
    fi
    grep -qF -- "$want" <<< "$out" || fail "expected '$want', got: $out"
    [ ! -e "$tmp/refused.csv" ] || fail "scores written despite: $out"
    echo "ok: refused: $out"
}
refused "$tmp/none/replay.vgstate: open: No such file" --load-state "$tmp/none"
printf '{"window": 100}' > "$tmp/w100.json"
refused "state was saved with a different detector configuration" \
    --load-state "$tmp/s1" -c "$tmp/w100.json"
mkdir -p "$tmp/bad"
cp "$tmp/s1/replay.vgstate" "$tmp/bad/"
printf 'X' | dd of="$tmp/bad/replay.vgstate" bs=1 seek=100 conv=notrunc status=none
refused "checksum mismatch" --load-state "$tmp/bad"
head -c 50 "$tmp/s1/replay.vgstate" > "$tmp/bad/replay.vgstate"
refused "checksum mismatch" --load-state "$tmp/bad"
printf 'timestamp,value\n' > "$tmp/bad/replay.vgstate"
refused "not a vigil state file" --load-state "$tmp/bad"

grep -q -- "--save-state DIR" <<<"$("$vigil" replay --help)" || fail "--help lacks --save-state"
grep -q -- "--load-state DIR" <<<"$("$vigil" replay --help)" || fail "--help lacks --load-state"
echo "PASS"
