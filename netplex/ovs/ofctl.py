"""`ovs-ofctl` (utilities/ovs-ofctl.c; ovs-ofctl(8)) against a bridge of the
machine's ovs-vswitchd.

show, dump-flows [--no-stats] [FLOW], add-flow, add-flows FILE|-, mod-flows
[--strict], del-flows [--strict] [FLOW], dump-ports [PORT], dump-tables,
dump-port-desc, add-group, add-groups FILE, mod-group, del-groups [GROUP],
dump-groups [GROUP], dump-group-stats [GROUP], add-meter, mod-meter, del-meter[s],
dump-meters, meter-stats, meter-features, queue-stats [PORT [QUEUE]], with `-O/--protocols
OpenFlow10..OpenFlow15` (the text of actions and the message names follow the
version, as ovs-ofctl's do); an OFPT_ERROR from the switch is printed with the
request as ovs-ofctl prints it. Refused in netplex's words: bucket commands,
bundles, monitor, snoop, packet-out.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from netplex.errors import NetplexError
from netplex.ovs.actions import format_actions
from netplex.ovs.flow import FlowError
from netplex.ovs.group import Group, format_group, parse_group_mod
from netplex.ovs.meter import Meter, format_meter_config, format_meter_stats, parse_meter_mod
from netplex.ovs.ofp_gmq import OFPQ_ALL, OFPQOFC_BAD_PORT, OFPQOFC_BAD_QUEUE
from netplex.ovs.ofproto import N_TABLES, NS, FlowMod, GroupModError, parse_flow_mod
from netplex.ovs.ovsdb import DbError
from netplex.ovs.parseflow import (
    ALLOWED_BY_VERSION,
    FLOW_FORMATS,
    P_ANY,
    P_TID,
    actions_usable,
    match_usable,
    parse_flows,
    protocols_to_string,
)
from netplex.ovs.queuestats import format_queue_stats, queue_stats, request_text
from netplex.ovs.service import connect
from netplex.ovs.vswitchd import OFPP_LOCAL, OvsVswitchd, XBridge
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["ovs_ofctl"]

_VERSIONS = {"OpenFlow10": 1, "OpenFlow11": 2, "OpenFlow12": 3, "OpenFlow13": 4, "OpenFlow14": 5, "OpenFlow15": 6}
_VER_TEXT = {2: "OF1.1", 3: "OF1.2", 4: "OF1.3", 5: "OF1.4", 6: "OF1.5"}
_UNSUPPORTED = ("insert-buckets", "remove-buckets", "monitor",
                "snoop", "packet-out", "replace-flows", "diff-flows", "bundle", "queue-get-config",
                "dump-aggregate", "mod-table", "get-frags", "set-frags", "probe", "ping", "benchmark",
                "dump-desc", "dump-table-features", "dump-ipfix-bridge", "dump-ipfix-flow", "ct-flush-zone",
                "dump-tlv-map", "add-tlv-map", "del-tlv-map")
_ARGS = {"show": (1, 1), "dump-flows": (1, 2), "add-flow": (2, 2), "add-flows": (2, 2), "mod-flows": (2, 2),
         "del-flows": (1, 2), "dump-ports": (1, 2), "dump-tables": (1, 1), "dump-port-desc": (1, 2),
         "add-group": (2, 2), "add-groups": (2, 2), "mod-group": (2, 2), "del-groups": (1, 2),
         "dump-groups": (1, 2), "dump-group-stats": (1, 2), "add-meter": (2, 2), "mod-meter": (2, 2),
         "del-meter": (1, 2), "del-meters": (1, 2), "dump-meters": (1, 2), "meter-stats": (1, 2),
         "meter-features": (1, 1), "parse-flow": (1, 1), "parse-flows": (1, 1), "mod-port": (3, 3),
         "queue-stats": (1, 3)}
# mod-port's other actions (OFPPC_NO_STP, NO_RECV, NO_RECV_STP, NO_FWD, NO_FLOOD, NO_PACKET_IN)
_MOD_PORT_REFUSED = ("stp", "no-stp", "receive", "no-receive", "receive-stp", "no-receive-stp", "forward",
                     "no-forward", "flood", "no-flood", "packet-in", "no-packet-in")
_METER_CMDS = ("add-meter", "mod-meter", "del-meter", "del-meters", "dump-meters", "meter-stats", "meter-features")


class OfctlError(NetplexError):
    """ovs-ofctl's own refusals (a bridge it cannot reach, a bad file): its message, status 1."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message, status=status)


def _bridge(vsd: OvsVswitchd | None, name: str) -> XBridge:
    xb = vsd.bridges.get(name) if vsd is not None else None
    if xb is None:
        if vsd is None:
            raise OfctlError(f"{name}: failed to connect to socket (No such file or directory)")
        raise OfctlError(f"{name} is not a bridge or a socket")
    return xb


def _hdr(name: str, version: int, xid: int) -> str:
    ver = f" ({_VER_TEXT[version]})" if version > 1 else ""
    return f"{name}{ver} (xid={xid:#x})"


def _port_desc(xb: XBridge, p: Any, version: int) -> list[str]:
    dev = p.dev
    name = xb.name if p.ofport == OFPP_LOCAL else p.name
    num = "LOCAL" if p.ofport == OFPP_LOCAL else str(p.ofport)
    mac = ":".join(f"{b:02x}" for b in (dev.mac if dev is not None else p.mac or bytes(6)))
    up = dev is not None and p.admin_up()
    carrier = p.live()
    lines = [f" {num}({name}): addr:{mac}",
             f"     config:     {'0' if up or dev is None else 'PORT_DOWN'}",
             f"     state:      {('LIVE' if version > 1 else '0') if carrier else 'LINK_DOWN'}"]
    if dev is not None and p.type != "patch":
        lines += ["     current:    10GB-FD COPPER", "     speed: 10000 Mbps now, 0 Mbps max"]
    else:
        lines += ["     speed: 0 Mbps now, 0 Mbps max"]
    return lines


def _sorted_ports(xb: XBridge) -> list[Any]:
    return sorted(xb.ports.values(), key=lambda p: (p.ofport == OFPP_LOCAL, p.ofport))


def run_ofctl(ctx: Context, argv: list[str]) -> Result:
    version = 1
    strict = no_stats = False
    rest: list[str] = []
    formats = 0         # -F/--flow-format: the protocols it allows (0: any)
    versions_given = False
    i = 1
    while i < len(argv):
        a = argv[i]
        opt = next((o for o in (("-F", "--flow-format"), ("-O", "--protocols"))
                    if a in o or a.startswith((o[0], o[1] + "="))), None)
        val = ""
        if opt is not None:
            if a in opt:
                i += 1
                if i >= len(argv):
                    return Result(1, "", f"ovs-ofctl: option '{a}' requires an argument\n")
                val = argv[i]
            else:
                val = a.split("=", 1)[1] if a.startswith("--") else a[2:]
        if opt is not None and opt[0] == "-F":
            for v in val.split(","):
                if v.strip().lower() not in FLOW_FORMATS:
                    return Result(1, "", f"ovs-ofctl: {val}: invalid flow format(s)\n")
                formats |= FLOW_FORMATS[v.strip().lower()]
        elif opt is not None:
            vers = []
            for v in val.split(","):
                if v not in _VERSIONS:
                    return Result(1, "", f"ovs-ofctl: {val}: invalid OpenFlow version\n")
                vers.append(_VERSIONS[v])
            version = max(vers)
            versions_given = True
        elif a == "--strict":
            strict = True
        elif a == "--no-stats":
            no_stats = True
        elif a in ("--no-names", "--names", "--read-only", "--sort", "--rsort") or a.startswith("--sort=") \
                or a.startswith("--rsort="):
            if a in ("--names", "--sort", "--rsort") or a.startswith(("--sort=", "--rsort=")):
                return Result(2, "", f"netplex: ovs-ofctl {a} is not supported\n")
        elif a.startswith("-") and a != "-" and not a.startswith("--timeout") and a != "-t":
            if a.startswith("--bundle"):
                return Result(2, "", "netplex: ovs-ofctl --bundle is not supported\n")
            return Result(1, "", f"ovs-ofctl: unrecognized option '{a}'\n" if a.startswith("--") else
                          f"ovs-ofctl: invalid option -- '{a[1:2]}'\n")
        else:
            rest.append(a)
        i += 1
    if not rest:
        return Result(1, "", "ovs-ofctl: missing command name; use --help for help\n")
    cmd, args = rest[0], rest[1:]
    if cmd in _UNSUPPORTED:
        return Result(2, "", f"netplex: ovs-ofctl {cmd} is not supported\n")
    spec = _ARGS.get(cmd)
    if spec is None:
        return Result(1, "", f"ovs-ofctl: unknown command '{cmd}'; use --help for help\n")
    if len(args) < spec[0]:
        return Result(1, "", f"ovs-ofctl: '{cmd}' command requires at least {spec[0]} arguments\n")
    if len(args) > spec[1]:
        return Result(1, "", f"ovs-ofctl: '{cmd}' command takes at most {spec[1]} arguments\n")
    if cmd in ("parse-flow", "parse-flows"):
        allowed = ALLOWED_BY_VERSION[version] if versions_given else P_ANY
        try:
            lines = [args[0]] if cmd == "parse-flow" else _flow_file(ctx, args[0])
            return Result(0, parse_flows(lines, allowed & formats if formats else allowed, version))
        except (OfctlError, FlowError) as e:
            return Result(1, "", f"ovs-ofctl: {e.message}\n")
    if cmd == "mod-port" and args[2] in _MOD_PORT_REFUSED:
        return Result(2, "", f"netplex: ovs-ofctl mod-port {args[2]} is not supported\n")
    if formats:
        return Result(2, "", "netplex: ovs-ofctl -F is supported with parse-flow and parse-flows only\n")
    try:
        _server, vsd = connect(ctx.machine, "ovs-ofctl")
        xb = _bridge(vsd, args[0])
        assert vsd is not None
        return Result(0, _dispatch(ctx, vsd, xb, cmd, args, version, strict, no_stats))
    except SwitchError as e:
        return Result(1, "", e.message)
    except (OfctlError, FlowError, DbError) as e:
        return Result(1, "", f"ovs-ofctl: {e.message}\n")


def _dispatch(ctx: Context, vsd: OvsVswitchd, xb: XBridge, cmd: str, args: list[str], version: int, strict: bool,
              no_stats: bool) -> str:
    of13 = version >= 2
    ofp = xb.ofproto
    now = vsd.now()
    if cmd in _METER_CMDS:
        return _meters(xb, cmd, args, version, now)
    if cmd == "show":
        out = [_hdr("OFPT_FEATURES_REPLY", version, 2) + f": dpid:{xb.datapath_id:016x}",
               f"n_tables:{N_TABLES}, n_buffers:0"]
        if version == 1:
            out += ["capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP",
                    "actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src "
                    "mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst"]
            for p in _sorted_ports(xb):
                out += _port_desc(xb, p, version)
            out.append(_hdr("OFPT_GET_CONFIG_REPLY", version, 4) + ": frags=normal miss_send_len=0")
        else:
            caps = "FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS"
            out.append(f"capabilities: {caps}")
            if version >= 4:
                out.append(_hdr("OFPST_PORT_DESC reply", version, 3) + ":")
            for p in _sorted_ports(xb):
                out += _port_desc(xb, p, version)
            out.append(_hdr("OFPT_GET_CONFIG_REPLY", version, 5 if version >= 4 else 4)
                       + ": frags=normal miss_send_len=0")
        return "\n".join(out) + "\n"
    if cmd == "dump-port-desc":
        out = [_hdr("OFPST_PORT_DESC reply", version, 2) + ":"]
        for p in _sorted_ports(xb):
            if len(args) == 2 and xb.port_no(args[1]) != p.ofport:
                continue
            out += _port_desc(xb, p, version)
        return "\n".join(out) + "\n"
    if cmd == "dump-flows":
        match = None
        table = None
        if len(args) == 2:
            fm = parse_flow_mod(args[1], "delete", xb.port_no, version)
            match, table = fm.match, fm.table
        rules = ofp.rules(table, match)
        lines = [r.format(now, not no_stats, of13) for r in rules]
        if no_stats:
            return "".join(line + "\n" for line in lines)
        name = "OFPST_FLOW reply" if of13 else "NXST_FLOW reply"
        xid = 2 if of13 else (8 if len(args) == 2 else 4)
        return _hdr(name, version, xid) + ":\n" + "".join(line + "\n" for line in lines)
    if cmd in ("add-flow", "add-flows"):
        if cmd == "add-flow":
            texts = [args[1]]
        else:
            texts = _flow_file(ctx, args[1])
        fms = [parse_flow_mod(t, "add", xb.port_no, version) for t in texts]
        for fm in fms:
            if version < 4 and any(a.kind == "meter" for a in fm.actions):
                raise OfctlError(_no_oxm(version))
            _check_usable(fm, version)
            _switch_check(partial(ofp.check_groups, fm.actions), "OFPT_FLOW_MOD", version,
                          partial(_flow_mod_text, "ADD", fm, of13))
            ofp.add(fm, of13)
        vsd.ns.config_changed()
        return ""
    if cmd == "mod-flows":
        fm = parse_flow_mod(args[1], "modify", xb.port_no, version)
        _check_usable(fm, version)
        if fm.table is None and strict:
            fm.table = 0
        _switch_check(partial(ofp.check_groups, fm.actions), "OFPT_FLOW_MOD", version,
                      partial(_flow_mod_text, "MODIFY", fm, of13))
        ofp.modify(fm, strict, of13)
        vsd.ns.config_changed()
        return ""
    if cmd == "del-flows":
        if len(args) == 1:
            ofp.delete_all()
        else:
            fm = parse_flow_mod(args[1], "delete", xb.port_no, version)
            if fm.has_actions:
                raise OfctlError("unknown keyword actions")
            if fm.table is None and strict:
                fm.table = 0
            ofp.delete(fm, strict)
        vsd.ns.config_changed()
        return ""
    if cmd == "mod-port":
        # ofctl_mod_port: the port by number or name (no reserved names), then OFPPC_PORT_DOWN
        p = xb.ports.get(int(args[1])) if args[1].isdigit() else xb.port_by_name(args[1])
        if p is None or p.ofport == OFPP_LOCAL and args[1].isdigit():
            raise OfctlError(f"{args[0]}: couldn't find port `{args[1]}'")
        if args[2] not in ("up", "down"):
            raise OfctlError(f"unknown mod-port command '{args[2]}'")
        vsd.port_mod(xb, p, args[2] == "up")
        vsd.ns.config_changed()
        return ""
    if cmd == "dump-ports":
        ports = _sorted_ports(xb)
        ports = [ports[-1]] + ports[:-1] if ports and ports[-1].ofport == OFPP_LOCAL else ports
        if len(args) == 2:
            n = xb.port_no(args[1])
            if n is None:
                raise OfctlError(f"{args[1]}: invalid or unknown port for port")   # ofputil_port_from_string
            ports = [p for p in ports if p.ofport == n]
        out = [_hdr("OFPST_PORT reply", version, 2) + f": {len(ports)} ports"]
        for p in ports:
            rxp, rxb, rxd, txp, txb, txd = p.counters()
            num = "LOCAL" if p.ofport == OFPP_LOCAL else f"{p.ofport:2d}"
            out.append(f"  port {num}: rx pkts={rxp}, bytes={rxb}, drop={rxd}, errs=0, frame=0, over=0, crc=0")
            out.append(f"           tx pkts={txp}, bytes={txb}, drop={txd}, errs=0, coll=0")
        return "\n".join(out) + "\n"
    if cmd == "queue-stats":
        return _queue_stats(xb, args, version)
    if cmd == "dump-tables":
        out = [_hdr("OFPST_TABLE reply", version, 2) + ":"]
        active = [len([r for r in t]) for t in ofp.tables]
        out += ["  table 0:", f"    active={active[0]}, lookup={ofp.lookups[0]}, matched={ofp.matched[0]}",
                "    max_entries=1000000", "    matching:",
                "      exact match or wildcard: in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} "
                "nw_{proto,tos} tcp_{src,dst}", ""]
        same = 1
        for t in range(1, N_TABLES):
            if active[t] or ofp.lookups[t]:
                if same < t - 1:
                    out.append(f"  tables {same + 1}...{t - 1}: ditto")
                out += [f"  table {t}:", f"    active={active[t]}, lookup={ofp.lookups[t]}, matched={ofp.matched[t]}",
                        "    (same features)", ""]
                same = t
            elif t == same + 1 and t == 1:
                out += [f"  table {t}:", "    active=0, lookup=0, matched=0", "    (same features)", ""]
                same = t
        if same < N_TABLES - 1:
            out.append(f"  tables {same + 1}...{N_TABLES - 1}: ditto")
        return "\n".join(out) + "\n"
    if cmd in ("add-group", "add-groups", "mod-group"):
        texts = _flow_file(ctx, args[1]) if cmd == "add-groups" else [args[1]]
        how = "modify" if cmd == "mod-group" else "add"
        groups = [parse_group_mod(t, how, xb.port_no) for t in texts]
        for g in groups:
            # a bucket may name a group not made yet (group chaining, ofproto-dpif.at): only meters are checked
            ofp.check_groups([a for b in g.buckets for a in b.actions if a.kind != "group"])
            op = ofp.modify_group if how == "modify" else ofp.add_group
            _switch_check(partial(op, g), "NXT_GROUP_MOD" if version == 1 else "OFPT_GROUP_MOD", version,
                          partial(_group_mod_text, g, version, "MOD" if how == "modify" else "ADD"))
        vsd.ns.config_changed()
        return ""
    if cmd == "del-groups":
        gid = parse_group_mod(args[1], "delete", xb.port_no).group_id if len(args) == 2 else 0xFFFFFFFF
        ofp.delete_group(gid)
        vsd.ns.config_changed()
        return ""
    if cmd in ("dump-groups", "dump-group-stats"):
        want = None
        if len(args) == 2 and (version in (1, 6) or cmd == "dump-group-stats"):    # 1.1-1.4 dump them all
            want = parse_group_mod(args[1] if "=" in args[1] else f"group_id={args[1]}", "delete", xb.port_no).group_id
        groups = [g for g in ofp.groups.values() if want in (None, 0xFFFFFFFF, g.group_id)]
        if cmd == "dump-groups":
            name = "NXST_GROUP_DESC reply" if version == 1 else "OFPST_GROUP_DESC reply"
            return _hdr(name, version, 2) + ":\n" + "".join(f" {format_group(g, version)}\n" for g in groups)
        name = "NXST_GROUP reply" if version == 1 else "OFPST_GROUP reply"
        lines = []
        for g in groups:
            d = now - g.created
            refs = sum(1 for t in ofp.tables for r in t if any(a.kind == "group" and a.a == g.group_id
                                                                  for a in r.actions))
            line = (f" group_id={g.group_id},duration={d // NS}.{d % NS // 1_000_000:03d}s,ref_count={refs},"
                    f"packet_count={g.packets},byte_count={g.bytes}")
            line += "".join(f",bucket{i}:packet_count={b.packets},byte_count={b.bytes}"
                            for i, b in enumerate(g.buckets))
            lines.append(line + "\n")
        return _hdr(name, version, 6 if version == 1 else 6) + ":\n" + "".join(lines)
    raise AssertionError(cmd)


def _check_usable(fm: FlowMod, version: int) -> None:
    """ovs-ofctl's choice of protocol for a flow_mod: the match's, a table id's and the actions'
    usable protocols must meet what -O allows (push_vlan needs 1.1+; mod_nw_src on a match that
    is not IP only 1.0 carries)."""
    usable = match_usable(fm.match) & actions_usable(fm)
    if fm.table is not None:
        usable &= P_TID
    allowed = ALLOWED_BY_VERSION[version]
    if not usable & allowed:
        raise OfctlError(f"none of the usable flow formats ({protocols_to_string(usable)}) is among the allowed "
                         f"flow formats ({protocols_to_string(allowed)})")


def _no_oxm(version: int) -> str:
    """What ovs-ofctl says when a request needs OpenFlow 1.3 (meters) and -O allows less."""
    allowed = {1: "OpenFlow10,NXM", 2: "OpenFlow11", 3: "OXM-OpenFlow12"}[version]
    return (f"none of the usable flow formats (OXM-OpenFlow13,OXM-OpenFlow14,OXM-OpenFlow15) is among the "
            f"allowed flow formats ({allowed})")


def _meters(xb: XBridge, cmd: str, args: list[str], version: int, now: int) -> str:
    """add-meter, mod-meter, del-meter(s), dump-meters, meter-stats, meter-features (OpenFlow 1.3+)."""
    if version < 4:
        raise OfctlError(_no_oxm(version))
    ofp = xb.ofproto
    if cmd in ("add-meter", "mod-meter"):
        how = "modify" if cmd == "mod-meter" else "add"
        m = parse_meter_mod(args[1], how)
        op = ofp.modify_meter if how == "modify" else ofp.add_meter
        _switch_check(partial(op, m), "OFPT_METER_MOD", version,
                      partial(_meter_mod_text, m, "MOD" if how == "modify" else "ADD"), xid=2)
        xb.dp.ns.config_changed()
        return ""
    if cmd in ("del-meter", "del-meters"):
        ofp.delete_meter(parse_meter_mod(args[1], "delete").meter_id if len(args) == 2 else 0xFFFFFFFF)
        xb.dp.ns.config_changed()
        return ""
    if cmd == "meter-features":
        return (_hdr("OFPST_METER_FEATURES reply", version, 2) + ":\nmax_meter:262144 max_bands:8 max_color:0\n"
                "band_types: drop\ncapabilities: kbps pktps burst stats\n")
    want = parse_meter_mod(args[1], "delete").meter_id if len(args) == 2 else 0xFFFFFFFF
    meters = [m for mid, m in sorted(ofp.meters.items()) if want in (0xFFFFFFFF, mid)]
    if cmd == "dump-meters":
        return _hdr("OFPST_METER_CONFIG reply", version, 2) + ":\n" + "\n".join(format_meter_config(m)
                                                                                for m in meters)
    flows = {mid: sum(1 for t in ofp.tables for r in t if any(a.kind == "meter" and a.a == mid for a in r.actions))
             for mid in ofp.meters}
    return _hdr("OFPST_METER reply", version, 2) + ":\n" + "\n".join(format_meter_stats(m, now, flows[m.meter_id])
                                                                     for m in meters)


def _meter_mod_text(m: Meter, command: str) -> str:
    return " " + format_meter_config(m, command).rstrip("\n")


class SwitchError(NetplexError):
    """The switch answered with OFPT_ERROR: ovs-ofctl prints it and the request (its whole text)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=1)


def _queue_stats(xb: XBridge, args: list[str], version: int) -> str:
    """ofctl_queue_stats: [PORT|all [QUEUE|all]] (a port by number, reserved name or, fetched over a
    second connection, by name; the queue by atoi), the reply or the switch's OFPT_ERROR."""
    port, queue, xid = 0xFFFFFFFF, OFPQ_ALL, 2
    if len(args) > 1 and args[1] and args[1].lower() != "all":
        n = xb.port_no(args[1])
        if n is None:
            raise OfctlError(f"{args[0]}: unknown port `{args[1]}'")
        if not args[1].strip().isdigit() and args[1].strip().upper() not in ("LOCAL", "IN_PORT", "TABLE", "NORMAL",
                                                                             "FLOOD", "ALL", "CONTROLLER", "ANY", "NONE"):
            xid = 4         # str_to_port_no's fetch_ofputil_phy_port: its own connection's hello and request
        port = n | 0xFFFF0000 if n >= 0xFF00 else n
    if len(args) > 2 and args[2] and args[2].lower() != "all":
        m = re.match(r"\s*[-+]?\d+", args[2])
        queue = int(m.group()) & 0xFFFFFFFF if m else 0
    got = queue_stats(xb, port, queue)
    if isinstance(got, tuple):
        name = {OFPQOFC_BAD_PORT: "OFPQOFC_BAD_PORT", OFPQOFC_BAD_QUEUE: "OFPQOFC_BAD_QUEUE"}[got[1]]
        return (_hdr("OFPT_ERROR", version, xid) + f": {name}\n"
                + _hdr("OFPST_QUEUE request", version, xid) + f":{request_text(port, queue)}\n")
    return _hdr("OFPST_QUEUE reply", version, xid) + f": {len(got)} queues\n" + format_queue_stats(got)


def _switch_check(op: Callable[[], None], request: str, version: int, body: Callable[[], str],
                  xid: int = 6) -> None:
    """Run `op`; an OFPT_ERROR from it is printed as ovs-ofctl prints the error and the request."""
    try:
        op()
    except GroupModError as e:
        raise SwitchError(_hdr("OFPT_ERROR", version, xid) + f": {e.message}\n"
                          + _hdr(request, version, xid) + f":{body()}\n") from None


def _flow_mod_text(command: str, fm: FlowMod, of13: bool) -> str:
    """ofputil_flow_mod_format: ` ADD match actions=...`."""
    m = fm.match.format(fm.priority)
    return f" {command} {m + ' ' if m else ''}actions={format_actions(fm.actions, of13)}"


def _group_mod_text(g: Group, version: int, command: str) -> str:
    """ofputil_group_mod_format: the group on a line of its own."""
    return "\n " + format_group(g, version, command)


def _flow_file(ctx: Context, path: str) -> list[str]:
    """add-flows FILE: one flow a line, `#` comments and blank lines skipped; `-` is stdin."""
    if path == "-":
        data = ctx.stdin
    else:
        full = path if path.startswith("/") else ctx.cwd.rstrip("/") + "/" + path
        raw = ctx.fs.read(full)
        if raw is None:
            raise OfctlError(f"{path}: open failed (No such file or directory)")
        data = raw.decode(errors="replace")
    out = []
    for line in data.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(s)
    return out


@command("ovs-ofctl")
def ovs_ofctl(ctx: Context, argv: list[str]) -> Result:
    """ovs-ofctl(8)."""
    return run_ofctl(ctx, argv)
