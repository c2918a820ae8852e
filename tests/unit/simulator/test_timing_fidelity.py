"""The simulator's timing model at speed 1 against the real 8.1.2.0 server's timings (no clock involved).

The lab's speed figures are only worth something if the simulator takes as long as the real server where that decides
how long an operation takes. These tests check the model's constants -- not a measured run -- against
``formation-timeline.txt`` (three empty in-memory nodes, one tip each, sampled every 500 ms) and the timings in the
facts file (``/work/shared/aerospike-facts.md``, "What makes discovery fast"):

- join: cluster_size went 1 -> 3 between 1.5 s and 2.0 s after the tips;
- migrations: 6975 partitions remaining at the first sample of size 3, none 2.5 s later (about 2.5 s);
- scale-down: survivors reach N-1 about 2 s after the server exits and are stable about 1 s after that;
- a lone node forms its own one-node cluster about 2 s after it starts (tips later than that cost migrations).

The ~3.2 s between a scale-down and the stop signal is the Docker engine's (it drops the task's DNS record and waits
for gossip before it signals the container), so the lab reproduces it with any image; the server itself stops
cleanly in under a second after the signal, and so does the simulator (tests/unit/simulator/test_cluster_behaviour.py
::test_sigterm_stops_cleanly_and_restart_rejoins; the benchmark next to this file prints the measured times).
"""

import re

import pytest
from simulator_support import fixture_dir

from aerospike_sim.cluster import ClusterInfo, migration_load
from aerospike_sim.config import build, parse_tree
from aerospike_sim.node import Timings

MINIMAL = """
service { cluster-name fidelity }
network {
    service { port 3000 }
    heartbeat { mode mesh
                port 3002 }
    fabric { port 3001 }
}
namespace test {
    replication-factor 2
    storage-engine memory { data-size 1G }
}
"""
# "survivors reach cluster_size N-1 about 2 s later and are stable about 1 s after that (empty data)"
FACTS_DEPART_TO_SIZE = 2.0
FACTS_SIZE_TO_STABLE = 1.0
FACTS_ORPHAN = 2.0
# How far a modelled figure may be from one the facts file gives as "about" (no window is known for those).
ABOUT = 0.5


def timeline():
    """``[(seconds after the tips, cluster_size, migrate_partitions_remaining)]`` of formation-timeline.txt."""
    rows = []
    for line in (fixture_dir() / "formation-timeline.txt").read_text().splitlines():
        found = re.match(r"t\+(\d+)ms cluster_size=(\d+) migrate_partitions_remaining=(\d+)", line)
        if found:
            rows.append((int(found.group(1)) / 1000.0, int(found.group(2)), int(found.group(3))))
    return rows


def window(rows, before, after):
    """``(last t where before(row), first later t where after(row))``: when the change happened."""
    first_after = next(t for t, size, left in rows if after((t, size, left)))
    last_before = max(t for t, size, left in rows if t < first_after and before((t, size, left)))
    return last_before, first_after


@pytest.fixture(name="timings")
def _timings():
    return Timings.for_config(build(parse_tree(MINIMAL)), 1.0)


def modelled_join(timings):
    """Earliest and latest time from a tip to the new cluster: the tipped node dials on its next tick, the principal
    hears it with the heartbeat after that, and forms the cluster once the set has been unchanged for settle_join."""
    return timings.settle_join, timings.settle_join + 2 * timings.interval


def test_join_after_a_tip_falls_where_the_real_server_joined(timings):
    size_one_until, size_three_at = window(timeline(), lambda r: r[1] == 1, lambda r: r[1] == 3)
    earliest, latest = modelled_join(timings)
    assert (size_one_until, size_three_at) == (1.5, 2.0)
    assert size_one_until <= earliest and latest <= size_three_at, (earliest, latest)


def test_migrations_of_three_empty_nodes_last_as_long_as_on_the_real_server(timings):
    rows = timeline()
    size_three_at = window(rows, lambda r: r[1] == 1, lambda r: r[1] == 3)[1]
    migrating_until, done_at = window(rows, lambda r: r[1] == 3 and r[2] > 0, lambda r: r[1] == 3 and r[2] == 0)
    # Each lone node held every partition; the three merge into one cluster with replication factor 2.
    merged = ClusterInfo("K", 2, "C", ("C", "B", "A"), {"A": "K1", "B": "K2", "C": "K3"})
    load = sum(migration_load(2, "A", ClusterInfo("K1", 1, "A", ("A",)), merged))
    seconds = load / timings.migration_rate
    first_count = next(left for t, size, left in rows if t == size_three_at)
    assert abs(load - first_count) / float(first_count) < 0.05, (load, first_count)
    # Migrations started somewhere in the half second before size 3 was first seen.
    assert migrating_until - size_three_at < seconds <= done_at - (size_three_at - 0.5), seconds
    earliest, latest = modelled_join(timings)
    assert migrating_until < earliest + seconds and latest + seconds <= done_at


def test_survivors_of_a_scale_down_reach_the_smaller_size_and_settle_like_the_real_server(timings):
    departed = timings.timeout + timings.settle_depart
    survivors = ClusterInfo("K2", 3, "B", ("B", "A"), {"A": "K1", "B": "K1"})
    load = sum(migration_load(2, "A", ClusterInfo("K1", 2, "C", ("C", "B", "A")), survivors))
    assert abs(departed - FACTS_DEPART_TO_SIZE) <= ABOUT, departed
    assert abs(load / timings.migration_rate - FACTS_SIZE_TO_STABLE) <= ABOUT, load / timings.migration_rate


def test_a_lone_node_forms_its_own_cluster_when_the_real_server_does(timings):
    assert abs(timings.orphan_delay - FACTS_ORPHAN) <= ABOUT, timings.orphan_delay
