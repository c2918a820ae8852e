"""Interface addresses and node ids, standard library only (no iproute2 in a minimal image).

``address eth0`` binds to eth0's IPv4 address; ``address any`` binds 0.0.0.0 and PUBLISHES every
non-loopback interface address, like the real server (which is what breaks cluster formation in a
swarm task that has both an overlay and a docker_gwbridge interface).

Tests can replace the machine's interfaces with a map (``--interfaces eth0=127.0.20.1,eth1=...``) so
that interface names and the several-addresses case can be exercised on loopback without root.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from typing import Dict, List, Optional, Tuple

_SIOCGIFADDR = 0x8915


class InterfaceError(Exception):
    """An address in the configuration names no usable interface."""


def system_interfaces() -> Dict[str, str]:
    """``{name: ipv4}`` for every interface that has an IPv4 address, in interface-index order."""
    found: Dict[str, str] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in sorted(socket.if_nameindex()):
            try:
                packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue  # no IPv4 address on this interface
            found[name] = socket.inet_ntoa(packed[20:24])
    return found


def parse_interface_map(text: str) -> Dict[str, str]:
    """``eth0=10.0.0.2,eth1=172.18.0.2`` -> ``{"eth0": "10.0.0.2", ...}`` (the --interfaces test seam)."""
    result: Dict[str, str] = {}
    for item in text.split(","):
        name, sep, addr = item.strip().partition("=")
        if not sep or not name:
            raise InterfaceError("--interfaces item %r is not NAME=IPV4 (e.g. eth0=127.0.20.1)" % item)
        try:
            if ipaddress.ip_address(addr).version != 4:
                raise ValueError(addr)
        except ValueError:
            raise InterfaceError("--interfaces item %r: %r is not an IPv4 address" % (item, addr)) from None
        result[name] = addr
    return result


def interface_mtu(name: str) -> Optional[int]:
    try:
        with open("/sys/class/net/%s/mtu" % name, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


class Addresses:
    """Resolves configured addresses (``any``, interface names, IPv4) against a set of interfaces."""

    def __init__(self, interfaces: Optional[Dict[str, str]] = None):
        self.interfaces = dict(system_interfaces() if interfaces is None else interfaces)

    def non_loopback(self) -> List[str]:
        """The addresses of every interface but the loopback one (``lo``), in interface order."""
        return [a for name, a in self.interfaces.items() if name != "lo"]

    def resolve(self, configured: List[str], what: str) -> Tuple[List[str], List[str]]:
        """``(bind addresses, published addresses)`` for a list of configured addresses."""
        binds: List[str] = []
        published: List[str] = []
        for item in configured:
            if item == "any":
                binds.append("0.0.0.0")
                published.extend(self.non_loopback() or ["127.0.0.1"])
                continue
            try:
                ipaddress.ip_address(item)
                addr = item
            except ValueError:
                if item not in self.interfaces:
                    raise InterfaceError(
                        "%s address '%s' is not an interface with an IPv4 address here (have: %s): use one of "
                        "them, an IPv4 address or 'any'" % (what, item, ", ".join(sorted(self.interfaces)) or "none")
                    ) from None
                addr = self.interfaces[item]
            binds.append(addr)
            published.append(addr)
        # keep order, drop duplicates
        return list(dict.fromkeys(binds)), list(dict.fromkeys(published))

    def interface_of(self, address: str) -> Optional[str]:
        for name, addr in self.interfaces.items():
            if addr == address:
                return name
        return None


def derive_node_id(address: str, fabric_port: int) -> str:
    """The id a real server running in a Docker container at ``address`` would take.

    The server builds its node id from the fabric port (high 16 bits) and the MAC address of its
    interface, byte-reversed; Docker gives a container the MAC 02:42:<IPv4 bytes>. So 10.0.6.3 with
    fabric port 3001 gives BB90306000A4202, as in the fixtures.
    """
    octets = ipaddress.IPv4Address(address).packed
    mac = bytes([0x02, 0x42]) + octets
    value = (fabric_port << 48) | int.from_bytes(mac[::-1], "big")
    return "%X" % value
