# Shared helpers of the tests/cli/test_kafka_*.sh scripts (sourced, not a
# test: CMake only runs test_*.sh). Each script starts its own `vigil broker`
# on 127.0.0.1, talks to it with kcat (an independent Kafka client), waits on
# conditions with deadlines, and stops only the PIDs it started.
#
# usage, at the top of a script:
#   source "$(dirname "$0")/kafka_lib.sh"
#   kl_init "$@"            # vigil binary, source dir, shared data dir

# Fails the test: a missing tool is a failure, never a skip.
kl_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

kl_require() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || kl_fail "required tool '$t' is not installed"
    done
}

KL_PIDS=()
KL_LOGS=()

# Stops every PID this script started that still runs, the last started
# first (clients before the broker): SIGTERM, then SIGKILL after 10 s. Then
# removes the scratch dir (kept with KL_KEEP=1, for debugging).
kl_cleanup() {
    local status=$? i pid deadline log
    # A failed test shows how each vigil it started ended: CI keeps no
    # scratch dir, so the logs' last lines are the only record.
    if [ "$status" != 0 ]; then
        for log in "${KL_LOGS[@]}"; do
            echo "--- last lines of $(basename "$log"):" >&2
            tail -n 15 "$log" >&2 || true
        done
    fi
    for ((i = ${#KL_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${KL_PIDS[i]}
        kill -CONT "$pid" 2>/dev/null || continue  # in case a test froze it
        kill -TERM "$pid" 2>/dev/null || continue
        deadline=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    # A test's own undo (e.g. unmounting what it mounted), once nothing runs.
    [ -z "${KL_ON_CLEANUP:-}" ] || $KL_ON_CLEANUP
    if [ "${KL_KEEP:-0}" = 1 ]; then
        echo "scratch dir kept: $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}

kl_init() {
    set -euo pipefail
    vigil=$(realpath "$1")
    srcdir=$(realpath "$2")
    datadir=$3
    fixtures=$srcdir/tests/fixtures/kafka
    kl_require kcat jq awk
    [ -x "$vigil" ] || kl_fail "no vigil binary at $vigil"
    tmp=$(mktemp -d)
    trap kl_cleanup EXIT
    KL_T0=$SECONDS
}

# kl_wait SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it
# succeeds; fails the test naming WHAT after SECONDS.
kl_wait() {
    local limit=$1 what=$2
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || kl_fail "timed out after ${limit} s waiting for: $what"
        sleep 0.1
    done
}

kl_running() { kill -0 "$1" 2>/dev/null; }

# kl_broker_start [vigil broker options...]: starts a broker, sets $broker
# (its bootstrap address) and $broker_pid.
kl_broker_start() {
    "$vigil" broker --bootstrap-file "$tmp/bootstrap" "$@" >"$tmp/broker.out" 2>"$tmp/broker.err" &
    broker_pid=$!
    KL_PIDS+=("$broker_pid")
    kl_wait 30 "broker bootstrap file" kl_broker_ready
    broker=$(cat "$tmp/bootstrap")
}

# kl_broker_start_control [options...]: as kl_broker_start, with --control
# commands fed through a FIFO on fd 3 (see kl_control).
kl_broker_start_control() {
    mkfifo "$tmp/control"
    "$vigil" broker --control --bootstrap-file "$tmp/bootstrap" "$@" <"$tmp/control" \
        >"$tmp/broker.out" 2>"$tmp/broker.err" &
    broker_pid=$!
    KL_PIDS+=("$broker_pid")
    exec 3>"$tmp/control"
    KL_CONTROL_SENT=0
    kl_wait 30 "broker bootstrap file" kl_broker_ready
    broker=$(cat "$tmp/bootstrap")
}

# kl_control COMMAND: sends a fault-injection command (vigil broker --help)
# and waits for the broker's answer; fails unless it is "ok".
kl_control() {
    echo "$1" >&3
    KL_CONTROL_SENT=$((KL_CONTROL_SENT + 1))
    kl_wait 10 "the broker's answer to '$1'" kl_control_answered
    [ "$(tail -n1 "$tmp/broker.out")" = "ok $1" ] ||
        kl_fail "broker refused '$1': $(tail -n1 "$tmp/broker.out")"
}

kl_control_answered() { [ "$(($(wc -l <"$tmp/broker.out") - 1))" -ge $KL_CONTROL_SENT ]; }

kl_broker_ready() {
    kl_running "$broker_pid" || kl_fail "broker exited: $(cat "$tmp/broker.err")"
    [ -s "$tmp/bootstrap" ]
}

# kl_produce TOPIC [kcat options...] < lines: one message per line, each
# line "key<TAB>payload".
kl_produce() {
    local topic=$1
    shift
    kcat -q -b "$broker" -P -t "$topic" -K $'\t' -X linger.ms=5 "$@" ||
        kl_fail "kcat could not produce to $topic"
}

# kl_consume TOPIC [kcat options...]: every message now in TOPIC, one per
# line (payload; use -f to change), then exit.
kl_consume() {
    local topic=$1
    shift
    kcat -q -b "$broker" -C -t "$topic" -o beginning -e -f '%s\n' "$@"
}

# kl_dead_letter_origins TOPIC: the distinct "topic/partition" origins of
# the dead letters in TOPIC (header vigil-origin), one per line.
kl_dead_letter_origins() {
    kcat -q -b "$broker" -C -t "$1" -o beginning -e -f '%h\n' |
        grep -Eo 'vigil-origin=[^,@]+/[0-9]+' | cut -d= -f2 | sort -u
}

# kl_end_markers TOPIC PARTITIONS: appends a bad message to every partition
# of TOPIC; with a dead-letter topic configured, kl_consumed_all then tells
# when a consumer has read every partition to its end.
kl_end_markers() {
    local p
    for ((p = 0; p < $2; p++)); do
        echo "end of test" | kcat -q -b "$broker" -P -t "$1" -p $p ||
            kl_fail "cannot produce the end marker of $1/$p"
    done
}

# kl_consumed_all DLQ_TOPIC PARTITIONS: true once the end markers of all
# PARTITIONS came out as dead letters.
kl_consumed_all() { [ "$(kl_dead_letter_origins "$1" | wc -l)" = "$2" ]; }

kl_count() { kl_consume "$1" -f '%o\n' | grep -c '' || true; }

# kl_has_at_least N TOPIC: true when TOPIC holds N messages or more.
kl_has_at_least() { [ "$(kl_count "$2")" -ge "$1" ]; }

# kl_config FILE GROUP TOPICS_JSON OUTPUTS_JSON [EXTRA_TOP_LEVEL_JSON]:
# writes a vigil.json with a pinned detector (zscore only, no calibration:
# incidents known by construction), the Kafka input on $broker in GROUP,
# and the test's timings (session.timeout.ms=6000, fetch.wait.max.ms=10).
# EXTRA is merged over the top level (e.g. {"state": {...}}) and an
# "input" object in it is merged into the input.
kl_config() {
    local file=$1 group=$2 topics=$3 outputs=$4 extra=${5:-'{}'}
    jq -n --arg brokers "$broker" --arg group "$group" --argjson topics "$topics" \
        --argjson outputs "$outputs" --argjson extra "$extra" '
      {window: 200, seed: 42,
       detectors: {zscore: {warmup: 30, recompute: 0, min_std: 1e-9,
                            rel_std_floor: 0.001, k: 3, robust: false}},
       ensemble: {combine: "max", calibrate: false},
       alert: {threshold: 0.99999, critical: 0.9999999, fire_after: 1, resolve_after: 5,
              warmup_s: 0, warmup_points: 0},
       input: {brokers: $brokers, group: $group, topics: $topics,
               kafka: {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                       "fetch.wait.max.ms": "10"}},
       outputs: $outputs}
      * ($extra | del(.input))
      | .input = (.input * ($extra.input // {}))' >"$file" || kl_fail "cannot write $file"
}

# kl_vigil_start NAME CONFIG: starts `vigil run`, logs in $tmp/NAME.log;
# sets $vigil_pid.
kl_vigil_start() {
    "$vigil" run -c "$2" >"$tmp/$1.log" 2>&1 &
    vigil_pid=$!
    KL_PIDS+=("$vigil_pid")
    KL_LOGS+=("$tmp/$1.log")
}

# kl_stop PID: SIGTERM and wait (20 s deadline); fails unless it exits 0.
kl_stop() {
    local pid=$1 status=0
    if ! kill -TERM "$pid" 2>/dev/null; then
        wait "$pid" || status=$?
        kl_fail "process $pid is not running (it exited with status $status)"
    fi
    local deadline=$((SECONDS + 20))
    while kl_running "$pid"; do
        [ $SECONDS -lt $deadline ] || kl_fail "process $pid did not stop in 20 s"
        sleep 0.1
    done
    wait "$pid" || status=$?
    [ "$status" = 0 ] || kl_fail "process $pid exited with status $status"
}

# kl_log_has FILE REGEX: the log holds a matching line.
kl_log_has() { grep -Eq "$2" "$1"; }

# kl_stat LOG NAME: a counter from vigil's shutdown log lines
# ("... 123 points ...", "... 0 bad ..."): the last value of NAME.
kl_stat() {
    grep -Eo "[0-9]+ $2[,\" ]" "$1" | tail -n1 | grep -Eo '^[0-9]+' || echo -1
}

# kl_incidents FILE: events as "state series topic/partition@offset id",
# sorted: the exact incidents to compare with an expected list.
kl_incidents() {
    jq -r '[.state, .series, "\(.source.topic)/\(.source.partition)@\(.source.offset)", .id]
           | join(" ")' "$1" | LC_ALL=C sort
}

# kl_assigned NAME: the partitions member NAME (log $tmp/NAME.log) holds
# now: its last assignment, 0 after a revoke.
kl_assigned() {
    grep -Eo 'partitions (assigned|revoked): [0-9]+' "$tmp/$1.log" | tail -n1 |
        awk '/assigned/ {print $3 + 0; next} {print 0}'
}

# kl_pair_settled: members a and b share the 4 partitions (each holds one
# or more) and member solo holds all 4.
kl_pair_settled() {
    local a b
    a=$(kl_assigned a) b=$(kl_assigned b)
    [ "${a:-0}" -ge 1 ] && [ "${b:-0}" -ge 1 ] && [ $((a + b)) = 4 ] && [ "$(kl_assigned solo)" = 4 ]
}

kl_done() { echo "ok: $(basename "$0") in $((SECONDS - KL_T0)) s"; }

# kl_produce_series NAME FIRST COUNT: points FIRST .. FIRST+COUNT-1 of each
# of $series JSON series named NAME (series.awk: spikes from point 250), to
# the topic $KL_TOPIC (default metrics), zstd-compressed. Needs $series and
# $points.
kl_produce_series() {
    awk -v format=json -v name="$1" -v series="$series" -v points="$points" -v spike=250 \
        -v first=$(($2 * series)) -v count=$(($3 * series)) -f "$fixtures/series.awk" |
        kl_produce "${KL_TOPIC:-metrics}" -z zstd
}

# kl_metrics_url LOG: the /metrics endpoint a vigil with "metrics":
# {"listen": "127.0.0.1:0"} logged (waits for the line).
kl_metrics_url() {
    kl_wait 30 "the metrics address in $1" kl_log_has "$1" 'port [0-9]'
    echo "http://127.0.0.1:$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$1" | head -1)"
}

# kl_read_at_least URL N: the vigil at URL has read (so processed) N points.
kl_read_at_least() {
    local n
    n=$(curl -s "$1/metrics" | awk '/^vigil_points_read_total/ {print $2}')
    [ "${n:-0}" -ge "$2" ]
}

# kl_checkpoints URL: checkpoints the vigil at URL completed (state saved
# or nothing to save, offsets committed): vigil_checkpoints_total.
kl_checkpoints() {
    local body
    body=$(curl -s "$1/metrics") || true
    awk '/^vigil_checkpoints_total/ {n = $2} END {print n + 0}' <<<"$body"
}

# kl_checkpointed_since URL N: two checkpoints after the count N (the first
# may have begun before the caller's point): the state then is on disk.
kl_checkpointed_since() { [ "$(kl_checkpoints "$1")" -ge $(($2 + 2)) ]; }

# kl_http_code URL: the HTTP status of a GET (000 when unreachable).
kl_http_code() { curl -s -o /dev/null -w '%{http_code}' "$1" || true; }

# kl_same_incidents A B: the files (NDJSON events) hold the same set of
# incidents (state and id); repeats allowed.
kl_same_incidents() {
    diff -u <(jq -r '.state + " " + .id' "$1" | LC_ALL=C sort -u) \
        <(jq -r '.state + " " + .id' "$2" | LC_ALL=C sort -u)
}

# kl_get_has URL REGEX: the body of a GET matches REGEX (extended). The body
# is read whole first: `curl | grep -q` fails under pipefail when grep
# stops reading early.
kl_get_has() {
    local body
    body=$(curl -s "$1") || true
    grep -Eq "$2" <<<"$body"
}
