"""The small RESP client the bench load and probe programs share (stdlib
only, so the scripts run on a bare machine; run as scripts, so this
directory is on sys.path and `import resp_client` finds this file)."""
import binascii
import socket


class ReplyError(RuntimeError):
    """An error reply: returned by Conn.call, not raised, so a load loop can
    count MOVED/TRYAGAIN without a try around every command."""


def slot(key):
    """Redis's hash slot of key (bytes): CRC16/XMODEM of the key or its
    {hash tag}, modulo 16384."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return binascii.crc_hqx(key, 0) % 16384


class Conn:
    def __init__(self, port, host="127.0.0.1", timeout=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        """Sends one command (arguments as bytes, str or int) and reads its reply."""
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
            return ReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        return rest
