"""The Linux bridge (net/bridge/): ports, the forwarding database, flooding.

`br_handle_frame` learns the source address on the ingress port (ageing
300 s), then delivers to the bridge device itself (frames to its own or a
port's address, broadcast and multicast), forwards to the port the FDB names
(`br_forward`), or floods unknown unicast, broadcast and multicast to every
other forwarding port (`br_flood`). The bridge device is an L3 device too:
what the IP stack sends on it goes through the same FDB (`br_dev_xmit`).
STP is off by default; with it off every up port forwards.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netplex.engine.scheduler import NSEC_PER_SEC
from netplex.stack.device import NetDevice

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

BR_STATE_DISABLED, BR_STATE_LISTENING, BR_STATE_LEARNING, BR_STATE_FORWARDING, BR_STATE_BLOCKING = range(5)
BCAST = b"\xff" * 6
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
                 "hairpin", "isolated")

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
        self.next_port_no = 1
        self.group_fwd_mask = 0
        self.vlan_filtering = 0
        self.had_ports = False
        self.fdb[mac] = FdbEntry(mac, None, 0, is_local=True, is_static=True)

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
        self.recalc_mac()
        return port

    def del_port(self, dev: NetDevice) -> None:
        port = dev.bridge_port
        self.ports.remove(port)
        dev.master = None
        dev.bridge_port = None
        for mac in [m for m, e in self.fdb.items() if e.port is port]:
            del self.fdb[mac]
        self.recalc_mac()

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
        if port.state in (BR_STATE_DISABLED, BR_STATE_BLOCKING, BR_STATE_LISTENING):
            ns.drop(frame, port.dev, "br_port_state")
            return
        src = frame.src
        if port.learning:
            self.fdb_learn(port, src)
        if port.state == BR_STATE_LEARNING:
            ns.drop(frame, port.dev, "br_port_learning")
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
                e.port.dev.xmit(frame)
            return
        if tracing:
            ns.trace("br_flood", f"{self.name}: unknown unicast {ns.fmt_mac(dst)} flooded")
        self.flood(frame, port)

    def flood(self, frame: Any, ingress: BridgePort | None) -> None:
        """br_flood: a copy to every other forwarding port."""
        targets = [p for p in self.ports if p is not ingress and p.flood and p.forwarding()]
        for i, p in enumerate(targets):
            p.dev.xmit(frame if i == len(targets) - 1 else frame.copy())

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
