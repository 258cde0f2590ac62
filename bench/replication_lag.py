"""Replication lag probe for bench/replication.sh (stdlib only).

    python3 bench/replication_lag.py MASTER_PORT REPLICA_PORT OUT_TSV

Until SIGTERM: SET lagprobe:<i> on the master; once the master has
acknowledged it, GET it on the replica every 0.2 ms until it is there. One
line per probe in OUT_TSV: the probe number and the lag in milliseconds,
from the master's acknowledgement to the first read on the replica that
sees the value (-1: not seen within 30 s). A probe every 10 ms.
"""
import signal
import socket
import sys
import time

HOST = "127.0.0.1"
POLL = 0.0002
EVERY = 0.01
GIVE_UP = 30.0


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        return rest


def main():
    master, replica, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    m, r = Conn(master), Conn(replica)
    with open(path, "w") as out:
        out.write("probe\tlag_ms\n")
        i = 0
        while not stop:
            i += 1
            key = b"lagprobe:%d" % i
            value = b"%d" % time.monotonic_ns()
            m.call(b"SET", key, value)
            acked = time.monotonic()
            lag = -1.0
            while not stop and time.monotonic() - acked < GIVE_UP:
                if r.call(b"GET", key) == value:
                    lag = (time.monotonic() - acked) * 1000
                    break
                time.sleep(POLL)
            if stop:
                break
            out.write(f"{i}\t{lag:.3f}\n")
            out.flush()
            time.sleep(EVERY)


if __name__ == "__main__":
    main()
