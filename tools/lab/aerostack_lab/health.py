"""Reading the inner engines' state: swarm membership and the overlay-deadlock symptom (pure functions).

Debian's Docker 20.10.24 can deadlock its overlay network code after crash-looping tasks; the visible symptom
is a task that stays in state "assigned" (the worker never accepts it). Only recreating the nodes clears it, so
the lab reports it instead of letting a test wait forever.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

STUCK_AFTER = 30.0  # seconds in "assigned"; a healthy worker accepts a task within a second or two
DEADLOCK_FIX = "recreate the lab hosts: scripts/lab down --name {name} && scripts/lab up --name {name}"

WANTED = ("running", "ready")  # desired states of a task the orchestrator still wants started
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_timestamp(text: str) -> datetime:
    """An engine timestamp (RFC 3339 with up to nanoseconds) as an aware datetime; ValueError if malformed."""
    match = _TIMESTAMP.match(text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    seconds, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{seconds}.{micro}{zone}").astimezone(timezone.utc)


@dataclass(frozen=True)
class SwarmState:
    """One engine's view of its swarm membership."""

    state: str  # inactive | pending | active | error | locked
    role: str  # manager | worker | "" when not a member
    node_id: str = ""
    cluster_id: str = ""
    error: str = ""

    def describe(self) -> str:
        if self.state != "active":
            return self.state + (f" ({self.error})" if self.error else "")
        return f"active/{self.role}"


def parse_swarm_info(text: str) -> SwarmState:
    """``docker info --format '{{json .Swarm}}'`` output as a SwarmState."""
    info = json.loads(text)
    state = info.get("LocalNodeState") or "inactive"
    role = ""
    if state == "active":
        role = "manager" if info.get("ControlAvailable") else "worker"
    cluster = (info.get("Cluster") or {}).get("ID", "")
    return SwarmState(
        state=state, role=role, node_id=info.get("NodeID", ""), cluster_id=cluster, error=info.get("Error", "")
    )


@dataclass(frozen=True)
class StuckTask:
    task_id: str
    service: str
    node: str
    since: datetime
    seconds: float

    def describe(self) -> str:
        return (
            f"task {self.task_id[:12]} of service {self.service} has been 'assigned' to node {self.node or '?'} "
            f"for {self.seconds:.0f} s without starting: the symptom of the engine's known overlay deadlock "
            "(or of a node that stopped answering)"
        )


def _name(ident: str, names: dict[str, str]) -> str:
    """The name for an ID, from a map whose keys may be truncated IDs (as `docker service ls` prints them)."""
    for key, name in names.items():
        if key and ident.startswith(key):
            return name
    return ident[:12]


def stuck_tasks(
    tasks: list[dict],
    now: datetime,
    services: dict[str, str] | None = None,
    nodes: dict[str, str] | None = None,
    threshold: float = STUCK_AFTER,
) -> list[StuckTask]:
    """Tasks (``docker inspect`` of swarm tasks) meant to start that sit in 'assigned' longer than ``threshold``.

    ``services`` and ``nodes`` map (possibly truncated) IDs to names, for the message.
    """
    stuck = []
    for task in tasks:
        status = task.get("Status") or {}
        if status.get("State") != "assigned" or task.get("DesiredState") not in WANTED:
            continue
        since = parse_timestamp(status.get("Timestamp", ""))
        seconds = (now - since).total_seconds()
        if seconds >= threshold:
            stuck.append(
                StuckTask(
                    task_id=task.get("ID", ""),
                    service=_name(task.get("ServiceID", ""), services or {}),
                    node=_name(task.get("NodeID", ""), nodes or {}) if task.get("NodeID") else "",
                    since=since,
                    seconds=seconds,
                )
            )
    return stuck
