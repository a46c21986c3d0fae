"""IEEE 802.1Q: VLAN sub-interfaces (net/8021q) and VLAN-aware bridges (net/bridge/br_vlan.c).

A VLAN device (`ip link add link eth0 name eth0.100 type vlan id 100`) sits
on a lower device: what it sends leaves the lower device with its tag
(vlan_dev_hard_start_xmit); a tagged frame that arrives on the lower device
is handed, untagged, to the VLAN device of its VID (vlan_do_receive). It
shares the lower device's address and MTU, follows its carrier, goes down
with it and comes back up with it (vlan_device_event).

A bridge with `vlan_filtering 1` classifies each frame on ingress — its tag's
VID, or the port's PVID for an untagged frame (br_allowed_ingress) — drops a
VID the port is not a member of, learns and looks up addresses per VLAN, and
on egress sends the frame tagged or untagged as the egress port's membership
says (br_handle_vlan). The bridge device itself is a member too (`self`).
These paths replace the bridge's own only on a filtering bridge.
"""
from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from netplex.errors import NetplexError
from netplex.packet.ethernet import ETH_P_8021AD, ETH_P_8021Q, Dot1Q
from netplex.stack.bridge import (BCAST, BR_GROUP_ADDRESS, BR_STATE_BLOCKING, BR_STATE_DISABLED,
                                  BR_STATE_LEARNING, BR_STATE_LISTENING, BRIDGE_VLAN_INFO_PVID,
                                  BRIDGE_VLAN_INFO_UNTAGGED, FdbEntry)
from netplex.stack.device import NetDevice
from netplex.stack.dropreason import SkbDropReason

if TYPE_CHECKING:
    from netplex.stack.bridge import Bridge, BridgePort
    from netplex.stack.netns import Namespace

VLAN_N_VID = 4096


class VlanDevice(NetDevice):
    """An 802.1Q (or 802.1ad) sub-interface."""

    kind = "vlan"
    default_qdisc = "noqueue"

    def __init__(self, ns: Namespace, name: str, lower: NetDevice, vid: int, proto: int = ETH_P_8021Q) -> None:
        super().__init__(ns, name, lower.mac, lower.mtu)
        self.lower = lower
        self.vid = vid
        self.proto = proto
        self.reorder_hdr = True
        self.loose_binding = False
        self.lower_up = lower.up
        self.addr_assign_random = False

    # -- state ---------------------------------------------------------------
    def has_carrier(self) -> bool:
        lower = self.lower
        return self.up and lower.up and lower.has_carrier()

    def operstate(self) -> str:
        if not self.up:
            return "DOWN"
        return "UP" if self.has_carrier() else "LOWERLAYERDOWN"

    def set_up(self, up: bool) -> None:
        """vlan_dev_open: the lower device must be up (unless loose_binding)."""
        if up and not self.up and not self.lower.up and not self.loose_binding:
            raise NetplexError("RTNETLINK answers: Network is down", errno.ENETDOWN)
        super().set_up(up)

    def netdev_event(self) -> None:
        """vlan_device_event: NETDEV_DOWN/UP of the lower device takes the VLAN with it."""
        lower_up = self.lower.up
        if lower_up == self.lower_up:
            return
        self.lower_up = lower_up
        if self.loose_binding:
            return
        if not lower_up and self.up:
            self.set_up(False)
        elif lower_up and not self.up:
            self.set_up(True)

    def link_suffix(self) -> str:
        return self.lower.name

    def details_text(self) -> str:
        proto = "802.1ad" if self.proto == ETH_P_8021AD else "802.1Q"
        flags = "<REORDER_HDR> " if self.reorder_hdr else ""
        return f"    vlan protocol {proto} id {self.vid} {flags}"

    # -- data path -----------------------------------------------------------
    def xmit(self, frame: Any, nbytes: int = 0) -> None:
        """vlan_dev_hard_start_xmit: tag, count, and hand to the lower device."""
        if not self.up:
            self.stats.tx_dropped += 1
            return
        st = self.stats
        st.tx_packets += 1
        st.tx_bytes += nbytes or frame.wire_len()
        world = self.ns.world
        if world.capture is not None:
            world.capture(self, frame)
        frame.vlans = (Dot1Q(self.vid, tpid=self.proto),) + frame.vlans
        self.lower.xmit(frame)


def vlan_find(ns: Any, lower: NetDevice, tag: Dot1Q) -> VlanDevice | None:
    """vlan_find_dev: the VLAN device on `lower` for this tag."""
    return ns.vlan_devs.get((lower.ifindex, tag.tpid, tag.vid))


def vlan_rcv(ns: Any, dev: NetDevice, frame: Any) -> bool:
    """vlan_do_receive: a tagged frame goes to its VLAN device, untagged. False: no such device."""
    tags = frame.vlans
    vdev = vlan_find(ns, dev, tags[0])
    if vdev is None:
        return False
    frame.vlans = tags[1:]
    if ns.world.tracer.on:
        ns.trace("vlan_do_receive", f"{dev.name}: VLAN {tags[0].vid} → {vdev.name}", dev=dev.name,
                 out_dev=vdev.name, vid=tags[0].vid)
    vdev.rx(frame)
    return True


# ------------------------------------------------------------ the VLAN-aware bridge

def fdb_key(mac: bytes, vid: int) -> bytes:
    """The FDB is keyed by address, and by address and VLAN once learned per VLAN."""
    return mac if not vid else mac + vid.to_bytes(2, "big")


def br_fdb_find(br: Bridge, mac: bytes, vid: int) -> FdbEntry | None:
    e = br.fdb.get(fdb_key(mac, vid))
    if e is None and vid:
        e = br.fdb.get(mac)
        if e is not None and not e.is_local:
            e = None
    if e is not None and not e.is_static and br.ns.sched.now - e.updated > br.ageing_ns:
        del br.fdb[fdb_key(e.mac, e.vlan)]
        return None
    return e


def br_fdb_update(br: Bridge, port: BridgePort, mac: bytes, vid: int) -> None:
    if mac[0] & 1:
        return
    key = fdb_key(mac, vid)
    e = br.fdb.get(key)
    now = br.ns.sched.now
    if e is None:
        local = br.fdb.get(mac)
        if local is not None and local.is_local:
            return
        br.fdb[key] = FdbEntry(mac, port, now, vlan=vid)
        if br.ns.world.tracer.on:
            br.ns.trace("br_fdb_update", f"{br.name}: learned {br.ns.fmt_mac(mac)} vlan {vid} on {port.dev.name}",
                        dev=br.name, port=port.dev.name, vid=vid)
    elif not e.is_local:
        if e.port is not port and not e.is_static:
            e.port = port
        e.updated = now


def _classify(vlans: dict[int, int], pvid: int, frame: Any) -> int:
    """__allowed_ingress: the frame's VLAN (its 802.1Q tag, else the PVID), 0 if not allowed.

    Leaves the frame untagged (the VLAN travels beside it, as skb->vlan_tci)."""
    tags = frame.vlans
    if tags and tags[0].tpid == ETH_P_8021Q:
        vid = tags[0].vid or pvid      # a priority tag (VID 0) takes the PVID
        frame.vlans = tags[1:]
    else:
        vid = pvid
    if not vid or vid not in vlans:
        return 0
    return vid


def _egress(vlans: dict[int, int], vid: int, frame: Any) -> bool:
    """br_allowed_egress + br_handle_vlan: False when the port is not in the VLAN."""
    flags = vlans.get(vid)
    if flags is None:
        return False
    if not flags & BRIDGE_VLAN_INFO_UNTAGGED:
        frame.vlans = (Dot1Q(vid),) + frame.vlans
    return True


def _forward(br: Bridge, p: BridgePort, frame: Any, vid: int, bridged: bool) -> None:
    if bridged and frame.meta is not None:
        from netplex.stack.netfilter.hooks import br_nf_forward

        if not br_nf_forward(br, frame, p):
            return
    if _egress(p.vlans, vid, frame):
        p.dev.xmit(frame)


def _flood(br: Bridge, frame: Any, ingress: BridgePort | None, vid: int) -> None:
    targets = [p for p in br.ports if p is not ingress and p.flood and p.forwarding() and vid in p.vlans]
    for i, p in enumerate(targets):
        _forward(br, p, frame if i == len(targets) - 1 else frame.copy(), vid, ingress is not None)


def _deliver_local(br: Bridge, frame: Any, vid: int) -> None:
    if _egress(br.vlans, vid, frame):
        br.deliver_local(frame)


def br_handle_frame_vlan(br: Bridge, port: BridgePort, frame: Any) -> None:
    """br_handle_frame on a VLAN-filtering bridge."""
    ns = br.ns
    if frame.dst == BR_GROUP_ADDRESS and br.stp_state:
        br.stp.rcv(port, frame)
        return
    if port.state in (BR_STATE_DISABLED, BR_STATE_BLOCKING, BR_STATE_LISTENING):
        ns.drop(frame, port.dev, SkbDropReason.BRIDGE_INGRESS_STP_STATE)
        return
    vid = _classify(port.vlans, port.pvid, frame)
    if not vid:
        ns.drop(frame, port.dev, SkbDropReason.BRIDGE_VLAN_FILTERED)
        return
    if port.learning:
        br_fdb_update(br, port, frame.src, vid)
    if port.state == BR_STATE_LEARNING:
        ns.drop(frame, port.dev, SkbDropReason.BRIDGE_PORT_LEARNING)
        return
    if ns.hooks:
        from netplex.stack.netfilter.hooks import br_nf_enabled, br_nf_pre_routing

        if br_nf_enabled(ns, frame) and not br_nf_pre_routing(br, port, frame):
            return
    dst = frame.dst
    tracing = ns.world.tracer.on
    if dst[0] & 1:
        if tracing:
            what = "broadcast" if dst == BCAST else "multicast"
            ns.trace("br_flood", f"{br.name}: {what} from {port.dev.name} flooded in vlan {vid}", dev=br.name,
                     port=port.dev.name, vid=vid)
        _flood(br, frame, port, vid)
        if br.up:
            _deliver_local(br, frame.copy(), vid)
        return
    e = br_fdb_find(br, dst, vid)
    if e is not None:
        if e.is_local:
            _deliver_local(br, frame, vid)
            return
        if e.port is port:
            ns.drop(frame, port.dev, SkbDropReason.BRIDGE_SAME_PORT)
            return
        if e.port.forwarding():
            if tracing:
                ns.trace("br_forward", f"{br.name}: {ns.fmt_mac(dst)} vlan {vid} → {e.port.dev.name}", dev=br.name,
                         port=port.dev.name, out_dev=e.port.dev.name, vid=vid)
            _forward(br, e.port, frame, vid, True)
        return
    if tracing:
        ns.trace("br_flood", f"{br.name}: unknown unicast {ns.fmt_mac(dst)} flooded in vlan {vid}", dev=br.name,
                 port=port.dev.name, vid=vid)
    _flood(br, frame, port, vid)


def br_dev_xmit_vlan(br: Bridge, frame: Any) -> None:
    """br_dev_xmit on a VLAN-filtering bridge: the bridge's own PVID for untagged frames."""
    if not br.up:
        br.stats.tx_dropped += 1
        return
    st = br.stats
    st.tx_packets += 1
    st.tx_bytes += frame.wire_len()
    vid = _classify(br.vlans, br.pvid, frame)
    if not vid:
        br.ns.drop(frame, br, SkbDropReason.BRIDGE_VLAN_FILTERED)
        return
    dst = frame.dst
    if not dst[0] & 1:
        e = br_fdb_find(br, dst, vid)
        if e is not None and e.port is not None:
            if e.port.forwarding():
                _forward(br, e.port, frame, vid, False)
            return
    _flood(br, frame, None, vid)


def vlan_add(vlans: dict[int, int], owner: Any, vid: int, flags: int) -> None:
    """br_vlan_add / nbp_vlan_add: (re)set one VLAN's flags; PVID moves to it if asked."""
    new = flags & (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)
    if new & BRIDGE_VLAN_INFO_PVID:
        if owner.pvid and owner.pvid != vid and owner.pvid in vlans:
            vlans[owner.pvid] &= ~BRIDGE_VLAN_INFO_PVID
        owner.pvid = vid
    elif owner.pvid == vid:
        owner.pvid = 0
    vlans[vid] = new


def vlan_del(vlans: dict[int, int], owner: Any, vid: int) -> bool:
    if vid not in vlans:
        return False
    del vlans[vid]
    if owner.pvid == vid:
        owner.pvid = 0
    return True
