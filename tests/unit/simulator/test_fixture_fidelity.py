"""The simulator answers like the real 8.1.2.0 server in every shape the transcripts show.

Nodes get the fixtures' node ids and an ``eth0`` interface (the simulator's --interfaces seam) so the
replies can be compared with the transcripts byte for byte; the only rewriting is the fixtures'
10.0.6.N addresses into the loopback addresses the simulated nodes use.
"""

import socket
from collections import namedtuple

import pytest

from simulator_support import (SPEED, ask, exchange, fixture_dir, fixture_lines, fixture_value, kv, request,
                               stats)

from aerospike_sim import harness

pytestmark = pytest.mark.simulator

# Fixture node ids by the last octet of their 10.0.6.N address (derived as the real server does).
FIXTURE_IDS = {2: "BB90206000A4202", 3: "BB90306000A4202", 4: "BB90406000A4202"}
QUERIED = 3  # the transcripts were taken on 10.0.6.3
Sample = namedtuple("Sample", "index size remaining answer")

# Values that depend on time, the host or traffic, not on the protocol: compared by key only.
VOLATILE = {
    "cluster_key", "uptime", "system_total_cpu_pct", "system_user_cpu_pct", "system_kernel_cpu_pct",
    "system_free_mem_kbytes", "system_free_mem_pct", "host_free_mem_kbytes", "host_free_mem_pct",
    "process_cpu_pct", "heap_allocated_kbytes", "heap_active_kbytes", "heap_mapped_kbytes",
    "client_connections", "client_connections_opened", "client_connections_closed", "info_complete",
    "heartbeat_connections", "heartbeat_connections_opened", "heartbeat_connections_closed",
    "heartbeat_received_foreign", "time_since_rebalance", "deprecated_requests", "current_time",
    # not modelled (no fabric, see README): the fixture's 3-node values come from real fabric traffic
    "fabric_connections", "fabric_connections_opened", "fabric_ctrl_send_rate", "fabric_ctrl_recv_rate",
    # modelled differently (README: migrations are counted, not performed)
    "migrate_rx_instances", "migrate_rx_partitions_initial",
}


def eth0_args(index, address):
    return ["--interfaces", "eth0=%s" % address]


def fixture_nodes(octets):
    """Nodes 1..len(octets); node i plays the fixture's 10.0.6.<octets[i-1]> (its node id, eth0, mtu)."""
    ids = [FIXTURE_IDS[o] for o in octets]

    def config(index, address):
        text = harness.minimal_config("eth0", "fixtures", node_id=ids[index - 1])
        return text.replace("        timeout 10\n", "        timeout 10\n        mtu 1450\n")
    nodes = harness.cluster(len(octets), speed=SPEED, config=config, extra_args=eth0_args, node_ids=ids)
    nodes.octets = list(octets)
    return nodes


def mapper(nodes):
    """Rewrite a fixture value: 10.0.6.N -> the address of the simulated node playing it."""
    table = {"10.0.6.%d" % octet: node.address for octet, node in zip(nodes.octets, nodes)}

    def rewrite(value):
        for old, new in table.items():
            value = value.replace(old, new)
        return value
    return rewrite


def compare_kv(actual, expected, ignore=None):
    ignore = VOLATILE if ignore is None else ignore
    actual_pairs, expected_pairs = kv(actual), kv(expected)
    assert [p[0] for p in actual_pairs] == [p[0] for p in expected_pairs], "key order differs from the fixture"
    differ = [(k, a, e) for (k, a), (_key, e) in zip(actual_pairs, expected_pairs) if k not in ignore and a != e]
    assert not differ, "values differ from the fixture (key, simulator, fixture): %s" % differ


def wait_size(nodes, size, timeout=10.0):
    harness.wait_until(lambda: all(stats(n)["cluster_size"] == str(size) for n in nodes), timeout,
                       "cluster_size %d on %s" % (size, [n.address for n in nodes]),
                       describe=lambda: [stats(n)["cluster_size"] for n in nodes])


def wait_stable(nodes, size, timeout=15.0):
    command = "cluster-stable:size=%d;ignore-migrations=false" % size

    def one_key():
        answers = {ask(n, command) for n in nodes}
        return len(answers) == 1 and not next(iter(answers)).startswith("ERROR")
    harness.wait_until(one_key, timeout, "one cluster key from %s on every node" % command,
                       describe=lambda: [ask(n, command) for n in nodes])
    return ask(nodes[0], command)


def check_transcript(node, lines, rewrite=lambda v: v):
    """Send every command of a transcript; compare the answers by the rules each kind needs."""
    key = stats(node)["cluster_key"]
    for command, expected in lines:
        command = rewrite(command)
        actual = ask(node, command)
        expected = rewrite(expected)
        if command == "version":
            assert actual.startswith(expected) and "simulator" in actual, actual
        elif command in ("statistics",) or command.startswith("namespace/") and expected != "type=unknown":
            compare_kv(actual, expected)
        elif command == "get-config:context=network":
            # The harness sets disable-localhost true (every node would otherwise also bind 127.0.0.1:3000);
            # everything else must be the fixture's, byte for byte.
            compare_kv(actual, expected, ignore={"service.disable-localhost", "admin.disable-localhost"})
            assert actual == expected.replace("disable-localhost=false", "disable-localhost=true")
        elif command.startswith("cluster-stable") and not expected.startswith("ERROR"):
            assert actual == key, (command, actual)
        else:
            assert actual == expected, (command, actual, expected)


@pytest.fixture(scope="module")
def lone():
    """One node playing 10.0.6.3, alone: it forms its own one-node cluster."""
    with fixture_nodes([QUERIED]) as nodes:
        wait_size(nodes, 1)
        yield nodes[0]


def test_build_node_exchange_matches_the_fixture_bytes(lone):
    lines = dict(line.split(":", 1) for line in (fixture_dir() / "wire.txt").read_text().splitlines()
                 if line and not line.startswith("#") and not line.startswith("reply text"))
    request_bytes, reply_bytes = bytes.fromhex(lines["request"].strip()), bytes.fromhex(lines["reply"].strip())
    with socket.create_connection((lone.address, lone.info_port), timeout=3) as sock:
        sock.sendall(request_bytes)
        received = b""
        while len(received) < len(reply_bytes):
            chunk = sock.recv(4096)
            assert chunk, "connection closed after %r" % received
            received += chunk
    assert received == reply_bytes


def test_lone_node_answers_every_single_node_transcript_line(lone):
    check_transcript(lone, fixture_lines("single-node.txt"))
    assert stats(lone)["cluster_generation"] == "1"


@pytest.fixture(scope="module")
def three():
    """Three lone nodes (each formed its own cluster), then 10.0.6.2 and .4 tipped into .3 as in tip.txt."""
    with fixture_nodes([2, 3, 4]) as nodes:
        wait_size(nodes, 1)
        rewrite = mapper(nodes)
        queried = nodes[QUERIED - 2]
        for command, expected in fixture_lines("tip.txt"):
            assert ask(queried, rewrite(command)) == expected, command
        wait_size(nodes, 3)
        wait_stable(nodes, 3)
        yield nodes, queried, rewrite


def test_three_node_cluster_answers_every_three_node_transcript_line(three):
    nodes, queried, rewrite = three
    check_transcript(queried, fixture_lines("three-nodes.txt"), rewrite)


def test_merging_lone_clusters_counts_migrations_like_the_fixture(three):
    queried = three[1]
    namespace = dict(kv(ask(queried, "namespace/test")))
    # fixture: tx_initial 4096 (all partitions of a lone node are sent), effective rf 2, nothing fresh
    assert namespace["migrate_tx_partitions_initial"] == "4096"
    assert namespace["effective_replication_factor"] == "2" and namespace["migrate_fresh_partitions"] == "0"
    assert stats(queried)["cluster_generation"] == "2"


def test_tip_clear_transcript_on_a_non_principal(three):
    nodes, queried, rewrite = three
    check_transcript(queried, fixture_lines("tip-clear.txt"), rewrite)
    seeds = [v for k, v in kv(ask(queried, "get-config:context=network")) if k == "heartbeat.mesh-seed-address-port"]
    assert seeds == [rewrite("10.0.6.2:3002")], "only the cleared seed may be gone"


def test_formation_timeline_shape_unstable_then_migrating_then_stable():
    """Like formation-timeline.txt: size 1, unstable, size 3 with migrations counting down, then the key."""
    with fixture_nodes([2, 3, 4]) as nodes:
        wait_size(nodes, 1)
        rewrite = mapper(nodes)
        queried = nodes[QUERIED - 2]
        for command, _value in fixture_lines("tip.txt")[:2]:
            assert ask(queried, rewrite(command)) == "ok"
        samples = []

        def sample():
            for node in nodes:
                s = stats(node)
                samples.append(Sample(node.index, int(s["cluster_size"]), int(s["migrate_partitions_remaining"]),
                                      ask(node, "cluster-stable:size=3;ignore-migrations=false")))
            return all(x.size == 3 and not x.answer.startswith("ERROR") for x in samples[-3:])
        harness.wait_until(sample, 15, "every node stable at size 3 after the tips",
                           describe=lambda: samples[-3:], interval=0.02)
    answers = [x.answer for x in samples]
    assert "ERROR:7:cluster not specified size" in answers, "it must start as a one-node cluster"
    unstable_migrating = [x for x in samples if x.size == 3 and x.remaining > 0 and x.answer == "ERROR:7:unstable cluster"]
    assert unstable_migrating, "no sample saw size 3 with migrations pending and the cluster unstable"
    for index in (1, 2, 3):
        remaining = [x.remaining for x in samples if x.index == index and x.size == 3]
        assert remaining == sorted(remaining, reverse=True), "migrations must count down on node %d" % index
    first = max(x.remaining for x in samples if x.size == 3)
    assert 2000 < first <= 4096 + 2731, "initial count %d is not the 1->3 load (fixture: 6975)" % first
    assert len({x.answer for x in samples[-3:]}) == 1


def test_several_requests_and_commands_per_connection_and_reply_order(lone):
    with socket.create_connection((lone.address, lone.info_port), timeout=3) as sock:
        first = exchange(sock, b"node\nbuild\nnode\n")[8:]
        second = exchange(sock, b"edition\ncluster-name")[8:]  # the last command without its newline
    assert first == b"node\tBB90306000A4202\nbuild\t8.1.2.0\nnode\tBB90306000A4202\n"
    assert second == b"edition\tAerospike Community Edition\ncluster-name\tfixtures\n"
    admin = request(lone.address, lone.admin_port, "node", "status")
    assert admin == [("node", "BB90306000A4202"), ("status", "ok")]


@pytest.mark.parametrize("header", [
    bytes([1, 1]) + (5).to_bytes(6, "big"),       # protocol version 1
    bytes([2, 3]) + (5).to_bytes(6, "big"),       # a data-path message: not simulated
    bytes([2, 1]) + (1 << 40).to_bytes(6, "big"),  # absurd length
])
def test_bad_header_closes_the_connection(lone, header):
    with socket.create_connection((lone.address, lone.info_port), timeout=3) as sock:
        sock.sendall(header + b"node\n")
        try:
            answer = sock.recv(100)
        except ConnectionResetError:  # closed with our bytes unread: the kernel resets
            answer = b""
        assert answer == b"", "the server must close the connection, not answer"
    assert ask(lone, "status") == "ok", "the server must keep serving other connections"


def test_simulator_says_what_it_is(lone):
    version = ask(lone, "simulator")
    assert version.startswith("aerostack-simulator ")
    assert "simulator" in ask(lone, "version")
    assert ask(lone, "build") == fixture_value("single-node.txt", "build")
    assert ask(lone, "nosuchcommand") == "ERROR:4:unrecognized command"
