"""Fuzzing the info client through a fake socket: whatever comes back, in whatever pieces, the client returns the
answers or raises InfoError -- never another exception, never a hang.

The byte-level fuzz of ``decode_reply`` and of the value parsers on random text is in test_aerospike_info.py;
this file drives the reading code (``InfoClient.request`` and its partial reads) and the facts built from what
parses. Everything here is deterministic: hypothesis runs derandomized, the big loop uses a fixed seed.

    python -m pytest -s tests/unit/plugins/module_utils/test_info_reply_fuzz.py   # prints the outcome counts
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.aerostack.swarm.plugins.module_utils import _aerospike_info as info
from ansible_collections.aerostack.swarm.plugins.module_utils._cluster import node_facts, summarize
from info_fuzz import (
    FACTS_COMMANDS,
    KINDS,
    TABLE,
    FakeInfoSocket,
    HangGuard,
    connector,
    report,
    reply_for,
    run_fuzz,
    scripted,
)
from transcripts import frame

FUZZ_CASES = 20000


def deterministic(max_examples):
    """Hypothesis settings that give the same examples on every run and write no example database."""
    return settings(derandomize=True, database=None, deadline=None, max_examples=max_examples,
                    suppress_health_check=[HealthCheck.too_slow])


def _client(respond, chunks=None, opened=None):
    return info.InfoClient("10.0.6.2", 3000, timeout=5.0, connect=connector(respond, chunks, opened))


def test_seeded_fuzz_of_20000_replies_gives_only_answers_or_info_errors():
    counts, examples, seconds = run_fuzz(FUZZ_CASES)
    print("\n" + "\n".join(report(counts, seconds)))
    assert counts["unexpected"] == 0, examples[:5]
    assert counts["cases"] == FUZZ_CASES
    assert all(counts["kind: " + kind] for kind, _weight in KINDS), "a kind of reply was never generated"
    # Both outcomes occur, so the run would notice a client that accepted everything or refused everything.
    assert counts["client: parsed"] > 1000
    assert sum(v for k, v in counts.items() if k.startswith("client: InfoError")) > 1000
    assert counts["facts built from a parsed facts reply"] > 100


@deterministic(400)
@given(version=st.integers(0, 255), kind=st.integers(0, 255), length=st.integers(0, (1 << 48) - 1),
       body=st.binary(max_size=300), chunks=st.lists(st.integers(1, 64), min_size=1, max_size=4),
       end=st.sampled_from(["close", "silent"]))
def test_any_header_and_body_in_any_pieces_give_answers_or_info_error(version, kind, length, body, chunks, end):
    reply = bytes([version, kind]) + length.to_bytes(6, "big") + body
    client = _client(scripted(reply, end), chunks)
    try:
        result = client.request("build")
    except info.InfoError as exc:
        assert exc.node == "10.0.6.2:3000" and exc.command == "build"
        return
    assert list(result) == ["build"]


@deterministic(200)
@given(commands=st.lists(st.sampled_from(FACTS_COMMANDS), min_size=1, max_size=12, unique=True),
       chunks=st.lists(st.integers(1, 5000), min_size=1, max_size=5))
def test_a_valid_reply_parses_whatever_the_pieces_it_arrives_in(commands, chunks):
    reply = reply_for(commands)
    opened = []
    result = _client(scripted(reply), chunks, opened).request(*commands)
    assert result == dict((c, TABLE.get(c, "ERROR:4:unrecognized command")) for c in commands)
    assert opened[0].pending == b""  # every byte read, none left to spoil the next request


def test_a_length_field_above_the_limit_is_refused_without_reading_the_body():
    opened = []
    reply = bytes([2, 1]) + (info.MAX_BODY + 1).to_bytes(6, "big") + b"x" * 100
    with pytest.raises(info.InfoError) as err:
        _client(scripted(reply), [8, 100], opened).request("build")
    assert err.value.cause == "reply header announces 16777217 body bytes, more than the 16777216 accepted"
    assert opened[0].recvs == 1 and opened[0].closed


def test_a_silent_server_ends_in_the_timeout_error_without_waiting():
    with pytest.raises(info.InfoError) as err:
        _client(scripted(frame(b"build\t8.1")[:10], end="silent")).request("build")
    assert str(err.value) == "10.0.6.2:3000 build: no answer within 5.0 s"


def test_a_reply_that_stops_midway_names_how_much_arrived():
    reply = frame(b"build\t8.1.2.0\n")
    with pytest.raises(info.InfoError) as err:
        _client(scripted(reply[:12]), [3]).request("build")
    assert str(err.value) == "10.0.6.2:3000 build: connection closed after 4 of 14 reply body bytes"


def test_leftover_bytes_of_a_garbled_reply_fail_the_next_request_cleanly_and_a_new_connection_recovers():
    replies = [frame(b"build\t8.1.2.0\n") + b"\x07\x07garbage", frame(b"build\t8.1.2.0\n"),
               frame(b"build\t8.1.2.0\n")]
    opened = []
    client = _client(lambda data: (replies.pop(0), "close"), [64], opened)
    assert client.request("build") == {"build": "8.1.2.0"}
    with pytest.raises(info.InfoError, match="protocol version 7 type 7"):
        client.request("build")
    assert client.request("build") == {"build": "8.1.2.0"}
    assert len(opened) == 2 and opened[0].closed


def test_the_fake_socket_stops_a_client_that_would_read_forever():
    sock = FakeInfoSocket(scripted(b""), [1])
    sock.sendall(b"x")
    assert [sock.recv(8), sock.recv(8)] == [b"", b""]
    with pytest.raises(HangGuard, match="recv called 3 times after the reply ended"):
        sock.recv(8)


# --- the values inside a reply --------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [9, 200, 5000])
def test_peers_nested_deeper_than_any_real_answer_are_a_value_error_not_a_recursion_error(depth):
    with pytest.raises(ValueError, match="nested more than 8 deep"):
        info.parse_peers("4,3000," + "[" * depth + "]" * depth)


def test_the_real_peers_shape_still_parses_within_the_depth_limit():
    value = "7,3000,[[A1,tls1,[10.0.0.1:3100,[2001:db8::1]:3200]],[B2,,[[2001:db8::2]]]]"
    assert [p["node_id"] for p in info.parse_peers(value)["peers"]] == ["A1", "B2"]


@deterministic(300)
@given(values=st.fixed_dictionaries({}, optional=dict((c, st.text(max_size=120)) for c in FACTS_COMMANDS)))
def test_random_answers_never_break_the_facts_or_the_verdict(values):
    facts = node_facts("10.0.6.2:3000", values, ["test"], 3)
    assert facts["reachable"] is True
    verdict = summarize([facts], 3)
    assert isinstance(verdict["problems"], list)


@pytest.mark.parametrize("command, value, error", [
    ("get-config:context=network", "heartbeat.mode=mesh;heartbeat.mesh-seed-address-port=10.0.6.4:x",
     "get-config:context=network answer not understood: 10.0.6.4:x: port 'x' is not a number"),
    ("services", "10.0.6.4:3000;10.0.6.5:99999",
     "services answer not understood: 10.0.6.5:99999: port 99999 is out of range (1-65535)"),
    ("peers-clear-std", "4,3000,[[zz!,,[1.2.3.4]]]",
     "peers-clear-std answer not understood: peer entry has a malformed node id 'zz!'"),
])
def test_an_answer_that_is_not_understood_is_the_nodes_error_and_the_node_stays_reachable(command, value, error):
    answers = dict((c, "") for c in FACTS_COMMANDS)
    answers[command] = value
    facts = node_facts("10.0.6.2:3000", answers, ["test"], 3)
    assert facts["reachable"] is True and facts["error"] == error
    assert "10.0.6.2:3000: %s" % error in summarize([facts], 3)["problems"]
