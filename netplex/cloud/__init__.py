"""A cloud in a box (issue 14): an `openstack` controller whose networks, subnets,
security groups and servers the linuxbridge agent and iptables firewall compile onto
`cloud-host` nodes. Importing `netplex.cloud.kinds` registers the kind and the scenario's
`cloud:` section. The package itself imports only the controller and the client, so the kernel
twin's `openstack` (`python -m netplex.cloud`, run once per command line) does not load the
simulator. See docs/cloud.md.
"""
from __future__ import annotations

from netplex.cloud.controller import Controller
from netplex.cloud.openstack import openstack

__all__ = ["Controller", "openstack"]
