"""Raw IP and packet sockets, and UDP from 0.0.0.0 with SO_BINDTODEVICE and
SO_BROADCAST, through the public socket API: a toy DHCP-like exchange."""
from __future__ import annotations

import errno

from netplex.apps.process import Program
from netplex.network import Network
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPPROTO_ICMP, IPPROTO_UDP, IPv4
from netplex.packet.udp import Udp
from netplex.stack.af_packet import ETH_P_ALL, PACKET_BROADCAST, PACKET_HOST, PACKET_OUTGOING, SOCK_DGRAM, SOCK_RAW

BCAST = 0xFFFFFFFF


def _pair() -> tuple[Network, object, object]:
    net = Network()
    srv, cli = net.add_node("srv"), net.add_node("cli")
    net.add_link("srv:eth0", "cli:eth0")
    for line in ("ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up"):
        assert srv.run(line).status == 0
    assert cli.run("ip link set eth0 up").status == 0     # the client has no address yet
    return net, srv, cli


class ToyDhcpd(Program):
    """Answers a DISCOVER on udp/67 with an OFFER broadcast to udp/68."""

    comm = "toy-dhcpd"

    def start(self) -> None:
        sk = self.own(self.ns.sockets.udp_socket())
        assert sk.bind(0, 67) == 0
        sk.bound_dev = self.ns.devices["eth0"]
        sk.broadcast = True
        self.seen: list[tuple[bytes, str, int]] = []

        def on_recv(data: bytes, src: int, sport: int) -> None:
            self.seen.append((data, int_to_ip(src), sport))
            assert sk.sendto(b"OFFER 10.0.0.50", BCAST, 68) == 0

        sk.on_recv = on_recv


def _client(cli: object, broadcast: bool = True) -> tuple[object, list]:
    got: list = []
    sk = cli.ns.sockets.udp_socket()
    assert sk.bind(0, 68) == 0
    sk.bound_dev = cli.ns.devices["eth0"]
    sk.broadcast = broadcast
    sk.on_recv = lambda d, src, sport: got.append((d, int_to_ip(src), sport))
    return sk, got


def test_dhcp_like_exchange_from_0_0_0_0_over_udp() -> None:
    net, srv, cli = _pair()
    p = srv.machine.procs.spawn(["toy-dhcpd"], srv.ns, ToyDhcpd())
    sk, got = _client(cli)
    assert sk.sendto(b"DISCOVER", BCAST, 67) == 0
    net.run_for(100_000_000)
    assert p.program.seen == [(b"DISCOVER", "0.0.0.0", 68)]
    assert got == [(b"OFFER 10.0.0.50", "10.0.0.1", 67)]
    assert srv.run("kill $(pidof toy-dhcpd)").status == 0
    assert 67 not in srv.ns.sockets.udp


def test_broadcast_needs_so_broadcast() -> None:
    _, _, cli = _pair()
    sk, _ = _client(cli, broadcast=False)
    assert sk.sendto(b"DISCOVER", BCAST, 67) == errno.EACCES


def test_packet_sockets_see_the_exchange_and_send_frames_past_routing() -> None:
    net, srv, cli = _pair()
    eth0 = srv.ns.devices["eth0"]
    # the server listens on a packet socket for IP on eth0 (as dhcpd does)
    ps = srv.ns.sockets.packet_socket(SOCK_DGRAM, ETH_P_IP)
    assert ps.bind(eth0.ifindex) == 0
    seen: list = []
    ps.on_recv = lambda data, sll: seen.append((IPv4.decode(data), sll))
    tap = cli.ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    taps: list = []
    tap.on_recv = lambda data, sll: taps.append((Ethernet.decode(data), sll.pkttype))
    sk, got = _client(cli)
    assert sk.sendto(b"DISCOVER", BCAST, 67) == 0
    net.run_for(100_000_000)
    (ip, sll), = seen
    assert (ip.src, ip.dst, ip.payload.sport, ip.payload.dport) == (0, BCAST, 68, 67)
    assert sll.pkttype == PACKET_BROADCAST and sll.addr == cli.ns.devices["eth0"].mac
    # the answer: a whole frame written by the server, to the client's MAC, with no route needed
    cmac = sll.addr
    offer = IPv4(ip_to_int("10.0.0.1"), BCAST, IPPROTO_UDP, Udp(67, 68, b"OFFER 10.0.0.50"), ttl=64)
    raw = srv.ns.sockets.packet_socket(SOCK_RAW, 0)
    assert raw.sendto(Ethernet(cmac, eth0.mac, ETH_P_IP, offer).encode(), eth0.ifindex) == 0
    net.run_for(100_000_000)
    assert got == [(b"OFFER 10.0.0.50", "10.0.0.1", 67)]
    assert [t for _, t in taps] == [PACKET_OUTGOING, PACKET_HOST]
    assert len(seen) == 1                      # the server's own frame is not looped back to it
    ps.close()
    tap.close()
    raw.close()
    assert not srv.ns.sockets.ptype_all and not cli.ns.sockets.ptype_all


def test_raw_socket_gets_a_copy_and_hdrincl_sends() -> None:
    net, srv, cli = _pair()
    assert cli.run("ip addr add 10.0.0.2/24 dev eth0").status == 0
    icmp = cli.ns.sockets.raw_socket(IPPROTO_ICMP)
    copies: list = []
    icmp.on_recv = lambda data, src: copies.append(IPv4.decode(data))
    r = cli.run("ping -c 1 10.0.0.1")
    assert r.status == 0                       # ping still gets its reply
    assert [(c.proto, c.payload.type) for c in copies] == [(IPPROTO_ICMP, 0)]
    icmp.icmp_filter = 1 << 0                  # ICMP_FILTER: no echo replies
    assert cli.run("ping -c 1 10.0.0.1").status == 0 and len(copies) == 1
    icmp.icmp_filter = 0
    # a protocol no one serves: a raw socket takes it, so no protocol unreachable comes back
    toy = srv.ns.sockets.raw_socket(253)
    got: list = []
    toy.on_recv = lambda data, src: got.append((IPv4.decode(data).payload, int_to_ip(src)))
    hdr = cli.ns.sockets.raw_socket(255)       # IPPROTO_RAW: IP_HDRINCL
    pkt = IPv4(ip_to_int("10.0.0.2"), ip_to_int("10.0.0.1"), 253, b"hello", ttl=64)
    before = len(copies)
    assert hdr.sendto(pkt.encode()) == 0
    net.run_for(100_000_000)
    assert got == [(b"hello", "10.0.0.2")]
    assert len(copies) == before               # no ICMP protocol unreachable came back
    toy.close()
    assert hdr.sendto(pkt.encode()) == 0
    net.run_for(100_000_000)
    assert [c.payload.type for c in copies[before:]] == [3]   # now: destination unreachable


def test_packet_socket_on_a_bridge_sees_what_the_bridge_passes_up() -> None:
    """dnsmasq on br0: its packet socket hears a client's broadcast that came in on a port."""
    net = Network()
    host, vm = net.add_node("host"), net.add_node("vm")
    net.add_link("host:tap0", "vm:eth0")
    for line in ("ip link add br0 type bridge", "ip link set tap0 master br0", "ip link set tap0 up",
                 "ip addr add 10.0.0.1/24 dev br0", "ip link set br0 up"):
        assert host.run(line).status == 0, line
    assert vm.run("ip link set eth0 up").status == 0
    br0, tap0 = host.ns.devices["br0"], host.ns.devices["tap0"]
    on_br: list = []
    ps = host.ns.sockets.packet_socket(SOCK_DGRAM, ETH_P_IP)
    assert ps.bind(br0.ifindex) == 0
    ps.on_recv = lambda data, sll: on_br.append(sll.ifindex)
    on_port: list = []
    port_ip = host.ns.sockets.packet_socket(SOCK_DGRAM, ETH_P_IP)
    assert port_ip.bind(tap0.ifindex) == 0     # the port's frames are the bridge's: no ETH_P_IP copy
    port_ip.on_recv = lambda data, sll: on_port.append(sll.ifindex)
    port_all = host.ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    assert port_all.bind(tap0.ifindex) == 0    # ETH_P_ALL sees it before the bridge takes it
    port_all.on_recv = lambda data, sll: on_port.append(("all", sll.ifindex, sll.pkttype))
    sk, _ = _client(vm)
    assert sk.sendto(b"DISCOVER", BCAST, 67) == 0
    net.run_for(100_000_000)
    assert on_br == [br0.ifindex]
    # the broadcast coming in, and the host's own IGMP report going out (PACKET_OUTGOING)
    assert on_port == [("all", tap0.ifindex, PACKET_BROADCAST), ("all", tap0.ifindex, PACKET_OUTGOING)]
    assert ps.bind(1) == 0 and ps.bind(999) == errno.ENODEV
