"""The shell a simulated node runs: every command module registered, files and sleep wired.

Importing this module registers all commands (text tools, ip, bridge, brctl,
sysctl, ping) in the one table of `netplex.shell.registry`.
"""
from __future__ import annotations

import importlib
from typing import Any

from netplex.shell.interp import Shell

COMMAND_MODULES = ("textutils", "ip", "bridge", "brctl", "sysctl", "ping", "iptables", "conntrack", "docker_proxy", "tc", "vconfig", "smcroute")
for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"netplex.shell.{_name}")
    except ModuleNotFoundError as exc:  # a command family not written yet
        if exc.name != f"netplex.shell.{_name}":
            raise


def read_file(ns: Any, path: str) -> str | None:
    try:
        from netplex.shell import sysfs
    except ModuleNotFoundError:
        return None
    return sysfs.read_file(ns, path)


def make_shell(node: Any) -> Shell:
    """A shell bound to `node` (a netplex Node): its namespace, files and clock."""
    ns = node.ns
    return Shell(node=ns, read_file=lambda p: read_file(ns, p), sleep=node.net.run_for,
                 machine=node.machine)
