"""Reading inner engines: swarm membership, engine timestamps and the stuck-in-'assigned' symptom.

The task fixtures are real `docker inspect --type task` output from a lab manager (worker paused, service
constrained to it).
"""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aerostack_lab import health

FIXTURES = Path(__file__).parent / "fixtures"


def _tasks(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T02:45:29.542779798Z", datetime(2026, 11, 22, 2, 45, 29, 542779, tzinfo=timezone.utc)),
        ("2026-11-22T02:45:29Z", datetime(2026, 11, 22, 2, 45, 29, tzinfo=timezone.utc)),
        ("2026-11-22T03:45:29.5+01:00", datetime(2026, 11, 22, 2, 45, 29, 500000, tzinfo=timezone.utc)),
    ],
)
def test_engine_timestamps_parse_with_nanoseconds_and_offsets(text, expected):
    assert health.parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-11-22 02:45:29"])
def test_malformed_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        health.parse_timestamp(text)


def test_a_task_assigned_longer_than_the_threshold_is_reported_with_service_and_node_names():
    tasks = _tasks("task-assigned-desired-running")
    since = health.parse_timestamp(tasks[0]["Status"]["Timestamp"])
    stuck = health.stuck_tasks(
        tasks,
        since + timedelta(seconds=45),
        services={"x4680r6km1ab": "stuckprobe"},
        nodes={"kjrdnyzzz52h": "lab2"},
    )
    assert [(s.task_id, s.service, s.node, round(s.seconds)) for s in stuck] == [
        ("iknvye3m8oiai3byzs53ygldv", "stuckprobe", "lab2", 45)
    ]
    assert "'assigned' to node lab2 for 45 s" in stuck[0].describe()
    assert "overlay deadlock" in stuck[0].describe()


def test_a_task_assigned_moments_ago_is_not_reported():
    tasks = _tasks("task-assigned-desired-running")
    since = health.parse_timestamp(tasks[0]["Status"]["Timestamp"])
    assert health.stuck_tasks(tasks, since + timedelta(seconds=health.STUCK_AFTER - 1)) == []


def test_an_assigned_task_the_orchestrator_wants_shut_down_is_not_reported():
    tasks = _tasks("task-assigned-desired-shutdown")
    since = health.parse_timestamp(tasks[0]["Status"]["Timestamp"])
    assert health.stuck_tasks(tasks, since + timedelta(hours=1)) == []


def test_running_tasks_are_never_reported():
    task = dict(_tasks("task-assigned-desired-running")[0])
    task["Status"] = dict(task["Status"], State="running")
    since = health.parse_timestamp(task["Status"]["Timestamp"])
    assert health.stuck_tasks([task], since + timedelta(hours=1)) == []


def test_unknown_ids_fall_back_to_short_ids():
    tasks = _tasks("task-assigned-desired-running")
    since = health.parse_timestamp(tasks[0]["Status"]["Timestamp"])
    (stuck,) = health.stuck_tasks(tasks, since + timedelta(minutes=5))
    assert (stuck.service, stuck.node) == ("x4680r6km1ab", "kjrdnyzzz52h")


@pytest.mark.parametrize(
    ("info", "described", "role"),
    [
        ({"LocalNodeState": "inactive", "ControlAvailable": False}, "inactive", ""),
        (
            {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n1", "Cluster": {"ID": "c1"}},
            "active/manager",
            "manager",
        ),
        ({"LocalNodeState": "active", "ControlAvailable": False, "NodeID": "n2"}, "active/worker", "worker"),
        ({"LocalNodeState": "error", "Error": "rpc error"}, "error (rpc error)", ""),
    ],
)
def test_swarm_info_reads_state_and_role(info, described, role):
    state = health.parse_swarm_info(json.dumps(info))
    assert state.describe() == described
    assert state.role == role
