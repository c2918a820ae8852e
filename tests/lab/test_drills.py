"""Failure drills (issue 6) on one 5-host lab: each drill does one bad thing to a verified Aerospike cluster on a
3-manager swarm, prints what it did and what it observed (with timings), and fails when the promise breaks.

    scripts/drill                 # all of them, in this order (docs/drills.md)
    scripts/drill restart         # one or several, by the names scripts/drill lists

The drills share the lab ``aerostack-drill`` and run in file order; each leaves the cluster verified for the next.
Each Aerospike instance is bound to a labelled host with its data (a global service): the drills check that an
instance is never moved, only stopped and started again on its own host.
The server is the Aerospike simulator image unless AEROSPIKE_IMAGE names a real server image on the local engine;
then the cut-off drill also writes records before and during the partition and reads every one back, and the
full-outage drill writes records into a namespace in a file before killing every instance and reads them back.

Waits are conditions with deadlines (labtest_helpers.wait_for). The swarm's own timings on this machine kind
(lab-facts): a new leader after ~20 s, a dead node Down after 47-50 s, its tasks rescheduled after ~55 s.
AEROSTACK_DRILL_KEEP=1 leaves the lab up afterwards, and a later run with it set converges that lab instead of
building it again; without it, a lab of the same name left by an earlier run is removed first.
"""

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from aerospike_lab import DISCOVERY_IMAGE, Cluster, RunningSampler, Sampler
from aerospike_lab import assert_stable, changed_tasks, docker_time, log_stamp, seeds_match_members
from labtest_helpers import drill_lab_up, run_ok, wait_for
from simulator_image import simulator_image

from aerostack_lab import Lab
from aerostack_lab.progress import Progress

pytestmark = [pytest.mark.lab, pytest.mark.drill]

LAB = "aerostack-drill"
STACK = "drill"
REPLICAS = 3
# What the promise is measured against: swarm's own failover times on this machine kind, with room for a loaded
# 2-core machine. A wait past these fails the drill with what it was waiting for.
LEADER_TIMEOUT = 90
DOWN_TIMEOUT = 120
HEAL_TIMEOUT = 60
# A playbook that meets a swarm without a leader must stop in its preflight: it has nothing to wait for.
FAIL_FAST_SECONDS = 60
# Words of discovery's log that mean a tip or tip-clear was refused (a duplicate tip answers ERROR::unknown), or
# that the loop itself broke.
DISCOVERY_ERRORS = re.compile(r"ERROR::unknown|\btip(-clear)? \S+ (into|from) \S+ failed|unexpected \w+:|"
                              r"services-alumni-reset on \S+ failed|apply \d+ command")
FIGURES = []
# The outage drill's namespaces: the role's default in-memory one, and one in a file on each instance's data volume.
MEMORY_NAMESPACE = {"name": "test", "replication_factor": 2, "storage": {"type": "memory", "data_size": "1G"},
                    "options": {"nsup-period": 120}}  # fmt: skip
FILE_NAMESPACE = {"name": "persist", "replication_factor": 2, "storage": {"type": "file", "filesize": "1G"}}
RECORDS = 1000
# A device namespace's write buffer reaches the file within flush-max-ms (1000 ms by default): wait twice that.
FLUSH_QUIET = 2.0
# The node label of the hosts that run an Aerospike instance (one each, bound to the host with its data).
PLACEMENT_LABEL = "aerostack.aerospike"


def say(drill, text):
    print("[drill %s] %s" % (drill, text), flush=True)


def figure(drill, label, seconds):
    FIGURES.append((drill, label, seconds))
    say(drill, "%s: %.1f s" % (label, seconds))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The lab aerostack-drill with a 3-manager swarm and a verified cluster of 3 (site.yml); taken down at the end."""
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    lab = Lab(name=LAB, hosts=5, progress=Progress(quiet=not os.environ.get("LAB_VERBOSE")))
    started = time.monotonic()
    try:
        drill_lab_up(lab, lambda text: say("setup", text))
        lab.load([image, DISCOVERY_IMAGE])
        figure("setup", "lab up and images loaded", time.monotonic() - started)
        drilled = Cluster(lab, image, tmp_path_factory.mktemp("drill"), STACK,
                          settings={"swarm_managers_max": 3, "aerospike_replicas": REPLICAS})  # fmt: skip
        done = drilled.playbook("site.yml")
        figure("setup", "site.yml: docker hosts -> 3 managers + 2 workers, verified cluster of %d" % REPLICAS,
               done.seconds)  # fmt: skip
        say("setup", "server: %s" % ("real server " + image if drilled.real else "simulator " + image))
        yield drilled
    finally:
        print("\nfailure drill figures (%s):" % lab.name)
        for drill, label, seconds in FIGURES:
            print("  %-8s %-78s %6.1f s" % (drill, label, seconds))
        print("  total (module): %.0f s" % (time.monotonic() - started))
        if not os.environ.get("AEROSTACK_DRILL_KEEP"):
            lab.down()


# --- observing ------------------------------------------------------------------------------------------------


def stable(views, size):
    """True when ``views`` (Cluster.node_views) are ``size`` nodes that all agree on one cluster of that size."""
    return (
        len(views) == size
        and all(v["size"] == size and v["integrity"] and v["migrations"] == 0 for v in views)
        and len(set(v["key"] for v in views)) == 1
    )


def describe(views):
    return ", ".join(
        "%s %s size %s key %s" % (v["host"], v["address"], v["size"], v["key"]) if v["size"] is not None
        else "%s %s no answer" % (v["host"], v["address"])
        for v in views
    )  # fmt: skip


class ViewSampler(Sampler):
    """``cluster.node_views(hosts)`` about once a second while the ``with`` block runs: ``samples`` is
    ``[(seconds since the block started, views)]``."""

    skipped = (AssertionError, OSError, ValueError)

    def __init__(self, cluster, hosts):
        super().__init__(1.0)
        self.cluster = cluster
        self.hosts = hosts

    def take(self):
        return time.monotonic() - self.started, self.cluster.node_views(self.hosts)

    def judged(self, size, after=0.0, before=float("inf")):
        """The samples taken from ``after`` to ``before`` seconds that show exactly ``size`` nodes (a sample with
        another node count, a replacement joining, is not judged)."""
        return [(at, views) for at, views in self.samples if after <= at < before and len(views) == size]

    def unstable(self, size, after=0.0, before=float("inf")):
        """The judged samples whose nodes do not agree on one stable cluster of ``size``."""
        return [(at, views) for at, views in self.judged(size, after, before) if not stable(views, size)]


def nodes(cluster, via=None):
    """``{hostname: {id, status, availability, manager}}`` as a manager lists them (``manager``: '' for a worker,
    else Leader / Reachable / Unreachable). Raises AssertionError when the manager cannot list them."""
    out = cluster.docker(via or cluster.manager, "node", "ls", "--format",
                         "{{.Hostname}}|{{.ID}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}")  # fmt: skip
    found = {}
    for line in out.splitlines():
        name, ident, status, availability, manager = line.split("|")
        # A host that left and rejoined keeps its old (Down) entry until it is removed: the live one wins.
        if name not in found or found[name]["status"] != "Ready":
            found[name] = {"id": ident, "status": status, "availability": availability, "manager": manager}
    return found


def leader_of(cluster, via):
    """The leader's hostname as ``via`` sees it, or None (no leader, or ``via`` cannot tell)."""
    try:
        listed = nodes(cluster, via)
    except AssertionError:
        return None
    return next((name for name, node in listed.items() if node["manager"] == "Leader"), None)


def discovery_logs(cluster):
    """Every discovery container's log (killed ones included), oldest first."""
    logs = []
    for host in cluster.live_hosts():
        out = cluster.docker(host, "ps", "-a", "-q", "--no-trunc", "--filter",
                             "label=com.docker.swarm.service.name=%s" % cluster.discovery)  # fmt: skip
        for container in out.split():
            created = cluster.inspect(host, container)["Created"]
            logs.append((created, cluster.docker(host, "logs", container)))
    return [text for _created, text in sorted(logs)]


def tipped_both_ways(cluster, address):
    log = cluster.discovery_log()
    return "tip %s:3002 into" % address in log and re.search(r"tip \S+ into %s: ok" % re.escape(address), log)


def task_map(cluster, hosts=None):
    """``{host: [(container id, started at)]}`` of the running Aerospike tasks."""
    found = {}
    for host, container in cluster.containers(cluster.service, hosts):
        found.setdefault(host, []).append((container, cluster.inspect(host, container)["State"]["StartedAt"]))
    return found


def service_nodes(cluster):
    """The hosts (``docker service ps`` NODE) of the Aerospike tasks swarm wants running and that run, sorted."""
    out = cluster.docker(cluster.manager, "service", "ps", cluster.service, "--filter", "desired-state=running",
                         "--format", "{{.Node}}|{{.CurrentState}}")  # fmt: skip
    return sorted(node for node, state in (line.split("|", 1) for line in out.splitlines() if line.strip())
                  if state.startswith("Running"))  # fmt: skip


def labelled_hosts(cluster):
    """The hosts that carry the placement label aerostack.aerospike=true (each runs one instance), sorted."""
    ids = cluster.docker(cluster.manager, "node", "ls", "-q").split()
    listed = json.loads(cluster.docker(cluster.manager, "node", "inspect", *ids))
    return sorted(node["Description"]["Hostname"] for node in listed
                  if (node["Spec"].get("Labels") or {}).get(PLACEMENT_LABEL) == "true")  # fmt: skip


def placement_warning(stdout, host):
    """The role's warning that the labelled ``host`` cannot run its instance now, or None."""
    for line in stdout.splitlines():
        if "cannot run their instance now" in line and re.search(r"\b%s \(" % re.escape(host), line):
            return line.strip(' ",')
    return None


def verified_steps(stdout):
    """The rolling-update steps after which the role printed a verified cluster (``cluster: STABLE``)."""
    steps, current = [], None
    for line in stdout.splitlines():
        found = re.match(r"TASK \[.*Wait until the replacement runs the new spec, step (\d+)\]", line)
        if found:
            current = int(found.group(1))
        elif current is not None and "cluster: STABLE, %d node(s)" % REPLICAS in line and current not in steps:
            steps.append(current)
    return steps


# --- the drills, in order -------------------------------------------------------------------------------------


def test_drain_stops_the_instance_and_activate_brings_it_back_on_the_same_host(cluster):
    """a. Drain a host that runs an Aerospike instance: the instance stops and is NOT moved (it is bound to its host
    with its data); the others stay one verified cluster of N-1 and aerospike.yml passes with a warning that names the
    host. Activating the host brings its instance back there by itself: verified at N again without a deploy."""
    before = task_map(cluster)
    listed = nodes(cluster)
    workers = sorted(h for h in before if not listed[h]["manager"])
    host = (workers or sorted(h for h in before if h != cluster.manager))[0]
    old = cluster.address_of(host, before[host][0][0])
    size = len(before) - 1
    say("drain", "instances on %s (labelled %s); draining %s (instance %s) with playbooks/maintenance.yml"
        % (sorted(before), labelled_hosts(cluster), host, old))
    started = time.monotonic()
    done = cluster.playbook("maintenance.yml", "-e", "maintenance_host=%s" % host, "-e", "maintenance_action=drain")
    figure("drain", "maintenance.yml drain %s (returns when its instance stopped)" % host, done.seconds)
    after = task_map(cluster)
    assert host not in after, "%s still runs an Aerospike instance after the drain: %s" % (host, after)
    assert sorted(after) == sorted(h for h in before if h != host), (
        "an instance was started on another host: before %s, after %s" % (sorted(before), sorted(after)))
    assert all(after[h] == before[h] for h in after), "an instance on another host restarted: %s -> %s" % (
        before, after)
    say("drain", "the instance of %s stopped and was not moved: instances on %s, none restarted"
        % (host, sorted(after)))
    views = wait_for("the other %d nodes to agree on one stable cluster of %d" % (size, size),
                     lambda: stable(cluster.node_views(), size) and cluster.node_views(), timeout=HEAL_TIMEOUT)
    figure("drain", "drain started -> the other %d nodes one stable cluster of %d" % (size, size),
           time.monotonic() - started)  # fmt: skip
    say("drain", "shrunk: %s" % describe(views))
    done = cluster.playbook("aerospike.yml")
    figure("drain", "aerospike.yml with %s drained (verified at %d)" % (host, size), done.seconds)
    assert "cluster: STABLE, %d node(s)" % size in done.stdout, done.stdout[-4000:]
    warning = placement_warning(done.stdout, host)
    assert warning, "aerospike.yml did not warn that %s cannot run its instance:\n%s" % (host, done.stdout[-4000:])
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    assert host not in task_map(cluster), "aerospike.yml started an instance on the drained %s" % host
    say("drain", "aerospike.yml: verified %d, changed=0, said: %s" % (size, warning))
    status = cluster.status()
    assert_stable(status, size)
    assert [row["host"] for row in status["missing"]] == [host], status["missing"]
    assert "drain" in status["missing"][0]["missing"], status["missing"]
    assert host not in [row["host"] for row in status["nodes"]], status["nodes"]
    say("drain", "status.yml: STABLE, %d nodes; missing: %s: %s" % (size, host, status["missing"][0]["missing"]))
    started = time.monotonic()
    done = cluster.playbook("maintenance.yml", "-e", "maintenance_host=%s" % host, "-e", "maintenance_action=activate")
    figure("drain", "maintenance.yml activate %s" % host, done.seconds)
    assert nodes(cluster)[host]["availability"] == "Active"
    back = wait_for("an instance running on %s again" % host,
                    lambda: task_map(cluster, [host]).get(host), timeout=HEAL_TIMEOUT)  # fmt: skip
    figure("drain", "activate started -> the instance running on %s again" % host, time.monotonic() - started)
    assert back[0] not in before[host], "the old container of %s runs again: %s" % (host, back)
    wait_for("docker service ps to show the instances on %s, as before the drain" % sorted(before),
             lambda: service_nodes(cluster) == sorted(before), timeout=HEAL_TIMEOUT)  # fmt: skip
    new = cluster.address_of(host, back[0][0])
    views = wait_for("every node to agree on one stable cluster of %d" % len(before),
                     lambda: stable(cluster.node_views(), len(before)) and cluster.node_views(),
                     timeout=HEAL_TIMEOUT)  # fmt: skip
    figure("drain", "activate started -> one stable cluster of %d on every node (no deploy)" % len(before),
           time.monotonic() - started)  # fmt: skip
    say("drain", "back on %s (address %s, was %s), no playbook: %s" % (host, new, old, describe(views)))
    status = cluster.status()
    assert_stable(status, len(before))
    assert not status["missing"], status["missing"]
    assert seeds_match_members(status), status["nodes"]
    if new != old:
        for row in status["nodes"]:
            assert old + ":3002" not in row["mesh_seeds"], "departed %s still a seed of %s" % (old, row["address"])
    others = dict((h, e) for h, e in before.items() if h != host)
    assert all(task_map(cluster, [h]).get(h) == e for h, e in others.items()), "an instance on another host restarted"
    say("drain", "status.yml: STABLE, %d nodes on %s, nothing missing, every node's seeds = the other members%s; the "
        "other instances never restarted" % (len(before), sorted(r["host"] for r in status["nodes"]),
                                             ", %s tip-cleared" % old if new != old else ""))


def test_restart_every_task_one_by_one_is_verified_after_each(cluster):
    """c. Restart every Aerospike task one at a time (upgrade.yml with the same image): verified after each."""
    before = task_map(cluster)
    old = set(c for tasks in before.values() for c, _s in tasks)
    # The image is the same, so the spec must change for swarm to replace the tasks: a task-level setting (an
    # environment variable) does it, and upgrade.yml rolls any task-level change one task at a time.
    env = dict(cluster.settings.get("aerospike_env") or {"AEROSPIKE_TELEMETRY": "FALSE"},
               AEROSTACK_RESTARTED=time.strftime("%Y%m%dT%H%M%S"))  # fmt: skip
    say("restart", "upgrade.yml with the same image %s and aerospike_env %s" % (cluster.image, env))
    with RunningSampler(cluster) as sampler:
        done = cluster.playbook("upgrade.yml", "-e", json.dumps({"aerospike_env": env}))
    cluster.update_settings(aerospike_env=env)  # what the operator then writes into the inventory
    figure("restart", "upgrade.yml: %d tasks replaced one at a time, verified after each" % REPLICAS, done.seconds)
    assert "stack %s: rollout" % STACK in done.stdout, "upgrade.yml did not roll the tasks:\n" + done.stdout[-3000:]
    steps = verified_steps(done.stdout)
    assert steps == list(range(1, REPLICAS + 1)), "verified after steps %s only:\n%s" % (steps, done.stdout[-4000:])
    say("restart", "the role printed 'cluster: STABLE, %d node(s)' after each of the steps %s" % (REPLICAS, steps))
    assert sampler.samples and min(sampler.samples) >= REPLICAS - 1, "more than one task down at once: %s" % (
        sampler.samples)
    say("restart", "running tasks sampled every 0.3 s during the roll: min %d, max %d (%d samples)"
        % (min(sampler.samples), max(sampler.samples), len(sampler.samples)))
    after = task_map(cluster)
    new = set(c for tasks in after.values() for c, _s in tasks)
    assert not old & new and len(new) == REPLICAS, "not every task was replaced: before %s after %s" % (old, new)
    status = cluster.status()
    assert_stable(status, REPLICAS)
    assert seeds_match_members(status)
    again = cluster.playbook("aerospike.yml")
    assert all(r["changed"] == 0 for r in again.recap.values()), changed_tasks(again.stdout)


def test_killing_the_leader_manager_host(cluster):
    """e. Kill the leader manager host: Aerospike keeps serving; the dead host's instance is not moved (it waits for
    its host); site.yml succeeds on the remaining hosts, reports the lost host and verifies the cluster at the size
    that can run; when the host comes back, its instance rejoins by itself and a re-run restores the planned
    managers."""
    listed = nodes(cluster)
    managers = sorted(n for n, node in listed.items() if node["manager"])
    leader = next(n for n, node in listed.items() if node["manager"] == "Leader")
    others = [m for m in managers if m != leader]
    tasks = task_map(cluster)
    discovery_host = cluster.container_of(cluster.discovery)[0]
    survivors = len([h for h in tasks if h != leader])
    alive = [h.name for h in cluster.lab.hosts if h.name != leader]
    kept = dict((h, e) for h, e in tasks.items() if h != leader)
    say("leader", "managers %s, leader %s; Aerospike instances on %s; discovery on %s"
        % (managers, leader, sorted(tasks), discovery_host))
    cluster.manager = others[0]
    key = cluster.node_views()[0]["key"]
    with ViewSampler(cluster, alive) as sampler:
        cluster.lab.kill(leader)
        say("leader", "killed %s (SIGKILL of the whole host)" % leader)
        settled = 0.0
        if leader in tasks:
            wait_for("the %d surviving Aerospike nodes to form one stable cluster" % survivors,
                     lambda: stable(cluster.node_views(alive), survivors), timeout=HEAL_TIMEOUT)  # fmt: skip
            settled = time.monotonic() - sampler.started
            figure("leader", "kill -> the %d surviving nodes one stable cluster" % survivors, settled)
        new_leader = wait_for("a new leader among %s" % others,
                              lambda: leader_of(cluster, others[0]) or leader_of(cluster, others[1]),
                              timeout=LEADER_TIMEOUT)  # fmt: skip
        figure("leader", "kill -> new leader %s" % new_leader, time.monotonic() - sampler.started)
        cluster.manager = new_leader
        wait_for("swarm to see %s as Down" % leader, lambda: nodes(cluster)[leader]["status"] == "Down",
                 timeout=DOWN_TIMEOUT)  # fmt: skip
        figure("leader", "kill -> swarm marks %s Down" % leader, time.monotonic() - sampler.started)
        if discovery_host == leader:
            wait_for("swarm to run the discovery task of %s elsewhere" % leader,
                     lambda: cluster.running_container(cluster.discovery), timeout=DOWN_TIMEOUT)  # fmt: skip
            figure("leader", "kill -> the discovery task running on another host", time.monotonic() - sampler.started)
    judged = [views for _at, views in sampler.judged(survivors, settled)]
    assert judged and not sampler.unstable(survivors, settled), "Aerospike stopped serving during the failover: %s" % (
        [(round(at, 1), describe(views)) for at, views in sampler.unstable(survivors, settled)])
    if leader not in tasks:
        assert all(v["key"] == key for views in judged for v in views), "the cluster changed with no instance lost"
    say("leader", "Aerospike kept serving: %d samples of the %d surviving nodes from %.0f s on, each one stable "
        "cluster of %d (%s)" % (len(judged), survivors, settled, survivors, describe(judged[-1])))
    done = cluster.playbook("site.yml", check=False)
    figure("leader", "site.yml with %s dead" % leader, done.seconds)
    others_recap = dict((h, r) for h, r in done.recap.items() if h != leader)
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in others_recap.values()), (
        "site.yml failed on the remaining hosts:\n" + done.stdout[-6000:])
    # ansible-playbook exits 4 when a host was unreachable: the docker play could not reach the dead host.
    assert done.returncode in (0, 4) and done.recap[leader]["unreachable"] == 1, done.stdout[-4000:]
    lost = [line.strip(' "') for line in done.stdout.splitlines() if "LOST: %s " % leader in line]
    assert lost, "site.yml did not report %s as lost:\n%s" % (leader, done.stdout[-6000:])
    assert "cluster: STABLE, %d node(s)" % survivors in done.stdout, done.stdout[-4000:]
    say("leader", "site.yml: rc %d, failed=0 on %s, reported %s" % (done.returncode, sorted(others_recap), lost[0]))
    if leader in tasks:
        warning = placement_warning(done.stdout, leader)
        assert warning, "site.yml did not warn that %s cannot run its instance:\n%s" % (leader, done.stdout[-4000:])
        say("leader", "site.yml verified %d and said: %s" % (survivors, warning))
    # Swarm had the whole outage (kill, Down, a site.yml run) to move the dead host's instance: it must not have.
    now = task_map(cluster, alive)
    assert sorted(now) == sorted(kept), "an instance was started on another host: before %s, now %s" % (
        sorted(tasks), sorted(now))
    assert not still_running(kept, now), "instances on the surviving hosts restarted: %s" % still_running(kept, now)
    say("leader", "the instance of %s was not moved: instances on %s, the same containers as before the kill"
        % (leader, sorted(now)))
    started = time.monotonic()
    cluster.lab.start(leader)
    figure("leader", "lab start %s (host ready)" % leader, time.monotonic() - started)
    if leader in tasks:
        back = wait_for("the instance of %s running on it again" % leader,
                        lambda: task_map(cluster, [leader]).get(leader), timeout=DOWN_TIMEOUT)  # fmt: skip
        figure("leader", "lab start -> the instance running on %s again (no playbook)" % leader,
               time.monotonic() - started)  # fmt: skip
        wait_for("docker service ps to show the instances on %s, as before the kill" % sorted(tasks),
                 lambda: service_nodes(cluster) == sorted(tasks), timeout=HEAL_TIMEOUT)  # fmt: skip
        views = wait_for("every node to agree on one stable cluster of %d" % len(tasks),
                         lambda: stable(cluster.node_views(), len(tasks)) and cluster.node_views(),
                         timeout=HEAL_TIMEOUT)  # fmt: skip
        figure("leader", "lab start -> one stable cluster of %d on every node (no playbook)" % len(tasks),
               time.monotonic() - started)  # fmt: skip
        say("leader", "%s's instance rejoined by itself (container %s): %s"
            % (leader, back[0][0][:12], describe(views)))
    done = cluster.playbook("site.yml")
    figure("leader", "site.yml after %s came back" % leader, done.seconds)
    listed = nodes(cluster)
    back = sorted(n for n, node in listed.items() if node["manager"] in ("Leader", "Reachable"))
    assert back == managers, "managers after the re-run: %s, planned %s" % (listed, managers)
    assert all(node["status"] == "Ready" for node in listed.values()), listed
    say("leader", "managers %s all reachable again, every node Ready" % back)
    status = cluster.status()
    assert_stable(status, REPLICAS)
    assert not status["missing"], status["missing"]


def still_running(kept, now):
    """The containers of ``kept`` (a task_map) that no longer run as the same container started at the same time."""
    return [(host, entry) for host, entries in kept.items() for entry in entries if entry not in now.get(host, [])]


def test_losing_two_of_three_managers(cluster):
    """f. Kill two of three managers: every playbook fails fast with "quorum lost" and the recovery steps; the
    recovery playbook (explicit opt-in) restores a working swarm; the Aerospike tasks keep running throughout."""
    listed = nodes(cluster)
    managers = sorted(n for n, node in listed.items() if node["manager"])
    leader = next(n for n, node in listed.items() if node["manager"] == "Leader")
    tasks = task_map(cluster)
    # The two managers to kill: the leader and the one with fewer Aerospike tasks, so that the drill shows the data
    # plane riding out the lost control plane with as many nodes as the placement allows.
    survivor = max((m for m in managers if m != leader), key=lambda m: (len(tasks.get(m, [])), m))
    killed = [m for m in managers if m != survivor]
    alive = [h.name for h in cluster.lab.hosts if h.name not in killed]
    kept = task_map(cluster, alive)
    survivors = sum(len(entries) for entries in kept.values())
    say("quorum", "managers %s (leader %s); killing %s, keeping %s; Aerospike tasks on the kept hosts: %s"
        % (managers, leader, killed, survivor, sorted(kept)))
    cluster.manager = survivor

    def no_leader():
        rc, _out, err = cluster.lab.exec(survivor, ["docker", "node", "ls"])
        return rc != 0 and "leader" in err and err.strip()

    with ViewSampler(cluster, alive) as sampler:
        for host in killed:
            cluster.lab.kill(host)
        wait_for("the %d Aerospike nodes on the kept hosts to form one stable cluster" % survivors,
                 lambda: stable(cluster.node_views(alive), survivors), timeout=HEAL_TIMEOUT)  # fmt: skip
        settled = time.monotonic() - sampler.started
        figure("quorum", "kill -> the %d kept Aerospike nodes one stable cluster" % survivors, settled)
        error = wait_for("%s to report that the swarm has no leader" % survivor, no_leader, timeout=LEADER_TIMEOUT)
        figure("quorum", "kill -> %s: %s" % (survivor, error.split("desc = ")[-1].split(".")[0]),
               time.monotonic() - sampler.started)  # fmt: skip
        for name, extra in (("swarm.yml", ()), ("aerospike.yml", ()), ("scale.yml", ("-e", "aerospike_replicas=4")),
                            ("status.yml", ()), ("upgrade.yml", ()),
                            ("maintenance.yml", ("-e", "maintenance_host=lab4", "-e", "maintenance_action=drain"))):
            done = cluster.playbook(name, *extra, check=False)
            figure("quorum", "%s fails" % name, done.seconds)
            assert done.returncode != 0, "%s succeeded without a leader:\n%s" % (name, done.stdout[-3000:])
            assert "quorum lost" in done.stdout and "swarm_recover.yml" in done.stdout, (
                "%s did not say 'quorum lost' and how to recover:\n%s" % (name, done.stdout[-5000:]))
            assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
            assert done.seconds < FAIL_FAST_SECONDS, "%s took %.0f s to fail" % (name, done.seconds)
            if name == "aerospike.yml":
                said = next(line for line in done.stdout.splitlines() if "quorum lost" in line)
                say("quorum", "aerospike.yml said: %s" % said.split("Action failed: ")[-1].strip())
        refused = cluster.playbook("swarm_recover.yml", "-e", "swarm_recover_host=%s" % survivor, check=False)
        assert refused.returncode != 0 and "swarm_recover_confirm=yes" in refused.stdout, refused.stdout[-3000:]
        assert all(r["changed"] == 0 for r in refused.recap.values()), changed_tasks(refused.stdout)
        say("quorum", "swarm_recover.yml without -e swarm_recover_confirm=yes: refused, nothing changed")
        assert not still_running(kept, task_map(cluster, alive)), "an Aerospike task restarted while the swarm had no "\
            "leader: %s" % still_running(kept, task_map(cluster, alive))
        outage = time.monotonic() - sampler.started
        judged = [views for _at, views in sampler.judged(survivors, settled, outage)]
        assert judged and not sampler.unstable(survivors, settled, outage), "the kept nodes stopped serving: %s" % (
            [(round(at, 1), describe(views)) for at, views in sampler.unstable(survivors, settled, outage)])
        say("quorum", "without a leader for %.0f s: every Aerospike container on %s kept running; %d samples, each one "
            "stable cluster of %d (%s)" % (outage, sorted(kept), len(judged), survivors, describe(judged[-1])))
        done = cluster.playbook("swarm_recover.yml", "-e", "swarm_recover_host=%s" % survivor,
                                "-e", "swarm_recover_confirm=yes", check=False)  # fmt: skip
        figure("quorum", "swarm_recover.yml on %s" % survivor, done.seconds)
        assert done.returncode in (0, 4) and all(
            r["failed"] == 0 for r in done.recap.values()), "swarm_recover.yml failed:\n" + done.stdout[-6000:]
        lost = sorted(set(re.findall(r"LOST: (\S+) \(", done.stdout)))
        assert lost == killed, "swarm_recover.yml reported %s as lost, not %s:\n%s" % (lost, killed, done.stdout[-5000:])
        listed = nodes(cluster, survivor)
        working = sorted(n for n, node in listed.items() if node["manager"] in ("Leader", "Reachable"))
        assert working == [survivor] and listed[survivor]["manager"] == "Leader", "after the recovery: %s" % listed
        # A working control plane takes changes: a label written through Raft and removed again.
        cluster.docker(survivor, "node", "update", "--label-add", "aerostack.drill=recovered", listed[survivor]["id"])
        cluster.docker(survivor, "node", "update", "--label-rm", "aerostack.drill", listed[survivor]["id"])
        say("quorum", "recovered: %s is the leader and takes changes (a node label written and removed); reported "
            "LOST: %s" % (survivor, ", ".join(lost)))
    # docker swarm init --force-new-cluster stops and restarts the swarm node of the recovery host, and with it the
    # tasks there (seen on Docker 20.10): only the tasks of the other surviving hosts can run through the recovery.
    others = dict((h, entries) for h, entries in kept.items() if h != survivor)
    assert not still_running(others, task_map(cluster, alive)), "Aerospike tasks restarted by the recovery: %s" % (
        still_running(others, task_map(cluster, alive)))
    restarted = still_running(dict((h, e) for h, e in kept.items() if h == survivor), task_map(cluster, alive))
    say("quorum", "%s; %s" % (
        "through the recovery the Aerospike containers on %s kept running" % sorted(others) if others
        else "no other kept host runs an Aerospike instance",
        "the instance on the recovery host %s was restarted by docker swarm init --force-new-cluster" % survivor
        if restarted else "no instance ran on the recovery host %s" % survivor))
    started = time.monotonic()
    for host in killed:
        cluster.lab.start(host)
    figure("quorum", "lab start %s" % " ".join(killed), time.monotonic() - started)
    done = cluster.playbook("site.yml", "-e", "swarm_force_rejoin=true")
    figure("quorum", "site.yml -e swarm_force_rejoin=true: the killed hosts rejoin as managers", done.seconds)
    listed = nodes(cluster, survivor)
    assert all(node["status"] == "Ready" for node in listed.values()), listed
    back = sorted(n for n, node in listed.items() if node["manager"] in ("Leader", "Reachable"))
    assert back == managers, "managers after the rejoin: %s, planned %s" % (listed, managers)
    status = cluster.status()
    assert_stable(status, REPLICAS)
    assert not still_running(others, task_map(cluster, alive)), "an Aerospike task restarted when the hosts rejoined"
    say("quorum", "every node Ready, managers %s; cluster of %d STABLE; the tasks on %s still never restarted"
        % (back, REPLICAS, sorted(others)))


def host_to_cut(cluster, tasks):
    """The host a cut-off drill disconnects: the first of ``tasks`` (task_map) that is a worker, else the first that
    is not the manager the drills work through."""
    listed = nodes(cluster)
    workers = [h for h in tasks if not listed[h]["manager"]]
    return (workers or [h for h in tasks if h != cluster.manager])[0]


def test_a_host_cut_off_the_network_rejoins(cluster):
    """d. Cut one Aerospike host off the network and reconnect it: the cluster shrinks, then heals by itself to the
    full size; aerospike.yml then verifies it and changes nothing. With a real server, no acknowledged write is lost."""
    tasks = task_map(cluster)
    host = host_to_cut(cluster, tasks)
    survivors = [h for h in tasks if h != host]
    via = cluster.containers(cluster.service, [survivors[0]])[0]
    status = cluster.status()
    if cluster.real:
        assert cluster.client(status, 1000, "write", via=via) == 1000
        say("cut", "wrote records 0-999 (acknowledged) through %s" % survivors[0])
    say("cut", "disconnecting %s (Aerospike task %s) from the lab network" % (
        host, cluster.address_of(host, tasks[host][0][0])))
    started = time.monotonic()
    cluster.lab.disconnect(host)
    try:
        views = wait_for("the %d other nodes to form one stable cluster without %s" % (len(survivors), host),
                         lambda: stable(cluster.node_views(survivors), len(survivors)) and cluster.node_views(),
                         timeout=HEAL_TIMEOUT)  # fmt: skip
        figure("cut", "disconnect -> the other %d nodes stable at %d" % (len(survivors), len(survivors)),
               time.monotonic() - started)  # fmt: skip
        say("cut", "shrunk: %s" % describe(views))
        if cluster.real:
            assert cluster.client(status, 1000, "write", start=1000, via=via) == 1000
            say("cut", "wrote records 1000-1999 (acknowledged) through %s during the partition" % survivors[0])
    finally:
        cluster.lab.connect(host)
    started = time.monotonic()
    views = wait_for("all %d nodes to agree on one stable cluster again" % REPLICAS,
                     lambda: stable(cluster.node_views(), REPLICAS) and cluster.node_views(), timeout=HEAL_TIMEOUT)
    figure("cut", "reconnect -> one stable cluster of %d again (no playbook)" % REPLICAS, time.monotonic() - started)
    say("cut", "healed: %s" % describe(views))
    assert task_map(cluster)[host] == tasks[host], "swarm replaced the task of %s" % host
    done = cluster.playbook("aerospike.yml")
    figure("cut", "aerospike.yml after the heal (verified, changed=0)", done.seconds)
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    assert "cluster: STABLE, %d node(s)" % REPLICAS in done.stdout
    if cluster.real:
        assert cluster.client(cluster.status(), 2000, "read", via=via) == 2000
        say("cut", "read back all 2000 acknowledged records")


def volume_created(cluster, host, volume):
    """When the local ``volume`` on ``host`` was created (Docker's CreatedAt): the same value later means the same
    volume, not one removed and made again."""
    return cluster.docker(host, "volume", "inspect", "--format", "{{.CreatedAt}}", volume).strip()


def with_file_namespace(cluster, drill):
    """Give the stack the namespace in a file (each instance's data volume) unless it has it already."""
    wanted = [MEMORY_NAMESPACE, FILE_NAMESPACE]
    if cluster.settings.get("aerospike_namespaces") != wanted:
        cluster.update_settings(aerospike_namespaces=wanted)  # what the operator writes into the inventory
        done = cluster.playbook("aerospike.yml")
        figure(drill, "aerospike.yml: namespace %s in a file added (rolled one instance at a time)"
               % FILE_NAMESPACE["name"], done.seconds)  # fmt: skip
        assert "cluster: STABLE, %d node(s)" % len(task_map(cluster)) in done.stdout, done.stdout[-4000:]


def test_full_outage_every_instance_comes_back_on_its_own_host_with_its_data(cluster):
    """g. Kill every Aerospike instance at once, on a stack with a namespace in a file: each instance comes back on its
    own host with the same data volume (no volume mounted by two instances) and the cluster is verified again, with
    no playbook. With a real server, the 1000 records written before the outage are all read back."""
    with_file_namespace(cluster, "outage")
    before = task_map(cluster)
    hosts = sorted(before)
    size = len(hosts)
    volume = "%s_aerospike-data" % STACK
    assert hosts == labelled_hosts(cluster), "instances on %s, labelled %s" % (hosts, labelled_hosts(cluster))
    assert all(len(entries) == 1 for entries in before.values()), "a host runs two instances: %s" % before
    for host in hosts:
        mounted = [name for name, _dest in cluster.volumes_of(host, before[host][0][0])]
        assert mounted == [volume], "the instance on %s mounts %s, not %s" % (host, mounted, volume)
    created = dict((host, volume_created(cluster, host, volume)) for host in hosts)
    say("outage", "instances on %s, each mounting its host's volume %s (created %s)"
        % (hosts, volume, ", ".join("%s %s" % (h, created[h]) for h in hosts)))
    if cluster.real:
        status = cluster.status()
        written = cluster.client(status, RECORDS, "write", namespace=FILE_NAMESPACE["name"])
        assert written == RECORDS, "%d of %d writes acknowledged" % (written, RECORDS)
        wrote = time.monotonic()
        copies = RECORDS * FILE_NAMESPACE["replication_factor"]
        # A device namespace keeps writes in its write buffer for up to flush-max-ms (1000 ms by default) before they
        # reach the file, and Community Edition has no commit-to-device: a kill sooner could lose acknowledged
        # writes by design, which is not what this drill is about.
        wait_for("%.0f s of quiet after the writes (flush-max-ms 1000) and %d record copies on the nodes"
                 % (FLUSH_QUIET, copies),
                 lambda: time.monotonic() - wrote >= FLUSH_QUIET and sum(
                     v["objects"] or 0 for v in cluster.namespace_views(FILE_NAMESPACE["name"])) == copies,
                 timeout=HEAL_TIMEOUT)  # fmt: skip
        say("outage", "wrote records 0-%d into %s (acknowledged); waited %.1f s of quiet before the kill (the write "
            "buffer reaches the file within flush-max-ms = 1000 ms); %d copies on the nodes"
            % (RECORDS - 1, FILE_NAMESPACE["name"], time.monotonic() - wrote, copies))
    targets = [(host, before[host][0][0]) for host in hosts]
    killed = set(container for _host, container in targets)
    gate = threading.Barrier(len(targets))
    sent = {}

    def kill(target):
        host, container = target
        gate.wait()
        sent[host] = time.monotonic()
        cluster.docker(host, "kill", container)
        return time.monotonic()

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        started = time.monotonic()
        returned = list(pool.map(kill, targets))
    # docker kill goes through docker exec into each lab host, which takes seconds on a loaded machine: when the
    # instances really died is their containers' FinishedAt.
    died = [docker_time(cluster.inspect(host, container)["State"]["FinishedAt"]) for host, container in targets]
    say("outage", "docker kill of the %d instances on %s, in parallel: sent within %.2f s, all returned after %.1f s; "
        "the containers died within %.1f s of each other (FinishedAt)" % (
            len(targets), hosts, max(sent.values()) - min(sent.values()), max(returned) - started,
            max(died) - min(died)))

    def all_back():
        now = task_map(cluster)
        strays = sorted(h for h in now if h not in hosts)
        assert not strays, "an instance started on %s, which had none: %s" % (strays, now)
        if sorted(now) == hosts and all(len(e) == 1 and e[0][0] not in killed for e in now.values()):
            return now
        return None

    after = wait_for("a new instance running on each of %s" % hosts, all_back, timeout=HEAL_TIMEOUT)
    figure("outage", "kill -> a new instance running on each of the %d hosts" % size, time.monotonic() - started)
    views = wait_for("every node to agree on one stable cluster of %d" % size,
                     lambda: stable(cluster.node_views(), size) and cluster.node_views(), timeout=HEAL_TIMEOUT)
    figure("outage", "kill -> one stable cluster of %d on every node (no playbook)" % size, time.monotonic() - started)
    say("outage", "back: %s" % describe(views))
    wait_for("docker service ps to show the instances on %s, as before the outage" % hosts,
             lambda: service_nodes(cluster) == hosts, timeout=HEAL_TIMEOUT)  # fmt: skip
    mounts = dict((host, cluster.volumes_of(host, after[host][0][0])) for host in hosts)
    for host in hosts:
        assert [name for name, _dest in mounts[host]] == [volume], "the new instance on %s mounts %s, not %s" % (
            host, mounts[host], volume)
        assert volume_created(cluster, host, volume) == created[host], "the volume %s on %s was made again" % (
            volume, host)
    pairs = [(host, name) for host in hosts for name, _dest in mounts[host]]
    assert len(pairs) == len(set(pairs)), "a volume is mounted by two instances: %s" % mounts
    say("outage", "docker service ps: instances on %s; each new container mounts its own host's %s (the same volume: "
        "same CreatedAt), no volume mounted by two instances" % (service_nodes(cluster), volume))
    status = cluster.status()
    assert_stable(status, size)
    assert not status["missing"], status["missing"]
    assert seeds_match_members(status), status["nodes"]
    assert sorted(row["host"] for row in status["nodes"]) == hosts, status["nodes"]
    assert all(row["volume"] == volume for row in status["nodes"]), status["nodes"]
    say("outage", "status.yml: STABLE, %d nodes on %s, each with volume %s, nothing missing" % (size, hosts, volume))
    if cluster.real:
        read = cluster.client(status, RECORDS, "read", namespace=FILE_NAMESPACE["name"])
        say("outage", "read back %d of the %d records written into %s before the outage" % (
            read, RECORDS, FILE_NAMESPACE["name"]))
        assert read == RECORDS, "%d of %d records came back after the outage" % (read, RECORDS)
    else:
        say("outage", "record check skipped: the simulator has no data path (AEROSPIKE_IMAGE=<server image> runs it)")


def task_states(cluster, host):
    """``{task id: (desired state, current state)}`` of the Aerospike tasks a manager lists for ``host``."""
    out = cluster.docker(cluster.manager, "service", "ps", cluster.service, "--no-trunc", "--filter", "node=%s" % host,
                         "--format", "{{.ID}}|{{.DesiredState}}|{{.CurrentState}}")  # fmt: skip
    return dict((ident, (desired, current)) for ident, desired, current in
                (line.split("|") for line in out.splitlines() if line.strip()))  # fmt: skip


def first_log_time(cluster, host, container):
    """When ``container`` wrote its first log line (Docker's timestamp), or None before it wrote any. Both streams:
    the simulator logs to stdout, a real server to stderr."""
    out = run_ok(cluster.lab, host, ["sh", "-c", 'docker logs --timestamps "$0" 2>&1', container], "docker logs")
    lines = [line for line in out.splitlines() if line.strip()]
    return docker_time(lines[0].split(" ", 1)[0]) if lines else None


def test_a_host_cut_off_past_node_down_starts_its_new_instance_after_the_old_one_exits(cluster):
    """h. Cut an Aerospike host off for longer than swarm's node-down time, on the stack with a namespace in a file:
    swarm marks the node Down and tells its task to shut down, and when the host is back it starts a new task there
    while the old one may still be stopping. The new server must not start before the old one has exited (both would
    open the same data file): it waits on the data volume's lock. The cluster heals to its size with no playbook."""
    with_file_namespace(cluster, "longcut")
    tasks = task_map(cluster)
    host = host_to_cut(cluster, tasks)
    old = tasks[host][0][0]
    old_task = cluster.inspect(host, old)["Config"]["Labels"]["com.docker.swarm.task.id"]
    size = len(tasks)
    say("longcut", "disconnecting %s (Aerospike container %s, task %s) until swarm has marked it Down and told its "
        "task to shut down" % (host, old[:12], old_task[:12]))
    started = time.monotonic()
    cluster.lab.disconnect(host)
    try:
        wait_for("the managers to mark %s Down" % host, lambda: nodes(cluster)[host]["status"] == "Down",
                 timeout=DOWN_TIMEOUT)  # fmt: skip
        figure("longcut", "disconnect -> %s Down" % host, time.monotonic() - started)
        wait_for("swarm to tell the task %s on %s to shut down" % (old_task[:12], host),
                 lambda: task_states(cluster, host).get(old_task, ("?",))[0] == "Shutdown", timeout=HEAL_TIMEOUT)
        figure("longcut", "disconnect -> its task's desired state Shutdown", time.monotonic() - started)
    finally:
        cluster.lab.connect(host)
    started = time.monotonic()

    def replaced():
        now = task_map(cluster, [host]).get(host, [])
        return len(now) == 1 and now[0][0] != old and now[0][0]

    new = wait_for("a new instance running on %s" % host, replaced, timeout=HEAL_TIMEOUT)
    views = wait_for("every node to agree on one stable cluster of %d" % size,
                     lambda: stable(cluster.node_views(), size) and cluster.node_views(), timeout=HEAL_TIMEOUT)
    figure("longcut", "reconnect -> one stable cluster of %d on every node (no playbook)" % size,
           time.monotonic() - started)  # fmt: skip
    say("longcut", "healed: %s" % describe(views))
    old_state = cluster.inspect(host, old)["State"]
    assert not old_state["Running"], "the old instance %s on %s still runs" % (old[:12], host)
    new_started = cluster.inspect(host, new)["State"]["StartedAt"]
    exited = docker_time(old_state["FinishedAt"])
    served = first_log_time(cluster, host, new)
    assert served is not None, "the new instance %s on %s has written no log line" % (new[:12], host)
    held = exited - docker_time(new_started)
    say("longcut", "old container exited %s; new container started %s (%s); its server's first log line %.2f s after "
        "the old one exited" % (
            old_state["FinishedAt"], new_started,
            "%.2f s before the old one exited: the lock held it back" % held if held > 0
            else "%.2f s after the old one exited: no overlap this time" % -held, served - exited))
    assert served >= exited, (
        "the new instance on %s wrote its first log line %.2f s before the old one exited: two servers on one data "
        "volume" % (host, exited - served))
    mounted = [name for name, _dest in cluster.volumes_of(host, new)]
    assert mounted == ["%s_aerospike-data" % STACK], "the new instance on %s mounts %s" % (host, mounted)
    assert_stable(cluster.status(), size)


def test_scale_up_survives_discovery_killed_three_times(cluster):
    """b. Kill the discovery task three times during a scale-up 3 -> 5: the scale-up still verifies, and discovery
    never logs a refused (duplicate) tip or a failure of its own."""
    target = 5
    outcome = {}
    before = labelled_hosts(cluster)
    # Scale-up labels the next hosts of aerospike_nodes in inventory order (the lab's inventory: lab1 .. lab5).
    expected = [h.name for h in cluster.lab.hosts if h.name not in before][:target - len(before)]
    say("scale", "instances on %s; scale.yml 3 -> %d should label %s" % (before, target, expected))

    def scale():
        outcome["done"] = cluster.playbook("scale.yml", "-e", "aerospike_replicas=%d" % target, check=False)

    started = time.monotonic()
    runner = threading.Thread(target=scale, daemon=True)
    runner.start()
    killed = []
    try:
        wait_for("scale.yml to label %d hosts" % target, lambda: len(labelled_hosts(cluster)) == target,
                 timeout=120)  # fmt: skip
        for number in range(1, 4):
            def fresh_discovery():
                found = cluster.running_container(cluster.discovery)
                if found and found[1] not in killed and "dns tasks." in cluster.docker(found[0], "logs", found[1]):
                    return found
                return None

            host, container = wait_for("a discovery task that has read DNS (kill %d)" % number, fresh_discovery,
                                       timeout=60)  # fmt: skip
            cluster.docker(host, "kill", container)
            killed.append(container)
            say("scale", "kill %d of the discovery task %s on %s, %.1f s into the scale-up"
                % (number, container[:12], host, time.monotonic() - started))
    finally:
        runner.join(600)
    done = outcome["done"]
    figure("scale", "scale.yml 3 -> %d with discovery killed %d times" % (target, len(killed)), done.seconds)
    assert done.returncode == 0, "the scale-up failed:\n" + done.stdout[-6000:]
    assert "cluster: STABLE, %d node(s)" % target in done.stdout
    cluster.update_settings(aerospike_replicas=target)
    status = cluster.status()
    assert_stable(status, target)
    assert seeds_match_members(status), status["nodes"]
    hosts = sorted(row["host"] for row in status["nodes"])
    assert hosts == sorted(before + expected) and labelled_hosts(cluster) == hosts, (
        "instances on %s, labelled %s; expected %s" % (hosts, labelled_hosts(cluster), sorted(before + expected)))
    say("scale", "instances on %s: %s added in inventory order" % (hosts, ", ".join(expected)))
    logs = discovery_logs(cluster)
    errors = [line for text in logs for line in text.splitlines() if DISCOVERY_ERRORS.search(line)]
    assert not errors, "discovery logged refused tips or failures:\n" + "\n".join(errors)
    lines = [line for text in logs for line in text.splitlines()]
    tips = [line for line in lines if re.search(r" tip \S+ into \S+: ok", line)]
    # A read of a member's seeds that times out is retried by the next round; it is not a refused or failed tip.
    queries = [line for line in lines if " query " in line and " failed" in line]
    say("scale", "discovery: %d containers, %d tips answered ok, none refused, no failed tip, tip-clear or reset; "
        "%d seed reads retried:" % (len(logs), len(tips), len(queries)))
    for line in queries:
        say("scale", "  " + line)
    new = [row["address"].rsplit(":", 1)[0] for row in status["nodes"] if row["host"] in expected]
    for address in new:
        started_at = cluster.task_started(address)
        # An address can be reused by a later task: the first tip after this task started.
        first = next((line for line in lines if "tip %s:3002 into" % address in line
                      and started_at is not None and log_stamp(line) >= started_at - 1), None)  # fmt: skip
        if first is not None:
            figure("scale", "task start -> first tip of %s" % address, log_stamp(first) - started_at)
