"""Layer-2 differential cases: STP, VLAN, VXLAN and GRE on the simulator and on the kernel twin.

Each case runs on both backends and the results must agree (`diff.compare`).
A case that needs a kernel feature this machine's kernel lacks (8021q, bridge
VLAN filtering, ip_gre) skips on the twin, naming it; the simulator still
runs it (`test_sim`), and tests/l2 prove those features by probes and pcaps.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from netplex.scenario.diff import compare
from netplex.scenario.loader import load_scenario
from netplex.scenario.results import ScenarioResult
from netplex.scenario.runner import run_scenario

HERE = Path(__file__).resolve().parent
CASES = {p.stem: p for p in sorted(HERE.glob("*.yaml"))}
# case -> the kernel feature it needs beyond bridge, STP and vxlan
NEEDS = {"vlan-subif": "8021q", "vlan-bridge": "bridge vlan_filtering", "gre-p2p": "ip_gre",
         "vxlan-routed-mcast": "ipmr"}
_PROBES = {
    "8021q": "ip link add link v0 name v0.5 type vlan id 5",
    "bridge vlan_filtering": "ip link add b0 type bridge vlan_filtering 1",
    "ip_gre": "ip link add g0 type gre remote 192.0.2.1",
    "ipmr": "",   # CONFIG_IP_MROUTE: /proc/net/ip_mr_vif exists in every namespace when built in
}


@functools.cache
def kernel_has(feature: str) -> bool:
    """Try the feature in a scratch namespace of our own (deleted after)."""
    ns = f"npxl2-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        return False
    try:
        subprocess.run(["ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                       capture_output=True)
        if feature == "ipmr":
            return subprocess.run(["ip", "netns", "exec", ns, "test", "-e", "/proc/net/ip_mr_vif"],
                                  capture_output=True).returncode == 0
        r = subprocess.run(["ip", "-n", ns, *_PROBES[feature].split()[1:]], capture_output=True)
        return r.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@functools.cache
def sim_result(case: str) -> ScenarioResult:
    from netplex.scenario.sim import SimBackend

    sc = load_scenario(CASES[case])
    return run_scenario(sc, SimBackend(seed=sc.seed))


@functools.cache
def linux_result(case: str) -> tuple[ScenarioResult, tuple[str, ...]]:
    from netplex.twin.backend import LinuxBackend

    be = LinuxBackend()
    return run_scenario(load_scenario(CASES[case]), be), tuple(be.notes)


# case -> a program the twin must run inside the namespace
NEEDS_TOOL = {"vxlan-routed-mcast": "smcrouted"}


def _need_kernel(case: str) -> None:
    tool = NEEDS_TOOL.get(case)
    if tool is not None and shutil.which(tool) is None:
        pytest.skip(f"no {tool} on this machine (apt-get install smcroute): proven in the simulator only")
    feat = NEEDS.get(case)
    if feat is not None and not kernel_has(feat):
        pytest.skip(f"this kernel has no {feat}: proven in the simulator only (tests/l2)")


@pytest.mark.parametrize("case", list(CASES))
def test_sim(case: str) -> None:
    r = sim_result(case)
    assert r.exit_status == 0, [p.to_json() for p in r.probes if not p.passed] or r.error


@pytest.mark.linux
@pytest.mark.parametrize("case", list(CASES))
def test_linux(case: str) -> None:
    _need_kernel(case)
    r, _ = linux_result(case)
    assert r.exit_status == 0, [p.to_json() for p in r.probes if not p.passed] or r.error


@pytest.mark.linux
@pytest.mark.parametrize("case", list(CASES))
def test_agree(case: str) -> None:
    _need_kernel(case)
    linux, notes = linux_result(case)
    report = compare(sim_result(case), linux, notes=list(notes))
    assert report.inconclusive is None, report.inconclusive
    assert report.agree, "sim and linux disagree:\n" + "\n".join(report.all_differences())


def test_cases_present() -> None:
    assert {"stp-loop", "stp-reconverge", "vxlan-flood-learn", "vxlan-static-fdb"} <= set(CASES)
    assert os.path.isdir(HERE)
