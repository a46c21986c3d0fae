"""Run a loaded scenario on a backend (SCENARIO.md, Semantics).

build -> every node's files -> every node's setup lines, node by node in file order -> services ->
probes in order; the backend is always closed. `prepare` is the first half
alone, for `netplex shell` and `netplex trace`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from netplex.engine.gcpause import paused_gc
from netplex.errors import NetplexError, ScenarioError
from netplex.network import NODE_KINDS
from netplex.scenario.backend import Backend, ProbeOutcome
from netplex.scenario.events import event_report
from netplex.scenario.loader import format_loc
from netplex.scenario.model import (
    AttachProbe,
    CmdProbe,
    Endpoint,
    IperfProbe,
    PingProbe,
    Probe,
    Scenario,
    TcpProbe,
    UdpProbe,
)
from netplex.scenario.results import ProbeResult, ScenarioResult

__all__ = ["RunObserver", "run_scenario", "prepare", "check_supported", "run_probe", "run_probes", "commands_text"]


# Top-level sections a system compiles into its nodes' shell lines (netplex.cloud registers
# "cloud"): compile(scenario) -> ([(node, line, file_line, command)], failure or None).
SectionLines = list[tuple[str, str, int, str]]
SECTIONS: dict[str, Callable[[Scenario], tuple[SectionLines, dict[str, Any] | None]]] = {}


def commands_text(scenario: Scenario) -> str:
    """The shell lines a run gives the nodes beyond the file's own: what its top-level sections
    compile into (a cloud's agents' `ip`, `tc`, `iptables`, `dnsmasq`, ... lines), one a line,
    so the twin's checks (`twin.features.needed_by`, `tools_needed_by`) see the commands the
    systems generate, not the file's words for them. Empty when a section's commands fail."""
    if scenario.cloud is None:
        return ""
    lines, _ = SECTIONS["cloud"](scenario)
    return "\n".join(line for _, line, _, _ in lines)


class RunObserver(Protocol):
    """Watches a run (a recording for `netplex view`): after setup, before each probe (and
    once after the last, index == number of probes), and when the probes are done."""

    def setup_done(self, backend: Backend) -> None: ...
    def before_probe(self, index: int) -> None: ...
    def probes_done(self, backend: Backend) -> None: ...


def run_scenario(scenario: Scenario, backend: Backend, observer: RunObserver | None = None) -> ScenarioResult:
    """Build, set up, start services, run every probe; close the backend in all cases."""
    result = ScenarioResult(scenario=scenario.name, backend=backend.name)
    try:
        check_supported(scenario, backend)
        result.error = prepare(scenario, backend)
        if result.error is None:
            if observer is not None:
                observer.setup_done(backend)
            result.probes, result.events = run_probes(scenario, backend,
                                                      observer.before_probe if observer is not None else None)
            if observer is not None:
                observer.probes_done(backend)
    except ScenarioError as e:
        result.error = e.to_json()
    except NetplexError as e:
        result.error = {"message": e.message}
    finally:
        result.notes = list(backend.notes)
        result.link_netns_aliases = dict(backend.link_netns_aliases)
        backend.close()
    return result


def run_probes(scenario: Scenario, backend: Backend, before_probe: Callable[[int], None] | None = None,
               ) -> tuple[list[ProbeResult], list[dict[str, Any]] | None]:
    """Every probe in order, with the scenario's events armed from the first probe's start
    (SCENARIO.md v1.1); the events' report (None without events). `before_probe(i)` runs
    before probe i and once more (i == len(probes)) after the last (a recording's marks)."""
    def each() -> list[ProbeResult]:
        out = []
        for i, p in enumerate(scenario.probes):
            if before_probe is not None:
                before_probe(i)
            out.append(run_probe(p, i, backend, _endpoints(scenario, p)))
        if before_probe is not None:
            before_probe(len(scenario.probes))
        return out

    if not scenario.events:
        return each(), None
    origin = backend.clock_ns()
    backend.arm_events(scenario.events)
    try:
        probes = each()
    finally:
        done = backend.disarm_events()
    gaps = [(p.index, p.flow_gaps) for p in probes if p.flow_gaps]
    return probes, event_report(scenario.events, origin, done, gaps)


def check_supported(scenario: Scenario, backend: Backend) -> None:
    """Refuse, before building anything, probes this backend cannot run.

    `Backend.supports` names the probe kinds a backend runs; another is refused with its location.
    """
    for i, probe in enumerate(scenario.probes):
        if probe.kind not in backend.supports:
            raise ScenarioError(scenario.file, probe.file_line, format_loc(("probes", i, probe.kind)),
                                f"{probe.kind} probes are not supported yet by the {backend.name} backend")


def prepare(scenario: Scenario, backend: Backend) -> dict[str, Any] | None:
    """Build nodes and links, run the setup lines, start the nodes' own daemons, then the services.

    Returns None, or the setup failure {node, line, file_line, command, message}
    of the first line that exited non-zero (nothing after it runs). The cyclic garbage
    collector pauses meanwhile (engine/gcpause.py: half the build time of a large topology).
    """
    with paused_gc():
        return _prepare(scenario, backend)


def _prepare(scenario: Scenario, backend: Backend) -> dict[str, Any] | None:
    backend.build(scenario.nodes, scenario.links)
    for name, node in scenario.nodes.items():   # files: before the first setup line
        for path, data in node.file_contents().items():
            backend.write_file(name, path, data)
    for name, node in scenario.nodes.items():
        for line in NODE_KINDS[node.kind].boot:   # the kind's init (a docker-host's dockerd)
            r = backend.run(name, line)
            if r.status != 0:
                return {"node": name, "line": 0, "file_line": 0, "command": line,
                        "message": (r.error or r.output).removesuffix("\n")}
        for setup in node.setup_lines():
            r = backend.run(name, setup.command)
            if r.status != 0:
                message = (r.error or r.output).removesuffix("\n")
                return {"node": name, "line": setup.line, "file_line": setup.file_line,
                        "command": setup.command, "message": message}
    if scenario.cloud is not None:
        lines, failure = SECTIONS["cloud"](scenario)
        for node, line, file_line, command in lines:
            r = backend.run(node, line)
            if r.status != 0 and failure is None:
                return {"node": node, "line": 0, "file_line": file_line, "command": command,
                        "message": f"{line}: " + (r.error or r.output).removesuffix("\n")}
        if failure is not None:
            return failure
    for name in scenario.nodes:
        backend.start_node(name)
    for name, node in scenario.nodes.items():
        if node.services:
            backend.start_services(name, list(node.services))
    if scenario.cloud is not None and scenario.cloud.services:   # listeners in the cloud's servers
        for ep in scenario.probe_endpoints().values():
            if ep.services:
                backend.start_services(ep.node, list(ep.services), netns=ep.netns)
    return None


def _endpoints(scenario: Scenario, probe: Probe) -> Mapping[str, Endpoint]:
    """The systems' endpoints when the probe names one (a cloud server), else none (no replay)."""
    spec = probe.spec
    if isinstance(spec, (PingProbe, TcpProbe, UdpProbe)) and (spec.src not in scenario.nodes or not spec.to[0].isdigit()):
        return {name: ep for name, ep in scenario.probe_endpoints().items() if name not in scenario.nodes}
    return {}


def run_probe(probe: Probe, index: int, backend: Backend, endpoints: Mapping[str, Endpoint] | None = None) -> ProbeResult:
    """Run one probe and judge it against `expect`, `expect_peer`, `expect_output`.

    `endpoints`: what a `from:`/`to:` that names no node stands for (a cloud server: the
    namespace on its compute host the probe runs in, the address it goes to)."""
    spec = probe.spec
    extra_ok = True
    if isinstance(spec, (PingProbe, TcpProbe, UdpProbe)):
        eps = endpoints or {}
        src, netns = spec.src, None
        if src in eps:   # a node of the same name wins
            src, netns = eps[src].node, eps[src].netns
        dst = spec.to if spec.to[0].isdigit() else str(eps[spec.to].address)
        if isinstance(spec, PingProbe):
            outcome = backend.ping(src, dst, spec.count, netns=netns)
        elif isinstance(spec, TcpProbe):
            outcome = backend.tcp(src, dst, spec.port, netns=netns)
        else:
            outcome = backend.udp(src, dst, spec.port, netns=netns)
    elif isinstance(spec, CmdProbe):
        outcome, extra_ok = _cmd(spec, probe.expect_output, backend)
    elif isinstance(spec, AttachProbe):
        outcome = backend.attach(spec.ue)
    else:
        outcome, extra_ok = _iperf(spec, backend)
    if probe.expect_peer is not None:
        extra_ok = extra_ok and outcome.observed.get("peer") == probe.expect_peer
    passed = outcome.ok == (probe.expect == "ok") and extra_ok
    if outcome.aborted is not None:   # the simulation stopped itself: no expectation is met
        outcome.observed["aborted"] = outcome.aborted
        passed = False
    return ProbeResult(index=index, kind=probe.kind, expect=probe.expect, ok=outcome.ok, passed=passed,
                       observed=outcome.observed, expect_peer=probe.expect_peer, what=probe.describe(),
                       flow_gaps=outcome.flow_gaps)


def _cmd(spec: CmdProbe, expect_output: str | None, backend: Backend) -> tuple[ProbeOutcome, bool]:
    r = backend.run(spec.node, spec.run)
    observed: dict[str, Any] = {"exit": r.status, "output": r.output}
    matched = True
    if expect_output is not None:
        want = expect_output.strip()
        matched = any(line.strip() == want for line in r.output.splitlines())
        observed["output_matched"] = matched
    if r.error:
        observed["error"] = r.error.removesuffix("\n")
    return ProbeOutcome(ok=r.status == 0, observed=observed, aborted=r.aborted), matched


def _iperf(spec: IperfProbe, backend: Backend) -> tuple[ProbeOutcome, bool]:
    """Run the flows; observed["flows"][i]["wire_bps"] is checked against flow i's `expect_rate`."""
    outcome = backend.iperf(duration_ns=spec.duration_ns, flows=spec.flows)
    observed_flows = outcome.observed.get("flows", [])
    in_range = True
    for i, flow in enumerate(spec.flows):
        if flow.expect_rate is not None:
            wire = observed_flows[i].get("wire_bps") if i < len(observed_flows) else None
            in_range = in_range and wire is not None and flow.expect_rate[0] <= wire <= flow.expect_rate[1]
    return outcome, in_range
