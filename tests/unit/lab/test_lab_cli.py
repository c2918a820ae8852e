"""scripts/lab: help for every command, argument errors, and a LabError ending as message + fix + exit 2."""

import subprocess
from pathlib import Path

import pytest

from aerostack_lab import cli

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "lab"
COMMANDS = [
    "images",
    "up",
    "load",
    "status",
    "down",
    "exec",
    "ssh",
    "kill",
    "start",
    "pause",
    "unpause",
    "disconnect",
    "connect",
]


def test_the_wrapper_script_prints_help_listing_every_command():
    result = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in COMMANDS:
        assert f"\n    {command}" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: scripts/lab {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["up", "--hosts", "0"], "out of range"),
        (["up", "--hosts", "five"], "not a whole number"),
        (["up", "--flavour", "podman"], "invalid choice"),
        (["images", "--flavour", "lxc"], "invalid choice"),
        (["load"], "required: IMAGE"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_argument_errors_exit_2_with_a_usage_message(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert says in capsys.readouterr().err


def test_a_lab_error_is_printed_with_its_fix_and_exits_2_without_a_traceback(capsys):
    assert cli.main(["up", "--name", "Not Valid"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scripts/lab up: lab name 'Not Valid' is not usable\n  fix: ")
    assert "Traceback" not in err


def test_a_bad_subnet_is_refused_before_anything_happens(capsys):
    assert cli.main(["up", "--name", "cli-unit-never-made", "--subnet", "10.9.0.0/24"]) == 2
    assert "overlaps 10.0.0.0/8" in capsys.readouterr().err
    assert not (cli.REPO_ROOT / ".lab" / "cli-unit-never-made").exists()


def test_the_status_table_lists_hosts_and_problems():
    report = {
        "name": "t",
        "up": True,
        "network": "t",
        "subnet": "198.18.40.0/24",
        "flavour": "docker",
        "inventory": "/x/hosts.yml",
        "hosts": [
            {
                "host": "lab1",
                "container": "t-1",
                "address": "198.18.40.11",
                "state": "running",
                "docker": "ready",
                "swarm": "active/manager",
            },
            {
                "host": "lab2",
                "container": "t-2",
                "address": "198.18.40.12",
                "state": "exited",
                "docker": "-",
                "swarm": "-",
            },
        ],
        "problems": ["task abc of service s has been 'assigned' ..."],
    }
    lines = cli._status_table(report).splitlines()
    assert lines[1].split() == ["HOST", "CONTAINER", "ADDRESS", "STATE", "DOCKER", "SWARM"]
    assert lines[2].split() == ["lab1", "t-1", "198.18.40.11", "running", "ready", "active/manager"]
    assert lines[3].split() == ["lab2", "t-2", "198.18.40.12", "exited", "-", "-"]
    assert lines[-1] == "problem: task abc of service s has been 'assigned' ..."


def test_the_status_of_a_lab_that_is_not_up_says_so():
    report = {"name": "t", "up": False, "hosts": [], "problems": []}
    assert cli._status_table(report) == "lab t is not up"
