"""mininet.topo: a topology as a graph of names (Topo), and the built-in ones.

`Topo.build()` adds hosts, switches and links by name; Mininet builds a network
from it (`Mininet(topo=...)`). Ports are numbered as Mininet numbers them: a
switch's first port is 1, a host's first is 0, each link takes the next free one
unless given. Built-ins: SingleSwitchTopo, SingleSwitchReversedTopo, MinimalTopo,
LinearTopo (mininet/topo.py).
"""
from __future__ import annotations

from typing import Any

from netplex.mininet.util import irange, natural, naturalSeq

__all__ = ["LinearTopo", "MinimalTopo", "MultiGraph", "SingleSwitchReversedTopo", "SingleSwitchTopo", "Topo"]


class MultiGraph:
    """Nodes with attributes and keyed edges between them (what Topo keeps)."""

    def __init__(self) -> None:
        self.node: dict[str, dict[str, Any]] = {}
        self.edge: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}

    def add_node(self, node: str, attr_dict: dict[str, Any] | None = None, **attrs: Any) -> None:
        self.node[node] = {**(attr_dict or {}), **attrs}

    def add_edge(self, src: str, dst: str, key: int | None = None,
                 attr_dict: dict[str, Any] | None = None, **attrs: Any) -> int:
        data = {**(attr_dict or {}), **attrs}
        self.node.setdefault(src, {})
        self.node.setdefault(dst, {})
        entries = self.edge.setdefault(src, {}).setdefault(dst, {})
        self.edge.setdefault(dst, {})[src] = entries
        if key is None:
            key = len(entries)
            while key in entries:
                key += 1
        entries[key] = data
        return key

    def nodes(self, data: bool = False) -> list[Any]:
        return list(self.node.items()) if data else list(self.node)

    def edges_iter(self, data: bool = False, keys: bool = False) -> Any:
        seen: set[tuple[str, str]] = set()
        for src, dsts in self.edge.items():
            for dst, entries in dsts.items():
                if (dst, src) in seen:
                    continue
                seen.add((src, dst))
                for k, info in entries.items():
                    yield (src, dst) + ((k,) if keys else ()) + ((info,) if data else ())

    def edges(self, data: bool = False, keys: bool = False) -> list[Any]:
        return list(self.edges_iter(data, keys))

    def __getitem__(self, node: str) -> dict[str, dict[int, dict[str, Any]]]:
        return self.edge[node]

    def __len__(self) -> int:
        return len(self.node)


class Topo:
    """A topology: call `build(*args, **params)` from the constructor; add nodes and links by name."""

    def __init__(self, *args: Any, **params: Any) -> None:
        self.g = MultiGraph()
        self.hopts: dict[str, Any] = params.pop("hopts", {})
        self.sopts: dict[str, Any] = params.pop("sopts", {})
        self.lopts: dict[str, Any] = params.pop("lopts", {})
        self.ports: dict[str, dict[int, tuple[str, int]]] = {}
        self.build(*args, **params)

    def build(self, *args: Any, **params: Any) -> None:
        """Override to add the topology's nodes and links."""

    def addNode(self, name: str, **opts: Any) -> str:
        self.g.add_node(name, **opts)
        return name

    def addHost(self, name: str, **opts: Any) -> str:
        return self.addNode(name, **(opts or self.hopts))

    def addSwitch(self, name: str, **opts: Any) -> str:
        return self.addNode(name, isSwitch=True, **(opts or self.sopts))

    def addLink(self, node1: str, node2: str, port1: int | None = None, port2: int | None = None,
                key: int | None = None, **opts: Any) -> int:
        port1, port2 = self.addPort(node1, node2, port1, port2)
        info = dict(opts or self.lopts)
        info.update(node1=node1, node2=node2, port1=port1, port2=port2)
        return self.g.add_edge(node1, node2, key, info)

    def nodes(self, sort: bool = True) -> list[str]:
        names = self.g.nodes()
        return self.sorted(names) if sort else names

    def isSwitch(self, n: str) -> bool:
        return bool(self.g.node[n].get("isSwitch", False))

    def switches(self, sort: bool = True) -> list[str]:
        return [n for n in self.nodes(sort) if self.isSwitch(n)]

    def hosts(self, sort: bool = True) -> list[str]:
        return [n for n in self.nodes(sort) if not self.isSwitch(n)]

    def iterLinks(self, withKeys: bool = False, withInfo: bool = False) -> Any:
        for _src, _dst, key, info in self.g.edges_iter(data=True, keys=True):
            row: tuple[Any, ...] = (info["node1"], info["node2"])
            if withKeys:
                row += (key,)
            if withInfo:
                row += (info,)
            yield row

    def links(self, sort: bool = False, withKeys: bool = False, withInfo: bool = False) -> list[Any]:
        rows = list(self.iterLinks(withKeys, withInfo))
        if not sort:
            return rows
        size = 3 if withKeys else 2
        return sorted(rows, key=lambda r: naturalSeq(r[:size]))

    def addPort(self, src: str, dst: str, sport: int | None = None, dport: int | None = None) -> tuple[int, int]:
        """The next free port on each end (switches count from 1, hosts from 0) unless given."""
        ports = self.ports
        ports.setdefault(src, {})
        ports.setdefault(dst, {})
        if sport is None:
            sport = len(ports[src]) + (1 if self.isSwitch(src) else 0)
        if dport is None:
            dport = len(ports[dst]) + (1 if self.isSwitch(dst) else 0)
        ports[src][sport] = (dst, dport)
        ports[dst][dport] = (src, sport)
        return sport, dport

    def port(self, src: str, dst: str) -> Any:
        found = [(sport, entry[1]) for sport, entry in self.ports[src].items() if entry[0] == dst]
        return found[0] if len(found) == 1 else found

    def linkInfo(self, src: str, dst: str, key: int | None = None) -> dict[str, Any]:
        entries = self.g[src][dst]
        return entries[min(entries) if key is None else key]

    def setlinkInfo(self, src: str, dst: str, info: dict[str, Any], key: int | None = None) -> None:
        entries = self.g[src][dst]
        entries[min(entries) if key is None else key] = info

    def nodeInfo(self, name: str) -> dict[str, Any]:
        return self.g.node[name]

    def setNodeInfo(self, name: str, info: dict[str, Any]) -> None:
        self.g.node[name] = info

    @staticmethod
    def sorted(items: Any) -> list[Any]:
        return sorted(items, key=natural)


class SingleSwitchTopo(Topo):
    """One switch, k hosts."""

    def build(self, k: int = 2, **_opts: Any) -> None:
        self.k = k
        switch = self.addSwitch("s1")
        for h in irange(1, k):
            self.addLink(self.addHost(f"h{h}"), switch)


class SingleSwitchReversedTopo(Topo):
    """One switch, k hosts, host h on port k-h+1."""

    def build(self, k: int = 2) -> None:
        self.k = k
        switch = self.addSwitch("s1")
        for h in irange(1, k):
            self.addLink(self.addHost(f"h{h}"), switch, port1=0, port2=k - h + 1)


class MinimalTopo(SingleSwitchTopo):
    """Two hosts on one switch."""

    def build(self) -> None:  # type: ignore[override]
        SingleSwitchTopo.build(self, k=2)


class LinearTopo(Topo):
    """k switches in a chain, n hosts on each (h1..hk, or hJsI when n > 1)."""

    def build(self, k: int = 2, n: int = 1, **_opts: Any) -> None:
        self.k, self.n = k, n
        last = None
        for i in irange(1, k):
            switch = self.addSwitch(f"s{i}")
            for j in irange(1, n):
                self.addLink(self.addHost(f"h{i}" if n == 1 else f"h{j}s{i}"), switch)
            if last:
                self.addLink(switch, last)
            last = switch
