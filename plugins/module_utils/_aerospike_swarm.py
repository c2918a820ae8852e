# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What swarm runs for an Aerospike stack, read through a manager's engine API, and waiting for it in-process.

``read_raw`` returns the same ``{"services", "tasks", "nodes"}`` JSON the role's shell probe printed (the API
objects are what ``docker ... inspect`` prints), so the pure judgements of ``_aerospike_ops`` (``stack_state``,
``converged``, ``rollout_progress``) serve both. ``wait`` polls until a judgement holds or a deadline passes, in
one Python process: one Ansible round trip however long swarm takes.
"""

from __future__ import annotations

import json
import time

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_ops import (
    converged,
    rollout_progress,
    stack_state,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApiError

STACK_LABEL = "com.docker.stack.namespace"


class StackReadError(Exception):
    """The engine cannot tell what the stack runs (not a manager, no leader, no engine); the message says why."""


def read_raw(api, stack):
    """``{"services": [...], "tasks": [...], "nodes": [...], "configs": [...]}`` of ``stack`` (task history
    included; the configs are the stack's, in use or not)."""
    of_stack = {"filters": json.dumps({"label": ["%s=%s" % (STACK_LABEL, stack)]})}
    try:
        nodes = api.request("GET", "/nodes") or []
        services = api.request("GET", "/services", query=of_stack) or []
        tasks = []
        if services:
            tasks = api.request("GET", "/tasks",
                                query={"filters": json.dumps({"service": [s["ID"] for s in services]})}) or []
        configs = api.request("GET", "/configs", query=of_stack) or []
    except DockerApiError as exc:
        raise StackReadError(str(exc))
    return {"services": services, "tasks": tasks, "nodes": nodes, "configs": configs}


def judge(state, wait_for):
    """Whether ``state`` is what ``wait_for`` asks for: ``{"done": bool, "waiting_for": [...]}``.

    ``wait_for``: ``instances`` (how many Aerospike tasks must run the desired spec, with the discovery task),
    ``nodes`` (node IDs that must each run one), and, during a rolling update, ``outdated_at_most`` (the step is
    done when at most that many tasks still run the old spec and ``instances`` run).
    """
    if wait_for.get("outdated_at_most") is not None:
        if state.get("probe_error"):
            return {"done": False, "waiting_for": [state["probe_error"]]}
        tasks = state["tasks"]
        if rollout_progress(tasks, wait_for["instances"], wait_for["outdated_at_most"]):
            return {"done": True, "waiting_for": []}
        return {"done": False, "waiting_for": [
            "%d of %d Aerospike tasks running, %d still on the old spec (at most %d wanted)%s"
            % (tasks["running"], wait_for["instances"], tasks["outdated"], wait_for["outdated_at_most"],
               "".join("; " + p for p in tasks["problems"]))]}
    return converged(state, wait_for["instances"], wait_for.get("nodes"))


def wait(read, wait_for, timeout, interval, clock=time.monotonic, pause=time.sleep):
    """Read and judge until done or ``timeout`` seconds pass. ``read()`` returns a ``stack_state``.

    Returns ``(state, verdict, polls, seconds)``; a read that fails (a leader election, an engine restart)
    counts as not done and is retried until the deadline.
    """
    started = clock()
    deadline = started + timeout
    polls = 0
    while True:
        state = read()
        polls += 1
        verdict = judge(state, wait_for)
        if verdict["done"] or clock() >= deadline:
            return state, verdict, polls, clock() - started
        pause(max(0.0, min(interval, deadline - clock())))


def reader(api, stack, services, network, spec_hashes, label):
    """A function that reads and summarizes the stack now (a failed read becomes ``probe_error``, never raises)."""
    def read():
        try:
            raw = read_raw(api, stack)
        except StackReadError as exc:
            return stack_state({"rc": 1, "stdout": "", "stderr": str(exc)}, services, network, spec_hashes, label)
        return stack_state(raw, services, network, spec_hashes, label)
    return read
