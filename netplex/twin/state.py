"""What a kernel-twin run owns, on disk, so a dead run's leftovers can be found.

One JSON file per run, /run/netplex/<prefix>.json (or /tmp/netplex-state when
/run is not writable): {pid, pid_start, started, prefix, namespaces, pids, pid_starts}.
It is written before anything is created and rewritten (atomically, by
rename) as namespaces and processes are added, so whatever exists is listed.
`pid_start` (the start time from /proc/PID/stat) tells a live owner from a
new process that reused its pid, and `pid_starts` (the same, by pid) does so for
each of the run's processes: pids are few (pid_max is often 32768), so a dead
run's process may have been replaced by another run's by the time it is cleaned.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunState", "new_prefix", "pid_start_time", "process_alive", "run_pids", "state_dirs"]

PRIMARY_DIR = "/run/netplex"
FALLBACK_DIR = "/tmp/netplex-state"


def state_dirs() -> list[str]:
    return [PRIMARY_DIR, FALLBACK_DIR]


def new_prefix() -> str:
    """A per-run namespace prefix: `npx-` and 8 hex digits."""
    return f"npx-{secrets.token_hex(4)}"


def pid_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[19])  # field 22 overall


def process_alive(pid: int, start: int | None) -> bool:
    now = pid_start_time(pid)
    return now is not None and (start is None or now == start)


def _writable_dir() -> str:
    for d in state_dirs():
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    raise OSError("no writable state directory (/run/netplex, /tmp/netplex-state)")


@dataclass
class RunState:
    """The state file of one live run; `save()` after every change."""

    prefix: str
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)
    namespaces: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    pid_starts: dict[int, int | None] = field(default_factory=dict)
    path: str = ""

    def __post_init__(self) -> None:
        self.pid_start = pid_start_time(self.pid)
        if not self.path:
            self.path = os.path.join(_writable_dir(), f"{self.prefix}.json")

    def as_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "pid_start": self.pid_start,
            "started": self.started,
            "prefix": self.prefix,
            "namespaces": self.namespaces,
            "pids": self.pids,
            "pid_starts": {str(p): t for p, t in self.pid_starts.items()},
        }

    def save(self) -> None:
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as f:
            json.dump(self.as_dict(), f)
        os.replace(tmp, self.path)

    def add_namespaces(self, names: list[str]) -> None:
        self.namespaces.extend(n for n in names if n not in self.namespaces)
        self.save()

    def add_pid(self, pid: int) -> None:
        self.pids.append(pid)
        self.pid_starts[pid] = pid_start_time(pid)
        self.save()

    def remove(self) -> None:
        for p in (self.path, f"{self.path}.tmp"):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


def load(path: str) -> dict[str, Any] | None:
    """A state file's content, or None if it is unreadable or malformed."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    return data


def run_pids(data: dict[str, Any]) -> list[int]:
    """A state file's processes that are still the ones the run started: a pid whose
    recorded start time differs (or that is gone) now belongs to someone else, or to no one."""
    starts = data.get("pid_starts")
    starts = starts if isinstance(starts, dict) else {}
    return [p for p in data.get("pids", []) if isinstance(p, int)
            and process_alive(p, starts[str(p)] if isinstance(starts.get(str(p)), int) else None)]
