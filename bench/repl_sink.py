"""A stand-in replica that takes a Basalt master's stream and drops it
(stdlib only), to measure what feeding a replica costs the master alone,
without a real replica's RocksDB writes on the same machine.

    python3 bench/repl_sink.py MASTER_PORT

Speaks the replica's side of the handshake (`_db_name`, `REPLCONF
listening-port`, `PSYNC <next sequence>`), then reads and discards until
the master closes the connection or SIGTERM. It never acknowledges: the
master feeds it as it feeds a Kvrocks replica before 2.14. Used for the
numbers in docs/benchmarks.md ("Where the rest goes"): run it on the
clients' CPU instead of a replica, with redis-benchmark against the
master, and compare the master's CPU time per SET with and without it.
"""
import signal
import sys

from resp_client import Conn, ReplyError


def main():
    port = int(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    info = Conn(port).call(b"INFO", b"replication").decode()
    latest = next(int(l.split(":")[1]) for l in info.splitlines() if l.startswith("master_repl_offset:"))
    link = Conn(port)
    for args in ((b"_db_name",), (b"REPLCONF", b"listening-port", b"1"), (b"PSYNC", latest + 1)):
        reply = link.call(*args)
        if isinstance(reply, ReplyError):
            sys.exit(f"repl_sink: {args[0].decode()}: {reply}")
    while link.sock.recv(1 << 20):
        pass


if __name__ == "__main__":
    main()
