"""The hit-counter app (apps/hitcounter/hitcounter.py) against a fake Aerospike client.

The fake interprets the operation dicts the real client would receive (built by the real aerospike_helpers), keeps
records in a dict, and fails on demand with the real client's exception types; the HTTP tests run the app's own
server on a free local port. One test runs the program as a process with the real client and no server.
"""

import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

aerospike = pytest.importorskip("aerospike")
from aerospike import exception as aerospike_exception  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
PROGRAM = REPO / "apps" / "hitcounter" / "hitcounter.py"
_spec = importlib.util.spec_from_file_location("hitcounter", PROGRAM)
hitcounter = importlib.util.module_from_spec(_spec)
sys.modules["hitcounter"] = hitcounter
_spec.loader.exec_module(hitcounter)

SETTINGS = hitcounter.Settings(host="tasks.demo_aerospike", namespace="test", hits_set="hits", totals_set="totals",
                               listen_port=0, server="web-1", retry_ms=0)  # one try: the retry tests set their own


class FakeClient:
    """Records in a dict; put, get and operate (increment and map increment) as the real client does them."""

    def __init__(self):
        self.records = {}
        self.connected = True
        self.failures = {}  # method name -> exception to raise
        self.after_operate = None  # an exception the next operate raises after it was applied (in doubt)
        self.before_operate = []  # callables(fake), one before each operate: another node answers, say
        self.calls = []
        self.closed = False

    def _maybe_fail(self, method):
        self.calls.append(method)
        if method in self.failures:
            raise self.failures[method]

    def put(self, key, bins):
        self._maybe_fail("put")
        self.records[key] = dict(bins)

    def get(self, key):
        self._maybe_fail("get")
        if key not in self.records:
            raise aerospike_exception.RecordNotFound(2, "AEROSPIKE_ERR_RECORD_NOT_FOUND", "src/main/fake.c", 1, False)
        return key, {"gen": 1, "ttl": 0}, json.loads(json.dumps(self.records[key]))

    def operate(self, key, ops, meta=None, policy=None):
        self._maybe_fail("operate")
        if self.before_operate:
            self.before_operate.pop(0)(self)
        record = json.loads(json.dumps(self.records.get(key, {})))  # all or nothing: applied to a copy
        condition = (policy or {}).get("expressions")
        if condition is not None and not any(condition == hitcounter.counted_filter(hit)
                                             for hit in record.get("recent", [])):  # fmt: skip
            raise aerospike_exception.FilteredOut(27, "AEROSPIKE_FILTERED_OUT", "src/main/fake.c", 1, False)
        for op in ops:
            if op["op"] == aerospike.OPERATOR_TOUCH:
                pass  # no bin changes; the real server writes the record to every copy
            elif op["op"] == aerospike.OPERATOR_INCR:
                record[op["bin"]] = record.get(op["bin"], 0) + op["val"]
            elif op["op"] == aerospike.OP_MAP_INCREMENT:
                counts = record.setdefault(op["bin"], {})
                counts[op["key"]] = counts.get(op["key"], 0) + op["val"]
            elif op["op"] == aerospike.OP_LIST_APPEND:
                items = record.setdefault(op["bin"], [])
                unique = op.get("list_policy", {}).get("write_flags", 0) & aerospike.LIST_WRITE_ADD_UNIQUE
                if unique and op["val"] in items:
                    raise aerospike_exception.ElementExistsError(24, "AEROSPIKE_ERR_FAIL_ELEMENT_EXISTS",
                                                                 "src/main/fake.c", 1, False)  # fmt: skip
                items.append(op["val"])
            elif op["op"] == aerospike.OP_LIST_REMOVE_BY_INDEX_RANGE and op["inverted"] and op["index"] < 0:
                record[op["bin"]] = record.get(op["bin"], [])[op["index"]:][:op["count"]]
            else:
                raise AssertionError("the fake does not know operation %r" % (op,))
        self.records[key] = record
        if self.after_operate is not None:
            failure, self.after_operate = self.after_operate, None
            raise failure  # applied, but the answer is lost
        return key, {"gen": 1, "ttl": 0}, {}

    def is_connected(self):
        return self.connected

    def close(self):
        self.closed = True


def timeout_error():
    return aerospike_exception.TimeoutError(9, "Timeout: timeout=1000 iterations=1 failedNodes=0", "src/x.c", 1, False)


def connected_database(client, settings=SETTINGS):
    database = hitcounter.Database(settings, factory=lambda config: client)
    database.start()
    return database


# --- settings ----------------------------------------------------------------------------------------------------


def test_settings_come_from_the_environment():
    settings = hitcounter.Settings.from_env({
        "AEROSPIKE_HOST": "tasks.payments_aerospike", "AEROSPIKE_PORT": "3100", "AEROSPIKE_NAMESPACE": "web",
        "HITCOUNTER_HITS_SET": "h", "HITCOUNTER_TOTALS_SET": "t", "HITCOUNTER_PORT": "9000",
        "HITCOUNTER_SERVER_NAME": "web-7", "HITCOUNTER_TIMEOUT_MS": "250",
    })
    assert settings == hitcounter.Settings("tasks.payments_aerospike", 3100, "web", "h", "t", 9000, "web-7", 250)
    assert settings.client_config() == {
        "hosts": [("tasks.payments_aerospike", 3100)],
        "connect_timeout": 250,
        "policies": {"read": {"total_timeout": 250}, "write": {"total_timeout": 250},
                     "operate": {"total_timeout": 250}},
    }


def test_settings_default_to_the_demo_stack_and_the_host_name():
    settings = hitcounter.Settings.from_env({})
    assert (settings.host, settings.port, settings.namespace, settings.listen_port) == (
        "tasks.aerostack_aerospike", 3000, "test", 8080)
    assert settings.server == socket.gethostname()


@pytest.mark.parametrize(("env", "named"), [
    ({"AEROSPIKE_PORT": "http"}, "AEROSPIKE_PORT='http' must be a whole number from 1 to 65535"),
    ({"HITCOUNTER_PORT": "70000"}, "HITCOUNTER_PORT='70000' must be a whole number from 1 to 65535"),
    ({"AEROSPIKE_NAMESPACE": "n" * 32}, "AEROSPIKE_NAMESPACE="),
    ({"HITCOUNTER_TIMEOUT_MS": "5"}, "HITCOUNTER_TIMEOUT_MS='5' must be a whole number from 50 to 60000"),
    ({"HITCOUNTER_RETRY_MS": "30000"}, "HITCOUNTER_RETRY_MS='30000' must be a whole number from 0 to 25000"),
], ids=["port-not-a-number", "listen-port-too-high", "namespace-too-long", "timeout-too-short", "retry-too-long"])
def test_bad_settings_are_refused_naming_the_variable(env, named):
    with pytest.raises(hitcounter.SettingsError, match="^" + named.replace("(", r"\(").replace(")", r"\)")):
        hitcounter.Settings.from_env(env)


def test_every_bad_setting_is_named_at_once():
    with pytest.raises(hitcounter.SettingsError) as refused:
        hitcounter.Settings.from_env({"AEROSPIKE_PORT": "0", "HITCOUNTER_PORT": "x"})
    assert "AEROSPIKE_PORT" in str(refused.value) and "HITCOUNTER_PORT" in str(refused.value)


# --- the data ----------------------------------------------------------------------------------------------------


def test_a_hit_writes_its_record_and_counts_it_in_the_grand_and_the_server_total():
    client = FakeClient()
    answer = hitcounter.record_hit(client, SETTINGS, now=1700000000.25, hit_id="abc")
    assert client.records[("test", "hits", "abc")] == {"id": "abc", "server": "web-1", "ts": 1700000000250}
    assert client.records[("test", "totals", "totals")] == {"hits": 1, "servers": {"web-1": 1}, "recent": ["abc"]}
    assert answer == {"hit": "abc", "server": "web-1", "instance": socket.gethostname(), "total": 1, "server_total": 1,
                      "servers": {"web-1": 1}}


def test_hits_from_several_servers_add_up_to_the_grand_total():
    client = FakeClient()
    for i in range(30):
        settings = hitcounter.Settings(server="web-%d" % (i % 3 + 1))
        hitcounter.record_hit(client, settings, now=float(i), hit_id="h%d" % i)
    totals = hitcounter.read_totals(client, SETTINGS)
    assert totals == {"total": 30, "servers": {"web-1": 10, "web-2": 10, "web-3": 10}}
    assert len([k for k in client.records if k[1] == "hits"]) == 30


def test_totals_before_the_first_hit_are_zero():
    assert hitcounter.read_totals(FakeClient(), SETTINGS) == {"total": 0, "servers": {}}


def test_a_failed_write_is_unavailable_naming_the_hit_and_the_cause_and_counts_nothing():
    client = FakeClient()
    client.failures["put"] = timeout_error()
    with pytest.raises(hitcounter.Unavailable, match=r"^writing hit h1 failed: TimeoutError \(code 9\): Timeout"):
        hitcounter.record_hit(client, SETTINGS, now=0.0, hit_id="h1")
    assert client.records == {}


class FakeTime:
    """A clock that moves only when the code under test pauses."""

    def __init__(self):
        self.now = 100.0
        self.pauses = []

    def clock(self):
        return self.now

    def pause(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds


def in_doubt_timeout():
    return aerospike_exception.TimeoutError(9, "Timeout: iterations=1", "src/x.c", 1, True)


def test_a_count_applied_whose_answer_was_lost_is_counted_once_and_answered():
    client, fake = FakeClient(), FakeTime()
    client.after_operate = in_doubt_timeout()
    settings = hitcounter.Settings(server="web-1", retry_ms=5000)
    answer = hitcounter.record_hit(client, settings, now=0.0, hit_id="h1", clock=fake.clock, pause=fake.pause)
    assert answer["total"] == 1 and answer["servers"] == {"web-1": 1}
    assert client.records[("test", "totals", "totals")]["recent"] == ["h1"]
    # The count, its second try (refused: element exists), then the touch that confirms it on every copy.
    assert client.calls.count("operate") == 3 and fake.pauses == [hitcounter.RETRY_PAUSE]


def test_a_count_only_the_answering_node_had_is_counted_again_on_the_node_that_took_over(caplog):
    client, fake = FakeClient(), FakeTime()
    key = ("test", "totals", "totals")
    client.records[key] = {"hits": 7, "servers": {"web-1": 7}, "recent": ["h0"]}
    replica = json.loads(json.dumps(client.records[key]))  # the other copy, which the first try never reached
    client.after_operate = in_doubt_timeout()

    def take_over(fake_client):
        fake_client.records[key] = replica  # the node that answers from now on has the replica's copy

    client.before_operate = [lambda _c: None, lambda _c: None, take_over]
    settings = hitcounter.Settings(server="web-1", retry_ms=5000)
    with caplog.at_level(logging.INFO, logger="hitcounter"):
        answer = hitcounter.record_hit(client, settings, now=0.0, hit_id="h1", clock=fake.clock, pause=fake.pause)
    # count (in doubt), count (element exists), touch (filtered out: no h1 here), count (applied).
    assert client.calls.count("operate") == 4 and fake.pauses == [hitcounter.RETRY_PAUSE] * 2
    assert answer["total"] == 8 and client.records[key]["recent"] == ["h0", "h1"]
    assert "hit h1: counted after 3 tries" in caplog.text


def test_the_confirming_touch_is_filtered_on_the_hit_id():
    assert hitcounter.confirm_operations() == [{"op": aerospike.OPERATOR_TOUCH}]
    assert hitcounter.counted_filter("h1") == hitcounter.counted_filter("h1") != hitcounter.counted_filter("h2")


def test_a_hit_waits_out_a_node_leaving_and_is_counted_once():
    client, fake = FakeClient(), FakeTime()
    failures = [aerospike_exception.InvalidNodeError(-8, "no node", "src/x.c", 1, False), timeout_error()]

    def put(key, bins, original=client.put):
        if failures:
            raise failures.pop(0)
        original(key, bins)

    client.put = put
    settings = hitcounter.Settings(server="web-1", retry_ms=5000)
    answer = hitcounter.record_hit(client, settings, now=0.0, hit_id="h1", clock=fake.clock, pause=fake.pause)
    assert answer["total"] == 1 and len(fake.pauses) == 2


def test_a_hit_gives_up_after_retry_ms_and_counts_nothing():
    client, fake = FakeClient(), FakeTime()
    client.failures["put"] = timeout_error()
    settings = hitcounter.Settings(server="web-1", retry_ms=2000)
    with pytest.raises(hitcounter.Unavailable, match=r"^writing hit h1 failed: TimeoutError \(code 9\)"):
        hitcounter.record_hit(client, settings, now=0.0, hit_id="h1", clock=fake.clock, pause=fake.pause)
    assert fake.pauses == [hitcounter.RETRY_PAUSE] * 8 and client.records == {}


def test_a_failure_that_is_not_transient_is_not_tried_again():
    client, fake = FakeClient(), FakeTime()
    client.failures["operate"] = aerospike_exception.ServerError(1, "AEROSPIKE_ERR_SERVER", "src/x.c", 1, False)
    settings = hitcounter.Settings(server="web-1", retry_ms=5000)
    with pytest.raises(hitcounter.Unavailable, match=r"^counting hit h1 failed: ServerError \(code 1\)"):
        hitcounter.record_hit(client, settings, now=0.0, hit_id="h1", clock=fake.clock, pause=fake.pause)
    assert fake.pauses == [] and client.calls.count("operate") == 1


def test_the_count_keeps_the_last_recent_hits_ids_and_appends_each_once():
    ops = hitcounter.counter_operations("web-1", "h9")
    assert ops[0] == {"op": aerospike.OP_LIST_APPEND, "bin": "recent", "val": "h9",
                      "list_policy": {"write_flags": aerospike.LIST_WRITE_ADD_UNIQUE}}
    assert ops[1]["op"] == aerospike.OP_LIST_REMOVE_BY_INDEX_RANGE and ops[1]["inverted"] is True
    assert (ops[1]["index"], ops[1]["count"]) == (-hitcounter.RECENT_HITS, hitcounter.RECENT_HITS)
    client = FakeClient()
    for i in range(hitcounter.RECENT_HITS + 5):
        hitcounter.record_hit(client, SETTINGS, now=0.0, hit_id="h%d" % i)
    totals = client.records[("test", "totals", "totals")]
    assert totals["hits"] == hitcounter.RECENT_HITS + 5 and totals["recent"][0] == "h5"
    assert len(totals["recent"]) == hitcounter.RECENT_HITS


def test_a_failed_count_is_unavailable():
    client = FakeClient()
    client.failures["operate"] = aerospike_exception.ServerError(1, "AEROSPIKE_ERR_SERVER", "src/x.c", 1, False)
    with pytest.raises(hitcounter.Unavailable, match=r"^counting hit h2 failed: ServerError \(code 1\)"):
        hitcounter.record_hit(client, SETTINGS, now=0.0, hit_id="h2")


# --- one client per process --------------------------------------------------------------------------------------


def test_the_client_is_created_once_and_reused_by_every_request():
    made = []

    def factory(config):
        made.append(config)
        return FakeClient()

    database = hitcounter.Database(SETTINGS, factory=factory)
    database.start()
    for _request in range(20):
        assert hitcounter.answer(database, "/")[0] == 200
    assert hitcounter.answer(database, "/stats")[1]["total"] == 20
    assert len(made) == 1
    assert made[0]["hosts"] == [("tasks.demo_aerospike", 3000)]


def test_a_failed_connection_is_retried_in_the_background_with_backoff_until_it_works(caplog):
    attempts = []
    client = FakeClient()

    def factory(config):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise aerospike_exception.ClientError(-1, "Failed to connect", "src/main/aerospike/as_cluster.c", 435,
                                                  False)
        return client

    caplog.set_level(logging.INFO, logger="hitcounter")
    database = hitcounter.Database(SETTINGS, factory=factory, retry_first=0.1, retry_max=0.4)
    database.start()
    status, body = hitcounter.answer(database, "/health")
    assert status == 503
    assert body["error"] == ("database not connected (cannot connect to tasks.demo_aerospike:3000: "
                             "ClientError (code -1): Failed to connect)")
    deadline = time.monotonic() + 5
    while hitcounter.answer(database, "/health")[0] != 200:
        assert time.monotonic() < deadline, "the background connection never succeeded: %s" % attempts
        time.sleep(0.01)
    assert len(attempts) == 3
    # The delay doubles. A loaded machine can only make a wait longer, so each wait is checked against its own
    # lower bound (comparing the two measured waits fails when the first one is stretched).
    assert attempts[1] - attempts[0] >= 0.099 and attempts[2] - attempts[1] >= 0.199, attempts
    assert "next attempt in 0.10 s" in caplog.text and "next attempt in 0.20 s" in caplog.text
    assert "connected to Aerospike through seed tasks.demo_aerospike:3000" in caplog.text
    database.close()
    assert client.closed


def test_closing_stops_the_background_attempts():
    attempts = []

    def factory(config):
        attempts.append(1)
        raise aerospike_exception.ClientError(-1, "Failed to connect", "x.c", 1, False)

    database = hitcounter.Database(SETTINGS, factory=factory, retry_first=0.02, retry_max=0.02)
    database.start()
    database.close()
    database._thread.join(2)
    assert not database._thread.is_alive()
    count = len(attempts)
    time.sleep(0.1)
    assert len(attempts) == count


# --- answers -----------------------------------------------------------------------------------------------------


def test_health_is_200_with_the_seed_when_connected():
    status, body = hitcounter.answer(connected_database(FakeClient()), "/health")
    assert status == 200
    assert body == {"status": "ok", "server": "web-1", "database": "connected", "seed": "tasks.demo_aerospike:3000",
                    "namespace": "test"}


def test_health_is_503_when_the_client_lost_the_cluster():
    client = FakeClient()
    database = connected_database(client)
    client.connected = False
    status, body = hitcounter.answer(database, "/health")
    assert (status, body["status"]) == (503, "unavailable")
    assert body["error"] == "the Aerospike client lost every node of the cluster"


def test_live_answers_without_the_database():
    def unreachable(config):
        raise OSError("no route")

    database = hitcounter.Database(SETTINGS, factory=unreachable)
    assert hitcounter.answer(database, "/live") == (200, {"status": "alive", "server": "web-1"})


def test_a_hit_that_fails_is_a_clean_503_with_one_log_line(caplog):
    client = FakeClient()
    client.failures["put"] = timeout_error()
    caplog.set_level(logging.INFO, logger="hitcounter")
    status, body = hitcounter.answer(connected_database(client), "/?from=test", now=lambda: 5.0)
    assert status == 503
    assert body["status"] == "unavailable" and body["server"] == "web-1"
    assert body["error"].startswith("writing hit ") and "TimeoutError (code 9)" in body["error"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage().startswith("GET /: 503: writing hit ")
    assert "Traceback" not in caplog.text


def test_an_unexpected_failure_is_a_503_naming_it_not_a_stack_trace(caplog):
    client = FakeClient()
    client.failures["get"] = KeyError("servers")
    status, body = hitcounter.answer(connected_database(client), "/stats")
    assert status == 503
    assert body["error"] == "reading the totals failed: KeyError: 'servers'"
    assert "Traceback" not in caplog.text


def test_stats_answer_the_totals_without_counting_a_hit():
    client = FakeClient()
    database = connected_database(client)
    hitcounter.answer(database, "/")
    assert hitcounter.answer(database, "/stats") == (200, {"total": 1, "servers": {"web-1": 1}, "server": "web-1"})
    assert hitcounter.answer(database, "/stats")[1]["total"] == 1


def test_unknown_pages_are_404_naming_the_pages_there_are():
    status, body = hitcounter.answer(connected_database(FakeClient()), "/admin")
    assert status == 404 and body["error"] == "no such page: /admin (try /, /stats, /health, /live)"


# --- over HTTP ---------------------------------------------------------------------------------------------------


@pytest.fixture
def serve():
    servers = []

    def start(database):
        server = hitcounter.make_server(database, address="127.0.0.1")
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def test_over_http_hits_are_counted_and_answered_as_json(serve):
    url = serve(connected_database(FakeClient()))
    answers = [get(url + "/") for _request in range(5)]
    assert [a[0] for a in answers] == [200] * 5
    assert [a[2]["total"] for a in answers] == [1, 2, 3, 4, 5]
    assert answers[0][1] == "application/json"
    assert get(url + "/stats")[2] == {"total": 5, "servers": {"web-1": 5}, "server": "web-1"}


def test_over_http_a_database_failure_is_a_json_503(serve):
    client = FakeClient()
    client.failures["operate"] = timeout_error()
    url = serve(connected_database(client))
    status, content_type, body = get(url + "/")
    assert (status, content_type, body["status"]) == (503, "application/json", "unavailable")
    assert "counting hit" in body["error"]


# --- the program ---------------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_program_refuses_bad_settings_with_one_line_and_status_2():
    done = subprocess.run([sys.executable, str(PROGRAM)], env=dict(os.environ, HITCOUNTER_PORT="http"),
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stdout.strip().endswith(
        "ERROR refusing to start: HITCOUNTER_PORT='http' must be a whole number from 1 to 65535")
    assert "Traceback" not in done.stdout + done.stderr


def test_the_program_without_a_server_answers_503_keeps_trying_and_stops_cleanly_on_sigterm():
    port, dead = free_port(), free_port()
    env = dict(os.environ, AEROSPIKE_HOST="127.0.0.1", AEROSPIKE_PORT=str(dead), HITCOUNTER_PORT=str(port),
               HITCOUNTER_SERVER_NAME="web-9", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, str(PROGRAM)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answers = [get("http://127.0.0.1:%d%s" % (port, path)) for path in ("/health", "/", "/live")]
                break
            except (ConnectionError, urllib.error.URLError):
                assert time.monotonic() < deadline, "the program never listened on port %d" % port
                time.sleep(0.05)
        assert [a[0] for a in answers] == [503, 503, 200]
        assert answers[0][2]["error"].startswith("database not connected (cannot connect to 127.0.0.1:%d: " % dead)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = process.stdout.read()
    assert "next attempt in" in log and "stopping (signal 15)" in log
    assert "Traceback" not in log


# --- a page for a browser ------------------------------------------------------------------------------------------

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(("accept", "html"), [
    (BROWSER_ACCEPT, True),
    ("text/html", True),
    ("text/*", True),
    ("application/json;q=0.5, text/html", True),
    (None, False),
    ("", False),
    ("*/*", False),
    ("application/json", False),
    ("text/html;q=0.5, application/json", False),
    ("text/html;q=0", False),
    ("image/png", False),
    ("application/xhtml+xml", False),
    ("text/html;q=banana", False),
    ("text/html;q=7", False),
    (";;,/, text", False),
], ids=["browser", "html", "text-any", "html-preferred", "no-header", "empty", "curl-any", "json", "json-preferred",
        "html-refused", "unservable", "xhtml-only", "bad-weight", "weight-out-of-range", "garbage"])
def test_the_accept_header_chooses_html_only_when_the_client_prefers_it(accept, html):
    assert hitcounter.wants_html(accept) is html


def test_the_page_shows_the_total_the_servers_the_answering_server_and_a_usable_database():
    client = FakeClient()
    database = connected_database(client)
    for _hit in range(2):
        hitcounter.answer(database, "/")
    hitcounter.answer(connected_database(client, hitcounter.Settings(**dict(SETTINGS.__dict__, server="web-2"))), "/")
    status, body = hitcounter.answer(database, "/")
    text = hitcounter.page(status, body, SETTINGS)
    assert text.startswith("<!DOCTYPE html>")
    assert '<p class="total" id="total">4</p>' in text
    assert 'Answered by <strong id="server">web-1</strong>' in text
    assert '<tr class="this"><td>web-1</td><td class="count">3</td></tr>' in text
    assert '<tr><td>web-2</td><td class="count">1</td></tr>' in text
    assert "Database: connected (seed tasks.demo_aerospike:3000, namespace test)" in text
    assert "http://" not in text and "https://" not in text and "<script" not in text, "no external assets"


def test_the_page_of_an_unusable_database_says_why_and_counts_nothing():
    def unreachable(config):
        raise OSError("no route")

    database = hitcounter.Database(SETTINGS, factory=unreachable)
    database.connect_once()
    status, body = hitcounter.answer(database, "/")
    text = hitcounter.page(status, body, SETTINGS)
    assert status == 503
    assert ('<p class="health down" id="health">Database: NOT usable (HTTP 503): database not connected (cannot '
            'connect to tasks.demo_aerospike:3000: OSError: no route)</p>') in text
    assert '<p class="total" id="total">?</p>' in text and "this hit was not counted" in text
    assert "No totals while the database is not usable." in text and "<table" not in text


def test_the_page_escapes_what_it_shows():
    settings = hitcounter.Settings(**dict(SETTINGS.__dict__, server="<b>web</b>"))
    text = hitcounter.page(200, {"server": "<b>web</b>", "total": 1, "servers": {"<b>web</b>": 1}}, settings)
    assert "<b>web</b>" not in text and "&lt;b&gt;web&lt;/b&gt;" in text
    text = hitcounter.page(503, {"server": "web-1", "error": "<script>alert(1)</script>"}, SETTINGS)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def fetch(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def test_over_http_a_browser_gets_the_page_and_api_clients_keep_json(serve):
    url = serve(connected_database(FakeClient()))
    status, headers, text = fetch(url + "/", BROWSER_ACCEPT)
    assert (status, headers["Content-Type"], headers["Vary"]) == (200, "text/html; charset=utf-8", "Accept")
    assert '<p class="total" id="total">1</p>' in text and int(headers["Content-Length"]) == len(text.encode())
    for accept in ("*/*", "application/json", None, "image/png", "text/html;q=0"):
        status, headers, text = fetch(url + "/", accept)
        assert (status, headers["Content-Type"]) == (200, "application/json"), accept
        assert headers["Vary"] == "Accept"
        assert json.loads(text)["server"] == "web-1"
    assert json.loads(fetch(url + "/stats", BROWSER_ACCEPT)[2])["total"] == 6, "only / has a page; hits: 1 + 5"
    status, headers, _text = fetch(url + "/health", BROWSER_ACCEPT)
    assert headers["Content-Type"] == "application/json" and headers["Vary"] is None


def test_over_http_a_browser_sees_the_database_failure_as_a_page_with_status_503(serve):
    client = FakeClient()
    client.failures["put"] = timeout_error()
    url = serve(connected_database(client))
    status, headers, text = fetch(url + "/", BROWSER_ACCEPT)
    assert (status, headers["Content-Type"]) == (503, "text/html; charset=utf-8")
    assert "Database: NOT usable (HTTP 503): writing hit " in text and "TimeoutError (code 9)" in text
