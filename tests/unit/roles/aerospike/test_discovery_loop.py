"""The discovery loop against fake members: convergence, O(N) round trips per change, restarts, failures."""

from ansible_collections.aerostack.swarm.plugins.module_utils._discovery import Discovery
from ansible_collections.aerostack.swarm.plugins.module_utils._dns import DnsError

NAME = "tasks.aerostack_aerospike"


def make(cluster, clock, lines=None, **kwargs):
    kwargs.setdefault("audit_interval", 30.0)
    return Discovery(NAME, cluster.resolve, cluster.client, (lines if lines is not None else []).append,
                     lookup_errors=(DnsError,), clock=clock, **kwargs)


def addresses(n, base=2):
    return ["10.0.6.%d" % (base + i) for i in range(n)]


def test_three_fresh_tasks_form_a_full_mesh_in_one_round_of_six_round_trips(cluster, clock):
    for a in addresses(3):
        cluster.add(a)
    discovery = make(cluster, clock)
    discovery.step()
    assert cluster.full_mesh()
    assert cluster.round_trips == 6  # one query and one request with all its tips per member


def test_nothing_is_sent_while_dns_does_not_change(cluster, clock):
    for a in addresses(3):
        cluster.add(a)
    discovery = make(cluster, clock)
    discovery.step()
    before = cluster.round_trips
    for _round in range(20):
        clock.advance(1.0)
        assert discovery.step() == 1.0
    assert cluster.round_trips == before
    assert cluster.lookups == 21


def test_a_new_task_costs_one_query_per_member_and_one_request_per_member(cluster, clock):
    for a in addresses(5):
        cluster.add(a)
    discovery = make(cluster, clock)
    discovery.step()
    before = cluster.round_trips
    new = cluster.add("10.0.6.50")
    clock.advance(1.0)
    discovery.step()
    assert cluster.full_mesh()
    assert cluster.round_trips - before == 2 * 6
    assert new.requests == 2
    assert len(new.sent("tip:")) == 5


def test_round_trips_per_change_grow_linearly_not_quadratically(clock, make_cluster):
    costs = {}
    for n in (50, 200):
        cluster = make_cluster(addresses(n, base=10))
        discovery = make(cluster, clock)
        discovery.step()
        before = cluster.round_trips
        cluster.add("10.0.255.1")
        clock.advance(1.0)
        discovery.step()
        costs[n] = cluster.round_trips - before
        assert cluster.full_mesh()
        discovery.close()
    assert costs == {50: 2 * 51, 200: 2 * 201}


def test_a_departed_task_is_tip_cleared_everywhere_with_the_colon_form_and_alumni_reset(cluster, clock):
    for a in addresses(4):
        cluster.add(a)
    lines = []
    discovery = make(cluster, clock, lines)
    discovery.step()
    cluster.remove("10.0.6.5")
    clock.advance(1.0)
    del lines[:]
    discovery.step()
    assert cluster.full_mesh()
    for a in addresses(3):
        member = cluster.members[a]
        assert member.sent("tip-clear:") == ["tip-clear:host-port-list=10.0.6.5:3002"]
        assert member.alumni_resets == 1
    assert lines[0] == "dns tasks.aerostack_aerospike: 3 task(s) -10.0.6.5"
    assert "tip-clear 10.0.6.5:3002 from 10.0.6.2: ok" in lines


def test_a_restarted_discovery_sends_no_duplicate_tip(cluster, clock):
    for a in addresses(3):
        cluster.add(a)
    make(cluster, clock).step()
    lines = []
    restarted = make(cluster, clock, lines)
    restarted.step()
    for member in cluster.members.values():
        assert len(member.sent("tip:")) == 2
        assert "ERROR" not in " ".join(lines)
    assert restarted.actions == 0
    assert cluster.full_mesh()


def test_a_restarted_discovery_clears_seeds_of_tasks_that_left_while_it_was_down(cluster, clock):
    for a in addresses(3):
        cluster.add(a)
    make(cluster, clock).step()
    cluster.remove("10.0.6.4")
    make(cluster, clock).step()
    assert cluster.full_mesh()


def test_one_log_line_per_action(cluster, clock):
    for a in addresses(2):
        cluster.add(a)
    lines = []
    make(cluster, clock, lines).step()
    assert lines == [
        "dns tasks.aerostack_aerospike: 2 task(s) +10.0.6.2 +10.0.6.3",
        "tip 10.0.6.3:3002 into 10.0.6.2: ok",
        "tip 10.0.6.2:3002 into 10.0.6.3: ok",
    ]


def test_a_task_not_listening_yet_is_tipped_into_the_others_and_retried_with_backoff(cluster, clock):
    for a in addresses(2):
        cluster.add(a)
    late = cluster.add("10.0.6.9")
    late.up = False
    lines = []
    discovery = make(cluster, clock, lines)
    wait = discovery.step()
    assert wait == 0.25  # first retry soon: a server is ready about 1 s after its task starts
    assert "10.0.6.9:3002" in cluster.members["10.0.6.2"].seeds
    assert any(line.startswith("query 10.0.6.9 failed: connection refused") for line in lines)
    clock.advance(0.25)
    assert discovery.step() == 0.5
    assert sum(line.startswith("query 10.0.6.9 failed") for line in lines) == 1  # the same error is logged once
    late.up = True
    clock.advance(0.5)
    assert discovery.step() == 1.0
    assert cluster.full_mesh()
    assert "query 10.0.6.9 answers again" in lines


def test_a_refused_tip_is_retried_and_reported(cluster, clock):
    a, b = addresses(2)
    cluster.add(a)
    cluster.add(b).refuse["tip:host=10.0.6.2;port=3002"] = "ERROR::unknown"
    lines = []
    discovery = make(cluster, clock, lines)
    assert discovery.step() == 0.25
    assert "tip 10.0.6.2:3002 into 10.0.6.3 failed: ERROR::unknown (will retry)" in lines
    del cluster.members[b].refuse["tip:host=10.0.6.2;port=3002"]
    clock.advance(0.25)
    discovery.step()
    assert cluster.full_mesh()
    assert discovery.failed_actions == 1


def test_dns_failures_back_off_keep_state_and_are_logged_once(cluster, clock):
    for a in addresses(3):
        cluster.add(a)
    lines = []
    discovery = make(cluster, clock, lines)
    discovery.step()
    trips = cluster.round_trips
    cluster.dns_error = DnsError("DNS lookup of %s at 127.0.0.11 failed: no answer within 2.0 s" % NAME)
    waits = [discovery.step() for _round in range(6)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert sum("failed: DNS lookup" in line for line in lines) == 1
    assert cluster.round_trips == trips
    cluster.dns_error = None
    assert discovery.step() == 1.0
    assert lines[-1] == "dns %s answers again" % NAME
    assert cluster.round_trips == trips  # same answer as before the failure: nothing to do


def test_no_task_at_all_is_not_an_error(cluster, clock):
    lines = []
    discovery = make(cluster, clock, lines)
    assert discovery.step() == 1.0
    assert cluster.round_trips == 0
    assert lines == ["dns tasks.aerostack_aerospike: 0 task(s)"]


def test_the_audit_heals_a_task_restarted_on_the_same_address(cluster, clock):
    for a in addresses(3):
        cluster.add(a)
    discovery = make(cluster, clock, audit_interval=30.0)
    discovery.step()
    cluster.members["10.0.6.3"].seeds = []  # same address, fresh server: DNS never changed
    clock.advance(10)
    discovery.step()
    assert not cluster.full_mesh()
    clock.advance(21)
    discovery.step()
    assert cluster.full_mesh()


def test_audit_zero_disables_the_periodic_check(cluster, clock):
    for a in addresses(2):
        cluster.add(a)
    discovery = make(cluster, clock, audit_interval=0)
    discovery.step()
    trips = cluster.round_trips
    clock.advance(3600)
    discovery.step()
    assert cluster.round_trips == trips


def test_every_client_opened_in_a_round_is_closed(cluster, clock):
    for a in addresses(4):
        cluster.add(a)
    discovery = make(cluster, clock)
    discovery.step()
    assert cluster.closed == 4


def test_run_stops_when_asked(cluster, clock):
    cluster.add("10.0.6.2")
    discovery = make(cluster, clock)
    calls = []

    def stopped():
        return len(calls) >= 3

    discovery.run(stopped, calls.append)
    assert calls == [1.0, 1.0, 1.0]


def test_an_unexpected_error_is_logged_and_retried_not_fatal(cluster, clock):
    cluster.add("10.0.6.2")
    cluster.dns_error = RuntimeError("resolver exploded")
    lines = []
    discovery = make(cluster, clock, lines)
    waits = []

    def stopped():
        return len(waits) >= 3

    discovery.run(stopped, waits.append)
    assert waits == [1.0, 2.0, 4.0]
    assert lines == ["unexpected RuntimeError: resolver exploded (retrying in 1.0 s)",
                     "unexpected RuntimeError: resolver exploded (retrying in 2.0 s)",
                     "unexpected RuntimeError: resolver exploded (retrying in 4.0 s)"]
