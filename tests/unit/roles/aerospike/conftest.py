"""Fakes for the discovery tests: Aerospike members with live mesh seeds, in-process and over real sockets.

The seed commands answer exactly as the real 8.1.2.0 server does (tests/fixtures): a duplicate tip is
``ERROR::unknown``, a tip-clear of an absent seed ``ERROR::0 cleared, 1 not found``, the seeds show up
in ``get-config:context=network`` as ``heartbeat.mesh-seed-address-port=H:P``.
"""

import socket
import struct
import threading

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import InfoError, format_address
from seed_commands import answer_seed_command

NETWORK_PREFIX = ("service.port=3000;service.address=eth0;admin.port=3003;admin.address=eth0;heartbeat.mode=mesh;"
                  "heartbeat.address=eth0;heartbeat.port=3002")
NETWORK_SUFFIX = "heartbeat.interval=150;heartbeat.timeout=10;fabric.address=eth0;fabric.port=3001"


class FakeMember:
    """One Aerospike node's seed state and the commands it received."""

    def __init__(self, address, seeds=()):
        self.address = address
        self.seeds = list(seeds)
        self.up = True
        self.commands = []
        self.requests = 0
        self.refuse = {}  # command -> forced answer
        self.alumni_resets = 0
        self.lock = threading.Lock()

    def answer(self, command):
        with self.lock:
            self.commands.append(command)
            if command in self.refuse:
                return self.refuse[command]
            seed_answer = answer_seed_command(self.seeds, command)
            if seed_answer is not None:
                return seed_answer
            if command == "get-config:context=network":
                seeds = "".join(";heartbeat.mesh-seed-address-port=%s" % s for s in self.seeds)
                return NETWORK_PREFIX + seeds + ";" + NETWORK_SUFFIX
            if command == "services-alumni-reset":
                self.alumni_resets += 1
                return "ok"
            return "ERROR:4:unrecognized command"

    def sent(self, prefix):
        return [c for c in self.commands if c.startswith(prefix)]


class FakeClient:
    def __init__(self, cluster, address):
        self.cluster = cluster
        self.address = address
        self.node = format_address(address, 3000)

    def request(self, *commands):
        commands = list(dict.fromkeys(commands))
        member = self.cluster.members.get(self.address)
        self.cluster.round_trips += 1
        if member is None or not member.up:
            raise InfoError(self.node, commands[0], "connection refused (is the server running and listening on "
                                                    "this address?)")
        member.requests += 1
        return dict((c, member.answer(c)) for c in commands)

    def close(self):
        self.cluster.closed += 1


class FakeCluster:
    """Members by address, the DNS answer, and a count of every info round trip."""

    def __init__(self, addresses=()):
        self.members = {}
        self.dns = []
        self.dns_error = None
        self.lookups = 0
        self.round_trips = 0
        self.closed = 0
        for address in addresses:
            self.add(address)

    def add(self, address, seeds=(), in_dns=True):
        self.members[address] = FakeMember(address, seeds)
        if in_dns and address not in self.dns:
            self.dns.append(address)
        return self.members[address]

    def remove(self, address):
        self.members.pop(address, None)
        if address in self.dns:
            self.dns.remove(address)

    def resolve(self, name):
        self.lookups += 1
        if self.dns_error is not None:
            raise self.dns_error
        return list(self.dns)

    def client(self, address):
        return FakeClient(self, address)

    def seeds(self, address):
        return sorted(self.members[address].seeds)

    def full_mesh(self):
        """Whether every member in DNS has exactly the other members as seeds."""
        for address in self.dns:
            want = sorted("%s:3002" % a for a in self.dns if a != address)
            if self.seeds(address) != want:
                return False
        return True


@pytest.fixture
def cluster():
    return FakeCluster()


@pytest.fixture
def make_cluster():
    """A factory of fresh fake clusters: ``make_cluster(addresses)``."""
    return FakeCluster


class ManualClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return ManualClock()


# --- over real sockets: info servers on loopback addresses and a DNS server for the program ----------


class InfoServer:
    """A FakeMember behind the real info framing on ``(host, port)``."""

    def __init__(self, member, host, port):
        self.member = member
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            while True:
                header = _recv(conn, 8)
                if header is None:
                    return
                length = int.from_bytes(header[2:], "big")
                body = _recv(conn, length) if length else b""
                if body is None:
                    return
                self.member.requests += 1
                lines = [line for line in body.decode().split("\n") if line]
                reply = "".join("%s\t%s\n" % (line, self.member.answer(line)) for line in lines).encode()
                conn.sendall(struct.pack(">Q", (2 << 56) | (1 << 48) | len(reply)) + reply)

    def close(self):
        self.stopped.set()
        self.sock.close()


def _recv(conn, size):
    data = b""
    while len(data) < size:
        try:
            chunk = conn.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class DnsServer:
    """Answers A queries for one name from a mutable list (NXDOMAIN when empty), on ``host:53``."""

    def __init__(self, host, name, addresses):
        self.name = name
        self.addresses = addresses
        self.queries = 0
        self.servfail = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 53))
        self.sock.settimeout(0.1)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            query_id = data[:2]
            end = 12
            while data[end] != 0:
                end += 1 + data[end]
            question = data[12:end + 5]
            labels, pos = [], 12
            while data[pos]:
                labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
                pos += 1 + data[pos]
            addresses = list(self.addresses) if ".".join(labels) == self.name else []
            rcode = 2 if self.servfail else 0 if addresses else 3
            if self.servfail:
                addresses = []
            header = query_id + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(addresses), 0, 0)
            answers = b"".join(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + socket.inet_aton(a)
                               for a in addresses)
            self.sock.sendto(header + question + answers, peer)

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()


class Fakes:
    """The fake classes, for tests that build their own (conftest is not importable by name)."""

    FakeMember = FakeMember
    FakeCluster = FakeCluster
    InfoServer = InfoServer
    DnsServer = DnsServer


@pytest.fixture
def fakes():
    return Fakes
