"""The task_timings callback: task boundaries, per-host shares and counts, the printed summary and the JSON file,
driven through the callback API with a fake clock; and once for real in an ansible-playbook run on this machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.callback import task_timings


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Named:
    def __init__(self, name):
        self.name = name

    def get_name(self, include_role_fqcn=True):
        return self.name if include_role_fqcn else self.name.rsplit(".", 1)[-1]


class Task:
    def __init__(self, name, action="ansible.builtin.command", role=None, path="roles/x/tasks/main.yml:3"):
        self.name = name
        self.action = action
        self._role = Named(role) if role else None
        self._uuid = "uuid-" + name
        self.path = path

    def get_name(self):
        return self.name

    def get_path(self):
        return self.path


class Result:
    def __init__(self, host, task, result=None):
        self._host = Named(host)
        self._task = task
        self._result = result or {}


class Lines:
    def __init__(self):
        self.lines = []

    def display(self, text, **_kwargs):
        self.lines.append(text)


@pytest.fixture(name="timings")
def _timings(tmp_path):
    clock = Clock()
    callback = task_timings.CallbackModule()
    # What set_options() leaves once Ansible has read the options (the real run below goes through it).
    callback._plugin_options = {"top": 2, "output": str(tmp_path / "out" / "timings.json")}  # pylint: disable=W0212
    callback._clock = clock  # pylint: disable=protected-access
    callback._display = Lines()  # pylint: disable=protected-access
    return callback, clock, tmp_path / "out" / "timings.json"


def run_two_tasks(callback, clock):
    read = Task("Read the state", action="aerostack.swarm.swarm_info", role="aerostack.swarm.swarm")
    plan = Task("Plan", action="ansible.builtin.set_fact", role="aerostack.swarm.swarm",
                path="/x/ansible_collections/aerostack/swarm/roles/swarm/tasks/preflight.yml:9")
    play = Named("Reconcile the swarm")
    callback.v2_playbook_on_start(Named("swarm.yml"))
    callback.v2_playbook_on_play_start(play)
    callback.v2_playbook_on_task_start(read, False)
    for host in ("lab1", "lab2"):
        callback.v2_runner_on_start(Named(host), read)
    clock.now += 0.5
    callback.v2_runner_on_ok(Result("lab1", read))
    clock.now += 1.0
    callback.v2_runner_on_ok(Result("lab2", read, {"changed": True}))
    clock.now += 0.25
    callback.v2_playbook_on_task_start(plan, False)
    callback.v2_runner_on_start(Named("lab1"), plan)
    clock.now += 0.1
    callback.v2_runner_on_ok(Result("lab1", plan))
    callback.v2_runner_on_skipped(Result("lab2", plan))
    clock.now += 0.15
    callback.v2_playbook_on_stats(None)


def test_a_task_lasts_until_the_next_one_starts_and_each_host_keeps_its_own_share(timings):
    callback, clock, output = timings
    run_two_tasks(callback, clock)
    record = json.loads(output.read_text())
    first, second = record["tasks"]
    assert first["seconds"] == pytest.approx(1.75)
    assert first["hosts"] == {"lab1": {"seconds": 0.5, "status": "ok"}, "lab2": {"seconds": 1.5, "status": "changed"}}
    assert second["seconds"] == pytest.approx(0.25)
    assert second["hosts"]["lab2"]["status"] == "skipped"
    assert (first["role"], first["play"]) == ("swarm", "Reconcile the swarm")


def test_module_runs_on_hosts_are_told_apart_from_controller_work_and_skips(timings):
    callback, clock, output = timings
    run_two_tasks(callback, clock)
    assert json.loads(output.read_text())["results_per_host"] == {
        "lab1": {"on_host": 1, "on_controller": 1, "skipped": 0},
        "lab2": {"on_host": 1, "on_controller": 0, "skipped": 1},
    }


def test_the_summary_names_the_slowest_tasks_first_with_role_and_path(timings):
    callback, clock, _output = timings
    run_two_tasks(callback, clock)
    lines = callback._display.lines  # pylint: disable=protected-access
    assert lines[0] == "aerostack.swarm.task_timings: 2 slowest of 2 tasks (2.00 s in all)"
    assert lines[1].split()[:5] == ["1.", "1.75", "s", "swarm", ":"]
    assert lines[1].rstrip().endswith("roles/x/tasks/main.yml:3 (2 hosts)")
    assert "swarm : Plan" in lines[2] and lines[2].rstrip().endswith(" roles/swarm/tasks/preflight.yml:9 (2 hosts)")
    assert lines[3] == "tasks per host (on the host / on the controller / skipped): lab1 1/1/0, lab2 1/0/1"


@pytest.mark.parametrize("top, shown", [(0, 0), (1, 1), (5, 3)])
def test_slowest_returns_at_most_top_tasks_slowest_first(top, shown):
    tasks = [{"seconds": 1.0, "n": 0}, {"seconds": 3.0, "n": 1}, {"seconds": 1.0, "n": 2}]
    picked = task_timings.slowest(tasks, top)
    assert len(picked) == shown
    assert [t["n"] for t in picked] == [1, 0, 2][:shown]


@pytest.mark.parametrize("action, status, on_host", [
    ("ansible.builtin.set_fact", "ok", False),
    ("assert", "ok", False),
    ("aerostack.swarm.swarm_info", "ok", True),
    ("ansible.builtin.template", "changed", True),
    ("aerostack.swarm.swarm_info", "skipped", False),
    ("ansible.builtin.validate_argument_spec", "ok", False),
])
def test_runs_on_host_counts_only_modules_that_reached_the_host(action, status, on_host):
    assert task_timings.runs_on_host(action, status) is on_host


PLAYBOOK = """
- name: Two tasks on this machine
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run a command on the host
      ansible.builtin.command: "true"
      changed_when: false
    - name: Decide on the controller
      ansible.builtin.set_fact:
        decided: true
"""


def test_ansible_playbook_loads_it_by_name_prints_the_summary_and_writes_the_file(tmp_path):
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    output = tmp_path / "timings.json"
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="aerostack.swarm.task_timings", AEROSTACK_TIMINGS_TOP="1",
               AEROSTACK_TIMINGS_OUTPUT=str(output), ANSIBLE_NOCOLOR="1")
    binary = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run([str(binary), "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, str(tmp_path / "play.yml")],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "aerostack.swarm.task_timings: 1 slowest of 2 tasks" in done.stdout
    assert "tasks per host (on the host / on the controller / skipped): localhost 1/1/0" in done.stdout
    record = json.loads(output.read_text())
    assert [t["name"] for t in record["tasks"]] == ["Run a command on the host", "Decide on the controller"]
    assert record["plays"][0]["name"] == "Two tasks on this machine"
