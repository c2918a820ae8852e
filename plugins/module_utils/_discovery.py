# -*- coding: utf-8 -*-
# Copyright (c) aerostack.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mesh discovery for Aerospike tasks on a swarm overlay: the decisions and the loop, standard-library only.

A DNS seed is not enough for an Aerospike cluster in swarm (a node can stay alone for minutes), so a
small service keeps every task's mesh seeds equal to the addresses of ``tasks.<service>``:

* ``plan_round`` decides, from the DNS answer and the seeds each member reports, what to tip into
  and tip-clear from each member. It tips both ways (the new task into every member AND every member
  into the new task) because that is what makes a replacement rejoin fastest, and it diffs against the
  seeds the member actually has -- a real server refuses a duplicate tip -- so a restarted discovery,
  a missed round or a recycled address all converge without errors.
* ``Discovery.step`` is one pass of the loop: resolve; when the answer changed (or a failed round is
  due for a retry, or the periodic audit is due) query every member ONCE, then send each member that
  needs it ONE request with all its tips and clears. That is O(N) info round trips per change, and
  none while nothing changes.

The discovery program (roles/aerospike/files/discovery.py) wires this to the real DNS and info client;
the unit tests and benchmarks wire it to fakes.
"""

from __future__ import annotations

import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import (
    InfoError,
    format_address,
    is_error,
    parse_mesh_seeds,
)
from ansible_collections.aerostack.swarm.plugins.module_utils._mesh import (
    parse_tip_clear_answer,
    plan_tips,
    tip_clear_command,
    tip_command,
)

SEEDS_COMMAND = "get-config:context=network"
ALUMNI_RESET = "services-alumni-reset"


class MemberPlan:
    """What one member needs: ``tips`` and ``clears`` are ``[(host, heartbeat port)]``."""

    __slots__ = ("member", "tips", "clears")

    def __init__(self, member, tips=(), clears=()):
        self.member = member
        self.tips = list(tips)
        self.clears = list(clears)

    def commands(self):
        """The commands of the one request that applies this plan (empty when there is nothing to do)."""
        commands = [tip_command(h, p) for h, p in self.tips]
        if self.clears:
            commands.append(tip_clear_command(self.clears))
            commands.append(ALUMNI_RESET)
        return commands

    def __bool__(self):
        return bool(self.tips or self.clears)

    def __eq__(self, other):
        return isinstance(other, MemberPlan) and (self.member, self.tips, self.clears) == (
            other.member, other.tips, other.clears)

    def __repr__(self):
        return "MemberPlan(%r, tips=%r, clears=%r)" % (self.member, self.tips, self.clears)


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def address_key(address):
    """Sort key for IP address strings (numeric order); other strings after them."""
    try:
        ip = ipaddress.ip_address(address)
        return (0, ip.version, int(ip))
    except ValueError:
        return (1, 0, address)


def plan_round(dns_addresses, seeds_by_member, heartbeat_port=3002):
    """What to tip and clear on every member that answered, as ``[MemberPlan]`` (only members with work).

    ``dns_addresses``: the task addresses DNS returns now. ``seeds_by_member``: ``{address: [(host,
    port), ...]}`` for the members that answered (a member that did not answer gets nothing this round,
    but it is still tipped into the others: a starting server is tipped as early as possible).

    Every member gets every other task address as a seed; a seed whose host is an IP address that DNS
    no longer returns is cleared (the task is gone). Seeds naming a host name are left alone: discovery
    never tips names, so someone else configured them.
    """
    addresses = sorted(set(dns_addresses), key=address_key)
    current = set(addresses)
    wanted = [(address, heartbeat_port) for address in addresses]
    plans = []
    for member in sorted(seeds_by_member, key=address_key):
        if member not in current:
            continue  # answered, but no longer in DNS: leaving, nothing to configure
        seeds = seeds_by_member[member]
        tips = plan_tips([member], wanted, seeds)
        clears = [(h, p) for h, p in seeds if _is_ip(h) and h not in current]
        plan = MemberPlan(member, tips, clears)
        if plan:
            plans.append(plan)
    return plans


def check_answers(plan, answers):
    """Judge one member's answers to ``plan.commands()``: ``[(action, ok, value)]`` in command order.

    A tip must answer ``ok``. A tip-clear that answers ``ERROR::<n> cleared, <m> not found`` with
    ``n + m`` equal to the seeds sent is fine: the seeds it did not find were already gone.
    """
    results = []
    for host, port in plan.tips:
        command = tip_command(host, port)
        value = answers.get(command, "")
        results.append(("tip %s into %s" % (format_address(host, port), plan.member), value.strip() == "ok", value))
    if plan.clears:
        command = tip_clear_command(plan.clears)
        value = answers.get(command, "")
        counts = parse_tip_clear_answer(value)
        ok = value.strip() == "ok" or (counts is not None and sum(counts) == len(plan.clears))
        seeds = ",".join(format_address(h, p) for h, p in plan.clears)
        results.append(("tip-clear %s from %s" % (seeds, plan.member), ok, value))
        value = answers.get(ALUMNI_RESET, "")
        results.append(("services-alumni-reset on %s" % plan.member, not is_error(value) and value != "", value))
    return results


class Backoff:
    """Delays for retries: ``first``, doubled per failure, at most ``cap``; ``reset()`` after a success."""

    def __init__(self, first=0.25, cap=10.0):
        self.first = first
        self.cap = cap
        self.failures = 0

    def next(self):
        self.failures += 1
        return min(self.cap, self.first * (2 ** (self.failures - 1)))

    def reset(self):
        self.failures = 0


class Discovery:
    """The discovery loop, one ``step()`` at a time; all I/O comes in through the constructor.

    ``resolve(name) -> [address]`` raises ``lookup_errors`` on failure and returns ``[]`` when the name
    has no record (no task runs). ``client_factory(address) -> client`` returns an object with
    ``request(*commands) -> {command: value}`` and ``close()`` (the project's ``InfoClient``).
    ``log(line)`` receives one line per action and per change of state.
    """

    def __init__(self, name, resolve, client_factory, log, heartbeat_port=3002, interval=1.0, audit_interval=30.0,
                 lookup_errors=(OSError,), clock=time.monotonic, workers=16, retry_first=0.25, retry_cap=10.0):
        self.name = name
        self.resolve = resolve
        self.client_factory = client_factory
        self.log = log
        self.heartbeat_port = heartbeat_port
        self.interval = interval
        self.audit_interval = audit_interval
        self.lookup_errors = tuple(lookup_errors)
        self.clock = clock
        self.known = None  # the DNS answer of the last successful lookup (None before the first)
        self.dirty = True  # the answer changed since the last complete round
        self.retry_at = None
        self.audit_at = None
        self.dns_backoff = Backoff(first=min(1.0, interval), cap=max(retry_cap, interval))
        self.round_backoff = Backoff(first=retry_first, cap=retry_cap)
        self.last_dns_error = None
        self.member_errors = {}
        self.rounds = 0
        self.actions = 0
        self.failed_actions = 0
        self._executor = ThreadPoolExecutor(max_workers=max(1, workers))

    def close(self):
        self._executor.shutdown(wait=True)

    # --- one iteration -----------------------------------------------------------------------

    def step(self):
        """Resolve, reconcile if needed; return the seconds to wait before the next step."""
        now = self.clock()
        try:
            found = self.resolve(self.name)
        except self.lookup_errors as exc:
            delay = self.dns_backoff.next()
            text = str(exc)
            if text != self.last_dns_error:
                self.log("dns %s failed: %s; keeping the last known tasks, retrying with backoff (next in %.2f s)"
                         % (self.name, text, delay))
                self.last_dns_error = text
            return delay
        if self.last_dns_error is not None:
            self.log("dns %s answers again" % self.name)
            self.last_dns_error = None
        self.dns_backoff.reset()
        current = frozenset(found)
        if current != self.known:
            previous = self.known or frozenset()
            added = sorted(current - previous, key=address_key)
            gone = sorted(previous - current, key=address_key)
            self.log("dns %s: %d task(s)%s%s" % (
                self.name, len(current),
                "".join(" +%s" % a for a in added),
                "".join(" -%s" % a for a in gone)))
            self.known = current
            self.dirty = True
            self.round_backoff.reset()
            self.retry_at = None
        if not current:
            return self.interval
        due = self.dirty or (self.retry_at is not None and now >= self.retry_at)
        audit = (not due and self.audit_interval and self.audit_at is not None and now >= self.audit_at)
        if not (due or audit):
            return self._next_wait(now)
        complete = self.reconcile(current)
        now = self.clock()
        if complete:
            self.dirty = False
            self.retry_at = None
            self.round_backoff.reset()
            self.audit_at = now + self.audit_interval if self.audit_interval else None
        else:
            self.retry_at = now + self.round_backoff.next()
        return self._next_wait(now)

    def _next_wait(self, now):
        wait = self.interval
        if self.retry_at is not None:
            wait = min(wait, max(0.0, self.retry_at - now))
        return wait

    # --- a round ------------------------------------------------------------------------------

    def reconcile(self, current):
        """Query every member once, apply the plan; True when every member answered and every action worked."""
        self.rounds += 1
        members = sorted(current, key=address_key)
        clients = dict((m, self.client_factory(m)) for m in members)
        try:
            seeds_by_member = {}
            complete = True
            for member, outcome in zip(members, self._executor.map(lambda m: self._query(clients[m]), members)):
                ok, value = outcome
                if ok:
                    seeds_by_member[member] = value
                    if self.member_errors.pop(member, None) is not None:
                        self.log("query %s answers again" % member)
                else:
                    complete = False
                    if self.member_errors.get(member) != value:
                        self.log("query %s failed: %s (will retry)" % (member, value))
                        self.member_errors[member] = value
            for member in list(self.member_errors):
                if member not in current:
                    del self.member_errors[member]
            plans = plan_round(members, seeds_by_member, self.heartbeat_port)
            for plan, results in zip(plans, self._executor.map(lambda p: self._apply(clients[p.member], p), plans)):
                for action, ok, value in results:
                    self.actions += 1
                    if ok:
                        self.log("%s: %s" % (action, value))
                    else:
                        self.failed_actions += 1
                        complete = False
                        self.log("%s failed: %s (will retry)" % (action, value))
            return complete
        finally:
            for client in clients.values():
                client.close()

    def _query(self, client):
        try:
            value = client.request(SEEDS_COMMAND)[SEEDS_COMMAND]
        except InfoError as exc:
            return False, exc.cause
        if is_error(value):
            return False, value
        try:
            return True, parse_mesh_seeds(value)
        except InfoError as exc:
            return False, "seed list not understood: %s" % exc.cause

    def _apply(self, client, plan):
        commands = plan.commands()
        try:
            answers = client.request(*commands)
        except InfoError as exc:
            return [("apply %d command(s) to %s" % (len(commands), plan.member), False, exc.cause)]
        return check_answers(plan, answers)

    # --- the loop -----------------------------------------------------------------------------

    def run(self, stopped, wait=None):
        """Step until ``stopped()`` is true; ``wait(seconds)`` sleeps (an Event's wait, so a signal ends it).

        An unexpected error in a step is logged as one line and retried with backoff: the service keeps
        running rather than crash-looping.
        """
        errors = Backoff(first=1.0, cap=30.0)
        while not stopped():
            try:
                delay = self.step()
                errors.reset()
            except Exception as exc:  # pylint: disable=broad-except
                delay = errors.next()
                self.dirty = True
                self.log("unexpected %s: %s (retrying in %.1f s)" % (exc.__class__.__name__, exc, delay))
            if wait is not None:
                wait(delay)
            else:
                time.sleep(delay)
