"""The neighbour table and ARP (net/core/neighbour.c, net/ipv4/arp.c).

States are the kernel's: INCOMPLETE while resolving (a broadcast request
every `retrans_time`, `mcast_solicit` of them, then FAILED), REACHABLE for a
random `reachable_time` in [base/2, 3·base/2] after a confirmation, then
STALE; a STALE entry in use goes to DELAY for `delay_first_probe_time`, then
PROBE (unicast requests, `ucast_solicit` of them) and back to REACHABLE on a
reply or FAILED without one. Packets wait in the entry's queue while it
resolves; when resolution fails, each queued packet gets an ICMP host
unreachable (or its local socket an EHOSTUNREACH). Timers are evaluated
lazily where the kernel's timer would only flip a state, so a table at rest
costs no events.
"""
from __future__ import annotations

import errno
from itertools import count
from typing import TYPE_CHECKING, Any

from netplex.engine.scheduler import NSEC_PER_MSEC, NSEC_PER_SEC
from netplex.errors import NetplexError
from netplex.packet.arp import ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, Ethernet
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.if_flags import IFF_LOOPBACK, IFF_NOARP, IFF_POINTOPOINT
from netplex.stack.route import RT_TABLE_LOCAL

if TYPE_CHECKING:
    from netplex.stack.device import NetDevice
    from netplex.stack.netns import Namespace

NUD_INCOMPLETE = 0x01
NUD_REACHABLE = 0x02
NUD_STALE = 0x04
NUD_DELAY = 0x08
NUD_PROBE = 0x10
NUD_FAILED = 0x20
NUD_NOARP = 0x40
NUD_PERMANENT = 0x80
NUD_NONE = 0x00
NUD_NAMES = {NUD_INCOMPLETE: "INCOMPLETE", NUD_REACHABLE: "REACHABLE", NUD_STALE: "STALE",
             NUD_DELAY: "DELAY", NUD_PROBE: "PROBE", NUD_FAILED: "FAILED", NUD_NOARP: "NOARP",
             NUD_PERMANENT: "PERMANENT", NUD_NONE: "NONE"}
NUD_VALID = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY
ZERO_MAC = b"\x00" * 6
BCAST_MAC = b"\xff" * 6

# Membership generations of the neighbour tables, drawn from one counter so that no two tables ever
# hold the same value (a cache keeps a table's generation: equal means the same table, unchanged).
_MEMBERSHIP_GEN = count(1)

# neigh_parms: the defaults live in sysctl (net.ipv4.neigh.*); this one seeds new entries.
BASE_REACHABLE_NS = 30 * NSEC_PER_SEC


class Neighbour:
    """struct neighbour: one (device, address) → link-layer address binding."""

    __slots__ = ("dev", "ip", "lladdr", "state", "confirmed", "updated", "used", "probes", "queue",
                 "queue_bytes", "timer_gen", "reachable_ns", "router", "proto")

    def __init__(self, dev: NetDevice, ip: int) -> None:
        self.dev = dev
        self.ip = ip
        self.lladdr: bytes | None = None
        self.state = NUD_NONE
        self.confirmed = 0
        self.updated = 0
        self.used = 0
        self.probes = 0
        self.queue: list[tuple[Any, Any]] = []
        self.queue_bytes = 0
        self.timer_gen = 0
        self.reachable_ns = BASE_REACHABLE_NS
        self.router = False
        self.proto = 0


class NeighTable:
    """arp_tbl of one namespace.

    `gen` is the table's membership generation: a new value whenever an entry is added to or taken
    out of `entries` (`create`, `remove`). A fast path may keep the Neighbour a (device, address)
    key found while `gen` holds (fastpath.py's flow entries, an output route's next hop): the entry's
    state, address and times are read from the Neighbour itself, so only which object the key
    names can change, and that only here."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.entries: dict[tuple[int, int], Neighbour] = {}
        self.gen = next(_MEMBERSHIP_GEN)

    def remove(self, key: tuple[int, int]) -> Neighbour | None:
        """neigh_del / neigh_flush_dev's unlink of one entry: out of the table, its timers and queue
        dropped; None when the key names none."""
        n = self.entries.pop(key, None)
        if n is not None:
            self.gen = next(_MEMBERSHIP_GEN)
            n.timer_gen += 1
            n.queue = []
        return n

    # -- neigh_parms (net.ipv4.neigh.DEV.*), read on the slow path only ----------
    def parm(self, dev: NetDevice, key: str) -> int:
        v = self.ns.sysctl.values.get(f"net.ipv4.neigh.{dev.name}.{key}")
        if v is None:
            v = self.ns.sysctl.values[f"net.ipv4.neigh.default.{key}"]
        return int(v)

    def locktime_ns(self, dev: NetDevice) -> int:
        """NEIGH_VAR(LOCKTIME): 100 USER_HZ ticks, 1 s (net.ipv4.neigh.DEV.locktime, not offered as a key)."""
        return NSEC_PER_SEC

    def retrans_ns(self, dev: NetDevice) -> int:
        return self.parm(dev, "retrans_time_ms") * NSEC_PER_MSEC

    # -- lookups -----------------------------------------------------------
    def get(self, dev: NetDevice, ip: int) -> Neighbour | None:
        n = self.entries.get((dev.ifindex, ip))
        if n is not None:
            self.refresh(n)
        return n

    def refresh(self, n: Neighbour) -> None:
        """Apply the state changes the kernel's timer would have made by now: neigh_timer_handler on
        a REACHABLE entry past its reachable time makes it DELAY if it was used within
        delay_first_probe_time of that moment (its DELAY timer then confirms or probes), else STALE."""
        if n.state == NUD_REACHABLE:
            expiry = n.confirmed + n.reachable_ns
            now = self.ns.sched.now
            if now < expiry:
                return
            delay = self.parm(n.dev, "delay_first_probe_time") * NSEC_PER_SEC
            n.timer_gen += 1
            n.updated = expiry
            if expiry <= n.used + delay:
                n.state = NUD_DELAY
                self.ns.sched.after(max(0, expiry + delay - now), self._delay_timer, n, n.timer_gen)
            else:
                n.state = NUD_STALE

    def _arm_reachable(self, n: Neighbour) -> None:
        """neigh_add_timer for a REACHABLE entry, armed only when its expiry can make it DELAY (it was
        used within delay_first_probe_time of the expiry): otherwise the lazy `refresh` makes it
        STALE when someone looks, and a table at rest costs no events."""
        expiry = n.confirmed + n.reachable_ns
        if expiry <= n.used + self.parm(n.dev, "delay_first_probe_time") * NSEC_PER_SEC:
            self.ns.sched.after(max(0, expiry - self.ns.sched.now), self._reachable_timer, n, n.timer_gen)

    def _reachable_timer(self, n: Neighbour, gen: int) -> None:
        if gen == n.timer_gen and n.state == NUD_REACHABLE:
            if self.ns.sched.now < n.confirmed + n.reachable_ns:   # confirmed since: re-armed
                self._arm_reachable(n)
            else:
                self.refresh(n)

    def random_reachable(self, dev: NetDevice | None = None) -> int:
        """neigh_rand_reach_time: uniform in [base/2, 3·base/2)."""
        base = BASE_REACHABLE_NS if dev is None else self.parm(dev, "base_reachable_time_ms") * NSEC_PER_MSEC
        return base // 2 + self.ns.world.rng.randrange(base)

    def create(self, dev: NetDevice, ip: int) -> Neighbour:
        """___neigh_create + arp_constructor: a new entry was last confirmed two base reachable times
        ago. On a loopback or point-to-point device every address is the one entry keyed 0.0.0.0 (the
        existing one is returned); on a loopback or IFF_NOARP device it starts NUD_NOARP holding the
        device's own address (a tunnel's: zeros)."""
        flags = dev.flags()
        if flags & (IFF_LOOPBACK | IFF_POINTOPOINT):
            ip = 0
            old = self.entries.get((dev.ifindex, 0))
            if old is not None:
                return old
        n = Neighbour(dev, ip)
        n.updated = n.used = self.ns.sched.now
        n.confirmed = n.updated - 2 * self.parm(dev, "base_reachable_time_ms") * NSEC_PER_MSEC
        rtype = self.ns.inet_addr_type_table(ip, RT_TABLE_LOCAL)   # arp_constructor: neigh->type
        if rtype == "multicast":   # arp_mc_map
            n.state = NUD_NOARP
            n.lladdr = b"\x01\x00\x5e" + (ip & 0x7FFFFF).to_bytes(3, "big")
        elif flags & (IFF_NOARP | IFF_LOOPBACK):
            n.state = NUD_NOARP
            n.lladdr = dev.mac if len(dev.mac) == len(ZERO_MAC) else ZERO_MAC
        elif rtype == "broadcast":   # a broadcast address: dev->broadcast, no ARP
            n.state = NUD_NOARP
            n.lladdr = b"\xff" * 6
        self.entries[(dev.ifindex, ip)] = n
        self.gen = next(_MEMBERSHIP_GEN)
        return n

    def neigh_add(self, dev: NetDevice, dst: int, lladdr: bytes | None, state: int, *, create: bool,
                  excl: bool) -> None:
        """neigh_add (`ip neigh add` is create+excl, `replace` create, `change` neither): look the
        address up, create the entry when allowed (arp_constructor may hand back the device's one
        entry), then __neigh_update with NEIGH_UPDATE_F_ADMIN."""
        n = self.entries.get((dev.ifindex, dst))
        if n is None:
            if not create:
                raise NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)
            n = self.create(dev, dst)
        elif excl:
            raise NetplexError("RTNETLINK answers: File exists", errno.EEXIST)
        if lladdr is None and state & NUD_VALID and not n.state & NUD_VALID:
            # __neigh_update: no address given and none known (a new entry stays, NUD_NONE)
            raise NetplexError("Error: No link layer address given.", errno.EINVAL)
        self.admin_update(n, lladdr, state)

    # -- output ------------------------------------------------------------
    def output(self, dev: NetDevice, nexthop: int, frame: Any, src_hint: int | None, nbytes: int = 0) -> None:
        """neigh_output / __neigh_event_send: send now, or queue while resolving."""
        ns = self.ns
        n = self.entries.get((dev.ifindex, nexthop))
        if n is not None:
            state = n.state
            now = ns.sched.now
            if state == NUD_REACHABLE and now - n.confirmed < n.reachable_ns:
                frame.dst = n.lladdr
                dev.xmit(frame, nbytes)
                return
            if state & (NUD_PERMANENT | NUD_NOARP):
                frame.dst = n.lladdr
                dev.xmit(frame)
                return
            self.refresh(n)   # the timer fired before this packet, with the entry's last use
            n.used = now   # neigh_event_send: the slow path (the cached header path leaves it)
            state = n.state
            if state == NUD_STALE:
                n.state = NUD_DELAY
                n.updated = now
                n.timer_gen += 1
                ns.sched.after(self.parm(dev, "delay_first_probe_time") * NSEC_PER_SEC, self._delay_timer, n, n.timer_gen)
            if n.state & (NUD_DELAY | NUD_PROBE):
                frame.dst = n.lladdr
                dev.xmit(frame)
                return
            if state == NUD_INCOMPLETE:
                self._enqueue(n, frame, src_hint)
                return
            # NONE or FAILED: start resolving again
        else:
            n = self.create(dev, nexthop)
            if n.state == NUD_NOARP and n.lladdr is not None:
                # arp_constructor on an IFF_NOARP device (a GRE tunnel, `arp off`): no resolution
                frame.dst = n.lladdr
                dev.xmit(frame)
                return
        self._start_resolution(n, frame, src_hint)

    def event_send(self, n: Neighbour) -> None:
        """neigh_event_send(n, NULL) on an entry that is not NUD_VALID (__ip_do_redirect's new
        gateway): start resolving a NONE or FAILED entry, nothing queued; an INCOMPLETE one goes on."""
        if n.state in (NUD_NONE, NUD_FAILED):
            self._start_resolution(n, None, None)

    def _start_resolution(self, n: Neighbour, frame: Any, src_hint: int | None) -> None:
        """__neigh_event_send for NONE/FAILED: INCOMPLETE, `frame` queued, the first solicitation
        now and the retransmit timer."""
        n.state = NUD_INCOMPLETE
        n.updated = self.ns.sched.now
        n.probes = self.parm(n.dev, "ucast_solicit")   # the unicast probes count as spent: multicast next
        if frame is not None:
            self._enqueue(n, frame, src_hint)
        self._solicit(n, src_hint)
        n.timer_gen += 1
        self.ns.sched.after(self.retrans_ns(n.dev), self._incomplete_timer, n, n.timer_gen, src_hint)

    def _enqueue(self, n: Neighbour, frame: Any, src_hint: int | None) -> None:
        size = frame.wire_len()
        while n.queue and n.queue_bytes + size > self.parm(n.dev, "unres_qlen_bytes"):
            old, _ = n.queue.pop(0)
            n.queue_bytes -= old.wire_len()
            self.ns.drop(old, n.dev, SkbDropReason.NEIGH_QUEUEFULL)
        n.queue.append((frame, src_hint))
        n.queue_bytes += size

    def _solicit(self, n: Neighbour, src_hint: int | None, unicast: bool = False) -> None:
        """arp_solicit: a request for n.ip, from the packet's source when it is ours (as
        arp_announce allows)."""
        ns = self.ns
        dev = n.dev
        saddr = ns.arp_announce_source(dev, n.ip, src_hint)
        if saddr is None:
            saddr = ns.select_source(dev, n.ip, scope_link=True) or 0
        dst = n.lladdr if unicast and n.lladdr else BCAST_MAC
        arp = Arp(ARPOP_REQUEST, dev.mac, saddr, ZERO_MAC, n.ip)
        n.probes += 1
        if ns.world.tracer.on:
            ns.trace("arp_solicit", f"who-has {ns.fmt_ip(n.ip)} tell {ns.fmt_ip(saddr)} on {dev.name}"
                     + (" (unicast)" if unicast else ""), dev=dev.name)
        dev.xmit(Ethernet(dst, dev.mac, ETH_P_ARP, arp))

    def _incomplete_timer(self, n: Neighbour, gen: int, src_hint: int | None) -> None:
        if gen != n.timer_gen or n.state != NUD_INCOMPLETE:
            return
        if n.probes >= self.max_probes(n):
            self._fail(n)
            return
        self._solicit(n, src_hint)
        n.timer_gen += 1
        self.ns.sched.after(self.retrans_ns(n.dev), self._incomplete_timer, n, n.timer_gen, src_hint)

    def max_probes(self, n: Neighbour) -> int:
        """neigh_max_probes for an INCOMPLETE entry: ucast_solicit + app_solicit + mcast_solicit (its
        probes start at ucast_solicit, so mcast_solicit broadcast requests go out)."""
        return sum(self.parm(n.dev, k) for k in ("ucast_solicit", "app_solicit", "mcast_solicit"))

    def refcnt(self, n: Neighbour) -> int:
        """neigh_fill_info's ndm_refcnt (the entry's references less the table's): the pending timer's
        one (neigh_add_timer's neigh_hold) while REACHABLE, DELAY, PROBE or resolving (INCOMPLETE by
        __neigh_event_send; one an admin set INCOMPLETE has no timer), else none."""
        self.refresh(n)
        if n.state & (NUD_REACHABLE | NUD_DELAY | NUD_PROBE) or (n.state == NUD_INCOMPLETE and n.probes):
            return 1
        return 0

    def _delay_timer(self, n: Neighbour, gen: int) -> None:
        if gen != n.timer_gen or n.state != NUD_DELAY:
            return
        now = self.ns.sched.now
        if now - n.confirmed <= self.parm(n.dev, "delay_first_probe_time") * NSEC_PER_SEC:
            n.state = NUD_REACHABLE
            n.updated = n.confirmed
            self._arm_reachable(n)
            return
        n.state = NUD_PROBE
        n.updated = now
        n.probes = 0
        self._probe_timer(n, n.timer_gen)

    def _probe_timer(self, n: Neighbour, gen: int) -> None:
        if gen != n.timer_gen or n.state != NUD_PROBE:
            return
        if n.probes >= self.parm(n.dev, "ucast_solicit"):
            self._fail(n)
            return
        self._solicit(n, None, unicast=True)
        n.timer_gen += 1
        self.ns.sched.after(self.retrans_ns(n.dev), self._probe_timer, n, n.timer_gen)

    def _fail(self, n: Neighbour) -> None:
        """neigh_invalidate: FAILED; every queued packet gets its error report."""
        n.state = NUD_FAILED
        n.updated = self.ns.sched.now
        queue, n.queue, n.queue_bytes = n.queue, [], 0
        if self.ns.world.tracer.on:
            self.ns.trace("neigh", f"{self.ns.fmt_ip(n.ip)} dev {n.dev.name} FAILED", dev=n.dev.name)
        for frame, _ in queue:
            self.ns.neigh_unreachable(n.dev, frame)

    # -- input -------------------------------------------------------------
    def update(self, dev: NetDevice, ip: int, lladdr: bytes, confirm: bool, create: bool,
               override: bool = True, used: bool = False) -> None:
        """neigh_update from a received ARP packet.

        A reply to our request confirms (REACHABLE); a request to us, or a
        reply we did not ask for, only records the address (STALE). Without
        NEIGH_UPDATE_F_OVERRIDE (`override`: arp_process within locktime of the
        entry's last update) a valid entry keeps its address and state.
        `used`: a request to us from the neighbour (neigh_event_ns, which answers it) also counts
        as a use of its entry: kernel 6.18 shows `used 0` on both ends after a unicast probe is
        answered, and an entry confirmed then goes DELAY, not STALE, when its reachable time ends
        (corpus rand-neigh-timers).
        """
        ns = self.ns
        now = ns.sched.now
        n = self.entries.get((dev.ifindex, ip))
        if n is None:
            if not create:
                return
            n = self.create(dev, ip)
        if n.state & (NUD_PERMANENT | NUD_NOARP):
            return
        changed = n.lladdr != lladdr
        if changed and not override and n.state & NUD_VALID:
            return   # __neigh_update: "lladdr != neigh->ha && !OVERRIDE" goes out
        old = n.state
        if confirm:
            new = NUD_REACHABLE
            n.confirmed = now
        elif old in (NUD_INCOMPLETE, NUD_NONE, NUD_FAILED) or changed:
            new = NUD_STALE
        else:
            new = old   # __neigh_update: a valid entry told STALE with the same address stays as it is
        n.lladdr = lladdr
        if used:
            n.used = now
        if new != old or changed:   # only a real change moves `updated` (and the locktime window)
            n.updated = now
        if new != old:   # the state's timer restarts only with a new state (neigh_del_timer)
            n.state = new
            n.timer_gen += 1
            if new == NUD_REACHABLE:
                n.reachable_ns = self.random_reachable(dev)
                self._arm_reachable(n)
        if n.queue:
            queue, n.queue, n.queue_bytes = n.queue, [], 0
            for frame, _ in queue:
                frame.dst = lladdr
                dev.xmit(frame)

    def admin_update(self, n: Neighbour, lladdr: bytes | None, state: int) -> None:
        """__neigh_update from `ip neigh add/change/replace` (NEIGH_UPDATE_F_ADMIN): the new
        state's timer starts now (neigh_add_timer(jiffies)): DELAY is judged at once (PROBE
        unless confirmed within delay_first_probe_time), PROBE sends its first unicast probe."""
        now = self.ns.sched.now
        if not state & NUD_VALID:
            # __neigh_update to NONE, INCOMPLETE or FAILED: the timer stops, the address is not taken
            n.state = state
            n.timer_gen += 1
            self.ns.config_changed()
            return
        if lladdr is not None:
            n.lladdr = lladdr
        old = n.state
        n.state = state
        n.updated = now
        n.timer_gen += 1
        if state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE):   # NUD_CONNECTED: confirmed now
            n.confirmed = now
        if state == NUD_REACHABLE:
            n.reachable_ns = self.random_reachable(n.dev)   # the device's base_reachable_time_ms
            self._arm_reachable(n)
        if state != old and state == NUD_PROBE:
            n.probes = 0
        if state == NUD_DELAY:
            self.ns.sched.after(0, self._delay_timer, n, n.timer_gen)
        elif state == NUD_PROBE:
            self.ns.sched.after(0, self._probe_timer, n, n.timer_gen)
        if n.queue and n.lladdr is not None and state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_STALE):
            queue, n.queue, n.queue_bytes = n.queue, [], 0
            for frame, _ in queue:
                frame.dst = n.lladdr
                n.dev.xmit(frame)
        self.ns.config_changed()

    def confirm(self, dev: NetDevice, ip: int) -> None:
        """neigh_confirm (dst_confirm_neigh): upper layers saw forward progress."""
        n = self.entries.get((dev.ifindex, ip))
        if n is not None and n.state & NUD_VALID and not n.state & (NUD_PERMANENT | NUD_NOARP):
            n.confirmed = self.ns.sched.now

    def flush_dev(self, dev: NetDevice, skip_perm: bool = False) -> None:
        """neigh_flush_dev: every entry of the device (neigh_ifdown: device down or gone, its last
        address deleted; neigh_changeaddr: a new MAC), or all but the permanent ones
        (neigh_carrier_down: carrier lost, with arp_evict_nocarrier)."""
        for key in [k for k, n in self.entries.items() if n.dev is dev and not (skip_perm and n.state & NUD_PERMANENT)]:
            self.remove(key)
