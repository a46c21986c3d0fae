"""Output routes are cached by flow (Ipv4Path.ip_route_output) for one configuration
generation of the whole world: a route change here, and a link going down in another
namespace (a peer's carrier, with ignore_routes_with_linkdown), are seen by the very next
packet, exactly as without the cache."""
from __future__ import annotations

from netplex import Network
from netplex.packet.addr import ip_to_int


def two_uplinks() -> tuple[Network, object, object, object]:
    """h: eth0 → r1, eth1 → r2; both routers reach 10.9.0.9 on a stub they own."""
    net = Network(seed=5)
    h, r1, r2 = (net.add_node(n) for n in ("h", "r1", "r2"))
    net.add_link("h:eth0", "r1:eth0")
    net.add_link("h:eth1", "r2:eth0")
    lines = {
        h: ["ip addr add 10.1.0.1/24 dev eth0", "ip addr add 10.2.0.1/24 dev eth1", "ip link set eth0 up",
            "ip link set eth1 up", "ip route add 10.9.0.0/16 via 10.1.0.2 metric 10",
            "ip route add 10.9.0.0/16 via 10.2.0.2 metric 20"],
        r1: ["ip addr add 10.1.0.2/24 dev eth0", "ip link set eth0 up", "ip addr add 10.9.0.9/32 dev lo",
             "ip route add 10.2.0.0/24 via 10.1.0.1"],
        r2: ["ip addr add 10.2.0.2/24 dev eth0", "ip link set eth0 up", "ip addr add 10.9.0.9/32 dev lo",
             "ip route add 10.1.0.0/24 via 10.2.0.1"],
    }
    for node, ls in lines.items():
        for line in ls:
            assert node.run(line).status == 0, line   # type: ignore[attr-defined]
    return net, h, r1, r2


def tx(h: object, dev: str) -> int:
    return h.ns.devices[dev].stats.tx_packets   # type: ignore[attr-defined]


def pings(net: Network, h: object, n: int, first: int) -> list[int]:
    """`n` echo requests from one ping socket; the replies' sequence numbers."""
    got: list[int] = []
    sk = h.ns.sockets.ping_socket(77)   # type: ignore[attr-defined]
    sk.on_reply = lambda ip, icmp: got.append(icmp.seq)
    for i in range(n):
        assert sk.send(ip_to_int("10.9.0.9"), first + i, b"x" * 8) == 0
        net.run_for(5_000_000)
    return got


def test_a_route_change_is_seen_by_the_next_packet() -> None:
    net, h, _, _ = two_uplinks()
    assert pings(net, h, 3, 1) == [1, 2, 3]
    before = (tx(h, "eth0"), tx(h, "eth1"))
    assert h.run("ip route del 10.9.0.0/16 via 10.1.0.2 metric 10").status == 0   # type: ignore[attr-defined]
    assert pings(net, h, 3, 4) == [4, 5, 6]
    assert tx(h, "eth0") == before[0] and tx(h, "eth1") >= before[1] + 3


def test_a_peer_link_going_down_elsewhere_is_seen_with_ignore_routes_with_linkdown() -> None:
    net, h, r1, _ = two_uplinks()
    assert h.run("sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1").status == 0   # type: ignore[attr-defined]
    assert pings(net, h, 2, 1) == [1, 2]
    before = (tx(h, "eth0"), tx(h, "eth1"))
    # r1's end goes down: h's eth0 loses its carrier with no change in h's own configuration
    assert r1.run("ip link set eth0 down").status == 0   # type: ignore[attr-defined]
    assert pings(net, h, 2, 3) == [3, 4]
    assert tx(h, "eth0") == before[0] and tx(h, "eth1") >= before[1] + 2
    assert r1.run("ip link set eth0 up").status == 0   # type: ignore[attr-defined]
    assert pings(net, h, 2, 5) == [5, 6]
    assert tx(h, "eth0") >= before[0] + 2
