"""Open vSwitch's own megaflow checks (the `ofproto-dpif megaflow - ...` groups of
tests/data/ovs/ofproto-dpif.at) as a peer suite: the datapath flows netplex's upcalls
install for the groups' flows and packets (netplex.conformance.ovs_megaflow_at); the
checks passing may only go up (docs/conformance-ovs.md)."""
from __future__ import annotations

from netplex.conformance.ovs_megaflow_at import packet_from_odp, run

FLOOR = 12      # of 12 in scope: port, L2, L3 (prefix trie), L4, resubmit, goto_table, move, push, dec_ttl, set dl_dst


def test_ofproto_dpif_megaflow_checks():
    report = run()
    assert report.tried == 12 and len(report.left_out) == 13
    assert "ofproto-dpif megaflow - L3 classification" not in report.left_out
    failing = [f"[{c.group}] {c.what}: {c.detail}" for c in report.checks if not c.ok]
    assert report.passed >= FLOOR, "\n".join(failing)


def test_the_runner_builds_only_what_it_models():
    port, frame = packet_from_odp("in_port(1),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x0800),"
                                  "ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)")
    assert port == 1 and frame.src.hex() == "505400000009" and frame.payload.ttl == 64
    assert packet_from_odp("in_port(1),eth(src=50:54:00:00:00:09,dst=50:54:00:00:00:0a),eth_type(0x8847),"
                           "mpls(label=11,tc=3,ttl=64,bos=1)") is None
