"""Mesh and clustering behaviour of simulated nodes running as separate processes on loopback."""

import pytest

from simulator_support import SPEED, ask, kv, stats

from aerospike_sim import harness

pytestmark = pytest.mark.simulator


def sizes(nodes):
    return [stats(n)["cluster_size"] for n in nodes]


def wait_size(nodes, size, timeout=10.0):
    harness.wait_until(lambda: all(s == str(size) for s in sizes(nodes)), timeout,
                       "cluster_size %d on nodes %s" % (size, [n.index for n in nodes]),
                       describe=lambda: sizes(nodes))


def wait_stable(nodes, size, timeout=15.0):
    command = "cluster-stable:size=%d;ignore-migrations=false" % size

    def one_key():
        answers = {ask(n, command) for n in nodes}
        return len(answers) == 1 and not next(iter(answers)).startswith("ERROR") and answers.pop()
    return harness.wait_until(one_key, timeout, "one key from %s on nodes %s" % (command, [n.index for n in nodes]),
                              describe=lambda: [ask(n, command) for n in nodes])


def tip(into, node):
    return ask(into, "tip:host=%s;port=%d" % (node.address, node.heartbeat_port))


def test_nodes_seeded_from_the_start_join_without_migrations():
    """Nodes that meet before forming their own one-node clusters form one cluster with nothing to move."""
    with harness.cluster(3, speed=SPEED, mesh_seeds=True) as nodes:
        key = wait_stable(nodes, 3)
        for node in nodes:
            s = stats(node)
            namespace = dict(kv(ask(node, "namespace/test")))
            assert (s["cluster_generation"], s["cluster_key"]) == ("1", key)
            assert namespace["migrate_tx_partitions_initial"] == namespace["migrate_rx_partitions_initial"] == "0"
            assert s["cluster_principal"] == max((n.node_id for n in nodes), key=lambda i: int(i, 16))


def test_one_way_tip_is_enough_and_third_nodes_are_learned_through_the_mesh():
    with harness.cluster(3, speed=SPEED) as nodes:
        wait_size(nodes, 1)
        assert tip(nodes[0], nodes[1]) == "ok" and tip(nodes[1], nodes[2]) == "ok"
        key = wait_stable(nodes, 3)
        assert {stats(n)["cluster_key"] for n in nodes} == {key}
        services = ask(nodes[0], "services").split(";")
        assert services == ["%s:3000" % n.address for n in sorted(nodes[1:], key=lambda n: -int(n.node_id, 16))]


def test_departed_node_leaves_the_cluster_goes_to_alumni_and_alumni_reset_clears_it():
    with harness.cluster(3, speed=SPEED, mesh_seeds=True) as nodes:
        wait_stable(nodes, 3)
        survivors, victim = nodes[:2], nodes[2]
        peers_gen = int(ask(survivors[0], "peers-clear-std").split(",", 1)[0])
        victim.kill()
        wait_size(survivors, 2)
        key = wait_stable(survivors, 2)
        first = survivors[0]
        assert victim.address + ":3000" not in ask(first, "services").split(";")
        assert victim.address + ":3000" in ask(first, "services-alumni").split(";")
        assert "[%s,,[%s]]" % (victim.node_id, victim.address) in ask(first, "alumni-clear-std")
        peers = ask(first, "peers-clear-std")
        assert int(peers.split(",", 1)[0]) == peers_gen + 1 and victim.node_id not in peers
        assert ask(first, "services-alumni-reset") == "ok"
        assert victim.address + ":3000" not in ask(first, "services-alumni")
        assert victim.node_id not in ask(first, "alumni-clear-std")
        assert stats(first)["cluster_key"] == key

        victim.start()  # the same address comes back: tipped by its seeds, it rejoins
        key3 = wait_stable(nodes, 3)
        assert key3 != key
        assert dict(kv(ask(victim, "namespace/test")))["migrate_rx_partitions_initial"] != "0", \
            "an empty node joining a formed cluster receives partitions"


def test_recluster_is_accepted_by_the_principal_only_and_makes_a_new_key():
    with harness.cluster(2, speed=SPEED, mesh_seeds=True) as nodes:
        key = wait_stable(nodes, 2)
        principal = max(nodes, key=lambda n: int(n.node_id, 16))
        other = next(n for n in nodes if n is not principal)
        generation = int(stats(principal)["cluster_generation"])
        assert ask(other, "recluster:") == "ignored-by-non-principal"
        assert ask(principal, "recluster:") == "ok"
        harness.wait_until(lambda: all(stats(n)["cluster_key"] != key for n in nodes), 10,
                           "a new cluster key after recluster", describe=lambda: [stats(n)["cluster_key"] for n in nodes])
        new_key = wait_stable(nodes, 2)
        assert new_key != key and int(stats(principal)["cluster_generation"]) == generation + 1


def test_duplicate_tip_is_refused_and_tip_clear_removes_the_seed_from_get_config():
    with harness.cluster(2, speed=SPEED) as nodes:
        first, second = nodes
        assert tip(first, second) == "ok"
        assert tip(first, second) == "ERROR::unknown"
        seed = "%s:%d" % (second.address, second.heartbeat_port)
        config = kv(ask(first, "get-config:context=network"))
        assert config.count(("heartbeat.mesh-seed-address-port", seed)) == 1
        assert ask(first, "tip-clear:host-port-list=%s;%d" % (second.address, second.heartbeat_port)) == \
            "ERROR::0 cleared, 0 not found"
        assert ask(first, "tip-clear:host-port-list=all") == "ERROR::0 cleared, 0 not found"
        assert ask(first, "tip-clear:host-port-list=%s,10.9.9.9:3002" % seed) == "ERROR::1 cleared, 1 not found"
        assert ("heartbeat.mesh-seed-address-port", seed) not in kv(ask(first, "get-config:context=network"))
        assert tip(first, second) == "ok", "a cleared seed can be tipped again"


def any_ports(index):
    # 'address any' binds 0.0.0.0, so each node needs ports of its own
    return dict(service=3100 + index, heartbeat=3200 + index, admin=3300 + index)


def any_config(index, address):
    """address any, seeded with the other node (as in a swarm task: overlay on eth0, gwbridge on eth1)."""
    text = harness.minimal_config("any", "aerostack-sim", ports=any_ports(index))
    peer = 2 if index == 1 else 1
    seed = "        mesh-seed-address-port %s.%d %d\n" % (address.rsplit(".", 1)[0], peer, any_ports(peer)["heartbeat"])
    return text.replace("        interval 150\n", seed + "        interval 150\n")


def test_address_any_with_two_interfaces_never_forms_but_one_interface_does():
    """The facts file's swarm failure: heartbeats arrive, joins never complete, cluster_size stays 0."""
    def one_interface(index, address):
        return ["--interfaces", "eth0=%s" % address]

    def two_interfaces(index, address):
        return ["--interfaces", "eth0=%s,eth1=127.0.77.%d" % (address, index)]

    # Control: the same configuration with one interface per node publishes one address and forms.
    with harness.cluster(2, speed=SPEED, config=any_config, extra_args=one_interface, ports=any_ports) as control:
        wait_stable(control, 2)

    with harness.cluster(2, speed=SPEED, config=any_config, extra_args=two_interfaces, ports=any_ports) as nodes:
        harness.wait_until(lambda: all(int(stats(n)["heartbeat_received_foreign"]) > 20 for n in nodes), 10,
                           "heartbeats flowing both ways")
        # Watch through many formation cycles (join settle and orphan delay are < 1 s at this speed).
        seen = []

        def still_orphans_after_many_heartbeats():
            seen.append(tuple(sizes(nodes)))
            assert seen[-1] == ("0", "0"), "a node publishing two addresses joined a cluster: %s" % (seen[-1],)
            return int(stats(nodes[0])["heartbeat_received_foreign"]) > 100
        harness.wait_until(still_orphans_after_many_heartbeats, 30, "100 heartbeats received by node 1")
        assert ask(nodes[0], "cluster-stable:") == "ERROR:7:unstable cluster"
        assert "join requests" in nodes[0].log_text()


def test_node_with_another_cluster_name_is_ignored():
    def config(index, address):
        return harness.minimal_config(address, "blue" if index == 1 else "green")
    with harness.cluster(2, speed=SPEED, config=config) as nodes:
        wait_size(nodes, 1)
        assert tip(nodes[0], nodes[1]) == "ok"
        harness.wait_until(lambda: "cluster-name is 'green'" in nodes[0].log_text(), 10,
                           "node 1 to log that it ignores the green node")
        assert sizes(nodes) == ["1", "1"]


def test_sigterm_stops_cleanly_and_restart_rejoins():
    with harness.cluster(2, speed=SPEED, mesh_seeds=True) as nodes:
        wait_stable(nodes, 2)
        assert nodes[1].stop() == 0
        assert "finished clean shutdown" in nodes[1].log_text()
        wait_size(nodes[:1], 1)
        nodes[1].restart()
        wait_stable(nodes, 2)
