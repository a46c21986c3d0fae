"""Netfilter for one namespace: hooks, iptables tables, matches and targets, conntrack and NAT.

`core` holds the interfaces (verdicts, hook registration, PacketCtx, the
extension registries); `table` the rule evaluation; `matches*` and
`targets` the extensions; conntrack and NAT live in their own modules.
Importing this package registers every extension that exists.
"""
from __future__ import annotations

import importlib

from netplex.stack.netfilter.core import MATCHES, TARGETS, Netfilter, PacketCtx, netfilter_of  # noqa: F401

for _mod in ("hooks", "matches", "targets", "conntrack", "nat", "targets_nat", "matches_xt", "ipset", "tproxy"):
    try:
        importlib.import_module(f"netplex.stack.netfilter.{_mod}")
    except ModuleNotFoundError as exc:  # a part not written yet
        if exc.name != f"netplex.stack.netfilter.{_mod}":
            raise
