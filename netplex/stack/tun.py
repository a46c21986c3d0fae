"""TUN devices: layer-3 packets between the stack and a userspace program (drivers/net/tun.c).

A `tun` device in TUN mode (IFF_TUN|IFF_NO_PI, as flanneld and `ip tuntap add
mode tun` make it) has no link-layer header and no ARP: `link/none`, flags POINTOPOINT, MULTICAST,
NOARP (tun_net_init for IFF_TUN). What the stack routes into it is handed,
as a bare IPv4 packet, to the program that holds the device open (`read(2)`
on the tun fd: `attach`'s reader); what that program writes comes in as if
received on the device (tun_get_user → netif_rx). It has carrier only while
a program holds it (tun_attach / tun_detach → netif_carrier_on/off), and
without one the kernel drops what is sent to it (tun_net_xmit: tx_dropped).
A device opened without TUNSETPERSIST disappears when its holder closes it.
`TunFile` is a program's fd on a device that exists already (`ip tuntap add`
made it persistent), as Open5GS's UPF opens `ogstun`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.stack.device import NetDevice
from netplex.stack.if_flags import IFF_MULTICAST, IFF_NOARP, IFF_POINTOPOINT

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["Tun", "TunReader", "TunFile"]

ZERO_MAC = b"\x00" * 6
TunReader = Callable[[IPv4], None]


class Tun(NetDevice):
    """A TUN-mode tun device (`flannel0`, `tun0`)."""

    kind = "tun"
    link_type = "none"
    default_qdisc = "pfifo_fast"

    def __init__(self, ns: Namespace, name: str, persist: bool = False) -> None:
        super().__init__(ns, name, ZERO_MAC)
        self.base_flags = IFF_POINTOPOINT | IFF_MULTICAST | IFF_NOARP
        self.txqueuelen = 500                 # tun_net_init: TUN_READQ_SIZE
        self.max_mtu = 65535                  # MAX_MTU, no link header to take off
        self.addr_assign_random = False
        self.mode = "tun"
        self.owner: int | None = None
        self.group: int | None = None
        self.multi_queue = False
        self.persist = persist
        self.reader: TunReader | None = None
        # rfc2863_policy runs on a carrier change only (linkwatch): a device its holder created keeps
        # operstate UNKNOWN; one `ip tuntap add` left persistent lost its carrier when `ip` closed its fd
        # (__tun_detach: netif_carrier_off), so a later holder's attach makes it UP
        self.linkwatched = persist

    def lladdr_text(self) -> str:
        return "    link/none "

    def has_carrier(self) -> bool:
        return self.up and self.reader is not None

    def carrier_ok(self) -> bool:
        return self.reader is not None

    def operstate(self) -> str:
        """The tun driver sets no operational state: UNKNOWN while it has carrier, unless a carrier
        change went through linkwatch (default_operstate: UP)."""
        if not self.up or not self.has_carrier():
            return "DOWN"
        return "UP" if self.linkwatched else "UNKNOWN"

    def attach(self, reader: TunReader) -> None:
        """tun_attach: a program opened the device; it reads what the stack sends into it."""
        self.reader = reader
        self.ns.device_state_changed(self)

    def detach(self) -> None:
        """tun_detach: the holder closed its fd; a non-persistent device goes with it."""
        self.reader = None
        self.linkwatched = True
        if not self.persist and self.ns.devices.get(self.name) is self:
            self.ns.del_device(self)
        else:
            self.ns.device_state_changed(self)

    def xmit(self, frame: Any, nbytes: int = 0) -> None:
        """tun_net_xmit: the IP packet is queued for the reader (dropped when there is none)."""
        ip = frame.payload
        reader = self.reader
        st = self.stats
        if not self.up or reader is None or not isinstance(ip, IPv4):
            st.tx_dropped += 1
            return
        n = ip.wire_len()
        st.tx_packets += 1
        st.tx_bytes += n
        self.xmit_taps(frame)
        self.ns.sched.at(self.ns.sched.now, reader, ip.copy())

    def write(self, ip: IPv4) -> None:
        """tun_get_user: a packet the program wrote comes in on the device (netif_rx)."""
        st = self.stats
        if not self.up:
            st.rx_dropped += 1
            return
        n = ip.wire_len()
        st.rx_packets += 1
        st.rx_bytes += n
        self.ns.ip_rcv(self, Ethernet(ZERO_MAC, ZERO_MAC, ETH_P_IP, ip), n)


class TunFile:
    """A program's fd on /dev/net/tun after TUNSETIFF IFF_TUN|IFF_NO_PI on `name` (tun_chr_open, tun_set_iff):
    `read(2)` is `on_recv(packet bytes)`, `write(2)` is `write`, `close(2)` detaches (tun_chr_close).

    Attaching to an existing device (one `ip tuntap add` made persistent) is what a daemon such as
    Open5GS's UPF does with `ogstun`; the device must be a TUN-mode one (KeyError/TypeError otherwise).
    """

    def __init__(self, ns: Namespace, name: str) -> None:
        dev = ns.devices[name]
        if not isinstance(dev, Tun) or dev.mode != "tun":
            raise TypeError(f"{name} is not a TUN device")
        self.tun = dev
        self.on_recv: Callable[[bytes], None] | None = None
        dev.attach(self._read)

    def _read(self, ip: IPv4) -> None:
        if self.on_recv is not None:
            self.on_recv(ip.encode())

    def write(self, data: bytes) -> int:
        """The packet comes in on the device; EINVAL (22) for what is not an IPv4 packet (tun_get_user)."""
        try:
            ip = IPv4.decode(data)
        except ValueError:
            self.tun.stats.rx_dropped += 1
            return 22
        self.tun.write(ip)
        return 0

    def close(self) -> None:
        if self.tun.reader == self._read:
            self.tun.detach()
