"""Benchmark: playbooks/swarm.yml on a 5-host lab, beside the raw floor measured in the same run.

    python tests/benchmarks/bench_swarm.py [--rounds 3] [--keep]
    python -m pytest -m benchmark -s tests/benchmarks/bench_swarm.py

Floor: the same formation with the docker CLI through `docker exec` (init on lab1, lab2 and lab3 join as managers one
after the other, lab4 and lab5 as workers in parallel), until `docker node ls` on lab1 shows 5 Ready nodes.
Playbook: playbooks/swarm.yml (docker role + swarm role, 3 managers) from no swarm to formed and verified, then an
idempotent re-run. Prints numbers; never asserts on them (the goal is a first run within 3x the floor, re-run
changed=0). Fails only when a run itself fails.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "lab"))

from aerostack_lab import Lab  # noqa: E402  pylint: disable=wrong-import-position

LAB_NAME = "aerostack-bench-swarm"
HOSTS = ["lab1", "lab2", "lab3", "lab4", "lab5"]
EXTRA = ["docker_install_source=distribution", "docker_service_manage=false", "swarm_managers_max=3"]


def _exec(lab, host, argv):
    rc, out, err = lab.exec(host, argv, timeout=120)
    if rc != 0:
        raise RuntimeError("%s on %s failed (rc %d): %s" % (" ".join(argv), host, rc, (err or out).strip()))
    return out.strip()


def reset(lab):
    """No swarm anywhere and no daemon.json: the state before a first run."""
    def one(host):
        lab.exec(host, ["docker", "swarm", "leave", "--force"], timeout=120)
        lab.exec(host, ["rm", "-f", "/etc/docker/daemon.json"], timeout=60)
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        list(pool.map(one, HOSTS))
    for host in HOSTS:
        state = _exec(lab, host, ["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"])
        if state != "inactive":
            raise RuntimeError("%s still in swarm state %s after leaving" % (host, state))


def wait_ready(lab, count, timeout=120):
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        last = _exec(lab, "lab1", ["docker", "node", "ls", "--format", "{{.Status}}"])
        if last.split().count("Ready") == count:
            return
        time.sleep(0.2)
    raise RuntimeError("waited %ds for %d Ready nodes; last statuses: %s" % (timeout, count, last.split()))


def floor(lab):
    """Seconds for the raw CLI formation (3 managers, 2 workers) until 5 nodes are Ready."""
    start = time.monotonic()
    addr = {h.name: h.address for h in lab.hosts}
    _exec(lab, "lab1", ["docker", "swarm", "init", "--advertise-addr", addr["lab1"]])
    manager = _exec(lab, "lab1", ["docker", "swarm", "join-token", "-q", "manager"])
    worker = _exec(lab, "lab1", ["docker", "swarm", "join-token", "-q", "worker"])
    for host in ("lab2", "lab3"):
        _exec(lab, host, ["docker", "swarm", "join", "--advertise-addr", addr[host], "--token", manager,
                          addr["lab1"] + ":2377"])
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda h: _exec(lab, h, ["docker", "swarm", "join", "--advertise-addr", addr[h], "--token",
                                               worker, addr["lab1"] + ":2377"]), ("lab4", "lab5")))
    wait_ready(lab, 5)
    return time.monotonic() - start


def playbook(lab, *args):
    """Seconds and per-host changed counts of one playbooks/swarm.yml run."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0")
    argv = ["ansible-playbook", "-i", str(lab.inventory_path), str(REPO / "playbooks" / "swarm.yml")]
    for item in EXTRA:
        argv += ["-e", item]
    start = time.monotonic()
    proc = subprocess.run(argv + list(args), capture_output=True, text=True, env=env, check=False, timeout=900)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError("playbooks/swarm.yml failed (rc %d):\n%s" % (proc.returncode, proc.stdout[-4000:]))
    changed = dict((h, int(c)) for h, c in re.findall(r"^(lab\d+)\s+:\s+ok=\d+\s+changed=(\d+)", proc.stdout, re.M))
    return seconds, changed


def bench(lab, rounds):
    floors, firsts, reruns, swarm_only = [], [], [], []
    rerun_changed = {}
    for _round in range(rounds):
        reset(lab)
        floors.append(floor(lab))
        reset(lab)
        seconds, _changed = playbook(lab)
        firsts.append(seconds)
        seconds, rerun_changed = playbook(lab)
        reruns.append(seconds)
        seconds, _changed = playbook(lab, "--tags", "swarm")
        swarm_only.append(seconds)
    med = statistics.median
    print("\nswarm formation on %d lab hosts, %d round(s), load average %s" % (
        len(HOSTS), rounds, " ".join("%.1f" % x for x in os.getloadavg())))
    print("  raw floor (docker CLI via docker exec, until 5 Ready): median %.2fs  %s" % (
        med(floors), ["%.2f" % x for x in floors]))
    print("  playbooks/swarm.yml first run (docker + swarm roles):  median %.2fs  %s  = %.1fx the floor (goal <= 3x)"
          % (med(firsts), ["%.2f" % x for x in firsts], med(firsts) / med(floors)))
    print("  playbooks/swarm.yml idempotent re-run:                 median %.2fs  %s  changed per host: %s" % (
        med(reruns), ["%.2f" % x for x in reruns], rerun_changed))
    print("  re-run of the swarm role alone (--tags swarm):         median %.2fs  %s" % (
        med(swarm_only), ["%.2f" % x for x in swarm_only]))


def run(rounds, keep):
    lab = Lab(name=LAB_NAME, hosts=len(HOSTS), flavour="docker")
    lab.down()  # fresh volumes: no swarm state from an interrupted run
    lab.up()
    try:
        bench(lab, rounds)
    finally:
        if not keep:
            lab.down()


@pytest.mark.benchmark
@pytest.mark.lab
def test_bench_swarm_formation():
    run(rounds=int(os.environ.get("BENCH_ROUNDS", "1")), keep=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    options = parser.parse_args()
    run(options.rounds, options.keep)
