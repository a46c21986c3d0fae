"""Netfilter differential: 160 generated rulesets × packets, simulator against the kernel.

The kernel's answers are recorded in `kernel_results.json` (made with
`python tests/differential/netfilter/record.py` as root), so the simulator is
checked against the kernel on every run, root or not. As root, `test_linux_*`
runs the cases of two batches on the kernel twin again (every batch with
NETPLEX_NF_TWIN=1) and checks that the recording still holds (a kernel that
changed shows up here, not as a sim failure).

Cases run in batches on one topology per backend (built once per session):
each case resets the firewall, applies its ruleset and sends its probes.
A known simulator difference is listed in XFAIL with its reason.
"""
from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from nf_cases import Case, build, make_cases, run_case

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "kernel_results.json"
CASES = make_cases()
BATCH = 20
BATCHES = [CASES[i:i + BATCH] for i in range(0, len(CASES), BATCH)]
# the twin re-checks the recording for two batches within the suite's budget (about 15 s each);
# NETPLEX_NF_TWIN=1 re-checks every batch
TWIN_BATCHES = tuple(range(len(BATCHES))) if os.environ.get("NETPLEX_NF_TWIN") == "1" else (0, 4)

# case name -> reason, for differences other than the extra-ACK counters `ack_only` recognises
_ACK = ("close race: whether the client's FIN or the server's FIN goes first depends on the kernel's "
        "scheduling (the twin's own runs differ), so a connection has one pure ACK (52 bytes) more or less")
_ACK2 = 'sim TCP stack: extra pure ACKs (as above), and after them the conntrack state of a half-tracked (NOTRACK) flow differs'
_SYN = ('sim conntrack: a second connection through the same SNAT port range is counted once in '
        'nat POSTROUTING where the kernel counts two (a SYN reusing a tuple whose entry is in TIME_WAIT '
        'is re-opened as NEW by nf_conntrack_proto_tcp, so NAT runs again)')
XFAIL: dict[str, str] = {
    'nf006': _ACK2,
    'nf145': _SYN,
}


def recorded() -> dict[str, Any]:
    if not RECORDED.exists():
        return {}
    return json.loads(RECORDED.read_text())


@functools.cache
def sim_backend() -> Any:
    from netplex.scenario.sim import SimBackend
    be = SimBackend(seed=1)
    build(be)
    return be


@functools.cache
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


_COUNTER = re.compile(r"^(\w+): \[(\d+):(\d+)\] (.*)$")


def ack_only(sim: dict[str, Any], kernel: dict[str, Any]) -> bool:
    """True when the runs differ only by one pure TCP ACK (52 bytes) per counter, either way: the close race."""
    if sim["probes"] != kernel["probes"] or sim["setup_error"] != kernel["setup_error"]:
        return False
    if sim["conntrack"] != kernel["conntrack"] or len(sim["counters"]) != len(kernel["counters"]):
        return False
    for a, b in zip(sim["counters"], kernel["counters"]):
        if a == b:
            continue
        ma, mb = _COUNTER.match(a), _COUNTER.match(b)
        if ma is None or mb is None or ma.group(1, 4) != mb.group(1, 4):
            return False
        dp = int(ma.group(2)) - int(mb.group(2))
        db = int(ma.group(3)) - int(mb.group(3))
        if abs(dp) != 1 or db != 52 * dp:
            return False
    return True


@pytest.mark.parametrize("batch", range(len(BATCHES)))
def test_sim_agrees_with_recorded_kernel(batch: int) -> None:
    rec = recorded()
    if not rec:
        pytest.skip("no recorded kernel results (run tests/differential/netfilter/record.py as root)")
    results = sim_results(batch)
    failures, known = [], []
    for case in BATCHES[batch]:
        d = diff(case, results[case.name], rec[case.name])
        if not d:
            continue
        if case.name in XFAIL:
            known.append(f"{case.name}: {XFAIL[case.name]}")
        elif ack_only(results[case.name], rec[case.name]):
            known.append(f"{case.name}: {_ACK}")
        else:
            failures.append(f"{case.name} rules={case.rules} probes={case.probes}\n" + "\n".join(d))
    assert not failures, "\n\n".join(failures)
    if known:
        pytest.xfail(f"{len(known)} of {len(BATCHES[batch])} cases differ for known reasons:\n" + "\n".join(known))


@functools.cache
def linux_backend() -> Any:
    from netplex.twin.backend import LinuxBackend
    be = LinuxBackend()
    build(be)
    return be


@pytest.mark.linux
@pytest.mark.tools("iptables", "conntrack")
@pytest.mark.parametrize("batch", TWIN_BATCHES)
def test_linux_matches_recording(batch: int) -> None:
    rec = recorded()
    if not rec:
        pytest.skip("no recorded kernel results")
    be = linux_backend()
    failures = []
    for case in BATCHES[batch]:
        got = run_case(be, case).to_json()
        d = diff(case, got, rec[case.name])
        # the kernel races with itself over which FIN goes first (see _ACK): a
        # re-run may differ from the recording by that one ACK, or by what it
        # does to a half-tracked flow's state (nf006) or to a reused SNAT
        # tuple still in TIME_WAIT (nf145)
        if d and not ack_only(got, rec[case.name]) and case.name not in ("nf006", "nf145"):
            failures.append(f"{case.name}: " + "\n".join(d))
    if batch == TWIN_BATCHES[-1]:
        be.close()
    # The kernel is not deterministic here (timing races between the probes' processes):
    # a case or two of a batch may come out otherwise than when recorded. More than that
    # means the recording or the harness no longer holds.
    assert len(failures) <= 2, "\n\n".join(failures)
    if failures:
        pytest.xfail("the kernel differed from its own recording (a race):\n" + "\n\n".join(failures))
