"""The pure parts of the simulator's cluster model: node ids, keys, cliques and migration counts."""

import re

import pytest

from aerospike_sim.cluster import (ClusterInfo, Migration, PeerState, candidates, migration_load, new_cluster_key,
                                   sort_nodes)
from aerospike_sim.info import parse_host_port, parse_params
from aerospike_sim.netif import Addresses, InterfaceError, derive_node_id


@pytest.mark.parametrize("address, node_id", [
    ("10.0.6.2", "BB90206000A4202"), ("10.0.6.3", "BB90306000A4202"), ("10.0.6.4", "BB90406000A4202"),
])
def test_node_id_is_derived_like_the_real_server_in_a_docker_container(address, node_id):
    assert derive_node_id(address, 3001) == node_id


def test_peers_are_listed_highest_node_id_first_as_in_the_fixture():
    assert sort_nodes(["BB90206000A4202", "BB90406000A4202", "BB90306000A4202"]) == [
        "BB90406000A4202", "BB90306000A4202", "BB90206000A4202"]


def test_cluster_keys_are_twelve_hex_digits_and_new():
    keys = {new_cluster_key() for _i in range(200)}
    assert all(re.match(r"^[0-9A-F]{12}$", k) for k in keys) and len(keys) == 200
    assert new_cluster_key(avoid=["ABCDEF012345"]) != "ABCDEF012345"


def cluster(key, members, prior=None):
    return ClusterInfo(key, 1, max(members), tuple(members), prior or {})


@pytest.mark.parametrize("case, previous, new, expected", [
    ("lone node merges with two other lone clusters (fixture: tx_initial 4096)",
     cluster("K1", ["A"]), cluster("K", ["C", "B", "A"], {"A": "K1", "B": "K2", "C": "K3"}), (4096, 2731)),
    ("orphans meeting early move nothing",
     None, cluster("K", ["C", "B", "A"], {"A": "", "B": "", "C": ""}), (0, 0)),
    ("one of three departs: only a third moves",
     cluster("K1", ["C", "B", "A"]), cluster("K", ["B", "A"], {"A": "K1", "B": "K1"}), (910, 1365)),
    ("an empty node joins a formed cluster",
     cluster("K1", ["C", "B", "A"]), cluster("K", ["D", "C", "B", "A"], {"A": "K1", "B": "K1", "C": "K1", "D": ""}),
     (683, 512)),
    ("an empty node received its share",
     None, cluster("K", ["D", "C", "B", "A"], {"A": "K1", "B": "K1", "C": "K1", "D": ""}), (0, 2048)),
    ("recluster with the same members moves nothing",
     cluster("K1", ["B", "A"]), cluster("K", ["B", "A"], {"A": "K1", "B": "K1"}), (0, 0)),
])
def test_migration_load(case, previous, new, expected):
    own = "D" if previous is None and "D" in new.members else "A"
    assert migration_load(2, own, previous, new) == expected, case


def test_migrations_count_down_to_zero_and_never_early():
    migration = Migration(4096, 2731, started=100.0)
    rate = 2730.0
    assert migration.remaining(100.0, rate) == (4096, 2731)
    halfway = migration.remaining(101.25, rate)
    assert 0 < sum(halfway) < 6827 and halfway[0] <= 4096 and halfway[1] <= 2731
    assert sum(migration.remaining(102.49, rate)) > 0
    assert migration.remaining(102.6, rate) == (0, 0)


def peer(node, hears):
    return PeerState(node, ["%s:3002" % node], ["%s:3000" % node], {h: [] for h in hears}, None, 0.0)


def test_candidates_are_a_clique_of_nodes_that_hear_each_other():
    peers = {"B": peer("B", ["A", "C"]), "C": peer("C", ["A", "B"]), "D": peer("D", ["A"])}
    assert candidates("A", peers) == {"A", "B", "C"}, "D does not hear B and C"
    assert candidates("A", {"B": peer("B", [])}) == {"A"}, "a node that does not hear us is no candidate"


def test_several_published_addresses_come_from_address_any():
    addresses = Addresses({"lo": "127.0.0.1", "eth0": "10.0.4.4", "eth1": "172.18.0.4"})
    assert addresses.resolve(["any"], "heartbeat") == (["0.0.0.0"], ["10.0.4.4", "172.18.0.4"])
    assert addresses.resolve(["eth0"], "heartbeat") == (["10.0.4.4"], ["10.0.4.4"])
    with pytest.raises(InterfaceError, match="'eth9' is not an interface"):
        addresses.resolve(["eth9"], "heartbeat")


@pytest.mark.parametrize("text, expected", [
    ("10.0.6.4:3002", ("10.0.6.4", 3002)),
    ("[fd00::4]:3002", ("fd00::4", 3002)),
    ("10.0.6.4", None),      # what the 2017 'h;p' form leaves after the ';' split
    ("all", None),
    ("10.0.6.4:x", None),
])
def test_tip_clear_entries(text, expected):
    assert parse_host_port(text) == expected


def test_info_parameters_split_like_the_server():
    assert parse_params("host-port-list=10.0.6.4;3002") == {"host-port-list": "10.0.6.4"}
    assert parse_params("size=3;ignore-migrations=false") == {"size": "3", "ignore-migrations": "false"}
