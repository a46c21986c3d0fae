"""Flow keys and OpenFlow matches as Open vSwitch spells them (ovs-fields(7),
lib/flow.c flow_extract, lib/ofp-parse/ofp-match, lib/match.c match_format).

A *flow* is what the switch extracts from a packet: a dict from OVS's field
names (`in_port`, `dl_src`, `vlan_tci`, `nw_src`, `tp_dst`, `ct_state`,
`reg0`, ...) to integers. A *match* is a `Match`: the same names mapped to
(value, mask). `parse_flow_text` reads the `ovs-ofctl` flow syntax
(`table=1,priority=100,tcp,nw_src=10.0.0.0/24,actions=...`) into a match and
the flow_mod's other fields; `Match.format` prints it in OVS's order, so
`dump-flows` is byte-identical to ovs-ofctl's.

Errors carry ovs-ofctl's own text (`unknown keyword foo`,
`99999: value too large for 2-byte field tcp_dst`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError
from netplex.packet.addr import int_to_ip, prefix_to_mask
from netplex.packet.arp import Arp
from netplex.packet.ethernet import ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, Ethernet
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp

__all__ = ["CT_STATE_BITS", "FlowError", "Match", "c_hex", "exact_key", "flow_extract", "format_mac", "parse_ip_masked", "parse_ipv4",
           "parse_mac_masked", "MATCH_FIELDS"]

ETH_P_RARP = 0x8035
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP = 1, 6, 17, 132
VLAN_CFI = 0x1000

# ct_state bits (include/openvswitch/meta-flow.h CS_*), in the order OVS prints them
CT_STATE_BITS: dict[str, int] = {"new": 0x01, "est": 0x02, "rel": 0x04, "rpl": 0x08, "inv": 0x10,
                                 "trk": 0x20, "snat": 0x40, "dnat": 0x80}

# TCP flags as `tcp_flags` prints them (packet_tcp_flag_to_string)
TCP_FLAG_BITS: dict[str, int] = {"fin": 0x001, "syn": 0x002, "rst": 0x004, "psh": 0x008, "ack": 0x010,
                                 "urg": 0x020, "ece": 0x040, "cwr": 0x080, "ns": 0x100}


class FlowError(NetplexError):
    """A flow ovs-ofctl refuses: the message is its text after `ovs-ofctl: `."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=1)


def format_mac(v: int) -> str:
    return ":".join(f"{(v >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def _parse_mac(s: str) -> int | None:
    parts = s.split(":")
    if len(parts) != 6:
        return None
    try:
        vals = [int(p, 16) for p in parts]
    except ValueError:
        return None
    if any(not 0 <= v <= 255 or not p or len(p) > 2 for v, p in zip(vals, parts)):
        return None
    n = 0
    for v in vals:
        n = n << 8 | v
    return n


def parse_mac_masked(s: str) -> tuple[int, int]:
    """eth_addr_from_string with an optional `/mask` (str_to_mac)."""
    value, _, mask = s.partition("/")
    v = _parse_mac(value)
    if v is None:
        raise FlowError(f"{s}: invalid Ethernet address")
    if not mask:
        return v, (1 << 48) - 1
    m = _parse_mac(mask)
    if m is None:
        raise FlowError(f"{s}: invalid Ethernet address")
    return v & m, m


def parse_ipv4(s: str) -> int | None:
    """A dotted quad (ovs_scan's IP_SCAN_FMT, each part 0-255), None when it is not one."""
    parts = s.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        return None
    n = 0
    for p in parts:
        n = n << 8 | int(p)
    return n


def parse_ip_masked(s: str) -> tuple[int, int]:
    """ip_parse_masked: `A.B.C.D`, `A.B.C.D/N` or `A.B.C.D/M.A.S.K`."""
    value, slash, mask = s.partition("/")
    v = parse_ipv4(value)
    if v is None:
        raise FlowError(f"{s}: invalid IP address")
    if not slash:
        return v, 0xFFFFFFFF
    if mask.isdigit():
        n = int(mask)
        if n > 32:
            raise FlowError(f"{s}: network prefix bits not between 0 and 32")
        m = prefix_to_mask(n)
    else:
        pm = parse_ipv4(mask)
        if pm is None:
            raise FlowError(f"{s}: invalid IP address")
        m = pm
    return v & m, m


def _is_cidr(m: int) -> bool:
    inv = ~m & 0xFFFFFFFF
    return inv & (inv + 1) == 0


def format_ip_masked(v: int, m: int) -> str:
    if m == 0xFFFFFFFF:
        return int_to_ip(v)
    if _is_cidr(m):
        return f"{int_to_ip(v)}/{bin(m).count('1')}"
    return f"{int_to_ip(v)}/{int_to_ip(m)}"


def _parse_int(s: str) -> int | None:
    try:
        return int(s, 0) if not (len(s) > 1 and s[0] == "0" and s[1].isdigit()) else int(s, 8)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One match field (struct mf_field): where it lives in the flow, its width, its
    canonical name (used in errors), whether it takes a mask, its prerequisite."""

    key: str            # the flow's key
    name: str           # the canonical (OXM-era) name ovs-ofctl's errors use
    nbytes: int
    maskable: bool
    kind: str = "int"   # int | mac | ip | ct_state | tcp_flags | port | vlan_vid | vlan_pcp
    prereq: str = ""    # "" | ip | arp | ip_arp | tcp | udp | sctp | l4 | icmp | vlan


# ovs-fields(7): the name a user types → its spec (aliases share a spec)
MATCH_FIELDS: dict[str, FieldSpec] = {}


def _field(names: tuple[str, ...], spec: FieldSpec) -> None:
    for n in names:
        MATCH_FIELDS[n] = spec


_field(("in_port",), FieldSpec("in_port", "in_port", 2, False, "port"))
_field(("dl_src", "eth_src"), FieldSpec("dl_src", "eth_src", 6, True, "mac"))
_field(("dl_dst", "eth_dst"), FieldSpec("dl_dst", "eth_dst", 6, True, "mac"))
_field(("dl_type", "eth_type"), FieldSpec("dl_type", "eth_type", 2, False))
_field(("vlan_tci",), FieldSpec("vlan_tci", "vlan_tci", 2, True))
_field(("dl_vlan",), FieldSpec("vlan_tci", "dl_vlan", 2, False, "vlan_vid"))
_field(("dl_vlan_pcp",), FieldSpec("vlan_tci", "dl_vlan_pcp", 1, False, "vlan_pcp"))
_field(("nw_src", "ip_src"), FieldSpec("nw_src", "ip_src", 4, True, "ip", "ip"))
_field(("nw_dst", "ip_dst"), FieldSpec("nw_dst", "ip_dst", 4, True, "ip", "ip"))
_field(("arp_spa",), FieldSpec("nw_src", "arp_spa", 4, True, "ip", "arp"))
_field(("arp_tpa",), FieldSpec("nw_dst", "arp_tpa", 4, True, "ip", "arp"))
_field(("nw_proto", "ip_proto"), FieldSpec("nw_proto", "nw_proto", 1, False, "int", "ip"))
_field(("arp_op",), FieldSpec("nw_proto", "arp_op", 2, False, "int", "arp"))
_field(("arp_sha",), FieldSpec("arp_sha", "arp_sha", 6, True, "mac", "arp"))
_field(("arp_tha",), FieldSpec("arp_tha", "arp_tha", 6, True, "mac", "arp"))
_field(("nw_tos",), FieldSpec("nw_tos", "nw_tos", 1, False, "dscp", "ip"))
_field(("ip_dscp",), FieldSpec("nw_tos", "ip_dscp", 1, False, "dscp6", "ip"))
_field(("nw_ecn", "ip_ecn"), FieldSpec("nw_tos", "nw_ecn", 1, False, "ecn", "ip"))
_field(("nw_ttl",), FieldSpec("nw_ttl", "nw_ttl", 1, False, "int", "ip"))
_field(("tp_src", "tcp_src"), FieldSpec("tp_src", "tcp_src", 2, True, "int", "tcp"))
_field(("tp_dst", "tcp_dst"), FieldSpec("tp_dst", "tcp_dst", 2, True, "int", "tcp"))
_field(("udp_src",), FieldSpec("tp_src", "udp_src", 2, True, "int", "udp"))
_field(("udp_dst",), FieldSpec("tp_dst", "udp_dst", 2, True, "int", "udp"))
_field(("sctp_src",), FieldSpec("tp_src", "sctp_src", 2, True, "int", "sctp"))
_field(("sctp_dst",), FieldSpec("tp_dst", "sctp_dst", 2, True, "int", "sctp"))
_field(("icmp_type", "icmpv4_type"), FieldSpec("tp_src", "icmp_type", 1, False, "int", "icmp"))
_field(("icmp_code", "icmpv4_code"), FieldSpec("tp_dst", "icmp_code", 1, False, "int", "icmp"))
_field(("tcp_flags",), FieldSpec("tcp_flags", "tcp_flags", 2, True, "tcp_flags", "tcp_only"))
_field(("ct_state",), FieldSpec("ct_state", "ct_state", 4, True, "ct_state"))
_field(("ct_zone",), FieldSpec("ct_zone", "ct_zone", 2, False))
_field(("ct_mark",), FieldSpec("ct_mark", "ct_mark", 4, True))
_field(("metadata",), FieldSpec("metadata", "metadata", 8, True))
_field(("pkt_mark",), FieldSpec("pkt_mark", "pkt_mark", 4, True))
_field(("tun_id", "tunnel_id"), FieldSpec("tun_id", "tun_id", 8, True))
_field(("tun_src",), FieldSpec("tun_src", "tun_src", 4, True, "ip"))
_field(("tun_dst",), FieldSpec("tun_dst", "tun_dst", 4, True, "ip"))
for _i in range(16):
    _field((f"reg{_i}",), FieldSpec(f"reg{_i}", f"reg{_i}", 4, True))

# protocol shorthands (ofp-protocol / ofp_parse_protocol): name → (dl_type, nw_proto or None)
SHORTHANDS: dict[str, tuple[int, int | None]] = {
    "ip": (ETH_P_IP, None), "ipv4": (ETH_P_IP, None), "icmp": (ETH_P_IP, IPPROTO_ICMP),
    "tcp": (ETH_P_IP, IPPROTO_TCP), "udp": (ETH_P_IP, IPPROTO_UDP), "sctp": (ETH_P_IP, IPPROTO_SCTP),
    "arp": (ETH_P_ARP, None), "rarp": (ETH_P_RARP, None), "ipv6": (ETH_P_IPV6, None),
    "ip6": (ETH_P_IPV6, None), "icmp6": (ETH_P_IPV6, 58), "tcp6": (ETH_P_IPV6, IPPROTO_TCP),
    "udp6": (ETH_P_IPV6, IPPROTO_UDP), "sctp6": (ETH_P_IPV6, IPPROTO_SCTP),
}

_FULL = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF, 6: (1 << 48) - 1, 8: (1 << 64) - 1}


def c_hex(v: int) -> str:
    """printf's `%#x`: `0x` before a non-zero value only (0 is `0`)."""
    return f"{v:#x}" if v else "0"


def parse_flags(s: str, bits: dict[str, int], name: str) -> tuple[int, int]:
    """`+trk-new` (value and mask from the signs) or `0x21/0x21` numbers."""
    if s and s[0] not in "+-":
        v, _, m = s.partition("/")
        vi = _parse_int(v)
        mi = _parse_int(m) if m else _FULL[4]
        if vi is None or mi is None:
            raise FlowError(f"{s}: unknown {name} flag(s)" if name == "ct_state" else f"{s}: invalid {name}")
        return vi & mi, mi
    value = mask = 0
    i = 0
    while i < len(s):
        sign = s[i]
        if sign not in "+-":
            raise FlowError(f"{s}: {name} must be a sequence of +/- prefixed flags" if name != "ct_state"
                            else f"{s}: unknown ct_state flag(s)")
        j = i + 1
        while j < len(s) and s[j] not in "+-":
            j += 1
        word = s[i + 1:j]
        bit = bits.get(word)
        if bit is None:
            raise FlowError(f"{word}: unknown {name} flag(s)")
        if mask & bit:
            raise FlowError(f"{s}: Each {name} flag can only be specified once")
        mask |= bit
        if sign == "+":
            value |= bit
        i = j
    return value, mask


def format_flags_masked(name: str, bits: dict[str, int], value: int, mask: int, full: int) -> str:
    """format_flags_masked: `name=+a-b` in bit order, or `name=a|b` when every bit is matched."""
    if mask == full:
        names = [n for n, b in bits.items() if value & b]
        return f"{name}={'|'.join(names) if names else '0'}"
    out = [("+" if value & b else "-") + n for n, b in bits.items() if mask & b]
    return f"{name}={''.join(out)}"


@dataclass(slots=True)
class Match:
    """struct match: field key → (value, mask); a key absent is wildcarded."""

    fields: dict[str, tuple[int, int]] = field(default_factory=dict)

    def set(self, key: str, value: int, mask: int) -> None:
        self.fields[key] = (value & mask, mask)

    def get(self, key: str) -> tuple[int, int] | None:
        return self.fields.get(key)

    def vlan_and_proto(self) -> tuple[bool, int | None]:
        """What ofpact_check learns of the packet from the match: whether it has a VLAN tag
        (vlan_tci's CFI bit required) and the IP protocol it pins."""
        vlan = self.fields.get("vlan_tci")
        proto = self.fields.get("nw_proto")
        return bool(vlan and vlan[1] & 0x1000 and vlan[0] & 0x1000), proto[0] if proto else None

    def matches(self, flow: dict[str, int]) -> bool:
        for key, (v, m) in self.fields.items():
            if flow.get(key, 0) & m != v:
                return False
        return True

    def key(self) -> tuple[tuple[str, int, int], ...]:
        """A hashable identity, for strict flow_mod lookups."""
        return tuple(sorted((k, v, m) for k, (v, m) in self.fields.items()))

    def covers(self, other: Match) -> bool:
        """Every packet `other` matches, this matches too (loose del-flows/mod-flows)."""
        for key, (v, m) in self.fields.items():
            o = other.fields.get(key)
            if o is None or o[1] & m != m or o[0] & m != v:
                return False
        return True

    # -- match_format ------------------------------------------------------
    def format(self, priority: int, port_name: Callable[[int], str] | None = None) -> str:
        """match_format: `priority=N,` unless 32768, then the fields in OVS's order."""
        f = self.fields
        out: list[str] = []
        if priority != 32768:
            out.append(f"priority={priority}")

        def u32(name: str, key: str | None = None) -> None:
            e = f.get(key or name)
            if e:
                v, m = e
                full = _FULL[8] if name in ("metadata", "tun_id") else 0xFFFFFFFF
                out.append(f"{name}={c_hex(v)}" if m == full else f"{name}={c_hex(v)}/{m:#x}")

        u32("pkt_mark")
        ct = f.get("ct_state")
        if ct:
            out.append(format_flags_masked("ct_state", CT_STATE_BITS, ct[0], ct[1], 0xFF))
        zone = f.get("ct_zone")
        if zone:
            out.append(f"ct_zone={zone[0]}")
        u32("ct_mark")
        dl = f.get("dl_type")
        skip_type = skip_proto = False
        dl_type = dl[0] if dl else None
        proto = f.get("nw_proto")
        if dl is not None:
            skip_type = True
            if dl_type == ETH_P_IP:
                name = "ip"
                if proto is not None:
                    skip_proto = True
                    name = {IPPROTO_ICMP: "icmp", IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp",
                            IPPROTO_SCTP: "sctp"}.get(proto[0], "")
                    if not name:
                        name, skip_proto = "ip", False
                out.append(name)
            elif dl_type == ETH_P_IPV6:
                name = "ipv6"
                if proto is not None:
                    skip_proto = True
                    name = {58: "icmp6", IPPROTO_TCP: "tcp6", IPPROTO_UDP: "udp6", IPPROTO_SCTP: "sctp6"}.get(
                        proto[0], "")
                    if not name:
                        name, skip_proto = "ipv6", False
                out.append(name)
            elif dl_type == ETH_P_ARP:
                out.append("arp")
            elif dl_type == ETH_P_RARP:
                out.append("rarp")
            else:
                skip_type = False
        for i in range(16):
            u32(f"reg{i}")
        e = f.get("tun_id")
        if e:
            v, m = e
            out.append(f"tun_id={c_hex(v)}" if m == _FULL[8] else f"tun_id={c_hex(v)}/{m:#x}")
        for name in ("tun_src", "tun_dst"):
            e = f.get(name)
            if e:
                out.append(f"{name}={format_ip_masked(*e)}")
        e = f.get("metadata")
        if e:
            v, m = e
            out.append(f"metadata={c_hex(v)}" if m == _FULL[8] else f"metadata={c_hex(v)}/{m:#x}")
        e = f.get("in_port")
        if e:
            out.append(f"in_port={port_name(e[0]) if port_name else e[0]}")
        e = f.get("vlan_tci")
        if e:
            v, m = e
            vid_m, pcp_m, cfi = m & 0xFFF, m & 0xE000, m & VLAN_CFI
            if cfi and v & VLAN_CFI and vid_m in (0, 0xFFF) and pcp_m in (0, 0xE000) and (vid_m or pcp_m):
                if vid_m:
                    out.append(f"dl_vlan={v & 0xFFF}")
                if pcp_m:
                    out.append(f"dl_vlan_pcp={v >> 13}")
            elif m == 0xFFFF:
                out.append(f"vlan_tci=0x{v:04x}")
            else:
                out.append(f"vlan_tci=0x{v:04x}/0x{m:04x}")
        for name, key in (("dl_src", "dl_src"), ("dl_dst", "dl_dst")):
            e = f.get(key)
            if e:
                v, m = e
                out.append(f"{name}={format_mac(v)}" if m == _FULL[6] else f"{name}={format_mac(v)}/{format_mac(m)}")
        if not skip_type and dl is not None:
            out.append(f"dl_type=0x{dl[0]:04x}")
        is_arp = dl_type in (ETH_P_ARP, ETH_P_RARP)
        for key, (an, ipn) in (("nw_src", ("arp_spa", "nw_src")), ("nw_dst", ("arp_tpa", "nw_dst"))):
            e = f.get(key)
            if e and dl_type != ETH_P_IPV6:
                out.append(f"{an if is_arp else ipn}={format_ip_masked(*e)}")
        if not skip_proto and proto is not None:
            out.append(f"{'arp_op' if is_arp else 'nw_proto'}={proto[0]}")
        if is_arp:
            for key in ("arp_sha", "arp_tha"):
                e = f.get(key)
                if e:
                    v, m = e
                    out.append(f"{key}={format_mac(v)}" if m == _FULL[6] else f"{key}={format_mac(v)}/{format_mac(m)}")
        tos = f.get("nw_tos")
        if tos:
            if tos[1] & 0xFC:
                out.append(f"nw_tos={tos[0] & 0xFC}")
            if tos[1] & 0x03:
                out.append(f"nw_ecn={tos[0] & 0x03}")
        e = f.get("nw_ttl")
        if e:
            out.append(f"nw_ttl={e[0]}")
        icmp = dl_type == ETH_P_IP and proto is not None and proto[0] == IPPROTO_ICMP
        for key, name in (("tp_src", "icmp_type" if icmp else "tp_src"), ("tp_dst", "icmp_code" if icmp else "tp_dst")):
            e = f.get(key)
            if e:
                v, m = e
                out.append(f"{name}={v}" if m == 0xFFFF or (icmp and m == 0xFF) else f"{name}=0x{v:x}/0x{m:x}")
        e = f.get("tcp_flags")
        if e and proto is not None and proto[0] == IPPROTO_TCP:
            out.append(format_flags_masked("tcp_flags", TCP_FLAG_BITS, e[0], e[1], 0xFFF))
        return ",".join(out)


def prereq_ok(prereq: str, m: Match) -> bool:
    """mf_are_prereqs_ok on the match being built."""
    if not prereq:
        return True
    dl = m.get("dl_type")
    dl_type = dl[0] if dl else None
    proto = m.get("nw_proto")
    nw_proto = proto[0] if proto else None
    if prereq == "ip":
        return dl_type in (ETH_P_IP, ETH_P_IPV6)
    if prereq == "arp":
        return dl_type in (ETH_P_ARP, ETH_P_RARP)
    if prereq in ("tcp", "tcp_only"):
        return dl_type in (ETH_P_IP, ETH_P_IPV6) and nw_proto == IPPROTO_TCP
    if prereq == "udp":
        return dl_type in (ETH_P_IP, ETH_P_IPV6) and nw_proto == IPPROTO_UDP
    if prereq == "sctp":
        return dl_type in (ETH_P_IP, ETH_P_IPV6) and nw_proto == IPPROTO_SCTP
    if prereq == "icmp":
        return dl_type == ETH_P_IP and nw_proto == IPPROTO_ICMP
    return True


def field_prereq(spec: FieldSpec, m: Match) -> bool:
    """tp_src/tp_dst (OF1.0's names) are satisfied by TCP, UDP or SCTP alike."""
    if spec.key in ("tp_src", "tp_dst") and spec.prereq == "tcp" and spec.name.startswith("tcp"):
        proto = m.get("nw_proto")
        dl = m.get("dl_type")
        return bool(dl and dl[0] in (ETH_P_IP, ETH_P_IPV6) and proto
                    and proto[0] in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP))
    return prereq_ok(spec.prereq, m)


# the widths of fields narrower than their bytes (all ones is their exact mask)
_WIDTH = {"vlan_vid": 0xFFF, "vlan_pcp": 0x7, "dscp": 0xFF, "dscp6": 0x3F, "ecn": 0x3}


def parse_field_value(spec: FieldSpec, text: str, port_no: Callable[[str], int | None]) -> tuple[int, int]:
    """mf_parse: the value (and mask) one `name=value` gives, with ovs-ofctl's errors."""
    kind = spec.kind
    if kind == "mac":
        return parse_mac_masked(text)
    if kind == "ip":
        return parse_ip_masked(text)
    if kind == "port":
        n = port_no(text)
        if n is None:
            raise FlowError(f"{text}: invalid or unknown port for {spec.name}")
        return n, 0xFFFF
    if kind == "ct_state":
        v, m = parse_flags(text, CT_STATE_BITS, "ct_state")
        return v, m & 0xFF if m != _FULL[4] else 0xFF
    if kind == "tcp_flags":
        v, m = parse_flags(text, TCP_FLAG_BITS, "tcp_flags")
        return v, m if m != _FULL[4] else 0xFFF
    value, slash, mask = text.partition("/")
    parsed = _parse_int(value)
    if parsed is None:
        raise FlowError(f"{text}: bad syntax for {spec.name} value")
    v = parsed
    full = _FULL[spec.nbytes]
    if v > full:
        raise FlowError(f"{text}: value too large for {spec.nbytes}-byte field {spec.name}")
    if slash and (not spec.maskable or kind in _WIDTH):
        # mf_is_mask_valid: a field without masks takes all ones or all zeros (a wildcard)
        mv = _parse_int(mask)
        if mv is None:
            raise FlowError(f"{text}: bad syntax for {spec.name} value")
        if mv not in (0, _WIDTH.get(kind, full)):
            raise FlowError(f"{text}: invalid mask for field {spec.name}")
        if mv == 0:
            return 0, 0
    if kind == "vlan_vid":
        if v > 0xFFF:
            raise FlowError(f"{text}: value too large for 2-byte field dl_vlan")
        return v | VLAN_CFI, 0xFFF | VLAN_CFI
    if kind == "vlan_pcp":
        if v > 7:
            raise FlowError(f"{text}: value too large for 1-byte field dl_vlan_pcp")
        return (v << 13) | VLAN_CFI, 0xE000 | VLAN_CFI
    if kind == "dscp":
        return v & 0xFC, 0xFC
    if kind == "dscp6":
        return (v << 2) & 0xFC, 0xFC
    if kind == "ecn":
        return v & 3, 3
    if slash:
        if not spec.maskable:
            raise FlowError(f"{text}: bad syntax for {spec.name} value")
        mv = _parse_int(mask)
        if mv is None:
            raise FlowError(f"{text}: bad syntax for {spec.name} value")
        return v & mv, mv
    if spec.key == "ct_state":
        return v, 0xFF
    return v, full if spec.key not in ("tp_src", "tp_dst") else 0xFFFF


def merge_field(m: Match, spec: FieldSpec, value: int, mask: int) -> None:
    """dl_vlan and dl_vlan_pcp share vlan_tci: each sets its own bits; a zero mask
    matches anything (the field is left out)."""
    if mask == 0:
        return
    if spec.kind in ("vlan_vid", "vlan_pcp"):
        old = m.get("vlan_tci")
        if old is not None and old[1] & VLAN_CFI:
            ov, om = old
            mask_bits = mask & ~VLAN_CFI
            m.set("vlan_tci", (ov & ~mask_bits) | value, om | mask)
            return
    if spec.kind in ("dscp", "dscp6", "ecn"):
        old = m.get("nw_tos")
        if old is not None:
            m.set("nw_tos", (old[0] & ~mask) | value, old[1] | mask)
            return
    m.set(spec.key, value, mask)


# -- flow_extract ------------------------------------------------------------
def flow_extract(frame: Ethernet, in_port: int) -> dict[str, int]:
    """flow_extract (lib/flow.c): the fields of one packet, keyed as matches are."""
    src, dst = frame.src, frame.dst
    flow: dict[str, int] = {"in_port": in_port, "dl_src": int.from_bytes(src, "big"),
                            "dl_dst": int.from_bytes(dst, "big"), "dl_type": frame.type}
    if frame.vlans:
        t = frame.vlans[0]
        flow["vlan_tci"] = (t.pcp << 13) | VLAN_CFI | t.vid
    p: Any = frame.payload
    if frame.type == ETH_P_IP and isinstance(p, IPv4):
        flow["nw_src"] = p.src
        flow["nw_dst"] = p.dst
        flow["nw_proto"] = p.proto
        flow["nw_tos"] = p.tos
        flow["nw_ttl"] = p.ttl
        if p.frag == 0:
            t4 = p.payload
            if isinstance(t4, Tcp):
                flow["tp_src"], flow["tp_dst"], flow["tcp_flags"] = t4.sport, t4.dport, t4.flags & 0xFFF
            elif isinstance(t4, Udp):
                flow["tp_src"], flow["tp_dst"] = t4.sport, t4.dport
            elif isinstance(t4, Icmp):
                flow["tp_src"], flow["tp_dst"] = t4.type, t4.code
    elif frame.type in (ETH_P_ARP, ETH_P_RARP) and isinstance(p, Arp):
        flow["nw_src"], flow["nw_dst"] = p.spa, p.tpa
        flow["nw_proto"] = p.op & 0xFF
        flow["arp_sha"] = int.from_bytes(p.sha, "big")
        flow["arp_tha"] = int.from_bytes(p.tha, "big")
    return flow


def exact_key(bridge: str, frame: Ethernet, in_port: int) -> tuple[Any, ...] | None:
    """The exact match cache's key for the usual packet, without building its flow: an untagged
    IPv4 first fragment carrying UDP, ICMP or TCP (lib/dpif-netdev.c's EMC hashes the miniflow
    the same way). Two such packets' keys are equal exactly when `flow_extract` gives them
    equal flows: the same fields in the same order (a MAC's 6 bytes stand for its number;
    UDP's ports and ICMP's type and code fill the same two places, as in the flow; TCP's key is
    one longer, its flags). None for any other shape, whose key is `(bridge, *flow.items())`
    (never equal to one of these: its second element is a pair). Keep in step with flow_extract."""
    p: Any = frame.payload
    if frame.type != ETH_P_IP or frame.vlans or not isinstance(p, IPv4) or p.frag != 0:
        return None
    t4 = p.payload
    if isinstance(t4, Udp):
        return bridge, in_port, frame.src, frame.dst, p.src, p.dst, p.proto, p.tos, p.ttl, t4.sport, t4.dport
    if isinstance(t4, Tcp):
        return (bridge, in_port, frame.src, frame.dst, p.src, p.dst, p.proto, p.tos, p.ttl, t4.sport, t4.dport,
                t4.flags & 0xFFF)
    if isinstance(t4, Icmp):
        return bridge, in_port, frame.src, frame.dst, p.src, p.dst, p.proto, p.tos, p.ttl, t4.type, t4.code
    return None
