#!/usr/bin/env python3
"""Faults for scripts/live_collectd.sh that need more than dd.

  live_faults.py memory GIB SECONDS   allocate GIB GiB, touch every page,
                                      hold it SECONDS, free it
  live_faults.py loopback MBS SECONDS send MBS MB/s over TCP on 127.0.0.1
                                      (a receiver thread reads it) for SECONDS
"""
import socket
import sys
import threading
import time


def memory(gib, seconds):
    # bytes * n fills the buffer: every page is touched, so resident.
    block = b"\x01" * int(gib * (1 << 30))
    time.sleep(seconds)
    del block


def loopback(mbs, seconds):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def drain():
        conn, _ = server.accept()
        while conn.recv(1 << 20):
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = socket.create_connection(server.getsockname())
    chunk = b"\0" * 65536
    rate = mbs * 1e6
    start = time.monotonic()
    sent = 0
    while (now := time.monotonic()) - start < seconds:
        # Paced: sleep while ahead of the rate, so the rate holds on
        # average whatever the machine's speed.
        ahead = sent / rate - (now - start)
        if ahead > 0:
            time.sleep(ahead)
            continue
        out.sendall(chunk)
        sent += len(chunk)
    out.close()
    reader.join(5)
    print(f"loopback: {sent / 1e6:.0f} MB in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    what, amount, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    {"memory": memory, "loopback": loopback}[what](amount, secs)
