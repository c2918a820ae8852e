"""Framing of the info protocol (server side) and of the simulator's own heartbeat channel.

Info: an 8-byte header -- version 2, type 1, body length in 6 bytes big-endian -- then the body.
Requests are commands each ending in a newline; replies are ``<command as sent>\\t<value>\\n`` per
command, with the same header. Heartbeats are the simulator's own: a 4-byte big-endian length and
a UTF-8 JSON object (not the real server's binary heartbeat protocol).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Dict, List, Optional, Tuple

PROTO_VERSION = 2
TYPE_INFO = 1
TYPE_MESSAGE = 3  # the data path (AS_MSG); not simulated
HEADER = struct.Struct(">Q")
MAX_INFO_BODY = 1 << 20
MAX_HEARTBEAT = 1 << 20


class FramingError(Exception):
    """A peer sent bytes that are not a valid frame; the connection is closed."""


def info_header(length: int) -> bytes:
    return HEADER.pack((PROTO_VERSION << 56) | (TYPE_INFO << 48) | length)


def parse_info_header(data: bytes) -> Tuple[int, int, int]:
    """``(version, type, length)`` of an 8-byte header."""
    (word,) = HEADER.unpack(data)
    return word >> 56, (word >> 48) & 0xFF, word & 0xFFFFFFFFFFFF


def split_commands(body: bytes) -> List[str]:
    """The commands of a request body; a last command without its newline still counts."""
    text = body.decode("utf-8", errors="replace")
    return [c for c in text.split("\n") if c]


def encode_reply(pairs: List[Tuple[str, str]]) -> bytes:
    body = "".join("%s\t%s\n" % (command, value) for command, value in pairs).encode("utf-8")
    return info_header(len(body)) + body


def encode_heartbeat(message: Dict) -> bytes:
    body = json.dumps(message, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return struct.pack(">I", len(body)) + body


def decode_heartbeat_length(data: bytes) -> int:
    (length,) = struct.unpack(">I", data)
    if length == 0 or length > MAX_HEARTBEAT:
        raise FramingError("heartbeat frame length %d is out of range" % length)
    return length


def decode_heartbeat(body: bytes) -> Dict:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FramingError("heartbeat frame is not JSON: %s" % exc) from None
    if not isinstance(message, dict):
        raise FramingError("heartbeat frame is not a JSON object")
    return message


def info_request(host: str, port: int, commands: List[str], timeout: float = 2.0,
                 source: Optional[str] = None) -> Dict[str, str]:
    """A minimal blocking client, used by the harness to wait for readiness.

    Tests use their own framing helper on purpose: two independent implementations check each other.
    """
    body = "".join(c + "\n" for c in commands).encode("utf-8")
    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as sock:
        sock.sendall(info_header(len(body)) + body)
        header = _recv_exact(sock, 8)
        version, kind, length = parse_info_header(header)
        if version != PROTO_VERSION or kind != TYPE_INFO or length > MAX_INFO_BODY:
            raise FramingError("bad reply header %s" % header.hex())
        reply = _recv_exact(sock, length).decode("utf-8")
    result: Dict[str, str] = {}
    for line in reply.split("\n"):
        if line:
            command, _sep, value = line.partition("\t")
            result[command] = value
    return result


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise FramingError("connection closed before the reply was complete")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
