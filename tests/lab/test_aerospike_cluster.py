"""The aerospike role on the 5-host lab: site.yml from plain docker hosts to a verified cluster, scaling both
ways, a killed task and a killed discovery task, an idempotent re-run, a verified rolling update, teardown.

The server is the Aerospike simulator image unless AEROSPIKE_IMAGE names a real server image on the local
engine (then 1000 records are also written before scaling down and read back after).

    python -m pytest -m lab -s tests/lab/test_aerospike_cluster.py

Timings are printed at the end (never asserted).
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from labtest_helpers import REPO, run_ok, wait_for
from simulator_image import REPOSITORY as SIMULATOR_REPOSITORY
from simulator_image import simulator_image

pytestmark = pytest.mark.lab

STACK = "astest"
SERVICE = STACK + "_aerospike"
DISCOVERY = STACK + "_discovery"
DISCOVERY_IMAGE = "aerostack-lab/base:bookworm"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
TIMINGS = []


class Cluster:
    """The lab, the inventory and extra vars the playbooks run with, and helpers to drive and inspect it."""

    def __init__(self, lab, image, tmp):
        self.lab = lab
        self.image = image
        self.real = not image.startswith(SIMULATOR_REPOSITORY + ":")
        self.tmp = tmp
        self.vars_file = tmp / "aerospike-vars.yml"
        settings = {
            "aerospike_stack_name": STACK,
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
            settings["aerospike_command"] = ["--config", "/etc/aerostack/aerospike.conf"]
        self.vars_file.write_text(yaml.safe_dump(settings))
        self.manager = "lab1"

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
            str(self.lab.inventory_path),
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

    def running_states(self, service=SERVICE):
        out = self.docker(
            self.manager, "service", "ps", service, "--filter", "desired-state=running", "--format", "{{.CurrentState}}"
        )
        return [line for line in out.splitlines() if line.strip()]

    def running_container(self, service):
        """(host, container id) of a running task of ``service``, or None while none runs."""
        for host in self.lab.hosts:
            out = self.docker(
                host.name, "ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name=%s" % service
            )
            if out.strip():
                return host.name, out.split()[0]
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
        for host in self.lab.hosts:
            out = self.docker(host.name, "ps", "-q", "--no-trunc", "--filter",
                              "label=com.docker.swarm.service.name=%s" % service)
            for container in out.split():
                started = self.inspect(host.name, container)["State"]["StartedAt"]
                if newest is None or started > newest[0]:
                    newest = (started, host.name, container)
        assert newest is not None, "no running container of %s" % service
        return newest[1], newest[2]

    def inspect(self, host, container):
        return json.loads(self.docker(host, "inspect", container))[0]

    def discovery_log(self):
        host, container = self.container_of(DISCOVERY)
        return self.docker(host, "logs", container)


def changed_tasks(stdout):
    """The ``TASK [...]`` titles under which a host reported ``changed``, for assertion messages."""
    title, changed = None, []
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            title = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed:") and title not in changed:
            changed.append(title)
    return "tasks that reported a change: %s" % changed


def timing(label, seconds):
    TIMINGS.append((label, seconds))
    print("\n[timing] %s: %.2f s" % (label, seconds))


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


@pytest.fixture(scope="module")
def cluster(make_lab, tmp_path_factory):
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    lab = make_lab("aerospike", hosts=5)
    lab.load([image, DISCOVERY_IMAGE])
    return Cluster(lab, image, tmp_path_factory.mktemp("aerospike"))


def test_preflight_refuses_more_replicas_than_aerospike_hosts_and_changes_nothing(cluster):
    done = cluster.playbook("aerospike.yml", "-e", "aerospike_replicas=6", check=False)
    assert done.returncode != 0
    assert "aerospike_replicas is 6 but only 5 host(s) are in the aerospike_nodes group" in done.stdout
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)


def test_site_forms_the_swarm_and_a_verified_cluster_of_three(cluster):
    swarm = cluster.playbook("swarm.yml")
    timing("swarm.yml: plain docker hosts -> formed swarm", swarm.seconds)
    deploy = cluster.playbook("aerospike.yml")
    timing("formed swarm -> verified 3 (aerospike.yml)", deploy.seconds)
    assert "Aerospike verification FAILED" not in deploy.stdout
    status = cluster.status()
    assert_stable(status, 3)
    assert seeds_match_members(status)
    assert status["discovery_running"] == 1
    assert all(row["simulator"] is not cluster.real for row in status["nodes"])


def test_site_rerun_changes_nothing(cluster):
    done = cluster.playbook("site.yml")
    timing("site.yml re-run (changed=0)", done.seconds)
    changed = dict((host, r["changed"]) for host, r in done.recap.items() if r["changed"])
    assert changed == {}, "site.yml re-run changed something: %s\n%s" % (changed, done.stdout[-4000:])


def test_scale_up_to_five_is_verified_and_tips_new_tasks_quickly(cluster):
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=5")
    timing("scale 3 -> 5 -> verified (scale.yml)", done.seconds)
    status = cluster.status()
    assert_stable(status, 5)
    assert seeds_match_members(status)
    # DNS appearance -> tip latency: a new task's start (its container) to discovery's first tip naming it.
    log = cluster.discovery_log()
    for row in status["nodes"]:
        if row["slot"] not in (4, 5):
            continue
        address = row["address"].rsplit(":", 1)[0]
        tip = next((line for line in log.splitlines() if "tip %s:3002 into" % address in line), None)
        assert tip is not None, "discovery never tipped %s:\n%s" % (address, log[-3000:])
        started = _task_started(cluster, address)
        if started is not None:
            timing("task start -> first tip of %s (slot %s)" % (address, row["slot"]), _stamp(tip) - started)


def _stamp(line):
    text = line.split(" ", 1)[0]  # 2026-11-22T03:00:17.123Z
    import calendar  # pylint: disable=import-outside-toplevel

    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + text[19:].rstrip("Z"))


def _task_started(cluster, address):
    for host in cluster.lab.hosts:
        out = cluster.docker(host.name, "ps", "-q", "--filter", "label=com.docker.swarm.service.name=%s" % SERVICE)
        for container in out.split():
            details = cluster.inspect(host.name, container)
            networks = details["NetworkSettings"]["Networks"]
            if any(n.get("IPAddress") == address for n in networks.values()):
                started = details["State"]["StartedAt"]  # 2026-11-22T03:00:17.123456789Z
                import calendar  # pylint: disable=import-outside-toplevel

                return calendar.timegm(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S")) + float(
                    "0" + started[19:].rstrip("Z")[:10]
                )
    return None


def test_scale_down_below_the_replication_factor_is_refused(cluster):
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=1", check=False)
    assert done.returncode != 0
    assert "namespace test has replication_factor 2 but aerospike_replicas is 1" in done.stdout
    assert len(cluster.running_states()) == 5


def test_scale_down_to_three_is_verified_and_clears_departed_seeds(cluster):
    before = cluster.status()
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=3")
    timing("scale 5 -> 3, one node at a time, verified (scale.yml)", done.seconds)
    status = cluster.status()
    assert_stable(status, 3)
    assert sorted(row["slot"] for row in status["nodes"]) == [1, 2, 3]  # swarm removed the highest slots
    departed = set(r["address"].rsplit(":", 1)[0] for r in before["nodes"]) - set(
        r["address"].rsplit(":", 1)[0] for r in status["nodes"]
    )
    assert len(departed) == 2
    for row in status["nodes"]:
        assert not departed & set(seed.rsplit(":", 1)[0] for seed in row["mesh_seeds"]), row
    assert seeds_match_members(status)


def test_killed_aerospike_task_is_replaced_tipped_and_verified(cluster):
    host, container = cluster.container_of(SERVICE)
    details = cluster.inspect(host, container)
    killed = [n["IPAddress"] for n in details["NetworkSettings"]["Networks"].values() if n.get("IPAddress")]
    started = time.monotonic()
    cluster.docker(host, "kill", container)

    def replaced():
        alive = cluster.docker(host, "ps", "-q", "--no-trunc").split()
        running = [s for s in cluster.running_states() if s.startswith("Running")]
        return container not in alive and len(running) == 3

    wait_for("the killed task to be gone and 3 tasks running again", replaced, timeout=120)
    timing("kill -> replacement task running", time.monotonic() - started)
    killed_at = time.time() - (time.monotonic() - started)
    host, container = cluster.container_of_newest(SERVICE)
    fresh = [n["IPAddress"] for n in cluster.inspect(host, container)["NetworkSettings"]["Networks"].values()
             if n.get("IPAddress")][0]
    wait_for("discovery to tip the replacement %s both ways" % fresh,
             lambda: "tip %s:3002 into" % fresh in cluster.discovery_log()
             and re.search(r"tip \S+ into %s: ok" % re.escape(fresh), cluster.discovery_log()), timeout=60)
    tips = [line for line in cluster.discovery_log().splitlines() if fresh in line and line.split(" ")[2] == "tip"]
    timing("kill -> replacement %s tipped both ways (discovery log)" % fresh, _stamp(tips[-1]) - killed_at)
    done = cluster.playbook("aerospike.yml")
    timing("kill -> verified 3 (incl. a playbook run)", time.monotonic() - started)
    assert all(r["changed"] == 0 for r in done.recap.values()), "the replacement needed no deploy; " + changed_tasks(done.stdout)
    status = cluster.status()
    assert_stable(status, 3)
    for row in status["nodes"]:
        assert not set(killed) & set(seed.rsplit(":", 1)[0] for seed in row["mesh_seeds"]), row
    assert seeds_match_members(status)


def test_killed_discovery_task_comes_back_without_errors(cluster):
    host, container = cluster.container_of(DISCOVERY)
    cluster.docker(host, "kill", container)
    wait_for("a new discovery task", lambda: (cluster.running_container(DISCOVERY) or (None, container))[1] != container,
             timeout=120)
    wait_for(
        "the new discovery task's first DNS answer",
        lambda: "dns tasks.%s: 3 task(s)" % SERVICE in cluster.discovery_log(),
        timeout=60,
    )
    log = cluster.discovery_log()
    assert " failed" not in log, log
    assert "tip " not in log, "a restarted discovery found every seed in place:\n" + log
    assert_stable(cluster.status(), 3)
    host, container = cluster.container_of(DISCOVERY)
    rss = [
        line
        for line in cluster.docker(host, "exec", container, "cat", "/proc/1/status").splitlines()
        if line.startswith("VmRSS")
    ]
    if rss:
        timing("discovery process memory (%s)" % rss[0].split(":", 1)[1].strip(), 0.0)


def test_real_server_keeps_every_record_through_scale_down(cluster):
    if not cluster.real:
        pytest.skip("records need a real server's data path; the simulator has none (set AEROSPIKE_IMAGE)")
    cluster.playbook("scale.yml", "-e", "aerospike_replicas=4")
    written = _client(cluster, cluster.status(), 1000, "write")
    assert written == 1000
    cluster.playbook("scale.yml", "-e", "aerospike_replicas=3")
    status = cluster.status()
    assert_stable(status, 3)
    assert _client(cluster, status, 1000, "read") == 1000


def test_config_change_rolls_one_task_at_a_time_and_is_verified(cluster):
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(len([s for s in cluster.running_states() if s.startswith("Running")]))
            except AssertionError:
                pass
            stop.wait(0.3)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    change = json.dumps(
        {
            "aerospike_namespaces": [
                {
                    "name": "test",
                    "replication_factor": 2,
                    "storage": {"type": "memory", "data_size": "1G"},
                    "options": {"nsup-period": 60},
                }
            ]
        }
    )
    try:
        done = cluster.playbook("aerospike.yml", "-e", change)
    finally:
        stop.set()
        sampler.join(10)
    timing("config change -> rolling update of 3, verified per task", done.seconds)
    assert "stack %s: rollout" % STACK in done.stdout
    assert done.stdout.count("cluster: STABLE, 3 node(s)") >= 4  # before, and after each of the 3 tasks
    assert samples and min(samples) >= 2, "more than one task was down at once: %s" % samples
    status = cluster.status()
    assert_stable(status, 3)
    configs = cluster.docker(cluster.manager, "config", "ls", "--format", "{{.Name}}").split()
    assert len([c for c in configs if c.startswith(STACK + "_aerospike_conf_")]) == 1, configs
    again = cluster.playbook("aerospike.yml", "-e", change)
    assert all(r["changed"] == 0 for r in again.recap.values()), changed_tasks(again.stdout)


def test_teardown_removes_the_stack(cluster):
    refused = cluster.playbook("teardown.yml", check=False)
    assert refused.returncode != 0 and "Confirm with" in refused.stdout
    cluster.playbook("teardown.yml", "-e", "aerospike_teardown_confirm=%s" % STACK)
    assert cluster.docker(cluster.manager, "service", "ls", "-q").strip() == ""
    assert STACK not in cluster.docker(cluster.manager, "config", "ls", "--format", "{{.Name}}")
    assert STACK not in cluster.docker(cluster.manager, "network", "ls", "--format", "{{.Name}}")
    print("\naerospike lab timings (%s):" % ("real server " + cluster.image if cluster.real else "simulator"))
    for label, seconds in TIMINGS:
        print("  %-62s %s" % (label, "" if label.startswith("discovery process memory") else "%.2f s" % seconds))


# --- records through a real server's data path -----------------------------------------------------------

CLIENT = r"""
import json, sys
import aerospike
seeds, count, mode = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
client = aerospike.client({"hosts": [(h, 3000) for h in seeds]}).connect()
found = 0
for i in range(count):
    key = ("test", "aerostack", i)
    if mode == "write":
        client.put(key, {"i": i})
        found += 1
    else:
        _key, _meta, bins = client.get(key)
        found += bins.get("i") == i
client.close()
print(found)
"""


def _outer_pid(cluster, host, container):
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


def _client(cluster, status, count, mode):
    host, container = cluster.container_of(SERVICE)
    pid = _outer_pid(cluster, host, container)
    seeds = [row["address"].rsplit(":", 1)[0] for row in status["nodes"]]
    done = subprocess.run(
        ["nsenter", "--net=/proc/%d/ns/net" % pid, sys.executable, "-c", CLIENT, json.dumps(seeds), str(count), mode],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip())
