"""What one shell command, or one whole shell line, produced.

`Result` is the shell layer's own value; the scenario layer converts it to
`netplex.scenario.backend.CmdResult` (same fields) so that layer 4 never
imports layer 5.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Result"]


@dataclass(slots=True)
class Result:
    """Exit status, standard output text and standard error text."""

    status: int
    output: str = ""  # stdout text
    error: str = ""  # stderr text
