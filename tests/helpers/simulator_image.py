"""The Aerospike simulator's container image, built locally on first use (tests/simulator/build-image).

The simulator stands in for the server only where a test asks for it; a real server image is used instead when
AEROSPIKE_IMAGE names one.
"""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REPOSITORY = "aerostack-lab/aerospike-simulator"


def simulator_image():
    """``aerostack-lab/aerospike-simulator:<version>`` on the local engine, built when it is not there yet."""
    from aerospike_sim import __version__  # pylint: disable=import-outside-toplevel

    image = "%s:%s" % (REPOSITORY, __version__)
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode != 0:
        subprocess.run([str(REPO / "tests" / "simulator" / "build-image"), "--tag", image], check=True)
    return image
