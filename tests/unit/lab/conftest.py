"""Make the lab package (tools/lab/aerostack_lab, standard library only) and the test helpers importable."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAB_TOOLS = HERE.parents[2] / "tools" / "lab"
for path in (LAB_TOOLS, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
