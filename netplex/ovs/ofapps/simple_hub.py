"""`simple_hub`: every switch a hub: the table-miss flow sends each packet to the controller,
which floods it (PACKET_OUT FLOOD) and installs nothing else (the first example of os-ken's
and Ryu's tutorials)."""
from __future__ import annotations

from netplex.ovs.ofapp import (
    OFPCML_NO_BUFFER,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    App,
    PacketIn,
    SwitchFeatures,
    match,
    on,
    output,
)

__all__ = ["SimpleHub"]


class SimpleHub(App):
    """Flood everything, through the controller."""

    @on(SwitchFeatures)
    def features(self, ev: SwitchFeatures) -> None:
        ev.dp.send_flow_mod(match(), [output(OFPP_CONTROLLER, OFPCML_NO_BUFFER)], priority=0)

    @on(PacketIn)
    def packet_in(self, ev: PacketIn) -> None:
        ev.dp.send_packet_out(ev.in_port, [output(OFPP_FLOOD)], ev.data, ev.buffer_id)
