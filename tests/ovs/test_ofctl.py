"""ovs-ofctl flow tables as users drive them; the expected dump-flows lines were printed by
Debian's ovs-ofctl 3.1 for the same flows (durations are 0.000s here: no simulated time passed)."""
from __future__ import annotations

import re

import pytest

from netplex import Network
from tests.conftest import run_ok
from tests.ovs.conftest import pings

FLOWS = [
    "table=0,priority=100,ct_state=-trk,tcp,actions=ct(table=1)",
    "in_port=p1,dl_src=00:11:22:33:44:55,dl_type=0x0800,nw_src=10.0.0.0/24,nw_dst=10.0.0.2,"
    "actions=mod_vlan_vid:5,output:p2",
    "priority=200,udp,tp_dst=53,idle_timeout=30,hard_timeout=60,cookie=0x12,actions=drop",
    "arp,actions=FLOOD",
    "icmp,dl_vlan=10,actions=strip_vlan,NORMAL",
    "table=1,ip,nw_proto=6,actions=set_field:10.1.1.1->nw_dst,mod_dl_src:00:00:00:00:00:01,resubmit(,2),goto_table:3",
    "table=1,tcp,tp_src=0x100/0xff00,actions=ct(commit,zone=5,nat(src=1.2.3.4)),controller",
    "table=2,vlan_tci=0x1000/0x1000,actions=output:1,mod_nw_tos:16,mod_tp_dst:80,load:0x1->NXM_NX_REG0[],"
    "resubmit(p1,2)",
    "tp_dst=80,actions=drop",
]

NO_STATS = """\
 ip,in_port=1,dl_src=00:11:22:33:44:55,nw_src=10.0.0.0/24,nw_dst=10.0.0.2 actions=mod_vlan_vid:5,output:2
 arp actions=FLOOD
 icmp,dl_vlan=10 actions=strip_vlan,NORMAL
 actions=drop
 cookie=0x12, idle_timeout=30, hard_timeout=60, priority=200,udp,tp_dst=53 actions=drop
 priority=100,ct_state=-trk,tcp actions=ct(table=1)
 priority=0 actions=NORMAL
 table=1, tcp actions=mod_nw_dst:10.1.1.1,mod_dl_src:00:00:00:00:00:01,resubmit(,2),resubmit(,3)
 table=1, tcp,tp_src=0x100/0xff00 actions=ct(commit,zone=5,nat(src=1.2.3.4)),CONTROLLER:65535
 table=2, vlan_tci=0x1000/0x1000 actions=output:1,mod_nw_tos:16,mod_tp_dst:80,load:0x1->NXM_NX_REG0[],resubmit(1,2)
"""

OF13 = """\
OFPST_FLOW reply (OF1.3) (xid=0x2):
 cookie=0x0, duration=0.000s, table=0, n_packets=0, n_bytes=0, reset_counts ip,in_port=1,dl_src=00:11:22:33:44:55,\
nw_src=10.0.0.0/24,nw_dst=10.0.0.2 actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:2
 cookie=0x0, duration=0.000s, table=0, n_packets=0, n_bytes=0, reset_counts arp actions=FLOOD
 cookie=0x0, duration=0.000s, table=0, n_packets=0, n_bytes=0, reset_counts icmp,dl_vlan=10 actions=pop_vlan,NORMAL
 cookie=0x0, duration=0.000s, table=0, n_packets=0, n_bytes=0, reset_counts actions=drop
 cookie=0x12, duration=0.000s, table=0, n_packets=0, n_bytes=0, idle_timeout=30, hard_timeout=60, reset_counts \
priority=200,udp,tp_dst=53 actions=drop
 cookie=0x0, duration=0.000s, table=0, n_packets=0, n_bytes=0, reset_counts priority=100,ct_state=-trk,tcp \
actions=ct(table=1)
 cookie=0x0, duration=0.000s, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL
 cookie=0x0, duration=0.000s, table=1, n_packets=0, n_bytes=0, reset_counts tcp actions=set_field:10.1.1.1->ip_dst,\
set_field:00:00:00:00:00:01->eth_src,resubmit(,2),resubmit(,3)
 cookie=0x0, duration=0.000s, table=1, n_packets=0, n_bytes=0, reset_counts tcp,tp_src=0x100/0xff00 \
actions=ct(commit,zone=5,nat(src=1.2.3.4)),CONTROLLER:65535
 cookie=0x0, duration=0.000s, table=2, n_packets=0, n_bytes=0, reset_counts vlan_tci=0x1000/0x1000 \
actions=output:1,set_field:4->ip_dscp,mod_tp_dst:80,load:0x1->NXM_NX_REG0[],resubmit(1,2)
"""


def test_dump_flows_prints_what_ovs_ofctl_prints(ovs_lab):
    _net, s1, _h1, _h2 = ovs_lab
    for f in FLOWS:
        run_ok(s1, f"ovs-ofctl add-flow br0 '{f}'")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == NO_STATS
    assert run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0") == OF13
    stats = run_ok(s1, "ovs-ofctl dump-flows br0").splitlines()
    assert stats[0] == "NXST_FLOW reply (xid=0x4):"
    assert stats[5] == (" cookie=0x12, duration=0.000s, table=0, n_packets=0, n_bytes=0, idle_timeout=30, "
                        "hard_timeout=60, idle_age=0, priority=200,udp,tp_dst=53 actions=drop")


@pytest.mark.parametrize(("flow", "error"), [
    ("foo=1,actions=drop", "unknown keyword foo"),
    ("tcp,actions=bar", "unknown action bar"),
    ("in_port=nope,actions=drop", "nope: invalid or unknown port for in_port"),
    ("priority=70000,actions=drop", 'invalid priority "70000"'),
    ("dl_src=zz,actions=drop", "zz: invalid Ethernet address"),
    ("tcp,tp_dst=99999,actions=drop", "99999: value too large for 2-byte field tcp_dst"),
    ("actions=output:p9", "p9: output to unknown port"),
    ("ip", "must specify an action"),
    ("ip,nw_proto=abc,actions=drop", "abc: bad syntax for nw_proto value"),
    ("ct_state=+foo,actions=drop", "foo: unknown ct_state flag(s)"),
    ("ip,nw_src=1.2.3,actions=drop", "1.2.3: invalid IP address"),
    ("actions=mod_vlan_vid:5000", "5000: not a valid VLAN VID"),
    ("idle_timeout=x,actions=drop", 'invalid idle_timeout "x"'),
    ("actions=drop,output:1", '"drop" must not be accompanied by any other action or instruction'),
    ("actions=goto_table:1,output:1", "invalid instruction ordering: apply_actions must appear before goto_table, "
                                      "for OpenFlow 1.1+ compatibility"),
    ("table=1,actions=goto_table:1", "actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)"),
])
def test_bad_flows_get_ovs_ofctls_error_and_change_nothing(ovs_lab, flow, error):
    _net, s1, _h1, _h2 = ovs_lab
    before = run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats")
    r = s1.run(f"ovs-ofctl add-flow br0 '{flow}'")
    assert (r.status, r.error) == (1, f"ovs-ofctl: {error}\n")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == before


def test_prerequisites_missing_drop_the_field_and_masks_apply(ovs_lab):
    _net, s1, _h1, _h2 = ovs_lab
    run_ok(s1, "ovs-ofctl del-flows br0")
    for f in ("ct_state=+trk,tp_dst=80,actions=drop", "reg0=5,actions=output:9",
              "ip,nw_src=1.2.3.4/255.0.255.0,actions=drop"):
        run_ok(s1, f"ovs-ofctl add-flow br0 '{f}'")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == (
        " ct_state=+trk actions=drop\n reg0=0x5 actions=output:9\n ip,nw_src=1.0.3.0/255.0.255.0 actions=drop\n")


def test_mod_and_del_flows_loose_and_strict(ovs_lab):
    net, s1, _h1, _h2 = ovs_lab
    run_ok(s1, "ovs-ofctl del-flows br0")
    run_ok(s1, "ovs-ofctl mod-flows br0 'ip,actions=output:1'")          # OpenFlow 1.0: a modify that matches nothing adds
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=5,ip,actions=output:2'")
    net.run_for(1_200_000_000)
    run_ok(s1, "ovs-ofctl mod-flows br0 'ip,actions=output:1'")
    assert run_ok(s1, "ovs-ofctl dump-flows br0") == (
        "NXST_FLOW reply (xid=0x4):\n"
        " cookie=0x0, duration=1.200s, table=0, n_packets=0, n_bytes=0, idle_age=1, hard_age=0, ip actions=output:1\n"
        " cookie=0x0, duration=1.200s, table=0, n_packets=0, n_bytes=0, idle_age=1, hard_age=0, priority=5,ip "
        "actions=output:1\n")
    r = s1.run("ovs-ofctl del-flows br0 --strict 'ip,actions=drop'")
    assert (r.status, r.error) == (1, "ovs-ofctl: unknown keyword actions\n")
    run_ok(s1, "ovs-ofctl --strict del-flows br0 'priority=5,ip'")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == " ip actions=output:1\n"
    run_ok(s1, "ovs-ofctl del-flows br0 'ip'")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == ""


def test_flows_decide_the_packets(ovs_lab):
    net, s1, h1, h2 = ovs_lab
    assert pings(h1, "10.0.0.2")
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=100,icmp,actions=drop'")
    assert not pings(h1, "10.0.0.2")
    counted = run_ok(s1, "ovs-ofctl dump-flows br0 icmp").splitlines()[1]
    assert "n_packets=1, n_bytes=98," in counted
    run_ok(s1, "ovs-ofctl del-flows br0 icmp")
    assert pings(h1, "10.0.0.2")
    # port-based forwarding with no learning switch at all
    run_ok(s1, "ovs-ofctl del-flows br0 && ovs-ofctl add-flow br0 in_port=p1,actions=output:p2 "
               "&& ovs-ofctl add-flow br0 in_port=p2,actions=output:p1")
    run_ok(s1, "ovs-appctl fdb/flush br0")
    assert pings(h1, "10.0.0.2")
    assert run_ok(s1, "ovs-appctl fdb/show br0") == " port  VLAN  MAC                Age\n"
    # idle timeouts run in simulated time
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=40000,icmp,idle_timeout=5,actions=drop'")
    assert not pings(h1, "10.0.0.2")
    net.run_for(6_000_000_000)
    assert pings(h1, "10.0.0.2")


def test_a_resubmit_pipeline_and_a_stateful_firewall(ovs_lab):
    """The issue's ct-based firewall: h1 may open connections to h2, not the reverse."""
    _net, s1, h1, h2 = ovs_lab
    flows = """\
table=0,priority=10,arp,actions=NORMAL
table=0,priority=100,ip,ct_state=-trk,actions=ct(table=1)
table=1,priority=100,ip,in_port=p1,ct_state=+trk+new,actions=ct(commit),NORMAL
table=1,priority=100,ip,ct_state=+trk+est,actions=NORMAL
table=1,priority=1,actions=drop
"""
    s1.machine.fs.write("/tmp/fw.flows", flows.encode())
    run_ok(s1, "ovs-ofctl del-flows br0 && ovs-ofctl add-flows br0 /tmp/fw.flows")
    assert not pings(h2, "10.0.0.1")
    assert pings(h1, "10.0.0.2")
    lines = run_ok(s1, "ovs-ofctl dump-flows br0 table=1").splitlines()
    # the new connection from h1 committed, h2's answer established, h2's own attempt dropped
    assert ["n_packets=1," in line for line in lines[1:]] == [True, True, True]


def test_learn_and_move_make_a_learning_switch(ovs_lab):
    """learn (lib/learn.c) as a packet executes it: flows learned into table 10 in simulated
    time, an identical one refreshed (its hard timeout starts again), `limit` and `result_dst`;
    move copies bits between subfields. What the real ovs-vswitchd does with the same flows is
    compared in test_real_ovs.py's learn-move case."""
    net, s1, h1, h2 = ovs_lab
    run_ok(s1, "ovs-vsctl set-fail-mode br0 secure && ovs-ofctl del-flows br0")
    run_ok(s1, "ovs-ofctl add-flow br0 'actions=learn(table=10,hard_timeout=10,priority=10,"
               "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,10)'")
    run_ok(s1, "ovs-ofctl add-flow br0 table=10,priority=0,actions=FLOOD")
    assert pings(h1, "10.0.0.2")
    mac1 = run_ok(h1, "cat /sys/class/net/eth0/address").strip()
    learned = run_ok(s1, "ovs-ofctl dump-flows br0 table=10 --no-stats").splitlines()
    assert f" table=10, hard_timeout=10, priority=10,dl_dst={mac1} actions=output:1" in learned
    assert len(learned) == 3
    # every packet relearns: the hard timeout of a flow still in use keeps starting again
    for _ in range(3):
        net.run_for(6_000_000_000)
        assert pings(h1, "10.0.0.2")
    assert len(run_ok(s1, "ovs-ofctl dump-flows br0 table=10 --no-stats").splitlines()) == 3
    net.run_for(11_000_000_000)          # quiet for longer than the hard timeout: they go
    assert run_ok(s1, "ovs-ofctl dump-flows br0 table=10 --no-stats") == " table=10, priority=0 actions=FLOOD\n"
    # limit: one flow with this cookie at most; result_dst says whether this packet's was learned
    run_ok(s1, "ovs-ofctl del-flows br0 && ovs-ofctl add-flow br0 table=10,priority=0,actions=FLOOD")
    run_ok(s1, "ovs-ofctl add-flow br0 'actions=learn(table=20,limit=1,cookie=0x7,result_dst=reg0[0],"
               "NXM_OF_ETH_SRC[]),move:NXM_NX_REG0[0]->NXM_NX_REG1[4],resubmit(,10)'")
    assert pings(h1, "10.0.0.2")
    assert len(run_ok(s1, "ovs-ofctl dump-flows br0 table=20 --no-stats").splitlines()) == 1
    trace = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=p2,dl_src=00:00:00:00:00:99")
    assert "     >> suppressing side effects, so learn action ignored\n" in trace
    assert "     -> NXM_NX_REG1[4] is now 0\n" in trace


def test_move_rewrites_the_packet(ovs_lab):
    """move between the packet's fields and registers: the trace reports each destination, the
    datapath commits the moved fields (set(ipv4(...)))."""
    _net, s1, _h1, _h2 = ovs_lab
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=100,icmp,in_port=p1,nw_dst=10.0.0.9,actions="
               "move:NXM_OF_IP_DST[]->NXM_NX_REG0[],move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],"
               "move:NXM_NX_REG0[]->NXM_OF_IP_SRC[],output:p2'")
    trace = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=p1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.9")
    assert "     -> NXM_NX_REG0[] is now 0xa000009\n" in trace
    assert "     -> NXM_OF_IP_DST[] is now 10.0.0.1\n" in trace
    assert "Datapath actions: set(ipv4(src=10.0.0.9,dst=10.0.0.1)),3\n" in trace
    r = s1.run("ovs-ofctl add-flow br0 'actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG0[0..15]'")
    assert (r.status, r.error) == (1, "ovs-ofctl: actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)\n")
    r = s1.run("ovs-ofctl add-flow br0 'actions=move:NXM_NX_REG0[0..3]->NXM_OF_IN_PORT[0..4]'")
    assert r.status == 1 and "source field is 4 bits wide but destination is 5 bits wide" in r.error


def test_ovs_dpctl_refuses_what_it_does_not_model():
    """ovs-dpctl dump-flows/del-flows/show are done (tests/ovs/test_dpctl.py); the rest is refused."""
    r = Network().add_node("s1").run("ovs-dpctl add-dp foo")
    assert (r.status, r.output) == (2, "")
    assert r.error == "netplex: ovs-dpctl add-dp is not supported\n"


def test_mod_port_up_and_down():
    """`ovs-ofctl mod-port` turns the port's device down and up (OFPPC_PORT_DOWN); its errors
    are the real ovs-ofctl 3.1's (checked on the twin: tests/ovs/test_ofapp.py's scenario)."""
    net = Network()
    s1, h1 = net.add_node("s1"), net.add_node("h1")
    net.add_link("s1:p1", "h1:eth0")
    run_ok(h1, "ip link set eth0 up")
    run_ok(s1, "ip link set p1 up && ovs-vsctl add-br br0 -- add-port br0 p1")
    run_ok(s1, "ovs-ofctl mod-port br0 1 down")
    assert re.search(r" 1\(p1\): addr:\S+\n     config:     PORT_DOWN\n     state:      LINK_DOWN\n",
                     run_ok(s1, "ovs-ofctl show br0"))
    assert "state DOWN" in run_ok(s1, "ip link show p1")
    run_ok(s1, "ovs-ofctl mod-port br0 p1 up")
    assert re.search(r" 1\(p1\): addr:\S+\n     config:     0\n     state:      0\n", run_ok(s1, "ovs-ofctl show br0"))
    for line, err in [("mod-port br0 p9 down", "ovs-ofctl: br0: couldn't find port `p9'\n"),
                      ("mod-port br0 p1 foo", "ovs-ofctl: unknown mod-port command 'foo'\n"),
                      ("mod-port br0 p1", "ovs-ofctl: 'mod-port' command requires at least 3 arguments\n"),
                      ("mod-port br9 p1 down", "ovs-ofctl: br9 is not a bridge or a socket\n")]:
        r = s1.run(f"ovs-ofctl {line}")
        assert (r.status, r.error) == (1, err), line
    r = s1.run("ovs-ofctl mod-port br0 p1 no-flood")
    assert (r.status, r.error) == (2, "netplex: ovs-ofctl mod-port no-flood is not supported\n")


def test_a_rule_added_over_openflow13_keeps_set_field_spelling():
    """ovs-ofctl sends mod_tp_src, mod_nw_tos, mod_vlan_vid/pcp and set_tunnel over OpenFlow 1.2+ as
    set_field (one push_vlan for the untagged packet); the switch keeps them so, and a trace and
    an OpenFlow 1.0 dump show what they decode to (the real ovs-vswitchd 3.1's lines:
    tests/ovs/test_real_ovs.py's of12-spelling case)."""
    node = Network().add_node("s1")
    run_ok(node, "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure")
    run_ok(node, "ovs-ofctl -O OpenFlow13 add-flow br0 'tcp,actions=mod_tp_src:5,mod_nw_tos:16,mod_vlan_vid:5,"
                 "mod_vlan_pcp:3,set_tunnel:0x5'")
    run_ok(node, "ovs-ofctl -O OpenFlow13 add-flow br0 'udp,dl_vlan=7,actions=mod_tp_dst:6,strip_vlan'")
    of13 = "set_field:5->tcp_src,set_field:4->ip_dscp,push_vlan:0x8100,set_field:4101->vlan_vid," \
           "set_field:3->vlan_pcp,set_field:0x5->tun_id"
    assert f" tcp actions={of13}\n" in node.run("ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0").output
    of10 = node.run("ovs-ofctl --no-stats dump-flows br0").output
    assert " tcp actions=mod_tp_src:5,mod_nw_tos:16,mod_vlan_vid:5,mod_vlan_pcp:3,load:0x5->NXM_NX_TUN_ID[]\n" in of10
    assert " udp,dl_vlan=7 actions=mod_tp_dst:6,strip_vlan\n" in of10
    trace = node.run("ovs-appctl ofproto/trace br0 tcp,in_port=LOCAL").output
    assert "".join(f"    {a}\n" for a in of13.split(",")) in trace
    trace = node.run("ovs-appctl ofproto/trace br0 udp,dl_vlan=7,in_port=LOCAL").output
    assert "    set_field:6->udp_dst\n    pop_vlan\n" in trace
    # OpenFlow 1.0 pushes a tag only as mod_vlan_vid's side effect
    r = node.run("ovs-ofctl add-flow br0 'icmp,actions=push_vlan:0x8100,mod_vlan_vid:5'")
    assert (r.status, r.error) == (1, "ovs-ofctl: none of the usable flow formats (OXM,OpenFlow11) is among the "
                                      "allowed flow formats (OpenFlow10,NXM)\n")


@pytest.mark.parametrize("flow, version, error", [
    # ofpact_check__: a set_field's field needs its prerequisites in the match, in an action set too
    ("table=2,actions=set_field:10.0.0.9->ip_src", "OpenFlow13",
     "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)"),
    ("table=2,udp,actions=set_field:9->tcp_src", "OpenFlow13",
     "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)"),
    ("actions=write_actions(set_field:10.0.0.9->ip_src)", "OpenFlow13",
     "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)"),
    # a legacy action on a match that is not IP/TCP: only OpenFlow 1.0 carries it (inconsistent_match)
    ("table=2,actions=mod_nw_src:10.0.0.9", "OpenFlow13", "none of the usable flow formats "
     "(OpenFlow10+table_id,NXM+table_id) is among the allowed flow formats (OXM-OpenFlow13)"),
    ("ip,actions=mod_tp_src:9", "OpenFlow13",
     "none of the usable flow formats (OpenFlow10,NXM) is among the allowed flow formats (OXM-OpenFlow13)"),
    ("icmp,actions=push_vlan:0x8100,mod_vlan_vid:5", "OpenFlow10",
     "none of the usable flow formats (OXM,OpenFlow11) is among the allowed flow formats (OpenFlow10,NXM)"),
])
def test_actions_the_match_or_protocol_cannot_carry_are_refused(flow, version, error):
    """The real ovs-ofctl 3.1's texts (tests/ovs/test_real_ovs.py's of12-spelling case)."""
    node = Network().add_node("s1")
    run_ok(node, "ovs-vsctl add-br br0")
    r = node.run(f"ovs-ofctl -O {version} add-flow br0 '{flow}'")
    assert (r.status, r.error) == (1, f"ovs-ofctl: {error}\n")
    assert node.run("ovs-ofctl dump-flows br0 --no-stats").output == " priority=0 actions=NORMAL\n"
