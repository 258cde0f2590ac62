"""Replication lag probe for bench/replication.sh (stdlib only).

    python3 bench/replication_lag.py MASTER_PORT REPLICA_PORT OUT_TSV

Until SIGTERM: every 10 ms, SET lagprobe:<i> on the master and note when
the master acknowledged it; meanwhile GET the oldest probe not yet seen on
the replica, every 0.2 ms (the replica applies the master's writes in
order, so once it has a probe it has the older ones). One line per probe
in OUT_TSV: the probe number and the lag in milliseconds, from the master's
acknowledgement to the first read on the replica that saw it; probes still
unseen at the end are written with how long they had waited so far and
`unseen` (they count at least that much).
"""
import collections
import signal
import sys
import time

from resp_client import Conn, ReplyError

POLL = 0.0002
EVERY = 0.01


def must(reply):
    """A probe that gets an error reply has no lag to measure: stop."""
    if isinstance(reply, ReplyError):
        raise reply
    return reply


def main():
    master, replica, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    m, r = Conn(master), Conn(replica)
    pending = collections.deque()  # (probe, key, value, acknowledged at)
    with open(path, "w") as out:
        out.write("probe\tlag_ms\tseen\n")
        i = 0
        next_probe = time.monotonic()
        while not stop:
            now = time.monotonic()
            if now >= next_probe:
                i += 1
                key, value = b"lagprobe:%d" % i, b"%d" % time.monotonic_ns()
                must(m.call(b"SET", key, value))
                pending.append((i, key, value, time.monotonic()))
                next_probe = now + EVERY
            while pending:
                probe, key, value, acked = pending[0]
                if must(r.call(b"GET", key)) != value:
                    break
                out.write(f"{probe}\t{(time.monotonic() - acked) * 1000:.3f}\tyes\n")
                pending.popleft()
            time.sleep(POLL)
        end = time.monotonic()
        for probe, _, _, acked in pending:
            out.write(f"{probe}\t{(end - acked) * 1000:.3f}\tunseen\n")


if __name__ == "__main__":
    main()
