"""netplex's OpenFlow controller applications: an API shaped like os-ken's (os_ken/base/app_manager.py,
os_ken/controller/{controller,ofp_event,handler}.py, os_ken/topology/event.py), the runtime that
speaks OpenFlow 1.3 (`openflow.py`'s wire bytes) to the switches, and nothing of the transport.

An application is a class with handlers tagged by the event they take:

    class Hub(App):
        @on(SwitchFeatures)
        def features(self, ev: SwitchFeatures) -> None:
            ev.dp.send_flow_mod(match(), [output(OFPP_CONTROLLER, OFPCML_NO_BUFFER)], priority=0)

        @on(PacketIn)
        def packet_in(self, ev: PacketIn) -> None:
            ev.dp.send_packet_out(ev.in_port, [output(OFPP_FLOOD)], ev.data)

Events: `SwitchFeatures` (the FEATURES_REPLY: os-ken's EventOFPSwitchFeatures, where apps install
their table-miss flow), `SwitchEnter` / `SwitchLeave` (topology's, once the switch's ports are
known / when its connection is gone), `PacketIn`, `PortStatus`, `FlowRemoved`, `ErrorMsg`. A
`Datapath` is one switch: `send_flow_mod`, `send_packet_out`, `send_barrier`, and the statistics
requests `request_desc`, `request_flow_stats`, `request_aggregate`, `request_port_stats`,
`request_port_desc`, whose replies (all parts of a multipart reply) go to a callback, or None
when the switch answered with an error or the connection went first.

`Runtime` holds the applications and the switches. What carries the bytes is a `Host`: the
simulated node's TCP (`netplex/ovs/controller.py`) or real sockets (`ofapp_real.py`, the kernel
twin); the runtime only sees `Stream`s it writes to and is fed from.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from netplex.errors import NetplexError
from netplex.ovs.ofp_gmq import GroupDesc, MeterConfig
from netplex.ovs.ofrole import OFPCR_ROLE_NOCHANGE, encode_role
from netplex.ovs.openflow import (
    OFP_NO_BUFFER,
    OFPCML_NO_BUFFER,
    OFPFC_ADD,
    OFPFC_DELETE,
    OFPFC_DELETE_STRICT,
    OFPFC_MODIFY,
    OFPFC_MODIFY_STRICT,
    OFPMP_AGGREGATE,
    OFPMP_DESC,
    OFPMP_FLOW,
    OFPMP_PORT_DESC,
    OFPMP_PORT_STATS,
    OFPMPF_REPLY_MORE,
    OFPP_ANY,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    OFPT,
    OXM_FIELDS,
    FlowModMsg,
    FlowStats,
    FlowStatsRequest,
    PortDesc,
    PortStats,
    Reader,
    decode_flow_stats,
    decode_match,
    decode_port_stats,
    encode,
    encode_action_list,
    encode_port_mod,
)
from netplex.ovs.openflow import PacketIn as PacketInMsg
from netplex.packet.addr import ip_to_int

__all__ = ["OFPCML_NO_BUFFER", "OFPP_CONTROLLER", "OFPP_FLOOD", "App", "AppError", "Datapath", "ErrorMsg",
           "Event", "FlowRemoved", "Host", "PacketIn", "PortStatus", "Runtime", "Stream", "SwitchEnter",
           "SwitchFeatures", "SwitchLeave", "dec_nw_ttl", "group", "match", "on", "output", "pop_vlan",
           "push_vlan", "set_field", "set_queue"]

OFPTT_ALL = 0xFF
ECHO_INTERVAL_NS = 5_000_000_000
Action = tuple[str, int, int]
Fields = dict[str, tuple[int, int]]


class AppError(NetplexError):
    """A match or action an application (or a REST request) asked for that OpenFlow 1.3 cannot
    say; the message names it."""


# -- the match and action vocabulary: os-ken's OFPMatch(**kw) and OFPAction* names ---------------
# OXM name (os-ken's) → the switch's match key, its width in bits
_OXM: dict[str, tuple[str, int]] = {
    "in_port": ("in_port", 32), "eth_dst": ("dl_dst", 48), "eth_src": ("dl_src", 48),
    "eth_type": ("dl_type", 16), "vlan_vid": ("vlan_tci", 13), "ip_dscp": ("nw_tos", 6),
    "ip_proto": ("nw_proto", 8), "ipv4_src": ("nw_src", 32), "ipv4_dst": ("nw_dst", 32),
    "tcp_src": ("tp_src", 16), "tcp_dst": ("tp_dst", 16), "udp_src": ("tp_src", 16), "udp_dst": ("tp_dst", 16),
    "icmpv4_type": ("tp_src", 8), "icmpv4_code": ("tp_dst", 8), "arp_op": ("nw_proto", 16),
    "arp_spa": ("nw_src", 32), "arp_tpa": ("nw_dst", 32),
}
# os-ken's OFPMatch and OVS put the OXM fields in the order of their numbers (§7.2.3.7)
_OXM_ORDER = {"in_port": 0, "eth_dst": 3, "eth_src": 4, "eth_type": 5, "vlan_vid": 6, "ip_dscp": 8, "ip_proto": 10,
              "ipv4_src": 11, "ipv4_dst": 12, "tcp_src": 13, "tcp_dst": 14, "udp_src": 15, "udp_dst": 16,
              "icmpv4_type": 19, "icmpv4_code": 20, "arp_op": 21, "arp_spa": 22, "arp_tpa": 23}
# the OXM number a set_field writes (openflow.SET_FIELDS)
_SET_FIELD_OXM = {"eth_dst": 3, "eth_src": 4, "ipv4_src": 11, "ipv4_dst": 12, "tcp_src": 13, "tcp_dst": 14,
                  "udp_src": 15, "udp_dst": 16}
OFPVID_PRESENT = 0x1000


def _value(name: str, value: Any, width: int) -> int:
    """A field's value as os-ken takes it: an int, a MAC "aa:bb:..", an IPv4 address."""
    if isinstance(value, bool):
        raise AppError(f"{name}: {value!r}")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and width == 48 and value.count(":") == 5:
        try:
            n = int(value.replace(":", ""), 16)
        except ValueError:
            raise AppError(f"{name}: {value!r}") from None
    elif isinstance(value, str) and width == 32 and name != "in_port" and "." in value:
        try:
            n = ip_to_int(value)
        except ValueError:
            raise AppError(f"{name}: {value!r}") from None
    elif isinstance(value, str):
        try:
            n = int(value, 0)
        except ValueError:
            raise AppError(f"{name}: {value!r}") from None
    else:
        raise AppError(f"{name}: {value!r}")
    if not 0 <= n < 1 << width:
        raise AppError(f"{name}: {value!r} out of range")
    return n


def match(**kw: Any) -> Fields:
    """OFPMatch(**kw): OXM fields by os-ken's names; a value or (value, mask); `vlan_vid` as
    OpenFlow 1.3 has it (OFPVID_PRESENT | vid). Returns the switch's match fields."""
    out: Fields = {}
    for name, spec in sorted(kw.items(), key=lambda kv: _OXM_ORDER.get(kv[0], 0)):     # OXM order, as on the wire
        known = _OXM.get(name)
        if known is None:
            raise AppError(f"unknown match field {name}")
        key, width = known
        if name == "in_port":
            width = 32
        raw, raw_mask = spec if isinstance(spec, tuple) else (spec, None)
        value = _value(name, raw, width if name != "vlan_vid" else 13)
        full = (1 << width) - 1
        mask = full if raw_mask is None else _value(name, raw_mask, width if name != "vlan_vid" else 13)
        if name == "in_port":
            value, mask = (value & 0xFFFF if value >= 0xFFFFFF00 else value), 0xFFFF
        elif name == "ip_dscp":
            value, mask = value << 2, (mask << 2) & 0xFC
        elif name == "vlan_vid":
            value, mask = value & 0x1FFF, mask & 0x1FFF
        elif name.startswith("icmpv4") and mask == full:
            mask = 0xFFFF           # the switch keeps ICMP's type and code in the 16-bit tp_src/tp_dst
        out[key] = (value & mask, mask)
    return out


def output(port: int, max_len: int = 0) -> Action:
    """OFPActionOutput(port, max_len)."""
    return ("output", port, max_len)


def set_field(**kw: Any) -> Action:
    """OFPActionSetField(name=value): Ethernet and IPv4 addresses, TCP/UDP ports."""
    if len(kw) != 1:
        raise AppError("set_field takes one field")
    (name, value), = kw.items()
    num = _SET_FIELD_OXM.get(name)
    if num is None:
        raise AppError(f"set_field {name} is not supported")
    return ("set_field", num, _value(name, value, 8 * OXM_FIELDS[num][1]))


def push_vlan(ethertype: int = 0x8100) -> Action:
    return ("push_vlan", ethertype, 0)


def pop_vlan() -> Action:
    return ("pop_vlan", 0, 0)


def dec_nw_ttl() -> Action:
    return ("dec_ttl", 0, 0)


def group(group_id: int) -> Action:
    return ("group", group_id, 0)


def set_queue(queue_id: int) -> Action:
    return ("set_queue", queue_id, 0)


# -- events -------------------------------------------------------------------------------------
class Event:
    """What a handler receives; `dp` is the switch it came from."""

    dp: Datapath


@dataclass(slots=True)
class SwitchFeatures(Event):
    """OFPT_FEATURES_REPLY (EventOFPSwitchFeatures)."""

    dp: Datapath
    datapath_id: int
    n_tables: int
    capabilities: int


@dataclass(slots=True)
class SwitchEnter(Event):
    """topology's EventSwitchEnter: the switch is connected and its ports are known (`dp.ports`)."""

    dp: Datapath


@dataclass(slots=True)
class SwitchLeave(Event):
    """topology's EventSwitchLeave: the switch's connection is gone."""

    dp: Datapath


@dataclass(slots=True)
class PacketIn(Event):
    """OFPT_PACKET_IN (EventOFPPacketIn); `in_port` from its match."""

    dp: Datapath
    buffer_id: int
    total_len: int
    reason: int
    table_id: int
    cookie: int
    match: Fields
    data: bytes

    @property
    def in_port(self) -> int:
        return self.match.get("in_port", (0, 0))[0]


@dataclass(slots=True)
class PortStatus(Event):
    """OFPT_PORT_STATUS (EventOFPPortStatus): reason OFPPR_ADD 0, DELETE 1, MODIFY 2."""

    dp: Datapath
    reason: int
    port: PortDesc


@dataclass(slots=True)
class FlowRemoved(Event):
    """OFPT_FLOW_REMOVED (EventOFPFlowRemoved, §7.4.2), for flows added with OFPFF_SEND_FLOW_REM."""

    dp: Datapath
    cookie: int
    priority: int
    reason: int
    table_id: int
    duration_sec: int
    duration_nsec: int
    idle_timeout: int
    hard_timeout: int
    packet_count: int
    byte_count: int
    match: Fields


@dataclass(slots=True)
class ErrorMsg(Event):
    """OFPT_ERROR (EventOFPErrorMsg): type, code and the start of the refused request."""

    dp: Datapath
    type: int
    code: int
    data: bytes


class _Handler:
    """A method tagged by `@on`: found by `App.__init_subclass__` in the class's namespace."""

    def __init__(self, fn: Callable[..., None], events: tuple[type[Event], ...]) -> None:
        self.fn = fn
        self.events = events

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self.fn if obj is None else self.fn.__get__(obj, owner)


def on(*events: type[Event]) -> Callable[[Callable[..., None]], Any]:
    """`@on(PacketIn)`: the method handles these events (os-ken's @set_ev_cls)."""
    def tag(fn: Callable[..., None]) -> Any:
        return _Handler(fn, events)
    return tag


class App:
    """An application (os-ken's RyuApp). `start()` runs once the runtime has it (before any switch);
    `self.runtime` gives the switches (`datapaths`), the host's clock, timers and log."""

    handlers: dict[type[Event], list[Callable[..., None]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        table: dict[type[Event], list[Callable[..., None]]] = {k: list(v) for k, v in cls.handlers.items()}
        for value in cls.__dict__.values():
            if isinstance(value, _Handler):
                for ev in value.events:
                    table.setdefault(ev, []).append(value.fn)
        cls.handlers = table

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def start(self) -> None:
        """The application's own set-up (a REST app opens its HTTP port here)."""

    def log(self, text: str) -> None:
        self.runtime.host.log(text)


# -- the transport seam -------------------------------------------------------------------------
class Stream(Protocol):
    """One byte stream (a TCP connection) the runtime writes to."""

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class Receiver(Protocol):
    """What a host feeds a stream's bytes and its end to."""

    def data(self, data: bytes) -> None: ...

    def closed(self) -> None: ...


class Host(Protocol):
    """What runs the runtime: the simulated node or a real process."""

    def now(self) -> int: ...

    def call_later(self, delay_ns: int, fn: Callable[..., None], *args: Any) -> None: ...

    def serve_tcp(self, addr: int, port: int, accept: Callable[[Stream], Receiver]) -> str | None: ...

    def log(self, text: str) -> None: ...


# -- a switch ------------------------------------------------------------------------------------
Reply = Callable[[list[bytes] | None], None]


class Datapath:
    """One connected switch (os-ken's controller.Datapath): its id, ports, and what to send it."""

    def __init__(self, conn: _OfConn) -> None:
        self.conn = conn
        self.id = 0
        self.n_tables = 0
        self.ports: dict[int, PortDesc] = {}
        self.connected = True

    def send_msg(self, data: bytes) -> None:
        if self.connected:
            self.conn.stream.send(data)

    def next_xid(self) -> int:
        self.conn.xid = (self.conn.xid + 1) & 0xFFFFFFFF
        return self.conn.xid

    def send_flow_mod(self, match: Fields, actions: list[Action], priority: int = 0x8000, *,
                      command: int = OFPFC_ADD, table_id: int = 0, idle_timeout: int = 0,
                      hard_timeout: int = 0, cookie: int = 0, cookie_mask: int = 0, flags: int = 0,
                      buffer_id: int = OFP_NO_BUFFER, out_port: int = OFPP_ANY, goto_table: int | None = None,
                      metadata: tuple[int, int] | None = None, meter: int | None = None,
                      order: tuple[str, ...] = ()) -> int:
        """OFPT_FLOW_MOD with an APPLY_ACTIONS of `actions` (none: a drop), WRITE_METADATA,
        GOTO_TABLE and METER (in `order`: openflow.encode_instructions); returns its xid."""
        if command not in (OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFC_DELETE, OFPFC_DELETE_STRICT):
            raise AppError(f"flow_mod command {command}")
        fm = FlowModMsg(command, match, [], table_id, priority, idle_timeout, hard_timeout, cookie, cookie_mask,
                        buffer_id, out_port, flags, goto_table, list(actions), metadata, meter=meter, order=order)
        xid = self.next_xid()
        self.send_msg(fm.encode(xid))
        return xid

    def send_packet_out(self, in_port: int, actions: list[Action], data: bytes = b"",
                        buffer_id: int = OFP_NO_BUFFER) -> None:
        """OFPT_PACKET_OUT (§7.3.7): the packet (or a switch buffer) through `actions`."""
        acts = encode_action_list(actions)
        port = in_port | 0xFFFF0000 if 0xFF00 <= in_port <= 0xFFFF else in_port
        body = struct.pack("!IIH6x", buffer_id, port, len(acts)) + acts + (data if buffer_id == OFP_NO_BUFFER
                                                                             else b"")
        self.send_msg(encode("PACKET_OUT", self.next_xid(), body))

    def send_barrier(self, done: Callable[[], None] | None = None) -> None:
        """OFPT_BARRIER_REQUEST; `done()` when the switch has answered."""
        xid = self.next_xid()
        if done is not None:
            self.conn.barriers[xid] = done
        self.send_msg(encode("BARRIER_REQUEST", xid))

    def _multipart(self, mp_type: int, body: bytes, reply: Reply) -> None:
        xid = self.next_xid()
        self.conn.pending[xid] = (reply, [])
        self.send_msg(encode("MULTIPART_REQUEST", xid, struct.pack("!HH4x", mp_type, 0) + body))

    def request_desc(self, reply: Callable[[dict[str, str] | None], None]) -> None:
        """OFPMP_DESC: mfr_desc, hw_desc, sw_desc, serial_num, dp_desc."""
        def got(parts: list[bytes] | None) -> None:
            if not parts or len(parts[0]) < 1056:
                reply(None)
                return
            b = parts[0]
            cut = ((0, 256), (256, 512), (512, 768), (768, 800), (800, 1056))
            names = ("mfr_desc", "hw_desc", "sw_desc", "serial_num", "dp_desc")
            reply({n: b[a:z].split(b"\x00", 1)[0].decode("utf-8", "replace") for n, (a, z) in zip(names, cut)})
        self._multipart(OFPMP_DESC, b"", got)

    def request_flow_stats(self, reply: Callable[[list[FlowStats] | None], None], match: Fields | None = None,
                           table_id: int = OFPTT_ALL, out_port: int = OFPP_ANY, cookie: int = 0,
                           cookie_mask: int = 0) -> None:
        """OFPMP_FLOW: the flows matching (non-strictly) `match` in `table_id`."""
        q = FlowStatsRequest(table_id, out_port, cookie, cookie_mask, dict(match or {}))
        self._multipart(OFPMP_FLOW, q.encode(), lambda parts: reply(
            None if parts is None else [s for p in parts for s in decode_flow_stats(p)]))

    def request_aggregate(self, reply: Callable[[tuple[int, int, int] | None], None], match: Fields | None = None,
                          table_id: int = OFPTT_ALL, out_port: int = OFPP_ANY, cookie: int = 0,
                          cookie_mask: int = 0) -> None:
        """OFPMP_AGGREGATE: (packet_count, byte_count, flow_count)."""
        q = FlowStatsRequest(table_id, out_port, cookie, cookie_mask, dict(match or {}))
        self._multipart(OFPMP_AGGREGATE, q.encode(), lambda parts: reply(
            struct.unpack_from("!QQI", parts[0], 0) if parts and len(parts[0]) >= 20 else None))

    def request_port_stats(self, reply: Callable[[list[PortStats] | None], None], port_no: int = OFPP_ANY) -> None:
        """OFPMP_PORT_STATS for one port or all (OFPP_ANY)."""
        self._multipart(OFPMP_PORT_STATS, struct.pack("!I4x", port_no), lambda parts: reply(
            None if parts is None else [s for p in parts for s in decode_port_stats(p)]))

    def send_group_mod(self, group: GroupDesc) -> int:
        """OFPT_GROUP_MOD (its command, type, group_id and buckets); returns its xid."""
        xid = self.next_xid()
        self.send_msg(encode("GROUP_MOD", xid, group.encode_mod()))
        return xid

    def send_meter_mod(self, meter: MeterConfig) -> int:
        """OFPT_METER_MOD (its command, flags, meter_id and bands); returns its xid."""
        xid = self.next_xid()
        self.send_msg(encode("METER_MOD", xid, meter.encode_mod()))
        return xid

    def request_stats(self, mp_type: int, body: bytes, reply: Reply) -> None:
        """Any OFPMP_* request: the reply's parts (each after its 8-byte head) to `reply`, or None.
        ofp_gmq.py decodes the group, meter and queue ones."""
        self._multipart(mp_type, body, reply)

    def _request(self, name: str, body: bytes, reply: Reply) -> None:
        """A request answered by one message: its body (a list of one) to `reply`, or None."""
        xid = self.next_xid()
        self.conn.pending[xid] = (reply, [])
        self.send_msg(encode(name, xid, body))

    def request_queue_config(self, reply: Reply, port: int = OFPP_ANY) -> None:
        """OFPT_QUEUE_GET_CONFIG_REQUEST: the reply's body (a list of one) to `reply`, or None."""
        self._request("QUEUE_GET_CONFIG_REQUEST", struct.pack("!I4x", port), reply)

    def request_role(self, reply: Reply, role: int = OFPCR_ROLE_NOCHANGE, generation_id: int = 0) -> None:
        """OFPT_ROLE_REQUEST (§7.3.9): the ROLE_REPLY's body (ofrole.decode_role) to `reply`, or None."""
        self._request("ROLE_REQUEST", encode_role(role, generation_id), reply)

    def send_role(self, role: int, generation_id: int = 0) -> None:
        """OFPT_ROLE_REQUEST without waiting for its reply (os-ken's set_role)."""
        self.send_msg(encode("ROLE_REQUEST", self.next_xid(), encode_role(role, generation_id)))

    def send_port_mod(self, port_no: int, hw_addr: bytes, config: int, mask: int, advertise: int) -> None:
        """OFPT_PORT_MOD (§7.3.4.3): a port's config bits under `mask` (OFPPC_PORT_DOWN: down)."""
        self.send_msg(encode("PORT_MOD", self.next_xid(), encode_port_mod(port_no, hw_addr, config, mask, advertise)))

    def send_experimenter(self, experimenter: int, exp_type: int, data: bytes) -> None:
        """OFPT_EXPERIMENTER (§7.5.4): experimenter id, type and data."""
        self.send_msg(encode("EXPERIMENTER", self.next_xid(), struct.pack("!II", experimenter, exp_type) + data))

    def request_port_desc(self, reply: Callable[[list[PortDesc] | None], None]) -> None:
        """OFPMP_PORT_DESC: every port of the switch."""
        self._multipart(OFPMP_PORT_DESC, b"", lambda parts: reply(
            None if parts is None else [PortDesc.decode(p[i:i + 64]) for p in parts
                                        for i in range(0, len(p) - 63, 64)]))


@dataclass
class _OfConn:
    """One switch's OpenFlow channel, from HELLO on (os-ken's controller.Datapath's socket side)."""

    runtime: Runtime
    stream: Stream
    reader: Reader = field(default_factory=Reader)
    xid: int = 0
    dp: Datapath | None = None
    entered: bool = False
    pending: dict[int, tuple[Reply, list[bytes]]] = field(default_factory=dict)
    barriers: dict[int, Callable[[], None]] = field(default_factory=dict)

    def data(self, data: bytes) -> None:
        for mtype, xid, body in self.reader.feed(data):
            try:
                self.runtime.handle(self, mtype, xid, body)
            except (struct.error, ValueError, IndexError) as e:     # a message cut short: logged, skipped
                self.runtime.host.log(f"bad OpenFlow message type {mtype}: {type(e).__name__}: {e}")

    def closed(self) -> None:
        self.runtime.lost(self)


class Runtime:
    """The applications and the switches connected to them (os-ken's AppManager + OFPHandler)."""

    def __init__(self, host: Host, apps: list[type[App]], config: dict[str, int] | None = None) -> None:
        self.host = host
        self.config = dict(config or {})      # the launcher's options the apps read (wsapi_port, ...)
        self.datapaths: dict[int, Datapath] = {}
        self.apps = [cls(self) for cls in apps]

    def start(self, addr: int, port: int) -> str | None:
        """Listen for switches on addr:port, then start the applications; an error text or None."""
        err = self.host.serve_tcp(addr, port, self.accept)
        if err is not None:
            return err
        for app in self.apps:
            app.start()
        return None

    def accept(self, stream: Stream) -> _OfConn:
        conn = _OfConn(self, stream)
        conn.xid = 1
        stream.send(encode("HELLO", 1))
        conn.xid = 2
        stream.send(encode("FEATURES_REQUEST", 2))
        return conn

    def dispatch(self, ev: Event) -> None:
        """Every handler of every app for the event, in the apps' order. A handler that raises is
        logged (its exception's last line) and the others still run, as os-ken's event loop does."""
        for app in self.apps:
            for fn in type(app).handlers.get(type(ev), ()):
                try:
                    fn(app, ev)
                except Exception as e:      # the app's bug, not the controller's: logged, never raised
                    self.host.log(f"{type(app).__name__}.{fn.__name__}: {type(e).__name__}: {e}")

    def handle(self, conn: _OfConn, mtype: int, xid: int, body: bytes) -> None:
        """One message from a switch (os-ken's ofp_handler and the dispatch to the apps)."""
        dp = conn.dp
        if mtype == OFPT["ECHO_REQUEST"]:
            conn.stream.send(encode("ECHO_REPLY", xid, body))
        elif mtype == OFPT["FEATURES_REPLY"] and len(body) >= 24 and dp is None:
            dpid, _buffers, n_tables, _aux, caps = struct.unpack_from("!QIBB2xI", body, 0)
            dp = conn.dp = Datapath(conn)
            dp.id, dp.n_tables = dpid, n_tables
            old = self.datapaths.get(dpid)
            if old is not None:         # a switch reconnecting: the old channel is gone
                self.lost(old.conn)
            self.datapaths[dpid] = dp
            self.dispatch(SwitchFeatures(dp, dpid, n_tables, caps))
            dp.request_port_desc(lambda ports: self._entered(conn, ports or []))
        elif dp is None:
            return
        elif mtype == OFPT["PACKET_IN"]:
            p = PacketInMsg.decode(body)
            self.dispatch(PacketIn(dp, p.buffer_id, p.total_len, p.reason, p.table_id, p.cookie, p.match, p.data))
        elif mtype == OFPT["PORT_STATUS"] and len(body) >= 72:
            port = PortDesc.decode(body[8:72])
            if body[0] == 1:
                dp.ports.pop(port.port_no, None)
            else:
                dp.ports[port.port_no] = port
            self.dispatch(PortStatus(dp, body[0], port))
        elif mtype == OFPT["FLOW_REMOVED"] and len(body) >= 40:
            (cookie, priority, reason, table_id, dsec, dnsec, idle, hard, packets,
             n_bytes) = struct.unpack_from("!QHBBIIHHQQ", body, 0)
            fields, _ = decode_match(body, 40)
            self.dispatch(FlowRemoved(dp, cookie, priority, reason, table_id, dsec, dnsec, idle, hard, packets,
                                      n_bytes, fields))
        elif mtype == OFPT["MULTIPART_REPLY"] and len(body) >= 8:
            waiting = conn.pending.get(xid)
            if waiting is None:
                return
            waiting[1].append(body[8:])
            if not struct.unpack_from("!H", body, 2)[0] & OFPMPF_REPLY_MORE:
                del conn.pending[xid]
                waiting[0](waiting[1])
        elif mtype in (OFPT["QUEUE_GET_CONFIG_REPLY"], OFPT["ROLE_REPLY"]):
            waiting = conn.pending.pop(xid, None)
            if waiting is not None:
                waiting[0]([body])
        elif mtype == OFPT["BARRIER_REPLY"]:
            done = conn.barriers.pop(xid, None)
            if done is not None:
                done()
        elif mtype == OFPT["ERROR"] and len(body) >= 4:
            etype, code = struct.unpack_from("!HH", body, 0)
            waiting = conn.pending.pop(xid, None)
            if waiting is not None:
                waiting[0](None)
            self.dispatch(ErrorMsg(dp, etype, code, body[4:]))

    def _entered(self, conn: _OfConn, ports: list[PortDesc]) -> None:
        dp = conn.dp
        if dp is None or not dp.connected or conn.entered:
            return
        dp.ports.update({p.port_no: p for p in ports})
        conn.entered = True
        self.dispatch(SwitchEnter(dp))

    def lost(self, conn: _OfConn) -> None:
        """The switch's connection is gone: its outstanding requests get None, then SwitchLeave."""
        dp = conn.dp
        if dp is None or not dp.connected:
            return
        dp.connected = False
        if self.datapaths.get(dp.id) is dp:
            del self.datapaths[dp.id]
        pending, conn.pending = conn.pending, {}
        for reply, _parts in pending.values():
            reply(None)
        conn.barriers.clear()
        conn.stream.close()
        if conn.entered:
            self.dispatch(SwitchLeave(dp))
