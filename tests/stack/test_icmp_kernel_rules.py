"""icmp.c's rules beyond echo: timestamp replies (icmp_timestamp) and the rate
limits of ICMP messages (icmpv4_mask_allow, icmp_global_allow, icmpv4_xrlim_allow),
through a raw ICMP socket (what hping3 --icmp-ts or nmap -PP use) and sysctl."""
from __future__ import annotations

import pytest

from netplex.network import Network
from netplex.packet.addr import ip_to_int
from netplex.packet.icmp import ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, Icmp
from netplex.packet.ipv4 import IPPROTO_ICMP, IPPROTO_UDP, IPv4
from netplex.packet.udp import Udp


def _pair() -> tuple[Network, object, object]:
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    assert a.run("ip addr add 10.0.0.1/24 dev eth0; ip link set eth0 up").status == 0
    assert b.run("ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up").status == 0
    return net, a, b


def _icmp_in(a: object) -> tuple[object, list[Icmp]]:
    sk = a.ns.sockets.raw_socket(IPPROTO_ICMP)
    got: list[Icmp] = []
    sk.on_recv = lambda data, src: got.append(IPv4.decode(data).payload)
    return sk, got


def test_timestamp_request_gets_a_timestamp_reply() -> None:
    net, a, b = _pair()
    sk, got = _icmp_in(a)
    net.run_for(3_600_000_000_000 + 5_000_000)          # 01:00:00.005 on the simulated clock
    req = Icmp(ICMP_TIMESTAMP, 0, 0x1234, 7, (1000).to_bytes(4, "big") + bytes(8))
    assert sk.sendto(req.encode(), ip_to_int("10.0.0.2")) == 0
    net.run_for(100_000_000)
    replies = [m for m in got if m.type == ICMP_TIMESTAMPREPLY]
    assert len(replies) == 1
    r = replies[0]
    assert (r.id, r.seq, len(r.payload)) == (0x1234, 7, 12)
    originate, receive, transmit = (int.from_bytes(r.payload[i:i + 4], "big") for i in (0, 4, 8))
    assert originate == 1000 and receive == transmit
    assert 3_600_005 <= receive < 3_600_200              # ms since midnight UT
    # too short (under 4 bytes of data): no reply, as icmp_timestamp's "Too short"
    assert sk.sendto(Icmp(ICMP_TIMESTAMP, 0, 1, 1, b"ab").encode(), ip_to_int("10.0.0.2")) == 0
    net.run_for(100_000_000)
    assert len([m for m in got if m.type == ICMP_TIMESTAMPREPLY]) == 1


def _port_unreachables(net: Network, a: object, b: object, n: int, gap_ns: int) -> int:
    """Send `n` UDP datagrams to a closed port of b, `gap_ns` apart; count the errors back."""
    sk, got = _icmp_in(a)
    udp = a.ns.sockets.raw_socket(IPPROTO_UDP)
    for i in range(n):
        udp.sendto(Udp(40000 + i, 9, b"x").encode(), ip_to_int("10.0.0.2"))
        net.run_for(gap_ns)
    net.run_for(100_000_000)
    sk.close()
    udp.close()
    return sum(1 for m in got if m.type == 3)


def test_per_peer_bucket_lets_six_through_then_one_a_second() -> None:
    net, a, b = _pair()
    assert _port_unreachables(net, a, b, 20, 1_000_000) == 6


@pytest.mark.parametrize(("burst", "expected"), [(50, 20), (5, 5), (0, 1)])
def test_global_bucket_holds_icmp_msgs_burst(burst: int, expected: int) -> None:
    """With the per-peer limit off (icmp_ratelimit=0) the global bucket decides: it
    passes while credit remains; burst 0 still lets the refill's own message through."""
    net, a, b = _pair()
    assert b.run(f"sysctl -w net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_burst={burst}").status == 0
    assert _port_unreachables(net, a, b, 20, 1_000_000) == expected


def test_global_bucket_refills_at_icmp_msgs_per_sec() -> None:
    net, a, b = _pair()
    assert b.run("sysctl -w net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_burst=1 "
                 "net.ipv4.icmp_msgs_per_sec=100").status == 0
    # 50 datagrams 10 ms apart (0.5 s): a refill every 20 ms at the earliest, one credit each
    assert _port_unreachables(net, a, b, 50, 10_000_000) == 25


def test_unmasked_types_and_loopback_are_not_limited() -> None:
    net, a, b = _pair()
    assert b.run("sysctl -w net.ipv4.icmp_msgs_per_sec=0").status == 0
    assert b.run("sysctl -w net.ipv4.icmp_ratemask=0").status == 0
    assert _port_unreachables(net, a, b, 10, 1_000_000) == 10
    assert b.run("sysctl -w net.ipv4.icmp_ratemask=6168").status == 0
    assert _port_unreachables(net, a, b, 10, 1_000_000) == 0
    assert b.run("ip link set lo up").status == 0
    r = b.run("ping -c 2 -i 0.2 127.0.0.1")          # echo replies: type 0 is not in the mask
    assert "2 received" in r.output
