"""Layer-2 differential cases: STP, VLAN, VXLAN and GRE on the simulator and on the kernel twin.

Each case runs on both backends and the results must agree (`diff.compare`),
through the `differential` harness (tests/conftest.py). A case that uses a
kernel feature this machine's kernel lacks (8021q, bridge VLAN filtering,
ip_gre, ipmr) skips on the twin, naming it; the simulator still runs it
(`test_sim`), and tests/l2 prove those features by probes and pcaps.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASES = {p.stem: p for p in sorted(HERE.glob("*.yaml"))}
# the loop losing its s1-s3 link is examples/stp-triangle.yaml (with the whole tree's state after the change):
# the same path as tests/differential/test_differential.py's case, so each backend runs it once per session
CASES["stp-reconverge"] = HERE.parents[2] / "examples" / "stp-triangle.yaml"
# case -> programs the twin must run inside the namespace
NEEDS_TOOL: dict[str, tuple[str, ...]] = {"vxlan-routed-mcast": ("smcrouted",)}


@pytest.mark.parametrize("case", list(CASES))
def test_sim(case: str, differential) -> None:
    r = differential.sim(CASES[case])
    assert r.exit_status == 0, [p.to_json() for p in r.probes if not p.passed] or r.error


@pytest.mark.linux
@pytest.mark.parametrize("case", list(CASES))
def test_linux(case: str, differential) -> None:
    r = differential.linux(CASES[case], tools=NEEDS_TOOL.get(case, ()))
    assert r.exit_status == 0, [p.to_json() for p in r.probes if not p.passed] or r.error


@pytest.mark.linux
@pytest.mark.parametrize("case", list(CASES))
def test_agree(case: str, differential) -> None:
    differential.assert_agree(CASES[case], tools=NEEDS_TOOL.get(case, ()))


def test_cases_present() -> None:
    assert {"stp-loop", "stp-reconverge", "vxlan-flood-learn", "vxlan-static-fdb"} <= set(CASES)
    assert os.path.isdir(HERE)
