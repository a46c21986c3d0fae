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
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netplex.engine.scheduler import NSEC_PER_SEC
from netplex.stack.device import NetDevice
from netplex.stack.netfilter.hooks import br_nf_enabled, br_nf_forward, br_nf_pre_routing

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

BR_STATE_DISABLED, BR_STATE_LISTENING, BR_STATE_LEARNING, BR_STATE_FORWARDING, BR_STATE_BLOCKING = range(5)
BCAST = b"\xff" * 6
BR_GROUP_ADDRESS = b"\x01\x80\xc2\x00\x00\x00"
BRIDGE_VLAN_INFO_MASTER, BRIDGE_VLAN_INFO_PVID, BRIDGE_VLAN_INFO_UNTAGGED = 1, 2, 4
MCAST_SNOOPERS = 0xE000006A   # 224.0.0.106, multicast router discovery (RFC 4286)
PORT_STATE_NAMES = ("disabled", "listening", "learning", "forwarding", "blocking")


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
                 "hairpin", "isolated", "stp", "running", "vlans", "pvid")

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
        self.mcast_snooping = 1
        self.next_port_no = 1
        self.group_fwd_mask = 0
        self.vlan_filtering = 0
        self.had_ports = False
        self.fdb[mac] = FdbEntry(mac, None, 0, is_local=True, is_static=True)
        # br_vlan_init: the bridge itself is in the default VLAN, PVID and untagged
        self.vlans[1] = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED
        self.pvid = 1

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
            if self.ns.net.tracer.on:
                self.ns.trace("br_fdb_update", f"{self.name}: learned {self.ns.fmt_mac(mac)} on {port.dev.name}")
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
            ns.drop(frame, port.dev, "br_down")
            return
        if port.state in (BR_STATE_DISABLED, BR_STATE_BLOCKING, BR_STATE_LISTENING):
            ns.drop(frame, port.dev, "br_port_state")
            return
        src = frame.src
        if port.learning:
            self.fdb_learn(port, src)
        if port.state == BR_STATE_LEARNING:
            ns.drop(frame, port.dev, "br_port_learning")
            return
        if ns.hooks and br_nf_enabled(ns, frame) and not br_nf_pre_routing(self, port, frame):
            return
        dst = frame.dst
        tracing = ns.net.tracer.on
        if dst[0] & 1:
            if tracing:
                what = "broadcast" if dst == BCAST else "multicast"
                ns.trace("br_flood", f"{self.name}: {what} from {port.dev.name} flooded")
            self.flood(frame, port)
            if self.up:
                self.deliver_local(frame.copy())
            return
        e = self.fdb_lookup(dst)
        if e is not None:
            if e.is_local:
                if tracing:
                    ns.trace("br_pass_frame_up", f"{self.name}: to the bridge itself")
                self.deliver_local(frame)
                return
            if e.port is port:
                ns.drop(frame, port.dev, "br_same_port")
                return
            if e.port.forwarding():
                if tracing:
                    ns.trace("br_forward", f"{self.name}: {ns.fmt_mac(dst)} → {e.port.dev.name}")
                if frame.meta is not None and not br_nf_forward(self, frame, e.port):
                    return
                e.port.dev.xmit(frame)
            return
        if tracing:
            ns.trace("br_flood", f"{self.name}: unknown unicast {ns.fmt_mac(dst)} flooded")
        self.flood(frame, port)

    def flood(self, frame: Any, ingress: BridgePort | None) -> None:
        """br_flood: a copy to every other forwarding port."""
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
        self.flood(frame, None)
