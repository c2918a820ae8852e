# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm membership and node changes through one Docker engine. Standard library only.

``swarm_join`` and ``swarm_info`` are thin adapters over this file. Two scopes:

- *local*: the engine of the host the module runs on joins, creates or leaves a swarm;
- *node*: the engine is a manager, and the node named by ``node`` (ID or hostname) gets its role,
  availability or labels changed, or its entry removed.

"Member" is precise: a member of THIS swarm (the cluster ID, or for a worker the swarm whose
managers it talks to) with THIS role. Every failure is a ``SwarmError`` naming action and cause.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import subprocess
import time

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApiError
from ansible_collections.aerostack.swarm.plugins.module_utils._files import read_text as _read_text
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SWARM_PORT, SwarmError, join_address

DEFAULT_LISTEN_ADDR = "0.0.0.0:%d" % SWARM_PORT
_TASK_ACTIVE = ("assigned", "accepted", "preparing", "ready", "starting", "running")
_OID_ORG = b"\x06\x03\x55\x04\x0a"  # 2.5.4.10 organizationName
_OID_UNIT = b"\x06\x03\x55\x04\x0b"  # 2.5.4.11 organizationalUnitName
_OID_CN = b"\x06\x03\x55\x04\x03"  # 2.5.4.3 commonName


# --- reading what an engine says -------------------------------------------------------------

def cert_subject(pem):
    """``{"O": ..., "OU": ..., "CN": ...}`` of the first certificate in ``pem`` (text), by a minimal DER walk.

    A swarm node certificate names the cluster in O, the role in OU (``swarm-manager`` /
    ``swarm-worker``) and the node ID in CN; the issuer (``CN=swarm-ca``) comes before the subject,
    so the subject is the LAST name holding each attribute. Returns {} for anything unparsable.
    """
    body = []
    inside = False
    for line in (pem or "").splitlines():
        line = line.strip()
        if line.startswith("-----BEGIN CERTIFICATE"):
            inside = True
        elif line.startswith("-----END CERTIFICATE"):
            break
        elif inside:
            body.append(line)
    try:
        der = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return {}
    found = {}
    for key, oid in (("O", _OID_ORG), ("OU", _OID_UNIT), ("CN", _OID_CN)):
        start = 0
        value = None
        while True:
            at = der.find(oid, start)
            if at < 0:
                break
            pos = at + len(oid)
            if pos + 2 <= len(der) and der[pos] in (0x0C, 0x13, 0x16):  # UTF8String, PrintableString, IA5String
                length = der[pos + 1]
                if length < 0x80 and pos + 2 + length <= len(der):
                    value = der[pos + 2:pos + 2 + length].decode("utf-8", "replace")
            start = pos
        if value is not None:
            found[key] = value
    return found


def describe_local(info, read_text=_read_text):
    """The local engine's swarm state from ``GET /info``.

    A worker's engine does not report its cluster ID; it is read from the node certificate (O)
    when readable (root), else left None.
    """
    sw = info.get("Swarm") or {}
    state = sw.get("LocalNodeState") or "inactive"
    is_manager = bool(sw.get("ControlAvailable"))
    cluster_id = ((sw.get("Cluster") or {}).get("ID")) or None
    if state == "active" and not cluster_id and info.get("DockerRootDir"):
        subject = cert_subject(read_text(info["DockerRootDir"].rstrip("/") + "/swarm/certificates/swarm-node.crt"))
        if subject.get("CN") == sw.get("NodeID"):
            cluster_id = subject.get("O") or None
    return {
        "local_state": state,
        "node_id": sw.get("NodeID") or None,
        "node_addr": sw.get("NodeAddr") or None,
        "is_manager": is_manager,
        "cluster_id": cluster_id,
        "error": sw.get("Error") or None,
        "remote_managers": sorted((m.get("Addr") for m in sw.get("RemoteManagers") or [] if m.get("Addr"))),
        "managers": sw.get("Managers"),
        "nodes": sw.get("Nodes"),
        "hostname": info.get("Name"),
    }


def normalize_node(raw):
    """A node from ``GET /nodes`` as a flat dict (the shape swarm_info returns and the planner reads)."""
    spec = raw.get("Spec") or {}
    status = raw.get("Status") or {}
    manager = raw.get("ManagerStatus") or {}
    desc = raw.get("Description") or {}
    return {
        "id": raw.get("ID"),
        "hostname": desc.get("Hostname"),
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "labels": dict(spec.get("Labels") or {}),
        "state": status.get("State"),
        "message": status.get("Message") or None,
        "addr": status.get("Addr"),
        "leader": bool(manager.get("Leader")),
        "reachability": manager.get("Reachability") if manager else None,
        "manager_addr": manager.get("Addr") if manager else None,
        "engine_version": (desc.get("Engine") or {}).get("EngineVersion"),
        "created_at": raw.get("CreatedAt"),
        "version": (raw.get("Version") or {}).get("Index"),
    }


def _run_ip(argv):
    """Output of an iproute2 command, or None when ``ip`` is missing or fails."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, _err = proc.communicate()
    except (IOError, OSError):
        return None
    if proc.returncode != 0:
        return None
    return out.decode("utf-8", "replace")


def host_network(run=_run_ip):
    """This host's addresses: ``{"addresses", "interfaces": {name: [addr]}, "default"}``, from ``ip -j``.

    ``default`` is the first IPv4 address of the default route's interface (where the host's own traffic
    leaves). Returns None when iproute2 is not there or its output cannot be read.
    """
    text = run(["ip", "-j", "addr", "show"])
    try:
        links = json.loads(text) if text else None
    except ValueError:
        links = None
    if not isinstance(links, list):
        return None
    interfaces = {}
    addresses = []
    for link in links:
        name = link.get("ifname")
        if not name:
            continue
        local = [a["local"] for a in link.get("addr_info") or [] if a.get("local")]
        interfaces[name] = local
        addresses.extend(local)
    default = ""
    try:
        routes = json.loads(run(["ip", "-j", "-4", "route", "show", "default"]) or "[]")
    except ValueError:
        routes = []
    for route in routes if isinstance(routes, list) else []:
        if route.get("prefsrc"):
            default = route["prefsrc"]
            break
        candidates = [a for a in interfaces.get(route.get("dev"), []) if ":" not in a]
        if candidates:
            default = candidates[0]
            break
    return {"addresses": addresses, "interfaces": interfaces, "default": default}


def socket_path(docker_host):
    """``unix:///var/run/docker.sock`` -> ``/var/run/docker.sock``; other schemes are refused."""
    if not str(docker_host).startswith("unix://"):
        raise SwarmError(
            "docker_host=%s: only unix:// sockets are supported (for example unix:///var/run/docker.sock)"
            % docker_host
        )
    return docker_host[len("unix://"):]


def _addr_with_port(addr):
    text = str(addr).strip()
    if text.startswith("["):
        return text if "]:" in text else text + ":%d" % SWARM_PORT
    if text.count(":") == 1:
        return text
    return join_address(text)


class Swarm:
    """Swarm calls on one engine, each turned into a SwarmError that names the action on failure."""

    def __init__(self, api, read_text=_read_text, clock=time.monotonic, sleep=time.sleep, interval=0.5):
        self.api = api
        self.read_text = read_text
        self.clock = clock
        self.sleep = sleep
        self.interval = interval

    def _call(self, action, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DockerApiError as exc:
            raise SwarmError("%s failed: %s" % (action, exc))

    def info(self):
        return self._call("read the engine's state", self.api.info)

    def local(self):
        return describe_local(self.info(), self.read_text)

    def inspect(self):
        return self._call("read the swarm (join tokens)", self.api.inspect_swarm)

    def nodes(self):
        raw = self._call("list the swarm's nodes", self.api.list_nodes) or []
        return [normalize_node(n) for n in raw]

    def find_node(self, ref):
        """The raw node whose ID, ID prefix or hostname is ``ref``; a live entry wins over Down ones."""
        raw = self._call("list the swarm's nodes", self.api.list_nodes) or []
        exact = [n for n in raw if n.get("ID") == ref]
        if exact:
            return exact[0]
        named = [n for n in raw if (n.get("Description") or {}).get("Hostname") == ref]
        live = [n for n in named if (n.get("Status") or {}).get("State") != "down"]
        if len(live) > 1:
            raise SwarmError(
                "node %r is ambiguous: %d live nodes have that hostname (%s); name it by node ID"
                % (ref, len(live), ", ".join(n["ID"] for n in live))
            )
        if live:
            return live[0]
        if named:
            return sorted(named, key=lambda n: n.get("CreatedAt") or "")[-1]
        prefixed = [n for n in raw if str(n.get("ID", "")).startswith(ref)] if len(ref) >= 4 else []
        if len(prefixed) == 1:
            return prefixed[0]
        return None

    def init(self, advertise_addr, listen_addr, data_path_addr=None, force_new_cluster=False):
        body = {"ListenAddr": listen_addr or DEFAULT_LISTEN_ADDR, "ForceNewCluster": bool(force_new_cluster)}
        if advertise_addr:
            body["AdvertiseAddr"] = advertise_addr
        if data_path_addr:
            body["DataPathAddr"] = data_path_addr
        return self._call("create the swarm (advertising %s)" % (advertise_addr or "the default address"),
                          self.api.init_swarm, body)

    def join(self, remote_addrs, token, advertise_addr, listen_addr, data_path_addr=None):
        """Ask the engine to join. An engine that stops waiting for the join while it goes on in the background
        (HTTP 503 after 20 s on Docker 20.10) is not a failure: the caller's wait for state 'active' decides."""
        body = {
            "ListenAddr": listen_addr or DEFAULT_LISTEN_ADDR,
            "RemoteAddrs": [_addr_with_port(a) for a in remote_addrs],
            "JoinToken": token,
        }
        if advertise_addr:
            body["AdvertiseAddr"] = advertise_addr
        if data_path_addr:
            body["DataPathAddr"] = data_path_addr
        try:
            return self.api.join_swarm(body)
        except DockerApiError as exc:
            if not engine_carries_on(exc):
                raise SwarmError("join the swarm through %s failed: %s" % (", ".join(body["RemoteAddrs"]), exc))
        return None

    def leave(self, force, what, timeout):
        """Leave the swarm and wait until this engine is out of it (state 'inactive').

        An engine whose swarm node cannot reach its managers may give up on the request before the node has
        stopped (HTTP 500 "context deadline exceeded", seen on Docker 20.10 when a manager that was cut off is made
        to leave). What the engine reports next decides: out already is done; still in is asked again, as long as
        ``timeout`` lasts. Returns the number of requests sent."""
        deadline = self.clock() + timeout
        asked = 0
        while True:
            asked += 1
            try:
                self.api.leave_swarm(force)
                break
            except DockerApiError as exc:
                if _state_problem(self, ("inactive",)) is None:
                    return asked
                if not engine_carries_on(exc) or self.clock() >= deadline:
                    raise SwarmError("leave the swarm failed%s: %s" % (
                        " (asked %d times in %ss)" % (asked, _seconds(timeout)) if asked > 1 else "", exc))
                self.sleep(self.interval)
        self.wait(what, lambda: _state_problem(self, ("inactive",)), max(deadline - self.clock(), self.interval))
        return asked

    def update_node(self, raw, spec, what):
        return self._call(
            "%s of node %s (%s)" % (what, (raw.get("Description") or {}).get("Hostname"), raw["ID"]),
            self.api.update_node,
            raw["ID"],
            (raw.get("Version") or {}).get("Index"),
            spec,
        )

    def remove_node(self, raw, force):
        return self._call(
            "remove node %s (%s) from the swarm" % ((raw.get("Description") or {}).get("Hostname"), raw["ID"]),
            self.api.remove_node,
            raw["ID"],
            force,
        )

    def running_tasks(self, node_id):
        # Every task the node has, whatever its desired state: a drained node's tasks are told to shut down at
        # once but keep running until they have stopped, and only then have they left the node.
        raw = self._call("list the tasks on node %s" % node_id, self.api.list_tasks, {"node": [node_id]}) or []
        return [t for t in raw if (t.get("Status") or {}).get("State") in _TASK_ACTIVE]

    def wait(self, what, check, timeout):
        """Poll ``check()`` (returns None when done, else what is still wrong) until done or ``timeout`` s."""
        deadline = self.clock() + timeout
        polls = 0
        while True:
            polls += 1
            problem = check()
            if problem is None:
                return polls
            if self.clock() >= deadline:
                raise SwarmError("waited %ss for %s: %s" % (_seconds(timeout), what, problem))
            self.sleep(self.interval)


def _seconds(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")


# --- what swarm_info reports --------------------------------------------------------------------

def gather(swarm, params, network=host_network):
    """The swarm_info result: engine availability, local membership, nodes (on a manager), warnings."""
    extra = {"network": network()} if params.get("network") else {}
    try:
        info = swarm.api.info()
    except DockerApiError as exc:
        if exc.status:
            raise SwarmError("read the engine's state failed: %s" % exc)
        return dict(extra, docker={"available": False, "error": str(exc), "version": None}, swarm=None, nodes=None,
                    warnings=[])
    local = describe_local(info, swarm.read_text)
    result = {
        "docker": {"available": True, "error": None, "version": info.get("ServerVersion")},
        "swarm": local,
        "nodes": None,
        "warnings": [],
    }
    result.update(extra)
    manager = local["local_state"] == "active" and local["is_manager"]
    if manager and params.get("wait_ready"):
        wanted = list(params["wait_ready"])
        swarm.wait("nodes %s to be ready" % ", ".join(wanted), lambda: _ready_problem(swarm, wanted),
                   params.get("wait_timeout") or 60)
    elif params.get("wait_ready"):
        raise SwarmError(
            "wait_ready needs a manager's engine, but this engine is %s; run the task on a manager"
            % ("a worker" if local["local_state"] == "active" else "not in a swarm (%s)" % local["local_state"])
        )
    if manager and params.get("nodes", True):
        try:
            result["nodes"] = swarm.nodes()
        except SwarmError as exc:
            result["nodes_error"] = str(exc)
            result["warnings"].append("this manager cannot list the swarm's nodes: %s" % exc)
    if manager and params.get("join_tokens"):
        tokens = swarm.inspect().get("JoinTokens") or {}
        result["join_tokens"] = {"manager": tokens.get("Manager"), "worker": tokens.get("Worker")}
    for node in result["nodes"] or []:
        if node["state"] == "down":
            result["warnings"].append(
                "node %s (%s, %s, last address %s) is Down: the swarm lost it%s"
                % (node["hostname"], node["id"], node["role"], node["addr"],
                   "; its tasks were rescheduled elsewhere" if node["role"] == "worker" else
                   "; as a manager it still counts towards the quorum")
            )
        elif node["role"] == "manager" and node["reachability"] == "unreachable":
            result["warnings"].append(
                "manager %s (%s) is unreachable for Raft" % (node["hostname"], node["id"])
            )
    return result


def _ready_problem(swarm, wanted):
    try:
        nodes = swarm.nodes()
    except SwarmError as exc:
        return str(exc)
    problems = []
    for ref in wanted:
        match = [n for n in nodes if n["id"] == ref] or [n for n in nodes if n["hostname"] == ref and
                                                         n["state"] != "down"]
        if not match:
            problems.append("%s is not in the node list" % ref)
            continue
        node = match[0]
        if node["state"] != "ready":
            problems.append("%s is %s" % (ref, node["state"]))
        elif node["role"] == "manager" and node["reachability"] != "reachable":
            problems.append("%s is a manager with reachability %s" % (ref, node["reachability"]))
    return "; ".join(problems) or None


# --- what the modules decide -------------------------------------------------------------------

def _view(local, node=None):
    """The before/after picture of one node used for diffs and results."""
    view = {
        "swarm_id": local.get("cluster_id") if local else None,
        "node_id": local.get("node_id") if local else None,
        "state": local.get("local_state") if local else None,
        "role": None,
    }
    if local and local.get("local_state") == "active":
        view["role"] = "manager" if local.get("is_manager") else "worker"
    if node is not None:
        n = normalize_node(node)
        view.update({"node_id": n["id"], "state": n["state"], "role": n["role"], "availability": n["availability"],
                     "labels": n["labels"], "hostname": n["hostname"]})
    return view


def _same_swarm(local, cluster_id, remote_addrs):
    if cluster_id and local.get("cluster_id"):
        return local["cluster_id"] == cluster_id
    if remote_addrs:
        wanted = set(_addr_with_port(a) for a in remote_addrs)
        return bool(wanted & set(local.get("remote_managers") or []))
    return not cluster_id


def _spec_changes(raw, role, availability, labels, labels_absent, labels_exclusive):
    """New spec for ``raw`` and the list of changes, or (None, []) when nothing differs."""
    spec = dict(raw.get("Spec") or {})
    current_labels = dict(spec.get("Labels") or {})
    changes = []
    if role and spec.get("Role") != role:
        changes.append(("promote" if role == "manager" else "demote", "role %s -> %s" % (spec.get("Role"), role)))
        spec["Role"] = role
    if availability and spec.get("Availability") != availability:
        changes.append(("availability", "availability %s -> %s" % (spec.get("Availability"), availability)))
        spec["Availability"] = availability
    new_labels = {} if labels_exclusive else dict(current_labels)
    new_labels.update(dict((str(k), str(v)) for k, v in (labels or {}).items()))
    for key in labels_absent or []:
        new_labels.pop(key, None)
    if new_labels != current_labels:
        added = sorted(k for k in new_labels if current_labels.get(k) != new_labels[k])
        removed = sorted(k for k in current_labels if k not in new_labels)
        changes.append(("labels", "labels %s" % ", ".join(
            ["+%s=%s" % (k, new_labels[k]) for k in added] + ["-%s" % k for k in removed])))
        spec["Labels"] = new_labels
    return (spec if changes else None), changes


def apply_node_spec(swarm, raw, params, check_mode):
    """Change role / availability / labels of ``raw`` through ``swarm`` (a manager); wait when asked."""
    spec, changes = _spec_changes(
        raw,
        params.get("role"),
        params.get("availability"),
        params.get("labels"),
        params.get("labels_absent"),
        params.get("labels_exclusive"),
    )
    if not changes or check_mode:
        return changes, raw
    name = (raw.get("Description") or {}).get("Hostname") or raw["ID"]
    swarm.update_node(raw, spec, ", ".join(c[1] for c in changes))
    kinds = [c[0] for c in changes]
    own = params.get("_own_node")
    if own and "demote" in kinds:
        # This engine demoted itself: it has no manager API any more; its own state tells when it is done.
        swarm.wait("this host to step down to worker", lambda: _own_role_problem(swarm), params.get("wait_timeout") or 60)
        return changes, None
    if params.get("wait", True):
        node_id = raw["ID"]
        timeout = params.get("wait_timeout") or 60
        if "promote" in kinds:
            swarm.wait("%s to become a reachable manager" % name,
                       lambda: _manager_problem(swarm, node_id, want_manager=True), timeout)
        if "demote" in kinds:
            swarm.wait("%s to leave the managers (Raft)" % name,
                       lambda: _manager_problem(swarm, node_id, want_manager=False), timeout)
        if "availability" in kinds and spec.get("Availability") == "drain":
            swarm.wait("the tasks on %s to move away (drain)" % name, lambda: _drain_problem(swarm, node_id), timeout)
    fresh = swarm._call("read node %s" % name, swarm.api.inspect_node, raw["ID"])
    return changes, fresh


def _own_role_problem(swarm):
    local = swarm.local()
    return None if not local["is_manager"] else "its engine still has the manager role"


def _manager_problem(swarm, node_id, want_manager):
    raw = swarm._call("read node %s" % node_id, swarm.api.inspect_node, node_id)
    ms = raw.get("ManagerStatus") or {}
    if want_manager:
        if ms.get("Reachability") == "reachable":
            return None
        return "its manager status is '%s'" % (ms.get("Reachability") or "not yet a manager")
    if not ms:
        return None
    return "it is still a Raft member (reachability '%s')" % ms.get("Reachability")


def _drain_problem(swarm, node_id):
    tasks = swarm.running_tasks(node_id)
    if not tasks:
        return None
    return "%d task(s) still on it: %s" % (
        len(tasks),
        ", ".join(sorted("service %s (%s)" % (t.get("ServiceID", "?")[:12], (t.get("Status") or {}).get("State"))
                         for t in tasks)),
    )


def ensure_node(swarm, params, check_mode):
    """Node scope: run on a manager; bring the node ``params['node']`` to the wanted spec or remove it."""
    local = swarm.local()
    if not (local["local_state"] == "active" and local["is_manager"]):
        raise SwarmError(
            "changing node %s needs a manager's engine, but this engine is %s; run the task on a manager "
            "(delegate_to: a manager of the swarm)"
            % (params["node"], "a worker" if local["local_state"] == "active" else "not in a swarm (%s)"
               % local["local_state"])
        )
    if params.get("cluster_id") and local.get("cluster_id") != params["cluster_id"]:
        raise SwarmError(
            "this manager belongs to swarm %s, not to swarm %s; delegate the task to a manager of swarm %s"
            % (local.get("cluster_id"), params["cluster_id"], params["cluster_id"])
        )
    raw = swarm.find_node(params["node"])
    before = _view(local, raw) if raw else {"swarm_id": local["cluster_id"], "node_id": None, "state": "absent"}
    before["swarm_id"] = local["cluster_id"]
    if params["state"] == "absent":
        if raw is None:
            return _result(False, before, before, [])
        node = normalize_node(raw)
        if node["reachability"] is not None:
            raise SwarmError(
                "node %s (%s) is a manager: demote it first (role=worker), then remove its entry"
                % (node["hostname"], node["id"])
            )
        if node["state"] == "ready" and not params.get("force"):
            raise SwarmError(
                "node %s (%s) is ready, not Down: make it leave the swarm first, or set force=true to remove the "
                "entry of a live node" % (node["hostname"], node["id"])
            )
        after = {"swarm_id": local["cluster_id"], "node_id": None, "state": "absent"}
        if not check_mode:
            swarm.remove_node(raw, bool(params.get("force")))
        return _result(True, before, after, ["remove node %s (%s)" % (node["hostname"], node["id"])])
    if raw is None:
        raise SwarmError(
            "node %s is not a member of swarm %s: join it first (run swarm_join on that host)"
            % (params["node"], local["cluster_id"])
        )
    changes, fresh = apply_node_spec(swarm, raw, params, check_mode)
    after = dict(before)
    if changes:
        if check_mode:
            spec, _unused = _spec_changes(raw, params.get("role"), params.get("availability"), params.get("labels"),
                                          params.get("labels_absent"), params.get("labels_exclusive"))
            after.update({"role": spec.get("Role"), "availability": spec.get("Availability"),
                          "labels": dict(spec.get("Labels") or {})})
        elif fresh is None:
            after = _view(swarm.local())
            after["swarm_id"] = local["cluster_id"]
        else:
            after = _view(local, fresh)
            after["swarm_id"] = local["cluster_id"]
    return _result(bool(changes), before, after, [c[1] for c in changes])


def ensure_local(swarm, params, check_mode):
    """Local scope: the engine the module runs on is created/joined/left as ``params['state']`` says."""
    state = params["state"]
    local = swarm.local()
    before = _view(local)
    actions = []
    previous_node_id = None
    cluster_id = params.get("cluster_id")
    remote_addrs = params.get("remote_addrs") or []

    if local["local_state"] == "locked":
        raise SwarmError(
            "the swarm is locked on this host (autolock after a restart); unlock it with 'docker swarm unlock' "
            "and the unlock key, then re-run"
        )

    if state == "absent":
        if local["local_state"] == "inactive":
            return _result(False, before, before, [])
        if local["is_manager"] and not params.get("force"):
            raise SwarmError(
                "this host is a manager of swarm %s: leaving can cost the swarm its quorum; demote it first "
                "(role=worker through another manager) or set force=true" % local["cluster_id"]
            )
        after = {"swarm_id": None, "node_id": None, "state": "inactive", "role": None}
        if not check_mode:
            swarm.leave(bool(params.get("force") or local["is_manager"]), "this host to leave the swarm",
                        params.get("wait_timeout") or 60)
        return _result(True, before, after, ["leave swarm %s" % (local["cluster_id"] or "")])

    active = local["local_state"] == "active"
    if params.get("force_new_cluster"):
        return _force_new_cluster(swarm, params, local, before, check_mode)
    if state == "init":
        member = active and local["is_manager"] and (not cluster_id or local["cluster_id"] == cluster_id)
    else:
        member = active and _same_swarm(local, cluster_id, remote_addrs)

    rejoin_as_manager = (member and state == "joined" and params.get("role") == "manager" and not local["is_manager"]
                         and params.get("force"))
    if rejoin_as_manager:
        # A worker cannot promote itself; with force it leaves and joins again with the manager token. That is how a
        # manager left behind by a force-new-cluster (a worker of this swarm by its certificate) becomes one again.
        member = False

    if member:
        wanted_role = "manager" if state == "init" else params.get("role")
        current_role = "manager" if local["is_manager"] else "worker"
        needs_spec = (wanted_role and wanted_role != current_role) or params.get("availability") or \
            params.get("labels") or params.get("labels_absent")
        if not needs_spec:
            return _result(False, before, before, [])
        if not local["is_manager"]:
            if wanted_role and wanted_role != current_role:
                raise SwarmError(
                    "this host is a worker of swarm %s and should be a manager: a worker cannot promote itself; "
                    "run swarm_join with node=%s on a manager (delegate_to), as the aerostack.swarm.swarm role does"
                    % (local["cluster_id"] or "(this swarm)", local["hostname"] or local["node_id"])
                )
            raise SwarmError(
                "this host is a worker: its labels and availability can only be changed through a manager; run "
                "swarm_join with node=%s on a manager (delegate_to)" % (local["hostname"] or local["node_id"])
            )
        params = dict(params, node=local["node_id"], role=wanted_role, state="joined", _own_node=True)
        result = ensure_node(swarm, params, check_mode)
        return result

    # Not a member of this swarm: join (or init), leaving first when forced.
    if active or local["local_state"] in ("pending", "error"):
        if rejoin_as_manager:
            problem = "this host is a worker of swarm %s and should be a manager" % (local["cluster_id"] or "(this swarm)")
        elif active:
            problem = "this host is already in %s swarm %s as %s" % (
                "another" if (cluster_id or remote_addrs or state == "init") else "a",
                local["cluster_id"] or "(id unknown: managers %s)" % ", ".join(local["remote_managers"]),
                "manager" if local["is_manager"] else "worker",
            )
            if state == "init" and not local["is_manager"]:
                problem = "this host is a worker of swarm %s, so it cannot be the first manager of a new one" % (
                    local["cluster_id"] or "(id unknown)")
        else:
            problem = "this host's swarm membership is stuck in state '%s'%s" % (
                local["local_state"], " (%s)" % local["error"] if local["error"] else "")
        if not params.get("force"):
            raise SwarmError(
                problem + "; set force=true to leave it and %s (containers of that swarm's services stop here)"
                % ("create a new swarm" if state == "init" else "join this one")
            )
        actions.append("leave: " + problem)
        previous_node_id = local["node_id"]

    if state == "init":
        after = {"swarm_id": "(new)", "node_id": "(new)", "state": "active", "role": "manager"}
        actions.append("create a new swarm advertising %s" % (params.get("advertise_addr") or "the default address"))
    else:
        if not params.get("join_token") and not check_mode:
            raise SwarmError("joining needs join_token (the manager or worker token of the swarm to join)")
        after = {"swarm_id": cluster_id or "(joined)", "node_id": "(new)", "state": "active",
                 "role": params.get("role") or "(decided by the token)"}
        through = ", ".join(_addr_with_port(a) for a in remote_addrs)
        actions.append("join through %s as %s" % (through, params.get("role") or "the token's role"))
    if check_mode:
        return _result(True, before, after, actions, previous_node_id)

    timeout = params.get("wait_timeout") or 60
    if previous_node_id is not None or local["local_state"] != "inactive":
        swarm.leave(True, "this host to leave its old swarm", timeout)
    if state == "init":
        swarm.init(params.get("advertise_addr"), params.get("listen_addr"), params.get("data_path_addr"))
    else:
        swarm.join(remote_addrs, params["join_token"], params.get("advertise_addr"), params.get("listen_addr"),
                   params.get("data_path_addr"))
    swarm.wait("this host to become an active swarm member", lambda: _state_problem(swarm, ("active",)), timeout)
    local = swarm.local()
    after = _view(local)
    if state == "joined" and params.get("role") and after["role"] != params["role"]:
        raise SwarmError(
            "joined swarm %s as %s, but role=%s was asked: the join token is the %s token; pass the %s token"
            % (local["cluster_id"] or "", after["role"], params["role"], after["role"], params["role"])
        )
    if cluster_id and local["cluster_id"] and local["cluster_id"] != cluster_id:
        raise SwarmError(
            "joined swarm %s through %s, but cluster_id=%s was expected: the managers or the token belong to "
            "another swarm" % (local["cluster_id"], ", ".join(remote_addrs), cluster_id)
        )
    if local["is_manager"] and (params.get("availability") or params.get("labels") or params.get("labels_absent")):
        raw = swarm.find_node(local["node_id"])
        changes, _unused = apply_node_spec(swarm, raw, dict(params, role=None), False)
        actions.extend(c[1] for c in changes)
        after = _view(local, swarm.find_node(local["node_id"]))
    return _result(True, before, after, actions, previous_node_id)


def _has_leader(swarm):
    """On a manager: True when the swarm answers cluster reads, False when it says it has no leader."""
    try:
        swarm.api.list_nodes()
    except DockerApiError as exc:
        # Docker 20.10 answers HTTP 500 "rpc error: ... The swarm does not have a leader" (503 in other versions).
        if exc.status in (500, 503) and "leader" in str(exc):
            return False
        raise SwarmError("list the swarm's nodes failed: %s" % exc)
    return True


def _force_new_cluster(swarm, params, local, before, check_mode):
    """``docker swarm init --force-new-cluster``: only on a manager of a swarm that lost its quorum."""
    if params["state"] != "init":
        raise SwarmError("force_new_cluster needs state=init (it re-creates the swarm's control plane on this host)")
    if not (local["local_state"] == "active" and local["is_manager"]):
        what = "a worker" if local["local_state"] == "active" else "not in a swarm (%s)" % local["local_state"]
        raise SwarmError(
            "force_new_cluster rebuilds a swarm from one of its surviving managers, but this host is %s; run it on a "
            "manager that kept the swarm's state" % what
        )
    if _has_leader(swarm):
        raise SwarmError(
            "swarm %s still has a leader, so its quorum is not lost: force_new_cluster would drop the other managers "
            "for nothing; nothing was changed (run the aerostack.swarm.swarm role instead)" % local["cluster_id"]
        )
    actions = ["rebuild swarm %s as a one-manager swarm from this host (force-new-cluster)" % local["cluster_id"]]
    after = dict(before)
    if check_mode:
        return _result(True, before, after, actions)
    swarm.init(params.get("advertise_addr"), params.get("listen_addr"), params.get("data_path_addr"),
               force_new_cluster=True)
    swarm.wait("the rebuilt swarm to elect this host leader",
               lambda: None if _has_leader(swarm) else "the swarm has no leader yet", params.get("wait_timeout") or 60)
    after = _view(swarm.local())
    return _result(True, before, after, actions)


def engine_carries_on(exc):
    """True when the engine gave up waiting on a join or leave that it carries on with: its answer says nothing
    about the outcome, the state it reports afterwards does."""
    text = str(exc)
    return exc.status in (500, 503) and (
        "context deadline exceeded" in text or "will continue in the background" in text)


def _state_problem(swarm, wanted):
    local = swarm.local()
    if local["local_state"] in wanted:
        return None
    return "local node state is '%s'%s" % (local["local_state"], " (%s)" % local["error"] if local["error"] else "")


def _result(changed, before, after, actions, previous_node_id=None):
    result = {
        "changed": changed,
        "actions": actions,
        "swarm": dict(after),
        "diff": {"before": before, "after": after},
    }
    if previous_node_id:
        result["previous_node_id"] = previous_node_id
    return result
