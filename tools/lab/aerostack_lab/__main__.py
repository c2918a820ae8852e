"""``python -m aerostack_lab`` is ``scripts/lab``."""

import sys

from .cli import main

sys.exit(main())
