"""Differential runs: one scenario on the simulator and on the kernel twin, compared.

The kernel is the simulator's oracle (ARCHITECTURE.md). `diff_scenario` runs a
scenario on both backends; `compare` sets the two `ScenarioResult`s side by
side, probe by probe: the outcome (`ok`, `passed`), the `observed` values that
both stacks must produce alike (ping's sent/replies, the peer a service saw,
the socket error's words) and, for every `cmd` probe, the exit status and the
normalised standard output and error.

Normalising is deliberately narrow: only what two correct Linux stacks may
legitimately print differently is rewritten, each rule listed once in
`NORMALISATIONS` with its reason. The rules travel as a value
(`Normalisations`, default `DEFAULT_NORMALISATIONS`) into `compare`, with the
run's link-netns aliases that each `ScenarioResult` carries; no module state. Anything else that differs is a difference —
most often a simulator bug, which is the point of the twin.

A setup failure is part of the comparison too: both backends must stop at the
same line with the same message. A backend that cannot run at all (not root,
a crashed twin) makes the diff inconclusive, not a disagreement.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from netplex.scenario.backend import Backend, LinkNetnsAliases
from netplex.scenario.model import Scenario
from netplex.scenario.results import ProbeResult, ScenarioResult
from netplex.scenario.runner import run_scenario

__all__ = [
    "DEFAULT_NORMALISATIONS",
    "IGNORED_OBSERVED",
    "NORMALISATIONS",
    "DiffReport",
    "Normalisation",
    "Normalisations",
    "ProbeDiff",
    "compare",
    "diff_scenario",
    "normalise",
    "normalise_observed",
]

_EPHEMERAL = r"(?:3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})"  # 32768..60999


def _far_node(m: re.Match[str], aliases: LinkNetnsAliases) -> str:
    """`eth0@ifN ... link-netns <wire namespace>` -> the node at that link's far side."""
    far = aliases.get((m.group("ns"), int(m.group("index"))))
    return m.group(0) if far is None else m.group("head") + far


Replacement = str | Callable[[re.Match[str], LinkNetnsAliases], str]


class Normalisation(NamedTuple):
    """One known, explained difference: `pattern` is rewritten to `replacement` on both sides.

    A callable replacement also gets the run's link-netns aliases (Backend.link_netns_aliases).
    """

    pattern: re.Pattern[str]
    replacement: Replacement
    reason: str


# Applied in order to every cmd probe's output and error text, on both backends alike.
NORMALISATIONS: tuple[Normalisation, ...] = (
    Normalisation(re.compile(r"\b(numtxqueues|numrxqueues) \d+"), r"\1 <n>",
     "a veth gets one queue per CPU of the host the kernel twin runs on; the simulator has one"),
    # before the rules below rewrite `@ifN` and the `npx-` prefix it reads
    Normalisation(
     re.compile(r"(?P<head>@if(?P<index>\d+)\b[^\n]*\n?[^\n]*?\blink-netns )(?P<ns>npx-[0-9a-f]{8}-\S+)"),
     _far_node,
     "on the kernel twin a link with rate, delay or loss runs through a hidden wire namespace, so a "
     "user end's veth peer (`eth0@ifN`, `link-netns`) is in that namespace, where the simulator shows "
     "the far node's; the run's link-netns aliases (Backend.link_netns_aliases) name the far node"),
    Normalisation(re.compile(r"\bnpx-[0-9a-f]{8}-"), "",
     "the kernel twin names each node's namespace `npx-<run id>-<node>` (e.g. in `link-netns`); "
     "the simulator's namespace is named after the node alone"),
    Normalisation(re.compile(r"(?<![0-9a-f:])(?!00(?::00){5}(?![0-9a-f:]))(?!ff(?::ff){5}(?![0-9a-f:]))"
                r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}(?![0-9a-f:])", re.IGNORECASE), "<mac>",
     "the kernel gives veth, bridge and tap devices random MAC addresses; the simulator derives "
     "them from the seed (the all-zero and broadcast addresses are fixed and kept)"),
    Normalisation(re.compile(r"^(\s*)\d+: (?=[\w.@-]+:? )", re.MULTILINE), r"\1<idx>: ",
     "ifindexes follow creation order, which differs: the twin creates each veth peer in the other "
     "namespace and tap devices only after all veths, from a relay process"),
    Normalisation(re.compile(r"@if\d+\b"), "@if<idx>",
     "the peer's ifindex in the other namespace (same reason as ifindexes)"),
    Normalisation(re.compile(r"^(<idx>: [\w.-]+)(?:@[\w.<>-]+)?(: <.*\bmaster )", re.MULTILINE), r"\1@<peer>\2",
     "`bridge link` prints a port veth's peer ifindex (a number in the other namespace) through a "
     "local lookup: `@if<N>`, `@<an unrelated local device>`, or nothing when it equals the port's "
     "own ifindex - a function of the ifindexes, which differ (above)"),
    Normalisation(re.compile(r'"(ifindex|link_index)": ?\d+'), r'"\1":<idx>',
     "`-j` JSON's ifindexes (`ip -j link`, `bridge -j link`): same reason as ifindexes"),
    Normalisation(re.compile(r'"link_netnsid": ?\d+'), '"link_netnsid":<id>',
     "`ip -j link`'s IFLA_LINK_NETNSID: namespace ids, same reason as link-netnsid"),
    Normalisation(re.compile(r'"(used|confirmed|updated)": ?\d+'), r'"\1":<t>',
     "neighbour and FDB ages in `ip -j -s neigh` / `bridge -j -s fdb`: wall-clock seconds (as `used`)"),
    Normalisation(re.compile(r"\blink-netnsid \d+\b"), "link-netnsid <id>",
     "namespace ids are assigned by the kernel on first use, in the order namespaces meet"),
    Normalisation(re.compile(r"\btime=\d+(?:\.\d+)? ms\b"), "time=<rtt> ms",
     "round-trip times are wall-clock on the kernel, simulated link delays in the simulator"),
    Normalisation(re.compile(r"\b(rtt|round-trip) min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms"),
     r"\1 min/avg/max/mdev = <rtt> ms", "round-trip statistics (same reason as rtt)"),
    Normalisation(re.compile(r"^((?:Unicast|Broadcast) (?:reply|request) from .*) \d+\.\d{3}ms$",
                             re.MULTILINE), r"\1 <rtt>ms", "arping's round-trip times (same reason as rtt)"),
    Normalisation(re.compile(r", time \d+ms\b"), ", time <elapsed>ms",
     "ping's elapsed time: wall clock (1001 ms for two pings) against simulated time (1000 ms)"),
    Normalisation(re.compile(r"\bused \d+/\d+/\d+"), "used <t>",
     "neighbour entry timers (`ip -s neigh`: `used A/B/Cprobes N`, no blank before probes): seconds "
     "since use, confirm, update — wall-clock ages"),
    Normalisation(re.compile(r"\bused \d+/\d+\b"), "used <t>",
     "FDB entry timers (`bridge -s fdb`): seconds since use and update — wall-clock ages"),
    Normalisation(re.compile(r"\bafter \d+ (ms|milliseconds)\b"), r"after <t> \1",
     "curl's elapsed time in its errors (`Failed to connect ... after 0 ms`, `timed out after 1001 "
     "milliseconds`): wall-clock on the kernel, simulated time in the simulator"),
    Normalisation(re.compile(r"(\r *\d+(?: +\d+){7} +--:--:-- +[-:\d]+ +[-:\d]+ +\d+)\1+"), r"\1",
     "curl's progress meter (without -s) prints a line as the transfer starts and again on each second's "
     "tick: how many identical lines come before the first tick is wall-clock timing on the kernel; "
     "a run of identical meter lines counts as one"),
    Normalisation(re.compile(r"\bexpires \d+sec\b"), "expires <t>sec",
     "a route cache entry's (learnt path MTU, redirect) remaining lifetime: a wall-clock countdown"),
    Normalisation(re.compile(r"\b((?:hello|tcn|topology_change|gc|hold|message_age|forward_delay)_timer) +"
                             r"(?!0\.00\b)\d+\.\d\d\b"), r"\1 <t>",
     "a bridge's running timers in `ip -d link` (gc_timer, hello_timer, ...): the time left counts down "
     "on the wall clock on the kernel, in simulated time in the simulator; whether one runs (non-zero) is kept"),
    Normalisation(re.compile(r"\bprobes \d+\b"), "probes <n>",
     "count of neighbour probes a NUD entry sent: how many fire depends on wall-clock timers"),
    Normalisation(re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}):" + _EPHEMERAL + r"\b"), r"\1:<eport>",
     "ephemeral source ports are drawn at random by the kernel, from the seeded RNG in the simulator"),
    Normalisation(re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}) port " + _EPHEMERAL + r"\b"), r"\1 port <eport>",
     "ephemeral ports in `nc`/`ss`-style `ADDR port N` text (same reason)"),
)

# Keys of `observed` that never take part in a comparison, with their reason.
IGNORED_OBSERVED: Mapping[str, str] = MappingProxyType({
    "rtt_ms": "a wall-clock time on the kernel, simulated time in the simulator",
    "flows": "iperf measurements (goodput, wire rate, per-second intervals) vary run to run on the kernel; "
             "what both must meet is each flow's expect_rate range, compared through `passed`",
    "classes": "per-class throughput series for plots, which only the simulator records",
    "duration_s": "the measured duration: simulated seconds in the simulator, wall seconds on the kernel",
    # an attach (netplex.mobile): the simulator reads the network's side from every node; on the kernel the
    # UE's modem reports what a UE knows (imsi, ip, error); the TEIDs are compared through `sgw show sessions`
    **{key: "an attach's network-side view, which only the simulator's probe reads from the nodes"
       for key in ("teids", "allocated_by", "mme", "apn", "enodeb", "sgw", "pgw", "network")},
})


def _ephemeral(port: Any) -> bool:
    return isinstance(port, int) and 32768 <= port <= 60999


def _with_aliases(fn: Callable[[re.Match[str], LinkNetnsAliases], str],
                  aliases: LinkNetnsAliases) -> Callable[[re.Match[str]], str]:
    def replace(m: re.Match[str]) -> str:
        return fn(m, aliases)
    return replace


@dataclass(frozen=True, slots=True)
class Normalisations:
    """The known differences a comparison forgives: a value, passed to `compare`.

    `rules` rewrite text (cmd output, error messages); `ignored_observed` are the
    observed keys left out; `link_netns_aliases` are the run's wire namespaces
    (`compare` adds the linux result's own). Tests and tools that forgive more or
    less make their own value (`dataclasses.replace`); nothing here is patched.
    """

    rules: tuple[Normalisation, ...] = NORMALISATIONS
    ignored_observed: Mapping[str, str] = field(default_factory=lambda: IGNORED_OBSERVED)
    link_netns_aliases: LinkNetnsAliases = field(default_factory=lambda: MappingProxyType({}))

    def with_aliases(self, aliases: LinkNetnsAliases) -> Normalisations:
        """This value with `aliases` added to its link-netns aliases."""
        if not aliases:
            return self
        merged = MappingProxyType({**self.link_netns_aliases, **aliases})
        return Normalisations(self.rules, self.ignored_observed, merged)

    def text(self, text: str) -> str:
        """Apply every rule to `text`; strip trailing blanks of each line."""
        for pattern, repl, _reason in self.rules:
            if isinstance(repl, str):
                text = pattern.sub(repl, text)
            else:
                text = pattern.sub(_with_aliases(repl, self.link_netns_aliases), text)
        return "\n".join(line.rstrip() for line in text.split("\n"))

    def observed(self, kind: str, observed: dict[str, Any]) -> dict[str, Any]:
        """The part of a probe's `observed` both backends must agree on, normalised."""
        out: dict[str, Any] = {}
        for key, value in observed.items():
            if key in self.ignored_observed:
                continue
            if key == "peer_port" and _ephemeral(value):
                value = "<eport>"
            elif isinstance(value, str):
                value = self.text(value)
            out[key] = value
        return out


DEFAULT_NORMALISATIONS = Normalisations()


def normalise(text: str, normalisations: Normalisations = DEFAULT_NORMALISATIONS) -> str:
    """`normalisations.text(text)`: every rule applied, trailing blanks stripped."""
    return normalisations.text(text)


def normalise_observed(kind: str, observed: dict[str, Any],
                       normalisations: Normalisations = DEFAULT_NORMALISATIONS) -> dict[str, Any]:
    """`normalisations.observed(kind, observed)`."""
    return normalisations.observed(kind, observed)


@dataclass(slots=True)
class ProbeDiff:
    """One probe on both backends: the comparable views and what differs."""

    index: int
    what: str
    kind: str
    sim: dict[str, Any]  # {"ok", "passed", "observed"} with observed normalised
    linux: dict[str, Any]
    differences: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "what": self.what, "agree": self.agree,
                "sim": self.sim, "linux": self.linux, "differences": self.differences}


@dataclass(slots=True)
class DiffReport:
    """The comparison of one scenario's two runs."""

    scenario: str
    sim: ScenarioResult
    linux: ScenarioResult
    probes: list[ProbeDiff] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # scenario-level (setup errors, probe count)
    notes: list[str] = field(default_factory=list)  # what the twin could not apply (netem, …)

    @property
    def inconclusive(self) -> str | None:
        """Why the runs cannot be compared (a backend failed outside the scenario), or None."""
        for r in (self.sim, self.linux):
            if r.error is not None and "command" not in r.error:
                return f"{r.backend} backend: {error_line(r.error)}"
        return None

    @property
    def agree(self) -> bool:
        return self.inconclusive is None and not self.differences and all(p.agree for p in self.probes)

    @property
    def exit_status(self) -> int:
        """0 the backends agree, 1 they disagree, 2 the comparison could not be made."""
        if self.inconclusive is not None:
            return 2
        return 0 if self.agree else 1

    def all_differences(self) -> list[str]:
        out = list(self.differences)
        for p in self.probes:
            out.extend(f"probe {p.index} ({p.what}): {d}" for d in p.differences)
        return out

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"scenario": self.scenario, "agree": self.agree, "exit_status": self.exit_status}
        if self.inconclusive is not None:
            d["inconclusive"] = self.inconclusive
        d["differences"] = self.differences
        d["notes"] = self.notes
        d["sim"] = {"passed": self.sim.passed, "error": self.sim.error}
        d["linux"] = {"passed": self.linux.passed, "error": self.linux.error}
        d["probes"] = [p.to_json() for p in self.probes]
        return d


def error_line(error: dict[str, Any]) -> str:
    if "command" in error:
        return f"{error['node']}: setup line {error['line']} failed: {error['command']}: {error['message']}"
    if "field" in error:
        return f"{error.get('file')}:{error.get('file_line')}: {error['field']}: {error['message']}"
    return str(error.get("message", error))


def _view(p: ProbeResult, norm: Normalisations) -> dict[str, Any]:
    return {"ok": p.ok, "passed": p.passed, "observed": norm.observed(p.kind, p.observed)}


def _text_diff(name: str, a: str, b: str) -> str:
    lines = difflib.unified_diff(a.splitlines(), b.splitlines(), f"sim {name}", f"linux {name}", lineterm="", n=1)
    return "\n".join(lines)


def _compare_probe(s: ProbeResult, lin: ProbeResult, norm: Normalisations) -> ProbeDiff:
    sv, lv = _view(s, norm), _view(lin, norm)
    diff = ProbeDiff(index=s.index, what=s.what or lin.what, kind=s.kind, sim=sv, linux=lv)
    if sv["ok"] != lv["ok"]:
        diff.differences.append(f"ok: sim {sv['ok']}, linux {lv['ok']}")
    if sv["passed"] != lv["passed"]:
        diff.differences.append(f"passed: sim {sv['passed']}, linux {lv['passed']}")
    so, lo = sv["observed"], lv["observed"]
    for key in sorted(set(so) | set(lo), key=lambda k: (k not in so, list(so).index(k) if k in so else 0, k)):
        a, b = so.get(key), lo.get(key)
        if a == b:
            continue
        if isinstance(a, str) and isinstance(b, str) and ("\n" in a.strip() or "\n" in b.strip()):
            diff.differences.append(f"{key} differs:\n{_text_diff(key, a, b)}")
        else:
            diff.differences.append(f"{key}: sim {a!r}, linux {b!r}")
    return diff


def compare(sim: ScenarioResult, linux: ScenarioResult, notes: list[str] | None = None,
            normalisations: Normalisations = DEFAULT_NORMALISATIONS) -> DiffReport:
    """Compare a scenario's sim result with its linux result.

    `notes` default to the linux result's; `normalisations` are what is forgiven,
    with the link-netns aliases each result carries added.
    """
    norm = normalisations.with_aliases(sim.link_netns_aliases).with_aliases(linux.link_netns_aliases)
    report = DiffReport(scenario=sim.scenario, sim=sim, linux=linux,
                        notes=list(linux.notes if notes is None else notes))
    if report.inconclusive is not None:
        return report
    se, le = sim.error, linux.error
    if se is not None or le is not None:
        if se is None or le is None:
            failed, err = ("sim", se) if se is not None else ("linux", le)
            report.differences.append(f"setup: only {failed} failed: {error_line(err)}")  # type: ignore[arg-type]
        else:
            for key in ("node", "line", "command", "message"):
                a, b = se.get(key), le.get(key)
                if key == "message":
                    a, b = norm.text(str(a)), norm.text(str(b))
                if a != b:
                    report.differences.append(f"setup error {key}: sim {a!r}, linux {b!r}")
    if len(sim.probes) != len(linux.probes):
        report.differences.append(f"probes run: sim {len(sim.probes)}, linux {len(linux.probes)}")
    report.probes = [_compare_probe(s, lin, norm) for s, lin in zip(sim.probes, linux.probes)]
    return report


def diff_scenario(scenario: Scenario, make_sim: Callable[[], Backend], make_linux: Callable[[], Backend],
                  normalisations: Normalisations = DEFAULT_NORMALISATIONS) -> DiffReport:
    """Run `scenario` on a fresh backend of each kind and compare the results.

    The linux backend is made first, so a machine that cannot run it fails
    (TwinUnavailable) before any work is done.
    """
    linux_be = make_linux()
    try:
        sim_be = make_sim()
    except BaseException:
        linux_be.close()
        raise
    sim_result = run_scenario(scenario, sim_be)
    linux_result = run_scenario(scenario, linux_be)
    return compare(sim_result, linux_result, normalisations=normalisations)


# --- rendering --------------------------------------------------------------------------


def summarize(kind: str, view: dict[str, Any]) -> str:
    """One backend's probe result as a few lines of text (normalised)."""
    o = view["observed"]
    head = "ok" if view["ok"] else "fail"
    if kind == "ping":
        return f"{head}: {o.get('replies', 0)}/{o.get('sent', 0)} replies"
    if kind in ("tcp", "udp"):
        if o.get("peer"):
            return f"{head}: peer {o['peer']}:{o.get('peer_port', '?')}"
        return f"{head}: {o.get('error') or 'no answer'}"
    if kind == "cmd":
        lines = [f"{head}: exit {o.get('exit')}"]
        if "output_matched" in o:
            lines[0] += ", output matched" if o["output_matched"] else ", expected line missing"
        out = str(o.get("output", "")).rstrip("\n")
        if out:
            lines.extend(out.split("\n"))
        err = str(o.get("error", "")).rstrip("\n")
        if err:
            lines.extend(f"stderr: {line}" for line in err.split("\n"))
        return "\n".join(lines)
    return head
