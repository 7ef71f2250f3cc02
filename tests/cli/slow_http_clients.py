#!/usr/bin/env python3
"""Slow HTTP clients for tests/cli/test_http_slow_clients.sh: opens N
connections to 127.0.0.1:PORT, starts a request on each and then trickles
one header byte per connection every second, never finishing it. Writes
READY_FILE once every connection is open and trickling; after SECONDS
prints how many connections the server still kept open, and exits."""
import socket
import sys
import time

port, n, seconds, ready_file = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]


def still_open(s):
    try:
        return s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True  # nothing to read: not closed
    except OSError:
        return False


conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(None)  # blocking: MSG_DONTWAIT alone decides in still_open
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    conns.append(s)
with open(ready_file, "w", encoding="utf-8") as f:
    f.write("ready\n")
end = time.monotonic() + seconds
while time.monotonic() < end:
    time.sleep(1.0)
    for s in conns:
        try:
            s.send(b"a")
        except OSError:
            pass
print(sum(1 for s in conns if still_open(s)))
