"""`brctl` (bridge-utils 1.7.1): the classic bridge administration tool, over the same Bridge model.

Messages and formats follow brctl/brctl_cmd.c and brctl_disp.c: bridges
and their interfaces listed in name order, `showmacs` sorted by address
with the ageing timer in seconds (two decimals) from the simulated clock.
"""
from __future__ import annotations

import math
from typing import Any

from netplex.errors import NetplexError
from netplex.packet.addr import bytes_to_mac
from netplex.shell.iproute_fmt import bridge_id
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack import rtnl
from netplex.stack.bridge import Bridge
from netplex.stack.device import Loopback
from netplex.stack.netns import valid_ifname

__all__ = ["brctl"]

_CMDS = [  # name, number of arguments, help
    ("addbr", 1, "<bridge>\t\tadd bridge"),
    ("delbr", 1, "<bridge>\t\tdelete bridge"),
    ("addif", 2, "<bridge> <device>\tadd interface to bridge"),
    ("delif", 2, "<bridge> <device>\tdelete interface from bridge"),
    ("hairpin", 3, "<bridge> <port> {on|off}\tturn hairpin on/off"),
    ("setageing", 2, "<bridge> <time>\t\tset ageing time"),
    ("setbridgeprio", 2, "<bridge> <prio>\t\tset bridge priority"),
    ("setfd", 2, "<bridge> <time>\t\tset bridge forward delay"),
    ("sethello", 2, "<bridge> <time>\t\tset hello time"),
    ("setmaxage", 2, "<bridge> <time>\t\tset max message age"),
    ("setpathcost", 3, "<bridge> <port> <cost>\tset path cost"),
    ("setportprio", 3, "<bridge> <port> <prio>\tset port priority"),
    ("show", 0, "[ <bridge> ]\t\tshow a list of bridges"),
    ("showmacs", 1, "<bridge>\t\tshow a list of mac addrs"),
    ("showstp", 1, "<bridge>\t\tshow bridge stp info"),
    ("stp", 2, "<bridge> {on|off}\tturn stp on/off"),
]
USAGE = "Usage: brctl [commands]\ncommands:\n" + "".join(f"\t{n:<10}\t{h}\n" for n, _, h in _CMDS)


def _err(msg: str) -> Result:
    return Result(1, "", msg + "\n")


def _bridge(ns: Any, name: str) -> Bridge | None:
    d = ns.devices.get(name)
    return d if isinstance(d, Bridge) else None


def _time_cs(text: str) -> int | None:
    try:
        v = float(text)
    except ValueError:
        return None
    if not math.isfinite(v) or abs(v) > 2**31:   # strtod's inf and nan: no timer holds them
        return None
    return int(v * 100)


def _show_one(br: Bridge) -> str:
    ports = sorted(p.dev.name for p in br.ports)
    head = f"{br.name}\t\t{bridge_id(br)}\t{'yes' if br.stp_state else 'no'}\t\t"
    if not ports:
        return head + "\n"
    return head + ports[0] + "\n" + "".join(f"\t\t\t\t\t\t\t{p}\n" for p in ports[1:])


def _timer(cs: int) -> str:
    return f"{cs // 100:4d}.{cs % 100:02d}"


@command("brctl")
def brctl(ctx: Context, argv: list[str]) -> Result:
    ns = ctx.node
    if len(argv) < 2:
        return Result(1, USAGE)
    name, args = argv[1], argv[2:]
    spec = next((c for c in _CMDS if c[0] == name), None)
    if spec is None:
        return Result(1, USAGE, f"never heard of command [{name}]\n")
    if len(args) < spec[1]:
        return Result(1, f"Incorrect number of arguments for command\nUsage: brctl {name} {spec[2]}\n")
    if name == "addbr":
        br = args[0]
        if br in ns.devices:
            return _err(f"device {br} already exists; can't create bridge with the same name")
        if not valid_ifname(br):
            return _err("add bridge failed: Invalid argument")
        rtnl.newlink(ns, "bridge", br)
        return Result(0)
    if name == "delbr":
        d = ns.devices.get(args[0])
        if d is None:
            return _err(f"bridge {args[0]} doesn't exist; can't delete it")
        if not isinstance(d, Bridge):
            return _err(f"can't delete bridge {args[0]}: Operation not permitted")
        if d.up:
            return _err(f"bridge {args[0]} is still up; can't delete it")
        rtnl.dellink(d)
        return Result(0)
    if name in ("addif", "delif"):
        br = _bridge(ns, args[0])
        if br is None:
            return _err(f"bridge {args[0]} does not exist!")
        out_err = []
        status = 0
        for ifname in args[1:]:
            dev = ns.devices.get(ifname)
            if dev is None:
                out_err.append(f"interface {ifname} does not exist!\n")
                status = 1
                continue
            if name == "addif":
                if dev.master is not None:
                    out_err.append(f"device {ifname} is already a member of a bridge; "
                                   f"can't add it to bridge {br.name}.\n")
                elif isinstance(dev, Bridge):
                    out_err.append(f"device {ifname} is a bridge device itself; can't add it to bridge {br.name}.\n")
                elif isinstance(dev, Loopback):
                    out_err.append(f"can't add {ifname} to bridge {br.name}: Invalid argument\n")
                else:
                    rtnl.set_master(dev, br)
                    continue
                status = 1
            else:
                if dev.master is not br:
                    out_err.append(f"device {ifname} is not a port of {br.name}\n")
                    status = 1
                    continue
                rtnl.set_master(dev, None)
        return Result(status, "", "".join(out_err))
    if name == "show":
        out = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n"
        if args:
            errs = ""
            for bname in args:
                br = _bridge(ns, bname)
                if br is None:
                    return Result(1, "", f"bridge {bname} does not exist!\n")
                out += _show_one(br)
            return Result(0, out, errs)
        for bname in sorted(n for n, d in ns.devices.items() if isinstance(d, Bridge)):
            out += _show_one(ns.devices[bname])
        return Result(0, out)
    br = _bridge(ns, args[0])
    if name == "showmacs":
        if br is None:
            return _err("read of forward table failed: No such device")
        now = ns.sched.now
        rows = []
        for e in sorted(br.fdb.values(), key=lambda e: e.mac):
            if e.port is None:
                continue
            if not e.is_static and now - e.updated > br.hold_time():
                continue
            age = 0 if e.is_static else (now - e.updated) // 10_000_000
            rows.append(f"{e.port.port_no:3d}\t{bytes_to_mac(e.mac)}\t{'yes' if e.is_local else 'no'}\t\t{_timer(age)}\n")
        return Result(0, "port no\tmac addr\t\tis local?\tageing timer\n" + "".join(rows))
    if name == "showstp":
        if br is None:
            return _err(f"{args[0]}: can't get info No such device")
        return Result(0, _showstp(br))
    if name == "stp":
        v = args[1]
        if v in ("on", "yes", "1"):
            on = 1
        elif v in ("off", "no", "0"):
            on = 0
        else:
            return Result(1, "", "expect on/off for argument\n")
        if br is None:
            return _err("set stp status failed: No such device")
        br.set_stp_state(on)
        return Result(0)
    if name in ("setageing", "setfd", "sethello", "setmaxage"):
        what = {"setageing": "ageing time", "setfd": "forward delay", "sethello": "hello time",
                "setmaxage": "max age"}[name]
        cs = _time_cs(args[1])
        if cs is None:
            return _err(f"bad {what} value")
        if br is None:
            return _err(f"set {what} failed: No such device")
        setter = {"setageing": br.set_ageing_time, "setfd": br.set_forward_delay,
                  "sethello": br.set_hello_time, "setmaxage": br.set_max_age}[name]
        try:
            setter(cs)
        except NetplexError as e:
            return _err(f"set {what} failed: {e.message.removeprefix('RTNETLINK answers: ')}")
        finally:
            ns.config_changed()
        return Result(0)
    if name == "setbridgeprio":
        if not args[1].isdigit():
            return _err("bad priority")
        if br is None:
            return _err("set bridge priority failed: No such device")
        br.set_priority(int(args[1]))
        return Result(0)
    # hairpin, setpathcost, setportprio: <bridge> <port> <value>
    if br is None:
        return _err(f"bridge {args[0]} does not exist!")
    dev = ns.devices.get(args[1])
    if dev is None:
        return _err(f"interface {args[1]} does not exist!")
    if dev.master is not br:
        return _err(f"device {args[1]} is not a port of {br.name}")
    port = dev.bridge_port
    if name == "hairpin":
        if args[2] not in ("on", "off"):
            return Result(1, "", "expect on/off for argument\n")
        br.port_set(port, hairpin=args[2] == "on")
    elif name == "setpathcost":
        if not args[2].isdigit():
            return _err("bad path cost value")
        br.port_set(port, path_cost=int(args[2]))
    else:
        if not args[2].isdigit():
            return _err("bad priority value")
        br.port_set(port, priority=int(args[2]))
    return Result(0)


def _stp_view(br: Bridge) -> dict[str, Any]:
    """What the kernel reports of STP, whether or not it ever ran on this bridge."""
    from netplex.stack.stp import CS_NS, bridge_id_bytes

    stp = br.stp
    mac = br.mac if (br.had_ports or br.mac_set_by_user) else b"\x00" * 6
    if stp is None:
        bid = bridge_id_bytes(br.priority, mac)
        return {"bridge_id": bid, "root": bid, "root_port": 0, "cost": 0, "max_age": br.max_age * CS_NS,
                "hello": br.hello_time * CS_NS, "fd": br.forward_delay * CS_NS, "tc": False, "tcd": False,
                "timers": (0, 0, 0)}
    return {"bridge_id": stp.bridge_id if (br.had_ports or br.mac_set_by_user) else bridge_id_bytes(br.priority, mac),
            "root": stp.designated_root if (br.had_ports or br.mac_set_by_user) else bridge_id_bytes(br.priority, mac),
            "root_port": stp.root_port, "cost": stp.root_path_cost,
            "max_age": stp.max_age, "hello": stp.hello_time, "fd": stp.forward_delay,
            "tc": stp.topology_change, "tcd": stp.topology_change_detected,
            "timers": (stp.hello_timer.remaining_cs(), stp.tcn_timer.remaining_cs(),
                       stp.topology_change_timer.remaining_cs())}


def _port_view(br: Bridge, p: Any) -> dict[str, Any]:
    from netplex.stack.stp import make_port_id

    s = p.stp
    v = _stp_view(br)
    if s is None:
        pid = make_port_id(p.priority, p.port_no)
        return {"port_id": pid, "droot": v["root"], "dbridge": v["bridge_id"], "dport": pid, "dcost": 0,
                "timers": (0, 0, 0), "cp": False, "tca": False}
    return {"port_id": s.port_id, "droot": s.designated_root, "dbridge": s.designated_bridge,
            "dport": s.designated_port, "dcost": s.designated_cost,
            "timers": (s.message_age_timer.remaining_cs(), s.forward_delay_timer.remaining_cs(),
                       s.hold_timer.remaining_cs()), "cp": s.config_pending, "tca": s.topology_change_ack}


def _showstp(br: Bridge) -> str:
    """br_dump_info and dump_port_info (brctl_disp.c)."""
    from netplex.shell.bridge import port_state
    from netplex.stack.bridge import PORT_STATE_NAMES
    from netplex.stack.stp import CS_NS

    v = _stp_view(br)

    def tm(ns_or_cs: int, cs: bool = False) -> str:
        c = ns_or_cs if cs else ns_or_cs // CS_NS
        return _timer(c)

    hello_t, tcn_t, tc_t = v["timers"]
    out = [f"{br.name}\n",
           f" bridge id\t\t{v['bridge_id'][:2].hex()}.{v['bridge_id'][2:].hex()}\n",
           f" designated root\t{v['root'][:2].hex()}.{v['root'][2:].hex()}\n",
           f" root port\t\t{v['root_port']:4d}\t\t\tpath cost\t\t{v['cost']:4d}\n",
           f" max age\t\t{tm(v['max_age'])}\t\t\tbridge max age\t\t{_timer(br.max_age)}\n",
           f" hello time\t\t{tm(v['hello'])}\t\t\tbridge hello time\t{_timer(br.hello_time)}\n",
           f" forward delay\t\t{tm(v['fd'])}\t\t\tbridge forward delay\t{_timer(br.forward_delay)}\n",
           f" ageing time\t\t{_timer(br.ageing_ns // 10_000_000)}\n",
           f" hello timer\t\t{tm(hello_t, True)}\t\t\ttcn timer\t\t{tm(tcn_t, True)}\n",
           f" topology change timer\t{tm(tc_t, True)}\t\t\tgc timer\t\t{tm(0, True)}\n",
           " flags\t\t\t" + ("TOPOLOGY_CHANGE " if v["tc"] else "")
           + ("TOPOLOGY_CHANGE_DETECTED " if v["tcd"] else "") + "\n\n\n"]
    for p in sorted(br.ports, key=lambda p: p.dev.name):
        pv = _port_view(br, p)
        mt, ft, ht = pv["timers"]
        out.append(f"{p.dev.name} ({p.port_no})\n"
                   f" port id\t\t{pv['port_id']:04x}\t\t\tstate\t\t{PORT_STATE_NAMES[port_state(p)]:>15}\n"
                   f" designated root\t{pv['droot'][:2].hex()}.{pv['droot'][2:].hex()}\tpath cost\t\t{p.path_cost:4d}\n"
                   f" designated bridge\t{pv['dbridge'][:2].hex()}.{pv['dbridge'][2:].hex()}\tmessage age timer\t{_timer(mt)}\n"
                   f" designated port\t{pv['dport']:04x}\t\t\tforward delay timer\t{_timer(ft)}\n"
                   f" designated cost\t{pv['dcost']:4d}\t\t\thold timer\t\t{_timer(ht)}\n"
                   " flags\t\t\t" + ("CONFIG_PENDING " if pv["cp"] else "") + ("TOPOLOGY_CHANGE_ACK " if pv["tca"] else "")
                   + (f"\n hairpin mode\t\t{1:4d}" if p.hairpin else "") + "\n\n")
    return "".join(out)
