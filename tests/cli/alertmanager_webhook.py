#!/usr/bin/env python3
"""Webhook receiver for tests/cli/test_alertmanager.sh: appends every POSTed
body as one line to the file given, answers 200. Listens on 127.0.0.1 on a
free port and writes that port to the second file once it is listening.
With a third argument it plays a slow Alertmanager
(tests/cli/test_fault_slow_alertmanager.sh): it records each body on
arrival, then sleeps that many seconds before answering."""
import http.server
import os
import json
import sys
import time

DELAY = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[1], "a", encoding="utf-8") as out:
            out.write(json.dumps(json.loads(body)) + "\n")
        time.sleep(DELAY)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
with open(sys.argv[2] + ".tmp", "w", encoding="utf-8") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
