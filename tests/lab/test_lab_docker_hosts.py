"""A 3-host docker-flavour lab: SSH for Ansible, convergence, images, a swarm with an overlay dnsrr service,
crash / pause / partition drills, the stuck-task detector, and a clean teardown."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from labtest_helpers import REPO, run_ok, wait_for

from aerostack_lab import LabError
from aerostack_lab.lab import LABEL

pytestmark = pytest.mark.lab

BASE = "aerostack-lab/base:bookworm"


def _ansible(executable):
    candidate = Path(sys.executable).parent / executable
    return str(candidate) if candidate.exists() else executable


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab("docker", hosts=3)


def _containers(lab):
    out = subprocess.run(
        ["docker", "ps", "-a", "-q", "--no-trunc", "--filter", f"label={LABEL}={lab.name}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        c["Name"]: (c["Id"], c["State"]["StartedAt"])
        for c in json.loads(
            subprocess.run(["docker", "inspect", *out], capture_output=True, text=True, check=True).stdout
        )
    }


def test_up_makes_every_host_answer_ansible_over_ssh(lab):
    result = subprocess.run(
        [_ansible("ansible"), "-i", str(lab.inventory_path), "all", "-m", "ansible.builtin.ping"],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(line.split()[0] for line in result.stdout.splitlines() if "| SUCCESS" in line) == [
        "lab1",
        "lab2",
        "lab3",
    ]


def test_hosts_have_their_names_addresses_and_a_ready_inner_engine(lab):
    for host in lab.hosts:
        assert run_ok(lab, host, ["hostname"], "hostname").strip() == host.name
        assert host.address in run_ok(lab, host, ["ip", "-4", "-o", "addr"], "ip addr")
        info = json.loads(run_ok(lab, host, ["docker", "info", "--format", "{{json .}}"], "docker info"))
        assert info["Driver"] == "overlay2"
        assert "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1" in run_ok(
            lab, host, ["sh", "-c", "tr '\\0' '\\n' < /proc/$(pidof dockerd)/environ"], "dockerd environment"
        )


def test_up_again_with_the_same_shape_changes_nothing(lab):
    before = _containers(lab)
    summary = lab.up()
    assert summary["changed"] is False
    assert _containers(lab) == before


def test_up_with_another_shape_is_refused_and_leaves_the_lab_alone(lab):
    before = _containers(lab)
    other = type(lab)(name=lab.name, hosts=2, progress=lab.progress)
    with pytest.raises(LabError) as error:
        other.up()
    assert "3 hosts, not 2" in error.value.message
    assert error.value.fix == f"take it down first: scripts/lab down --name {lab.name}"
    assert _containers(lab) == before


def test_load_copies_an_image_into_every_host_then_skips_hosts_that_have_it(lab):
    first = lab.load([BASE])
    assert set(first[BASE]) == {"lab1", "lab2", "lab3"}
    image_id = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", BASE], capture_output=True, text=True, check=True
    ).stdout.strip()
    for host in lab.hosts:
        assert (
            run_ok(lab, host, ["docker", "image", "inspect", "--format", "{{.Id}}", BASE], "inspect").strip()
            == image_id
        )
    assert lab.load([BASE]) == {BASE: {"lab1": "present", "lab2": "present", "lab3": "present"}}


@pytest.fixture()
def swarm(lab):
    """lab1 manager, lab2 and lab3 workers; everyone leaves afterwards."""
    lab1, lab2, lab3 = lab.hosts
    run_ok(lab, lab1, ["docker", "swarm", "init", "--advertise-addr", lab1.address], "swarm init")
    try:
        token = run_ok(lab, lab1, ["docker", "swarm", "join-token", "-q", "worker"], "join-token").strip()
        for worker in (lab2, lab3):
            run_ok(lab, worker, ["docker", "swarm", "join", "--token", token, f"{lab1.address}:2377"], "swarm join")
        yield lab
    finally:
        for host in reversed(lab.hosts):
            lab.unpause(host) if _state(lab, host) == "paused" else None
            lab.exec(host, ["docker", "swarm", "leave", "--force"])


def _state(lab, host):
    return subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Status}}", host.container],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def _running_tasks(lab, manager, service):
    out = run_ok(
        lab,
        manager,
        [
            "docker",
            "service",
            "ps",
            service,
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Node}} {{.CurrentState}}",
        ],
        "service ps",
    )
    return sorted(line.split()[0] for line in out.splitlines() if " Running " in f" {line} ")


def test_a_swarm_runs_a_dnsrr_service_on_an_overlay_across_hosts(swarm):
    lab = swarm
    lab1, lab2 = lab.hosts[:2]
    status = {h["host"]: h["swarm"] for h in lab.status()["hosts"]}
    assert status == {"lab1": "active/manager", "lab2": "active/worker", "lab3": "active/worker"}
    run_ok(lab, lab1, ["docker", "network", "create", "--driver", "overlay", "labtest-net"], "network create")
    run_ok(
        lab,
        lab1,
        [
            "docker",
            "service",
            "create",
            "--detach",
            "--name",
            "labtest-sleep",
            "--network",
            "labtest-net",
            "--endpoint-mode",
            "dnsrr",
            "--replicas",
            "2",
            "--replicas-max-per-node",
            "1",
            "--constraint",
            "node.hostname!=lab3",
            BASE,
            "sleep",
            "infinity",
        ],
        "service create",
    )
    nodes = wait_for(
        "2 running tasks of labtest-sleep on lab1 and lab2",
        lambda: _running_tasks(lab, lab1, "labtest-sleep") == ["lab1", "lab2"] or None,
    )
    assert nodes
    task = run_ok(
        lab, lab1, ["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=labtest-sleep"], "docker ps"
    ).split()[0]
    resolve = "import socket; print(' '.join(sorted({a[4][0] for a in socket.getaddrinfo('tasks.labtest-sleep', 0)})))"
    addresses = wait_for(
        "tasks.labtest-sleep to resolve to both tasks",
        lambda: _two_addresses(run_ok(lab, lab1, ["docker", "exec", task, "python3", "-c", resolve], "resolve")),
    )
    # A TCP connection to a closed port on the other host's task is refused (not timed out): the overlay carries it.
    probe = "import socket, sys; s = socket.socket(); s.settimeout(5); print(s.connect_ex((sys.argv[1], 9)))"
    answers = [
        run_ok(lab, lab1, ["docker", "exec", task, "python3", "-c", probe, a], "probe").strip()
        for a in addresses.split()
    ]
    assert sorted(answers) == ["111", "111"]


def _two_addresses(out):
    return out if len(out.split()) == 2 else None


def test_a_task_stuck_in_assigned_is_reported(swarm):
    lab = swarm
    lab1, lab2 = lab.hosts[:2]
    lab.pause(lab2)  # lab2 stops answering: what the manager assigns to it never gets accepted
    run_ok(
        lab,
        lab1,
        [
            "docker",
            "service",
            "create",
            "--detach",
            "--name",
            "labtest-stuck",
            "--constraint",
            "node.hostname==lab2",
            BASE,
            "sleep",
            "infinity",
        ],
        "service create",
    )
    stuck = wait_for(
        "the detector to report a task of labtest-stuck stuck in 'assigned'",
        lambda: [s for s in lab.stuck_tasks(lab1, threshold=2) if s.service == "labtest-stuck"],
        timeout=30,
    )
    assert stuck[0].node == "lab2"
    assert "overlay deadlock" in stuck[0].describe()


def test_a_killed_host_is_reported_exited_and_comes_back_with_start(lab):
    lab3 = lab.hosts[2]
    lab.kill(lab3)
    assert {h["host"]: h["state"] for h in lab.status()["hosts"]}["lab3"] == "exited"
    lab.start(lab3)
    row = {h["host"]: h for h in lab.status()["hosts"]}["lab3"]
    assert (row["state"], row["docker"]) == ("running", "ready")
    ssh = subprocess.run(lab.ssh_argv(lab3, ["hostname"]), capture_output=True, text=True, check=False, timeout=30)
    assert ssh.stdout.strip() == "lab3", ssh.stderr


def test_disconnect_partitions_a_host_and_connect_heals_it(lab):
    lab1, lab3 = lab.hosts[0], lab.hosts[2]
    ping = ["ping", "-c", "1", "-W", "1", lab3.address]
    assert lab.exec(lab1, ping)[0] == 0
    lab.disconnect(lab3)
    try:
        assert lab.exec(lab1, ping)[0] != 0
    finally:
        lab.connect(lab3)
    wait_for("lab1 to reach lab3 again", lambda: lab.exec(lab1, ping)[0] == 0)
    assert lab3.address in run_ok(lab, lab3, ["ip", "-4", "-o", "addr"], "ip addr")


def test_down_leaves_no_container_volume_network_or_file_and_can_run_again(make_lab):
    lab = make_lab("down", hosts=1)
    assert lab.inventory_path.exists()
    removed = lab.down()
    assert removed["containers"] == [f"{lab.name}-1"]
    for kind in (["ps", "-a"], ["volume", "ls"], ["network", "ls"]):
        listed = subprocess.run(
            ["docker", *kind, "-q", "--filter", f"label={LABEL}={lab.name}"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert listed == [], kind
    assert not lab.state_dir.exists()
    assert lab.down() == {"containers": [], "volumes": [], "networks": [], "files": []}
    assert not (REPO / ".lab" / lab.name).exists()
