"""Shared helpers for the simulator tests: a tiny, independent info-protocol client and fixture readers.

The framing here is written separately from the simulator's own (aerospike_sim.wire) and from the
collection's client on purpose: implementations that disagree show up as failures.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SIMULATOR = REPO / "tests" / "simulator"
if str(SIMULATOR) not in sys.path:
    sys.path.insert(0, str(SIMULATOR))

# Fast but not frantic: 3x leaves 50 ms heartbeats and a 500 ms peer timeout, enough on a busy 2-core machine.
SPEED = float(os.environ.get("AEROSPIKE_SIM_TEST_SPEED", "3"))

_FIXTURE_DIRS = [
    Path(os.environ["AEROSTACK_FIXTURES"]) if os.environ.get("AEROSTACK_FIXTURES") else None,
    REPO / "tests" / "fixtures" / "aerospike-8.1.2.0",
    Path("/work/shared/fixtures/aerospike-8.1.2.0"),
]


def fixture_dir() -> Path:
    for candidate in _FIXTURE_DIRS:
        if candidate is not None and (candidate / "wire.txt").is_file():
            return candidate
    raise FileNotFoundError("the real-server transcripts (aerospike-8.1.2.0/*.txt) are not in %s; set "
                            "AEROSTACK_FIXTURES to their directory" % [str(c) for c in _FIXTURE_DIRS if c])


def fixture_lines(name: str):
    """``[(command, value)]`` of a transcript, comments skipped, in order."""
    out = []
    for line in (fixture_dir() / name).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        command, _sep, value = line.partition("\t")
        out.append((command, value))
    return out


def fixture_value(name: str, command: str) -> str:
    for cmd, value in fixture_lines(name):
        if cmd == command:
            return value
    raise KeyError("%s has no %r line" % (name, command))


def frame(body: bytes) -> bytes:
    return bytes([2, 1]) + len(body).to_bytes(6, "big") + body


def recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(data), size))
        data += chunk
    return data


def exchange(sock: socket.socket, body: bytes) -> bytes:
    """Send one request on an open socket; the raw reply (header included)."""
    sock.sendall(frame(body))
    header = recv_exact(sock, 8)
    assert header[:2] == b"\x02\x01", "reply header %r is not version 2 type 1" % header
    (length,) = struct.unpack(">Q", b"\x00\x00" + header[2:])
    return header + recv_exact(sock, length)


def request(host: str, port: int, *commands: str, timeout: float = 3.0):
    """``[(command, value)]`` in reply order (duplicates kept)."""
    body = "".join(c + "\n" for c in commands).encode()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reply = exchange(sock, body)[8:].decode()
    out = []
    for line in reply.split("\n")[:-1]:
        command, tab, value = line.partition("\t")
        assert tab, "reply line without a tab: %r" % line
        out.append((command, value))
    assert reply.endswith("\n"), "reply does not end with a newline: %r" % reply[-40:]
    return out


def ask(node, command: str) -> str:
    pairs = request(node.address, node.info_port, command)
    assert [pair[0] for pair in pairs] == [command]
    return pairs[0][1]


def kv(value: str):
    """``a=1;b=2`` -> ordered list of pairs."""
    return [tuple(item.split("=", 1)) for item in value.split(";") if item]


def stats(node) -> dict:
    return dict(kv(ask(node, "statistics")))
