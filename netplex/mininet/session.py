"""The run a Mininet script belongs to: which backend builds its networks, and its notes.

`netplex.mininet.run` opens a `Session` around the script; every `Mininet()` the
script makes asks it for a fresh backend (`scenario/backend.py`'s seam) and hands
it back on `stop()`. Notes say what netplex accepted but does not model (a CPU
limit, a queue size), once each, on standard error as Mininet's warnings are.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from netplex.errors import NetplexError
from netplex.network import Network, Node
from netplex.scenario.backend import Backend
from netplex.scenario.sim import SimBackend

__all__ = ["MininetUnsupported", "Session", "current", "note"]


class MininetUnsupported(NetplexError):
    """A Mininet API call or parameter netplex does not run (status 2): `what` names it."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(f"netplex: {message}", status=2)
        self.what = what


@dataclass
class Session:
    """One script's run: the backend factory, and the open backends to close at the end."""

    make_backend: Callable[[], Backend] = SimBackend
    open_backends: list[Backend] = field(default_factory=list)
    noted: set[str] = field(default_factory=set)
    machine: Node | None = None   # the scratch machine `quietRun` runs on (made on first use)

    def this_machine(self) -> Node:
        """A simulated Linux machine standing for the one Mininet runs on: `quietRun('which
        vconfig')` asks it, never the real machine; nothing it does reaches the network's nodes."""
        if self.machine is None:
            self.machine = Network().add_node("machine")
        return self.machine

    def backend(self) -> Backend:
        be = self.make_backend()
        self.open_backends.append(be)
        return be

    def release(self, be: Backend) -> None:
        if be in self.open_backends:
            self.open_backends.remove(be)
        be.close()

    def close(self) -> None:
        while self.open_backends:
            self.release(self.open_backends[-1])


_SESSION: ContextVar[Session | None] = ContextVar("netplex_mininet_session", default=None)


def current() -> Session:
    """The running script's session (a simulator session when none was opened)."""
    s = _SESSION.get()
    if s is None:
        s = Session()
        _SESSION.set(s)
    return s


def activate(session: Session | None) -> object:
    return _SESSION.set(session)


def deactivate(token: object) -> None:
    _SESSION.reset(token)  # type: ignore[arg-type]


def note(text: str) -> None:
    """`*** netplex: TEXT` on standard error, once per run."""
    s = current()
    if text in s.noted:
        return
    s.noted.add(text)
    sys.stderr.write(f"*** netplex: {text}\n")
