"""netplex's exception tree. Configuration errors raise these; data-plane
failures never do (they are drops with a reason, counted and traced).

    NetplexError            errno + the message the real tool prints
     └── ScenarioError      a bad scenario file: file, line, field, message

Layer-specific subclasses (DeviceError, RouteError, …) are added below as the
stack grows; each keeps the real tool's wording in `message`.
"""
from __future__ import annotations

import errno as _errno
from typing import Any

__all__ = ["NetplexError", "ScenarioError"]


class NetplexError(Exception):
    """A configuration error: `errno` as the kernel would return it and
    `message` exactly as the real tool prints it (e.g. `Cannot find device "eth9"`)."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno

    def __str__(self) -> str:
        return self.message


class ScenarioError(NetplexError):
    """A scenario file netplex cannot run, located to one place in it.

    str() is the one line users see: `FILE:LINE: FIELD: message`.
    """

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        super().__init__(f"{file}:{line}: {field}: {message}", _errno.EINVAL)
        self.message = message

    def __str__(self) -> str:
        if self.line <= 0:  # the file itself could not be read
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The `error` object of a result for a bad file (SCENARIO.md, Results)."""
        return {"file": self.file, "file_line": self.line, "field": self.field, "message": self.message}
