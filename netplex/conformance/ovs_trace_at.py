"""Run the `ofproto/trace` checks of Open vSwitch's tests/ofproto-dpif.at (copied unchanged
into tests/data/ovs/) against netplex's Open vSwitch, and count how many in-scope ones pass.

A group is run when it is made only of what this runner models: `OVS_VSWITCHD_START`
without arguments (add_of_br: bridge br0, fail-mode secure, hwaddr aa:55:aa:55:00:00),
`add_of_ports br0 N...` (ports pN with ofport N; netplex's are veth ends, OVS's the
dummy datapath's), `AT_DATA([flows.txt], ...)`, `ovs-ofctl [-O V] add-flow(s) br0 ...`,
`ovs-appctl ofproto/trace br0 FLOW` checked whole or by `tail -1 stdout`, and the
suite's STOP/KEYWORDS/comments; and its flows are in scope as for the parse-flow checks
(netplex.conformance.ovs_ofctl_at.in_scope: what issue 13 lists). Anything else (bonds,
mirrors, groups' OF1.5 syntax, packets as datapath flows, learn, shell loops...) leaves the
group out, named in the report.

The dummy datapath numbers a port as its OpenFlow number and br0 as 100; netplex's
(the kernel's) numbers them in the order they were added. The runner maps netplex's
datapath port numbers to the dummy's in the `Datapath actions:` line before comparing;
nothing else is changed.

    python -m netplex.conformance.ovs_trace_at   # the rate, then each failing check
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from netplex.conformance.ovs_ofctl_at import Check, in_scope
from netplex.conformance.ovs_ofctl_at import Report as OfctlReport
from netplex.conformance.ovs_vsctl_at import m4_expand, split_args
from netplex.network import Network
from netplex.ovs.vswitchd import ovs_daemons

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "tests" / "data" / "ovs" / "ofproto-dpif.at"
_MACRO = re.compile(r"[A-Z_][A-Z0-9_]*(?=\()")
DUMMY_LOCAL = 100


@dataclass
class Report(OfctlReport):
    left_out: dict[str, str] = field(default_factory=dict)     # group → why it is not run


def _statements(body: str) -> list[tuple[str, list[str]]]:
    """The group's top-level statements: (macro name, its arguments) or ("sh", [line])."""
    out: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(body):
        while i < len(body) and body[i] in " \t\n":
            i += 1
        if i >= len(body):
            break
        bare = re.match(r"(OVS_VSWITCHD_START|OVS_VSWITCHD_STOP)[ \t]*(?:\n|$)", body[i:])
        if bare:
            out.append((bare.group(1), []))
            i += bare.end()
            continue
        m = _MACRO.match(body, i)
        if m:
            args, end = split_args(body, m.end())
            out.append((m.group(0), args))
            i = end
            continue
        j = body.find("\n", i)
        j = len(body) if j < 0 else j
        line = body[i:j].strip()
        if line and not line.startswith(("dnl", "#")):
            out.append(("sh", [line]))
        i = j
    return out


def setup_statement(kind: str, args: list[str], flows: list[str], shell: str) -> str | None:
    """A group's set-up statement (the switch's start and stop, flows.txt, the shell lines
    `shell` matches): "" when it is handled (flows.txt's lines added to `flows`), why the group
    is left out when it cannot be, None when it is no set-up statement."""
    if kind == "OVS_VSWITCHD_START":
        return "OVS_VSWITCHD_START with arguments" if any(a.strip() for a in args) else ""
    if kind in ("OVS_VSWITCHD_STOP", "AT_KEYWORDS", "AT_SETUP", "AT_CAPTURE_FILE"):
        return ""
    if kind == "AT_DATA":
        if args[0] != "flows.txt":
            return f"AT_DATA {args[0]}"
        flows += [ln for ln in m4_expand(args[1]).splitlines() if ln.strip() and not ln.startswith("#")]
        return ""
    if kind == "sh":
        return "" if re.fullmatch(shell, args[0]) else f"shell: {args[0][:40]}"
    return None


def _plan(body: str) -> tuple[list[tuple[str, list[str]]], str]:
    """The statements, or why the group is left out."""
    stmts = _statements(body)
    flows: list[str] = []
    for kind, args in stmts:
        why = setup_statement(kind, args, flows, r"add_of_ports br0( \d+)+")
        if why:
            return [], why
        if why is None and kind == "AT_CHECK":
            cmd = _cmd(args[0])
            grp = re.fullmatch(r"ovs-ofctl -O OpenFlow1[1-5] add-group br0 '?([^']+)'?", cmd)
            fl = re.fullmatch(r"ovs-ofctl( -O OpenFlow1[0-5])? add-flow br0 (.+)", cmd)
            if fl:
                flows.append(fl.group(2).strip("'\""))
            elif re.fullmatch(r"ovs-ofctl( -O OpenFlow1[0-5])? add-flows br0 flows.txt", cmd):
                pass
            elif grp:
                flows += [f"actions={a}" for a in re.findall(r"actions=((?:[^,(]|\([^)]*\))+(?:,(?!bucket=)"
                                                              r"(?:[^,(]|\([^)]*\))+)*)", grp.group(1))]
            elif re.fullmatch(r"ovs-appctl ofproto/trace br0 '?[^'\"$ ]+'?", cmd):
                traced = re.sub(r"^ovs-appctl ofproto/trace br0 '?|'$", "", cmd).replace(",nw_frag=no", "")
                if not in_scope(traced + ",actions=drop"):
                    return [], "a traced flow out of scope"
            elif not re.fullmatch(r"tail -\d+ stdout", cmd):
                return [], f"check: {cmd[:40]}"
        elif why is None:
            return [], kind
    if not any(k == "AT_CHECK" and "ofproto/trace" in a[0] for k, a in stmts):
        return [], "no ofproto/trace of br0"
    bad = [f for f in flows if not in_scope(f)]
    if bad:
        return [], f"flow out of scope: {bad[0][:50]}"
    return stmts, ""


def _cmd(arg: str) -> str:
    """An AT_CHECK's command: m4 quotes gone, backslash-newlines joined."""
    return re.sub(r"\\\n\s*", "", m4_expand(arg)).strip()


def _dummy_numbers(node: object, text: str) -> str:
    """`Datapath actions:` with netplex's datapath port numbers as the dummy datapath's."""
    _server, vsd = ovs_daemons(node.machine)  # type: ignore[attr-defined]
    xb = vsd.bridges["br0"] if vsd is not None and "br0" in vsd.bridges else None
    if xb is None:
        return text
    to_dummy = {p.dp_port: p.ofport for p in xb.ports.values() if p.dp_port is not None}
    local = xb.dp.port_of.get(xb.local.ifindex)
    if local is not None:
        to_dummy[local] = DUMMY_LOCAL

    def fix(m: re.Match[str]) -> str:
        parts = m.group(2).split(",")
        return m.group(1) + ",".join(str(to_dummy.get(int(x), x)) if x.isdigit() else x for x in parts)

    return re.sub(r"^(Datapath actions: )(.*)$", fix, text, flags=re.M)


def run(path: Path = DEFAULT_FILE) -> Report:
    report = Report()
    for part in path.read_text().split("AT_SETUP(")[1:]:
        title = split_args("(" + part, 0)[0][0]
        body = part[split_args("(" + part, 0)[1] - 1:].split("AT_CLEANUP")[0]
        if "ofproto/trace br0" not in body:
            continue
        stmts, why = _plan(body)
        if why:
            report.left_out[title] = why
            continue
        node = Network().add_node("s1")
        last = prev = ""
        for kind, args in stmts:
            if kind == "OVS_VSWITCHD_START":
                node.run("ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure "
                         "other-config:hwaddr=aa:55:aa:55:00:00")
            elif kind == "sh":
                for n in args[0].split()[2:]:
                    node.run(f"ip link add p{n} type veth peer name q{n} && ip link set p{n} up && "
                             f"ovs-vsctl add-port br0 p{n} -- set interface p{n} ofport_request={n}")
            elif kind == "AT_DATA":
                node.machine.fs.write("/flows.txt", m4_expand(args[1]).encode())
            elif kind == "AT_CHECK":
                cmd = _cmd(args[0])
                want = m4_expand(args[2]) if len(args) > 2 else ""
                tail = re.fullmatch(r"tail -(\d+) stdout", cmd)
                if tail:
                    got = "".join(ln + "\n" for ln in last.splitlines()[-int(tail.group(1)):])
                    report.checks.append(Check(title, f"{cmd} of {prev}", got == want,
                                               f"want {want!r}, got {got!r}"))
                    continue
                r = node.run(cmd.replace("flows.txt", "/flows.txt"))
                if "ofproto/trace" in cmd:
                    last = _dummy_numbers(node, r.output)
                    prev = cmd
                    if want.strip() not in ("stdout", "ignore", ""):
                        report.checks.append(Check(title, cmd, last == want, f"want {want!r}\ngot  {last!r}"))
    return report


def main(argv: list[str]) -> int:
    report = run(Path(argv[0]) if argv else DEFAULT_FILE)
    lines = [f"ofproto-dpif.at ofproto/trace checks: {report.passed}/{report.tried} pass; "
             f"{len(report.left_out)} groups left out"]
    lines += [f"FAIL [{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    lines += [f"left out [{g}]: {why}" for g, why in report.left_out.items()]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
