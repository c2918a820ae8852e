"""The discovery program against simulated Aerospike nodes (local processes), configured by the role's own
aerospike.conf renderer: lone nodes become one cluster, a new node joins, a killed node is cleared.

The nodes bind ``eth0`` as in a swarm task; the simulator's interface seam maps eth0 to a loopback address.
"""

import calendar
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_conf import render_conf
from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import parse_kv, parse_mesh_seeds

harness = pytest.importorskip("aerospike_sim.harness")

pytestmark = pytest.mark.simulator

REPO = Path(__file__).resolve().parents[4]
PROGRAM = REPO / "roles" / "aerospike" / "files" / "discovery.py"
NAME = "tasks.simtest_aerospike"
DNS_HOST = "127.0.83.54"
SPEED = float(os.environ.get("AEROSPIKE_SIM_TEST_SPEED", "3"))

SETTINGS = {
    "cluster_name": "simtest",
    "bind_interface": "eth0",
    "service": {"proto-fd-max": 15000},
    "logging": [{"sink": "console", "contexts": {"any": "info"}}],
    # Several nodes share this host: each listens on its own loopback address only (as in a task, where
    # localhost is private to the task).
    "network": {"service": {"disable-localhost": True}, "admin": {"disable-localhost": True}},
    "namespaces": [{"name": "test", "replication_factor": 2, "storage": {"type": "memory", "data_size": "1G"},
                    "options": {"nsup-period": 120}}],
}


def stats(node):
    try:
        return parse_kv(node.value("statistics", timeout=1.0))
    except Exception:  # a node that is down or starting: no statistics yet
        return {}


def sizes(nodes):
    return [stats(n).get("cluster_size") for n in nodes]


def seeds(node):
    return sorted(h for h, _p in parse_mesh_seeds(node.value("get-config:context=network")))


@pytest.fixture
def simulated(fakes):
    cluster = harness.SimCluster(
        count=3, speed=SPEED, spare=1,
        config=lambda index, address: render_conf(SETTINGS),
        extra_args=lambda index, address: ["--interfaces", "eth0=%s" % address],
    )
    cluster.start()
    addresses = [n.address for n in cluster]
    try:
        dns = fakes.DnsServer(DNS_HOST, NAME, addresses)
    except PermissionError:
        cluster.close()
        pytest.skip("binding a DNS server on %s:53 needs root" % DNS_HOST)
    try:
        yield cluster, dns, addresses
    finally:
        dns.close()
        cluster.close()


def test_discovery_forms_grows_and_shrinks_a_simulated_cluster(simulated, tmp_path):
    cluster, dns, addresses = simulated
    assert set(sizes(cluster)) <= {"0", "1"}  # alone until someone tips them
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\n" % DNS_HOST)
    env = dict(os.environ, PYTHONPATH=str(REPO / ".cache" / "collections"))
    process = subprocess.Popen([sys.executable, "-u", str(PROGRAM), "--name", NAME, "--interval", "0.2",
                                "--resolv-conf", str(resolv), "--timeout", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        harness.wait_until(lambda: sizes(cluster) == ["3"] * 3, 30, "one cluster of 3 after discovery's tips",
                           describe=lambda: sizes(cluster))
        new = cluster.add_node()
        addresses.append(new.address)
        appeared = time.time()
        harness.wait_until(lambda: sizes(cluster) == ["4"] * 4, 30, "the new node to join: cluster of 4",
                           describe=lambda: sizes(cluster))
        cluster[1].kill()
        addresses.remove(cluster[1].address)
        survivors = [n for n in cluster if n is not cluster[1]]
        harness.wait_until(lambda: sizes(survivors) == ["3"] * 3, 60, "the survivors to form a cluster of 3",
                           describe=lambda: sizes(survivors))
        harness.wait_until(lambda: all(cluster[1].address not in seeds(n) for n in survivors), 10,
                           "the killed node's seed to be tip-cleared on every survivor",
                           describe=lambda: [seeds(n) for n in survivors])
        for node in survivors:
            assert seeds(node) == sorted(a for a in addresses if a != node.address)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        reader.join(5)
    assert process.returncode == 0
    text = "".join(lines)
    assert "Traceback" not in text
    assert not [line for line in lines if "failed" in line and "query" not in line and "0 failed" not in line], text
    first_tip = next(line for line in lines if "tip %s:3002 into" % new.address in line)
    stamp = first_tip.split(" ", 1)[0]  # 2026-11-22T03:00:17.123Z
    tipped = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + stamp[19:-1])
    print("\nDNS appearance -> first tip of the new node: %.3f s (interval 0.2 s)" % (tipped - appeared))
