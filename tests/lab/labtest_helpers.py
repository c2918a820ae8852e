"""Helpers of the lab integration tests: wait for a condition with a deadline, run a command that must work."""

import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def wait_for(what, check, timeout=60.0, interval=0.5):
    """Poll ``check()`` until it returns a truthy value; fail naming ``what`` and the last value at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"waited {timeout:.0f} s for {what}; last answer: {last!r}")


def run_ok(lab, host, argv, what, input=None):
    rc, out, err = lab.exec(host, argv, input=input)
    if rc != 0:
        raise AssertionError(f"{what} on {host} failed (rc {rc}): {(err or out).strip()}")
    return out


def drill_lab_up(lab, say):
    """Bring up the fixed-name lab of a drill. A lab of that name left by an earlier run is reused only when the run
    asks to keep labs (AEROSTACK_DRILL_KEEP, scripts/drill --keep); otherwise it is removed first, because an
    interrupted drill leaves the swarm in whatever state it had made (two managers killed, say) and every drill
    assumes the hosts it starts from are fresh."""
    if not os.environ.get("AEROSTACK_DRILL_KEEP"):
        left = lab.down()
        if left["containers"] or left["volumes"]:
            say("removed the lab %s an earlier run left (%d containers, %d volumes) to start from fresh hosts"
                % (lab.name, len(left["containers"]), len(left["volumes"])))
    return lab.up()
