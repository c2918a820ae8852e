"""Cluster membership decisions and migration accounting: pure functions, no sockets, no clocks.

The model (a simplification of the real clustering/exchange/migration layers, tuned to the real
8.1.2.0 timings in the fixtures and the facts file):

- Nodes hear each other over the mesh. A node is JOINABLE only if its heartbeat publishes exactly one
  address; a node that publishes several (``address any`` in a swarm task with an overlay and a
  docker_gwbridge interface) is heard but every join with it fails, as on the real server.
- The principal is the highest node id among the joinable nodes a node hears. It proposes the
  largest clique of joinable nodes that hear each other once that set has been unchanged for a
  settle time; the members adopt the proposal from the next heartbeat.
- A new cluster gets a random 12-hex key and generation max(members' generations) + 1.
- Migrations: partitions to move are counted from what each member held before (see
  ``migration_load``); nodes that were all still orphans (never formed a cluster) move nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

PARTITIONS = 4096


def node_int(node_id: str) -> int:
    return int(node_id, 16)


def sort_nodes(nodes: Iterable[str]) -> List[str]:
    """Highest node id first: the order the real server lists peers and services in."""
    return sorted(nodes, key=node_int, reverse=True)


def new_cluster_key(avoid: Iterable[str] = ()) -> str:
    """A random key of exactly 12 hex digits, like the fixtures' 26A14B640BE9."""
    avoid = set(avoid)
    while True:
        key = "%X" % (0x100000000000 + secrets.randbelow(0xF00000000000))
        if key not in avoid:
            return key


@dataclass(frozen=True)
class ClusterInfo:
    key: str
    generation: int
    principal: str
    members: Tuple[str, ...]
    # Each member's cluster key before this cluster formed ("" = it was an orphan).
    prior: Dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_wire(self) -> Dict:
        return {"key": self.key, "gen": self.generation, "principal": self.principal,
                "members": list(self.members), "prior": dict(self.prior)}

    @classmethod
    def from_wire(cls, data: Dict) -> "ClusterInfo":
        members = data["members"]
        prior = data.get("prior", {})
        if not (isinstance(data["key"], str) and isinstance(data["gen"], int)
                and isinstance(data["principal"], str) and isinstance(members, list)
                and all(isinstance(m, str) for m in members) and isinstance(prior, dict)):
            raise ValueError("malformed cluster description")
        return cls(data["key"], data["gen"], data["principal"], tuple(members),
                   {str(k): str(v) for k, v in prior.items()})


@dataclass
class PeerState:
    """What a node knows about a peer from its last heartbeat."""

    node_id: str
    addrs: List[str]
    service: List[str]
    hears: Dict[str, List[str]]
    cluster: Optional[ClusterInfo]
    last_heard: float

    @property
    def joinable(self) -> bool:
        return len(self.addrs) == 1

    @property
    def cluster_key(self) -> str:
        return self.cluster.key if self.cluster else ""


def principal_of(self_id: str, joinable_peers: Iterable[str]) -> str:
    return max([self_id, *joinable_peers], key=node_int)


def candidates(self_id: str, peers: Dict[str, PeerState]) -> FrozenSet[str]:
    """The largest set of joinable peers that hear this node and each other (a clique), plus itself.

    ``peers`` must hold only live, joinable peers. Greedy: drop the peer that hears the fewest of
    the others until everyone hears everyone.
    """
    chosen: Set[str] = {p for p, state in peers.items() if self_id in state.hears}
    while True:
        missing = {}
        for peer in chosen:
            others = chosen - {peer}
            missing[peer] = len([o for o in others if o not in peers[peer].hears])
        bad = [p for p, count in missing.items() if count]
        if not bad:
            return frozenset(chosen | {self_id})
        worst = max(bad, key=lambda p: (missing[p], -node_int(p)))
        chosen.discard(worst)


def next_generation(own: Optional[ClusterInfo], peers: Iterable[PeerState]) -> int:
    gens = [own.generation if own else 0] + [p.cluster.generation for p in peers if p.cluster]
    return max(gens) + 1


def migration_load(replication_factor: int, self_id: str, previous: Optional[ClusterInfo],
                   new: ClusterInfo) -> Tuple[int, int]:
    """``(tx, rx)`` partitions this node migrates when it moves from ``previous`` to ``new``.

    - An orphan (no previous cluster) only receives, and only if some member had data.
    - Merging with members of another formed cluster: every partition is reconciled: this node sends
      what it held (4096 * rf_old / n_old) and receives its new share (4096 * rf_new / n_new).
      For 1 -> 3 with replication-factor 2 that is 4096 + 2731 = 6827 (the fixture: 6975 remaining,
      tx_initial 4096).
    - Otherwise (nodes left, or empty nodes joined) only the changed fraction moves.
    """
    n_new = len(new.members)
    rf_new = min(replication_factor, n_new)
    others = [m for m in new.members if m != self_id]
    if previous is None:
        if any(new.prior.get(m) for m in others):
            return 0, round(PARTITIONS * rf_new / n_new)
        return 0, 0
    n_old = len(previous.members)
    rf_old = min(replication_factor, n_old)
    joined_formed = [m for m in others if new.prior.get(m) and new.prior[m] != previous.key]
    if joined_formed:
        return round(PARTITIONS * rf_old / n_old), round(PARTITIONS * rf_new / n_new)
    joined_empty = [m for m in others if not new.prior.get(m)]
    departed = [m for m in previous.members if m not in new.members]
    changed = len(joined_empty) + len(departed)
    if not changed:
        return 0, 0
    fraction = changed / max(n_old, n_new)
    return round(PARTITIONS * rf_old / n_old * fraction), round(PARTITIONS * rf_new / n_new * fraction)


@dataclass
class Migration:
    """One namespace's migrations after a cluster change, counted down at a fixed partition rate."""

    tx_initial: int = 0
    rx_initial: int = 0
    started: float = 0.0

    def remaining(self, now: float, rate: float) -> Tuple[int, int]:
        total = self.tx_initial + self.rx_initial
        if not total:
            return 0, 0
        left = max(0.0, total - rate * max(0.0, now - self.started))
        if left <= 0:
            return 0, 0
        tx_left = min(self.tx_initial, round(self.tx_initial * left / total))
        rx_left = min(self.rx_initial, max(0, int(round(left)) - tx_left))
        if tx_left + rx_left == 0:
            rx_left = 1 if self.rx_initial else 0
            tx_left = 0 if self.rx_initial else 1
        return tx_left, rx_left
