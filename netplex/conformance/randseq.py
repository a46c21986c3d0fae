"""Random command sequences, run on the simulator and on the kernel twin, compared after every command.

The long tail of differences between netplex and Linux is found by sequences
no one would write by hand: a seeded generator draws `ip` (link, addr, route,
neigh, rule, netns), `bridge`, `sysctl`, `iptables`, `tc` and `ping` command
lines from the real tools' words, options and values — valid ones and
near-valid ones (a bad prefix, a missing argument, an unknown device) — over a
small fixed topology (`TOPOLOGY`: three nodes, two veth links). Each sequence
runs on two fresh backends (`netplex.scenario.backend.Backend`: the simulator
and the kernel twin); after each command both sides are compared: exit status,
standard output, standard error, and a battery of show commands on the node
the command ran on (`BATTERY`: `ip -d link show`, `ip addr`, `ip route show
table all`, `ip neigh`, `ip rule`, `bridge fdb`, `bridge link`,
`iptables-save`, `tc qdisc show`, a few `sysctl` keys).

Text is compared after normalisation. Two levels, each a listed value with a
reason per rule (`netplex.scenario.diff.Normalisations`):

- STRICT: the project's `DEFAULT_NORMALISATIONS` only (random MACs, ifindexes,
  wall-clock timers) — what every differential test forgives;
- KNOWN: STRICT plus `KNOWN_DIFFERENCES`, the classes already found and
  recorded (docs/differential-random.md), so a run finds the next ones.

IPv6 words are not drawn: netplex models IPv4 (`ip -6` is refused in its own words) and the
twin's IPv6 state follows the host's defaults (devconf_inherit_init_net, disable_ipv6). A command
needing a kernel module this kernel lacks is never generated
(`netplex.twin.features.kernel_has`, passed in as `has`). A sequence that
disagrees is shrunk by delta debugging (`shrink`, ddmin over its command list)
to a minimal sequence whose first disagreement is of the same class, and
printed as a scenario file (`scenario_yaml`) ready for tests/differential/corpus.

    RANDDIFF_N=300 RANDDIFF_LEN=15 pytest -s -m linux tests/differential/test_randseq.py
    make randdiff N=300

Kernel references: iproute2's ip(8)/bridge(8)/tc(8) man pages for the words;
the kernel itself is the oracle.
"""
from __future__ import annotations

import difflib
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from netplex.scenario.backend import Backend, CmdResult
from netplex.scenario.diff import NORMALISATIONS, Normalisation, Normalisations
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare

__all__ = [
    "BATTERY", "FAMILIES", "KNOWN", "KNOWN_DIFFERENCES", "STRICT", "TOPOLOGY", "Command", "Outcome", "SequenceResult",
    "Step", "compare_step", "explain", "family_of", "generate", "run_pair", "run_sequence", "scenario_yaml", "shrink",
]

# -- the topology --------------------------------------------------------------------------------------------------

NODE_SETUP: dict[str, tuple[str, ...]] = {
    "a": ("ip link set lo up", "ip addr add 10.0.0.1/24 dev eth0", "ip addr add 10.0.1.1/24 dev eth1",
          "ip link set eth0 up", "ip link set eth1 up"),
    "b": ("ip link set lo up", "ip addr add 10.0.0.2/24 dev eth0", "ip link set eth0 up"),
    "c": ("ip link set lo up", "ip addr add 10.0.1.2/24 dev eth0", "ip link set eth0 up"),
}
LINKS: tuple[tuple[str, str], ...] = (("a:eth0", "b:eth0"), ("a:eth1", "c:eth0"))


def _topology_yaml(name: str, probes: Sequence[tuple[str, str]] = ()) -> str:
    lines = [f"name: {name}", "description: found by netplex.conformance.randseq (random command sequences)",
             "nodes:"]
    for node, setup in NODE_SETUP.items():
        lines += [f"  {node}:", "    setup: |", *(f"      {s}" for s in setup)]
    lines.append("links:")
    lines += [f"  - ends: [{x}, {y}]" for x, y in LINKS]
    if probes:
        lines.append("probes:")
        lines += [f"  - cmd: {{node: {node}, run: {_yaml_str(line)}}}" for node, line in probes]
    return "\n".join(lines) + "\n"


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


TOPOLOGY = _topology_yaml("randseq")
"""The fixed topology every sequence starts from: a—b on 10.0.0.0/24, a—c on 10.0.1.0/24, all up."""

# -- the battery ----------------------------------------------------------------------------------------------------

SYSCTL_KEYS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.eth0.forwarding",
               "net.ipv4.conf.eth0.proxy_arp", "net.ipv4.conf.eth0.arp_ignore", "net.ipv4.conf.eth0.rp_filter")
"""IPv4 keys only: the twin's IPv6 defaults follow the host (devconf_inherit_init_net, disable_ipv6)."""

BATTERY: tuple[tuple[str, str], ...] = (
    ("link", "ip -d link show"),
    ("addr", "ip addr"),
    ("route", "ip route show table all"),
    ("neigh", "ip neigh"),
    ("rule", "ip rule"),
    ("fdb", "bridge fdb"),
    ("brlink", "bridge link"),
    ("iptables", "iptables-save"),
    ("qdisc", "tc qdisc show"),
    ("sysctl", "sysctl " + " ".join(SYSCTL_KEYS)),
)
"""The show commands run after every command on its node: (section name, command line)."""

_SEP = "=== randseq "
BATTERY_LINE = "; ".join(f"echo '{_SEP}{name}'; {line} 2>&1" for name, line in BATTERY)


def _sections(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in text.split(_SEP)[1:]:
        name, _, body = chunk.partition("\n")
        out[name.strip()] = body
    return out


# -- normalisations -------------------------------------------------------------------------------------------------

_SAVE_HEADER = Normalisation(
    re.compile(r"^# (Generated by|Completed on) .*$", re.MULTILINE), r"# \1 <when>",
    "iptables-save's comment lines carry the wall-clock date and time")

_TC_AUTOHANDLE = Normalisation(
    re.compile(r"^(qdisc \S+ )[89a-f][0-9a-f]{3}: ", re.MULTILINE), r"\1<auto>: ",
    "a qdisc added without `handle` gets the next of the kernel's host-wide automatic handles "
    "(qdisc_alloc_handle counts from 8000: across every namespace of the host); the simulator counts per device")

KNOWN_DIFFERENCES: tuple[Normalisation, ...] = (
    Normalisation(re.compile(r"^(\s*link/\w+ .*?) promiscuity \d+ .*$", re.MULTILINE), r"\1 <details>",
     "`ip -d link show` detail attributes (bridge's ~30, lo's min/max MTU, gso/gro sizes): item 7, owned by "
     "the `outdetail` helper"),
    Normalisation(re.compile(r"^\s+(?:bridge|bridge_slave|veth|dummy|vlan|macvlan|vxlan) .*\n", re.MULTILINE), "",
     "the kind line of `ip -d link show` (item 7, `outdetail`)"),
    Normalisation(re.compile(r"^\s+altname .*\n", re.MULTILINE), "", "alternative names (none are made here)"),
)
"""Difference classes already found and recorded in docs/differential-random.md (each owned or listed
there): forgiven by the KNOWN level so a run surfaces the next class."""

STRICT = Normalisations(rules=(*NORMALISATIONS, _SAVE_HEADER, _TC_AUTOHANDLE))
"""What every differential forgives (netplex.scenario.diff: random MACs, ifindexes, wall-clock timers), and
iptables-save's date."""
KNOWN = Normalisations(rules=(*STRICT.rules, *KNOWN_DIFFERENCES))

# -- the generator --------------------------------------------------------------------------------------------------

FAMILIES = ("ip link", "ip addr", "ip route", "ip neigh", "ip rule", "ip netns", "bridge", "sysctl", "iptables",
            "tc", "ping")


def family_of(line: str) -> str:
    """The command family a line belongs to (its first word, or `ip OBJECT`)."""
    words = line.split()
    if not words:
        return "?"
    if words[0] == "ip":
        rest = iter(words[1:])
        obj = ""
        for w in rest:
            if w in ("-n", "-netns", "-b", "-batch", "-rc", "-rcvbuf"):
                next(rest, None)
            elif not w.startswith("-"):
                obj = w
                break
        for full, family in (("link", "link"), ("address", "addr"), ("route", "route"), ("rule", "rule"),
                             ("neighbour", "neigh"), ("netns", "netns")):
            if obj and full.startswith(obj):
                return f"ip {family}"
        return "ip"
    if words[0].startswith("iptables"):
        return "iptables"
    return words[0]


@dataclass(frozen=True, slots=True)
class Command:
    """One generated command line and the node it runs on."""

    node: str
    line: str

    @property
    def family(self) -> str:
        return family_of(self.line)


_MACS = ("02:00:00:00:00:01", "02:aa:bb:cc:dd:ee", "00:11:22:33:44:55", "ff:ff:ff:ff:ff:ff",
         "00:00:00:00:00:00", "02:00:00:00:00:zz", "01:00:5e:00:00:01")
_ADDRS = ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.2", "10.0.2.1", "192.0.2.1", "10.0.0.255", "127.0.0.1",
          "10.0.0.0", "256.1.1.1")
_PREFIXES = ("10.0.0.0/24", "10.0.2.0/24", "10.9.0.0/16", "192.0.2.0/24", "default", "10.0.3.1", "10.0.4.0/33",
             "0.0.0.0/0", "10.0.2.0/23")
_CHAINS = ("INPUT", "OUTPUT", "FORWARD")


class _Gen:
    """One sequence's generator: remembers the devices it created, to name them again."""

    def __init__(self, rng: random.Random, has: Callable[[str], bool]) -> None:
        self.r = rng
        self.has = has
        self.created: dict[str, list[str]] = {"a": [], "b": [], "c": []}

    def pick(self, *xs: str) -> str:
        return self.r.choice(xs)

    def maybe(self, s: str, p: float = 0.5) -> str:
        return s if self.r.random() < p else ""

    def dev(self, node: str) -> str:
        base = {"a": ["eth0", "eth1"], "b": ["eth0"], "c": ["eth0"]}[node]
        pool = base + self.created[node] + ["lo"]
        if self.r.random() < 0.05:
            return "nosuch0"
        return self.r.choice(pool)

    # -- families --
    def ip_link(self, n: str) -> str:
        r = self.r
        op = self.pick("add", "add", "set", "set", "set", "set", "del", "show")
        if op == "add":
            kinds = ["bridge", "bridge", "veth"]
            if self.has("dummy"):
                kinds.append("dummy")
            if self.has("8021q"):
                kinds.append("vlan")
            if self.has("macvlan"):
                kinds.append("macvlan")
            kind = r.choice(kinds)
            name = {"bridge": "br0", "veth": "v0", "dummy": "d0", "vlan": "eth0.5", "macvlan": "mv0"}[kind]
            if r.random() < 0.2:
                name = self.pick("br1", "d1", "v2")
            if kind not in ("vlan", "macvlan") and name not in self.created[n]:
                self.created[n].append(name)
            if kind == "veth":
                self.created[n].append("v1")
                return f"ip link add {name} type veth peer name v1"
            if kind == "vlan":
                self.created[n].append(name)
                return f"ip link add link eth0 name {name} type vlan id {self.pick('5', '5', '4095', '0')}"
            if kind == "macvlan":
                self.created[n].append(name)
                return f"ip link add {name} link eth0 type macvlan mode {self.pick('bridge', 'private', 'vepa')}"
            extra = ""
            if kind == "bridge":
                extra = self.pick("", "", " stp_state 1", " vlan_filtering 1" if self.has("bridge vlan_filtering")
                                  else "", " ageing_time 1000", " forward_delay 400")
            mtu = self.maybe(f" mtu {self.pick('1400', '9000', '67')}", 0.15)
            return f"ip link add {name}{mtu} type {kind}{extra}"
        if op == "set":
            d = self.dev(n)
            what = self.pick("up", "up", "down", f"mtu {self.pick('1280', '1400', '1500', '9000', '67', '70000', 'x')}",
                             f"address {r.choice(_MACS)}", f"master {self.pick('br0', 'br1', 'eth1')}", "nomaster",
                             f"txqueuelen {self.pick('100', '0', '-1')}", f"name {self.pick('eth9', 'lan0')}",
                             f"arp {self.pick('on', 'off')}", f"promisc {self.pick('on', 'off')}",
                             f"multicast {self.pick('on', 'off')}", f"alias {self.pick('uplink', 'x')}",
                             f"group {self.pick('1', 'default')}")
            if what.startswith("name "):
                new = what.split()[1]
                if d in self.created[n]:
                    self.created[n].remove(d)
                self.created[n].append(new)
            return f"ip link set dev {d} {what}"
        if op == "del":
            d = self.dev(n)
            return f"ip link del {d}"
        return self.pick("ip link show", f"ip link show dev {self.dev(n)}", "ip -br link", "ip -s link show dev lo",
                         "ip link show type bridge", "ip link show master br0", "ip link show up")

    def ip_addr(self, n: str) -> str:
        r = self.r
        op = self.pick("add", "add", "add", "del", "flush", "show", "replace", "change")
        d = self.dev(n)
        if op in ("add", "del", "replace", "change"):
            a = r.choice(_ADDRS[:7]) if r.random() < 0.85 else self.pick("10.0.0.9", "10.0.0.0")
            plen = "/" + self.pick("24", "24", "32", "16", "33", "8")
            opts = "".join(self.maybe(o, 0.15) for o in (" brd +", f" label {d}:1", " scope link",
                                                          " metric 50", " noprefixroute", " nodad"))
            return f"ip addr {op} {a}{plen}{opts} dev {d}"
        if op == "flush":
            return f"ip addr flush dev {d}" + self.pick("", "", " scope global", " secondary", " primary",
                                                         " label eth0:1")
        return self.pick("ip addr", f"ip addr show dev {d}", "ip -br addr", "ip -4 addr", "ip -o addr",
                         "ip addr show up", "ip addr show scope host")

    def ip_route(self, n: str) -> str:
        r = self.r
        op = self.pick("add", "add", "add", "del", "replace", "show", "get", "flush", "change", "append")
        if op == "show":
            return self.pick("ip route", "ip route show table all", "ip route show table local",
                             "ip route show table 100", "ip route show proto kernel", "ip route show scope link",
                             "ip route list match 10.0.0.5")
        if op == "get":
            return f"ip route get {r.choice(_ADDRS)}" + self.maybe(f" from {r.choice(_ADDRS)}", 0.2)
        if op == "flush":
            return self.pick("ip route flush table 100", "ip route flush cache", f"ip route flush dev {self.dev(n)}")
        typ = self.pick("", "", "", "", "blackhole ", "unreachable ", "prohibit ", "local ", "broadcast ",
                        "throw ")
        p = r.choice(_PREFIXES)
        tail = ""
        if not typ:
            tail = self.pick(f" via {self.pick('10.0.0.2', '10.0.1.2', '10.0.0.1', '192.0.2.9')}",
                             f" dev {self.dev(n)}",
                             f" via {self.pick('10.0.0.2', '10.0.1.2')} dev {self.dev(n)}")
        opts = "".join(self.maybe(o, 0.12) for o in (
            f" table {self.pick('100', 'main', 'local', '300', 'nosuch')}", f" metric {self.pick('10', '100')}",
            f" src {self.pick('10.0.0.1', '10.0.0.9')}", " scope link", " proto static",
            f" mtu {self.pick('1400', '16')}", " onlink", " advmss 1400"))
        return f"ip route {op} {typ}{p}{tail}{opts}"

    def ip_neigh(self, n: str) -> str:
        r = self.r
        op = self.pick("add", "add", "replace", "change", "del", "show", "flush")
        d = self.dev(n)
        if op == "show":
            return self.pick("ip neigh", f"ip neigh show dev {d}", "ip neigh show nud permanent", "ip -s neigh")
        if op == "flush":
            return self.pick(f"ip neigh flush dev {d}", "ip neigh flush all", "ip neigh flush nud stale")
        a = r.choice(_ADDRS[:7])
        if op == "del":
            return f"ip neigh del {a} dev {d}"
        ll = self.maybe(f" lladdr {r.choice(_MACS)}", 0.85)
        nud = self.maybe(f" nud {self.pick('permanent', 'reachable', 'stale', 'noarp', 'delay', 'probe', 'none')}",
                         0.7)
        return f"ip neigh {op} {a}{ll} dev {d}{nud}"

    def ip_rule(self, n: str) -> str:
        op = self.pick("add", "add", "del", "show")
        if op == "show":
            return self.pick("ip rule", "ip rule show", "ip rule list table 100", "ip -4 rule")
        sel = "".join(self.maybe(o, 0.35) for o in (
            f" from {self.pick('10.0.0.0/24', '10.0.1.2', 'all')}", f" to {self.pick('10.0.2.0/24', '192.0.2.1')}",
            f" iif {self.dev(n)}", f" fwmark {self.pick('1', '0x10/0xff')}", f" tos {self.pick('0x10', '4')}"))
        pref = self.maybe(f" pref {self.pick('100', '1000', '32766', '0')}", 0.5)
        act = self.pick(f" table {self.pick('100', 'main', '300')}", f" lookup {self.pick('100', 'local')}",
                        " blackhole", " prohibit", " unreachable", "")
        return f"ip rule {op}{sel}{pref}{act}"

    def ip_netns(self, n: str) -> str:
        return self.pick("ip netns add x1", "ip netns add x1", "ip netns list", "ip netns del x1",
                         "ip -n x1 link show", "ip -n x1 link set lo up", "ip -n x1 addr",
                         f"ip link set {self.pick('v1', 'd0', 'eth0.5')} netns x1", "ip netns exec x1 ip route")

    def bridge(self, n: str) -> str:
        r = self.r
        op = self.pick("fdb", "fdb", "link", "link", "vlan", "show")
        if op == "vlan" and not self.has("bridge vlan_filtering"):
            # without CONFIG_BRIDGE_VLAN_FILTERING the kernel keeps no VLANs at all (`bridge vlan
            # add` is EOPNOTSUPP, `show` lists none); netplex models a kernel that has it
            op = "show"
        d = self.dev(n)
        if op == "fdb":
            sub = self.pick("add", "add", "del", "replace", "show", "append")
            if sub == "show":
                return self.pick("bridge fdb show", f"bridge fdb show dev {d}", "bridge fdb show br br0")
            flags = self.pick(" master", " master static", " self", " self permanent", " master dynamic", "")
            vlan = self.maybe(" vlan 5", 0.15)
            return f"bridge fdb {sub} {r.choice(_MACS)} dev {d}{flags}{vlan}"
        if op == "link":
            opt = self.pick(f"cost {self.pick('10', '0', '100000000')}", f"priority {self.pick('3', '64')}",
                            f"state {self.pick('0', '1', '3', '4', '9')}", f"learning {self.pick('on', 'off')}",
                            f"flood {self.pick('on', 'off')}", f"hairpin {self.pick('on', 'off')}",
                            f"guard {self.pick('on', 'off')}", f"root_block {self.pick('on', 'off')}",
                            f"mcast_flood {self.pick('on', 'off')}", f"neigh_suppress {self.pick('on', 'off')}",
                            f"isolated {self.pick('on', 'off')}")
            return f"bridge link set dev {d} {opt}"
        if op == "vlan":
            sub = self.pick("add", "del", "show")
            if sub == "show":
                return "bridge vlan show"
            return (f"bridge vlan {sub} vid {self.pick('5', '10', '1', '4095', '0')} dev {d}"
                    + self.pick("", " pvid untagged", " untagged", " master", " self"))
        return self.pick("bridge link", "bridge link show", "bridge fdb", "bridge -d link", "bridge mdb")

    def sysctl(self, n: str) -> str:
        d = self.dev(n)
        key = self.pick("net.ipv4.ip_forward", f"net.ipv4.conf.{d}.forwarding", f"net.ipv4.conf.{d}.rp_filter",
                        f"net.ipv4.conf.{d}.proxy_arp", f"net.ipv4.conf.{d}.arp_ignore",
                        f"net.ipv4.conf.{d}.accept_redirects", f"net.ipv4.conf.{d}.arp_announce",
                        f"net.ipv4.conf.{d}.send_redirects", "net.ipv4.conf.all.rp_filter",
                        f"net.ipv4.neigh.{d}.base_reachable_time_ms", "net.ipv4.ip_default_ttl",
                        f"net.ipv4.conf.{d}.arp_filter", "net.ipv4.nosuch")
        op = self.pick("w", "w", "w", "r", "q")
        if op == "r":
            return f"sysctl {self.pick('', '-n ', '-e ')}{key}"
        val = self.pick("0", "1", "1", "2", "3", "64", "x", "")
        flag = "-w" if op == "w" else "-qw"
        return f"sysctl {flag} {key}={val}"

    def iptables(self, n: str) -> str:
        r = self.r
        table = self.pick("", "", "", " -t nat", " -t mangle", " -t raw")
        chains = {"": _CHAINS, " -t nat": ("PREROUTING", "POSTROUTING", "OUTPUT", "INPUT"),
                  " -t mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
                  " -t raw": ("PREROUTING", "OUTPUT")}[table]
        chain = r.choice(chains) if r.random() < 0.9 else self.pick("MYCHAIN", "nosuch")
        op = self.pick("-A", "-A", "-A", "-I", "-D", "-P", "-N", "-X", "-F", "-L", "-S", "-Z")
        if op == "-P":
            return f"iptables{table} -P {chain} {self.pick('ACCEPT', 'DROP', 'REJECT', 'RETURN')}"
        if op in ("-N", "-X"):
            return f"iptables{table} {op} {self.pick('MYCHAIN', 'MYCHAIN', 'INPUT', 'x' * 30)}"
        if op in ("-F", "-Z", "-S"):
            return f"iptables{table} {op}" + self.maybe(f" {chain}")
        if op == "-L":
            return f"iptables{table} -L" + self.maybe(f" {chain}") + self.pick(" -n", " -nv", " -n --line-numbers")
        m = "".join(self.maybe(o, 0.25) for o in (
            f" -s {self.pick('10.0.0.0/24', '10.0.0.2', '10.0.0.0/33', '!10.0.0.2')}",
            f" -d {self.pick('10.0.1.0/24', '192.0.2.1')}", f" -i {self.dev(n)}", f" -o {self.dev(n)}"))
        proto = self.pick("", "", " -p tcp", " -p udp", " -p icmp", " -p sctp", " -p nosuch")
        if proto in (" -p tcp", " -p udp") and r.random() < 0.6:
            proto += f" --dport {self.pick('22', '80:90', '65536', 'ssh', '0')}"
        if proto == " -p icmp" and r.random() < 0.5:
            proto += f" --icmp-type {self.pick('echo-request', '8', 'nosuch')}"
        ext = self.pick("", "", " -m conntrack --ctstate ESTABLISHED,RELATED", " -m state --state NEW",
                        " -m comment --comment test", " -m mark --mark 0x1", " -m limit --limit 5/min",
                        " -m multiport --dports 22,80" if proto.startswith((" -p tcp", " -p udp")) else "",
                        " -m addrtype --dst-type LOCAL")
        target = self.pick(" -j ACCEPT", " -j DROP", " -j REJECT", " -j LOG --log-prefix x:", " -j RETURN",
                           " -j MARK --set-mark 1", " -j MASQUERADE", " -j SNAT --to-source 10.0.0.1",
                           " -j DNAT --to-destination 10.0.0.2", " -j NOSUCH", "", " -j MYCHAIN")
        pos = " 1" if op == "-I" and r.random() < 0.5 else ""
        return f"iptables{table} {op} {chain}{pos}{m}{proto}{ext}{target}"

    def tc(self, n: str) -> str:
        d = self.dev(n)
        op = self.pick("add", "add", "replace", "del", "show", "change", "class", "filter")
        if op == "show":
            return self.pick("tc qdisc show", f"tc qdisc show dev {d}", f"tc -s qdisc show dev {d}",
                             f"tc class show dev {d}", f"tc filter show dev {d}")
        qdiscs = ["pfifo limit 10", "bfifo limit 10000", "pfifo_fast", "pfifo limit x"]
        for feat, q in (("sch_htb", "handle 1: htb default 10"), ("sch_tbf", "tbf rate 1mbit burst 10k latency 50ms"),
                        ("sch_sfq", "sfq perturb 10"), ("sch_prio", "handle 1: prio"),
                        ("sch_netem", "netem delay 10ms"), ("sch_tbf", "tbf rate 1mbit")):
            if self.has(feat):
                qdiscs.append(q)
        if op == "class":
            if not self.has("sch_htb"):
                return f"tc class show dev {d}"
            return (f"tc class {self.pick('add', 'add', 'change', 'del')} dev {d} parent 1: classid "
                    f"1:{self.pick('10', '20')} htb rate {self.pick('1mbit', '10mbit', 'x')}")
        if op == "filter":
            if not (self.has("sch_htb") and self.has("cls_fw")):
                return f"tc filter show dev {d}"
            return f"tc filter add dev {d} parent 1: protocol ip prio 1 handle {self.pick('1', '2')} fw classid 1:10"
        where = self.pick("root", "root", "ingress", "parent 1:1", "")
        if op == "del":
            return f"tc qdisc del dev {d} {where}".rstrip()
        if where == "ingress":
            return f"tc qdisc {op} dev {d} ingress"
        return f"tc qdisc {op} dev {d} {where} {self.r.choice(qdiscs)}".replace("  ", " ")

    def ping(self, n: str) -> str:
        dst = self.pick("10.0.0.2", "10.0.0.1", "10.0.1.2", "127.0.0.1", "10.0.0.3", "192.0.2.1", "10.0.0.255",
                        "10.0.1.1", "10.0.0.0")
        opts = self.pick("", "", " -q", f" -I {self.dev(n)}", " -s 100", " -t 1", " -n")
        return f"ping -c 1 -W 1{opts} {dst}"


_WEIGHTS: dict[str, int] = {"ip link": 16, "ip addr": 12, "ip route": 12, "ip neigh": 8, "ip rule": 5,
                            "ip netns": 3, "bridge": 8, "sysctl": 8, "iptables": 12, "tc": 8, "ping": 8}


def generate(seed: int, length: int, has: Callable[[str], bool]) -> list[Command]:
    """A sequence of `length` commands drawn from `seed` (the same seed gives the same sequence).

    `has(feature)` says whether the kernel twin can run a feature of netplex.twin.features;
    commands needing one it lacks are not drawn.
    """
    rng = random.Random(seed)
    g = _Gen(rng, has)
    fams = list(_WEIGHTS)
    weights = [_WEIGHTS[f] for f in fams]
    out: list[Command] = []
    methods: dict[str, Callable[[str], str]] = {
        "ip link": g.ip_link, "ip addr": g.ip_addr, "ip route": g.ip_route, "ip neigh": g.ip_neigh,
        "ip rule": g.ip_rule, "ip netns": g.ip_netns, "bridge": g.bridge, "sysctl": g.sysctl,
        "iptables": g.iptables, "tc": g.tc, "ping": g.ping}
    for _ in range(length):
        node = rng.choice(("a", "a", "a", "b"))
        fam = rng.choices(fams, weights)[0]
        out.append(Command(node, methods[fam](node)))
    return out


# -- running and comparing ------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Outcome:
    """What one command did on one backend: its result and the battery after it (section -> text)."""

    result: CmdResult
    state: dict[str, str]


def _run(backend: Backend, node: str, line: str) -> CmdResult:
    """`backend.run`; an exception escaping it (a netplex bug: issue 10 item 8) becomes the result, so the
    sequence goes on and the difference is recorded, its text starting with "Traceback"."""
    try:
        return backend.run(node, line)
    except Exception as e:   # noqa: BLE001 - the tool reports every escaping exception as a finding
        return CmdResult(-1, "", f"Traceback (netplex raised): {type(e).__name__}: {e}\n")


Pace = list[tuple[int, int]]
"""When each command and the battery after it started, in ns after the topology was set up (PACE_REASON)."""

PACE_REASON = ("the kernel's timers run on the wall clock while the twin's commands take time (a new namespace, "
               "an `ip` process each), the simulator's only when a command sleeps or waits: NUD DELAY turns "
               "PROBE at once and an unanswered ARP request FAILED after 3 s, a bridge's gc work runs, only as "
               "time passes. The simulator is paced to the twin: before each command and each battery it "
               "sleeps, in simulated time, until as long after the setup as the twin was on the wall clock")


TWIN_STARTUP_NS = 20_000_000
"""How long a twin command takes to start acting (a shell and an `ip` process in the namespace: `true`
takes 20-25 ms on the reference machine); the simulator runs the command, and reads the battery, that
much after the twin started it (a timer of a few ms, as a REACHABLE entry's with
base_reachable_time_ms=3, has fired on the kernel by the time its battery looks: seed 2168)."""


def _catch_up(backend: Backend, node: str, at_ns: int) -> None:
    """Let the simulator's clock run to `at_ns` (never back): `sleep` on the node, as a user would; a
    gap of 0 still runs what is due now (a timer of 0, as NUD DELAY's, has fired on the kernel)."""
    gap = max(0, at_ns - backend.clock_ns())
    _run(backend, node, f"sleep {gap // 1_000_000_000}.{gap % 1_000_000_000:09d}")


def run_sequence(commands: Sequence[Command], backend: Backend, record: Pace | None = None,
                 follow: Pace | None = None) -> list[Outcome]:
    """Build the topology on `backend`, run each command then the battery on its node; close the backend.

    `record`: filled with when (backend clock, ns after the setup) each command and battery started;
    `follow`: such a record to pace this backend's clock to (PACE_REASON)."""
    scenario = load_scenario_text(TOPOLOGY, "<randseq>")
    try:
        err = prepare(scenario, backend)
        if err is not None:
            raise RuntimeError(f"{backend.name}: the topology's setup failed: {err}")
        t0 = backend.clock_ns()
        out: list[Outcome] = []
        for k, c in enumerate(commands):
            if follow is not None:   # the twin's command acts once its process is running
                _catch_up(backend, c.node, t0 + min(follow[k][0] + TWIN_STARTUP_NS, follow[k][1]))
            t_cmd = backend.clock_ns() - t0
            res = _run(backend, c.node, c.line)
            if follow is not None:   # the battery's `ip` processes read the state as long after it started
                _catch_up(backend, c.node, t0 + follow[k][1] + TWIN_STARTUP_NS)
            t_battery = backend.clock_ns() - t0
            state = _run(backend, c.node, BATTERY_LINE)
            if record is not None:
                record.append((t_cmd, t_battery))
            out.append(Outcome(res, _sections(state.output)))
        return out
    finally:
        backend.close()


UNORDERED_REASON = ("the kernel lists neighbours in its hash table's order, which a random seed per table "
                    "decides (neigh_hash_alloc's hash_rnd); the simulator lists them in creation order")
"""Why `ip neigh` output (the battery's `neigh` section and `ip neigh show` commands) is compared as a set of lines."""


def _unordered(line: str) -> bool:
    """An `ip neigh` listing: its lines are compared in any order (UNORDERED_REASON)."""
    words = line.split()
    return family_of(line) == "ip neigh" and not {"add", "del", "replace", "change", "flush"} & set(words)


def _same(a: str, b: str, norm: Normalisations, unordered: bool = False) -> bool:
    x, y = norm.text(a), norm.text(b)
    return sorted(x.splitlines()) == sorted(y.splitlines()) if unordered else x == y


def compare_step(sim: Outcome, linux: Outcome, norm: Normalisations, line: str = "") -> list[str]:
    """The aspects in which the two outcomes differ after `norm`: "status", "stdout", "stderr", "state:SECTION"."""
    diffs: list[str] = []
    if sim.result.status != linux.result.status:
        diffs.append("status")
    if not _same(sim.result.output, linux.result.output, norm, _unordered(line)):
        diffs.append("stdout")
    if norm.text(sim.result.error) != norm.text(linux.result.error):
        diffs.append("stderr")
    for name, show in BATTERY:
        if not _same(sim.state.get(name, ""), linux.state.get(name, ""), norm, _unordered(show)):
            diffs.append(f"state:{name}")
    return diffs


def explain(sim: Outcome, linux: Outcome, aspects: Sequence[str], norm: Normalisations) -> str:
    """The normalised differences of `aspects` (as compare_step names them), as unified diffs sim -> linux."""
    out: list[str] = []
    for aspect in aspects:
        if aspect.startswith("state:"):
            a, b = sim.state.get(aspect[6:], ""), linux.state.get(aspect[6:], "")
        elif aspect == "status":
            a, b = f"{sim.result.status}\n", f"{linux.result.status}\n"
        elif aspect == "stdout":
            a, b = sim.result.output, linux.result.output
        else:
            a, b = sim.result.error, linux.result.error
        out += difflib.unified_diff(norm.text(a).splitlines(), norm.text(b).splitlines(), f"sim {aspect}",
                                    f"linux {aspect}", lineterm="", n=1)
    return "\n".join(out)


@dataclass(slots=True)
class Step:
    """One command of a sequence, both outcomes, and the differences at each level."""

    command: Command
    sim: Outcome
    linux: Outcome
    strict: list[str]
    known: list[str]


@dataclass(slots=True)
class SequenceResult:
    """A sequence run on both backends, compared after each command."""

    seed: int
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0

    def first(self, level: str) -> int | None:
        """Index of the first step that differs at `level` ("strict" or "known"), or None."""
        return next((i for i, s in enumerate(self.steps) if getattr(s, level)), None)

    def counted(self, level: str) -> list[tuple[str, bool]]:
        """(family, agreed) of each step up to and including the first difference at `level`.

        Steps after it are not counted: their state follows from an earlier difference.
        """
        stop = self.first(level)
        steps = self.steps if stop is None else self.steps[:stop + 1]
        return [(s.command.family, not getattr(s, level)) for s in steps]

    def disagreement_class(self, level: str = "known") -> str | None:
        """The class of the first difference: "FAMILY: aspect,aspect" (None when all agree)."""
        i = self.first(level)
        if i is None:
            return None
        s = self.steps[i]
        return f"{s.command.family}: {','.join(getattr(s, level))}"


def run_pair(commands: Sequence[Command], make_sim: Callable[[], Backend], make_linux: Callable[[], Backend],
             seed: int = 0) -> SequenceResult:
    """Run `commands` on a fresh kernel twin, then on a fresh simulator paced to it (PACE_REASON), and
    compare after each command."""
    t0 = time.monotonic()
    pace: Pace = []
    lin = run_sequence(commands, make_linux(), record=pace)
    sim = run_sequence(commands, make_sim(), follow=pace)
    res = SequenceResult(seed)
    for c, s, lo in zip(commands, sim, lin, strict=True):
        res.steps.append(Step(c, s, lo, compare_step(s, lo, STRICT, c.line), compare_step(s, lo, KNOWN, c.line)))
    res.seconds = time.monotonic() - t0
    return res


# -- shrinking ------------------------------------------------------------------------------------------------------

def shrink(commands: Sequence[Command], still_fails: Callable[[list[Command]], bool],
           deadline: float | None = None) -> list[Command]:
    """The smallest sub-sequence (1-minimal, by ddmin) for which `still_fails` holds.

    `commands` must fail. `deadline` (time.monotonic()) stops shrinking early with the best found so far.
    """
    cur = list(commands)
    n = 2
    while len(cur) >= 2:
        if deadline is not None and time.monotonic() > deadline:
            break
        size = len(cur) // n
        chunks = [cur[i:i + size] for i in range(0, len(cur), size)] if size else [[c] for c in cur]
        reduced = False
        for i in range(len(chunks)):
            complement = [c for j, ch in enumerate(chunks) if j != i for c in ch]
            if complement and still_fails(complement):
                cur, n, reduced = complement, max(n - 1, 2), True
                break
        if not reduced:
            if n >= len(cur):
                break
            n = min(len(cur), n * 2)
    return cur


def scenario_yaml(commands: Sequence[Command], name: str = "randseq-repro", battery: Sequence[str] = ()) -> str:
    """A scenario file reproducing `commands` as cmd probes (then the battery sections named), ready to paste."""
    probes = [(c.node, c.line) for c in commands]
    last = commands[-1].node if commands else "a"
    probes += [(last, line) for sec, line in BATTERY if sec in battery]
    return _topology_yaml(name, probes)
