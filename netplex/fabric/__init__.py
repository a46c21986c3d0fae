"""The data-centre fabric builders (issue 15): scenario files for a three-tier
(access/aggregation/core, STP) data centre and a leaf-spine routed fabric, and
`network(text)`, the live simulated `Network` of one."""
from __future__ import annotations

from netplex.fabric.builders import FabricError, leaf_spine, three_tier
from netplex.fabric.network import network

__all__ = ["FabricError", "leaf_spine", "network", "three_tier"]
