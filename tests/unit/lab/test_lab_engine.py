"""What the lab says and does when the engine, a tool or a lab object is not what it expects (fake docker CLI)."""

import pytest
from lab_fakes import ENGINE_UP, NO_CONTAINERS, NO_VOLUMES, FakeDocker, network, no_such

from aerostack_lab import images
from aerostack_lab.engine import Engine
from aerostack_lab.errors import LabError
from aerostack_lab.lab import Lab
from aerostack_lab.progress import Progress

QUIET = Progress(quiet=True)


def _lab(fake, tmp_path, **kwargs):
    return Lab(root=tmp_path, engine=Engine(runner=fake), progress=QUIET, **kwargs)


def test_an_engine_that_is_not_running_is_reported_with_how_to_start_it(tmp_path):
    fake = FakeDocker(
        [
            (
                ("version",),
                1,
                "",
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                "Is the docker daemon running?\n",
            )
        ]
    )
    with pytest.raises(LabError) as error:
        _lab(fake, tmp_path).up()
    assert "not running or not reachable" in error.value.message
    assert "systemctl start docker" in error.value.fix
    assert "dockerd" in error.value.fix
    assert fake.calls == [("version", "--format", "{{.Server.Version}}")]


def test_a_missing_docker_cli_is_reported_with_the_install_command(tmp_path):
    def missing(argv, **kwargs):
        raise FileNotFoundError(argv[0])

    with pytest.raises(LabError) as error:
        Engine(docker="docker-not-here", runner=missing).check()
    assert error.value.fix == "apt-get install -y docker.io"


def test_bad_input_is_refused_before_the_engine_is_touched(tmp_path):
    fake = FakeDocker()
    with pytest.raises(LabError):
        _lab(fake, tmp_path, name="Bad Name")
    with pytest.raises(LabError):
        _lab(fake, tmp_path, subnet="10.1.0.0/24")
    assert fake.calls == []
    assert not (tmp_path / ".lab").exists()


def test_up_on_a_lab_of_another_shape_is_refused_and_changes_nothing(tmp_path):
    fake = FakeDocker(
        [
            ENGINE_UP,
            network(
                "aerostack-lab",
                {
                    "org.aerostack.lab": "aerostack-lab",
                    "org.aerostack.lab.hosts": "3",
                    "org.aerostack.lab.flavour": "docker",
                },
            ),
            NO_CONTAINERS,
        ]
    )
    with pytest.raises(LabError) as error:
        _lab(fake, tmp_path, hosts=5).up()
    assert "3 hosts, not 5" in error.value.message
    assert "scripts/lab down --name aerostack-lab" in error.value.fix
    assert not any(c[0] in ("run", "create", "rm", "start") or c[:2] == ("network", "create") for c in fake.calls)
    assert not (tmp_path / ".lab").exists()


def test_up_refuses_a_network_of_the_same_name_that_the_lab_did_not_make(tmp_path):
    fake = FakeDocker([ENGINE_UP, network("aerostack-lab", {})])
    with pytest.raises(LabError) as error:
        _lab(fake, tmp_path).up()
    assert "was not made by the lab" in error.value.message
    assert "--name" in error.value.fix


def test_down_of_a_lab_that_is_not_there_removes_nothing_and_succeeds(tmp_path):
    fake = FakeDocker([ENGINE_UP, NO_CONTAINERS, NO_VOLUMES, no_such("network", "aerostack-lab")])
    removed = _lab(fake, tmp_path).down()
    assert removed == {"containers": [], "volumes": [], "networks": [], "files": []}
    assert not fake.called("rm") and not fake.called("network", "rm") and not fake.called("volume", "rm")


def test_down_leaves_a_foreign_network_of_the_same_name_alone(tmp_path):
    fake = FakeDocker([ENGINE_UP, NO_CONTAINERS, NO_VOLUMES, network("aerostack-lab", {"owner": "someone"})])
    _lab(fake, tmp_path).down()
    assert not fake.called("network", "rm")


def test_down_removes_only_what_carries_the_lab_label_and_the_generated_files(tmp_path):
    state = tmp_path / ".lab" / "aerostack-lab"
    state.mkdir(parents=True)
    (state / "hosts.yml").write_text("x")
    inventory = tmp_path / "inventories" / "lab" / "hosts.yml"
    inventory.parent.mkdir(parents=True)
    inventory.write_text("x")
    (inventory.parent / "all.yml").write_text("kept")
    demo_settings = inventory.parent / "group_vars" / "swarm" / "demo.yml"
    demo_settings.parent.mkdir(parents=True)
    demo_settings.write_text("app_lb_stats_enabled: true\n")
    fake = FakeDocker(
        [
            ENGINE_UP,
            (("ps",), 0, "c1\n", ""),
            (("container", "inspect", "c1"), 0, '[{"Name": "/aerostack-lab-1"}]', ""),
            (("rm",), 0, "", ""),
            (("volume", "ls"), 0, "aerostack-lab-1-var-lib-docker\n", ""),
            (("volume", "rm"), 0, "", ""),
            network("aerostack-lab", {"org.aerostack.lab": "aerostack-lab"}),
            (("network", "rm"), 0, "", ""),
        ]
    )
    removed = _lab(fake, tmp_path).down()
    assert fake.called("ps")[0][-1] == "-a" and "label=org.aerostack.lab=aerostack-lab" in fake.called("ps")[0]
    assert fake.called("rm") == [("rm", "--force", "--volumes", "c1")]
    assert fake.called("volume", "rm") == [("volume", "rm", "--force", "aerostack-lab-1-var-lib-docker")]
    assert removed["containers"] == ["aerostack-lab-1"] and removed["networks"] == ["aerostack-lab"]
    assert not state.exists() and not inventory.exists()
    assert not demo_settings.parent.exists(), "the demo's settings go with the generated inventory"
    assert (inventory.parent / "all.yml").read_text() == "kept"
    assert str(demo_settings) in removed["files"]


def test_loading_an_image_the_outer_engine_lacks_is_refused_with_how_to_find_it(tmp_path):
    fake = FakeDocker([ENGINE_UP, (("image", "inspect"), 1, "", "Error: No such image: nosuch:1\n")])
    lab = _lab(fake, tmp_path, hosts=2, subnet="198.18.40.0/24")
    with pytest.raises(LabError) as error:
        lab.load(["nosuch:1"])
    assert "image nosuch:1 is not on the outer Docker engine" in error.value.message
    assert "docker images nosuch" in error.value.fix
    assert not fake.called("save") and not fake.called("exec")


def _builder(fake, tmp_path):
    return images.ImageBuilder(Engine(runner=fake), tmp_path / "cache", QUIET)


MISSING_IMAGES = [ENGINE_UP, (("image", "inspect"), 1, "", "Error: No such image\n")]


def test_building_images_without_debootstrap_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(images.os, "geteuid", lambda: 0)
    real_which = images.shutil.which
    monkeypatch.setattr(images.shutil, "which", lambda tool: None if tool == "debootstrap" else real_which(tool))
    with pytest.raises(LabError) as error:
        _builder(FakeDocker(MISSING_IMAGES), tmp_path).ensure("docker")
    assert error.value.fix == "apt-get install -y debootstrap"
    assert not (tmp_path / "cache").exists()


def test_building_images_as_a_normal_user_says_root_is_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)
    with pytest.raises(LabError) as error:
        _builder(FakeDocker(MISSING_IMAGES), tmp_path).ensure("docker")
    assert "needs root" in error.value.message


def test_images_whose_recipe_label_matches_are_not_rebuilt(tmp_path, monkeypatch):
    wanted = {r.image: r.digest() for r in images.recipes().values()}

    def answer(argv, **kwargs):
        import subprocess

        image = argv[-1]
        return subprocess.CompletedProcess(argv, 0, (wanted[image] + "\n").encode(), b"")

    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)  # would fail if a build were attempted
    outcome = images.ImageBuilder(Engine(runner=answer), tmp_path / "cache", QUIET).ensure("all")
    assert set(outcome.values()) == {"current"}
