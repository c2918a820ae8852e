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


def summarize_tasks(tasks, network, spec_hash=None, service_id=None, hostnames=None):
    """The tasks of a service, as seen by ``docker inspect --type task`` (history included).

    Returns ``{"desired": n, "running": n, "current": n, "outdated": n, "tasks": [...], "addresses":
    [...], "node_ids": [...], "problems": [...]}``. Counts are over the tasks swarm wants running; a task
    is current when its container label ``aerostack.spec-hash`` equals ``spec_hash``; ``addresses`` are
    the overlay addresses of the running tasks in host order (``hostnames``: node ID -> hostname).
    ``problems`` quotes swarm's own words for each host (or slot) whose task does not run: the task's
    own message, or the error of its latest failed task (for example ``error setting rlimit type 7:
    operation not permitted``).
    """
    hostnames = hostnames or {}
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
                where = _where(task)
                latest = failures.get(where)
                if latest is None or (status.get("Timestamp") or "") > latest[0]:
                    failures[where] = (status.get("Timestamp") or "", state, status.get("Err"))
            continue
        address = None
        for attachment in task.get("NetworksAttachments") or ():
            if _labels(attachment, "Network", "Spec").get("Name") == network and attachment.get("Addresses"):
                address = attachment["Addresses"][0].split("/")[0]
        label = _labels(task, "Spec", "ContainerSpec", "Labels").get(SPEC_LABEL)
        rows.append({
            "id": task.get("ID", "")[:12],
            "slot": task.get("Slot") or None,
            "node_id": task.get("NodeID") or None,
            "host": hostnames.get(task.get("NodeID")) or task.get("NodeID") or None,
            "where": _where(task),
            "state": state,
            "message": status.get("Err") or status.get("Message") or "",
            "address": address,
            "spec_hash": label,
            "current": spec_hash is None or label == spec_hash,
        })
    rows.sort(key=lambda r: (r["slot"] or 0, r["host"] or "", r["id"]))
    running = [r for r in rows if r["state"] == "running"]
    problems = []
    for row in rows:
        if row["state"] == "running":
            continue
        place = ("slot %s" % row["slot"]) if row["slot"] else ("on %s" % (row["host"] or "an unassigned node"))
        text = "%s: task %s is %s" % (place, row["id"], row["state"])
        if row["message"] and row["message"] != row["state"]:
            text += " (%s)" % row["message"]
        failure = failures.get(row["where"])
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


def _where(task):
    """What identifies a task's place: its slot (replicated service) or its node (global service)."""
    return ("slot", task.get("Slot")) if task.get("Slot") else ("node", task.get("NodeID"))


def node_summary(nodes, label):
    """The swarm nodes as the role needs them, from ``docker node inspect`` JSON.

    Returns ``[{"id", "hostname", "labelled", "ready", "state", "availability", "role"}]`` sorted by
    hostname. ``labelled``: the node carries ``<label>=true`` and so runs an Aerospike instance;
    ``ready``: swarm can run a task on it now (state ready, availability active).
    """
    if not isinstance(nodes, list):
        raise OpsError("expected the JSON list printed by docker node inspect, got %s" % type(nodes).__name__)
    rows = []
    for node in nodes:
        spec = node.get("Spec") or {}
        state = _labels(node, "Status").get("State")
        rows.append({
            "id": node.get("ID"),
            "hostname": _labels(node, "Description").get("Hostname") or node.get("ID"),
            "labelled": (spec.get("Labels") or {}).get(label) == "true",
            "ready": state == "ready" and spec.get("Availability") == "active",
            "state": state,
            "availability": spec.get("Availability"),
            "role": spec.get("Role"),
        })
    rows.sort(key=lambda n: (n["hostname"], n["id"]))
    return rows


def _describe(node):
    return "%s (%s/%s)" % (node["hostname"], node["state"], node["availability"])


def placement_plan(nodes, candidates, managed, replicas):
    """Which hosts run an Aerospike instance, and how to get from the labelled hosts to ``replicas`` of them.

    Each labelled host runs exactly one instance with its data on it, so the plan never moves an instance:

    * ``members``: the labelled nodes now (placement order: ``candidates`` order, then the others);
    * ``add``: unlabelled ``candidates`` to label, in inventory order, ready ones only, until ``replicas``
      members remain after the removals;
    * ``remove``: members to unlabel one at a time, in this order: inventory hosts no longer in
      ``candidates`` (retired hosts), then members beyond ``replicas`` -- those swarm cannot run first,
      then the last in inventory order;
    * ``target``: the members after the plan; ``expected``: how many of them can run an instance now
      (the cluster size to verify); ``down``: target members that cannot (their data waits on them);
    * ``short``: why ``replicas`` cannot be reached (too few ready candidates), else None.

    ``nodes``: ``node_summary``; ``candidates``: node IDs of the aerospike_nodes hosts in inventory order;
    ``managed``: node IDs of every inventory host of the play (nodes outside the inventory are never
    labelled or unlabelled, but a labelled one counts as a member).
    """
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise OpsError("aerospike_replicas %r must be a whole number of at least 1" % (replicas,))
    by_id = dict((n["id"], n) for n in nodes)
    missing = [c for c in candidates if c not in by_id]
    if missing:
        raise OpsError("swarm node(s) %s of the aerospike_nodes hosts are not in the swarm's node list: join them "
                       "first" % ", ".join(missing))
    order = dict((node_id, i) for i, node_id in enumerate(candidates))
    members = sorted((n["id"] for n in nodes if n["labelled"]),
                     key=lambda i: (i not in order, order.get(i, 0), by_id[i]["hostname"]))
    retired = [i for i in members if i not in order and i in set(managed)]
    keep = [i for i in members if i not in retired]
    excess = len(keep) - replicas
    remove = list(retired)
    if excess > 0:
        # Members swarm cannot run an instance on first, then the last in inventory order.
        down_first = [i for i in reversed(keep) if not by_id[i]["ready"]]
        by_preference = down_first + [i for i in reversed(keep) if by_id[i]["ready"]]
        remove += by_preference[:excess]
    keep = [i for i in keep if i not in remove]
    add, short = [], None
    if len(keep) < replicas:
        free = [c for c in candidates if c not in members]
        ready = [c for c in free if by_id[c]["ready"]]
        add = ready[:replicas - len(keep)]
        if len(keep) + len(add) < replicas:
            not_ready = [_describe(by_id[c]) for c in free if not by_id[c]["ready"]]
            short = ("%d Aerospike instances need as many labelled hosts, but only %d can run one (%d labelled, %d more "
                     "ready in aerospike_nodes)%s. Bring the hosts back, add hosts to aerospike_nodes, or lower "
                     "aerospike_replicas" % (replicas, len(keep) + len(add), len(keep), len(add),
                                             (": not ready: " + ", ".join(not_ready)) if not_ready else ""))
    target = keep + add
    return {
        "members": members,
        "add": add,
        "remove": remove,
        "target": target,
        "expected": len([i for i in target if by_id[i]["ready"]]),
        "down": [_describe(by_id[i]) for i in target if not by_id[i]["ready"]],
        "short": short,
        "hostnames": dict((n["id"], n["hostname"]) for n in nodes),
    }


def service_state(services, name):
    """``{"exists", "replicas", "spec_hash", "stack_hash", "update_state"}`` of one service in ``docker service inspect`` output."""
    for service in services or ():
        spec = service.get("Spec") or {}
        if spec.get("Name") != name:
            continue
        replicated = _labels(spec, "Mode").get("Replicated")
        return {
            "exists": True,
            "mode": "replicated" if replicated is not None else ("global" if "Global" in (spec.get("Mode") or {})
                                                                 else None),
            "id": service.get("ID", "")[:12],
            "full_id": service.get("ID"),
            "replicas": (replicated or {}).get("Replicas"),
            "spec_hash": _labels(spec, "TaskTemplate", "ContainerSpec", "Labels").get(SPEC_LABEL),
            "stack_hash": (spec.get("Labels") or {}).get(STACK_LABEL),
            "image": _labels(spec, "TaskTemplate", "ContainerSpec").get("Image"),
            "volumes": [m.get("Source") for m in _labels(spec, "TaskTemplate", "ContainerSpec").get("Mounts") or ()
                        if m.get("Type") == "volume"],
            "update_state": (service.get("UpdateStatus") or {}).get("State"),
            "update_delay_ns": _labels(spec, "UpdateConfig").get("Delay"),
        }
    return {"exists": False, "mode": None, "id": None, "full_id": None, "replicas": None, "volumes": [], "spec_hash": None, "stack_hash": None, "image": None,
            "update_state": None, "update_delay_ns": None}


def stack_state(probe, services, network, spec_hashes, label=None):
    """Services and tasks of the stack from the role's state probe.

    ``probe``: the registered result of the probe command (``rc``, ``stdout`` = ``{"services": [...],
    "tasks": [...]}``) or that JSON already decoded. ``services``: ``{"aerospike": name, "discovery":
    name}``; ``spec_hashes``: the desired spec hash of each; ``label``: the placement label. Returns
    ``{"aerospike": service_state, "discovery": service_state, "tasks": summary, "discovery_tasks":
    summary, "nodes": node_summary (when the probe read the nodes), "configs": the names of the stack's configs
    (when the probe read them), "probe_error": None or why the probe could not be read}`` -- never raises for a
    failed probe, so it can be polled.
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
    if error is None and not isinstance(raw.get("nodes", []), list):
        error = "the state probe's 'nodes' is not a list"
    if error is not None:
        raw = {"services": [], "tasks": []}
    result = {"probe_error": error}
    for name in ("aerospike", "discovery"):
        result[name] = service_state(raw["services"], services[name])
    result["nodes"] = node_summary(raw.get("nodes") or [], label or "")
    result["configs"] = sorted(str((c.get("Spec") or {}).get("Name") or "") for c in raw.get("configs") or []
                               if isinstance(c, dict) and (c.get("Spec") or {}).get("Name"))
    hostnames = dict((n["id"], n["hostname"]) for n in result["nodes"])
    result["tasks"] = _tasks_of(raw, result["aerospike"], network, spec_hashes.get("aerospike"), hostnames)
    result["discovery_tasks"] = _tasks_of(raw, result["discovery"], network, spec_hashes.get("discovery"), hostnames)
    return result


def _tasks_of(raw, service, network, spec_hash, hostnames):
    if not service["exists"]:
        return summarize_tasks([], network, spec_hash)
    full_id = service["full_id"]
    return summarize_tasks(raw["tasks"], network, spec_hash, service_id=full_id, hostnames=hostnames)


def converged(state, replicas, nodes=None):
    """Whether the stack runs as desired: ``{"done": bool, "waiting_for": [...]}`` (what is still missing).

    ``replicas``: how many instances must run (the placement plan's ``expected``); ``nodes``: the node IDs
    that must each run one (the plan's ready ``target``), when known.
    """
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
        running_on = set(t["node_id"] for t in tasks["tasks"] if t["state"] == "running")
        hostnames = dict((n["id"], n["hostname"]) for n in state.get("nodes") or ())
        for node_id in nodes or ():
            if node_id not in running_on:
                waiting.append("no Aerospike instance running on %s yet" % hostnames.get(node_id, node_id))
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


def deploy_action(desired, aerospike, discovery, tasks):
    """What the deploy has to do: ``{"action": none|create|update|rollout, "reasons": [...]}``.

    ``desired``: the ``build_stack`` result. ``aerospike`` / ``discovery``: from ``service_state``;
    ``tasks``: ``summarize_tasks`` of the Aerospike service against the desired spec hash. A running
    cluster whose tasks run another spec needs a ``rollout`` (one task at a time, the cluster verified
    between tasks). Raises OpsError for a service this version cannot change in place (see
    ``check_service_mode``).
    """
    reasons = []
    if not aerospike["exists"]:
        return {"action": "create", "reasons": ["service %s does not exist yet" % desired["services"]["aerospike"]]}
    check_service_mode(aerospike, desired["services"]["aerospike"])
    if aerospike["spec_hash"] != desired["aerospike_spec_hash"]:
        reasons.append("the Aerospike task spec changed (%s -> %s)" % (aerospike["spec_hash"],
                                                                       desired["aerospike_spec_hash"]))
    if tasks["outdated"]:
        reasons.append("%d Aerospike task(s) run an older spec" % tasks["outdated"])
    if reasons and tasks["running"] > 0:
        return {"action": "rollout", "reasons": reasons}
    if aerospike["stack_hash"] != desired["stack_hash"]:
        reasons.append("the stack file changed")
    if not discovery["exists"]:
        reasons.append("service %s does not exist" % desired["services"]["discovery"])
    elif discovery["spec_hash"] != desired["discovery_spec_hash"] or discovery["stack_hash"] != desired["stack_hash"]:
        reasons.append("the discovery service changed")
    return {"action": "update" if reasons else "none", "reasons": reasons}


def check_service_mode(aerospike, name):
    """Raise OpsError for an Aerospike service this version cannot change in place (see ``service_mode_problem``)."""
    problem = service_mode_problem(aerospike, name)
    if problem:
        raise OpsError(problem)


def service_mode_problem(aerospike, name):
    """Why an existing Aerospike service cannot be taken over (None when it can): a service of aerostack.swarm 0.1
    (replicated, a volume per task slot). A service's mode cannot change in place, and the 0.1 layout lost persistent
    data whenever swarm moved a slot to another host; the message names the documented way over.
    """
    if aerospike.get("exists") and aerospike.get("mode") == "replicated":
        return (
            "%s is a replicated service of aerostack.swarm 0.1 (a data volume per task slot, which swarm moves between "
            "hosts); 0.2 runs one instance per labelled host (a global service) and a service cannot change its mode "
            "in place. Nothing was changed. Move the data over as docs/aerospike.md 'Upgrading from 0.1' describes "
            "(asbackup, teardown, deploy, asrestore)" % name
        )
    return None


def placement_refusal(plan, replicas, service, scaling=False):
    """Why a run must not apply ``plan`` (None when it may).

    Outside ``scale.yml`` the role never removes an instance: fewer hosts is a scale-down, one verified step
    at a time. Any run refuses a size it cannot reach.
    """
    hostnames = plan["hostnames"]
    if plan["remove"] and not scaling:
        names = ", ".join(hostnames.get(i, i) for i in plan["remove"])
        return (
            "aerospike_replicas is %d but %d host(s) run an instance of %s (%s); the role never removes an instance "
            "as a side effect (%s would lose its instance). Scale down with playbooks/scale.yml -e aerospike_replicas=%d "
            "(one host at a time, verified; it also retires hosts taken out of aerospike_nodes), then set "
            "aerospike_replicas: %d in the inventory"
            % (replicas, len(plan["members"]), service, ", ".join(hostnames.get(i, i) for i in plan["members"]), names,
               replicas, replicas)
        )
    return plan["short"]


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


def status_rows(nodes, tasks=None, members=None, volume=None):
    """One row per instance for people and for JSON: each answering node joined with its swarm task (host,
    swarm node) by address, then one row per labelled host that runs no instance (``members``: the
    placement's nodes from ``node_summary``), saying why and where its data waits.

    ``volume``: the name of the local data volume on each host when a namespace is persistent, else None.
    """
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
            "host": task.get("host"),
            "swarm_node": task.get("node_id"),
            "volume": volume if task else None,
            "missing": None,
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
    running_on = set(t.get("node_id") for t in (tasks or {}).get("tasks", ()) if t.get("state") == "running")
    for member in members or ():
        if member["id"] in running_on:
            continue
        why = ("host %s (%s/%s)" % ("down" if member.get("state") != "ready" else "not taking tasks",
                                    member.get("state"), member.get("availability")))
        if member.get("ready"):
            why = "no running instance yet"
        where = ("its data waits in volume %s there" % volume) if volume else "its in-memory data is on the other nodes"
        rows.append({
            "address": None, "host": member["hostname"], "swarm_node": member["id"], "volume": volume,
            "missing": "%s; %s" % (why, where), "reachable": False, "error": None, "node_id": None, "build": None,
            "simulator": None, "cluster_size": None, "cluster_key": None, "cluster_integrity": None,
            "migrations_remaining": None, "objects": {}, "mesh_seeds": [],
        })
    rows.sort(key=lambda r: (r["host"] is None, r["host"] or "", r["address"] or ""))
    return rows


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def status_table(rows, cluster=None):
    """A fixed-width table a person reads at a glance, plus a verdict line. Returns a list of lines."""
    with_volume = any(row.get("volume") for row in rows)
    columns = ["NODE", "ADDRESS", "BUILD", "SIZE", "KEY", "INTEGRITY", "MIGRATIONS", "OBJECTS"]
    header = ["HOST"] + (["VOLUME"] if with_volume else []) + columns
    table = [header]
    for row in rows:
        first = [_cell(row.get("host"))] + ([_cell(row.get("volume"))] if with_volume else [])
        if row.get("missing"):
            table.append(first + ["-", "-", "MISSING", "-", "-", "-", "-", row["missing"]])
            continue
        if not row["reachable"]:
            table.append(first + ["-", row["address"], "UNREACHABLE", "-", "-", "-", "-", row.get("error") or ""])
            continue
        build = _cell(row["build"]) + (" (simulator)" if row["simulator"] else "")
        objects = " ".join("%s=%s" % (ns, _cell(count)) for ns, count in row["objects"].items()) or "-"
        table.append(first + [_cell(row["node_id"]), row["address"], build, _cell(row["cluster_size"]),
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
    missing = [row for row in rows if row.get("missing")]
    if missing:
        lines.append("missing: %d labelled host(s) run no instance: %s. A host that comes back runs its instance "
                     "again by itself; to replace a host for good see docs/aerospike.md"
                     % (len(missing), "; ".join("%s: %s" % (row["host"], row["missing"]) for row in missing)))
    if any(row.get("simulator") for row in rows):
        lines.append("(simulator) marks nodes that are the aerostack test simulator, not an Aerospike server")
    return lines
