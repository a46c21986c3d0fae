"""One bridge datapath: IGMP snooping and hairpin behave the same with VLAN filtering on and off
(br_handle_frame with br_allowed_ingress/br_allowed_egress as steps, not a second copy)."""
from __future__ import annotations

import pytest

from netplex.network import Network
from netplex.stack.dropreason import SkbDropReason
from tests.l2.conftest import run_ok

GROUP = "239.1.1.1"
FILTERING = pytest.mark.parametrize("vlan_filtering", [0, 1])


def _segment(vlan_filtering: int) -> tuple[Network, object, list[object]]:
    """A snooping bridge sw0 with ports p1..p3 to hosts h1..h3; h1 and h2 join GROUP."""
    net = Network()
    sw = net.add_node("sw")
    hosts = [net.add_node(f"h{i}") for i in (1, 2, 3)]
    for i, h in enumerate(hosts, 1):
        net.add_link(f"sw:p{i}", f"h{i}:eth0")
        run_ok(h, f"ip addr add 192.168.1.{i}/24 dev eth0", "ip link set eth0 up",
               "ip route add 224.0.0.0/4 dev eth0")
    run_ok(sw, f"ip link add sw0 type bridge vlan_filtering {vlan_filtering}", "ip link set sw0 up",
           *(f"ip link set p{i} master sw0" for i in (1, 2, 3)), *(f"ip link set p{i} up" for i in (1, 2, 3)))
    for h in hosts[:2]:
        run_ok(h, f"ip link add vxlan0 type vxlan id 101 group {GROUP} dev eth0 dstport 4789",
               "ip link set vxlan0 up")
    net.run_for(2_000_000_000)
    return net, sw, hosts


def _rx(h: object) -> int:
    return h.ns.devices["eth0"].stats.rx_packets


def _send(net: Network, h: object, dst: str) -> None:
    h.run(f"ping -c 1 -t 4 -W 1 {dst}")
    net.run_for(100_000_000)


@FILTERING
def test_snooping_learns_and_forwards_to_members_only(vlan_filtering: int) -> None:
    net, sw, (h1, h2, h3) = _segment(vlan_filtering)
    out = sw.run("bridge mdb show").output.splitlines()
    assert sorted(out) == [f"dev sw0 port p1 grp {GROUP} temp", f"dev sw0 port p2 grp {GROUP} temp"]
    run_ok(sw, "ip link set sw0 type bridge mcast_querier 1")
    net.run_for(12_000_000_000)
    for dst, want in ((GROUP, 0), ("239.9.9.9", 0), ("224.0.0.5", 1)):
        before = _rx(h3)
        _send(net, h1, dst)
        assert _rx(h3) - before == want, dst
    before = _rx(h2)
    _send(net, h1, GROUP)
    assert _rx(h2) - before == 1


def test_snooping_targets_only_members_of_the_vlan() -> None:
    """A member port outside the frame's VLAN gets nothing (br_allowed_egress in br_multicast_flood)."""
    net, sw, (h1, h2, h3) = _segment(1)
    run_ok(sw, "ip link set sw0 type bridge mcast_querier 1", "bridge vlan add dev p2 vid 2 pvid untagged",
           "bridge vlan del dev p2 vid 1")
    net.run_for(12_000_000_000)
    before = _rx(h2)
    _send(net, h1, GROUP)
    assert _rx(h2) - before == 0
    before = _rx(h3)
    _send(net, h1, "224.0.0.5")
    assert _rx(h3) - before == 1


def _hairpin_setup(vlan_filtering: int) -> tuple[Network, object, object]:
    """h1 behind port p1; the bridge's FDB says 02:00:00:00:00:99 is behind p1 too."""
    net = Network()
    sw, h1 = net.add_node("sw"), net.add_node("h1")
    net.add_link("sw:p1", "h1:eth0")
    net.add_link("sw:p2", "h1:eth1")
    run_ok(h1, "ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up", "ip link set eth1 up",
           "ip neigh add 10.0.0.99 lladdr 02:00:00:00:00:99 dev eth0")
    run_ok(sw, f"ip link add sw0 type bridge vlan_filtering {vlan_filtering}", "ip link set sw0 up",
           "ip link set p1 master sw0", "ip link set p2 master sw0", "ip link set p1 up", "ip link set p2 up",
           "bridge fdb add 02:00:00:00:00:99 dev p1 master static" + (" vlan 1" if vlan_filtering else ""))
    return net, sw, h1


@FILTERING
def test_hairpin_sends_back_out_of_the_ingress_port(vlan_filtering: int) -> None:
    net, sw, h1 = _hairpin_setup(vlan_filtering)
    eth0, eth1 = h1.ns.devices["eth0"], h1.ns.devices["eth1"]
    net.run_for(1_000_000_000)
    rx0, rx1 = eth0.stats.rx_packets, eth1.stats.rx_packets
    h1.run("ping -c 1 -W 1 10.0.0.99")
    net.run_for(100_000_000)
    assert (eth0.stats.rx_packets, eth1.stats.rx_packets) == (rx0, rx1)
    assert sw.ns.drops.get(SkbDropReason.BRIDGE_SAME_PORT) == 1
    run_ok(sw, "bridge link set dev p1 hairpin on")
    h1.run("ping -c 1 -W 1 10.0.0.99")
    net.run_for(100_000_000)
    assert (eth0.stats.rx_packets, eth1.stats.rx_packets) == (rx0 + 1, rx1)


@FILTERING
def test_hairpin_port_gets_its_own_floods(vlan_filtering: int) -> None:
    """should_deliver: a flooded frame goes back out of a hairpin ingress port too."""
    net, sw, h1 = _hairpin_setup(vlan_filtering)
    eth0, eth1 = h1.ns.devices["eth0"], h1.ns.devices["eth1"]
    net.run_for(1_000_000_000)
    for hairpin in ("off", "on"):
        run_ok(sw, f"brctl hairpin sw0 p1 {hairpin}")
        rx0, rx1 = eth0.stats.rx_packets, eth1.stats.rx_packets
        h1.run("ping -c 1 -W 1 10.0.0.50")   # ARP broadcasts in on p1 only (eth1 has no address)
        net.run_for(100_000_000)
        flooded = eth1.stats.rx_packets - rx1
        assert flooded >= 1
        assert eth0.stats.rx_packets - rx0 == (flooded if hairpin == "on" else 0)


@FILTERING
def test_isolated_ports_do_not_talk(vlan_filtering: int) -> None:
    """br_skb_isolated: nothing from an isolated port reaches another isolated port."""
    net = Network()
    sw = net.add_node("sw")
    hosts = [net.add_node(f"h{i}") for i in (1, 2, 3)]
    for i, h in enumerate(hosts, 1):
        net.add_link(f"sw:p{i}", f"h{i}:eth0")
        run_ok(h, f"ip addr add 10.0.0.{i}/24 dev eth0", "ip link set eth0 up")
    run_ok(sw, f"ip link add sw0 type bridge vlan_filtering {vlan_filtering}", "ip link set sw0 up",
           *(f"ip link set p{i} master sw0" for i in (1, 2, 3)), *(f"ip link set p{i} up" for i in (1, 2, 3)))
    h1, h2, h3 = hosts
    assert h1.run("ping -c 1 -W 1 10.0.0.2").status == 0
    run_ok(sw, "bridge link set dev p1 isolated on", "bridge link set dev p2 isolated on")
    assert h1.run("ping -c 1 -W 1 10.0.0.2").status != 0     # known unicast, both isolated
    assert h1.run("ping -c 1 -W 1 10.0.0.3").status == 0     # p3 is not isolated
    assert h2.run("ping -c 1 -W 1 10.0.0.3").status == 0
