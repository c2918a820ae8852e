"""The aerospike role on the 5-host lab: site.yml from plain docker hosts to a verified cluster, instances bound to
their hosts with their data (kills, a full outage, a host down and back, a host replaced for good), scaling both ways,
stale data refused, a killed discovery task, an idempotent re-run, verified rolling updates that remove a namespace
and add one (a third refused, as Community Edition refuses it), teardown.

The server is the Aerospike simulator image unless AEROSPIKE_IMAGE names a real server image on the local
engine (then records are also written and read back: through a scale-down, a full outage of a file namespace, and a
namespace added by a rolling update while a client writes).

    python -m pytest -m lab -s tests/lab/test_aerospike_cluster.py

Timings are printed at the end (never asserted).
"""

import collections
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

import pytest
from aerospike_lab import (
    DISCOVERY_IMAGE,
    Cluster,
    RunningSampler,
    assert_stable,
    changed_tasks,
    log_stamp,
    seeds_match_members,
)
from labtest_helpers import run_ok, wait_for
from simulator_image import simulator_image

pytestmark = pytest.mark.lab

STACK = "astest"
SERVICE = STACK + "_aerospike"
DISCOVERY = STACK + "_discovery"
VOLUME = STACK + "_aerospike-data"
# An in-memory namespace and one on a file in the instance's data volume, as inventories/prod has.
NAMESPACES = [
    {"name": "test", "replication_factor": 2, "storage": {"type": "memory", "data_size": "1G"},
     "options": {"nsup-period": 120}},
    {"name": "persist", "replication_factor": 2, "storage": {"type": "file", "filesize": "1G"}},
]


@pytest.fixture(scope="module")
def cluster(make_lab, tmp_path_factory):
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    lab = make_lab("aerospike", hosts=5)
    lab.load([image, DISCOVERY_IMAGE])
    return Cluster(lab, image, tmp_path_factory.mktemp("aerospike"), STACK, settings={"aerospike_namespaces": NAMESPACES})


def assert_bound(cluster, hosts):
    """One running instance on each of ``hosts`` and nowhere else, each mounting its host's data volume, and swarm never
    placed a task of the service on another host."""
    instances = cluster.instances()
    assert sorted(instances) == sorted(hosts), instances
    for host, (container, volumes) in instances.items():
        assert volumes == [VOLUME], "%s on %s mounts %s" % (container, host, volumes)
    assert set(cluster.placement()) <= set(hosts) | set(cluster.departed_hosts), cluster.placement()
    return instances


def wait_stable_views(cluster, size, what, timeout=180):
    """Wait until every running instance, asked from inside its own network namespace, reports one cluster of ``size``
    with migrations done; at the deadline, fail with every view."""
    seen = {}

    def stable():
        views = seen["views"] = cluster.node_views()
        return (len(views) == size and all(v["size"] == size and not v["migrations"] for v in views)
                and len(set(v["key"] for v in views)) == 1)
    try:
        wait_for(what, stable, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError("%s; the last views: %s" % (exc, seen.get("views"))) from None


def test_preflight_refuses_more_replicas_than_aerospike_hosts_and_changes_nothing(cluster):
    done = cluster.playbook("aerospike.yml", "-e", "aerospike_replicas=6", check=False)
    assert done.returncode != 0
    assert "aerospike_replicas is 6 but only 5 host(s) are in the aerospike_nodes group" in done.stdout
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)


def test_site_forms_the_swarm_and_a_verified_cluster_of_three(cluster):
    swarm = cluster.playbook("swarm.yml")
    cluster.timing("swarm.yml: plain docker hosts -> formed swarm", swarm.seconds)
    deploy = cluster.playbook("aerospike.yml")
    cluster.timing("formed swarm -> verified 3 (aerospike.yml)", deploy.seconds)
    assert "Aerospike verification FAILED" not in deploy.stdout
    status = cluster.status()
    assert_stable(status, 3)
    assert seeds_match_members(status)
    assert status["discovery_running"] == 1
    assert all(row["simulator"] is not cluster.real for row in status["nodes"])
    # Placement: the first 3 hosts of aerospike_nodes, each instance with its host's data volume, shown by status.
    assert status["hosts"] == ["lab1", "lab2", "lab3"] and status["missing"] == []
    assert [(row["host"], row["volume"]) for row in status["nodes"]] == [(h, VOLUME) for h in ("lab1", "lab2", "lab3")]
    assert_bound(cluster, ["lab1", "lab2", "lab3"])


def test_site_rerun_changes_nothing(cluster):
    done = cluster.playbook("site.yml")
    cluster.timing("site.yml re-run (changed=0)", done.seconds)
    changed = dict((host, r["changed"]) for host, r in done.recap.items() if r["changed"])
    assert changed == {}, "site.yml re-run changed something: %s\n%s" % (changed, done.stdout[-4000:])


def test_an_open_files_limit_the_engines_cannot_give_is_refused_before_anything_changes(cluster):
    """The lab's engines inherit this machine's open-files limit and run without CAP_SYS_RESOURCE: a task asking for
    more would never start ('error setting rlimit type 7'). The preflight reads each engine's limits in the same
    round trip as its swarm state and refuses."""
    engine = run_ok(cluster.lab, "lab1", ["sh", "-c", "cat /proc/$(pidof dockerd)/limits /proc/$(pidof dockerd)/status"],
                    "read the engine's limits")  # fmt: skip
    hard = re.search(r"^Max open files\s+\S+\s+(\S+)", engine, re.M).group(1)
    caps = int(re.search(r"^CapEff:\s+(\S+)", engine, re.M).group(1), 16)
    if not hard.isdigit() or caps & (1 << 24):
        pytest.skip("the lab's engines can give any open-files limit here (limit %s, CapEff %x)" % (hard, caps))
    before = cluster.containers(SERVICE, ["lab1", "lab2", "lab3"])
    done = cluster.playbook("aerospike.yml", "-e", "aerospike_nofile=%d" % (int(hard) + 1), check=False)
    assert done.returncode != 0
    assert "aerospike_nofile %d is above the open-files limit %s of the Docker engine on lab1" % (
        int(hard) + 1, hard) in done.stdout
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    assert cluster.containers(SERVICE, ["lab1", "lab2", "lab3"]) == before


def test_scale_up_to_five_is_verified_and_tips_new_tasks_quickly(cluster):
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=5")
    cluster.timing("scale 3 -> 5 -> verified (scale.yml)", done.seconds)
    status = cluster.status()
    assert_stable(status, 5)
    assert seeds_match_members(status)
    # DNS appearance -> tip latency: a new task's start (its container) to discovery's first tip naming it.
    log = cluster.discovery_log()
    assert status["hosts"] == ["lab1", "lab2", "lab3", "lab4", "lab5"]
    assert_bound(cluster, ["lab1", "lab2", "lab3", "lab4", "lab5"])
    for row in status["nodes"]:
        if row["host"] not in ("lab4", "lab5"):
            continue
        address = row["address"].rsplit(":", 1)[0]
        tip = next((line for line in log.splitlines() if "tip %s:3002 into" % address in line), None)
        assert tip is not None, "discovery never tipped %s:\n%s" % (address, log[-3000:])
        started = cluster.task_started(address)
        if started is not None:
            cluster.timing("task start -> first tip of %s (%s)" % (address, row["host"]), log_stamp(tip) - started)


def test_scale_down_below_the_replication_factor_is_refused(cluster):
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=1", check=False)
    assert done.returncode != 0
    assert "namespace test has replication_factor 2 but aerospike_replicas is 1" in done.stdout
    assert len(cluster.running_states()) == 5


def test_scale_down_to_three_is_verified_and_clears_departed_seeds(cluster):
    before = cluster.status()
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=3")
    cluster.timing("scale 5 -> 3, one node at a time, verified (scale.yml)", done.seconds)
    status = cluster.status()
    assert_stable(status, 3)
    # The last hosts in inventory order lost their instance, one at a time, and their data volume with it.
    assert status["hosts"] == ["lab1", "lab2", "lab3"]
    assert done.stdout.index("Take the label away, so swarm stops the instance of lab5") < done.stdout.index(
        "Take the label away, so swarm stops the instance of lab4")
    cluster.departed_hosts.update(["lab4", "lab5"])
    assert_bound(cluster, ["lab1", "lab2", "lab3"])
    for host in ("lab4", "lab5"):
        assert VOLUME not in cluster.docker(host, "volume", "ls", "-q").split(), "%s kept its data volume" % host
    departed = set(r["address"].rsplit(":", 1)[0] for r in before["nodes"]) - set(
        r["address"].rsplit(":", 1)[0] for r in status["nodes"]
    )
    assert len(departed) == 2
    for row in status["nodes"]:
        assert not departed & set(seed.rsplit(":", 1)[0] for seed in row["mesh_seeds"]), row
    assert seeds_match_members(status)


def test_a_host_with_stale_data_is_refused_until_the_volume_is_removed(cluster):
    # lab4 left the cluster; a volume of the stack there now is an earlier instance's data (here: made by hand).
    cluster.docker("lab4", "volume", "create", VOLUME)
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=4", check=False)
    assert done.returncode != 0
    assert (
        "lab4 holds the data volume astest_aerospike-data of an earlier instance of stack astest: it left the running "
        "cluster, so its records may be stale (and in Community Edition a record deleted meanwhile could come back). A "
        "new instance must start empty there. Remove the volume (on lab4: docker volume rm astest_aerospike-data) or "
        "re-run with -e aerospike_remove_stale_data=true. Nothing was changed.") in done.stdout
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    labels = cluster.docker(cluster.manager, "node", "inspect", "lab4", "--format", "{{json .Spec.Labels}}")
    assert "aerostack.aerospike" not in labels
    assert sorted(cluster.instances()) == ["lab1", "lab2", "lab3"]
    cluster.docker("lab4", "volume", "rm", VOLUME)


def test_a_killed_instance_comes_back_on_its_host_with_its_volume_five_times(cluster):
    started = time.monotonic()
    killed = []
    for round_ in range(1, 6):
        instances = cluster.instances()
        container = instances["lab2"][0]
        killed.append(cluster.address_of("lab2", container))
        cluster.docker("lab2", "kill", container)

        def back():
            now = cluster.instances()
            return sorted(now) == ["lab1", "lab2", "lab3"] and now["lab2"][0] != container

        wait_for("the instance of lab2 back on lab2 after kill %d" % round_, back, timeout=120)
        instances = assert_bound(cluster, ["lab1", "lab2", "lab3"])
        assert instances["lab2"][1] == [VOLUME]
    # Every round checked that swarm placed the service's tasks on lab1-3 only and lab2's replacement on lab2.
    cluster.timing("5 kills of lab2's instance -> each back on lab2 (total)", time.monotonic() - started)
    host, container = "lab2", cluster.instances()["lab2"][0]
    fresh = cluster.address_of(host, container)
    wait_for("discovery to tip the replacement %s both ways" % fresh,
             lambda: "tip %s:3002 into" % fresh in cluster.discovery_log()
             and re.search(r"tip \S+ into %s: ok" % re.escape(fresh), cluster.discovery_log()), timeout=60)
    done = cluster.playbook("aerospike.yml")
    assert all(r["changed"] == 0 for r in done.recap.values()), "the replacement needed no deploy; " + changed_tasks(done.stdout)
    status = cluster.status()
    assert_stable(status, 3)
    stale = set(killed) - {fresh}
    for row in status["nodes"]:
        assert not stale & set(seed.rsplit(":", 1)[0] for seed in row["mesh_seeds"]), row
    assert seeds_match_members(status)


def test_every_instance_killed_at_once_comes_back_on_its_own_host(cluster):
    before = cluster.instances()
    written = 0
    if cluster.real:
        written = cluster.client(cluster.status(), 1000, "write", namespace="persist")
        assert written == 1000
        # A device namespace buffers writes for up to flush-max-ms (1000 ms by default) before they reach the file.
        quiet_until = time.monotonic() + 2.5
        wait_for("2.5 s of quiet after the writes (flush-max-ms 1000)", lambda: time.monotonic() >= quiet_until)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda item: cluster.docker(item[0], "kill", item[1][0]), before.items()))

    def all_back():
        now = cluster.instances()
        return sorted(now) == sorted(before) and all(now[h][0] != before[h][0] for h in before)

    wait_for("every instance running again after the full outage", all_back, timeout=180)
    cluster.timing("full outage (3 instances killed at once) -> all running again", time.monotonic() - started)
    instances = assert_bound(cluster, sorted(before))
    # Each host's new instance mounts that host's volume: no volume is mounted by another instance.
    assert all(instances[h][1] == before[h][1] == [VOLUME] for h in before)
    wait_stable_views(cluster, 3, "one stable cluster of 3 after the full outage")
    cluster.timing("full outage -> one stable cluster of 3 (every node's own view)", time.monotonic() - started)
    done = cluster.playbook("aerospike.yml")
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    status = cluster.status()
    assert_stable(status, 3)
    if cluster.real:
        assert cluster.client(status, 1000, "read", namespace="persist") == written


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
        cluster.timing("discovery process memory (%s)" % rss[0].split(":", 1)[1].strip(), 0.0)


def test_real_server_keeps_every_record_through_scale_down(cluster):
    if not cluster.real:
        pytest.skip("records need a real server's data path; the simulator has none (set AEROSPIKE_IMAGE)")
    cluster.playbook("scale.yml", "-e", "aerospike_replicas=4")
    written = cluster.client(cluster.status(), 1000, "write")
    assert written == 1000
    cluster.playbook("scale.yml", "-e", "aerospike_replicas=3")
    status = cluster.status()
    assert_stable(status, 3)
    assert cluster.client(status, 1000, "read") == 1000


def roll_namespaces(cluster, namespaces, writer=None):
    """aerospike.yml with ``namespaces`` while the running tasks are sampled (and ``writer()`` is called once a second
    until the run ends, when given); asserts a rollout verified before and after each of the 3 steps, never more
    than one task down, one configuration left, and a re-run that changes nothing. Returns the run."""
    change = json.dumps({"aerospike_namespaces": namespaces})
    with RunningSampler(cluster) as sampler, ThreadPoolExecutor(max_workers=1) as pool:
        rolling = pool.submit(cluster.playbook, "aerospike.yml", "-e", change, check=False)
        while writer and not rolling.done():
            started = time.monotonic()
            writer()
            futures_wait([rolling], timeout=max(0.0, started + 1.0 - time.monotonic()))
        done = rolling.result()
    assert done.returncode == 0, done.stdout[-4000:]
    cluster.update_settings(aerospike_namespaces=namespaces)  # the next tests start from what runs, even after a miss
    assert "stack %s: rollout" % STACK in done.stdout
    assert done.stdout.count("cluster: STABLE, 3 node(s)") >= 4  # before, and after each of the 3 tasks
    assert sampler.samples and min(sampler.samples) >= 2, "more than one task was down at once: %s" % sampler.samples
    status = cluster.status()
    assert_stable(status, 3)
    names = sorted(ns["name"] for ns in namespaces)
    assert all(sorted(row["objects"]) == names for row in status["nodes"]), status["nodes"]
    assert_bound(cluster, ["lab1", "lab2", "lab3"])
    configs = cluster.docker(cluster.manager, "config", "ls", "--format", "{{.Name}}").split()
    assert len([c for c in configs if c.startswith(STACK + "_aerospike_conf_")]) == 1, configs
    again = cluster.playbook("aerospike.yml", "-e", change)
    assert all(r["changed"] == 0 for r in again.recap.values()), changed_tasks(again.stdout)
    return done


def test_a_third_namespace_is_refused_before_anything_changes(cluster):
    """A Community Edition server stops at start with a third namespace ('too many namespaces (max is 2)'), and so
    does the simulator: the preflight refuses it and the running tasks stay as they are."""
    extra = {"name": "extra", "replication_factor": 2, "storage": {"type": "memory", "data_size": "512M"}}
    before = cluster.containers(SERVICE, ["lab1", "lab2", "lab3"])
    done = cluster.playbook("aerospike.yml", "-e", json.dumps({"aerospike_namespaces": NAMESPACES + [extra]}),
                            check=False)
    assert done.returncode != 0
    assert "aerospike_namespaces lists 3 namespaces (test, persist, extra) but a Community Edition server" in done.stdout
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    assert cluster.containers(SERVICE, ["lab1", "lab2", "lab3"]) == before


def test_removing_a_namespace_rolls_one_task_at_a_time_and_is_verified(cluster):
    done = roll_namespaces(cluster, [ns for ns in cluster.settings["aerospike_namespaces"] if ns["name"] != "test"])
    cluster.timing("namespace test removed -> rolling update of 3, verified per task", done.seconds)


def test_adding_a_namespace_rolls_one_task_at_a_time_while_a_client_writes(cluster):
    """With a real server a client writes a batch of 200 records a second into the file namespace throughout the
    roll, from discovery's network namespace (it stays up while the Aerospike tasks roll); every acknowledged record
    is read back afterwards. A write may fail while its node leaves (AP mode): failures are counted, not judged."""
    extra = {"name": "extra", "replication_factor": 2, "storage": {"type": "memory", "data_size": "512M"}}
    via, acked, failed = cluster.container_of(DISCOVERY), [], collections.Counter()

    def write_a_batch():
        batch, errors = cluster.write_acknowledged(via, 200, start=10000 + len(acked) + sum(failed.values()),
                                                   namespace="persist")
        acked.extend(batch)
        failed.update(errors)

    done = roll_namespaces(cluster, cluster.settings["aerospike_namespaces"] + [extra],
                           writer=write_a_batch if cluster.real else None)
    cluster.timing("namespace extra added -> rolling update of 3, verified per task", done.seconds)
    if cluster.real:
        assert acked, "no write was acknowledged during the roll (failures: %s)" % dict(failed)
        assert cluster.read_back(via, acked, namespace="persist") == []
        cluster.timing("namespace added while writing: %d records acknowledged during the roll, all read back; "
                       "%d failed %s" % (len(acked), sum(failed.values()), dict(failed)), done.seconds)


def test_a_host_that_is_down_keeps_its_instance_and_it_rejoins_by_itself(cluster):
    started = time.monotonic()
    cluster.lab.kill("lab3")
    wait_for("swarm to mark lab3 Down", lambda: "Down" in cluster.docker(
        cluster.manager, "node", "ls", "--filter", "name=lab3", "--format", "{{.Status}}"), timeout=180)
    cluster.timing("lab3 killed -> swarm marks it Down", time.monotonic() - started)
    survivors = ["lab1", "lab2", "lab4", "lab5"]
    cluster.inventory = without_host(cluster, "lab3")
    done = cluster.playbook("aerospike.yml")
    assert all(r["changed"] == 0 for r in done.recap.values()), changed_tasks(done.stdout)
    assert "labelled host(s) that cannot run their instance now: lab3 (down/active); their data waits on them" in done.stdout
    assert "cluster: STABLE, 2 node(s)" in done.stdout
    cluster.inventory = None  # status.yml reports a host that does not answer instead of refusing it
    status = cluster.status()
    assert_stable(status, 2)
    assert [(row["host"], row["volume"]) for row in status["missing"]] == [("lab3", VOLUME)]
    assert status["missing"][0]["missing"] == "host down (down/active); its data waits in volume %s there" % VOLUME
    assert sorted(cluster.containers(SERVICE, survivors)) == sorted(cluster.containers(SERVICE, ["lab1", "lab2"]))
    back = time.monotonic()
    cluster.lab.start("lab3")
    wait_for("lab3's instance running on lab3 again, with its volume",
             lambda: [v for h, (c, v) in cluster.instances().items() if h == "lab3"] == [[VOLUME]], timeout=180)
    cluster.timing("lab3 started -> its instance running there again (no playbook)", time.monotonic() - back)
    # A real server cold-starts lab3's file namespace and migrates what the others took meanwhile: minutes on 2 cores.
    wait_stable_views(cluster, 3, "one stable cluster of 3 with lab3 back", timeout=360)
    cluster.timing("lab3 started -> one stable cluster of 3 (no playbook)", time.monotonic() - back)
    assert_stable(cluster.status(), 3)
    assert_bound(cluster, ["lab1", "lab2", "lab3"])


def test_a_dead_host_is_replaced_for_good(cluster):
    """docs/aerospike.md "Replacing a host for good": node rm, the inventory without the host, a run labels the next
    host of aerospike_nodes (here lab4, already a swarm member, so aerospike.yml is enough)."""
    dead = cluster.address_of("lab3", cluster.instances()["lab3"][0])
    cluster.lab.kill("lab3")
    wait_for("swarm to mark lab3 Down", lambda: "Down" in cluster.docker(
        cluster.manager, "node", "ls", "--filter", "name=lab3", "--format", "{{.Status}}"), timeout=180)
    # lab3 was a manager: a manager leaves Raft by a demotion (the survivors keep the quorum), then its entry goes.
    if "manager" in cluster.docker(cluster.manager, "node", "inspect", "lab3", "--format", "{{.Spec.Role}}"):
        cluster.docker(cluster.manager, "node", "demote", "lab3")
    cluster.docker(cluster.manager, "node", "rm", "--force", "lab3")
    cluster.inventory = without_host(cluster, "lab3")
    cluster.departed_hosts.add("lab3")
    done = cluster.playbook("aerospike.yml")
    cluster.timing("dead lab3 replaced by lab4 (aerospike.yml)", done.seconds)
    assert "Aerospike instances on: lab1, lab2, lab4" in done.stdout
    status = cluster.status()
    assert_stable(status, 3)
    assert status["hosts"] == ["lab1", "lab2", "lab4"]
    assert_bound(cluster, ["lab1", "lab2", "lab4"])
    wait_for("discovery to tip-clear the dead instance %s everywhere" % dead, lambda: not any(
        dead in seed for row in cluster.status()["nodes"] for seed in row["mesh_seeds"]), timeout=60)
    assert seeds_match_members(cluster.status())


def test_teardown_removes_the_stack(cluster):
    refused = cluster.playbook("teardown.yml", check=False)
    assert refused.returncode != 0 and "Confirm with" in refused.stdout
    cluster.playbook("teardown.yml", "-e", "aerospike_teardown_confirm=%s" % STACK)
    assert cluster.docker(cluster.manager, "service", "ls", "-q").strip() == ""
    assert STACK not in cluster.docker(cluster.manager, "config", "ls", "--format", "{{.Name}}")
    assert STACK not in cluster.docker(cluster.manager, "network", "ls", "--format", "{{.Name}}")
    print("\naerospike lab timings (%s):" % ("real server " + cluster.image if cluster.real else "simulator"))
    for label, seconds in cluster.timings:
        print("  %-62s %s" % (label, "" if label.startswith("discovery process memory") else "%.2f s" % seconds))


def without_host(cluster, host):
    """An inventory like the lab's, without ``host`` (a host that is down, or gone for good)."""
    import yaml  # pylint: disable=import-outside-toplevel

    data = yaml.safe_load(cluster.lab.inventory_path.read_text())
    for group in data["all"]["children"].values():
        (group.get("hosts") or {}).pop(host, None)
    path = cluster.tmp / ("inventory-without-%s.yml" % host)
    path.write_text(yaml.safe_dump(data))
    group_vars = cluster.lab.inventory_path.parent / "group_vars"
    if group_vars.exists() and not (cluster.tmp / "group_vars").exists():
        (cluster.tmp / "group_vars").symlink_to(group_vars)
    return path
