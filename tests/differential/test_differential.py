"""Every example and every corpus scenario, on the simulator and on the kernel twin.

For each scenario: `test_sim` runs it on the simulator (always), `test_linux`
on the kernel twin (marked `linux`: root only) and `test_agree` compares the
two results with `netplex.scenario.diff.compare` — outcomes, observed values
and the normalised output of every `cmd` probe. Each backend's result is
computed once per session and shared by the three tests.

Corpus scenarios must pass on both backends; examples/*.yaml too, and
examples/broken/*.yaml must fail (exit 1 or 2) on both, as `netplex demo`
expects. A known simulator bug is listed in XFAIL with a precise reason
(strict: the day it is fixed the suite says so).
"""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from netplex.scenario.diff import DiffReport, compare
from netplex.scenario.loader import load_scenario
from netplex.scenario.results import EXIT_ERROR, EXIT_FAILED, EXIT_OK, ScenarioResult
from netplex.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"

CASES: dict[str, Path] = {
    **{f"examples/{p.stem}": p for p in sorted((ROOT / "examples").glob("*.yaml"))},
    **{f"examples/broken/{p.stem}": p for p in sorted((ROOT / "examples" / "broken").glob("*.yaml"))},
    **{f"corpus/{p.stem}": p for p in sorted(CORPUS.glob("*.yaml"))},
}

# case -> (reason, the tests that fail because of it: "sim" and/or "agree").
# Each reason names the simulator bug precisely; see the report that found it.
SIM, AGREE = frozenset({"sim", "agree"}), frozenset({"agree"})
XFAIL: dict[str, tuple[str, frozenset[str]]] = {
    # empty: every simulator bug this corpus found has been fixed (see the history of this table)
}

# Kernel features a case needs, and how to tell whether this kernel has them. A case
# skips on the kernel twin, naming the missing piece, where the kernel lacks one.
NEEDS: dict[str, str] = {
    "examples/gre-mesh": "ip_gre",
    "examples/vlan-tenants": "bridge vlan_filtering",
    "examples/qos-htb-seed": "sch_sfq",
    "examples/qos-sfq": "sch_sfq",
    "examples/vxlan-routed-multicast": "ipmr",
}
PROBES: dict[str, list[str]] = {
    "ip_gre": ["ip link add npxprobe type gre remote 192.0.2.1 local 192.0.2.2"],
    "bridge vlan_filtering": ["ip link add npxprobe type bridge vlan_filtering 1"],
    "sch_sfq": ["tc qdisc add dev lo root sfq"],
    "ipmr": ["test -e /proc/net/ip_mr_vif"],   # CONFIG_IP_MROUTE: smcrouted needs the kernel's VIFs
}


@functools.cache
def kernel_has(feature: str) -> bool:
    """Try the feature in a scratch namespace of our own."""
    import subprocess
    import uuid

    ns = f"npxprobe-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode:
        return False
    try:
        return all(subprocess.run(["ip", "netns", "exec", ns, "bash", "-c", line],
                                  capture_output=True).returncode == 0 for line in PROBES[feature])
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def expected_status(case: str) -> set[int]:
    if case.startswith("examples/broken/"):
        return {EXIT_FAILED, EXIT_ERROR}
    return {EXIT_OK}


@functools.cache
def sim_result(case: str) -> ScenarioResult:
    from netplex.scenario.sim import SimBackend

    scenario = load_scenario(CASES[case])
    return run_scenario(scenario, SimBackend(seed=scenario.seed))


def skip_unsupported_on_linux(case: str, request: pytest.FixtureRequest) -> None:
    """Skip a scenario whose probes the kernel twin cannot run yet; iperf on the twin is still being
    written (the QoS work), so its scenarios may fail there without failing the suite."""
    from netplex.twin.backend import LinuxBackend

    feature = NEEDS.get(case)
    if feature is not None and not kernel_has(feature):
        pytest.skip(f"this kernel lacks {feature}")
    scenario = load_scenario(CASES[case])
    if any(p.iperf is not None for p in scenario.probes):
        if not hasattr(LinuxBackend, "iperf"):
            pytest.skip("the linux backend has no iperf probe yet")
        request.node.add_marker(pytest.mark.xfail(strict=False, reason="iperf on the kernel twin is in progress"))


@functools.cache
def linux_result(case: str) -> tuple[ScenarioResult, tuple[str, ...]]:
    from netplex.twin.backend import LinuxBackend

    scenario = load_scenario(CASES[case])
    be = LinuxBackend()
    result = run_scenario(scenario, be)
    return result, tuple(be.notes)


def explain(result: ScenarioResult) -> str:
    """What went wrong, for an assertion message."""
    if result.error is not None:
        return f"{result.backend}: could not run: {result.error}"
    bad = [p for p in result.probes if not p.passed]
    return "\n".join(f"{result.backend}: probe {p.index} ({p.what}) failed: ok={p.ok} observed={p.observed}"
                     for p in bad)


def cases_for(test: str) -> list[object]:
    params = []
    for case in CASES:
        marks = []
        if case in XFAIL and test in XFAIL[case][1]:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[case][0]))
        params.append(pytest.param(case, id=case, marks=marks))
    return params


@pytest.mark.parametrize("case", cases_for("sim"))
def test_sim(case: str) -> None:
    result = sim_result(case)
    assert result.exit_status in expected_status(case), explain(result)


@pytest.mark.linux
@pytest.mark.parametrize("case", cases_for("linux"))
def test_linux(case: str, request: pytest.FixtureRequest) -> None:
    skip_unsupported_on_linux(case, request)
    result, _notes = linux_result(case)
    assert result.exit_status in expected_status(case), explain(result)


@pytest.mark.linux
@pytest.mark.parametrize("case", cases_for("agree"))
def test_agree(case: str, request: pytest.FixtureRequest) -> None:
    skip_unsupported_on_linux(case, request)
    linux, notes = linux_result(case)
    report: DiffReport = compare(sim_result(case), linux, notes=list(notes))
    assert report.inconclusive is None, report.inconclusive
    assert report.agree, "sim and linux disagree:\n" + "\n".join(report.all_differences())


def test_corpus_is_large_enough() -> None:
    assert len(list(CORPUS.glob("*.yaml"))) >= 60
