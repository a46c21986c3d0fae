"""The OVS datapath and NORMAL as users meet them: ping through a bridge, VLAN access and
trunk ports, fdb/show and ageing, the kernel's view (`ip link`), and ofproto/trace —
the trace texts are what Debian's ovs-vswitchd 3.1 printed for the same bridge and flows."""
from __future__ import annotations

from netplex import Network
from tests.conftest import run_ok
from tests.ovs.conftest import pings, three_hosts


def test_normal_is_a_learning_switch_with_ageing(ovs_lab):
    net, s1, h1, h2 = ovs_lab
    assert pings(h1, "10.0.0.2")
    fdb = run_ok(s1, "ovs-appctl fdb/show br0").splitlines()
    assert fdb[0] == " port  VLAN  MAC                Age"
    macs = {run_ok(h, "cat /sys/class/net/eth0/address").strip(): port for h, port in ((h1, 1), (h2, 2))}
    rows = {line.split()[2]: (int(line.split()[0]), int(line.split()[1])) for line in fdb[1:]}
    assert rows == {mac: (port, 0) for mac, port in macs.items()}
    run_ok(h1, "ip link set eth0 down")   # quiet hosts: no neighbour probe refreshes the entries
    run_ok(h2, "ip link set eth0 down")
    net.run_for(299_000_000_000)
    assert len(run_ok(s1, "ovs-appctl fdb/show br0").splitlines()) == 3
    net.run_for(5_000_000_000)      # 300 s without traffic: gone
    assert run_ok(s1, "ovs-appctl fdb/show br0") == " port  VLAN  MAC                Age\n"
    assert run_ok(s1, "ovs-appctl fdb/flush br0") == "table successfully flushed\n"


def test_access_ports_separate_vlans_and_a_trunk_carries_tags():
    _net, s1, hosts = three_hosts("ovs-vsctl add-br br0 -- add-port br0 p1 tag=10 -- add-port br0 p2 tag=20 -- "
                                  "add-port br0 p3 tag=10")
    h1, h2, h3 = hosts
    assert pings(h1, "10.0.0.3")
    assert not pings(h1, "10.0.0.2")
    run_ok(s1, "ovs-vsctl set port p2 tag=10")
    assert pings(h1, "10.0.0.2")
    # p3 a trunk: h3 now needs a VLAN 10 sub-interface
    run_ok(s1, "ovs-vsctl clear port p3 tag -- set port p3 trunks=10")
    assert not pings(h1, "10.0.0.3")
    run_ok(h3, "ip addr flush dev eth0 && ip link add link eth0 name eth0.10 type vlan id 10 && "
               "ip addr add 10.0.0.3/24 dev eth0.10 && ip link set eth0.10 up")
    assert pings(h1, "10.0.0.3")
    vlans = {line.split()[1] for line in run_ok(s1, "ovs-appctl fdb/show br0").splitlines()[1:]}
    assert vlans == {"10"}


def test_the_kernel_sees_ovs_system_and_the_bridge_device(ovs_lab):
    _net, s1, _h1, _h2 = ovs_lab
    links = run_ok(s1, "ip -o link show")
    assert "master ovs-system" in run_ok(s1, "ip link show p1")
    assert ": ovs-system: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN" in links
    assert ": br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN" in links
    r = s1.run("ip link del br0")
    assert (r.status, r.error) == (2, "RTNETLINK answers: Operation not supported\n")
    # the bridge's own port carries the host's IP traffic once it is up
    run_ok(s1, "ip addr add 10.0.0.254/24 dev br0 && ip link set br0 up")
    assert pings(s1, "10.0.0.1")
    run_ok(s1, "ovs-vsctl del-port br0 p1")
    assert "master" not in run_ok(s1, "ip link show p1")
    run_ok(s1, "ovs-vsctl del-br br0")
    assert "br0" not in run_ok(s1, "ip -o link show")


def _trace_lab():
    net = Network()
    s = net.add_node("s1")
    run_ok(s, "ip link add p1 type veth peer name p1b && ip link add p2 type veth peer name p2b && "
              "ip link set p1 up && ip link set p2 up")
    run_ok(s, "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10 -- add-port br0 p2 -- set port p2 trunks=10,20 "
              "vlan_mode=trunk")
    return s


def test_trace_of_normal_flooding_and_of_a_disallowed_vlan():
    s = _trace_lab()
    assert run_ok(s, "ovs-appctl ofproto/trace br0 in_port=p1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02") == """\
Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000

bridge("br0")
-------------
 0. priority 0
    NORMAL
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000
Datapath actions: push_vlan(vid=10,pcp=0),1,3
"""
    assert run_ok(s, "ovs-appctl ofproto/trace br0 in_port=p2,dl_vlan=30") == """\
Flow: in_port=2,dl_vlan=30,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,\
dl_type=0x0000

bridge("br0")
-------------
 0. priority 0
    NORMAL
     >>>> dropping VLAN 30 packet received on port p2 not configured for trunking VLAN 30 <<<<
     >> disallowed VLAN VID for this input port, dropping

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_vlan=30,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: drop
"""


def test_trace_of_a_table_pipeline():
    s = _trace_lab()
    run_ok(s, "ovs-ofctl add-flow br0 'priority=100,tcp,actions=resubmit(,1)'")
    run_ok(s, "ovs-ofctl add-flow br0 'table=1,priority=10,tcp,tp_dst=22,actions=mod_vlan_vid:7,output:2'")
    out = run_ok(s, "ovs-appctl ofproto/trace br0 in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=22")
    assert out == """\
Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=10.0.0.1,\
nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=22,tcp_flags=0

bridge("br0")
-------------
 0. tcp, priority 100
    resubmit(,1)
 1. tcp,tp_dst=22, priority 10
    mod_vlan_vid:7
    output:2

Final flow: tcp,in_port=1,dl_vlan=7,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,\
dl_dst=00:00:00:00:00:00,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,\
tp_dst=22,tcp_flags=0
Megaflow: recirc_id=0,eth,tcp,in_port=1,nw_frag=no,tp_dst=22
Datapath actions: push_vlan(vid=7,pcp=0),3
"""
    out = run_ok(s, "ovs-appctl ofproto/trace br0 in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=23")
    assert "\n 1. No match.\n    drop\n\nFinal flow: unchanged\n" in out and out.endswith("Datapath actions: drop\n")


def test_trace_of_nested_resubmits_and_rewrites():
    s = _trace_lab()
    run_ok(s, "ovs-ofctl del-flows br0")
    run_ok(s, "ovs-ofctl add-flow br0 'actions=resubmit(,1),output:2'")
    run_ok(s, "ovs-ofctl add-flow br0 'table=1,actions=resubmit(,2),output:1'")
    run_ok(s, "ovs-ofctl add-flow br0 'table=2,actions=NORMAL,output:LOCAL'")
    out = run_ok(s, "ovs-appctl ofproto/trace br0 in_port=p2,dl_dst=00:00:00:00:00:02")
    body = out.split("-------------\n")[1].split("\nFinal flow")[0]
    assert body == """\
 0. priority 32768
    resubmit(,1)
     1. priority 32768
            resubmit(,2)
             2. priority 32768
                    NORMAL
                     >>>> dropping VLAN 0 packet received on port p2 not configured for trunking VLAN 0 <<<<
                     >> disallowed VLAN VID for this input port, dropping
                    LOCAL
            output:1
    output:2
     >> skipping output to input port
"""
    assert out.endswith("Datapath actions: 1,2\n")
    run_ok(s, "ovs-ofctl add-flow br0 'priority=40000,ip,actions=mod_dl_src:00:00:00:00:00:09,mod_nw_dst:1.1.1.1,"
              "mod_tp_dst:99,output:1,dec_ttl,output:2'")
    out = run_ok(s, "ovs-appctl ofproto/trace br0 in_port=p1,tcp,nw_ttl=64")
    assert "    output:1\n     >> skipping output to input port\n    dec_ttl\n    output:2\n" in out
    assert out.endswith("Datapath actions: set(eth(src=00:00:00:00:00:09)),set(ipv4(dst=1.1.1.1,ttl=63)),"
                        "set(tcp(dst=99)),3\n")


def test_trace_errors():
    s = _trace_lab()
    r = s.run("ovs-appctl ofproto/trace br9 in_port=1")
    assert (r.status, r.error) == (2, "br9: unknown bridge\novs-appctl: ovs-vswitchd: server returned an error\n")


def test_netplex_trace_names_the_flow_that_decided(ovs_lab):
    net, s1, h1, _h2 = ovs_lab
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=100,icmp,actions=NORMAL'")
    net.world.tracer.on = True
    h1.run("ping -c 1 10.0.0.2")
    net.world.tracer.on = False
    texts = [e.text for e in net.world.tracer.events if e.stage == "ovs_table"]
    assert "br0: table 0: priority=100,icmp actions=NORMAL" in texts
    assert "br0: table 0: priority=0 actions=NORMAL" in texts      # the ARP exchange
