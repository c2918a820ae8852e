"""Run the benchmarks and write docs/benchmarks.md: each figure as the median of several runs with its min-max,
beside its floor or reference measured in the same run, with the date and the machine.

    scripts/bench [--lab] [--runs N]                  # sets up the environment, then runs this
    python tests/benchmarks/report.py [--runs 5] [--output docs/benchmarks.md] [--lab] [--lab-rounds 1]

Without the lab (about a minute, no Docker): aerospike_info facts for 5 and 50 simulated nodes beside the raw floor
(the parameters of tests/benchmarks/bench_aerospike_info.py), the discovery cost against the 2017 design
(tests/benchmarks/discovery_2017.py), the info-reply fuzz counts (tests/helpers/info_fuzz.py), and the printed output
of the pytest benchmarks that need no lab (aerospike_info, discovery round trips and memory, the simulator's formation
timeline).
With ``--lab`` also the lab benchmarks, which start their own labs and take them down: every operation beside the same
step done bare in one run on one lab (tests/benchmarks/bench_ops.py, with the timelines of a rolling restart and of a
scale-up), the cost of swarm.yml and of a site.yml re-run on 5, 9 and 15 hosts (tests/benchmarks/bench_hosts.py) and
the lab itself (tools/lab/bench_lab.py).
Nothing here asserts a speed; the command fails only when a benchmark itself fails.
"""

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _path in (REPO / ".cache" / "collections", REPO / "tests" / "helpers", REPO / "tests" / "benchmarks",
              REPO / "tests" / "simulator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import bench_aerospike_info  # noqa: E402
import discovery_2017  # noqa: E402
import info_fuzz  # noqa: E402
from aerospike_sim import harness  # noqa: E402
from ansible_collections.aerostack.swarm.plugins.module_utils._aerospike_info import InfoClient  # noqa: E402
from ansible_collections.aerostack.swarm.plugins.module_utils._cluster import node_commands  # noqa: E402
from ansible_collections.aerostack.swarm.plugins.modules import aerospike_info  # noqa: E402

FUZZ_CASES = 20000
PYTEST_BENCHMARKS = (
    ("aerospike_info facts, namespaces named and discovered", "tests/benchmarks/bench_aerospike_info.py"),
    ("Discovery service: round trips per change, CPU per round, memory of the process watching 200 members",
     "tests/unit/roles/aerospike/test_discovery_benchmark.py"),
    ("Simulator: cluster formation timeline at real speed, beside the real 8.1.2.0 server's",
     "tests/unit/simulator/test_benchmark_formation.py"),
)
# (title, argv, whether it takes the number of rounds, the plots it writes)
LAB_BENCHMARKS = (
    ("Every operation beside the same step done bare, one run on one 5-host lab (tests/benchmarks/bench_ops.py)",
     ["tests/benchmarks/bench_ops.py", "--rounds"], True,
     (("img/rolling-restart-3.png", "each node's cluster size and migrations remaining during a rolling restart of 3"),
      ("img/scale-3-to-5.png", "each node's cluster size and migrations remaining during a scale-up 3 -> 5"))),
    ("Cost by number of hosts: swarm.yml first run and site.yml re-run on 5, 9 and 15 hosts "
     "(tests/benchmarks/bench_hosts.py)", ["tests/benchmarks/bench_hosts.py"], False,
     (("img/cost-per-host-count.png", "swarm.yml first run, bare init + joins and site.yml re-run by host count"),)),
    ("The lab itself: images, up, load, down (tools/lab/bench_lab.py)", ["tools/lab/bench_lab.py", "--runs"], True,
     ()),
)


def spread(values, unit="s", scale=1.0, digits=2):
    """``median (min-max)`` of ``values``."""
    values = [v * scale for v in values]
    form = "%%.%df" % digits
    return "%s %s (%s–%s)" % (form % statistics.median(values), unit, form % min(values), form % max(values))


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        memory = ", %.1f GiB RAM" % (kib / 1024.0 / 1024.0)
    except (OSError, StopIteration, ValueError):
        pass
    return "%s, %d CPU(s)%s, %s %s, Python %s" % (cpu, os.cpu_count() or 0, memory, platform.system(),
                                                  platform.release(), platform.python_version())


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load():
    return " ".join("%.2f" % x for x in os.getloadavg())


def md_table(columns, rows):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


# --- the parts --------------------------------------------------------------------------------------------------------

def _floor(addresses, commands):
    """Seconds for the same commands sent once per node with a bare client, concurrently, nothing parsed."""
    def one(address):
        host, port = address.rsplit(":", 1)
        with InfoClient(host, int(port), timeout=5.0) as client:
            client.request(*commands)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, min(32, len(addresses)))) as pool:
        list(pool.map(one, addresses))
    return time.perf_counter() - started


def facts_with_floor(sizes, runs):
    """aerospike_info.gather (bench_aerospike_info's parameters) and the floor, alternating, on the same nodes."""
    results = {}
    commands = node_commands(["test"])
    for size in sizes:
        with harness.cluster(size, ready_timeout=60.0) as nodes:
            params = bench_aerospike_info._params(nodes)  # pylint: disable=protected-access
            module, bare, trips = [], [], []
            aerospike_info.gather(params)  # warm-up: first connections, imports
            for _run in range(runs):
                bare.append(_floor(params["nodes"], commands))
                started = time.perf_counter()
                result = aerospike_info.gather(params)
                module.append(time.perf_counter() - started)
                trips.append(result["round_trips"] / float(size))
                if not all(n["reachable"] for n in result["nodes"]):
                    raise RuntimeError("a simulated node did not answer: %s" % result["cluster"]["problems"])
            results[size] = {"module": module, "floor": bare, "round_trips_per_node": trips}
    return results


def facts_section(runs):
    results = facts_with_floor((5, 50), runs)
    rows = []
    for size, data in sorted(results.items()):
        rows.append(("%d" % size, spread(data["module"], "ms", 1000, 1), spread(data["floor"], "ms", 1000, 1),
                     "%.1fx" % (statistics.median(data["module"]) / statistics.median(data["floor"])),
                     "/".join(sorted(set("%g" % t for t in data["round_trips_per_node"])))))
    return ["## aerospike_info: default facts of 5 and 50 simulated nodes", "",
            "End to end inside the module function (`aerospike_info.gather` with the parameters of "
            "`tests/benchmarks/bench_aerospike_info.py`, namespaces named: targets, one concurrent info request per "
            "node, facts, the cluster verdict), against the floor measured in the same run on the same nodes: the "
            "same commands sent once per node with a bare `InfoClient` on as many threads, nothing parsed. Lone "
            "simulator nodes (local processes). Median (min–max) of %d runs." % runs, ""] + md_table(
        ("nodes", "aerospike_info", "floor (bare requests)", "module / floor", "info round trips per node"),
        rows) + [""]


def discovery_section():
    results = discovery_2017.measure((50, 200))
    columns = discovery_2017.COLUMNS
    latency_columns = discovery_2017.LATENCY_COLUMNS
    return ["## Discovery: cost per change, ours against the 2017 design", "",
            "Ours is `plugins/module_utils/_discovery.py` (polls DNS every 1 s); the reference is "
            "`Discovery2017Reference` in `tests/benchmarks/discovery_2017.py`, a reimplementation from the published "
            "description of Aerospike's 2017 `discovery.py` (polls every 5 s, one `asinfo` tip process per new "
            "address into one node, no seed read, a `host;port` tip-clear). Both run against the discovery unit "
            "tests' simulated members, which answer the seed commands as a real 8.1.2.0 server does, on a fake "
            "clock: every figure is the same on every run (no spread to report).", ""] + md_table(
        columns, discovery_2017.rows(results)) + [
        "", "Time from a new address appearing in DNS until it is a seed of every member and has every member as a "
        "seed (the change lands at 10 phases of the poll interval). The fake clock counts the poll delays only, not "
        "the time a round takes: one round of ours at 200 members costs about 0.2 s of CPU on this machine (the "
        "test suite's discovery benchmark below) plus the network round trips, 16 members at a time.", ""] + md_table(
        latency_columns, discovery_2017.latency_rows(results)) + [""], results


def fuzz_section(runs):
    seconds = []
    counts = None
    unexpected = []
    for _run in range(runs):
        counts, examples, took = info_fuzz.run_fuzz(FUZZ_CASES)
        seconds.append(took)
        unexpected += examples[:3]
    outcomes = [k for k in sorted(counts) if k.startswith(("client:", "decode_reply:", "unexpected"))]
    kinds = [k for k in sorted(counts) if k.startswith("kind:")]
    return ["## Info-reply fuzz", "",
            "%d seeded cases per run (the same cases every run), fed to `InfoClient.request` through a fake socket "
            "that delivers them in random pieces, and to `decode_reply`; whatever parses also goes through "
            "`node_facts` and the verdict. Time: %s for %d cases (%d runs). "
            "**Unexpected exceptions: %d.**" % (FUZZ_CASES, spread(seconds), FUZZ_CASES, runs, counts["unexpected"]),
            ""] + md_table(("outcome", "cases"), [(k, str(counts[k])) for k in outcomes]) + [
        ""] + md_table(("kind of reply", "cases"), [(k[len("kind: "):], str(counts[k])) for k in kinds]) + [""] + (
        ["Examples of the unexpected exceptions:", "", "```"] + [repr(e) for e in unexpected] + ["```", ""]
        if unexpected else []), counts


def _pytest_output(path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "-m", "benchmark",
                           path], cwd=REPO, capture_output=True, text=True, check=False, timeout=1800)
    lines = []
    for line in proc.stdout.splitlines():
        # Keep what the tests printed; drop pytest's progress marks and summary.
        if re.match(r"^[.sFEx]*(\s+\[\s*\d+%\])?$", line) or re.match(r"^=*\s*\d+ (passed|failed|skipped|error)", line):
            continue
        lines.append(line)
    return proc.returncode, lines, proc.stdout[-3000:] + proc.stderr[-2000:]


def pytest_section():
    out = ["## Benchmarks printed by the test suite (no lab)", "",
           "One run each, as printed by `python -m pytest -m benchmark -s <file>`.", ""]
    failed = []
    for title, path in PYTEST_BENCHMARKS:
        rc, lines, raw = _pytest_output(path)
        out += ["### %s" % title, "", "`%s`%s" % (path, "" if rc == 0 else " — **FAILED (rc %d)**" % rc), "", "```"]
        out += lines if rc == 0 else raw.splitlines()
        out += ["```", ""]
        if rc != 0:
            failed.append(path)
    return out, failed


def lab_section(rounds):
    out = ["## Lab benchmarks", "",
           "Each starts its own lab (Docker-in-Docker hosts on this machine) and takes it down; %d round(s) where a "
           "benchmark has rounds. Every figure is printed with the load average it was measured at." % rounds, ""]
    failed = []
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"))
    for title, argv, takes_rounds, plots in LAB_BENCHMARKS:
        started = time.monotonic()
        images = [REPO / "docs" / name for name, _alt in plots]
        before = [p.stat().st_mtime if p.exists() else None for p in images]
        command = argv + ([str(rounds)] if takes_rounds else [])
        proc = subprocess.run([sys.executable] + command, cwd=REPO, capture_output=True, text=True,
                              check=False, env=env, timeout=4 * 3600)
        took = time.monotonic() - started
        # The figures on the terminal too, as they go into the page.
        print(proc.stdout.strip(), flush=True)
        status = "" if proc.returncode == 0 else " — **FAILED (rc %d)**" % proc.returncode
        out += ["### %s" % title, "", "`python %s` (%.0f s)%s" % (" ".join(command), took, status), "", "```"]
        out += proc.stdout.strip().splitlines()
        if proc.returncode != 0:
            out += ["--- stderr (end) ---"] + proc.stderr[-3000:].splitlines()
            failed.append(argv[0])
        out += ["```", ""]
        for (name, alt), path, mtime in zip(plots, images, before):
            if path.exists() and path.stat().st_mtime != mtime:
                out += ["![%s](%s)" % (alt, name), ""]
    return out, failed


def headline(discovery, counts):
    lines = ["## In one look", ""]
    for size in discovery["sizes"]:
        ours = discovery["costs"]["ours/%d" % size]
        ref = discovery["costs"]["2017/%d" % size]
        added = next(r for r in ours if r["scenario"] == "one task added")
        added_ref = next(r for r in ref if r["scenario"] == "one task added")
        restart = next(r for r in ref if r["scenario"].startswith("discovery restarted"))
        lat = discovery["latency"]["ours/%d" % size]
        lat_ref = discovery["latency"]["2017/%d" % size]
        lines.append(
            "- Discovery at %d members, one task added: ours %d info round trips (%d connections), the new address "
            "a seed of every member (both ways) %.2f s after DNS shows it (median; worst %.2f s); the 2017 design "
            "%d asinfo call, the address tipped into %d of %d members after %.2f s (median; worst %.2f s), never "
            "into the others; a restart of the 2017 discovery re-tips everything: %d error answers (ours: 0)."
            % (size, added["round_trips"], added["connections"], lat["every_median"], lat["every_max"],
               added_ref["round_trips"], lat_ref["reached"], lat_ref["members"], lat_ref["first_median"],
               lat_ref["first_max"], restart["errors"]))
    parsed = counts["client: parsed"]
    errors = sum(v for k, v in counts.items() if k.startswith("client: InfoError"))
    lines.append("- Info-reply fuzz: %d cases, %d parsed, %d InfoError, %d unexpected exceptions." % (
        counts["cases"], parsed, errors, counts["unexpected"]))
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per timed figure (default 5)")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--lab", action="store_true", help="also run the lab benchmarks (Docker, minutes)")
    parser.add_argument("--lab-rounds", type=int, default=1,
                        help="rounds of the lab benchmarks that have rounds (default 1)")
    options = parser.parse_args()

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = load()
    print("aerospike_info facts (5 and 50 simulated nodes, %d runs) ..." % options.runs, flush=True)
    facts = facts_section(options.runs)
    print("discovery, ours vs the 2017 design ...", flush=True)
    discovery, discovery_results = discovery_section()
    print("info-reply fuzz (%d cases x %d runs) ..." % (FUZZ_CASES, options.runs), flush=True)
    fuzz, counts = fuzz_section(options.runs)
    fuzz_failed = ["info-reply fuzz (unexpected exceptions)"] if counts["unexpected"] else []
    print("pytest benchmarks ...", flush=True)
    printed, failed = pytest_section()
    failed = fuzz_failed + failed
    lab = ["## Lab benchmarks", "", "Not run for this report: `scripts/bench --lab` runs them (Docker, minutes).", ""]
    if options.lab:
        print("lab benchmarks (%d rounds) ..." % options.lab_rounds, flush=True)
        lab, lab_failed = lab_section(options.lab_rounds)
        failed += lab_failed
    finished = datetime.datetime.now(datetime.timezone.utc)

    page = ["# Benchmarks", "",
            "Written by `scripts/bench%s` on %s UTC (%.0f s). Do not edit by hand: re-run the command." % (
                " --lab" if options.lab else "", started.strftime("%Y-%m-%d %H:%M"),
                (finished - started).total_seconds()), "",
            "- Machine: %s" % machine(),
            "- Load average (1, 5, 15 min) at the start: %s; at the end: %s. Other work on the machine shows in the "
            "timed figures (median and min–max over %d runs); round-trip counts and fake-clock times do not vary."
            % (load_before, load(), options.runs),
            "- Commit: %s" % commit(), ""]
    page += headline(discovery_results, counts) + facts + discovery + fuzz + printed + lab
    Path(options.output).write_text("\n".join(page).rstrip() + "\n")
    print("wrote %s" % options.output)
    if failed:
        print("FAILED: %s" % ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
