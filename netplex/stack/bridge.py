"""The Linux bridge (net/bridge/): ports, the forwarding database, flooding.

A port is enslaved through the master API (`ndo_add_slave`, br_add_if),
which registers the bridge's rx_handler on it (`BridgePort.rx_handler`,
br_handle_frame); releasing it (`ndo_del_slave`, br_del_if) unregisters it.

`handle_frame` is the one datapath (br_handle_frame → br_handle_frame_finish):
BPDUs go to STP when it runs (`stp.py`); the port's state gates the frame; on
a VLAN-filtering bridge (`vlan_filtering 1`) the frame is classified to a VLAN
(br_allowed_ingress: its tag, or the port's PVID) and dropped if the port is
not a member; the source is learned (per VLAN when filtering, ageing 300 s);
then the frame is delivered to the bridge device itself (its own or a port's
address, broadcast and multicast), forwarded to the port the FDB names
(`br_forward`), or flooded to every other forwarding port (`br_flood`). A port
receives only frames it should (should_deliver: not back where it came from
unless `hairpin` is on, VLAN member on egress — br_allowed_egress — and
tagged or untagged as its membership says, br_handle_vlan). The bridge device
is an L3 device too: what the IP stack sends on it goes the same way
(`br_dev_xmit`).

IGMP snooping (br_multicast.c, mcast_snooping 1, the default) is `BridgeMcast`,
created on a bridge when the first IPv4 multicast frame crosses it; only
frames to 01:00:5e:… take that path, with VLAN filtering on or off.

The kernel's rules for changing a bridge are methods here, called by the
shell and by later systems alike: `changelink` (br_changelink: timers, STP,
VLAN filtering, snooping, ...), `fdb_add`/`fdb_del` (br_fdb_add/br_fdb_delete)
and the port options (`port_set`, br_setport).
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from netplex.engine.scheduler import NSEC_PER_SEC
from netplex.errors import NetplexError
from netplex.packet.ethernet import ETH_HLEN, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, Dot1Q, Ethernet
from netplex.packet.igmp import IPOPT_RA, Igmp
from netplex.packet.ipv4 import IPv4
from netplex.stack import stp as stp_mod
from netplex.stack.br_arp_proxy import flood_skips, neigh_suppress_enabled, proxy_suppress_arp
from netplex.stack.device import (
    RX_HANDLER_CONSUMED,
    Loopback,
    NetDevice,
    RxHandlerResult,
    netdev_rx_handler_register,
    netdev_rx_handler_unregister,
)
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.fastpath import (
    DEVICE_NEUTRAL,
    FAST_DEVICE_CLASSES,
    FASTPATH_NEUTRAL,
    fast_rx,
    fast_xmit,
    unknown_device_state,
    unknown_state,
    xmit_state,
)
from netplex.stack.igmp import ip_mc_join_group, ip_mc_leave_group
from netplex.stack.netfilter.hooks import br_nf_enabled, br_nf_forward, br_nf_pre_routing

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

BR_STATE_DISABLED, BR_STATE_LISTENING, BR_STATE_LEARNING, BR_STATE_FORWARDING, BR_STATE_BLOCKING = range(5)
BCAST = b"\xff" * 6
IP_MC_OUI = b"\x01\x00\x5e"
BR_GROUP_ADDRESS = b"\x01\x80\xc2\x00\x00\x00"
BRIDGE_VLAN_INFO_MASTER, BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED = 1, 2, 4
MCAST_SNOOPERS = 0xE000006A   # 224.0.0.106, multicast router discovery (RFC 4286)
PORT_STATE_NAMES = ("disabled", "listening", "learning", "forwarding", "blocking")
MDB_RTR_TYPE_DISABLED, MDB_RTR_TYPE_TEMP_QUERY, MDB_RTR_TYPE_PERM, MDB_RTR_TYPE_TEMP = range(4)
_BLOCKED = (BR_STATE_DISABLED, BR_STATE_BLOCKING, BR_STATE_LISTENING)

# br_changelink: the IFLA_BR_* options netplex models, in the order the kernel applies them
# (it stops at the first error, keeping what it already changed)
BR_CHANGELINK_ORDER = ("forward_delay", "hello_time", "max_age", "ageing_time", "stp_state", "priority",
                       "vlan_filtering", "group_fwd_mask", "vlan_default_pvid", "mcast_snooping",
                       "mcast_querier")


def _erange() -> NetplexError:
    return NetplexError("RTNETLINK answers: Numerical result out of range", errno.ERANGE)


def fdb_key(mac: bytes, vid: int) -> bytes:
    """The FDB is keyed by address, and by address and VLAN once learned per VLAN."""
    return mac if not vid else mac + vid.to_bytes(2, "big")


class FdbEntry:
    """net_bridge_fdb_entry."""

    __slots__ = ("mac", "vlan", "port", "updated", "used", "is_local", "is_static", "added_by_user")

    def __init__(self, mac: bytes, port: BridgePort | None, now: int, is_local: bool = False,
                 is_static: bool = False, vlan: int = 0, added_by_user: bool = False) -> None:
        self.mac = mac
        self.vlan = vlan
        self.port = port          # BridgePort, or None for the bridge device itself
        self.updated = now        # last learnt or refreshed (br_fdb_update)
        self.used = now           # last forwarded to (br_handle_frame_finish)
        self.is_local = is_local
        self.is_static = is_static
        self.added_by_user = added_by_user


class BridgePort:
    """net_bridge_port: a device enslaved to a bridge."""

    __slots__ = ("bridge", "dev", "port_no", "state", "priority", "path_cost", "learning", "flood",
                 "hairpin", "isolated", "stp", "running", "vlans", "pvid", "mcast_router", "mcast_flood",
                 "guard", "root_block", "fastleave", "fast_gen", "fast_ok", "fwd", "bcast_flood", "proxy_arp",
                 "proxy_arp_wifi", "neigh_suppress")

    def __init__(self, bridge: Bridge, dev: NetDevice, port_no: int) -> None:
        self.bridge = bridge
        self.dev = dev
        self.port_no = port_no
        self.state = BR_STATE_FORWARDING
        self.priority = 32
        self.path_cost = 2
        self.learning = True
        self.flood = True
        self.hairpin = False
        self.isolated = False
        self.stp: Any = None             # PortStp once the bridge has run STP
        self.running = False             # enabled for STP: bridge up, port up with carrier
        self.vlans: dict[int, int] = {}  # vid → BRIDGE_VLAN_INFO_* flags (bridge vlan)
        self.pvid = 0
        self.mcast_router = MDB_RTR_TYPE_TEMP_QUERY   # learned from queries (multicast_router 1)
        self.mcast_flood = True
        self.guard = False               # BR_BPDU_GUARD: a BPDU received disables the port
        self.root_block = False          # BR_ROOT_BLOCK: never the root port (held listening instead)
        self.fastleave = False           # BR_MULTICAST_FAST_LEAVE: an IGMP leave ends the membership at once
        self.bcast_flood = True          # BR_BCAST_FLOOD: flooded broadcasts (BR_FLOOD is unknown unicast)
        self.proxy_arp = False           # BR_PROXYARP, BR_PROXYARP_WIFI, BR_NEIGH_SUPPRESS: br_arp_proxy.py
        self.proxy_arp_wifi = False
        self.neigh_suppress = False
        self.fast_gen = -1               # the config generation `fast_ok` was worked out for
        self.fast_ok = False             # the bridge fast path may take this port's frames (fast_pure)
        self.fwd = False                 # forwarding() as last counted in the bridge's n_fwd

    def forwarding(self) -> bool:
        return self.state == BR_STATE_FORWARDING and self.dev.has_carrier()

    def rx_handler(self, frame: Ethernet, nbytes: int = 0) -> RxHandlerResult:
        """br_handle_frame as the port's rx_handler: the bridge consumes every frame."""
        self.bridge.handle_frame(self, frame)
        return RX_HANDLER_CONSUMED

    def fast_pure(self) -> bool:
        """The bridge fast path's opt-in purity (stack/fastpath.py's rule 1), worked out once per
        configuration generation: a plain `Bridge` without VLAN filtering in a namespace without
        netfilter hooks (br_netfilter) or state the fast path does not know, and a port device of a
        declared-pure class whose rx_handler is this port's, with no ingress qdisc."""
        br = self.bridge
        ns = br.ns
        gen = ns.world.config_generation
        if self.fast_gen != gen:
            dev = self.dev
            self.fast_gen = gen
            self.fast_ok = (type(br) is Bridge and not br.vlan_filtering and not ns.hooks
                            and type(dev) in FAST_DEVICE_CLASSES and dev.ns is ns and dev.master is br
                            and dev.rx_handler == self.rx_handler and dev.ingress_q is None
                            and unknown_device_state(dev, DEVICE_NEUTRAL) is None
                            and unknown_device_state(br, BRIDGE_NEUTRAL) is None
                            and unknown_state(ns, FASTPATH_NEUTRAL) is None)
        return self.fast_ok

    def fast_forward(self, frame: Ethernet, nbytes: int) -> bool:
        """The bridge fast path: `NetDevice.rx` → br_handle_frame → br_fdb_update → br_forward →
        dev_queue_xmit → start_xmit of a known unicast frame, in one call with the same effects
        (both devices' counters, the source entry's `updated` and port, the destination entry's
        `used`, the cable's timing, the one receive pushed at the peer). False, with nothing changed,
        whenever the full path could do anything else: a new source to learn, an unknown, local,
        aged or same-port destination, a port not forwarding, STP, tracing, capture, taps, marks."""
        dev = self.dev
        br = self.bridge
        ns = br.ns
        world = ns.world
        if (not nbytes or not world.fastpath or world.tracer.on or frame.meta is not None or frame.vlans
                or not dev.up or nbytes > dev.mtu + 18 or self.state != BR_STATE_FORWARDING or not br.up
                or dev.ingress_q is not None or br.vlan_filtering
                or not (self.fast_ok if self.fast_gen == world.config_generation else self.fast_pure())):
            # (tc changes no configuration generation: the ingress qdisc is read per frame)
            return False
        dst = frame.dst
        src = frame.src
        if dst[0] & 1 or src == dst:
            return False
        fdb = br.fdb
        try:                  # subscripts, not .get(): no call a frame on a hit
            e = fdb[dst]
        except KeyError:
            return False      # unknown: the full path floods it
        s = None
        if self.learning and not src[0] & 1:
            try:
                s = fdb[src]
            except KeyError:
                return False  # a new address: the full path learns it (and traces it)
        now = ns.sched.now
        if e.is_local:
            # br_pass_frame_up of an IPv4 frame to the bridge's own address, which the bridge device
            # then routes (ip_rcv → ip_forward): the flow fast path on the bridge device, with this
            # port's receive and learning once it took the frame (it changes nothing when it does not)
            if dst != br.mac or frame.type != 0x0800 or not br.forwarding or not fast_rx(br, frame, nbytes):
                return False
        else:
            if not e.is_static:
                stp = br.stp      # hold_time(), inline: one forward delay during a topology change
                if now - e.updated > (stp.forward_delay if stp is not None and stp.enabled and stp.topology_change
                                      else br.ageing_ns):
                    return False      # aged: the full path deletes it and floods
            out = e.port
            if (out is self or out is None or (self.isolated and out.isolated) or out.state != BR_STATE_FORWARDING
                    or not (out.fast_ok if out.fast_gen == world.config_generation else out.fast_pure())):
                return False
            odev = out.dev
            busy = xmit_state(ns, odev, now)
            if busy < 0:
                return False
            e.used = now
            fast_xmit(ns, odev, frame, nbytes, now, busy)
        # the receive on this port, and br_fdb_update of the source entry `s` (None: not learning,
        # or a multicast source) as the full path makes it
        st = dev.stats
        st.rx_packets += 1
        st.rx_bytes += nbytes
        if s is not None and not s.is_local:
            if s.port is not self and not s.is_static:
                s.port = self
            s.updated = now
        return True


def br_allowed_ingress(vlans: dict[int, int], pvid: int, frame: Ethernet) -> int:
    """br_allowed_ingress: the frame's VLAN (its 802.1Q tag, else the PVID), 0 if not allowed.

    Leaves the frame untagged (the VLAN travels beside it, as skb->vlan_tci)."""
    tags = frame.vlans
    if tags and tags[0].tpid == ETH_P_8021Q:
        vid = tags[0].vid or pvid      # a priority tag (VID 0) takes the PVID
        frame.vlans = tags[1:]
    else:
        vid = pvid
    if not vid or vid not in vlans:
        return 0
    return vid


def br_handle_vlan(vlans: dict[int, int], vid: int, frame: Ethernet) -> bool:
    """br_allowed_egress + br_handle_vlan: False when the port is not in the VLAN; else tag it
    unless the VLAN leaves this port untagged."""
    flags = vlans.get(vid)
    if flags is None:
        return False
    if not flags & BRIDGE_VLAN_INFO_UNTAGGED:
        frame.vlans = (Dot1Q(vid),) + frame.vlans
    return True


def vlan_add(vlans: dict[int, int], owner: Bridge | BridgePort, vid: int, flags: int) -> None:
    """br_vlan_add / nbp_vlan_add: (re)set one VLAN's flags; PVID moves to it if asked."""
    new = flags & (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)
    if new & BRIDGE_VLAN_INFO_PVID:
        if owner.pvid and owner.pvid != vid and owner.pvid in vlans:
            vlans[owner.pvid] &= ~BRIDGE_VLAN_INFO_PVID
        owner.pvid = vid
    elif owner.pvid == vid:
        owner.pvid = 0
    vlans[vid] = new


def vlan_del(vlans: dict[int, int], owner: Bridge | BridgePort, vid: int) -> bool:
    if vid not in vlans:
        return False
    del vlans[vid]
    if owner.pvid == vid:
        owner.pvid = 0
    return True


# Bridge attributes the fast path understands (BridgePort.fast_pure): each is checked there or per
# frame, or cannot change how a known unicast frame is forwarded (STP timers, multicast snooping,
# VLAN tables while filtering is off). Any other, set, keeps the fast path off that bridge.
BRIDGE_NEUTRAL = DEVICE_NEUTRAL | frozenset({
    "ports", "fdb", "ageing_ns", "gc_next", "gc_up", "stp_state", "priority", "forward_delay", "hello_time",
    "max_age", "mac_set_by_user", "mtu_set_by_user", "stp", "vlans", "pvid", "vlan_default_pvid",
    "mcast_snooping", "next_port_no", "group_fwd_mask", "vlan_filtering", "had_ports", "n_fwd", "mcast",
})


class Bridge(NetDevice):
    """A bridge device and its ports."""

    kind = "bridge"
    accepts_ports = True

    def __init__(self, ns: Namespace, name: str, mac: bytes) -> None:
        super().__init__(ns, name, mac)
        self.ports: list[BridgePort] = []
        self.fdb: dict[bytes, FdbEntry] = {}
        self.ageing_ns = 300 * NSEC_PER_SEC
        self.gc_next: int | None = None   # when br->gc_work (br_fdb_cleanup) runs next; None: not queued
        self.gc_up = False                # the up state bridge_event last saw (opens and stops move gc_next)
        self.stp_state = 0
        self.priority = 0x8000
        self.forward_delay = 1500     # centiseconds, as the kernel stores them
        self.hello_time = 200
        self.max_age = 2000
        self.mac_set_by_user = False
        self.mtu_set_by_user = False     # BROPT_MTU_SET_BY_USER: no more br_mtu_auto_adjust
        self.stp: stp_mod.Stp | None = None   # created when STP is first enabled
        self.vlans: dict[int, int] = {}   # the bridge device's own VLANs (`bridge vlan ... self`)
        self.pvid = 0
        self.vlan_default_pvid = 1
        self.mcast_snooping = 1
        self.next_port_no = 1
        self.group_fwd_mask = 0
        self.vlan_filtering = 0
        self.had_ports = False
        self.n_fwd = 0                   # ports whose forwarding() holds (Bridge.port_fwd_check)
        self.mcast: BridgeMcast | None = None   # IGMP snooping state, once multicast was seen
        self.fdb[mac] = FdbEntry(mac, None, 0, is_local=True, is_static=True)
        # br_vlan_init: the bridge itself is in the default VLAN, PVID and untagged
        self.vlans[1] = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED
        self.pvid = 1

    # -- the flow fast path's seam (stack/fastpath.py: routed through the bridge device) --------
    def fast_upper_pure(self) -> bool:
        """A plain bridge device (exact class) without VLAN filtering, qdiscs, a master or state
        the fast path does not know: routing from it and to it may take the flow fast path."""
        return (type(self) is Bridge and not self.vlan_filtering and self.master is None and self.rx_handler is None
                and self.ingress_q is None and self.qdisc is None and unknown_device_state(self, BRIDGE_NEUTRAL) is None)

    def fast_upper_out(self, lladdr: bytes, now: int) -> NetDevice | None:
        """br_dev_xmit's decision for a routed frame to `lladdr`, as the fast path may take it: the
        bridge up, a known unicast FDB entry (not local, not aged) on a forwarding, pure port: its
        device (whether that takes the frame now is `fastpath.xmit_state`'s); None for the full path."""
        if not self.up or self.vlan_filtering or lladdr[0] & 1:
            return None
        e = self.fdb.get(lladdr)
        if e is None or e.is_local or e.port is None:
            return None
        if not e.is_static:
            stp = self.stp     # hold_time(), inline: the ageing time unless STP is in a topology change
            if now - e.updated > (self.ageing_ns if stp is None else self.hold_time()):
                return None
        port = e.port
        if (port.state != BR_STATE_FORWARDING
                or not (port.fast_ok if port.fast_gen == self.ns.world.config_generation else port.fast_pure())):
            return None
        return port.dev

    # -- state -------------------------------------------------------------
    def port_fwd_check(self, port: BridgePort) -> None:
        """Keep `n_fwd`, the count of forwarding ports, exact: called wherever a port's state or
        its device's carrier may have changed (a state assignment, NETDEV_* on the port's device
        through lower_event, a port added or removed), as the kernel updates the bridge's carrier
        bit in br_port_carrier_check / br_port_state_selection instead of scanning on each query."""
        fwd = port.forwarding()
        if fwd != port.fwd:
            port.fwd = fwd
            self.n_fwd += 1 if fwd else -1

    def carrier_ok(self) -> bool:
        """The carrier bit br_port_state_selection sets: on while a port forwards (and from
        creation until the first port came)."""
        if not self.ports and not self.had_ports:
            return True
        return self.n_fwd > 0

    def has_carrier(self) -> bool:
        """br_port_carrier_check: the bridge has carrier while a port forwards.

        A bridge that never had a port keeps the carrier it was created with
        (on) and an operstate of UNKNOWN, as the kernel shows it.
        """
        if not self.up:
            return False
        if not self.ports and not self.had_ports:
            return True
        return self.n_fwd > 0

    def operstate(self) -> str:
        if not self.up:
            return "DOWN"
        if not self.had_ports:
            return "UNKNOWN"
        return "UP" if self.has_carrier() else "DOWN"

    def set_mac(self, mac: bytes, by_user: bool) -> None:
        """br_fdb_change_mac_address: the bridge's own entry follows its address.

        A port's own entry for the same address stays; the port-less entry is
        only added when no entry exists for the new address.
        """
        old = self.fdb.get(self.mac)
        if old is not None and old.port is None:
            del self.fdb[self.mac]
        self.mac = mac
        if mac not in self.fdb and mac != b"\x00" * 6:
            self.fdb[mac] = FdbEntry(mac, None, self.ns.sched.now, is_local=True, is_static=True)
        if by_user:
            self.mac_set_by_user = True
        if self.stp is not None:
            self.stp.change_bridge_id()

    def port_mac_changed(self, port: BridgePort, old: bytes) -> None:
        """br_fdb_changeaddr: a port's own (local) entry follows its new address."""
        e = self.fdb.get(old)
        if e is not None and e.port is port and e.is_local:
            del self.fdb[old]
            e.mac = port.dev.mac
            self.fdb[e.mac] = e
        self.recalc_mac()

    def recalc_mac(self) -> None:
        """br_stp_recalculate_bridge_id: take the lowest port address unless set by hand."""
        if self.mac_set_by_user:
            return
        # with no port left the kernel's bridge address becomes all zeros
        lowest = min(p.dev.mac for p in self.ports) if self.ports else b"\x00" * 6
        if lowest != self.mac:
            self.set_mac(lowest, by_user=False)
            self.ns.config_changed()

    # -- MTU (br_change_mtu, br_mtu_auto_adjust in br_if.c) --------------------
    def ndo_change_mtu(self, mtu: int) -> None:
        """br_change_mtu: an MTU set by the user sticks; ports no longer move it."""
        self.mtu = mtu
        self.mtu_set_by_user = True

    def mtu_auto_adjust(self) -> None:
        """br_mtu_auto_adjust: the smallest port MTU (1500 with no port), unless set by the user.

        The MTU given at creation (`ip link add br0 mtu N type bridge`) is not the user's."""
        if self.mtu_set_by_user:
            return
        mtu = min((p.dev.mtu for p in self.ports), default=1500)
        if mtu != self.mtu:
            self.mtu = mtu
            self.ns.config_changed()

    def lower_changemtu(self, dev: NetDevice) -> None:
        self.mtu_auto_adjust()

    # -- ports: the master API (br_add_if / br_del_if) -------------------------
    def check_slave(self, dev: NetDevice) -> None:
        """br_add_if's refusals, in its order: a loopback or non-Ethernet device, a bridge (the
        bridge itself too: it is a bridge before it is itself), then the generic ones."""
        if isinstance(dev, Loopback):
            raise NetplexError("Error: Can not enslave loopback device.", errno.EINVAL)
        if isinstance(dev, Bridge):
            raise NetplexError("Error: Can not enslave a bridge to a bridge.", errno.ELOOP)
        super().check_slave(dev)

    def ndo_add_slave(self, dev: NetDevice) -> None:
        self.add_port(dev)

    def ndo_del_slave(self, dev: NetDevice) -> None:
        self.del_port(dev)

    def lower_event(self, dev: NetDevice) -> None:
        port = dev.bridge_port
        if port is not None:
            self.port_event(port)
            self.port_fwd_check(port)

    def add_port(self, dev: NetDevice) -> BridgePort:
        port = BridgePort(self, dev, self.next_port_no)
        netdev_rx_handler_register(dev, port.rx_handler)
        self.next_port_no += 1
        self.ports.append(port)
        self.had_ports = True
        dev.master = self
        dev.bridge_port = port
        self.fdb[dev.mac] = FdbEntry(dev.mac, port, self.ns.sched.now, is_local=True, is_static=True)
        if self.vlan_default_pvid:
            # nbp_vlan_init: a new port joins the default VLAN, PVID and untagged
            vid = self.vlan_default_pvid
            port.vlans[vid] = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED
            port.pvid = vid
        if self.stp is not None:
            port.stp = stp_mod.PortStp(self.stp, port)
            port.state = BR_STATE_DISABLED
        self.port_fwd_check(port)
        self.recalc_mac()
        self.mtu_auto_adjust()
        self.port_event(port)
        return port

    def del_port(self, dev: NetDevice) -> None:
        port = dev.bridge_port
        assert port is not None and port.bridge is self
        if self.stp is not None and port.state != BR_STATE_DISABLED:
            self.stp.disable_port(port)
        self.ports.remove(port)
        if port.fwd:
            port.fwd = False
            self.n_fwd -= 1
        netdev_rx_handler_unregister(dev)
        dev.master = None
        dev.bridge_port = None
        for mac in [m for m, e in self.fdb.items() if e.port is port]:
            del self.fdb[mac]
        if self.mcast is not None:
            self.mcast.del_port(port)
        self.recalc_mac()
        self.mtu_auto_adjust()

    def release_ports(self) -> None:
        for p in list(self.ports):
            self.del_port(p.dev)

    # -- events: carrier, admin state, STP (br_port_carrier_check, br_dev_open/stop) --
    def port_should_run(self, port: BridgePort) -> bool:
        dev = port.dev
        return self.up and dev.up and dev.has_carrier()

    def port_event(self, port: BridgePort) -> None:
        """NETDEV_UP/DOWN/CHANGE on a port: br_stp_enable_port / br_stp_disable_port.

        A port that stops running loses its learned FDB entries
        (br_fdb_delete_by_port); with STP it is re-elected.
        """
        run = self.port_should_run(port)
        if run == port.running:
            return
        port.running = run
        stp = self.stp
        if run:
            if stp is not None and self.stp_state:
                stp.enable_port(port)
            else:
                port.state = BR_STATE_FORWARDING
        else:
            self.stp_disable_port(port)
            if stp is not None and not self.stp_state:
                port.state = BR_STATE_FORWARDING   # shown as disabled while not running
        self.port_fwd_check(port)
        self.ns.config_changed()

    def stp_disable_port(self, port: BridgePort) -> None:
        """br_stp_disable_port: the port's learned entries and memberships go, STP re-elects
        (also what a BPDU on a port with `guard on` does)."""
        for key in [k for k, e in self.fdb.items() if e.port is port and not e.is_static]:
            del self.fdb[key]
        if self.mcast is not None:
            self.mcast.del_port(port)   # br_multicast_disable_port
        if self.stp is not None:
            self.stp.disable_port(port)
        self.ns.config_changed()

    def bridge_event(self) -> None:
        """The bridge device went up or down: br_stp_enable_bridge / br_stp_disable_bridge.

        An up bridge with multicast snooping (the default) also joins the multicast-router
        discovery group 224.0.0.106 (br_ip4_multicast_join_snoopers): its IGMP reports go
        out of every port, so a bridge's address is learned wherever they reach.
        """
        if self.up and self.mcast_snooping:
            ip_mc_join_group(self.ns, self, MCAST_SNOOPERS)
        else:
            ip_mc_leave_group(self.ns, self, MCAST_SNOOPERS)
        if self.up != self.gc_up:   # br_dev_open / br_dev_stop, not a carrier change
            # br_stp_enable_bridge queues the gc work a tenth of a second out; br_stp_disable_bridge cancels it
            self.gc_up = self.up
            self.gc_next = self.ns.sched.now + NSEC_PER_SEC // 10 if self.up else None
        stp = self.stp
        if stp is not None:
            if self.up:
                for p in self.ports:
                    p.running = self.port_should_run(p)
                stp.enable_bridge()
            else:
                stp.disable_bridge()
                for p in self.ports:
                    p.running = False
                if not self.stp_state:
                    for p in self.ports:
                        p.state = BR_STATE_FORWARDING
                        self.port_fwd_check(p)
            return
        for p in self.ports:
            self.port_event(p)

    def netdev_event(self) -> None:
        self.bridge_event()

    # -- options: br_changelink and its setters ------------------------------
    def changelink(self, opts: dict[str, int]) -> None:
        """br_changelink: apply IFLA_BR_* options in the kernel's order, stopping at the first
        error (what was applied before it stays, as in the kernel)."""
        try:
            for key in BR_CHANGELINK_ORDER:
                if key in opts:
                    self._setters[key](self, opts[key])
        finally:
            self.ns.config_changed()

    def set_forward_delay(self, value: int) -> None:
        """br_set_forward_delay (centiseconds): the range is checked only while STP runs."""
        if self.stp_state and not (stp_mod.BR_MIN_FORWARD_DELAY * 100 <= value
                                   <= stp_mod.BR_MAX_FORWARD_DELAY * 100):
            raise _erange()
        self.forward_delay = value
        self._stp_timers_changed()

    def set_hello_time(self, value: int) -> None:
        """br_set_hello_time (centiseconds)."""
        if not stp_mod.BR_MIN_HELLO_TIME * 100 <= value <= stp_mod.BR_MAX_HELLO_TIME * 100:
            raise _erange()
        self.hello_time = value
        self._stp_timers_changed()

    def set_max_age(self, value: int) -> None:
        """br_set_max_age (centiseconds)."""
        if not stp_mod.BR_MIN_MAX_AGE * 100 <= value <= stp_mod.BR_MAX_MAX_AGE * 100:
            raise _erange()
        self.max_age = value
        self._stp_timers_changed()

    def _stp_timers_changed(self) -> None:
        if self.stp is not None:
            self.stp.set_timer_values()

    def hold_time(self) -> int:
        """br_fdb.c hold_time(): a learned entry lives one forward delay during a topology
        change, the ageing time otherwise (ns)."""
        stp = self.stp
        if stp is not None and stp.enabled and stp.topology_change:
            return stp.forward_delay
        return self.ageing_ns

    def gc_timer_ns(self) -> int:
        """br_timer_value(&br->gc_work.timer), IFLA_BR_GC_TIMER: how long before br_fdb_cleanup runs,
        0 when it is not queued. Each run queues the next one hold_time later (10 ms at least); the
        entries themselves age lazily (fdb_expired), so the runs are only counted here."""
        nxt = self.gc_next
        if nxt is None:
            return 0
        now = self.ns.sched.now
        if nxt <= now:
            period = max(self.hold_time(), 10_000_000)
            nxt += ((now - nxt) // period + 1) * period
            self.gc_next = nxt
        return nxt - now

    def set_ageing_time(self, centisecs: int) -> None:
        """br_set_ageing_time: FDB entries age out after this long (clock_t centiseconds); the gc work
        runs at once (mod_delayed_work(.., 0)) and so re-arms itself with the new time, up or down."""
        self.ageing_ns = centisecs * 10_000_000
        self.gc_next = self.ns.sched.now
        if self.stp is not None and self.stp.saved_ageing_ns is not None:
            self.stp.saved_ageing_ns = self.ageing_ns

    def set_priority(self, value: int) -> None:
        """br_stp_set_bridge_priority."""
        self.priority = value & 0xFFFF
        if self.stp is not None:
            self.stp.change_bridge_id()

    def set_stp_state(self, on: int) -> None:
        """br_stp_set_enabled: start or stop the kernel's spanning tree."""
        on = 1 if on else 0
        if on == self.stp_state:
            return
        stp = self.stp
        if on and stp is None:
            stp = self.stp = stp_mod.Stp(self)
        assert stp is not None
        if on:
            for p in self.ports:
                p.running = self.port_should_run(p)
                if not p.running:
                    p.state = BR_STATE_DISABLED
                    self.port_fwd_check(p)
                else:
                    p.stp.port_id = (p.priority << 10) | p.port_no
                    stp.become_designated_port(p)
            stp.configuration_update()
        self.stp_state = on
        if on:
            stp.start()
        else:
            stp.stop()
        self.ns.config_changed()

    def set_vlan_filtering(self, on: int) -> None:
        """br_vlan_filter_toggle."""
        self.vlan_filtering = 1 if on else 0

    def set_group_fwd_mask(self, mask: int) -> None:
        self.group_fwd_mask = mask

    def set_default_pvid(self, vid: int) -> None:
        """br_vlan_set_default_pvid: ports still on the old default move to the new one."""
        old = self.vlan_default_pvid
        if vid == old:
            return
        if vid >= 4095:
            raise _erange()
        flags = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED
        owners: list[Bridge | BridgePort] = [self, *self.ports]
        for owner in owners:
            vlans = owner.vlans
            if old and owner.pvid == old and vlans.get(old) == flags:
                vlan_del(vlans, owner, old)
                if vid:
                    vlan_add(vlans, owner, vid, flags)
        self.vlan_default_pvid = vid

    def set_mcast_snooping(self, value: int) -> None:
        """br_multicast_toggle: turning snooping off forgets every learned group; the
        snoopers' group is joined only while snooping."""
        value = 1 if value else 0
        if value == self.mcast_snooping:
            return
        self.mcast_snooping = value
        if not value:
            self.mcast = None
        if self.up:
            (ip_mc_join_group if value else ip_mc_leave_group)(self.ns, self, MCAST_SNOOPERS)

    def set_mcast_querier(self, value: int) -> None:
        """br_multicast_set_querier."""
        self.mcast_ctx().set_querier(value)

    _setters: ClassVar[dict[str, Callable[[Bridge, int], None]]] = {"forward_delay": set_forward_delay, "hello_time": set_hello_time, "max_age": set_max_age,
                "ageing_time": set_ageing_time, "stp_state": set_stp_state, "priority": set_priority,
                "vlan_filtering": set_vlan_filtering, "group_fwd_mask": set_group_fwd_mask,
                "vlan_default_pvid": set_default_pvid, "mcast_snooping": set_mcast_snooping,
                "mcast_querier": set_mcast_querier}

    # -- port options: br_setport ------------------------------------------------
    PORT_FLAGS: ClassVar[tuple[str, ...]] = ("hairpin", "learning", "flood", "isolated", "mcast_flood", "guard",
                                             "root_block", "fastleave", "bcast_flood", "proxy_arp",
                                             "proxy_arp_wifi", "neigh_suppress")

    def port_set(self, port: BridgePort, **opts: int) -> None:
        """br_setport / brctl: port flags (hairpin, learning, flood, isolated, mcast_flood, guard,
        root_block, fastleave, bcast_flood, proxy_arp, proxy_arp_wifi, neigh_suppress),
        path_cost and priority (STP re-elects), state, and mcast_router."""
        for key, value in opts.items():
            if key in self.PORT_FLAGS:
                setattr(port, key, bool(value))
            elif key in ("path_cost", "priority"):
                setattr(port, key, value)
                if self.stp is not None:
                    self.stp.port_params_changed(port)   # br_stp_set_path_cost / _port_priority
            elif key == "state":
                port.state = value
                self.port_fwd_check(port)
            elif key == "mcast_router":
                self.set_port_mcast_router(port, value)
            else:
                raise NetplexError(f"bridge port option {key} is not supported", errno.EOPNOTSUPP)
        self.ns.config_changed()

    def set_port_mcast_router(self, port: BridgePort, value: int) -> None:
        """br_multicast_set_port_router: 0 never, 1 learned from queries, 2 always, 3 for a while."""
        port.mcast_router = value
        m = self.mcast_ctx()
        if value == MDB_RTR_TYPE_TEMP:
            m.rports[port] = self.ns.sched.now + m.querier_interval
        else:
            m.rports.pop(port, None)

    # -- VLANs: bridge vlan add/del (br_vlan_add, nbp_vlan_add, br_vlan_delete) -----
    def vlan_add(self, port: BridgePort | None, vids: list[int], flags: int) -> None:
        """`bridge vlan add`: on a port, or with `port` None on the bridge device itself."""
        if any(v == 0 or v >= 4095 for v in vids):
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        owner: Bridge | BridgePort = self if port is None else port
        for vid in vids:
            vlan_add(owner.vlans, owner, vid, flags)
        self.ns.config_changed()

    def vlan_del(self, port: BridgePort | None, vids: list[int]) -> None:
        """`bridge vlan del`: ENOENT unless every VLAN is there."""
        if any(v == 0 or v >= 4095 for v in vids):
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        owner: Bridge | BridgePort = self if port is None else port
        if not all(v in owner.vlans for v in vids):
            raise NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)
        for vid in vids:
            vlan_del(owner.vlans, owner, vid)
        self.ns.config_changed()

    # -- FDB -----------------------------------------------------------------
    def fdb_find(self, mac: bytes, vid: int = 0) -> FdbEntry | None:
        """br_fdb_find: the entry for (address, VLAN); a local entry serves every VLAN.
        An entry past its ageing time is gone (br_fdb_cleanup, done lazily)."""
        fdb = self.fdb
        e = fdb.get(fdb_key(mac, vid)) if vid else fdb.get(mac)
        if e is None and vid:
            e = fdb.get(mac)
            if e is not None and not e.is_local:
                e = None
        if e is not None and not e.is_static and self.ns.sched.now - e.updated > self.hold_time():
            del fdb[fdb_key(e.mac, e.vlan)]
            return None
        return e

    fdb_lookup = fdb_find

    def fdb_update(self, port: BridgePort, mac: bytes, vid: int = 0) -> None:
        """br_fdb_update: learn (or refresh, or move) `mac` on `port`."""
        if mac[0] & 1:
            return
        fdb = self.fdb
        key = fdb_key(mac, vid)
        e = fdb.get(key)
        now = self.ns.sched.now
        if e is None:
            if vid:
                local = fdb.get(mac)
                if local is not None and local.is_local:
                    return
            fdb[key] = FdbEntry(mac, port, now, vlan=vid)
            if self.ns.world.tracer.on:
                in_vlan = f" vlan {vid}" if vid else ""
                self.ns.trace("br_fdb_update",
                              f"{self.name}: learned {self.ns.fmt_mac(mac)}{in_vlan} on {port.dev.name}",
                              dev=self.name, port=port.dev.name, vid=vid or None)
        elif not e.is_local:
            if e.port is not port and not e.is_static:
                e.port = port
            e.updated = now

    def fdb_add(self, mac: bytes, port: BridgePort | None, vid: int = 0, *, is_local: bool = False,
                is_static: bool = False, replace: bool = False) -> None:
        """br_fdb_add (NLM_F_CREATE, NLM_F_EXCL unless `replace`): a user's entry.

        `port` None is the bridge device itself (`bridge fdb add ... self` on the bridge). A
        VLAN must be configured on the port (or the bridge); without one the entry has VLAN 0,
        which a filtering bridge's lookups (by address and VLAN) do not find."""
        self._fdb_check(mac, port, vid)
        key = fdb_key(mac, vid)
        e = self.fdb.get(key)
        if e is not None and not replace:
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        self.fdb[key] = FdbEntry(mac, port, self.ns.sched.now, is_local=is_local, is_static=is_static,
                                 vlan=vid, added_by_user=True)
        self.ns.config_changed()

    def fdb_del(self, mac: bytes, port: BridgePort | None, vid: int = 0) -> None:
        """br_fdb_delete: ENOENT when there is no such entry (on that port)."""
        self._fdb_check(mac, port, vid)
        key = fdb_key(mac, vid)
        e = self.fdb.get(key)
        if e is None or e.port is not port:
            raise NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)
        del self.fdb[key]
        self.ns.config_changed()

    def _fdb_check(self, mac: bytes, port: BridgePort | None, vid: int) -> None:
        """br_fdb_add/br_fdb_delete's refusals: a multicast or zero address, an unconfigured VLAN."""
        if mac[0] & 1 or mac == b"\x00" * 6:
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        if vid and vid not in (self.vlans if port is None else port.vlans):
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)

    # -- data path -------------------------------------------------------
    def handle_frame(self, port: BridgePort, frame: Ethernet) -> None:
        """br_handle_frame → br_handle_frame_finish, with br_allowed_ingress on a filtering bridge."""
        ns = self.ns
        dst = frame.dst
        if self.stp_state and dst == BR_GROUP_ADDRESS:
            assert self.stp is not None
            self.stp.rcv(port, frame)   # a BPDU goes to STP, not across
            return
        if not self.up:
            # br_dev_stop disables every port: a bridge that is down forwards nothing
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_DOWN)
            return
        if port.state in _BLOCKED:
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_INGRESS_STP_STATE)
            return
        vid = 0
        if self.vlan_filtering:
            vid = br_allowed_ingress(port.vlans, port.pvid, frame)
            if not vid:
                ns.drop(frame, port.dev, SkbDropReason.BRIDGE_VLAN_FILTERED)
                return
        if port.learning:
            self.fdb_update(port, frame.src, vid)
        if port.state == BR_STATE_LEARNING:
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_PORT_LEARNING)
            return
        if ns.hooks and br_nf_enabled(ns, frame) and not br_nf_pre_routing(self, port, frame):
            return
        tracing = ns.world.tracer.on
        in_vlan = f" in vlan {vid}" if tracing and vid else ""
        replied = frame.type == ETH_P_ARP and proxy_suppress_arp(self, frame, vid, port)
        if dst[0] & 1:
            if dst[:3] == IP_MC_OUI and self.mcast_snooping and frame.type == ETH_P_IP:
                self.mcast_handle(port, frame, vid)
                return
            if tracing:
                what = "broadcast" if dst == BCAST else "multicast"
                ns.trace("br_flood", f"{self.name}: {what} from {port.dev.name} flooded{in_vlan}", dev=self.name,
                         port=port.dev.name, vid=vid or None)
            self.flood(frame, port, vid=vid, replied=replied)
            if self.up:
                self.deliver_local(frame.copy(), vid, port)
            return
        e = self.fdb_find(dst, vid)
        if e is not None:
            if e.is_local:
                if tracing:
                    ns.trace("br_pass_frame_up", f"{self.name}: to the bridge itself", dev=self.name,
                             port=port.dev.name)
                self.deliver_local(frame, vid, port)
                return
            out = e.port
            assert out is not None
            e.used = ns.sched.now
            if out is port and not port.hairpin:
                ns.drop(frame, port.dev, SkbDropReason.BRIDGE_SAME_PORT)
                return
            if port.isolated and out.isolated:
                ns.drop(frame, port.dev, SkbDropReason.NOT_SPECIFIED)   # br_forward: !should_deliver
                return
            if out.forwarding():
                if tracing:
                    vlan = f" vlan {vid}" if vid else ""
                    ns.trace("br_forward", f"{self.name}: {ns.fmt_mac(dst)}{vlan} → {out.dev.name}", dev=self.name,
                             port=port.dev.name, out_dev=out.dev.name, vid=vid or None)
                self.forward(out, frame, vid, True, port)
            return
        if tracing:
            ns.trace("br_flood", f"{self.name}: unknown unicast {ns.fmt_mac(dst)} flooded{in_vlan}", dev=self.name,
                     port=port.dev.name, vid=vid or None)
        self.flood(frame, port, vid=vid, replied=replied)

    def forward(self, p: BridgePort, frame: Ethernet, vid: int, bridged: bool,
                ingress: BridgePort | None = None) -> None:
        """br_forward: ebtables' FORWARD (from `ingress`) or OUTPUT (the bridge's own frame),
        FORWARD/POSTROUTING for bridged IPv4 (br_netfilter), then the VLAN's egress
        tagging (br_handle_vlan), then the port's device."""
        ebt = self.ns.ebtables
        if ebt is not None and not ebt.hook("FORWARD" if bridged else "OUTPUT", frame.type, frame.src, frame.dst,
                                            ingress.dev.name if ingress is not None else None, p.dev.name,
                                            frame.wire_len() - ETH_HLEN):
            self.ns.drop(frame, p.dev, SkbDropReason.NETFILTER_DROP)
            return
        if bridged and frame.meta is not None and not br_nf_forward(self, frame, p):
            return
        if vid and not br_handle_vlan(p.vlans, vid, frame):
            return
        p.dev.xmit(frame)

    def should_deliver(self, p: BridgePort, ingress: BridgePort | None, vid: int) -> bool:
        """should_deliver: a forwarding port, not the one the frame came in on unless in
        hairpin mode, a member of the frame's VLAN (br_allowed_egress), and not isolated
        from an isolated ingress port (br_skb_isolated)."""
        return ((p is not ingress or p.hairpin) and p.forwarding()
                and (not vid or vid in p.vlans)
                and not (p.isolated and ingress is not None and ingress.isolated))   # br_skb_isolated

    def flood(self, frame: Ethernet, ingress: BridgePort | None, mcast: bool = False, vid: int = 0,
              replied: bool = False) -> None:
        """br_flood: a copy to every other forwarding port: for unknown unicast the `flood` ports, for
        broadcast the `bcast_flood` ones and for multicast the `mcast_flood` ones (both: every port when
        the bridge itself sent it); never a proxy_arp port, nor a suppressing one an ARP request that
        was answered (`replied`: br_arp_proxy.py)."""
        dst = frame.dst
        own = ingress is None
        if not dst[0] & 1 and not mcast:
            targets = [p for p in self.ports if p.flood and self.should_deliver(p, ingress, vid)]
        elif dst == BCAST and not mcast:
            targets = [p for p in self.ports if (p.bcast_flood or own) and self.should_deliver(p, ingress, vid)]
        else:
            targets = [p for p in self.ports if (p.mcast_flood or own) and self.should_deliver(p, ingress, vid)]
        targets = [p for p in targets if not flood_skips(p, replied)]
        last = len(targets) - 1
        for i, p in enumerate(targets):
            self.forward(p, frame if i == last else frame.copy(), vid, ingress is not None, ingress)

    def deliver_local(self, frame: Ethernet, vid: int = 0, ingress: BridgePort | None = None) -> None:
        """br_pass_frame_up: ebtables' INPUT, then the bridge device receives it (tagged as the
        bridge's own VLAN membership says, on a filtering bridge)."""
        ebt = self.ns.ebtables
        if ebt is not None and not ebt.hook("INPUT", frame.type, frame.src, frame.dst,
                                            ingress.dev.name if ingress is not None else None, None,
                                            frame.wire_len() - ETH_HLEN):
            self.ns.drop(frame, self, SkbDropReason.NETFILTER_DROP)
            return
        if vid and not br_handle_vlan(self.vlans, vid, frame):
            return
        nbytes = frame.wire_len()
        st = self.stats
        st.rx_packets += 1
        st.rx_bytes += nbytes
        self.ns.netif_receive(self, frame)

    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        """br_dev_xmit: what the IP stack sends on the bridge device (classified by the
        bridge's own PVID on a filtering bridge)."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        st = self.stats
        st.tx_packets += 1
        st.tx_bytes += frame.wire_len()
        self.xmit_taps(frame)
        vid = 0
        if self.vlan_filtering:
            vid = br_allowed_ingress(self.vlans, self.pvid, frame)
            if not vid:
                self.ns.drop(frame, self, SkbDropReason.BRIDGE_VLAN_FILTERED)
                return
        dst = frame.dst
        # br_dev_xmit: the bridge's own ARP is answered from its neighbours while a port suppresses
        replied = frame.type == ETH_P_ARP and neigh_suppress_enabled(self) and proxy_suppress_arp(self, frame, vid, None)
        if not dst[0] & 1:
            e = self.fdb_find(dst, vid)
            if e is not None and e.port is not None:
                if e.port.forwarding():
                    self.forward(e.port, frame, vid, False)
                return
        elif dst[:3] == IP_MC_OUI and self.mcast_snooping and frame.type == ETH_P_IP:
            self.mcast_xmit(frame, vid)
            return
        self.flood(frame, None, vid=vid, replied=replied)

    # -- IGMP snooping (br_multicast.c) ------------------------------------
    def mcast_ctx(self) -> BridgeMcast:
        m = self.mcast
        if m is None:
            m = self.mcast = BridgeMcast(self)
        return m

    def mcast_handle(self, port: BridgePort, frame: Ethernet, vid: int = 0) -> None:
        """br_handle_frame_finish for an IPv4 multicast frame on a snooping bridge.

        br_multicast_rcv learns from IGMP; then a registered group (or an
        unregistered, non-link-local one) goes only to its member ports and the
        router ports — but only while a querier exists on the segment
        (br_multicast_querier_exists). Otherwise, and always for 224.0.0.x and
        IGMP itself, the frame is flooded to the `mcast_flood` ports. On a
        filtering bridge only members of the frame's VLAN are targets.
        """
        m = self.mcast_ctx()
        mdst, mrouters_only = m.rcv(port, frame)
        ns = self.ns
        tracing = ns.world.tracer.on
        if (mdst is not None or mrouters_only) and m.querier_exists():
            targets = m.flood_targets(mdst, port, vid)
            if tracing:
                names = " ".join(p.dev.name for p in targets) or "no port"
                ns.trace("br_multicast_flood", f"{self.name}: {ns.fmt_ip(frame.payload.dst)} "  # type: ignore[attr-defined]
                         f"from {port.dev.name} to {names}", dev=self.name, port=port.dev.name)
            local = (mdst is not None and mdst.host_alive(ns.sched.now)) or m.is_router()
            self._mcast_out(frame, port, targets, local, vid)
            return
        if tracing:
            ns.trace("br_flood", f"{self.name}: multicast from {port.dev.name} flooded", dev=self.name,
                     port=port.dev.name)
        self.flood(frame, port, mcast=True, vid=vid)
        if self.up:
            self.deliver_local(frame.copy(), vid, port)

    def mcast_xmit(self, frame: Ethernet, vid: int = 0) -> None:
        """br_dev_xmit for IPv4 multicast: the host's own joins are learned, then the same choice."""
        m = self.mcast_ctx()
        mdst, mrouters_only = m.rcv(None, frame)
        if (mdst is not None or mrouters_only) and m.querier_exists():
            self._mcast_out(frame, None, m.flood_targets(mdst, None, vid), False, vid)
        else:
            self.flood(frame, None, mcast=True, vid=vid)

    def _mcast_out(self, frame: Ethernet, ingress: BridgePort | None, targets: list[BridgePort], local: bool,
                   vid: int = 0) -> None:
        """br_multicast_flood: one copy per target port (and up to the bridge when `local`)."""
        if local and self.up:
            self.deliver_local(frame.copy(), vid, ingress)
        last = len(targets) - 1
        for i, p in enumerate(targets):
            self.forward(p, frame if i == last else frame.copy(), vid, ingress is not None, ingress)


# -- IGMP snooping ------------------------------------------------------------
NS_PER_SEC = NSEC_PER_SEC
IGMP_HOST_MEMBERSHIP_REPORT, IGMP_HOST_MEMBERSHIP_QUERY = 0x12, 0x11
IGMPV2_HOST_MEMBERSHIP_REPORT, IGMP_HOST_LEAVE_MESSAGE, IGMPV3_HOST_MEMBERSHIP_REPORT = 0x16, 0x17, 0x22
IGMP_MRDISC_ADV = 0x30
IPPROTO_IGMP, IPPROTO_PIM = 2, 103
PIM_ALL_ROUTERS = 0xE000000D


def ipv4_is_local_multicast(a: int) -> bool:
    return (a & 0xFFFFFF00) == 0xE0000000


class MdbPortGroup:
    """net_bridge_port_group: one port's membership of a group."""

    __slots__ = ("port", "expires", "permanent")

    def __init__(self, port: BridgePort, expires: int, permanent: bool = False) -> None:
        self.port = port
        self.expires = expires
        self.permanent = permanent

    def alive(self, now: int) -> bool:
        return self.permanent or self.expires > now


class MdbEntry:
    """net_bridge_mdb_entry: a group, the host's own membership and the member ports."""

    __slots__ = ("group", "host_joined", "host_expires", "ports")

    def __init__(self, group: int) -> None:
        self.group = group
        self.host_joined = False
        self.host_expires = 0
        self.ports: list[MdbPortGroup] = []   # by port, highest first (the kernel sorts by port)

    def host_alive(self, now: int) -> bool:
        return self.host_joined and self.host_expires > now

    def live_ports(self, now: int) -> list[MdbPortGroup]:
        return [p for p in self.ports if p.alive(now)]


class BridgeMcast:
    """net_bridge_mcast: the mdb, the router ports and what the bridge knows of queriers.

    Times are the kernel's defaults (bridge/br_multicast.c): membership 260 s,
    other-querier present 255 s, query response 10 s, last member 2 × 1 s.
    Timers run out lazily: an entry is alive while its expiry is in the future.
    The bridge's own querier (multicast_querier 1) sends IGMPv2 general queries
    from 0.0.0.0 (two at startup, 31.25 s apart, then every 125 s) and a
    group-specific query on each leave.
    """

    def __init__(self, br: Bridge) -> None:
        self.br = br
        self.mdb: dict[int, MdbEntry] = {}            # newest group last (the dump shows newest first)
        self.rports: dict[BridgePort, int] = {}       # learned router port → expiry
        self.other_query_expires = 0                   # another querier was heard until then
        self.other_query_delay = 0                     # ... and the mdb is trusted from then on
        self.querier = 0                               # multicast_querier
        self.querier_gen = 0
        self.membership_interval = 260 * NS_PER_SEC
        self.querier_interval = 255 * NS_PER_SEC
        self.query_interval = 125 * NS_PER_SEC
        self.query_response_interval = 10 * NS_PER_SEC
        self.startup_query_interval = self.query_interval // 4
        self.startup_query_count = 2
        self.last_member_count = 2
        self.last_member_interval = 1 * NS_PER_SEC
        self.router = MDB_RTR_TYPE_TEMP_QUERY          # the bridge's own multicast_router

    # -- queries on ports ------------------------------------------------
    def querier_exists(self) -> bool:
        """br_multicast_querier_exists: a querier (ours or another) and its first response window passed."""
        now = self.br.ns.sched.now
        return self.other_query_delay <= now and (bool(self.querier) or self.other_query_expires > now)

    def is_router(self) -> bool:
        return self.router == MDB_RTR_TYPE_PERM

    def router_ports(self, now: int) -> list[BridgePort]:
        ports = [p for p in self.br.ports if p.mcast_router == MDB_RTR_TYPE_PERM
                 or (p.mcast_router in (MDB_RTR_TYPE_TEMP_QUERY, MDB_RTR_TYPE_TEMP)
                     and self.rports.get(p, 0) > now)]
        return sorted(ports, key=lambda p: -p.port_no)

    def flood_targets(self, mdst: MdbEntry | None, ingress: BridgePort | None, vid: int = 0) -> list[BridgePort]:
        """br_multicast_flood: the group's member ports merged with the router ports, each once,
        those that should get it (should_deliver: hairpin, VLAN membership)."""
        now = self.br.ns.sched.now
        seen: dict[int, BridgePort] = {}
        if mdst is not None:
            for pg in mdst.live_ports(now):
                seen[pg.port.port_no] = pg.port
        for p in self.router_ports(now):
            seen[p.port_no] = p
        should_deliver = self.br.should_deliver
        return [seen[n] for n in sorted(seen, reverse=True) if should_deliver(seen[n], ingress, vid)]

    def del_port(self, port: BridgePort) -> None:
        """br_multicast_disable_port: the port's memberships and router state go."""
        for e in list(self.mdb.values()):
            e.ports = [pg for pg in e.ports if pg.port is not port or pg.permanent]
        self.rports.pop(port, None)

    # -- br_multicast_rcv ---------------------------------------------------
    def rcv(self, port: BridgePort | None, frame: Any) -> tuple[MdbEntry | None, bool]:
        """br_multicast_ipv4_rcv: learn from IGMP; return (the group's entry, mrouters_only)."""
        ip = frame.payload
        dst = ip.dst
        proto = ip.proto
        if proto == IPPROTO_IGMP:
            # IGMP itself is never looked up in the mdb; a v1/v2 report goes to routers only
            return None, self._igmp_rcv(port, ip)
        if proto == IPPROTO_PIM and dst == PIM_ALL_ROUTERS and port is not None:
            self.mark_router(port)   # br_multicast_pim: a PIM hello marks a router port
        if ipv4_is_local_multicast(dst):
            return None, False
        now = self.br.ns.sched.now
        e = self.mdb.get(dst)
        if e is not None and not (e.host_alive(now) or e.live_ports(now)):
            del self.mdb[dst]
            e = None
        return e, True

    def _igmp_rcv(self, port: BridgePort | None, ip: Any) -> bool:
        """br_ip4_multicast_*: True for a v1/v2 report (BR_INPUT_SKB_CB(skb)->mrouters_only)."""
        msg = ip.payload
        if not isinstance(msg, Igmp):
            try:
                msg = Igmp.decode(bytes(msg))
            except ValueError:
                return False
        t = msg.type
        if t in (IGMP_HOST_MEMBERSHIP_REPORT, IGMPV2_HOST_MEMBERSHIP_REPORT):
            self.add_group(port, msg.group)
            return True
        if t == IGMPV3_HOST_MEMBERSHIP_REPORT:
            for rec in msg.records:
                if rec.type in (1, 3) and not rec.sources:     # (MODE_IS|CHANGE_TO)_INCLUDE {}: a leave
                    self.leave_group(port, rec.group)
                elif 1 <= rec.type <= 6:
                    self.add_group(port, rec.group)
        elif t == IGMP_HOST_LEAVE_MESSAGE:
            self.leave_group(port, msg.group)
        elif t == IGMP_HOST_MEMBERSHIP_QUERY:
            self._query(port, ip, msg)
        elif t == IGMP_MRDISC_ADV and ip.dst == MCAST_SNOOPERS and port is not None:
            self.mark_router(port)   # br_ip4_multicast_mrd_rcv (RFC 4286 advertisement)
        return False

    def add_group(self, port: BridgePort | None, group: int) -> None:
        """br_ip4_multicast_add_group: a report (re)starts the membership timer (260 s)."""
        if ipv4_is_local_multicast(group):
            return
        br = self.br
        now = br.ns.sched.now
        if port is not None and port.state == BR_STATE_DISABLED:
            return
        e = self.mdb.get(group)
        if e is None:
            e = self.mdb[group] = MdbEntry(group)
        if port is None:
            e.host_joined = True
            e.host_expires = now + self.membership_interval
            return
        for pg in e.ports:
            if pg.port is port:
                if not pg.permanent:
                    pg.expires = now + self.membership_interval
                return
        pg = MdbPortGroup(port, now + self.membership_interval)
        i = 0
        while i < len(e.ports) and e.ports[i].port.port_no > port.port_no:
            i += 1
        e.ports.insert(i, pg)
        if br.ns.world.tracer.on:
            br.ns.trace("br_mdb", f"{br.name}: {port.dev.name} joined {br.ns.fmt_ip(group)}", dev=br.name,
                        port=port.dev.name)

    def leave_group(self, port: BridgePort | None, group: int) -> None:
        """br_multicast_leave_group: the membership ends after the last-member interval.

        With another querier present the bridge waits for that querier's
        group-specific query; with its own querier it sends one.
        """
        if ipv4_is_local_multicast(group):
            return
        br = self.br
        if not br.up or (port is not None and port.state == BR_STATE_DISABLED):
            return
        e = self.mdb.get(group)
        if e is None:
            return
        now = br.ns.sched.now
        if port is not None and port.fastleave:
            # BR_MULTICAST_FAST_LEAVE: the port's membership ends now, no query is sent
            for pg in e.ports:
                if pg.port is port:
                    if not pg.permanent:
                        pg.expires = now
                    break
            return
        if self.other_query_expires > now:
            return
        if self.querier:
            self.send_query(port, group)
        limit = now + self.last_member_count * self.last_member_interval
        if port is None:
            if e.host_joined and e.host_expires > limit:
                e.host_expires = limit
            return
        for pg in e.ports:
            if pg.port is port and not pg.permanent and pg.expires > limit:
                pg.expires = limit

    def _query(self, port: BridgePort | None, ip: Any, q: Any) -> None:
        """br_ip4_multicast_query: another querier is present; its port is a router port."""
        now = self.br.ns.sched.now
        if q.query_extra:
            code = q.max_resp
            mrt = code if code < 128 else ((code & 0x0F) | 0x10) << (((code >> 4) & 0x07) + 3)
            max_delay = max(1, mrt) * NS_PER_SEC // 10
        else:
            max_delay = (q.max_resp or 100) * NS_PER_SEC // 10
        if not q.group:
            if self.other_query_expires <= now:
                self.other_query_delay = now + max_delay
            self.other_query_expires = now + self.querier_interval
            if port is not None:
                self.mark_router(port)
            return
        # a group-specific query: members must answer within last_member_count × max_delay
        e = self.mdb.get(q.group)
        if e is None:
            return
        limit = now + self.last_member_count * max_delay
        for pg in e.ports:
            if pg.port is not port and not pg.permanent and pg.expires > limit:
                pg.expires = limit

    def mark_router(self, port: BridgePort) -> None:
        """br_multicast_mark_router: a learned router port lasts the querier interval."""
        if port.mcast_router in (MDB_RTR_TYPE_TEMP_QUERY, MDB_RTR_TYPE_TEMP):
            self.rports[port] = self.br.ns.sched.now + self.querier_interval

    # -- the bridge's own querier --------------------------------------------
    def set_querier(self, on: int) -> None:
        """br_multicast_set_querier."""
        on = 1 if on else 0
        if on == self.querier:
            return
        self.querier = on
        self.querier_gen += 1
        if on:
            now = self.br.ns.sched.now
            if self.other_query_expires <= now:
                self.other_query_delay = now + self.query_response_interval
            self._own_query(self.querier_gen, 0)

    def _own_query(self, gen: int, sent: int) -> None:
        if gen != self.querier_gen or not self.querier:
            return
        br = self.br
        if br.up and br.mcast is self and self.other_query_expires <= br.ns.sched.now:
            self.send_query(None, 0)
            sent += 1
        delay = self.startup_query_interval if sent < self.startup_query_count else self.query_interval
        br.ns.sched.after(delay, self._own_query, gen, sent)

    def send_query(self, port: BridgePort | None, group: int) -> None:
        """br_ip4_multicast_alloc_query: an IGMPv2 query from 0.0.0.0, TTL 1, Router Alert."""
        br = self.br
        dst = group or 0xE0000001
        max_resp = (self.last_member_interval if group else self.query_response_interval) * 10 // NS_PER_SEC
        ip = IPv4(0, dst, IPPROTO_IGMP, Igmp(IGMP_HOST_MEMBERSHIP_QUERY, group, max_resp), ttl=1, tos=0xC0,
                  options=IPOPT_RA)
        mac = IP_MC_OUI + (dst & 0x7FFFFF).to_bytes(3, "big")
        targets = [port] if port is not None else [p for p in br.ports if p.forwarding()]
        for p in targets:
            if p.forwarding():
                p.dev.xmit(Ethernet(mac, br.mac, ETH_P_IP, ip.copy()))
        if port is None and br.up:
            br.deliver_local(Ethernet(mac, br.mac, ETH_P_IP, ip.copy()))
