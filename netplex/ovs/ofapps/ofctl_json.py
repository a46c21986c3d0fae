"""What ofctl_rest answers: os-ken's and Ryu's ryu/lib/ofctl_v1_3.py turning a switch's
OpenFlow 1.3 replies into JSON (match_to_str, actions_to_str, get_flow_stats, get_port_stats,
get_port_desc, get_group_*, get_meter_*, get_queue_*, get_table_stats, ofctl_utils.get_role),
with OFCtlUtil's reserved names (OFPP_, OFPG_, OFPM_, OFPQ_, OFPTT_, OFPCR_ROLE_) and the dicts'
key order ofctl prints. The requests' side is ofctl_rest.py.
"""
from __future__ import annotations

import struct
from typing import Any

from netplex.ovs.ofapp import OFPVID_PRESENT, Action, Fields
from netplex.ovs.ofp_gmq import (
    OFPG_ALL,
    OFPG_ANY,
    OFPGT_ALL,
    OFPGT_FF,
    OFPGT_INDIRECT,
    OFPGT_SELECT,
    OFPM_ALL,
    OFPMBT_DROP,
    OFPMBT_DSCP_REMARK,
    OFPMF_BURST,
    OFPMF_KBPS,
    OFPMF_PKTPS,
    OFPMF_STATS,
    OFPQ_ALL,
    GroupDesc,
    GroupFeatures,
    GroupStats,
    MeterConfig,
    MeterFeatures,
    MeterStats,
    QueueStats,
    decode_queue_config,
)
from netplex.ovs.ofrole import ROLE_NAMES, decode_role
from netplex.ovs.openflow import OXM_FIELDS, SET_FIELDS, FlowStats, PortDesc, PortStats
from netplex.packet.addr import int_to_ip

# ofproto_v1_3's reserved ports, groups, meters, queues and tables as OFCtlUtil names them
PORT_NAMES = {0xFFFFFFF8: "IN_PORT", 0xFFFFFFF9: "TABLE", 0xFFFFFFFA: "NORMAL", 0xFFFFFFFB: "FLOOD",
              0xFFFFFFFC: "ALL", 0xFFFFFFFD: "CONTROLLER", 0xFFFFFFFE: "LOCAL", 0xFFFFFFFF: "ANY",
              0xFFFFFF00: "MAX"}
GROUP_TYPE_NAMES = {OFPGT_ALL: "ALL", OFPGT_SELECT: "SELECT", OFPGT_INDIRECT: "INDIRECT", OFPGT_FF: "FF"}
GROUP_CAPS = {1: "SELECT_WEIGHT", 2: "SELECT_LIVENESS", 4: "CHAINING", 8: "CHAINING_CHECKS"}
ACTION_TYPES = {0: "OUTPUT", 11: "COPY_TTL_OUT", 12: "COPY_TTL_IN", 15: "SET_MPLS_TTL", 16: "DEC_MPLS_TTL",
                17: "PUSH_VLAN", 18: "POP_VLAN", 19: "PUSH_MPLS", 20: "POP_MPLS", 21: "SET_QUEUE", 22: "GROUP",
                23: "SET_NW_TTL", 24: "DEC_NW_TTL", 25: "SET_FIELD", 26: "PUSH_PBB", 27: "POP_PBB"}
METER_FLAGS = {"KBPS": OFPMF_KBPS, "PKTPS": OFPMF_PKTPS, "BURST": OFPMF_BURST, "STATS": OFPMF_STATS}
BAND_TYPES = {OFPMBT_DROP: "DROP", OFPMBT_DSCP_REMARK: "DSCP_REMARK", 0xFFFF: "EXPERIMENTER"}
GROUP_NAMES = {OFPG_ALL: "ALL", OFPG_ANY: "ANY", 0xFFFFFF00: "MAX"}
METER_NAMES = {OFPM_ALL: "ALL", 0xFFFFFFFE: "CONTROLLER", 0xFFFF0000: "MAX", 0xFFFFFFFD: "SLOWPATH"}
QUEUE_NAMES = {OFPQ_ALL: "ALL"}
TABLE_NAMES = {0xFE: "MAX", 0xFF: "ALL"}


def _port32(no: int) -> int:
    """A port as OpenFlow 1.3 says it (the switch's 16-bit reserved numbers widened)."""
    return no | 0xFFFF0000 if 0xFF00 <= no <= 0xFFFF else no


def port_to_user(no: int) -> int | str:
    return PORT_NAMES.get(no, no)


SET_FIELD_NAMES = {3: "eth_dst", 4: "eth_src", 11: "ipv4_src", 12: "ipv4_dst", 13: "tcp_src", 14: "tcp_dst",
                   15: "udp_src", 16: "udp_dst"}

_WIDTH = {"in_port": 16, "dl_dst": 48, "dl_src": 48, "dl_type": 16, "vlan_tci": 13, "nw_tos": 8, "nw_proto": 8,
         "nw_src": 32, "nw_dst": 32, "tp_src": 16, "tp_dst": 16}


def mac_text(n: int) -> str:
    return ":".join(f"{b:02x}" for b in n.to_bytes(6, "big"))


def match_to_str(fields: Fields) -> dict[str, Any]:
    """ofctl_v1_3.match_to_str: the OXM fields under ofctl's names (dl_*, nw_*, tp_*; arp_*,
    icmpv4_*, ip_dscp as OXM names them), a masked one as "value/mask"."""
    dl_type = fields.get("dl_type", (0, 0))[0]
    proto = fields.get("nw_proto", (0, 0))[0]
    out: dict[str, Any] = {}
    for key, (value, mask) in fields.items():
        exact = mask == (1 << _WIDTH.get(key, 16)) - 1
        name = key
        shown: Any = value
        if key == "in_port":
            out["in_port"] = port_to_user(_port32(value))
            continue
        if key == "vlan_tci":
            out["dl_vlan"] = (f"0x{value:04x}/0x{mask:04x}" if mask != 0x1FFF else
                              str(value & ~OFPVID_PRESENT) if value & OFPVID_PRESENT else f"0x{value:04x}")
            continue
        if key in ("dl_src", "dl_dst"):
            shown = mac_text(value) if exact else f"{mac_text(value)}/{mac_text(mask)}"
            out[key] = shown
            continue
        if key in ("nw_src", "nw_dst"):
            name = ("arp_spa" if key == "nw_src" else "arp_tpa") if dl_type == 0x0806 else key
            out[name] = int_to_ip(value) if exact else f"{int_to_ip(value)}/{int_to_ip(mask)}"
            continue
        if key == "nw_proto" and dl_type == 0x0806:
            name, exact = "arp_op", True
        elif key == "nw_tos":
            name, value, exact = "ip_dscp", value >> 2, mask == 0xFC
        elif key in ("tp_src", "tp_dst") and proto == 1:
            name, exact = ("icmpv4_type" if key == "tp_src" else "icmpv4_code"), True
        out[name] = value if exact else f"{value}/{mask}"
    return out


def action_to_str(act: Action) -> str:
    """ofctl_v1_3.action_to_str."""
    kind, a, _b = act
    if kind == "output":
        return f"OUTPUT:{port_to_user(a)}"
    if kind == "set_field":
        name = SET_FIELD_NAMES.get(a, SET_FIELDS.get(a, str(a)))
        size = OXM_FIELDS[a][1] if a in OXM_FIELDS else 0
        value: Any = mac_text(_b) if size == 6 else int_to_ip(_b) if name.startswith("ipv4") else _b
        return f"SET_FIELD: {{{name}:{value}}}"
    return {"push_vlan": f"PUSH_VLAN:{a}", "pop_vlan": "POP_VLAN", "dec_ttl": "DEC_NW_TTL",
            "group": f"GROUP:{a}", "set_queue": f"SET_QUEUE:{a}"}.get(kind, "UNKNOWN")


def flow_to_json(s: FlowStats) -> dict[str, Any]:
    """One flow of ofctl_v1_3.get_flow_stats, its keys in ofctl's order, its instructions
    (actions_to_str) in the reply's order."""
    actions: list[Any] = []
    for inst in s.order:
        if inst == "apply":
            actions += [action_to_str(a) for a in s.acts]
        elif inst == "metadata" and s.metadata is not None:
            actions.append(f"WRITE_METADATA:0x{s.metadata[0]:x}/0x{s.metadata[1]:x}" if s.metadata[1]
                           else f"WRITE_METADATA:0x{s.metadata[0]:x}")
        elif inst == "goto":
            actions.append(f"GOTO_TABLE:{TABLE_NAMES.get(s.goto_table or 0, s.goto_table)}")
        elif inst == "meter" and s.meter is not None:
            actions.append(f"METER:{METER_NAMES.get(s.meter, s.meter)}")
    return {"priority": s.priority, "cookie": s.cookie, "idle_timeout": s.idle_timeout,
            "hard_timeout": s.hard_timeout, "byte_count": s.byte_count, "duration_sec": s.duration_sec,
            "duration_nsec": s.duration_nsec, "packet_count": s.packet_count, "length": s.length,
            "flags": s.flags, "actions": actions, "match": match_to_str(s.match), "table_id": s.table_id}


def port_stats_to_json(s: PortStats) -> dict[str, Any]:
    return {"rx_packets": s.rx_packets, "tx_packets": s.tx_packets, "rx_bytes": s.rx_bytes,
            "tx_bytes": s.tx_bytes, "rx_dropped": s.rx_dropped, "tx_dropped": s.tx_dropped,
            "rx_errors": s.rx_errors, "tx_errors": s.tx_errors, "rx_frame_err": s.rx_frame_err,
            "rx_over_err": s.rx_over_err, "rx_crc_err": s.rx_crc_err, "collisions": s.collisions,
            "duration_sec": s.duration_sec, "duration_nsec": s.duration_nsec, "port_no": port_to_user(s.port_no)}


def port_desc_to_json(p: PortDesc) -> dict[str, Any]:
    return {"hw_addr": mac_text(int.from_bytes(p.hw_addr, "big")), "name": p.name, "config": p.config,
            "state": p.state, "curr": p.curr, "advertised": p.advertised, "supported": p.supported, "peer": p.peer,
            "curr_speed": p.curr_speed, "max_speed": p.max_speed, "port_no": port_to_user(p.port_no)}


def group_stats_to_json(g: GroupStats) -> dict[str, Any]:
    """One group of ofctl_v1_3.get_group_stats."""
    return {"length": g.length, "ref_count": g.ref_count, "packet_count": g.packet_count,
            "byte_count": g.byte_count, "duration_sec": g.duration_sec, "duration_nsec": g.duration_nsec,
            "bucket_stats": [{"packet_count": p, "byte_count": b} for p, b in g.buckets],
            "group_id": GROUP_NAMES.get(g.group_id, g.group_id)}


def group_desc_to_json(g: GroupDesc) -> dict[str, Any]:
    """One group of ofctl_v1_3.get_group_desc: its buckets' actions as action_to_str says them."""
    return {"buckets": [{"weight": b.weight, "watch_port": b.watch_port, "watch_group": b.watch_group,
                         "actions": [action_to_str(a) for a in b.actions]} for b in g.buckets],
            "group_id": GROUP_NAMES.get(g.group_id, g.group_id), "type": GROUP_TYPE_NAMES.get(g.type)}


def group_features_to_json(f: GroupFeatures) -> dict[str, Any]:
    """ofctl_v1_3.get_group_features: the bitmaps as lists of names."""
    return {"types": [name for t, name in GROUP_TYPE_NAMES.items() if f.types & (1 << t)],
            "capabilities": [name for c, name in GROUP_CAPS.items() if f.capabilities & c],
            "max_groups": [{name: f.max_groups[t]} for t, name in GROUP_TYPE_NAMES.items()],
            "actions": [{name: [a for n, a in ACTION_TYPES.items() if f.actions[t] & (1 << n)]}
                        for t, name in GROUP_TYPE_NAMES.items()]}


def meter_stats_to_json(m: MeterStats) -> dict[str, Any]:
    """One meter of ofctl_v1_3.get_meter_stats."""
    return {"len": m.len, "flow_count": m.flow_count, "packet_in_count": m.packet_in_count,
            "byte_in_count": m.byte_in_count, "duration_sec": m.duration_sec, "duration_nsec": m.duration_nsec,
            "band_stats": [{"packet_band_count": p, "byte_band_count": b} for p, b in m.bands],
            "meter_id": METER_NAMES.get(m.meter_id, m.meter_id)}


def meter_config_to_json(m: MeterConfig) -> dict[str, Any]:
    """One meter of ofctl_v1_3.get_meter_config."""
    bands: list[dict[str, Any]] = []
    for b in m.bands:
        band: dict[str, Any] = {"rate": b.rate, "burst_size": b.burst_size, "type": BAND_TYPES.get(b.type, "")}
        if b.type == OFPMBT_DSCP_REMARK:
            band["prec_level"] = b.prec_level
        bands.append(band)
    return {"flags": [name for name, bit in METER_FLAGS.items() if m.flags & bit], "bands": bands,
            "meter_id": METER_NAMES.get(m.meter_id, m.meter_id)}


def meter_features_to_json(f: MeterFeatures) -> dict[str, Any]:
    """ofctl_v1_3.get_meter_features."""
    return {"max_meter": f.max_meter,
            "band_types": [name for t, name in BAND_TYPES.items() if t < 32 and f.band_types & (1 << t)],
            "capabilities": [name for name, bit in METER_FLAGS.items() if f.capabilities & bit],
            "max_bands": f.max_bands, "max_color": f.max_color}


def queue_stats_to_json(q: QueueStats) -> dict[str, Any]:
    """One queue of ofctl_v1_3.get_queue_stats (its port as a number)."""
    return {"duration_nsec": q.duration_nsec, "duration_sec": q.duration_sec, "port_no": q.port_no,
            "queue_id": q.queue_id, "tx_bytes": q.tx_bytes, "tx_errors": q.tx_errors, "tx_packets": q.tx_packets}


def queue_config_to_json(body: bytes) -> dict[str, Any]:
    """ofctl_v1_3.get_queue_config of one OFPT_QUEUE_GET_CONFIG_REPLY: each queue's MIN_RATE,
    MAX_RATE (rate) and EXPERIMENTER (experimenter, data) properties."""
    port, queues = decode_queue_config(body)
    out = []
    for qid, qport, props in queues:
        plist: list[dict[str, Any]] = []
        pos = 0
        while pos + 8 <= len(props):
            ptype, plen = struct.unpack_from("!HH", props, pos)
            if plen < 8:
                break
            p: dict[str, Any] = {"property": {1: "MIN_RATE", 2: "MAX_RATE", 0xFFFF: "EXPERIMENTER"}.get(ptype,
                                                                                                         "UNKNOWN")}
            if ptype in (1, 2):
                p["rate"] = struct.unpack_from("!H", props, pos + 8)[0]
            elif ptype == 0xFFFF:
                p["experimenter"] = struct.unpack_from("!I", props, pos + 8)[0]
                p["data"] = props[pos + 16:pos + plen]
            plist.append(p)
            pos += plen
        out.append({"properties": plist, "port": port_to_user(qport), "queue_id": QUEUE_NAMES.get(qid, qid)})
    return {"queues": out, "port": port_to_user(port)}


TABLE_STATS = struct.Struct("!B3xIQQ")


def table_stats_to_json(table_id: int, active: int, lookups: int, matched: int) -> dict[str, Any]:
    """One table of ofctl_v1_3.get_table_stats."""
    return {"active_count": active, "lookup_count": lookups, "matched_count": matched,
            "table_id": TABLE_NAMES.get(table_id, table_id)}


def role_to_json(body: bytes) -> dict[str, Any]:
    """ofctl_utils.get_role: the ROLE_REPLY as os-ken's to_jsondict says it, the role by name."""
    role, generation_id = decode_role(body)
    return {"generation_id": generation_id, "role": ROLE_NAMES.get(role, role)}
