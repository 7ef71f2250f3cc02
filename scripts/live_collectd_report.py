#!/usr/bin/env python3
"""The report of scripts/live_collectd.sh: usage live_collectd_report.py OUT.

For each vigil (events-<name>.ndjson) and each fault of timeline.tsv (from
"<fault> begins" to "<fault> ends"): the incidents that fired from its
beginning to SLACK_S after its end, each with its delay after the
beginning, whether it resolved while the fault lasted, and when it resolved
after the end. Every other incident fired while the vigil could page (after
its warm-up) is a false one: listed, and counted per hour of quiet paging
time. With scores-<name>.influx, the series that scored highest in each
fault (anomaly_score in nines) show what a fault moved even when nothing
paged.
"""
import glob
import json
import os
import re
import sys
from collections import defaultdict

SLACK_S = 60  # a fault's effects reach vigil a collectd interval or two late


def timeline(out):
    marks = []
    for line in open(os.path.join(out, "timeline.tsv")):
        t, what = line.rstrip("\n").split("\t", 1)
        marks.append((float(t), what))
    faults = []
    for t, what in marks:
        name, verb = (what.split(" ", 2) + [""])[:2]
        verb = verb.rstrip(":")
        if verb == "begins":
            faults.append({"name": name, "begin": t})
        elif verb == "ends":
            next(f for f in reversed(faults) if f["name"] == name)["end"] = t
    return marks, faults


def incidents(path):
    fired, resolved = {}, {}
    for line in open(path):
        e = json.loads(line)
        if e["state"] == "firing":
            fired.setdefault(e["id"] + e.get("series", ""), e)
        elif e["state"] == "resolved":
            resolved[e["id"] + e.get("series", "")] = e
    out = []
    for key, e in fired.items():
        r = resolved.get(key)
        out.append({"series": e["series"], "t": e["ts_ms"] / 1e3,
                    "page": "group_id" not in e or e.get("escalated", False),
                    "reason": e.get("reason", ""), "severity": e.get("severity", ""),
                    "summary": e.get("summary", ""),
                    "resolved": r["ts_ms"] / 1e3 if r else None,
                    "resolved_reason": r.get("reason", "") if r else ""})
    return sorted(out, key=lambda i: i["t"])


def scores(path):
    """{series: [(t, nines)]} from Influx lines."""
    by = defaultdict(list)
    if not os.path.exists(path):
        return by
    for line in open(path, errors="replace"):
        parts = re.split(r"(?<!\\) ", line.strip())
        if len(parts) != 3:
            continue
        tags = parts[0].split(",")[1:]
        fields = dict(f.split("=", 1) for f in parts[1].split(","))
        if "anomaly_score" not in fields:
            continue
        tags = dict(t.split("=", 1) for t in tags)
        name = tags.pop("metric", "?")
        tags.pop("host", None)
        series = name + "{" + ",".join(f"{k}={v}" for k, v in sorted(tags.items())) + "}"
        by[series].append((int(parts[2]) / 1e9, float(fields["anomaly_score"])))
    return by


def report(out, name, marks, faults):
    incs = incidents(os.path.join(out, f"events-{name}.ndjson"))
    sc = scores(os.path.join(out, f"scores-{name}.influx"))
    start, end = marks[0][0], marks[-1][0]
    cfg = json.load(open(os.path.join(out, f"vigil-{name}.json")))
    warm = cfg.get("alert", {}).get("warmup_s", 86400)
    paging_from = start + warm
    print(f"\n=== vigil '{name}' (alert.warmup_s {warm:g}): {len(incs)} incidents")
    claimed = set()
    for f in faults:
        lo, hi = f["begin"], f.get("end", end) + SLACK_S
        print(f"\n{f['name']}: {f.get('end', end) - lo:.0f} s from "
              f"+{lo - start:.0f} s")
        mine = [i for i in incs if lo <= i["t"] <= hi]
        for i in mine:
            claimed.add(id(i))
            res = ("still firing" if i["resolved"] is None else
                   f"resolved {i['resolved'] - f.get('end', end):+.0f} s after the end"
                   f" ({i['resolved_reason']})")
            print(f"  {'PAGE' if i['page'] else 'join'} +{i['t'] - lo:.0f} s "
                  f"{i['series']} [{i['reason']}]; {res}")
            print(f"       {i['summary']}")
        if not mine:
            print("  no incident")
        top = sorted(((max(s for t, s in pts if lo <= t <= hi), k)
                       for k, pts in sc.items() if any(lo <= t <= hi for t, _ in pts)),
                     reverse=True)[:6]
        for s, k in top:
            print(f"  score {s:5.2f} nines  {k}")
    false = [i for i in incs if id(i) not in claimed and i["t"] >= paging_from]
    quiet = max(end, paging_from) - paging_from
    quiet -= sum(max(0, min(f.get("end", end) + SLACK_S, end) - max(f["begin"], paging_from))
                 for f in faults)
    pages = [i for i in false if i["page"]]
    print(f"\nfalse incidents outside the faults, while paging "
          f"({quiet / 3600:.2f} h): {len(false)} ({len(pages)} pages), "
          f"{len(pages) / max(quiet / 3600, 1e-9):.1f} pages an hour")
    for i in false:
        print(f"  {'PAGE' if i['page'] else 'join'} +{i['t'] - start:.0f} s {i['series']} "
              f"[{i['reason']}] {i['summary']}")
    early = [i for i in incs if i["t"] < paging_from]
    if early:
        print(f"  ({len(early)} incidents before the warm-up's end)")


def main():
    out = sys.argv[1]
    marks, faults = timeline(out)
    print("timeline (UTC):")
    import time
    for t, what in marks:
        print(f"  {time.strftime('%H:%M:%S', time.gmtime(t))} +{t - marks[0][0]:5.0f} s  {what}")
    for path in sorted(glob.glob(os.path.join(out, "events-*.ndjson"))):
        report(out, os.path.basename(path)[7:-7], marks, faults)


if __name__ == "__main__":
    main()
