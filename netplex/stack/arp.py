"""ARP input (net/ipv4/arp.c: arp_rcv, arp_process).

A request for one of our addresses is answered from the receiving device
(as arp_ignore and arp_filter allow, after the input route validated its sender:
rp_filter) and records the sender as STALE (neigh_event_ns); a unicast reply
confirms an entry we were resolving (REACHABLE); anything else only refreshes
an entry that already exists, unless arp_accept lets an unsolicited one make it.
arp_announce picks a request's sender address (arp_solicit, via neigh.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, Ethernet
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.if_flags import IFF_NOARP
from netplex.stack.route import RT_SCOPE_HOST, RT_SCOPE_LINK, RT_TABLE_LOCAL

if TYPE_CHECKING:
    from netplex.engine.scheduler import Scheduler
    from netplex.engine.trace import TraceFields
    from netplex.engine.world import World
    from netplex.stack.device import NetDevice
    from netplex.stack.ipv4 import OutRoute
    from netplex.stack.neigh import NeighTable
    from netplex.stack.netns import IfAddr
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
    devices: dict[str, NetDevice]
    addrs: dict[int, list[IfAddr]]

    if TYPE_CHECKING:
        def trace(self, stage: str, text: str, **fields: Unpack[TraceFields]) -> None: ...
        def drop(self, frame: Ethernet | None, dev: NetDevice | None, reason: SkbDropReason) -> None: ...
        def fmt_ip(self, a: int | None) -> str: ...
        def fmt_mac(self, m: bytes) -> str: ...
        def is_local_addr(self, a: int) -> bool: ...
        def inet_addr_type_table(self, addr: int, table_id: int) -> str: ...
        def ip_route_output(self, dst: int, oif: NetDevice | None = None, src: int | None = None,
                            mark: int = 0, tos: int = 0, anysrc: bool = False) -> OutRoute | int: ...
        def fib_validate_source(self, dev: NetDevice, src: int, dst: int, tos: int = 0,
                                frame: Ethernet | None = None) -> SkbDropReason | None: ...
        def ip_handle_martian_source(self, dev: NetDevice, frame: Ethernet | None, daddr: int,
                                     saddr: int) -> None: ...

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
        # arp_process: "bad requests for 127.x.x.x and requests for multicast addresses" go unread
        if tip >> 28 == 14 or tip >> 24 == 127 and not self.conf_max(dev, "route_localnet"):
            self.drop(frame, dev, SkbDropReason.ARP_BOGUS)
            return
        tracing = self.world.tracer.on
        local_target = self.is_local_addr(tip) and self.addr_usable_on(dev, tip)
        if arp.op == ARPOP_REQUEST and sip == 0:
            if local_target and not self.arp_ignore(dev, sip, tip):
                self._arp_reply(dev, arp)  # duplicate address detection probe
            return
        # ip_route_input_noref(skb, tip, sip, 0, dev): the input route of a request validates its
        # sender (fib_validate_source: rp_filter, our own address); refused, neither a reply nor
        # a proxy reply, only the update of an entry that exists
        routed = (arp.op == ARPOP_REQUEST and (local_target or dev.forwarding) and sip >> 24 != 127
                  and sip != 0xFFFFFFFF)
        if routed and self.fib_validate_source(dev, sip, tip) is not None:
            routed = False
            self.ip_handle_martian_source(dev, frame, tip, sip)   # ip_route_input_slow's martian_source
        if routed and local_target and (self.arp_ignore(dev, sip, tip) or self.arp_filter(dev, sip, tip)):
            if tracing:
                self.trace("arp_process", f"who-has {self.fmt_ip(tip)} from {self.fmt_ip(sip)}: not answered "
                           "(arp_ignore / arp_filter)", dev=dev.name)
            return    # `goto out_consume_skb`: no reply, no neighbour made, none updated
        if routed and local_target:
            if tracing:
                self.trace("arp_process", f"who-has {self.fmt_ip(tip)} from {self.fmt_ip(sip)}: is-at {self.fmt_mac(dev.mac)}",
                           dev=dev.name)
            self.neigh.update(dev, sip, sha, confirm=False, create=True, used=True)
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
        # arp_is_garp: sender = target (a reply's target MAC its sender's too), from a unicast address
        garp = (sip == tip and (arp.op != ARPOP_REPLY or arp.tha == sha)
                and self.inet_addr_type_table(sip, RT_TABLE_LOCAL) == "unicast")
        # arp_accept: an unsolicited ARP (a gratuitous one, or a reply from a unicast address) makes
        # an entry; 1 always, 2 when the sender is on a subnet of the device
        accept = self.conf_max(dev, "arp_accept")
        create = n is None and (accept == 1 or accept == 2 and bool(self.confirm_addr_indev(dev, sip, 0, RT_SCOPE_LINK))) \
            and (garp or arp.op == ARPOP_REPLY and self.inet_addr_type_table(sip, RT_TABLE_LOCAL) == "unicast")
        override = n is None or garp or self.sched.now > n.updated + self.neigh.locktime_ns(dev)
        self.neigh.update(dev, sip, sha, confirm=confirm, create=create, override=override)

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

    def conf_max(self, dev: NetDevice, key: str) -> int:
        """IN_DEV_MAXCONF: the larger of net.ipv4.conf.all.KEY and the device's."""
        v = self.sysctl.values
        return max(int(v[f"net.ipv4.conf.all.{key}"]), int(v.get(f"net.ipv4.conf.{dev.name}.{key}", "0")))

    def confirm_addr_indev(self, dev: NetDevice, dst: int, local: int, scope: int) -> int:
        """confirm_addr_indev (devinet.c): an address of `dev` (`local` itself when given) of scope
        at most `scope`, on a subnet of the device holding `dst` and `local` (0: any); else 0."""
        localnet_scope = RT_SCOPE_LINK if self.conf_max(dev, "route_localnet") else RT_SCOPE_HOST
        addr = 0
        same = False
        for ifa in self.addrs.get(dev.ifindex, []):
            min_scope = min(ifa.scope, localnet_scope)
            if not addr and (local == ifa.addr or not local) and min_scope <= scope:
                addr = ifa.addr
                if same:
                    break
            if not same:
                same = ((not local or local & ifa.mask == ifa.prefix)
                        and (not dst or dst & ifa.mask == ifa.prefix))
                if same and addr:
                    if local or not dst or addr & ifa.mask == ifa.prefix:
                        break
                    if min_scope <= scope:
                        addr = ifa.addr
                        break
                    same = False
        return addr if same else 0

    def arp_ignore(self, dev: NetDevice, sip: int, tip: int) -> bool:
        """arp_ignore (arp.c): whether a request for our `tip` goes unanswered on `dev`.
        0 (and 4-7): answer; 1: only for an address of `dev`; 2: also on a subnet holding the
        sender's; 3: not for a host-scope address; 8: never."""
        mode = self.conf_max(dev, "arp_ignore")
        if mode == 1:
            return not self.confirm_addr_indev(dev, 0, tip, RT_SCOPE_HOST)
        if mode == 2:
            return not self.confirm_addr_indev(dev, sip, tip, RT_SCOPE_HOST)
        if mode == 3:   # inet_confirm_addr without a device: any device's address of link scope at most
            return not any(self.confirm_addr_indev(d, 0, tip, RT_SCOPE_LINK) for d in list(self.devices.values()))
        return mode == 8

    def arp_filter(self, dev: NetDevice, sip: int, tip: int) -> bool:
        """arp_filter (arp.c, with IN_DEV_ARPFILTER: all or the device): not answered unless the
        route back to the sender from `tip` leaves through `dev`."""
        v = self.sysctl.values
        if v["net.ipv4.conf.all.arp_filter"] == "0" and v.get(f"net.ipv4.conf.{dev.name}.arp_filter", "0") == "0":
            return False
        rt = self.ip_route_output(sip, None, tip)
        return isinstance(rt, int) or rt.dev is not dev

    def arp_announce_source(self, dev: NetDevice, target: int, src: int | None) -> int | None:
        """arp_solicit's choice of the request's sender address by arp_announce: 0 (and above 2):
        the packet's source when it is ours; 1: only when it shares a subnet of `dev` with the
        target (inet_addr_onlink); 2: never. None: inet_select_addr picks."""
        mode = self.conf_max(dev, "arp_announce")
        if src is None or mode == 2 or not self.is_local_addr(src):
            return None
        if mode == 1 and not any(target & a.mask == a.prefix and src & a.mask == a.prefix
                                 for a in self.addrs.get(dev.ifindex, [])):
            return None
        return src

    def addr_usable_on(self, dev: NetDevice, addr: int) -> bool:
        """arp_ignore=0 answers for any local address; a bridge port answers nothing itself."""
        return dev.bridge_port is None

    def _arp_reply(self, dev: NetDevice, req: Arp) -> None:
        reply = Arp(ARPOP_REPLY, dev.mac, req.tpa, req.sha, req.spa)
        dev.xmit(Ethernet(req.sha, dev.mac, ETH_P_ARP, reply))
