# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The accounting of the load drill, as pure functions: per phase, what was sent, acknowledged, failed and lost.

Inputs are what the drill collects: the generator's journal (``writes.csv`` of tools/loadgen/loadgen.py: one line
``seq,sent,done,outcome`` per write), its read-back results (``readback-<n>.json``), the phases the drill went
through (``{"name", "action", "started", "verified", "readback"}``, times in seconds since the epoch) and the HTTP
GETs sent through HAProxy (``(sent, done, outcome, server)``, outcome ``"200"`` or an error class).

A write belongs to the phase during which it was sent: phase i lasts from its start to the start of phase i+1 (the
first, ``steady``, from the start of the load; the last to its end). A key is LOST at the first read-back that finds
it missing or with another value; a key found again later is reported as ``back``.
"""

from __future__ import annotations

import bisect
import re
from collections import namedtuple
from collections.abc import Iterable
from pathlib import Path

Write = namedtuple("Write", "seq sent done outcome")
#: One GET of the app: ``server`` is the server name it answered with, ``instance`` the task (container) that answered.
Get = namedtuple("Get", "sent done outcome server instance", defaults=(None,))

HEADER = "seq,sent,done,outcome"


def parse_writes(text: str) -> list:
    """The writes of a ``writes.csv``, in file order; ValueError naming the line for anything malformed."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise ValueError("writes.csv must start with the header %r, not %r" % (HEADER, lines[0] if lines else ""))
    writes = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split(",", 3)
        try:
            if len(parts) != 4 or not parts[3]:
                raise ValueError("4 fields")
            writes.append(Write(int(parts[0]), float(parts[1]), float(parts[2]), parts[3]))
        except ValueError:
            raise ValueError("writes.csv line %d is not seq,sent,done,outcome: %r" % (number, line)) from None
    return writes


def http_outcome(status, body) -> str:
    """The class of a GET's answer: ``"200"``; ``"503 app: <reason>"`` for the app's own JSON answer (the hit id and
    the server's message left out, so that answers of one kind count together, e.g. ``503 app: counting hit failed:
    TimeoutError (code 9)``); ``"<status> haproxy"`` for an answer that is not the app's (HAProxy's own 502/503/504);
    ``None`` as ``status`` means no answer: ``body`` then says why (``timeout``, ``connection refused``, ...)."""
    if status is None:
        return "no answer: %s" % body
    if status == 200:
        return "200"
    if isinstance(body, dict) and "error" in body:
        text = re.sub(r"hit [0-9a-f]{32} ", "hit ", str(body["error"]))
        parts = text.split(": ")
        head = parts[0].split(" (")[0]
        if head.endswith("failed") and len(parts) > 1:
            head += ": " + parts[1]
        return "%d app: %s" % (status, head)
    return "%d haproxy" % status


def windows(phases: list, start: float, end: float) -> list:
    """``[(name, from, to)]``: ``steady`` from ``start`` to the first phase, each phase to the next one's start, the
    last one to ``end``."""
    names = ["steady"] + [p["name"] for p in phases]
    starts = [start] + [p["started"] for p in phases]
    if any(b < a for a, b in zip(starts, starts[1:])) or starts[-1] > end:
        raise ValueError("phases must start in order, between the start and the end of the load: %s" % starts)
    return list(zip(names, starts, starts[1:] + [end]))


def longest_gap(ack_times: list, lo: float, hi: float) -> tuple:
    """The longest time between two consecutive acknowledged writes (of the whole run, ``ack_times`` sorted) that
    lies mostly in ``[lo, hi)``, as ``(seconds, the acknowledgement it started from)``; ``(0.0, None)`` when none
    does. A gap across a phase boundary belongs to the phase that holds the larger part of it (both, when even)."""
    best = (0.0, None)
    first = max(0, bisect.bisect_left(ack_times, lo) - 1)
    for earlier, later in zip(ack_times[first:], ack_times[first + 1:]):
        if earlier >= hi:
            break
        inside = min(later, hi) - max(earlier, lo)
        if inside > 0 and 2 * inside >= later - earlier and later - earlier > best[0]:
            best = (later - earlier, earlier)
    return best


def losses(readbacks: list) -> list:
    """For each read-back in order: ``{"name", "checked", "lost": [[seq, at]], "back": [seq], "missing": n,
    "unreadable": n}``. ``lost`` holds the keys missing or with another value for the first time; ``back`` the keys
    missing at an earlier read-back and readable again."""
    seen, result = set(), []
    current = set()
    for readback in readbacks:
        now = dict((int(e[0]), float(e[1])) for e in readback["missing"] + readback["mismatched"])
        new = sorted([seq, at] for seq, at in now.items() if seq not in seen)
        back = sorted(seq for seq in current if seq not in now)
        seen |= set(now)
        current = set(now)
        result.append({"name": readback["name"], "checked": readback["checked"], "lost": new, "back": back,
                       "missing": len(now), "unreadable": len(readback.get("unreadable", []))})  # fmt: skip
    return result


def recent(lost: list, moment: float, acked: Iterable = (), window: float = 1.0) -> dict:
    """How long before ``moment`` (a kill) the lost keys ``[[seq, acknowledged at]]`` were acknowledged:
    ``{"count", "newest", "oldest"}`` in seconds before the moment (negative: acknowledged after it), and of the
    writes acknowledged within ``window`` seconds before it (``acked``: every acknowledgement time) how many there
    were (``window_acked``) and how many of them were lost (``window_lost``)."""
    start = moment - window
    found = {"window": window, "window_acked": sum(1 for at in acked if start <= at < moment),
             "window_lost": sum(1 for _seq, at in lost if start <= at < moment)}  # fmt: skip
    if not lost:
        return dict(found, count=0, newest=None, oldest=None)
    ages = [moment - at for _seq, at in lost]
    return dict(found, count=len(lost), newest=min(ages), oldest=max(ages))


def describe_recent(loss: dict, moment: str = "the first kill") -> str:
    """``recent``'s result in words: how many were lost and when they had been acknowledged around ``moment``."""

    def when(age):
        return "%.2f s %s" % (abs(age), "before" if age >= 0 else "after")

    span = ("acknowledged from %s to %s %s" % (when(loss["oldest"]), when(loss["newest"]), moment)
            if loss["count"] else "none")
    return "%d acknowledged writes lost (%s); of the %d acknowledged in the last %g s before %s, %d lost" % (
        loss["count"], span, loss["window_acked"], loss["window"], moment, loss["window_lost"])


def phase_rows(writes: list, phases: list, readbacks: list, start: float, end: float, skips: list = ()) -> list:
    """One row per phase (``steady`` first): ``{"name", "action", "from", "seconds", "verified_after", "sent",
    "acked", "failed": {class: n}, "skipped", "rate", "gap", "gap_at", "readback", "checked", "lost", "back",
    "unreadable"}``. ``rate`` is writes sent per second of the phase; ``verified_after`` the seconds from the start
    of the phase to the cluster verified again (None for ``steady``)."""
    spans = windows(phases, start, end)
    acks = sorted(w.done for w in writes if w.outcome == "ok")
    by_name = dict((r["name"], r) for r in losses(readbacks))
    info = dict((p["name"], p) for p in phases)
    rows = []
    for name, lo, hi in spans:
        mine = [w for w in writes if lo <= w.sent < hi]
        failed = {}
        for write in mine:
            if write.outcome != "ok":
                failed[write.outcome] = failed.get(write.outcome, 0) + 1
        gap, gap_at = longest_gap(acks, lo, hi)
        phase = info.get(name, {})
        checked = by_name.get(phase.get("readback"))
        verified = phase.get("verified")
        rows.append({
            "name": name,
            "action": phase.get("action", "load only, before the first operation"),
            "from": lo,
            "seconds": hi - lo,
            "verified_after": None if verified is None else verified - lo,
            "sent": len(mine),
            "acked": len(mine) - sum(failed.values()),
            "failed": failed,
            "skipped": sum(count for at, count in skips if lo <= at < hi),
            "rate": len(mine) / (hi - lo) if hi > lo else 0.0,
            "gap": gap,
            "gap_at": gap_at,
            "readback": phase.get("readback"),
            "checked": checked["checked"] if checked else None,
            "lost": checked["lost"] if checked else [],
            "back": checked["back"] if checked else [],
            "unreadable": checked["unreadable"] if checked else 0,
        })  # fmt: skip
    return rows


def http_rows(gets: list, phases: list, start: float, end: float) -> list:
    """One row per phase: ``{"name", "sent", "ok", "errors": {class: n}, "servers": {server: 200s}, "instances":
    {"server instance": 200s}}`` of the GETs sent during it (two tasks of one server name are two instances)."""
    rows = []
    for name, lo, hi in windows(phases, start, end):
        mine = [g for g in gets if lo <= g.sent < hi]
        errors, servers, instances = {}, {}, {}
        for get in mine:
            if get.outcome == "200":
                servers[get.server] = servers.get(get.server, 0) + 1
                instance = "%s %s" % (get.server, get.instance)
                instances[instance] = instances.get(instance, 0) + 1
            else:
                errors[get.outcome] = errors.get(get.outcome, 0) + 1
        rows.append({"name": name, "sent": len(mine), "ok": sum(servers.values()), "errors": errors,
                     "servers": servers, "instances": instances})  # fmt: skip
    return rows


def gets_csv(gets: list) -> str:
    """The GETs as CSV (``sent,done,outcome,server,instance``), for a look at who answered when."""
    lines = ["sent,done,outcome,server,instance\n"]
    lines += ["%.4f,%.4f,%s,%s,%s\n" % (g.sent, g.done, str(g.outcome).replace(",", ";"), g.server or "",
                                        g.instance or "") for g in gets]  # fmt: skip
    return "".join(lines)


def totals_check(before: dict, after: dict, ok_by_server: dict) -> list:
    """What is wrong with the app's totals (``/stats``: ``{"total", "servers"}``) between two readings, given the
    200 answers counted by server in between; empty when the totals are exact: the grand total grew by the number of
    200 answers, each server's total by its own 200 answers, and the per-server totals add up to the grand total."""
    problems = []
    answered = sum(ok_by_server.values())
    if after["total"] - before["total"] != answered:
        problems.append("the grand total grew by %d, but %d GETs were answered 200" % (
            after["total"] - before["total"], answered))
    if sum(after["servers"].values()) != after["total"]:
        problems.append("the per-server totals add up to %d, not the grand total %d" % (
            sum(after["servers"].values()), after["total"]))
    for server in sorted(set(after["servers"]) | set(ok_by_server)):
        grew = after["servers"].get(server, 0) - before["servers"].get(server, 0)
        if grew != ok_by_server.get(server, 0):
            problems.append("%s's total grew by %d, but it answered %d GETs with 200" % (
                server, grew, ok_by_server.get(server, 0)))
    return problems


def timeline(writes: list, gets: list, start: float, end: float, step: float = 1.0) -> dict:
    """Per ``step`` seconds from ``start``: ``{"at": [...], "acked": [...], "failed": [...], "http_ok": [...],
    "http_errors": [...]}``, each count per second, by the time the answer came (a write's ``done``)."""
    count = max(1, int((end - start) / step) + 1)
    series = dict((name, [0.0] * count) for name in ("acked", "failed", "http_ok", "http_errors"))

    def add(name, at):
        slot = int((at - start) / step)
        if 0 <= slot < count:
            series[name][slot] += 1.0 / step

    for write in writes:
        add("acked" if write.outcome == "ok" else "failed", write.done)
    for get in gets:
        add("http_ok" if get.outcome == "200" else "http_errors", get.done)
    series["at"] = [i * step for i in range(count)]
    return series


def _classes(counts: dict) -> str:
    return ", ".join("%s %d" % (name, n) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def format_rows(rows: list, http: list | None = None) -> list:
    """The per-phase table as Markdown lines (the drill prints them; docs/drills.md shows a run's)."""
    lines = ["| phase | s | verified after s | writes sent | acked | failed (by error) | LOST | longest gap s |"
             " GETs 200 / errors |", "|---|---|---|---|---|---|---|---|---|"]
    by_name = dict((h["name"], h) for h in http or [])
    for row in rows:
        get = by_name.get(row["name"])
        lost = "-" if row["checked"] is None else str(len(row["lost"]))
        if row["back"]:
            lost += " (%d back)" % len(row["back"])
        if row["unreadable"]:
            lost += " (%d unreadable)" % row["unreadable"]
        failed = _classes(row["failed"]) if not row["skipped"] else "%s; %d slots skipped" % (
            _classes(row["failed"]), row["skipped"])
        gets = "-"
        if get is not None:
            gets = "%d / %d" % (get["ok"], sum(get["errors"].values()))
            if get["errors"]:
                gets += " (%s)" % _classes(get["errors"])
        lines.append("| %s | %.0f | %s | %d | %d | %s | %s | %.2f | %s |" % (
            row["name"], row["seconds"], "-" if row["verified_after"] is None else "%.1f" % row["verified_after"],
            row["sent"], row["acked"], failed, lost, row["gap"], gets))
    return lines


def plot(series: dict, rows: list, path: str, title: str) -> None:
    """A PNG: acknowledged and failed writes per second (top), HTTP 200s and errors per second (bottom), against
    seconds since the load started, each phase shaded and named."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    origin = rows[0]["from"]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(11, 6.5), height_ratios=(3, 2))
    top.plot(series["at"], series["acked"], lw=0.8, color="tab:blue", label="writes acknowledged / s")
    top.plot(series["at"], series["failed"], lw=0.8, color="tab:red", label="writes failed / s")
    bottom.plot(series["at"], series["http_ok"], lw=0.8, color="tab:green", label="GET 200 / s")
    bottom.plot(series["at"], series["http_errors"], lw=0.8, color="tab:red", label="GET errors / s")
    for number, row in enumerate(rows):
        lo, hi = row["from"] - origin, row["from"] - origin + row["seconds"]
        for axis in (top, bottom):
            axis.axvspan(lo, hi, color="0.85" if number % 2 else "1.0", zorder=0)
        top.text((lo + hi) / 2, 1.01, row["name"], transform=top.get_xaxis_transform(), ha="center", va="bottom",
                 fontsize="x-small", rotation=30)  # fmt: skip
    top.set_ylabel("writes / s")
    bottom.set_ylabel("HTTP GETs / s")
    bottom.set_xlabel("seconds since the load started")
    for axis in (top, bottom):
        axis.grid(True, alpha=0.3)
        axis.legend(loc="center left", fontsize="small")
        axis.set_xlim(0, series["at"][-1])
    figure.suptitle(title, y=0.995, fontsize="medium")
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
