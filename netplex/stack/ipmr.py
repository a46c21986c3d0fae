"""IPv4 multicast routing (net/ipv4/ipmr.c): virtual interfaces, the MFC, forwarding.

A multicast routing daemon opens the mroute socket (MRT_INIT), adds virtual
interfaces (MRT_ADD_VIF) — which turns on mc_forwarding on their devices —
and installs forwarding cache entries (MRT_ADD_MFC): (S,G) → an input VIF and
a TTL threshold per output VIF. `ip_mr_input` runs for a multicast datagram
(not 224.0.0.x) arriving on a VIF device: a resolved entry forwards a copy
out of every VIF whose threshold the TTL exceeds (ip_mr_forward →
ipmr_queue_xmit, TTL decremented, FORWARD and POSTROUTING on the way); a miss
makes an unresolved entry (shown by `ip mroute` for its 10 s) and an
IGMPMSG_NOCACHE upcall to the daemon, which may answer with an entry — the
queued packets (up to four) then go out. Closing the socket (MRT_DONE)
flushes VIFs and the cache. Each namespace has at most one table (table
`default`, 253); multiple tables (MRT_TABLE) are not modelled.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from netplex.errors import NetplexError
from netplex.stack.dropreason import SkbDropReason

MAXVIFS = 32
UNRES_TIMEOUT_NS = 10_000_000_000
UNRES_QLEN = 4
RT_TABLE_DEFAULT = 253


class Vif:
    """vif_device."""

    __slots__ = ("dev", "threshold", "flags", "pkt_in", "pkt_out", "bytes_in", "bytes_out")

    def __init__(self, dev: Any, threshold: int = 1, flags: int = 0) -> None:
        self.dev = dev
        self.threshold = threshold
        self.flags = flags
        self.pkt_in = self.pkt_out = self.bytes_in = self.bytes_out = 0


class MfcEntry:
    """mfc_cache: (origin, group) → parent VIF and per-VIF TTL thresholds (255: not an output)."""

    __slots__ = ("origin", "group", "parent", "ttls", "pkt", "bytes", "wrong_if", "lastuse", "queue", "expires")

    def __init__(self, origin: int, group: int, parent: int, ttls: dict[int, int], now: int) -> None:
        self.origin = origin
        self.group = group
        self.parent = parent
        self.ttls = ttls
        self.pkt = self.bytes = self.wrong_if = 0
        self.lastuse = now
        self.queue: list[tuple[Any, Any]] = []   # unresolved: (device, frame) waiting
        self.expires = 0


class MrTable:
    """mr_table: the VIFs, the resolved cache (oldest first) and the unresolved queue."""

    def __init__(self, ns: Any, upcall: Callable[[Any, int, int, int], None] | None) -> None:
        self.ns = ns
        self.vifs: list[Vif | None] = []
        self.mfc: dict[tuple[int, int], MfcEntry] = {}
        self.unres: dict[tuple[int, int], MfcEntry] = {}
        self.upcall = upcall   # the daemon: upcall(table, vifi, origin, group) on IGMPMSG_NOCACHE

    # -- VIFs ------------------------------------------------------------------
    def vif_of(self, dev: Any) -> int:
        for i, v in enumerate(self.vifs):
            if v is not None and v.dev is dev:
                return i
        return -1

    def add_vif(self, dev: Any, threshold: int = 1, flags: int = 0) -> int:
        """vif_add (MRT_ADD_VIF): the device forwards multicast from now on."""
        if self.vif_of(dev) >= 0:
            raise NetplexError("File exists", errno.EADDRINUSE)
        for i, v in enumerate(self.vifs):
            if v is None:
                self.vifs[i] = Vif(dev, threshold, flags)
                break
        else:
            if len(self.vifs) >= MAXVIFS:
                raise NetplexError("Too many open files", errno.ENFILE)
            self.vifs.append(Vif(dev, threshold, flags))
            i = len(self.vifs) - 1
        self.ns.sysctl.mc_forwarding(dev.name, +1)
        self.ns.config_changed()
        return i

    def live_vif(self, i: int) -> Vif | None:
        v = self.vifs[i] if 0 <= i < len(self.vifs) else None
        if v is not None and v.dev.ifindex not in self.ns.by_index:
            self.vifs[i] = None   # NETDEV_UNREGISTER: vif_delete
            return None
        return v

    # -- the cache ---------------------------------------------------------------
    def add_mfc(self, origin: int, group: int, parent: int, ttls: dict[int, int]) -> None:
        """ipmr_mfc_add: install or update; queued packets of an unresolved entry go out now."""
        ns = self.ns
        now = ns.sched.now
        key = (origin, group)
        c = self.mfc.get(key)
        if c is not None:
            c.parent = parent
            c.ttls = dict(ttls)
            return
        c = self.mfc[key] = MfcEntry(origin, group, parent, dict(ttls), now)
        uc = self.unres.pop(key, None)
        if uc is not None:
            for dev, frame in uc.queue:   # ipmr_cache_resolve
                self.forward(dev, frame, c)

    def del_mfc(self, origin: int, group: int) -> bool:
        return self.mfc.pop((origin, group), None) is not None

    def live_unres(self) -> list[MfcEntry]:
        now = self.ns.sched.now
        for k in [k for k, c in self.unres.items() if c.expires <= now]:
            del self.unres[k]   # ipmr_expire_process
        return list(self.unres.values())

    # -- the data path -------------------------------------------------------------
    def input(self, dev: Any, frame: Any) -> None:
        """ip_mr_input: forward by the cache, or queue and ask the daemon."""
        ns = self.ns
        ip = frame.payload
        c = self.mfc.get((ip.src, ip.dst))
        if c is None:
            c = self.mfc.get((0, ip.dst))   # a (*,G) entry
        if c is not None:
            self.forward(dev, frame, c)
            return
        vifi = self.vif_of(dev)
        if vifi < 0:
            ns.drop(frame, dev, SkbDropReason.IPMR_NO_VIF)
            return
        key = (ip.src, ip.dst)
        uc = self.unres.get(key)
        now = ns.sched.now
        if uc is None or uc.expires <= now:
            if len(self.live_unres()) >= 10:
                ns.drop(frame, dev, SkbDropReason.IPMR_UNRES_FULL)
                return
            uc = self.unres[key] = MfcEntry(ip.src, ip.dst, MAXVIFS, {}, now)
            uc.expires = now + UNRES_TIMEOUT_NS
            if len(uc.queue) < UNRES_QLEN:
                uc.queue.append((dev, frame))
            if ns.world.tracer.on:
                ns.trace("ipmr_cache_unresolved", f"({ns.fmt_ip(ip.src)},{ns.fmt_ip(ip.dst)}) from {dev.name}: "
                         "no cache entry, upcall to the daemon", dev=dev.name)
            if self.upcall is not None:
                self.upcall(self, vifi, ip.src, ip.dst)
            return
        if len(uc.queue) < UNRES_QLEN:
            uc.queue.append((dev, frame))
        else:
            ns.drop(frame, dev, SkbDropReason.IPMR_UNRES_QUEUE_FULL)

    def forward(self, dev: Any, frame: Any, c: MfcEntry) -> None:
        """ip_mr_forward: the wrong interface is counted, not forwarded; else one copy per output VIF."""
        ns = self.ns
        ip = frame.payload
        length = ip.wire_len()
        c.pkt += 1
        c.bytes += length
        c.lastuse = ns.sched.now
        vifi = self.vif_of(dev)
        if vifi != c.parent:
            c.wrong_if += 1
            ns.drop(frame, dev, SkbDropReason.IPMR_WRONG_VIF)
            return
        vin = self.vifs[vifi]
        if vin is not None:
            vin.pkt_in += 1
            vin.bytes_in += length
        outs = [i for i, t in sorted(c.ttls.items()) if t < 255 and ip.ttl > t and i != vifi]
        for i in outs:
            v = self.live_vif(i)
            if v is None:
                continue
            self.queue_xmit(dev, frame.copy(), v, length)

    def queue_xmit(self, in_dev: Any, frame: Any, v: Vif, length: int) -> None:
        """ipmr_queue_xmit: TTL − 1, FORWARD, then out of the VIF's device to the group's MAC."""
        ns = self.ns
        out = v.dev
        ip = frame.payload.copy()
        frame.payload = ip
        if not out.up:
            return
        if length > out.mtu:
            ns.drop(frame, out, SkbDropReason.IPMR_FRAG_NEEDED)   # ipmr does not fragment with DF, nor send ICMP
            return
        v.pkt_out += 1
        v.bytes_out += length
        ip.ttl -= 1
        hook = ns.hooks.get("FORWARD")
        if hook is not None and not hook(ns, frame, in_dev, out):
            return
        if ns.world.tracer.on:
            ns.trace("ipmr_queue_xmit", f"{ns.fmt_ip(ip.src)} > {ns.fmt_ip(ip.dst)} out {out.name}, ttl {ip.ttl}",
                     dev=in_dev.name, out_dev=out.name)
        post = ns.hooks.get("POSTROUTING")
        if post is not None and not post(ns, frame, None, out):
            return
        d = ip.dst
        frame.dst = b"\x01\x00\x5e" + (d & 0x7FFFFF).to_bytes(3, "big")
        frame.src = out.mac
        out.xmit(frame)

    def close(self) -> None:
        """mroute_clean_tables (MRT_DONE): every VIF and entry goes."""
        for v in self.vifs:
            if v is not None:
                self.ns.sysctl.mc_forwarding(v.dev.name, -1)
        self.ns.sysctl.mc_forwarding("all", -1)
        self.vifs.clear()
        self.mfc.clear()
        self.unres.clear()
        self.ns.config_changed()


def mrt_init(ns: Any, upcall: Callable[[Any, int, int, int], None] | None = None) -> MrTable:
    """ip_mroute_setsockopt(MRT_INIT): one mroute socket per namespace."""
    if ns.mrt is not None:
        raise NetplexError("Address already in use", errno.EADDRINUSE)
    mrt = ns.mrt = MrTable(ns, upcall)
    ns.sysctl.mc_forwarding("all", +1)
    ns.config_changed()
    return mrt


def mrt_done(ns: Any) -> None:
    """The mroute socket closes: mrtsock_destruct."""
    mrt = ns.mrt
    if mrt is not None:
        mrt.close()
        ns.mrt = None


def ip_mr_input(ns: Any, dev: Any, frame: Any) -> bool:
    """The hook ip_rcv calls for a multicast datagram: True when ipmr took it.

    A datagram is ours to forward when it arrived on a VIF device and is not
    link-local (ip_route_input_mc with IN_DEV_MFORWARD). A local member still
    gets its copy (ip_mr_input delivers locally, then forwards a clone).
    """
    mrt = ns.mrt
    ip = frame.payload
    if (ip.dst & 0xFFFFFF00) == 0xE0000000 or mrt.vif_of(dev) < 0:
        return False
    if ns.mc_member(dev, ip.dst):
        ns.ip_local_deliver(dev, frame.copy(), "broadcast")
    mrt.input(dev, frame)
    return True
