"""Seeded generators of hostile input: shell lines and scenario files.

Shell lines are drawn from what netplex really runs: the setup lines of the
examples and of the differential corpus (real command words in real orders),
the registered command table (`COMMANDS`), and each tool's own option list
(the words its `--help`, `help` or usage text prints). Each line is one of
those seeds or a command built from the vocabulary, mutated (cut short, a
word replaced by a hostile value, an option added) and wrapped in shell
syntax (quoting, pipes, redirections, control flow, substitutions).

Scenario files are the examples and corpus files mutated (values replaced,
lines cut, keys duplicated, aliases and nesting added), plus a fixed corpus of
known-bad inputs (recursive and exponential aliases, deep nesting, huge numbers).
"""
from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from netplex.network import Network
from netplex.shell import host as _host  # noqa: F401  (registers every command)
from netplex.shell.registry import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_DIRS = [ROOT / "examples", ROOT / "tests" / "differential" / "corpus"]

# values a user (or an attacker) may type where an argument goes
VALUES = [
    "eth0", "eth1", "lo", "br0", "p1", "veth0", "vxlan0", "gre1", "eth0.10", "nosuchdev", "x" * 16,
    "10.0.0.1", "10.0.0.2", "10.0.0.0/24", "10.9.0.0/24", "0.0.0.0/0", "224.0.0.1", "255.255.255.255",
    "127.0.0.1", "::1", "fe80::1/64", "300.1.1.1", "10.0.0.1/33", "1.2.3", "00:11:22:33:44:55", "ff:ff",
    "0", "1", "-1", "16", "68", "1500", "65535", "65536", "4294967296", "99999999999999999999999",
    "1e400", "nan", "inf", "-0", "0x10", "1.5", "", " ", "1mbit", "0bit", "1e400s", "0s", "10ms", "1e12s",
    "1:", "1:10", "ffff:ffff", ":", "root", "parent", "classid", "handle", "dev", "default", "via",
    "%s", "%n", "%*d", "*5", "%", "\\", "'", '"', "$", "$(", "`", "{", "}", "[", "]", "--", "-", "---",
    "ü", "\x00", "\t", "a b", "$HOME", "${x:-y}", "$((1/0))", "~", "*", "?", "/etc/hosts", "/proc/sys/net",
    "/dev/null", "/tmp/x", "../..", "on", "off", "up", "down", "add", "del", "show", "help", "all",
]

STARTS = [
    "ip link", "ip link add", "ip link set", "ip addr add", "ip route add", "ip route", "ip neigh add",
    "ip tunnel add", "ip tunnel change", "ip rule add", "ip netns add", "ip -s link", "ip -d link show",
    "ip maddress", "ip mroute", "bridge fdb add", "bridge vlan add", "bridge link set", "bridge mdb add",
    "brctl addbr", "brctl addif", "brctl stp", "brctl setageing", "tc qdisc add dev eth0 root",
    "tc class add dev eth0 parent 1: classid", "tc filter add dev eth0", "tc class show dev",
    "tc class change dev", "tc actions add action", "iptables -A INPUT", "iptables -t nat -A POSTROUTING",
    "iptables -I FORWARD 1", "iptables-save", "ipset create", "ipset add", "conntrack -L", "sysctl -w",
    "ping -c 1", "ping -c 1 -W 1", "printf", "echo", "seq", "head", "grep", "sed", "cut", "sort", "wc",
    "cat", "test", "[", "nsenter", "ip netns exec",
]

SYNTAX = [
    "{}", "{}", "{}", "{}; {}", "{} && {}", "{} || {}", "{} | head -3", "{} | wc -l", "{} | grep -c x",
    "{} 2>&1 | tail -1", "{} > /tmp/out", "{} >> /tmp/out 2>/dev/null", "{} < /etc/hosts",
    "if {}; then {}; else {}; fi", "for i in 1 2; do {}; done", "while false; do {}; done",
    "( {} )", "{{ {}; }}", "x=$({}); echo \"$x\"", "echo $({})", "! {}", "f() {{ {}; }}; f",
    "case x in x) {};; *) {};; esac", "{} &", "{}; echo $?", "echo $(( {} ))", "set -e; {}",
]

SOUP = " \t\n'\"$`\\|&;()<>{}[]*?!#~=%,.:/-_+^abcxyz019"


def _option_words(net: Network) -> dict[str, list[str]]:
    """Each command's option list: the words its help texts print (`-x`, `--long`, keywords)."""
    node = net.add_node("helpwords")
    words: dict[str, list[str]] = {}
    for name in sorted(COMMANDS):
        text = ""
        for asks in ("--help", "help", "-h"):
            r = node.run(f"{name} {asks}")
            text += r.output + r.error
        found = sorted(set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*|[a-z][a-z_]{1,14})(?![\w-])", text)))
        words[name] = found or [name]
    return words


def _setup_lines() -> list[str]:
    """Every setup line and `cmd` probe of the examples and the differential corpus."""
    lines: list[str] = []
    for d in SCENARIO_DIRS:
        for f in sorted(d.glob("*.yaml")):
            try:
                data = yaml.safe_load(f.read_text())
            except yaml.YAMLError:
                continue
            if not isinstance(data, dict):
                continue
            for node in (data.get("nodes") or {}).values():
                setup = (node or {}).get("setup") if isinstance(node, dict) else None
                if isinstance(setup, str):
                    lines.extend(x.strip() for x in setup.splitlines() if x.strip())
                elif isinstance(setup, list):
                    lines.extend(str(x) for x in setup)
            for probe in data.get("probes") or []:
                if isinstance(probe, dict) and isinstance(probe.get("cmd"), dict):
                    lines.append(str(probe["cmd"].get("run", "")))
    return [x for x in lines if x]


class ShellFuzzer:
    """Random shell lines from a seed: `lines(n)` yields n of them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.options = _option_words(Network(seed=seed))
        self.seeds = _setup_lines()
        self.commands = sorted(COMMANDS)

    def _quote(self, w: str) -> str:
        r = self.rng.random()
        if r < 0.6:
            return w
        if r < 0.75:
            return "'" + w.replace("'", "'\\''") + "'"
        if r < 0.9:
            return '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return w + self.rng.choice(["'", '"', "\\", "$(", "${", ")", "`"])  # unbalanced

    def _command(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35 and self.seeds:
            words = rng.choice(self.seeds).split()
        elif r < 0.7:
            words = rng.choice(STARTS).split()
        else:
            words = [rng.choice(self.commands)]
        if not words:
            words = ["true"]
        opts = self.options.get(words[0], [words[0]])
        for _ in range(rng.randrange(0, 5)):
            k = rng.random()
            if k < 0.4:
                words.append(rng.choice(opts))
            elif k < 0.8:
                words.append(rng.choice(VALUES))
            elif len(words) > 1:
                words[rng.randrange(1, len(words))] = rng.choice(VALUES + opts)
        if rng.random() < 0.3 and len(words) > 1:   # cut short: a missing last argument
            words = words[:rng.randrange(1, len(words))]
        return " ".join([words[0], *(self._quote(w) for w in words[1:])])

    def line(self) -> str:
        rng = self.rng
        if rng.random() < 0.05:
            return "".join(rng.choice(SOUP) for _ in range(rng.randrange(1, 60)))
        template = rng.choice(SYNTAX)
        return template.format(*(self._command() for _ in range(template.count("{}"))))

    def lines(self, n: int) -> Iterator[str]:
        for _ in range(n):
            yield self.line()


# -- scenario files -----------------------------------------------------------------------------

BAD_YAML = [
    "name: x\nnodes: &a {a: *a}\n",
    "name: x\nlinks:\n  - &x {ends: [a:eth0, b:eth0], extra: *x}\n",
    "name: x\na: &a [" + ",".join(["lol"] * 9) + "]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefghi", "bcdefghij")) + "nodes: {a: {}}\n",
    "name: x\nnodes: " + "[" * 3000 + "]" * 3000 + "\n",
    "name: x\nnodes: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "nodes:\n  a: {}\n  b: {}\nlinks:\n  - {ends: [a:eth0, b:eth0], delay: 1e400s}\n",
    "nodes:\n  a: {}\n  b: {}\nlinks:\n  - {ends: [a:eth0, b:eth0], delay: 1e400}\n",
    "nodes:\n  a: {}\n  b: {}\nlinks:\n  - {ends: [a:eth0, b:eth0], rate: .inf}\n",
    "nodes:\n  a: {}\n  b: {}\nlinks:\n  - {ends: [a:eth0, b:eth0], rate: 10mbit}\n"
    "probes: [{iperf: {duration: 0s, flows: [{from: a, to: 10.0.0.2, port: 5201}]}}]\n",
    "nodes:\n  a: {}\n  b: {}\nlinks:\n  - {ends: [a:eth0, b:eth0], rate: 10mbit}\n"
    "probes: [{iperf: {duration: 1e12s, flows: [{from: a, to: 10.0.0.2, port: 5201}]}}]\n",
    "nodes:\n  a: {}\nprobes: [{ping: {from: a, to: 10.0.0.2, count: 99999999999999999999}}]\n",
    "\x00\x01\x02", "\ufeffname: x\n", "name: [\n", "- a\n- b\n", "", "---\n---\n", "!!python/object:os.system x\n",
    "name: !!binary AAAA\n", "nodes: {a: {setup: 12}}\n", "nodes: {a: {files: {/etc/x: {mode: 99999}}}}\n",
    "nodes: {\"\": {}}\n", "nodes: {a: {kind: " + "x" * 10000 + "}}\n", "name: x\n\tnodes: {}\n",
]


def _mutate_yaml(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    if not lines:
        return text
    for _ in range(rng.randrange(1, 4)):
        if not lines:
            break
        k = rng.random()
        i = rng.randrange(len(lines))
        if k < 0.25:   # a value replaced by a hostile one
            m = re.match(r"(\s*-?\s*[\w.-]+:\s*)(\S.*)?$", lines[i])
            if m:
                v = rng.choice(VALUES + ["[]", "{}", "null", "~", "*nosuch", "&a 1", "!!str", "-1", "1e400"])
                lines[i] = m.group(1) + (yaml.safe_dump(v).strip() if rng.random() < 0.5 else v)
        elif k < 0.4:
            del lines[i]
        elif k < 0.55:
            lines.insert(i, lines[rng.randrange(len(lines))])   # a duplicated key or item
        elif k < 0.7:
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif k < 0.8:
            lines[i] = " " * rng.randrange(0, 6) + lines[i].lstrip()   # indentation broken
        elif k < 0.9:
            lines[i] = lines[i] + rng.choice([" &x", " *x", " #", ": :", " [", " {", " |", " >"])
        else:
            lines = lines[:i]
    return "\n".join(lines) + "\n"


def yaml_corpus(seed: int, n: int) -> Iterator[str]:
    """The known-bad inputs, then n mutations of the examples and corpus files."""
    yield from BAD_YAML
    rng = random.Random(seed)
    files = [f.read_text() for d in SCENARIO_DIRS for f in sorted(d.glob("*.yaml"))]
    for _ in range(n):
        yield _mutate_yaml(rng, rng.choice(files))
