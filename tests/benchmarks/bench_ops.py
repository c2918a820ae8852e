"""Benchmark: every operation of the collection beside the same step done bare, measured in one run on one lab.

    python tests/benchmarks/bench_ops.py [--rounds 1] [--hosts 5] [--plots docs/img] [--keep] [--no-app]

On one lab of Docker-in-Docker hosts, each round measures, for the playbook and for its bare equivalent:

Bare: the docker CLI on the manager while the stack's discovery tips, the cluster polled from the overlay.

| operation | playbook | bare |
|---|---|---|
| swarm.yml first run | plain hosts with docker -> verified swarm | `docker swarm init` + joins until every node is Ready |
| deploy | aerospike.yml on a formed swarm -> verified 3 | `docker stack deploy` of the role's stack file + the label on 3 |
| scale up | scale.yml -e aerospike_replicas=5 | the label on 2 more nodes |
| scale down | scale.yml -e aerospike_replicas=3 | the label removed from one node at a time, stable after each |
| rolling restart | upgrade.yml -e aerospike_env=... | `docker service update --env-add` (swarm's own update order) |
| image upgrade | upgrade.yml -e aerospike_image=... (a re-tag) | `docker service update --image` (the same re-tag) |
| killed task | `docker kill` of a task, then aerospike.yml | `docker kill` of a task |

"Verified" on the bare side: every task resolved by ``tasks.<service>`` answers ``cluster-stable`` with the same key at
the wanted size (tests/benchmarks/overlay_poller.py, run in the discovery task's network namespace); after an update
also every running task is a new one; after a kill also a new cluster key. The playbook side is the
``ansible-playbook`` run, timed from start to exit, with the task_timings callback: its top 10 tasks are printed, and
the time from start to the first task that changed something (for scale.yml and upgrade.yml). Also site.yml re-run
with nothing to do (app on, unless --no-app). The last round's rolling restart and scale-up are sampled from the
overlay and plotted (cluster size and migrations per node over time, the playbook's phases marked).

The server is the Aerospike simulator image unless AEROSPIKE_IMAGE names a real server image on the local engine.
Goals (from issue 10): deploy <= 2x bare, the other operations <= 1.5x bare, swarm.yml first run <= 3x bare, first
change <= 3 s, site.yml re-run <= 12 s. Prints numbers; never asserts on them. Fails only when a run itself fails.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / "tools" / "lab", REPO / "tests" / "lab", REPO / "tests" / "helpers", REPO / "tests" / "simulator",
              REPO / "tests" / "benchmarks"):
    sys.path.insert(0, str(_path))

# pylint: disable=wrong-import-position
import bench_swarm  # noqa: E402
from aerospike_lab import DISCOVERY_IMAGE, Cluster, netns_command  # noqa: E402
from aerostack_lab import Lab  # noqa: E402
from aerostack_lab.engine import Engine  # noqa: E402
from aerostack_lab.images import ImageBuilder  # noqa: E402
from aerostack_lab.progress import Progress  # noqa: E402
from aerostack_lab.recipes import recipes  # noqa: E402
from simulator_image import simulator_image  # noqa: E402

LAB_NAME = "aerostack-bench-ops"
STACK = "bench"
LABEL = "aerostack.aerospike"
STACK_COPY = "/root/bench-bare-stack"
POLLER = REPO / "tests" / "benchmarks" / "overlay_poller.py"
APP_IMAGES = tuple(recipes()[short].image for short in ("hitcounter", "haproxy"))  # the lab's own, current ones
# (key, what, goal as a ratio to bare)
OPERATIONS = (
    ("swarm", "swarm.yml first run (plain hosts with docker -> swarm)", 3.0),
    ("deploy", "deploy on a formed swarm -> verified 3", 2.0),
    ("scale_up", "scale 3 -> 5, verified", 1.5),
    ("scale_down", "scale 5 -> 3, one node at a time, verified", 1.5),
    ("restart", "rolling restart of 3 (config change), verified", 1.5),
    ("upgrade", "image upgrade of 3 (a re-tag), verified", 1.5),
    ("kill", "a killed task -> verified 3 again", 1.5),
)
FIRST_CHANGE_GOAL = 3.0
SITE_RERUN_GOAL = 12.0


def log(text):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), text), flush=True)


def load():
    return "%.1f %.1f %.1f" % os.getloadavg()


# --- the cluster seen from the overlay ----------------------------------------------------------------------------

class Poller:
    """overlay_poller.py inside the network namespace of the stack's discovery task; keeps every sample."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.samples = []
        self.cond = threading.Condition()
        self.proc = None

    def start(self, timeout=120.0):
        deadline = time.monotonic() + timeout
        found = None
        while found is None:
            found = self.cluster.running_container(self.cluster.discovery)
            if found is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("no running task of %s after %.0f s" % (self.cluster.discovery, timeout))
                time.sleep(0.1)
        host, container = found
        self.proc = subprocess.Popen(
            netns_command(host, container, sys.executable, str(POLLER), "tasks." + self.cluster.service, "0.1"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=str(REPO / ".cache" / "collections")))
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            try:
                sample = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.samples.append(sample)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def wait(self, predicate, after, timeout, what):
        """Epoch time of the first sample taken at or after ``after`` that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        index = 0
        with self.cond:
            while True:
                while index < len(self.samples):
                    sample = self.samples[index]
                    index += 1
                    if sample["t"] >= after and predicate(sample):
                        return sample["t"]
                if self.proc.poll() is not None and index >= len(self.samples):
                    raise RuntimeError("the overlay poller stopped (rc %s) while waiting for %s"
                                       % (self.proc.returncode, what))
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.samples[-1]["nodes"] if self.samples else []
                    raise RuntimeError("waited %.0f s for %s; last sample: %s" % (timeout, what, [
                        (n["address"], n["size"], n["migrations"], n["stable"]) for n in last]))
                self.cond.wait(min(left, 1.0))

    def last_key(self):
        with self.cond:
            for sample in reversed(self.samples):
                keys = set(n["stable"] for n in sample["nodes"])
                if len(keys) == 1 and None not in keys:
                    return keys.pop()
        return None


def stable_at(size):
    """Every task DNS names answers cluster-stable with one key at ``size``."""
    def check(sample):
        nodes = sample["nodes"]
        keys = set(n["stable"] for n in nodes)
        return len(nodes) == size and len(keys) == 1 and None not in keys and all(n["size"] == size for n in nodes)
    return check


# --- the bare side -----------------------------------------------------------------------------------------------

class Bare:
    """The docker CLI on the manager (lab1), through docker exec."""

    def __init__(self, lab, cluster):
        self.lab = lab
        self.cluster = cluster

    def docker(self, *argv, host="lab1", check=True):
        rc, out, err = self.lab.exec(host, ["docker"] + list(argv), timeout=300)
        if check and rc != 0:
            raise RuntimeError("docker %s on %s failed (rc %d): %s" % (" ".join(argv), host, rc, (err or out).strip()))
        return out.strip()

    def node_ids(self):
        """{hostname: node ID} in inventory order."""
        ids = {}
        for line in self.docker("node", "ls", "--format", "{{.Hostname}} {{.ID}}").splitlines():
            name, node = line.split()
            ids[name] = node
        return dict((h.name, ids[h.name]) for h in self.lab.hosts if h.name in ids)

    def labelled(self):
        found = []
        for host, node in self.node_ids().items():
            labels = json.loads(self.docker("node", "inspect", "--format", "{{json .Spec.Labels}}", node) or "{}")
            if (labels or {}).get(LABEL) == "true":
                found.append(host)
        return found

    def label(self, hosts, add=True):
        ids = self.node_ids()
        for host in hosts:
            if add:
                self.docker("node", "update", "--label-add", "%s=true" % LABEL, ids[host])
            else:
                self.docker("node", "update", "--label-rm", LABEL, ids[host])

    def running_tasks(self):
        """IDs of the service's tasks that should run and do."""
        out = self.docker("service", "ps", self.cluster.service, "--filter", "desired-state=running", "--format",
                          "{{.ID}} {{.CurrentState}}", check=False)
        return [line.split()[0] for line in out.splitlines() if " Running" in line]

    def reset(self):
        """No Aerospike stack, no placement label, no data volume: a formed swarm as a deploy finds it."""
        self.docker("stack", "rm", STACK, check=False)
        deadline = time.monotonic() + 180
        while True:
            left = [h.name for h in self.lab.hosts if self.docker(
                "ps", "-aq", "--filter", "label=com.docker.stack.namespace=%s" % STACK, host=h.name, check=False)]
            networks = self.docker("network", "ls", "-q", "--filter", "label=com.docker.stack.namespace=%s" % STACK,
                                   check=False)
            if not left and not networks:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("stack %s still has containers on %s or networks %s after 180 s"
                                   % (STACK, left, networks.split()))
            time.sleep(0.3)
        self.label(self.labelled(), add=False)
        for host in self.lab.hosts:
            for volume in self.docker("volume", "ls", "-q", "--filter", "name=%s_" % STACK, host=host.name,
                                      check=False).split():
                self.docker("volume", "rm", volume, host=host.name, check=False)


def timed_playbook(cluster, name, *extra, record=None):
    """(seconds, first change in seconds after the start or None, timings JSON) of one playbook run."""
    path = Path(tempfile.mkstemp(prefix="timings-", suffix=".json")[1])
    os.environ["AEROSTACK_TIMINGS_OUTPUT"] = str(path)
    started = time.time()
    done = cluster.playbook(name, *extra)
    timings = json.loads(path.read_text())
    path.unlink()
    changed = [t["end"] for t in timings["tasks"] if any(h["status"] == "changed" for h in t["hosts"].values())]
    first = (min(changed) - started) if changed else None
    if record is not None:
        record.append({"playbook": name, "extra": list(extra), "seconds": done.seconds, "first_change": first,
                       "timings": timings, "started": started})
    return done.seconds, first, timings


def top_tasks(timings, count=10):
    tasks = sorted(timings["tasks"], key=lambda t: -t["seconds"])[:count]
    return ["    %6.2f s  %s" % (t["seconds"], ("%s : %s" % (t["role"], t["name"]) if t["role"] else t["name"])[:100])
            for t in tasks]


# --- one round ------------------------------------------------------------------------------------------------------

def playbook_side(cluster, bare, image, retag, figures, record, plots):
    """The operations through the playbooks. Returns the sampled timelines of the scale-up and the restart."""
    bare.reset()
    seconds, _first, _t = timed_playbook(cluster, "aerospike.yml", record=record)
    figures["deploy"]["playbook"].append(seconds)
    # Keep the files the role rendered (the manager's copy), for the bare deploy.
    stack_dir = "%s/%s" % (cluster.settings.get("aerospike_stack_dir", "/opt/aerostack/stacks"), STACK)
    bare.lab.exec("lab1", ["rm", "-rf", STACK_COPY], timeout=60)
    rc, out, err = bare.lab.exec("lab1", ["cp", "-a", stack_dir, STACK_COPY], timeout=60)
    if rc != 0:
        raise RuntimeError("copying %s on lab1 failed: %s" % (stack_dir, (err or out).strip()))
    poller = Poller(cluster).start()
    sampled = {}
    try:
        poller.wait(stable_at(3), 0, 60, "a stable 3 after aerospike.yml")
        mark = time.time()
        seconds, first, timings = timed_playbook(cluster, "scale.yml", "-e", "aerospike_replicas=5", record=record)
        figures["scale_up"]["playbook"].append(seconds)
        figures["scale_up"]["first_change"].append(first)
        sampled["scale_up"] = (poller, mark, time.time(), timings)
        seconds, first, _t = timed_playbook(cluster, "scale.yml", "-e", "aerospike_replicas=3", record=record)
        figures["scale_down"]["playbook"].append(seconds)
        figures["scale_down"]["first_change"].append(first)
        mark = time.time()
        number = len(figures["restart"]["playbook"]) + 1
        seconds, first, timings = timed_playbook(
            cluster, "upgrade.yml", "-e", json.dumps({"aerospike_env": {"AEROSPIKE_TELEMETRY": "FALSE", "BENCH_RESTART": str(number)}}),
            record=record)
        figures["restart"]["playbook"].append(seconds)
        figures["restart"]["first_change"].append(first)
        sampled["restart"] = (poller, mark, time.time(), timings)
        # As an operator would: the new setting goes into the inventory, so later runs keep it.
        cluster.update_settings(aerospike_env={"AEROSPIKE_TELEMETRY": "FALSE", "BENCH_RESTART": str(number)})
        seconds, first, _t = timed_playbook(cluster, "upgrade.yml", "-e", "aerospike_image=%s" % retag,
                                            record=record)
        figures["upgrade"]["playbook"].append(seconds)
        figures["upgrade"]["first_change"].append(first)
        cluster.update_settings(aerospike_image=retag)
        key = poller.last_key()
        host, container = cluster.container_of(cluster.service)
        started = time.time()
        bare.docker("kill", container, host=host)
        _seconds, _first, _t = timed_playbook(cluster, "aerospike.yml", record=record)
        ended = time.time()
        verified = poller.wait(lambda s: stable_at(3)(s) and s["nodes"][0]["stable"] != key, started, 120,
                               "a stable 3 with a new key after the kill")
        figures["kill"]["playbook"].append(max(ended, verified) - started)
    finally:
        poller.stop()
    if plots is not None:
        for name, (source, begin, end, timings) in sampled.items():
            plots.setdefault(name, []).append((list(source.samples), begin, end, timings))
    return image


def bare_side(cluster, bare, retag, figures):
    """The same operations with the docker CLI, each until the cluster, polled from the overlay, is verified."""
    bare.reset()
    hosts = [h.name for h in bare.lab.hosts]
    files = bare.lab.exec("lab1", ["sh", "-c", "ls %s/*.yml" % STACK_COPY], timeout=60)[1].split()
    if len(files) != 1:
        raise RuntimeError("expected one stack file in %s on lab1, found %s" % (STACK_COPY, files))
    started = time.time()
    bare.docker("stack", "deploy", "--resolve-image", "never", "--compose-file", files[0], STACK)
    bare.label(hosts[:3])
    poller = Poller(cluster).start()
    try:
        figures["deploy"]["bare"].append(poller.wait(stable_at(3), started, 180, "a stable 3 after the deploy")
                                         - started)
        started = time.time()
        bare.label(hosts[3:5])
        figures["scale_up"]["bare"].append(poller.wait(stable_at(5), started, 180, "a stable 5") - started)
        started = time.time()
        for size, host in ((4, hosts[4]), (3, hosts[3])):
            bare.label([host], add=False)
            poller.wait(stable_at(size), time.time(), 180, "a stable %d" % size)
        figures["scale_down"]["bare"].append(time.time() - started)
        number = len(figures["restart"]["bare"]) + 1
        for kind, argv in (("restart", ["--env-add", "BENCH_RESTART=%d" % number]),
                           ("upgrade", ["--image", retag, "--no-resolve-image"])):
            before = set(bare.running_tasks())
            started = time.time()
            bare.docker("service", "update", "--detach", *(argv + [cluster.service]))
            deadline = time.monotonic() + 300
            while True:
                running = bare.running_tasks()
                if len(running) == 3 and not before & set(running):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("%s: the service's tasks were not all replaced within 300 s" % kind)
                time.sleep(0.2)
            replaced = time.time()
            figures[kind]["bare"].append(poller.wait(stable_at(3), replaced, 180, "a stable 3 after the %s" % kind)
                                         - started)
        key = poller.last_key()
        host, container = cluster.container_of(cluster.service)
        started = time.time()
        bare.docker("kill", container, host=host)
        figures["kill"]["bare"].append(poller.wait(lambda s: stable_at(3)(s) and s["nodes"][0]["stable"] != key,
                                                   started, 180, "a stable 3 with a new key after the kill")
                                       - started)
    finally:
        poller.stop()


def swarm_playbook(lab, figures, record):
    """swarm.yml from plain docker hosts (no swarm) to a verified swarm."""
    path = Path(tempfile.mkstemp(prefix="timings-", suffix=".json")[1])
    os.environ["AEROSTACK_TIMINGS_OUTPUT"] = str(path)
    seconds, _changed = bench_swarm.playbook(lab)
    figures["swarm"]["playbook"].append(seconds)
    record.append({"playbook": "swarm.yml", "extra": [], "seconds": seconds, "first_change": None,
                   "timings": json.loads(path.read_text()), "started": None})
    path.unlink()


def swarm_again(lab, figures, record, rounds):
    """The bare floor (docker swarm init + joins, tests/benchmarks/bench_swarm.py) once per round, and the playbook's
    first run again for rounds after the first. Last in a run: a swarm formed again on the same engines breaks their
    overlay gossip (Docker 20.10 keeps the old swarm's network keys: "No installed keys could decrypt the message"), so
    no overlay work may follow."""
    bench_swarm.HOSTS = [h.name for h in lab.hosts]
    for number in range(1, rounds + 1):
        bench_swarm.reset(lab)
        figures["swarm"]["bare"].append(bench_swarm.floor(lab))
        if number > 1:
            bench_swarm.reset(lab)
            swarm_playbook(lab, figures, record)


# --- plots --------------------------------------------------------------------------------------------------------

PHASE_COLOURS = ("#d9e8f5", "#fbe3c9", "#dff0d8", "#f2dede", "#e8e0f0", "#fcf8e3")


def phases(timings, begin, count=8):
    """The ``count`` longest tasks of the playbook as (start, end, label), in the order they ran."""
    longest = sorted(timings["tasks"], key=lambda t: -t["seconds"])[:count]
    return [(t["start"] - begin, t["end"] - begin, t["name"]) for t in sorted(longest, key=lambda t: t["start"])]


def plot_timeline(samples, begin, end, timings, path, title, xlabel):
    """Two panels over time: each node's cluster size and migrations remaining; the playbook's longest tasks shaded
    and numbered, named in a list under the plot."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    window = [s for s in samples if begin - 0.5 <= s["t"] <= end + 1.0]
    nodes = sorted(set(n["address"] for s in window for n in s["nodes"]),
                   key=lambda a: tuple(int(p) for p in a.split(".")))
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 7.5))
    for node in nodes:
        points = [(s["t"] - begin, n) for s in window for n in s["nodes"] if n["address"] == node and n["size"] is not None]
        if not points:
            continue
        top.step([p[0] for p in points], [p[1]["size"] for p in points], where="post", label=node)
        bottom.step([p[0] for p in points], [p[1]["migrations"] for p in points], where="post", label=node)
    spans = phases(timings, begin)
    names = []
    for number, (start, stop, label) in enumerate(spans, 1):
        colour = PHASE_COLOURS[number % len(PHASE_COLOURS)]
        for axis in (top, bottom):
            axis.axvspan(start, stop, color=colour, alpha=0.7, lw=0)
        top.text((start + stop) / 2.0, 5.5, str(number), fontsize=8, ha="center", va="center")
        names.append("%d: %s (%.1f s)" % (number, label[:60], stop - start))
    figure.text(0.01, 0.01, "\n".join(names), fontsize=7, va="bottom", ha="left", family="monospace")
    top.set_ylabel("cluster_size")
    top.set_ylim(0, 6)
    top.legend(loc="upper right", fontsize="x-small", title="node", ncol=2)
    top.grid(True, alpha=0.3)
    bottom.set_ylabel("migrate_partitions_remaining")
    bottom.set_xlabel(xlabel)
    bottom.grid(True, alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0.02 + 0.018 * len(names), 1, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    # The data beside it (ignored by git), so that a plot can be redrawn: --replot FILE.
    raw = REPO / ".cache" / "bench" / (Path(path).stem + ".json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"samples": window, "begin": begin, "end": end, "timings": timings, "title": title,
                               "xlabel": xlabel}))


# --- the report ---------------------------------------------------------------------------------------------------

def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return "%.2f s" % values[0]
    return "%.2f s (%.2f-%.2f)" % (statistics.median(values), min(values), max(values))


def report(figures, site, record, image, rounds, hosts, loads):
    print("\noperations on %d lab hosts, %d round(s), server %s; load average at the start %s, at the end %s"
          % (hosts, rounds, image, loads[0], load()))
    print("%-52s %-22s %-22s %-7s %s" % ("operation", "playbook", "bare", "ratio", "goal"))
    for key, what, goal in OPERATIONS:
        data = figures[key]
        ratio = (statistics.median(data["playbook"]) / statistics.median(data["bare"])
                 if data["playbook"] and data["bare"] else None)
        print("%-52s %-22s %-22s %-7s <= %.1fx%s" % (
            what, spread(data["playbook"]), spread(data["bare"]), "%.2fx" % ratio if ratio else "-", goal,
            "" if ratio is None or ratio <= goal else "  (not met)"))
    for key in ("scale_up", "scale_down", "restart", "upgrade"):
        first = figures[key]["first_change"]
        if first:
            print("  first change on the cluster after ansible-playbook started, %-22s %s (goal <= %.0f s)"
                  % (key.replace("_", " ") + ":", spread(first), FIRST_CHANGE_GOAL))
    if site and site.get("error"):
        print("site.yml re-run with nothing to do: not measured, site.yml failed: %s" % site["error"])
    elif site:
        print("site.yml re-run with nothing to do (%d hosts%s): %s, changed=%s (goal <= %.0f s)"
              % (hosts, ", app on" if site["app"] else "", spread(site["seconds"]), site["changed"], SITE_RERUN_GOAL))
    print("\ntop 10 tasks of the last round's playbook runs (task_timings callback):")
    seen = set()
    for entry in reversed(record):
        name = "%s %s" % (entry["playbook"], " ".join(entry["extra"]))
        if name in seen:
            continue
        seen.add(name)
        print("  %s: %.2f s" % (name.strip(), entry["seconds"]))
        for line in top_tasks(entry["timings"]):
            print(line)


def run(rounds, hosts, plot_dir, keep, app):
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    retag = "%s-bench" % image if ":" in image.rsplit("/", 1)[-1] else "%s:bench" % image
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "aerostack.swarm.task_timings"
    os.environ["AEROSTACK_TIMINGS_TOP"] = "0"
    loads = [load()]
    lab = Lab(name=LAB_NAME, hosts=hosts, flavour="docker")
    lab.down()
    lab.up()
    figures = dict((key, {"playbook": [], "bare": [], "first_change": []}) for key, _what, _goal in OPERATIONS)
    record, plots, site, failed = [], {}, None, []
    try:
        if app:
            ImageBuilder(Engine(), REPO / ".cache" / "lab", Progress(quiet=True)).ensure("app")
        images = [image, DISCOVERY_IMAGE] + (list(APP_IMAGES) if app else [])
        lab.load(images)
        for host in lab.hosts:
            rc, out, err = lab.exec(host.name, ["docker", "tag", image, retag], timeout=60)
            if rc != 0:
                raise RuntimeError("docker tag on %s failed: %s" % (host.name, (err or out).strip()))
        cluster = Cluster(lab, image, Path(tempfile.mkdtemp(prefix="bench-ops-")), STACK,
                          settings={"swarm_managers_max": 3})
        bare = Bare(lab, cluster)
        log("swarm.yml first run on the fresh hosts (load %s)" % load())
        swarm_playbook(lab, figures, record)
        for number in range(1, rounds + 1):
            cluster.update_settings(aerospike_image=image, aerospike_env={"AEROSPIKE_TELEMETRY": "FALSE"})
            sides = [("playbooks", lambda: playbook_side(cluster, bare, image, retag, figures, record,
                                                         plots if number == rounds else None)),
                     ("bare", lambda: bare_side(cluster, bare, retag, figures))]
            for name, side in (sides if number % 2 else list(reversed(sides))):
                log("round %d of %d: the %s side (load %s)" % (number, rounds, name, load()))
                side()
            log("round %d: %s" % (number, ", ".join(
                "%s %s/%s" % (k, spread(v["playbook"][-1:]), spread(v["bare"][-1:]))
                for k, v in figures.items() if k != "swarm")))
        if app:
            bare.reset()
            cluster.update_settings(aerostack_app_enabled=True, app_image=APP_IMAGES[0], app_lb_image=APP_IMAGES[1],
                                    app_verify_database=cluster.real)
            log("site.yml with the app: converge, then re-run (load %s)" % load())
            try:
                cluster.playbook("site.yml")
                seconds, _first, timings = timed_playbook(cluster, "site.yml", record=record)
                site = {"seconds": [seconds], "app": True, "changed": sum(
                    1 for t in timings["tasks"] for h in t["hosts"].values() if h["status"] == "changed")}
            except AssertionError as exc:
                # The operations above are measured: report them, and say why this figure is missing.
                site = {"error": str(exc).splitlines()[0][:300], "app": True}
                failed.append("site.yml with the app")
        log("the bare swarm floor%s (load %s)" % (" and swarm.yml again" if rounds > 1 else "", load()))
        swarm_again(lab, figures, record, rounds)
        if plot_dir:
            for name, title, xlabel, out in (
                    ("restart", "rolling restart of 3 (upgrade.yml -e aerospike_env=...)",
                     "seconds since ansible-playbook upgrade.yml started", "rolling-restart-3.png"),
                    ("scale_up", "scale-up 3 -> 5 (scale.yml -e aerospike_replicas=5)",
                     "seconds since ansible-playbook scale.yml started", "scale-3-to-5.png")):
                if plots.get(name):
                    samples, begin, end, timings = plots[name][-1]
                    plot_timeline(samples, begin, end, timings, Path(plot_dir) / out,
                                  "%s on the %d-host lab (%s), playbook phases shaded" % (
                                      title, hosts, "real server " + image if cluster.real else "Aerospike simulator"),
                                  xlabel)
                    log("plot: %s" % (Path(plot_dir) / out))
    finally:
        if not keep:
            lab.down()
    report(figures, site, record, image, rounds, hosts, loads)
    if failed:
        raise RuntimeError("failed: %s" % ", ".join(failed))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--plots", default=str(REPO / "docs" / "img"), help="where to write the PNGs (empty: none)")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    parser.add_argument("--no-app", action="store_true", help="leave out the site.yml re-run with the app")
    parser.add_argument("--replot", metavar="JSON", help="only redraw a plot from the data an earlier run kept in "
                        ".cache/bench/ (written to --plots)")
    options = parser.parse_args()
    if options.replot:
        data = json.loads(Path(options.replot).read_text())
        plot_timeline(data["samples"], data["begin"], data["end"], data["timings"],
                      Path(options.plots) / (Path(options.replot).stem + ".png"), data["title"], data["xlabel"])
        return 0
    if options.rounds < 1 or options.hosts < 5:
        parser.error("--rounds must be at least 1 and --hosts at least 5")
    try:
        run(options.rounds, options.hosts, options.plots, options.keep, not options.no_app)
    except (RuntimeError, AssertionError) as exc:
        print("bench_ops: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
