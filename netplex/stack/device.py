"""Network devices of one namespace: loopback, veth ends, TAP, and the base class.

Mirrors `struct net_device`: name, ifindex, MAC, MTU, admin state (IFF_UP),
carrier, master (a bridge, or any device that takes ports), statistics, and
the transmit path `dev_queue_xmit` → qdisc → driver.

The receive seam is the kernel's rx_handler (net/core/dev.c
netdev_rx_handler_register): a master registers a handler on each port it
enslaves (`ndo_add_slave`); `NetDevice.rx` hands every received frame to it, with its
length on the wire (the skb's len: no handler measures the frame again), and goes on up the normal path only when the handler answers
`RxHandlerResult.PASS`. The bridge is one user (`bridge.py`); a bond, an OVS
datapath or a macvlan is another module doing the same. The qdisc seam is `NetDevice.qdisc`: an
object with `enqueue(frame, nbytes) -> bool`, `dequeue() -> frame | None`
and `__len__`; until a qdisc is attached the device's link queue is a FIFO of
`txqueuelen` frames (the tc work replaces it). The common case costs one
event per hop: an idle device hands the frame to its link at once.
"""
from __future__ import annotations

import errno
from collections import deque
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from netplex.engine.compiled import mypyc_attr
from netplex.errors import NetplexError
from netplex.packet.ethernet import ETH_HLEN, Ethernet
from netplex.stack.af_packet import packet_taps
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.fastpath import FAST_DEVICE_CLASSES, fast_rx, fast_xmit, fastpath_device, xmit_state
from netplex.stack.if_flags import IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_PROMISC, IFF_UP
from netplex.stack.wmem import wmem_charge, wmem_release, wmem_release_dev

if TYPE_CHECKING:
    from netplex.engine.link import Link
    from netplex.stack.bridge import BridgePort
    from netplex.stack.netns import Namespace

class RxHandlerResult(IntEnum):
    """enum rx_handler_result (include/linux/netdevice.h).

    CONSUMED: the handler took the frame, nothing else sees it. PASS: go on
    up the normal receive path as if no handler were registered. (ANOTHER —
    "I changed skb->dev, run receive again" — is spelled here as the handler
    calling the other device's `rx` itself and answering CONSUMED; EXACT is
    for ptype handlers netplex does not have.)
    """

    CONSUMED = 0
    ANOTHER = 1
    EXACT = 2
    PASS = 3


RX_HANDLER_CONSUMED = RxHandlerResult.CONSUMED
RX_HANDLER_PASS = RxHandlerResult.PASS

# rx_handler_func_t: what a master registers on each of its ports, called with the frame and its
# length on the wire (skb->len)
RxHandler = Callable[[Ethernet, int], RxHandlerResult]


# rtnl_link_stats64's counters netplex keeps, in order (a compiled DeviceStats has no __slots__ to list)
DEVICE_STATS_FIELDS = ("rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "tx_packets", "tx_bytes",
                       "tx_dropped", "tx_errors", "multicast")


class DeviceStats:
    """rtnl_link_stats64, the counters `ip -s link` shows."""

    __slots__ = DEVICE_STATS_FIELDS

    def __init__(self) -> None:
        self.rx_packets = self.rx_bytes = self.rx_dropped = self.rx_errors = 0
        self.tx_packets = self.tx_bytes = self.tx_dropped = self.tx_errors = 0
        self.multicast = 0


@mypyc_attr(allow_interpreted_subclasses=True)   # the device kinds of other modules extend it
class NetDevice:
    """struct net_device: what every device kind shares."""

    kind: ClassVar[str] = "ether"          # `ip -d link` kind; "" for plain ethernet
    link_type: ClassVar[str] = "ether"     # link/ether, link/loopback, link/none
    # transmit queues: each holds a reference on the root qdisc (`tc qdisc show` refcnt 1 + N);
    # one for all but veth, which has one per CPU (veth_get_num_queues; 2 on the reference machine)
    num_tx_queues: ClassVar[int] = 1
    # the driver turns the carrier off right after register_netdevice (veth_newlink), which
    # counts as the first carrier change (IFLA_CARRIER_CHANGES, `transns` in `ip -s -s link`)
    carrier_off_at_register: ClassVar[bool] = False
    default_flags: ClassVar[int] = IFF_BROADCAST | IFF_MULTICAST   # dev->flags at creation (the kind's)
    default_qdisc: ClassVar[str] = "noqueue"

    def __init__(self, ns: Namespace, name: str, mac: bytes, mtu: int = 1500) -> None:
        self.ns = ns
        self.name = name
        self.ifindex = 0
        self.mac = mac
        self.mtu = mtu
        self.base_flags = self.default_flags   # dev->flags but IFF_UP/PROMISC/ALLMULTI (change_flags)
        self.min_mtu = 68
        self.max_mtu = 65535
        self.up = False
        self.master: NetDevice | None = None        # the master (bridge, ...) this device is a port of
        self.bridge_port: BridgePort | None = None  # its BridgePort when the master is a bridge
        self.rx_handler: RxHandler | None = None    # netdev_rx_handler_register: the master's receive
        self.txqueuelen = 1000
        self.qdisc: Any = None           # tc's root qdisc once one is attached
        self.ingress_q: Any = None       # tc's ingress qdisc
        self.ingress_queue = False       # dev_ingress_queue: made by the first ingress qdisc, kept after it
        self.qdisc_order: list[Any] = [] # qdiscs in the order they were created (for `tc qdisc show`)
        self.run_gen = 0                 # the live qdisc_run event (older ones are stale)
        self.run_at = -1                 # when it fires; -1: none pending
        self.txq: deque = deque()        # the link queue while the link is busy: (frame, length or 0)
        self.busy_until = 0
        self.dequeue_pending = False
        self.link: Link | None = None
        self.peer: NetDevice | None = None
        self.stats = DeviceStats()
        self.alias = ""
        self.netdev_group = 0            # dev->group, IFLA_GROUP (`ip link set ... group N`; 0 is "default")
        self.addr_assign_random = True
        self.forwarding = False          # net.ipv4.conf.<dev>.forwarding, mirrored by Sysctl
        self.was_up = False
        self.carrier_seen = False        # the carrier the last NETDEV_CHANGE reported (linkwatch)
        # netif_carrier_on/off transitions (carrier_up_count + carrier_down_count) and the bit
        self.carrier_changes = 1 if self.carrier_off_at_register else 0
        self.carrier_bit = not self.carrier_off_at_register
        self.gflags = 0                  # IFF_PROMISC / IFF_ALLMULTI the user set (dev->gflags)
        self.mc_static: list[bytes] = []  # dev_mc_add_global: `ip maddr add` (SIOCADDMULTI) addresses
        # net/core/dev_addr_lists.c (netplex/stack/dev_addr_lists.py): dev->uc, the unicast addresses
        # beyond dev_addr (`bridge fdb add ... self`, a macvlan's on its lower), with their refcounts;
        # dev->uc_promisc; the multicast addresses the user listed before the device last went up
        # (they precede the ones joined at NETDEV_UP) and the joined ones `bridge fdb del` removed
        self.no_in_dev = False           # dev->ip_ptr is NULL: IPv4 destroyed (MTU below 68, inetdev_destroy)
        self.uc: dict[bytes, int] = {}
        self.uc_promisc = False
        self.mc_early: set[bytes] = set()
        self.mc_dropped: set[bytes] = set()
        self.flows: dict[int, Any] | None = None   # the flow fast path's entries by destination (fastpath.py)

    # -- the flow fast path's seam for upper devices (stack/fastpath.py) ----------
    def fast_upper_pure(self) -> bool:
        """An upper device (a bridge's own L3 device) the flow fast path may route from and to:
        nothing on it but what its `fast_upper_out` checks per packet. Not by default."""
        return False

    def fast_upper_out(self, lladdr: bytes, now: int) -> NetDevice | None:
        """Where this upper device's transmit would put a frame to `lladdr` now: the lower device, of
        a declared-pure class (whether it takes the frame is fastpath.xmit_state's), None for the full path."""
        return None

    # -- stacked devices: VLAN, VXLAN over a lower device -----------------------
    def lower_dev(self) -> NetDevice | None:
        """The device this one is stacked on (a VLAN's real device, a VXLAN's `dev`), None for none."""
        return None

    def link_suffix(self) -> str | None:
        """What `ip link` prints after the name's `@` (a VLAN's or macvlan's lower device, a tunnel's
        link or NONE; rtnl_fill_ifinfo's IFLA_LINK), None for nothing."""
        return None

    def ndo_uninit(self) -> None:
        """The device is being unregistered (ndo_uninit): a stacked device lets go of its lower."""

    def netdev_event(self) -> None:
        """NETDEV_UP / NETDEV_DOWN / NETDEV_CHANGE about this device or its lower one: nothing
        by default; a bridge, a VLAN or a VXLAN device follows it."""

    # -- upper devices: ports (netdev_master_upper_dev_link) ------------------
    # A device that takes ports overrides `accepts_ports`, `check_slave`,
    # `ndo_add_slave` and `ndo_del_slave` (struct net_device_ops); `rtnl.py`
    # enslaves through these, whatever the master's kind.
    accepts_ports: ClassVar[bool] = False

    def check_slave(self, dev: NetDevice) -> None:
        """The master's refusals before anything changes (br_add_if's checks)."""
        if dev is self:
            raise NetplexError("Error: Can not enslave a bridge to itself.", errno.ELOOP)
        if not self.accepts_ports:
            raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)

    def ndo_add_slave(self, dev: NetDevice) -> None:
        """Take `dev` as a port: link it as our lower and register our rx_handler on it."""
        raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)

    def ndo_del_slave(self, dev: NetDevice) -> None:
        """Release the port: unregister the rx_handler, unlink."""
        raise NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)

    def lower_event(self, dev: NetDevice) -> None:
        """A port of ours changed state (NETDEV_UP/DOWN/CHANGE on a lower device)."""

    def lower_changemtu(self, dev: NetDevice) -> None:
        """A port of ours changed its MTU (NETDEV_CHANGEMTU on a lower device)."""

    def ndo_change_mtu(self, mtu: int) -> None:
        """The device takes a new MTU (dev_set_mtu, already checked against min/max)."""
        self.mtu = mtu

    # -- state -------------------------------------------------------------
    def has_carrier(self) -> bool:
        return self.up

    def carrier_ok(self) -> bool:
        """netif_carrier_ok: the carrier bit alone, whatever the admin state (on unless a
        driver turns it off: lo's is always on)."""
        return True

    def note_carrier(self) -> None:
        """netif_carrier_on/off as counted (IFLA_CARRIER_CHANGES): the carrier bit moved."""
        if self.carrier_ok() != self.carrier_bit:
            self.carrier_bit = not self.carrier_bit
            self.carrier_changes += 1

    def change_flags(self, flag: int, on: bool) -> None:
        """__dev_change_flags for IFF_NOARP / IFF_MULTICAST / IFF_DYNAMIC / IFF_NOTRAILERS: dev->flags
        itself (`ip link set DEV arp|multicast|dynamic|trailers on|off`)."""
        self.base_flags = self.base_flags | flag if on else self.base_flags & ~flag

    # the flag a port of this master shows (IFF_SLAVE for a bond's ports, 0 for a bridge's)
    slave_flag: ClassVar[int] = 0
    # IFF_UNICAST_FLT: the driver filters unicast addresses itself (no promiscuity for dev->uc)
    unicast_flt: ClassVar[bool] = False

    def set_rx_mode(self) -> None:
        """__dev_set_rx_mode: a running device without IFF_UNICAST_FLT is promiscuous while dev->uc
        holds an address (dev->uc_promisc; a device that is down keeps what it had)."""
        if self.up and not self.unicast_flt:
            self.uc_promisc = bool(self.uc)

    def promiscuity(self) -> int:
        """dev->promiscuity: a bridge port's, the user's (`ip link set promisc on`), dev->uc's."""
        return (self.bridge_port is not None) + bool(self.gflags & IFF_PROMISC) + self.uc_promisc

    def ndo_set_mac_address(self, mac: bytes) -> None:
        """The driver's ndo_set_mac_address (eth_mac_addr): the new dev_addr."""
        self.mac = mac

    def flags(self) -> int:
        f = self.base_flags | self.gflags
        master = self.master
        if master is not None:
            f |= master.slave_flag
        if self.up:
            f |= IFF_UP
        return f

    def operstate(self) -> str:
        """RFC 2863 operational state as `ip link` prints it."""
        if not self.up:
            return "DOWN"
        return "UP" if self.has_carrier() else "DOWN"

    def qdisc_name(self) -> str:
        # a device keeps its qdisc once it has been up (dev_activate is not undone); qdisc_graft
        # sets dev->qdisc to a root qdisc a user attached, up or down
        if self.qdisc is not None:
            return self.qdisc.kind
        return self.default_qdisc if self.up or self.was_up else "noop"

    def set_up(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        # ip_mc_down / ip_mc_up: the IPv4 groups joined at NETDEV_UP leave and join again, after the
        # addresses already listed (an IPv6 group's MAC, 33:33:..., deleted stays deleted: netplex
        # models no IPv6 and nothing joins it again)
        self.mc_dropped = {m for m in self.mc_dropped if m[0] == 0x33}
        self.mc_early = set(self.mc_static)
        if up:
            self.set_rx_mode()   # dev_open: dev_set_rx_mode
        else:
            self.txq.clear()
            if self.ns.wmem_owned:
                wmem_release_dev(self.ns, self)
        self.ns.device_state_changed(self)

    # -- transmit ------------------------------------------------------------
    def upper_xmit_start(self, frame: Ethernet, nbytes: int = 0) -> bool:
        """dev_queue_xmit for a queue-less stacked device (VLAN, macvlan): drop while down,
        else count and tap the frame; True when it goes on to the lower device."""
        if not self.up:
            self.stats.tx_dropped += 1
            return False
        st = self.stats
        st.tx_packets += 1
        st.tx_bytes += nbytes or frame.wire_len()
        self.xmit_taps(frame)
        return True

    def xmit_taps(self, frame: Ethernet) -> None:
        """dev_queue_xmit_nit on a software device's transmit (bridge, VLAN, macvlan, VXLAN,
        gretap): the run's capture and the namespace's packet sockets see the frame leave."""
        ns = self.ns
        if ns.world.capture is not None:
            ns.world.capture(self, frame)
        if ns.ptype_all:
            packet_taps(ns.sockets, self, frame, outgoing=True)

    def xmit(self, frame: Ethernet, nbytes: int = 0) -> None:
        """dev_queue_xmit: queue discipline, then the driver.

        `nbytes`, when the caller knows it, is the frame's length (saves
        measuring it again on the hot path). Without a configured qdisc an
        idle device sends at once (one event per hop); a busy one queues in
        `txq`, a FIFO of `txqueuelen` frames. A configured qdisc (tc) sees
        every frame: enqueue, then __qdisc_run while the link is free.
        """
        if not self.up:
            self.stats.tx_dropped += 1
            return
        q = self.qdisc
        if q is not None:
            self._qdisc_xmit(q, frame, nbytes)
            return
        now = self.ns.sched.now
        if now >= self.busy_until and not self.txq:
            self.start_xmit(frame, now, nbytes)
            return
        if self.default_qdisc == "pfifo_fast":
            # the kind's default qdisc exists from now on; it matters only when the link is busy
            from netplex.stack.qdisc import PfifoFastQdisc

            q = self.qdisc = PfifoFastQdisc(self, 0, 0xFFFFFFFF)
            self._qdisc_xmit(q, frame, nbytes)
            return
        if len(self.txq) >= self.txqueuelen:
            self.stats.tx_dropped += 1
            self.ns.drop(frame, self, SkbDropReason.QDISC_DROP)
            return
        if self.ns.tx_owner is not None:
            wmem_charge(self.ns, frame, self, (nbytes or frame.wire_len()) - 14)
        self.txq.append((frame, nbytes))   # its length, when known, as a qdisc keeps it
        if not self.dequeue_pending:
            self.dequeue_pending = True
            self.ns.sched.at(self.busy_until, self.qdisc_run)

    def qdisc_run(self) -> None:
        """__qdisc_run: the link is free again; send the next queued frame (on a device of a
        declared-pure class that the fast path may use, as the fast path sends: `fast_xmit`, the
        peer's receive its fast path's, one call a hop)."""
        self.dequeue_pending = False
        txq = self.txq
        if not txq:
            return
        frame, nbytes = txq.popleft()
        ns = self.ns
        now = ns.sched.now
        if nbytes and type(self) in FAST_DEVICE_CLASSES and ns.world.fastpath and xmit_state(ns, self, now) >= 0:
            fast_xmit(ns, self, frame, nbytes, now, 0)
        else:
            self.start_xmit(frame, now, nbytes)
        if txq:
            self.dequeue_pending = True
            self.ns.sched.at(self.busy_until, self.qdisc_run)

    def _qdisc_xmit(self, q: Any, frame: Ethernet, nbytes: int) -> None:
        """__dev_xmit_skb: enqueue, then run the qdisc at once if nothing else will."""
        if not nbytes:
            nbytes = frame.wire_len()
        ns = self.ns
        if q.runs_on_enqueue:
            # htb: the enqueue and, on an idle device, __qdisc_run's first dequeue in one call
            # (HtbQdisc.enqueue_xmit). The sending socket is charged for the packet while it is
            # queued; one sent at once is charged and released in the same instant, which only a
            # writer waiting for room could see (sock_def_write_space): then it is charged first.
            owner = ns.tx_owner
            waiting = owner is not None and owner.on_writable is not None
            if waiting:
                wmem_charge(ns, frame, self, nbytes - 14)
            r = q.enqueue_xmit(frame, nbytes, self, owner is not None and not waiting)
            if r > 0:
                now = ns.sched.now
                world = ns.world
                peer = self.peer
                if (world.fastpath and type(self) in FAST_DEVICE_CLASSES and not ns.wmem_owned
                        and peer is not None and self.link is not None and self.up and peer.up
                        and world.capture is None and not ns.ptype_all and not world.tracer.on):
                    # start_xmit -> Link.deliver with nothing for them to do but count and time
                    # it: the fast path's transmit (fastpath.fast_xmit, the same receive event)
                    fast_xmit(ns, self, frame, nbytes, now, 0)
                    return
                self.start_xmit(frame, now, nbytes)
                return
            if r < 0:
                if owner is not None:
                    wmem_release(ns, frame)
                return
        elif ns.tx_owner is not None:
            wmem_charge(ns, frame, self, nbytes - 14)
            if not q.enqueue(frame, nbytes):
                wmem_release(ns, frame)
                return
        elif not q.enqueue(frame, nbytes):
            return
        now = self.ns.sched.now
        if self.run_at < 0 and now >= self.busy_until:
            self._run_qdisc(self.run_gen)
        else:
            self._kick(max(now, self.busy_until))

    def _kick(self, when: int) -> None:
        """Have __qdisc_run happen at `when` unless a run is already due by then."""
        if 0 <= self.run_at <= when:
            return
        self.run_gen += 1
        self.run_at = when
        self.ns.sched.at(when, self._run_qdisc, self.run_gen)

    def _run_qdisc(self, gen: int) -> None:
        """__qdisc_run for a configured qdisc: dequeue while the link is free (quota 64);
        a throttled qdisc (tbf, htb) sets its watchdog for when it can send again."""
        if gen != self.run_gen:
            return
        self.run_at = -1
        q = self.qdisc
        if q is None or not self.up:
            return
        now = self.ns.sched.now
        quota = 64
        while q.qlen:
            if now < self.busy_until:
                self._kick(self.busy_until)
                return
            item = q.dequeue(now)
            if item is None:
                if q.qlen:
                    t = q.next_wakeup(now)
                    if t is not None:
                        self._kick(t if t > now else now + 1)
                return
            self.start_xmit(item[0], now, item[1])
            quota -= 1
            if quota == 0:
                if q.qlen:
                    self._kick(max(now, self.busy_until))
                return

    def set_qdisc(self, q: Any) -> None:
        """Attach (or with None, remove) the root qdisc; a queued backlog is dropped (qdisc_reset)."""
        old = self.qdisc
        if old is not None and old.qlen:
            self.stats.tx_dropped += old.qlen
            old.reset()
            if self.ns.wmem_owned:
                wmem_release_dev(self.ns, self)
        self.qdisc = q
        self.run_gen += 1
        self.run_at = -1
        if q is None:
            self.txq.clear()

    def start_xmit(self, frame: Ethernet, now: int, nbytes: int = 0) -> None:
        """ndo_start_xmit: put the frame on the link (veth_xmit)."""
        ns = self.ns
        if ns.wmem_owned:
            wmem_release(ns, frame)      # the skb leaves the queue: its socket has room again
        peer = self.peer
        if peer is None or not self.has_carrier():
            self.stats.tx_dropped += 1
            return
        if not nbytes:
            nbytes = frame.wire_len()
        st = self.stats
        st.tx_packets += 1
        st.tx_bytes += nbytes
        if ns.world.capture is not None:
            ns.world.capture(self, frame)
        if ns.ptype_all:
            packet_taps(ns.sockets, self, frame, outgoing=True)   # dev_queue_xmit_nit
        self.busy_until = self.link.deliver(now, nbytes, peer.rx, frame)  # type: ignore[union-attr]  # a peer has a link

    # -- receive -----------------------------------------------------------
    def rx(self, frame: Ethernet, nbytes: int = 0) -> None:
        """netif_receive_skb: a frame arrives from the link (with its length, when known)."""
        if self.forwarding and frame.type == 0x0800 and self.ns.world.fastpath and fast_rx(self, frame, nbytes):
            return   # forwarded by the exact flow fast path (fastpath.py)
        bp = self.bridge_port
        if bp is not None and bp.fast_forward(frame, nbytes):
            return   # bridged by the bridge fast path (bridge.py, BridgePort.fast_forward)
        st = self.stats
        if not self.up:
            st.rx_dropped += 1
            return
        if not nbytes:
            nbytes = frame.wire_len()
        if nbytes > self.mtu + 18:   # is_skb_forwardable: mtu + hard header + VLAN tag
            st.rx_dropped += 1
            self.ns.drop(frame, self, SkbDropReason.MTU_EXCEEDED)
            return
        st.rx_packets += 1
        st.rx_bytes += nbytes
        ing = self.ingress_q
        if ing is not None and not ing.receive(frame, nbytes):
            return   # sch_handle_ingress: a tc action dropped it
        ns = self.ns
        world = ns.world
        if world.tracer.on:   # the packet the next events are about
            world.tracer.packet = world.tracer.packet_id(frame.payload if frame.type == 0x0800 else frame)
        if world.capture is not None:
            world.capture(self, frame)
        handler = self.rx_handler
        if ns.ptype_all:
            # ptype_all taps see the frame before the master's rx_handler takes it
            packet_taps(ns.sockets, self, frame, outgoing=False, consumed=handler is not None)
        if handler is not None and handler(frame, nbytes) is RX_HANDLER_CONSUMED:
            return
        if frame.type == 0x0800 and frame.dst == self.mac and not frame.vlans:
            ns.ip_rcv(self, frame, nbytes - 14)   # the common case, without the protocol dispatch
            return
        ns.netif_deliver(self, frame)


def netdev_rx_handler_register(dev: NetDevice, handler: RxHandler) -> None:
    """netdev_rx_handler_register: one handler per device (EBUSY if taken)."""
    if dev.rx_handler is not None:
        raise NetplexError("RTNETLINK answers: Device or resource busy", errno.EBUSY)
    dev.rx_handler = handler


def netdev_rx_handler_unregister(dev: NetDevice) -> None:
    dev.rx_handler = None


@mypyc_attr(allow_interpreted_subclasses=True)
class Veth(NetDevice):
    """One end of a veth pair: carrier when both ends are up (veth_open)."""

    kind: ClassVar[str] = "veth"
    num_tx_queues: ClassVar[int] = 2
    carrier_off_at_register: ClassVar[bool] = True

    def has_carrier(self) -> bool:
        peer = self.peer
        return self.up and peer is not None and peer.up

    def operstate(self) -> str:
        """default_operstate: without carrier, LOWERLAYERDOWN when the device whose
        index is our iflink — looked up in our own namespace, as the kernel does,
        even when the real peer lives elsewhere — exists and has no carrier."""
        if not self.up:
            return "DOWN"
        if self.has_carrier():
            return "UP"
        peer = self.peer
        if peer is None or peer.ifindex == self.ifindex:
            return "DOWN"
        lower = self.ns.by_index.get(peer.ifindex)
        if lower is None:
            return "DOWN"
        return "DOWN" if lower.carrier_ok() else "LOWERLAYERDOWN"

    def carrier_ok(self) -> bool:
        return self.has_carrier()

    def set_up(self, up: bool) -> None:
        super().set_up(up)
        if self.peer is not None:
            self.peer.ns.device_state_changed(self.peer)


fastpath_device(Veth)     # a call, not a decorator: mypyc compiles no class decorator but dataclass


@mypyc_attr(allow_interpreted_subclasses=True)
class Tap(NetDevice):
    """A TAP device: carrier only while something (a hypervisor) holds it open."""

    kind: ClassVar[str] = "tun"
    default_qdisc: ClassVar[str] = "pfifo_fast"

    def __init__(self, ns: Namespace, name: str, mac: bytes, mtu: int = 1500) -> None:
        super().__init__(ns, name, mac, mtu)
        self.max_mtu = 65535 - 14   # tun_net_init: MAX_MTU less a TAP's Ethernet header
        self.mode = "tap"
        self.owner: int | None = None
        self.group: int | None = None
        self.multi_queue = False
        self.persist = True

    def has_carrier(self) -> bool:
        return self.up and self.peer is not None

    def carrier_ok(self) -> bool:
        return self.peer is not None

    def operstate(self) -> str:
        """The tun driver never sets an operational state: UNKNOWN while it has carrier."""
        if not self.up:
            return "DOWN"
        return "UNKNOWN" if self.has_carrier() else "DOWN"

    def set_up(self, up: bool) -> None:
        super().set_up(up)
        if self.peer is not None:
            self.peer.ns.device_state_changed(self.peer)


@mypyc_attr(allow_interpreted_subclasses=True)
class Loopback(NetDevice):
    """lo: what it sends it receives, one event later."""

    kind: ClassVar[str] = "loopback"
    link_type: ClassVar[str] = "loopback"
    default_flags: ClassVar[int] = IFF_LOOPBACK

    def __init__(self, ns: Namespace) -> None:
        super().__init__(ns, "lo", b"\x00" * 6, mtu=65536)
        self.min_mtu = self.max_mtu = 0   # loopback_setup sets neither: no limit (dev_validate_mtu)

    def operstate(self) -> str:
        return "UNKNOWN" if self.up else "DOWN"

    def start_xmit(self, frame: Ethernet, now: int, nbytes: int = 0) -> None:
        if self.ns.wmem_owned:
            wmem_release(self.ns, frame)
        if not nbytes:
            nbytes = frame.wire_len()
        # loopback_xmit counts skb->len after eth_type_trans pulled the Ethernet header
        nbytes -= ETH_HLEN
        st = self.stats
        st.tx_packets += 1
        st.tx_bytes += nbytes
        st.rx_packets += 1
        st.rx_bytes += nbytes
        if self.ns.world.capture is not None:
            self.ns.world.capture(self, frame)
        if self.ns.ptype_all:   # lo: the frame leaves, and netif_receive taps it coming back in
            packet_taps(self.ns.sockets, self, frame, outgoing=True)
        self.ns.sched.at(now, self.ns.netif_receive, self, frame)
