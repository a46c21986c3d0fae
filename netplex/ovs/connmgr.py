"""A bridge's OpenFlow channel to its controllers (ofproto/connmgr.c, lib/rconn.c,
ofproto/ofproto.c handle_openflow) over the simulated TCP of the switch's namespace.

`set-controller br0 tcp:IP:PORT` makes ovs-vswitchd connect to IP:PORT and speak
OpenFlow 1.3 (`openflow.py`): HELLO, answers FEATURES_REQUEST, ECHO_REQUEST,
BARRIER_REQUEST, applies FLOW_MOD and PACKET_OUT, and sends PACKET_IN for the
packets a `controller` action gives it. A refused or lost connection is retried
after 1, 2, 4, then every 8 s (rconn's backoff). While connected the Controller
row says `is_connected: true`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netplex.ovs.actions import Act
from netplex.ovs.flow import Match
from netplex.ovs.ofproto import FlowMod
from netplex.ovs.openflow import (
    OFPFC_ADD,
    OFPFC_DELETE,
    OFPFC_DELETE_STRICT,
    OFPFC_MODIFY_STRICT,
    OFPT,
    FlowModMsg,
    PacketIn,
    PacketOut,
    Reader,
    encode,
    features_reply,
)
from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import Ethernet
from netplex.stack.tcp import TcpSocket

if TYPE_CHECKING:
    from netplex.ovs.vswitchd import OvsVswitchd, XBridge

__all__ = ["OfChannel", "of_actions"]

MAX_BACKOFF_NS = 8_000_000_000
_RESERVED = {0xFFFFFFFD: "controller", 0xFFFFFFFB: "flood", 0xFFFFFFFC: "all", 0xFFFFFFFA: "normal",
             0xFFFFFFF8: "in_port"}


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
        self.where = parse_inet_target(target, passive=False)
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
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._set_connected(False)

    def _set_connected(self, on: bool) -> None:
        self.connected = on
        self.vsd.controller_status(self.xb, self.target, on)

    def _on_connect(self, sk: TcpSocket) -> None:
        self.backoff = 1_000_000_000
        self._set_connected(True)
        self.send(encode("HELLO", self.next_xid()))

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
        elif mtype == OFPT["FLOW_MOD"]:
            self.flow_mod(FlowModMsg.decode(body))
        elif mtype == OFPT["PACKET_OUT"]:
            po = PacketOut.decode(body)
            try:
                frame = Ethernet.decode(po.data)
            except ValueError:
                return
            in_port = po.in_port & 0xFFFF if po.in_port >= 0xFFFFFF00 else po.in_port
            self.run_packet_out(self.vsd, xb, in_port, frame, of_actions(po.actions))

    def flow_mod(self, msg: FlowModMsg) -> None:
        """handle_flow_mod in OpenFlow 1.3's terms."""
        match = Match(dict(msg.match))
        table = None if msg.table_id == 0xFF else msg.table_id
        fm = FlowMod(match, of_actions(msg.actions, msg.goto_table), table, msg.priority, msg.cookie,
                     msg.cookie_mask, msg.idle_timeout, msg.hard_timeout)
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

    def packet_in(self, frame: Ethernet, in_port: int, table: int, cookie: int, max_len: int) -> None:
        """A `controller` action's packet: OFPT_PACKET_IN (reason OFPR_ACTION), unbuffered."""
        if not self.connected:
            return
        data = frame.encode()
        self.n_packet_in += 1
        pin = PacketIn(0xFFFFFFFF, len(data), 1, table, cookie,
                       {"in_port": (in_port, 0xFFFF)},
                       data[:max_len] if max_len < len(data) else data)
        self.send(pin.encode(0))
