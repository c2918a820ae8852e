# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hit counter: the web app of Aerospike's Docker deployment guide, brought to today.

Every ``GET /`` writes a hit record (id, server, timestamp) to the ``hits`` set and, in ONE atomic operation on
one record of the ``totals`` set, increments the grand total and this server's total and adds the hit's id to the
record's list of recent hits, then answers with the totals: as JSON for API clients, as a small HTML page (no
external assets) for a browser, chosen by the request's ``Accept`` header (``*/*``, no header, or anything the app
cannot serve: JSON). ``GET /stats`` answers the totals without counting a hit, ``GET /health`` says whether the
database is usable (200) or not (503), ``GET /live`` only says that the process answers (the load balancer's
check). Every failure is an answer with status 503 and the reason (JSON, or the page for a browser) and one log
line; no stack trace reaches a client or the log.

A hit is counted once, or not at all, whatever fails. While a database node leaves the cluster, a hit tries again
(timeouts, lost connections, a partition map that has not yet moved on) for up to HITCOUNTER_RETRY_MS. Trying the
count again is safe because the hit's id goes into the totals record as a unique list element in the same atomic
operation: when an earlier try was applied but its answer was lost (a timeout "in doubt"), the server refuses the
next try as a whole ("element exists"), and the hit is known to be counted on the node that answered. The list keeps
the last RECENT_HITS ids. That node may be the only one with the count: the earlier try timed out, perhaps because
its copy never reached the replica, and the refusal writes nothing. So the hit then writes the record once more
(a touch) under the condition that it holds the hit's id: acknowledged, it is on every copy; refused ("filtered
out": a node that took over the record meanwhile has no such id), the hit is counted again. The answer's
``instance`` is the process's host name (in swarm: its container), so that two tasks of one server name can be told
apart; a hit that needed more than one try logs a line saying how it was counted.

What changed from the guide's version: one Aerospike client per process, created at start-up (the client
connects in its constructor) and retried in the background with backoff until it succeeds, instead of a
connection per request (and a reference to a client that did not exist); configuration from the environment;
standard library only besides the Aerospike client.

Environment (defaults in brackets): AEROSPIKE_HOST [tasks.aerostack_aerospike] (the seed: a name that resolves
to the server tasks), AEROSPIKE_PORT [3000], AEROSPIKE_NAMESPACE [test], HITCOUNTER_HITS_SET [hits],
HITCOUNTER_TOTALS_SET [totals], HITCOUNTER_PORT [8080], HITCOUNTER_SERVER_NAME [the host name],
HITCOUNTER_TIMEOUT_MS [1000] (per database operation and connection attempt), HITCOUNTER_RETRY_MS [5000] (how long
a hit keeps trying while the cluster changes; 0: one try).
"""

from __future__ import annotations

import html
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping

__version__ = "0.4.0"

LOG = logging.getLogger("hitcounter")

#: The key, in the totals set, of the record that holds the grand total (bin ``hits``) and the per-server
#: totals (map bin ``servers``: server name -> hits). One record, so both change in one atomic operation and
#: the per-server totals always add up to the grand total.
TOTALS_KEY = "totals"
TOTAL_BIN = "hits"
SERVERS_BIN = "servers"
#: List bin of the totals record: the ids of the last RECENT_HITS hits counted, each once (see the module's text).
RECENT_BIN = "recent"
RECENT_HITS = 256

#: Aerospike result codes a try of a hit waits out and repeats: timeout (9), partition unavailable (11), no
#: connection (-10), no more connections (-7), no node for the partition (-8), the client's circuit breaker (-14).
TRANSIENT_CODES = frozenset((9, 11, -10, -7, -8, -14))
#: The list element is already there: an earlier try of this hit was counted (AEROSPIKE_ERR_FAIL_ELEMENT_EXISTS).
ELEMENT_EXISTS = 24
#: The record did not pass the command's filter expression (AEROSPIKE_FILTERED_OUT): the confirming touch found no
#: such hit id on the node that answered, so the hit is counted again.
FILTERED_OUT = 27
#: This process's host name: in a swarm task, its container's (the answer's ``instance``).
INSTANCE = socket.gethostname()
#: Pause between two tries of a hit.
RETRY_PAUSE = 0.25

#: Backoff of the background connection attempts: from the first delay, doubling, up to the last.
RETRY_FIRST = 0.25
RETRY_MAX = 10.0


class SettingsError(ValueError):
    """A setting from the environment is not usable; the message names the variable and what it accepts."""


class Unavailable(Exception):
    """The database cannot serve the request; the message says why (it becomes the 503 answer)."""


@dataclass(frozen=True)
class Settings:
    """Where the database is and how this server answers, from the environment."""

    host: str = "tasks.aerostack_aerospike"
    port: int = 3000
    namespace: str = "test"
    hits_set: str = "hits"
    totals_set: str = "totals"
    listen_port: int = 8080
    server: str = field(default_factory=socket.gethostname)
    timeout_ms: int = 1000
    retry_ms: int = 5000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Settings from ``env``; raises SettingsError naming every bad variable."""
        problems = []

        def text(name: str, default: str, limit: int) -> str:
            value = env.get(name, "").strip() or default
            if len(value) > limit or any(c in value for c in "\0\t\n"):
                problems.append("%s=%r must be at most %d characters without tabs or newlines" % (name, value, limit))
            return value

        def number(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                value = low - 1
            if not low <= value <= high:
                problems.append("%s=%r must be a whole number from %d to %d" % (name, raw, low, high))
                return default
            return value

        settings = cls(
            host=text("AEROSPIKE_HOST", cls.host, 253),
            port=number("AEROSPIKE_PORT", cls.port, 1, 65535),
            namespace=text("AEROSPIKE_NAMESPACE", cls.namespace, 31),
            hits_set=text("HITCOUNTER_HITS_SET", cls.hits_set, 63),
            totals_set=text("HITCOUNTER_TOTALS_SET", cls.totals_set, 63),
            listen_port=number("HITCOUNTER_PORT", cls.listen_port, 1, 65535),
            server=text("HITCOUNTER_SERVER_NAME", socket.gethostname(), 63),
            timeout_ms=number("HITCOUNTER_TIMEOUT_MS", cls.timeout_ms, 50, 60000),
            retry_ms=number("HITCOUNTER_RETRY_MS", cls.retry_ms, 0, 25000),
        )
        if problems:
            raise SettingsError("; ".join(problems))
        return settings

    def client_config(self) -> dict:
        """The Aerospike client's configuration: the seed and the time limits."""
        limit = {"total_timeout": self.timeout_ms}
        return {
            "hosts": [(self.host, self.port)],
            "connect_timeout": self.timeout_ms,
            "policies": {"read": dict(limit), "write": dict(limit), "operate": dict(limit)},
        }


def describe(exc: BaseException) -> str:
    """One line for an exception: the Aerospike client's code and message when it has them."""
    code, msg = getattr(exc, "code", None), getattr(exc, "msg", None)
    args = getattr(exc, "args", ())
    if not msg and len(args) >= 2 and isinstance(args[1], str):
        code, msg = args[0], args[1]  # the client's exceptions carry (code, message, file, line, in_doubt)
    if msg:
        return "%s (code %s): %s" % (type(exc).__name__, code, msg)
    return "%s: %s" % (type(exc).__name__, str(exc) or "no detail")


# --- the data -------------------------------------------------------------------------------------------------


def counter_operations(server: str, hit_id: str) -> list:
    """The operations of one hit on the totals record, applied all or none: the hit's id appended to the recent
    hits as a unique element (refused when it is there), the list trimmed to its last RECENT_HITS ids, grand total
    + 1 and this server's total + 1."""
    import aerospike  # pylint: disable=import-outside-toplevel
    from aerospike_helpers.operations import (  # pylint: disable=import-outside-toplevel
        list_operations,
        map_operations,
        operations,
    )

    return [
        list_operations.list_append(RECENT_BIN, hit_id, {"write_flags": aerospike.LIST_WRITE_ADD_UNIQUE}),
        list_operations.list_remove_by_index_range(RECENT_BIN, -RECENT_HITS, aerospike.LIST_RETURN_NONE,
                                                   RECENT_HITS, True),  # fmt: skip
        operations.increment(TOTAL_BIN, 1),
        map_operations.map_increment(SERVERS_BIN, server, 1),
    ]


def confirm_operations() -> list:
    """The write that confirms a count an earlier try made: a touch, which changes no bin; acknowledged, the record
    (with the hit's id) is on every copy."""
    from aerospike_helpers.operations import operations  # pylint: disable=import-outside-toplevel

    return [operations.touch()]


def counted_filter(hit_id: str) -> Any:
    """The filter expression "the recent hits hold ``hit_id``", compiled for a command's policy."""
    import aerospike  # pylint: disable=import-outside-toplevel
    from aerospike_helpers import expressions  # pylint: disable=import-outside-toplevel

    found = expressions.ListGetByValue(None, aerospike.LIST_RETURN_COUNT, hit_id, expressions.ListBin(RECENT_BIN))
    return expressions.GT(found, 0).compile()


def result_code(exc: BaseException) -> Any:
    """The Aerospike result code of a client exception, or None."""
    code = getattr(exc, "code", None)
    args = getattr(exc, "args", ())
    if code is None and len(args) >= 2 and isinstance(args[0], int):
        code = args[0]
    return code


def with_tries(what: str, call: Callable[[], Any], deadline: float, clock: Callable[[], float] = time.monotonic,
               pause: Callable[[float], Any] = time.sleep, transient: frozenset = TRANSIENT_CODES) -> Any:
    """``call()``, tried again after RETRY_PAUSE while it fails with a ``transient`` result code and the next try
    can start before ``deadline`` (a ``clock()`` time); Unavailable naming ``what`` and the last failure otherwise."""
    while True:
        try:
            return call()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if result_code(exc) not in transient or clock() + RETRY_PAUSE > deadline:
                raise Unavailable("%s failed: %s" % (what, describe(exc))) from None
        pause(RETRY_PAUSE)


def is_record_not_found(exc: BaseException) -> bool:
    """True when ``exc`` is the client's "record not found" (code 2): totals that were never written."""
    return getattr(exc, "code", None) == 2 or type(exc).__name__ == "RecordNotFound"


def read_totals(client: Any, settings: Settings, deadline: float | None = None,
                clock: Callable[[], float] = time.monotonic, pause: Callable[[float], Any] = time.sleep) -> dict:
    """``{"total": N, "servers": {name: n}}``; zero and empty before the first hit. Transient failures are tried
    again until ``deadline`` (default: one try)."""

    def get() -> Any:
        try:
            return client.get((settings.namespace, settings.totals_set, TOTALS_KEY))[2]
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if is_record_not_found(exc):
                return {}
            raise

    bins = with_tries("reading the totals", get, clock() if deadline is None else deadline, clock, pause) or {}
    servers = bins.get(SERVERS_BIN) or {}
    return {
        "total": int(bins.get(TOTAL_BIN) or 0),
        "servers": dict(sorted((str(name), int(count)) for name, count in servers.items())),
    }


def record_hit(client: Any, settings: Settings, now: float, hit_id: str, clock: Callable[[], float] = time.monotonic,
               pause: Callable[[float], Any] = time.sleep) -> dict:
    """Write the hit record, count it in the totals once, and answer with the totals after it; transient failures
    are tried again for up to ``settings.retry_ms`` (both writes are safe to repeat, see the module's text)."""
    deadline = clock() + settings.retry_ms / 1000.0
    record = {"id": hit_id, "server": settings.server, "ts": int(now * 1000)}
    with_tries("writing hit %s" % hit_id, lambda: client.put((settings.namespace, settings.hits_set, hit_id), record),
               deadline, clock, pause)  # fmt: skip

    key = (settings.namespace, settings.totals_set, TOTALS_KEY)
    tries = []

    def count() -> None:
        tries.append("counted")
        try:
            client.operate(key, counter_operations(settings.server, hit_id))
            return
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if result_code(exc) != ELEMENT_EXISTS:
                raise
        # An earlier try was counted on the node that answered; make sure every copy has it (see the module's text).
        # Filtered out, it raises FILTERED_OUT, which the next try answers by counting again.
        tries[-1] = "confirmed"
        client.operate(key, confirm_operations(), policy={"expressions": counted_filter(hit_id)})

    with_tries("counting hit %s" % hit_id, count, deadline, clock, pause, TRANSIENT_CODES | {FILTERED_OUT})
    if len(tries) > 1:
        LOG.info("hit %s: %s after %d tries", hit_id,
                 "counted by an earlier try, confirmed on every copy" if tries[-1] == "confirmed" else "counted",
                 len(tries))  # fmt: skip
    totals = read_totals(client, settings, deadline, clock, pause)
    return {
        "hit": hit_id,
        "server": settings.server,
        "instance": INSTANCE,
        "total": totals["total"],
        "server_total": totals["servers"].get(settings.server, 0),
        "servers": totals["servers"],
    }


# --- the one client of this process ---------------------------------------------------------------------------


def aerospike_client(config: dict) -> Any:
    """A connected Aerospike client (the constructor connects and raises when it cannot)."""
    import aerospike  # pylint: disable=import-outside-toplevel

    return aerospike.client(config)


class Database:
    """Holds the process's one Aerospike client.

    ``start()`` tries to create it at once and, while that fails, again in a background thread with backoff
    (RETRY_FIRST doubling to RETRY_MAX seconds), logging each failure. Requests never create a client: before
    the first success, and whenever the client reports itself disconnected, they get Unavailable.
    """

    def __init__(
        self,
        settings: Settings,
        factory: Callable[[dict], Any] = aerospike_client,
        retry_first: float = RETRY_FIRST,
        retry_max: float = RETRY_MAX,
    ) -> None:
        self.settings = settings
        self._factory = factory
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._client: Any = None
        self._error = "no connection attempt yet"
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.attempts = 0

    def connect_once(self) -> bool:
        """One attempt to create the client; True once it exists."""
        with self._lock:
            if self._client is not None:
                return True
            self.attempts += 1
            try:
                self._client = self._factory(self.settings.client_config())
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self._error = "cannot connect to %s:%d: %s" % (self.settings.host, self.settings.port, describe(exc))
                return False
        LOG.info("connected to Aerospike through seed %s:%d", self.settings.host, self.settings.port)
        return True

    def start(self) -> None:
        """Connect now, or keep trying in the background."""
        if self.connect_once():
            return
        self._thread = threading.Thread(target=self._keep_trying, name="aerospike-connect", daemon=True)
        self._thread.start()

    def _keep_trying(self) -> None:
        delay = self._retry_first
        while True:
            LOG.warning("%s; next attempt in %.2f s", self._error, delay)
            if self._stopped.wait(delay):
                return
            if self.connect_once():
                return
            delay = min(delay * 2, self._retry_max)

    def client(self) -> Any:
        """The connected client, or Unavailable saying why there is none."""
        client = self._client
        if client is None:
            raise Unavailable("database not connected (%s)" % self._error)
        try:
            connected = client.is_connected()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise Unavailable("database connection state unknown: %s" % describe(exc)) from None
        if not connected:
            raise Unavailable("the Aerospike client lost every node of the cluster")
        return client

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:  # pylint: disable=broad-exception-caught
                LOG.warning("closing the Aerospike client failed: %s", describe(exc))


# --- HTTP -----------------------------------------------------------------------------------------------------


def answer(database: Database, path: str, now: Callable[[], float] = time.time) -> tuple[int, dict]:
    """The status and JSON body for ``GET path``. Never raises: every failure is a 503 with the reason."""
    settings = database.settings
    route = path.split("?", 1)[0]
    try:
        if route == "/live":
            return 200, {"status": "alive", "server": settings.server}
        if route == "/health":
            database.client()
            return 200, {"status": "ok", "server": settings.server, "database": "connected",
                         "seed": "%s:%d" % (settings.host, settings.port), "namespace": settings.namespace}
        if route == "/stats":
            return 200, dict(read_totals(database.client(), settings), server=settings.server)
        if route == "/":
            return 200, record_hit(database.client(), settings, now(), uuid.uuid4().hex)
        return 404, {"error": "no such page: %s (try /, /stats, /health, /live)" % route, "server": settings.server}
    except Unavailable as exc:
        LOG.error("GET %s: 503: %s", route, exc)
        return 503, {"status": "unavailable", "error": str(exc), "server": settings.server}
    except Exception as exc:  # pylint: disable=broad-exception-caught
        LOG.error("GET %s: 503: unexpected %s", route, describe(exc))
        return 503, {"status": "unavailable", "error": "unexpected %s" % describe(exc), "server": settings.server}


# --- a page for a browser -------------------------------------------------------------------------------------

JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


def _media_ranges(accept: str):
    """``(type, subtype, q)`` of each media range of an Accept header; malformed ranges and weights are left out."""
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        kind, _slash, sub = fields[0].lower().partition("/")
        if not kind or not sub:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _equals, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            yield kind, sub, q


def _weight(ranges, kind: str, sub: str) -> float:
    """The weight of ``kind/sub``: that of the most specific range that matches it (RFC 9110, 12.5.1); 0 without one."""
    best = (-1, 0.0)
    for range_kind, range_sub, q in ranges:
        if (range_kind, range_sub) == (kind, sub):
            specificity = 2
        elif range_kind == kind and range_sub == "*":
            specificity = 1
        elif (range_kind, range_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def wants_html(accept: str | None) -> bool:
    """True when the client prefers HTML to JSON; JSON for ``*/*``, no header, and anything the app cannot serve."""
    ranges = list(_media_ranges(accept or ""))
    html_weight = _weight(ranges, "text", "html")
    return html_weight > 0 and html_weight > _weight(ranges, "application", "json")


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 42rem; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
.total { font-size: 3.5rem; font-weight: 700; margin: 0.5rem 0; }
.muted { color: #5b6475; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #d8dce4; }
td.count, th.count { text-align: right; font-variant-numeric: tabular-nums; }
tr.this { background: #e8f1ff; font-weight: 600; }
.health { padding: 0.6rem 0.8rem; border-radius: 0.3rem; margin: 1rem 0; }
.ok { background: #e6f6ea; border: 1px solid #9fd3ad; }
.down { background: #fdecea; border: 1px solid #f0a8a0; }
"""


def page(status: int, body: dict, settings: Settings) -> str:
    """The HTML page of ``GET /`` for the answer ``(status, body)``: the grand total, the per-server totals, the
    server that answered and whether the database is usable. Everything shown is escaped; no external assets."""
    esc = html.escape
    server = str(body.get("server", settings.server))
    rows = []
    if status == 200:
        for name, count in (body.get("servers") or {}).items():
            mark = ' class="this"' if name == server else ""
            rows.append('<tr%s><td>%s</td><td class="count">%d</td></tr>' % (mark, esc(str(name)), int(count)))
        total = '<p class="total" id="total">%d</p><p class="muted">hits in all, this one included</p>' % int(
            body.get("total", 0))
        health = ('<p class="health ok" id="health">Database: connected (seed %s:%d, namespace %s)</p>'
                  % (esc(settings.host), settings.port, esc(settings.namespace)))
    else:
        total = '<p class="total" id="total">?</p><p class="muted">this hit was not counted</p>'
        health = ('<p class="health down" id="health">Database: NOT usable (HTTP %d): %s</p>'
                  % (status, esc(str(body.get("error", "no reason given")))))
    table = ('<table id="servers"><thead><tr><th>server</th><th class="count">hits</th></tr></thead><tbody>%s'
             '</tbody></table>' % "".join(rows)) if rows else (
        '<p class="muted" id="servers">No totals while the database is not usable.</p>')
    return """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Hit counter</title>
<style>%(style)s</style>
</head>
<body>
<h1>Hit counter</h1>
%(total)s
<p>Answered by <strong id="server">%(server)s</strong>. <a href="/">Reload</a> to count another hit (the load
balancer may pick another server).</p>
%(health)s
<h2>Hits per server</h2>
%(table)s
<p class="muted">hitcounter %(version)s &middot; API clients get this answer as JSON
(<code>Accept: application/json</code>) &middot; <a href="/stats">/stats</a> &middot; <a href="/health">/health</a></p>
</body>
</html>
""" % {"style": PAGE_STYLE, "total": total, "server": esc(server), "health": health, "table": table,
       "version": __version__}


class Handler(BaseHTTPRequestHandler):
    """Routes GET requests to ``answer``; the database is the server's ``database`` attribute."""

    server_version = "hitcounter/" + __version__
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        database = self.server.database  # type: ignore[attr-defined]
        status, body = answer(database, self.path)
        # Only / has a page; every other answer, and / for API clients, is JSON.
        negotiated = self.path.split("?", 1)[0] == "/"
        if negotiated and wants_html(self.headers.get("Accept")):
            content_type, payload = HTML_TYPE, page(status, body, database.settings).encode()
        else:
            content_type, payload = JSON_TYPE, (json.dumps(body, sort_keys=True) + "\n").encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            if negotiated:
                self.send_header("Vary", "Accept")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; nothing to answer

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        # Access log, one line per request; the load balancer's liveness checks are left out.
        if not self.path.startswith("/live"):
            LOG.info("%s %s", self.address_string(), format % args)


def make_server(database: Database, address: str = "") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((address, database.settings.listen_port), Handler)
    server.daemon_threads = True
    server.database = database  # type: ignore[attr-defined]
    return server


def main(env: Mapping[str, str] | None = None) -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env(os.environ if env is None else env)
    except SettingsError as exc:
        LOG.error("refusing to start: %s", exc)
        return 2
    database = Database(settings)
    try:
        server = make_server(database)
    except OSError as exc:
        LOG.error("cannot listen on port %d: %s", settings.listen_port, exc)
        return 1
    LOG.info("hitcounter %s (server %s) on port %d; Aerospike seed %s:%d, namespace %s, sets %s and %s",
             __version__, settings.server, settings.listen_port, settings.host, settings.port, settings.namespace,
             settings.hits_set, settings.totals_set)
    database.start()

    def stop(signum: int, _frame: Any) -> None:
        LOG.info("stopping (signal %d)", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
