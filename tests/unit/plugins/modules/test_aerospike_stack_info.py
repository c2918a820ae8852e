"""aerospike_stack_info: the stack read through an engine socket, and its refusals (nothing is ever changed)."""

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ansible_collections.aerostack.swarm.plugins.modules import aerospike_stack_info
from module_runner import run_module

FIXTURE = Path(__file__).resolve().parents[2] / "roles" / "aerospike" / "fixtures" / "stack-probe-3-global.json"
HASHES = {"aerospike": "fa2bf71e2ee0", "discovery": "708e8caf0031"}


class _Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _handler(raw, seen):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.path)
            path = self.path.split("?", 1)[0].split("/", 2)[-1]
            body = {"nodes": raw["nodes"], "services": raw["services"], "tasks": raw["tasks"],
                    "configs": raw.get("configs", [])}.get(path)
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

        def address_string(self):
            return "engine"

    return Handler


@pytest.fixture
def engine(tmp_path):
    """A manager's engine socket answering /nodes, /services, /tasks and /configs with the probe recorded on the
    lab (which has no configs)."""
    raw = json.loads(FIXTURE.read_text())
    seen = []
    path = str(tmp_path / "docker.sock")
    server = _Engine(path, _handler(raw, seen))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "unix://" + path, seen
    finally:
        server.shutdown()
        server.server_close()


def _run(capsys, **args):
    return run_module(aerospike_stack_info, args, capsys=capsys)


def test_reads_the_stack_with_its_hosts_and_changes_nothing(capsys, engine):
    socket, seen = engine
    result, failed = _run(capsys, stack="astest", spec_hashes=HASHES, docker_host=socket)
    assert not failed and result["changed"] is False
    state = result["state"]
    assert [(t["host"], t["address"]) for t in state["tasks"]["tasks"]] == [
        ("lab1", "10.0.1.5"), ("lab2", "10.0.1.3"), ("lab3", "10.0.1.4")]
    assert state["aerospike"]["mode"] == "global" and state["discovery_tasks"]["running"] == 1
    assert [n["hostname"] for n in state["nodes"] if n["labelled"]] == ["lab1", "lab2", "lab3"]
    assert state["configs"] == []
    assert all(path.split("?")[0].rsplit("/", 1)[-1] in ("nodes", "services", "tasks", "configs") for path in seen)


def test_a_wait_that_is_met_reports_its_polls(capsys, engine):
    socket, dummy = engine
    result, failed = _run(capsys, stack="astest", spec_hashes=HASHES, docker_host=socket,
                          wait_for={"instances": 3, "timeout": 5})
    assert not failed
    assert result["waited"]["done"] is True and result["waited"]["polls"] == 1


def test_a_wait_that_runs_out_is_reported_not_failed(capsys, engine):
    socket, dummy = engine
    result, failed = _run(capsys, stack="astest", spec_hashes=HASHES, docker_host=socket,
                          wait_for={"instances": 4, "timeout": 0.2, "interval": 0.1})
    assert not failed
    assert result["waited"]["done"] is False
    assert result["waited"]["waiting_for"] == ["3 of 4 Aerospike tasks running (3 scheduled)"]


@pytest.mark.parametrize("args,message", [
    ({"docker_host": "tcp://1.2.3.4:2375"},
     "docker_host=tcp://1.2.3.4:2375: only unix:// sockets are supported (for example unix:///var/run/docker.sock)"),
    ({"wait_for": {"instances": 3, "interval": 0}},
     "wait_for.instances and wait_for.timeout must be 0 or more and wait_for.interval above 0"),
    ({"docker_host": "unix:///nonexistent/aerostack-test/docker.sock"},
     "cannot read the state of stack astest: the state probe failed (rc 1): Docker engine at "
     "unix:///nonexistent/aerostack-test/docker.sock: GET /nodes failed: [Errno 2] No such file or directory"),
])
def test_bad_input_fails_clearly(capsys, args, message):
    result, failed = _run(capsys, stack="astest", **args)
    assert failed
    assert result["msg"].startswith(message), result["msg"]
