"""MPLS label switching (RFC 3031/3032) as Linux's mpls_router and mpls_iptunnel do it.

Owns a namespace's label table (`MplsRoute`, in `Namespace.mpls_routes`, the
platform_label array of net/mpls/af_mpls.c), `mpls_rcv` (af_mpls.c's mpls_forward:
input check, label lookup, TTL, swap/pop, neighbour output) and `mpls_encap_xmit`
(net/mpls/mpls_iptunnel.c's mpls_xmit: an IPv4 route's `encap mpls` pushes its labels).

The module is kernel-wide: both need `mpls_router` in `World.kmods` (`modprobe`);
the net.mpls sysctls live in stack/sysctl.py. Linux sends no ICMP for an MPLS
packet whose TTL expires (mpls_forward drops it), nor does netplex.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zlib import crc32

from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.mpls import ETH_P_MPLS_UC, Mpls
from netplex.stack.dropreason import SkbDropReason

if TYPE_CHECKING:
    from netplex.stack.device import NetDevice

__all__ = ["MplsNexthop", "MplsRoute", "mpls_encap_xmit", "mpls_rcv", "mpls_select_multipath"]


@dataclass(frozen=True, slots=True)
class MplsNexthop:
    """One nexthop of a multipath label route (struct mpls_nh): its labels, gateway and device."""

    newdst: tuple[int, ...]
    via: int | None
    dev: Any


@dataclass(slots=True)
class MplsRoute:
    """One entry of the label table: swap to `newdst` (empty: pop) and send via `via` on `dev`."""

    label: int
    newdst: tuple[int, ...]
    via: int | None
    dev: Any
    proto: int = 3          # RTPROT_BOOT, as `ip -f mpls route add` sets it
    nhs: tuple[MplsNexthop, ...] = ()    # a multipath route's nexthops (the fields above unused)


def _nh_alive(nh: MplsNexthop) -> bool:
    """Neither RTNH_F_DEAD (device down) nor RTNH_F_LINKDOWN (no carrier): af_mpls.c's mpls_ifdown."""
    return nh.dev is not None and nh.dev.up and nh.dev.has_carrier()


def mpls_select_multipath(rt: MplsRoute, pkt: Mpls) -> MplsNexthop | None:
    """mpls_select_multipath: a hash of the label stack (the unreserved labels) and of the IPv4
    packet under it (addresses, protocol) picks among the live nexthops (hash % alive); None when
    none is alive."""
    alive = [nh for nh in rt.nhs if _nh_alive(nh)]
    if not alive:
        return None
    key = b"".join(lbl.to_bytes(4, "big") for lbl, _tc, _ttl in pkt.entries if lbl >= 16)
    ip = pkt.payload
    if isinstance(ip, IPv4):
        key += ip.src.to_bytes(4, "big") + ip.dst.to_bytes(4, "big") + bytes((ip.proto,))
    return alive[crc32(key) % len(alive)]


def _input_enabled(ns: Any, dev: NetDevice) -> bool:
    ns.sysctl.mpls_sync()
    return ns.sysctl.values.get(f"net.mpls.conf.{dev.name}.input") == "1"


def mpls_rcv(ns: Any, dev: NetDevice, frame: Ethernet) -> None:
    """mpls_forward: the top label chooses the route; TTL minus one; swap or pop; out."""
    if "mpls_router" not in ns.world.kmods:
        ns.drop(frame, dev, SkbDropReason.UNHANDLED_PROTO)     # no packet_type for ETH_P_MPLS_UC
        return
    if frame.dst != dev.mac and dev.kind != "loopback":
        return      # mpls_forward: skb->pkt_type != PACKET_HOST
    pkt = frame.payload
    if not isinstance(pkt, Mpls) or not _input_enabled(ns, dev):
        ns.drop(frame, dev, SkbDropReason.NOT_SPECIFIED)       # !mdev->input_enabled: rx_dropped
        return
    label, tc, ttl = pkt.entries[0]
    rt = ns.mpls_routes.get(label)
    tracing = ns.world.tracer.on
    if rt is not None and rt.nhs:
        nh = mpls_select_multipath(rt, pkt)
        rt = None if nh is None else MplsRoute(label, nh.newdst, nh.via, nh.dev, rt.proto)
    if rt is None or rt.dev is None or not rt.dev.up:
        if tracing:
            ns.trace("mpls_forward", f"{dev.name}: no route for label {label}", dev=dev.name)
        ns.drop(frame, dev, SkbDropReason.NOT_SPECIFIED)
        return
    if ttl <= 1:
        if tracing:
            ns.trace("mpls_forward", f"{dev.name}: label {label} ttl {ttl} expired", dev=dev.name)
        ns.drop(frame, dev, SkbDropReason.NOT_SPECIFIED)
        return
    new_ttl = ttl - 1
    rest = pkt.entries[1:]
    out = rt.dev
    if rt.newdst or rest:
        entries = [(lbl, tc, new_ttl) for lbl in rt.newdst]
        if rest:
            entries.extend(rest)
        pkt = Mpls(entries, pkt.payload)
        etype = ETH_P_MPLS_UC
        if tracing:
            ns.trace("mpls_forward", f"{dev.name}: label {label} -> {'/'.join(str(e[0]) for e in entries)} "
                     f"dev {out.name}, ttl {new_ttl}", dev=dev.name, out_dev=out.name)
    else:
        # mpls_egress: the bottom label popped; the IPv4 TTL takes the label's when propagating
        ip = pkt.payload
        if not isinstance(ip, IPv4):
            ns.drop(frame, dev, SkbDropReason.NOT_SPECIFIED)
            return
        if ns.sysctl.values["net.mpls.ip_ttl_propagate"] == "1":
            ip.ttl = new_ttl
        pkt, etype = ip, ETH_P_IP
        if tracing:
            ns.trace("mpls_forward", f"{dev.name}: label {label} popped, IPv4 to dev {out.name}, ttl {ip.ttl}",
                     dev=dev.name, out_dev=out.name)
    nf = Ethernet(frame.dst, out.mac, etype, pkt, (), frame.meta)
    if nf.wire_len() - 14 > out.mtu:      # mpls_pkt_too_big
        ns.drop(nf, out, SkbDropReason.PKT_TOO_BIG)
        return
    nexthop = rt.via if rt.via is not None else (pkt.dst if isinstance(pkt, IPv4) else 0)
    ns.neigh.output(out, nexthop, nf, None)


def mpls_encap_xmit(ns: Any, out: NetDevice, nexthop: int, frame: Ethernet, labels: tuple[int, ...]) -> None:
    """mpls_xmit (lwtunnel output): push the route's labels onto the IPv4 packet, then the neighbour.

    The label TTL is the IPv4 TTL when net.mpls.ip_ttl_propagate is 1, else net.mpls.default_ttl."""
    hook = ns.hooks.get("POSTROUTING")
    if hook is not None and not hook(ns, frame, None, out):
        return
    ip: IPv4 = frame.payload  # type: ignore[assignment]  # an IPv4 route's packet
    ns.sysctl.mpls_sync()
    values = ns.sysctl.values
    ttl = ip.ttl if values.get("net.mpls.ip_ttl_propagate", "1") == "1" else int(values.get(
        "net.mpls.default_ttl", "255"))
    if not ttl:
        ns.drop(frame, out, SkbDropReason.NOT_SPECIFIED)
        return
    pkt = Mpls([(lbl, 0, ttl) for lbl in labels], ip)
    nf = Ethernet(frame.dst, out.mac, ETH_P_MPLS_UC, pkt, (), frame.meta)
    if pkt.wire_len() > out.mtu:
        ns.drop(nf, out, SkbDropReason.PKT_TOO_BIG)
        return
    if ns.world.tracer.on:
        ns.trace("mpls_xmit", f"push {'/'.join(map(str, labels))} dev {out.name}, ttl {ttl}", out_dev=out.name)
    ns.neigh.output(out, nexthop, nf, ip.src)
