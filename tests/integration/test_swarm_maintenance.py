"""playbooks/maintenance.yml on a 3-host lab swarm: drain waits until the node's tasks have really stopped and names the
service that found no other node; activate brings the node back and the chosen services are spread over it again.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "lab"))

from aerostack_lab import Lab  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.lab

LAB_NAME = "aerostack-swarmmaint"
IMAGE = "aerostack-lab/base:bookworm"
ENV = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
           ANSIBLE_FORCE_COLOR="0", ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")


def playbook(lab, name, *extra, options=()):
    """Run a playbook on the lab with ``extra`` as extra vars (``k=v``) and ``options`` as further arguments."""
    argv = ["ansible-playbook", "-i", str(lab.inventory_path), str(REPO / "playbooks" / name)] + list(options)
    for item in extra:
        argv += ["-e", item]
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, check=False, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


def _exec(lab, host, argv):
    rc, out, err = lab.exec(host, argv)
    if rc != 0:
        raise AssertionError("%s on %s failed (rc %d): %s" % (" ".join(argv), host, rc, (err or out).strip()))
    return out.strip()


def tasks(lab):
    """(service, node, desired state, current state) of every task, from lab1."""
    out = _exec(lab, "lab1", ["docker", "service", "ps", "--format",
                              "{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}", "m-spread", "m-one"])
    return [tuple(line.split("|")) for line in out.splitlines()]


def wait_running(lab, expected, timeout=120):
    """Poll until the running tasks per service equal ``expected`` ({service: count})."""
    deadline = time.monotonic() + timeout
    counts = {}
    while time.monotonic() < deadline:
        counts = {}
        for name, _node, desired, current in tasks(lab):
            if desired == "Running" and current.startswith("Running"):
                service = name.split(".")[0]
                counts[service] = counts.get(service, 0) + 1
        if counts == expected:
            return
        time.sleep(0.5)
    raise AssertionError("waited %ds for running tasks %s; last counts %s" % (timeout, expected, counts))


@pytest.fixture(scope="module")
def swarm_with_services():
    lab = Lab(name=LAB_NAME, hosts=3, flavour="docker")
    lab.down()  # a lab left over by an interrupted run would bring its old swarm state back
    lab.up()
    try:
        rc, out = playbook(lab, "swarm.yml", options=["--tags=swarm"])
        assert rc == 0, out[-4000:]
        lab.load([IMAGE])
        for name, extra in (("m-spread", []), ("m-one", ["--replicas-max-per-node", "1"])):
            _exec(lab, "lab1", ["docker", "service", "create", "--detach", "--no-resolve-image", "--name", name,
                                "--replicas", "3"] + extra + [IMAGE, "sleep", "infinity"])
        wait_running(lab, {"m-spread": 3, "m-one": 3})
        yield lab
    finally:
        lab.down()


def test_drain_waits_for_the_tasks_and_names_the_service_left_short_then_activate_rebalances(swarm_with_services):
    lab = swarm_with_services
    rc, out = playbook(lab, "maintenance.yml", "maintenance_host=lab3", "maintenance_action=drain")
    assert rc == 0, out[-4000:]
    # When the play ends, nothing runs on lab3 any more (not merely "told to shut down").
    assert [t for t in tasks(lab) if t[1] == "lab3" and not t[3].startswith(("Shutdown", "Complete"))] == []
    flat = " ".join(out.split())
    # Which slot of m-one ran on lab3 is the scheduler's choice.
    assert re.search(r"lab3: drain done\. Tasks pending because no node can take them: m-one\.[123] \(no suitable node "
                     r"\(max replicas per node limit exceed", flat), out[-3000:]
    pending = flat.split("Tasks pending because no node can take them:")[1].split("PLAY RECAP")[0]
    assert "m-spread" not in pending, pending
    assert _exec(lab, "lab1", ["docker", "node", "inspect", "lab3", "--format", "{{.Spec.Availability}}"]) == "drain"

    rc, out = playbook(lab, "maintenance.yml", "maintenance_host=lab3", "maintenance_action=activate",
                       '{"maintenance_rebalance": ["m-spread"]}')
    assert rc == 0, out[-4000:]
    assert _exec(lab, "lab1", ["docker", "node", "inspect", "lab3", "--format", "{{.Spec.Availability}}"]) == "active"
    wait_running(lab, {"m-spread": 3, "m-one": 3})
    running_on_lab3 = [t[0].split(".")[0] for t in tasks(lab) if t[1] == "lab3" and t[2] == "Running"]
    assert sorted(running_on_lab3) == ["m-one", "m-spread"]


def test_a_bad_request_names_the_usage_and_changes_nothing(swarm_with_services):
    def availability():
        return _exec(swarm_with_services, "lab1", ["docker", "node", "ls", "--format", "{{.Hostname}} {{.Availability}}"])

    before = availability()
    rc, out = playbook(swarm_with_services, "maintenance.yml", "maintenance_host=lab9", "maintenance_action=drian")
    assert rc != 0
    assert "Usage: -e maintenance_host=<a host of the 'swarm' group> -e maintenance_action=drain|activate|pause" \
        in " ".join(out.split())
    assert availability() == before
