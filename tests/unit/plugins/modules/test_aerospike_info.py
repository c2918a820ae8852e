"""aerospike_info: facts from real transcripts, the verdict, waiting, and clear failures."""

import pytest

from ansible_collections.aerostack.swarm.plugins.modules import aerospike_info
from fake_node import FakeNode
from module_runner import run_module


def _run(capsys, **args):
    return run_module(aerospike_info, args, capsys=capsys)


def test_facts_of_a_real_three_node_member_in_one_round_trip(capsys):
    with FakeNode("three-nodes.txt", seeds=["10.0.6.2:3002", "10.0.6.4:3002"]) as node:
        result, failed = _run(capsys, nodes=[node.address], namespaces=["test"])
    assert not failed and result["changed"] is False
    assert result["round_trips"] == 1 and len(node.requests) == 1
    facts = result["nodes"][0]
    assert facts["node_id"] == "BB90306000A4202"
    assert facts["build"] == "8.1.2.0" and facts["edition"] == "Aerospike Community Edition"
    assert facts["simulator"] is False
    assert facts["cluster_size"] == 3 and facts["cluster_key"] == "8D27A45F0E85"
    assert facts["cluster_integrity"] is True and facts["cluster_is_member"] is True
    assert facts["migrate_partitions_remaining"] == 0
    assert facts["mesh_seeds"] == ["10.0.6.2:3002", "10.0.6.4:3002"]
    assert facts["services"] == ["10.0.6.4:3000", "10.0.6.2:3000"]
    assert [p["node_id"] for p in facts["peers"]] == ["BB90406000A4202", "BB90206000A4202"]
    assert facts["namespaces"]["test"]["unavailable_partitions"] == 0
    assert facts["namespaces"]["test"]["replication_factor"] == 2


def test_namespaces_are_discovered_with_one_extra_round_trip_when_not_named(capsys):
    with FakeNode("single-node.txt") as node:
        result, dummy = _run(capsys, nodes=[node.address])
    assert result["round_trips"] == 2
    assert list(result["nodes"][0]["namespaces"]) == ["test"]


def test_a_lone_node_queried_alone_is_a_stable_cluster_of_one(capsys):
    with FakeNode("single-node.txt") as node:
        result, dummy = _run(capsys, nodes=[node.address], namespaces=["test"])
    assert result["cluster"]["stable"] and result["cluster"]["size"] == 1


def test_two_nodes_that_disagree_are_not_stable_and_the_problem_names_them(capsys):
    with FakeNode("three-nodes.txt") as member, FakeNode("single-node.txt") as lone:
        result, failed = _run(capsys, nodes=[member.address, lone.address], namespaces=["test"])
    assert not failed
    cluster = result["cluster"]
    assert not cluster["stable"]
    assert "nodes disagree on the cluster size: 1 on %s; 3 on %s" % (lone.address, member.address) in cluster["problems"]
    assert any("disagree on the cluster key" in p and "26A14B640BE9 on %s" % lone.address in p
               for p in cluster["problems"])


def test_wait_for_passes_when_the_server_confirms_the_size(capsys):
    with FakeNode("three-nodes.txt") as node:
        result, failed = _run(capsys, nodes=[node.address], namespaces=["test"], wait_for={"size": 3, "timeout": 5})
    assert not failed and result["cluster"]["stable"] and result["polls"] == 1
    assert result["nodes"][0]["cluster_stable"] == "8D27A45F0E85"


def test_wait_for_times_out_with_the_per_node_picture(capsys):
    with FakeNode("three-nodes.txt") as node:
        result, failed = _run(capsys, nodes=[node.address], namespaces=["test"],
                              wait_for={"size": 1, "timeout": 0.3, "interval": 0.1})
    assert failed
    assert result["msg"].startswith("the cluster is not stable at size 1 after")
    assert "%s reports cluster_size 3, expected 1" % node.address in result["msg"]
    assert "cluster-stable with ERROR:7:cluster not specified size" in result["msg"]
    assert result["polls"] >= 2


def test_wait_for_waits_through_migrations_until_they_finish(capsys):
    remaining = iter([6975, 359, 0])
    state = {"left": 6975}

    def statistics():
        state["left"] = next(remaining, 0)
        return node.fixture["statistics"].replace("migrate_partitions_remaining=0",
                                                  "migrate_partitions_remaining=%d" % state["left"])

    def stable():
        return "ERROR:7:unstable cluster" if state["left"] else "8D27A45F0E85"

    with FakeNode("three-nodes.txt", overrides={"statistics": statistics,
                                                "cluster-stable:size=3;ignore-migrations=false": stable}) as node:
        result, failed = _run(capsys, nodes=[node.address], namespaces=["test"],
                              wait_for={"size": 3, "timeout": 10, "interval": 0.05})
    assert not failed and result["polls"] == 3


def test_raw_commands_come_back_per_node_errors_included(capsys):
    with FakeNode("three-nodes.txt") as node:
        result, dummy = _run(capsys, nodes=[node.address], namespaces=[], commands=["nosuchcommand", "cluster-stable:"])
    assert result["nodes"][0]["commands"] == {"nosuchcommand": "ERROR:4:unrecognized command",
                                              "cluster-stable:": "8D27A45F0E85"}


def test_an_unknown_namespace_is_reported_missing(capsys):
    with FakeNode("single-node.txt") as node:
        result, dummy = _run(capsys, nodes=[node.address], namespaces=["nosuch"])
    assert result["nodes"][0]["missing_namespaces"] == ["nosuch"]
    assert "has no namespace 'nosuch'" in " ".join(result["cluster"]["problems"])


def test_unreachable_node_fails_unless_allowed(capsys):
    with FakeNode("single-node.txt") as node:
        result, failed = _run(capsys, nodes=[node.address, "127.0.0.1:1"], namespaces=["test"], timeout=1)
        assert failed
        assert result["msg"] == ("1 of 2 nodes did not answer: 127.0.0.1:1: connection refused (is the server "
                                 "running and listening on this address?) (set allow_unreachable to report them "
                                 "instead)")
        result, failed = _run(capsys, nodes=[node.address, "127.0.0.1:1"], namespaces=["test"], timeout=1,
                              allow_unreachable=True)
    assert not failed and result["nodes"][1]["reachable"] is False


@pytest.mark.parametrize("args, message", [
    ({"wait_for": {"size": 0}}, "wait_for.size must be at least 1"),
    ({"wait_for": {"size": 3, "interval": 0}}, "wait_for.interval above 0"),
    ({"nodes": []}, "the list is empty"),
    ({"nodes": ["10.0.0.1:0"]}, "port 0 is out of range"),
    ({"timeout": 0}, "timeout must be above 0"),
    ({"docker_host": "tcp://1.2.3.4:2375", "network_namespace": {"container": "x"}}, "is not a unix socket"),
])
def test_bad_input_fails_clearly_before_anything_is_sent(capsys, args, message):
    with FakeNode("single-node.txt") as node:
        args.setdefault("nodes", [node.address])
        result, failed = _run(capsys, **args)
        assert failed and message in result["msg"]
        assert node.requests == []


def test_network_namespace_of_a_missing_container_fails_naming_it(capsys, tmp_path):
    result, failed = _run(capsys, nodes=["10.0.0.1"], network_namespace={"container": "nope"},
                          docker_host="unix://%s" % (tmp_path / "no.sock"))
    assert failed and "Docker engine at unix://%s" % (tmp_path / "no.sock") in result["msg"]


def _with_second_namespace(node):
    """A node on the NEW configuration of a rolling namespace change: it also has 'persist' (same stats as 'test')."""
    node.overrides["namespaces"] = "test;persist"
    node.overrides["namespace/persist"] = node.fixture["namespace/test"]
    return node


def test_a_node_without_a_namespace_another_node_has_fails_the_default_check(capsys):
    with FakeNode("three-nodes.txt") as old, _with_second_namespace(FakeNode("three-nodes.txt")) as new:
        result, failed = _run(capsys, nodes=[old.address, new.address])
    assert not failed
    assert "%s has no namespace 'persist'" % old.address in result["cluster"]["problems"]
    assert result["cluster"]["stable"] is False


def test_during_a_namespace_change_each_node_is_checked_for_its_own_namespaces(capsys):
    with FakeNode("three-nodes.txt") as old, _with_second_namespace(FakeNode("three-nodes.txt")) as new:
        result, failed = _run(capsys, nodes=[old.address, new.address], namespace_check="own",
                              wait_for={"size": 3, "timeout": 5})
    assert not failed and result["cluster"]["stable"] is True
    assert result["nodes"][0]["missing_namespaces"] == [] and list(result["nodes"][0]["namespaces"]) == ["test"]
    assert sorted(result["nodes"][1]["namespaces"]) == ["persist", "test"]


def test_own_namespace_check_still_reports_a_namespace_with_unavailable_partitions(capsys):
    with _with_second_namespace(FakeNode("three-nodes.txt")) as node:
        node.overrides["namespace/persist"] = node.fixture["namespace/test"].replace(
            "unavailable_partitions=0", "unavailable_partitions=12")
        result, dummy = _run(capsys, nodes=[node.address], namespace_check="own")
    assert "%s namespace persist has 12 unavailable partitions" % node.address in result["cluster"]["problems"]
