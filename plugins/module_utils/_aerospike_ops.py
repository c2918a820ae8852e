# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the aerospike role over what Docker reports: tasks, deploy actions, scaling, the status table.

Pure functions over the JSON of ``docker service inspect`` / ``docker inspect --type task`` and over
``aerostack.swarm.aerospike_info`` results, so each decision is unit-tested with recorded data.
"""

from __future__ import annotations

import json

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_stack import SPEC_LABEL, STACK_LABEL


class OpsError(Exception):
    """Input that cannot be judged; the message says what was expected."""


def _labels(obj, *path):
    for key in path:
        obj = (obj or {}).get(key)
    return obj or {}


def summarize_tasks(tasks, network, spec_hash=None, service_id=None):
    """The tasks of a service, as seen by ``docker inspect --type task`` (history included).

    Returns ``{"desired": n, "running": n, "current": n, "outdated": n, "tasks": [...], "addresses":
    [...], "node_ids": [...], "problems": [...]}``. Counts are over the tasks swarm wants running; a task
    is current when its container label ``aerostack.spec-hash`` equals ``spec_hash``; ``addresses`` are
    the overlay addresses of the running tasks in slot order. ``problems`` quotes swarm's own words for
    each slot whose task does not run: the task's own message, or the error of the slot's latest failed
    task (for example ``error setting rlimit type 7: operation not permitted``).
    """
    if not isinstance(tasks, list):
        raise OpsError("expected the JSON list printed by docker inspect --type task, got %s" % type(tasks).__name__)
    rows = []
    failures = {}
    for task in tasks:
        if service_id is not None and task.get("ServiceID") != service_id:
            continue
        status = task.get("Status") or {}
        state = status.get("State")
        if task.get("DesiredState") != "running":
            if state in ("failed", "rejected") and status.get("Err"):
                latest = failures.get(task.get("Slot"))
                if latest is None or (status.get("Timestamp") or "") > latest[0]:
                    failures[task.get("Slot")] = (status.get("Timestamp") or "", state, status.get("Err"))
            continue
        address = None
        for attachment in task.get("NetworksAttachments") or ():
            if _labels(attachment, "Network", "Spec").get("Name") == network and attachment.get("Addresses"):
                address = attachment["Addresses"][0].split("/")[0]
        label = _labels(task, "Spec", "ContainerSpec", "Labels").get(SPEC_LABEL)
        rows.append({
            "id": task.get("ID", "")[:12],
            "slot": task.get("Slot"),
            "node_id": task.get("NodeID") or None,
            "state": state,
            "message": status.get("Err") or status.get("Message") or "",
            "address": address,
            "spec_hash": label,
            "current": spec_hash is None or label == spec_hash,
        })
    rows.sort(key=lambda r: (r["slot"] or 0, r["id"]))
    running = [r for r in rows if r["state"] == "running"]
    problems = []
    for row in rows:
        if row["state"] == "running":
            continue
        text = "slot %s: task %s is %s" % (row["slot"], row["id"], row["state"])
        if row["message"] and row["message"] != row["state"]:
            text += " (%s)" % row["message"]
        failure = failures.get(row["slot"])
        if failure:
            text += "; its last attempt %s: %s" % (failure[1], failure[2])
        problems.append(text)
    return {
        "desired": len(rows),
        "running": len(running),
        "current": len([r for r in running if r["current"]]),
        "outdated": len([r for r in rows if not r["current"]]),
        "tasks": rows,
        "addresses": [r["address"] for r in running if r["address"]],
        "node_ids": sorted(set(r["node_id"] for r in running if r["node_id"])),
        "problems": problems,
    }


def label_plan(nodes, wanted, managed, label):
    """Which swarm nodes to label, unlabel, and which will be able to run an Aerospike task.

    ``nodes``: ``docker node inspect`` JSON. ``wanted``: node IDs of the ``aerospike_nodes`` hosts;
    ``managed``: node IDs of every inventory host of the play (a node outside the inventory is never
    touched). Returns ``{"add", "remove", "eligible", "not_ready"}``: lists of node IDs, and for
    ``not_ready`` ``"<hostname> (<state>/<availability>)"`` of wanted nodes swarm cannot place tasks on.
    """
    if not isinstance(nodes, list):
        raise OpsError("expected the JSON list printed by docker node inspect, got %s" % type(nodes).__name__)
    wanted, managed = set(wanted), set(managed)
    known = set(n.get("ID") for n in nodes)
    missing = sorted(wanted - known)
    if missing:
        raise OpsError("swarm node(s) %s of the %s hosts are not in the swarm's node list: join them first"
                       % (", ".join(missing), "aerospike_nodes"))
    plan = {"add": [], "remove": [], "eligible": [], "not_ready": []}
    for node in sorted(nodes, key=lambda n: (_labels(n, "Description").get("Hostname") or "", n.get("ID"))):
        node_id = node.get("ID")
        spec = node.get("Spec") or {}
        has = (spec.get("Labels") or {}).get(label) == "true"
        ready = _labels(node, "Status").get("State") == "ready" and spec.get("Availability") == "active"
        if node_id in wanted:
            if not has:
                plan["add"].append(node_id)
            if ready:
                plan["eligible"].append(node_id)
            else:
                plan["not_ready"].append("%s (%s/%s)" % (_labels(node, "Description").get("Hostname") or node_id,
                                                         _labels(node, "Status").get("State"),
                                                         spec.get("Availability")))
        elif node_id in managed:
            if has:
                plan["remove"].append(node_id)
        elif has and ready:
            plan["eligible"].append(node_id)
    return plan


def service_state(services, name):
    """``{"exists", "replicas", "spec_hash", "stack_hash", "update_state"}`` of one service in ``docker service inspect`` output."""
    for service in services or ():
        spec = service.get("Spec") or {}
        if spec.get("Name") != name:
            continue
        replicated = _labels(spec, "Mode").get("Replicated")
        return {
            "exists": True,
            "id": service.get("ID", "")[:12],
            "full_id": service.get("ID"),
            "replicas": (replicated or {}).get("Replicas"),
            "spec_hash": _labels(spec, "TaskTemplate", "ContainerSpec", "Labels").get(SPEC_LABEL),
            "stack_hash": (spec.get("Labels") or {}).get(STACK_LABEL),
            "image": _labels(spec, "TaskTemplate", "ContainerSpec").get("Image"),
            "update_state": (service.get("UpdateStatus") or {}).get("State"),
            "update_delay_ns": _labels(spec, "UpdateConfig").get("Delay"),
        }
    return {"exists": False, "id": None, "full_id": None, "replicas": None, "spec_hash": None, "stack_hash": None, "image": None,
            "update_state": None, "update_delay_ns": None}


def stack_state(probe, services, network, spec_hashes):
    """Services and tasks of the stack from the role's state probe.

    ``probe``: the registered result of the probe command (``rc``, ``stdout`` = ``{"services": [...],
    "tasks": [...]}``) or that JSON already decoded. ``services``: ``{"aerospike": name, "discovery":
    name}``; ``spec_hashes``: the desired spec hash of each. Returns ``{"aerospike": service_state,
    "discovery": service_state, "tasks": summary, "discovery_tasks": summary, "probe_error": None or
    why the probe could not be read}`` -- never raises for a failed probe, so it can be polled.
    """
    raw, error = probe, None
    if isinstance(probe, dict) and "rc" in probe:
        raw = None
        if probe.get("rc") != 0:
            lines = (probe.get("stderr") or "").strip().splitlines()
            error = "the state probe failed (rc %s): %s" % (probe.get("rc"), lines[-1] if lines else "no message")
        else:
            try:
                raw = json.loads(probe.get("stdout") or "")
            except ValueError as exc:
                error = "the state probe printed no JSON (%s)" % exc
    if error is None and (not isinstance(raw, dict) or not isinstance(raw.get("services"), list)
                          or not isinstance(raw.get("tasks"), list)):
        error = "the state probe's output has no 'services' and 'tasks' lists"
    if error is not None:
        raw = {"services": [], "tasks": []}
    result = {"probe_error": error}
    for label in ("aerospike", "discovery"):
        result[label] = service_state(raw["services"], services[label])
    result["tasks"] = _tasks_of(raw, result["aerospike"], network, spec_hashes.get("aerospike"))
    result["discovery_tasks"] = _tasks_of(raw, result["discovery"], network, spec_hashes.get("discovery"))
    return result


def _tasks_of(raw, service, network, spec_hash):
    if not service["exists"]:
        return summarize_tasks([], network, spec_hash)
    full_id = service["full_id"]
    return summarize_tasks(raw["tasks"], network, spec_hash, service_id=full_id)


def converged(state, replicas):
    """Whether the stack runs as desired: ``{"done": bool, "waiting_for": [...]}`` (what is still missing)."""
    waiting = []
    tasks = state["tasks"]
    if state.get("probe_error"):
        return {"done": False, "waiting_for": [state["probe_error"]]}
    if not state["aerospike"]["exists"]:
        waiting.append("the Aerospike service does not exist")
    else:
        if tasks["running"] != replicas or tasks["desired"] != replicas:
            waiting.append("%d of %d Aerospike tasks running (%d scheduled)"
                           % (tasks["running"], replicas, tasks["desired"]))
        if tasks["current"] != tasks["running"] or tasks["outdated"]:
            stale = max(tasks["outdated"], tasks["running"] - tasks["current"])
            waiting.append("%d Aerospike task(s) still run an older spec" % stale)
        if tasks["running"] and len(tasks["addresses"]) != tasks["running"]:
            waiting.append("running Aerospike tasks without an address on the stack network")
    discovery = state["discovery_tasks"]
    if not state["discovery"]["exists"]:
        waiting.append("the discovery service does not exist")
    elif discovery["running"] != 1 or discovery["current"] != 1 or discovery["desired"] != 1:
        waiting.append("the discovery task is not running the current spec (%d running, %d current)"
                       % (discovery["running"], discovery["current"]))
    for problem in tasks["problems"] + discovery["problems"]:
        waiting.append(problem)
    return {"done": not waiting, "waiting_for": waiting}


def rollout_progress(tasks, replicas, outdated_at_most):
    """Whether a rolling-update step is done: at most ``outdated_at_most`` tasks still on the old spec and
    ``replicas`` tasks running, each with an address on the stack network."""
    if tasks is None:
        return False
    return (tasks["outdated"] <= outdated_at_most and tasks["running"] == replicas and tasks["desired"] == replicas
            and len(tasks["addresses"]) == replicas)


def deploy_action(desired, aerospike, discovery, tasks, allow_scale_down=False):
    """What the deploy has to do: ``{"action": none|create|update|rollout, "reasons": [...]}``.

    ``desired``: the ``build_stack`` result plus ``replicas``. ``aerospike`` / ``discovery``: from
    ``service_state``; ``tasks``: ``summarize_tasks`` of the Aerospike service against the desired spec
    hash. A running cluster whose tasks run another spec needs a ``rollout`` (one task at a time, the
    cluster verified between tasks). Raises OpsError when the replica count would drop and
    ``allow_scale_down`` is false: removing nodes is the scale playbook's job, one node at a time.
    """
    replicas = desired["replicas"]
    reasons = []
    if not aerospike["exists"]:
        return {"action": "create", "reasons": ["service %s does not exist yet" % desired["services"]["aerospike"]]}
    current = aerospike["replicas"]
    if current is not None and replicas < current and not allow_scale_down:
        raise OpsError(
            "aerospike_replicas is %d but %s runs %d replicas: the role never removes nodes as a side effect. "
            "Scale down with playbooks/scale.yml -e aerospike_replicas=%d (one node at a time, verified), then set "
            "aerospike_replicas: %d in the inventory"
            % (replicas, desired["services"]["aerospike"], current, replicas, replicas)
        )
    if aerospike["spec_hash"] != desired["aerospike_spec_hash"]:
        reasons.append("the Aerospike task spec changed (%s -> %s)" % (aerospike["spec_hash"],
                                                                       desired["aerospike_spec_hash"]))
    if tasks["outdated"]:
        reasons.append("%d Aerospike task(s) run an older spec" % tasks["outdated"])
    if reasons and tasks["running"] > 0:
        if current != replicas:
            reasons.append("replicas %s -> %d" % (current, replicas))
        return {"action": "rollout", "reasons": reasons}
    if current != replicas:
        reasons.append("replicas %s -> %d" % (current, replicas))
    if aerospike["stack_hash"] != desired["stack_hash"]:
        reasons.append("the stack file changed")
    if not discovery["exists"]:
        reasons.append("service %s does not exist" % desired["services"]["discovery"])
    elif discovery["spec_hash"] != desired["discovery_spec_hash"] or discovery["stack_hash"] != desired["stack_hash"]:
        reasons.append("the discovery service changed")
    return {"action": "update" if reasons else "none", "reasons": reasons}


def scale_steps(current, target, min_replicas=1):
    """The replica counts to pass through: up in one step, down one node at a time.

    ``min_replicas`` is the largest replication factor: a smaller cluster cannot hold every copy.
    """
    for label, value in (("current", current), ("target", target)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OpsError("the %s replica count %r is not a whole number" % (label, value))
    if target < 1:
        raise OpsError("aerospike_replicas %d: a cluster needs at least 1 node (use playbooks/teardown.yml to remove "
                       "it)" % target)
    if target < current and target < min_replicas:
        raise OpsError(
            "refusing to scale down to %d nodes: the largest replication_factor is %d, so a %d-node cluster cannot "
            "keep every copy; lower replication_factor first or choose at least %d" % (target, min_replicas, target,
                                                                                       min_replicas)
        )
    if target >= current:
        return [target] if target != current else []
    return list(range(current - 1, target - 1, -1))


def departed(before, after):
    """Addresses in ``before`` and not in ``after``, in their original order."""
    gone = set(before) - set(after)
    return [a for a in before if a in gone]


def _answer(node, command):
    return ((node.get("commands") or {}).get(command))


def is_simulator(node):
    """A simulator answers the ``simulator`` info command; a real server answers ``ERROR:4:unrecognized command``."""
    value = _answer(node, "simulator")
    if value is None:
        return bool(node.get("simulator"))
    text = value.strip().lower()
    return bool(text) and not (text.startswith("error") or text.startswith("fail"))


def status_rows(nodes, tasks=None):
    """One row per node for people and for JSON, joined with the swarm task (slot, node) by address."""
    by_address = {}
    for task in (tasks or {}).get("tasks", ()):
        if task.get("address"):
            by_address[task["address"]] = task
    rows = []
    for node in nodes:
        address = node.get("address", "")
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
        task = by_address.get(host, {})
        namespaces = node.get("namespaces") or {}
        rows.append({
            "address": address,
            "slot": task.get("slot"),
            "swarm_node": task.get("node_id"),
            "reachable": bool(node.get("reachable")),
            "error": node.get("error"),
            "node_id": node.get("node_id"),
            "build": node.get("build"),
            "simulator": is_simulator(node) if node.get("reachable") else None,
            "cluster_size": node.get("cluster_size"),
            "cluster_key": node.get("cluster_key"),
            "cluster_integrity": node.get("cluster_integrity"),
            "migrations_remaining": node.get("migrate_partitions_remaining"),
            "objects": dict((ns, (facts or {}).get("objects")) for ns, facts in sorted(namespaces.items())),
            "mesh_seeds": node.get("mesh_seeds") or [],
        })
    rows.sort(key=lambda r: (r["slot"] is None, r["slot"] or 0, r["address"]))
    return rows


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def status_table(rows, cluster=None):
    """A fixed-width table a person reads at a glance, plus a verdict line. Returns a list of lines."""
    header = ["SLOT", "NODE", "ADDRESS", "BUILD", "SIZE", "KEY", "INTEGRITY", "MIGRATIONS", "OBJECTS"]
    table = [header]
    for row in rows:
        if not row["reachable"]:
            table.append([_cell(row["slot"]), "-", row["address"], "UNREACHABLE", "-", "-", "-", "-",
                          row.get("error") or ""])
            continue
        build = _cell(row["build"]) + (" (simulator)" if row["simulator"] else "")
        objects = " ".join("%s=%s" % (ns, _cell(count)) for ns, count in row["objects"].items()) or "-"
        table.append([_cell(row["slot"]), _cell(row["node_id"]), row["address"], build, _cell(row["cluster_size"]),
                      _cell(row["cluster_key"]), _cell(row["cluster_integrity"]),
                      _cell(row["migrations_remaining"]), objects])
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    lines = []
    for r in table:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])) + "  " + r[-1])
    if cluster is not None:
        if cluster.get("stable"):
            lines.append("cluster: STABLE, %s node(s), key %s, %s migration(s) remaining"
                         % (cluster.get("size"), cluster.get("cluster_key"), cluster.get("migrations_remaining")))
        else:
            lines.append("cluster: NOT STABLE: " + "; ".join(cluster.get("problems") or ["unknown"]))
    if any(row.get("simulator") for row in rows):
        lines.append("(simulator) marks nodes that are the aerostack test simulator, not an Aerospike server")
    return lines
