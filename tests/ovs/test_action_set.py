"""OpenFlow 1.1+ action sets (write_actions, clear_actions), translation limits and the
traces of ofproto/trace that tests/data/ovs/ofproto-dpif.at checks; the texts are Open
vSwitch 3.1's (tests/ovs/test_real_ovs.py's action-set case compares them with the real one)."""
from __future__ import annotations

import pytest

from netplex import Network
from netplex.ovs.actions import Act, execute_action_set, parse_actions
from tests.conftest import run_ok


def _switch(ports=(1, 10, 11, 12, 13)):
    node = Network().add_node("s1")
    node.run("ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure")
    for n in ports:
        node.run(f"ip link add p{n} type veth peer name q{n} && ip link set p{n} up && ip link set q{n} up && "
                 f"ovs-vsctl add-port br0 p{n} -- set interface p{n} ofport_request={n}")
    return node



def test_the_action_set_runs_in_the_spec_order_with_one_final_action():
    acts = parse_actions("output:2,set_field:10.0.0.1->ip_src,strip_vlan,group:3,dec_ttl,push_vlan:0x8100,"
                         "mod_dl_dst:00:00:00:00:00:01", lambda s: int(s) if s.isdigit() else None, of_version=4)
    assert [a.kind for a in execute_action_set(acts)] == ["strip_vlan", "push_vlan", "dec_ttl", "set_field",
                                                          "set_field", "group"]
    assert execute_action_set([Act("set_field", "ip_src", 1, "set_field")]) == []    # no final action: nothing


@pytest.mark.parametrize("actions, error", [
    ("goto_table:1,write_actions(output:1)",
     "invalid instruction ordering: write_actions must appear before goto_table, for OpenFlow 1.1+ compatibility"),
    ("write_actions(output:1),clear_actions",
     "invalid instruction ordering: clear_actions must appear before write_actions, for OpenFlow 1.1+ compatibility"),
    ("write_actions(goto_table:1)", "goto_table instruction not allowed here"),
    ("write_actions(output:1),write_actions(output:2)",
     "duplicate write_actions instruction not allowed, for OpenFlow 1.1+ compatibility"),
    ("clear_actions,output:1",
     "invalid instruction ordering: apply_actions must appear before clear_actions, for OpenFlow 1.1+ compatibility"),
    ("apply_actions(output:1)", "apply_actions is the default instruction"),
])
def test_instructions_out_of_order_are_refused_as_ovs_ofctl_does(actions, error):
    r = _switch(()).run(f"ovs-ofctl -O OpenFlow13 add-flow br0 'actions={actions}'")
    assert (r.status, r.error) == (1, f"ovs-ofctl: {error}\n")


def test_write_and_clear_actions_in_dump_flows_and_trace():
    node = _switch()
    for f in ("table=0 in_port=1,ip actions=output(10),write_actions(set_field:192.168.3.90->ip_src,output(12)),"
              "goto_table(1)", "table=1 ip actions=write_actions(output(13)),goto_table(2)",
              "table=2 ip actions=set_field:192.168.3.91->ip_src,output(11)"):
        assert node.run(f"ovs-ofctl -O OpenFlow12 add-flow br0 '{f}'").status == 0
    dump = node.run("ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0 table=0").output
    assert dump.strip().endswith("ip,in_port=1 actions=output:10,write_actions(set_field:192.168.3.90->ip_src,"
                                 "output:12),goto_table:1")
    # OpenFlow 1.0 carries no instructions: goto_table is a resubmit, write_actions is not there
    assert node.run("ovs-ofctl --no-stats dump-flows br0 table=0").output.strip().endswith(
        "ip,in_port=1 actions=output:10,resubmit(,1)")
    trace = node.run("ovs-appctl ofproto/trace br0 in_port=1,icmp,nw_src=192.168.0.1").output
    assert "     -> action set is: set_field:192.168.3.90->ip_src,output:13\n" in trace
    assert "--. Executing action set:\n    set_field:192.168.3.90->ip_src\n    output:13\n" in trace
    assert "Megaflow: recirc_id=0,eth,icmp,in_port=1,nw_src=192.168.0.1,nw_frag=no\n" in trace
    node.run("ovs-ofctl -O OpenFlow12 add-flow br0 'table=2,priority=40000,ip,actions=output(11),clear_actions'")
    trace = node.run("ovs-appctl ofproto/trace br0 in_port=1,icmp,nw_src=192.168.0.1").output
    assert "     -> action set was: set_field:192.168.3.90->ip_src,output:13\n" in trace
    assert "Executing action set" not in trace


def test_translation_limits_end_the_trace_as_ovs_does():
    node = _switch(())
    node.run("ovs-ofctl add-flow br0 actions=resubmit:1,resubmit:2,output:3")
    out = node.run("ovs-appctl -vpoll_loop:off ofproto/trace br0 eth_dst=ff:ff:ff:ff:ff:ff").output
    assert out.endswith("\nTranslation failed (Recursion too deep), packet is dropped.\n")
    assert out.count("over max translation depth 64") == 1
    node.run("ovs-ofctl del-flows br0")
    node.run("(for i in $(seq 1 64); do echo \"in_port=$i, actions=resubmit:$((i + 1)), resubmit:$((i + 1)), local\";"
             " done; echo 'in_port=65, actions=local') > /flows && ovs-ofctl add-flows br0 /flows")
    out = node.run("ovs-appctl ofproto/trace br0 in_port=1").output
    assert out.endswith("\nTranslation failed (Too many resubmits), packet is dropped.\n")
    # a pipeline going forward does not deepen: 100 resubmits to later tables end at LOCAL
    node.run("ovs-ofctl del-flows br0")
    node.run("(for i in $(seq 0 99); do echo \"table=$i, actions=resubmit(,$((i + 1)))\"; done;"
             " echo 'table=100, actions=local') > /flows && ovs-ofctl add-flows br0 /flows")
    out = node.run("ovs-appctl ofproto/trace br0 eth_dst=ff:ff:ff:ff:ff:ff").output
    assert "Translation failed" not in out and "Datapath actions: drop" not in out


def test_a_trace_without_in_port_comes_from_no_port_and_normal_floods():
    node = _switch((1, 2))
    node.run("ovs-ofctl add-flow br0 action=normal")
    out = node.run("ovs-appctl ofproto/trace br0 icmp,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:07").output
    assert out.startswith("Flow: icmp,in_port=ANY,")
    assert "     -> no learned MAC for destination, flooding\n" in out
    assert len(out.splitlines()[-1].split(": ")[1].split(",")) == 3     # p1, p2 and the bridge's own port


def test_ct_next_states_and_errors():
    node = _switch((1, 2))
    node.run("ovs-ofctl add-flow br0 'table=0,tcp,actions=ct(table=1)'")
    node.run("ovs-ofctl add-flow br0 'table=1,ct_state=+trk+est,tcp,actions=output:2'")
    out = node.run("ovs-appctl ofproto/trace br0 in_port=1,tcp --ct-next trk,est").output
    assert "recirc(0x1) - resume conntrack with ct_state=est|trk\n" in out
    r = node.run("ovs-appctl ofproto/trace br0 in_port=1,tcp --ct-next new,est")
    assert r.status == 2 and r.error.splitlines()[:2] == [
        'new|est: invalid connection state: If "trk" is unset, no other flags are set',
        'new|est: invalid connection state: "new" and "est" are mutually exclusive']
    r = node.run("ovs-appctl ofproto/trace br0 in_port=1,tcp --ct-next")
    assert r.error.splitlines()[0] == "Missing argument for option --ct-next"


def test_write_and_clear_actions_over_openflow():
    """A controller's FLOW_MOD may carry CLEAR_ACTIONS and WRITE_ACTIONS (ofpacts_pull_openflow_
    instructions); an action set cannot hold an output to the controller (OFPBAC_BAD_TYPE)."""
    from netplex.ovs.actions import format_actions
    from netplex.ovs.connmgr import of_action_list, of_action_set, of_acts
    from netplex.ovs.openflow import FlowModMsg

    sent = FlowModMsg(0, {}, acts=[("output", 10, 0)], write=[("set_field", 11, 0x0A000001), ("output", 12, 0)],
                      clear=True, goto_table=1)
    got = FlowModMsg.decode(sent.encode(1)[8:])
    assert (got.order, got.error) == (("apply", "clear", "write", "goto"), None)
    acts = of_acts(got.acts, got.goto_table, got.metadata, got.meter, got.write, got.clear)
    assert format_actions(acts, True) == "output:10,clear_actions,write_actions(set_field:10.0.0.1->ip_src,output:12)," \
                                         "goto_table:1"
    # the flow statistics give them back
    assert of_action_list(acts) == ([("output", 10, 0)], 1, None)
    assert of_action_set(acts) == ([("set_field", 11, 0x0A000001), ("output", 12, 0)], True)
    refused = FlowModMsg.decode(FlowModMsg(0, {}, write=[("output", 0xFFFFFFFD, 0xFFFF)]).encode(1)[8:])
    assert refused.error == (2, 0)


def test_an_action_set_at_a_conntrack_recirculation_aborts_ovs_vswitchd(ovs_lab):
    """compose_recirculate_and_fork freezes the action set with no actions after it, which
    recirc_alloc_id__ asserts against: Open vSwitch 3.1 (and main) abort there, in a trace as
    for a packet (tests/ovs/test_real_ovs.py's action-set-ct case checks the trace on the real
    switch). Without an action set the recirculation works."""
    _net, s1, h1, _h2 = ovs_lab
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,ip,actions=ct(table=1)'")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=1,actions=NORMAL'")
    assert h1.run("ping -c1 -W1 10.0.0.2").status == 0
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,ip,actions=ct(table=1)'")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,priority=40000,ip,actions=write_actions(NORMAL),"
               "goto_table:2'")
    # a packet that misses the datapath's flows makes the upcall that aborts the daemon
    run_ok(s1, "ovs-appctl dpctl/del-flows")
    assert h1.run("ping -c1 -W1 10.0.0.2").status == 1
    assert s1.run("pidof ovs-vswitchd").status == 1
    r = s1.run("ovs-appctl ofproto/trace br0 in_port=1,icmp")
    assert r.status == 1 and "ovs-vswitchd" in r.error


def test_ofproto_trace_of_an_action_set_at_a_recirculation_is_the_daemon_s_end():
    node = _switch((1, 2, 3))
    run_ok(node, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,tcp,actions=write_actions(output:3),"
                 "goto_table:2'")
    node.run("ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,in_port=2,tcp,actions=ct(table=3)'")
    r = node.run("ovs-appctl ofproto/trace br0 in_port=2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2")
    assert (r.status, r.output, r.error) == (1, "", "ovs-appctl: ovs-vswitchd: transaction error (End of file)\n")
    assert node.run("pidof ovs-vswitchd").status == 1


def test_an_output_in_the_action_set_changes_the_final_flow():
    """The action set's output is the flow's actset_output (xlate_write_actions__), which the
    trace's Final flow compares though it does not print it; a group in the set must exist."""
    node = _switch((1, 2, 3))
    run_ok(node, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,tcp,actions=write_actions(output:3),"
                 "goto_table:2'")
    out = node.run("ovs-appctl ofproto/trace br0 in_port=2,tcp").output
    assert "Final flow: tcp,in_port=2," in out
    run_ok(node, "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,in_port=2,tcp,actions=clear_actions'")
    assert "Final flow: unchanged\n" in node.run("ovs-appctl ofproto/trace br0 in_port=2,tcp").output
    r = node.run("ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,tcp,actions=write_actions(output:1,group:5)'")
    assert r.status == 1 and r.error.startswith("OFPT_ERROR (OF1.3) (xid=0x6): OFPBAC_BAD_OUT_GROUP\n")


PATCH_TRACE = """\
bridge("br0")
-------------
 0. in_port=1, priority 32768
    write_actions(output:2)
     -> action set is: output:2
    goto_table:1
     1. priority 32768
            output:4

        bridge("br1")
        -------------
         0. priority 32768
            write_actions(output:2)
             -> action set is: output:2
            goto_table:1
             1. priority 32768
                    goto_table:2
                 2. reg0=0x2, priority 0
                    drop
        --. Executing action set:
            output:2
--. Executing action set:
    output:2
"""


def test_a_patch_port_s_peer_bridge_nests_as_ovs_prints_it():
    """oftrace_node_print_details: the peer bridge is listed beside its output action (a blank
    line before it; a level out when nothing follows it in its table), its goto_table chain is
    nested as the first bridge's, and its table miss shows as the peer's hidden no_packet_in
    rule (xlate_report_table knows the first bridge's only). The real ovs-vswitchd 3.1's lines
    (tests/ovs/test_real_ovs.py's patch-trace case)."""
    node = _switch((1, 2, 3))
    run_ok(node, "ovs-vsctl add-br br1 -- set bridge br1 fail-mode=secure -- add-port br0 pa -- set interface pa "
                 "type=patch options:peer=pb ofport_request=4 -- add-port br1 pb -- set interface pb type=patch "
                 "options:peer=pa -- add-port br1 i1 -- set interface i1 type=internal ofport_request=2")
    for br, f in (("br0", "table=0,in_port=1,actions=write_actions(output:2),goto_table:1"),
                  ("br0", "table=1,actions=output:pa"),
                  ("br1", "table=0,actions=write_actions(output:i1),goto_table:1"),
                  ("br1", "table=1,actions=goto_table:2")):
        run_ok(node, f"ovs-ofctl -O OpenFlow13 add-flow {br} '{f}'")
    out = node.run("ovs-appctl ofproto/trace br0 in_port=1,icmp").output
    assert PATCH_TRACE in out


def test_push_and_pop_and_a_stack_too_deep():
    """push/pop (nxm_execute_stack_push/pop) and xlate_resubmit_resource_check's 64 kB stack
    limit: each push costs the value's bytes and a length byte (ofproto-dpif.at's `stack too
    deep` group runs in docs/conformance-ovs.md's peer suite)."""
    node = _switch((1, 2))
    run_ok(node, "ovs-ofctl add-flow br0 'in_port=1,actions=load:0x5->NXM_NX_REG1[],push:NXM_NX_REG1[],"
                 "load:0x7->NXM_NX_REG1[],pop:NXM_NX_REG2[0..15],pop:reg3,output:2'")
    out = node.run("ovs-appctl ofproto/trace br0 in_port=1,icmp").output
    assert "    pop:NXM_NX_REG2[0..15]\n     -> NXM_NX_REG2[0..15] is now 0x5\n    pop:NXM_NX_REG3[]\n" \
           "     >>>> stack underflow <<<<\n" in out
    r = node.run("ovs-ofctl add-flow br0 'actions=push:NXM_NX_REG0[]x'")
    assert (r.status, r.error) == (1, "ovs-ofctl: x: trailing garbage following push or pop\n")
    run_ok(node, "ovs-ofctl del-flows br0")
    flows = "".join(f"in_port={i},actions=resubmit:{i + 1},resubmit:{i + 1},local\n" for i in range(1, 13))
    node.run(f"cat > flows <<'EOF'\n{flows}in_port=13,actions={','.join(['push:NXM_NX_REG0[]'] * 8)}\nEOF")
    run_ok(node, "ovs-ofctl add-flows br0 flows")
    out = node.run("ovs-appctl ofproto/trace br0 in_port=1").output
    assert out.endswith("Translation failed (Stack too deep), packet is dropped.\n")
    assert out.count("resubmits yielded over 64 kB of stack") == 1
