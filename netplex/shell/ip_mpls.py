"""`ip -f mpls route` (iproute2 6.1 ip/iproute.c with AF_MPLS) and MPLS label parsing.

What the kernel checks is checked here before the label table changes, with
net/mpls/af_mpls.c's extack messages: mpls_label_ok (reserved labels, the
net.mpls.platform_labels bound), nla_get_labels (implicit null, at most 30
labels).  Without `modprobe mpls_router` there is no AF_MPLS rtnetlink family:
add and del fail with EOPNOTSUPP and a dump prints nothing, as on Linux.
Supported: add, del, replace, change, show/list, flush; one nexthop `via inet
ADDR dev DEV`, or several (`nexthop [as to L] via inet ADDR [dev DEV] nexthop ...`,
listed a nexthop a line as print_rta_multipath does for AF_MPLS, without weights).
Refused in netplex's words: `via inet6`, `via link`, `ttl-propagate`, a nexthop's
`weight`/`onlink`/`encap`, `ip -f mpls route get`.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import int_to_ip
from netplex.packet.mpls import MPLS_LABEL_FIRST_UNRESERVED, MPLS_LABEL_IMPLNULL
from netplex.shell.iproute_fmt import IpError, ifname_or_error, matches, need_arg, need_arg_past, parse_inet_addr
from netplex.shell.result import Result
from netplex.stack.mpls import MplsNexthop, MplsRoute

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
    """print_route for AF_MPLS: `LABEL [as to L1/L2 ]via inet ADDR dev DEV `; a multipath route's
    nexthops each on a tab-indented line (print_rta_multipath: no weight for AF_MPLS)."""
    if rt.nhs:
        return f"{label} " + "".join(
            "\n\tnexthop " + _nh_text(nh.newdst, nh.via, nh.dev)
            + ("dead linkdown " if not nh.dev.up else "linkdown " if not nh.dev.has_carrier() else "")
            for nh in rt.nhs)
    return f"{label} " + _nh_text(rt.newdst, rt.via, rt.dev)


def _nh_text(newdst: tuple[int, ...], via: int | None, dev: Any) -> str:
    parts = []
    if newdst:
        parts.append(f"as to {'/'.join(map(str, newdst))}")
    if via is not None:
        parts.append(f"via inet {int_to_ip(via)}")
    if dev is not None:
        parts.append(f"dev {dev.name}")
    return "".join(p + " " for p in parts)


def _label_ok(ns: Any, label: int) -> None:
    """mpls_label_ok."""
    if label < MPLS_LABEL_FIRST_UNRESERVED:
        raise IpError("Error: Invalid label - must be MPLS_LABEL_FIRST_UNRESERVED or higher.", 2)
    if label >= int(ns.sysctl.values["net.mpls.platform_labels"]):
        raise IpError("Error: Label >= configured maximum in platform_labels.", 2)


def _parse_nexthops(ns: Any, args: list[str], i: int) -> list[tuple[tuple[int, ...], int | None, Any]]:
    """parse_nexthops for AF_MPLS: `nexthop [as [to] LABELS] [via inet ADDR] [dev NAME]` ..."""
    out = []
    while i < len(args):
        if args[i] != "nexthop":
            raise IpError(f'Error: "nexthop" or end of line is expected instead of "{args[i]}"', 255)
        if i + 1 >= len(args):
            raise IpError('Error: unexpected end of line after "nexthop"', 255)
        j = i + 1
        while j < len(args) and args[j] != "nexthop":
            j += 1
        clause = args[i + 1:j]
        for w in clause:
            if w in ("weight", "onlink", "encap"):
                raise IpError(f"netplex: ip -f mpls route nexthop {w} is not supported", 2)
        _lbl, newdst, via, dev, _nhs = _parse(ns, clause, in_nexthop=True)
        out.append((newdst or (), via, dev))
        i = j
    return out


def _parse(ns: Any, args: list[str], in_nexthop: bool = False) -> tuple[
        int | None, tuple[int, ...] | None, int | None, Any, list[tuple[tuple[int, ...], int | None, Any]]]:
    label: int | None = None
    newdst: tuple[int, ...] | None = None
    via: int | None = None
    dev = None
    nhs: list[tuple[tuple[int, ...], int | None, Any]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "nexthop" and not in_nexthop:
            nhs = _parse_nexthops(ns, args, i)
            break
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
        elif in_nexthop:
            raise IpError(f'Error: "nexthop" or end of line is expected instead of "{a}"', 255)
        elif a in ("ttl-propagate", "table", "metric", "encap", "src", "proto", "protocol", "scope",
                   "mtu", "onlink"):
            raise IpError(f"netplex: ip -f mpls route {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "to")
            lbls = parse_mpls_labels(a)
            if label is not None or len(lbls) != 1:
                raise IpError(f'Error: either "to" is duplicate, or "{a}" is a garbage.', 255)
            label = lbls[0]
        i += 1
    return label, newdst, via, dev, nhs


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
        _label, _newdst, _via, dev, _nhs = _parse(ns, rest)
        lines = [mpls_route_line(lbl, rt) for lbl, rt in sorted(ns.mpls_routes.items())
                 if dev is None or rt.dev is dev or any(nh.dev is dev for nh in rt.nhs)]
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
    label, newdst, via, dev, nhs = _parse(ns, rest)
    if label is None:
        raise IpError("netplex: ip -f mpls route without a label is not supported", 2)
    if not loaded:
        raise IpError("RTNETLINK answers: Operation not supported", 2)
    _label_ok(ns, label)
    if verb == "delete":
        ns.mpls_routes.pop(label, None)     # mpls_route_del: no error for an empty slot
        ns.config_changed()
        return Result(0)
    if nhs and (newdst is not None or via is not None or dev is not None):
        # iproute2 sends RTA_VIA/RTA_OIF beside RTA_MULTIPATH, which af_mpls.c does not check
        raise IpError("netplex: ip -f mpls route with via, dev or as besides nexthop is not supported", 2)
    hops = []
    for nh_newdst, nh_via, nh_dev in nhs or [(newdst or (), via, dev)]:
        _check_newdst(nh_newdst)
        hops.append(MplsNexthop(nh_newdst, nh_via, _nh_dev(ns, nh_via, nh_dev)))
    if verb == "add" and label in ns.mpls_routes:
        raise IpError("RTNETLINK answers: File exists", 2)
    if verb == "change" and label not in ns.mpls_routes:
        raise IpError("RTNETLINK answers: No such file or directory", 2)
    if nhs:
        ns.mpls_routes[label] = MplsRoute(label, (), None, None, nhs=tuple(hops))
    else:
        ns.mpls_routes[label] = MplsRoute(label, hops[0].newdst, hops[0].via, hops[0].dev)
    ns.config_changed()
    return Result(0)


def _nh_dev(ns: Any, via: int | None, dev: Any) -> Any:
    """mpls_nh_assign_dev: the device given, else the one the gateway is routed through."""
    if dev is not None:
        return dev
    if via is None:
        raise IpError("RTNETLINK answers: Invalid argument", 2)
    r = ns.fib.lookup(via)
    if r is None or r.dev is None:
        raise IpError("RTNETLINK answers: Network is unreachable", 2)
    return r.dev
