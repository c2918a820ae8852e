"""Simulator tests: make the shared helpers (simulator_support) and the simulator package importable."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parents[1] / "simulator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
