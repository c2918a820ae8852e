"""swarm_join: one node to its place in THIS swarm with THIS role; check mode, diff, force, and clear refusals."""

import pytest
from fake_swarm_engine import Clock, FakeCluster, FakeEngine, cert_reader, make_swarm
from module_runner import run_module

from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import Swarm
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError
from ansible_collections.aerostack.swarm.plugins.modules import swarm_join

DEFAULTS = dict(state="joined", node=None, role=None, cluster_id=None, remote_addrs=None, join_token=None,
                advertise_addr=None, listen_addr="0.0.0.0:2377", data_path_addr=None, availability=None, labels=None,
                labels_absent=None, labels_exclusive=False, force=False, force_new_cluster=False, wait=True,
                wait_timeout=60,
                return_join_tokens=False, docker_host="unix:///var/run/docker.sock")


@pytest.fixture(autouse=True)
def _fresh_registry():
    FakeEngine.clusters = []
    yield
    FakeEngine.clusters = []


def run(engine, check_mode=False, **params):
    clock = Clock()
    swarm = Swarm(engine, read_text=cert_reader(engine), clock=clock, sleep=clock.sleep, interval=0.5)
    return swarm_join.run(dict(DEFAULTS, **params), check_mode, swarm=swarm)


def refused(engine, **params):
    with pytest.raises(SwarmError) as err:
        run(engine, **params)
    return str(err.value)


def join_args(cluster, engines, role):
    return dict(role=role, cluster_id=cluster.id, remote_addrs=[engines["lab1"].addr],
                join_token=cluster.tokens["Manager" if role == "manager" else "Worker"])


# --- init -------------------------------------------------------------------------------------------

def test_init_creates_a_swarm_and_reports_the_change_as_a_diff():
    engine = FakeEngine("lab1", "198.19.30.11")
    result = run(engine, state="init", advertise_addr="198.19.30.11")
    assert result["changed"] is True
    assert engine.calls == [("init", {"ListenAddr": "0.0.0.0:2377", "ForceNewCluster": False,
                                      "AdvertiseAddr": "198.19.30.11"})]
    assert result["diff"]["before"] == {"swarm_id": None, "node_id": None, "state": "inactive", "role": None}
    assert result["diff"]["after"] == {"swarm_id": engine.cluster.id, "node_id": engine.node_id, "state": "active",
                                       "role": "manager"}
    assert result["actions"] == ["create a new swarm advertising 198.19.30.11"]


def test_init_on_a_manager_adopts_its_swarm_without_change():
    cluster, engines = make_swarm(["lab1"])
    result = run(engines["lab1"], state="init", advertise_addr="198.19.30.11")
    assert result["changed"] is False and engines["lab1"].calls == []
    assert result["swarm"]["swarm_id"] == cluster.id and result["swarm"]["role"] == "manager"


def test_init_in_check_mode_predicts_without_calling_the_engine():
    engine = FakeEngine("lab1", "198.19.30.11")
    result = run(engine, check_mode=True, state="init", advertise_addr="198.19.30.11")
    assert result["changed"] is True and engine.calls == [] and engine.state == "inactive"
    assert result["diff"]["after"]["role"] == "manager"


def test_init_on_a_worker_of_another_swarm_is_refused_without_force():
    cluster, engines = make_swarm(["lab1"], ["lab2"])
    message = refused(engines["lab2"], state="init")
    assert message == ("this host is a worker of swarm %s, so it cannot be the first manager of a new one; set "
                       "force=true to leave it and create a new swarm (containers of that swarm's services stop here)"
                       % cluster.id)
    assert engines["lab2"].calls == []


# --- force-new-cluster (recovery) -----------------------------------------------------------------------

def test_force_new_cluster_is_refused_while_the_swarm_has_a_leader():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"])
    message = refused(engines["lab1"], state="init", force_new_cluster=True)
    assert message == ("swarm %s still has a leader, so its quorum is not lost: force_new_cluster would drop the other "
                       "managers for nothing; nothing was changed (run the aerostack.swarm.swarm role instead)"
                       % cluster.id)
    assert engines["lab1"].calls == []


def test_force_new_cluster_rebuilds_from_a_survivor_without_quorum():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"])
    cluster.leader = False
    preview = run(engines["lab1"], check_mode=True, state="init", force_new_cluster=True)
    assert preview["changed"] and engines["lab1"].calls == []
    result = run(engines["lab1"], state="init", force_new_cluster=True)
    assert result["changed"] and result["actions"] == [
        "rebuild swarm %s as a one-manager swarm from this host (force-new-cluster)" % cluster.id]
    assert engines["lab1"].calls == [("init", {"ListenAddr": "0.0.0.0:2377", "ForceNewCluster": True})]
    assert cluster.leader and [n["Description"]["Hostname"] for n in cluster.managers()] == ["lab1"]


def test_force_new_cluster_on_a_worker_is_refused():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    assert refused(engines["lab4"], state="init", force_new_cluster=True).startswith(
        "force_new_cluster rebuilds a swarm from one of its surviving managers, but this host is a worker")


# --- join ---------------------------------------------------------------------------------------------

def test_a_worker_joins_and_a_second_run_changes_nothing():
    cluster, engines = make_swarm(["lab1"])
    lab4 = FakeEngine("lab4", "198.19.30.14")
    first = run(lab4, advertise_addr="198.19.30.14", **join_args(cluster, engines, "worker"))
    assert first["changed"] is True and lab4.state == "active" and not lab4.is_manager()
    assert lab4.calls == [("join", {"ListenAddr": "0.0.0.0:2377", "RemoteAddrs": ["198.19.30.11:2377"],
                                    "JoinToken": cluster.tokens["Worker"], "AdvertiseAddr": "198.19.30.14"})]
    assert first["swarm"]["swarm_id"] == cluster.id  # a worker's cluster ID comes from its certificate
    lab4.calls = []
    second = run(lab4, advertise_addr="198.19.30.14", **join_args(cluster, engines, "worker"))
    assert second["changed"] is False and lab4.calls == []
    assert second["diff"]["before"] == second["diff"]["after"]


def test_joining_in_check_mode_needs_no_token_and_calls_nothing():
    cluster, engines = make_swarm(["lab1"])
    lab4 = FakeEngine("lab4", "198.19.30.14")
    args = join_args(cluster, engines, "worker")
    args["join_token"] = ""
    result = run(lab4, check_mode=True, **args)
    assert result["changed"] is True and lab4.calls == [] and lab4.state == "inactive"
    assert result["actions"] == ["join through 198.19.30.11:2377 as worker"]


def test_joining_without_a_token_is_refused():
    cluster, engines = make_swarm(["lab1"])
    args = join_args(cluster, engines, "worker")
    del args["join_token"]
    assert refused(FakeEngine("lab4", "198.19.30.14"), **args) == (
        "joining needs join_token (the manager or worker token of the swarm to join)")


def test_a_worker_token_for_a_manager_role_is_caught_after_the_join():
    cluster, engines = make_swarm(["lab1"])
    args = join_args(cluster, engines, "manager")
    args["join_token"] = cluster.tokens["Worker"]
    message = refused(FakeEngine("lab2", "198.19.30.12"), **args)
    assert message == ("joined swarm %s as worker, but role=manager was asked: the join token is the worker token; "
                       "pass the manager token" % cluster.id)


def test_a_bad_token_fails_naming_the_request_and_the_engine_answer():
    cluster, engines = make_swarm(["lab1"])
    args = join_args(cluster, engines, "worker")
    args["join_token"] = "SWMTKN-1-wrong"
    message = refused(FakeEngine("lab4", "198.19.30.14"), **args)
    assert message == ("join the swarm through 198.19.30.11:2377 failed: Docker engine: POST /swarm/join failed: "
                       "HTTP 400: rpc error: code = InvalidArgument desc = A valid join token is necessary to join "
                       "this cluster")


def test_a_member_is_recognised_by_its_managers_when_no_cluster_id_is_given():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    result = run(engines["lab4"], role="worker", remote_addrs=["198.19.30.11"], join_token=cluster.tokens["Worker"])
    assert result["changed"] is False and engines["lab4"].calls == []


def test_a_node_in_another_swarm_is_refused_and_left_untouched():
    ours, engines = make_swarm(["lab1"])
    other, others = make_swarm(["lab9"], ["lab5"])
    lab5 = others["lab5"]
    message = refused(lab5, **join_args(ours, engines, "worker"))
    assert message == ("this host is already in another swarm %s as worker; set force=true to leave it and join this "
                       "one (containers of that swarm's services stop here)" % other.id)
    assert lab5.calls == [] and lab5.cluster is other


def test_force_leaves_the_other_swarm_joins_this_one_and_returns_the_old_node_id():
    ours, engines = make_swarm(["lab1"])
    other, others = make_swarm(["lab9"], ["lab5"])
    lab5 = others["lab5"]
    old_id = lab5.node_id
    result = run(lab5, force=True, **join_args(ours, engines, "worker"))
    assert result["changed"] is True and lab5.cluster is ours
    assert [c[0] for c in lab5.calls] == ["leave", "join"]
    assert result["previous_node_id"] == old_id
    assert result["actions"][0].startswith("leave: this host is already in another swarm %s" % other.id)


def test_a_stuck_pending_membership_needs_force():
    ours, engines = make_swarm(["lab1"])
    lab4 = FakeEngine("lab4", "198.19.30.14")
    lab4.state, lab4.error, lab4.node_id = "pending", "rpc error: code = Unavailable desc = connection refused", "x1"
    message = refused(lab4, **join_args(ours, engines, "worker"))
    assert message.startswith("this host's swarm membership is stuck in state 'pending' (rpc error: code = "
                              "Unavailable desc = connection refused); set force=true")
    lab4.cluster = FakeCluster()  # what leave() clears
    result = run(lab4, force=True, **join_args(ours, engines, "worker"))
    assert result["changed"] and lab4.state == "active" and result["previous_node_id"] == "x1"


def test_a_locked_swarm_is_refused_even_with_force():
    lab4 = FakeEngine("lab4", "198.19.30.14")
    lab4.state = "locked"
    assert refused(lab4, force=True, remote_addrs=["198.19.30.11"], join_token="t").startswith(
        "the swarm is locked on this host (autolock after a restart); unlock it with 'docker swarm unlock'")


def test_a_worker_that_should_be_a_manager_points_to_the_node_scope():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    message = refused(engines["lab4"], **join_args(cluster, engines, "manager"))
    assert message == ("this host is a worker of swarm %s and should be a manager: a worker cannot promote itself; "
                       "run swarm_join with node=lab4 on a manager (delegate_to), as the aerostack.swarm.swarm role "
                       "does" % cluster.id)


def test_force_makes_a_worker_that_should_be_a_manager_leave_and_rejoin_with_the_manager_token():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    lab4 = engines["lab4"]
    old_id = lab4.node_id
    result = run(lab4, force=True, **join_args(cluster, engines, "manager"))
    assert result["changed"] is True and lab4.is_manager() and lab4.cluster is cluster
    assert [c[0] for c in lab4.calls] == ["leave", "join"]
    assert result["previous_node_id"] == old_id
    assert result["actions"][0] == "leave: this host is a worker of swarm %s and should be a manager" % cluster.id


def test_a_manager_that_should_be_a_worker_demotes_itself_through_its_own_engine():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"])
    result = run(engines["lab3"], **join_args(cluster, engines, "worker"))
    assert result["changed"] is True and not engines["lab3"].is_manager()
    assert result["diff"]["before"]["role"] == "manager" and result["diff"]["after"]["role"] == "worker"


def test_leaving_as_a_manager_needs_force():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"])
    message = refused(engines["lab2"], state="absent")
    assert message.startswith("this host is a manager of swarm %s: leaving can cost the swarm its quorum" % cluster.id)
    assert engines["lab2"].calls == []


def test_a_worker_leaves_and_a_second_run_changes_nothing():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    assert run(engines["lab4"], state="absent")["changed"] is True
    assert engines["lab4"].state == "inactive"
    assert run(engines["lab4"], state="absent")["changed"] is False


def test_join_tokens_are_returned_only_when_asked_and_on_a_manager():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    result = run(engines["lab1"], state="init", return_join_tokens=True)
    assert result["join_tokens"] == {"manager": cluster.tokens["Manager"], "worker": cluster.tokens["Worker"]}
    assert "join_tokens" not in run(engines["lab1"], state="init")
    assert "join_tokens" not in run(engines["lab4"], return_join_tokens=True, **join_args(cluster, engines, "worker"))


# --- node scope (through a manager) -------------------------------------------------------------------

def test_promotion_waits_until_the_node_is_a_reachable_manager():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"], ["lab4"])
    cluster.reach_after = 3
    result = run(engines["lab1"], node=engines["lab4"].node_id, role="manager", cluster_id=cluster.id)
    assert result["changed"] and engines["lab4"].is_manager()
    assert cluster.nodes[engines["lab4"].node_id]["ManagerStatus"]["Reachability"] == "reachable"
    assert engines["lab1"].polls[engines["lab4"].node_id] >= 3
    assert result["actions"] == ["role worker -> manager"]
    assert (result["diff"]["before"]["role"], result["diff"]["after"]["role"]) == ("worker", "manager")


def test_promotion_that_never_becomes_reachable_fails_saying_what_it_waited_for():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    cluster.reach_after = 10 ** 6
    message = refused(engines["lab1"], node="lab4", role="manager", wait_timeout=5)
    assert message == "waited 5s for lab4 to become a reachable manager: its manager status is 'unknown'"


def test_demotion_waits_until_the_node_left_raft_and_is_idempotent():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3", "lab4", "lab5"])
    cluster.demote_after = 2
    result = run(engines["lab1"], node="lab5", role="worker")
    assert result["changed"] and "ManagerStatus" not in cluster.nodes[engines["lab5"].node_id]
    engines["lab1"].calls = []
    again = run(engines["lab1"], node="lab5", role="worker")
    assert again["changed"] is False and engines["lab1"].calls == []


def test_role_change_in_check_mode_reports_the_new_role_without_calling():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    result = run(engines["lab1"], check_mode=True, node="lab4", role="manager")
    assert result["changed"] and engines["lab1"].calls == [] and not engines["lab4"].is_manager()
    assert result["diff"]["after"]["role"] == "manager"


def test_labels_are_added_and_removed_and_others_kept():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    node = cluster.nodes[engines["lab4"].node_id]
    node["Spec"]["Labels"] = {"rack": "r1", "aerostack.aerospike": "true"}
    result = run(engines["lab1"], node="lab4", labels={"zone": "a", "rack": "r1"}, labels_absent=["aerostack.aerospike"])
    assert result["changed"] and node["Spec"]["Labels"] == {"rack": "r1", "zone": "a"}
    assert result["actions"] == ["labels +zone=a, -aerostack.aerospike"]
    assert run(engines["lab1"], node="lab4", labels={"zone": "a"}, labels_absent=["aerostack.aerospike"])[
        "changed"] is False


def test_exclusive_labels_remove_everything_else():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    cluster.nodes[engines["lab4"].node_id]["Spec"]["Labels"] = {"rack": "r1"}
    run(engines["lab1"], node="lab4", labels={"zone": "a"}, labels_exclusive=True)
    assert cluster.nodes[engines["lab4"].node_id]["Spec"]["Labels"] == {"zone": "a"}


def test_drain_waits_until_the_tasks_have_really_stopped_not_just_been_told_to():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    cluster.tasks = [{"ID": "t1", "ServiceID": "svc-aerospike-000", "NodeID": engines["lab4"].node_id,
                      "DesiredState": "running", "Status": {"State": "running"}, "_drain_after": 3}]
    result = run(engines["lab1"], node="lab4", availability="drain")
    assert result["changed"] and cluster.nodes[engines["lab4"].node_id]["Spec"]["Availability"] == "drain"
    # Desired state went to shutdown at once; the wait lasted until the task's own state said so.
    assert cluster.tasks[0]["DesiredState"] == "shutdown" and cluster.tasks[0]["Status"]["State"] == "shutdown"
    assert cluster.tasks[0]["_drain_after"] < 0


def test_a_drain_that_never_empties_fails_listing_the_tasks():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    cluster.tasks = [{"ID": "t1", "ServiceID": "q0s8x2l4m7n1p5r9t3v6w0y2z", "NodeID": engines["lab4"].node_id,
                      "Status": {"State": "running"}, "_drain_after": 10 ** 6}]
    message = refused(engines["lab1"], node="lab4", availability="drain", wait_timeout=3)
    assert message == ("waited 3s for the tasks on lab4 to move away (drain): 1 task(s) still on it: service "
                       "q0s8x2l4m7n1 (running)")


def test_node_scope_on_a_worker_engine_is_refused_with_the_fix():
    cluster, engines = make_swarm(["lab1"], ["lab4", "lab5"])
    assert refused(engines["lab5"], node="lab4", role="manager") == (
        "changing node lab4 needs a manager's engine, but this engine is a worker; run the task on a manager "
        "(delegate_to: a manager of the swarm)")


def test_node_scope_through_a_manager_of_another_swarm_is_refused():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    message = refused(engines["lab1"], node="lab4", role="manager", cluster_id="someotherswarm")
    assert message.startswith("this manager belongs to swarm %s, not to swarm someotherswarm" % cluster.id)


def test_an_unknown_node_is_refused():
    cluster, engines = make_swarm(["lab1"])
    assert refused(engines["lab1"], node="lab7", role="worker") == (
        "node lab7 is not a member of swarm %s: join it first (run swarm_join on that host)" % cluster.id)


def test_removing_a_down_entry_then_again_changes_nothing():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    old = engines["lab4"].node_id
    cluster.nodes[old]["Status"]["State"] = "down"
    assert run(engines["lab1"], node=old, state="absent")["changed"] is True
    assert old not in cluster.nodes
    assert run(engines["lab1"], node=old, state="absent")["changed"] is False


def test_removing_a_live_node_or_a_manager_is_refused():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"], ["lab4"])
    assert refused(engines["lab1"], node="lab4", state="absent").startswith(
        "node lab4 (%s) is ready, not Down: make it leave the swarm first, or set force=true" % engines["lab4"].node_id)
    assert refused(engines["lab1"], node="lab2", state="absent").startswith(
        "node lab2 (%s) is a manager: demote it first" % engines["lab2"].node_id)
    assert engines["lab1"].calls == []


def test_a_hostname_shared_by_a_down_and_a_live_entry_means_the_live_one():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    stale = cluster.add(FakeEngine("lab4", "198.19.30.14"), "worker", state="down")
    result = run(engines["lab1"], node="lab4", labels={"a": "b"})
    assert result["swarm"]["node_id"] == engines["lab4"].node_id != stale


def test_node_scope_rejects_local_only_options():
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    assert refused(engines["lab1"], node="lab4", join_token="x") == (
        "node=lab4 selects the node scope (a manager changes that node), where join_token does not apply; drop node "
        "to act on this host's own membership")
    assert "where state=init does not apply" in refused(engines["lab1"], node="lab4", state="init")


# --- main(): the one place errors become fail_json ------------------------------------------------------

def test_main_turns_a_refusal_into_a_failure_with_the_message(monkeypatch, capsys):
    cluster, engines = make_swarm(["lab1"], ["lab4"])
    monkeypatch.setattr(swarm_join, "DockerApi", lambda path: engines["lab4"])
    result, failed = run_module(swarm_join, dict(node="lab5", role="manager"), capsys=capsys)
    assert failed and result["msg"].startswith("changing node lab5 needs a manager's engine, but this engine is a worker")


def test_main_hides_the_token_and_returns_the_diff_only_in_diff_mode(monkeypatch, capsys):
    cluster, engines = make_swarm(["lab1"])
    lab4 = FakeEngine("lab4", "198.19.30.14")
    monkeypatch.setattr(swarm_join, "DockerApi", lambda path: lab4)
    args = dict(role="worker", remote_addrs=["198.19.30.11"], join_token=cluster.tokens["Worker"])
    result, failed = run_module(swarm_join, args, check_mode=True, diff=True, capsys=capsys)
    assert not failed and result["changed"] and result["diff"]["after"]["role"] == "worker"
    assert cluster.tokens["Worker"] not in str(result.get("invocation"))
    result, failed = run_module(swarm_join, args, check_mode=True, capsys=capsys)
    assert "diff" not in result


def test_main_requires_remote_addrs_to_join(capsys):
    result, failed = run_module(swarm_join, dict(role="worker", join_token="x"), capsys=capsys)
    assert failed and "state is joined but any of the following are missing: remote_addrs, node" in result["msg"]


def test_main_refuses_a_tcp_docker_host(capsys):
    result, failed = run_module(swarm_join, dict(state="init", docker_host="tcp://10.0.0.1:2375"), capsys=capsys)
    assert failed and result["msg"] == ("docker_host=tcp://10.0.0.1:2375: only unix:// sockets are supported (for "
                                        "example unix:///var/run/docker.sock)")


def test_the_entry_of_a_manager_left_out_of_raft_can_be_removed_once_not_ready():
    cluster, engines = make_swarm(["lab1", "lab2", "lab3"])
    cluster.leader = False
    run(engines["lab1"], state="init", force_new_cluster=True)
    lab2 = engines["lab2"].node_id
    assert cluster.nodes[lab2]["Spec"]["Role"] == "manager" and "ManagerStatus" not in cluster.nodes[lab2]
    result = run(engines["lab1"], node=lab2, state="absent")
    assert result["changed"] and lab2 not in cluster.nodes


# --- an engine that stops waiting on its own request (Docker 20.10, seen in the quorum drill) ------------------

def stuck_manager(ours, engines):
    """lab3: a manager that was cut off and came back in state 'error' (its Raft peers unreachable)."""
    lab3 = FakeEngine("lab3", "198.19.30.13")
    lab3.state, lab3.node_id, lab3.cluster = "error", "x3", FakeCluster()
    lab3.error = ("manager stopped: can't initialize raft node: rpc error: code = Unavailable desc = connection error: "
                  "desc = \"transport: Error while dialing dial tcp 198.19.30.12:2377: connect: connection refused\"")
    return lab3


def test_a_leave_the_engine_gave_up_on_is_asked_again_until_the_node_is_out():
    ours, engines = make_swarm(["lab1"])
    lab3 = stuck_manager(ours, engines)
    lab3.leave_gives_up = 2
    result = run(lab3, force=True, **join_args(ours, engines, "manager"))
    assert [c[0] for c in lab3.calls] == ["leave", "leave", "leave", "join"]
    assert result["changed"] and lab3.state == "active" and lab3.cluster is ours
    assert result["previous_node_id"] == "x3"


def test_a_leave_that_timed_out_after_leaving_is_not_asked_again():
    ours, engines = make_swarm(["lab1"])
    lab3 = stuck_manager(ours, engines)
    lab3.leave_gives_up, lab3.gives_up_after_leaving = 1, True
    result = run(lab3, force=True, **join_args(ours, engines, "manager"))
    assert [c[0] for c in lab3.calls] == ["leave", "join"] and result["swarm"]["role"] == "manager"


def test_a_leave_that_never_completes_fails_after_the_wait_naming_the_engine_answer():
    ours, engines = make_swarm(["lab1"])
    lab3 = stuck_manager(ours, engines)
    lab3.leave_gives_up = 10**6
    message = refused(lab3, force=True, wait_timeout=5, **join_args(ours, engines, "manager"))
    assert message == ("leave the swarm failed (asked 11 times in 5s): Docker engine: POST /swarm/leave failed: "
                       "HTTP 500: context deadline exceeded")
    assert [c[0] for c in lab3.calls] == ["leave"] * 11 and lab3.state == "error"


def test_other_leave_failures_are_not_asked_again():
    ours, engines = make_swarm(["lab1"])
    lab3 = stuck_manager(ours, engines)
    lab3.leave_gives_up, lab3.leave_answer = 10**6, (500, "rpc error: code = Unknown desc = disk full")
    message = refused(lab3, state="absent", force=True)
    assert message == ("leave the swarm failed: Docker engine: POST /swarm/leave failed: HTTP 500: rpc error: "
                       "code = Unknown desc = disk full")
    assert lab3.calls == [("leave", True)]


def test_a_join_the_engine_carries_on_in_the_background_is_waited_for():
    ours, engines = make_swarm(["lab1"])
    lab4 = FakeEngine("lab4", "198.19.30.14")
    lab4.join_background_polls = 3
    result = run(lab4, **join_args(ours, engines, "manager"))
    assert result["changed"] and lab4.state == "active" and result["swarm"]["role"] == "manager"
    assert [c[0] for c in lab4.calls] == ["join"]


def test_a_background_join_that_never_completes_fails_with_the_state_it_stayed_in():
    ours, engines = make_swarm(["lab1"])
    lab4 = FakeEngine("lab4", "198.19.30.14")
    lab4.join_background_polls = 10**6
    message = refused(lab4, wait_timeout=5, **join_args(ours, engines, "manager"))
    assert message == "waited 5s for this host to become an active swarm member: local node state is 'pending'"
