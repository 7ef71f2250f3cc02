#!/usr/bin/env python3
"""collectd write_kafka JSON messages (one array a line, as kcat dumps the
topic of scripts/live_collectd.sh) -> a long CSV for `vigil replay`, with
the series named as vigil's collectd-json parser names them
(streams/parse_collectd.c): collectd_<plugin>_<type>[_<ds>]{host,
plugin_instance, type_instance}. The values are taken as sent (rates
already: StoreRates). Replaying it with the live run's config gives the
same scores offline, so a config can be tried on a recorded run.

usage: live_collectd_csv.py collectd.ndjson > live.csv
"""
import json
import sys


def series(v, ds):
    name = f"collectd_{v['plugin']}_{v['type']}"
    if len(v["dsnames"]) > 1 or ds != "value":
        name += "_" + ds
    labels = [("host", v["host"]), ("plugin_instance", v["plugin_instance"]),
              ("type_instance", v["type_instance"])]
    return name + "{" + ",".join(f'{k}="{s}"' for k, s in labels if s) + "}"


def main():
    rows = []
    for line in open(sys.argv[1]):
        for v in json.loads(line):
            for ds, x in zip(v["dsnames"], v["values"]):
                if x is not None:
                    rows.append((round(v["time"] * 1000), series(v, ds), x))
    rows.sort(key=lambda r: r[0])  # stable: a round's order kept
    print("timestamp,series,value")
    for t, s, x in rows:
        print(f'{t},"{s.replace(chr(34), chr(34) * 2)}",{x!r}')


if __name__ == "__main__":
    main()
