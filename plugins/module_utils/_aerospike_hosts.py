# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the aerospike role learns from its one read of every host, judged in one place.

The role reads each host once (``docker info`` as JSON on the first line; on a swarm manager the answer of
``docker node ls`` on a ``LEADER_PREFIX`` line; on Aerospike hosts, when asked, the engine's open-files limit and
capabilities) and hands every answer to ``host_reads``, which runs once on the controller: the swarm state of each
host, the manager to work through, whether its swarm has a leader, and every problem of every host, each worded
with its fix. One task judging every host replaces a task per check per host.
"""

from __future__ import annotations

import json

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_conf import engine_nofile_problem

#: The line a manager's read adds: ``<prefix> 0`` when ``docker node ls`` answered, else ``<prefix> <rc> <stderr>``.
LEADER_PREFIX = "aerostack-leader-probe:"


def _first_json(lines):
    try:
        value = json.loads(lines[0]) if lines else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _leader(lines):
    """``{"rc", "stderr"}`` of the manager's ``docker node ls``, or None when the read has no such line."""
    for line in lines[1:]:
        if line.startswith(LEADER_PREFIX):
            words = line[len(LEADER_PREFIX):].strip().split(None, 1)
            rc = int(words[0]) if words and words[0].lstrip("-").isdigit() else 1
            return {"rc": rc, "stderr": words[1].strip() if len(words) > 1 else ""}
    return None


def host_reads(reads, aerospike_hosts, group="aerospike_nodes", nofile=None):
    """Judge the registered reads of every host (``{host: result}`` in play order).

    Returns ``{"swarm": {host: the Swarm section}, "hostname": {host: engine host name}, "node_ids": {host: ID},
    "manager": the first reachable active manager whose ``docker node ls`` answered, else the first reachable active
    manager ("" if none), "leader": {"rc", "stderr"} of that manager's ``docker node ls``,
    "unreachable": [host], "no_docker": [message], "not_in_swarm": [message], "nofile": [message]}``. ``nofile``
    (None: not judged) is checked against the engine limits of the hosts in ``aerospike_hosts``, the members of the
    inventory group ``group``.

    A manager that has just rejoined, or is cut off from the others, answers "no leader" while the majority has one:
    the swarm has lost its quorum only when no manager of the play can list the nodes."""
    members = set(aerospike_hosts or ())
    out = {"swarm": {}, "hostname": {}, "node_ids": {}, "manager": "", "leader": {"rc": 0, "stderr": ""},
           "unreachable": [], "no_docker": [], "not_in_swarm": [], "nofile": []}
    for host, read in (reads or {}).items():
        read = read or {}
        if read.get("unreachable"):
            out["unreachable"].append(host)
            out["swarm"][host], out["hostname"][host], out["node_ids"][host] = (
                {"LocalNodeState": "unreachable", "NodeID": ""}, host, "")
            continue
        lines = [str(line) for line in read.get("stdout_lines") or ()]
        info = _first_json(lines) if read.get("rc") == 0 else None
        if info is None:
            out["no_docker"].append(
                "Docker does not answer on %s (docker info: rc %s: %s). Install and start it with playbooks/swarm.yml "
                "(roles docker and swarm) first." % (host, read.get("rc"), str(read.get("stderr") or "").strip()))
            info = {}
        swarm = info.get("Swarm") or {}
        out["swarm"][host], out["hostname"][host] = swarm, info.get("Name") or host
        out["node_ids"][host] = swarm.get("NodeID", "")
        active = swarm.get("LocalNodeState") == "active"
        if active and swarm.get("ControlAvailable"):
            leader = _leader(lines) or {"rc": 1, "stderr": "no answer from docker node ls on %s" % host}
            if not out["manager"] or (out["leader"]["rc"] != 0 and leader["rc"] == 0):
                out["manager"], out["leader"] = host, leader
        if host not in members or not info:
            continue
        if not active:
            out["not_in_swarm"].append(
                "%s is in group %s but is not an active swarm member (its swarm state: %s). Join it with "
                "playbooks/swarm.yml, or remove it from %s." % (host, group, swarm.get("LocalNodeState") or "unknown", group))
        if nofile is not None:
            problem = engine_nofile_problem([line for line in lines[1:] if not line.startswith(LEADER_PREFIX)],
                                            int(nofile), host)
            if problem:
                out["nofile"].append(problem)
    return out
