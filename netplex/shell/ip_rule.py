"""`ip rule` (iproute2 6.1 ip/iprule.c, ip-rule(8)): add, del, list/show, flush.

The command parses and prints; the rules themselves, their order, the
default preference and the duplicate check are the stack's
(`netplex/stack/route.py` Fib.rule_add / rule_del, as fib_nl_newrule and
fib_nl_delrule). Selectors: `not`, `from`, `to`, `tos`/`dsfield` (rt_dsfield
names or hex), `fwmark[/mask]`, `iif`, `oif`, `pref`; actions: `table`/`lookup`,
`unreachable`, `prohibit`, `blackhole`, with `suppress_prefixlength` and
`protocol`. The rest of ip-rule(8) (realms, nat, goto, nop, l3mdev, uidrange, ipproto, ports,
tun_id, suppress_ifgroup) is refused with a message.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import int_to_ip
from netplex.shell import ip_json
from netplex.shell.ip_route import PROTO_NAMES, parse_rtprot
from netplex.shell.iproute_fmt import (
    IpError,
    dsfield_name,
    invarg,
    matches,
    need_arg,
    need_arg_past,
    parse_prefix,
    parse_tos,
    parse_u32,
)
from netplex.shell.result import Result
from netplex.shell.rt_tables import RtTables
from netplex.stack.netns import valid_ifname
from netplex.stack.route import (
    FR_ACT_BLACKHOLE,
    FR_ACT_PROHIBIT,
    FR_ACT_TO_TBL,
    FR_ACT_UNREACHABLE,
    RT_TABLE_MAIN,
    RT_TABLE_UNSPEC,
    FibRule,
    RuleSelector,
)

__all__ = ["do_iprule", "rule_json", "rule_line"]

# rtnl_rtntype_a2n names that are rule actions (RTN_UNICAST is FR_ACT_TO_TBL)
_ACTIONS = {"unicast": FR_ACT_TO_TBL, "blackhole": FR_ACT_BLACKHOLE, "unreachable": FR_ACT_UNREACHABLE,
            "prohibit": FR_ACT_PROHIBIT}
_ROUTE_TYPES = ("local", "broadcast", "anycast", "multicast", "throw", "nat", "xresolve")
_UNSUPPORTED = ("realms", "tun_id", "suppress_ifgroup", "sup_group", "l3mdev", "uidrange",
                "sport", "dport", "ipproto", "nat", "map-to", "goto", "nop")
RTPROT_KERNEL = 2



def _parse_pref(v: str) -> int:
    """`pref N` (also `order`, `priority`): a u32."""
    pref = parse_u32(v)
    if pref is None:
        raise invarg("preference value is invalid\n", v)
    return pref


def _parse_fwmark(v: str) -> tuple[int, int | None]:
    """`fwmark MARK[/MASK]`: the mark and the mask (None when not given)."""
    mark_s, slash, mask_s = v.partition("/")
    mark = parse_u32(mark_s)
    if mark is None:
        raise invarg("fwmark value is invalid\n", mark_s)
    if not slash:
        return mark, None
    mask = parse_u32(mask_s)
    if mask is None:
        raise invarg("fwmask value is invalid\n", mask_s)
    return mark, mask

def _hex(v: int) -> str:
    """C's %#x: 0 has no prefix."""
    return f"{v:#x}" if v else "0"


def _prefix(a: int, plen: int) -> str:
    return int_to_ip(a) if plen == 32 else f"{int_to_ip(a)}/{plen}"


def rule_line(ns: Any, r: FibRule, tables: RtTables, details: bool = False) -> str:
    """print_rule: `PREF:<TAB>[not ]from SRC [to DST] [fwmark M[/K]] [iif I] [oif O] ACTION`."""
    parts: list[str] = []
    if r.invert:
        parts.append("not")
    parts.append(f"from {_prefix(r.src, r.src_len)}" if r.src_len else "from all")
    if r.dst_len:
        parts.append(f"to {_prefix(r.dst, r.dst_len)}")
    if r.tos:
        parts.append(f"tos {dsfield_name(r.tos)}")
    if r.mark or r.mark_mask:
        parts.append(f"fwmark {_hex(r.mark)}" if r.mark_mask == 0xFFFFFFFF
                     else f"fwmark {_hex(r.mark)}/{_hex(r.mark_mask)}")
    for word, name in (("iif", r.iifname), ("oif", r.oifname)):
        if name:
            parts.append(f"{word} {name}" + ("" if name in ns.devices else " [detached]"))
    if r.action == FR_ACT_TO_TBL:
        parts.append(f"lookup {tables.name(r.table)}")
        if r.suppress_prefixlen != -1:
            parts.append(f"suppress_prefixlength {r.suppress_prefixlen}")
    else:
        parts.append(r.action)
    if (r.proto and r.proto != RTPROT_KERNEL) or details:
        parts.append(f"proto {PROTO_NAMES.get(r.proto, str(r.proto))}")
    return f"{r.pref}:\t" + " ".join(parts)


def rule_json(ns: Any, r: FibRule, tables: RtTables, details: bool = False) -> dict[str, Any]:
    """print_rule's JSON object: rule_line's fields with iprule.c's keys."""
    o: dict[str, Any] = {"priority": r.pref}
    if r.invert:
        o["not"] = None
    o["src"] = int_to_ip(r.src) if r.src_len else "all"
    if r.src_len and r.src_len != 32:
        o["srclen"] = r.src_len
    if r.dst_len:
        o["dst"] = int_to_ip(r.dst)
        if r.dst_len != 32:
            o["dstlen"] = r.dst_len
    if r.mark or r.mark_mask:
        o["fwmark"] = _hex(r.mark)
        if r.mark_mask != 0xFFFFFFFF:
            o["fwmask"] = _hex(r.mark_mask)
    for word, name in (("iif", r.iifname), ("oif", r.oifname)):
        if name:
            o[word] = name
            if name not in ns.devices:
                o[f"{word}_detached"] = None
    if r.action == FR_ACT_TO_TBL:
        o["table"] = tables.name(r.table)
        if r.suppress_prefixlen != -1:
            o["suppress_prefixlen"] = r.suppress_prefixlen
    else:
        o["action"] = r.action
    if (r.proto and r.proto != RTPROT_KERNEL) or details:
        o["protocol"] = PROTO_NAMES.get(r.proto, str(r.proto))
    return o


class _RuleArgs:
    """What one `ip rule add|del` line says (None: not given)."""

    def __init__(self) -> None:
        self.invert = False
        self.src: tuple[int, int] | None = None
        self.dst: tuple[int, int] | None = None
        self.pref: int | None = None
        self.mark: int | None = None
        self.mask: int | None = None
        self.iif: str | None = None
        self.oif: str | None = None
        self.table: int | None = None
        self.action: str | None = None
        self.suppress: int | None = None
        self.proto = 0
        self.tos: int | None = None


def _ifname(arg: str) -> str:
    if not valid_ifname(arg):
        raise invarg('"iif"/"oif" not a valid ifname', arg)
    return arg


def _parse_modify(args: list[str], tables: RtTables) -> _RuleArgs:
    """iprule_modify's argument loop."""
    q = _RuleArgs()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "not":
            q.invert = True
        elif a == "from":
            i += 1
            q.src = parse_prefix(need_arg(args, i))
        elif a == "to":
            i += 1
            q.dst = parse_prefix(need_arg(args, i))
        elif matches(a, "preference") or matches(a, "order") or matches(a, "priority"):
            i += 1
            q.pref = _parse_pref(need_arg(args, i))
        elif a == "fwmark":
            i += 1
            q.mark, mask = _parse_fwmark(need_arg(args, i))
            if mask is not None:
                q.mask = mask
        elif a in ("tos", "dsfield"):
            i += 1
            q.tos = parse_tos(need_arg(args, i))
        elif matches(a, "table") or a == "lookup":
            i += 1
            v = need_arg(args, i)
            q.table = tables.id(v)
            if q.table is None:
                raise invarg("invalid table ID\n", v)
        elif matches(a, "suppress_prefixlength") or a == "sup_pl":
            i += 1
            v = need_arg(args, i)
            n = parse_u32(v)
            if n is None or n > 0x7FFFFFFF:
                raise invarg("suppress_prefixlength value is invalid\n", v)
            q.suppress = n
        elif a in ("dev", "iif"):
            i += 1
            q.iif = _ifname(need_arg(args, i))
        elif a == "oif":
            i += 1
            q.oif = _ifname(need_arg(args, i))
        elif matches(a, "protocol"):
            i += 1
            q.proto = parse_rtprot(need_arg(args, i))
        elif a in _UNSUPPORTED or (len(a) > 1 and any(matches(a, w) for w in ("realms", "suppress_ifgroup",
                                                                                 "map-to", "goto", "nop"))):
            raise IpError(f"netplex: ip rule {a} is not supported", 2)
        else:
            a, i = need_arg_past(args, i, "type")
            if matches(a, "help"):
                raise IpError(_USAGE, 255)
            if a in _ACTIONS:
                q.action = _ACTIONS[a]
            elif a in _ROUTE_TYPES:
                raise IpError(f"netplex: ip rule action {a} is not supported", 2)
            else:
                raise invarg("Failed to parse rule type", a)
        i += 1
    return q


def _add(ns: Any, args: list[str], tables: RtTables) -> Result:
    q = _parse_modify(args, tables)
    action = q.action or FR_ACT_TO_TBL
    table = q.table
    if table is None:
        # iprule_modify: no table given and no type keyword: main
        table = RT_TABLE_MAIN if q.action is None else RT_TABLE_UNSPEC
    pref = q.pref if q.pref is not None else ns.fib.default_rule_pref()
    src, src_len = q.src or (0, 0)
    dst, dst_len = q.dst or (0, 0)
    rule = FibRule(pref, action, table if action == FR_ACT_TO_TBL else RT_TABLE_UNSPEC,
                   src=src, src_len=src_len, dst=dst, dst_len=dst_len, iifname=q.iif or "",
                   oifname=q.oif or "", mark=q.mark or 0, mark_mask=q.mask or 0,
                   suppress_prefixlen=q.suppress if q.suppress is not None else -1,
                   invert=q.invert, proto=q.proto, tos=q.tos or 0)
    ns.add_rule(rule)
    return Result(0)


def _delete(ns: Any, args: list[str], tables: RtTables) -> Result:
    q = _parse_modify(args, tables)
    sel = RuleSelector(pref=q.pref, action=q.action, table=q.table, src=q.src if q.src and q.src[1] else None,
                       dst=q.dst if q.dst and q.dst[1] else None, iifname=q.iif, oifname=q.oif,
                       mark=q.mark, mark_mask=q.mask, suppress_prefixlen=q.suppress,
                       invert=True if q.invert else None, tos=q.tos)
    ns.del_rule(sel)
    return Result(0)


class _Filter:
    """iprule_list_flush_or_save's filter."""

    def __init__(self) -> None:
        self.invert = False
        self.src: tuple[int, int] | None = None
        self.dst: tuple[int, int] | None = None
        self.pref: int | None = None
        self.mark: int | None = None
        self.mask: int | None = None
        self.iif: str | None = None
        self.oif: str | None = None
        self.table = 0
        self.tos: int | None = None

    def selects(self, r: FibRule) -> bool:
        if self.invert and not r.invert:
            return False
        if self.tos is not None and r.tos != self.tos:
            return False
        if self.pref is not None and r.pref != self.pref:
            return False
        for want, a, plen in ((self.src, r.src, r.src_len), (self.dst, r.dst, r.dst_len)):
            if want is not None:
                fa, fl = want
                mask = (0xFFFFFFFF << (32 - fl)) & 0xFFFFFFFF if fl else 0
                if fl > plen or (fa ^ a) & mask:
                    return False
        if self.mark is not None:
            if not (r.mark or r.mark_mask) or r.mark != self.mark:
                return False
            if self.mask is not None and r.mark_mask != self.mask:
                return False
        if self.iif is not None and r.iifname != self.iif:
            return False
        if self.oif is not None and r.oifname != self.oif:
            return False
        return not self.table or (r.action == FR_ACT_TO_TBL and r.table == self.table)


def _parse_filter(args: list[str], tables: RtTables) -> _Filter:
    f = _Filter()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "not":
            f.invert = True
        elif matches(a, "preference") or matches(a, "order") or matches(a, "priority"):
            i += 1
            f.pref = _parse_pref(need_arg(args, i))
        elif a == "fwmark":
            i += 1
            f.mark, mask = _parse_fwmark(need_arg(args, i))
            if mask is not None:
                f.mask = mask
        elif a in ("tos", "dsfield"):
            i += 1
            f.tos = parse_tos(need_arg(args, i))
        elif a in ("dev", "iif"):
            i += 1
            f.iif = need_arg(args, i)
        elif a == "oif":
            i += 1
            f.oif = need_arg(args, i)
        elif matches(a, "table") or matches(a, "lookup"):
            i += 1
            v = need_arg(args, i)
            tid = tables.id(v)
            if tid is None:
                raise invarg("table id value is invalid\n", v)
            f.table = tid
        elif matches(a, "from") or matches(a, "src"):
            i += 1
            f.src = _filter_prefix(need_arg(args, i))
        else:
            if matches(a, "dst") or matches(a, "to"):
                i += 1
                a = need_arg(args, i)
            f.dst = _filter_prefix(a)
        i += 1
    return f


def _filter_prefix(text: str) -> tuple[int, int]:
    """get_prefix with AF_INET: the family named in the error."""
    try:
        return parse_prefix(text)
    except IpError:
        raise IpError(f'Error: inet prefix is expected rather than "{text}".', 1) from None


def _list(ns: Any, args: list[str], tables: RtTables, details: bool, opts: Any = None) -> Result:
    f = _parse_filter(args, tables)
    if opts is not None and opts.json:
        return Result(0, ip_json.dump([rule_json(ns, r, tables, details) for r in ns.fib.rules if f.selects(r)],
                                      opts.pretty))
    return Result(0, "".join(rule_line(ns, r, tables, details) + "\n" for r in ns.fib.rules if f.selects(r)))


def _flush(ns: Any, args: list[str], tables: RtTables) -> Result:
    """`ip rule flush [SELECTOR]`: the selected rules but those of preference 0 go."""
    f = _parse_filter(args, tables)
    for r in [r for r in ns.fib.rules if r.pref and f.selects(r)]:
        ns.del_rule(RuleSelector(pref=r.pref, action=r.action, table=r.table, src=(r.src, r.src_len),
                                 dst=(r.dst, r.dst_len), iifname=r.iifname, oifname=r.oifname, mark=r.mark,
                                 mark_mask=r.mark_mask, suppress_prefixlen=r.suppress_prefixlen,
                                 invert=r.invert, tos=r.tos))
    return Result(0)


_USAGE = """Usage: ip rule [ list [ SELECTOR ]]
       ip rule { add | del } SELECTOR ACTION
       ip rule { flush | save | restore }
       ip rule help
SELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]
            [ fwmark FWMARK[/MASK] ]
            [ iif STRING ] [ oif STRING ] [ pref NUMBER ] [ l3mdev ]
            [ uidrange NUMBER-NUMBER ]
            [ ipproto PROTOCOL ]
            [ sport [ NUMBER | NUMBER-NUMBER ]
            [ dport [ NUMBER | NUMBER-NUMBER ] ]
ACTION := [ table TABLE_ID ]
          [ protocol PROTO ]
          [ nat ADDRESS ]
          [ realms [SRCREALM/]DSTREALM ]
          [ goto NUMBER ]
          SUPPRESSOR
SUPPRESSOR := [ suppress_prefixlength NUMBER ]
              [ suppress_ifgroup DEVGROUP ]
TABLE_ID := [ local | main | default | NUMBER ]
"""


def do_iprule(ns: Any, opts: Any, args: list[str]) -> Result:
    tables: RtTables = opts.tables
    if opts.family not in ("", "inet"):
        raise IpError(f"netplex: ip -f {opts.family} rule is not supported", 2)
    if not args:
        return _list(ns, [], tables, opts.details, opts)
    cmd, rest = args[0], args[1:]
    if matches(cmd, "add"):
        if not rest:
            raise IpError(f'"ip rule {cmd}" requires arguments.', 1)
        return _add(ns, rest, tables)
    if matches(cmd, "delete"):
        if not rest:
            raise IpError(f'"ip rule {cmd}" requires arguments.', 1)
        return _delete(ns, rest, tables)
    if matches(cmd, "list") or matches(cmd, "show") or matches(cmd, "lst"):
        return _list(ns, rest, tables, opts.details, opts)
    if matches(cmd, "flush"):
        return _flush(ns, rest, tables)
    if matches(cmd, "help"):
        return Result(255, "", _USAGE)
    if matches(cmd, "save") or matches(cmd, "restore"):
        raise IpError(f"netplex: ip rule {cmd} is not supported", 2)
    raise IpError(f'Command "{cmd}" is unknown, try "ip rule help".', 255)
