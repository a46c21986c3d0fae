"""`vconfig` (Debian's vlan 2.0.5: a wrapper over `ip link`), kept for the seed's VLAN commands.

`vconfig add IFACE VID` creates IFACE.VID (name type DEV_PLUS_VID_NO_PAD)
with `ip link add link IFACE name IFACE.VID type vlan id VID`; `rem NAME`
deletes it. Every run first prints the deprecation warning to standard
error; a failing `ip` keeps its own message and the wrapper's exit status
(3 for add, 4 for rem).
"""
from __future__ import annotations

from netplex.shell.registry import Context, command, lookup
from netplex.shell.result import Result

__all__ = ["vconfig"]

WARNING = ("\nWarning: vconfig is deprecated and might be removed in the future, please migrate to "
           "ip(route2) as soon as possible!\n\n")
USAGE = """
Usage: add             [interface-name] [vlan_id]
       rem             [vlan-name]
       set_flag        [interface-name] [flag-num]       [0 | 1]
       set_egress_map  [vlan-name]      [skb_priority]   [vlan_qos]
       set_ingress_map [vlan-name]      [skb_priority]   [vlan_qos]
       set_name_type   [name-type]

* The [interface-name] is the name of the ethernet card that hosts
  the VLAN you are talking about.
* The vlan_id is the identifier (0-4095) of the VLAN you are operating on.
* skb_priority is the priority in the socket buffer (sk_buff).
* vlan_qos is the 3 bit priority in the VLAN header
* name-type:  VLAN_PLUS_VID (vlan0005), VLAN_PLUS_VID_NO_PAD (vlan5),
              DEV_PLUS_VID (eth0.0005), DEV_PLUS_VID_NO_PAD (eth0.5)
* FLAGS:  1 REORDER_HDR  When this is set, the VLAN device will move the
            ethernet header around to make it look exactly like a real
            ethernet device.  This may help programs such as DHCPd which
            read the raw ethernet packet and make assumptions about the
            location of bytes.  If you don't need it, don't turn it on, because
            there will be at least a small performance degradation.  Default
            is OFF.
"""


@command("vconfig")
def vconfig(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    if not 2 <= len(args) <= 4:
        return Result(1, USAGE, WARNING + f"Expecting argc to be 3-5, inclusive.  Was: {len(args) + 1}\n")
    ip = lookup("ip")
    assert ip is not None
    cmd = args[0]
    if cmd == "add":
        iface, vid = args[1], args[2] if len(args) > 2 else ""
        r = ip(ctx, ["ip", "link", "add", "link", iface, "name", f"{iface}.{vid}", "type", "vlan", "id", vid])
        return Result(0 if r.status == 0 else 3, r.output, WARNING + r.error)
    if cmd == "rem":
        r = ip(ctx, ["ip", "link", "del", args[1]])
        return Result(0 if r.status == 0 else 4, r.output, WARNING + r.error)
    if cmd in ("set_flag", "set_egress_map", "set_ingress_map", "set_name_type"):
        return Result(2, "", WARNING + f"netplex: vconfig {cmd} is not supported\n")
    return Result(5, "", WARNING + f"Unknown command: {cmd}\n")
