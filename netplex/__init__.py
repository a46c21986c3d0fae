"""netplex — a cloud network in a box.

The stable public API: `Network` (build nodes and links, load scenario files,
run probes) and the `Node` objects it returns (`node.cmd`, `node.run`).
"""
from __future__ import annotations

__all__ = ["Network", "Node", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: keep `import netplex.packet` light
    if name in ("Network", "Node"):
        from netplex import network

        return getattr(network, name)
    raise AttributeError(name)
