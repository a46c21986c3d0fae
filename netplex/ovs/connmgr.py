"""A bridge's OpenFlow channel to its controllers (ofproto/connmgr.c, lib/rconn.c,
ofproto/ofproto.c handle_openflow) over the simulated TCP of the switch's namespace.

`set-controller br0 tcp:IP:PORT` makes ovs-vswitchd connect to IP:PORT and speak
OpenFlow 1.3 (`openflow.py`): HELLO, answers FEATURES_REQUEST, ECHO_REQUEST,
BARRIER_REQUEST and MULTIPART_REQUEST (DESC, FLOW, AGGREGATE, PORT_STATS, PORT_DESC, GROUP,
GROUP_DESC, GROUP_FEATURES, METER, METER_CONFIG, METER_FEATURES, QUEUE; ofproto.c
handle_desc_stats_request, handle_flow_stats_request, handle_aggregate_stats_request,
handle_port_stats_request, handle_port_desc_stats_request, handle_group_request,
handle_meter_request, handle_queue_stats_request) and QUEUE_GET_CONFIG_REQUEST,
applies FLOW_MOD, GROUP_MOD, METER_MOD and PACKET_OUT, sends PACKET_IN for the packets a `controller` action
gives it and PORT_STATUS when a port is added, deleted, or goes up or down
(connmgr_send_port_status), and FLOW_REMOVED when a flow added with OFPFF_SEND_FLOW_REM times out
(checked every 100 ms while connected, as ofproto_run expires rules). A request of another type gets OFPT_ERROR
(OFPBRC_BAD_TYPE, OFPBRC_BAD_MULTIPART) with the request, as ofconn does. FLOW_MOD and
PACKET_OUT take OUTPUT, SET_FIELD (Ethernet and IPv4 addresses, TCP/UDP ports), PUSH_VLAN,
POP_VLAN, DEC_NW_TTL, GROUP, SET_QUEUE and the instructions APPLY_ACTIONS, WRITE_METADATA,
GOTO_TABLE; anything else is refused whole with OFPBAC_BAD_TYPE, OFPBAC_BAD_SET_TYPE or
OFPBIC_UNSUP_INST (a group that does not exist: OFPBAC_BAD_OUT_GROUP), never dropped. A refused or lost connection is retried
after 1, 2, 4, then every 8 s (rconn's backoff). While connected the Controller
row says `is_connected: true`.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from netplex.ovs.actions import Act
from netplex.ovs.flow import Match
from netplex.ovs.group import Bucket, Group
from netplex.ovs.meter import Band, Meter
from netplex.ovs.ofp_gmq import (
    GROUP_FEATURES_OVS,
    METER_FEATURES_OVS,
    OFPET_GROUP_MOD_FAILED,
    OFPET_METER_MOD_FAILED,
    OFPET_QUEUE_OP_FAILED,
    OFPG_ALL,
    OFPGC_ADD,
    OFPGC_DELETE,
    OFPGC_MODIFY,
    OFPGMFC_BAD_COMMAND,
    OFPGMFC_BAD_TYPE,
    OFPGMFC_GROUP_EXISTS,
    OFPGMFC_INVALID_GROUP,
    OFPGMFC_UNKNOWN_GROUP,
    OFPGT_INDIRECT,
    OFPM_ALL,
    OFPMBT_DROP,
    OFPMC_ADD,
    OFPMC_DELETE,
    OFPMC_MODIFY,
    OFPMF_BURST,
    OFPMF_KBPS,
    OFPMF_PKTPS,
    OFPMF_STATS,
    OFPMMFC_BAD_BAND,
    OFPMMFC_BAD_COMMAND,
    OFPMMFC_BAD_FLAGS,
    OFPMMFC_INVALID_METER,
    OFPMMFC_METER_EXISTS,
    OFPMMFC_UNKNOWN_METER,
    OFPMP_GROUP,
    OFPMP_GROUP_DESC,
    OFPMP_GROUP_FEATURES,
    OFPMP_METER,
    OFPMP_METER_CONFIG,
    OFPMP_METER_FEATURES,
    OFPMP_QUEUE,
    OFPQ_ALL,
    OFPQOFC_BAD_PORT,
    GroupDesc,
    GroupStats,
    MeterBand,
    MeterConfig,
    MeterStats,
    OfBucket,
    encode_queue_config,
    queue_stats_entry,
)
from netplex.ovs.ofproto import FlowMod, GroupModError, Rule
from netplex.ovs.ofrole import OFPCR_ROLE_EQUAL, OFPCR_ROLE_SLAVE, RoleError, role_request
from netplex.ovs.openflow import (
    OFPBAC_BAD_OUT_GROUP,
    OFPBRC_BAD_MULTIPART,
    OFPBRC_BAD_SUBTYPE,
    OFPBRC_BAD_TYPE,
    OFPBRC_IS_SLAVE,
    OFPET_BAD_ACTION,
    OFPET_BAD_REQUEST,
    OFPET_PORT_MOD_FAILED,
    OFPFC_ADD,
    OFPFC_DELETE,
    OFPFC_DELETE_STRICT,
    OFPFC_MODIFY_STRICT,
    OFPFF_SEND_FLOW_REM,
    OFPMP_AGGREGATE,
    OFPMP_DESC,
    OFPMP_FLOW,
    OFPMP_PORT_DESC,
    OFPMP_PORT_STATS,
    OFPMP_TABLE,
    OFPP_ANY,
    OFPPC_PORT_DOWN,
    OFPPF_10GB_FD,
    OFPPF_COPPER,
    OFPPMFC_BAD_CONFIG,
    OFPPMFC_BAD_HW_ADDR,
    OFPPMFC_BAD_PORT,
    OFPPS_LINK_DOWN,
    OFPPS_LIVE,
    OFPT,
    SET_FIELDS,
    FlowModMsg,
    FlowStatsRequest,
    PacketIn,
    PacketOut,
    PortDesc,
    Reader,
    decode_port_mod,
    desc_stats,
    encode,
    encode_raw,
    error_msg,
    features_reply,
    flow_removed,
    flow_stats_entry,
    multipart_replies,
    port_stats_entry,
    port_status,
    table_stats_entry,
)
from netplex.ovs.queuestats import bridge_queues, queue_stats
from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import Ethernet
from netplex.stack.tcp import TcpSocket

if TYPE_CHECKING:
    from netplex.ovs.vswitchd import OfPort, OvsVswitchd, XBridge

__all__ = ["OfChannel", "of_action_list", "of_actions", "of_outputs", "port_desc"]

MAX_BACKOFF_NS = 8_000_000_000
PORT_POLL_NS = 100_000_000
_RESERVED = {0xFFFFFFFD: "controller", 0xFFFFFFFB: "flood", 0xFFFFFFFC: "all", 0xFFFFFFFA: "normal",
             0xFFFFFFF8: "in_port"}
_RESERVED_NO = {kind: no for no, kind in _RESERVED.items()} | {"local": 0xFFFFFFFE}
OFPP_MAX = 0xFF00
SPEED_10G = 10_000_000          # kbit/s: what netdev-linux reports for a veth (10GB-FD)
MFR_DESC, HW_DESC, SW_DESC = "Nicira, Inc.", "Open vSwitch", "3.1.0"
NS = 1_000_000_000
OFPG_MAX = 0xFFFFFF00
_GMQ_STATS = (OFPMP_QUEUE, OFPMP_GROUP, OFPMP_GROUP_DESC, OFPMP_GROUP_FEATURES, OFPMP_METER, OFPMP_METER_CONFIG,
              OFPMP_METER_FEATURES)
_GROUP_TYPE_NAMES = {0: "all", 1: "select", 2: "indirect", 3: "ff"}
# what a SLAVE controller may not send (ofproto.c's handlers that call reject_slave_controller)
_SLAVE_REFUSED = frozenset(OFPT[t] for t in ("FLOW_MOD", "GROUP_MOD", "METER_MOD", "PACKET_OUT", "PORT_MOD"))
_GROUP_TYPES = {name: n for n, name in _GROUP_TYPE_NAMES.items()}
# ofproto.py's GroupModError names → OpenFlow 1.3's (type, code)
_MOD_ERRORS = {"OFPGMFC_GROUP_EXISTS": (OFPET_GROUP_MOD_FAILED, OFPGMFC_GROUP_EXISTS),
               "OFPGMFC_UNKNOWN_GROUP": (OFPET_GROUP_MOD_FAILED, OFPGMFC_UNKNOWN_GROUP),
               "OFPMMFC_METER_EXISTS": (OFPET_METER_MOD_FAILED, OFPMMFC_METER_EXISTS),
               "OFPMMFC_UNKNOWN_METER": (OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER),
               "OFPMMFC_INVALID_METER": (OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER)}


def _port16(no: int) -> int:
    """An OpenFlow 1.3 port as the switch numbers it (reserved ports in 16 bits)."""
    return no & 0xFFFF if no >= 0xFFFFFF00 else no


def _port32(no: int) -> int:
    return no | 0xFFFF0000 if no >= OFPP_MAX else no


def _bucket_actions(acts: list[Act]) -> list[tuple[str, int, int]]:
    """A bucket's actions as an OpenFlow 1.3 action list (only its outputs when one has no such spelling)."""
    whole = of_action_list(acts)
    return whole[0] if whole is not None else [("output", p, n) for p, n in of_outputs(acts)[0]]


def of_acts(decoded: list[tuple[str, int, int]], goto: int | None = None,
            metadata: tuple[int, int] | None = None, meter: int | None = None,
            write: list[tuple[str, int, int]] | None = None, clear: bool = False) -> list[Act]:
    """A decoded OpenFlow 1.3 action list (openflow.decode_action_list), CLEAR_ACTIONS,
    WRITE_ACTIONS, WRITE_METADATA, GOTO_TABLE and METER as the switch's own actions, as
    ovs-ofctl would have spelled them (in ofpacts_verify's order of the instructions)."""
    acts: list[Act] = [] if meter is None else [Act("meter", meter)]
    for kind, a, b in decoded:
        if kind == "output":
            acts += of_actions([(a, b)])
        elif kind == "set_field":
            acts.append(Act("set_field", SET_FIELDS[a], b, "set_field"))
        elif kind == "pop_vlan":
            acts.append(Act("strip_vlan", True))
        elif kind == "dec_ttl":
            acts.append(Act("dec_ttl"))
        else:               # push_vlan, group, set_queue
            acts.append(Act(kind, a))
    if clear:
        acts.append(Act("clear_actions"))
    if write is not None:
        acts.append(Act("write_actions", of_acts(write)))
    if metadata is not None:
        acts.append(Act("write_metadata", metadata[0], metadata[1]))
    if goto is not None:
        acts.append(Act("goto_table", goto))
    return acts


def of_outputs(acts: list[Act]) -> tuple[list[tuple[int, int]], int | None]:
    """The switch's actions as OpenFlow 1.3 OUTPUTs and a GOTO_TABLE (the inverse of
    `of_actions`); actions that are not an output are left out (openflow.py encodes no
    other action)."""
    outputs: list[tuple[int, int]] = []
    goto = None
    for a in acts:
        if a.kind == "output":
            outputs.append((a.a | 0xFFFF0000 if a.a >= OFPP_MAX else a.a, 0))
        elif a.kind == "controller":
            outputs.append((_RESERVED_NO["controller"], a.a if a.a is not None else 0xFFFF))
        elif a.kind in _RESERVED_NO:
            outputs.append((_RESERVED_NO[a.kind], 0))
        elif a.kind == "goto_table":
            goto = a.a
    return outputs, goto


_SET_FIELD_NUM = {name: num for num, name in SET_FIELDS.items()}


def of_action_list(acts: list[Act]) -> tuple[list[tuple[str, int, int]], int | None, tuple[int, int] | None] | None:
    """The inverse of `of_acts`: the switch's actions as an OpenFlow 1.3 action list
    (openflow.encode_action_list), GOTO_TABLE and WRITE_METADATA; None when an action has no such
    spelling (the flow statistics then carry its outputs only, `of_outputs`)."""
    out: list[tuple[str, int, int]] = []
    goto: int | None = None
    metadata: tuple[int, int] | None = None
    for a in acts:
        if a.kind in ("output", "controller", *_RESERVED_NO):
            out += [("output", port, max_len) for port, max_len in of_outputs([a])[0]]
        elif a.kind == "set_field" and a.a in _SET_FIELD_NUM:
            out.append(("set_field", _SET_FIELD_NUM[a.a], a.b))
        elif a.kind == "strip_vlan":
            out.append(("pop_vlan", 0, 0))
        elif a.kind == "dec_ttl":
            out.append(("dec_ttl", 0, 0))
        elif a.kind in ("push_vlan", "group", "set_queue"):
            out.append((a.kind, a.a, 0))
        elif a.kind == "write_metadata":
            metadata = (a.a, a.b)
        elif a.kind == "goto_table":
            goto = a.a
        elif a.kind == "write_actions":
            if of_action_set(acts)[0] is None:
                return None
        elif a.kind != "clear_actions":     # (the action set's instructions: of_action_set)
            return None
    return out, goto, metadata


def of_action_set(acts: list[Act]) -> tuple[list[tuple[str, int, int]] | None, bool]:
    """The switch's WRITE_ACTIONS as an OpenFlow 1.3 action list (None: none, or an action with
    no such spelling) and whether it has CLEAR_ACTIONS."""
    write = next((a.a for a in acts if a.kind == "write_actions"), None)
    whole = of_action_list(write) if write is not None else None
    return (whole[0] if whole is not None else None), any(a.kind == "clear_actions" for a in acts)


def port_desc(xb: XBridge, p: OfPort) -> PortDesc:
    """ofp_port of a bridge port: its number, address, name, PORT_DOWN and LIVE/LINK_DOWN
    (what `ovs-ofctl show` prints), 10GB-FD COPPER for a device (netdev-linux on a veth)."""
    dev = p.dev
    no = 0xFFFFFFFE if p.ofport == 0xFFFE else p.ofport
    name = xb.name if p.ofport == 0xFFFE else p.name
    mac = dev.mac if dev is not None else (p.mac or bytes(6))
    wired = dev is not None and p.type != "patch"
    return PortDesc(no, mac, name, 0 if p.admin_up() else OFPPC_PORT_DOWN,
                    OFPPS_LIVE if p.live() else OFPPS_LINK_DOWN, OFPPF_10GB_FD | OFPPF_COPPER if wired else 0,
                    SPEED_10G if wired else 0)


def of_actions(outputs: list[tuple[int, int]], goto: int | None = None) -> list[Act]:
    """OpenFlow 1.3 OUTPUT actions (and GOTO_TABLE) as the switch's own actions."""
    acts: list[Act] = []
    for port, max_len in outputs:
        kind = _RESERVED.get(port)
        if kind == "controller":
            acts.append(Act("controller", max_len))
        elif kind is not None:
            acts.append(Act(kind))
        elif port == 0xFFFFFFF9:
            acts.append(Act("resubmit", None, 0))     # OFPP_TABLE: through the tables from table 0
        else:
            acts.append(Act("output", port & 0xFFFF if port >= 0xFFFFFF00 else port))
    if goto is not None:
        acts.append(Act("goto_table", goto))
    return acts


def parse_inet_target(spec: str, passive: bool) -> tuple[int, int] | None:
    """(address, port) of an OpenFlow target as socket-util.c's inet_parse_active
    ("tcp:IP[:PORT]") and inet_parse_passive ("ptcp:[PORT][:IP]") read it, with 6653 as the
    default port; None when the address or port does not parse (ovs-vsctl stores such a
    target anyway, and the daemon only logs that it cannot use it)."""
    parts = spec.split(":")
    if passive:
        port_text, addr_text = (parts[1:] + ["", ""])[:2]
    else:
        addr_text, port_text = (parts[1:] + ["", ""])[:2]
        if not addr_text:
            return None
    if len(parts) > 3 or (port_text and not (port_text.isascii() and port_text.isdigit())):
        return None
    port = int(port_text) if port_text else 6653
    if port > 65535:
        return None
    try:
        addr = ip_to_int(addr_text) if addr_text else 0
    except ValueError:
        return None
    return addr, port


class OfChannel:
    """rconn + ofconn: one controller connection of one bridge."""

    def __init__(self, vsd: OvsVswitchd, xb: XBridge, target: str,
                 run_packet_out: Callable[[OvsVswitchd, XBridge, int, Ethernet, list[Act]], None]) -> None:
        self.vsd = vsd
        self.xb = xb
        self.target = target
        self.run_packet_out = run_packet_out
        self.sock: TcpSocket | None = None
        self.reader = Reader()
        self.connected = False
        self.backoff = 1_000_000_000
        self.xid = 0
        self.closed = False
        self.n_packet_in = 0
        self.role = OFPCR_ROLE_EQUAL
        self.born = vsd.now()
        self.where = parse_inet_target(target, passive=False)
        xb.ofproto.removed.append(self.flow_removed)
        self.connect()

    def next_xid(self) -> int:
        self.xid += 1
        return self.xid

    def connect(self) -> None:
        if self.closed or not self.vsd.alive or self.where is None:
            return          # a target that does not parse is never connected (vswitchd logs it)
        sk = TcpSocket(self.vsd.ns.sockets)
        self.sock = sk
        sk.on_connect = self._on_connect
        sk.on_data = self._on_data
        sk.on_close = self._on_lost
        sk.on_error = lambda s, err: self._on_lost(s)
        self.reader = Reader()
        if sk.connect(*self.where):
            self._on_lost(sk)

    def close(self) -> None:
        self.closed = True
        if self.flow_removed in self.xb.ofproto.removed:
            self.xb.ofproto.removed.remove(self.flow_removed)
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._set_connected(False)

    def _set_connected(self, on: bool) -> None:
        self.connected = on
        self.vsd.controller_status(self.xb, self.target, on)

    def _on_connect(self, sk: TcpSocket) -> None:
        self.backoff = 1_000_000_000
        self.role = OFPCR_ROLE_EQUAL        # ofconn_flush: a new connection starts EQUAL
        self._set_connected(True)
        self.send(encode("HELLO", self.next_xid()))
        self.vsd.after(PORT_POLL_NS, self._port_watch, sk)

    def _port_watch(self, sk: TcpSocket) -> None:
        """While connected, look at the ports' carriers as netdev-linux's netlink socket would
        hear of them (a peer's carrier changes in another namespace, unannounced here)."""
        if sk is self.sock and self.connected:
            self.vsd.port_status_run()
            self.xb.ofproto.expire()        # ofproto_run's rule expiry: FLOW_REMOVED goes out on time
            self.vsd.after(PORT_POLL_NS, self._port_watch, sk)

    def _on_lost(self, sk: TcpSocket) -> None:
        if sk is not self.sock:
            return
        self.sock = None
        if self.connected:
            self._set_connected(False)
        if not self.closed:
            self.vsd.after(self.backoff, self.connect)
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_NS)

    def send(self, data: bytes) -> None:
        if self.sock is not None:
            self.sock.send(data)

    # -- handle_openflow ------------------------------------------------------
    def _on_data(self, sk: TcpSocket, data: bytes) -> None:
        for mtype, xid, body in self.reader.feed(data):
            self.handle(mtype, xid, body)

    def handle(self, mtype: int, xid: int, body: bytes) -> None:
        xb = self.xb
        if mtype == OFPT["ECHO_REQUEST"]:
            self.send(encode("ECHO_REPLY", xid, body))
        elif mtype == OFPT["FEATURES_REQUEST"]:
            self.send(features_reply(xid, xb.datapath_id, 254))
        elif mtype == OFPT["BARRIER_REQUEST"]:
            self.send(encode("BARRIER_REPLY", xid))
        elif mtype == OFPT["GET_CONFIG_REQUEST"]:
            self.send(encode("GET_CONFIG_REPLY", xid, b"\x00\x00\xff\xff"))
        elif mtype == OFPT["MULTIPART_REQUEST"]:
            self.multipart(xid, body)
        elif mtype == OFPT["ROLE_REQUEST"]:
            try:
                self.send(encode("ROLE_REPLY", xid, role_request(self, xb.channels.values(), xb.election, body)))
            except RoleError as e:
                self.send(error_msg(xid, e.err[0], e.err[1], encode_raw(mtype, xid, body)))
        elif self.role == OFPCR_ROLE_SLAVE and mtype in _SLAVE_REFUSED:     # reject_slave_controller
            self.send(error_msg(xid, OFPET_BAD_REQUEST, OFPBRC_IS_SLAVE, encode_raw(mtype, xid, body)))
        elif mtype == OFPT["SET_CONFIG"]:
            pass                # flags and miss_send_len: netplex sends whole packets
        elif mtype == OFPT["FLOW_MOD"]:
            fm = FlowModMsg.decode(body)
            err = fm.error or self.flow_mod(fm)
            if err is not None:     # refused as a whole, nothing changed (ofconn's OFPT_ERROR)
                self.send(error_msg(xid, err[0], err[1], encode_raw(mtype, xid, body)))
        elif mtype in (OFPT["GROUP_MOD"], OFPT["METER_MOD"]):
            err = self.group_mod(body) if mtype == OFPT["GROUP_MOD"] else self.meter_mod(body)
            if err is not None:
                self.send(error_msg(xid, err[0], err[1], encode_raw(mtype, xid, body)))
            else:
                self.vsd.ns.config_changed()
        elif mtype == OFPT["QUEUE_GET_CONFIG_REQUEST"] and len(body) >= 4:
            port = struct.unpack_from("!I", body, 0)[0]
            queues = self.queues(port)
            if queues is None:
                self.send(error_msg(xid, OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT, encode_raw(mtype, xid, body)))
            else:
                self.send(encode("QUEUE_GET_CONFIG_REPLY", xid, encode_queue_config(port, queues)))
        elif mtype == OFPT["PACKET_OUT"]:
            po = PacketOut.decode(body)
            decoded, err = PacketOut.decode_acts(body)
            if err is not None:
                self.send(error_msg(xid, err[0], err[1], encode_raw(mtype, xid, body)))
                return
            try:
                frame = Ethernet.decode(po.data)
            except ValueError:
                return
            in_port = po.in_port & 0xFFFF if po.in_port >= 0xFFFFFF00 else po.in_port
            self.run_packet_out(self.vsd, xb, in_port, frame, of_acts(decoded))
        elif mtype == OFPT["PORT_MOD"] and len(body) >= 32:
            refused = self.port_mod(body)
            if refused is not None:
                self.send(error_msg(xid, OFPET_PORT_MOD_FAILED, refused, encode_raw(mtype, xid, body)))
        elif mtype == OFPT["EXPERIMENTER"] and len(body) >= 4 and body[:4] != bytes(4):
            # ofpraw_from_ofphdrs: an experimenter message it has no decoder for (netplex has none)
            self.send(error_msg(xid, OFPET_BAD_REQUEST, OFPBRC_BAD_SUBTYPE, encode_raw(mtype, xid, body)))
        elif mtype not in (OFPT["HELLO"], OFPT["ECHO_REPLY"], OFPT["ERROR"]):
            self.send(error_msg(xid, OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE, encode_raw(mtype, xid, body)))

    def multipart(self, xid: int, body: bytes) -> None:
        """handle_*_stats_request: the reply (parts of at most 64 KiB), or OFPBRC_BAD_MULTIPART."""
        mp_type = int.from_bytes(body[:2], "big")
        req = body[8:]
        xb, now = self.xb, self.vsd.now()
        entries: list[bytes]
        if mp_type == OFPMP_DESC:
            entries = [desc_stats(MFR_DESC, HW_DESC, SW_DESC, "None", "None")]
        elif mp_type in (OFPMP_FLOW, OFPMP_AGGREGATE):
            q = FlowStatsRequest.decode(req)
            fm = FlowMod(Match(dict(q.match)), [], None if q.table_id == 0xFF else q.table_id, 0, q.cookie,
                         q.cookie_mask)
            if q.out_port != OFPP_ANY:
                fm.out_port = q.out_port & 0xFFFF if q.out_port >= 0xFFFFFF00 else q.out_port
            rules = xb.ofproto.rules_matching(fm)
            if mp_type == OFPMP_AGGREGATE:
                entries = [struct.pack("!QQI4x", sum(r.n_packets for r in rules), sum(r.n_bytes for r in rules),
                                       len(rules))]
            else:
                entries = []
                for r in rules:
                    meter = next((a.a for a in r.actions if a.kind == "meter"), None)
                    acts = [a for a in r.actions if a.kind != "meter"] if meter is not None else r.actions
                    outputs, goto = of_outputs(acts)
                    whole = of_action_list(acts)
                    flags = 1 if "send_flow_rem" in r.flags else 0
                    write, clear = of_action_set(acts) if whole is not None else (None, False)
                    entries.append(flow_stats_entry(r.table, now - r.created, r.priority, r.idle_timeout,
                                                    r.hard_timeout, flags, r.cookie, r.n_packets, r.n_bytes,
                                                    r.match.fields, outputs, goto if whole is None else whole[1],
                                                    None if whole is None else whole[0],
                                                    None if whole is None else whole[2], meter, write, clear))
        elif mp_type == OFPMP_PORT_STATS:
            want = struct.unpack_from("!I", req, 0)[0] if len(req) >= 4 else OFPP_ANY
            entries = []
            for p in sorted(xb.ports.values(), key=lambda p: p.ofport):
                desc = port_desc(xb, p)
                if want not in (OFPP_ANY, desc.port_no):
                    continue
                c = p.counters()
                entries.append(port_stats_entry(desc.port_no, (c[0], c[1], c[2]), (c[3], c[4], c[5]),
                                                now - self.born))
        elif mp_type == OFPMP_PORT_DESC:
            entries = [port_desc(xb, p).encode() for p in sorted(xb.ports.values(), key=lambda p: p.ofport)]
        elif mp_type == OFPMP_TABLE:        # ofp_table_stats of every table OVS shows (query_tables' counts)
            ofp = xb.ofproto
            entries = [table_stats_entry(t, len(ofp.tables[t]), ofp.lookups[t], ofp.matched[t])
                       for t in range(len(ofp.tables))]
        elif mp_type in _GMQ_STATS:
            got = self.gmq_stats(mp_type, req, now)
            if isinstance(got, tuple):
                self.send(error_msg(xid, got[0], got[1], encode_raw(OFPT["MULTIPART_REQUEST"], xid, body)))
                return
            entries = got
        else:
            self.send(error_msg(xid, OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART,
                                encode_raw(OFPT["MULTIPART_REQUEST"], xid, body)))
            return
        for msg in multipart_replies(xid, mp_type, entries):
            self.send(msg)

    # -- groups, meters, queues (ofproto.c handle_group_mod, handle_meter_mod, handle_group_request,
    # handle_meter_request, handle_queue_stats_request, handle_queue_get_config_request) ----------
    def group_mod(self, body: bytes) -> tuple[int, int] | None:
        """OFPT_GROUP_MOD; the error (type, code) it is refused with, or None."""
        msg, err = GroupDesc.decode_mod(body)
        if err is not None:
            return err
        ofp = self.xb.ofproto
        if msg.command == OFPGC_DELETE:
            ofp.delete_group(0xFFFFFFFF if msg.group_id == OFPG_ALL else msg.group_id)
            return None
        if msg.command not in (OFPGC_ADD, OFPGC_MODIFY):
            return OFPET_GROUP_MOD_FAILED, OFPGMFC_BAD_COMMAND
        if msg.type not in _GROUP_TYPE_NAMES:
            return OFPET_GROUP_MOD_FAILED, OFPGMFC_BAD_TYPE
        if msg.group_id > OFPG_MAX:
            return OFPET_GROUP_MOD_FAILED, OFPGMFC_INVALID_GROUP
        buckets = [Bucket(i, of_acts(b.actions), b.weight, _port16(b.watch_port), b.watch_group)
                   for i, b in enumerate(msg.buckets)]
        if msg.type == OFPGT_INDIRECT and len(buckets) != 1:
            return OFPET_GROUP_MOD_FAILED, OFPGMFC_INVALID_GROUP
        g = Group(msg.group_id, _GROUP_TYPE_NAMES[msg.type], buckets)
        try:
            ofp.check_groups([a for b in buckets for a in b.actions if a.kind != "group"])
            (ofp.add_group if msg.command == OFPGC_ADD else ofp.modify_group)(g)
        except GroupModError as e:
            return _MOD_ERRORS.get(e.message, (OFPET_BAD_ACTION, OFPBAC_BAD_OUT_GROUP))
        return None

    def meter_mod(self, body: bytes) -> tuple[int, int] | None:
        """OFPT_METER_MOD (drop bands only, as OVS's datapaths have); the error it is refused with, or None."""
        msg = MeterConfig.decode_mod(body)
        ofp = self.xb.ofproto
        if msg.command == OFPMC_DELETE:
            ofp.delete_meter(msg.meter_id)
            return None
        if msg.command not in (OFPMC_ADD, OFPMC_MODIFY):
            return OFPET_METER_MOD_FAILED, OFPMMFC_BAD_COMMAND
        if not 0 < msg.meter_id <= METER_FEATURES_OVS.max_meter:
            return OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER
        if msg.flags & (OFPMF_KBPS | OFPMF_PKTPS) == OFPMF_KBPS | OFPMF_PKTPS:
            return OFPET_METER_MOD_FAILED, OFPMMFC_BAD_FLAGS
        if any(b.type != OFPMBT_DROP or not b.rate for b in msg.bands) or not msg.bands:
            return OFPET_METER_MOD_FAILED, OFPMMFC_BAD_BAND
        m = Meter(msg.meter_id, bool(msg.flags & OFPMF_KBPS), bool(msg.flags & OFPMF_BURST),
                  bool(msg.flags & OFPMF_STATS), [Band(b.rate, b.burst_size) for b in msg.bands])
        try:
            (ofp.add_meter if msg.command == OFPMC_ADD else ofp.modify_meter)(m)
        except GroupModError as e:
            return _MOD_ERRORS.get(e.message, (OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER))
        return None

    def port_mod(self, body: bytes) -> int | None:
        """OFPT_PORT_MOD (handle_port_mod, port_mod_start): the port and its address must be the
        bridge's (OFPPMFC_BAD_PORT, OFPPMFC_BAD_HW_ADDR); OFPPC_PORT_DOWN under the mask turns
        the port down or up as `ovs-ofctl mod-port` does; the other config bits (NO_RECV, NO_FWD,
        NO_FLOOD, NO_PACKET_IN), which netplex's switch does not keep, are refused whole with
        OFPPMFC_BAD_CONFIG; `advertise` is left alone (a veth takes none)."""
        port_no, hw_addr, config, mask, _advertise = decode_port_mod(body)
        p = self.xb.ports.get(port_no & 0xFFFF if port_no >= 0xFFFFFF00 else port_no)
        if p is None or port_no == OFPP_ANY:
            return OFPPMFC_BAD_PORT
        if hw_addr != port_desc(self.xb, p).hw_addr:
            return OFPPMFC_BAD_HW_ADDR
        if mask & ~OFPPC_PORT_DOWN:
            return OFPPMFC_BAD_CONFIG
        if mask & OFPPC_PORT_DOWN:
            self.vsd.port_mod(self.xb, p, not config & OFPPC_PORT_DOWN)
            self.vsd.ns.config_changed()
        return None

    def queues(self, port_no: int) -> list[tuple[int, int]] | None:
        """(OpenFlow port, queue id) of each queue (queuestats.bridge_queues)."""
        return bridge_queues(self.xb, port_no)

    def gmq_stats(self, mp_type: int, req: bytes, now: int) -> list[bytes] | tuple[int, int]:
        """The entries of a group, meter or queue statistics reply, or the error (type, code)."""
        ofp = self.xb.ofproto
        want = struct.unpack_from("!I", req, 0)[0] if len(req) >= 4 else 0xFFFFFFFF
        if mp_type == OFPMP_GROUP_FEATURES:
            return [GROUP_FEATURES_OVS.encode()]
        if mp_type == OFPMP_METER_FEATURES:
            return [METER_FEATURES_OVS.encode()]
        if mp_type in (OFPMP_GROUP, OFPMP_GROUP_DESC):
            groups = [g for gid, g in sorted(ofp.groups.items())
                      if mp_type == OFPMP_GROUP_DESC or want in (OFPG_ALL, gid)]
            if mp_type == OFPMP_GROUP_DESC:
                return [GroupDesc(0, _GROUP_TYPES[g.type], g.group_id, [
                    OfBucket(b.weight, _port32(b.watch_port), b.watch_group, _bucket_actions(b.actions))
                    for b in g.buckets]).encode_desc() for g in groups]
            return [GroupStats(g.group_id, self._refs("group", g.group_id), g.packets, g.bytes,
                               (now - g.created) // NS, (now - g.created) % NS,
                               [(b.packets, b.bytes) for b in g.buckets]).encode() for g in groups]
        if mp_type in (OFPMP_METER, OFPMP_METER_CONFIG):
            meters = [m for mid, m in sorted(ofp.meters.items()) if want in (OFPM_ALL, mid)]
            if mp_type == OFPMP_METER_CONFIG:
                return [MeterConfig(0, (OFPMF_KBPS if m.kbps else OFPMF_PKTPS) | (OFPMF_BURST if m.burst else 0)
                                    | (OFPMF_STATS if m.stats else 0), m.meter_id,
                                    [MeterBand(OFPMBT_DROP, b.rate, b.burst_size) for b in m.bands]).encode_config()
                        for m in meters]
            return [MeterStats(m.meter_id, self._refs("meter", m.meter_id), m.packets, m.bytes,
                               (now - m.created) // NS, (now - m.created) % NS,
                               [(b.packets, b.bytes) for b in m.bands]).encode() for m in meters]
        # OFPMP_QUEUE: port and queue_id; a port or queue asked for that is not there is an error
        got = queue_stats(self.xb, want, struct.unpack_from("!I", req, 4)[0] if len(req) >= 8 else OFPQ_ALL)
        return got if isinstance(got, tuple) else [queue_stats_entry(q) for q in got]

    def _refs(self, kind: str, obj_id: int) -> int:
        """The flows whose actions use a group or meter: a group's ref_count, a meter's flow_count."""
        return sum(1 for t in self.xb.ofproto.tables for r in t
                   if any(a.kind == kind and a.a == obj_id for a in r.actions))

    def flow_removed(self, rule: Rule, reason: int) -> None:
        """OFPT_FLOW_REMOVED for a rule with send_flow_rem that timed out or was deleted (ofproto_rule_send_removed)."""
        if self.connected and "send_flow_rem" in rule.flags and self.role != OFPCR_ROLE_SLAVE:
            self.send(flow_removed(0, rule.cookie, rule.priority, reason, rule.table, self.vsd.now() - rule.created,
                                   rule.idle_timeout, rule.hard_timeout, rule.n_packets, rule.n_bytes,
                                   rule.match.fields))

    def port_status(self, reason: int, desc: PortDesc) -> None:
        """OFPT_PORT_STATUS to a connected controller (connmgr_send_port_status)."""
        if self.connected:
            self.send(port_status(0, reason, desc))

    def flow_mod(self, msg: FlowModMsg) -> tuple[int, int] | None:
        """handle_flow_mod in OpenFlow 1.3's terms; the error (type, code) it refuses with, or None."""
        match = Match(dict(msg.match))
        table = None if msg.table_id == 0xFF else msg.table_id
        acts = of_acts(msg.acts, msg.goto_table, msg.metadata, msg.meter, msg.write, msg.clear)
        try:
            self.xb.ofproto.check_groups(acts)
        except GroupModError as e:      # ofproto_check_ofpacts: OFPBAC_BAD_OUT_GROUP, OFPMMFC_INVALID_METER
            return _MOD_ERRORS.get(e.message, (OFPET_BAD_ACTION, OFPBAC_BAD_OUT_GROUP))
        fm = FlowMod(match, acts, table, msg.priority, msg.cookie,
                     msg.cookie_mask, msg.idle_timeout, msg.hard_timeout,
                     flags={"send_flow_rem"} if msg.flags & OFPFF_SEND_FLOW_REM else set())
        if msg.out_port != 0xFFFFFFFF:
            fm.out_port = msg.out_port & 0xFFFF if msg.out_port >= 0xFFFFFF00 else msg.out_port
        ofp = self.xb.ofproto
        if msg.command == OFPFC_ADD:
            fm.table = fm.table or 0
            ofp.add(fm, of13=True)
        elif msg.command in (OFPFC_DELETE, OFPFC_DELETE_STRICT):
            ofp.delete(fm, msg.command == OFPFC_DELETE_STRICT)
        else:
            ofp.modify(fm, msg.command == OFPFC_MODIFY_STRICT, of13=True)
        self.vsd.ns.config_changed()
        return None

    def packet_in(self, frame: Ethernet, in_port: int, table: int, cookie: int, max_len: int) -> None:
        """A `controller` action's packet: OFPT_PACKET_IN (reason OFPR_ACTION), unbuffered."""
        if not self.connected or self.role == OFPCR_ROLE_SLAVE:     # a slave's async config has no PACKET_IN
            return
        data = frame.encode()
        self.n_packet_in += 1
        pin = PacketIn(0xFFFFFFFF, len(data), 1, table, cookie,
                       {"in_port": (in_port, 0xFFFF)},
                       data[:max_len] if max_len < len(data) else data)
        self.send(pin.encode(0))
