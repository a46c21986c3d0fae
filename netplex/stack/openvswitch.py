"""The Open vSwitch kernel datapath (net/openvswitch/: datapath.c, vport.c,
vport-internal_dev.c, vport-netdev.c).

One `OvsDatapath` per namespace, the `ovs-system` device (kind `openvswitch`,
down, as the kernel makes it). Its vports are numbered: a *netdev* vport is an
existing device enslaved to it (`master ovs-system` in `ip link`), whose
frames it takes through the rx_handler seam (netdev_frame_hook); an
*internal* vport is an `OvsInternalDev` (a bridge's own `br0`), whose
transmit enters the datapath (internal_dev_xmit) and whose receive is the
datapath's output to it (internal_dev_recv).

Every frame is handed up to userspace (`upcall`, the genetlink
OVS_PACKET_CMD_MISS): ovs-vswitchd decides and answers with datapath
actions it executes through `output`. There is no flow cache in the kernel
here: each packet's decision is made by the OpenFlow tables, which is what
the megaflow cache would reproduce.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from netplex.errors import NetplexError
from netplex.packet.ethernet import Ethernet
from netplex.stack.device import (
    RX_HANDLER_CONSUMED,
    NetDevice,
    RxHandlerResult,
    netdev_rx_handler_register,
    netdev_rx_handler_unregister,
)

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["OVS_DATAPATH_NAME", "OvsDatapath", "OvsInternalDev", "Upcall", "ovs_datapath"]

OVS_DATAPATH_NAME = "ovs-system"

# OVS_PACKET_CMD_MISS: (datapath, vport number, frame) → nothing; userspace executes its actions
Upcall = Callable[["OvsDatapath", int, Ethernet], None]


class OvsDatapath(NetDevice):
    """struct datapath and its local port device `ovs-system`."""

    kind = "openvswitch"

    def __init__(self, ns: Namespace, name: str, mac: bytes) -> None:
        super().__init__(ns, name, mac)
        self.vports: dict[int, NetDevice] = {}       # port number → device
        self.port_of: dict[int, int] = {}            # ifindex → port number
        self.upcall: Upcall | None = None            # ovs-vswitchd's handler (set by it, None when it is gone)
        self.n_hit = self.n_missed = self.n_lost = 0

    accepts_ports = True

    # -- vports (ovs_vport_add / ovs_vport_del) ------------------------------
    def _new_port_no(self, want: int | None) -> int:
        if want is not None and want not in self.vports:
            return want
        n = 1
        while n in self.vports:
            n += 1
        return n

    def check_slave(self, dev: NetDevice) -> None:
        if dev is self or isinstance(dev, (OvsDatapath, OvsInternalDev)):
            raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)
        if dev.master is not None or dev.rx_handler is not None:
            raise NetplexError("RTNETLINK answers: Device or resource busy", errno.EBUSY)

    def ndo_add_slave(self, dev: NetDevice) -> None:
        """netdev_link / ovs_netdev_link: the device becomes a vport; its frames come here."""
        self.add_vport(dev)

    def add_vport(self, dev: NetDevice, want: int | None = None) -> int:
        n = self._new_port_no(want)
        self.vports[n] = dev
        self.port_of[dev.ifindex] = n
        if not isinstance(dev, OvsInternalDev):
            netdev_rx_handler_register(dev, partial(self.netdev_frame_hook, n))
            dev.master = self
            dev.gflags |= 0x100    # IFF_PROMISC: dev_set_promiscuity(dev, 1)
            self.ns.config_changed()
        return n

    def ndo_del_slave(self, dev: NetDevice) -> None:
        self.del_vport(dev)

    def del_vport(self, dev: NetDevice) -> None:
        n = self.port_of.pop(dev.ifindex, None)
        if n is None:
            return
        self.vports.pop(n, None)
        if not isinstance(dev, OvsInternalDev):
            netdev_rx_handler_unregister(dev)
            dev.master = None
            dev.gflags &= ~0x100
            self.ns.config_changed()
        elif dev.name in dev.ns.devices:
            dev.ns.del_device(dev)

    # -- packets -----------------------------------------------------------
    def netdev_frame_hook(self, port_no: int, frame: Ethernet) -> RxHandlerResult:
        """netdev_frame_hook → ovs_vport_receive: every frame of a netdev vport is ours."""
        self.receive(port_no, frame)
        return RX_HANDLER_CONSUMED

    def receive(self, port_no: int, frame: Ethernet) -> None:
        """ovs_dp_process_packet: no kernel flow, so a miss goes up to userspace
        (lost when no ovs-vswitchd listens)."""
        self.n_missed += 1
        up = self.upcall
        if up is None:
            self.n_lost += 1
            return
        up(self, port_no, frame)

    def output(self, port_no: int, frame: Ethernet) -> None:
        """do_output → ovs_vport_send: out of a netdev vport, or up an internal one."""
        dev = self.vports.get(port_no)
        if dev is None:
            return
        if isinstance(dev, OvsInternalDev):
            dev.internal_dev_recv(frame)
        else:
            dev.xmit(frame)


class OvsInternalDev(NetDevice):
    """vport-internal_dev: a bridge's own port device (`br0`): what the host sends on it
    enters the datapath, what the datapath outputs to it is received by the host."""

    kind = "openvswitch"

    def __init__(self, ns: Namespace, name: str, mac: bytes, dp: OvsDatapath) -> None:
        super().__init__(ns, name, mac)
        self.dp = dp

    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        """internal_dev_xmit: counted and tapped as any queue-less device, then into the datapath."""
        if not self.upper_xmit_start(frame, nbytes):
            return
        n = self.dp.port_of.get(self.ifindex)
        if n is not None:
            self.dp.receive(n, frame)

    def internal_dev_recv(self, frame: Ethernet) -> None:
        """internal_dev_recv: the host receives it (dropped while the device is down)."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        st = self.stats
        st.rx_packets += 1
        st.rx_bytes += frame.wire_len()
        self.ns.netif_receive(self, frame)


def ovs_datapath(ns: Namespace, create: bool = True) -> OvsDatapath | None:
    """The namespace's datapath (`ovs-system`), made on first use (ovs_dp_cmd_new)."""
    dp = ns.devices.get(OVS_DATAPATH_NAME)
    if isinstance(dp, OvsDatapath):
        return dp
    if not create:
        return None
    dp = OvsDatapath(ns, OVS_DATAPATH_NAME, ns.world.random_mac())
    ns.register(dp)
    return dp


def ovs_internal_dev(ns: Namespace, dp: OvsDatapath, name: str, want: int | None = None) -> OvsInternalDev:
    """ovs_vport_add of an internal vport: a new device in the namespace."""
    ns.check_new_name(name)
    dev = OvsInternalDev(ns, name, ns.world.random_mac(), dp)
    ns.register(dev)
    dp.add_vport(dev, want)
    return dev
