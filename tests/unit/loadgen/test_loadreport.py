"""The load drill's accounting (tools/loadgen/loadreport.py): phases, LOST detection, the longest gap between
acknowledged writes, error classes per phase, the app's totals, the timeline and the plot."""

import loadreport
import pytest
from loadreport import Get, Write

START = 1000.0
PHASES = [
    {"name": "scale-up", "action": "scale.yml 3 -> 5", "started": 1010.0, "verified": 1018.5, "readback": "rb-1"},
    {"name": "kill-task", "action": "docker kill", "started": 1020.0, "verified": 1029.0, "readback": "rb-2"},
]
END = 1030.0


def readback(name, checked, missing=(), mismatched=(), unreadable=()):
    return {"name": name, "checked": checked, "missing": [list(m) for m in missing],
            "mismatched": [list(m) for m in mismatched], "unreadable": [list(u) for u in unreadable]}


def test_parse_writes_reads_the_journal():
    text = "seq,sent,done,outcome\n0,1000.0000,1000.0010,ok\n1,1000.0020,1002.0020,TimeoutError 9 in doubt\n"
    assert loadreport.parse_writes(text) == [Write(0, 1000.0, 1000.001, "ok"),
                                             Write(1, 1000.002, 1002.002, "TimeoutError 9 in doubt")]


@pytest.mark.parametrize("text, message", [
    ("", "must start with the header"),
    ("seq,at,outcome\n", "must start with the header"),
    ("seq,sent,done,outcome\n0,1000.0,ok\n", "line 2 is not seq,sent,done,outcome"),
    ("seq,sent,done,outcome\n0,1000.0,1000.1,ok\nx,1,2,ok\n", "line 3 is not"),
    ("seq,sent,done,outcome\n0,1000.0,1000.1,\n", "line 2 is not"),
])
def test_a_malformed_journal_is_refused_naming_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        loadreport.parse_writes(text)


def test_phases_split_the_load_into_consecutive_windows():
    expected = [("steady", 1000.0, 1010.0), ("scale-up", 1010.0, 1020.0), ("kill-task", 1020.0, 1030.0)]
    assert loadreport.windows(PHASES, START, END) == expected
    with pytest.raises(ValueError, match="must start in order"):
        loadreport.windows(list(reversed(PHASES)), START, END)


@pytest.mark.parametrize("acks, lo, hi, expected", [
    ([1.0, 1.1, 1.2, 3.0, 3.1], 0.0, 10.0, (1.8, 1.2)),
    # A gap across a boundary belongs to the window that holds most of it: 1.2 -> 3.0 is mostly after 1.5.
    ([1.0, 1.1, 1.2, 3.0, 3.1], 1.5, 10.0, (1.8, 1.2)),
    ([1.0, 1.1, 1.2, 3.0, 3.1], 0.0, 1.5, (0.1, 1.0)),
    ([1.0, 1.1, 1.2, 3.0, 3.5], 3.0, 10.0, (0.5, 3.0)),
    ([], 0.0, 1.0, (0.0, None)),
    ([5.0], 0.0, 10.0, (0.0, None)),
])
def test_longest_gap_between_acknowledged_writes(acks, lo, hi, expected):
    gap, at = loadreport.longest_gap(acks, lo, hi)
    assert (round(gap, 6), at) == expected


def test_a_key_is_lost_at_the_first_read_back_that_misses_it_and_back_when_found_again():
    got = loadreport.losses([
        readback("rb-1", 100, missing=[(7, 1001.0)]),
        readback("rb-2", 200, missing=[(7, 1001.0), (150, 1021.0)], mismatched=[(9, 1002.0, {"seq": 10})]),
        readback("rb-3", 300, missing=[(150, 1021.0)], unreadable=[(33, 1003.0, "result 9")]),
    ])
    assert [(r["name"], r["lost"], r["back"], r["missing"], r["unreadable"]) for r in got] == [
        ("rb-1", [[7, 1001.0]], [], 1, 0),
        ("rb-2", [[9, 1002.0], [150, 1021.0]], [], 3, 0),
        ("rb-3", [], [7, 9], 1, 1),
    ]


def test_how_recent_the_lost_writes_were_before_a_kill():
    acked = [98.5, 99.0, 99.2, 99.5, 99.9, 100.1]
    expected = {"count": 3, "newest": pytest.approx(-0.1), "oldest": pytest.approx(0.8), "window": 1.0,
                "window_acked": 4, "window_lost": 2}  # fmt: skip
    assert loadreport.recent([[1, 99.2], [2, 99.9], [3, 100.1]], 100.0, acked) == expected
    assert loadreport.recent([], 100.0, acked) == {"count": 0, "newest": None, "oldest": None, "window": 1.0,
                                                   "window_acked": 4, "window_lost": 0}  # fmt: skip
    assert loadreport.recent([[1, 98.0]], 100.0, acked, window=3.0)["window_acked"] == 5  # 100.1 came after


def test_phase_rows_count_writes_failures_and_losses_per_phase():
    writes = [Write(i, START + i * 0.5, START + i * 0.5 + 0.01, "ok") for i in range(60)]
    # Writes 40-43 (sent 1020.0-1021.5, kill-task) fail, two of them in doubt; write 30 (scale-up) times out.
    writes[30] = Write(30, 1015.0, 1017.0, "TimeoutError 9")
    for i in range(40, 44):
        writes[i] = Write(i, writes[i].sent, writes[i].sent + 2.0, "TimeoutError 9 in doubt" if i < 42 else "ClusterError 11")
    readbacks = [readback("rb-1", 39), readback("rb-2", 55, missing=[(50, 1025.01)])]
    rows = loadreport.phase_rows(writes, PHASES, readbacks, START, END, skips=[[1021.0, 12]])
    assert [(r["name"], r["sent"], r["acked"], r["failed"], r["skipped"]) for r in rows] == [
        ("steady", 20, 20, {}, 0),
        ("scale-up", 20, 19, {"TimeoutError 9": 1}, 0),
        ("kill-task", 20, 16, {"TimeoutError 9 in doubt": 2, "ClusterError 11": 2}, 12),
    ]
    assert [(r["checked"], r["lost"]) for r in rows] == [(None, []), (39, []), (55, [[50, 1025.01]])]
    assert [r["verified_after"] for r in rows] == [None, 8.5, 9.0]
    assert rows[0]["action"] == "load only, before the first operation"
    assert rows[1]["rate"] == 2.0
    # Acknowledgements every 0.5 s, but none for writes 40-43 (1020.0-1021.5): 1019.51 -> 1022.01.
    assert round(rows[2]["gap"], 2) == 2.5 and rows[2]["gap_at"] == pytest.approx(1019.51)
    # Write 30 failed: the acknowledgements of 29 (1014.51) and 31 (1015.51) are 1 s apart.
    assert round(rows[1]["gap"], 2) == 1.0


def test_http_rows_count_200s_by_server_and_instance_and_errors_by_class():
    gets = [Get(1005.0, 1005.1, "200", "web-1", "c1"), Get(1012.0, 1012.1, "200", "web-2", "c2"),
            Get(1013.0, 1013.1, "503 app", "web-1"), Get(1014.0, 1019.0, "timeout", None),
            Get(1015.0, 1015.1, "200", "web-2", "c9")]
    rows = loadreport.http_rows(gets, PHASES, START, END)
    assert rows == [
        {"name": "steady", "sent": 1, "ok": 1, "errors": {}, "servers": {"web-1": 1}, "instances": {"web-1 c1": 1}},
        {"name": "scale-up", "sent": 4, "ok": 2, "errors": {"503 app": 1, "timeout": 1}, "servers": {"web-2": 2},
         "instances": {"web-2 c2": 1, "web-2 c9": 1}},
        {"name": "kill-task", "sent": 0, "ok": 0, "errors": {}, "servers": {}, "instances": {}},
    ]
    assert loadreport.gets_csv(gets[:3]).splitlines() == [
        "sent,done,outcome,server,instance", "1005.0000,1005.1000,200,web-1,c1", "1012.0000,1012.1000,200,web-2,c2",
        "1013.0000,1013.1000,503 app,web-1,"]


def test_totals_are_exact_only_when_every_200_was_counted_once_by_its_server():
    before = {"total": 10, "servers": {"web-1": 6, "web-2": 4}}
    assert loadreport.totals_check(before, {"total": 13, "servers": {"web-1": 7, "web-2": 6}},
                                   {"web-1": 1, "web-2": 2}) == []
    # One hit counted by the app whose GET was not answered 200 (a timeout after the increment).
    assert loadreport.totals_check(before, {"total": 14, "servers": {"web-1": 8, "web-2": 6}},
                                   {"web-1": 1, "web-2": 2}) == [
        "the grand total grew by 4, but 3 GETs were answered 200",
        "web-1's total grew by 2, but it answered 1 GETs with 200",
    ]
    assert loadreport.totals_check(before, {"total": 13, "servers": {"web-1": 7, "web-2": 5}},
                                   {"web-1": 1, "web-2": 2}) == [
        "the per-server totals add up to 12, not the grand total 13",
        "web-2's total grew by 1, but it answered 2 GETs with 200",
    ]


def test_timeline_counts_per_second_by_the_time_of_the_answer():
    writes = [Write(0, 1000.1, 1000.2, "ok"), Write(1, 1000.3, 1001.5, "ok"), Write(2, 1000.4, 1002.9, "TimeoutError 9")]
    gets = [Get(1000.0, 1001.2, "200", "web-1"), Get(1001.0, 1001.3, "503 app", "web-2")]
    series = loadreport.timeline(writes, gets, 1000.0, 1003.0)
    assert series == {"at": [0.0, 1.0, 2.0, 3.0], "acked": [1.0, 1.0, 0.0, 0.0], "failed": [0.0, 0.0, 1.0, 0.0],
                      "http_ok": [0.0, 1.0, 0.0, 0.0], "http_errors": [0.0, 1.0, 0.0, 0.0]}


def test_the_table_shows_each_phase_with_its_losses_and_errors():
    writes = [Write(i, START + i * 0.5, START + i * 0.5 + 0.01, "ok") for i in range(60)]
    writes[45] = Write(45, writes[45].sent, writes[45].sent + 2.0, "TimeoutError 9 in doubt")
    rows = loadreport.phase_rows(writes, PHASES, [readback("rb-1", 39), readback("rb-2", 55, missing=[(50, 1025.0)])],
                                 START, END)
    http = loadreport.http_rows([Get(1021.0, 1021.1, "200", "web-1"), Get(1022.0, 1022.1, "503 app", "web-1")],
                                PHASES, START, END)
    lines = loadreport.format_rows(rows, http)
    assert lines[2] == "| steady | 10 | - | 20 | 20 | - | - | 0.50 | 0 / 0 |"
    assert lines[3] == "| scale-up | 10 | 8.5 | 20 | 20 | - | 0 | 0.50 | 0 / 0 |"
    assert lines[4] == "| kill-task | 10 | 9.0 | 20 | 19 | TimeoutError 9 in doubt 1 | 1 | 1.00 | 1 / 1 (503 app 1) |"


def test_the_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    writes = [Write(i, START + i * 0.5, START + i * 0.5 + 0.01, "ok" if i % 7 else "TimeoutError 9") for i in range(60)]
    rows = loadreport.phase_rows(writes, PHASES, [], START, END)
    path = tmp_path / "img" / "load.png"
    loadreport.plot(loadreport.timeline(writes, [], START, END), rows, str(path), "a test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("status, body, expected", [
    (200, {"total": 5}, "200"),
    (503, {"error": "counting hit 0123456789abcdef0123456789abcdef failed: TimeoutError (code 9): timeout",
           "status": "unavailable"}, "503 app: counting hit failed: TimeoutError (code 9)"),
    (503, {"error": "database not connected (cannot connect to tasks.x_aerospike:3000: ClusterError (code -10): "
                    "no nodes)"}, "503 app: database not connected"),
    (503, {"error": "the Aerospike client lost every node of the cluster"},
     "503 app: the Aerospike client lost every node of the cluster"),
    (503, "<html><body><h1>503 Service Unavailable</h1></body></html>", "503 haproxy"),
    (504, "<html>Gateway Timeout</html>", "504 haproxy"),
    (None, "timed out", "no answer: timed out"),
])
def test_http_outcome_classes(status, body, expected):
    assert loadreport.http_outcome(status, body) == expected


def test_the_outage_loss_is_worded_before_or_after_the_kill():
    acked = [99.2, 99.5, 99.9]
    assert loadreport.describe_recent(loadreport.recent([[1, 99.2], [2, 99.9]], 100.0, acked)) == (
        "2 acknowledged writes lost (acknowledged from 0.80 s before to 0.10 s before the first kill); of the 3 "
        "acknowledged in the last 1 s before the first kill, 2 lost")
    # Acknowledged by a node the kills had not reached yet: after the first kill.
    assert loadreport.describe_recent(loadreport.recent([[1, 99.9], [2, 100.04], [3, 100.36]], 100.0, acked)) == (
        "3 acknowledged writes lost (acknowledged from 0.10 s before to 0.36 s after the first kill); of the 3 "
        "acknowledged in the last 1 s before the first kill, 1 lost")
    assert loadreport.describe_recent(loadreport.recent([], 100.0, acked)).startswith("0 acknowledged writes lost (none)")
