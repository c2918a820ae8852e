"""The lab's decisions that need no engine: host flags, names, shapes and what a bad request is told."""

import pytest

from aerostack_lab import lab as labmod
from aerostack_lab.errors import LabError
from aerostack_lab.lab import Host, Lab, compare_shape, run_argv

HOST = Host("lab2", "aerostack-lab-2", "198.18.0.12", 2)


def _flag_values(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_hosts_run_unprivileged_with_every_capability_but_sys_resource():
    argv = run_argv("aerostack-lab", "docker", HOST, "img", "r")
    assert "--privileged" not in argv
    assert _flag_values(argv, "--cap-add") == ["ALL"]
    assert _flag_values(argv, "--cap-drop") == ["SYS_RESOURCE"]
    assert set(_flag_values(argv, "--security-opt")) == {
        "seccomp=unconfined",
        "apparmor=unconfined",
        "systempaths=unconfined",
    }
    assert _flag_values(argv, "--device-cgroup-rule") == ["a *:* rwm"]


def test_each_host_has_its_name_address_network_and_own_docker_volume():
    argv = run_argv("aerostack-lab", "docker", HOST, "img", "r")
    assert _flag_values(argv, "--name") == ["aerostack-lab-2"]
    assert _flag_values(argv, "--hostname") == ["lab2"]
    assert _flag_values(argv, "--network") == ["aerostack-lab"]
    assert _flag_values(argv, "--ip") == ["198.18.0.12"]
    assert _flag_values(argv, "--volume") == ["aerostack-lab-2-var-lib-docker:/var/lib/docker"]
    assert "org.aerostack.lab=aerostack-lab" in _flag_values(argv, "--label")
    assert argv[-1] == "img"


def test_docker_hosts_get_an_init_to_reap_ssh_orphans():
    argv = run_argv("aerostack-lab", "docker", HOST, "img", "r")
    assert "--init" in argv
    assert "--stop-signal" not in argv


def test_systemd_hosts_stop_on_sigrtmin_plus_3_and_get_run_lock_tmpfs():
    argv = run_argv("aerostack-lab", "systemd", HOST, "img", "r")
    assert _flag_values(argv, "--stop-signal") == ["SIGRTMIN+3"]
    assert set(_flag_values(argv, "--tmpfs")) == {"/run", "/run/lock", "/tmp"}
    assert "--init" not in argv


def test_the_same_shape_is_accepted():
    have = {"hosts": 5, "flavour": "docker", "subnet": "198.18.0.0/24"}
    compare_shape("x", have, {"hosts": 5, "flavour": "docker", "subnet": None})
    compare_shape("x", have, {"hosts": 5, "flavour": "docker", "subnet": "198.18.0.0/24"})


@pytest.mark.parametrize(
    ("want", "says"),
    [
        ({"hosts": 3, "flavour": "docker", "subnet": None}, "5 hosts, not 3"),
        ({"hosts": 5, "flavour": "systemd", "subnet": None}, "flavour docker, not systemd"),
        ({"hosts": 5, "flavour": "docker", "subnet": "198.18.9.0/24"}, "subnet 198.18.0.0/24, not 198.18.9.0/24"),
    ],
)
def test_a_different_shape_is_refused_and_told_to_take_the_lab_down(want, says):
    have = {"hosts": 5, "flavour": "docker", "subnet": "198.18.0.0/24"}
    with pytest.raises(LabError) as error:
        compare_shape("mylab", have, want)
    assert says in error.value.message
    assert error.value.fix == "take it down first: scripts/lab down --name mylab"


@pytest.mark.parametrize("name", ["", "Upper", "has space", "-lead", "x" * 41, "semi;colon", "under_score"])
def test_unusable_lab_names_are_refused(name):
    with pytest.raises(LabError) as error:
        labmod.check_name(name)
    assert "1-40 characters" in error.value.fix


def test_unknown_flavours_are_refused():
    with pytest.raises(LabError) as error:
        Lab(name="x", flavour="podman")
    assert "docker, systemd" in error.value.fix


def test_inventory_path_is_the_committed_place_only_for_the_default_lab(tmp_path):
    assert Lab(root=tmp_path).inventory_path == tmp_path / "inventories" / "lab" / "hosts.yml"
    assert Lab(name="other", root=tmp_path).inventory_path == tmp_path / ".lab" / "other" / "hosts.yml"


def test_hosts_are_lab1_to_labn_on_a_given_subnet(tmp_path):
    lab = Lab(name="t", hosts=3, subnet="198.18.40.0/24", root=tmp_path)
    assert [(h.name, h.container, h.address) for h in lab.hosts] == [
        ("lab1", "t-1", "198.18.40.11"),
        ("lab2", "t-2", "198.18.40.12"),
        ("lab3", "t-3", "198.18.40.13"),
    ]
    assert lab.host("lab2") == lab.host(2) == lab.host("t-2")


def test_an_unknown_host_is_refused_with_the_names_that_exist(tmp_path):
    lab = Lab(name="t", hosts=2, subnet="198.18.40.0/24", root=tmp_path)
    with pytest.raises(LabError) as error:
        lab.host("lab9")
    assert error.value.fix == "use one of: lab1, lab2"
