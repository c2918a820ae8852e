"""Benchmarks of the discovery service (printed, never asserted): info round trips per change at 50 and 200
nodes, the time a round takes, and the memory of the real discovery process watching 200 members.

    python -m pytest -m benchmark -s tests/unit/roles/aerospike/test_discovery_benchmark.py
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._discovery import Discovery
from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError

pytestmark = pytest.mark.benchmark

REPO = Path(__file__).resolve().parents[4]
PROGRAM = REPO / "roles" / "aerospike" / "files" / "discovery.py"


def addresses(n, prefix="10.0"):
    return ["%s.%d.%d" % (prefix, 1 + i // 250, 1 + i % 250) for i in range(n)]


@pytest.mark.parametrize("size", [50, 200])
def test_info_round_trips_per_change(size, make_cluster, clock):
    cluster = make_cluster(addresses(size))
    discovery = Discovery("tasks.bench", cluster.resolve, cluster.client, lambda line: None,
                          lookup_errors=(DnsError,), clock=clock)
    started = time.perf_counter()
    discovery.step()
    formation = time.perf_counter() - started
    rows = [("formation of %d lone nodes" % size, cluster.round_trips, formation)]
    for label, change in (
        ("one task added", lambda: cluster.add("10.0.255.1")),
        ("one task removed", lambda: cluster.remove("10.0.1.1")),
        ("one task replaced", lambda: (cluster.remove("10.0.1.2"), cluster.add("10.0.255.2"))),
    ):
        before = cluster.round_trips
        change()
        clock.advance(1.0)
        started = time.perf_counter()
        discovery.step()
        rows.append((label, cluster.round_trips - before, time.perf_counter() - started))
        assert cluster.full_mesh()
    before = cluster.round_trips
    for _round in range(10):
        clock.advance(1.0)
        discovery.step()
    rows.append(("10 quiet rounds (no DNS change)", cluster.round_trips - before, 0.0))
    discovery.close()
    print("\ndiscovery at %d nodes (in-process fake that counts info requests):" % size)
    for label, trips, seconds in rows:
        print("  %-34s %5d info round trips  %7.1f ms of CPU in the loop" % (label, trips, seconds * 1000))


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def test_memory_of_the_discovery_process_watching_200_members(fakes, tmp_path):
    members = [fakes.FakeMember("127.0.84.%d" % i) for i in range(1, 201)]
    servers = [fakes.InfoServer(members[0], members[0].address, 0)]
    port = servers[0].port
    servers += [fakes.InfoServer(m, m.address, port) for m in members[1:]]
    dns_addresses = [m.address for m in members]
    try:
        dns = fakes.DnsServer("127.0.84.253", "tasks.bench", dns_addresses)
    except PermissionError:
        pytest.skip("binding a DNS server on port 53 needs root")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.84.253\n")
    env = dict(os.environ, PYTHONPATH=str(REPO / ".cache" / "collections"))
    process = subprocess.Popen([sys.executable, "-u", str(PROGRAM), "--name", "tasks.bench", "--info-port",
                                str(port), "--interval", "1", "--resolv-conf", str(resolv)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
    try:
        started = time.monotonic()
        deadline = started + 120
        while time.monotonic() < deadline and not all(len(m.seeds) == 199 for m in members):
            time.sleep(0.1)
        converged = time.monotonic() - started
        assert all(len(m.seeds) == 199 for m in members), "the 200 members were not meshed within 120 s"
        rss_converged = _rss_kib(process.pid)
        requests = sum(m.requests for m in members)
        queries = dns.queries
        while dns.queries < queries + 5:
            time.sleep(0.1)
        rss_idle = _rss_kib(process.pid)
        quiet = sum(m.requests for m in members) - requests
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        for server in servers:
            server.close()
        dns.close()
    print("\ndiscovery process, 200 members over real sockets: meshed in %.2f s with %d info requests "
          "(39800 tips, batched per member); RSS %d KiB after meshing, %d KiB idle; %d requests in 5 quiet "
          "DNS rounds" % (converged, requests, rss_converged, rss_idle, quiet))
