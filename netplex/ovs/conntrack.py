"""Connection tracking as the datapath's ct() action gives it to OpenFlow
(net/openvswitch/conntrack.c over nf_conntrack; ovs-fields(7) ct_state).

Per zone, a committed connection is known in both directions: a packet of it
gets `+trk+est` (`+rpl` the other way), any other `+trk+new`; `nat(src=A)` or
`nat(dst=A)` on commit rewrites that one address for the connection's packets.
This is the tracker ovs-vswitchd's bridges share (one per datapath).
"""
from __future__ import annotations

from typing import Any

from netplex.ovs.flow import IPPROTO_TCP, IPPROTO_UDP
from netplex.packet.ethernet import ETH_P_IP

__all__ = ["CS_EST", "CS_INV", "CS_NEW", "CS_RPL", "CS_TRK", "ConnTracker"]

CS_NEW, CS_EST, CS_RPL, CS_INV, CS_TRK = 0x01, 0x02, 0x08, 0x10, 0x20


class ConnTracker:
    """The datapath's connection tracking as ct() sees it: per zone, a committed
    connection is known in both directions; nat rewrites the one address."""

    def __init__(self) -> None:
        self.conns: dict[tuple[int, tuple[int, ...]], tuple[bool, Any]] = {}   # key → (is_reply_dir, conn)

    @staticmethod
    def tuple_of(flow: dict[str, int]) -> tuple[int, ...] | None:
        if flow.get("dl_type") != ETH_P_IP:
            return None
        proto = flow.get("nw_proto", 0)
        sp = flow.get("tp_src", 0) if proto in (IPPROTO_TCP, IPPROTO_UDP) else 0
        dp = flow.get("tp_dst", 0) if proto in (IPPROTO_TCP, IPPROTO_UDP) else 0
        return (flow.get("nw_src", 0), flow.get("nw_dst", 0), proto, sp, dp)

    def lookup(self, zone: int, flow: dict[str, int]) -> int:
        """The ct_state a packet gets from ct(): trk, and new / est / est+rpl."""
        t = self.tuple_of(flow)
        if t is None:
            return CS_TRK | CS_INV   # not something conntrack follows here
        e = self.conns.get((zone, t))
        if e is None:
            return CS_TRK | CS_NEW
        return CS_TRK | CS_EST | (CS_RPL if e[0] else 0)

    def commit(self, zone: int, flow: dict[str, int], nat: tuple[str, str] | None) -> None:
        t = self.tuple_of(flow)
        if t is None or (zone, t) in self.conns:
            return
        src, dst, proto, sp, dport = t
        rsrc, rdst = src, dst
        if nat is not None and nat[1]:
            addr = nat[1].split(",")[0].split(":")[0].split("-")[0]
            a = 0
            for part in addr.split("."):
                a = a << 8 | int(part)
            if nat[0] == "src":
                rsrc = a
            else:
                rdst = a
        reply = (rdst, rsrc, proto, dport, sp)
        conn = (t, nat, (rsrc, rdst))
        self.conns[(zone, t)] = (False, conn)
        self.conns[(zone, reply)] = (True, conn)

    def nat_for(self, zone: int, flow: dict[str, int]) -> tuple[int, int] | None:
        """The addresses a committed NATed connection gives this packet (src, dst)."""
        t = self.tuple_of(flow)
        if t is None:
            return None
        e = self.conns.get((zone, t))
        if e is None or e[1][1] is None:
            return None
        is_reply, (orig, _nat, (rsrc, rdst)) = e
        if not is_reply:
            return rsrc, rdst
        return orig[1], orig[0]

    def flush(self) -> None:
        self.conns.clear()
