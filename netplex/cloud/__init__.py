"""A cloud in a box (issue 14): an `openstack` controller whose networks, subnets,
security groups and servers the linuxbridge agent and iptables firewall compile onto
`cloud-host` nodes. Importing the package registers the kind and the scenario's `cloud:`
section. See docs/cloud.md.
"""
from __future__ import annotations

from netplex.cloud import metadata, scenario, shellcmd
from netplex.cloud.controller import Controller
from netplex.cloud.node import CloudHost
from netplex.cloud.openstack import openstack

__all__ = ["CloudHost", "Controller", "metadata", "openstack", "scenario", "shellcmd"]
