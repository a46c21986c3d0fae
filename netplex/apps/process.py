"""A machine's process table: pid, name, command line and network namespace of
each userspace program (`ps`, `kill`, `pidof`, `ip netns pids` read it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Process", "ProcessTable"]


@dataclass(slots=True, eq=False)
class Process:
    """One running program."""

    pid: int
    argv: list[str]
    netns: Any = None                      # the stack Namespace it runs in
    sockets: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""


class ProcessTable:
    """Processes by pid; pid 1 is the machine's init."""

    def __init__(self) -> None:
        self.procs: dict[int, Process] = {}
        self.next_pid = 2

    def spawn(self, argv: list[str], netns: Any = None) -> Process:
        p = Process(self.next_pid, list(argv), netns)
        self.next_pid += 1
        self.procs[p.pid] = p
        return p
