"""aerospike_info end to end inside the module's own code, against 5 and 50 simulated nodes (local processes).

Prints, for each size, the time of one facts call (median, min-max over several rounds) and the info round trips
per node; asserts nothing about the time. Goal of the design: one round trip per node for the default facts
(namespaces named), the nodes queried concurrently.

    python -m pytest -m benchmark -s tests/benchmarks/bench_aerospike_info.py
"""

import statistics
import time

import pytest

from aerospike_sim import harness
from ansible_collections.aerostack.swarm.plugins.modules import aerospike_info

pytestmark = [pytest.mark.simulator, pytest.mark.benchmark]

ROUNDS = 7


def _params(nodes, **extra):
    """The module's parameters as Ansible would pass them: every option at its default, then ``extra``."""
    params = dict((name, option.get("default")) for name, option in aerospike_info.argument_spec().items())
    params.update(nodes=["%s:%d" % (n.address, n.info_port) for n in nodes], namespaces=["test"])
    params.update(extra)
    return params


@pytest.mark.parametrize("size", [5, 50])
def test_bench_facts_of_simulated_nodes(size):
    with harness.cluster(size, ready_timeout=60.0) as nodes:
        rows = []
        for label, params in (("namespaces named", _params(nodes)),
                              ("namespaces discovered", _params(nodes, namespaces=None))):
            seconds, trips = [], set()
            for _round in range(ROUNDS):
                started = time.perf_counter()
                result = aerospike_info.gather(params)
                seconds.append(time.perf_counter() - started)
                assert all(n["reachable"] for n in result["nodes"]), result["nodes"]
                trips.add(result["round_trips"] / float(size))
            rows.append((label, statistics.median(seconds), min(seconds), max(seconds), sorted(trips)))
    print("\naerospike_info facts of %d simulated nodes (%d rounds each):" % (size, ROUNDS))
    for label, median, low, high, trips in rows:
        print("  %-22s median %6.1f ms (min %6.1f, max %6.1f)  round trips per node: %s"
              % (label, median * 1000, low * 1000, high * 1000, ", ".join("%g" % t for t in trips)))
