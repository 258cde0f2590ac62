#!/usr/bin/env python3
"""The write load of bench/controller-migrate.sh: a cluster client in a few
lines, with no dependency beyond Python.

  controller_migrate_writer.py write HOST PORT RATE ACKED_FILE
      SETs w:<n> = n at RATE per second through the cluster (follows MOVED,
      retries TRYAGAIN) until SIGTERM, then writes the acknowledged n's to
      ACKED_FILE (one a line).
  controller_migrate_writer.py check HOST PORT ACKED_FILE
      GETs every acknowledged key through the cluster; prints
      "<acked> acked, <missing> missing" and exits 1 if any is missing.

redis-benchmark cannot be throttled; a writer faster than migrate-speed
keeps a migration's WAL catch-up from ever converging, which is a different
measurement.
"""

import signal
import socket
import sys
import time


def slot(key: bytes) -> int:
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    crc = 0
    for byte in key:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc % 16384


class Conn:
    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.file = self.sock.makefile("rb")

    def call(self, *args: bytes):
        out = b"*%d\r\n" % len(args)
        for a in args:
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"-":
            return Exception(rest.decode())
        return rest


class Cluster:
    def __init__(self, host: str, port: int):
        self.host = host
        self.owner = [port] * 16384
        self.conns = {}

    def call(self, key: bytes, *args: bytes):
        s = slot(key)
        while True:
            port = self.owner[s]
            if port not in self.conns:
                self.conns[port] = Conn(self.host, port)
            reply = self.conns[port].call(*args)
            if isinstance(reply, Exception):
                text = str(reply)
                if text.startswith("MOVED "):
                    self.owner[s] = int(text.rsplit(":", 1)[1])
                    continue
                if text.startswith("TRYAGAIN"):
                    time.sleep(0.01)
                    continue
            return reply


def write(host: str, port: int, rate: float, acked_file: str) -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    cluster = Cluster(host, port)
    acked = []
    started = time.monotonic()
    n = 0
    while not stop:
        key = b"w:%d" % n
        if not isinstance(cluster.call(key, b"SET", key, b"%d" % n), Exception):
            acked.append(n)
        n += 1
        due = started + n / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
    with open(acked_file, "w") as f:
        f.write("".join("%d\n" % i for i in acked))


def check(host: str, port: int, acked_file: str) -> int:
    cluster = Cluster(host, port)
    acked = [int(line) for line in open(acked_file)]
    missing = 0
    for n in acked:
        key = b"w:%d" % n
        if cluster.call(key, b"GET", key) != b"%d" % n:
            missing += 1
    print("%d acked, %d missing" % (len(acked), missing))
    return 1 if missing or not acked else 0


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "write":
        write(host, port, float(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(check(host, port, sys.argv[4]))
