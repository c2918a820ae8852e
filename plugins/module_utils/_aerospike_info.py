# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Aerospike info protocol: framing, reply parsing and a small blocking client.

Private to this collection and deliberately standard-library only: the modules import it, and the
discovery service runs the very same file inside its container. It is the one implementation of the
protocol in the project.

Wire format (see tests/fixtures and the real 8.1.2.0 transcripts): an 8-byte header -- version 2,
type 1, body length in 6 bytes big-endian -- then the body. A request body is the commands, each
ending in a newline; a reply body is one line per command, ``<command as sent>\\t<value>\\n``.

Every failure, from a refused connection to a garbled reply, is an ``InfoError`` that names the node,
the command and the cause.
"""

from __future__ import annotations

import re
import socket
import struct
import time

PROTO_VERSION = 2
PROTO_TYPE_INFO = 1
HEADER_SIZE = 8
# The largest reply body accepted. Real replies are small (``statistics`` is about 15 KiB); a length
# field beyond this is a garbled or hostile header, not something to allocate memory for.
MAX_BODY = 16 * 1024 * 1024
DEFAULT_INFO_PORT = 3000
DEFAULT_HEARTBEAT_PORT = 3002

_ERROR_TOKEN = re.compile(r"[:;=\s]")
_HEX_NODE = re.compile(r"^[0-9A-Fa-f]{1,16}$")


class InfoError(Exception):
    """An info request failed. ``node`` is ``host:port``; ``command`` may be None (connection, address)."""

    def __init__(self, node, command, cause):
        self.node = node
        self.command = command
        self.cause = cause
        if command is None:
            text = "%s: %s" % (node, cause)
        else:
            text = "%s %s: %s" % (node, _shorten(command), cause)
        super().__init__(text)


def _shorten(command, limit=120):
    command = command.replace("\n", "\\n")
    return command if len(command) <= limit else command[: limit - 3] + "..."


# --- addresses ------------------------------------------------------------------------------------


def parse_address(text, default_port=DEFAULT_INFO_PORT):
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` -> ``(host, port)``; a bare IPv6 has no port."""
    if not isinstance(text, str) or not text.strip():
        raise InfoError(repr(text), None, "an address must be a non-empty 'host' or 'host:port' string")
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise InfoError(text, None, "unclosed '[' in IPv6 address; write it as [addr]:port")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise InfoError(text, None, "expected ':port' after ']'")
            port = _parse_port(text, rest[1:])
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _parse_port(text, port_text)
    if not host or any(c.isspace() for c in host):
        raise InfoError(text, None, "the host part is empty or contains white space")
    return host, port


def _parse_port(text, port_text):
    try:
        port = int(port_text)
    except ValueError:
        raise InfoError(text, None, "port %r is not a number" % port_text)
    if not 1 <= port <= 65535:
        raise InfoError(text, None, "port %d is out of range (1-65535)" % port)
    return port


def format_address(host, port):
    """``(host, port)`` -> ``host:port`` (``[host]:port`` for IPv6)."""
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


# --- framing --------------------------------------------------------------------------------------


def encode_request(commands):
    """The bytes of one request carrying ``commands`` (a list of strings)."""
    if not commands:
        raise ValueError("an info request needs at least one command")
    body = []
    for command in commands:
        if not isinstance(command, str) or not command or "\n" in command or "\t" in command:
            raise ValueError("info command %r must be a non-empty string without tab or newline" % (command,))
        body.append(command + "\n")
    data = "".join(body).encode("utf-8")
    return encode_header(len(data)) + data


def encode_header(length):
    return struct.pack(">Q", (PROTO_VERSION << 56) | (PROTO_TYPE_INFO << 48) | length)


def decode_header(header):
    """Check an 8-byte reply header and return the body length. Raises ValueError with the reason."""
    if len(header) != HEADER_SIZE:
        raise ValueError("reply header has %d bytes, expected %d" % (len(header), HEADER_SIZE))
    version, kind = header[0], header[1]
    length = int.from_bytes(header[2:], "big")
    if version != PROTO_VERSION or kind != PROTO_TYPE_INFO:
        raise ValueError(
            "reply header says protocol version %d type %d, expected version %d type %d "
            "(is this an Aerospike info port?)" % (version, kind, PROTO_VERSION, PROTO_TYPE_INFO)
        )
    if length > MAX_BODY:
        raise ValueError("reply header announces %d body bytes, more than the %d accepted" % (length, MAX_BODY))
    return length


def parse_body(body, commands):
    """Split a reply body into ``{command: value}`` for the ``commands`` that were sent.

    Raises ValueError when the body is not text or lacks an answer for a command.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("reply body is not UTF-8 text (%s)" % exc.reason)
    answers = {}
    for line in text.split("\n"):
        if not line:
            continue
        name, sep, value = line.partition("\t")
        answers[name] = value if sep else ""
    missing = [c for c in commands if c not in answers]
    if missing:
        raise ValueError("reply has no answer for %s" % ", ".join(repr(c) for c in missing))
    return dict((c, answers[c]) for c in commands)


def decode_reply(data, commands):
    """Decode one whole reply message (header and body) into ``{command: value}``."""
    length = decode_header(bytes(data[:HEADER_SIZE]))
    body = bytes(data[HEADER_SIZE:])
    if len(body) != length:
        raise ValueError("reply body has %d bytes, header announced %d" % (len(body), length))
    return parse_body(body, commands)


# --- values ---------------------------------------------------------------------------------------


def is_error(value):
    """True for an error answer: ``ERROR:...``, ``error``, ``FAIL:...`` in any case.

    Only the first token counts, so ``failed_best_practices=true;...`` (statistics) is not an error.
    """
    if not isinstance(value, str):
        return False
    token = _ERROR_TOKEN.split(value.strip(), 1)[0].lower()
    return token in ("error", "fail")


def parse_error(value):
    """``ERROR:4:unrecognized command`` -> ``(4, 'unrecognized command')``; ``ERROR::x`` -> ``(1, 'x')``.

    Older forms without a numeric code give ``(None, message)``.
    """
    parts = value.strip().split(":", 2)
    if len(parts) == 3:
        code_text, message = parts[1], parts[2]
        if code_text == "":
            return 1, message
        if code_text.isdigit():
            return int(code_text), message
        return None, ":".join(parts[1:])
    if len(parts) == 2:
        return None, parts[1]
    return None, ""


def parse_pairs(value, separator=";"):
    """``a=1;b=2;b=3`` -> ``[('a', '1'), ('b', '2'), ('b', '3')]``; keeps repeated keys and order."""
    pairs = []
    for item in value.split(separator):
        if not item:
            continue
        key, _sep, val = item.partition("=")
        pairs.append((key, val))
    return pairs


def parse_kv(value, separator=";"):
    """``a=1;b=2`` -> ``{'a': '1', 'b': '2'}`` (a repeated key keeps its last value)."""
    return dict(parse_pairs(value, separator))


def parse_list(value, separator=";"):
    """``a;b;c`` -> ``['a', 'b', 'c']``; empty items are dropped."""
    return [item for item in value.split(separator) if item]


def parse_mesh_seeds(network_config):
    """The configured mesh seeds in a ``get-config:context=network`` answer, as ``[(host, port)]``."""
    seeds = []
    for key, val in parse_pairs(network_config):
        if key == "heartbeat.mesh-seed-address-port" and val:
            host, port = parse_address(val, DEFAULT_HEARTBEAT_PORT)
            seeds.append((host, port))
    return seeds


def parse_peers(value):
    """A ``peers-clear-std`` / ``alumni-clear-std`` answer -> dict.

    ``4,3000,[[BB9...,,[10.0.6.4]],...]`` -> ``{'generation': 4, 'port': 3000,
    'peers': [{'node_id': 'BB9...', 'tls_name': '', 'addresses': ['10.0.6.4:3000']}]}``. Addresses
    without their own port get the default port of the answer. Raises ValueError when malformed.
    """
    parts = value.split(",", 2)
    if len(parts) != 3:
        raise ValueError("peers answer %r is not '<generation>,<port>,[...]'" % _shorten(value, 60))
    try:
        generation, port = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError("peers answer %r has a non-numeric generation or port" % _shorten(value, 60))
    items, end = _parse_bracket_list(parts[2], 0)
    if parts[2][end:].strip():
        raise ValueError("unexpected text after the peers list: %r" % _shorten(parts[2][end:], 40))
    peers = []
    for item in items:
        if not isinstance(item, list) or len(item) != 3 or not isinstance(item[2], list):
            raise ValueError("peer entry %r is not [node,tls-name,[addresses]]" % (item,))
        node_id, tls_name, addresses = item
        if not isinstance(node_id, str) or not _HEX_NODE.match(node_id):
            raise ValueError("peer entry has a malformed node id %r" % (node_id,))
        formatted = []
        for address in addresses:
            if not isinstance(address, str):
                raise ValueError("peer %s has a malformed address %r" % (node_id, address))
            formatted.append(format_address(*parse_address(address, port)))
        peers.append({"node_id": node_id, "tls_name": tls_name or "", "addresses": formatted})
    return {"generation": generation, "port": port, "peers": peers}


# A peers answer nests three deep (list, peer, addresses); deeper is garbage, and unbounded recursion
# would end in RecursionError instead of the ValueError callers handle.
_MAX_LIST_DEPTH = 8


def _parse_bracket_list(text, pos, depth=1):
    """Parse ``[a,[b,c],,[[v6]:3000]]`` starting at ``text[pos] == '['``; return (list, next position)."""
    if pos >= len(text) or text[pos] != "[":
        raise ValueError("expected '[' at position %d of %r" % (pos, _shorten(text, 60)))
    if depth > _MAX_LIST_DEPTH:
        raise ValueError("lists nested more than %d deep at position %d of %r"
                         % (_MAX_LIST_DEPTH, pos, _shorten(text, 60)))
    pos += 1
    items = []
    if pos < len(text) and text[pos] == "]":
        return items, pos + 1
    while True:
        if pos < len(text) and text[pos] == "[":
            # Either a nested list or an IPv6 address written as [addr] or [addr]:port.
            close = text.find("]", pos)
            inner = text[pos + 1:close] if close > 0 else ""
            if close > 0 and ":" in inner and "[" not in inner and "," not in inner:
                end = close + 1
                while end < len(text) and text[end] not in ",]":
                    end += 1
                items.append(text[pos:end])
                pos = end
            else:
                item, pos = _parse_bracket_list(text, pos, depth + 1)
                items.append(item)
        else:
            end = pos
            while end < len(text) and text[end] not in ",[]":
                end += 1
            items.append(text[pos:end])
            pos = end
        if pos >= len(text):
            raise ValueError("unterminated list in %r" % _shorten(text, 60))
        if text[pos] == ",":
            pos += 1
            continue
        if text[pos] == "]":
            return items, pos + 1
        raise ValueError("unexpected %r at position %d of %r" % (text[pos], pos, _shorten(text, 60)))


# --- the client -----------------------------------------------------------------------------------


def _describe_socket_error(exc, timeout):
    if isinstance(exc, socket.timeout):
        return "no answer within %.1f s" % timeout
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running and listening on this address?)"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host name (%s)" % (exc.strerror or exc)
    return exc.strerror or str(exc) or exc.__class__.__name__


class InfoClient:
    """A blocking connection to one node's info port. Not thread-safe: use one client per thread.

    ``connect(address, timeout) -> socket`` may replace ``socket.create_connection`` (for example to
    open the socket inside another network namespace). The connection is opened on first use and
    kept for later requests; any failure closes it, and the next request opens a new one.
    """

    def __init__(self, host, port=DEFAULT_INFO_PORT, timeout=5.0, connect=None):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.node = format_address(host, port)
        self._connect = connect or socket.create_connection
        self._sock = None
        self.round_trips = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def request(self, *commands):
        """Send ``commands`` in one request; return ``{command: raw value}`` (error values included)."""
        commands = list(dict.fromkeys(commands))  # one answer per distinct command
        label = commands[0] if len(commands) == 1 else "[%s]" % ", ".join(commands)
        try:
            payload = encode_request(commands)
        except ValueError as exc:
            raise InfoError(self.node, label, str(exc))
        deadline = time.monotonic() + self.timeout
        try:
            if self._sock is None:
                self._sock = self._connect((self.host, self.port), self.timeout)
            self._sock.settimeout(self.timeout)
            self._sock.sendall(payload)
            header = self._recv_exact(HEADER_SIZE, deadline, "header")
            length = decode_header(header)
            body = self._recv_exact(length, deadline, "body")
            answers = parse_body(body, commands)
        except (OSError, ValueError) as exc:
            self.close()
            cause = str(exc) if isinstance(exc, ValueError) else _describe_socket_error(exc, self.timeout)
            raise InfoError(self.node, label, cause)
        self.round_trips += 1
        return answers

    def command(self, command):
        """Send one command; return its value, raising InfoError when the server answers an error."""
        value = self.request(command)[command]
        if is_error(value):
            raise InfoError(self.node, command, value)
        return value

    def _recv_exact(self, size, deadline, what):
        chunks = []
        received = 0
        while received < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            self._sock.settimeout(remaining)
            chunk = self._sock.recv(min(size - received, 65536))
            if not chunk:
                raise ValueError("connection closed after %d of %d reply %s bytes" % (received, size, what))
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks)
