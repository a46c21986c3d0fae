"""Run the megaflow checks of Open vSwitch's tests/ofproto-dpif.at (the `ofproto-dpif
megaflow - ...` groups, copied unchanged into tests/data/ovs/) against netplex's datapath
flows, and count how many in-scope ones pass.

Each group adds flows to br0, injects packets written as datapath flows
(`ovs-appctl netdev-dummy/receive p1 'in_port(1),eth(...),eth_type(0x0800),ipv4(...),
icmp(...)'`) and checks the datapath flows the upcalls installed (`filter_flow_install <
ovs-vswitchd.log | strip_xout` or `| strip_used`). The runner models: `OVS_VSWITCHD_START`
without arguments, `add_of_ports br0 N...`, `AT_DATA([flows.txt])` and `ovs-ofctl
add-flow(s)` with in-scope flows (as the trace runner), `vlog/set` (nothing to do),
`sleep`, the Flow_Table `prefixes=nw_dst,nw_src` (netplex's default, as OVS 3.1's), and
packets with eth, IPv4 and ICMP/TCP/UDP headers; a packet is given to port pN's device as
if it arrived there. The installed flows are netplex's megaflows (flowcache.py) printed
as the userspace datapath logs them: the dummy datapath numbers a port as its OpenFlow
number, and its keys carry `packet_type(ns=0,id=0)` after `in_port` (the kernel datapath
netplex models has neither: both are the runner's mapping, nothing else is changed).
`filter_flow_install`, `strip_xout`, `strip_ufid`, `strip_used` are applied as
ofproto-macros.at defines them (sort and uniq the flows; `actions: <del>`).

    python -m netplex.conformance.ovs_megaflow_at   # the rate, then each failing check
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from netplex.conformance.ovs_ofctl_at import Check, in_scope
from netplex.conformance.ovs_trace_at import DEFAULT_FILE, Report, _cmd, _statements, setup_statement
from netplex.conformance.ovs_vsctl_at import m4_expand, split_args
from netplex.network import Network
from netplex.ovs.dpctl import format_key
from netplex.ovs.vswitchd import ovs_daemons
from netplex.ovs.xlate import format_odp, revalidate_all
from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import Ethernet
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp

__all__ = ["packet_from_odp", "run"]

_CHECKS = {
    "filter_flow_install < ovs-vswitchd.log | strip_xout": True,
    "strip_ufid < ovs-vswitchd.log | filter_flow_install | strip_used": False,
}
_PREFIXES = ("ovs-vsctl set Bridge br0 flow_tables:0=@N1 -- --id=@N1 create Flow_Table name=t0 "
             "prefixes=nw_dst,nw_src")


def _attrs(text: str) -> dict[str, dict[str, str]]:
    """`eth(src=..,dst=..),eth_type(0x0800),...` → attribute → its key=value pairs (or {"": value})."""
    out: dict[str, dict[str, str]] = {}
    for name, body in re.findall(r"(\w+)\(([^()]*)\)", text):
        if "=" in body:
            out[name] = dict(kv.split("=", 1) for kv in body.split(","))
        else:
            out[name] = {"": body}
    return out


def packet_from_odp(text: str) -> tuple[int, Ethernet] | None:
    """The port number and the frame of a datapath flow written as netdev-dummy/receive takes
    it, or None for what the runner does not build (VLANs, ARP, IPv6, fragments...)."""
    a = _attrs(text)
    if set(a) - {"in_port", "eth", "eth_type", "ipv4", "icmp", "tcp", "udp"} or "ipv4" not in a:
        return None
    eth, ip = a.get("eth", {}), a["ipv4"]
    if a.get("eth_type", {}).get("") != "0x0800" or ip.get("frag", "no") != "no":
        return None
    proto = int(ip.get("proto", "0"), 0)
    payload: object
    if proto == 1 and "icmp" in a:
        payload = Icmp(int(a["icmp"].get("type", "0")), int(a["icmp"].get("code", "0")))
    elif proto == 6 and "tcp" in a:
        payload = Tcp(int(a["tcp"].get("src", "0")), int(a["tcp"].get("dst", "0")))
    elif proto == 17 and "udp" in a:
        payload = Udp(int(a["udp"].get("src", "0")), int(a["udp"].get("dst", "0")), b"")
    else:
        return None
    frame = Ethernet(bytes.fromhex(eth.get("dst", "0:0:0:0:0:0").replace(":", "")),
                     bytes.fromhex(eth.get("src", "0:0:0:0:0:0").replace(":", "")), 0x0800,
                     IPv4(ip_to_int(ip.get("src", "0.0.0.0")), ip_to_int(ip.get("dst", "0.0.0.0")), proto, payload,
                          ttl=int(ip.get("ttl", "64")), tos=int(ip.get("tos", "0"), 0)))
    return int(a["in_port"][""]), frame


def _plan(body: str) -> tuple[list[tuple[str, list[str]]], str]:
    """The statements, or why the group is left out."""
    stmts = _statements(body)
    flows: list[str] = []
    for kind, args in stmts:
        why = setup_statement(kind, args, flows, r"add_of_ports br0( \d+)+|sleep \d+")
        if why:
            return [], why
        if why is None and kind == "AT_CHECK":
            cmd = _cmd(args[0])
            fl = re.fullmatch(r"ovs-ofctl( -O OpenFlow1[0-5])? add-flow br0 (.+)", cmd)
            rx = re.fullmatch(r"ovs-appctl netdev-dummy/receive p\d+ '([^']+)'", cmd)
            if fl:
                flows.append(fl.group(2).strip("'\""))
            elif rx:
                if packet_from_odp(rx.group(1)) is None:
                    return [], f"a packet the runner does not build: {rx.group(1)[:40]}"
            elif not (re.fullmatch(r"ovs-ofctl( -O OpenFlow1[0-5])? add-flows br0 flows.txt", cmd)
                      or cmd.startswith("ovs-appctl vlog/set ") or cmd == _PREFIXES or cmd in _CHECKS):
                return [], f"check: {cmd[:40]}"
        elif why is None:
            return [], kind
    if not any(k == "AT_CHECK" and _cmd(a[0]) in _CHECKS for k, a in stmts):
        return [], "no check of the installed flows"
    bad = [f for f in flows if not in_scope(f)]
    if bad:
        return [], f"flow out of scope: {bad[0][:50]}"
    return stmts, ""


def _installed(node: object, strip_actions: bool) -> str:
    """The datapath flows as dpif-netdev logs their installation, through the group's filters."""
    _server, vsd = ovs_daemons(node.machine)  # type: ignore[attr-defined]
    if vsd is None or "br0" not in vsd.bridges:
        return ""
    revalidate_all(vsd)
    xb = vsd.bridges["br0"]
    to_dummy = {p.dp_port: p.ofport for p in xb.ports.values() if p.dp_port is not None}
    lines = set()
    for e in vsd.flow_cache.flows():
        key = format_key(e.flow, e.mask(), str(e.part[1]))
        key = key.replace(f"in_port({e.part[1]}),", f"in_port({e.part[1]}),packet_type(ns=0,id=0),", 1)
        acts = ",".join(str(to_dummy.get(int(x), x)) if x.isdigit() else x for x in format_odp(e.odp).split(","))
        lines.add(f"{key}, actions: <del>" if strip_actions else f"{key}, actions:{acts}")
    return "".join(ln + "\n" for ln in sorted(lines))


def run(path: Path = DEFAULT_FILE) -> Report:
    report = Report()
    for part in path.read_text().split("AT_SETUP(")[1:]:
        title = split_args("(" + part, 0)[0][0]
        if not title.startswith("ofproto-dpif megaflow - "):
            continue
        body = part[split_args("(" + part, 0)[1] - 1:].split("AT_CLEANUP")[0]
        stmts, why = _plan(body)
        if why:
            report.left_out[title] = why
            continue
        net = Network()
        node = net.add_node("s1")
        for kind, args in stmts:
            if kind == "OVS_VSWITCHD_START":
                node.run("ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure "
                         "other-config:hwaddr=aa:55:aa:55:00:00")
            elif kind == "sh" and args[0].startswith("add_of_ports"):
                for n in args[0].split()[2:]:
                    node.run(f"ip link add p{n} type veth peer name q{n} && ip link set p{n} up && "
                             f"ip link set q{n} up && ovs-vsctl add-port br0 p{n} -- set interface p{n} "
                             f"ofport_request={n}")
            elif kind == "sh":
                net.run_for(int(args[0].split()[1]) * 1_000_000_000)
            elif kind == "AT_DATA":
                node.machine.fs.write("/flows.txt", m4_expand(args[1]).encode())
            elif kind == "AT_CHECK":
                cmd = _cmd(args[0])
                rx = re.fullmatch(r"ovs-appctl netdev-dummy/receive p(\d+) '([^']+)'", cmd)
                if rx:
                    got = packet_from_odp(rx.group(2))
                    assert got is not None
                    node.ns.devices[f"p{rx.group(1)}"].rx(got[1])
                    net.run_for(1_000_000)
                elif cmd in _CHECKS:
                    want = m4_expand(args[2]) if len(args) > 2 else ""
                    got_text = _installed(node, _CHECKS[cmd])
                    report.checks.append(Check(title, cmd, got_text == want, f"want {want!r}\ngot  {got_text!r}"))
                elif not cmd.startswith("ovs-appctl vlog/set ") and cmd != _PREFIXES:
                    node.run(cmd.replace("flows.txt", "/flows.txt"))
    return report


def main(argv: list[str]) -> int:
    report = run(Path(argv[0]) if argv else DEFAULT_FILE)
    lines = [f"ofproto-dpif.at megaflow checks: {report.passed}/{report.tried} pass; "
             f"{len(report.left_out)} groups left out"]
    lines += [f"FAIL [{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    lines += [f"left out [{g}]: {why}" for g, why in report.left_out.items()]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
