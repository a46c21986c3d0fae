"""`ip link add|set ... type vlan|vxlan|gre|gretap` (iproute2 6.1 ip/iplink_vlan.c,
iplink_vxlan.c, link_gre.c) and the checks the kernel makes on them (8021q,
vxlan, ip_gre).

Parsing mirrors each kind's parse_opt: its keywords, abbreviations and
messages (`invarg`, the kind's usage text on an unknown word). The kernel's
own refusals follow (e.g. a VXLAN without `id`: "Required attributes not
provided", a second device for the same VNI and port).
"""
from __future__ import annotations

from typing import Any

from netplex.errors import NetplexError
from netplex.packet.addr import ip_to_int
from netplex.packet.gre import GRE_CSUM, GRE_SEQ
from netplex.shell.iproute_fmt import IpError, invarg, matches, need_arg, parse_u32
from netplex.stack import rtnl
from netplex.stack.macvlan import MACVLAN_MODES

__all__ = ["parse_kind", "create", "change_kind", "VXLAN_USAGE", "VLAN_USAGE", "gre_usage"]

VLAN_USAGE = """Usage: ... vlan id VLANID
		[ protocol VLANPROTO ]
		[ reorder_hdr { on | off } ]
		[ gvrp { on | off } ]
		[ mvrp { on | off } ]
		[ loose_binding { on | off } ]
		[ bridge_binding { on | off } ]
		[ ingress-qos-map QOS-MAP ]
		[ egress-qos-map QOS-MAP ]

VLANID := 0-4095
VLANPROTO: [ 802.1Q | 802.1ad ]
QOS-MAP := [ QOS-MAP ] QOS-MAPPING
QOS-MAPPING := FROM:TO
"""

VXLAN_USAGE = """Usage: ... vxlan id VNI
		[ { group | remote } IP_ADDRESS ]
		[ local ADDR ]
		[ ttl TTL ]
		[ tos TOS ]
		[ df DF ]
		[ flowlabel LABEL ]
		[ dev PHYS_DEV ]
		[ dstport PORT ]
		[ srcport MIN MAX ]
		[ [no]learning ]
		[ [no]proxy ]
		[ [no]rsc ]
		[ [no]l2miss ]
		[ [no]l3miss ]
		[ ageing SECONDS ]
		[ maxaddress NUMBER ]
		[ [no]udpcsum ]
		[ [no]udp6zerocsumtx ]
		[ [no]udp6zerocsumrx ]
		[ [no]remcsumtx ] [ [no]remcsumrx ]
		[ [no]external ] [ gbp ] [ gpe ]
		[ [no]vnifilter ]

Where:	VNI	:= 0-16777215
	ADDR	:= { IP_ADDRESS | any }
	TOS	:= { NUMBER | inherit }
	TTL	:= { 1..255 | auto | inherit }
	DF	:= { unset | set | inherit }
	LABEL := 0-1048575
"""


def gre_usage(kind: str) -> str:
    return (f"Usage: ... {kind:<9}\t[ remote ADDR ]\n"
            "\t\t\t[ local ADDR ]\n\t\t\t[ [no][i|o]seq ]\n\t\t\t[ [i|o]key KEY | no[i|o]key ]\n"
            "\t\t\t[ [no][i|o]csum ]\n\t\t\t[ ttl TTL ]\n\t\t\t[ tos TOS ]\n\t\t\t[ [no]pmtudisc ]\n"
            "\t\t\t[ [no]ignore-df ]\n\t\t\t[ dev PHYS_DEV ]\n\t\t\t[ fwmark MARK ]\n\t\t\t[ external ]\n"
            "\t\t\t[ noencap ]\n\t\t\t[ encap { fou | gue | none } ]\n\t\t\t[ encap-sport PORT ]\n"
            "\t\t\t[ encap-dport PORT ]\n\t\t\t[ [no]encap-csum ]\n\t\t\t[ [no]encap-csum6 ]\n"
            "\t\t\t[ [no]encap-remcsum ]\n\nWhere:\tADDR := { IP_ADDRESS | any }\n"
            "\tTOS  := { NUMBER | inherit }\n\tTTL  := { 1..255 | inherit }\n"
            "\tKEY  := { DOTTED_QUAD | NUMBER }\n\tMARK := { 0x0..0xffffffff }\n")


def _addr(text: str, what: str) -> int:
    """get_addr for AF_INET: `any` is 0; a bad address is iproute2's get_addr error."""
    if text == "any":
        return 0
    try:
        return ip_to_int(text)
    except ValueError:
        raise IpError(f'Error: inet address is expected rather than "{text}".', 1) from None


def _dup(seen: set[str], key: str, shown: str, arg: str) -> None:
    if key in seen:
        raise IpError(f'Error: duplicate "{shown}": "{arg}" is the second value.', 255)
    seen.add(key)


def _mc(a: int) -> bool:
    return a >> 28 == 14


MACVLAN_USAGE = """Usage: ... macvlan mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]

MODE: private | vepa | bridge | passthru | source
MODE_FLAG: null | nopromisc | nodst
MODE_OPTS: for mode "source":
\tmacaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }
BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]"""


def _parse_macvlan(req: Any, args: list[str]) -> None:
    """iplink_macvlan.c's macvlan_parse_opt: `mode MODE`; the rest is refused."""
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "mode"):
            i += 1
            v = need_arg(args, i)
            if v not in MACVLAN_MODES:
                raise IpError(f'Error: argument of "mode" must be "private", "vepa", "bridge", "passthru" '
                              f'or "source", not "{v}"', 1)
            req.opts["mode"] = MACVLAN_MODES[v]
        elif a in ("flag", "macaddr", "bcqueuelen", "nopromisc", "nodst"):
            raise IpError(f"netplex: macvlan {a} is not supported", 2)
        elif matches(a, "help"):
            raise IpError(MACVLAN_USAGE, 1)
        else:
            raise IpError(f'macvlan: unknown option "{a}"?\n{MACVLAN_USAGE}\n', 1)
        i += 1


def _parse_vlan(req: Any, args: list[str]) -> None:
    o = req.opts
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "protocol"):
            i += 1
            v = need_arg(args, i)
            proto = {"802.1q": 0x8100, "802.1ad": 0x88A8}.get(v.lower())
            if proto is None:
                raise invarg("protocol is invalid", v)
            o["proto"] = proto
        elif matches(a, "id"):
            i += 1
            v = need_arg(args, i)
            n = parse_u32(v)
            if n is None or n > 0xFFFF:
                raise invarg("id is invalid", v)
            o["id"] = n
        elif matches(a, "reorder_hdr") or matches(a, "loose_binding"):
            key = "reorder_hdr" if matches(a, "reorder_hdr") else "loose_binding"
            i += 1
            v = need_arg(args, i)
            if v not in ("on", "off"):
                raise IpError(f'Error: argument of "{key}" must be "on" or "off", not "{v}"', 1)
            o[key] = v == "on"
        elif matches(a, "gvrp") or matches(a, "mvrp") or matches(a, "bridge_binding") \
                or matches(a, "ingress-qos-map") or matches(a, "egress-qos-map"):
            raise IpError(f"netplex: vlan {a} is not supported", 2)
        elif matches(a, "help"):
            raise IpError(VLAN_USAGE, 1)
        else:
            raise IpError(f'vlan: unknown command "{a}"?\n' + VLAN_USAGE, 1)
        i += 1


def _parse_vxlan(ns: Any, req: Any, args: list[str], adding: bool) -> None:
    o = req.opts
    seen: set[str] = set()
    daddr: int | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "id") or matches(a, "vni"):
            i += 1
            v = need_arg(args, i)
            _dup(seen, "id", "id", v)
            n = parse_u32(v)
            if n is None or n >= 1 << 24:
                raise invarg("invalid id", v)
            o["vni"] = n
        elif matches(a, "group") or matches(a, "remote"):
            group = matches(a, "group")
            if daddr is not None and _mc(daddr) != group:
                raise IpError("vxlan: both group and remote cannot be specified", 1)
            i += 1
            v = need_arg(args, i)
            _dup(seen, "group", "group" if group else "remote", v)
            daddr = _addr(v, a)
            if group and not _mc(daddr):
                raise invarg("invalid group address", v)
            if not group and (_mc(daddr) or not daddr):
                raise invarg("invalid remote address", v)
            o["group"] = daddr
        elif matches(a, "local"):
            i += 1
            v = need_arg(args, i)
            _dup(seen, "local", "local", v)
            la = _addr(v, a)
            if _mc(la):
                raise invarg("invalid local address", v)
            o["local"] = la
        elif matches(a, "dev"):
            i += 1
            v = need_arg(args, i)
            _dup(seen, "dev", "dev", v)
            d = ns.devices.get(v)
            if d is None:
                raise IpError(f'Cannot find device "{v}"', 255)
            o["lower"] = d
        elif matches(a, "ttl") or matches(a, "hoplimit"):
            i += 1
            v = need_arg(args, i)
            _dup(seen, "ttl", "ttl", v)
            if v == "inherit":
                o["ttl_inherit"] = True
            elif v == "auto":
                o["ttl"] = None
            else:
                n = parse_u32(v)
                if n is None:
                    raise invarg("invalid TTL", v)
                if n > 255:
                    raise invarg("TTL must be <= 255", v)
                o["ttl"] = n or None
        elif matches(a, "tos") or matches(a, "dsfield"):
            i += 1
            v = need_arg(args, i)
            if v == "inherit":
                o["tos"] = 1
            else:
                n = parse_u32(v)
                if n is None or n > 255:
                    raise invarg("bad TOS value", v)
                o["tos"] = n
        elif matches(a, "ageing"):
            i += 1
            v = need_arg(args, i)
            n = 0 if v == "none" else parse_u32(v)
            if n is None:
                raise invarg("ageing timer", v)
            o["ageing"] = n
        elif matches(a, "port") or matches(a, "srcport"):
            i += 1
            lo = parse_u32(need_arg(args, i))
            if lo is None or lo > 0xFFFF:
                raise invarg("min port", args[i])
            i += 1
            hi = parse_u32(need_arg(args, i))
            if hi is None or hi > 0xFFFF:
                raise invarg("max port", args[i])
            o["srcport"] = (lo, hi)
        elif matches(a, "dstport"):
            i += 1
            v = need_arg(args, i)
            _dup(seen, "dstport", "dstport", v)
            n = parse_u32(v)
            if n is None or n > 0xFFFF:
                raise invarg("dst port", v)
            o["dstport"] = n
        elif matches(a, "nolearning"):
            o["learning"] = False
        elif matches(a, "learning"):
            o["learning"] = True
        elif matches(a, "udpcsum"):
            o["udpcsum"] = True
        elif matches(a, "noudpcsum"):
            o["udpcsum"] = False
        elif any(matches(a, w) for w in ("noudp6zerocsumtx", "udp6zerocsumtx", "noudp6zerocsumrx",
                                          "udp6zerocsumrx", "noproxy", "norsc", "nol2miss", "nol3miss",
                                          "noremcsumtx", "noremcsumrx", "noexternal", "novnifilter")):
            pass   # the defaults
        elif any(matches(a, w) for w in ("proxy", "rsc", "l2miss", "l3miss", "remcsumtx", "remcsumrx",
                                          "external", "gbp", "gpe", "vnifilter", "df", "flowlabel", "label",
                                          "maxaddress")):
            raise IpError(f"netplex: vxlan {a} is not supported", 2)
        elif matches(a, "help"):
            raise IpError(VXLAN_USAGE, 1)
        else:
            raise IpError(f'vxlan: unknown command "{a}"?\n' + VXLAN_USAGE, 1)
        i += 1
    if daddr is not None and _mc(daddr) and "lower" not in o:
        raise IpError("vxlan: 'group' requires 'dev' to be specified", 1)
    if adding and "vni" in o and "dstport" not in o:
        o["warning"] = ("vxlan: destination port not specified\nWill use Linux kernel default (non-standard value)\n"
                        "Use 'dstport 4789' to get the IANA assigned value\n"
                        "Use 'dstport 0' to get default and quiet this message\n")


def _gre_key(name: str, text: str) -> int:
    if "." in text:
        try:
            return ip_to_int(text)
        except ValueError:
            raise IpError(f'Error: an IP address is expected rather than "{text}"', 255) from None
    n = parse_u32(text)
    if n is None:
        raise IpError(f'invalid value for "{name}": "{text}"; it should be an unsigned integer', 255)
    return n


def parse_gre_words(ns: Any, o: dict[str, Any], args: list[str], usage: str) -> None:
    """gre_parse_opt's keywords (shared with `ip tunnel`)."""
    i = 0
    while i < len(args):
        a = args[i]
        if matches(a, "key") or matches(a, "ikey") or matches(a, "okey"):
            i += 1
            k = _gre_key(a if a in ("ikey", "okey") else "key", need_arg(args, i))
            if matches(a, "key"):
                o["ikey"] = o["okey"] = k
            elif matches(a, "ikey"):
                o["ikey"] = k
            else:
                o["okey"] = k
        elif matches(a, "nokey"):
            o["ikey"] = o["okey"] = None
        elif matches(a, "noikey"):
            o["ikey"] = None
        elif matches(a, "nookey"):
            o["okey"] = None
        elif matches(a, "seq") or matches(a, "csum"):
            f = GRE_SEQ if matches(a, "seq") else GRE_CSUM
            o["iflags"] = o.get("iflags", 0) | f
            o["oflags"] = o.get("oflags", 0) | f
        elif matches(a, "iseq") or matches(a, "icsum"):
            o["iflags"] = o.get("iflags", 0) | (GRE_SEQ if matches(a, "iseq") else GRE_CSUM)
        elif matches(a, "oseq") or matches(a, "ocsum"):
            o["oflags"] = o.get("oflags", 0) | (GRE_SEQ if matches(a, "oseq") else GRE_CSUM)
        elif matches(a, "noseq") or matches(a, "nocsum"):
            f = GRE_SEQ if matches(a, "noseq") else GRE_CSUM
            o["iflags"] = o.get("iflags", 0) & ~f
            o["oflags"] = o.get("oflags", 0) & ~f
        elif matches(a, "nopmtudisc"):
            o["pmtudisc"] = False
        elif matches(a, "pmtudisc"):
            o["pmtudisc"] = True
        elif matches(a, "remote"):
            i += 1
            o["remote"] = _addr(need_arg(args, i), "remote")
        elif matches(a, "local"):
            i += 1
            o["local"] = _addr(need_arg(args, i), "local")
        elif matches(a, "dev"):
            i += 1
            v = need_arg(args, i)
            d = ns.devices.get(v)
            if d is None:
                raise IpError(f'Cannot find device "{v}"', 1)
            o["link"] = d
        elif matches(a, "ttl") or matches(a, "hoplimit") or matches(a, "hlim"):
            i += 1
            o["ttl"] = _u8_or_inherit(need_arg(args, i), 0, "invalid TTL\n")
        elif matches(a, "tos") or matches(a, "tclass") or matches(a, "dsfield"):
            i += 1
            o["tos"] = _u8_or_inherit(need_arg(args, i), 1, "bad TOS value")
        elif a in ("noencap", "encap-csum", "noencap-csum", "noignore-df"):
            pass
        elif a in ("encap", "encap-sport", "encap-dport", "external", "ignore-df", "fwmark"):
            raise IpError(f"netplex: gre {a} is not supported", 2)
        else:
            raise IpError(usage, 1)
        i += 1
    remote = o.get("remote", 0)
    if remote and _mc(remote):
        raise IpError("netplex: multicast GRE tunnels are not supported", 2)


def parse_kind(ns: Any, req: Any, kind: str, args: list[str]) -> None:
    adding = req.name is not None or True
    if kind == "vlan":
        _parse_vlan(req, args)
    elif kind == "macvlan":
        _parse_macvlan(req, args)
    elif kind == "vxlan":
        _parse_vxlan(ns, req, args, adding)
    else:
        parse_gre_words(ns, req.opts, args, gre_usage(kind))
    req.opts["_kind_args"] = True


def _free_name(ns: Any, stem: str) -> str:
    n = 0
    while f"{stem}{n}" in ns.devices:
        n += 1
    return f"{stem}{n}"


def create(ns: Any, req: Any, name: str | None) -> Any:
    """The device a `type vlan|vxlan|gre|gretap` add makes (rtnl.newlink applies the kernel's checks)."""
    kind = req.kind
    o = {k: v for k, v in req.opts.items() if not k.startswith("_") and k != "warning"}
    if kind in ("vlan", "macvlan"):
        o["link"] = req.link
        if req.mtu is not None:
            o["mtu"] = req.mtu
    if kind == "macvlan" and req.mac is not None:
        o["address"] = req.mac
    if kind == "vxlan" and "warning" in req.opts:
        req.warning = req.opts["warning"]
    try:
        return rtnl.newlink(ns, kind, name or _free_name(ns, kind), **o)
    except NetplexError as e:
        raise IpError(e.message, 2) from None


def change_kind(ns: Any, dev: Any, req: Any) -> None:
    """changelink for the kinds netplex models (what the kernel lets change)."""
    o = {k: v for k, v in req.opts.items() if not k.startswith("_") and k != "warning"}
    try:
        rtnl.changelink(dev, **o)
    except NetplexError as e:
        raise IpError(e.message, 2) from None


def _u8_or_inherit(v: str, inherit: int, error: str) -> int:
    """A GRE ttl/tos value: 0..255, or `inherit` (stored as the kernel's marker for it)."""
    if v == "inherit":
        return inherit
    n = parse_u32(v)
    if n is None or n > 255:
        raise invarg(error, v)
    return n
