"""Lab integration tests: real containers on the local Docker engine, under lab names of their own.

Every lab a test makes is taken down in a ``finally``, so a failing test leaves nothing behind.
"""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for _path in (REPO / "tools" / "lab", HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from aerostack_lab import Lab  # noqa: E402  pylint: disable=wrong-import-position
from aerostack_lab.progress import Progress  # noqa: E402  pylint: disable=wrong-import-position

PREFIX = f"aerostack-labtest-{os.getpid()}"


@pytest.fixture(scope="module")
def make_lab():
    """A factory of labs named after this test run; every lab it made is taken down afterwards, pass or fail."""
    made = []

    def make(suffix, **kwargs):
        lab = Lab(name=f"{PREFIX}-{suffix}", progress=Progress(quiet=not os.environ.get("LAB_VERBOSE")), **kwargs)
        made.append(lab)
        lab.up()
        return lab

    try:
        yield make
    finally:
        for lab in made:
            lab.down()
