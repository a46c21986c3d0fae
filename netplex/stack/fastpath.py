"""The exact flow fast path: forwarded IPv4 unicast that nothing on its way can change.

In the spirit of the kernel's `nf_flowtable` offload and the IPv4 route cache
of old (net/netfilter/nf_flow_table_ip.c, net/ipv4/route.c before 3.6): once
a router has forwarded a packet to a destination through the full path
(`NetDevice.rx` → `ip_rcv` → route → `ip_forward` → `ip_finish_output` →
neighbour → `dev_queue_xmit` → `start_xmit`), later packets to that
destination arriving on the same device take one function instead of eight,
with the same effects in the same event: the same counters, the same TTL,
MACs and link timing, the same single scheduled receive at the peer.

Exactness rests on three rules.

1. **Opt-in purity.** An entry is made only when every element on the path is
   known to be a pure function of configuration: the namespace has no
   netfilter hooks, default policy rules, and no state this module does not
   know (`FASTPATH_NEUTRAL`: any other namespace attribute that is set —
   non-empty, non-None, non-zero — means "someone added a hook": no entry);
   both devices are plain veth ends (exact class `Veth`) with no master, no
   rx_handler, no ingress qdisc and no root qdisc. A new feature (xfrm, a
   bond, an OVS port) is therefore bypassed by default until it says it is
   pure.
2. **Exact invalidation.** An entry remembers `World.config_generation`; any
   configuration change anywhere (`Namespace.config_changed`) bumps it, and
   the entry is rebuilt from the full path.
3. **Per-packet guards before any effect.** Whatever can change without a
   configuration change is tested for every packet, and the packet falls back
   to the full path untouched when a guard fails: tracing or capture on,
   AF_PACKET taps, queued socket memory, packet metadata (marks, conntrack),
   a martian source, TTL ≤ 1, a length above the path MTU, a full transmit
   FIFO (a busy device queues the frame in its FIFO, as `NetDevice.xmit`
   does, and its own dequeue sends it), a peer without carrier, a neighbour not REACHABLE (or
   whose reachable time ran out; PERMANENT, NOARP, DELAY and PROBE entries send as they are,
   the last two after `used = now` as neigh_event_send). The cable is the full path's own
   (`Link.deliver`), so its timing and loss stay one piece of code.

`World.fastpath` switches it off (`NETPLEX_FASTPATH=0` in the environment);
tests/test_fastpath.py runs scenarios both ways and compares every result,
counter and capture byte for byte.
"""
from __future__ import annotations

from heapq import heappush
from typing import TYPE_CHECKING, Any

from netplex.packet.ipv4 import IPv4
from netplex.stack.neigh import NUD_DELAY, NUD_NOARP, NUD_PERMANENT, NUD_PROBE, NUD_REACHABLE

if TYPE_CHECKING:
    from netplex.engine.link import Link
    from netplex.packet.ethernet import Ethernet
    from netplex.stack.device import NetDevice
    from netplex.stack.netns import Namespace

LIMITED_BCAST = 0xFFFFFFFF
# Neighbour states whose output is a plain transmit (neigh.output): PERMANENT and NOARP as they are;
# DELAY and PROBE after `n.used = now` (NUD_USED), their timer confirming or probing later.
# REACHABLE only within its reachable time (past it the full path makes it STALE, then DELAY).
NUD_FAST = NUD_PERMANENT | NUD_NOARP | NUD_DELAY | NUD_PROBE
NUD_USED = NUD_DELAY | NUD_PROBE
MAX_FLOWS = 4096       # entries per device before the table is flushed (a scan must not grow it forever)

# Namespace attributes whose value this module understands: each is either
# checked below (hooks, fib rules, ...) or cannot change how a forwarded
# unicast packet is handled (local sockets, multicast, encapsulation receive,
# addresses — the route already says the destination is not local). Any other
# attribute, set, disables the fast path in that namespace.
FASTPATH_NEUTRAL = frozenset({
    "world", "name", "sched", "devices", "by_index", "next_ifindex", "addrs", "local_addrs", "sysctl",
    "fib", "neigh", "tc_actions", "ptype_all", "sockets", "route_cache", "rt_out_cache", "rt_out_gen",
    "generation", "kmsg", "local_fast",
    "netfilter", "hooks", "pmtu", "frags", "inet_peers", "net_ratelimit_state", "icmp_global_credit", "tx_owner", "wmem_owned", "mib",
    "icmp_global_stamp", "igmp", "mrt", "ip_id", "drops", "has_uppers", "vlan_devs", "macvlan_ports",
    "vxlan_socks", "udp_encap", "gre_tunnels", "mc_groups", "lo",
    # nexthop objects (nexthop.py): a route through one holds a copy of its paths, rewritten (with
    # config_changed) when the object changes, so `build` reads it as any route
    "nexthops",
})
# NetDevice attributes understood the same way (the device's own state).
DEVICE_NEUTRAL = frozenset({
    "ns", "name", "ifindex", "mac", "mtu", "min_mtu", "max_mtu", "up", "master", "bridge_port",
    "rx_handler", "txqueuelen", "qdisc", "ingress_q", "qdisc_order", "run_gen", "run_at", "txq",
    "busy_until", "dequeue_pending", "link", "peer", "stats", "alias", "netdev_group",
    "addr_assign_random", "forwarding", "was_up", "carrier_seen", "gflags", "flows",
    "carrier_changes", "carrier_bit",   # IFLA_CARRIER_CHANGES bookkeeping (ip -s -s link transns)
    "mc_static",   # `ip maddr add` link-layer addresses: a forwarded unicast packet never reads them
    "uc", "uc_promisc", "mc_early", "mc_dropped",   # dev->uc / dev->mc bookkeeping (dev_addr_lists.py), ditto
    "ingress_queue",                    # whether an ingress qdisc ever existed (tc's error messages)
    # tested by unknown_device_state itself: a compiled (mypyc) device has no __dict__ to list
    "no_in_dev", "base_flags",
})


class FlowEntry:
    """One cached forwarding decision: in-device + destination → out-device, next hop, MTU."""

    __slots__ = ("gen", "out", "neigh_key", "mtu", "maxlen", "src_ok", "link", "peer", "upper", "neigh", "neigh_gen")
    link: Any      # the out device's cable and peer when the entry was made (checked per packet)
    peer: Any
    neigh: Any     # the Neighbour `neigh_key` named (or None) while the table's membership
    neigh_gen: int  # generation `neigh_gen` holds (NeighTable.gen)

    def __init__(self, gen: int, out: NetDevice | None, neigh_key: tuple[int, int], mtu: int,
                 upper: bool = False) -> None:
        self.gen = gen
        self.upper = upper         # `out` is an upper device (a bridge's own): its fast_upper_out sends
        self.out = out             # None: a negative entry (the full path takes these packets)
        self.neigh_key = neigh_key
        self.mtu = mtu
        self.maxlen = mtu + 14     # the longest frame the path MTU lets through (a small-int test a packet)
        # the last source address found not martian (fib_validate_source's tests: not multicast or
        # class E, not loopback, not one of ours): the same source skips them; valid for the entry's
        # generation (every change of the namespace's addresses makes a new entry)
        self.src_ok = -1
        self.link = out.link if out is not None else None
        self.peer = out.peer if out is not None else None
        self.neigh = None
        self.neigh_gen = 0         # (no table's generation is 0)


def unknown_state(obj: object, understood: frozenset[str]) -> str | None:
    """The first attribute of `obj` this module does not understand and that is set, if any."""
    try:
        state = vars(obj)
    except TypeError:     # an instance of a class the mypyc build compiled: its attributes are declared
        return None
    # the attributes outside `understood`, in attribute order, worked out once per layout of the
    # attributes (a namespace has ~60, all but a few understood; this runs once per host and
    # configuration generation: thousands of times at scale), then the first of them that is set
    keys = tuple(state)
    extra = _EXTRA.get((understood, keys))
    if extra is None:
        if len(_EXTRA) >= 1024:
            _EXTRA.clear()
        extra = _EXTRA[(understood, keys)] = tuple(k for k in keys if k not in understood)
    for k in extra:
        if state[k]:
            return k
    return None


# (understood, an object's attribute names in order) -> those not understood, in order (unknown_state)
_EXTRA: dict[tuple[frozenset[str], tuple[str, ...]], tuple[str, ...]] = {}


def unknown_device_state(dev: NetDevice, understood: frozenset[str]) -> str | None:
    """`unknown_state` of a device (`understood` includes DEVICE_NEUTRAL): NetDevice's own
    attributes outside DEVICE_NEUTRAL tested by name, since a compiled device lists none of
    them in a __dict__ (tests/stack/test_fastpath.py checks that every attribute a device is
    made with is in DEVICE_NEUTRAL)."""
    if dev.no_in_dev:
        return "no_in_dev"        # no IPv4 on the device: ip_rcv drops
    if dev.base_flags != dev.default_flags:
        return "base_flags"       # `ip link set DEV arp off` and the like
    return unknown_state(dev, understood)


# The device classes known to be pure (exact classes: a subclass is not): device.py adds Veth.
FAST_DEVICE_CLASSES: set[type] = set()


def fastpath_device(cls: type) -> type:
    """Declare a device class pure for the fast path: its rx/xmit do nothing the fast path skips."""
    FAST_DEVICE_CLASSES.add(cls)
    return cls


def pure_device(dev: NetDevice) -> bool:
    """A device of a declared-pure class that nothing else has hooked into."""
    return (type(dev) in FAST_DEVICE_CLASSES and dev.master is None and dev.rx_handler is None and dev.ingress_q is None
            and dev.qdisc is None and dev.link is not None and dev.peer is not None
            and unknown_device_state(dev, DEVICE_NEUTRAL) is None)


def build(dev: NetDevice, dst: int) -> FlowEntry:
    """The entry for packets to `dst` arriving on `dev`; its `out` is None when the path is not
    provably pure (a negative entry, good for this configuration generation)."""
    ns: Namespace = dev.ns
    gen = ns.world.config_generation
    if (ns.hooks or not ns.fib.rules_default or ns.fib.flow_keys or not dev.forwarding or dst == LIMITED_BCAST
            or dst >> 28 == 14 or not (pure_device(dev) or dev.fast_upper_pure())
            or unknown_state(ns, FASTPATH_NEUTRAL) is not None
            or ns.sysctl.rpf_any or ns.fib.has_custom_local_routes):   # fib_validate_source per packet
        return FlowEntry(gen, None, (0, 0), 0)
    r = ns.fib.lookup(dst)
    if r is None or r.type != "unicast" or r.dev is None or r.nhs or r.encap:   # multipath: the full path hashes
        return FlowEntry(gen, None, (0, 0), 0)
    out = r.dev
    if out.ns is not ns or out is dev:   # in and out the same device: a redirect may be due (per source)
        return FlowEntry(gen, None, (0, 0), 0)
    upper = not pure_device(out)
    if upper and not out.fast_upper_pure():
        return FlowEntry(gen, None, (0, 0), 0)
    nexthop = r.gw if r.gw is not None else dst
    # ip_forward tests the route's MTU (for DF), ip_finish_output the device's (to fragment)
    return FlowEntry(gen, out, (out.ifindex, nexthop), min(r.mtu or out.mtu, out.mtu), upper)


def fast_rx(dev: NetDevice, frame: Ethernet, nbytes: int, fallback: bool = False) -> bool:
    """Forward an IPv4 `frame` received on `dev` (`nbytes` long) as the full path would; False,
    with nothing changed, when there is no pure entry or a guard fails and the full path must take it.

    With `fallback` (the receive event the fast path pushes for the next hop: one call a hop), the
    full path takes such a frame at once: `dev.rx`, as if the frame had arrived there; and the
    next hop, when the run loop would pop it next anyway, runs in this same call (event elision:
    engine/scheduler.py, `Scheduler.may_inline`), a flow's whole path in one loop when it can."""
    while True:
        ns = dev.ns
        world = ns.world
        if not (nbytes and dev.forwarding and frame.type == 0x0800 and world.fastpath):
            return fallback and slow_rx(dev, frame, nbytes)
        # an IPv4 frame's payload is an IPv4 header (Ethernet.decode refuses one it cannot parse); the
        # annotation lets the compiled build read its fields natively (checked there, free here)
        ip: IPv4 = frame.payload  # type: ignore[assignment]
        dst = ip.dst
        flows = dev.flows
        if flows is None:
            flows = dev.flows = {}
        try:
            fe: FlowEntry | None = flows[dst]     # a subscript, not .get(): no call a packet
        except KeyError:
            fe = None
        if fe is None or fe.gen != world.config_generation:
            if len(flows) >= MAX_FLOWS:
                flows.clear()
            fe = flows[dst] = build(dev, dst)
        out = fe.out
        if (out is None or world.tracer.on or world.capture is not None or ns.ptype_all
                or ns.wmem_owned or frame.meta is not None or frame.vlans or frame.dst != dev.mac
                or not dev.up or nbytes > dev.mtu + 18 or dev.ingress_q is not None or dev.rx_handler is not None):
            return fallback and slow_rx(dev, frame, nbytes)
        src = ip.src
        if src != fe.src_ok:
            if src >> 28 >= 14 or src >> 24 == 127 or src in ns.local_addrs:
                # martians (one of our own addresses as the source: fib_validate_source)
                return fallback and slow_rx(dev, frame, nbytes)
            fe.src_ok = src
        if ip.ttl <= 1 or nbytes > fe.maxlen:
            return fallback and slow_rx(dev, frame, nbytes)
        now = ns.sched.now
        # the next hop's neighbour, kept in the entry while the table's membership holds (its state,
        # address and times are the entry's own, read below)
        nt = ns.neigh
        n = fe.neigh
        if fe.neigh_gen != nt.gen:
            n = fe.neigh = nt.entries.get(fe.neigh_key)
            fe.neigh_gen = nt.gen
        if n is None:
            return fallback and slow_rx(dev, frame, nbytes)
        state = n.state
        if not (state == NUD_REACHABLE and now - n.confirmed < n.reachable_ns or state & NUD_FAST):
            return fallback and slow_rx(dev, frame, nbytes)
        lladdr: Any = n.lladdr     # REACHABLE, PERMANENT, NOARP, DELAY and PROBE entries have one
        upper = fe.upper
        if upper:
            # an upper device (a bridge's own L3 device): its transmit (br_dev_xmit) says which lower
            # device takes the frame, or that the full path must
            lower: Any = out.fast_upper_out(lladdr, now)   # the port's device
            if lower is None:
                return fallback and slow_rx(dev, frame, nbytes)
            lower_busy = xmit_state(ns, lower, now)
            if lower_busy < 0:
                return fallback and slow_rx(dev, frame, nbytes)
        else:
            peer: NetDevice = fe.peer      # typed locals: the compiled build reads their fields natively
            link: Link = fe.link
            if not out.up or out.qdisc is not None or out.peer is not peer or out.link is not link or not peer.up:
                return fallback and slow_rx(dev, frame, nbytes)
            txq = out.txq
            busy = now < out.busy_until or txq
            if busy and (len(txq) >= out.txqueuelen or out.default_qdisc != "noqueue" or ns.tx_owner is not None):
                return fallback and slow_rx(dev, frame, nbytes)     # a drop, the kind's qdisc made, a socket's memory: the full path's
        # the effects of rx, ip_forward, ip_finish_output, neigh_output and start_xmit, in one go
        mib = ns.mib            # ip_rcv_core's, ip_forward_finish's and ip_finish_output2's counters (snmp.Mib.fwd_ecn)
        mib.fwd_ecn[ip.tos & 3] += 1
        mib.fwd_octets += nbytes - 14
        st = dev.stats
        st.rx_packets += 1
        st.rx_bytes += nbytes
        if state & NUD_USED:
            n.used = now       # neigh_event_send on a DELAY or PROBE entry (its timer does the rest)
        ip.ttl -= 1
        frame.src = out.mac
        frame.dst = lladdr
        if upper:
            st = out.stats      # br_dev_xmit counts the frame, then the port's device sends it
            st.tx_packets += 1
            st.tx_bytes += nbytes
            fast_xmit(ns, lower, frame, nbytes, now, lower_busy)
            return True
        if busy:
            # dev_queue_xmit on a busy device: the frame waits in its FIFO (NetDevice.xmit); the
            # device's own dequeue sends it, counting it then
            txq.append((frame, nbytes))
            if not out.dequeue_pending:
                out.dequeue_pending = True
                ns.sched.at(out.busy_until, out.qdisc_run)
            return True
        st = out.stats
        st.tx_packets += 1
        st.tx_bytes += nbytes
        # the cable, as start_xmit hands the frame over: Link.deliver's timing and loss, inline, and
        # the peer's receive pushed as Scheduler.at pushes it (same time, next sequence number): this
        # function again, with the full path as its fallback (one call a hop instead of five)
        try:
            done = now + link.ser_ns[nbytes]
        except KeyError:
            done = now + link.serialisation_ns(nbytes)
        out.busy_until = done
        if link.loss and link.rng.random() < link.loss:
            link.lost += 1
            return True
        # the peer's receive: pushed as Scheduler.at pushes it (same time, next sequence number);
        # or, when this call is such a receive event itself (this push its last act) and the run
        # loop would pop the new one next anyway (Scheduler.may_inline's test), run now: this loop
        sched = ns.sched
        when = done + link.delay_ns
        heap = sched.heap
        if heap and heap[0][0] <= when or when > sched.inline_until or not fallback or sched.storm_left < 2:
            sched.seq = seq = sched.seq + 1
            heappush(heap, (when, seq, fast_rx, (peer, frame, nbytes, True)))
            return True
        sched.storm_left -= 1     # this event is done: the run counts it (Scheduler.inlined)
        sched.now = when
        dev = peer


def xmit_state(ns: Namespace, out: NetDevice, now: int) -> int:
    """Whether `out` (a pure device's exact class, checked by the caller) would take a frame as the fast
    path can: 0 idle (sent at once), 1 busy with room in its FIFO, -1 the full path's (down, a qdisc,
    no carrier, a full FIFO, the kind's default qdisc, a socket's memory, capture or taps)."""
    peer = out.peer
    if (not out.up or out.qdisc is not None or peer is None or out.link is None or not peer.up or ns.wmem_owned
            or ns.ptype_all or ns.world.capture is not None):
        return -1
    txq = out.txq
    if now < out.busy_until or txq:
        if len(txq) >= out.txqueuelen or out.default_qdisc != "noqueue" or ns.tx_owner is not None:
            return -1
        return 1
    return 0


def fast_xmit(ns: Namespace, out: NetDevice, frame: Ethernet, nbytes: int, now: int, busy: int) -> None:
    """dev_queue_xmit → start_xmit → Link.deliver on a device `xmit_state` said takes the frame:
    queued in its FIFO when busy, else counted, the cable's timing and loss, and the peer's
    receive pushed as Scheduler.at pushes it (same time, next sequence number): `fast_rx` with its
    fallback at a device that forwards, else `slow_rx` (a bridge port's or a host's fast path)."""
    if busy:
        out.txq.append((frame, nbytes))
        if not out.dequeue_pending:
            out.dequeue_pending = True
            ns.sched.at(out.busy_until, out.qdisc_run)
        return
    st = out.stats
    st.tx_packets += 1
    st.tx_bytes += nbytes
    link: Any = out.link
    try:
        done = now + link.ser_ns[nbytes]
    except KeyError:
        done = now + link.serialisation_ns(nbytes)
    out.busy_until = done
    if link.loss and link.rng.random() < link.loss:
        link.lost += 1
        return
    sched = ns.sched
    sched.seq = seq = sched.seq + 1
    peer: Any = out.peer      # (xmit_state saw it)
    if peer.forwarding and peer.bridge_port is None:
        heappush(sched.heap, (done + link.delay_ns, seq, fast_rx, (peer, frame, nbytes, True)))
    else:    # a host or a bridge port (whose rx_handler fast_rx refuses): straight to their fast paths
        heappush(sched.heap, (done + link.delay_ns, seq, slow_rx, (peer, frame, nbytes)))


def slow_rx(dev: NetDevice, frame: Ethernet, nbytes: int) -> bool:
    """The receive of a frame the fast path sent and cannot forward (and the receive event
    `fast_xmit` pushes for a device that does not forward): a bridge port's frame tries the
    bridge fast path (`BridgePort.fast_forward`), a frame for this host the local one
    (`Namespace.ip_local_fast`), then `NetDevice.rx` takes it as the full path's link would have
    called it (its own fast tests fail again, changing nothing; a device that forwards by then
    tries `fast_rx` there: no frame can take two of these fast paths)."""
    bp = dev.bridge_port
    if bp is not None:
        if bp.fast_forward(frame, nbytes):
            return False
    elif dev.ns.ip_local_fast(dev, frame, nbytes):
        return False
    dev.rx(frame, nbytes)
    return False
