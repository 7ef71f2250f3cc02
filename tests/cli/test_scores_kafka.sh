#!/usr/bin/env bash
# Scores out on Kafka in Influx line protocol (output "kafka-influx"):
# `vigil run` reads two series named kept and one named skipped from a
# `vigil broker` on 127.0.0.1, with the output's match selecting `kept`;
# kcat (an independent client) reads the scores topic back.
# Proves: every point of the selected series, and none of the other one, is
# one line, `vigil,host=<h>,metric=kept value=…,expected=…,lower=…,upper=…,
# anomaly_score=… <ns>`, with the point's exact value and time; the band
# brackets the expectation; the score, in nines, reaches the threshold's
# (5 for 0.99999) on every point that fired, by vigil's event log;
# lines are batched (fewer messages than lines); vigil_score_points_total
# counts them all sent.
#
# usage: test_scores_kafka.sh <vigil binary> <source dir> <shared data dir>
source "$(dirname "$0")/kafka_lib.sh"
kl_init "$@"
kl_require curl python3

series=2 points=300
kl_broker_start --topic metrics:2 --topic scores:2
kl_config "$tmp/vigil.json" scores '[{"name": "metrics", "format": "json"}]' \
    '[{"type": "ndjson", "path": "'"$tmp/events.ndjson"'"},
      {"type": "kafka-influx", "brokers": "'"$broker"'", "topic": "scores", "match": "kep?"}]' \
    '{"metrics": {"listen": "127.0.0.1:0"}}'
kl_produce_series kept 0 $points
series=1 kl_produce_series skipped 0 $points
kl_vigil_start vigil "$tmp/vigil.json"; vigil_pid=$vigil_pid
url=$(kl_metrics_url "$tmp/vigil.log")
kl_wait 60 "every point scored" kl_read_at_least "$url" $((3 * points))
all_sent() { kl_get_has "$url/metrics" "^vigil_score_points_total\{result=\"sent\"\} $((2 * points))$"; }
kl_wait 30 "the score lines acknowledged" all_sent
kl_stop "$vigil_pid"

kl_consume scores >"$tmp/lines"
messages=$(kl_count scores)
kl_consume metrics >"$tmp/points"
python3 - "$tmp/lines" "$tmp/points" "$tmp/events.ndjson" "$messages" <<'PY'
import json, re, sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l]
points = [json.loads(l) for l in open(sys.argv[2])]
events = [json.loads(l) for l in open(sys.argv[3])]
messages = int(sys.argv[4])
want = {(p["labels"]["host"], p["ts"] * 1000000): p["value"]
        for p in points if p["series"] == "kept"}
fired = {(e["labels"]["host"], e["ts"]) for e in events
         if e["state"] == "firing" and e["name"] == "kept"}
assert fired, "the fixture fired no incident on kept"
line_re = re.compile(r"^vigil,host=(h\d+),metric=kept (\S+) (\d+)$")
got, high = {}, set()
for l in lines:
    m = line_re.match(l)
    assert m, "not a line of kept: " + l
    host, fields, ns = m.group(1), dict(f.split("=") for f in m.group(2).split(",")), int(m.group(3))
    assert (host, ns) not in got, "twice: " + l
    got[(host, ns)] = float(fields["value"])
    if "expected" in fields:
        assert float(fields["lower"]) <= float(fields["expected"]) <= float(fields["upper"]), l
    if float(fields.get("anomaly_score", "0")) >= 5:
        high.add((host, ns))
assert set(got) == set(want), f"{len(got)} lines for {len(want)} points"
assert all(abs(got[k] - want[k]) < 1e-9 for k in want), "a value differs"
from datetime import datetime, timezone
stamp = lambda ns: datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
assert {(h, stamp(ns)) for h, ns in high} >= fired, (sorted(high), sorted(fired))
assert messages < len(lines) / 10, f"{messages} messages for {len(lines)} lines: not batched"
print(f"ok: {len(lines)} lines in {messages} messages, {len(fired)} incidents at score >= 5 nines")
PY
kl_done
