"""Where the iptables tables sit on the hooks (iptable_filter.c, iptable_mangle.c, iptable_raw.c,
iptable_security.c) and the br_netfilter entry points (net/bridge/br_netfilter_hooks.c).

A built-in chain that exists (see table.py) is registered on its hook at its
table's priority; evaluation is `Table.evaluate(chain, ctx)`. The nat
table is attached by the NAT module (it registers `TABLE_INIT["nat"]`).

br_netfilter: with net.bridge.bridge-nf-call-iptables=1 an IPv4 frame the
bridge forwards passes PREROUTING (in: the bridge, physin: the port),
FORWARD (in and out: the bridge) and POSTROUTING (out: the bridge, physout:
the port) — `br_nf_hook(bridge, hook, frame, in_port, out_port)` is the one
call the bridge makes at each point.
"""
from __future__ import annotations

from typing import Any

from netplex.stack.netfilter.core import (
    NF_IP_PRI_FILTER,
    NF_IP_PRI_MANGLE,
    NF_IP_PRI_RAW,
    NF_IP_PRI_SECURITY,
    TABLE_INIT,
    Netfilter,
    PacketCtx,
)
from netplex.stack.netfilter.table import Chain, Table

TABLE_PRIORITY = {"raw": NF_IP_PRI_RAW, "mangle": NF_IP_PRI_MANGLE, "filter": NF_IP_PRI_FILTER,
                  "security": NF_IP_PRI_SECURITY}


def _attach(nf: Netfilter, table: Table) -> None:
    prio = TABLE_PRIORITY[table.name]

    def created(ch: Chain) -> None:
        name = ch.name
        evaluate = table.evaluate

        def fn(ctx: PacketCtx) -> int:
            return evaluate(name, ctx)

        nf.register(name, prio, fn, f"{table.name}:{name}")

    table.on_chain_created = created
    for ch in table.chains.values():
        if ch.builtin and ch.created:
            created(ch)


for _t in TABLE_PRIORITY:
    TABLE_INIT[_t] = _attach


def br_nf_enabled(ns: Any, frame: Any) -> bool:
    """An untagged IPv4 frame, net.bridge.bridge-nf-call-iptables=1, and some hook to run."""
    return (frame.type == 0x0800 and not frame.vlans and bool(ns.hooks)
            and ns.sysctl.values.get("net.bridge.bridge-nf-call-iptables") == "1")


def br_nf_pre_routing(bridge: Any, port: Any, frame: Any) -> bool:
    """br_nf_pre_routing: PREROUTING for a frame entering a bridge port (in: the bridge, physin: the port).

    The frame is marked (meta.physin) so the IP layer does not run
    PREROUTING a second time when the bridge hands it up (ip_sabotage_in).
    """
    from netplex.stack.skb import skb_meta
    meta = skb_meta(frame)
    meta.physin = port.dev
    nf = bridge.ns.netfilter
    if nf is None or not nf.entries["PREROUTING"]:
        return True
    return nf.run_bridged("PREROUTING", frame, bridge, None)


def br_nf_forward(bridge: Any, frame: Any, out_port: Any) -> bool:
    """br_nf_forward_ip + br_nf_post_routing: FORWARD (in and out: the bridge), then POSTROUTING."""
    meta = frame.meta
    if meta is None or meta.physin is None:
        return True
    meta.physout = out_port.dev
    nf = bridge.ns.netfilter
    if nf is None:
        return True
    if nf.entries["FORWARD"] and not nf.run_bridged("FORWARD", frame, bridge, bridge):
        return False
    if nf.entries["POSTROUTING"] and not nf.run_bridged("POSTROUTING", frame, None, bridge):
        return False
    return True
