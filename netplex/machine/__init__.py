"""A machine: what one host of a scenario is beyond a single network namespace.

A Linux machine holds its root network namespace and the namespaces made on
it (`ip netns add`, where containers and Neutron's `qrouter-`/`qdhcp-` live),
its small filesystem (`netplex.machine.fs`) and its process table
(`netplex.apps.process`). The shell runs on a machine, in one of its
namespaces. This package sits above `stack/` and below `shell/`.
"""
from __future__ import annotations

from netplex.machine.machine import NETNS_RUN_DIR, Machine, NetnsError, NetnsResolver

__all__ = ["NETNS_RUN_DIR", "Machine", "NetnsError", "NetnsResolver"]
