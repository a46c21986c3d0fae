"""`netplex cloud why FILE SRC DST PROTO [PORT]`: send one packet through a cloud with the
simulator's tracer on and name the element that decides its fate.

SRC and DST are servers (`vm1`) or the scenario's nodes (`internet`); DST may also be an
IPv4 address. From a node outside the cloud a server is reached by its floating IP. The
packet is what a user would send from there (`ping -c 1`, `nc -z`, `nc -u -z`, inside the
server's namespace on its compute host), and the trace's typed events (engine/trace.py:
`chain`, `rule`, `verdict`, `reason`) are read in order:

- a RETURN in a port's `neutron-linuxbri-i<port>`/`-o<port>` chain: the security-group rule
  that lets it through, named by its Neutron rule id, its group and the host's `iptables -S`
  line (matched through `firewall.rule_texts`, the text the agent wrote for that rule);
- a DROP in `neutron-linuxbri-sg-fallback` (or the INVALID/anti-spoofing drops): the port's
  firewall on its host, with the rules of its groups that did not match;
- a drop for want of a route in a `qrouter-` namespace: the router, with its routes and what
  it lacks (an interface on the destination's subnet, an external gateway);
- a server reached from outside without a floating IP, or an external address no floating
  IP holds: the missing floating IP.

The answer's `status` is 0 when the packet arrived, 1 when it did not (the decision named,
or "not delivered" with the trace's drops when no cloud element decided it).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from netplex.cloud.agent import group_members, rule_dict
from netplex.cloud.controller import CloudError, Controller, Port, Router, Rule, Server
from netplex.cloud.firewall import HYBRID_WRAP, WRAP, port_chain, rule_texts
from netplex.cloud.scenario import build_controller
from netplex.engine.trace import TraceEvent
from netplex.scenario.backend import Backend
from netplex.scenario.model import Scenario
from netplex.scenario.sim import SimBackend
from netplex.stack.dropreason import SkbDropReason

__all__ = ["Answer", "check_usage", "why"]

PROTOS = ("icmp", "tcp", "udp")
SETTLE_S = 30
NO_ROUTE = (SkbDropReason.IP_INNOROUTES, SkbDropReason.IP_INNOROUTES_NOT_FORWARDING)


@dataclass
class Answer:
    """What `why` found: `verdict` (allowed, security-group, anti-spoofing, no-route,
    no-floating-ip, not-delivered), the lines to print, the exit status."""

    verdict: str
    lines: list[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        return 0 if self.verdict == "allowed" else 1


@dataclass
class _End:
    name: str
    host: str                        # the node whose shell reaches it
    netns: str | None = None         # a server's namespace on its compute host
    server: Server | None = None
    ip: ipaddress.IPv4Address | None = None


def _resolve(ctl: Controller, scenario: Scenario, name: str) -> _End:
    for s in ctl.servers.values():
        if s.name == name:
            return _End(name, s.host, s.name, s, ctl.ports[s.ports[0]].ip)
    if name in scenario.nodes:
        return _End(name, name)
    raise CloudError(f'netplex: cloud why: no server or node "{name}"', 2)


def _describe_rule(r: Rule, ctl: Controller) -> str:
    proto = r.protocol or "any protocol"
    ports = "" if r.port_min is None else f" port {r.port_min}" if r.port_min == r.port_max else \
        f" ports {r.port_min}:{r.port_max}"
    way = "from" if r.direction == "ingress" else "to"
    remote = r.remote_ip_prefix or (f"group {ctl.groups[r.remote_group_id].name}" if r.remote_group_id else "any")
    return f"{r.direction} {proto}{ports} {way} {remote}"


class _Why:
    def __init__(self, scenario: Scenario, be: SimBackend, ctl: Controller) -> None:
        self.scenario, self.be, self.ctl = scenario, be, ctl
        self.members = group_members(ctl)
        # the firewall's chain prefix: the linuxbridge agent's, or the OVS agent's hybrid driver's
        self.wrap = HYBRID_WRAP if scenario.cloud is not None and scenario.cloud.mechanism == "openvswitch" else WRAP

    def chain_port(self, chain: str) -> Port | None:
        """The port whose firewall chain this is (`neutron-linuxbri-i<port>` and its o/s siblings)."""
        short = chain.removeprefix(f"{self.wrap}-")
        for p in self.ctl.ports.values():
            if short in (port_chain("i", p.tap), port_chain("o", p.tap), port_chain("s", p.tap)):
                return p
        return None

    def port_name(self, p: Port) -> str:
        owner = self.ctl.servers[p.device_id].name if p.device_id in self.ctl.servers else p.device_owner
        return f"{owner}'s port {p.id} ({p.tap})"

    def iptables_line(self, host: str, chain: str, num: int) -> str:
        lines = self.be.run(host, f"iptables -S {chain}").output.splitlines()
        return lines[num] if 0 < num < len(lines) else f"-A {chain} (rule {num})"

    def rule_of(self, p: Port, line: str) -> Rule | None:
        """The Neutron rule of the port's groups whose text the agent wrote as `line`."""
        words = line.split(" ", 2)
        text = words[2] if len(words) == 3 else ""
        direction = "ingress" if line.startswith(f"-A {self.wrap}-i") else "egress"
        for g in p.security_groups:
            for r in self.ctl.groups[g].rules:
                if r.direction == direction and text in rule_texts(rule_dict(r), [str(p.ip)], self.members, True):
                    return r
        return None

    def group_rules(self, p: Port, direction: str) -> list[str]:
        out = []
        for g in p.security_groups:
            grp = self.ctl.groups[g]
            rules = [r for r in grp.rules if r.direction == direction and r.ethertype == "IPv4"]
            out.append(f"  group {grp.name} ({grp.id}): "
                       + ("no " + direction + " rule" if not rules else f"{len(rules)} {direction} rule(s)"))
            out += [f"    rule {r.id}: {_describe_rule(r, self.ctl)}" for r in rules]
        return out

    def router_of(self, ns: str) -> Router | None:
        return next((r for r in self.ctl.routers.values() if r.namespace == ns), None)

    def no_route(self, r: Router, ev: TraceEvent, dst: ipaddress.IPv4Address) -> list[str]:
        routes = self.be.run(r.host, f"ip -n {r.namespace} route").output.splitlines()
        out = [f"decided by: router {r.name} ({r.id}) has no route to {dst}",
               f"  hop: {r.host}, namespace {r.namespace} ({ev.text})",
               "  its routes:"] + [f"    {x}" for x in routes]
        for sub in self.ctl.subnets.values():
            if dst in sub.cidr:
                out.append(f"  {dst} is on subnet {sub.name} ({sub.cidr}), which has no interface on router "
                           f"{r.name}: openstack router add subnet {r.name} {sub.name}")
                return out
        if r.gateway_port is None:
            out.append(f"  router {r.name} has no external gateway: openstack router set --external-gateway NETWORK "
                       f"{r.name}")
        return out

    def external_subnet(self, ip: ipaddress.IPv4Address) -> bool:
        return any(ip in s.cidr and self.ctl.networks[s.network_id].external for s in self.ctl.subnets.values())


def check_usage(proto: str, port: int | None) -> None:
    """Refuse a protocol or port `why` cannot send (CloudError, status 2)."""
    if proto not in PROTOS:
        raise CloudError(f'netplex: cloud why: protocol "{proto}" is not one of icmp, tcp, udp', 2)
    if proto != "icmp" and (port is None or not 1 <= port <= 65535):
        raise CloudError(f"netplex: cloud why: {proto} needs a port in 1..65535", 2)


def why(scenario: Scenario, be: Backend, src: str, dst: str, proto: str, port: int | None) -> Answer:
    """Trace one packet from `src` to `dst` on a prepared simulator and name what decides it."""
    if not isinstance(be, SimBackend):
        raise CloudError(f"netplex: cloud why traces in the simulator, not on the {be.name} backend", 2)
    check_usage(proto, port)
    ctl, failure = build_controller(scenario)
    if failure is not None:
        raise CloudError(f"netplex: cloud why: the cloud's line {failure['line']} failed: {failure['message']}", 2)
    w = _Why(scenario, be, ctl)
    a = _resolve(ctl, scenario, src)
    outside = a.server is None
    missing_fip: str | None = None
    try:
        b = _End(dst, "", ip=ipaddress.IPv4Address(dst))
        for p in ctl.ports.values():   # an address of a server: the server
            if p.ip == b.ip and p.device_id in ctl.servers:
                s = ctl.servers[p.device_id]
                b = _End(dst, s.host, s.name, s, b.ip)
        fips = {f.address: f for f in ctl.floating_ips.values() if f.fixed_port_id is not None}
        if b.ip in fips:
            s = ctl.servers.get(ctl.ports[fips[b.ip].fixed_port_id or ""].device_id)
            if s is not None:
                b = _End(dst, s.host, s.name, s, b.ip)
        elif outside and b.server is None and b.ip is not None and w.external_subnet(b.ip) and not any(
                p.ip == b.ip for p in ctl.ports.values() if p.device_owner == "network:router_gateway"):
            missing_fip = f"no floating IP {b.ip} is associated with a port (an external address nothing holds)"
    except ValueError:
        b = _resolve(ctl, scenario, dst)
        if outside and b.server is not None:
            fip = next((f for f in ctl.floating_ips.values() if f.fixed_port_id in b.server.ports), None)
            if fip is not None:
                b.ip = fip.address
            else:
                missing_fip = (f"{b.name} has no floating IP: from outside its networks it is reached only through a "
                               f"floating IP (openstack server add floating ip {b.name} ADDRESS)")
        elif b.ip is None:
            raise CloudError(f'netplex: cloud why: give {dst}\'s address (it is a node, not a server)', 2) from None
    assert b.ip is not None
    test = {"icmp": f"ping -c 1 -W 1 {b.ip}", "tcp": f"nc -z -w 1 {b.ip} {port}",
            "udp": f"nc -u -z -w 1 {b.ip} {port}"}[proto]
    command = f"ip netns exec {a.netns} {test}" if a.netns is not None else test
    # let what the bring-up started settle (IGMP reports, ARP) so the trace holds this packet's way
    be.run(a.host, f"sleep {SETTLE_S}")
    tracer = be.net.tracer
    tracer.clear()
    tracer.on = True
    try:
        r = be.run(a.host, command)
    finally:
        tracer.on = False
    events = list(tracer.events)
    where = b.netns or b.name
    head = [f"why {proto} {src} → {dst}" + (f" port {port}" if port else "") + f": {a.host}$ {command}"]
    return _judge(w, events, head, where, a, b, r.status == 0 and proto != "udp", missing_fip, r.error)


def _judge(w: _Why, events: list[TraceEvent], head: list[str], where: str, a: _End, b: _End, ok: bool,
           missing_fip: str | None, error: str) -> Answer:
    allowed: list[str] = []
    ends = {pid for e in (a, b) if e.server is not None for pid in e.server.ports}
    last_port: Port | None = None
    last_chain = ""
    for ev in events:
        if ev.stage == "ip_local_deliver" and ev.node == where:
            return Answer("allowed", head + [f"verdict: delivered to {b.name} ({b.ip})"] + allowed)
        chain = ev.chain or ""
        if chain.startswith((f"{w.wrap}-i", f"{w.wrap}-o", f"{w.wrap}-s")) and chain != f"{w.wrap}-sg-chain" \
                and not chain.startswith(f"{w.wrap}-sg-"):
            p = w.chain_port(chain)
            if p is None or ev.rule is None or p.id not in ends:
                continue   # another port's firewall: traffic other than this packet
            last_port, last_chain = p, chain
            line = w.iptables_line(ev.node, chain, ev.rule)
            direction = "ingress" if chain.startswith(f"{w.wrap}-i") else "egress"
            if ev.verdict == "RETURN" and "RELATED,ESTABLISHED" not in line and not chain.startswith(f"{w.wrap}-s"):
                rule = w.rule_of(p, line)
                what = (f"security-group rule {rule.id} of group {w.ctl.groups[rule.security_group_id].name}: "
                        f"{_describe_rule(rule, w.ctl)}") if rule is not None else "the DHCP allowance of every port"
                allowed.append(f"  {direction} on {ev.node}, {w.port_name(p)}: allowed by {what}")
                allowed.append(f"    {line}")
            elif ev.verdict == "DROP":
                spoof = chain.startswith(f"{w.wrap}-s")
                verdict = "anti-spoofing" if spoof else "security-group"
                return Answer(verdict, head + [f"verdict: dropped by the firewall of {w.port_name(p)} on {ev.node}",
                                               f"decided by: {line}"] + allowed)
        elif chain == f"{w.wrap}-sg-fallback" and ev.verdict == "DROP" and last_port is not None:
            direction = "ingress" if last_chain.startswith(f"{w.wrap}-i") else "egress"
            return Answer("security-group", head + allowed + [
                f"verdict: dropped by the security groups of {w.port_name(last_port)} on {ev.node}: "
                f"no {direction} rule matches",
                *w.group_rules(last_port, direction),
                f"decided by: {w.iptables_line(ev.node, chain, ev.rule or 1)}"])
        elif ev.stage == "drop" and ev.reason in NO_ROUTE and ev.node.startswith("qrouter-"):
            router = w.router_of(ev.node)
            if router is not None:
                return Answer("no-route", head + allowed + [f"verdict: dropped on the way to {b.ip}"]
                              + w.no_route(router, ev, b.ip or ipaddress.IPv4Address(0)))
    if missing_fip is not None:
        return Answer("no-floating-ip", head + [f"verdict: not delivered{': ' + error.strip() if error else ''}",
                                                f"decided by: {missing_fip}"])
    if ok:
        return Answer("allowed", head + [f"verdict: answered by {b.ip}"] + allowed)
    drops = [f"  drop at {ev.node}: {ev.text}" for ev in events if ev.stage == "drop"]
    return Answer("not-delivered", head + allowed + [f"verdict: not delivered{': ' + error.strip() if error else ''}",
                                                      *(drops or ["  no cloud element decided it"])])
