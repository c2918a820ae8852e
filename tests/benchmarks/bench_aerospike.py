"""Benchmark: the aerospike role on a 5-host lab beside the raw floor measured in the same run, the Ansible task count
per host of site.yml, and a plot of a scale-up 3 -> 5 (each node's cluster size and migrations remaining over time).

    python tests/benchmarks/bench_aerospike.py [--rounds 3] [--plot docs/img/scale-3-to-5.png] [--keep]

Role: playbooks/aerospike.yml from a formed swarm to a verified cluster of 3; playbooks/scale.yml from 3 to 5.
Floor: the very stack file the role rendered, deployed with `docker stack deploy` on the manager, until every node
reports one stable cluster of 3 (same key, integrity, no migration left; each node asked from inside its own task's
network namespace); then `docker service scale` to 5 until every node reports 5. The discovery service runs in both:
the floor leaves out Ansible, the preflight, the rendering and the verification, and nothing else.

The server is the Aerospike simulator image unless AEROSPIKE_IMAGE names a real server image on the local engine.
Prints numbers; never asserts on them. Fails only when a run itself fails.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tools" / "lab", REPO / "tests" / "lab", REPO / "tests" / "helpers", REPO / "tests" / "simulator"):
    sys.path.insert(0, str(_path))

# pylint: disable=wrong-import-position
from aerospike_lab import DISCOVERY_IMAGE, Cluster  # noqa: E402
from aerostack_lab import Lab  # noqa: E402
from simulator_image import simulator_image  # noqa: E402

LAB_NAME = "aerostack-bench-aerospike"
STACK = "bench"
FULL_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=\d+\s+skipped=(\d+)", re.M)
STACK_COPY = "/root/bench-floor-stack"


def wait_views(cluster, size, timeout=180.0):
    """Seconds until every running Aerospike task reports one stable cluster of ``size``; fails at the deadline."""
    started = time.monotonic()
    deadline = started + timeout
    views = []
    while time.monotonic() < deadline:
        views = views_or_none(cluster)
        if views is None:
            continue
        if (len(views) == size and all(v["size"] == size and v["integrity"] and v["migrations"] == 0 for v in views)
                and len(set(v["key"] for v in views)) == 1):
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError("waited %.0f s for every node to report a stable cluster of %d; last views: %s"
                       % (timeout, size, [(v["address"], v["size"], v["migrations"]) for v in views]))


def views_or_none(cluster):
    """Every node's own view, or None when a task came or went while they were being listed and asked."""
    try:
        return cluster.node_views()
    except (AssertionError, IndexError, KeyError):
        return None


def task_counts(stdout):
    """{host: (ok, changed, skipped)} from a playbook's recap."""
    return dict((m.group(1), (int(m.group(2)), int(m.group(3)), int(m.group(4)))) for m in FULL_RECAP.finditer(stdout))


class Sampler(threading.Thread):
    """Samples every node's own view while a step runs: [(seconds since start, address, size, migrations)]."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.samples = []
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self):
        while not self.stop.is_set():
            at = time.monotonic() - self.started
            for view in views_or_none(self.cluster) or []:
                if view["size"] is not None:
                    self.samples.append((at, view["address"], view["size"], view["migrations"]))
            self.stop.wait(0.2)


def plot(samples, path, title):
    """A PNG with two panels over time: each node's cluster size, and each node's migrations remaining."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    nodes = sorted(set(s[1] for s in samples), key=lambda a: tuple(int(p) for p in a.split(".")))
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    for node in nodes:
        mine = [s for s in samples if s[1] == node]
        top.step([s[0] for s in mine], [s[2] for s in mine], where="post", label=node)
        bottom.step([s[0] for s in mine], [s[3] for s in mine], where="post", label=node)
    top.set_ylabel("cluster_size")
    top.set_yticks(range(0, 7))
    top.legend(loc="lower right", fontsize="small", title="node")
    top.grid(True, alpha=0.3)
    bottom.set_ylabel("migrate_partitions_remaining")
    bottom.set_xlabel("seconds since playbooks/scale.yml -e aerospike_replicas=5 started")
    bottom.grid(True, alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def spread(values):
    return "median %6.2fs  min %6.2f  max %6.2f  %s" % (
        statistics.median(values), min(values), max(values), ["%.2f" % v for v in values])


def run(rounds, plot_path, keep):
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    lab = Lab(name=LAB_NAME, hosts=5, flavour="docker")
    lab.down()
    lab.up()
    figures = {"role deploy": [], "floor deploy": [], "role scale": [], "floor scale": []}
    try:
        lab.load([image, DISCOVERY_IMAGE])
        cluster = Cluster(lab, image, Path(tempfile.mkdtemp(prefix="bench-aerospike-")), STACK)
        first = cluster.playbook("site.yml")
        again = cluster.playbook("site.yml")
        stack_dir = "%s/%s" % (cluster.settings.get("aerospike_stack_dir", "/opt/aerostack/stacks"), STACK)
        samples = []
        for number in range(1, rounds + 1):
            # The role: formed swarm -> verified 3, then 3 -> 5 verified (sampled in the last round).
            cluster.playbook("teardown.yml", "-e", "aerospike_teardown_confirm=%s" % STACK)
            figures["role deploy"].append(cluster.playbook("aerospike.yml").seconds)
            sampler = Sampler(cluster) if number == rounds else None
            if sampler:
                sampler.start()
            try:
                figures["role scale"].append(cluster.playbook("scale.yml", "-e", "aerospike_replicas=5").seconds)
                if sampler:
                    wait_views(cluster, 5, timeout=30)
            finally:
                if sampler:
                    sampler.stop.set()
                    sampler.join(30)
                    samples = sampler.samples
            cluster.playbook("scale.yml", "-e", "aerospike_replicas=3")
            # Keep the files the role rendered, for the floor.
            _exec(lab, ["rm", "-rf", STACK_COPY])
            _exec(lab, ["cp", "-a", stack_dir, STACK_COPY])
            # The floor: the same stack with the docker CLI, until every node reports stable 3; then scale to 5.
            cluster.playbook("teardown.yml", "-e", "aerospike_teardown_confirm=%s" % STACK)
            started = time.monotonic()
            _exec(lab, ["docker", "stack", "deploy", "--resolve-image", "never", "--compose-file",
                        STACK_COPY + "/docker-stack.yml", STACK])
            wait_views(cluster, 3)
            figures["floor deploy"].append(time.monotonic() - started)
            started = time.monotonic()
            _exec(lab, ["docker", "service", "scale", "--detach", "%s_aerospike=5" % STACK])
            wait_views(cluster, 5)
            figures["floor scale"].append(time.monotonic() - started)
            _exec(lab, ["docker", "service", "scale", "--detach", "%s_aerospike=3" % STACK])
            wait_views(cluster, 3)
            print("round %d of %d: %s" % (number, rounds, ", ".join(
                "%s %.2f s" % (k, v[-1]) for k, v in figures.items())), flush=True)
        if plot_path and samples:
            plot(samples, plot_path, "scale-up 3 -> 5 on the 5-host lab (%s)"
                 % ("real server " + image if cluster.real else "Aerospike simulator"))
    finally:
        if not keep:
            lab.down()

    print("\naerospike on 5 lab hosts, %d round(s), server %s, load average %s"
          % (rounds, image, " ".join("%.1f" % x for x in os.getloadavg())))
    print("  formed swarm -> verified 3")
    print("    raw floor (docker stack deploy of the same stack file): %s" % spread(figures["floor deploy"]))
    print("    playbooks/aerospike.yml:                                 %s  = %.1fx the floor" % (
        spread(figures["role deploy"]), statistics.median(figures["role deploy"])
        / statistics.median(figures["floor deploy"])))
    print("  3 -> 5 verified")
    print("    raw floor (docker service scale):                        %s" % spread(figures["floor scale"]))
    print("    playbooks/scale.yml -e aerospike_replicas=5:             %s  = %.1fx the floor" % (
        spread(figures["role scale"]), statistics.median(figures["role scale"])
        / statistics.median(figures["floor scale"])))
    print("  site.yml from plain docker hosts to a verified 3: %.2f s; idempotent re-run %.2f s" % (
        first.seconds, again.seconds))
    print("  Ansible tasks per host (ok / changed / skipped), site.yml first run and re-run:")
    for host, counts in sorted(task_counts(first.stdout).items()):
        rerun = task_counts(again.stdout).get(host, (0, 0, 0))
        print("    %-5s %3d / %3d / %3d    re-run %3d / %3d / %3d" % ((host,) + counts + rerun))
    if plot_path and samples:
        shown = Path(plot_path).resolve()
        shown = shown.relative_to(REPO) if REPO in shown.parents else shown
        print("  plot of the last scale-up: %s (%d samples)" % (shown, len(samples)))


def _exec(lab, argv):
    rc, out, err = lab.exec("lab1", argv, timeout=300)
    if rc != 0:
        raise RuntimeError("%s on lab1 failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plot", default=str(REPO / "docs" / "img" / "scale-3-to-5.png"),
                        help="where to write the PNG of the last scale-up (empty: none)")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        run(options.rounds, options.plot, options.keep)
    except (RuntimeError, AssertionError) as exc:
        print("bench_aerospike: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
