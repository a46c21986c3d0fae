"""Differential with the kernel twin: the same QoS scenario on sim and linux.

Throughputs agree within 10% (flows of at least 50 kbit/s; smaller ones
within 10 kbit/s), and `tc -s class show` counters move in the same classes.
Scenarios needing a qdisc or classifier this kernel lacks are skipped with
the module's name (sch_sfq, sch_prio, cls_fw, cls_matchall, act_police,
act_gact).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = [ROOT / "tests" / "qdisc" / "scenarios" / n for n in (
    "htb-seed-pfifo.yaml", "htb-netem-leaves.yaml", "tbf-netem-child.yaml", "tbf-prio-netem.yaml")] + [
    ROOT / "examples" / n for n in ("qos-htb-borrow.yaml", "qos-tbf.yaml", "qos-noisy-neighbour.yaml",
                                    "qos-noisy-neighbour-htb.yaml", "qos-sfq.yaml", "qos-htb-seed.yaml",
                                    "qos-pfifo-fast.yaml")]


def _twin_cannot_shape(text: str) -> str | None:
    """Why the twin cannot build this scenario as written, beyond a missing kernel feature."""
    if re.search(r"^\s+rate: ", text, re.M) and re.search(r"tc qdisc add dev \S+ root", text):
        return "the twin shapes a `rate:` link with its own root tbf, so a root qdisc cannot be added"
    return None


def _classes_that_sent(output: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^class \S+ (\S+) .*\n Sent (\d+)", output, re.MULTILINE)
            if int(m.group(2)) > 0}


# Cases whose figures are known not to agree yet, with the reason.
KNOWN = {
    "qos-noisy-neighbour": "tenant B's TCP share of a queue flooded by UDP depends on loss recovery: at a window "
                           "of 1-2 segments every drop is a tail drop, recovered by a retransmission timeout (SACK "
                           "never comes into play), where the simulator's TCP differs from Linux (RTO details): sim "
                           "~28 kbit/s, kernel ~17-18 kbit/s; and the link's 5 ms delay cannot be applied on this "
                           "kernel (no sch_netem)",
    "qos-noisy-neighbour-htb": "tenant B's TCP flow loses tail packets in its 20-packet pfifo; Linux recovers "
                               "them with RACK/TLP, which the simulator's TCP lacks, so it waits for "
                               "retransmission timeouts: sim 375 kbit/s, kernel 400-424 kbit/s (inside 10 % "
                               "in some kernel runs, outside in others)"
}


@pytest.mark.linux
@pytest.mark.parametrize("path", [pytest.param(c, marks=pytest.mark.xfail(strict=False, reason=KNOWN[c.stem]))
                                  if c.stem in KNOWN else c for c in CASES], ids=lambda p: p.stem)
def test_sim_and_kernel_agree(path: Path, differential) -> None:
    why = _twin_cannot_shape(path.read_text())
    if why:
        pytest.skip(why)
    lin = differential.linux(path)  # skips, naming the qdisc or classifier this kernel lacks
    sim = differential.sim(path)
    assert sim.error is None and lin.error is None, (sim.error, lin.error)
    for ps, pl in zip(sim.probes, lin.probes):
        if ps.kind == "iperf":
            for fs, fl in zip(ps.observed["flows"], pl.observed["flows"]):
                a, b = fs["wire_bps"], fl["wire_bps"]
                tol = 0.10 * max(a, b) if max(a, b) >= 50_000 else 10_000
                assert abs(a - b) <= tol, (path.stem, a, b)
        if ps.kind == "cmd" and "class show" in ps.observed.get("output", "") + str(ps.what):
            assert _classes_that_sent(ps.observed["output"]) == _classes_that_sent(pl.observed["output"])
        assert ps.passed == pl.passed, (ps.to_json(), pl.to_json())
