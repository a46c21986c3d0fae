"""Subfields and the two actions built on them, `move` and `learn`, as Open vSwitch 3.1
parses, prints and executes them (ovs-actions(7); lib/nx-match.c mf_parse_subfield__,
mf_format_subfield, nxm_parse_reg_move, nxm_format_reg_move; lib/learn.c learn_parse__,
learn_parse_spec, learn_format, learn_check, learn_execute).

A subfield is `FIELD[]`, `FIELD[BIT]` or `FIELD[START..END]`, FIELD an NXM/OXM name
(`NXM_NX_REG0`, `OXM_OF_METADATA`) or an ovs-fields(7) name (`reg0`, `eth_src`), printed
with its NXM name. `move:SRC->DST` copies bits between two subfields of the packet's flow.
`learn(...)` adds, when a packet executes it, a flow to a table: its match from the
packet's fields or immediate values, its actions `load`s and `output`s computed from the
packet, as OFPFC_MODIFY_STRICT (an identical flow is refreshed: its hard timeout starts
again). Refused in netplex's words: `fin_idle_timeout`/`fin_hard_timeout` (fin_timeout),
`delete_learned`, and the fields whose flow value netplex keeps in another layout
(dl_vlan, dl_vlan_pcp, ip_dscp, nw_ecn, tcp_flags).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from netplex.ovs.flow import (
    MATCH_FIELDS,
    FieldSpec,
    FlowError,
    Match,
    format_mac,
    parse_field_value,
    prereq_ok,
)
from netplex.packet.addr import int_to_ip

__all__ = ["NXM_NAME", "Learn", "LearnSpec", "Subfield", "format_learn", "format_subfield", "learn_check",
           "learn_execute", "mf_format", "move_check", "parse_learn", "parse_move", "parse_subfield", "read_subfield",
           "write_subfield"]

OFP_DEFAULT_PRIORITY = 0x8000
OFP_FLOW_PERMANENT = 0
MATCH_INCONSISTENT = "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)"
BAD_SET_ARGUMENT = "actions are invalid with specified match (OFPBAC_BAD_SET_ARGUMENT)"

# nxm_field_by_mf_id(id, 0): the name mf_format_subfield prints (meta-flow.xml's NXM or OXM name)
NXM_NAME: dict[str, str] = {
    "in_port": "NXM_OF_IN_PORT", "eth_dst": "NXM_OF_ETH_DST", "eth_src": "NXM_OF_ETH_SRC",
    "eth_type": "NXM_OF_ETH_TYPE", "vlan_tci": "NXM_OF_VLAN_TCI", "nw_tos": "NXM_OF_IP_TOS",
    "nw_proto": "NXM_OF_IP_PROTO", "ip_src": "NXM_OF_IP_SRC", "ip_dst": "NXM_OF_IP_DST",
    "tcp_src": "NXM_OF_TCP_SRC", "tcp_dst": "NXM_OF_TCP_DST", "udp_src": "NXM_OF_UDP_SRC",
    "udp_dst": "NXM_OF_UDP_DST", "icmp_type": "NXM_OF_ICMP_TYPE", "icmp_code": "NXM_OF_ICMP_CODE",
    "arp_op": "NXM_OF_ARP_OP", "arp_spa": "NXM_OF_ARP_SPA", "arp_tpa": "NXM_OF_ARP_TPA",
    "arp_sha": "NXM_NX_ARP_SHA", "arp_tha": "NXM_NX_ARP_THA", "nw_ecn": "NXM_NX_IP_ECN", "nw_ttl": "NXM_NX_IP_TTL",
    "tun_id": "NXM_NX_TUN_ID", "tun_src": "NXM_NX_TUN_IPV4_SRC", "tun_dst": "NXM_NX_TUN_IPV4_DST",
    "pkt_mark": "NXM_NX_PKT_MARK", "tcp_flags": "NXM_NX_TCP_FLAGS", "ct_state": "NXM_NX_CT_STATE",
    "ct_zone": "NXM_NX_CT_ZONE", "ct_mark": "NXM_NX_CT_MARK", "metadata": "OXM_OF_METADATA",
    "ip_dscp": "OXM_OF_IP_DSCP", "sctp_src": "OXM_OF_SCTP_SRC", "sctp_dst": "OXM_OF_SCTP_DST",
    **{f"reg{i}": f"NXM_NX_REG{i}" for i in range(16)},
}
_BY_NXM = {v: k for k, v in NXM_NAME.items()}
_N_BITS = {"ip_dscp": 6, "nw_ecn": 2, "tcp_flags": 12, "dl_vlan": 12, "dl_vlan_pcp": 3}
# fields with no NXM or OXM header (mf_nxm_header() is 0): learn refuses them
_NO_NXM = frozenset({"dl_vlan", "dl_vlan_pcp", "actset_output"})
# mf_field's `writable`: what a move or a learned load may not write
_READ_ONLY = frozenset({"eth_type", "nw_proto", "ct_state", "ct_zone", "ct_mark", "tcp_flags"})
# fields whose value netplex's flow keeps in another layout (the TOS byte, the TCI)
_NOT_MODELLED = frozenset({"dl_vlan", "dl_vlan_pcp", "ip_dscp", "nw_ecn", "tcp_flags"})
# mf_format's decimal fields (MFS_DECIMAL); the others print in hexadecimal
_DECIMAL = frozenset({"nw_proto", "nw_ttl", "tcp_src", "tcp_dst", "udp_src", "udp_dst", "sctp_src", "sctp_dst",
                      "icmp_type", "icmp_code", "arp_op", "ip_dscp", "nw_ecn"})


@dataclass(frozen=True, slots=True)
class Subfield:
    """struct mf_subfield: a field (its canonical name) and a run of its bits."""

    name: str
    ofs: int
    n_bits: int

    @property
    def spec(self) -> FieldSpec:
        return MATCH_FIELDS[self.name]

    @property
    def mask(self) -> int:
        return ((1 << self.n_bits) - 1) << self.ofs


def field_bits(spec: FieldSpec) -> int:
    return _N_BITS.get(spec.name, spec.nbytes * 8)


def parse_subfield(s: str, whole: bool = True) -> tuple[Subfield, str]:
    """mf_parse_subfield__: a subfield at the start of `s` and the text after it; with
    `whole`, nothing may follow (mf_parse_subfield)."""
    name_len = len(s)
    for i, ch in enumerate(s):
        if ch in "[-":
            name_len = i
            break
    name = s[:name_len]
    nxm = name[:-2] if name.endswith("_W") and len(name) > 2 else name
    canon = _BY_NXM.get(nxm)
    spec = MATCH_FIELDS.get(canon or name)
    if spec is None:
        if name == "actset_output":
            raise FlowError(f"{s}: experimenter OXM field 'actset_output' not supported")
        raise FlowError(f"{s}: unknown field `{name}'")
    width = field_bits(spec)
    start, end = 0, width - 1
    rest = s[name_len:]
    if rest.startswith("["):
        close = rest.find("]")
        body = rest[1:close] if close > 0 else None
        try:
            if body is None:
                raise ValueError
            if body == "":
                pass
            elif ".." in body:
                a, b = body.split("..", 1)
                start, end = int(a), int(b)
            else:
                start = end = int(body)
        except ValueError:
            raise FlowError(f"{s}: syntax error expecting [] or [<bit>] or [<start>..<end>]") from None
        rest = rest[close + 1:]
    if start > end:
        raise FlowError(f"{s}: starting bit {start} is after ending bit {end}")
    if start >= width:
        raise FlowError(f"{s}: starting bit {start} is not valid because field is only {width} bits wide")
    if end >= width:
        raise FlowError(f"{s}: ending bit {end} is not valid because field is only {width} bits wide")
    if whole and rest:
        raise FlowError(f"{s}: trailing garbage following subfield")
    return Subfield(spec.name, start, end - start + 1), rest


def format_subfield(sf: Subfield) -> str:
    """mf_format_subfield."""
    name = NXM_NAME.get(sf.name, sf.name)
    if sf.ofs == 0 and sf.n_bits == field_bits(sf.spec):
        return f"{name}[]"
    if sf.n_bits == 1:
        return f"{name}[{sf.ofs}]"
    return f"{name}[{sf.ofs}..{sf.ofs + sf.n_bits - 1}]"


def _hex(v: int) -> str:
    """ds_put_hex: `0x` and the digits, `0` for zero."""
    return f"{v:#x}" if v else "0"


def mf_format(spec: FieldSpec, v: int) -> str:
    """mf_format of a whole field's value."""
    if spec.kind == "mac":
        return format_mac(v)
    if spec.kind == "ip":
        return int_to_ip(v)
    if spec.kind == "port" or spec.name in _DECIMAL:
        return str(v)
    return _hex(v)


def _modelled(sf: Subfield) -> None:
    if sf.name in _NOT_MODELLED:
        raise FlowError(f"netplex: move and learn on {sf.name} are not supported")


# -- move ---------------------------------------------------------------------
def parse_move(value: str) -> tuple[Subfield, Subfield]:
    """nxm_parse_reg_move: `SRC->DST` of equal widths."""
    src, rest = parse_subfield(value, whole=False)
    if not rest.startswith("->"):
        raise FlowError(f"{value}: missing `->' following source")
    dst, _ = parse_subfield(rest[2:])
    if src.n_bits != dst.n_bits:
        raise FlowError(f"{value}: source field is {src.n_bits} bits wide but destination is {dst.n_bits} bits wide")
    _modelled(src)
    _modelled(dst)
    return src, dst


def move_check(src: Subfield, dst: Subfield, m: Match) -> None:
    """nxm_reg_move_check: both fields' prerequisites in the flow's match, a writable destination."""
    if not prereq_ok(src.spec.prereq, m) or not prereq_ok(dst.spec.prereq, m):
        raise FlowError(MATCH_INCONSISTENT)
    if dst.name in _READ_ONLY:
        raise FlowError(BAD_SET_ARGUMENT)


def read_subfield(sf: Subfield, flow: dict[str, int]) -> int:
    return (flow.get(sf.spec.key, 0) >> sf.ofs) & ((1 << sf.n_bits) - 1)


def write_subfield(sf: Subfield, value: int, flow: dict[str, int]) -> None:
    key = sf.spec.key
    flow[key] = (flow.get(key, 0) & ~sf.mask) | ((value << sf.ofs) & sf.mask)


# -- learn --------------------------------------------------------------------
@dataclass(slots=True)
class LearnSpec:
    """struct ofpact_learn_spec: `dst` matched (`match`), loaded (`load`) or output to
    (`output`, no dst), from the packet's `src` or the immediate `imm`."""

    kind: str
    dst: Subfield | None
    src: Subfield | None = None
    imm: int = 0


@dataclass(slots=True)
class Learn:
    """struct ofpact_learn."""

    table: int = 1
    idle_timeout: int = OFP_FLOW_PERMANENT
    hard_timeout: int = OFP_FLOW_PERMANENT
    fin_idle_timeout: int = 0
    fin_hard_timeout: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    cookie: int = 0
    send_flow_rem: bool = False
    delete_learned: bool = False
    limit: int = 0
    result_dst: Subfield | None = None
    specs: list[LearnSpec] = field(default_factory=list)


def _atoi(s: str) -> int:
    """atoi: the leading decimal digits (0 for none)."""
    s = s.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    n = 0
    for ch in s:
        if not ch.isdigit():
            break
        n = n * 10 + int(ch)
    return sign * n


def _strtoull(s: str) -> int:
    s = s.strip().lower()
    base, digits = 10, s
    if s.startswith("0x"):
        base, digits = 16, s[2:]
    elif s.startswith("0") and len(s) > 1:
        base, digits = 8, s[1:]
    n = 0
    for ch in digits:
        d = int(ch, 16) if ch in "0123456789abcdef" else 99
        if d >= base:
            break
        n = n * base + d
    return n & ((1 << 64) - 1)


def _parse_int_prefix(s: str) -> tuple[int | None, str]:
    """parse_int_string: a number (0x hex or decimal) at the start of `s` and what follows."""
    t = s.strip()
    if t[:2].lower() == "0x":
        i = 2
        while i < len(t) and t[i] in "0123456789abcdefABCDEF":
            i += 1
        return (int(t[2:i], 16), t[i:]) if i > 2 else (None, s)
    i = 0
    while i < len(t) and t[i].isdigit():
        i += 1
    return (int(t[:i]), t[i:]) if i else (None, s)


def _split_kv(arg: str) -> list[tuple[str, str]]:
    """ofputil_parse_key_value over learn's arguments: `key=value`, `key:value` or `key`."""
    out: list[tuple[str, str]] = []
    depth = 0
    cur = ""
    parts: list[str] = []
    for ch in arg:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch in ", \t" and depth == 0:
            if cur:
                parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    for p in parts:
        i = min([j for j in (p.find("="), p.find(":")) if j >= 0], default=-1)
        out.append((p, "") if i < 0 else (p[:i], p[i + 1:]))
    return out


def parse_learn(arg: str, port_no: Callable[[str], int | None]) -> Learn:
    """learn_parse__: the text inside `learn(...)`, with its errors."""
    orig = arg
    learn = Learn()
    for name, value in _split_kv(arg):
        if name == "table":
            t = _atoi(value) if value.strip().isdigit() else None
            if t is None or t > 255:
                raise FlowError(f'unknown table "{value}"')
            if t == 255:
                raise FlowError(f"{orig}: table id 255 not valid for `learn' action")
            learn.table = t
        elif name in ("priority", "idle_timeout", "hard_timeout", "fin_idle_timeout", "fin_hard_timeout"):
            setattr(learn, name, _atoi(value) & 0xFFFF)
        elif name == "cookie":
            learn.cookie = _strtoull(value)
        elif name == "send_flow_rem":
            learn.send_flow_rem = True
        elif name == "delete_learned":
            learn.delete_learned = True
        elif name == "limit":
            learn.limit = _atoi(value) & 0xFFFFFFFF
        elif name == "result_dst":
            sf, _ = parse_subfield(value)
            if sf.name in _READ_ONLY:
                raise FlowError(f"{value} is read-only")
            if sf.n_bits != 1:
                raise FlowError("result_dst in 'learn' action must be a single bit")
            learn.result_dst = sf
        else:
            learn.specs.append(_parse_spec(orig, name, value, port_no))
    if learn.fin_idle_timeout or learn.fin_hard_timeout:
        raise FlowError("netplex: learn(fin_idle_timeout, fin_hard_timeout) is not supported")
    if learn.delete_learned:
        raise FlowError("netplex: learn(delete_learned) is not supported")
    for sp in learn.specs:
        for part in (sp.src, sp.dst):
            if part is not None:
                _modelled(part)
    return learn


def _parse_spec(orig: str, name: str, value: str, port_no: Callable[[str], int | None]) -> LearnSpec:
    """learn_parse_spec."""
    if name.partition("[")[0] in _NO_NXM:
        raise FlowError(f"{orig}: experimenter OXM field '{name}' not supported")
    try:
        dst: Subfield | None = parse_subfield(name)[0]
    except FlowError:
        dst = None
    if dst is not None:
        if not value:
            return LearnSpec("match", dst, dst)
        try:
            src = parse_subfield(value)[0]
        except FlowError as sub_err:
            spec = dst.spec
            try:
                if dst.ofs == 0 and dst.n_bits == field_bits(spec):
                    imm = parse_field_value(spec, value, port_no)[0]
                else:
                    n, tail = _parse_int_prefix(value)
                    if n is None or tail:
                        raise FlowError(f"{orig}: cannot parse integer value")
                    if n >> dst.n_bits:
                        raise FlowError(f"{orig}: value {mf_format(spec, n)} does not fit into {dst.n_bits} bits")
                    imm = n
            except FlowError as imm_err:
                raise FlowError(f"{orig}: {name} value {value} cannot be parsed as a subfield ({sub_err}) or an "
                                f"immediate value ({imm_err})") from None
            return LearnSpec("match", dst, None, imm)
        if src.n_bits != dst.n_bits:
            raise FlowError(f"{orig}: bit widths of {name} ({src.n_bits}) and {value} ({dst.n_bits}) differ")
        return LearnSpec("match", dst, src)
    if name == "load":
        arrow = value.find("->")
        if arrow == 0:
            raise FlowError(f"load: missing source before `->' in `{value}'")
        if arrow < 0:
            raise FlowError(f"load: missing `->' in `{value}'")
        n, tail = _parse_int_prefix(value)
        if n is not None:
            if not tail.startswith("->") or value.find(tail) != arrow:
                raise FlowError(f"load: garbage before `->' in `{value}'")
            target = value[arrow + 2:]
            if target.partition("[")[0] in _NO_NXM:
                raise FlowError(f"{value}: experimenter OXM field '{target}' not supported")
            ldst, _ = parse_subfield(target)
            if n >> ldst.n_bits:
                raise FlowError(f"{value}: value does not fit into {ldst.n_bits} bits")
            return LearnSpec("load", ldst, None, n)
        src, ldst = parse_move(value)
        return LearnSpec("load", ldst, src)
    if name == "output":
        return LearnSpec("output", None, parse_subfield(value)[0])
    raise FlowError(f"{orig}: unknown keyword {name}")


def format_learn(learn: Learn) -> str:
    """learn_format."""
    parts = [f"table={learn.table}"]
    if learn.idle_timeout != OFP_FLOW_PERMANENT:
        parts.append(f"idle_timeout={learn.idle_timeout}")
    if learn.hard_timeout != OFP_FLOW_PERMANENT:
        parts.append(f"hard_timeout={learn.hard_timeout}")
    if learn.priority != OFP_DEFAULT_PRIORITY:
        parts.append(f"priority={learn.priority}")
    if learn.send_flow_rem:
        parts.append("send_flow_rem")
    if learn.cookie:
        parts.append(f"cookie={learn.cookie:#x}")
    if learn.limit:
        parts.append(f"limit={learn.limit}")
    if learn.result_dst is not None:
        parts.append(f"result_dst={format_subfield(learn.result_dst)}")
    for sp in learn.specs:
        if sp.kind == "match" and sp.dst is not None and sp.src is None:
            spec = sp.dst.spec
            if sp.dst.ofs == 0 and sp.dst.n_bits == field_bits(spec):
                parts.append(f"{spec.name}={mf_format(spec, sp.imm)}")
            else:
                parts.append(f"{format_subfield(sp.dst)}={_hex(sp.imm)}")
        elif sp.kind == "match" and sp.dst is not None and sp.src is not None:
            same = sp.src.name == sp.dst.name and sp.src.ofs == sp.dst.ofs
            parts.append(format_subfield(sp.dst) + ("" if same else f"={format_subfield(sp.src)}"))
        elif sp.kind == "load" and sp.dst is not None:
            src = _hex(sp.imm) if sp.src is None else format_subfield(sp.src)
            parts.append(f"load:{src}->{format_subfield(sp.dst)}")
        elif sp.src is not None:
            parts.append(f"output:{format_subfield(sp.src)}")
    return f"learn({','.join(parts)})"


def learn_check(learn: Learn, m: Match) -> None:
    """learn_check: sources' prerequisites in the flow's match; each matched or loaded
    destination's in the match the immediate values before it build; writable loads."""
    dst_match = Match()
    for sp in learn.specs:
        if sp.src is not None and not prereq_ok(sp.src.spec.prereq, m):
            raise FlowError(MATCH_INCONSISTENT)
        if sp.dst is None:
            continue
        if not prereq_ok(sp.dst.spec.prereq, dst_match):
            raise FlowError(MATCH_INCONSISTENT)
        if sp.kind == "match" and sp.src is None:
            key = sp.dst.spec.key
            old_v, old_m = dst_match.fields.get(key, (0, 0))
            dst_match.set(key, (old_v & ~sp.dst.mask) | (sp.imm << sp.dst.ofs), old_m | sp.dst.mask)
        elif sp.kind == "load" and sp.dst.name in _READ_ONLY:
            raise FlowError(BAD_SET_ARGUMENT)


OFPP_MAX = 0xFF00
_LEARN_OUTPUTS = {0xFFF8, 0xFFFB, 0xFFFE, 0xFFFC}     # IN_PORT, FLOOD, LOCAL, ALL


def learn_execute(learn: Learn, flow: dict[str, int]) -> tuple[Match, list[tuple[str, object]]]:
    """learn_execute: the learned flow's match and its actions, as (`load`, (value, dst)) and
    (`output`, port) pairs, for this packet's flow."""
    m = Match()
    acts: list[tuple[str, object]] = []
    for sp in learn.specs:
        value = read_subfield(sp.src, flow) if sp.src is not None else sp.imm
        if sp.kind == "match" and sp.dst is not None:
            key = sp.dst.spec.key
            old_v, old_m = m.fields.get(key, (0, 0))
            m.set(key, (old_v & ~sp.dst.mask) | (value << sp.dst.ofs), old_m | sp.dst.mask)
        elif sp.kind == "load" and sp.dst is not None:
            acts.append(("load", (value, sp.dst)))
        elif sp.kind == "output" and sp.src is not None and (sp.src.n_bits <= 16 or value <= 0xFFFF):
            port = value & 0xFFFF
            if port < OFPP_MAX or port in _LEARN_OUTPUTS:
                acts.append(("output", port))
    return m, acts
