"""`ovs-appctl` to ovs-vswitchd (utilities/ovs-appctl.c; ovs-vswitchd(8)
"RUNTIME MANAGEMENT COMMANDS"): fdb/show, fdb/flush, ofproto/trace, bond/lacp,
dpctl/dump-flows, dpctl/del-flows, dpctl/show, dpif/dump-flows (dpctl.py), version.

`ofproto/trace BRIDGE FLOW` walks a made-up packet through the bridge's
tables without sending it (nothing is learned, no counter moves), in OVS
3.1's text: `Flow:`, the bridge and its tables, `Final flow:`, `Megaflow:`
and `Datapath actions:`, then each conntrack recirculation. The megaflow is
the fields the walk read: the classifier's staged lookups with its prefix and
ports tries (classifier.py), NORMAL's inputs, what actions read or rewrote,
as a packet's datapath flow would match them.
"""
from __future__ import annotations

import re

from netplex.ovs.actions import split_top
from netplex.ovs.bond import format_bond, format_lacp
from netplex.ovs.dpctl import dpctl, dpif_dump_flows
from netplex.ovs.flow import ETH_P_IP, IPPROTO_TCP, VLAN_CFI, FlowError, Match
from netplex.ovs.ofproto import parse_flow_mod
from netplex.ovs.ovsdb import DbError
from netplex.ovs.service import VSWITCHD_CTL, connect, running_vswitchd
from netplex.ovs.vswitchd import OVS_VERSION, OvsVswitchd, XBridge
from netplex.ovs.xlate import (
    Xlate,
    flow_format,
    format_odp,
    local_port_name,
    print_trace,
    tunnel_flags_text,
    with_tunnel_fields,
)
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["ovs_appctl", "trace"]

def _server_error(target: str) -> str:
    """The target as the user named it (`ovs-vswitchd` by default)."""
    return f"ovs-appctl: {target}: server returned an error\n"
_BAR = "=" * 79


_FLOW_MOD_KEYS = ("table", "priority", "cookie", "idle_timeout", "hard_timeout", "importance", "out_port",
                  "out_group", "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
                  "no_byte_counts", "actions")


OFPP_NONE = 0xFFFF


def _flow_from_text(xb: XBridge, text: str) -> dict[str, int]:
    """The packet ofproto/trace is asked about, from flow syntax (fields not given are 0).
    `nw_frag=no` (what ofproto/trace's own Flow line prints for an IP packet) is taken;
    fragments are not modelled."""
    frag = re.search(r"(?:^|,)(?:nw|ip)_frag=([a-z_]+)", text)
    if frag is not None:
        if frag.group(1) != "no":
            raise FlowError(f"netplex: ofproto/trace of a fragment ({frag.group(0).lstrip(',')}) is not supported")
        text = text[:frag.start()] + text[frag.end():]
    try:
        # parse_ofp_exact_flow: match fields only; tp_src/tp_dst are tcp_src/tcp_dst's names
        for item in split_top(text):
            key = re.split(r"[=:]", item.strip(), maxsplit=1)[0]
            if key in _FLOW_MOD_KEYS:
                raise FlowError(f"unknown field {key}")
        fm = parse_flow_mod(text, "delete", xb.port_no)
        for key in ("tp_src", "tp_dst"):
            if re.search(rf"(?:^|[\s,]){key}=", text) and fm.match.fields.get("nw_proto", (0, 0))[0] != IPPROTO_TCP:
                raise FlowError(f"prerequisites not met for setting {key}")
    except FlowError as e:
        raise FlowError(f"Bad openflow flow syntax: {text}: {e.message}") from None
    flow = {k: v for k, (v, _m) in fm.match.fields.items()}
    flow.setdefault("in_port", OFPP_NONE)    # no in_port: OFPP_NONE, which prints as ANY
    flow.setdefault("dl_type", 0)
    return flow


def _megaflow(x: Xlate, flow: dict[str, int], recirc: int = 0) -> str:
    m = Match()
    tunneled = bool(flow.get("tun_dst"))
    for k, mask in x.wc.items():
        # xlate_wc_finish: registers and metadata are not packet fields, and a packet without
        # a tunnel has no tunnel fields to match
        if not k.startswith(("tun_", "reg")) and k != "metadata" and not (
                k == "vlan_tci" and not flow.get("vlan_tci", 0) & VLAN_CFI):    # no VLAN header: no VLAN match
            m.set(k, flow.get(k, 0), mask)
    if tunneled:    # tnl_wc_init: a packet from a tunnel is told apart by its outer header
        m.set("tun_id", flow.get("tun_id", 0), (1 << 64) - 1)
        m.set("tun_src", flow.get("tun_src", 0), 0xFFFFFFFF)
        m.set("tun_dst", flow["tun_dst"], 0xFFFFFFFF)
    if flow.get("dl_type") == ETH_P_IP:
        m.set("dl_type", ETH_P_IP, 0xFFFF)   # an IP flow's megaflow always pins the type (and nw_frag)
    text = m.format(32768, local_port_name)
    if tunneled:
        text = with_tunnel_fields(text, flow, f"tun_tos={flow.get('tun_tos', 0):x},"
                                        f"tun_flags={tunnel_flags_text(flow.get('tun_flags', 0), exact=False)}")
    if flow.get("dl_type") == ETH_P_IP:
        parts = text.split(",")
        # nw_frag=no goes after the L3 fields, before the L4 ones (match_format's order)
        idx = len(parts)
        for i, p in enumerate(parts):
            if p.startswith(("tp_src", "tp_dst", "icmp_type", "icmp_code", "tcp_flags")):
                idx = i
                break
        parts.insert(idx, "nw_frag=no")
        text = ",".join(parts)
    head = f"recirc_id={recirc:#x}" if recirc else "recirc_id=0"
    parts = text.split(",") if text else []
    # the conntrack fields are metadata: before the packet type, as match_format prints them
    ct = [p for p in parts if p.startswith(("ct_state", "ct_zone", "ct_mark"))]
    rest = [p for p in parts if not p.startswith(("ct_state", "ct_zone", "ct_mark"))]
    return ",".join([head, *ct, "eth", *rest])


# ct_state_to_string's flags, by bit
_CT_FLAGS = {"new": 0x01, "est": 0x02, "rel": 0x04, "rpl": 0x08, "inv": 0x10, "trk": 0x20, "snat": 0x40, "dnat": 0x80}


def parse_ct_next(text: str) -> int:
    """parse_ct_state and validate_ct_state for `--ct-next FLAGS` (`trk,est`)."""
    state = 0
    for word in re.split(r"[, ]+", text.strip(", ")) if text.strip(", ") else []:
        if word not in _CT_FLAGS:
            raise FlowError(f"{word}: unknown connection tracking state flag")
        state |= _CT_FLAGS[word]
    shown = "|".join(n for n, b in _CT_FLAGS.items() if state & b)
    why = []
    if state and not state & 0x20:
        why.append('If "trk" is unset, no other flags are set')
    if state & 0x10 and state & ~0x30:
        why.append('when "inv" is set, only "trk" may also be set')
    if state & 0x01 and state & 0x02:
        why.append('"new" and "est" are mutually exclusive')
    if state & 0x01 and state & 0x08:
        why.append('"new" and "rpy" are mutually exclusive')
    if why:
        raise FlowError("".join(f"{shown}: invalid connection state: {w}\n" for w in why).rstrip("\n"))
    return state


def trace(vsd: OvsVswitchd, xb: XBridge, flow: dict[str, int], ct_next: list[int] | None = None) -> str:
    """ofproto/trace's report; `ct_next`: the ct_state each conntrack recirculation resumes
    with, in turn (`--ct-next`), trk|new once they are used up."""
    ct_next = list(ct_next or [])
    out: list[str] = []
    x = Xlate(vsd, xb, flow, None, tracing=True, may_learn=False)
    _report(x, flow, out, 0)
    n = 0
    todo = list(x.recircs)
    taken = [a[1] for a in x.odp if a[0] == "recirc"]
    while todo and n < 16:
        table, rflow, _zone, rid = todo.pop(0)
        n += 1
        out.append("")
        out.append(_BAR)
        if ct_next:
            state = ct_next.pop(0)
            rflow = {**rflow, "ct_state": state}
            shown = "|".join(n for n, b in _CT_FLAGS.items() if state & b)
            out.append(f"recirc({rid:#x}) - resume conntrack with ct_state={shown}")
        else:
            out.append(f"recirc({rid:#x}) - resume conntrack with default ct_state=trk|new "
                       "(use --ct-next to customize)")
        out.append(_BAR)
        out.append("")
        y = Xlate(vsd, xb, rflow, None, tracing=True, may_learn=False)
        _report(y, rflow, out, rid, table)
        todo.extend(y.recircs)
        taken += [a[1] for a in y.odp if a[0] == "recirc"]
    vsd.recirc_release(taken)       # xlate_out_uninit: the trace's references go (a datapath flow's stay)
    return "\n".join(out) + "\n"


def _report(x: Xlate, flow: dict[str, int], out: list[str], recirc: int, table: int = 0) -> None:
    out.append(f"Flow: {flow_format(flow, recirc=recirc)}")
    out.append("")
    if recirc:
        bridge = x.root.add("bridge", f'bridge("{x.xb.name}")')
        thaw = bridge.add("thaw", "thaw")
        thaw.add("action", f"Resuming from table {table}")
        x.node = bridge
        x.table(table, bridge)
        x.run_action_set(bridge)
    else:
        x.run()
    lines: list[str] = []
    print_trace(x.root.subs, 0, lines)
    out.extend(lines)
    out.append("")
    final = dict(x.flow)
    # flow_equal(initial, final): a resumed pipeline that leaves the flow as it resumed is unchanged
    # (the flow's actset_output, which the action set's output sets, counts, unprinted)
    changed = {k: v for k, v in final.items() if v} != {k: v for k, v in flow.items() if v} \
        or x.actset_output is not None
    out.append(f"Final flow: {flow_format(final, recirc=recirc) if changed else 'unchanged'}")
    out.append(f"Megaflow: {_megaflow(x, flow, recirc)}")
    out.append(f"Datapath actions: {format_odp(x.odp)}")
    if x.error is not None:
        out.append(f"\nTranslation failed ({x.error}), packet is dropped.")
    elif x.slow():
        out.append("\nThis flow is handled by the userspace slow path because it:\n"
                   "  - Uses action(s) not supported by datapath.")


def _bond_cmd(vsd: OvsVswitchd, cmd: str, rest: list[str], target: str) -> Result:
    """bond/show [PORT], bond/list, lacp/show [PORT] (ofproto/bond.c, lib/lacp.c unixctl)."""
    bonds = sorted(((name, b) for xb in vsd.bridges.values() for name, b in xb.bonds.items()))
    if cmd == "bond/list":
        lines = ["bond\ttype\trecircID\tmembers"]
        lines += [f"{name}\t{b.mode}\t{b.recirc_id}\t{', '.join(sorted(b.members, reverse=True))}" for name, b in bonds]
        return Result(0, "\n".join(lines) + "\n")
    if cmd == "bond/show":
        chosen = [b for name, b in bonds if not rest or name == rest[0]]
        if rest and not chosen:
            return Result(2, "", f"no such bond\n{_server_error(target)}")
        return Result(0, "".join(format_bond(b, vsd.now()) for b in chosen))
    lacps = [b.lacp for name, b in bonds if b.lacp is not None and (not rest or name == rest[0])]
    if rest and not lacps:
        return Result(2, "", f"no such lacp object\n{_server_error(target)}")
    return Result(0, "".join(format_lacp(lacp) for lacp in lacps))


@command("ovs-appctl")
def ovs_appctl(ctx: Context, argv: list[str]) -> Result:
    """ovs-appctl(8) to ovs-vswitchd (`-t ovs-vswitchd`, the default target)."""
    args = argv[1:]
    target = "ovs-vswitchd"
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-t", "--target"):
            if not args:
                return Result(1, "", f"ovs-appctl: option '{opt}' requires an argument\n")
            target = args.pop(0)
        elif opt.startswith("--target="):
            target = opt.split("=", 1)[1]
        elif opt.startswith("--timeout") or opt == "-T":
            if opt == "-T":
                args = args[1:]
        elif opt.startswith(("-v", "--verbose")):
            pass        # ovs-appctl's own log levels (`-vpoll_loop:off`): it logs nothing here
        else:
            return Result(1, "", f"ovs-appctl: unrecognized option '{opt}'\n" if opt.startswith("--") else
                          f"ovs-appctl: invalid option -- '{opt[1:2]}'\n")
    if not args:
        return Result(1, "", "ovs-appctl: at least one non-option argument is required (use --help for help)\n")
    if target not in ("ovs-vswitchd", VSWITCHD_CTL):
        return Result(2, "", f"netplex: ovs-appctl -t {target} is not supported\n")
    try:
        _server, vsd = connect(ctx.machine, "ovs-appctl")
    except DbError:
        vsd = None
    if vsd is None:
        return Result(1, "", f"ovs-appctl: cannot connect to \"{VSWITCHD_CTL}\" (No such file or directory)\n")
    cmd, rest = args[0], args[1:]
    if cmd == "version":
        return Result(0, f"ovs-vswitchd (Open vSwitch) {OVS_VERSION}\n")
    if cmd == "fdb/show":
        if len(rest) != 1:
            return Result(2, "", f"\"fdb/show\" command requires at least 1 arguments\n{_server_error(target)}")
        xb = vsd.bridges.get(rest[0])
        if xb is None:
            return Result(2, "", f"no such bridge\n{_server_error(target)}")
        return Result(0, vsd.fdb_show(xb))
    if cmd == "fdb/flush":
        if rest:
            xb = vsd.bridges.get(rest[0])
            if xb is None:
                return Result(2, "", f"no such bridge\n{_server_error(target)}")
            xb.mac_flush()
        else:
            for xb in vsd.bridges.values():
                xb.mac_flush()
        return Result(0, "table successfully flushed\n")
    if cmd == "ofproto/trace":
        ct_next: list[int] = []
        plain: list[str] = []
        i = 0
        while i < len(rest):
            if rest[i] != "--ct-next":
                plain.append(rest[i])
                i += 1
                continue
            if i + 1 >= len(rest):
                return Result(2, "", f"Missing argument for option --ct-next\n{_server_error(target)}")
            try:
                ct_next.append(parse_ct_next(rest[i + 1]))
            except FlowError as e:
                return Result(2, "", f"{e.message}\n{_server_error(target)}")
            i += 2
        rest = plain
        if len(rest) < 2:
            return Result(2, "", f"\"ofproto/trace\" command requires at least 1 arguments\n{_server_error(target)}")
        if len(rest) > 2:
            return Result(2, "", "netplex: ovs-appctl ofproto/trace with a packet is not supported\n")
        xb = vsd.bridges.get(rest[0])
        if xb is None:
            return Result(2, "", f"{rest[0]}: unknown bridge\n{_server_error(target)}")
        try:
            flow = _flow_from_text(xb, rest[1])
        except FlowError as e:
            return Result(2, "", f"{e.message}\n{_server_error(target)}")
        report = trace(vsd, xb, flow, ct_next)
        if vsd.abort_reason is not None:     # the daemon died answering: its socket closed
            return Result(1, "", "ovs-appctl: ovs-vswitchd: transaction error (End of file)\n")
        return Result(0, report)
    if cmd in ("bond/show", "lacp/show", "bond/list"):
        return _bond_cmd(vsd, cmd, rest, target)
    if cmd in ("dpctl/dump-flows", "dpctl/del-flows", "dpctl/show"):
        return dpctl(vsd, cmd.split("/")[1], rest, "ovs-appctl")
    if cmd == "dpif/dump-flows":
        return dpif_dump_flows(vsd, rest)
    if cmd in ("coverage/show", "dpif/show"):
        return Result(2, "", f"netplex: ovs-appctl {cmd} is not supported\n")
    return Result(2, "", f"\"{cmd}\" is not a valid command (use \"list-commands\" to see a list of valid commands)\n"
                         f"{_server_error(target)}")


@command("ovs-dpctl")
def ovs_dpctl(ctx: Context, argv: list[str]) -> Result:
    """ovs-dpctl(8): the kernel datapath's own tool; dump-flows [-m], del-flows and show
    (dpctl.py), the other commands refused in netplex's words."""
    args = argv[1:]
    if not args or args[0] not in ("dump-flows", "del-flows", "show"):
        what = args[0] if args else "without a command"
        return Result(2, "", f"netplex: ovs-dpctl {what} is not supported\n")
    return dpctl(running_vswitchd(ctx.machine), args[0], args[1:], "ovs-dpctl")
