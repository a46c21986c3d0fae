"""u32's indexed lookup reads one header word from the packet's fields (cls.header_word)
instead of building the header's bytes: every word it gives must be the bytes' own word,
and every word it cannot give (options, fragments, other protocols, the checksum) it
must refuse, so that the lookup reads the bytes as before."""
from __future__ import annotations

from typing import Any

import pytest

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import Ethernet
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IP_DF, IPv4
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.stack.qdisc.cls import header_word, network_header

MAC = b"\x02\x00\x00\x00\x00\x01"


def frames() -> list[Any]:
    udp = IPv4(ip_to_int("10.1.2.3"), ip_to_int("192.168.7.9"), 17, Udp(40000, 5001, b"x" * 700), ttl=17,
               tos=0xB8, id=0x1234, flags=IP_DF)
    tcp = IPv4(ip_to_int("10.0.0.1"), ip_to_int("10.0.0.2"), 6,
               Tcp(443, 51000, 0xDEADBEEF, 0x01020304, 0x18, 501, b"y" * 100, urgent=7, mss=1460,
                   timestamps=(5, 6)), tos=0x10)
    bare_tcp = IPv4(1, 2, 6, Tcp(1, 2, 3, 4, 0x02, 65535))
    opts = IPv4(1, 2, 17, Udp(1, 2, b"z"), options=b"\x94\x04\x00\x00")
    frag = IPv4(1, 2, 17, b"\x00" * 64, frag=8, flags=1)
    icmp = IPv4(3, 4, 1, Icmp(8, 0, 1, 2, b"ping"))
    return [Ethernet(MAC, MAC, 0x0800, ip) for ip in (udp, tcp, bare_tcp, opts, frag, icmp)]


@pytest.mark.parametrize("i", range(6))
def test_every_word_given_is_the_bytes_word(i: int) -> None:
    frame = frames()[i]
    data = network_header(frame, csum=False)
    given = 0
    for off in range(0, 48):
        word = header_word(frame, off)
        if word is None:
            continue
        given += 1
        assert off % 4 == 0 and not 8 <= off < 12, off     # aligned, never the checksum word
        assert word == int.from_bytes(data[off:off + 4], "big"), off
    # what the fields can say: four IPv4 words (none with options), then UDP's two or TCP's five
    assert given == [6, 9, 9, 0, 4, 4][i]


def test_a_non_ip_frame_is_read_from_its_bytes() -> None:
    assert header_word(Ethernet(MAC, MAC, 0x0806, b"\x00" * 28), 0) is None


def test_htb_classifies_by_port_through_the_index() -> None:
    """100 port filters (an indexed bucket): each port lands in its own class, as tc shows."""
    net = Network(seed=1)
    h0, h1 = net.add_node("h0"), net.add_node("h1")
    net.add_link("h0:eth0", "h1:eth0")
    for node, ip in ((h0, "10.0.0.1"), (h1, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    lines = ["tc qdisc add dev eth0 root handle 1: htb default 999",
             "tc class add dev eth0 parent 1: classid 1:1 htb rate 1gbit"]
    for k in range(20):
        lines.append(f"tc class add dev eth0 parent 1:1 classid 1:{0x100 + k:x} htb rate 10mbit ceil 1gbit")
        lines.append(f"tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dport {6000 + k} 0xffff "
                     f"flowid 1:{0x100 + k:x}")
    for line in lines:
        assert h0.run(line).status == 0, line
    tx = h0.ns.sockets.udp_socket()
    for k in range(20):
        for _ in range(k + 1):
            tx.sendto(b"q" * 10, ip_to_int("10.0.0.2"), 6000 + k)
    net.run_for(100_000_000)
    out = h0.cmd("tc -s class show dev eth0")
    for k in range(20):
        block = out.split(f"class htb 1:{0x100 + k:x} ")[1]
        assert f"Sent {(k + 1) * 52} bytes {k + 1} pkt" in block, (k, block[:200])
