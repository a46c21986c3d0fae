"""containerlab topologies on netplex: `netplex run lab.clab.yml` (and `shell`, `trace`, `diff`).

`topology.py` reads containerlab's topology file (`name`, `mgmt`, `topology.defaults/kinds/
groups/nodes/links`) into a netplex `Scenario`; `lab.py` keeps a deployed lab (`netplex clab
deploy|inspect|exec|destroy`) and prints containerlab's `inspect` table. See docs/containerlab.md for what is run, noted and refused.
"""
from __future__ import annotations

from netplex.clab.topology import ClabLab, is_clab_file, load_clab

__all__ = ["ClabLab", "is_clab_file", "load_clab"]
