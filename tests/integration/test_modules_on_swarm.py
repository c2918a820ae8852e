"""aerospike_info and aerospike_tip against a swarm service on a lab host, from a task's network namespace.

The server is the Aerospike simulator image by default. With AEROSPIKE_IMAGE naming a real server image
on the local engine, the same playbook also runs against real Aerospike containers.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "lab"))

from aerostack_lab import Lab  # noqa: E402  pylint: disable=wrong-import-position
from simulator_image import simulator_image  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.lab

LAB_NAME = "aerostack-modtest"
SERVICE = "modtest-as"


def _check(lab, host, argv, what, stdin=None):
    rc, out, err = lab.exec(host, argv, input=stdin)
    if rc != 0:
        raise AssertionError("%s failed (rc %d): %s" % (what, rc, (err or out).strip()))
    return out


def _wait_running(lab, host, service, replicas, timeout=120):
    deadline = time.monotonic() + timeout
    states = ""
    while time.monotonic() < deadline:
        states = _check(lab, host, ["docker", "service", "ps", service, "--filter", "desired-state=running",
                                    "--format", "{{.CurrentState}}"], "docker service ps")
        running = [s for s in states.splitlines() if s.startswith("Running")]
        if len(running) == replicas:
            return
        time.sleep(0.5)
    raise AssertionError("waited %d s for %d running tasks of %s; last states: %s"
                         % (timeout, replicas, service, states.replace("\n", "; ")))


@pytest.fixture(scope="module", params=["simulator", "real"])
def server_image(request):
    if request.param == "real":
        image = os.environ.get("AEROSPIKE_IMAGE")
        if not image:
            pytest.skip("AEROSPIKE_IMAGE is not set: no real Aerospike server image to run against")
        return image
    return simulator_image()


@pytest.fixture(scope="module")
def swarm_service(server_image):
    lab = Lab(name=LAB_NAME, hosts=1, flavour="docker")
    lab.up()
    try:
        host = lab.hosts[0]
        lab.load([server_image])
        _check(lab, host.name, ["docker", "swarm", "init", "--advertise-addr", host.address], "swarm init")
        _check(lab, host.name, ["docker", "network", "create", "-d", "overlay", "modtest-net"], "network create")
        conf = (REPO / "tests" / "integration" / "files" / "aerospike.conf").read_text()
        _check(lab, host.name, ["docker", "config", "create", "modtest-conf", "-"], "config create", stdin=conf)
        _check(lab, host.name, [
            "docker", "service", "create", "--detach", "--name", SERVICE, "--replicas", "3",
            "--network", "modtest-net", "--endpoint-mode", "dnsrr",
            "--config", "source=modtest-conf,target=/etc/aerospike/aerospike.conf",
            "--restart-delay", "0s", "--stop-grace-period", "5s", server_image,
        ], "service create")
        _wait_running(lab, host.name, SERVICE, 3)
        yield lab, host
    finally:
        lab.down()


def test_modules_tip_and_verify_a_swarm_service_from_a_task_namespace(swarm_service):
    lab, host = swarm_service
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"))
    result = subprocess.run(
        ["ansible-playbook", "-i", str(lab.inventory_path), str(REPO / "tests/integration/playbooks/modules.yml"),
         "--limit", host.name, "-e", "modtest_service=%s" % SERVICE],
        capture_output=True, text=True, env=env, check=False,
    )
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout
