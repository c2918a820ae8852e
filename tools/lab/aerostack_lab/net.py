"""Lab addressing: which subnet a lab uses and which address each host gets (pure functions).

The lab lives in 198.18.0.0/15, the block RFC 2544 sets aside for network benchmarks: no LAN, VPN or Docker
default address pool uses it, and it stays clear of 10.0.0.0/8, where swarm carves its overlay networks inside
the hosts. The default lab gets 198.18.0.0/24; any other lab name gets a /24 derived from the name (so it is
stable between runs), moved to the next free /24 when that one is taken.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Iterable

from .errors import LabError

LAB_BLOCK = ipaddress.ip_network("198.18.0.0/15")
DEFAULT_SUBNET = ipaddress.ip_network("198.18.0.0/24")
FIRST_HOST_OFFSET = 11  # lab1 = .11, lab2 = .12 ...: .1 is the bridge gateway, the rest is left for ad-hoc use
MAX_HOSTS = 64


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    """A subnet given by a person, checked; LabError says what is wrong with it."""
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise LabError(
            f"--subnet {text!r} is not a valid network ({exc})",
            fix="give the network address and prefix length, e.g. --subnet 198.18.7.0/24",
        ) from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise LabError(
            f"--subnet {text} is IPv6; the lab bridge is IPv4", fix="give an IPv4 subnet, e.g. --subnet 198.18.7.0/24"
        )
    if network.prefixlen > 26:
        raise LabError(f"--subnet {text} is too small (/{network.prefixlen})", fix="use a /26 or larger, e.g. a /24")
    if network.overlaps(ipaddress.ip_network("10.0.0.0/8")):
        raise LabError(
            f"--subnet {text} overlaps 10.0.0.0/8, where swarm allocates overlay networks inside the hosts",
            fix="pick a subnet outside 10.0.0.0/8, e.g. in 198.18.0.0/15",
        )
    return network


def host_address(subnet: ipaddress.IPv4Network, index: int) -> str:
    """The fixed address of host ``index`` (1-based) on the lab bridge."""
    address = subnet.network_address + FIRST_HOST_OFFSET + index - 1
    if address >= subnet.broadcast_address:
        raise LabError(
            f"host {index} does not fit in {subnet} (hosts start at .{FIRST_HOST_OFFSET})",
            fix="use fewer hosts or a larger --subnet",
        )
    return str(address)


def gateway(subnet: ipaddress.IPv4Network) -> str:
    return str(subnet.network_address + 1)


def check_hosts(count: int, subnet: ipaddress.IPv4Network) -> None:
    """LabError when ``count`` hosts cannot be placed (1..MAX_HOSTS, and inside the subnet)."""
    if not 1 <= count <= MAX_HOSTS:
        raise LabError(f"--hosts {count} is out of range", fix=f"choose between 1 and {MAX_HOSTS} hosts")
    host_address(subnet, count)


def candidate_subnets(name: str, default_name: str) -> Iterable[ipaddress.IPv4Network]:
    """The /24s a lab named ``name`` may use, in order of preference.

    The default lab prefers DEFAULT_SUBNET; other names start at a /24 chosen from a hash of the name and never
    take DEFAULT_SUBNET, so the default lab can always come up next to them.
    """
    blocks = list(LAB_BLOCK.subnets(new_prefix=24))
    if name == default_name:
        start = 0
    else:
        start = 1 + int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % (len(blocks) - 1)
    for offset in range(len(blocks)):
        block = blocks[(start + offset) % len(blocks)]
        if block == DEFAULT_SUBNET and name != default_name:
            continue
        yield block


def choose_subnet(name: str, default_name: str, taken: Iterable[str]) -> ipaddress.IPv4Network:
    """The first candidate subnet that overlaps none of ``taken`` (the subnets of existing networks)."""
    used = []
    for text in taken:
        try:
            used.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
    for candidate in candidate_subnets(name, default_name):
        if not any(candidate.overlaps(other) for other in used if other.version == 4):
            return candidate
    raise LabError(
        f"every /24 in {LAB_BLOCK} is taken by another Docker network",
        fix="remove unused networks (`docker network prune`) or pass --subnet",
    )
