"""Watch a swarm's control plane through one manager until a stop file appears; fail if quorum was ever at risk.

usage: watch_swarm.py LAB HOST STOP_FILE [--interval SECONDS] [--max-seconds SECONDS]

Every sample is `docker node ls` on HOST (a manager that stays one). A sample is bad when the command fails, no
manager is the leader, or fewer managers are reachable than a majority. Prints a JSON summary and exits 1 when any
sample was bad, 2 when the stop file never appeared within --max-seconds.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools" / "lab"))

from aerostack_lab import Lab  # noqa: E402

FORMAT = "{{.Hostname}}|{{.ManagerStatus}}|{{.Status}}"


def sample(lab, host):
    rc, out, err = lab.exec(host, ["docker", "node", "ls", "--format", FORMAT], timeout=20)
    if rc != 0:
        return None, "docker node ls failed: %s" % (err.strip() or out.strip())
    managers = reachable = 0
    leader = False
    for line in out.splitlines():
        _name, status, _state = line.split("|")
        if status:
            managers += 1
        if status in ("Leader", "Reachable"):
            reachable += 1
        leader = leader or status == "Leader"
    problem = None
    if not leader:
        problem = "no leader"
    elif reachable < managers // 2 + 1:
        problem = "%d of %d managers reachable" % (reachable, managers)
    return {"managers": managers, "reachable": reachable}, problem


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("lab")
    parser.add_argument("host")
    parser.add_argument("stop_file")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    lab = Lab.existing(args.lab)
    deadline = time.monotonic() + args.max_seconds
    samples, problems, counts = 0, [], []
    while not os.path.exists(args.stop_file):
        if time.monotonic() > deadline:
            message = "the stop file %s did not appear within %ss" % (args.stop_file, args.max_seconds)
            print(json.dumps({"error": message}))
            return 2
        shape, problem = sample(lab, args.host)
        samples += 1
        if shape:
            counts.append(shape["managers"])
        if problem:
            problems.append("sample %d: %s" % (samples, problem))
        time.sleep(args.interval)
    print(json.dumps({"samples": samples, "min_managers": min(counts) if counts else None,
                      "max_managers": max(counts) if counts else None, "problems": problems[:20]}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
