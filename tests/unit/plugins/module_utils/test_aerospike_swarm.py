"""Reading a stack through a manager's engine API and waiting for it in one process (_aerospike_swarm), over the
probe recorded on the lab (3 instances on lab1-3 of a global service, discovery on lab4; docker 20.10.24)."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_swarm import (
    StackReadError,
    judge,
    read_raw,
    reader,
    wait,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._docker_api import DockerApiError

FIXTURE = Path(__file__).resolve().parents[2] / "roles" / "aerospike" / "fixtures" / "stack-probe-3-global.json"
SERVICES = {"aerospike": "astest_aerospike", "discovery": "astest_discovery"}
HASHES = {"aerospike": "fa2bf71e2ee0", "discovery": "708e8caf0031"}


class FakeApi:
    """A manager's engine: answers /nodes, /services, /tasks and /configs from a recorded probe; ``frames`` replaces the probe
    on each read (to play a sequence), ``error`` makes every call fail like an engine without a leader."""

    def __init__(self, raw, frames=None, error=None):
        self.raw = raw
        self.frames = list(frames or [])
        self.error = error
        self.calls = []

    def request(self, method, path, query=None, body=None):
        self.calls.append((method, path, json.loads(query["filters"]) if query else None))
        if self.error:
            raise DockerApiError(self.error, status=503)
        if path == "/nodes" and self.frames:
            self.raw = self.frames.pop(0)
        if path == "/nodes":
            return self.raw["nodes"]
        if path == "/services":
            return self.raw["services"]
        if path == "/configs":
            return self.raw.get("configs", [])
        return [t for t in self.raw["tasks"] if t["ServiceID"] in json.loads(query["filters"])["service"]]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def pause(self, seconds):
        self.now += seconds


def recorded():
    return json.loads(FIXTURE.read_text())


def read_with(api):
    return reader(api, "astest", SERVICES, "astest_aerospike", HASHES, "aerostack.aerospike")


def test_read_raw_asks_for_the_stacks_services_and_their_tasks_and_the_nodes():
    api = FakeApi(recorded())
    raw = read_raw(api, "astest")
    assert [c[1] for c in api.calls] == ["/nodes", "/services", "/tasks", "/configs"]
    assert api.calls[1][2] == api.calls[3][2] == {"label": ["com.docker.stack.namespace=astest"]}
    assert sorted(api.calls[2][2]["service"]) == sorted(s["ID"] for s in recorded()["services"])
    assert len(raw["tasks"]) == 4 and len(raw["nodes"]) == 5


def test_the_stacks_configs_come_with_the_state_by_name():
    # The engine's /configs objects, as `docker config inspect` prints them (the data left out).
    configs = [{"ID": "k2", "Version": {"Index": 40}, "Spec": {"Name": "astest_aerospike_conf_9b1f0c2d4e5a",
                                                               "Labels": {"com.docker.stack.namespace": "astest"}}},
               {"ID": "k1", "Version": {"Index": 12}, "Spec": {"Name": "astest_aerospike_conf_1a2b3c4d5e6f",
                                                               "Labels": {"com.docker.stack.namespace": "astest"}}}]
    state = read_with(FakeApi(dict(recorded(), configs=configs)))()
    assert state["configs"] == ["astest_aerospike_conf_1a2b3c4d5e6f", "astest_aerospike_conf_9b1f0c2d4e5a"]
    assert read_with(FakeApi(recorded()))()["configs"] == []


def test_an_absent_stack_reads_no_tasks_and_still_the_nodes():
    api = FakeApi(dict(recorded(), services=[]))
    raw = read_raw(api, "astest")
    assert raw["services"] == [] and raw["tasks"] == [] and len(raw["nodes"]) == 5
    assert [c[1] for c in api.calls] == ["/nodes", "/services", "/configs"]


def test_an_engine_that_cannot_answer_is_a_read_error_naming_the_cause():
    with pytest.raises(StackReadError) as info:
        read_raw(FakeApi(recorded(), error="Docker engine: GET /nodes failed: HTTP 503: The swarm does not have a "
                                           "leader."), "astest")
    assert "The swarm does not have a leader" in str(info.value)
    state = read_with(FakeApi(recorded(), error="no leader"))()
    assert state["probe_error"] == "the state probe failed (rc 1): no leader"


def test_the_recorded_stack_is_what_three_instances_wait_for():
    state = read_with(FakeApi(recorded()))()
    ids = [n["id"] for n in state["nodes"] if n["labelled"]]
    assert judge(state, {"instances": 3, "nodes": ids}) == {"done": True, "waiting_for": []}
    lab4 = [n["id"] for n in state["nodes"] if n["hostname"] == "lab4"]
    assert judge(state, {"instances": 4, "nodes": ids + lab4})["waiting_for"] == [
        "3 of 4 Aerospike tasks running (3 scheduled)", "no Aerospike instance running on lab4 yet"]


def test_a_rollout_step_waits_for_one_task_fewer_on_the_old_spec():
    state = reader(FakeApi(recorded()), "astest", SERVICES, "astest_aerospike",
                   {"aerospike": "000000000000", "discovery": HASHES["discovery"]}, "aerostack.aerospike")()
    assert judge(state, {"instances": 3, "outdated_at_most": 3})["done"] is True
    verdict = judge(state, {"instances": 3, "outdated_at_most": 2})
    assert verdict == {"done": False, "waiting_for": [
        "3 of 3 Aerospike tasks running, 3 still on the old spec (at most 2 wanted)"]}


def test_wait_polls_until_the_stack_runs_as_wanted_without_more_round_trips_than_reads():
    absent = dict(recorded(), services=[], tasks=[])
    api = FakeApi(recorded(), frames=[absent, absent, recorded()])
    clock = Clock()
    state, verdict, polls, seconds = wait(read_with(api), {"instances": 3}, timeout=10, interval=0.5,
                                          clock=clock, pause=clock.pause)
    assert verdict["done"] is True and polls == 3 and seconds == 1.0
    assert state["tasks"]["running"] == 3


def test_wait_ends_at_the_deadline_saying_what_is_missing():
    clock = Clock()
    state, verdict, polls, seconds = wait(read_with(FakeApi(recorded())), {"instances": 5}, timeout=2, interval=0.5,
                                          clock=clock, pause=clock.pause)
    assert verdict["done"] is False and seconds == 2.0 and polls == 5
    assert verdict["waiting_for"][0] == "3 of 5 Aerospike tasks running (3 scheduled)"


def test_a_failed_read_during_a_wait_is_retried_until_the_deadline():
    api = FakeApi(recorded())
    read = read_with(api)
    answers = iter([{"error": "no leader"}, {}])

    def flaky():
        api.error = next(answers, {}).get("error")
        return read()

    clock = Clock()
    dummy, verdict, polls, dummy_seconds = wait(flaky, {"instances": 3}, timeout=5, interval=1, clock=clock,
                                                pause=clock.pause)
    assert verdict["done"] is True and polls == 2


def test_reading_does_not_change_the_recorded_probe():
    raw = recorded()
    before = copy.deepcopy(raw)
    read_with(FakeApi(raw))()
    assert raw == before
