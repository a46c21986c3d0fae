"""The EPC on the kernel twin: the same daemons over real sockets in real namespaces.

The linux backend builds the mobile nodes as Linux hosts, runs their setup, then
each node's daemon (`Node.twin_start` -> `netplex.mobile.twin_daemon`, the
simulator's own classes over `realnet`'s sockets). The UE attaches over real
UDP and AF_PACKET; its ping and TCP connections cross real GTP-U tunnels
through the kernel (veth, bridge, routing, ARP, the PGW's TUN device and MASQUERADE) — and
give what the simulator gives, down to the TEIDs (same seed, same daemons).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.results import ScenarioResult
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from tests.conftest import twin_unavailable

ROOT = Path(__file__).resolve().parents[2]
ATTACH = ROOT / "examples" / "mobile" / "lte-attach.yaml"
TEID_COLUMNS = slice(4, 12)   # `sgw show sessions`: t1 t6 t2 t3 t4 t5 t7 t8


def _sessions(result, index: int) -> list[str]:
    lines = result.probes[index].observed["output"].splitlines()
    return lines[1].split()[TEID_COLUMNS]


@pytest.mark.linux
def test_barcelona_roaming_agrees_on_both_backends(differential) -> None:
    """Home-routed roaming for real: the visited SGW's S8 tunnel crosses the IPX router to the home PGW;
    `netplex diff` finds nothing (the TEIDs in `sgw show sessions` included)."""
    path = ROOT / "examples" / "mobile" / "lte-roaming-barcelona.yaml"
    differential.assert_agree(path)
    linux = differential.linux(path)
    assert linux.probes[0].observed["ip"] == "10.45.0.2"
    assert linux.probes[5].observed["error"] == "Attach Reject: EMM cause #11 (PLMN not allowed)"


DETACH_PROBES = """  - cmd: {node: mme1, run: "mme detach 001010000000001"}
  - ping: {from: ue1, to: 8.8.8.8}
    expect: fail
  - cmd: {node: sgw1, run: "sgw show sessions"}
  - cmd: {node: pgw1, run: "pgw show bearers"}
  - cmd: {node: mme1, run: "mme show ue"}
  - attach: {ue: ue1}
  - ping: {from: ue1, to: 8.8.8.8}
"""


ATTACH_PROBES = ('  - cmd: {node: sgw1, run: "sgw show sessions"}\n'
                 '  - cmd: {node: pgw1, run: "ip -d link show ogstun"}\n')
DETACH = 7   # the index of DETACH_PROBES' first probe, after lte-attach.yaml's five and ATTACH_PROBES' two


@pytest.fixture(scope="module")
def attach_then_detach() -> tuple[ScenarioResult, ScenarioResult]:
    """lte-attach.yaml, ATTACH_PROBES, then DETACH_PROBES on the simulator and on the kernel twin: one
    EPC per backend for the attach and the detach tests (the detach runs after the attach's probes,
    which only read)."""
    from netplex.twin.backend import LinuxBackend

    reason = twin_unavailable()   # a module fixture is set up before the autouse `linux` skip
    if reason is not None:
        pytest.skip(reason)
    text = ATTACH.read_text() + ATTACH_PROBES + DETACH_PROBES
    sim = run_scenario(load_scenario_text(text, str(ATTACH)), SimBackend())
    linux = run_scenario(load_scenario_text(text, str(ATTACH)), LinuxBackend())
    return sim, linux


@pytest.mark.linux
def test_lte_attach_on_the_kernel_twin_agrees_with_the_simulator(
        attach_then_detach: tuple[ScenarioResult, ScenarioResult]) -> None:
    sim, linux = attach_then_detach
    assert linux.error is None, linux.error
    assert [p.passed for p in linux.probes[:DETACH]] == [p.passed for p in sim.probes[:DETACH]] == [True] * 7, \
        [p.to_json() for p in linux.probes[:DETACH] if not p.passed]
    assert linux.probes[0].observed["ip"] == sim.probes[0].observed["ip"] == "10.45.0.2"
    assert linux.probes[2].observed["peer"] == sim.probes[2].observed["peer"] == "198.51.100.1"   # the PGW's NAT
    assert linux.probes[3].observed["error"] == "timed out"                                        # the PCRF's gate
    # the same programs with the same seed allocate the same tunnel ids on both backends
    assert _sessions(linux, 5) == _sessions(sim, 5)
    assert sorted(_sessions(sim, 5)) == sorted(sim.probes[0].observed["teids"].values())
    # the PGW's SGi side is a TUN device its daemon holds (TUNSETIFF), the same to `ip -d link` on both
    tun = linux.probes[6].observed["output"]
    assert tun == sim.probes[6].observed["output"]
    assert "<POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP>" in tun and "state UP" in tun and "tun type tun pi off" in tun
    bearers = linux.probes[4].observed["output"].splitlines()[1].split()
    assert bearers[2] == "10.45.0.2" and bearers[-2:] == ["deny", "157.240.0.0/16"]


@pytest.mark.linux
def test_mme_detach_on_the_kernel_twin_agrees_with_the_simulator(
        attach_then_detach: tuple[ScenarioResult, ScenarioResult]) -> None:
    """`mme detach IMSI` over real UDP: Delete Session on S11 and S5/S8 empties the SGW and PGW, the
    UE's ping goes nowhere; it attaches again (its address flushed and re-added) and pings."""
    sim, linux = attach_then_detach
    assert linux.error is None, linux.error
    assert [p.passed for p in linux.probes] == [p.passed for p in sim.probes] == [True] * (DETACH + 7), \
        [p.to_json() for p in linux.probes if not p.passed]
    for r in (sim, linux):
        assert len(r.probes[DETACH + 2].observed["output"].splitlines()) == 1   # sgw show sessions: the header only
        assert len(r.probes[DETACH + 3].observed["output"].splitlines()) == 1   # pgw show bearers: the header only
        assert r.probes[DETACH + 4].observed["output"].splitlines()[1].split()[3] == "DEREGISTERED"
        assert r.probes[DETACH + 5].observed["ip"] == "10.45.0.2"


IDLE_PROBES = """  - attach: {ue: ue1}
  - cmd: {node: inet, run: "sleep 6"}
  - cmd: {node: mme1, run: "mme show ue"}
  - ping: {from: pgw1, to: 10.45.0.2}
  - cmd: {node: mme1, run: "mme show ue"}
  - cmd: {node: inet, run: "sleep 6"}
  - ping: {from: ue1, to: 8.8.8.8, count: 3}
  - cmd: {node: mme1, run: "mme show ue"}
"""


@pytest.mark.linux
def test_idle_paging_and_service_request_agree_on_both_backends() -> None:
    """ECM-IDLE after three quiet seconds (the eNodeB's inactivity timer), paging for a downlink ping,
    a UE-triggered Service Request for an uplink one: the same states and answers on the twin as in
    the simulator, the S1-MME SCTP association and the NAS security real on both."""
    from netplex.twin.backend import LinuxBackend

    text = ATTACH.read_text().replace("    mme: mme1\n", "    mme: mme1\n    inactivity: 3\n", 1)
    text = text[:text.index("probes:")] + "probes:\n" + IDLE_PROBES
    results = [run_scenario(load_scenario_text(text, str(ATTACH)), be) for be in (SimBackend(), LinuxBackend())]
    for r in results:
        assert r.error is None, r.error
        assert [p.passed for p in r.probes] == [True] * 8, [p.to_json() for p in r.probes if not p.passed]
        states = [r.probes[i].observed["output"].splitlines()[1].split()[3] for i in (2, 4, 7)]
        assert states == ["IDLE", "ATTACHED", "ATTACHED"], (r.backend, states)


@pytest.mark.linux
@pytest.mark.skipif(os.environ.get("NETPLEX_MOBILE_TWIN") != "1",
                    reason="the twin's budget: NETPLEX_MOBILE_TWIN=1 runs it (six daemons and a stream, about 20 s)")
def test_x2_handover_on_the_kernel_twin_agrees_with_the_simulator() -> None:
    """lte-x2-handover for real: X2 Setup and the handover over real SCTP-over-raw-IP between the
    eNodeB namespaces, X2-U forwarding and the End Marker over real UDP, the UE's address moved to the
    other radio; every probe as in the simulator (the path switched to enb2, the TAU gave TA 2, the
    ping after it), and the same TEIDs, the new t8 included. The stream's loss is not compared: on
    the twin the GTP-U relays are userspace Python processes on a shared machine."""
    from netplex.twin.backend import LinuxBackend

    path = ROOT / "examples" / "mobile" / "lte-x2-handover.yaml"
    sim = run_scenario(load_scenario_text(path.read_text(), str(path)), SimBackend())
    linux = run_scenario(load_scenario_text(path.read_text(), str(path)), LinuxBackend())
    assert linux.error is None, linux.error
    assert [p.passed for p in linux.probes] == [p.passed for p in sim.probes] == [True] * 6, \
        [p.to_json() for p in linux.probes if not p.passed]
    assert linux.probes[2].observed["output"] == sim.probes[2].observed["output"]   # enodeb show x2
    assert _sessions(linux, 4) == _sessions(sim, 4)                                 # t1..t8, enb2's t8
    assert _sessions(sim, 4)[-1] != sim.probes[0].observed["teids"]["t8"]
