"""Benchmark: how the cost of swarm.yml's first run and of a site.yml re-run grows with the number of hosts.

    python tests/benchmarks/bench_hosts.py [--hosts 5 9 15] [--plot docs/img/cost-per-host-count.png]

For each lab size, on a fresh lab of Docker-in-Docker hosts (taken down afterwards): swarm.yml's first run on the
plain hosts, site.yml (docker, swarm, a verified Aerospike cluster of 3) to converge, site.yml again with nothing to
do (timed), and last the bare floor, ``docker swarm init`` + joins until every node is Ready
(tests/benchmarks/bench_swarm.py), after every host left the swarm. The floor comes last because Docker 20.10 keeps
a left swarm's overlay keys, which breaks overlay traffic on a swarm formed again. 3 managers at every size.
Prints a table and writes a plot; never asserts on the numbers.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tools" / "lab", REPO / "tests" / "lab", REPO / "tests" / "helpers", REPO / "tests" / "simulator",
              REPO / "tests" / "benchmarks"):
    sys.path.insert(0, str(_path))

# pylint: disable=wrong-import-position
import bench_swarm  # noqa: E402
from aerospike_lab import DISCOVERY_IMAGE, Cluster  # noqa: E402
from aerostack_lab import Lab  # noqa: E402
from simulator_image import simulator_image  # noqa: E402

LAB_NAME = "aerostack-bench-hosts"


def load():
    return "%.1f %.1f %.1f" % os.getloadavg()


def module_runs(path):
    """Module runs on hosts per host (the task_timings callback's count), as min-max over the hosts."""
    counts = [c["on_host"] for c in json.loads(Path(path).read_text())["results_per_host"].values()]
    return "%d-%d" % (min(counts), max(counts)) if counts else "-"


def one_size(hosts, image):
    lab = Lab(name="%s-%d" % (LAB_NAME, hosts), hosts=hosts, flavour="docker")
    lab.down()
    lab.up()
    row = {"hosts": hosts, "load_start": load()}
    try:
        lab.load([image, DISCOVERY_IMAGE])
        bench_swarm.HOSTS = [h.name for h in lab.hosts]
        timings = tempfile.mkstemp(prefix="timings-", suffix=".json")[1]
        os.environ["AEROSTACK_TIMINGS_OUTPUT"] = timings
        row["swarm_first"], _changed = bench_swarm.playbook(lab)
        row["swarm_runs"] = module_runs(timings)
        cluster = Cluster(lab, image, Path(tempfile.mkdtemp(prefix="bench-hosts-")), "bench",
                          settings={"swarm_managers_max": 3})
        cluster.playbook("site.yml")
        again = cluster.playbook("site.yml")
        row["site_rerun"] = again.seconds
        row["site_runs"] = module_runs(timings)
        row["site_changed"] = sum(r["changed"] for r in again.recap.values())
        bench_swarm.reset(lab)
        row["swarm_bare"] = bench_swarm.floor(lab)
        row["load_end"] = load()
    finally:
        lab.down()
    print("%d hosts: swarm.yml first run %.2f s (bare %.2f s), site.yml re-run %.2f s (changed=%d); load %s -> %s"
          % (hosts, row["swarm_first"], row["swarm_bare"], row["site_rerun"], row["site_changed"], row["load_start"],
             row["load_end"]), flush=True)
    return row


def plot(rows, path):
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    hosts = [r["hosts"] for r in rows]
    figure, axis = plt.subplots(figsize=(7, 4.2))
    axis.plot(hosts, [r["swarm_first"] for r in rows], "o-", label="swarm.yml first run")
    axis.plot(hosts, [r["swarm_bare"] for r in rows], "o--", label="bare docker swarm init + joins")
    axis.plot(hosts, [r["site_rerun"] for r in rows], "s-", label="site.yml re-run, nothing to do")
    axis.set_xlabel("lab hosts")
    axis.set_ylabel("seconds")
    axis.set_xticks(hosts)
    axis.set_ylim(bottom=0)
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize="small")
    axis.set_title("cost by number of hosts (load %s at the start)" % rows[0]["load_start"], fontsize=9)
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[5, 9, 15])
    parser.add_argument("--plot", default=str(REPO / "docs" / "img" / "cost-per-host-count.png"))
    options = parser.parse_args()
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "aerostack.swarm.task_timings"
    os.environ["AEROSTACK_TIMINGS_TOP"] = "0"
    rows = []
    try:
        for hosts in options.hosts:
            rows.append(one_size(hosts, image))
    except (RuntimeError, AssertionError) as exc:
        print("bench_hosts: %s" % exc, file=sys.stderr)
        return 1
    print("\n| hosts | swarm.yml first run | bare init + joins | ratio | module runs per host | site.yml re-run "
          "(nothing to do) | module runs per host | changed | load at the start |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %.2f s | %.2f s | %.1fx | %s | %.2f s | %s | %d | %s |" % (
            r["hosts"], r["swarm_first"], r["swarm_bare"], r["swarm_first"] / r["swarm_bare"], r["swarm_runs"],
            r["site_rerun"], r["site_runs"], r["site_changed"], r["load_start"]))
    if options.plot and rows:
        plot(rows, options.plot)
        shown = Path(options.plot).resolve()
        print("\nplot: %s" % (shown.relative_to(REPO) if REPO in shown.parents else shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
