# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: task_timings
type: aggregate
short_description: Wall time of every task and of every host's share of it; the slowest tasks at the end
version_added: 0.1.0
description:
  - Records, for every task and handler, when it started and ended (the next task's start, or the end of the play),
    and for every host how long its result took and what it was (ok, changed, skipped, failed, unreachable).
  - At the end of the run prints the O(top) slowest tasks with their role, file and line, and per host how many
    tasks ran a module on it (each at least one connection round trip) and how many were done on the controller
    alone (C(set_fact), C(assert), C(debug), ...) or skipped.
  - With O(output) set, also writes everything as JSON (absolute start and end times, so a benchmark can mark
    the phases of a playbook on a timeline).
  - Enable it with C(ANSIBLE_CALLBACKS_ENABLED=aerostack.swarm.task_timings) (or C(callbacks_enabled) in
    ansible.cfg); it adds to the normal output and changes nothing on the hosts.
author:
  - aerostack.swarm maintainers (@aerostack)
options:
  top:
    description: How many of the slowest tasks to print at the end (0 prints none).
    type: int
    default: 10
    env:
      - name: AEROSTACK_TIMINGS_TOP
    ini:
      - section: aerostack_task_timings
        key: top
  output:
    description: A file to write every task's timings to as JSON (C(~) is expanded); empty writes none.
    type: str
    default: ""
    env:
      - name: AEROSTACK_TIMINGS_OUTPUT
    ini:
      - section: aerostack_task_timings
        key: output
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

_STATUSES = ("ok", "changed", "skipped", "failed", "unreachable")
# Actions that Ansible runs on the controller without connecting to the host.
_CONTROLLER_ACTIONS = frozenset(
    prefix + name
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for name in ("set_fact", "assert", "debug", "fail", "meta", "add_host", "group_by", "include_vars", "set_stats",
                 "include_tasks", "import_tasks", "include_role", "import_role", "pause", "validate_argument_spec")
)


def runs_on_host(action, status):
    """Whether a task result cost a connection to the host: a module ran there (not skipped, not controller-only)."""
    return status != "skipped" and action not in _CONTROLLER_ACTIONS


def task_label(role, name):
    """``role : name`` as Ansible shows it, or the name alone outside a role."""
    return "%s : %s" % (role, name) if role else name


def short_path(path):
    """A task's ``file:line`` inside its collection (``roles/swarm/tasks/form.yml:2``), else as given."""
    marker = "/ansible_collections/"
    if marker in path:
        parts = path.split(marker, 1)[1].split("/", 2)
        if len(parts) == 3:
            return parts[2]
    return path


def slowest(tasks, top):
    """The ``top`` slowest of ``tasks`` (dicts with ``seconds``), slowest first; equal times keep run order."""
    order = sorted(range(len(tasks)), key=lambda i: (-tasks[i]["seconds"], i))
    return [tasks[i] for i in order[:max(0, top)]]


def summary_lines(record, top):
    """What is printed at the end of a run: the slowest tasks and the task results per host."""
    tasks = record["tasks"]
    begun = record.get("started") or (tasks[0]["start"] if tasks else None)
    total = (record["finished"] - begun) if record.get("finished") and begun else 0.0
    lines = []
    if top > 0 and tasks:
        lines.append("aerostack.swarm.task_timings: %d slowest of %d tasks (%.2f s in all)" % (
            min(top, len(tasks)), len(tasks), total))
        for rank, task in enumerate(slowest(tasks, top), 1):
            hosts = task["hosts"]
            lines.append("%3d. %7.2f s  %-70s %s (%d host%s)" % (
                rank, task["seconds"], task_label(task["role"], task["name"])[:70], task["path"] or "-",
                len(hosts), "" if len(hosts) == 1 else "s"))
    results = record["results_per_host"]
    if results:
        lines.append("tasks per host (on the host / on the controller / skipped): %s" % ", ".join(
            "%s %d/%d/%d" % (host, c["on_host"], c["on_controller"], c["skipped"])
            for host, c in sorted(results.items())))
    return lines


class CallbackModule(CallbackBase):
    """Times tasks as the linear strategy runs them: a task lasts from its start until the next task starts."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "aerostack.swarm.task_timings"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._clock = time.time
        self._record = {"playbook": None, "started": None, "finished": None, "plays": [], "tasks": [],
                        "results_per_host": {}}
        self._current = None
        self._host_started = {}

    # --- what Ansible calls --------------------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._record["playbook"] = getattr(playbook, "_file_name", None)
        self._record["started"] = self._clock()

    def v2_playbook_on_play_start(self, play):
        self._close_task()
        self._record["plays"].append({"name": play.get_name().strip(), "start": self._clock()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open_task(task, handler=False)

    def v2_playbook_on_handler_task_start(self, task):
        self._open_task(task, handler=True)

    def v2_runner_on_start(self, host, task):
        self._host_started[(host.get_name(), task._uuid)] = self._clock()

    def v2_runner_on_ok(self, result):
        self._host_done(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._host_done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._host_done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        self._record["finished"] = self._clock()
        for line in summary_lines(self._record, self.get_option("top")):
            self._display.display(line)
        output = os.path.expanduser(self.get_option("output") or "")
        if output:
            directory = os.path.dirname(os.path.abspath(output))
            if not os.path.isdir(directory):
                os.makedirs(directory)
            with open(output, "w") as handle:
                json.dump(self._record, handle, indent=1, sort_keys=True)

    # --- bookkeeping -------------------------------------------------------------------------------------------

    def _open_task(self, task, handler):
        self._close_task()
        role = task._role.get_name(include_role_fqcn=False) if getattr(task, "_role", None) else ""
        self._current = {
            "name": (task.name or task.action or "").strip(),
            "role": role,
            "path": short_path(task.get_path() or ""),
            "handler": handler,
            "play": self._record["plays"][-1]["name"] if self._record["plays"] else "",
            "start": self._clock(),
            "end": None,
            "seconds": 0.0,
            "hosts": {},
            "uuid": task._uuid,
        }
        self._record["tasks"].append(self._current)

    def _close_task(self):
        if self._current is not None:
            self._current["end"] = self._clock()
            self._current["seconds"] = self._current["end"] - self._current["start"]
            self._current.pop("uuid", None)
            self._current = None

    def _host_done(self, result, status):
        host = result._host.get_name()
        now = self._clock()
        task = self._current
        started = self._host_started.pop((host, result._task._uuid), None)
        counts = self._record["results_per_host"].setdefault(host, {"on_host": 0, "on_controller": 0, "skipped": 0})
        if status == "skipped":
            counts["skipped"] += 1
        elif runs_on_host(result._task.action, status):
            counts["on_host"] += 1
        else:
            counts["on_controller"] += 1
        if task is None or task.get("uuid") != result._task._uuid:
            return
        entry = task["hosts"].setdefault(host, {"seconds": 0.0, "status": status})
        entry["seconds"] = round(now - started, 4) if started is not None else None
        entry["status"] = status if status in _STATUSES else "ok"
