"""IGMP host side (net/ipv4/igmp.c): group membership per device, and the reports that announce it.

ip_mc_inc_group / ip_mc_dec_group keep a device's group list (what
`bridge fdb show` lists as the device's own 01:00:5e:… addresses, and what
ip_check_mc_rcu accepts on receive). A change sends IGMPv3 state-change
reports (igmp_ifc_event): one at once and `robustness − 1` (one) more after
a random delay within unsolicited_report_interval (1 s), each to 224.0.0.22
with TTL 1, TOS 0xc0, DF and the Router Alert option (igmpv3_newpack).

Queries are answered (igmp_heard_query, RFC 3376 §5.2 and RFC 2236 §3): an
IGMPv3 general query by one current-state report of every group after a
random delay below its Max Resp Time; a v2 query (an 8-byte query with a
non-zero code) puts the device in IGMPv2 compatibility mode for 260 s
(mr_v2_seen = robustness × query interval + response interval), in which each
group is reported by its own v2 report to the group address, a report heard
from another host for the same group suppresses ours, and a leave is a v2
Leave to 224.0.0.2 (igmp_send_report). Link-local groups other than
224.0.0.1 are reported (net.ipv4.igmp_link_local_mcast_reports = 1).
"""
from __future__ import annotations

from typing import Any

from netplex.packet.igmp import (
    IGMP_HOST_LEAVE_MESSAGE,
    IGMP_HOST_MEMBERSHIP_QUERY,
    IGMPV2_HOST_MEMBERSHIP_REPORT,
    IGMPV3_ALL_MCR,
    IGMPV3_CHANGE_TO_EXCLUDE,
    IGMPV3_CHANGE_TO_INCLUDE,
    IGMPV3_HOST_MEMBERSHIP_REPORT,
    IGMPV3_MODE_IS_EXCLUDE,
    IPOPT_RA,
    Igmp,
    IgmpGroupRecord,
)
from netplex.packet.ipv4 import IP_DF, IPv4

IPPROTO_IGMP = 2
UNSOLICITED_REPORT_INTERVAL_NS = 1_000_000_000
IGMP_ALL_HOSTS = 0xE0000001
IGMP_ALL_ROUTER = 0xE0000002
MR_V2_SEEN_NS = (2 * 125 + 10) * 1_000_000_000     # mr_qrv × mr_qi + mr_qri
IGMP_TIMER_SCALE_NS = 100_000_000                  # Max Resp Time is in tenths of a second


class IgmpDevState:
    """The per-device part of in_device the IGMP host keeps: compatibility mode and report timers."""

    __slots__ = ("v2_seen", "timers", "gq_timer", "reporter")

    def __init__(self) -> None:
        self.v2_seen = 0                     # IGMPv2 compatibility mode until this time (ns)
        self.timers: dict[int, int] = {}     # group → expiry of its pending report
        self.gq_timer = 0                    # pending v3 general-query response (expiry), 0 none
        self.reporter: set[int] = set()      # groups whose last v2 report was ours


def _state(ns: Any, dev: Any) -> IgmpDevState:
    st = ns.igmp
    s = st.get(dev.ifindex)
    if s is None:
        s = st[dev.ifindex] = IgmpDevState()
    return s


def _v2_mode(ns: Any, dev: Any) -> bool:
    s = ns.igmp.get(dev.ifindex)
    return s is not None and s.v2_seen > ns.sched.now


def mc_mac(group: int) -> bytes:
    """ip_eth_mc_map."""
    return b"\x01\x00\x5e" + (group & 0x7FFFFF).to_bytes(3, "big")


def ip_mc_join_group(ns: Any, dev: Any, group: int) -> None:
    groups = ns.mc_groups.setdefault(dev.ifindex, [])
    if group in groups:
        return
    groups.append(group)
    if ns.world.tracer.on:
        ns.trace("igmp", f"{dev.name}: joined {ns.fmt_ip(group)}", dev=dev.name)
    _state_change(ns, dev, group, IGMPV3_CHANGE_TO_EXCLUDE)


def ip_mc_leave_group(ns: Any, dev: Any, group: int) -> None:
    groups = ns.mc_groups.get(dev.ifindex)
    if not groups or group not in groups:
        return
    groups.remove(group)
    if ns.world.tracer.on:
        ns.trace("igmp", f"{dev.name}: left {ns.fmt_ip(group)}", dev=dev.name)
    _state_change(ns, dev, group, IGMPV3_CHANGE_TO_INCLUDE)


def _state_change(ns: Any, dev: Any, group: int, rtype: int) -> None:
    if not dev.up:
        return
    if _v2_mode(ns, dev):
        # igmp_group_added / igmp_group_dropped in IGMPv2 compatibility mode
        if rtype == IGMPV3_CHANGE_TO_INCLUDE:
            if group in _state(ns, dev).reporter:
                igmp_send_report(ns, dev, group, IGMP_HOST_LEAVE_MESSAGE)
            return
        igmp_send_report(ns, dev, group, IGMPV2_HOST_MEMBERSHIP_REPORT)
        _start_timer(ns, dev, group, UNSOLICITED_REPORT_INTERVAL_NS)
        return
    igmpv3_send_report(ns, dev, group, rtype)
    later = ns.world.rng.randrange(UNSOLICITED_REPORT_INTERVAL_NS)
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


def igmp_send_report(ns: Any, dev: Any, group: int, type: int) -> None:
    """igmp_send_report for IGMPv2: a report to the group, or a Leave to 224.0.0.2."""
    if not dev.up or dev.ifindex not in ns.by_index:
        return
    from netplex.stack.ipv4 import OutRoute

    dst = IGMP_ALL_ROUTER if type == IGMP_HOST_LEAVE_MESSAGE else group
    src = ns.select_source(dev, dst) or 0
    ip = IPv4(src, dst, IPPROTO_IGMP, Igmp(type, group), ttl=1, tos=0xC0, flags=IP_DF, options=IPOPT_RA)
    st = _state(ns, dev)
    if type == IGMPV2_HOST_MEMBERSHIP_REPORT:
        st.reporter.add(group)
    ns.ip_local_out(ip, OutRoute(None, dev, dst, src, "broadcast"))


def _reportable(group: int) -> bool:
    return group != IGMP_ALL_HOSTS


def _start_timer(ns: Any, dev: Any, group: int, max_delay: int) -> None:
    """igmp_mod_timer: a report after a random delay below max_delay, unless one is due sooner."""
    st = _state(ns, dev)
    now = ns.sched.now
    due = st.timers.get(group)
    if due is not None and due > now and due - now < max_delay:
        return
    when = now + ns.world.rng.randrange(max(1, max_delay))
    st.timers[group] = when
    ns.sched.at(when, _timer_expire, ns, dev, group, when)


def _timer_expire(ns: Any, dev: Any, group: int, when: int) -> None:
    """igmp_timer_expire: the pending report of one group, in the device's mode."""
    st = _state(ns, dev)
    if st.timers.get(group) != when:
        return   # cancelled or re-armed
    del st.timers[group]
    if group not in ns.mc_groups.get(dev.ifindex, ()):
        return
    if _v2_mode(ns, dev):
        igmp_send_report(ns, dev, group, IGMPV2_HOST_MEMBERSHIP_REPORT)
    else:
        igmpv3_send_current(ns, dev, [group])


def _gq_expire(ns: Any, dev: Any, when: int) -> None:
    st = _state(ns, dev)
    if st.gq_timer != when:
        return
    st.gq_timer = 0
    groups = [g for g in ns.mc_groups.get(dev.ifindex, ()) if _reportable(g)]
    if groups:
        igmpv3_send_current(ns, dev, groups)


def igmpv3_send_current(ns: Any, dev: Any, groups: list[int]) -> None:
    """igmpv3_send_report: one current-state (MODE_IS_EXCLUDE) record per group."""
    if not dev.up or dev.ifindex not in ns.by_index:
        return
    from netplex.stack.ipv4 import OutRoute

    src = ns.select_source(dev, IGMPV3_ALL_MCR) or 0
    report = Igmp(IGMPV3_HOST_MEMBERSHIP_REPORT, records=[IgmpGroupRecord(IGMPV3_MODE_IS_EXCLUDE, g) for g in groups])
    ip = IPv4(src, IGMPV3_ALL_MCR, IPPROTO_IGMP, report, ttl=1, tos=0xC0, flags=IP_DF, options=IPOPT_RA)
    ns.ip_local_out(ip, OutRoute(None, dev, IGMPV3_ALL_MCR, src, "broadcast"))


def igmp_rcv(ns: Any, dev: Any, ip: IPv4, rtype: str = "local") -> None:
    """igmp_rcv on a host: queries start report timers; another host's v2 report suppresses ours."""
    msg: Any = ip.payload
    if not isinstance(msg, Igmp):
        try:
            msg = Igmp.decode(bytes(msg))
        except ValueError:
            return
    if msg.type == IGMP_HOST_MEMBERSHIP_QUERY:
        igmp_heard_query(ns, dev, msg)
    elif msg.type == IGMPV2_HOST_MEMBERSHIP_REPORT:
        # igmp_heard_report: someone else reported the group; our pending report is not needed
        if ns.is_local_addr(ip.src):
            return
        st = _state(ns, dev)
        st.timers.pop(msg.group, None)
        st.reporter.discard(msg.group)


def igmp_heard_query(ns: Any, dev: Any, q: Igmp) -> None:
    """igmp_heard_query (RFC 3376 §7.3.1: a v2 query switches the device to v2 mode)."""
    groups = ns.mc_groups.get(dev.ifindex)
    st = _state(ns, dev)
    now = ns.sched.now
    if not q.query_extra:
        if q.max_resp == 0:
            max_delay = 100 * IGMP_TIMER_SCALE_NS   # IGMPv1 query: IGMP_QUERY_RESPONSE_INTERVAL
            group = 0
        else:
            max_delay = q.max_resp * IGMP_TIMER_SCALE_NS
            group = q.group
        st.v2_seen = now + MR_V2_SEEN_NS
        st.gq_timer = 0
    elif len(q.query_extra) < 4:
        return
    else:
        code = q.max_resp
        mrt = code if code < 128 else ((code & 0x0F) | 0x10) << (((code >> 4) & 0x07) + 3)
        max_delay = max(1, mrt) * IGMP_TIMER_SCALE_NS
        group = q.group
        if st.v2_seen > now:
            pass
        elif not group:
            if int.from_bytes(q.query_extra[2:4], "big"):
                return
            # igmp_gq_start_timer: one report of every group after a random delay
            when = now + ns.world.rng.randrange(max_delay)
            if st.gq_timer and now < st.gq_timer < when:
                return
            st.gq_timer = when
            ns.sched.at(when, _gq_expire, ns, dev, when)
            return
    if not groups:
        return
    for g in groups:
        if group and g != group:
            continue
        if not _reportable(g):
            continue
        _start_timer(ns, dev, g, max_delay)
