"""docs/bad-input.md cannot rot: every row names tests that exist, and every exact message in it is what the code says.

The doc's tables have one row per bad input: ``| ID | where | bad input | message | proved by |``. A message in
backticks is exact (``<...>`` stands for a varying part: a host, a path, an ID; ``\\n`` is a line break); any other
message cell describes an outcome that is not an error message. For each exact message either

* ``PRODUCERS`` below holds a function that feeds the row's input to the code and returns the message the user
  gets, which must match the doc (``test_the_code_gives_the_documented_message``), or
* a test the row names asserts that whole message as one string literal
  (``test_a_row_without_a_producer_quotes_what_its_test_asserts``).

Rows whose only proof is their producer name ``tests/unit/test_bad_input_matrix.py::
test_the_code_gives_the_documented_message[ID]``.
"""

import ast
import contextlib
import io
import json
import re
import socket
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_conf as conf
from ansible_collections.aerostack.swarm.plugins.module_utils import _app_stack as app_stack
from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_info as info
from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_ops as ops
from ansible_collections.aerostack.swarm.plugins.module_utils import _swarm_plan as plan
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import Swarm, gather
from ansible_collections.aerostack.swarm.plugins.modules import (
    aerospike_info,
    aerospike_stack_info,
    aerospike_tip,
    swarm_info,
    swarm_join,
)
import fake_swarm_engine as fakes
from info_fuzz import FakeInfoSocket, answering, scripted
from transcripts import answers as fixture_answers
from transcripts import frame

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "bad-input.md"
THIS = "tests/unit/test_bad_input_matrix.py"
ROW = re.compile(r"^\|\s*([VMP]-\d+)\s*\|")
REF = re.compile(r"`([\w/.-]+\.py)::(\w+)(?:\[([^\]]+)\])?`")
PLACEHOLDER = re.compile(r"<[a-z][a-z _-]*>")


def _cells(line):
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def parse_doc(text):
    """The rows of every table: ``{"id", "where", "input", "message" (None when descriptive), "refs"}``."""
    rows = []
    for line in text.splitlines():
        if not ROW.match(line):
            continue
        cells = _cells(line)
        assert len(cells) == 5, "a row needs 5 cells: %s" % line
        row_id, where, given, message, proof = cells
        exact = None
        if message.startswith("`") and message.endswith("`") and message.count("`") == 2:
            exact = message[1:-1].replace("\\n", "\n")
        rows.append({"id": row_id, "where": where, "input": given, "message": exact, "cell": message,
                     "refs": REF.findall(proof)})
    return rows


ROWS = parse_doc(DOC.read_text()) if DOC.exists() else []


def matches(documented, actual):
    """Whether ``actual`` is the documented message, ``<...>`` parts standing for any text."""
    parts = PLACEHOLDER.split(documented)
    pattern = ".+?".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, actual, re.S) is not None


def _string_literals(path):
    literals = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            literals.add(node.value)
    return literals


def _functions(path):
    return set(n.name for n in ast.walk(ast.parse(path.read_text()))
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


# --- running the code with a row's input ------------------------------------------------------------------------

def module_failure(module, args):
    """The ``msg`` a module's ``main()`` fails with for ``args`` (the test fails if the module succeeds)."""
    out = io.StringIO()
    with patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            module.main()
    result = json.loads(out.getvalue())
    assert result.get("failed"), "the module did not fail: %s" % result
    return result["msg"]


def module_result(module, args):
    out = io.StringIO()
    with patch_module_args(dict(args, _ansible_check_mode=False, _ansible_diff=False)):
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            module.main()
    return json.loads(out.getvalue())


SINGLE = fixture_answers("single-node.txt")  # a lone 8.1.2.0 node without mesh seeds


def nodes_answering(respond):
    """Patch the socket factory the info client uses, so ``10.0.6.2:3000`` is a fake node answering ``respond``."""
    def connect(address, timeout):
        return FakeInfoSocket(respond)
    return mock.patch.object(info.socket, "create_connection", connect)


def refusing_connections():
    def connect(address, timeout):
        raise ConnectionRefusedError(111, "Connection refused")
    return mock.patch.object(info.socket, "create_connection", connect)


def tip(args, table=None, respond=None):
    with nodes_answering(respond or answering(dict(SINGLE, **(table or {})))):
        return module_failure(aerospike_tip, dict({"nodes": ["10.0.6.2"]}, **args))


def facts(args, table=None, respond=None):
    with nodes_answering(respond or answering(dict(SINGLE, **(table or {})))):
        return module_failure(aerospike_info, dict({"nodes": ["10.0.6.2"], "namespaces": ["test"]}, **args))


def facts_problems(args, table=None):
    with nodes_answering(answering(dict(SINGLE, **(table or {})))):
        result = module_result(aerospike_info, dict({"nodes": ["10.0.6.2"], "namespaces": ["test"]}, **args))
    return "; ".join(result["cluster"]["problems"])


def seeds_reply(reply, end="close"):
    """``aerospike_tip`` against a node whose first reply (to the seed read) is ``reply``."""
    return tip({"peers": ["10.0.6.4"], "timeout": 1}, respond=scripted(reply, end))


class SeedNode:
    """A lone 8.1.2.0 node whose mesh seeds change with tip and tip-clear, answering like the real server
    (the same rules as tests/helpers/fake_node.py, without a listening socket); ``overrides`` force answers."""

    def __init__(self, seeds=(), alumni="", overrides=None):
        self.seeds = list(seeds)
        self.table = dict(SINGLE, **{"services-alumni": alumni})
        self.overrides = dict(overrides or {})

    def get(self, command):
        if command in self.overrides:
            return self.overrides[command]
        if command.startswith("tip:host="):
            host, _sep, port = command[len("tip:host="):].partition(";port=")
            if "%s:%s" % (host, port) in self.seeds:
                return "ERROR::unknown"
            self.seeds.append("%s:%s" % (host, port))
            return "ok"
        if command.startswith("tip-clear:host-port-list="):
            items = command.split("=", 1)[1].split(",")
            found = [i for i in items if i in self.seeds]
            self.seeds = [s for s in self.seeds if s not in found]
            return "ok" if len(found) == len(items) else "ERROR::%d cleared, %d not found" % (
                len(found), len(items) - len(found))
        if command == "get-config:context=network":
            return "heartbeat.mode=mesh" + "".join(";heartbeat.mesh-seed-address-port=%s" % s for s in self.seeds)
        return self.table.get(command)


def tip_node(args, node):
    with nodes_answering(answering(node)):
        return module_failure(aerospike_tip, dict({"nodes": ["10.0.6.2"]}, **args))


def app_problem(warning=False, **changes):
    """The app role's preflight item for settings with the statistics page on (with credentials) and ``changes``."""
    spec = {"stack": "hitcounter", "aerospike_stack": "aerostack", "image": "aerostack/hitcounter:0.2.0",
            "replicas": 3, "web_port": 8080, "web_constraints": [], "web_memory": "128M", "namespace": "test",
            "hits_set": "hits", "totals_set": "totals", "lb_image": "haproxy:3.0.5-bookworm", "lb_port": 8080,
            "lb_constraints": [], "lb_memory": "128M", "max_backends": 16, "stats_enabled": True, "stats_port": 8404,
            "stats_sources": ["192.0.2.0/24"], "stats_auth": True, "stats_user": "stats",
            "stats_password": "from-a-vault"}
    spec.update(changes)
    result = app_stack.check_spec(spec)
    items = result["warnings"] if warning else result["errors"]
    assert len(items) == 1, result
    return items[0]


def conf_problem(**changes):
    settings = {
        "cluster_name": "aerostack", "bind_interface": "eth0", "service": {"proto-fd-max": 15000},
        "logging": [{"sink": "console", "contexts": {"any": "info"}}], "network": {},
        "namespaces": [{"name": "test", "replication_factor": 2, "storage": {"type": "memory", "data_size": "1G"},
                        "options": {"nsup-period": 120}}],
    }
    namespace = changes.pop("namespace", None)
    if namespace:
        settings["namespaces"] = [dict(settings["namespaces"][0], **namespace)]
    deployment = changes.pop("deployment", {})
    settings.update(changes)
    result = conf.check_deployment(settings, deployment.get("replicas", 3), deployment.get("eligible", 3),
                                   deployment.get("nofile", 65536),
                                   deployment.get("image", "aerospike/aerospike-server:8.1.2.0"),
                                   deployment.get("edition", "community"))
    problems = result["errors"] or result["warnings"]
    assert len(problems) == 1, problems
    return problems[0]


def raised(error_type, func, *args, **kwargs):
    with pytest.raises(error_type) as err:
        func(*args, **kwargs)
    return str(err.value)


def _members(count, labelled=None, down=()):
    """node_summary rows of lab1..lab<count>; the first ``labelled`` (all by default) carry the placement label."""
    labelled = count if labelled is None else labelled
    return [{"id": "lab%d" % i, "hostname": "lab%d" % i, "labelled": i <= labelled, "ready": "lab%d" % i not in down,
             "state": "down" if "lab%d" % i in down else "ready", "availability": "active", "role": "manager"}
            for i in range(1, count + 1)]


# Reports of five hosts for the whole swarm plan (as the role collects them), lab1-3 managers of CLUSTER.
CLUSTER = "k3qmn8wq1v0l5y2w9x7c6b4a1"


def _node(host, role="worker", state="ready", node_id=None):
    return {"id": node_id or "id-" + host, "hostname": host, "role": role, "availability": "active", "labels": {},
            "state": state, "addr": "172.30.0.1%s" % host[-1], "leader": False,
            "reachability": "reachable" if role == "manager" else None,
            "manager_addr": "172.30.0.1%s:2377" % host[-1] if role == "manager" else None, "created_at": "2026"}


def _report(host, state="active", manager=False, cluster=CLUSTER, nodes=None, docker=True, **extra):
    swarm = {"local_state": state, "node_id": "id-" + host, "is_manager": manager, "cluster_id": cluster,
             "error": extra.pop("swarm_error", None), "remote_managers": [], "hostname": host}
    report = {"reachable": True, "address": "172.30.0.1%s" % host[-1], "labels": {},
              "info": {"docker": {"available": docker, "error": None if docker else (
                  "Docker engine at unix:///var/run/docker.sock: GET /info failed: [Errno 2] No such file or "
                  "directory (is the engine running, and may this user use its socket?)")},
                  "swarm": swarm if docker else None, "nodes": nodes},
              "network": {"addresses": ["172.30.0.1%s" % host[-1]],
                          "interfaces": {"eth0": ["172.30.0.1%s" % host[-1]]}, "default": "172.30.0.1%s" % host[-1]}}
    report.update(extra)
    return report


def swarm_refusal(change, settings=None, first=False):
    """The one problem line (or the first, with ``first``) of the plan for a formed 5-host swarm after ``change``."""
    hosts = ["lab1", "lab2", "lab3", "lab4", "lab5"]
    nodes = [_node(h, "manager" if h in ("lab1", "lab2", "lab3") else "worker") for h in hosts]
    reports = dict((h, _report(h, manager=h in ("lab1", "lab2", "lab3"),
                               nodes=nodes if h in ("lab1", "lab2", "lab3") else None)) for h in hosts)
    change(reports, nodes)
    message = raised(plan.SwarmError, plan.plan_swarm, hosts, reports, dict({"managers_max": 3}, **(settings or {})))
    lines = message.split("\n")
    assert lines[0] == "swarm plan refused, nothing was changed:" and (first or len(lines) == 2), message
    return lines[1][2:]


def _set(host, **kwargs):
    def change(reports, nodes):
        reports[host] = _report(host, **kwargs)
    return change


def _unreachable(host, error):
    def change(reports, nodes):
        reports[host] = {"reachable": False, "error": error, "address": "172.30.0.1%s" % host[-1]}
    return change


def _foreign_manager(reports, nodes):
    nodes.append(_node("ext9", "manager"))


def _no_leader(reports, nodes):
    for host in ("lab1", "lab2", "lab3"):
        reports[host]["info"]["nodes"] = None
        reports[host]["info"]["nodes_error"] = ("list the swarm's nodes failed: Docker engine: GET /nodes failed: "
                                                "HTTP 503: rpc error: code = Unknown desc = The swarm does not have "
                                                "a leader.")


NETWORK = {"addresses": ["172.30.0.11", "10.9.0.1"],
           "interfaces": {"eth0": ["172.30.0.11"], "lo": ["127.0.0.1"], "eth1": ["10.9.0.1"], "dummy0": []},
           "default": "172.30.0.11"}


def advertise(**settings):
    return raised(plan.SwarmError, plan.resolve_advertise, "lab1", dict(settings, network=NETWORK))


def _facts_without_nodes(args):
    return module_failure(aerospike_info, dict({"namespaces": ["test"]}, **args))


def _dns_failure():
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with mock.patch.object(socket, "getaddrinfo", getaddrinfo):
        return _facts_without_nodes({"nodes_from_dns": "tasks.nosuch"})


def _tip_unreachable():
    with refusing_connections():
        return module_failure(aerospike_tip, {"nodes": ["10.0.6.2"], "peers": ["10.0.6.4"]})


def _unreachable_node():
    respond = answering(SINGLE)

    def connect(address, timeout):
        if address[0] == "10.0.6.3":
            raise ConnectionRefusedError(111, "Connection refused")
        return FakeInfoSocket(respond)
    with mock.patch.object(info.socket, "create_connection", connect):
        return module_failure(aerospike_info, {"nodes": ["10.0.6.2", "10.0.6.3"], "namespaces": ["test"]})


# --- swarm_join and swarm_info against the in-memory engines of tests/helpers/fake_swarm_engine.py --------------

JOIN_DEFAULTS = dict(state="joined", node=None, role=None, cluster_id=None, remote_addrs=None, join_token=None,
                     advertise_addr=None, listen_addr="0.0.0.0:2377", data_path_addr=None, availability=None,
                     labels=None, labels_absent=None, labels_exclusive=False, force=False, force_new_cluster=False,
                     wait=True, wait_timeout=60, return_join_tokens=False, docker_host="unix:///var/run/docker.sock")


def stack_info_refusal(args):
    return module_failure(aerospike_stack_info, args)


def swarm_join_refusal(setup, **params):
    """``setup(make_swarm, FakeEngine) -> engine``; the SwarmError message of swarm_join run there with ``params``."""
    fakes.FakeEngine.clusters = []
    try:
        engine = setup(fakes.make_swarm, fakes.FakeEngine)
        clock = fakes.Clock()
        swarm = Swarm(engine, read_text=fakes.cert_reader(engine), clock=clock, sleep=clock.sleep, interval=0.5)
        return raised(plan.SwarmError, swarm_join.run, dict(JOIN_DEFAULTS, **params), False, swarm=swarm)
    finally:
        fakes.FakeEngine.clusters = []


def swarm_info_refusal(setup, **params):
    """``setup(make_swarm, FakeEngine) -> engine``; the SwarmError message of swarm_info's gathering there."""
    fakes.FakeEngine.clusters = []
    try:
        engine = setup(fakes.make_swarm, fakes.FakeEngine)
        clock = fakes.Clock()
        swarm = Swarm(engine, read_text=fakes.cert_reader(engine), clock=clock, sleep=clock.sleep)
        return raised(plan.SwarmError, gather, swarm, params, network=lambda: None)
    finally:
        fakes.FakeEngine.clusters = []


def _pending(make_swarm, engine_class):
    make_swarm(["lab1"])
    engine = engine_class("lab4", "198.19.30.14")
    engine.state, engine.error, engine.node_id = "pending", "rpc error: code = Unavailable desc = connection refused", "x1"
    return engine


def _locked(make_swarm, engine_class):
    engine = engine_class("lab4", "198.19.30.14")
    engine.state = "locked"
    return engine


def _manager(name):
    return lambda make_swarm, engine_class: make_swarm(["lab1", "lab2", "lab3"], ["lab4"])[1][name]


def _worker(make_swarm, engine_class):
    return make_swarm(["lab1"], ["lab4"])[1]["lab4"]


PRODUCERS = {
    # --- the swarm role: one line per problem of the plan ------------------------------------------------------
    "V-10": lambda: raised(plan.SwarmError, plan.check_managers_max, 8),
    "V-11": lambda: raised(plan.SwarmError, plan.check_managers_max, 4),
    "V-12": lambda: raised(plan.SwarmError, plan.plan_managers, ["lab1", "lab2", "lab3", "lab4", "lab5"],
                           pinned_managers=["lab1", "lab2"]),
    "V-13": lambda: raised(plan.SwarmError, plan.plan_managers, ["n%d" % i for i in range(9)],
                           pinned_managers=["n%d" % i for i in range(9)]),
    "V-14": lambda: raised(plan.SwarmError, plan.plan_managers, ["lab1", "lab2"], pinned_managers=["lab1", "lab9"]),
    "V-15": lambda: raised(plan.SwarmError, plan.plan_managers, ["lab1", "lab2"], pinned_managers=["lab1"],
                           pinned_workers=["lab1"]),
    "V-17": lambda: raised(plan.SwarmError, plan.plan_managers, ["lab1", "lab2", "lab1"]),
    "V-18": lambda: advertise(advertise_addr="10.9.0.99"),
    "V-19": lambda: advertise(advertise_addr="lab1.example"),
    "V-20": lambda: advertise(advertise_addr="127.0.0.1"),
    "V-21": lambda: advertise(advertise_interface="eth9"),
    "V-22": lambda: advertise(advertise_interface="dummy0"),
    "V-23": lambda: advertise(advertise_addr="10.9.0.1", advertise_interface="eth1"),
    "V-24": lambda: swarm_refusal(_set("lab4", docker=False)),
    "V-25": lambda: swarm_refusal(_unreachable("lab4", "Failed to connect to the host via ssh: Connection refused")),
    "V-26": lambda: swarm_refusal(_set("lab5", manager=True, cluster="othercluster0000000000000",
                                       nodes=[_node("lab5", "manager")])),
    "V-27": lambda: swarm_refusal(_set("lab4", state="pending", cluster=None,
                                       swarm_error="rpc error: connection refused")),
    "V-28": lambda: swarm_refusal(_set("lab4", state="locked", cluster=None)),
    "V-29": lambda: swarm_refusal(_foreign_manager),
    "V-30": lambda: swarm_refusal(lambda reports, nodes: None, {"cluster_id": "nosuchcluster"}, first=True),
    "V-31": lambda: swarm_refusal(_no_leader),
    "V-32": lambda: swarm_refusal(lambda reports, nodes: reports.update(lab4={"missing": True})),
    "V-72": lambda: swarm_refusal(lambda reports, nodes: reports["lab2"].update(labels={"aerostack.aerospike": "true"})),
    # --- the aerospike role's preflight -----------------------------------------------------------------------
    "V-41": lambda: conf_problem(deployment={"replicas": 0}),
    "V-42": lambda: conf_problem(namespace={"replication_factor": 3}, deployment={"replicas": 2, "eligible": 3}),
    "V-43": lambda: conf_problem(service={"transaction-queues": 4}),
    "V-44": lambda: conf_problem(namespace={"options": {"default-ttl": "30d"}}),
    "V-45": lambda: conf_problem(namespace={"options": {"nsup-period": 120, "rack-id": 1}}),
    "V-46": lambda: conf_problem(namespace={"storage": {"type": "ssd", "data_size": "1G"}}),
    "V-47": lambda: conf_problem(namespace={"storage": {"type": "memory"}}),
    "V-48": lambda: conf_problem(namespace={"storage": {"type": "memory", "data_size": "lots"}}),
    "V-49": lambda: conf_problem(namespace={"storage": {"type": "file", "filesize": "4G", "file": "/var/lib/x.dat"}}),
    "V-50": lambda: conf_problem(bind_interface="any"),
    "V-51": lambda: conf_problem(network={"heartbeat": {"mesh-seed-address-port": "tasks.x 3002"}}),
    "V-52": lambda: conf_problem(network={"info": {"port": 3003}}),
    "V-53": lambda: conf_problem(cluster_name="has space"),
    "V-54": lambda: conf_problem(namespaces=[]),
    "V-55": lambda: conf_problem(service={"proto-fd-max": 15000, "work-directory": "x { y"}),
    "V-56": lambda: conf_problem(service={"proto-fd-max": 70000}),
    "V-57": lambda: conf_problem(deployment={"image": "aerospike/aerospike-server:latest"}),
    "V-58": lambda: conf_problem(deployment={"image": "aerospike/aerospike server"}),
    "V-59": lambda: conf.engine_nofile_problem(
        "Max open files            1024                 4096                 files\nCapEff:\t00000000a80425fb\n",
        65536, "lab3"),
    "V-60": lambda: raised(ops.OpsError, ops.scale_steps, 5, 1, min_replicas=2),
    "V-61": lambda: raised(ops.OpsError, ops.scale_steps, 3, 0),
    "V-62": lambda: conf_problem(logging=[{"sink": "stdout", "contexts": {"any": "info"}}]),
    "V-33": lambda: raised(plan.SwarmError, plan.check_quorum, ["lab1", "lab2", "lab3"], ["lab2", "lab3"]),
    "V-67": lambda: ops.placement_refusal(ops.placement_plan(_members(3), [], [], 2), 2, "aerostack_aerospike"),
    "V-69": lambda: ops.service_mode_problem({"exists": True, "mode": "replicated"}, "aerostack_aerospike"),
    "V-71": lambda: ops.placement_plan(_members(5, labelled=3, down=["lab4"]), ["lab%d" % i for i in range(1, 6)], [],
                                       5)["short"],
    # --- the app role's preflight ----------------------------------------------------------------------------------
    "V-80": lambda: app_problem(stats_port=70000),
    "V-81": lambda: app_problem(stats_port=8080),
    "V-82": lambda: app_problem(stats_sources=[]),
    "V-83": lambda: app_problem(stats_sources=["office"]),
    "V-84": lambda: app_problem(stats_password=""),
    "V-85": lambda: app_problem(stats_user="ad:min"),
    "V-86": lambda: app_problem(stats_password="tab\there"),
    "V-87": lambda: app_problem(warning=True, stats_auth=False, stats_password=""),
    # --- module arguments ----------------------------------------------------------------------------------------
    "M-01": lambda: facts({"nodes": []}),
    "M-02": lambda: facts({"nodes": ["10.0.0.1:0"]}),
    "M-03": lambda: facts({"nodes": ["10.0.0.1:abc"]}),
    "M-04": lambda: facts({"nodes": ["[::1"]}),
    "M-05": lambda: facts({"port": 0}),
    "M-06": lambda: facts({"timeout": 0}),
    "M-07": lambda: facts({"nodes_from_dns": "tasks.x"}),
    "M-08": lambda: _facts_without_nodes({}),
    "M-18": lambda: facts({"nodes": None}),
    "M-09": lambda: facts({"docker_host": "tcp://1.2.3.4:2375", "network_namespace": {"container": "x"}}),
    "M-10": lambda: facts({"network_namespace": {"container": "x", "service": "y"}}),
    "M-11": lambda: facts({"docker_host": "unix:///nonexistent/aerostack-test/docker.sock",
                           "network_namespace": {"container": "nope"}}),
    "M-12": _dns_failure,
    "M-13": lambda: facts({"wait_for": {"size": 0}}),
    "M-14": lambda: facts({"wait_for": {"size": 3, "interval": 0}}),
    "M-15": lambda: facts({"wait_for": {"timeout": 5}}),
    "M-16": lambda: facts({"wait_for": {"size": 3, "timeout": 0}}),
    "M-17": _unreachable_node,
    "M-20": lambda: tip({"peers": []}),
    "M-21": lambda: tip({"peers": ["10.0.6.4:70000"]}),
    "M-22": lambda: tip({"peers": ["10.0.6.4:x"]}),
    "M-23": lambda: tip({"peers": ["10.0.6.4"], "heartbeat_port": 0}),
    "M-24": lambda: tip({"peers": ["10.0.6.4"], "reset_alumni": True}),
    "M-25": lambda: tip({"peers": ["10.0.6.4"], "state": "gone"}),
    "M-26": lambda: tip({}),
    "M-27": _tip_unreachable,
    "M-58": lambda: stack_info_refusal({"stack": "astest", "docker_host": "unix:///nonexistent/aerostack-test/docker.sock"}),
    "M-36": lambda: swarm_join_refusal(_pending, role="worker", remote_addrs=["198.19.30.11"], join_token="t"),
    "M-37": lambda: swarm_join_refusal(_locked, force=True, remote_addrs=["198.19.30.11"], join_token="t"),
    "M-39": lambda: swarm_join_refusal(_manager("lab2"), state="absent"),
    "M-43": lambda: swarm_join_refusal(_manager("lab1"), node="lab4", state="absent"),
    "M-44": lambda: swarm_join_refusal(_manager("lab1"), node="lab2", state="absent"),
    "M-45": lambda: module_failure(swarm_join, {"role": "worker", "join_token": "x"}),
    "M-47": lambda: swarm_join_refusal(_worker, state="init", force_new_cluster=True),
    "M-48": lambda: swarm_join_refusal(_manager("lab1"), node="lab4", role="manager", cluster_id="someotherswarm"),
    "M-49": lambda: swarm_join_refusal(_manager("lab1"), wait_timeout=0, state="init"),
    "M-50": lambda: swarm_info_refusal(_worker, wait_ready=["lab1"], wait_timeout=60),
    "M-53": lambda: module_failure(swarm_info, {"docker_host": "tcp://10.0.0.1:2375"}),
    # --- protocol replies ----------------------------------------------------------------------------------------
    "P-01": lambda: seeds_reply(bytes([3, 5]) + frame(b"x")[2:]),
    "P-02": lambda: seeds_reply(frame(b"get-config:context=network\tservice.port=3000\n")[:20]),
    "P-03": lambda: seeds_reply(b""),
    "P-04": lambda: seeds_reply(bytes([2, 1]) + (1 << 40).to_bytes(6, "big")),
    "P-05": lambda: seeds_reply(frame(b"\xff\xfe\x00garbage without structure")),
    "P-06": lambda: seeds_reply(frame(b"build\t8.1.2.0\n")),
    "P-07": lambda: seeds_reply(b"", end="silent"),
    "P-08": lambda: facts({}, respond=scripted(bytes([3, 5]) + frame(b"x")[2:])),
    "P-10": lambda: tip({"peers": ["10.0.6.4"]}, table={"tip:host=10.0.6.4;port=3002": "ERROR:4:missing 'port'"}),
    "P-11": lambda: tip({"peers": ["10.0.6.4"]}, table={"get-config:context=network": "error"}),
    "P-12": lambda: tip_node({"peers": ["10.0.6.4"], "state": "absent"}, SeedNode(
        ["10.0.6.4:3002"], overrides={"tip-clear:host-port-list=10.0.6.4:3002": "FAIL:2:not allowed"})),
    "P-13": lambda: tip_node({"peers": ["10.0.6.9"], "state": "absent", "reset_alumni": True}, SeedNode(
        ["10.0.6.9:3002"], alumni="10.0.6.2:3000;10.0.6.9:3000",
        overrides={"services-alumni-reset": "ERROR:4:unrecognized command"})),
    "P-15": lambda: facts({"wait_for": {"size": 1, "timeout": 0}},
                          table={"cluster-stable:size=1;ignore-migrations=false": "ERROR:7:unstable cluster"}),
    "P-16": lambda: facts_problems({"namespaces": ["nosuch"]}),
    "P-17": lambda: facts_problems({}, table={"get-config:context=network":
                                              "heartbeat.mode=mesh;heartbeat.mesh-seed-address-port=10.0.6.4:x"}),
    "P-18": lambda: facts_problems({}, table={"peers-clear-std": "4,3000," + "[" * 20 + "]" * 20}),
}


# --- the checks ----------------------------------------------------------------------------------------------------

def test_the_matrix_covers_variables_module_arguments_and_protocol_replies():
    assert DOC.exists(), "docs/bad-input.md is missing"
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids)), "duplicate row IDs: %s" % sorted(i for i in ids if ids.count(i) > 1)
    for prefix, least in (("V-", 30), ("M-", 20), ("P-", 12)):
        assert len([i for i in ids if i.startswith(prefix)]) >= least, "too few %s rows" % prefix


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_every_row_names_tests_that_exist(row):
    assert row["refs"], "%s names no test" % row["id"]
    for path, function, param in row["refs"]:
        file = REPO / path
        assert file.is_file(), "%s: %s does not exist" % (row["id"], path)
        assert function in _functions(file), "%s: %s has no function %s" % (row["id"], path, function)
        if param:
            assert path == THIS and function == "test_the_code_gives_the_documented_message", (
                "%s: only this file's producer test takes a row ID as parameter" % row["id"])
            assert param == row["id"] and param in PRODUCERS, "%s: no producer for %s" % (row["id"], param)


@pytest.mark.parametrize("row_id", sorted(PRODUCERS))
def test_the_code_gives_the_documented_message(row_id):
    row = next((r for r in ROWS if r["id"] == row_id), None)
    assert row is not None, "producer %s has no row in docs/bad-input.md" % row_id
    assert row["message"] is not None, "%s: a row with a producer must quote its message in backticks" % row_id
    actual = PRODUCERS[row_id]()
    assert matches(row["message"], actual), "%s: the doc says\n  %r\nthe code says\n  %r" % (
        row_id, row["message"], actual)


@pytest.mark.parametrize("row", [r for r in ROWS if r["id"] not in PRODUCERS], ids=lambda r: r["id"])
def test_a_row_without_a_producer_quotes_what_its_test_asserts(row):
    if row["message"] is None:
        assert not row["cell"].startswith("`"), "%s: a message cell is one code span or plain text" % row["id"]
        return  # an outcome that is not an error message: the named test proves it
    literals = set()
    for path, _function, _param in row["refs"]:
        literals |= _string_literals(REPO / path)
    assert any(matches(row["message"], literal) for literal in literals), (
        "%s: no test it names asserts the whole message %r; add a producer" % (row["id"], row["message"]))


@pytest.mark.parametrize("documented, actual, expected", [
    ("port <n> is out of range", "port 0 is out of range", True),
    ("port <n> is out of range", "port 0 is out of range!", False),
    ("a\nb", "a\nb", True),
    ("x (y)", "x (y)", True),
])
def test_placeholders_stand_for_varying_text_and_nothing_else(documented, actual, expected):
    assert matches(documented, actual) is expected


def test_the_doc_parser_reads_escaped_pipes_line_breaks_and_references():
    rows = parse_doc("| M-99 | here | `a\\|b` | `x:\\ny` | `tests/a.py::test_b`<br>`tests/c.py::test_d[M-99]` |\n"
                     "| not a row |\n")
    assert rows == [{"id": "M-99", "where": "here", "input": "`a|b`", "message": "x:\ny", "cell": "`x:\\ny`",
                     "refs": [("tests/a.py", "test_b", ""), ("tests/c.py", "test_d", "M-99")]}]
