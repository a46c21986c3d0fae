"""OpenFlow tables of one bridge, as ovs-vswitchd keeps them (ofproto/ofproto.c:
add_flow, modify_flows_loose/strict, delete_flows_loose/strict, rule expiry;
lib/ofp-flow.c parse_ofp_str for the text of a flow_mod, ofputil_flow_stats_format
for `dump-flows`).

`parse_flow_mod` reads ovs-ofctl's flow syntax into a `FlowMod`; `OFProto`
applies it to its tables (254 of them, as OVS has) and answers lookups: the
highest-priority rule whose match covers the packet's flow, ties going to the
older rule. Counters, durations and idle/hard timeouts are in simulated time.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netplex.ovs.actions import Act, as_encoded, format_actions, parse_actions, split_top, wire_actions
from netplex.ovs.classifier import Classifier
from netplex.ovs.flow import (
    MATCH_FIELDS,
    SHORTHANDS,
    FlowError,
    Match,
    _parse_int,
    field_prereq,
    merge_field,
    parse_field_value,
    prereq_ok,
)
from netplex.ovs.flowcache import Seq
from netplex.ovs.group import Group
from netplex.ovs.learn import MATCH_INCONSISTENT, learn_check, move_check
from netplex.ovs.meter import Meter

__all__ = ["FlowMod", "GroupModError", "N_TABLES", "NS", "OFProto", "Rule", "parse_flow_mod"]

N_TABLES = 254            # tables 0..253 (ofproto-dpif's N_TABLES, 255 is "all", 254 hidden)
OFP_DEFAULT_PRIORITY = 32768
NS = 1_000_000_000


OFPRR_DELETE = 2     # ofp_flow_removed_reason: deleted by a FLOW_MOD


@dataclass(slots=True)
class FlowMod:
    """struct ofputil_flow_mod as ovs-ofctl builds it from text."""

    match: Match
    actions: list[Act]
    table: int | None = None          # None: every table (255)
    priority: int = OFP_DEFAULT_PRIORITY
    cookie: int = 0
    cookie_mask: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0
    out_port: int | None = None
    flags: set[str] = field(default_factory=set)
    has_actions: bool = False


class GroupModError(FlowError):
    """An OFPT_ERROR the switch answers a group_mod or flow_mod with (its type and code)."""


def parse_flow_mod(text: str, command: str, port_no: Callable[[str], int | None],
                   of_version: int = 1) -> FlowMod:
    """parse_ofp_str: `command` is add, modify or delete (strictness is the caller's).

    Fields whose prerequisites are missing are dropped, as ofputil_normalize_match
    does for OpenFlow 1.0 (`tp_dst=80` without `tcp` matches everything)."""
    text = text.strip()
    actions_text: str | None = None
    idx = _find_actions(text)
    if idx >= 0:
        actions_text = text[idx:].split("=", 1)[1] if "=" in text[idx:idx + 8] else text[idx + 8:]
        text = text[:idx].rstrip(", \t")
    elif command == "add":
        raise FlowError("must specify an action")
    fm = FlowMod(Match(), [])
    m = fm.match
    pending: list[tuple[str, str]] = []
    for raw in split_top(text) if text else []:
        item = raw.strip()
        if not item:
            continue
        name, eq, value = item.partition("=")
        name = name.strip()
        value = value.strip()
        if name in SHORTHANDS and not eq:
            dl, proto = SHORTHANDS[name]
            m.set("dl_type", dl, 0xFFFF)
            if proto is not None:
                m.set("nw_proto", proto, 0xFF)
            continue
        if name == "table":
            t = _parse_int(value)
            if t is None or t > 255:
                raise FlowError(f'unknown table "{value}"')
            fm.table = None if t == 255 else t
        elif name == "priority":
            p = _parse_int(value)
            if p is None or p > 65535:
                raise FlowError(f'invalid priority "{value}"')
            fm.priority = p
        elif name in ("idle_timeout", "hard_timeout", "importance"):
            p = _parse_int(value)
            if p is None or p > 65535:
                raise FlowError(f'invalid {name} "{value}"')
            setattr(fm, name, p)
        elif name == "cookie":
            v, slash, mk = value.partition("/")
            c = _parse_int(v)
            if c is None:
                raise FlowError(f'invalid cookie "{value}"')
            if slash:
                if command == "add":
                    raise FlowError("flow additions cannot use a cookie mask")
                cm = _parse_int(mk)
                if cm is None:
                    raise FlowError(f'invalid cookie mask "{mk}"')
                fm.cookie, fm.cookie_mask = c & cm, cm
            else:
                fm.cookie = c
                if command != "add":
                    fm.cookie_mask = (1 << 64) - 1
        elif name == "out_port":
            n = port_no(value)
            if n is None:
                raise FlowError(f"{value}: invalid or unknown port for out_port")
            fm.out_port = n
        elif name in ("send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts") \
                and not eq:
            fm.flags.add(name)
        elif name in ("duration", "n_packets", "n_bytes", "idle_age", "hard_age"):
            continue   # dump-flows' own output is accepted back, these ignored (str_to_flow)
        elif name in MATCH_FIELDS:
            if not eq:
                raise FlowError(f"field {name} missing value")
            pending.append((name, value))
        else:
            raise FlowError(f"unknown keyword {name}")
    if of_version < 3 and any(MATCH_FIELDS[n].key == "tcp_flags" for n, _ in pending):
        raise FlowError("none of the usable flow formats (OXM) is among the allowed flow formats (OpenFlow10,NXM)")
    for name, value in pending:
        spec = MATCH_FIELDS[name]
        fv, fmask = parse_field_value(spec, value, port_no)
        merge_field(m, spec, fv, fmask)
    # ofputil_normalize_match: a field whose prerequisite the match lacks is dropped
    for name, _ in pending:
        spec = MATCH_FIELDS[name]
        if not field_prereq(spec, m):
            m.fields.pop(spec.key, None)
    if actions_text is not None:
        fm.has_actions = True
        fm.actions = parse_actions(actions_text, port_no, fm.table or 0, of_version)
        _check_actions(fm.actions, m)
    return fm


def _check_actions(acts: list[Act], m: Match) -> None:
    """ofpacts_check: what move, learn and set_field read and write, against the match (a
    set_field's field needs its prerequisites: `set_field:10.0.0.9->ip_src` wants `ip`), in
    write_actions' set too."""
    for a in acts:
        if a.kind == "move":
            move_check(a.a, a.b, m)
        elif a.kind == "learn":
            learn_check(a.a, m)
        elif a.kind == "set_field" and a.c == "set_field":
            spec = MATCH_FIELDS.get(a.a)
            if spec is not None and not prereq_ok(spec.prereq, m):
                raise FlowError(MATCH_INCONSISTENT)
        elif a.kind == "write_actions":
            _check_actions(a.a, m)


def _find_actions(text: str) -> int:
    """Where `actions=` (or `actions:`, or `action=`: ofp_extract_actions looks for
    "action" and the `=` after it) begins, outside parentheses; -1 for none."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith("action", i) and (i == 0 or text[i - 1] in ", \t") \
                and (text[i + 6:i + 7] == "=" or text.startswith("actions", i) and text[i + 7:i + 8] in ("=", ":")):
            return i
        elif depth == 0 and text.startswith("apply_actions(", i):
            return -1
    return -1


def _mask_key(m: Match) -> tuple[tuple[str, int], ...]:
    """A classifier subtable's identity: which fields a rule matches, with which masks."""
    return tuple(sorted((k, mask) for k, (_v, mask) in m.fields.items()))


class Rule:
    """struct rule: one flow in one table, with its counters."""

    __slots__ = ("table", "match", "priority", "actions", "cookie", "idle_timeout", "hard_timeout", "importance",
                 "flags", "created", "modified", "used", "n_packets", "n_bytes", "seq", "of13_added")

    def __init__(self, fm: FlowMod, table: int, now: int, seq: int, of13: bool) -> None:
        self.table = table
        self.match = fm.match
        self.priority = fm.priority
        self.cookie = fm.cookie
        self.actions = as_encoded(fm.actions, of13, *fm.match.vlan_and_proto())
        self.idle_timeout = fm.idle_timeout
        self.hard_timeout = fm.hard_timeout
        self.importance = fm.importance
        self.flags = set(fm.flags)
        if not of13:
            self.flags.add("reset_counts")   # an OpenFlow 1.0 add always resets the counters
        self.created = self.modified = self.used = now
        self.n_packets = self.n_bytes = 0
        self.seq = seq
        self.of13_added = of13

    def expired(self, now: int) -> bool:
        if self.hard_timeout and now - self.modified >= self.hard_timeout * NS:
            return True
        return bool(self.idle_timeout and now - self.used >= self.idle_timeout * NS)

    def outputs_to(self, port: int) -> bool:
        return any(a.kind in ("output", "enqueue") and a.a == port for a in self.actions)

    def format(self, now: int, stats: bool, of13: bool, show_table: bool = True) -> str:
        """ofputil_flow_stats_format: one line of `dump-flows`."""
        parts: list[str] = []
        if stats or self.cookie:
            parts.append(f"cookie={self.cookie:#x}")
        if stats:
            d = now - self.created
            parts.append(f"duration={d // NS}.{d % NS // 1_000_000:03d}s")
        if stats or self.table:
            parts.append(f"table={self.table}")
        if stats:
            parts.append(f"n_packets={self.n_packets}")
            parts.append(f"n_bytes={self.n_bytes}")
        if self.idle_timeout:
            parts.append(f"idle_timeout={self.idle_timeout}")
        if self.hard_timeout:
            parts.append(f"hard_timeout={self.hard_timeout}")
        head = " " + ", ".join(parts) + (", " if parts else "")
        flags = "".join(f"{f} " for f in ("send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
                                           "no_byte_counts") if f in self.flags and (of13 or f != "reset_counts"))
        if self.importance:
            head += f"importance={self.importance}, "
        if stats and not of13:
            idle_age = (now - self.used) // NS
            head += f"idle_age={idle_age}, "
            hard_age = (now - self.modified) // NS
            if hard_age != (now - self.created) // NS:
                head += f"hard_age={hard_age}, "
        m = self.match.format(self.priority)
        acts = format_actions(wire_actions(self.actions, of13), of13, *self.match.vlan_and_proto())
        return f"{head}{flags}{m + ' ' if m else ''}actions={acts}"


class OFProto:
    """The OpenFlow side of one bridge: its tables and their statistics."""

    def __init__(self, now: Callable[[], int], changes: Seq | None = None) -> None:
        self.now = now
        self.changes = changes if changes is not None else Seq()   # ovs-vswitchd's: its flow cache's validity
        self.tables: list[list[Rule]] = [[] for _ in range(N_TABLES)]
        self.lookups = [0] * N_TABLES
        self.matched = [0] * N_TABLES
        self.seq = 0
        # per table, the classifier's subtables (tuple space search): one hash of masked
        # values → rules per set of (field, mask), with its highest priority; rebuilt on change
        self.index: dict[int, Classifier] = {}
        self.groups: dict[int, Group] = {}
        self.meters: dict[int, Meter] = {}
        # who hears of a rule that went, with its reason (OFPRR_IDLE_TIMEOUT 0, OFPRR_HARD_TIMEOUT 1,
        # OFPRR_DELETE 2): the OpenFlow channels, which send FLOW_REMOVED for send_flow_rem rules
        # (connmgr.py)
        self.removed: list[Callable[[Rule, int], None]] = []

    # -- meter_mod (ofproto.c handle_add_meter, handle_modify_meter, handle_delete_meter) --------
    def add_meter(self, m: Meter) -> None:
        if m.meter_id in self.meters:
            raise GroupModError("OFPMMFC_METER_EXISTS")
        used = {x.dp_id for x in self.meters.values()}
        m.dp_id = next(i for i in range(len(used) + 1) if i not in used)   # the datapath's id pool
        m.created = self.now()
        self.meters[m.meter_id] = m
        self.changes.change()

    def modify_meter(self, m: Meter) -> None:
        old = self.meters.get(m.meter_id)
        if old is None:
            raise GroupModError("OFPMMFC_UNKNOWN_METER")
        m.dp_id, m.created = old.dp_id, old.created
        self.meters[m.meter_id] = m
        self.changes.change()

    def delete_meter(self, meter_id: int) -> None:
        """The meter (all of them for OFPM_ALL) and the flows that use it."""
        self._delete_used(self.meters, "meter", meter_id)

    # -- group_mod (ofproto.c add_group, modify_group, delete_group) --------------
    def add_group(self, g: Group) -> None:
        if g.group_id in self.groups:
            raise GroupModError("OFPGMFC_GROUP_EXISTS")
        g.created = self.now()
        self.groups[g.group_id] = g
        self.changes.change()

    def modify_group(self, g: Group) -> None:
        old = self.groups.get(g.group_id)
        if old is None:
            raise GroupModError("OFPGMFC_UNKNOWN_GROUP")
        g.created = old.created
        self.groups[g.group_id] = g
        self.changes.change()

    def delete_group(self, group_id: int) -> None:
        """delete_group: the group, and every flow whose actions use it (all of them for OFPG_ALL)."""
        self._delete_used(self.groups, "group", group_id)

    def _delete_used(self, objs: dict[int, Any], kind: str, obj_id: int) -> None:
        """Delete a group or meter (0xffffffff: all) and the flows whose `kind` action names it."""
        doomed = set(objs) if obj_id == 0xFFFFFFFF else {obj_id} & set(objs)
        for i in doomed:
            del objs[i]
        self.changes.change()
        if doomed:
            for t in range(N_TABLES):
                self.tables[t] = [r for r in self.tables[t]
                                  if not any(a.kind == kind and a.a in doomed for a in r.actions)]
            self.index.clear()

    def check_groups(self, acts: list[Act]) -> None:
        """ofproto_check_ofpacts: a group action needs its group (OFPBAC_BAD_OUT_GROUP), in the
        action set too (write_actions' nested actions, OFPACT_FOR_EACH_FLATTENED)."""
        for a in acts:
            if a.kind == "write_actions":
                self.check_groups(a.a)
            if a.kind == "group" and a.a not in self.groups:
                raise GroupModError("OFPBAC_BAD_OUT_GROUP")
            if a.kind == "meter" and a.a not in self.meters:
                raise GroupModError("OFPMMFC_INVALID_METER")

    # -- flow_mod ----------------------------------------------------------
    def _tables(self, table: int | None) -> range:
        return range(N_TABLES) if table is None else range(table, table + 1)

    def expire(self) -> None:
        """ofproto_expire: rules past their idle or hard timeout go."""
        now = self.now()
        for t in self.tables:
            if any(r.idle_timeout or r.hard_timeout for r in t):
                gone = [r for r in t if r.expired(now)]
                if gone:
                    t[:] = [r for r in t if r not in gone]
                    self.index.clear()
                    self.changes.change()
                    for r in gone:
                        reason = int(bool(r.hard_timeout and now - r.modified >= r.hard_timeout * NS))
                        for tell in self.removed:
                            tell(r, reason)

    def add(self, fm: FlowMod, of13: bool = False) -> None:
        """add_flow: replaces a rule with the same match and priority in the table."""
        self.expire()
        table = fm.table or 0
        rules = self.tables[table]
        key = fm.match.key()
        now = self.now()
        self.seq += 1
        new = Rule(fm, table, now, self.seq, of13)
        self.changes.change()
        for i, r in enumerate(rules):
            if r.priority == fm.priority and r.match.key() == key:
                if "check_overlap" in fm.flags:
                    raise FlowError("OFPT_FLOW_MOD: OFPFMFC_OVERLAP")
                if "reset_counts" not in new.flags:
                    new.n_packets, new.n_bytes = r.n_packets, r.n_bytes
                rules[i] = new
                self.index.clear()
                return
        rules.append(new)
        self.index.clear()
        rules.sort(key=lambda r: (-r.priority, r.seq))

    def _select(self, fm: FlowMod, strict: bool) -> list[Rule]:
        out: list[Rule] = []
        key = fm.match.key()
        for t in self._tables(fm.table):
            for r in self.tables[t]:
                if strict and (r.priority != fm.priority or r.match.key() != key):
                    continue
                if not strict and not fm.match.covers(r.match):
                    continue
                if fm.cookie_mask and (r.cookie & fm.cookie_mask) != (fm.cookie & fm.cookie_mask):
                    continue
                if fm.out_port is not None and not r.outputs_to(fm.out_port):
                    continue
                out.append(r)
        return out

    def rules_matching(self, fm: FlowMod) -> list[Rule]:
        """The rules a flow or aggregate stats request selects (its table, match loosely,
        cookie/mask, out_port), in dump order."""
        chosen = {id(r) for r in self._select(fm, False)}
        return [r for r in self.rules(fm.table) if id(r) in chosen]

    def modify(self, fm: FlowMod, strict: bool, of13: bool = False) -> None:
        """modify_flows_loose/strict: new actions, counters kept; OpenFlow 1.0 adds the
        flow when none matched."""
        self.expire()
        rules = self._select(fm, strict)
        if not rules:
            if not of13 and not fm.cookie_mask:
                self.add(fm, of13)
            return
        now = self.now()
        self.changes.change()
        for r in rules:
            r.actions = as_encoded(fm.actions, of13, *r.match.vlan_and_proto())
            r.modified = now
            if "reset_counts" in fm.flags:
                r.n_packets = r.n_bytes = 0

    def delete(self, fm: FlowMod, strict: bool) -> int:
        """delete_flows_loose/strict; returns how many went."""
        self.expire()
        gone = self._select(fm, strict)
        doomed = {id(r) for r in gone}
        self.changes.change()
        for t in self._tables(fm.table):
            self.tables[t] = [r for r in self.tables[t] if id(r) not in doomed]
        self.index.clear()
        self._removed(gone)
        return len(doomed)

    def delete_all(self) -> None:
        self.changes.change()
        gone = [r for t in self.tables for r in t]
        for t in range(N_TABLES):
            self.tables[t] = []
        self.index.clear()
        self._removed(gone)

    def _removed(self, gone: list[Rule]) -> None:
        """delete_flows__: each deleted rule is told with OFPRR_DELETE (ofproto_rule_send_removed)."""
        for r in gone:
            for tell in self.removed:
                tell(r, OFPRR_DELETE)

    def rules(self, table: int | None = None, match: Match | None = None) -> list[Rule]:
        """The rules in dump order: per table, the classifier's subtables (one per set of
        matched fields and masks) by their highest priority, the first made first; within
        one, by priority then age (OVS walks a subtable in hash order)."""
        self.expire()
        out: list[Rule] = []
        for t in self._tables(table):
            rules = [r for r in self.tables[t] if match is None or match.covers(r.match)]
            groups: dict[tuple[tuple[str, int], ...], list[Rule]] = {}
            for r in sorted(self.tables[t], key=lambda r: r.seq):
                groups.setdefault(_mask_key(r.match), []).append(r)
            # a subtable sits among those of its priority from when it reached it (pvector order)
            rank = {}
            for k, g in groups.items():
                top = max(r.priority for r in g)
                rank[k] = (-top, min(r.seq for r in g if r.priority == top))
            out += sorted(rules, key=lambda r: (-r.priority, rank[_mask_key(r.match)][1], r.seq))
        return out

    # -- lookup --------------------------------------------------------------
    def lookup(self, table: int, flow: dict[str, int], wc: dict[str, int] | None = None,
               stats: bool = True) -> Rule | None:
        """rule_dpif_lookup_from_table for one table: the first rule (priority order) matching;
        `wc`, when given, collects the fields the lookup had to read (classifier.py); a
        revalidation (`stats` false) leaves the table's counters alone."""
        if stats:
            self.lookups[table] += 1
        cls = self.index.get(table)
        if cls is None:
            cls = self.index[table] = Classifier(self.tables[table])
        best = cls.lookup(flow, self.now(), wc)
        if best is not None and stats:
            self.matched[table] += 1
        return best
