"""mininet.nodelib: LinuxBridge (as in mininet.node here) and NAT (refused)."""
from __future__ import annotations

from typing import Any

from netplex.mininet.node import LinuxBridge, Node
from netplex.mininet.session import MininetUnsupported

__all__ = ["LinuxBridge", "NAT"]


class NAT(Node):
    """Mininet's NAT joins the network to this machine's interfaces: refused."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        raise MininetUnsupported("NAT", "NAT connects the network to this machine's own interfaces; netplex's "
                                 "networks stay inside the simulator")
