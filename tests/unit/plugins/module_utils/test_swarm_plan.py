"""The swarm planner: manager policy, quorum-safe ordering, and the whole reconciliation plan."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import (
    SwarmError,
    auto_manager_count,
    check_managers_max,
    check_quorum,
    find_stale_nodes,
    network_from_facts,
    node_spec,
    plan_managers,
    plan_role_changes,
    plan_swarm,
    quorum,
    resolve_advertise,
    tolerated_losses,
    verify_swarm,
)

HOSTS = ["lab1", "lab2", "lab3", "lab4", "lab5"]
CLUSTER = "k3qmn8wq1v0l5y2w9x7c6b4a1"


# --- quorum arithmetic and the cap ------------------------------------------------------------

@pytest.mark.parametrize("managers, needed, tolerated", [(1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2),
                                                         (6, 4, 2), (7, 4, 3)])
def test_quorum_arithmetic_matches_raft(managers, needed, tolerated):
    assert quorum(managers) == needed
    assert tolerated_losses(managers) == tolerated


@pytest.mark.parametrize("value, expected", [(1, 1), (3, 3), (5, 5), (7, 7), ("5", 5), (" 3 ", 3)])
def test_managers_max_accepts_odd_counts_from_one_to_seven(value, expected):
    assert check_managers_max(value) == expected


@pytest.mark.parametrize(
    "value, reason",
    [
        (0, "swarm_managers_max=0 is out of range: set it to 1, 3, 5 or 7"),
        (8, "swarm_managers_max=8 is out of range: set it to 1, 3, 5 or 7"),
        (9, "swarm_managers_max=9 is out of range"),
        (-1, "swarm_managers_max=-1 is out of range"),
        (2, "swarm_managers_max=2 is even: 2 managers tolerate 0 loss(es), no more than 1 do"),
        (4, "swarm_managers_max=4 is even: 4 managers tolerate 1 loss(es), no more than 3 do, and need one more to "
            "answer; set it to 3 or 5"),
        (6, "swarm_managers_max=6 is even"),
        ("five", "swarm_managers_max='five' is not a whole number: set it to 1, 3, 5 or 7"),
        (True, "swarm_managers_max=True is not a whole number"),
        (3.0, "swarm_managers_max=3.0 is not a whole number"),
        (None, "swarm_managers_max=None is not a whole number"),
    ],
)
def test_managers_max_refuses_even_out_of_range_and_non_numbers_with_the_reason(value, reason):
    with pytest.raises(SwarmError) as err:
        check_managers_max(value)
    assert reason in str(err.value)


@pytest.mark.parametrize(
    "hosts, cap, expected",
    [(1, 5, 1), (2, 5, 1), (3, 5, 3), (4, 5, 3), (5, 5, 5), (6, 5, 5), (12, 5, 5),
     (5, 3, 3), (9, 3, 3), (2, 1, 1), (9, 1, 1), (6, 7, 5), (7, 7, 7), (30, 7, 7), (4, 7, 3)],
)
def test_auto_manager_count_follows_the_table_and_the_cap(hosts, cap, expected):
    assert auto_manager_count(hosts, cap) == expected


def test_auto_manager_count_refuses_an_empty_swarm():
    with pytest.raises(SwarmError, match="put at least one host in the 'swarm' inventory group"):
        auto_manager_count(0)


# --- which hosts are managers ------------------------------------------------------------------

@pytest.mark.parametrize(
    "count, expected",
    [(1, ["lab1"]), (2, ["lab1"]), (3, ["lab1", "lab2", "lab3"]), (4, ["lab1", "lab2", "lab3"]),
     (5, HOSTS)],
)
def test_auto_on_a_fresh_swarm_takes_hosts_in_inventory_order(count, expected):
    assert plan_managers(HOSTS[:count]) == expected


def test_auto_keeps_existing_managers_before_inventory_order():
    assert plan_managers(HOSTS, managers_max=3, current_managers=["lab5", "lab4"]) == ["lab1", "lab4", "lab5"]


def test_auto_keeps_the_first_current_managers_when_there_are_too_many():
    assert plan_managers(HOSTS, managers_max=3, current_managers=HOSTS) == ["lab1", "lab2", "lab3"]


def test_auto_result_is_returned_in_inventory_order_and_is_deterministic():
    first = plan_managers(HOSTS[::-1], managers_max=3, current_managers=["lab2"])
    assert first == ["lab5", "lab4", "lab2"]
    assert plan_managers(HOSTS[::-1], managers_max=3, current_managers=["lab2"]) == first


def test_pinned_workers_are_never_chosen():
    assert plan_managers(HOSTS, pinned_workers=["lab1", "lab2"], managers_max=5) == ["lab3", "lab4", "lab5"]


def test_fewer_eligible_hosts_than_the_table_gives_the_largest_odd_count():
    assert plan_managers(HOSTS, pinned_workers=["lab1", "lab2", "lab3"]) == ["lab4"]


def test_no_eligible_host_is_refused_with_the_reason():
    with pytest.raises(SwarmError) as err:
        plan_managers(HOSTS[:2], pinned_workers=["lab1", "lab2"])
    assert str(err.value) == (
        "no host is eligible as a manager (pinned as workers: lab1, lab2): take a host out of 'swarm_workers' or "
        "make one reachable"
    )


def test_unavailable_hosts_are_not_made_managers():
    assert plan_managers(HOSTS, managers_max=3, unavailable=["lab1"]) == ["lab2", "lab3", "lab4"]


def test_a_lost_manager_stays_a_manager_by_default():
    plan = plan_managers(HOSTS, managers_max=3, current_managers=["lab1", "lab2", "lab3"], unavailable=["lab2"])
    assert plan == ["lab1", "lab2", "lab3"]


def test_a_lost_manager_is_replaced_when_asked():
    plan = plan_managers(HOSTS, managers_max=3, current_managers=["lab1", "lab2", "lab3"], unavailable=["lab2"],
                         replace_unavailable=True)
    assert plan == ["lab1", "lab3", "lab4"]


def test_explicit_managers_are_honoured_in_inventory_order_regardless_of_the_cap():
    assert plan_managers(HOSTS, pinned_managers=["lab5", "lab3", "lab1"], managers_max=1) == ["lab1", "lab3", "lab5"]


@pytest.mark.parametrize("pinned", [["lab1", "lab2"], ["lab1", "lab2", "lab3", "lab4"]])
def test_an_even_explicit_manager_group_is_refused_with_quorum_arithmetic(pinned):
    with pytest.raises(SwarmError) as err:
        plan_managers(HOSTS, pinned_managers=pinned)
    message = str(err.value)
    assert message.startswith("'swarm_managers' names %d hosts (%s): an even manager count is refused"
                              % (len(pinned), ", ".join(pinned)))
    assert "pin %d or %d hosts, or empty the group" % (len(pinned) - 1, len(pinned) + 1) in message


def test_more_than_seven_explicit_managers_are_refused():
    hosts = ["n%d" % i for i in range(9)]
    with pytest.raises(SwarmError, match="more than 7 managers is refused"):
        plan_managers(hosts, pinned_managers=hosts)


def test_explicit_managers_outside_the_swarm_group_are_refused():
    with pytest.raises(SwarmError, match=r"^lab9: in 'swarm_managers'/'swarm_workers' but not in the 'swarm' group"):
        plan_managers(HOSTS, pinned_managers=["lab1", "lab2", "lab9"])


def test_a_host_pinned_both_ways_is_refused():
    with pytest.raises(SwarmError, match="lab1: pinned both as manager"):
        plan_managers(HOSTS, pinned_managers=["lab1"], pinned_workers=["lab1"])


def test_an_unavailable_pinned_manager_that_is_not_yet_a_manager_is_refused():
    with pytest.raises(SwarmError, match="lab3: pinned as manager but unavailable"):
        plan_managers(HOSTS, pinned_managers=["lab1", "lab2", "lab3"], unavailable=["lab3"])


def test_duplicate_hosts_are_refused():
    with pytest.raises(SwarmError, match="the 'swarm' group lists lab1 more than once"):
        plan_managers(["lab1", "lab2", "lab1"])


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=12),
    cap=st.sampled_from([1, 3, 5, 7]),
    data=st.data(),
)
def test_auto_always_gives_an_odd_capped_count_that_keeps_current_managers(count, cap, data):
    hosts = ["h%02d" % i for i in range(count)]
    current = data.draw(st.lists(st.sampled_from(hosts), unique=True, max_size=count))
    plan = plan_managers(hosts, managers_max=cap, current_managers=current)
    assert len(plan) % 2 == 1 and len(plan) <= cap and set(plan) <= set(hosts)
    assert plan == [h for h in hosts if h in set(plan)]
    kept = [h for h in hosts if h in set(current)][: len(plan)]
    assert set(kept) <= set(plan)


# --- in which order roles change ---------------------------------------------------------------

def test_three_to_five_promotes_two_one_at_a_time():
    steps = plan_role_changes(["lab1", "lab2", "lab3"], HOSTS)
    assert [(s["action"], s["node"], s["via"], s["managers"]) for s in steps] == [
        ("promote", "lab4", "lab1", 4), ("promote", "lab5", "lab1", 5)]


def test_five_to_three_demotes_two_one_at_a_time():
    steps = plan_role_changes(HOSTS, ["lab1", "lab2", "lab3"])
    assert [(s["action"], s["node"], s["managers"]) for s in steps] == [("demote", "lab4", 4), ("demote", "lab5", 3)]


def test_a_replacement_is_promoted_before_the_old_manager_is_demoted():
    steps = plan_role_changes(["lab1", "lab2", "lab3"], ["lab1", "lab2", "lab4"])
    assert [(s["action"], s["node"]) for s in steps] == [("promote", "lab4"), ("demote", "lab3")]
    assert min(s["managers"] for s in steps) == 3


def test_unreachable_managers_are_demoted_before_reachable_ones():
    steps = plan_role_changes(HOSTS, ["lab1", "lab2", "lab3"], unreachable=["lab5"])
    assert [(s["action"], s["node"], s["reachable"]) for s in steps] == [("demote", "lab5", 4), ("demote", "lab4", 3)]


def test_moving_the_only_manager_goes_through_the_old_then_the_new_one():
    steps = plan_role_changes(["lab1"], ["lab2"])
    assert [(s["action"], s["node"], s["via"]) for s in steps] == [
        ("promote", "lab2", "lab1"), ("demote", "lab1", "lab2")]


def test_nothing_to_do_gives_no_step():
    assert plan_role_changes(["lab1", "lab2", "lab3"], ["lab3", "lab2", "lab1"]) == []


def test_a_majority_of_unreachable_managers_is_quorum_lost_and_points_to_recovery():
    with pytest.raises(SwarmError) as err:
        plan_role_changes(["lab1", "lab2", "lab3"], ["lab1", "lab2", "lab3"], unreachable=["lab2", "lab3"])
    message = str(err.value)
    assert message.startswith("quorum lost: 1 of 3 managers reachable (lab1), unreachable: lab2, lab3; a swarm with "
                              "3 managers needs 2 to act, so nothing was changed")
    assert "playbooks/swarm_recover.yml" in message and "swarm_recover_confirm=yes" in message


def test_one_lost_manager_of_three_keeps_quorum():
    check_quorum(["lab1", "lab2", "lab3"], ["lab2"])


def test_half_of_an_even_manager_set_lost_is_quorum_lost():
    with pytest.raises(SwarmError, match="quorum lost: 2 of 4"):
        check_quorum(["a", "b", "c", "d"], ["c", "d"])


def test_promoting_an_unreachable_host_is_refused():
    with pytest.raises(SwarmError, match="lab4: cannot be promoted while unreachable"):
        plan_role_changes(["lab1", "lab2", "lab3"], ["lab1", "lab2", "lab4"], unreachable=["lab4"])


def test_a_demotion_that_would_lose_quorum_is_refused_before_any_step():
    # lab1 lost; keeping only lab1 means demoting the two reachable ones.
    with pytest.raises(SwarmError, match="demoting lab2 would leave 1 of 2 managers reachable, below the 2 a swarm of 2 needs"):
        plan_role_changes(["lab1", "lab2", "lab3"], ["lab1"], unreachable=["lab1"])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_step_sequence_keeps_quorum_and_never_drops_below_the_plan(data):
    hosts = ["h%d" % i for i in range(9)]
    current = data.draw(st.lists(st.sampled_from(hosts), unique=True, min_size=1, max_size=7))
    lost = data.draw(st.lists(st.sampled_from(current), unique=True, max_size=(len(current) - 1) // 2))
    candidates = [h for h in hosts if h not in lost or h in current]
    desired = data.draw(st.lists(st.sampled_from(candidates), unique=True, min_size=1, max_size=7)
                        .filter(lambda d: len(d) % 2 == 1 and any(h not in lost for h in d)))
    try:
        steps = plan_role_changes(current, desired, unreachable=lost)
    except SwarmError as exc:
        assert "would leave" in str(exc)
        return
    managers, reachable = set(current), set(current) - set(lost)
    for step in steps:
        assert step["via"] in managers and step["via"] in reachable and step["via"] != step["node"]
        if step["action"] == "promote":
            managers.add(step["node"])
            reachable.add(step["node"])
        else:
            managers.discard(step["node"])
            reachable.discard(step["node"])
        assert len(reachable) >= quorum(len(managers))
        assert len(managers) >= min(len(desired), len(current))
        if step["action"] == "demote":
            assert len(managers) >= len(desired)
    assert managers == set(desired)
    actions = [s["action"] for s in steps]
    assert actions == sorted(actions, key=lambda a: a != "promote")


# --- advertise addresses -------------------------------------------------------------------------

NETWORK = {
    "addresses": ["172.30.0.11", "10.9.0.1"],
    "interfaces": {"eth0": ["172.30.0.11"], "lo": ["127.0.0.1"], "eth1": ["10.9.0.1"], "dummy0": []},
    "default": "172.30.0.11",
}


@pytest.mark.parametrize(
    "settings_, expected",
    [({}, "172.30.0.11"), ({"advertise_addr": "10.9.0.1"}, "10.9.0.1"), ({"advertise_interface": "eth1"}, "10.9.0.1")],
)
def test_advertise_address_comes_from_the_setting_the_interface_or_the_default_route(settings_, expected):
    assert resolve_advertise("lab1", dict(settings_, network=NETWORK)) == expected


@pytest.mark.parametrize(
    "settings_, message",
    [
        ({"advertise_addr": "10.9.0.99"},
         "lab1: swarm_advertise_addr=10.9.0.99 is not an address of this host; its addresses are 172.30.0.11, 10.9.0.1"),
        ({"advertise_addr": "lab1.example"}, "lab1: swarm_advertise_addr=lab1.example is not an IP address"),
        ({"advertise_addr": "127.0.0.1"}, "lab1: swarm_advertise_addr=127.0.0.1 cannot be reached by other nodes"),
        ({"advertise_interface": "eth9"},
         "lab1: swarm_advertise_interface=eth9 does not exist on the host; its interfaces are dummy0, eth0, eth1, lo"),
        ({"advertise_interface": "dummy0"}, "lab1: swarm_advertise_interface=dummy0 has no usable IP address"),
        ({"advertise_addr": "10.9.0.1", "advertise_interface": "eth1"},
         "lab1: set either swarm_advertise_addr or swarm_advertise_interface, not both"),
    ],
)
def test_a_wrong_advertise_setting_names_the_host_and_what_exists(settings_, message):
    with pytest.raises(SwarmError) as err:
        resolve_advertise("lab1", dict(settings_, network=NETWORK))
    assert str(err.value).startswith(message)


def test_without_network_facts_the_inventory_address_is_the_default():
    assert resolve_advertise("lab1", {"network": {}, "address": "172.30.0.12"}) == "172.30.0.12"


def test_network_facts_are_read_per_interface_including_secondaries_and_ipv6():
    facts = {
        "interfaces": ["eth0", "lo", "br-1f2e"],
        "eth0": {"ipv4": {"address": "172.30.0.11"}, "ipv4_secondaries": [{"address": "172.30.0.99"}],
                 "ipv6": [{"address": "fd00::11"}]},
        "lo": {"ipv4": {"address": "127.0.0.1"}},
        "br-1f2e": {"ipv4": {"address": "172.18.0.1"}},
        "all_ipv4_addresses": ["172.30.0.11", "172.30.0.99", "172.18.0.1"],
        "all_ipv6_addresses": ["fd00::11"],
        "default_ipv4": {"address": "172.30.0.11"},
    }
    net = network_from_facts(facts)
    assert net["interfaces"] == {"eth0": ["172.30.0.11", "172.30.0.99", "fd00::11"], "lo": ["127.0.0.1"],
                                 "br-1f2e": ["172.18.0.1"]}
    assert net["default"] == "172.30.0.11" and "fd00::11" in net["addresses"]


# --- the whole plan ------------------------------------------------------------------------------

def _node(host, role="worker", state="ready", reach=None, node_id=None, labels=None, created="2026-01-01"):
    return {
        "id": node_id or "id-" + host,
        "hostname": host,
        "role": role,
        "availability": "active",
        "labels": labels or {},
        "state": state,
        "addr": "172.30.0.1%s" % host[-1],
        "leader": False,
        "reachability": (reach or "reachable") if role == "manager" else None,
        "manager_addr": "172.30.0.1%s:2377" % host[-1] if role == "manager" else None,
        "created_at": created,
    }


def _report(host, state="inactive", manager=False, cluster=None, nodes=None, docker=True, node_id=None,
            swarm_error=None, **extra):
    swarm = {"local_state": state, "node_id": node_id or ("id-" + host if state != "inactive" else None),
             "is_manager": manager, "cluster_id": cluster, "error": swarm_error, "remote_managers": [],
             "hostname": host}
    report = {
        "reachable": True,
        "info": {"docker": {"available": docker, "error": None if docker else "Docker engine at "
                            "unix:///var/run/docker.sock: GET /info failed: [Errno 2] No such file or directory"},
                 "swarm": swarm if docker else None, "nodes": nodes},
        "network": {"addresses": ["172.30.0.1%s" % host[-1]], "interfaces": {"eth0": ["172.30.0.1%s" % host[-1]]},
                    "default": "172.30.0.1%s" % host[-1]},
        "address": "172.30.0.1%s" % host[-1],
        "labels": {},
    }
    report.update(extra)
    return report


def _formed(managers=("lab1", "lab2", "lab3"), hosts=tuple(HOSTS), lost=(), overrides=None):
    nodes = [_node(h, "manager" if h in managers else "worker",
                   state="down" if h in lost else "ready",
                   reach="unreachable" if h in lost else "reachable") for h in hosts]
    reports = {}
    for h in hosts:
        if h in lost:
            reports[h] = {"reachable": False, "error": "ssh: connect to host: No route to host",
                          "address": "172.30.0.1%s" % h[-1]}
        else:
            reports[h] = _report(h, "active", manager=h in managers, cluster=CLUSTER,
                                 nodes=nodes if h in managers else None)
    reports.update(overrides or {})
    return reports


def _refusal(hosts, reports, settings_=None):
    with pytest.raises(SwarmError) as err:
        plan_swarm(hosts, reports, settings_ or {})
    message = str(err.value)
    assert message.startswith("swarm plan refused, nothing was changed:\n- ")
    return message


def test_a_fresh_five_host_swarm_is_initialised_once_then_joined_managers_first():
    plan = plan_swarm(HOSTS, dict((h, _report(h)) for h in HOSTS), {"managers_max": 3})
    assert plan["init"] == "lab1" and plan["acting"] == "lab1" and plan["cluster_id"] is None
    assert plan["join_managers"] == ["lab2", "lab3"] and plan["join_workers"] == ["lab4", "lab5"]
    assert plan["steps"] == [] and plan["remote_addrs"] == ["172.30.0.11:2377"]
    assert plan["managers"] == ["lab1", "lab2", "lab3"] and plan["workers"] == ["lab4", "lab5"]
    assert plan["quorum"] == {"managers": 3, "needed": 2, "tolerates": 1, "unreachable": []}


def test_new_nodes_get_their_labels_and_members_only_when_they_differ():
    fresh = dict((h, _report(h, labels={"rack": "r1"} if h in ("lab1", "lab4") else {})) for h in HOSTS)
    assert plan_swarm(HOSTS, fresh, {"managers_max": 3})["spec_updates"] == ["lab1", "lab4"]
    formed = _formed()
    formed["lab2"]["labels"] = {"rack": "r2"}
    formed["lab3"]["availability"] = "drain"
    assert plan_swarm(HOSTS, formed, {"managers_max": 3})["spec_updates"] == ["lab2", "lab3"]


def test_a_converged_swarm_gives_an_empty_plan():
    plan = plan_swarm(HOSTS, _formed(), {"managers_max": 3})
    assert plan["init"] is None and plan["cluster_id"] == CLUSTER and plan["acting"] == "lab1"
    assert plan["join_managers"] == plan["join_workers"] == plan["steps"] == []
    assert plan["members"] == HOSTS and plan["lost"] == [] and plan["rejoin"] == {}
    assert plan["spec_updates"] == []
    assert plan["remote_addrs"] == ["172.30.0.11:2377", "172.30.0.12:2377", "172.30.0.13:2377"]


def test_raising_the_cap_to_five_promotes_the_two_workers_through_a_kept_manager():
    plan = plan_swarm(HOSTS, _formed(), {"managers_max": 5})
    assert [(s["action"], s["node"], s["node_id"], s["via"]) for s in plan["steps"]] == [
        ("promote", "lab4", "id-lab4", "lab1"), ("promote", "lab5", "id-lab5", "lab1")]


def test_lowering_the_cap_back_to_three_demotes_two():
    plan = plan_swarm(HOSTS, _formed(managers=HOSTS), {"managers_max": 3})
    assert [(s["action"], s["node"], s["managers"]) for s in plan["steps"]] == [
        ("demote", "lab4", 4), ("demote", "lab5", 3)]


def test_a_killed_manager_is_reported_lost_and_the_rest_goes_on():
    plan = plan_swarm(HOSTS, _formed(lost=["lab2"]), {"managers_max": 3})
    assert plan["lost_hosts"] == ["lab2"] and plan["steps"] == [] and plan["active_hosts"] == [
        "lab1", "lab3", "lab4", "lab5"]
    assert plan["lost"] == [{"host": "lab2", "node_id": "id-lab2", "hostname": "lab2", "addr": "172.30.0.12",
                             "role": "manager", "state": "down", "reachability": "unreachable"}]
    assert plan["quorum"]["unreachable"] == ["lab2"]


def test_the_report_names_the_lost_manager_and_the_remaining_tolerance():
    plan = plan_swarm(HOSTS, _formed(lost=["lab2"]), {"managers_max": 3})
    assert plan["report"] == [
        "3 manager(s) (lab1, lab2, lab3), 2 worker(s) (lab4, lab5)",
        "quorum: 2 of 3 managers needed, 2 reachable, 0 more manager loss(es) tolerated",
        "LOST: lab2 (node id-lab2, manager, last address 172.30.0.12) is down and unreachable for Raft; bring it "
        "back, or set swarm_replace_lost_managers=true to promote a replacement and demote it",
    ]


def test_a_killed_manager_is_replaced_when_asked_promotion_first():
    plan = plan_swarm(HOSTS, _formed(lost=["lab2"]), {"managers_max": 3, "replace_lost_managers": True})
    assert [(s["action"], s["node"]) for s in plan["steps"]] == [("promote", "lab4"), ("demote", "lab2")]


def test_two_of_three_managers_lost_is_quorum_lost():
    reports = _formed(lost=["lab2", "lab3"])
    # The survivor answers but, without a leader, cannot list nodes.
    reports["lab1"]["info"]["nodes"] = None
    reports["lab1"]["info"]["nodes_error"] = "The swarm does not have a leader"
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert "quorum lost: managers lab1 of swarm %s answer but the swarm has no leader" % CLUSTER in message
    assert "playbooks/swarm_recover.yml" in message


def _after_force_new_cluster():
    # lab1 rebuilt the swarm alone: lab2 and lab3 keep Spec.Role=manager without a manager status.
    reports = _formed(lost=["lab2", "lab3"])
    nodes = reports["lab1"]["info"]["nodes"]
    for node in nodes[1:3]:
        node.update(state="unknown", reachability=None, manager_addr=None)
    return reports


def test_after_force_new_cluster_the_left_behind_managers_are_lost_and_replaced():
    plan = plan_swarm(HOSTS, _after_force_new_cluster(), {"managers_max": 3})
    assert plan["lost_hosts"] == ["lab2", "lab3"] and plan["managers"] == ["lab1", "lab4", "lab5"]
    assert [(s["action"], s["node"]) for s in plan["steps"]] == [("promote", "lab4"), ("promote", "lab5")]
    assert plan["quorum"]["unreachable"] == []
    assert plan["report"][2].startswith("LOST: lab2 (node id-lab2, manager left out of Raft, last address 172.30.0.12) "
                                        "is unknown; when it is back it must leave and rejoin")


def test_a_left_behind_manager_that_came_back_must_rejoin():
    reports = _after_force_new_cluster()
    nodes = reports["lab1"]["info"]["nodes"]
    nodes[2]["state"] = "ready"
    reports["lab3"] = _report("lab3", "active", manager=False, cluster=CLUSTER)
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert ("- lab3: its node id-lab3 is a manager by spec but not in Raft (left behind by a force-new-cluster); set "
            "swarm_force_rejoin=true to make it leave and rejoin") in message
    plan = plan_swarm(HOSTS, reports, {"managers_max": 3, "force_rejoin": True})
    assert "lab3" in plan["rejoin"] and plan["join_managers"] == ["lab3"] and plan["managers"] == [
        "lab1", "lab3", "lab4"]


def test_a_host_in_another_swarm_is_refused_unless_forced():
    reports = _formed()
    # lab5 left this swarm and created its own: its old entry here is Down, its new ID is another swarm's.
    reports["lab5"] = _report("lab5", "active", manager=True, cluster="othercluster0000000000000",
                              node_id="new-lab5", nodes=[_node("lab5", "manager", node_id="new-lab5")])
    for h in ("lab1", "lab2", "lab3"):
        reports[h]["info"]["nodes"][4] = _node("lab5", state="down")
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert ("- lab5: already in another swarm othercluster0000000000000 as manager, not in swarm %s; remove it from "
            "the inventory, or set swarm_force_rejoin=true" % CLUSTER) in message
    plan = plan_swarm(HOSTS, reports, {"managers_max": 3, "force_rejoin": True})
    assert plan["join_workers"] == ["lab5"] and "lab5" in plan["rejoin"]


def test_managers_of_two_swarms_in_equal_numbers_are_ambiguous():
    reports = dict((h, _report(h)) for h in HOSTS)
    reports["lab1"] = _report("lab1", "active", True, "aaaa", nodes=[_node("lab1", "manager")])
    reports["lab2"] = _report("lab2", "active", True, "bbbb", nodes=[_node("lab2", "manager")])
    message = _refusal(HOSTS, reports)
    assert "the inventory holds managers of 2 different swarms" in message and "set swarm_cluster_id" in message


def test_an_existing_swarm_on_one_host_is_adopted():
    reports = dict((h, _report(h)) for h in HOSTS)
    reports["lab4"] = _report("lab4", "active", True, CLUSTER, nodes=[_node("lab4", "manager")])
    plan = plan_swarm(HOSTS, reports, {"managers_max": 3})
    assert plan["init"] is None and plan["acting"] == "lab4" and plan["managers"] == ["lab1", "lab2", "lab4"]
    assert plan["join_managers"] == ["lab1", "lab2"] and plan["join_workers"] == ["lab3", "lab5"]


def test_stuck_membership_is_refused_unless_forced():
    reports = _formed(overrides={"lab4": _report("lab4", "pending", swarm_error="rpc error: connection refused")})
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert ("- lab4: swarm membership stuck in state 'pending' (rpc error: connection refused); set "
            "swarm_force_rejoin=true to make it leave and rejoin") in message


def test_a_locked_swarm_is_never_forced():
    reports = _formed(overrides={"lab4": _report("lab4", "locked")})
    message = _refusal(HOSTS, reports, {"managers_max": 3, "force_rejoin": True})
    assert "lab4: the swarm is locked on this host; unlock it with 'docker swarm unlock'" in message


def test_docker_missing_on_a_host_is_refused_naming_the_role_that_installs_it():
    reports = dict((h, _report(h)) for h in HOSTS)
    reports["lab3"] = _report("lab3", docker=False)
    message = _refusal(HOSTS, reports)
    assert ("- lab3: Docker engine not available (Docker engine at unix:///var/run/docker.sock: GET /info failed: "
            "[Errno 2] No such file or directory); install it with the aerostack.swarm.docker role") in message


def test_an_unreachable_host_the_swarm_does_not_know_as_lost_is_refused():
    reports = dict((h, _report(h)) for h in HOSTS)
    reports["lab5"] = {"reachable": False, "error": "Failed to connect to the host via ssh: Connection refused"}
    message = _refusal(HOSTS, reports)
    assert ("- lab5: unreachable over SSH (Failed to connect to the host via ssh: Connection refused); fix the "
            "connection or remove it from the 'swarm' group") in message


def test_an_unreachable_member_that_the_swarm_still_sees_ready_is_refused():
    reports = _formed()
    reports["lab4"] = {"reachable": False, "error": "Connection refused", "address": "172.30.0.14"}
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert ("- lab4: unreachable over SSH (Connection refused); the swarm still sees its node as ready; fix the "
            "connection or remove it from the 'swarm' group") in message


def test_a_wrong_advertise_address_is_refused_before_anything_happens():
    reports = dict((h, _report(h)) for h in HOSTS)
    reports["lab2"]["advertise_addr"] = "10.99.0.2"
    message = _refusal(HOSTS, reports)
    assert "- lab2: swarm_advertise_addr=10.99.0.2 is not an address of this host; its addresses are 172.30.0.12" \
        in message


@pytest.mark.parametrize("bad", [0, 8, 4])
def test_a_bad_cap_is_refused_in_the_plan(bad):
    message = _refusal(HOSTS, dict((h, _report(h)) for h in HOSTS), {"managers_max": bad})
    assert "swarm_managers_max=%d" % bad in message


def test_every_problem_is_listed_at_once():
    reports = dict((h, _report(h)) for h in HOSTS)
    reports["lab2"]["advertise_interface"] = "eth7"
    reports["lab3"] = _report("lab3", docker=False)
    reports["lab5"] = {"reachable": False, "error": "timeout"}
    message = _refusal(HOSTS, reports, {"pinned_managers": ["lab1", "lab4"]})
    lines = message.splitlines()[1:]
    assert [line.split(":")[0] for line in lines] == [
        "- lab2", "- lab3", "- lab5", "- 'swarm_managers' names 2 hosts (lab1, lab4)"]


def test_a_manager_outside_the_inventory_is_refused():
    reports = _formed()
    extra = _node("ext9", "manager", node_id="id-ext9")
    for h in ("lab1", "lab2", "lab3"):
        reports[h]["info"]["nodes"] = reports[h]["info"]["nodes"] + [extra]
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert "node ext9 (id-ext9, 172.30.0.19) is a manager of this swarm but not in the 'swarm' group" in message


def test_a_cluster_id_that_no_host_manages_is_refused():
    message = _refusal(HOSTS, _formed(), {"managers_max": 3, "cluster_id": "nosuchcluster"})
    assert "swarm_cluster_id=nosuchcluster: no reachable inventory host is a manager of that swarm" in message


def test_node_specs_keep_user_labels_and_leave_the_aerospike_label_alone():
    assert node_spec({"labels": {"rack": 1}}) == {"labels": {"rack": "1"}, "labels_absent": [], "availability": None}
    assert node_spec({"availability": "drain"}) == {"labels": {}, "labels_absent": [], "availability": "drain"}


def test_the_aerospike_label_in_swarm_node_labels_is_refused():
    reports = _formed()
    reports["lab2"]["labels"] = {"aerostack.aerospike": "true"}
    message = _refusal(HOSTS, reports, {"managers_max": 3})
    assert ("lab2: swarm_node_labels must not set aerostack.aerospike: that label places an Aerospike instance (with its "
            "data) on the host, and only the aerospike role sets or removes it, one verified step at a time. Put the "
            "host in the aerospike_nodes group instead") in message


# --- after the run -------------------------------------------------------------------------------

def test_verify_accepts_the_planned_swarm_and_names_each_difference():
    plan = plan_swarm(HOSTS, _formed(), {"managers_max": 3})
    nodes = _formed()["lab1"]["info"]["nodes"]
    ids = dict((h, "id-" + h) for h in HOSTS)
    assert verify_swarm(plan, nodes, ids) == []
    nodes[3] = dict(nodes[3], role="manager", reachability="unknown")
    nodes[4] = dict(nodes[4], state="unknown")
    assert verify_swarm(plan, nodes, ids) == [
        "lab4: is a manager, the plan wants a worker",
        "lab5: node state is 'unknown', not 'ready'",
        "4 managers in the swarm (lab1, lab2, lab3, lab4), the plan wants 3 (lab1, lab2, lab3)",
    ]


def test_verify_tolerates_the_known_lost_manager_only():
    plan = plan_swarm(HOSTS, _formed(lost=["lab2"]), {"managers_max": 3})
    nodes = _formed(lost=["lab2"])["lab1"]["info"]["nodes"]
    ids = dict((h, "id-" + h) for h in HOSTS if h != "lab2")
    assert verify_swarm(plan, nodes, ids) == []
    nodes[2] = dict(nodes[2], state="down")
    assert "lab3: node state is 'down', not 'ready'" in verify_swarm(plan, nodes, ids)


def test_stale_entries_are_down_workers_whose_hostname_came_back():
    nodes = [_node("lab5", node_id="old", state="down"), _node("lab5", node_id="new"),
             _node("lab4", node_id="gone", state="down"), _node("lab2", "manager", state="down", node_id="m")]
    assert [n["id"] for n in find_stale_nodes(nodes)] == ["old"]
