"""Run Open vSwitch's own ovs-vsctl unit tests (tests/ovs-vsctl.at, autotest + m4) against
netplex's ovs-vsctl, and count how many of their checks pass.

The file is read as autotest would run it, for the part of m4 it uses: each
`AT_SETUP` group starts a fresh machine (a new database, as OVS_VSCTL_SETUP
makes), each `AT_CHECK([COMMANDS], [STATUS], [STDOUT], [STDERR])` runs its
commands in the machine's shell and compares the exit status and both outputs
(`ignore` skips one); the suite's macros RUN_OVS_VSCTL, RUN_OVS_VSCTL_TOGETHER,
RUN_OVS_VSCTL_ONELINE, CHECK_BRIDGES, CHECK_PORTS, CHECK_IFACES and
VSCTL_CHECK_FIND expand to the checks they stand for, and `uuidfilt` (the
suite's filter numbering UUIDs in order of appearance) is applied to the
output. Groups about what netplex refuses (fake bridges, managers,
SSL, wait-until, emer-reset, connection retries) are out of scope and named.

    python -m netplex.conformance.ovs_vsctl_at [FILE]   # the rate, then each failing check
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from netplex.network import Network

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "tests" / "data" / "ovs" / "ovs-vsctl.at"

# words in a group's title or body that put it out of scope (what netplex refuses)
OUT_OF_SCOPE = ("fake", "managers", "ca cert", "SNI", "wait-until", "emer-reset", "connection retry",
                "OVS_VSWITCHD_START", "reload issues", "filter option", "kpkts", "unreferenced record")
_PREFIX = "ovs-vsctl --no-wait -vreconnect:emer"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(slots=True)
class Check:
    group: str
    commands: str
    status: str
    stdout: str
    stderr: str


@dataclass
class Report:
    passed: int = 0
    tried: int = 0
    skipped_groups: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.tried if self.tried else 0.0


def split_args(text: str, start: int) -> tuple[list[str], int]:
    """The arguments of a macro call whose `(` is at `start`: split at top-level commas,
    one level of [ ] quoting removed; returns them and the index after `)`."""
    args: list[str] = []
    cur: list[str] = []
    depth = 0      # quote depth
    parens = 0
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "[":
            if depth:
                cur.append(ch)
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth:
                cur.append(ch)
        elif depth == 0 and ch in " \t\n" and not cur:
            pass            # m4 drops unquoted whitespace before an argument
        elif depth == 0 and ch == "(":
            parens += 1
            cur.append(ch)
        elif depth == 0 and ch == ")":
            if parens == 0:
                args.append("".join(cur).strip() if not args and not cur else "".join(cur))
                return args, i + 1
            parens -= 1
            cur.append(ch)
        elif depth == 0 and ch == ",":
            args.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    raise ValueError("unterminated macro call")


def m4_expand(s: str) -> str:
    """What m4 does to an argument's text when it is used: one level of [ ] quotes goes,
    `dnl` deletes the rest of its line with the newline."""
    out: list[str] = []
    depth = 0
    for ch in s:
        if ch == "[":
            if depth:
                out.append(ch)
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth:
                out.append(ch)
        else:
            out.append(ch)
    return re.sub(r"dnl[^\n]*\n?", "", "".join(out))


def _unquad(s: str) -> str:
    """autotest's quadrigraphs."""
    s = m4_expand(s)
    return s.replace("@<:@", "[").replace("@:>@", "]").replace("@S|@", "$").replace("@%:@", "#").replace("@&t@", "")


def _expand_run(cmd: str) -> str:
    """RUN_OVS_VSCTL([c1], [c2]) and friends inside an AT_CHECK's commands."""
    while True:
        new = _expand_once(cmd)
        if new == cmd:
            return new
        cmd = new


def _expand_once(cmd: str) -> str:
    out = []
    i = 0
    pat = re.compile(r"RUN_OVS_VSCTL(_TOGETHER|_ONELINE)?\(")
    while True:
        m = pat.search(cmd, i)
        if m is None:
            out.append(cmd[i:])
            break
        out.append(cmd[i:m.start()])
        args, end = split_args(cmd, m.end() - 1)
        kind = m.group(1) or ""
        if kind == "_TOGETHER":
            out.append(f"{_PREFIX} --oneline" + "".join(f" -- {a}" for a in args))
        elif kind == "_ONELINE":
            out.append("\n".join(f"{_PREFIX} --oneline -- {a}" for a in args))
        else:
            out.append("\n".join(f"{_PREFIX} {a}" for a in args))
        i = end
    return "".join(out)


def _checks_for_macro(name: str, args: list[str], group: str) -> list[Check]:
    """The checks CHECK_BRIDGES, CHECK_PORTS, CHECK_IFACES and VSCTL_CHECK_FIND stand for."""
    out: list[Check] = []

    def add(cmd: str, status: str = "0", stdout: str = "", stderr: str = "") -> None:
        out.append(Check(group, cmd, status, stdout, stderr))

    args = [m4_expand(a) for a in args]
    if name == "CHECK_BRIDGES":
        infos = [[x.strip() for x in a.split(",")] for a in args if a.strip()]
        add(f"{_PREFIX} list-br", "0", "".join(f"{b[0]}\n" for b in infos))
        add(f"{_PREFIX} --oneline -- list-br", "0", "\\n".join(b[0] for b in infos) + "\n")
        for b in infos:
            add(f"{_PREFIX} br-exists {b[0]}")
        add(f"{_PREFIX} br-exists nonexistent", "2")
        for b in infos:
            add(f"{_PREFIX} br-to-parent {b[0]}", "0", f"{b[1]}\n")
            add(f"{_PREFIX} br-to-vlan {b[0]}", "0", f"{b[2]}\n")
            add(f"{_PREFIX} --oneline -- br-to-vlan {b[0]}", "0", f"{b[2]}\n")
            add(f"{_PREFIX} --oneline -- br-to-parent {b[0]} -- br-to-vlan {b[0]}", "0", f"{b[1]}\n{b[2]}\n")
    elif name in ("CHECK_PORTS", "CHECK_IFACES"):
        br, items = args[0], [a.strip() for a in args[1:] if a.strip()]
        verb, to_br, what = (("list-ports", "port-to-br", "port") if name == "CHECK_PORTS"
                             else ("list-ifaces", "iface-to-br", "interface"))
        add(f"{_PREFIX} {verb} {br}", "0", "".join(f"{p}\n" for p in items))
        if name == "CHECK_PORTS":
            add(f"{_PREFIX} --oneline -- {verb} {br}", "0", "\\n".join(items) + "\n")
        add(f"{_PREFIX} {to_br} {br}", "1", "", f"ovs-vsctl: no {what} named {br}\n")
        for p in items:
            add(f"{_PREFIX} {to_br} {p}", "0", f"{br}\n")
    elif name == "VSCTL_CHECK_FIND":
        cond, want = args[0], args[1] if len(args) > 1 else ""
        add(f"echo `ovs-vsctl --bare --no-wait -vreconnect:emer -- --columns=name find bridge '{cond}' | sort`",
            "0", f"{want}\n")
    return out


def parse_at(text: str) -> tuple[list[Check], list[str]]:
    """The in-scope checks of an .at file, and the titles of the groups left out."""
    checks: list[Check] = []
    skipped: list[str] = []
    for part in text.split("AT_SETUP(")[1:]:
        title_args, end = split_args("(" + part, 0)
        title = title_args[0]
        body = part[end - 1:].split("AT_CLEANUP")[0]
        if any(w in title or w in body for w in OUT_OF_SCOPE) or "$1" in title:
            skipped.append(title)
            continue
        i = 0
        pat = re.compile(r"^(AT_CHECK|CHECK_BRIDGES|CHECK_PORTS|CHECK_IFACES|VSCTL_CHECK_FIND)\(", re.M)
        while True:
            m = pat.search(body, i)
            if m is None:
                break
            args, i = split_args(body, m.end() - 1)
            if m.group(1) != "AT_CHECK":
                checks += _checks_for_macro(m.group(1), args, title)
                continue
            args += [""] * (4 - len(args))
            check = Check(title, _unquad(_expand_run(args[0])), args[1].strip() or "0", _unquad(args[2]),
                          _unquad(args[3]))
            if any(w in check.commands for w in ("zone-tp", "zone-limit")):
                continue   # conntrack zone policies: not modelled (counted with the groups left out)
            checks.append(check)
    return checks, skipped


def uuidfilt(text: str) -> str:
    """tests/uuidfilt.py: each UUID becomes <N>, numbered in order of first appearance."""
    seen: dict[str, int] = {}

    def num(m: re.Match[str]) -> str:
        return f"<{seen.setdefault(m.group(0), len(seen))}>"

    return _UUID.sub(num, text)


def run(path: Path = DEFAULT_FILE) -> Report:
    checks, skipped = parse_at(path.read_text())
    report = Report(skipped_groups=skipped)
    node = None
    group = None
    for c in checks:
        if c.group != group:
            group = c.group
            node = Network().add_node("s1")
        assert node is not None
        cmd = c.commands
        filt = False
        if re.search(r"\|\s*uuidfilt\s*$", cmd):
            cmd = re.sub(r"\|\s*uuidfilt\s*$", "", cmd)
            filt = True
        files = re.fullmatch(r"uuidfilt((?: \S+)+)", cmd.strip())
        if files:      # the suite's filter over files earlier checks saved
            cmd = "cat" + files.group(1)
            filt = True
        r = node.run(cmd.replace("`", "\x00").replace("\x00", "$(", 1).replace("\x00", ")", 1)
                     if cmd.count("`") == 2 else cmd)   # `...` is $(...)
        out, err = (uuidfilt(r.output), uuidfilt(r.error)) if filt else (r.output, r.error)
        # autotest keeps what a check printed in ./stdout and ./stderr for the next ones
        node.machine.fs.write("/stdout", r.output.encode())
        node.machine.fs.write("/stderr", r.error.encode())
        ok = (c.status == "ignore" or str(r.status) == c.status) and \
             (c.stdout.strip() in ("ignore", "ignore-no-log", "stdout") or out == c.stdout) and \
             (c.stderr.strip() in ("ignore", "ignore-no-log", "stderr") or err == c.stderr)
        report.tried += 1
        if ok:
            report.passed += 1
        else:
            report.failures.append(f"[{c.group}] {c.commands!r}: want {c.status} {c.stdout!r} {c.stderr!r}, "
                                   f"got {r.status} {out!r} {err!r}")
    return report


def main(argv: list[str]) -> int:
    report = run(Path(argv[0]) if argv else DEFAULT_FILE)
    print(f"ovs-vsctl.at: {report.passed}/{report.tried} checks pass ({report.rate:.0%}); "
          f"{len(report.skipped_groups)} groups out of scope")
    for f in report.failures:
        print("FAIL", f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
