"""Open vSwitch bonds and their LACP, done by ovs-vswitchd itself (ofproto/bond.c,
lib/lacp.c), not by the kernel's bonding driver: a Port with several Interfaces is a
bond whose members are ordinary datapath ports.

`Lacp` is lib/lacp.c: each member is current, expired or defaulted (no partner heard for
3 transmit periods: expired, then again: defaulted, partner forgotten); LACPDUs leave
every second when the partner asked for short timeouts (or this side is `lacp-time=fast`
and the partner's state says so), else every 30 s, and at once when what this side
would say changed; a member is *attached* when its partner matches the lead member's
(same system and key), and may be enabled when attached with a synchronized partner.

`OvsBond` is ofproto/bond.c's part that netplex models: members enabled by carrier and
LACP (no up/down delays: `bond_updelay`/`bond_downdelay` other than 0 are refused),
`active-backup` (one active member, the traffic's only way in and out) and
`balance-slb` (each source MAC and VLAN hashed to one enabled member; broadcast and
multicast accepted on the active member only, and a frame from a MAC learned on another
port dropped, bond_check_admissibility). `balance-tcp` is refused. `bond/show`,
`bond/list`, `lacp/show` print as OVS 3.1 does; netplex has no rebalancing (the hash is
kept per MAC), so `next rebalance` counts down the 10 s interval only.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from netplex.packet.lacp import (
    LACP_ACTIVITY,
    LACP_AGGREGATION,
    LACP_COLLECTING,
    LACP_DEFAULTED,
    LACP_DISTRIBUTING,
    LACP_EXPIRED,
    LACP_SYNCHRONIZATION,
    LACP_TIMEOUT,
    Lacpdu,
    LacpInfo,
)

__all__ = ["BOND_MODES", "LACP_MODES", "BondMember", "Lacp", "LacpMember", "OvsBond", "format_bond", "format_lacp"]

BOND_MODES = ("active-backup", "balance-slb", "balance-tcp")
LACP_MODES = ("active", "passive", "off")
NS = 1_000_000_000
LACP_FAST_TIME_TX = 1 * NS
LACP_SLOW_TIME_TX = 30 * NS
LACP_RX_MULTIPLIER = 3
REBALANCE_INTERVAL = 10 * NS
CURRENT, EXPIRED, DEFAULTED = "current", "expired", "defaulted"


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


@dataclass
class LacpMember:
    """struct member of lib/lacp.c."""

    name: str
    port_id: int
    port_priority: int = 65535
    status: str = DEFAULTED
    attached: bool = False
    carrier_up: bool = False
    partner: LacpInfo = field(default_factory=LacpInfo)
    rx_deadline: int = 0          # when the partner's information times out
    tx_next: int = 0              # when the next periodic LACPDU is due
    ntt_actor: LacpInfo | None = None
    tx_pdus: int = 0
    rx_pdus: int = 0


class Lacp:
    """struct lacp: one bond's LACP."""

    def __init__(self, name: str, sys_id: bytes, active: bool, fast: bool, sys_priority: int = 65534) -> None:
        self.name = name
        self.sys_id = sys_id
        self.sys_priority = sys_priority
        self.active = active
        self.fast = fast
        self.negotiated = False
        self.update = True
        self.members: dict[str, LacpMember] = {}

    def key(self) -> int:
        """The aggregation key: the first member's port number (key_member, no `lacp-aggregation-key`)."""
        first = min(self.members.values(), key=lambda m: m.port_id, default=None)
        return first.port_id if first is not None else 0

    def actor(self, m: LacpMember) -> LacpInfo:
        """member_get_actor."""
        state = 0
        if self.active:
            state |= LACP_ACTIVITY
        if self.fast:
            state |= LACP_TIMEOUT
        if m.attached:
            state |= LACP_SYNCHRONIZATION
        if m.status == DEFAULTED:
            state |= LACP_DEFAULTED
        if m.status == EXPIRED:
            state |= LACP_EXPIRED
        if len(self.members) > 1:
            state |= LACP_AGGREGATION
        if m.attached or not self.negotiated:
            state |= LACP_COLLECTING | LACP_DISTRIBUTING
        return LacpInfo(self.sys_priority, self.sys_id, self.key(), m.port_priority, m.port_id, state)

    def _priority(self, m: LacpMember) -> tuple[int, bytes, int, int]:
        """member_get_priority: the higher-priority system's view of the link (smaller is better)."""
        p = m.partner
        mine = (self.sys_priority, self.sys_id)
        if mine <= (p.system_priority, p.system):
            return (self.sys_priority, self.sys_id, m.port_priority, m.port_id)
        return (p.system_priority, p.system, p.port_priority, p.port)

    @staticmethod
    def may_enable(m: LacpMember) -> bool:
        """member_may_enable__: attached, with a synchronized partner."""
        return m.attached and bool(m.partner.state & LACP_SYNCHRONIZATION)

    def process(self, m: LacpMember, pdu: Lacpdu, now: int) -> None:
        """lacp_process_packet."""
        m.rx_pdus += 1
        if not m.carrier_up:
            return
        m.status = CURRENT
        tx_rate = LACP_FAST_TIME_TX if self.fast else LACP_SLOW_TIME_TX
        m.rx_deadline = now + LACP_RX_MULTIPLIER * tx_rate
        m.ntt_actor = pdu.partner
        a = pdu.actor
        info = LacpInfo(a.system_priority, a.system, a.key, a.port_priority, a.port, a.state)
        if info != m.partner:
            self.update = True
            m.partner = info

    def carrier_changed(self, m: LacpMember, up: bool) -> None:
        """lacp_member_carrier_changed."""
        if m.status == CURRENT or self.active:
            self._set_expired(m, 0)
        m.carrier_up = up

    def _set_expired(self, m: LacpMember, now: int) -> None:
        m.status = EXPIRED
        m.partner.state |= LACP_TIMEOUT
        m.partner.state &= ~LACP_SYNCHRONIZATION
        m.rx_deadline = now + LACP_RX_MULTIPLIER * LACP_FAST_TIME_TX

    def run(self, now: int, send: Callable[[LacpMember, Lacpdu], None]) -> None:
        """lacp_run: time partners out, re-attach, send what is due."""
        for m in self.members.values():
            if m.status != DEFAULTED and now >= m.rx_deadline:
                if m.status == CURRENT:
                    self._set_expired(m, now)
                else:
                    m.partner = LacpInfo()
                    m.status = DEFAULTED
                self.update = True
        if self.update:
            self._update_attached()
        for m in self.members.values():
            if not (m.carrier_up and (self.active or m.status != DEFAULTED)):
                continue
            actor = self.actor(m)
            if now >= m.tx_next or not _tx_equal(actor, m.ntt_actor):
                m.ntt_actor = actor
                send(m, Lacpdu(actor, LacpInfo(m.partner.system_priority, m.partner.system, m.partner.key,
                                               m.partner.port_priority, m.partner.port, m.partner.state)))
                m.tx_pdus += 1
                m.tx_next = now + (LACP_FAST_TIME_TX if m.partner.state & LACP_TIMEOUT else LACP_SLOW_TIME_TX)

    def _update_attached(self) -> None:
        """lacp_update_attached: the lead member (a current attached one first, then the best
        priority) decides which partner the bond aggregates with."""
        self.update = False
        lead: LacpMember | None = None
        lead_current: LacpMember | None = None
        lead_key: tuple[int, tuple[int, bytes, int, int]] | None = None
        for m in self._ordered():
            if m.status == CURRENT and m.attached:
                k = (0, self._priority(m))
                if lead_current is None or lead_key is None or k < lead_key:
                    lead_current = lead = m
                    lead_key = k
        for m in self._ordered():
            m.attached = False
            if m.partner.system == self.sys_id:
                continue        # "Loopback detected": connected to its own bond
            if m.status == DEFAULTED:
                continue
            k = (0 if self.may_enable(m) else 1, self._priority(m))
            if lead_current is None or m.partner.system == lead_current.partner.system:
                m.attached = True
            if m.attached and (lead is None or lead_key is None or k < lead_key):
                lead, lead_key = m, k
        self.negotiated = lead is not None
        if lead is not None:
            for m in self.members.values():
                if m.partner.key != lead.partner.key or m.partner.system != lead.partner.system:
                    m.attached = False

    def _ordered(self) -> list[LacpMember]:
        return sorted(self.members.values(), key=lambda m: m.port_id)


def _tx_equal(a: LacpInfo, b: LacpInfo | None) -> bool:
    """info_tx_equal: what would need a new LACPDU."""
    return b is not None and (a.system_priority, a.system, a.key, a.port_priority, a.port, a.state) == (
        b.system_priority, b.system, b.key, b.port_priority, b.port, b.state)


def _state_words(state: int) -> str:
    """ds_put_lacp_state."""
    names = ((LACP_ACTIVITY, "activity"), (LACP_TIMEOUT, "timeout"), (LACP_AGGREGATION, "aggregation"),
             (LACP_SYNCHRONIZATION, "synchronized"), (LACP_COLLECTING, "collecting"),
             (LACP_DISTRIBUTING, "distributing"), (LACP_DEFAULTED, "defaulted"), (LACP_EXPIRED, "expired"))
    return "".join(f" {n}" for b, n in names if state & b)


def format_lacp(lacp: Lacp) -> str:
    """lacp_print_details."""
    out = [f"---- {lacp.name} ----", f"  status: {'active' if lacp.active else 'passive'}"
           + (" negotiated" if lacp.negotiated else ""),
           f"  sys_id: {_mac(lacp.sys_id)}", f"  sys_priority: {lacp.sys_priority}",
           f"  aggregation key: {lacp.key() if lacp.members else 'none'}",
           f"  lacp_time: {'fast' if lacp.fast else 'slow'}"]
    for name in sorted(lacp.members):
        m = lacp.members[name]
        a = lacp.actor(m)
        p = m.partner
        out += ["", f"member: {name}: {m.status} {'attached' if m.attached else 'detached'}",
                f"  port_id: {m.port_id}", f"  port_priority: {m.port_priority}",
                f"  may_enable: {'true' if lacp.may_enable(m) else 'false'}", "",
                f"  actor sys_id: {_mac(a.system)}", f"  actor sys_priority: {a.system_priority}",
                f"  actor port_id: {a.port}", f"  actor port_priority: {a.port_priority}",
                f"  actor key: {a.key}", f"  actor state:{_state_words(a.state)}", "",
                f"  partner sys_id: {_mac(p.system)}", f"  partner sys_priority: {p.system_priority}",
                f"  partner port_id: {p.port}", f"  partner port_priority: {p.port_priority}",
                f"  partner key: {p.key}", f"  partner state:{_state_words(p.state)}"]
    return "\n".join(out) + "\n"


@dataclass
class BondMember:
    name: str
    ofport: int
    mac: bytes
    enabled: bool = False
    may_enable: bool = False


class OvsBond:
    """struct bond: the members of one Port, which is enabled, which is active."""

    def __init__(self, name: str, mode: str, lacp: Lacp | None, created: int, recirc_id: int = 0) -> None:
        self.name = name
        self.recirc_id = recirc_id      # a balanced bond's recirculation id (bond/list shows it)
        self.mode = mode
        self.lacp = lacp
        self.members: dict[str, BondMember] = {}
        self.active: str | None = None
        self.created = created
        self.hash: dict[tuple[int, int], str] = {}      # (source MAC, VLAN) → member (balance-slb)

    def lacp_status(self) -> str:
        if self.lacp is None:
            return "off"
        return "negotiated" if self.lacp.negotiated else "configured"

    def run(self, carrier: Callable[[str], bool]) -> None:
        """bond_run: members enabled by carrier and LACP; a new active member when the old fails."""
        for name, b in self.members.items():
            up = carrier(name)
            lm = self.lacp.members.get(name) if self.lacp is not None else None
            b.may_enable = up and (self.lacp is None or (lm is not None and Lacp.may_enable(lm)))
            b.enabled = b.may_enable
        if self.active is None or not self.members.get(self.active, BondMember("", 0, b"")).enabled:
            self.active = next((n for n, b in sorted(self.members.items(), key=lambda kv: kv[1].ofport)
                                if b.enabled), None)
            self.hash.clear()

    def enabled(self) -> list[BondMember]:
        return [b for _n, b in sorted(self.members.items(), key=lambda kv: kv[1].ofport) if b.enabled]

    def choose_output(self, src_mac: int, vlan: int) -> BondMember | None:
        """choose_output_member: the active member, or (balance-slb) the source's hashed member."""
        if self.mode == "active-backup":
            return self.members.get(self.active) if self.active else None
        up = self.enabled()
        if not up:
            return None
        name = self.hash.get((src_mac, vlan))
        if name is None or not self.members[name].enabled:
            h = zlib.crc32(src_mac.to_bytes(6, "big") + vlan.to_bytes(2, "big"))
            name = up[h % len(up)].name
            self.hash[(src_mac, vlan)] = name
        return self.members[name]

    def admissible(self, member: str, multicast: bool) -> str:
        """bond_check_admissibility: `accept`, `drop`, or `drop-if-moved` (SLB: unless the
        source MAC was learned on another port). A negotiated LACP bond accepts on any enabled
        member; a configured, unnegotiated one accepts nothing."""
        b = self.members.get(member)
        status = self.lacp_status()
        if b is None or status == "configured":
            return "drop"
        if status == "negotiated":
            return "accept" if b.enabled or b.may_enable else "drop"
        if multicast and member != self.active:
            return "drop"
        if self.mode == "active-backup":
            return "accept" if member == self.active else "drop"
        return "drop-if-moved"


def format_bond(bond: OvsBond, now: int) -> str:
    """bond_print_details."""
    out = [f"---- {bond.name} ----", f"bond_mode: {bond.mode}",
           "bond may use recirculation: no, Recirc-ID : -1", "bond-hash-basis: 0",
           "lb_output action: disabled, bond-id: -1"]
    balanced = bond.mode == "balance-slb"
    if balanced:
        out.append("all members active: false")
    out += ["updelay: 0 ms", "downdelay: 0 ms"]
    if balanced:
        left = REBALANCE_INTERVAL - (now - bond.created) % REBALANCE_INTERVAL
        out.append(f"next rebalance: {left // 1_000_000} ms")
    active = bond.members.get(bond.active) if bond.active else None
    out += [f"lacp_status: {bond.lacp_status()}", "lacp_fallback_ab: false", "active-backup primary: <none>",
            f"active member mac: {_mac(active.mac) if active else '00:00:00:00:00:00'}"
            f"({active.name if active else 'none'})"]
    for name in sorted(bond.members):
        b = bond.members[name]
        out += ["", f"member {name}: {'enabled' if b.enabled else 'disabled'}"]
        if name == bond.active:
            out.append("  active member")
        out.append(f"  may_enable: {'true' if b.may_enable else 'false'}")
    return "\n".join(out) + "\n\n"
