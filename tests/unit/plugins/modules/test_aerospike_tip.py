"""aerospike_tip: idempotent tips and tip-clears over a server that is not idempotent itself."""

import pytest

from ansible_collections.aerostack.swarm.plugins.modules import aerospike_tip
from fake_node import FakeNode
from module_runner import run_module


@pytest.fixture
def node():
    with FakeNode(seeds=["10.0.6.2:3002"]) as fake:
        yield fake


def _run(capsys, node, check_mode=False, diff=True, **args):
    args.setdefault("nodes", [node.address])
    return run_module(aerospike_tip, args, check_mode=check_mode, diff=diff, capsys=capsys)


def _tips(node):
    return [c for c in node.sent if c.startswith("tip")]


def test_tip_adds_missing_seeds_and_reports_change(capsys, node):
    result, failed = _run(capsys, node, peers=["10.0.6.2", "10.0.6.4"])
    assert not failed and result["changed"]
    assert _tips(node) == ["tip:host=10.0.6.4;port=3002"]
    assert node.seeds == ["10.0.6.2:3002", "10.0.6.4:3002"]
    entry = result["nodes"][0]
    assert entry["tipped"] == ["10.0.6.4:3002"]
    assert entry["seeds_before"] == ["10.0.6.2:3002"]
    assert entry["seeds_after"] == ["10.0.6.2:3002", "10.0.6.4:3002"]
    assert result["diff"]["before"] != result["diff"]["after"]


def test_tip_in_four_passes_check_real_idempotent_idempotent_check(capsys, node):
    peers = ["10.0.6.4", "10.0.6.5:3002"]
    first, dummy = _run(capsys, node, check_mode=True, peers=peers)
    assert first["changed"] and _tips(node) == [] and node.seeds == ["10.0.6.2:3002"]
    real, dummy = _run(capsys, node, peers=peers)
    assert real["changed"] and node.seeds == ["10.0.6.2:3002", "10.0.6.4:3002", "10.0.6.5:3002"]
    again, dummy = _run(capsys, node, peers=peers)
    assert not again["changed"]
    again_check, dummy = _run(capsys, node, check_mode=True, peers=peers)
    assert not again_check["changed"]
    assert _tips(node) == ["tip:host=10.0.6.4;port=3002", "tip:host=10.0.6.5;port=3002"]


def test_tip_skips_seed_already_configured_and_never_sends_a_duplicate(capsys, node):
    result, failed = _run(capsys, node, peers=["10.0.6.2"])
    assert not failed and not result["changed"]
    assert _tips(node) == []


def test_tip_never_tips_a_node_into_itself(capsys, node):
    result, dummy = _run(capsys, node, peers=[node.host, "10.0.6.9"])
    assert result["nodes"][0]["tipped"] == ["10.0.6.9:3002"]


def test_a_seed_tipped_by_someone_else_meanwhile_is_not_a_failure(capsys):
    # The server answers ERROR::unknown (duplicate) because another process tipped it after our read.
    with FakeNode(overrides={"tip:host=10.0.6.4;port=3002": "ERROR::unknown"}) as fake:
        fake.seeds.append("10.0.6.4:3002")
        original = fake.get

        reads = []

        def hide_first_read(command):
            if command == "get-config:context=network" and not reads:
                reads.append(command)
                saved = fake.seeds
                fake.seeds = []
                try:
                    return original(command)
                finally:
                    fake.seeds = saved
            return original(command)
        fake.get = hide_first_read
        result, failed = _run(capsys, fake, peers=["10.0.6.4"])
    assert not failed
    assert not result["changed"]
    assert result["nodes"][0]["already"] == ["10.0.6.4:3002"]


def test_a_refused_tip_fails_with_node_peer_and_server_error(capsys):
    with FakeNode(overrides={"tip:host=10.0.6.4;port=3002": "ERROR:4:missing 'port'"}) as fake:
        result, failed = _run(capsys, fake, peers=["10.0.6.4"])
    assert failed
    assert result["msg"] == "tip 10.0.6.4:3002 into %s failed: ERROR:4:missing 'port'" % fake.address


def test_tip_clear_removes_only_configured_seeds_with_the_colon_form(capsys, node):
    result, failed = _run(capsys, node, peers=["10.0.6.2", "10.0.6.7"], state="absent")
    assert not failed and result["changed"]
    assert _tips(node) == ["tip-clear:host-port-list=10.0.6.2:3002"]
    assert node.seeds == []
    again, dummy = _run(capsys, node, peers=["10.0.6.2", "10.0.6.7"], state="absent")
    assert not again["changed"] and _tips(node) == ["tip-clear:host-port-list=10.0.6.2:3002"]


def test_tip_clear_in_check_mode_changes_nothing(capsys, node):
    result, dummy = _run(capsys, node, check_mode=True, peers=["10.0.6.2"], state="absent")
    assert result["changed"] and node.seeds == ["10.0.6.2:3002"]
    assert result["nodes"][0]["seeds_after"] == []


def test_alumni_reset_only_when_departed_nodes_linger(capsys):
    with FakeNode(seeds=["10.0.6.9:3002"], alumni="10.0.6.4:3000;10.0.6.2:3000;10.0.6.9:3000") as fake:
        result, dummy = _run(capsys, fake, peers=["10.0.6.9"], state="absent", reset_alumni=True)
        assert result["changed"] and result["nodes"][0]["alumni_reset"]
        assert "services-alumni-reset" in fake.sent
        again, dummy = _run(capsys, fake, peers=["10.0.6.9"], state="absent", reset_alumni=True)
        assert not again["changed"] and fake.sent.count("services-alumni-reset") == 1


@pytest.mark.parametrize("args, message", [
    ({"peers": []}, "peers is empty"),
    ({"peers": ["10.0.6.4:70000"]}, "port 70000 is out of range"),
    ({"peers": ["10.0.6.4:x"]}, "port 'x' is not a number"),
    ({"peers": ["10.0.6.4"], "heartbeat_port": 0}, "heartbeat_port 0 is out of range"),
    ({"peers": ["10.0.6.4"], "reset_alumni": True}, "reset_alumni is only meaningful with state=absent"),
    ({"peers": ["10.0.6.4"], "nodes": []}, "the list is empty"),
    ({"peers": ["10.0.6.4"], "nodes": ["h:99999"]}, "port 99999 is out of range"),
    ({"peers": ["10.0.6.4"], "port": 0}, "port 0 is out of range"),
])
def test_bad_input_fails_clearly_and_sends_nothing(capsys, node, args, message):
    result, failed = _run(capsys, node, **args)
    assert failed and message in result["msg"]
    assert node.sent == []


def test_unreachable_node_fails_naming_it_and_the_cause(capsys):
    result, failed = run_module(aerospike_tip, {"nodes": ["127.0.0.1:1"], "peers": ["10.0.0.1"], "timeout": 1},
                                capsys=capsys)
    assert failed
    assert result["msg"].startswith("127.0.0.1:1 get-config:context=network: connection refused")


def test_nodes_and_nodes_from_dns_are_mutually_exclusive(capsys, node):
    result, failed = _run(capsys, node, peers=["10.0.0.1"], nodes_from_dns="tasks.x")
    assert failed and "mutually exclusive" in result["msg"]
