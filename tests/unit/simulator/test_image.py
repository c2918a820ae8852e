"""The simulator image forms a cluster in real containers and stops cleanly on SIGTERM.

Needs the local Docker engine and the image (tests/simulator/build-image). Every Docker object is
named aerostack-simtest-<pid>-* and removed at the end.
"""

import os
import subprocess
import time

import pytest

from simulator_support import request

from aerospike_sim import __version__, harness
from aerospike_sim.netif import derive_node_id

pytestmark = pytest.mark.lab

IMAGE = os.environ.get("AEROSPIKE_SIM_IMAGE", "aerostack-lab/aerospike-simulator:%s" % __version__)
PREFIX = "aerostack-simtest-%d" % os.getpid()

CONF = harness.minimal_config("eth0", "simtest").replace("        disable-localhost true\n", "")


def docker(*args, check=True, timeout=60):
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError("docker %s failed: %s" % (" ".join(args), result.stderr.strip()))
    return result.stdout.strip()


@pytest.fixture
def engine():
    try:
        ready = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ready = False
    if not ready:
        pytest.skip("no Docker engine answers 'docker info' (start dockerd)")
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False).returncode != 0:
        pytest.skip("image %s is missing: run tests/simulator/build-image" % IMAGE)


def value(address, command):
    return dict(request(address, 3000, command, timeout=2))[command]


def answers(address, command):
    try:
        return value(address, command)
    except OSError:
        return None


def test_two_containers_on_a_bridge_form_a_stable_cluster_and_stop_cleanly(engine, tmp_path):
    conf = tmp_path / "aerospike.conf"
    conf.write_text(CONF)
    network = PREFIX + "-net"
    names = [PREFIX + "-a", PREFIX + "-b"]
    try:
        docker("network", "create", network)
        for name in names:
            docker("run", "-d", "--name", name, "--network", network,
                   "-v", "%s:/etc/aerospike/aerospike.conf:ro" % conf, IMAGE)
        addresses = [docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", n)
                     for n in names]
        for address in addresses:
            harness.wait_until(lambda: answers(address, "status") == "ok", 20,
                               "the container at %s to answer status" % address)
            assert "simulator" in value(address, "version")
            # Docker gives a container the MAC 02:42:<IPv4>, so the id is the one a real server would take.
            assert value(address, "node") == derive_node_id(address, 3001)
        tipped = time.monotonic()
        assert value(addresses[0], "tip:host=%s;port=3002" % addresses[1]) == "ok"

        def stable_key():
            keys = {answers(a, "cluster-stable:size=2;ignore-migrations=false") for a in addresses}
            key = keys.pop() if len(keys) == 1 else None
            return key if key and not key.startswith("ERROR") else None

        def sizes():
            return [answers(a, "cluster-stable:size=2;ignore-migrations=false") for a in addresses]
        key = harness.wait_until(stable_key, 30, "cluster-stable:size=2 to answer one key in both containers",
                                 describe=sizes)
        print("\ncontainers: tip -> stable at size 2 in %.2f s (key %s)" % (time.monotonic() - tipped, key))
        for address in addresses:
            stats = dict(i.split("=", 1) for i in value(address, "statistics").split(";"))
            assert (stats["cluster_size"], stats["cluster_key"]) == ("2", key)

        started = time.monotonic()
        docker("stop", "-t", "10", names[1])
        print("containers: docker stop took %.2f s" % (time.monotonic() - started))
        assert docker("inspect", "-f", "{{.State.ExitCode}}", names[1]) == "0", "SIGTERM must end it cleanly"
        assert "finished clean shutdown" in docker("logs", names[1])
    finally:
        for name in names:
            docker("rm", "-f", name, check=False)
        docker("network", "rm", network, check=False)
