"""The data-centre fabric builders (issue 15): scenario files for a three-tier
(access/aggregation/core, STP) data centre, a leaf-spine routed fabric and a k-ary fat-tree, and
`network(text)`, the live simulated `Network` of one."""
from __future__ import annotations

from netplex.fabric.builders import FabricError, fat_tree, leaf_spine, three_tier
from netplex.fabric.network import network

__all__ = ["FabricError", "fat_tree", "leaf_spine", "network", "three_tier"]
