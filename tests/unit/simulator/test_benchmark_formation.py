"""Print the simulator's formation timeline at real speed, next to the real server's (formation-timeline.txt).

A benchmark: it prints numbers and asserts only that the cluster became stable. Runs with ``-m benchmark``.
"""

import time

import pytest

from simulator_support import ask, fixture_dir, stats

from aerospike_sim import harness

pytestmark = [pytest.mark.simulator, pytest.mark.benchmark]


def test_benchmark_formation_timeline_at_real_speed():
    with harness.cluster(3, speed=1.0) as nodes:
        harness.wait_until(lambda: all(stats(n)["cluster_size"] == "1" for n in nodes), 10,
                           "three lone one-node clusters")
        queried = nodes[1]
        for other in (nodes[0], nodes[2]):
            assert ask(queried, "tip:host=%s;port=%d" % (other.address, other.heartbeat_port)) == "ok"
        tipped = time.monotonic()
        lines = []
        stable_at = None
        for step in range(1, 21):
            target = tipped + step * 0.5
            time.sleep(max(0.0, target - time.monotonic()))
            s = stats(queried)
            answer = ask(queried, "cluster-stable:size=3;ignore-migrations=false")
            if stable_at is None and not answer.startswith("ERROR"):
                stable_at = time.monotonic() - tipped
            lines.append("t+%dms cluster_size=%s migrate_partitions_remaining=%s cluster-stable:size=3 %s"
                         % (step * 500, s["cluster_size"], s["migrate_partitions_remaining"], answer))
    print("\nsimulator (speed 1):\n" + "\n".join(lines))
    print("real 8.1.2.0 (fixture):\n" + (fixture_dir() / "formation-timeline.txt").read_text())
    print("simulator: tips -> cluster-stable answered the key after %.2f s (real: about 4.5 s)" % stable_at)
    assert stable_at is not None, "the cluster never became stable within 10 s of the tips"


def test_benchmark_scale_down_timeline_at_real_speed():
    """One of three stable nodes gets SIGTERM (what swarm sends on a scale-down): how long until it exits, until the
    survivors show cluster_size 2, and until they are stable, beside the real server's figures (facts file)."""
    with harness.cluster(3, speed=1.0, mesh_seeds=True) as nodes:
        harness.wait_until(lambda: all(ask(n, "cluster-stable:size=3;ignore-migrations=false")[:5] != "ERROR"
                                       for n in nodes), 30, "a stable cluster of 3")
        signalled = time.monotonic()
        assert nodes[2].stop() == 0
        exited = time.monotonic() - signalled
        survivors = nodes[:2]
        sized = stable = None
        deadline = signalled + 15
        while time.monotonic() < deadline and stable is None:
            now = time.monotonic() - signalled
            if sized is None and all(stats(n)["cluster_size"] == "2" for n in survivors):
                sized = now
            if all(not ask(n, "cluster-stable:size=2;ignore-migrations=false").startswith("ERROR") for n in survivors):
                stable = now
            time.sleep(0.05)
    assert stable is not None, "the survivors never became stable at size 2 within 15 s"
    print("\nsimulator (speed 1), one of 3 stopped with SIGTERM:")
    print("  SIGTERM -> exit %.2f s (real: under 1 s; swarm itself signals about 3.2 s after the scale-down)"
          % exited)
    print("  exit -> survivors at cluster_size 2: %.2f s (real: about 2 s)" % (sized - exited))
    print("  size 2 -> stable: %.2f s (real: about 1 s)" % (stable - sized))
