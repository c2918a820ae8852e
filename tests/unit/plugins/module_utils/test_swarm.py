"""Engine-facing helpers: node certificates, local state, host addresses, node records."""

import json
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._swarm import (
    cert_subject,
    describe_local,
    host_network,
    normalize_node,
    socket_path,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._swarm_plan import SwarmError

FIXTURES = Path(__file__).parent / "fixtures"
# Taken from a worker of the lab swarm (docker 20.10.24): `docker info` there showed this node ID, and the manager's
# `docker info --format '{{.Swarm.Cluster.ID}}'` this cluster ID.
WORKER_CERT = (FIXTURES / "swarm-node-worker.crt").read_text()
CLUSTER_ID = "206ksngifyuwp2hk5ot8ucl13"
NODE_ID = "jpzz84e9w19e33zq5af0tz32n"


def test_a_real_worker_certificate_names_cluster_role_and_node():
    assert cert_subject(WORKER_CERT) == {"O": CLUSTER_ID, "OU": "swarm-worker", "CN": NODE_ID}


@pytest.mark.parametrize("text", [None, "", "not a certificate", "-----BEGIN CERTIFICATE-----\n%%%%\n"
                                  "-----END CERTIFICATE-----\n"])
def test_anything_that_is_not_a_certificate_gives_no_subject(text):
    assert cert_subject(text) == {}


def _worker_info(node_id=NODE_ID):
    return {"Name": "lab4", "DockerRootDir": "/var/lib/docker",
            "Swarm": {"NodeID": node_id, "NodeAddr": "198.19.30.14", "LocalNodeState": "active",
                      "ControlAvailable": False, "Error": "",
                      "RemoteManagers": [{"NodeID": "m1", "Addr": "198.19.30.12:2377"},
                                         {"NodeID": "m2", "Addr": "198.19.30.11:2377"}]}}


def test_a_workers_cluster_id_is_read_from_its_certificate():
    reads = []

    def read(path):
        reads.append(path)
        return WORKER_CERT

    local = describe_local(_worker_info(), read)
    assert reads == ["/var/lib/docker/swarm/certificates/swarm-node.crt"]
    assert local == {"local_state": "active", "node_id": NODE_ID, "node_addr": "198.19.30.14", "is_manager": False,
                     "cluster_id": CLUSTER_ID, "error": None,
                     "remote_managers": ["198.19.30.11:2377", "198.19.30.12:2377"], "managers": None, "nodes": None,
                     "hostname": "lab4"}


def test_a_certificate_of_another_node_is_not_trusted():
    assert describe_local(_worker_info("someothernode"), lambda path: WORKER_CERT)["cluster_id"] is None


def test_an_unreadable_certificate_leaves_the_cluster_id_unknown():
    assert describe_local(_worker_info(), lambda path: None)["cluster_id"] is None


def test_a_managers_cluster_id_comes_from_info():
    info = {"Name": "lab1", "Swarm": {"NodeID": "n1", "LocalNodeState": "active", "ControlAvailable": True,
                                      "Cluster": {"ID": "c1"}, "Nodes": 5, "Managers": 3}}
    local = describe_local(info, lambda path: pytest.fail("no certificate read on a manager"))
    assert (local["cluster_id"], local["is_manager"], local["nodes"], local["managers"]) == ("c1", True, 5, 3)


def test_outside_a_swarm_the_state_is_inactive():
    local = describe_local({"Name": "lab9", "Swarm": {"NodeID": "", "LocalNodeState": "inactive"}})
    assert (local["local_state"], local["node_id"], local["cluster_id"], local["is_manager"]) == (
        "inactive", None, None, False)


IP_ADDR = json.dumps([
    {"ifindex": 1, "ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1"}]},
    {"ifindex": 7, "ifname": "docker_gwbridge", "addr_info": [{"family": "inet", "local": "172.18.0.1"}]},
    {"ifindex": 9, "ifname": "veth563b920", "addr_info": []},
    {"ifindex": 23, "ifname": "eth0", "addr_info": [{"family": "inet", "local": "198.19.30.11"},
                                                    {"family": "inet6", "local": "fd00::11"}]},
])


def test_host_network_reads_iproute2_json_and_the_default_route_interface():
    answers = {
        ("ip", "-j", "addr", "show"): IP_ADDR,
        ("ip", "-j", "-4", "route", "show", "default"): '[{"dst":"default","gateway":"198.19.30.1","dev":"eth0"}]',
    }
    net = host_network(lambda argv: answers[tuple(argv)])
    assert net == {"addresses": ["127.0.0.1", "172.18.0.1", "198.19.30.11", "fd00::11"],
                   "interfaces": {"lo": ["127.0.0.1"], "docker_gwbridge": ["172.18.0.1"], "veth563b920": [],
                                  "eth0": ["198.19.30.11", "fd00::11"]},
                   "default": "198.19.30.11"}


def test_host_network_prefers_the_routes_source_address_and_copes_without_a_default_route():
    answers = {("ip", "-j", "addr", "show"): IP_ADDR,
               ("ip", "-j", "-4", "route", "show", "default"): '[{"dev":"eth0","prefsrc":"198.19.30.99"}]'}
    assert host_network(lambda argv: answers[tuple(argv)])["default"] == "198.19.30.99"
    answers[("ip", "-j", "-4", "route", "show", "default")] = "[]"
    assert host_network(lambda argv: answers[tuple(argv)])["default"] == ""


def test_host_network_is_none_without_iproute2():
    assert host_network(lambda argv: None) is None


def test_a_node_record_is_flattened():
    raw = {"ID": "n1", "Version": {"Index": 42}, "CreatedAt": "2026-11-22T02:44:00Z",
           "Spec": {"Role": "manager", "Availability": "drain", "Labels": {"a": "b"}},
           "Description": {"Hostname": "lab2", "Engine": {"EngineVersion": "20.10.24+dfsg1"}},
           "Status": {"State": "ready", "Addr": "198.19.30.12"},
           "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": "198.19.30.12:2377"}}
    assert normalize_node(raw) == {
        "id": "n1", "hostname": "lab2", "role": "manager", "availability": "drain", "labels": {"a": "b"},
        "state": "ready", "message": None, "addr": "198.19.30.12", "leader": True, "reachability": "reachable",
        "manager_addr": "198.19.30.12:2377", "engine_version": "20.10.24+dfsg1", "created_at": "2026-11-22T02:44:00Z",
        "version": 42}


def test_only_unix_sockets_are_accepted():
    assert socket_path("unix:///run/docker.sock") == "/run/docker.sock"
    with pytest.raises(SwarmError, match="only unix:// sockets are supported"):
        socket_path("ssh://lab1")
