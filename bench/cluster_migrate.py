"""Slot migration run for bench/cluster.sh (stdlib only).

    python3 bench/cluster_migrate.py load KEYS VALUE_SIZE SLOT_END
        RESP for redis-cli --pipe on stdout: SET mig:<n> <random value> for
        the first KEYS names mig:<n> whose slot is in 0-SLOT_END.
    python3 bench/cluster_migrate.py run SRC_PORT DST_PORT DST_ID RANGE OUT_DIR
        Starts a write load on the slots being moved (one connection, SET of
        mig:<n> with 100-byte values on the source, a retry after TRYAGAIN,
        the destination after MOVED; new names w:<n> in the slots), sends CLUSTERX MIGRATE RANGE DST_ID to
        the source, polls its CLUSTER INFO every 50 ms until the job ends,
        then stops the load. Writes OUT_DIR/migration.tsv (metric, value)
        and OUT_DIR/migration-phases.tsv (seconds since MIGRATE, phase,
        keys, bytes).
"""
import os
import random
import sys
import threading
import time

from resp_client import Conn, ReplyError, slot



def names(slot_end, prefix=b"mig"):
    n = 0
    while True:
        key = b"%s:%d" % (prefix, n)
        n += 1
        if slot(key) <= slot_end:
            yield key


def load(keys, size, slot_end):
    pool = os.urandom((1 << 24) + size)
    rnd = random.Random(1)
    out = sys.stdout.buffer
    mid = b"\r\n$%d\r\n" % size
    parts = []
    for i, key in zip(range(keys), names(slot_end)):
        o = rnd.randrange(1 << 24)
        parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s%s%s\r\n" % (len(key), key, mid, pool[o:o + size]))
        if len(parts) == 10000:
            out.write(b"".join(parts))
            parts = []
    out.write(b"".join(parts))


def info(conn):
    text = conn.call("CLUSTER", "INFO").decode()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.split("\r\n")) if k}


class Writer(threading.Thread):
    """SETs on the slots being moved, following TRYAGAIN and MOVED."""

    def __init__(self, src, dst, slot_end):
        super().__init__(daemon=True)
        self.ports = {src: Conn(src), dst: Conn(dst)}
        self.port = src
        self.slot_end = slot_end
        self.stop = threading.Event()
        self.acked = self.tryagain = self.moved = self.errors = 0
        self.value = b"w" * 100

    def run(self):
        keys = names(self.slot_end, b"w")
        key = next(keys)
        while not self.stop.is_set():
            r = self.ports[self.port].call("SET", key, self.value)
            if isinstance(r, ReplyError):
                text = str(r)
                if text.startswith("TRYAGAIN"):
                    self.tryagain += 1
                    time.sleep(0.001)
                elif text.startswith("MOVED"):
                    self.moved += 1
                    self.port = int(text.rsplit(":", 1)[1])
                else:
                    self.errors += 1
                continue
            self.acked += 1
            key = next(keys)


def run(src, dst, dst_id, ranges, out):
    slot_end = int(ranges.split("-")[-1])
    c = Conn(src)
    writer = Writer(src, dst, slot_end)
    writer.start()
    time.sleep(1)
    before = writer.acked
    t0 = time.monotonic()
    r = c.call("CLUSTERX", "MIGRATE", ranges, dst_id)
    if isinstance(r, ReplyError):
        sys.exit(f"CLUSTERX MIGRATE: {r}")
    phases = []
    last = None
    while True:
        i = info(c)
        now = time.monotonic() - t0
        row = (i.get("migrating_phase", "?"), i.get("migrating_keys", "0"), i.get("migrating_bytes", "0"))
        if row[0] != last:
            phases.append((now,) + row)
            last = row[0]
        if i.get("migrating_state") in ("success", "fail"):
            break
        time.sleep(0.05)
    seconds = time.monotonic() - t0
    during = writer.acked - before
    time.sleep(0.5)
    writer.stop.set()
    writer.join(5)
    with open(os.path.join(out, "migration-phases.tsv"), "w") as f:
        f.write("seconds\tphase\tkeys\tbytes\n")
        for p in phases:
            f.write("%.3f\t%s\t%s\t%s\n" % p)
    with open(os.path.join(out, "migration.tsv"), "w") as f:
        f.write("metric\tvalue\n")
        for k, v in (
            ("state", i.get("migrating_state")),
            ("seconds", "%.3f" % seconds),
            ("keys", i.get("migrating_keys")),
            ("bytes", i.get("migrating_bytes")),
            ("error", i.get("migrating_error", "")),
            ("writes_during", during),
            ("writes_per_second", "%.0f" % (during / seconds)),
            ("tryagain", writer.tryagain),
            ("moved", writer.moved),
            ("write_errors", writer.errors),
        ):
            f.write(f"{k}\t{v}\n")
    if i.get("migrating_state") != "success":
        sys.exit(f"the migration failed: {i.get('migrating_error')}")


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        run(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
