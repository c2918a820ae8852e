"""swarm_info: Docker present or not, local membership, the node list on a manager, warnings, waiting."""

import pytest
from fake_swarm_engine import Clock, FakeEngine, cert_reader, make_swarm
from module_runner import run_module

from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import Swarm, gather
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError
from ansible_collections.aerostack.swarm.plugins.modules import swarm_info


@pytest.fixture(autouse=True)
def _fresh_registry():
    FakeEngine.clusters = []
    yield
    FakeEngine.clusters = []


def info(engine, **params):
    clock = Clock()
    swarm = Swarm(engine, read_text=cert_reader(engine), clock=clock, sleep=clock.sleep)
    return gather(swarm, params, network=lambda: {"addresses": ["198.19.30.11"], "interfaces": {}, "default": ""})


def test_a_missing_engine_is_a_result_not_a_failure():
    engine = FakeEngine("lab3", "198.19.30.13")
    engine.down = True
    result = info(engine, network=True)
    assert result["docker"]["available"] is False
    assert result["docker"]["error"].startswith("Docker engine at unix:///var/run/docker.sock: GET /info failed: "
                                                "[Errno 2] No such file or directory")
    assert result["swarm"] is None and result["nodes"] is None and result["network"]["addresses"] == ["198.19.30.11"]


def test_a_manager_lists_every_node_and_warns_about_lost_ones():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"], ["lab4"])
    lab2 = cluster.nodes[engines["lab2"].node_id]
    lab2["Status"]["State"] = "down"
    lab2["ManagerStatus"]["Reachability"] = "unreachable"
    result = info(engines["lab1"])
    assert [n["hostname"] for n in result["nodes"]] == ["lab1", "lab2", "lab3", "lab4"]
    assert result["swarm"]["cluster_id"] == cluster.id and result["swarm"]["is_manager"] is True
    assert result["warnings"] == ["node lab2 (%s, manager, last address 198.19.30.12) is Down: the swarm lost it; as "
                                  "a manager it still counts towards the quorum" % engines["lab2"].node_id]
    assert "join_tokens" not in result


def test_a_worker_reports_its_membership_but_no_nodes():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    result = info(engines["lab4"])
    assert result["nodes"] is None and result["swarm"]["cluster_id"] == cluster.id
    assert result["swarm"]["is_manager"] is False


def test_a_manager_without_leader_reports_why_it_cannot_list_nodes():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"])
    cluster.leader = False
    result = info(engines["lab1"])
    assert result["nodes"] is None
    assert "The swarm does not have a leader" in result["nodes_error"]
    assert result["warnings"][0].startswith("this manager cannot list the swarm's nodes: list the swarm's nodes failed")


def test_join_tokens_only_when_asked():
    cluster, engines = make_swarm(["lab1"])
    assert info(engines["lab1"], join_tokens=True)["join_tokens"] == {
        "manager": cluster.tokens["Manager"], "worker": cluster.tokens["Worker"]}


def test_waiting_for_ready_nodes_fails_naming_the_ones_not_ready():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    cluster.nodes[engines["lab4"].node_id]["Status"]["State"] = "unknown"
    with pytest.raises(SwarmError) as err:
        info(engines["lab1"], wait_ready=[engines["lab1"].node_id, "lab4"], wait_timeout=2)
    assert str(err.value) == "waited 2s for nodes %s, lab4 to be ready: lab4 is unknown" % engines["lab1"].node_id


def test_waiting_on_a_worker_is_refused():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    with pytest.raises(SwarmError, match="wait_ready needs a manager's engine, but this engine is a worker"):
        info(engines["lab4"], wait_ready=["lab1"])


def test_main_never_reports_a_change_and_passes_warnings(monkeypatch, capsys):
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    cluster.nodes[engines["lab4"].node_id]["Status"]["State"] = "down"
    monkeypatch.setattr(swarm_info, "DockerApi", lambda path: engines["lab1"])
    # Where ansible-core routes module warnings depends on what else the test process imported: record the calls.
    warned = []
    monkeypatch.setattr(swarm_info.AnsibleModule, "warn", lambda self, text: warned.append(text))
    result, failed = run_module(swarm_info, {}, check_mode=True, capsys=capsys)
    assert not failed and result["changed"] is False
    assert len(warned) == 1 and warned[0].startswith("node lab4") and "is Down: the swarm lost it" in warned[0]
