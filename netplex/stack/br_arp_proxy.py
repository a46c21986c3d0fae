"""A bridge's ARP proxy and neighbour suppression (net/bridge/br_arp_nd_proxy.c, IPv4 part).

Three port flags (`bridge link set dev PORT proxy_arp|proxy_arp_wifi|neigh_suppress on`,
BR_PROXYARP, BR_PROXYARP_WIFI, BR_NEIGH_SUPPRESS) let a bridge answer an ARP request
itself from the bridge device's own neighbour table (filled by hand with `ip neigh add ...
dev br0`, or by EVPN's zebra) instead of flooding it:

- `proxy_suppress_arp` is br_do_proxy_suppress_arp, run on every ARP frame a port receives
  (br_handle_frame_finish) and, while some port has neigh_suppress, on every ARP frame the
  bridge device sends (br_dev_xmit, ingress None). A request for an address whose entry on
  the bridge device is NUD_VALID, whose MAC the FDB knows, is answered when the ingress port
  has proxy_arp, or the port behind that MAC has proxy_arp_wifi or neigh_suppress
  (br_arp_send: a reply from the neighbour's MAC to the asker, out of the ingress port, or
  received by the bridge device itself when the bridge asked). It returns
  `proxyarp_replied`: whether the request may skip the suppressing ports.
- `flood_skips` is br_flood's test: a proxy_arp port gets no flooded frame at all; a
  proxy_arp_wifi or neigh_suppress port none that was replied to.

With any port's neigh_suppress on (BROPT_NEIGH_SUPPRESS_ENABLED), gratuitous ARP and
probes (sender 0 or sender = target) and requests for the bridge's own addresses also stay
away from the suppressing ports. IPv6 neighbour discovery is not modelled (netplex has no
IPv6), nor per-VLAN suppression (`neigh_vlan_suppress`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP, Ethernet
from netplex.stack.if_flags import IFF_NOARP
from netplex.stack.neigh import NUD_VALID
from netplex.stack.vlan import VlanDevice

if TYPE_CHECKING:
    from netplex.stack.bridge import Bridge, BridgePort
    from netplex.stack.device import NetDevice

__all__ = ["flood_skips", "neigh_suppress_enabled", "proxy_suppress_arp"]

ARPOP_RREQUEST, ARPOP_RREPLY = 3, 4   # RARP's operations
RT_SCOPE_HOST = 254


def neigh_suppress_enabled(br: Bridge) -> bool:
    """BROPT_NEIGH_SUPPRESS_ENABLED (br_recalculate_neigh_suppress_enabled): some port has neigh_suppress."""
    return any(p.neigh_suppress for p in br.ports)


def _is_local_ip(br: Bridge, dev: NetDevice, ip: int) -> bool:
    """br_is_local_ip: an address of `dev` (scope host at most), or of a VLAN device stacked on it
    (the kernel walks every upper device; a macvlan on a bridge is not looked at here)."""
    ns = br.ns
    uppers = [u for u in ns.devices.values() if isinstance(u, VlanDevice) and u.lower is dev]
    return any(ns.confirm_addr_indev(d, 0, ip, RT_SCOPE_HOST) == ip for d in [dev, *uppers])


def proxy_suppress_arp(br: Bridge, frame: Ethernet, vid: int, port: BridgePort | None) -> bool:
    """br_do_proxy_suppress_arp: answer `frame` (an ARP frame that came in on `port`, or that
    the bridge device sends when `port` is None) for a known neighbour; whether it was
    replied to or may otherwise skip the suppressing ports (proxyarp_replied)."""
    arp = frame.payload
    dev: NetDevice = br
    if br.flags() & IFF_NOARP or not isinstance(arp, Arp) or arp.ptype != 0x0800:
        return False
    sip, tip = arp.spa, arp.tpa
    if tip >> 24 == 127 or tip >> 28 == 14:   # ipv4_is_loopback, ipv4_is_multicast
        return False
    suppressing = neigh_suppress_enabled(br)
    if suppressing:
        if port is not None and port.neigh_suppress:
            return False
        if arp.op not in (ARPOP_RREQUEST, ARPOP_RREPLY) and (sip >> 24 == 0 or sip == tip):
            return True   # a probe or gratuitous ARP: not flooded to the suppressing ports
    if arp.op != ARPOP_REQUEST:
        return False
    if vid:
        upper = next((d for d in br.ns.devices.values()
                      if isinstance(d, VlanDevice) and d.lower is br and d.vid == vid), None)
        if upper is None:
            return False
        dev = upper
    if suppressing and _is_local_ip(br, dev, tip):
        return True       # our own address: no proxy reply, not to the suppressing ports
    n = br.ns.neigh.get(dev, tip)
    if n is None or not n.state & NUD_VALID or n.lladdr is None:
        return False
    f = br.fdb_find(n.lladdr, vid)
    if f is None:
        return False
    owner = f.port
    if ((port is not None and port.proxy_arp) or (owner is not None and owner.proxy_arp_wifi)
            or (owner is not None and owner.neigh_suppress)):
        if br.ns.world.tracer.on:
            br.ns.trace("br_arp_send", f"{br.name}: who-has {br.ns.fmt_ip(tip)}: is-at {br.ns.fmt_mac(n.lladdr)} "
                        "(proxy reply)", dev=br.name, port=port.dev.name if port is not None else None)
        reply = Ethernet(arp.sha, n.lladdr, ETH_P_ARP, Arp(ARPOP_REPLY, n.lladdr, tip, arp.sha, sip))
        if port is not None:
            port.dev.xmit(reply)                  # arp_xmit on the ingress port's device
        else:
            br.ns.netif_receive(br, reply)        # netif_rx: the bridge device asked
        return True
    return suppressing


def flood_skips(p: BridgePort, replied: bool) -> bool:
    """br_flood: a proxy_arp port gets no flooded frame; a proxy_arp_wifi or neigh_suppress port
    none that was replied to (proxyarp_replied)."""
    return p.proxy_arp or (replied and (p.proxy_arp_wifi or p.neigh_suppress))
