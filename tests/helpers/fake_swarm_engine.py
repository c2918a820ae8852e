"""An in-memory stand-in for the Docker engines of a swarm, answering like Docker 20.10's API does.

Each ``FakeEngine`` is one host's engine (the object ``DockerApi`` would be); engines that joined the same
``FakeCluster`` share its node list. Error texts are the engine's own (seen on the lab's 20.10.24 engines).
Mutating calls are recorded in ``engine.calls`` so tests can prove that nothing changed.
"""

import itertools
import json

from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApiError

_ids = itertools.count(1)
NOT_MANAGER = ("This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. "
               "Please run this command on a manager node or promote the current node to a manager.")
NOT_IN_SWARM = ("This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this "
                "node to swarm and try again.")


def new_id(prefix):
    return (prefix + "%023d" % next(_ids))[-25:]


class FakeCluster:
    def __init__(self, cluster_id=None):
        self.id = cluster_id or new_id("c")
        self.nodes = {}  # id -> raw node (API shape)
        self.tokens = {"Worker": "SWMTKN-1-%s-worker" % self.id, "Manager": "SWMTKN-1-%s-manager" % self.id}
        self.engines = {}  # node id -> FakeEngine
        self.leader = True  # False: managers answer "no leader" to cluster reads
        self.tasks = []  # raw tasks
        self.reach_after = 0  # polls of a promoted node before it is "reachable"
        self.demote_after = 0  # polls of a demoted node before it leaves Raft

    def add(self, engine, role, hostname=None, state="ready"):
        node_id = new_id("n")
        self.nodes[node_id] = {
            "ID": node_id,
            "Version": {"Index": 10},
            "CreatedAt": "2026-11-22T02:%02d:00Z" % (len(self.nodes) % 60),
            "Spec": {"Role": role, "Availability": "active", "Labels": {}},
            "Description": {"Hostname": hostname or engine.hostname, "Engine": {"EngineVersion": "20.10.24+dfsg1"}},
            "Status": {"State": state, "Addr": engine.addr},
        }
        if role == "manager":
            self.nodes[node_id]["ManagerStatus"] = {"Reachability": "reachable", "Addr": engine.addr + ":2377",
                                                    "Leader": not any(self.managers())}
        self.engines[node_id] = engine
        return node_id

    def managers(self):
        return [n for n in self.nodes.values() if n.get("ManagerStatus")]


class FakeEngine:
    """The engine API of one host (the methods DockerApi offers)."""

    def __init__(self, hostname, addr, root_dir="/var/lib/docker"):
        self.hostname = hostname
        self.addr = addr
        self.root_dir = root_dir
        self.cluster = None
        self.node_id = None
        self.state = "inactive"
        self.error = ""
        self.calls = []
        self.down = False  # the engine does not answer (socket missing)
        # Requests the engine stops waiting for (Docker 20.10): the next ``leave_gives_up`` leaves answer HTTP 500
        # "context deadline exceeded" (having left when ``gives_up_after_leaving``); a join with
        # ``join_background_polls`` set answers HTTP 503 and the node is 'pending' for that many reads of /info.
        self.leave_gives_up = 0
        self.gives_up_after_leaving = False
        self.leave_answer = (500, "context deadline exceeded")  # what those leaves answer
        self.join_background_polls = None
        self.polls = {}

    # --- state helpers for tests -----------------------------------------------------------------
    def node(self):
        return self.cluster.nodes[self.node_id] if self.cluster and self.node_id in self.cluster.nodes else None

    def is_manager(self):
        node = self.node()
        return bool(self.state == "active" and node and node.get("ManagerStatus"))

    def cert(self):
        """The node certificate's subject as the tests' cert reader returns it."""
        if not self.cluster:
            return None
        role = "swarm-manager" if self.is_manager() else "swarm-worker"
        return (self.cluster.id, role, self.node_id)

    def _check(self):
        if self.down:
            raise DockerApiError("Docker engine at unix:///var/run/docker.sock: GET /info failed: [Errno 2] No such "
                                 "file or directory (is the engine running, and may this user use its socket?)")

    def _manager_only(self, what):
        self._check()
        if self.state != "active":
            raise DockerApiError("Docker engine: %s failed: HTTP 503: %s" % (what, NOT_IN_SWARM), status=503)
        if not self.is_manager():
            raise DockerApiError("Docker engine: %s failed: HTTP 503: %s" % (what, NOT_MANAGER), status=503)
        if not self.cluster.leader:
            raise DockerApiError(
                "Docker engine: %s failed: HTTP 500: rpc error: code = Unknown desc = The swarm does not have a "
                "leader. It's possible that too few managers are online. Make sure more than half of the managers "
                "are online." % what, status=500)

    # --- the DockerApi surface ---------------------------------------------------------------------
    def info(self):
        self._check()
        if self.state == "pending" and self.join_background_polls is not None:
            if self.join_background_polls <= 0:
                self.state, self.join_background_polls = "active", None
            else:
                self.join_background_polls -= 1
        swarm = {"NodeID": self.node_id or "", "NodeAddr": self.addr if self.state == "active" else "",
                 "LocalNodeState": self.state, "ControlAvailable": self.is_manager(), "Error": self.error,
                 "RemoteManagers": None}
        if self.state == "active":
            swarm["RemoteManagers"] = [{"NodeID": n["ID"], "Addr": n["ManagerStatus"]["Addr"]}
                                       for n in self.cluster.managers()]
            if self.is_manager():
                swarm["Cluster"] = {"ID": self.cluster.id}
                swarm["Nodes"] = len(self.cluster.nodes)
                swarm["Managers"] = len(self.cluster.managers())
        return {"Name": self.hostname, "ServerVersion": "20.10.24+dfsg1", "DockerRootDir": self.root_dir,
                "Swarm": swarm}

    def inspect_swarm(self):
        self._manager_only("GET /swarm")
        return {"ID": self.cluster.id, "JoinTokens": dict(self.cluster.tokens)}

    def init_swarm(self, body):
        self._check()
        self.calls.append(("init", body))
        if body.get("ForceNewCluster") and self.is_manager():
            # As a 20.10 engine does: this node alone in Raft; the other managers keep Spec.Role=manager but lose
            # their manager status, and their state goes to unknown.
            for node in self.cluster.nodes.values():
                if node["ID"] != self.node_id and node.get("ManagerStatus"):
                    node.pop("ManagerStatus")
                    node["Status"]["State"] = "unknown"
            self.node()["ManagerStatus"].update({"Leader": True, "Reachability": "reachable"})
            self.cluster.leader = True
            return self.node_id
        if self.state != "inactive":
            raise DockerApiError("Docker engine: POST /swarm/init failed: HTTP 503: This node is already part of a "
                                 "swarm. Use \"docker swarm leave\" to leave this swarm and join another one.",
                                 status=503)
        self.cluster = FakeCluster()
        self.node_id = self.cluster.add(self, "manager")
        self.state = "active"
        return self.node_id

    def join_swarm(self, body):
        self._check()
        self.calls.append(("join", body))
        if self.state != "inactive":
            raise DockerApiError("Docker engine: POST /swarm/join failed: HTTP 503: This node is already part of a "
                                 "swarm.", status=503)
        for cluster in FakeEngine.clusters:
            for role, token in (("worker", cluster.tokens["Worker"]), ("manager", cluster.tokens["Manager"])):
                if token == body["JoinToken"]:
                    self.cluster = cluster
                    self.node_id = cluster.add(self, role)
                    self.state = "active"
                    if self.join_background_polls is not None:
                        self.state = "pending"
                        raise DockerApiError(
                            "Docker engine: POST /swarm/join failed: HTTP 503: Timeout was reached before node "
                            "joined. The attempt to join the swarm will continue in the background. Use the \"docker "
                            "info\" command to see the current swarm status of your node.", status=503)
                    return None
        raise DockerApiError("Docker engine: POST /swarm/join failed: HTTP 400: rpc error: code = InvalidArgument "
                             "desc = A valid join token is necessary to join this cluster", status=400)

    def leave_swarm(self, force=False):
        self._check()
        self.calls.append(("leave", force))
        if self.state == "inactive":
            raise DockerApiError("Docker engine: POST /swarm/leave failed: HTTP 503: This node is not part of a "
                                 "swarm", status=503)
        if self.is_manager() and not force:
            raise DockerApiError("Docker engine: POST /swarm/leave failed: HTTP 503: You are attempting to leave the "
                                 "swarm on a node that is participating as a manager. Use `--force` to ignore this "
                                 "message.", status=503)
        if self.leave_gives_up > 0:
            self.leave_gives_up -= 1
            if self.gives_up_after_leaving:
                self._left()
            status, text = self.leave_answer
            raise DockerApiError("Docker engine: POST /swarm/leave failed: HTTP %d: %s" % (status, text),
                                 status=status)
        self._left()

    def _left(self):
        node = self.node()
        if node is not None:
            node["Status"]["State"] = "down"
            node.pop("ManagerStatus", None)
        self.cluster = None
        self.node_id = None
        self.state = "inactive"
        self.error = ""

    def list_nodes(self):
        self._manager_only("GET /nodes")
        return [json.loads(json.dumps(n)) for n in self.cluster.nodes.values()]

    def inspect_node(self, node_id):
        self._manager_only("GET /nodes/%s" % node_id)
        node = self.cluster.nodes.get(node_id)
        if node is None:
            raise DockerApiError("Docker engine: GET /nodes/%s failed: HTTP 404: node %s not found" % (node_id, node_id),
                                 status=404)
        polls = self.polls.setdefault(node_id, 0)
        self.polls[node_id] = polls + 1
        pending = node.get("_pending")
        if pending and polls >= pending[1]:
            pending[0](node)
            node.pop("_pending")
        return json.loads(json.dumps(dict((k, v) for k, v in node.items() if k != "_pending")))

    def update_node(self, node_id, version, spec):
        self._manager_only("POST /nodes/%s/update" % node_id)
        self.calls.append(("update", node_id, spec))
        node = self.cluster.nodes[node_id]
        if version != node["Version"]["Index"]:
            raise DockerApiError("Docker engine: POST /nodes/%s/update failed: HTTP 500: rpc error: code = Unknown desc "
                                 "= update out of sequence" % node_id, status=500)
        old_role = node["Spec"]["Role"]
        node["Spec"] = dict(spec)
        node["Version"]["Index"] += 1
        self.polls[node_id] = 0
        if spec.get("Role") == "manager" and old_role != "manager":
            node["ManagerStatus"] = {"Reachability": "unknown", "Addr": node["Status"]["Addr"] + ":2377"}

            def reachable(n):
                n["ManagerStatus"]["Reachability"] = "reachable"
            if self.cluster.reach_after:
                node["_pending"] = (reachable, self.cluster.reach_after)
            else:
                reachable(node)
        if spec.get("Role") == "worker" and old_role == "manager":
            def leave_raft(n):
                n.pop("ManagerStatus", None)
            if self.cluster.demote_after:
                node["_pending"] = (leave_raft, self.cluster.demote_after)
            else:
                leave_raft(node)
        if spec.get("Availability") == "drain":
            # As the engine does: told to shut down at once, the tasks keep running until they have stopped.
            for task in self.cluster.tasks:
                if task["NodeID"] == node_id:
                    task["DesiredState"] = "shutdown"
                    task["_drain_after"] = task.get("_drain_after", 1)

    def remove_node(self, node_id, force=False):
        self._manager_only("DELETE /nodes/%s" % node_id)
        self.calls.append(("remove", node_id, force))
        node = self.cluster.nodes[node_id]
        if node.get("ManagerStatus"):
            raise DockerApiError("Docker engine: DELETE /nodes/%s failed: HTTP 400: rpc error: code = "
                                 "FailedPrecondition desc = node %s is a cluster manager and is a member of the raft "
                                 "cluster. It must be demoted to worker before removal" % (node_id, node_id), status=400)
        if node["Status"]["State"] == "ready" and not force:
            raise DockerApiError("Docker engine: DELETE /nodes/%s failed: HTTP 400: rpc error: code = "
                                 "FailedPrecondition desc = node %s is not down and can't be removed"
                                 % (node_id, node_id), status=400)
        del self.cluster.nodes[node_id]

    def list_tasks(self, filters):
        self._manager_only("GET /tasks")
        out = []
        for task in self.cluster.tasks:
            if task["NodeID"] not in filters.get("node", [task["NodeID"]]):
                continue
            desired = task.get("DesiredState", "running")
            if desired not in filters.get("desired-state", [desired]):
                continue
            if "_drain_after" in task:
                task["_drain_after"] -= 1
                if task["_drain_after"] < 0:
                    task["Status"]["State"] = "shutdown"
            out.append(dict((k, v) for k, v in task.items() if not k.startswith("_")))
        return out


FakeEngine.clusters = []


class Clock:
    """A fake clock for Swarm(clock=..., sleep=...): sleeping moves time on, nothing waits."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def make_swarm(managers=("lab1",), workers=()):
    """Engines lab1.. formed into one swarm; returns (cluster, {hostname: engine})."""
    engines = {}
    first = FakeEngine(managers[0], "198.19.30.11")
    first.init_swarm({"ListenAddr": "0.0.0.0:2377"})
    FakeEngine.clusters.append(first.cluster)
    engines[managers[0]] = first
    for i, name in enumerate(list(managers[1:]) + list(workers), start=2):
        engine = FakeEngine(name, "198.19.30.1%d" % i)
        role = "Manager" if name in managers else "Worker"
        engine.join_swarm({"JoinToken": first.cluster.tokens[role]})
        engines[name] = engine
    for engine in engines.values():
        engine.calls = []
    return first.cluster, engines


def subject_pem(organization, unit, common_name):
    """A PEM block whose DER carries issuer CN=swarm-ca then subject O/OU/CN, as a swarm node certificate does."""
    import base64

    def attr(oid, value):
        return oid + b"\x0c" + bytes([len(value)]) + value.encode()

    cn, o, ou = b"\x06\x03\x55\x04\x03", b"\x06\x03\x55\x04\x0a", b"\x06\x03\x55\x04\x0b"
    der = b"\x30\x82\x01\x00" + attr(cn, "swarm-ca") + attr(o, organization) + attr(ou, unit) + attr(cn, common_name)
    return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(der).decode()


def cert_reader(engine):
    """A ``read_text`` for ``Swarm`` serving ``engine``'s node certificate (None outside a swarm)."""

    def read(path):
        if path == engine.root_dir + "/swarm/certificates/swarm-node.crt" and engine.cert():
            return subject_pem(*engine.cert())
        return None
    return read
