"""`ip tunnel` (iproute2 6.1 ip/iptunnel.c, tunnel.c): GRE tunnels through the classic ioctl interface.

`ip tunnel add NAME mode gre remote R local L [ttl T] [key K] [dev D] …`
makes the same device as `ip link add NAME type gre …`; `show` prints each
tunnel on one line (print_tunnel), `change` and `del` work by name. Modes
other than gre (ipip, sit, vti, isatap) are not modelled. Path-MTU
discovery is on unless `nopmtudisc`, which a fixed TTL forbids.
"""
from __future__ import annotations

from typing import Any

from netplex.errors import NetplexError
from netplex.packet.gre import GRE_CSUM, GRE_KEY, GRE_SEQ
from netplex.shell.iproute_fmt import IpError, duparg2, invarg, matches, need_arg
from netplex.shell.result import Result
from netplex.stack import rtnl
from netplex.stack.netns import valid_ifname

__all__ = ["do_iptunnel", "tunnel_line"]

USAGE = """Usage: ip tunnel { add | change | del | show | prl | 6rd } [ NAME ]
	  [ mode { gre | ipip | isatap | sit | vti } ]
	  [ remote ADDR ] [ local ADDR ]
	  [ [i|o]seq ] [ [i|o]key KEY ] [ [i|o]csum ]
	  [ prl-default ADDR ] [ prl-nodefault ADDR ] [ prl-delete ADDR ]
	  [ 6rd-prefix ADDR ] [ 6rd-relay_prefix ADDR ] [ 6rd-reset ]
	  [ ttl TTL ] [ tos TOS ] [ [no]pmtudisc ] [ dev PHYS_DEV ]

Where:	NAME := STRING
	ADDR := { IP_ADDRESS | any }
	TOS  := { STRING | 00..ff | inherit | inherit/STRING | inherit/00..ff }
	TTL  := { 1..255 | inherit }
	KEY  := { DOTTED_QUAD | NUMBER }
"""


def _parse(ns: Any, args: list[str], changing: bool) -> tuple[str | None, str | None, dict[str, Any]]:
    from netplex.shell.ip_l2 import _addr, _gre_key

    name: str | None = None
    mode: str | None = None
    o: dict[str, Any] = {}
    i = 0
    count = 0
    while i < len(args):
        a = args[i]
        if a == "mode":
            i += 1
            v = need_arg(args, i)
            if v in ("gre", "gre/ip"):
                mode = "gre"
            elif v in ("ipip", "ip/ip", "sit", "ipv6/ip", "isatap", "vti"):
                mode = v
            else:
                raise IpError(f'Unknown tunnel mode "{v}"', 255)
        elif a in ("key", "ikey", "okey"):
            i += 1
            k = _gre_key(a, need_arg(args, i))
            if a in ("key", "ikey"):
                o["ikey"] = k
            if a in ("key", "okey"):
                o["okey"] = k
        elif a in ("seq", "iseq", "oseq", "csum", "icsum", "ocsum"):
            f = GRE_SEQ if a.endswith("seq") else GRE_CSUM
            if a[0] != "o":
                o["iflags"] = o.get("iflags", 0) | f
            if a[0] != "i":
                o["oflags"] = o.get("oflags", 0) | f
        elif a == "nopmtudisc":
            o["pmtudisc"] = False
        elif a == "pmtudisc":
            o["pmtudisc"] = True
        elif a == "remote":
            i += 1
            o["remote"] = _addr(need_arg(args, i), a)
        elif a == "local":
            i += 1
            o["local"] = _addr(need_arg(args, i), a)
        elif a == "dev":
            i += 1
            o["_dev"] = need_arg(args, i)
        elif a in ("ttl", "hoplimit", "hlim"):
            i += 1
            v = need_arg(args, i)
            if v == "inherit":
                o["ttl"] = 0
            else:
                n = int(v) if v.isdigit() else -1
                if not 0 <= n <= 255:
                    raise invarg("invalid TTL\n", v)
                o["ttl"] = n
        elif a in ("tos", "tclass") or matches(a, "dsfield"):
            i += 1
            v = need_arg(args, i)
            if v == "inherit":
                o["tos"] = 1
            else:
                try:
                    n = int(v, 16)
                except ValueError:
                    raise invarg("bad TOS value", v) from None
                o["tos"] = n
        elif a.startswith("prl-") or a.startswith("6rd-"):
            raise IpError(f"netplex: ip tunnel {a} is not supported", 2)
        else:
            if a == "name":
                i += 1
                a = need_arg(args, i)
            elif matches(a, "help"):
                raise IpError(USAGE, 255)
            if name is not None:
                raise duparg2("name", a)
            if not valid_ifname(a):
                raise invarg('"name" not a valid ifname', a)
            name = a
            if changing and count == 0:
                dev = ns.devices.get(a)
                if dev is None or dev.kind != "gre":
                    raise IpError(f'get tunnel "{a}" failed: No such device', 1)
                o = {**rtnl.gre_current(dev), **o}
        count += 1
        i += 1
    if mode is None and name is not None:
        for stem, m in (("gre", "gre"), ("ipip", "ipip"), ("sit", "sit"), ("isatap", "isatap"), ("vti", "vti")):
            if name.startswith(stem):
                mode = m
                break
    if (o.get("ikey") is not None or o.get("okey") is not None) and mode not in (None, "gre", "vti"):
        raise IpError("Keys are not allowed with ipip and sit tunnels", 1)
    if "_dev" in o:
        d = ns.devices.get(o["_dev"])
        if d is None:
            raise IpError(f'Cannot find device "{o["_dev"]}"', 1)
        o["link"] = d
        del o["_dev"]
    return name, mode, o


def tunnel_line(dev: Any) -> str:
    """print_tunnel, without the newline."""
    f = dev.ns.fmt_ip
    out = (f"{dev.name}: gre/ip remote {f(dev.remote) if dev.remote else 'any'} "
           f"local {f(dev.local) if dev.local else 'any'}")
    if dev.link_dev is not None:
        out += f" dev {dev.link_dev.name}"
    out += f" ttl {dev.ttl}" if dev.ttl else " ttl inherit"
    if dev.tos:
        out += " tos inherit" if dev.tos == 1 else f" tos 0x{dev.tos:x}"
    if not dev.pmtudisc:
        out += " nopmtudisc"
    ik = dev.ikey if dev.iflags & GRE_KEY else None
    ok = dev.okey if dev.oflags & GRE_KEY else None
    if ik is not None and ok is not None and ik == ok:
        out += f" key {ik}"
    else:
        if ik is not None:
            out += f" ikey {ik}"
        if ok is not None:
            out += f" okey {ok}"
    if dev.iflags & GRE_SEQ:
        out += "\n  Drop packets out of sequence."
    if dev.iflags & GRE_CSUM:
        out += "\n  Checksum in received packet is required."
    if dev.oflags & GRE_SEQ:
        out += "\n  Sequence packets on output."
    if dev.oflags & GRE_CSUM:
        out += "\n  Checksum output packets."
    return out


def do_iptunnel(ns: Any, opts: Any, args: list[str]) -> Result:
    if not args:
        args = ["show"]
    cmd, rest = args[0], args[1:]
    if matches(cmd, "add") or matches(cmd, "change") or matches(cmd, "delete") or matches(cmd, "show") \
            or matches(cmd, "list") or matches(cmd, "lst"):
        pass
    elif matches(cmd, "help"):
        raise IpError(USAGE, 255)
    elif matches(cmd, "prl") or cmd == "6rd":
        raise IpError(f"netplex: ip tunnel {cmd} is not supported", 2)
    else:
        raise IpError(f'Command "{cmd}" is unknown, try "ip tunnel help"', 255)
    changing = matches(cmd, "change")
    name, mode, o = _parse(ns, rest, changing)
    if matches(cmd, "show") or matches(cmd, "list") or matches(cmd, "lst"):
        if name is not None:
            dev = ns.devices.get(name)
            if dev is None or dev.kind != "gre":
                raise IpError(f'get tunnel "{name}" failed: No such device', 1)
            return Result(0, tunnel_line(dev) + "\n")
        lines = [tunnel_line(ns.by_index[i]) + "\n" for i in sorted(ns.by_index) if ns.by_index[i].kind == "gre"]
        return Result(0, "".join(lines))
    if matches(cmd, "delete"):
        dev = ns.devices.get(name) if name else None
        if dev is None or dev.kind != "gre":
            raise IpError(f'delete tunnel "{name or "gre0"}" failed: No such device', 1)
        rtnl.dellink(dev)
        return Result(0)
    if o.get("ttl") and o.get("pmtudisc") is False:
        raise IpError("ttl != 0 and nopmtudisc are incompatible", 1)
    if mode is None:
        raise IpError("cannot determine tunnel mode (ipip, gre, vti or sit)", 1)
    if mode != "gre":
        raise IpError(f"netplex: ip tunnel mode {mode} is not supported", 2)
    if changing:
        rtnl.changelink(ns.devices[name], **{k: v for k, v in o.items() if k in rtnl.GRE_OPTS})
        return Result(0)
    if name is None:
        n = 1
        while f"gre{n}" in ns.devices:
            n += 1
        name = f"gre{n}"
    if name in ns.devices:
        raise IpError('add tunnel "gre0" failed: File exists', 1)
    try:
        rtnl.newlink(ns, "gre", name, **{k: v for k, v in o.items() if k in rtnl.GRE_OPTS})
    except NetplexError:
        raise IpError('add tunnel "gre0" failed: File exists', 1) from None
    return Result(0)
