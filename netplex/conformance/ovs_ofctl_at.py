"""Run Open vSwitch's own `ovs-ofctl parse-flow(s)` checks (tests/ovs-ofctl.at and
tests/ofp-actions.at, copied unchanged into tests/data/ovs/) against netplex's ovs-ofctl,
and count how many of the in-scope ones pass.

What is checked, read from the files as autotest would expand them:

- `ovs-ofctl parse-flows choice of protocol`: each `FIELD=VALUE  PROTOCOLS` case is
  `ovs-ofctl parse-flow "FIELD=VALUE,actions=drop" | sed 1q`, whose first line must be
  `usable protocols: PROTOCOLS` (`none`: status 1 and OVS's error).
- `ovs-ofctl parse-flows (OpenFlow 1.0)`, `(OpenFlow 1.1)`, `(OpenFlow 1.2)`, `(NXM)`,
  `-F nxm parse-flows`: each flow of the group's flows.txt is one check — its
  `OFPT_FLOW_MOD`/`NXT_FLOW_MOD` line, xid removed as the suite's sed removes it. The
  in-scope flows run as one parse-flows file with the group's options and `-F` naming
  the protocol the whole file chose (the `chosen protocol:` line), because the protocol
  — which decides the message's name, `table:255` and the actions' spelling — depends on
  every flow of the file, out-of-scope ones included; the two header lines are left out
  for the same reason.
- `ovs-ofctl parse-flow with invalid mask`: status 1 and `invalid mask for field`.
- ofp-actions.at `action parsing errors`: `ovs-ofctl parse-flow "actions=ACTION"`, status
  1 and the error text.

In scope is what issue 13 lists: the match fields in_port, dl_*/eth_*, vlan_tci, dl_vlan,
dl_vlan_pcp, the ip/arp/tcp/udp/icmp shorthands, nw_*/ip_* (IPv4), arp_*, tp_*/tcp_*/udp_*
(with masks), icmp_type/code, ct_state/ct_zone/ct_mark, reg0-15, metadata,
tun_id/tun_src/tun_dst, cookie, table, priority, timeouts, flags; the actions output,
normal, flood, all, in_port, local, controller, drop, mod_vlan_vid/pcp, strip_vlan,
push_vlan/pop_vlan, set_field, mod_dl_src/dst, mod_nw_src/dst/tos, mod_tp_src/dst,
dec_ttl, resubmit, goto_table, write_metadata, load, move, push, pop, ct (commit, zone, table,
nat(src|dst=IPv4 ...)), learn, group, meter, set_queue, enqueue, note. Out of scope: IPv6,
MPLS, sctp, pkt_mark, skb_priority, tcp_flags, ct_label, tunnel metadata/flags/tos/ttl,
xregs, subfield matches (`tp_src[5]`), and the actions sample, multipath, bundle,
bundle_load, fin_timeout, exit, output(port=,max_len=)/output:FIELD, controller(...)'s
keys, pop_queue, mod_nw_ecn, mod_nw_ttl, set_tunnel, set_tunnel64, mpls
actions, encap/decap, conjunction, unroll_xlate, ct's exec and alg.

    python -m netplex.conformance.ovs_ofctl_at   # the rate, then each failing check
"""
from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from netplex.conformance.ovs_vsctl_at import m4_expand, split_args
from netplex.network import Network

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "ovs"
PARSE_GROUPS = ("ovs-ofctl parse-flows (OpenFlow 1.0)", "ovs-ofctl parse-flows (OpenFlow 1.1)",
                "ovs-ofctl parse-flows (OpenFlow 1.2)", "ovs-ofctl parse-flows (NXM)", "ovs-ofctl -F nxm parse-flows")
FIELDS = {"in_port", "dl_src", "dl_dst", "eth_src", "eth_dst", "dl_type", "eth_type", "vlan_tci", "dl_vlan",
          "dl_vlan_pcp", "nw_src", "nw_dst", "ip_src", "ip_dst", "nw_proto", "ip_proto", "nw_tos", "ip_dscp",
          "nw_ecn", "ip_ecn", "nw_ttl", "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha", "tp_src", "tp_dst",
          "tcp_src", "tcp_dst", "udp_src", "udp_dst", "icmp_type", "icmp_code", "ct_state", "ct_zone", "ct_mark",
          "metadata", "tun_id", "tun_src", "tun_dst", "cookie", "table", "priority", "idle_timeout",
          "hard_timeout", "importance", "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
          "no_byte_counts", "out_port", "ip", "arp", "tcp", "udp", "icmp", *(f"reg{i}" for i in range(16))}
ACTIONS = {"output", "normal", "flood", "all", "in_port", "local", "controller", "drop", "mod_vlan_vid",
           "mod_vlan_pcp", "strip_vlan", "push_vlan", "pop_vlan", "set_field", "mod_dl_src", "mod_dl_dst",
           "mod_nw_src", "mod_nw_dst", "mod_nw_tos", "mod_tp_src", "mod_tp_dst", "dec_ttl", "resubmit",
           "goto_table", "write_metadata", "load", "move", "ct", "learn", "group", "meter", "set_queue", "enqueue",
           "note", "push", "pop"}
_IPV6 = re.compile(r"[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:]*[0-9a-fA-F]")
_MAC = re.compile(r"(?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}")


class Check(NamedTuple):
    """One check: its group, what it ran, whether it passed, what differed."""

    group: str
    what: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    out_of_scope: int = 0

    @property
    def passed(self) -> int:
        return sum(c.ok for c in self.checks)

    @property
    def tried(self) -> int:
        return len(self.checks)

    @property
    def rate(self) -> float:
        return self.passed / self.tried if self.tried else 0.0


def _split(text: str) -> list[str]:
    """Top-level comma/space separated items (parentheses nest)."""
    out, cur, depth = [], [], 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if depth == 0 and ch in ", \t":
            if cur:
                out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def in_scope(flow: str) -> bool:
    """Every match keyword and action of `flow` is one issue 13 lists (module docstring)."""
    if "exec(" in flow or "alg=" in flow or _IPV6.search(_MAC.sub("", flow)):
        return False
    m = re.search(r"(?:^|[\s,])actions[=:]", flow)
    head, acts = (flow[:m.start()], flow[m.end():]) if m else (flow, "")
    for item in _split(head):
        key = re.split(r"[=:]", item, maxsplit=1)[0]
        if key not in FIELDS:
            return False
    for item in _split(acts):
        name = re.match(r"[A-Za-z_0-9]*", item).group(0).lower()  # type: ignore[union-attr]
        if name.isdigit():
            continue            # a bare port number: output
        if name not in ACTIONS:
            return False
        if name == "controller" and "(" in item or name == "output" and ("=" in item or "[" in item or
                                                                           "NXM" in item or "reg" in item):
            return False
    return True


def _groups(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split("AT_SETUP(")[1:]:
        args, end = split_args("(" + part, 0)
        out[args[0]] = part[end - 1:].split("AT_CLEANUP")[0]
    return out


def _cases(body: str) -> list[str]:
    """The quoted words of a `for test_case in \\ 'a b' \\ ... do` loop."""
    loop = body.split("for test_case in", 1)[1].split("\ndo", 1)[0]
    return re.findall(r"'([^']*)'", loop)


def run(data: Path = DATA) -> Report:
    report = Report()
    node = Network().add_node("s1")
    ofctl = _groups((data / "ovs-ofctl.at").read_text())
    # choice of protocol
    group = "ovs-ofctl parse-flows choice of protocol"
    for case in _cases(ofctl[group]):
        flow, want = m4_expand(case).split()
        if not in_scope(flow):
            report.out_of_scope += 1
            continue
        r = node.run(f"ovs-ofctl parse-flow '{flow},actions=drop' | sed 1q")
        got = r.output.strip()
        report.checks.append(Check(group, flow, got == f"usable protocols: {want}", f"got {got!r} {r.error!r}"))
    # parse-flows groups
    for group in PARSE_GROUPS:
        body = ofctl[group]
        data_args, _ = split_args(body, body.index("AT_DATA(") + len("AT_DATA"))
        flows = [ln.strip() for ln in m4_expand(data_args[1]).splitlines()
                 if ln.strip() and not ln.strip().startswith("#")]
        i = body.index("parse-flows flows.txt")
        opts = body[body.rindex("ovs-ofctl", 0, i) + len("ovs-ofctl"):i].strip()
        expected = [ln for ln in m4_expand(body[body.index("usable protocols:"):]).splitlines()]
        chosen = expected[1].split(": ", 1)[1]
        lines = [ln.replace("[]", "[]") for ln in expected[2:2 + len(flows)]]
        keep = [(f, want) for f, want in zip(flows, lines) if in_scope(f)]
        report.out_of_scope += len(flows) - len(keep)
        node.machine.fs.write("/flows.txt", ("\n".join(f for f, _ in keep) + "\n").encode())
        r = node.run(f"ovs-ofctl {opts} -F {chosen} parse-flows /flows.txt")
        got = [re.sub(r" \(xid=0x[0-9a-fA-F]*\)", "", ln) for ln in r.output.splitlines()[2:]]
        for n, (f, want) in enumerate(keep):
            have = got[n] if n < len(got) else f"(status {r.status}: {r.error.strip()})"
            report.checks.append(Check(group, f, have == want, f"want {want!r}, got {have!r}"))
    # invalid masks
    group = "ovs-ofctl parse-flow with invalid mask"
    for case in _cases(ofctl[group]):
        words = case.split()
        prereq, fld, value = (words[0] + ",", words[1], words[2]) if len(words) == 3 else ("", words[0], words[1])
        flow = f"{prereq}{fld}={value},actions=drop"
        if not in_scope(flow):
            report.out_of_scope += 1
            continue
        r = node.run(f"ovs-ofctl parse-flow '{flow}'")
        want = f"ovs-ofctl: {value}: invalid mask for field {fld}\n"
        report.checks.append(Check(group, flow, (r.status, r.output, r.error) == (1, "", want),
                                   f"got {r.status} {r.error!r}, want {want!r}"))
    # action parsing errors (ofp-actions.at)
    acts = _groups((data / "ofp-actions.at").read_text())["action parsing errors"]
    group = "action parsing errors"
    word = r"((?:'[^']*'|\\'|\"(?:[^\"\\]|\\.)*\")+)"
    for m in re.finditer(rf"^bad_action {word}\s*(?:\\\n)?\s*{word}", acts, re.M):
        action, want = (_shell_word(m.group(1)), _shell_word(m.group(2)))
        if not in_scope(f"actions={action}"):
            report.out_of_scope += 1
            continue
        r = node.run(f"ovs-ofctl parse-flow 'actions={action}'")
        report.checks.append(Check(group, action, (r.status, r.error) == (1, f"ovs-ofctl: {want}\n"),
                                   f"got {r.status} {r.error!r}, want {want!r}"))
    return report


def _shell_word(w: str) -> str:
    """A shell word as the suite writes it ('...', \\', "..." with \\` inside), m4 quotes gone."""
    return m4_expand(shlex.split(w)[0].replace("\\`", "`"))


def main(argv: list[str]) -> int:
    report = run(Path(argv[0]) if argv else DATA)
    print(f"ovs-ofctl.at + ofp-actions.at parse-flow checks: {report.passed}/{report.tried} pass "
          f"({report.rate:.0%}); {report.out_of_scope} out of scope")
    for c in report.checks:
        if not c.ok:
            print(f"FAIL [{c.group}] {c.what}: {c.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
