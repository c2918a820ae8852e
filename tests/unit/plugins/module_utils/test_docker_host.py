"""The docker role's host read and daemon.json: os-release parsing, dpkg-query output, what is missing, the file."""

import json

import pytest

from ansible_collections.aerostack.swarm.plugins.filter.docker import docker_missing_packages
from ansible_collections.aerostack.swarm.plugins.module_utils import _docker_host as host

DEBIAN_12 = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""
UBUNTU_24 = """PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
"""
FEDORA_40 = """NAME="Fedora Linux"
VERSION="40 (Container Image)"
ID=fedora
VERSION_ID=40
PLATFORM_ID="platform:f40"
"""
ROCKY_9 = """NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
"""
DPKG = ("python3\t3.11.2-1+b1\tinstalled\n"
        "docker.io\t20.10.24+dfsg1-1+deb12u1\tinstalled\n"
        "python3-docker\t5.0.3-1\tconfig-files\n")


@pytest.mark.parametrize("release, debian_version, expected", [
    (DEBIAN_12, "12.8\n", ("Debian", "12.8", "12", "bookworm", "Debian")),
    (DEBIAN_12, None, ("Debian", "12", "12", "bookworm", "Debian")),
    (UBUNTU_24, "trixie/sid\n", ("Ubuntu", "24.04", "24", "noble", "Debian")),
    (FEDORA_40, None, ("Fedora", "40", "40", "NA", "RedHat")),
    (ROCKY_9, None, ("Rocky", "9.4", "9", "NA", "RedHat")),
])
def test_os_facts_are_named_as_ansibles_distribution_facts(release, debian_version, expected):
    facts = host.os_facts(release, debian_version, "x86_64")
    assert (facts["distribution"], facts["distribution_version"], facts["distribution_major_version"],
            facts["distribution_release"], facts["os_family"]) == expected
    assert facts["architecture"] == "x86_64"


def test_only_installed_packages_count_not_those_left_with_their_config_files():
    assert host.parse_dpkg_query(DPKG) == {"python3": "3.11.2-1+b1", "docker.io": "20.10.24+dfsg1-1+deb12u1"}


@pytest.mark.parametrize("specs, missing", [
    (["docker.io", "python3"], []),
    (["docker.io", "python3-docker"], ["python3-docker"]),
    (["docker.io=20.10.24+dfsg1-1+deb12u1"], []),
    (["docker.io=20.10.24+dfsg1-1+deb12u2"], ["docker.io=20.10.24+dfsg1-1+deb12u2"]),
])
def test_missing_packages_are_those_absent_or_at_another_pinned_version(specs, missing):
    assert host.missing_packages(specs, host.parse_dpkg_query(DPKG)) == missing


def test_the_filter_reads_the_modules_report_where_none_means_not_installed():
    report = {"docker.io": "20.10.24+dfsg1-1+deb12u1", "python3-docker": None}
    assert docker_missing_packages(["docker.io", "python3-docker"], report) == ["python3-docker"]


def test_read_host_reports_os_packages_and_python_apt_in_one_call():
    files = {"/etc/os-release": DEBIAN_12, "/etc/debian_version": "12.8\n"}
    asked = []

    def dpkg(names):
        asked.append(names)
        return 1, DPKG  # rc 1: some packages are unknown to dpkg

    result = host.read_host(["docker.io", "python3-docker"], read_text=files.get, run_dpkg=dpkg,
                            machine=lambda: "aarch64")
    assert asked == [["docker.io", "python3-apt", "python3-docker"]]
    assert result["os"]["distribution_version"] == "12.8" and result["os"]["architecture"] == "aarch64"
    assert result["packages"] == {"docker.io": "20.10.24+dfsg1-1+deb12u1", "python3-docker": None}
    assert result["missing"] == ["python3-docker"] and result["python_apt"] is False and result["dpkg"] is True


def test_a_host_without_dpkg_reports_nothing_installed():
    result = host.read_host(["docker.io"], read_text={"/etc/os-release": FEDORA_40}.get,
                            run_dpkg=lambda names: (None, ""), machine=lambda: "x86_64")
    assert result["dpkg"] is False and result["missing"] == ["docker.io"]


def test_an_unreadable_os_release_is_an_error_naming_the_files():
    with pytest.raises(host.DockerHostError, match="neither /etc/os-release nor /usr/lib/os-release"):
        host.read_host([], read_text=lambda path: None, run_dpkg=lambda names: (0, ""), machine=lambda: "x86_64")


CONFIG = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}


def test_daemon_json_is_written_as_the_role_always_wrote_it():
    # The layout of Ansible's to_nice_json(indent=2): an existing file keeps its bytes.
    assert host.render_daemon_json(CONFIG) == (
        '{\n  "log-driver": "json-file",\n  "log-opts": {\n    "max-file": "3",\n    "max-size": "10m"\n  }\n}\n')


@pytest.mark.parametrize("current, differs", [
    (None, True),
    ("not json", True),
    ('{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}', False),
    ('{"log-driver": "json-file", "log-opts": {"max-size": "20m", "max-file": "3"}}', True),
])
def test_a_file_that_means_the_same_is_left_alone(current, differs):
    assert host.daemon_json_differs(current, CONFIG) is differs


def test_write_daemon_json_creates_the_directory_and_replaces_the_file(tmp_path):
    path = tmp_path / "etc" / "docker" / "daemon.json"
    host.write_daemon_json(str(path), host.render_daemon_json(CONFIG))
    assert json.loads(path.read_text()) == CONFIG
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["daemon.json"]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_for_engine_returns_once_the_engine_answers():
    clock = Clock()
    answers = iter([(False, None, "connection refused"), (False, None, "connection refused"), (True, "28.5.2", None)])
    result = host.wait_for_engine(lambda: next(answers), 30, clock=clock, sleep=clock.sleep, interval=0.25)
    assert result == {"available": True, "version": "28.5.2", "error": None, "waited": 0.5}


def test_an_engine_that_never_answers_fails_with_the_last_error():
    clock = Clock()
    with pytest.raises(host.DockerHostError, match="waited 2s for the Docker engine to answer: no such file"):
        host.wait_for_engine(lambda: (False, None, "no such file"), 2, clock=clock, sleep=clock.sleep)
