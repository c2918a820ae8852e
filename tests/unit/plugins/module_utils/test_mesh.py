"""Planning tips and tip-clears so that a non-idempotent server is driven idempotently."""

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils import _mesh as mesh
from transcripts import answers, load


def test_tip_command_has_the_syntax_the_real_server_accepts():
    assert mesh.tip_command("10.0.6.2", 3002) == "tip:host=10.0.6.2;port=3002"
    assert [c for c, v in load("tip.txt") if v == "ok"][0] == mesh.tip_command("10.0.6.2", 3002)


def test_tip_clear_uses_colon_and_comma_as_the_real_server_expects():
    assert mesh.tip_clear_command([("10.0.6.4", 3002)]) == "tip-clear:host-port-list=10.0.6.4:3002"
    assert answers("tip-clear.txt")[mesh.tip_clear_command([("10.0.6.4", 3002)])] == "ok"
    assert mesh.tip_clear_command([("a", 1), ("b", 2)]) == "tip-clear:host-port-list=a:1,b:2"


def test_tip_clear_refuses_an_empty_list():
    with pytest.raises(ValueError):
        mesh.tip_clear_command([])


@pytest.mark.parametrize("self_hosts, wanted, seeds, expected", [
    (["10.0.6.3"], [("10.0.6.2", 3002), ("10.0.6.4", 3002)], [], [("10.0.6.2", 3002), ("10.0.6.4", 3002)]),
    (["10.0.6.3"], [("10.0.6.2", 3002), ("10.0.6.4", 3002)], [("10.0.6.2", 3002)], [("10.0.6.4", 3002)]),
    (["10.0.6.3"], [("10.0.6.3", 3002), ("10.0.6.4", 3002)], [], [("10.0.6.4", 3002)]),
    (["10.0.6.3"], [("10.0.6.4", 3002), ("10.0.6.4", 3002)], [], [("10.0.6.4", 3002)]),
    (["n1"], [("Node2", 3002)], [("node2", 3002)], []),
    (["n1"], [("n2", 3002)], [("n2", 3003)], [("n2", 3002)]),
    ([], [], [("n2", 3002)], []),
])
def test_plan_tips_sends_only_what_is_missing_and_never_the_node_itself(self_hosts, wanted, seeds, expected):
    assert mesh.plan_tips(self_hosts, wanted, seeds) == expected


@pytest.mark.parametrize("unwanted, seeds, expected", [
    ([("10.0.6.4", 3002)], [("10.0.6.2", 3002), ("10.0.6.4", 3002)], [("10.0.6.4", 3002)]),
    ([("10.0.6.4", 3002)], [("10.0.6.2", 3002)], []),
    ([("HOST", 3002)], [("host", 3002)], [("host", 3002)]),
    ([("h", 3002), ("h", 3002)], [("h", 3002)], [("h", 3002)]),
    ([], [("h", 3002)], []),
])
def test_plan_clears_clears_only_configured_seeds_in_their_spelling(unwanted, seeds, expected):
    assert mesh.plan_clears(unwanted, seeds) == expected


@pytest.mark.parametrize("value, expected", [
    ("ERROR::0 cleared, 1 not found", (0, 1)),
    ("ERROR::0 cleared, 0 not found", (0, 0)),
    ("ERROR::2 cleared, 3 not found", (2, 3)),
    ("ok", None),
    ("ERROR::unknown", None),
])
def test_tip_clear_counts_are_read_from_the_error(value, expected):
    assert mesh.parse_tip_clear_answer(value) == expected
