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
import sys
import time

from resp_client import Conn, ReplyError, slot


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
                self.conns[port] = Conn(port, self.host, timeout=30)
            reply = self.conns[port].call(*args)
            if isinstance(reply, ReplyError):
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
        if not isinstance(cluster.call(key, b"SET", key, b"%d" % n), ReplyError):
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
