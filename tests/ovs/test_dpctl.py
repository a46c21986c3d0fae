"""The datapath's megaflows (netplex/ovs/flowcache.py) as `ovs-appctl dpctl/dump-flows` and
`ovs-dpctl` show them: what a flow matches (only the fields the translation read), its
counters (the upcall not counted), revalidation after a flow or MAC change (actions
replaced in place, or the flow deleted when it now needs more fields), the 10 s idle
expiry, del-flows, show, and the errors. The masks themselves are checked against the
real Open vSwitch in tests/ovs/test_real_dpctl.py."""
from __future__ import annotations

import re

import pytest

from netplex import Network
from netplex.ovs.vswitchd import ovs_daemons
from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.udp import Udp
from tests.conftest import run_ok
from tests.ovs.conftest import three_hosts


def lab() -> tuple[Network, object, list[object]]:
    net, s1, hosts = three_hosts("ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2 -- add-port br0 p3")
    for h in hosts:
        run_ok(h, "iptables -A INPUT -p udp -j DROP")     # no ICMP errors: only the probes make flows
    return net, s1, hosts


def send(net: Network, h: object, dst: str, port: int, n: int = 1, sport: int = 40000) -> None:
    src, to = h.ns.devices["eth0"], net.nodes["h2"].ns.devices["eth0"]
    frame = Ethernet(to.mac, src.mac, ETH_P_IP, IPv4(ip_to_int("10.0.0.1"), ip_to_int(dst), 17,
                                                     Udp(sport, port, b"x" * 20)))
    for _ in range(n):
        net.nodes["s1"].ns.devices["p1"].rx(frame.copy())
        net.run_for(10_000_000)


def flows(s1: object) -> list[str]:
    return sorted(run_ok(s1, "ovs-appctl dpctl/dump-flows").splitlines())


def test_a_megaflow_matches_only_what_was_read_and_counts_after_the_upcall():
    net, s1, _hosts = lab()
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,udp,tp_dst=53,actions=output:p3")
    send(net, net.nodes["h1"], "10.0.0.2", 53, 3)
    (line,) = flows(s1)
    assert line.startswith("recirc_id(0),in_port(2),eth_type(0x0800),ipv4(proto=17,frag=no),udp(dst=53), "
                           "packets:2, bytes:124, used:0.010s, actions:4")
    # another source port and address: the same megaflow (neither was read)
    send(net, net.nodes["h1"], "10.0.0.3", 53, 1, sport=1234)
    (line,) = flows(s1)
    assert "packets:3, bytes:186" in line
    assert run_ok(s1, "ovs-dpctl dump-flows") == run_ok(s1, "ovs-appctl dpctl/dump-flows")
    more = run_ok(s1, "ovs-appctl dpctl/dump-flows -m")
    assert more.startswith("ufid:") and "in_port(p1)" in more and "udp(src=40000/0,dst=53)" in more
    assert "dp:ovs, actions:p3" in more


def test_the_ports_trie_keeps_a_miss_from_shadowing_a_masked_rule():
    """A datagram to 123 misses `tp_dst=0x1000/0xf000`: its megaflow matches tp_dst's top
    bits (0x40/0xffc0), so 4500 (0x1194) is not carried by it and is dropped."""
    net, s1, _hosts = lab()
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,udp,tp_dst=53,actions=output:p3")
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,udp,tp_dst=0x1000/0xf000,actions=drop")
    h2 = net.nodes["h2"]
    before = int(run_ok(h2, "cat /sys/class/net/eth0/statistics/rx_packets"))
    send(net, net.nodes["h1"], "10.0.0.2", 123, 2)
    send(net, net.nodes["h1"], "10.0.0.2", 4500, 2)
    assert int(run_ok(h2, "cat /sys/class/net/eth0/statistics/rx_packets")) == before + 2
    got = flows(s1)
    assert any("udp(dst=123/0xffc0)" in x and x.endswith("actions:1,3,4") for x in got)
    assert any("udp(dst=4500/0xf000)" in x and x.endswith("actions:drop") for x in got)


def test_revalidation_after_flow_and_mac_changes():
    net, s1, _hosts = lab()
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,udp,actions=output:p2")
    send(net, net.nodes["h1"], "10.0.0.2", 9, 3)
    (line,) = flows(s1)
    assert "ipv4(proto=17,frag=no), packets:2" in line and line.endswith("actions:3")
    # same mask, other actions: modified in place, counts kept (UKEY_MODIFY)
    run_ok(s1, "ovs-ofctl mod-flows br0 udp,actions=output:p3")
    (line,) = flows(s1)
    assert "packets:2" in line and line.endswith("actions:4")
    # the translation now reads tp_dst: the flow goes, the next packet makes a new one
    run_ok(s1, "ovs-ofctl add-flow br0 priority=20,udp,tp_dst=9,actions=drop")
    assert flows(s1) == []
    send(net, net.nodes["h1"], "10.0.0.2", 9, 2)
    (line,) = flows(s1)
    assert "udp(dst=9), packets:1" in line and line.endswith("actions:drop")
    run_ok(s1, "ovs-ofctl del-flows br0 udp,tp_dst=9")     # back to a translation that reads less: kept
    (line,) = flows(s1)
    assert "udp(dst=9), packets:1" in line and line.endswith("actions:4")


def test_normal_flood_becomes_unicast_when_the_mac_is_learned():
    net, s1, (h1, h2, _h3) = lab()
    run_ok(h1, "ip neigh replace 10.0.0.2 lladdr " + h2.ns.devices["eth0"].mac.hex(":") + " dev eth0 nud permanent")
    send(net, h1, "10.0.0.2", 9, 2)
    (line,) = flows(s1)
    assert "packets:1" in line and line.endswith("actions:1,3,4")     # h2 unknown: flooded
    h2.run("ping -c 1 -W 1 10.0.0.1")                                  # h2 speaks: learned on p2
    send(net, h1, "10.0.0.2", 9, 1)
    line = next(x for x in flows(s1) if "in_port(2)" in x and "ipv4" in x)
    # its actions replaced in place, the counts kept (h1's echo reply to h2 took it too)
    assert "packets:3" in line and line.endswith("actions:3")


def test_idle_flows_expire_after_ten_seconds_and_del_flows_empties():
    net, s1, _hosts = lab()
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,udp,actions=output:p2")
    send(net, net.nodes["h1"], "10.0.0.2", 9, 2)
    net.run_for(9_000_000_000)
    assert len(flows(s1)) == 1
    net.run_for(1_100_000_000)
    assert flows(s1) == []
    send(net, net.nodes["h1"], "10.0.0.2", 9, 2)
    assert len(flows(s1)) == 1
    assert run_ok(s1, "ovs-appctl dpctl/del-flows") == ""
    assert flows(s1) == []
    show = run_ok(s1, "ovs-appctl dpctl/show")
    assert show.startswith("system@ovs-system:\n  lookups: hit:2 missed:2 lost:0\n  flows: 0\n")
    assert "  port 0: ovs-system (internal)\n  port 1: br0 (internal)\n  port 2: p1\n" in show


@pytest.mark.parametrize("line, status, error", [
    ("ovs-appctl dpctl/dump-flows system@nope", 2,
     "ovs-vswitchd: datapath not found (Invalid argument)\novs-appctl: ovs-vswitchd: server returned an error\n"),
    ("ovs-dpctl dump-flows nope", 1, "ovs-dpctl: datapath not found (Invalid argument)\n"),
    ("ovs-appctl dpctl/dump-flows --names", 2, "netplex: ovs-appctl dpctl/dump-flows --names is not supported\n"),
    ("ovs-dpctl show -s", 2, "netplex: ovs-dpctl show -s is not supported\n"),
])
def test_dpctl_errors(line, status, error):
    _net, s1, _hosts = lab()
    r = s1.run(line)
    assert (r.status, r.output, r.error) == (status, "", error)


def test_without_bridges_there_is_no_datapath():
    s1 = Network().add_node("s1")
    r = s1.run("ovs-dpctl dump-flows")
    assert (r.status, r.error) == (1, "ovs-dpctl: no datapaths exist\novs-dpctl: datapath not found (Invalid argument)\n")


def test_fast_path_off_installs_no_flows(monkeypatch):
    monkeypatch.setenv("NETPLEX_FASTPATH", "0")
    net, s1, _hosts = lab()
    send(net, net.nodes["h1"], "10.0.0.2", 9, 2)
    assert flows(s1) == []
    _server, vsd = ovs_daemons(s1.machine)
    assert vsd is not None and vsd.flow_cache.hits == 0


def test_dpif_dump_flows_lists_one_bridges_flows():
    net, s1, _hosts = lab()
    run_ok(s1, "ovs-vsctl del-port br0 p3 -- add-br br1 -- add-port br1 p3")
    send(net, net.nodes["h1"], "10.0.0.2", 9, 2)
    assert run_ok(s1, "ovs-appctl dpif/dump-flows br0") == run_ok(s1, "ovs-appctl dpctl/dump-flows") != ""
    assert run_ok(s1, "ovs-appctl dpif/dump-flows br1") == ""
    r = s1.run("ovs-appctl dpif/dump-flows -m br0")
    assert (r.status, r.error) == (2, "netplex: ovs-appctl dpif/dump-flows -m is not supported\n")


# What the real ovs-vswitchd 3.1 (userspace datapath, netplex.twin.ovs.RealOvsLab, TX offloads
# off on the hosts) dumped on 2026-12-05 for these flows and one TCP connection h1 → h2:22,
# counts and times taken out as tests/ovs/test_real_dpctl.py's dp_normalise does (its
# `conntrack` case runs the same against the real switch with NETPLEX_OVS_TWIN=1).
REAL_CT = """\
ct_state(+new+trk),recirc_id(0x1),in_port(2),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x0800),ipv4(proto=6,frag=no), actions:ct(commit),3
ct_state(-new+est+trk),recirc_id(0x2),in_port(3),eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01),eth_type(0x0800),ipv4(proto=6,frag=no), actions:2
ct_state(-trk),recirc_id(0),in_port(2),eth_type(0x0800),ipv4(proto=6,frag=no), actions:ct,recirc(0x1)
ct_state(-trk),recirc_id(0),in_port(3),eth_type(0x0800),ipv4(proto=6,frag=no), actions:ct,recirc(0x2)"""


def test_conntrack_makes_one_datapath_flow_per_recirculation(monkeypatch):
    """ct(table=1): `ct,recirc(0x1)` for the packet, then a flow matching recirc_id(0x1) and the
    ct_state bits table 1 read (the +est rule's subtable not looked at once a +new rule of the
    same priority matched); the reply has its own recirc id (another in_port: another frozen
    state). The same traffic with the datapath flows off delivers the same."""
    outs = []
    for fast in ("1", "0"):
        monkeypatch.setenv("NETPLEX_FASTPATH", fast)
        net, s1, hosts = three_hosts("ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2 -- add-port br0 p3")
        for c in ("'priority=100,ct_state=-trk,tcp,actions=ct(table=1)'",
                  "'table=1,priority=100,ct_state=+trk+new,tcp,actions=ct(commit),NORMAL'",
                  "'table=1,priority=100,ct_state=+trk+est,tcp,actions=NORMAL'", "'table=1,priority=1,actions=drop'"):
            run_ok(s1, f"ovs-ofctl add-flow br0 {c}")
        for i, h in enumerate(hosts, 1):
            run_ok(h, f"ip link set eth0 address 02:00:00:00:00:0{i}")
        assert run_ok(hosts[0], "nc -z -w1 10.0.0.2 22; echo $?").strip() == "1"   # the SYN through, a RST back
        got = run_ok(s1, "ovs-appctl dpctl/dump-flows")
        got = re.sub(r" packets:\d+, bytes:\d+, used:(never|\d+\.\d+s)(, flags:\S+)?,", "", got)
        outs.append((sorted(ln for ln in got.splitlines() if "0x0800" in ln and "proto=6" in ln),
                     run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats")))
    assert "\n".join(outs[0][0]) == REAL_CT
    assert outs[1][0] == [] and outs[0][1] == outs[1][1]


def test_recirculation_ids_are_freed_when_no_datapath_flow_names_them():
    """ofproto-dpif-rid.c: a frozen state's id lives while a datapath flow's actions name it; once
    its flows are gone (idle 10 s) it leaves the metadata map, lingers two recirc_run rounds and is
    forgotten; the same state later gets a new id (next_id only grows). A churn of connections
    whose frozen states all differ (the source port moved into reg0 before ct()) keeps the live ids
    bounded, and each dump names the ids its flows use."""
    net, s1, hosts = three_hosts("ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2 -- add-port br0 p3")
    for c in ("'priority=100,ct_state=-trk,tcp,actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG0[0..15],ct(table=1)'",
              "'table=1,priority=100,ct_state=+trk+new,tcp,actions=ct(commit),NORMAL'",
              "'table=1,priority=100,ct_state=+trk+est,tcp,actions=NORMAL'", "'table=1,priority=1,actions=drop'"):
        run_ok(s1, f"ovs-ofctl add-flow br0 {c}")
    _server, vsd = ovs_daemons(s1.machine)
    assert vsd is not None
    last = 0
    for _round in range(4):
        for _ in range(5):
            assert run_ok(hosts[0], "nc -z -w1 10.0.0.2 22; echo $?").strip() == "1"   # SYN through, RST back
        live = set(vsd.frozen.values())
        assert len(live) == 6 and min(live) > last      # 5 SYNs' states and the RSTs' one (reg0=22), all new
        got = flows(s1)
        parents = {int(m, 16) for ln in got for m in re.findall(r"actions:ct,recirc\((0x[0-9a-f]+)\)", ln)}
        children = {int(m, 16) for ln in got for m in re.findall(r"recirc_id\((0x[0-9a-f]+)\)", ln)}
        assert parents == children == live
        last = max(live)
        net.run_for(12_000_000_000)         # the flows idle out; their ids expire and are forgotten
        assert vsd.frozen == {} and vsd.frozen_by_id == {}
        assert [f for f in flows(s1) if "recirc(" in f or "recirc_id(0x" in f or "proto=6" in f] == []
    assert vsd.recirc_ids == 24 and not vsd.recirc_timer


# ofproto/trace of the same ct() flow four times (the last from p2) on the real ovs-vswitchd 3.1
# (userspace datapath, no traffic), 2026-12-05: each trace takes a new id and frees it when done
REAL_TRACE_RECIRCS = [("Megaflow: recirc_id=0,ct_state=-trk,eth,tcp,in_port=1,nw_frag=no", "ct,recirc(0x1)"),
                      ("Megaflow: recirc_id=0,ct_state=-trk,eth,tcp,in_port=1,nw_frag=no", "ct,recirc(0x2)"),
                      ("Megaflow: recirc_id=0,ct_state=-trk,eth,tcp,in_port=1,nw_frag=no", "ct,recirc(0x3)"),
                      ("Megaflow: recirc_id=0,ct_state=-trk,eth,tcp,in_port=2,nw_frag=no", "ct,recirc(0x4)")]


def test_each_trace_takes_and_frees_its_recirculation_id_as_the_real_switch():
    net, s1, _hosts = three_hosts("ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2")
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=100,ct_state=-trk,tcp,actions=ct(table=1)'")
    run_ok(s1, "ovs-ofctl add-flow br0 'table=1,priority=100,ct_state=+trk+new,tcp,actions=ct(commit),NORMAL'")
    got = []
    for port, wait in (("p1", 0), ("p1", 0), ("p1", 1), ("p2", 0)):
        net.run_for(wait * 1_000_000_000)
        out = run_ok(s1, f"ovs-appctl ofproto/trace br0 in_port={port},tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=22")
        lines = out.splitlines()
        rid = next(ln for ln in lines if ln.startswith("Datapath actions: "))[len("Datapath actions: "):]
        got.append((next(ln for ln in lines if ln.startswith("Megaflow:")), rid))
        assert f"recirc({rid[10:-1]}) - resume conntrack with default ct_state=trk|new" in out
    assert got == REAL_TRACE_RECIRCS
