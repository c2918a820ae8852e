"""The swarm role refuses bad input on a formed 5-host lab swarm: the message names the problem and the fix, and
nothing changed (every engine's membership and the node list are exactly as before).

One lab for the module; every case runs `ansible-playbook` with the swarm role (molecule/swarm/converge.yml) plus an
inventory overlay or extra vars, then compares a snapshot of the swarm with the one taken before.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "lab"))

from aerostack_lab import Lab  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.lab

LAB_NAME = "aerostack-swarmref"
PLAYBOOK = REPO / "molecule" / "swarm" / "converge.yml"
HOSTS = ["lab1", "lab2", "lab3", "lab4", "lab5"]


def run_role(lab, tmp_path, overlay=None, extra=()):
    """Run the swarm role; return (rc, combined output)."""
    argv = ["ansible-playbook", "-i", str(lab.inventory_path)]
    if overlay:
        path = tmp_path / "overlay.yml"
        path.write_text(overlay)
        argv += ["-i", str(path)]
    for item in extra:
        argv += ["-e", item]
    argv.append(str(PLAYBOOK))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def _exec(lab, host, argv):
    rc, out, err = lab.exec(host, argv)
    if rc != 0:
        raise AssertionError("%s on %s failed (rc %d): %s" % (" ".join(argv), host, rc, (err or out).strip()))
    return out


def snapshot(lab, sockets=None):
    """Each engine's swarm membership and, from lab1, every node's spec and status.

    ``sockets`` names the engine socket of hosts whose socket a test moved away.
    """
    shot = {}
    for host in HOSTS:
        docker = ["docker", "-H", "unix://" + (sockets or {}).get(host, "/run/docker.sock")]
        swarm = json.loads(_exec(lab, host, docker + ["info", "--format", "{{json .Swarm}}"]))
        shot[host] = (swarm["LocalNodeState"], swarm["NodeID"], swarm["ControlAvailable"],
                      (swarm.get("Cluster") or {}).get("ID"))
    ids = _exec(lab, "lab1", ["docker", "node", "ls", "-q"]).split()
    nodes = json.loads(_exec(lab, "lab1", ["docker", "node", "inspect"] + ids))
    shot["nodes"] = sorted((n["ID"], n["Description"]["Hostname"], n["Spec"].get("Role"), n["Spec"].get("Availability"),
                            json.dumps(n["Spec"].get("Labels") or {}, sort_keys=True), n["Status"]["State"])
                           for n in nodes)
    return shot


@pytest.fixture(scope="module")
def formed_lab(tmp_path_factory):
    lab = Lab(name=LAB_NAME, hosts=5, flavour="docker")
    lab.down()  # a lab left over by an interrupted run would bring its old swarm state back
    lab.up()
    try:
        rc, out = run_role(lab, tmp_path_factory.mktemp("form"))
        assert rc == 0, out[-4000:]
        yield lab
    finally:
        lab.down()


def refused(lab, tmp_path, expected, overlay=None, extra=(), sockets=None):
    before = snapshot(lab, sockets)
    rc, out = run_role(lab, tmp_path, overlay, extra)
    assert rc != 0, "the run should have been refused:\n" + out[-3000:]
    flat = " ".join(out.split())
    for text in expected:
        assert " ".join(text.split()) in flat, "missing %r in:\n%s" % (text, out[-4000:])
    assert snapshot(lab, sockets) == before, "the refused run changed the swarm"
    return out


def test_an_even_explicit_manager_group_is_refused(formed_lab, tmp_path):
    overlay = "all:\n  children:\n    swarm_managers:\n      hosts:\n        lab1: {}\n        lab2: {}\n"
    refused(formed_lab, tmp_path, ["swarm plan refused, nothing was changed:",
                                   "'swarm_managers' names 2 hosts (lab1, lab2): an even manager count is refused",
                                   "pin 1 or 3 hosts, or empty the group"], overlay=overlay)


@pytest.mark.parametrize("value, reason", [
    ("0", "swarm_managers_max=0 is out of range: set it to 1, 3, 5 or 7"),
    ("8", "swarm_managers_max=8 is out of range: set it to 1, 3, 5 or 7"),
    ("4", "swarm_managers_max=4 is even: 4 managers tolerate 1 loss(es), no more than 3 do"),
])
def test_a_bad_manager_cap_is_refused_with_the_reason(formed_lab, tmp_path, value, reason):
    refused(formed_lab, tmp_path, [reason], extra=["swarm_managers_max=%s" % value])


def test_a_host_unreachable_over_ssh_is_refused(formed_lab, tmp_path):
    overlay = "all:\n  hosts:\n    lab5:\n      ansible_port: 1\n"
    # (The SSH error text itself varies with pipelining: "Connection refused" or "Broken pipe".)
    refused(formed_lab, tmp_path, ["- lab5: unreachable over SSH (",
                                   "the swarm still sees its node as ready; fix the connection or remove it from the "
                                   "'swarm' group"], overlay=overlay)


def test_no_host_eligible_as_manager_is_refused(formed_lab, tmp_path):
    overlay = "all:\n  children:\n    swarm_workers:\n      hosts:\n" + "".join(
        "        %s: {}\n" % h for h in HOSTS)
    refused(formed_lab, tmp_path, ["no host is eligible as a manager (pinned as workers: lab1, lab2, lab3, lab4, "
                                   "lab5): take a host out of 'swarm_workers' or make one reachable"], overlay=overlay)


def test_a_wrong_advertise_address_is_refused(formed_lab, tmp_path):
    overlay = "all:\n  hosts:\n    lab3:\n      swarm_advertise_addr: 10.255.0.3\n"
    refused(formed_lab, tmp_path, ["- lab3: swarm_advertise_addr=10.255.0.3 is not an address of this host; its "
                                   "addresses are 127.0.0.1"], overlay=overlay)


def test_a_wrong_advertise_interface_is_refused(formed_lab, tmp_path):
    overlay = "all:\n  hosts:\n    lab3:\n      swarm_advertise_interface: eth9\n"
    refused(formed_lab, tmp_path, ["- lab3: swarm_advertise_interface=eth9 does not exist on the host; its "
                                   "interfaces are"], overlay=overlay)


def test_docker_missing_on_a_host_is_refused(formed_lab, tmp_path):
    # The engine keeps running; its socket is moved away, so nothing answers where clients look for it.
    _exec(formed_lab, "lab4", ["mv", "/run/docker.sock", "/run/docker.sock.away"])
    try:
        refused(formed_lab, tmp_path, ["- lab4: Docker engine not available (Docker engine at "
                                       "unix:///var/run/docker.sock: GET /info failed:",
                                       "install it with the aerostack.swarm.docker role"],
                sockets={"lab4": "/run/docker.sock.away"})
    finally:
        _exec(formed_lab, "lab4", ["mv", "/run/docker.sock.away", "/run/docker.sock"])


def wait_down(lab, node_id, timeout=90):
    """Poll lab1 until the swarm shows ``node_id`` Down (a node that left is not Down at once)."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = _exec(lab, "lab1", ["docker", "node", "inspect", node_id, "--format", "{{.Status.State}}"]).strip()
        if state == "down":
            return
        time.sleep(0.5)
    raise AssertionError("waited %ds for node %s to be Down on lab1; it is %s" % (timeout, node_id, state))


def test_a_host_in_a_different_swarm_is_refused_then_brought_back_by_force(formed_lab, tmp_path):
    old_id = json.loads(_exec(formed_lab, "lab5", ["docker", "info", "--format", "{{json .Swarm}}"]))["NodeID"]
    _exec(formed_lab, "lab5", ["docker", "swarm", "leave", "--force"])
    wait_down(formed_lab, old_id)
    _exec(formed_lab, "lab5", ["docker", "swarm", "init", "--advertise-addr", formed_lab.host("lab5").address])
    other = json.loads(_exec(formed_lab, "lab5", ["docker", "info", "--format", "{{json .Swarm}}"]))["Cluster"]["ID"]
    ours = json.loads(_exec(formed_lab, "lab1", ["docker", "info", "--format", "{{json .Swarm}}"]))["Cluster"]["ID"]
    refused(formed_lab, tmp_path, ["- lab5: already in another swarm %s as manager, not in swarm %s; remove it from the "
                                   "inventory, or set swarm_force_rejoin=true" % (other, ours)])
    rc, out = run_role(formed_lab, tmp_path, extra=["swarm_force_rejoin=true"])
    assert rc == 0, out[-4000:]
    after = snapshot(formed_lab)
    assert after["lab5"][0] == "active" and after["lab5"][2] is False
    # The entry lab5 left behind in our swarm was removed: one node per hostname.
    assert sorted(n[1] for n in after["nodes"]) == HOSTS
