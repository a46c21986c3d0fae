"""mininet.topolib: TreeTopo (depth, fanout), TreeNet and TorusTopo (mininet/topolib.py)."""
from __future__ import annotations

from typing import Any

from netplex.mininet.net import Mininet
from netplex.mininet.topo import Topo

__all__ = ["TorusTopo", "TreeNet", "TreeTopo"]


class TreeTopo(Topo):
    """A tree of switches `depth` deep, each with `fanout` children; hosts are the leaves."""

    def build(self, depth: int = 1, fanout: int = 2) -> None:
        self.hostNum = 1
        self.switchNum = 1
        self.addTree(depth, fanout)

    def addTree(self, depth: int, fanout: int) -> str:
        if depth > 0:
            node = self.addSwitch(f"s{self.switchNum}")
            self.switchNum += 1
            for _ in range(fanout):
                self.addLink(node, self.addTree(depth - 1, fanout))
        else:
            node = self.addHost(f"h{self.hostNum}")
            self.hostNum += 1
        return node


def TreeNet(depth: int = 1, fanout: int = 2, **kwargs: Any) -> Mininet:
    """A Mininet on a TreeTopo."""
    return Mininet(TreeTopo(depth, fanout), **kwargs)


class TorusTopo(Topo):
    """An x by y torus of switches, n hosts on each (x and y at least 3)."""

    def build(self, x: int, y: int, n: int = 1) -> None:
        if x < 3 or y < 3:
            raise Exception("Please use 3x3 or greater for compatibility with 2.1")
        hosts, switches, dpid = {}, {}, 0
        for i in range(x):
            for j in range(y):
                loc = f"{i + 1}x{j + 1}"
                dpid = ((i + 1) << 8) + (j + 1)
                switch = switches[i, j] = self.addSwitch("s" + loc, dpid=f"{dpid:x}")
                for k in range(n):
                    host = hosts[i, j, k] = self.addHost("h" + loc + ("" if n == 1 else str(k + 1)))
                    self.addLink(host, switch)
        for i in range(x):
            for j in range(y):
                self.addLink(switches[i, j], switches[i, (j + 1) % y])
                self.addLink(switches[i, j], switches[(i + 1) % x, j])
