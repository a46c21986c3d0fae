"""Run iptables 1.8.9's extension test tables (`*.t`) and save dumps against netplex's iptables.

The semantics follow the upstream harness (iptables-test.py, described in
the tables' README): for each rule line and each chain of the current
chain list, `iptables -A CHAIN [-t TABLE] RULE` must fail for FAIL lines;
for OK lines it must succeed, `iptables-save` must contain `-A CHAIN
EXPECTED`, and `iptables -D` removes the rule again; NOMATCH lines must
succeed without that text. The nf_tables variant's results apply (a
`VARIANT` field of LEGACY flips the result). `@`/`%` lines (nfct, nfacct
helpers) are skipped. Each file runs in a fresh simulated namespace.

    python -m netplex.conformance.iptables_t [DIR] [--all]   # prints the rate per file
"""
from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "iptables-1.8.9"

# Extensions the netfilter issue puts in scope (matches and targets).
IN_SCOPE = {
    "libxt_standard.t", "libxt_tcp.t", "libxt_udp.t", "libipt_icmp.t", "libxt_multiport.t", "libxt_iprange.t",
    "libxt_mac.t", "libxt_mark.t", "libxt_connmark.t", "libxt_state.t", "libxt_conntrack.t", "libxt_comment.t",
    "libxt_physdev.t", "libxt_addrtype.t", "libxt_limit.t", "libxt_length.t", "libxt_tos.t", "libxt_dscp.t",
    "libipt_ttl.t", "libxt_pkttype.t", "libxt_owner.t", "libxt_statistic.t",
    "libipt_REJECT.t", "libipt_LOG.t", "libxt_MARK.t", "libxt_CONNMARK.t", "libxt_TOS.t", "libxt_DSCP.t",
    "libxt_CLASSIFY.t", "libxt_TRACE.t",
    # connection tracking / NAT targets (the conntrack & NAT work)
    "libxt_CT.t", "libxt_NOTRACK.t", "libipt_SNAT.t", "libipt_DNAT.t", "libipt_MASQUERADE.t",
    "libxt_REDIRECT.t", "libipt_NETMAP.t",
    # extensions real firewalls use (issue 10 item 4)
    "libxt_recent.t", "libxt_set.t", "libxt_SET.t", "libxt_hashlimit.t", "libxt_connlimit.t", "libxt_rpfilter.t",
    "libxt_policy.t", "libxt_sctp.t", "libxt_time.t", "libxt_string.t", "libxt_nfacct.t", "libxt_u32.t",
    "libxt_NFQUEUE.t",
    # net_cls classid (issue 12 item 3); --path (cgroup v2) is refused
    "libxt_cgroup.t",
}
DUMPS = ("ipt-save-filter.txt", "policy-drop.txt", "wireless.txt", "fedora27-iptables")


@dataclass
class FileResult:
    name: str
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 1.0


def _node():
    from netplex.network import Network
    net = Network()
    return net.add_node("t")


def run_file(path: Path) -> FileResult:
    node = _node()
    res = FileResult(path.name)
    chains: list[str] = []
    table = ""
    for raw in path.read_text().splitlines():
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(":"):
            chains = line[1:].strip().split(",")
            continue
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if line[0] in "@%":
            continue
        fields = line.split(";")
        if len(fields) < 3:
            continue
        rule, expected, result = fields[0], fields[1], fields[2]
        variant = fields[3] if len(fields) > 3 else ""
        alt = fields[4] if len(fields) > 4 else ""
        if variant == "LEGACY":
            result = alt or {"OK": "FAIL", "FAIL": "OK", "NOMATCH": "OK"}[result]
        for chain in chains:
            res.total += 1
            err = check_line(node, table, chain, rule, expected, result)
            if err is None:
                res.passed += 1
            else:
                res.failures.append(f"{chain}: {rule} -> {err}")
    return res


def check_line(node, table: str, chain: str, rule: str, expected: str, result: str) -> str | None:
    from netplex.shell.iptables import do_command
    try:
        words = shlex.split(rule)
    except ValueError:
        words = rule.split()
    targs = ["-t", table] if table else []
    r = do_command(node.ns, targs + ["-A", chain] + words)
    if result == "FAIL":
        if r.status == 0:
            do_command(node.ns, targs + ["-D", chain] + words)
            return "accepted, expected failure"
        return None
    if r.status != 0:
        return f"rejected: {r.error.strip()}"
    exp = rule if expected == "=" else expected
    save = node.run("iptables-save" + (f" -t {table}" if table else "")).output
    want = f"-A {chain} {exp}".rstrip() if exp else f"-A {chain}"
    lines = save.splitlines()
    found = any(ln == want or ln.startswith(want + " ") or (not exp and ln.startswith(want)) for ln in lines) \
        if result == "OK" else any(want in ln for ln in lines)
    found = found or want in save
    do_command(node.ns, targs + ["-D", chain] + words)
    if result == "OK" and not found:
        got = [ln for ln in lines if ln.startswith(f"-A {chain}")]
        return f"saved as {got[-1] if got else '(nothing)'!r}"
    if result == "NOMATCH" and found:
        return "saved in the form it should not be"
    return None


def strip_comments(text: str) -> str:
    return "".join(ln + "\n" for ln in text.splitlines() if not ln.startswith("#"))


def run_dump(path: Path) -> str | None:
    """Restore a dump and save it back; None when identical (comments aside)."""
    node = _node()
    text = path.read_text()
    counters = path.name == "fedora27-iptables"
    from netplex.shell.iptables import restore_text
    from netplex.stack.netfilter.core import netfilter_of
    r = restore_text(node.ns, netfilter_of(node.ns), text, counters=counters)
    if r.status != 0:
        return f"restore failed: {r.error.strip()}"
    if counters:
        out = "".join(node.run(f"iptables-save -c -t {t}").output for t in ("mangle", "raw", "filter"))
    else:
        out = node.run("iptables-save").output
    want, got = strip_comments(text), strip_comments(out)
    if want == got:
        return None
    import difflib
    diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), "dump", "saved", lineterm="", n=0))
    return "differs:\n" + "\n".join(diff[:20])


def run_all(directory: Path = DEFAULT_DIR, only_scope: bool = True) -> dict[str, FileResult]:
    out = {}
    for p in sorted(directory.glob("*.t")):
        if only_scope and p.name not in IN_SCOPE:
            continue
        out[p.name] = run_file(p)
    return out


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    d = Path(args[0]) if args else DEFAULT_DIR
    allfiles = "--all" in argv
    results = run_all(d, only_scope=not allfiles)
    tp = tt = 0
    for name, r in results.items():
        tp += r.passed
        tt += r.total
        print(f"{name:28} {r.passed:4d}/{r.total:<4d} {100 * r.rate:6.1f}%")
        for f in r.failures:
            print(f"    FAIL {f}")
    print(f"{'TOTAL':28} {tp:4d}/{tt:<4d} {100 * tp / max(tt, 1):6.1f}%")
    for dname in DUMPS:
        err = run_dump(d / "dumps" / dname)
        print(f"dump {dname}: {'identical' if err is None else err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
