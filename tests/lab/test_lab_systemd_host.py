"""A 1-host systemd-flavour lab: systemd is PID 1, SSH works, and docker.io installed from Debian runs containers
(what the collection's docker role does on a bare host). Needs the Debian mirror."""

import pytest
from labtest_helpers import run_ok, wait_for

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab("systemd", hosts=1, flavour="systemd")


def test_systemd_is_pid_1_and_the_system_is_running(lab):
    assert run_ok(lab, "lab1", ["cat", "/proc/1/comm"], "pid 1").strip() == "systemd"
    state = run_ok(lab, "lab1", ["systemctl", "is-system-running"], "is-system-running").strip()
    assert state in ("running", "degraded")


def test_the_host_has_no_docker_until_one_is_installed(lab):
    rc = lab.exec("lab1", ["sh", "-c", "command -v docker"])[0]
    assert rc != 0
    assert lab.status()["hosts"][0]["docker"] == "not installed"


def test_docker_io_from_debian_installs_starts_and_runs_a_container(lab):
    run_ok(lab, "lab1", ["apt-get", "update", "-q"], "apt-get update")
    run_ok(
        lab,
        "lab1",
        ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "docker.io"],
        "apt-get install docker.io",
    )
    run_ok(lab, "lab1", ["systemctl", "start", "docker"], "systemctl start docker")
    wait_for("docker info inside the systemd host", lambda: lab.exec("lab1", ["docker", "info"])[0] == 0)
    assert lab.status()["hosts"][0]["docker"] == "ready"
    lab.load(["aerostack-lab/base:bookworm"])
    out = run_ok(lab, "lab1", ["docker", "run", "--rm", "aerostack-lab/base:bookworm", "echo", "inner"], "docker run")
    assert out.strip() == "inner"
