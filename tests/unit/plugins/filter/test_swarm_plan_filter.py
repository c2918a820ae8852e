"""The swarm_plan filters: hostvars in, the planner's answer (or its refusal as data) out."""

from ansible_collections.aerostack.swarm.plugins.filter.swarm_plan import (
    FilterModule,
    swarm_plan,
    swarm_stale_nodes,
    swarm_verify,
)


def _report(host, index):
    return {
        "reachable": True,
        "info": {"docker": {"available": True}, "swarm": {"local_state": "inactive"}, "nodes": None,
                 "network": {"addresses": ["198.19.30.1%d" % index], "interfaces": {"eth0": ["198.19.30.1%d" % index]},
                             "default": "198.19.30.1%d" % index}},
        "labels": {},
    }


def test_the_plan_reads_each_hosts_report_from_hostvars():
    hostvars = {"lab%d" % i: {"swarm_host_report": _report("lab%d" % i, i)} for i in (1, 2, 3)}
    plan = swarm_plan(["lab1", "lab2", "lab3"], hostvars, {"managers_max": "3"})
    assert plan["error"] is None and plan["init"] == "lab1" and plan["join_managers"] == ["lab2", "lab3"]
    assert plan["advertise"] == {"lab1": "198.19.30.11", "lab2": "198.19.30.12", "lab3": "198.19.30.13"}


def test_a_host_without_report_is_a_refusal_returned_as_data():
    hostvars = {"lab1": {"swarm_host_report": _report("lab1", 1)}, "lab2": {}}
    plan = swarm_plan(["lab1", "lab2"], hostvars, {})
    assert plan["error"].startswith("swarm plan refused, nothing was changed:\n- lab2: did not report (it failed "
                                    "earlier in this run, or --limit left it out)")


def test_verify_and_stale_filters_are_registered_and_answer():
    assert sorted(FilterModule().filters()) == ["swarm_plan", "swarm_stale_nodes", "swarm_verify"]
    assert swarm_stale_nodes([{"id": "a", "hostname": "lab5", "state": "down", "role": "worker"},
                              {"id": "b", "hostname": "lab5", "state": "ready", "role": "worker"}])[0]["id"] == "a"
    assert swarm_verify([], {"managers": ["lab1"], "active_hosts": ["lab1"]}, {}) == [
        "lab1: not a member of swarm (new)", "0 managers in the swarm (), the plan wants 1 (lab1)"]
