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
import time

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
from labtest_helpers import wait_for
from simulator_image import simulator_image

pytestmark = pytest.mark.lab

STACK = "astest"
SERVICE = STACK + "_aerospike"
DISCOVERY = STACK + "_discovery"


@pytest.fixture(scope="module")
def cluster(make_lab, tmp_path_factory):
    image = os.environ.get("AEROSPIKE_IMAGE") or simulator_image()
    lab = make_lab("aerospike", hosts=5)
    lab.load([image, DISCOVERY_IMAGE])
    return Cluster(lab, image, tmp_path_factory.mktemp("aerospike"), STACK)


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


def test_site_rerun_changes_nothing(cluster):
    done = cluster.playbook("site.yml")
    cluster.timing("site.yml re-run (changed=0)", done.seconds)
    changed = dict((host, r["changed"]) for host, r in done.recap.items() if r["changed"])
    assert changed == {}, "site.yml re-run changed something: %s\n%s" % (changed, done.stdout[-4000:])


def test_scale_up_to_five_is_verified_and_tips_new_tasks_quickly(cluster):
    done = cluster.playbook("scale.yml", "-e", "aerospike_replicas=5")
    cluster.timing("scale 3 -> 5 -> verified (scale.yml)", done.seconds)
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
        started = cluster.task_started(address)
        if started is not None:
            cluster.timing("task start -> first tip of %s (slot %s)" % (address, row["slot"]), log_stamp(tip) - started)


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
    cluster.timing("kill -> replacement task running", time.monotonic() - started)
    killed_at = time.time() - (time.monotonic() - started)
    host, container = cluster.container_of_newest(SERVICE)
    fresh = cluster.address_of(host, container)
    wait_for("discovery to tip the replacement %s both ways" % fresh,
             lambda: "tip %s:3002 into" % fresh in cluster.discovery_log()
             and re.search(r"tip \S+ into %s: ok" % re.escape(fresh), cluster.discovery_log()), timeout=60)
    tips = [line for line in cluster.discovery_log().splitlines() if fresh in line and line.split(" ")[2] == "tip"]
    cluster.timing("kill -> replacement %s tipped both ways (discovery log)" % fresh, log_stamp(tips[-1]) - killed_at)
    done = cluster.playbook("aerospike.yml")
    cluster.timing("kill -> verified 3 (incl. a playbook run)", time.monotonic() - started)
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


def test_config_change_rolls_one_task_at_a_time_and_is_verified(cluster):
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
    with RunningSampler(cluster) as sampler:
        done = cluster.playbook("aerospike.yml", "-e", change)
    cluster.timing("config change -> rolling update of 3, verified per task", done.seconds)
    assert "stack %s: rollout" % STACK in done.stdout
    assert done.stdout.count("cluster: STABLE, 3 node(s)") >= 4  # before, and after each of the 3 tasks
    assert sampler.samples and min(sampler.samples) >= 2, "more than one task was down at once: %s" % sampler.samples
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
    for label, seconds in cluster.timings:
        print("  %-62s %s" % (label, "" if label.startswith("discovery process memory") else "%.2f s" % seconds))
