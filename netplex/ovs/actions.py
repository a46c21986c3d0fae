"""OpenFlow actions as ovs-ofctl parses and prints them (ovs-actions(7),
lib/ofp-actions.c: the ofpact_* structures, parse_* and format_*).

An action list is a list of `Act`: a kind (`output`, `normal`, `set_field`,
`resubmit`, `ct`, ...) and its arguments. `parse_actions` reads ovs-ofctl's
text with its errors; `format_actions` prints a list in the protocol's
spelling (OpenFlow 1.0 with Nicira extensions, or 1.3: `mod_dl_src` there is
`set_field:...->eth_src`), as `dump-flows` shows it. Executing them is
`xlate.py`'s job.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netplex.ovs.flow import (
    MATCH_FIELDS,
    FieldSpec,
    FlowError,
    _parse_int,
    c_hex,
    format_mac,
    parse_ip_masked,
    parse_mac_masked,
)
from netplex.ovs.learn import NXM_NAME, format_learn, format_subfield, parse_learn, parse_move, parse_subfield
from netplex.packet.addr import int_to_ip

__all__ = ["Act", "OFPP", "as_encoded", "execute_action_set", "field_key", "format_act", "format_actions", "parse_actions",
           "split_top", "wire_actions"]

# reserved port numbers (OFPP_* in OpenFlow 1.0's 16-bit space, as ovs-ofctl prints them)
OFPP: dict[str, int] = {"IN_PORT": 0xFFF8, "TABLE": 0xFFF9, "NORMAL": 0xFFFA, "FLOOD": 0xFFFB, "ALL": 0xFFFC,
                        "CONTROLLER": 0xFFFD, "LOCAL": 0xFFFE, "ANY": 0xFFFF, "NONE": 0xFFFF}
OFPP_NAMES = {v: k for k, v in OFPP.items() if k != "NONE"}

# set_field targets that have an OpenFlow 1.0 action of their own: field → its legacy name
_LEGACY_SET = {"eth_src": "mod_dl_src", "eth_dst": "mod_dl_dst", "ip_src": "mod_nw_src", "ip_dst": "mod_nw_dst",
               "tcp_src": "mod_tp_src", "tcp_dst": "mod_tp_dst", "udp_src": "mod_tp_src", "udp_dst": "mod_tp_dst"}
_LEGACY_FIELD = {"mod_dl_src": "eth_src", "mod_dl_dst": "eth_dst", "mod_nw_src": "ip_src", "mod_nw_dst": "ip_dst",
                 "mod_tp_src": "tcp_src", "mod_tp_dst": "tcp_dst"}
_L4_NAMES = {6: "tcp", 17: "udp", 132: "sctp"}
_NXM_NAMES = {**{f"reg{i}": f"NXM_NX_REG{i}" for i in range(16)}, "metadata": "OXM_OF_METADATA",
              "tun_id": "NXM_NX_TUN_ID", "tun_src": "NXM_NX_TUN_IPV4_SRC", "tun_dst": "NXM_NX_TUN_IPV4_DST",
              "eth_src": "NXM_OF_ETH_SRC", "eth_dst": "NXM_OF_ETH_DST",
              "ip_src": "NXM_OF_IP_SRC", "ip_dst": "NXM_OF_IP_DST", "ct_mark": "NXM_NX_CT_MARK",
              "pkt_mark": "NXM_NX_PKT_MARK", "vlan_tci": "NXM_OF_VLAN_TCI", "tcp_src": "NXM_OF_TCP_SRC",
              "tcp_dst": "NXM_OF_TCP_DST", "ip_proto": "NXM_OF_IP_PROTO", "nw_proto": "NXM_OF_IP_PROTO",
              "in_port": "NXM_OF_IN_PORT", "eth_type": "NXM_OF_ETH_TYPE"}
_BY_NXM = {v: k for k, v in _NXM_NAMES.items()}
_DECIMAL_NXM = ("tcp_src", "tcp_dst", "ip_proto", "nw_proto")     # MFS_DECIMAL fields among them
_UNSUPPORTED = ("multipath", "bundle", "bundle_load", "output_reg", "sample",
                "clone", "check_pkt_larger", "conjunction", "encap", "decap", "fin_timeout", "push_mpls",
                "pop_mpls", "set_mpls_label", "set_mpls_tc", "set_mpls_ttl", "dec_mpls_ttl", "exit",
                "stack_push", "stack_pop", "debug_recirc", "debug_slow")
# OVS's instructions (enum ovs_instruction_type) in the order a flow must give them; every
# other action is part of apply_actions
_INSTRUCTIONS = ("meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table")
# action-set slots (ACTION_SET_ORDER: only the last of each kind is kept, run in this order)
# and final actions (ACTION_SET_FINAL_PRIORITY: the set runs only with one; the later wins)
_SET_SLOTS = ("strip_vlan", "push_vlan", "dec_ttl")
_SET_FINAL = ("ct", "ct_clear", "resubmit", "output", "group")
_RESERVED_OUTPUTS = ("normal", "flood", "all", "local", "in_port")     # OFPACT_OUTPUT to a reserved port
_SET_OR_MOVE = ("set_field", "load", "move", "set_vlan_vid", "set_vlan_pcp", "mod_nw_ttl", "set_queue", "set_tunnel")


@dataclass(slots=True)
class Act:
    """One ofpact: `kind` and its arguments (see `format_act` for each kind's)."""

    kind: str
    a: Any = None
    b: Any = None
    c: Any = None


def split_top(s: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside parentheses (ofputil_parse_key_value's nesting); with the
    default `,`, white space outside parentheses delimits too (`in_port=1 dl_vlan=9
    actions=strip_vlan output:0`), a run of delimiters counting as one."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    if sep == ",":
        s = _commas(s)
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _commas(s: str) -> str:
    """White space outside parentheses as the comma it stands for (none next to a comma)."""
    out: list[str] = []
    depth = 0
    pending = False         # white space seen at depth 0, not yet written
    for ch in s.strip():
        if depth == 0 and ch in " \t\r\n":
            pending = True
            continue
        if pending:
            if ch != "," and out and out[-1] != ",":
                out.append(",")
            pending = False
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        out.append(ch)
    return "".join(out)


def _key_value(item: str) -> tuple[str, str]:
    """`key:value`, `key=value` or `key(value)` → (key, value)."""
    item = item.strip()
    for i, ch in enumerate(item):
        if ch in ":=":
            return item[:i], item[i + 1:]
        if ch == "(":
            if not item.endswith(")"):
                return item[:i], item[i + 1:]
            return item[:i], item[i + 1:-1]
    return item, ""


def _field_spec(name: str) -> FieldSpec:
    spec = MATCH_FIELDS.get(name)
    if spec is None:
        raise FlowError(f"{name} is not a valid OXM field name")
    return spec


# fields a set_field may not write (mf_field's `writable`)
_READ_ONLY = frozenset({"eth_type", "nw_proto", "ct_state", "ct_zone", "tcp_flags"})


def _subvalue_text(field: str, v: int) -> str:
    """mf_format of a value too large for its subfield: in its field's own notation."""
    spec = MATCH_FIELDS.get(_BY_NXM.get(field, field))
    if spec is not None and spec.kind == "mac":
        return ":".join(f"{b:02x}" for b in (v & ((1 << 48) - 1)).to_bytes(6, "big"))
    return f"{v:#x}"


def field_key(field: str) -> str:
    """The flow key a set_field/load destination writes."""
    spec = MATCH_FIELDS.get(field) or MATCH_FIELDS[_BY_NXM.get(field, field)]
    return spec.key


def _parse_ct(text: str, table: int) -> Act:
    """parse_CT: commit, force, table=, zone=, nat[(src|dst[=ADDR[-ADDR][:PORT[-PORT]]])], exec(...)."""
    commit = False
    recirc: int | None = None
    zone = 0
    nat: tuple[str, str] | None = None
    force = False
    for item in split_top(text):
        item = item.strip()
        if not item:
            continue
        key, value = _key_value(item)
        if key == "commit":
            commit = True
        elif key == "table":
            t = _parse_int(value)
            if t is None or t > 255:
                raise FlowError(f"unknown table {value}")
            if t == 255:
                raise FlowError("invalid table 0xff")
            recirc = t
        elif key == "zone":
            z = _parse_int(value)
            if z is None or z > 0xFFFF:
                raise FlowError(f"netplex: ct(zone={value}) is not supported (an immediate zone only)")
            zone = z
        elif key == "nat":
            kind, _, rng = value.partition("=")
            if value and kind not in ("src", "dst"):
                raise FlowError(f"Invalid argument to \"nat\": {value}")
            if rng:
                lo = rng.split(",")[0].split(":")[0].split("-")[0]
                parse_ip_masked(lo)
            nat = (kind, rng)
        elif key == "force":
            force = True
        elif key in ("alg", "exec"):
            raise FlowError(f"netplex: ct({key}) is not supported")
        else:
            raise FlowError(f"invalid argument to \"ct\" action: `{key}'")
    if force:
        if not commit:
            raise FlowError('"force" flag requires "commit" flag.')
        raise FlowError("netplex: ct(force) is not supported")
    return Act("ct", (commit, recirc, zone), nat)


def parse_actions(text: str, port_no: Callable[[str], int | None], table: int = 0,
                  of_version: int = 1, outer: str | None = None) -> list[Act]:
    """ofpacts_parse: the text after `actions=`; refuses as ovs-ofctl does. `outer`: the
    actions are nested in write_actions(...) or a group's bucket (`group`), where
    instructions are not allowed (ofpacts_verify's allowed_ovsinsts)."""
    acts: list[Act] = []
    saw_drop = False
    goto: int | None = None
    inst = 0
    items = [i for i in split_top(text)]
    if text.strip() == "":
        return []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        key, value = _key_value(item)
        k = key.lower()
        if k == "apply_actions":
            raise FlowError("apply_actions is the default instruction")
        if k != "drop":
            nxt = _INSTRUCTIONS.index(k) if k in _INSTRUCTIONS[2:] else 1 if k != "meter" or outer else 0
            if (acts or goto is not None) and (nxt < inst if inst == 1 else nxt <= inst):
                name, nname = _INSTRUCTIONS[inst], _INSTRUCTIONS[nxt]
                if nxt == inst:
                    raise FlowError(f"duplicate {name} instruction not allowed, for OpenFlow 1.1+ compatibility")
                raise FlowError(f"invalid instruction ordering: {nname} must appear before {name}, "
                                "for OpenFlow 1.1+ compatibility")
            if outer is not None and nxt > 1:
                raise FlowError(f"{_INSTRUCTIONS[nxt]} instruction not allowed here")
            inst = nxt
        if k == "drop":
            saw_drop = True
            continue
        if k in ("normal", "flood", "all", "local", "in_port") and not value:
            acts.append(Act(k))
        elif k == "controller":
            max_len = 65535
            if value:
                for part in split_top(value):
                    pk, _, pv = part.partition("=")
                    if pk == "max_len" or pk.isdigit():
                        n = _parse_int(pv if pk == "max_len" else pk)
                        if n is None:
                            raise FlowError(f'invalid controller max_len "{pv}"')
                        max_len = n
                    elif pk in ("reason", "id", "userdata", "pause", "meter_id"):
                        raise FlowError(f"netplex: controller({pk}=...) is not supported")
                    else:
                        raise FlowError(f'unknown key "{pk}" parsing controller action')
            acts.append(Act("controller", max_len))
        elif k == "output":
            n = port_no(value)
            if n is None:
                raise FlowError(f"{value}: output to unknown port")
            acts.append(Act("output", n))
        elif k == "enqueue":
            port, sep, q = value.partition(":") if ":" in value else value.partition(",")
            if not sep or not port or not q:
                raise FlowError('"enqueue" syntax is "enqueue:PORT:QUEUE" or "enqueue(PORT,QUEUE)"')
            n = port_no(port)
            if n is None:
                raise FlowError(f"{port}: enqueue to unknown port")
            qn = _parse_int(q)
            if qn is None or qn > 0xFFFFFFFF:
                raise FlowError(f'invalid queue "{q}"')
            acts.append(Act("enqueue", n, qn))
        elif k == "set_queue":
            n = _parse_int(value)
            if n is None:
                raise FlowError(f"{value}: invalid queue id")
            acts.append(Act("set_queue", n))
        elif k in ("mod_vlan_vid", "set_vlan_vid"):
            n = _parse_int(value)
            if n is None or n > 4095:
                raise FlowError(f"{value}: not a valid VLAN VID")
            acts.append(Act("set_vlan_vid", n, True))
        elif k in ("mod_vlan_pcp", "set_vlan_pcp"):
            n = _parse_int(value)
            if n is None or n > 7:
                raise FlowError(f"{value}: not a valid VLAN PCP")
            acts.append(Act("set_vlan_pcp", n, True))
        elif k in ("strip_vlan", "pop_vlan"):
            acts.append(Act("strip_vlan", k == "pop_vlan"))
        elif k == "push_vlan":
            n = _parse_int(value)
            if n not in (0x8100, 0x88A8):
                raise FlowError(f"{value}: not a valid VLAN ethertype")
            acts.append(Act("push_vlan", n))
        elif k in ("mod_dl_src", "mod_dl_dst"):
            acts.append(Act("set_field", _LEGACY_FIELD[k], parse_mac_masked(value)[0], "legacy"))
        elif k in ("mod_nw_src", "mod_nw_dst"):
            acts.append(Act("set_field", _LEGACY_FIELD[k], parse_ip_masked(value)[0], "legacy"))
        elif k in ("mod_tp_src", "mod_tp_dst"):
            n = _parse_int(value)
            if n is None or n > 0xFFFF:
                raise FlowError(f"{value}: invalid TCP/UDP port" if n is None else f"{value}: value too large")
            acts.append(Act("set_field", _LEGACY_FIELD[k], n, "legacy"))
        elif k == "mod_nw_tos":
            n = _parse_int(value)
            if n is None or n & ~0xFC:
                raise FlowError(f'invalid IP_DSCP "{value}"' if n is None else f"{value}: not a valid TOS")
            acts.append(Act("set_field", "ip_dscp", n >> 2, "legacy"))
        elif k == "mod_nw_ttl":
            n = _parse_int(value)
            if n is None or n > 255:
                raise FlowError(f"invalid TTL \"{value}\"")
            acts.append(Act("mod_nw_ttl", n))
        elif k == "dec_ttl":
            if value:       # dec_ttl(id,...): the controllers told when the TTL runs out
                if not any(x.strip() for x in value.split(",")):
                    raise FlowError("dec_ttl_cnt_ids: expected at least one controller id.")
                raise FlowError("netplex: dec_ttl(controller ids) is not supported")
            acts.append(Act("dec_ttl"))
        elif k == "set_field":
            val, arrow, field = value.partition("->")
            if not arrow:
                raise FlowError(f"{value}: missing `->'")
            fname = field.strip()
            if not fname:
                raise FlowError(f"{value}: missing field name following `->'")
            spec = _field_spec(_BY_NXM.get(fname, fname))
            if spec.name in _READ_ONLY:
                raise FlowError(f"{spec.name} is read-only")
            if spec.key.startswith("ct_"):
                raise FlowError("cannot set CT fields outside of ct action")
            v = _parse_set_value(spec, val)
            if spec.kind == "dscp6" and v > 0x3F:
                raise FlowError(f"{val} is not a valid value for field {spec.name}")
            acts.append(Act("set_field", _canon(fname, spec), v, "set_field"))
        elif k == "load":
            val, arrow, dst = value.partition("->")
            if not arrow:
                raise FlowError(f"{value}: missing `->'")
            sf, _ = parse_subfield(dst)
            field, ofs, nbits = sf.name, sf.ofs, sf.n_bits
            n = _parse_int(val)
            if n is None:
                raise FlowError(f"{value}: cannot parse integer value")
            if nbits < 64 and n >> nbits:
                raise FlowError(f"{value}: value {_subvalue_text(field, n)} does not fit into {nbits} bits")
            acts.append(Act("load", n, (field, ofs, nbits), None))
        elif k == "move":
            move_src, move_dst = parse_move(value)
            acts.append(Act("move", move_src, move_dst))
        elif k in ("push", "pop"):     # nxm_parse_stack_action: a subfield (a bare name is the whole field)
            sf, rest = parse_subfield(value, whole=False)
            if rest:
                raise FlowError(f"{rest}: trailing garbage following push or pop")
            acts.append(Act(k, sf))
        elif k == "learn":
            acts.append(Act("learn", parse_learn(value, port_no)))
        elif k == "resubmit":
            acts.append(_parse_resubmit(value, port_no))
        elif k == "goto_table":
            t = _parse_int(value)
            if t is None or t > 254:
                raise FlowError(f'unknown table "{value}"')
            if t <= table:
                raise FlowError("actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)")
            goto = t
            if of_version < 2:
                acts.append(Act("resubmit", None, t))
            else:
                acts.append(Act("goto_table", t))
        elif k == "write_metadata":
            vt, _, mt = value.partition("/")
            vi, mi = _parse_int(vt), _parse_int(mt) if mt else (1 << 64) - 1
            if vi is None or mi is None:
                raise FlowError(f"{value}: invalid metadata")
            acts.append(Act("write_metadata", vi, mi))
        elif k == "clear_actions":
            acts.append(Act("clear_actions"))
        elif k == "write_actions":
            nested = parse_actions(value, port_no, table, of_version, "write_actions")
            bad = next((a.kind for a in nested if a.kind == "meter"), None)
            if bad:
                raise FlowError(f"write_actions action doesn't support nested action {bad}")
            acts.append(Act("write_actions", nested))
        elif k == "ct":
            acts.append(_parse_ct(value, table))
        elif k == "ct_clear":
            acts.append(Act("ct_clear"))
        elif k == "note":
            hexits = value.replace(".", "")
            if len(hexits) % 2 or any(c not in "0123456789abcdefABCDEF" for c in hexits):
                raise FlowError("bad hex digit in `note' argument")
            acts.append(Act("note", ".".join(hexits[i:i + 2].lower() for i in range(0, len(hexits), 2))))
        elif k == "meter":
            n = _parse_int(value)
            if n is None:
                raise FlowError(f"invalid numeric format {value}")
            acts.append(Act("meter", n))
        elif k == "group":
            n = _parse_int(value)
            if n is None or n > 0xFFFFFF00:
                raise FlowError(f"invalid group id {value}" if n is not None else f"{value}: bad group id")
            acts.append(Act("group", n))
        elif k in ("set_tunnel", "set_tunnel64"):
            n = _parse_int(value)
            if n is None:
                raise FlowError(f"invalid numeric format {value}")
            acts.append(Act("set_tunnel", n, k == "set_tunnel64"))
        elif k in _UNSUPPORTED:
            raise FlowError(f"netplex: ovs-ofctl action {k} is not supported")
        elif k.isdigit() or (not value and port_no(key) is not None):
            n = port_no(key)
            if n is None:
                raise FlowError(f"{key}: output to unknown port")
            acts.append(Act("output", n))
        else:
            raise FlowError(f"unknown action {key}")
    if saw_drop and (acts or goto is not None):
        raise FlowError('"drop" must not be accompanied by any other action or instruction')
    return acts


def _canon(typed: str, spec: FieldSpec) -> str:
    if typed in _BY_NXM:
        return _BY_NXM[typed]
    return spec.name


def _parse_set_value(spec: FieldSpec, text: str) -> int:
    if spec.kind == "mac":
        return parse_mac_masked(text)[0]
    if spec.kind == "ip":
        return parse_ip_masked(text)[0]
    n = _parse_int(text)
    if n is None:
        raise FlowError(f"{text}: bad syntax for {spec.name} value")
    if spec.kind == "vlan_vid":
        return n
    if n >> (spec.nbytes * 8):
        raise FlowError(f"{text}: value too large for {spec.nbytes}-byte field {spec.name}")
    return n


def _parse_resubmit(value: str, port_no: Callable[[str], int | None]) -> Act:
    """parse_RESUBMIT: `resubmit:PORT`, `resubmit(PORT,TABLE)`, `resubmit(,TABLE)`."""
    if "," not in value:
        n = port_no(value)
        if n is None:
            raise FlowError(f"{value}: resubmit to unknown port")
        return Act("resubmit", n, None)
    port, _, rest = value.partition(",")
    table, _, extra = rest.partition(",")
    p = None
    if port:
        p = port_no(port)
        if p is None:
            raise FlowError(f"{port}: resubmit to unknown port")
    t = None
    if table:
        tn = _parse_int(table)
        if tn is None or tn > 255:
            raise FlowError(f"{table}: resubmit to unknown table")
        t = None if tn == 255 else tn
    ct = extra.split(",")[0]
    if ct and ct != "ct":
        raise FlowError(f"{ct}: unknown parameter")
    if ct:
        raise FlowError("netplex: resubmit(...,ct) is not supported")
    if (p is None or p == 0xFFF8) and t is None:
        raise FlowError("at least one \"in_port\" or \"table\" must be specified on resubmit")
    return Act("resubmit", p, t)


def _fmt_port(n: int) -> str:
    name = OFPP_NAMES.get(n)
    return name if name else str(n)


def _fmt_set_value(field: str, v: int) -> str:
    spec = MATCH_FIELDS.get(field) or MATCH_FIELDS.get(_BY_NXM.get(field, field))
    if spec is not None and spec.kind == "mac":
        return format_mac(v)
    if spec is not None and spec.kind == "ip":
        return int_to_ip(v)
    if field == "ip_dscp":
        return str(v)
    if spec is not None and spec.kind == "int" and (field not in _NXM_NAMES or field in _DECIMAL_NXM) \
            and not field.startswith("reg"):
        return str(v)
    return f"{v:#x}"


def wire_actions(acts: list[Act], of13: bool) -> list[Act]:
    """A rule's actions as a flow statistics reply over `of13` (1.1+) or 1.0 brings them back to
    ovs-ofctl, which prints what it decoded: over 1.0 a pop_vlan comes back as OFPAT10_STRIP_VLAN
    and a push_vlan is not sent (encode_PUSH_VLAN: the mod_vlan_vid/pcp after it pushes the tag)."""
    if of13 or not any((a.kind == "strip_vlan" and a.a) or a.kind == "push_vlan" for a in acts):
        return acts
    return [Act("strip_vlan", False) if a.kind == "strip_vlan" else a for a in acts if a.kind != "push_vlan"]


def as_encoded(acts: list[Act], of13: bool, tagged: bool = False, proto: int | None = None) -> list[Act]:
    """The actions as the switch keeps them after decoding a flow_mod (ofpact.raw, what every
    later dump and trace prints): OpenFlow 1.0 has no set_field, so ovs-ofctl sent one on a
    Nicira field as NXAST_REG_LOAD and one on a field with an action of its own as that action
    (`mod_nw_src`), and has no instructions, so write_actions and clear_actions are not sent at
    all (encode_WRITE_ACTIONS); OpenFlow 1.2+ sends `mod_nw_src`, `mod_tp_src` (as tcp_src or
    udp_src, the match's protocol: `proto`), `mod_nw_tos` (ip_dscp) and `set_tunnel` (tun_id) as
    a set_field, and `mod_vlan_vid`/`mod_vlan_pcp` as a set_field on vlan_vid/vlan_pcp after a
    `push_vlan:0x8100` where the packet has no tag yet (`tagged`: the match requires one;
    encode_SET_VLAN_VID's flow_has_vlan, which the first push makes true for the rest)."""
    out = []
    for a in acts:
        if a.kind == "write_actions":
            if of13:
                out.append(Act("write_actions", as_encoded(a.a, of13, tagged, proto)))
        elif a.kind == "clear_actions":
            if of13:
                out.append(a)
        elif a.kind == "strip_vlan" and of13:
            out.append(Act("strip_vlan", True))
            tagged = False
        elif a.kind == "push_vlan":
            out.append(a)
            tagged = True
        elif a.kind in ("set_vlan_vid", "set_vlan_pcp") and of13 and a.c != "set_field":
            if not tagged:
                out.append(Act("push_vlan", 0x8100))
                tagged = True
            out.append(Act(a.kind, a.a, False, "set_field"))
        elif a.kind == "set_tunnel" and of13 and a.c != "set_field":
            out.append(Act("set_tunnel", a.a, a.b, "set_field"))
        elif a.kind == "set_field" and of13 and a.c == "legacy" and a.a in ("eth_src", "eth_dst", "ip_src", "ip_dst",
                                                                              "ip_dscp"):
            out.append(Act("set_field", a.a, a.b, "set_field"))
        elif a.kind == "set_field" and of13 and a.c == "legacy" and a.a.startswith("tcp_") \
                and proto in _L4_NAMES:
            out.append(Act("set_field", _L4_NAMES[proto] + a.a[3:], a.b, "set_field"))
        elif a.kind == "set_field" and not of13 and a.c == "set_field" and a.a in _NXM_NAMES \
                and a.a not in _LEGACY_SET:
            out.append(Act("set_field", a.a, a.b, "reg_load"))
        elif a.kind == "set_field" and not of13 and a.c == "set_field" and a.a in _LEGACY_SET:
            out.append(Act("set_field", a.a, a.b, "legacy"))
        else:
            out.append(a)
    return out


def format_act(a: Act, of13: bool, tagged: bool, proto: int | None = None, stored: bool = False) -> str:
    """format_<ACTION> for one action; `tagged`: the flow's match requires a VLAN tag
    (then mod_vlan_vid needs no push_vlan in OpenFlow 1.1+); `proto`: the IP protocol the
    match pins (then mod_tp_* is OpenFlow 1.1+'s set_field on tcp_*/udp_*); `stored`: as
    ofproto/trace prints a rule's actions, in the spelling they arrived in."""
    k = a.kind
    if k == "output":   # format_OUTPUT: a reserved port is printed bare (`LOCAL`, `IN_PORT`)
        return _fmt_port(a.a) if a.a in OFPP_NAMES else f"output:{a.a}"
    if k in ("normal", "flood", "all", "local", "in_port"):
        return k.upper()
    if k == "controller":
        return f"CONTROLLER:{a.a}"
    if k == "enqueue":
        return f"enqueue:{_fmt_port(a.a)}:{a.b}"
    if k == "set_queue":
        return f"set_queue:{a.a}"
    if k == "set_vlan_vid":
        if a.c == "set_field" and (of13 or stored):     # OpenFlow 1.2+'s, its push_vlan an action of its own
            return f"set_field:{a.a | 0x1000}->vlan_vid"
        if of13:
            push = "" if tagged else "push_vlan:0x8100,"
            return f"{push}set_field:{a.a | 0x1000}->vlan_vid"
        return f"mod_vlan_vid:{a.a}"
    if k == "set_vlan_pcp":
        if a.c == "set_field" and (of13 or stored):
            return f"set_field:{a.a}->vlan_pcp"
        if of13:
            push = "" if tagged else "push_vlan:0x8100,"
            return f"{push}set_field:{a.a}->vlan_pcp"
        return f"mod_vlan_pcp:{a.a}"
    if k == "strip_vlan":
        return "pop_vlan" if of13 or a.a else "strip_vlan"
    if k == "push_vlan":
        return f"push_vlan:{a.a:#x}"
    if k == "set_field":
        field, v, how = a.a, a.b, a.c
        if stored and how == "set_field":
            return f"set_field:{_fmt_set_value(field, v)}->{field}"
        if field == "ip_dscp":
            return f"set_field:{v}->ip_dscp" if of13 else f"mod_nw_tos:{v << 2}"
        legacy = _LEGACY_SET.get(field)
        if legacy and field.startswith(("tcp", "udp")) and (how == "legacy" or not of13):
            l4 = _L4_NAMES.get(proto or 0)
            if of13 and l4 is not None:
                return f"set_field:{v}->{l4}{field[3:]}"
            return f"{legacy}:{v}"
        if legacy and not of13:
            return f"{legacy}:{_fmt_set_value(field, v)}"
        if field in _NXM_NAMES and (how == "reg_load" or (not of13 and not stored)):
            spec = MATCH_FIELDS[_BY_NXM.get(field, field)] if field in _BY_NXM else MATCH_FIELDS.get(field)
            name = _NXM_NAMES[field]
            return f"load:{c_hex(v)}->{name}[]"
        return f"set_field:{_fmt_set_value(field, v)}->{field}"
    if k == "load":
        field, ofs, nbits = a.b
        spec = MATCH_FIELDS.get(field) or MATCH_FIELDS[_BY_NXM[field]]
        name = _NXM_NAMES.get(field) or NXM_NAME.get(spec.name, field)
        width = spec.nbytes * 8
        rng = "" if ofs == 0 and nbits == width else (f"{ofs}" if nbits == 1 else f"{ofs}..{ofs + nbits - 1}")
        return f"load:{c_hex(a.a)}->{name}[{rng}]"
    if k == "move":
        return f"move:{format_subfield(a.a)}->{format_subfield(a.b)}"
    if k in ("push", "pop"):
        return f"{k}:{format_subfield(a.a)}"
    if k == "learn":
        return format_learn(a.a)
    if k == "mod_nw_ttl":
        return f"mod_nw_ttl:{a.a}"
    if k == "dec_ttl":
        return "dec_ttl"
    if k == "resubmit":
        port, table = a.a, a.b
        if table is None:
            return f"resubmit:{_fmt_port(port)}"
        return f"resubmit({'' if port is None else _fmt_port(port)},{table})"
    if k == "goto_table":   # OpenFlow 1.0 has no instructions: ovs-ofctl is sent a resubmit
        return f"goto_table:{a.a}" if of13 or stored else f"resubmit(,{a.a})"
    if k == "write_metadata":
        return f"write_metadata:{a.a:#x}" if a.b == (1 << 64) - 1 else f"write_metadata:{a.a:#x}/{a.b:#x}"
    if k == "ct":
        commit, recirc, zone = a.a
        parts = []
        if commit:
            parts.append("commit")
        if recirc is not None:
            parts.append(f"table={recirc}")
        if zone:
            parts.append(f"zone={zone}")
        if a.b is not None:
            kind, rng = a.b
            parts.append(f"nat({kind}={rng})" if rng else (f"nat({kind})" if kind else "nat"))
        return f"ct({','.join(parts)})"
    if k == "ct_clear":
        return "ct_clear"
    if k == "clear_actions":
        return "clear_actions"
    if k == "write_actions":
        return f"write_actions({format_actions(a.a, of13, tagged, proto, stored)})"
    if k == "note":
        # the NX note action pads its bytes so the action is a multiple of 8 long (10 + n)
        data = [b for b in str(a.a).split(".") if b]
        data += ["00"] * ((-(10 + len(data))) % 8)
        return f"note:{'.'.join(data)}"
    if k == "group":
        return f"group:{a.a}"
    if k == "meter":
        return f"meter:{a.a}"
    if k == "set_tunnel":   # format_SET_TUNNEL; OpenFlow 1.2+ has it as a set_field
        if (of13 and not stored) or (stored and a.c == "set_field"):
            return f"set_field:{c_hex(a.a)}->tun_id"
        if a.c == "set_field":      # an OpenFlow 1.2+ rule's set_field over 1.0: NXAST_REG_LOAD
            return f"load:{c_hex(a.a)}->NXM_NX_TUN_ID[]"
        return f"set_tunnel{'64' if a.b or a.a > 0xFFFFFFFF else ''}:{c_hex(a.a)}"
    raise AssertionError(k)


def format_actions(acts: list[Act], of13: bool = False, tagged: bool = False, proto: int | None = None,
                   stored: bool = False) -> str:
    """ofpacts_format: `drop` for none. Over OpenFlow 1.1+ a mod_vlan_vid/pcp pushes a tag only
    while the packet has none (ofpact_check's flow_has_vlan: one push for
    `mod_vlan_vid:5,mod_vlan_pcp:3`)."""
    if not of13 and not stored:     # OpenFlow 1.0 carries no action set instructions
        acts = [a for a in acts if a.kind not in ("write_actions", "clear_actions")]
    if not acts:
        return "drop"
    out = []
    for a in acts:
        out.append(format_act(a, of13, tagged, proto, stored))
        if a.kind in ("push_vlan", "set_vlan_vid", "set_vlan_pcp"):
            tagged = True
        elif a.kind == "strip_vlan":
            tagged = False
    return ",".join(out)


def execute_action_set(action_set: list[Act]) -> list[Act]:
    """ofpacts_execute_action_set: the action list an OpenFlow 1.1+ action set (write_actions'
    accumulated actions, or a group's bucket) runs as: the last of each slot action in the
    spec's order, every set/move in order, then the one final action (group over output over
    resubmit over ct_clear over ct, the later of a kind); nothing without a final action."""
    slots: dict[str, Act] = {}
    sets: list[Act] = []
    final: Act | None = None
    for a in action_set:
        k = a.kind
        if k in _SET_SLOTS:
            slots[k] = a
        elif k in _SET_FINAL or k in _RESERVED_OUTPUTS:
            fk = k if k in _SET_FINAL else "output"
            if final is None or _SET_FINAL.index(fk) >= _SET_FINAL.index(
                    final.kind if final.kind in _SET_FINAL else "output"):
                final = a
        elif k in _SET_OR_MOVE:
            sets.append(a)
    if final is None:
        return []
    return [slots[k] for k in _SET_SLOTS if k in slots] + sets + [final]
