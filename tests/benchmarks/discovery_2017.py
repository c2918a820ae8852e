"""Benchmark: the cost of discovery, ours against a REFERENCE reimplementation of Aerospike's 2017 swarm design.

    python -m pytest -m benchmark -s tests/benchmarks/discovery_2017.py
    python tests/benchmarks/discovery_2017.py [--sizes 50 200] [--json FILE]

Both run against the simulated members of the discovery unit tests (``FakeCluster`` and ``ManualClock`` from
tests/unit/roles/aerospike/conftest.py): the fake members answer the seed commands exactly as a real 8.1.2.0 server
does and count every info round trip; time is the fake clock, so the poll delays (ours 1 s, the 2017 design 5 s) are
modelled without sleeping and every figure is the same on every run. Printed, never asserted; the run fails only when
our discovery does not reach a full mesh (a benchmark of a broken run would be worthless).

Per change (formation of N lone nodes, a task added, removed, replaced, the discovery process restarted), for each
design: info round trips, connections opened, error answers, and whether the result is right (every member has every
other as a seed, departed seeds cleared). Then the time from a new address appearing in DNS to it being tipped into
every member, over ten phases of the poll interval (the change lands anywhere between two polls).
"""

import argparse
import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO / ".cache" / "collections") not in sys.path:
    sys.path.insert(0, str(REPO / ".cache" / "collections"))

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import (  # noqa: E402
    InfoError,
    is_error,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._discovery import Discovery, address_key  # noqa: E402
from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError  # noqa: E402

NAME = "tasks.bench_aerospike"
OUR_INTERVAL = 1.0  # aerospike_discovery_interval's default
REFERENCE_INTERVAL = 5.0  # the 2017 design's poll period
PHASES = [i / 10.0 for i in range(10)]
HORIZON = 20.0  # fake seconds to wait for "tipped into every member" before calling it never


def _load_fakes():
    """FakeCluster and ManualClock of the discovery unit tests (a conftest is not importable by name)."""
    path = REPO / "tests" / "unit" / "roles" / "aerospike" / "conftest.py"
    spec = importlib.util.spec_from_file_location("aerostack_discovery_fakes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeCluster, module.ManualClock


FakeCluster, ManualClock = _load_fakes()


class Discovery2017Reference:
    """REFERENCE ONLY -- never used by the collection. Aerospike's 2017 swarm discovery ("discovery.py", run by the
    meshworker service), rewritten here from its published description, not from its code:

    * every ``interval`` (5 s) it resolved ``tasks.<service>``;
    * for each address it had not seen before it ran one ``asinfo -v 'tip:host=<address>;port=3002'`` process
      against ONE node (here: the first address of its first lookup), one process call per address, in turn;
    * it never read the node's configured seeds first, so a restarted discovery tipped every address again and got
      ``ERROR::unknown`` for each;
    * for each address that disappeared it sent ``tip-clear:host-port-list=<address>;3002``, the ``host;port`` form
      that a real server answers with ``ERROR::0 cleared, 0 not found``: departed seeds were never cleared.

    ``run_asinfo(address, command) -> value`` stands for one asinfo process: a new connection, one command.
    """

    def __init__(self, name, resolve, run_asinfo, interval=REFERENCE_INTERVAL, heartbeat_port=3002):
        self.name = name
        self.resolve = resolve
        self.run_asinfo = run_asinfo
        self.interval = interval
        self.heartbeat_port = heartbeat_port
        self.known = set()
        self.target = None
        self.process_calls = 0
        self.errors = 0

    def step(self):
        """One poll; returns the seconds until the next one."""
        try:
            found = set(self.resolve(self.name))
        except DnsError:
            return self.interval
        if self.target is None and found:
            self.target = sorted(found, key=address_key)[0]
        for address in sorted(found - self.known, key=address_key):
            self._asinfo("tip:host=%s;port=%d" % (address, self.heartbeat_port))
        for address in sorted(self.known - found, key=address_key):
            self._asinfo("tip-clear:host-port-list=%s;%d" % (address, self.heartbeat_port))
        self.known = found
        return self.interval

    def _asinfo(self, command):
        self.process_calls += 1
        try:
            value = self.run_asinfo(self.target, command)
        except InfoError:
            self.errors += 1
            return
        if is_error(value):
            self.errors += 1

    def close(self):
        pass


# --- the two designs against one simulated cluster ------------------------------------------------------------------

def addresses(n):
    return ["10.0.%d.%d" % (1 + i // 250, 1 + i % 250) for i in range(n)]


class Run:
    """One design watching one fake cluster on a fake clock; counts what each change costs."""

    def __init__(self, design, size):
        self.design = design
        self.cluster = FakeCluster(addresses(size))
        self.clock = ManualClock()
        self.errors_seen = 0
        self.loop = self._new_loop()
        self.next_step = self.clock.now

    def _new_loop(self):
        if self.design == "ours":
            return Discovery(NAME, self.cluster.resolve, self.cluster.client, self._log, lookup_errors=(DnsError,),
                             clock=self.clock, interval=OUR_INTERVAL, audit_interval=30.0)
        return Discovery2017Reference(NAME, self.cluster.resolve, self._asinfo)

    def _log(self, line):
        if " failed: " in line:
            self.errors_seen += 1

    def _asinfo(self, address, command):
        client = self.cluster.client(address)
        try:
            return client.request(command)[command]
        finally:
            client.close()

    def errors(self):
        return self.errors_seen if self.design == "ours" else self.loop.errors

    def restart(self):
        """The discovery process restarts: a new loop with no memory, the cluster as it is."""
        self.loop.close()
        self.loop = self._new_loop()
        self.next_step = self.clock.now

    def step_until(self, until):
        """Run every poll due up to fake time ``until``; return the fake times at which polls ran."""
        ran = []
        while self.next_step <= until:
            self.clock.now = self.next_step
            wait = self.loop.step()
            ran.append(self.clock.now)
            self.next_step = self.clock.now + wait
        self.clock.now = until
        return ran

    def cost(self, change=None):
        """Round trips, connections and error answers of the next poll after ``change``."""
        before = (self.cluster.round_trips, self.cluster.closed, self.errors())
        if change is not None:
            change(self.cluster)
        self.step_until(self.next_step)
        return {"round_trips": self.cluster.round_trips - before[0], "connections": self.cluster.closed - before[1],
                "errors": self.errors() - before[2]}

    def close(self):
        self.loop.close()


def _seeds_of(cluster, address):
    return set(cluster.members[address].seeds) if address in cluster.members else set()


def tipped_into(cluster, new):
    """How many of the other members have ``new`` as a seed."""
    return sum(1 for a in cluster.dns if a != new and "%s:3002" % new in _seeds_of(cluster, a))


def knows_the_others(cluster, new):
    """Whether ``new`` has every other member as a seed (the tips the other way)."""
    return all("%s:3002" % a in _seeds_of(cluster, new) for a in cluster.dns if a != new)


def departed_left_behind(cluster, gone):
    return sum(1 for a in cluster.dns if "%s:3002" % gone in _seeds_of(cluster, a))


def _scenarios(size):
    """The changes, in order. Swarm removes the highest task slots first, so the tasks that go are the last ones
    (the 2017 design's one target, the first address, stays: the comparison is not skewed by losing it)."""
    last, second_last = addresses(size)[-1], addresses(size)[-2]
    return (
        ("formation of N lone nodes", None, None),
        ("one task added", lambda c: c.add("10.0.255.1"), "10.0.255.1"),
        ("one task removed", lambda c: c.remove(last), last),
        ("one task replaced", lambda c: (c.remove(second_last), c.add("10.0.255.2")), second_last),
        ("discovery restarted, N running", "restart", None),
    )


def _outcome(run, label, subject, size, cost):
    cluster = run.cluster
    members = len(cluster.dns)
    if label == "formation of N lone nodes":
        complete = sum(1 for a in cluster.dns if len(_seeds_of(cluster, a) - {"%s:3002" % a}) >= members - 1)
        return "full mesh" if cluster.full_mesh() else "%d of %d members know the others" % (complete, members)
    if label == "one task added":
        return "tipped into %d of %d" % (tipped_into(cluster, subject), members - 1)
    if label == "one task removed":
        left = departed_left_behind(cluster, subject)
        return "seed cleared everywhere" if not left else "seed left in %d member(s)" % left
    if label == "one task replaced":
        left = departed_left_behind(cluster, subject)
        return "new in %d of %d, old %s" % (tipped_into(cluster, "10.0.255.2"), members - 1,
                                            "cleared" if not left else "left in %d" % left)
    return "no error" if cost["errors"] == 0 else "%d error answers" % cost["errors"]


def change_costs(design, size):
    run = Run(design, size)
    rows = []
    try:
        for label, change, subject in _scenarios(size):
            if change == "restart":
                run.restart()
                change = None
            cost = run.cost(change)
            cost["right"] = _outcome(run, label, subject, size, cost)
            cost["scenario"] = label
            rows.append(cost)
        rows.append(_quiet(run))
    finally:
        run.close()
    return rows


def _quiet(run):
    before = run.cluster.round_trips
    interval = OUR_INTERVAL if run.design == "ours" else REFERENCE_INTERVAL
    run.step_until(run.clock.now + 10 * interval)
    return {"scenario": "10 quiet polls (no DNS change)", "round_trips": run.cluster.round_trips - before,
            "connections": 0, "errors": 0, "right": ""}


def dns_to_every_member(design, size, phase):
    """Fake seconds from a new address appearing in DNS (at ``phase`` of the poll interval after a poll) until it is
    a seed of every other member and has them all as seeds (both ways); the first tip's delay; how many members it
    reached within the horizon."""
    run = Run(design, size)
    try:
        run.step_until(run.clock.now)  # formation
        interval = OUR_INTERVAL if design == "ours" else REFERENCE_INTERVAL
        last_poll = run.step_until(run.clock.now + 3 * interval)[-1]
        appear = last_poll + phase * interval
        run.step_until(appear)
        new = "10.0.255.1"
        run.cluster.add(new)
        first = every = None
        for poll in range(int(HORIZON / min(OUR_INTERVAL, REFERENCE_INTERVAL)) + 1):
            ran = run.step_until(run.next_step)
            reached = tipped_into(run.cluster, new)
            if reached and first is None:
                first = ran[-1] - appear
            if reached == size and knows_the_others(run.cluster, new) and every is None:
                every = ran[-1] - appear
            if every is not None or run.clock.now - appear > HORIZON:
                break
        return {"first": first, "every": every, "reached": tipped_into(run.cluster, new)}
    finally:
        run.close()


def measure(sizes=(50, 200)):
    results = {"sizes": list(sizes), "costs": {}, "latency": {}}
    for size in sizes:
        for design in ("ours", "2017"):
            results["costs"]["%s/%d" % (design, size)] = change_costs(design, size)
            samples = [dns_to_every_member(design, size, phase) for phase in PHASES]
            firsts = [s["first"] for s in samples if s["first"] is not None]
            everys = [s["every"] for s in samples]
            results["latency"]["%s/%d" % (design, size)] = {
                "first_median": statistics.median(firsts) if firsts else None,
                "first_max": max(firsts) if firsts else None,
                "every_median": None if None in everys else statistics.median(everys),
                "every_max": None if None in everys else max(everys),
                "reached": min(s["reached"] for s in samples),
                "members": size,
            }
    return results


def _seconds(value):
    return "never" if value is None else "%.2f s" % value


COLUMNS = ("change", "N", "ours: round trips", "connections", "errors", "result", "2017: asinfo calls", "errors",
           "result")


def rows(results):
    """The cost table as rows of cells (strings), ``COLUMNS`` first."""
    out = []
    for size in results["sizes"]:
        for mine, theirs in zip(results["costs"]["ours/%d" % size], results["costs"]["2017/%d" % size]):
            out.append((mine["scenario"], str(size), str(mine["round_trips"]), str(mine["connections"]),
                        str(mine["errors"]), mine["right"], str(theirs["round_trips"]), str(theirs["errors"]),
                        theirs["right"]))
    return out


def latency_rows(results):
    out = []
    for size in results["sizes"]:
        for design in ("ours", "2017"):
            lat = results["latency"]["%s/%d" % (design, size)]
            out.append((str(size), design, "%s / %s" % (_seconds(lat["first_median"]), _seconds(lat["first_max"])),
                        "%s / %s" % (_seconds(lat["every_median"]), _seconds(lat["every_max"])),
                        "%d of %d" % (lat["reached"], lat["members"])))
    return out


LATENCY_COLUMNS = ("N", "design", "first tip (median / max)", "every member, both ways (median / max)",
                   "members reached")


def _render(columns, body):
    widths = [max(len(r[i]) for r in [columns] + list(body)) for i in range(len(columns))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [columns] + body]


def table(results):
    lines = ["discovery cost per change, ours vs the 2017 design (reference reimplementation); simulated members"]
    lines += _render(COLUMNS, rows(results))
    lines.append("")
    lines.append("new address in DNS -> tipped into every member and they into it, on the fake clock (polls: ours every %.0f s, 2017 "
                 "every %.0f s; the change lands at 10 phases of the interval)" % (OUR_INTERVAL, REFERENCE_INTERVAL))
    lines += _render(LATENCY_COLUMNS, latency_rows(results))
    return lines


@pytest.mark.benchmark
def test_discovery_cost_ours_against_the_2017_design():
    results = measure()
    print("\n" + "\n".join(table(results)))
    for size in results["sizes"]:
        assert all(row["errors"] == 0 for row in results["costs"]["ours/%d" % size])
        assert results["costs"]["ours/%d" % size][0]["right"] == "full mesh"
        assert results["latency"]["ours/%d" % size]["every_max"] is not None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--json", help="also write the results as JSON to this file")
    options = parser.parse_args()
    results = measure(options.sizes)
    print("\n".join(table(results)))
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
