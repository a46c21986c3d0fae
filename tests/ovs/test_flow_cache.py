"""ovs-vswitchd's flow cache (netplex/ovs/flowcache.py) changes nothing a user can see:
the same traffic through the same flows, with the cache and without it
(`NETPLEX_FASTPATH=0`), leaves the same counters, timeouts, MAC table and deliveries —
across flow changes made while packets flow, idle and hard timeouts, a MAC moving to
another port, groups and a flow table that sends some packets to NORMAL."""
from __future__ import annotations

import pytest

from netplex import Network
from netplex.ovs.vswitchd import ovs_daemons
from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.udp import Udp
from tests.conftest import run_ok
from tests.ovs.conftest import three_hosts

STEPS = [
    "ovs-ofctl add-flow br0 'table=0,priority=200,udp,tp_dst=7001,actions=output:2'",
    "ovs-ofctl add-flow br0 'table=0,priority=200,udp,tp_dst=7002,idle_timeout=3,actions=output:2'",
    "ovs-ofctl add-flow br0 'table=0,priority=200,udp,tp_dst=7003,hard_timeout=5,actions=resubmit(,1)'",
    "ovs-ofctl add-flow br0 'table=1,priority=10,actions=NORMAL'",
    "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=1,type=all,bucket=actions=output:2,bucket=actions=output:3'",
    "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,priority=200,udp,tp_dst=7004,actions=group:1'",
]


def lab() -> tuple[Network, object, list[object]]:
    net, s1, hosts = three_hosts("ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2 -- add-port br0 p3")
    for line in STEPS:
        run_ok(s1, line)
    return net, s1, hosts


def burst(net: Network, h: object, dst: str, port: int, n: int) -> None:
    """n datagrams of one flow (the same source port each time, as one application's
    stream) from h1 into s1's p1, 100 ms apart."""
    s1 = net.nodes["s1"]
    src, to = h.ns.devices["eth0"], net.nodes["h2"].ns.devices["eth0"]
    frame = Ethernet(to.mac, src.mac, ETH_P_IP, IPv4(0x0A000001, ip_to_int(dst), 17, Udp(40000, port, b"x" * 20)))
    for _ in range(n):
        s1.ns.devices["p1"].rx(frame.copy())
        net.run_for(100_000_000)


def observe(net: Network, s1: object, hosts: list[object]) -> list[str]:
    out = [run_ok(s1, c) for c in ("ovs-ofctl dump-flows br0", "ovs-ofctl dump-tables br0",
                                   "ovs-ofctl -O OpenFlow13 dump-group-stats br0", "ovs-appctl fdb/show br0",
                                   "ovs-ofctl dump-ports br0")]
    out += [run_ok(h, "ip -s link show eth0") for h in hosts]
    return out


def scenario(monkeypatch: pytest.MonkeyPatch, fast: bool) -> tuple[list[list[str]], int]:
    monkeypatch.setenv("NETPLEX_FASTPATH", "1" if fast else "0")
    net, s1, hosts = lab()
    h1, h2, h3 = hosts
    seen: list[list[str]] = []
    run_ok(h1, "ping -c 3 -i 0.2 10.0.0.2")               # NORMAL (the default flow) learns h1, h2
    for port in (7001, 7002, 7003, 7004):
        burst(net, h1, "10.0.0.2", port, 5)
    seen.append(observe(net, s1, hosts))
    # a flow change while the same packets keep coming: the next one obeys it
    run_ok(s1, "ovs-ofctl add-flow br0 'table=0,priority=300,udp,tp_dst=7001,actions=drop'")
    burst(net, h1, "10.0.0.2", 7001, 4)
    burst(net, h1, "10.0.0.2", 7004, 2)                    # cached again after the change
    run_ok(s1, "ovs-ofctl mod-flows br0 'table=0,udp,tp_dst=7004,actions=output:3'")
    burst(net, h1, "10.0.0.2", 7004, 4)
    seen.append(observe(net, s1, hosts))
    # timeouts: 7002's idle 3 s and 7003's hard 5 s run out while 7003 keeps being used
    for _ in range(7):
        burst(net, h1, "10.0.0.2", 7003, 1)
        net.run_for(1_000_000_000)
    burst(net, h1, "10.0.0.2", 7002, 2)
    seen.append(observe(net, s1, hosts))
    # h2's address moves to h3 (its first packet from the new port): NORMAL follows it
    run_ok(h2, "ip link set eth0 down")
    run_ok(h3, "ip link set eth0 down && ip link set eth0 address "
               + run_ok(h2, "cat /sys/class/net/eth0/address").strip() + " && ip link set eth0 up")
    run_ok(h3, "ip addr flush dev eth0 && ip addr add 10.0.0.2/24 dev eth0 && ping -c 1 -W 1 10.0.0.1")
    burst(net, h1, "10.0.0.2", 7003, 3)
    run_ok(h1, "ping -c 2 -i 0.2 10.0.0.2")
    net.run_for(301_000_000_000)                          # every MAC ages out
    seen.append(observe(net, s1, hosts))
    _server, vsd = ovs_daemons(s1.machine)
    assert vsd is not None
    return seen, vsd.flow_cache.hits


def test_the_flow_cache_changes_nothing_a_user_sees(monkeypatch):
    fast, hits = scenario(monkeypatch, True)
    slow, no_hits = scenario(monkeypatch, False)
    assert no_hits == 0
    assert hits > 20            # the cache was used
    for i, (a, b) in enumerate(zip(fast, slow)):
        for x, y in zip(a, b):
            assert x == y, f"step {i}:\n{x}\n--- without the cache ---\n{y}"
    flows = slow[2][0]
    assert "tp_dst=7002" not in flows and "tp_dst=7003" not in flows     # both timed out
    assert "priority=300,udp,tp_dst=7001 actions=drop" in flows and "n_packets=4" in flows


def test_a_new_flow_takes_effect_on_the_next_packet_of_a_cached_flow():
    net, s1, (h1, h2, h3) = lab()
    burst(net, h1, "10.0.0.2", 7001, 3)
    before = run_ok(h2, "cat /sys/class/net/eth0/statistics/rx_packets")
    run_ok(s1, "ovs-ofctl add-flow br0 'table=0,priority=300,udp,tp_dst=7001,actions=output:3'")
    burst(net, h1, "10.0.0.2", 7001, 1)
    assert run_ok(h2, "cat /sys/class/net/eth0/statistics/rx_packets") == before
    _server, vsd = ovs_daemons(s1.machine)
    assert vsd is not None and vsd.flow_cache.hits >= 1


def test_the_exact_match_key_is_equal_exactly_when_the_flows_are():
    """flow.exact_key (the EMC's key for the usual packet, built without the flow) partitions
    packets as flow_extract does: equal keys for equal flows, different keys otherwise, and
    no key (the flow's items are the key) for every other shape."""
    from netplex.ovs.flow import exact_key, flow_extract
    from netplex.packet.arp import Arp
    from netplex.packet.ethernet import ETH_P_8021Q, Dot1Q
    from netplex.packet.icmp import Icmp
    from netplex.packet.tcp import Tcp

    a, b = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"

    def ip(l4: object, proto: int, **kw: int) -> Ethernet:
        return Ethernet(b, a, ETH_P_IP, IPv4(0x0A000001, 0x0A000002, proto, l4, **kw))

    usual = [ip(Udp(40000, 53, b"x"), 17), ip(Udp(40000, 53, b"longer payload"), 17), ip(Udp(40001, 53, b"x"), 17),
             ip(Udp(40000, 53, b"x"), 17, ttl=3), ip(Udp(40000, 53, b"x"), 17, tos=4),
             ip(Tcp(1000, 80, 1, 0, 2, 1000, b""), 6), ip(Tcp(1000, 80, 9, 9, 2, 500, b"data"), 6),
             ip(Tcp(1000, 80, 1, 0, 0x12, 1000, b""), 6), ip(Icmp(8, 0, b"p"), 1), ip(Icmp(0, 0, b"p"), 1),
             Ethernet(a, b, ETH_P_IP, IPv4(0x0A000001, 0x0A000002, 17, Udp(40000, 53, b"x")))]
    keys = [exact_key("br0", f, 1) for f in usual]
    flows = [flow_extract(f, 1) for f in usual]
    assert None not in keys
    for i in range(len(usual)):
        for j in range(len(usual)):
            assert (keys[i] == keys[j]) == (flows[i] == flows[j]), (usual[i], usual[j])
    assert exact_key("br0", usual[0], 2) != keys[0] and exact_key("br1", usual[0], 1) != keys[0]
    tagged = ip(Udp(40000, 53, b"x"), 17)
    tagged.vlans = (Dot1Q(10, 0, 0, ETH_P_8021Q),)
    others = [tagged, ip(b"fragment", 17, frag=5), ip(b"undecoded", 47),
              Ethernet(b, a, 0x0806, Arp(1, a, 0x0A000001, bytes(6), 0x0A000002))]
    assert [exact_key("br0", f, 1) for f in others] == [None] * len(others)
