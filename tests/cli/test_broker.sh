#!/usr/bin/env bash
# `vigil broker` as scripts use it: start it, wait for the bootstrap file
# (written atomically), talk to it with kcat, stop it with SIGTERM and get
# exit status 0; the same through a fixed --port; usage errors exit 2.
# usage: test_broker.sh <vigil binary> <source dir> <shared data dir>
set -euo pipefail
vigil="$1"
tmp="$(mktemp -d)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# Waits (30 s deadline) for file $1 to appear while process $2 runs.
wait_for_file() {
    local deadline=$((SECONDS + 30))
    until [ -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || fail "broker exited before writing $1"
        [ $SECONDS -lt $deadline ] || fail "no $1 after 30 s"
        sleep 0.05
    done
}

# Starts the broker with the given options; sets pid and addr.
start() {
    rm -f "$tmp/bs" "$tmp/stdout"
    "$vigil" broker --topic metrics:3 --bootstrap-file "$tmp/bs" "$@" >"$tmp/stdout" &
    pid=$!
    wait_for_file "$tmp/bs" "$pid"
    addr="$(cat "$tmp/bs")"
    [[ "$addr" =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "bootstrap address '$addr'"
    [ "$(head -n1 "$tmp/stdout")" = "$addr" ] || fail "stdout does not say $addr"
}

stop() {
    kill -TERM "$pid"
    local status=0
    wait "$pid" || status=$?
    pid=""
    [ $status -eq 0 ] || fail "broker exited with $status on SIGTERM"
}

round_trip() {
    printf 'one\ntwo\nthree\n' | kcat -q -b "$addr" -P -t metrics -p 1
    local got
    got="$(kcat -q -b "$addr" -C -t metrics -p 1 -o beginning -e -f '%o:%s\n')"
    [ "$got" = $'0:one\n1:two\n2:three' ] || fail "read back: $got"
    grep -q 'topic "metrics" with 3 partitions' <<<"$(kcat -b "$addr" -L -t metrics)" ||
        fail "metrics should have 3 partitions"
}

start
round_trip
stop
echo "ok: ephemeral port"

# A fixed port: retry a few candidates in case one is taken.
ok=""
for port in $((20000 + RANDOM % 20000)) $((20000 + RANDOM % 20000)) $((20000 + RANDOM % 20000)); do
    rm -f "$tmp/bs"
    "$vigil" broker --port "$port" --brokers 2 --topic metrics:3 \
        --bootstrap-file "$tmp/bs" >"$tmp/stdout" 2>"$tmp/stderr" &
    pid=$!
    deadline=$((SECONDS + 30))
    while [ ! -s "$tmp/bs" ] && kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
        sleep 0.05
    done
    if [ -s "$tmp/bs" ]; then
        ok=1
        break
    fi
    wait "$pid" || true
    pid=""
done
[ -n "$ok" ] || fail "no fixed port could be bound: $(cat "$tmp/stderr")"
addr="$(cat "$tmp/bs")"
[ "$addr" = "127.0.0.1:$port" ] || fail "fixed-port address '$addr'"
round_trip
stop
echo "ok: fixed port $port"

status=0
"$vigil" broker --port nope 2>/dev/null || status=$?
[ $status -eq 2 ] || fail "--port nope exited $status, not 2"
status=0
"$vigil" broker --topic nopartitions 2>/dev/null || status=$?
[ $status -eq 2 ] || fail "--topic without partitions exited $status, not 2"
echo "ok: usage errors"
