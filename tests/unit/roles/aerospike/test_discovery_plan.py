"""plan_round / check_answers: what discovery tips and clears, decided from DNS and the members' real seeds."""

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import parse_mesh_seeds
from ansible_collections.aerostack.swarm.plugins.module_utils._discovery import (
    Backoff,
    MemberPlan,
    address_key,
    check_answers,
    plan_round,
)
from transcripts import answers

A, B, C, D = "10.0.6.2", "10.0.6.3", "10.0.6.4", "10.0.6.5"


def test_fresh_members_are_tipped_with_every_other_member():
    plans = plan_round([B, A, C], {A: [], B: [], C: []})
    assert plans == [
        MemberPlan(A, tips=[(B, 3002), (C, 3002)]),
        MemberPlan(B, tips=[(A, 3002), (C, 3002)]),
        MemberPlan(C, tips=[(A, 3002), (B, 3002)]),
    ]


def test_a_new_task_is_tipped_both_ways():
    seeds = {A: [(B, 3002), (C, 3002)], B: [(A, 3002), (C, 3002)], C: [(A, 3002), (B, 3002)], D: []}
    plans = plan_round([A, B, C, D], seeds)
    assert plans == [
        MemberPlan(A, tips=[(D, 3002)]),
        MemberPlan(B, tips=[(D, 3002)]),
        MemberPlan(C, tips=[(D, 3002)]),
        MemberPlan(D, tips=[(A, 3002), (B, 3002), (C, 3002)]),
    ]


def test_seeds_already_configured_are_never_tipped_again():
    seeds = {A: [(B, 3002)], B: [(A, 3002)]}
    assert plan_round([A, B], seeds) == []


def test_the_real_servers_seed_list_is_understood():
    # the 8.1.2.0 transcript: node0 holds 10.0.6.2:3002 and 10.0.6.4:3002
    seeds = parse_mesh_seeds(answers("three-nodes.txt")["get-config:context=network"])
    assert plan_round(["10.0.6.3", "10.0.6.2", "10.0.6.4"], {"10.0.6.3": seeds}) == []


def test_a_departed_task_is_cleared_and_nothing_else():
    seeds = {A: [(B, 3002), (C, 3002)], B: [(A, 3002), (C, 3002)]}
    plans = plan_round([A, B], seeds)
    assert plans == [MemberPlan(A, clears=[(C, 3002)]), MemberPlan(B, clears=[(C, 3002)])]
    assert plans[0].commands() == ["tip-clear:host-port-list=10.0.6.4:3002", "services-alumni-reset"]


def test_replacement_clears_the_old_address_and_tips_the_new_one_in_one_request():
    seeds = {A: [(B, 3002), (C, 3002)], B: [(A, 3002), (C, 3002)], D: []}
    plans = plan_round([A, B, D], seeds)
    assert plans[0] == MemberPlan(A, tips=[(D, 3002)], clears=[(C, 3002)])
    assert plans[0].commands() == ["tip:host=10.0.6.5;port=3002", "tip-clear:host-port-list=10.0.6.4:3002",
                                   "services-alumni-reset"]


def test_a_member_that_did_not_answer_is_still_tipped_into_the_others():
    plans = plan_round([A, B, C], {A: [], B: []})
    assert [p.member for p in plans] == [A, B]
    assert (C, 3002) in plans[0].tips and (C, 3002) in plans[1].tips


def test_host_name_seeds_configured_by_someone_else_are_left_alone():
    plans = plan_round([A, B], {A: [("tasks.aerostack_aerospike", 3002), (B, 3002)], B: [(A, 3002)]})
    assert plans == []


def test_a_member_that_answered_but_left_dns_gets_nothing():
    assert plan_round([A], {A: [], B: []}) == []


def test_seed_comparison_ignores_order_and_the_plan_is_sorted_numerically():
    addresses = ["10.0.6.10", "10.0.6.9", "10.0.6.100"]
    plans = plan_round(addresses, dict((a, []) for a in addresses))
    assert [p.member for p in plans] == ["10.0.6.9", "10.0.6.10", "10.0.6.100"]
    assert sorted(["10.0.6.10", "10.0.6.9", "x"], key=address_key) == ["10.0.6.9", "10.0.6.10", "x"]


def test_the_heartbeat_port_is_used_for_seeds():
    plans = plan_round([A, B], {A: [], B: []}, heartbeat_port=3102)
    assert plans[0].commands() == ["tip:host=10.0.6.3;port=3102"]


def test_check_answers_accepts_ok_tips_and_reports_refused_ones():
    plan = MemberPlan(A, tips=[(B, 3002), (C, 3002)])
    results = check_answers(plan, {"tip:host=10.0.6.3;port=3002": "ok",
                                   "tip:host=10.0.6.4;port=3002": "ERROR::unknown"})
    assert results == [("tip 10.0.6.3:3002 into 10.0.6.2", True, "ok"),
                       ("tip 10.0.6.4:3002 into 10.0.6.2", False, "ERROR::unknown")]


@pytest.mark.parametrize("answer,ok", [
    ("ok", True),
    ("ERROR::0 cleared, 1 not found", True),  # already gone: the goal holds
    ("ERROR::0 cleared, 0 not found", False),  # the 2017 'host;port' symptom: nothing understood
    ("ERROR:4:unrecognized command", False),
])
def test_check_answers_judges_tip_clear_by_the_counts(answer, ok):
    plan = MemberPlan(A, clears=[(C, 3002)])
    results = check_answers(plan, {"tip-clear:host-port-list=10.0.6.4:3002": answer, "services-alumni-reset": "ok"})
    assert results[0] == ("tip-clear 10.0.6.4:3002 from 10.0.6.2", ok, answer)
    assert results[1] == ("services-alumni-reset on 10.0.6.2", True, "ok")


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(first=0.25, cap=1.0)
    assert [backoff.next() for _round in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    backoff.reset()
    assert backoff.next() == 0.25
