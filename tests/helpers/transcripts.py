"""Real Aerospike 8.1.2.0 transcripts (tests/fixtures) and a TCP server that answers from them.

The server speaks the info framing on loopback and can misbehave on purpose (wrong header, truncated
body, garbage, silence) so the client's error handling is tested over a real socket.
"""

import socket
import struct
import threading
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aerospike-8.1.2.0"


def load(name):
    """``[(command, value), ...]`` from a fixture file, comments skipped, order and repeats kept."""
    pairs = []
    for line in (FIXTURES / name).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        command, _tab, value = line.partition("\t")
        pairs.append((command, value))
    return pairs


def answers(name):
    """``{command: value}`` of a fixture (a repeated command keeps its first answer)."""
    result = {}
    for command, value in load(name):
        result.setdefault(command, value)
    return result


def frame(body):
    return struct.pack(">Q", (2 << 56) | (1 << 48) | len(body)) + body


class TranscriptServer:
    """Answers info requests from ``table`` (command -> value); unknown commands as a real 8.x server does.

    ``mode`` makes it misbehave: ``"ok"``, ``"bad-header"``, ``"truncate"``, ``"garbage"``, ``"silent"``,
    ``"close"``, ``"oversized"``, ``"split"`` (sends the reply one byte at a time: partial reads).
    ``table`` values may be callables (for answers that change between requests).
    """

    def __init__(self, table, mode="ok", host="127.0.0.1"):
        self.table = table
        self.mode = mode
        self.requests = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self.host, self.port = self._sock.getsockname()
        self._stop = threading.Event()
        self._conns = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _peer = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _recv(self, conn, size):
        data = b""
        while len(data) < size:
            try:
                chunk = conn.recv(size - len(data))
            except OSError:  # closed by close() while waiting
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _answer(self, command):
        value = self.table.get(command)
        if value is None:
            return "ERROR:4:unrecognized command"
        return value() if callable(value) else value

    def _serve(self, conn):
        with conn:
            while True:
                header = self._recv(conn, 8)
                if header is None:
                    return
                length = int.from_bytes(header[2:], "big")
                body = self._recv(conn, length)
                if body is None:
                    return
                commands = [c for c in body.decode().split("\n") if c]
                self.requests.append(commands)
                reply = "".join("%s\t%s\n" % (c, self._answer(c)) for c in commands).encode()
                if self.mode == "silent":
                    self._stop.wait(30)
                    return
                if self.mode == "close":
                    return
                if self.mode == "bad-header":
                    conn.sendall(struct.pack(">Q", (3 << 56) | (5 << 48) | len(reply)) + reply)
                elif self.mode == "truncate":
                    conn.sendall(frame(reply)[: 8 + len(reply) // 2])
                    return
                elif self.mode == "garbage":
                    conn.sendall(frame(b"\xff\xfe\x00garbage without structure"))
                elif self.mode == "oversized":
                    conn.sendall(struct.pack(">Q", (2 << 56) | (1 << 48) | (1 << 40)))
                    return
                elif self.mode == "split":
                    for i in range(len(frame(reply))):
                        conn.sendall(frame(reply)[i:i + 1])
                else:
                    conn.sendall(frame(reply))
