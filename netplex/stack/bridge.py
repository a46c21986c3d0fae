"""The Linux bridge (net/bridge/): ports, the forwarding database, flooding.

`br_handle_frame` learns the source address on the ingress port (ageing
300 s), then delivers to the bridge device itself (frames to its own or a
port's address, broadcast and multicast), forwards to the port the FDB names
(`br_forward`), or floods unknown unicast, broadcast and multicast to every
other forwarding port (`br_flood`). The bridge device is an L3 device too:
what the IP stack sends on it goes through the same FDB (`br_dev_xmit`).
STP is off by default; with it off every up port forwards. With `stp_state 1`
the spanning tree (`stp.py`) decides port states and consumes BPDUs; with
`vlan_filtering 1` frames are classified, filtered and tagged per port
(`vlan.py`). Either swaps in its own `handle_frame`/`xmit` on that bridge
only, so a plain bridge's path is unchanged.

IGMP snooping (br_multicast.c, mcast_snooping 1, the default) is `BridgeMcast`,
created on a bridge when the first IPv4 multicast frame crosses it; only
frames to 01:00:5e:… take that path.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netplex.engine.scheduler import NSEC_PER_SEC
from netplex.packet.ethernet import ETH_P_IP
from netplex.stack.device import NetDevice
from netplex.stack.dropreason import SkbDropReason
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


class FdbEntry:
    """net_bridge_fdb_entry."""

    __slots__ = ("mac", "vlan", "port", "updated", "is_local", "is_static", "added_by_user")

    def __init__(self, mac: bytes, port: Any, now: int, is_local: bool = False,
                 is_static: bool = False, vlan: int = 0, added_by_user: bool = False) -> None:
        self.mac = mac
        self.vlan = vlan
        self.port = port          # BridgePort, or None for the bridge device itself
        self.updated = now
        self.is_local = is_local
        self.is_static = is_static
        self.added_by_user = added_by_user


class BridgePort:
    """net_bridge_port: a device enslaved to a bridge."""

    __slots__ = ("bridge", "dev", "port_no", "state", "priority", "path_cost", "learning", "flood",
                 "hairpin", "isolated", "stp", "running", "vlans", "pvid", "mcast_router", "mcast_flood")

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

    def forwarding(self) -> bool:
        return self.state == BR_STATE_FORWARDING and self.dev.has_carrier()


class Bridge(NetDevice):
    """A bridge device and its ports."""

    kind = "bridge"

    def __init__(self, ns: Namespace, name: str, mac: bytes) -> None:
        super().__init__(ns, name, mac)
        self.ports: list[BridgePort] = []
        self.fdb: dict[bytes, FdbEntry] = {}
        self.ageing_ns = 300 * NSEC_PER_SEC
        self.stp_state = 0
        self.priority = 0x8000
        self.forward_delay = 1500     # centiseconds, as the kernel stores them
        self.hello_time = 200
        self.max_age = 2000
        self.mac_set_by_user = False
        self.stp: Any = None              # netplex.stack.stp.Stp, created when STP is first enabled
        self.vlans: dict[int, int] = {}   # the bridge device's own VLANs (`bridge vlan ... self`)
        self.pvid = 0
        self.vlan_default_pvid = 1
        self._mcast_snooping = 1
        self.next_port_no = 1
        self.group_fwd_mask = 0
        self.vlan_filtering = 0
        self.had_ports = False
        self.mcast: BridgeMcast | None = None   # IGMP snooping state, once multicast was seen
        self.fdb[mac] = FdbEntry(mac, None, 0, is_local=True, is_static=True)
        # br_vlan_init: the bridge itself is in the default VLAN, PVID and untagged
        self.vlans[1] = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED
        self.pvid = 1

    @property
    def mcast_snooping(self) -> int:
        return self._mcast_snooping

    @mcast_snooping.setter
    def mcast_snooping(self, value: int) -> None:
        """br_multicast_toggle: turning snooping off forgets every learned group."""
        self._mcast_snooping = value
        if not value:
            self.mcast = None

    # -- state -------------------------------------------------------------
    def has_carrier(self) -> bool:
        """br_port_carrier_check: the bridge has carrier while a port forwards.

        A bridge that never had a port keeps the carrier it was created with
        (on) and an operstate of UNKNOWN, as the kernel shows it.
        """
        if not self.up:
            return False
        if not self.ports and not self.had_ports:
            return True
        return any(p.forwarding() for p in self.ports)

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

    def recalc_mac(self) -> None:
        """br_stp_recalculate_bridge_id: take the lowest port address unless set by hand."""
        if self.mac_set_by_user:
            return
        # with no port left the kernel's bridge address becomes all zeros
        lowest = min(p.dev.mac for p in self.ports) if self.ports else b"\x00" * 6
        if lowest != self.mac:
            self.set_mac(lowest, by_user=False)
            self.ns.config_changed()

    def add_port(self, dev: NetDevice) -> BridgePort:
        port = BridgePort(self, dev, self.next_port_no)
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
        self.recalc_mac()
        if self.stp is not None:
            from netplex.stack.stp import PortStp

            port.stp = PortStp(self.stp, port)
            port.state = BR_STATE_DISABLED
        self.port_event(port)
        return port

    def del_port(self, dev: NetDevice) -> None:
        port = dev.bridge_port
        if self.stp is not None and port.state != BR_STATE_DISABLED:
            self.stp.disable_port(port)
        self.ports.remove(port)
        dev.master = None
        dev.bridge_port = None
        for mac in [m for m, e in self.fdb.items() if e.port is port]:
            del self.fdb[mac]
        if self.mcast is not None:
            self.mcast.del_port(port)
        self.recalc_mac()

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
            for key in [k for k, e in self.fdb.items() if e.port is port and not e.is_static]:
                del self.fdb[key]
            if self.mcast is not None:
                self.mcast.del_port(port)   # br_multicast_disable_port
            if stp is not None:
                stp.disable_port(port)
                if not self.stp_state:
                    port.state = BR_STATE_FORWARDING   # shown as disabled while not running
        self.ns.config_changed()

    def bridge_event(self) -> None:
        """The bridge device went up or down: br_stp_enable_bridge / br_stp_disable_bridge.

        An up bridge with multicast snooping (the default) also joins the multicast-router
        discovery group 224.0.0.106 (br_ip4_multicast_join_snoopers): its IGMP reports go
        out of every port, so a bridge's address is learned wherever they reach.
        """
        from netplex.stack.igmp import ip_mc_join_group, ip_mc_leave_group

        if self.up and self.mcast_snooping:
            ip_mc_join_group(self.ns, self, MCAST_SNOOPERS)
        else:
            ip_mc_leave_group(self.ns, self, MCAST_SNOOPERS)
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
            return
        for p in self.ports:
            self.port_event(p)

    def netdev_event(self) -> None:
        self.bridge_event()

    def set_stp_state(self, on: int) -> None:
        """br_stp_set_enabled: start or stop the kernel's spanning tree."""
        from netplex.stack.stp import Stp

        on = 1 if on else 0
        if on == self.stp_state:
            return
        if on and self.stp is None:
            self.stp = Stp(self)
        if on:
            stp = self.stp
            for p in self.ports:
                p.running = self.port_should_run(p)
                if not p.running:
                    p.state = BR_STATE_DISABLED
                else:
                    p.stp.port_id = (p.priority << 10) | p.port_no
                    stp.become_designated_port(p)
            stp.configuration_update()
        self.stp_state = on
        if on:
            self.stp.start()
        else:
            self.stp.stop()
        self.select_datapath()
        self.ns.config_changed()

    def select_datapath(self) -> None:
        """Swap in the STP/VLAN receive and transmit paths on this bridge only."""
        from netplex.stack import vlan

        d = self.__dict__
        if self.vlan_filtering:
            d["handle_frame"] = lambda port, frame: vlan.br_handle_frame_vlan(self, port, frame)
            d["xmit"] = lambda frame, nbytes=0: vlan.br_dev_xmit_vlan(self, frame)
        elif self.stp_state:
            d["handle_frame"] = self._handle_frame_stp
            d.pop("xmit", None)
        else:
            d.pop("handle_frame", None)
            d.pop("xmit", None)

    def _handle_frame_stp(self, port: BridgePort, frame: Any) -> None:
        """br_handle_frame with kernel STP: BPDUs to the group address go to STP, not across."""
        if frame.dst == BR_GROUP_ADDRESS:
            self.stp.rcv(port, frame)
            return
        Bridge.handle_frame(self, port, frame)

    # -- FDB -----------------------------------------------------------------
    def fdb_lookup(self, mac: bytes) -> FdbEntry | None:
        e = self.fdb.get(mac)
        if e is not None and not e.is_static and self.ns.sched.now - e.updated > self.ageing_ns:
            del self.fdb[mac]
            return None
        return e

    def fdb_learn(self, port: BridgePort, mac: bytes) -> None:
        """br_fdb_update."""
        if mac[0] & 1:
            return
        e = self.fdb.get(mac)
        now = self.ns.sched.now
        if e is None:
            self.fdb[mac] = FdbEntry(mac, port, now)
            if self.ns.world.tracer.on:
                self.ns.trace("br_fdb_update", f"{self.name}: learned {self.ns.fmt_mac(mac)} on {port.dev.name}",
                              dev=self.name, port=port.dev.name)
        elif not e.is_local:
            if e.port is not port and not e.is_static:
                e.port = port
            e.updated = now

    # -- data path -------------------------------------------------------
    def handle_frame(self, port: BridgePort, frame: Any) -> None:
        """br_handle_frame → br_handle_frame_finish."""
        ns = self.ns
        if not self.up:
            # br_dev_stop disables every port: a bridge that is down forwards nothing
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_DOWN)
            return
        if port.state in (BR_STATE_DISABLED, BR_STATE_BLOCKING, BR_STATE_LISTENING):
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_INGRESS_STP_STATE)
            return
        src = frame.src
        if port.learning:
            self.fdb_learn(port, src)
        if port.state == BR_STATE_LEARNING:
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_PORT_LEARNING)
            return
        if ns.hooks and br_nf_enabled(ns, frame) and not br_nf_pre_routing(self, port, frame):
            return
        dst = frame.dst
        tracing = ns.world.tracer.on
        if dst[0] & 1:
            if dst[:3] == IP_MC_OUI and self.mcast_snooping and frame.type == ETH_P_IP:
                self.mcast_handle(port, frame)
                return
            if tracing:
                what = "broadcast" if dst == BCAST else "multicast"
                ns.trace("br_flood", f"{self.name}: {what} from {port.dev.name} flooded", dev=self.name,
                         port=port.dev.name)
            self.flood(frame, port)
            if self.up:
                self.deliver_local(frame.copy())
            return
        e = self.fdb_lookup(dst)
        if e is not None:
            if e.is_local:
                if tracing:
                    ns.trace("br_pass_frame_up", f"{self.name}: to the bridge itself", dev=self.name,
                             port=port.dev.name)
                self.deliver_local(frame)
                return
            if e.port is port:
                ns.drop(frame, port.dev, SkbDropReason.BRIDGE_SAME_PORT)
                return
            if e.port.forwarding():
                if tracing:
                    ns.trace("br_forward", f"{self.name}: {ns.fmt_mac(dst)} → {e.port.dev.name}", dev=self.name,
                             port=port.dev.name, out_dev=e.port.dev.name)
                if frame.meta is not None and not br_nf_forward(self, frame, e.port):
                    return
                e.port.dev.xmit(frame)
            return
        if tracing:
            ns.trace("br_flood", f"{self.name}: unknown unicast {ns.fmt_mac(dst)} flooded", dev=self.name,
                     port=port.dev.name)
        self.flood(frame, port)

    def flood(self, frame: Any, ingress: BridgePort | None, mcast: bool = False) -> None:
        """br_flood: a copy to every other forwarding port (`mcast_flood` ports for multicast)."""
        if mcast:
            # BR_MCAST_FLOOD: a port with mcast_flood off gets none, unless the bridge itself sent it
            targets = [p for p in self.ports if p is not ingress and (p.mcast_flood or ingress is None)
                       and p.forwarding()]
        else:
            targets = [p for p in self.ports if p is not ingress and p.flood and p.forwarding()]
        for i, p in enumerate(targets):
            f = frame if i == len(targets) - 1 else frame.copy()
            if ingress is not None and f.meta is not None and not br_nf_forward(self, f, p):
                continue
            p.dev.xmit(f)

    def deliver_local(self, frame: Any) -> None:
        """br_pass_frame_up: the bridge device receives it."""
        nbytes = frame.wire_len()
        st = self.stats
        st.rx_packets += 1
        st.rx_bytes += nbytes
        self.ns.netif_receive(self, frame)

    def xmit(self, frame: Any, nbytes: int = 0) -> None:
        """br_dev_xmit: what the IP stack sends on the bridge device."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        st = self.stats
        st.tx_packets += 1
        st.tx_bytes += frame.wire_len()
        dst = frame.dst
        if not dst[0] & 1:
            e = self.fdb_lookup(dst)
            if e is not None and e.port is not None:
                if e.port.forwarding():
                    e.port.dev.xmit(frame)
                return
        elif dst[:3] == IP_MC_OUI and self.mcast_snooping and frame.type == ETH_P_IP:
            self.mcast_xmit(frame)
            return
        self.flood(frame, None)

    # -- IGMP snooping (br_multicast.c) ------------------------------------
    def mcast_ctx(self) -> BridgeMcast:
        m = self.mcast
        if m is None:
            m = self.mcast = BridgeMcast(self)
        return m

    def mcast_handle(self, port: BridgePort, frame: Any) -> None:
        """br_handle_frame_finish for an IPv4 multicast frame on a snooping bridge.

        br_multicast_rcv learns from IGMP; then a registered group (or an
        unregistered, non-link-local one) goes only to its member ports and the
        router ports — but only while a querier exists on the segment
        (br_multicast_querier_exists). Otherwise, and always for 224.0.0.x and
        IGMP itself, the frame is flooded to the `mcast_flood` ports.
        """
        m = self.mcast_ctx()
        mdst, mrouters_only = m.rcv(port, frame)
        ns = self.ns
        tracing = ns.world.tracer.on
        if (mdst is not None or mrouters_only) and m.querier_exists():
            targets = m.flood_targets(mdst, port)
            if tracing:
                names = " ".join(p.dev.name for p in targets) or "no port"
                ns.trace("br_multicast_flood", f"{self.name}: {ns.fmt_ip(frame.payload.dst)} "
                         f"from {port.dev.name} to {names}", dev=self.name, port=port.dev.name)
            local = (mdst is not None and mdst.host_alive(ns.sched.now)) or m.is_router()
            self._mcast_out(frame, port, targets, local)
            return
        if tracing:
            ns.trace("br_flood", f"{self.name}: multicast from {port.dev.name} flooded", dev=self.name,
                     port=port.dev.name)
        self.flood(frame, port, mcast=True)
        if self.up:
            self.deliver_local(frame.copy())

    def mcast_xmit(self, frame: Any) -> None:
        """br_dev_xmit for IPv4 multicast: the host's own joins are learned, then the same choice."""
        m = self.mcast_ctx()
        mdst, mrouters_only = m.rcv(None, frame)
        if (mdst is not None or mrouters_only) and m.querier_exists():
            self._mcast_out(frame, None, m.flood_targets(mdst, None), False)
        else:
            self.flood(frame, None, mcast=True)

    def _mcast_out(self, frame: Any, ingress: BridgePort | None, targets: list[BridgePort], local: bool) -> None:
        """br_multicast_flood: one copy per target port (and up to the bridge when `local`)."""
        if local and self.up:
            self.deliver_local(frame.copy())
        last = len(targets) - 1
        for i, p in enumerate(targets):
            f = frame if i == last else frame.copy()
            if ingress is not None and f.meta is not None and not br_nf_forward(self, f, p):
                continue
            p.dev.xmit(f)


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

    def flood_targets(self, mdst: MdbEntry | None, ingress: BridgePort | None) -> list[BridgePort]:
        """br_multicast_flood: the group's member ports merged with the router ports, each once."""
        now = self.br.ns.sched.now
        seen: dict[int, BridgePort] = {}
        if mdst is not None:
            for pg in mdst.live_ports(now):
                seen[pg.port.port_no] = pg.port
        for p in self.router_ports(now):
            seen[p.port_no] = p
        return [seen[n] for n in sorted(seen, reverse=True)
                if seen[n] is not ingress and seen[n].forwarding()]

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
        from netplex.packet.igmp import Igmp

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
        from netplex.packet.ethernet import Ethernet
        from netplex.packet.igmp import IPOPT_RA, Igmp
        from netplex.packet.ipv4 import IPv4

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
