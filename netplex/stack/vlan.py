"""IEEE 802.1Q: VLAN sub-interfaces (net/8021q) and VLAN-aware bridges (net/bridge/br_vlan.c).

A VLAN device (`ip link add link eth0 name eth0.100 type vlan id 100`) sits
on a lower device: what it sends leaves the lower device with its tag
(vlan_dev_hard_start_xmit); a tagged frame that arrives on the lower device
is handed, untagged, to the VLAN device of its VID (vlan_do_receive). It
shares the lower device's address and MTU, follows its carrier, goes down
with it and comes back up with it (vlan_device_event).

The VLAN-aware bridge (`vlan_filtering 1`, br_vlan.c) is a step of the one
bridge datapath, `Bridge.handle_frame` in `bridge.py`.
"""
from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from netplex.errors import NetplexError
from netplex.packet.ethernet import ETH_P_8021AD, ETH_P_8021Q, Dot1Q, Ethernet
from netplex.stack.device import NetDevice

if TYPE_CHECKING:
    from netplex.stack.ipv4 import Ipv4Path
    from netplex.stack.netns import Namespace

VLAN_N_VID = 4096


class VlanDevice(NetDevice):
    """An 802.1Q (or 802.1ad) sub-interface."""

    kind = "vlan"
    default_qdisc = "noqueue"

    def __init__(self, ns: Namespace, name: str, lower: NetDevice, vid: int, proto: int = ETH_P_8021Q) -> None:
        super().__init__(ns, name, lower.mac, lower.mtu)
        self.lower = lower
        self.vid = vid
        self.proto = proto
        self.reorder_hdr = True
        self.loose_binding = False
        self.lower_up = lower.up
        self.addr_assign_random = False

    # -- state ---------------------------------------------------------------
    def has_carrier(self) -> bool:
        lower = self.lower
        return self.up and lower.up and lower.has_carrier()

    def operstate(self) -> str:
        if not self.up:
            return "DOWN"
        return "UP" if self.has_carrier() else "LOWERLAYERDOWN"

    def set_up(self, up: bool) -> None:
        """vlan_dev_open: the lower device must be up (unless loose_binding)."""
        if up and not self.up and not self.lower.up and not self.loose_binding:
            raise NetplexError("RTNETLINK answers: Network is down", errno.ENETDOWN)
        super().set_up(up)

    def lower_dev(self) -> NetDevice | None:
        return self.lower

    def netdev_event(self) -> None:
        """vlan_device_event: NETDEV_DOWN/UP of the lower device takes the VLAN with it."""
        lower_up = self.lower.up
        if lower_up == self.lower_up:
            return
        self.lower_up = lower_up
        if self.loose_binding:
            return
        if not lower_up and self.up:
            self.set_up(False)
        elif lower_up and not self.up:
            self.set_up(True)

    def link_suffix(self) -> str:
        return self.lower.name

    def details_text(self) -> str:
        proto = "802.1ad" if self.proto == ETH_P_8021AD else "802.1Q"
        flags = "<REORDER_HDR> " if self.reorder_hdr else ""
        return f"    vlan protocol {proto} id {self.vid} {flags}"

    # -- data path -----------------------------------------------------------
    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        """vlan_dev_hard_start_xmit: tag, count, and hand to the lower device."""
        if not self.upper_xmit_start(frame, nbytes):
            return
        frame.vlans = (Dot1Q(self.vid, tpid=self.proto),) + frame.vlans
        self.lower.xmit(frame)


def vlan_find(ns: Ipv4Path, lower: NetDevice, tag: Dot1Q) -> VlanDevice | None:
    """vlan_find_dev: the VLAN device on `lower` for this tag."""
    return ns.vlan_devs.get((lower.ifindex, tag.tpid, tag.vid))


def vlan_rcv(ns: Ipv4Path, dev: NetDevice, frame: Ethernet) -> bool:
    """vlan_do_receive: a tagged frame goes to its VLAN device, untagged. False: no such device."""
    tags = frame.vlans
    vdev = vlan_find(ns, dev, tags[0])
    if vdev is None:
        return False
    frame.vlans = tags[1:]
    if ns.world.tracer.on:
        ns.trace("vlan_do_receive", f"{dev.name}: VLAN {tags[0].vid} → {vdev.name}", dev=dev.name,
                 out_dev=vdev.name, vid=tags[0].vid)
    vdev.rx(frame)
    return True
