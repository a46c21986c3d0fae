"""Tearing down what a kernel-twin run owns, and the leftovers of dead runs.

`teardown()` is the one way a run's namespaces go: stop every process inside
them (services, relays, and anything a setup line left running, also in the
namespaces a node made with `ip netns add` in its own mount namespace), then
delete the namespaces and unbind the nodes' mount namespaces (`mountns`), with
which their nested namespaces die. `clean()` (behind `netplex clean`) applies it to every state
file whose owner is dead; it touches only namespaces listed in a netplex state
file under that file's prefix, and never a live run.
"""
from __future__ import annotations

import glob
import os
import signal
import time
from collections.abc import Iterable

from netplex.twin import mountns, netns, state

__all__ = ["clean", "teardown"]


def _ns_pids(inodes: set[int], kind: str = "net") -> list[int]:
    """Pids of processes whose `kind` ("net" or "mnt") namespace is one of `inodes`."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            link = os.readlink(f"/proc/{entry}/ns/{kind}")
        except OSError:
            continue
        if link.startswith(f"{kind}:[") and int(link[len(kind) + 2:-1]) in inodes:
            found.append(int(entry))
    return found


def _is_twin_program(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"netplex/twin/" in f.read()
    except OSError:
        return False


def _kill_all(pids: list[int], grace: float = 1.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive or sig == signal.SIGKILL:
            break
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _exists(p)]
            if alive:
                time.sleep(0.01)
        pids = alive
    for pid in pids:  # reap our own children, if they are
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _exists(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return b") Z" not in f.read(64)
    except OSError:
        return False


def teardown(namespaces: Iterable[str], pids: Iterable[int] = ()) -> list[str]:
    """Stop the processes inside `namespaces` (and the twin programs among `pids`), delete them.

    Returns the names of the namespaces deleted.
    """
    namespaces = list(namespaces)
    inodes = {i for i in (netns.inode(n) for n in namespaces) if i is not None}
    for n in namespaces:
        inodes |= mountns.nested_netns_inodes(n)
    mnt_inodes = {i for i in (mountns.inode(n) for n in namespaces) if i is not None}
    victims = set(_ns_pids(inodes)) if inodes else set()
    victims.update(_ns_pids(mnt_inodes, "mnt") if mnt_inodes else ())
    victims.update(p for p in pids if _is_twin_program(p))
    if victims:
        _kill_all(sorted(victims))
    removed = []
    for name in list(namespaces):
        mountns.delete(name)
        if netns.delete(name):
            removed.append(name)
    return removed


def clean() -> list[str]:
    """Remove the leftovers of dead runs; return what was removed (namespaces, state files)."""
    removed: list[str] = []
    for d in state.state_dirs():
        for path in sorted(glob.glob(os.path.join(d, "npx-*.json"))):
            data = state.load(path)
            if data is None:
                continue
            if state.process_alive(data["pid"], data.get("pid_start")):
                continue  # a live run owns it
            prefix = str(data.get("prefix", ""))
            names = [
                n
                for n in data.get("namespaces", [])
                if isinstance(n, str) and prefix and n.startswith(prefix + "-") and "/" not in n
            ]
            pids = state.run_pids(data)
            for name in teardown(names, pids):
                removed.append(f"netns {name}")
            try:
                os.unlink(path)
            except FileNotFoundError:  # a concurrent `netplex clean` removed it first
                continue
            removed.append(f"state {path}")
    live = any(glob.glob(os.path.join(d, "npx-*.json")) for d in state.state_dirs())
    if not live and mountns.release():
        removed.append(f"mount {mountns.MNT_DIR}")
    return removed
