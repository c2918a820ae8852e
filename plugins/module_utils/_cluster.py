# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-node Aerospike facts and the cluster verdict, as pure functions over info answers.

``node_commands`` says what to ask a node in ONE request; ``node_facts`` turns the answers into
facts; ``summarize`` decides whether the nodes form one stable cluster and, when they do not, says
which node disagrees and how. ``poll``/``wait_stable`` run those against live clients concurrently.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import (
    InfoError,
    format_address,
    is_error,
    parse_address,
    parse_kv,
    parse_list,
    parse_mesh_seeds,
    parse_peers,
)

BASE_COMMANDS = (
    "node",
    "build",
    "version",
    "edition",
    "cluster-name",
    "statistics",
    "namespaces",
    "services",
    "peers-clear-std",
    "get-config:context=network",
)

_INT_STATS = ("cluster_size", "cluster_generation", "migrate_partitions_remaining", "uptime", "objects",
              "client_connections")
_BOOL_STATS = ("cluster_integrity", "cluster_is_member", "migrate_allowed")
_NS_INTS = ("objects", "unavailable_partitions", "dead_partitions", "ns_cluster_size",
            "effective_replication_factor", "replication-factor")


def stable_command(size, ignore_migrations=False):
    return "cluster-stable:size=%d;ignore-migrations=%s" % (size, "true" if ignore_migrations else "false")


def node_commands(namespaces=None, expected_size=None, migrations_done=True, extra=()):
    """The commands for one request that yields every default fact of a node."""
    commands = list(BASE_COMMANDS)
    for ns in namespaces or ():
        commands.append("namespace/%s" % ns)
    if expected_size:
        commands.append(stable_command(expected_size, ignore_migrations=not migrations_done))
    for command in extra:
        if command not in commands:
            commands.append(command)
    return commands


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _to_bool(value):
    if value is None:
        return None
    return str(value).lower() == "true"


def _namespace_facts(value):
    stats = parse_kv(value)
    if stats.get("type") == "unknown":
        return None
    facts = {}
    for key in _NS_INTS:
        facts[key.replace("-", "_")] = _to_int(stats.get(key))
    facts["storage_engine"] = stats.get("storage-engine")
    facts["stop_writes"] = _to_bool(stats.get("stop_writes"))
    return facts


def node_facts(address, answers, namespaces=None, expected_size=None, migrations_done=True, extra=(),
               own_namespaces=False):
    """Facts of one node from the answers to ``node_commands(...)`` (raw values, errors included).

    A namespace of ``namespaces`` the node lacks is a missing namespace, unless ``own_namespaces``: then
    only the namespaces the node reports itself (and that were asked for) are checked -- a rolling
    namespace change, where nodes on the old and the new configuration differ.
    """
    def value(command):
        raw = answers.get(command)
        return None if raw is None or is_error(raw) else raw

    stats = parse_kv(value("statistics") or "")
    facts = {
        "address": address,
        "reachable": True,
        "error": None,
        "node_id": value("node"),
        "build": value("build"),
        "edition": value("edition"),
        "version": value("version"),
        "simulator": "simulator" in (value("version") or "").lower(),
        "cluster_name": value("cluster-name"),
        "cluster_key": stats.get("cluster_key"),
        "cluster_principal": stats.get("cluster_principal"),
    }
    for key in _INT_STATS:
        facts[key] = _to_int(stats.get(key))
    for key in _BOOL_STATS:
        facts[key] = _to_bool(stats.get(key))
    # An answer that is not understood is this node's error; the node did answer, so it stays reachable.
    problems = []
    try:
        seeds = parse_mesh_seeds(value("get-config:context=network") or "")
    except InfoError as exc:
        seeds = []
        problems.append("get-config:context=network answer not understood: %s" % exc)
    facts["mesh_seeds"] = [format_address(h, p) for h, p in seeds]
    try:
        facts["services"] = [format_address(*parse_address(s)) for s in parse_list(value("services") or "")]
    except InfoError as exc:
        facts["services"] = []
        problems.append("services answer not understood: %s" % exc)
    try:
        facts["peers"] = parse_peers(value("peers-clear-std") or "0,3000,[]")["peers"]
    except ValueError as exc:
        facts["peers"] = []
        problems.append("peers-clear-std answer not understood: %s" % exc)
    facts["error"] = "; ".join(problems) or None
    facts["namespace_names"] = parse_list(value("namespaces") or "")
    facts["namespaces"] = {}
    facts["missing_namespaces"] = []
    checked = namespaces or facts["namespace_names"]
    if own_namespaces:
        checked = [ns for ns in facts["namespace_names"] if namespaces is None or ns in namespaces]
    for ns in checked:
        raw = answers.get("namespace/%s" % ns)
        ns_facts = _namespace_facts(raw) if raw is not None and not is_error(raw) else None
        if ns_facts is None:
            facts["missing_namespaces"].append(ns)
        else:
            facts["namespaces"][ns] = ns_facts
    facts["cluster_stable"] = None
    facts["cluster_stable_error"] = None
    if expected_size:
        raw = answers.get(stable_command(expected_size, ignore_migrations=not migrations_done))
        if raw is not None:
            if is_error(raw):
                facts["cluster_stable_error"] = raw
            else:
                facts["cluster_stable"] = raw
    facts["commands"] = dict((c, answers[c]) for c in extra if c in answers)
    return facts


def unreachable_facts(address, error):
    return {"address": address, "reachable": False, "error": error}


def summarize(nodes, expected_size=None, migrations_done=True):
    """Is this one stable cluster? Returns a dict with ``stable`` and, when not, ``problems``.

    Stable means: every node answered; all report the same cluster key; the size is
    ``expected_size`` (or, when none is given, the same on every node and at least the number of
    nodes queried); integrity holds and every node is a member; with ``migrations_done``, no
    migrations remain and the server's own ``cluster-stable`` check agrees; no namespace has
    unavailable or dead partitions.
    """
    problems = []
    reachable = [n for n in nodes if n.get("reachable")]
    for n in nodes:
        if not n.get("reachable"):
            problems.append("%s is unreachable: %s" % (n["address"], n.get("error")))
    if not nodes:
        problems.append("no node was queried")
    sizes = sorted(set(n.get("cluster_size") for n in reachable if n.get("cluster_size") is not None))
    target = expected_size
    if target is None and len(sizes) == 1:
        target = sizes[0] if sizes[0] >= len(nodes) else len(nodes)
    for n in reachable:
        where = n["address"]
        if n.get("error"):
            problems.append("%s: %s" % (where, n["error"]))
        if target is not None and n.get("cluster_size") != target:
            problems.append("%s reports cluster_size %s, expected %d" % (where, n.get("cluster_size"), target))
        if n.get("cluster_integrity") is False:
            problems.append("%s reports cluster_integrity false" % where)
        if n.get("cluster_is_member") is False:
            problems.append("%s is not a cluster member (cluster_is_member false)" % where)
        if migrations_done:
            remaining = n.get("migrate_partitions_remaining")
            if remaining:
                problems.append("%s has %d partition migrations remaining" % (where, remaining))
            if n.get("migrate_allowed") is False:
                problems.append("%s does not allow migrations yet (migrate_allowed false)" % where)
        if n.get("cluster_stable_error"):
            problems.append("%s answers cluster-stable with %s" % (where, n["cluster_stable_error"]))
        for ns in n.get("missing_namespaces") or ():
            problems.append("%s has no namespace '%s'" % (where, ns))
        for ns, ns_facts in sorted((n.get("namespaces") or {}).items()):
            for key in ("unavailable_partitions", "dead_partitions"):
                if ns_facts.get(key):
                    problems.append("%s namespace %s has %d %s" % (where, ns, ns_facts[key], key.replace("_", " ")))
    if target is None and len(sizes) > 1:
        problems.append("nodes disagree on the cluster size: " + _grouped(reachable, "cluster_size"))
    keys = _group(reachable, "cluster_key")
    if len(keys) > 1:
        problems.append("nodes disagree on the cluster key: " + _grouped(reachable, "cluster_key"))
    return {
        "stable": not problems,
        "size": sizes[0] if len(sizes) == 1 else None,
        "expected_size": expected_size,
        "cluster_key": next(iter(keys)) if len(keys) == 1 else None,
        "nodes_queried": len(nodes),
        "nodes_reachable": len(reachable),
        "migrations_remaining": sum(n.get("migrate_partitions_remaining") or 0 for n in reachable),
        "problems": problems,
    }


def _group(nodes, field):
    groups = {}
    for n in nodes:
        value = n.get(field)
        groups.setdefault("(none)" if value is None else str(value), []).append(n["address"])
    return groups


def _grouped(nodes, field):
    return "; ".join("%s on %s" % (value, ", ".join(addrs)) for value, addrs in sorted(_group(nodes, field).items()))


def poll(clients, commands, build_facts, executor):
    """Ask every client ``commands`` concurrently; return facts in the order of ``clients``."""
    def one(client):
        try:
            return build_facts(client.node, client.request(*commands))
        except InfoError as exc:
            return unreachable_facts(client.node, exc.cause)
    return list(executor.map(one, clients))


def wait_stable(clients, commands, build_facts, expected_size, migrations_done, timeout, interval,
                clock=time.monotonic, pause=time.sleep):
    """Poll until ``summarize`` says stable or ``timeout`` seconds pass. Returns (nodes, summary, polls)."""
    deadline = clock() + timeout
    polls = 0
    with ThreadPoolExecutor(max_workers=max(1, min(32, len(clients)))) as executor:
        while True:
            nodes = poll(clients, commands, build_facts, executor)
            polls += 1
            summary = summarize(nodes, expected_size, migrations_done)
            if summary["stable"] or clock() >= deadline:
                return nodes, summary, polls
            pause(max(0.0, min(interval, deadline - clock())))
