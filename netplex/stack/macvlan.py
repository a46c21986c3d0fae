"""MAC-VLAN devices (drivers/net/macvlan.c): several MAC addresses on one lower device.

`ip link add link eth0 name mv0 type macvlan mode bridge|private|vepa|passthru`
makes a device with its own MAC address stacked on `eth0`. The first macvlan
on a lower device registers the port's rx_handler there (macvlan_port_create,
the rx_handler seam of device.py); it goes with the last one.

Receive (macvlan_handle_frame): a unicast frame for a macvlan's address goes
to that macvlan and no further (in passthru mode, every unicast frame goes to
the one macvlan); anything else passes on to the lower device. A multicast or
broadcast frame is copied to every macvlan (macvlan_broadcast) — a frame one
of our own macvlans sent and the switch reflected back only to the modes that
may hear it — and still reaches the lower device.

Transmit (macvlan_queue_xmit): in bridge mode a frame for a sibling bridge-mode
macvlan is handed over directly, and a multicast frame is copied to the
siblings too; everything else leaves through the lower device. A macvlan
never talks to its lower device's own addresses (the classic limitation).

Mode private: no traffic between siblings, even reflected multicast; vepa:
siblings reach each other only through an external switch that hairpins;
passthru: one macvlan takes the lower device's address (and only one may
exist). Source mode is refused. A running macvlan's address is on its lower
device's unicast list (dev->uc, netplex/stack/dev_addr_lists.py): the lower
device shows it in `bridge fdb show` and turns promiscuous.
"""
from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from netplex.errors import NetplexError
from netplex.packet.ethernet import Ethernet
from netplex.stack.dev_addr_lists import dev_uc_add, dev_uc_del
from netplex.stack.device import (
    RX_HANDLER_CONSUMED,
    RX_HANDLER_PASS,
    NetDevice,
    RxHandlerResult,
    netdev_rx_handler_register,
    netdev_rx_handler_unregister,
)

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

# enum macvlan_mode (include/uapi/linux/if_link.h)
MACVLAN_MODE_PRIVATE, MACVLAN_MODE_VEPA, MACVLAN_MODE_BRIDGE, MACVLAN_MODE_PASSTHRU, MACVLAN_MODE_SOURCE = 1, 2, 4, 8, 16
MACVLAN_MODES = {"private": MACVLAN_MODE_PRIVATE, "vepa": MACVLAN_MODE_VEPA, "bridge": MACVLAN_MODE_BRIDGE,
                 "passthru": MACVLAN_MODE_PASSTHRU, "source": MACVLAN_MODE_SOURCE}
MACVLAN_MODE_NAMES = {v: k for k, v in MACVLAN_MODES.items()}
MACVLAN_MODE_ALL = 0xFF


def _einval() -> NetplexError:
    return NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)


class MacvlanPort:
    """struct macvlan_port: the macvlans of one lower device and its rx_handler."""

    def __init__(self, lower: NetDevice) -> None:
        self.lower = lower
        self.vlans: list[MacvlanDev] = []

    def passthru(self) -> bool:
        return any(v.mode == MACVLAN_MODE_PASSTHRU for v in self.vlans)

    def lookup(self, mac: bytes) -> MacvlanDev | None:
        """macvlan_hash_lookup."""
        for v in self.vlans:
            if v.mac == mac:
                return v
        return None

    def broadcast(self, frame: Ethernet, src: NetDevice | None, mode: int) -> None:
        """macvlan_broadcast: a copy for every macvlan of `mode` but the sender."""
        for v in self.vlans:
            if v is src or not v.mode & mode:
                continue
            v.forward(frame.copy())

    def handle_frame(self, frame: Ethernet, nbytes: int = 0) -> RxHandlerResult:
        """macvlan_handle_frame."""
        if frame.dst[0] & 1:
            src = self.lookup(frame.src)
            if src is not None and src.mode not in (MACVLAN_MODE_VEPA, MACVLAN_MODE_BRIDGE):
                src.forward(frame)   # a private/passthru macvlan's own frame, reflected: back to it alone
                return RX_HANDLER_CONSUMED
            if src is None:
                self.broadcast(frame, None, MACVLAN_MODE_ALL)
            elif src.mode == MACVLAN_MODE_VEPA:   # the switch reflected it: siblings hear it
                self.broadcast(frame, src, MACVLAN_MODE_VEPA | MACVLAN_MODE_BRIDGE)
            else:                                 # bridge mode already delivered to bridge siblings
                self.broadcast(frame, src, MACVLAN_MODE_VEPA)
            return RX_HANDLER_PASS
        vlan = self.vlans[0] if self.passthru() else self.lookup(frame.dst)
        if vlan is None:
            return RX_HANDLER_PASS
        vlan.forward(frame)
        return RX_HANDLER_CONSUMED


class MacvlanDev(NetDevice):
    """One macvlan: its own address on the lower device's wire."""

    kind = "macvlan"
    default_qdisc = "noqueue"

    def __init__(self, ns: Namespace, name: str, mac: bytes, port: MacvlanPort, mode: int) -> None:
        super().__init__(ns, name, mac, port.lower.mtu)
        self.port = port
        self.lower = port.lower
        self.mode = mode

    # -- state -----------------------------------------------------------------
    def lower_dev(self) -> NetDevice | None:
        return self.lower

    def link_suffix(self) -> str:
        return self.lower.name

    def has_carrier(self) -> bool:
        """netif_stacked_transfer_operstate: the lower device's carrier."""
        return self.up and self.lower.up and self.lower.has_carrier()

    def operstate(self) -> str:
        if not self.up:
            return "DOWN"
        return "UP" if self.has_carrier() else "LOWERLAYERDOWN"

    def details_text(self) -> str:
        return f"    macvlan mode {MACVLAN_MODE_NAMES[self.mode]} bcqueuelen 1000 usedbcqueuelen 1000 "

    def set_up(self, up: bool) -> None:
        """macvlan_open / macvlan_stop: while up, the address is on the lower device's dev->uc
        (passthru: the lower's own address, nothing to add)."""
        if up != self.up:
            self._lower_uc(up)
        super().set_up(up)

    def _lower_uc(self, add: bool, mac: bytes | None = None) -> None:
        if self.port.passthru():
            return
        mac = self.mac if mac is None else mac
        if add:
            dev_uc_add(self.lower, mac)
        elif mac in self.lower.uc:   # `bridge fdb del ... self` on the lower may have taken it
            dev_uc_del(self.lower, mac)

    def ndo_set_mac_address(self, mac: bytes) -> None:
        """macvlan_set_mac_address → macvlan_sync_address: a running macvlan moves its dev->uc entry."""
        if self.up:
            self._lower_uc(True, mac)
            self._lower_uc(False, self.mac)
        self.mac = mac

    def ndo_uninit(self) -> None:
        """macvlan_uninit: leave the port; the last one out removes the rx_handler."""
        if self.up:   # dev_close before unregistering: macvlan_stop
            self._lower_uc(False)
        port = self.port
        if self in port.vlans:
            port.vlans.remove(self)
        if not port.vlans:
            netdev_rx_handler_unregister(port.lower)
            port.lower.ns.macvlan_ports.pop(port.lower.ifindex, None)

    # -- data path ---------------------------------------------------------------
    def forward(self, frame: Ethernet) -> None:
        """macvlan_broadcast_one / the unicast path: the frame arrives on this device."""
        if not self.up:
            self.stats.rx_dropped += 1
            return
        self.rx(frame)

    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        """macvlan_start_xmit / macvlan_queue_xmit."""
        if not self.upper_xmit_start(frame, nbytes):
            return
        if self.mode == MACVLAN_MODE_BRIDGE:
            if frame.dst[0] & 1:
                self.port.broadcast(frame, self, MACVLAN_MODE_BRIDGE)
            else:
                dest = self.port.lookup(frame.dst)
                if dest is not None and dest.mode == MACVLAN_MODE_BRIDGE:
                    dest.forward(frame)   # dev_forward_skb: straight to the sibling
                    return
        self.lower.xmit(frame, nbytes)


def macvlan_newlink(ns: Namespace, name: str, lower: NetDevice | None, mode: int, mac: bytes | None,
                    mtu: int | None) -> MacvlanDev:
    """macvlan_common_newlink: the kernel's checks, then the device on the lower's port."""
    if lower is None:
        raise _einval()
    if isinstance(lower, MacvlanDev):   # a macvlan on a macvlan sits on the real device
        lower = lower.lower
    if lower.link_type != "ether":
        raise _einval()
    if mode == MACVLAN_MODE_SOURCE:
        raise NetplexError("netplex: macvlan mode source is not supported", errno.EOPNOTSUPP)
    if mtu is not None and mtu > lower.mtu:
        raise _einval()
    port = lower.ns.macvlan_ports.get(lower.ifindex)
    if port is None:
        if lower.rx_handler is not None:   # a bridge port, say: the handler is taken
            raise NetplexError("RTNETLINK answers: Device or resource busy", errno.EBUSY)
    elif port.passthru() or mode == MACVLAN_MODE_PASSTHRU:
        raise _einval()   # passthru: the only macvlan of its lower device
    if mode == MACVLAN_MODE_PASSTHRU:
        mac = lower.mac   # eth_hw_addr_inherit
    elif mac is None:
        mac = ns.world.random_mac()
    if port is not None and port.lookup(mac) is not None:
        raise NetplexError("RTNETLINK answers: Address already in use", errno.EADDRINUSE)
    ns.check_new_name(name)
    if port is None:
        port = MacvlanPort(lower)
        netdev_rx_handler_register(lower, port.handle_frame)
        lower.ns.macvlan_ports[lower.ifindex] = port
    dev = MacvlanDev(ns, name, mac, port, mode)
    if mtu is not None:
        dev.mtu = mtu
    port.vlans.append(dev)
    ns.register(dev)
    ns.has_uppers = True
    return dev
