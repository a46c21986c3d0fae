"""OVS tunnel ports (vxlan, gre, geneve) as users build an overlay: two hypervisors whose
VMs ping across the underlay, keys fixed or taken from the flow (`key=flow` with
`set_field:N->tun_id`), tun_id/tun_src matches on what arrives, the kernel's view
(`vxlan_sys_4789 ... master ovs-system`), the outer headers on the wire (tcpdump), the
interface errors and status ovs-vswitchd writes, and ofproto/trace's tunnel lines — the
expected texts are what Debian's Open vSwitch 3.1 printed (tests/ovs/test_real_ovs.py
compares them line by line where the real one runs)."""
from __future__ import annotations

import pytest
from scapy.contrib.geneve import GENEVE
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import GRE, Ether
from scapy.layers.vxlan import VXLAN
from scapy.utils import rdpcap

from netplex import Network
from tests.conftest import run_ok
from tests.ovs.conftest import pings


def _overlay(ttype: str, key: str = "", flows: bool = False) -> tuple[Network, dict]:
    """hv1 and hv2 joined by an underlay link (10.1.0.0/24); vm1 on hv1, vm2 on hv2
    (10.0.0.0/24), each hypervisor's br-int with the VM's port and a tunnel to the other."""
    net = Network()
    n = {name: net.add_node(name) for name in ("hv1", "hv2", "vm1", "vm2")}
    net.add_link("hv1:eth0", "hv2:eth0")
    net.add_link("vm1:eth0", "hv1:tap1")
    net.add_link("vm2:eth0", "hv2:tap2")
    for i in (1, 2):
        hv, vm = n[f"hv{i}"], n[f"vm{i}"]
        run_ok(hv, f"ip addr add 10.1.0.{i}/24 dev eth0 && ip link set eth0 up && ip link set tap{i} up")
        run_ok(vm, f"ip addr add 10.0.0.{i}/24 dev eth0 && ip link set eth0 up")
        opts = f"options:remote_ip=10.1.0.{3 - i}" + (f" options:key={key}" if key else "")
        run_ok(hv, f"ovs-vsctl add-br br-int -- add-port br-int tap{i} -- add-port br-int tun0 "
                   f"-- set interface tun0 type={ttype} {opts}")
        if flows:   # the VNI from the flow table: 5000 out, and only 5000 accepted in
            run_ok(hv, "ovs-ofctl del-flows br-int")
            run_ok(hv, f"ovs-ofctl add-flow br-int 'in_port=tap{i},actions=set_field:5000->tun_id,output:tun0'")
            run_ok(hv, f"ovs-ofctl add-flow br-int in_port=tun0,tun_id=5000,actions=output:tap{i}")
    return net, n


@pytest.mark.parametrize("ttype", ["vxlan", "gre", "geneve"])
def test_vms_on_two_hypervisors_ping_over_the_tunnel(ttype):
    _net, n = _overlay(ttype, key="42")
    assert pings(n["vm1"], "10.0.0.2")
    # NORMAL learned vm2's address behind the tunnel port (ofport 2)
    mac2 = run_ok(n["vm2"], "cat /sys/class/net/eth0/address").strip()
    fdb = run_ok(n["hv1"], "ovs-appctl fdb/show br-int")
    assert any(line.split()[:3] == ["2", "0", mac2] for line in fdb.splitlines()[1:])


def test_key_flow_takes_the_vni_from_set_field_and_matches_tun_id():
    _net, n = _overlay("vxlan", key="flow", flows=True)
    assert pings(n["vm1"], "10.0.0.2")
    dump = run_ok(n["hv2"], "ovs-ofctl dump-flows br-int --no-stats")
    assert dump == (" in_port=tap2 actions=load:0x1388->NXM_NX_TUN_ID[],output:tun0\n"
                    " tun_id=0x1388,in_port=tun0 actions=output:tap2\n".replace("tap2", "1").replace("tun0", "2"))
    # a VNI nobody accepts: hv2's table has no flow for 7, so nothing comes back
    run_ok(n["hv1"], "ovs-ofctl mod-flows br-int 'in_port=1,actions=set_field:7->tun_id,output:2'")
    assert not pings(n["vm1"], "10.0.0.2")


@pytest.mark.parametrize("ttype", ["vxlan", "gre", "geneve"])
def test_scapy_reads_the_outer_headers_on_the_underlay(ttype, tmp_path):
    net, n = _overlay(ttype, key="flow", flows=True)
    net.start_pcap(tmp_path)
    assert pings(n["vm1"], "10.0.0.2")
    net.stop_pcap()
    frames = [p for p in rdpcap(str(tmp_path / "hv2-eth0.pcap")) if p.haslayer(ICMP)]
    outer = frames[0]
    assert (outer[IP].src, outer[IP].dst, outer[IP].ttl, outer[IP].flags.DF) == ("10.1.0.1", "10.1.0.2", 64, True)
    if ttype == "vxlan":
        assert (outer[UDP].dport, outer[VXLAN].vni, outer[VXLAN].flags) == (4789, 5000, 0x08)
    elif ttype == "geneve":
        assert (outer[UDP].dport, outer[GENEVE].vni, outer[GENEVE].proto) == (6081, 5000, 0x6558)
    else:
        assert (outer[GRE].proto, outer[GRE].key_present, outer[GRE].key) == (0x6558, 1, 5000)
    inner = outer[Ether].payload.payload.payload
    while not isinstance(inner, Ether):
        inner = inner.payload
    assert (inner[IP].src, inner[IP].dst, inner[ICMP].type) == ("10.0.0.1", "10.0.0.2", 8)
    # the kernel's devices: one flow-based device for every port of a type, a port of ovs-system
    name = {"vxlan": "vxlan_sys_4789", "geneve": "genev_sys_6081", "gre": "gre_sys"}[ttype]
    assert "master ovs-system" in run_ok(n["hv1"], f"ip link show {name}")


def test_tunnel_interface_errors_and_status():
    net = Network()
    s = net.add_node("s1")
    h = net.add_node("h1")
    net.add_link("s1:p1", "h1:eth0")
    run_ok(s, "ip link set p1 up && ip addr add 192.168.1.1/24 dev p1 && ovs-vsctl add-br br0")
    r = s.run("ovs-vsctl add-port br0 bad0 -- set interface bad0 type=vxlan")
    assert (r.status, r.error.splitlines()[0]) == (
        0, "ovs-vsctl: Error detected while setting up 'bad0': bad0: vxlan type requires valid 'remote_ip' "
           "argument.  See ovs-vswitchd log for details.")
    r = s.run("ovs-vsctl add-port br0 bad1 -- set interface bad1 type=gre options:remote_ip=foo")
    assert r.error.splitlines()[:2] == ["ovs-vsctl: Error detected while setting up 'bad1': bad1: bad gre 'remote_ip'",
                                        "bad1: gre type requires valid 'remote_ip' argument.  See ovs-vswitchd log "
                                        "for details."]
    run_ok(s, "ovs-vsctl add-port br0 vx1 -- set interface vx1 type=vxlan options:remote_ip=192.168.1.2")
    r = s.run("ovs-vsctl add-port br0 vx2 -- set interface vx2 type=vxlan options:remote_ip=192.168.1.2 "
              "options:foo=1")
    assert "'vx2': could not add network device vx2 to ofproto (File exists)" in r.error
    assert run_ok(s, "ovs-vsctl get interface vx1 ofport status") == (
        "1\n{tunnel_egress_iface=p1, tunnel_egress_iface_carrier=down}\n")
    run_ok(h, "ip link set eth0 up")
    run_ok(s, "ovs-vsctl set interface vx1 options:key=5")
    assert run_ok(s, "ovs-vsctl get interface vx1 status") == (
        "{tunnel_egress_iface=p1, tunnel_egress_iface_carrier=up}\n")
    assert run_ok(s, "ovs-vsctl get interface bad0 ofport") == "-1\n"
    # the last vxlan port takes vxlan_sys_4789 along
    run_ok(s, "ovs-vsctl del-port vx1 -- del-port vx2")
    assert s.run("ip link show vxlan_sys_4789").status == 1


def test_trace_of_a_packet_out_of_a_tunnel():
    net = Network()
    s = net.add_node("s1")
    run_ok(s, "ovs-vsctl add-br br0 -- add-port br0 vx1 -- set interface vx1 type=vxlan "
              "options:remote_ip=192.168.1.2 options:key=flow -- add-port br0 gre0 -- set interface gre0 type=gre "
              "options:remote_ip=192.168.1.4")
    run_ok(s, "ovs-ofctl add-flow br0 priority=5,actions=set_tunnel:9,output:vx1,output:gre0")
    out = run_ok(s, "ovs-appctl ofproto/trace br0 in_port=LOCAL")
    assert out.splitlines()[-1] == ("Datapath actions: set(tunnel(tun_id=0x9,dst=192.168.1.2,ttl=64,tp_dst=4789,"
                                    "flags(df|key))),2,set(tunnel(dst=192.168.1.4,ttl=64,flags(df))),3")
    assert "     -> output to kernel tunnel" in out.splitlines()
