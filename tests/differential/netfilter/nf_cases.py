"""Generated netfilter differential cases: rulesets × packets, seeded, on one shared topology.

    client 10.0.0.2 ── eth0 10.0.0.1 [fw] 10.0.1.1 eth1 ── server 10.0.1.2

`fw` forwards and runs the generated ruleset (filter INPUT/FORWARD, nat
PREROUTING/POSTROUTING/OUTPUT, raw); it also serves tcp:22 tcp:8080
udp:53 itself. The server serves tcp:80 tcp:22 udp:53 udp:5353. Each case
is reset (`RESET`), gets its ruleset, sends its probes from the client and
reads back what both backends must agree on (`observe`): each probe's
outcome, error and the peer address (and non-ephemeral port) the service
saw; every rule's counters (`iptables-save -c`, rules only); and the fw's
`conntrack -L` entries without their timeouts, ephemeral ports masked,
sorted (the kernel lists its hash in bucket order).

`make_cases(n, seed)` is deterministic: CI sees the same cases every run.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from netplex.scenario.model import Link, Node

NODES = {name: Node() for name in ("client", "fw", "server")}
LINKS = [Link.model_validate({"ends": ["client:eth0", "fw:eth0"]}),
         Link.model_validate({"ends": ["fw:eth1", "server:eth0"]})]
SETUP = {
    "client": ["ip addr add 10.0.0.2/24 dev eth0", "ip link set eth0 up", "ip link set lo up",
               "ip route add default via 10.0.0.1"],
    "fw": ["ip addr add 10.0.0.1/24 dev eth0", "ip addr add 10.0.1.1/24 dev eth1", "ip link set eth0 up",
           "ip link set eth1 up", "ip link set lo up", "sysctl -w net.ipv4.ip_forward=1"],
    "server": ["ip addr add 10.0.1.2/24 dev eth0", "ip link set eth0 up", "ip link set lo up",
               "ip route add default via 10.0.1.1"],
}
SERVICES = {"fw": [("tcp", 22), ("tcp", 8080), ("udp", 53)],
            "server": [("tcp", 80), ("tcp", 22), ("udp", 53), ("udp", 5353)]}
RESET = ("iptables -P INPUT ACCEPT; iptables -P FORWARD ACCEPT; iptables -P OUTPUT ACCEPT; "
         "iptables -F; iptables -X; iptables -t nat -F; iptables -t nat -X; iptables -t raw -F; "
         "iptables -Z; iptables -t nat -Z; iptables -t raw -Z; conntrack -F 2>/dev/null; true")

# (probe kind, destination, port): what the client tries
PROBES = [
    ("tcp", "10.0.1.2", 80), ("tcp", "10.0.1.2", 22), ("udp", "10.0.1.2", 53), ("udp", "10.0.1.2", 5353),
    ("tcp", "10.0.0.1", 22), ("tcp", "10.0.0.1", 8080), ("udp", "10.0.0.1", 53), ("ping", "10.0.1.2", 0),
    ("ping", "10.0.0.1", 0), ("tcp", "10.0.0.1", 2222), ("udp", "10.0.0.1", 5353), ("tcp", "10.0.1.2", 81),
    ("udp", "10.0.1.2", 54),
]

FILTER_RULES = [
    "-A FORWARD -p tcp --dport 80 -j ACCEPT",
    "-A FORWARD -p tcp --dport 22 -j REJECT",
    "-A FORWARD -p tcp --dport 22 -j REJECT --reject-with tcp-reset",
    "-A FORWARD -p udp --dport 53 -j REJECT",
    "-A FORWARD -p udp --dport 5353 -j DROP",
    "-A FORWARD -s 10.0.0.2 -p icmp -j REJECT --reject-with icmp-host-prohibited",
    "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    "-A FORWARD -m conntrack --ctstate NEW -p tcp --syn -j ACCEPT",
    "-A FORWARD -m state --state INVALID -j DROP",
    "-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT",
    "-A FORWARD -i eth0 -o eth1 -p udp -j ACCEPT",
    "-A FORWARD -d 10.0.1.2 -p tcp -m multiport --dports 80,81 -j ACCEPT",
    "-A FORWARD -p tcp --dport 81 -j REJECT --reject-with icmp-port-unreachable",
    "-A INPUT -p tcp --dport 22 -j ACCEPT",
    "-A INPUT -p tcp --dport 8080 -j REJECT --reject-with tcp-reset",
    "-A INPUT -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited",
    "-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT",
    "-A INPUT -p icmp --icmp-type echo-request -j REJECT",
    "-A INPUT -m conntrack --ctstate NEW -j ACCEPT",
    "-A OUTPUT -p icmp --icmp-type destination-unreachable -j ACCEPT",
]
NAT_RULES = [
    "-t nat -A PREROUTING -d 10.0.0.1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.1.2:80",
    "-t nat -A PREROUTING -d 10.0.0.1 -p udp --dport 5353 -j DNAT --to-destination 10.0.1.2",
    "-t nat -A PREROUTING -d 10.0.0.1 -p udp --dport 53 -j DNAT --to-destination 10.0.1.2:5353",
    "-t nat -A PREROUTING -i eth0 -p tcp --dport 2222 -j REDIRECT --to-ports 22",
    "-t nat -A PREROUTING -d 10.0.0.1 -p icmp -j DNAT --to-destination 10.0.1.2",
    "-t nat -A PREROUTING -p tcp --dport 81 -j DNAT --to-destination 10.0.1.2:22",
    "-t nat -A POSTROUTING -o eth1 -j MASQUERADE",
    "-t nat -A POSTROUTING -s 10.0.0.0/24 -o eth1 -j SNAT --to-source 10.0.1.1",
    "-t nat -A POSTROUTING -o eth1 -p tcp -j SNAT --to-source 10.0.1.1:20000-20010",
    "-t nat -A POSTROUTING -o eth1 -p udp -j MASQUERADE --to-ports 30000-30010",
    "-t nat -A POSTROUTING -d 10.0.1.2 -p tcp --dport 22 -j MASQUERADE",
    "-t nat -A POSTROUTING -o eth1 -p icmp -j SNAT --to-source 10.0.1.1",
    "-t raw -A PREROUTING -p udp --dport 53 -j CT --notrack",
    "-t raw -A PREROUTING -p tcp --dport 22 -j NOTRACK",
    "-t raw -A PREROUTING -p icmp -j CT --zone 3",
]
POLICIES = ["-P FORWARD DROP", "-P INPUT DROP"]
ALLOW_BACK = {"-P FORWARD DROP": "-I FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
              "-P INPUT DROP": "-I INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT"}


@dataclass
class Case:
    name: str
    rules: list[str]
    probes: list[tuple[str, str, int]]

    def script(self) -> str:
        return "\n".join(f"iptables {r}" for r in self.rules)


def make_cases(n: int = 160, seed: int = 4242) -> list[Case]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rules: list[str] = []
        k = rng.randint(1, 4)
        rules += rng.sample(NAT_RULES, rng.randint(0, 3))
        rules += rng.sample(FILTER_RULES, k)
        if rng.random() < 0.25:
            pol = rng.choice(POLICIES)
            rules.append(pol)
            if rng.random() < 0.7:
                rules.append(ALLOW_BACK[pol])
        probes = rng.sample(PROBES, 3)
        out.append(Case(f"nf{i:03d}", rules, probes))
    return out


_EPH = re.compile(r"\b(sport|dport)=(3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})\b")
_NATPORT = re.compile(r"\b(sport|dport)=(200(?:0\d|10)|300(?:0\d|10))\b")
_ICMPID = re.compile(r"\bid=\d+\b")
_TIMEOUT = re.compile(r"^(\S+\s+\d+) \d+ ")


def normalise_conntrack(text: str) -> list[str]:
    """`conntrack -L` lines without timeouts, with ephemeral ports, NAT-range ports and ICMP ids masked."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        line = _TIMEOUT.sub(r"\1 <t> ", line)
        line = _EPH.sub(r"\1=<eport>", line)
        line = _NATPORT.sub(r"\1=<natport>", line)
        line = _ICMPID.sub("id=<id>", line)
        lines.append(line)
    return sorted(lines)


TABLE_ORDER = ("raw", "mangle", "filter", "security", "nat")


def normalise_counters(text: str) -> list[str]:
    """Rule lines of `iptables-save -c` ([packets:bytes] -A ...) as `table: line`, tables in
    iptables-nft's order (raw, mangle, filter, security, nat), rules in chain order.

    Left out on purpose, both reported to the rule framework's owner: the built-in
    chains' policy counters (iptables-nft 1.8.9 on the kernel twin reports them as
    0) and the order of the tables (which iptables-save prints in the order above)."""
    by_table: dict[str, list[str]] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith("[") and " -A " in line:
            by_table.setdefault(table, []).append(f"{table}: {line}")
    return [line for t in TABLE_ORDER for line in by_table.get(t, [])]


def observe_probe(kind: str, outcome: Any) -> dict[str, Any]:
    o = outcome.observed
    view: dict[str, Any] = {"ok": outcome.ok}
    if kind == "ping":
        view["replies"] = o.get("replies", 0)
        return view
    if outcome.ok:
        view["peer"] = o.get("peer")
        port = o.get("peer_port")
        if isinstance(port, int) and 32768 <= port <= 60999:
            port = "<eport>"
        elif isinstance(port, int) and (20000 <= port <= 20010 or 30000 <= port <= 30010):
            port = "<natport>"
        view["peer_port"] = port
    else:
        view["error"] = o.get("error")
    return view


@dataclass
class Observed:
    probes: list[dict[str, Any]] = field(default_factory=list)
    counters: list[str] = field(default_factory=list)
    conntrack: list[str] = field(default_factory=list)
    setup_error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"probes": self.probes, "counters": self.counters, "conntrack": self.conntrack,
                "setup_error": self.setup_error}


def build(backend: Any) -> None:
    backend.build(NODES, LINKS)
    for node in NODES:
        for line in SETUP[node]:
            r = backend.run(node, line)
            assert r.status == 0, (node, line, r.error)
    for node, svcs in SERVICES.items():
        backend.start_services(node, svcs)


def run_case(backend: Any, case: Case) -> Observed:
    obs = Observed()
    # Each case takes about a second of wall time on the kernel; let the simulated
    # clock pass as much, so the ICMP rate limiter's tokens refill alike.
    if backend.name == "sim":
        backend.run("fw", "sleep 1")
    backend.run("fw", RESET)
    r = backend.run("fw", case.script())
    if r.status != 0:
        obs.setup_error = r.error.strip()
    for kind, dst, port in case.probes:
        if kind == "ping":
            out = backend.ping("client", dst, 1)
        elif kind == "tcp":
            out = backend.tcp("client", dst, port)
        else:
            out = backend.udp("client", dst, port)
        obs.probes.append(observe_probe(kind, out))
    r = backend.run("fw", "iptables-save -c")
    obs.counters = normalise_counters(r.output)
    r = backend.run("fw", "conntrack -L")
    obs.conntrack = normalise_conntrack(r.output)
    return obs
