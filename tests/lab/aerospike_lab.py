"""An Aerospike stack on a lab, driven through the collection's playbooks, and the helpers to inspect it.

Shared by the lab tests of the aerospike role (test_aerospike_cluster.py) and the failure drills (test_drills.py).
The server is the Aerospike simulator image unless the caller passes a real server image (``Cluster.real``): only
a real server has a data path, so only then can records be written and read back (``Cluster.client``).
"""

import calendar
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from labtest_helpers import REPO, run_ok
from simulator_image import REPOSITORY as SIMULATOR_REPOSITORY

DISCOVERY_IMAGE = "aerostack-lab/base:bookworm"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Cluster:
    """The lab, the inventory and extra vars the playbooks run with, and helpers to drive and inspect it.

    ``settings`` are extra variables for every playbook run (on top of the lab's own); ``update_settings``
    changes them for the runs that follow, as an operator would edit the inventory.
    """

    def __init__(self, lab, image, tmp, stack, settings=None):
        self.lab = lab
        self.image = image
        self.real = not image.startswith(SIMULATOR_REPOSITORY + ":")
        self.tmp = tmp
        self.stack = stack
        self.service = stack + "_aerospike"
        self.discovery = stack + "_discovery"
        self.vars_file = tmp / "aerospike-vars.yml"
        # Another inventory than the lab's own (a host replaced for good), when set.
        self.inventory = None
        # Hosts that ran an instance of the service earlier (its task history stays on them).
        self.departed_hosts = set()
        self.timings = []
        self._addresses = {}
        self.settings = {
            "aerospike_stack_name": stack,
            "aerospike_image": image,
            "aerospike_discovery_image": DISCOVERY_IMAGE,
            "aerospike_replicas": 3,
            # The lab's engines cannot raise a task's open-files limit above 20000 (no CAP_SYS_RESOURCE).
            "aerospike_nofile": 20000,
            "aerospike_stop_grace_period": "10s",
            # The lab hosts come with Debian's engine, started by the lab itself (no init system to restart it).
            "docker_install_source": "distribution",
            "docker_service_manage": False,
        }
        if not self.real:
            self.settings["aerospike_command"] = ["--config", "/etc/aerostack/aerospike.conf"]
        self.update_settings(**(settings or {}))
        self.manager = "lab1"

    def update_settings(self, **settings):
        self.settings.update(settings)
        self.vars_file.write_text(yaml.safe_dump(self.settings))

    def mounts(self, host, container):
        """The names of the volumes a container mounts, sorted."""
        return sorted(name for name, _destination in self.volumes_of(host, container))

    def instances(self):
        """``{host: (container id, [volume names])}`` of the running Aerospike instances on the live hosts."""
        return dict((host, (container, self.mounts(host, container))) for host, container in self.containers(self.service))

    def placement(self):
        """``{node hostname: [desired state of each task there]}`` of the Aerospike service, from ``docker service ps``:
        where swarm placed every task, running or not."""
        out = self.docker(self.manager, "service", "ps", self.service, "--format", "{{.Node}} {{.DesiredState}}")
        placed = {}
        for line in out.splitlines():
            node, desired = line.split()
            placed.setdefault(node, []).append(desired)
        return placed

    def playbook(self, name, *extra, check=True):
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
        )
        binary = Path(sys.executable).parent / "ansible-playbook"
        argv = [
            str(binary if binary.exists() else "ansible-playbook"),
            "-i",
            str(self.inventory or self.lab.inventory_path),
            str(REPO / "playbooks" / name),
            "-e",
            "@%s" % self.vars_file,
        ] + list(extra)
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(REPO), check=False)
        done.seconds = time.monotonic() - started
        done.recap = dict(
            (
                m.group(1),
                {
                    "ok": int(m.group(2)),
                    "changed": int(m.group(3)),
                    "unreachable": int(m.group(4)),
                    "failed": int(m.group(5)),
                },
            )
            for m in RECAP.finditer(done.stdout)
        )
        if check and (done.returncode != 0 or not done.recap):
            raise AssertionError(
                "%s failed (rc %d):\n%s\n%s" % (name, done.returncode, done.stdout[-6000:], done.stderr[-2000:])
            )
        return done

    def status(self):
        path = self.tmp / "status.json"
        if path.exists():
            path.unlink()
        self.playbook("status.yml", "-e", "aerospike_status_json=%s" % path)
        return json.loads(path.read_text())

    def docker(self, host, *argv):
        return run_ok(self.lab, host, ["docker"] + list(argv), "docker " + " ".join(argv[:2]))

    def running_states(self, service=None):
        out = self.docker(
            self.manager,
            "service", "ps", service or self.service, "--filter", "desired-state=running", "--format", "{{.CurrentState}}",
        )  # fmt: skip
        return [line for line in out.splitlines() if line.strip()]

    def live_hosts(self):
        """The lab hosts whose container runs (a killed host is left out)."""
        running = subprocess.run(
            ["docker", "ps", "--filter", "label=org.aerostack.lab=%s" % self.lab.name, "--format", "{{.Names}}"],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        return [h.name for h in self.lab.hosts if h.container in running]

    def containers(self, service, hosts=None):
        """``[(host, container id)]`` of the running tasks of ``service`` on ``hosts`` (default: every live host)."""
        found = []
        for host in self.live_hosts() if hosts is None else hosts:
            out = self.docker(host, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name=%s" % service)
            found += [(host, container) for container in out.split()]
        return found

    def running_container(self, service):
        """(host, container id) of a running task of ``service``, or None while none runs."""
        for host in self.live_hosts():
            found = self.containers(service, [host])
            if found:
                return found[0]
        return None

    def container_of(self, service):
        """(host, container id) of a running task of ``service``."""
        found = self.running_container(service)
        if found is None:
            raise AssertionError("no running container of %s on any lab host" % service)
        return found

    def container_of_newest(self, service):
        """(host, container id) of the most recently started running task of ``service``."""
        newest = None
        for host, container in self.containers(service):
            started = self.inspect(host, container)["State"]["StartedAt"]
            if newest is None or started > newest[0]:
                newest = (started, host, container)
        assert newest is not None, "no running container of %s" % service
        return newest[1], newest[2]

    def inspect(self, host, container):
        return json.loads(self.docker(host, "inspect", container))[0]

    def address_of(self, host, container):
        """The overlay address of a task's container (a container keeps its address: asked once)."""
        if container not in self._addresses:
            networks = self.inspect(host, container)["NetworkSettings"]["Networks"]
            self._addresses[container] = [n["IPAddress"] for n in networks.values() if n.get("IPAddress")][0]
        return self._addresses[container]

    def discovery_log(self):
        host, container = self.container_of(self.discovery)
        return self.docker(host, "logs", container)

    def timing(self, label, seconds):
        self.timings.append((label, seconds))
        print("\n[timing] %s: %.2f s" % (label, seconds))

    def task_started(self, address):
        """When the running Aerospike task with ``address`` started (seconds since the epoch), or None."""
        for host, container in self.containers(self.service):
            details = self.inspect(host, container)
            networks = details["NetworkSettings"]["Networks"]
            if any(n.get("IPAddress") == address for n in networks.values()):
                return docker_time(details["State"]["StartedAt"])
        return None

    # --- each node's own view, from inside its task's network namespace ----------------------------------------

    def node_views(self, hosts=None):
        """``[{host, container, address, size, key, integrity, migrations}]``: every running Aerospike task on
        ``hosts`` (default: every live host), asked about itself from inside its own network namespace, so a node
        cut off from the others still answers. ``size`` is None when the node did not answer (``error`` says why)."""

        def view(host, container, address, stats):
            found = {"host": host, "container": container, "address": address, "size": None, "key": None,
                     "integrity": None, "migrations": None}  # fmt: skip
            if stats is not None:
                found.update(size=int(stats.get("cluster_size", 0)), key=stats.get("cluster_key"),
                             integrity=stats.get("cluster_integrity") == "true",
                             migrations=int(stats.get("migrate_partitions_remaining", 0)))  # fmt: skip
            return found

        return self._ask_each("statistics", view, hosts)

    def namespace_views(self, namespace, hosts=None):
        """``[{host, container, address, objects}]``: each running Aerospike task's own ``namespace/<namespace>``
        object count (master and replica copies), asked like ``node_views``; ``objects`` is None without an answer."""

        def view(host, container, address, stats):
            objects = None if stats is None else int(stats.get("objects", 0))
            return {"host": host, "container": container, "address": address, "objects": objects}

        return self._ask_each("namespace/%s" % namespace, view, hosts)

    def _ask_each(self, command, view, hosts):
        """``view(host, container, address, answer)`` of every running Aerospike task on ``hosts``, sorted by host:
        ``answer`` is the task's reply to the info ``command`` as a dict (None when it did not answer; the view's
        ``error`` then says why), asked from inside the task's own network namespace."""

        def ask(entry):
            host, container = entry
            try:
                address = self.address_of(host, container)
                done = run_in_netns(host, container, [VIEW, address, command], timeout=30, collections=True)
            except AssertionError as exc:
                # Listed, then gone before it was asked (a task replaced, a host reconnecting): no answer this time.
                found = view(host, container, None, None)
                found["error"] = "gone before it was asked: %s" % exc
                return found
            if done.returncode == 0:
                return view(host, container, address, json.loads(done.stdout))
            found = view(host, container, address, None)
            found["error"] = done.stderr.strip()[-300:]
            return found

        hosts = self.live_hosts() if hosts is None else list(hosts)
        with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
            found = [entry for entries in pool.map(lambda h: self.containers(self.service, [h]), hosts) for entry in entries]
            return sorted(pool.map(ask, found), key=lambda view: view["host"])

    def volumes_of(self, host, container):
        """``[(volume name, destination)]`` of the named volumes a container mounts."""
        return [(m.get("Name"), m.get("Destination")) for m in self.inspect(host, container).get("Mounts") or ()
                if m.get("Type") == "volume"]  # fmt: skip

    # --- records through a real server's data path ------------------------------------------------------------

    def client(self, status, count, mode, start=0, via=None, namespace="test"):
        """Write (``mode`` write) or read back (read) records ``start``..``start+count-1`` of set ``aerostack`` in
        ``namespace`` through the Python client, from inside the network namespace of ``via`` ((host, container)
        of an Aerospike task; default: the first found), seeded with the nodes of ``status``. Returns how many
        were written, or read back with the value written (a record that is not found counts as not read)."""
        host, container = via or self.container_of(self.service)
        seeds = [row["address"].rsplit(":", 1)[0] for row in status["nodes"]]
        done = run_in_netns(host, container, [CLIENT, json.dumps(seeds), str(count), mode, str(start), namespace])
        assert done.returncode == 0, done.stderr[-2000:]
        return int(done.stdout.strip())

    def write_acknowledged(self, via, count, start, namespace="test"):
        """Write records ``start``..``start+count-1`` from inside the network namespace of ``via`` ((host,
        container) of a task that stays up, e.g. discovery's, while the Aerospike tasks roll), seeded afresh with
        the addresses the engine's DNS gives ``tasks.<service>`` there; a write that fails is counted by its error
        class, not retried further (a client in AP mode sees a few while a node leaves). Returns (acknowledged
        indexes, {error class: count})."""
        answer = self._acknowledging_client(via, "write", list(range(start, start + count)), namespace)
        return answer["acked"], answer["failed"]

    def read_back(self, via, indexes, namespace="test"):
        """Of ``indexes``, those not readable with the value written (a read that fails counts as not read)."""
        return self._acknowledging_client(via, "read", list(indexes), namespace)["missing"]

    def _acknowledging_client(self, via, mode, indexes, namespace):
        host, container = via
        # The indexes go on stdin: tens of thousands are too long for one argument.
        done = run_in_netns(
            host, container,
            [ACKNOWLEDGING_CLIENT, str(REPO / "plugins" / "module_utils"), "tasks." + self.service, mode, namespace],
            timeout=600, stdin=json.dumps(indexes),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)


class Sampler:
    """Calls ``take()`` every ``interval`` seconds in a thread while the ``with`` block runs and keeps what it returns in
    ``samples`` (a sample whose ``take()`` raises one of ``skipped`` is left out)."""

    skipped = (AssertionError,)

    def __init__(self, interval):
        self.interval = interval
        self.samples = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def take(self):
        raise NotImplementedError

    def _sample(self):
        while not self._stop.is_set():
            try:
                self.samples.append(self.take())
            except self.skipped:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(30)


class RunningSampler(Sampler):
    """Counts the running tasks of the Aerospike service every ``interval`` seconds while the ``with`` block runs."""

    def __init__(self, cluster, interval=0.3):
        super().__init__(interval)
        self.cluster = cluster

    def take(self):
        return len([s for s in self.cluster.running_states() if s.startswith("Running")])


def changed_tasks(stdout):
    """The ``TASK [...]`` titles under which a host reported ``changed``, for assertion messages."""
    title, changed = None, []
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            title = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed:") and title not in changed:
            changed.append(title)
    return "tasks that reported a change: %s" % changed


def seeds_match_members(status):
    addresses = [row["address"].rsplit(":", 1)[0] for row in status["nodes"]]
    for row in status["nodes"]:
        own = row["address"].rsplit(":", 1)[0]
        hosts = sorted(seed.rsplit(":", 1)[0] for seed in row["mesh_seeds"])
        if hosts != sorted(a for a in addresses if a != own):
            return False
    return True


def assert_stable(status, size):
    cluster = status["cluster"]
    assert cluster and cluster["stable"], "cluster not stable: %s" % (cluster or {}).get("problems")
    assert cluster["size"] == size
    assert len(status["nodes"]) == size
    assert len(set(row["cluster_key"] for row in status["nodes"])) == 1


def log_stamp(line):
    """Seconds since the epoch of a discovery log line (``2026-11-22T03:00:17.123Z discovery: ...``)."""
    text = line.split(" ", 1)[0]
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + text[19:].rstrip("Z"))


def docker_time(text):
    """Seconds since the epoch of a Docker timestamp (``2026-11-22T03:00:17.123456789Z``)."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + text[19:].rstrip("Z")[:10])


def netns_command(host, container, *argv):
    """``argv`` run on this machine inside the network namespace of ``container`` (a container on lab ``host``), so
    it reaches the overlay addresses that container sees: the command line for subprocess."""
    return ["nsenter", "--net=/proc/%d/ns/net" % outer_pid(container, host), *argv]


def run_in_netns(host, container, script_and_args, timeout=300, stdin=None, collections=False):
    """Run ``python -c script arg...`` (``script_and_args``) inside the network namespace of ``container`` on lab
    ``host``; ``collections`` puts the collection's checkout (.cache/collections) on its PYTHONPATH. Returns the
    finished process (stdout and stderr captured as text); raises AssertionError when the container has no process
    here (gone, or never started)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / ".cache" / "collections")) if collections else None
    return subprocess.run(
        netns_command(host, container, sys.executable, "-c", *script_and_args),
        input=stdin, capture_output=True, text=True, check=False, timeout=timeout, env=env,
    )  # fmt: skip


def outer_pid(container, host="a lab host"):
    """The PID, on this machine, of a container running inside a lab host (found by its ID in the cgroups)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cgroup" % entry) as handle:
                if container in handle.read():
                    return int(entry)
        except OSError:
            continue
    raise AssertionError("no process of container %s (on %s) found on this machine" % (container[:12], host))


# One node's answer to one info command (statistics, namespace/NS) as JSON, asked from inside its network namespace
# with the collection's own info client.
VIEW = r"""
import json, sys
from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import InfoClient, parse_kv
with InfoClient(sys.argv[1], 3000, timeout=3) as client:
    print(json.dumps(parse_kv(client.request(sys.argv[2])[sys.argv[2]])))
"""

CLIENT = r"""
import json, sys
import aerospike
from aerospike import exception as ex
seeds, count, mode, start = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
namespace = sys.argv[5]
client = aerospike.client({"hosts": [(h, 3000) for h in seeds]}).connect()
found = 0
for i in range(start, start + count):
    key = (namespace, "aerostack", i)
    if mode == "write":
        client.put(key, {"i": i})
        found += 1
    else:
        try:
            _key, _meta, bins = client.get(key)
        except ex.RecordNotFound:
            continue
        found += bins.get("i") == i
client.close()
print(found)
"""

# Writes (or reads back) the given indexes one by one, counting each outcome instead of stopping at the first error.
ACKNOWLEDGING_CLIENT = r"""
import collections, json, sys
sys.path.insert(0, sys.argv[1])
import aerospike
from aerospike import exception as ex
from _dns import lookup_a
name, mode, namespace, indexes = sys.argv[2], sys.argv[3], sys.argv[4], json.load(sys.stdin)
policy = {"total_timeout": 2000, "max_retries": 2, "sleep_between_retries": 250}
client = aerospike.client({"hosts": [(a, 3000) for a in lookup_a(name, "127.0.0.11")],
                           "policies": {"write": policy, "read": policy}}).connect()
acked, failed, missing = [], collections.Counter(), []
for i in indexes:
    key = (namespace, "aerostack", i)
    try:
        if mode == "write":
            client.put(key, {"i": i})
            acked.append(i)
        elif client.get(key)[2].get("i") != i:
            missing.append(i)
    except ex.RecordNotFound:
        missing.append(i)
    except ex.AerospikeError as exc:
        if mode == "write":
            failed[type(exc).__name__] += 1
        else:
            missing.append(i)
client.close()
print(json.dumps({"acked": acked, "failed": failed, "missing": missing}))
"""
