# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded write load on an Aerospike cluster, counting what is acknowledged, what fails and what is lost.

The load drill (tests/lab/test_load_drill.py, ``scripts/drill load``, docs/drills.md) runs this program as a
one-off swarm service on the Aerospike stack's overlay network, in the hit counter's image (which has the Aerospike
Python client), with a work directory bind-mounted from the host it runs on:

    python3 loadgen.py --seed tasks.loaddrill_aerospike --namespace test --set loaddrill --run RUN \\
        --rate 500 --duration 1200 --workdir /loadgen

It writes one new record per slot of a fixed schedule (``--rate`` per second) for at most ``--duration`` seconds:
key ``<run>-<seq>``, bins ``{"run": RUN, "seq": SEQ}``. Every write is journaled as ``seq,sent,done,outcome``
(``ok``, or the error class of the failure) in ``writes.csv``; ``status.json`` says every second how far it is.
While it runs, the drill drops files into ``control/``:

- ``readback-<n>``: read back every key acknowledged so far and write ``readback-<n>.json``: how many were checked,
  which are missing (``[seq, acknowledged at]``), which have another value, which could not be read (and why);
- ``stop``: stop now; when the file says ``readback``, read back every acknowledged key after the last write ended
  (``readback-final.json``), so that the last keys are checked too.

It stops by itself after ``--duration`` seconds, on ``stop`` and on SIGTERM/SIGINT, and writes ``result.json``.
It only talks to the seeds' addresses and the nodes the cluster announces; it refuses seeds that resolve outside
``--allow`` (default: the private ranges and 198.18.0.0/15, where the lab lives).

Standard library only, besides the Aerospike client (imported only when the program runs against a server).
"""

from __future__ import annotations

import argparse
import array
import ipaddress
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

__version__ = "0.1.0"

#: Where a cluster of the lab lives: private ranges, and 198.18.0.0/15 (the lab bridge, RFC 2544).
DEFAULT_ALLOW = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.18.0.0/15", "127.0.0.0/8")
#: When the generator is this many seconds behind its schedule it gives up the missed slots (counted as skipped)
#: instead of sending them in a burst.
CATCH_UP_LIMIT = 1.0
#: Keys per batch read of a read-back, and how often a key that could not be read is tried again.
BATCH = 500
READ_ATTEMPTS = 3
#: How often the control directory is looked at and the journal written out, in seconds.
CONTROL_INTERVAL = 0.2
FLUSH_INTERVAL = 1.0


class UsageError(ValueError):
    """An argument is not usable; the message says which and what it accepts."""


@dataclass(frozen=True)
class Settings:
    """What to write, where, how fast and for how long."""

    seeds: tuple = ()  # ((host, port), ...)
    namespace: str = "test"
    set_name: str = "loaddrill"
    run: str = "run"
    rate: float = 500.0
    duration: float = 600.0
    workers: int = 64
    timeout_ms: int = 2000
    socket_timeout_ms: int = 500
    connect_timeout_ms: int = 1000
    retries: int = 2
    retry_pause_ms: int = 250
    max_error_rate: int = 100
    retry_unsent: bool = False
    workdir: str = "."
    allow: tuple = DEFAULT_ALLOW

    def client_config(self) -> dict:
        """The Aerospike client's configuration. Writes are retried: each key is written once with one value, so a
        retried write cannot change what the drill expects to read. The pause between tries lets a retry reach the
        node that took over a partition (the client refreshes its partition map every second); without it every try
        goes to the node that left, within milliseconds. Connections per node allow every worker and a read-back.
        ``connect_timeout_ms`` also bounds the client's tend thread: while it waits to connect to a node that is
        gone (its address silent on the overlay), the partition map is not refreshed and writes keep going to the
        node that left.
        ``max_error_rate`` is the client's circuit breaker: after that many errors to one node within a tend
        interval it fails further commands to that node at once (MaxErrorRateExceeded). Aerospike documents 0 as
        no limit, but a real-server drill run with 0 saw as many MaxErrorRateExceeded as one with 100."""
        write = {"total_timeout": self.timeout_ms, "socket_timeout": self.socket_timeout_ms,
                 "max_retries": self.retries, "sleep_between_retries": self.retry_pause_ms}  # fmt: skip
        return {
            "hosts": list(self.seeds),
            "connect_timeout": self.connect_timeout_ms,
            "max_conns_per_node": self.workers * 2 + 64,
            "max_error_rate": self.max_error_rate,
            "policies": {"write": write, "read": dict(write), "batch": dict(write, total_timeout=10 * self.timeout_ms)},
        }


def _number(text: str, name: str, low: float, high: float, kind: Callable = float):
    try:
        value = kind(text)
    except ValueError:
        raise UsageError("%s %r is not a number" % (name, text)) from None
    if not low <= value <= high:
        raise UsageError("%s %s is out of range: from %s to %s" % (name, text, low, high))
    return value


def _seed(text: str) -> tuple:
    host, _sep, port = text.partition(":")
    if not host:
        raise UsageError("--seed %r has no host name" % text)
    return host, _number(port, "--seed port", 1, 65535, int) if port else 3000


def parse_args(argv: Iterable[str]) -> Settings:
    """Settings from the command line; UsageError (with the reason) for anything out of range."""

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise UsageError(message)

    parser = Parser(prog="loadgen.py", description="A bounded write load on an Aerospike cluster.")
    parser.add_argument("--seed", action="append", required=True, help="HOST[:PORT] (default port 3000)")
    parser.add_argument("--namespace", default="test")
    parser.add_argument("--set", dest="set_name", default="loaddrill")
    parser.add_argument("--run", required=True, help="names this run: keys are RUN-SEQ")
    parser.add_argument("--rate", default="500", help="writes per second (1-20000)")
    parser.add_argument("--duration", default="600", help="seconds at most (1-7200)")
    parser.add_argument("--workers", default="64", help="writes in flight at most (1-512)")
    parser.add_argument("--timeout-ms", default="2000", help="per write, retries included (50-60000)")
    parser.add_argument("--socket-timeout-ms", default="500", help="per try (10-60000)")
    parser.add_argument("--connect-timeout-ms", default="1000",
                        help="to open a connection, also the client's tend of the cluster (10-60000; the client's "
                             "default 1000)")
    parser.add_argument("--retries", default="2", help="tries after the first, within --timeout-ms (0-100)")
    parser.add_argument("--retry-pause-ms", default="250", help="between two tries (0-10000)")
    parser.add_argument("--max-error-rate", default="100",
                        help="errors to one node per tend interval before the client fails fast to it (0-1000; "
                             "the client's default 100)")
    parser.add_argument("--retry-unsent", action="store_true",
                        help="try a write the client failed without sending it again after --retry-pause-ms, until "
                             "--timeout-ms has passed since it was first sent: its circuit breaker failed it fast "
                             "(MaxErrorRateExceeded, the back-off Aerospike asks of applications), or its partition "
                             "map had no node for the key's partition (InvalidNodeError, while a node joins or "
                             "leaves)")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--allow", action="append", help="a network the seeds must resolve into (repeatable)")
    args = parser.parse_args(list(argv))
    for name, value in (("--namespace", args.namespace), ("--set", args.set_name), ("--run", args.run)):
        if not value or len(value) > 63 or not all(c.isalnum() or c in "-_." for c in value):
            raise UsageError("%s %r must be 1-63 letters, digits, '-', '_' or '.'" % (name, value))
    try:
        allow = tuple(str(ipaddress.ip_network(n, strict=False)) for n in (args.allow or DEFAULT_ALLOW))
    except ValueError as exc:
        raise UsageError("--allow: %s" % exc) from None
    if not os.path.isdir(args.workdir):
        raise UsageError("--workdir %s is not a directory" % args.workdir)
    return Settings(
        seeds=tuple(_seed(s) for s in args.seed),
        namespace=args.namespace,
        set_name=args.set_name,
        run=args.run,
        rate=_number(args.rate, "--rate", 1, 20000),
        duration=_number(args.duration, "--duration", 1, 7200),
        workers=_number(args.workers, "--workers", 1, 512, int),
        timeout_ms=_number(args.timeout_ms, "--timeout-ms", 50, 60000, int),
        socket_timeout_ms=_number(args.socket_timeout_ms, "--socket-timeout-ms", 10, 60000, int),
        connect_timeout_ms=_number(args.connect_timeout_ms, "--connect-timeout-ms", 10, 60000, int),
        retries=_number(args.retries, "--retries", 0, 100, int),
        retry_pause_ms=_number(args.retry_pause_ms, "--retry-pause-ms", 0, 10000, int),
        max_error_rate=_number(args.max_error_rate, "--max-error-rate", 0, 1000, int),
        retry_unsent=args.retry_unsent,
        workdir=args.workdir,
        allow=allow,
    )


def check_seeds(seeds, allow, resolve=socket.getaddrinfo) -> list:
    """The addresses the seeds resolve to; UsageError when one resolves nowhere or outside the ``allow`` networks
    (the load goes to the lab's own addresses only)."""
    networks = [ipaddress.ip_network(n) for n in allow]
    found = []
    for host, port in seeds:
        try:
            addresses = sorted(set(info[4][0] for info in resolve(host, port, 0, socket.SOCK_STREAM)))
        except OSError as exc:
            raise UsageError("seed %s does not resolve: %s" % (host, exc)) from None
        outside = [a for a in addresses if not any(ipaddress.ip_address(a) in n for n in networks)]
        if outside:
            raise UsageError("seed %s resolves to %s, outside the allowed networks %s" % (
                host, ", ".join(outside), ", ".join(allow)))
        found += addresses
    return found


# --- what a write is and how it fails -------------------------------------------------------------------------


def key_of(settings: Settings, seq: int) -> tuple:
    return settings.namespace, settings.set_name, "%s-%d" % (settings.run, seq)


def bins_of(settings: Settings, seq: int) -> dict:
    return {"run": settings.run, "seq": seq}


def error_class(exc: BaseException) -> str:
    """The class of a failure, as the report counts it: the client's exception name and code, and ``in doubt`` when
    the client says the write may have been applied (it was sent and no answer came back)."""
    code = getattr(exc, "code", None)
    args = getattr(exc, "args", ())
    if code is None and len(args) >= 2 and isinstance(args[0], int):
        code = args[0]  # the client's exceptions carry (code, message, file, line, in_doubt)
    in_doubt = getattr(exc, "in_doubt", None)
    if in_doubt is None and len(args) >= 5 and isinstance(args[0], int):
        in_doubt = args[4]
    name = type(exc).__name__
    text = name if code is None else "%s %s" % (name, code)
    return text + " in doubt" if in_doubt else text


#: Result codes of a command the client failed without sending it: its circuit breaker failed it fast
#: (MaxErrorRateExceeded, -14), or its partition map had no node for the key's partition (InvalidNodeError, -8).
UNSENT_CODES = {-14: "MaxErrorRateExceeded", -8: "InvalidNodeError"}


def is_unsent(exc: BaseException) -> bool:
    """The client failed the command without sending it (UNSENT_CODES): trying it again cannot apply it twice."""
    code = getattr(exc, "code", None)
    return code in UNSENT_CODES or (code is None and type(exc).__name__ in UNSENT_CODES.values())


def is_not_found(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == 2 or type(exc).__name__ == "RecordNotFound"


# --- the journal of writes ------------------------------------------------------------------------------------


class Acknowledged:
    """A snapshot of the first ``length`` acknowledged writes, as a sequence of ``(seq, done)`` built on demand (an
    hour at 500/s is 1.8 million writes: two arrays take 16 bytes a write, a list of tuples about 120)."""

    def __init__(self, seqs, dones, length: int) -> None:
        self._seqs, self._dones, self._length = seqs, dones, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [(self._seqs[i], self._dones[i]) for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError(index)
        return self._seqs[index % self._length], self._dones[index % self._length]

    def latest(self):
        """When the last of them was acknowledged, or None."""
        return max(self._dones[:self._length]) if self._length else None


class Journal:
    """Every write's outcome, thread-safe: ``add`` from the workers, ``drain`` the lines not yet written out,
    ``acknowledged`` the ``(seq, done)`` of the writes the server acknowledged so far."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list = []
        self._acked_seqs = array.array("q")
        self._acked_dones = array.array("d")
        self.sent = 0
        self.failed: dict = {}
        self.skipped = 0
        self.skips: list = []
        self.backoffs = 0
        self.last_ack = None

    def add(self, seq: int, sent: float, done: float, outcome: str) -> None:
        with self._lock:
            self.sent += 1
            self._pending.append("%d,%.4f,%.4f,%s\n" % (seq, sent, done, outcome))
            if outcome == "ok":
                self._acked_seqs.append(seq)
                self._acked_dones.append(done)
                self.last_ack = done if self.last_ack is None else max(self.last_ack, done)
            else:
                self.failed[outcome] = self.failed.get(outcome, 0) + 1

    def backoff(self) -> None:
        """A write the client failed without sending it is tried again (``--retry-unsent``)."""
        with self._lock:
            self.backoffs += 1

    def skip(self, count: int, at: float) -> None:
        with self._lock:
            self.skipped += count
            self.skips.append([round(at, 4), count])

    def drain(self) -> str:
        with self._lock:
            lines, self._pending = self._pending, []
        return "".join(lines)

    def acknowledged(self) -> Acknowledged:
        """The writes acknowledged until now (arrays only grow: later writes are not part of the snapshot)."""
        with self._lock:
            return Acknowledged(self._acked_seqs, self._acked_dones, len(self._acked_seqs))

    def counts(self) -> dict:
        with self._lock:
            return {"sent": self.sent, "acked": len(self._acked_seqs), "failed": dict(self.failed),
                    "skipped": self.skipped, "skips": list(self.skips), "backoffs": self.backoffs,
                    "last_ack": self.last_ack}  # fmt: skip


# --- the load -------------------------------------------------------------------------------------------------


class Generator:
    """Writes on a fixed schedule with ``settings.workers`` writes in flight at most, until ``stop`` is set or
    ``settings.duration`` has passed. A slot whose time has come is handed to a free worker; when the generator
    falls more than CATCH_UP_LIMIT seconds behind (every worker waiting on the server) it skips the missed slots
    and counts them, rather than sending them in a burst later."""

    def __init__(self, client: Any, settings: Settings, journal: Journal, stop: threading.Event,
                 clock: Callable[[], float] = time.time, wait: Callable[[float], Any] | None = None) -> None:  # fmt: skip
        self.client = client
        self.settings = settings
        self.journal = journal
        self.stop = stop
        self.clock = clock
        self.wait = wait or stop.wait  # until the next slot is due, or stop
        self.started = None
        self.ended = None

    def _work(self, slots: queue.Queue) -> None:
        while True:
            seq = slots.get()
            if seq is None:
                return
            sent = self.clock()
            outcome = self._put(seq, sent)
            self.journal.add(seq, sent, self.clock(), outcome)

    def _put(self, seq: int, sent: float) -> str:
        """Write ``seq``: ``ok`` or the class of the failure. With ``retry_unsent``, a write the client failed without
        sending it (``is_unsent``) is tried again after the retry pause until ``timeout_ms`` has passed since
        ``sent`` (or the generator stops); it stays ``in doubt`` when an earlier try was."""
        deadline = sent + self.settings.timeout_ms / 1000.0
        in_doubt = False
        while True:
            try:
                self.client.put(key_of(self.settings, seq), bins_of(self.settings, seq))
                return "ok"
            except Exception as exc:  # pylint: disable=broad-exception-caught
                outcome = error_class(exc)
                if outcome.endswith(" in doubt"):
                    in_doubt = True
                elif in_doubt:
                    outcome += " in doubt"
                if not (self.settings.retry_unsent and is_unsent(exc)) or self.clock() >= deadline:
                    return outcome
                self.journal.backoff()
                if self.wait(self.settings.retry_pause_ms / 1000.0):
                    return outcome

    def run(self) -> None:
        rate, workers = self.settings.rate, self.settings.workers
        slots: queue.Queue = queue.Queue(maxsize=workers)
        threads = [threading.Thread(target=self._work, args=(slots,), daemon=True) for _number in range(workers)]
        for thread in threads:
            thread.start()
        self.started = anchor = self.clock()
        deadline = self.started + self.settings.duration
        seq = anchor_seq = 0
        try:
            while not self.stop.is_set():
                now = self.clock()
                if now >= deadline:
                    break
                due = anchor + (seq - anchor_seq) / rate
                if due > now:
                    self.wait(min(due, deadline) - now)
                    continue
                if now - due > CATCH_UP_LIMIT:
                    missed = int((now - due) * rate)
                    self.journal.skip(missed, now)
                    seq += missed
                    anchor, anchor_seq = now, seq
                try:
                    slots.put(seq, timeout=CONTROL_INTERVAL)
                except queue.Full:
                    continue
                seq += 1
        finally:
            for _thread in threads:
                slots.put(None)
            # Every write ends within its total timeout (retries included): the workers finish their last write.
            limit = self.clock() + self.settings.timeout_ms / 1000.0 * 2 + 5
            for thread in threads:
                thread.join(max(0.0, limit - self.clock()))
            self.ended = self.clock()


def read_back(client: Any, settings: Settings, entries, batch: int = BATCH, attempts: int = READ_ATTEMPTS) -> dict:
    """Read every ``(seq, acknowledged at)`` of ``entries`` back with batch reads.

    Returns ``{"checked", "missing": [[seq, at]], "mismatched": [[seq, at, bins]], "unreadable": [[seq, at, error]],
    "errors": {class: count}}``: missing = the server answered "not found"; mismatched = found with another value;
    unreadable = no answer after ``attempts`` tries (neither found nor known to be missing). A key is only missing
    when the server says so: a timeout is tried again, never counted as lost.
    """
    missing, mismatched, errors = [], [], {}
    todo = entries
    for attempt in range(attempts):
        retry = []
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            try:
                records = client.batch_read([key_of(settings, seq) for seq, _at in chunk]).batch_records
            except Exception as exc:  # pylint: disable=broad-exception-caught
                errors[error_class(exc)] = errors.get(error_class(exc), 0) + 1
                retry += [(seq, at, error_class(exc)) for seq, at in chunk]
                continue
            for (seq, at), record in zip(chunk, records):
                if record.result == 0 and record.record is not None:
                    bins = record.record[2] or {}
                    if bins != bins_of(settings, seq):
                        mismatched.append([seq, at, bins])
                elif record.result == 2:
                    missing.append([seq, at])
                else:
                    what = "result %s" % record.result
                    errors[what] = errors.get(what, 0) + 1
                    retry.append((seq, at, what))
        todo = [(seq, at) for seq, at, _why in retry]
        if not todo or attempt == attempts - 1:
            break
    return {
        "checked": len(entries),
        "missing": sorted(missing),
        "mismatched": sorted(mismatched, key=lambda m: m[0]),
        "unreadable": sorted([seq, at, why] for seq, at, why in retry),
        "errors": errors,
    }


# --- the program ----------------------------------------------------------------------------------------------


def write_json(path: str, data: dict) -> None:
    """Write ``data`` so that a reader never sees half a file."""
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
    os.replace(temporary, path)


class Program:
    """The generator, the journal written out every FLUSH_INTERVAL seconds, and the control directory."""

    def __init__(self, client: Any, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self.journal = Journal()
        self.stop = threading.Event()
        self.generator = Generator(client, settings, self.journal, self.stop, clock)
        self.control = os.path.join(settings.workdir, "control")
        self.reason = "duration"
        self.final_readback = False
        self.readbacks_done: list = []
        os.makedirs(self.control, exist_ok=True)

    def path(self, name: str) -> str:
        return os.path.join(self.settings.workdir, name)

    def flush(self) -> None:
        lines = self.journal.drain()
        if lines:
            with open(self.path("writes.csv"), "a", encoding="utf-8") as handle:
                handle.write(lines)
        write_json(self.path("status.json"), dict(self.journal.counts(), at=self.clock(), running=not self.stop.is_set(),
                                                  started=self.generator.started, readbacks=self.readbacks_done))

    def serve_readback(self, name: str) -> None:
        entries = self.journal.acknowledged()
        started = self.clock()
        result = read_back(self.client, self.settings, entries)
        result.update(name=name, started=started, finished=self.clock(),
                      acked_until=entries.latest())  # fmt: skip
        write_json(self.path(name + ".json"), result)
        self.readbacks_done.append(name)

    def run(self) -> dict:
        with open(self.path("writes.csv"), "w", encoding="utf-8") as handle:
            handle.write("seq,sent,done,outcome\n")
        runner = threading.Thread(target=self.generator.run, daemon=True)
        runner.start()
        seen, reader, flushed = set(), None, 0.0
        while runner.is_alive():
            runner.join(CONTROL_INTERVAL)
            for name in sorted(os.listdir(self.control)):
                if name == "stop" and not self.stop.is_set():
                    self.reason = "stop file"
                    with open(os.path.join(self.control, name), encoding="utf-8") as handle:
                        self.final_readback = handle.read().strip() == "readback"
                    self.stop.set()
                elif name.startswith("readback-") and name not in seen and (reader is None or not reader.is_alive()):
                    seen.add(name)
                    reader = threading.Thread(target=self.serve_readback, args=(name,), daemon=True)
                    reader.start()
            if self.clock() - flushed >= FLUSH_INTERVAL:
                self.flush()
                flushed = self.clock()
        if reader is not None:
            reader.join(600)
        if self.final_readback:
            self.serve_readback("readback-final")
        self.flush()
        counts = self.journal.counts()
        started, ended = self.generator.started, self.generator.ended
        result = dict(counts, run=self.settings.run, rate=self.settings.rate, workers=self.settings.workers,
                      timeout_ms=self.settings.timeout_ms, retries=self.settings.retries, started=started, ended=ended,
                      achieved_rate=counts["sent"] / (ended - started) if started and ended and ended > started else 0.0,
                      reason=self.reason, version=__version__)  # fmt: skip
        write_json(self.path("result.json"), result)
        return result


def main(argv=None) -> int:
    try:
        settings = parse_args(sys.argv[1:] if argv is None else argv)
        addresses = check_seeds(settings.seeds, settings.allow)
    except UsageError as exc:
        print("loadgen: %s" % exc, file=sys.stderr)
        return 2
    import aerospike  # pylint: disable=import-outside-toplevel

    print("loadgen %s: run %s, %g writes/s for at most %g s, seeds %s (%s)" % (
        __version__, settings.run, settings.rate, settings.duration,
        ", ".join("%s:%d" % s for s in settings.seeds), ", ".join(addresses)), flush=True)
    config = settings.client_config()
    # Read-backs involve every copy of a partition the cluster still holds (duplicate resolution).
    config["policies"]["batch"]["read_mode_ap"] = aerospike.POLICY_READ_MODE_AP_ALL
    try:
        client = aerospike.client(config)  # the constructor connects (client 15 and later)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        print("loadgen: cannot connect: %s" % error_class(exc), file=sys.stderr)
        return 1
    program = Program(client, settings)

    def stop(signum, _frame):
        program.reason = "signal %d" % signum
        program.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        result = program.run()
    finally:
        client.close()
    print("loadgen: %(sent)d sent, %(acked)d acknowledged, %(skipped)d skipped, failed %(failed)s; "
          "%(achieved_rate).1f writes/s; stopped by %(reason)s" % result, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
