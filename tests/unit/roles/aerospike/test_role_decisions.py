"""The role's decisions over what Docker reports (recorded from the lab, docker 20.10.24): tasks, labels,
deploy actions, rolling-update progress, scaling steps, and the status table."""

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
    label_plan,
    rollout_progress,
    scale_steps,
    service_state,
    stack_state,
    status_rows,
    status_table,
    summarize_tasks,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICES = {"aerospike": "astest_aerospike", "discovery": "astest_discovery"}
NETWORK = "astest_aerospike"
HASHES = {"aerospike": "be64d215243d", "discovery": "1cf947d0a16d"}


def probe():
    return json.loads((FIXTURES / "stack-probe-3-running.json").read_text())


def nodes():
    return json.loads((FIXTURES / "node-inspect-5.json").read_text())


def aerospike_tasks(raw):
    service_id = next(s["ID"] for s in raw["services"] if s["Spec"]["Name"] == "astest_aerospike")
    return [t for t in raw["tasks"] if t["ServiceID"] == service_id]


def state(raw=None, hashes=None):
    return stack_state(raw or probe(), SERVICES, NETWORK, hashes or HASHES)


def desired(replicas=3, **changes):
    result = {"replicas": replicas, "services": SERVICES, "stack_hash": "0ef988c58104",
              "aerospike_spec_hash": HASHES["aerospike"], "discovery_spec_hash": HASHES["discovery"]}
    result.update(changes)
    return result


# --- tasks --------------------------------------------------------------------------------------------


def test_running_tasks_are_summarized_with_their_overlay_addresses_in_slot_order():
    tasks = state()["tasks"]
    assert (tasks["desired"], tasks["running"], tasks["current"], tasks["outdated"]) == (3, 3, 3, 0)
    assert tasks["addresses"] == ["10.0.1.2", "10.0.1.3", "10.0.1.4"]
    assert [t["slot"] for t in tasks["tasks"]] == [1, 2, 3]
    assert len(tasks["node_ids"]) == 3
    assert tasks["problems"] == []


def test_the_discovery_task_is_counted_apart():
    discovery = state()["discovery_tasks"]
    assert (discovery["desired"], discovery["running"], discovery["current"]) == (1, 1, 1)
    assert discovery["addresses"] == ["10.0.1.5"]


def test_tasks_of_an_older_spec_are_outdated():
    tasks = state(hashes={"aerospike": "000000000000", "discovery": HASHES["discovery"]})["tasks"]
    assert (tasks["running"], tasks["current"], tasks["outdated"]) == (3, 0, 3)


def test_a_task_that_does_not_run_is_explained_with_swarms_own_error():
    raw = probe()
    tasks = aerospike_tasks(raw)
    starting = next(t for t in tasks if t["Slot"] == 2)
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
    assert summary["addresses"] == ["10.0.1.2", "10.0.1.4"]
    assert len(summary["problems"]) == 1
    assert summary["problems"][0].startswith("slot 2: task %s is starting; its last attempt failed: " % starting["ID"][:12])
    assert summary["problems"][0].endswith("error setting rlimit type 7: operation not permitted")


def test_summarize_refuses_what_is_not_a_task_list():
    with pytest.raises(OpsError):
        summarize_tasks({"not": "a list"}, NETWORK)


# --- reading the probe ----------------------------------------------------------------------------------


def test_the_probe_result_as_registered_by_ansible_is_understood():
    registered = {"rc": 0, "stdout": json.dumps(probe()), "stderr": ""}
    result = stack_state(registered, SERVICES, NETWORK, HASHES)
    assert result["probe_error"] is None
    assert result["aerospike"]["replicas"] == 3
    assert result["aerospike"]["stack_hash"] == "0ef988c58104"
    assert result["aerospike"]["spec_hash"] == HASHES["aerospike"]
    assert result["aerospike"]["image"] == "aerostack-lab/aerospike-simulator:0.1.0"


@pytest.mark.parametrize("registered,expected", [
    ({"rc": 1, "stdout": "", "stderr": "Error: No such object: abc\n"},
     "the state probe failed (rc 1): Error: No such object: abc"),
    ({"rc": 0, "stdout": "garbage", "stderr": ""}, "the state probe printed no JSON"),
    ({"rc": 0, "stdout": "{}", "stderr": ""}, "no 'services' and 'tasks' lists"),
])
def test_a_failed_probe_is_reported_not_raised(registered, expected):
    result = stack_state(registered, SERVICES, NETWORK, HASHES)
    assert expected in result["probe_error"]
    assert converged(result, 3) == {"done": False, "waiting_for": [result["probe_error"]]}
    assert rollout_progress(result["tasks"], 3, 0) is False


def test_converged_when_every_task_runs_the_current_spec():
    assert converged(state(), 3) == {"done": True, "waiting_for": []}


def test_not_converged_says_what_it_waits_for():
    result = converged(state(), 5)
    assert result["done"] is False
    assert result["waiting_for"] == ["3 of 5 Aerospike tasks running (3 scheduled)"]
    outdated = converged(state(hashes={"aerospike": "000000000000", "discovery": "000000000000"}), 3)
    assert outdated["waiting_for"] == ["3 Aerospike task(s) still run an older spec",
                                       "the discovery task is not running the current spec (1 running, 0 current)"]


def test_an_absent_stack_is_not_converged():
    result = state({"services": [], "tasks": []})
    assert result["aerospike"]["exists"] is False
    assert converged(result, 3)["waiting_for"] == ["the Aerospike service does not exist",
                                                   "the discovery service does not exist"]


# --- labels ---------------------------------------------------------------------------------------------


def test_label_plan_labels_wanted_nodes_and_unlabels_only_inventory_hosts():
    data = nodes()
    ids = dict((n["Description"]["Hostname"], n["ID"]) for n in data)
    del next(n for n in data if n["ID"] == ids["lab1"])["Spec"]["Labels"]["aerostack.aerospike"]
    plan = label_plan(data, wanted=[ids["lab1"], ids["lab2"], ids["lab3"]],
                      managed=[ids["lab1"], ids["lab2"], ids["lab3"], ids["lab4"]], label="aerostack.aerospike")
    assert plan["add"] == [ids["lab1"]]
    assert plan["remove"] == [ids["lab4"]]  # lab5 is not in the inventory: never touched, still eligible
    assert plan["eligible"] == [ids["lab1"], ids["lab2"], ids["lab3"], ids["lab5"]]
    assert plan["not_ready"] == []


def test_label_plan_reports_wanted_nodes_that_cannot_take_a_task():
    data = nodes()
    data[1]["Status"]["State"] = "down"
    data[2]["Spec"]["Availability"] = "drain"
    ids = [n["ID"] for n in data]
    plan = label_plan(data, wanted=ids, managed=ids, label="aerostack.aerospike")
    assert len(plan["eligible"]) == 3
    assert plan["not_ready"] == ["lab2 (down/active)", "lab3 (ready/drain)"]


def test_label_plan_refuses_hosts_outside_the_swarm():
    with pytest.raises(OpsError) as info:
        label_plan(nodes(), wanted=["nosuchnode"], managed=[], label="aerostack.aerospike")
    assert "nosuchnode" in str(info.value) and "join them first" in str(info.value)


# --- deploy actions -----------------------------------------------------------------------------------


def test_nothing_to_deploy_when_the_running_stack_matches():
    current = state()
    assert deploy_action(desired(), current["aerospike"], current["discovery"], current["tasks"]) == {
        "action": "none", "reasons": []}


def test_a_missing_service_is_created():
    current = state({"services": [], "tasks": []})
    assert deploy_action(desired(), current["aerospike"], current["discovery"], current["tasks"])["action"] == "create"


def test_more_replicas_is_a_plain_update():
    current = state()
    result = deploy_action(desired(5, stack_hash="ffffffffffff"), current["aerospike"], current["discovery"],
                           current["tasks"])
    assert result == {"action": "update", "reasons": ["replicas 3 -> 5", "the stack file changed",
                                                      "the discovery service changed"]}


def test_a_changed_task_spec_on_a_running_cluster_is_rolled_out():
    current = state(hashes={"aerospike": "111111111111", "discovery": HASHES["discovery"]})
    result = deploy_action(desired(aerospike_spec_hash="111111111111"), current["aerospike"], current["discovery"],
                           current["tasks"])
    assert result["action"] == "rollout"
    assert result["reasons"] == ["the Aerospike task spec changed (be64d215243d -> 111111111111)",
                                 "3 Aerospike task(s) run an older spec"]


def test_an_interrupted_rollout_is_resumed():
    current = state(hashes={"aerospike": "111111111111", "discovery": HASHES["discovery"]})
    current["aerospike"]["spec_hash"] = "111111111111"  # the service already has the new spec
    result = deploy_action(desired(aerospike_spec_hash="111111111111"), current["aerospike"], current["discovery"],
                           current["tasks"])
    assert result == {"action": "rollout", "reasons": ["3 Aerospike task(s) run an older spec"]}


def test_fewer_replicas_are_refused_outside_the_scale_playbook():
    current = state()
    with pytest.raises(OpsError) as info:
        deploy_action(desired(2), current["aerospike"], current["discovery"], current["tasks"])
    assert "Scale down with playbooks/scale.yml -e aerospike_replicas=2" in str(info.value)


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


def test_status_rows_join_nodes_with_their_task_slot():
    tasks = state()["tasks"]
    rows = status_rows([info_node("10.0.1.4:3000", "ERROR:4:unrecognized command"),
                        info_node("10.0.1.2:3000", "ERROR:4:unrecognized command")], tasks)
    assert [(r["slot"], r["address"]) for r in rows] == [(1, "10.0.1.2:3000"), (3, "10.0.1.4:3000")]
    assert rows[0]["objects"] == {"test": 7}
    assert rows[0]["simulator"] is False


def test_status_table_reads_at_a_glance():
    tasks = state()["tasks"]
    nodes_ = [info_node("10.0.1.2:3000", "aerostack-simulator 0.1.0"),
              {"address": "10.0.1.3:3000", "reachable": False, "error": "connection refused"}]
    lines = status_table(status_rows(nodes_, tasks), {"stable": False, "problems": ["10.0.1.3:3000 is unreachable"]})
    assert lines[0].split() == ["SLOT", "NODE", "ADDRESS", "BUILD", "SIZE", "KEY", "INTEGRITY", "MIGRATIONS",
                                "OBJECTS"]
    assert lines[1].split() == ["1", "BB9222", "10.0.1.2:3000", "8.1.2.0", "(simulator)", "3", "8D27A45F0E85", "yes",
                                "0", "test=7"]
    assert lines[2].split()[:4] == ["2", "-", "10.0.1.3:3000", "UNREACHABLE"]
    assert lines[2].endswith("connection refused")
    assert lines[3] == "cluster: NOT STABLE: 10.0.1.3:3000 is unreachable"
    assert "simulator" in lines[4]
    column = lines[0].index("ADDRESS")
    assert lines[1][column:].startswith("10.0.1.2:3000") and lines[2][column:].startswith("10.0.1.3:3000")
