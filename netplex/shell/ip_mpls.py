"""`ip -f mpls route` (iproute2 6.1 ip/iproute.c with AF_MPLS) and MPLS label parsing.

What the kernel checks is checked here before the label table changes, with
net/mpls/af_mpls.c's extack messages: mpls_label_ok (reserved labels, the
net.mpls.platform_labels bound), nla_get_labels (implicit null, at most 30
labels).  Without `modprobe mpls_router` there is no AF_MPLS rtnetlink family:
add and del fail with EOPNOTSUPP and a dump prints nothing, as on Linux.
Supported: add, del, replace, change, show/list, flush; one nexthop `via inet
ADDR dev DEV`.  Refused in netplex's words: multipath (`nexthop`), `via inet6`,
`via link`, `ttl-propagate`, `ip -f mpls route get`.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import int_to_ip
from netplex.packet.mpls import MPLS_LABEL_FIRST_UNRESERVED, MPLS_LABEL_IMPLNULL
from netplex.shell.iproute_fmt import IpError, ifname_or_error, matches, need_arg, need_arg_past, parse_inet_addr
from netplex.shell.result import Result
from netplex.stack.mpls import MplsRoute

__all__ = ["MAX_NEW_LABELS", "do_mpls_route", "mpls_route_line", "parse_mpls_labels"]

MAX_NEW_LABELS = 30     # af_mpls.c: the most labels a route may push
_LABEL_MAX = (1 << 20) - 1


def parse_mpls_labels(text: str) -> tuple[int, ...]:
    """mpls_pton: `L1/L2/...`, each a 20-bit label (get_addr's error when not)."""
    labels: list[int] = []
    for part in text.split("/"):
        if not part.isdigit() or int(part) > _LABEL_MAX:
            raise IpError(f'Error: mpls address is expected rather than "{text}".', 1)
        labels.append(int(part))
    return tuple(labels)


def mpls_route_line(label: int, rt: MplsRoute) -> str:
    """print_route for AF_MPLS: `LABEL [as to L1/L2 ]via inet ADDR dev DEV `."""
    parts = [str(label)]
    if rt.newdst:
        parts.append(f"as to {'/'.join(map(str, rt.newdst))}")
    if rt.via is not None:
        parts.append(f"via inet {int_to_ip(rt.via)}")
    if rt.dev is not None:
        parts.append(f"dev {rt.dev.name}")
    return " ".join(parts) + " "


def _label_ok(ns: Any, label: int) -> None:
    """mpls_label_ok."""
    if label < MPLS_LABEL_FIRST_UNRESERVED:
        raise IpError("Error: Invalid label - must be MPLS_LABEL_FIRST_UNRESERVED or higher.", 2)
    if label >= int(ns.sysctl.values["net.mpls.platform_labels"]):
        raise IpError("Error: Label >= configured maximum in platform_labels.", 2)


def _parse(ns: Any, args: list[str]) -> tuple[int | None, tuple[int, ...] | None, int | None, Any]:
    label: int | None = None
    newdst: tuple[int, ...] | None = None
    via: int | None = None
    dev = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "as":
            v, i = need_arg_past(args, i + 1, "to")
            newdst = parse_mpls_labels(v)
        elif a == "via":
            i += 1
            fam = need_arg(args, i)
            if fam in ("inet6", "link"):
                raise IpError(f"netplex: ip -f mpls route via {fam} is not supported", 2)
            if fam != "inet":
                parse_mpls_labels(fam)      # get_addr in the route's own family (AF_MPLS)
                raise IpError("netplex: ip -f mpls route via an MPLS label is not supported", 2)
            i += 1
            via = parse_inet_addr(need_arg(args, i))
        elif a in ("dev", "oif"):
            i += 1
            dev = ifname_or_error(ns, need_arg(args, i))
        elif a in ("nexthop", "ttl-propagate", "table", "metric", "encap", "src", "proto", "protocol", "scope",
                   "mtu", "onlink"):
            raise IpError(f"netplex: ip -f mpls route {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "to")
            lbls = parse_mpls_labels(a)
            if label is not None or len(lbls) != 1:
                raise IpError(f'Error: either "to" is duplicate, or "{a}" is a garbage.', 255)
            label = lbls[0]
        i += 1
    return label, newdst, via, dev


def _check_newdst(newdst: tuple[int, ...]) -> None:
    """nla_get_labels."""
    if len(newdst) > MAX_NEW_LABELS:
        raise IpError("Error: Too many labels.", 2)
    if MPLS_LABEL_IMPLNULL in newdst:
        raise IpError("Error: Implicit NULL Label (3) can not be used in encapsulation.", 2)


def do_mpls_route(ns: Any, args: list[str]) -> Result:
    """`ip -f mpls route ...`."""
    loaded = "mpls_router" in ns.world.kmods
    if loaded:
        ns.sysctl.mpls_sync()
    cmd, rest = (args[0], args[1:]) if args else ("show", [])
    if matches(cmd, "list") or matches(cmd, "show") or matches(cmd, "lst"):
        if not loaded:
            return Result(0)        # the dump falls to PF_UNSPEC: no AF_MPLS route
        _label, _newdst, _via, dev = _parse(ns, rest)
        lines = [mpls_route_line(lbl, rt) for lbl, rt in sorted(ns.mpls_routes.items())
                 if dev is None or rt.dev is dev]
        return Result(0, "".join(line + "\n" for line in lines))
    if matches(cmd, "flush"):
        if loaded:
            ns.mpls_routes.clear()
            ns.config_changed()
        return Result(0)
    for verb in ("add", "delete", "replace", "change"):
        if matches(cmd, verb):
            break
    else:
        if matches(cmd, "get") or cmd in ("append", "prepend", "save", "restore", "showdump", "test"):
            raise IpError(f"netplex: ip -f mpls route {cmd} is not supported", 2)
        raise IpError(f'Command "{cmd}" is unknown, try "ip route help".', 255)
    label, newdst, via, dev = _parse(ns, rest)
    if label is None:
        raise IpError("netplex: ip -f mpls route without a label is not supported", 2)
    if not loaded:
        raise IpError("RTNETLINK answers: Operation not supported", 2)
    _label_ok(ns, label)
    if verb == "delete":
        ns.mpls_routes.pop(label, None)     # mpls_route_del: no error for an empty slot
        ns.config_changed()
        return Result(0)
    if newdst is not None:
        _check_newdst(newdst)
    if dev is None:
        if via is None:
            raise IpError("RTNETLINK answers: Invalid argument", 2)
        r = ns.fib.lookup(via)
        if r is None or r.dev is None:
            raise IpError("RTNETLINK answers: Network is unreachable", 2)
        dev = r.dev
    if verb == "add" and label in ns.mpls_routes:
        raise IpError("RTNETLINK answers: File exists", 2)
    if verb == "change" and label not in ns.mpls_routes:
        raise IpError("RTNETLINK answers: No such file or directory", 2)
    ns.mpls_routes[label] = MplsRoute(label, newdst or (), via, dev)
    ns.config_changed()
    return Result(0)
