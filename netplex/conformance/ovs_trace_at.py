"""Run the `ofproto/trace` checks of Open vSwitch's tests/ofproto-dpif.at (copied unchanged
into tests/data/ovs/) against netplex's Open vSwitch, and count how many in-scope ones pass.

A group (AT_SETUP ... AT_CLEANUP that traces a flow on a bridge in OpenFlow syntax) runs as
autotest runs it, in one netplex shell, in a directory of its own:

- `OVS_VSWITCHD_START([ARGS])`: add_of_br's bridge br0 (fail-mode secure, hwaddr
  aa:55:aa:55:00:00), then `ovs-vsctl ARGS` when given (patch ports, a second bridge, other
  settings), with `datapath-type=dummy` dropped: every bridge is on netplex's datapath;
- `add_of_ports BR N...`: ports pN with ofport N (netplex's are veth ends, OVS's dummies);
- `AT_DATA([FILE], ...)`: the file;
- shell lines as they are (variables, `for` loops, `( ... ) > flows`); the one rewrite is
  backquotes to `$(...)` (POSIX's two spellings of a command substitution; netplex's shell
  takes the second);
- `AT_CHECK([CMD], [STATUS], [STDOUT], [STDERR])` and `AT_CHECK_UNQUOTED`: CMD in a subshell
  with its output in the files `stdout` and `stderr`, its status and outputs compared where
  the check gives them (`ignore`, `stdout`, `stderr` compare nothing).

A check is an AT_CHECK with expected output text; a command whose status or output differs
otherwise counts as a failed check too. What a group needs that this runner does not model
leaves it out, with the reason in the report (`LEFT_OUT`: bonds, mirrors, STP, datapath
flows, ...), and so does a flow out of scope: the flows added and traced must be in the
parse-flow scope (netplex.conformance.ovs_ofctl_at.in_scope: what issue 13 lists) once
`write_actions(...)`'s actions are taken as its own and `clear_actions` dropped.

The dummy datapath numbers a port by the number in its name (`p10` is 10, a bridge brN's
own port 100+N); netplex's (the kernel's) in the order ports were added. The runner maps
netplex's datapath port numbers to the dummy's on the `Datapath actions:` lines of a trace;
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
from netplex.ovs.actions import split_top
from netplex.ovs.vswitchd import ovs_daemons

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "tests" / "data" / "ovs" / "ofproto-dpif.at"
_MACRO = re.compile(r"[A-Z_][A-Z0-9_]*(?=\()|m4_foreach(?=\()")
DUMMY_LOCAL = 100
WORKDIR = "/at"
_BR0 = "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure other-config:hwaddr=aa:55:aa:55:00:00"

# what leaves a group out: a pattern in one of its statements → why (what netplex does not model)
LEFT_OUT: list[tuple[str, str]] = [
    (r"add-bond|bond/", "bonds (bond/set-active-member, bond/show)"),
    (r"[Mm]irror", "mirrors (the Mirror table)"),
    (r"stp_enable|stp/show", "STP/RSTP"),
    (r"netdev-dummy/", "packets given as datapath flows (netdev-dummy/receive)"),
    (r"dpif-dummy/", "dpif-dummy/change-port-number (the dummy datapath's own command)"),
    (r"ovs-ofctl monitor", "ovs-ofctl monitor (packet-ins)"),
    (r"-generate", "ofproto/trace -generate"),
    (r"ofproto/trace (?!br\d)", "ofproto/trace of a datapath flow or without a bridge"),
    (r"OVS_WAIT_UNTIL|m4_foreach", "autotest waits and loops (OVS_WAIT_UNTIL, m4_foreach)"),
]
_IGNORED = ("OVS_VSWITCHD_STOP", "AT_KEYWORDS", "AT_SETUP", "AT_CAPTURE_FILE")
_SKIP_OUTPUT = ("ignore", "ignore-no-log", "stdout", "stderr")


@dataclass
class Report(OfctlReport):
    left_out: dict[str, str] = field(default_factory=dict)     # group → why it is not run


class _LeftOut(Exception):
    """A group needs what the runner does not model: why."""


def _statements(body: str) -> list[tuple[str, list[str]]]:
    """The group's top-level statements: (macro name, its arguments) or ("sh", [line]); a
    shell line continues while its parentheses are open or it ends in a backslash."""
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
        j = i
        while True:
            k = body.find("\n", j)
            k = len(body) if k < 0 else k
            text = body[i:k]
            if k >= len(body) or (text.count("(") <= text.count(")") and not text.endswith("\\")):
                break
            j = k + 1
        line = body[i:k].strip()
        if line and not line.startswith(("dnl", "#")):
            out.append(("sh", [line]))
        i = k
    return out


def setup_statement(kind: str, args: list[str], flows: list[str], shell: str) -> str | None:
    """A group's set-up statement for the megaflow runner (the switch's start and stop,
    flows.txt, the shell lines `shell` matches): "" when it is handled (flows.txt's lines
    added to `flows`), why the group is left out when it cannot be, None when it is no
    set-up statement."""
    if kind == "OVS_VSWITCHD_START":
        return "OVS_VSWITCHD_START with arguments" if any(a.strip() for a in args) else ""
    if kind in _IGNORED:
        return ""
    if kind == "AT_DATA":
        if args[0] != "flows.txt":
            return f"AT_DATA {args[0]}"
        flows += [ln for ln in m4_expand(args[1]).splitlines() if ln.strip() and not ln.startswith("#")]
        return ""
    if kind == "sh":
        return "" if re.fullmatch(shell, args[0]) else f"shell: {args[0][:40]}"
    return None


def _cmd(arg: str) -> str:
    """An AT_CHECK's command: m4 quotes gone, backslash-newlines joined."""
    return re.sub(r"\\\n\s*", "", m4_expand(arg)).strip()


def _backquotes(line: str) -> str:
    """`cmd` as $(cmd), where cmd has no backslash or quote of its own."""
    return re.sub(r"`([^`\\]*)`", r"$(\1)", line)


def _plan(body: str) -> tuple[list[tuple[str, list[str]]], str]:
    """The statements, or why the group is left out."""
    stmts = _statements(body)
    for kind, args in stmts:
        if kind in _IGNORED or kind == "AT_DATA":
            continue
        if kind not in ("OVS_VSWITCHD_START", "AT_CHECK", "AT_CHECK_UNQUOTED", "sh"):
            return [], kind
        text = _cmd(args[0]) if args else ""
        for pattern, why in LEFT_OUT:
            if re.search(pattern, text):
                return [], why
    return stmts, ""


def _flatten_action_set(flow: str) -> str:
    """The flow with write_actions(A) as A and clear_actions gone, for the scope check."""
    out = []
    for item in split_top(flow):
        m = re.fullmatch(r"\s*(actions=)?write_actions\((.*)\)\s*", item, re.S)
        if m:
            out.append((m.group(1) or "") + _flatten_action_set(m.group(2)))
        elif re.fullmatch(r"\s*(actions=)?clear_actions\s*", item):
            if item.strip().startswith("actions="):
                out.append("actions=note:00")
        else:
            out.append(item)
    return ",".join(out)


def trace_in_scope(flow: str) -> bool:
    """in_scope, with the action set's instructions taken apart (and `action=`, which
    ovs-ofctl takes for `actions=`)."""
    return in_scope(_flatten_action_set(re.sub(r"(^|[\s,])action=", r"\1actions=", flow)))


def _words(node: object, text: str) -> list[str]:
    """The words the shell makes of `text` (quotes, variables)."""
    sep = "\x1e"
    r = node.run(f"cd {WORKDIR} && printf '%s{sep}' {text}")  # type: ignore[attr-defined]
    return r.output.split(sep)[:-1]


def _scope_check(node: object, cmd: str) -> None:
    """Raise _LeftOut for a command that adds or traces a flow out of scope."""
    m = re.match(r"ovs-(ofctl|appctl)((?:\s+-\S+)*)\s+(\S+)\s+(.*)$", cmd, re.S)
    if not m:
        return
    tool, sub, rest = m.group(1), m.group(3), m.group(4)
    rest = rest.split("|")[0]
    words = _words(node, rest)
    if tool == "appctl" and sub == "ofproto/trace":
        flow = re.sub(r"\s+", "", words[1] if len(words) > 1 else "").replace(",nw_frag=no", "")
        if not trace_in_scope(flow + ",actions=drop"):
            raise _LeftOut(f"a traced flow out of scope: {flow[:50]}")
    elif tool == "ofctl" and sub in ("add-flow", "add-flows"):
        if sub == "add-flow":
            flows = words[1:2]
        else:
            got = node.machine.fs.read(f"{WORKDIR}/{words[1]}").decode()  # type: ignore[attr-defined]
            flows = [ln for ln in got.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        for f in flows:
            if not trace_in_scope(f):
                raise _LeftOut(f"flow out of scope: {f[:50]}")
    elif tool == "ofctl" and sub == "add-group":
        for b in re.split(r",bucket=", words[1])[1:]:
            acts = re.sub(r"^(?:(?:bucket_id|weight|watch_port|watch_group)[:=][^,]*,)*(?:actions=)?", "", b)
            if not trace_in_scope("actions=" + acts):
                raise _LeftOut(f"group bucket out of scope: {acts[:50]}")


def _dummy_numbers(node: object, text: str) -> str:
    """`Datapath actions:` with netplex's datapath port numbers as the dummy datapath's."""
    _server, vsd = ovs_daemons(node.machine)  # type: ignore[attr-defined]
    if vsd is None:
        return text
    to_dummy: dict[int, int] = {}
    for xb in vsd.bridges.values():
        named = [(p.dp_port, p.name) for p in xb.ports.values() if p.dp_port is not None]
        named.append((xb.dp.port_of.get(xb.local.ifindex), xb.name))
        for dp_port, name in named:
            digits = re.search(r"\d+", name)
            if dp_port is not None and digits:
                to_dummy[dp_port] = int(digits.group(0)) + (DUMMY_LOCAL if name.startswith("br") else 0)

    def fix(m: re.Match[str]) -> str:
        parts = m.group(2).split(",")
        return m.group(1) + ",".join(str(to_dummy.get(int(x), x)) if x.isdigit() else x for x in parts)

    return re.sub(r"^(Datapath actions: )(.*)$", fix, text, flags=re.M)


def _run_group(title: str, stmts: list[tuple[str, list[str]]]) -> list[Check]:
    """Run one group's statements; its checks, or _LeftOut."""
    node = Network().add_node("s1")
    fs = node.machine.fs
    node.run(f"mkdir -p {WORKDIR}")
    checks: list[Check] = []
    for kind, args in stmts:
        if kind == "OVS_VSWITCHD_START":
            extra = re.sub(r"\s*datapath-type=dummy", "", re.sub(r"\\\n", " ", m4_expand(args[0]))).strip() \
                if args else ""
            r = node.run(_BR0 + (f" -- {extra}" if extra else ""))
            if r.status:
                checks.append(Check(title, "OVS_VSWITCHD_START", False, r.error))
        elif kind == "sh" and args[0].startswith("add_of_ports"):
            words = args[0].split()
            br = words[1]
            for n in words[2:]:
                # (both ends up: a dummy port has carrier, which a fast failover group watches)
                node.run(f"ip link add p{n} type veth peer name q{n} && ip link set p{n} up && "
                         f"ip link set q{n} up && "
                         f"ovs-vsctl add-port {br} p{n} -- set interface p{n} ofport_request={n}")
        elif kind == "sh":
            r = node.run(f"cd {WORKDIR} && {_backquotes(m4_expand(args[0]))}")
            if r.status:
                checks.append(Check(title, args[0], False, f"status {r.status}: {r.error}"))
        elif kind == "AT_DATA":
            fs.write(f"{WORKDIR}/{args[0]}", m4_expand(args[1]).encode())
        elif kind in ("AT_CHECK", "AT_CHECK_UNQUOTED"):
            cmd = _backquotes(_cmd(args[0]))
            _scope_check(node, cmd)
            r = node.run(f"cd {WORKDIR} && ( {cmd}\n) > at-stdout 2> at-stderr")
            out = fs.read(f"{WORKDIR}/at-stdout").decode()
            err = fs.read(f"{WORKDIR}/at-stderr").decode()
            if "ofproto/trace" in cmd:
                out = _dummy_numbers(node, out)
            want_status = m4_expand(args[1]).strip() if len(args) > 1 and args[1].strip() else "0"
            want_out = m4_expand(args[2]) if len(args) > 2 else ""
            want_err = m4_expand(args[3]) if len(args) > 3 else ""
            for name, text, want in (("stdout", out, want_out), ("stderr", err, want_err)):
                if want.strip() == name:       # autotest keeps the output as the file `stdout`
                    fs.write(f"{WORKDIR}/{name}", text.encode())
            diffs = []
            if want_status != "ignore" and str(r.status) != want_status:
                diffs.append(f"status {r.status}, want {want_status}")
            if want_out.strip() not in _SKIP_OUTPUT and out != want_out:
                diffs.append(f"stdout want {want_out!r}\n     got  {out!r}")
            if want_err.strip() not in _SKIP_OUTPUT and err != want_err:
                diffs.append(f"stderr want {want_err!r}\n     got  {err!r}")
            counted = want_out.strip() not in _SKIP_OUTPUT and want_out != ""
            if counted or diffs:
                checks.append(Check(title, cmd, not diffs, "; ".join(diffs)))
    return checks


def run(path: Path = DEFAULT_FILE) -> Report:
    report = Report()
    for part in path.read_text().split("AT_SETUP(")[1:]:
        title = split_args("(" + part, 0)[0][0]
        body = part[split_args("(" + part, 0)[1] - 1:].split("AT_CLEANUP")[0]
        if not re.search(r"ofproto/trace br\d", body):
            continue
        stmts, why = _plan(body)
        if why:
            report.left_out[title] = why
            continue
        try:
            report.checks += _run_group(title, stmts)
        except _LeftOut as e:
            report.left_out[title] = str(e)
    return report


def main(argv: list[str]) -> int:
    report = run(Path(argv[0]) if argv else DEFAULT_FILE)
    groups = len({c.group for c in report.checks})
    lines = [f"ofproto-dpif.at ofproto/trace checks: {report.passed}/{report.tried} pass in {groups} groups; "
             f"{len(report.left_out)} groups left out"]
    lines += [f"FAIL [{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    lines += [f"left out [{g}]: {why}" for g, why in report.left_out.items()]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
