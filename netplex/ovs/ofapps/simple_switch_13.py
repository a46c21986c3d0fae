"""`simple_switch_13`: a MAC learning switch per connected switch, as os-ken's
os_ken/app/simple_switch_13.py behaves (OpenFlow 1.3).

On the FEATURES_REPLY it installs the table-miss flow (priority 0, match all, output to the
controller unbuffered). Each PACKET_IN (LLDP ignored) teaches it the source MAC's port on that
switch and logs `packet in DPID SRC DST IN_PORT`; a destination it knows gets a flow
(priority 1, in_port + eth_dst + eth_src, output to its port; no timeouts) and the packet is
sent there, an unknown one is flooded (PACKET_OUT FLOOD).
"""
from __future__ import annotations

from netplex.ovs.ofapp import (
    OFPCML_NO_BUFFER,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    App,
    PacketIn,
    Runtime,
    SwitchFeatures,
    match,
    on,
    output,
)
from netplex.ovs.openflow import OFP_NO_BUFFER

__all__ = ["SimpleSwitch13"]

ETH_TYPE_LLDP = 0x88CC


def mac_text(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


class SimpleSwitch13(App):
    """os-ken's SimpleSwitch13."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.mac_to_port: dict[int, dict[str, int]] = {}

    @on(SwitchFeatures)
    def switch_features_handler(self, ev: SwitchFeatures) -> None:
        ev.dp.send_flow_mod(match(), [output(OFPP_CONTROLLER, OFPCML_NO_BUFFER)], priority=0)

    @on(PacketIn)
    def packet_in_handler(self, ev: PacketIn) -> None:
        data = ev.data
        if len(data) < 14 or int.from_bytes(data[12:14], "big") == ETH_TYPE_LLDP:
            return
        dst, src = mac_text(data[0:6]), mac_text(data[6:12])
        dpid, in_port = ev.dp.id, ev.in_port
        table = self.mac_to_port.setdefault(dpid, {})
        self.log(f"packet in {dpid} {src} {dst} {in_port}")
        table[src] = in_port
        out_port = table.get(dst, OFPP_FLOOD)
        actions = [output(out_port)]
        if out_port != OFPP_FLOOD:
            m = match(in_port=in_port, eth_dst=dst, eth_src=src)
            if ev.buffer_id != OFP_NO_BUFFER:
                ev.dp.send_flow_mod(m, actions, priority=1, buffer_id=ev.buffer_id)
                return
            ev.dp.send_flow_mod(m, actions, priority=1)
        ev.dp.send_packet_out(in_port, actions, data if ev.buffer_id == OFP_NO_BUFFER else b"", ev.buffer_id)
