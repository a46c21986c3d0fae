"""Importing this module registers the cloud with the simulator: the `cloud-host` node kind
(node.py), the scenario's `cloud:` section (scenario.py), the metadata service (metadata.py) and
the `openstack` command (shellcmd.py)."""
from __future__ import annotations

from netplex.cloud import metadata, scenario, shellcmd
from netplex.cloud.node import CloudHost

__all__ = ["CloudHost", "metadata", "scenario", "shellcmd"]
