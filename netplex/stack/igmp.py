"""IGMP host side (net/ipv4/igmp.c): group membership per device, and the reports that announce it.

ip_mc_inc_group / ip_mc_dec_group keep a device's group list (what
`bridge fdb show` lists as the device's own 01:00:5e:… addresses, and what
ip_check_mc_rcu accepts on receive). A change sends IGMPv3 state-change
reports (igmp_ifc_event): one at once and `robustness − 1` (one) more after
a random delay within unsolicited_report_interval (1 s), each to 224.0.0.22
with TTL 1, TOS 0xc0, DF and the Router Alert option (igmpv3_newpack).
"""
from __future__ import annotations

from typing import Any

from netplex.packet.igmp import (IGMPV3_ALL_MCR, IGMPV3_CHANGE_TO_EXCLUDE, IGMPV3_CHANGE_TO_INCLUDE,
                                 IGMPV3_HOST_MEMBERSHIP_REPORT, IPOPT_RA, Igmp, IgmpGroupRecord)
from netplex.packet.ipv4 import IP_DF, IPv4

IPPROTO_IGMP = 2
UNSOLICITED_REPORT_INTERVAL_NS = 1_000_000_000


def mc_mac(group: int) -> bytes:
    """ip_eth_mc_map."""
    return b"\x01\x00\x5e" + (group & 0x7FFFFF).to_bytes(3, "big")


def ip_mc_join_group(ns: Any, dev: Any, group: int) -> None:
    groups = ns.mc_groups.setdefault(dev.ifindex, [])
    if group in groups:
        return
    groups.append(group)
    if ns.net.tracer.on:
        ns.trace("igmp", f"{dev.name}: joined {ns.fmt_ip(group)}")
    _state_change(ns, dev, group, IGMPV3_CHANGE_TO_EXCLUDE)


def ip_mc_leave_group(ns: Any, dev: Any, group: int) -> None:
    groups = ns.mc_groups.get(dev.ifindex)
    if not groups or group not in groups:
        return
    groups.remove(group)
    if ns.net.tracer.on:
        ns.trace("igmp", f"{dev.name}: left {ns.fmt_ip(group)}")
    _state_change(ns, dev, group, IGMPV3_CHANGE_TO_INCLUDE)


def _state_change(ns: Any, dev: Any, group: int, rtype: int) -> None:
    if not dev.up:
        return
    igmpv3_send_report(ns, dev, group, rtype)
    later = ns.net.rng.randrange(UNSOLICITED_REPORT_INTERVAL_NS)
    ns.sched.after(later, igmpv3_send_report, ns, dev, group, rtype)


def igmpv3_send_report(ns: Any, dev: Any, group: int, rtype: int) -> None:
    """igmpv3_sendpack: one state-change record."""
    if not dev.up or dev.ifindex not in ns.by_index:
        return
    from netplex.stack.ipv4 import OutRoute

    src = ns.select_source(dev, IGMPV3_ALL_MCR) or 0
    report = Igmp(IGMPV3_HOST_MEMBERSHIP_REPORT, records=[IgmpGroupRecord(rtype, group)])
    ip = IPv4(src, IGMPV3_ALL_MCR, IPPROTO_IGMP, report, ttl=1, tos=0xC0, flags=IP_DF, options=IPOPT_RA)
    ns.ip_local_out(ip, OutRoute(None, dev, IGMPV3_ALL_MCR, src, "broadcast"))
