"""`ovs-ofctl parse-flow FLOW` and `parse-flows FILE`: a flow as ovs-ofctl would send it,
without a switch — the OpenFlow protocols that can carry it, the one chosen, and each
flow_mod printed back (utilities/ovs-ofctl.c ofctl_parse_flows__, lib/ofp-protocol.c,
lib/ofp-flow.c ofputil_flow_mod_format, the usable protocols of lib/meta-flow.xml's fields).

Protocols are lib/ofp-protocol.h's bits: OpenFlow 1.0 with and without the table_id
extension, NXM with and without it, OpenFlow 1.1, OXM for OpenFlow 1.2-1.5. A match field
narrows the set by how it is matched (exactly, by a CIDR prefix, by an arbitrary mask), a
flow_mod naming a table keeps the protocols with table ids; the chosen protocol is the
lowest bit of what is usable and allowed (`-O`, `-F`).
"""
from __future__ import annotations

from collections.abc import Callable

from netplex.ovs.actions import format_actions
from netplex.ovs.flow import FlowError, Match
from netplex.ovs.ofproto import FlowMod, parse_flow_mod

__all__ = ["ALLOWED_BY_VERSION", "FLOW_FORMATS", "P_ANY", "actions_usable", "parse_flows", "protocols_to_string"]

P_OF10_STD, P_OF10_STD_TID, P_OF10_NXM, P_OF10_NXM_TID = 1, 2, 4, 8
P_OF11_STD, P_OF12_OXM, P_OF13_OXM, P_OF14_OXM, P_OF15_OXM = 16, 32, 64, 128, 256
P_OF10_STD_ANY = P_OF10_STD | P_OF10_STD_TID
P_OF10_NXM_ANY = P_OF10_NXM | P_OF10_NXM_TID
P_ANY_OXM = P_OF12_OXM | P_OF13_OXM | P_OF14_OXM | P_OF15_OXM
P_NXM_OXM_ANY = P_OF10_NXM_ANY | P_ANY_OXM
P_NXM_OF11_UP = P_OF10_NXM_ANY | P_OF11_STD | P_ANY_OXM
P_TID = P_OF10_STD_TID | P_OF10_NXM_TID | P_OF11_STD | P_ANY_OXM
P_ANY = (1 << 9) - 1

_NAMES = {P_OF10_NXM: "NXM-table_id", P_OF10_NXM_TID: "NXM+table_id", P_OF10_STD: "OpenFlow10-table_id",
          P_OF10_STD_TID: "OpenFlow10+table_id", P_OF11_STD: "OpenFlow11", P_OF12_OXM: "OXM-OpenFlow12",
          P_OF13_OXM: "OXM-OpenFlow13", P_OF14_OXM: "OXM-OpenFlow14", P_OF15_OXM: "OXM-OpenFlow15"}
_ABBREVS = ((P_ANY, "any"), (P_OF10_STD_ANY, "OpenFlow10"), (P_OF10_NXM_ANY, "NXM"), (P_ANY_OXM, "OXM"))
# -O OpenFlowNN (netplex's version numbers: the wire's, 1 = OpenFlow 1.0) → the protocols it allows
ALLOWED_BY_VERSION = {1: P_OF10_STD_ANY | P_OF10_NXM_ANY, 2: P_OF11_STD, 3: P_OF12_OXM, 4: P_OF13_OXM,
                      5: P_OF14_OXM, 6: P_OF15_OXM}
# -F/--flow-format (ofputil_protocols_from_string: a protocol's name or an abbreviation)
FLOW_FORMATS = {**{n.lower(): b for b, n in _NAMES.items()}, **{n.lower(): b for b, n in _ABBREVS},
                "openflow10": P_OF10_STD_ANY, "nxm": P_OF10_NXM_ANY}
_VERSION_OF = {P_OF11_STD: 2, P_OF12_OXM: 3, P_OF13_OXM: 4, P_OF14_OXM: 5, P_OF15_OXM: 6}
_VER_TEXT = {2: "OF1.1", 3: "OF1.2", 4: "OF1.3", 5: "OF1.4", 6: "OF1.5"}


def protocols_to_string(protocols: int) -> str:
    """ofputil_protocols_to_string: abbreviations first, then single protocols by bit."""
    if not protocols:
        return "none"
    out: list[str] = []
    while protocols:
        for bits, name in _ABBREVS:
            if protocols & bits == bits:
                out.append(name)
                protocols &= ~bits
                break
        else:
            low = protocols & -protocols
            out.append(_NAMES[low])
            protocols &= ~low
    return ",".join(out)


def _is_cidr(mask: int, width: int) -> bool:
    inv = ~mask & ((1 << width) - 1)
    return inv & (inv + 1) == 0


def match_usable(m: Match) -> int:
    """What the match's fields allow (mf_get_usable_protocols... per field: exact, CIDR or
    bitwise masks)."""
    usable = P_ANY
    for key, (_v, mask) in m.fields.items():
        if key in ("in_port", "dl_type", "nw_proto"):
            continue
        if key in ("dl_src", "dl_dst"):
            usable &= P_ANY if mask == (1 << 48) - 1 else P_NXM_OF11_UP
        elif key == "vlan_tci":
            usable &= P_ANY if mask in (0xFFFF, 0x1FFF, 0xF000, 0xEFFF) else P_NXM_OXM_ANY
        elif key in ("nw_src", "nw_dst"):
            usable &= P_ANY if _is_cidr(mask, 32) else P_NXM_OF11_UP
        elif key == "nw_tos":
            if mask & 0x03:         # nw_ecn (the DSCP bits any protocol carries)
                usable &= P_NXM_OF11_UP
        elif key in ("tp_src", "tp_dst"):
            usable &= P_ANY if mask == 0xFFFF or mask == 0xFF else P_NXM_OXM_ANY
        elif key == "metadata":
            usable &= P_NXM_OF11_UP
        elif key == "tcp_flags":
            usable &= P_ANY_OXM
        else:       # nw_ttl, arp_sha/tha, ct_*, pkt_mark, reg0-15, tun_*: NXM and OXM only
            usable &= P_NXM_OXM_ANY
    return usable


def actions_usable(fm: FlowMod) -> int:
    """What the flow_mod's actions leave usable (ofpacts_parse and ofpact_check__): push_vlan
    is OpenFlow 1.1+'s; a legacy mod_nw_src/dst/tos on a match that is not IP, or mod_tp_src/dst
    on one that is not TCP, UDP or SCTP, only OpenFlow 1.0 can carry (inconsistent_match)."""
    usable = P_ANY
    dl = fm.match.get("dl_type")
    ip = bool(dl and dl[0] in (0x0800, 0x86DD))
    proto = fm.match.get("nw_proto")
    l4 = ip and proto is not None and proto[0] in (6, 17, 132)
    for a in fm.actions:
        if a.kind == "push_vlan":
            usable &= P_OF11_STD | P_ANY_OXM
        elif a.kind == "set_field" and a.c == "legacy" and a.a not in ("eth_src", "eth_dst") \
                and not (l4 if a.a.startswith(("tcp", "udp")) else ip):
            usable &= P_OF10_STD_ANY | P_OF10_NXM_ANY
    return usable


def _port_no(text: str) -> int | None:
    """ofputil_port_from_string without a switch: a number or a reserved port's name."""
    reserved = {"IN_PORT": 0xFFF8, "TABLE": 0xFFF9, "NORMAL": 0xFFFA, "FLOOD": 0xFFFB, "ALL": 0xFFFC,
                "CONTROLLER": 0xFFFD, "LOCAL": 0xFFFE, "ANY": 0xFFFF, "NONE": 0xFFFF}
    t = text.strip()
    if t.isdigit():
        n = int(t)
        return n if n <= 0xFFFF else None
    return reserved.get(t.upper())


def _flow_mod_line(fm: FlowMod, protocol: int, xid: int) -> str:
    """ofp_print of the encoded flow_mod: its header, then ofputil_flow_mod_format."""
    version = _VERSION_OF.get(protocol, 1)
    name = "NXT_FLOW_MOD" if protocol & P_OF10_NXM_ANY else "OFPT_FLOW_MOD"
    ver = f" ({_VER_TEXT[version]})" if version > 1 else ""
    if protocol & (P_OF10_STD_TID | P_OF10_NXM_TID):
        table = 255 if fm.table is None else fm.table
    elif protocol & (P_OF10_STD | P_OF10_NXM):
        table = 0
    else:
        table = fm.table or 0
    s = " ADD" + (f" table:{table}" if table else "") + " "
    s += fm.match.format(fm.priority, _port_name)
    if not s.endswith(" "):
        s += " "
    if fm.cookie:
        s += f"cookie:{fm.cookie:#x} "
    if fm.idle_timeout:
        s += f"idle:{fm.idle_timeout} "
    if fm.hard_timeout:
        s += f"hard:{fm.hard_timeout} "
    if fm.importance:
        s += f"importance:{fm.importance} "
    flags = [f for f in ("send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts")
             if f in fm.flags and (f != "reset_counts" or version > 2)]
    s += "".join(f"{f} " for f in flags)
    vlan = fm.match.get("vlan_tci")
    tagged = bool(vlan and vlan[1] & 0x1000 and vlan[0] & 0x1000)
    proto = fm.match.get("nw_proto")
    s += "actions=" + format_actions(fm.actions, version >= 2, tagged, proto[0] if proto else None)
    return f"{name}{ver} (xid={xid:#x}):{s}"


def _port_name(n: int) -> str:
    names = {0xFFF8: "IN_PORT", 0xFFF9: "TABLE", 0xFFFA: "NORMAL", 0xFFFB: "FLOOD", 0xFFFC: "ALL",
             0xFFFD: "CONTROLLER", 0xFFFE: "LOCAL", 0xFFFF: "ANY"}
    return names.get(n, str(n))


def parse_flows(lines: list[str], allowed: int, of_version: int,
                check: Callable[[FlowMod], None] | None = None) -> str:
    """ofctl_parse_flows__: every line's flow_mod, the protocols usable for all of them,
    the one chosen, and each flow_mod as ofp_print shows it. FlowError on a bad line."""
    fms: list[FlowMod] = []
    usable = P_ANY
    for line in lines:
        fm = parse_flow_mod(line, "add", _port_no, of_version)
        if check is not None:
            check(fm)
        u = match_usable(fm.match)
        if fm.table is not None:
            u &= P_TID
        usable &= u
        fms.append(fm)
    both = usable & allowed
    if not both:
        raise FlowError(f"none of the usable flow formats ({protocols_to_string(usable)}) is among the allowed "
                        f"flow formats ({protocols_to_string(allowed)})")
    protocol = both & -both
    out = [f"usable protocols: {protocols_to_string(usable)}", f"chosen protocol: {_NAMES[protocol]}"]
    out += [_flow_mod_line(fm, protocol, i + 1) for i, fm in enumerate(fms)]
    return "\n".join(out) + "\n"
