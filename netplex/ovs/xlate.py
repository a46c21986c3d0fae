"""What ovs-vswitchd does with a packet: the OpenFlow pipeline and the NORMAL
learning switch (ofproto/ofproto-dpif-xlate.c: xlate_actions, xlate_table_action,
xlate_normal, compose_output_action; lib/odp-util.c commit_odp_actions and the
datapath actions' text; ofproto/ofproto-dpif-trace.c for `ofproto/trace`).

`Xlate.run` walks the tables from 0 with the packet's flow: each rule's
actions change the flow, resubmit, or output; at each output the flow's
changes are committed as datapath actions (`set(eth(...))`, `push_vlan`,
`pop_vlan`, ...), then the port number. A real packet has those datapath
actions executed by the kernel datapath (`execute`); `ofproto/trace` prints
the walk as OVS 3.1 does. `ct()` uses a small connection tracker per
datapath (zones, commit, `+trk+new/+est/+rpl`, a one-address `nat`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netplex.ovs.actions import Act, execute_action_set, field_key, format_act, format_actions
from netplex.ovs.conntrack import CS_NEW, CS_TRK, ConnTracker
from netplex.ovs.flow import (
    ETH_P_RARP,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    VLAN_CFI,
    Match,
    c_hex,
    exact_key,
    flow_extract,
    format_mac,
)
from netplex.ovs.flowcache import MAX_IDLE
from netplex.ovs.group import dp_hash_table
from netplex.ovs.hash import flow_hash_symmetric_l3l4
from netplex.ovs.learn import (
    Learn,
    Subfield,
    field_bits,
    format_subfield,
    learn_execute,
    mf_format,
    read_subfield,
    write_subfield,
)
from netplex.ovs.ofproto import FlowMod
from netplex.ovs.vswitchd import OFPP_LOCAL, OfPort, OvsVswitchd, XBridge
from netplex.packet.addr import int_to_ip
from netplex.packet.ethernet import ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, Dot1Q, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.lacp import ETH_P_SLOW
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.fastpath import FAST_DEVICE_CLASSES, fast_xmit
from netplex.stack.openvswitch import TUNNEL_CSUM, TUNNEL_DF, TUNNEL_KEY, TunnelKey
from netplex.stack.skb import SkbMeta

if TYPE_CHECKING:
    from netplex.stack.openvswitch import OvsDatapath

__all__ = ["TraceNode", "Xlate", "execute", "flow_format", "format_odp", "local_port_name", "megaflow_fields",
           "print_trace", "revalidate_all", "tunnel_flags_text", "upcall_handler", "with_tunnel_fields"]

MAX_RESUBMIT_DEPTH = 64                         # MAX_DEPTH
MAX_RESUBMITS = MAX_RESUBMIT_DEPTH * MAX_RESUBMIT_DEPTH
MAX_ODP_BYTES = 0xFFFF                          # the datapath actions fit one Netlink attribute
MAX_STACK_BYTES = 65536                         # xlate_resubmit_resource_check: ctx->stack.size
# the Netlink size of each datapath action (nla header and payload); a set, ct or userspace
# action is counted at its smallest, a set of one field
_ODP_BYTES = {"output": 8, "recirc": 8, "hash": 12, "pop_vlan": 4, "push_vlan": 8, "meter": 8, "set_priority": 12}
_ODP_OTHER_BYTES = 16
_ACTSET_OUTPUTS = ("output", "normal", "flood", "all", "local", "in_port")   # OFPACT_OUTPUT's spellings
# the datapath's recirculation: (packet, recirc id, ct_state, ct_zone)
Recirculate = Callable[[Ethernet, int, int, int], None]
OFPP_IN_PORT, OFPP_FLOOD, OFPP_ALL, OFPP_NORMAL, OFPP_CONTROLLER = 0xFFF8, 0xFFFB, 0xFFFC, 0xFFFA, 0xFFFD
OFPP_NONE = 0xFFFF      # no input port (OpenFlow 1.0's OFPP_NONE, ANY in 1.1+)


class TraceNode:
    """oftrace_node: a line of ofproto/trace and the lines under it."""

    __slots__ = ("kind", "text", "subs")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind      # table action detail warn error bridge thaw
        self.text = text
        self.subs: list[TraceNode] = []

    def add(self, kind: str, text: str) -> TraceNode:
        n = TraceNode(kind, text)
        self.subs.append(n)
        return n


def print_trace(nodes: list[TraceNode], level: int, out: list[str], parent: str = "", tail: bool = False) -> None:
    """oftrace_node_print_details: 4 spaces a level; a table's number is `%2d.`. A bridge's
    tables are at its own level; a table a (non-final) resubmit reached is printed at
    its action's indentation, its actions two levels in, as OVS 3.1 does. `nested` and `chain`
    are the tables a bridge's last goto_table/resubmit reached when an action set runs after
    them (Xlate.run_action_set). A patch port's peer bridge (`patch`, under its output action;
    `tail`: that action is the last line of its table) follows a blank line, as every bridge
    does; OVS lists it beside its action, so it is at the action's indentation with its tables
    one level in, or, when nothing follows it in that table, a level out with its tables
    beside it."""
    last = len(nodes) - 1
    for i, n in enumerate(nodes):
        pad = " " * (4 * level)
        sub = level + 1
        if n.kind == "patch":
            more = not (tail and i == last)
            at = level - 1 if more else level - 2
            out.append("")
            out.append(" " * (4 * at) + n.text)
            out.append(" " * (4 * at) + "-" * len(n.text))
            sub = level if more else at
        elif n.kind == "detail":
            out.append(f"{pad} -> {n.text}")
        elif n.kind == "warn":
            out.append(f"{pad} >> {n.text}")
        elif n.kind == "error":
            out.append(f"{pad} >>>> {n.text} <<<<")
        elif n.kind == "bridge":
            out.append(f"{pad}{n.text}")
            out.append(f"{pad}{'-' * len(n.text)}")
            sub = level
        elif n.kind == "table" and parent == "action":
            out.append(" " * (4 * (level - 1)) + n.text)
        elif n.kind == "nested":     # a table a final goto reached, with more after it in its caller
            out.append(f"{pad}{n.text}")
            sub = level + 2
        elif n.kind == "chain":      # the last table (or action set) in its caller's list
            out.append(" " * (4 * (level - 1)) + n.text)
            sub = level
        elif n.kind == "bucket":     # a group's bucket: at its group's level, its actions two in
            out.append(f"{pad}{n.text}")
            sub = level + 2
        elif n.kind == "thaw":
            out.append(f"{pad}    {n.text}")
            sub = level + 2
        else:
            out.append(f"{pad}{n.text}")
        print_trace(n.subs, sub, out, n.kind, n.kind == "action" and i == last)


def local_port_name(n: int) -> str:
    """ofputil_format_port without a port map: the reserved LOCAL and ANY ports by name."""
    return "LOCAL" if n == OFPP_LOCAL else "ANY" if n == OFPP_NONE else str(n)


def tunnel_flags_text(flags: int, exact: bool = True) -> str:
    """format_flags_masked over flow_tun_flag_to_string: `df|key` when every flag (oam too) is
    matched, as a packet's flow is; `-df-csum+key` for the megaflow's df, csum and key."""
    bits = (("df", TUNNEL_DF), ("csum", TUNNEL_CSUM), ("key", TUNNEL_KEY))
    if exact:
        return "|".join(n for n, b in bits if flags & b) or "0"
    return "".join(("+" if flags & b else "-") + n for n, b in bits)


def with_tunnel_fields(text: str, flow: dict[str, int], extra: str) -> str:
    """`extra` (the tunnel fields match_format prints after tun_dst) put in its place."""
    head, sep, tail = text.partition(f"tun_dst={int_to_ip(flow.get('tun_dst', 0))}")
    return head + sep + "," + extra + tail if sep else text


def flow_format(flow: dict[str, int], port_name: Any = local_port_name, recirc: int = 0) -> str:
    """flow_format: every field the packet has, in match_format's order; a tunnel's
    fields all when it has a destination (the id only with the key flag), else its id alone."""
    m = Match()
    if flow.get("tun_dst"):
        if flow.get("tun_flags", 0) & TUNNEL_KEY:
            m.set("tun_id", flow.get("tun_id", 0), (1 << 64) - 1)
        m.set("tun_src", flow.get("tun_src", 0), 0xFFFFFFFF)
        m.set("tun_dst", flow["tun_dst"], 0xFFFFFFFF)
    elif flow.get("tun_id"):
        m.set("tun_id", flow["tun_id"], (1 << 64) - 1)
    if flow.get("ct_state"):
        m.set("ct_state", flow["ct_state"], 0xFF)
        if flow.get("ct_zone"):
            m.set("ct_zone", flow["ct_zone"], 0xFFFF)
    dl_type = flow.get("dl_type", 0)
    for key in ("in_port", "dl_src", "dl_dst"):
        m.set(key, flow.get(key, 0), (1 << 48) - 1 if key != "in_port" else 0xFFFF)
    m.set("vlan_tci", flow.get("vlan_tci", 0), 0xFFFF)
    m.set("dl_type", dl_type, 0xFFFF)
    for i in range(16):
        if flow.get(f"reg{i}"):
            m.set(f"reg{i}", flow[f"reg{i}"], 0xFFFFFFFF)
    if flow.get("metadata"):
        m.set("metadata", flow["metadata"], (1 << 64) - 1)
    if dl_type == ETH_P_IP:
        for key in ("nw_src", "nw_dst"):
            m.set(key, flow.get(key, 0), 0xFFFFFFFF)
        m.set("nw_proto", flow.get("nw_proto", 0), 0xFF)
        m.set("nw_tos", flow.get("nw_tos", 0), 0xFF)
        m.set("nw_ttl", flow.get("nw_ttl", 0), 0xFF)
        if flow.get("nw_proto") in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 132):
            m.set("tp_src", flow.get("tp_src", 0), 0xFFFF)
            m.set("tp_dst", flow.get("tp_dst", 0), 0xFFFF)
        if flow.get("nw_proto") == IPPROTO_TCP:
            m.set("tcp_flags", flow.get("tcp_flags", 0), 0xFFF)
    elif dl_type in (ETH_P_ARP, ETH_P_RARP):
        for key in ("nw_src", "nw_dst"):
            m.set(key, flow.get(key, 0), 0xFFFFFFFF)
        m.set("nw_proto", flow.get("nw_proto", 0), 0xFF)
        m.set("arp_sha", flow.get("arp_sha", 0), (1 << 48) - 1)
        m.set("arp_tha", flow.get("arp_tha", 0), (1 << 48) - 1)
    text = m.format(32768, port_name)
    if flow.get("tun_dst"):
        text = with_tunnel_fields(text, flow, f"tun_ipv6_src=::,tun_ipv6_dst=::,tun_gbp_id=0,tun_gbp_flags=0,"
                                        f"tun_tos={flow.get('tun_tos', 0):x},tun_ttl={flow.get('tun_ttl', 0)},"
                                        f"tun_erspan_ver=0,gtpu_flags=0,gtpu_msgtype=0,"
                                        f"tun_flags={tunnel_flags_text(flow.get('tun_flags', 0))}")
    # flow_format's extras: the second VLAN header slot, and nw_frag for IP
    if flow.get("vlan_tci"):
        head, sep, tail = text.partition(",dl_src=")
        text = head + ",vlan_tci1=0x0000" + sep + tail
    if dl_type == ETH_P_IP:
        head, sep, tail = text.partition(f",nw_ttl={flow.get('nw_ttl', 0)}")
        text = head + sep + ",nw_frag=no" + tail
    if recirc:
        parts = text.split(",")
        # recirc_id and the ct fields come first, then "eth" (the packet type) before the protocol
        ct = [p for p in parts if p.startswith(("ct_state", "ct_zone"))]
        rest = [p for p in parts if not p.startswith(("ct_state", "ct_zone"))]
        text = ",".join([f"recirc_id={recirc:#x}"] + ct + ["eth"] + rest)
    return text


class Xlate:
    """struct xlate_ctx: one packet's walk through a bridge's tables."""

    # what most translations never change, kept on the class until one does
    resubmits = 0                       # rules reached by resubmit, goto_table, a patch port
    error: str | None = None            # xlate_error's text: the translation failed, the packet is dropped
    exit = False                        # the translation stopped here (ctx->exit)
    stop = False                        # error or exit: no further action runs
    _odp_sized = _odp_bytes = 0
    action_set: list[Act] = []          # what write_actions accumulated (ctx->action_set), replaced not changed
    set_keys: frozenset[str] = frozenset()  # the fields a set action (not a move) wrote
    actset_output: int | str | None = None  # the flow's actset_output (None: OFPP_UNSET)
    actset_group = False                    # ctx->action_set_has_group
    in_peer = 0                             # how many patch ports deep the walk is
    stack: tuple[tuple[int, int], ...] = ()  # push/pop's stack (value, bytes), ctx->stack
    stack_bytes = 0                         # its size as OVS counts it (each value's bytes and one)

    def __init__(self, vsd: OvsVswitchd, xb: XBridge, flow: dict[str, int], frame: Ethernet | None,
                 tracing: bool, may_learn: bool = True, stats: bool = True) -> None:
        self.vsd = vsd
        self.stats = stats              # False: a revalidation, which counts no table lookups
        self.xb = xb
        self.flow = dict(flow)
        self.base = dict(flow)          # what the datapath actions emitted so far leave the packet as
        self.frame = frame
        self.odp: list[tuple[Any, ...]] = []
        self.tracing = tracing
        self.may_learn = may_learn
        self.depth = 0
        self.recircs: list[tuple[int, dict[str, int], int, int]] = []   # (table, flow, zone, id) for ct(table=)
        self.root = TraceNode("root", "")
        self.node = self.root
        self.table_node = self.root
        self.cur_table = self.cur_cookie = 0
        self.rules_hit: list[Any] = []
        # the fields this walk read (the megaflow's mask); xlate_wc_init: in_port and dl_type always
        self.wc: dict[str, int] = {"in_port": 0xFFFF, "dl_type": 0xFFFF}
        self.base_tun: tuple[int, ...] | None = None        # the tunnel key the datapath actions set last
        # what the flow cache replays on a hit (flowcache.py), and whether it may
        self.cacheable = True
        self.lookups: list[tuple[Any, int, Any]] = []
        self.groups_hit: list[Any] = []
        self.learns: list[tuple[XBridge, int, int, int]] = []

    # -- trace helpers ---------------------------------------------------------
    def note(self, kind: str, text: str) -> None:
        """xlate_report: a line under the current table."""
        if self.tracing:
            self.table_node.add(kind, text)

    # -- the pipeline ------------------------------------------------------------
    def run(self, table: int = 0) -> None:
        if self.tracing:
            self.node = self.root.add("bridge", f'bridge("{self.xb.name}")')
        if self.xb.fail_open():
            # fail-open (ofproto/fail-open.c): standalone, controllers set, none connected
            self.note("detail", "fail-open: no controller connected, NORMAL")
            self.normal(self.node)
            return
        bridge = self.node
        self.table(table, bridge)
        self.run_action_set(bridge)

    def table(self, table: int, parent: TraceNode, in_port: int | None = None, resubmit: bool = False) -> None:
        """xlate_table_action / rule_dpif_lookup_from_table; `in_port` (resubmit's port) is the
        input port of the lookup only: the rule's actions see the original one again (so that
        NORMAL and IN_PORT are not surprised, as OVS restores it)."""
        if in_port is not None:
            saved = self.flow.get("in_port", 0)
            self.flow["in_port"] = in_port
            rule = self.xb.ofproto.lookup(table, self.flow, self.wc, self.stats)
            self.flow["in_port"] = saved
        else:
            rule = self.xb.ofproto.lookup(table, self.flow, self.wc, self.stats)
        self.lookups.append((self.xb.ofproto, table, rule))
        ns = self.xb.dp.ns
        if self.frame is not None and ns.world.tracer.on:
            # `netplex trace`: the OpenFlow table and rule that decided, as iptables rules are shown
            if rule is None:
                ns.trace("ovs_table", f"{self.xb.name}: table {table}: no match, drop", dev=self.xb.name,
                         table=str(table), verdict="drop")
            else:
                m = rule.match.format(rule.priority)
                ns.trace("ovs_table", f"{self.xb.name}: table {table}: {m} actions={format_actions(rule.actions)}",
                         dev=self.xb.name, table=str(table), rule=rule.priority)
        if rule is None:
            if self.tracing:
                # xlate_report_table knows the miss rule of the bridge the trace began on only: a
                # patch port's peer's no_packet_in_rule (reg0=0x2 in its hidden table) is shown
                # as a rule
                n = parent.add("table", f"{table:2d}. reg0=0x2, priority 0" if self.in_peer else f"{table:2d}. No match.")
                n.add("action", "drop")
            return
        now = self.vsd.now()
        if self.frame is not None:
            rule.n_packets += 1
            rule.n_bytes += self.frame.wire_len()
            rule.used = now
        self.rules_hit.append(rule)
        if resubmit:
            self.resubmits += 1
        self.cur_table, self.cur_cookie = table, rule.cookie
        node = parent
        if self.tracing:
            m = rule.match.format(32768)
            text = f"{table:2d}. {m + ', ' if m else ''}priority {rule.priority}"
            if rule.cookie:
                text += f", cookie {rule.cookie:#x}"
            node = parent.add("table", text)
        self.do_actions(rule.actions, node, table, parent)

    def do_actions(self, acts: list[Act], node: TraceNode, table: int, parent: TraceNode) -> None:
        """do_xlate_actions; `node` is the table's trace line, `parent` what holds it."""
        if not acts and self.tracing:
            node.add("action", "drop")
        last = len(acts) - 1
        for i, a in enumerate(acts):
            if self.stop:
                break
            self.table_node = node
            k = a.kind
            an = node
            if self.tracing:
                an = node.add("action", format_act(a, False, bool(self.flow.get("vlan_tci")), stored=True))
            self.node = an
            if k == "output":
                self.output(a.a, an)
            elif k in ("normal", "flood", "all", "local", "in_port", "controller"):
                port = {"normal": OFPP_NORMAL, "flood": OFPP_FLOOD, "all": OFPP_ALL, "local": OFPP_LOCAL,
                        "in_port": OFPP_IN_PORT, "controller": OFPP_CONTROLLER}[k]
                self.output(port, an, a.a if k == "controller" else 0)
            elif k == "enqueue":
                self.output(a.a, an)
            elif k == "set_queue":
                self.flow["skb_priority"] = 0x10000 | (a.a + 1)   # netdev_linux's queue N: HTB class 1:N+1
            elif k == "set_vlan_vid":
                self.wc["vlan_tci"] = self.wc.get("vlan_tci", 0) | 0x1FFF
                tci = self.flow.get("vlan_tci", 0)
                self.flow["vlan_tci"] = (tci & 0xE000) | VLAN_CFI | a.a
            elif k == "set_vlan_pcp":
                self.wc["vlan_tci"] = self.wc.get("vlan_tci", 0) | 0xF000
                tci = self.flow.get("vlan_tci", 0)
                self.flow["vlan_tci"] = (tci & 0x0FFF) | VLAN_CFI | (a.a << 13)
            elif k == "strip_vlan":
                self.flow["vlan_tci"] = 0
            elif k == "push_vlan":
                self.flow["vlan_tci"] = self.flow.get("vlan_tci", 0) | VLAN_CFI
            elif k == "set_field":
                self.set_field(a.a, a.b)
            elif k == "load":
                field, ofs, nbits = a.b
                key = field_key(field)
                mask = ((1 << nbits) - 1) << ofs
                self.flow[key] = (self.flow.get(key, 0) & ~mask) | (a.a << ofs)
                self.wc[key] = self.wc.get(key, 0) | mask
            elif k == "move":
                self.move(a.a, a.b)
            elif k == "push":
                self.push(a.a)
            elif k == "pop":
                self.pop(a.a)
            elif k == "learn":
                self.learn(a.a)
            elif k == "mod_nw_ttl":
                self.flow["nw_ttl"] = a.a
                self.unwildcard("nw_ttl")
            elif k == "dec_ttl":
                ttl = self.flow.get("nw_ttl", 0)
                if self.flow.get("dl_type") != ETH_P_IP:
                    continue
                self.unwildcard("nw_ttl")
                if ttl <= 1:
                    self.note("detail", "Decrementing TTL to zero, packet is dropped")
                    return
                self.flow["nw_ttl"] = ttl - 1
                self.unwildcard("nw_ttl")
            elif k in ("resubmit", "goto_table"):
                if not self.resource_check():
                    return
                rport, want = (a.a, a.b) if k == "resubmit" else (None, a.a)
                tbl: int = table if want is None else want
                # only a lookup in the same or an earlier table deepens (a pipeline going
                # forward ends by itself)
                deepens = int(tbl <= table)
                self.depth += deepens
                self.table(tbl, an if i != last else parent,
                           rport if rport is not None and rport != OFPP_IN_PORT else None, resubmit=True)
                self.depth -= deepens
                if k == "goto_table":
                    return
            elif k == "write_actions":
                self.write_actions(a.a)
                self.report_action_set("is")
            elif k == "clear_actions":
                self.report_action_set("was")
                self.action_set = []
                self.actset_output = None
                self.actset_group = False
            elif k == "write_metadata":
                self.flow["metadata"] = (self.flow.get("metadata", 0) & ~a.b) | (a.a & a.b)
            elif k == "ct":
                self.ct(a, an)
            elif k == "ct_clear":
                for f in ("ct_state", "ct_zone", "ct_mark"):
                    self.flow.pop(f, None)
            elif k == "note":
                pass
            elif k == "set_tunnel":
                self.flow["tun_id"] = a.a
            elif k == "group":
                self.group(a.a, an)
            elif k == "meter":
                m = self.xb.ofproto.meters.get(a.a)
                if m is not None:      # xlate_meter_action: the datapath's meter, no commit
                    self.odp.append(("meter", m.dp_id, m))

    def resource_check(self) -> bool:
        """xlate_resubmit_resource_check: the limits that end a translation before a lookup."""
        if self.depth >= MAX_RESUBMIT_DEPTH:
            self.note("error", f"over max translation depth {MAX_RESUBMIT_DEPTH}")
            self.error = "Recursion too deep"
            self.stop = True
        elif self.resubmits >= MAX_RESUBMITS:
            self.note("error", f"over {MAX_RESUBMITS} resubmit actions")
            self.error = "Too many resubmits"
            self.stop = True
        elif self.odp_bytes() > MAX_ODP_BYTES:
            self.note("error", "resubmits yielded over 64 kB of actions")
            self.exit = self.stop = True        # not an error: the flow is slow-pathed
        elif self.stack_bytes >= MAX_STACK_BYTES:
            self.note("error", "resubmits yielded over 64 kB of stack")
            self.error = "Stack too deep"
            self.stop = True
        else:
            return True
        return False

    def slow(self) -> bool:
        """The datapath actions are too big for one Netlink attribute: SLOW_ACTION, no datapath
        flow (nl_attr_oversized)."""
        return self.odp_bytes() > MAX_ODP_BYTES

    def odp_bytes(self) -> int:
        """The Netlink size of the datapath actions so far (counted once each; none is over
        16 bytes, so a short list needs no count)."""
        if len(self.odp) * _ODP_OTHER_BYTES <= MAX_ODP_BYTES:
            return 0
        for a in self.odp[self._odp_sized:]:
            self._odp_bytes += _ODP_BYTES.get(a[0], _ODP_OTHER_BYTES)
        self._odp_sized = len(self.odp)
        return self._odp_bytes

    # -- the action set (OpenFlow 1.1+ write_actions / clear_actions) -----------------------
    def write_actions(self, acts: list[Act]) -> None:
        """xlate_write_actions__: the set grows; the flow's actset_output follows its output
        (the last one written, none once it holds a group)."""
        if not self.actset_group:
            for a in acts:
                if a.kind in _ACTSET_OUTPUTS:
                    self.actset_output = a.a if a.kind == "output" else a.kind
                elif a.kind == "group":
                    self.actset_output = None
                    self.actset_group = True
                    break
        self.action_set = [*self.action_set, *acts]

    def report_action_set(self, verb: str) -> None:
        """xlate_report_action_set: what the action set would run, `is` after a write, `was`
        before a clear."""
        if self.tracing:
            acts = execute_action_set(self.action_set)
            tagged = bool(self.flow.get("vlan_tci"))
            self.note("detail", f"action set {verb}: {format_actions(acts, False, tagged, stored=True)}" if acts
                      else f"action set {verb} empty")

    def run_action_set(self, bridge: TraceNode) -> None:
        """xlate_action_set: once the bridge's tables are done, the action set runs as an action
        list (execute_action_set). OVS reports it in the list its trace is at then, that of the
        bridge's first table (the packet's own bridge or a patch port's peer), whose last
        goto_table/resubmit chain is then nested under it (netplex keeps that chain flat under
        the bridge until then)."""
        if not self.action_set:
            return
        acts = execute_action_set(self.action_set)
        self.action_set = []
        if not acts:
            return
        node = bridge
        if self.tracing:
            tables = [i for i, n in enumerate(bridge.subs) if n.kind == "table"]
            if tables:
                first = bridge.subs[tables[0]]
                chain = [n for n in bridge.subs[tables[0] + 1:] if n.kind == "table"]
                bridge.subs = [n for n in bridge.subs if n not in chain]
                prev = first
                for j, t in enumerate(chain):
                    t.kind = "nested" if j == 0 else "chain"
                    prev.subs.append(t)
                    prev = t
                node = first.add("chain", "--. Executing action set:")
            else:
                node = bridge.add("table", "--. Executing action set:")
        self.do_actions(acts, node, self.cur_table, bridge)

    # -- groups (xlate_group_action__) ------------------------------------------------
    def group(self, group_id: int, node: TraceNode) -> None:
        """all/indirect: every bucket on a clone of the packet; ff: the first live bucket;
        select: OVS's default dp_hash method, which a trace shows as the datapath's
        hash-and-recirculate and a packet takes as the bucket its symmetric L4 hash picks."""
        if not self.resource_check():
            return
        g = self.xb.ofproto.groups.get(group_id)
        if g is None:
            self.note("warn", f"output to nonexistent group {group_id}")
            return
        if self.frame is not None:
            g.packets += 1
            g.bytes += self.frame.wire_len()
        if g.type in ("all", "indirect"):
            self.groups_hit.append(g)
            for b in g.buckets:
                self.bucket(b, node)
            return
        chosen = None
        self.cacheable = False      # bucket liveness follows the ports' carriers
        if g.type == "ff":
            for b in g.buckets:
                if self.bucket_live(b):
                    chosen = b
                    break
                self.note("detail", f"bucket {b.bucket_id}: not live due to port {_port_text(b.watch_port)}")
        elif self.frame is None:
            self.commit(node)
            self.odp.append(("hash", "sym_l4(0)"))
            self.odp.append(("recirc", self.vsd.recirc_alloc(("dp_hash", self.xb.name, g.group_id,
                                                               self.flow.get("in_port", 0)))))
        else:
            # pick_dp_hash_select_group: the datapath's hash(sym_l4(0)) of the packet, then the
            # first live bucket from that value on in the group's hash table
            table = dp_hash_table(tuple(b.weight for b in g.buckets))
            if table is None:
                # all weights zero: the default method's scores are all 0, and the last live bucket wins
                # (group_best_live_bucket's `>=`); weights needing more hash values are refused by add-group
                live = [b for b in g.buckets if self.bucket_live(b)]
                chosen = live[-1] if live else None
            else:
                dp_hash = flow_hash_symmetric_l3l4(self.flow, 0)
                mask = len(table) - 1
                for i in range(len(table)):
                    b = g.buckets[table[(dp_hash + i) & mask]]
                    if self.bucket_live(b):
                        chosen = b
                        break
        if chosen is None:
            self.note("detail", "no live bucket")
            return
        if self.frame is not None:
            chosen.packets += 1
            chosen.bytes += self.frame.wire_len()
        self.note("detail", f"using bucket {chosen.bucket_id}")
        self.bucket(chosen, node)

    def bucket_live(self, b: Any) -> bool:
        """bucket_is_alive: no watch, or a watched port that is up with carrier."""
        if b.watch_port == 0xFFFF:
            return True
        p = self.xb.ports.get(b.watch_port)
        if p is None:
            return False
        return p.dev is None or (p.dev.up and p.dev.has_carrier())

    def bucket(self, b: Any, node: TraceNode) -> None:
        """xlate_group_bucket: its actions as an action set (execute_action_set) on a copy of
        the flow, which the actions after the group do not see."""
        bn = self.table_node.add("bucket", f"bucket {b.bucket_id}") if self.tracing else node
        saved_flow, saved_table_node = dict(self.flow), self.table_node
        acts = execute_action_set(b.actions)
        self.depth += 1
        self.do_actions(acts, bn, self.cur_table, bn)
        self.depth -= 1
        if self.exit and self.error is None:    # a bucket's exit is not the group's (ctx->exit = false)
            self.exit = self.stop = False
        self.flow, self.table_node = saved_flow, saved_table_node

    def set_field(self, field: str, value: int) -> None:
        key = field_key(field)
        self.unwildcard(key)
        if field == "ip_dscp":
            self.flow["nw_tos"] = (self.flow.get("nw_tos", 0) & 0x03) | (value << 2)
        elif field == "vlan_vid":
            self.flow["vlan_tci"] = (self.flow.get("vlan_tci", 0) & 0xE000) | VLAN_CFI | (value & 0xFFF)
        else:
            self.flow[key] = value

    def move(self, src: Subfield, dst: Subfield) -> None:
        """xlate_ofpact_reg_move: copy the bits, both subfields matched by the megaflow."""
        write_subfield(dst, read_subfield(src, self.flow), self.flow)
        for sf in (src, dst):
            key = sf.spec.key
            self.wc[key] = self.wc.get(key, 0) | sf.mask
        self.report_subfield(dst)

    def push(self, sf: Subfield) -> None:
        """nxm_execute_stack_push: the subfield's value goes on the stack (its bytes and a
        length byte, nx_stack_push), the subfield matched by the megaflow."""
        self.wc[sf.spec.key] = self.wc.get(sf.spec.key, 0) | sf.mask
        nbytes = (sf.n_bits + 7) // 8
        self.stack = (*self.stack, (read_subfield(sf, self.flow), nbytes))
        self.stack_bytes += nbytes + 1

    def pop(self, sf: Subfield) -> None:
        """xlate_ofpact_stack_pop: the top value into the subfield (its low bytes; nothing on
        an empty stack: `stack underflow`, and the translation goes on), traced as `DST is now V`."""
        if not self.stack:
            self.note("error", "stack underflow")
            return
        (value, nbytes), self.stack = self.stack[-1], self.stack[:-1]
        self.stack_bytes -= nbytes + 1
        self.wc[sf.spec.key] = self.wc.get(sf.spec.key, 0) | sf.mask
        write_subfield(sf, value & ((1 << (8 * ((sf.n_bits + 7) // 8))) - 1), self.flow)
        self.report_subfield(sf)

    def report_subfield(self, sf: Subfield) -> None:
        """xlate_report_subfield: `DST is now VALUE` in a trace."""
        if self.tracing:
            value = read_subfield(sf, self.flow)
            whole = sf.ofs == 0 and sf.n_bits >= field_bits(sf.spec)
            text = mf_format(sf.spec, value) if whole else (f"{value:#x}" if value else "0")
            self.note("detail", f"{format_subfield(sf)} is now {text}")

    def learn(self, learn: Learn) -> None:
        """xlate_learn_action: the sources are matched by the megaflow; with side effects (a
        packet, not ofproto/trace) the learned flow goes into its table as OFPFC_MODIFY_STRICT:
        an identical flow (match, priority, actions) only has its hard timeout started again."""
        for sp in learn.specs:
            if sp.src is not None:
                key = sp.src.spec.key
                self.wc[key] = self.wc.get(key, 0) | sp.src.mask
        if not self.may_learn:
            self.note("warn", "suppressing side effects, so learn action ignored")
            return
        self.cacheable = False          # every packet executes it again
        m, outs = learn_execute(learn, self.flow)
        acts: list[Act] = []
        for kind, arg in outs:
            if isinstance(arg, tuple):
                value, sf = arg
                acts.append(Act("load", value, (sf.name, sf.ofs, sf.n_bits)))
            else:
                acts.append(Act(kind, arg))
        ofp = self.xb.ofproto
        fm = FlowMod(m, acts, learn.table, learn.priority, learn.cookie, 0, learn.idle_timeout, learn.hard_timeout)
        if learn.send_flow_rem:
            fm.flags.add("send_flow_rem")
        ident = m.key()
        same = [r for r in ofp.rules(learn.table) if r.priority == learn.priority and r.match.key() == ident]
        success = True
        if same and format_actions(same[0].actions) == format_actions(acts):
            same[0].modified = self.vsd.now()       # ofproto_flow_mod_learn_refresh
        elif same:
            ofp.modify(fm, True, of13=True)
        elif learn.limit and sum(r.cookie == learn.cookie for r in ofp.rules(learn.table)) >= learn.limit:
            success = False                         # "Learn limit for flow N reached."
        else:
            ofp.add(fm, of13=True)
        if learn.result_dst is not None:
            write_subfield(learn.result_dst, int(success), self.flow)
            self.report_subfield(learn.result_dst)

    def unwildcard(self, key: str) -> None:
        """A rewritten field is matched exactly by the megaflow (and an L4 one pins the protocol)."""
        if key not in self.set_keys:
            self.set_keys = self.set_keys | {key}
        self.wc[key] = self.wc.get(key, 0) | {
            "dl_src": (1 << 48) - 1, "dl_dst": (1 << 48) - 1, "vlan_tci": 0x1FFF, "nw_tos": 0xFC, "tp_src": 0xFFFF,
            "tp_dst": 0xFFFF, "nw_ttl": 0xFF, "tun_id": (1 << 64) - 1, "metadata": (1 << 64) - 1}.get(key, 0xFFFFFFFF)
        if key in ("tp_src", "tp_dst"):
            self.wc["nw_proto"] = 0xFF

    # -- conntrack ------------------------------------------------------------------
    def ct(self, a: Act, node: TraceNode) -> None:
        """compose_conntrack_action: commit, then a recirculation to `table` with ct_state set.
        A packet's translation leaves the tracking to the datapath (`execute`): its ct() action
        and a `recirc(id)` whose id names the frozen state the recirculated packet resumes from
        (`frozen_state`); ofproto/trace (no packet) resumes with the default ct_state trk|new."""
        commit, recirc, zone = a.a
        nat = a.b
        if recirc is not None and self.action_set:
            # compose_recirculate_and_fork freezes the action set with no actions after it, which
            # recirc_alloc_id__ asserts against (Open vSwitch 3.1 aborts there, and so does main)
            self.vsd.abort("../ofproto/ofproto-dpif-rid.c:235: assertion state->action_set_len <= "
                           "state->ofpacts_len failed in recirc_alloc_id__()")
            self.error = "ovs-vswitchd aborted"
            self.stop = True
            self.cacheable = False
            return
        self.commit(node)
        parts = (["commit"] if commit else []) + ([f"zone={zone}"] if zone else [])
        if nat is not None:
            kind, rng = nat
            parts.append(f"nat({kind}={rng})" if rng else (f"nat({kind})" if kind else "nat"))
        self.odp.append(("ct", ",".join(parts), zone, commit, nat))
        if self.tracing:
            self.table_node.add("action", "drop")
        if not self.tracing:
            if recirc is not None:
                rid = self.vsd.recirc_alloc(frozen_state(self.xb.name, recirc, self.flow))
                self.odp.append(("recirc", rid))
                self.recircs.append((recirc, {}, zone, rid))
        elif recirc is not None:
            # ofproto/trace has no packet and no connection: the recirculation resumes with the
            # default ct_state trk|new (ofproto-dpif-trace.c, `--ct-next` to choose another),
            # and the trace commits nothing
            state = CS_TRK | CS_NEW
            mapped = None
            self.note("detail", f"A clone of the packet is forked to recirculate. The forked pipeline will be "
                                f"resumed at table {recirc}.")
            new = dict(self.flow)
            if mapped is not None:
                new["nw_src"], new["nw_dst"] = mapped
            new["ct_state"] = state
            new["ct_zone"] = zone
            # ofproto/trace takes its recirculation ids as a packet's translation does (released when done)
            rid = self.vsd.recirc_alloc(frozen_state(self.xb.name, recirc, self.flow))
            self.odp.append(("recirc", rid))
            self.recircs.append((recirc, new, zone, rid))
        self.note("detail", "Sets the packet to an untracked state, and clears all the conntrack fields.")
        for f in ("ct_state", "ct_zone", "ct_mark"):
            self.flow.pop(f, None)

    # -- output ---------------------------------------------------------------------
    def output(self, port: int, node: TraceNode, max_len: int = 0) -> None:
        """xlate_output_action."""
        xb = self.xb
        in_port = self.flow.get("in_port")
        if port == OFPP_NORMAL:
            self.normal(node)
        elif port in (OFPP_FLOOD, OFPP_ALL):
            for p in sorted(xb.ports.values(), key=_dp_order):
                if p.ofport != in_port and not (port == OFPP_FLOOD and p.no_flood):
                    self.output_port(p, node, quiet=True)
        elif port == OFPP_IN_PORT:
            back = xb.ports.get(in_port or -1)
            if back is not None:
                self.output_port(back, node, allow_in=True)
        elif port == OFPP_CONTROLLER:
            self.commit(node)
            self.odp.append(("userspace", max_len, self.flow.get("in_port", 0), self.cur_table, self.cur_cookie))
        else:
            out = xb.ports.get(port)
            if out is None:
                self.note("warn", "Nonexistent output port")
                return
            if port == in_port:
                self.note("warn", "skipping output to input port")
                return
            self.output_port(out, node)

    def output_port(self, p: OfPort, node: TraceNode, quiet: bool = False, allow_in: bool = False) -> None:
        """compose_output_action: commit the flow's changes, then the port (a patch port
        continues in its peer bridge)."""
        if p.type == "patch":
            self.patch_output(p, node)
            return
        if p.dp_port is None:
            return
        self.commit(node)
        if p.tunnel is not None:
            key = self.tunnel_key(p)
            if key is None:
                self.note("warn", "Tunneling decided against output")
                return
            self.note("detail", "output to kernel tunnel")
            if key != self.base_tun:
                self.odp.append(("set_tunnel", key))
                self.base_tun = key
        self.odp.append(("output", p.dp_port, p))

    def tunnel_key(self, p: OfPort) -> tuple[int, ...] | None:
        """tnl_port_send: the outer header from the port's configuration, and the flow's
        tun_* fields where it says `flow`: (tun_id, src, dst, tos, ttl, tp_dst, flags), or
        None when no destination is known."""
        cfg = p.tunnel
        assert cfg is not None
        f = self.flow
        dst = cfg.remote if cfg.remote is not None else f.get("tun_dst", 0)
        if not dst:
            return None
        src = cfg.local if cfg.local is not None else f.get("tun_src", 0)
        tun_id = cfg.out_key if cfg.out_key is not None else f.get("tun_id", 0)
        tos = cfg.tos if cfg.tos >= 0 else f.get("nw_tos", 0) & 0xFC
        ttl = cfg.ttl or f.get("nw_ttl", 64)
        if cfg.tos < 0:     # tnl_port_send: an inherited tos or ttl is read from the packet
            self.wc["nw_tos"] = self.wc.get("nw_tos", 0) | 0xFC
        if not cfg.ttl:
            self.wc["nw_ttl"] = 0xFF
        flags = (TUNNEL_DF if cfg.df else 0) | (TUNNEL_CSUM if cfg.csum else 0) | \
            (TUNNEL_KEY if cfg.key_present else 0)
        return (tun_id, src or 0, dst, tos, ttl, cfg.dst_port if p.type != "gre" else 0, flags)

    def patch_output(self, p: OfPort, node: TraceNode) -> None:
        peer_xb = peer_port = None
        for xb in self.vsd.bridges.values():
            q = xb.port_by_name(p.peer or "")
            if q is not None and q.type == "patch" and q.peer == p.name:
                peer_xb, peer_port = xb, q
        if peer_xb is None or peer_port is None or self.depth >= MAX_RESUBMIT_DEPTH:
            return
        saved_xb, saved_flow, saved_set = self.xb, self.flow, self.action_set
        saved_out = self.actset_output, self.actset_group, self.stack, self.stack_bytes
        self.action_set = []
        self.actset_output, self.actset_group = None, False
        self.stack, self.stack_bytes = (), 0        # xretain_state_save: the peer has its own stack
        self.flow = dict(self.flow)
        self.flow["in_port"] = peer_port.ofport
        for i in range(16):
            self.flow.pop(f"reg{i}", None)
        self.flow.pop("metadata", None)
        self.xb = peer_xb
        self.depth += 1
        self.in_peer += 1
        bridge = node.add("patch", f'bridge("{peer_xb.name}")') if self.tracing else node
        self.table(0, bridge, resubmit=True)
        self.run_action_set(bridge)
        self.in_peer -= 1
        self.depth -= 1
        self.xb, self.flow, self.action_set = saved_xb, saved_flow, saved_set
        self.actset_output, self.actset_group, self.stack, self.stack_bytes = saved_out

    def commit(self, node: TraceNode) -> None:
        """commit_odp_actions: the datapath actions that turn `base` into `flow`."""
        f, b = self.flow, self.base
        eth = [(n, f.get(k, 0)) for n, k in (("src", "dl_src"), ("dst", "dl_dst")) if f.get(k, 0) != b.get(k, 0)]
        if eth:
            self.odp.append(("set_eth", tuple(eth)))
        if f.get("dl_type") == ETH_P_IP:
            # a masked set of the fields that changed, each under the bits the translation
            # wrote (commit_set_ipv4_action, keycmp_mask)
            ip = [(n, f.get(k, 0), self.wc.get(k, 0) & full or full)
                  for n, k, full in (("src", "nw_src", 0xFFFFFFFF), ("dst", "nw_dst", 0xFFFFFFFF),
                                     ("tos", "nw_tos", 0xFF), ("ttl", "nw_ttl", 0xFF))
                  if f.get(k, 0) != b.get(k, 0)]
            if ip:
                self.odp.append(("set_ipv4", tuple(ip)))
                # the megaflow then matches the protocol when a set action (set_field, mod_nw_*,
                # dec_ttl) wrote a field of it, not when only a move did (so the real 3.1 switch)
                if self.set_keys.intersection(k for k in ("nw_src", "nw_dst", "nw_tos", "nw_ttl")
                                              if f.get(k, 0) != b.get(k, 0)):
                    self.wc["nw_proto"] = 0xFF
            proto = f.get("nw_proto")
            if proto in (IPPROTO_TCP, IPPROTO_UDP):
                tp = [(n, f.get(k, 0)) for n, k in (("src", "tp_src"), ("dst", "tp_dst"))
                      if f.get(k, 0) != b.get(k, 0)]
                if tp:
                    self.odp.append(("set_tcp" if proto == IPPROTO_TCP else "set_udp", tuple(tp)))
        if f.get("skb_priority", 0) != b.get("skb_priority", 0):
            self.odp.append(("set_priority", f.get("skb_priority", 0)))
        ft, bt = f.get("vlan_tci", 0), b.get("vlan_tci", 0)
        if ft != bt:
            if bt & VLAN_CFI:
                self.odp.append(("pop_vlan",))
                self.wc["vlan_tci"] = 0xFFFF    # commit_vlan_action: the header popped is matched
            if ft & VLAN_CFI:
                self.odp.append(("push_vlan", ft & 0xFFF, ft >> 13))
        self.base = dict(f)

    # -- NORMAL ----------------------------------------------------------------------
    def normal(self, node: TraceNode) -> None:
        """xlate_normal: VLAN of the input bundle, learning, then the learned port or a flood."""
        xb = self.xb
        flow = self.flow
        in_port = flow.get("in_port", 0)
        inp = xb.ports.get(in_port)
        if inp is None and in_port not in (OFPP_NONE, OFPP_CONTROLLER):
            self.note("warn", "no input bundle, dropping")
            return
        tci = flow.get("vlan_tci", 0)
        vid = tci & 0xFFF if tci & VLAN_CFI else 0
        # no input port (ofproto/trace without in_port, a packet-out): ofpp_none_bundle, a
        # trunk of every VLAN that learns nothing
        mode = inp.effective_mode() if inp is not None else "trunk"
        if xb.bonds:
            self.cacheable = False  # members' state, SLB hashing
        for key, mask in (("dl_src", (1 << 48) - 1), ("dl_dst", (1 << 48) - 1), ("dl_type", 0xFFFF)):
            self.wc[key] = mask
        if mode != "access":
            self.wc["vlan_tci"] = self.wc.get("vlan_tci", 0) | (0x1FFF if vid else 0xFFFF)
        if flow.get("dl_type") == ETH_P_ARP and flow.get("dl_dst") == (1 << 48) - 1:
            # is_gratuitous_arp: a broadcast ARP's opcode, and a request's addresses, are read
            self.wc["nw_proto"] = 0xFF
            if flow.get("nw_proto") == 1:
                self.wc["nw_src"] = self.wc["nw_dst"] = 0xFFFFFFFF
        # input_vid_to_vlan / input_vid_is_valid
        if inp is None:
            self.normal_from_none(vid, node)
            return
        if mode == "access":
            if vid:
                self.note("error", f"dropping VLAN {vid} tagged packet received on port {inp.name} configured "
                                   f"as VLAN {inp.tag or 0} access port")
                self.note("warn", "disallowed VLAN VID for this input port, dropping")
                return
            vlan = inp.tag or 0
        elif mode in ("native-tagged", "native-untagged") and not vid:
            vlan = inp.tag or 0
        else:
            vlan = vid
            if not inp.includes_vlan(vlan):
                self.note("error", f"dropping VLAN {vlan} packet received on port {inp.name} not configured for "
                                   f"trunking VLAN {vlan}")
                self.note("warn", "disallowed VLAN VID for this input port, dropping")
                return
        now = self.vsd.now()
        src, dst = flow.get("dl_src", 0), flow.get("dl_dst", 0)
        bond = xb.bond_of(inp)
        if bond is not None:
            # bond_check_admissibility: the active member only (active-backup, and SLB's
            # broadcasts), and SLB drops a frame from a MAC learned on another port (a reflection)
            verdict = bond.admissible(inp.name, bool(dst >> 40 & 1))
            if verdict == "drop":
                self.note("detail", "bonding refused admissibility, dropping")
                return
            known = xb.mac_lookup(vlan, src, now)
            if verdict == "drop-if-moved" and known is not None and known.port != self.bundle_port(inp):
                self.note("detail", "SLB bond thinks this packet looped back, dropping")
                return
        in_port = self.bundle_port(inp)
        learn = self.may_learn and not src >> 40 & 1
        # what a packet of this flow learns (a revalidation, which learns nothing itself, too)
        self.learns.append((xb, vlan, -1 if src >> 40 & 1 else src, in_port))
        if learn:
            if xb.mac_learn(vlan, src, in_port, now):
                self.note("detail", f"learned that {format_mac(src)} is on port {inp.port_name if bond else inp.name} "
                                    f"in VLAN {vlan}")
        if dst >> 40 & 1:
            self.note("detail", "no learned MAC for destination, flooding")
            self.flood_vlan(vlan, inp, node)
            return
        e = xb.mac_lookup(vlan, dst, now)
        if e is None:
            self.note("detail", "no learned MAC for destination, flooding")
            self.flood_vlan(vlan, inp, node)
            return
        out = xb.ports.get(e.port)
        if out is None:
            return
        if out.ofport == in_port:
            self.note("warn", "learned port is input port, dropping")
            return
        self.note("detail", "forwarding to learned port")
        member = self.bundle_member(out, vlan)
        if member is not None:
            self.output_vlan(member, vlan, node)

    def normal_from_none(self, vlan: int, node: TraceNode) -> None:
        """xlate_normal for ofpp_none_bundle: no learning; the learned port or a flood to all."""
        dst = self.flow.get("dl_dst", 0)
        e = None if dst >> 40 & 1 else self.xb.mac_lookup(vlan, dst, self.vsd.now())
        out = self.xb.ports.get(e.port) if e is not None else None
        if out is None:
            self.note("detail", "no learned MAC for destination, flooding")
            self.flood_vlan(vlan, None, node)
            return
        self.note("detail", "forwarding to learned port")
        member = self.bundle_member(out, vlan)
        if member is not None:
            self.output_vlan(member, vlan, node)

    def flood_vlan(self, vlan: int, inp: OfPort | None, node: TraceNode) -> None:
        """Each bundle once (a bond through the member it chooses), never the input's."""
        seen: set[str] = {inp.port_name} if inp is not None else set()
        for p in sorted(self.xb.ports.values(), key=_dp_order):
            if p.port_name in seen or not p.includes_vlan(vlan):
                continue
            seen.add(p.port_name)
            member = self.bundle_member(p, vlan)
            if member is not None:
                self.output_vlan(member, vlan, node)

    def bundle_port(self, p: OfPort) -> int:
        """The ofport a bundle is known by in the MAC table (a bond's lowest member's)."""
        if self.xb.bond_of(p) is None:
            return p.ofport
        return min(q.ofport for q in self.xb.ports.values() if q.port_name == p.port_name)

    def bundle_member(self, p: OfPort, vlan: int) -> OfPort | None:
        """output_normal: a plain port is itself; a bond's is the member bond_choose_output_member picks."""
        bond = self.xb.bond_of(p)
        if bond is None:
            return p
        b = bond.choose_output(self.flow.get("dl_src", 0), vlan)
        if b is None:
            return None     # no member enabled: dropped (OVS says nothing)
        return self.xb.ports.get(b.ofport)

    def output_vlan(self, p: OfPort, vlan: int, node: TraceNode) -> None:
        """output_normal: the frame tagged as the output port wants it (output_vlan_to_vid)."""
        saved = self.flow.get("vlan_tci", 0)
        mode = p.effective_mode()
        if mode == "access" or (mode == "native-untagged" and vlan == (p.tag or 0)) or vlan == 0:
            self.flow["vlan_tci"] = 0
        else:
            self.flow["vlan_tci"] = (saved & 0xE000) | VLAN_CFI | vlan
        self.output_port(p, node)
        self.flow["vlan_tci"] = saved


def _port_text(n: int) -> str:
    return "LOCAL" if n == OFPP_LOCAL else str(n)


def _dp_order(p: OfPort) -> int:
    return p.dp_port if p.dp_port is not None else 1 << 20




# -- the datapath's side ---------------------------------------------------------------
def format_odp(odp: list[tuple[Any, ...]]) -> str:
    """format_odp_actions."""
    out: list[str] = []
    for a in odp:
        k = a[0]
        if k == "output":
            out.append(str(a[1]))
        elif k == "set_eth":
            out.append("set(eth(" + ",".join(f"{n}={format_mac(v)}" for n, v in a[1]) + "))")
        elif k == "set_ipv4":
            out.append("set(ipv4(" + ",".join(_masked_set(n, v, m) for n, v, m in a[1]) + "))")
        elif k in ("set_tcp", "set_udp"):
            out.append(f"set({k[4:]}(" + ",".join(f"{n}={v}" for n, v in a[1]) + "))")
        elif k == "pop_vlan":
            out.append("pop_vlan")
        elif k == "push_vlan":
            out.append(f"push_vlan(vid={a[1]},pcp={a[2]})")
        elif k == "ct":
            out.append(f"ct({a[1]})" if a[1] else "ct")
        elif k == "recirc":
            out.append(f"recirc({a[1]:#x})")
        elif k == "set_priority":
            out.append(f"set(skb_priority({a[1]:#x}))")
        elif k == "set_tunnel":
            out.append(f"set({format_tunnel(a[1])})")
        elif k == "hash":
            out.append(f"hash({a[1]})")
        elif k == "meter":
            out.append(f"meter({a[1]})")
        elif k == "userspace":
            out.append(f"userspace(pid=0,controller(reason=1,dont_send=1,continuation=0,recirc_id=1,rule_cookie=0,"
                       f"controller_id=0,max_len={a[1]}))")
    return ",".join(out) if out else "drop"


def _masked_set(name: str, v: int, m: int) -> str:
    """One field of a masked set action: `src=1.2.3.4`, `tos=0x10/0xfc`, `ttl=63`."""
    if name in ("src", "dst"):
        text, mtext, full = int_to_ip(v), int_to_ip(m), 0xFFFFFFFF
    else:
        text, mtext, full = (f"{v:#x}" if v else "0") if name == "tos" else str(v), f"{m:#x}", 0xFF
    return f"{name}={text}" if m == full else f"{name}={text}/{mtext}"


def format_tunnel(key: tuple[int, ...]) -> str:
    """format_odp_tun_attr: `tunnel(tun_id=0x5,src=...,dst=...,ttl=64,tp_dst=4789,flags(df|key))`;
    the id only with the key flag, zero addresses, TOS and ports left out."""
    tun_id, src, dst, tos, ttl, tp_dst, flags = key
    parts = []
    if flags & TUNNEL_KEY:
        parts.append(f"tun_id={c_hex(tun_id)}")
    if src:
        parts.append(f"src={int_to_ip(src)}")
    parts.append(f"dst={int_to_ip(dst)}")
    if tos:
        parts.append(f"tos={tos:#x}")
    parts.append(f"ttl={ttl}")
    if tp_dst:
        parts.append(f"tp_dst={tp_dst}")
    names = [n for n, b in (("df", TUNNEL_DF), ("csum", TUNNEL_CSUM), ("key", TUNNEL_KEY)) if flags & b]
    parts.append(f"flags({'|'.join(names)})")
    return f"tunnel({','.join(parts)})"


def execute(dp: OvsDatapath, frame: Ethernet, odp: list[tuple[Any, ...]], xb: XBridge | None = None,
            recirc: Recirculate | None = None, tracker: ConnTracker | None = None, nbytes: int = 0) -> None:
    """odp_execute_actions on a real packet: sets, VLAN pushes and pops, outputs (a copy each);
    `userspace` is the packet-in to `xb`'s controllers; `set(tunnel(...))` is the key the
    next output to a tunnel vport sends with; `ct(...)` tracks the packet in `tracker`
    (net/openvswitch/conntrack.c ovs_ct_execute: its ct_state, a commit, NAT rewriting the
    packet) and `recirc(id)` hands a copy with that ct_state back to the datapath's lookup.
    `nbytes`, when known, is `frame`'s length (an output of the packet as it came needs not
    measure it again)."""
    cur = frame
    tun: TunnelKey | None = None
    ct_state = ct_zone = 0
    for a in odp:
        k = a[0]
        if k == "ct" and tracker is not None:
            f = flow_extract(cur, 0)
            _text, ct_zone, commit, nat = a[1:]
            ct_state = tracker.lookup(ct_zone, f)
            if commit:
                tracker.commit(ct_zone, f, nat)
            mapped = tracker.nat_for(ct_zone, f) if nat is not None else None
            if mapped is not None:
                cur = _frame_for(cur, {"nw_src": mapped[0], "nw_dst": mapped[1]})
        elif k == "recirc" and recirc is not None:
            recirc(cur.copy(), a[1], ct_state, ct_zone)
        elif k == "output":
            dp.output(a[1], cur.copy(), tun, nbytes if cur is frame else 0)
        elif k == "meter":
            if not a[2].admit(cur.wire_len(), dp.ns.sched.now):
                return      # over the band's rate: the meter drops it (ovs_meter_execute)
        elif k == "set_tunnel":
            tun_id, src, dst, tos, ttl, tp_dst, flags = a[1]
            tun = TunnelKey(tun_id, src, dst, tos, ttl, 0, tp_dst, flags)
        elif k == "set_eth":
            cur = cur.copy()
            for n, v in a[1]:
                b = v.to_bytes(6, "big")
                if n == "src":
                    cur.src = b
                else:
                    cur.dst = b
        elif k == "set_ipv4" and isinstance(cur.payload, IPv4):
            cur = cur.copy()
            ip = cur.payload
            assert isinstance(ip, IPv4)
            for n, v, m in a[1]:
                setattr(ip, n, (getattr(ip, n) & ~m) | (v & m))
        elif k in ("set_tcp", "set_udp") and isinstance(cur.payload, IPv4):
            cur = cur.copy()
            ip = cur.payload
            assert isinstance(ip, IPv4)
            l4 = ip.payload
            if isinstance(l4, (Tcp, Udp)):
                ch = {("sport" if n == "src" else "dport"): v for n, v in a[1]}
                ip.payload = dataclasses.replace(l4, **ch)
        elif k == "pop_vlan":
            cur = cur.copy()
            cur.vlans = cur.vlans[1:]
        elif k == "set_priority":
            cur = cur.copy()
            if cur.meta is None:
                cur.meta = SkbMeta()
            cur.meta.priority = a[1]
        elif k == "push_vlan":
            cur = cur.copy()
            cur.vlans = (Dot1Q(a[1], a[2], 0, ETH_P_8021Q),) + cur.vlans
        elif k == "userspace" and xb is not None:
            for channel in xb.channels.values():
                channel.packet_in(cur, a[2], a[3], a[4], a[1])


def upcall_handler(vsd: OvsVswitchd) -> Any:
    """The handler ovs-vswitchd registers on its datapath: every upcall is translated
    by the bridge owning the port, and its actions executed at once."""
    revalidate = _revalidator(vsd)
    changes = vsd.changes
    cache = vsd.flow_cache

    def handle(dp: OvsDatapath, dp_port: int, frame: Ethernet, tun: TunnelKey | None = None, nbytes: int = 0) -> None:
        if not nbytes:
            nbytes = frame.wire_len()
        if tun is not None:
            found = vsd.tunnel_port_for(dp_port, tun)
            if found is not None:
                xb, p = found
                p.rx_packets += 1
                p.rx_bytes += nbytes
                process(vsd, xb, p.ofport, frame, dp, tun, nbytes, revalidate)
            return      # no port configured for it: dropped (tnl_port_receive: "receive tunnel port not found")
        found = vsd.port_map.get(dp_port) if vsd.port_map_at == changes.value else vsd.port_for(dp_port)
        if found is None:
            return
        xb, p = found
        p.rx_packets += 1
        p.rx_bytes += nbytes
        if frame.type == ETH_P_SLOW and vsd.lacp_rx(xb, p, frame):    # (lacp_rx: only a LACPDU)
            return
        ofport = p.ofport
        ns = dp.ns
        world = ns.world
        if world.fastpath and not world.tracer.on:
            # the usual hit in one step: `process`'s, for a megaflow whose translation was one rule
            # and one output (Megaflow.fast), current, used before and not idle
            ip = frame.payload
            if frame.type == ETH_P_IP and not frame.vlans and ip.__class__ is IPv4 and not ip.frag \
                    and (t4 := ip.payload).__class__ is Udp:
                # exact_key's UDP key, inline
                key: tuple[Any, ...] | None = (xb.name, ofport, frame.src, frame.dst, ip.src, ip.dst, ip.proto, ip.tos,
                                               ip.ttl, t4.sport, t4.dport)
                tcp_flags = 0
            else:
                key = exact_key(xb.name, frame, ofport)
                tcp_flags = key[11] if key is not None and len(key) == 12 else 0   # a TCP key ends with its flags
            if key is not None:
                e = cache.emc.get(key)
                if e is not None and e.fast is not None and e.alive and e.seq == changes.value:
                    used = e.used
                    now = ns.sched.now
                    if used is not None and now - used < MAX_IDLE:
                        lookups, matched, table, rule, port = e.fast
                        cache.mask_hits += 1
                        cache.hits += 1
                        lookups[table] += 1
                        matched[table] += 1
                        rule.n_packets += 1
                        rule.n_bytes += nbytes
                        rule.used = now
                        e.packets += 1
                        e.bytes += nbytes
                        e.used = now
                        if tcp_flags:
                            e.tcp_flags |= tcp_flags
                        dev: Any = dp.vports.get(port)
                        if type(dev) in FAST_DEVICE_CLASSES:
                            peer = dev.peer
                            link = dev.link
                            if (dev.up and dev.qdisc is None and peer is not None and link is not None and peer.up
                                    and not ns.wmem_owned and not ns.ptype_all and world.capture is None
                                    and now >= dev.busy_until and not dev.txq):
                                fast_xmit(ns, dev, frame, nbytes, now, 0)   # (xmit_state's 0, inline)
                                return
                        dp.output(port, frame, None, nbytes)
                        return
        process(vsd, xb, ofport, frame, dp, None, nbytes, revalidate)

    return handle


def megaflow_fields(wc: dict[str, int], flow: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """xlate_wc_finish: the mask of the datapath flow a translation installs. Registers and
    metadata are not packet fields; a packet from no tunnel has no tunnel fields (one from a
    tunnel is told apart by its outer header, tnl_wc_init); a VLAN header's presence is
    always matched (the datapath's outer ethertype); ICMP's type and code are 8 bits."""
    out = dict(wc)
    for k in list(out):
        if k.startswith(("reg", "tun_")) or k == "metadata":
            del out[k]
    if flow.get("tun_dst"):
        out["tun_id"], out["tun_src"], out["tun_dst"] = (1 << 64) - 1, 0xFFFFFFFF, 0xFFFFFFFF
        out["tun_flags"] = out["tun_tos"] = 0xFF
    out["vlan_tci"] = out.get("vlan_tci", 0) | VLAN_CFI
    out["in_port"] = out["dl_type"] = 0xFFFF
    out["recirc_id"] = 0xFFFFFFFF
    if flow.get("dl_type") == ETH_P_IP and flow.get("nw_proto") == IPPROTO_ICMP:
        for k in ("tp_src", "tp_dst"):
            if k in out:
                out[k] &= 0xFF
    return tuple(sorted((k, m) for k, m in out.items() if m))


def _revalidator(vsd: OvsVswitchd) -> Any:
    """revalidate_ukey: the flow's packet translated again, without side effects."""
    def revalidate(e: Any) -> Any:
        xb = vsd.bridges.get(e.part[0])
        if xb is None:
            return None
        x = Xlate(vsd, xb, e.flow, None, tracing=False, may_learn=False, stats=False)
        rid = e.flow.get("recirc_id", 0)
        if rid:
            state = vsd.frozen_by_id.get(rid)
            if state is None:
                return None
            x.table(state[1], x.root)
            x.run_action_set(x.root)
        else:
            x.run()
        if not x.cacheable:
            return None
        return megaflow_fields(x.wc, e.flow), x.odp, x.lookups, x.groups_hit, x.learns
    return revalidate


def revalidate_all(vsd: OvsVswitchd) -> None:
    """The revalidators' round before a dump: idle flows go, stale ones are checked."""
    vsd.flow_cache.sweep(vsd.now(), _revalidator(vsd))


def frozen_state(bridge: str, table: int, flow: dict[str, int]) -> tuple[Any, ...]:
    """struct frozen_state as recirc ids are shared by (ofproto-dpif-rid.c): the bridge, the
    table the recirculated packet resumes at, and the frozen metadata (in_port, metadata,
    registers, tunnel)."""
    return (bridge, table, flow.get("in_port", 0),
            tuple(sorted((k, v) for k, v in flow.items() if k.startswith(("reg", "tun_", "metadata")))))


MAX_RECIRC_DEPTH = 16   # dpif-netdev's MAX_RECIRC_DEPTH (6 there; 16 here as before)


def process(vsd: OvsVswitchd, xb: XBridge, ofport: int, frame: Ethernet, dp: OvsDatapath,
            tun: TunnelKey | None = None, nbytes: int = 0, revalidate: Any = None,
            recirc_id: int = 0, ct_state: int = 0, ct_zone: int = 0, depth: int = 0) -> None:
    """One packet (`nbytes` long) through the datapath: its megaflow's actions, or the upcall's
    translation (installed as a megaflow). A recirculated packet (`recirc_id`, after a ct()) is
    looked up again with its ct_state, and on a miss translated from its frozen state's table.

    The usual packet finds its megaflow in the exact match cache by `exact_key`, without its
    flow being extracted; a flow whose actions are only outputs is executed without the
    general interpreter (`Megaflow.outs`)."""
    if not nbytes:
        nbytes = frame.wire_len()
    ns = dp.ns
    world = ns.world
    use_cache = world.fastpath and not world.tracer.on      # `netplex trace` reports each table: the slow path
    cache = vsd.flow_cache
    now = ns.sched.now
    flow: dict[str, int] | None = None
    if use_cache:
        key = exact_key(xb.name, frame, ofport) if tun is None and not recirc_id else None
        if key is None:
            flow = _flow_of(vsd, frame, ofport, tun, recirc_id, ct_state, ct_zone)
            if flow is None:
                return
            key = (xb.name, *flow.items())
        e = cache.emc.get(key)
        if e is not None and e.alive:
            cache.mask_hits += 1
        else:
            if flow is None:
                flow = flow_extract(frame, ofport)
            e = cache.classify((xb.name, ofport), key, flow)
            if e is None:
                cache.misses += 1
        # the usual hit (used before, not idle, current, nothing timed or learned) passes every test of
        # FlowCache.admit at once
        if e is not None and ((e.used is not None and now - e.used < MAX_IDLE and e.seq == cache.seq.value
                               and not e.guarded) or cache.admit(e, now, revalidate or _revalidator(vsd))):
            # the hit's statistics, pushed to the rules, tables and groups the translation went through
            cache.hits += 1
            for lookups, matched, table, rule in e.pushes:
                lookups[table] += 1
                if rule is not None:
                    matched[table] += 1
                    rule.n_packets += 1
                    rule.n_bytes += nbytes
                    rule.used = now
            if e.groups:
                for g in e.groups:
                    g.packets += 1
                    g.bytes += nbytes
            e.packets += 1
            e.bytes += nbytes
            e.used = now
            if flow is not None:
                e.tcp_flags |= flow.get("tcp_flags", 0)
            elif len(key) == 12:
                e.tcp_flags |= key[11]      # a TCP key's last element is its flags (exact_key)
            outs = e.outs
            if outs is not None:
                # the last action takes the packet itself, the others a clone each (the kernel's
                # do_execute_actions; a received frame is its receiver's, as a bridge's last port's)
                if len(outs) == 1:
                    dp.output(outs[0], frame, None, nbytes)
                else:
                    last = len(outs) - 1
                    for i, port in enumerate(outs):
                        dp.output(port, frame if i == last else frame.copy(), None, nbytes)
            else:
                execute(dp, frame, e.odp, xb, _again(vsd, xb, ofport, dp, tun, revalidate, depth), vsd.conntrack,
                        nbytes)
            return
    if flow is None:
        flow = _flow_of(vsd, frame, ofport, tun, recirc_id, ct_state, ct_zone)
        if flow is None:
            return
    x = Xlate(vsd, xb, flow, frame, tracing=False)
    if recirc_id:
        x.table(vsd.frozen_by_id[recirc_id][1], x.root)
        x.run_action_set(x.root)
    else:
        x.run()
    odp = list(x.odp) if x.error is None else []    # a failed translation drops the packet
    if x.error is not None or (len(odp) * _ODP_OTHER_BYTES > MAX_ODP_BYTES and x.slow()):
        x.cacheable = False     # no datapath flow: each packet comes up again
    if use_cache and x.cacheable:
        cache.put((xb.name, ofport), megaflow_fields(x.wc, flow), flow, now, odp, x.lookups, x.groups_hit, x.learns)
    execute(dp, frame, odp, xb, _again(vsd, xb, ofport, dp, tun, revalidate, depth), vsd.conntrack, nbytes)


def _flow_of(vsd: OvsVswitchd, frame: Ethernet, ofport: int, tun: TunnelKey | None, recirc_id: int, ct_state: int,
             ct_zone: int) -> dict[str, int] | None:
    """The packet's flow with what the datapath knows beside it: the tunnel it came from, and
    for a recirculated packet its frozen state, recirc_id and ct_state (None: an unknown id)."""
    flow = flow_extract(frame, ofport)
    if tun is not None:
        flow["tun_id"], flow["tun_src"], flow["tun_dst"] = tun.tun_id, tun.src, tun.dst
        flow["tun_tos"], flow["tun_ttl"], flow["tun_flags"] = tun.tos, tun.ttl, tun.flags
    if recirc_id:
        state = vsd.frozen_by_id.get(recirc_id)
        if state is None:
            return None
        flow.update(state[3])
        flow["recirc_id"], flow["ct_state"] = recirc_id, ct_state
        if ct_zone:
            flow["ct_zone"] = ct_zone
    return flow


def _again(vsd: OvsVswitchd, xb: XBridge, ofport: int, dp: OvsDatapath, tun: TunnelKey | None, revalidate: Any,
           depth: int) -> Recirculate:
    """The datapath's recirculation of a packet `process` executes actions for: `recirc(id)`
    hands it back with its ct_state, at most MAX_RECIRC_DEPTH deep."""
    def again(f: Ethernet, rid: int, st: int, zone: int) -> None:
        if depth < MAX_RECIRC_DEPTH:
            process(vsd, xb, ofport, f, dp, tun, f.wire_len(), revalidate, rid, st, zone, depth + 1)
    return again


def packet_out(vsd: OvsVswitchd, xb: XBridge, in_port: int, frame: Ethernet, acts: list[Act]) -> None:
    """A controller's OFPT_PACKET_OUT: its actions on its packet, as if it came in on `in_port`."""
    x = Xlate(vsd, xb, flow_extract(frame, in_port), frame, tracing=False)
    x.do_actions(acts, x.root, 0, x.root)
    dp = xb.dp

    def again(f: Ethernet, rid: int, st: int, zone: int) -> None:
        process(vsd, xb, in_port, f, dp, None, f.wire_len(), None, rid, st, zone, 1)

    execute(dp, frame, x.odp, xb, again, vsd.conntrack)


def _frame_for(frame: Ethernet, flow: dict[str, int]) -> Ethernet:
    """The packet a recirculation continues with (NAT applied to its addresses)."""
    p = frame.payload
    if isinstance(p, IPv4) and (p.src != flow.get("nw_src", p.src) or p.dst != flow.get("nw_dst", p.dst)):
        f = frame.copy()
        ip = f.payload
        assert isinstance(ip, IPv4)
        ip.src, ip.dst = flow["nw_src"], flow["nw_dst"]
        return f
    return frame

