"""Open vSwitch's own ofproto/trace checks (tests/data/ovs/ofproto-dpif.at) as a peer suite:
the groups made only of what the runner models (netplex.conformance.ovs_trace_at) are run,
and the checks passing may only go up (docs/conformance-ovs.md)."""
from __future__ import annotations

from netplex.conformance.ovs_trace_at import _flatten_action_set, _statements, run, trace_in_scope

FLOOR = 31      # of 32 in scope, in 22 groups (the one failing expects OVS 3.7's dp_hash trace text)


def test_ofproto_dpif_trace_checks():
    report = run()
    assert report.tried == 32 and len(report.left_out) == 16
    for group in ("ofproto-dpif - resubmit", "ofproto-dpif - write actions", "ofproto-dpif - clear actions",
                  "ofproto-dpif - patch port with action set", "ofproto-dpif - goto table",
                  "ofproto-dpif - exponential resubmit chain", "ofproto-dpif - conntrack - ofproto/trace"):
        assert group not in report.left_out
    assert report.left_out["ofproto-dpif - multiple VLAN output mirrors"] == "mirrors (the Mirror table)"
    failing = [f"[{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    assert report.passed >= FLOOR, "\n".join(failing)


def test_scope_takes_the_action_set_apart():
    assert _flatten_action_set("ip,actions=output(10),write_actions(set_field:1.2.3.4->ip_src,output(12)),"
                               "goto_table(1)") == "ip,actions=output(10),set_field:1.2.3.4->ip_src,output(12),goto_table(1)"
    assert trace_in_scope("tcp actions=set_field:91->tp_src,output(11),clear_actions")
    assert trace_in_scope("ip action=normal")
    assert not trace_in_scope("ip actions=write_actions(fin_timeout(idle_timeout=5))")


def test_a_shell_statement_runs_to_its_closing_parenthesis():
    body = '(for i in `seq 0 2`; do\n    echo "table=$i"\n done) > flows\nAT_CHECK([true])\n'
    assert _statements(body) == [("sh", ['(for i in `seq 0 2`; do\n    echo "table=$i"\n done) > flows']),
                                 ("AT_CHECK", ["true"])]
