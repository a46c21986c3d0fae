"""Open vSwitch's own `ovs-ofctl parse-flow(s)` checks (tests/data/ovs/ovs-ofctl.at and
ofp-actions.at) as a peer suite: the in-scope checks netplex's ovs-ofctl passes may only go
up (docs/conformance-ovs.md says what is in scope and why)."""
from __future__ import annotations

from netplex.conformance.ovs_ofctl_at import in_scope, run

FLOOR = 202     # checks passing when this was written (all 202 in scope, learn and move since 2026-12-05, push/pop 2026-12-06)


def test_scope_is_what_issue_13_lists():
    assert in_scope("tcp,nw_src=192.168.0.3,tp_dst=80 actions=set_queue:37,output:1")
    assert in_scope("in_port=LOCAL dl_vlan=9 dl_src=00:0A:E4:25:6B:B0 actions=drop")
    assert not in_scope("ipv6,ipv6_label=0x12345 actions=2")
    assert not in_scope("actions=sample(probability=12345,collector_set_id=23456)")
    assert not in_scope("ip,actions=ct(commit,exec(load(1->NXM_NX_CT_MARK[])))")
    assert not in_scope("ip,actions=ct(commit,nat(src=fe80::20c:29ff:fe88:a18b,random))")


def test_ovs_ofctl_at_pass_rate():
    report = run()
    assert report.tried == 202
    failing = [f"[{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    assert report.passed >= FLOOR, "\n".join(failing)
    assert report.rate >= 0.9
