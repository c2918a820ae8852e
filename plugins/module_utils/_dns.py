# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal DNS A-record lookup over UDP, standard-library only.

Why: inside a container's network namespace the host's resolver (``getaddrinfo``) still reads the
host's ``/etc/resolv.conf``; swarm's ``tasks.<service>`` names are only answered by the engine's
embedded DNS server that the container's own resolv.conf names (127.0.0.11). So the modules ask
that server directly, with a socket opened inside the namespace.
"""

from __future__ import annotations

import random
import socket
import struct
import time


class DnsError(Exception):
    """A lookup failed; the message names the name, the server and the cause."""


def build_query(name, query_id):
    """A recursive query for the A records of ``name``."""
    labels = name.rstrip(".").split(".")
    if not labels or any(not part or len(part) > 63 for part in labels):
        raise DnsError("%r is not a valid DNS name" % name)
    question = b"".join(struct.pack("B", len(p)) + p.encode("ascii") for p in labels) + b"\x00"
    header = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0)
    return header + question + struct.pack(">HH", 1, 1)


def _skip_name(data, pos):
    while True:
        if pos >= len(data):
            raise DnsError("truncated name in answer")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length


def parse_answer(data, query_id):
    """The IPv4 addresses in a reply, sorted; ``[]`` for NXDOMAIN or no records."""
    if len(data) < 12:
        raise DnsError("reply shorter than a DNS header")
    rid, flags, qdcount, ancount = struct.unpack(">HHHH", data[:8])
    if rid != query_id:
        raise DnsError("reply id %d does not match query id %d" % (rid, query_id))
    rcode = flags & 0x000F
    if rcode == 3:  # NXDOMAIN: the service has no task right now
        return []
    if rcode != 0:
        raise DnsError("server answered rcode %d" % rcode)
    pos = 12
    for dummy in range(qdcount):
        pos = _skip_name(data, pos) + 4
    addresses = []
    for dummy in range(ancount):
        pos = _skip_name(data, pos)
        if pos + 10 > len(data):
            raise DnsError("truncated resource record")
        rtype, rclass, _ttl, rdlength = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if pos + rdlength > len(data):
            raise DnsError("truncated record data")
        if rtype == 1 and rclass == 1 and rdlength == 4:
            addresses.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlength
    return sorted(set(addresses), key=lambda a: tuple(int(x) for x in a.split(".")))


def nameservers(resolv_conf_text):
    """The ``nameserver`` addresses of a resolv.conf text, in order."""
    servers = []
    for line in resolv_conf_text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1])
    return servers


def lookup_a(name, server, timeout=2.0, make_socket=None, attempts=3):
    """Ask ``server`` (port 53) for the A records of ``name``.

    ``make_socket()`` returns an unconnected UDP socket (for example one made inside another network
    namespace); by default a plain one.
    """
    make_socket = make_socket or (lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    last = "no attempt made"
    for dummy in range(attempts):
        query_id = random.randint(0, 0xFFFF)
        query = build_query(name, query_id)
        sock = make_socket()
        try:
            sock.settimeout(timeout)
            sock.sendto(query, (server, 53))
            deadline = time.monotonic() + timeout
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                data, _peer = sock.recvfrom(4096)
                try:
                    return parse_answer(data, query_id)
                except DnsError as exc:
                    if "does not match" not in str(exc):
                        raise
                    # A late answer to an earlier attempt: keep waiting for ours.
        except socket.timeout:
            last = "no answer within %.1f s" % timeout
        except OSError as exc:
            last = exc.strerror or str(exc)
        except DnsError as exc:
            raise DnsError("DNS lookup of %s at %s: %s" % (name, server, exc))
        finally:
            sock.close()
    raise DnsError("DNS lookup of %s at %s failed: %s" % (name, server, last))
