"""The role's decisions over what Docker reports (recorded from the lab, docker 20.10.24): tasks, placement,
deploy actions, rolling-update progress, scaling steps, and the status table.

stack-probe-3-global.json: the role's state probe on a 5-host lab running 3 instances (global service on lab1-3)
and discovery (lab4). stack-probe-3-replicated-0.1.json: the same probe of a 0.1 stack (replicated, per-slot volumes).
"""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_ops import (
    OpsError,
    converged,
    deploy_action,
    departed,
    is_simulator,
    node_summary,
    placement_plan,
    placement_refusal,
    rollout_progress,
    scale_steps,
    service_mode_problem,
    service_state,
    stack_state,
    status_rows,
    status_table,
    summarize_tasks,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICES = {"aerospike": "astest_aerospike", "discovery": "astest_discovery"}
NETWORK = "astest_aerospike"
HASHES = {"aerospike": "fa2bf71e2ee0", "discovery": "708e8caf0031"}
STACK_HASH = "9f8ce923afeb"


def probe():
    return json.loads((FIXTURES / "stack-probe-3-global.json").read_text())


def probe_of_version_0_1():
    return json.loads((FIXTURES / "stack-probe-3-replicated-0.1.json").read_text())


def nodes():
    return json.loads((FIXTURES / "node-inspect-5.json").read_text())


def aerospike_tasks(raw):
    service_id = next(s["ID"] for s in raw["services"] if s["Spec"]["Name"] == "astest_aerospike")
    return [t for t in raw["tasks"] if t["ServiceID"] == service_id]


def state(raw=None, hashes=None):
    return stack_state(raw or probe(), SERVICES, NETWORK, hashes or HASHES, "aerostack.aerospike")


def desired(**changes):
    result = {"services": SERVICES, "stack_hash": STACK_HASH,
              "aerospike_spec_hash": HASHES["aerospike"], "discovery_spec_hash": HASHES["discovery"]}
    result.update(changes)
    return result


# --- tasks --------------------------------------------------------------------------------------------


def test_running_tasks_are_summarized_with_their_hosts_and_overlay_addresses_in_host_order():
    tasks = state()["tasks"]
    assert (tasks["desired"], tasks["running"], tasks["current"], tasks["outdated"]) == (3, 3, 3, 0)
    assert [(t["host"], t["address"], t["slot"]) for t in tasks["tasks"]] == [
        ("lab1", "10.0.1.5", None), ("lab2", "10.0.1.3", None), ("lab3", "10.0.1.4", None)]
    assert tasks["addresses"] == ["10.0.1.5", "10.0.1.3", "10.0.1.4"]
    assert len(tasks["node_ids"]) == 3
    assert tasks["problems"] == []


def test_the_state_reads_the_nodes_and_which_carry_the_placement_label():
    current = state()
    assert [(n["hostname"], n["labelled"], n["ready"]) for n in current["nodes"]] == [
        ("lab1", True, True), ("lab2", True, True), ("lab3", True, True), ("lab4", False, True), ("lab5", False, True)]
    assert current["aerospike"]["mode"] == "global"


def test_the_discovery_task_is_counted_apart():
    discovery = state()["discovery_tasks"]
    assert (discovery["desired"], discovery["running"], discovery["current"]) == (1, 1, 1)
    assert discovery["addresses"] == ["10.0.1.2"]
    assert discovery["tasks"][0]["host"] == "lab4"


def test_tasks_of_an_older_spec_are_outdated():
    tasks = state(hashes={"aerospike": "000000000000", "discovery": HASHES["discovery"]})["tasks"]
    assert (tasks["running"], tasks["current"], tasks["outdated"]) == (3, 0, 3)


def test_a_task_that_does_not_run_is_explained_with_swarms_own_error():
    raw = probe()
    tasks = aerospike_tasks(raw)
    by_host = dict((n["ID"], n["Description"]["Hostname"]) for n in raw["nodes"])
    starting = next(t for t in tasks if by_host[t["NodeID"]] == "lab2")
    starting["Status"]["State"] = "starting"
    starting["Status"]["Message"] = "starting"
    failed = copy.deepcopy(starting)
    failed["ID"] = "x" * 25
    failed["DesiredState"] = "shutdown"
    failed["Status"].update(State="failed", Timestamp="2026-11-22T03:15:00.000000000Z",
                            Err="starting container failed: error setting rlimits for ready process: error setting "
                                "rlimit type 7: operation not permitted")
    raw["tasks"].append(failed)
    summary = state(raw)["tasks"]
    assert summary["running"] == 2
    assert summary["addresses"] == ["10.0.1.5", "10.0.1.4"]
    assert len(summary["problems"]) == 1
    assert summary["problems"][0].startswith("on lab2: task %s is starting; its last attempt failed: " % starting["ID"][:12])
    assert summary["problems"][0].endswith("error setting rlimit type 7: operation not permitted")


def test_summarize_refuses_what_is_not_a_task_list():
    with pytest.raises(OpsError):
        summarize_tasks({"not": "a list"}, NETWORK)


# --- reading the probe ----------------------------------------------------------------------------------


def test_the_probe_result_as_registered_by_ansible_is_understood():
    registered = {"rc": 0, "stdout": json.dumps(probe()), "stderr": ""}
    result = stack_state(registered, SERVICES, NETWORK, HASHES, "aerostack.aerospike")
    assert result["probe_error"] is None
    assert result["aerospike"]["replicas"] is None and result["aerospike"]["mode"] == "global"
    assert result["aerospike"]["volumes"] == []
    assert result["aerospike"]["stack_hash"] == STACK_HASH
    assert result["aerospike"]["spec_hash"] == HASHES["aerospike"]
    assert result["aerospike"]["image"] == "aerostack-lab/aerospike-simulator:0.1.0"


@pytest.mark.parametrize("registered,expected", [
    ({"rc": 1, "stdout": "", "stderr": "Error: No such object: abc\n"},
     "the state probe failed (rc 1): Error: No such object: abc"),
    ({"rc": 0, "stdout": "garbage", "stderr": ""}, "the state probe printed no JSON"),
    ({"rc": 0, "stdout": "{}", "stderr": ""}, "no 'services' and 'tasks' lists"),
    ({"rc": 0, "stdout": '{"services": [], "tasks": [], "nodes": {}}', "stderr": ""}, "'nodes' is not a list"),
])
def test_a_failed_probe_is_reported_not_raised(registered, expected):
    result = stack_state(registered, SERVICES, NETWORK, HASHES)
    assert expected in result["probe_error"]
    assert converged(result, 3) == {"done": False, "waiting_for": [result["probe_error"]]}
    assert rollout_progress(result["tasks"], 3, 0) is False


def test_converged_when_every_task_runs_the_current_spec():
    assert converged(state(), 3) == {"done": True, "waiting_for": []}


def test_not_converged_says_what_it_waits_for():
    current = state()
    result = converged(current, 4, [n["id"] for n in current["nodes"] if n["hostname"] != "lab5"])
    assert result["done"] is False
    assert result["waiting_for"] == ["3 of 4 Aerospike tasks running (3 scheduled)",
                                     "no Aerospike instance running on lab4 yet"]
    outdated = converged(state(hashes={"aerospike": "000000000000", "discovery": "000000000000"}), 3)
    assert outdated["waiting_for"] == ["3 Aerospike task(s) still run an older spec",
                                       "the discovery task is not running the current spec (1 running, 0 current)"]


def test_an_absent_stack_is_not_converged():
    result = state({"services": [], "tasks": []})
    assert result["aerospike"]["exists"] is False
    assert converged(result, 3)["waiting_for"] == ["the Aerospike service does not exist",
                                                   "the discovery service does not exist"]


# --- placement ------------------------------------------------------------------------------------------


def swarm_nodes(labelled=("lab1", "lab2", "lab3"), **changes):
    """node_summary of the recorded 5-node swarm with the label on ``labelled``; ``changes``: hostname -> (state,
    availability)."""
    data = nodes()
    for node in data:
        host = node["Description"]["Hostname"]
        node["Spec"]["Labels"] = {"aerostack.aerospike": "true"} if host in labelled else {}
        if host in changes:
            node["Status"]["State"], node["Spec"]["Availability"] = changes[host]
    return node_summary(data, "aerostack.aerospike")


def ids(summary, *hosts):
    by_host = dict((n["hostname"], n["id"]) for n in summary)
    return [by_host[h] for h in hosts]


def plan(summary, candidates=("lab1", "lab2", "lab3", "lab4", "lab5"), managed=None, replicas=3):
    managed = candidates if managed is None else managed
    return placement_plan(summary, ids(summary, *candidates), ids(summary, *managed), replicas)


def hosts(result, key):
    return [result["hostnames"][i] for i in result[key]]


def test_node_summary_reads_labels_and_readiness():
    summary = swarm_nodes(labelled=("lab2",), lab3=("down", "active"), lab4=("ready", "drain"))
    assert [(n["hostname"], n["labelled"], n["ready"]) for n in summary] == [
        ("lab1", False, True), ("lab2", True, True), ("lab3", False, False), ("lab4", False, False),
        ("lab5", False, True)]
    assert summary[0]["role"] == "manager"


def test_a_first_deploy_labels_the_first_hosts_in_inventory_order():
    result = plan(swarm_nodes(labelled=()), candidates=("lab3", "lab1", "lab5", "lab2"))
    assert hosts(result, "add") == ["lab3", "lab1", "lab5"]
    assert result["remove"] == [] and result["short"] is None
    assert result["expected"] == 3 and hosts(result, "target") == ["lab3", "lab1", "lab5"]


def test_labelled_hosts_keep_their_instance_whatever_the_inventory_order():
    result = plan(swarm_nodes(labelled=("lab4", "lab5")), replicas=3)
    assert hosts(result, "add") == ["lab1"]
    assert hosts(result, "target") == ["lab4", "lab5", "lab1"]


def test_nothing_changes_when_the_labelled_hosts_are_the_cluster():
    result = plan(swarm_nodes())
    assert result["add"] == [] and result["remove"] == []
    assert hosts(result, "members") == ["lab1", "lab2", "lab3"] and result["expected"] == 3


def test_a_labelled_host_that_is_down_keeps_its_instance_and_is_not_replaced():
    result = plan(swarm_nodes(lab2=("down", "active")))
    assert result["add"] == [] and result["remove"] == []
    assert result["expected"] == 2
    assert result["down"] == ["lab2 (down/active)"]


def test_scale_up_labels_only_ready_hosts_and_says_why_it_falls_short():
    result = plan(swarm_nodes(lab4=("down", "active")), replicas=5)
    assert hosts(result, "add") == ["lab5"]
    assert result["short"] == (
        "5 Aerospike instances need as many labelled hosts, but only 4 can run one (3 labelled, 1 more ready in "
        "aerospike_nodes): not ready: lab4 (down/active). Bring the hosts back, add hosts to aerospike_nodes, or lower "
        "aerospike_replicas")


def test_scale_down_removes_the_last_hosts_in_inventory_order_one_by_one():
    result = plan(swarm_nodes(labelled=("lab1", "lab2", "lab3", "lab4", "lab5")), replicas=3)
    assert hosts(result, "remove") == ["lab5", "lab4"]
    assert hosts(result, "target") == ["lab1", "lab2", "lab3"]


def test_scale_down_removes_a_host_that_cannot_run_its_instance_first():
    result = plan(swarm_nodes(labelled=("lab1", "lab2", "lab3", "lab4"), lab2=("down", "active")), replicas=3)
    assert hosts(result, "remove") == ["lab2"]
    assert result["expected"] == 3 and result["down"] == []


def test_a_host_taken_out_of_the_group_is_retired_after_its_replacement_is_added():
    summary = swarm_nodes()
    result = plan(summary, candidates=("lab1", "lab3", "lab4", "lab5"), managed=("lab1", "lab2", "lab3", "lab4", "lab5"))
    assert hosts(result, "add") == ["lab4"]
    assert hosts(result, "remove") == ["lab2"]
    assert hosts(result, "target") == ["lab1", "lab3", "lab4"]


def test_a_labelled_node_outside_the_inventory_counts_but_is_never_touched():
    result = plan(swarm_nodes(labelled=("lab1", "lab5")), candidates=("lab1", "lab2", "lab3"),
                  managed=("lab1", "lab2", "lab3"))
    assert hosts(result, "members") == ["lab1", "lab5"]
    assert hosts(result, "add") == ["lab2"] and result["remove"] == []


def test_placement_refuses_hosts_outside_the_swarm_and_a_size_below_one():
    with pytest.raises(OpsError) as info:
        placement_plan(swarm_nodes(), ["nosuchnode"], [], 3)
    assert "nosuchnode" in str(info.value) and "join them first" in str(info.value)
    with pytest.raises(OpsError) as info:
        placement_plan(swarm_nodes(), [], [], 0)
    assert "aerospike_replicas 0 must be a whole number of at least 1" in str(info.value)


def test_fewer_replicas_are_refused_outside_the_scale_playbook():
    result = plan(swarm_nodes(), replicas=2)
    assert placement_refusal(result, 2, "astest_aerospike", scaling=True) is None
    assert placement_refusal(result, 2, "astest_aerospike") == (
        "aerospike_replicas is 2 but 3 host(s) run an instance of astest_aerospike (lab1, lab2, lab3); the role never "
        "removes an instance as a side effect (lab3 would lose its instance). Scale down with playbooks/scale.yml -e "
        "aerospike_replicas=2 (one host at a time, verified; it also retires hosts taken out of aerospike_nodes), then "
        "set aerospike_replicas: 2 in the inventory")


def test_a_size_that_cannot_be_reached_is_refused_in_every_run():
    result = plan(swarm_nodes(lab4=("down", "active"), lab5=("down", "active")), replicas=5)
    assert placement_refusal(result, 5, "astest_aerospike", scaling=True) == result["short"]


# --- deploy actions -----------------------------------------------------------------------------------


def test_nothing_to_deploy_when_the_running_stack_matches():
    current = state()
    assert deploy_action(desired(), current["aerospike"], current["discovery"], current["tasks"]) == {
        "action": "none", "reasons": []}


def test_a_missing_service_is_created():
    current = state({"services": [], "tasks": []})
    assert deploy_action(desired(), current["aerospike"], current["discovery"], current["tasks"])["action"] == "create"


def test_a_changed_task_spec_on_a_running_cluster_is_rolled_out():
    current = state(hashes={"aerospike": "111111111111", "discovery": HASHES["discovery"]})
    result = deploy_action(desired(aerospike_spec_hash="111111111111"), current["aerospike"], current["discovery"],
                           current["tasks"])
    assert result["action"] == "rollout"
    assert result["reasons"] == ["the Aerospike task spec changed (fa2bf71e2ee0 -> 111111111111)",
                                 "3 Aerospike task(s) run an older spec"]


def test_an_interrupted_rollout_is_resumed():
    current = state(hashes={"aerospike": "111111111111", "discovery": HASHES["discovery"]})
    current["aerospike"]["spec_hash"] = "111111111111"  # the service already has the new spec
    result = deploy_action(desired(aerospike_spec_hash="111111111111"), current["aerospike"], current["discovery"],
                           current["tasks"])
    assert result == {"action": "rollout", "reasons": ["3 Aerospike task(s) run an older spec"]}


def test_a_changed_discovery_service_is_a_plain_update():
    current = state(hashes={"aerospike": HASHES["aerospike"], "discovery": "222222222222"})
    result = deploy_action(desired(discovery_spec_hash="222222222222"), current["aerospike"], current["discovery"],
                           current["tasks"])
    assert result == {"action": "update", "reasons": ["the discovery service changed"]}


def test_service_state_of_an_unknown_service():
    assert service_state(probe()["services"], "nosuch")["exists"] is False


# --- rolling update steps -----------------------------------------------------------------------------


def test_rollout_progress_needs_the_replacement_running_and_one_less_outdated():
    tasks = state(hashes={"aerospike": "111111111111", "discovery": HASHES["discovery"]})["tasks"]
    assert rollout_progress(tasks, 3, 3) is True  # step 0: nothing replaced yet, all running
    assert rollout_progress(tasks, 3, 2) is False  # step 1 not done: still 3 outdated
    assert rollout_progress(state()["tasks"], 3, 2) is True
    assert rollout_progress(state()["tasks"], 4, 2) is False  # a task is missing


# --- scaling ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("current,target,steps", [
    (3, 5, [5]),
    (5, 3, [4, 3]),
    (3, 3, []),
    (5, 2, [4, 3, 2]),
])
def test_scale_steps_go_up_at_once_and_down_one_node_at_a_time(current, target, steps):
    assert scale_steps(current, target, min_replicas=2) == steps


def test_scale_down_below_the_replication_factor_is_refused():
    with pytest.raises(OpsError) as info:
        scale_steps(5, 1, min_replicas=2)
    assert str(info.value).startswith("refusing to scale down to 1 nodes: the largest replication_factor is 2")


def test_scale_to_zero_is_refused_and_points_to_teardown():
    with pytest.raises(OpsError) as info:
        scale_steps(3, 0)
    assert "playbooks/teardown.yml" in str(info.value)


def test_departed_keeps_the_order_of_before():
    assert departed(["a", "b", "c", "d"], ["a", "c"]) == ["b", "d"]


# --- status -----------------------------------------------------------------------------------------------


def info_node(address, simulator_answer, **facts):
    node = {"address": address, "reachable": True, "error": None, "node_id": "BB9" + address.split(":")[0][-1] * 3,
            "build": "8.1.2.0", "cluster_size": 3, "cluster_key": "8D27A45F0E85", "cluster_integrity": True,
            "migrate_partitions_remaining": 0, "namespaces": {"test": {"objects": 7}}, "mesh_seeds": [],
            "commands": {"simulator": simulator_answer}}
    node.update(facts)
    return node


def test_simulator_nodes_are_told_apart_by_the_simulator_command():
    assert is_simulator(info_node("10.0.1.2:3000", "aerostack-simulator 0.1.0")) is True
    assert is_simulator(info_node("10.0.1.2:3000", "ERROR:4:unrecognized command")) is False


def test_status_rows_join_nodes_with_their_host_and_volume():
    current = state()
    rows = status_rows([info_node("10.0.1.4:3000", "ERROR:4:unrecognized command"),
                        info_node("10.0.1.5:3000", "ERROR:4:unrecognized command")], current["tasks"],
                       volume="astest_aerospike-data")
    assert [(r["host"], r["address"], r["volume"]) for r in rows] == [
        ("lab1", "10.0.1.5:3000", "astest_aerospike-data"), ("lab3", "10.0.1.4:3000", "astest_aerospike-data")]
    assert rows[0]["objects"] == {"test": 7}
    assert rows[0]["simulator"] is False and rows[0]["missing"] is None


def test_a_labelled_host_without_an_instance_gets_a_row_saying_where_its_data_waits():
    current = state()
    down = dict(current["nodes"][1], state="down", ready=False)
    tasks = dict(current["tasks"], tasks=[t for t in current["tasks"]["tasks"] if t["host"] != "lab2"])
    rows = status_rows([info_node("10.0.1.5:3000", "ERROR:4:unrecognized command")], tasks,
                       members=[current["nodes"][0], down],
                       volume="astest_aerospike-data")
    assert [(r["host"], r["missing"]) for r in rows] == [
        ("lab1", None),
        ("lab2", "host down (down/active); its data waits in volume astest_aerospike-data there")]
    lines = status_table(rows, {"stable": True, "size": 1, "cluster_key": "8D27A45F0E85", "migrations_remaining": 0})
    assert lines[0].split()[:2] == ["HOST", "VOLUME"]
    assert lines[2].split()[:5] == ["lab2", "astest_aerospike-data", "-", "-", "MISSING"]
    assert lines[-1] == ("missing: 1 labelled host(s) run no instance: lab2: host down (down/active); its data waits in "
                         "volume astest_aerospike-data there. A host that comes back runs its instance again by "
                         "itself; to replace a host for good see docs/aerospike.md")
    memory_only = status_rows([], tasks, members=[down])
    assert memory_only[0]["missing"] == "host down (down/active); its in-memory data is on the other nodes"


def test_status_table_reads_at_a_glance():
    tasks = state()["tasks"]
    nodes_ = [info_node("10.0.1.5:3000", "aerostack-simulator 0.1.0"),
              {"address": "10.0.1.3:3000", "reachable": False, "error": "connection refused"}]
    lines = status_table(status_rows(nodes_, tasks), {"stable": False, "problems": ["10.0.1.3:3000 is unreachable"]})
    assert lines[0].split() == ["HOST", "NODE", "ADDRESS", "BUILD", "SIZE", "KEY", "INTEGRITY", "MIGRATIONS",
                                "OBJECTS"]
    assert lines[1].split() == ["lab1", "BB9555", "10.0.1.5:3000", "8.1.2.0", "(simulator)", "3", "8D27A45F0E85", "yes",
                                "0", "test=7"]
    assert lines[2].split()[:4] == ["lab2", "-", "10.0.1.3:3000", "UNREACHABLE"]
    assert lines[2].endswith("connection refused")
    assert lines[3] == "cluster: NOT STABLE: 10.0.1.3:3000 is unreachable"
    assert "simulator" in lines[4]
    column = lines[0].index("ADDRESS")
    assert lines[1][column:].startswith("10.0.1.5:3000") and lines[2][column:].startswith("10.0.1.3:3000")


# --- version 0.1 ------------------------------------------------------------------------------------------


def test_a_replicated_service_of_version_0_1_is_refused_naming_the_way_over():
    old = stack_state(probe_of_version_0_1(), SERVICES, NETWORK, HASHES)
    assert old["aerospike"]["mode"] == "replicated" and old["aerospike"]["replicas"] == 3
    problem = service_mode_problem(old["aerospike"], "astest_aerospike")
    assert problem == (
        "astest_aerospike is a replicated service of aerostack.swarm 0.1 (a data volume per task slot, which swarm "
        "moves between hosts); 0.2 runs one instance per labelled host (a global service) and a service cannot change "
        "its mode in place. Nothing was changed. Move the data over as docs/aerospike.md 'Upgrading from 0.1' describes "
        "(asbackup, teardown, deploy, asrestore)")
    with pytest.raises(OpsError) as info:
        deploy_action(desired(), old["aerospike"], old["discovery"], old["tasks"])
    assert str(info.value) == problem
    assert service_mode_problem(state()["aerospike"], "astest_aerospike") is None
