"""A device's own hardware address lists: dev->uc and dev->mc (net/core/dev_addr_lists.c).

Beside its own address (dev_addr) a device keeps two ordered lists of
link-layer addresses it must receive:

- `dev->uc`, unicast addresses: `bridge fdb add MAC dev DEV self` on a device
  without its own FDB (rtnetlink.c `ndo_dflt_fdb_add` → `dev_uc_add_excl`), a
  macvlan's address on its lower device while the macvlan is up
  (`macvlan_open` → `dev_uc_add`). A running device that cannot filter
  unicast addresses itself (no IFF_UNICAST_FLT: veth, dummy) turns
  promiscuous while the list is not empty (`__dev_set_rx_mode`, `uc_promisc`).
- `dev->mc`, multicast addresses: 33:33:00:00:00:01 from the device's
  registration, the IPv4 groups joined while it is up (01:00:5e:00:00:01,
  IGMP joins, a bridge's snooping groups: `ip_mc_up`), and the addresses the
  user added (`ip maddr add`, `bridge fdb add MULTICAST dev DEV self`), kept
  as "global" entries (`ip maddr` shows them `static`), and those of the
  running macvlans on it (`dev_mc_sync`). Order is insertion order: the
  groups joined at NETDEV_UP go after what was listed before the device went
  up.

`bridge fdb show` lists both (`ndo_dflt_fdb_dump`: uc, then mc) as
`self permanent`; `ip maddr` lists dev->mc.
"""
from __future__ import annotations

import errno

from netplex.errors import NetplexError
from netplex.stack.bridge import Bridge
from netplex.stack.device import Loopback, NetDevice

__all__ = ["IPV6_ALLNODES_MAC", "dev_mc_add_excl", "dev_mc_del", "dev_uc_add", "dev_uc_add_excl", "dev_uc_del",
           "is_unicast_list_addr", "mc_list"]

IPV6_ALLNODES_MAC = bytes.fromhex("333300000001")
"""ff02::1's MAC: joined at registration (ipv6_add_dev) even with IPv6 disabled, never left."""
_IGMP_ALLHOSTS_MAC = bytes.fromhex("01005e000001")
_SNOOPING_MACS = (bytes.fromhex("01005e00006a"), bytes.fromhex("33330000006a"))   # br_multicast_open


def _eexist() -> NetplexError:
    return NetplexError("RTNETLINK answers: File exists", errno.EEXIST)


def _enoent() -> NetplexError:
    return NetplexError("RTNETLINK answers: No such file or directory", errno.ENOENT)


def is_unicast_list_addr(mac: bytes) -> bool:
    """Which list an address goes on: unicast, or link-local 01:80:c2:00:00:0X (is_link_local_ether_addr)
    go on dev->uc, other multicast on dev->mc."""
    return not mac[0] & 1 or (mac[:5] == b"\x01\x80\xc2\x00\x00" and not mac[5] & 0xF0)


def dev_uc_add(dev: NetDevice, mac: bytes) -> None:
    """dev_uc_add: one more reference on `mac` in dev->uc."""
    dev.uc[mac] = dev.uc.get(mac, 0) + 1
    dev.set_rx_mode()


def dev_uc_add_excl(dev: NetDevice, mac: bytes) -> None:
    """dev_uc_add_excl: a new entry, EEXIST if `mac` is listed already."""
    if mac in dev.uc:
        raise _eexist()
    dev_uc_add(dev, mac)


def dev_uc_del(dev: NetDevice, mac: bytes) -> None:
    """dev_uc_del: one reference less; the entry goes with its last (ENOENT if it is not listed)."""
    refs = dev.uc.get(mac)
    if refs is None:
        raise _enoent()
    if refs > 1:
        dev.uc[mac] = refs - 1
    else:
        del dev.uc[mac]
    dev.set_rx_mode()


def _joined(dev: NetDevice) -> list[bytes]:
    """The groups joined while the device is up (ip_mc_up), in the order they were joined."""
    if not dev.up:
        return []
    out: list[bytes] = []
    if isinstance(dev, Bridge):
        out += _SNOOPING_MACS
    out.append(_IGMP_ALLHOSTS_MAC)
    for g in dev.ns.mc_groups.get(dev.ifindex, ()):   # ip_mc_filter_add: the group's MAC
        mac = b"\x01\x00\x5e" + (g & 0x7FFFFF).to_bytes(3, "big")
        if mac not in out:
            out.append(mac)
    return [m for m in out if m not in dev.mc_dropped]


def mc_list(dev: NetDevice) -> list[tuple[bytes, bool]]:
    """dev->mc in order: (address, global) — global for what the user added (`ip maddr` static)."""
    if isinstance(dev, Loopback):
        return []
    static = dev.mc_static
    order = [] if IPV6_ALLNODES_MAC in dev.mc_dropped else [IPV6_ALLNODES_MAC]
    order += [m for m in static if m in dev.mc_early]
    order += _joined(dev)
    order += [m for m in static if m not in dev.mc_early]
    port = dev.ns.macvlan_ports.get(dev.ifindex)
    if port is not None:   # macvlan_set_mac_lists: dev_mc_sync(lowerdev, dev) while a macvlan is up
        order += [m for v in port.vlans if v.up for m in v.mc_static]
    out: list[tuple[bytes, bool]] = []
    seen: set[bytes] = set()
    for m in order:
        if m not in seen:
            seen.add(m)
            out.append((m, m in static))
    return out


def dev_mc_add_excl(dev: NetDevice, mac: bytes) -> None:
    """dev_mc_add_excl: a new global entry, EEXIST if `mac` is listed already (joined or added)."""
    if any(m == mac for m, _g in mc_list(dev)):
        raise _eexist()
    dev.mc_static.append(mac)
    if not dev.up:
        dev.mc_early.add(mac)


def dev_mc_del(dev: NetDevice, mac: bytes) -> None:
    """dev_mc_del: one reference less (ENOENT if it is not listed). A joined group's MAC deleted
    this way stays away until the device goes up again (ip_mc_up joins it anew)."""
    listed = [m for m, _g in mc_list(dev)]
    if mac not in listed:
        raise _enoent()
    if mac in dev.mc_static:
        # the user's reference goes (a joined group's stays, no longer `static`: netplex counts
        # no second reference, the kernel keeps global_use until the last one)
        dev.mc_static.remove(mac)
        dev.mc_early.discard(mac)
        return
    dev.mc_dropped.add(mac)
