"""IGMP snooping on the bridge and static multicast routing (smcroute → ipmr), in the simulator.

The expected behaviour was read off the kernel (6.18, iproute2 6.1, SMCRoute
2.5.6) in scratch namespaces: without a querier a snooping bridge learns the
mdb but still floods; with one, a group goes to its members and router ports
only, unregistered groups to router ports only, 224.0.0.x everywhere; a
leave ends the membership after 2 × 1 s.
"""
from __future__ import annotations

import pytest

from netplex.network import Network
from tests.l2.conftest import run_ok

GROUP = "239.1.1.1"


def _segment() -> tuple[Network, object, list[object]]:
    """A snooping bridge sw0 with ports p1..p3 to hosts h1..h3 (192.168.1.N)."""
    net = Network()
    sw = net.add_node("sw")
    hosts = [net.add_node(f"h{i}") for i in (1, 2, 3)]
    for i, h in enumerate(hosts, 1):
        net.add_link(f"sw:p{i}", f"h{i}:eth0")
        run_ok(h, f"ip addr add 192.168.1.{i}/24 dev eth0", "ip link set eth0 up",
               "ip route add 224.0.0.0/4 dev eth0")
    run_ok(sw, "ip link add sw0 type bridge", "ip link set sw0 up",
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


def test_mdb_learned_from_reports() -> None:
    net, sw, _ = _segment()
    out = sw.run("bridge mdb show").output.splitlines()
    assert sorted(out) == [f"dev sw0 port p1 grp {GROUP} temp", f"dev sw0 port p2 grp {GROUP} temp"]
    assert out[0].startswith("dev sw0 port p2")   # ports by the kernel's order: later port first
    assert sw.run("bridge -d mdb show").output.splitlines()[0] == f"dev sw0 port p2 grp {GROUP} temp proto kernel "
    line = sw.run("bridge -d -s mdb show").output.splitlines()[0]
    assert line.startswith(f"dev sw0 port p2 grp {GROUP} temp proto kernel   25") and line[-3] == "."


def test_no_querier_floods_everything() -> None:
    net, sw, (h1, h2, h3) = _segment()
    for dst in (GROUP, "239.9.9.9"):
        before = _rx(h3)
        _send(net, h1, dst)
        assert _rx(h3) - before == 1, dst


def test_querier_forwards_to_members_only() -> None:
    net, sw, (h1, h2, h3) = _segment()
    run_ok(sw, "ip link set sw0 type bridge mcast_querier 1")
    net.run_for(12_000_000_000)   # the first response window (10 s) must pass
    for dst, want in ((GROUP, 0), ("239.9.9.9", 0), ("224.0.0.5", 1)):
        before = _rx(h3)
        _send(net, h1, dst)
        assert _rx(h3) - before == want, dst
    before = _rx(h2)
    _send(net, h1, GROUP)
    assert _rx(h2) - before == 1
    # hosts answer the bridge's queries (IGMPv2 mode after a v2 query): memberships stay
    net.run_for(300_000_000_000)
    assert len(sw.run("bridge mdb show").output.splitlines()) == 2


def test_router_port_gets_every_group() -> None:
    net, sw, (h1, h2, h3) = _segment()
    run_ok(sw, "bridge link set dev p3 mcast_router 2")
    assert sw.run("bridge -d mdb show").output.splitlines()[-1] == "router ports on sw0: p3 "
    assert sw.run("bridge -d -s mdb show").output.splitlines()[-1] == "router ports on sw0: p3    0.00 permanent"
    run_ok(sw, "ip link set sw0 type bridge mcast_querier 1")
    net.run_for(12_000_000_000)
    before = _rx(h3)
    _send(net, h1, "239.9.9.9")
    assert _rx(h3) - before == 1


def test_leave_without_querier_ends_after_last_member_time() -> None:
    net, sw, (h1, h2, h3) = _segment()
    run_ok(h2, "ip link set vxlan0 down")
    net.run_for(500_000_000)
    lines = sw.run("bridge -d -s mdb show").output.splitlines()
    assert lines[0] == f"dev sw0 port p2 grp {GROUP} temp proto kernel     1.50"
    net.run_for(3_000_000_000)
    assert [line.split()[3] for line in sw.run("bridge mdb show").output.splitlines()] == ["p1"]


def test_membership_ages_out() -> None:
    net, sw, (h1, h2, h3) = _segment()
    net.run_for(261_000_000_000)
    assert sw.run("bridge mdb show").output == ""


def test_snooping_off_flushes_the_mdb() -> None:
    net, sw, _ = _segment()
    run_ok(sw, "ip link set sw0 type bridge mcast_snooping 0")
    assert sw.run("bridge mdb show").output == ""
    run_ok(sw, "ip link set sw0 type bridge mcast_snooping 1")
    assert sw.run("bridge mdb show").output == ""


def _routed() -> tuple[Network, object, object, object]:
    net = Network()
    a, r, b = net.add_node("a"), net.add_node("r"), net.add_node("b")
    net.add_link("a:eth0", "r:eth0")
    net.add_link("r:eth1", "b:eth0")
    run_ok(a, "ip addr add 192.168.1.1/24 dev eth0", "ip link set eth0 up", "ip route add default via 192.168.1.254")
    run_ok(b, "ip addr add 192.168.2.3/24 dev eth0", "ip link set eth0 up", "ip route add default via 192.168.2.254")
    run_ok(r, "sysctl -w net.ipv4.ip_forward=1", "ip addr add 192.168.1.254/24 dev eth0",
           "ip addr add 192.168.2.254/24 dev eth1", "ip link set eth0 up", "ip link set eth1 up")
    return net, a, r, b


def test_smcroute_installs_sg_on_first_packet() -> None:
    net, a, r, b = _routed()
    err = r.run("smcroutectl add eth0 239.1.1.1 eth1")
    assert (err.status, err.error) == (1, "smcroutectl: Cannot find IPC socket /run/smcroute.sock\n"
                                          "smcroutectl: Daemon may be running with another -i NAME\n")
    run_ok(r, "smcrouted", "smcroutectl add eth0 239.1.1.1 eth1", "smcroutectl add eth0 239.1.1.1 eth1")
    assert r.run("ip mroute show").output == ""
    before = b.ns.devices["eth0"].stats.rx_packets
    _send(net, a, "239.1.1.1")
    assert b.ns.devices["eth0"].stats.rx_packets - before == 1
    assert r.run("ip mroute show").output == \
        "(192.168.1.1,239.1.1.1)          Iif: eth0       Oifs: eth1  State: resolved\n"
    assert r.run("ip -s mroute show").output.splitlines()[1].startswith("  1 packets, 84 bytes, Age ")
    # TTL 1 is not forwarded (threshold 1)
    a.run("ping -c 1 -t 1 -W 1 239.1.1.1")
    net.run_for(100_000_000)
    assert b.ns.devices["eth0"].stats.rx_packets - before == 1
    rm = r.run("smcroutectl remove eth1 239.1.1.1")
    assert (rm.status, rm.error) == (1, "smcroutectl: mroute: deleting route from eth1 "
                                        "(0.0.0.0/32,239.1.1.1/32)\n")
    run_ok(r, "smcroutectl remove eth0 239.1.1.1")
    assert r.run("ip mroute show").output == ""
    run_ok(r, "smcroutectl kill")
    assert r.ns.mrt is None


@pytest.mark.parametrize("line", ["smcrouted -n"])
def test_foreground_daemon_refused(line: str) -> None:
    net, a, r, b = _routed()
    assert r.run(line).status == 2


def test_fastleave_port_leaves_at_once() -> None:
    """BR_MULTICAST_FAST_LEAVE (`bridge link set dev P fastleave on`): the leave ends the port's
    membership immediately instead of after the last-member time."""
    net, sw, (h1, h2, h3) = _segment()
    run_ok(sw, "bridge link set dev p2 fastleave on")
    run_ok(h2, "ip link set vxlan0 down")
    net.run_for(1_000_000)
    assert [line.split()[3] for line in sw.run("bridge mdb show").output.splitlines()] == ["p1"]
