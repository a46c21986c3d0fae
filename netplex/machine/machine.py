"""`Machine`: a host's root namespace, its named namespaces, files and processes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from netplex.apps.process import ProcessTable
from netplex.machine.fs import FileSystem
from netplex.stack.netns import Namespace

if TYPE_CHECKING:
    from netplex.engine.world import World

__all__ = ["Machine"]


class Machine:
    """One host: `root` is its initial network namespace, `netns` the named ones."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.root = Namespace(world, name)
        self.netns: dict[str, Namespace] = {}   # `ip netns add NAME` (/run/netns/NAME)
        self.fs = FileSystem()
        self.procs = ProcessTable()

    def __repr__(self) -> str:
        return f"<Machine {self.name}>"
