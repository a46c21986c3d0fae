"""`ip` (iproute2 6.1, ip(8)): global options and the object dispatch.

Objects netplex models: `link`, `address`, `route`, `neighbour`, `tuntap`,
`netns` (each abbreviated as iproute2 allows: `ip l`, `ip a`, `ip r`, `ip n`).
`-j` (`-p` indents) prints iproute2's JSON for `link`, `address`, `route`, `rule` and
`neigh` show (netplex.shell.ip_json); JSON of the other objects and of `-d` is refused.
`-n NAME`/`-netns NAME` runs the command in the machine's namespace NAME, as
iproute2's `netns_switch` does. The others (`rule`, `xfrm`, …) are rejected with status 2 and a
`netplex: ... is not supported` message. IPv6 (`-6`) is
not modelled and is rejected the same way, as are `-c`/`-color` (colours),
`-r`, `-h`, `-iec`, `-N` (they change what is printed); `-color=auto|never`
print as without it (a netplex command's output is never a terminal).
"""
from __future__ import annotations

from dataclasses import dataclass

from netplex.errors import NetplexError
from netplex.machine import Machine, NetnsError
from netplex.shell.iproute_fmt import IpError, matches
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported
from netplex.shell.rt_tables import DEFAULT_RT_TABLES, RtTables, rt_tables

__all__ = ["IpOpts", "ip"]

USAGE = """Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
       ip [ -force ] -batch filename
where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |
                   link | macsec | maddress | monitor | mptcp | mroute | mrule |
                   neighbor | neighbour | netconf | netns | nexthop | ntable |
                   ntbl | route | rule | sr | tap | tcpmetrics |
                   token | tunnel | tuntap | vrf | xfrm }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                    -h[uman-readable] | -iec | -j[son] | -p[retty] |
                    -f[amily] { inet | inet6 | mpls | bridge | link } |
                    -4 | -6 | -M | -B | -0 |
                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                    -c[olor]}
"""


@dataclass(slots=True)
class IpOpts:
    """The global options of one `ip` invocation."""

    stats: int = 0
    details: bool = False
    oneline: bool = False
    brief: bool = False
    family: str = ""     # "" (any), "inet", "link" or "mpls"
    netns: str | None = None         # `-n NAME`: the named namespace to run in
    machine: Machine | None = None   # the machine `ip` runs on (its named namespaces)
    tables: RtTables = DEFAULT_RT_TABLES   # table names (/etc/iproute2/rt_tables)
    json: bool = False   # `-j`: iproute2's JSON (link, address, route, rule, neighbour show)
    pretty: bool = False  # `-p` with -j: indented JSON
    ctx: Context | None = None   # the invocation (`ip xfrm monitor` runs the simulation: deadline, terminal)


# ip.c's object table, in its order: the first keyword the argument abbreviates wins.
_OBJECTS = ("address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable",
            "ntbl", "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token",
            "tcpmetrics", "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf",
            "sr", "nexthop", "mptcp", "ioam", "help", "stats")


_JSON_OBJECTS = ("link", "address", "maddress", "route", "rule", "neighbor", "neighbour", "nexthop")   # what `ip -j` prints (show/list)


def _unsupported(what: str) -> Result:
    return unsupported(what)


def _parse_opts(argv: list[str]) -> tuple[IpOpts, list[str]] | Result:
    opts = IpOpts()
    i = 1
    while i < len(argv):
        opt = argv[i]
        if not opt.startswith("-") or opt == "-":
            break
        if opt == "--":
            i += 1
            break
        o = opt[1:] if opt.startswith("--") else opt
        if matches(o, "-loops"):
            i += 1
        elif matches(o, "-family"):
            i += 1
            if i >= len(argv):
                return Result(255, "", 'Command line is not complete. Try option "help"\n')
            fam = argv[i]
            if fam in ("inet", "ipv4"):
                opts.family = "inet"
            elif fam in ("link", "bridge"):
                opts.family = "link"
            elif fam in ("inet6", "ipv6"):
                return _unsupported("IPv6 (ip -f inet6)")
            elif fam == "mpls":
                opts.family = "mpls"
            else:
                return _unsupported(f"ip -family {fam}")
        elif o == "-4":
            opts.family = "inet"
        elif o == "-6":
            return _unsupported("IPv6 (ip -6)")
        elif o == "-0":
            opts.family = "link"
        elif o == "-M":
            opts.family = "mpls"
        elif o == "-B":
            return _unsupported(f"ip {o}")
        elif matches(o, "-stats") or matches(o, "-statistics"):
            opts.stats += 1
        elif matches(o, "-details"):
            opts.details = True
        elif matches(o, "-pretty"):
            opts.pretty = True
        elif matches(o, "-resolve") or matches(o, "-human") or matches(o, "-human-readable") \
                or matches(o, "-iec") or matches(o, "-Numeric"):
            return _unsupported(f"ip {o}")
        elif matches(o, "-oneline"):
            opts.oneline = True
        elif matches(o, "-timestamp") or matches(o, "-tshort"):
            pass
        elif matches(o, "-Version"):
            return Result(0, "ip utility, iproute2-6.1.0, libbpf 1.1.2\n")
        elif matches(o, "-force"):
            pass
        elif matches(o, "-batch"):
            return _unsupported("ip -batch")
        elif matches(o, "-rcvbuf"):
            i += 1
        elif matches(o.split("=", 1)[0], "-color"):
            # utils.c matches_color: -c and -c=always colour even into a pipe; auto colours
            # only a terminal, which a netplex command's output never is
            when = o.split("=", 1)[1] if "=" in o else "always"
            if when == "always":
                return _unsupported(f"ip {o} (coloured output)")
            if when not in ("auto", "never"):
                return Result(255, "", f'Option "{opt}" is unknown, try "ip -help".\n')
        elif matches(o, "-help"):
            return Result(255, "", USAGE)
        elif matches(o, "-netns"):
            i += 1
            if i >= len(argv):   # netns_switch(NULL)
                return Result(255, "", 'Cannot open network namespace "(null)": No such file or directory\n')
            opts.netns = argv[i]
        elif matches(o, "-all"):
            pass
        elif matches(o, "-json"):
            opts.json = True
        elif matches(o, "-brief"):
            opts.brief = True
        else:
            return Result(255, "", f'Option "{opt}" is unknown, try "ip -help".\n')
        i += 1
    return opts, argv[i:]


def _ipmroute(ns: object, opts: IpOpts, args: list[str]) -> Result:
    from netplex.shell.ip_mroute import do_ipmroute

    return do_ipmroute(ns, opts, args)


@command("ip")
def ip(ctx: Context, argv: list[str]) -> Result:
    parsed = _parse_opts(argv)
    if isinstance(parsed, Result):
        return parsed
    opts, args = parsed
    if not args:
        return Result(255, "", USAGE)
    obj = args[0]
    name = next((o for o in _OBJECTS if matches(obj, o)), None)
    if name is None:
        return Result(1, "", f'Object "{obj}" is unknown, try "ip help".\n')
    from netplex.shell import ip_addr, ip_link, ip_maddr, ip_neigh, ip_netns, ip_route, ip_rule, ip_tunnel, ip_xfrm
    from netplex.shell.ip_nexthop import do_ipnexthop

    handlers = {
        "address": ip_addr.do_ipaddr, "link": ip_link.do_iplink, "route": ip_route.do_iproute,
        "neighbor": ip_neigh.do_ipneigh, "neighbour": ip_neigh.do_ipneigh,
        "tuntap": ip_link.do_iptuntap, "tap": ip_link.do_iptuntap,
        "tunnel": ip_tunnel.do_iptunnel, "tunl": ip_tunnel.do_iptunnel,
        "mroute": _ipmroute, "rule": ip_rule.do_iprule, "xfrm": ip_xfrm.do_ipxfrm,
        "maddress": ip_maddr.do_ipmaddr, "nexthop": do_ipnexthop,
    }
    if name == "help":
        return Result(255, "", USAGE)
    handler = handlers.get(name)
    if handler is None and name != "netns":
        return _unsupported(f"ip {name}")
    if opts.family == "mpls" and name != "route":
        return _unsupported(f"ip -f mpls {name}")
    if opts.json and (name not in _JSON_OBJECTS or (len(args) > 1 and not any(
            matches(args[1], verb) for verb in ("show", "list", "lst")))):
        return _unsupported(f"JSON output of ip {' '.join(args[:2])} "
                            "(ip -json has link, address, route, rule and neighbour show)")
    if opts.json and opts.details and name == "address":
        return _unsupported("ip -json -details (the link kinds' attributes in JSON)")
    ns = ctx.node
    opts.ctx = ctx
    opts.machine = ctx.machine if isinstance(ctx.machine, Machine) else None
    if name in ("route", "rule"):
        opts.tables = rt_tables(ctx.machine)
    try:
        if opts.netns is not None:
            if opts.machine is None:
                raise NetnsError(f'Cannot open network namespace "{opts.netns}": No such file or directory', 255)
            ns = opts.machine.netns_get(opts.netns)
        if handler is None:
            return ip_netns.do_ipnetns(ctx, ns, opts, args[1:])
        return handler(ns, opts, args[1:])
    except NetnsError as e:
        return Result(e.status, "", e.message + "\n")
    except IpError as e:
        return Result(e.status, "", e.message)
    except NetplexError as e:
        msg = e.message
        status = 1 if msg.startswith("Cannot find device") else 2
        return Result(status, "", msg + "\n")
