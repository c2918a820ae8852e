"""Make the load generator and its report (tools/loadgen, standard library only) importable."""

import sys
from pathlib import Path

LOADGEN = Path(__file__).resolve().parents[3] / "tools" / "loadgen"
if str(LOADGEN) not in sys.path:
    sys.path.insert(0, str(LOADGEN))
