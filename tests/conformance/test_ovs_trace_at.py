"""Open vSwitch's own ofproto/trace checks (tests/data/ovs/ofproto-dpif.at) as a peer suite:
the groups made only of what the runner models (netplex.conformance.ovs_trace_at) are run,
and the checks passing may only go up (docs/conformance-ovs.md)."""
from __future__ import annotations

from netplex.conformance.ovs_trace_at import run

FLOOR = 4       # of 4 in scope: resubmit, group chaining, indirect and all groups in an action list


def test_ofproto_dpif_trace_checks():
    report = run()
    assert report.tried == 4 and len(report.left_out) == 34
    assert "ofproto-dpif - resubmit" not in report.left_out
    failing = [f"[{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    assert report.passed >= FLOOR, "\n".join(failing)
