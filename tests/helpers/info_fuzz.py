"""A fake info socket, and a seeded fuzz run of the info client over it.

``FakeInfoSocket`` stands in for the TCP connection ``InfoClient`` opens (pass ``connector(...)`` as its
``connect``): it records what the client sends and hands back a scripted reply in chunks of chosen
sizes, so partial reads are exercised; when the reply is used up it either closes (``recv`` returns
``b""``) or stays silent (``recv`` raises ``socket.timeout`` at once: the timeout path, without
waiting). It never sleeps. A client that keeps calling ``recv`` although nothing more can come is
stopped with ``HangGuard`` instead of hanging the test.

``run_fuzz(cases, seed)`` feeds ``cases`` replies -- valid ones from the real 8.1.2.0 transcripts in
random chunks, random bytes, random bodies behind a valid header, truncations, bit flips, oversized and
mismatched length fields, wrong version/type bytes, trailing garbage -- to ``InfoClient.request``
(over the fake socket) and to ``decode_reply``, and the facts built from every reply that parses to
``node_facts``/``summarize``. It returns the count of every outcome; anything but a parse or the
documented error type is counted under ``unexpected`` with an example.
"""

import random
import socket
import struct
import time
from collections import Counter

from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_info as info
from ansible_collections.aerostack.swarm.plugins.module_utils._cluster import node_commands, node_facts, summarize
from transcripts import answers as fixture_answers
from transcripts import frame


class HangGuard(Exception):
    """The client asked for more bytes after the fake socket had said the reply was over (it would hang)."""


class FakeInfoSocket:
    """One fake connection. ``respond(request_bytes) -> (reply_bytes, end)`` is called on every ``sendall``.

    ``chunks``: sizes of the successive ``recv`` results (cycled); ``None`` returns what was asked for.
    ``end``: ``"close"`` (``recv`` returns ``b""``) or ``"silent"`` (``recv`` raises ``socket.timeout``).
    """

    def __init__(self, respond, chunks=None):
        self.respond = respond
        self.chunks = list(chunks or [])
        self.pending = b""
        self.end = "close"
        self.sent = []
        self.timeouts = []
        self.recvs = 0
        self.after_end = 0
        self.closed = False

    def settimeout(self, seconds):
        self.timeouts.append(seconds)

    def sendall(self, data):
        if self.closed:
            raise OSError(9, "Bad file descriptor")
        self.sent.append(bytes(data))
        reply, self.end = self.respond(bytes(data))
        self.pending += reply
        self.after_end = 0

    def recv(self, size):
        self.recvs += 1
        if not self.pending:
            self.after_end += 1
            if self.after_end > 2:
                raise HangGuard("recv called %d times after the reply ended" % self.after_end)
            if self.end == "silent":
                raise socket.timeout("timed out")
            return b""
        want = size
        if self.chunks:
            want = min(size, self.chunks[(self.recvs - 1) % len(self.chunks)])
        data, self.pending = self.pending[:want], self.pending[want:]
        return data

    def close(self):
        self.closed = True


def connector(respond, chunks=None, opened=None):
    """A ``connect(address, timeout)`` for ``InfoClient`` that opens ``FakeInfoSocket``s (kept in ``opened``)."""
    def connect(address, timeout):
        sock = FakeInfoSocket(respond, chunks)
        if opened is not None:
            opened.append(sock)
        return sock
    return connect


def request_commands(data):
    """The commands of a request's bytes (header checked)."""
    length = info.decode_header(data[:info.HEADER_SIZE])
    return [c for c in data[info.HEADER_SIZE:info.HEADER_SIZE + length].decode("utf-8").split("\n") if c]


def answering(table, end="close"):
    """A ``respond`` that answers every command from ``table`` (callables allowed) like a real 8.x server."""
    def respond(data):
        lines = []
        for command in request_commands(data):
            value = table.get(command)
            if callable(value):
                value = value()
            lines.append("%s\t%s\n" % (command, "ERROR:4:unrecognized command" if value is None else value))
        return frame("".join(lines).encode("utf-8")), end
    return respond


def scripted(reply, end="close"):
    """A ``respond`` that sends ``reply`` whatever was asked."""
    return lambda data: (reply, end)


# --- the seeded fuzz run --------------------------------------------------------------------------------

TABLE = fixture_answers("three-nodes.txt")
FACTS_COMMANDS = node_commands(["test"], 3)
COMMAND_SETS = [["build"], ["build", "node"], ["statistics"], ["get-config:context=network", "peers-clear-std"],
                ["namespace/nosuch", "nosuchcommand"], FACTS_COMMANDS]

#: The kinds of reply, each with its weight in the mix.
KINDS = (
    ("valid, random chunks", 3),
    ("random bytes", 2),
    ("random body, valid header", 2),
    ("random text body, valid header", 2),
    ("truncated", 3),
    ("bit-flipped", 4),
    ("oversized length field", 1),
    ("length field off by some bytes", 1),
    ("wrong version or type", 1),
    ("trailing garbage, then a second request", 1),
)

#: How an InfoError's cause is reported, by the start of its text.
CAUSES = (
    ("reply header says protocol version", "wrong header version/type"),
    ("reply header announces", "length field above the limit"),
    ("connection closed after", "connection closed mid-reply"),
    ("reply body is not UTF-8", "body not UTF-8"),
    ("reply has no answer for", "answer missing"),
    ("no answer within", "timeout (silent server)"),
)


def reply_for(commands):
    body = "".join("%s\t%s\n" % (c, TABLE.get(c, "ERROR:4:unrecognized command")) for c in commands)
    return frame(body.encode("utf-8"))


def _header(version, kind, length):
    return struct.pack(">BB", version, kind) + length.to_bytes(6, "big")


def make_case(rng):
    """``(kind, commands, reply, end, chunks, second)`` for one case; ``second`` is a follow-up request's reply."""
    kind = rng.choices([k for k, _w in KINDS], weights=[w for _k, w in KINDS])[0]
    commands = list(rng.choice(COMMAND_SETS))
    valid = reply_for(commands)
    end = rng.choice(("close", "silent"))
    second = None
    if kind == "valid, random chunks":
        reply = valid
    elif kind == "random bytes":
        reply = rng.randbytes(rng.randint(0, 64))
    elif kind == "random body, valid header":
        body = rng.randbytes(rng.randint(0, 256))
        reply = frame(body)
    elif kind == "random text body, valid header":
        alphabet = "\t\n;:=,[]ab09 " + "".join(commands)
        body = "".join(rng.choice(alphabet) for _i in range(rng.randint(0, 200)))
        if rng.random() < 0.5:
            body = "".join("%s\t%s\n" % (c, body) for c in commands)
        reply = frame(body.encode("utf-8"))
    elif kind == "truncated":
        reply = valid[:rng.randrange(len(valid))]
    elif kind == "bit-flipped":
        data = bytearray(valid)
        for _flip in range(rng.randint(1, 4)):
            # Half the flips hit the header, where they do the most damage.
            at = rng.randrange(info.HEADER_SIZE) if rng.random() < 0.5 else rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
        reply = bytes(data)
    elif kind == "oversized length field":
        reply = _header(2, 1, rng.randint(info.MAX_BODY + 1, (1 << 48) - 1)) + valid[info.HEADER_SIZE:]
    elif kind == "length field off by some bytes":
        body = valid[info.HEADER_SIZE:]
        reply = _header(2, 1, max(0, len(body) + rng.choice((-1, 1)) * rng.randint(1, 64))) + body
    elif kind == "wrong version or type":
        version, kind_byte = rng.choice(((rng.randrange(256), 1), (2, rng.randrange(256)), (0, 0), (3, 5)))
        if (version, kind_byte) == (2, 1):
            version = 0
        reply = _header(version, kind_byte, len(valid) - info.HEADER_SIZE) + valid[info.HEADER_SIZE:]
    else:  # trailing garbage: the first request parses, the second one reads the leftovers first
        reply = valid + rng.randbytes(rng.randint(1, 32))
        second = reply_for(commands)
    if rng.random() < 0.3:
        chunks = [1]  # one byte at a time: the harshest partial reads
    else:
        chunks = [rng.randint(1, 4096) for _i in range(rng.randint(1, 4))]
    if len(reply) > 4096 and chunks == [1]:
        chunks = [rng.randint(1, 64)]
    return kind, commands, reply, end, chunks, second


def _cause(exc):
    for prefix, label in CAUSES:
        if exc.cause.startswith(prefix):
            return label
    return "other: %s" % exc.cause[:60]


def _check_facts(commands, result, counts):
    """Facts and the verdict from whatever parsed must come out without an exception."""
    if commands == FACTS_COMMANDS:
        facts = node_facts("10.0.6.2:3000", result, ["test"], 3)
        summarize([facts], 3)
        counts["facts built from a parsed facts reply"] += 1


def run_case(case, counts, examples):
    kind, commands, reply, end, chunks, second = case
    counts["cases"] += 1
    counts["kind: " + kind] += 1
    replies = [reply] + ([second] if second is not None else [])

    def respond(data):
        return replies.pop(0) if replies else b"", end

    client = info.InfoClient("10.0.6.2", 3000, timeout=5.0, connect=connector(respond, chunks))
    try:
        outcome = None
        for _request in range(2 if second is not None else 1):
            try:
                result = client.request(*commands)
            except info.InfoError as exc:
                outcome = "client: InfoError (%s)" % _cause(exc)
                break
            if sorted(result) != sorted(commands) or not all(isinstance(v, str) for v in result.values()):
                raise AssertionError("parsed to the wrong commands: %r" % sorted(result))
            _check_facts(commands, result, counts)
            outcome = "client: parsed"
        counts[outcome] += 1
        if kind == "valid, random chunks" and outcome != "client: parsed":
            raise AssertionError("a valid reply delivered in chunks %r did not parse: %s" % (chunks, outcome))
    # Counting every other exception is the point of the run.
    except Exception as exc:  # pylint: disable=broad-except
        counts["unexpected"] += 1
        examples.append((kind, reply[:80], "%s: %s" % (exc.__class__.__name__, exc)))
    finally:
        client.close()
    try:
        info.decode_reply(reply, commands)
        counts["decode_reply: parsed"] += 1
    except ValueError:
        counts["decode_reply: ValueError"] += 1
    except Exception as exc:  # pylint: disable=broad-except
        counts["unexpected"] += 1
        examples.append((kind, reply[:80], "decode_reply %s: %s" % (exc.__class__.__name__, exc)))


def run_fuzz(cases=20000, seed=20170601):
    """Run ``cases`` seeded cases; return ``(Counter of outcomes, examples of unexpected ones, seconds)``."""
    rng = random.Random(seed)
    counts = Counter()
    counts["unexpected"] = 0
    examples = []
    started = time.perf_counter()
    for _case in range(cases):
        run_case(make_case(rng), counts, examples)
    return counts, examples, time.perf_counter() - started


def report(counts, seconds=None):
    """The outcome counts as printable lines."""
    lines = ["info-reply fuzz: %d cases%s" % (counts["cases"], " in %.2f s" % seconds if seconds else "")]
    for key in sorted(k for k in counts if k != "cases"):
        lines.append("  %-62s %7d" % (key, counts[key]))
    return lines
