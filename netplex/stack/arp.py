"""ARP input (net/ipv4/arp.c: arp_rcv, arp_process).

A request for one of our addresses is answered from the receiving device
(arp_ignore=0: any local address) and records the sender as STALE
(neigh_event_ns); a unicast reply confirms an entry we were resolving
(REACHABLE); anything else only refreshes an entry that already exists
(arp_accept=0: gratuitous ARP never creates one).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, Ethernet
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.if_flags import IFF_NOARP

if TYPE_CHECKING:
    from netplex.engine.scheduler import Scheduler
    from netplex.engine.trace import TraceFields
    from netplex.engine.world import World
    from netplex.stack.device import NetDevice
    from netplex.stack.neigh import NeighTable
    from netplex.stack.route import Fib
    from netplex.stack.sysctl import Sysctl


class ArpMixin:
    """Mixed into Namespace."""

    # declared and initialised by Namespace.__init__ (netns.py)
    world: World
    sched: Scheduler
    sysctl: Sysctl
    fib: Fib
    neigh: NeighTable

    if TYPE_CHECKING:
        def trace(self, stage: str, text: str, **fields: Unpack[TraceFields]) -> None: ...
        def drop(self, frame: Ethernet | None, dev: NetDevice | None, reason: SkbDropReason) -> None: ...
        def fmt_ip(self, a: int | None) -> str: ...
        def fmt_mac(self, m: bytes) -> str: ...
        def is_local_addr(self, a: int) -> bool: ...
        def fib_validate_source(self, dev: NetDevice, src: int, dst: int, tos: int = 0,
                                frame: Ethernet | None = None) -> SkbDropReason | None: ...

    def arp_rcv(self, dev: NetDevice, frame: Ethernet) -> None:
        arp = frame.payload
        if not isinstance(arp, Arp) or arp.hwtype != 1 or arp.ptype != 0x0800:
            self.drop(frame, dev, SkbDropReason.ARP_MALFORMED)
            return
        if dev.kind == "loopback" or dev.flags() & IFF_NOARP:
            return    # arp_rcv: an IFF_NOARP device consumes ARP unread
        sip, tip, sha = arp.spa, arp.tpa, arp.sha
        if sip >> 28 == 14 or sha[0] & 1:
            self.drop(frame, dev, SkbDropReason.ARP_BOGUS)
            return
        tracing = self.world.tracer.on
        local_target = self.is_local_addr(tip) and self.addr_usable_on(dev, tip)
        if arp.op == ARPOP_REQUEST and sip == 0:
            if local_target:
                self._arp_reply(dev, arp)  # duplicate address detection probe
            return
        # ip_route_input_noref(skb, tip, sip, 0, dev): the input route of a request validates its
        # sender (fib_validate_source: rp_filter, our own address); refused, neither a reply nor
        # a proxy reply, only the update of an entry that exists
        routed = (arp.op == ARPOP_REQUEST and (local_target or dev.forwarding) and sip >> 24 != 127
                  and sip != 0xFFFFFFFF and self.fib_validate_source(dev, sip, tip) is None)
        if routed and local_target:
            if tracing:
                self.trace("arp_process", f"who-has {self.fmt_ip(tip)} from {self.fmt_ip(sip)}: is-at {self.fmt_mac(dev.mac)}",
                           dev=dev.name)
            self.neigh.update(dev, sip, sha, confirm=False, create=True)
            self._arp_reply(dev, arp)
            return
        if routed and self.arp_fwd_proxy(dev, tip, sip):
            # pneigh_enqueue: a broadcast request is answered after a random
            # share of proxy_delay (USER_HZ ticks), a unicast one at once
            self.neigh.update(dev, sip, sha, confirm=False, create=True)
            delay = 0
            if frame.dst != dev.mac:
                span = self.neigh.parm(dev, "proxy_delay") * 10_000_000
                delay = self.world.rng.randrange(span) if span else 0
            if tracing:
                self.trace("arp_process", f"proxy: who-has {self.fmt_ip(tip)} on {dev.name}: is-at {self.fmt_mac(dev.mac)}",
                           dev=dev.name)
            self.sched.after(delay, self._arp_reply, dev, arp)
            return
        confirm = arp.op == ARPOP_REPLY and frame.dst == dev.mac
        if tracing and arp.op == ARPOP_REPLY:
            self.trace("arp_process", f"{self.fmt_ip(sip)} is-at {self.fmt_mac(sha)} on {dev.name}", dev=dev.name)
        # arp_process: a new address overrides an entry only after locktime, or from a gratuitous ARP
        n = self.neigh.get(dev, sip)
        garp = sip == tip and (arp.op != ARPOP_REPLY or arp.tha == sha)
        override = n is None or garp or self.sched.now > n.updated + self.neigh.locktime_ns(dev)
        self.neigh.update(dev, sip, sha, confirm=confirm, create=False, override=override)

    def arp_fwd_proxy(self, dev: NetDevice, tip: int, sip: int = 0) -> bool:
        """arp_fwd_proxy: proxy_arp on (all or the device), forwarding on, and the
        target routed out of another device."""
        v = self.sysctl.values
        # IN_DEV_PROXY_ARP: the all/device values or'ed, any non-zero value is on
        if v.get(f"net.ipv4.conf.{dev.name}.proxy_arp", "0") == "0" and v.get("net.ipv4.conf.all.proxy_arp") == "0":
            return False
        if not dev.forwarding or dev.master is not None:
            return False
        r = self.fib.lookup(tip, sip, dev.name)   # ip_route_input_noref(skb, tip, sip, 0, dev)
        return r is not None and r.type == "unicast" and r.dev is not dev

    def addr_usable_on(self, dev: NetDevice, addr: int) -> bool:
        """arp_ignore=0 answers for any local address; a bridge port answers nothing itself."""
        return dev.bridge_port is None

    def _arp_reply(self, dev: NetDevice, req: Arp) -> None:
        reply = Arp(ARPOP_REPLY, dev.mac, req.tpa, req.sha, req.spa)
        dev.xmit(Ethernet(req.sha, dev.mac, ETH_P_ARP, reply))
