#!/usr/bin/env python3
"""Writes tests/corpus/snapshot/<case>/{input,expect}: malformed state files
(layout in models/snapshot.h) whose errors do not depend on the detector
configuration, so the corpus stays valid when defaults change.
usage: scripts/snapshot_corpus.py [SOURCE_DIR]"""
import os
import struct
import sys

def crc32c(data):
    """Bit at a time: slow and obviously right, for a few hundred bytes."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def current_version():
    """VG_SNAPSHOT_VERSION, read from models/snapshot.h so the corpus follows it."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "snapshot.h")
    with open(path) as f:
        for line in f:
            if line.startswith("#define VG_SNAPSHOT_VERSION "):
                return int(line.split()[2])
    raise SystemExit("VG_SNAPSHOT_VERSION not found in " + path)


VERSION = current_version()
MAGIC = b"VIGILST\0"
OTHER_ID = 0x0123456789ABCDEF


def text(s):
    return struct.pack("<I", len(s)) + s


def header(count, version=VERSION, state_id=OTHER_ID, creator=b"vigil 0.1.0",
           detectors=b"zscore", positions=b"\0\0\0\0"):
    return (MAGIC + struct.pack("<IQIIQ", version, state_id, 200, 0xFFFFFFFF, count)
            + text(creator) + text(detectors) + positions)


def position(topic, partition, offset):
    return text(topic) + struct.pack("<Iq", partition, offset)


def record(key, state=b""):
    return text(key) + text(state)


def seal(body):
    return body + struct.pack("<I", crc32c(body))


def cases():
    h0 = header(0)
    yield "empty", b"", -2, 0
    yield "bad_magic", seal(b"VIGILSX\0" + h0[8:]), -2, 0
    yield "truncated_magic", b"VIGIL", -2, 5
    yield "no_version", MAGIC + b"\1\0", -2, 10
    yield "version_newer", seal(header(0, version=VERSION + 1)), -6, 8
    yield "version_1", seal(header(0, version=1)), -6, 8
    pos_at = 36 + 4 + 11 + 4 + 6
    yield "positions_count_too_big", seal(header(0, positions=struct.pack("<I", 65))), -2, pos_at
    yield "position_negative_offset", seal(header(
        0, positions=struct.pack("<I", 1) + position(b"metrics", 0, -5))), -2, pos_at + 4 + 4 + 7
    yield "position_truncated", seal(header(
        0, positions=struct.pack("<I", 2) + position(b"metrics", 0, 5))), -2, pos_at + 4 + 4 + 7 + 12
    yield "version_0", seal(header(0, version=0)), -6, 8
    yield "no_trailer", MAGIC + struct.pack("<I", VERSION) + b"\0\0", -2, 14
    good = seal(h0)
    flipped = bytearray(good)
    flipped[20] ^= 0x10
    yield "flipped_bit", bytes(flipped), -7, len(good) - 4
    yield "cut_trailer", good[:-1], -7, len(good) - 5
    yield "header_truncated", seal(h0[:30]), -2, 30
    yield "creator_too_long", seal(header(0, creator=b"x" * 256)), -2, 36
    big_det = bytearray(h0)
    struct.pack_into("<I", big_det, 36 + 4 + 11, 200)
    yield "detectors_past_end", seal(bytes(big_det)), -2, 36 + 4 + 11
    yield "count_too_high", seal(header(1)), -2, len(h0)
    yield "huge_count", seal(header(1 << 62)), -2, len(h0)
    yield "key_past_end", seal(header(1) + struct.pack("<I", 1000) + b"abc"), -2, len(h0)
    yield "state_past_end", seal(header(1) + text(b"k") + struct.pack("<I", 99) + b"x"), \
        -2, len(h0)
    ab = record(b"a", b"\0" * 8)
    yield "keys_out_of_order", seal(header(2) + record(b"b") + ab), -2, len(h0) + 9
    yield "key_repeated", seal(header(2) + ab + ab), -2, len(h0) + len(ab)
    yield "prefix_after_key", seal(header(2) + record(b"ab") + record(b"a")), -2, len(h0) + 10
    yield "bytes_after_last", seal(header(1) + ab + b"junk"), -2, len(h0) + len(ab)
    yield "other_state_id", good, -3, 12
    yield "other_state_id_records", seal(header(2) + ab + record(b"b", b"\xff" * 40)), -3, 12


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    out = os.path.join(root, "tests", "corpus", "snapshot")
    for name, data, code, offset in cases():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input"), "wb") as f:
            f.write(data)
        with open(os.path.join(d, "expect"), "w") as f:
            f.write("code %d\nwhere input@%d\n" % (code, offset))


if __name__ == "__main__":
    main()
