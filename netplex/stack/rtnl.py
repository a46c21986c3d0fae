"""The stack's configuration API for links, as rtnetlink is the kernel's
(net/core/rtnetlink.c: rtnl_newlink, do_setlink, rtnl_dellink; struct
rtnl_link_ops in include/net/rtnetlink.h).

`LINK_KINDS` is the one table of link kinds: the IFLA_INFO_KIND name a user
types after `ip link add ... type` → the `LinkOps` that creates, changes and
deletes that kind of device. Each kind's device lives in its own module
(`device.py` veth/tap, `bridge.py`, `vlan.py`, `vxlan.py`, `gre.py`, `macvlan.py`); adding a
kind is one `LinkOps` subclass and one line in the table (see
docs/arch/rtnl.md). Commands (`ip link`, `brctl`, `ip tunnel`, `ip tuntap`)
and later systems configure links only through `newlink`, `changelink`,
`dellink` and `set_master`; the kernel's rules and errors live here and in
the device classes, never in the shell.

Enslaving (`ip link set DEV master M`, do_set_master) works for any master
whose class takes ports (`NetDevice.accepts_ports`, `ndo_add_slave`); the
master registers its rx_handler on the port (see `device.py`).
"""
from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any, ClassVar

from netplex.errors import NetplexError
from netplex.packet.gre import GRE_KEY
from netplex.stack.bond import Bond
from netplex.stack.bridge import Bridge
from netplex.stack.device import NetDevice, Tap
from netplex.stack.gre import GreDev, GretapDev
from netplex.stack.if_flags import IFF_NOARP, IFF_USER_SETTABLE
from netplex.stack.macvlan import MACVLAN_MODE_PASSTHRU, MACVLAN_MODE_VEPA, MacvlanDev, macvlan_newlink
from netplex.stack.tun import Tun
from netplex.stack.vlan import VlanDevice
from netplex.stack.vxlan import FDB_AGE_DEFAULT, VxlanDev

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["LINK_KINDS", "LinkOps", "changelink", "dellink", "link_ops", "newlink", "set_master", "setlink"]


def _eopnotsupp() -> NetplexError:
    return NetplexError("RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP)


class LinkOps:
    """struct rtnl_link_ops: how one kind of link is created, changed and deleted.

    `newlink` registers the device in `ns` (it raises, changing nothing, when
    the kernel would refuse); `changelink` applies the kind's own options
    (IFLA_INFO_DATA) to an existing device; `dellink` unregisters it.
    """

    kind: ClassVar[str] = ""

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        raise _eopnotsupp()

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        if opts:
            raise _eopnotsupp()

    def dellink(self, dev: NetDevice) -> None:
        dev.ns.del_device(dev)


class VethOps(LinkOps):
    """veth_newlink: the pair, the peer registered first (it gets the lower ifindex).

    Options: `peer` (the peer's name), `peer_ns` (its namespace), `peer_mac`,
    `peer_mtu` (IFLA_VETH_PEER's own attributes), `address` and `mtu` (the device's).
    An address or MTU the kernel would refuse is ignored at creation, as veth does."""

    kind = "veth"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        peer_ns: Namespace = opts.pop("peer_ns", None) or ns
        peer_name: str = opts.pop("peer")
        peer_mac: bytes | None = opts.pop("peer_mac", None)
        peer_mtu: int | None = opts.pop("peer_mtu", None)
        address: bytes | None = opts.pop("address", None)
        mtu: int | None = opts.pop("mtu", None)
        if opts:
            raise _eopnotsupp()
        dev, peer = ns.add_veth_pair(name, peer_ns, peer_name)
        for d, mac, m in ((peer, peer_mac, peer_mtu), (dev, address, mtu)):
            if mac is not None and not mac[0] & 1:
                d.mac = mac
            if m is not None and d.min_mtu <= m <= d.max_mtu:
                d.mtu = m
        return dev


class BridgeOps(LinkOps):
    """br_dev_newlink / br_changelink: options are `Bridge.changelink`'s (IFLA_BR_*)."""

    kind = "bridge"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        br = ns.add_bridge(name)
        if opts:
            br.changelink(opts)
        return br

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, Bridge)
        dev.changelink(opts)


class BondOps(LinkOps):
    """bond_newlink / bond_changelink (drivers/net/bonding/bond_netlink.c): options are
    `BondParams` fields, checked and applied by `Bond.change`."""

    kind = "bond"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        dev = Bond(ns, name, ns.world.random_mac())
        if opts:
            dev.change(opts)      # refused options leave no device behind
        ns.register(dev)
        return dev

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, Bond)
        dev.change(opts)


class TunOps(LinkOps):
    """tun_set_iff (`ip tuntap add mode tap|tun`): a TAP device, or a TUN one (stack/tun.py);
    options `owner`, `group`, `multi_queue`."""

    kind = "tun"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        mode = opts.pop("mode", "tap")
        if mode == "tun":
            ns.check_new_name(name)
            tun = Tun(ns, name, persist=opts.pop("persist", True))
            ns.register(tun)
            self.changelink(tun, **opts)
            return tun
        tap = ns.add_tap(name)
        self.changelink(tap, **opts)
        return tap

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, (Tap, Tun))
        for key, value in opts.items():
            if key not in ("owner", "group", "multi_queue"):
                raise _eopnotsupp()
            setattr(dev, key, value)


class VlanOps(LinkOps):
    """vlan_newlink / vlan_changelink (net/8021q/vlan_netlink.c).

    Options: `link` (the lower device, required), `id` (required), `proto`
    (0x8100 or 0x88a8), `reorder_hdr`, `loose_binding`, `mtu`."""

    kind = "vlan"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        if "id" not in opts:
            raise NetplexError("Error: 8021q: VLAN id not specified.", errno.EINVAL)
        lower: NetDevice | None = opts.get("link")
        if lower is None:
            raise NetplexError("Error: 8021q: link not specified.", errno.ENODEV)
        vid: int = opts["id"]
        if vid >= 4095:
            raise NetplexError("Error: 8021q: Invalid VLAN id.", errno.ERANGE)
        if lower.kind == "loopback":
            raise NetplexError("Error: 8021q: VLANs not supported on device.", errno.EOPNOTSUPP)
        proto: int = opts.get("proto", 0x8100)
        if (lower.ifindex, proto, vid) in ns.vlan_devs:
            raise NetplexError("Error: 8021q: VLAN device already exists.", errno.EEXIST)
        mtu: int | None = opts.get("mtu")
        if mtu is not None and mtu > lower.mtu:
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        dev = ns.add_vlan(name, lower, vid, proto)
        dev.reorder_hdr = opts.get("reorder_hdr", True)
        dev.loose_binding = opts.get("loose_binding", False)
        return dev

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, VlanDevice)
        if "id" in opts and opts["id"] != dev.vid:
            raise _eopnotsupp()
        if "reorder_hdr" in opts:
            dev.reorder_hdr = opts["reorder_hdr"]
        dev.ns.config_changed()


# the VXLAN options a user can set at creation (IFLA_VXLAN_*), and those vxlan_changelink may change
VXLAN_NEW_OPTS = ("group", "local", "lower", "srcport", "learning", "ttl", "ttl_inherit", "tos", "ageing",
                  "udpcsum", "dstport")
VXLAN_CHANGE_OPTS = ("ttl", "ttl_inherit", "tos", "ageing", "learning", "udpcsum", "srcport", "local", "group")


def _ageing_default(opts: dict[str, Any]) -> None:
    """vxlan_config_apply: an age_interval of 0 (`ageing 0`, `ageing none`) becomes
    FDB_AGE_DEFAULT, at creation and on change alike (checked on kernel 6.1)."""
    if opts.get("ageing") == 0:
        opts["ageing"] = FDB_AGE_DEFAULT


class VxlanOps(LinkOps):
    """vxlan_newlink / vxlan_changelink (drivers/net/vxlan): `vni` required, the VNI fixed."""

    kind = "vxlan"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        if "vni" not in opts:
            raise NetplexError("Error: Required attributes not provided to perform the operation.", errno.EINVAL)
        vni: int = opts.pop("vni")
        unknown = [k for k in opts if k not in VXLAN_NEW_OPTS]
        if unknown:
            raise _eopnotsupp()
        opts["dstport"] = opts.get("dstport") or 8472
        _ageing_default(opts)
        return ns.add_vxlan(name, vni, **opts)

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, VxlanDev)
        if "vni" in opts and opts["vni"] != dev.vni:
            raise NetplexError("Error: Cannot change VNI.", errno.EOPNOTSUPP)
        _ageing_default(opts)
        for k, v in opts.items():
            if k in VXLAN_CHANGE_OPTS:
                setattr(dev, k, v)
        dev.ns.config_changed()


GRE_OPTS = ("local", "remote", "link", "ttl", "tos", "ikey", "okey", "iflags", "oflags", "pmtudisc")


def gre_cfg(o: dict[str, Any]) -> dict[str, Any]:
    """ipgre_netlink_parms: every tunnel parameter, defaulted."""
    return {"local": o.get("local", 0), "remote": o.get("remote", 0), "link": o.get("link"),
            "ttl": o.get("ttl", 0), "tos": o.get("tos", 0), "ikey": o.get("ikey"), "okey": o.get("okey"),
            "iflags": o.get("iflags", 0), "oflags": o.get("oflags", 0), "pmtudisc": o.get("pmtudisc", True)}


def gre_current(dev: GreDev | GretapDev) -> dict[str, Any]:
    """The tunnel's parameters as a changelink starts from them."""
    return {"local": dev.local, "remote": dev.remote, "link": dev.link_dev, "ttl": dev.ttl, "tos": dev.tos,
            "ikey": dev.ikey, "okey": dev.okey, "iflags": dev.iflags & ~GRE_KEY, "oflags": dev.oflags & ~GRE_KEY,
            "pmtudisc": dev.pmtudisc}


class GreOps(LinkOps):
    """ipgre_newlink / ipgre_changelink (net/ipv4/ip_gre.c): an L3 GRE tunnel."""

    kind = "gre"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        if any(k not in GRE_OPTS for k in opts):
            raise _eopnotsupp()
        return ns.add_gre(name, self.kind, **gre_cfg(opts))

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, (GreDev, GretapDev))
        dev._tunnel_init(**gre_cfg({**gre_current(dev), **opts}))
        dev.ns.config_changed()


class GretapOps(GreOps):
    """gre_tap_ops: GRE carrying Ethernet frames (a bridge port for overlays)."""

    kind = "gretap"


class OpenvswitchOps(LinkOps):
    """The Open vSwitch datapath's devices (`ovs-system`, a bridge's internal port): made
    by ovs-vswitchd over genetlink, never by `ip link add`, and not deleted by `ip link del`
    (they have no rtnl newlink/dellink: both are EOPNOTSUPP)."""

    kind = "openvswitch"

    def dellink(self, dev: NetDevice) -> None:
        raise _eopnotsupp()


class MacvlanOps(LinkOps):
    """macvlan_newlink (drivers/net/macvlan.c). Options: `link` (the lower device, required),
    `mode` (MACVLAN_MODE_*, default vepa), `address`, `mtu`; changelink changes the mode."""

    kind = "macvlan"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        mode = opts.pop("mode", MACVLAN_MODE_VEPA)
        lower = opts.pop("link", None)
        mac, mtu = opts.pop("address", None), opts.pop("mtu", None)
        if opts:
            raise _eopnotsupp()
        return macvlan_newlink(ns, name, lower, mode, mac, mtu)

    def changelink(self, dev: NetDevice, **opts: Any) -> None:
        assert isinstance(dev, MacvlanDev)
        mode = opts.pop("mode", dev.mode)
        if opts:
            raise _eopnotsupp()
        if (mode == MACVLAN_MODE_PASSTHRU) != (dev.mode == MACVLAN_MODE_PASSTHRU):
            raise NetplexError("RTNETLINK answers: Invalid argument", errno.EINVAL)
        dev.mode = mode
        dev.ns.config_changed()


# IFLA_INFO_KIND → its rtnl_link_ops (rtnl_link_register)
LINK_KINDS: dict[str, LinkOps] = {
    "veth": VethOps(),
    "bridge": BridgeOps(),
    "bond": BondOps(),
    "tun": TunOps(),
    "vlan": VlanOps(),
    "vxlan": VxlanOps(),
    "gre": GreOps(),
    "gretap": GretapOps(),
    "macvlan": MacvlanOps(),
    "openvswitch": OpenvswitchOps(),
}


def link_ops(kind: str) -> LinkOps:
    """rtnl_link_ops_get."""
    ops = LINK_KINDS.get(kind)
    if ops is None:
        raise NetplexError("Error: Unknown device type.", errno.EOPNOTSUPP)
    return ops


def newlink(ns: Namespace, kind: str, name: str, **opts: Any) -> NetDevice:
    """rtnl_newlink with IFLA_INFO_KIND `kind`: create and register the device."""
    ops = link_ops(kind)
    ns.check_new_name(name)
    return ops.newlink(ns, name, **opts)


def changelink(dev: NetDevice, **opts: Any) -> None:
    """rtnl_newlink on an existing device (`ip link set DEV type KIND ...`): the kind's options."""
    link_ops(dev.kind).changelink(dev, **opts)


def dellink(dev: NetDevice) -> None:
    """rtnl_dellink: a veth takes its peer with it; a master releases its ports."""
    ops = LINK_KINDS.get(dev.kind)
    if ops is None:
        dev.ns.del_device(dev)   # lo refuses; a device of no registered kind goes plainly
        return
    ops.dellink(dev)


def setlink(dev: NetDevice, *, address: bytes | None = None, mtu: int | None = None, ifname: str | None = None,
            alias: str | None = None, up: bool | None = None, nomaster: bool = False,
            master: NetDevice | None = None, txqlen: int | None = None, group: int | None = None,
            gflags: dict[int, bool] | None = None) -> None:
    """do_setlink: the generic attributes, applied in the kernel's order (address, mtu, name,
    alias, flags, master, txqueuelen); the kind's own options go through `changelink`."""
    ns = dev.ns
    if address is not None:
        ns.set_mac(dev, address)
    if mtu is not None:
        ns.set_mtu(dev, mtu)
    if ifname is not None and ifname != dev.name:
        ns.rename_device(dev, ifname)
    if alias is not None:
        dev.alias = alias
    noarp = dev.flags() & IFF_NOARP
    for flag, on in (gflags or {}).items():   # dev_change_flags: promisc / allmulticast, counted once each
        if flag & IFF_USER_SETTABLE:
            dev.change_flags(flag, on)
        else:
            dev.gflags = dev.gflags | flag if on else dev.gflags & ~flag
    if dev.up and noarp != dev.flags() & IFF_NOARP:
        # NETDEV_CHANGE with IFF_NOARP among the changed flags: arp_netdev_event's neigh_changeaddr
        ns.neigh.flush_dev(dev)
    ns.config_changed()
    if up is not None:
        ns.set_link_up(dev, up)
    if nomaster:
        set_master(dev, None)
    if master is not None:
        set_master(dev, master)
    if txqlen is not None:
        dev.txqueuelen = txqlen
    if group is not None:
        dev.netdev_group = group


def set_created_mtu(dev: NetDevice, mtu: int) -> None:
    """rtnl_create_link: IFLA_MTU given with `ip link add` is the new device's own MTU,
    not a change (ndo_change_mtu is not called: a bridge does not count it as set by the user)."""
    dev.mtu = mtu
    dev.ns.config_changed()


def set_master(dev: NetDevice, master: NetDevice | None) -> None:
    """do_set_master: `master M` (ndo_add_slave on any master that takes ports) or
    `nomaster` (None: ndo_del_slave)."""
    dev.ns.set_master(dev, master)


def check_master(dev: NetDevice, master: NetDevice) -> None:
    """The refusals of do_set_master, checked before a command changes anything."""
    if dev.master is not master:
        master.check_slave(dev)
