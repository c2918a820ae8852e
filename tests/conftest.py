"""Test-wide setup: make this checkout importable as ``ansible_collections.aerostack.swarm``.

Ansible finds collections only below a directory named ``ansible_collections/<namespace>/<name>``.
Rather than asking every contributor to clone into such a path, the tests link the checkout into
``.cache/collections`` (ignored by git) and put that on ``sys.path`` and ANSIBLE_COLLECTIONS_PATH.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "aerostack" / "swarm"


def _link_collection():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if LINK.is_symlink() and LINK.resolve() == REPO:
        return
    if LINK.is_symlink() or LINK.exists():
        LINK.unlink()
    LINK.symlink_to(REPO, target_is_directory=True)


_link_collection()
for _path in (COLLECTIONS, REPO / "tests" / "helpers", REPO / "tests" / "simulator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
_paths = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
if str(COLLECTIONS) not in _paths:
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join([str(COLLECTIONS)] + _paths)


# --- real-server mode ------------------------------------------------------------------------------
# Tests marked real_server need a real Aerospike server image (AEROSPIKE_IMAGE) on the local engine.
# Without the variable they are skipped with one line; with it naming a missing image they fail,
# because the user asked for a real-server run and must not get a quiet simulator-only one.

import pytest  # noqa: E402  (after the path set-up above, on purpose)


def real_server_image():
    """The real Aerospike server image to test against, or None."""
    return os.environ.get("AEROSPIKE_IMAGE") or None


def pytest_collection_modifyitems(config, items):
    # Benchmarks print numbers and take time; they run only when asked for (-m benchmark).
    if "benchmark" not in (config.getoption("-m") or ""):
        skip_benchmark = pytest.mark.skip(reason="a benchmark: run it with -m benchmark")
        for item in items:
            if "benchmark" in item.keywords:
                item.add_marker(skip_benchmark)
    if real_server_image():
        return
    skip = pytest.mark.skip(reason="AEROSPIKE_IMAGE is not set: no real Aerospike server image to run against")
    for item in items:
        if "real_server" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    image = real_server_image()
    if image:
        return "aerospike server: %s (real-server tests enabled)" % image
    return "aerospike server: simulator only (set AEROSPIKE_IMAGE to a real server image to also test against it)"
