"""Netfilter differential: 160 generated rulesets × packets, simulator against the kernel.

The kernel's answers are recorded in `kernel_results.json` (made with
`python -m tests.differential.netfilter.record` as root), so the simulator is
checked against the kernel on every run, root or not. As root, `test_linux_*`
runs the same cases on the kernel twin again and checks that the recording
still holds (a kernel that changed shows up here, not as a sim failure).

Cases run in batches on one topology per backend (built once per session):
each case resets the firewall, applies its ruleset and sends its probes.
A known simulator difference is listed in XFAIL with its reason.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.differential.netfilter.cases import Case, build, make_cases, run_case

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "kernel_results.json"
CASES = make_cases()
BATCH = 20
BATCHES = [CASES[i:i + BATCH] for i in range(0, len(CASES), BATCH)]

# case name -> reason (strict: fixing the simulator makes the suite say so)
XFAIL: dict[str, str] = {}


def recorded() -> dict[str, Any]:
    if not RECORDED.exists():
        return {}
    return json.loads(RECORDED.read_text())


@functools.lru_cache(maxsize=None)
def sim_backend() -> Any:
    from netplex.scenario.sim import SimBackend
    be = SimBackend(seed=1)
    build(be)
    return be


@functools.lru_cache(maxsize=None)
def sim_results(batch: int) -> dict[str, dict[str, Any]]:
    be = sim_backend()
    return {c.name: run_case(be, c).to_json() for c in BATCHES[batch]}


def diff(case: Case, sim: dict[str, Any], kernel: dict[str, Any]) -> list[str]:
    out = []
    for key in ("setup_error", "probes", "counters", "conntrack"):
        if sim[key] != kernel[key]:
            out.append(f"{key}:\n  sim    {sim[key]}\n  kernel {kernel[key]}")
    return out


def test_enough_cases() -> None:
    assert len(CASES) >= 150
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("batch", range(len(BATCHES)))
def test_sim_agrees_with_recorded_kernel(batch: int) -> None:
    rec = recorded()
    if not rec:
        pytest.skip("no recorded kernel results (run tests/differential/netfilter/record.py as root)")
    results = sim_results(batch)
    failures = []
    xpassed = []
    for case in BATCHES[batch]:
        d = diff(case, results[case.name], rec[case.name])
        if case.name in XFAIL:
            if not d:
                xpassed.append(case.name)
            continue
        if d:
            failures.append(f"{case.name} rules={case.rules} probes={case.probes}\n" + "\n".join(d))
    assert not failures, "\n\n".join(failures)
    assert not xpassed, f"fixed, remove from XFAIL: {xpassed}"


@functools.lru_cache(maxsize=None)
def linux_backend() -> Any:
    from netplex.scenario.linux import LinuxBackend
    be = LinuxBackend()
    build(be)
    return be


@pytest.mark.linux
@pytest.mark.parametrize("batch", range(len(BATCHES)))
def test_linux_matches_recording(batch: int) -> None:
    rec = recorded()
    if not rec:
        pytest.skip("no recorded kernel results")
    be = linux_backend()
    failures = []
    for case in BATCHES[batch]:
        got = run_case(be, case).to_json()
        d = diff(case, got, rec[case.name])
        if d:
            failures.append(f"{case.name}: " + "\n".join(d))
    if batch == len(BATCHES) - 1:
        be.close()
    assert not failures, "\n\n".join(failures)
