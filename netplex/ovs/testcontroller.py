"""`ovs-testcontroller` (Debian's openvswitch-testcontroller; utilities/ovs-testcontroller.c
with lib/learning-switch.c): an OpenFlow controller that makes every switch connecting
to it a MAC-learning switch, here speaking OpenFlow 1.3 over the simulated TCP.

    ovs-testcontroller --detach ptcp:6653[:IP]

For each switch: HELLO, FEATURES_REQUEST, then a table-miss flow sending every
unmatched packet to the controller. Each PACKET_IN teaches it where the source
MAC is (per switch); a packet to a known unicast MAC gets a flow matching it
exactly in OpenFlow 1.0's twelve fields (in_port, VLAN, Ethernet addresses and type,
IP addresses, protocol and DSCP, L4 ports or ICMP type and code; ARP's addresses and
opcode), as lswitch_create's default wildcards (none) make it, idle timeout 60 s, and
is sent there; anything else is flooded (PACKET_OUT FLOOD).
`--detach` is required: in the foreground it would block the shell, and is refused.
"""
from __future__ import annotations

from netplex.apps.process import Program, ProgramExit
from netplex.ovs.connmgr import parse_inet_target
from netplex.ovs.flow import flow_extract
from netplex.ovs.openflow import (
    OFPCML_NO_BUFFER,
    OFPFC_ADD,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    OFPT,
    FlowModMsg,
    PacketIn,
    PacketOut,
    Reader,
    encode,
)
from netplex.packet.ethernet import ETH_P_ARP, ETH_P_IP, Ethernet
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.tcp import TcpSocket

__all__ = ["LearningSwitch", "ovs_testcontroller"]

IDLE_TIMEOUT = 60


class _Switch:
    """One connected switch (struct lswitch)."""

    def __init__(self, sk: TcpSocket) -> None:
        self.sk = sk
        self.reader = Reader()
        self.dpid = 0
        self.macs: dict[bytes, int] = {}
        self.xid = 0x100


class LearningSwitch(Program):
    """The controller daemon: listens, and runs a learning switch per connection."""

    comm = "ovs-testcontrol"

    def __init__(self, port: int, addr: int = 0) -> None:
        super().__init__()
        self.port = port
        self.addr = addr
        self.switches: dict[TcpSocket, _Switch] = {}
        self.n_packet_in = 0
        self.n_flow_mod = 0

    def start(self) -> None:
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(self.port, self.addr):
            raise ProgramExit(1, f"ovs-testcontroller: ptcp:{self.port}: listen failed (Address already in use)")
        lst.on_accept = self._accept

    def _accept(self, sk: TcpSocket) -> None:
        sw = _Switch(sk)
        self.switches[sk] = sw
        self.own(sk)
        sk.on_data = self._data
        sk.on_close = self._closed
        sk.send(encode("HELLO", 1) + encode("FEATURES_REQUEST", 2))
        # the table-miss flow: every packet no flow matches comes here (OpenFlow 1.3 has none by default)
        miss = FlowModMsg(OFPFC_ADD, {}, [(OFPP_CONTROLLER, OFPCML_NO_BUFFER)], priority=0)
        sk.send(miss.encode(3))
        self.n_flow_mod += 1

    def _closed(self, sk: TcpSocket) -> None:
        self.switches.pop(sk, None)

    def _data(self, sk: TcpSocket, data: bytes) -> None:
        sw = self.switches.get(sk)
        if sw is None:
            return
        for mtype, xid, body in sw.reader.feed(data):
            if mtype == OFPT["ECHO_REQUEST"]:
                sk.send(encode("ECHO_REPLY", xid, body))
            elif mtype == OFPT["FEATURES_REPLY"] and len(body) >= 8:
                sw.dpid = int.from_bytes(body[:8], "big")
            elif mtype == OFPT["PACKET_IN"]:
                self.packet_in(sw, PacketIn.decode(body))

    def packet_in(self, sw: _Switch, pin: PacketIn) -> None:
        """lswitch_process_packet: learn the source, then forward or flood."""
        self.n_packet_in += 1
        data = pin.data
        if len(data) < 14:
            return
        dst, src = data[0:6], data[6:12]
        in_port = pin.match.get("in_port", (0, 0))[0]
        if not src[0] & 1:
            sw.macs[src] = in_port
        out = sw.macs.get(dst) if not dst[0] & 1 else None
        sw.xid += 1
        if out is not None and out != in_port:
            fm = FlowModMsg(OFPFC_ADD, _exact_match(data, in_port), [(out, 0)], priority=1,
                            idle_timeout=IDLE_TIMEOUT)
            sw.sk.send(fm.encode(sw.xid))
            self.n_flow_mod += 1
            sw.xid += 1
            sw.sk.send(PacketOut(in_port, [(out, 0)], data).encode(sw.xid))
        elif out is None:
            sw.sk.send(PacketOut(in_port, [(OFPP_FLOOD, 0)], data).encode(sw.xid))


def _exact_match(data: bytes, in_port: int) -> dict[str, tuple[int, int]]:
    """ofputil_wildcard_from_ofpfw10(0): the packet's OpenFlow 1.0 fields, all exact (the VLAN
    as its VID and CFI; DSCP without ECN; only the fields the packet's protocols have)."""
    try:
        frame = Ethernet.decode(data)
    except ValueError:
        return {"dl_dst": (int.from_bytes(data[0:6], "big"), (1 << 48) - 1)}
    flow = flow_extract(frame, in_port)
    fields: dict[str, tuple[int, int]] = {"in_port": (in_port, 0xFFFF)}
    fields["vlan_tci"] = (flow.get("vlan_tci", 0) & 0x1FFF, 0x1FFF)
    for key, mask in (("dl_src", (1 << 48) - 1), ("dl_dst", (1 << 48) - 1), ("dl_type", 0xFFFF)):
        fields[key] = (flow[key], mask)
    if flow["dl_type"] == ETH_P_IP:
        for key, mask in (("nw_src", 0xFFFFFFFF), ("nw_dst", 0xFFFFFFFF), ("nw_proto", 0xFF), ("nw_tos", 0xFC)):
            fields[key] = (flow.get(key, 0) & mask, mask)
        if flow.get("nw_proto") in (1, 6, 17):
            width = 0xFF if flow["nw_proto"] == 1 else 0xFFFF
            for key in ("tp_src", "tp_dst"):
                fields[key] = (flow.get(key, 0), width)
    elif flow["dl_type"] == ETH_P_ARP:
        for key, mask in (("nw_src", 0xFFFFFFFF), ("nw_dst", 0xFFFFFFFF), ("nw_proto", 0xFFFF)):
            fields[key] = (flow.get(key, 0), mask)
    return fields


@command("ovs-testcontroller")
def ovs_testcontroller(ctx: Context, argv: list[str]) -> Result:
    """ovs-testcontroller(8), a learning switch controller for the switches that connect."""
    detach = False
    methods: list[str] = []
    for a in argv[1:]:
        if a == "--detach":
            detach = True
        elif a.startswith("-"):
            return Result(2, "", f"netplex: ovs-testcontroller {a} is not supported\n")
        else:
            methods.append(a)
    if not methods:
        return Result(1, "", "ovs-testcontroller: no active or passive switch connections\n")
    if len(methods) > 1 or not methods[0].startswith("ptcp:"):
        return Result(2, "", f"netplex: ovs-testcontroller {' '.join(methods)} is not supported (one ptcp: only)\n")
    if not detach:
        return Result(2, "", "netplex: ovs-testcontroller in the foreground would block; use --detach\n")
    where = parse_inet_target(methods[0], passive=True)
    if where is None:       # pvconn_open fails, so there is nothing to listen on
        return Result(1, "", "ovs-testcontroller: no active or passive switch connections\n")
    addr, port = where
    machine = ctx.machine
    if machine is None:
        return Result(1, "", "ovs-testcontroller: no machine\n")
    p = machine.procs.spawn(argv, ctx.node, LearningSwitch(port, addr))   # type: ignore[attr-defined]
    if not p.alive:
        return Result(1, "", (p.error or "") + "\n")
    return Result(0)
