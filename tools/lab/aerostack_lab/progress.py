"""Progress lines with elapsed time, and a heartbeat while a long step runs."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator, TextIO


class Progress:
    """Writes ``[  12.3s] message`` lines to ``stream`` (stderr by default); ``quiet`` drops them all."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, heartbeat: float = 15.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def say(self, message: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self.stream.write(f"[{time.monotonic() - self.started:7.1f}s] {message}\n")
            self.stream.flush()

    @contextmanager
    def step(self, message: str) -> Iterator[None]:
        """Announce a step, repeat a 'still running' line every ``heartbeat`` seconds, report its duration."""
        self.say(f"{message} ...")
        begun = time.monotonic()
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat):
                self.say(f"  ... still {message[0].lower() + message[1:]} ({time.monotonic() - begun:.0f} s)")

        ticker = threading.Thread(target=beat, daemon=True)
        if not self.quiet and self.heartbeat > 0:
            ticker.start()
        try:
            yield
        except BaseException:
            done.set()
            self.say(f"{message}: failed after {time.monotonic() - begun:.1f} s")
            raise
        finally:
            done.set()
        self.say(f"{message}: done in {time.monotonic() - begun:.1f} s")
