"""Judging every host's one read in one place (_aerospike_hosts.host_reads): the shell output of the role's
"Read each host's swarm state", as Ansible registers it."""

import json

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_hosts import LEADER_PREFIX, host_reads

LIMITS_OK = ["Max open files            1048576              1048576              files", "CapEff:\t000001ffffffffff"]
LIMITS_LOW = ["Max open files            20000                20000                files", "CapEff:\t000001fffeffffff"]
NO_LEADER = ("Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. It's "
             "possible that too few managers are online. Make sure more than half of the managers are online. ")


def info(name, state="active", manager=False, node_id=None):
    # docker info --format '{{json .}}' prints compact JSON, as Go encodes it.
    swarm = {"LocalNodeState": state, "ControlAvailable": manager, "NodeID": node_id or ("id-" + name)}
    return json.dumps({"Name": name, "Swarm": swarm}, separators=(",", ":"))


def read(*lines, rc=0, stderr=""):
    return {"rc": rc, "stdout_lines": list(lines), "stderr": stderr, "changed": False}


def test_a_formed_swarm_gives_the_manager_its_leader_check_and_every_node_id():
    reads = {
        "lab1": read(info("lab1", manager=True), LEADER_PREFIX + " 0", *LIMITS_OK),
        "lab2": read(info("lab2", manager=True), LEADER_PREFIX + " 0"),
        "lab4": read(info("node-4"), *LIMITS_OK),
    }
    got = host_reads(reads, ["lab1", "lab4"], "aerospike_nodes", 65536)
    assert got["manager"] == "lab1" and got["leader"] == {"rc": 0, "stderr": ""}
    assert got["node_ids"] == {"lab1": "id-lab1", "lab2": "id-lab2", "lab4": "id-node-4"}
    assert got["hostname"]["lab4"] == "node-4" and got["swarm"]["lab2"]["ControlAvailable"] is True
    assert (got["unreachable"], got["no_docker"], got["not_in_swarm"], got["nofile"]) == ([], [], [], [])


def test_a_lost_quorum_is_read_from_the_first_manager_when_no_manager_sees_a_leader():
    reads = {"lab1": read(info("lab1", manager=True), LEADER_PREFIX + " 1 " + NO_LEADER),
             "lab2": read(info("lab2", manager=True), LEADER_PREFIX + " 1 other words"),
             "lab4": read(info("lab4"))}
    got = host_reads(reads, ["lab1"])
    assert got["manager"] == "lab1" and got["leader"] == {"rc": 1, "stderr": NO_LEADER.strip()}


def test_a_manager_without_a_leader_is_passed_over_for_one_that_has_it():
    # lab1 has just rejoined (or is cut off from the majority): it says "no leader" while lab2 and lab3 have one.
    reads = {"lab1": read(info("lab1", manager=True), LEADER_PREFIX + " 1 " + NO_LEADER),
             "lab2": read(info("lab2", manager=True), LEADER_PREFIX + " 0"),
             "lab3": read(info("lab3", manager=True), LEADER_PREFIX + " 0")}
    got = host_reads(reads, ["lab1"])
    assert got["manager"] == "lab2" and got["leader"] == {"rc": 0, "stderr": ""}


def test_a_manager_read_without_the_leader_line_counts_as_no_answer():
    got = host_reads({"lab1": read(info("lab1", manager=True))}, [])
    assert got["leader"] == {"rc": 1, "stderr": "no answer from docker node ls on lab1"}


def test_every_problem_of_every_host_is_named_with_its_fix():
    reads = {
        "lab1": read(info("lab1", manager=True), LEADER_PREFIX + " 0", *LIMITS_LOW),
        "lab2": {"unreachable": True, "msg": "Failed to connect to the host via ssh"},
        "lab3": read(rc=1, stderr="Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n"),
        "lab9": read(info("lab9", state="inactive", node_id="")),
        "lab5": read(info("lab5"), *LIMITS_LOW),
    }
    got = host_reads(reads, ["lab1", "lab2", "lab3", "lab9"], "aerospike_nodes", 65536)
    assert got["manager"] == "lab1"
    assert got["unreachable"] == ["lab2"] and got["swarm"]["lab2"]["LocalNodeState"] == "unreachable"
    assert got["no_docker"] == [
        "Docker does not answer on lab3 (docker info: rc 1: Cannot connect to the Docker daemon at "
        "unix:///var/run/docker.sock.). Install and start it with playbooks/swarm.yml (roles docker and swarm) first."]
    assert got["not_in_swarm"] == [
        "lab9 is in group aerospike_nodes but is not an active swarm member (its swarm state: inactive). Join it with "
        "playbooks/swarm.yml, or remove it from aerospike_nodes."]
    # Only Aerospike hosts are judged (lab5 is not one), and only when asked (nofile given).
    assert len(got["nofile"]) == 1 and got["nofile"][0].startswith("aerospike_nofile 65536 is above the open-files "
                                                                   "limit 20000 of the Docker engine on lab1")
    assert host_reads(reads, ["lab1"])["nofile"] == []


def test_no_active_manager_means_no_manager_and_output_that_is_not_json_means_no_docker():
    reads = {"lab1": read(info("lab1", state="inactive")), "lab2": read("Client: Docker Engine", rc=0)}
    got = host_reads(reads, ["lab1", "lab2"])
    assert got["manager"] == "" and got["leader"] == {"rc": 0, "stderr": ""}
    assert got["no_docker"][0].startswith("Docker does not answer on lab2 (docker info: rc 0: ).")
    assert got["not_in_swarm"][0].startswith("lab1 is in group aerospike_nodes but is not an active swarm member")
