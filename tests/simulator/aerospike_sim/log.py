"""Log lines shaped like the server's: ``Nov 22 2025 02:10:00 GMT: INFO (hb): (sim) message``, to stdout."""

from __future__ import annotations

import logging
import sys
import time

DETAIL = 5
LEVELS = {"critical": logging.CRITICAL, "warning": logging.WARNING, "info": logging.INFO,
          "debug": logging.DEBUG, "detail": DETAIL}
_NAMES = {logging.CRITICAL: "CRITICAL", logging.ERROR: "WARNING", logging.WARNING: "WARNING",
          logging.INFO: "INFO", logging.DEBUG: "DEBUG", DETAIL: "DETAIL"}

ROOT = "aerospike_sim"


class _ServerFormatter(logging.Formatter):
    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%b %d %Y %H:%M:%S", time.gmtime(record.created))
        context = record.name.rsplit(".", 1)[-1] if record.name != ROOT else "as"
        level = _NAMES.get(record.levelno, record.levelname)
        return "%s GMT: %s (%s): (sim) %s" % (stamp, level, context, record.getMessage())


def setup(level: str = "info") -> None:
    logging.addLevelName(DETAIL, "DETAIL")
    root = logging.getLogger(ROOT)
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_ServerFormatter())
    root.addHandler(handler)
    root.setLevel(LEVELS[level])
    root.propagate = False


def set_level(level: str) -> None:
    logging.getLogger(ROOT).setLevel(LEVELS[level])


def get(context: str) -> logging.Logger:
    """A logger for a server context: as, config, hb, clustering, exchange, migrate, info."""
    return logging.getLogger("%s.%s" % (ROOT, context))
