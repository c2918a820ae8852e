"""The load generator (tools/loadgen/loadgen.py) against a fake Aerospike client: arguments, seeds, error classes,
the fixed-rate schedule on a fake clock, read-backs that tell lost from unreadable, and the program's control files.
"""

import json
import threading
from types import SimpleNamespace

import loadgen
import pytest

aerospike = pytest.importorskip("aerospike")
from aerospike import exception as aerospike_exception  # noqa: E402


def timeout_in_doubt():
    return aerospike_exception.TimeoutError(9, "timeout", __file__, 1, True)


class FakeClient:
    """Records in a dict. ``fail(seq)`` returns an exception to raise for that write (or None); ``on_put(seq)`` runs
    before each write (to move a fake clock or stop the generator); ``batch_failures`` batch reads raise first."""

    def __init__(self, fail=None, on_put=None, batch_failures=0, unreadable=()):
        self.records = {}
        self.fail = fail or (lambda seq: None)
        self.on_put = on_put or (lambda seq: None)
        self.batch_failures = batch_failures
        self.unreadable = set(unreadable)
        self.puts = 0
        self.lock = threading.Lock()

    def put(self, key, bins):
        seq = bins["seq"]
        self.on_put(seq)
        with self.lock:
            self.puts += 1
        error = self.fail(seq)
        if error is not None:
            raise error
        self.records[key] = dict(bins)

    def batch_read(self, keys):
        if self.batch_failures:
            self.batch_failures -= 1
            raise aerospike_exception.TimeoutError(9, "batch timeout", __file__, 1, False)
        found = []
        for key in keys:
            if key[2] in self.unreadable:
                found.append(SimpleNamespace(key=key, result=9, record=None))
            elif key in self.records:
                found.append(SimpleNamespace(key=key, result=0, record=(key, {"gen": 1}, self.records[key])))
            else:
                found.append(SimpleNamespace(key=key, result=2, record=None))
        return SimpleNamespace(batch_records=found)


class FakeClock:
    """Time that moves only when the generator waits (or a test moves it)."""

    def __init__(self, stop):
        self.now = 1000.0
        self.stop = stop
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return self.now

    def advance(self, seconds):
        with self.lock:
            self.now += seconds

    def wait(self, seconds):
        self.advance(max(seconds, 0.0))
        return self.stop.is_set()


def settings(tmp_path, **kwargs):
    base = dict(seeds=(("tasks.drill_aerospike", 3000),), run="r1", rate=100.0, duration=1.0, workers=4,
                workdir=str(tmp_path))
    base.update(kwargs)
    return loadgen.Settings(**base)


# --- arguments and seeds ----------------------------------------------------------------------------------------


def test_arguments_give_settings_with_defaults(tmp_path):
    got = loadgen.parse_args(["--seed", "tasks.x_aerospike", "--seed", "10.0.0.5:3100", "--run", "r-1",
                              "--workdir", str(tmp_path)])
    assert got.seeds == (("tasks.x_aerospike", 3000), ("10.0.0.5", 3100))
    assert (got.rate, got.duration, got.workers, got.timeout_ms, got.namespace) == (500.0, 600.0, 64, 2000, "test")
    write = {"total_timeout": 2000, "socket_timeout": 500, "max_retries": 2, "sleep_between_retries": 250}
    assert got.client_config()["policies"]["write"] == write
    assert got.client_config()["max_conns_per_node"] == 192
    assert got.client_config()["max_error_rate"] == 100  # the Aerospike client's own default
    assert got.retry_unsent is False
    assert got.client_config()["connect_timeout"] == 1000  # the Aerospike client's own default


def test_a_failover_policy_is_given_by_the_retry_arguments(tmp_path):
    got = loadgen.parse_args(["--seed", "h", "--run", "r", "--workdir", str(tmp_path), "--timeout-ms", "10000",
                              "--socket-timeout-ms", "1000", "--retries", "15", "--retry-pause-ms", "500",
                              "--max-error-rate", "0", "--retry-unsent"])
    write = {"total_timeout": 10000, "socket_timeout": 1000, "max_retries": 15, "sleep_between_retries": 500}
    assert got.client_config()["policies"]["write"] == write
    assert got.client_config()["max_error_rate"] == 0
    assert got.retry_unsent is True
    assert got.client_config()["connect_timeout"] == 1000  # not the 10 s of a write: it also bounds the tend


@pytest.mark.parametrize("extra, message", [
    (["--rate", "0"], "--rate 0 is out of range: from 1 to 20000"),
    (["--retries", "101"], "--retries 101 is out of range: from 0 to 100"),
    (["--retry-pause-ms", "-1"], "--retry-pause-ms -1 is out of range: from 0 to 10000"),
    (["--connect-timeout-ms", "5"], "--connect-timeout-ms 5 is out of range: from 10 to 60000"),
    (["--max-error-rate", "-1"], "--max-error-rate -1 is out of range: from 0 to 1000"),
    (["--socket-timeout-ms", "soon"], "--socket-timeout-ms 'soon' is not a number"),
    (["--rate", "fast"], "--rate 'fast' is not a number"),
    (["--duration", "9000"], "--duration 9000 is out of range: from 1 to 7200"),
    (["--workers", "1.5"], "--workers '1.5' is not a number"),
    (["--run", "a b"], "--run 'a b' must be 1-63 letters, digits"),
    (["--seed", ":3000"], "--seed ':3000' has no host name"),
    (["--seed", "h:99999"], "--seed port 99999 is out of range"),
    (["--allow", "10.0.0.0/33"], "--allow: "),
])
def test_bad_arguments_are_refused_with_the_reason(tmp_path, extra, message):
    argv = ["--seed", "h", "--run", "r", "--workdir", str(tmp_path)] + extra
    with pytest.raises(loadgen.UsageError, match=message.replace("(", r"\(").replace(".", r"\.")):
        loadgen.parse_args(argv)


def test_a_missing_workdir_is_refused(tmp_path):
    with pytest.raises(loadgen.UsageError, match="is not a directory"):
        loadgen.parse_args(["--seed", "h", "--run", "r", "--workdir", str(tmp_path / "nowhere")])


def fake_resolver(table):
    def resolve(host, port, _family, _type):
        if host not in table:
            raise OSError("Name or service not known")
        return [(2, 1, 6, "", (address, port)) for address in table[host]]
    return resolve


def test_seeds_must_resolve_into_the_allowed_networks():
    resolve = fake_resolver({"tasks.a": ["10.0.3.4", "10.0.3.5"], "outside": ["10.0.3.4", "8.8.8.8"]})
    assert loadgen.check_seeds([("tasks.a", 3000)], loadgen.DEFAULT_ALLOW, resolve) == ["10.0.3.4", "10.0.3.5"]
    with pytest.raises(loadgen.UsageError, match=r"seed outside resolves to 8\.8\.8\.8, outside the allowed"):
        loadgen.check_seeds([("outside", 3000)], loadgen.DEFAULT_ALLOW, resolve)
    with pytest.raises(loadgen.UsageError, match="seed nosuch does not resolve"):
        loadgen.check_seeds([("nosuch", 3000)], loadgen.DEFAULT_ALLOW, resolve)


def test_main_refuses_bad_arguments_before_connecting(capsys):
    assert loadgen.main(["--seed", "h", "--run", "r", "--workdir", "/nonexistent/dir"]) == 2
    assert "loadgen: --workdir /nonexistent/dir is not a directory" in capsys.readouterr().err


# --- error classes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error, expected", [
    (timeout_in_doubt(), "TimeoutError 9 in doubt"),
    (aerospike_exception.TimeoutError(9, "timeout", "f", 1, False), "TimeoutError 9"),
    (aerospike_exception.ClusterError(11, "no nodes", "f", 1, False), "ClusterError 11"),
    (aerospike_exception.ServerError(1, "server error", "f", 1, False), "ServerError 1"),
    (ValueError("bad"), "ValueError"),
])
def test_error_class_is_the_exception_code_and_doubt(error, expected):
    assert loadgen.error_class(error) == expected


# --- the schedule -----------------------------------------------------------------------------------------------


def run_generator(tmp_path, client, **kwargs):
    stop = threading.Event()
    clock = FakeClock(stop)
    journal = loadgen.Journal()
    generator = loadgen.Generator(client, settings(tmp_path, **kwargs), journal, stop, clock=clock, wait=clock.wait)
    return generator, journal, clock, stop


def test_every_slot_of_the_schedule_is_written_once_and_journaled(tmp_path):
    client = FakeClient(fail=lambda seq: timeout_in_doubt() if seq % 10 == 3 else None)
    generator, journal, _clock, _stop = run_generator(tmp_path, client, rate=100.0, duration=1.0)
    generator.run()
    counts = journal.counts()
    # 100 writes/s for 1 s on a clock that moves only while the generator waits: slots 0..99, no more.
    assert counts["sent"] == 100 and counts["skipped"] == 0
    assert counts["failed"] == {"TimeoutError 9 in doubt": 10}
    assert counts["acked"] == 90 == len(client.records)
    assert sorted(seq for seq, _at in journal.acknowledged()) == [s for s in range(100) if s % 10 != 3]
    lines = journal.drain().splitlines()
    assert len(lines) == 100
    assert [line.split(",")[3] for line in lines if line.startswith("3,")] == ["TimeoutError 9 in doubt"]
    assert journal.drain() == ""


def test_a_generator_far_behind_skips_the_missed_slots_instead_of_a_burst(tmp_path):
    holder = {}

    def slow(seq):
        if seq == 10:
            holder["clock"].advance(5.0)  # one write takes 5 s and holds the only worker

    client = FakeClient(on_put=slow)
    generator, journal, clock, _stop = run_generator(tmp_path, client, rate=100.0, duration=20.0, workers=1)
    holder["clock"] = clock
    generator.run()
    counts = journal.counts()
    assert counts["skipped"] > 0 and len(counts["skips"]) >= 1
    # Every slot is either written or skipped, and none twice.
    seqs = [seq for seq, _at in journal.acknowledged()]
    assert len(seqs) == len(set(seqs)) == counts["sent"]
    assert counts["sent"] + counts["skipped"] <= 100 * 20 + 1


def test_the_generator_stops_when_told(tmp_path):
    holder = {}

    def stop_at_50(seq):
        if seq == 50:
            holder["stop"].set()

    generator, journal, _clock, stop = run_generator(tmp_path, FakeClient(on_put=stop_at_50), rate=100.0,
                                                     duration=3600.0)
    holder["stop"] = stop
    generator.run()
    assert 50 < journal.counts()["sent"] < 60  # what was in flight when it was told
    assert generator.ended is not None


def breaker():
    return aerospike_exception.MaxErrorRateExceeded(-14, "max error rate", __file__, 1, False)


def failing_first(tries, error):
    """``fail`` for FakeClient: every write's first ``tries`` tries raise ``error()`` (a callable: one per try)."""
    seen = {}
    lock = threading.Lock()

    def fail(seq):
        with lock:
            seen[seq] = seen.get(seq, 0) + 1
            attempt = seen[seq]
        return error(attempt) if attempt <= tries else None

    return fail


def no_node():
    return aerospike_exception.InvalidNodeError(-8, "no node for the partition", __file__, 1, False)


@pytest.mark.parametrize("unsent", [breaker, no_node], ids=["circuit-breaker", "no-node-for-partition"])
def test_with_retry_unsent_a_write_the_client_did_not_send_is_tried_again(tmp_path, unsent):
    client = FakeClient(fail=failing_first(2, lambda _attempt: unsent()))
    generator, journal, _clock, _stop = run_generator(tmp_path, client, rate=10.0, duration=1.0, workers=1,
                                                      retry_unsent=True, timeout_ms=10000, retry_pause_ms=500)
    generator.run()
    counts = journal.counts()
    assert counts["failed"] == {} and counts["acked"] == counts["sent"] == len(client.records) > 0
    assert counts["backoffs"] == 2 * counts["sent"] and client.puts == 3 * counts["sent"]


def test_with_retry_unsent_a_write_gives_up_at_its_timeout_and_keeps_its_doubt(tmp_path):
    def error(attempt):
        # The first failure comes after the client sent a try (in doubt); the later ones are failed fast.
        return aerospike_exception.MaxErrorRateExceeded(-14, "max error rate", __file__, 1, attempt == 1)

    client = FakeClient(fail=failing_first(1000, error))
    generator, journal, _clock, _stop = run_generator(tmp_path, client, rate=1.0, duration=1.0, workers=1,
                                                      retry_unsent=True, timeout_ms=2000, retry_pause_ms=500)
    generator.run()
    counts = journal.counts()
    # Sent at t, tried again at t+0.5, +1.0, +1.5, +2.0: the try at the deadline is the last.
    assert counts["sent"] == 1 and counts["failed"] == {"MaxErrorRateExceeded -14 in doubt": 1}
    assert counts["backoffs"] == 4 and client.puts == 5


@pytest.mark.parametrize("unsent, outcome", [(breaker, "MaxErrorRateExceeded -14"), (no_node, "InvalidNodeError -8")],
                         ids=["circuit-breaker", "no-node-for-partition"])
def test_without_retry_unsent_a_write_the_client_did_not_send_fails(tmp_path, unsent, outcome):
    client = FakeClient(fail=failing_first(1, lambda _attempt: unsent()))
    generator, journal, _clock, _stop = run_generator(tmp_path, client, rate=10.0, duration=1.0, workers=1)
    generator.run()
    counts = journal.counts()
    assert counts["failed"] == {outcome: counts["sent"]} and counts["backoffs"] == 0


def test_other_failures_are_not_tried_again_by_the_generator(tmp_path):
    client = FakeClient(fail=failing_first(1, lambda _attempt: timeout_in_doubt()))
    generator, journal, _clock, _stop = run_generator(tmp_path, client, rate=10.0, duration=1.0, workers=1,
                                                      retry_unsent=True)
    generator.run()
    counts = journal.counts()
    assert counts["failed"] == {"TimeoutError 9 in doubt": counts["sent"]} and counts["backoffs"] == 0


def test_acknowledged_is_a_snapshot_that_later_writes_do_not_change():
    journal = loadgen.Journal()
    journal.add(1, 10.0, 10.5, "ok")
    journal.add(2, 10.1, 12.0, "TimeoutError 9")
    journal.add(3, 10.2, 11.0, "ok")
    snapshot = journal.acknowledged()
    journal.add(4, 10.3, 13.0, "ok")
    assert list(snapshot) == [(1, 10.5), (3, 11.0)] and len(snapshot) == 2
    assert snapshot[0:5] == [(1, 10.5), (3, 11.0)] and snapshot[-1] == (3, 11.0) and snapshot.latest() == 11.0
    with pytest.raises(IndexError):
        snapshot[2]  # pylint: disable=pointless-statement
    assert loadgen.Journal().acknowledged().latest() is None


# --- read-back --------------------------------------------------------------------------------------------------


def written(tmp_path, count):
    client = FakeClient()
    config = settings(tmp_path)
    for seq in range(count):
        client.put(loadgen.key_of(config, seq), loadgen.bins_of(config, seq))
    return client, config, [(seq, 2000.0 + seq) for seq in range(count)]


def test_read_back_finds_missing_and_changed_records(tmp_path):
    client, config, entries = written(tmp_path, 1200)
    del client.records[loadgen.key_of(config, 7)]
    del client.records[loadgen.key_of(config, 1100)]
    client.records[loadgen.key_of(config, 9)] = {"run": "r1", "seq": 10}
    got = loadgen.read_back(client, config, entries, batch=500)
    assert got["checked"] == 1200
    assert got["missing"] == [[7, 2007.0], [1100, 3100.0]]
    assert got["mismatched"] == [[9, 2009.0, {"run": "r1", "seq": 10}]]
    assert got["unreadable"] == [] and got["errors"] == {}


def test_read_back_retries_failed_batches_and_never_counts_them_lost(tmp_path):
    client, config, entries = written(tmp_path, 100)
    client.batch_failures = 1
    got = loadgen.read_back(client, config, entries, batch=50)
    assert got["missing"] == [] and got["unreadable"] == []
    assert got["errors"] == {"TimeoutError 9": 1}


def test_keys_that_never_answer_are_unreadable_not_lost(tmp_path):
    client, config, entries = written(tmp_path, 10)
    client.unreadable = {"r1-4"}
    got = loadgen.read_back(client, config, entries, attempts=3)
    assert got["missing"] == [] and got["unreadable"] == [[4, 2004.0, "result 9"]]
    assert got["errors"] == {"result 9": 3}


# --- the program: journal, control files, result ------------------------------------------------------------


def test_the_program_serves_a_read_back_and_stops_on_the_stop_file(tmp_path):
    (tmp_path / "control").mkdir()
    (tmp_path / "control" / "readback-1").write_text("{}")

    def stop_later(seq):
        if seq == 300:
            (tmp_path / "control" / "stop").write_text("")

    client = FakeClient(on_put=stop_later, fail=lambda seq: timeout_in_doubt() if seq == 5 else None)
    program = loadgen.Program(client, settings(tmp_path, rate=1000.0, duration=60.0))
    result = program.run()
    assert result["reason"] == "stop file"
    lines = (tmp_path / "writes.csv").read_text().splitlines()
    assert lines[0] == "seq,sent,done,outcome" and len(lines) - 1 == result["sent"] > 300
    assert result["acked"] == result["sent"] - 1 and result["failed"] == {"TimeoutError 9 in doubt": 1}
    readback = json.loads((tmp_path / "readback-1.json").read_text())
    assert readback["name"] == "readback-1" and readback["missing"] == [] and readback["unreadable"] == []
    assert readback["checked"] <= result["acked"]
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["readbacks"] == ["readback-1"] and status["sent"] == result["sent"] and not status["running"]
    assert json.loads((tmp_path / "result.json").read_text()) == result


def test_a_stop_file_that_asks_for_it_reads_back_every_key_after_the_last_write(tmp_path):
    (tmp_path / "control").mkdir()

    def stop_later(seq):
        if seq == 200:
            (tmp_path / "control" / "stop").write_text("readback\n")

    client = FakeClient(on_put=stop_later)
    result = loadgen.Program(client, settings(tmp_path, rate=1000.0, duration=60.0)).run()
    final = json.loads((tmp_path / "readback-final.json").read_text())
    assert final["checked"] == result["acked"] == result["sent"] and final["missing"] == []
    assert json.loads((tmp_path / "status.json").read_text())["readbacks"] == ["readback-final"]
