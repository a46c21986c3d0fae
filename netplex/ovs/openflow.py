"""OpenFlow 1.3 on the wire, the messages a switch and a learning-switch controller
exchange (OpenFlow Switch Specification 1.3.5: §7.1 header, §7.2.3 OXM match, §7.2.4
instructions, §7.2.5 actions, §7.3.1 features, §7.3.4 flow_mod, §7.3.7 packet_out,
§7.4.1 packet_in, §7.5 symmetric messages).

`encode_*` build exact bytes; `Reader` cuts a TCP byte stream into messages;
`decode_match`/`decode_actions` read what `encode_match`/`encode_actions` write.
Only what netplex's switch and controllers use is here: HELLO, ERROR, ECHO,
FEATURES, SET_CONFIG, PACKET_IN, FLOW_MOD, PACKET_OUT, BARRIER, PORT_STATUS (§7.4.3,
ofp_port §7.2.1) and MULTIPART (§7.3.5: DESC, FLOW, AGGREGATE, PORT_STATS, PORT_DESC,
cut into OFPMPF_REPLY_MORE parts of at most 64 KiB); OXM in_port,
eth_dst, eth_src, eth_type, vlan_vid, ip_proto, ipv4_src/dst, tcp/udp ports; the actions
OUTPUT (encoded and decoded), SET_FIELD, PUSH/POP_VLAN, DEC_NW_TTL, GROUP, SET_QUEUE (decoded);
the instructions APPLY_ACTIONS, GOTO_TABLE, WRITE_METADATA.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["OFP_VERSION", "OFPT", "FlowModMsg", "FlowStats", "FlowStatsRequest", "PacketIn", "PacketOut", "PortDesc",
           "PortStats", "Reader", "decode_action_list", "decode_flow_stats", "decode_port_stats", "encode_action_list", "decode_actions", "decode_match", "encode", "encode_actions", "encode_raw", "encode_match", "error_msg",
           "features_reply", "multipart_replies", "port_status"]

OFP_VERSION = 4    # OpenFlow 1.3
OFPT = {"HELLO": 0, "ERROR": 1, "ECHO_REQUEST": 2, "ECHO_REPLY": 3, "FEATURES_REQUEST": 5, "FEATURES_REPLY": 6,
        "GET_CONFIG_REQUEST": 7, "GET_CONFIG_REPLY": 8, "SET_CONFIG": 9, "PACKET_IN": 10, "FLOW_REMOVED": 11,
        "PORT_STATUS": 12, "PACKET_OUT": 13, "FLOW_MOD": 14, "MULTIPART_REQUEST": 18, "MULTIPART_REPLY": 19,
        "BARRIER_REQUEST": 20, "BARRIER_REPLY": 21, "GROUP_MOD": 15, "QUEUE_GET_CONFIG_REQUEST": 22,
        "QUEUE_GET_CONFIG_REPLY": 23, "METER_MOD": 29, "EXPERIMENTER": 4, "ROLE_REQUEST": 24, "ROLE_REPLY": 25,
        "PORT_MOD": 16}
OFPP_CONTROLLER, OFPP_FLOOD, OFPP_ALL, OFPP_TABLE, OFPP_IN_PORT, OFPP_NORMAL, OFPP_LOCAL = (
    0xFFFFFFFD, 0xFFFFFFFB, 0xFFFFFFFC, 0xFFFFFFF9, 0xFFFFFFF8, 0xFFFFFFFA, 0xFFFFFFFE)
OFPP_ANY = 0xFFFFFFFF
OFP_NO_BUFFER = 0xFFFFFFFF
OFPCML_NO_BUFFER = 0xFFFF
OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFC_DELETE, OFPFC_DELETE_STRICT = range(5)
OFPFF_SEND_FLOW_REM = 1
OFPIT_GOTO_TABLE, OFPIT_APPLY_ACTIONS = 1, 4
OFPAT_OUTPUT = 0
OFPXMC_OPENFLOW_BASIC = 0x8000
OFPMP_DESC, OFPMP_FLOW, OFPMP_AGGREGATE, OFPMP_TABLE, OFPMP_PORT_STATS = 0, 1, 2, 3, 4
OFPMP_PORT_DESC = 13
OFPMPF_REPLY_MORE = 1
OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY = 0, 1, 2
OFPPC_PORT_DOWN = 1
OFPPS_LINK_DOWN, OFPPS_LIVE = 1, 4
OFPPF_10GB_FD, OFPPF_COPPER = 1 << 6, 1 << 11
OFPET_BAD_REQUEST = 1
OFPBRC_BAD_TYPE, OFPBRC_BAD_MULTIPART = 1, 2
OFPBRC_BAD_SUBTYPE, OFPBRC_IS_SLAVE = 4, 10
MAX_MSG = 0xFFFF

_HDR = struct.Struct("!BBHI")
# OXM field number → (match key, length)
OXM_FIELDS: dict[int, tuple[str, int]] = {0: ("in_port", 4), 3: ("dl_dst", 6), 4: ("dl_src", 6), 5: ("dl_type", 2),
                                          6: ("vlan_tci", 2), 8: ("nw_tos", 1), 10: ("nw_proto", 1),
                                          11: ("nw_src", 4), 12: ("nw_dst", 4), 13: ("tp_src", 2), 14: ("tp_dst", 2),
                                          15: ("tp_src", 2), 16: ("tp_dst", 2), 19: ("tp_src", 1),
                                          20: ("tp_dst", 1), 21: ("nw_proto", 2), 22: ("nw_src", 4),
                                          23: ("nw_dst", 4)}
_OXM_BY_KEY = {"in_port": 0, "dl_dst": 3, "dl_src": 4, "dl_type": 5, "vlan_tci": 6, "nw_tos": 8, "nw_proto": 10,
               "nw_src": 11, "nw_dst": 12, "tp_src": 13, "tp_dst": 14}
ETH_P_ARP = 0x0806


def _oxm_num(key: str, fields: dict[str, tuple[int, int]]) -> int | None:
    """The OXM a match key is sent as, by the match's protocol: ARP's opcode and addresses
    (ARP_OP, ARP_SPA, ARP_TPA), ICMP's type and code, UDP's ports, else the IPv4/TCP ones."""
    dl = fields.get("dl_type", (0, 0))[0]
    proto = fields.get("nw_proto", (0, 0))[0]
    if dl == ETH_P_ARP and key in ("nw_proto", "nw_src", "nw_dst"):
        return {"nw_proto": 21, "nw_src": 22, "nw_dst": 23}[key]
    if key in ("tp_src", "tp_dst") and proto in (1, 17):
        return {(1, "tp_src"): 19, (1, "tp_dst"): 20, (17, "tp_src"): 15, (17, "tp_dst"): 16}[(proto, key)]
    return _OXM_BY_KEY.get(key)


def encode(msg_type: str, xid: int, body: bytes = b"") -> bytes:
    """ofp_header + body."""
    return _HDR.pack(OFP_VERSION, OFPT[msg_type], 8 + len(body), xid) + body


def encode_raw(mtype: int, xid: int, body: bytes = b"") -> bytes:
    """ofp_header + body for a message type given by number (a request echoed in an error)."""
    return _HDR.pack(OFP_VERSION, mtype, 8 + len(body), xid) + body


def _pad8(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 8)


def encode_match(fields: dict[str, tuple[int, int]]) -> bytes:
    """ofp_match of type OXM: OXM TLVs, padded to 8 bytes (the length field excludes the pad)."""
    tlvs = b""
    for key, (value, mask) in fields.items():
        num = _oxm_num(key, fields)
        if num is None:
            continue
        size = OXM_FIELDS[num][1]
        full = (1 << (8 * size)) - 1
        if num == 8:        # IP_DSCP: the TOS byte's upper six bits
            value, mask = value >> 2, (mask >> 2) & 0x3F
            full = 0x3F
        v = value & full
        if key == "in_port":
            v, mask = value if value < 0xFF00 else value | 0xFFFF0000, full
        if key == "vlan_tci":
            v = value & 0x1FFF   # OFPVID_PRESENT | vid
            mask = full if mask & 0x1FFF == 0x1FFF else mask & 0x1FFF     # VID and CFI exact: no mask
        mask &= full            # ICMP's type and code: one byte on the wire, 16 bits in the switch's match
        has_mask = mask != full
        head = (OFPXMC_OPENFLOW_BASIC << 16) | (num << 9) | (int(has_mask) << 8) | (size * (2 if has_mask else 1))
        tlvs += struct.pack("!I", head) + v.to_bytes(size, "big") + (mask.to_bytes(size, "big") if has_mask else b"")
    return _pad8(struct.pack("!HH", 1, 4 + len(tlvs)) + tlvs)


def decode_match(data: bytes, off: int) -> tuple[dict[str, tuple[int, int]], int]:
    """The OXM fields of an ofp_match at `off`; returns them and the offset after its padding."""
    mtype, mlen = struct.unpack_from("!HH", data, off)
    end = off + mlen
    pos = off + 4
    out: dict[str, tuple[int, int]] = {}
    while pos + 4 <= end:
        head = struct.unpack_from("!I", data, pos)[0]
        num, has_mask, length = (head >> 9) & 0x7F, (head >> 8) & 1, head & 0xFF
        cls = head >> 16
        body = data[pos + 4:pos + 4 + length]
        pos += 4 + length
        if cls != OFPXMC_OPENFLOW_BASIC or num not in OXM_FIELDS:
            continue
        key, size = OXM_FIELDS[num]
        value = int.from_bytes(body[:size], "big")
        mask = int.from_bytes(body[size:2 * size], "big") if has_mask else (1 << (8 * size)) - 1
        if key == "in_port":
            value, mask = (value & 0xFFFF if value >= 0xFFFFFF00 else value), 0xFFFF
        if key == "vlan_tci":
            value, mask = value & 0x1FFF, mask & 0x1FFF
        if num == 8:
            value, mask = (value & 0x3F) << 2, 0xFC if not has_mask else (mask & 0x3F) << 2
        out[key] = (value & mask, mask)
    return out, off + mlen + (-mlen % 8)


OFPAT_SET_QUEUE, OFPAT_GROUP, OFPAT_DEC_NW_TTL, OFPAT_SET_FIELD = 21, 22, 24, 25
OFPAT_PUSH_VLAN, OFPAT_POP_VLAN = 17, 18
OFPIT_WRITE_METADATA = 2
OFPIT_WRITE_ACTIONS, OFPIT_CLEAR_ACTIONS = 3, 5
OFPIT_METER = 6
# the instructions' order on the wire when none is given: OVS's (ofpacts_put_openflow_instructions
# writes them in ofpacts' order, which ofpacts_verify keeps: meter, apply, write_metadata, goto)
INSTRUCTION_ORDER = ("meter", "apply", "clear", "write", "metadata", "goto")
OFPET_BAD_ACTION, OFPET_BAD_INSTRUCTION = 2, 3
OFPBAC_BAD_TYPE, OFPBAC_BAD_OUT_GROUP, OFPBAC_BAD_SET_TYPE = 0, 9, 13
OFPBIC_UNSUP_INST = 1
# SET_FIELD's OXM field → the switch's field name (what `set_field:V->F` writes)
SET_FIELDS = {3: "eth_dst", 4: "eth_src", 11: "ip_src", 12: "ip_dst", 13: "tcp_src", 14: "tcp_dst",
              15: "udp_src", 16: "udp_dst"}


def decode_action_list(data: bytes) -> tuple[list[tuple[str, int, int]], tuple[int, int] | None]:
    """Every action of an action list, in order, as (kind, a, b): output (port, max_len),
    set_field (OXM field, value), push_vlan (ethertype), pop_vlan, dec_ttl, group (id),
    set_queue (id); and the error (type, code) of the first action the switch cannot run
    (OFPBAC_BAD_TYPE, OFPBAC_BAD_SET_TYPE for a field outside SET_FIELDS), or None."""
    out: list[tuple[str, int, int]] = []
    pos = 0
    while pos + 4 <= len(data):
        atype, alen = struct.unpack_from("!HH", data, pos)
        if alen < 8 or pos + alen > len(data):
            return out, (OFPET_BAD_ACTION, OFPBAC_BAD_TYPE)
        body = data[pos + 4:pos + alen]
        if atype == OFPAT_OUTPUT and alen >= 16:
            port, max_len = struct.unpack_from("!IH", body, 0)
            out.append(("output", port, max_len))
        elif atype == OFPAT_SET_FIELD:
            head = struct.unpack_from("!I", body, 0)[0]
            num, size = (head >> 9) & 0x7F, head & 0xFF
            if head >> 16 != OFPXMC_OPENFLOW_BASIC or num not in SET_FIELDS or head & 0x100:
                return out, (OFPET_BAD_ACTION, OFPBAC_BAD_SET_TYPE)
            out.append(("set_field", num, int.from_bytes(body[4:4 + size], "big")))
        elif atype == OFPAT_PUSH_VLAN:
            out.append(("push_vlan", struct.unpack_from("!H", body, 0)[0], 0))
        elif atype == OFPAT_POP_VLAN:
            out.append(("pop_vlan", 0, 0))
        elif atype == OFPAT_DEC_NW_TTL:
            out.append(("dec_ttl", 0, 0))
        elif atype in (OFPAT_GROUP, OFPAT_SET_QUEUE):
            out.append(("group" if atype == OFPAT_GROUP else "set_queue", struct.unpack_from("!I", body, 0)[0], 0))
        else:
            return out, (OFPET_BAD_ACTION, OFPBAC_BAD_TYPE)
        pos += alen
    return out, None


def encode_actions(outputs: list[tuple[int, int]]) -> bytes:
    """OUTPUT actions: (port, max_len) each."""
    return b"".join(struct.pack("!HHIH6x", OFPAT_OUTPUT, 16, port, max_len) for port, max_len in outputs)


def decode_actions(data: bytes) -> list[tuple[int, int]]:
    """The OUTPUT actions of an action list, as (port, max_len); other actions are not read."""
    out: list[tuple[int, int]] = []
    pos = 0
    while pos + 4 <= len(data):
        atype, alen = struct.unpack_from("!HH", data, pos)
        if alen < 4:
            break
        if atype == OFPAT_OUTPUT and alen >= 16:
            port, max_len = struct.unpack_from("!IH", data, pos + 4)
            out.append((port, max_len))
        pos += alen
    return out


def features_reply(xid: int, datapath_id: int, n_tables: int) -> bytes:
    """OFPT_FEATURES_REPLY: flow, table, port, group and queue statistics (what OVS says)."""
    caps = 0x1 | 0x2 | 0x4 | 0x8 | 0x40
    return encode("FEATURES_REPLY", xid, struct.pack("!QIBB2xII", datapath_id, 0, n_tables, 0, caps, 0))


@dataclass(slots=True)
class PacketIn:
    """ofp_packet_in."""

    buffer_id: int
    total_len: int
    reason: int
    table_id: int
    cookie: int
    match: dict[str, tuple[int, int]]
    data: bytes

    def encode(self, xid: int) -> bytes:
        body = struct.pack("!IHBBQ", self.buffer_id, self.total_len, self.reason, self.table_id, self.cookie)
        return encode("PACKET_IN", xid, body + encode_match(self.match) + b"\x00\x00" + self.data)

    @classmethod
    def decode(cls, body: bytes) -> PacketIn:
        buffer_id, total_len, reason, table_id, cookie = struct.unpack_from("!IHBBQ", body, 0)
        match, pos = decode_match(body, 16)
        return cls(buffer_id, total_len, reason, table_id, cookie, match, body[pos + 2:])


@dataclass(slots=True)
class PacketOut:
    """ofp_packet_out."""

    in_port: int
    actions: list[tuple[int, int]]
    data: bytes
    buffer_id: int = OFP_NO_BUFFER

    def encode(self, xid: int) -> bytes:
        acts = encode_actions(self.actions)
        return encode("PACKET_OUT", xid, struct.pack("!IIH6x", self.buffer_id, self.in_port, len(acts))
                      + acts + self.data)

    @classmethod
    def decode(cls, body: bytes) -> PacketOut:
        buffer_id, in_port, alen = struct.unpack_from("!IIH", body, 0)
        return cls(in_port, decode_actions(body[16:16 + alen]), body[16 + alen:], buffer_id)

    @staticmethod
    def decode_acts(body: bytes) -> tuple[list[tuple[str, int, int]], tuple[int, int] | None]:
        """The packet-out's whole action list (decode_action_list)."""
        alen = struct.unpack_from("!H", body, 8)[0]
        return decode_action_list(body[16:16 + alen])


@dataclass(slots=True)
class FlowModMsg:
    """ofp_flow_mod with APPLY_ACTIONS (OUTPUT) and GOTO_TABLE instructions."""

    command: int
    match: dict[str, tuple[int, int]]
    actions: list[tuple[int, int]] = field(default_factory=list)
    table_id: int = 0
    priority: int = 0x8000
    idle_timeout: int = 0
    hard_timeout: int = 0
    cookie: int = 0
    cookie_mask: int = 0
    buffer_id: int = OFP_NO_BUFFER
    out_port: int = OFPP_ANY
    flags: int = 0
    goto_table: int | None = None
    # not compared: every action in order (encoded instead of `actions` when given), WRITE_METADATA;
    # decoded only: what the switch must refuse
    acts: list[tuple[str, int, int]] = field(default_factory=list, compare=False)
    metadata: tuple[int, int] | None = field(default=None, compare=False)
    error: tuple[int, int] | None = field(default=None, compare=False)
    # OFPIT_METER's meter id; the instructions' order on the wire (INSTRUCTION_ORDER's names; empty: that order)
    meter: int | None = field(default=None, compare=False)
    order: tuple[str, ...] = field(default=(), compare=False)
    # WRITE_ACTIONS' action set (None: no such instruction) and CLEAR_ACTIONS
    write: list[tuple[str, int, int]] | None = field(default=None, compare=False)
    clear: bool = field(default=False, compare=False)

    def encode(self, xid: int) -> bytes:
        head = struct.pack("!QQBBHHHIIIH2x", self.cookie, self.cookie_mask, self.table_id, self.command,
                           self.idle_timeout, self.hard_timeout, self.priority, self.buffer_id, self.out_port,
                           OFPP_ANY, self.flags)
        acts = (encode_action_list(self.acts) if self.acts else encode_actions(self.actions)) \
            if self.actions or self.acts else None
        insts = encode_instructions(acts, self.metadata, self.goto_table, self.meter, self.order,
                                    None if self.write is None else encode_action_list(self.write), self.clear)
        return encode("FLOW_MOD", xid, head + encode_match(self.match) + insts)

    @classmethod
    def decode(cls, body: bytes) -> FlowModMsg:
        (cookie, cookie_mask, table_id, command, idle, hard, priority, buffer_id, out_port, _out_group,
         flags) = struct.unpack_from("!QQBBHHHIIIH", body, 0)
        match, pos = decode_match(body, 40)
        fm = cls(command, match, [], table_id, priority, idle, hard, cookie, cookie_mask, buffer_id, out_port, flags)
        decode_instructions(body, pos, len(body), fm)
        return fm


def encode_instructions(acts: bytes | None, metadata: tuple[int, int] | None, goto_table: int | None,
                        meter: int | None, order: tuple[str, ...] = (), write: bytes | None = None,
                        clear: bool = False) -> bytes:
    """A flow's instructions (§7.2.4): OFPIT_METER, APPLY_ACTIONS (the encoded `acts`; None: no
    such instruction), CLEAR_ACTIONS, WRITE_ACTIONS (the encoded `write`), WRITE_METADATA and
    GOTO_TABLE, those present, in `order` (INSTRUCTION_ORDER's names: os-ken's ofctl puts
    APPLY_ACTIONS last) or OVS's order."""
    parts = {"meter": None if meter is None else struct.pack("!HHI", OFPIT_METER, 8, meter),
             "apply": None if acts is None else struct.pack("!HH4x", OFPIT_APPLY_ACTIONS, 8 + len(acts)) + acts,
             "clear": struct.pack("!HH4x", OFPIT_CLEAR_ACTIONS, 8) if clear else None,
             "write": None if write is None else struct.pack("!HH4x", OFPIT_WRITE_ACTIONS, 8 + len(write)) + write,
             "metadata": None if metadata is None else struct.pack("!HH4xQQ", OFPIT_WRITE_METADATA, 24, *metadata),
             "goto": None if goto_table is None else struct.pack("!HHB3x", OFPIT_GOTO_TABLE, 8, goto_table)}
    return b"".join(parts[k] or b"" for k in (order or INSTRUCTION_ORDER))


def decode_instructions(body: bytes, pos: int, end: int, into: FlowModMsg | FlowStats) -> None:
    """A flow's instructions from body[pos:end] into a FLOW_MOD or flow statistics entry: the
    APPLY_ACTIONS list, CLEAR_ACTIONS, WRITE_ACTIONS (an action set: ofpacts_decode_for_action_set
    refuses an action an action set cannot hold, output to CONTROLLER among those decoded here,
    with OFPBAC_BAD_TYPE), GOTO_TABLE, WRITE_METADATA, METER and their order; another instruction
    is the FLOW_MOD's OFPBIC_UNSUP_INST."""
    order: list[str] = []
    while pos + 8 <= end:
        itype, ilen = struct.unpack_from("!HH", body, pos)
        if ilen < 8:
            break
        if itype == OFPIT_APPLY_ACTIONS:
            if isinstance(into, FlowModMsg):
                into.actions += decode_actions(body[pos + 8:pos + ilen])
            acts, err = decode_action_list(body[pos + 8:pos + ilen])
            into.acts += acts
            if isinstance(into, FlowModMsg):
                into.error = into.error or err
            order.append("apply")
        elif itype == OFPIT_WRITE_ACTIONS:
            acts, err = decode_action_list(body[pos + 8:pos + ilen])
            if err is None and any(k == "output" and a == 0xFFFFFFFD for k, a, _b in acts):
                err = (OFPET_BAD_ACTION, OFPBAC_BAD_TYPE)    # OFPACT_CONTROLLER: not in an action set
            into.write = acts
            if isinstance(into, FlowModMsg):
                into.error = into.error or err
            order.append("write")
        elif itype == OFPIT_CLEAR_ACTIONS:
            into.clear = True
            order.append("clear")
        elif itype == OFPIT_GOTO_TABLE:
            into.goto_table = body[pos + 4]
            order.append("goto")
        elif itype == OFPIT_WRITE_METADATA:
            into.metadata = struct.unpack_from("!QQ", body, pos + 8)
            order.append("metadata")
        elif itype == OFPIT_METER:
            into.meter = struct.unpack_from("!I", body, pos + 4)[0]
            order.append("meter")
        elif isinstance(into, FlowModMsg):
            into.error = into.error or (OFPET_BAD_INSTRUCTION, OFPBIC_UNSUP_INST)
        pos += ilen
    into.order = tuple(order)


def error_msg(xid: int, etype: int, code: int, request: bytes) -> bytes:
    """OFPT_ERROR with the first 64 bytes of the request that failed (§7.4.4)."""
    return encode("ERROR", xid, struct.pack("!HH", etype, code) + request[:64])


@dataclass(slots=True)
class PortDesc:
    """ofp_port (§7.2.1), 64 bytes."""

    port_no: int
    hw_addr: bytes
    name: str
    config: int = 0
    state: int = 0
    curr: int = 0
    curr_speed: int = 0      # kbit/s
    advertised: int = 0
    supported: int = 0
    peer: int = 0
    max_speed: int = 0

    def encode(self) -> bytes:
        name = self.name.encode()[:15].ljust(16, b"\x00")
        return struct.pack("!I4x6s2x16sIIIIIIII", self.port_no, self.hw_addr, name, self.config, self.state,
                           self.curr, self.advertised, self.supported, self.peer, self.curr_speed, self.max_speed)

    @classmethod
    def decode(cls, data: bytes) -> PortDesc:
        (port_no, hw, name, config, state, curr, adv, sup, peer, speed,
         max_speed) = struct.unpack_from("!I4x6s2x16sIIIIIIII", data, 0)
        return cls(port_no, hw, name.rstrip(b"\x00").decode(), config, state, curr, speed, adv, sup, peer, max_speed)


def port_status(xid: int, reason: int, port: PortDesc) -> bytes:
    """OFPT_PORT_STATUS: a port added, deleted or changed (§7.4.3)."""
    return encode("PORT_STATUS", xid, struct.pack("!B7x", reason) + port.encode())


def multipart_replies(xid: int, mp_type: int, entries: list[bytes]) -> list[bytes]:
    """OFPT_MULTIPART_REPLY messages carrying `entries` (each one ofp_*_stats), as many as
    the 16-bit length needs, every one but the last flagged OFPMPF_REPLY_MORE."""
    room = MAX_MSG - 16
    parts: list[list[bytes]] = [[]]
    size = 0
    for e in entries:
        if parts[-1] and size + len(e) > room:
            parts.append([])
            size = 0
        parts[-1].append(e)
        size += len(e)
    return [encode("MULTIPART_REPLY", xid, struct.pack("!HH4x", mp_type, OFPMPF_REPLY_MORE if i < len(parts) - 1
                                                         else 0) + b"".join(part))
            for i, part in enumerate(parts)]


def desc_stats(mfr: str, hw: str, sw: str, serial: str, dp: str) -> bytes:
    """ofp_desc (§7.3.5.1): four 256-byte strings and a 32-byte serial number."""
    return b"".join(t.encode()[:n - 1].ljust(n, b"\x00") for t, n in ((mfr, 256), (hw, 256), (sw, 256),
                                                                      (serial, 32), (dp, 256)))


@dataclass(slots=True)
class FlowStatsRequest:
    """ofp_flow_stats_request / ofp_aggregate_stats_request (§7.3.5.2, §7.3.5.3): the same body."""

    table_id: int = 0xFF
    out_port: int = OFPP_ANY
    cookie: int = 0
    cookie_mask: int = 0
    match: dict[str, tuple[int, int]] = field(default_factory=dict)

    def encode(self) -> bytes:
        return (struct.pack("!B3xII4xQQ", self.table_id, self.out_port, OFPP_ANY, self.cookie, self.cookie_mask)
                + encode_match(self.match))

    @classmethod
    def decode(cls, body: bytes) -> FlowStatsRequest:
        table_id, out_port, _group, cookie, cookie_mask = struct.unpack_from("!B3xII4xQQ", body, 0)
        return cls(table_id, out_port, cookie, cookie_mask, decode_match(body, 32)[0])


def flow_stats_entry(table_id: int, duration_ns: int, priority: int, idle: int, hard: int, flags: int,
                     cookie: int, packets: int, n_bytes: int, match: dict[str, tuple[int, int]],
                     actions: list[tuple[int, int]], goto_table: int | None,
                     action_list: list[tuple[str, int, int]] | None = None,
                     metadata: tuple[int, int] | None = None, meter: int | None = None,
                     write: list[tuple[str, int, int]] | None = None, clear: bool = False) -> bytes:
    """ofp_flow_stats (§7.3.5.2) with a METER, an APPLY_ACTIONS (OUTPUTs, or the whole
    `action_list` when given: `encode_action_list`), a CLEAR_ACTIONS, a WRITE_ACTIONS, a
    WRITE_METADATA and a GOTO_TABLE."""
    acts = (encode_action_list(action_list) if action_list else encode_actions(actions)) \
        if actions or action_list else None
    insts = encode_instructions(acts, metadata, goto_table, meter, (),
                                None if write is None else encode_action_list(write), clear)
    body = (struct.pack("!BxIIHHHH4xQQQ", table_id, duration_ns // 1_000_000_000, duration_ns % 1_000_000_000,
                        priority, idle, hard, flags, cookie, packets, n_bytes) + encode_match(match) + insts)
    return struct.pack("!H", 2 + len(body)) + body


OFPET_PORT_MOD_FAILED = 7
OFPPMFC_BAD_PORT, OFPPMFC_BAD_HW_ADDR, OFPPMFC_BAD_CONFIG = 0, 1, 2
_PORT_MOD = struct.Struct("!I4x6s2xIII4x")


def encode_port_mod(port_no: int, hw_addr: bytes, config: int, mask: int, advertise: int) -> bytes:
    """ofp_port_mod's body (§7.3.4.3): port, its address, config bits under mask, advertise."""
    return _PORT_MOD.pack(port_no, hw_addr, config, mask, advertise)


def decode_port_mod(body: bytes) -> tuple[int, bytes, int, int, int]:
    port_no, hw_addr, config, mask, advertise = _PORT_MOD.unpack_from(body, 0)
    return port_no, hw_addr, config, mask, advertise


def table_stats_entry(table_id: int, active: int, lookups: int, matched: int) -> bytes:
    """ofp_table_stats (§7.3.5.4): a table's flows, lookups and matches."""
    return struct.pack("!B3xIQQ", table_id, active, lookups, matched)


def port_stats_entry(port_no: int, rx: tuple[int, int, int], tx: tuple[int, int, int], duration_ns: int) -> bytes:
    """ofp_port_stats (§7.3.5.6): rx/tx packets, bytes, dropped; no errors counted."""
    return struct.pack("!I4xQQQQQQQQQQQQII", port_no, rx[0], tx[0], rx[1], tx[1], rx[2], tx[2], 0, 0, 0, 0, 0, 0,
                       duration_ns // 1_000_000_000, duration_ns % 1_000_000_000)


class Reader:
    """Cuts a TCP byte stream into OpenFlow messages: (type, xid, body) each."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        self.buf += data
        out: list[tuple[int, int, bytes]] = []
        while len(self.buf) >= 8:
            _version, mtype, length, xid = _HDR.unpack_from(self.buf, 0)
            if length < 8:
                self.buf = b""      # a broken stream: drop what is there
                break
            if len(self.buf) < length:
                break
            out.append((mtype, xid, self.buf[8:length]))
            self.buf = self.buf[length:]
        return out


def encode_action_list(acts: list[tuple[str, int, int]]) -> bytes:
    """The inverse of `decode_action_list`: OUTPUT, SET_FIELD (an OXM field of `OXM_FIELDS`,
    padded to 8 bytes, §7.2.5), PUSH_VLAN, POP_VLAN, DEC_NW_TTL, GROUP, SET_QUEUE."""
    out = b""
    for kind, a, b in acts:
        if kind == "output":
            out += struct.pack("!HHIH6x", OFPAT_OUTPUT, 16, a, b)
        elif kind == "set_field":
            size = OXM_FIELDS[a][1]
            tlv = struct.pack("!I", (OFPXMC_OPENFLOW_BASIC << 16) | (a << 9) | size) + b.to_bytes(size, "big")
            body = _pad8(struct.pack("!HH", OFPAT_SET_FIELD, 0) + tlv)
            out += struct.pack("!HH", OFPAT_SET_FIELD, len(body)) + body[4:]
        elif kind == "push_vlan":
            out += struct.pack("!HHH2x", OFPAT_PUSH_VLAN, 8, a)
        elif kind in ("pop_vlan", "dec_ttl"):
            out += struct.pack("!HH4x", OFPAT_POP_VLAN if kind == "pop_vlan" else OFPAT_DEC_NW_TTL, 8)
        elif kind in ("group", "set_queue"):
            out += struct.pack("!HHI", OFPAT_GROUP if kind == "group" else OFPAT_SET_QUEUE, 8, a)
        else:
            raise ValueError(f"no OpenFlow 1.3 action {kind}")
    return out


@dataclass(slots=True)
class FlowStats:
    """One ofp_flow_stats of a reply (§7.3.5.2), its instructions read as a FlowModMsg's."""

    table_id: int
    duration_sec: int
    duration_nsec: int
    priority: int
    idle_timeout: int
    hard_timeout: int
    flags: int
    cookie: int
    packet_count: int
    byte_count: int
    length: int
    match: dict[str, tuple[int, int]]
    acts: list[tuple[str, int, int]]
    goto_table: int | None = None
    metadata: tuple[int, int] | None = None
    meter: int | None = None
    order: tuple[str, ...] = ()
    write: list[tuple[str, int, int]] | None = None
    clear: bool = False


def decode_flow_stats(body: bytes) -> list[FlowStats]:
    """The ofp_flow_stats entries of an OFPMP_FLOW reply's body (after its 8-byte head)."""
    out: list[FlowStats] = []
    pos = 0
    while pos + 56 <= len(body):
        (length, table_id, dsec, dnsec, priority, idle, hard, flags, cookie, packets,
         n_bytes) = struct.unpack_from("!HBxIIHHHH4xQQQ", body, pos)
        if length < 56:
            break
        match, ipos = decode_match(body, pos + 48)
        end = pos + length
        st = FlowStats(table_id, dsec, dnsec, priority, idle, hard, flags, cookie, packets, n_bytes, length,
                       match, [])
        decode_instructions(body, ipos, end, st)
        out.append(st)
        pos = end
    return out


@dataclass(slots=True)
class PortStats:
    """One ofp_port_stats (§7.3.5.6)."""

    port_no: int
    rx_packets: int
    tx_packets: int
    rx_bytes: int
    tx_bytes: int
    rx_dropped: int
    tx_dropped: int
    rx_errors: int
    tx_errors: int
    rx_frame_err: int
    rx_over_err: int
    rx_crc_err: int
    collisions: int
    duration_sec: int
    duration_nsec: int


_PORT_STATS = struct.Struct("!I4xQQQQQQQQQQQQII")


def decode_port_stats(body: bytes) -> list[PortStats]:
    """The ofp_port_stats entries of an OFPMP_PORT_STATS reply's body."""
    return [PortStats(*_PORT_STATS.unpack_from(body, pos))
            for pos in range(0, len(body) - _PORT_STATS.size + 1, _PORT_STATS.size)]


def flow_removed(xid: int, cookie: int, priority: int, reason: int, table_id: int, duration_ns: int, idle: int,
                 hard: int, packets: int, n_bytes: int, match: dict[str, tuple[int, int]]) -> bytes:
    """OFPT_FLOW_REMOVED (§7.4.2): a flow with OFPFF_SEND_FLOW_REM gone (reason OFPRR_IDLE_TIMEOUT 0,
    OFPRR_HARD_TIMEOUT 1, OFPRR_DELETE 2), its counters and match."""
    return encode("FLOW_REMOVED", xid, struct.pack("!QHBBIIHHQQ", cookie, priority, reason, table_id,
                                                   duration_ns // 1_000_000_000, duration_ns % 1_000_000_000,
                                                   idle, hard, packets, n_bytes) + encode_match(match))
