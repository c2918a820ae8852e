"""The Molecule scenarios of the roles, each on lab hosts of its own (molecule/<scenario>/).

- docker: the docker role on one bare systemd host: check mode on the fresh host, converge, idempotence, verify.
- swarm: the swarm role on 5 docker hosts: 3 managers + 2 workers, idempotence, a check-mode run with no change,
  5 managers and back to 3 with a leader and a majority at every sample, a killed manager tolerated and reported.

Each scenario's own test_sequence destroys its lab at the end, pass or fail.
"""

import os
import subprocess
import sys

import pytest
from labtest_helpers import REPO

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("scenario", ["docker", "swarm"])
def test_molecule_scenario_passes(scenario):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PY_COLORS="0",
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"))
    molecule = os.path.join(os.path.dirname(sys.executable), "molecule")
    proc = subprocess.run([molecule, "test", "--scenario-name", scenario], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False, timeout=1800)
    output = proc.stdout + proc.stderr
    print(output[-5000:])
    assert proc.returncode == 0, "molecule test -s %s failed (rc %d):\n%s" % (
        scenario, proc.returncode, output[-6000:])
