"""The one error type of the lab: a message a person can act on, and the fix when there is one."""

from __future__ import annotations


class LabError(Exception):
    """Something the lab cannot do. ``fix`` is the command or step that resolves it, when known.

    The CLI prints ``str(error)`` and exits 2; nothing catches it to carry on as if it had worked.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message
