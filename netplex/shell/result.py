"""What one shell command, or one whole shell line, produced.

`Result` is the shell layer's own value; the scenario layer converts it to
`netplex.scenario.backend.CmdResult` (same fields) so that layer 4 never
imports layer 5.

`unsupported` is the one refusal of what netplex does not model, in netplex's
own words (`netplex: ping -M is not supported`), so that it never reads like
the real tool's "invalid option" (the user's typo). An option netplex parses
is either done or refused this way, never accepted and ignored.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UNSUPPORTED_STATUS", "Result", "unsupported"]

UNSUPPORTED_STATUS = 2  # the status of a refusal (as a usage error: nothing was done)


@dataclass(slots=True)
class Result:
    """Exit status, standard output text and standard error text."""

    status: int
    output: str = ""  # stdout text
    error: str = ""  # stderr text


def unsupported(what: str, why: str = "") -> Result:
    """netplex's refusal of `what` (e.g. "ping -M"): `netplex: WHAT is not supported[ (WHY)]`
    on stderr, status 2, nothing done."""
    more = f" ({why})" if why else ""
    return Result(UNSUPPORTED_STATUS, "", f"netplex: {what} is not supported{more}\n")
